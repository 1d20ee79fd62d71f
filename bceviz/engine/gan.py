"""A one-dimensional GAN: the discriminator's BCE, the generator's two losses, and their training.

Everything here is NumPy in float64; losses are in nats. The pieces (see
``docs/architecture.md``, "Labs"):

* **The contract.** With ``u = logit / temperature`` the discriminator loss is
  ``mean BCE(u_real, real_label) + mean BCE(u_fake, 0)`` (torch
  ``BCEWithLogitsLoss`` with those targets; ``real_label = 0.9`` is one-sided
  label smoothing). The generator minimises either ``"saturating"``
  ``mean log(1 − σ(u_fake))`` (the original minimax) or ``"non_saturating"``
  ``mean −log σ(u_fake)``; :func:`generator_loss_grad` is the gradient of that
  mean with respect to each *raw* fake logit, so it carries ``1 / (n·T)``.
  :func:`optimal_discriminator` is ``real_label · p_real / (p_real + p_gen)``.
* **The real density** (:class:`Mixture`): one to three Gaussians on the line.
* **The generator** ``x = μ + σ·h_b(ε)``, ``ε ~ N(0, 1)``, with the monotone
  bend ``h_b(ε) = ε + b·tanh(κ ε)`` (κ = :data:`BEND_SHARPNESS`); ``b = 0`` is
  the plain location-scale generator, ``b > 0`` pulls the two halves of the
  noise apart (it can split into two bumps), ``b`` in (−1/κ, 0) squeezes them
  together. :data:`BEND_RANGE` keeps ``h_b`` strictly increasing.
* **The discriminator**: a logistic regression ``z = φ(x)·w + c`` on
  polynomial features ``s, s², …, s^d`` (``s = x / POLY_SCALE``) or radial
  features ``exp(−(x − c_k)² / (2 h²))`` at evenly spaced centres; its
  probability is ``D(x) = σ(z / T)``.
* **Training**: plain (stochastic) gradient steps with exact gradients — no
  momentum, no Adam, which would rescale away the vanishing gradient the lab
  is about. One round is ``d_steps`` discriminator steps and one generator
  step, each on fresh batches of ``batch_size`` real samples and noise draws.
* **Figures**: both losses, D's accuracy on real and fake samples, and the
  Jensen–Shannon distance between the real and generated densities on a grid.

Edge cases: empty logit arrays, NaN/inf logits, a temperature that is not a
positive finite number, a real label outside [0, 1] or an unknown loss kind
raise ``ValueError`` naming the argument. Parameters that a step would push
out of their ranges are clipped to them (μ to ±:data:`MU_LIMIT`, σ to
:data:`SIGMA_RANGE`, b to :data:`BEND_RANGE`, each discriminator weight to
±:data:`D_WEIGHT_LIMIT`), so a large learning rate cannot produce NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from bceviz.engine.losses import grad_from_logits, loss_from_logits, sigmoid

__all__ = [
    "BEND_RANGE",
    "BEND_SHARPNESS",
    "D_WEIGHT_LIMIT",
    "FEATURE_KINDS",
    "FEATURE_SIZE_RANGE",
    "LOSS_KINDS",
    "MAX_BATCH",
    "MAX_COMPONENTS",
    "MEAN_LIMIT",
    "MU_LIMIT",
    "POLY_SCALE",
    "RADIAL_SPAN",
    "SIGMA_RANGE",
    "WIDTH_RANGE",
    "X_LIMIT",
    "Batch",
    "Discriminator",
    "GanConfig",
    "GanFigures",
    "GanParams",
    "Mixture",
    "ObjectiveFeatures",
    "density_grid",
    "discriminator_curve",
    "discriminator_gradient",
    "discriminator_loss",
    "discriminator_step",
    "draw_batch",
    "evaluate",
    "generate",
    "generator_gradient",
    "generator_jacobian",
    "generator_loss",
    "generator_loss_grad",
    "generator_objective",
    "objective_features",
    "generator_pdf",
    "generator_step",
    "initial_params",
    "invert_bend",
    "js_distance",
    "js_divergence",
    "optimal_discriminator",
    "optimal_discriminator_loss",
    "training_round",
]

LOSS_KINDS = ("saturating", "non_saturating")
FEATURE_KINDS = ("polynomial", "radial")
#: Allowed feature sizes: polynomial degree, or number of radial features.
FEATURE_SIZE_RANGE = {"polynomial": (1, 6), "radial": (2, 12)}
#: The lab's line: grids and plots cover [-X_LIMIT, X_LIMIT].
X_LIMIT = 8.0
#: Polynomial features use s = x / POLY_SCALE, so s is in [-2, 2] on the line.
POLY_SCALE = 4.0
#: Radial centres are evenly spaced on [-RADIAL_SPAN, RADIAL_SPAN]; their width is the spacing.
RADIAL_SPAN = 6.0
#: κ of the generator's bend h_b(ε) = ε + b·tanh(κ ε).
BEND_SHARPNESS = 2.0
#: The bend keeps h_b' = 1 + b κ sech²(κ ε) >= 0.1 > 0 (strictly increasing).
BEND_RANGE = (-0.45, 6.0)
MU_LIMIT = 7.0
SIGMA_RANGE = (0.05, 4.0)
#: Each discriminator weight (and its bias) is clipped to ± this.
D_WEIGHT_LIMIT = 1.0e4
MAX_COMPONENTS = 3
MEAN_LIMIT = 6.0
WIDTH_RANGE = (0.1, 3.0)
MAX_BATCH = 4096


# --------------------------------------------------------------------------- validation
def _logits(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of real numbers") from None
    arr = arr.reshape(-1)
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least one logit (got an empty array)")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers (no NaN or inf)")
    return arr


def _temperature(value) -> float:
    t = _finite("temperature", value)
    if not t > 0.0:
        raise ValueError(f"temperature must be a finite number > 0, got {value!r}")
    return t


def _real_label(value) -> float:
    a = _finite("real_label", value)
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"real_label must be in [0, 1], got {value!r}")
    return a


def _kind(value) -> str:
    if value not in LOSS_KINDS:
        raise ValueError(f"kind must be one of {', '.join(LOSS_KINDS)}, got {value!r}")
    return str(value)


def _finite(name: str, value) -> float:
    if isinstance(value, (str, bytes, bool)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return v


# --------------------------------------------------------------------------- the contract
def discriminator_loss(real_logits, fake_logits, *, real_label: float = 1.0,
                       temperature: float = 1.0) -> float:
    """Mean BCE(u_real, real_label) + mean BCE(u_fake, 0) in nats, with u = logit / temperature.

    ``real_logits`` and ``fake_logits``: non-empty arrays of finite raw
    discriminator logits (any shape, flattened; the two sizes may differ).
    ``real_label`` in [0, 1] (1 is plain BCE, 0.9 one-sided label
    smoothing), ``temperature`` > 0. At logit 0 with ``real_label = 1`` the
    loss is 2 ln 2 for any temperature; it is never below the entropy
    H(real_label) of the smoothed target. Finite for any finite logit.
    """
    t = _temperature(temperature)
    a = _real_label(real_label)
    r = _logits("real_logits", real_logits) / t
    f = _logits("fake_logits", fake_logits) / t
    return float(np.mean(loss_from_logits(r, a)) + np.mean(loss_from_logits(f, 0.0)))


def generator_loss(fake_logits, *, kind: str = "non_saturating", temperature: float = 1.0) -> float:
    """The generator's loss (minimised) in nats, with u = fake logit / temperature.

    ``"saturating"``: mean log(1 − σ(u)) = −mean softplus(u), in (−∞, 0); it
    tends to 0 (flat) where the discriminator wins (u → −∞).
    ``"non_saturating"``: mean −log σ(u) = mean softplus(−u), in (0, ∞).
    The two always add up to −mean(u). Finite for any finite logit.
    """
    kind = _kind(kind)
    u = _logits("fake_logits", fake_logits) / _temperature(temperature)
    if kind == "saturating":
        return float(-np.mean(loss_from_logits(u, 0.0)))
    return float(np.mean(loss_from_logits(u, 1.0)))


def generator_loss_grad(fake_logits, *, kind: str = "non_saturating",
                        temperature: float = 1.0) -> np.ndarray:
    """d generator_loss / d fake_logit_i for each raw fake logit (flattened), shape (n,).

    Saturating: −σ(u_i) / (n T), vanishing (to full relative precision)
    where the discriminator calls the fake fake (u_i → −∞).
    Non-saturating: −(1 − σ(u_i)) / (n T), close to −1/(n T) there.
    The two add up to −1/(n T) for every fake.
    """
    kind = _kind(kind)
    t = _temperature(temperature)
    z = _logits("fake_logits", fake_logits)
    u = z / t
    scale = 1.0 / (z.size * t)
    if kind == "saturating":
        return -grad_from_logits(u, 0.0) * scale  # grad of BCE(u, 0) is σ(u)
    return grad_from_logits(u, 1.0) * scale  # σ(u) − 1, exact as 1 − σ(u) → 0


def optimal_discriminator(p_real, p_gen, *, real_label: float = 1.0) -> np.ndarray:
    """D*(x) = real_label · p_real / (p_real + p_gen), the optimum of discriminator_loss.

    ``p_real``, ``p_gen``: non-negative finite densities (broadcast). Where
    both are 0 any D is optimal; this returns real_label / 2 there. With
    ``real_label = 1`` and p_gen = p_real it is 1/2 everywhere.
    """
    a = _real_label(real_label)
    pr = np.asarray(p_real, dtype=np.float64)
    pg = np.asarray(p_gen, dtype=np.float64)
    for name, arr in (("p_real", pr), ("p_gen", pg)):
        if arr.size and not (np.all(np.isfinite(arr)) and np.all(arr >= 0.0)):
            raise ValueError(f"{name} must be finite densities >= 0")
    total = pr + pg
    share = np.divide(pr, total, out=np.full(np.broadcast(pr, pg).shape, 0.5), where=total > 0)
    return a * share


# --------------------------------------------------------------------------- the real density
@dataclass(frozen=True)
class Mixture:
    """A mixture of 1 to :data:`MAX_COMPONENTS` Gaussians on the line.

    ``means`` in [-MEAN_LIMIT, MEAN_LIMIT], ``widths`` (standard deviations)
    in :data:`WIDTH_RANGE`, ``weights`` > 0 (any scale; normalised to sum 1
    by :attr:`probabilities`). All three the same length.
    """

    means: tuple[float, ...] = (2.0,)
    widths: tuple[float, ...] = (0.5,)
    weights: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        means = tuple(_finite("means", m) for m in self.means)
        widths = tuple(_finite("widths", s) for s in self.widths)
        weights = tuple(_finite("weights", w) for w in self.weights)
        k = len(means)
        if not 1 <= k <= MAX_COMPONENTS:
            raise ValueError(f"means must hold 1 to {MAX_COMPONENTS} components, got {k}")
        if len(widths) != k or len(weights) != k:
            raise ValueError(f"means, widths and weights must have the same length "
                             f"(got {k}, {len(widths)}, {len(weights)})")
        for m in means:
            if abs(m) > MEAN_LIMIT:
                raise ValueError(f"means must be in [{-MEAN_LIMIT:g}, {MEAN_LIMIT:g}], got {m:g}")
        for s in widths:
            if not WIDTH_RANGE[0] <= s <= WIDTH_RANGE[1]:
                raise ValueError(f"widths must be in [{WIDTH_RANGE[0]:g}, {WIDTH_RANGE[1]:g}], "
                                 f"got {s:g}")
        for w in weights:
            if not w > 0.0:
                raise ValueError(f"weights must be > 0, got {w:g}")
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "widths", widths)
        object.__setattr__(self, "weights", weights)

    @property
    def n_components(self) -> int:
        return len(self.means)

    @property
    def probabilities(self) -> np.ndarray:
        w = np.asarray(self.weights, dtype=np.float64)
        return w / w.sum()

    def component_pdfs(self, x) -> np.ndarray:
        """Each component's weighted density at x: shape (n_components, *x.shape), in 1/x units."""
        x = np.asarray(x, dtype=np.float64)
        mu = np.asarray(self.means).reshape((-1,) + (1,) * x.ndim)
        sd = np.asarray(self.widths).reshape((-1,) + (1,) * x.ndim)
        pw = self.probabilities.reshape((-1,) + (1,) * x.ndim)
        return pw * np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * math.sqrt(2.0 * math.pi))

    def pdf(self, x) -> np.ndarray:
        """The mixture's density at x (same shape as x)."""
        return self.component_pdfs(x).sum(axis=0)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n independent draws (shape (n,)): a component by weight, then its Gaussian."""
        normals = rng.standard_normal(n)
        if self.n_components == 1:
            return self.means[0] + self.widths[0] * normals
        pick = np.searchsorted(np.cumsum(self.probabilities)[:-1], rng.random(n), side="right")
        return np.asarray(self.means)[pick] + np.asarray(self.widths)[pick] * normals


# --------------------------------------------------------------------------- the generator
def generate(eps, mu: float, sigma: float, bend: float = 0.0) -> np.ndarray:
    """x = μ + σ·h_b(ε), h_b(ε) = ε + b·tanh(κ ε); ``eps`` any shape, returns the same shape."""
    eps = np.asarray(eps, dtype=np.float64)
    if bend == 0.0:
        return mu + sigma * eps
    return mu + sigma * (eps + bend * np.tanh(BEND_SHARPNESS * eps))


def generator_jacobian(eps, sigma: float, bend: float = 0.0
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx/dμ, dx/dσ, dx/db) at each noise value (arrays of eps's shape).

    dx/dμ = 1, dx/dσ = h_b(ε), dx/db = σ·tanh(κ ε).
    """
    eps = np.asarray(eps, dtype=np.float64)
    th = np.tanh(BEND_SHARPNESS * eps)
    return np.ones_like(eps), eps + bend * th, sigma * th


