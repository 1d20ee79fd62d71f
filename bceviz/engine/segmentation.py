"""Pixel BCE against Dice: soft Dice and its gradient, overlap metrics, a synthetic scan and a per-pixel model.

The segmentation lab (``docs/architecture.md``, "Labs") asks of every pixel
of a scan "is this part of the lesion?". Everything here is NumPy, float64.

Losses (one image: an (H, W) array of logits and a mask of the same shape
with entries in [0, 1]; p = σ(logits), computed without overflow):

* :func:`soft_dice_loss` is MONAI ``DiceLoss(sigmoid=True, smooth_nr, smooth_dr,
  squared_pred)`` on a (1, 1, H, W) tensor::

      Dice = 1 − (2 Σ p·m + smooth_nr) / (Σ p + Σ m + smooth_dr)
      (squared_pred: Σ p² + Σ m² in the denominator)

  Edge cases, the way MONAI's docstrings state theirs:

  - an empty mask (Σ m = 0) with ``smooth_nr = 0`` gives exactly 1 for every
    prediction, and a zero gradient: the loss is pinned and nothing learns;
  - ``smooth_nr = 0, smooth_dr > 0`` gives a (near) all-zero prediction of an
    empty mask (the right answer) a loss of 1, the maximum;
  - ``smooth_nr = smooth_dr = s > 0`` gives that right answer a loss near 0;
  - ``smooth_nr`` larger than ``smooth_dr`` lets the loss go below 0, and when
    it is larger than about twice the lesion's area, predicting nothing is the
    loss's minimum;
  - a denominator of exactly 0 (only with ``smooth_dr = 0``, an empty mask and
    every p underflowing to 0) is 0/0 in MONAI (NaN). Here the ratio is taken
    as 1 (loss 0, two empty sets agree) when ``smooth_nr`` is 0 too; with
    ``smooth_nr > 0`` it is refused with a ValueError naming ``smooth_dr``.

* :func:`soft_dice_grad` is ∂Dice/∂logits per pixel. Every pixel's entry
  depends on the global sums (Σ p·m, Σ p): the gradient map couples the whole
  image, where BCE's (p − y)/N is local.
* :func:`dice_bce_loss` is MONAI ``DiceCELoss(sigmoid=True)``: ``lambda_dice``
  times the Dice above plus ``lambda_ce`` times the mean ``BCEWithLogits``.
* :func:`dice_coefficient` and :func:`iou` are the overlap metrics of two
  binary masks; two empty masks give 1.

The lab's world:

* :func:`make_scan`: a seeded synthetic scan (32, 64 or 128 pixels a side) of
  noisy tissue with one faint round lesion of a given position, radius
  (fractions of the side; 0 is an empty scan) and contrast.
* :func:`pixel_features`: per-pixel features -- the intensity and its local
  means over square windows at three scales (cumulative-sum box filters),
  each standardised over the image.
* :func:`train_step`: one gradient step of the per-pixel logistic model
  z = F·w + b, the weights shared by all pixels, with a :class:`SegLoss`
  (BCE, weighted BCE, focal, soft Dice, BCE + Dice).
* :func:`loss_size_curve`: each loss's value against the lesion's size for a
  fixed prediction quality.

All synthetic data are illustrative, with the generating parameters stated
in :func:`make_scan`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, replace

import numpy as np

from bceviz.engine.losses import (
    LossSpec,
    grad_from_logits,
    loss_from_logits,
    softplus_pair,
    validate_labels,
)

__all__ = [
    "DEFAULT_SMOOTH",
    "FEATURE_NAMES",
    "LOSS_KINDS",
    "LOSS_TITLES",
    "SCAN_SIZES",
    "OverlapFigures",
    "Scan",
    "SegLoss",
    "StepResult",
    "background_logit",
    "box_mean",
    "capsule_mask",
    "dice_bce_grad",
    "dice_bce_loss",
    "dice_coefficient",
    "disk_mask",
    "feature_scales",
    "iou",
    "logits_of",
    "loss_size_curve",
    "make_scan",
    "mask_outline",
    "overlap_figures",
    "pixel_features",
    "segmentation_loss",
    "sigmoid_pair",
    "soft_dice_grad",
    "soft_dice_loss",
    "suggested_pos_weight",
    "train_step",
]

#: MONAI's default smoothing terms (``smooth_nr = smooth_dr = 1e-5``).
DEFAULT_SMOOTH = 1e-5
#: Scan sizes the lab offers (pixels a side).
SCAN_SIZES = (32, 64, 128)
#: The losses a :class:`SegLoss` can be, in the order the lab lists them.
LOSS_KINDS = ("bce", "weighted_bce", "focal", "dice", "dice_bce")
LOSS_TITLES = {
    "bce": "BCE",
    "weighted_bce": "weighted BCE",
    "focal": "focal",
    "dice": "soft Dice",
    "dice_bce": "BCE + Dice",
}
#: Names of the columns :func:`pixel_features` returns (the box scales follow the size).
FEATURE_NAMES = ("intensity", "local mean (small)", "local mean (medium)", "local mean (large)")


# ----------------------------------------------------------------------------- validation
def _finite_float(name: str, value, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if lo is not None and v < lo:
        raise ValueError(f"{name} must be >= {lo:g}, got {v:g}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi:g}, got {v:g}")
    return v


def _image_pair(logits, mask) -> tuple[np.ndarray, np.ndarray]:
    """Logits (finite) and a mask in [0, 1] of the same shape, at least one pixel."""
    try:
        z = np.asarray(logits, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("logits must be an array of real numbers") from None
    if z.size == 0:
        raise ValueError("logits must have at least one pixel")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite numbers (no NaN or inf)")
    m = validate_labels(mask, "mask")
    if m.shape != z.shape:
        raise ValueError(f"mask must have the shape of logits {z.shape}, got {m.shape}")
    return z, m


def _binary(name: str, value) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a binary mask (bool or 0/1), got dtype {arr.dtype}")
    ok = (arr == 0) | (arr == 1)
    if not np.all(ok):
        raise ValueError(f"{name} must be a binary mask with values 0 and 1 only")
    return arr.astype(bool)


def sigmoid_pair(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(σ(z), 1 − σ(z)), each to full relative precision, for any finite z."""
    z = np.asarray(logits, dtype=np.float64)
    tail = np.log1p(np.exp(-np.abs(z)))
    return np.exp(-(np.maximum(-z, 0.0) + tail)), np.exp(-(np.maximum(z, 0.0) + tail))


