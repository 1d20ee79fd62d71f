"""The graph lab's panels: the lending network, the firms' books, graph against firm alone, training
curves, each known firm's loss, and the controls.

Every number and curve comes from :class:`bceviz.model.labs.graph.GraphState`
and its derived figures (``figures()``, ``history``), computed once per state
version; the panels only draw them and turn gestures into state calls. A
refused gesture (LabError) becomes a status message and changes nothing.

* :class:`NetworkPanel` (``network``) — the network in its stable layout:
  each firm's fill is the graph model's P(default) (blue 0 → white 0.5 → red
  1), squares are known firms (outline: red defaulted, blue survived),
  circles hidden ones; edge width by exposure (four fixed classes in €
  million). The firms whose prediction moved most since the last edit are
  ringed with their change and hop count. Click selects a firm; Shift-click
  (or "Link firms" on) picks two firms to add or remove the exposure between
  them; double-click reveals or hides a firm's outcome; dragging a firm moves
  it in the picture. Writes ``select_firm``, ``pick_for_exposure``,
  ``toggle_known``, ``move_firm``, ``relayout``.
* :class:`FeaturesPanel` (``features``) — leverage (%) against liquidity (×),
  coloured and shaped as the network, with the baseline's P = 0.5 line at the
  selected firm's size. Drag a firm to change its books
  (``set_firm_features``); click selects.
* :class:`ComparePanel` (``compare``) — held-out loss, AUC, recall and the
  training loss of the graph model and the baseline on the hidden firms.
* :class:`TrainingPanel` (``training``) — the graph model's training and
  held-out loss per step, the baseline's as lines.
* :class:`FirmLossPanel` (``firm_loss``) — each known firm's BCE (largest
  first) and its dL/dz (p − y at pos_weight 1); the firms that carry half
  the loss outlined.
* :class:`GraphControls` — the network (firms, seed, distress, resilience,
  known share), the selected firm (leverage, liquidity, reveal, link),
  training (Step / Play / Reset, optimiser, η, hidden units, L2, speed) and
  pos_weight with Balance.

Redraws: a training step is paced (``reason="step"``); a drag or a setting
redraws at once; the text panels are throttled. No text here comes from a
file: every label is the app's own, shown as plain text.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsItem,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QWidget,
)

from bceviz.engine import graph as _g
from bceviz.gui import theme as _theme
from bceviz.gui.panels.base import Panel, place_plots
from bceviz.gui.panels.controls import ValueControl
from bceviz.gui.widgets import DraggablePoints, apply_palette, pixel_size, snap
from bceviz.model.labs.base import LabError
from bceviz.model.labs.graph import (
    GENERATING_PROCESS,
    HIDDEN_RANGE,
    L2_RANGE,
    LR_RANGE,
    POS_WEIGHT_RANGE,
    SPEED_RANGE,
    GraphState,
    fmt,
)

#: Edge width classes: exposures below each bound (€ million) get the matching width (px).
EDGE_CLASSES = ((10.0, 1.0), (30.0, 2.2), (60.0, 3.6), (math.inf, 5.5))
#: Colour map of P(default) (diverging: survive blue, default red).
P_COLOURMAP = "CET-D1"
#: Node sizes (px) for the smallest and the largest firm (log size between).
NODE_PX = (13.0, 24.0)


def _plain(text: str = "", *, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def _font(theme: _theme.Theme, factor: float = 1.0, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(theme.font_pt * factor)
    font.setBold(bold)
    return font


def _no_si(plot) -> None:
    """Axis numbers as they are: no "(x0.001)" rescaling of unit-less axes."""
    for name in ("left", "bottom"):
        plot.getAxis(name).enableAutoSIPrefix(False)


class _Palette:
    """Brushes for P(default) (256 steps) and the outcome pens, per theme."""

    def __init__(self, theme: _theme.Theme) -> None:
        lut = pg.colormap.get(P_COLOURMAP).getLookupTable(nPts=256, alpha=False)
        self.lut = lut
        self.brushes = [pg.mkBrush(int(r), int(g), int(b)) for r, g, b in lut]
        scale = theme.scale
        self.pen_default = pg.mkPen(theme.pos, width=3.0 * scale)
        self.pen_survived = pg.mkPen(theme.neg, width=3.0 * scale)
        self.pen_hidden = pg.mkPen(theme.muted, width=1.4 * scale)
        self.theme = theme

    #: P(default) is shown in this many colour steps: few enough that pyqtgraph's symbol
    #: atlas stops growing after a while of training, many enough to read as continuous.
    LEVELS = 64

    def brush(self, p: float):
        step = round(min(max(p, 0.0), 1.0) * (self.LEVELS - 1)) / (self.LEVELS - 1)
        return self.brushes[int(step * 255 + 0.5)]

    def colour(self, p: float) -> QColor:
        r, g, b = self.lut[int(min(max(p, 0.0), 1.0) * 255 + 0.5)]
        return QColor(int(r), int(g), int(b))


def _node_style(state: GraphState, palette: _Palette, p: np.ndarray, sizes: np.ndarray):
    """Per-firm spots (pos omitted): symbol by known, fill by P, outline by outcome."""
    known, y = state.known, state.outcomes
    symbols = ["s" if k else "o" for k in known]
    brushes = [palette.brush(float(v)) for v in p]
    pens = [(palette.pen_default if y[i] else palette.pen_survived) if known[i]
            else palette.pen_hidden for i in range(p.size)]
    return symbols, brushes, pens, sizes


def _set_spots(points: pg.ScatterPlotItem, state: GraphState, palette: _Palette,
               p: np.ndarray, pos: np.ndarray, sizes: np.ndarray) -> None:
    """Put the firms into ``points``: everything when positions, shapes or sizes changed,
    else only the fills and outlines (a training frame: no spot rebuilt)."""
    symbols, brushes, pens, sizes = _node_style(state, palette, p, sizes)
    key = (pos.tobytes(), state.known.tobytes(), np.round(sizes, 2).tobytes(),
           id(palette))
    if getattr(points, "_bceviz_key", None) != key:
        points._bceviz_key = key
        points.setData(pos=pos, symbol=symbols, brush=brushes, pen=pens, size=sizes,
                       data=list(range(state.n)))
        return
    points.setBrush(brushes, update=False)
    points.setPen(pens, update=True)


class _ColourBar(QWidget):
    """A small horizontal legend of the P(default) colour map with its ends labelled."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self._palette: Optional[_Palette] = None
        self.setToolTip("Fill colour: the graph model's P(default), from 0 (blue) through 0.5 "
                        "(white) to 1 (red)")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_palette(self, palette: _Palette) -> None:
        self._palette = palette
        self.setFont(_font(palette.theme, 0.85))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        fm = self.fontMetrics()
        return QSize(fm.horizontalAdvance("P(default) 0 ") + 90 + fm.horizontalAdvance(" 1"),
                     fm.height() + 4)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self._palette is None:
            return
        painter = QPainter(self)
        fm = self.fontMetrics()
        theme = self._palette.theme
        painter.setPen(pg.mkColor(theme.foreground))
        head = "P(default) 0 "
        x = 0
        h = self.height()
        painter.drawText(QPointF(x, (h + fm.ascent() - fm.descent()) / 2), head)
        x += fm.horizontalAdvance(head)
        rect = QRectF(x, 3, 90, h - 6)
        gradient = QLinearGradient(rect.topLeft(), rect.topRight())
        for t in np.linspace(0, 1, 9):
            gradient.setColorAt(float(t), self._palette.colour(float(t)))
        painter.fillRect(rect, gradient)
        painter.setPen(QPen(pg.mkColor(theme.muted)))
        painter.drawRect(rect)
        painter.setPen(pg.mkColor(theme.foreground))
        painter.drawText(QPointF(rect.right() + 3, (h + fm.ascent() - fm.descent()) / 2), "1")
        painter.end()


