"""The multi-label lab's panels (pytest-qt, offscreen): they draw the state's figures and write back."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from bceviz.gui import theme as _theme
from bceviz.gui.labs import multilabel as gui
from bceviz.model.labs.multilabel import MultilabelState


@pytest.fixture
def state():
    s = MultilabelState()
    s.apply_settings({"dataset": "rare", "n_labels": 4, "start": "fit"})
    return s


def visible_plots(widget):
    out = []
    for view in widget.findChildren(pg.GraphicsView):
        if view.isVisible():
            out += [it for it in view.scene().items()
                    if isinstance(it, pg.PlotItem) and it.isVisible()]
    return out


def test_module_declares_panels_and_controls():
    assert set(gui.PANELS) == {"maps", "sum", "hessian", "thresholds", "code"}
    assert gui.CONTROLS is gui.MultilabelControls
    for pid, cls in gui.PANELS.items():
        assert cls.panel_id == pid and cls.title


def test_maps_draw_each_label_and_one_large(state, show_panel, qtbot):
    panel = show_panel(gui.MapsPanel, state, size=(760, 620))
    assert len(visible_plots(panel)) == 4
    g = state.grid()
    for k in range(4):
        np.testing.assert_array_equal(panel.maps[k].image.image, g.P[k])
    # drama (label 3) large: the button writes the state's view setting
    assert [panel.choice.itemText(i) for i in range(5)] == [
        "all labels", "label comedy", "label romance", "label action", "label drama"]
    panel.choice.setCurrentIndex(4)
    panel.choice.activated.emit(4)  # as a user's choice does
    assert state.settings["map_label"] == 3
    panel.flush()
    assert panel.stack.currentIndex() == 1 and len(visible_plots(panel)) == 1
    np.testing.assert_array_equal(panel.single.image.image, g.P[3])
    assert "drama" in panel.single.plot.titleLabel.text
    # the chosen threshold's line is drawn where it differs from 0.5
    t = state.threshold_figure().labels[3].threshold
    assert abs(t - 0.5) > 0.01 and len(panel.single.threshold.getData()[0]) > 0
    panel.choice.activated.emit(0)
    assert state.settings["map_label"] is None


def test_training_redraws_the_maps_and_the_hessian(state, show_panel, qtbot):
    state.update(start="zero")
    maps = show_panel(gui.MapsPanel, state, size=(700, 600))
    hessian = show_panel(gui.HessianPanel, state, size=(420, 480))
    before = (maps.refresh_count, hessian.refresh_count)
    state.step(25)
    qtbot.waitUntil(lambda: maps.refresh_count > before[0] and hessian.refresh_count > before[1],
                    timeout=2000)
    np.testing.assert_array_equal(maps.maps[0].image.image, state.grid().P[0])


def test_hessian_marks_the_exact_zeros(state, show_panel):
    panel = show_panel(gui.HessianPanel, state, size=(460, 520))
    zeros = [t for t in panel.zeros if t.isVisible()]
    assert len(zeros) == 4 * 3
    assert "exactly" in panel.readout.text()
    assert panel.image.image.shape == (12, 12)
    state.update(shared_layer=True, hidden_units=2)
    state.step(5)
    panel.flush()
    assert len([t for t in panel.zeros if t.isVisible()]) == 12  # heads still decoupled
    assert panel.image.image.shape == (4 * 5 + 2 * 3,) * 2
    assert "not for what they share" in panel.readout.text()
    ticks = panel.plot.getAxis("left")._tickLevels[0]
    assert [name for _, name in ticks] == ["comedy", "romance", "action", "drama", "h1", "h2"]


def test_thresholds_table_and_curves(state, show_panel):
    panel = show_panel(gui.ThresholdsPanel, state, size=(620, 560))
    fig = state.threshold_figure()
    for r, lt in enumerate(fig.labels):
        assert panel.table.item(r, 0).text() == lt.name
        assert panel.table.item(r, 1).text().startswith(f"{lt.threshold:.2f}")
        m = lt.heldout_at_threshold
        assert panel.table.item(r, 3).text() == f"{m.precision:.2f} / {m.recall:.2f}"
        x, y = panel.curves[r].getData()
        np.testing.assert_array_equal(y, lt.curve)
    assert "held-out" in panel.note.text()
    state.update(threshold_metric="cost")
    panel.flush()
    assert "cost" in panel.plot.getAxis("left").labelText


def test_sum_panel(state, show_panel):
    state.apply_settings({"dataset": "overlapping", "start": "fit"})
    panel = show_panel(gui.SumPanel, state, size=(560, 560))
    g = state.grid()
    np.testing.assert_array_equal(panel.map.image.image, g.sum)
    assert f"{g.sum_max:.2f}" in panel.readout.text()
    shown = [item for item in panel.slices if len(item.data)]
    assert len(shown) == 3


def test_code_panel_copies_the_snippet(state, show_panel):
    panel = show_panel(gui.CodePanel, state, size=(600, 400))
    assert panel.text.toPlainText() == state.code("pytorch")
    panel.framework.setCurrentIndex(1)
    panel.flush()
    assert "MultiOutputClassifier" in panel.text.toPlainText() or "heads" in panel.text.toPlainText()
    panel.copy()
    assert QApplication.clipboard().text() == state.code("sklearn")


def test_controls_write_the_state_and_refusals_snap_back(state, show_panel, qtbot):
    panel = show_panel(gui.MultilabelControls, state, size=(270, 700))
    panel.shared.setChecked(True)
    assert state.settings["shared_layer"] and state.params.n_hidden == 3
    panel.pos_weights[1].spin.setValue(4.0)
    assert state.settings["pos_weight"][1] == 4.0
    assert state.trainer.specs[1].pos_weight == 4.0
    panel.n_labels.setValue(2)
    assert state.n_labels == 2
    panel.flush()
    assert not panel.pos_weights[2].isVisibleTo(panel)
    # a refused change: the status says why, the widgets show the state again
    panel._guard(state.update, lr=-1.0)
    assert state.status_level == "error" and "lr" in state.status_message
    assert panel.lr.value() == state.settings["lr"]
    qtbot.mouseClick(panel.step_button, Qt.MouseButton.LeftButton)
    assert state.steps == 1
    for widget in panel.findChildren(QLabel):
        assert widget.textFormat() == Qt.TextFormat.PlainText or not widget.text()


def test_names_from_a_file_are_not_rich_text(tmp_path, show_panel, qtbot):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    rows = "\n".join(f"{a!r},{b!r},{int(a > 0)},{int(b > 0)}" for a, b in X.tolist())
    path = tmp_path / "tags.csv"
    path.write_text("x,y,<b>bold</b>,<i>it</i>\n" + rows + "\n", encoding="utf-8")
    state = MultilabelState()
    state.load_csv(str(path))
    assert state.label_names == ("<b>bold</b>", "<i>it</i>")
    maps = show_panel(gui.MapsPanel, state, size=(700, 500))
    assert "&lt;b&gt;bold&lt;/b&gt;" in maps.maps[0].plot.titleLabel.text
    table = show_panel(gui.ThresholdsPanel, state)
    assert table.table.item(0, 0).text() == "<b>bold</b>"
    controls = show_panel(gui.MultilabelControls, state, size=(270, 700))
    label = controls.pw_form.labelForField(controls.pos_weights[0])
    assert label.text() == "<b>bold</b>" and label.textFormat() == Qt.TextFormat.PlainText
    assert "standardised" in maps.maps[0].plot.getAxis("bottom").labelText


def test_presentation_mode_enlarges_the_panels(state, show_panel):
    panel = show_panel(gui.ThresholdsPanel, state)
    small = panel.table.font().pointSizeF()
    manager = _theme.manager()
    manager.set_presentation(True)
    try:
        assert panel.table.font().pointSizeF() > small
    finally:
        manager.set_presentation(False)
    manager.set_dark(True)
    try:
        panel.flush()
    finally:
        manager.set_dark(False)