# ----------------------------------------------------------------------------- soft Dice
def _dice_parts(z: np.ndarray, m: np.ndarray, smooth_nr: float, smooth_dr: float,
                squared_pred: bool):
    """(p, 1 − p, numerator, denominator, ratio) of the soft Dice; ratio = nr / dr."""
    p, q = sigmoid_pair(z)
    intersection = float(np.dot(p.ravel(), m.ravel()))
    if squared_pred:
        denominator = float(np.dot(p.ravel(), p.ravel()) + np.dot(m.ravel(), m.ravel()))
    else:
        denominator = float(p.sum() + m.sum())
    numerator = 2.0 * intersection + smooth_nr
    denominator += smooth_dr
    if denominator == 0.0:
        if numerator == 0.0:
            return p, q, numerator, denominator, 1.0
        raise ValueError("smooth_dr must be > 0 here: an empty mask and a prediction that "
                         "underflows to 0 make the Dice ratio undefined")
    ratio = numerator / denominator
    if not math.isfinite(ratio):
        raise ValueError("smooth_dr is too small for this prediction: the Dice ratio overflows")
    return p, q, numerator, denominator, ratio


def _smooth_args(smooth_nr, smooth_dr) -> tuple[float, float]:
    return (_finite_float("smooth_nr", smooth_nr, lo=0.0),
            _finite_float("smooth_dr", smooth_dr, lo=0.0))


def soft_dice_loss(logits, mask, *, smooth_nr: float = DEFAULT_SMOOTH,
                   smooth_dr: float = DEFAULT_SMOOTH, squared_pred: bool = False) -> float:
    """Soft Dice loss of one image: MONAI ``DiceLoss(sigmoid=True, ...)`` on (1, 1, H, W).

    logits: (H, W) finite logits (any shape, treated as one image); mask: same
    shape, entries in [0, 1] (soft masks allowed). ``smooth_nr``, ``smooth_dr``
    >= 0 are the numerator's and denominator's smoothing terms (in pixels).
    Returns ``1 − (2 Σ p·m + smooth_nr) / (Σ p + Σ m + smooth_dr)``, with
    ``Σ p² + Σ m²`` in the denominator when ``squared_pred``. The value is in
    [0, 1] when ``smooth_nr <= smooth_dr``; a larger ``smooth_nr`` can make it
    negative. Edge cases (empty masks, zero smoothing) as the module docstring
    states.
    """
    z, m = _image_pair(logits, mask)
    nr, dr = _smooth_args(smooth_nr, smooth_dr)
    return 1.0 - _dice_parts(z, m, nr, dr, bool(squared_pred))[4]


def soft_dice_grad(logits, mask, *, smooth_nr: float = DEFAULT_SMOOTH,
                   smooth_dr: float = DEFAULT_SMOOTH, squared_pred: bool = False) -> np.ndarray:
    """∂(soft Dice loss)/∂logits, one entry per pixel, the shape of ``logits``.

    With R = numerator / denominator and D' = ∂denominator/∂p_i (1, or 2 p_i
    with ``squared_pred``)::

        ∂Dice/∂z_i = −(2 m_i − R · D') / denominator · p_i (1 − p_i)

    Every entry depends on the sums over the whole image (R and the
    denominator): changing one pixel's prediction changes every pixel's
    gradient. An empty mask with ``smooth_nr = 0`` has R = 0 and m = 0, so the
    gradient is 0 at every pixel: the loss is pinned at 1.
    """
    z, m = _image_pair(logits, mask)
    nr, dr = _smooth_args(smooth_nr, smooth_dr)
    squared = bool(squared_pred)
    p, q, _num, den, ratio = _dice_parts(z, m, nr, dr, squared)
    if den == 0.0:
        return np.zeros_like(z)
    d_den = 2.0 * p if squared else 1.0
    return -(2.0 * m - ratio * d_den) * (p * q) / den


