"""The training-curves panel: loss (train and held-out), accuracy, gradient norm and ‖w‖ per step.

Reads from the state: ``trainer.history`` (steps, train loss, objective,
gradient norm, ‖w‖ and the weight path; bounded and thinned by the engine),
the held-out and training points (to score each recorded weight vector),
``spec``, ``threshold`` and ``view.units``. Writes nothing.

Held-out loss and both accuracies are not in the engine's history, so the
panel scores each *new* history record once, on the data as it was at that
moment (the same convention as the recorded train loss), and keeps the
values keyed by step; when the history thins, the kept steps are looked up,
so a frame costs O(new records), not O(history).
"""

from __future__ import annotations

import math
import time
from typing import Optional

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGraphicsItem, QHBoxLayout, QLabel, QWidget

from bceviz.engine.losses import NATS_PER_BIT
from bceviz.gui import format as fmt
from bceviz.gui import theme as _theme
from bceviz.gui.panels.base import Panel, place_plots
from bceviz.gui.rendering import PathCurve
from bceviz.model import figures as _figures

#: The four series, their axis titles and the chooser's texts.
SERIES = ("loss", "accuracy", "grad_norm", "w_norm")
SERIES_LABELS = {"loss": "loss", "accuracy": "accuracy", "grad_norm": "‖∇‖",
                 "w_norm": "‖w‖"}
SERIES_CHOICES = (("all", "all four"), ("loss", "loss"), ("accuracy", "accuracy"),
                  ("grad_norm", "gradient norm ‖∇‖"), ("w_norm", "weight norm ‖w‖"))
#: Smallest gradient norm drawn on the log axis (an exact optimum has norm 0).
GRAD_FLOOR = 1e-12
#: While training runs, the readout's numbers change at most this often (seconds).
READOUT_INTERVAL_S = 0.125
#: The smallest thumbnail (px, a plot with its axes) the "all four" view draws; in less
#: room the panel shows the loss alone, large (the chooser says so), never four slivers.
THUMB_MIN = (150, 120)
#: Curve width in pixels (times the presentation scale). Qt draws 1-px lines on a
#: fast path; wider ones are stroked as outlines, ~10× slower for a long history,
#: and these curves are redrawn on every training frame.
CURVE_WIDTH = 1.0
#: A history curve longer than this is drawn peak-downsampled (wider than any plot).
CURVE_POINTS = 2400


def _curve(pen, log_y: bool = False) -> PathCurve:
    """A history curve: peak-downsampled to CURVE_POINTS, painted into a kept pixmap.

    The pixmap is kept until the line or the view changes: a scrubbed timeline
    moves only the cursors, and the curves under them are blitted, not drawn again.
    """
    item = PathCurve(pen=pen, max_points=CURVE_POINTS, log_y=log_y)
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return item