def invert_bend(t, bend: float) -> np.ndarray:
    """The ε with h_b(ε) = t (h_b strictly increasing for b in BEND_RANGE); same shape as t.

    Safeguarded Newton: the root lies in [t − |b|, t + |b|] because
    |b tanh| < |b|; a Newton step leaving the bracket is replaced by bisection.
    """
    t = np.asarray(t, dtype=np.float64)
    if bend == 0.0:
        return t.copy()
    k = BEND_SHARPNESS
    lo, hi = t - abs(bend), t + abs(bend)
    e = t / (1.0 + max(bend, 0.0) * k)
    e = np.clip(e, lo, hi)
    for _ in range(60):
        th = np.tanh(k * e)
        f = e + bend * th - t
        lo = np.where(f < 0, e, lo)
        hi = np.where(f > 0, e, hi)
        d = 1.0 + bend * k * (1.0 - th * th)
        new = e - f / d
        bad = (new <= lo) | (new >= hi)
        new = np.where(bad, 0.5 * (lo + hi), new)
        if np.max(np.abs(new - e), initial=0.0) < 1e-13:
            e = new
            break
        e = new
    return e


def generator_pdf(x, mu: float, sigma: float, bend: float = 0.0) -> np.ndarray:
    """Density of x = μ + σ·h_b(ε) at x (change of variables): φ(ε) / (σ·h_b'(ε)), ε = h_b⁻¹((x − μ)/σ)."""
    x = np.asarray(x, dtype=np.float64)
    eps = invert_bend((x - mu) / sigma, bend)
    slope = 1.0 + bend * BEND_SHARPNESS * (1.0 - np.tanh(BEND_SHARPNESS * eps) ** 2)
    return np.exp(-0.5 * eps * eps) / (math.sqrt(2.0 * math.pi) * sigma * slope)


