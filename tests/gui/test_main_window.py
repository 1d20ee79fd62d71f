"""The main window: every registered panel docked, keys, the training loop, scenarios, status."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QApplication, QDockWidget

from bceviz.gui.panels import registry


def test_every_available_panel_is_docked_with_an_object_name(main_window):
    available = [e.panel_id for e in registry.PANELS if e.exists()]
    assert {"controls", "data", "training_curves"} <= set(available)
    assert list(main_window.docks) == available
    for pid, dock in main_window.docks.items():
        assert isinstance(dock, QDockWidget)
        assert dock.objectName() == f"dock_{pid}"
        assert dock.widget() is main_window.panels[pid]


def test_default_layout_shows_every_panel_at_a_readable_size(main_window):
    """At 1280 × 800 each panel is shown, or one click away in a tab of a shown dock."""
    assert main_window.width() == 1280 and main_window.height() == 800
    shown = {pid for pid, d in main_window.docks.items() if d.isVisible() and not d.visibleRegion().isEmpty()}
    for pid, dock in main_window.docks.items():
        assert not dock.isHidden() and not dock.isFloating(), pid
        if pid not in shown:  # behind a tab: its tab partner is in front
            partners = main_window.tabifiedDockWidgets(dock)
            assert any(p.objectName()[5:] in shown for p in partners), pid
            continue
        assert dock.width() >= 240 and dock.height() >= 90, (pid, dock.size())
    core = {"controls", "data", "surface", "loss_curve", "samples", "formula", "training_curves"}
    assert core & set(main_window.docks) <= shown
    area = {pid: main_window.docks[pid].width() * main_window.docks[pid].height() for pid in shown}
    for small in ("training_curves", "formula"):
        if small in area:
            assert area[small] < area["data"], small
    if "surface" in area:
        assert area["surface"] > 0.6 * area["data"]


def test_layout_round_trips_through_save_state(main_window):
    saved = main_window.saveState()
    assert isinstance(saved, QByteArray) and saved.size() > 0
    main_window.docks["data"].hide()
    assert main_window.restoreState(saved)
    assert not main_window.docks["data"].isHidden()


def test_caption_bar_shows_the_scenario(main_window):
    assert main_window.caption_bar.title == main_window.state.scenario_title
    assert "drag" in main_window.caption_bar.caption.lower()
    assert main_window.caption_bar.height() >= main_window.caption_bar.fontMetrics().height()


def _key(window, qtbot, key):
    window.activateWindow()
    window.setFocus()
    qtbot.keyClick(window, key)
    QApplication.processEvents()


def test_space_plays_and_pauses_s_and_right_step_r_resets(main_window, qtbot):
    st = main_window.state
    assert not st.running
    _key(main_window, qtbot, Qt.Key.Key_Space)
    assert st.running and main_window.train_timer.isActive()
    _key(main_window, qtbot, Qt.Key.Key_Space)
    assert not st.running and not main_window.train_timer.isActive()

    steps = st.trainer.steps
    _key(main_window, qtbot, Qt.Key.Key_S)
    assert st.trainer.steps == steps + 1
    _key(main_window, qtbot, Qt.Key.Key_Right)
    assert st.trainer.steps == steps + 2
    assert np.any(st.trainer.w != 0)

    _key(main_window, qtbot, Qt.Key.Key_R)
    assert st.trainer.steps == 0
    np.testing.assert_array_equal(st.trainer.w, 0.0)


def test_training_frames_change_the_weights_and_the_curves(main_window, qtbot):
    st = main_window.state
    curves = main_window.panels["training_curves"]
    w0 = st.trainer.w.copy()
    n0 = len(curves.loss_train.getData()[0] or [])
    st.set_running(True)
    qtbot.waitUntil(lambda: st.trainer.steps >= 20, timeout=10_000)
    st.set_running(False)
    curves.flush()
    assert not np.allclose(st.trainer.w, w0)
    xs, ys = curves.loss_train.getData()
    assert len(xs) > n0 and len(xs) >= 20
    assert ys[-1] < ys[0]
    assert "step" in curves.readout.text()
    assert main_window.frames >= 1


def test_diverging_learning_rate_pauses_and_says_so(main_window, qtbot):
    st = main_window.state
    # with L2 = 1 a step of lr 10 multiplies w by about -9: the weights explode
    st.set_training(lr=10.0, optimizer="gd", l2=1.0)
    st.set_weights([1.0, -1.0], 0.0)
    st.set_running(True)
    qtbot.waitUntil(lambda: not st.running, timeout=10_000)
    assert st.trainer.diverged
    assert st.trainer.status and st.trainer.status in main_window.status_label.text()
    assert np.all(np.isfinite(st.trainer.w))
    for panel in main_window.panels.values():
        panel.flush()
    _assert_no_nan_labels(main_window)
    # play again: refused with a message until the weights are reset
    _key(main_window, qtbot, Qt.Key.Key_Space)
    assert not st.running and "reset" in main_window.status_label.text().lower()


def _assert_no_nan_labels(window):
    from PySide6.QtWidgets import QLabel

    for label in window.findChildren(QLabel):
        text = label.text().lower()
        assert "nan" not in text.replace("nanos", "") and "inf" not in text.replace("info", ""), text


def test_a_refused_change_goes_to_the_status_bar(main_window):
    main_window.guard(main_window.state.set_training, lr=-1.0)
    assert "learning rate" in main_window.status_label.text()
    assert main_window.state.training.lr > 0


def test_stage_menu_opens_stages_with_only_their_panels(main_window):
    from bceviz.model import stages

    assert set(main_window.scenario_actions) == {s.stage_id for s in stages.all_stages()}
    main_window.scenario_actions["xor-product"].trigger()
    st = main_window.state
    assert st.scenario_id == "xor-product" and st.features == "product"
    assert main_window.scenario_actions["xor-product"].isChecked()
    assert "x1·x2" in main_window.caption_bar.title
    # a lesson stage: its panels in the stage host, every dock hidden, controls beside them
    assert main_window.mode == "stage"
    assert set(main_window.stage_host.visible_panels()) == {"data", "surface"}
    assert all(d.isHidden() for d in main_window.docks.values())
    assert main_window.panels["controls"].isVisible()
    # the workbench stage brings every dock back
    main_window.load_scenario("workbench")
    assert main_window.mode == "docks"
    assert all(not d.isHidden() for d in main_window.docks.values())
    assert main_window.stage_host.isHidden()


def test_unknown_scenario_from_the_menu_is_a_status_message(main_window):
    before = main_window.state.scenario_id
    main_window.load_scenario("no-such-thing")
    assert "no-such-thing" in main_window.status_label.text()
    assert main_window.state.scenario_id == before


def test_view_menu_toggles_units_and_docks(main_window):
    main_window.act_bits.trigger()
    assert main_window.state.view.units == "bits"
    main_window.state.set_view(units="nats")
    assert main_window.act_nats.isChecked()
    main_window.act_axis_z.trigger()
    assert main_window.state.view.curve_axis == "z"
    toggle = main_window.docks["data"].toggleViewAction()
    toggle.trigger()
    assert main_window.docks["data"].isHidden()
    toggle.trigger()
    assert not main_window.docks["data"].isHidden()


def test_controls_follow_state_changes_made_elsewhere(main_window):
    controls = main_window.panels["controls"]
    st = main_window.state
    st.set_spec(label_smoothing=0.2, focal_alpha=0.4)
    st.set_training(optimizer="adam", lr=0.01)
    st.set_features("poly3")
    controls.flush()
    assert controls.smoothing.spin.value() == pytest.approx(0.2)
    assert controls.alpha_on.isChecked() and controls.alpha.value() == pytest.approx(0.4)
    assert controls.optimizer.currentData() == "adam"
    assert controls.lr.value() == pytest.approx(0.01)
    assert controls.features.currentData() == "poly3"
    # and the controls write to the state, live, without a reset
    st.step(3)
    controls.gamma.spin.setValue(2.0)
    assert st.spec.focal_gamma == 2.0 and st.trainer.steps == 3
    controls.lr.slider.setValue(controls.lr.slider.maximum())
    assert st.training.lr == pytest.approx(10.0)
    controls.optimizer.setCurrentIndex(controls.optimizer.findData("sgd"))
    assert st.training.optimizer == "sgd" and st.training.batch_size == controls.batch_size.value()
    controls.balanced_button.click()
    assert st.spec.pos_weight == pytest.approx(st.balanced_pos_weight())


def test_every_control_has_a_tooltip(main_window):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox

    controls = main_window.panels["controls"]
    from PySide6.QtWidgets import QScrollBar

    widgets = [w for kind in (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox)
               for w in controls.findChildren(kind) if not isinstance(w, QScrollBar)]
    assert len(widgets) > 25
    missing = [w for w in widgets if not w.toolTip()]
    assert not missing, [type(w).__name__ for w in missing]


def test_unexpected_errors_show_a_short_message_and_log_the_traceback(qapp, monkeypatch,
                                                                     capsys):
    import sys

    from PySide6.QtWidgets import QApplication

    from bceviz import app

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    app.install_excepthook()
    try:
        raise RuntimeError("boom in a slot")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    # bceviz.gui.safety.report_error: one non-blocking box (a modal one inside a
    # slot would run a nested event loop that can re-enter the failing code).
    shown = [w for w in QApplication.topLevelWidgets()
             if w.objectName() == "bceviz_error" and w.isVisible()]
    assert len(shown) == 1 and "RuntimeError: boom in a slot" in shown[0].text()
    assert "Traceback" not in shown[0].text()
    shown[0].close()
    assert "Traceback" in capsys.readouterr().err


def test_training_curves_match_the_state_summary(show_panel):
    from bceviz.gui.panels.training_curves import TrainingCurvesPanel
    from bceviz.model.state import AppState

    st = AppState()
    panel = show_panel(TrainingCurvesPanel, st, size=(520, 300))
    for _ in range(5):
        st.step(7)
        panel.flush()
    summary = st.summary()
    xs, ys = panel.loss_train.getData()
    assert xs[-1] == 35 and ys[-1] == pytest.approx(summary["train_loss"])
    _, held = panel.loss_heldout.getData()
    assert held[-1] == pytest.approx(summary["heldout_loss"])
    _, acc = panel.acc_train.getData()
    assert acc[-1] == pytest.approx(summary["accuracy"])
    _, acc_h = panel.acc_heldout.getData()
    assert acc_h[-1] == pytest.approx(summary["heldout_accuracy"])
    # bits: the loss curve is rescaled, accuracy is not
    st.set_view(units="bits")
    panel.flush()
    _, ys_bits = panel.loss_train.getData()
    assert ys_bits[-1] == pytest.approx(summary["train_loss"] / np.log(2))
    # a reset starts the curves again
    st.reset_weights()
    panel.flush()
    xs, _ = panel.loss_train.getData()
    assert list(xs) == [0]


def test_training_curves_stay_cheap_when_history_thins(show_panel):
    from bceviz.gui.panels.training_curves import TrainingCurvesPanel
    from bceviz.model.state import AppState

    st = AppState()
    panel = show_panel(TrainingCurvesPanel, st, size=(520, 300))
    st.step(40_000)  # past the history's capacity: it thins itself
    panel.flush()
    hist = st.trainer.history
    assert len(hist) < 40_000
    xs = panel.loss_train.xData  # the data set; getData() is the downsampled view
    assert len(xs) == len(hist) and xs[-1] == 40_000
    st.step(1)
    panel.flush()
    held = panel.loss_heldout.yData
    assert held[-1] == pytest.approx(st.summary()["heldout_loss"])
    assert np.all(np.isfinite(held))


def test_dark_theme_restyles_the_window_and_my_panels(main_window):
    from bceviz.gui import theme as _theme

    try:
        main_window.act_dark.trigger()
        dark = _theme.current()
        assert dark.name == "dark"
        bg = main_window.panels["controls"].palette().window().color().name()
        assert bg == dark.background
        curves = main_window.panels["training_curves"]
        assert curves.grad_curve.opts["pen"].color().name() == dark.foreground
        data = main_window.panels["data"]
        assert data.colorbar.getAxis("left").textPen().color().name() == dark.foreground
    finally:
        _theme.manager().set_dark(False)
    assert _theme.current().name == "light"


def test_registry_skips_missing_modules_but_surfaces_broken_ones(tmp_path, monkeypatch):
    (tmp_path / "bceviz_broken_panel.py").write_text("import bceviz_no_such_dependency\n")
    (tmp_path / "bceviz_classless_panel.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    missing = registry.PanelEntry("ghost", "bceviz.gui.panels.not_written_yet:Ghost", "right", "G")
    broken = registry.PanelEntry("broken", "bceviz_broken_panel:Broken", "right", "B")
    classless = registry.PanelEntry("classless", "bceviz_classless_panel:Panel", "right", "C")
    assert missing.load() is None and not missing.exists()
    with pytest.raises(ImportError, match="bceviz_no_such_dependency"):
        broken.load()
    with pytest.raises(ImportError, match="no panel class"):
        classless.load()
    monkeypatch.setattr(registry, "PANELS", registry.PANELS + (missing,))
    ids = [e.panel_id for e, _ in registry.available_panels()]
    assert "ghost" not in ids and "controls" in ids