def dice_bce_loss(logits, mask, *, lambda_dice: float = 1.0, lambda_ce: float = 1.0,
                  smooth_nr: float = DEFAULT_SMOOTH, smooth_dr: float = DEFAULT_SMOOTH,
                  squared_pred: bool = False) -> float:
    """MONAI ``DiceCELoss(sigmoid=True)``: ``lambda_dice`` · soft Dice + ``lambda_ce`` · mean BCE.

    The BCE term is the mean over pixels of ``BCEWithLogits(logits, mask)``
    (``loss_from_logits``, stable for any finite logit), in nats; the Dice term
    is :func:`soft_dice_loss` with the same smoothing arguments (MONAI's
    defaults 1e-5). ``lambda_dice``, ``lambda_ce`` >= 0.
    """
    z, m = _image_pair(logits, mask)
    ld = _finite_float("lambda_dice", lambda_dice, lo=0.0)
    lc = _finite_float("lambda_ce", lambda_ce, lo=0.0)
    nr, dr = _smooth_args(smooth_nr, smooth_dr)
    dice = 1.0 - _dice_parts(z, m, nr, dr, bool(squared_pred))[4]
    bce = float(np.mean(loss_from_logits(z, m)))
    return ld * dice + lc * bce


def dice_bce_grad(logits, mask, *, lambda_dice: float = 1.0, lambda_ce: float = 1.0,
                  smooth_nr: float = DEFAULT_SMOOTH, smooth_dr: float = DEFAULT_SMOOTH,
                  squared_pred: bool = False) -> np.ndarray:
    """∂(:func:`dice_bce_loss`)/∂logits per pixel: λ_dice ∂Dice/∂z + λ_ce (p − m)/N."""
    z, m = _image_pair(logits, mask)
    ld = _finite_float("lambda_dice", lambda_dice, lo=0.0)
    lc = _finite_float("lambda_ce", lambda_ce, lo=0.0)
    g = soft_dice_grad(z, m, smooth_nr=smooth_nr, smooth_dr=smooth_dr,
                       squared_pred=squared_pred)
    return ld * g + lc * grad_from_logits(z, m) / z.size


# ----------------------------------------------------------------------------- metrics
def dice_coefficient(pred, mask) -> float:
    """Dice of two binary masks: 2|A ∩ B| / (|A| + |B|), in [0, 1]; two empty masks give 1."""
    a, b = _binary("pred", pred), _binary("mask", mask)
    if a.shape != b.shape:
        raise ValueError(f"pred {a.shape} and mask {b.shape} must have the same shape")
    total = int(a.sum()) + int(b.sum())
    if total == 0:
        return 1.0
    return 2.0 * int(np.count_nonzero(a & b)) / total


def iou(pred, mask) -> float:
    """Intersection over union (Jaccard) of two binary masks, in [0, 1]; two empty masks give 1."""
    a, b = _binary("pred", pred), _binary("mask", mask)
    if a.shape != b.shape:
        raise ValueError(f"pred {a.shape} and mask {b.shape} must have the same shape")
    union = int(np.count_nonzero(a | b))
    if union == 0:
        return 1.0
    return int(np.count_nonzero(a & b)) / union


@dataclass(frozen=True)
class OverlapFigures:
    """Hard figures of a prediction (p >= 0.5 is lesion) against a binary mask.

    ``recall`` (the share of lesion pixels found) and ``precision`` are None
    when undefined (no lesion pixels; nothing predicted).
    """

    dice: float
    iou: float
    pixel_accuracy: float
    recall: float | None
    precision: float | None
    predicted_pixels: int
    lesion_pixels: int
    pixels: int


def overlap_figures(logits, mask) -> OverlapFigures:
    """Dice, IoU, pixel accuracy, recall and precision of ``logits >= 0`` (p >= 0.5) against ``mask``.

    ``mask`` is read as binary (entries >= 0.5 are lesion).
    """
    z = np.asarray(logits, dtype=np.float64)
    m = np.asarray(mask, dtype=np.float64) >= 0.5
    if z.shape != m.shape:
        raise ValueError(f"mask must have the shape of logits {z.shape}, got {m.shape}")
    pred = z >= 0.0
    tp = int(np.count_nonzero(pred & m))
    n_pred, n_true, n = int(pred.sum()), int(m.sum()), int(z.size)
    fp, fn = n_pred - tp, n_true - tp
    return OverlapFigures(
        dice=1.0 if n_pred + n_true == 0 else 2.0 * tp / (n_pred + n_true),
        iou=1.0 if tp + fp + fn == 0 else tp / (tp + fp + fn),
        pixel_accuracy=(n - fp - fn) / n,
        recall=None if n_true == 0 else tp / n_true,
        precision=None if n_pred == 0 else tp / n_pred,
        predicted_pixels=n_pred, lesion_pixels=n_true, pixels=n,
    )


