"""The loss-curve panel: real drags move the state, the curves and readouts follow the engine."""

from __future__ import annotations

import math

import numpy as np
import pytest


from PySide6.QtCore import Qt

from bceviz.engine.losses import (
    FRAMEWORK_CEILINGS,
    NATS_PER_BIT,
    entropy,
    loss_from_logits,
)
from bceviz.gui.panels.loss_curve import LossCurvePanel
from bceviz.model.state import AppState
from tests.gui.drag import click, drag


@pytest.fixture
def state() -> AppState:
    return AppState()


@pytest.fixture
def panel(show_panel, state) -> LossCurvePanel:
    return show_panel(LossCurvePanel, state, size=(600, 400))


def drag_handle_to(panel: LossCurvePanel, x: float, *, steps: int = 8) -> None:
    hx, hy = panel._handle_xy
    drag(panel.plot, (hx, hy), (x, hy), steps=steps)
    panel.flush()


def test_default_readout_and_handle_on_curve(panel, state):
    x, y = panel.handle.pos()
    assert x == pytest.approx(0.7)
    assert y == pytest.approx(-math.log(0.7))
    assert "0.3567" in panel.readout.text()


def test_drag_prediction_to_0_9_shows_0_105_nats(panel, state):
    assert state.probe_y == 1.0
    drag_handle_to(panel, 0.9)
    assert state.probe_p == pytest.approx(0.9, abs=1e-9)
    text = panel.readout.text()
    assert "0.105" in text and "nats" in text
    assert "−0.1" in text  # dL/dz = p − y
    # The handle stays on the current-label curve.
    hx, hy = panel.handle.pos()
    assert hx == pytest.approx(0.9)
    assert hy == pytest.approx(float(loss_from_logits(state.probe_z, 1.0)))


def test_drag_prediction_in_bits(panel, state):
    state.set_view(units="bits")
    panel.flush()
    drag_handle_to(panel, 0.9)
    assert state.probe_p == pytest.approx(0.9, abs=1e-9)
    assert "0.152 bits" in panel.readout.text()
    assert panel.handle.pos()[1] == pytest.approx(-math.log(0.9) / NATS_PER_BIT)


def test_drag_in_logit_view(panel, state):
    panel.axis_buttons.buttons()[1].click()  # the panel's own "z" toggle
    assert state.view.curve_axis == "z"
    panel.flush()
    drag_handle_to(panel, -2.0)
    assert state.probe_z == pytest.approx(-2.0, abs=1e-9)
    assert panel.handle.pos()[0] == pytest.approx(-2.0)


def test_drag_label_on_strip(panel, state):
    drag(panel.strip, (0.5, 1.0), (0.5, 0.3))
    panel.flush()
    assert state.probe_y == pytest.approx(0.3, abs=1e-9)
    assert state.probe_p == pytest.approx(0.7)  # the prediction did not move
    _, current = panel.curve_current.getData()
    assert float(np.min(current)) == pytest.approx(float(entropy(0.3)), rel=1e-3)
    # ... and anywhere in [0, 1], exact ends included.
    drag(panel.strip, (0.5, 0.3), (0.5, -0.5))
    assert state.probe_y == 0.0


def test_click_on_strip_and_plot(panel, state):
    click(panel.strip, (0.5, 0.25))
    assert state.probe_y == pytest.approx(0.25, abs=1e-9)
    click(panel.plot, (0.4, 3.0))
    assert state.probe_p == pytest.approx(0.4, abs=1e-9)


def test_smoothing_lifts_minimum_to_entropy(panel, state):
    _, plain = panel.curve_current.getData()
    assert float(np.min(plain)) < 1e-3
    state.set_spec(label_smoothing=0.2)
    panel.flush()
    _, smoothed = panel.curve_current.getData()
    ys = 1.0 * (1 - 0.2) + 0.1
    assert float(np.min(smoothed)) == pytest.approx(float(entropy(ys)), rel=1e-4)
    assert panel.floor_line.isVisible()
    assert panel.floor_line.value() == pytest.approx(float(entropy(ys)))
    assert "yₛ = 0.9" in panel.readout.text()


def test_curves_follow_spec_and_units(panel, state):
    state.set_spec(pos_weight=3.0, focal_gamma=2.0)
    state.set_view(units="bits")
    panel.flush()
    x, y1 = panel.curve_y1.getData()
    z = np.log(x) - np.log1p(-x)
    expected = loss_from_logits(z, 1.0, state.spec) / NATS_PER_BIT
    np.testing.assert_allclose(y1, expected, rtol=1e-6, atol=1e-12)


def test_y_range_does_not_move_while_dragging(panel, state):
    before = panel.plot.vb.viewRange()[1]
    changes = []
    panel.plot.vb.sigYRangeChanged.connect(lambda *a: changes.append(a))
    hx, hy = panel._handle_xy
    # A long wandering drag to both edges and back, with a redraw after every move.
    path = [(0.5, 1), (0.05, 2), (0.0005, 3), (0.3, 1), (0.99, 1), (0.9999, 1)]
    panel.handle.sigDragged.connect(lambda *_: panel.flush())
    drag(panel.plot, (hx, hy), (0.6, 1.0), via=path)
    panel.flush()
    assert changes == []
    assert panel.plot.vb.viewRange()[1] == pytest.approx(before)
    assert 1e-3 <= state.probe_p <= 1 - 1e-3  # the p-view's drag stays on the scale


