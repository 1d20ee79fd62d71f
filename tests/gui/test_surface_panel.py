"""The loss-surface panel shows exactly the engine's objective and follows every edit live."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

import pyqtgraph as pg

from PySide6.QtWidgets import QLabel

from bceviz.engine.logistic import make_features
from bceviz.engine.losses import loss_from_logits
from bceviz.gui.panels import surface_panel as sp
from bceviz.gui.panels.surface_panel import SurfacePanel, contour_segments
from bceviz.model import surface_slice
from bceviz.model.state import AppState
from tests.gui.drag import click, drag

WAIT_MS = 20_000


def brute_force(panel: SurfacePanel, state: AppState, *, bias=None, w_other=None) -> np.ndarray:
    """The objective over the panel's grid, straight from loss_from_logits (no LossSurface)."""
    surface = panel.surface
    w1, w2 = np.asarray(surface.w1), np.asarray(surface.w2)
    X, y = state.X_train, state.y_train
    b = panel.slice_bias if bias is None else bias
    z = w1[None, :, None] * X[:, 0] + w2[:, None, None] * X[:, 1] + b
    if state.trainer.w.shape[0] > 2:
        other = state.trainer.w[2:] if w_other is None else w_other
        z = z + make_features(X, state.features)[:, 2:] @ other
    loss = loss_from_logits(z, y, state.spec).mean(axis=-1)
    l1, l2 = state.training.l1, state.training.l2
    return (loss + 0.5 * l2 * (w1[None, :] ** 2 + w2[:, None] ** 2)
            + l1 * (np.abs(w1)[None, :] + np.abs(w2)[:, None]))


def shown(panel: SurfacePanel) -> np.ndarray:
    panel.flush()
    return np.asarray(panel.image.image, dtype=np.float64)


def assert_matches(panel, state, **kw):
    expected = brute_force(panel, state, **kw)
    got = shown(panel)
    assert got.shape == expected.shape == (sp.RESOLUTION, sp.RESOLUTION)
    # The engine may compute in float32 (DESIGN.md): compare to that precision.
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-5)


def settle(qtbot, panel):
    panel.flush()
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    panel.flush()


def all_text(panel) -> str:
    texts = [w.text() for w in panel.findChildren(QLabel)]
    for item in panel.plot.scene().items():
        if hasattr(item, "toPlainText"):
            texts.append(item.toPlainText())
    for name in ("left", "bottom", "right"):
        axis = panel.plot.getAxis(name)
        texts.append(axis.labelText)
    return "\n".join(texts)


@pytest.fixture
def state():
    return AppState()


@pytest.fixture
def panel(qtbot, state):
    old_rate = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOption("mouseRateLimit", -1)
    p = SurfacePanel(state)
    qtbot.addWidget(p)
    p.resize(600, 500)
    p.show()
    p.view.scene().minDragTime = 0
    settle(qtbot, p)
    yield p
    qtbot.waitUntil(lambda: p._job is None, timeout=WAIT_MS)  # no worker outlives the test
    p.detach()
    pg.setConfigOption("mouseRateLimit", old_rate)


def train_index(state: AppState, k: int = 0) -> int:
    return int(np.flatnonzero(~state.heldout)[k])


def heldout_index(state: AppState, k: int = 0) -> int:
    return int(np.flatnonzero(state.heldout)[k])


# --------------------------------------------------------------------- values


def test_initial_surface_equals_brute_force(panel, state):
    assert panel.slice_bias == state.trainer.b
    assert_matches(panel, state)
    assert panel.half_range == sp.DEFAULT_HALF_RANGE
    w1 = np.asarray(panel.surface.w1)
    assert w1[0] == -6 and w1[-1] == 6


def test_point_edits_are_incremental_and_exact(panel, state):
    surface = panel.surface
    i = train_index(state, 3)
    state.move_point(i, 2.5, -1.75)
    panel.flush()
    assert panel.surface is surface and not panel.computing  # same object: an O(G²) edit
    assert_matches(panel, state)

    before = shown(panel).copy()
    state.move_point(heldout_index(state), -2.0, 2.0)  # held-out points are not in the surface
    np.testing.assert_array_equal(shown(panel), before)

    state.flip_label(train_index(state, 7))
    assert panel.surface is surface
    assert_matches(panel, state)

    state.add_point(0.3, 0.4, 1.0)
    assert_matches(panel, state)
    state.add_point(0.3, 0.4, 1.0, heldout=True)
    state.remove_point(heldout_index(state, 2))
    state.remove_point(train_index(state, 0))
    state.remove_point(train_index(state, 10))
    panel.flush()
    assert panel.surface is surface and not panel.computing
    assert_matches(panel, state)


