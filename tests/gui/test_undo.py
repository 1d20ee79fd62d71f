"""Undo/redo in the main window: every kind of edit round-trips exactly; one drag is one command."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from bceviz.engine.losses import LossSpec
from tests.gui.drag import drag

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def snapshot(state) -> dict:
    """Everything undo covers, as comparable values (arrays copied)."""
    return {
        "X": state.X.copy(), "y": state.y.copy(), "heldout": state.heldout.copy(),
        "dataset": state.dataset, "spec": state.spec, "training": state.training,
        "features": state.features, "w": state.trainer.w.copy(), "b": state.trainer.b,
        "threshold": state.threshold, "source": state.data_source, "axes": state.axes,
    }


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], np.ndarray):
            assert a[key].shape == b[key].shape and np.array_equal(a[key], b[key]), key
        else:
            assert a[key] == b[key], key


def key(window, qtbot, k, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    window.activateWindow()
    window.setFocus()
    qtbot.keyClick(window, k, modifiers)
    QApplication.processEvents()


def round_trip(window, qtbot, edit, *, commands: int = 1) -> None:
    """edit() once; Ctrl+Z gives the state before; Ctrl+Shift+Z and Ctrl+Y the state after."""
    state, stack = window.state, window.file_actions.undo.stack
    count = stack.count()
    before = snapshot(state)
    edit()
    after = snapshot(state)
    with pytest.raises(AssertionError):
        assert_same(before, after)  # the edit changed something
    assert stack.count() == count + commands
    for _ in range(commands):
        key(window, qtbot, Qt.Key.Key_Z, CTRL)
    assert_same(snapshot(state), before)
    for _ in range(commands):
        key(window, qtbot, Qt.Key.Key_Z, CTRL | SHIFT)
    assert_same(snapshot(state), after)
    for _ in range(commands):
        window.file_actions.act_undo.trigger()
    assert_same(snapshot(state), before)
    for _ in range(commands):
        key(window, qtbot, Qt.Key.Key_Y, CTRL)
    assert_same(snapshot(state), after)


def test_the_edit_menu_has_undo_and_redo_with_their_keys(main_window):
    fa = main_window.file_actions
    assert [k.toString() for k in fa.act_undo.shortcuts()] == ["Ctrl+Z"]
    assert [k.toString() for k in fa.act_redo.shortcuts()] == ["Ctrl+Shift+Z", "Ctrl+Y"]
    assert fa.act_undo in fa.edit_menu.actions() and fa.act_redo in fa.edit_menu.actions()
    assert not fa.act_undo.isEnabled()  # nothing to undo after a scenario


def test_one_drag_is_one_command(main_window, qtbot):
    state, panel = main_window.state, main_window.panels["data"]
    stack = main_window.file_actions.undo.stack
    i = int(np.argmin(np.hypot(*(state.X - state.X.mean(axis=0)).T)))
    start = state.X[i].copy()
    before = snapshot(state)
    drag(panel.plot_item, tuple(start), (start[0] + 0.8, start[1] - 0.6), steps=8)
    moved = state.X[i].copy()
    assert not np.allclose(moved, start)
    assert stack.count() == 1 and stack.undoText() == f"Move point {i}"
    drag(panel.plot_item, tuple(moved), (moved[0] - 0.3, moved[1] + 0.9), steps=8)
    assert stack.count() == 2  # a second drag of the same point is a second command
    stack.undo()
    assert np.allclose(state.X[i], moved)
    stack.undo()
    assert_same(snapshot(state), before)
    stack.redo()
    stack.redo()
    assert not np.allclose(state.X[i], moved)


def test_move_add_remove_flip_round_trip(main_window, qtbot):
    state = main_window.state
    round_trip(main_window, qtbot, lambda: state.move_point(3, 1.25, -0.5))
    round_trip(main_window, qtbot, lambda: state.add_point(0.3, 0.4, 1.0))
    n = state.n_points
    round_trip(main_window, qtbot, lambda: state.remove_point(5))
    assert state.n_points == n - 1
    round_trip(main_window, qtbot, lambda: state.flip_label(7))
    round_trip(main_window, qtbot, lambda: [state.remove_point(0), state.remove_point(10)],
               commands=2)


def test_settings_round_trip(main_window, qtbot):
    state = main_window.state
    state.step(20)  # non-zero weights, so a feature-map change has weights to give back
    round_trip(main_window, qtbot, lambda: state.set_spec(label_smoothing=0.1, pos_weight=3.0))
    round_trip(main_window, qtbot, lambda: state.set_spec(LossSpec(focal_gamma=2.0)))
    round_trip(main_window, qtbot, lambda: state.set_training(optimizer="adam", lr=0.05, l2=0.01))
    round_trip(main_window, qtbot, lambda: state.set_features("poly3"))
    round_trip(main_window, qtbot, lambda: state.set_threshold(0.3))
    round_trip(main_window, qtbot, lambda: state.generate(kind="moons", n=150, seed=4))


def test_a_slider_drag_is_one_command(main_window, qtbot):
    """Many set_spec calls while one button press is held merge; back to the start is no command."""
    state = main_window.state
    stack = main_window.file_actions.undo.stack
    slider = main_window.panels["controls"].smoothing.slider
    before = state.spec

    def send(kind, x, buttons):
        pos = QPointF(x, slider.height() / 2)
        button = Qt.MouseButton.LeftButton
        event = QMouseEvent(kind, pos, QPointF(slider.mapToGlobal(pos.toPoint())),
                            button if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton,
                            buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(slider, event)

    left = QApplication.style().pixelMetric(QApplication.style().PixelMetric.PM_SliderLength) / 2
    send(QEvent.Type.MouseButtonPress, left, Qt.MouseButton.LeftButton)
    for x in np.linspace(left, slider.width() * 0.6, 12):
        send(QEvent.Type.MouseMove, float(x), Qt.MouseButton.LeftButton)
    send(QEvent.Type.MouseButtonRelease, slider.width() * 0.6, Qt.MouseButton.NoButton)
    QApplication.processEvents()
    assert state.spec.label_smoothing > 0.1
    assert stack.count() == 1
    stack.undo()
    assert state.spec == before
    # a programmatic change (no button held) is its own command
    state.set_spec(label_smoothing=0.05)
    state.set_spec(label_smoothing=0.07)
    assert stack.count() == 2  # the redo entry was replaced, then two commands
    stack.undo()
    assert state.spec.label_smoothing == 0.05


def test_a_scenario_clears_the_stack(main_window):
    state, stack = main_window.state, main_window.file_actions.undo.stack
    state.move_point(0, 1.0, 1.0)
    assert stack.count() == 1
    main_window.scenario_actions["xor-linear"].trigger()
    assert state.scenario_id == "xor-linear"
    assert stack.count() == 0 and not stack.canUndo()


def test_training_is_not_undone(main_window):
    state, stack = main_window.state, main_window.file_actions.undo.stack
    state.move_point(0, 1.0, 1.0)
    state.step(15)
    w = state.trainer.w.copy()
    stack.undo()
    assert np.array_equal(state.trainer.w, w) and state.trainer.steps == 15
