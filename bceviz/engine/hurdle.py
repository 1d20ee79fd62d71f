"""The hurdle model for counts with many zeros: a BCE yes/no part, then a zero-truncated Poisson.

A person's count y (doctor visits in a year, reads of a gene) is modelled in
two separate parts, each with its own linear predictor on the covariates X:

* **zero part** (the hurdle): P(y > 0) = π = σ(z), z = X·w_zero + b_zero, a
  logistic regression of 1[y > 0] trained with plain binary cross-entropy
  (statsmodels ``Logit(counts > 0, add_constant(X))``);
* **count part**, only for those with y > 0: a zero-truncated Poisson with
  log link, μ = exp(η), η = X·w_count + b_count,
  P(y | y > 0) = μ^y e^(−μ) / (y! (1 − e^(−μ))) (statsmodels
  ``TruncatedLFPoisson(counts[counts > 0], add_constant(X[counts > 0]))``).

Its log-likelihood is the sum of the parts' (the parameters never meet, so
the parts train independently: the Hessian is block diagonal, as in the
multi-label lab). Plain Poisson regression (statsmodels ``Poisson``) is the
model the hurdle is compared with.

Units and conventions:

* log-likelihoods are full ones in nats, the log y! terms included (they
  equal statsmodels' ``llf``); the live "losses" are negative
  log-likelihoods per person, every part divided by the number of people n
  (the count part sums over those with y > 0 only), so
  ``part_loss("zero") + part_loss("count") == -hurdle loglik / n``;
* ``X`` is (n, d) float64 covariates in any units, ``counts`` (n,)
  non-negative whole numbers (given as ints or integral floats);
* weights ``w`` are (d,), biases ``b`` floats, in the units of the ``X``
  passed in. The fitting functions standardise internally (Newton is
  affine-invariant, standardising only improves the conditioning) and return
  weights in the units of ``X``.

Stability: the BCE part goes through :func:`bceviz.engine.losses.loss_from_logits`
(finite for any finite logit); the truncation term log(1 − e^(−μ)) uses
log(−expm1(−μ)) for μ ≤ ln 2 and log1p(−e^(−μ)) above, and η itself where
μ = e^η underflows, so it is finite for every finite η below ~709 (where
e^η itself overflows; the live training never takes a step whose loss is not
finite). The truncated mean μ / (1 − e^(−μ)) tends to 1 as μ → 0.

Edge cases: data without any zero or without any positive count makes the
hurdle's maximum-likelihood estimate not exist (the zero part's bias runs to
±∞): :func:`fit_hurdle` refuses it. Data the zero part separates perfectly
(e.g. every person above some age visits) also has no finite estimate: the
fit stops after ``max_iter`` Newton steps with large finite weights and
``converged=False``. A constant covariate column is collinear with the
intercept: the fits refuse it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from bceviz.engine.losses import curvature_from_logits, grad_from_logits, loss_from_logits, sigmoid

__all__ = [
    "MAX_COUNT",
    "METHODS",
    "PARTS",
    "VISITS_DEFAULTS",
    "HurdleFit",
    "PartStep",
    "VisitsData",
    "count_part_loglik",
    "expected_frequencies_hurdle",
    "expected_frequencies_poisson",
    "fit_hurdle",
    "fit_poisson",
    "hurdle_loglik",
    "log1mexp",
    "log_factorial",
    "make_doctor_visits",
    "observed_frequencies",
    "part_gradient",
    "part_hessian",
    "part_loss",
    "part_step",
    "poisson_loglik",
    "poisson_logpmf",
    "poisson_pmf_table",
    "truncated_poisson_logpmf",
    "truncated_poisson_mean",
    "truncated_poisson_variance",
    "validate_counts",
    "zero_part_loglik",
    "zero_part_losses",
]

#: The three separately trained parts: the hurdle's zero and count parts, and plain Poisson.
PARTS: tuple[str, ...] = ("zero", "count", "poisson")
#: Live-training methods: a gradient step (with step halving) or a Newton step.
METHODS: tuple[str, ...] = ("gradient", "newton")
#: The largest count accepted (a year of daily visits is 365; reads of a gene can be more).
MAX_COUNT = 100_000
#: Below this η, μ = e^η is so small that log(1 − e^(−μ)) = η − μ/2 to double precision.
_ETA_TINY = -20.0
_LN2 = math.log(2.0)
#: log(k!) for k = 0..1000 (math.lgamma: each entry correctly rounded, no accumulated sums).
_LOGFACT_TABLE = np.array([math.lgamma(k + 1.0) for k in range(1001)])


# --------------------------------------------------------------------------- validation
def _as_covariates(X) -> np.ndarray:
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(f"X must have shape (n, d) with d >= 1, got {np.shape(X)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("X must be finite (no NaN or infinity)")
    return arr


def validate_counts(counts, n: int | None = None) -> np.ndarray:
    """``counts`` as a float64 (n,) array of whole numbers in [0, MAX_COUNT]; ValueError if not."""
    arr = np.asarray(counts, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"counts must be one-dimensional, got shape {np.shape(counts)}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"counts must have length {n} (the rows of X), got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("counts must be finite (no NaN or infinity)")
    if np.any(arr < 0) or np.any(arr > MAX_COUNT):
        raise ValueError(f"counts must be whole numbers in [0, {MAX_COUNT:,}]")
    if np.any(arr != np.floor(arr)):
        raise ValueError(f"counts must be whole numbers in [0, {MAX_COUNT:,}] (no fractions)")
    return arr


def _check_params(w, b, d: int, name: str) -> tuple[np.ndarray, float]:
    wv = np.asarray(w, dtype=np.float64).reshape(-1)
    if wv.shape != (d,):
        raise ValueError(f"{name}_w must have shape ({d},) to match X, got {np.shape(w)}")
    bv = float(b)
    if not (np.all(np.isfinite(wv)) and math.isfinite(bv)):
        raise ValueError(f"{name}_w and {name}_b must be finite")
    return wv, bv


def _data(X, counts) -> tuple[np.ndarray, np.ndarray]:
    Xa = _as_covariates(X)
    return Xa, validate_counts(counts, Xa.shape[0])


# --------------------------------------------------------------------------- elementary pieces
def log_factorial(counts) -> np.ndarray:
    """log(y!) of whole numbers y >= 0 (math.lgamma values: a table up to 1,000, exact to rounding)."""
    arr = np.asarray(counts, dtype=np.float64)
    if arr.size == 0:
        return np.zeros(arr.shape)
    if float(arr.max()) <= _LOGFACT_TABLE.size - 1:
        return _LOGFACT_TABLE[arr.astype(np.int64)]
    values, inverse = np.unique(arr, return_inverse=True)
    table = np.array([math.lgamma(v + 1.0) for v in values.tolist()])
    return table[inverse].reshape(arr.shape)


def log1mexp(mu) -> np.ndarray:
    """log(1 − e^(−μ)) for μ >= 0, accurate to full relative precision (Mächler's rule).

    log(−expm1(−μ)) for μ <= ln 2, log1p(−e^(−μ)) above; −inf at μ = 0.
    """
    m = np.asarray(mu, dtype=np.float64)
    small = m <= _LN2
    with np.errstate(divide="ignore"):
        return np.where(small, np.log(-np.expm1(-np.where(small, m, 1.0))),
                        np.log1p(-np.exp(-np.where(small, 1.0, m))))


def _log1mexp_of_eta(eta: np.ndarray) -> np.ndarray:
    """log(1 − e^(−μ)) with μ = e^η, finite for every η (η − μ/2 where μ underflows)."""
    tiny = eta < _ETA_TINY
    mu = np.exp(np.where(tiny, _ETA_TINY, eta))
    out = log1mexp(mu)
    if np.any(tiny):
        out = np.where(tiny, eta - 0.5 * np.exp(np.minimum(eta, _ETA_TINY)), out)
    return out


def truncated_poisson_mean(eta) -> np.ndarray:
    """E[y | y > 0] = μ / (1 − e^(−μ)) with μ = e^η; in [1, ∞), 1 + μ/2 as μ → 0."""
    e = np.asarray(eta, dtype=np.float64)
    mu = np.exp(e)
    small = mu < 1e-8
    safe = np.where(small, 1.0, mu)
    return np.where(small, 1.0 + 0.5 * mu, safe / -np.expm1(-safe))


def truncated_poisson_variance(eta) -> np.ndarray:
    """Var[y | y > 0] = m (1 + μ − m), m the truncated mean; μ/2 + O(μ²) as μ → 0 (no cancellation)."""
    e = np.asarray(eta, dtype=np.float64)
    mu = np.exp(e)
    m = truncated_poisson_mean(e)
    # 1 + μ − m = 1 − μ/(e^μ − 1): a series for small μ, where the difference cancels.
    small = mu < 1e-3
    series = mu / 2.0 - mu**2 / 12.0 + mu**4 / 720.0
    direct = 1.0 + mu - m
    return m * np.where(small, series, direct)


def truncated_poisson_logpmf(counts, eta) -> np.ndarray:
    """log P(y | y > 0) = y η − μ − log y! − log(1 − e^(−μ)), per person, for counts y >= 1."""
    y = np.asarray(counts, dtype=np.float64)
    e = np.asarray(eta, dtype=np.float64)
    return y * e - np.exp(e) - log_factorial(y) - _log1mexp_of_eta(e)


def poisson_logpmf(counts, eta) -> np.ndarray:
    """log P(y) = y η − μ − log y! of a Poisson with μ = e^η, per person."""
    y = np.asarray(counts, dtype=np.float64)
    e = np.asarray(eta, dtype=np.float64)
    return y * e - np.exp(e) - log_factorial(y)


# --------------------------------------------------------------------------- log-likelihoods
def zero_part_losses(X, counts, w, b) -> np.ndarray:
    """Per-person BCE (nats) of the zero part: loss_from_logits(X·w + b, 1[y > 0])."""
    Xa, y = _data(X, counts)
    wv, bv = _check_params(w, b, Xa.shape[1], "zero")
    return loss_from_logits(Xa @ wv + bv, (y > 0).astype(np.float64))


def zero_part_loglik(X, counts, w, b) -> float:
    """Log-likelihood of the zero part (nats): −Σ BCE; statsmodels ``Logit(...).loglike``."""
    return -float(np.sum(zero_part_losses(X, counts, w, b)))


def count_part_loglik(X, counts, w, b) -> float:
    """Log-likelihood of the count part over people with y > 0 (nats, log y! included)."""
    Xa, y = _data(X, counts)
    wv, bv = _check_params(w, b, Xa.shape[1], "count")
    pos = y > 0
    return float(np.sum(truncated_poisson_logpmf(y[pos], Xa[pos] @ wv + bv)))


def poisson_loglik(X, counts, w, b) -> float:
    """Log-likelihood of plain Poisson regression (nats, log y! included)."""
    Xa, y = _data(X, counts)
    wv, bv = _check_params(w, b, Xa.shape[1], "poisson")
    return float(np.sum(poisson_logpmf(y, Xa @ wv + bv)))


def hurdle_loglik(X, counts, zero_w, zero_b, count_w, count_b) -> tuple[float, float, float]:
    """(total, zero part, count part) log-likelihoods in nats; total = zero + count."""
    z = zero_part_loglik(X, counts, zero_w, zero_b)
    c = count_part_loglik(X, counts, count_w, count_b)
    return z + c, z, c


# --------------------------------------------------------------------------- per-part objective
def _check_part(part: str) -> str:
    if part not in PARTS:
        raise ValueError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
    return part


def _part_terms(part: str, Xa: np.ndarray, y: np.ndarray, w: np.ndarray, b: float,
                need: int) -> tuple:
    """(sum of negative log-likelihood, residual r, curvature c, rows used) for one part.

    The gradient of the summed objective in (w, b) is (A^T r) with A = [X, 1] on
    the rows used; the Hessian A^T diag(c) A. ``need``: 0 value only, 1 + r, 2 + c.
    """
    if part == "count":
        rows = y > 0
        Xr, yr = Xa[rows], y[rows]
        eta = Xr @ w + b
        value = -float(np.sum(truncated_poisson_logpmf(yr, eta)))
        r = truncated_poisson_mean(eta) - yr if need >= 1 else None
        c = truncated_poisson_variance(eta) if need >= 2 else None
        return value, r, c, Xr
    z = Xa @ w + b
    if part == "zero":
        labels = (y > 0).astype(np.float64)
        value = float(np.sum(loss_from_logits(z, labels)))
        r = grad_from_logits(z, labels) if need >= 1 else None
        c = curvature_from_logits(z, labels) if need >= 2 else None
        return value, r, c, Xa
    with np.errstate(over="ignore"):
        value = -float(np.sum(poisson_logpmf(y, z)))
        mu = np.exp(z) if need >= 1 else None
    r = mu - y if mu is not None else None
    return value, r, mu if need >= 2 else None, Xa


def part_loss(part: str, X, counts, w, b) -> float:
    """One part's negative log-likelihood per person (nats / person; summed then divided by n).

    ``part``: ``"zero"`` (mean BCE), ``"count"`` (truncated Poisson, summed over
    y > 0, divided by all n), ``"poisson"`` (plain Poisson). inf when e^η overflows.
    """
    _check_part(part)
    Xa, y = _data(X, counts)
    wv, bv = _check_params(w, b, Xa.shape[1], part)
    with np.errstate(over="ignore", invalid="ignore"):
        value = _part_terms(part, Xa, y, wv, bv, 0)[0]
    return value / Xa.shape[0] if math.isfinite(value) else math.inf


def part_gradient(part: str, X, counts, w, b) -> tuple[np.ndarray, float]:
    """(∂/∂w, ∂/∂b) of :func:`part_loss` (per person): mean of r·x and r, r = p − y for the zero part,
    E[y | y > 0] − y for the count part, μ − y for plain Poisson."""
    _check_part(part)
    Xa, y = _data(X, counts)
    wv, bv = _check_params(w, b, Xa.shape[1], part)
    _, r, _, Xr = _part_terms(part, Xa, y, wv, bv, 1)
    n = Xa.shape[0]
    return Xr.T @ r / n, float(np.sum(r)) / n


def part_hessian(part: str, X, counts, w, b) -> np.ndarray:
    """Hessian of :func:`part_loss` in [w (d), b], shape (d + 1, d + 1)."""
    _check_part(part)
    Xa, y = _data(X, counts)
    wv, bv = _check_params(w, b, Xa.shape[1], part)
    _, _, c, Xr = _part_terms(part, Xa, y, wv, bv, 2)
    A = np.column_stack([Xr, np.ones(Xr.shape[0])])
    return (A.T * c) @ A / Xa.shape[0]


@dataclass(frozen=True)
class PartStep:
    """One training step of one part: the new weights, the loss after it, the step size used.

    ``loss`` is :func:`part_loss` at ``(w, b)`` (nats / person); ``step_size`` is
    the learning rate (gradient) or the Newton step's fraction actually taken
    after halving (0 when no step lowered the loss: the weights are unchanged);
    ``grad_norm`` is the largest |gradient component| before the step.
    """

    w: np.ndarray
    b: float
    loss: float
    step_size: float
    grad_norm: float


def _solve(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    try:
        step = np.linalg.solve(H, g)
        if np.all(np.isfinite(step)):
            return step
    except np.linalg.LinAlgError:
        pass
    return np.linalg.lstsq(H, g, rcond=None)[0]


def part_step(part: str, X, counts, w, b, *, method: str = "gradient", lr: float = 0.5,
              max_halvings: int = 40) -> PartStep:
    """One step on :func:`part_loss` from (w, b): gradient descent with rate ``lr`` or a Newton step.

    The step is halved (up to ``max_halvings`` times) until the loss does not
    rise and stays finite, so a too-large rate slows training down rather than
    diverging; if no step is acceptable the weights stay as they are
    (``step_size = 0``). ``lr`` in (0, 100]; a Newton step ignores it.
    """
    _check_part(part)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    lr = float(lr)
    if not (math.isfinite(lr) and 0.0 < lr <= 100.0):
        raise ValueError(f"lr must be in (0, 100], got {lr!r}")
    Xa, y = _data(X, counts)
    wv, bv = _check_params(w, b, Xa.shape[1], part)
    n = Xa.shape[0]
    need = 2 if method == "newton" else 1
    with np.errstate(over="ignore", invalid="ignore"):
        value, r, c, Xr = _part_terms(part, Xa, y, wv, bv, need)
    theta = np.append(wv, bv)
    grad = np.append(Xr.T @ r, np.sum(r)) / n
    loss0 = value / n
    grad_norm = float(np.max(np.abs(grad))) if grad.size else 0.0
    if method == "newton":
        A = np.column_stack([Xr, np.ones(Xr.shape[0])])
        direction = _solve((A.T * c) @ A / n, grad)
        size = 1.0
    else:
        direction = grad
        size = lr
    for _ in range(max_halvings + 1):
        cand = theta - size * direction
        if np.all(np.isfinite(cand)):
            with np.errstate(over="ignore", invalid="ignore"):
                loss = _part_terms(part, Xa, y, cand[:-1], float(cand[-1]), 0)[0] / n
            if math.isfinite(loss) and loss <= loss0:
                return PartStep(cand[:-1].copy(), float(cand[-1]), float(loss), float(size),
                                grad_norm)
        size *= 0.5
    return PartStep(wv.copy(), bv, float(loss0), 0.0, grad_norm)


# --------------------------------------------------------------------------- fitting
def _standardise(Xa: np.ndarray, name: str = "X") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = Xa.mean(axis=0)
    std = Xa.std(axis=0)
    tiny = 1e-12 * np.maximum(1.0, np.abs(mean))
    if np.any(std <= tiny):
        j = int(np.flatnonzero(std <= tiny)[0])
        raise ValueError(f"{name} column {j} is constant: it cannot be told apart from the "
                         "intercept (every covariate must vary)")
    return (Xa - mean) / std, mean, std


def _to_original(ws: np.ndarray, bs: float, mean: np.ndarray, std: np.ndarray
                 ) -> tuple[np.ndarray, float]:
    w = ws / std
    return w, float(bs - np.dot(w, mean))


def _newton_fit(part: str, Xs: np.ndarray, y: np.ndarray, theta0: np.ndarray,
                max_iter: int, tol: float) -> tuple[np.ndarray, bool]:
    """Newton with step halving to convergence on standardised covariates.

    Converged when the full Newton step is below ``tol`` (relative to the
    weights' size). Not the gradient: where no finite optimum exists
    (separated zeros) the gradient vanishes as the weights grow, but the
    Newton step does not shrink.
    """
    theta = theta0.astype(np.float64).copy()
    for _ in range(max_iter):
        w, b = theta[:-1], float(theta[-1])
        g = np.append(*part_gradient(part, Xs, y, w, b))
        direction = _solve(part_hessian(part, Xs, y, w, b), g)
        if float(np.max(np.abs(direction))) < tol * (1.0 + float(np.max(np.abs(theta)))):
            return theta - direction, True
        st = part_step(part, Xs, y, w, b, method="newton")
        if st.step_size == 0.0:  # no descent possible: the optimum to rounding, or none
            return theta, float(np.max(np.abs(direction))) < 1e-6 * (1.0 + float(
                np.max(np.abs(theta))))
        theta = np.append(st.w, st.b)
    return theta, False


def _fit_part(part: str, Xa: np.ndarray, y: np.ndarray, max_iter: int, tol: float
              ) -> tuple[np.ndarray, float, bool]:
    Xs, mean, std = _standardise(Xa)
    d = Xa.shape[1]
    theta0 = np.zeros(d + 1)
    if part == "zero":
        share = float(np.mean(y > 0))
        theta0[-1] = math.log(share / (1.0 - share))
    elif part == "poisson":
        theta0[-1] = math.log(max(float(np.mean(y)), 1e-3))
    else:
        theta0[-1] = math.log(max(float(np.mean(y[y > 0])) - 0.5, 0.1))
    theta, converged = _newton_fit(part, Xs, y, theta0, max_iter, tol)
    w, b = _to_original(theta[:-1], float(theta[-1]), mean, std)
    return w, b, converged


@dataclass(frozen=True)
class HurdleFit:
    """The hurdle model's maximum-likelihood fit, in the units of the X given.

    ``zero_w`` (d,), ``zero_b``: the zero part's logistic regression, P(y > 0) =
    σ(X·zero_w + zero_b). ``count_w`` (d,), ``count_b``: the zero-truncated
    Poisson's log-mean, μ = exp(X·count_w + count_b). Log-likelihoods in nats,
    log y! included: ``loglik = zero_loglik + count_loglik``. ``converged``
    is False when either part's Newton iteration hit ``max_iter`` (no finite
    optimum, e.g. separated zeros).
    """

    zero_w: np.ndarray
    zero_b: float
    count_w: np.ndarray
    count_b: float
    loglik: float
    zero_loglik: float
    count_loglik: float
    converged: bool = field(default=True)


def fit_hurdle(X, counts, *, max_iter: int = 100, tol: float = 1e-10) -> HurdleFit:
    """Fit both parts of the hurdle model by Newton's method (unpenalised maximum likelihood).

    ``X`` (n, d) covariates (each column must vary), ``counts`` (n,) whole
    numbers >= 0 with at least one zero and one positive count (else ValueError:
    the zero part would have no finite optimum, the count part no data).
    ``tol``: the largest Newton step (relative to 1 + the largest weight) taken as converged.
    """
    Xa, y = _data(X, counts)
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter!r}")
    n_pos = int(np.count_nonzero(y > 0))
    if n_pos == 0 or n_pos == y.size:
        raise ValueError("counts must include both zeros and positive counts for a hurdle fit "
                         f"(got {y.size - n_pos} zeros and {n_pos} positive counts)")
    zw, zb, zc = _fit_part("zero", Xa, y, max_iter, tol)
    pos = y > 0
    if n_pos < 2 or np.any(np.ptp(Xa[pos], axis=0) == 0):
        raise ValueError("the count part needs covariates that vary among the people with "
                         "positive counts")
    cw, cb, cc = _fit_part("count", Xa, y, max_iter, tol)
    total, zll, cll = hurdle_loglik(Xa, y, zw, zb, cw, cb)
    return HurdleFit(zw, zb, cw, cb, total, zll, cll, bool(zc and cc))


def fit_poisson(X, counts, *, max_iter: int = 100, tol: float = 1e-10
                ) -> tuple[np.ndarray, float, float]:
    """Plain Poisson regression by Newton's method: (w, b, loglik), loglik in nats with log y!.

    Equals statsmodels ``Poisson(counts, add_constant(X)).fit()``. All-zero
    counts have no finite optimum (b → −∞): the fit returns a large negative b.
    """
    Xa, y = _data(X, counts)
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter!r}")
    w, b, _ = _fit_part("poisson", Xa, y, max_iter, tol)
    return w, b, poisson_loglik(Xa, y, w, b)


# --------------------------------------------------------------------------- expected frequencies
def poisson_pmf_table(eta, max_count: int) -> np.ndarray:
    """P(y = k) for k = 0..max_count of Poissons with μ = e^η: shape (n, max_count + 1).

    Computed in log space (k η − μ − log k!), so large μ neither overflows nor
    loses the small probabilities.
    """
    e = np.asarray(eta, dtype=np.float64).reshape(-1)
    K = int(max_count)
    if K < 0:
        raise ValueError(f"max_count must be >= 0, got {max_count!r}")
    k = np.arange(K + 1, dtype=np.float64)
    log_kfact = np.array([math.lgamma(v + 1.0) for v in k.tolist()])
    with np.errstate(over="ignore"):
        mu = np.exp(e)
    logp = np.outer(e, k) - mu[:, None] - log_kfact[None, :]
    return np.exp(logp)


def _check_max_count(max_count) -> int:
    whole = isinstance(max_count, (int, np.integer)) and not isinstance(max_count, bool)
    if not (whole and 0 <= int(max_count) <= 10_000):
        raise ValueError(f"max_count must be a whole number in [0, 10,000], got {max_count!r}")
    return int(max_count)


def expected_frequencies_poisson(X, w, b, max_count: int) -> np.ndarray:
    """Expected number of people with each count k = 0..max_count under plain Poisson: Σ_i P_i(k)."""
    Xa = _as_covariates(X)
    wv, bv = _check_params(w, b, Xa.shape[1], "poisson")
    K = _check_max_count(max_count)
    return poisson_pmf_table(Xa @ wv + bv, K).sum(axis=0)


def expected_frequencies_hurdle(X, zero_w, zero_b, count_w, count_b, max_count: int
                                ) -> np.ndarray:
    """Expected number of people with each count k = 0..max_count under the hurdle model.

    k = 0: Σ (1 − π_i); k >= 1: Σ π_i P_i(k) / (1 − e^(−μ_i)), with π_i = σ(z_i)
    the zero part's P(y > 0) and μ_i = exp(η_i) the count part's mean before truncation.
    """
    Xa = _as_covariates(X)
    zw, zb = _check_params(zero_w, zero_b, Xa.shape[1], "zero")
    cw, cb = _check_params(count_w, count_b, Xa.shape[1], "count")
    K = _check_max_count(max_count)
    z = Xa @ zw + zb
    pi = sigmoid(z)
    out = np.zeros(K + 1)
    out[0] = float(np.sum(sigmoid(-z)))  # 1 − π without cancellation
    if K >= 1:
        eta = Xa @ cw + cb
        table = poisson_pmf_table(eta, K)[:, 1:]
        norm = np.exp(-_log1mexp_of_eta(eta))  # 1 / (1 − e^(−μ))
        out[1:] = (pi * norm) @ table
    return out


def observed_frequencies(counts, max_count: int) -> np.ndarray:
    """Number of people with each count k = 0..max_count (counts above it are not included)."""
    y = validate_counts(counts)
    K = _check_max_count(max_count)
    y = y[y <= K].astype(np.int64)
    return np.bincount(y, minlength=K + 1).astype(np.float64)


# --------------------------------------------------------------------------- synthetic data
#: Defaults of :func:`make_doctor_visits` (the stated generating parameters).
VISITS_DEFAULTS: dict[str, float] = {
    "n": 1000,
    "extra_zeros": 0.4,
    "count_strength": 1.0,
    "seed": 7,
    "age_min": 18,
    "age_max": 85,
    "chronic_base": 0.2,
    "chronic_per_year": 0.045,
    "chronic_max": 8,
    "visits_at_reference": 2.5,
    "count_age_effect": 0.12,
    "count_chronic_effect": 0.25,
    "never_age_effect": -0.25,
    "never_chronic_effect": -0.5,
    "reference_age": 50,
    "reference_chronic": 1.5,
}


@dataclass(frozen=True, eq=False)
class VisitsData:
    """A synthetic "doctor visits" data set (illustrative; see :func:`make_doctor_visits`).

    ``X`` (n, 2): age in years, number of chronic conditions; ``counts`` (n,)
    visits in a year; ``never`` (n,) bool: the people drawn as never-visitors
    (the extra zeros); ``params``: every generating parameter.
    """

    X: np.ndarray
    counts: np.ndarray
    never: np.ndarray
    params: dict
    feature_names: tuple[str, str] = ("age", "chronic conditions")
    feature_units: tuple[str, str] = ("years", "number")
    count_name: str = "visits"


def _poisson_quantile(mu: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Smallest k with P(Y <= k) >= u for Poisson(μ) (inverse transform; same u, monotone in μ)."""
    K = int(max(20.0, float(np.max(mu)) + 12.0 * math.sqrt(float(np.max(mu))) + 12.0))
    cdf = np.cumsum(poisson_pmf_table(np.log(mu), K), axis=1)
    k = np.argmax(cdf >= u[:, None], axis=1)
    k[cdf[:, -1] < u] = K
    return k.astype(np.float64)


def make_doctor_visits(n: int = 1000, *, extra_zeros: float = 0.4, count_strength: float = 1.0,
                       seed: int = 7) -> VisitsData:
    """A seeded synthetic "doctor visits in a year" data set with extra zeros (illustrative).

    For each of ``n`` people (10..5,000):

    * age ~ uniform whole years 18..85;
    * chronic conditions ~ Poisson(0.2 + 0.045 · (age − 18)), at most 8;
    * Poisson mean μ = 2.5 · exp(s · (0.12 · (age − 50)/10 + 0.25 · (chronic − 1.5))),
      s = ``count_strength`` in [0, 2] (0: visits do not depend on the covariates);
    * never-visitor (an extra zero) with probability
      q = σ(c − 0.25 · (age − 50)/10 − 0.5 · (chronic − 1.5)), c chosen so the
      mean of q over the people is exactly ``extra_zeros`` in [0, 0.95]
      (0: no extra zeros, the data are plain Poisson);
    * visits = 0 for a never-visitor, else a Poisson(μ) draw.

    The uniform draws behind each person's covariates, never-visitor coin and
    Poisson draw are fixed by ``seed``, so moving ``extra_zeros`` or
    ``count_strength`` changes only the people at the margin (common random
    numbers: a slider moves the histogram smoothly).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 10 <= n <= 5000:
        raise ValueError(f"n must be a whole number in [10, 5,000], got {n!r}")
    ez = float(extra_zeros)
    if not (math.isfinite(ez) and 0.0 <= ez <= 0.95):
        raise ValueError(f"extra_zeros must be in [0, 0.95], got {extra_zeros!r}")
    s = float(count_strength)
    if not (math.isfinite(s) and 0.0 <= s <= 2.0):
        raise ValueError(f"count_strength must be in [0, 2], got {count_strength!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be a whole number in [0, 2**32), got {seed!r}")
    p = VISITS_DEFAULTS
    rng = np.random.default_rng(int(seed))
    age = rng.integers(int(p["age_min"]), int(p["age_max"]) + 1, size=n).astype(np.float64)
    chronic = np.minimum(rng.poisson(p["chronic_base"] + p["chronic_per_year"]
                                     * (age - p["age_min"])), p["chronic_max"]).astype(np.float64)
    u_never = rng.random(n)
    u_count = rng.random(n)
    decades = (age - p["reference_age"]) / 10.0
    extra_c = chronic - p["reference_chronic"]
    mu = p["visits_at_reference"] * np.exp(s * (p["count_age_effect"] * decades
                                                + p["count_chronic_effect"] * extra_c))
    if ez == 0.0:
        never = np.zeros(n, dtype=bool)
        intercept = -math.inf
    else:
        slope = p["never_age_effect"] * decades + p["never_chronic_effect"] * extra_c
        lo, hi = -60.0, 60.0
        for _ in range(200):  # bisection: mean σ(c + slope) is increasing in c
            mid = 0.5 * (lo + hi)
            if float(np.mean(sigmoid(mid + slope))) < ez:
                lo = mid
            else:
                hi = mid
        intercept = 0.5 * (lo + hi)
        never = u_never < sigmoid(intercept + slope)
    counts = _poisson_quantile(mu, u_count)
    counts[never] = 0.0
    params = {
        "n": int(n), "extra_zeros": ez, "count_strength": s, "seed": int(seed),
        **{k: v for k, v in p.items() if k not in ("n", "extra_zeros", "count_strength", "seed")},
        "never_intercept": None if not math.isfinite(intercept) else float(intercept),
    }
    return VisitsData(np.column_stack([age, chronic]), counts, never, params)
