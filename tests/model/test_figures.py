"""Derived figures of the 2-D lab, computed once below the GUI and tested without Qt."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from bceviz.engine.losses import curvature_from_logits, grad_from_logits
from bceviz.model import figures
from bceviz.model.scenarios import apply_scenario, load_scenario
from bceviz.model.state import AppState


@pytest.fixture
def state():
    st = AppState()
    apply_scenario(st, load_scenario("breast-cancer"))
    st.step(20)
    return st


def test_probe_readout_is_the_engine_at_the_handle(state):
    state.set_probe(p=0.85, y=1.0)
    r = figures.probe_readout(state)
    assert r.loss == pytest.approx(-np.log(0.85), rel=1e-12)
    assert r.dl_dz == pytest.approx(float(grad_from_logits(state.probe_z, 1.0)), rel=1e-12)
    assert r.d2l_dz2 == pytest.approx(float(curvature_from_logits(state.probe_z, 1.0)))
    assert r.p + r.q == pytest.approx(1.0, abs=1e-15)
    assert figures.probe_readout(state) is r  # the loss-curve and formula panels share it


def test_metrics_match_scikit_learn_and_are_computed_once(state):
    m = figures.metrics_figures(state)
    assert figures.metrics_figures(state) is m
    for split, mask in (("train", ~state.heldout), ("heldout", state.heldout)):
        y = state.y[mask]
        p = state.proba_of(state.X[mask])
        s = m.splits[split]
        assert s["auc"] == pytest.approx(roc_auc_score(y, p), rel=1e-12)
        assert s["ap"] == pytest.approx(average_precision_score(y, p), rel=1e-12)
        assert s["brier"] == pytest.approx(brier_score_loss(y, p), rel=1e-12)
        assert s["n"] == int(mask.sum())
    state.set_threshold(0.3)
    again = figures.metrics_figures(state)
    assert again is not m  # a new threshold: the counts at it are recomputed
    state.step(1)
    assert figures.metrics_figures(state) is not again


def test_an_empty_split_is_a_message_not_nan():
    st = AppState()
    st.set_data(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0.0, 1.0]))
    m = figures.metrics_figures(st)
    assert m.splits["heldout"]["problem"] == "held-out split: no points"
    assert m.splits["heldout"]["auc"] is None and m.model_ok


def test_samples_summary_is_the_engine_loss_and_the_product_of_likelihoods():
    st = AppState()
    st.set_samples([0.9, 0.6, 0.01], [1.0, 1.0, 1.0], [0.8, 0.8, 0.8])
    s = figures.samples_summary(st)
    np.testing.assert_allclose(s.losses_a, -np.log([0.9, 0.6, 0.01]), rtol=1e-12)
    assert s.likelihood_a == pytest.approx(0.9 * 0.6 * 0.01, rel=1e-12)
    assert s.mean_a == pytest.approx(-np.log(0.9 * 0.6 * 0.01) / 3, rel=1e-12)
    assert s.dominant == 2 and s.dominant_share == pytest.approx(
        -np.log(0.01) / -np.log(0.9 * 0.6 * 0.01), rel=1e-12)
    assert s.likelihood_b == pytest.approx(0.8 ** 3, rel=1e-12)
    assert figures.samples_summary(st) is s  # both the bars and the readout read this object
    st.set_spec(label_smoothing=0.2)
    assert figures.samples_summary(st) is not s


def test_history_scores_are_each_records_held_out_loss_and_accuracies(state):
    from bceviz.engine.losses import loss_from_logits

    scores = figures.HistoryScores()
    hist = state.trainer.history
    steps, W, B = np.asarray(hist.step), np.asarray(hist.w), np.asarray(hist.b)
    vals = scores.update(state, steps, W, B)
    F_held = state.features_of(state.X[state.heldout])
    F_train = state.features_of(state.X[~state.heldout])
    for k in (0, len(steps) // 2, len(steps) - 1):
        z = F_held @ W[k] + B[k]
        y = state.y[state.heldout]
        assert vals[k, 0] == pytest.approx(float(np.mean(loss_from_logits(z, y, state.spec))))
        assert vals[k, 2] == pytest.approx(float(np.mean((z >= 0) == (y >= 0.5))))
        zt = F_train @ W[k] + B[k]
        assert vals[k, 1] == pytest.approx(float(np.mean((zt >= 0) == (state.y[~state.heldout]
                                                                     >= 0.5))))
    state.step(5)  # new records are scored, old ones kept as they were
    hist = state.trainer.history
    more = scores.update(state, np.asarray(hist.step), np.asarray(hist.w), np.asarray(hist.b))
    np.testing.assert_array_equal(more[: len(vals) - 1], vals[:-1])
