"""The hurdle lab's panels and controls: what they draw is the state's figures, and they write back."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel, QToolButton, QWidget

from bceviz.gui import theme as _theme
from bceviz.gui.labs import hurdle as gui
from bceviz.model.labs.hurdle import HurdleState


@pytest.fixture
def state() -> HurdleState:
    return HurdleState()


def _settle(*panels) -> None:
    QApplication.processEvents()
    for panel in panels:
        panel.flush()


def _bars(item):
    opts = item.opts
    return np.asarray(opts["x"], dtype=float), np.asarray(opts["height"], dtype=float)


def _button(group, value):
    return next(b for b in group.buttons() if b.property("value") == value)


def test_the_lab_declares_its_panels_and_controls():
    assert set(gui.PANELS) == {"counts", "zero", "count", "loss"}
    assert gui.CONTROLS is gui.HurdleControls
    for pid, cls in gui.PANELS.items():
        assert cls.panel_id == pid and cls.title


def test_histogram_draws_the_states_frequencies(state, show_panel):
    state.fit_now()
    panel = show_panel(gui.CountHistogramPanel, state)
    h = state.figures().histogram
    x, heights = _bars(panel.observed_bars)
    np.testing.assert_allclose(heights, h.observed)
    np.testing.assert_allclose(_bars(panel.poisson_bars)[1], h.poisson)
    np.testing.assert_allclose(_bars(panel.hurdle_bars)[1], h.hurdle)
    text = panel.readout.text()
    assert f"observed {int(h.observed[0]):,}" in text and "Poisson expects 263" in text
    # The hanging rootogram: bars of √observed hang from √expected.
    _button(panel.mode_group, "rootogram").click()
    assert state.view["histogram"] == "rootogram"
    _settle(panel)
    np.testing.assert_allclose(panel.poisson_bars.opts["y0"], h.hang_poisson)
    np.testing.assert_allclose(panel.poisson_bars.opts["height"], h.sqrt_observed)
    assert panel.zero_line.isVisible()


def test_zero_panel_views(state, show_panel):
    state.fit_now()
    panel = show_panel(gui.ZeroPartPanel, state)
    z = state.figures().zero
    xs, ys = panel.curve.getData()
    np.testing.assert_allclose(ys, z.curve)
    np.testing.assert_allclose(panel.shares.getData()[1], z.bin_share)
    assert panel.people0.data.size + panel.people1.data.size == state.data.n
    _button(panel.view_group, "residual").click()
    assert state.view["zero_view"] == "residual"
    _settle(panel)
    shown = np.concatenate([panel.people0.getData()[1], panel.people1.getData()[1]])
    y = z.y > 0.5
    np.testing.assert_allclose(np.sort(shown), np.sort(np.concatenate([z.residual[~y],
                                                                      z.residual[y]])))
    assert "Mean 0.00" in panel.readout.text()
    _button(panel.view_group, "bce").click()
    _settle(panel)
    assert "BCE part" in panel.readout.text()
    _button(panel.cov_group, 0).click()
    assert state.view["covariate"] == 0
    _settle(panel)
    assert panel.plot.getAxis("bottom").labelText == "age (years)"


def test_count_panel_draws_the_truncated_mean(state, show_panel):
    state.fit_now()
    panel = show_panel(gui.CountPartPanel, state)
    c = state.figures().count
    np.testing.assert_allclose(panel.curve.getData()[1], np.minimum(c.truncated_mean,
                                                                    panel._top * 1.05))
    assert panel.people.data.size == c.counts.size
    assert f"{c.counts.size:,} people" in panel.readout.text()


def test_loss_panel_shows_the_decomposition(state, show_panel):
    state.step(20)
    panel = show_panel(gui.LossPanel, state, size=(900, 400))
    f = state.figures()
    assert panel.bce_bar.opts["height"][0] == pytest.approx(f.losses["zero"])
    assert panel.count_bar.opts["y0"][0] == pytest.approx(f.losses["zero"])
    assert panel.count_bar.opts["height"][0] == pytest.approx(f.losses["count"])
    assert panel.poisson_bar.opts["height"][0] == pytest.approx(f.losses["poisson"])
    assert panel.history_plot.isVisible()
    steps, total = panel.h_total.getData()
    assert steps[-1] == 20 and total[-1] == pytest.approx(f.losses["total"])
    assert f"{f.losses['total']:.3f} = {f.losses['zero']:.3f} BCE" in panel.readout.text()
    assert panel.total_text.toPlainText() == f"{f.losses['total']:.3f}"
    panel.resize(420, 400)
    _settle(panel)
    assert not panel.history_plot.isVisible()  # compact: the bars only


def test_training_redraws_the_live_panels(state, show_panel, qtbot):
    panels = [show_panel(cls, state) for cls in gui.PANELS.values()]
    counts = [p.refresh_count for p in panels]
    state.step(1)
    qtbot.waitUntil(lambda: all(p.refresh_count > c for p, c in zip(panels, counts)),
                    timeout=2000)


def test_decoupling_from_the_controls(state, show_panel):
    controls = show_panel(gui.HurdleControls, state, size=(300, 700))
    controls.train_boxes["count"].click()
    controls.train_boxes["poisson"].click()
    assert not state.training["train_count"] and not state.training["train_poisson"]
    count_loss = state.figures().losses["count"]
    for _ in range(5):
        controls.step_button.click()
    assert state.steps == {"zero": 5, "count": 0, "poisson": 0}
    assert state.figures().losses["count"] == count_loss
    _settle(controls)
    assert controls.part_steps["zero"].text() == "5"
    assert controls.part_steps["count"].text() == "0"


def test_controls_change_the_state_and_show_it(state, show_panel):
    controls = show_panel(gui.HurdleControls, state, size=(300, 700))
    controls.extra_zeros.spin.setValue(0.1)
    assert state.data_params["extra_zeros"] == pytest.approx(0.1)
    controls.strength.spin.setValue(0.5)
    assert state.data_params["count_strength"] == pytest.approx(0.5)
    controls.method.setCurrentIndex(controls.method.findData("newton"))
    assert state.training["method"] == "newton"
    controls.play_button.click()
    assert state.running
    _settle(controls)
    assert controls.play_button.text() == "Pause"
    controls.play_button.click()
    assert not state.running
    fit_buttons = [b for b in controls.findChildren(QToolButton) if b.text() == "fit"]
    fit_buttons[0].click()
    assert state.converged["zero"]
    state.apply_settings({"data": {"seed": 3}, "training": {"lr": 0.05}})
    _settle(controls)
    assert controls.seed.value() == 3
    assert controls.lr.value() == pytest.approx(0.05)


def test_a_refused_csv_is_reported_and_changes_nothing(state, show_panel, tmp_path):
    controls = show_panel(gui.HurdleControls, state, size=(300, 700))
    rows = "\n".join(f"{20 + i},{i % 3},{i % 4}" for i in range(20))
    bad = tmp_path / "bad.csv"
    bad.write_text("age,chronic,visits\n" + rows + "\n30,1,-2\n", encoding="utf-8")
    before = state.report()
    assert not controls.load(str(bad))
    assert state.status_level == "error" and "line 22, column 3" in state.status_message
    assert state.report() == before


def test_names_from_a_file_are_shown_as_plain_text(state, show_panel, tmp_path):
    rows = "\n".join(f"{20 + i},{i % 3},{i % 4}" for i in range(20))
    path = tmp_path / "<i>x<b>.csv"
    path.write_text("<b>age</b>,chronic,visits\n" + rows + "\n", encoding="utf-8")
    controls = show_panel(gui.HurdleControls, state, size=(300, 700))
    zero = show_panel(gui.ZeroPartPanel, state)
    assert controls.load(str(path))
    _settle(controls, zero)
    assert controls.description.textFormat() == Qt.TextFormat.PlainText
    assert "<i>x<b>.csv" in controls.description.text()
    assert _button(zero.cov_group, 0).text() == "<b>age</b>"
    zero.state.set_view(covariate=0)
    _settle(zero)
    assert zero.plot.getAxis("bottom").labelText == "&lt;b&gt;age&lt;/b&gt;"
    for label in zero.findChildren(QLabel):
        if label.objectName() == "zero_readout":
            assert label.textFormat() == Qt.TextFormat.PlainText


def test_every_control_has_a_tooltip(state, show_panel):
    panels = [show_panel(gui.HurdleControls, state, size=(300, 700))]
    panels += [show_panel(cls, state) for cls in gui.PANELS.values()]
    for panel in panels:
        for widget in panel.findChildren(QWidget):
            if isinstance(widget, (QCheckBox, QToolButton)) or type(widget).__name__ in (
                    "QPushButton", "QComboBox", "QSpinBox", "QSlider", "QDoubleSpinBox"):
                assert widget.toolTip(), (panel.panel_id, widget.text() if hasattr(
                    widget, "text") else type(widget).__name__)


def test_plots_keep_their_minimum_size(state, show_panel):
    for cls in gui.PANELS.values():
        panel = show_panel(cls, state, size=(480, 330))
        for view in panel.plot_views():
            assert view.width() >= 300 and view.height() >= 180


def test_presentation_and_dark_theme(state, show_panel):
    panel = show_panel(gui.LossPanel, state)
    manager = _theme.manager()
    try:
        manager.set_presentation(True)
        _settle(panel)
        assert panel.readout.font().pointSizeF() == pytest.approx(_theme.current().font_pt * 0.9)
        manager.set_dark(True)
        _settle(panel)
        assert panel.total_text.color.name() == _theme.current().foreground
    finally:
        manager.set_presentation(False)
        manager.set_dark(False)


def test_stages_open_in_the_window(qtbot):
    from bceviz.app import _settle as settle_window
    from bceviz.app import create_window

    window = create_window("hurdle-two-losses")
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    settle_window(window, 0.1)
    shown = window.stage_host.visible_panels()
    assert set(shown) == {"loss", "zero", "count"}
    for panel in shown.values():
        for view in panel.plot_views():
            if view.isVisible():
                assert view.height() >= 150
    for stage in ("hurdle-too-many-zeros", "hurdle-yes-no-first"):
        window.show_stage(stage)
        settle_window(window, 0.05)
        assert window.lab_state.stage_id == stage
    window.lab_state.set_running(False)
    window.close()
