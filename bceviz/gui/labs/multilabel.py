"""The multi-label lab's panels: a probability map per label, their sum, the Hessian, the thresholds.

Every panel reads :class:`bceviz.model.labs.multilabel.MultilabelState` and
its cached figures (``grid()``, ``points_figure()``, ``hessian_figure()``,
``threshold_figure()``, ``code()``) and writes back only through the state's
methods (``update``, ``set_pos_weight``, ``set_cost_ratio``, ``fit``,
``load_csv``, ...). A training step (``model`` with ``reason="step"``) redraws
the maps and the Hessian paced like the other labs' live panels; the
threshold table redraws at most ten times a second, the code four times.

Label names can come from a file's header: they are escaped wherever
pyqtgraph renders HTML (titles, axis labels) and shown as plain text in
Qt widgets.
"""

from __future__ import annotations

import html
import math
from typing import Callable, Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontDatabase, QPainterPath
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
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
    QWidget,
)

from bceviz.gui import theme as _theme
from bceviz.gui.contours import contour_segments
from bceviz.gui.panels.base import Panel, place_plots
from bceviz.gui.panels.controls import ValueControl
from bceviz.gui.rendering import RGB32ImageItem
from bceviz.gui.widgets import apply_palette, label_color, num
from bceviz.model.labs.base import LabError
from bceviz.model.labs.multilabel import MAX_HIDDEN, MAX_LABELS, MIN_LABELS

#: One colour per label (ColorBrewer Dark2: tells four labels apart, also in grey print).
LABEL_COLOURS = ("#d95f02", "#1b9e77", "#7570b3", "#e7298a")
DATASET_TITLES = {"independent": "independent labels", "correlated": "correlated labels",
                  "overlapping": "overlapping labels", "rare": "rare labels",
                  "file": "from a file"}


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


def _lut(name: str, background: str, fade: float = 0.35) -> np.ndarray:
    """A colormap's 256 colours, faded towards the background so points stay visible."""
    lut = pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False).astype(float)
    bg = np.array(pg.mkColor(background).getRgb()[:3], float)
    return np.ascontiguousarray(((1 - fade) * lut + fade * bg).astype(np.uint8))


def _centred_rect(xs: np.ndarray, ys: np.ndarray) -> QRectF:
    """The image rectangle whose pixel centres sit on the grid points xs × ys."""
    hx = (xs[-1] - xs[0]) / (len(xs) - 1)
    hy = (ys[-1] - ys[0]) / (len(ys) - 1)
    return QRectF(xs[0] - hx / 2, ys[0] - hy / 2, xs[-1] - xs[0] + hx, ys[-1] - ys[0] + hy)


def _grid_shape(n: int, width: int, height: int) -> tuple[int, int]:
    """Rows and columns for n plots that keep each plot closest to square."""
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


def _wedge(k: int, n: int) -> QPainterPath:
    """Slice k of n of a unit disc (a pyqtgraph symbol: centred, size 1)."""
    path = QPainterPath()
    path.moveTo(0.0, 0.0)
    start = 90.0 - 360.0 * k / n
    path.arcTo(QRectF(-0.5, -0.5, 1.0, 1.0), start, -360.0 / n)
    path.closeSubpath()
    return path


class _MapPlot:
    """One probability map in a plot: image, the p = 0.5 contour, training and held-out points."""

    def __init__(self, plot: pg.PlotItem, theme: _theme.Theme) -> None:
        self.plot = plot
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(False, False)
        plot.getViewBox().setAspectLocked(True)
        self.image = RGB32ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        plot.addItem(self.image)
        self.contour = pg.PlotCurveItem(connect="pairs")
        self.contour.setZValue(5)
        plot.addItem(self.contour)
        self.threshold = pg.PlotCurveItem(connect="pairs")
        self.threshold.setZValue(6)
        plot.addItem(self.threshold)
        self.train = _cached_points(pg.ScatterPlotItem(pxMode=True, symbol="o"))
        self.train.setZValue(10)
        plot.addItem(self.train)
        self.held = _cached_points(pg.ScatterPlotItem(pxMode=True, symbol="s"))
        self.held.setZValue(9)
        plot.addItem(self.held)
        self.style(theme)

    def style(self, theme: _theme.Theme) -> None:
        _theme.style_plot(self.plot, theme, grid=False)
        self.contour.setPen(theme.pen(theme.foreground, width=1.6))
        self.threshold.setPen(theme.pen(theme.accent, width=2.0))

    def set_range(self, extent: float) -> None:
        self.plot.setXRange(-extent, extent, padding=0)
        self.plot.setYRange(-extent, extent, padding=0)


