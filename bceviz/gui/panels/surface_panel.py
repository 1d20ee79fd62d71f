"""The loss-surface panel: the training objective over (w1, w2), the weights walking down it.

Reads from the state: the training points (``X_train``, ``y_train``; held-out
points never enter the surface), ``spec``, ``training.l2`` / ``training.l1``,
the trainer's weights, bias and history, ``view.show_grad_field``.
Writes back: ``state.set_weights`` when the user drags the marker or clicks
on the surface (w1, w2 move; b and any other weights stay).

How it stays live and honest:

* **Edits are incremental.** A dragged, added, removed or relabelled point
  becomes one ``LossSurface`` edit (O(G²)); a loss setting becomes
  ``set_spec`` (cheap for non-focal losses), L2 ``set_l2``.
* **The bias slice.** The surface is the slice of the objective at one bias
  b_s (and, with extra features, at the current values of the other weights,
  as per-sample logit offsets). While training moves b, the slice is kept
  until some training logit has drifted by more than ``SLICE_TOLERANCE``
  from the slice's (|Δb| for the linear model); then it is recomputed at the
  current b in a worker thread, at most every ``RESLICE_INTERVAL_MS``. The
  caption says where the slice is and when it moves.
* **Full recomputes never block.** A new data set, feature map, focal-loss
  change or view range gets a coarse preview at once (``PREVIEW_RESOLUTION``)
  and the full grid from a worker thread (``bceviz.gui.background``). Point edits made while the
  worker runs are logged and replayed on its result; a result made stale by
  a change that cannot be replayed is dropped (``_epoch``).
* **The range follows the weights.** The view is w ∈ [−6, 6]²; when the
  weights walk towards its edge (separable data) it is extended and the
  caption says so. Resetting the weights brings back the default range.
* **Per frame** during training only the marker, the path and the drift check
  are touched (about a millisecond); the image, contours and gradient field
  are redrawn only when the surface changed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QRectF, QTimer, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QWidget

from bceviz.engine.logistic import feature_names
from bceviz.engine.surface import LossSurface
from bceviz.gui import background
from bceviz.gui import format as fmt
from bceviz.gui.contours import contour_segments
from bceviz.gui import theme as _theme
from bceviz.gui.panels.base import Panel
from bceviz.gui.panels.race_panel import RACER_COLOURS
from bceviz.gui.rendering import PathCurve, PixelMarker, RGB32ImageItem
from bceviz.model import surface_slice as _slice
from bceviz.model.state import AppState, StateError
from bceviz.model.surface_slice import (
    DEFAULT_HALF_RANGE,
    SLICE_TOLERANCE,
    SliceParams,
    nice_half_range,
)

#: Grid points per axis of the full surface.
RESOLUTION = 128
#: Grid points per axis of the coarse preview shown while the full grid is computed.
PREVIEW_RESOLUTION = 32
#: At most one background re-slice starts per this many milliseconds.
RESLICE_INTERVAL_MS = 250
#: Quantiles of the surface values at which contour lines are drawn (area below each).
CONTOUR_QUANTILES = (0.01, 0.03, 0.08, 0.16, 0.3, 0.5, 0.75)
#: The colour scale spans the minimum to this quantile of the surface values.
COLOR_TOP_QUANTILE = 0.9
#: The colour map is warped logarithmically (u -> log1p(k u) / log1p(k)) so the
#: basin, where the interesting differences are small, gets most of the colours;
#: the colour bar shows the warped map against linear ticks.
COLOR_WARP = 20.0
#: Colour and contour levels are kept until the surface's range of values moves by
#: more than this fraction of the colour span.
LEVEL_HYSTERESIS = 0.1
#: The drawn training path has at most this many vertices (every k-th record): a 2-px
#: line is stroked as an outline, so its cost grows with the vertices; ~400 look the same.
MAX_PATH_POINTS = 400
#: Arrows per axis of the negative-gradient field.
GRAD_FIELD_ARROWS = 14


def warped_colormap(name: str, warp: float = COLOR_WARP, stops: int = 64) -> pg.ColorMap:
    """The named colour map with more colour change near its low end (see COLOR_WARP)."""
    base = pg.colormap.get(name)
    pos = np.linspace(0.0, 1.0, stops)
    colors = base.map(np.log1p(warp * pos) / np.log1p(warp), mode="byte")
    return pg.ColorMap(pos, colors)


# ----------------------------------------------------------------------------
# Background recompute


#: The surface's own worker thread (other labs' background jobs never queue a
#: re-slice), run at a lower priority than the interface (background.lower_thread_priority).
SLICE_LANE = "surface-slice"
SLICE_NICE = 10


def _build_slice(params: SliceParams) -> tuple[Optional[LossSurface], Optional[str]]:
    """The worker's job: the full surface, or the error that stopped it (as text)."""
    try:
        return params.build(), None
    except Exception as exc:  # noqa: BLE001 - reported on the GUI thread, not raised in the worker
        return None, f"{type(exc).__name__}: {exc}"


