"""The predictions lab's panels: where a model's loss comes from, calibration, ranking, what-ifs.

Every number and curve is one of :class:`bceviz.model.labs.predictions.Figures`,
computed by the state's pure :func:`~bceviz.model.labs.predictions.compute_figures`;
the panels draw them and turn gestures into state calls (``update``,
``choose_dataset``, ``adopt``, ``export_worst``). A refused gesture
(LabError) becomes a status message and changes nothing.

* :class:`LossesPanel` (``losses``) — per-example loss on a log axis, by
  class, with the mean, the worst 1 %'s edge and a framework's cap.
* :class:`SharesPanel` (``shares``) — the share of the total loss carried by
  the worst fraction of the examples (log axis), the worst 1, 5, 10 % marked.
* :class:`WorstPanel` (``worst``) — the worst examples (id, score, p, label,
  loss, share) and Export… (CSV).
* :class:`CalibrationPanel` (``calibration``) — the reliability diagram on the
  report rows before and after temperature scaling, with T, loss, ECE, Brier.
* :class:`RankingPanel` (``ranking``) — ROC with AUC or PR with AP, the
  threshold's point on it.
* :class:`ThresholdPanel` (``threshold``) — the confusion at a threshold (a
  slider), and the best threshold by F1 or cost chosen on the fit rows and
  reported on the others.
* :class:`PullsPanel` (``pulls``) — each example's pull |∂L/∂z| against p_t
  under the what-if setting and plain BCE, where the examples are, and how the
  total pull moves between easy/hard and positive/negative examples.
* :class:`ScoringPanel` (``scoring``) — expected log loss, Brier and 0–1 loss
  of reporting p when the truth is q (a slider), and the frameworks' caps.
* :class:`PredictionsControls` — the data (demos, Open file… with a progress
  bar and Cancel), the rows, calibration, threshold, what-if and cap settings.

Heavy work never runs on the GUI thread: a file is read and sorted in a
:class:`FileLoad` (a worker thread; progress, Cancel), and for more than
``CHEAP_ROWS`` examples the figures are computed on a worker thread
(``bceviz.gui.background``) after each setting change, the newest request winning
(:class:`FigureWorker`); smaller data is computed in place (milliseconds).
Text from a file (ids, column and file names) is shown as plain text only.
"""

from __future__ import annotations

import math
import os
import threading
import time
import weakref
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTableView,
    QWidget,
)

from bceviz.engine.losses import LossSpec, framework_ceiling
from bceviz.gui import background
from bceviz.gui import theme as _theme
from bceviz.gui.panels.base import Panel
from bceviz.gui.panels.controls import ValueControl
from bceviz.gui.safety import guarded, plain_label, shown
from bceviz.gui.widgets import apply_palette
from bceviz.model.datafiles import DataFileError
from bceviz.model.labs.base import LabError
from bceviz.model.labs.predictions import (
    CAP_NAMES,
    CAP_TEXT,
    DATASET_KEYS,
    ROWS,
    WORST_ROWS,
    Figures,
    PredictionsState,
    compute_figures,
    fmt,
    pct,
    superscript,
)
from bceviz.model.prediction_files import DEMO_FILES, KINDS, ReadOptions

#: Smallest plot inside a panel (the workbench shows all eight panels at once; a stage
#: gives its two to four panels far more).
MIN_PLOT = (220, 140)
#: Plots keep at least this height before a panel's notes step aside.
MIN_PLOT_HEIGHT = 180
DATA_FILTER = ("Model outputs (*.csv *.tsv *.txt *.npy *.npz);;CSV files (*.csv *.tsv *.txt);;"
               "NumPy (*.npy *.npz);;All files (*)")
KIND_TITLES = {"auto": "decide from the file", "logit": "logits", "prob": "probabilities"}
ROW_TITLES = {"all": "all rows", "train": "train", "validation": "validation", "test": "test"}


