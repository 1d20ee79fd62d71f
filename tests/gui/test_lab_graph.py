"""The graph lab's panels and controls, driven by real mouse events (pytest-qt, offscreen)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from bceviz.gui import theme as _theme
from bceviz.gui.labs import graph as gl
from bceviz.model.labs.graph import GraphState
from tests.gui.drag import click, drag, prepare, to_viewport


@pytest.fixture
def state():
    s = GraphState()
    s.apply_settings({"n_firms": 30, "seed": 3, "train_steps": 200})
    return s


def _firm_point(panel, i):
    if isinstance(panel, gl.NetworkPanel):
        x, y = panel.state.positions[i]
    else:
        x, y = 100 * panel.state.leverage[i], panel.state.liquidity[i]
    return float(x), float(y)


def _double_click(item, at):
    view = prepare(item)
    pos = to_viewport(item, *at)
    vp = view.viewport()
    for kind, button, buttons in (
        (QEvent.Type.MouseMove, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton),
        (QEvent.Type.MouseButtonPress, Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton),
        (QEvent.Type.MouseButtonRelease, Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton),
        (QEvent.Type.MouseButtonDblClick, Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton),
        (QEvent.Type.MouseButtonRelease, Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton),
    ):
        ev = QMouseEvent(kind, QPointF(pos), QPointF(vp.mapToGlobal(pos.toPoint())), button,
                         buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(vp, ev)
    QApplication.processEvents()


def test_every_panel_draws_what_the_state_says(show_panel, state):
    f = state.figures()
    net = show_panel(gl.NetworkPanel, state, size=(700, 560))
    assert len(net.points.data) == state.n
    drawn_edges = sum(len(item.getData()[0]) // 2 for item in net.edge_items
                      if item.getData()[0] is not None)
    assert drawn_edges == f.edges.shape[0]
    # A known firm is a square, a hidden one a circle; the fill follows P(default).
    symbols = [s["symbol"] for s in net.points.data]
    assert symbols == ["s" if k else "o" for k in state.known]
    assert net.readout.textFormat() == Qt.TextFormat.PlainText
    feats = show_panel(gl.FeaturesPanel, state, size=(520, 420))
    xs = [s["x"] for s in feats.points.data]
    np.testing.assert_allclose(xs, 100 * state.leverage)
    cmp = show_panel(gl.ComparePanel, state)
    auc_row = next(r for r in f.comparison if r.label == "AUC")
    assert cmp.cells[1][0].text() == auc_row.graph and cmp.cells[1][1].text() == auc_row.baseline
    assert cmp.note.text() == f.comparison_note
    train = show_panel(gl.TrainingPanel, state)
    x, _y = train.train.getData()
    assert x[-1] == state.steps
    loss = show_panel(gl.FirmLossPanel, state, size=(420, 560))
    assert len(loss.loss_bars.opts["height"]) == int(state.known.sum())
    assert loss.text.text().startswith(f.dominance_text)
    for panel in (net, feats, train, loss):
        for view in panel.plot_views():
            assert view.width() >= 300 and view.height() >= 180


def test_clicks_select_shift_click_links_and_double_click_reveals(show_panel, state):
    net = show_panel(gl.NetworkPanel, state, size=(700, 560))
    a = 0
    b = next(k for k in range(1, state.n) if state.exposures[a, k] == 0)
    click(net.view, _firm_point(net, a))
    assert state.selected == a
    click(net.view, _firm_point(net, b), modifiers=Qt.KeyboardModifier.ShiftModifier)
    assert state.exposures[a, b] > 0 and state.selected == b
    net.flush()
    f = state.figures()
    assert f.touch_origin == tuple(sorted((a, b)))
    # Link mode: two plain clicks remove it again.
    net.link_button.setChecked(True)
    click(net.view, _firm_point(net, a))
    assert state.link_from == a
    click(net.view, _firm_point(net, b))
    assert state.exposures[a, b] == 0 and state.link_from is None
    net.link_button.setChecked(False)
    was = bool(state.known[a])
    _double_click(net.view, _firm_point(net, a))
    assert bool(state.known[a]) != was
    # A click on empty space deselects.
    click(net.view, (1.12, -1.12))
    assert state.selected is None


def test_dragging_a_firm_in_the_network_moves_it_in_the_picture_only(show_panel, state):
    net = show_panel(gl.NetworkPanel, state, size=(700, 560))
    before = state.to_dict()
    i = 4
    start = _firm_point(net, i)
    drag(net.view, start, (start[0] + 0.2, start[1] - 0.1))
    np.testing.assert_allclose(state.positions[i], (start[0] + 0.2, start[1] - 0.1), atol=0.02)
    after = state.to_dict()
    assert after["leverage"] == before["leverage"] and after["exposures"] == before["exposures"]


def test_dragging_a_firm_in_the_scatter_changes_its_books_and_rings_the_movers(show_panel, state):
    feats = show_panel(gl.FeaturesPanel, state, size=(520, 420))
    net = show_panel(gl.NetworkPanel, state, size=(700, 560))
    i = 15
    start = _firm_point(feats, i)
    drag(feats.view, start, (40.0, start[1]))
    assert state.leverage[i] == pytest.approx(0.40, abs=0.01)
    assert state.selected == i
    net.flush()
    f = state.figures()
    assert f.touch_origin == (i,) and f.movers
    # One ring per mover, one for the selection.
    assert len(net.rings.data) == len(f.movers) + 1
    shown = [t.toPlainText() for t in net.mover_labels if t.isVisible()]
    assert any("1 hop" in t for t in shown)


def test_firm_loss_plots_stack_when_tall_and_sit_side_by_side_when_wide(show_panel, state):
    panel = show_panel(gl.FirmLossPanel, state, size=(420, 600))
    assert not panel._side_by_side
    panel.resize(1000, 260)
    QApplication.processEvents()
    panel.flush()
    assert panel._side_by_side
    state.set_pos_weight(4.0)
    panel.flush()
    assert "4·y·(1 − p)" in panel.text.toolTip()
    assert panel.text.text() == state.figures().dominance_text
    # Neither tall nor wide: the BCE bars alone, the hardest pull named in the text.
    panel.resize(420, 300)
    QApplication.processEvents()
    panel.flush()
    assert panel._mode == "single" and not panel.grad_plot.isVisible()
    assert "largest" in panel.text.text() and "at firm" in panel.text.text()
    panel.resize(420, 600)
    QApplication.processEvents()
    panel.flush()
    assert panel._mode == "stack" and panel.grad_plot.isVisible()


def test_training_steps_are_paced_and_each_panel_redraws(show_panel, state, qtbot):
    net = show_panel(gl.NetworkPanel, state, size=(700, 560))
    count = net.refresh_count
    state.step(5)
    qtbot.waitUntil(lambda: net.refresh_count > count, timeout=1000)


def test_the_controls_write_the_state(show_panel, state):
    controls = show_panel(gl.GraphControls, state, size=(270, 700))
    controls.balance_button.click()
    assert state.pos_weight == pytest.approx(state.balanced_pos_weight())
    controls.play_button.click()
    assert state.running
    controls.flush()
    assert controls.play_button.text() == "Pause"
    controls.play_button.click()
    assert not state.running
    assert not controls.leverage.isEnabled()
    state.select_firm(3)
    controls.flush()
    assert controls.leverage.isEnabled()
    controls.leverage.valueChanged.emit(0.5)
    assert state.leverage[3] == 0.5
    was = bool(state.known[3])
    controls.known_button.click()
    assert bool(state.known[3]) != was
    controls.seed.setValue(11)
    assert state.network_params["seed"] == 11
    controls.n_firms.setValue(20)
    assert state.n == 20
    controls.hidden.setValue(5)
    assert state.hidden_units == 5
    controls.optimizer.setCurrentIndex(1)
    controls.optimizer.activated.emit(1)
    assert state.optimizer == "gd"
    controls.reset_button.click()
    assert state.steps == 0
    for widget in controls.findChildren(type(controls.balance_button)):
        assert widget.toolTip()


def test_a_refused_gesture_becomes_a_status_and_changes_nothing(show_panel, state):
    controls = show_panel(gl.GraphControls, state, size=(270, 700))
    state.select_firm(None)
    before = state.to_dict()
    controls.known_button.setEnabled(True)
    controls.known_button.click()
    assert "select a firm" in state.status_message
    assert state.to_dict() == before


def test_presentation_and_dark_themes_reach_every_panel(show_panel, state):
    panels = [show_panel(cls, state) for cls in gl.PANELS.values()]
    manager = _theme.manager()
    try:
        manager.set_presentation(True)
        manager.set_dark(True)
        for p in panels:
            p.flush()
        net = panels[0]
        assert net.readout.font().pointSizeF() == pytest.approx(_theme.current().font_pt * 0.9)
        assert net.graphics.backgroundBrush().color().name() == _theme.current().background
    finally:
        manager.set_presentation(False)
        manager.set_dark(False)


def test_panels_survive_an_empty_training_set(show_panel, state):
    for i in np.flatnonzero(state.known):
        state.set_known(int(i), False)
    for cls in gl.PANELS.values():
        panel = show_panel(cls, state)
        panel.flush()
    assert not state.can_train()
