"""When the loss surface panel's (w1, w2) slice must be recomputed, decided below the GUI.

The surface is a slice of the objective over (w1, w2) with the other
parameters held: the bias b and, for a feature map with more than two
features, the other weights (as per-point logit offsets). Training moves
them, so the slice goes stale. The rule, stated on screen by the panel:
re-slice when some training logit differs from the slice's by more than
``SLICE_TOLERANCE`` (see :func:`slice_drift`), and widen the view when
(w1, w2) nears its edge (:func:`grown_half_range`). The panel runs the
re-slice in a worker thread at most every few hundred milliseconds; the
decision and the inputs (:class:`SliceParams`) are here, tested without Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from bceviz.engine.losses import LossSpec
from bceviz.engine.surface import LossSurface

#: Default half-width of the (w1, w2) view.
DEFAULT_HALF_RANGE = 6.0
#: Re-slice when some training logit differs from the slice's by more than this.
SLICE_TOLERANCE = 0.05
#: The range is extended when |w1| or |w2| exceeds this fraction of the half-width.
EDGE_FRACTION = 0.95
#: Largest half-width the view extends to (logits stay finite well beyond it).
MAX_HALF_RANGE = 1e4


def nice_half_range(extent: float) -> float:
    """The smallest of 6, 8, 12, 16, 24, 32, … at least ``extent``."""
    r = DEFAULT_HALF_RANGE
    steps = (4.0 / 3.0, 1.5)
    i = 0
    while r < extent and r < MAX_HALF_RANGE:
        r *= steps[i % 2]
        i += 1
    return min(r, MAX_HALF_RANGE)



@dataclass
class SliceParams:
    """Everything a LossSurface is computed from (arrays are private copies)."""

    X: np.ndarray  # (N, 2) training points (the x1, x2 feature columns)
    y: np.ndarray  # (N,) labels
    spec: LossSpec
    l2: float
    bias: float
    offsets: Optional[np.ndarray]  # (N,) logit from the other weights, or None
    w_other: Optional[np.ndarray]  # the other weights (w3, …) the offsets were computed with
    half_range: float
    resolution: int

    def __post_init__(self) -> None:
        self.built_focal = self.spec.is_focal

    def build(self) -> LossSurface:
        r = self.half_range
        kwargs: dict[str, Any] = dict(w1_range=(-r, r), w2_range=(-r, r), bias=self.bias,
                                      resolution=self.resolution, l2=self.l2)
        if self.offsets is not None:
            kwargs["offsets"] = self.offsets
        surface = LossSurface(self.X, self.y, self.spec, **kwargs)
        surface.values  # noqa: B018 - force the computation here, not on the GUI thread
        return surface



def current_offsets(state) -> Optional[np.ndarray]:
    """Per-training-point logit of the weights other than w1, w2 (None for two features)."""
    F = state.training_features()
    if F.shape[1] <= 2:
        return None
    return F[:, 2:] @ state.trainer.w[2:]


def slice_params(state, half_range: float, resolution: int) -> SliceParams:
    """The inputs of a slice at the state's current b and other weights (private copies)."""
    offsets = current_offsets(state)
    return SliceParams(
        X=np.array(state.X_train, dtype=np.float64),
        y=np.array(state.y_train, dtype=np.float64),
        spec=state.spec,
        l2=float(state.training.l2),
        bias=float(state.trainer.b),
        offsets=None if offsets is None else np.array(offsets),
        w_other=None if offsets is None else np.array(state.trainer.w[2:]),
        half_range=half_range,
        resolution=resolution,
    )


def slice_drift(state, params: Optional[SliceParams]) -> float:
    """Largest change of a training logit between the slice and the current model."""
    if params is None:
        return 0.0
    d = float(state.trainer.b) - params.bias
    offsets = current_offsets(state)
    if offsets is None and params.offsets is None:
        return abs(d)
    if offsets is None or params.offsets is None or offsets.shape != params.offsets.shape:
        return math.inf  # out of step with the model: re-slice
    return float(np.max(np.abs(offsets - params.offsets + d))) if offsets.size else abs(d)


def grown_half_range(w, half_range: float) -> Optional[float]:
    """A wider half-range when (w1, w2) is near the edge of ``half_range``, else None."""
    extent = max(abs(float(w[0])), abs(float(w[1]))) if len(w) >= 2 else 0.0
    if not math.isfinite(extent) or extent <= EDGE_FRACTION * half_range:
        return None
    new = nice_half_range(extent / 0.75)
    return new if new > half_range else None


__all__ = ["DEFAULT_HALF_RANGE", "EDGE_FRACTION", "MAX_HALF_RANGE", "SLICE_TOLERANCE",
           "SliceParams", "current_offsets", "grown_half_range", "nice_half_range",
           "slice_drift", "slice_params"]
