"""The imbalance lab: rare positives, the suggested pos_weight, and accuracy that misleads."""

from __future__ import annotations

import re

import numpy as np
import pytest

import sklearn.metrics as sk

from PySide6.QtWidgets import QLabel

from bceviz.engine.logistic import fit_logistic, make_features
from bceviz.engine.losses import LossSpec
from bceviz.gui import format as fmt
from bceviz.gui.panels import imbalance
from bceviz.gui.panels.imbalance import ImbalancePanel
from bceviz.model.state import AppState

BAD_NUMBER = re.compile(r"\b(nan|inf|infinity)\b", re.IGNORECASE)


def percent_of(text: str) -> float:
    return float(text.replace("%", "").strip()) / 100.0


def assert_no_bad_numbers(panel):
    for label in panel.findChildren(QLabel):
        assert not BAD_NUMBER.search(label.text()), label.text()


@pytest.fixture
def rare_state(scenario_state):
    state = scenario_state("imbalance")
    state.generate(pos_fraction=0.01)
    return state


def test_accuracy_misleads_at_one_percent(rare_state, show_panel):
    state = rare_state
    assert state.y.mean() == pytest.approx(0.01)
    panel = show_panel(ImbalancePanel, state)
    baseline_accuracy = panel.cells[("baseline", "accuracy")].text()
    assert percent_of(baseline_accuracy) >= 0.98
    assert panel.cells[("baseline", "recall")].text() == "0 %"
    assert panel.cells[("baseline", "precision")].text() == "—"
    assert "no positive" in panel.lesson_label.text()
    # an untrained model (w = 0, p = 0.5 everywhere) is "current"; plain BCE, fitted,
    # is as accurate as the baseline and finds (almost) none of the positives
    plain = panel.rows["plain"]
    assert plain["accuracy"] >= 0.98 and plain["recall"] <= 0.2
    weighted = panel.rows["weighted"]
    assert weighted["recall"] >= 0.6 > plain["recall"]
    assert weighted["accuracy"] < plain["accuracy"]
    assert_no_bad_numbers(panel)


def test_table_equals_scikit_learn_on_the_same_fits(rare_state, show_panel):
    state = rare_state
    state.set_threshold(0.4)
    panel = show_panel(ImbalancePanel, state)
    mask = state.heldout
    y = (state.y[mask] >= 0.5).astype(int)
    assert 0 < y.sum() < y.size
    F_train = make_features(state.X_train, state.features)
    pw = state.balanced_pos_weight()
    n_pos = int(state.y_train.sum())
    assert pw == pytest.approx((len(state.y_train) - n_pos) / n_pos)
    specs = {"plain": LossSpec(), "weighted": LossSpec(pos_weight=pw),
             "focal": LossSpec(focal_gamma=imbalance.FOCAL_GAMMA)}
    for variant, spec in specs.items():
        fit = fit_logistic(F_train, state.y_train, spec, optimizer="newton",
                           steps=imbalance.FIT_STEPS)
        z = make_features(state.X[mask], state.features) @ fit.w + fit.b
        p = 1.0 / (1.0 + np.exp(-z))
        pred = (p >= 0.4).astype(int)
        row = panel.rows[variant]
        assert row["recall"] == pytest.approx(sk.recall_score(y, pred))
        assert row["precision"] == pytest.approx(sk.precision_score(y, pred, zero_division=0))
        assert row["accuracy"] == pytest.approx(sk.accuracy_score(y, pred))
        assert row["ap"] == pytest.approx(sk.average_precision_score(y, p), abs=1e-9)
        assert panel.cells[(variant, "ap")].text() == f"{fmt.num(100 * row['ap'], 3)} %"
    assert panel.rows["baseline"]["accuracy"] == pytest.approx(1 - y.mean())
    assert panel.rows["baseline"]["ap"] == pytest.approx(y.mean())


def test_slider_regenerates_with_the_chosen_share(show_panel):
    state = AppState()
    panel = show_panel(ImbalancePanel, state)
    panel.n_box.setValue(1000)
    assert state.dataset.n == 1000
    panel.share_slider.setValue(5)
    assert state.dataset.pos_fraction == pytest.approx(0.05)
    assert int(state.y.sum()) == 50
    panel.flush()
    assert "50 positives" in panel.share_label.text()
    panel.share_slider.setValue(1)
    assert int(state.y.sum()) == 10


def test_apply_and_variants_set_the_spec(rare_state, show_panel):
    state = rare_state
    panel = show_panel(ImbalancePanel, state)
    n_pos = int(state.y_train.sum())
    n_neg = len(state.y_train) - n_pos
    assert f"{n_neg:,} / {n_pos:,}" in panel.suggest_label.text()
    panel.apply_button.click()
    assert state.spec.pos_weight == pytest.approx(n_neg / n_pos)
    panel.flush()
    assert panel.variant_buttons["weighted"].isChecked()
    panel.variant_buttons["focal"].click()
    assert state.spec == LossSpec(focal_gamma=imbalance.FOCAL_GAMMA)
    panel.flush()
    assert panel.variant_buttons["focal"].isChecked()
    panel.variant_buttons["plain"].click()
    assert state.spec == LossSpec()
    state.set_spec(focal_gamma=0.5)  # none of the three
    panel.flush()
    assert not any(b.isChecked() for b in panel.variant_buttons.values())


def test_fit_now_moves_the_model_and_the_current_row(rare_state, show_panel):
    state = rare_state
    panel = show_panel(ImbalancePanel, state)
    panel.variant_buttons["weighted"].click()
    panel.fit_button.click()
    fit = fit_logistic(make_features(state.X_train, state.features), state.y_train, state.spec,
                       optimizer="newton", steps=imbalance.FIT_STEPS)
    np.testing.assert_allclose(state.trainer.w, fit.w)
    panel.flush()
    assert panel.rows["current"]["recall"] == pytest.approx(panel.rows["weighted"]["recall"])


def test_table_follows_the_threshold_without_refitting(rare_state, show_panel, monkeypatch):
    state = rare_state
    panel = show_panel(ImbalancePanel, state)
    calls = []
    monkeypatch.setattr(panel, "_fit", lambda spec: calls.append(spec))
    recall = panel.rows["weighted"]["recall"]
    state.set_threshold(0.95)
    panel.flush()
    assert calls == []
    assert panel.rows["weighted"]["recall"] < recall
    assert "t = 0.95" in panel.table_title.text()
