"""Binary cross-entropy and its relatives: losses, gradients and curvature in the logit.

Every function takes NumPy arrays (or scalars), broadcasts, and computes in
float64. Losses are in nats unless a name says bits. The conventions are the
ones users already know from the frameworks:

* label smoothing as Keras: ``y_s = y * (1 - eps) + eps / 2``;
* ``pos_weight`` as PyTorch ``BCEWithLogitsLoss``;
* focal loss as torchvision ``sigmoid_focal_loss`` (gamma, optional alpha).

The logit form never evaluates ``log(sigmoid(z))``; it uses
``softplus(z) = max(z, 0) + log1p(exp(-|z|))`` so it is finite for any finite
logit (tested to |z| = 1e6).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Optional

import numpy as np

__all__ = [
    "LossSpec",
    "softplus",
    "sigmoid",
    "logit",
    "smooth_labels",
    "loss_from_logits",
    "grad_from_logits",
    "curvature_from_logits",
    "loss_from_probs",
    "grad_wrt_prob",
    "entropy",
    "kl_divergence",
    "to_bits",
    "NATS_PER_BIT",
    "squared_error_from_logits",
    "squared_error_grad_from_logits",
    "hinge_from_logits",
    "hinge_grad_from_logits",
    "FRAMEWORK_CEILINGS",
    "FRAMEWORK_CEILING_DTYPES",
    "SKLEARN_CEILINGS",
    "framework_ceiling",
    "framework_loss_from_probs",
    "validate_labels",
    "softplus_pair",
    "sigmoid_pair",
    "loss_from_surprisals",
    "bce_sum_coefficients",
    "LogitLoss",
]

NATS_PER_BIT = math.log(2.0)


@dataclass(frozen=True)
class LossSpec:
    """Settings of the (smoothed, weighted, focal) BCE.

    label_smoothing: epsilon in [0, 1); targets become ``y(1 - eps) + eps/2``.
    pos_weight: weight >= 0 on the positive term (PyTorch ``pos_weight``).
    focal_gamma: focusing exponent >= 0; 0 means plain cross-entropy.
    focal_alpha: None (off) or a class balance in [0, 1] (torchvision ``alpha``).
    """

    label_smoothing: float = 0.0
    pos_weight: float = 1.0
    focal_gamma: float = 0.0
    focal_alpha: Optional[float] = None

    def __post_init__(self) -> None:
        eps = _as_float("label_smoothing", self.label_smoothing)
        if not 0.0 <= eps < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing!r}")
        pw = _as_float("pos_weight", self.pos_weight)
        if not (pw >= 0.0 and math.isfinite(pw)):
            raise ValueError(f"pos_weight must be a finite number >= 0, got {self.pos_weight!r}")
        gamma = _as_float("focal_gamma", self.focal_gamma)
        if not (gamma >= 0.0 and math.isfinite(gamma)):
            raise ValueError(f"focal_gamma must be a finite number >= 0, got {self.focal_gamma!r}")
        if self.focal_alpha is not None:
            alpha = _as_float("focal_alpha", self.focal_alpha)
            if not 0.0 <= alpha <= 1.0:
                raise ValueError(f"focal_alpha must be None or in [0, 1], got {self.focal_alpha!r}")
            object.__setattr__(self, "focal_alpha", alpha)
        object.__setattr__(self, "label_smoothing", eps)
        object.__setattr__(self, "pos_weight", pw)
        object.__setattr__(self, "focal_gamma", gamma)

    @property
    def is_focal(self) -> bool:
        """True when the focal factor or alpha changes the loss."""
        return self.focal_gamma != 0.0 or self.focal_alpha is not None

    def coefficients(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(a, b) with CE(z) = a * softplus(z) - b * z for these (unsmoothed) labels.

        Valid for the non-focal part: a = pw * y_s + 1 - y_s, b = pw * y_s.
        An identity, not a way to compute the loss: a softplus(z) - b z
        cancels when the model is confidently right (z = 40, y = 1 gives 0
        instead of 4.2e-18). Compute losses with loss_from_logits or
        LogitLoss; per-class sums with bce_sum_coefficients.
        """
        ys = smooth_labels(labels, self.label_smoothing)
        b = self.pos_weight * ys
        return b + 1.0 - ys, b

    def to_dict(self) -> dict:
        return {
            "label_smoothing": self.label_smoothing,
            "pos_weight": self.pos_weight,
            "focal_gamma": self.focal_gamma,
            "focal_alpha": self.focal_alpha,
        }


