"""The hurdle lab's panels: the count histogram against both models, the zero part, the count part,
the loss decomposition, and the controls.

Every panel reads :class:`bceviz.model.labs.hurdle.HurdleState` and its
derived figures (``state.figures()``: computed once per state version, so two
panels showing the same number read the same object), and writes back only
through the state's methods (``set_view``, ``set_training``, ``generate``,
``load_csv``, ``step``, ``reset``, ``fit_now``, ``set_running``). A training
step (``model`` with ``reason="step"``) redraws the live panels paced like
the other labs'; people's dots are re-set only when the data or the view
changes (or, in the per-person BCE and p − y views, when the model does).
"""

from __future__ import annotations

import html
import math
import time
from typing import Callable, Optional

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGraphicsItem,
    QGraphicsScene,
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

from bceviz.gui import theme as _theme
from bceviz.gui.panels.base import Panel
from bceviz.gui.panels.controls import ValueControl
from bceviz.gui.widgets import apply_palette, num
from bceviz.model.labs.base import LabError
from bceviz.model.labs.hurdle import (
    COUNT_STRENGTH_RANGE,
    EXTRA_ZEROS_RANGE,
    LR_RANGE,
    MAX_PEOPLE,
    PART_LABELS,
    PARTS,
)

#: Colours of the observed counts and the two models (the same in every panel).
OBSERVED = "#7f7f7f"
POISSON = "#2166ac"
HURDLE = "#e67e22"
#: The zero part's BCE and the count part's Poisson loss in the stacked bar.
BCE_PART = "#c0392b"
COUNT_PART = "#e67e22"
#: Minimum size of every plot (the lab contract: legible at 1280 × 720 with 2-4 panels).
PLOT_MIN = (300, 180)


def _fmt(value: Optional[float], digits: int = 4) -> str:
    """A number for a readout: "—" when undefined, never nan; typographic minus."""
    if value is None or not math.isfinite(float(value)):
        return "—"
    return num(float(value), digits).replace("-", "−")


def _count(value: float) -> str:
    """A number of people: whole with separators, or one decimal for an expected count < 10."""
    v = float(value)
    if not math.isfinite(v):
        return "—"
    return f"{v:,.0f}" if abs(v) >= 9.95 else f"{v:.1f}"


def _signed(value: float) -> str:
    """A small signed number (a mean gradient): 2 decimals, "−0.00" shown as "0.00"."""
    v = float(value)
    if not math.isfinite(v):
        return "—"
    text = f"{v:+.2f}"
    return "0.00" if text in ("+0.00", "-0.00") else text.replace("-", "−")


def _loss(value: float) -> str:
    """A loss in nats per person: three decimals (the stages' captions quote them so)."""
    v = float(value)
    return f"{v:.3f}" if math.isfinite(v) else "—"


def _ll(value: float) -> str:
    """A log-likelihood in nats: one decimal with separators, typographic minus."""
    v = float(value)
    return f"{v:,.1f}".replace("-", "−") if math.isfinite(v) else "—"


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 5, 7.5 × 10^k at or above ``value`` (> 0)."""
    if not (math.isfinite(value) and value > 0):
        return 1.0
    base = 10.0 ** math.floor(math.log10(value))
    for m in (1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0):
        if m * base >= value * (1 - 1e-12):
            return m * base
    return 10.0 * base


def _plain(text: str = "", *, wrap: bool = True) -> QLabel:
    """A label that never interprets its text (file names and column names reach it)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def _legend_label() -> QLabel:
    """A one-line legend of coloured squares; its text is built here (names escaped)."""
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def _legend_html(entries: list[tuple[str, str]]) -> str:
    return " &nbsp; ".join(f'<span style="color:{c}">■</span>&nbsp;{html.escape(t)}'
                           for c, t in entries)


def _set_label(plot: pg.PlotItem, side: str, text: str) -> None:
    """An axis title, set only when it changes (a new title re-lays out the plot)."""
    cache = plot.__dict__.setdefault("_bceviz_titles", {})
    if cache.get(side) != text:
        cache[side] = text
        plot.setLabel(side, text)


def _curve(plot: pg.PlotItem) -> pg.PlotCurveItem:
    """A plain line (no symbols): a PlotCurveItem, lighter to update every frame than the
    PlotDataItem that ``plot.plot()`` makes."""
    item = pg.PlotCurveItem(skipFiniteCheck=True)
    plot.addItem(item)
    return item


def _plot(graphics: pg.GraphicsLayoutWidget, row: int = 0, col: int = 0) -> pg.PlotItem:
    plot = graphics.addPlot(row=row, col=col)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(False, False)
    # Axes keep a pixmap of themselves: a frame whose ranges did not change blits them
    # (measured: ~0.7 ms of a wide plot's repaint) instead of drawing every tick again.
    for side in ("left", "bottom"):
        plot.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return plot


