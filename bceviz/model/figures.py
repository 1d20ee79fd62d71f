"""Derived figures of the 2-D lab that more than one view shows, computed once below the GUI.

Panels, the status bar and ``--report`` read these objects instead of each
computing its own copy, so two places that show the same number cannot
disagree (see ``docs/architecture.md``, "Derived figures"). Each function is
memoised on the state's inputs, so the loss-curve and formula panels
redrawing for the same handle position share one computation. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bceviz.engine.losses import (
    LossSpec,
    curvature_from_logits,
    grad_from_logits,
    loss_from_logits,
    smooth_labels,
)


@dataclass(frozen=True)
class ProbeReadout:
    """The loss-curve handle in numbers: the prediction, the label and the loss's derivatives.

    ``p`` and ``q = 1 − p`` are each accurate to full relative precision
    (so a confident p = 1 − 1e-13 still shows its q). Losses in nats.
    """

    z: float
    p: float
    q: float
    y: float
    y_smoothed: float
    loss: float
    #: The cross-entropy part alone (smoothing and pos_weight, no focal factor).
    cross_entropy: float
    dl_dz: float
    dl_dp: float
    d2l_dz2: float


def sigmoid_pair(z) -> tuple[np.ndarray, np.ndarray]:
    """(σ(z), 1 − σ(z)), each to full relative precision, for any finite z."""
    z = np.asarray(z, dtype=np.float64)
    tail = np.log1p(np.exp(-np.abs(z)))
    return np.exp(-(np.maximum(-z, 0.0) + tail)), np.exp(-(np.maximum(z, 0.0) + tail))


@lru_cache(maxsize=64)
def _readout(z: float, y: float, spec: LossSpec) -> ProbeReadout:
    p_arr, q_arr = sigmoid_pair(z)
    p, q = float(p_arr), float(q_arr)
    ce_spec = LossSpec(label_smoothing=spec.label_smoothing, pos_weight=spec.pos_weight)
    dl_dz = float(grad_from_logits(z, y, spec))
    return ProbeReadout(
        z=float(z), p=p, q=q, y=float(y),
        y_smoothed=float(smooth_labels(y, spec.label_smoothing)),
        loss=float(loss_from_logits(z, y, spec)),
        cross_entropy=float(loss_from_logits(z, y, ce_spec)),
        dl_dz=dl_dz, dl_dp=dl_dz / (p * q) if p * q > 0 else 0.0,
        d2l_dz2=float(curvature_from_logits(z, y, spec)))


def probe_readout(state) -> ProbeReadout:
    """The readout of ``state``'s loss-curve handle (``probe_z``, ``probe_y``, ``spec``)."""
    return _readout(float(state.probe_z), float(state.probe_y), state.spec)


__all__ = ["ProbeReadout", "probe_readout", "sigmoid_pair"]