# --------------------------------------------------------------------------- the discriminator
@dataclass(frozen=True)
class Discriminator:
    """The feature map of the discriminator's logistic regression.

    ``kind`` "polynomial": features s, s², …, s^size with s = x / POLY_SCALE
    (size = degree, 1..6). ``kind`` "radial": ``size`` (2..12) Gaussian bumps
    exp(−(x − c_k)² / (2 h²)), centres evenly spaced on ±RADIAL_SPAN, h their
    spacing. The logit is z = φ(x)·w + c (the bias c is separate).
    """

    kind: str = "radial"
    size: int = 8

    def __post_init__(self) -> None:
        if self.kind not in FEATURE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FEATURE_KINDS)}, got {self.kind!r}")
        lo, hi = FEATURE_SIZE_RANGE[self.kind]
        if isinstance(self.size, bool) or not isinstance(self.size, (int, np.integer)) \
                or not lo <= self.size <= hi:
            raise ValueError(f"size of {self.kind} features must be a whole number in "
                             f"[{lo}, {hi}], got {self.size!r}")
        object.__setattr__(self, "size", int(self.size))

    @property
    def n_features(self) -> int:
        return self.size

    @property
    def centres(self) -> np.ndarray:
        """Radial centres (empty for polynomial features)."""
        if self.kind != "radial":
            return np.zeros(0)
        return np.linspace(-RADIAL_SPAN, RADIAL_SPAN, self.size)

    @property
    def radial_width(self) -> float:
        return 2.0 * RADIAL_SPAN / (self.size - 1) if self.kind == "radial" else 0.0

    def features(self, x) -> np.ndarray:
        """φ(x): shape (n, size) for x flattened to (n,)."""
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        if self.kind == "polynomial":
            return np.cumprod(np.repeat((x / POLY_SCALE)[:, None], self.size, axis=1), axis=1)
        d = (x[:, None] - self.centres[None, :]) / self.radial_width
        return np.exp(-0.5 * d * d)

    def logits(self, x, weights, bias: float) -> np.ndarray:
        """z(x) = φ(x)·w + c, same shape as x (Horner for polynomials; no feature matrix)."""
        x = np.asarray(x, dtype=np.float64)
        w = np.asarray(weights, dtype=np.float64)
        if self.kind == "polynomial":
            s = x / POLY_SCALE
            acc = np.full(x.shape, w[-1])
            for coef in w[-2::-1]:
                acc = acc * s + coef
            return acc * s + bias
        # All bumps at once: a handful of array operations instead of a few per bump.
        d = (x[..., None] - self.centres) * (1.0 / self.radial_width)
        d *= d
        d *= -0.5
        np.exp(d, out=d)
        return d @ w + float(bias)

    def logits_and_slopes(self, x, weights, bias: float) -> tuple[np.ndarray, np.ndarray]:
        """(z(x), dz/dx), each the shape of x."""
        x = np.asarray(x, dtype=np.float64)
        w = np.asarray(weights, dtype=np.float64)
        if self.kind == "polynomial":
            s = x / POLY_SCALE
            # z = c + Σ w_k s^k; dz/dx = Σ k w_k s^(k-1) / POLY_SCALE, both by Horner.
            acc = np.full(x.shape, w[-1])
            dacc = np.full(x.shape, self.size * w[-1])
            for k in range(self.size - 1, 0, -1):
                acc = acc * s + w[k - 1]
                dacc = dacc * s + k * w[k - 1]
            return acc * s + bias, dacc / POLY_SCALE
        h = self.radial_width
        d = (x[..., None] - self.centres) * (1.0 / h)
        e = d * d
        e *= -0.5
        np.exp(e, out=e)  # the bumps exp(−d_k²/2), computed as logits() does: the same z
        # dz/dx = −Σ w_k exp(−d_k²/2) d_k / h
        e_d = e * d
        return e @ w + float(bias), (e_d @ w) * (-1.0 / h)