# ----------------------------------------------------------------------------- the lab's losses
@dataclass(frozen=True)
class SegLoss:
    """One of the lab's losses of a whole image, with its settings.

    kind: one of :data:`LOSS_KINDS`:

    * ``"bce"``: mean over pixels of BCE (PyTorch ``BCEWithLogitsLoss()``);
    * ``"weighted_bce"``: the same with ``pos_weight`` (>= 0) on lesion pixels
      (PyTorch ``BCEWithLogitsLoss(pos_weight=...)``, still divided by the
      number of pixels); :func:`suggested_pos_weight` gives n_neg / n_pos;
    * ``"focal"``: mean torchvision ``sigmoid_focal_loss`` with ``focal_gamma``
      (>= 0) and ``focal_alpha`` (None or in [0, 1]);
    * ``"dice"``: :func:`soft_dice_loss` with ``smooth_nr``, ``smooth_dr``,
      ``squared_pred``;
    * ``"dice_bce"``: :func:`dice_bce_loss` (``lambda_dice``, ``lambda_ce`` >= 0),
      with the same smoothing terms.

    Settings that a kind does not use are kept (so switching back restores them).
    """

    kind: str = "bce"
    pos_weight: float = 1.0
    focal_gamma: float = 2.0
    focal_alpha: float | None = None
    smooth_nr: float = DEFAULT_SMOOTH
    smooth_dr: float = DEFAULT_SMOOTH
    squared_pred: bool = False
    lambda_dice: float = 1.0
    lambda_ce: float = 1.0
    _spec: LossSpec = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in LOSS_KINDS:
            raise ValueError(f"kind must be one of {', '.join(LOSS_KINDS)}, got {self.kind!r}")
        for name in ("pos_weight", "focal_gamma", "smooth_nr", "smooth_dr", "lambda_dice",
                     "lambda_ce"):
            object.__setattr__(self, name, _finite_float(name, getattr(self, name), lo=0.0))
        if self.focal_alpha is not None:
            object.__setattr__(self, "focal_alpha",
                               _finite_float("focal_alpha", self.focal_alpha, 0.0, 1.0))
        object.__setattr__(self, "squared_pred", bool(self.squared_pred))
        if self.kind == "weighted_bce":
            spec = LossSpec(pos_weight=self.pos_weight)
        elif self.kind == "focal":
            spec = LossSpec(focal_gamma=self.focal_gamma, focal_alpha=self.focal_alpha)
        else:
            spec = LossSpec()
        object.__setattr__(self, "_spec", spec)

    @property
    def title(self) -> str:
        return LOSS_TITLES[self.kind]

    @property
    def spec(self) -> LossSpec:
        """The per-pixel LossSpec of the pixel-wise kinds (plain BCE for the Dice kinds' CE)."""
        return self._spec

    def with_kind(self, kind: str) -> SegLoss:
        return replace(self, kind=kind)

    def value_and_grad(self, logits: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray]:
        """(loss value, ∂loss/∂logits per pixel) on one image; inputs must already be valid.

        The hot path of training: no validation beyond what the formulas need.
        """
        z = logits
        m = mask
        n = z.size
        if self.kind in ("bce", "weighted_bce", "focal"):
            spec = self._spec
            value = float(loss_from_logits(z, m, spec).mean())
            return value, grad_from_logits(z, m, spec) / n
        p, q, _num, den, ratio = _dice_parts(z, m, self.smooth_nr, self.smooth_dr,
                                             self.squared_pred)
        dice = 1.0 - ratio
        if den == 0.0:
            g = np.zeros_like(z)
        else:
            d_den = 2.0 * p if self.squared_pred else 1.0
            g = -(2.0 * m - ratio * d_den) * (p * q) / den
        if self.kind == "dice":
            return dice, g
        # BCE's gradient p − m from the σ already at hand; its value via the stable form.
        bce = float(loss_from_logits(z, m).mean())
        value = self.lambda_dice * dice + self.lambda_ce * bce
        return value, self.lambda_dice * g + self.lambda_ce * (p - m) / n

    def value(self, logits, mask) -> float:
        """The loss of one image (validated inputs)."""
        z, m = _image_pair(logits, mask)
        return self.value_and_grad(z, m)[0]


