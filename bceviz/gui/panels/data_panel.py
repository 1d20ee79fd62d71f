"""The data panel: 2-D points you can drag, add, delete and relabel over the model's P(y=1) map.

Reads from the state: ``X``, ``y``, ``heldout`` (the points), the model
(``logits_of``, ``point_losses``, ``point_grads``), ``threshold`` (the
contour), ``view`` (loss glyphs, gradient arrows, held-out points).
Writes: ``move_point`` (drag), ``add_point`` (click on empty space),
``remove_point`` (right-click or Delete on the point under the mouse),
``flip_label`` (Shift-click), ``set_view`` (the glyph check boxes).

Speed (every training frame redraws the map, the contour and, with loss
glyphs on, the marker sizes): the heatmap is one (200·200, d) @ (d,) product
on a cached feature grid, shown through an RGB32 image item (an indexed image
costs Qt ~0.8 ms a draw); the threshold contour is a vectorised
marching-squares pass over the same logits (``bceviz.gui.contours``, ~0.25 ms;
pyqtgraph's ``isocurve`` is pure Python, ~20 ms); the points use pixel-mode
symbols with a small table of cached brushes and pens, and only markers whose
size changed are re-styled. A dragged point moves its own marker (a full
``setData`` re-styles all 1,000, ~4 ms). The points' features are cached
between frames.
"""

from __future__ import annotations

import math
import time
from typing import Optional

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QWidget,
)

from bceviz.engine.losses import loss_from_logits
from bceviz.gui import theme as _theme
from bceviz.gui.contours import contour_segments as _iso_segments
from bceviz.gui.panels.base import Panel
from bceviz.gui.rendering import PathCurve, RGB32ImageItem
from bceviz.gui.safety import escape
from bceviz.model.state import StateError

#: Heatmap cells per side (≥ 200 by the panel's contract).
GRID = 200
#: The racers' boundaries are traced on every second line of the map's grid.
RACE_GRID_STRIDE = 2
#: Soft labels are drawn in this many blended colours between the two classes.
LABEL_SHADES = 21
#: While a point is dragged, the model's picture (map, boundary, loss glyphs) follows
#: training at most this often (seconds); the dragged point itself follows every move.
DRAG_MODEL_INTERVAL_S = 0.033
#: Hit radius around a point, in screen pixels (added to half the marker size).
HIT_SLOP_PX = 3.0
HINT = "Drag points · click empty space: add · Shift-click: flip · right-click: delete"