def _font(theme: _theme.Theme, factor: float = 1.0, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(theme.font_pt * factor)
    font.setBold(bold)
    return font


def _note(object_name: str) -> QLabel:
    """A word-wrapped plain-text label (its text may name a file or a column)."""
    label = plain_label(QLabel())
    label.setObjectName(object_name)
    label.setWordWrap(True)
    # Ignored width: a long text never widens the panel; Preferred height: the layout asks
    # the label's height for its real width (a Maximum policy would clip it at sizeHint).
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def _plot(object_name: str) -> tuple[pg.PlotWidget, pg.PlotItem]:
    widget = pg.PlotWidget()
    widget.setObjectName(object_name)
    widget.setMinimumSize(*MIN_PLOT)
    plot = widget.getPlotItem()
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(False, False)
    plot.vb.disableAutoRange()
    for name in ("left", "bottom"):
        plot.getAxis(name).enableAutoSIPrefix(False)
    return widget, plot


def _log_ticks(lo: float, hi: float, fmt_tick: Callable[[float], str], most: int = 7) -> list:
    """Ticks at powers of ten inside (``lo``, ``hi``) (log10 values), at most ``most``.

    pyqtgraph drops a label that would stick out of its axis, so a tick at the very
    end of the range shows nothing: the ticks are chosen inside it.
    """
    first, last = math.ceil(lo + 0.05), math.floor(hi - 0.05)
    if last < first:
        return [[]]
    step = max(1, math.ceil((last - first + 1) / max(most, 1)))
    return [[(float(k), fmt_tick(10.0 ** k)) for k in range(last, first - 1, -step)][::-1]]


def _unit_ticks(most: int) -> list:
    """Ticks of a [0, 1] axis with at most ``most`` labels, the inner ones first."""
    for values in ((0.0, 0.2, 0.4, 0.6, 0.8, 1.0), (0.0, 0.25, 0.5, 0.75, 1.0),
                   (0.25, 0.5, 0.75), (0.0, 0.5, 1.0)):
        if len(values) <= most:
            return [[(v, f"{v:g}") for v in values]]
    return [[(0.5, "0.5")]]


def _tick_room(widget: QWidget, sample: str = "0.25") -> int:
    """How many labels like ``sample`` fit side by side along a plot's width (with gaps)."""
    metrics = QFontMetrics(_font(_theme.current(), 0.9))  # the axes' tick font
    label = metrics.horizontalAdvance(sample) + metrics.horizontalAdvance("0") * 2
    return max(2, int((widget.width() - 60) / max(label, 1)))


def _loss_tick(value: float) -> str:
    if value >= 1:
        return f"{value:g}"
    return f"10{superscript(round(math.log10(value)))}"


def _sqrt_ticks(top: float) -> list:
    """Ticks of a square-root count axis (positions are √count) up to ``top`` examples."""
    nice = [0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000,
            100_000, 250_000, 500_000, 1_000_000]
    shown_ticks = [k for k in nice if k <= top]
    while len(shown_ticks) > 6:
        shown_ticks = shown_ticks[:1] + shown_ticks[2::2] if len(shown_ticks) % 2 else \
            shown_ticks[:1] + shown_ticks[1::2]
    return [[(math.sqrt(k), f"{k:,}") for k in shown_ticks]]


def _share_tick(value: float) -> str:
    text = f"{100 * value:g} %"
    return text


# --------------------------------------------------------------------------- the figures' worker


#: The figures' worker thread (the loss surface has its own; see bceviz.gui.background).
FIGURE_LANE = "predictions-figures"


class FigureWorker(QObject):
    """Computes a state's figures off the GUI thread after each change; the newest wins.

    At most one job runs; a change while it runs marks the request pending,
    and when the job ends (its result offered to the state, which keeps it
    only if it is still current) the newest request starts. Data of up to
    ``CHEAP_ROWS`` examples is left to the panels, which compute it in place.
    """

    busy_changed = Signal(bool)

    def __init__(self, state: PredictionsState) -> None:
        super().__init__()
        self.state = state
        self._jobs = background.Collector(self)
        self._running = False
        self._pending = False
        self.jobs_started = 0
        self.last_seconds = 0.0
        self._started_at = 0.0
        state.events.data.connect(self._on_change)
        state.events.settings.connect(self._on_change)

    @property
    def busy(self) -> bool:
        return self._running or self._pending

    def _on_change(self, **_info) -> None:
        if not shiboken6.isValid(self) or self.state.cheap or self.state.figures_current():
            return
        self.request()

    def request(self) -> None:
        """Compute the current figures soon (now, or after the running job)."""
        if self._running:
            self._pending = True
            return
        self._start()

    def _start(self) -> None:
        self._pending = False
        self._running = True
        self.jobs_started += 1
        self._started_at = time.perf_counter()
        job = self.state.figure_job()
        self._jobs.start(
            background.lane(FIGURE_LANE),  # pure NumPy there, no Qt objects
            lambda: compute_figures(job.data, job.settings, job.cache, time.perf_counter),
            lambda result: self._on_done(job.key, *result),
            lambda exc: self._on_failed(job.key, f"{type(exc).__name__}: {exc}"))
        self.busy_changed.emit(True)

    @guarded("showing computed figures")
    def _on_done(self, key, figures: Figures, cache: dict) -> None:
        self._running = False
        self.last_seconds = time.perf_counter() - self._started_at
        self.state.offer_figures(key, figures, cache)
        self._next()

    @guarded("computing figures")
    def _on_failed(self, key, message: str) -> None:
        self._running = False
        self.state.set_status(f"Could not compute the figures: {message}", "error")
        self._next()

    def _next(self) -> None:
        if self._pending or not (self.state.cheap or self.state.figures_current()):
            if not self.state.figures_current():
                self._start()
                return
            self._pending = False
        self.busy_changed.emit(False)

    def wait(self, timeout: float = 10.0) -> bool:
        """Process events until no job runs or is pending (tests, the benchmark); True if idle."""
        from PySide6.QtWidgets import QApplication

        deadline = time.perf_counter() + timeout
        while self.busy and time.perf_counter() < deadline:
            QApplication.processEvents()
            time.sleep(0.002)
        QApplication.processEvents()
        return not self.busy


_WORKERS: "weakref.WeakKeyDictionary[PredictionsState, FigureWorker]" = \
    weakref.WeakKeyDictionary()


def worker_for(state: PredictionsState) -> FigureWorker:
    """The one figure worker of a state (made on first use)."""
    found = _WORKERS.get(state)
    if found is None:
        found = _WORKERS[state] = FigureWorker(state)
    return found


def figures_of(state: PredictionsState) -> Optional[Figures]:
    """What a panel draws: the current figures (computed in place for small data), or the
    newest a worker delivered while the next are on their way (None before the first)."""
    if state.cheap or state.figures_current():
        return state.figures()
    worker = worker_for(state)
    if not worker.busy:
        worker.request()
    return state.latest_figures()


# --------------------------------------------------------------------------- loading


#: The lane files are read on (their own: a figure job never waits behind a file).
LOAD_LANE = "predictions-load"


class _LoadProgress:
    """What a reading worker and the GUI thread share: a per-mille value and a cancel flag."""

    def __init__(self) -> None:
        self.per_mille = 0  # written by the worker (one int assignment), read by the GUI thread
        self.cancel = threading.Event()

    def report(self, fraction: float) -> bool:
        self.per_mille = int(1000 * fraction)
        time.sleep(0)  # between chunks, let the GUI thread take the GIL if it is waiting for it
        return not self.cancel.is_set()


def _read_outputs(state: PredictionsState, path: str, options: ReadOptions,
                  progress: _LoadProgress) -> tuple[str, object]:
    """The worker's job: ("loaded", data) or ("failed", message); the state is untouched."""
    name = Path(path).name
    try:
        data = state.read_file(path, options, progress=progress.report)
    except (DataFileError, LabError) as exc:
        return "failed", str(exc)
    except MemoryError:
        return "failed", f"{name}: not enough memory to read it"
    except Exception as exc:  # noqa: BLE001 - a worker's error must reach the user
        return "failed", f"{name}: {type(exc).__name__}: {exc}"
    if progress.cancel.is_set():
        return "failed", f"{name}: loading cancelled"
    return "loaded", data


class FileLoad(QObject):
    """Reads and sorts a file of model outputs on a worker thread (pure: the state is untouched).

    Its signals are all emitted on the GUI thread: ``progress(int)`` in per mille
    while it reads, then ``loaded(data)`` or ``failed(message)`` (a cancel is a
    failure whose message says so), then ``finished()``.
    """

    progress = Signal(int)
    loaded = Signal(object)
    failed = Signal(str)
    finished = Signal()

    #: How often the progress bar is told how far the worker is (ms).
    PROGRESS_MS = 15

    def __init__(self, state: PredictionsState, path: str, options: ReadOptions,
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.state, self.path, self.options = state, path, options
        self._progress = _LoadProgress()
        self._shown = -1
        self._future: Optional[Future] = None
        self._jobs = background.Collector(self)
        self._ticker = QTimer(self)
        self._ticker.setInterval(self.PROGRESS_MS)
        self._ticker.timeout.connect(self._show_progress)

    def start(self) -> None:
        if self._future is not None:
            return
        state, path, options, progress = self.state, self.path, self.options, self._progress
        self._future = self._jobs.start(background.lane(LOAD_LANE),
                                        lambda: _read_outputs(state, path, options, progress),
                                        self._on_outcome, self._on_error)
        self._ticker.start()

    def cancel(self) -> None:
        self._progress.cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._progress.cancel.is_set()

    @property
    def done(self) -> bool:
        """True once the worker has finished (its outcome may not be delivered yet)."""
        return self._future is not None and self._future.done()

    def wait(self, timeout_ms: int) -> bool:
        """Block until the worker has finished (at most ``timeout_ms``); True if it has."""
        if self._future is None:
            return True
        try:
            self._future.result(timeout=timeout_ms / 1000.0)
        except FutureTimeout:
            return False
        except Exception:  # noqa: BLE001 - the outcome is reported by the collector
            pass
        return True

    def _show_progress(self) -> None:
        value = self._progress.per_mille
        if value != self._shown:
            self._shown = value
            self.progress.emit(value)

    def _on_outcome(self, outcome: tuple[str, object]) -> None:
        self._ticker.stop()
        self._show_progress()
        kind, value = outcome
        if kind == "loaded":
            self.loaded.emit(value)
        else:
            self.failed.emit(str(value))
        self.finished.emit()

    def _on_error(self, exc: BaseException) -> None:
        self._ticker.stop()
        self.failed.emit(f"{Path(self.path).name}: {type(exc).__name__}: {exc}")
        self.finished.emit()


# --------------------------------------------------------------------------- the panels' base


class _PredictionsPanel(Panel):
    """A panel of this lab: redraws when figures arrive; notes step aside when it is short."""

    listens = ("data", "settings", "figures")
    _extras: tuple = ()
    _plot_widget: Optional[QWidget] = None

    def __init__(self, state: PredictionsState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        worker_for(state)

    def on_event(self, name: str, **info) -> Optional[bool]:
        if name in ("data", "settings") and not self.state.cheap:
            return False  # the figures event follows when the worker is done
        return None

    def figures(self) -> Optional[Figures]:
        return figures_of(self.state)

    def _fit_extras(self) -> None:
        """Hide the least important notes first when the plot would drop below its minimum."""
        if not self._extras:
            return
        width = max(self.width() - 8, 50)
        budget = self.height() - MIN_PLOT_HEIGHT - 12
        for widget in self._extras:  # most important first
            # a note beside a button is narrower than the panel: measure it at its own width
            room = width - widget.property("beside_px") if widget.property("beside_px") else width
            want = widget.heightForWidth(max(room, 50)) if widget.hasHeightForWidth() \
                else widget.sizeHint().height()
            keep = want + 4 <= budget
            if keep:
                budget -= want + 4
            if widget.isVisibleTo(self) != keep:
                widget.setVisible(keep)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._fit_extras()
        if event.size().width() != event.oldSize().width():
            self.schedule()  # the axes' ticks thin out or fill in with the width

    def _unit_axes(self, plot: pg.PlotItem, widget: pg.PlotWidget, *names: str) -> None:
        ticks = _unit_ticks(_tick_room(widget))
        for name in names:
            plot.getAxis(name).setTicks(ticks)

    def flush(self) -> None:
        super().flush()
        self._fit_extras()  # a new font (presentation mode) changes the notes' heights

    def _set_note(self, label: QLabel, text: str) -> None:
        text = shown(text)
        if label.text() != text:
            label.setText(text)
            self._fit_extras()

    def _guard(self, method, *args, **kwargs) -> bool:
        try:
            method(*args, **kwargs)
        except LabError as exc:
            self.state.set_status(str(exc), "warning")
            return False
        return True

    def _style(self, plot: pg.PlotItem, widget: pg.PlotWidget, theme: _theme.Theme,
               grid=True) -> None:
        apply_palette(self, theme)
        widget.setBackground(theme.background)
        _theme.style_plot(plot, theme, grid=grid)


# --------------------------------------------------------------------------- losses


class LossesPanel(_PredictionsPanel):
    """Per-example loss (log axis) by class, the mean, the worst 1 %'s edge and the cap.

    Reads ``figures.anatomy``. Writes nothing.
    """

    title = "Per-example loss"
    panel_id = "losses"

    def __init__(self, state: PredictionsState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.summary = _note("pred_losses_summary")
        layout.addWidget(self.summary)
        self.plot_widget, self.plot = _plot("pred_losses_plot")
        self.plot_widget.setToolTip("How many examples have each loss (log scale): most are "
                                    "near 0, a few far out carry much of the mean")
        layout.addWidget(self.plot_widget, 1)
        self.neg = pg.PlotCurveItem(x=[0.0, 1.0], y=[0.0], stepMode="center", fillLevel=0)
        self.pos = pg.PlotCurveItem(x=[0.0, 1.0], y=[0.0], stepMode="center", fillLevel=0)
        for item in (self.neg, self.pos):
            self.plot.addItem(item)
        self.mean_line = pg.InfiniteLine(angle=90, movable=False)
        self.worst_line = pg.InfiniteLine(angle=90, movable=False)
        self.cap_line = pg.InfiniteLine(angle=90, movable=False)
        for line in (self.mean_line, self.worst_line, self.cap_line):
            self.plot.addItem(line, ignoreBounds=True)
        self.legend = _note("pred_losses_legend")
        layout.addWidget(self.legend)
        self._extras = (self.summary, self.legend)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        self._style(self.plot, self.plot_widget, theme, grid="y")
        self.plot.setLabel("bottom", "loss per example (nats, log)")
        self.plot.setLabel("left", "examples (√ scale)")
        self.neg.setPen(theme.pen(theme.neg, width=1.6))
        self.neg.setBrush(theme.brush(theme.neg, alpha=70))
        self.pos.setPen(theme.pen(theme.pos, width=1.6))
        self.pos.setBrush(theme.brush(theme.pos, alpha=70))
        self.mean_line.setPen(theme.pen(theme.foreground, width=1.6, style=Qt.PenStyle.DashLine))
        self.worst_line.setPen(theme.pen(theme.accent, width=1.8))
        self.cap_line.setPen(theme.pen(theme.muted, width=1.4, style=Qt.PenStyle.DotLine))
        self.summary.setFont(_font(theme, 0.95, bold=True))
        self.legend.setFont(_font(theme, 0.85))
        self._dirty = True

    def refresh(self) -> None:
        f = self.figures()
        if f is None:
            self._set_note(self.summary, "Computing…")
            return
        a = f.anatomy
        edges = np.log10(a.hist_edges)
        # counts on a square-root axis: the many near-zero losses and the few large ones both read
        self.neg.setData(edges, np.sqrt(a.hist_negative))
        self.pos.setData(edges, np.sqrt(a.hist_positive))
        top = float(max(a.hist_negative.max(initial=0), a.hist_positive.max(initial=0), 1))
        self.plot.setXRange(float(edges[0]), float(edges[-1]), padding=0.02)
        self.plot.setYRange(0.0, math.sqrt(top) * 1.06, padding=0)
        self.plot.getAxis("left").setTicks(_sqrt_ticks(top))
        self.plot.getAxis("bottom").setTicks(_log_ticks(
            float(edges[0]), float(edges[-1]), _loss_tick, _tick_room(self.plot_widget, "10⁻⁴")))
        self.mean_line.setValue(math.log10(max(a.mean_loss, a.hist_edges[0])))
        k = a.worst[0][1]
        edge = a.table[k - 1].loss if k <= len(a.table) else a.max_loss
        self.worst_line.setValue(math.log10(max(edge, a.hist_edges[0])))
        capped = a.n_capped > 0
        self.cap_line.setVisible(capped)
        if capped:
            self.cap_line.setValue(math.log10(framework_ceiling(a.cap)))
        rows = ROW_TITLES[a.rows]
        self._set_note(self.summary,
                       f"{a.n:,} examples ({rows}): mean loss {fmt(a.mean_loss, 3)} nats, "
                       f"median {fmt(a.median_loss, 2)}, largest {fmt(a.max_loss, 3)}")
        legend = (f"Blue: label 0 ({a.n - a.n_positive:,}), red: label 1 ({a.n_positive:,}); "
                  f"the first bar holds every loss below {_loss_tick(a.hist_edges[1])}. Dashed: "
                  f"the mean. Orange: the worst 1 % ({k:,}) lie right of {fmt(edge, 3)} nats.")
        if capped:
            legend += (f" Dotted: {CAP_NAMES[a.cap]}'s cap, {fmt(framework_ceiling(a.cap), 4)} "
                       f"nats ({a.n_capped:,} capped).")
        self._set_note(self.legend, legend)


# --------------------------------------------------------------------------- shares


class SharesPanel(_PredictionsPanel):
    """The share of the total loss the worst fraction of examples carries (log axis).

    Reads ``figures.anatomy.curve`` and ``worst``. Writes nothing.
    """

    title = "Where the loss comes from"
    panel_id = "shares"

    def __init__(self, state: PredictionsState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.summary = _note("pred_shares_summary")
        layout.addWidget(self.summary)
        self.plot_widget, self.plot = _plot("pred_shares_plot")
        self.plot_widget.setToolTip("Sort the examples from the largest loss down: the curve is "
                                    "the share of the total loss carried by the worst fraction")
        layout.addWidget(self.plot_widget, 1)
        self.equal = pg.PlotCurveItem()
        self.curve = pg.PlotCurveItem(antialias=True)
        self.plot.addItem(self.equal)
        self.plot.addItem(self.curve)
        self.marks = pg.ScatterPlotItem(pxMode=True)
        self.plot.addItem(self.marks)
        # Beside each mark where the plot is empty: below and right of the rising curve
        # for the worst 1 % and 10 %, above and left of it for the 5 % between them, so
        # neighbours half a decade apart never print over each other.
        self.labels = [pg.TextItem(anchor=anchor)
                       for anchor in ((-0.05, -0.1), (1.05, 1.1), (-0.05, -0.1))]
        for item in self.labels:
            item.setZValue(10)  # its background masks the curve beneath the text
            self.plot.addItem(item, ignoreBounds=True)
        self.legend = _note("pred_shares_legend")
        layout.addWidget(self.legend)
        self._extras = (self.summary, self.legend)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        self._style(self.plot, self.plot_widget, theme)
        self.plot.setLabel("bottom", "worst fraction (log scale)")
        self.plot.setLabel("left", "loss share")  # fits the axis at presentation size
        self.equal.setPen(theme.pen(theme.muted, width=1.2, style=Qt.PenStyle.DotLine))
        self.curve.setPen(theme.pen(theme.accent, width=2.6))
        self.marks.setPen(theme.pen(theme.foreground, width=1.2))
        self.marks.setBrush(theme.brush(theme.accent))
        self.marks.setSize(10 * theme.scale)
        for item in self.labels:
            item.setColor(theme.foreground)
            item.setFont(_font(theme, 0.85))
            item.fill = theme.brush(theme.background, alpha=210)
        self.summary.setFont(_font(theme, 0.95, bold=True))
        self.legend.setFont(_font(theme, 0.85))
        self.plot.getAxis("left").setTicks([[(v, _share_tick(v)) for v in
                                             (0.0, 0.25, 0.5, 0.75, 1.0)]])
        self._dirty = True

    def refresh(self) -> None:
        f = self.figures()
        if f is None:
            self._set_note(self.summary, "Computing…")
            return
        a = f.anatomy
        curve = a.curve
        x = np.log10(curve.fractions)
        lo = float(min(x[0], -2.0))
        self.curve.setData(x, curve.shares)
        grid = np.linspace(lo, 0.0, 60)
        self.equal.setData(grid, 10.0 ** grid)
        self.plot.setXRange(lo, 0.0, padding=0.02)
        self.plot.setYRange(0.0, 1.0, padding=0.03)
        self.plot.getAxis("bottom").setTicks(_log_ticks(lo, 0.0, _share_tick,
                                                        _tick_room(self.plot_widget, "0.1 %")))
        xs = [math.log10(max(c, 1) / a.n) for _f, c, _s in a.worst]
        ys = [s for _f, _c, s in a.worst]
        self.marks.setData(xs, ys)
        for item, (frac, _count, share), xv in zip(self.labels, a.worst, xs):
            item.setText(f"{100 * frac:g} %: {pct(share, 0)}")
            item.setPos(xv, share)
        w1, w5, w10 = a.worst
        self._set_note(self.summary,
                       f"The worst 1 % ({w1[1]:,} examples) carry {pct(w1[2])} of the loss; "
                       f"5 %: {pct(w5[2])}; 10 %: {pct(w10[2])}")
        self._set_note(self.legend, "Dotted: every example carrying an equal share. The further "
                                    "the curve above it, the more a few examples dominate.")


# --------------------------------------------------------------------------- worst table


class WorstPanel(_PredictionsPanel):
    """The worst examples of the rows, largest loss first, and Export… (CSV).

    Reads ``figures.anatomy.table``. Writes a CSV through ``state.export_worst``.
    Ids come from the file: they are shown as plain text.
    """

    title = "The worst examples"
    panel_id = "worst"
    HEADERS = ("#", "row", "id", "split", "score", "p", "label", "loss", "share")
    TIPS = ("Rank by loss (1 = the largest)", "The example's number in the file (1 = first row)",
            "The id column of the file (or the row number)", "The split column, if any",
            "The score as in the file (a logit or a probability)",
            "The model's probability of label 1, σ(logit) (at the cap for p = 0 or 1)",
            "The label (0 or 1, or soft)", "The example's BCE in nats",
            "The example's share of the rows' total loss")

    def __init__(self, state: PredictionsState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        top = QHBoxLayout()
        self.summary = _note("pred_worst_summary")
        top.addWidget(self.summary, 1)
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("pred_worst_export")
        self.export_button.setToolTip("Write the worst examples as CSV (rank, row, id, split, "
                                      "score, p, label, loss, share)")
        self.export_button.clicked.connect(self._on_export)
        top.addWidget(self.export_button)
        self.summary.setProperty("beside_px", 110)
        layout.addLayout(top)
        self.model = QStandardItemModel(0, len(self.HEADERS))
        for col, (name, tip) in enumerate(zip(self.HEADERS, self.TIPS)):
            item = QStandardItem(name)
            item.setToolTip(tip)
            self.model.setHorizontalHeaderItem(col, item)
        self.table = QTableView()
        self.table.setObjectName("pred_worst_table")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setCornerButtonEnabled(False)
        self.table.setToolTip("The examples with the largest loss; an id or score that looks "
                              "wrong is worth a look in the data")
        self.table.setMinimumSize(220, 110)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)  # ids are cut at 40 characters by the reader
        header.setMinimumSectionSize(28)
        layout.addWidget(self.table, 1)
        self._key = None
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        apply_palette(self, theme)
        font = _font(theme, 0.9)
        self.table.setFont(font)
        self.table.horizontalHeader().setFont(font)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.summary.setFont(_font(theme, 0.95, bold=True))
        self.export_button.setFont(font)
        self._key = None
        self._dirty = True

    def refresh(self) -> None:
        f = self.figures()
        if f is None:
            return
        a = f.anatomy
        key = (f.key[0], a.rows, f.key[1].cap)
        self._set_note(self.summary, f"The {len(a.table):,} largest losses of {a.n:,} "
                                     f"({ROW_TITLES[a.rows]})")
        if key == self._key:
            return
        self._key = key
        kind = self.state.data.kind
        self.model.setRowCount(len(a.table))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        neg = self._theme.brush(self._theme.neg, alpha=35)
        posb = self._theme.brush(self._theme.pos, alpha=35)
        for r, row in enumerate(a.table):
            score = fmt(row.score, 4) if kind == "logit" else f"{row.score:.4g}"
            cells = (str(row.rank), str(row.row), shown(row.id), row.split, score,
                     f"{row.p:.4g}", f"{row.label:g}", fmt(row.loss, 4), pct(row.share, 2))
            for c, text in enumerate(cells):
                item = QStandardItem(text)
                item.setEditable(False)
                if c not in (2, 3):
                    item.setTextAlignment(right)
                item.setBackground(posb if row.label >= 0.5 else neg)
                self.model.setItem(r, c, item)

    def _on_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the worst examples", "worst.csv",
                                              "CSV files (*.csv);;All files (*)")
        if path:
            self.export(path)

    def export(self, path: str, count: int = WORST_ROWS) -> bool:
        """Write the worst ``count`` examples to ``path``; a problem becomes an error status."""
        try:
            n = self.state.export_worst(path, count)
        except (DataFileError, LabError) as exc:
            self.state.set_status(str(exc), "error")
            return False
        self.state.set_status(f"Exported the {n:,} worst examples to {Path(path).name}")
        return True


# --------------------------------------------------------------------------- calibration


class CalibrationPanel(_PredictionsPanel):
    """The reliability diagram on the report rows before and after temperature scaling.

    Reads ``figures.calibration``. Writes nothing.
    """

    title = "Calibration and temperature"
    panel_id = "calibration"

    def __init__(self, state: PredictionsState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.summary = _note("pred_calibration_summary")
        layout.addWidget(self.summary)
        self.plot_widget, self.plot = _plot("pred_calibration_plot")
        self.plot_widget.setToolTip("Each bin of predicted p: the fraction that really is "
                                    "label 1. On the diagonal is calibrated; below it is "
                                    "over-confident for p > 1/2")
        layout.addWidget(self.plot_widget, 1)
        self.diagonal = pg.PlotCurveItem([0, 1], [0, 1])
        self.before = pg.PlotDataItem()
        self.after = pg.PlotDataItem()
        for item in (self.diagonal, self.before, self.after):
            self.plot.addItem(item)
        self.plot.setXRange(0, 1, padding=0.05)  # room for the largest markers at 0 and 1
        self.plot.setYRange(0, 1, padding=0.05)
        self.legend = _note("pred_calibration_legend")
        layout.addWidget(self.legend)
        self._extras = (self.summary, self.legend)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        self._style(self.plot, self.plot_widget, theme)
        self.plot.setLabel("bottom", "predicted p (mean of the bin)")
        self.plot.setLabel("left", "fraction of label 1")
        self.diagonal.setPen(theme.pen(theme.muted, width=1.2, style=Qt.PenStyle.DotLine))
        self.before.setPen(theme.pen(theme.pos, width=1.6, style=Qt.PenStyle.DashLine))
        self.before.setSymbol("o")
        self.before.setSymbolBrush(theme.brush(theme.pos, alpha=160))
        self.before.setSymbolPen(theme.pen(theme.pos, width=1))
        self.after.setPen(theme.pen(theme.good, width=2.4))
        self.after.setSymbol("s")
        self.after.setSymbolBrush(theme.brush(theme.good))
        self.after.setSymbolPen(theme.pen(theme.good, width=1))
        self.summary.setFont(_font(theme, 0.95, bold=True))
        self.legend.setFont(_font(theme, 0.85))
        self._dirty = True

    def refresh(self) -> None:
        f = self.figures()
        if f is None:
            self._set_note(self.summary, "Computing…")
            return
        c = f.calibration
        if c is None:
            self.before.setData([], [])
            self.after.setData([], [])
            self._set_note(self.summary, "Temperature scaling needs rows to fit on and rows to "
                                         "report on.")
            self._set_note(self.legend, "")
            return
        self._unit_axes(self.plot, self.plot_widget, "bottom", "left")
        scale = self._theme.scale
        self.before.setData(c.before.mean_predicted, c.before.fraction_positive,
                            symbolSize=_bin_sizes(c.before.counts, scale))
        self.after.setData(c.after.mean_predicted, c.after.fraction_positive,
                           symbolSize=_bin_sizes(c.after.counts, scale))
        if c.temperature is None:
            self.after.setData([], [])
            head = f"No temperature: {c.problem}."
        else:
            head = (f"T = {fmt(c.temperature, 3)} fitted on {c.fit_rows} ({c.n_fit:,}); on "
                    f"{c.report_rows} ({c.n_report:,}): loss {fmt(c.loss_before, 3)} → "
                    f"{fmt(c.loss_after, 3)} nats, ECE {fmt(c.before.ece, 2)} → "
                    f"{fmt(c.after.ece, 2)}, Brier {fmt(c.before.brier, 3)} → "
                    f"{fmt(c.after.brier, 3)}")
        self._set_note(self.summary, head)
        legend = (f"Red dashed: the model's p; green: p after dividing the logits by T. "
                  f"{c.bins} bins, each marker's area by its examples; ECE is the "
                  "count-weighted gap to the diagonal.")
        if f.problems:
            legend += " " + "; ".join(f.problems).capitalize() + "."
        self._set_note(self.legend, legend)


def _bin_sizes(counts: np.ndarray, scale: float) -> np.ndarray:
    """Marker sizes (px) whose areas follow the bins' counts, 5 to 18 px."""
    c = np.sqrt(np.asarray(counts, dtype=float))
    top = float(c.max()) if c.size else 1.0
    return scale * (5.0 + 13.0 * c / max(top, 1.0))


# --------------------------------------------------------------------------- ranking


class RankingPanel(_PredictionsPanel):
    """ROC with its AUC, or PR with its AP, and the threshold's point on the curve.

    Reads ``figures.ranking`` and ``figures.threshold``; writes
    ``update(ranking=...)`` (the ROC / PR switch).
    """

    title = "Ranking: ROC and PR"
    panel_id = "ranking"

    def __init__(self, state: PredictionsState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        top = QHBoxLayout()
        self.summary = _note("pred_ranking_summary")
        top.addWidget(self.summary, 1)
        self.view_box = QComboBox()
        self.view_box.setObjectName("pred_ranking_view")
        self.view_box.addItem("ROC", "roc")
        self.view_box.addItem("PR", "pr")
        self.view_box.setToolTip("ROC: true against false positive rate; PR: precision against "
                                 "recall (better when positives are rare)")
        self.view_box.activated.connect(
            lambda i: self._guard(self.state.update, ranking=self.view_box.itemData(i)))
        top.addWidget(self.view_box)
        self.summary.setProperty("beside_px", 90)
        layout.addLayout(top)
        self.plot_widget, self.plot = _plot("pred_ranking_plot")
        layout.addWidget(self.plot_widget, 1)
        self.reference = pg.PlotCurveItem()
        self.curve = pg.PlotCurveItem(antialias=True)
        self.point = pg.ScatterPlotItem(pxMode=True)
        for item in (self.reference, self.curve, self.point):
            self.plot.addItem(item)
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.setYRange(0, 1, padding=0.02)
        self._extras = (self.summary,)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        self._style(self.plot, self.plot_widget, theme)
        self.reference.setPen(theme.pen(theme.muted, width=1.2, style=Qt.PenStyle.DotLine))
        self.curve.setPen(theme.pen(theme.accent, width=2.4))
        self.point.setSize(12 * theme.scale)
        self.point.setPen(theme.pen(theme.foreground, width=1.5))
        self.point.setBrush(theme.brush(theme.soft))
        self.summary.setFont(_font(theme, 0.95, bold=True))
        self.view_box.setFont(_font(theme, 0.9))
        self._dirty = True

    def refresh(self) -> None:
        f = self.figures()
        if f is None:
            self._set_note(self.summary, "Computing…")
            return
        r, t = f.ranking, f.threshold
        self._unit_axes(self.plot, self.plot_widget, "bottom", "left")
        roc = f.key[1].ranking == "roc"
        index = self.view_box.findData("roc" if roc else "pr")
        if self.view_box.currentIndex() != index:
            self.view_box.setCurrentIndex(index)
        if roc:
            self.plot.setLabel("bottom", "false positive rate")
            self.plot.setLabel("left", "true positive rate")
            self.reference.setData([0, 1], [0, 1])
            self.curve.setData(r.fpr, r.tpr)
            self.point.setData([t.fpr], [t.recall])
        else:
            self.plot.setLabel("bottom", "recall")
            self.plot.setLabel("left", "precision")
            self.reference.setData([0, 1], [r.prevalence, r.prevalence])
            self.curve.setData(r.recall, r.precision)
            self.point.setData([t.recall], [t.precision])
        if r.problem:
            self._set_note(self.summary, r.problem)
            return
        what = f"AUC {fmt(r.auc, 4)}" if roc else f"AP {fmt(r.ap, 4)}"
        self._set_note(self.summary, f"{what} · {pct(r.prevalence, 0)} label 1 · ● at "
                                     f"threshold {fmt(t.threshold, 2)}")


# --------------------------------------------------------------------------- threshold


class ThresholdPanel(_PredictionsPanel):
    """The confusion at a threshold, and the best threshold chosen on one split, reported on another.

    Reads ``figures.threshold`` and ``figures.best``; writes
    ``update(threshold=...)`` (the slider).
    """

    title = "Threshold and confusion"
    panel_id = "threshold"

    def __init__(self, state: PredictionsState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self, margins=4)
        row = QHBoxLayout()
        self.threshold_label = QLabel("threshold")
        row.addWidget(self.threshold_label)
        self.slider = ValueControl(0.001, 0.999, decimals=3,
                                   tooltip="p at or above the threshold predicts label 1")
        self.slider.setObjectName("pred_threshold_slider")
        self.slider.valueChanged.connect(lambda v: self._guard(self.state.update, threshold=v))
        row.addWidget(self.slider, 1)
        layout.addLayout(row)
        grid = QGridLayout()
        grid.setSpacing(3)
        self.cells: dict[str, QLabel] = {}
        heads = (("", 0, 0), ("pred. 1", 0, 1), ("pred. 0", 0, 2),
                 ("label 1", 1, 0), ("label 0", 2, 0))
        self.heads = []
        for text, r, c in heads:
            label = plain_label(QLabel(text))
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(label, r, c)
            self.heads.append(label)
        for name, r, c, tip in (("tp", 1, 1, "TP: true positives, label 1 predicted 1"),
                                ("fn", 1, 2, "FN: false negatives, label 1 predicted 0"),
                                ("fp", 2, 1, "FP: false positives, label 0 predicted 1"),
                                ("tn", 2, 2, "TN: true negatives, label 0 predicted 0")):
            label = plain_label(QLabel("—"))
            label.setObjectName(f"pred_confusion_{name}")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setToolTip(tip)
            label.setAutoFillBackground(True)
            label.setMinimumHeight(28)
            # narrow cells drop the "TP" (the tooltip and the heads still say it) rather than clip
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            grid.addWidget(label, r, c)
            self.cells[name] = label
        for c in (1, 2):
            grid.setColumnStretch(c, 1)
        layout.addLayout(grid)
        self.rates = _note("pred_threshold_rates")
        layout.addWidget(self.rates)
        self.best = _note("pred_threshold_best")
        self.best.setObjectName("pred_threshold_best")
        layout.addWidget(self.best)
        layout.addStretch(1)
        self.setMinimumSize(240, 150)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        apply_palette(self, theme)
        font = _font(theme, 0.95)
        for label in (self.threshold_label, self.rates, self.best, *self.heads):
            label.setFont(font)
        big = _font(theme, 1.05, bold=True)
        for name, label in self.cells.items():
            label.setFont(big)
            colour = theme.good if name in ("tp", "tn") else theme.pos
            label.setStyleSheet(f"background: {_tint(colour, theme.background, 0.18)}; "
                                f"color: {theme.foreground}; border-radius: 3px;")
        self.best.setFont(_font(theme, 0.9))
        self.slider.spin.setFixedWidth(self.slider.spin.fontMetrics().horizontalAdvance("0.0000")
                                       + 10)
        self._dirty = True

    def refresh(self) -> None:
        self.slider.set_value(self.state.settings.threshold)
        f = self.figures()
        if f is None:
            return
        t, b = f.threshold, f.best
        texts = {name: f"{name.upper()} {getattr(t, name):,}" for name in self.cells}
        # one rule for all four: if any cell is too narrow for "TP 1,234", none says "TP"
        if any(0 < self.cells[n].width() < self.cells[n].fontMetrics().horizontalAdvance(text) + 10
               for n, text in texts.items()):
            texts = {name: f"{getattr(t, name):,}" for name in self.cells}
        for name, text in texts.items():
            self.cells[name].setText(text)
        self.rates.setText(f"On {ROW_TITLES[t.rows]}: precision {fmt(t.precision, 3)}, recall "
                           f"{fmt(t.recall, 3)}, F1 {fmt(t.f1, 3)}, accuracy {fmt(t.accuracy, 3)}")
        if b.threshold is None:
            text = f"Best threshold: {b.problem}."
        else:
            rule = "F1" if b.rule == "f1" else f"cost (a miss costs {fmt(b.cost_ratio, 3)} false " \
                                               "alarms)"
            value = fmt(b.value_fit, 3) if b.rule == "f1" else f"{fmt(b.value_fit, 3)} a row"
            text = (f"Best by {rule}, chosen on {b.fit_rows}: threshold "
                    f"{fmt(b.threshold, 3)} ({value}). Reported on {b.report_rows}: F1 "
                    f"{fmt(b.f1_report, 3)}, cost {fmt(b.cost_report, 3)} a row, precision "
                    f"{fmt(b.precision_report, 3)}, recall {fmt(b.recall_report, 3)}.")
        self.best.setText(shown(text))


def _tint(colour: str, background: str, amount: float) -> str:
    a, b = pg.mkColor(colour), pg.mkColor(background)
    mix = [round(b.red() + (a.red() - b.red()) * amount),
           round(b.green() + (a.green() - b.green()) * amount),
           round(b.blue() + (a.blue() - b.blue()) * amount)]
    return "#" + "".join(f"{v:02x}" for v in mix)


# --------------------------------------------------------------------------- pulls


class PullsPanel(_PredictionsPanel):
    """Each example's pull |∂L/∂z| against p_t under the what-if setting and plain BCE.

    Reads ``figures.pulls``; writes nothing (the setting is in the controls).
    """

    title = "What a loss setting changes"
    panel_id = "pulls"

    def __init__(self, state: PredictionsState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.summary = _note("pred_pulls_summary")
        layout.addWidget(self.summary)
        self.plot_widget, self.plot = _plot("pred_pulls_plot")
        self.plot_widget.setToolTip("How hard one example pulls on the model, |∂L/∂z|, by how "
                                    "sure the model is of its label (p_t); grey: where the "
                                    "examples are")
        layout.addWidget(self.plot_widget, 1)
        self.hist = pg.BarGraphItem(x=[0.5], height=[0.0], width=0.02)
        self.plot.addItem(self.hist)
        self.pos_plain = pg.PlotCurveItem()
        self.neg_plain = pg.PlotCurveItem()
        self.pos_setting = pg.PlotCurveItem(antialias=True)
        self.neg_setting = pg.PlotCurveItem(antialias=True)
        for item in (self.pos_plain, self.neg_plain, self.pos_setting, self.neg_setting):
            self.plot.addItem(item)
        self.cut = pg.InfiniteLine(angle=90, movable=False)
        self.plot.addItem(self.cut, ignoreBounds=True)
        self.table = _note("pred_pulls_table")
        layout.addWidget(self.table)
        self._extras = (self.summary, self.table)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        self._style(self.plot, self.plot_widget, theme)
        self.plot.setLabel("bottom", "p_t: probability of the own label")
        self.plot.setLabel("left", "pull |∂L/∂z|")
        self.hist.setOpts(brush=theme.brush(theme.muted, alpha=55), pen=pg.mkPen(None))
        # label 1 drawn wider beneath label 0: where the two coincide (no pos_weight or α),
        # both colours still show
        self.pos_plain.setPen(theme.pen(theme.pos, width=2.6, style=Qt.PenStyle.DashLine))
        self.neg_plain.setPen(theme.pen(theme.neg, width=1.3, style=Qt.PenStyle.DashLine))
        self.pos_setting.setPen(theme.pen(theme.pos, width=4.2))
        self.neg_setting.setPen(theme.pen(theme.neg, width=2.0))
        self.cut.setPen(theme.pen(theme.muted, width=1.2, style=Qt.PenStyle.DotLine))
        self.summary.setFont(_font(theme, 0.95, bold=True))
        self.table.setFont(_font(theme, 0.88))
        self._dirty = True

    def refresh(self) -> None:
        f = self.figures()
        if f is None:
            self._set_note(self.summary, "Computing…")
            return
        pl = f.pulls
        self._unit_axes(self.plot, self.plot_widget, "bottom")
        plain_spec = pl.spec == LossSpec()
        top = float(max(np.max(pl.pull_positive_setting), np.max(pl.pull_negative_setting),
                        np.max(pl.pull_positive_plain), 1e-12))
        counts = np.sqrt((pl.hist_positive + pl.hist_negative).astype(float))
        scale = 0.9 * top / max(float(counts.max()), 1.0)
        centres = 0.5 * (pl.hist_edges[:-1] + pl.hist_edges[1:])
        self.hist.setOpts(x=centres, height=counts * scale,
                          width=float(pl.hist_edges[1] - pl.hist_edges[0]) * 0.9)
        self.pos_plain.setData(pl.p_true, pl.pull_positive_plain)
        self.neg_plain.setData(pl.p_true, pl.pull_negative_plain)
        self.pos_setting.setData(pl.p_true, pl.pull_positive_setting)
        self.neg_setting.setData(pl.p_true, pl.pull_negative_setting)
        for item in (self.pos_plain, self.neg_plain):
            item.setVisible(not plain_spec)
        self.cut.setValue(pl.plain.easy_cut)
        self.plot.setXRange(0.0, 1.0, padding=0.01)
        self.plot.setYRange(0.0, top * 1.05, padding=0)
        name = _spec_name(pl.spec)
        a, b = pl.plain, pl.setting
        ratio = b.total / a.total if a.total > 0 else 0.0
        if plain_spec:
            head = (f"Plain BCE: the hard examples (p_t < {fmt(a.easy_cut, 2)}) pull "
                    f"{pct(a.share('hard'), 0)} of the total, the positives "
                    f"{pct(a.share('positive'), 0)}. Set smoothing, pos_weight or focal γ.")
        else:
            head = (f"With {name}: hard examples {pct(a.share('hard'), 0)} → "
                    f"{pct(b.share('hard'), 0)} of the pull, positives "
                    f"{pct(a.share('positive'), 0)} → {pct(b.share('positive'), 0)}; "
                    f"total pull × {fmt(ratio, 3)}")
        self._set_note(self.summary, head)
        en, ep, hn, hp = a.counts
        self._set_note(self.table,
                       f"Examples: easy {en + ep:,} · hard {hn + hp:,} · label 1 {ep + hp:,} · "
                       f"label 0 {en + hn:,}. Dashed: plain BCE; solid: "
                       f"{'plain BCE' if plain_spec else name}; red label 1, blue label 0; "
                       "grey bars: examples by p_t (√ scale).")


def _spec_name(spec: LossSpec) -> str:
    parts = []
    if spec.label_smoothing:
        parts.append(f"smoothing {fmt(spec.label_smoothing, 2)}")
    if spec.pos_weight != 1.0:
        parts.append(f"pos_weight {fmt(spec.pos_weight, 3)}")
    if spec.focal_gamma:
        parts.append(f"focal γ {fmt(spec.focal_gamma, 2)}")
    if spec.focal_alpha is not None:
        parts.append(f"focal α {fmt(spec.focal_alpha, 2)}")
    return ", ".join(parts) or "plain BCE"


# --------------------------------------------------------------------------- proper scoring


class ScoringPanel(_PredictionsPanel):
    """Expected log loss, Brier and 0–1 loss of reporting p when the truth is q.

    Reads ``figures.scoring``; writes ``update(q=...)`` (the slider).
    """

    title = "Proper scoring rules"
    panel_id = "scoring"

    def __init__(self, state: PredictionsState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        row = QHBoxLayout()
        self.q_label = QLabel("truth q")
        row.addWidget(self.q_label)
        self.q = ValueControl(0.01, 0.99, decimals=2,
                              tooltip="The example's true probability of label 1")
        self.q.setObjectName("pred_scoring_q")
        self.q.valueChanged.connect(lambda v: self._guard(self.state.update, q=v))
        row.addWidget(self.q, 1)
        layout.addLayout(row)
        self.plot_widget, self.plot = _plot("pred_scoring_plot")
        self.plot_widget.setToolTip("What you expect to pay for reporting p when the example "
                                    "is label 1 with probability q")
        layout.addWidget(self.plot_widget, 1)
        self.log_loss = pg.PlotCurveItem(antialias=True)
        self.brier = pg.PlotCurveItem(antialias=True)
        self.zero_one = pg.PlotCurveItem()
        for item in (self.log_loss, self.brier, self.zero_one):
            self.plot.addItem(item)
        self.truth = pg.InfiniteLine(angle=90, movable=False)
        self.plot.addItem(self.truth, ignoreBounds=True)
        self.minima = pg.ScatterPlotItem(pxMode=True)
        self.plot.addItem(self.minima)
        self.plot.setXRange(0, 1, padding=0.02)
        self.legend = _note("pred_scoring_legend")
        layout.addWidget(self.legend)
        self.caps = _note("pred_scoring_caps")
        layout.addWidget(self.caps)
        self._extras = (self.legend, self.caps)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        self._style(self.plot, self.plot_widget, theme)
        self.plot.setLabel("bottom", "reported probability p")
        self.plot.setLabel("left", "expected score")
        self.log_loss.setPen(theme.pen(theme.accent, width=2.6))
        self.brier.setPen(theme.pen(theme.good, width=2.2))
        self.zero_one.setPen(theme.pen(theme.muted, width=1.8, style=Qt.PenStyle.DashLine))
        self.truth.setPen(theme.pen(theme.soft, width=1.4, style=Qt.PenStyle.DotLine))
        self.minima.setSize(10 * theme.scale)
        self.minima.setPen(theme.pen(theme.foreground, width=1.2))
        self.minima.setBrush(theme.brush(theme.soft))
        self.legend.setFont(_font(theme, 0.88))
        self.caps.setFont(_font(theme, 0.88))
        self.q_label.setFont(_font(theme, 0.95))
        self._dirty = True

    def refresh(self) -> None:
        self.q.set_value(self.state.settings.q)
        f = self.figures()
        if f is None:
            return
        s = f.scoring
        self._unit_axes(self.plot, self.plot_widget, "bottom")
        self.log_loss.setData(s.p, s.log_loss)
        self.brier.setData(s.p, s.brier)
        self.zero_one.setData(s.p, s.zero_one)
        self.truth.setValue(s.q)
        self.minima.setData([s.q, s.q], [s.entropy, s.brier_floor])
        self.plot.setYRange(0.0, max(2.0, 1.6 * s.entropy + 0.2), padding=0.02)
        self._set_note(self.legend,
                       f"Orange: log loss, lowest at p = q = {s.q:.2f} ({fmt(s.entropy, 3)} nats, "
                       f"the entropy); green: Brier, lowest at p = q too ({fmt(s.brier_floor, 3)}); "
                       f"dashed: 0–1 loss, flat on each side of 1/2 — not proper.")
        caps = ", ".join(f"{CAP_NAMES[fw]} {fmt(at0, 3)}" for fw, (at0, _) in s.caps.items())
        self._set_note(self.caps, f"At p = 0 the log loss is infinite; the frameworks cap it at "
                                  f"q × their ceiling: {caps} nats.")


# --------------------------------------------------------------------------- controls


class PredictionsControls(_PredictionsPanel):
    """The data (demos, Open file…, progress and Cancel) and every setting of the lab."""

    title = "Your model's outputs"
    panel_id = "predictions_controls"
    listens = ("data", "settings")

    def __init__(self, state: PredictionsState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        self._forms: list[QFormLayout] = []
        self.loader: Optional[FileLoad] = None
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

        box, form = self._group("Data")
        self.dataset = QComboBox()
        self.dataset.setObjectName("pred_dataset")
        self.dataset.setToolTip("The bundled demo (cross-validated predictions bceviz makes on "
                                "the breast-cancer data, or an over-confident copy), or your file")
        for key in DATASET_KEYS:
            self.dataset.addItem(DEMO_FILES[key][2], key)
        self.dataset.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.dataset.setMinimumContentsLength(8)
        self.dataset.activated.connect(self._on_dataset)
        form.addRow(self.dataset)
        self.kind = QComboBox()
        self.kind.setToolTip("How the next file's scores are read: by the header ('logit', "
                             "'prob') or the values, or as you say")
        for kind in KINDS:
            self.kind.addItem(KIND_TITLES[kind], kind)
        self.kind.activated.connect(
            lambda i: self._guard(self.state.set_read_kind, self.kind.itemData(i)))
        form.addRow("Scores", self.kind)
        self.open_button = QPushButton("Open file…")
        self.open_button.setObjectName("pred_open")
        self.open_button.setToolTip("Read a model's outputs: CSV (score or probability, label, "
                                    "optional split and id columns) or .npy/.npz; up to "
                                    "1,000,000 rows; a bad file is refused and nothing changes")
        self.open_button.clicked.connect(self._on_open)
        form.addRow(self.open_button)
        row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setObjectName("pred_progress")
        self.progress.setRange(0, 1000)
        self.progress.setToolTip("Reading the file")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("pred_cancel")
        self.cancel_button.setToolTip("Stop reading the file (nothing changes)")
        self.cancel_button.clicked.connect(self.cancel_load)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        self.progress_row = QWidget()
        self.progress_row.setLayout(row)
        self.progress_row.hide()
        form.addRow(self.progress_row)
        self.about = _note("pred_data_about")
        form.addRow(self.about)
        layout.addWidget(box)

        box, form = self._group("Rows and caps")
        self.rows = QComboBox()
        self.rows.setObjectName("pred_rows")
        self.rows.setToolTip("Which rows the loss, ranking, threshold and what-if figures use")
        for r in ROWS:
            self.rows.addItem(ROW_TITLES[r], r)
        self.rows.activated.connect(
            lambda i: self._guard(self.state.update, rows=self.rows.itemData(i)))
        form.addRow("Rows", self.rows)
        self.cap = QComboBox()
        self.cap.setToolTip("Where a probability of exactly 0 or 1 is capped, as each "
                            "framework does")
        for fw, name in CAP_NAMES.items():
            self.cap.addItem(name, fw)
            self.cap.setItemData(self.cap.count() - 1, CAP_TEXT[fw], Qt.ItemDataRole.ToolTipRole)
        self.cap.activated.connect(
            lambda i: self._guard(self.state.update, cap=self.cap.itemData(i)))
        form.addRow("Cap", self.cap)
        layout.addWidget(box)

        box, form = self._group("Calibration and threshold")
        self.fit_on = QComboBox()
        self.fit_on.setToolTip("Where T and the best threshold are chosen: the validation split, "
                               "or a seeded held-out share of the rows")
        self.fit_on.addItem("validation split", "validation")
        self.fit_on.addItem("held-out share", "heldout")
        self.fit_on.activated.connect(
            lambda i: self._guard(self.state.update, fit_on=self.fit_on.itemData(i)))
        form.addRow("Fit on", self.fit_on)
        self.share = ValueControl(0.05, 0.95, decimals=2,
                                  tooltip="The held-out share T and the threshold are fitted on")
        self.share.valueChanged.connect(lambda v: self._guard(self.state.update, heldout_share=v))
        form.addRow("Share", self.share)
        self.bins = QSpinBox()
        self.bins.setRange(5, 50)
        self.bins.setToolTip("Bins of the reliability diagram and ECE (uniform in p)")
        self.bins.valueChanged.connect(lambda v: self._guard(self.state.update, bins=int(v)))
        form.addRow("Bins", self.bins)
        self.threshold = ValueControl(0.001, 0.999, decimals=3,
                                      tooltip="p at or above the threshold predicts label 1")
        self.threshold.valueChanged.connect(lambda v: self._guard(self.state.update, threshold=v))
        form.addRow("Threshold", self.threshold)
        self.rule = QComboBox()
        self.rule.setToolTip("How the best threshold is chosen: the highest F1, or the lowest "
                             "cost with a miss costing 'cost ratio' false alarms")
        self.rule.addItem("best F1", "f1")
        self.rule.addItem("lowest cost", "cost")
        self.rule.activated.connect(
            lambda i: self._guard(self.state.update, rule=self.rule.itemData(i)))
        form.addRow("Best by", self.rule)
        self.cost = ValueControl(0.01, 100.0, log=True, decimals=2,
                                 tooltip="Cost of a false negative over the cost of a false "
                                         "positive")
        self.cost.valueChanged.connect(lambda v: self._guard(self.state.update, cost_ratio=v))
        form.addRow("Cost ratio", self.cost)
        layout.addWidget(box)

        box, form = self._group("What-if loss setting")
        self.smoothing = ValueControl(0.0, 0.5, decimals=3,
                                      tooltip="Label smoothing ε: targets ε/2 and 1 − ε/2 (Keras)")
        self.smoothing.valueChanged.connect(
            lambda v: self._guard(self.state.update, label_smoothing=v))
        form.addRow("Smoothing", self.smoothing)
        self.pos_weight = ValueControl(0.01, 100.0, log=True, decimals=3,
                                       tooltip="pos_weight: the weight of label 1's term "
                                               "(PyTorch BCEWithLogitsLoss)")
        self.pos_weight.valueChanged.connect(lambda v: self._guard(self.state.update, pos_weight=v))
        form.addRow("pos_weight", self.pos_weight)
        self.gamma = ValueControl(0.0, 5.0, decimals=2,
                                  tooltip="Focal γ: (1 − p_t)^γ quiets the examples the model "
                                          "already gets right (torchvision)")
        self.gamma.valueChanged.connect(lambda v: self._guard(self.state.update, focal_gamma=v))
        form.addRow("Focal γ", self.gamma)
        alpha_row = QWidget()
        alpha_layout = QHBoxLayout(alpha_row)
        alpha_layout.setContentsMargins(0, 0, 0, 0)
        self.alpha_on = QCheckBox()
        self.alpha_on.setToolTip("Use focal α (the class balance of the focal loss)")
        self.alpha = ValueControl(0.0, 1.0, decimals=2,
                                  tooltip="Focal α: weight α on label 1 and 1 − α on label 0")
        self.alpha_on.toggled.connect(self._on_alpha)
        self.alpha.valueChanged.connect(lambda v: self._on_alpha(self.alpha_on.isChecked()))
        alpha_layout.addWidget(self.alpha_on)
        alpha_layout.addWidget(self.alpha, 1)
        form.addRow("Focal α", alpha_row)
        self.easy = ValueControl(0.5, 0.99, decimals=2,
                                 tooltip="An example is easy when the model gives its label "
                                         "at least this probability (p_t)")
        self.easy.valueChanged.connect(lambda v: self._guard(self.state.update, easy_cut=v))
        form.addRow("Easy at p_t ≥", self.easy)
        self.reset_button = QPushButton("Reset settings")
        self.reset_button.setToolTip("Every setting back to its default (the data stays)")
        self.reset_button.clicked.connect(lambda: self._guard(self.state.reset))
        form.addRow(self.reset_button)
        layout.addWidget(box)
        layout.addStretch(1)
        app = QApplication.instance()
        if app is not None:  # a file still being read when the app quits: stop it first
            app.aboutToQuit.connect(self.stop_loading)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def on_event(self, name: str, **info) -> Optional[bool]:
        return None  # the controls mirror the settings at once, whatever the data size

    @guarded("stopping a file's load")
    def stop_loading(self, timeout_ms: int = 5000) -> None:
        """Cancel a load in progress and wait for its worker (the app quits after it)."""
        loader = self.loader
        if loader is not None and shiboken6.isValid(loader):
            loader.cancel()
            loader.wait(timeout_ms)

    def _group(self, title: str) -> tuple[QGroupBox, QFormLayout]:
        box = QGroupBox(title)
        form = QFormLayout(box)
        self._forms.append(form)
        form.setContentsMargins(4, 4, 4, 4)
        form.setSpacing(3)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return box, form

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        font = _font(theme)
        for widget in self.findChildren(QWidget):
            widget.setFont(font)
        self.about.setFont(_font(theme, 0.85))
        policy = QFormLayout.RowWrapPolicy.WrapAllRows if theme.font_pt > 12 \
            else QFormLayout.RowWrapPolicy.DontWrapRows
        for form in self._forms:
            form.setRowWrapPolicy(policy)
        for control in self.findChildren(ValueControl):
            control.spin.setFixedWidth(control.spin.fontMetrics().horizontalAdvance("0.0000") + 10)
        self._dirty = True

    # ---------------------------------------------------------------- gestures
    def _on_dataset(self, index: int) -> None:
        key = self.dataset.itemData(index)
        if key == "file":
            return
        self._guard(self.state.choose_dataset, key)

    def _on_alpha(self, on: bool) -> None:
        self.alpha.setEnabled(bool(on))
        self._guard(self.state.update, focal_alpha=self.alpha.value() if on else None)

    def _on_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a model's outputs", "", DATA_FILTER)
        if path:
            self.load_file(path)

    def load_file(self, path: str, options: Optional[ReadOptions] = None) -> Optional[FileLoad]:
        """Read ``path`` in a FileLoad (progress bar, Cancel); the window stays live.

        Returns the load (tests wait on it); None while another file loads.
        """
        if self.loader is not None:
            self.state.set_status("A file is being read; cancel it first", "warning")
            return None
        opts = options if options is not None else ReadOptions(kind=self.state.read_kind)
        load = FileLoad(self.state, os.fspath(path), opts, self)
        load.progress.connect(self.progress.setValue)
        load.loaded.connect(lambda data, t=load: self._on_loaded(t, data))
        load.failed.connect(lambda message, t=load: self._on_failed(t, message))
        load.finished.connect(lambda t=load: self._on_finished(t))
        self.loader = load
        self.progress.setValue(0)
        self.progress_row.show()
        self.open_button.setEnabled(False)
        self.state.set_status(f"Reading {Path(path).name}…")
        load.start()
        return load

    def cancel_load(self) -> None:
        if self.loader is not None:
            self.loader.cancel()

    @guarded("using the file that was read")
    def _on_loaded(self, load: FileLoad, data) -> None:
        if load.cancelled:
            self.state.set_status(f"Loading {Path(load.path).name} cancelled; nothing changed")
            return
        try:
            self.state.adopt(data, load.path, load.options)
        except LabError as exc:
            self.state.set_status(f"{Path(load.path).name}: {exc}; nothing changed", "error")

    @guarded("reporting a file that could not be read")
    def _on_failed(self, load: FileLoad, message: str) -> None:
        if load.cancelled or message.endswith("loading cancelled"):
            self.state.set_status(f"Loading {Path(load.path).name} cancelled; nothing changed")
        else:
            self.state.set_status(f"{message} — nothing changed", "error")

    @guarded("finishing a file's load")
    def _on_finished(self, load: FileLoad) -> None:
        if self.loader is load:
            self.loader = None
        load.deleteLater()
        if shiboken6.isValid(self):
            self.progress_row.hide()
            self.open_button.setEnabled(True)

    # ---------------------------------------------------------------- drawing
    def refresh(self) -> None:
        st: PredictionsState = self.state
        d, s = st.data, st.settings
        index = self.dataset.findData(d.dataset)
        if d.dataset == "file":
            title = shown(d.title)
            if index < 0:
                self.dataset.addItem(title, "file")
                index = self.dataset.count() - 1
            else:
                self.dataset.setItemText(index, title)
        if self.dataset.currentIndex() != index:
            self.dataset.setCurrentIndex(index)
        self.kind.setCurrentIndex(max(0, self.kind.findData(st.read_kind)))
        about = d.description
        if d.kind == "prob" and d.n_extreme:
            about += f" {d.n_extreme:,} probabilities of exactly 0 or 1: {CAP_TEXT[s.cap]}."
        self.about.setText(shown(about))
        model = self.rows.model()
        for i, r in enumerate(ROWS):
            item = model.item(i)
            if item is not None:
                item.setEnabled(d.has_split(r))
        self.rows.setCurrentIndex(max(0, self.rows.findData(s.rows if d.has_split(s.rows)
                                                             else "all")))
        self.cap.setCurrentIndex(max(0, self.cap.findData(s.cap)))
        self.cap.setEnabled(d.kind == "prob")
        self.fit_on.setCurrentIndex(max(0, self.fit_on.findData(s.fit_on)))
        self.share.set_value(s.heldout_share)
        self.share.setEnabled(s.fit_on == "heldout" or not d.has_split("validation"))
        if self.bins.value() != s.bins:
            self.bins.blockSignals(True)
            self.bins.setValue(s.bins)
            self.bins.blockSignals(False)
        self.threshold.set_value(s.threshold)
        self.rule.setCurrentIndex(max(0, self.rule.findData(s.rule)))
        self.cost.set_value(s.cost_ratio)
        self.cost.setEnabled(s.rule == "cost")
        spec = s.spec
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
        self.easy.set_value(s.easy_cut)


PANELS = {
    "losses": LossesPanel,
    "shares": SharesPanel,
    "worst": WorstPanel,
    "calibration": CalibrationPanel,
    "ranking": RankingPanel,
    "threshold": ThresholdPanel,
    "pulls": PullsPanel,
    "scoring": ScoringPanel,
}
CONTROLS = PredictionsControls

__all__ = ["CONTROLS", "PANELS", "CalibrationPanel", "FigureWorker", "FileLoad",
           "LossesPanel", "PredictionsControls", "PullsPanel", "RankingPanel", "ScoringPanel",
           "SharesPanel", "ThresholdPanel", "WorstPanel", "figures_of", "worker_for"]
