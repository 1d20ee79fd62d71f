"""The tipping lab's panels: the 1-D strip, the (w, b) loss surface, the SGD steps table, a readout.

Every number and curve comes from :class:`bceviz.model.labs.tipping.TippingState`'s
derived figures (``strip()``, ``surface()``, ``steps_table()``, ``statements()``),
computed once per state version; the panels only draw them and turn
gestures into state calls. A refused gesture (LabError) becomes a status
message and changes nothing.

* :class:`StripPanel` (``strip``) — the examples on the feature axis at
  p = 0 and p = 1, coloured by class; the current model's sigmoid (solid) and
  the Newton optimum's (dashed); the tipping point x* (p = 0.5) as a diamond
  with its value; the band from p = 0.1 to p = 0.9 shaded; the gap between
  separated classes hatched. Drag an example along the axis, click empty
  space to add one (upper half: class 1, lower half: class 0), Shift-click
  flips its class, right-click deletes it; dragging the diamond moves x*
  (b = −w·x*, w kept). Writes ``move_example``, ``add_example``,
  ``flip_example``, ``delete_example``, ``set_model``.
* :class:`SurfacePanel` (``surface``) — the objective (mean loss + L2) over
  (w, b) on a log colour scale with contours, the SGD path, the current
  (w, b), the Newton optimum or, without one, an arrow the loss keeps
  falling along. A click puts the model there (``set_model``).
* :class:`SgdTablePanel` (``table``) — the last single-example steps: step,
  example, xᵢ, yᵢ, ŷᵢ, ŷᵢ − yᵢ (and ∂L/∂z when loss settings change it),
  Δw, Δb; newest first.
* :class:`ReadoutPanel` (``readout``) — the model, the fit, the standard
  errors (or why they do not exist), separation, what the loss settings do
  to x*, and where the data come from.
* :class:`TippingControls` — data set, Step / Play / Reset / Fit (Newton),
  order, learning rate, speed, L2 and the loss settings.

Redraws: a training step is paced (``reason="step"``); a drag or a setting
redraws at once. Text that can come from a file (a CSV's column names) is
escaped before it reaches rich text (axis titles, readouts).
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QStandardItem, QStandardItemModel, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from bceviz.engine.losses import LossSpec
from bceviz.gui import theme as _theme
from bceviz.gui.contours import contour_segments
from bceviz.gui.panels.base import Panel
from bceviz.gui.panels.controls import ValueControl
from bceviz.gui.rendering import RGB32ImageItem
from bceviz.gui.safety import escape, plain_label, shown
from bceviz.gui.widgets import DragHandle, apply_palette, pixel_size, rich_label, snap
from bceviz.model.datafiles import DataFileError
from bceviz.model.labs.base import LabError
from bceviz.model.labs.tipping import DATASET_KEYS, DATASETS, TABLE_ROWS, TippingState

#: The strip's fixed p range (room above p = 1 and below p = 0 for the markers and,
#: under the class-0 row, the separation gap's label).
P_RANGE = (-0.17, 1.1)
#: Hit radius added to half the marker size, in pixels.
HIT_SLOP_PX = 4.0
STRIP_HINT = ("Drag an example along the axis · click empty space: add (upper half: "
              "{c1}, lower: {c0}) · Shift-click: flip · right-click: delete · drag ◆: move x*")


def _num(value: Optional[float], digits: int = 4) -> str:
    """A compact number for tables and labels: typographic minus, '—' for None."""
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    a = abs(value)
    if a >= 1e5 or a < 1e-3:
        text = f"{value:.{max(digits - 2, 1)}e}"
    else:
        decimals = max(0, digits - 1 - math.floor(math.log10(a)))
        text = f"{value:.{decimals}f}"
    return text.replace("-", "−")


def _fixed(value: float, decimals: int) -> str:
    """A feature value with the data set's decimals (typographic minus; never "−0.0")."""
    if not math.isfinite(value):
        return "—"
    if abs(value) >= 1e5:
        return _num(value, 4)
    text = f"{value:.{decimals}f}".replace("-", "−")
    return text.lstrip("−") if text.lstrip("−").strip("0.") == "" else text


def _cached_item(item) -> None:
    """Draw ``item`` into a pixmap kept until it or the view changes: items that stand still
    while training (contours, the fit curve, the grid) are then blitted, not stroked again
    for every frame whose dirty region crosses them."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def _unindexed(widget: pg.PlotWidget) -> None:
    """A scene of a dozen items, several moving every frame: no BSP index to keep up to date
    (each move would re-query the items' Python ``boundingRect``)."""
    widget.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)


def _font(theme: _theme.Theme, factor: float = 1.0) -> QFont:
    font = QFont()
    font.setPointSizeF(theme.font_pt * factor)
    return font


class _TippingPanel(Panel):
    """A panel of the tipping lab: training steps are paced, everything else redraws at once.

    ``_extras`` are the panel's optional labels (hint, legend, caption), least
    important first: when the panel is too short for them and a plot of
    ``MIN_PLOT_HEIGHT`` (presentation mode at 1280 × 720), they step aside in
    that order, so the plot never shrinks under its minimum and nothing overlaps.
    """

    MIN_PLOT_HEIGHT = 180
    _extras: tuple = ()

    def _fit_extras(self) -> None:
        width = max(self.width() - 8, 50)
        budget = self.height() - self.MIN_PLOT_HEIGHT - 12
        shown_any = []
        for widget in reversed(self._extras):  # most important first
            want = widget.heightForWidth(width) if widget.hasHeightForWidth() \
                else widget.sizeHint().height()
            keep = want + 4 <= budget
            if keep:
                budget -= want + 4
            shown_any.append((widget, keep))
        for widget, keep in shown_any:
            if widget.isVisibleTo(self) != keep:
                widget.setVisible(keep)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._fit_extras()

    def on_event(self, name: str, **info) -> Optional[bool]:
        if name == "model" and info.get("reason") == "step":
            self.schedule(paced=True)
            return False
        return None

    def _guard(self, method, *args) -> bool:
        """Call a state method; a refusal becomes a status message. True when it went through."""
        try:
            method(*args)
        except LabError as exc:
            self.state.set_status(str(exc), "warning")
            return False
        return True


# --------------------------------------------------------------------------- strip