def _as_float(name: str, value) -> float:
    # float("0.1") would succeed: a string is not a number for this API.
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(out):
        raise ValueError(f"{name} must be a number, got NaN")
    return out


# ----------------------------------------------------------------------------
# Validation helpers


def _as_array(name: str, value) -> np.ndarray:
    # np.asarray(..., dtype=float64) alone would turn "0.5" into 0.5, None into
    # NaN and 1+2j into 1 (with a warning); only real numbers are accepted.
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric, got {value!r}") from None
    kind = arr.dtype.kind
    if kind == "O" and all(isinstance(v, numbers.Real) for v in arr.flat):
        kind = "f"
    if kind not in "biuf":
        raise ValueError(f"{name} must be numeric (real numbers), got {value!r}")
    return arr.astype(np.float64, copy=False)


def validate_labels(labels, name: str = "y") -> np.ndarray:
    """Labels as float64, or ValueError unless every label is in [0, 1]."""
    arr = _as_array(name, labels)
    if arr.size and not (np.all(arr >= 0.0) and np.all(arr <= 1.0)):
        bad = arr[~((arr >= 0.0) & (arr <= 1.0))].ravel()[0]
        raise ValueError(f"labels {name} must be in [0, 1], found {bad!r}")
    return arr


def _validate_logits(z, name: str = "z") -> np.ndarray:
    arr = _as_array(name, z)
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"logits {name} must be finite numbers (no NaN or inf)")
    return arr


def _check_broadcast(a: np.ndarray, b: np.ndarray, na: str, nb: str) -> None:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"shapes of {na} {a.shape} and {nb} {b.shape} do not broadcast"
        ) from None


def _prepare_probs(p, y) -> tuple[np.ndarray, np.ndarray]:
    pp = _as_array("p", p)
    if pp.size and not (np.all(pp >= 0.0) and np.all(pp <= 1.0)):
        raise ValueError("probabilities p must be in [0, 1] (no NaN)")
    yy = validate_labels(y)
    _check_broadcast(pp, yy, "p", "y")
    return pp, yy


def _prepare(z, y, spec: Optional[LossSpec]) -> tuple[np.ndarray, np.ndarray, LossSpec]:
    if spec is None:
        spec = LossSpec()
    elif not isinstance(spec, LossSpec):
        raise ValueError(f"spec must be a LossSpec, got {type(spec).__name__}")
    zz = _validate_logits(z)
    yy = validate_labels(y)
    _check_broadcast(zz, yy, "z", "y")
    return zz, yy, spec


# ----------------------------------------------------------------------------
# Elementary stable functions