# =========================================================================== maps
class MapsPanel(_LabPanel):
    """P(label k) over the plane, one map per label, with the points coloured by that label.

    Reads ``grid()`` (the maps), ``points_figure()`` (points, labels, held-out
    mask), ``label_names``, ``show_heldout``. Writes nothing. "All" shows the
    maps side by side; a label's button shows that one large.
    """

    title = "Probability map per label"
    panel_id = "maps"
    listens = ("data", "model", "settings", "view")

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        theme = _theme.current()
        layout = self.vbox(self)
        row = QHBoxLayout()
        row.setSpacing(3)
        self.show_label = QLabel("Show")
        self.show_label.setToolTip("Every label's map side by side, or one label's map large")
        row.addWidget(self.show_label)
        # a combo box, not a row of buttons: it stays narrow whatever the names and the font
        self.choice = QComboBox()
        self.choice.setToolTip(self.show_label.toolTip())
        self.choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.choice.activated.connect(
            lambda i: self._guard(self.state.set_map_label, None if i == 0 else i - 1))
        row.addWidget(self.choice)
        row.addStretch(1)
        layout.addLayout(row)

        self.stack = QStackedWidget()
        self.grid_widget = pg.GraphicsLayoutWidget()
        self.grid_widget.setObjectName("maps_grid")
        self.grid_widget.ci.setSpacing(0)
        self.grid_widget.ci.setContentsMargins(0, 0, 0, 0)
        self.maps = [_MapPlot(pg.PlotItem(), theme) for _ in range(MAX_LABELS)]
        self.single_widget = pg.PlotWidget()
        self.single_widget.setObjectName("maps_single")
        self.single = _MapPlot(self.single_widget.getPlotItem(), theme)
        self.stack.addWidget(self.grid_widget)
        self.stack.addWidget(self.single_widget)
        layout.addWidget(self.stack, 1)
        self.legend = _plain()
        self.legend.setObjectName("maps_legend")
        self.legend.setText("Red: label 1, blue: label 0 · squares: held-out points · "
                            "black line: p = 0.5 · orange line (one label's map): p = t, "
                            "its threshold")
        layout.addWidget(self.legend)
        self._arranged: tuple = ()
        self._dirty_points = True
        self._lut = _lut(theme.colormap, theme.background)
        self._apply_fonts(theme)
        self.refresh()

    def _apply_fonts(self, theme: _theme.Theme) -> None:
        self.legend.setFont(self._font(theme, 0.9))
        for w in (self.show_label, self.choice):
            w.setFont(self._font(theme))

    def _guard(self, fn: Callable, *args) -> None:
        try:
            fn(*args)
        except LabError as exc:
            self.state.set_status(str(exc), "error")

    @property
    def _selected(self) -> int:
        """0: every map; k + 1: label k's map large."""
        shown = self.state.settings["map_label"]
        return 0 if shown is None else int(shown) + 1

    def on_lab_event(self, name: str, **info):
        if name in ("data", "view", "settings"):
            self._dirty_points = True
        return None

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self._lut = _lut(theme.colormap, theme.background)
        for m in (*self.maps, self.single):
            m.style(theme)
        for w in (self.grid_widget, self.single_widget):
            w.setBackground(theme.background)
        self._apply_fonts(theme)
        self._arranged = ()
        self._dirty_points = True

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        if self._arranged and self._arranged[1:] != self._shape():
            self._dirty_points = True
            self.schedule()

    def _shape(self) -> tuple[int, int]:
        K = self.state.n_labels
        return _grid_shape(K, max(self.grid_widget.width(), 1), max(self.grid_widget.height(), 1))

    def _arrange(self, K: int) -> None:
        shape = self._shape()
        key = (K, *shape)
        if key == self._arranged:
            return
        rows, cols = shape
        # place_plots: the maps not shown stay hidden in the scene (never orphaned)
        place_plots(self.grid_widget.ci, [m.plot for m in self.maps],
                    [(self.maps[k].plot, k // cols, k % cols) for k in range(K)])
        self._arranged = key

    def _label_choice(self, names) -> None:
        items = ["all labels"] + [f"label {n}" for n in names]
        if [self.choice.itemText(i) for i in range(self.choice.count())] != items:
            self.choice.blockSignals(True)
            self.choice.clear()
            self.choice.addItems(items)
            self.choice.blockSignals(False)
        if self.choice.currentIndex() != self._selected:
            self.choice.blockSignals(True)
            self.choice.setCurrentIndex(self._selected)
            self.choice.blockSignals(False)

    def refresh(self) -> None:
        state = self.state
        theme = _theme.current()
        g = state.grid()
        pf = state.points_figure()
        K = state.n_labels
        names = state.label_names
        if self._dirty_points:
            self._label_choice(names)
            self.stack.setCurrentIndex(0 if self._selected == 0 else 1)
        if self._selected == 0:
            self._arrange(K)
            shown = [(self.maps[k], k) for k in range(K)]
        else:
            shown = [(self.single, self._selected - 1)]
        rect = _centred_rect(g.xs, g.ys)
        thresholds = state.thresholds() if self._selected else None
        for m, k in shown:
            m.image.setImage(g.P[k], levels=(0.0, 1.0), lut=self._lut, autoLevels=False)
            m.image.setRect(rect)
            sx, sy = contour_segments(g.P[k], (0.5,), g.xs, g.ys)
            m.contour.setData(sx, sy)
            t = float(thresholds[k]) if thresholds is not None else 0.5
            # in the small maps the 0.5 line alone: the chosen t shows on a label's own map
            if self._selected and abs(t - 0.5) > 0.01 and 0.0 < t < 1.0:
                sx, sy = contour_segments(g.P[k], (t,), g.xs, g.ys)
                m.threshold.setData(sx, sy)
            else:
                m.threshold.setData([], [])
        if self._dirty_points:
            pt = theme.font_pt
            size = theme.marker_size * theme.scale * (0.85 if self._selected == 0 else 1.1)
            train, held = ~pf.heldout, pf.heldout
            for m, k in shown:
                colour = LABEL_COLOURS[k % len(LABEL_COLOURS)]
                m.plot.setTitle(f"<span style='color:{colour}'>■</span> "
                                f"p({_esc(names[k])})", size=f"{pt:.0f}pt")
                m.set_range(g.extent)
                brushes = [pg.mkBrush(label_color(theme, y)) for y in pf.Y[train, k]]
                m.train.setData(pf.X[train, 0], pf.X[train, 1], size=size, brush=brushes,
                                pen=pg.mkPen(theme.background, width=1))
                if state.show_heldout and held.any():
                    pens = [pg.mkPen(label_color(theme, y), width=1.6 * theme.scale)
                            for y in pf.Y[held, k]]
                    m.held.setData(pf.X[held, 0], pf.X[held, 1], size=size, brush=None, pen=pens)
                else:
                    m.held.setData([], [])
                names_axis = self.state.source.get("feature_names", ["x1", "x2"])
                unit = " (standardised)" if self.state.source.get("standardized") else ""
                m.plot.setLabel("bottom", _esc(names_axis[0]) + unit)
                m.plot.setLabel("left", _esc(names_axis[1]) + unit)
            self._dirty_points = False


# =========================================================================== sum
class SumPanel(_LabPanel):
    """Σ_k P(label k) over the plane (it may exceed 1), each point as a pie of its labels.

    Reads ``grid()`` (``sum``, ``sum_max``, ``above_one_share``),
    ``points_figure()`` (label sets) and ``label_names``. Writes nothing.
    """

    title = "Sum of the label probabilities"
    panel_id = "sum"
    listens = ("data", "model", "settings", "view")

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        theme = _theme.current()
        layout = self.vbox(self)
        self.key = QLabel()
        self.key.setObjectName("sum_key")
        self.key.setTextFormat(Qt.TextFormat.RichText)
        self.key.setWordWrap(True)
        self.key.setToolTip("Each point is a pie: one slice per label it carries")
        layout.addWidget(self.key)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setObjectName("sum_plot")
        self.map = _MapPlot(self.plot_widget.getPlotItem(), theme)
        self.map.contour.setPen(pg.mkPen("#ffffff", width=2.0 * theme.scale))
        self.colorbar = pg.ColorBarItem(values=(0.0, 2.0), colorMap=pg.colormap.get("viridis"),
                                        label="Σ p", interactive=False, width=14)
        self.colorbar.setImageItem(self.map.image, insert_in=self.map.plot)
        self.rings = _cached_points(pg.ScatterPlotItem(pxMode=True, symbol="o", brush=None))
        self.rings.setZValue(11)
        self.map.plot.addItem(self.rings)
        self.slices = []
        for _ in range(MAX_LABELS):
            item = _cached_points(pg.ScatterPlotItem(pxMode=True))
            item.setZValue(12)
            self.map.plot.addItem(item)
            self.slices.append(item)
        layout.addWidget(self.plot_widget, 1)
        self.readout = _plain()
        self.readout.setObjectName("sum_readout")
        layout.addWidget(self.readout)
        self._dirty_points = True
        self._lut = _lut("viridis", theme.background, fade=0.15)
        self._style_colorbar(theme)
        self._apply_fonts(theme)
        self.refresh()

    def _apply_fonts(self, theme: _theme.Theme) -> None:
        self.key.setFont(self._font(theme, 0.9))
        self.readout.setFont(self._font(theme, 0.95))

    def _style_colorbar(self, theme: _theme.Theme) -> None:
        font = self._font(theme, 0.85)
        for name in ("left", "right", "top", "bottom"):
            axis = self.colorbar.getAxis(name)
            if axis is not None:
                axis.setPen(theme.pen(theme.foreground, width=1))
                axis.setTextPen(theme.pen(theme.foreground, width=1))
                axis.setTickFont(font)
                axis.label.setFont(font)

    def on_lab_event(self, name: str, **info):
        if name in ("data", "view", "settings"):
            self._dirty_points = True
        return None

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self.map.style(theme)
        self.map.contour.setPen(pg.mkPen("#ffffff", width=2.0 * theme.scale))
        self.plot_widget.setBackground(theme.background)
        self._lut = _lut("viridis", theme.background, fade=0.15)
        self._style_colorbar(theme)
        self._apply_fonts(theme)
        self._dirty_points = True

    def refresh(self) -> None:
        state = self.state
        theme = _theme.current()
        g = state.grid()
        K = state.n_labels
        self.map.image.setImage(g.sum, levels=(0.0, float(K)), lut=self._lut, autoLevels=False)
        self.map.image.setRect(_centred_rect(g.xs, g.ys))
        sx, sy = contour_segments(g.sum, (1.0,), g.xs, g.ys)
        self.map.contour.setData(sx, sy)
        pf = state.points_figure()
        self.readout.setText(
            f"{100 * pf.multi_share:.0f} % of the points carry two or more labels. Σ p runs "
            f"from {g.sum_min:.2f} to {g.sum_max:.2f} and is above 1 (white line) on "
            f"{100 * g.above_one_share:.0f} % of the map: nothing makes the sigmoids share "
            "one unit of probability.")
        if self._dirty_points:
            self._dirty_points = False
            self.colorbar.setLevels((0.0, float(K)))
            size = theme.marker_size * theme.scale * 1.5
            self.map.set_range(g.extent)
            self.rings.setData(pf.X[:, 0], pf.X[:, 1], size=size,
                               pen=pg.mkPen(theme.muted, width=1.0))
            for k, item in enumerate(self.slices):
                if k < K:
                    on = pf.hard[:, k]
                    item.setData(pf.X[on, 0], pf.X[on, 1], size=size, symbol=_wedge(k, K),
                                 brush=pg.mkBrush(LABEL_COLOURS[k]), pen=None)
                else:
                    item.setData([], [])
            parts = [f"<span style='color:{LABEL_COLOURS[k]}'>◆</span> {_esc(n)}"
                     for k, n in enumerate(state.label_names)]
            self.key.setText("Each point is a pie of the labels it carries: "
                             + " &nbsp; ".join(parts))
            names_axis = state.source.get("feature_names", ["x1", "x2"])
            unit = " (standardised)" if state.source.get("standardized") else ""
            self.map.plot.setLabel("bottom", _esc(names_axis[0]) + unit)
            self.map.plot.setLabel("left", _esc(names_axis[1]) + unit)


# =========================================================================== Hessian
class HessianPanel(_LabPanel):
    """The Hessian of the objective as a heatmap, grouped label by label (then the shared units).

    Reads ``hessian_figure()``. Zero entries are white; the colour of an entry
    grows with log |H| (red positive, blue negative); an off-diagonal block
    between two heads is marked "0" when it is exactly zero. Writes nothing.
    """

    title = "Hessian of the loss"
    panel_id = "hessian"
    listens = ("data", "model", "settings")

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        theme = _theme.current()
        layout = self.vbox(self)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setObjectName("hessian_plot")
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(False, False)
        vb = self.plot.getViewBox()
        vb.invertY(True)
        vb.setAspectLocked(True)
        # the columns are the rows' parameters again: named once, on the left
        self.plot.getAxis("bottom").setStyle(showValues=False)
        self.image = RGB32ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.lines = pg.PlotCurveItem(connect="pairs")
        self.lines.setZValue(5)
        self.plot.addItem(self.lines)
        self.zeros: list[pg.TextItem] = []
        for _ in range(MAX_LABELS * (MAX_LABELS - 1)):
            t = pg.TextItem("0", anchor=(0.5, 0.5))
            t.setZValue(6)
            self.plot.addItem(t)
            self.zeros.append(t)
        layout.addWidget(self.plot_widget, 1)
        self.readout = _plain()
        self.readout.setObjectName("hessian_readout")
        layout.addWidget(self.readout)
        self._key = None
        self._style(theme)
        self.refresh()

    def _style(self, theme: _theme.Theme) -> None:
        _theme.style_plot(self.plot, theme, grid=False)
        self.lines.setPen(theme.pen(theme.foreground, width=1.2))
        self.plot_widget.setBackground(theme.background)
        lut = pg.colormap.get("CET-D1").getLookupTable(0.0, 1.0, 255, alpha=False)
        lut[127] = pg.mkColor(theme.background).getRgb()[:3]  # exact zero: the background
        self._lut = np.ascontiguousarray(lut.astype(np.uint8))
        font = self._font(theme, 1.2)
        font.setBold(True)
        for t in self.zeros:
            t.setFont(font)
            t.setColor(pg.mkColor(theme.muted))
        self.readout.setFont(self._font(theme, 0.95))
        self._key = None

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self._style(theme)

    def refresh(self) -> None:
        fig = self.state.hessian_figure()
        H = fig.H
        P = H.shape[0]
        big = float(np.abs(H).max()) or 1.0
        tau = big * 1e-4
        # signed log scale: |H| from 1e-4 · max to max spans the colours; exact 0 is white
        scaled = np.sign(H) * np.log10(1.0 + np.abs(H) / tau)
        top = math.log10(1.0 + big / tau)
        # 255 colours, index 127 the exact zero: levels symmetric about 0
        self.image.setImage(scaled, levels=(-top * 255 / 254, top * 255 / 254), lut=self._lut,
                            autoLevels=False)
        self.image.setRect(QRectF(0, 0, P, P))
        key = (fig.block_sizes, fig.block_names)
        edges = np.concatenate([[0], np.cumsum(fig.block_sizes)])
        if key != self._key:
            self._key = key
            xs, ys = [], []
            for e in edges:
                xs += [e, e, 0, P]
                ys += [0, P, e, e]
            self.lines.setData(np.array(xs, float), np.array(ys, float))
            centres = [(edges[i] + edges[i + 1]) / 2 for i in range(len(fig.block_sizes))]
            ticks = [list(zip(centres, fig.block_names))]
            self.plot.getAxis("bottom").setTicks(ticks)
            self.plot.getAxis("left").setTicks(ticks)
            self.plot.setLabel("left", "each label's w, b" + (", then units h" if fig.shared
                                                             else ""))
            self.plot.setXRange(0, P, padding=0.01)
            self.plot.setYRange(0, P, padding=0.01)
        K = fig.n_heads
        used = 0
        for r in range(K):
            for c in range(K):
                if r == c or fig.block_max[r, c] != 0.0:
                    continue
                t = self.zeros[used]
                t.setPos((edges[c] + edges[c + 1]) / 2, (edges[r] + edges[r + 1]) / 2)
                t.setVisible(True)
                used += 1
        for t in self.zeros[used:]:
            t.setVisible(False)
        if fig.shared:
            self.readout.setText(
                f"Head with head: max |H| = {num(fig.head_head_max)}, still exactly. Head with "
                f"shared unit h: max |H| = {num(fig.head_shared_max or 0.0)}. Every label's loss "
                "depends on the shared units: independence holds for the heads, not for what "
                "they share.")
        else:
            self.readout.setText(
                f"Off-diagonal blocks: max |H| = {num(fig.head_head_max)}, exactly. Each label's "
                "loss depends on its own w and b only: learning one label never moves another. "
                "(White: 0; colour ∝ log |H|.)")


# =========================================================================== thresholds
class ThresholdsPanel(_LabPanel):
    """Per-label thresholds chosen on the held-out split, against 0.5, with precision and recall.

    Reads ``threshold_figure()`` (thresholds, metric curves, precision and
    recall on training and held-out points) and ``label_names``. The plot shows
    each label's held-out F1 (or cost) against the threshold, the chosen
    threshold marked, 0.5 dashed. Writes nothing.
    """

    title = "Thresholds per label, on held-out data"
    panel_id = "thresholds"
    listens = ("data", "model", "settings")
    min_interval_ms = 200

    COLUMNS = ("label", "t", "held-out @0.5", "held-out @t", "train @t")

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        theme = _theme.current()
        layout = self.vbox(self)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setObjectName("thresholds_plot")
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(False, False)
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.setLabel("bottom", "threshold t on p")
        self.half = pg.InfiniteLine(0.5, angle=90, movable=False)
        self.plot.addItem(self.half)
        self.curves = [pg.PlotCurveItem() for _ in range(MAX_LABELS)]
        self.marks = [pg.ScatterPlotItem(pxMode=True, symbol="o") for _ in range(MAX_LABELS)]
        for item in (*self.curves, *self.marks):
            self.plot.addItem(item)
        layout.addWidget(self.plot_widget, 3)
        self.table = QTableWidget(MAX_LABELS, len(self.COLUMNS))
        self.table.setObjectName("thresholds_table")
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setToolTip("P: precision, R: recall. t: the threshold chosen per label on "
                              "the held-out points; 0.5 is the usual default")
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        for r in range(MAX_LABELS):
            for c in range(len(self.COLUMNS)):
                item = QTableWidgetItem("")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(r, c, item)
        layout.addWidget(self.table, 0)
        self.note = _plain()
        self.note.setObjectName("thresholds_note")
        layout.addWidget(self.note)
        self._style(theme)
        self.refresh()

    def _style(self, theme: _theme.Theme) -> None:
        _theme.style_plot(self.plot, theme)
        self.plot_widget.setBackground(theme.background)
        self.half.setPen(theme.pen(theme.muted, width=1.5, style=Qt.PenStyle.DashLine))
        for k, c in enumerate(self.curves):
            c.setPen(theme.pen(LABEL_COLOURS[k], width=2.0))
        for k, m in enumerate(self.marks):
            m.setPen(pg.mkPen(theme.foreground, width=1.2))
            m.setBrush(pg.mkBrush(LABEL_COLOURS[k]))
            m.setSize(11 * theme.scale)
        font = self._font(theme, 0.9)
        self.table.setFont(font)
        self.table.horizontalHeader().setFont(font)
        self.note.setFont(self._font(theme, 0.9))
        self._fit_table()

    def _fit_table(self) -> None:
        rows = self.state.n_labels
        h = self.table.horizontalHeader().sizeHint().height()
        row_h = self.table.fontMetrics().height() + 8
        for r in range(MAX_LABELS):
            self.table.setRowHeight(r, row_h)
            self.table.setRowHidden(r, r >= rows)
        self.table.setFixedHeight(h + rows * row_h + 4)

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self._style(theme)

    def refresh(self) -> None:
        fig = self.state.threshold_figure()
        metric_name = "held-out F1" if fig.metric == "f1" else "held-out cost per point"
        self.plot.setLabel("left", metric_name)
        t = fig.thresholds
        top = 1.0
        for k, item in enumerate(self.curves):
            if k < len(fig.labels):
                lt = fig.labels[k]
                item.setData(t, lt.curve)
                top = max(top, float(lt.curve.max()))
                y = lt.metric_value if lt.metric_value is not None else 0.0
                self.marks[k].setData([lt.threshold], [y])
            else:
                item.setData([], [])
                self.marks[k].setData([], [])
        self.plot.setYRange(0, top if fig.metric == "f1" else top * 1.05, padding=0.02)
        self._fit_table()

        def pr(m) -> str:
            return f"{m.precision:.2f} / {m.recall:.2f}"

        for r, lt in enumerate(fig.labels):
            values = (lt.name, f"{lt.threshold:.2f}" + ("" if lt.chosen else " (0.5 kept)"),
                      pr(lt.heldout_at_half), pr(lt.heldout_at_threshold),
                      pr(lt.train_at_threshold))
            for c, v in enumerate(values):
                item = self.table.item(r, c)
                if item.text() != v:
                    item.setText(v)
            self.table.item(r, 0).setForeground(pg.mkColor(LABEL_COLOURS[r]))
        how = ("best F1" if fig.metric == "f1" else
               "least cost, a missed positive costing the label's cost ratio, a false alarm 1")
        notes = [f"Cells: precision / recall. t chosen on {fig.n_heldout} held-out points "
                 f"({how}); the model trained on {fig.n_train}."]
        notes += [f"{lt.name}: {lt.note}" for lt in fig.labels if lt.note]
        if fig.soft_labels:
            notes.append("Soft labels are read as 0/1 at 0.5 for these counts.")
        self.note.setText(" ".join(notes))


# =========================================================================== code
class CodePanel(_LabPanel):
    """"Copy as code": the current model in PyTorch (BCEWithLogitsLoss with per-label pos_weight)
    or scikit-learn (MultiOutputClassifier). Reads ``code(framework)``; writes the clipboard."""

    title = "Copy as code"
    panel_id = "code"
    listens = ("data", "model", "settings")
    min_interval_ms = 250
    FRAMEWORKS = (("pytorch", "PyTorch"), ("sklearn", "scikit-learn"))

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
class MultilabelControls(_LabPanel):
    """The lab's settings: training, the data, the shared layer, pos_weight and thresholds per label.

    Reads ``settings``, ``running``, ``label_names``, ``data_description()``.
    Writes ``set_running``, ``step``, ``reset``, ``fit``, ``update``,
    ``set_pos_weight``, ``set_cost_ratio``, ``new_data``, ``load_csv``,
    ``set_show_heldout``. A refused change is reported in the status bar and
    the widgets snap back to the state.
    """

    title = "Controls"
    panel_id = "controls"
    listens = ("data", "settings", "running", "view")

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
        self.step_button = self._button("Step", "One training step", self._on_step)
        self.reset_button = self._button("Reset", "The model back to its start (data kept)",
                                         lambda: self._guard(self.state.reset))
        self.fit_button = self._button("Fit", "Jump to the trained optimum",
                                       lambda: self._guard(self.state.fit))
        for b in (self.play_button, self.step_button, self.reset_button, self.fit_button):
            row.addWidget(b)
        layout.addLayout(row)

        box, form = self._group("Data (illustrative)")
        self.dataset = QComboBox()
        for key, title in DATASET_TITLES.items():
            if key != "file":
                self.dataset.addItem(title, key)
        self.dataset.setToolTip("How the labels relate: independent, correlated, overlapping "
                                "regions, or rare labels")
        self.dataset.currentIndexChanged.connect(
            lambda _i: self._guard(self.state.update, dataset=self.dataset.currentData()))
        form.addRow(self._label("data set", self.dataset.toolTip()), self.dataset)
        self.n_labels = QSpinBox()
        self.n_labels.setRange(MIN_LABELS, MAX_LABELS)
        self.n_labels.setToolTip("Number of labels K each point may carry (2 to 4)")
        self.n_labels.valueChanged.connect(
            lambda v: self._guard(self.state.update, n_labels=int(v)))
        form.addRow(self._label("labels K", self.n_labels.toolTip()), self.n_labels)
        self.n_points = QSpinBox()
        self.n_points.setRange(20, 2000)
        self.n_points.setSingleStep(50)
        self.n_points.setKeyboardTracking(False)
        self.n_points.setToolTip("Number of points (20 to 2,000), a share of them held out")
        self.n_points.valueChanged.connect(
            lambda v: self._guard(self.state.update, n_points=int(v)))
        form.addRow(self._label("points", self.n_points.toolTip()), self.n_points)
        self.blur = self._value(form, "blur", 0.0, 2.0, 2,
                                "Width of the fuzzy band around each label's boundary "
                                "(data units; 0: sharp)", lambda v: self.state.update(blur=v))
        data_row = QHBoxLayout()
        self.new_button = self._button("New data", "The next seed's points and labels",
                                       lambda: self._guard(self.state.new_data))
        self.load_button = self._button("Load CSV…", "A file with x1, x2 and 2 to 4 label "
                                        "columns (0/1 or soft)", self._load)
        data_row.addWidget(self.new_button)
        data_row.addWidget(self.load_button)
        form.addRow(data_row)
        self.heldout = QCheckBox("show held-out points")
        self.heldout.setToolTip("Held-out points (squares) choose the thresholds; "
                                "the model never trains on them")
        self.heldout.toggled.connect(lambda on: self._guard(self.state.set_show_heldout, on))
        form.addRow(self.heldout)
        layout.addWidget(box)
        self.description = _plain()
        self.description.setObjectName("controls_description")
        self.description.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout.addWidget(self.description)

        box, form = self._group("Model")
        self.shared = QCheckBox("shared hidden layer")
        self.shared.setToolTip("A few tanh units that every label's head reads: the Hessian's "
                               "blocks that touch them fill in")
        self.shared.toggled.connect(lambda on: self._guard(self.state.update, shared_layer=on))
        form.addRow(self.shared)
        self.units = QSpinBox()
        self.units.setRange(1, MAX_HIDDEN)
        self.units.setToolTip("Number of shared tanh units")
        self.units.valueChanged.connect(
            lambda v: self._guard(self.state.update, hidden_units=int(v)))
        form.addRow(self._label("units", self.units.toolTip()), self.units)
        self.optimizer = QComboBox()
        self.optimizer.addItem("Gradient descent", "gd")
        self.optimizer.addItem("Adam", "adam")
        self.optimizer.setToolTip("Full-batch optimizer of the live training")
        self.optimizer.currentIndexChanged.connect(
            lambda _i: self._guard(self.state.update, optimizer=self.optimizer.currentData()))
        form.addRow(self._label("optimizer", self.optimizer.toolTip()), self.optimizer)
        self.lr = self._value(form, "rate", 1e-3, 50.0, 3, "Learning rate",
                              lambda v: self.state.update(lr=v), log=True)
        self.l2 = self._value(form, "L2 λ", 1e-4, 10.0, 4,
                              "λ/2 ‖W‖² on the weights (biases free); 0 at the left end",
                              lambda v: self.state.update(l2=v), log=True, zero=True)
        self.speed = QSpinBox()
        self.speed.setRange(1, 100)
        self.speed.setToolTip("Training steps per frame while playing")
        self.speed.valueChanged.connect(
            lambda v: self._guard(self.state.update, steps_per_frame=int(v)))
        form.addRow(self._label("steps/frame", self.speed.toolTip()), self.speed)
        layout.addWidget(box)

        box, self.pw_form = self._group("pos_weight per label")
        box.setToolTip("PyTorch BCEWithLogitsLoss(pos_weight=torch.tensor([...])): the weight "
                       "of each label's positive term")
        self.pos_weights = [self._value(self.pw_form, f"label {k + 1}", 0.05, 50.0, 2,
                                        "Weight of this label's positives in its loss",
                                        lambda v, k=k: self.state.set_pos_weight(k, v), log=True)
                            for k in range(MAX_LABELS)]
        layout.addWidget(box)

        box, self.th_form = self._group("Thresholds (held-out)")
        self.metric_choice = QComboBox()
        self.metric_choice.addItem("best F1", "f1")
        self.metric_choice.addItem("least cost", "cost")
        self.metric_choice.setToolTip("How each label's threshold is chosen on the held-out points")
        self.metric_choice.currentIndexChanged.connect(
            lambda _i: self._guard(self.state.update, threshold_metric=self.metric_choice.currentData()))
        self.th_form.addRow(self._label("choose by", self.metric_choice.toolTip()), self.metric_choice)
        self.cost_ratios = [self._value(self.th_form, f"label {k + 1}", 0.05, 50.0, 2,
                                        "Cost of a missed positive over a false alarm",
                                        lambda v, k=k: self.state.set_cost_ratio(k, v), log=True)
                            for k in range(MAX_LABELS)]
        layout.addWidget(box)
        layout.addStretch(1)
        self.apply_theme(_theme.current())
        self.refresh()

    # -- helpers
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
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays play/pause
        button.clicked.connect(slot)
        return button

    def _value(self, form: QFormLayout, label: str, lo: float, hi: float, decimals: int,
               tip: str, apply: Callable, *, log: bool = False,
               zero: bool = False) -> ValueControl:
        control = ValueControl(lo, hi, log=log, zero=zero, decimals=decimals, tooltip=tip)
        control.valueChanged.connect(lambda v: self._guard(apply, v))
        form.addRow(self._label(label, tip), control)
        return control

    def _guard(self, fn: Callable, *args, **kwargs) -> None:
        """Apply a change; a refused one is reported and the widgets snap back."""
        try:
            fn(*args, **kwargs)
        except LabError as exc:
            self.state.set_status(str(exc), "error")
            self._dirty = True
            self.flush()

    def _on_step(self) -> None:
        if self.state.running:
            self.state.set_running(False)
        self._guard(self.state.step, 1)

    def _load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a multi-label CSV", "",
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
        for w, value in ((self.n_labels, s["n_labels"]), (self.n_points, s["n_points"]),
                         (self.units, s["hidden_units"]), (self.speed, s["steps_per_frame"])):
            if w.value() != value:
                w.blockSignals(True)
                w.setValue(value)
                w.blockSignals(False)
        for combo, value in ((self.dataset, s["dataset"]), (self.optimizer, s["optimizer"]),
                             (self.metric_choice, s["threshold_metric"])):
            i = combo.findData(value)
            combo.blockSignals(True)
            if i < 0 and combo is self.dataset:
                combo.setCurrentIndex(-1)  # a file: no generator chosen
            elif i >= 0:
                combo.setCurrentIndex(i)
            combo.blockSignals(False)
        for box, value in ((self.shared, s["shared_layer"]), (self.heldout, state.show_heldout)):
            box.blockSignals(True)
            box.setChecked(value)
            box.blockSignals(False)
        self.units.setEnabled(s["shared_layer"])
        self.blur.setEnabled(s["dataset"] != "file")
        self.blur.set_value(s["blur"])
        self.lr.set_value(s["lr"])
        self.l2.set_value(s["l2"])
        K = state.n_labels
        names = state.label_names
        for form, controls, values in ((self.pw_form, self.pos_weights, s["pos_weight"]),
                                       (self.th_form, self.cost_ratios, s["cost_ratio"])):
            offset = 1 if form is self.th_form else 0
            for k, control in enumerate(controls):
                visible = k < K
                form.setRowVisible(k + offset, visible)
                if visible:
                    control.set_value(values[k])
                    label = form.labelForField(control)
                    if isinstance(label, QLabel):
                        label.setText(names[k])
        cost = s["threshold_metric"] == "cost"
        for control in self.cost_ratios:
            control.setEnabled(cost)
        self.description.setText(state.data_description())


PANELS = {"maps": MapsPanel, "sum": SumPanel, "hessian": HessianPanel,
          "thresholds": ThresholdsPanel, "code": CodePanel}
CONTROLS = MultilabelControls

__all__ = ["CONTROLS", "PANELS", "CodePanel", "HessianPanel", "MapsPanel", "MultilabelControls",
           "SumPanel", "ThresholdsPanel"]