# --------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class GanParams:
    """Everything training changes: the generator's μ, σ, bend b and the discriminator's w, c."""

    mu: float
    sigma: float
    bend: float
    d_weights: np.ndarray
    d_bias: float

    def clipped(self) -> GanParams:
        w = np.clip(np.asarray(self.d_weights, dtype=np.float64), -D_WEIGHT_LIMIT, D_WEIGHT_LIMIT)
        return GanParams(
            mu=float(np.clip(self.mu, -MU_LIMIT, MU_LIMIT)),
            sigma=float(np.clip(self.sigma, *SIGMA_RANGE)),
            bend=float(np.clip(self.bend, *BEND_RANGE)),
            d_weights=w,
            d_bias=float(np.clip(self.d_bias, -D_WEIGHT_LIMIT, D_WEIGHT_LIMIT)),
        )


def initial_params(discriminator: Discriminator, mu: float = -3.0, sigma: float = 1.0,
                   bend: float = 0.0) -> GanParams:
    """A generator at (μ, σ, b) and an undecided discriminator (w = 0, c = 0: D = 1/2 everywhere)."""
    return GanParams(mu=float(mu), sigma=float(sigma), bend=float(bend),
                     d_weights=np.zeros(discriminator.n_features), d_bias=0.0).clipped()