def softplus(z):
    """log(1 + exp(z)), stable for any finite z."""
    z = np.asarray(z, dtype=np.float64)
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def sigmoid(z):
    """1 / (1 + exp(-z)) without overflow warnings."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def logit(p, eps: float = 0.0):
    """log(p / (1 - p)); p is clipped to [eps, 1 - eps] first when eps > 0."""
    p = np.asarray(p, dtype=np.float64)
    if eps > 0:
        p = np.clip(p, eps, 1.0 - eps)
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)


def smooth_labels(y, label_smoothing: float):
    """Keras label smoothing: y * (1 - eps) + eps / 2."""
    y = np.asarray(y, dtype=np.float64)
    if label_smoothing == 0.0:
        return y
    return y * (1.0 - label_smoothing) + 0.5 * label_smoothing


# ----------------------------------------------------------------------------
# BCE in the logit, with smoothing, pos_weight and focal factors
#
# This section is the one implementation of BCE from logits in bceviz: the
# per-sample loss, dL/dz and d2L/dz2 of loss_from_logits and its siblings,
# of LogitLoss (the Trainer and fit_logistic), of the loss surface's kernels
# and of every lab all come from the functions below; no other module writes
# the formula (tests/engine/test_numerical_truth.py checks that).
#
# Everything is built on the two surprisals of a logit, each evaluated to
# full relative precision:
#
#     softplus(z)  = -log(1 - p)    and    softplus(-z) = -log p,
#
# and the loss is a sum of two non-negative terms,
#
#     CE = pw ys softplus(-z) + (1 - ys) softplus(z),
#
# so nothing cancels. The same number written as a softplus(z) - b z (the
# LossSpec.coefficients form) loses every digit when the model is confidently
# right: at z = 40 and y = 1 it is 40.0 - 40.0 = 0 instead of 4.2e-18.


def softplus_pair(z, out=None, *, work=None) -> tuple[np.ndarray, np.ndarray]:
    """(softplus(z), softplus(-z)) = (-log(1 - sigma(z)), -log sigma(z)), in nats.

    z: logits, any finite float64 values (inf gives inf and 0; NaN gives NaN).
    Each result has full relative precision: softplus(-z) is not computed as
    softplus(z) - z, which cancels (at z = 20 it keeps 6 digits, beyond z = 37
    it is exactly 0). softplus(z) >= max(z, 0) and softplus(-z) >= max(-z, 0);
    both underflow to 0 only where the exact value is below 5e-324 (|z| > 745).

    out: None (new arrays), a pair of float64 arrays of z's shape to write
    into, or one float64 array of shape (2,) + z.shape (then the pair is its
    two halves, out[0] and out[1]). work: None, or a float64 array of z's
    shape for the intermediate log1p(exp(-|z|)); it may be z itself, which is
    then overwritten. With both, nothing is allocated (for hot loops).
    """
    z = np.asarray(z, dtype=np.float64)
    if out is None:
        tail = np.log1p(np.exp(-np.abs(z)))
        return np.maximum(z, 0.0) + tail, np.maximum(-z, 0.0) + tail
    sp_pos, sp_neg = out
    np.maximum(z, 0.0, out=sp_pos)
    np.subtract(sp_pos, z, out=sp_neg)  # max(-z, 0), exactly
    tail = np.abs(z, out=work) if work is not None else np.abs(z)
    np.negative(tail, out=tail)
    np.exp(tail, out=tail)
    np.log1p(tail, out=tail)
    if isinstance(out, np.ndarray):
        out += tail  # both halves in one call
    else:
        sp_pos += tail
        sp_neg += tail
    return sp_pos, sp_neg


# The name used inside this module since before softplus_pair was public.
_softplus_pair = softplus_pair


def sigmoid_pair(z) -> tuple[np.ndarray, np.ndarray]:
    """(sigma(z), 1 - sigma(z)) for logits z, each to full relative precision.

    exp(-softplus(-z)) and exp(-softplus(z)): 1 - sigma(z) is not 1 minus a
    number close to 1 (that is 0 beyond z = 37), and neither overflows for
    any finite z. Probabilities in [0, 1]; they underflow to 0 only below
    5e-324 (|z| > 745).
    """
    sp_pos, sp_neg = softplus_pair(z)
    np.negative(sp_neg, out=sp_neg)
    np.negative(sp_pos, out=sp_pos)
    return np.exp(sp_neg, out=sp_neg), np.exp(sp_pos, out=sp_pos)


def _ce(sp_pos, sp_neg, pos_coef, neg_coef):
    """Cross-entropy from the surprisals: pos_coef softplus(-z) + neg_coef softplus(z)."""
    return pos_coef * sp_neg + neg_coef * sp_pos


def _pieces(z: np.ndarray, ys: np.ndarray, spec: LossSpec):
    """Shared intermediate quantities for loss, gradient and curvature."""
    sp_pos, sp_neg = softplus_pair(z)  # -log(1 - p), -log(p)
    p = np.exp(-sp_neg)  # sigma(z) without overflow
    one_minus_p = np.exp(-sp_pos)
    b = spec.pos_weight * ys
    a = b + 1.0 - ys
    # Two non-negative terms: no cancellation, full relative precision.
    ce = _ce(sp_pos, sp_neg, b, 1.0 - ys)
    return p, one_minus_p, a, b, ce


def _dce(p, one_minus_p, ys, b):
    """dCE/dz = a p - b written as (1 - y_s) p - b (1 - p): exact for hard labels.

    a p - b cancels when p -> 1 for y = 1 (the gradient would be 0 instead of
    -(1 - p) beyond z ~ 37).
    """
    return (1.0 - ys) * p - b * one_minus_p


def _alpha_t(ys: np.ndarray, spec: LossSpec):
    if spec.focal_alpha is None:
        return 1.0
    return spec.focal_alpha * ys + (1.0 - spec.focal_alpha) * (1.0 - ys)


def _focal_terms(p, one_minus_p, ys, gamma):
    """q = 1 - p_t, m = q**gamma, and q'/q, q''/q (0 where q == 0)."""
    q = p * (1.0 - ys) + one_minus_p * ys
    s = p * one_minus_p
    dq = s * (1.0 - 2.0 * ys)
    ddq = dq * (1.0 - 2.0 * p)
    m = q**gamma
    pos = q > 0.0
    r1 = np.divide(dq, q, out=np.zeros(np.broadcast(dq, q).shape), where=pos)
    r2 = np.divide(ddq, q, out=np.zeros(np.broadcast(ddq, q).shape), where=pos)
    return q, m, r1, r2


