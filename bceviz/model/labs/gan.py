"""The gan lab's state: a one-dimensional GAN whose discriminator is a BCE classifier you can watch.

The lab (see ``docs/architecture.md``, "Labs") trains, live, the GAN of
:mod:`bceviz.engine.gan`:

* **real data**: a mixture of 1 to 3 Gaussians (means, widths and shares the
  user drags);
* **generator**: x = μ + σ·h_b(ε), ε ~ N(0, 1), ``"location_scale"`` (b = 0)
  or ``"bend"`` (b is learnt too, so the generator can split in two);
* **discriminator**: a logistic regression on polynomial or radial
  features of x, D(x) = σ(z(x) / T), trained with BCE against targets
  ``real_label`` (1, or e.g. 0.9 for one-sided label smoothing) and 0;
* **generator loss**: ``"saturating"`` log(1 − D) or ``"non_saturating"``
  −log D of its fakes;
* **training**: ``d_steps`` discriminator steps then one generator step
  (a round), plain gradient steps on fresh batches of ``batch_size``.
  ``play`` says what Play and :meth:`GanState.step` do: whole rounds, only
  discriminator steps, or only generator steps.

Events: ``data`` (the real mixture), ``model`` (the generator's and the
discriminator's parameters; a training step has ``reason="step"``, also
``"reset"``, ``"set"``, ``"features"``), ``settings`` (loss, smoothing,
temperature, steps per round, learning rates, batch, play mode, speed).

Derived figures — :meth:`GanState.figures`, :meth:`~GanState.densities`,
:meth:`~GanState.generator_curves`, :meth:`~GanState.objective`,
:meth:`~GanState.history` — are computed here once per state version and
shared by every panel; every number in them is finite.

What is shown is the *last batch*: its real samples and the fakes its noise
gives under the current generator, scored by the current discriminator; the
figures (both losses, D's accuracy on real and fake samples) are computed on
it, the Jensen–Shannon distance on the density grid. A history record is
kept per step (bounded: thinned by half when full) and a (μ, σ) point per
generator step.

Limits: batches of :data:`BATCH_RANGE`, ``step(n)`` does at most
:data:`MAX_STEPS_PER_CALL` steps, the start of a stage may run up to
:data:`MAX_WARMUP` discriminator steps (``d_warmup``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Optional

import numpy as np

from bceviz.engine import gan as _gan
from bceviz.engine.gan import Batch, Discriminator, GanConfig, GanFigures, GanParams, Mixture
from bceviz.engine.losses import grad_from_logits, loss_from_logits, sigmoid
from bceviz.model.labs import LabInfo
from bceviz.model.labs.base import (
    LabError,
    LabState,
    check_keys,
    choice,
    integer,
    number,
)

__all__ = [
    "BATCH_RANGE",
    "GENERATOR_KINDS",
    "LAB",
    "MAX_STEPS_PER_CALL",
    "PLAY_MODES",
    "SETTING_KEYS",
    "DensityView",
    "GanSetup",
    "GanState",
    "GeneratorCurves",
    "HistoryView",
    "ObjectiveView",
]

PLAY_MODES = ("round", "discriminator", "generator")
GENERATOR_KINDS = ("location_scale", "bend")
LR_RANGE = (1e-4, 20.0)
TEMPERATURE_RANGE = (0.1, 10.0)
#: A real target below 1/2 would call real data fake; 1 is plain BCE.
REAL_LABEL_RANGE = (0.5, 1.0)
BATCH_RANGE = (16, 2048)
D_STEPS_RANGE = (1, 20)
SPEED_RANGE = (1, 50)
MAX_WARMUP = 2000
MAX_STEPS_PER_CALL = 100_000
SHARE_RANGE = (0.05, 0.95)
#: History records and path points kept (thinned by half when full).
HISTORY_CAPACITY = 2048
#: Points of the density grid on [-X_LIMIT, X_LIMIT].
GRID_POINTS = 401
HISTOGRAM_BINS = 48
#: The generator-loss plot's logit axis u = z / T covers ±U_LIMIT.
U_LIMIT = 10.0
CURVE_POINTS = 401
#: Fakes marked on the generator-loss curves: evenly spaced quantiles of the batch's logits.
FAKE_MARKS = 96
#: The objective map: μ across the generator's range, σ up to the largest allowed.
OBJECTIVE_MU = np.linspace(-_gan.MU_LIMIT, _gan.MU_LIMIT, 36)
OBJECTIVE_SIGMA = np.linspace(_gan.SIGMA_RANGE[0], _gan.SIGMA_RANGE[1], 26)
#: Gauss–Hermite nodes of the map's expectation (exact for polynomials in ε below degree 24).
OBJECTIVE_NODES = 12

SETTING_KEYS = frozenset({
    "real_means", "real_widths", "real_shares", "generator", "mu", "sigma", "bend",
    "features", "feature_size", "loss", "real_label", "temperature", "d_steps", "lr_d", "lr_g",
    "batch_size", "seed", "d_warmup", "play", "steps_per_frame",
})
#: Settings whose change restarts training (the start, the noise, the warm-up).
_RESTART_KEYS = frozenset({"mu", "sigma", "bend", "seed", "d_warmup"})


# --------------------------------------------------------------------------- the setup
@dataclass(frozen=True)
class GanSetup:
    """Everything the user sets (as opposed to what training changes); validated by the state."""

    real_means: tuple[float, ...] = (2.0,)
    real_widths: tuple[float, ...] = (0.5,)
    real_shares: tuple[float, ...] = (1.0,)
    generator: str = "location_scale"
    mu: float = -3.0
    sigma: float = 1.0
    bend: float = 0.0
    features: str = "radial"
    feature_size: int = 12
    loss: str = "non_saturating"
    real_label: float = 1.0
    temperature: float = 1.0
    d_steps: int = 1
    lr_d: float = 1.0
    lr_g: float = 0.1
    batch_size: int = 256
    seed: int = 0
    d_warmup: int = 0
    play: str = "round"
    steps_per_frame: int = 2

    @property
    def mixture(self) -> Mixture:
        return Mixture(self.real_means, self.real_widths, self.real_shares)

    @property
    def discriminator(self) -> Discriminator:
        return Discriminator(self.features, self.feature_size)

    def config(self) -> GanConfig:
        return GanConfig(
            mixture=self.mixture, discriminator=self.discriminator, loss_kind=self.loss,
            real_label=self.real_label, temperature=self.temperature, d_steps=self.d_steps,
            lr_d=self.lr_d, lr_g=self.lr_g, batch_size=self.batch_size,
            learn_bend=self.generator == "bend")

    def to_settings(self) -> dict:
        out = asdict(self)
        for key in ("real_means", "real_widths", "real_shares"):
            out[key] = list(out[key])
        return out


DEFAULT_SETUP = GanSetup()


def _floats(raw: Any, path: str, lo: float, hi: float) -> tuple[float, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= _gan.MAX_COMPONENTS:
        raise LabError(f"{path} must be a list of 1 to {_gan.MAX_COMPONENTS} numbers")
    return tuple(number(v, f"{path}[{k}]", lo, hi) for k, v in enumerate(raw))


def _setup_from(values: dict, base: GanSetup, path: str) -> GanSetup:
    """``base`` with ``values`` (settings keys) applied, every value validated first."""
    check_keys(values, path, SETTING_KEYS)
    p = f"{path}." if path else ""
    out: dict[str, Any] = {}
    if "real_means" in values:
        out["real_means"] = _floats(values["real_means"], p + "real_means",
                                    -_gan.MEAN_LIMIT, _gan.MEAN_LIMIT)
    if "real_widths" in values:
        out["real_widths"] = _floats(values["real_widths"], p + "real_widths", *_gan.WIDTH_RANGE)
    if "real_shares" in values:
        out["real_shares"] = _floats(values["real_shares"], p + "real_shares", 0.01, 1.0)
    means = out.get("real_means", base.real_means)
    k = len(means)
    for key, default in (("real_widths", 0.5), ("real_shares", 1.0)):
        current = out.get(key, getattr(base, key))
        if len(current) != k:
            if key in values:
                raise LabError(f"{p}{key} must have one value per mean ({k}), got {len(current)}")
            current = tuple(current[:k]) + (default,) * max(0, k - len(current))
        out[key] = current
    shares = np.asarray(out["real_shares"], dtype=np.float64)
    out["real_shares"] = tuple(float(v) for v in shares / shares.sum())
    for key, choices in (("generator", GENERATOR_KINDS), ("features", _gan.FEATURE_KINDS),
                         ("loss", _gan.LOSS_KINDS), ("play", PLAY_MODES)):
        if key in values:
            out[key] = choice(values[key], p + key, choices)
    for key, lo, hi in (("mu", -_gan.MU_LIMIT, _gan.MU_LIMIT),
                        ("sigma", *_gan.SIGMA_RANGE), ("bend", *_gan.BEND_RANGE),
                        ("real_label", *REAL_LABEL_RANGE), ("temperature", *TEMPERATURE_RANGE),
                        ("lr_d", *LR_RANGE), ("lr_g", *LR_RANGE)):
        if key in values:
            out[key] = number(values[key], p + key, lo, hi)
    for key, lo, hi in (("d_steps", *D_STEPS_RANGE), ("batch_size", *BATCH_RANGE),
                        ("seed", 0, 2**31 - 1), ("d_warmup", 0, MAX_WARMUP),
                        ("steps_per_frame", *SPEED_RANGE)):
        if key in values:
            out[key] = integer(values[key], p + key, lo, hi)
    kind = out.get("features", base.features)
    if "feature_size" in values or "features" in values:
        lo, hi = _gan.FEATURE_SIZE_RANGE[kind]
        default = base.feature_size if lo <= base.feature_size <= hi else hi
        out["feature_size"] = integer(values.get("feature_size", default),
                                      p + "feature_size", lo, hi)
    setup = replace(base, **out)
    if setup.generator == "location_scale" and setup.bend != 0.0:
        if "bend" in values:
            raise LabError(f"{p}bend needs generator \"bend\" (a location-scale generator has b = 0)")
        setup = replace(setup, bend=0.0)
    return setup


# --------------------------------------------------------------------------- derived views
@dataclass(frozen=True)
class DensityView:
    """The densities plot: curves on ``x`` (1/x units), histograms of the shown batch, D and D*.

    ``components`` (k, n) are the real mixture's weighted parts; ``centre_handles``
    (k, 2) the (mean, peak) of each, ``width_handles`` (k, 2) the point one width
    right of the mean on that component's curve. ``hist_edges`` (bins + 1,) and the
    two histograms are densities (count / (n · bin width)); ``fakes`` and ``reals``
    are the batch's samples; ``discriminator`` D(x) and ``optimal`` D*(x) in [0, 1].
    """

    x: np.ndarray
    p_real: np.ndarray
    p_gen: np.ndarray
    components: np.ndarray
    centre_handles: np.ndarray
    width_handles: np.ndarray
    hist_edges: np.ndarray
    hist_real: np.ndarray
    hist_fake: np.ndarray
    reals: np.ndarray
    fakes: np.ndarray
    discriminator: np.ndarray
    optimal: np.ndarray
    real_label: float
    density_top: float


@dataclass(frozen=True)
class GeneratorCurves:
    """The generator's two losses against D's logit u = z / T, with the current fakes on them.

    ``u`` the curve grid on ±U_LIMIT; ``d`` = σ(u) the matching D(G(z)).
    ``saturating`` = log(1 − σ(u)) and ``non_saturating`` = −log σ(u) (nats);
    ``grad_saturating`` = σ(u)/T and ``grad_non_saturating`` = (1 − σ(u))/T
    are the sizes |∂ℓ/∂z| each gives one fake (before the 1/n of the mean).
    ``fake_u`` the fakes' logits clipped to the plot — at most FAKE_MARKS of
    them, evenly spaced quantiles of the batch's (``n_left``, ``n_right`` say
    how many of the whole batch were beyond the plot); ``fake_saturating`` / ``fake_non_saturating``
    their losses on each curve (at the clipped position, so they sit on it);
    ``mean_d`` the fakes' mean D(G(z)); ``mean_grad_*`` their mean |∂ℓ/∂z|;
    ``norm_grad_*`` the norm of the gradient each loss gives (μ, σ) on this batch.
    """

    u: np.ndarray
    d: np.ndarray
    saturating: np.ndarray
    non_saturating: np.ndarray
    grad_saturating: np.ndarray
    grad_non_saturating: np.ndarray
    fake_u: np.ndarray
    fake_saturating: np.ndarray
    fake_non_saturating: np.ndarray
    n_left: int
    n_right: int
    mean_d: float
    mean_grad_saturating: float
    mean_grad_non_saturating: float
    norm_grad_saturating: float
    norm_grad_non_saturating: float
    temperature: float
    kind: str


@dataclass(frozen=True)
class ObjectiveView:
    """The generator's expected loss over (μ, σ) under the current D (b held), with its path.

    ``values`` (len(sigma), len(mu)) in nats of the chosen kind; ``lo``/``hi`` its
    range; ``path_mu``/``path_sigma`` the generator after each G step (thinned);
    ``mu``/``sigma`` now; ``descent`` the unit direction −∇ of the batch loss in
    (μ, σ) (zeros when the gradient is 0) and ``grad_norm`` its length.
    """

    mu_grid: np.ndarray
    sigma_grid: np.ndarray
    values: np.ndarray
    lo: float
    hi: float
    path_mu: np.ndarray
    path_sigma: np.ndarray
    mu: float
    sigma: float
    descent: tuple[float, float]
    grad_norm: float
    kind: str


@dataclass(frozen=True)
class HistoryView:
    """Per-step figures (thinned when long): losses in nats, accuracies and JS in [0, 1]."""

    step: np.ndarray
    d_loss: np.ndarray
    g_loss: np.ndarray
    acc_real: np.ndarray
    acc_fake: np.ndarray
    js: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray


_HISTORY_COLUMNS = ("step", "d_loss", "g_loss", "acc_real", "acc_fake", "js", "mu", "sigma")


class _Series:
    """Rows of floats, at most ``capacity``: when full, every other row is dropped (the newest kept)."""

    def __init__(self, columns: int, capacity: int = HISTORY_CAPACITY) -> None:
        self.data = np.empty((capacity, columns))
        self.n = 0

    def append(self, row) -> None:
        if self.n == self.data.shape[0]:
            keep = self.data[self.n - 1::-2][::-1].copy()  # every other row, the newest included
            self.n = keep.shape[0]
            self.data[: self.n] = keep
        self.data[self.n] = row
        self.n += 1

    def rows(self) -> np.ndarray:
        return self.data[: self.n].copy()

    def clear(self) -> None:
        self.n = 0

    def load(self, rows: np.ndarray) -> None:
        self.n = rows.shape[0]
        self.data[: self.n] = rows


# --------------------------------------------------------------------------- the state
class GanState(LabState):
    """A 1-D GAN: the real mixture, the generator, the discriminator and their training (Qt-free)."""

    lab_id = "gan"
    EVENTS = ("data", "model", "settings")

    def __init__(self) -> None:
        super().__init__()
        self._version = 0
        self._cache: dict[str, tuple[int, Any]] = {}
        self._static_curves: Optional[tuple] = None
        self._objective_features: Optional[_gan.ObjectiveFeatures] = None
        self._real_on_grid: Optional[tuple[Mixture, np.ndarray, np.ndarray]] = None
        self._grid = _gan.density_grid(GRID_POINTS)
        self._history = _Series(len(_HISTORY_COLUMNS))
        self._path = _Series(2)
        self._assign_setup(DEFAULT_SETUP)
        self._restart()

    # ------------------------------------------------------------------ reading
    @property
    def setup(self) -> GanSetup:
        return self._setup

    @property
    def config(self) -> GanConfig:
        return self._config

    @property
    def params(self) -> GanParams:
        return self._params

    @property
    def batch(self) -> Batch:
        return self._batch

    @property
    def steps(self) -> int:
        """Steps recorded since the last reset (a round counts as one)."""
        return self._steps

    @property
    def counts(self) -> dict[str, int]:
        """Discriminator updates, generator updates and rounds since the last reset."""
        return {"d_updates": self._d_updates, "g_updates": self._g_updates, "rounds": self._rounds}

    @property
    def version(self) -> int:
        return self._version

    @property
    def grid(self) -> np.ndarray:
        view = self._grid.view()
        view.flags.writeable = False
        return view

    def can_train(self) -> bool:
        return True

    # ------------------------------------------------------------------ assigning
    def _assign_setup(self, setup: GanSetup) -> None:
        self._setup = setup
        self._config = setup.config()
        self.steps_per_frame = setup.steps_per_frame

    def _emit(self, name: str, **info: Any) -> None:
        getattr(self.events, name).emit(**info)

    def _touch(self) -> None:
        self._version += 1

    def _restart(self) -> None:
        """Back to the setup's start: seeded noise, the generator's start, D undecided, warm-up."""
        setup = self._setup
        self._rng = np.random.default_rng(setup.seed)
        self._params = _gan.initial_params(self._config.discriminator, setup.mu, setup.sigma,
                                           setup.bend)
        for _ in range(setup.d_warmup):
            self._params, _b = _gan.discriminator_step(self._params, self._config, self._rng)
        self._batch = _gan.draw_batch(self._config, self._rng)
        self._steps = self._d_updates = self._g_updates = self._rounds = 0
        self._history.clear()
        self._path.clear()
        self._path.append((self._params.mu, self._params.sigma))
        self._touch()
        self._record()

    def _record(self) -> None:
        f = self.figures()
        self._history.append((self._steps, f.d_loss, f.g_loss, f.acc_real, f.acc_fake, f.js,
                              self._params.mu, self._params.sigma))

    # ------------------------------------------------------------------ gestures
    def configure(self, **changes: Any) -> None:
        """Change settings live (the controls): validated first, all or nothing.

        Keys are those of a stage's settings. The real mixture and the
        training settings take effect at once; a new feature map starts the
        discriminator again (w = 0); ``mu``, ``sigma``, ``bend``, ``seed``
        and ``d_warmup`` change the start, so training restarts from it.
        """
        new = _setup_from(changes, self._setup, "")
        if new == self._setup:
            return
        old = self._setup
        with self.transaction("data", "model", "settings"):
            self._assign_setup(new)
            restart = any(getattr(new, k) != getattr(old, k) for k in _RESTART_KEYS)
            features = (new.features, new.feature_size) != (old.features, old.feature_size)
            if restart:
                self._restart()
                self._emit("model", reason="reset")
            elif features or (new.generator != old.generator and new.generator == "location_scale"):
                p = self._params
                if features:
                    p = replace(p, d_weights=np.zeros(self._config.discriminator.n_features),
                                d_bias=0.0)
                if new.generator == "location_scale":
                    p = replace(p, bend=0.0)
                self._params = p
                self._touch()
                self._record_change()
                self._emit("model", reason="features" if features else "set")
            else:
                self._touch()
            if new.mixture != old.mixture:
                self._emit("data")
            self._emit("settings")

    def _record_change(self) -> None:
        """A change by hand is a new point of the history at the same step."""
        self._record()

    def set_component(self, index: int, *, mean: Optional[float] = None,
                      width: Optional[float] = None, share: Optional[float] = None) -> None:
        """Move one real component (a drag): its mean, width, or share of the mass.

        ``share`` in SHARE_RANGE is the component's weight after the change;
        the others keep their proportions. Ignored for a single component.
        """
        k = len(self._setup.real_means)
        index = integer(index, "component", 0, k - 1)
        means, widths = list(self._setup.real_means), list(self._setup.real_widths)
        shares = list(self._setup.real_shares)
        if mean is not None:
            means[index] = number(mean, "mean", -_gan.MEAN_LIMIT, _gan.MEAN_LIMIT)
        if width is not None:
            widths[index] = number(width, "width", *_gan.WIDTH_RANGE)
        if share is not None and k > 1:
            s = number(share, "share", *SHARE_RANGE)
            rest = sum(shares) - shares[index]
            shares = [s if i == index else v * (1.0 - s) / rest for i, v in enumerate(shares)]
        self.configure(real_means=means, real_widths=widths, real_shares=shares)

    def set_components(self, count: int) -> None:
        """Use ``count`` (1..3) real components; new ones appear where there is room."""
        count = integer(count, "components", 1, _gan.MAX_COMPONENTS)
        means, widths = list(self._setup.real_means), list(self._setup.real_widths)
        shares = list(self._setup.real_shares)
        if count == len(means):
            return
        while len(means) > count:
            means.pop(), widths.pop(), shares.pop()
        while len(means) < count:
            free = [m for m in (-3.0, 3.0, 0.0, -5.0, 5.0) if all(abs(m - v) > 1.0 for v in means)]
            means.append(free[0] if free else 0.0)
            widths.append(0.5)
            shares.append(1.0 / count)
        self.configure(real_means=means, real_widths=widths, real_shares=shares)

    def set_generator(self, *, mu: Optional[float] = None, sigma: Optional[float] = None) -> None:
        """Put the generator somewhere by hand (a drag on its objective); training continues from there."""
        p = self._params
        new_mu = p.mu if mu is None else number(mu, "mu", -_gan.MU_LIMIT, _gan.MU_LIMIT)
        new_sigma = p.sigma if sigma is None else number(sigma, "sigma", *_gan.SIGMA_RANGE)
        if (new_mu, new_sigma) == (p.mu, p.sigma):
            return
        self._params = replace(p, mu=new_mu, sigma=new_sigma)
        self._path.append((new_mu, new_sigma))
        self._touch()
        self._record_change()
        self._emit("model", reason="set")

    def reset(self) -> None:
        """Back to the start of the current setup (seeded): generator start, D undecided, warm-up."""
        self._restart()
        self._emit("model", reason="reset")

    # ------------------------------------------------------------------ training
    def step(self, n: int = 1) -> int:
        """``n`` steps of the play mode (rounds, or D or G steps alone); returns how many."""
        return self._train(self._setup.play, n)

    def step_round(self, n: int = 1) -> int:
        """``n`` rounds: ``d_steps`` discriminator steps and one generator step each."""
        return self._train("round", n)

    def step_discriminator(self, n: int = 1) -> int:
        """``n`` discriminator steps (the generator stays)."""
        return self._train("discriminator", n)

    def step_generator(self, n: int = 1) -> int:
        """``n`` generator steps (the discriminator stays)."""
        return self._train("generator", n)

    def _train(self, mode: str, n: int) -> int:
        count = min(integer(n, "steps", 0, 2**62), MAX_STEPS_PER_CALL)
        if count == 0:
            return 0
        # A long call records evenly spaced steps (the last always): the history is
        # thinned to HISTORY_CAPACITY anyway, and scoring a step costs about as much as it.
        every = max(1, count // (HISTORY_CAPACITY // 2))
        config, rng = self._config, self._rng
        params, batch = self._params, self._batch
        for i in range(count):
            if mode == "discriminator":
                params, batch = _gan.discriminator_step(params, config, rng)
                self._d_updates += 1
            elif mode == "generator":
                params, eps = _gan.generator_step(params, config, rng)
                batch = Batch(reals=batch.reals, eps=eps)
                self._g_updates += 1
            else:
                params, batch = _gan.training_round(params, config, rng)
                self._d_updates += config.d_steps
                self._g_updates += 1
                self._rounds += 1
            if mode != "discriminator":
                self._path.append((params.mu, params.sigma))
            self._steps += 1
            if (i + 1) % every == 0 or i == count - 1:
                self._params, self._batch = params, batch
                self._touch()
                self._record()
        self._emit("model", reason="step")
        return count

    # ------------------------------------------------------------------ derived figures
    def _cached(self, name: str, build: Callable[[], Any]) -> Any:
        hit = self._cache.get(name)
        if hit is not None and hit[0] == self._version:
            return hit[1]
        value = build()
        self._cache[name] = (self._version, value)
        return value

    def fakes(self) -> np.ndarray:
        """The shown batch's fakes G(ε) under the current generator, shape (batch,)."""
        return self._cached("fakes", lambda: _gan.generate(
            self._batch.eps, self._params.mu, self._params.sigma, self._params.bend))

    def figures(self) -> GanFigures:
        """Both losses, D's accuracies, the gradient norms and the JS distance, now."""
        return self._cached("figures", lambda: _gan.evaluate(self._params, self._config,
                                                             self._batch, self._grid))

    def densities(self) -> DensityView:
        return self._cached("densities", self._build_densities)

    def _build_densities(self) -> DensityView:
        x, p, config = self._grid, self._params, self._config
        mix = config.mixture
        real = self._real_on_grid
        if real is None or real[0] != mix:
            # The real density changes only with the real data, not at a training step.
            comps = mix.component_pdfs(x)
            real = (mix, comps, comps.sum(axis=0))
            for arr in real[1:]:
                arr.flags.writeable = False
            self._real_on_grid = real
        _mix, comps, p_real = real
        p_gen = _gan.generator_pdf(x, p.mu, p.sigma, p.bend)
        means, widths = np.asarray(mix.means), np.asarray(mix.widths)
        peaks = mix.probabilities / (widths * math.sqrt(2.0 * math.pi))
        centre = np.column_stack([means, peaks])
        width_h = np.column_stack([means + widths, peaks * math.exp(-0.5)])
        edges = np.linspace(-_gan.X_LIMIT, _gan.X_LIMIT, HISTOGRAM_BINS + 1)
        bin_w = edges[1] - edges[0]
        reals, fakes = self._batch.reals, self.fakes()
        h_real = np.histogram(reals, edges)[0] / (reals.size * bin_w)
        h_fake = np.histogram(fakes, edges)[0] / (fakes.size * bin_w)
        d = _gan.discriminator_curve(x, p, config)
        d_star = _gan.optimal_discriminator(p_real, p_gen, real_label=config.real_label)
        curves = max(p_real.max(), min(p_gen.max(), 3.0 * p_real.max()), 0.05)
        # The batch's bars may stand above the curves: room for them, up to half as much again.
        bars = max(h_real.max(), min(h_fake.max(), 3.0 * p_real.max()))
        top = float(min(max(curves, bars), 1.5 * curves))
        return DensityView(
            x=x, p_real=p_real, p_gen=np.minimum(p_gen, 1e6), components=comps,
            centre_handles=centre, width_handles=width_h, hist_edges=edges, hist_real=h_real,
            hist_fake=h_fake, reals=reals, fakes=fakes, discriminator=d, optimal=d_star,
            real_label=config.real_label, density_top=top)

    def generator_curves(self) -> GeneratorCurves:
        return self._cached("curves", self._build_curves)

    def _build_curves(self) -> GeneratorCurves:
        config, p = self._config, self._params
        t = config.temperature
        static = self._static_curves
        if static is None or static[0] != t:
            # The curves depend on T only: computed again when it changes, not every step.
            u = np.linspace(-U_LIMIT, U_LIMIT, CURVE_POINTS)
            static = (t, u, sigmoid(u), -loss_from_logits(u, 0.0), loss_from_logits(u, 1.0),
                      grad_from_logits(u, 0.0) / t, -grad_from_logits(u, 1.0) / t)
            self._static_curves = static
        _t, u, d, sat, ns, g_sat, g_ns = static
        z = config.discriminator.logits(self.fakes(), p.d_weights, p.d_bias)
        fu = z / t
        # FAKE_MARKS quantiles of the batch stand for it on the curves (256 markers on a
        # curve overlap anyway, and each costs a frame's time to place).
        marks = np.sort(fu)
        if marks.size > FAKE_MARKS:
            marks = marks[np.linspace(0, marks.size - 1, FAKE_MARKS).round().astype(np.intp)]
        clipped = np.clip(marks, -U_LIMIT, U_LIMIT)
        figures = self.figures()
        return GeneratorCurves(
            u=u, d=d, saturating=sat, non_saturating=ns,
            grad_saturating=g_sat, grad_non_saturating=g_ns,
            fake_u=clipped, fake_saturating=-loss_from_logits(clipped, 0.0),
            fake_non_saturating=loss_from_logits(clipped, 1.0),
            n_left=int(np.sum(fu < -U_LIMIT)), n_right=int(np.sum(fu > U_LIMIT)),
            mean_d=float(np.mean(sigmoid(fu))),
            mean_grad_saturating=float(np.mean(grad_from_logits(fu, 0.0))) / t,
            mean_grad_non_saturating=float(np.mean(-grad_from_logits(fu, 1.0))) / t,
            norm_grad_saturating=figures.g_grad_saturating,
            norm_grad_non_saturating=figures.g_grad_non_saturating,
            temperature=t, kind=config.loss_kind)

    def objective(self) -> ObjectiveView:
        return self._cached("objective", self._build_objective)

    def _build_objective(self) -> ObjectiveView:
        p, config = self._params, self._config
        feats = self._objective_features
        if feats is None or feats.bend != p.bend or feats.discriminator != config.discriminator:
            # The map's feature tensor depends on the feature map and b only: built again
            # when they change, not at every step (each map is then one product).
            feats = _gan.objective_features(OBJECTIVE_MU, OBJECTIVE_SIGMA, config.discriminator,
                                            p.bend, nodes=OBJECTIVE_NODES)
            self._objective_features = feats
        values = _gan.generator_objective(OBJECTIVE_MU, OBJECTIVE_SIGMA, p, config,
                                          nodes=OBJECTIVE_NODES, features=feats)
        g_mu, g_sigma, _gb = _gan.generator_gradient(self._batch.eps, p, config)
        norm = math.hypot(g_mu, g_sigma)
        descent = (-g_mu / norm, -g_sigma / norm) if norm > 0 and math.isfinite(norm) else (0.0, 0.0)
        path = self._path.rows()
        lo, hi = float(values.min()), float(values.max())
        return ObjectiveView(
            mu_grid=OBJECTIVE_MU, sigma_grid=OBJECTIVE_SIGMA, values=values, lo=lo, hi=hi,
            path_mu=path[:, 0], path_sigma=path[:, 1], mu=p.mu, sigma=p.sigma,
            descent=descent, grad_norm=norm if math.isfinite(norm) else 0.0,
            kind=config.loss_kind)

    def history(self) -> HistoryView:
        def build() -> HistoryView:
            rows = self._history.rows()
            return HistoryView(**{name: rows[:, i] for i, name in enumerate(_HISTORY_COLUMNS)})

        return self._cached("history", build)

    # ------------------------------------------------------------------ stages and sessions
    def apply_settings(self, settings: dict) -> None:
        """Put the lab into a stage's settings; everything not named goes back to its default.

        Keys: ``real_means``, ``real_widths``, ``real_shares`` (1 to 3
        components), ``generator`` (location_scale / bend), ``mu``, ``sigma``,
        ``bend`` (the start), ``features`` (polynomial / radial) and
        ``feature_size``, ``loss`` (saturating / non_saturating),
        ``real_label``, ``temperature``, ``d_steps``, ``lr_d``, ``lr_g``,
        ``batch_size``, ``seed``, ``d_warmup`` (discriminator steps before the
        start), ``play`` (round / discriminator / generator),
        ``steps_per_frame``. Validated completely first (LabError names the field).
        """
        setup = _setup_from(settings, DEFAULT_SETUP, "settings")
        self.set_running(False)
        with self.transaction("data", "model", "settings"):
            self._assign_setup(setup)
            self._restart()
            self._emit("data")
            self._emit("settings")
            self._emit("model", reason="reset")

    def report(self) -> dict:
        """The lab's figures for ``--report`` (JSON-safe: finite floats or None)."""
        f, p = self.figures(), self._params
        return {
            "mu": _safe(p.mu), "sigma": _safe(p.sigma), "bend": _safe(p.bend),
            "d_loss": _safe(f.d_loss), "g_loss": _safe(f.g_loss),
            "g_loss_saturating": _safe(f.g_loss_saturating),
            "g_loss_non_saturating": _safe(f.g_loss_non_saturating),
            "d_accuracy_real": _safe(f.acc_real), "d_accuracy_fake": _safe(f.acc_fake),
            "d_accuracy": _safe(0.5 * (f.acc_real + f.acc_fake)),
            "js_distance": _safe(f.js), "d_loss_optimal": _safe(f.d_loss_optimal),
            "g_grad_saturating": _safe(f.g_grad_saturating),
            "g_grad_non_saturating": _safe(f.g_grad_non_saturating),
            "steps": self._steps, **self.counts,
            "loss": self._setup.loss, "real_label": self._setup.real_label,
            "temperature": self._setup.temperature, "d_steps": self._setup.d_steps,
            "features": self._setup.features, "feature_size": self._setup.feature_size,
            "generator": self._setup.generator, "batch_size": self._setup.batch_size,
            "real_means": list(self._setup.real_means),
            "real_widths": list(self._setup.real_widths),
            "real_shares": list(self._setup.real_shares),
        }

    def to_dict(self) -> dict:
        p = self._params
        rng = self._rng.bit_generator.state
        return {
            "settings": self._setup.to_settings(),
            "model": {"mu": p.mu, "sigma": p.sigma, "bend": p.bend,
                      "d_weights": [float(v) for v in p.d_weights], "d_bias": p.d_bias},
            "batch": {"reals": self._batch.reals.tolist(), "eps": self._batch.eps.tolist()},
            "rng": {"state": int(rng["state"]["state"]), "inc": int(rng["state"]["inc"]),
                    "has_uint32": int(rng["has_uint32"]), "uinteger": int(rng["uinteger"])},
            "counts": {"steps": self._steps, **self.counts},
            "history": self._history.rows().tolist(),
            "path": self._path.rows().tolist(),
        }

    def restore(self, payload: dict) -> None:
        """Restore :meth:`to_dict`'s payload; LabError names the field and nothing changes."""
        check_keys(payload, "gan", {"settings", "model", "batch", "rng", "counts", "history",
                                    "path"})
        setup = _setup_from(payload.get("settings", {}), DEFAULT_SETUP, "gan.settings")
        n_features = setup.discriminator.n_features
        model = check_keys(payload.get("model", {}), "gan.model",
                           {"mu", "sigma", "bend", "d_weights", "d_bias"})
        lim = _gan.D_WEIGHT_LIMIT
        weights = model.get("d_weights", [0.0] * n_features)
        if not isinstance(weights, list) or len(weights) != n_features:
            raise LabError(f"gan.model.d_weights must be a list of {n_features} numbers")
        params = GanParams(
            mu=number(model.get("mu", setup.mu), "gan.model.mu", -_gan.MU_LIMIT, _gan.MU_LIMIT),
            sigma=number(model.get("sigma", setup.sigma), "gan.model.sigma", *_gan.SIGMA_RANGE),
            bend=number(model.get("bend", setup.bend), "gan.model.bend", *_gan.BEND_RANGE),
            d_weights=np.array([number(v, f"gan.model.d_weights[{i}]", -lim, lim)
                                for i, v in enumerate(weights)], dtype=np.float64),
            d_bias=number(model.get("d_bias", 0.0), "gan.model.d_bias", -lim, lim))
        if setup.generator == "location_scale" and params.bend != 0.0:
            raise LabError("gan.model.bend must be 0 for a location-scale generator")
        batch_raw = check_keys(payload.get("batch", {}), "gan.batch", {"reals", "eps"})
        arrays = []
        for key in ("reals", "eps"):
            raw = batch_raw.get(key)
            if not isinstance(raw, list) or not 1 <= len(raw) <= BATCH_RANGE[1]:
                raise LabError(f"gan.batch.{key} must be a list of 1 to {BATCH_RANGE[1]} numbers")
            arrays.append(np.array([number(v, f"gan.batch.{key}[{i}]", -1e3, 1e3)
                                    for i, v in enumerate(raw)], dtype=np.float64))
        if arrays[0].size != arrays[1].size:
            raise LabError("gan.batch.reals and gan.batch.eps must have the same length")
        rng_raw = check_keys(payload.get("rng", {}), "gan.rng",
                             {"state", "inc", "has_uint32", "uinteger"})
        rng = np.random.default_rng(0)
        try:
            state: dict[str, Any] = dict(rng.bit_generator.state)
            state["state"] = {"state": integer(rng_raw.get("state"), "gan.rng.state", 0, 2**128 - 1),
                              "inc": integer(rng_raw.get("inc"), "gan.rng.inc", 0, 2**128 - 1)}
            state["has_uint32"] = integer(rng_raw.get("has_uint32", 0), "gan.rng.has_uint32", 0, 1)
            state["uinteger"] = integer(rng_raw.get("uinteger", 0), "gan.rng.uinteger", 0, 2**32 - 1)
            rng.bit_generator.state = state
        except (TypeError, ValueError) as exc:
            if isinstance(exc, LabError):
                raise
            raise LabError(f"gan.rng is not a valid generator state ({exc})") from None
        counts = check_keys(payload.get("counts", {}), "gan.counts",
                            {"steps", "d_updates", "g_updates", "rounds"})
        steps = {k: integer(counts.get(k, 0), f"gan.counts.{k}", 0, 2**62)
                 for k in ("steps", "d_updates", "g_updates", "rounds")}
        history = _rows_from(payload.get("history", []), len(_HISTORY_COLUMNS), "gan.history")
        path = _rows_from(payload.get("path", []), 2, "gan.path")
        self.set_running(False)
        with self.transaction("data", "model", "settings"):
            self._assign_setup(setup)
            self._params = params
            self._batch = Batch(reals=arrays[0], eps=arrays[1])
            self._rng = rng
            self._steps, self._d_updates = steps["steps"], steps["d_updates"]
            self._g_updates, self._rounds = steps["g_updates"], steps["rounds"]
            self._history.load(history)
            self._path.load(path if path.size else np.array([[params.mu, params.sigma]]))
            self._touch()
            if not history.size:
                self._record()
            self._emit("data")
            self._emit("settings")
            self._emit("model", reason="reset")


# --------------------------------------------------------------------------- helpers
def _safe(value: Optional[float]) -> Optional[float]:
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def _rows_from(raw: Any, columns: int, path: str) -> np.ndarray:
    if not isinstance(raw, list) or len(raw) > HISTORY_CAPACITY:
        raise LabError(f"{path} must be a list of at most {HISTORY_CAPACITY:,} rows")
    out = np.empty((len(raw), columns))
    for k, row in enumerate(raw):
        if not isinstance(row, list) or len(row) != columns:
            raise LabError(f"{path}[{k}] must be a row of {columns} numbers")
        for j, v in enumerate(row):
            out[k, j] = number(v, f"{path}[{k}][{j}]", -1e12, 1e12)
    return out


LAB = LabInfo(
    lab_id="gan",
    title="A GAN's judge (one dimension)",
    state_factory=GanState,
    gui_module="bceviz.gui.labs.gan",
    description="A 1-D GAN: the discriminator is a BCE classifier; the generator flips its label",
)