class _Span(QGraphicsRectItem):
    """A shaded band over the strip's whole height, from x0 to x1 (view coordinates).

    Its top and bottom edges lie beyond the strip's p range, so only the sides show.
    """

    def __init__(self, z: float) -> None:
        super().__init__(0.0, P_RANGE[0] - 1.0, 1.0, P_RANGE[1] - P_RANGE[0] + 2.0)
        self.setZValue(z)
        self.hide()

    def span(self, x0: float, x1: float) -> None:
        rect = QRectF(x0, P_RANGE[0] - 1.0, x1 - x0, P_RANGE[1] - P_RANGE[0] + 2.0)
        if rect != self.rect():
            self.setRect(rect)

    def region(self) -> tuple[float, float]:
        rect = self.rect()
        return float(rect.left()), float(rect.right())


class _StripViewBox(pg.ViewBox):
    """Left click on empty space adds an example (the examples item takes hits first)."""

    def __init__(self, panel: "StripPanel") -> None:
        super().__init__(enableMenu=False)
        self._panel = panel

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph name)
        ev.accept()
        if ev.button() == Qt.MouseButton.LeftButton and not ev.double():
            self._panel._add_at(self.mapSceneToView(ev.scenePos()))

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        ev.ignore()  # no panning: the range belongs to the state

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802
        ev.ignore()


class _ExamplesItem(pg.ScatterPlotItem):
    """The examples; drags and clicks go to the panel."""

    def __init__(self, panel: "StripPanel") -> None:
        super().__init__(pxMode=True, antialias=True)
        self._panel = panel

    def mouseDragEvent(self, ev) -> None:  # noqa: N802
        self._panel._drag(ev)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        self._panel._click(ev)