def _focal_loss(ce, p, one_minus_p, ys, spec: LossSpec):
    """alpha_t CE (1 - p_t)^gamma from the cross-entropy and the probabilities."""
    loss = ce
    if spec.focal_gamma != 0.0:
        q = p * (1.0 - ys) + one_minus_p * ys
        loss = ce * q**spec.focal_gamma
    return loss * _alpha_t(ys, spec)


def _power_in_place(base: np.ndarray, gamma: float, scratch=None) -> np.ndarray:
    """base**gamma in place, base in [0, 1] (any float dtype).

    Squares for gamma 2 and 4, products for 3 (scratch: work space of base's
    shape, allocated if None), exp(gamma log base) otherwise.
    """
    if gamma == 1.0:
        return base
    if gamma in (2.0, 4.0):
        np.multiply(base, base, out=base)
        if gamma == 4.0:
            np.multiply(base, base, out=base)
        return base
    if gamma == 3.0:
        if scratch is None:
            scratch = np.empty_like(base)
        np.multiply(base, base, out=scratch)
        base *= scratch
        return base
    with np.errstate(divide="ignore"):
        np.log(base, out=base)  # log(0) = -inf gives exactly 0 below
    base *= gamma
    np.exp(base, out=base)
    return base


def _loss(z: np.ndarray, ys: np.ndarray, spec: LossSpec) -> np.ndarray:
    """Per-sample loss for valid float64 logits z and smoothed labels ys."""
    if not spec.is_focal:
        # Fast path: no exponentials beyond softplus. Not a*softplus(z) - b*z,
        # which cancels for confident correct positives (z >> 0, y = 1).
        sp_pos, sp_neg = softplus_pair(z)
        return _ce(sp_pos, sp_neg, spec.pos_weight * ys, 1.0 - ys)
    p, one_minus_p, _a, _b, ce = _pieces(z, ys, spec)
    return _focal_loss(ce, p, one_minus_p, ys, spec)


def _grad_from_pieces(pieces, ys, spec: LossSpec) -> np.ndarray:
    p, one_minus_p, a, b, ce = pieces
    dce = _dce(p, one_minus_p, ys, b)
    if spec.focal_gamma == 0.0:
        return dce * _alpha_t(ys, spec)
    g = spec.focal_gamma
    _q, m, r1, _r2 = _focal_terms(p, one_minus_p, ys, g)
    dm = g * m * r1
    return (dce * m + ce * dm) * _alpha_t(ys, spec)


def _curvature(z: np.ndarray, ys: np.ndarray, spec: LossSpec) -> np.ndarray:
    """Per-sample d2L/dz2 for valid float64 logits z and smoothed labels ys."""
    p, one_minus_p, a, b, ce = _pieces(z, ys, spec)
    s = p * one_minus_p
    dce = _dce(p, one_minus_p, ys, b)
    ddce = a * s
    if spec.focal_gamma == 0.0:
        return ddce * _alpha_t(ys, spec)
    g = spec.focal_gamma
    _q, m, r1, r2 = _focal_terms(p, one_minus_p, ys, g)
    dm = g * m * r1
    ddm = g * (g - 1.0) * m * r1 * r1 + g * m * r2
    return (ddce * m + 2.0 * dce * dm + ce * ddm) * _alpha_t(ys, spec)


def loss_from_logits(z, y, spec: Optional[LossSpec] = None) -> np.ndarray:
    """Per-sample loss in nats (no reduction) for logits z and labels y in [0, 1]."""
    z, y, spec = _prepare(z, y, spec)
    return _loss(z, smooth_labels(y, spec.label_smoothing), spec)


def grad_from_logits(z, y, spec: Optional[LossSpec] = None) -> np.ndarray:
    """Per-sample dL/dz. For plain BCE this is sigma(z) - y."""
    z, y, spec = _prepare(z, y, spec)
    ys = smooth_labels(y, spec.label_smoothing)
    return _grad_from_pieces(_pieces(z, ys, spec), ys, spec)


def curvature_from_logits(z, y, spec: Optional[LossSpec] = None) -> np.ndarray:
    """Per-sample d2L/dz2. For plain BCE this is p(1 - p), independent of y."""
    z, y, spec = _prepare(z, y, spec)
    return _curvature(z, smooth_labels(y, spec.label_smoothing), spec)


