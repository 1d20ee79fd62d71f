"""The tipping lab's panels with real mouse input (pytest-qt, offscreen)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from bceviz.engine.losses import LossSpec
from bceviz.gui import theme as _theme
from bceviz.gui.labs.tipping import (
    CONTROLS,
    PANELS,
    ReadoutPanel,
    SgdTablePanel,
    StripPanel,
    SurfacePanel,
    TippingControls,
)
from bceviz.model.labs.tipping import TippingState
from tests.gui.drag import click, drag

SHIFT = Qt.KeyboardModifier.ShiftModifier
RIGHT = Qt.MouseButton.RightButton


@pytest.fixture
def state():
    st = TippingState()
    st.apply_settings({"dataset": "grain_boundaries", "start": "fit"})
    return st


def settle(qtbot, *panels):
    qtbot.wait(5)
    for p in panels:
        p.flush()


def test_the_lab_declares_its_panels_and_controls():
    assert set(PANELS) == {"strip", "surface", "table", "readout"}
    assert CONTROLS is TippingControls
    assert len({cls.panel_id for cls in PANELS.values()}) == len(PANELS)


# ----------------------------------------------------------------------------- strip


def test_dragging_an_example_moves_it_along_the_axis(qtbot, show_panel, state):
    panel = show_panel(StripPanel, state, size=(700, 420))
    i = int(np.argmax(state.x))  # a general boundary on the right
    x0, y0 = float(state.x[i]), float(state.y[i])
    others = np.delete(state.x.copy(), i)
    drag(panel.plot, (x0, y0), (40.0, y0 + 0.2))  # vertical movement is ignored
    assert state.x[i] == pytest.approx(40.0, abs=0.3)
    assert state.y[i] == y0
    np.testing.assert_array_equal(np.delete(state.x, i), others)
    settle(qtbot, panel)
    assert panel.points.data["x"][i] == pytest.approx(state.x[i])
    # beyond the strip's range: clamped to it, the range does not move under the drag
    lo, hi = state.x_range
    drag(panel.plot, (float(state.x[i]), y0), (hi + 20.0, y0))
    assert state.x[i] <= hi and state.x_range == (lo, hi)


def test_click_adds_shift_click_flips_right_click_deletes(qtbot, show_panel):
    st = TippingState()  # two terminators at −14 (works) and −4 (fails)
    panel = show_panel(StripPanel, st, size=(700, 420))
    click(panel.plot, (-9.0, 0.9))
    assert st.n == 3 and st.x[2] == pytest.approx(-9.0, abs=0.1) and st.y[2] == 1.0
    click(panel.plot, (-2.0, 0.1))
    assert st.n == 4 and st.y[3] == 0.0
    settle(qtbot, panel)
    click(panel.plot, (-14.0, 1.0), modifiers=SHIFT)
    assert st.y[0] == 0.0
    settle(qtbot, panel)
    click(panel.plot, (-4.0, 0.0), button=RIGHT)
    assert st.n == 3 and -4.0 not in st.x.tolist()


def test_the_tipping_point_handle_moves_x_star_and_keeps_w(qtbot, show_panel, state):
    panel = show_panel(StripPanel, state, size=(700, 420))
    w = state.w
    t0 = state.report()["tipping_point"]
    drag(panel.plot, (t0, 0.5), (25.0, 0.5))
    assert state.w == w
    assert state.report()["tipping_point"] == pytest.approx(25.0, abs=0.3)


def test_strip_draws_the_state_figures(qtbot, show_panel, state):
    panel = show_panel(StripPanel, state, size=(700, 420))
    fig = state.strip()
    xs, ps = panel.model_curve.getData()
    np.testing.assert_allclose(xs, fig.xs)
    np.testing.assert_allclose(ps, fig.p_model)
    assert panel.band.isVisible() and panel.handle.isVisible()
    assert panel.band.region() == pytest.approx(fig.band)
    assert state.format_x(fig.tipping_point) in panel.tip_label.toPlainText()
    assert not panel.gap.isVisible()
    state.reset()  # w = 0: no tipping point, and the strip says so
    panel.flush()
    assert not panel.handle.isVisible() and "no tipping point" in panel.tip_label.toPlainText()


def test_strip_shows_the_separation_gap(qtbot, show_panel):
    st = TippingState()
    panel = show_panel(StripPanel, st, size=(700, 420))
    assert panel.gap.isVisible()
    assert panel.gap.region() == pytest.approx((-14.0, -4.0))


def test_file_text_reaches_the_axis_escaped(qtbot, show_panel, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("<b>dose</b>,label\n1,0\n2,1\n3,0\n4,1\n", encoding="utf-8")
    st = TippingState()
    st.load_csv(path)
    panel = show_panel(StripPanel, st, size=(700, 420))
    label = panel.plot.getAxis("bottom").labelText
    assert "&lt;b&gt;dose&lt;/b&gt;" in label and "<b>" not in label
    readout = show_panel(ReadoutPanel, st, size=(400, 400))
    assert "<b>dose</b>" in readout.plain_text()  # shown literally, not as bold


# ----------------------------------------------------------------------------- surface


def test_surface_shows_the_path_and_the_optimum(qtbot, show_panel, state):
    panel = show_panel(SurfacePanel, state, size=(600, 400))
    fit = state.fit()
    assert panel.optimum.isVisible()
    assert panel.optimum.xy() == pytest.approx((fit.w, fit.b))
    assert not panel.arrow.isVisible()
    state.reset()
    state.step(40)
    panel.flush()
    px, py = panel.path.getData()
    np.testing.assert_allclose(np.column_stack([px, py]), state.surface().path)
    assert panel.current.xy() == (state.w, state.b)
    assert panel.image.image.shape == state.surface().image.shape


def test_surface_click_puts_the_model_there(qtbot, show_panel, state):
    panel = show_panel(SurfacePanel, state, size=(600, 400))
    w0, w1, b0, b1 = panel._box
    target = (0.5 * (w0 + w1), 0.25 * b0 + 0.75 * b1)
    click(panel.plot, target)
    assert state.w == pytest.approx(target[0], abs=0.01 * (w1 - w0))
    assert state.b == pytest.approx(target[1], abs=0.01 * (b1 - b0))
    assert len(state.surface().path) == 1


def test_surface_without_an_optimum_draws_the_escape(qtbot, show_panel):
    st = TippingState()
    panel = show_panel(SurfacePanel, st, size=(600, 400))
    assert panel.arrow.isVisible() and not panel.optimum.isVisible()
    st.set_l2(0.05)
    panel.flush()
    assert not panel.arrow.isVisible() and panel.optimum.isVisible()


# ----------------------------------------------------------------------------- table


def test_table_lists_the_last_steps_newest_first(qtbot, show_panel):
    st = TippingState()
    panel = show_panel(SgdTablePanel, st, size=(520, 360))
    assert panel.empty.isVisible()
    st.step(3)
    panel.flush()
    rows = st.steps_table()
    newest = rows[-1]
    top = [panel.model.text(0, c) for c in range(panel.model.columnCount())]
    assert top[0] == "3" and top[1] == str(newest.index) and top[3] == str(int(newest.y))
    assert top[2] == "−14.0"  # x of example 0 (in order: 0, 1, 0), in the data's decimals
    assert float(top[5].replace("−", "-")) == pytest.approx(newest.p_minus_y, rel=1e-2)
    assert float(top[7].replace("−", "-")) == pytest.approx(newest.dw, rel=5e-2)
    assert panel.model.text(3, 0) == ""
    assert not panel.empty.isVisible()
    assert panel.table.isColumnHidden(6)  # plain BCE: ∂L/∂z is ŷ − y
    st.set_loss(focal_gamma=2.0)
    panel.flush()
    assert not panel.table.isColumnHidden(6) and "∂L/∂z" in panel.rule.text()


# ----------------------------------------------------------------------------- readout, controls


def test_readout_says_what_the_state_says(qtbot, show_panel, state):
    panel = show_panel(ReadoutPanel, state, size=(420, 500))
    text = panel.plain_text()
    r = state.statements()
    for sentence in (r.model, r.fit, r.uncertainty, r.separation, r.data_note):
        assert sentence in text
    assert "Illustrative synthetic data" in text


def test_controls_drive_the_state(qtbot, show_panel):
    st = TippingState()
    controls = show_panel(TippingControls, st, size=(270, 700))
    qtbot.mouseClick(controls.step_button, Qt.MouseButton.LeftButton)
    assert st.steps == 1
    controls.l2.spin.setValue(0.05)
    assert st.l2 == pytest.approx(0.05)
    qtbot.mouseClick(controls.fit_button, Qt.MouseButton.LeftButton)
    assert st.fit().converged and st.w == st.fit().w
    controls.pos_weight.spin.setValue(2.0)
    assert st.spec.pos_weight == pytest.approx(2.0)
    controls.alpha_on.setChecked(True)
    assert st.spec.focal_alpha is not None
    controls.alpha_on.setChecked(False)
    assert st.spec == LossSpec(pos_weight=2.0)
    index = controls.dataset.findData("terminators")
    controls.dataset.setCurrentIndex(index)
    controls.dataset.activated.emit(index)
    assert st.dataset.key == "terminators"
    qtbot.mouseClick(controls.play_button, Qt.MouseButton.LeftButton)
    assert st.running and controls.play_button.text() in ("Pause", "Play")
    controls.flush()
    assert controls.play_button.text() == "Pause"
    qtbot.mouseClick(controls.play_button, Qt.MouseButton.LeftButton)
    assert not st.running
    # a state changed elsewhere (a stage) shows in the controls
    st.apply_settings({"dataset": "grain_boundaries", "l2": 0.3, "order": "shuffled"})
    controls.flush()
    assert controls.l2.value() == pytest.approx(0.3)
    assert controls.order.currentData() == "shuffled"
    assert controls.dataset.currentData() == "grain_boundaries"


def test_a_bad_file_is_a_status_and_changes_nothing(qtbot, show_panel, tmp_path):
    st = TippingState()
    controls = show_panel(TippingControls, st, size=(270, 700))
    bad = tmp_path / "bad.csv"
    bad.write_text("x,label\n1,0\n2,7\n", encoding="utf-8")
    before = st.to_dict()
    assert controls.load_file(str(bad)) is False
    assert st.status_level == "error" and "line 3, column 2" in st.status_message
    assert st.to_dict() == before
    good = tmp_path / "good.csv"
    good.write_text("x,label\n1,0\n2,1\n3,1\n", encoding="utf-8")
    assert controls.load_file(str(good)) is True
    controls.flush()
    assert controls.dataset.currentData() == "csv" and st.n == 3


def test_every_control_has_a_tooltip(qtbot, show_panel):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QSlider

    controls = show_panel(TippingControls, TippingState(), size=(270, 700))
    for cls in (QAbstractButton, QAbstractSpinBox, QComboBox, QSlider):
        for widget in controls.findChildren(cls):
            assert widget.toolTip(), (cls.__name__, widget.objectName(), getattr(widget, "text",
                                                                                 lambda: "")())


def test_presentation_mode_keeps_the_plots_and_hides_extras_when_short(qtbot, show_panel):
    st = TippingState()
    panel = show_panel(StripPanel, st, size=(560, 260))
    manager = _theme.manager()
    try:
        manager.set_presentation(True)
        qtbot.wait(10)
        panel.resize(560, 250)
        qtbot.wait(10)
        assert panel.plot_widget.height() >= 170
        assert not panel.hint.isVisible()
        panel.resize(560, 700)
        qtbot.wait(10)
        assert panel.hint.isVisible() and panel.legend.isVisible()
    finally:
        manager.set_presentation(False)


def test_training_steps_are_paced_and_every_panel_follows(qtbot, show_panel, state):
    panels = [show_panel(cls, state, size=(500, 360)) for cls in PANELS.values()]
    counts = [p.refresh_count for p in panels]
    for _ in range(20):
        state.step(1)
    qtbot.waitUntil(lambda: all(p.refresh_count > c for p, c in zip(panels, counts)),
                    timeout=2000)
    # a burst of steps costs few redraws, not one each
    assert all(p.refresh_count - c <= 3 for p, c in zip(panels, counts))