class TrainingCurvesPanel(Panel):
    """Four small plots sharing the step axis."""

    title = "Training curves"
    panel_id = "training_curves"
    listens = ("weights", "data", "spec", "threshold", "view", "features", "running", "scrub")
    min_interval_ms = 33  # about 30 redraws a second: a growing chart, not an animation

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        theme = _theme.current()
        layout = self.vbox(self)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        self.readout = QLabel()
        self.readout.setObjectName("curves_readout")
        self.readout.setWordWrap(True)
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        top.addWidget(self.readout, 1)
        self.chooser = QComboBox()
        self.chooser.setObjectName("curves_chooser")
        self.chooser.setToolTip("Show all four curves small, or one of them large (for a room)")
        for key, text in SERIES_CHOICES:
            self.chooser.addItem(text, key)
        self.chooser.activated.connect(self._on_chooser)
        top.addWidget(self.chooser, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setContentsMargins(0, 0, 0, 0)
        self.graphics.ci.setSpacing(0)
        layout.addWidget(self.graphics, 1)

        self.loss_plot = self._plot("loss")
        self.acc_plot = self._plot("accuracy")
        self.grad_plot = self._plot("‖∇‖", log_y=True)
        self.wnorm_plot = self._plot("‖w‖")
        self.plots = (self.loss_plot, self.acc_plot, self.grad_plot, self.wnorm_plot)
        self.acc_plot.setYRange(0.0, 1.0, padding=0.02)
        self._ranges: dict = {}
        self._units = ""
        self._columns = 0
        self._arrange(2)

        def curve(plot, colour, style=None, log_y=False):
            item = _curve(theme.pen(colour, width=CURVE_WIDTH, style=style), log_y)
            plot.addItem(item)
            return item

        dash = Qt.PenStyle.DashLine
        self.loss_train = curve(self.loss_plot, theme.accent)
        self.loss_heldout = curve(self.loss_plot, theme.soft, dash)
        self.objective = curve(self.loss_plot, theme.muted, Qt.PenStyle.DotLine)
        self.acc_train = curve(self.acc_plot, theme.accent)
        self.acc_heldout = curve(self.acc_plot, theme.soft, dash)
        self.grad_curve = curve(self.grad_plot, theme.foreground, log_y=True)
        self.wnorm_curve = curve(self.wnorm_plot, theme.foreground)
        # The optimizer race: one loss curve per racer in its colour (bceviz.model.race).
        from bceviz.gui.panels.race_panel import RACER_COLOURS
        from bceviz.model.race import race_of

        self.race = race_of(state)
        self.race_curves = []
        for colour in RACER_COLOURS:
            item = _curve(pg.mkPen(colour, width=CURVE_WIDTH))
            self.loss_plot.addItem(item)
            item.setVisible(False)
            self.race_curves.append(item)
        self.race.events.race.connect(self._on_race)
        # The timeline's cursor: one vertical line per plot at the step shown, hidden at
        # the present (created once, moved with setValue).
        self.cursors = []
        for plot in self.plots:
            line = pg.InfiniteLine(angle=90, movable=False,
                                   pen=theme.pen(theme.foreground, width=1.0,
                                                 style=Qt.PenStyle.DashLine))
            line.setZValue(20)
            line.setVisible(False)
            plot.addItem(line)
            self.cursors.append(line)
        self._theme = theme

        # per-step scores of history records: steps and (heldout_loss, train_acc, heldout_acc)
        # held-out loss and accuracies per history record, scored below the GUI
        self.scores = _figures.HistoryScores()
        self._readout_at = -1e9
        self.refresh()

    def _plot(self, label: str, log_y: bool = False) -> pg.PlotItem:
        plot = pg.PlotItem(enableMenu=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setLabel("left", label, **{"font-size": "8pt"})
        left, bottom = plot.getAxis("left"), plot.getAxis("bottom")
        left.enableAutoSIPrefix(False)
        bottom.enableAutoSIPrefix(False)
        left.setWidth(46)
        bottom.setHeight(22)
        left.setStyle(maxTickLevel=1)
        bottom.setStyle(maxTickLevel=1)
        if log_y:
            plot.setLogMode(y=True)
        # No grid: the small plots read well without one.
        _theme.style_plot(plot, grid=False)
        plot.getViewBox().setMouseEnabled(x=False, y=False)
        plot.disableAutoRange()
        return plot

    def _arrange(self, columns: int) -> None:
        """Four plots as 2 × 2 or in one row (wide and short), or one plot large
        (``columns`` 1 with the view on "all": no room for four, the loss alone)."""
        single = self.state.view.curves
        key = (columns, single)
        if key == self._columns:
            return
        self._columns = key
        self._ranges.pop("x", None)  # the newly shown plot takes the current x range
        crowded = single == "all" and columns == 1
        self.chooser.setItemText(0, "loss only (small)" if crowded else "all four")
        if crowded:
            single = "loss"
        # place_plots: the plots not shown stay hidden in the scene (never orphaned)
        if single != "all":
            place_plots(self.graphics.ci, self.plots,
                        [(dict(zip(SERIES, self.plots))[single], 0, 0)])
            self._label_size(large=True)
            return
        place_plots(self.graphics.ci, self.plots,
                    [(plot, i // columns, i % columns) for i, plot in enumerate(self.plots)])
        self._label_size(large=False)

    def _label_size(self, large: bool) -> None:
        """Axis titles: small for four thumbnails, the theme's size for one large plot."""
        theme = _theme.current()
        size = f"{theme.font_pt * (1.0 if large else 0.8):.1f}pt"
        for name, plot in zip(SERIES, self.plots):
            plot.setLabel("left", SERIES_LABELS[name] + (self._units_suffix(name) if large
                                                           else ""), **{"font-size": size})
            plot.setLabel("bottom", "training step" if large else "", **{"font-size": size})
            plot.getAxis("bottom").setHeight(None if large else 22)
            plot.getAxis("left").setWidth(None if large else 46)

    def _units_suffix(self, name: str) -> str:
        if name == "loss":
            return f" ({self.state.view.units})"
        return ""

    def _on_chooser(self, index: int) -> None:
        key = self.chooser.itemData(index)
        if key and key != self.state.view.curves:
            try:
                self.state.set_view(curves=key)
            except ValueError as exc:  # StateError: a choice the state refuses
                self.state.set_status(str(exc), "error")

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._arrange(self._columns_for(self.graphics.width(), self.graphics.height()))

    @staticmethod
    def _columns_for(width: int, height: int) -> int:
        """4 (one row) for a wide short area, 2 (2 × 2), or 1 when four thumbnails of
        ``THUMB_MIN`` do not fit."""
        tw, th = THUMB_MIN
        row = width >= 4 * tw and height >= th
        grid = width >= 2 * tw and height >= 2 * th
        if row and (width > 3.2 * height or not grid):
            return 4
        return 2 if grid else 1

    def _pens(self, theme: _theme.Theme) -> None:
        dash, dot = Qt.PenStyle.DashLine, Qt.PenStyle.DotLine
        for item, colour, style in (
                (self.loss_train, theme.accent, None), (self.loss_heldout, theme.soft, dash),
                (self.objective, theme.muted, dot), (self.acc_train, theme.accent, None),
                (self.acc_heldout, theme.soft, dash), (self.grad_curve, theme.foreground, None),
                (self.wnorm_curve, theme.foreground, None)):
            item.setPen(theme.pen(colour, width=CURVE_WIDTH, style=style))

    def apply_theme(self, theme: _theme.Theme) -> None:
        from bceviz.gui.widgets import apply_palette

        apply_palette(self, theme)
        self._pens(theme)
        self.graphics.setBackground(theme.background)
        for plot in self.plots:
            _theme.style_plot(plot, theme, grid=False)
        self._theme = theme
        if self._columns:
            self._label_size(large=self._columns[1] != "all" or self._columns[0] == 1)

    # ----------------------------------------------------------------- events
    def on_event(self, name: str, **info) -> Optional[bool]:
        if name == "scrub" and info.get("kind") == "scrub":
            # the timeline moved: only the cursor moves (the curves are the same)
            self._move_cursors()
            return False
        # Past records keep the scores they had (like the engine's recorded train
        # loss); only a reset, which restarts the step count, clears them.
        if name == "weights" and info.get("reason") == "reset":
            self.scores.reset()
        if name in ("data", "features"):
            self.scores.data_changed()

    # ---------------------------------------------------------------- ranges
    # Axes are held still while the data stays well inside them: a range that
    # moved every frame would re-render every tick label every frame (and jitter).
    def _move_cursors(self) -> None:
        """The timeline's cursor at the step shown; hidden at the present."""
        st = self.state
        steps = st.trainer.history.step
        scrub = st.scrub_index
        shown = scrub is not None and scrub < len(steps)
        for line in self.cursors:
            if shown:
                line.setValue(float(steps[scrub]))
            if line.isVisible() != shown:
                line.setVisible(shown)

    def _on_race(self, kind: str = "", **_) -> None:
        if shiboken6.isValid(self) and self._handlers:
            self.schedule(paced=kind == "step")

    def _draw_race(self, scale: float):
        """Each racer's loss curve; returns (last step, every racer loss) or None."""
        figs = self.race.figures()
        for i, item in enumerate(self.race_curves):
            if i < len(figs):
                f = figs[i]
                item.setData(f.curve_steps, f.curve_loss * scale, connect="finite")
                item.setVisible(True)
            elif item.isVisible():
                item.setData([], [])
                item.setVisible(False)
        if not figs:
            return None
        last = max(float(f.curve_steps[-1]) for f in figs if len(f.curve_steps))
        return last, np.concatenate([f.curve_loss * scale for f in figs])

    def _hold_x(self, first: float, last: float) -> None:
        cur = self._ranges.get("x")
        if cur is not None and cur[0] == first and last <= cur[1] and last - first >= 0.3 * (cur[1] - cur[0]):
            return
        span = max(1.5 * (last - first), 10.0)
        self._ranges["x"] = (first, first + span)
        # a little room on the left so the first record is not under the axis; each plot
        # gets the range itself (an X link through a plot that is off screen, in the
        # one-plot view, would map through a view of no size)
        for plot in self.plots:
            plot.setXRange(first - 0.03 * span, first + span, padding=0)

    def _hold_y(self, plot: pg.PlotItem, *series, log: bool = False) -> None:
        span = _span(*series)
        if span is None:
            return
        lo, hi = span
        if log:
            lo, hi = math.log10(max(lo, GRAD_FLOOR)), math.log10(max(hi, GRAD_FLOOR))
        cur = self._ranges.get(id(plot))
        if cur is not None and cur[0] <= lo and hi <= cur[1] and hi - lo >= 0.4 * (cur[1] - cur[0]):
            return
        width = hi - lo
        if log and width < 2.0:
            # under two decades pyqtgraph labels the minor ticks too and they overlap
            mid = (lo + hi) / 2
            new = (mid - 1.0, mid + 1.0)
        else:
            # a flat series (step 0, or a loss stuck at ln 2) still gets a readable span
            magnitude = max(abs(lo), abs(hi))
            pad = max(0.1 * width, 0.05 * magnitude if magnitude > 0 else 0.05)
            new = (lo - pad, hi + pad)
        self._ranges[id(plot)] = new
        plot.setYRange(*new, padding=0)
        if log:
            # decades only: in a small plot pyqtgraph's minor-tick labels overlap
            decades = range(math.ceil(new[0]), math.floor(new[1]) + 1)
            step = max(1, len(decades) // 4)
            ticks = [(d, f"{10.0 ** d:g}" if -3 <= d <= 3 else f"1e{d}") for d in decades][::step]
            plot.getAxis("left").setTicks([ticks, []])

    # ---------------------------------------------------------------- drawing
    def refresh(self) -> None:
        st = self.state
        if self._columns and self._columns[1] != st.view.curves:
            self._arrange(self._columns[0])
        index = self.chooser.findData(st.view.curves)
        if index != self.chooser.currentIndex():
            self.chooser.setCurrentIndex(index)
        hist = st.trainer.history
        steps = np.asarray(hist.step)
        k = len(steps)
        if k == 0:
            for c in (self.loss_train, self.loss_heldout, self.objective, self.acc_train,
                      self.acc_heldout, self.grad_curve, self.wnorm_curve):
                c.setData([], [])
            self.readout.setText("no training yet")
            return
        vals = self.scores.update(st, steps, np.asarray(hist.w), np.asarray(hist.b))
        # (one record draws no line: a curve of one point shows it as a dot)
        scale = 1.0 / NATS_PER_BIT if st.view.units == "bits" else 1.0
        x = steps.astype(float)
        loss = np.asarray(hist.loss) * scale
        objective = np.asarray(hist.objective) * scale
        self.loss_train.setData(x, _finite(loss), connect="finite")
        has_penalty = bool(np.any(np.abs(objective - loss) > 1e-12))
        if has_penalty:
            self.objective.setData(x, _finite(objective), connect="finite")
        elif self.objective.xData is not None and len(self.objective.xData):
            self.objective.setData([], [])
        self.objective.setVisible(has_penalty)
        has_heldout = bool(st.heldout.any())
        self.loss_heldout.setVisible(has_heldout)
        self.acc_heldout.setVisible(has_heldout)
        if has_heldout:
            self.loss_heldout.setData(x, _finite(vals[:, 0] * scale), connect="finite")
            self.acc_heldout.setData(x, vals[:, 2], connect="finite")
        self.acc_train.setData(x, vals[:, 1], connect="finite")
        self.grad_curve.setData(x, np.maximum(_finite(np.asarray(hist.grad_norm)), GRAD_FLOOR))
        self.wnorm_curve.setData(x, _finite(np.asarray(hist.w_norm)))
        if st.view.units != self._units:
            self._units = st.view.units
            self.loss_plot.setLabel("left", f"loss, {st.view.units}", **{"font-size": "8pt"})
        race = self._draw_race(scale)
        if race is not None:
            self._hold_x(float(x[0]), max(float(x[-1]), float(race[0])))
        else:
            self._hold_x(float(x[0]), float(x[-1]))
        self._hold_y(self.loss_plot, loss, objective if has_penalty else None,
                     vals[:, 0] * scale if has_heldout else None,
                     race[1] if race is not None else None)
        self._hold_y(self.grad_plot, np.maximum(np.asarray(hist.grad_norm), GRAD_FLOOR), log=True)
        self._hold_y(self.wnorm_plot, np.asarray(hist.w_norm))
        self._move_cursors()

        newest = vals[-1]
        th = self._theme
        key = (f'<span style="color:{th.accent}">━ train</span>'
               + (f' <span style="color:{th.soft}">╍ held-out</span>' if has_heldout else "")
               + (f' <span style="color:{th.muted}">┈ +penalty</span>' if has_penalty else ""))
        parts = [f"step {int(steps[-1]):,}",
                 f"train {fmt.loss(float(hist.loss[-1]), st.view.units)}"]
        if has_heldout:
            parts.append(f"held-out {fmt.loss(float(newest[0]), st.view.units)}")
        if math.isfinite(newest[1]):
            parts.append(f"acc. {fmt.num(100 * newest[1], 3)} %")
        # Numbers that change 30 times a second cannot be read: while training runs the
        # readout follows at READOUT_INTERVAL_S (laying out its rich text costs ~1 ms).
        now = time.perf_counter()
        if not st.running or now - self._readout_at >= READOUT_INTERVAL_S:
            self._readout_at = now
            self.readout.setText(key + " &nbsp; " + " · ".join(parts))


def _span(*series) -> Optional[tuple[float, float]]:
    finite = [np.asarray(v, float)[np.isfinite(v)] for v in series if v is not None]
    finite = [v for v in finite if v.size]
    if not finite:
        return None
    return float(min(v.min() for v in finite)), float(max(v.max() for v in finite))


def _finite(values: np.ndarray) -> np.ndarray:
    """Non-finite values become NaN, which the curves skip (never drawn as inf)."""
    out = np.array(values, dtype=float)
    out[~np.isfinite(out)] = np.nan
    return out


__all__ = ["TrainingCurvesPanel"]
