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
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF
from PySide6.QtGui import QImage
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


__all__ = ["RGB32ImageItem", "GridLines", "PixelDots", "PixelMarker"]