def test_tangent_has_the_handle_slope(panel, state):
    (x0, x1), (y0, y1) = panel.tangent.getData()
    slope = (y1 - y0) / (x1 - x0)
    assert slope == pytest.approx(-1.0 / 0.7, rel=1e-6)  # dL/dp = −y/p
    assert (x0 + x1) / 2 == pytest.approx(0.7)


def test_ceilings_noted_or_drawn(panel, state):
    text = panel.ceiling_note.textItem.toPlainText()
    for key in ("keras", "sklearn", "pytorch"):
        value = FRAMEWORK_CEILINGS[key]
        assert f"{value:.4g}" in text or f"{value:.2f}" in text
    # A large pos_weight raises the scale: the Keras cap becomes a drawn line.
    state.set_spec(pos_weight=10.0)
    panel.flush()
    assert panel.ceiling_lines["keras"].isVisible()
    assert panel.ceiling_lines["keras"].value() == pytest.approx(FRAMEWORK_CEILINGS["keras"])
    state.set_view(show_ceilings=False)
    panel.flush()
    assert not panel.ceiling_note.isVisible()
    assert not any(line.isVisible() for line in panel.ceiling_lines.values())


def test_sklearn_cap_names_the_prediction_dtype(panel, state):
    # scikit-learn clips at the eps of the predictions' dtype: the note says the
    # figure is float64's and gives float32's (15.94), on screen and when drawn.
    text = panel.ceiling_note.textItem.toPlainText()
    assert "sklearn 36.04 (float64; float32: 15.94)" in text
    state.set_spec(pos_weight=40.0)  # the scale now reaches past the sklearn cap
    panel.flush()
    line = panel.ceiling_lines["sklearn"]
    assert line.isVisible()
    label = line.label.toPlainText()
    assert "sklearn caps at 36.04" in label and "(float64; float32: 15.94)" in label


def test_mse_overlay_shows_saturation(panel, state):
    panel.toggles["show_mse"].click()
    assert state.view.show_mse
    panel.flush()
    x, mse = panel.curve_mse.getData()
    np.testing.assert_allclose(mse, (x - 1.0) ** 2, atol=1e-12)
    state.set_probe(p=0.01)
    panel.flush()
    assert "saturates" in panel.readout.text()
    panel.toggles["show_hinge"].setChecked(True)
    panel.flush()
    assert len(panel.curve_hinge.getData()[0]) > 0
    assert "hinge" in panel.readout.text()


def test_clipped_probe_is_noted(panel, state):
    state.set_probe(p=0.0)
    panel.flush()
    text = panel.readout.text()
    assert "held at 9.358e−14" in text  # p = σ(−30), never shown as 0
    assert "nan" not in text.lower() and "inf" not in text.lower()


def test_right_click_cancels_a_drag(panel, state, qtbot):
    from PySide6.QtWidgets import QApplication

    from tests.gui import drag as d

    view = d.prepare(panel.plot)
    hx, hy = panel._handle_xy
    a = d.to_viewport(panel.plot, hx, hy)
    b = d.to_viewport(panel.plot, 0.2, hy)
    d.move(view, a)
    d.press(view, a)
    d.move(view, b, Qt.MouseButton.LeftButton)
    assert state.probe_p == pytest.approx(0.2, abs=1e-9)
    d.press(view, b, Qt.MouseButton.RightButton)
    d.release(view, b, Qt.MouseButton.RightButton)
    d.release(view, b)
    QApplication.processEvents()
    assert state.probe_p == pytest.approx(0.7)


def test_screenshot(panel, state, tmp_path):
    state.set_view(show_mse=True)
    state.set_spec(label_smoothing=0.1)
    panel.flush()
    path = tmp_path / "loss_curve.png"
    assert panel.grab().save(str(path))
    image = panel.grab().toImage()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    assert len(colours) > 20


def test_logit_view_widens_only_for_a_handle_beyond_it(panel, state):
    state.set_view(curve_axis="z")
    panel.flush()
    assert panel._x_range == (-8.0, 8.0)
    hx, hy = panel._handle_xy
    drag(panel.plot, (hx, hy), (30.0, hy))  # past the edge: clamped to it
    panel.flush()
    assert state.probe_z == pytest.approx(8.0)
    assert panel._x_range == (-8.0, 8.0)  # pushing the edge does not creep the range
    state.set_probe(z=-20.0)
    panel.flush()
    assert panel._x_range == (-21.0, 21.0)
    assert panel.handle.pos()[0] == pytest.approx(-20.0)
    assert panel.plot.vb.viewRange()[1][1] >= panel.handle.pos()[1]


@pytest.mark.parametrize("size", [(330, 330), (600, 400)])
@pytest.mark.parametrize("axis", ["p", "z"])
def test_cap_labels_never_overprint_nor_clip(show_panel, state, size, axis):
    """pos_weight 49 puts Keras' and sklearn's caps a few pixels apart: their labels move
    aside (or are left off) instead of printing over each other or off the plot."""
    from tests.gui.test_text_fits import plot_problems

    panel = show_panel(LossCurvePanel, state, size=size)
    state.set_view(curve_axis=axis)
    for weight in (1.0, 10.0, 49.0, 200.0):
        state.set_spec(pos_weight=weight)
        panel.flush()
        assert plot_problems(panel, {}) == [], (weight, axis, size)
        assert panel.ceiling_lines["keras"].isVisible() == (weight >= 10.0)
    shown = [line.label for line in panel.ceiling_lines.values()
             if line.isVisible() and line.label.isVisible()]
    assert shown  # at least one cap still says what it is
