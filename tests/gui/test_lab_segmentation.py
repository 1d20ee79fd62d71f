"""The segmentation lab's panels: painting and dragging with real mouse events, readouts, controls."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from bceviz.gui.labs import segmentation as gui
from bceviz.model.labs.segmentation import SegmentationState
from tests.gui.drag import click, drag


@pytest.fixture
def state() -> SegmentationState:
    return SegmentationState()


def _settle(panel) -> None:
    QApplication.processEvents()
    panel.flush()


def test_the_lab_declares_its_panels_and_controls():
    assert set(gui.PANELS) == {"scan", "probability", "gradient", "figures", "size_curve",
                               "history"}
    assert gui.CONTROLS is gui.SegmentationControls
    for pid, cls in gui.PANELS.items():
        assert cls.panel_id == pid and cls.title


def test_painting_the_mask_with_the_mouse(state, show_panel):
    panel = show_panel(gui.ScanPanel, state, size=(560, 520))
    panel.tool_buttons.buttons()[1].click()  # Paint
    assert state.view["tool"] == "paint"
    before = state.mask.copy()
    drag(panel.plot, (6.5, 52.5), (30.5, 52.5), steps=12)
    painted = (state.mask > 0) & (before == 0)
    assert painted[52, 7:30].all()  # a continuous stroke along the drag
    assert state.painted and panel.clear_button.isEnabled()
    _settle(panel)
    xs, ys = panel.outline.getData()
    assert xs is not None and xs.size > 0 and np.max(ys) >= 53  # the outline follows

    # Shift + drag with Paint erases; so does the Erase tool
    drag(panel.plot, (10.5, 52.5), (14.5, 52.5), modifiers=Qt.KeyboardModifier.ShiftModifier)
    assert not state.mask[52, 11:14].any()
    panel.tool_buttons.buttons()[2].click()  # Erase
    lesion = np.argwhere(state.scan.mask > 0)
    cy, cx = lesion.mean(axis=0)
    drag(panel.plot, (cx - 3, cy + 0.5), (cx + 4, cy + 0.5))
    assert not state.mask[int(cy), int(cx) - 2:int(cx) + 3].any()
    panel.clear_button.click()
    assert not state.painted and np.array_equal(state.mask, state.scan.mask)


def test_brush_radius_and_cursor(state, show_panel):
    panel = show_panel(gui.ScanPanel, state, size=(560, 520))
    panel.brush.setValue(4)
    assert state.view["brush_radius"] == 4.0
    panel.tool_buttons.buttons()[1].click()
    click(panel.plot, (20.5, 20.5))
    assert state.mask[17:24, 20].all() and state.mask[20, 17:24].all()
    assert panel.cursor.isVisible()
    assert panel.cursor.rect().width() == pytest.approx(8.0)


def test_dragging_the_lesion_moves_it_and_keeps_the_weights(state, show_panel):
    state.step(30)
    w = state.weights.copy()
    panel = show_panel(gui.ScanPanel, state, size=(560, 520))
    assert state.view["tool"] == "move"
    start = (state.scan_params["lesion_x"] * 64, state.scan_params["lesion_y"] * 64)
    drag(panel.plot, start, (16.0, 48.0), steps=10)
    assert state.scan_params["lesion_x"] == pytest.approx(0.25, abs=0.02)
    assert state.scan_params["lesion_y"] == pytest.approx(0.75, abs=0.02)
    assert state.mask[48, 16] == 1.0
    assert np.array_equal(state.weights, w)
    _settle(panel)
    cx, cy = panel.centre.getData()
    assert cx[0] == pytest.approx(state.scan_params["lesion_x"] * 64)


def test_probability_panel_draws_the_half_contour(state, show_panel):
    state.apply_settings({"scan": {"lesion_radius": 0.15, "contrast": 0.5,
                                   "lesion_x": 0.5, "lesion_y": 0.5}})
    state.step(300)
    panel = show_panel(gui.ProbabilityPanel, state)
    xs, ys = panel.contour.getData()
    assert xs is not None and xs.size > 10
    assert abs(np.mean(xs) - 32) < 6 and abs(np.mean(ys) - 32) < 6  # around the lesion
    assert panel.image.image.shape == (64, 64)
    assert np.allclose(panel.image.image, state.probability())
    fig = state.figures()
    assert f"({fig.model.predicted_pixels} px)" in panel.readout.text()


def test_gradient_panel_shares_the_scale_and_switches_to_own(state, show_panel):
    state.step(100)
    panel = show_panel(gui.GradientPanel, state)
    gm = state.gradient_map()
    assert np.array_equal(panel.image.image, gm.display)
    ticks = panel.colour_bar.axis._tickLevels[0]
    assert (0.0, "0") in ticks and len(ticks) == 7
    state.set_loss(kind="dice")
    _settle(panel)
    assert state.gradient_map().scale == gm.scale  # the same scale for another loss
    assert panel.readout.text().startswith("soft Dice · ")
    panel.own_scale.setChecked(True)
    assert state.view["grad_scale"] == "own"
    _settle(panel)
    assert f"±{gui._fmt(state.gradient_map().scale, 2)} own" in panel.readout.text()


def test_figures_table_shows_the_states_figures_beside_the_baseline(state, show_panel):
    state.step(200)
    panel = show_panel(gui.FiguresPanel, state)
    fig = state.figures()
    assert panel.cells[("model", "dice")].text() == gui._fmt(fig.model.dice)
    assert panel.cells[("baseline", "pixel_accuracy")].text() == "98.9 %"
    assert panel.cells[("baseline", "dice")].text() == "0"
    assert panel.cells[("model", "loss")].text() == gui._fmt(fig.loss_value, 4)
    state.set_scan(lesion_radius=0.0)
    _settle(panel)
    assert panel.cells[("model", "recall")].text() == "—"  # undefined, never nan
    for label in panel.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText


def test_size_curve_and_history_panels(state, show_panel):
    curve = show_panel(gui.SizeCurvePanel, state)
    xs, ys = curve.curves["dice"].getData()
    assert xs.size == ys.size > 10
    assert curve.marker.isVisible()
    state.step(40)
    history = show_panel(gui.HistoryPanel, state)
    xs, ys = history.loss_curve.getData()
    assert xs[-1] == 40 and ys[0] == pytest.approx(np.log(2))
    state.set_loss(kind="focal")
    _settle(history)
    labels = [label.text for _sample, label in history.legend.items]
    assert "loss (focal)" in labels


def test_training_steps_redraw_the_maps_paced(state, show_panel, qtbot):
    panel = show_panel(gui.ProbabilityPanel, state)
    count = panel.refresh_count
    state.step(1)
    assert panel._dirty
    qtbot.waitUntil(lambda: panel.refresh_count > count, timeout=1000)


def test_controls_change_the_state_and_show_it(state, show_panel):
    panel = show_panel(gui.SegmentationControls, state, size=(300, 900))
    panel.kind.setCurrentIndex(panel.kind.findData("dice"))
    assert state.loss.kind == "dice"
    _settle(panel)
    assert panel.smooth_nr.isEnabled() and not panel.pos_weight.isEnabled()
    panel.smooth_nr.spin.setValue(0.0)
    assert state.loss_params["smooth_nr"] == 0.0
    panel.smooth_dr.spin.setValue(1.0)
    assert state.loss_params["smooth_dr"] == 1.0
    assert panel.smooth_dr.spin.text() == "1"
    panel.kind.setCurrentIndex(panel.kind.findData("weighted_bce"))
    _settle(panel)
    assert panel.suggest.isEnabled() and "88.0" in panel.suggest.text()
    panel.suggest.click()
    assert state.loss_params["pos_weight"] == pytest.approx(state.figures().suggested_pos_weight)
    panel.size.setCurrentIndex(panel.size.findData(32))
    assert state.scan.size == 32
    panel.radius.spin.setValue(0.0)
    _settle(panel)
    assert state.figures().model.lesion_pixels == 0 and not panel.suggest.isEnabled()
    panel.play_button.click()
    assert state.running
    _settle(panel)
    assert panel.play_button.text() == "Pause"
    panel.play_button.click()
    assert not state.running
    panel.step_button.click()
    assert state.step_count == 1
    panel.reset_button.click()
    assert state.step_count == 0


def test_a_refused_change_is_reported_and_the_control_snaps_back(state, show_panel):
    panel = show_panel(gui.SegmentationControls, state, size=(300, 900))
    state.set_scan(lesion_radius=0.0)
    _settle(panel)
    messages = []
    state.events.status.connect(lambda message="", **_: messages.append(message))
    panel._guard(state.use_suggested_pos_weight)
    assert messages and "no lesion pixels" in messages[-1]


def test_every_control_has_a_tooltip(state, show_panel):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QSlider

    panel = show_panel(gui.SegmentationControls, state, size=(300, 900))
    scan = show_panel(gui.ScanPanel, state)
    grad = show_panel(gui.GradientPanel, state)
    for host in (panel, scan, grad):
        for cls in (QAbstractButton, QAbstractSpinBox, QComboBox, QSlider):
            for widget in host.findChildren(cls):
                if widget.isVisibleTo(host):
                    assert widget.toolTip(), (type(widget).__name__, widget.objectName(),
                                              getattr(widget, "text", lambda: "")())


def test_presentation_mode_enlarges_the_table(state, show_panel):
    from bceviz.gui import theme

    panel = show_panel(gui.FiguresPanel, state)
    before = panel.cells[("model", "dice")].font().pointSizeF()
    theme.manager().set_presentation(True)
    try:
        assert panel.cells[("model", "dice")].font().pointSizeF() > 1.4 * before
    finally:
        theme.manager().set_presentation(False)


def test_settings_a_loss_does_not_use_are_greyed_with_their_labels(state, show_panel):
    panel = show_panel(gui.SegmentationControls, state, size=(300, 900))
    for widget, label in panel._rows.items():
        assert label is not None
        assert not widget.isEnabled() or widget is panel.pos_weight
    assert not panel._rows[panel.smooth_nr].isEnabled()
    state.set_loss(kind="dice")
    _settle(panel)
    assert panel._rows[panel.smooth_nr].isEnabled() and panel.smooth_nr.isEnabled()
    assert not panel._rows[panel.gamma].isEnabled()