def contour_segments(values: np.ndarray, level: float, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Line segments (2k, 2) of the ``level`` set of ``values[i, j]`` sampled at (xs[i], ys[j]).

    Vectorised marching squares (``bceviz.gui.contours``, ~0.25 ms at 200²);
    consecutive rows pair up into segments (draw with ``connect="pairs"``).
    Saddle cells are resolved by the cell's mean value. Segments touching a
    non-finite value are dropped.
    """
    values = np.asarray(values, dtype=np.float64)
    sx, sy = _iso_segments(values.T, (float(level),), xs, ys)  # rows along y there
    if sx.size == 0:
        return np.empty((0, 2))
    segs = np.column_stack([sx, sy])
    ok = np.isfinite(segs).all(axis=1).reshape(-1, 2).all(axis=1)
    if not ok.all():
        segs = segs.reshape(-1, 2, 2)[ok].reshape(-1, 2)
    return segs


class _DataViewBox(pg.ViewBox):
    """A ViewBox whose left click on empty space adds a point (the points item accepts hits first)."""

    def __init__(self, panel: "DataPanel") -> None:
        super().__init__(enableMenu=False)  # (no context menu: building one costs start-up time)
        self._panel = panel

    def mouseClickEvent(self, ev):  # noqa: N802 (pyqtgraph name)
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self._panel._add_at(self.mapSceneToView(ev.scenePos()), ev.modifiers())
            return
        super().mouseClickEvent(ev)


class _PointsItem(pg.ScatterPlotItem):
    """The data points; mouse drags, clicks and hovering are handled by the panel."""

    def __init__(self, panel: "DataPanel") -> None:
        super().__init__(pxMode=True, antialias=True)
        self._panel = panel
        self.setAcceptHoverEvents(True)
        #: While set, a change repaints only this rectangle (view coordinates), not the
        #: whole cloud and everything under it.
        self.dirty_rect: Optional[QRectF] = None

    def invalidate(self):
        if getattr(self, "dirty_rect", None) is None:  # (also while pyqtgraph builds the item)
            super().invalidate()
        else:
            self.picture = None
            self.update(self.dirty_rect)

    def spots_rect(self, xs: np.ndarray, ys: np.ndarray, sizes: np.ndarray) -> Optional[QRectF]:
        """The rectangle (view coordinates) covering markers of ``sizes`` px at (xs, ys)."""
        px, py = self.pixelVectors()
        if px is None or py is None or len(xs) == 0:
            return None
        half = np.max(sizes) / 2.0 + 4.0  # pixels: the marker, its pen, antialiasing
        hx, hy = half * px.length(), half * py.length()
        x0, x1 = float(np.min(xs)) - hx, float(np.max(xs)) + hx
        y0, y1 = float(np.min(ys)) - hy, float(np.max(ys)) + hy
        if not all(map(math.isfinite, (x0, x1, y0, y1))):
            return None
        return QRectF(x0, y0, x1 - x0, y1 - y0)

    def update_part(self, rect: Optional[QRectF], change) -> None:
        """Run ``change()`` (which invalidates the item) repainting only ``rect`` if it is inside."""
        if rect is None or len(self.data) > 0 and not self.boundingRect().contains(rect):
            self.prepareGeometryChange()
            self.informViewBoundsChanged()
            self.bounds = [None, None]
            change()
            return
        self.dirty_rect = rect
        try:
            change()
        finally:
            self.dirty_rect = None

    def mouseDragEvent(self, ev):  # noqa: N802
        self._panel._drag(ev)

    def mouseClickEvent(self, ev):  # noqa: N802
        self._panel._click(ev)

    def hoverEvent(self, ev):  # noqa: N802
        self._panel._hover(ev)


class DataPanel(Panel):
    """Data and boundary: points over the probability map, with the threshold contour."""

    title = "Data and boundary"
    panel_id = "data"
    listens = ("data", "weights", "features", "threshold", "view", "spec", "scrub")

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        theme = _theme.current()
        layout = self.vbox(self)

        # -- tool row: class to add, overlays
        row = QHBoxLayout()
        row.setSpacing(3)
        add_label = QLabel("Add")
        add_label.setToolTip("Label of the points that clicks on empty space add")
        row.addWidget(add_label)
        self.class_group = QButtonGroup(self)
        self.class_buttons = []
        for label in (0, 1):
            button = QToolButton()
            button.setText(f"●{label}")
            button.setCheckable(True)
            button.setToolTip(f"Clicking empty space adds a point with label {label}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.class_group.addButton(button, label)
            self.class_buttons.append(button)
            row.addWidget(button)
        self.class_buttons[1].setChecked(True)
        self.glyphs_box = QCheckBox("size ∝ loss")
        self.glyphs_box.setToolTip("Marker area grows with the point's loss")
        self.glyphs_box.toggled.connect(lambda on: self._set_view(show_loss_glyphs=on))
        self.arrows_box = QCheckBox("arrows")
        self.arrows_box.setToolTip("Arrow per point: the way −dL/dx would move it, length ∝ |dL/dz|")
        self.arrows_box.toggled.connect(lambda on: self._set_view(show_grad_arrows=on))
        self.heldout_box = QCheckBox("held-out")
        self.heldout_box.setToolTip("Show the held-out points (hollow squares; not used for training)")
        self.heldout_box.toggled.connect(lambda on: self._set_view(show_heldout=on))
        for w in (self.glyphs_box, self.arrows_box, self.heldout_box):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            row.addWidget(w)
        row.addStretch(1)
        layout.addLayout(row)

        # -- plot
        self.view_box = _DataViewBox(self)
        self.plot_widget = pg.PlotWidget(viewBox=self.view_box)
        self.plot_widget.setToolTip(HINT)
        self.plot_widget.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.plot_item = self.plot_widget.getPlotItem()
        self.plot_item.setLabel("bottom", "x1")
        self.plot_item.setLabel("left", "x2")
        self.plot_item.setMenuEnabled(False)
        self.plot_item.hideButtons()
        self.view_box.setAspectLocked(True)
        self.view_box.disableAutoRange()
        layout.addWidget(self.plot_widget, 1)
        self.hint_label = QLabel(HINT)
        self.hint_label.setWordWrap(True)
        font = self.hint_label.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.hint_label.setFont(font)
        layout.addWidget(self.hint_label)

        self.image = RGB32ImageItem(axisOrder="col-major")  # redrawn every training frame
        self.image.setZValue(-10)
        self.plot_item.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=self._colormap(theme),
                                        label="P(y=1)", interactive=False, width=14)
        self.colorbar.setImageItem(self.image, insert_in=self.plot_item)
        self.contour = PathCurve(connect="pairs", pen=theme.pen(theme.foreground, width=2.0))
        self.contour.setZValue(5)
        self.plot_item.addItem(self.contour)
        # The optimizer race's boundaries (bceviz.model.race), when its panel asks for them:
        # one item per racer in its colour, created once.
        from bceviz.gui.panels.race_panel import RACER_COLOURS
        from bceviz.model.race import race_of

        self.race = race_of(state)
        self.race_contours = []
        for colour in RACER_COLOURS:
            item = PathCurve(connect="pairs", pen=pg.mkPen(colour, width=1))
            item.setZValue(4)
            item.setVisible(False)
            self.plot_item.addItem(item)
            self.race_contours.append(item)
        self._race_key = None
        self.race.events.race.connect(self._on_race)
        # width 1: Qt's fast cosmetic-line path (thicker lines cost ~10x with thousands of arrows)
        self.arrows = PathCurve(connect="pairs", pen=pg.mkPen(theme.foreground, width=1))
        self.arrows.setZValue(8)
        self.plot_item.addItem(self.arrows)
        self.points = _PointsItem(self)
        self.points.setZValue(10)
        self.plot_item.addItem(self.points)
        self.marker = pg.ScatterPlotItem(pxMode=True, size=18, symbol="o", brush=None,
                                         pen=theme.pen(theme.accent, width=2.5))
        self.marker.setZValue(12)
        self.plot_item.addItem(self.marker)
        self._style_plot(theme)

        # -- interaction state
        self.hovered: Optional[int] = None
        self.selected: Optional[int] = None
        self._drag_index: Optional[int] = None
        self._drag_offset = np.zeros(2)
        for key in (QKeySequence.StandardKey.Delete, QKeySequence(Qt.Key.Key_Backspace)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.delete_current)

        # -- caches
        self._styles(theme)
        self._grid_key = None
        self._map_key = None
        self._grid_features: Optional[np.ndarray] = None
        self._xs = self._ys = None
        self._dirty_points = True
        self._dirty_glyphs = False
        self._moved: set[int] = set()  # indices of points moved since the last redraw
        self._model_drawn_at = -1e9  # when the map and glyphs were last drawn (perf_counter)
        self._model_timer = QTimer(self)
        self._model_timer.setSingleShot(True)
        self._model_timer.timeout.connect(self._on_model_timer)
        self._point_features: Optional[np.ndarray] = None  # features of every point (cache)
        self._dirty_range = True
        self._dirty_map = True
        self.view_box.sigRangeChanged.connect(self._on_range)
        self.refresh()

    # ---------------------------------------------------------------- styling
    @staticmethod
    def _colormap(theme: _theme.Theme) -> pg.ColorMap:
        """The theme's diverging map, lightened towards the background so points stay visible."""
        base = pg.colormap.get(theme.colormap)
        colors = base.getLookupTable(0.0, 1.0, 256, alpha=False).astype(float)
        bg = np.array(pg.mkColor(theme.background).getRgb()[:3], float)
        colors = 0.6 * colors + 0.4 * bg
        return pg.ColorMap(np.linspace(0.0, 1.0, 256), colors.astype(np.uint8))

    def _styles(self, theme: _theme.Theme) -> None:
        neg = np.array(pg.mkColor(theme.neg).getRgb()[:3], float)
        pos = np.array(pg.mkColor(theme.pos).getRgb()[:3], float)
        shades = [neg + (pos - neg) * k / (LABEL_SHADES - 1) for k in range(LABEL_SHADES)]
        self._fill_brushes = np.empty(LABEL_SHADES, dtype=object)
        self._hollow_pens = np.empty(LABEL_SHADES, dtype=object)
        for k, rgb in enumerate(shades):
            colour = pg.mkColor(*rgb.astype(int))
            self._fill_brushes[k] = pg.mkBrush(colour)
            self._hollow_pens[k] = pg.mkPen(colour, width=2.0 * theme.scale)
        outline = "#ffffff" if theme.name == "light" else "#000000"
        self._fill_pen = pg.mkPen(outline, width=1.0)
        self._hollow_brush = pg.mkBrush(theme.background + "80") if theme.background.startswith("#") \
            else pg.mkBrush(None)
        self._base_size = theme.marker_size * theme.scale

    def _style_plot(self, theme: _theme.Theme) -> None:
        # No grid over the heatmap: the map and the points carry the eye.
        _theme.style_plot(self.plot_item, theme, grid=False)
        for name in ("left", "right", "top", "bottom"):
            axis = self.colorbar.getAxis(name)
            if axis is not None:
                axis.setPen(theme.pen(theme.foreground, width=1))
                axis.setTextPen(theme.pen(theme.foreground, width=1))

    def apply_theme(self, theme: _theme.Theme) -> None:
        from bceviz.gui.widgets import apply_palette

        apply_palette(self, theme)
        self._styles(theme)
        self.colorbar.setColorMap(self._colormap(theme))
        self.contour.setPen(theme.pen(theme.foreground, width=2.0))
        self.arrows.setPen(pg.mkPen(theme.foreground, width=1))
        self.marker.setPen(theme.pen(theme.accent, width=2.5))
        self.plot_widget.setBackground(theme.background)
        self._style_plot(theme)
        self._dirty_points = self._dirty_map = True
        self._map_key = None

    # ----------------------------------------------------------------- events
    def on_event(self, name: str, **info) -> None:
        if name == "data":
            index = info.get("index")
            if info.get("kind") == "move" and index is not None and not self._dirty_points:
                # a dragged point: move that one marker, refresh its feature row
                self._moved.add(int(index))
                F = self._point_features
                if F is not None and len(F) == self.state.n_points and 0 <= index < len(F):
                    F[index] = self.state.features_of(self.state.X[index:index + 1])[0]
                else:
                    self._point_features = None
            else:
                self._dirty_points = True
                self._point_features = None
            if info.get("kind") == "reset":
                self._dirty_range = True
                self.hovered = self.selected = None
            elif info.get("kind") == "remove":
                self.hovered = self.selected = None
        elif name == "view":
            self._dirty_points = True
        elif name == "features":
            self._grid_key = None
            self._point_features = None
        if name in ("data", "weights", "features", "threshold", "spec", "view", "scrub"):
            self._dirty_map = True
        if name in ("weights", "spec", "scrub") and (self.state.view.show_loss_glyphs
                                            or self.state.view.show_grad_arrows):
            self._dirty_glyphs = True

    def _on_range(self, *_) -> None:
        self._dirty_map = True
        self.schedule()

    def _set_view(self, **changes) -> None:
        try:
            self.state.set_view(**changes)
        except StateError as exc:
            self.state.set_status(str(exc), "error")

    # ---------------------------------------------------------------- drawing
    def _on_race(self, kind: str = "", **_) -> None:
        if shiboken6.isValid(self) and self._handlers and (self.race.show_boundaries
                                                          or kind in ("view", "stop")):
            self.schedule(paced=kind == "step")

    def _draw_race_boundaries(self) -> None:
        """Each racer's p = threshold line on the map's grid; hidden when not asked for."""
        race = self.race
        figs = race.figures() if race.show_boundaries else []
        grid = getattr(self, "_grid_features", None)
        key = (race.version, self._grid_key, self.state.threshold, race.show_boundaries)
        if key == self._race_key or grid is None:
            return
        self._race_key = key
        t = self.state.threshold
        # the racers' lines on every RACE_GRID_STRIDE-th grid line (a quarter of the
        # map's points): thin overlays, five of them a frame while a race runs
        s = RACE_GRID_STRIDE
        coarse = getattr(self, "_race_grid", None)
        if coarse is None or coarse[0] != self._grid_key:
            cells = self._grid_features32.reshape(len(self._xs), len(self._ys), -1)
            coarse = self._race_grid = (self._grid_key, np.ascontiguousarray(
                cells[::s, ::s].reshape(-1, cells.shape[2])), self._xs[::s], self._ys[::s])
        _, features, xs, ys = coarse
        for i, item in enumerate(self.race_contours):
            f = figs[i] if i < len(figs) else None
            if f is None or len(f.w) != grid.shape[1] or not 0.0 < t < 1.0:
                if item.isVisible():
                    item.setData([], [])
                    item.setVisible(False)
                continue
            logits = (features @ np.asarray(f.w, np.float32)
                      + np.float32(f.b)).reshape(len(xs), len(ys))
            if np.ptp(logits) > 0:
                segs = contour_segments(logits, math.log(t) - math.log1p(-t), xs, ys)
                item.setData(segs[:, 0], segs[:, 1])
            else:
                item.setData([], [])
            item.setVisible(True)

    def refresh(self) -> None:
        if self._dirty_range:
            self._dirty_range = False
            self.fit_view()
            self._label_axes()
        self._draw_race_boundaries()
        view = self.state.view
        for box, on in ((self.glyphs_box, view.show_loss_glyphs),
                        (self.arrows_box, view.show_grad_arrows),
                        (self.heldout_box, view.show_heldout)):
            if box.isChecked() != on:
                box.blockSignals(True)
                box.setChecked(on)
                box.blockSignals(False)
        # While a point is dragged, the dragged point follows the mouse at once and what
        # the model draws (map, boundary, the other points' loss glyphs) follows training
        # at most every DRAG_MODEL_INTERVAL_S: a step's full redraw would otherwise come
        # with every mouse move.
        now = time.perf_counter()
        wait = DRAG_MODEL_INTERVAL_S - (now - self._model_drawn_at)
        defer_model = self._drag_index is not None and wait > 0 and not self._dirty_points
        if self._moved and not self._dirty_points:
            moved, self._moved = self._moved, set()
            indices = np.fromiter(moved, dtype=np.intp, count=len(moved))
            if not self._move_markers(indices):
                self._dirty_points = True
            else:
                if defer_model and view.show_loss_glyphs:
                    self._set_sizes(self._glyph_sizes(), only=indices)
                self._dirty_glyphs = self._dirty_glyphs or view.show_loss_glyphs \
                    or view.show_grad_arrows
                self._update_marker()
        if defer_model and (self._dirty_glyphs or self._dirty_map):
            if not self._model_timer.isActive():
                self._model_timer.start(int(1000 * wait) + 1)
            return
        self._model_drawn_at = now
        if self._dirty_points:
            self._dirty_points = self._dirty_glyphs = False
            self._moved.clear()
            self._draw_points()
        elif self._dirty_glyphs:
            # the model moved, the points did not: only marker sizes and arrows change
            self._dirty_glyphs = False
            if view.show_loss_glyphs and len(self.points.data) == self.state.n_points:
                self._set_sizes(self._glyph_sizes())
            self._draw_arrows()
        if self._dirty_map:
            self._dirty_map = False
            self._draw_map()

    def _on_model_timer(self) -> None:
        self._dirty = True
        self.flush()

    def _label_axes(self) -> None:
        """Feature names of the points (e.g. a table's columns), else x1 and x2."""
        axes = getattr(self.state, "axes", None)
        names = ["x1", "x2"]
        if axes is not None and hasattr(axes, "axis_label"):
            try:
                names = [str(axes.axis_label(0)), str(axes.axis_label(1))]
            except (IndexError, TypeError, ValueError):
                pass
        # pyqtgraph draws axis labels as HTML: a column name is text (safety module).
        self.plot_item.setLabel("bottom", escape(names[0]))
        self.plot_item.setLabel("left", escape(names[1]))

    def fit_view(self) -> None:
        """A fixed range around the data with some padding (not auto-ranged every frame)."""
        X = self.state.X
        if len(X) == 0:
            lo, hi = np.array([-3.0, -3.0]), np.array([3.0, 3.0])
        else:
            lo, hi = X.min(axis=0), X.max(axis=0)
        centre = (lo + hi) / 2
        half = np.maximum((hi - lo) / 2, 1.0) * 1.12
        self.view_box.setRange(xRange=(centre[0] - half[0], centre[0] + half[0]),
                               yRange=(centre[1] - half[1], centre[1] + half[1]), padding=0)

    def _draw_points(self) -> None:
        st = self.state
        X, y, held = st.X, st.y, st.heldout
        n = len(y)
        if n == 0:
            self.points.clear()
            self.arrows.setData([], [])
            self._update_marker()
            return
        shade = np.clip(np.rint(y * (LABEL_SHADES - 1)).astype(int), 0, LABEL_SHADES - 1)
        brushes = self._fill_brushes[shade]
        brushes[held] = self._hollow_brush
        pens = np.full(n, self._fill_pen, dtype=object)
        pens[held] = self._hollow_pens[shade[held]]
        symbols = np.where(held, "s", "o")
        sizes = self._glyph_sizes() if st.view.show_loss_glyphs else np.full(n, self._base_size)
        self.points.setData(pos=X, brush=brushes, pen=pens, symbol=symbols, size=sizes)
        # what styles a point besides its size: its shade and whether it is held out
        self._style_codes = shade * 2 + held.astype(np.intp)
        self._styled_data = self.points.data
        if not st.view.show_heldout and held.any():
            self.points.setPointsVisible(~held)
        self._draw_arrows()
        self._update_marker()

    def _move_markers(self, indices: np.ndarray) -> bool:
        """Put the markers of moved points where the points are now (False: redraw them all).

        Writing the positions into the scatter item's table costs microseconds;
        ``setData`` re-styles every point (~4 ms for 1,000 points).
        """
        X = self.state.X
        data = self.points.data
        if len(data) != len(X) or indices.size == 0 or indices.max() >= len(X):
            return False
        xs = np.concatenate([data["x"][indices], X[indices, 0]])
        ys = np.concatenate([data["y"][indices], X[indices, 1]])
        data["x"][indices] = X[indices, 0]
        data["y"][indices] = X[indices, 1]
        # Only the old and new places repaint (unless the point left the cloud's bounds:
        # then what ScatterPlotItem.addPoints does after changing its table).
        rect = self.points.spots_rect(xs, ys, data["size"][indices]) if indices.size <= 32 else None
        self.points.update_part(rect, self.points.invalidate)
        return True

    def _set_sizes(self, sizes: np.ndarray, only: Optional[np.ndarray] = None) -> None:
        """New marker sizes (of the points ``only``, if given); only changed ones are re-styled."""
        data = self.points.data
        changed = np.flatnonzero(data["size"] != sizes)
        if only is not None:
            changed = np.intersect1d(changed, only)
        if changed.size == 0:
            return
        rect = None
        if changed.size <= 32:  # a dragged point, not a training step: repaint it alone
            rect = self.points.spots_rect(data["x"][changed], data["y"][changed],
                                          np.maximum(data["size"][changed], sizes[changed]))
        data["size"][changed] = sizes[changed]
        if rect is None:
            self._restyle(changed)
        else:
            self.points.dirty_rect = rect
            try:
                self._restyle(changed)
            finally:
                self.points.dirty_rect = None

    def _restyle(self, changed: np.ndarray) -> None:
        """Symbols of the points ``changed`` (their size changed) looked up in pyqtgraph's atlas.

        pyqtgraph's ``updateSpots`` builds and compares a style per point in
        Python (~1 ms for 1,000 points); the points share a few dozen
        (shade, held out, size) styles, so each distinct one is looked up once.
        """
        points, data = self.points, self.points.data
        codes = getattr(self, "_style_codes", None)
        if (getattr(self, "_styled_data", None) is not data or codes is None
                or len(codes) != len(data) or not points.opts["pxMode"]
                or not points.opts["useCache"] or points.opts["hoverable"]):
            data["sourceRect"][changed] = 0  # pyqtgraph re-looks-up the symbols of these only
            points.updateSpots()
            return
        key = codes[changed] * 4096 + np.clip(data["size"][changed], 0, 4095).astype(np.intp)
        unique, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        reps = changed[first]
        styles = list(zip(*points._style(["symbol", "size", "pen", "brush"], data=data, idx=reps)))
        coords = np.array([tuple(c) for c in points.fragmentAtlas[styles]],
                          dtype=data["sourceRect"].dtype)
        data["sourceRect"][changed] = coords[inverse.ravel()]
        points._maybeRebuildAtlas()
        if points.fragmentAtlas.maxWidth != points._maxSpotPxWidth:
            points._updateMaxSpotSizes(data=data)  # (forgets the bounds: only when needed)
        points.invalidate()

    def _losses(self) -> np.ndarray:
        """Per-point loss (nats) of every point: ``state.point_losses()`` on cached features."""
        st = self.state
        F = self._point_features
        if F is None or len(F) != st.n_points:
            F = self._point_features = np.array(st.features_of(st.X))  # (edited in place)
        w, b = st.shown_weights()  # the timeline's record when scrubbed
        if F.shape[1] != len(w):  # the feature map changed before our event
            self._point_features = None
            return st.point_losses()
        return loss_from_logits(F @ w + b, st.y, st.spec)

    def _glyph_sizes(self) -> np.ndarray:
        """Marker diameters (px) with area ∝ the point's loss, in whole pixels (a small symbol cache)."""
        losses = np.nan_to_num(self._losses(), nan=0.0, posinf=50.0)
        scale = self._base_size / 8.0
        return np.rint(np.clip((4.0 + 9.0 * np.sqrt(losses)) * scale, 4.0, 34.0 * scale))

    def _draw_arrows(self) -> None:
        st = self.state
        if not st.view.show_grad_arrows or st.n_points == 0:
            self.arrows.setData([], [])
            self.arrows.setVisible(False)
            return
        self.arrows.setVisible(True)
        X = st.X
        grads = np.nan_to_num(st.point_grads())  # dL/dz
        if st.features == "linear":
            dz = np.broadcast_to(st.shown_weights()[0][:2], X.shape)  # ∂z/∂x = w exactly
        else:  # central differences, all four shifted copies in one feature evaluation
            h = 1e-4
            shifts = np.array([[h, 0.0], [-h, 0.0], [0.0, h], [0.0, -h]])
            z = st.logits_of((X[None, :, :] + shifts[:, None, :]).reshape(-1, 2)).reshape(4, -1)
            dz = np.column_stack([(z[0] - z[1]) / (2 * h), (z[2] - z[3]) / (2 * h)])
        norm = np.hypot(dz[:, 0], dz[:, 1])
        ok = np.isfinite(norm) & (norm > 1e-12)
        if not st.view.show_heldout:
            ok &= ~st.heldout
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        unit = 0.08 * max(x1 - x0, y1 - y0)
        direction = np.zeros_like(dz)
        direction[ok] = dz[ok] / norm[ok, None]
        # −dL/dx = −dL/dz · ∂z/∂x: length shows |dL/dz| (capped), direction the descent
        length = unit * np.clip(np.abs(grads), 0.0, 1.5)
        vec = -np.sign(grads)[:, None] * direction * length[:, None]
        keep = ok & (length > unit * 0.02)
        start, vec = X[keep], vec[keep]
        end = start + vec
        back = -vec * 0.3
        perp = np.column_stack([-vec[:, 1], vec[:, 0]]) * 0.18
        head1, head2 = end + back + perp, end + back - perp
        pts = np.stack([start, end, end, head1, end, head2], axis=1).reshape(-1, 2)
        self.arrows.setData(pts[:, 0], pts[:, 1])

    def _draw_map(self) -> None:
        st = self.state
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        if not all(map(math.isfinite, (x0, x1, y0, y1))) or x1 <= x0 or y1 <= y0:
            return
        key = (x0, x1, y0, y1, st.features)
        if key != self._grid_key:
            dx, dy = (x1 - x0) / GRID, (y1 - y0) / GRID
            self._xs = x0 + dx * (np.arange(GRID) + 0.5)  # cell centres
            self._ys = y0 + dy * (np.arange(GRID) + 0.5)
            gx, gy = np.meshgrid(self._xs, self._ys, indexing="ij")
            self._grid_features = st.features_of(np.column_stack([gx.ravel(), gy.ravel()]))
            # the picture's arithmetic in float32: its 256 colours need 1e-7, not 1e-16,
            # and NumPy's float32 exp is vectorised (a tenth of the float64 one's time)
            self._grid_features32 = np.ascontiguousarray(self._grid_features, np.float32)
            self._grid_key = key
            self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        w, b = st.shown_weights()
        if self._grid_features.shape[1] != len(w):  # features changed before our event
            self._grid_key = None
            self._dirty_map = True
            self.schedule()
            return
        # The map is the model's alone: a dragged point (a "data" event, and "weights"
        # with reason "data") leaves it as it is.
        map_key = (key, w.tobytes(), float(b), st.threshold)
        if map_key == self._map_key:
            return
        self._map_key = map_key
        logits = (self._grid_features32 @ np.asarray(w, np.float32)
                  + np.float32(b)).reshape(GRID, GRID)
        # σ(z) = 1 / (1 + e^−z): as exact as exp(−logaddexp(0, −z)) in relative terms
        # (an overflow gives 0 where σ < 1e-38) and a third of its cost
        with np.errstate(over="ignore"):
            proba = np.exp(-logits)
            proba += 1.0
            np.reciprocal(proba, out=proba)
        self.image.setImage(proba, autoLevels=False, levels=(0.0, 1.0))
        t = st.threshold
        if 0.0 < t < 1.0 and np.ptp(logits) > 0:
            level = math.log(t) - math.log1p(-t)
            segs = contour_segments(logits, level, self._xs, self._ys)
            self.contour.setData(segs[:, 0], segs[:, 1])
        else:
            self.contour.setData([], [])
        self._draw_race_boundaries()  # on the grid just built

    def _update_marker(self) -> None:
        i = self.hovered if self.hovered is not None else self.selected
        if i is not None and 0 <= i < self.state.n_points:
            self.marker.setData(pos=self.state.X[i:i + 1])
        else:
            self.marker.setData([], [])

    # ------------------------------------------------------------ interaction
    def point_at(self, pos: QPointF) -> Optional[int]:
        """Index of the point under ``pos`` (view coordinates), nearest first; None if none."""
        st = self.state
        if st.n_points == 0:
            return None
        px, py = self.points.pixelVectors()
        if px is None or py is None:
            return None
        sx, sy = px.length(), py.length()
        if sx <= 0 or sy <= 0:
            return None
        dx = (st.X[:, 0] - pos.x()) / sx
        dy = (st.X[:, 1] - pos.y()) / sy
        d2 = dx * dx + dy * dy
        if not st.view.show_heldout:
            d2[st.heldout] = np.inf
        i = int(np.argmin(d2))
        sizes = self.points.data["size"] if len(self.points.data) == st.n_points else None
        radius = (sizes[i] if sizes is not None else self._base_size) / 2 + HIT_SLOP_PX
        return i if d2[i] <= radius * radius else None

    def _drag(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            i = self.point_at(ev.buttonDownPos())
            if i is None:
                ev.ignore()  # nothing hit: let the view pan
                return
            self._drag_index = i
            self.selected = i
            down = ev.buttonDownPos()
            self._drag_offset = self.state.X[i] - np.array([down.x(), down.y()])
        elif self._drag_index is None:
            ev.ignore()
            return
        ev.accept()
        pos = ev.pos()
        target = np.array([pos.x(), pos.y()]) + self._drag_offset
        try:
            self.state.move_point(self._drag_index, float(target[0]), float(target[1]))
        except StateError as exc:
            self.state.set_status(str(exc), "error")
            self._drag_index = None
            return
        if ev.isFinish():
            self._drag_index = None

    def _click(self, ev) -> None:
        i = self.point_at(ev.pos())
        if i is None:
            ev.ignore()  # empty space: the view box adds a point
            return
        ev.accept()
        try:
            if ev.button() == Qt.MouseButton.RightButton:
                self.state.remove_point(i)
                self.hovered = self.selected = None
            elif ev.button() == Qt.MouseButton.LeftButton:
                if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                    self.state.flip_label(i)
                self.selected = i
                self._update_marker()
        except StateError as exc:
            self.state.set_status(str(exc), "error")

    def _hover(self, ev) -> None:
        if ev.isExit():
            new = None
        else:
            new = self.point_at(ev.pos())
            if new is not None:
                # claim clicks and drags so the view does not take them
                ev.acceptDrags(Qt.MouseButton.LeftButton)
                ev.acceptClicks(Qt.MouseButton.LeftButton)
                ev.acceptClicks(Qt.MouseButton.RightButton)
        if new != self.hovered:
            self.hovered = new
            self._update_marker()

    def _add_at(self, pos: QPointF, modifiers=None) -> None:
        label = float(self.class_group.checkedId())
        try:
            i = self.state.add_point(pos.x(), pos.y(), label)
        except StateError as exc:
            self.state.set_status(str(exc), "error")
            return
        self.selected = i

    def delete_current(self) -> None:
        """Delete the hovered point, else the selected one (Delete / Backspace)."""
        i = self.hovered if self.hovered is not None else self.selected
        if i is None or not 0 <= i < self.state.n_points:
            return
        try:
            self.state.remove_point(i)
        except StateError as exc:
            self.state.set_status(str(exc), "error")
        self.hovered = self.selected = None
        self._update_marker()


__all__ = ["DataPanel", "contour_segments", "GRID"]
