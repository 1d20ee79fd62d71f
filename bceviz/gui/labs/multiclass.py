"""The one-vs-rest lab's panels: the argmax decision map, softmax beside it, the per-class maps,
ROC curves, confusion matrices, copy as code and the controls.

Every panel reads :class:`bceviz.model.labs.multiclass.MulticlassState` and
its cached figures (``grid()``, ``points_figure()``, ``metrics_figure()``,
``code()``) and writes back only through the state's methods
(``move_point``, ``add_point``, ``remove_point``, ``set_add_class``,
``update``, ``fit``, ``load_csv``, ...). On the decision and softmax maps:
drag a point to move it, click empty space to add a point of the chosen
class, right-click a point to delete it. A training step redraws the maps
paced like the other labs' live panels; the ROC and confusion panels redraw
at most ten times a second, the code four times.

Class names can come from a file: they are escaped wherever pyqtgraph
renders HTML and shown as plain text in Qt widgets.
"""

from __future__ import annotations

import html
import math
from typing import Callable, Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bceviz.gui import theme as _theme
from bceviz.gui.contours import contour_segments
from bceviz.gui.panels.base import Panel, place_plots
from bceviz.gui.panels.controls import ValueControl
from bceviz.gui.rendering import RGB32ImageItem
from bceviz.gui.widgets import apply_palette, pixel_size
from bceviz.model.labs.base import LabError
from bceviz.model.labs.multiclass import MAX_CLASSES, MIN_CLASSES, SEVERAL

#: One colour and one marker per class (ColorBrewer Dark2; shapes for colour-blind readers).
CLASS_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")
CLASS_SYMBOLS = ("o", "s", "t", "d", "star")
DATASET_TITLES = {"ring": "clusters on a ring", "line": "clusters in a row",
                  "random": "random clusters"}
#: Hit radius around a point, in screen pixels.
HIT_PX = 9.0
#: Stripes of the "several say yes" regions: period and width in map cells.
STRIPE_PERIOD, STRIPE_WIDTH = 6, 2
#: Confidence shades of the softmax map.
SHADES = 8


