"""Cheaper pyqtgraph items for plots that change every frame: an RGB32 heatmap, grid lines.

* pyqtgraph renders a one-channel image with a lookup table of at most 256
  colours as an ``Indexed8`` QImage, building its colour table in Python on
  every render, and Qt's raster engine converts an indexed image on every
  draw. For a 200² heatmap scaled to a plot that draw costs ~0.8 ms here,
  against ~0.1 ms for a 32-bit RGB image.
* pyqtgraph draws a plot's grid from its axes: each axis then spans the whole
  plot, so any change inside the plot repaints the axes, tick labels and all
  (measured: the metrics panel's eight axes were 10 % of a training run's
  time). :class:`GridLines` draws the same lines as an item of the view,
  and the axes repaint only when their range changes.
* pyqtgraph's ScatterPlotItem costs about 0.5 ms to paint even for one point
  (bounds, pixel vectors and a warnings filter in Python on every paint).
  :class:`PixelMarker` is Qt's own ellipse item, a fixed size in pixels,
  painted in C++: the metrics panel's threshold markers are six of them.
* pyqtgraph's PlotCurveItem computes its bounds, pixel padding and line
  segments in Python on every paint (~0.1 ms a curve, and a curve's bounds
  are asked for several times a frame). :class:`PathCurve` keeps one
  QPainterPath built from the arrays (pyqtgraph's ``arrayToQPath``, in
  NumPy) and its bounds, both renewed only when the data or the view change.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem


class RGB32ImageItem(pg.ImageItem):
    """An ImageItem that turns a 2-D image into colours itself, as a ``Format_RGB32`` QImage.

    Levels and lookup table keep their pyqtgraph meaning (a ColorBarItem can
    drive both); the colour index of a value v is ``floor((v − lo) · n / (hi − lo))``
    clipped to the table, as pyqtgraph computes it. Non-finite values take the
    first colour. Anything else (colour images, no table, auto-downsampling)
    is rendered by pyqtgraph as usual.
    """

    def __init__(self, *args, **kwargs) -> None:
        self._packed_for = None
        self._packed = np.zeros(0, dtype=np.uint32)
        self._argb = None  # keeps the QImage's pixels alive
        super().__init__(*args, **kwargs)

    def _packed_lut(self, lut: np.ndarray) -> np.ndarray:
        if self._packed_for is not lut:
            r, g, b = lut[:, :3].astype(np.uint32).T
            self._packed = (0xFF000000 | (r << 16) | (g << 8) | b).astype(np.uint32)
            self._packed_for = lut
        return self._packed

    def render(self) -> None:
        image, lut, levels = self.image, self.lut, self.levels
        if (image is None or image.ndim != 2 or image.size == 0 or self.autoDownsample
                or levels is None or np.ndim(levels) != 1 or not isinstance(lut, np.ndarray)
                or lut.ndim != 2 or lut.dtype != np.uint8 or not 1 <= lut.shape[0] <= 256):
            super().render()
            return
        lo, hi = float(levels[0]), float(levels[1])
        n = lut.shape[0]
        scale = n / (hi - lo) if hi != lo else 1.0
        rows = image.T if self.axisOrder == "col-major" else image  # (height, width)
        index = np.empty(rows.shape, dtype=np.float32)  # C order, whatever the image's
        np.subtract(rows, lo, out=index, casting="unsafe")
        index *= scale
        np.clip(index, 0.0, n - 1, out=index)
        np.nan_to_num(index, copy=False, nan=0.0)
        argb = self._packed_lut(lut)[index.astype(np.intp)]  # C-contiguous (height, width)
        self._argb = argb
        h, w = argb.shape
        self.qimage = QImage(argb.data, w, h, 4 * w, QImage.Format.Format_RGB32)
        self._renderRequired = False
        self._unrenderable = False


class GridLines(pg.GraphicsObject):
    """Grid lines at the ticks of a plot's bottom and/or left axis, drawn inside its view box.

    ``pen`` is the major lines' pen; minor ticks get the same colour at half
    its alpha. Follows the axes' ticks (automatic or ``setTicks``) as the
    range changes.
    """

    def __init__(self, plot: pg.PlotItem, *, x: bool = True, y: bool = True, pen=None) -> None:
        super().__init__()
        self._plot = plot
        self._vb = plot.getViewBox()
        self.x, self.y = x, y
        self._pens = (pg.mkPen(None), pg.mkPen(None))
        self.setPen(pen if pen is not None else pg.mkPen((128, 128, 128, 64)))
        self.setZValue(-1e6)
        self._rect = QRectF()
        self._vb.sigRangeChanged.connect(self._moved)
        self._vb.sigResized.connect(self._moved)
        plot.addItem(self, ignoreBounds=True)
        self._moved()

    def setPen(self, pen) -> None:  # noqa: N802 (pyqtgraph name)
        major = pg.mkPen(pen)
        major.setCosmetic(True)
        minor = pg.mkPen(major)
        colour = minor.color()
        colour.setAlpha(colour.alpha() // 2)
        minor.setColor(colour)
        self._pens = (major, minor)
        self.update()

    def set_axes(self, x: bool, y: bool) -> None:
        self.x, self.y = bool(x), bool(y)
        self.setVisible(self.x or self.y)
        self.update()

    def _moved(self, *_) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(self._vb.viewRect())
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        return self._rect

    def _levels(self, name: str, lo: float, hi: float, pixels: float) -> list:
        axis = self._plot.getAxis(name)
        fixed = getattr(axis, "_tickLevels", None)
        if fixed is not None:
            return [[v for v, _ in level] for level in fixed]
        if pixels <= 0 or not hi > lo:
            return []
        return [values for _, values in axis.tickValues(lo, hi, pixels)]

    def _lines(self) -> list:
        """[(pen, [QLineF, ...]), ...], cached until the range, size or ticks change."""
        rect, size = self._rect, self._vb.size()
        key = (rect.getRect(), size.width(), size.height(), self.x, self.y,
               id(getattr(self._plot.getAxis("bottom"), "_tickLevels", None)),
               id(getattr(self._plot.getAxis("left"), "_tickLevels", None)))
        if key == getattr(self, "_key", None):
            return self._cached
        out = []
        for horizontal, name, lo, hi, pixels in (
                (False, "bottom", rect.left(), rect.right(), size.width()),
                (True, "left", rect.top(), rect.bottom(), size.height())):
            if not (self.y if horizontal else self.x):
                continue
            for level, values in enumerate(self._levels(name, lo, hi, pixels)[:2]):
                lines = [QLineF(rect.left(), v, rect.right(), v) if horizontal
                         else QLineF(v, rect.top(), v, rect.bottom())
                         for v in values if lo <= v <= hi]
                if lines:
                    out.append((level, lines))
        self._key, self._cached = key, out
        return out

    def paint(self, painter, *args) -> None:
        if self._rect.isEmpty():
            return
        for level, lines in self._lines():
            painter.setPen(self._pens[level])
            painter.drawLines(lines)


class PixelMarker(QGraphicsEllipseItem):
    """One round marker, ``size`` pixels across at any zoom, at a point in data coordinates.

    The part of ScatterPlotItem's interface a single marker needs:
    ``setData([x], [y])`` (``setData([], [])`` hides it), ``getData()``,
    ``setBrush``, ``setPen`` (pyqtgraph pen or brush arguments) and ``setSize``.
    Add it to a plot with ``ignoreBounds=True`` (it has no data bounds).
    """

    def __init__(self, size: float = 10.0) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        self._xy: tuple = (np.empty(0), np.empty(0))
        self.setSize(size)
        self.setVisible(False)

    def setSize(self, size: float) -> None:  # noqa: N802 (pyqtgraph name)
        half = max(float(size), 1.0) / 2.0
        self.setRect(QRectF(-half, -half, 2.0 * half, 2.0 * half))

    def setBrush(self, *args) -> None:  # noqa: N802 (Qt name)
        super().setBrush(pg.mkBrush(*args))

    def setPen(self, *args) -> None:  # noqa: N802 (Qt name)
        pen = pg.mkPen(*args)
        pen.setCosmetic(True)
        super().setPen(pen)

    def setData(self, x, y) -> None:  # noqa: N802 (pyqtgraph name)
        xs, ys = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
        self._xy = (xs, ys)
        if xs.size and ys.size and np.isfinite(xs[0]) and np.isfinite(ys[0]):
            self.setPos(float(xs[0]), float(ys[0]))
            self.setVisible(True)
        else:
            self.setVisible(False)

    def getData(self) -> tuple:  # noqa: N802 (pyqtgraph name)
        return self._xy


class PixelDots(pg.GraphicsObject):
    """A few round markers, ``size`` pixels across at any zoom (a reliability diagram's bins).

    ``setData(x, y)`` (non-finite pairs are left out), ``getData()``,
    ``setBrush``, ``setPen``, ``setSize``. Its bounds are the points' padded by
    the markers' radius in pixels, recomputed only when the points or the
    view change (pyqtgraph's scatter recomputes them in Python on every paint).
    Meant for tens of points, not thousands.
    """

    def __init__(self, size: float = 6.0) -> None:
        super().__init__()
        self._x = self._y = np.empty(0)
        self._size = float(size)
        self._brush = pg.mkBrush(None)
        self._pen = pg.mkPen(None)
        self._rect: QRectF | None = None

    def setSize(self, size: float) -> None:  # noqa: N802 (pyqtgraph name)
        self._size = max(float(size), 1.0)
        self._bounds_changed()

    def setBrush(self, *args) -> None:  # noqa: N802 (Qt name)
        self._brush = pg.mkBrush(*args)
        self.update()

    def setPen(self, *args) -> None:  # noqa: N802 (Qt name)
        self._pen = pg.mkPen(*args)
        self._pen.setCosmetic(True)
        self.update()

    def setData(self, x, y) -> None:  # noqa: N802 (pyqtgraph name)
        xs, ys = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
        n = min(xs.size, ys.size)
        keep = np.isfinite(xs[:n]) & np.isfinite(ys[:n])
        self._x, self._y = xs[:n][keep], ys[:n][keep]
        self._bounds_changed()

    def getData(self) -> tuple:  # noqa: N802 (pyqtgraph name)
        return self._x, self._y

    def _bounds_changed(self) -> None:
        self.prepareGeometryChange()
        self._rect = None
        self.update()

    def viewTransformChanged(self) -> None:  # noqa: N802 (pyqtgraph name)
        self._bounds_changed()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        if self._rect is None:
            if self._x.size == 0:
                self._rect = QRectF()
            else:
                px, py = self.pixelVectors()
                pad = self._size / 2.0 + 2.0
                hx = pad * px.length() if px is not None else 0.0
                hy = pad * py.length() if py is not None else 0.0
                x0, x1 = float(self._x.min()) - hx, float(self._x.max()) + hx
                y0, y1 = float(self._y.min()) - hy, float(self._y.max()) + hy
                self._rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        return self._rect

    def paint(self, painter, *args) -> None:
        if self._x.size == 0:
            return
        transform = painter.transform()
        points = [transform.map(QPointF(float(x), float(y))) for x, y in zip(self._x, self._y)]
        painter.resetTransform()
        painter.setPen(self._pen)
        painter.setBrush(self._brush)
        r = self._size / 2.0
        for point in points:
            painter.drawEllipse(point, r, r)
        painter.setTransform(transform)


def _peaks(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points: per run of points, its lowest and highest y in order.

    NaN (a gap) survives a run only when the whole run is NaN. The first and the
    last point are kept.
    """
    n = x.size
    runs = max(1, max_points // 2)
    k = -(-n // runs)  # points per run (ceil)
    m = n // k * k
    xs, ys = x[:m].reshape(-1, k), y[:m].reshape(-1, k)
    filled = np.where(np.isnan(ys), np.inf, ys)
    lo = np.argmin(filled, axis=1)
    hi = np.argmax(np.where(np.isnan(ys), -np.inf, ys), axis=1)
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    rows = np.arange(xs.shape[0])
    out_x = np.column_stack([xs[rows, first], xs[rows, second]]).ravel()
    out_y = np.column_stack([ys[rows, first], ys[rows, second]]).ravel()
    if m < n:  # the rest, as it is
        out_x = np.concatenate([out_x, x[m:]])
        out_y = np.concatenate([out_y, y[m:]])
    elif out_x[-1] != x[-1]:
        out_x = np.append(out_x, x[-1])
        out_y = np.append(out_y, y[-1])
    if out_x[0] != x[0]:
        out_x = np.insert(out_x, 0, x[0])
        out_y = np.insert(out_y, 0, y[0])
    return out_x, out_y


#: Paths of more points than this with a 1.75-3.5 px pen and no antialiasing are drawn
#: as 1-px lines offset by a pixel (see PathCurve.paint); shorter ones are stroked.
THIN_MIN_POINTS = 24
_THIN_OFFSETS = {2: ((0, 0), (1, 0), (0, 1)), 3: ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))}


def _thin_copies(pen):
    """(a 1-px pen, pixel offsets) drawing ``pen``'s width from thin lines, or None."""
    width = pen.widthF()
    if not pen.isCosmetic() or pen.style() == Qt.PenStyle.NoPen or not 1.75 <= width < 3.5:
        return None
    thin = QPen(pen)
    thin.setWidthF(1.0)
    if pen.style() != Qt.PenStyle.SolidLine:  # dashes are in units of the width
        thin.setDashPattern([v * width for v in pen.dashPattern()])
        thin.setDashOffset(pen.dashOffset() * width)
    return thin, _THIN_OFFSETS[int(round(width))]


_ANTIALIAS = QPainter.RenderHint.Antialiasing
_NO_PEN = Qt.PenStyle.NoPen
_NO_BRUSH = Qt.BrushStyle.NoBrush


class PathCurve(pg.GraphicsObject):
    """A plot line (optionally filled to a level) for data that changes every frame.

    The part of PlotCurveItem's interface the panels use: ``PathCurve(x, y,
    pen=, brush=, connect=, fillLevel=, antialias=, name=)``,
    ``setData(x, y, stepMode=, connect=, pen=)`` (``setData([], [])``
    empties it), ``getData()``, ``setPen``, ``setBrush``, ``setFillLevel``,
    ``dataBounds`` (auto-range) and ``opts`` (what a legend reads). Pens are
    cosmetic (their width in pixels), as pyqtgraph makes them. Non-finite
    points break the line (``connect="finite"`` unless told otherwise).

    ``max_points``: a longer line is drawn from the lowest and highest value of
    each of ``max_points / 2`` runs of points (pyqtgraph's "peak" downsampling:
    every peak and dip stays). ``log_y``: the line is drawn at log10 of y (in
    a plot whose y axis is in log mode; ``getData`` still gives y). A line of
    a single point is drawn as a dot.
    """

    def __init__(self, *args, pen=None, brush=None, connect="finite", fillLevel=None,
                 antialias: bool = False, name=None, max_points: int = 0,
                 log_y: bool = False) -> None:
        super().__init__()
        self._max_points = max(0, int(max_points))
        self._log_y = bool(log_y)
        self._dot: QPointF | None = None
        self.opts = {"pen": pg.mkPen(pg.getConfigOption("foreground")), "shadowPen": None,
                     "brush": None, "fillBrush": None, "fillLevel": fillLevel,
                     "connect": connect, "antialias": bool(antialias), "name": name,
                     "symbol": None, "stepMode": None}
        self.xData = np.empty(0)
        self.yData = np.empty(0)
        self._path = QPainterPath()
        self._fill: QPainterPath | None = None
        self._data_rect = QRectF()
        self._rect: QRectF | None = None
        self._pixel: tuple[float, float] | None = None  # data units per pixel (x, y)
        self._stroked = True
        self._thin = _thin_copies(self.opts["pen"])
        if pen is not None:
            self.setPen(pen)
        if brush is not None:
            self.setBrush(brush)
        if args:
            self.setData(*args)

    def name(self):
        return self.opts["name"]

    def setPen(self, *args, **kwargs) -> None:  # noqa: N802 (pyqtgraph name)
        pen = self.opts["pen"] = pg.mkPen(*args, **kwargs)
        self._stroked = pen.style() != _NO_PEN
        self._thin = _thin_copies(pen)
        self._bounds_changed()

    def setBrush(self, *args, **kwargs) -> None:  # noqa: N802 (pyqtgraph name)
        self.opts["brush"] = self.opts["fillBrush"] = pg.mkBrush(*args, **kwargs)
        self._build()

    def setFillLevel(self, level) -> None:  # noqa: N802 (pyqtgraph name)
        self.opts["fillLevel"] = level
        self._build()

    def setData(self, *args, **kwargs) -> None:  # noqa: N802 (pyqtgraph name)
        if len(args) == 1:
            y = np.asarray(args[0], dtype=float).ravel()
            x = np.arange(y.size, dtype=float)
        elif len(args) == 2:
            x = np.asarray(args[0], dtype=float).ravel()
            y = np.asarray(args[1], dtype=float).ravel()
        else:
            x = np.asarray(kwargs.get("x", []), dtype=float).ravel()
            y = np.asarray(kwargs.get("y", []), dtype=float).ravel()
        if kwargs:
            for key in ("stepMode", "connect", "fillLevel"):
                if key in kwargs:
                    self.opts[key] = kwargs[key]
            if "pen" in kwargs:
                self.setPen(kwargs["pen"])
        step = self.opts["stepMode"]
        if y.size == 0:
            x = y = np.empty(0)
        elif step in ("center", True) and x.size != y.size + 1:
            raise ValueError(f"len(x) must be len(y) + 1 with stepMode 'center' "
                             f"(got {x.size} and {y.size})")
        elif not step and x.size != y.size:
            raise ValueError(f"x and y differ in length ({x.size} and {y.size})")
        self.xData, self.yData = x, y
        self._build()

    def getData(self) -> tuple:  # noqa: N802 (pyqtgraph name)
        return self.xData, self.yData

    def _build(self) -> None:
        x, y = self.xData, self.yData
        level = self.opts["fillLevel"]
        self._fill = None
        self._dot = None
        self._data_rect = QRectF()
        if y.size == 0:
            self._path = QPainterPath()
            self._bounds_changed()
            return
        step = self.opts["stepMode"]
        if step:
            base = level if isinstance(level, (int, float)) else None
            x, y = pg.PlotCurveItem._generateStepModeData(step, x, y, baseline=base)
        if self._log_y:
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.log10(y)
            y[~np.isfinite(y)] = np.nan
        if self._max_points and x.size > self._max_points and not step:
            x, y = _peaks(x, y, self._max_points)
        finite = np.isfinite(x)
        finite &= np.isfinite(y)
        connect = self.opts["connect"]
        if finite.all():  # the common case: no second finiteness check in pyqtgraph
            if isinstance(connect, str) and connect == "finite":
                connect = "all"
            self._path = pg.arrayToQPath(x, y, connect=connect, finiteCheck=False)
            xf, yf = x, y
        else:
            self._path = pg.arrayToQPath(x, y, connect=connect)
            xf, yf = x[finite], y[finite]
        if xf.size == 1:
            self._dot = QPointF(float(xf[0]), float(yf[0]))
        if xf.size:
            x0, x1, y0, y1 = float(xf.min()), float(xf.max()), float(yf.min()), float(yf.max())
            brush = self.opts["brush"]
            if isinstance(level, (int, float)) and brush is not None \
                    and brush.style() != _NO_BRUSH:
                y0, y1 = min(y0, float(level)), max(y1, float(level))
                fill = QPainterPath(self._path)
                fill.lineTo(float(x[-1]), float(level))
                fill.lineTo(float(x[0]), float(level))
                fill.closeSubpath()
                self._fill = fill
            self._data_rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        self._bounds_changed()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):  # noqa: N802
        if self._data_rect.isNull() and self.yData.size == 0:
            return (None, None)
        r = self._data_rect
        return (r.left(), r.right()) if ax == 0 else (r.top(), r.bottom())

    def pixelPadding(self) -> float:  # noqa: N802 (pyqtgraph name)
        return self.opts["pen"].widthF() * 0.7072 if self._stroked else 0.0

    def _bounds_changed(self) -> None:
        self.prepareGeometryChange()
        self._rect = None
        self.update()

    def viewTransformChanged(self) -> None:  # noqa: N802 (pyqtgraph name)
        self._pixel = None
        self._bounds_changed()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        if self._rect is None:
            if self.yData.size == 0:
                self._rect = QRectF()
            else:
                if self._pixel is None:  # (pixelVectors costs ~30 µs: once per view change)
                    px, py = self.pixelVectors()
                    self._pixel = (px.length() if px is not None else 0.0,
                                   py.length() if py is not None else 0.0)
                pad = self.pixelPadding() + 2.0
                hx, hy = pad * self._pixel[0], pad * self._pixel[1]
                self._rect = self._data_rect.adjusted(-hx, -hy, hx, hy)
        return self._rect

    def shape(self) -> QPainterPath:
        """Nothing to hit (Qt's default would stroke the whole path to find out)."""
        return QPainterPath()

    def paint(self, painter, *args) -> None:
        if self._dot is not None and self._stroked:  # one point: a dot 5 px across
            centre = painter.transform().map(self._dot)
            painter.save()
            painter.resetTransform()
            painter.setRenderHint(_ANTIALIAS, True)
            painter.setPen(self.opts["pen"])
            painter.setBrush(self.opts["pen"].color())
            painter.drawEllipse(centre, 2.5, 2.5)
            painter.restore()
            return
        if self._path.isEmpty():
            return
        export = self._exportOpts
        antialias = export.get("antialias", True) if export is not False else self.opts["antialias"]
        painter.setRenderHint(_ANTIALIAS, antialias)
        if self._fill is not None:
            painter.fillPath(self._fill, self.opts["brush"])
        if not self._stroked:
            return
        painter.setBrush(_NO_BRUSH)
        thin = self._thin
        if thin is not None and not antialias and self._path.elementCount() > THIN_MIN_POINTS:
            # a wide line as 1-px lines side by side: Qt strokes a wide pen as an outline
            # it then fills (~10x the time of a 1-px line on a long path)
            pen, offsets = thin
            painter.setPen(pen)
            base = painter.transform()
            for dx, dy in offsets:
                painter.setTransform(base * QTransform.fromTranslate(dx, dy))
                painter.drawPath(self._path)
            painter.setTransform(base)
            return
        painter.setPen(self.opts["pen"])
        painter.drawPath(self._path)


__all__ = ["RGB32ImageItem", "GridLines", "PathCurve", "PixelDots", "PixelMarker"]
