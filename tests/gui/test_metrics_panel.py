"""The threshold-and-metrics panel shows scikit-learn's numbers and moves the threshold live."""

from __future__ import annotations

import re

import numpy as np
import pytest

import sklearn.metrics as sk
import sklearn.calibration as sk_calibration

from PySide6.QtWidgets import QLabel

from bceviz.gui import format as fmt
from bceviz.gui.panels.metrics_panel import MetricsPanel
from bceviz.model.state import AppState
from tests.gui.drag import drag

BAD_NUMBER = re.compile(r"\b(nan|inf|infinity)\b", re.IGNORECASE)


@pytest.fixture
def trained(scenario_state):
    def make(scenario="default", steps=6):
        state = scenario_state(scenario)
        state.set_training(optimizer="newton")
        state.step(steps)
        return state

    return make


def split(state, name):
    mask = state.heldout if name == "heldout" else ~state.heldout
    return (state.y[mask] >= 0.5).astype(int), state.proba_of(state.X[mask])


def all_texts(panel) -> list[str]:
    texts = [label.text() for label in panel.findChildren(QLabel)]
    texts += [item.textItem.toPlainText() for item in panel.messages.values()]
    for plot in panel.plots:
        texts.append(plot.titleLabel.text)
        for axis in ("left", "bottom"):
            texts.append(plot.getAxis(axis).labelText)
    texts += [button.text() for button in panel.best_buttons.values()]
    return texts


def assert_no_bad_numbers(panel):
    for text in all_texts(panel):
        assert not BAD_NUMBER.search(text), text


def test_numbers_equal_scikit_learn(trained, show_panel):
    state = trained()
    state.set_threshold(0.37)
    panel = show_panel(MetricsPanel, state, size=(900, 600))
    panel.flush()
    t = state.threshold
    for name in ("train", "heldout"):
        y, p = split(state, name)
        shown = panel.splits[name]
        pred = (p >= t).astype(int)
        tn, fp, fn, tp = sk.confusion_matrix(y, pred, labels=[0, 1]).ravel()
        assert (shown["tn"], shown["fp"], shown["fn"], shown["tp"]) == (tn, fp, fn, tp)
        assert shown["auc"] == pytest.approx(sk.roc_auc_score(y, p), abs=1e-12)
        assert shown["ap"] == pytest.approx(sk.average_precision_score(y, p), abs=1e-12)
        assert shown["f1"] == pytest.approx(sk.f1_score(y, pred), abs=1e-12)
        assert shown["precision"] == pytest.approx(sk.precision_score(y, pred, zero_division=0))
        assert shown["recall"] == pytest.approx(sk.recall_score(y, pred))
        assert shown["accuracy"] == pytest.approx(sk.accuracy_score(y, pred))
        assert shown["brier"] == pytest.approx(sk.brier_score_loss(y, p), abs=1e-12)
        prob_true, prob_pred = sk_calibration.calibration_curve(y, p, n_bins=10)
        mean_p, frac, counts = shown["calibration"]
        np.testing.assert_allclose(mean_p[counts > 0], prob_pred, atol=1e-12)
        np.testing.assert_allclose(frac[counts > 0], prob_true, atol=1e-12)
        ece = np.sum(counts[counts > 0] * np.abs(prob_true - prob_pred)) / len(y)
        assert shown["ece"] == pytest.approx(ece, abs=1e-12)
        # what is on screen is those numbers, formatted
        for key in ("precision", "recall", "f1", "accuracy", "auc", "ap", "ece", "brier"):
            assert panel.value_labels[(key, name)].text() == fmt.num(shown[key], 3)
        # the drawn ROC curve is scikit-learn's, the marker its point at the threshold
        fpr, tpr, _ = sk.roc_curve(y, p)
        xs, ys = panel.curves[("roc", name)].getData()
        np.testing.assert_allclose(xs, fpr)
        np.testing.assert_allclose(ys, tpr)
        mx, my = panel.markers[("roc", name)].getData()
        assert (mx[0], my[0]) == pytest.approx((fp / (fp + tn), tp / (tp + fn)))
    # the confusion matrix shows the held-out counts
    held = panel.splits["heldout"]
    assert f"\n{held['tp']:,}\n" in panel.cells["tp"].text()
    assert f"\n{held['fn']:,}\n" in panel.cells["fn"].text()
    assert_no_bad_numbers(panel)


