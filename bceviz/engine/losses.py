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
    "framework_loss_from_probs",
    "validate_labels",
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


def _softplus_pair(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(softplus(z), softplus(-z)) = (-log(1 - p), -log p), each to full relative precision.

    softplus(-z) is not computed as softplus(z) - z: for z >> 0 that difference
    cancels (at z = 20 it keeps 6 digits, beyond z = 37 it is exactly 0).
    """
    tail = np.log1p(np.exp(-np.abs(z)))
    return np.maximum(z, 0.0) + tail, np.maximum(-z, 0.0) + tail


def _pieces(z: np.ndarray, ys: np.ndarray, spec: LossSpec):
    """Shared intermediate quantities for loss, gradient and curvature."""
    sp_pos, sp_neg = _softplus_pair(z)  # -log(1 - p), -log(p)
    p = np.exp(-sp_neg)  # sigma(z) without overflow
    one_minus_p = np.exp(-sp_pos)
    b = spec.pos_weight * ys
    a = b + 1.0 - ys
    # Two non-negative terms: no cancellation, full relative precision.
    ce = b * sp_neg + (1.0 - ys) * sp_pos
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


def loss_from_logits(z, y, spec: Optional[LossSpec] = None) -> np.ndarray:
    """Per-sample loss in nats (no reduction) for logits z and labels y in [0, 1]."""
    z, y, spec = _prepare(z, y, spec)
    ys = smooth_labels(y, spec.label_smoothing)
    if not spec.is_focal:
        # Fast path: no exponentials beyond softplus. Not a*softplus(z) - b*z,
        # which cancels for confident correct positives (z >> 0, y = 1).
        sp_pos, sp_neg = _softplus_pair(z)
        return (spec.pos_weight * ys) * sp_neg + (1.0 - ys) * sp_pos
    p, one_minus_p, _a, _b, ce = _pieces(z, ys, spec)
    loss = ce
    if spec.focal_gamma != 0.0:
        q = p * (1.0 - ys) + one_minus_p * ys
        loss = ce * q**spec.focal_gamma
    return loss * _alpha_t(ys, spec)


def grad_from_logits(z, y, spec: Optional[LossSpec] = None) -> np.ndarray:
    """Per-sample dL/dz. For plain BCE this is sigma(z) - y."""
    z, y, spec = _prepare(z, y, spec)
    ys = smooth_labels(y, spec.label_smoothing)
    p, one_minus_p, a, b, ce = _pieces(z, ys, spec)
    dce = _dce(p, one_minus_p, ys, b)
    if spec.focal_gamma == 0.0:
        return dce * _alpha_t(ys, spec)
    g = spec.focal_gamma
    _q, m, r1, _r2 = _focal_terms(p, one_minus_p, ys, g)
    dm = g * m * r1
    return (dce * m + ce * dm) * _alpha_t(ys, spec)


def curvature_from_logits(z, y, spec: Optional[LossSpec] = None) -> np.ndarray:
    """Per-sample d2L/dz2. For plain BCE this is p(1 - p), independent of y."""
    z, y, spec = _prepare(z, y, spec)
    ys = smooth_labels(y, spec.label_smoothing)
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

#: Per-sample loss of a prediction that is completely wrong (p = 0 for y = 1),
#: as each framework reports it, in nats.
FRAMEWORK_CEILINGS: dict[str, float] = {
    # torch.nn.BCELoss clamps each log term at -100.
    "pytorch": 100.0,
    # keras.losses.binary_crossentropy clips p to [1e-7, 1 - 1e-7].
    "keras": -math.log(1e-7),
    # sklearn.metrics.log_loss clips p to [eps, 1 - eps] with eps = float64 eps.
    "sklearn": -math.log(_FLOAT64_EPS),
    # BCE from logits has no ceiling: the loss grows like |z|.
    "logits": math.inf,
}


def framework_loss_from_probs(p, y, framework: str) -> np.ndarray:
    """Per-sample BCE of probabilities p as a framework computes it.

    framework: "pytorch" (BCELoss, log clamped at -100), "keras" (p clipped to
    [1e-7, 1 - 1e-7]), "sklearn" (log_loss, p clipped at float64 eps) or
    "exact" (no clipping; inf where a hard label meets p = 0 or 1).
    """
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
        return loss_from_probs(pp, yy, eps=_FLOAT64_EPS)
    if framework == "exact":
        return loss_from_probs(pp, yy, eps=0.0)
    raise ValueError(
        f"framework must be one of 'pytorch', 'keras', 'sklearn', 'exact'; got {framework!r}"
    )