class _HurdlePanel(Panel):
    """A panel of this lab: training steps redraw it paced, like the other labs' live panels."""

    def on_event(self, name: str, **info):
        self._training_frame = name == "model" and info.get("reason") == "step"
        result = self.on_lab_event(name, **info)
        if not self.isVisible():  # parked by the stage host: redraw when shown again
            self._dirty = True
            return False
        if name == "model" and info.get("reason") == "step":
            self.schedule(paced=True)
            return False
        return result

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._dirty:
            self.schedule()

    # -- room for the words ----------------------------------------------------
    #: Whether a label is wanted (the panel's view) and whether it fits (the panel's height).
    _want: dict
    _room: dict

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._fit_labels()

    def _fit_labels(self) -> None:
        """Hide the readout, then the legend, when the panel is too short for them and a plot
        of at least PLOT_MIN (presentation mode on a small screen): never an overlap."""
        labels = [(n, getattr(self, n, None)) for n in ("readout", "legend")]
        labels = [(n, w) for n, w in labels if w is not None]
        if not labels:
            return
        if not hasattr(self, "_want"):
            self._want = {n: True for n, _ in labels}
        self._room = {}
        width = max(self.width() - 8, 40)
        bar = getattr(self, "_bar_layout", None)
        spare = self.height() - PLOT_MIN[1] - 10 - (bar.sizeHint().height() + 2 if bar else 0)
        for name, label in reversed(labels):  # the legend has the first claim
            need = label.heightForWidth(width) if label.wordWrap() else label.sizeHint().height()
            self._room[name] = spare >= need + 2
            if self._room[name] and self._want.get(name, True):
                spare -= need + 2
        self._show_labels()

    def _show_labels(self) -> None:
        for name in ("readout", "legend"):
            label = getattr(self, name, None)
            if label is None:
                continue
            on = self._want.get(name, True) if hasattr(self, "_want") else True
            on = on and getattr(self, "_room", {}).get(name, True)
            if label.isVisibleTo(self) != on:
                label.setVisible(on)

    def _want_label(self, name: str, on: bool) -> None:
        if not hasattr(self, "_want"):
            self._want = {}
        if self._want.get(name) != on:
            self._want[name] = on
            self._fit_labels()

    def on_lab_event(self, name: str, **info) -> Optional[bool]:
        return None

    #: A word-wrapped readout is re-laid out on every new text: for training steps it
    #: changes at most this often (ms), anything else shows at once; the plots stay live.
    READOUT_MS = 100

    def _set_readout(self, text: str) -> None:
        """Show ``text`` in ``self.readout`` now, or (while training) at most every READOUT_MS."""
        self._readout_text = text
        timer = getattr(self, "_readout_timer", None)
        if timer is None:
            timer = self._readout_timer = QTimer(self)
            timer.setSingleShot(True)
            timer.timeout.connect(self._apply_readout)
            self._readout_shown = 0.0
        if timer.isActive():
            return
        wait = self.READOUT_MS - 1e3 * (time.perf_counter() - self._readout_shown)
        if not getattr(self, "_training_frame", False) or wait <= 0:
            self._apply_readout()
        else:
            timer.start(int(wait) + 1)

    def _apply_readout(self) -> None:
        if not shiboken6.isValid(self):
            return
        self._readout_shown = time.perf_counter()
        if self.readout.text() != self._readout_text:
            self.readout.setText(self._readout_text)

    @staticmethod
    def _set_text(item: pg.TextItem, text: str) -> None:
        if item.toPlainText() != text:
            item.setText(text)

    def _font(self, theme: _theme.Theme, scale: float = 1.0) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(theme.font_pt * scale)
        return font

    def _guard(self, fn: Callable, *args, **kwargs) -> None:
        try:
            fn(*args, **kwargs)
        except (LabError, ValueError) as exc:
            self.state.set_status(str(exc), "error")
            self._dirty = True
            self.flush()

    def _graphics(self, name: str) -> pg.GraphicsLayoutWidget:
        graphics = pg.GraphicsLayoutWidget()
        graphics.setObjectName(name)
        graphics.setMinimumSize(*PLOT_MIN)
        graphics.ci.layout.setContentsMargins(2, 2, 8, 2)
        # Items change every training frame: a BSP index would be rebuilt each time (Qt's
        # advice for animated scenes), and the index's boundingRect calls cost Python time.
        graphics.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        return graphics

    def _toolbar(self, layout) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        layout.addLayout(row)
        self._bar_layout = row
        return row

    def _toggle_row(self, row: QHBoxLayout, label: str, options, current: Callable[[], object],
                    apply: Callable[[object], None], tip: str = "") -> QButtonGroup:
        """Exclusive tool buttons added to ``row``: ``options`` = [(value, text, tooltip)]."""
        if label:
            lab = QLabel(label)
            lab.setToolTip(tip)
            row.addWidget(lab)
        group = QButtonGroup(self)
        group.setExclusive(True)
        for value, text, tip in options:
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setProperty("value", value)
            button.clicked.connect(lambda _c=False, v=value: self._guard(apply, v))
            group.addButton(button)
            row.addWidget(button)
        row.addSpacing(8)
        group.current = current  # type: ignore[attr-defined]
        return group

    @staticmethod
    def _sync(group: QButtonGroup) -> None:
        value = group.current()  # type: ignore[attr-defined]
        for button in group.buttons():
            on = button.property("value") == value
            if button.isChecked() != on:
                button.blockSignals(True)
                button.setChecked(on)
                button.blockSignals(False)

    def _covariate_row(self, row: QHBoxLayout) -> QButtonGroup:
        st = self.state
        options = [(j, st.data.feature_names[j], f"Plot against {st.covariate_label(j)}")
                   for j in range(2)]
        return self._toggle_row(row, "vs", options, lambda: st.view["covariate"],
                                lambda v: st.set_view(covariate=int(v)),
                                "The covariate on the horizontal axis (zero and count parts)")

    def _rename_covariates(self, group: QButtonGroup) -> None:
        for button in group.buttons():
            j = int(button.property("value"))
            name = self.state.data.feature_names[j]
            if button.text() != name:
                button.setText(name)
                button.setToolTip(f"Plot against {self.state.covariate_label(j)}")