def loss_from_surprisals(
    neg_log_p,
    neg_log_1mp,
    smoothed_labels,
    spec: Optional[LossSpec] = None,
    *,
    p=None,
    one_minus_p=None,
    in_place: bool = False,
):
    """Per-sample loss in nats from a logit's surprisals: the formula of loss_from_logits.

    For code that gets the surprisals of its logits some faster way than
    ``softplus_pair`` (the loss surface takes them from per-axis exponential
    factors, in float32): the loss is computed here, so it is the same
    formula everywhere.

    neg_log_p = softplus(-z) = -log sigma(z); neg_log_1mp = softplus(z) =
    -log(1 - sigma(z)); both >= 0. smoothed_labels: ``smooth_labels(y,
    spec.label_smoothing)`` in [0, 1], broadcasting against them. p,
    one_minus_p: sigma(z) and 1 - sigma(z), needed only for a focal gamma > 0
    (computed as exp(-neg_log_p), exp(-neg_log_1mp) when None). Result:
    alpha_t * CE * (1 - p_t)^gamma with CE = pw ys neg_log_p + (1 - ys)
    neg_log_1mp, p_t = sigma(z) ys + (1 - sigma(z)) (1 - ys), in the inputs'
    float dtype. Nothing is validated.

    in_place: False (new arrays; inputs untouched), or True for hot loops:
    then every array argument is work space and the result is written into
    one of them and returned. Hard labels may leave arguments out: with
    smoothed_labels the scalar 1.0 only neg_log_p (and one_minus_p for
    gamma > 0) is read, the result goes into neg_log_p and p, if given, is
    work space; with the scalar 0.0 only neg_log_1mp (and p) is read and the
    result goes into neg_log_1mp. Otherwise the result goes into neg_log_p.
    """
    spec = LossSpec() if spec is None else spec
    ys = smoothed_labels
    gamma = spec.focal_gamma
    if not in_place:
        ce = _ce(neg_log_1mp, neg_log_p, spec.pos_weight * ys, 1.0 - ys)
        if not spec.is_focal:
            return ce
        if gamma != 0.0:
            p = np.exp(-neg_log_p) if p is None else p
            one_minus_p = np.exp(-neg_log_1mp) if one_minus_p is None else one_minus_p
        return _focal_loss(ce, p, one_minus_p, ys, spec)
    hard = np.ndim(ys) == 0 and float(ys) in (0.0, 1.0)
    if hard and float(ys) == 1.0:
        # CE = pw softplus(-z); 1 - p_t = 1 - sigma(z); p (if given) is work space.
        out, q, scratch = neg_log_p, one_minus_p, p
        if spec.pos_weight != 1.0:
            out *= spec.pos_weight
    elif hard:
        out, q, scratch = neg_log_1mp, p, one_minus_p  # CE = softplus(z); 1 - p_t = sigma(z)
    else:
        out, q, scratch = neg_log_p, None, None
        if gamma != 0.0:
            if p is None:
                p = np.exp(np.negative(neg_log_p))
            if one_minus_p is None:
                one_minus_p = np.exp(np.negative(neg_log_1mp))
            q = p
            q *= 1.0 - ys
            one_minus_p *= ys
            q += one_minus_p  # 1 - p_t
            scratch = one_minus_p
        out *= spec.pos_weight * ys
        neg_log_1mp *= 1.0 - ys
        out += neg_log_1mp  # CE
    if gamma != 0.0:
        if q is None:
            raise ValueError("loss_from_surprisals needs p or one_minus_p for a focal gamma > 0")
        out *= _power_in_place(q, gamma, scratch)
    if spec.focal_alpha is not None:
        out *= _alpha_t(ys, spec)
    return out


def bce_sum_coefficients(spec: Optional[LossSpec] = None) -> tuple[float, float, float]:
    """(c_pos, c_neg, c_lin) that give a sum of non-focal losses from per-class sums.

    For labels y_i in [0, 1] (before smoothing) and any logits z_i,

        sum_i CE_i = c_pos sum_i y_i softplus(-z_i) + c_neg sum_i (1 - y_i) softplus(z_i)
                     + c_lin sum_i (y_i - pw (1 - y_i)) z_i,

    with c_pos = pw (1 - e/2) + e/2, c_neg = 1 - e/2 + pw e/2, c_lin = e/2
    (e = label_smoothing, pw = pos_weight). Every term is a loss-like
    non-negative sum except the last, which is 0 without smoothing. It lets
    a change of smoothing or pos_weight reuse the two sums (the loss surface).
    ValueError for a focal spec (no such decomposition).
    """
    spec = LossSpec() if spec is None else spec
    if spec.is_focal:
        raise ValueError("bce_sum_coefficients needs a non-focal spec (focal_gamma 0, no alpha)")
    pw = spec.pos_weight
    c0 = 0.5 * spec.label_smoothing
    return pw * (1.0 - c0) + c0, 1.0 - c0 + pw * c0, c0