def segmentation_loss(logits, mask, loss: SegLoss) -> tuple[float, np.ndarray]:
    """(value, ∂value/∂logits) of ``loss`` on one image, inputs validated."""
    if not isinstance(loss, SegLoss):
        raise ValueError(f"loss must be a SegLoss, got {type(loss).__name__}")
    z, m = _image_pair(logits, mask)
    return loss.value_and_grad(z, m)


def suggested_pos_weight(mask) -> float | None:
    """n_neg / n_pos of a mask (entries >= 0.5 count as lesion); None without lesion pixels."""
    m = np.asarray(mask, dtype=np.float64) >= 0.5
    n_pos = int(m.sum())
    if n_pos == 0:
        return None
    return (m.size - n_pos) / n_pos


def background_logit(mask) -> float:
    """The "predict background everywhere" baseline's constant logit.

    The best constant prediction for BCE is p = the lesion's share of the
    pixels; it is taken as (n_pos + 1/2) / (n + 1), so an empty scan gets a
    small positive p, and capped at 0.45 so that it thresholds (p < 0.5) to
    background everywhere even when most pixels are lesion.
    """
    m = np.asarray(mask, dtype=np.float64) >= 0.5
    share = min((float(m.sum()) + 0.5) / (m.size + 1.0), 0.45)
    return math.log(share) - math.log1p(-share)


# ----------------------------------------------------------------------------- the scan
@dataclass(frozen=True)
class Scan:
    """A synthetic scan: the image, the lesion's true mask and what generated them.

    image: (size, size) intensities (tissue around 0.5, see :func:`make_scan`);
    mask: (size, size) float64 0/1, the pixels whose centre lies within the
    lesion's radius. Row 0 is the top of the scan; pixel (r, c) covers
    [c, c + 1] × [r, r + 1] in pixel coordinates.
    """

    image: np.ndarray
    mask: np.ndarray
    size: int
    lesion_x: float
    lesion_y: float
    lesion_radius: float
    contrast: float
    noise: float
    seed: int

    @property
    def lesion_pixels(self) -> int:
        return int(self.mask.sum())

    @property
    def lesion_share(self) -> float:
        """The share of the pixels inside the lesion, in [0, 1]."""
        return self.lesion_pixels / self.mask.size


def _check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or int(size) not in SCAN_SIZES:
        raise ValueError(f"size must be one of {', '.join(map(str, SCAN_SIZES))}, got {size!r}")
    return int(size)


def disk_mask(size: int, cx: float, cy: float, radius: float) -> np.ndarray:
    """Boolean (size, size): pixels whose centre (c + ½, r + ½) is within ``radius`` of (cx, cy).

    Coordinates in pixels (x along columns, y down the rows). radius <= 0 gives no pixel.
    """
    centres = np.arange(size, dtype=np.float64) + 0.5
    if radius <= 0:
        return np.zeros((size, size), dtype=bool)
    dx2 = (centres - cx) ** 2
    dy2 = (centres - cy) ** 2
    return (dy2[:, None] + dx2[None, :]) <= radius * radius


def capsule_mask(size: int, x0: float, y0: float, x1: float, y1: float,
                 radius: float) -> np.ndarray:
    """Boolean (size, size): pixel centres within ``radius`` of the segment (x0, y0)–(x1, y1).

    A brush stroke from one mouse position to the next (pixel coordinates), so
    a fast stroke leaves no gaps. Only the stroke's bounding box is computed.
    """
    out = np.zeros((size, size), dtype=bool)
    r = max(float(radius), 0.5)
    c_lo = max(math.floor(min(x0, x1) - r - 0.5), 0)
    c_hi = min(math.ceil(max(x0, x1) + r + 0.5), size)
    r_lo = max(math.floor(min(y0, y1) - r - 0.5), 0)
    r_hi = min(math.ceil(max(y0, y1) + r + 0.5), size)
    if c_lo >= c_hi or r_lo >= r_hi:
        return out
    px = (np.arange(c_lo, c_hi, dtype=np.float64) + 0.5)[None, :]
    py = (np.arange(r_lo, r_hi, dtype=np.float64) + 0.5)[:, None]
    vx, vy = x1 - x0, y1 - y0
    length2 = vx * vx + vy * vy
    if length2 > 0:
        t = np.clip(((px - x0) * vx + (py - y0) * vy) / length2, 0.0, 1.0)
    else:
        t = np.zeros((1, 1))
    d2 = (px - (x0 + t * vx)) ** 2 + (py - (y0 + t * vy)) ** 2
    out[r_lo:r_hi, c_lo:c_hi] = d2 <= r * r
    return out


