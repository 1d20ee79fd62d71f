"""The maths of a real model's outputs: loss shares, temperature scaling, pulls, proper scores.

The ``predictions`` lab (see ``docs/architecture.md``, "Labs") reads a file of
a model's logits (or probabilities) and labels and asks where its loss comes
from. Everything here is pure NumPy, float64, vectorised (each function is a
few passes over the arrays: about 10–50 ms at 10⁶ examples), and every loss
and gradient comes from :mod:`bceviz.engine.losses`.

* :func:`temperature_scale` — the T > 0 that minimises the mean BCE of
  ``logits / T`` (plain BCE), by a safeguarded Newton iteration on β = 1/T
  (the mean loss is convex in β). ``ValueError`` when no finite minimiser
  exists: logits that separate the labels perfectly (the loss keeps falling
  as T → 0), logits that point the wrong way on balance (it keeps falling as
  T → ∞), or logits that are all 0 (every T gives the same loss).
* :func:`loss_shares` — each example's share of the total loss
  (``loss_from_logits`` over its sum; all zeros when the sum is 0), and
  :func:`worst_shares` / :func:`share_curve`, the share carried by the worst
  fraction of the examples.
* :func:`pull` and :func:`pull_split` — each example's pull on the model,
  |∂L/∂z| (the size of its gradient in its own logit), under a
  :class:`~bceviz.engine.losses.LossSpec`, and how the total pull divides
  between easy and hard examples and between positives and negatives.
* :func:`expected_scores` — for one example whose true probability of class
  1 is q, the expected log loss, Brier score and 0–1 loss of reporting p:
  log loss and Brier are proper (minimised at p = q), 0–1 is not.
* :func:`probabilities_to_logits` — probabilities (0 and 1 allowed) as
  logits at a framework's cap (:func:`bceviz.engine.losses.framework_ceiling`):
  a probability of exactly 0 for a positive costs that framework's ceiling,
  e.g. 36.04 nats in scikit-learn's float64 ``log_loss``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from bceviz.engine.losses import (
    LogitLoss,
    LossSpec,
    framework_ceiling,
    framework_loss_from_probs,
    logit,
    loss_from_logits,
    loss_from_probs,
    sigmoid_pair,
    validate_labels,
)

__all__ = [
    "CAP_FRAMEWORKS",
    "ProperScores",
    "PullSplit",
    "ShareCurve",
    "cap_logit",
    "expected_scores",
    "loss_shares",
    "probabilities_to_logits",
    "pull",
    "pull_split",
    "share_curve",
    "temperature_scale",
    "worst_shares",
]

#: Frameworks whose cap a probability of exactly 0 or 1 can be shown at.
CAP_FRAMEWORKS: tuple[str, ...] = ("sklearn", "keras", "pytorch")
#: Elements per chunk of the chunked passes (two float64 chunks fit in a 2 MB cache).
_CHUNK = 1 << 16
#: β = 1/T beyond this counts as "the loss keeps falling as T → 0" (T below 1e-12).
_BETA_MAX = 1e12
#: Examples above this count start the Newton iteration from a strided subsample's root.
_SUBSAMPLE = 1 << 15


# --------------------------------------------------------------------------- validation


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a·b of two 1-D arrays by einsum: no BLAS call (a multithreaded BLAS dot of 10⁴–10⁶
    elements was measured up to 500 times slower on a busy two-core machine)."""
    return float(np.einsum("i,i->", a, b))



