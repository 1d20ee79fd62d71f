"""The cheaper plot items of bceviz.gui.rendering draw what pyqtgraph's own items draw."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from bceviz.gui.rendering import PathCurve


def _grab(qtbot, make_item, x_range=(0.0, 1.0), y_range=(0.0, 1.0)) -> np.ndarray:
    """The pixels of a 240 × 180 plot holding one item made by ``make_item()``."""
    widget = pg.PlotWidget(background="k")
    qtbot.addWidget(widget)
    widget.resize(240, 180)
    widget.getPlotItem().hideAxis("left")
    widget.getPlotItem().hideAxis("bottom")
    widget.setXRange(*x_range, padding=0.05)
    widget.setYRange(*y_range, padding=0.05)
    widget.getPlotItem().getViewBox().disableAutoRange()
    item = make_item()
    widget.addItem(item)
    widget.show()
    qtbot.waitExposed(widget)
    image = widget.grab().toImage().convertToFormat(pg.QtGui.QImage.Format.Format_RGB32)
    arr = pg.functions.ndarray_from_qimage(image)[..., :3].astype(int).copy()
    return arr


def _differs(a: np.ndarray, b: np.ndarray) -> float:
    """Share of pixels that differ by more than a little in any channel."""
    return float((np.abs(a - b).max(axis=-1) > 40).mean())


def test_a_line_looks_like_pyqtgraphs(qtbot):
    x = np.linspace(0.0, 1.0, 200)
    y = 0.5 + 0.4 * np.sin(9 * x)
    pen = pg.mkPen((255, 200, 0), width=2)
    ours = _grab(qtbot, lambda: PathCurve(x, y, pen=pen))
    theirs = _grab(qtbot, lambda: pg.PlotCurveItem(x, y, pen=pen))
    drawn = (theirs.max(axis=-1) > 100).sum()
    assert drawn > 300  # the reference drew a line
    assert _differs(ours, theirs) < 0.01


def test_a_filled_step_histogram_looks_like_pyqtgraphs(qtbot):
    edges = np.linspace(0.0, 1.0, 11)
    shares = np.array([0.1, 0.3, 0.7, 0.9, 0.4, 0.2, 0.0, 0.05, 0.6, 0.3])

    def ours():
        item = PathCurve(fillLevel=0, pen=pg.mkPen((0, 200, 255), width=1.5))
        item.setBrush(pg.mkBrush(0, 200, 255, 60))
        item.setData(edges, shares, stepMode="center")
        return item

    def theirs():
        item = pg.PlotCurveItem(fillLevel=0, pen=pg.mkPen((0, 200, 255), width=1.5))
        item.setBrush(pg.mkBrush(0, 200, 255, 60))
        item.setData(edges, shares, stepMode="center")
        return item

    a, b = _grab(qtbot, ours), _grab(qtbot, theirs)
    assert (b.sum(axis=-1) > 60).mean() > 0.2  # the fill covers a good part of the plot
    assert _differs(a, b) < 0.01


def test_segments_in_pairs_and_gaps_at_non_finite_points(qtbot):
    x = np.array([0.1, 0.9, 0.1, 0.9])
    y = np.array([0.2, 0.2, 0.8, 0.8])
    pairs = _grab(qtbot, lambda: PathCurve(x, y, connect="pairs", pen=pg.mkPen("w", width=2)))
    theirs = _grab(qtbot, lambda: pg.PlotCurveItem(x, y, connect="pairs",
                                                   pen=pg.mkPen("w", width=2)))
    assert _differs(pairs, theirs) < 0.005
    # the middle of the figure (where the joining diagonal would be) stays dark
    h, w = pairs.shape[:2]
    assert pairs[h // 2 - 3:h // 2 + 3, w // 2 - 3:w // 2 + 3].max() < 40

    gap = PathCurve(np.array([0.0, 0.5, 1.0]), np.array([0.0, np.nan, 1.0]))
    assert gap.dataBounds(0) == (0.0, 1.0)
    assert gap.dataBounds(1) == (0.0, 1.0)


def test_data_bounds_fill_level_and_empty():
    curve = PathCurve()
    assert curve.dataBounds(0) == (None, None)
    assert curve.boundingRect().isEmpty()
    curve.setData([1.0, 2.0, 3.0], [5.0, 7.0, 6.0])
    assert curve.dataBounds(0) == (1.0, 3.0)
    assert curve.dataBounds(1) == (5.0, 7.0)
    x, y = curve.getData()
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(y, [5.0, 7.0, 6.0])
    curve.setBrush(pg.mkBrush("r"))
    curve.setFillLevel(0.0)
    assert curve.dataBounds(1) == (0.0, 7.0)  # the fill reaches its level
    curve.setData([], [])
    assert curve.dataBounds(1) == (None, None)
    assert curve.getData()[0].size == 0
    one = PathCurve([4.0, 5.0])  # y alone: x is its index
    np.testing.assert_array_equal(one.getData()[0], [0.0, 1.0])


def test_mismatched_lengths_are_refused():
    curve = PathCurve()
    with pytest.raises(ValueError):
        curve.setData([0.0, 1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        curve.setData([0.0, 1.0], [1.0, 2.0], stepMode="center")


def test_legend_reads_its_pen_and_name(qtbot):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    legend = plot.addLegend()
    curve = PathCurve([0, 1], [0, 1], pen=pg.mkPen("y", width=3), name="training")
    plot.addItem(curve)
    legend.addItem(curve, curve.name())
    plot.show()
    qtbot.waitExposed(plot)
    assert [label.text for _, label in legend.items] == ["training"]
    assert curve.opts["pen"].widthF() == 3


def test_a_long_line_keeps_every_peak_and_dip_when_downsampled():
    rng = np.random.default_rng(0)
    x = np.arange(10_000, dtype=float)
    y = rng.normal(size=x.size)
    y[1234], y[8765] = 50.0, -50.0  # a spike and a dip
    y[4000:4100] = np.nan  # a gap wider than a run
    curve = PathCurve(x, y, max_points=1000)
    path = curve._path
    assert path.elementCount() <= 1000 + 20
    xs = np.array([path.elementAt(i).x for i in range(path.elementCount())])
    ys = np.array([path.elementAt(i).y for i in range(path.elementCount())])
    assert ys.max() == 50.0 and ys.min() == -50.0
    assert xs[0] == 0.0 and xs[-1] == x[-1]
    assert np.all(np.diff(xs) >= 0)  # in order
    assert curve.dataBounds(1) == (-50.0, 50.0)
    # the gap stays a gap: no drawn point falls inside it
    assert not np.any((xs > 4020) & (xs < 4080))
    np.testing.assert_array_equal(curve.getData()[1], y)  # the data itself is whole


def test_log_y_draws_log10_and_a_single_point_is_a_dot(qtbot):
    curve = PathCurve([1.0, 2.0, 3.0], [1e-3, 1.0, 1e2], log_y=True)
    assert curve.dataBounds(1) == (-3.0, 2.0)
    np.testing.assert_array_equal(curve.getData()[1], [1e-3, 1.0, 1e2])
    dot = _grab(qtbot, lambda: PathCurve([0.5], [0.5], pen=pg.mkPen("w")))
    h, w = dot.shape[:2]
    assert dot[h // 2 - 2:h // 2 + 3, w // 2 - 2:w // 2 + 3].max() > 200  # drawn at the point
    assert (dot.max(axis=-1) > 100).sum() < 60  # a dot, not a line


def test_a_wide_pen_on_a_long_path_draws_the_width_it_is_given(qtbot):
    """Drawn as offset 1-px lines (cheaper), a 2-px line is still 2 px wide, dashes dashed."""
    x = np.linspace(0.05, 0.95, 400)
    flat = np.full_like(x, 0.5)

    def lit_rows(img):  # rows of the plot the line lights
        return np.flatnonzero(img.max(axis=-1).max(axis=1) > 100)

    def lit_share(img):  # share of the line's row that is lit
        row = int(np.argmax((img.max(axis=-1) > 100).sum(axis=1)))
        return float((img[row].max(axis=-1) > 100).mean())

    solid = pg.mkPen("w", width=2)
    ours = _grab(qtbot, lambda: PathCurve(x, flat, pen=solid))
    theirs = _grab(qtbot, lambda: pg.PlotCurveItem(x, flat, pen=solid))
    assert len(lit_rows(ours)) == len(lit_rows(theirs)) == 2
    assert lit_share(ours) == pytest.approx(lit_share(theirs), abs=0.02)

    dashed = pg.mkPen("w", width=2, style=pg.QtCore.Qt.PenStyle.DashLine)
    ours = _grab(qtbot, lambda: PathCurve(x, flat, pen=dashed))
    theirs = _grab(qtbot, lambda: pg.PlotCurveItem(x, flat, pen=dashed))
    assert len(lit_rows(ours)) == 2
    # dashes of about the same length and gap: about the same share of the row lit
    assert lit_share(ours) == pytest.approx(lit_share(theirs), abs=0.1)
    assert lit_share(ours) < 0.8 * lit_share(_grab(qtbot, lambda: PathCurve(x, flat, pen=solid)))