class LogitLoss:
    """The loss of fixed labels as a function of the logits: per sample L, dL/dz, d2L/dz2.

    The same code as ``loss_from_logits``, ``grad_from_logits`` and
    ``curvature_from_logits`` (so the same numbers, digit for digit), for
    callers that evaluate one set of labels many times (a trainer): the
    labels and the spec are validated once, here, and the logits are not
    validated at all — pass finite float64 arrays of shape (N,), or of
    ``rows``' shape when ``rows`` (an integer index array) selects samples.

    y: labels in [0, 1], shape (N,) (soft labels allowed); spec: LossSpec
    (None = plain BCE). Losses in nats.
    """

    __slots__ = ("_spec", "_y", "_ys", "_pos_coef", "_neg_coef", "_loss_coefs", "_grad_coefs")

    def __init__(self, y, spec: Optional[LossSpec] = None) -> None:
        if spec is None:
            spec = LossSpec()
        elif not isinstance(spec, LossSpec):
            raise ValueError(f"spec must be a LossSpec, got {type(spec).__name__}")
        labels = np.array(validate_labels(y), dtype=np.float64).reshape(-1)
        self._spec = spec
        self._y = labels
        self._ys = np.ascontiguousarray(smooth_labels(labels, spec.label_smoothing))
        self._pos_coef = spec.pos_weight * self._ys
        self._neg_coef = 1.0 - self._ys
        # Stacked for loss_sum_and_grad, which keeps (softplus(z), softplus(-z))
        # in one (2, N) array: the CE sum is one dot product, the gradient's
        # two products one multiply.
        self._loss_coefs = np.stack([self._neg_coef, self._pos_coef])
        self._grad_coefs = np.stack([self._pos_coef, self._neg_coef])

    @property
    def spec(self) -> LossSpec:
        return self._spec

    @property
    def y(self) -> np.ndarray:
        """The labels (a copy), float64 (N,)."""
        return self._y.copy()

    def _smoothed(self, rows) -> np.ndarray:
        return self._ys if rows is None else self._ys[rows]

    def loss(self, z, rows=None) -> np.ndarray:
        """Per-sample loss in nats: ``loss_from_logits(z, y[rows], spec)``."""
        return _loss(z, self._smoothed(rows), self._spec)

    def grad(self, z, rows=None) -> np.ndarray:
        """Per-sample dL/dz: ``grad_from_logits(z, y[rows], spec)``."""
        ys = self._smoothed(rows)
        return _grad_from_pieces(_pieces(z, ys, self._spec), ys, self._spec)

    def curvature(self, z, rows=None) -> np.ndarray:
        """Per-sample d2L/dz2: ``curvature_from_logits(z, y[rows], spec)``."""
        return _curvature(z, self._smoothed(rows), self._spec)

    def loss_sum(self, z, rows=None) -> float:
        """Sum of the per-sample losses in nats: ``loss(z, rows).sum()`` to rounding.

        The same number, to the last bit, as the total of ``loss_sum_and_grad``.
        """
        if self._spec.is_focal:
            return float(np.add.reduce(self.loss(z, rows)))
        loss_coefs = self._loss_coefs if rows is None else self._loss_coefs[:, rows]
        pair = np.empty((2,) + np.shape(z))
        softplus_pair(z, pair)
        return float(np.vdot(loss_coefs, pair))

    def loss_sum_and_grad(self, z, rows=None, *, overwrite: bool = False) -> tuple[float, np.ndarray]:
        """(sum of the losses, per-sample dL/dz) in one pass.

        Equal to ``(loss_sum(z, rows), grad(z, rows))`` exactly. overwrite:
        True lets the logits' array be used as work space (it is then
        garbage); a trainer's freshly computed logits can be.
        """
        spec = self._spec
        if spec.is_focal:
            ys = self._smoothed(rows)
            pieces = _pieces(z, ys, spec)
            p, one_minus_p, _a, _b, ce = pieces
            total = float(np.add.reduce(_focal_loss(ce, p, one_minus_p, ys, spec)))
            return total, _grad_from_pieces(pieces, ys, spec)
        if rows is None:
            loss_coefs, grad_coefs = self._loss_coefs, self._grad_coefs
        else:
            loss_coefs, grad_coefs = self._loss_coefs[:, rows], self._grad_coefs[:, rows]
        pair = np.empty((2,) + z.shape)  # softplus(z), softplus(-z)
        softplus_pair(z, pair, work=z if overwrite else None)
        # Σ CE = Σ (1 - ys) softplus(z) + pw ys softplus(-z): one dot product
        # of non-negative terms (the reduction of _ce).
        total = float(np.vdot(loss_coefs, pair))
        # dL/dz = (1 - ys) sigma(z) - pw ys (1 - sigma(z)), both probabilities exact.
        np.negative(pair, out=pair)
        np.exp(pair, out=pair)  # 1 - sigma(z), sigma(z)
        pair *= grad_coefs
        grad = pair[1]
        grad -= pair[0]
        return total, grad