class _Labels(pg.GraphicsObject):
    """Many short texts at view positions, drawn by one item at a fixed pixel offset.

    One item instead of forty TextItems: the scene asks each item for its bounds
    and paints it on every frame, and the labels only change when the layout,
    the view's size or the theme does (the item is cached as a pixmap).
    """

    def __init__(self) -> None:
        super().__init__()
        self._pos = np.zeros((0, 2))
        self._texts: list[str] = []
        self._offsets = np.zeros(0)
        self._font = QFont()
        self._colour = QColor("black")
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_labels(self, pos: np.ndarray, texts: list[str], offsets_px: np.ndarray,
                   font: QFont, colour: str) -> None:
        self.prepareGeometryChange()
        self._pos, self._texts = np.asarray(pos, dtype=float), list(texts)
        self._offsets = np.asarray(offsets_px, dtype=float)
        self._font, self._colour = QFont(font), pg.mkColor(colour)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        vb = self.getViewBox()
        if vb is None:
            return QRectF()
        return vb.viewRect()

    def viewRangeChanged(self) -> None:  # noqa: N802 (pyqtgraph name)
        self.prepareGeometryChange()

    def paint(self, painter, *args) -> None:
        if not self._texts:
            return
        transform = painter.transform()
        painter.save()
        painter.resetTransform()
        painter.setFont(self._font)
        painter.setPen(self._colour)
        fm = painter.fontMetrics()
        for (x, y), text, off in zip(self._pos, self._texts, self._offsets):
            p = transform.map(QPointF(float(x), float(y)))
            w = fm.horizontalAdvance(text)
            painter.drawText(QPointF(p.x() - w / 2, p.y() - off - fm.descent()), text)
        painter.restore()


class _GraphPanel(Panel):
    """A panel of this lab: training steps redraw it paced; refusals become a status."""

    def on_event(self, name: str, **info) -> Optional[bool]:
        if not self.isVisible():
            # Parked (another stage is shown): redraw once when shown, not on every event.
            self._dirty = True
            return False
        if name == "model" and info.get("reason") == "step":
            self.schedule(paced=True)
            return False
        return self.on_lab_event(name, **info)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._dirty:
            self.schedule()

    def on_lab_event(self, name: str, **info) -> Optional[bool]:
        return None

    def _guard(self, method, *args, **kwargs) -> bool:
        try:
            method(*args, **kwargs)
        except LabError as exc:
            self.state.set_status(str(exc), "warning")
            return False
        return True


class _FixedView(pg.ViewBox):
    """No pan or zoom (the range belongs to the panel); a click on empty space calls back."""

    def __init__(self, on_empty_click=None, **kwargs) -> None:
        super().__init__(enableMenu=False, **kwargs)
        self.setMouseEnabled(False, False)
        self._on_empty_click = on_empty_click

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph name)
        if ev.button() == Qt.MouseButton.LeftButton and self._on_empty_click is not None:
            ev.accept()
            self._on_empty_click()
        else:
            ev.ignore()

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph name)
        ev.ignore()

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph name)
        ev.ignore()


class _FirmPoints(DraggablePoints):
    """The firms; a double click (reveal / hide) is reported too."""

    def __init__(self, on_double=None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._on_double = on_double

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph name)
        if ev.double() and ev.button() == Qt.MouseButton.LeftButton and self._on_double:
            key = self._key_at(ev.pos())
            if key is not None:
                ev.accept()
                self._on_double(key, ev.modifiers())
                return
        if ev.button() == Qt.MouseButton.LeftButton:
            key = self._key_at(ev.pos())
            if key is not None:
                ev.accept()
                self._last_modifiers = ev.modifiers()
                self.sigPointClicked.emit(key)
                return
        ev.ignore()


