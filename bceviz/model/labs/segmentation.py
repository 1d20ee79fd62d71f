"""The segmentation lab's state: a scan, its lesion mask, a per-pixel model and the loss it trains with.

The lab (see ``docs/architecture.md``, "Labs") asks of every pixel of a
synthetic scan "is this part of the lesion?". It holds

* the **scan**: seeded, synthetic and illustrative
  (:func:`bceviz.engine.segmentation.make_scan`: 32, 64 or 128 pixels a side,
  noisy tissue with one faint round lesion whose centre, radius — fractions of
  the side; 0 is an empty scan — and contrast the user sets);
* the **mask** the model learns: the lesion's disk, plus the user's brush
  strokes (painted pixels become lesion, erased ones background; strokes stay
  where they are when the lesion moves and are cleared when the size changes);
* the **model**: a logistic regression on four per-pixel features (the
  intensity and its local means over 3², 7² and 13² windows at 64 px, scaled
  with the side; each standardised over the scan), z = F·w + b with the
  weights shared by all pixels, started at w = 0, b = 0 (p = 0.5 everywhere)
  and trained live by full-batch gradient descent with heavy-ball momentum;
* the **loss**: BCE, weighted BCE (``pos_weight``; n_neg / n_pos is offered),
  focal (γ, α), soft Dice (``smooth_nr``, ``smooth_dr``, ``squared_pred``) or
  BCE + Dice (λ_dice, λ_ce), each of the whole image (MONAI's and PyTorch's
  conventions, :class:`bceviz.engine.segmentation.SegLoss`).

Derived figures, computed here once per state version and shared by every
panel (:meth:`SegmentationState.figures`, :meth:`gradient_map`,
:meth:`size_curve`): Dice, IoU, pixel accuracy, recall of the lesion's pixels
and the loss for the model and for the "predict background everywhere"
baseline; the per-pixel gradient ∂L/∂z of the chosen loss on a colour scale
shared by the five losses at the current prediction; each loss's value
against the lesion's size for a fixed prediction quality.

Events: ``scan`` (the image changed, and with it the mask and the model's
logits), ``mask`` (only the mask changed: a brush stroke), ``model`` (the
weights; a training step has ``reason="step"``), ``settings`` (loss and
training settings), ``view`` (tool, brush, colour scale).

Limits: at most 128 × 128 pixels; ``step(n)`` does at most
:data:`MAX_STEPS_PER_CALL` steps a call; the history keeps at most
:data:`HISTORY_MAX` points (thinned by two when full).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from bceviz.engine import segmentation as _seg
from bceviz.engine.segmentation import LOSS_KINDS, OverlapFigures, SegLoss
from bceviz.model.labs import LabInfo
from bceviz.model.labs.base import (
    LabError,
    LabState,
    boolean,
    check_keys,
    choice,
    integer,
    number,
)

#: ``step(n)`` does at most this many steps per call.
MAX_STEPS_PER_CALL = 100_000
#: Training history (step, loss, Dice) kept for the "over steps" plot.
HISTORY_MAX = 2000
#: Stage settings may train this many steps before the stage opens.
MAX_PRETRAIN = 20_000
#: A weight beyond this is divergence: the step is undone and training stops.
WEIGHT_LIMIT = 1e6
#: Decades of |∂L/∂z| the gradient map's colour scale spans below its top.
GRAD_DECADES = 3
TOOLS = ("move", "paint", "erase")
GRAD_SCALES = ("shared", "own")
SESSION_FORMAT = 1

DEFAULT_SCAN: dict[str, Any] = {
    "size": 64, "seed": 0, "lesion_x": 0.62, "lesion_y": 0.4, "lesion_radius": 0.06,
    "contrast": 0.2, "noise": 0.15,
}
DEFAULT_LOSS: dict[str, Any] = {
    "kind": "bce", "pos_weight": 1.0, "focal_gamma": 2.0, "focal_alpha": None,
    "smooth_nr": _seg.DEFAULT_SMOOTH, "smooth_dr": _seg.DEFAULT_SMOOTH, "squared_pred": False,
    "lambda_dice": 1.0, "lambda_ce": 1.0,
}
DEFAULT_TRAINING: dict[str, Any] = {"lr": 0.5, "momentum": 0.9, "steps_per_frame": 1}
DEFAULT_VIEW: dict[str, Any] = {"tool": "move", "brush_radius": 1.5, "grad_scale": "shared"}

#: Ranges of the numeric settings: (low, high).
SCAN_RANGES = {"lesion_x": (0.0, 1.0), "lesion_y": (0.0, 1.0), "lesion_radius": (0.0, 0.25),
               "contrast": (0.0, 1.0), "noise": (0.0, 0.5)}
LOSS_RANGES = {"pos_weight": (0.0, 10_000.0), "focal_gamma": (0.0, 5.0),
               "smooth_nr": (0.0, 1000.0), "smooth_dr": (1e-8, 1000.0),
               "lambda_dice": (0.0, 10.0), "lambda_ce": (0.0, 10.0)}
TRAINING_RANGES = {"lr": (1e-4, 50.0), "momentum": (0.0, 0.99)}
BRUSH_RANGE = (0.5, 12.0)


def _finite(value: Any) -> float | None:
    """A float for a report, or None when it is missing or not finite."""
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class SegFigures:
    """What the figures table shows: the model against "background everywhere".

    ``model`` and ``baseline`` are hard figures at p >= 0.5; ``loss_value`` and
    ``baseline_loss`` are the chosen loss of each (nats for the BCE kinds,
    dimensionless for Dice). ``suggested_pos_weight`` is n_neg / n_pos (None
    on an empty mask). ``baseline_p`` is the baseline's constant probability.
    """

    version: tuple
    loss_kind: str
    loss_title: str
    model: OverlapFigures
    loss_value: float
    baseline: OverlapFigures
    baseline_loss: float
    baseline_p: float
    suggested_pos_weight: float | None
    steps: int


@dataclass(frozen=True)
class GradientMap:
    """∂L/∂z per pixel of the chosen loss, and the colour scale it is drawn on.

    ``values``: (size, size). ``scale`` > 0: the colour bar spans ±scale; with
    ``shared`` it is the largest |∂L/∂z| of any of the five losses at the
    current prediction (so switching the loss keeps the colours comparable),
    else this loss's own largest, rounded up to a step of :data:`SCALE_STEPS`. ``own_max`` per loss kind;
    ``lesion_share``: the share of Σ|∂L/∂z| on lesion pixels per kind (None
    when the gradient is 0 everywhere).
    """

    version: tuple
    kind: str
    values: np.ndarray
    scale: float
    shared: bool
    own_max: dict[str, float]
    lesion_share: dict[str, float | None]
    #: ``values`` on the colour scale, in [−1, 1]: a signed logarithm over
    #: :data:`GRAD_DECADES` decades below ``scale`` (linear near 0), so the small
    #: gradients of confident pixels stay visible beside the large ones.
    display: np.ndarray
    #: (position in [−1, 1], value of ∂L/∂z) for the colour bar's ticks.
    ticks: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class SizeCurve:
    """Each loss's value and the hard Dice against the lesion's share of the pixels.

    See :func:`bceviz.engine.segmentation.loss_size_curve`: a centred lesion
    of each size, predicted with a 1-px soft edge and shifted by 1 px.
    ``values`` per loss kind (with the current settings), ``dice_metric`` the
    hard Dice; ``current_share`` the scan's lesion share now.
    """

    version: tuple
    share: np.ndarray
    values: dict[str, np.ndarray]
    dice_metric: np.ndarray
    current_share: float
    edge_px: float
    offset_px: float


#: Steps of the gradient map's colour scale within a decade (it moves in these steps, so
#: the colour bar is not redrawn on every training step).
SCALE_STEPS = (1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0)


def nice_ceil(value: float) -> float:
    """The smallest m · 10^k >= ``value`` with m in :data:`SCALE_STEPS` (value > 0)."""
    exponent = math.floor(math.log10(value))
    for m in SCALE_STEPS:
        candidate = m * 10.0 ** exponent
        if candidate >= value * (1 - 1e-12):
            return float(f"{candidate:.3g}")
    return 10.0 ** (exponent + 1)


def symlog(values: np.ndarray, scale: float, decades: int = GRAD_DECADES) -> np.ndarray:
    """Signed log scale: sign(g) · log10(1 + |g|/g0) / log10(1 + scale/g0), g0 = scale · 10^−decades.

    Maps [−scale, scale] onto [−1, 1] (clipped beyond), monotonic and odd;
    nearly linear for |g| << g0, logarithmic above.
    """
    g0 = scale * 10.0 ** (-decades)
    top = math.log10(1.0 + scale / g0)
    out = np.sign(values) * np.log10(1.0 + np.abs(values) / g0) / top
    return np.clip(out, -1.0, 1.0)


def symlog_ticks(scale: float, decades: int = GRAD_DECADES) -> tuple[tuple[float, float], ...]:
    """Colour-bar ticks of :func:`symlog`: 0 and ± one round value (1, 2 or 5 × 10^k) per decade.

    The top tick is the largest round value at most ``scale``; the others are
    it divided by 10, 100, ... (``decades`` in all on each side).
    """
    if not (scale > 0 and math.isfinite(scale)):
        return ((0.0, 0.0),)
    exponent = math.floor(math.log10(scale))
    top = max(m * 10.0 ** exponent for m in (1.0, 2.0, 5.0) if m * 10.0 ** exponent <= scale * (1 + 1e-12))
    ticks = [(0.0, 0.0)]
    for k in range(decades):
        v = top * 10.0 ** (-k)
        pos = float(symlog(np.array(v), scale, decades))
        ticks += [(pos, v), (-pos, -v)]
    return tuple(sorted(ticks))


class SegmentationState(LabState):
    """The segmentation lab's Qt-free state (the only writer of its fields)."""

    lab_id = "segmentation"
    EVENTS = ("scan", "mask", "model", "settings", "view")

    def __init__(self) -> None:
        super().__init__()
        self.scan_params: dict[str, Any] = dict(DEFAULT_SCAN)
        self.loss_params: dict[str, Any] = dict(DEFAULT_LOSS)
        self.training: dict[str, Any] = dict(DEFAULT_TRAINING)
        self.view: dict[str, Any] = dict(DEFAULT_VIEW)
        self.steps_per_frame = int(self.training["steps_per_frame"])
        self.scan: _seg.Scan = _seg.make_scan(**self.scan_params)
        self.features: np.ndarray = _seg.pixel_features(self.scan.image)
        self._edits = np.zeros((self.scan.size, self.scan.size), dtype=np.int8)
        self.mask: np.ndarray = self.scan.mask.copy()
        self._mask_flat = self.mask.ravel()
        self.loss: SegLoss = SegLoss(**self.loss_params)
        n_w = self.features.shape[1]
        self.weights = np.zeros(n_w)
        self.bias = 0.0
        self._velocity = np.zeros(n_w + 1)
        self.step_count = 0
        self._history: list[tuple[int, float, float]] = []
        self._history_stride = 1
        self._versions = {"scan": 0, "mask": 0, "model": 0, "settings": 0, "view": 0}
        self._logits_cache: tuple[tuple, np.ndarray] | None = None
        self._outline_cache: tuple[tuple, tuple[np.ndarray, np.ndarray]] | None = None
        self._figures: SegFigures | None = None
        self._gradient: GradientMap | None = None
        self._curve: SizeCurve | None = None
        self._record_history()

    # ----------------------------------------------------------------- helpers
    def _emit(self, name: str, **info: Any) -> None:
        getattr(self.events, name).emit(**info)

    def _bump(self, *names: str) -> None:
        for name in names:
            self._versions[name] += 1

    def version(self) -> tuple:
        """Changes whenever anything a figure depends on changes."""
        v = self._versions
        return (v["scan"], v["mask"], v["model"], v["settings"], v["view"])

    def _rebuild_mask(self) -> None:
        disk = self.scan.mask > 0
        mask = (disk | (self._edits > 0)) & ~(self._edits < 0)
        self.mask = mask.astype(np.float64)
        self._mask_flat = self.mask.ravel()

    def logits(self) -> np.ndarray:
        """The model's logits per pixel, (size, size) (cached per scan and model version)."""
        key = (self._versions["scan"], self._versions["model"])
        if self._logits_cache is None or self._logits_cache[0] != key:
            z = _seg.logits_of(self.features, self.weights, self.bias)
            self._logits_cache = (key, z.reshape(self.scan.size, self.scan.size))
        return self._logits_cache[1]

    def outline(self) -> tuple[np.ndarray, np.ndarray]:
        """The mask's pixel-edge outline as segment pairs (cached per mask; shared by the maps)."""
        key = (self._versions["scan"], self._versions["mask"])
        if self._outline_cache is None or self._outline_cache[0] != key:
            self._outline_cache = (key, _seg.mask_outline(self.mask))
        return self._outline_cache[1]

    def probability(self) -> np.ndarray:
        """σ(z) per pixel, (size, size), in [0, 1]."""
        return _seg.sigmoid_pair(self.logits())[0]

    def _record_history(self) -> None:
        if self.step_count % self._history_stride:
            return
        value, _g = self.loss.value_and_grad(self.logits().ravel(), self._mask_flat)
        dice = _seg.overlap_figures(self.logits(), self.mask).dice
        self._history.append((self.step_count, float(value), float(dice)))
        if len(self._history) > HISTORY_MAX:
            self._history = self._history[::2]
            self._history_stride *= 2

    def history(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, loss, hard Dice) over training, since the last reset (at most HISTORY_MAX)."""
        if not self._history:
            return np.zeros(0), np.zeros(0), np.zeros(0)
        arr = np.asarray(self._history, dtype=np.float64)
        return arr[:, 0], arr[:, 1], arr[:, 2]

    def _reset_model(self) -> None:
        n_w = self.features.shape[1]
        self.weights = np.zeros(n_w)
        self.bias = 0.0
        self._velocity = np.zeros(n_w + 1)
        self.step_count = 0
        self._history, self._history_stride = [], 1
        self._bump("model")
        self._record_history()

    # ------------------------------------------------------------------ validation
    @staticmethod
    def _validated_scan(values: dict, base: dict, path: str = "scan") -> dict:
        check_keys(values, path, set(DEFAULT_SCAN))
        out = dict(base)
        for key, value in values.items():
            where = f"{path}.{key}"
            if key == "size":
                if isinstance(value, bool) or value not in _seg.SCAN_SIZES:
                    raise LabError(f"{where} must be one of "
                                   f"{', '.join(map(str, _seg.SCAN_SIZES))}, got {value!r}")
                out[key] = int(value)
            elif key == "seed":
                out[key] = integer(value, where, 0, 2**31 - 1)
            else:
                out[key] = number(value, where, *SCAN_RANGES[key])
        return out

    def _validated_loss(self, values: dict, base: dict, path: str = "loss",
                        mask: np.ndarray | None = None) -> dict:
        check_keys(values, path, set(DEFAULT_LOSS))
        out = dict(base)
        for key, value in values.items():
            where = f"{path}.{key}"
            if key == "kind":
                out[key] = choice(value, where, LOSS_KINDS)
            elif key == "squared_pred":
                out[key] = boolean(value, where)
            elif key == "focal_alpha":
                out[key] = None if value is None else number(value, where, 0.0, 1.0)
            elif key == "pos_weight" and value == "suggested":
                suggested = _seg.suggested_pos_weight(self.mask if mask is None else mask)
                if suggested is None:
                    raise LabError(f"{where}: no lesion pixels, so n_neg / n_pos is undefined")
                out[key] = min(suggested, LOSS_RANGES["pos_weight"][1])
            else:
                out[key] = number(value, where, *LOSS_RANGES[key])
        return out

    @staticmethod
    def _validated_training(values: dict, base: dict, path: str = "training") -> dict:
        check_keys(values, path, set(DEFAULT_TRAINING))
        out = dict(base)
        for key, value in values.items():
            where = f"{path}.{key}"
            if key == "steps_per_frame":
                out[key] = integer(value, where, 1, 50)
            else:
                out[key] = number(value, where, *TRAINING_RANGES[key])
        return out

    @staticmethod
    def _validated_view(values: dict, base: dict, path: str = "view") -> dict:
        check_keys(values, path, set(DEFAULT_VIEW))
        out = dict(base)
        for key, value in values.items():
            where = f"{path}.{key}"
            if key == "tool":
                out[key] = choice(value, where, TOOLS)
            elif key == "grad_scale":
                out[key] = choice(value, where, GRAD_SCALES)
            else:
                out[key] = number(value, where, *BRUSH_RANGE)
        return out

    # ------------------------------------------------------------------ stage settings
    def apply_settings(self, settings: dict) -> None:
        """Put the lab into a stage's settings (validated first; all or nothing).

        Keys (each optional; a missing one takes its default, nothing is
        inherited from the stage before; brush strokes are cleared and the
        model starts again at w = 0):

        * ``scan`` {size 32/64/128, seed, lesion_x, lesion_y 0–1,
          lesion_radius 0–0.25 (fraction of the side), contrast 0–1, noise 0–0.5};
        * ``loss`` {kind bce/weighted_bce/focal/dice/dice_bce, pos_weight
          0–10,000 or "suggested" (n_neg / n_pos of the stage's scan),
          focal_gamma 0–5, focal_alpha null or 0–1, smooth_nr 0–1,000,
          smooth_dr 1e-8–1,000, squared_pred, lambda_dice, lambda_ce 0–10};
        * ``training`` {lr 1e-4–50, momentum 0–0.99, steps_per_frame 1–50};
        * ``view`` {tool move/paint/erase, brush_radius 0.5–12 px,
          grad_scale shared/own};
        * ``pretrain_steps`` 0–20,000: training steps taken before the stage opens.
        """
        check_keys(settings, "settings", {"scan", "loss", "training", "view", "pretrain_steps"})
        scan_params = self._validated_scan(settings.get("scan", {}), DEFAULT_SCAN,
                                           "settings.scan")
        try:
            scan = _seg.make_scan(**scan_params)
        except ValueError as exc:
            raise LabError(f"settings.scan: {exc}") from None
        loss_params = self._validated_loss(settings.get("loss", {}), DEFAULT_LOSS,
                                           "settings.loss", mask=scan.mask)
        training = self._validated_training(settings.get("training", {}), DEFAULT_TRAINING,
                                            "settings.training")
        view = self._validated_view(settings.get("view", {}), DEFAULT_VIEW, "settings.view")
        pretrain = integer(settings.get("pretrain_steps", 0), "settings.pretrain_steps", 0,
                           MAX_PRETRAIN)
        with self.transaction():
            self.set_running(False)
            self.scan_params, self.loss_params = scan_params, loss_params
            self.training, self.view = training, view
            self.steps_per_frame = int(training["steps_per_frame"])
            self.loss = SegLoss(**loss_params)
            self._install_scan(scan, clear_edits=True)
            self._reset_model()
            self._bump("settings", "view")
            if pretrain:
                self._train(pretrain)
            self._emit("scan")
            self._emit("mask")
            self._emit("model", reason="stage")
            self._emit("settings")
            self._emit("view")

    # ------------------------------------------------------------------ the scan
    def _install_scan(self, scan: _seg.Scan, *, clear_edits: bool) -> None:
        resized = scan.size != self.scan.size
        image_changed = resized or not np.array_equal(scan.image, self.scan.image)
        self.scan = scan
        if image_changed:
            self.features = _seg.pixel_features(scan.image)
        if resized or clear_edits:
            self._edits = np.zeros((scan.size, scan.size), dtype=np.int8)
        self._rebuild_mask()
        self._bump("scan", "mask")
        self._figures = self._gradient = self._curve = None

    def set_scan(self, **values: Any) -> None:
        """Change the scan (size, seed, lesion_x, lesion_y, lesion_radius, contrast, noise).

        The model keeps its weights (so a lesion dragged during training is
        followed); brush strokes stay unless the size changes.
        """
        params = self._validated_scan(values, self.scan_params)
        if params == self.scan_params:
            return
        try:
            scan = _seg.make_scan(**params)
        except ValueError as exc:
            raise LabError(f"scan: {exc}") from None
        with self.transaction("scan", "mask", "model"):
            self.scan_params = params
            self._install_scan(scan, clear_edits=False)
            self._emit("scan")
            self._emit("mask")
            self._emit("model", reason="scan")

    def move_lesion(self, x_px: float, y_px: float) -> None:
        """Put the lesion's centre at (x_px, y_px) in pixel coordinates, clamped to the scan."""
        size = self.scan.size
        x = number(x_px, "lesion x (pixels)")
        y = number(y_px, "lesion y (pixels)")
        self.set_scan(lesion_x=round(min(max(x / size, 0.0), 1.0), 4),
                      lesion_y=round(min(max(y / size, 0.0), 1.0), 4))

    def paint(self, x0: float, y0: float, x1: float | None = None, y1: float | None = None,
              *, erase: bool = False) -> bool:
        """Paint (or erase) the mask along a stroke from (x0, y0) to (x1, y1), pixel coordinates.

        The brush is a disk of ``view["brush_radius"]`` pixels. Painted pixels
        become lesion, erased ones background, whatever the lesion's disk
        says. Returns True when a pixel changed (and then emits ``mask``).
        """
        ax, ay = number(x0, "brush x"), number(y0, "brush y")
        bx = ax if x1 is None else number(x1, "brush x")
        by = ay if y1 is None else number(y1, "brush y")
        stroke = _seg.capsule_mask(self.scan.size, ax, ay, bx, by, self.view["brush_radius"])
        if not stroke.any():
            return False
        value = -1 if erase else 1
        if np.all(self._edits[stroke] == value):
            return False
        self._edits[stroke] = value
        self._rebuild_mask()
        self._bump("mask")
        self._figures = self._gradient = None
        self._emit("mask", reason="paint")
        return True

    def clear_paint(self) -> None:
        """Remove every brush stroke: the mask is the lesion's disk again."""
        if not self._edits.any():
            return
        self._edits[:] = 0
        self._rebuild_mask()
        self._bump("mask")
        self._figures = self._gradient = None
        self._emit("mask", reason="clear")

    @property
    def painted(self) -> bool:
        """True when brush strokes change the mask."""
        return bool(self._edits.any())

    # ------------------------------------------------------------------ settings
    def set_loss(self, **values: Any) -> None:
        """Change the loss or its settings (kind, pos_weight, focal_gamma, focal_alpha,
        smooth_nr, smooth_dr, squared_pred, lambda_dice, lambda_ce).

        The model keeps its weights (training continues with the new loss);
        the momentum buffer is cleared, since it belonged to another loss.
        """
        params = self._validated_loss(values, self.loss_params)
        if params == self.loss_params:
            return
        loss = SegLoss(**params)
        self.loss_params, self.loss = params, loss
        self._velocity = np.zeros_like(self._velocity)
        self._bump("settings")
        self._figures = self._gradient = self._curve = None
        self._emit("settings")

    def use_suggested_pos_weight(self) -> float:
        """Set pos_weight to n_neg / n_pos of the current mask; returns it (LabError without lesion)."""
        self.set_loss(pos_weight="suggested")
        return float(self.loss_params["pos_weight"])

    def set_training(self, **values: Any) -> None:
        """Change lr, momentum or steps_per_frame."""
        training = self._validated_training(values, self.training)
        if training == self.training:
            return
        self.training = training
        self.steps_per_frame = int(training["steps_per_frame"])
        self._bump("settings")
        self._emit("settings")

    def set_view(self, **values: Any) -> None:
        """Change the tool (move/paint/erase), brush_radius (pixels) or grad_scale (shared/own)."""
        view = self._validated_view(values, self.view)
        if view == self.view:
            return
        self.view = view
        self._bump("view")
        self._gradient = None
        self._emit("view")

    # ------------------------------------------------------------------ training
    def can_train(self) -> bool:
        return True

    def _train(self, n: int) -> int:
        """n steps without events; returns how many were done (stops on divergence)."""
        lr, momentum = float(self.training["lr"]), float(self.training["momentum"])
        features, mask, loss = self.features, self._mask_flat, self.loss
        w, b, v = self.weights, self.bias, self._velocity
        done = 0
        for _ in range(n):
            try:
                result = _seg.train_step(features, mask, w, b, loss, lr, momentum=momentum,
                                         velocity=v)
            except ValueError as exc:  # an undefined Dice ratio (see the engine's docstring)
                self._stop(f"Training stopped: {exc}")
                break
            if not (np.all(np.isfinite(result.weights)) and math.isfinite(result.bias)
                    and np.max(np.abs(result.weights)) <= WEIGHT_LIMIT
                    and abs(result.bias) <= WEIGHT_LIMIT):
                self._stop("Training stopped: the weights diverged (try a smaller learning "
                           "rate); the last finite weights are kept")
                break
            w, b, v = result.weights, result.bias, result.velocity
            done += 1
            self.weights, self.bias, self._velocity = w, b, v
            self.step_count += 1
            self._versions["model"] += 1
            self._record_history()
        return done

    def _stop(self, message: str) -> None:
        self.set_running(False)
        self.set_status(message, "warning")

    def step(self, n: int = 1) -> int:
        """Up to ``n`` training steps (at most MAX_STEPS_PER_CALL); returns how many were done."""
        n = integer(n, "steps", 0, 2**62)
        n = min(n, MAX_STEPS_PER_CALL)
        if n == 0:
            return 0
        done = self._train(n)
        if done:
            self._figures = self._gradient = None
            self._emit("model", reason="step")
        return done

    def reset(self) -> None:
        """The model back to w = 0, b = 0 (p = 0.5 everywhere); scan, mask and settings kept."""
        self._reset_model()
        self._figures = self._gradient = None
        self._emit("model", reason="reset")

    # ------------------------------------------------------------------ figures
    def figures(self) -> SegFigures:
        """The figures table's numbers (cached per state version)."""
        version = self.version()
        if self._figures is not None and self._figures.version == version:
            return self._figures
        z = self.logits()
        mask = self.mask
        value, _g = self.loss.value_and_grad(z.ravel(), self._mask_flat)
        z0 = _seg.background_logit(mask)
        base_z = np.full(z.shape, z0)
        base_value, _g = self.loss.value_and_grad(base_z.ravel(), self._mask_flat)
        self._figures = SegFigures(
            version=version, loss_kind=self.loss.kind, loss_title=self.loss.title,
            model=_seg.overlap_figures(z, mask), loss_value=float(value),
            baseline=_seg.overlap_figures(base_z, mask), baseline_loss=float(base_value),
            baseline_p=float(_seg.sigmoid_pair(np.array(z0))[0]),
            suggested_pos_weight=_seg.suggested_pos_weight(mask), steps=self.step_count,
        )
        return self._figures

    def gradient_map(self) -> GradientMap:
        """∂L/∂z per pixel of the chosen loss, on the shared (or own) colour scale."""
        version = self.version()
        if self._gradient is not None and self._gradient.version == version:
            return self._gradient
        z = self.logits().ravel()
        lesion = self._mask_flat >= 0.5
        own_max: dict[str, float] = {}
        share: dict[str, float | None] = {}
        chosen = None
        for kind in LOSS_KINDS:
            loss = self.loss if kind == self.loss.kind else self.loss.with_kind(kind)
            _v, g = loss.value_and_grad(z, self._mask_flat)
            a = np.abs(g)
            own_max[kind] = float(a.max())
            total = float(a.sum())
            share[kind] = float(a[lesion].sum()) / total if total > 0 else None
            if kind == self.loss.kind:
                chosen = g
        assert chosen is not None
        shared = self.view["grad_scale"] == "shared"
        scale = max(own_max.values()) if shared else own_max[self.loss.kind]
        scale = nice_ceil(scale) if scale > 0 and math.isfinite(scale) else 1.0
        size = self.scan.size
        values = chosen.reshape(size, size)
        self._gradient = GradientMap(version=version, kind=self.loss.kind,
                                     values=values, scale=scale,
                                     shared=shared, own_max=own_max, lesion_share=share,
                                     display=symlog(values, scale),
                                     ticks=symlog_ticks(scale))
        return self._gradient

    def size_curve(self) -> SizeCurve:
        """Each loss's value and the hard Dice against lesion size (cached per size and settings)."""
        key = (self.scan.size, tuple(sorted(self.loss_params.items())),
               self.mask.sum() / self.mask.size)
        if self._curve is not None and self._curve.version == key:
            return self._curve
        losses = {kind: self.loss.with_kind(kind) for kind in LOSS_KINDS}
        prev = self._curve
        if prev is not None and prev.version[:2] == key[:2]:
            self._curve = SizeCurve(version=key, share=prev.share, values=prev.values,
                                    dice_metric=prev.dice_metric, current_share=key[2],
                                    edge_px=prev.edge_px, offset_px=prev.offset_px)
            return self._curve
        edge, offset = 1.0, 1.0
        curve = _seg.loss_size_curve(self.scan.size, losses, edge_px=edge, offset_px=offset)
        self._curve = SizeCurve(version=key, share=curve["share"],
                                values={k: curve[k] for k in LOSS_KINDS},
                                dice_metric=curve["dice_metric"], current_share=key[2],
                                edge_px=edge, offset_px=offset)
        return self._curve

    # ------------------------------------------------------------------ report / session
    def report(self) -> dict:
        """The lab's figures for ``--report`` (JSON-safe; None where undefined)."""
        fig = self.figures()
        m, b = fig.model, fig.baseline
        return {
            "dice": _finite(m.dice), "iou": _finite(m.iou),
            "pixel_accuracy": _finite(m.pixel_accuracy), "recall": _finite(m.recall),
            "precision": _finite(m.precision),
            "loss": fig.loss_kind, "loss_title": fig.loss_title,
            "loss_value": _finite(fig.loss_value),
            "baseline": {"dice": _finite(b.dice), "iou": _finite(b.iou),
                         "pixel_accuracy": _finite(b.pixel_accuracy),
                         "recall": _finite(b.recall), "loss_value": _finite(fig.baseline_loss),
                         "p": _finite(fig.baseline_p)},
            "size": self.scan.size, "pixels": m.pixels, "lesion_pixels": m.lesion_pixels,
            "predicted_pixels": m.predicted_pixels,
            "lesion_share": _finite(m.lesion_pixels / m.pixels),
            "suggested_pos_weight": _finite(fig.suggested_pos_weight),
            "steps": self.step_count,
            "settings": {"scan": dict(self.scan_params), "loss": dict(self.loss_params),
                         "training": dict(self.training)},
            "weights": [_finite(v) for v in self.weights], "bias": _finite(self.bias),
            "painted": self.painted,
        }

    def to_dict(self) -> dict:
        """The session payload: settings, brush strokes, weights and history (JSON-safe)."""
        return {
            "format": SESSION_FORMAT,
            "scan": dict(self.scan_params), "loss": dict(self.loss_params),
            "training": dict(self.training), "view": dict(self.view),
            "painted": np.flatnonzero(self._edits.ravel() > 0).tolist(),
            "erased": np.flatnonzero(self._edits.ravel() < 0).tolist(),
            "weights": [float(v) for v in self.weights], "bias": float(self.bias),
            "velocity": [float(v) for v in self._velocity],
            "steps": self.step_count,
            "history": [[s, lo, d] for s, lo, d in self._history],
            "history_stride": self._history_stride,
        }

    def restore(self, payload: dict) -> None:
        """Restore :meth:`to_dict`'s payload (validated completely first; all or nothing)."""
        keys = {"format", "scan", "loss", "training", "view", "painted", "erased", "weights",
                "bias", "velocity", "steps", "history", "history_stride"}
        check_keys(payload, "session", keys)
        missing = sorted(keys - set(payload))
        if missing:
            raise LabError(f"session: missing field {missing[0]!r}")
        if payload["format"] != SESSION_FORMAT:
            raise LabError(f"session.format must be {SESSION_FORMAT}, got {payload['format']!r}")
        scan_params = self._validated_scan(payload["scan"], DEFAULT_SCAN, "session.scan")
        missing_scan = sorted(set(DEFAULT_SCAN) - set(payload["scan"]))
        if missing_scan:
            raise LabError(f"session.scan: missing field {missing_scan[0]!r}")
        scan = _seg.make_scan(**scan_params)
        loss_params = self._validated_loss(payload["loss"], DEFAULT_LOSS, "session.loss",
                                           mask=scan.mask)
        training = self._validated_training(payload["training"], DEFAULT_TRAINING,
                                            "session.training")
        view = self._validated_view(payload["view"], DEFAULT_VIEW, "session.view")
        n_pix = scan.size * scan.size
        edits = np.zeros(n_pix, dtype=np.int8)
        for name, value in (("painted", 1), ("erased", -1)):
            idx = payload[name]
            if not isinstance(idx, list):
                raise LabError(f"session.{name} must be a list of pixel indices")
            for i, v in enumerate(idx):
                integer(v, f"session.{name}[{i}]", 0, n_pix - 1)
            if np.any(edits[idx] != 0):
                raise LabError(f"session.{name}: a pixel is both painted and erased")
            edits[idx] = value
        n_w = len(_seg.FEATURE_NAMES)
        weights = self._vector(payload["weights"], "session.weights", n_w)
        velocity = self._vector(payload["velocity"], "session.velocity", n_w + 1)
        bias = number(payload["bias"], "session.bias", -WEIGHT_LIMIT, WEIGHT_LIMIT)
        steps = integer(payload["steps"], "session.steps", 0, 2**62)
        stride = integer(payload["history_stride"], "session.history_stride", 1, 2**62)
        history = payload["history"]
        if not isinstance(history, list) or len(history) > HISTORY_MAX + 1:
            raise LabError(f"session.history must be a list of at most {HISTORY_MAX + 1} points")
        rows = []
        for i, row in enumerate(history):
            if not isinstance(row, list) or len(row) != 3:
                raise LabError(f"session.history[{i}] must be [step, loss, dice]")
            rows.append((integer(row[0], f"session.history[{i}][0]", 0, 2**62),
                         number(row[1], f"session.history[{i}][1]"),
                         number(row[2], f"session.history[{i}][2]", 0.0, 1.0)))
        with self.transaction():
            self.set_running(False)
            self.scan_params, self.loss_params = scan_params, loss_params
            self.training, self.view = training, view
            self.steps_per_frame = int(training["steps_per_frame"])
            self.loss = SegLoss(**loss_params)
            self._install_scan(scan, clear_edits=True)
            self._edits = edits.reshape(scan.size, scan.size)
            self._rebuild_mask()
            self.weights, self.bias, self._velocity = weights, bias, velocity
            self.step_count = steps
            self._history, self._history_stride = rows, stride
            self._bump("model", "settings", "view")
            self._emit("scan")
            self._emit("mask")
            self._emit("model", reason="restore")
            self._emit("settings")
            self._emit("view")

    @staticmethod
    def _vector(values: Any, path: str, n: int) -> np.ndarray:
        if not isinstance(values, list) or len(values) != n:
            raise LabError(f"{path} must be a list of {n} numbers")
        return np.array([number(v, f"{path}[{i}]", -WEIGHT_LIMIT, WEIGHT_LIMIT)
                         for i, v in enumerate(values)], dtype=np.float64)


LAB = LabInfo(
    lab_id="segmentation",
    title="Segmentation: a BCE for every pixel",
    state_factory=SegmentationState,
    gui_module="bceviz.gui.labs.segmentation",
    description="A tiny lesion in a synthetic scan: pixel BCE, weighted BCE and focal "
                "against soft Dice, with their gradient maps",
)