@dataclass(frozen=True)
class GanConfig:
    """How the GAN trains (validated on construction).

    ``loss_kind`` the generator's loss; ``real_label`` in [0, 1] the real
    samples' target; ``temperature`` > 0 divides D's logits; ``d_steps``
    (1..50) discriminator steps per generator step; ``lr_d``, ``lr_g`` the
    step sizes (> 0, at most 100); ``batch_size`` 1..MAX_BATCH real samples
    and as many noise draws per step; ``learn_bend`` whether the generator's
    bend b is trained (else it stays where it is).
    """

    mixture: Mixture = Mixture()
    discriminator: Discriminator = Discriminator()
    loss_kind: str = "non_saturating"
    real_label: float = 1.0
    temperature: float = 1.0
    d_steps: int = 1
    lr_d: float = 0.5
    lr_g: float = 0.05
    batch_size: int = 256
    learn_bend: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.mixture, Mixture):
            raise ValueError("mixture must be a Mixture")
        if not isinstance(self.discriminator, Discriminator):
            raise ValueError("discriminator must be a Discriminator")
        _kind(self.loss_kind)
        object.__setattr__(self, "real_label", _real_label(self.real_label))
        object.__setattr__(self, "temperature", _temperature(self.temperature))
        for name in ("lr_d", "lr_g"):
            v = _finite(name, getattr(self, name))
            if not 0.0 < v <= 100.0:
                raise ValueError(f"{name} must be in (0, 100], got {v:g}")
            object.__setattr__(self, name, v)
        for name, lo, hi in (("d_steps", 1, 50), ("batch_size", 1, MAX_BATCH)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
                raise ValueError(f"{name} must be a whole number in [{lo}, {hi}], got {v!r}")
            object.__setattr__(self, name, int(v))
        object.__setattr__(self, "learn_bend", bool(self.learn_bend))


@dataclass(frozen=True)
class Batch:
    """The samples of a step: real draws and the noise behind the fakes (each shape (n,))."""

    reals: np.ndarray
    eps: np.ndarray


def draw_batch(config: GanConfig, rng: np.random.Generator) -> Batch:
    """Fresh real samples and noise, ``config.batch_size`` of each."""
    n = config.batch_size
    return Batch(reals=config.mixture.sample(rng, n), eps=rng.standard_normal(n))


# --------------------------------------------------------------------------- gradients
def discriminator_gradient(reals, fakes, params: GanParams, config: GanConfig
                           ) -> tuple[np.ndarray, float]:
    """(dL/dw, dL/dc) of :func:`discriminator_loss` on these samples (exact).

    dL/dz_i = (σ(u_i) − y_i) / (n T) for each sample's raw logit, y the real
    label or 0; then chained through z = φ(x)·w + c.
    """
    disc, t = config.discriminator, config.temperature
    phi_r, phi_f = disc.features(reals), disc.features(fakes)
    w, c = params.d_weights, params.d_bias
    u_r = (phi_r @ w + c) / t
    u_f = (phi_f @ w + c) / t
    g_r = grad_from_logits(u_r, config.real_label) / (u_r.size * t)
    g_f = grad_from_logits(u_f, 0.0) / (u_f.size * t)
    return phi_r.T @ g_r + phi_f.T @ g_f, float(g_r.sum() + g_f.sum())


def generator_gradient(eps, params: GanParams, config: GanConfig
                       ) -> tuple[float, float, float]:
    """(dL/dμ, dL/dσ, dL/db) of :func:`generator_loss` on the fakes G(eps) (exact).

    dL/dθ = Σ_i generator_loss_grad_i · dz/dx(x_i) · dx_i/dθ with the
    reparameterised fakes x_i = μ + σ·h_b(ε_i).
    """
    eps = np.asarray(eps, dtype=np.float64).reshape(-1)
    x = generate(eps, params.mu, params.sigma, params.bend)
    z, slope = config.discriminator.logits_and_slopes(x, params.d_weights, params.d_bias)
    g = generator_loss_grad(z, kind=config.loss_kind, temperature=config.temperature) * slope
    _dmu, dsigma, dbend = generator_jacobian(eps, params.sigma, params.bend)
    return float(g.sum()), float(g @ dsigma), float(g @ dbend)


# --------------------------------------------------------------------------- steps
def discriminator_step(params: GanParams, config: GanConfig, rng: np.random.Generator,
                       batch: Batch | None = None) -> tuple[GanParams, Batch]:
    """One gradient step of the discriminator on a fresh batch (or ``batch``)."""
    batch = batch if batch is not None else draw_batch(config, rng)
    fakes = generate(batch.eps, params.mu, params.sigma, params.bend)
    gw, gc = discriminator_gradient(batch.reals, fakes, params, config)
    new = replace(params, d_weights=params.d_weights - config.lr_d * gw,
                  d_bias=params.d_bias - config.lr_d * gc)
    return new.clipped(), batch


def generator_step(params: GanParams, config: GanConfig, rng: np.random.Generator,
                   eps: np.ndarray | None = None) -> tuple[GanParams, np.ndarray]:
    """One gradient step of the generator on fresh noise (or ``eps``); returns the noise used."""
    eps = eps if eps is not None else rng.standard_normal(config.batch_size)
    g_mu, g_sigma, g_bend = generator_gradient(eps, params, config)
    lr = config.lr_g
    new = replace(params, mu=params.mu - lr * g_mu, sigma=params.sigma - lr * g_sigma,
                  bend=params.bend - lr * g_bend if config.learn_bend else params.bend)
    return new.clipped(), eps


def training_round(params: GanParams, config: GanConfig, rng: np.random.Generator
                   ) -> tuple[GanParams, Batch]:
    """``d_steps`` discriminator steps then one generator step, each on fresh batches.

    Returns the new parameters and the last discriminator batch's real
    samples with the generator step's noise (what the lab shows next).
    """
    batch = None
    for _ in range(config.d_steps):
        params, batch = discriminator_step(params, config, rng)
    params, eps = generator_step(params, config, rng)
    assert batch is not None
    return params, Batch(reals=batch.reals, eps=eps)


# --------------------------------------------------------------------------- figures
def density_grid(n: int = 401) -> np.ndarray:
    """n evenly spaced points on [-X_LIMIT, X_LIMIT]."""
    return np.linspace(-X_LIMIT, X_LIMIT, int(n))


def _masses(name: str, p) -> np.ndarray:
    arr = np.asarray(p, dtype=np.float64).reshape(-1)
    if arr.size == 0 or not (np.all(np.isfinite(arr)) and np.all(arr >= 0.0)):
        raise ValueError(f"{name} must be a non-empty array of finite values >= 0")
    total = arr.sum()
    if not total > 0.0:
        raise ValueError(f"{name} must have some mass (all values are 0)")
    return arr / total


def js_divergence(p, q) -> float:
    """Jensen–Shannon divergence in nats, in [0, ln 2], of two densities on the same uniform grid.

    ``p``, ``q``: values >= 0 at the grid points (not all 0), each normalised
    to sum 1 over the grid first (mass beyond the grid is not counted).
    JS = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = (p + q) / 2; 0 log 0 = 0.
    """
    pp, qq = _masses("p", p), _masses("q", q)
    if pp.size != qq.size:
        raise ValueError(f"p and q must be on the same grid (sizes {pp.size} and {qq.size})")
    m = 0.5 * (pp + qq)
    with np.errstate(divide="ignore", invalid="ignore"):
        kp = np.where(pp > 0, pp * np.log(pp / m), 0.0)
        kq = np.where(qq > 0, qq * np.log(qq / m), 0.0)
    return float(min(max(0.5 * (kp.sum() + kq.sum()), 0.0), math.log(2.0)))


def js_distance(p, q) -> float:
    """Jensen–Shannon distance sqrt(JS in bits), in [0, 1]: 0 for equal densities, 1 for disjoint.

    The same number as ``scipy.spatial.distance.jensenshannon(p, q, base=2)``.
    """
    return math.sqrt(js_divergence(p, q) / math.log(2.0))


def optimal_discriminator_loss(p_real, p_gen, *, real_label: float = 1.0) -> float:
    """The lowest expected discriminator loss (nats) for two densities on one uniform grid.

    ∫ p_r BCE(D*, a) + p_g BCE(D*, 0) dx at D* = a p_r / (p_r + p_g), each
    density normalised to sum 1 on the grid as in :func:`js_divergence`.
    With ``real_label = 1`` it equals 2 ln 2 − 2·JS(p_r, p_g): 2 ln 2 when
    the densities are equal, 0 when they do not overlap. In closed form, with
    s = p_r + p_g, R = a·p_r (mass the targets call real) and
    F = (1 − a)·p_r + p_g (mass they call fake), D* = R / s and the loss is
    Σ R ln(s / R) + F ln(s / F) (0 ln 0 = 0).
    """
    a = _real_label(real_label)
    pr, pg = _masses("p_real", p_real), _masses("p_gen", p_gen)
    if pr.size != pg.size:
        raise ValueError(f"p_real and p_gen must be on the same grid (sizes {pr.size} and {pg.size})")
    s = pr + pg
    real_part = a * pr  # mass labelled real by the (smoothed) targets
    fake_part = (1.0 - a) * pr + pg  # mass labelled fake
    log_s = np.log(s, out=np.zeros_like(s), where=s > 0)

    def term(part: np.ndarray) -> np.ndarray:
        # part · (ln s − ln part), 0 where part = 0; never s / part, which overflows
        # for a denormal part.
        log_part = np.log(part, out=np.zeros_like(part), where=part > 0)
        return np.where(part > 0, part * (log_s - log_part), 0.0)

    t1, t2 = term(real_part), term(fake_part)
    return float(max(t1.sum() + t2.sum(), 0.0))


@dataclass(frozen=True)
class GanFigures:
    """What one step looks like, on the shown batch: losses in nats, accuracies in [0, 1].

    ``g_loss`` is the chosen kind's; ``g_loss_saturating`` and
    ``g_loss_non_saturating`` both; ``g_grad_*`` the norm of the generator's
    gradient over (μ, σ) under each kind; ``js`` the Jensen–Shannon distance
    (in [0, 1]) between the real and generated densities on the grid;
    ``d_loss_optimal`` the lowest discriminator loss those densities allow
    (:func:`optimal_discriminator_loss`).
    """

    d_loss: float
    g_loss: float
    g_loss_saturating: float
    g_loss_non_saturating: float
    g_grad_saturating: float
    g_grad_non_saturating: float
    acc_real: float
    acc_fake: float
    js: float
    d_loss_optimal: float


def _accuracy(correct: np.ndarray, ties: np.ndarray) -> float:
    return float(np.mean(correct) + 0.5 * np.mean(ties))


def evaluate(params: GanParams, config: GanConfig, batch: Batch, x_grid: np.ndarray
             ) -> GanFigures:
    """The figures of the current parameters on ``batch`` (fakes = G(batch.eps) now).

    An accuracy counts a logit of exactly 0 (D = 1/2) as half right.
    """
    disc, t = config.discriminator, config.temperature
    fakes = generate(batch.eps, params.mu, params.sigma, params.bend)
    z_r = disc.logits(batch.reals, params.d_weights, params.d_bias)
    z_f, slope = disc.logits_and_slopes(fakes, params.d_weights, params.d_bias)
    _dmu, dsigma, _db = generator_jacobian(batch.eps, params.sigma, params.bend)
    grads = {}
    losses = {}
    for kind in LOSS_KINDS:
        g = generator_loss_grad(z_f, kind=kind, temperature=t) * slope
        grads[kind] = math.hypot(float(g.sum()), float(g @ dsigma))
        losses[kind] = generator_loss(z_f, kind=kind, temperature=t)
    p_real = config.mixture.pdf(x_grid)
    p_gen = generator_pdf(x_grid, params.mu, params.sigma, params.bend)
    return GanFigures(
        d_loss=discriminator_loss(z_r, z_f, real_label=config.real_label, temperature=t),
        g_loss=losses[config.loss_kind],
        g_loss_saturating=losses["saturating"],
        g_loss_non_saturating=losses["non_saturating"],
        g_grad_saturating=grads["saturating"],
        g_grad_non_saturating=grads["non_saturating"],
        acc_real=_accuracy(z_r > 0, z_r == 0),
        acc_fake=_accuracy(z_f < 0, z_f == 0),
        js=js_distance(p_real, p_gen),
        d_loss_optimal=optimal_discriminator_loss(p_real, p_gen, real_label=config.real_label),
    )


@dataclass(frozen=True)
class ObjectiveFeatures:
    """The discriminator's features at the quadrature points of a (σ, μ) map, for one bend.

    ``phi`` (len(sigmas), len(mus), nodes, n_features): φ(μ_j + σ_i·h_b(ε_k)) at
    the Gauss–Hermite nodes ε_k; ``weights`` (nodes,) the nodes' weights
    (summing to 1). They depend on the grid, the feature map and b only, not
    on the discriminator's weights: built once (:func:`objective_features`),
    they turn each map of :func:`generator_objective` into one product with
    the weights. ``bend`` and ``discriminator`` say what they were built for.
    """

    phi: np.ndarray
    weights: np.ndarray
    bend: float
    discriminator: Discriminator


def objective_features(mus, sigmas, discriminator: Discriminator, bend: float = 0.0,
                       nodes: int = 20) -> ObjectiveFeatures:
    """The features :func:`generator_objective` needs for its map, built once for reuse."""
    eps, w = hermegauss(int(nodes))
    mus = np.asarray(mus, dtype=np.float64)
    sigmas = np.asarray(sigmas, dtype=np.float64)
    h = generate(eps, 0.0, 1.0, bend)
    x = mus[None, :, None] + sigmas[:, None, None] * h[None, None, :]
    phi = discriminator.features(x).reshape(*x.shape, discriminator.n_features)
    return ObjectiveFeatures(phi=phi, weights=w / w.sum(), bend=float(bend),
                             discriminator=discriminator)


def generator_objective(mus, sigmas, params: GanParams, config: GanConfig,
                        nodes: int = 20, features: ObjectiveFeatures | None = None
                        ) -> np.ndarray:
    """The generator's expected loss E_ε[ℓ(z(G(ε)) / T)] for every (σ_i, μ_j): shape (len(sigmas), len(mus)).

    The discriminator and the bend b are held at ``params``; the
    expectation over ε ~ N(0, 1) uses ``nodes``-point Gauss–Hermite
    quadrature (exact for polynomials in ε of degree < 2·nodes). ℓ is the
    config's loss kind, in nats. ``features``, from :func:`objective_features`
    for the same ``mus``, ``sigmas`` and ``nodes``, skips evaluating the
    feature map again (the same numbers to rounding); ValueError when it was
    built for another bend or feature map.
    """
    if features is not None:
        if features.bend != params.bend or features.discriminator != config.discriminator:
            raise ValueError("features must be built for params.bend and config.discriminator "
                             f"(built for bend {features.bend}, {features.discriminator})")
        w = features.weights
        u = (features.phi @ params.d_weights + params.d_bias) / config.temperature
    else:
        eps, w = hermegauss(int(nodes))
        w = w / w.sum()
        mus = np.asarray(mus, dtype=np.float64)
        sigmas = np.asarray(sigmas, dtype=np.float64)
        h = generate(eps, 0.0, 1.0, params.bend)
        x = mus[None, :, None] + sigmas[:, None, None] * h[None, None, :]
        u = config.discriminator.logits(x, params.d_weights, params.d_bias) / config.temperature
    if config.loss_kind == "saturating":
        loss = -loss_from_logits(u, 0.0)  # log(1 − σ(u))
    else:
        loss = loss_from_logits(u, 1.0)  # −log σ(u)
    return loss @ w


def discriminator_curve(x, params: GanParams, config: GanConfig) -> np.ndarray:
    """D(x) = σ(z(x) / T) at the points x (same shape)."""
    return sigmoid(config.discriminator.logits(x, params.d_weights, params.d_bias)
                   / config.temperature)