# ----------------------------------------------------------------------------- histogram
class CountHistogramPanel(_HurdlePanel):
    """The observed count histogram with the expected frequencies of plain Poisson and the hurdle.

    Reads ``figures().histogram`` (observed and expected people per count
    k = 0..K and the tail above K), ``view["histogram"]`` and the data's
    count name. Writes ``set_view(histogram=...)``. Two views: paired bars
    (observed, Poisson, hurdle side by side) or a hanging rootogram (on the
    √ scale, observed bars hang from each model's expected value: a bar
    bottom below 0 is a count the model under-predicts, above 0 one it
    over-predicts).
    """

    title = "Counts: data, Poisson, hurdle"
    panel_id = "counts"
    listens = ("data", "model", "view")

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        bar = self._toolbar(layout)
        self.mode_group = self._toggle_row(
            bar, "",
            [("bars", "paired bars", "Observed people per count beside each model's expected "
                                     "number"),
             ("rootogram", "hanging rootogram", "On the √ scale, observed bars hang from each "
                                                "model's expected value: the gap to 0 is the "
                                                "misfit")],
            lambda: self.state.view["histogram"], lambda v: self.state.set_view(histogram=v))
        bar.addStretch(1)
        self.graphics = self._graphics("counts_view")
        layout.addWidget(self.graphics, 1)
        self.plot = _plot(self.graphics)
        self.observed_bars = pg.BarGraphItem(x=[], height=[], width=0.28)
        self.poisson_bars = pg.BarGraphItem(x=[], height=[], width=0.28)
        self.hurdle_bars = pg.BarGraphItem(x=[], height=[], width=0.28)
        for item in (self.observed_bars, self.poisson_bars, self.hurdle_bars):
            self.plot.addItem(item)
        self.poisson_curve = self.plot.plot([], [])
        self.hurdle_curve = self.plot.plot([], [])
        self.zero_line = pg.InfiniteLine(pos=0.0, angle=0, movable=False)
        self.plot.addItem(self.zero_line)
        self.legend = _legend_label()
        self.legend.setObjectName("counts_legend")
        layout.addWidget(self.legend)
        self.readout = _plain()
        self.readout.setObjectName("counts_readout")
        layout.addWidget(self.readout)
        self._y_top = 1.0
        self._y_bottom = 0.0
        self._shape: tuple = ()
        self._observed_key: tuple = ()
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def on_lab_event(self, name: str, **info):
        if name in ("data", "view") or info.get("reason") in ("reset", "data", "restore"):
            self._shape = ()  # the axes may shrink again
        return None

    def refresh(self) -> None:
        st = self.state
        self._sync(self.mode_group)
        h = st.figures().histogram
        k = h.k
        rooto = st.view["histogram"] == "rootogram"
        if rooto:
            self.observed_bars.setVisible(False)
            self.poisson_bars.setOpts(x=k - 0.2, y0=h.hang_poisson, height=h.sqrt_observed,
                                      width=0.36)
            self.hurdle_bars.setOpts(x=k + 0.2, y0=h.hang_hurdle, height=h.sqrt_observed,
                                     width=0.36)
            self.poisson_curve.setData(k - 0.2, h.sqrt_poisson)
            self.hurdle_curve.setData(k + 0.2, h.sqrt_hurdle)
            top = float(max(np.max(h.sqrt_poisson), np.max(h.sqrt_hurdle), 1.0))
            bottom = float(min(np.min(h.hang_poisson), np.min(h.hang_hurdle), 0.0))
            _set_label(self.plot, "left", "√ people")
        else:
            self.observed_bars.setVisible(True)
            observed_key = (st.version()[0], k.size)
            if observed_key != self._observed_key:  # the data's bars do not move in training
                self._observed_key = observed_key
                self.observed_bars.setOpts(x=k - 0.29, y0=np.zeros_like(k), height=h.observed,
                                           width=0.28)
            self.poisson_bars.setOpts(x=k, y0=np.zeros_like(k), height=h.poisson, width=0.28)
            self.hurdle_bars.setOpts(x=k + 0.29, y0=np.zeros_like(k), height=h.hurdle, width=0.28)
            self.poisson_curve.setData([], [])
            self.hurdle_curve.setData([], [])
            top = float(max(np.max(h.observed), np.max(h.poisson), np.max(h.hurdle), 1.0))
            bottom = 0.0
            _set_label(self.plot, "left", "people")
        _set_label(self.plot, "bottom", html.escape(f"{st.data.count_name} (count per person)"))
        # The axes grow while training and shrink only when the data, view or model restart,
        # so the bars do not jump under the eye every frame.
        shape = (rooto, k.size)
        if shape != self._shape or top > self._y_top or bottom < self._y_bottom:
            grow = 1.08
            self._y_top = top * grow if shape == self._shape else top * grow
            self._y_bottom = bottom * grow if bottom < 0 else 0.0
            if shape != self._shape:
                self.plot.setXRange(-0.7, float(k[-1]) + 0.7, padding=0.0)
            self._shape = shape
            self.plot.setYRange(self._y_bottom, self._y_top, padding=0.0)
        self.zero_line.setVisible(rooto)
        tail = ""
        if h.tail_observed > 0:
            tail = (f" Above {int(k[-1])}, not drawn: {int(h.tail_observed):,} observed, "
                    f"{_count(h.tail_poisson)} · {_count(h.tail_hurdle)} expected.")
        self._set_readout(
            f"Zeros: observed {int(h.observed[0]):,} · Poisson expects {_count(h.poisson[0])} · "
            f"hurdle {_count(h.hurdle[0])}. Ones: {int(h.observed[1]):,} · "
            f"{_count(h.poisson[1])} · {_count(h.hurdle[1])}.{tail}")

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self.graphics.setBackground(theme.background)
        _theme.style_plot(self.plot, theme, grid="y")
        # Opaque fills without outlines: blending and stroking 60 bars every training frame
        # costs the histogram half its paint time (measured).
        self.observed_bars.setOpts(brush=theme.brush(OBSERVED), pen=None)
        self.poisson_bars.setOpts(brush=theme.brush(POISSON), pen=None)
        self.hurdle_bars.setOpts(brush=theme.brush(HURDLE), pen=None)
        self.poisson_curve.setPen(theme.pen(POISSON, width=2.0))
        self.poisson_curve.setSymbol("o")
        self.poisson_curve.setSymbolSize(5 * theme.scale)
        self.poisson_curve.setSymbolBrush(theme.brush(POISSON))
        self.poisson_curve.setSymbolPen(None)
        self.hurdle_curve.setPen(theme.pen(HURDLE, width=2.0))
        self.hurdle_curve.setSymbol("o")
        self.hurdle_curve.setSymbolSize(5 * theme.scale)
        self.hurdle_curve.setSymbolBrush(theme.brush(HURDLE))
        self.hurdle_curve.setSymbolPen(None)
        self.zero_line.setPen(theme.pen(theme.foreground, width=1.0))
        self.legend.setFont(self._font(theme, 0.9))
        self.legend.setText(_legend_html([(OBSERVED, "observed"), (POISSON, "plain Poisson"),
                                          (HURDLE, "hurdle")]))
        self.readout.setFont(self._font(theme, 0.9))
        self._dirty = True