def _logits_and_labels(logits, y, *, empty_ok: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """1-D finite float64 logits and labels in [0, 1] of one length, or ValueError."""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1:
        raise ValueError(f"logits must be a 1-D array, got shape {z.shape}")
    labels = validate_labels(y, "y")
    if labels.ndim != 1 or labels.shape != z.shape:
        raise ValueError(f"y must have the logits' shape {z.shape}, got {labels.shape}")
    if not empty_ok and z.size == 0:
        raise ValueError("logits is empty; at least one example is needed")
    if not np.all(np.isfinite(z)):
        i = int(np.flatnonzero(~np.isfinite(z))[0])
        raise ValueError(f"logits must be finite numbers; logits[{i}] = {z[i]!r}")
    return z, labels


def _spec(spec: Optional[LossSpec]) -> LossSpec:
    if spec is None:
        return LossSpec()
    if not isinstance(spec, LossSpec):
        raise ValueError(f"spec must be a LossSpec, got {type(spec).__name__}")
    return spec


# --------------------------------------------------------------------------- temperature


def temperature_scale(logits, y, *, tol: float = 1e-9, max_iter: int = 200) -> float:
    """The temperature T > 0 minimising the mean plain BCE of ``logits / T`` against ``y``.

    logits: (n,) finite float64; y: (n,) labels in [0, 1] (soft allowed).
    Returns T (dimensionless; T > 1 softens over-confident logits, T < 1
    sharpens under-confident ones). Equal to a direct minimisation of
    ``mean(loss_from_logits(logits / T, y))`` (SciPy's ``minimize_scalar`` on
    log T in the tests) to 1e-6 relative; Newton on β = 1/T stops when its
    step is below ``tol`` relative in β (the error after that step is about
    its square: rounding), inside a bracket that keeps it safe.

    With f(β) = mean L(β z, y): f'(β) = mean (σ(β z) − y) z and
    f''(β) = mean σ(1 − σ) z² ≥ 0, so f is convex and a minimiser with
    β > 0 exists exactly when f'(0) < 0 < f'(∞). Raises ValueError when it
    does not: all logits 0 (f is flat); f'(0) = mean (1/2 − y) z ≥ 0 (the
    logits point the wrong way on balance: the loss falls as T → ∞, e.g.
    every logit on the wrong side of 0); f'(∞) = mean [(1 − y) z⁺ + y z⁻] = 0,
    i.e. the logits separate hard labels perfectly (the loss falls as T → 0).
    A minimiser below T = 1e-12 is refused the same way.
    """
    z, labels = _logits_and_labels(logits, y)
    if not np.any(z):
        raise ValueError("logits are all 0: every temperature gives the same loss (ln 2), so "
                         "no temperature minimises it")
    g0 = float(_dot(0.5 - labels, z)) / z.size
    if g0 >= 0.0:
        raise ValueError(
            "no finite temperature minimises the loss: the logits point the wrong way on "
            "balance (mean (1/2 − y)·z ≥ 0), so the loss keeps falling as T grows")
    limit = float(_dot(1.0 - labels, np.maximum(z, 0.0)) + _dot(labels, np.maximum(-z, 0.0)))
    if limit <= 0.0:
        raise ValueError(
            "no finite temperature minimises the loss: the logits separate the labels "
            "perfectly, so the loss keeps falling as T → 0")
    beta = 1.0
    if z.size >= 4 * _SUBSAMPLE:
        # A start close to the root from an evenly strided subsample (a few cheap
        # iterations), then Newton on all the examples converges in two or three.
        stride = z.size // _SUBSAMPLE
        sub_z, sub_y = z[::stride], labels[::stride]
        if np.any(sub_z) and float(_dot(0.5 - sub_y, sub_z)) < 0.0 and float(
                _dot(1.0 - sub_y, np.maximum(sub_z, 0.0))
                + _dot(sub_y, np.maximum(-sub_z, 0.0))) > 0.0:
            try:
                beta = _newton_beta(sub_z, sub_y, 1.0, 1e-6, max_iter)
            except ValueError:
                beta = 1.0
    return 1.0 / _newton_beta(z, labels, beta, tol, max_iter)


def _newton_beta(z: np.ndarray, labels: np.ndarray, beta: float, tol: float,
                 max_iter: int) -> float:
    """The root of f'(β) = mean (σ(β z) − y) z for β > 0 (it exists: checked by the caller).

    Newton from ``beta`` inside a bracket [lo, hi] that every evaluation
    narrows (f' is increasing: f is convex); a step that leaves the bracket
    is replaced by bisection (or, with no upper end yet, by 4β).
    """
    n = z.size

    def slope(b: float) -> tuple[float, float]:
        """(f'(b), f''(b)); σ and 1 − σ from sigmoid_pair (whole arrays: few temporaries)."""
        p, one_minus_p = sigmoid_pair(b * z)
        d1 = float(_dot(p - labels, z))
        p *= one_minus_p
        p *= z
        return d1 / n, float(_dot(p, z)) / n

    lo, hi = 0.0, math.inf
    g, h = slope(beta)
    for _ in range(max_iter):
        if g == 0.0:
            break
        if g < 0.0:
            lo = beta
        else:
            hi = beta
        step = g / h if h > 0.0 else math.nan
        if abs(step) <= tol * beta:  # converged (a NaN step compares False)
            return beta - step
        nxt = beta - step
        if not lo < nxt < hi:  # Newton left the bracket (or NaN): bisect or grow
            nxt = 0.5 * (lo + hi) if math.isfinite(hi) else 4.0 * beta
        if nxt > _BETA_MAX:
            raise ValueError(
                "no finite temperature minimises the loss: the logits (almost) separate the "
                "labels, so the loss keeps falling as T → 0 (below T = 1e-12)")
        if hi - lo <= tol * beta:
            return nxt
        beta = nxt
        g, h = slope(beta)
    return beta


# --------------------------------------------------------------------------- loss shares


def loss_shares(logits, y, spec: Optional[LossSpec] = None) -> np.ndarray:
    """Each example's share of the total loss: ``loss_from_logits`` over its sum.

    logits (n,) finite, y (n,) in [0, 1], spec a LossSpec (None: plain BCE).
    Shares are in [0, 1] and sum to 1 (to rounding); all zeros when every
    loss is 0 (e.g. soft labels matched exactly by σ(z) cannot give 0, but
    pos_weight = 0 on an all-positive set does).
    """
    z, labels = _logits_and_labels(logits, y, empty_ok=True)
    losses = loss_from_logits(z, labels, _spec(spec))
    total = float(np.sum(losses))
    if total <= 0.0:
        return np.zeros_like(losses)
    return losses / total


def _count_of(fraction: float, n: int) -> int:
    """How many examples are the worst ``fraction`` of n: ceil(fraction·n), at least 1."""
    return max(1, min(n, math.ceil(fraction * n - 1e-9)))


def _check_losses(losses) -> np.ndarray:
    arr = np.asarray(losses, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"losses must be a non-empty 1-D array, got shape {arr.shape}")
    if not (np.all(np.isfinite(arr)) and np.all(arr >= 0.0)):
        raise ValueError("losses must be finite numbers >= 0 (per-example losses in nats)")
    return arr


def worst_shares(losses, fractions: Sequence[float] = (0.01, 0.05, 0.10), *,
                 descending: Optional[np.ndarray] = None) -> tuple[float, ...]:
    """The share of the total loss carried by the worst ``fraction`` of the examples.

    losses: (n,) per-example losses >= 0 (nats). For each fraction f in
    (0, 1] the worst ceil(f·n) examples (at least one) are taken; the result
    is their summed loss over the total, in [0, 1] (0 when every loss is 0).
    ``descending`` may pass the losses already sorted from largest to
    smallest (then ``losses`` is not sorted again).
    """
    arr = _check_losses(losses)
    for f in fractions:
        if not (isinstance(f, (int, float)) and 0.0 < f <= 1.0):
            raise ValueError(f"fractions must be in (0, 1], got {f!r}")
    ordered = np.sort(arr)[::-1] if descending is None else descending
    total = float(np.sum(ordered))
    if total <= 0.0:
        return tuple(0.0 for _ in fractions)
    cum = np.cumsum(ordered)
    return tuple(float(cum[_count_of(float(f), arr.size) - 1] / total) for f in fractions)


@dataclass(frozen=True)
class ShareCurve:
    """The cumulative share curve: the worst ``fractions`` of the examples carry ``shares``.

    ``counts`` (k,) are the numbers of examples (worst first, 1..n),
    ``fractions = counts / n`` and ``shares`` the share of the total loss they
    carry (non-decreasing, the last is 1; all 0 when the total is 0). A
    curve far above the diagonal means a few examples carry the loss.
    """

    counts: np.ndarray
    fractions: np.ndarray
    shares: np.ndarray


def share_curve(losses, points: int = 256, *,
                descending: Optional[np.ndarray] = None) -> ShareCurve:
    """The cumulative share curve at about ``points`` counts, exact at each of them.

    Counts are spread both evenly and geometrically over 1..n (so the curve
    reads on a linear and on a log axis of the fraction), always including 1
    and n. ``descending``: the losses already sorted from largest to smallest.
    """
    arr = _check_losses(losses)
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ValueError(f"points must be an integer >= 2, got {points!r}")
    n = arr.size
    ordered = np.sort(arr)[::-1] if descending is None else descending
    cum = np.cumsum(ordered)
    total = float(cum[-1])
    half = max(points // 2, 2)
    counts = np.unique(np.concatenate([
        np.round(np.geomspace(1, n, half)), np.round(np.linspace(1, n, half))]).astype(np.int64))
    shares = cum[counts - 1] / total if total > 0.0 else np.zeros(counts.size)
    return ShareCurve(counts=counts, fractions=counts / n, shares=np.minimum(shares, 1.0))


# --------------------------------------------------------------------------- pulls


def pull(logits, y, spec: Optional[LossSpec] = None) -> np.ndarray:
    """Each example's pull |∂L/∂z| (nats per unit of logit) under ``spec`` (None: plain BCE).

    The size of the example's gradient in its own logit: what it contributes
    to a gradient step of the model that produced the logit. For plain BCE it
    is |σ(z) − y|, in [0, 1]. Computed in cache-sized chunks through
    :class:`bceviz.engine.losses.LogitLoss` (the same numbers as
    ``grad_from_logits``).
    """
    z, labels = _logits_and_labels(logits, y, empty_ok=True)
    kernel = LogitLoss(labels, _spec(spec))
    out = np.empty_like(z)
    for start in range(0, z.size, _CHUNK):
        rows = slice(start, min(start + _CHUNK, z.size))
        np.abs(kernel.grad(z[rows], rows=rows), out=out[rows])
    return out


@dataclass(frozen=True)
class PullSplit:
    """How the total pull Σ|∂L/∂z| divides between groups of examples.

    ``total`` is the sum; ``easy``/``hard`` split it by p_t, the probability
    the model gives each example's own label (p_t = σ(z)·y + (1 − σ(z))·(1 − y)),
    at ``easy_cut`` (easy: p_t >= easy_cut); ``positive``/``negative`` by the
    label (positive: y >= 0.5). ``cells`` holds the four sums
    [easy negatives, easy positives, hard negatives, hard positives] and
    ``counts`` the examples in each. Shares are these sums over ``total``
    (0 when the total is 0).
    """

    total: float
    easy: float
    hard: float
    positive: float
    negative: float
    cells: tuple[float, float, float, float]
    counts: tuple[int, int, int, int]
    easy_cut: float

    def share(self, name: str) -> float:
        """``easy``, ``hard``, ``positive`` or ``negative`` over the total, in [0, 1]."""
        value = float(getattr(self, name))
        return value / self.total if self.total > 0.0 else 0.0


def pull_groups(logits, y, easy_cut: float = 0.5) -> np.ndarray:
    """Group codes 0..3 (2·hard + positive) of :class:`PullSplit`, as int8 (n,)."""
    z, labels = _logits_and_labels(logits, y, empty_ok=True)
    if not (isinstance(easy_cut, (int, float)) and 0.0 < easy_cut < 1.0):
        raise ValueError(f"easy_cut must be a probability in (0, 1), got {easy_cut!r}")
    codes = np.empty(z.size, dtype=np.int8)
    for start in range(0, z.size, _CHUNK):
        rows = slice(start, min(start + _CHUNK, z.size))
        p, one_minus_p = sigmoid_pair(z[rows])
        yy = labels[rows]
        p_true = p * yy + one_minus_p * (1.0 - yy)
        codes[rows] = 2 * (p_true < easy_cut) + (yy >= 0.5)
    return codes


def pull_split(logits, y, spec: Optional[LossSpec] = None, *, easy_cut: float = 0.5,
               groups: Optional[np.ndarray] = None, pulls: Optional[np.ndarray] = None
               ) -> PullSplit:
    """The total pull under ``spec`` and its split easy/hard and positive/negative.

    logits (n,), y (n,) in [0, 1]; easy_cut in (0, 1): p_t at or above it is
    easy. ``groups`` may pass :func:`pull_groups`' codes for these arguments
    and ``pulls`` the examples' :func:`pull` under ``spec`` (both are then
    trusted, for callers that cache them). Comparing the shares under a
    setting with plain BCE's says what retraining with that setting would
    emphasise: focal γ moves pull from easy to hard examples, pos_weight from
    negatives to positives, smoothing gives confidently right examples a
    pull back towards 1/2.
    """
    z, labels = _logits_and_labels(logits, y, empty_ok=True)
    codes = pull_groups(z, labels, easy_cut) if groups is None else groups
    size = pull(z, labels, spec) if pulls is None else pulls
    sums = np.bincount(codes, weights=size, minlength=4)[:4]
    counts = np.bincount(codes, minlength=4)[:4]
    en, ep, hn, hp = (float(v) for v in sums)
    return PullSplit(total=float(np.sum(sums)), easy=en + ep, hard=hn + hp, positive=ep + hp,
                     negative=en + hn, cells=(en, ep, hn, hp),
                     counts=tuple(int(c) for c in counts),  # type: ignore[arg-type]
                     easy_cut=float(easy_cut))


# --------------------------------------------------------------------------- proper scoring


@dataclass(frozen=True)
class ProperScores:
    """Expected scores of reporting probability ``p`` when the truth is class 1 with ``q``.

    ``log_loss`` = −q log p − (1 − q) log(1 − p) in nats (inf at p = 0 or 1
    unless a framework caps it; ``log_loss_capped`` is that framework's
    figure, None without a framework); ``brier`` = q(1 − p)² + (1 − q)p² =
    (p − q)² + q(1 − q); ``zero_one`` = the chance of a wrong class when
    p >= 1/2 predicts class 1: 1 − q there, q below. Log loss and Brier are
    proper (minimised at p = q exactly); 0–1 is not (flat on each side of 1/2).
    """

    p: np.ndarray
    q: float
    log_loss: np.ndarray
    brier: np.ndarray
    zero_one: np.ndarray
    log_loss_capped: Optional[np.ndarray]
    framework: Optional[str]


def expected_scores(p, q: float, *, framework: Optional[str] = None) -> ProperScores:
    """Expected log loss, Brier and 0–1 loss of reporting ``p`` (array in [0, 1]) for truth ``q``.

    q in [0, 1]: the example's true probability of class 1. ``framework``
    ("sklearn", "keras", "pytorch" or None) adds the log loss as that
    framework computes it (its cap at p = 0 or 1: at most q times the
    framework's ceiling, ``framework_ceiling``).
    """
    probs = np.asarray(p, dtype=np.float64)
    if probs.size and not (np.all(probs >= 0.0) and np.all(probs <= 1.0)):
        raise ValueError("p must be probabilities in [0, 1] (no NaN)")
    if not (isinstance(q, (int, float)) and not isinstance(q, bool) and 0.0 <= q <= 1.0):
        raise ValueError(f"q must be a probability in [0, 1], got {q!r}")
    q = float(q)
    truth = np.full(probs.shape, q)
    with np.errstate(divide="ignore"):
        log_loss = loss_from_probs(probs, truth, eps=0.0)
    capped = None
    if framework is not None:
        if framework not in CAP_FRAMEWORKS:
            raise ValueError(f"framework must be one of {', '.join(CAP_FRAMEWORKS)} or None, "
                             f"got {framework!r}")
        capped = framework_loss_from_probs(probs, truth, framework)
    brier = q * (1.0 - probs) ** 2 + (1.0 - q) * probs**2
    zero_one = np.where(probs >= 0.5, 1.0 - q, q)
    return ProperScores(p=probs, q=q, log_loss=log_loss, brier=brier, zero_one=zero_one,
                        log_loss_capped=capped, framework=framework)


# --------------------------------------------------------------------------- caps


def cap_logit(framework: str) -> float:
    """The largest |logit| a framework's clipping leaves: ln((1 − ε)/ε), ε = e^(−ceiling).

    A logit of −cap_logit(f) costs a positive example exactly
    ``framework_ceiling(f)`` nats (softplus(c) = ceiling when c = ln((1 − ε)/ε)):
    16.118 for Keras (ε = 1e-7), 36.04 for scikit-learn's float64 log_loss
    (ε = 2.2e-16), 100 for PyTorch's BCELoss (log clamped at −100).
    """
    if framework not in CAP_FRAMEWORKS:
        raise ValueError(f"framework must be one of {', '.join(CAP_FRAMEWORKS)}, "
                         f"got {framework!r}")
    ceiling = framework_ceiling(framework)
    eps = math.exp(-ceiling)
    return ceiling + math.log1p(-eps)


def probabilities_to_logits(p, framework: str = "sklearn") -> tuple[np.ndarray, int, int]:
    """Probabilities in [0, 1] as logits clipped at ``framework``'s cap: (logits, n_capped, n_exact).

    logits = logit(p) clipped to ±:func:`cap_logit` (framework), so each
    example's loss is the framework's: a probability of exactly 0 for a
    positive costs ``framework_ceiling(framework)`` nats, a probability the
    framework would clip (below ε or above 1 − ε) is clipped the same way.
    ``n_capped`` counts the probabilities clipped, ``n_exact`` those exactly
    0 or 1. ValueError for probabilities outside [0, 1] or NaN.
    """
    probs = np.asarray(p, dtype=np.float64)
    if probs.ndim != 1:
        raise ValueError(f"p must be a 1-D array, got shape {probs.shape}")
    inside = (probs >= 0.0) & (probs <= 1.0)
    if not np.all(inside):
        i = int(np.flatnonzero(~inside)[0])
        raise ValueError(f"p must be probabilities in [0, 1]; p[{i}] = {probs[i]!r}")
    limit = cap_logit(framework)
    with np.errstate(divide="ignore"):
        z = logit(probs)
    capped = (z < -limit) | (z > limit)
    np.clip(z, -limit, limit, out=z)
    n_exact = int(np.count_nonzero((probs == 0.0) | (probs == 1.0)))
    return z, int(np.count_nonzero(capped)), n_exact