def mask_outline(mask) -> tuple[np.ndarray, np.ndarray]:
    """The pixel-edge outline of a binary mask, as segments for drawing.

    Returns (xs, ys) in pixel coordinates (pixel (r, c) covers [c, c + 1] ×
    [r, r + 1]); consecutive pairs of points are one unit edge between a mask
    pixel and a non-mask pixel (or the image border). Entries >= 0.5 count as
    mask. An empty mask gives two empty arrays.
    """
    m = np.asarray(mask) >= 0.5
    if m.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {m.shape}")
    rows, cols = m.shape
    padded = np.zeros((rows + 2, cols + 2), dtype=bool)
    padded[1:-1, 1:-1] = m
    # Horizontal edges at y = r (between rows r − 1 and r), x from c to c + 1.
    h_r, h_c = np.nonzero(padded[1:, 1:-1] != padded[:-1, 1:-1])
    # Vertical edges at x = c (between columns c − 1 and c), y from r to r + 1.
    v_r, v_c = np.nonzero(padded[1:-1, 1:] != padded[1:-1, :-1])
    xs = np.empty(2 * (h_r.size + v_r.size))
    ys = np.empty_like(xs)
    n = 2 * h_r.size
    xs[0:n:2], xs[1:n:2] = h_c, h_c + 1
    ys[0:n:2], ys[1:n:2] = h_r, h_r
    xs[n::2], xs[n + 1::2] = v_c, v_c
    ys[n::2], ys[n + 1::2] = v_r, v_r + 1
    return xs.astype(np.float64), ys.astype(np.float64)


_TISSUE_CACHE: dict[tuple[int, int, float], np.ndarray] = {}


def _tissue(size: int, seed: int, noise: float) -> np.ndarray:
    """The lesion-free scan: smooth tissue plus pixel noise (cached; read-only)."""
    key = (size, seed, noise)
    cached = _TISSUE_CACHE.get(key)
    if cached is not None:
        return cached
    # The tissue's shape comes from the seed alone, so the three sizes show the same scan.
    shape_rng = np.random.default_rng([seed, 0])
    n_blobs = 7
    bx, by = shape_rng.uniform(0.0, 1.0, n_blobs), shape_rng.uniform(0.0, 1.0, n_blobs)
    width = shape_rng.uniform(0.12, 0.3, n_blobs)
    amplitude = shape_rng.uniform(-0.15, 0.15, n_blobs)
    centres = (np.arange(size) + 0.5) / size
    tissue = np.full((size, size), 0.5)
    for x, y, s, a in zip(bx, by, width, amplitude):
        gx = np.exp(-0.5 * ((centres - x) / s) ** 2)
        gy = np.exp(-0.5 * ((centres - y) / s) ** 2)
        tissue += a * np.outer(gy, gx)
    noise_rng = np.random.default_rng([seed, 1, size])
    tissue += noise * noise_rng.standard_normal((size, size))
    tissue.setflags(write=False)
    if len(_TISSUE_CACHE) > 24:
        _TISSUE_CACHE.clear()
    _TISSUE_CACHE[key] = tissue
    return tissue


def make_scan(size: int = 64, *, lesion_x: float = 0.62, lesion_y: float = 0.4,
              lesion_radius: float = 0.06, contrast: float = 0.2, noise: float = 0.15,
              seed: int = 0) -> Scan:
    """A seeded synthetic scan: noisy tissue with one faint round lesion (illustrative only).

    size: 32, 64 or 128 pixels a side. lesion_x, lesion_y in [0, 1]: the
    lesion's centre as fractions of the side (x to the right, y down).
    lesion_radius in [0, 0.5]: fraction of the side; 0 is an empty scan, and
    0.056 covers about 1 % of the pixels (area share π r²). contrast in
    [0, 2]: the lesion's brightness above the tissue; noise in [0, 1]: the
    standard deviation of the Gaussian pixel noise. seed: a whole number >= 0.

    The tissue is 0.5 plus seven Gaussian bumps (amplitudes ±0.15, widths
    0.12–0.3 of the side, placed by the seed), plus the pixel noise. The
    lesion adds ``contrast`` · σ((radius − distance) / 0.5 px): a disk with a
    half-pixel soft edge (cut off 5 px beyond the radius, where it is below
    5e-5 of the contrast). The same seed gives the same tissue at every size
    and wherever the lesion is, so moving the lesion changes nothing else.
    """
    size = _check_size(size)
    lx = _finite_float("lesion_x", lesion_x, 0.0, 1.0)
    ly = _finite_float("lesion_y", lesion_y, 0.0, 1.0)
    lr = _finite_float("lesion_radius", lesion_radius, 0.0, 0.5)
    contrast = _finite_float("contrast", contrast, 0.0, 2.0)
    noise = _finite_float("noise", noise, 0.0, 1.0)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be a whole number in [0, 2**32), got {seed!r}")
    seed = int(seed)
    image = _tissue(size, seed, noise).copy()
    cx, cy, radius = lx * size, ly * size, lr * size
    if radius > 0:
        centres = np.arange(size, dtype=np.float64) + 0.5
        dist = np.sqrt((centres[None, :] - cx) ** 2 + (centres[:, None] - cy) ** 2)
        near = dist <= radius + 5.0  # beyond 5 px the edge is below 5e-5: leave the tissue exact
        edge = sigmoid_pair((radius - dist[near]) / 0.5)[0]
        image[near] += contrast * edge
    mask = disk_mask(size, cx, cy, radius).astype(np.float64)
    return Scan(image=image, mask=mask, size=size, lesion_x=lx, lesion_y=ly,
                lesion_radius=lr, contrast=contrast, noise=noise, seed=seed)


