"""The samples panel: the seed example's numbers, draggable dots, bars, add and remove."""

from __future__ import annotations

import numpy as np
import pytest


from PySide6.QtCore import Qt

from bceviz.engine.losses import NATS_PER_BIT
from bceviz.gui.panels.samples import ROW_HALF, SamplesPanel
from bceviz.gui.widgets import num
from bceviz.model.state import AppState
from tests.gui.drag import click, drag


@pytest.fixture
def state() -> AppState:
    return AppState()


@pytest.fixture
def panel(show_panel, state) -> SamplesPanel:
    return show_panel(SamplesPanel, state, size=(600, 400))


def dot(state: AppState, i: int, who: str = "A") -> tuple[float, float]:
    """Data position of sample i's dot (A) or ring (B) on the strip."""
    p = state.samples_p if who == "A" else state.samples_ref_p
    return float(p[i]), i + (0.5 - float(state.samples_y[i])) * 2 * ROW_HALF


def test_seed_example_likelihoods_and_means(panel, state):
    text = panel.summary.text()
    assert "0.504" in text and "0.512" in text
    mean_a = -np.mean(np.log([0.7, 0.8, 0.9]))
    mean_b = -np.mean(np.log([0.8, 0.8, 0.8]))
    assert f"{num(mean_a)} nats" in text
    assert f"{num(mean_b)} nats" in text
    assert text.index("0.504") < text.index("0.512")  # A's line first, B's beside it
    np.testing.assert_allclose(panel.bars_a.opts["width"], -np.log([0.7, 0.8, 0.9]))
    np.testing.assert_allclose(panel.bars_b.opts["width"], -np.log([0.8, 0.8, 0.8]))
    assert panel.mean_a.value() == pytest.approx(mean_a)
    assert panel.mean_b.value() == pytest.approx(mean_b)


def test_largest_share_is_highlighted(panel, state):
    assert panel.dominant == 0  # p = 0.7 has the largest loss
    assert "#1" in panel.summary.text()
    (hx,), (hy,) = panel.halo.getData()
    assert (hx, hy) == pytest.approx(dot(state, 0))
    state.set_sample(2, p=0.1)
    panel.flush()
    assert panel.dominant == 2


def test_b_markers_are_hollow(panel, state):
    spots = {s.data(): s for s in panel.dots.points()}
    assert spots[("B", 0)].brush().style() == Qt.BrushStyle.NoBrush
    assert spots[("A", 0)].brush().style() != Qt.BrushStyle.NoBrush


def test_units_bits(panel, state):
    state.set_view(units="bits")
    panel.flush()
    mean_a = -np.mean(np.log([0.7, 0.8, 0.9])) / NATS_PER_BIT
    assert f"{num(mean_a)} bits" in panel.summary.text()


def test_drag_dot_sideways_changes_p(panel, state):
    x, y = dot(state, 1)
    drag(panel.strip, (x, y), (0.4, y))
    panel.flush()
    assert state.samples_p[1] == pytest.approx(0.4, abs=1e-9)
    assert list(state.samples_y) == [1.0, 1.0, 1.0]
    assert panel.bars_a.opts["width"][1] == pytest.approx(-np.log(0.4))


def test_drag_dot_vertically_changes_y(panel, state):
    x, y = dot(state, 0)
    drag(panel.strip, (x, y), (x + 0.01, y + 2 * ROW_HALF))  # to the bottom rail: y = 0
    panel.flush()
    assert state.samples_y[0] == 0.0
    assert state.samples_p[0] == pytest.approx(0.7)  # the direction was locked to y
    x, y = dot(state, 0)
    drag(panel.strip, (x, y), (x, y - ROW_HALF))  # half-way up: a soft label
    assert state.samples_y[0] == pytest.approx(0.5, abs=1e-9)


def test_click_flips_label(panel, state):
    click(panel.strip, dot(state, 2))
    assert state.samples_y[2] == 0.0
    panel.flush()
    click(panel.strip, dot(state, 2))
    assert state.samples_y[2] == 1.0


def test_drag_reference_ring(panel, state):
    x, y = dot(state, 2, "B")
    drag(panel.strip, (x, y), (0.3, y))
    assert state.samples_ref_p[2] == pytest.approx(0.3, abs=1e-9)
    assert state.samples_p[2] == pytest.approx(0.9)


def test_add_and_remove(panel, state, qtbot):
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    assert len(state.samples_p) == 4
    assert state.samples_ref_p is not None and len(state.samples_ref_p) == 4
    panel.flush()
    assert len(panel.bars_a.opts["width"]) == 4
    click(panel.strip, dot(state, 1))  # select sample #2 (the click also flips its label)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert list(state.samples_p) == pytest.approx([0.7, 0.9, 0.5])
    for _ in range(5):
        qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert len(state.samples_p) == 1  # never below one sample
    panel.flush()
    assert not panel.remove_button.isEnabled()


def test_screenshot(panel, state, tmp_path):
    path = tmp_path / "samples.png"
    assert panel.grab().save(str(path))
    image = panel.grab().toImage()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    assert len(colours) > 20