class StripPanel(_TippingPanel):
    """The examples on the feature axis, the sigmoid, the tipping point and its band."""

    title = "Examples and the sigmoid"
    panel_id = "strip"
    listens = ("data", "model", "settings")

    def __init__(self, state: TippingState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        theme = _theme.current()
        layout = self.vbox(self)
        self.legend = rich_label("tipping_strip_legend", selectable=False)
        layout.addWidget(self.legend)
        self.view_box = _StripViewBox(self)
        self.plot_widget = pg.PlotWidget(viewBox=self.view_box)
        self.plot_widget.setObjectName("tipping_strip_plot")
        _unindexed(self.plot_widget)
        self.plot_widget.setMinimumSize(300, 180)
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.view_box.setMouseEnabled(x=False, y=False)
        self.view_box.disableAutoRange()
        self.plot.getAxis("left").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")],
                                            [(0.1, ""), (0.9, "")]])
        for name in ("left", "bottom"):
            self.plot.getAxis(name).enableAutoSIPrefix(False)
        layout.addWidget(self.plot_widget, 1)
        self.hint = QLabel()
        plain_label(self.hint)
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)

        # Plain rectangles and two-point curves, not LinearRegionItem / InfiniteLine: those
        # are hoverable and compute their bounds in Python, on every mouse move and frame.
        self.band = _Span(-20)
        self.plot.addItem(self.band, ignoreBounds=True)
        self.gap = _Span(-19)
        self.plot.addItem(self.gap, ignoreBounds=True)
        self.gap_label = pg.TextItem(anchor=(0.5, 0.0))
        self.plot.addItem(self.gap_label, ignoreBounds=True)
        self.half_line = pg.PlotCurveItem()
        self.half_line.setZValue(-15)
        self.plot.addItem(self.half_line, ignoreBounds=True)
        self.fit_curve = pg.PlotCurveItem(antialias=False)  # dashed: no need to smooth it
        self.plot.addItem(self.fit_curve)
        self.model_curve = pg.PlotCurveItem(antialias=True)
        self.model_curve.setZValue(5)
        self.plot.addItem(self.model_curve)
        self.tip_line = pg.PlotCurveItem()
        self.tip_line.setZValue(4)
        self.plot.addItem(self.tip_line, ignoreBounds=True)
        self.points = _ExamplesItem(self)
        self.points.setZValue(10)
        self.plot.addItem(self.points)
        self.handle = DragHandle(pos=(0.0, 0.5), size=16, symbol="d")
        self.handle.setZValue(12)
        self.handle.setToolTip("The tipping point x* (p = 0.5): drag it to move x* (w kept)")
        self.plot.addItem(self.handle)
        self.handle.sigDragged.connect(self._on_handle_dragged)
        self.tip_label = pg.TextItem(anchor=(0.0, 1.0))
        self.tip_label.setZValue(13)
        self.plot.addItem(self.tip_label, ignoreBounds=True)
        self.plot_widget.setToolTip("")

        for item in (self.fit_curve, self.gap, self.half_line):
            _cached_item(item)
        self._extras = (self.hint, self.legend)
        self._tip_at: Optional[float] = None
        self._moved: set[int] = set()
        self._drag_index: Optional[int] = None
        self._x_range: Optional[tuple[float, float]] = None
        self._names: Optional[tuple] = None
        self._points_version = -1
        self.apply_theme(theme)
        self._dirty = True
        self.flush()

    # ---------------------------------------------------------------- theme
    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        apply_palette(self, theme)
        self.plot_widget.setBackground(theme.background)
        _theme.style_plot(self.plot, theme, grid="x")
        grid = getattr(self.plot, "_bceviz_grid", None)
        if grid is not None:
            _cached_item(grid)
        self.model_curve.setPen(theme.pen(theme.foreground, width=2.2))
        self.fit_curve.setPen(theme.pen(theme.soft, width=1.8, style=Qt.PenStyle.DashLine))
        self.half_line.setPen(theme.pen(theme.muted, width=1, alpha=110))
        # Solid: a dashed line the height of the plot costs a frame's share to stroke.
        self.tip_line.setPen(theme.pen(theme.accent, width=1.4, alpha=200))
        accent = pg.mkColor(theme.accent)
        band = QColor(accent)
        band.setAlpha(45)
        self.band.setBrush(pg.mkBrush(band))
        self.band.setPen(theme.pen(theme.accent, width=1, alpha=120))
        gap = QColor(pg.mkColor(theme.muted))
        gap.setAlpha(150)
        self.gap.setBrush(QBrush(gap, Qt.BrushStyle.BDiagPattern))
        self.gap.setPen(theme.pen(theme.muted, width=1, alpha=160))
        self.handle.setPen(theme.pen(theme.foreground, width=1.5))
        self.handle.setBrush(theme.brush(theme.accent))
        self.handle.setHoverPen(theme.pen(theme.foreground, width=2.5))
        self.handle.setHoverBrush(theme.brush(theme.accent, alpha=200))
        self.tip_label.setColor(theme.foreground)
        self.tip_label.fill = pg.mkBrush(QColor(theme.background))
        self.gap_label.setColor(theme.muted)
        self.gap_label.fill = theme.brush(theme.background, alpha=225)
        font = _font(theme, 0.95)
        self.tip_label.setFont(font)
        self.gap_label.setFont(_font(theme, 0.85))
        self.legend.setFont(font)
        self.hint.setFont(_font(theme, 0.85))
        self._brushes = (theme.brush(theme.neg, alpha=215), theme.brush(theme.pos, alpha=215))
        outline = "#ffffff" if theme.name == "light" else "#000000"
        self._pen = pg.mkPen(outline, width=1.0)
        self._size = 11 * theme.scale
        # TargetItem keeps its size in ``scale`` and caches its shape: both, for presentation mode.
        self.handle.prepareGeometryChange()
        self.handle.scale = 16 * theme.scale
        self.handle._shape = None
        self.handle.update()
        self._names = None
        self._points_version = -1

    # ---------------------------------------------------------------- drawing
    def on_event(self, name: str, **info) -> Optional[bool]:
        if name == "data":
            index = info.get("index")
            if info.get("kind") == "move" and index is not None and self._points_version >= 0:
                self._moved.add(int(index))
            else:
                self._points_version = -1
        return super().on_event(name, **info)

    def _move_spots(self) -> bool:
        """Put moved examples' markers where they are now (False: redraw them all).

        Writing a position into the scatter's table costs microseconds; ``setData``
        re-styles every marker.
        """
        st: TippingState = self.state
        data = self.points.data
        moved, self._moved = self._moved, set()
        if len(data) != st.n or not moved or max(moved) >= st.n:
            return False
        idx = np.fromiter(moved, dtype=np.intp, count=len(moved))
        self.points.prepareGeometryChange()
        data["x"][idx] = st.x[idx]
        self.points.bounds = [None, None]
        self.points.invalidate()
        self.points.informViewBoundsChanged()
        return True

    def refresh(self) -> None:
        st: TippingState = self.state
        strip = st.strip()
        info = st.dataset
        names = (info.feature, info.unit, info.class_names)
        if names != self._names:
            self._names = names
            c0, c1 = info.class_names
            unit = f" ({info.unit})" if info.unit else ""
            self.plot.setLabel("bottom", escape(info.feature + unit))
            self.plot.setLabel("left", escape(f"p = P({c1})"))
            neg, pos = self._theme.neg, self._theme.pos
            self.legend.setText(
                f"<span style='color:{pos}'>●</span> {escape(c1)} (1) &nbsp; "
                f"<span style='color:{neg}'>●</span> {escape(c0)} (0) &nbsp; "
                f"<b>—</b> model &nbsp; <span style='color:{self._theme.soft}'><b>- -</b></span> "
                f"Newton fit &nbsp; <span style='color:{self._theme.accent}'>▮</span> p 0.1–0.9")
            self.hint.setText(shown(STRIP_HINT.format(c0=c0, c1=c1)))
        if strip.x_range != self._x_range:
            self._x_range = strip.x_range
            self.view_box.setRange(xRange=strip.x_range, yRange=P_RANGE, padding=0.0)
            self.half_line.setData(list(strip.x_range), [0.5, 0.5])
        if self._moved and self._points_version >= 0 and self._move_spots():
            self._points_version = st.version[0]
        if self._points_version != st.version[0]:
            self._points_version = st.version[0]
            self._moved.clear()
            brushes = [self._brushes[int(v)] for v in strip.y]
            self.points.setData(x=strip.x, y=strip.y, brush=brushes, pen=self._pen,
                                size=self._size, data=np.arange(strip.x.size))
        self.model_curve.setData(strip.xs, strip.p_model)
        if strip.p_fit is not None:
            self.fit_curve.setData(strip.xs, strip.p_fit)
        else:
            self.fit_curve.setData([], [])
        lo, hi = strip.x_range
        if strip.band is not None and strip.band[1] > lo and strip.band[0] < hi:
            self.band.span(max(strip.band[0], lo), min(strip.band[1], hi))
            self.band.show()
        else:
            self.band.hide()
        if strip.gap is not None:
            g0, g1 = strip.gap
            self.gap.span(g0, g1)
            self.gap.show()
            self.gap_label.setText("separated: no maximum" if g1 > g0 else "classes touch here")
            self.gap_label.setPos(0.5 * (g0 + g1), -0.04)  # under the class-0 row
            # Only where it fits between the row and the axis (a short plot in presentation
            # mode has no room; the hatching and the readout still say it).
            _, py = pixel_size(self.view_box)
            room = (-0.04 - P_RANGE[0]) / py
            self.gap_label.setVisible(room >= self.gap_label.boundingRect().height())
        else:
            self.gap.hide()
            self.gap_label.hide()
        self._draw_tipping_point(strip.tipping_point, lo, hi)

    def _draw_tipping_point(self, t: Optional[float], lo: float, hi: float) -> None:
        st: TippingState = self.state
        if t is None:
            self.handle.hide()
            self.tip_line.hide()
            self.tip_label.setText("w = 0: p = 0.5 everywhere, no tipping point")
            self.tip_label.setAnchor((0.5, 1.0))
            self.tip_label.setPos(0.5 * (lo + hi), 0.62)
            return
        text = f"x* = {st.format_x(t)}"
        if lo <= t <= hi:
            if not self.handle.moving:
                self.handle.setPos(t, 0.5)
            self.handle.show()
            if self._tip_at != t:
                self._tip_at = t
                self.tip_line.setData([t, t], list(P_RANGE))
            self.tip_line.show()
            right = t < 0.5 * (lo + hi)
            self.tip_label.setAnchor((0.0, 1.0) if right else (1.0, 1.0))
            px, _ = pixel_size(self.view_box)
            self.tip_label.setPos(t + (12 if right else -12) * px, 0.47)
            self.tip_label.setText(shown(text))
        else:
            self.handle.hide()
            self.tip_line.hide()
            if t > hi:
                self.tip_label.setAnchor((1.0, 1.0))
                self.tip_label.setPos(hi, 0.62)
                self.tip_label.setText(shown(text + " →"))
            else:
                self.tip_label.setAnchor((0.0, 1.0))
                self.tip_label.setPos(lo, 0.62)
                self.tip_label.setText(shown("← " + text))

    # ---------------------------------------------------------------- gestures
    def _hit(self, pos) -> Optional[int]:
        """Index of the example under ``pos`` (view coordinates), nearest first."""
        st: TippingState = self.state
        if not st.n:
            return None
        px, py = pixel_size(self.view_box)
        reach = self._size / 2.0 + HIT_SLOP_PX
        dx = np.abs(st.x - pos.x()) / px
        dy = np.abs(st.y - pos.y()) / py
        inside = np.flatnonzero((dx <= reach) & (dy <= reach))
        if inside.size == 0:
            return None
        return int(inside[np.argmin(dx[inside] ** 2 + dy[inside] ** 2)])

    def _x_at(self, x: float) -> float:
        lo, hi = self.state.x_range
        px, _ = pixel_size(self.view_box)
        return min(max(snap(x, px), lo), hi)

    def _drag(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            self._drag_index = self._hit(ev.buttonDownPos())
            if self._drag_index is None:
                ev.ignore()
                return
        elif self._drag_index is None:
            ev.ignore()
            return
        ev.accept()
        index = self._drag_index
        if ev.isFinish():
            self._drag_index = None
        if index < self.state.n:
            self._guard(self.state.move_example, index, self._x_at(ev.pos().x()))

    def _click(self, ev) -> None:
        index = self._hit(ev.pos())
        if index is None:
            ev.ignore()
            return
        ev.accept()
        if ev.button() == Qt.MouseButton.RightButton:
            self._guard(self.state.delete_example, index)
        elif (ev.button() == Qt.MouseButton.LeftButton
              and ev.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self._guard(self.state.flip_example, index)

    def _add_at(self, pos) -> None:
        lo, hi = self.state.x_range
        if not lo <= pos.x() <= hi:
            return
        label = 1 if pos.y() >= 0.5 else 0
        self._guard(self.state.add_example, self._x_at(pos.x()), label)

    def _on_handle_dragged(self, pos) -> None:
        st: TippingState = self.state
        if st.w == 0.0:
            return
        x = self._x_at(pos.x())
        self._guard(st.set_model, st.w, -st.w * x)


# --------------------------------------------------------------------------- surface


class _Marker(pg.TargetItem):
    """A fixed-size marker that is only looked at: clicks and drags pass to the view."""

    def __init__(self, symbol: str) -> None:
        super().__init__(pos=(0.0, 0.0), size=10, symbol=symbol, movable=False)
        self.setAcceptHoverEvents(False)
        self.hide()

    def restyle(self, pen, brush, size: float) -> None:
        self.setPen(pen)
        self.setHoverPen(pen)
        self.setBrush(brush)
        self.setHoverBrush(brush)
        self.currentPen, self.currentBrush = self.pen, self.brush
        # TargetItem keeps its size in ``scale`` and caches its shape.
        self.prepareGeometryChange()
        self.scale = size
        self._shape = None
        self.update()

    def place(self, x: Optional[float], y: float = 0.0) -> None:
        """Show the marker at (x, y), or hide it (x None)."""
        if x is None:
            self.hide()
            return
        if (self.pos().x(), self.pos().y()) != (x, y):
            self.setPos(x, y)
        self.show()

    def xy(self) -> tuple[float, float]:
        return float(self.pos().x()), float(self.pos().y())

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        ev.ignore()

    def mouseDragEvent(self, ev) -> None:  # noqa: N802
        ev.ignore()


class _SurfaceViewBox(pg.ViewBox):
    def __init__(self, panel: "SurfacePanel") -> None:
        super().__init__(enableMenu=False)
        self._panel = panel

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        ev.accept()
        if ev.button() == Qt.MouseButton.LeftButton and not ev.double():
            self._panel._click_at(self.mapSceneToView(ev.scenePos()))

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        ev.ignore()

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802
        ev.ignore()


class SurfacePanel(_TippingPanel):
    """The objective over (w, b) with the SGD path and the optimum (or the way it escapes)."""

    title = "Loss surface over (w, b)"
    panel_id = "surface"
    listens = ("data", "model", "settings")

    def __init__(self, state: TippingState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.view_box = _SurfaceViewBox(self)
        self.plot_widget = pg.PlotWidget(viewBox=self.view_box)
        self.plot_widget.setObjectName("tipping_surface_plot")
        _unindexed(self.plot_widget)
        self.plot_widget.setMinimumSize(300, 180)
        self.plot_widget.setToolTip("Click to put the model at that (w, b)")
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.view_box.setMouseEnabled(x=False, y=False)
        self.view_box.disableAutoRange()
        for name in ("left", "bottom"):
            self.plot.getAxis(name).enableAutoSIPrefix(False)
        layout.addWidget(self.plot_widget, 1)
        self.caption = rich_label("tipping_surface_caption", selectable=False)
        layout.addWidget(self.caption)

        self.image = RGB32ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.contours = pg.PlotCurveItem(connect="pairs")
        self.contours.setZValue(-5)
        _cached_item(self.contours)
        _cached_item(self.image)
        self.plot.addItem(self.contours)
        # Not antialiased: a zig-zag of up to a thousand points, redrawn with every step,
        # costs several times as much smoothed (and reads the same on the colour map).
        self.path = pg.PlotCurveItem(antialias=False)
        self.path.setZValue(5)
        self.plot.addItem(self.path)
        # Markers as fixed-size TargetItems: moving one is a setPos, not a scatter's setData.
        self.start = _Marker("o")
        self.start.setZValue(6)
        self.plot.addItem(self.start)
        self.optimum = _Marker("star")
        self.optimum.setZValue(9)
        self.plot.addItem(self.optimum)
        self.current = _Marker("o")
        self.current.setZValue(8)
        self.plot.addItem(self.current)
        self.arrow = pg.ArrowItem(angle=0, headLen=18, tailLen=28, tailWidth=4)
        self.arrow.setZValue(9)
        self.plot.addItem(self.arrow, ignoreBounds=True)
        self.arrow_label = pg.TextItem(anchor=(0.5, 1.0))
        self.arrow_label.setZValue(9)
        self.plot.addItem(self.arrow_label, ignoreBounds=True)
        self._extras = (self.caption,)
        self.MIN_PLOT_HEIGHT = 220  # the colour map needs height more than the caption
        self._caption = ""
        self._values_drawn = None
        self._box = None
        self._names = None
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        apply_palette(self, theme)
        self.plot_widget.setBackground(theme.background)
        _theme.style_plot(self.plot, theme, grid=False)
        cmap = pg.colormap.get(theme.surface_colormap)
        self.image.setLookupTable(cmap.getLookupTable(0.0, 1.0, 256, alpha=False))
        self.image.setLevels((0.0, 1.0))
        self.contours.setPen(pg.mkPen(255, 255, 255, 90, width=1))
        self.path.setPen(pg.mkPen("#ffffff", width=2.0 * theme.scale))
        self.start.restyle(pg.mkPen("#ffffff", width=1.5), pg.mkBrush(None), 9 * theme.scale)
        self.optimum.restyle(pg.mkPen("#000000", width=1), theme.brush(theme.accent),
                             20 * theme.scale)
        self.current.restyle(pg.mkPen("#000000", width=1.5), theme.brush(theme.accent),
                             11 * theme.scale)
        self.arrow.setStyle(brush=theme.brush(theme.accent), pen=pg.mkPen("#000000"))
        self.arrow_label.setColor("#ffffff")
        self.arrow_label.setFont(_font(theme, 0.85))
        self.caption.setFont(_font(theme, 0.9))
        self._values_drawn = None
        self._names = None

    def refresh(self) -> None:
        st: TippingState = self.state
        fig = st.surface()
        info = st.dataset
        if self._names != info.per_unit:
            self._names = info.per_unit
            self.plot.setLabel("bottom", escape(f"w ({info.per_unit})"))
            self.plot.setLabel("left", "b")
        wv, bv = fig.w_values, fig.b_values
        box = (float(wv[0]), float(wv[-1]), float(bv[0]), float(bv[-1]))
        if fig.values is not self._values_drawn or box != self._box:
            self._values_drawn = fig.values
            self.image.setImage(fig.image, autoLevels=False, levels=(0.0, 1.0))
            self.image.setRect(QRectF(box[0], box[2], box[1] - box[0], box[3] - box[2]))
            xs, ys = contour_segments(fig.image, fig.levels, wv, bv)
            self.contours.setData(xs, ys, connect="pairs")
            if box != self._box:
                self._box = box
                self.view_box.setRange(xRange=box[:2], yRange=box[2:], padding=0.0)
        path = fig.path
        self.path.setData(path[:, 0], path[:, 1])
        self.start.place(float(path[0, 0]), float(path[0, 1]))
        self.current.place(*fig.current)
        if fig.optimum is not None:
            self.optimum.place(*fig.optimum)
        else:
            self.optimum.place(None)
        self._draw_escape(fig, box)
        what = "mean loss + L2/2·w²" if st.l2 else "mean loss"
        mark = ("★ Newton optimum" if fig.optimum is not None
                else "no optimum: the loss keeps falling along the arrow")
        # No per-step number here: a caption that changes every step re-lays out the panel.
        caption = (f"Colour: {what} (nats), log scale · white: the SGD path from ○ · "
                   f"● the model now · {mark}")
        if caption != self._caption:
            self._caption = caption
            self.caption.setText(caption)

    def _draw_escape(self, fig, box) -> None:
        if fig.escape is None:
            self.arrow.hide()
            self.arrow_label.hide()
            return
        dw, db = fig.escape
        # The arrow in screen terms: the axes have different scales.
        sx, sy = (box[1] - box[0]), (box[3] - box[2])
        ux, uy = dw / sx, db / sy
        norm = math.hypot(ux, uy) or 1.0
        ux, uy = ux / norm, uy / norm
        cx, cy = 0.5 * (box[0] + box[1]), 0.5 * (box[2] + box[3])
        tip = (cx + 0.4 * ux * sx, cy + 0.4 * uy * sy)
        angle = math.degrees(math.atan2(-uy, ux))  # pyqtgraph: y axis points up on screen
        self.arrow.setStyle(angle=180 + angle)
        self.arrow.setPos(*tip)
        self.arrow.show()
        self.arrow_label.setText("loss keeps falling")
        self.arrow_label.setPos(cx, box[2] + 0.04 * sy)
        self.arrow_label.show()

    def _click_at(self, pos) -> None:
        if self._box is None:
            return
        w0, w1, b0, b1 = self._box
        if not (w0 <= pos.x() <= w1 and b0 <= pos.y() <= b1):
            return
        px, py = pixel_size(self.view_box)
        self._guard(self.state.set_model, snap(pos.x(), px), snap(pos.y(), py))


# --------------------------------------------------------------------------- table


class _StepsModel(QStandardItemModel):
    """The steps table's cells, newest step first, kept in C++ items (no Python per paint).

    ``set_rows`` writes only the texts and tints that changed.
    """

    def __init__(self, headers: tuple[str, ...], tips: tuple[str, ...]) -> None:
        super().__init__(TABLE_ROWS, len(headers))
        for col, (name, tip) in enumerate(zip(headers, tips)):
            item = QStandardItem(name)
            item.setToolTip(tip)
            self.setHorizontalHeaderItem(col, item)
        align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        self._cells = [[QStandardItem("") for _ in headers] for _ in range(TABLE_ROWS)]
        for r, row in enumerate(self._cells):
            for c, item in enumerate(row):
                item.setTextAlignment(align)
                item.setEditable(False)
                self.setItem(r, c, item)
        self._classes: list[Optional[int]] = [None] * TABLE_ROWS
        self.brushes: tuple = (QBrush(), QBrush())

    def set_rows(self, texts: list[tuple[str, ...]], classes: list[int]) -> None:
        blank = ("",) * self.columnCount()
        for r in range(TABLE_ROWS):
            row = texts[r] if r < len(texts) else blank
            cls = classes[r] if r < len(classes) else None
            for item, text in zip(self._cells[r], row):
                if item.text() != text:
                    item.setText(text)
            if cls != self._classes[r]:
                self._classes[r] = cls
                brush = QBrush() if cls is None else self.brushes[cls]
                for item in self._cells[r]:
                    item.setBackground(brush)

    def restyle(self) -> None:
        """New tints (a theme change): every row is tinted again."""
        self._classes = [None] * TABLE_ROWS
        for row in self._cells:
            for item in row:
                item.setBackground(QBrush())

    def text(self, row: int, column: int) -> str:
        return self._cells[row][column].text()


class SgdTablePanel(_TippingPanel):
    """The last single-example SGD steps, in numbers, newest first."""

    title = "SGD steps"
    panel_id = "table"
    listens = ("data", "model", "settings")
    HEADERS = ("step", "i", "xᵢ", "yᵢ", "ŷᵢ", "ŷᵢ−yᵢ", "∂L/∂z", "Δw", "Δb")
    TIPS = (
        "Step number since the last reset or fit",
        "Which example (0-based, in the data's order)",
        "The example's feature value",
        "Its class (0 or 1)",
        "The prediction ŷ = σ(w·x + b) before the step",
        "The error ŷ − y: ∂L/∂z for plain BCE",
        "∂L/∂z with the loss settings (it replaces ŷ − y in the update)",
        "Change of w: −η·(∂L/∂z·x + L2·w)",
        "Change of b: −η·∂L/∂z",
    )
    #: Columns sized to their widest text in the current font (step, i, yᵢ), not stretched.
    NARROW = {0: "0000", 1: "000", 3: "yᵢ0"}

    def __init__(self, state: TippingState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.rule = QLabel()
        plain_label(self.rule)
        self.rule.setWordWrap(True)
        layout.addWidget(self.rule)
        self.model = _StepsModel(self.HEADERS, self.TIPS)
        self.table = QTableView()
        self.table.setObjectName("tipping_sgd_table")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setToolTip("The last SGD steps, newest first (rows tinted by the class)")
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setMinimumSize(300, 150)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(24)
        for col in self.NARROW:  # fixed, so a new text never recomputes the widths
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
        layout.addWidget(self.table, 1)
        self.empty = QLabel("No steps yet: press S (or Step) to take one SGD step on the "
                            "next example.")
        self.empty.setWordWrap(True)
        layout.addWidget(self.empty)
        self._show_grad = None
        self._rows_key = None
        self._rule_text = ""
        self.MIN_PLOT_HEIGHT = 110  # the table: a header and three rows
        self._extras = (self.empty, self.rule)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        apply_palette(self, theme)
        font = _font(theme, 0.9)
        self.table.setFont(font)
        self.table.horizontalHeader().setFont(font)
        metrics = self.table.fontMetrics()
        self.table.verticalHeader().setDefaultSectionSize(metrics.height() + 6)
        for col, sample in self.NARROW.items():
            self.table.setColumnWidth(col, metrics.horizontalAdvance(sample) + 10)
        self.rule.setFont(_font(theme, 0.95))
        self.empty.setFont(font)
        self.model.brushes = (theme.brush(theme.neg, alpha=40), theme.brush(theme.pos, alpha=40))
        self.model.restyle()
        self._rows_key = None
        self._step_digits = len(self.NARROW[0])

    def refresh(self) -> None:
        st: TippingState = self.state
        plain = st.spec == LossSpec()
        if plain != self._show_grad:
            self._show_grad = plain
            self.table.setColumnHidden(6, plain)
        penalty = f" − η·{st.l2:.4g}·w" if st.l2 else ""
        grad = "(ŷᵢ−yᵢ)" if plain else "∂L/∂z"
        rule = (f"w ← w − η·{grad}·xᵢ{penalty},  b ← b − η·{grad},  "
                f"η = {st.lr:.4g}").replace("-", "−")
        if rule != self._rule_text:
            self._rule_text = rule
            self.rule.setText(rule)
        rows = st.steps_table()
        key = (rows[-1].step if rows else 0, len(rows), st.version[0])
        if key == self._rows_key:
            return
        self._rows_key = key
        extras = (self.rule,) if rows else (self.empty, self.rule)
        if extras != self._extras:
            self._extras = extras
            if rows:
                self.empty.hide()
            self._fit_extras()
        decimals = st.dataset.decimals
        texts, classes = [], []
        for row in reversed(rows):
            texts.append((str(row.step), str(row.index), _fixed(row.x, decimals),
                          str(int(row.y)), _num(row.p, 3), _num(row.p_minus_y, 3),
                          _num(row.grad_z, 3), _num(row.dw, 2), _num(row.db, 2)))
            classes.append(int(row.y))
        self.model.set_rows(texts, classes)
        digits = len(str(rows[-1].step)) if rows else 1
        if digits > self._step_digits:  # the step column grows with the count, rarely
            self._step_digits = digits
            metrics = self.table.fontMetrics()
            self.table.setColumnWidth(0, metrics.horizontalAdvance("0" * digits) + 10)


# --------------------------------------------------------------------------- readout


class _HeldLabel(QWidget):
    """A word-wrapped label behind a layout firewall: its text changes without relayouts.

    A QLabel asks its parent's layout to recompute on every ``setText``, and
    the layout then repaints its neighbours. Here the label lives in a widget
    without a layout that sizes it by hand and asks for more height only when
    the text needs more lines than it ever had (it never shrinks mid-run;
    ``release()`` lets it, e.g. after a resize).
    """

    def __init__(self, object_name: str, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        # Plain text (bold by its font): measuring wrapped plain text is a fraction of the
        # cost of rich text, and this label is measured on every step.
        self.label = QLabel(self)
        self.label.setObjectName(object_name)
        plain_label(self.label)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._height = 0
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        self.label.setText(text)
        self._grow()

    def text(self) -> str:
        return self.label.text()

    def release(self) -> None:
        self._height = 0
        self._grow()

    def _grow(self) -> None:
        width = self.width()
        need = self.label.heightForWidth(width) if width > 0 else self.label.sizeHint().height()
        if need > self._height:
            self._height = need
            self.setFixedHeight(need)
        self.label.setGeometry(0, 0, width, self._height)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            return True  # the label's own requests stop here
        return super().event(event)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._height = 0
        self._grow()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(self.label.sizeHint().width(), max(self._height, 1))


class ReadoutPanel(_TippingPanel):
    """The fit, its uncertainty, separation and the loss settings, in sentences.

    One word-wrapped label per sentence group, in a scroll area whose scroll bar
    is always there (so the labels are laid out for the width they really get);
    a label is only given new text when its sentence changed.
    """

    title = "Fit, uncertainty and separation"
    panel_id = "readout"
    listens = ("data", "model", "settings")
    PARTS = ("model", "fit", "uncertainty", "separation", "settings_effect", "data_note")
    HEADINGS = {"uncertainty": "Uncertainty.", "separation": "Separation.",
                "settings_effect": "Loss settings."}

    def __init__(self, state: TippingState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self, margins=2)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        body = QWidget(self.scroll)
        body.setObjectName("tipping_readout")
        column = QVBoxLayout(body)
        column.setContentsMargins(4, 2, 4, 2)
        column.setSpacing(6)
        self.labels: dict[str, QLabel] = {}
        for part in self.PARTS:
            if part == "model":  # the one that changes with every step
                self.model_holder = _HeldLabel("tipping_readout_model", body)
                label = self.model_holder.label
                column.addWidget(self.model_holder)
            else:
                label = rich_label(f"tipping_readout_{part}")
                # Preferred, not Maximum: in the scrolling column a sentence gets the height
                # its wrapped text needs at the column's width (Maximum held it to the size
                # hint, measured at another width, and cut off its last lines)
                label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
                column.addWidget(label)
            self.labels[part] = label
        column.addStretch(1)
        self.scroll.setWidget(body)
        self._body_column = column
        self.scroll.viewport().installEventFilter(self)
        layout.addWidget(self.scroll, 1)
        self._texts: dict[str, str] = {}
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        apply_palette(self, theme)
        for label in self.labels.values():
            label.setFont(_font(theme, 0.95))
        bold = _font(theme, 0.95)
        bold.setBold(True)
        self.labels["model"].setFont(bold)
        self._texts = {}
        if hasattr(self, "model_holder"):
            self.model_holder.release()

    def plain_text(self) -> str:
        """Everything the panel shows, as plain text."""
        doc = QTextDocument()
        out = []
        for part, label in self.labels.items():
            if part == "model":
                out.append(label.text())
                continue
            doc.setHtml(label.text())
            out.append(doc.toPlainText())
        return "\n".join(out)

    def refresh(self) -> None:
        r = self.state.statements()
        warn = self._theme.pos
        for part in self.PARTS:
            if part == "model":  # plain text, bold by the label's font
                text = shown(r.model)
                if self._texts.get(part) != text:
                    self._texts[part] = text
                    self.model_holder.setText(text)
                continue
            text = escape(getattr(r, part))
            if part == "data_note":
                text = f"<i>{text}</i>"
            elif part in self.HEADINGS:
                text = f"<b>{self.HEADINGS[part]}</b> {text}"
                if part == "separation" and r.separated and not r.optimum_exists:
                    text = f"<span style='color:{warn}'>{text}</span>"
            if self._texts.get(part) != text:
                self._texts[part] = text
                self.labels[part].setText(text)
        self._fit_body()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if watched is self.scroll.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_body()
        return False

    def _fit_body(self) -> None:
        """The sentences' column as tall as its wrapped text at the viewport's width.

        A scroll area sizes a resizable widget by its minimum size, which for word-
        wrapped labels is one line each: without this the labels were squeezed and
        their last lines cut off instead of the column scrolling.
        """
        width = self.scroll.viewport().width()
        column = self._body_column
        need = column.totalHeightForWidth(width) if column.hasHeightForWidth() else \
            column.totalMinimumSize().height()
        body = self.scroll.widget()
        if need > 0 and body.minimumHeight() != need:
            body.setMinimumHeight(need)


# --------------------------------------------------------------------------- controls


class TippingControls(_TippingPanel):
    """Data set, training (Step / Play / Reset / Fit), order, η, speed, L2 and the loss settings."""

    title = "Tipping point"
    panel_id = "tipping_controls"
    listens = ("data", "settings", "running", "model")

    def __init__(self, state: TippingState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        self._forms: list[QFormLayout] = []
        outer = self.vbox(self, margins=0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        body = QWidget(scroll)
        scroll.setWidget(body)
        layout = self.vbox(body, margins=4)
        layout.setSpacing(4)

        # -- data
        data_box, form = self._group("Data")
        self.dataset = QComboBox()
        self.dataset.setToolTip("The examples: two hand-made terminators, or a seeded synthetic "
                                "(illustrative) data set; a loaded file appears here too")
        for key in DATASET_KEYS:
            self.dataset.addItem(DATASETS[key].title, key)
        self.dataset.activated.connect(self._on_dataset)
        # The column has a fixed width: a long title (a file's) is cut, never widens it.
        self.dataset.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.dataset.setMinimumContentsLength(8)
        form.addRow(self.dataset)
        self.load_button = QPushButton("Load CSV…")
        self.load_button.setToolTip("Read (feature, label) rows from a CSV file: two columns, "
                                    "labels 0 or 1; a bad file is named by line and column and "
                                    "nothing changes")
        self.load_button.clicked.connect(self._on_load)
        form.addRow(self.load_button)
        layout.addWidget(data_box)

        # -- training
        train_box, form = self._group("Train")
        grid = QGridLayout()
        grid.setSpacing(3)
        self.step_button = self._button("Step", "One SGD step on the next example (S)",
                                        lambda: self.state.step(1))
        self.play_button = self._button("Play", "Run SGD steps continuously (Space)",
                                        self._on_play)
        self.reset_button = self._button("Reset", "w = b = 0, the path and the table cleared "
                                         "(the examples stay)", self.state.reset)
        self.fit_button = self._button("Fit", "Fit by Newton's method: jump to the minimum of "
                                       "the objective (none if the classes are separated and "
                                       "L2 = 0)", self.state.fit_now)
        grid.addWidget(self.step_button, 0, 0)
        grid.addWidget(self.play_button, 0, 1)
        grid.addWidget(self.reset_button, 1, 0)
        grid.addWidget(self.fit_button, 1, 1)
        form.addRow(grid)
        self.order = QComboBox()
        self.order.addItem("in order", "in_order")
        self.order.addItem("shuffled", "shuffled")
        self.order.setToolTip("Which example each step uses: 0, 1, 2, … or a new seeded "
                              "shuffle every pass")
        self.order.activated.connect(
            lambda i: self._guard(self.state.set_order, self.order.itemData(i)))
        form.addRow("Order", self.order)
        self.lr = ValueControl(1e-5, 10.0, log=True, decimals=5,
                               tooltip="Learning rate η (in 1/unit² of the feature): each step "
                                       "changes w by −η·(ŷ − y)·x")
        self.lr.valueChanged.connect(lambda v: self._guard(self.state.set_lr, v))
        form.addRow("η", self.lr)
        self.speed = QSpinBox()
        self.speed.setRange(1, 1000)
        self.speed.setToolTip("SGD steps per frame while playing")
        self.speed.valueChanged.connect(
            lambda v: self._guard(self.state.set_steps_per_frame, int(v)))
        form.addRow("Steps/frame", self.speed)
        layout.addWidget(train_box)

        # -- penalty and loss
        loss_box, form = self._group("Penalty and loss")
        self.l2 = ValueControl(1e-4, 100.0, log=True, zero=True, decimals=4,
                               tooltip="L2 strength λ: the objective adds λ/2·w² (b is not "
                                       "penalised); any λ > 0 gives separated data a finite fit")
        self.l2.valueChanged.connect(lambda v: self._guard(self.state.set_l2, v))
        form.addRow("L2 λ", self.l2)
        self.smoothing = ValueControl(0.0, 0.5, decimals=3,
                                      tooltip="Label smoothing ε: targets become ε/2 and 1 − ε/2 "
                                              "(flatter sigmoid; a finite fit even when "
                                              "separated)")
        self.smoothing.valueChanged.connect(lambda v: self._set_loss(label_smoothing=v))
        form.addRow("Smoothing", self.smoothing)
        self.pos_weight = ValueControl(0.05, 20.0, log=True, decimals=3,
                                       tooltip="pos_weight: weight of the class-1 term (PyTorch "
                                               "BCEWithLogitsLoss); > 1 moves x* into class 0's "
                                               "side")
        self.pos_weight.valueChanged.connect(lambda v: self._set_loss(pos_weight=v))
        form.addRow("pos_weight", self.pos_weight)
        self.gamma = ValueControl(0.0, 5.0, decimals=2,
                                  tooltip="Focal γ: down-weights examples the model already gets "
                                          "right, (1 − p_t)^γ")
        self.gamma.valueChanged.connect(lambda v: self._set_loss(focal_gamma=v))
        form.addRow("Focal γ", self.gamma)
        alpha_row = QWidget()
        alpha_layout = QHBoxLayout(alpha_row)
        alpha_layout.setContentsMargins(0, 0, 0, 0)
        self.alpha_on = QCheckBox()
        self.alpha_on.setToolTip("Use focal α (class balance of the focal loss)")
        self.alpha = ValueControl(0.0, 1.0, decimals=2,
                                  tooltip="Focal α: weight α on class 1 and 1 − α on class 0")
        self.alpha_on.toggled.connect(self._on_alpha)
        self.alpha.valueChanged.connect(lambda v: self._on_alpha(self.alpha_on.isChecked()))
        alpha_layout.addWidget(self.alpha_on)
        alpha_layout.addWidget(self.alpha, 1)
        form.addRow("Focal α", alpha_row)
        self.show_fit = QCheckBox("Newton fit curve")
        self.show_fit.setToolTip("Draw the optimum's sigmoid (dashed) on the strip")
        self.show_fit.toggled.connect(lambda on: self._guard(self.state.set_show_fit, bool(on)))
        form.addRow(self.show_fit)
        layout.addWidget(loss_box)
        layout.addStretch(1)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    # ---------------------------------------------------------------- building
    def _group(self, title: str) -> tuple[QGroupBox, QFormLayout]:
        box = QGroupBox(title)
        form = QFormLayout(box)
        self._forms.append(form)
        form.setContentsMargins(4, 4, 4, 4)
        form.setSpacing(3)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return box, form

    def _button(self, text: str, tip: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(lambda: self._guard(slot))
        return button

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        font = _font(theme)
        for widget in self.findChildren(QWidget):
            widget.setFont(font)
        # Large type (presentation mode) in the fixed-width column: labels above their fields.
        policy = QFormLayout.RowWrapPolicy.WrapAllRows if theme.font_pt > 12 \
            else QFormLayout.RowWrapPolicy.DontWrapRows
        for form in self._forms:
            form.setRowWrapPolicy(policy)
        for control in self.findChildren(ValueControl):  # their boxes fit "0.00000" in this font
            control.spin.setFixedWidth(control.spin.fontMetrics().horizontalAdvance("0.00000") + 10)

    # ---------------------------------------------------------------- gestures
    def on_event(self, name: str, **info) -> Optional[bool]:
        if name == "model" or (name == "data" and info.get("kind") != "reset"):
            return False  # nothing here shows the weights or single examples
        return super().on_event(name, **info)

    def _set_loss(self, **changes) -> None:
        self._guard(lambda: self.state.set_loss(**changes))

    def _on_alpha(self, on: bool) -> None:
        self.alpha.setEnabled(bool(on))
        self._set_loss(focal_alpha=self.alpha.value() if on else None)

    def _on_dataset(self, index: int) -> None:
        key = self.dataset.itemData(index)
        if key == "csv":
            return
        self._guard(self.state.choose_dataset, key)

    def _on_play(self) -> None:
        self.state.set_running(not self.state.running)

    def _on_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load (feature, label) CSV", "",
                                              "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self.load_file(path)

    def load_file(self, path: str) -> bool:
        """Load a CSV into the lab; a bad file becomes an error status (nothing changes)."""
        try:
            self.state.load_csv(path)
        except (DataFileError, LabError) as exc:
            self.state.set_status(shown(str(exc)), "error")
            return False
        self.state.set_status(shown(f"Loaded {self.state.n:,} examples from "
                                    f"{self.state.dataset.title[6:]}"), "info")
        return True

    # ---------------------------------------------------------------- drawing
    def refresh(self) -> None:
        st: TippingState = self.state
        key = st.dataset.key
        index = self.dataset.findData(key)
        if key == "csv":
            title = shown(st.dataset.title)
            if index < 0:
                self.dataset.addItem(title, "csv")
                index = self.dataset.count() - 1
            else:
                self.dataset.setItemText(index, title)
        if self.dataset.currentIndex() != index:
            self.dataset.setCurrentIndex(index)
        self.order.setCurrentIndex(max(0, self.order.findData(st.order)))
        self.lr.set_value(st.lr)
        if self.speed.value() != st.steps_per_frame:
            self.speed.blockSignals(True)
            self.speed.setValue(st.steps_per_frame)
            self.speed.blockSignals(False)
        self.l2.set_value(st.l2)
        spec = st.spec
        self.smoothing.set_value(spec.label_smoothing)
        self.pos_weight.set_value(spec.pos_weight)
        self.gamma.set_value(spec.focal_gamma)
        on = spec.focal_alpha is not None
        if self.alpha_on.isChecked() != on:
            self.alpha_on.blockSignals(True)
            self.alpha_on.setChecked(on)
            self.alpha_on.blockSignals(False)
        self.alpha.setEnabled(on)
        self.alpha.set_value(spec.focal_alpha if on else 0.25)
        if self.show_fit.isChecked() != st.show_fit:
            self.show_fit.blockSignals(True)
            self.show_fit.setChecked(st.show_fit)
            self.show_fit.blockSignals(False)
        self.play_button.setText("Pause" if st.running else "Play")


PANELS = {"strip": StripPanel, "surface": SurfacePanel, "table": SgdTablePanel,
          "readout": ReadoutPanel}
CONTROLS = TippingControls

__all__ = ["CONTROLS", "PANELS", "ReadoutPanel", "SgdTablePanel", "StripPanel", "SurfacePanel",
           "TippingControls"]