def test_slider_moves_the_threshold_and_the_confusion_matrix(trained, show_panel):
    state = trained()
    panel = show_panel(MetricsPanel, state)
    before = panel.cells["tp"].text(), panel.cells["fp"].text()
    panel.slider.setValue(150)
    assert state.threshold == pytest.approx(0.15)
    panel.flush()
    y, p = split(state, "heldout")
    tp = int(np.sum((p >= 0.15) & (y == 1)))
    fp = int(np.sum((p >= 0.15) & (y == 0)))
    assert (panel.cells["tp"].text(), panel.cells["fp"].text()) != before
    assert panel.cells["tp"].text().split("\n")[1] == f"{tp:,}"
    assert panel.cells["fp"].text().split("\n")[1] == f"{fp:,}"
    assert panel.threshold_label.text() == f"t = {fmt.num(0.15, 4)}"
    assert panel.threshold_line.value() == pytest.approx(0.15)
    # the state moving (another panel, a key) moves the slider and the line
    state.set_threshold(0.8)
    panel.flush()
    assert panel.slider.value() == 800
    assert panel.threshold_line.value() == pytest.approx(0.8)


def test_dragging_the_line_on_the_histogram_sets_the_threshold(trained, show_panel):
    state = trained()
    state.set_threshold(0.5)
    panel = show_panel(MetricsPanel, state, size=(900, 600))
    y_mid = float(np.mean(panel.hist_plot.viewRange()[1]))
    drag(panel.hist_plot, (0.5, y_mid), (0.25, y_mid))
    assert state.threshold == pytest.approx(0.25, abs=0.02)
    panel.flush()
    assert panel.slider.value() == round(state.threshold * 1000)


def brute_force(y, p, metric, cost_fn=1.0):
    """Best value of the metric over every threshold, by trying them all."""
    best = None
    for t in np.concatenate([np.unique(p), [np.inf]]):
        pred = (p >= t).astype(int)
        tn, fp, fn, tp = sk.confusion_matrix(y, pred, labels=[0, 1]).ravel()
        if metric == "f1":
            value = sk.f1_score(y, pred, zero_division=0)
        elif metric == "youden":
            value = tp / (tp + fn) - fp / (fp + tn)
        else:
            value = -(cost_fn * fn + fp) / len(y)
        best = value if best is None else max(best, value)
    return best if metric != "cost" else -best


@pytest.mark.parametrize("metric", ["f1", "youden", "cost"])
def test_best_threshold_is_the_heldout_optimum_and_training_is_shown(trained, show_panel, metric):
    state = trained("breast-cancer", steps=8)
    panel = show_panel(MetricsPanel, state, size=(900, 600))
    panel.cost_ratio.setValue(10.0)
    panel.best_buttons[metric].click()
    panel.flush()
    t = state.threshold
    assert panel.choice["threshold"] == t
    y, p = split(state, "heldout")
    pred = (p >= t).astype(int)
    tn, fp, fn, tp = sk.confusion_matrix(y, pred, labels=[0, 1]).ravel()
    achieved = {"f1": sk.f1_score(y, pred), "youden": tp / (tp + fn) - fp / (fp + tn),
                "cost": (10.0 * fn + fp) / len(y)}[metric]
    assert achieved == pytest.approx(brute_force(y, p, metric, 10.0), abs=1e-12)
    assert panel.choice["heldout"] == pytest.approx(achieved, abs=1e-12)
    # how the same threshold does on the training points, also on screen
    yt, pt = split(state, "train")
    predt = (pt >= t).astype(int)
    tn, fp, fn, tp = sk.confusion_matrix(yt, predt, labels=[0, 1]).ravel()
    on_train = {"f1": sk.f1_score(yt, predt), "youden": tp / (tp + fn) - fp / (fp + tn),
                "cost": (10.0 * fn + fp) / len(yt)}[metric]
    assert panel.choice["train"] == pytest.approx(on_train, abs=1e-12)
    text = panel.choice_label.text()
    assert "chosen on held-out" in text and "on training" in text
    assert fmt.num(on_train, 3) in text
    if metric == "cost":
        # a missed cancer costing ten false alarms: a threshold well below 0.5
        assert t < 0.4
        assert panel.splits["heldout"]["recall"] > 0.9
    assert_no_bad_numbers(panel)


def one_class_heldout_state():
    state = AppState()
    X = np.array([[-1.0, 0.0], [1.0, 0.5], [-2.0, 1.0], [2.0, -1.0], [0.5, 0.5], [-0.5, 2.0]])
    y = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 0.0])
    heldout = np.array([False, False, False, False, True, True])  # held-out: label 0 only
    state.set_data(X, y, heldout)
    state.set_training(optimizer="newton")
    state.step(3)
    return state


