"""When the surface panel re-slices: the rule, decided below the GUI (no Qt)."""

from __future__ import annotations

import math

import numpy as np

from bceviz.model import surface_slice as sl
from bceviz.model.state import AppState


def test_drift_is_the_largest_change_of_a_training_logit():
    st = AppState()
    params = sl.slice_params(st, sl.DEFAULT_HALF_RANGE, 16)
    assert sl.slice_drift(st, params) == 0.0
    st.set_weights(st.trainer.w, 0.03)
    assert math.isclose(sl.slice_drift(st, params), 0.03)
    assert sl.slice_drift(st, params) < sl.SLICE_TOLERANCE  # the slice is still honest
    st.set_weights(st.trainer.w, 0.2)
    assert sl.slice_drift(st, params) > sl.SLICE_TOLERANCE  # re-slice


def test_other_weights_count_through_their_logit_offsets():
    st = AppState()
    st.set_features("product")
    params = sl.slice_params(st, sl.DEFAULT_HALF_RANGE, 16)
    assert params.offsets is not None and params.w_other is not None
    w = st.trainer.w.copy()
    w[2] = 0.5
    st.set_weights(w, st.trainer.b)
    F = st.training_features()
    assert math.isclose(sl.slice_drift(st, params), float(np.max(np.abs(F[:, 2] * 0.5))))
    st.set_features("linear")
    assert sl.slice_drift(st, params) == math.inf  # out of step with the model


def test_the_view_widens_only_near_its_edge():
    assert sl.grown_half_range(np.array([1.0, 2.0]), 6.0) is None
    wider = sl.grown_half_range(np.array([5.9, 0.0]), 6.0)
    assert wider is not None and wider > 6.0 and 5.9 <= sl.EDGE_FRACTION * wider
    assert sl.nice_half_range(1e9) == sl.MAX_HALF_RANGE