# ----------------------------------------------------------------------------- zero part
class ZeroPartPanel(_HurdlePanel):
    """The zero part: P(count > 0) against a covariate, the observed shares, and each person's BCE.

    Reads ``figures().zero`` (the curve with the other covariate at its mean,
    the observed share and the model's mean probability per bin, and per
    person p, BCE and p − y), ``view`` (covariate, zero_view). Writes
    ``set_view(covariate=..., zero_view=...)``. Views: the probability with
    people drawn at 0 (no visit) and 1 (a visit); each person's BCE in nats;
    each person's p − y, the BCE gradient in the logit (its mean is the bias's
    gradient, 0 at the fit). BCE values above the plot's top are drawn at it.
    """

    title = "Zero part: any visit? (BCE)"
    panel_id = "zero"
    listens = ("data", "model", "view")
    BCE_TOP = 3.0

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        bar = self._toolbar(layout)
        self.view_group = self._toggle_row(
            bar, "",
            [("probability", "P(y=1)", "The zero part's probability of a visit (y = 1[count > 0]),"
                                       " with the observed shares"),
             ("bce", "BCE", "Each person's BCE in nats: −log p for a visit, −log(1 − p) for none"),
             ("residual", "p − y", "Each person's BCE gradient in the logit: how hard training "
                                   "pushes their logit")],
            lambda: self.state.view["zero_view"], lambda v: self.state.set_view(zero_view=v))
        self.cov_group = self._covariate_row(bar)
        bar.addStretch(1)
        self.graphics = self._graphics("zero_view")
        layout.addWidget(self.graphics, 1)
        self.plot = _plot(self.graphics)
        self.people0 = pg.ScatterPlotItem(pxMode=True, size=4)
        self.people1 = pg.ScatterPlotItem(pxMode=True, size=4)
        self.plot.addItem(self.people0)
        self.plot.addItem(self.people1)
        self.curve = _curve(self.plot)
        self.shares = pg.ScatterPlotItem(pxMode=True, symbol="d")
        self.model_bins = pg.ScatterPlotItem(pxMode=True, symbol="o")
        self.plot.addItem(self.model_bins)
        self.plot.addItem(self.shares)
        self.zero_line = pg.InfiniteLine(pos=0.0, angle=0, movable=False)
        self.plot.addItem(self.zero_line)
        self.legend = _legend_label()
        self.legend.setObjectName("zero_legend")
        layout.addWidget(self.legend)
        self.readout = _plain()
        self.readout.setObjectName("zero_readout")
        layout.addWidget(self.readout)
        self._people_key: tuple = ()
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def refresh(self) -> None:
        st = self.state
        self._sync(self.view_group)
        self._rename_covariates(self.cov_group)
        self._sync(self.cov_group)
        f = st.figures()
        z = f.zero
        mode = st.view["zero_view"]
        y1 = z.y > 0.5
        key = (st.version()[0], st.version()[2])
        # People who do not move are drawn once into a pixmap cache (1,000 symbols a frame
        # otherwise); in the per-person views they move every step, and a cache would cost.
        cache = (QGraphicsItem.CacheMode.DeviceCoordinateCache if mode == "probability"
                 else QGraphicsItem.CacheMode.NoCache)
        for item in (self.people0, self.people1):
            if item.cacheMode() != cache:
                item.setCacheMode(cache)
        if mode == "probability":
            if key != self._people_key:  # people do not move while training in this view
                self.people0.setData(z.x[~y1], z.y_shown[~y1])
                self.people1.setData(z.x[y1], z.y_shown[y1])
                sizes = 6.0 + 10.0 * np.sqrt(z.bin_n / max(float(z.bin_n.max()), 1.0))
                self.shares.setData(z.bin_x, z.bin_share, size=sizes * _theme.current().scale)
                self._people_key = key
            self.curve.setData(z.grid, z.curve)
            self.model_bins.setData(z.bin_x, z.bin_model)
            self.plot.setYRange(-0.12, 1.12, padding=0.0)
            _set_label(self.plot, "left", "P(count > 0)")
        else:
            values = z.bce if mode == "bce" else z.residual
            if mode == "bce":
                shown = np.minimum(values, self.BCE_TOP)
                self.plot.setYRange(0.0, self.BCE_TOP * 1.02, padding=0.0)
                _set_label(self.plot, "left", "BCE (nats)")
            else:
                shown = values
                self.plot.setYRange(-1.05, 1.05, padding=0.0)
                _set_label(self.plot, "left", "p − y")
            self.people0.setData(z.x[~y1], shown[~y1])
            self.people1.setData(z.x[y1], shown[y1])
            self._people_key = ()
            self.curve.setData([], [])
            self.shares.setData([], [])
            self.model_bins.setData([], [])
        self.zero_line.setVisible(mode == "residual")
        j = z.index
        _set_label(self.plot, "bottom", html.escape(st.covariate_label(j)))
        lo, hi = float(z.grid[0]), float(z.grid[-1])
        pad = 0.04 * (hi - lo) + (0.5 if np.all(st.data.X[:, j] == np.round(st.data.X[:, j]))
                                  else 0.0)
        self.plot.setXRange(lo - pad, hi + pad, padding=0.0)
        other = 1 - j
        if mode == "probability":
            text = (f"Curve: {st.data.feature_names[other]} at its mean "
                    f"({_fmt(z.held_value, 3)}). Mean BCE {_fmt(z.mean_bce, 3)} nats; mean "
                    f"p − y {_signed(z.mean_residual)} (0 at the fit: expected zeros = observed).")
        elif mode == "bce":
            clipped = int(np.count_nonzero(z.bce > self.BCE_TOP))
            note = f" {clipped} above {self.BCE_TOP:g} drawn at the top." if clipped else ""
            text = (f"−log p for a visit, −log(1 − p) for none. Mean {_fmt(z.mean_bce, 3)} nats "
                    f"= the BCE part.{note}")
        else:
            text = (f"p − y < 0: a visitor the model doubts; > 0: a zero it expected to visit. "
                    f"Mean {_signed(z.mean_residual)}.")
        self._set_readout(text)
        self._want_label("legend", mode == "probability")

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self.graphics.setBackground(theme.background)
        _theme.style_plot(self.plot, theme, grid=True)
        size = 4.0 * theme.scale
        self.people0.setBrush(theme.brush(theme.neg, 90))
        self.people0.setPen(None)
        self.people0.setSize(size)
        self.people1.setBrush(theme.brush(theme.pos, 90))
        self.people1.setPen(None)
        self.people1.setSize(size)
        self.curve.setPen(theme.pen(theme.foreground, width=2.5))
        self.shares.setBrush(theme.brush(theme.accent))
        self.shares.setPen(theme.pen(theme.foreground, width=1.0))
        self.model_bins.setBrush(None)
        self.model_bins.setPen(theme.pen(theme.foreground, width=1.5))
        self.model_bins.setSize(9 * theme.scale)
        self.zero_line.setPen(theme.pen(theme.muted, width=1.0))
        self.legend.setFont(self._font(theme, 0.9))
        self.legend.setText(_legend_html([
            (theme.neg, "y = 0"), (theme.pos, "y = 1"), (theme.accent, "◆ observed share"),
            (theme.foreground, "○ model, curve")]))
        self.readout.setFont(self._font(theme, 0.9))
        self._people_key = ()
        self._dirty = True