# ----------------------------------------------------------------------------
# BCE on probabilities


def loss_from_probs(p, y, eps: float = 1e-7) -> np.ndarray:
    """Per-sample plain BCE in nats, p clipped to [eps, 1 - eps] (Keras' default eps)."""
    pp, yy = _prepare_probs(p, y)
    eps = _as_float("eps", eps)
    if not 0.0 <= eps < 0.5:
        raise ValueError(f"eps must be in [0, 0.5), got {eps!r}")
    pc = np.clip(pp, eps, 1.0 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = np.where(yy > 0, yy * np.log(pc), 0.0)
        neg = np.where(yy < 1, (1.0 - yy) * np.log1p(-pc), 0.0)
    return -(pos + neg)


def grad_wrt_prob(p, y, eps: float = 1e-7) -> np.ndarray:
    """dL/dp of plain BCE, -(y/p) + (1-y)/(1-p), with p in [0, 1] clipped to [eps, 1-eps]."""
    pp, yy = _prepare_probs(p, y)
    eps = _as_float("eps", eps)
    if not 0.0 <= eps < 0.5:
        raise ValueError(f"eps must be in [0, 0.5), got {eps!r}")
    pp = np.clip(pp, eps, 1.0 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = np.where(yy > 0, -yy / pp, 0.0)
        neg = np.where(yy < 1, (1.0 - yy) / (1.0 - pp), 0.0)
    return pos + neg


def entropy(y) -> np.ndarray:
    """Binary entropy H(y) in nats (0 log 0 = 0): the floor of BCE for a soft label y."""
    yy = validate_labels(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(np.where(yy > 0, yy * np.log(yy), 0.0) + np.where(yy < 1, (1 - yy) * np.log1p(-yy), 0.0))
    return h


def kl_divergence(z, y) -> np.ndarray:
    """KL(y || sigma(z)) = BCE(z, y) - H(y) in nats, >= 0."""
    return np.maximum(loss_from_logits(z, y) - entropy(y), 0.0)


def to_bits(nats):
    """Convert nats to bits (divide by ln 2)."""
    return np.asarray(nats, dtype=np.float64) / NATS_PER_BIT


# ----------------------------------------------------------------------------
# Comparison losses


def squared_error_from_logits(z, y) -> np.ndarray:
    """(sigma(z) - y)^2: the squared error on probabilities."""
    z, y, _ = _prepare(z, y, None)
    return (sigmoid(z) - y) ** 2


def squared_error_grad_from_logits(z, y) -> np.ndarray:
    """d/dz (sigma(z) - y)^2 = 2 (p - y) p (1 - p): vanishes when p saturates."""
    z, y, _ = _prepare(z, y, None)
    p = sigmoid(z)
    return 2.0 * (p - y) * p * (1.0 - p)


def hinge_from_logits(z, y) -> np.ndarray:
    """max(0, 1 - t z) with t = 2y - 1 (labels mapped to +-1)."""
    z, y, _ = _prepare(z, y, None)
    return np.maximum(0.0, 1.0 - (2.0 * y - 1.0) * z)


def hinge_grad_from_logits(z, y) -> np.ndarray:
    """Subgradient of the hinge loss in z: -t inside the margin, 0 beyond it."""
    z, y, _ = _prepare(z, y, None)
    t = 2.0 * y - 1.0
    return np.where(t * z < 1.0, -t, 0.0)


# ----------------------------------------------------------------------------
# Where frameworks cap a confidently wrong prediction

_FLOAT64_EPS = float(np.finfo(np.float64).eps)
_FLOAT32_EPS = float(np.finfo(np.float32).eps)

#: Per-sample loss of a prediction that is completely wrong (p = 0 for y = 1),
#: as each framework reports it, in nats. Each figure assumes the prediction
#: dtype in FRAMEWORK_CEILING_DTYPES: only scikit-learn's depends on it.
FRAMEWORK_CEILINGS: dict[str, float] = {
    # torch.nn.BCELoss clamps each log term at -100 (float32 and float64 alike).
    "pytorch": 100.0,
    # keras.losses.binary_crossentropy clips p to [1e-7, 1 - 1e-7] (16.118 in
    # float32 and float64 alike).
    "keras": -math.log(1e-7),
    # sklearn.metrics.log_loss clips p to [eps, 1 - eps] with eps the machine
    # epsilon of the predictions' dtype: this is the float64 figure, 36.04;
    # float32 predictions cap at 15.94 (SKLEARN_CEILINGS).
    "sklearn": -math.log(_FLOAT64_EPS),
    # BCE from logits has no ceiling: the loss grows like |z|.
    "logits": math.inf,
}

#: The dtype of the predictions each FRAMEWORK_CEILINGS figure assumes:
#: "float64", or "any" when the cap is the same in float32 and float64.
FRAMEWORK_CEILING_DTYPES: dict[str, str] = {
    "pytorch": "any",
    "keras": "any",
    "sklearn": "float64",
    "logits": "any",
}

#: scikit-learn's log_loss cap by the dtype of the predictions, in nats:
#: -log(eps) of that dtype (float32 eps 1.19e-7, float64 eps 2.22e-16).
SKLEARN_CEILINGS: dict[str, float] = {
    "float32": -math.log(_FLOAT32_EPS),
    "float64": -math.log(_FLOAT64_EPS),
}


def _float_dtype_name(dtype) -> str:
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = ""
    if name not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return name


def framework_ceiling(framework: str, dtype="float64") -> float:
    """The loss in nats a framework reports for a completely wrong prediction.

    framework: a key of FRAMEWORK_CEILINGS ("pytorch", "keras", "sklearn",
    "logits"); dtype: "float32" or "float64", the dtype of the predictions
    (it matters only for "sklearn": 15.94 for float32, 36.04 for float64).
    """
    name = _float_dtype_name(dtype)
    if framework not in FRAMEWORK_CEILINGS:
        raise ValueError(
            f"framework must be one of {', '.join(map(repr, FRAMEWORK_CEILINGS))}; "
            f"got {framework!r}"
        )
    if framework == "sklearn":
        return SKLEARN_CEILINGS[name]
    return FRAMEWORK_CEILINGS[framework]


def framework_loss_from_probs(p, y, framework: str, dtype="float64") -> np.ndarray:
    """Per-sample BCE of probabilities p as a framework computes it.

    framework: "pytorch" (BCELoss, log clamped at -100), "keras" (p clipped to
    [1e-7, 1 - 1e-7]), "sklearn" (log_loss, p clipped to [eps, 1 - eps] with
    eps the machine epsilon of ``dtype``) or "exact" (no clipping; inf where a
    hard label meets p = 0 or 1). dtype: "float32" or "float64", the dtype
    the framework is given the predictions in; only scikit-learn's clipping
    depends on it (the result is computed in float64 either way).
    """
    name = _float_dtype_name(dtype)
    # Validate here for every framework: the pytorch branch does not go through
    # loss_from_probs and would return NaN for p outside [0, 1].
    pp, yy = _prepare_probs(p, y)
    if framework == "pytorch":
        with np.errstate(divide="ignore"):
            lp = np.maximum(np.log(pp), -100.0)
            l1p = np.maximum(np.log1p(-pp), -100.0)
        return -(yy * lp + (1.0 - yy) * l1p)
    if framework == "keras":
        return loss_from_probs(pp, yy, eps=1e-7)
    if framework == "sklearn":
        return loss_from_probs(pp, yy, eps=_FLOAT32_EPS if name == "float32" else _FLOAT64_EPS)
    if framework == "exact":
        return loss_from_probs(pp, yy, eps=0.0)
    raise ValueError(
        f"framework must be one of 'pytorch', 'keras', 'sklearn', 'exact'; got {framework!r}"
    )
