"""The data panel under real mouse events: drag, add, flip, delete; heatmap and contour."""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from bceviz.gui.panels.data_panel import GRID, DataPanel, contour_segments
from bceviz.model.state import AppState

LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
NONE = Qt.MouseButton.NoButton
SHIFT = Qt.KeyboardModifier.ShiftModifier
NOMOD = Qt.KeyboardModifier.NoModifier


# -- simulated mouse input (as pyqtgraph's tests/ui_testing.py) --------------------------
def _viewport_pos(panel: DataPanel, x: float, y: float) -> QPointF:
    scene_pos = panel.view_box.mapViewToScene(pg.Point(float(x), float(y)))
    return panel.plot_widget.viewportTransform().map(scene_pos)


def _send(panel, kind, pos, button, buttons, modifiers=NOMOD):
    viewport = panel.plot_widget.viewport()
    glob = QPointF(viewport.mapToGlobal(pos.toPoint()))
    QApplication.sendEvent(viewport, QMouseEvent(kind, QPointF(pos), glob, button, buttons, modifiers))


def _prepare(panel):
    pg.setConfigOption("mouseRateLimit", -1)
    panel.plot_widget.scene().minDragTime = 0


def drag(panel, start, end, steps=6, modifiers=NOMOD):
    _prepare(panel)
    a, b = _viewport_pos(panel, *start), _viewport_pos(panel, *end)
    _send(panel, QEvent.Type.MouseMove, a, NONE, NONE)  # hover first
    _send(panel, QEvent.Type.MouseButtonPress, a, LEFT, LEFT, modifiers)
    for k in range(1, steps + 1):
        t = k / steps
        p = QPointF(a.x() + (b.x() - a.x()) * t, a.y() + (b.y() - a.y()) * t)
        _send(panel, QEvent.Type.MouseMove, p, NONE, LEFT, modifiers)
    _send(panel, QEvent.Type.MouseButtonRelease, b, LEFT, NONE, modifiers)
    QApplication.processEvents()


def click(panel, at, button=LEFT, modifiers=NOMOD):
    _prepare(panel)
    p = _viewport_pos(panel, *at)
    _send(panel, QEvent.Type.MouseMove, p, NONE, NONE)
    _send(panel, QEvent.Type.MouseButtonPress, p, button, button, modifiers)
    _send(panel, QEvent.Type.MouseButtonRelease, p, button, NONE, modifiers)
    QApplication.processEvents()


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture
def state():
    st = AppState()
    # a few well-separated points, far from each other, nothing held out
    X = np.array([[-2.0, -1.0], [2.0, 1.0], [0.0, 2.0], [-1.0, 1.5], [1.5, -2.0]])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    st.set_data(X, y, np.zeros(5, bool), source="test")
    st.set_weights([1.0, 0.5], 0.0)
    return st


@pytest.fixture
def panel(state, show_panel):
    return show_panel(DataPanel, state)


def _empty_spot(state):
    return (-2.0, 2.0)


# -- mouse ---------------------------------------------------------------------------------
def test_dragging_a_point_moves_it_by_the_dragged_amount(panel, state):
    before = state.X.copy()
    drag(panel, (2.0, 1.0), (1.0, -0.5))
    moved = state.X[1] - before[1]
    # within a pixel or two of the requested (-1, -1.5)
    px = panel.view_box.viewPixelSize()
    assert moved[0] == pytest.approx(-1.0, abs=3 * px[0])
    assert moved[1] == pytest.approx(-1.5, abs=3 * px[1])
    others = np.delete(np.arange(5), 1)
    np.testing.assert_array_equal(state.X[others], before[others])


def test_dragging_empty_space_pans_instead_of_moving_points(panel, state):
    before = state.X.copy()
    (x0, x1), _ = panel.view_box.viewRange()
    drag(panel, _empty_spot(state), (-1.0, 2.5))
    np.testing.assert_array_equal(state.X, before)
    (nx0, nx1), _ = panel.view_box.viewRange()
    assert nx0 != pytest.approx(x0)


def test_click_on_empty_space_adds_a_point_of_the_selected_class(panel, state):
    panel.class_buttons[0].setChecked(True)
    click(panel, _empty_spot(state))
    assert state.n_points == 6
    px = panel.view_box.viewPixelSize()
    assert state.X[-1, 0] == pytest.approx(-2.0, abs=2 * px[0])
    assert state.X[-1, 1] == pytest.approx(2.0, abs=2 * px[1])
    assert state.y[-1] == 0.0
    panel.class_buttons[1].setChecked(True)
    click(panel, (0.5, -1.0))
    assert state.n_points == 7 and state.y[-1] == 1.0


def test_shift_click_flips_the_label(panel, state):
    click(panel, (0.0, 2.0), modifiers=SHIFT)
    assert state.y[2] == 0.0
    assert state.n_points == 5
    click(panel, (0.0, 2.0), modifiers=SHIFT)
    assert state.y[2] == 1.0


def test_right_click_deletes_the_point(panel, state):
    click(panel, (-1.0, 1.5), button=RIGHT)
    assert state.n_points == 4
    assert not np.any(np.all(state.X == [-1.0, 1.5], axis=1))


