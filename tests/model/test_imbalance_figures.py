"""The imbalance comparison, computed below the GUI (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from bceviz.engine import logistic
from bceviz.model import imbalance
from bceviz.model.scenarios import apply_scenario, load_scenario
from bceviz.model.state import AppState


@pytest.fixture
def state():
    st = AppState()
    apply_scenario(st, load_scenario("class-weights"))
    return st


def test_fits_are_newton_fits_of_each_variant_and_cached_across_training(state):
    fits = imbalance.comparison_fits(state)
    assert set(fits) == set(imbalance.VARIANTS)
    for fit in fits.values():
        ref = logistic.fit_logistic(state.features_of(state.X_train), state.y_train,
                                    fit["spec"], optimizer="newton", steps=imbalance.FIT_STEPS)
        np.testing.assert_allclose(fit["w"], ref.w, rtol=1e-12)
    assert fits["weighted"]["spec"].pos_weight == pytest.approx(state.balanced_pos_weight())
    state.step(3)  # training moves the current model, not the comparison
    assert imbalance.comparison_fits(state) is fits
    state.move_point(0, 0.1, 0.2)
    assert imbalance.comparison_fits(state) is not fits


def test_rows_score_every_variant_the_current_model_and_the_baseline(state):
    rows, name, n, n_pos = imbalance.score_rows(state, imbalance.comparison_fits(state))
    assert name == "held-out" and n == int(state.heldout.sum()) and 0 < n_pos < n
    assert set(rows) == {"plain", "weighted", "focal", "current", "baseline"}
    assert rows["baseline"]["recall"] == 0.0 and rows["baseline"]["precision"] is None
    assert rows["weighted"]["recall"] >= rows["plain"]["recall"]