@dataclass
class _Job:
    ticket: int
    epoch: int
    params: SliceParams
    edits: list = field(default_factory=list)


# ----------------------------------------------------------------------------
# The panel


class SurfacePanel(Panel):
    """Heatmap and contours of the training objective over (w1, w2), the weights and their path."""

    title = "Loss surface"
    panel_id = "surface"
    listens = ("data", "spec", "weights", "settings", "features", "view", "scrub")

    def __init__(self, state: AppState, parent: Optional[QWidget] = None) -> None:
        self._ready = False
        super().__init__(state, parent)
        theme = _theme.current()
        layout = self.vbox(self)
        self.view = pg.GraphicsLayoutWidget()
        self.plot = self.view.addPlot(enableMenu=False)
        self.plot.setLabel("bottom", "w1 (weight of x1)")
        self.plot.setLabel("left", "w2 (weight of x2)")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.vb.disableAutoRange()
        self.plot.setAspectLocked(False)
        self.view.setMinimumHeight(170)  # the plot, not the caption, gets the room
        layout.addWidget(self.view, 1)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.caption)

        # Items are created once and updated with setImage / setData.
        self.image = RGB32ImageItem(axisOrder="row-major")  # redrawn on every point drag
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), width=14, interactive=False,
                                        colorMap=warped_colormap(theme.surface_colormap),
                                        label="objective (nats)")
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.contours = PathCurve(connect="pairs", antialias=False)
        self.contours.setZValue(-5)
        self.plot.addItem(self.contours)
        self.grad_field = PathCurve(connect="pairs", antialias=False)
        self.grad_field.setZValue(-4)
        self.plot.addItem(self.grad_field)
        self.path = PathCurve()
        self.path.setZValue(5)
        self.plot.addItem(self.path)
        self.minimum = pg.ScatterPlotItem(size=10, symbol="x")
        self.minimum.setZValue(6)
        self.plot.addItem(self.minimum)
        self.marker = pg.TargetItem(pos=(0.0, 0.0), size=16, movable=True, symbol="o")
        self.marker.setZValue(10)
        self.marker.setToolTip("The current weights (w1, w2): drag to move the model")
        self.marker.setCursor(Qt.CursorShape.OpenHandCursor)
        self.plot.vb.setCursor(Qt.CursorShape.CrossCursor)
        self.plot.addItem(self.marker)
        # The optimizer race (bceviz.model.race): one path per racer in its colour and a
        # dot at each racer's weights, created once, updated with setData.
        from bceviz.model.race import MAX_RACERS, race_of

        self.race = race_of(state)
        self.race_paths = []
        for i in range(MAX_RACERS):  # (pens: apply_theme)
            item = PathCurve(pen=pg.mkPen(RACER_COLOURS[i], width=1), antialias=False)
            item.setZValue(7)
            item.setVisible(False)
            self.plot.addItem(item)
            self.race_paths.append(item)
        # one Qt ellipse per racer: a scatter item costs ~0.5 ms a paint in Python
        self.race_heads = []
        for i in range(MAX_RACERS):
            head = PixelMarker(size=9)
            head.setBrush(RACER_COLOURS[i])
            head.setPen(pg.mkPen("k", width=1))
            head.setZValue(8)
            self.plot.addItem(head, ignoreBounds=True)
            self.race_heads.append(head)
        self.race.events.race.connect(self._on_race)
        self.marker.sigPositionChanged.connect(self._on_marker_dragged)
        self.marker.sigPositionChangeFinished.connect(self._on_marker_released)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.view.setToolTip("Click anywhere on the surface to put the model's (w1, w2) there; "
                             "drag the marker to walk it around")

        # Surface bookkeeping.
        self._jobs = background.Collector(self)
        self._reslice_timer = QTimer(self)
        self._reslice_timer.setSingleShot(True)
        self._reslice_timer.timeout.connect(self._start_job_if_needed)
        self._surface: Optional[LossSurface] = None
        self._params: Optional[SliceParams] = None  # what the shown surface was built from
        self._preview = False
        self._epoch = 0
        self._ticket = 0
        self._job: Optional[_Job] = None
        self._want_full = False  # a full-resolution (re)compute is wanted
        self._last_job_start = -1e9
        self._half_range = DEFAULT_HALF_RANGE
        self._range_extended_from: Optional[float] = None
        self._train_mask = ~np.asarray(state.heldout, dtype=bool)
        self._shown_key: Any = None
        self._image_rect: Optional[tuple] = None
        self._color_levels: Optional[tuple[float, float]] = None
        self._contour_levels = np.empty(0)
        self._grad_key: Any = None
        self._path_key: Any = None
        self._setting_marker = False
        self._dragging = False
        self.error_text = ""
        #: Counters for tests and benchmarks: background jobs started, results used,
        #: results dropped as stale, point edits replayed onto a worker's result.
        self.stats = {"jobs": 0, "swapped": 0, "dropped": 0, "replayed": 0, "previews": 0}
        #: Milliseconds spent in the last refresh (for benchmarks).
        self.last_refresh_ms = 0.0
        self.apply_theme(theme)
        self._ready = True
        self._rebuild(preview=True)
        self._dirty = True
        self.flush()

    # ------------------------------------------------------------ public info
    @property
    def surface(self) -> Optional[LossSurface]:
        """The surface currently shown (a coarse preview while ``busy``)."""
        return self._surface

    @property
    def slice_bias(self) -> float:
        return self._params.bias if self._params is not None else 0.0

    @property
    def slice_offsets(self) -> Optional[np.ndarray]:
        return None if self._params is None or self._params.offsets is None \
            else self._params.offsets.copy()

    @property
    def half_range(self) -> float:
        return self._half_range

    @property
    def computing(self) -> bool:
        """True while a full-resolution surface is being computed or is due."""
        return self._job is not None or self._want_full or self._preview

    @property
    def busy(self) -> bool:
        """True while a redraw is pending or the full-resolution surface is not shown yet."""
        return self._dirty or self.computing

    # ------------------------------------------------------------------ theme
    def apply_theme(self, theme: _theme.Theme) -> None:
        _theme.style_plot(self.plot, theme, grid=False)
        self.view.setBackground(theme.background)
        self.colorbar.setColorMap(warped_colormap(theme.surface_colormap))
        font = QFont()
        font.setPointSizeF(theme.font_pt * 0.9)  # as the plot's own axes (theme.style_plot)
        for name in ("left", "right", "top", "bottom"):  # the colour bar's axes follow the theme
            axis = self.colorbar.getAxis(name)
            if axis is not None:
                axis.setPen(theme.pen(theme.foreground, width=1))
                axis.setTextPen(theme.pen(theme.foreground, width=1))
                axis.setTickFont(font)
                axis.label.setFont(font)
                axis.label.setDefaultTextColor(pg.mkColor(theme.foreground))
        # Racers' paths: 1 px in the window, 2 px in presentation (a room needs it; PathCurve
        # draws it as three 1-px lines, ~1-3 ms more a racing frame: README's race figures).
        # A wider pen would be stroked as an outline, ~10x slower on a long path.
        racer_width = 2.0 if theme.scale > 1.0 else 1.0
        for i, item in enumerate(self.race_paths):
            item.setPen(pg.mkPen(RACER_COLOURS[i], width=racer_width))
        self.contours.setPen(pg.mkPen((255, 255, 255, 140), width=1.0 * theme.scale))
        self.grad_field.setPen(pg.mkPen((255, 255, 255, 150), width=1.0 * theme.scale))
        self.path.setPen(theme.pen(theme.accent, width=theme.line_width))
        self.minimum.setPen(pg.mkPen("#ffffff", width=2 * theme.scale))
        self.minimum.setSize(10 * theme.scale)
        self.marker.setPen(pg.mkPen("#000000", width=1.5 * theme.scale))
        self.marker.setBrush(theme.brush(theme.accent))
        self.marker.setHoverBrush(theme.brush("#ffffff"))
        self.caption.setStyleSheet(f"color: {theme.muted}; font-size: {theme.font_pt * 0.9:.1f}pt;")

    # ----------------------------------------------------------------- events
    def on_event(self, name: str, **info) -> None:
        if not self._ready:
            return
        try:
            if name == "data":
                self._on_data(info.get("kind"), info.get("index"))
            elif name == "spec":
                self._on_spec()
            elif name == "settings":
                self._on_settings()
            elif name == "features":
                self._rebuild(preview=True)
            elif name == "weights" and info.get("reason") == "reset":
                if self._half_range != DEFAULT_HALF_RANGE:
                    self._half_range = DEFAULT_HALF_RANGE
                    self._range_extended_from = None
                    self._rebuild(preview=True)
        except Exception as exc:  # noqa: BLE001 - keep the app alive; say what happened
            self.error_text = f"Loss surface could not update: {exc}"
            self._rebuild(preview=True)

    def _on_data(self, kind: Optional[str], index: Optional[int]) -> None:
        state = self.state
        mask = self._train_mask
        new_mask = ~np.asarray(state.heldout, dtype=bool)
        surface = self._surface
        if surface is None or kind not in ("move", "label", "add", "remove") or index is None:
            self._train_mask = new_mask.copy()
            self._rebuild(preview=True)
            return
        i = int(index)
        edit: Optional[tuple] = None
        if kind in ("move", "label"):
            if len(mask) != len(new_mask) or i >= len(mask):
                self._train_mask = new_mask.copy()
                self._rebuild(preview=True)
                return
            if mask[i]:
                j = int(np.count_nonzero(mask[:i]))
                if kind == "move":
                    edit = ("move", j, state.X[i].copy(), self._offset_of_point(state.X[i]))
                else:
                    edit = ("label", j, float(state.y[i]))
        elif kind == "add":
            if len(new_mask) != len(mask) + 1 or i != len(mask):
                self._train_mask = new_mask.copy()
                self._rebuild(preview=True)
                return
            if new_mask[i]:
                edit = ("add", state.X[i].copy(), float(state.y[i]),
                        self._offset_of_point(state.X[i]))
        elif kind == "remove":
            if len(new_mask) != len(mask) - 1 or i >= len(mask):
                self._train_mask = new_mask.copy()
                self._rebuild(preview=True)
                return
            if mask[i]:
                edit = ("remove", int(np.count_nonzero(mask[:i])))
        self._train_mask = new_mask.copy()
        if edit is None:
            return
        _apply_edit(surface, edit, self._params)
        if self._job is not None:
            self._job.edits.append(edit)

    def _on_spec(self) -> None:
        spec = self.state.spec
        params = self._params
        if self._surface is None or params is None:
            self._rebuild(preview=True)
            return
        if spec == params.spec:
            return
        if spec.is_focal or params.built_focal:
            # A focal loss has no cheap decomposition (and a surface built focal has no
            # non-focal sums): preview now, the full grid in the background. A surface
            # built non-focal keeps those sums, so leaving focal is O(G²).
            self._rebuild(preview=True)
            return
        self._surface.set_spec(spec)
        params.spec = spec

    def _on_settings(self) -> None:
        l2 = float(self.state.training.l2)
        params = self._params
        if self._surface is None or params is None:
            return
        if l2 != params.l2:
            self._surface.set_l2(l2)
            params.l2 = l2

    # ------------------------------------------------------------ computation
    def _current_offsets(self) -> Optional[np.ndarray]:
        """Per-training-point logit of the weights other than w1, w2 (None for linear)."""
        return _slice.current_offsets(self.state)

    def _offset_of_point(self, x) -> float:
        """The slice's logit offset of a point at x: its extra features · the slice's weights."""
        params = self._params
        if params is None or params.w_other is None:
            return 0.0
        f = self.state.features_of(np.asarray(x, dtype=np.float64).reshape(1, 2))
        if f.shape[1] - 2 != params.w_other.shape[0]:
            return 0.0
        return float(f[0, 2:] @ params.w_other)

    def _snapshot(self, resolution: int) -> SliceParams:
        return _slice.slice_params(self.state, self._half_range, resolution)

    def _rebuild(self, *, preview: bool) -> None:
        """The shown surface is invalid: show a coarse preview now, the full grid later."""
        self._epoch += 1
        self._grow_range_for(self.state.trainer.w)
        if preview:
            params = self._snapshot(PREVIEW_RESOLUTION)
            try:
                self._surface = params.build() if params.X.shape[0] else None
                self.error_text = ""
            except Exception as exc:  # noqa: BLE001 - shown as the panel's error text
                self._surface = None
                self.error_text = f"Loss surface could not be computed: {exc}"
            self._params = params if self._surface is not None else None
            self._preview = self._surface is not None
            self.stats["previews"] += 1
        self._want_full = True
        self._start_job_if_needed()

    def _drift(self) -> float:
        """Largest change of a training logit between the slice and the current model."""
        return _slice.slice_drift(self.state, self._params)

    def _grow_range_for(self, w) -> bool:
        """Extend the half-range if (w1, w2) is near its edge; True if it changed."""
        new = _slice.grown_half_range(w, self._half_range)
        if new is None:
            return False
        if self._range_extended_from is None:
            self._range_extended_from = self._half_range
        self._half_range = new
        return True

    def _check_slice(self) -> None:
        """Per frame: ask for a re-slice if the model left the slice or the range."""
        if self._surface is None and self._params is None and not self._want_full:
            if self.state.n_train:
                self._rebuild(preview=True)
            return
        if not self._dragging and self._grow_range_for(self.state.trainer.w):
            # (not under a dragging pointer: the view would jump; done on release)
            self._rebuild(preview=True)
            return
        if self._drift() > SLICE_TOLERANCE:
            self._want_full = True
        if self._want_full:
            self._start_job_if_needed()

    def _start_job_if_needed(self) -> None:
        if not self._want_full or self._job is not None:
            return
        if self.state.n_train == 0:
            self._want_full = False
            self._surface, self._params, self._preview = None, None, False
            self.schedule()
            return
        wait_ms = RESLICE_INTERVAL_MS - (time.perf_counter() - self._last_job_start) * 1000.0
        if wait_ms > 0 and not self._preview:
            if not self._reslice_timer.isActive():
                self._reslice_timer.start(int(wait_ms) + 1)
            return
        self._reslice_timer.stop()
        self._want_full = False
        self._ticket += 1
        params = self._snapshot(RESOLUTION)
        self._job = _Job(self._ticket, self._epoch, params)
        self._last_job_start = time.perf_counter()
        self.stats["jobs"] += 1
        ticket = self._ticket
        self._jobs.start(
            background.lane(SLICE_LANE, nice=SLICE_NICE), lambda: _build_slice(params),
            lambda result: self._on_job_finished(ticket, *result),
            lambda exc: self._on_job_finished(ticket, None, f"{type(exc).__name__}: {exc}"))
        self.schedule()

    def _on_job_finished(self, ticket: int, surface: Optional[LossSurface],
                         error: Optional[str]) -> None:
        if not shiboken6.isValid(self):
            return
        job = self._job
        if job is None or ticket != job.ticket:
            return
        self._job = None
        if surface is None:
            self.error_text = f"Loss surface could not be computed: {error}"
            self._preview = False  # keep what is shown; do not retry in a loop
        elif job.epoch == self._epoch:
            params = job.params
            try:
                for edit in job.edits:
                    _apply_edit(surface, edit, params)
                spec = self.state.spec
                if spec != params.spec:  # both non-focal, else the epoch would differ
                    surface.set_spec(spec)
                    params.spec = spec
                l2 = float(self.state.training.l2)
                if l2 != params.l2:
                    surface.set_l2(l2)
                    params.l2 = l2
            except Exception as exc:  # noqa: BLE001 - shown as the panel's error text
                self.error_text = f"Loss surface could not update: {exc}"
                self._want_full = True
            else:
                self._surface, self._params, self._preview = surface, params, False
                self.error_text = ""
                self.stats["swapped"] += 1
                self.stats["replayed"] += len(job.edits)
        else:
            self._want_full = True  # the world changed under the worker: go again
            self.stats["dropped"] += 1
        self._dirty = True
        self._start_job_if_needed()
        self.schedule()

    # ---------------------------------------------------------------- drawing
    def refresh(self) -> None:
        t0 = time.perf_counter()
        self._check_slice()
        self._draw_surface()
        self._draw_weights()
        self._draw_race()
        self._update_caption()
        self.last_refresh_ms = (time.perf_counter() - t0) * 1000.0

    def _draw_surface(self) -> None:
        surface = self._surface
        show_field = bool(self.state.view.show_grad_field)
        if surface is not None and surface.n_points == 0:
            surface = None
        if surface is None:
            if self._shown_key is not None:
                self.image.clear()
                self.contours.setData([], [])
                self.grad_field.setData([], [])
                self.minimum.setData([], [])
                self._shown_key = None
            self.grad_field.setVisible(False)
            return
        key = (id(surface), surface.version, self.state.training.l1)
        if key != self._shown_key:
            self._shown_key = key
            values = self._display_values(surface)
            w1, w2 = np.asarray(surface.w1), np.asarray(surface.w2)
            finite = values[np.isfinite(values)]
            if finite.size == 0:
                return
            self.image.setImage(values, autoLevels=False)
            dx = (w1[-1] - w1[0]) / max(len(w1) - 1, 1)
            dy = (w2[-1] - w2[0]) / max(len(w2) - 1, 1)
            rect = (w1[0] - dx / 2, w2[0] - dy / 2, w1[-1] - w1[0] + dx, w2[-1] - w2[0] + dy)
            new_rect = rect != self._image_rect
            if new_rect:
                self._image_rect = rect
                self.image.setRect(QRectF(*rect))
                self.plot.setRange(xRange=(w1[0], w1[-1]), yRange=(w2[0], w2[-1]), padding=0)
            # Quantiles of a 1-in-16 subsample: as good for choosing levels, 20× cheaper.
            qs = np.quantile(finite if finite.size <= 4096 else values[::4, ::4].ravel(),
                             (0.0, *CONTOUR_QUANTILES, COLOR_TOP_QUANTILE))
            lo, hi = float(finite.min()), float(qs[-1])
            if not hi > lo:
                hi = lo + 1e-9 * max(1.0, abs(lo)) + 1e-12
            old = self._color_levels
            # Levels move only when the surface changed noticeably: while a point is
            # dragged the contours then slide with the surface instead of jumping, and
            # the colour bar's axis is not redrawn every frame.
            if new_rect or old is None or max(abs(lo - old[0]), abs(hi - old[1])) > \
                    LEVEL_HYSTERESIS * (old[1] - old[0]):
                self._color_levels = (lo, hi)
                self._contour_levels = np.unique(qs[1:-1])
                self.colorbar.setLevels((lo, hi))
            xs, ys = contour_segments(values, self._contour_levels, w1, w2)
            self.contours.setData(xs, ys)
            r, c = np.unravel_index(int(np.argmin(values)), values.shape)
            self.minimum.setData([float(w1[c])], [float(w2[r])])
        gkey = (key, show_field)
        if gkey != self._grad_key:
            self._grad_key = gkey
            self.grad_field.setVisible(show_field)
            if show_field:
                xs, ys = self._arrows(surface)
                self.grad_field.setData(xs, ys)

    def _display_values(self, surface: LossSurface) -> np.ndarray:
        """The objective over the grid: the surface (mean loss + L2) plus the L1 term on w1, w2."""
        values = np.asarray(surface.values, dtype=np.float64)
        l1 = float(self.state.training.l1)
        if l1:
            w1, w2 = np.asarray(surface.w1), np.asarray(surface.w2)
            values = values + l1 * (np.abs(w1)[None, :] + np.abs(w2)[:, None])
        return values

    def _arrows(self, surface: LossSurface) -> tuple[np.ndarray, np.ndarray]:
        """Segments of negative-gradient arrows on a coarse grid, length ∝ sqrt(|gradient|)."""
        w1, w2 = np.asarray(surface.w1), np.asarray(surface.w2)
        g1, g2 = _surface_gradient(surface)
        l1 = float(self.state.training.l1)
        if l1:
            g1 = g1 + l1 * np.sign(w1)[None, :]
            g2 = g2 + l1 * np.sign(w2)[:, None]
        n = len(w1)
        step = max(1, n // GRAD_FIELD_ARROWS)
        idx = np.arange(step // 2, n, step)
        X1, X2 = np.meshgrid(w1[idx], w2[idx])
        u, v = -g1[np.ix_(idx, idx)], -g2[np.ix_(idx, idx)]
        mag = np.hypot(u, v)
        finite = np.isfinite(mag)
        top = float(mag[finite].max()) if finite.any() else 0.0
        if top <= 0:
            return np.empty(0), np.empty(0)
        cell = (w1[-1] - w1[0]) / max(len(idx), 1)
        length = 0.85 * cell * np.sqrt(np.where(finite, mag, 0.0) / top)
        with np.errstate(invalid="ignore", divide="ignore"):
            ux = np.where(mag > 0, u / mag, 0.0)
            uy = np.where(mag > 0, v / mag, 0.0)
        x0, y0 = X1 - 0.5 * length * ux, X2 - 0.5 * length * uy
        x1, y1 = X1 + 0.5 * length * ux, X2 + 0.5 * length * uy
        head = 0.35 * length
        ca, sa = math.cos(0.45), math.sin(0.45)
        hx1 = x1 - head * (ux * ca - uy * sa)
        hy1 = y1 - head * (uy * ca + ux * sa)
        hx2 = x1 - head * (ux * ca + uy * sa)
        hy2 = y1 - head * (uy * ca - ux * sa)
        xs = np.stack([x0, x1, x1, hx1, x1, hx2], axis=-1).ravel()
        ys = np.stack([y0, y1, y1, hy1, y1, hy2], axis=-1).ravel()
        return xs, ys

    def _draw_weights(self) -> None:
        trainer = self.state.trainer
        w = self.state.shown_weights()[0]  # the timeline's record when scrubbed
        if len(w) >= 2 and not self._dragging:
            self._setting_marker = True
            try:
                self.marker.setPos(float(w[0]), float(w[1]))
            finally:
                self._setting_marker = False
        hist = trainer.history
        scrub = self.state.scrub_index
        n = len(hist) if scrub is None else scrub + 1  # the path up to the step shown
        key = (id(hist), n, trainer.steps, float(w[0]) if len(w) else 0.0,
               float(w[1]) if len(w) > 1 else 0.0)
        if key != self._path_key:
            self._path_key = key
            if n and hist.w.shape[1] >= 2:
                ws = hist.w[:n]
                stride = -(-n // MAX_PATH_POINTS)  # ceil: the history itself thins old steps
                path = np.array(ws[::stride, :2]) if stride > 1 else np.array(ws[:, :2])
                if stride > 1 and (n - 1) % stride:
                    path = np.vstack([path, ws[-1:, :2]])  # always end at the current weights
                self.path.setData(path[:, 0], path[:, 1])
            else:
                self.path.setData([], [])

    def _on_race(self, kind: str = "", **_) -> None:
        if shiboken6.isValid(self) and self._handlers:
            self.schedule(paced=kind == "step")

    def _draw_race(self) -> None:
        """Each racer's (w1, w2) path and its head; hidden items for absent racers."""
        figs = self.race.figures()
        key = (self.race.version, len(figs))
        if key == getattr(self, "_race_key", None):
            return
        self._race_key = key
        for i, (item, head) in enumerate(zip(self.race_paths, self.race_heads)):
            f = figs[i] if i < len(figs) else None
            if f is None or len(f.path) == 0:
                if item.isVisible():
                    item.setVisible(False)
                if head.isVisible():
                    head.setData([], [])
                continue
            item.setData(f.path[:, 0], f.path[:, 1])
            item.setVisible(True)
            head.setData(f.path[-1:, 0], f.path[-1:, 1])

    def caption_text(self) -> str:
        """The caption under the plot: where the slice is, what changed, what to do."""
        state = self.state
        params = self._params
        parts = []
        if self.error_text:
            parts.append(self.error_text + ".")
        if params is None:
            parts.append("No training points: nothing to show." if state.n_train == 0
                         else "Computing the loss surface…")
            return " ".join(parts)
        tol = fmt.num(SLICE_TOLERANCE)
        parts.append(f"Slice at b = {fmt.num(params.bias, 3)} "
                     f"(recomputed when b moves by > {tol}).")
        if params.offsets is not None:
            names = _other_feature_names(state.features)
            if len(names) == 1:
                parts.append(f"The weight of {names[0]} is held at its current value.")
            else:
                parts.append(f"The weights of the {len(names)} other features ({names[0]}, …) "
                             f"are held at their current values.")
        if self._range_extended_from is not None:
            parts.append(f"Range extended to ±{fmt.num(self._half_range, 3)}: the weights walked "
                         f"off ±{fmt.num(self._range_extended_from, 3)}.")
        if self._preview:
            parts.append("Coarse preview; full grid computing…")
        parts.append("Drag the orange marker, or click, to move (w1, w2).")
        return " ".join(parts)

    def details_text(self) -> str:
        """The longer explanation (the caption's tooltip)."""
        state = self.state
        params = self._params
        if params is None:
            return self.caption_text()
        tol = fmt.num(SLICE_TOLERANCE)
        objective = "mean loss"
        if params.l2:
            objective += f" + {fmt.num(params.l2, 3)}/2·(w1² + w2²)"
        if state.training.l1:
            objective += f" + {fmt.num(state.training.l1, 3)}·(|w1| + |w2|)"
        lines = [
            f"Heatmap and contours: the training objective ({objective}) of the "
            f"{params.X.shape[0]} training points over a grid of (w1, w2); held-out points "
            f"are not in it. × marks the lowest grid point of this slice.",
            f"The bias b is not a grid axis: the surface is the slice at b = "
            f"{fmt.num(params.bias, 3)}. While training moves b the slice is kept until some "
            f"training logit differs from the slice's by more than {tol}, then recomputed at "
            f"the current b in the background (at most {1000 // RESLICE_INTERVAL_MS} times a "
            f"second; the old slice stays on screen meanwhile).",
        ]
        if params.offsets is not None:
            lines.append("Weights other than w1, w2 are held at their values when the slice "
                         "was taken (as a fixed logit per point); their penalty is a constant "
                         "left out of the picture.")
        lines.append("The colours are stretched towards the low end (see the colour bar) so "
                     "the basin stays readable; contours are at quantiles of the surface.")
        lines.append("Drag the orange marker, or click anywhere, to put the model's (w1, w2) "
                     "there (b and any other weights stay).")
        return "\n".join(lines)

    def _update_caption(self) -> None:
        text = self.caption_text()
        if text != self.caption.text():
            self.caption.setText(text)
            # Grow-only height: a re-slice that rewraps the caption must not make the plot
            # above it jump (reset on resize).
            h = self.caption.heightForWidth(max(self.caption.width(), 1))
            if h > self.caption.minimumHeight():
                self.caption.setMinimumHeight(h)
        details = self.details_text()
        if details != self.caption.toolTip():
            self.caption.setToolTip(details)

    # ---------------------------------------------------------- interaction
    def _move_weights_to(self, w1: float, w2: float) -> None:
        if not (math.isfinite(w1) and math.isfinite(w2)):
            return
        w = self.state.trainer.w
        if len(w) < 2:
            return
        w[0], w[1] = w1, w2
        try:
            self.state.set_weights(w)
        except (StateError, ValueError) as exc:
            self.state.set_status(f"Cannot move the weights there: {exc}", "warning")

    def _on_marker_dragged(self, item) -> None:
        if self._setting_marker:
            return
        self._dragging = bool(getattr(item, "moving", False))
        pos = item.pos()
        self._move_weights_to(float(pos.x()), float(pos.y()))

    def _on_marker_released(self, item) -> None:
        self._dragging = False
        self.schedule()

    def _on_scene_clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        vb = self.plot.vb
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = vb.mapSceneToView(ev.scenePos())
        ev.accept()
        self._move_weights_to(float(p.x()), float(p.y()))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self.caption.setMinimumHeight(0)
        super().resizeEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt name
        self._reslice_timer.stop()
        self._jobs.cancel()  # a closed panel takes no result (a job under way finishes unseen)
        self._job = None
        self.detach()
        super().closeEvent(event)


# ----------------------------------------------------------------------------
# Helpers


def _apply_edit(surface: LossSurface, edit: tuple, params: Optional[SliceParams]) -> None:
    """Apply one point edit to a surface and mirror it in the params it was built from."""
    kind = edit[0]
    has_offsets = params is not None and params.offsets is not None
    if kind == "move":
        _, j, x, offset = edit
        surface.move_point(j, x, offset=offset if has_offsets else None)
        if params is not None:
            params.X[j] = x
            if has_offsets:
                params.offsets[j] = offset
    elif kind == "label":
        _, j, label = edit
        surface.set_label(j, label)
        if params is not None:
            params.y[j] = label
    elif kind == "add":
        _, x, label, offset = edit
        surface.add_point(x, label, offset=offset if has_offsets else 0.0)
        if params is not None:
            params.X = np.vstack([params.X, np.reshape(x, (1, 2))])
            params.y = np.append(params.y, label)
            if has_offsets:
                params.offsets = np.append(params.offsets, offset)
    elif kind == "remove":
        _, j = edit
        surface.remove_point(j)
        if params is not None:
            params.X = np.delete(params.X, j, axis=0)
            params.y = np.delete(params.y, j)
            if has_offsets:
                params.offsets = np.delete(params.offsets, j)


def _other_feature_names(kind: str) -> list[str]:
    try:
        return list(feature_names(kind)[2:])
    except ValueError:
        return ["the other features"]


def _surface_gradient(surface: LossSurface) -> tuple[np.ndarray, np.ndarray]:
    """(d/dw1, d/dw2) of the surface over its grid, each (G, G)."""
    g = surface.gradient()
    if isinstance(g, tuple) and len(g) == 2:
        return np.asarray(g[0]), np.asarray(g[1])
    g = np.asarray(g)
    if g.ndim == 3 and g.shape[0] == 2:
        return g[0], g[1]
    if g.ndim == 3 and g.shape[-1] == 2:
        return g[..., 0], g[..., 1]
    raise ValueError(f"unexpected gradient shape {g.shape}")


__all__ = ["SurfacePanel", "contour_segments", "nice_half_range", "SliceParams",
           "SLICE_TOLERANCE", "RESOLUTION", "PREVIEW_RESOLUTION", "DEFAULT_HALF_RANGE"]
