"""The gan lab's panels and controls with pytest-qt: they draw the state's figures and write back gestures."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pytest

from bceviz.gui import theme as _theme
from bceviz.gui.labs import gan as gui
from bceviz.model.labs.gan import GanState
from tests.gui.drag import drag


@pytest.fixture
def state():
    s = GanState()
    s.apply_settings({"real_means": [-2.0, 2.5], "real_widths": [0.6, 0.5],
                      "real_shares": [0.5, 0.5], "d_warmup": 50})
    return s


def _plots(panel):
    return [v for v in panel.findChildren(pg.GraphicsView) if v.isVisible()]


@pytest.mark.parametrize("pid", sorted(gui.PANELS))
def test_every_panel_draws_and_keeps_its_plot_large_enough(show_panel, state, pid):
    panel = show_panel(gui.PANELS[pid], state, size=(560, 330))
    assert panel.refresh_count >= 1
    views = _plots(panel)
    assert views
    for view in views:
        assert view.width() >= 300 and view.height() >= 180, (pid, view.width(), view.height())
    before = panel.refresh_count
    state.step(3)
    panel.flush()
    assert panel.refresh_count == before + 1  # one redraw for a burst of steps


def test_densities_panel_draws_the_states_curves_and_handles(show_panel, state):
    panel = show_panel(gui.DensitiesPanel, state, size=(640, 420))
    view = state.densities()
    x, y = panel.real_curve.getData()
    np.testing.assert_allclose(y, view.p_real)
    _x, d = panel.d_curve.getData()
    np.testing.assert_allclose(d, view.discriminator)
    assert len(panel.handles.data) == 4  # a centre and a width handle per bump
    assert "D loss" in panel.readout.text() and "JS distance" in panel.readout.text()


def test_dragging_a_bump_moves_the_real_data(show_panel, state, qtbot):
    panel = show_panel(gui.DensitiesPanel, state, size=(700, 460))
    centre = tuple(state.densities().centre_handles[1])
    drag(panel.plot, centre, (1.0, centre[1]))
    assert state.setup.real_means[1] == pytest.approx(1.0, abs=0.1)
    assert state.setup.real_means[0] == -2.0
    width_handle = tuple(state.densities().width_handles[1])
    drag(panel.plot, width_handle, (width_handle[0] + 0.5, width_handle[1]))
    assert state.setup.real_widths[1] == pytest.approx(1.0, abs=0.1)


def test_generator_loss_panel_marks_every_fake_on_both_curves(show_panel):
    state = GanState()
    state.apply_settings({"real_means": [2.5], "mu": -4.0, "sigma": 0.5, "d_warmup": 100,
                          "d_steps": 5, "loss": "saturating"})
    panel = show_panel(gui.GeneratorLossPanel, state, size=(620, 420))
    curves = state.generator_curves()
    assert len(panel.sat_fakes.data) == curves.fake_u.size == 96  # quantiles of the batch of 256
    _u, push = panel.sat_push.getData()
    np.testing.assert_allclose(push, curves.grad_saturating)
    assert "training uses <b>saturating</b>" in panel.readout.text()
    # the chosen curve is drawn thicker
    assert panel.sat_curve.opts["pen"].widthF() > panel.ns_curve.opts["pen"].widthF()
    state.configure(loss="non_saturating")
    panel.flush()
    assert panel.ns_curve.opts["pen"].widthF() > panel.sat_curve.opts["pen"].widthF()
    state.configure(temperature=4.0)
    panel.flush()
    assert panel.twin.vb.viewRange()[1][1] == pytest.approx(1.05 / 4.0)


def test_objective_panel_shows_the_map_and_dragging_moves_the_generator(show_panel, state):
    panel = show_panel(gui.ObjectivePanel, state, size=(620, 420))
    view = state.objective()
    np.testing.assert_allclose(panel.image.image, view.values.T)
    rect = panel.image.mapRectToParent(panel.image.boundingRect())
    assert rect.left() < view.mu_grid[0] and rect.right() > view.mu_grid[-1]  # not one pixel
    drag(panel.plot, (view.mu, view.sigma), (1.0, 2.0))
    assert state.params.mu == pytest.approx(1.0, abs=0.2)
    assert state.params.sigma == pytest.approx(2.0, abs=0.2)
    panel.flush()
    assert panel.path.getData()[0][-1] == pytest.approx(state.params.mu)


def test_history_panel_follows_training(show_panel, state):
    panel = show_panel(gui.HistoryPanel, state, size=(620, 320))
    state.step(40)
    panel.flush()
    steps, d_loss = panel.d_loss.getData()
    np.testing.assert_allclose(d_loss, state.history().d_loss)
    assert steps[-1] == 40
    assert panel.plot.vb.viewRange()[0][1] >= 40


def test_controls_write_settings_and_follow_the_state(show_panel, state, qtbot):
    controls = show_panel(gui.GanControls, state, size=(270, 700))
    index = controls.loss.findData("saturating")
    controls.loss.setCurrentIndex(index)
    controls.loss.activated.emit(index)
    assert state.setup.loss == "saturating"
    controls.d_steps.setValue(4)
    assert state.setup.d_steps == 4
    controls.temperature.valueChanged.emit(2.5)
    assert state.setup.temperature == 2.5
    controls.real_label.valueChanged.emit(0.9)
    assert state.setup.real_label == 0.9
    controls.components.setValue(3)
    assert len(state.setup.real_means) == 3
    controls.d_button.click()
    controls.g_button.click()
    controls.round_button.click()
    assert state.counts == {"d_updates": 1 + 4, "g_updates": 2, "rounds": 1}
    # counts shown at most 5 times a second while stepping, and brought up to date after
    qtbot.waitUntil(lambda: "rounds 1 " in controls.counts.text(), timeout=2000)
    # a change made elsewhere shows in the controls, without writing back
    state.configure(features="polynomial", feature_size=3, batch_size=64)
    controls.flush()
    assert controls.features.currentData() == "polynomial"
    assert controls.feature_size.maximum() == 6 and controls.feature_size.value() == 3
    assert controls.batch.value() == 64
    controls.reset_button.click()
    assert state.steps == 0
    controls.play_button.click()
    assert state.running
    controls.flush()
    assert controls.play_button.text() == "Pause"
    controls.play_button.click()
    assert not state.running


def test_a_refused_gesture_becomes_a_status_message(show_panel, state):
    controls = show_panel(gui.GanControls, state, size=(270, 700))
    messages = []
    state.events.status.connect(lambda message="", level="", **_: messages.append(level))
    controls._set(lr_d=1e6)
    assert messages == ["warning"] and state.setup.lr_d == 1.0


def test_every_control_has_a_tooltip(show_panel, state):
    from PySide6.QtWidgets import QComboBox, QPushButton, QSpinBox

    controls = show_panel(gui.GanControls, state, size=(270, 700))
    for kind in (QComboBox, QPushButton, QSpinBox):
        for widget in controls.findChildren(kind):
            assert widget.toolTip(), widget


def test_training_draws_drafts_then_one_full_quality_frame(show_panel, state, qtbot):
    panel = show_panel(gui.DensitiesPanel, state, size=(640, 420))
    assert panel.d_curve.opts["antialias"]
    state.step(1)
    panel.flush()
    assert not panel.d_curve.opts["antialias"]  # while steps come, cheaper frames
    before = panel.refresh_count
    qtbot.waitUntil(lambda: panel.d_curve.opts["antialias"], timeout=2000)
    assert panel.refresh_count > before


def test_presentation_mode_enlarges_the_panels_text(show_panel, state):
    panel = show_panel(gui.DensitiesPanel, state, size=(700, 460))
    before = panel.readout.font().pointSizeF()
    manager = _theme.manager()
    manager.set_presentation(True)
    try:
        assert panel.readout.font().pointSizeF() > before
        assert math.isfinite(panel.plot.vb.viewRange()[1][1])
    finally:
        manager.set_presentation(False)