def test_delete_key_removes_the_hovered_point(panel, state, qtbot):
    _prepare(panel)
    _send(panel, QEvent.Type.MouseMove, _viewport_pos(panel, 1.5, -2.0), NONE, NONE)
    assert panel.hovered == 4
    panel.activateWindow()
    panel.plot_widget.setFocus()
    qtbot.keyClick(panel.plot_widget, Qt.Key.Key_Delete)
    assert state.n_points == 4 and panel.hovered is None
    assert not np.any(np.all(state.X == [1.5, -2.0], axis=1))


# -- drawing -------------------------------------------------------------------------------
def test_heatmap_is_the_models_probability_on_a_fine_grid(panel, state):
    img = panel.image.image
    assert img.shape[0] >= 200 and img.shape[1] >= 200 and GRID >= 200
    i, j = 37, 151
    x, y = panel._xs[i], panel._ys[j]
    # the picture is computed in float32 (256 colours): a few units of 1e-7
    assert img[i, j] == pytest.approx(float(state.proba_of(np.array([[x, y]]))[0]), rel=1e-6)
    assert panel.colorbar.getAxis("left").labelText == "P(y=1)"


def test_contour_follows_the_threshold_and_the_weights(panel, state):
    def contour_residual():
        xs, ys = panel.contour.getData()
        assert xs is not None and len(xs) > 10
        t = state.threshold
        z = state.logits_of(np.column_stack([xs, ys]))
        return np.max(np.abs(z - math.log(t / (1 - t))))

    assert contour_residual() < 0.05
    state.set_threshold(0.8)
    panel.flush()
    assert contour_residual() < 0.05
    state.set_weights([-0.3, 2.0], 0.7)
    panel.flush()
    assert contour_residual() < 0.05


def test_contour_segments_of_a_circle_lie_on_it():
    xs = np.linspace(-3, 3, 201)
    gx, gy = np.meshgrid(xs, xs, indexing="ij")
    values = gx**2 + gy**2
    segs = contour_segments(values, 4.0, xs, xs)
    r = np.hypot(segs[:, 0], segs[:, 1])
    assert len(segs) > 100 and len(segs) % 2 == 0
    assert np.max(np.abs(r - 2.0)) < 0.01


def test_contour_segments_handle_saddles_and_flat_fields():
    xs = np.linspace(-1, 1, 5)
    gx, gy = np.meshgrid(xs, xs, indexing="ij")
    segs = contour_segments(gx * gy, 0.0, xs, xs)
    assert np.all(np.isfinite(segs))
    assert contour_segments(np.zeros((5, 5)), 0.5, xs, xs).shape == (0, 2)


def test_glyphs_and_arrows_follow_the_view_options(panel, state):
    state.set_view(show_loss_glyphs=True, show_grad_arrows=True)
    panel.flush()
    sizes = panel.points.data["size"]
    losses = state.point_losses()
    assert np.all(np.diff(sizes[np.argsort(losses)]) >= -1e-9)  # bigger loss, bigger marker
    xs, ys = panel.arrows.getData()
    assert xs is not None and len(xs) == 6 * 5
    assert panel.glyphs_box.isChecked() and panel.arrows_box.isChecked()
    panel.arrows_box.setChecked(False)
    assert not state.view.show_grad_arrows


def test_heldout_points_are_hollow_squares(state, show_panel):
    st = AppState()
    p = show_panel(DataPanel, st)
    held = st.heldout
    assert held.any()
    symbols = p.points.data["symbol"]
    assert set(symbols[held]) == {"s"} and set(symbols[~held]) == {"o"}
    st.set_view(show_heldout=False)
    p.flush()
    assert not p.points.data["visible"][held].any()


def _large_panel(show_panel, steps: int):
    """The data panel on the scenario "large" (1,000 points), paused after ``steps``."""
    from bceviz.app import create_state

    st = create_state("large")
    st.set_running(False)
    p = show_panel(DataPanel, st)
    st.step(steps)
    p.flush()
    return st, p


def test_redraw_with_a_thousand_points_is_fast(show_panel):
    st, p = _large_panel(show_panel, 5)
    times = []
    for _ in range(10):
        st.step(1)
        t0 = time.perf_counter()
        p.flush()
        times.append(time.perf_counter() - t0)
    # glyphs are on in "large"; generous bound for a shared two-core machine
    assert np.median(times) < 0.03, times


def test_new_marker_sizes_take_the_symbols_pyqtgraph_would_give_them(show_panel):
    """The shared-style atlas look-up gives each point the atlas cell of its own style."""
    st, p = _large_panel(show_panel, 60)
    st.scrub_to(3)  # sizes change for most points (losses of an early step)
    p.flush()
    data = p.points.data
    assert len(np.unique(data["size"])) > 3
    ours = data["sourceRect"].copy()
    assert np.all(ours["w"] > 0)
    data["sourceRect"] = 0
    p.points.updateSpots()  # pyqtgraph's own per-point look-up
    np.testing.assert_array_equal(ours, data["sourceRect"])
    # and the markers drawn are as large as their sizes say
    np.testing.assert_array_equal(ours["w"], data["sourceRect"]["w"])
    assert np.all(np.abs(ours["w"] - data["size"] * p.points.fragmentAtlas.devicePixelRatio())
                  <= 4)
