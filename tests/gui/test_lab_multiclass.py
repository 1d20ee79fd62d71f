"""The one-vs-rest lab's panels (pytest-qt, offscreen): maps, mouse edits, ROC, confusion, code."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from bceviz.gui import theme as _theme
from bceviz.gui.labs import multiclass as gui
from bceviz.model.labs.multiclass import NOBODY, SEVERAL, MulticlassState
from tests.gui.drag import click, drag, prepare


@pytest.fixture
def state():
    s = MulticlassState()
    s.apply_settings({"dataset": "line", "n_classes": 3})
    return s


def visible_plots(widget):
    out = []
    for view in widget.findChildren(pg.GraphicsView):
        if view.isVisible():
            out += [it for it in view.scene().items()
                    if isinstance(it, pg.PlotItem) and it.isVisible()]
    return out


def test_module_declares_panels_and_controls():
    assert set(gui.PANELS) == {"decision", "softmax", "classmaps", "roc", "confusion", "code"}
    assert gui.CONTROLS is gui.MulticlassControls
    for pid, cls in gui.PANELS.items():
        assert cls.panel_id == pid and cls.title


def test_decision_map_codes_nobody_and_several(state, show_panel):
    panel = show_panel(gui.DecisionPanel, state, size=(560, 600))
    g = state.grid()
    image = panel.image.image
    K = state.n_classes
    nobody = g.region == NOBODY
    np.testing.assert_array_equal(image[nobody], (g.ovr_argmax + K)[nobody])
    several = (g.region == SEVERAL) & ~panel._stripes
    np.testing.assert_array_equal(image[several], (g.ovr_argmax + 2 * K)[several])
    lut = panel._lut(K, _theme.current())
    assert lut.shape == (3 * K + 1, 3)
    assert f"{100 * g.nobody_share:.0f} %" in panel.readout.text()


def test_drag_moves_a_point_and_the_model_refits(state, show_panel, qtbot):
    panel = show_panel(gui.DecisionPanel, state, size=(560, 600))
    prepare(panel.plot)
    i = int(np.flatnonzero(~state.heldout)[0])
    start = tuple(state.X[i])
    W_before = state.ovr[0].copy()
    drag(panel.plot, start, (0.5, 3.0))
    np.testing.assert_allclose(state.X[i], (0.5, 3.0), atol=0.1)
    assert not np.array_equal(state.ovr[0], W_before)  # auto-fit after the edit
    panel.flush()
    train, _held = panel.class_points[int(state.labels[i])]
    xs, ys = train.getData()
    assert np.min(np.hypot(xs - state.X[i, 0], ys - state.X[i, 1])) < 1e-9


def test_click_adds_the_chosen_class_and_right_click_deletes(state, show_panel, qtbot):
    panel = show_panel(gui.DecisionPanel, state, size=(560, 600))
    prepare(panel.plot)
    qtbot.mouseClick(panel.class_buttons[2], Qt.MouseButton.LeftButton)
    assert state.add_class == 2
    n = state.n_points
    click(panel.plot, (3.5, -3.5))
    assert state.n_points == n + 1 and state.labels[-1] == 2
    np.testing.assert_allclose(state.X[-1], (3.5, -3.5), atol=0.1)
    panel.flush()
    click(panel.plot, tuple(state.X[-1]), button=Qt.MouseButton.RightButton)
    assert state.n_points == n


def test_softmax_panel(state, show_panel):
    panel = show_panel(gui.SoftmaxPanel, state, size=(560, 600))
    g = state.grid()
    K = state.n_classes
    np.testing.assert_array_equal(panel.image.image // gui.SHADES, g.softmax_argmax)
    assert panel.image.image.max() < K * gui.SHADES
    assert f"{g.ovr_sum_min:.2f}–{g.ovr_sum_max:.2f}" in panel.readout.text()
    if g.disagree.any():
        assert len(panel.outline.getData()[0]) > 0


def test_class_maps_all_and_one(state, show_panel, qtbot):
    panel = show_panel(gui.ClassMapsPanel, state, size=(760, 620))
    assert len(visible_plots(panel)) == 3
    g = state.grid()
    np.testing.assert_array_equal(panel.plots[1][1].image, g.ovr[1])
    panel.choice.activated.emit(2)  # "■ B vs the rest", as a user's choice does
    assert state.settings["map_class"] == 1
    panel.flush()
    assert len(visible_plots(panel)) == 1
    np.testing.assert_array_equal(panel.single[1].image, g.ovr[1])
    assert "B vs the rest" in panel.single[0].titleLabel.text


def test_roc_and_confusion(state, show_panel):
    roc = show_panel(gui.RocPanel, state, size=(560, 560))
    mf = state.metrics_figure()
    for k in range(3):
        x, y = roc.ovr[k].getData()
        np.testing.assert_array_equal(x, mf.ovr.roc[k].fpr)
        assert roc.table.item(k, 1).text() == f"{mf.ovr.roc[k].auc:.3f}"
    conf = show_panel(gui.ConfusionPanel, state, size=(560, 420))
    for r in range(3):
        for c in range(3):
            assert conf.tables[0].item(r, c).text() == str(mf.ovr.confusion[r, c])
            assert conf.tables[1].item(r, c).text() == str(mf.softmax.confusion[r, c])
    assert f"{100 * mf.ovr.heldout_accuracy:.1f} %" in conf.headings[0].text()
    state.apply_settings({"dataset": "ring", "n_classes": 5})
    conf.flush()
    assert conf.tables[0].rowCount() == 5


def test_training_redraws_the_maps(state, show_panel, qtbot):
    state.update(start="zero")
    panel = show_panel(gui.DecisionPanel, state)
    count = panel.refresh_count
    state.step(10)
    qtbot.waitUntil(lambda: panel.refresh_count > count, timeout=2000)


def test_code_panel(state, show_panel):
    panel = show_panel(gui.CodePanel, state, size=(600, 400))
    assert "OneVsRestClassifier(LogisticRegression(" in panel.text.toPlainText()
    panel.copy()
    assert QApplication.clipboard().text() == state.code("sklearn")


def test_controls(state, show_panel, qtbot):
    panel = show_panel(gui.MulticlassControls, state, size=(270, 700))
    panel.auto_fit.setChecked(False)
    assert not state.settings["auto_fit"]
    panel.n_classes.setValue(5)
    assert state.n_classes == 5
    panel.dataset.setCurrentIndex(panel.dataset.findData("ring"))
    assert state.settings["dataset"] == "ring"
    panel._guard(state.update, spread=99.0)
    assert state.status_level == "error" and "spread" in state.status_message
    panel.flush()
    assert panel.spread.value() == state.settings["spread"]
    qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    assert state.steps == 1


def test_class_names_from_a_file_are_escaped(tmp_path, show_panel):
    rng = np.random.default_rng(1)
    rows = "\n".join(f"{rng.normal() + c!r},{rng.normal() - c!r},{c}" for c in (1, 2, 3) * 10)
    path = tmp_path / "c.csv"
    path.write_text("a,b,class\n" + rows + "\n", encoding="utf-8")
    state = MulticlassState()
    state.load_csv(str(path))
    panel = show_panel(gui.ClassMapsPanel, state, size=(760, 620))
    assert state.class_names == ("1", "2", "3")
    assert "1 vs the rest" in panel.plots[0][0].titleLabel.text


def test_presentation_and_dark(state, show_panel):
    panel = show_panel(gui.ConfusionPanel, state)
    small = panel.tables[0].font().pointSizeF()
    manager = _theme.manager()
    manager.set_presentation(True)
    try:
        assert panel.tables[0].font().pointSizeF() > small
    finally:
        manager.set_presentation(False)
    decision = show_panel(gui.DecisionPanel, state)
    manager.set_dark(True)
    try:
        decision.flush()
        assert decision._lut_key[1] == "dark"
    finally:
        manager.set_dark(False)