def _cached_points(item: pg.ScatterPlotItem) -> pg.ScatterPlotItem:
    """Points that do not move while training: Qt keeps their picture and blits it each frame
    (the map under them changes, the points do not; drawing 300 markers costs ~1 ms a plot)."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return item


def _esc(text: str) -> str:
    return html.escape(str(text), quote=False)


def _plain(text: str = "", *, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    # Minimum: a wrapped readout keeps the height its text needs; the plot above gives way
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    return label


def _rgb(colour: str) -> np.ndarray:
    return np.array(pg.mkColor(colour).getRgb()[:3], float)


def _blend(colour: str, background: str, amount: float) -> np.ndarray:
    """``amount`` of the colour over the background (0: background)."""
    return amount * _rgb(colour) + (1.0 - amount) * _rgb(background)


def _centred_rect(xs: np.ndarray, ys: np.ndarray) -> QRectF:
    hx = (xs[-1] - xs[0]) / (len(xs) - 1)
    hy = (ys[-1] - ys[0]) / (len(ys) - 1)
    return QRectF(xs[0] - hx / 2, ys[0] - hy / 2, xs[-1] - xs[0] + hx, ys[-1] - ys[0] + hy)


def _grid_shape(n: int, width: int, height: int) -> tuple[int, int]:
    best, best_score = (1, n), -1.0
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        w, h = width / cols, height / rows
        score = min(w, h) - 0.05 * abs(w - h)
        if score > best_score:
            best, best_score = (rows, cols), score
    return best


class _LabPanel(Panel):
    """A panel of this lab: training steps redraw it paced, like the other live panels.

    A panel off screen (parked by the stage host, or behind another stage)
    only notes that it is stale and redraws when it is shown again, so the
    panels a stage does not show cost nothing while it trains.
    """

    def on_event(self, name: str, **info):
        if name == "model" and info.get("reason") == "step":
            self.schedule(paced=True)
            return False
        return self.on_lab_event(name, **info)

    def schedule(self, paced: bool = False) -> None:
        if not self.isVisible():
            self._dirty = True
            return
        super().schedule(paced)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._dirty:
            self.schedule()

    def on_lab_event(self, name: str, **info) -> Optional[bool]:
        return None

    def _font(self, theme: _theme.Theme, scale: float = 1.0) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(theme.font_pt * scale)
        return font

    def _guard(self, fn: Callable, *args, **kwargs) -> None:
        """Apply a change; a refused one goes to the status bar and nothing changes."""
        try:
            fn(*args, **kwargs)
        except LabError as exc:
            self.state.set_status(str(exc), "error")
            self._dirty = True
            self.flush()


class _PointsViewBox(pg.ViewBox):
    """A fixed view for a map of points: drag moves a point, click adds, right-click deletes."""

    def __init__(self, panel: "_PointsMapPanel") -> None:
        super().__init__(enableMenu=False)
        self.setMouseEnabled(False, False)
        self.setAspectLocked(True)
        self._panel = panel
        self._drag: Optional[int] = None

    def _hit(self, scene_pos) -> Optional[int]:
        pos = self.mapSceneToView(scene_pos)
        X = self._panel.state.X
        if X.shape[0] == 0:
            return None
        px, py = pixel_size(self)
        d = np.hypot((X[:, 0] - pos.x()) / px, (X[:, 1] - pos.y()) / py)
        i = int(np.argmin(d))
        return i if d[i] <= HIT_PX else None

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph name)
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            if self._hit(ev.scenePos()) is None:
                pos = self.mapSceneToView(ev.scenePos())
                self._panel._guard(self._panel.state.add_point, (pos.x(), pos.y()))
        elif ev.button() == Qt.MouseButton.RightButton:
            i = self._hit(ev.scenePos())
            if i is None:
                ev.ignore()
                return
            ev.accept()
            self._panel._guard(self._panel.state.remove_point, i)
        else:
            ev.ignore()

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph name)
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            self._drag = self._hit(ev.buttonDownScenePos())
        if self._drag is None:
            ev.ignore()
            return
        ev.accept()
        pos = self.mapSceneToView(ev.scenePos())
        i = self._drag
        if ev.isFinish():
            self._drag = None
        if i < self._panel.state.n_points:
            self._panel._guard(self._panel.state.move_point, i, (pos.x(), pos.y()))

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph name)
        ev.ignore()


class _PointsMapPanel(_LabPanel):
    """A map of the plane with the points on it (shared by the decision and softmax panels)."""

    listens = ("data", "model", "settings", "view")

    def _build_plot(self, layout: QVBoxLayout, name: str) -> None:
        self.view_box = _PointsViewBox(self)
        self.plot_widget = pg.PlotWidget(viewBox=self.view_box)
        self.plot_widget.setObjectName(name)
        self.plot_widget.setToolTip("Drag a point to move it · click empty space: add a point of "
                                    "the chosen class · right-click a point: delete it")
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.image = RGB32ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        # one item per class and split: a single style each, so a drag's redraw is cheap
        self.class_points: list[tuple[pg.ScatterPlotItem, pg.ScatterPlotItem]] = []
        for k in range(MAX_CLASSES):
            train = _cached_points(pg.ScatterPlotItem(pxMode=True, symbol=CLASS_SYMBOLS[k]))
            held = _cached_points(pg.ScatterPlotItem(pxMode=True, symbol=CLASS_SYMBOLS[k]))
            train.setZValue(10)
            held.setZValue(9)
            self.plot.addItem(train)
            self.plot.addItem(held)
            self.class_points.append((train, held))
        layout.addWidget(self.plot_widget, 1)
        self._dirty_points = True

    def on_lab_event(self, name: str, **info):
        if name in ("data", "settings", "view"):
            self._dirty_points = True
            if not (name == "data" and info.get("kind") in ("move", "add", "remove")):
                self._frame_key = None  # ranges, axis titles, names: not for a point edit
        return None

    def _frame(self, theme: _theme.Theme) -> bool:
        """Set the ranges and axis titles if they changed; True when they did."""
        state = self.state
        e = state.extent
        names = tuple(state.source.get("feature_names", ["x1", "x2"]))
        unit = " (standardised)" if state.source.get("standardized") else ""
        key = (e, names, unit, state.class_names, state.add_class, theme.name, theme.scale)
        if key == getattr(self, "_frame_key", None):
            return False
        self._frame_key = key
        self.plot.setXRange(-e, e, padding=0)
        self.plot.setYRange(-e, e, padding=0)
        self.plot.setLabel("bottom", _esc(names[0]) + unit)
        self.plot.setLabel("left", _esc(names[1]) + unit)
        return True

    def _draw_points(self, theme: _theme.Theme) -> None:
        state = self.state
        pf = state.points_figure()
        size = theme.marker_size * theme.scale * 1.1
        outline = pg.mkPen(theme.foreground, width=1.0)
        for k, (train, held) in enumerate(self.class_points):
            mine = pf.labels == k
            t, h = mine & ~pf.heldout, mine & pf.heldout
            train.setData(pf.X[t, 0], pf.X[t, 1], size=size, brush=pg.mkBrush(CLASS_COLOURS[k]),
                          pen=outline)
            held.setData(pf.X[h, 0], pf.X[h, 1], size=size, brush=None,
                         pen=pg.mkPen(CLASS_COLOURS[k], width=2.0 * theme.scale))

    def _style_plot(self, theme: _theme.Theme) -> None:
        _theme.style_plot(self.plot, theme, grid=False)
        self.plot_widget.setBackground(theme.background)


# =========================================================================== decision
class DecisionPanel(_PointsMapPanel):
    """The one-vs-rest decision: argmax of the K sigmoids, with where nobody or several say yes.

    Reads ``grid()`` (argmax, region codes, shares, p_k maps for the 0.5
    lines), ``points_figure()``, ``metrics_figure()`` (held-out counts),
    ``class_names`` and ``add_class``. Writes ``move_point``, ``add_point``,
    ``remove_point`` and ``set_add_class``. Pale class colour: exactly one
    classifier says yes; grey: nobody; striped: several.
    """

    title = "One-vs-rest: the decision by argmax"
    panel_id = "decision"

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        theme = _theme.current()
        layout = self.vbox(self)
        row = QHBoxLayout()
        row.setSpacing(3)
        self.add_label = QLabel("Add")
        self.add_label.setToolTip("The class of the points that clicks on empty space add")
        row.addWidget(self.add_label)
        self.class_group = QButtonGroup(self)
        self.class_buttons: list[QToolButton] = []
        for k in range(MAX_CLASSES):
            b = QToolButton()
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.class_group.addButton(b, k)
            self.class_buttons.append(b)
            row.addWidget(b)
        self.class_group.idClicked.connect(lambda k: self._guard(self.state.set_add_class, k))
        row.addStretch(1)
        layout.addLayout(row)
        self._build_plot(layout, "decision_plot")
        self.lines = [pg.PlotCurveItem(connect="pairs") for _ in range(MAX_CLASSES)]
        for line in self.lines:
            line.setZValue(5)
            self.plot.addItem(line)
        self.key = _plain()
        self.key.setObjectName("decision_key")
        layout.addWidget(self.key)
        self.readout = _plain()
        self.readout.setObjectName("decision_readout")
        layout.addWidget(self.readout)
        self._stripes: Optional[np.ndarray] = None
        self.apply_theme(theme)
        self.refresh()

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self._style_plot(theme)
        for k, line in enumerate(self.lines):
            line.setPen(pg.mkPen(_blend(CLASS_COLOURS[k], theme.foreground, 0.6).astype(int),
                                 width=1.5 * theme.scale, style=Qt.PenStyle.DashLine))
        for w in (self.add_label, *self.class_buttons):
            w.setFont(self._font(theme))
        self.key.setFont(self._font(theme, 0.9))
        self.readout.setFont(self._font(theme, 0.95))
        self._lut_key = None
        self._dirty_points = True

    def _lut(self, K: int, theme: _theme.Theme) -> np.ndarray:
        key = (K, theme.name)
        if getattr(self, "_lut_key", None) != key:
            nobody = "#c9c9c9" if theme.name == "light" else "#4a4a4a"
            rows = [_blend(CLASS_COLOURS[k], theme.background, 0.45) for k in range(K)]
            rows += [_rgb(nobody)] * K
            rows += [_blend(CLASS_COLOURS[k], theme.background, 0.8) for k in range(K)]
            rows += [_rgb(theme.background)]  # the stripes
            self._lut_table = np.ascontiguousarray(np.array(rows).astype(np.uint8))
            self._lut_key = key
        return self._lut_table

    def refresh(self) -> None:
        state = self.state
        theme = _theme.current()
        g = state.grid()
        K = state.n_classes
        index = g.ovr_argmax + K * g.region
        if self._stripes is None or self._stripes.shape != index.shape:
            i, j = np.indices(index.shape)
            self._stripes = (i + j) % STRIPE_PERIOD < STRIPE_WIDTH
        index = np.where((g.region == SEVERAL) & self._stripes, 3 * K, index)
        lut = self._lut(K, theme)
        self.image.setImage(index.astype(np.float32), levels=(0.0, float(lut.shape[0])), lut=lut,
                            autoLevels=False)
        self.image.setRect(_centred_rect(g.xs, g.ys))
        for k, line in enumerate(self.lines):
            if k < K:
                sx, sy = contour_segments(g.ovr[k], (0.5,), g.xs, g.ys)
                line.setData(sx, sy)
            else:
                line.setData([], [])
        if self._dirty_points:
            self._dirty_points = False
            self._draw_points(theme)
        if self._frame(theme):
            names = state.class_names
            for k, b in enumerate(self.class_buttons):
                b.setVisible(k < K)
                if k < K:
                    b.setText(f"{CLASS_GLYPHS[k]} {names[k]}")
                    b.setToolTip(f"Clicks on empty space add points of class {names[k]}")
                    b.setStyleSheet(f"QToolButton {{ color: {CLASS_COLOURS[k]}; }}")
                    b.setChecked(k == state.add_class)
            self.key.setText("Pale: one sigmoid says yes (p ≥ 0.5) · grey: nobody does · "
                             "striped: several do · dashed: p = 0.5 of each class · hollow: "
                             "held-out")
        hs = state.heldout_summary()
        self.readout.setText(
            f"Nobody says yes on {100 * g.nobody_share:.0f} % of the map, several on "
            f"{100 * g.several_share:.0f} %. Held out: nobody says yes for {hs.nobody} "
            f"of {hs.n_heldout} points; argmax is right for {100 * hs.ovr_accuracy:.0f} %.")


CLASS_GLYPHS = ("●", "■", "▲", "◆", "★")


# =========================================================================== softmax
class SoftmaxPanel(_PointsMapPanel):
    """Softmax regression on the same points: its argmax, shaded by confidence, summing to 1.

    Reads ``grid()`` (softmax probabilities and argmax, where the two models
    disagree, the range of the one-vs-rest sums) and ``points_figure()``.
    Writes the same point edits as the decision map. The outline marks where
    one-vs-rest and softmax decide differently.
    """

    title = "Softmax on the same data"
    panel_id = "softmax"

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        theme = _theme.current()
        layout = self.vbox(self)
        self._build_plot(layout, "softmax_plot")
        self.outline = pg.PlotCurveItem(connect="pairs")
        self.outline.setZValue(6)
        self.plot.addItem(self.outline)
        self.key = _plain()
        self.key.setObjectName("softmax_key")
        layout.addWidget(self.key)
        self.readout = _plain()
        self.readout.setObjectName("softmax_readout")
        layout.addWidget(self.readout)
        self.apply_theme(theme)
        self.refresh()

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self._style_plot(theme)
        self.outline.setPen(pg.mkPen(theme.foreground, width=2.2 * theme.scale))
        self.key.setFont(self._font(theme, 0.9))
        self.readout.setFont(self._font(theme, 0.95))
        self._lut_key = None
        self._dirty_points = True

    def _lut(self, K: int, theme: _theme.Theme) -> np.ndarray:
        key = (K, theme.name)
        if getattr(self, "_lut_key", None) != key:
            rows = [_blend(CLASS_COLOURS[k], theme.background, 0.15 + 0.75 * s / (SHADES - 1))
                    for k in range(K) for s in range(SHADES)]
            self._lut_table = np.ascontiguousarray(np.array(rows).astype(np.uint8))
            self._lut_key = key
        return self._lut_table

    def refresh(self) -> None:
        state = self.state
        theme = _theme.current()
        g = state.grid()
        K = state.n_classes
        top = np.take_along_axis(g.softmax, g.softmax_argmax[None], axis=0)[0]
        # confidence from 1/K (a coin toss among K) to 1, in SHADES steps
        shade = np.clip(((top - 1.0 / K) / (1.0 - 1.0 / K) * SHADES).astype(int), 0, SHADES - 1)
        index = g.softmax_argmax * SHADES + shade
        lut = self._lut(K, theme)
        self.image.setImage(index.astype(np.float32), levels=(0.0, float(lut.shape[0])), lut=lut,
                            autoLevels=False)
        self.image.setRect(_centred_rect(g.xs, g.ys))
        sx, sy = contour_segments(g.disagree.astype(np.float64), (0.5,), g.xs, g.ys)
        self.outline.setData(sx, sy)
        if self._dirty_points:
            self._dirty_points = False
            self._draw_points(theme)
        if self._frame(theme):
            self.key.setText("Colour: softmax's class, deeper where it is surer · outlined: "
                             "where one-vs-rest decides otherwise")
        hs = state.heldout_summary()
        self.readout.setText(
            f"Softmax probabilities sum to 1 everywhere; the one-vs-rest sigmoids sum to "
            f"{g.ovr_sum_min:.2f}–{g.ovr_sum_max:.2f}. The two decide differently on "
            f"{100 * g.disagree_share:.0f} % of the map. Held out: softmax is right for "
            f"{100 * hs.softmax_accuracy:.0f} %, one-vs-rest for {100 * hs.ovr_accuracy:.0f} %.")


# =========================================================================== per-class maps
class ClassMapsPanel(_LabPanel):
    """One map per class: the sigmoid of "class k against the rest", its p = 0.5 line.

    Reads ``grid()`` (``ovr``), ``points_figure()``, ``class_names`` and the
    ``map_class`` setting (None: every class side by side; k: class k large).
    Points of class k are red, the rest blue. Writes ``set_map_class``.
    """

    title = "Each class against the rest"
    panel_id = "classmaps"
    listens = ("data", "model", "settings", "view")

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        theme = _theme.current()
        layout = self.vbox(self)
        row = QHBoxLayout()
        row.setSpacing(3)
        self.show_label = QLabel("Show")
        self.show_label.setToolTip("Every class's map side by side, or one class's map large")
        row.addWidget(self.show_label)
        self.choice = QComboBox()
        self.choice.setToolTip(self.show_label.toolTip())
        self.choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.choice.activated.connect(
            lambda i: self._guard(self.state.set_map_class, None if i == 0 else i - 1))
        row.addWidget(self.choice)
        row.addStretch(1)
        layout.addLayout(row)
        self.stack = QStackedWidget()
        self.widget = pg.GraphicsLayoutWidget()
        self.widget.setObjectName("classmaps_grid")
        self.widget.ci.setSpacing(0)
        self.widget.ci.setContentsMargins(0, 0, 0, 0)
        self.plots = [self._make_plot(pg.PlotItem()) for _ in range(MAX_CLASSES)]
        self.single_widget = pg.PlotWidget()
        self.single_widget.setObjectName("classmaps_single")
        self.single = self._make_plot(self.single_widget.getPlotItem())
        self.stack.addWidget(self.widget)
        self.stack.addWidget(self.single_widget)
        layout.addWidget(self.stack, 1)
        self.key = _plain("Red: the class, blue: the rest · line: p = 0.5 · hollow: held-out")
        self.key.setObjectName("classmaps_key")
        layout.addWidget(self.key)
        self._arranged: tuple = ()
        self._dirty_points = True
        self.apply_theme(theme)
        self.refresh()

    @staticmethod
    def _make_plot(plot: pg.PlotItem) -> tuple:
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(False, False)
        plot.getViewBox().setAspectLocked(True)
        image = RGB32ImageItem(axisOrder="row-major")
        image.setZValue(-10)
        plot.addItem(image)
        line = pg.PlotCurveItem(connect="pairs")
        plot.addItem(line)
        # the class and the rest, training and held-out: one style per item
        points = [_cached_points(pg.ScatterPlotItem(pxMode=True)) for _ in range(4)]
        for item in points:
            item.setZValue(10)
            plot.addItem(item)
        return plot, image, line, points

    @property
    def _selected(self) -> int:
        shown = self.state.settings["map_class"]
        return 0 if shown is None else int(shown) + 1

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        for w in (self.widget, self.single_widget):
            w.setBackground(theme.background)
        lut = pg.colormap.get(theme.colormap).getLookupTable(0.0, 1.0, 256, alpha=False)
        bg = _rgb(theme.background)
        self._lut = np.ascontiguousarray((0.65 * lut + 0.35 * bg).astype(np.uint8))
        for plot, _image, line, _points in (*self.plots, self.single):
            _theme.style_plot(plot, theme, grid=False)
            line.setPen(theme.pen(theme.foreground, width=1.6))
        self.key.setFont(self._font(theme, 0.9))
        for w in (self.show_label, self.choice):
            w.setFont(self._font(theme))
        self._arranged = ()
        self._dirty_points = True

    def on_lab_event(self, name: str, **info):
        if name in ("data", "settings", "view"):
            self._dirty_points = True
            if not (name == "data" and info.get("kind") in ("move", "add", "remove")):
                self._frame_key = None
        return None

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        if self._arranged and self._arranged[1:] != self._shape():
            self._dirty_points = True
            self.schedule()

    def _shape(self) -> tuple[int, int]:
        return _grid_shape(self.state.n_classes, max(self.widget.width(), 1),
                           max(self.widget.height(), 1))

    def _arrange(self, K: int) -> None:
        shape = self._shape()
        if (K, *shape) == self._arranged:
            return
        rows, cols = shape
        # place_plots: the plots not shown stay hidden in the scene (never orphaned)
        place_plots(self.widget.ci, [plot for plot, *_ in self.plots],
                    [(self.plots[k][0], k // cols, k % cols) for k in range(K)])
        self._arranged = (K, *shape)

    def refresh(self) -> None:
        state = self.state
        theme = _theme.current()
        g = state.grid()
        K = state.n_classes
        if self._selected == 0:
            self._arrange(K)
            shown = [(self.plots[k], k) for k in range(K)]
        else:
            shown = [(self.single, self._selected - 1)]
        rect = _centred_rect(g.xs, g.ys)
        for (_plot, image, line, _points), k in shown:
            image.setImage(g.ovr[k], levels=(0.0, 1.0), lut=self._lut, autoLevels=False)
            image.setRect(rect)
            sx, sy = contour_segments(g.ovr[k], (0.5,), g.xs, g.ys)
            line.setData(sx, sy)
        if self._dirty_points:
            self._dirty_points = False
            self._draw_points(theme, shown)
        names = state.class_names
        e = state.extent
        axis = tuple(state.source.get("feature_names", ["x1", "x2"]))
        unit = " (standardised)" if state.source.get("standardized") else ""
        key = (self._selected, names, e, axis, unit, theme.name, theme.font_pt, self._arranged)
        if key != getattr(self, "_frame_key", None):
            self._frame_key = key
            self.stack.setCurrentIndex(0 if self._selected == 0 else 1)
            items = ["all classes"] + [f"{CLASS_GLYPHS[k]} {n} vs the rest"
                                       for k, n in enumerate(names)]
            self.choice.blockSignals(True)
            if [self.choice.itemText(i) for i in range(self.choice.count())] != items:
                self.choice.clear()
                self.choice.addItems(items)
            self.choice.setCurrentIndex(self._selected)
            self.choice.blockSignals(False)
            for (plot, _image, _line, _points), k in shown:
                plot.setTitle(f"<span style='color:{CLASS_COLOURS[k]}'>{CLASS_GLYPHS[k]}</span> "
                              f"{_esc(names[k])} vs the rest", size=f"{theme.font_pt:.0f}pt")
                plot.setXRange(-e, e, padding=0)
                plot.setYRange(-e, e, padding=0)
                plot.setLabel("bottom", _esc(axis[0]) + unit)
                plot.setLabel("left", _esc(axis[1]) + unit)

    def _draw_points(self, theme: _theme.Theme, shown) -> None:
        pf = self.state.points_figure()
        size = theme.marker_size * theme.scale * (0.8 if self._selected == 0 else 1.1)
        pos, neg = pg.mkBrush(theme.pos), pg.mkBrush(theme.neg)
        pos_pen = pg.mkPen(theme.pos, width=1.5 * theme.scale)
        neg_pen = pg.mkPen(theme.neg, width=1.5 * theme.scale)
        edge = pg.mkPen(theme.background, width=1.0)
        held = pf.heldout
        for (_plot, _image, _line, points), k in shown:
            mine = pf.labels == k
            for item, mask, brush, pen in (
                    (points[0], ~mine & ~held, neg, edge), (points[1], mine & ~held, pos, edge),
                    (points[2], ~mine & held, None, neg_pen),
                    (points[3], mine & held, None, pos_pen)):
                item.setData(pf.X[mask, 0], pf.X[mask, 1], size=size, brush=brush, pen=pen,
                             symbol="o")


# =========================================================================== ROC
class RocPanel(_LabPanel):
    """Per-class ROC curves on the held-out points: one-vs-rest solid, softmax dashed.

    Reads ``metrics_figure()`` (``roc``: fpr, tpr, AUC per class and model)
    and ``class_names``. Writes nothing.
    """

    title = "ROC per class (held-out)"
    panel_id = "roc"
    listens = ("data", "model", "settings")
    min_interval_ms = 200

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        theme = _theme.current()
        layout = self.vbox(self)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setObjectName("roc_plot")
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(False, False)
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.setYRange(0, 1, padding=0.02)
        self.diagonal = pg.PlotCurveItem([0, 1], [0, 1])
        self.plot.addItem(self.diagonal)
        self.ovr = [pg.PlotCurveItem() for _ in range(MAX_CLASSES)]
        self.soft = [pg.PlotCurveItem() for _ in range(MAX_CLASSES)]
        for item in (*self.ovr, *self.soft):
            self.plot.addItem(item)
        layout.addWidget(self.plot_widget, 1)
        self.table = QTableWidget(MAX_CLASSES, 3)
        self.table.setObjectName("roc_table")
        self.table.setHorizontalHeaderLabels(["class", "AUC one-vs-rest", "AUC softmax"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Area under each class's ROC curve, that class against the rest, "
                              "scored by its own probability")
        for r in range(MAX_CLASSES):
            for c in range(3):
                item = QTableWidgetItem("")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(r, c, item)
        layout.addWidget(self.table)
        self.note = _plain()
        self.note.setObjectName("roc_note")
        layout.addWidget(self.note)
        self.apply_theme(theme)
        self.refresh()

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        _theme.style_plot(self.plot, theme)
        self.plot_widget.setBackground(theme.background)
        self.plot.setLabel("bottom", "false positive rate")
        self.plot.setLabel("left", "true positive rate")
        self.diagonal.setPen(theme.pen(theme.muted, width=1.0, style=Qt.PenStyle.DotLine))
        for k in range(MAX_CLASSES):
            self.ovr[k].setPen(theme.pen(CLASS_COLOURS[k], width=2.2))
            self.soft[k].setPen(theme.pen(CLASS_COLOURS[k], width=1.5, style=Qt.PenStyle.DashLine))
        font = self._font(theme, 0.9)
        self.table.setFont(font)
        self.table.horizontalHeader().setFont(font)
        self.note.setFont(font)

    def refresh(self) -> None:
        state = self.state
        mf = state.metrics_figure()
        K = state.n_classes
        for k in range(MAX_CLASSES):
            if k < K:
                self.ovr[k].setData(mf.ovr.roc[k].fpr, mf.ovr.roc[k].tpr)
                self.soft[k].setData(mf.softmax.roc[k].fpr, mf.softmax.roc[k].tpr)
            else:
                self.ovr[k].setData([], [])
                self.soft[k].setData([], [])
        row_h = self.table.fontMetrics().height() + 8
        for r in range(MAX_CLASSES):
            self.table.setRowHidden(r, r >= K)
            self.table.setRowHeight(r, row_h)
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height()
                                  + K * row_h + 4)

        def auc(v) -> str:
            return "—" if v is None else f"{v:.3f}"

        for k in range(K):
            values = (f"{CLASS_GLYPHS[k]} {state.class_names[k]}", auc(mf.ovr.roc[k].auc),
                      auc(mf.softmax.roc[k].auc))
            for c, v in enumerate(values):
                item = self.table.item(k, c)
                if item.text() != v:
                    item.setText(v)
            self.table.item(k, 0).setForeground(pg.mkColor(CLASS_COLOURS[k]))
        where = (f"{mf.n_heldout} held-out points" if mf.roc_on == "held-out"
                 else "all points (the held-out split lacks a class)")
        self.note.setText(f"Solid: one-vs-rest, dashed: softmax; on {where}.")


# =========================================================================== confusion
class ConfusionPanel(_LabPanel):
    """Held-out confusion matrices of both models' argmax decisions (rows: true class).

    Reads ``metrics_figure()`` (``confusion``, accuracies, the held-out
    points where nobody says yes) and ``class_names``. Writes nothing.
    """

    title = "Confusion matrices (held-out)"
    panel_id = "confusion"
    listens = ("data", "model", "settings")
    min_interval_ms = 200

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.tables: list[QTableWidget] = []
        self.headings: list[QLabel] = []
        # one above the other: each matrix gets the panel's whole width for its K columns
        row = QVBoxLayout()
        for name in ("ovr", "softmax"):
            col = QVBoxLayout()
            heading = _plain()
            heading.setObjectName(f"confusion_{name}_heading")
            col.addWidget(heading)
            table = QTableWidget(MAX_CLASSES, MAX_CLASSES)
            table.setObjectName(f"confusion_{name}")
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
            table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            table.setToolTip("Rows: the true class; columns: the class decided by argmax; "
                             "held-out points only")
            for r in range(MAX_CLASSES):
                for c in range(MAX_CLASSES):
                    item = QTableWidgetItem("")
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    table.setItem(r, c, item)
            col.addWidget(table, 1)
            row.addLayout(col)
            self.tables.append(table)
            self.headings.append(heading)
        layout.addLayout(row, 1)
        self.note = _plain()
        self.note.setObjectName("confusion_note")
        layout.addWidget(self.note)
        self.apply_theme(_theme.current())
        self.refresh()

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        font = self._font(theme)
        for t in self.tables:
            t.setFont(font)
            t.horizontalHeader().setFont(self._font(theme, 0.9))
            t.verticalHeader().setFont(self._font(theme, 0.9))
            t.verticalHeader().setMinimumSectionSize(t.fontMetrics().height() + 2)
        for h in self.headings:
            bold = self._font(theme)
            bold.setBold(True)
            h.setFont(bold)
        self.note.setFont(self._font(theme, 0.9))
        self._theme = theme

    def refresh(self) -> None:
        state = self.state
        mf = state.metrics_figure()
        K = state.n_classes
        names = [f"{CLASS_GLYPHS[k]} {n}" for k, n in enumerate(state.class_names)]
        theme = getattr(self, "_theme", _theme.current())
        for table, heading, model, title in ((self.tables[0], self.headings[0], mf.ovr,
                                              "one-vs-rest"),
                                             (self.tables[1], self.headings[1], mf.softmax,
                                              "softmax")):
            heading.setText(f"{title}: {100 * model.heldout_accuracy:.1f} % right")
            table.setRowCount(K)
            table.setColumnCount(K)
            table.setHorizontalHeaderLabels(names)
            table.setVerticalHeaderLabels(names)
            conf = model.confusion
            rows = conf.sum(axis=1)
            for r in range(K):
                for c in range(K):
                    item = table.item(r, c)
                    if item is None:
                        item = QTableWidgetItem("")
                        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                        table.setItem(r, c, item)
                    text = str(int(conf[r, c]))
                    if item.text() != text:
                        item.setText(text)
                    share = conf[r, c] / rows[r] if rows[r] else 0.0
                    colour = CLASS_COLOURS[r] if r == c else theme.pos
                    rgb = _blend(colour, theme.background, 0.6 * share).astype(int)
                    item.setBackground(QColor(*rgb))
        self.note.setText(
            f"{mf.n_heldout} held-out points; for {mf.heldout_nobody} of them no one-vs-rest "
            f"sigmoid says yes and for {mf.heldout_several} several do (argmax decides anyway).")


# =========================================================================== code
class CodePanel(_LabPanel):
    """"Copy as code": both models in scikit-learn (OneVsRestClassifier(LogisticRegression))
    or PyTorch. Reads ``code(framework)``; writes the clipboard."""

    title = "Copy as code"
    panel_id = "code"
    listens = ("data", "model", "settings")
    min_interval_ms = 250
    FRAMEWORKS = (("sklearn", "scikit-learn"), ("pytorch", "PyTorch"))

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        row = QHBoxLayout()
        self.framework = QComboBox()
        for key, title in self.FRAMEWORKS:
            self.framework.addItem(title, key)
        self.framework.setToolTip("Framework of the snippet")
        self.framework.currentIndexChanged.connect(lambda _i: self.schedule())
        row.addWidget(self.framework)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Put the snippet on the clipboard")
        self.copy_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.copy_button.clicked.connect(self.copy)
        row.addWidget(self.copy_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.text = QPlainTextEdit()
        self.text.setObjectName("code_text")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setToolTip("The snippet (plain text); it reproduces what the lab shows")
        layout.addWidget(self.text, 1)
        self.apply_theme(_theme.current())
        self.refresh()

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(theme.font_pt * 0.9)
        self.text.setFont(font)

    def current_code(self) -> str:
        return self.state.code(self.framework.currentData())

    def copy(self) -> None:
        QApplication.clipboard().setText(self.current_code())
        self.state.set_status("Code copied to the clipboard")

    def refresh(self) -> None:
        code = self.current_code()
        if code != self.text.toPlainText():
            bar = self.text.verticalScrollBar()
            pos = bar.value()
            self.text.setPlainText(code)
            bar.setValue(pos)


# =========================================================================== controls
class MulticlassControls(_LabPanel):
    """The lab's settings: training, the data set, auto-fit, the penalty.

    Reads ``settings``, ``running``, ``data_description()``. Writes
    ``set_running``, ``step``, ``reset``, ``fit``, ``update``, ``new_data``,
    ``load_csv``. A refused change is reported in the status bar and the
    widgets snap back to the state.
    """

    title = "Controls"
    panel_id = "controls"
    listens = ("data", "settings", "running")

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
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

        row = QHBoxLayout()
        row.setSpacing(4)
        self.play_button = self._button("Play", "Start or pause training (Space)",
                                        lambda: self._guard(self.state.set_running,
                                                            not self.state.running))
        self.step_button = self._button("Step", "One gradient step of both models",
                                        self._on_step)
        self.reset_button = self._button("Reset", "Both models back to their start",
                                         lambda: self._guard(self.state.reset))
        self.fit_button = self._button("Fit", "Both models to their optima",
                                       lambda: self._guard(self.state.fit))
        for b in (self.play_button, self.step_button, self.reset_button, self.fit_button):
            row.addWidget(b)
        layout.addLayout(row)

        box, form = self._group("Data (illustrative)")
        self.dataset = QComboBox()
        for key, title in DATASET_TITLES.items():
            self.dataset.addItem(title, key)
        self.dataset.setToolTip("Where the class clusters sit: on a ring, in a row "
                                "(a middle class), or at random")
        self.dataset.currentIndexChanged.connect(
            lambda _i: self._guard(self.state.update, dataset=self.dataset.currentData()))
        form.addRow(self._label("data set", self.dataset.toolTip()), self.dataset)
        self.n_classes = QSpinBox()
        self.n_classes.setRange(MIN_CLASSES, MAX_CLASSES)
        self.n_classes.setToolTip("Number of classes K (3 to 5)")
        self.n_classes.valueChanged.connect(
            lambda v: self._guard(self.state.update, n_classes=int(v)))
        form.addRow(self._label("classes K", self.n_classes.toolTip()), self.n_classes)
        self.n_points = QSpinBox()
        self.n_points.setRange(20, 2000)
        self.n_points.setSingleStep(40)
        self.n_points.setKeyboardTracking(False)
        self.n_points.setToolTip("Number of points (20 to 2,000), a share of them held out")
        self.n_points.valueChanged.connect(
            lambda v: self._guard(self.state.update, n_points=int(v)))
        form.addRow(self._label("points", self.n_points.toolTip()), self.n_points)
        self.spread = self._value(form, "spread", 0.05, 3.0, 2,
                                  "Standard deviation of each cluster (data units)",
                                  lambda v: self.state.update(spread=v))
        data_row = QHBoxLayout()
        self.new_button = self._button("New data", "The next seed's points",
                                       lambda: self._guard(self.state.new_data))
        self.load_button = self._button("Load CSV…", "A file with x1, x2 and an integer class "
                                        "column (3 to 5 classes)", self._load)
        data_row.addWidget(self.new_button)
        data_row.addWidget(self.load_button)
        form.addRow(data_row)
        layout.addWidget(box)
        self.description = _plain()
        self.description.setObjectName("controls_description")
        self.description.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout.addWidget(self.description)

        box, form = self._group("Models")
        self.auto_fit = QCheckBox("refit after every edit")
        self.auto_fit.setToolTip("While paused, moving, adding or deleting a point puts both "
                                 "models at their new optima")
        self.auto_fit.toggled.connect(lambda on: self._guard(self.state.update, auto_fit=on))
        form.addRow(self.auto_fit)
        self.start = QComboBox()
        self.start.addItem("the optima", "fit")
        self.start.addItem("zero weights", "zero")
        self.start.setToolTip("Where Reset puts the models: at their optima or at w = 0 "
                              "(p = 0.5 everywhere), to watch them learn")
        self.start.currentIndexChanged.connect(
            lambda _i: self._guard(self.state.update, start=self.start.currentData()))
        form.addRow(self._label("reset to", self.start.toolTip()), self.start)
        self.optimizer = QComboBox()
        self.optimizer.addItem("Gradient descent", "gd")
        self.optimizer.addItem("Adam", "adam")
        self.optimizer.setToolTip("Full-batch optimizer of both models' live training")
        self.optimizer.currentIndexChanged.connect(
            lambda _i: self._guard(self.state.update, optimizer=self.optimizer.currentData()))
        form.addRow(self._label("optimizer", self.optimizer.toolTip()), self.optimizer)
        self.lr = self._value(form, "rate", 1e-3, 50.0, 3, "Learning rate",
                              lambda v: self.state.update(lr=v), log=True)
        self.l2 = self._value(form, "L2 λ", 1e-4, 10.0, 4,
                              "λ/2 ‖W‖² on the weights of both models (biases free); "
                              "C = 1/(λ n) in scikit-learn; 0 at the left end",
                              lambda v: self.state.update(l2=v), log=True, zero=True)
        self.speed = QSpinBox()
        self.speed.setRange(1, 100)
        self.speed.setToolTip("Training steps per frame while playing")
        self.speed.valueChanged.connect(
            lambda v: self._guard(self.state.update, steps_per_frame=int(v)))
        form.addRow(self._label("steps/frame", self.speed.toolTip()), self.speed)
        layout.addWidget(box)
        layout.addStretch(1)
        self.apply_theme(_theme.current())
        self.refresh()

    def _group(self, title: str) -> tuple[QGroupBox, QFormLayout]:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setContentsMargins(4, 4, 4, 4)
        form.setHorizontalSpacing(6)
        form.setVerticalSpacing(3)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return box, form

    @staticmethod
    def _label(text: str, tip: str) -> QLabel:
        label = QLabel(text)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setToolTip(tip)
        return label

    def _button(self, text: str, tip: str, slot: Callable) -> QPushButton:
        button = QPushButton(text)
        button.setMinimumWidth(10)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        return button

    def _value(self, form: QFormLayout, label: str, lo: float, hi: float, decimals: int,
               tip: str, apply: Callable, *, log: bool = False,
               zero: bool = False) -> ValueControl:
        control = ValueControl(lo, hi, log=log, zero=zero, decimals=decimals, tooltip=tip)
        control.valueChanged.connect(lambda v: self._guard(apply, v))
        form.addRow(self._label(label, tip), control)
        return control

    def _on_step(self) -> None:
        if self.state.running:
            self.state.set_running(False)
        self._guard(self.state.step, 1)

    def _load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a CSV of classes", "",
                                              "CSV files (*.csv *.tsv *.txt);;All files (*)")
        if path:
            self._guard(self.state.load_csv, path)

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        font = self._font(theme)
        for w in self.findChildren(QWidget):
            w.setFont(font)

    def refresh(self) -> None:
        state, s = self.state, self.state.settings
        self.play_button.setText("Pause" if state.running else "Play")
        for w, value in ((self.n_classes, s["n_classes"]), (self.n_points, s["n_points"]),
                         (self.speed, s["steps_per_frame"])):
            if w.value() != value:
                w.blockSignals(True)
                w.setValue(value)
                w.blockSignals(False)
        for combo, value in ((self.dataset, s["dataset"]), (self.optimizer, s["optimizer"]),
                             (self.start, s["start"])):
            i = combo.findData(value)
            combo.blockSignals(True)
            combo.setCurrentIndex(i)  # -1 for a file: no generator chosen
            combo.blockSignals(False)
        self.auto_fit.blockSignals(True)
        self.auto_fit.setChecked(s["auto_fit"])
        self.auto_fit.blockSignals(False)
        self.spread.setEnabled(s["dataset"] != "file")
        self.spread.set_value(s["spread"])
        self.lr.set_value(s["lr"])
        self.l2.set_value(s["l2"])
        self.description.setText(state.data_description())


PANELS = {"decision": DecisionPanel, "softmax": SoftmaxPanel, "classmaps": ClassMapsPanel,
          "roc": RocPanel, "confusion": ConfusionPanel, "code": CodePanel}
CONTROLS = MulticlassControls

__all__ = ["CONTROLS", "PANELS", "ClassMapsPanel", "CodePanel", "ConfusionPanel",
           "DecisionPanel", "MulticlassControls", "RocPanel", "SoftmaxPanel"]