# ----------------------------------------------------------------------------- features
def box_mean(image, half_width: int) -> np.ndarray:
    """Mean over the (2h + 1)² square around each pixel, from cumulative sums (O(pixels)).

    At the borders the window is cut to the image and the mean is taken over
    the pixels it still covers (no padding values). half_width >= 0 (0: the image).
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2 or img.size == 0:
        raise ValueError(f"image must be a non-empty 2-D array, got shape {img.shape}")
    if isinstance(half_width, bool) or not isinstance(half_width, numbers.Integral) or half_width < 0:
        raise ValueError(f"half_width must be a whole number >= 0, got {half_width!r}")
    h = int(half_width)
    if h == 0:
        return img.copy()
    rows, cols = img.shape
    integral = np.zeros((rows + 1, cols + 1))
    np.cumsum(img, axis=0, out=integral[1:, 1:])
    np.cumsum(integral[1:, 1:], axis=1, out=integral[1:, 1:])
    r_lo = np.clip(np.arange(rows) - h, 0, rows)
    r_hi = np.clip(np.arange(rows) + h + 1, 0, rows)
    c_lo = np.clip(np.arange(cols) - h, 0, cols)
    c_hi = np.clip(np.arange(cols) + h + 1, 0, cols)
    total = (integral[r_hi][:, c_hi] - integral[r_lo][:, c_hi]
             - integral[r_hi][:, c_lo] + integral[r_lo][:, c_lo])
    count = np.outer(r_hi - r_lo, c_hi - c_lo)
    return total / count


def feature_scales(size: int) -> tuple[int, int, int]:
    """Half-widths (pixels) of the three local means: (1, 3, 6) at 64 px, scaled with the side.

    ``max(1, round(k · size / 64))`` for k = 1, 3, 6: (1, 2, 3) at 32 px,
    (2, 6, 12) at 128 px, so the windows cover the same part of the scan.
    """
    size = _check_size(size)
    a, b, c = (max(1, round(k * size / 64)) for k in (1, 3, 6))
    return a, b, c


def pixel_features(image, scales: tuple[int, ...] | None = None) -> np.ndarray:
    """Per-pixel features, an (H·W, 1 + len(scales)) float64 array, rows in raster order.

    Columns: the pixel's intensity, then its local mean over (2h + 1)² windows
    for each half-width h in ``scales`` (:func:`box_mean`; default
    :func:`feature_scales` of a square image's side, else (1, 3, 6)). Each
    column is standardised over the image (mean 0, standard deviation 1; a
    constant column becomes 0), so one learning rate suits every feature.
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2 or img.size == 0:
        raise ValueError(f"image must be a non-empty 2-D array, got shape {img.shape}")
    if not np.all(np.isfinite(img)):
        raise ValueError("image must be finite numbers (no NaN or inf)")
    if scales is None:
        scales = feature_scales(img.shape[0]) if (img.shape[0] == img.shape[1]
                                                  and img.shape[0] in SCAN_SIZES) else (1, 3, 6)
    columns = [img] + [box_mean(img, h) for h in scales]
    features = np.empty((img.size, len(columns)))
    for j, col in enumerate(columns):
        flat = col.ravel()
        centred = flat - flat.mean()
        sd = float(np.sqrt(np.mean(centred * centred)))
        features[:, j] = centred / sd if sd > 1e-12 else 0.0
    return features


def logits_of(features: np.ndarray, weights: np.ndarray, bias: float) -> np.ndarray:
    """z = F·w + b for every pixel: (N,) logits from (N, F) features."""
    return features @ weights + bias


@dataclass(frozen=True)
class StepResult:
    """One training step: the new weights, and the loss and its logit gradient before the step."""

    weights: np.ndarray
    bias: float
    velocity: np.ndarray  # momentum buffer, (F + 1,): the weights' then the bias's
    loss: float
    grad_logits: np.ndarray  # (N,) ∂loss/∂z at the weights before the step
    grad_weights: np.ndarray  # (F + 1,) ∂loss/∂(w, b)


def train_step(features: np.ndarray, mask: np.ndarray, weights: np.ndarray, bias: float,
               loss: SegLoss, lr: float, *, momentum: float = 0.0,
               velocity: np.ndarray | None = None) -> StepResult:
    """One full-batch gradient step of the per-pixel logistic model z = F·w + b.

    features (N, F) from :func:`pixel_features`; mask (N,) (or any shape with N
    entries) in [0, 1]; the loss is of the whole image, so the weights' gradient
    is exact through the shared weights: ∂L/∂w = Fᵀ ∂L/∂z, ∂L/∂b = Σ ∂L/∂z
    (for BCE + Dice, both terms' gradients added pixel by pixel). lr > 0;
    momentum in [0, 1) (heavy ball: v ← momentum · v + grad, θ ← θ − lr · v).
    """
    lr = _finite_float("lr", lr, lo=0.0)
    momentum = _finite_float("momentum", momentum, 0.0, 0.999)
    z = features @ weights + bias
    m = np.asarray(mask, dtype=np.float64).reshape(-1)
    value, g = loss.value_and_grad(z, m)
    grad = np.empty(features.shape[1] + 1)
    grad[:-1] = g @ features
    grad[-1] = g.sum()
    v = grad if velocity is None else momentum * velocity + grad
    new_w = weights - lr * v[:-1]
    new_b = float(bias - lr * v[-1])
    return StepResult(weights=new_w, bias=new_b, velocity=v, loss=value, grad_logits=g,
                      grad_weights=grad)


# ----------------------------------------------------------------------------- size curve
def loss_size_curve(size: int, losses: dict[str, SegLoss], *, shares=None,
                    edge_px: float = 1.0, offset_px: float = 1.0) -> dict[str, np.ndarray]:
    """Each loss's value, and the hard Dice, against lesion size for a fixed prediction quality.

    For each lesion share (fraction of the pixels, default 24 values spaced
    logarithmically from 0.1 % to 20 %) a centred round lesion of that area is
    drawn on a ``size``² scan, and the same kind of prediction is made for
    every size: a disk of the right radius, shifted ``offset_px`` pixels to the
    right, with a soft edge: logit = (radius − distance) / ``edge_px``. Per
    pixel the quality is the same at every size; what changes is how many
    pixels the error touches relative to the lesion.

    Returns ``{"share": ..., "radius_px": ..., "dice_metric": hard Dice, <name>: values}``
    with one array per entry of ``losses``; "share" is the drawn lesion's
    actual share of the pixels (whole pixels), not the requested one.
    """
    size = _check_size(size)
    edge = _finite_float("edge_px", edge_px, lo=1e-3)
    offset = _finite_float("offset_px", offset_px, lo=0.0)
    if shares is None:
        shares = np.geomspace(1e-3, 0.2, 24)
    shares = np.asarray(shares, dtype=np.float64)
    if shares.ndim != 1 or np.any(~np.isfinite(shares)) or np.any(shares < 0) or np.any(shares > 0.5):
        raise ValueError("shares must be a 1-D array of lesion shares in [0, 0.5]")
    n = size * size
    centres = np.arange(size, dtype=np.float64) + 0.5
    c = size / 2.0
    d_true = np.sqrt((centres[None, :] - c) ** 2 + (centres[:, None] - c) ** 2).ravel()
    d_pred = np.sqrt((centres[None, :] - c - offset) ** 2 + (centres[:, None] - c) ** 2).ravel()
    radii = np.sqrt(shares * n / math.pi)
    # All sizes at once: (k, N) masks and logits.
    masks = (d_true[None, :] <= radii[:, None]).astype(np.float64)
    logits = (radii[:, None] - d_pred[None, :]) / edge
    out: dict[str, np.ndarray] = {"share": masks.sum(axis=1) / n, "radius_px": radii}
    pred = logits >= 0.0
    truth = masks > 0
    tp = np.count_nonzero(pred & truth, axis=1)
    total = pred.sum(axis=1) + truth.sum(axis=1)
    out["dice_metric"] = np.where(total == 0, 1.0, 2.0 * tp / np.maximum(total, 1))
    for name in losses:
        if name in out:
            raise ValueError(f"losses: {name!r} is a reserved key of the result")
    # −log(1 − p) and −log p once for every BCE-like term (the stable softplus forms).
    sp_pos, sp_neg = softplus_pair(logits)  # the losses module's stable pair
    p = np.exp(-sp_neg)
    bce = (masks * sp_neg + (1.0 - masks) * sp_pos).mean(axis=1)
    for name, loss in losses.items():
        if loss.kind == "bce":
            out[name] = bce
        elif loss.kind == "weighted_bce":
            out[name] = (loss.pos_weight * masks * sp_neg + (1.0 - masks) * sp_pos).mean(axis=1)
        elif loss.kind == "focal":
            out[name] = loss_from_logits(logits, masks, loss.spec).mean(axis=1)
        else:
            intersection = np.einsum("ij,ij->i", p, masks)
            if loss.squared_pred:
                den = np.einsum("ij,ij->i", p, p) + np.einsum("ij,ij->i", masks, masks)
            else:
                den = p.sum(axis=1) + masks.sum(axis=1)
            dice = 1.0 - (2.0 * intersection + loss.smooth_nr) / (den + loss.smooth_dr)
            out[name] = dice if loss.kind == "dice" else (loss.lambda_dice * dice
                                                           + loss.lambda_ce * bce)
    return out