def _pull_summary(rows) -> str:
    """The known firm that pulls its logit hardest, for a panel that shows no dL/dz plot."""
    if not rows:
        return "none"
    top = max(rows, key=lambda r: abs(r.grad))
    sign = "+" if top.grad > 0 else ""
    return f"{sign}{fmt(top.grad, 2)} at firm {top.index + 1}"


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at or above ``value`` (> 0)."""
    exp = math.floor(math.log10(max(value, 1e-12)))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * 10.0**exp >= value:
            return m * 10.0**exp
    return 10.0 ** (exp + 1)


def _node_sizes(state: GraphState, scale: float, view: Optional[pg.ViewBox] = None) -> np.ndarray:
    """Marker sizes (px) by firm size (log), grown half as much as the theme's scale and
    shrunk in a small view, so 40 firms stay apart in a short panel."""
    logs = np.log10(state.size)
    lo, hi = math.log10(20.0), math.log10(2000.0)
    t = np.clip((logs - lo) / (hi - lo), 0.0, 1.0)
    fit = 1.0
    if view is not None:
        rect = view.boundingRect()
        side = min(rect.width(), rect.height())
        if side > 0:
            fit = min(max(side / 420.0, 0.6), 1.2)
    # Five size classes (not a continuum): pyqtgraph renders one symbol per (shape, size,
    # outline, fill), and continuous sizes under changing fills would re-render every frame.
    t = np.round(t * 4.0) / 4.0
    px = (NODE_PX[0] + (NODE_PX[1] - NODE_PX[0]) * t) * (1.0 + 0.5 * (scale - 1.0)) * fit
    return np.round(px)


# ----------------------------------------------------------------------------- network


class NetworkPanel(_GraphPanel):
    """The lending network: P(default) fills, known outcomes outlined, exposures as edge widths.

    Reads the state's ``positions``, ``exposures``, ``known``, ``outcomes``,
    ``selected``, ``link_from`` and ``figures()`` (``p_graph``, ``movers``,
    ``selected_text``, ``movers_text``). Writes ``select_firm``,
    ``pick_for_exposure``, ``toggle_known``, ``move_firm``, ``relayout``.
    """

    title = "The network: P(default) per firm"
    panel_id = "network"
    listens = ("data", "model", "settings", "view")

    def __init__(self, state: GraphState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        self._palette = _Palette(_theme.current())
        self._edge_key = None
        self._label_key = None
        self._rings_key = None
        self._drag_firm: Optional[int] = None
        self._drag_offset = (0.0, 0.0)
        layout = self.vbox(self)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(4)
        self.link_button = QToolButton()
        self.link_button.setText("Link firms")
        self.link_button.setCheckable(True)
        self.link_button.setToolTip("On: clicking two firms adds the exposure between them, or "
                                    "removes it if there is one (Shift-click does the same "
                                    "without this)")
        self.link_button.toggled.connect(self._on_link_mode)
        self.known_button = QToolButton()
        self.known_button.setText("Reveal")
        self.known_button.setToolTip("Reveal the selected firm's outcome (it joins the training "
                                     "set) or hide it again (double-click a firm does the same)")
        self.known_button.clicked.connect(self._on_known)
        self.layout_button = QToolButton()
        self.layout_button.setText("Lay out")
        self.layout_button.setToolTip("Lay the network out afresh for its current exposures "
                                      "(deterministic); dragging a firm moves it by hand")
        self.layout_button.clicked.connect(lambda: self._guard(self.state.relayout))
        for b in (self.link_button, self.known_button, self.layout_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            bar.addWidget(b)
        bar.addStretch(1)
        layout.addLayout(bar)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("network_view")
        self.graphics.setMinimumSize(300, 180)
        self.graphics.ci.layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.graphics, 1)
        self.view = _FixedView(on_empty_click=self._on_empty_click)
        self.view.setAspectLocked(False)
        self.graphics.addItem(self.view)
        self.edge_items = []
        for _bound, _width in EDGE_CLASSES:
            item = pg.PlotCurveItem(connect="pairs", antialias=True)
            item.setZValue(-10)
            # The exposures do not change while training: paint them once into a pixmap
            # (thick antialiased lines cost ~20 ms a frame otherwise).
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.view.addItem(item)
            self.edge_items.append(item)
        self.link_line = pg.PlotCurveItem()
        self.link_line.setZValue(-5)
        self.view.addItem(self.link_line)
        self.rings = pg.ScatterPlotItem(pxMode=True, antialias=True)
        self.rings.setZValue(5)
        self.view.addItem(self.rings)
        self.points = _FirmPoints(on_double=self._on_double, pxMode=True, antialias=True,
                                  hoverable=False)
        self.points.setZValue(10)
        self.points.sigPointClicked.connect(self._on_click)
        self.points.sigPointDragged.connect(self._on_drag)
        self.view.addItem(self.points)
        self.labels = _Labels()
        self.labels.setZValue(15)
        self.view.addItem(self.labels, ignoreBounds=True)
        self.mover_labels: list[pg.TextItem] = []
        for _ in range(5):
            text = pg.TextItem(anchor=(0, 0.5))
            self.view.addItem(text, ignoreBounds=True)
            text.setZValue(30)  # above the firms and their numbers
            self.mover_labels.append(text)
        # Room above the top firm for its number label.
        self.view.setRange(xRange=(-1.12, 1.12), yRange=(-1.15, 1.32), padding=0.0)

        self.legend = _plain("■ known (outline: red defaulted, blue survived) · ● hidden · "
                             "line width: exposure")
        self.legend.setToolTip("Squares: firms whose outcome is known (they train the models); "
                               "outline red if the firm defaulted, blue if it survived. "
                               "Circles: hidden firms, the question. Line width: the exposure "
                               "between two firms, in steps at €10 m, €30 m and €60 m.")
        self.legend.setObjectName("network_legend")
        legend_row = QHBoxLayout()
        legend_row.setContentsMargins(0, 0, 0, 0)
        legend_row.setSpacing(6)
        self.colour_bar = _ColourBar()
        legend_row.addWidget(self.colour_bar, 0, Qt.AlignmentFlag.AlignTop)
        legend_row.addWidget(self.legend, 1)
        layout.addLayout(legend_row)
        # One line of readout: who moved after the last edit, else the selected firm.
        self.readout = _plain()
        self.readout.setObjectName("network_readout")
        layout.addWidget(self.readout)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    # -- gestures ---------------------------------------------------------------
    def _on_link_mode(self, on: bool) -> None:
        if not on:
            self.state.cancel_pick()

    def _on_known(self) -> None:
        i = self.state.selected
        if i is None:
            self.state.set_status("Select a firm first (click it)", "warning")
            return
        self._guard(self.state.toggle_known, i)

    def _on_empty_click(self) -> None:
        self.state.cancel_pick()
        self._guard(self.state.select_firm, None)

    def _on_click(self, key) -> None:
        i = int(key)
        mods = getattr(self.points, "_last_modifiers", Qt.KeyboardModifier.NoModifier)
        if self.link_button.isChecked() or bool(mods & Qt.KeyboardModifier.ShiftModifier) \
                or self.state.link_from is not None:
            if self.state.link_from is None and self.state.selected is not None \
                    and self.state.selected != i and not self.link_button.isChecked():
                # Shift-click with a firm selected: the selected firm is the first pick.
                self._guard(self.state.pick_for_exposure, self.state.selected)
            self._guard(self.state.pick_for_exposure, i)
        self._guard(self.state.select_firm, i)

    def _on_double(self, key, _mods) -> None:
        self._guard(self.state.toggle_known, int(key))

    def _on_drag(self, key, pos, start, phase: str) -> None:
        i = int(key)
        if phase == "start":
            here = self.state.positions[i]
            self._drag_offset = (float(here[0] - start.x()), float(here[1] - start.y()))
            self._drag_firm = i
            self._guard(self.state.select_firm, i)
        x, y = pos.x() + self._drag_offset[0], pos.y() + self._drag_offset[1]
        self._guard(self.state.move_firm, i, x, y)
        if phase == "finish":
            self._drag_firm = None

    # -- drawing -------------------------------------------------------------------
    def refresh(self) -> None:
        st: GraphState = self.state
        f = st.figures()
        pos = st.positions
        self._draw_edges(st, f, pos)
        sizes = _node_sizes(st, self._palette.theme.scale, self.view)
        _set_spots(self.points, st, self._palette, f.p_graph, pos, sizes)
        self._draw_labels(st, pos, sizes)
        self._draw_rings(st, f, pos, sizes)
        sel = st.selected
        self.known_button.setEnabled(sel is not None)
        self.known_button.setText("Hide" if sel is not None and st.known[sel] else "Reveal")
        if st.link_from is None and self.link_button.isChecked() is False:
            self.link_line.setData([], [])
        # Instructions live in the stage's caption and the tooltips; the readouts appear
        # only when there is a firm or an edit to talk about (a short panel keeps its plot).
        text = f.movers_text if f.touch_origin else (f.selected_text if sel is not None else "")
        self.readout.setVisible(bool(text))
        self.readout.setText(text)

    def _draw_edges(self, st: GraphState, f, pos: np.ndarray) -> None:
        key = (f.edges.tobytes(), f.edge_weights.tobytes(), pos.tobytes(),
               self._palette.theme.name, self._palette.theme.scale)
        if key == self._edge_key:
            return
        self._edge_key = key
        lower = 0.0
        theme = self._palette.theme
        colour = pg.mkColor(theme.foreground)
        colour.setAlpha(110)
        for item, (bound, width) in zip(self.edge_items, EDGE_CLASSES):
            pick = (f.edge_weights >= lower) & (f.edge_weights < bound)
            lower = bound
            e = f.edges[pick]
            if e.size == 0:
                item.setData([], [])
                continue
            xs = np.column_stack([pos[e[:, 0], 0], pos[e[:, 1], 0]]).ravel()
            ys = np.column_stack([pos[e[:, 0], 1], pos[e[:, 1], 1]]).ravel()
            item.setPen(pg.mkPen(colour, width=width * theme.scale))
            item.setData(xs, ys, connect="pairs")

    def _draw_labels(self, st: GraphState, pos: np.ndarray, sizes: np.ndarray) -> None:
        theme = self._palette.theme
        key = (st.n, pos.tobytes(), sizes.tobytes(), theme.name, theme.font_pt, st.selected)
        if key == self._label_key:
            return
        self._label_key = key
        # Just above each node (above the selection ring for the selected one), where the
        # fill colour does not matter for legibility.
        offsets = sizes / 2 + 2 * theme.scale
        if st.selected is not None:
            offsets[st.selected] += 10 * theme.scale
        self.labels.set_labels(pos, [str(i + 1) for i in range(st.n)], offsets,
                               _font(theme, 0.8), theme.foreground)

    def _draw_rings(self, st: GraphState, f, pos: np.ndarray, sizes: np.ndarray) -> None:
        theme = self._palette.theme
        spots_pos, spots_size, spots_pen = [], [], []
        accent = pg.mkPen(theme.accent, width=2.5 * theme.scale)
        for m in f.movers:
            spots_pos.append(pos[m.index])
            spots_size.append(sizes[m.index] + 12 * theme.scale)
            spots_pen.append(accent)
        if st.selected is not None:
            spots_pos.append(pos[st.selected])
            spots_size.append(sizes[st.selected] + 20 * theme.scale)
            spots_pen.append(pg.mkPen(theme.foreground, width=2.0 * theme.scale))
        if st.link_from is not None:
            spots_pos.append(pos[st.link_from])
            spots_size.append(sizes[st.link_from] + 26 * theme.scale)
            spots_pen.append(pg.mkPen(theme.soft, width=2.5 * theme.scale,
                                      style=Qt.PenStyle.DashLine))
        key = (np.array(spots_pos).tobytes(), tuple(spots_size), len(spots_pen),
               st.link_from, st.selected, theme.name, theme.scale)
        if key != self._rings_key:
            self._rings_key = key
            if spots_pos:
                self.rings.setData(pos=np.array(spots_pos), size=spots_size, pen=spots_pen,
                                   brush=None, symbol="o")
            else:
                self.rings.setData([], [])
        px, py = pixel_size(self.view)
        font = _font(theme, 0.8, bold=True)
        for k, text in enumerate(self.mover_labels):
            if k < len(f.movers) and f.movers[k].hops != 0:
                m = f.movers[k]
                hops = "unlinked" if m.hops is None else f"{m.hops} hop{'s' if m.hops > 1 else ''}"
                sign = "+" if m.delta > 0 else ""
                label = f"{sign}{fmt(m.delta, 2)} · {hops}"
                if getattr(text, "_bceviz_text", None) != (label, theme.name, theme.font_pt):
                    text._bceviz_text = (label, theme.name, theme.font_pt)
                    text.setText(label, color=theme.accent)
                    text.setFont(font)
                r = sizes[m.index] / 2 + 8 * theme.scale  # just right of the ring
                text.setPos(pos[m.index, 0] + r * px, pos[m.index, 1])
                text.show()
            else:
                text.hide()

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self._palette = _Palette(theme)
        self.graphics.setBackground(theme.background)
        self.colour_bar.set_palette(self._palette)
        # The movers' labels sit on a box of the background colour: legible over any firm.
        box = pg.mkColor(theme.background)
        box.setAlpha(235)
        for text in self.mover_labels:
            text.fill = pg.mkBrush(box)
            text.border = theme.pen(theme.accent, width=1)
            text._bceviz_text = None
            text.update()
        for label in (self.legend,):
            label.setFont(_font(theme, 0.8))
        self.readout.setFont(_font(theme, 0.9))
        for b in (self.link_button, self.known_button, self.layout_button):
            b.setFont(_font(theme, 0.9))
        self._edge_key = self._label_key = self._rings_key = None

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._label_key = None
        self._dirty = True
        self.schedule()


# ----------------------------------------------------------------------------- features


class FeaturesPanel(_GraphPanel):
    """Leverage against liquidity for every firm; drag a firm to change its books.

    Reads ``leverage``, ``liquidity``, ``known``, ``outcomes``, ``selected`` and
    ``figures()`` (``p_graph``, ``baseline_boundary``, ``boundary_size``).
    Writes ``set_firm_features`` (a drag's first move starts a new gesture)
    and ``select_firm``.
    """

    title = "Firms' books"
    panel_id = "features"
    listens = ("data", "model", "settings", "view")

    def __init__(self, state: GraphState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        self._palette = _Palette(_theme.current())
        self._drag_firm: Optional[int] = None
        layout = self.vbox(self)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("features_view")
        self.graphics.setMinimumSize(300, 190)
        self.graphics.ci.layout.setContentsMargins(2, 2, 6, 2)
        layout.addWidget(self.graphics, 1)
        self.view = _FixedView(on_empty_click=lambda: self._guard(self.state.select_firm, None))
        self.plot = self.graphics.addPlot(viewBox=self.view)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "leverage: debt / assets (%)")
        self.plot.setLabel("left", "liquidity (×)")
        _no_si(self.plot)
        lo_l, hi_l = _g.LEVERAGE_RANGE
        lo_q, hi_q = _g.LIQUIDITY_RANGE
        self.view.setRange(xRange=(0.0, 100.0), yRange=(0.0, hi_q + 0.12), padding=0.0)
        self.boundary = pg.PlotCurveItem()
        self.plot.addItem(self.boundary)
        self.rings = pg.ScatterPlotItem(pxMode=True, antialias=True)
        self.plot.addItem(self.rings)
        self.points = _FirmPoints(pxMode=True, antialias=True, hoverable=False)
        self.points.sigPointClicked.connect(lambda key: self._guard(self.state.select_firm,
                                                                    int(key)))
        self.points.sigPointDragged.connect(self._on_drag)
        self.plot.addItem(self.points)
        self.readout = _plain()
        self.readout.setObjectName("features_readout")
        layout.addWidget(self.readout)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def _on_drag(self, key, pos, _start, phase: str) -> None:
        i = int(key)
        if phase == "start":
            self._drag_firm = i
            self._guard(self.state.select_firm, i)
        px, py = pixel_size(self.view)
        lo_l, hi_l = _g.LEVERAGE_RANGE
        lo_q, hi_q = _g.LIQUIDITY_RANGE
        lev = min(max(snap(pos.x(), px) / 100.0, lo_l), hi_l)
        liq = min(max(snap(pos.y(), py), lo_q), hi_q)
        self._guard(self.state.set_firm_features, i, leverage=round(lev, 4),
                    liquidity=round(liq, 4), new_gesture=phase == "start")
        if phase == "finish":
            self._drag_firm = None

    def refresh(self) -> None:
        st: GraphState = self.state
        f = st.figures()
        theme = self._palette.theme
        xy = np.column_stack([100.0 * st.leverage, st.liquidity])
        sizes = _node_sizes(st, theme.scale, self.view) * 0.85
        _set_spots(self.points, st, self._palette, f.p_graph, xy, sizes)
        if st.selected is not None:
            self.rings.setData(pos=xy[[st.selected]], size=[sizes[st.selected] + 16 * theme.scale],
                               pen=pg.mkPen(theme.foreground, width=2 * theme.scale), brush=None)
        else:
            self.rings.setData([], [])
        if f.baseline_boundary is not None:
            (x0, y0), (x1, y1) = f.baseline_boundary
            self.boundary.setData([100 * x0, 100 * x1], [y0, y1])
            line = (f"Dashed: where the firm-alone model says P = 0.5, for assets of "
                    f"€{fmt(f.boundary_size, 0)} m.")
        else:
            self.boundary.setData([], [])
            line = "The firm-alone model's P = 0.5 line lies outside these books."
        if st.selected is None:
            self.readout.setText("Drag a firm to change its leverage and liquidity; the graph "
                                 "model's P(default) (fill) follows at once. " + line)
        else:
            i = st.selected
            self.readout.setText(
                f"Firm {i + 1}: leverage {fmt(100 * st.leverage[i], 1)} %, liquidity "
                f"{fmt(st.liquidity[i], 2)} · P(default): graph {fmt(f.p_graph[i], 2)}, "
                f"alone {fmt(f.p_base[i], 2)}. " + line)

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self._palette = _Palette(theme)
        self.graphics.setBackground(theme.background)
        _theme.style_plot(self.plot, theme, grid=True)
        # The grid only changes with the (fixed) range: one pixmap, not ~40 lines per drag frame.
        grid = getattr(self.plot, "_bceviz_grid", None)
        if grid is not None:
            grid.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.boundary.setPen(theme.pen(theme.muted, width=2, style=Qt.PenStyle.DashLine))
        self.readout.setFont(_font(theme, 0.9))


# ----------------------------------------------------------------------------- comparison


class ComparePanel(_GraphPanel):
    """Graph model against the firm alone on the hidden firms: loss, AUC, recall.

    Reads ``figures()`` (``comparison``, ``comparison_note``), ``steps`` and
    ``pos_weight``. Writes nothing. Redraws at most ten times a second.
    """

    title = "Graph against firm alone"
    panel_id = "compare"
    listens = ("data", "model", "settings")
    min_interval_ms = 100
    HEADERS = ("", "graph", "alone", "diff.")

    def __init__(self, state: GraphState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self, margins=6)
        self.header = _plain()
        self.header.setObjectName("compare_header")
        layout.addWidget(self.header)
        host = QWidget()
        self.grid = QGridLayout(host)
        self.grid.setContentsMargins(0, 2, 0, 2)
        self.grid.setHorizontalSpacing(14)
        self.grid.setVerticalSpacing(2)  # the rows at presentation size fit a 300 px cell
        self.col_titles = []
        for c, text in enumerate(self.HEADERS):
            label = _plain(text, wrap=False)
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
            if c:
                label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.grid.addWidget(label, 0, c)
            self.col_titles.append(label)
        self.row_titles: list[QLabel] = []
        self.cells: list[list[QLabel]] = []
        for r in range(4):
            title = _plain("", wrap=False)
            title.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
            self.grid.addWidget(title, r + 1, 0)
            self.row_titles.append(title)
            row = []
            for c in range(1, 4):
                cell = _plain("", wrap=False)
                cell.setObjectName(f"compare_{r}_{c}")
                cell.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                cell.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
                self.grid.addWidget(cell, r + 1, c)
                row.append(cell)
            self.cells.append(row)
        self.grid.setColumnStretch(0, 1)
        layout.addWidget(host)
        self.note = _plain()
        self.note.setObjectName("compare_note")
        layout.addWidget(self.note)
        # one line: the table's rows must keep their height in a short cell (the tooltip
        # says the rest)
        self.hint = _plain("Losses in nats, lower is better; AUC 0.5 is a coin.")
        self.hint.setToolTip("graph: the two-layer graph network; alone: logistic regression on "
                             "each firm's own books, same loss and L2. Held-out loss: mean "
                             "plain BCE on the hidden firms. AUC: how well P(default) ranks "
                             "them (1 ranks every hidden default first, 0.5 is a coin). Recall: share of hidden defaults with P ≥ 0.5. Training "
                             "loss: mean BCE on the known firms, with pos_weight.")
        self.hint.setObjectName("compare_hint")
        layout.addWidget(self.hint)
        layout.addStretch(1)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def refresh(self) -> None:
        st: GraphState = self.state
        f = st.figures()
        theme = _theme.current()
        good = pg.mkColor(theme.good)
        for r, row in enumerate(f.comparison):
            self.row_titles[r].setText(row.label)
            for c, (text, side) in enumerate(((row.graph, "graph"), (row.baseline, "baseline"),
                                              (row.difference, ""))):
                cell = self.cells[r][c]
                cell.setText(text)
                bold = bool(side) and row.better == side
                font = cell.font()
                if font.bold() != bold:
                    font.setBold(bold)
                    cell.setFont(font)
                palette = cell.palette()
                palette.setColor(cell.foregroundRole(), good if bold
                                 else pg.mkColor(theme.foreground))
                cell.setPalette(palette)
        self.header.setText(f"Step {st.steps:,} · pos_weight {fmt(st.pos_weight, 2)}")
        self.note.setText(f.comparison_note)

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        big = _font(theme, 1.05)
        for label in self.col_titles:
            label.setFont(_font(theme, 1.05, bold=True))
        for label in self.row_titles:
            label.setFont(big)
        for row in self.cells:
            for cell in row:
                cell.setFont(big)
        self.header.setFont(_font(theme, 0.95))
        self.note.setFont(_font(theme, 0.95))
        self.hint.setFont(_font(theme, 0.8))


# ----------------------------------------------------------------------------- training curves


class TrainingPanel(_GraphPanel):
    """The graph model's mean BCE on the known and the hidden firms per step, the baseline's as
    lines. Reads ``history`` and ``figures()``. Writes nothing."""

    title = "Training curves"
    panel_id = "training"
    listens = ("data", "model", "settings")

    def __init__(self, state: GraphState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        layout.addLayout(row, 1)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("training_view")
        self.graphics.setMinimumSize(300, 190)
        self.graphics.ci.layout.setContentsMargins(2, 2, 6, 2)
        row.addWidget(self.graphics, 1)
        self.plot = self.graphics.addPlot(viewBox=_FixedView())
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "training step")
        self.plot.setLabel("left", "BCE (nats)")  # fits the axis at presentation size
        _no_si(self.plot)
        self.train = self.plot.plot()
        self.heldout = self.plot.plot()
        self.base_train = self.plot.plot()
        self.base_heldout = self.plot.plot()
        self._range: tuple[float, float] = (0.0, 0.0)
        # The legend sits beside the plot, so it never covers a curve and takes no height
        # from it (the panel is usually wide and short). Its text is the app's own.
        self.legend = QLabel()
        self.legend.setObjectName("training_legend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        row.addWidget(self.legend)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def refresh(self) -> None:
        st: GraphState = self.state
        f = st.figures()
        h = st.history
        steps = np.array(h.step, dtype=np.float64)
        loss = np.array(h.loss)
        held = np.array(h.heldout_loss)
        x_end = _nice_ceiling(max(float(steps[-1]), 10.0))
        if steps.size == 1:  # a lone record (step 0): a flat run across the plot
            steps = np.array([0.0, x_end])
            loss = np.repeat(loss, 2)
            held = np.repeat(held, 2)
        self.train.setData(steps, loss)
        finite = np.isfinite(held)
        self.heldout.setData(steps[finite], held[finite])
        for item, value in ((self.base_train, f.baseline.train_loss),
                            (self.base_heldout, f.baseline.heldout_loss)):
            if value is None:
                item.setData([], [])
            else:
                item.setData([0.0, x_end], [value, value])
        values = [v for v in (loss.max(initial=0.0), held[finite].max(initial=0.0),
                              f.baseline.train_loss or 0.0, f.baseline.heldout_loss or 0.0)]
        top = min(math.ceil(max(max(values) * 1.05, 0.1) * 10.0) / 10.0, 5.0)
        # The x range grows in steps of 1, 2, 5 × 10^k: the axes are re-laid out a few times
        # per decade of training, not on every frame.
        span = _nice_ceiling(x_end)
        if (span, top) != self._range:
            self._range = (span, top)
            self.plot.vb.setRange(xRange=(0.0, span), yRange=(0.0, top), padding=0.02)

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self.graphics.setBackground(theme.background)
        _theme.style_plot(self.plot, theme, grid=True)
        self.train.setPen(theme.pen(theme.accent))
        self.heldout.setPen(theme.pen(theme.soft, style=Qt.PenStyle.DashLine))
        self.base_train.setPen(theme.pen(theme.muted, width=1.5))
        self.base_heldout.setPen(theme.pen(theme.muted, width=1.5, style=Qt.PenStyle.DashLine))
        self.legend.setFont(_font(theme, 0.85))

        def key(colour: str, dashed: bool, text: str) -> str:
            line = "╌╌" if dashed else "━━"
            return f'<span style="color:{colour}">{line}</span>&nbsp;{text}'

        self.legend.setFixedWidth(int(theme.font_pt * 14))
        self.legend.setText("<br>".join((
            key(theme.accent, False, "graph, known firms (training)"),
            key(theme.soft, True, "graph, hidden firms (held out)"),
            key(theme.muted, False, "firm alone, known"),
            key(theme.muted, True, "firm alone, hidden"))))


# ----------------------------------------------------------------------------- per-firm loss


class FirmLossPanel(_GraphPanel):
    """Each known firm's BCE (largest first) above its dL/dz; the firms carrying half the loss
    outlined. Reads ``figures()`` (``firm_losses``, ``dominant``, ``dominance_text``) and
    ``pos_weight``. Writes nothing."""

    title = "BCE per known firm"
    panel_id = "firm_loss"
    listens = ("data", "model", "settings")

    def __init__(self, state: GraphState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("firm_loss_view")
        self.graphics.setMinimumSize(300, 190)
        self.graphics.ci.layout.setContentsMargins(2, 2, 6, 2)
        self.graphics.ci.layout.setVerticalSpacing(2)
        layout.addWidget(self.graphics, 1)
        self.loss_plot = self.graphics.addPlot(row=0, col=0, viewBox=_FixedView())
        self.grad_plot = self.graphics.addPlot(row=1, col=0, viewBox=_FixedView())
        for plot in (self.loss_plot, self.grad_plot):
            plot.hideButtons()
            plot.setMenuEnabled(False)
            _no_si(plot)
        self.grad_plot.setXLink(self.loss_plot)
        self.loss_plot.setLabel("left", "BCE (nats)")
        self.grad_plot.setLabel("left", "dL/dz")
        self.grad_plot.setLabel("bottom", "known firm (largest loss first)")
        self._side_by_side = False
        self._mode = "stack"
        self.loss_bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.loss_plot.addItem(self.loss_bars)
        self.grad_bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.grad_plot.addItem(self.grad_bars)
        self.zero = pg.InfiniteLine(pos=0.0, angle=0, movable=False)
        self.grad_plot.addItem(self.zero)
        self.text = _plain()
        self.text.setObjectName("firm_loss_text")
        layout.addWidget(self.text)
        self._ticks_key = None
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def refresh(self) -> None:
        st: GraphState = self.state
        f = st.figures()
        theme = _theme.current()
        self._arrange()
        rows = f.firm_losses
        k = len(rows)
        x = np.arange(k, dtype=np.float64)
        loss = np.array([r.loss for r in rows])
        grad = np.array([r.grad for r in rows])
        pos_c, neg_c = pg.mkColor(theme.pos), pg.mkColor(theme.neg)
        brushes = [pg.mkBrush(pos_c if r.y else neg_c) for r in rows]
        dominant = set(f.dominant)
        outline = theme.pen(theme.accent, width=2.5)
        plain = theme.pen(theme.foreground, width=0.5, alpha=90)
        pens = [outline if r.index in dominant else plain for r in rows]
        if k:
            self.loss_bars.setOpts(x=x, height=loss, width=0.7, brushes=brushes, pens=pens)
            self.grad_bars.setOpts(x=x, height=grad, width=0.7, brushes=brushes, pens=pens)
        else:
            # pyqtgraph 0.14 fails on an empty pens list: no per-bar styles for no bars.
            self.loss_bars.setOpts(x=[], height=[], brushes=None, pens=None)
            self.grad_bars.setOpts(x=[], height=[], brushes=None, pens=None)
        top = max(float(loss.max(initial=0.0)) * 1.1, 0.2)
        g_abs = max(float(np.abs(grad).max(initial=0.0)) * 1.1, 0.2)
        self.loss_plot.vb.setRange(xRange=(-0.7, max(k, 1) - 0.3), yRange=(0.0, top),
                                   padding=0.0)
        self.grad_plot.vb.setRange(yRange=(-g_abs, g_abs), padding=0.0)
        self._set_ticks(rows)
        pw = st.pos_weight
        pull = "p − y" if pw == 1.0 else f"(1 − y)·p − {fmt(pw, 2)}·y·(1 − p)"
        self.grad_plot.setLabel("left", "dL/dz = p − y" if pw == 1.0 else "dL/dz (weighted)")
        tip = (f"dL/dz = {pull}: how hard each known firm pulls its logit z (negative: "
               "towards default)")
        self.graphics.setToolTip(tip)
        if self._mode == "single":
            self.text.setText(f"{f.dominance_text} dL/dz = {pull}: largest "
                              f"{_pull_summary(rows)}.")
            self.text.setToolTip(f"Red bars: defaulted; blue: survived. {tip}.")
        elif self._side_by_side:  # a short panel: one line, the colours are in the tooltip
            self.text.setText(f.dominance_text)
            self.text.setToolTip(f"Red bars: defaulted; blue: survived. {tip}.")
        else:
            self.text.setText(f"{f.dominance_text} Red: defaulted, blue: survived; "
                              f"dL/dz = {pull}.")
            self.text.setToolTip(tip)

    #: Below this view height (px) the two plots do not stack (each keeps >= 180 px).
    STACK_MIN_PX = 400

    def _arrange(self) -> None:
        """The two plots side by side in a wide, short panel, stacked in a tall one; in a
        panel that is neither, the BCE bars alone (dL/dz then in the text below)."""
        w, h = self.graphics.width(), self.graphics.height()
        mode = "side" if (w > 1.5 * h and w >= 640) else (
            "stack" if h >= self.STACK_MIN_PX else "single")
        if mode == self._mode:
            return
        self._mode = mode
        self._side_by_side = mode == "side"
        # place_plots: hidden, the gradient plot stays in the scene (never orphaned)
        place_plots(self.graphics.ci, [self.grad_plot],
                    [] if mode == "single" else
                    [(self.grad_plot, 0 if mode == "side" else 1, 1 if mode == "side" else 0)])
        bottom_values = mode != "stack"
        self.loss_plot.getAxis("bottom").setStyle(showValues=bottom_values)
        self.loss_plot.setLabel("bottom", "known firm (largest loss first)" if bottom_values
                                else None)
        if not bottom_values:
            self.loss_plot.getAxis("bottom").showLabel(False)
        self._ticks_key = None

    def _set_ticks(self, rows) -> None:
        width = max((self.graphics.width() / (2 if self._side_by_side else 1)) - 60, 50)
        per = _font(_theme.current(), 0.9)
        step = 1
        k = len(rows)
        while k and (k / step) * (per.pointSizeF() * 2.4) > width:
            step += 1
        key = (tuple(r.index for r in rows), step)
        if key == self._ticks_key:
            return
        self._ticks_key = key
        ticks = [(float(n), str(r.index + 1)) for n, r in enumerate(rows) if n % step == 0]
        self.grad_plot.getAxis("bottom").setTicks([ticks, []])
        self.loss_plot.getAxis("bottom").setTicks([ticks, []])
        self.loss_plot.getAxis("bottom").setStyle(showValues=self._mode != "stack")

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self.graphics.setBackground(theme.background)
        _theme.style_plot(self.loss_plot, theme, grid="y")
        _theme.style_plot(self.grad_plot, theme, grid="y")
        self.zero.setPen(theme.pen(theme.foreground, width=1))
        self.text.setFont(_font(theme, 0.85))
        self._ticks_key = None

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._ticks_key = None
        self._dirty = True
        self.schedule()


# ----------------------------------------------------------------------------- controls


class GraphControls(_GraphPanel):
    """The network, the selected firm, training and the loss's pos_weight.

    Reads every setting of the state and redraws when a stage or session
    changes them. Writes ``generate``, ``new_network``, ``set_firm_features``,
    ``toggle_known``, ``pick_for_exposure``, ``set_running``, ``step``,
    ``reset``, ``set_optimizer``, ``set_lr``, ``set_hidden_units``,
    ``set_l2``, ``set_steps_per_frame``, ``set_pos_weight``.
    """

    title = "Lending network"
    panel_id = "graph_controls"
    #: The sliders follow a drag at 20 Hz; the plots carry the live picture.
    min_interval_ms = 50
    # Not "model": nothing here shows the weights, and a training frame must not repaint
    # every slider and number box of the column.
    listens = ("data", "settings", "running", "view")

    def __init__(self, state: GraphState, parent: Optional[QWidget] = None) -> None:
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

        # -- training
        box, form = self._group("Train")
        row = QHBoxLayout()
        row.setSpacing(3)
        self.step_button = self._button("Step", "One Adam (or gradient-descent) step on the "
                                        "known firms' mean BCE", lambda: self.state.step(1))
        self.play_button = self._button("Play", "Train continuously (Space)", self._on_play)
        self.reset_button = self._button("Reset", "Fresh seeded weights, step 0 (the network "
                                         "and its outcomes stay)", self.state.reset)
        for b in (self.step_button, self.play_button, self.reset_button):
            row.addWidget(b)
        form.addRow(row)
        self.pos_weight = ValueControl(*POS_WEIGHT_RANGE, log=True, decimals=2,
                                       tooltip="pos_weight: the weight of a default's term in "
                                               "BCE, −pw·y·ln p − (1 − y)·ln(1 − p), as "
                                               "PyTorch's BCEWithLogitsLoss; both models use it")
        self.pos_weight.valueChanged.connect(lambda v: self._guard(self.state.set_pos_weight, v))
        self.balance_button = self._button("Balance the classes",
                                           "Set pos_weight to the known survivors per known "
                                           "default", self._on_balance)
        form.addRow("pos_weight", self.pos_weight)
        form.addRow(self.balance_button)
        self.optimizer = QComboBox()
        self.optimizer.addItem("Adam", "adam")
        self.optimizer.addItem("gradient descent", "gd")
        self.optimizer.setToolTip("Full-batch Adam (β 0.9, 0.999, as torch.optim.Adam) or "
                                  "plain gradient descent")
        self.optimizer.activated.connect(
            lambda i: self._guard(self.state.set_optimizer, self.optimizer.itemData(i)))
        form.addRow("Optimiser", self.optimizer)
        self.lr = ValueControl(*LR_RANGE, log=True, decimals=4,
                               tooltip="Learning rate η of each step")
        self.lr.valueChanged.connect(lambda v: self._guard(self.state.set_lr, v))
        form.addRow("η", self.lr)
        self.l2 = ValueControl(1e-4, L2_RANGE[1], log=True, zero=True, decimals=4,
                               tooltip="L2 λ on the weights (not the biases) of both models: "
                                       "the objective adds λ/2·||W||²")
        self.l2.valueChanged.connect(lambda v: self._guard(self.state.set_l2, v))
        form.addRow("L2 λ", self.l2)
        self.hidden = QSpinBox()
        self.hidden.setRange(*HIDDEN_RANGE)
        self.hidden.setToolTip("Hidden units of the first graph layer; changing it restarts "
                               "the model from fresh weights")
        self.hidden.valueChanged.connect(
            lambda v: self._guard(self.state.set_hidden_units, int(v)))
        form.addRow("Hidden units", self.hidden)
        self.speed = QSpinBox()
        self.speed.setRange(*SPEED_RANGE)
        self.speed.setToolTip("Training steps per frame while playing")
        self.speed.valueChanged.connect(
            lambda v: self._guard(self.state.set_steps_per_frame, int(v)))
        form.addRow("Steps/frame", self.speed)
        layout.addWidget(box)

        # -- selected firm
        box, form = self._group("Selected firm")
        self.firm_label = _plain()
        self.firm_label.setObjectName("graph_controls_firm")
        form.addRow(self.firm_label)
        self.leverage = ValueControl(*_g.LEVERAGE_RANGE, decimals=3,
                                     tooltip="Leverage: debt / total assets of the selected "
                                             "firm (0.6 = 60 %)")
        self.leverage.valueChanged.connect(lambda v: self._set_feature(leverage=v))
        form.addRow("Leverage", self.leverage)
        self.liquidity = ValueControl(*_g.LIQUIDITY_RANGE, decimals=2,
                                      tooltip="Liquidity: liquid assets / short-term "
                                              "liabilities of the selected firm (below 1 it "
                                              "cannot cover its bills)")
        self.liquidity.valueChanged.connect(lambda v: self._set_feature(liquidity=v))
        form.addRow("Liquidity", self.liquidity)
        row = QHBoxLayout()
        row.setSpacing(3)
        self.known_button = self._button("Reveal", "Reveal the selected firm's outcome "
                                         "(it joins the training set) or hide it again",
                                         self._on_known)
        self.link_button = self._button("Link…", "Pick the selected firm, then click another "
                                        "firm in the network: their exposure is added or "
                                        "removed", self._on_link)
        row.addWidget(self.known_button)
        row.addWidget(self.link_button)
        form.addRow(row)
        layout.addWidget(box)

        # -- network
        box, form = self._group("Network (illustrative)")
        self.n_firms = QSpinBox()
        self.n_firms.setRange(*_g.N_FIRMS_RANGE)
        self.n_firms.setToolTip("Firms in the network (15–40); a new network is drawn")
        self.n_firms.setKeyboardTracking(False)
        self.n_firms.valueChanged.connect(
            lambda v: self._guard(self.state.generate, n_firms=int(v)))
        form.addRow("Firms", self.n_firms)
        self.seed = QSpinBox()
        self.seed.setRange(0, 99_999)
        self.seed.setKeyboardTracking(False)
        self.seed.setToolTip("Seed of the synthetic network: the same seed draws the same firms, "
                             "exposures and defaults")
        self.seed.valueChanged.connect(lambda v: self._guard(self.state.generate, seed=int(v)))
        form.addRow("Seed", self.seed)
        self.resilience = ValueControl(0.05, 1.0, decimals=2,
                                       tooltip="Resilience: how much of its lending book a firm "
                                               "can lose before it fails; lower means longer "
                                               "cascades and more defaults")
        self.resilience.valueChanged.connect(
            lambda v: self._guard(self.state.generate, resilience=v))
        form.addRow("Resilience", self.resilience)
        self.known_share = ValueControl(0.2, 0.8, decimals=2,
                                        tooltip="Share of firms whose outcome is known "
                                                "(stratified: both outcomes on both sides)")
        self.known_share.valueChanged.connect(
            lambda v: self._guard(self.state.generate, known_fraction=v))
        form.addRow("Known share", self.known_share)
        self.new_button = self._button("New network", "Draw the next seed's network",
                                       lambda: self.state.new_network())
        form.addRow(self.new_button)
        self.about = _plain(GENERATING_PROCESS)
        self.about.setObjectName("graph_controls_about")
        self.about.setToolTip("How the synthetic network and its defaults were generated")
        form.addRow(self.about)
        layout.addWidget(box)
        layout.addStretch(1)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    # ---------------------------------------------------------------- building
    def _group(self, title: str) -> tuple[QGroupBox, QFormLayout]:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setContentsMargins(4, 4, 4, 4)
        form.setSpacing(3)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return box, form

    def _button(self, text: str, tip: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # Shrinkable: three buttons share the narrow controls column without clipping it.
        button.setMinimumWidth(0)
        button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        button.clicked.connect(lambda: self._guard(slot))
        return button

    # ---------------------------------------------------------------- gestures
    def _on_play(self) -> None:
        self.state.set_running(not self.state.running)

    def _on_balance(self) -> None:
        self.state.set_pos_weight(self.state.balanced_pos_weight())

    def _on_known(self) -> None:
        if self.state.selected is None:
            raise LabError("select a firm first (click it in the network)")
        self.state.toggle_known(self.state.selected)

    def _on_link(self) -> None:
        if self.state.selected is None:
            raise LabError("select a firm first (click it in the network)")
        self.state.pick_for_exposure(self.state.selected)

    def _set_feature(self, **change) -> None:
        i = self.state.selected
        if i is None:
            return
        self._guard(self.state.set_firm_features, i, **change)

    # ---------------------------------------------------------------- drawing
    def refresh(self) -> None:
        st: GraphState = self.state
        self.play_button.setText("Pause" if st.running else "Play")
        self.pos_weight.set_value(st.pos_weight)
        self.balance_button.setToolTip(f"Set pos_weight to the known survivors per known "
                                       f"default: {fmt(st.balanced_pos_weight(), 2)}")
        self.optimizer.setCurrentIndex(max(0, self.optimizer.findData(st.optimizer)))
        self.lr.set_value(st.lr)
        self.l2.set_value(st.l2)
        for spin, value in ((self.hidden, st.hidden_units), (self.speed, st.steps_per_frame),
                            (self.n_firms, st.n), (self.seed, int(st.network_params["seed"]))):
            if spin.value() != value:
                spin.blockSignals(True)
                spin.setValue(value)
                spin.blockSignals(False)
        self.resilience.set_value(float(st.network_params["resilience"]))
        self.known_share.set_value(float(st.known_fraction))
        i = st.selected
        enabled = i is not None
        for w in (self.leverage, self.liquidity, self.known_button, self.link_button):
            w.setEnabled(enabled)
        if i is None:
            self.firm_label.setText("None: click a firm in the network or the scatter.")
        else:
            # No P(default) here: this column does not redraw on training steps.
            outcome = ("defaulted" if st.outcomes[i] else "survived") if st.known[i] \
                else "hidden"
            self.firm_label.setText(f"Firm {i + 1}: assets €{fmt(st.size[i], 0)} m, "
                                    f"{len(st.neighbours(i))} partners, outcome {outcome}")
            self.leverage.set_value(float(st.leverage[i]))
            self.liquidity.set_value(float(st.liquidity[i]))
            self.known_button.setText("Hide" if st.known[i] else "Reveal")

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        font = _font(theme)
        for widget in self.findChildren(QWidget):
            widget.setFont(font)
        self.about.setFont(_font(theme, 0.8))
        # The number boxes were sized for the font they were built with.
        for control in self.findChildren(ValueControl):
            control.spin.setFixedWidth(control.spin.fontMetrics().horizontalAdvance("0.0000")
                                       + 12)


PANELS = {
    "network": NetworkPanel,
    "features": FeaturesPanel,
    "compare": ComparePanel,
    "training": TrainingPanel,
    "firm_loss": FirmLossPanel,
}
CONTROLS = GraphControls

__all__ = ["CONTROLS", "ComparePanel", "FeaturesPanel", "FirmLossPanel", "GraphControls",
           "NetworkPanel", "PANELS", "TrainingPanel"]