# ----------------------------------------------------------------------------- count part
class CountPartPanel(_HurdlePanel):
    """The count part: the truncated-Poisson mean against a covariate, for those with a count.

    Reads ``figures().count`` (E[count | count > 0] = μ / (1 − e^(−μ)) and
    plain Poisson's μ on a grid, the other covariate at its mean; the observed
    mean count of people with a count per bin; the positive people, jittered)
    and ``view["covariate"]``. Writes ``set_view(covariate=...)``. Counts
    above the plot's top (the 99th percentile) are drawn at it.
    """

    title = "Count part: how many?"
    panel_id = "count"
    listens = ("data", "model", "view")

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        bar = self._toolbar(layout)
        self.cov_group = self._covariate_row(bar)
        bar.addStretch(1)
        self.graphics = self._graphics("count_view")
        layout.addWidget(self.graphics, 1)
        self.plot = _plot(self.graphics)
        self.people = pg.ScatterPlotItem(pxMode=True, size=4)
        # The people do not move while training: drawn once into a pixmap cache.
        self.people.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.plot.addItem(self.people)
        self.poisson_curve = _curve(self.plot)
        self.curve = _curve(self.plot)
        self.bins = pg.ScatterPlotItem(pxMode=True, symbol="d")
        self.model_bins = pg.ScatterPlotItem(pxMode=True, symbol="o")
        self.plot.addItem(self.model_bins)
        self.plot.addItem(self.bins)
        self.legend = _legend_label()
        self.legend.setObjectName("count_legend")
        layout.addWidget(self.legend)
        self.readout = _plain()
        self.readout.setObjectName("count_readout")
        layout.addWidget(self.readout)
        self._people_key: tuple = ()
        self._top = 1.0
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def refresh(self) -> None:
        st = self.state
        self._rename_covariates(self.cov_group)
        self._sync(self.cov_group)
        f = st.figures()
        c = f.count
        key = (st.version()[0], st.version()[2])
        if key != self._people_key:
            top = float(np.quantile(c.counts, 0.99)) + 1.0 if c.counts.size else 2.0
            self._top = max(top, 2.0)
            self.people.setData(c.x, np.minimum(c.counts_shown, self._top))
            sizes = 6.0 + 10.0 * np.sqrt(c.bin_n / max(float(c.bin_n.max()) if c.bin_n.size
                                                       else 1.0, 1.0))
            self.bins.setData(c.bin_x, np.minimum(c.bin_mean, self._top),
                              size=sizes * _theme.current().scale)
            self._people_key = key
        self.curve.setData(c.grid, np.minimum(c.truncated_mean, self._top * 1.05))
        self.poisson_curve.setData(c.grid, np.minimum(c.poisson_mean, self._top * 1.05))
        self.model_bins.setData(c.bin_x, np.minimum(c.bin_model, self._top))
        self.plot.setYRange(0.0, self._top * 1.05, padding=0.0)
        j = c.index
        lo, hi = float(c.grid[0]), float(c.grid[-1])
        pad = 0.04 * (hi - lo) + (0.5 if np.all(st.data.X[:, j] == np.round(st.data.X[:, j]))
                                  else 0.0)
        self.plot.setXRange(lo - pad, hi + pad, padding=0.0)
        _set_label(self.plot, "bottom", html.escape(st.covariate_label(j)))
        _set_label(self.plot, "left", html.escape(f"{st.data.count_name} (if ≥ 1)"))
        w, _ = f.weights["count"]
        unit = st.data.feature_units[j] or st.data.feature_names[j]
        per = "condition" if unit == "number" else unit.rstrip("s") if unit else "unit"
        factor = math.exp(float(w[j])) if abs(float(w[j])) < 700 else math.inf
        other = 1 - j
        self._set_readout(
            f"Curve: E[y | y > 0] = μ/(1 − e^−μ), {st.data.feature_names[other]} at its mean; "
            f"μ ×{_fmt(factor, 3)} per {per}. Fitted on the {c.counts.size:,} people with y > 0 "
            "only.")

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self.graphics.setBackground(theme.background)
        _theme.style_plot(self.plot, theme, grid=True)
        self.people.setBrush(theme.brush(theme.pos, 80))
        self.people.setPen(None)
        self.people.setSize(4.0 * theme.scale)
        self.curve.setPen(theme.pen(HURDLE, width=2.5))
        self.poisson_curve.setPen(theme.pen(POISSON, width=2.0, style=Qt.PenStyle.DashLine))
        self.bins.setBrush(theme.brush(theme.accent))
        self.bins.setPen(theme.pen(theme.foreground, width=1.0))
        self.model_bins.setBrush(None)
        self.model_bins.setPen(theme.pen(HURDLE, width=1.5))
        self.model_bins.setSize(9 * theme.scale)
        self.legend.setFont(self._font(theme, 0.9))
        self.legend.setText(_legend_html([
            (theme.accent, "◆ observed mean"), (HURDLE, "○ count part, curve"),
            (POISSON, "plain Poisson μ (dashed)")]))
        self.readout.setFont(self._font(theme, 0.9))
        self._people_key = ()
        self._dirty = True