def test_new_data_set_shows_a_preview_then_the_full_surface(qtbot, panel, state):
    state.generate(kind="moons", n=300, seed=4)
    panel.flush()
    assert panel.surface.resolution == sp.PREVIEW_RESOLUTION
    settle(qtbot, panel)
    assert_matches(panel, state)


def test_loss_settings_and_penalty(qtbot, panel, state):
    surface = panel.surface
    state.set_spec(label_smoothing=0.2, pos_weight=2.5)
    assert panel.surface is surface  # non-focal: cheap set_spec
    assert_matches(panel, state)

    state.set_training(l2=0.05)
    assert panel.surface is surface
    assert_matches(panel, state)

    state.set_training(l1=0.02)  # L1 on (w1, w2) is added for display
    assert_matches(panel, state)

    state.set_spec(focal_gamma=2.0, focal_alpha=0.25)
    panel.flush()
    assert panel.surface.resolution == sp.PREVIEW_RESOLUTION  # a coarse preview at once
    assert "preview" in panel.caption.text()
    settle(qtbot, panel)
    assert_matches(panel, state)

    state.set_spec(focal_gamma=0.0, focal_alpha=None)
    settle(qtbot, panel)
    assert_matches(panel, state)


def test_edits_during_a_background_recompute_are_replayed(qtbot, panel, state):
    state.set_spec(focal_gamma=1.0)  # starts a full recompute in the worker
    assert panel.computing
    i = train_index(state, 5)
    state.move_point(i, -1.0, 3.0)
    state.flip_label(train_index(state, 11))
    state.add_point(-2.0, -2.0, 0.0)
    settle(qtbot, panel)
    assert panel.surface.resolution == sp.RESOLUTION
    assert panel.stats["replayed"] >= 3
    assert_matches(panel, state)


def test_training_reslices_at_the_new_bias(qtbot, panel, state):
    # Imbalanced labels: the bias has far to go.
    state.set_data(state.X, (state.X[:, 0] > 0.8).astype(float), state.heldout)
    settle(qtbot, panel)
    jobs = panel.stats["jobs"]
    n0 = len(panel.path.getData()[0])
    for _ in range(40):
        state.step(5)
        panel.flush()
        w = state.trainer.w
        pos = panel.marker.pos()
        assert (pos.x(), pos.y()) == pytest.approx((w[0], w[1]))
    assert len(panel.path.getData()[0]) > n0  # the path grew
    assert len(panel.path.getData()[0]) == len(state.trainer.history)
    b = state.trainer.b
    assert abs(b) > 5 * sp.SLICE_TOLERANCE
    qtbot.waitUntil(lambda: abs(panel.slice_bias - b) <= sp.SLICE_TOLERANCE and not panel.busy,
                    timeout=WAIT_MS)
    assert panel.slice_bias == pytest.approx(b)
    assert panel.stats["jobs"] > jobs
    assert_matches(panel, state)
    state.step(3000)  # a long run: the drawn path is thinned but ends at the weights
    panel.flush()
    xs, ys = panel.path.getData()
    assert len(xs) <= sp.MAX_PATH_POINTS + 1
    w = state.trainer.w
    assert (xs[-1], ys[-1]) == pytest.approx((w[0], w[1]))
    assert f"b = {sp.fmt.num(panel.slice_bias, 3)}" in panel.caption.text()


def test_caption_states_the_bias_slice(qtbot, panel, state):
    text = panel.caption.text()
    assert re.search(r"[Ss]lice at b = 0\b", text)
    assert f"b moves by > {sp.SLICE_TOLERANCE:g}" in text
    state.set_weights(state.trainer.w, b=0.37)
    settle(qtbot, panel)
    assert "slice at b = 0.37".lower() in panel.caption.text().lower()
    assert_matches(panel, state)


def test_extra_features_slice_holds_the_other_weights(qtbot, panel, state):
    state.set_features("product")
    settle(qtbot, panel)
    state.set_weights([0.5, -0.3, 0.8], b=0.2)
    settle(qtbot, panel)
    qtbot.waitUntil(lambda: panel.slice_bias == pytest.approx(0.2) and not panel.busy,
                    timeout=WAIT_MS)
    assert_matches(panel, state, w_other=np.array([0.8]))
    assert "x1·x2" in panel.caption.text() and "held at its current value" in panel.caption.text()
    # A dragged point carries its own x1·x2 offset.
    state.move_point(train_index(state, 2), 1.5, 2.0)
    settle(qtbot, panel)
    assert_matches(panel, state, w_other=np.array([0.8]))