def test_single_class_heldout_shows_a_message(show_panel):
    state = one_class_heldout_state()
    panel = show_panel(MetricsPanel, state)
    panel.flush()
    # said beside the table, not printed over the training split's curves
    assert "Held-out split has only label 0" in panel.note_label.text()
    assert panel.messages["roc"].textItem.toPlainText() == ""
    assert panel.value_labels[("auc", "heldout")].text() == "—"
    assert panel.value_labels[("auc", "train")].text() != "—"
    assert panel.curves[("roc", "heldout")].getData()[0] is None or \
        len(panel.curves[("roc", "heldout")].getData()[0]) == 0
    assert panel.best_buttons["f1"].isEnabled()
    threshold = state.threshold
    panel.best_buttons["f1"].click()
    assert state.threshold == threshold
    assert "Cannot choose" in panel.choice_label.text()
    panel.slider.setValue(700)
    panel.flush()
    assert_no_bad_numbers(panel)


def test_empty_heldout_and_extreme_weights_never_show_nan(show_panel):
    state = AppState()
    state.generate(heldout_fraction=0.0)
    panel = show_panel(MetricsPanel, state)
    assert "no points" in panel.split_headers["heldout"].text()
    assert panel.value_labels[("recall", "heldout")].text() == "—"
    assert "No held-out points" in panel.note_label.text()
    assert panel.messages["cal"].textItem.toPlainText() == ""  # nothing over the curves
    # a model so confident every probability is exactly 0 or 1
    state.set_weights([1e6, -1e6], 1e6)
    for t in (0.0, 0.5, 1.0):
        state.set_threshold(t)
        panel.flush()
        assert_no_bad_numbers(panel)
    # no points at all in one class of the training split either
    state.set_data(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([1.0, 1.0]))
    panel.flush()
    assert_no_bad_numbers(panel)
    assert "only label 1" in panel.messages["roc"].textItem.toPlainText()


def test_soft_labels_are_read_at_one_half_and_said(show_panel):
    state = AppState()
    state.set_data(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [0.0, 2.0]]),
                   np.array([0.2, 0.9, 0.6, 0.0]), np.array([False, False, True, True]))
    panel = show_panel(MetricsPanel, state)
    assert "Soft labels" in panel.note_label.text()
    assert panel.splits["train"]["n_pos"] == 1


def test_live_during_training(trained, show_panel, qtbot):
    state = trained(steps=0)
    panel = show_panel(MetricsPanel, state)
    auc_before = panel.splits["heldout"]["auc"]
    count = panel.refresh_count
    state.set_weights([0.1, -0.3], 0.0)
    state.step(5)
    qtbot.waitUntil(lambda: panel.refresh_count > count, timeout=2000)
    assert panel.splits["heldout"]["auc"] != auc_before
    y, p = split(state, "heldout")
    assert panel.splits["heldout"]["auc"] == pytest.approx(sk.roc_auc_score(y, p))
    # a burst of training steps costs one redraw per interval, not one per step
    count = panel.refresh_count
    for _ in range(20):
        state.step(1)
    qtbot.wait(50)
    assert panel.refresh_count - count <= 2


def test_breast_cancer_feature_pickers_reload_the_data(trained, show_panel):
    state = trained("breast-cancer", steps=8)
    panel = show_panel(MetricsPanel, state, size=(900, 600))
    assert panel.feature_row.isVisible()
    boxes = panel.feature_boxes
    assert boxes[0].count() == 30 and boxes[0].currentText() == "mean_radius"
    assert "malignant" in panel.matrix_headers["true1"].text()
    assert "mean_radius = " in panel.units_label.text()
    X_before = state.X.copy()
    boxes[1].setCurrentIndex(boxes[1].findText("worst_concave_points"))
    boxes[1].activated.emit(boxes[1].currentIndex())
    assert state.axes.names == ("mean_radius", "worst_concave_points")
    assert not np.array_equal(state.X, X_before)
    state.step(8)
    panel.flush()
    y, p = split(state, "heldout")
    assert panel.splits["heldout"]["auc"] == pytest.approx(sk.roc_auc_score(y, p))
    assert panel.splits["heldout"]["auc"] > 0.9
    # the same feature twice is refused and the pickers go back
    boxes[0].setCurrentIndex(boxes[0].findText("worst_concave_points"))
    boxes[0].activated.emit(boxes[0].currentIndex())
    assert state.axes.names == ("mean_radius", "worst_concave_points")
    assert boxes[0].currentText() == "mean_radius"
    # generated data hides the pickers
    state.generate(kind="moons")
    panel.flush()
    assert not panel.feature_row.isVisible()
    assert "malignant" not in panel.matrix_headers["true1"].text()