# ----------------------------------------------------------------------------- loss
class LossPanel(_HurdlePanel):
    """The loss decomposed: total = BCE part + Poisson part, beside plain Poisson, and over steps.

    Reads ``figures()`` (``losses`` in nats per person, ``logliks`` in nats,
    ``steps``, ``converged`` and ``history``). Writes nothing. Left: a
    stacked bar (the zero part's BCE at the bottom, the count part's
    truncated-Poisson loss on top) and plain Poisson's bar; right: the parts
    over training steps — a part that is not training stays flat.
    """

    title = "Loss = BCE part + Poisson part"
    panel_id = "loss"
    listens = ("data", "model", "settings")
    compact_below = 560

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.graphics = self._graphics("loss_view")
        layout.addWidget(self.graphics, 1)
        self.bars_plot = _plot(self.graphics, 0, 0)
        self.history_plot = _plot(self.graphics, 0, 1)
        self.graphics.ci.layout.setColumnStretchFactor(0, 2)
        self.graphics.ci.layout.setColumnStretchFactor(1, 3)
        self.bce_bar = pg.BarGraphItem(x=[0.0], height=[0.0], width=0.6)
        self.count_bar = pg.BarGraphItem(x=[0.0], height=[0.0], width=0.6)
        self.poisson_bar = pg.BarGraphItem(x=[1.0], height=[0.0], width=0.6)
        for item in (self.bce_bar, self.count_bar, self.poisson_bar):
            self.bars_plot.addItem(item)
        self.total_text = pg.TextItem(anchor=(0.5, 1.0))
        self.poisson_text = pg.TextItem(anchor=(0.5, 1.0))
        self.bce_text = pg.TextItem(anchor=(0.5, 0.5))
        self.count_text = pg.TextItem(anchor=(0.5, 0.5))
        for item in (self.total_text, self.poisson_text, self.bce_text, self.count_text):
            self.bars_plot.addItem(item)
        self.bars_plot.getAxis("bottom").setTicks([[(0.0, "hurdle"), (1.0, "plain Poisson")]])
        self.bars_plot.setXRange(-0.55, 1.55, padding=0.0)
        self.bars_plot.setLabel("left", "nats / person")
        self.history_plot.setLabel("bottom", "training step")
        self.history_plot.setLabel("left", "nats / person")
        self.h_bce = _curve(self.history_plot)
        self.h_count = _curve(self.history_plot)
        self.h_total = _curve(self.history_plot)
        self.h_poisson = _curve(self.history_plot)
        self.legend = _legend_label()
        self.legend.setObjectName("loss_legend")
        layout.addWidget(self.legend)
        self.readout = _plain()
        self.readout.setObjectName("loss_readout")
        layout.addWidget(self.readout)
        self._top = 1.0
        self._history_ranges: tuple = ()
        self._compact = False
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._check_compact()

    def _check_compact(self) -> None:
        # Fonts grow in presentation mode: the two plots need proportionally more width.
        self.set_compact(self.width() < self.compact_below * _theme.current().scale)

    def set_compact(self, on: bool) -> None:
        if on == self._compact:
            return
        self._compact = on
        self.history_plot.setVisible(not on)
        self.graphics.ci.layout.setColumnStretchFactor(1, 0 if on else 3)
        if on:
            self.graphics.ci.layout.setColumnMaximumWidth(1, 0)
        else:
            self.graphics.ci.layout.setColumnMaximumWidth(1, 100000)
        self._set_legend(_theme.current())

    def _set_legend(self, theme: _theme.Theme) -> None:
        entries = [(BCE_PART, "BCE part"), (COUNT_PART, "Poisson part"),
                   (POISSON, "plain Poisson")]
        if not self._compact:
            entries.insert(2, (theme.foreground, "total"))
        self.legend.setText(_legend_html(entries))

    def on_lab_event(self, name: str, **info):
        if name == "data" or info.get("reason") in ("reset", "data", "restore"):
            self._top = 1.0
        return None

    def refresh(self) -> None:
        st = self.state
        f = st.figures()
        loss = f.losses
        zero, count, pois = loss["zero"], loss["count"], loss["poisson"]
        total = zero + count
        self.bce_bar.setOpts(x=[0.0], y0=[0.0], height=[zero])
        self.count_bar.setOpts(x=[0.0], y0=[zero], height=[count])
        self.poisson_bar.setOpts(x=[1.0], y0=[0.0], height=[pois])
        top = max(total, pois, 0.5)
        if top > self._top or top < 0.5 * self._top:
            self._top = top * 1.3  # room for the value above the bar
            self.bars_plot.setYRange(0.0, self._top, padding=0.0)
        self._set_text(self.total_text, _loss(total))
        self.total_text.setPos(0.0, total + 0.01 * self._top)
        self._set_text(self.poisson_text, _loss(pois))
        self.poisson_text.setPos(1.0, pois + 0.01 * self._top)
        self._set_text(self.bce_text, _loss(zero))
        self.bce_text.setPos(0.0, zero / 2)
        self._set_text(self.count_text, _loss(count))
        self.count_text.setPos(0.0, zero + count / 2)
        steps, hz, hc, ht, hp = f.history
        self.h_bce.setData(steps, hz)
        self.h_count.setData(steps, hc)
        self.h_total.setData(steps, ht)
        self.h_poisson.setData(steps, hp)
        # Nice round ranges: the axes re-tick only when a range steps up, not every frame.
        last = float(steps[-1]) if steps.size else 0.0
        hi = max(float(np.max(ht)) if ht.size else 1.0, float(np.max(hp)) if hp.size else 1.0)
        ranges = (_nice_ceiling(max(10.0, last)), _nice_ceiling(max(hi, 0.5) * 1.02))
        if ranges != self._history_ranges:
            self._history_ranges = ranges
            self.history_plot.setXRange(0.0, ranges[0], padding=0.0)
            self.history_plot.setYRange(0.0, ranges[1], padding=0.0)
        ll = f.logliks
        self._set_readout(
            f"{_loss(total)} = {_loss(zero)} BCE + {_loss(count)} Poisson (nats/person). "
            f"Log-likelihood: hurdle {_ll(ll['hurdle'])} = {_ll(ll['zero'])} + "
            f"{_ll(ll['count'])}; plain Poisson {_ll(ll['poisson'])}.")

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self.graphics.setBackground(theme.background)
        for plot in (self.bars_plot, self.history_plot):
            _theme.style_plot(plot, theme, grid="y")
        # The bars' axis has tick names but no title: give it a tick line's height itself
        # (pyqtgraph sizes it from the ticks it drew before the font grew).
        tick_font = QFont(self.font())
        tick_font.setPointSizeF(theme.font_pt * 0.9)
        self.bars_plot.getAxis("bottom").setHeight(QFontMetrics(tick_font).height() + 14)
        self.bce_bar.setOpts(brush=theme.brush(BCE_PART), pen=None)
        self.count_bar.setOpts(brush=theme.brush(COUNT_PART), pen=None)
        self.poisson_bar.setOpts(brush=theme.brush(POISSON), pen=None)
        font = self._font(theme, 0.9)
        for item in (self.total_text, self.poisson_text):
            item.setFont(font)
            item.setColor(theme.foreground)
        for item in (self.bce_text, self.count_text):
            item.setFont(font)
            item.setColor("#ffffff")
        self.h_bce.setPen(theme.pen(BCE_PART, width=2.0))
        self.h_count.setPen(theme.pen(COUNT_PART, width=2.0))
        self.h_total.setPen(theme.pen(theme.foreground, width=2.0))
        self.h_poisson.setPen(theme.pen(POISSON, width=2.0))
        self.legend.setFont(self._font(theme, 0.9))
        self._set_legend(theme)
        self.readout.setFont(self._font(theme, 0.9))
        self._top = 1.0
        self._check_compact()
        self._dirty = True