def test_range_extends_when_the_weights_walk_off(qtbot, panel, state):
    state.set_weights([9.0, -1.0])
    settle(qtbot, panel)
    assert panel.half_range >= 9.0 / surface_slice.EDGE_FRACTION
    assert "Range extended" in panel.caption.text()
    assert_matches(panel, state)
    state.reset_weights()
    settle(qtbot, panel)
    assert panel.half_range == sp.DEFAULT_HALF_RANGE
    assert "Range extended" not in panel.caption.text()


def test_grad_field_and_no_nan_text(qtbot, panel, state):
    state.set_view(show_grad_field=True)
    panel.flush()
    xs, ys = panel.grad_field.getData()
    assert panel.grad_field.isVisible() and xs is not None and len(xs) > 0
    assert np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))
    rng = np.random.default_rng(1)
    for _ in range(20):
        i = train_index(state, int(rng.integers(0, state.n_train)))
        state.move_point(i, *rng.uniform(-3, 3, 2))
        state.step(3)
        panel.flush()
    state.set_training(lr=50.0)
    state.step(50)
    settle(qtbot, panel)
    text = all_text(panel).lower()
    assert "nan" not in text and "inf" not in re.sub(r"information|infinite", "", text)


# ---------------------------------------------------------------- interaction


def test_dragging_the_marker_moves_the_weights(qtbot, panel, state):
    qtbot.waitExposed(panel)
    drag(panel.plot, (0.0, 0.0), (2.0, -1.5))
    w = state.trainer.w
    assert w[0] == pytest.approx(2.0, abs=0.1) and w[1] == pytest.approx(-1.5, abs=0.1)
    panel.flush()
    assert (panel.marker.pos().x(), panel.marker.pos().y()) == pytest.approx((w[0], w[1]))
    assert len(panel.path.getData()[0]) == len(state.trainer.history)


def test_clicking_the_surface_moves_the_weights(qtbot, panel, state):
    qtbot.waitExposed(panel)
    click(panel.plot, (-3.0, 4.0))
    w = state.trainer.w
    assert w[0] == pytest.approx(-3.0, abs=0.1) and w[1] == pytest.approx(4.0, abs=0.1)
    settle(qtbot, panel)
    assert_matches(panel, state)


def test_a_real_drag_in_the_data_panel_updates_the_surface(qtbot, panel, state):
    import bceviz.gui.panels.data_panel as data_panel_mod
    data = data_panel_mod.DataPanel(state)
    qtbot.addWidget(data)
    data.resize(500, 450)
    data.show()
    qtbot.waitExposed(data)
    data.flush()
    surface = panel.surface
    # The training point farthest from the others is the one the pointer picks.
    X = state.X
    dist = np.linalg.norm(X[:, None] - X[None], axis=-1) + np.eye(len(X)) * 1e9
    candidates = np.flatnonzero(~state.heldout)
    i = int(candidates[np.argmax(dist[candidates].min(axis=1))])
    before = X.copy()
    start = tuple(X[i])
    drag(data.view_box, start, (start[0] + 0.8, start[1] - 0.6))
    assert not np.array_equal(state.X[i], before[i])  # the point moved under the pointer
    panel.flush()
    assert panel.surface is surface and not panel.computing  # incremental
    assert_matches(panel, state)
    data.detach()


# -------------------------------------------------------------------- helpers


def test_contour_segments_lie_on_the_level():
    g = np.linspace(-3, 3, 61)
    values = g[None, :] ** 2 + g[:, None] ** 2
    xs, ys = contour_segments(values, [4.0], g, g)
    assert len(xs) > 0 and len(xs) % 2 == 0
    np.testing.assert_allclose(np.hypot(xs, ys), 2.0, atol=0.01)
    saddle = g[None, :] * g[:, None]
    xs, ys = contour_segments(saddle, [0.5, -0.5], g, g)
    np.testing.assert_allclose(np.abs(xs * ys), 0.5, atol=0.05)


def test_screenshot(qtbot, panel, state, tmp_path):
    """An offscreen picture to look at (set BCEVIZ_SCREENSHOT_DIR to keep it)."""
    state.set_view(show_grad_field=True)
    state.set_training(l2=0.02)
    for _ in range(30):
        state.step(2)
    settle(qtbot, panel)
    image = panel.grab()
    assert image.width() >= 500 and not image.isNull()
    out = os.environ.get("BCEVIZ_SCREENSHOT_DIR")
    image.save(str((Path(out) if out else tmp_path) / "surface.png"))
