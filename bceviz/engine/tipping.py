"""One feature, one tipping point: the Newton fit of p(x) = σ(w·x + b), its errors, separation, SGD.

The model is ``p(x) = sigmoid(w x + b)`` on a single feature x in its own
units (degrees, kcal/mol, ...). The objective is the one of
``bceviz.engine.logistic.fit_logistic`` with one feature:

    mean over examples of loss_from_logits(w x_i + b, y_i, spec)  +  l2/2 · w²

(the bias is not penalised; losses in nats). With ``l2 = λ`` its optimum is
scikit-learn's ``LogisticRegression(C = 1/(λ n))``.

Figures, in the feature's units:

* ``tipping_point = −b / w``: where p = 0.5 (None when w = 0: p is the same
  everywhere and no point tips);
* ``width = 2 ln 9 / |w|``: the distance from p = 0.1 to p = 0.9 (None when w = 0);
* ``se_w``, ``se_b``: Wald standard errors from the inverse Hessian of the
  *summed* negative log-likelihood (statsmodels ``Logit(...).fit().bse``),
  only for plain BCE with ``l2 = 0`` on data whose maximum-likelihood
  estimate exists; None otherwise (they do not exist, or would describe a
  different estimator). ``cov_wb`` is their covariance and
  ``se_tipping_point`` the delta-method error of x*.

**Separation.** ``separable`` is a property of the data: a threshold on x puts
every class-1 example strictly on one side and every class-0 example on the
other. ``quasi_separable``: the classes only meet at one value of x (examples
of both classes tied there, none overlapping elsewhere). In both cases the
unpenalised maximum-likelihood estimate does not exist: the loss keeps
falling as |w| grows. The fit then reports ``converged = False`` and the
finite weights where it stopped (every example off the tie predicted within
about e⁻⁴⁶ of its class), never an overflow. A penalty ``l2 > 0`` or label
smoothing (soft targets) gives a finite optimum, and the fit converges. More
generally (``optimum_exists``) the optimum fails to exist when the loss
settings leave the examples nothing that holds z back in some direction
(e.g. ``pos_weight = 0`` removes the pull of every class-1 example).

**Units.** Newton runs on the standardised feature u = (x − mean) / std and
maps the answer back, and it stops on the Newton decrement (a predicted
decrease of the objective in nats), which does not change when x is
rescaled: degrees or radians, kcal/mol or cal/mol give the same fit, with w
divided and x*, width multiplied by the conversion factor (and ``l2``
multiplied by its square for the same penalised fit).

Also here: ``sgd_update`` (the single-example step w ← w − η ∂L/∂z · x),
``sgd_run`` (many of them), the ``TippingSurface`` loss grid over (w, b) kept
up to date under edits, and the two seeded illustrative data sets.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bceviz.engine.losses import (
    LossSpec,
    curvature_from_logits,
    grad_from_logits,
    loss_from_logits,
    smooth_labels,
    softplus_pair,
)

__all__ = [
    "GRAIN_BOUNDARIES",
    "MAX_ABS_FEATURE",
    "TERMINATORS",
    "TWO_LN9",
    "Separation",
    "SyntheticSet",
    "TippingFit",
    "TippingSurface",
    "check_separation",
    "fit_tipping",
    "make_synthetic",
    "sgd_run",
    "sgd_update",
    "surface_values",
    "tipping_point_of",
    "width_of",
]

#: The distance from p = 0.1 to p = 0.9 is this over |w|: logit(0.9) − logit(0.1) = 2 ln 9.
TWO_LN9 = 2.0 * math.log(9.0)
#: Largest |x| accepted (any unit): keeps w·x and every sum of logits finite.
MAX_ABS_FEATURE = 1e9
#: Largest l2 accepted.
MAX_L2 = 1e12
#: Newton stops when the Newton decrement g·H⁻¹g (twice the predicted decrease, nats) is below this.
DECREMENT_TOL = 1e-20
#: Below this decrement Newton takes full steps (its quadratic convergence region).
QUADRATIC_REGION = 1e-8
#: Smallest trust radius of a Newton step, in the standardised coordinates (logit units).
MAX_NEWTON_STEP = 10.0
#: Newton iterations at most (it needs ~10 on ordinary data, ~50 to give up on separated data).
MAX_NEWTON_ITER = 200

_PLAIN = LossSpec()


# ----------------------------------------------------------------------------- validation


def _real(name: str, value, lo: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if lo is not None and out < lo:
        raise ValueError(f"{name} must be >= {lo:g}, got {value!r}")
    return out


def _check_spec(spec) -> LossSpec:
    if spec is None:
        return _PLAIN
    if not isinstance(spec, LossSpec):
        raise ValueError(f"spec must be a LossSpec, got {type(spec).__name__}")
    return spec


def _check_l2(l2) -> float:
    out = _real("l2", l2, 0.0)
    if out > MAX_L2:
        raise ValueError(f"l2 must be in [0, {MAX_L2:g}], got {l2!r}")
    return out


def _check_xy(x, y, *, need_both: bool) -> tuple[np.ndarray, np.ndarray]:
    """Feature values (n,) and class labels (n,) in {0, 1}, as float64 copies."""
    try:
        xa = np.array(x, dtype=np.float64).reshape(-1) if np.ndim(x) <= 1 else None
    except (TypeError, ValueError):
        raise ValueError("x must be a 1-D array of numbers (the feature values)") from None
    if xa is None:
        raise ValueError(f"x must be a 1-D array (one feature), got shape {np.shape(x)}")
    try:
        ya = np.array(y, dtype=np.float64).reshape(-1) if np.ndim(y) <= 1 else None
    except (TypeError, ValueError):
        raise ValueError("y must be a 1-D array of class labels 0 or 1") from None
    if ya is None:
        raise ValueError(f"y must be a 1-D array of class labels, got shape {np.shape(y)}")
    if xa.shape != ya.shape:
        raise ValueError(f"x and y must have the same length, got {xa.size} and {ya.size}")
    if not np.all(np.isfinite(xa)):
        raise ValueError("x must contain only finite numbers (no NaN or inf)")
    if xa.size and np.max(np.abs(xa)) > MAX_ABS_FEATURE:
        raise ValueError(f"x must be within ±{MAX_ABS_FEATURE:g}, got {np.max(np.abs(xa))!r}")
    if not np.all((ya == 0.0) | (ya == 1.0)):
        bad = ya[~((ya == 0.0) | (ya == 1.0))][0]
        raise ValueError(f"y must hold class labels 0 or 1, found {bad!r}")
    if need_both:
        n1 = int(np.count_nonzero(ya))
        if n1 == 0 or n1 == ya.size:
            raise ValueError(
                "y must contain both classes (at least one 0 and one 1); "
                f"got {ya.size} example(s) all of class {int(n1 > 0)}"
            )
    return xa, ya


# ----------------------------------------------------------------------------- separation


@dataclass(frozen=True)
class Separation:
    """How the two classes sit on the feature axis.

    ``separable``: a threshold strictly splits them. ``quasi_separable``: they
    touch at one value of x (ties of both classes there) and do not overlap
    elsewhere. ``gap``: (lo, hi), the two nearest opposite examples (lo = hi
    for quasi-separation), None when the classes overlap or one is missing.
    ``positive_above``: class 1 lies above the gap (then w > 0 along the escape).
    """

    separable: bool
    quasi_separable: bool
    gap: tuple[float, float] | None
    positive_above: bool | None


def check_separation(x, y) -> Separation:
    """Exact separation test on 1-D data with class labels 0/1 (O(n)).

    With only one class present nothing is separated (all False, gap None);
    ``fit_tipping`` refuses such data.
    """
    xa, ya = _check_xy(x, y, need_both=False)
    pos, neg = xa[ya == 1.0], xa[ya == 0.0]
    if pos.size == 0 or neg.size == 0:
        return Separation(False, False, None, None)
    for lower, upper, above in ((neg, pos, True), (pos, neg, False)):
        lo, hi = float(lower.max()), float(upper.min())
        if lo < hi:
            return Separation(True, False, (lo, hi), above)
        if lo == hi and (lower.min() < lo or upper.max() > hi):
            # Ties at lo: the classes touch there and nowhere else (every example at one
            # value is no separation at all: then nothing tells the classes apart).
            return Separation(False, True, (lo, hi), above)
    return Separation(False, False, None, None)


def _pull_flags(y: np.ndarray, spec: LossSpec) -> tuple[np.ndarray, np.ndarray]:
    """Per example: does its loss grow as z → −∞ (``up``) and as z → +∞ (``down``)?

    The loss of example i is α_t (pw y_s softplus(−z) + (1 − y_s) softplus(z))
    times a focal factor that stays positive unless the target is hard and
    met; so it grows towards −∞ iff α_t pw y_s > 0 and towards +∞ iff
    α_t (1 − y_s) > 0.
    """
    ys = smooth_labels(y, spec.label_smoothing)
    alpha_t = 1.0 if spec.focal_alpha is None else \
        spec.focal_alpha * ys + (1.0 - spec.focal_alpha) * (1.0 - ys)
    up = np.broadcast_to(alpha_t * spec.pos_weight * ys > 0.0, y.shape)
    down = np.broadcast_to(alpha_t * (1.0 - ys) > 0.0, y.shape)
    return up, down


def _optimum_exists(x: np.ndarray, y: np.ndarray, spec: LossSpec, l2: float) -> bool:
    """False when some direction (dw, db) lowers the objective forever (no minimiser).

    A direction escapes when no example's loss grows along it and some
    example's loss falls. With l2 > 0 only dw = 0 can escape (b alone).
    """
    up, down = _pull_flags(y, spec)
    weighted = up | down
    if not weighted.any():
        return True  # the loss is identically zero: every (w, b) is optimal
    # b alone: every weighted example must let z go the same way.
    if not down.any() or not up.any():
        return False
    if l2 > 0.0:
        return True
    # dw != 0: a threshold t with z growing above t and falling below (or the reverse).
    # Growing above t needs every 'down' example at or below t and every 'up' one at
    # or above it; the examples at t itself do not move.
    for grow_above in (True, False):
        at_most, at_least = (down, up) if grow_above else (up, down)
        t_lo, t_hi = float(x[at_most].max()), float(x[at_least].min())
        if t_lo < t_hi:
            return False  # t strictly inside: every weighted example moves, and gains
        if t_lo == t_hi and (weighted & (x != t_lo)).any():
            return False
    return True


# ----------------------------------------------------------------------------- the fit


@dataclass(frozen=True)
class TippingFit:
    """The fitted tipping point (units: the feature's; w in 1/feature unit, b in logit units).

    ``tipping_point`` and ``width`` are None when w = 0; ``se_w``/``se_b`` None
    unless plain BCE, ``l2 = 0`` and the maximum-likelihood estimate exists.
    ``converged`` is False when no optimum exists (separation without a
    penalty, see the module docstring) or Newton ran out of iterations.
    ``loss`` is the mean loss in nats at (w, b), ``objective`` adds the penalty.
    """

    w: float
    b: float
    tipping_point: float | None
    width: float | None
    se_w: float | None
    se_b: float | None
    separable: bool
    converged: bool
    quasi_separable: bool = False
    optimum_exists: bool = True
    iterations: int = 0
    loss: float = 0.0
    objective: float = 0.0
    #: Wald covariance of (w, b) and the delta-method error of x* = −b/w (None as se_w).
    cov_wb: float | None = None
    se_tipping_point: float | None = None

    def to_dict(self) -> dict:
        return {
            "w": self.w, "b": self.b, "tipping_point": self.tipping_point, "width": self.width,
            "se_w": self.se_w, "se_b": self.se_b, "cov_wb": self.cov_wb,
            "se_tipping_point": self.se_tipping_point, "separable": self.separable,
            "quasi_separable": self.quasi_separable, "optimum_exists": self.optimum_exists,
            "converged": self.converged, "iterations": self.iterations, "loss": self.loss,
            "objective": self.objective,
        }


def tipping_point_of(w: float, b: float) -> float | None:
    """−b / w, where p = 0.5 (feature units); None when w = 0 or the ratio is not finite."""
    if w == 0.0:
        return None
    with np.errstate(over="ignore"):
        t = -float(b) / float(w)
    return t if math.isfinite(t) else None


def width_of(w: float) -> float | None:
    """2 ln 9 / |w|: the distance from p = 0.1 to p = 0.9 (feature units); None when w = 0."""
    if w == 0.0:
        return None
    out = TWO_LN9 / abs(float(w))
    return out if math.isfinite(out) else None


def _objective_u(a: float, c: float, u: np.ndarray, y: np.ndarray, spec: LossSpec,
                 kappa: float) -> float:
    z = a * u + c
    return float(np.mean(loss_from_logits(z, y, spec))) + 0.5 * kappa * a * a


def _newton(u: np.ndarray, y: np.ndarray, spec: LossSpec, kappa: float,
            a: float = 0.0, c: float = 0.0) -> tuple[float, float, int, bool]:
    """Minimise mean L(a u + c) + κ/2 a² by damped Newton; (a, c, iterations, decrement met)."""
    n = u.size
    f = _objective_u(a, c, u, y, spec, kappa)
    previous = math.inf
    for it in range(1, MAX_NEWTON_ITER + 1):
        z = a * u + c
        g1 = grad_from_logits(z, y, spec)
        h1 = curvature_from_logits(z, y, spec)
        # The Newton system in coordinates centred where the curvature sits (v = u − ū,
        # c' = c + a ū): there it is (nearly) diagonal, so a gap that is tiny against the
        # spread of x (the curvature on two close examples) does not drown in rounding.
        h_abs = np.abs(h1)
        mass = float(h_abs.sum())
        u_bar = float(h_abs @ u) / mass if mass > 0.0 else 0.0
        v = u - u_bar
        g = np.array([float(g1 @ v) / n + kappa * a, float(g1.sum()) / n])
        # Σ h v is 0 by the choice of ū when every h >= 0 (only rounding is left of it).
        cross = 0.0 if float(h1.min()) >= 0.0 else float(h1 @ v) / n
        H = np.array([[float(h1 @ (v * v)) / n + kappa, cross],
                      [cross, float(h1.sum()) / n]])
        if not np.all(np.isfinite(H)) or max(abs(H[0, 0]), abs(H[1, 1])) <= 1e-300:
            return a, c, it, bool(np.all(g == 0.0))
        if H[0, 1] == 0.0 and H[0, 0] >= 0.0 and H[1, 1] > 0.0:
            # Non-negative curvature (no focal term): centred, the system is diagonal.
            # A direction without curvature (a constant feature, no L2) takes no step.
            step = np.array([g[0] / H[0, 0] if H[0, 0] > 0.0 else 0.0, g[1] / H[1, 1]])
            decrement = float(g @ step)
        else:
            # A focal Hessian can be indefinite: |eigenvalues|, floored, so the step descends.
            evals, evecs = np.linalg.eigh(H)
            scale = max(float(np.max(np.abs(evals))), 1e-300)
            evals = np.maximum(np.abs(evals), 1e-24 * scale)
            coords = evecs.T @ g
            step_coords = np.where(np.abs(coords) > 0.0, coords / evals, 0.0)
            step = evecs @ step_coords
            decrement = float(coords @ step_coords)
        step[1] -= u_bar * step[0]  # back to (a, c), and the gradient with it
        g = np.array([g[0] + u_bar * g[1], g[1]])
        if decrement <= DECREMENT_TOL:
            return a, c, it - 1, True
        if decrement < QUADRATIC_REGION:
            # Newton's quadratic convergence: the full step, no line search (the objective's
            # change is then below its rounding, which an Armijo test could not see).
            if decrement < 1e-14 and decrement > 0.5 * previous:
                return a, c, it - 1, True  # stalled at the rounding of the gradient
            previous = decrement
            a, c = a - float(step[0]), c - float(step[1])
            continue
        # A trust region that may double the weights each step: no wild first jump, yet
        # a gap tiny against the spread of x (|w| needs to grow by many decades) is reached.
        norm = float(np.hypot(step[0], step[1]))
        radius = max(MAX_NEWTON_STEP, 2.0 * math.hypot(a, c))
        if norm > radius:
            step *= radius / norm
        slope = -float(g @ step)
        t = 1.0
        while True:
            a_new, c_new = a - t * float(step[0]), c - t * float(step[1])
            f_new = _objective_u(a_new, c_new, u, y, spec, kappa)
            if f_new <= f + 1e-4 * t * slope or t < 1e-12:
                break
            t *= 0.5
        if not f_new <= f:
            # No decrease even for a tiny step: the objective is flat to rounding here.
            return a, c, it, False
        a, c, f = a_new, c_new, f_new
    return a, c, MAX_NEWTON_ITER, False


def _standardise(x: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(u, mean, std) with u = (x − mean) / std; a constant feature (to rounding) gives u = 0."""
    m = float(np.mean(x))
    s = float(np.std(x))
    if not (math.isfinite(s) and s > 1e-12 * abs(m) and s > 1e-300):
        return np.zeros_like(x), m, 1.0
    return (x - m) / s, m, s


def fit_tipping(x, y, *, l2: float = 0.0, spec: LossSpec | None = None,
                start: tuple[float, float] | None = None) -> TippingFit:
    """Fit p(x) = σ(w x + b) to class labels by Newton's method; see the module docstring.

    x: feature values (n,) in any unit, |x| <= 1e9; y: class labels 0 or 1,
    both classes present (ValueError otherwise). l2 >= 0 penalises w only
    (in 1/unit², so it scales with the unit). A constant feature leaves w
    undetermined without a penalty: the fit then reports w = 0 (no tipping
    point) and b = the best constant logit.

    ``start`` (w, b): where Newton begins when an optimum exists (e.g. the fit
    before an example was dragged: two or three iterations instead of ten);
    the optimum is the same to rounding. Ignored when no optimum exists, so
    where the fit stops then does not depend on it.
    """
    xa, ya = _check_xy(x, y, need_both=True)
    spec = _check_spec(spec)
    l2 = _check_l2(l2)
    sep = check_separation(xa, ya)
    exists = _optimum_exists(xa, ya, spec, l2)
    u, m, s = _standardise(xa)
    kappa = l2 / (s * s)
    a0, c0 = 0.0, 0.0
    if spec == _PLAIN:
        # At a = 0 the best c is the logit of the class-1 share.
        share = float(ya.mean())
        c0 = math.log(share) - math.log1p(-share)
    if start is not None and exists:
        w0, b0 = (_real("start[0]", start[0]), _real("start[1]", start[1]))
        if abs(w0) * max(s, abs(m)) < 1e6 and abs(b0) < 1e6:
            a0, c0 = w0 * s, b0 + w0 * m
    a, c, iterations, met = _newton(u, ya, spec, kappa, a0, c0)
    w = a / s
    b = c - a * m / s
    converged = bool(met and exists)
    se_w = se_b = cov_wb = se_t = None
    if (spec == _PLAIN and l2 == 0.0 and exists and converged
            and not (sep.separable or sep.quasi_separable)):
        cov = _wald_covariance(a, c, u, ya, m, s)
        if cov is not None:
            se_w, se_b, cov_wb = math.sqrt(cov[0, 0]), math.sqrt(cov[1, 1]), float(cov[0, 1])
            se_t = _tipping_point_error(w, b, cov)
    z = w * xa + b
    loss = float(np.mean(loss_from_logits(z, ya, spec)))
    return TippingFit(
        w=float(w), b=float(b), tipping_point=tipping_point_of(w, b), width=width_of(w),
        se_w=se_w, se_b=se_b, separable=sep.separable, converged=converged,
        quasi_separable=sep.quasi_separable, optimum_exists=exists, iterations=iterations,
        loss=loss, objective=loss + 0.5 * l2 * w * w, cov_wb=cov_wb, se_tipping_point=se_t,
    )


def _wald_covariance(a: float, c: float, u: np.ndarray, y: np.ndarray, m: float,
                     s: float) -> np.ndarray | None:
    """Covariance of (w, b): the inverse of the summed-NLL Hessian (plain BCE); None if singular."""
    h = curvature_from_logits(a * u + c, y)
    H = np.array([[float(h @ (u * u)), float(h @ u)], [float(h @ u), float(h.sum())]])
    det = H[0, 0] * H[1, 1] - H[0, 1] * H[1, 0]
    if not (math.isfinite(det) and det > 1e-12 * max(H[0, 0] * H[1, 1], 1e-300)):
        return None  # singular (e.g. a constant feature): no standard errors
    cov_u = np.array([[H[1, 1], -H[0, 1]], [-H[1, 0], H[0, 0]]]) / det
    # (w, b) = J (a, c) with w = a / s, b = c − a m / s.
    J = np.array([[1.0 / s, 0.0], [-m / s, 1.0]])
    cov = J @ cov_u @ J.T
    if not (np.all(np.isfinite(cov)) and cov[0, 0] > 0.0 and cov[1, 1] > 0.0):
        return None
    return cov


def _tipping_point_error(w: float, b: float, cov: np.ndarray) -> float | None:
    """Delta-method error of x* = −b/w: gradient (b/w², −1/w) through the covariance."""
    if w == 0.0:
        return None
    grad = np.array([b / (w * w), -1.0 / w])
    var = float(grad @ cov @ grad)
    return math.sqrt(var) if math.isfinite(var) and var >= 0.0 else None


# ----------------------------------------------------------------------------- SGD


def _sigmoid_scalar(z: float) -> float:
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def sgd_update(w, b, x_i, y_i, lr, spec: LossSpec | None = None, *,
               l2: float = 0.0) -> tuple[float, float, float, float]:
    """One single-example SGD step: returns (w_new, b_new, p_i, grad_z).

    z = w·x_i + b; ``p_i = σ(z)`` (the prediction before the step);
    ``grad_z = ∂L/∂z`` at z (p_i − y_i for plain BCE, ``grad_from_logits``
    otherwise); ``w_new = w − lr (grad_z x_i + l2 w)``, ``b_new = b − lr grad_z``
    (the penalty's gradient joins w's step; l2 = 0 is the seed's step).
    y_i is a label in [0, 1]; lr > 0. ValueError for bad arguments or a step
    that would overflow.
    """
    w = _real("w", w)
    b = _real("b", b)
    x_i = _real("x_i", x_i)
    lr = _real("lr", lr)
    if lr <= 0.0:
        raise ValueError(f"lr (learning rate) must be > 0, got {lr!r}")
    l2 = _check_l2(l2)
    spec = _check_spec(spec)
    y_f = _real("y_i", y_i)
    if not 0.0 <= y_f <= 1.0:
        raise ValueError(f"y_i must be a label in [0, 1], got {y_i!r}")
    return _sgd_kernel(w, b, x_i, y_f, lr, spec, l2)


def _sgd_kernel(w: float, b: float, x_i: float, y_i: float, lr: float, spec: LossSpec,
                l2: float) -> tuple[float, float, float, float]:
    z = w * x_i + b
    if not math.isfinite(z):
        raise ValueError(f"the logit w·x_i + b overflows (w = {w!r}, x_i = {x_i!r})")
    p = _sigmoid_scalar(z)
    if spec == _PLAIN:
        grad = p - y_i
    else:
        grad = float(grad_from_logits(z, y_i, spec))
    w_new = w - lr * (grad * x_i + l2 * w)
    b_new = b - lr * grad
    if not (math.isfinite(w_new) and math.isfinite(b_new)):
        raise ValueError("the step overflows: lr · x_i is too large for these weights")
    return w_new, b_new, p, grad


def sgd_run(w: float, b: float, xs: Sequence[float], ys: Sequence[float], lr: float,
            spec: LossSpec | None = None, *, l2: float = 0.0,
            path: np.ndarray | None = None) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Take one ``sgd_update`` per (xs[k], ys[k]) in order: (w, b, p, grad_z).

    ``p`` and ``grad_z`` (k,) are each step's prediction and ∂L/∂z before its
    update. If ``path`` (k, 2) is given, the (w, b) after each step is written
    into it. Same validation and results as calling ``sgd_update`` k times.
    """
    w = _real("w", w)
    b = _real("b", b)
    lr = _real("lr", lr)
    if lr <= 0.0:
        raise ValueError(f"lr (learning rate) must be > 0, got {lr!r}")
    l2 = _check_l2(l2)
    spec = _check_spec(spec)
    xa = np.asarray(xs, dtype=np.float64).reshape(-1)
    ya = np.asarray(ys, dtype=np.float64).reshape(-1)
    if xa.shape != ya.shape:
        raise ValueError(f"xs and ys must have the same length, got {xa.size} and {ya.size}")
    if not np.all(np.isfinite(xa)):
        raise ValueError("xs must be finite")
    if not np.all((ya >= 0.0) & (ya <= 1.0)):
        raise ValueError("ys must be labels in [0, 1]")
    k = xa.size
    ps = np.empty(k)
    gs = np.empty(k)
    if path is not None and path.shape != (k, 2):
        raise ValueError(f"path must have shape ({k}, 2), got {path.shape}")
    xl, yl = xa.tolist(), ya.tolist()
    for j in range(k):
        w, b, ps[j], gs[j] = _sgd_kernel(w, b, xl[j], yl[j], lr, spec, l2)
        if path is not None:
            path[j, 0] = w
            path[j, 1] = b
    return w, b, ps, gs


# ----------------------------------------------------------------------------- data sets


@dataclass(frozen=True)
class SyntheticSet:
    """How an illustrative data set is generated (all in the feature's units).

    x ~ Uniform(x_low, x_high), rounded to ``decimals``; class 1 with
    probability σ(w_true (x − tipping_true)); ``n`` examples from
    ``numpy.random.default_rng(seed)``.
    """

    key: str
    n: int
    x_low: float
    x_high: float
    tipping_true: float
    w_true: float
    seed: int
    decimals: int = 1

    @property
    def width_true(self) -> float:
        return TWO_LN9 / abs(self.w_true)


#: Grain boundaries: misorientation θ in degrees over 0–62.8° (the largest
#: disorientation between two cubic grains); "special" (1) below ~15°.
GRAIN_BOUNDARIES = SyntheticSet("grain_boundaries", n=60, x_low=0.0, x_high=62.8,
                                tipping_true=15.0, w_true=-0.4, seed=13)
#: DNA terminators: ΔG of the terminator hairpin in kcal/mol over −25 to −3;
#: "works" (1) below ~−12 kcal/mol (a more stable hairpin terminates).
TERMINATORS = SyntheticSet("terminators", n=60, x_low=-25.0, x_high=-3.0,
                           tipping_true=-12.0, w_true=-0.6, seed=7)


def make_synthetic(params: SyntheticSet) -> tuple[np.ndarray, np.ndarray]:
    """The seeded illustrative data (x, y) of ``params``; y holds 0/1, both classes present."""
    rng = np.random.default_rng(params.seed)
    x = np.round(rng.uniform(params.x_low, params.x_high, params.n), params.decimals)
    p = 1.0 / (1.0 + np.exp(-params.w_true * (x - params.tipping_true)))
    y = (rng.random(params.n) < p).astype(np.float64)
    return x, y


# ----------------------------------------------------------------------------- loss surface


def surface_values(x, y, w_values, b_values, *, l2: float = 0.0,
                   spec: LossSpec | None = None) -> np.ndarray:
    """The objective over a (w, b) grid, brute force: rows = b, columns = w, nats.

    values[j, i] = mean_k loss_from_logits(w_values[i] x_k + b_values[j], y_k) + l2/2 w_values[i]².
    The reference for :class:`TippingSurface`; O(len(w) · len(b) · n) memory per
    block of examples.
    """
    xa, ya = _check_xy(x, y, need_both=False)
    spec = _check_spec(spec)
    l2 = _check_l2(l2)
    wv = np.asarray(w_values, dtype=np.float64).reshape(-1)
    bv = np.asarray(b_values, dtype=np.float64).reshape(-1)
    out = np.zeros((bv.size, wv.size))
    for k in range(xa.size):
        z = bv[:, None] + wv[None, :] * xa[k]
        out += loss_from_logits(z, ya[k], spec)
    if xa.size:
        out /= xa.size
    return out + 0.5 * l2 * wv[None, :] ** 2


class TippingSurface:
    """The objective over a fixed (w, b) grid, kept current while examples are edited.

    ``values`` (len(b_values), len(w_values)): rows = b, columns = w, mean loss
    in nats plus l2/2 w², equal to :func:`surface_values`. For γ = 0 (no
    focal exponent) the surface keeps four float64 sums over the grid,
    Σ softplus(±z) over each class, so a change of label smoothing,
    pos_weight, focal α or l2 costs O(G²) and an edit of one example (move,
    flip, add, delete) subtracts its old grid and adds its new one, O(G²).
    With γ > 0 each edit still costs O(G²) (the per-example focal grid), and
    a spec change recomputes O(G² n). The sums are rebuilt after every
    ``REBUILD_EVERY`` edits so rounding cannot accumulate. Empty data: the
    surface is the penalty alone.
    """

    REBUILD_EVERY = 500

    def __init__(self, x, y, w_values, b_values, *, l2: float = 0.0,
                 spec: LossSpec | None = None) -> None:
        xa, ya = _check_xy(x, y, need_both=False)
        self._x = list(xa.tolist())
        self._y = list(ya.tolist())
        self.w_values = np.array(w_values, dtype=np.float64).reshape(-1)
        self.b_values = np.array(b_values, dtype=np.float64).reshape(-1)
        if self.w_values.size < 2 or self.b_values.size < 2:
            raise ValueError("w_values and b_values need at least 2 grid points each")
        if not (np.all(np.isfinite(self.w_values)) and np.all(np.isfinite(self.b_values))):
            raise ValueError("w_values and b_values must be finite")
        self.spec = _check_spec(spec)
        self.l2 = _check_l2(l2)
        self._edits = 0
        self._values: np.ndarray | None = None
        self._rebuild()

    # -- pieces
    def _sp_pair(self, x: float) -> tuple[np.ndarray, np.ndarray]:
        z = self.b_values[:, None] + self.w_values[None, :] * x
        return softplus_pair(z)  # sp(z), sp(-z), from the one stable implementation

    def _focal_grid(self, x: float, y: float) -> np.ndarray:
        z = self.b_values[:, None] + self.w_values[None, :] * x
        return loss_from_logits(z, y, self.spec)

    def _rebuild(self) -> None:
        shape = (self.b_values.size, self.w_values.size)
        # sums[c] = (Σ_{y=c} softplus(z), Σ_{y=c} softplus(−z))
        self._sums = [[np.zeros(shape), np.zeros(shape)], [np.zeros(shape), np.zeros(shape)]]
        self._focal = np.zeros(shape) if self.spec.focal_gamma != 0.0 else None
        for x, y in zip(self._x, self._y):
            self._add(x, y, +1.0)
        self._edits = 0
        self._values = None

    def _add(self, x: float, y: float, sign: float) -> None:
        sp_pos, sp_neg = self._sp_pair(x)
        pair = self._sums[int(y)]
        pair[0] += sign * sp_pos
        pair[1] += sign * sp_neg
        if self._focal is not None:
            self._focal += sign * self._focal_grid(x, y)
        self._values = None

    def _edited(self) -> None:
        self._edits += 1
        if self._edits >= self.REBUILD_EVERY:
            self._rebuild()

    # -- edits
    @property
    def n(self) -> int:
        return len(self._x)

    def _check_index(self, i: int) -> int:
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < self.n:
            raise ValueError(f"i must be an index in [0, {self.n - 1}], got {i!r}")
        return int(i)

    def _check_point(self, x, y) -> tuple[float, float]:
        xv = _real("x", x)
        if abs(xv) > MAX_ABS_FEATURE:
            raise ValueError(f"x must be within ±{MAX_ABS_FEATURE:g}, got {x!r}")
        yv = _real("y", y)
        if yv not in (0.0, 1.0):
            raise ValueError(f"y must be a class label 0 or 1, got {y!r}")
        return xv, yv

    def move_point(self, i: int, x_new: float) -> None:
        i = self._check_index(i)
        xv, _ = self._check_point(x_new, self._y[i])
        self._add(self._x[i], self._y[i], -1.0)
        self._x[i] = xv
        self._add(xv, self._y[i], +1.0)
        self._edited()

    def set_label(self, i: int, y_new: float) -> None:
        i = self._check_index(i)
        _, yv = self._check_point(self._x[i], y_new)
        if yv == self._y[i]:
            return
        self._add(self._x[i], self._y[i], -1.0)
        self._y[i] = yv
        self._add(self._x[i], yv, +1.0)
        self._edited()

    def add_point(self, x: float, y: float) -> None:
        xv, yv = self._check_point(x, y)
        self._x.append(xv)
        self._y.append(yv)
        self._add(xv, yv, +1.0)
        self._edited()

    def remove_point(self, i: int) -> None:
        i = self._check_index(i)
        x, y = self._x.pop(i), self._y.pop(i)
        if self.n == 0:
            self._rebuild()
            return
        self._add(x, y, -1.0)
        self._edited()

    def set_spec(self, spec: LossSpec) -> None:
        spec = _check_spec(spec)
        if spec == self.spec:
            return
        focal_changed = spec.focal_gamma != 0.0 or self.spec.focal_gamma != 0.0
        self.spec = spec
        if focal_changed:
            self._rebuild()
        self._values = None

    def set_l2(self, l2: float) -> None:
        self.l2 = _check_l2(l2)
        self._values = None

    # -- result
    @property
    def values(self) -> np.ndarray:
        if self._values is None:
            self._values = self._combine()
        return self._values

    def _combine(self) -> np.ndarray:
        penalty = 0.5 * self.l2 * self.w_values[None, :] ** 2
        n = self.n
        if n == 0:
            return np.broadcast_to(penalty, (self.b_values.size, self.w_values.size)).copy()
        spec = self.spec
        if self._focal is not None:
            total = self._focal
        else:
            total = np.zeros((self.b_values.size, self.w_values.size))
            for label in (0, 1):
                sp_pos, sp_neg = self._sums[label]
                ys = float(smooth_labels(float(label), spec.label_smoothing))
                alpha_t = 1.0 if spec.focal_alpha is None else \
                    spec.focal_alpha * ys + (1.0 - spec.focal_alpha) * (1.0 - ys)
                c_neg = alpha_t * spec.pos_weight * ys  # weight of softplus(−z) = −log p
                c_pos = alpha_t * (1.0 - ys)  # weight of softplus(z) = −log(1 − p)
                if c_neg:
                    total = total + c_neg * sp_neg
                if c_pos:
                    total = total + c_pos * sp_pos
        # Incremental sums can dip a hair below zero by rounding; a loss never does.
        return np.maximum(total / n, 0.0) + penalty