# ----------------------------------------------------------------------------- controls
class HurdleControls(_HurdlePanel):
    """The lab's settings: training per part, the synthetic data's sliders or a CSV, the views.

    Reads ``training``, ``data_params``, ``view``, ``running``, ``steps``,
    ``converged`` and the data's description. Writes ``set_running``,
    ``step``, ``reset``, ``fit_now``, ``set_training``, ``generate``,
    ``use_synthetic``, ``load_csv`` and ``set_view``. A refused change goes
    to the status line and the widgets snap back to the state.
    """

    title = "Controls"
    panel_id = "controls"
    listens = ("data", "settings", "running", "model", "view")
    #: Step counters need not follow every training frame.
    min_interval_ms = 100

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
        self.step_button = self._button("Step", "One training step of every part switched on",
                                        self._on_step)
        self.reset_button = self._button("Reset", "Every part back to the stage's start",
                                         lambda: self._guard(self.state.reset))
        for b in (self.play_button, self.step_button, self.reset_button):
            row.addWidget(b)
        layout.addLayout(row)

        box = QGroupBox("Parts (each trains on its own)")
        grid = QGridLayout(box)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(2)
        self.train_boxes: dict[str, QCheckBox] = {}
        self.part_steps: dict[str, QLabel] = {}
        tips = {"zero": "Train the zero part: logistic regression of 'any visit?' with BCE",
                "count": "Train the count part: zero-truncated Poisson on those with a visit",
                "poisson": "Train plain Poisson regression (the comparison model)"}
        names = {"zero": "zero (BCE)", "count": "count", "poisson": "plain Poisson"}
        for r, part in enumerate(PARTS):
            check = QCheckBox(names[part])
            check.setToolTip(tips[part] + "; unticked, its weights and loss stay put")
            check.toggled.connect(lambda on, p=part: self._guard(self.state.set_training,
                                                                 **{f"train_{p}": bool(on)}))
            grid.addWidget(check, r, 0)
            self.train_boxes[part] = check
            steps = _plain(wrap=False)
            steps.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            steps.setToolTip("Steps this part has taken (✓: converged)")
            grid.addWidget(steps, r, 1)
            self.part_steps[part] = steps
            reset = self._tool("↺", f"Only the {PART_LABELS[part]} back to its start",
                               lambda _c=False, p=part: self._guard(self.state.reset, (p,)))
            fit = self._tool("fit", f"Jump the {PART_LABELS[part]} to its maximum-likelihood "
                                    "weights (Newton to convergence)",
                             lambda _c=False, p=part: self._guard(self.state.fit_now, (p,)))
            grid.addWidget(reset, r, 2)
            grid.addWidget(fit, r, 3)
        grid.setColumnStretch(1, 1)
        layout.addWidget(box)

        box, form = self._group("Training")
        self.method = QComboBox()
        self.method.addItem("gradient steps", "gradient")
        self.method.addItem("Newton steps", "newton")
        self.method.setToolTip("Gradient descent on each part's loss (step halved when it would "
                               "rise), or Newton's method (a handful of steps)")
        self.method.currentIndexChanged.connect(
            lambda _i: self._guard(self.state.set_training, method=self.method.currentData()))
        form.addRow(self._label("method", self.method.toolTip()), self.method)
        self.lr = ValueControl(LR_RANGE[0], LR_RANGE[1], log=True, decimals=3,
                               tooltip="Learning rate of the gradient steps (covariates "
                                       "standardised inside); Newton ignores it")
        self.lr.valueChanged.connect(lambda v: self._guard(self.state.set_training, lr=v))
        form.addRow(self._label("rate", self.lr.toolTip()), self.lr)
        self.steps_per_frame = QSpinBox()
        self.steps_per_frame.setRange(1, 200)
        self.steps_per_frame.setToolTip("Training steps per frame while playing")
        self.steps_per_frame.valueChanged.connect(
            lambda v: self._guard(self.state.set_training, steps_per_frame=int(v)))
        form.addRow(self._label("steps/frame", self.steps_per_frame.toolTip()),
                    self.steps_per_frame)
        layout.addWidget(box)

        box, form = self._group("Data (synthetic, illustrative)")
        self.data_box = box
        self.extra_zeros = ValueControl(EXTRA_ZEROS_RANGE[0], EXTRA_ZEROS_RANGE[1], decimals=2,
                                        tooltip="Share of people who never visit (extra zeros "
                                                "beyond Poisson's); younger, healthier people "
                                                "more often")
        self.extra_zeros.valueChanged.connect(
            lambda v: self._guard(self.state.generate, extra_zeros=v))
        form.addRow(self._label("extra zeros", self.extra_zeros.toolTip()), self.extra_zeros)
        self.strength = ValueControl(COUNT_STRENGTH_RANGE[0], COUNT_STRENGTH_RANGE[1], decimals=2,
                                     tooltip="How strongly age and chronic conditions drive the "
                                             "number of visits (0: not at all, 1: default)")
        self.strength.valueChanged.connect(
            lambda v: self._guard(self.state.generate, count_strength=v))
        form.addRow(self._label("count strength", self.strength.toolTip()), self.strength)
        self.people = QSpinBox()
        self.people.setRange(50, MAX_PEOPLE)
        self.people.setSingleStep(50)
        self.people.setKeyboardTracking(False)
        self.people.setToolTip(f"Number of people (50 to {MAX_PEOPLE:,})")
        self.people.valueChanged.connect(lambda v: self._guard(self.state.generate, n=int(v)))
        form.addRow(self._label("people", self.people.toolTip()), self.people)
        self.seed = QSpinBox()
        self.seed.setRange(0, 99_999)
        self.seed.setKeyboardTracking(False)
        self.seed.setToolTip("Seed of the synthetic people")
        self.seed.valueChanged.connect(lambda v: self._guard(self.state.generate, seed=int(v)))
        form.addRow(self._label("seed", self.seed.toolTip()), self.seed)
        buttons = QHBoxLayout()
        self.load_button = self._button("Load CSV", "A CSV of two covariates and a whole-"
                                                     "number count (the last column, or one "
                                                     "named count/visits/y)", self._on_load)
        self.synthetic_button = self._button("Synthetic", "Back to the synthetic doctor visits",
                                             lambda: self._guard(self.state.use_synthetic))
        buttons.addWidget(self.load_button)
        buttons.addWidget(self.synthetic_button)
        form.addRow(buttons)
        self.description = _plain()
        self.description.setObjectName("controls_description")
        self.description.setToolTip("The data set in use and its generating parameters")
        form.addRow(self.description)
        layout.addWidget(box)
        layout.addStretch(1)
        self._last_dir = ""
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    # ---------------------------------------------------------------- helpers
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
        label.setToolTip(tip)
        return label

    @staticmethod
    def _tool(text: str, tip: str, slot: Callable) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(slot)
        return button

    def _button(self, text: str, tip: str, slot: Callable) -> QPushButton:
        button = QPushButton(text)
        button.setMinimumWidth(10)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays play/pause
        button.clicked.connect(slot)
        return button

    def _on_step(self) -> None:
        if self.state.running:
            self.state.set_running(False)
        self._guard(self.state.step, 1)

    def _on_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load counts (CSV)", self._last_dir,
                                              "CSV files (*.csv *.tsv *.txt);;All files (*)")
        if path:
            self.load(path)

    def load(self, path: str) -> bool:
        """Load a CSV (the button's action without the dialog); a refusal goes to the status."""
        try:
            self.state.load_csv(path)
        except (LabError, ValueError) as exc:
            self.state.set_status(str(exc), "error")
            return False
        import os

        self._last_dir = os.path.dirname(path)
        return True

    def apply_theme(self, theme: _theme.Theme) -> None:
        from PySide6.QtGui import QColor, QPalette

        apply_palette(self, theme)
        palette = self.palette()
        for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                     QPalette.ColorRole.ButtonText):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.muted))
        self.setPalette(palette)
        self._dirty = True

    # ---------------------------------------------------------------- refresh
    def refresh(self) -> None:
        st = self.state
        self.play_button.setText("Pause" if st.running else "Play")
        tr, dp = st.training, st.data_params
        for part, check in self.train_boxes.items():
            if check.isChecked() != bool(tr[f"train_{part}"]):
                check.blockSignals(True)
                check.setChecked(bool(tr[f"train_{part}"]))
                check.blockSignals(False)
            text = f"{st.steps[part]:,}" + (" ✓" if st.converged[part] else "")
            if self.part_steps[part].text() != text:
                self.part_steps[part].setText(text)
        _set_combo(self.method, tr["method"])
        _set_value(self.lr, float(tr["lr"]))
        _set_spin(self.steps_per_frame, int(tr["steps_per_frame"]))
        _set_value(self.extra_zeros, float(dp["extra_zeros"]))
        _set_value(self.strength, float(dp["count_strength"]))
        _set_spin(self.people, int(dp["n"]))
        _set_spin(self.seed, int(dp["seed"]))
        data = st.data
        zeros = float(np.mean(data.counts == 0))
        if data.params is None:
            text = (f"File {data.source}: {data.n:,} people, {zeros:.0%} zeros; covariates "
                    f"{data.feature_names[0]}, {data.feature_names[1]}; count {data.count_name}."
                    " The sliders apply to the synthetic data.")
        else:
            p = data.params
            text = (f"Doctor visits in a year of {data.n:,} people aged {p['age_min']}–"
                    f"{p['age_max']}; visits ~ Poisson, "
                    f"mean {p['visits_at_reference']:g} at age {p['reference_age']} with "
                    f"{p['reference_chronic']:g} conditions, ×e^{p['count_age_effect']:g}·s per "
                    f"decade and ×e^{p['count_chronic_effect']:g}·s per condition "
                    f"(s = {p['count_strength']:g}); never-visitors {p['extra_zeros']:.0%} on "
                    f"average. Now {zeros:.0%} zeros. Seed {p['seed']}.")
        if self.description.text() != text:
            self.description.setText(text)


def _set_value(control: ValueControl, value: float) -> None:
    """Show ``value`` unless it already shows (a spin box repaints on every setValue)."""
    if control.value() != value or control.spin.value() != round(value,
                                                                 control.spin.decimals()):
        control.set_value(value)


def _set_spin(spin: QSpinBox, value: int) -> None:
    if spin.value() != value:
        spin.blockSignals(True)
        spin.setValue(value)
        spin.blockSignals(False)


def _set_combo(combo: QComboBox, data) -> None:
    index = combo.findData(data)
    if index >= 0 and index != combo.currentIndex():
        combo.blockSignals(True)
        combo.setCurrentIndex(index)
        combo.blockSignals(False)


PANELS = {
    "counts": CountHistogramPanel,
    "zero": ZeroPartPanel,
    "count": CountPartPanel,
    "loss": LossPanel,
}
CONTROLS = HurdleControls

__all__ = ["CONTROLS", "PANELS", "CountHistogramPanel", "CountPartPanel", "HurdleControls",
           "LossPanel", "ZeroPartPanel"]
