"""The gan lab's panels: densities with D and D*, the generator's two losses, its objective, history.

Every number and curve comes from :class:`bceviz.model.labs.gan.GanState`'s
derived figures (``densities()``, ``generator_curves()``, ``objective()``,
``history()``, ``figures()``), computed once per state version; the panels
only draw them and turn gestures into state calls. A refused gesture
(LabError) becomes a status message and changes nothing.

* :class:`DensitiesPanel` (``densities``) — the real density (red) and its
  bumps, the generator's density (blue), histograms of the shown batch's
  real samples and fakes, the discriminator's D(x) and the optimum D*
  (dashed) on the right axis. Drag a bump's round handle to move it (up and
  down: its share of the mass), its square handle to change its width.
  Writes ``set_component``.
* :class:`GeneratorLossPanel` (``generator_loss``) — the saturating
  log(1 − D) and non-saturating −log D against D's logit u = z / T (D(G(z))
  on the top axis), the current fakes on both, and the push |∂ℓ/∂z| each
  gives a fake (dashed, right axis): the saturating one is flat and its push
  ≈ 0 where D wins (u ≪ 0). Writes nothing.
* :class:`ObjectivePanel` (``objective``) — the generator's expected loss
  over (μ, σ) under the current D, its path and the way downhill. Drag the
  current point to move the generator (``set_generator``).
* :class:`HistoryPanel` (``history``) — both losses, D's accuracy on real
  and fake samples and the Jensen–Shannon distance per step.
* :class:`GanControls` — Play / Round / D step / G step / Reset, what Play
  does, the generator's loss and kind, the discriminator's features, steps
  per round, real target (one-sided smoothing), temperature, learning rates,
  batch, seed and the number of real bumps.

Redraws: a training step is paced (``reason="step"``); a drag or a setting
redraws at once. No text here comes from a file.
"""

from __future__ import annotations

import math
import time
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGraphicsItem,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QWidget,
)

from bceviz.engine import gan as _gan
from bceviz.gui import format as fmt
from bceviz.gui import theme as _theme
from bceviz.gui.panels.base import Panel
from bceviz.gui.panels.controls import ValueControl
from bceviz.gui.rendering import RGB32ImageItem
from bceviz.gui.widgets import DraggablePoints, DragHandle, apply_palette, pixel_size, rich_label, snap
from bceviz.model.labs import gan as _lab
from bceviz.model.labs.base import LabError
from bceviz.model.labs.gan import GanState

__all__ = ["CONTROLS", "PANELS", "DensitiesPanel", "GanControls", "GeneratorLossPanel",
           "HistoryPanel", "ObjectivePanel"]

#: D(G(z)) labels of the generator-loss plot's top axis, densest first: the densest
#: whose labels do not touch at the plot's width is shown.
TOP_TICK_SETS = ((0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999), (0.001, 0.1, 0.5, 0.9, 0.999),
                 (0.001, 0.5, 0.999))
#: While training, a readout's text changes at most this often (seconds).
READOUT_INTERVAL_S = 0.2
#: Training counts as paused this long after the last step (then one full-quality frame).
SETTLE_S = 0.25
#: The generator-loss plot's fixed loss range (nats).
LOSS_RANGE = (-10.5, 10.5)
LN2 = math.log(2.0)


def _font(theme: _theme.Theme, factor: float = 1.0) -> QFont:
    font = QFont()
    font.setPointSizeF(theme.font_pt * factor)
    return font


def _num(value: float, digits: int = 3) -> str:
    return fmt.num(value, digits).replace("-", "−")


def _pct(value: float) -> str:
    return f"{100.0 * value:.0f} %" if math.isfinite(value) else "–"


def _span(color: str, text: str) -> str:
    return f'<span style="color:{color}">{text}</span>'


# --------------------------------------------------------------------------- shared pieces
class _GanPanel(Panel):
    """A panel of the gan lab: training steps are paced, everything else redraws at once.

    ``_extras`` are optional labels (legend, readout), least important first:
    when the panel is too short for them and a plot of ``MIN_PLOT_HEIGHT``,
    they step aside in that order, so the plot never shrinks under it.
    """

    MIN_PLOT_HEIGHT = 180
    _extras: tuple = ()
    _text_times: dict

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        self._text_times = {}
        self._held: dict[int, tuple[Optional[int], int]] = {}
        self._last_step = 0.0
        self._settle_timer: Optional[QTimer] = None
        super().__init__(state, parent)

    def _fit_extras(self) -> None:
        width = max(self.width() - 8, 50)
        budget = self.height() - self.MIN_PLOT_HEIGHT - 12
        decisions = []
        for widget in reversed(self._extras):  # most important first
            want = widget.heightForWidth(width) if widget.hasHeightForWidth() \
                else widget.sizeHint().height()
            keep = want + 4 <= budget
            if keep:
                budget -= want + 4
            decisions.append((widget, keep))
        for widget, keep in decisions:
            if widget.isVisibleTo(self) != keep:
                widget.setVisible(keep)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._fit_extras()

    def on_event(self, name: str, **info) -> Optional[bool]:
        if name == "model" and info.get("reason") == "step":
            self._note_step()
            self.schedule(paced=True)
            return False
        return None

    def flush(self) -> None:
        """Redraw now; a hidden panel (parked by the stage host) waits until it is shown."""
        if not self.isVisible():
            self._timer.stop()
            return  # still dirty: showEvent draws it
        super().flush()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._dirty:
            self.flush()

    def _note_step(self) -> None:
        """Training is going on: draft frames until SETTLE_S after the last step."""
        self._last_step = time.perf_counter()
        if self._settle_timer is None:
            self._settle_timer = QTimer(self)
            self._settle_timer.setSingleShot(True)
            self._settle_timer.timeout.connect(self._settled)
        self._settle_timer.start(int(SETTLE_S * 1000) + 20)

    def _training(self) -> bool:
        return time.perf_counter() - self._last_step < SETTLE_S

    def _settled(self) -> None:
        """Training paused: one more frame at full quality with every readout up to date."""
        self._text_times.clear()
        self._dirty = True
        self.flush()

    def _set_text(self, label: QLabel, text: str) -> None:
        """Set a readout's rich text; while training, at most every READOUT_INTERVAL_S.

        Laying out rich text costs about as much as drawing a plot: a readout
        that changed 60 times a second could not be read anyway. SETTLE_S
        after the last step the panel redraws once more with every number
        up to date.
        """
        now = time.perf_counter()
        last = self._text_times.get(id(label), 0.0)
        if self._training() and now - last < READOUT_INTERVAL_S:
            return
        self._text_times[id(label)] = now
        if label.text() != text:
            label.setText(text)
            self._hold_height(label)

    def _hold_height(self, label: QLabel) -> None:
        """Keep a readout at the tallest height its texts took at this width.

        A readout whose numbers change wraps to one line more or less now and
        then; each time, the plot above it would be resized, relaid out and
        repainted whole (axes and all). Held at its tallest, a readout's
        height changes only when the panel's width does.
        """
        width = label.width()
        if width <= 0 or not label.isVisibleTo(self):
            return
        want = label.heightForWidth(width) if label.hasHeightForWidth() \
            else label.sizeHint().height()
        held_width, held = self._held.get(id(label), (None, 0))
        if held_width != width:
            held = 0  # a new width: start again from this text's height
        if want > held or held_width != width:
            held = max(want, held)
            self._held[id(label)] = (width, held)
            if label.minimumHeight() != held:
                label.setMinimumHeight(held)

    #: Curves redrawn at every training frame; antialiased only while training is paused
    #: (stroking an antialiased wide curve costs about twice as much).
    _live_curves: tuple = ()
    _drafting: Optional[bool] = None

    def _set_quality(self) -> None:
        drafting = self._training()
        if drafting != self._drafting:
            self._drafting = drafting
            for item in self._live_curves:
                item.opts["antialias"] = not drafting
                item.update()

    def _guard(self, method, *args, **kwargs) -> bool:
        """Call a state method; a refusal becomes a status message. True when it went through."""
        try:
            method(*args, **kwargs)
        except LabError as exc:
            self.state.set_status(str(exc), "warning")
            return False
        return True

    def _make_plot(self, name: str) -> tuple[pg.PlotWidget, pg.PlotItem]:
        widget = pg.PlotWidget(enableMenu=False)
        widget.setObjectName(name)
        widget.setMinimumSize(300, 180)
        plot = widget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.vb.disableAutoRange()
        for axis in ("left", "bottom", "right", "top"):
            plot.getAxis(axis).enableAutoSIPrefix(False)
        return widget, plot

    def _label(self, name: str) -> QLabel:
        label = rich_label(name, selectable=False)
        return label

    def _restyle(self, theme: _theme.Theme, plots, labels) -> None:
        apply_palette(self, theme)
        for widget, plot in plots:
            widget.setBackground(theme.background)
            _theme.style_plot(plot, theme)
            self._cache_frame(plot)
        for label in labels:
            label.setFont(_font(theme))
            label.setMinimumHeight(0)  # a new font: hold the readouts' heights afresh
        self._held.clear()
        self._fit_extras()

    @staticmethod
    def _cache_frame(plot: pg.PlotItem) -> None:
        """Blit the plot's axes and grid from pixmaps: they change only with a range or a size.

        An axis's inward ticks reach into the view box, so every curve that
        touches the plot's edge repaints the axes it touches (their tick
        labels played again from a QPicture); the grid lies under every
        curve. Cached, each is drawn again only when it changes (an axis
        range, a resize, a theme) and otherwise blitted.
        """
        cache = QGraphicsItem.CacheMode.DeviceCoordinateCache
        for name in ("left", "bottom", "right", "top"):
            axis = plot.getAxis(name)
            if axis is not None:
                axis.setCacheMode(cache)
        grid = getattr(plot, "_bceviz_grid", None)
        if grid is not None:
            grid.setCacheMode(cache)


class _Twin:
    """A second view box sharing a plot's x axis, drawn against the plot's right axis."""

    def __init__(self, plot: pg.PlotItem, label: str) -> None:
        self.plot = plot
        self.vb = pg.ViewBox(enableMenu=False)
        self.vb.setMouseEnabled(x=False, y=False)
        self.vb.disableAutoRange()
        # It lies over the plot's own view box: let every press through to the items there.
        self.vb.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        plot.showAxis("right")
        plot.scene().addItem(self.vb)
        axis = plot.getAxis("right")
        axis.linkToView(self.vb)
        axis.setLabel(label)
        self.vb.setXLink(plot.vb)
        plot.vb.sigResized.connect(self._sync)
        self._sync()

    def _sync(self, *_) -> None:
        self.vb.setGeometry(self.plot.vb.sceneBoundingRect())
        self.vb.linkedViewChanged(self.plot.vb, self.vb.XAxis)

    def add(self, item) -> None:
        self.vb.addItem(item)


def _sticky(current: Optional[tuple[float, float]], lo: float, hi: float,
            shrink: float = 0.4) -> tuple[float, float]:
    """A range that grows at once but shrinks only when the data use less than ``shrink`` of it."""
    if current is None or (hi - lo) < shrink * (current[1] - current[0]):
        return lo, hi
    return min(lo, current[0]), max(hi, current[1])


def _nice_levels(lo: float, hi: float) -> tuple[float, float]:
    """``lo`` down and ``hi`` up to a multiple of a tenth of the span's power of ten (or 1/4 of it)."""
    span = hi - lo
    if not (span > 0 and math.isfinite(span)):
        return lo, lo + 1.0
    unit = 10.0 ** math.floor(math.log10(span)) / 4.0
    return math.floor(lo / unit) * unit, math.ceil(hi / unit) * unit


# --------------------------------------------------------------------------- densities
class DensitiesPanel(_GanPanel):
    """Real and generated densities, histograms of the batch, D(x) and D* on the right axis."""

    title = "Densities, D(x) and the optimal D*"
    panel_id = "densities"
    listens = ("data", "model", "settings", "running")

    def __init__(self, state: GanState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.plot_widget, self.plot = self._make_plot("gan_densities_plot")
        layout.addWidget(self.plot_widget, 1)
        self.legend = self._label("gan_densities_legend")
        layout.addWidget(self.legend)
        self.readout = self._label("gan_densities_readout")
        layout.addWidget(self.readout)
        plot = self.plot
        plot.setLabel("bottom", "x")
        plot.setLabel("left", "density")
        plot.setXRange(-_gan.X_LIMIT, _gan.X_LIMIT, padding=0.0)
        self.twin = _Twin(plot, "D(x)")
        self.twin.vb.setYRange(0.0, 1.05, padding=0.0)
        # Every number from the state is finite: the curves skip pyqtgraph's finite checks.
        self.hist_real = pg.PlotCurveItem(x=[0.0, 1.0], y=[0.0], stepMode="center", fillLevel=0.0)
        self.hist_fake = pg.PlotCurveItem(x=[0.0, 1.0], y=[0.0], stepMode="center", fillLevel=0.0)
        for item in (self.hist_real, self.hist_fake):
            item.setZValue(-5)
            plot.addItem(item)
        self.components = [pg.PlotCurveItem() for _ in range(_gan.MAX_COMPONENTS)]
        for item in self.components:
            plot.addItem(item)
        self.real_curve = pg.PlotCurveItem(antialias=True)
        self.gen_curve = pg.PlotCurveItem(antialias=True)
        # Redrawn only when the real data change: blitted from a pixmap at every other frame.
        for item in (self.real_curve, *self.components):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.addItem(self.real_curve)
        plot.addItem(self.gen_curve)
        self.d_curve = pg.PlotCurveItem(antialias=True)
        self.d_star = pg.PlotCurveItem(antialias=True)
        self.d_curve.setZValue(6)
        self.twin.add(self.d_star)
        self.twin.add(self.d_curve)
        self.handles = DraggablePoints(priority=("w", "c"))
        self.handles.setZValue(20)
        # Still while training (they move with the real data only): blitted from a pixmap.
        self.handles.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.handles.setToolTip("Drag a round handle to move a real bump (up or down: its share "
                                "of the data); drag a square handle to change its width")
        plot.addItem(self.handles)
        self.handles.sigPointDragged.connect(self._on_drag)
        self._extras = (self.readout, self.legend)
        self._live_curves = (self.gen_curve, self.d_curve, self.d_star)
        self._y_range: Optional[tuple[float, float]] = None
        self._handles_key: Optional[tuple] = None
        self._real_key: Optional[tuple] = None
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        self._restyle(theme, [(self.plot_widget, self.plot)], [self.legend, self.readout])
        self.plot.getAxis("right").setPen(theme.pen(theme.foreground, width=1))
        self.plot.getAxis("right").setTextPen(theme.pen(theme.foreground, width=1))
        self.hist_real.setPen(pg.mkPen(None))
        self.hist_real.setBrush(theme.brush(theme.pos, 55))
        self.hist_fake.setPen(pg.mkPen(None))
        self.hist_fake.setBrush(theme.brush(theme.neg, 55))
        for item in self.components:
            item.setPen(theme.pen(theme.pos, width=1, style=Qt.PenStyle.DotLine))
        self.real_curve.setPen(theme.pen(theme.pos, width=2.5))
        self.gen_curve.setPen(theme.pen(theme.neg, width=2.5))
        self.d_curve.setPen(theme.pen(theme.soft, width=3))
        self.d_star.setPen(theme.pen(theme.foreground, width=2, style=Qt.PenStyle.DashLine))
        self.legend.setText(
            f"{_span(theme.pos, '━ real density')} &nbsp; {_span(theme.neg, '━ generator')}"
            f" &nbsp; {_span(theme.soft, '━ D(x)')} &nbsp; ╌ D* = a·p<sub>real</sub>/"
            f"(p<sub>real</sub> + p<sub>gen</sub>) &nbsp; (bars: this batch)")

    # ---------------------------------------------------------------- drawing
    def refresh(self) -> None:
        st: GanState = self.state
        view = st.densities()
        theme = self._theme
        self._set_quality()
        top = view.density_top * 1.15
        self._y_range = _sticky(self._y_range, 0.0, top)
        self.plot.setYRange(*self._y_range, padding=0.0)
        self.hist_real.setData(view.hist_edges, view.hist_real, skipFiniteCheck=True)
        self.hist_fake.setData(view.hist_edges, view.hist_fake, skipFiniteCheck=True)
        k = view.components.shape[0]
        real_key = (self.state.setup.mixture, self._y_range, theme)
        if real_key != self._real_key:  # the real density changes only with the real data
            self._real_key = real_key
            for i, item in enumerate(self.components):
                if i < k and k > 1:
                    item.setData(view.x, view.components[i], skipFiniteCheck=True)
                    item.show()
                else:
                    item.hide()
            self.real_curve.setData(view.x, view.p_real, skipFiniteCheck=True)
        self.gen_curve.setData(view.x, np.minimum(view.p_gen, self._y_range[1] * 2.0),
                               skipFiniteCheck=True)
        self.d_curve.setData(view.x, view.discriminator, skipFiniteCheck=True)
        self.d_star.setData(view.x, view.optimal, skipFiniteCheck=True)
        key = (view.centre_handles.tobytes(), view.width_handles.tobytes(), theme)
        if key != self._handles_key:  # they move only with the real data: not every step
            self._handles_key = key
            self._draw_handles(view, k)
        f = st.figures()
        a = view.real_label
        target = "1" if a == 1.0 else _num(a, 3)
        self._set_text(
            self.readout,
            f"D loss <b>{_num(f.d_loss)}</b> nats (best possible {_num(f.d_loss_optimal)}; "
            f"undecided 2 ln 2 = 1.386) · D right on {_pct(f.acc_real)} of real, "
            f"{_pct(f.acc_fake)} of fakes · JS distance <b>{_num(f.js)}</b> · real target "
            f"a = {target}, T = {_num(st.setup.temperature)}")

    def _draw_handles(self, view, k: int) -> None:
        theme = self._theme
        spots = []
        size = 14 * theme.scale
        for i in range(k):
            spots.append({"pos": tuple(view.centre_handles[i]), "data": ("c", i), "symbol": "o",
                          "size": size, "brush": theme.brush(theme.pos),
                          "pen": theme.pen(theme.background, width=1.5)})
            spots.append({"pos": tuple(view.width_handles[i]), "data": ("w", i), "symbol": "s",
                          "size": size * 0.75, "brush": theme.brush(theme.background),
                          "pen": theme.pen(theme.pos, width=2)})
        self.handles.setData(spots)

    # ---------------------------------------------------------------- gestures
    def _on_drag(self, key, pos, start, phase: str) -> None:
        kind, index = key
        setup = self.state.setup
        px, py = pixel_size(self.plot.vb)
        x = float(np.clip(pos.x(), -_gan.MEAN_LIMIT, _gan.MEAN_LIMIT))
        if kind == "c":
            mean = snap(x, px)
            share = None
            if len(setup.real_means) > 1:
                width = setup.real_widths[index]
                share = float(np.clip(pos.y() * width * math.sqrt(2.0 * math.pi),
                                      *_lab.SHARE_RANGE))
                share = snap(share, max(py * width * 2.5, 1e-4))
                share = float(np.clip(share, *_lab.SHARE_RANGE))
            self._guard(self.state.set_component, index, mean=mean, share=share)
        else:
            width = float(np.clip(abs(x - setup.real_means[index]), *_gan.WIDTH_RANGE))
            self._guard(self.state.set_component, index, width=snap(width, px))


# --------------------------------------------------------------------------- generator loss
class GeneratorLossPanel(_GanPanel):
    """The two generator losses against D's logit, the fakes on them, and the push each gives."""

    title = "The generator's loss against D(G(z))"
    panel_id = "generator_loss"
    listens = ("data", "model", "settings", "running")

    def __init__(self, state: GanState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.plot_widget, self.plot = self._make_plot("gan_generator_loss_plot")
        layout.addWidget(self.plot_widget, 1)
        self.legend = self._label("gan_generator_loss_legend")
        layout.addWidget(self.legend)
        self.readout = self._label("gan_generator_loss_readout")
        layout.addWidget(self.readout)
        plot = self.plot
        lim = _lab.U_LIMIT
        plot.setXRange(-lim - 0.3, lim + 0.3, padding=0.0)
        plot.setYRange(*LOSS_RANGE, padding=0.0)
        plot.setLabel("bottom", "D's logit u = z / T for a fake")
        plot.setLabel("left", "loss ℓ (nats)")
        plot.showAxis("top")
        top = plot.getAxis("top")
        top.setLabel("D(G(z))")
        self._top_ticks: Optional[tuple] = None
        plot.vb.sigResized.connect(self._fit_top_ticks)
        plot.getAxis("bottom").setTicks([[(v, f"{v:g}".replace("-", "−"))
                                          for v in (-10, -5, 0, 5, 10)], []])
        self.twin = _Twin(plot, "push |∂ℓ/∂z|")
        self.zero_line = pg.InfiniteLine(pos=0.0, angle=0, movable=False)
        self.zero_line.setZValue(-10)
        plot.addItem(self.zero_line, ignoreBounds=True)
        self.sat_curve = pg.PlotCurveItem(antialias=True)
        self.ns_curve = pg.PlotCurveItem(antialias=True)
        plot.addItem(self.sat_curve)
        plot.addItem(self.ns_curve)
        self.sat_push = pg.PlotCurveItem(antialias=True)
        self.ns_push = pg.PlotCurveItem(antialias=True)
        self.twin.add(self.sat_push)
        self.twin.add(self.ns_push)
        # The four curves change only with T or the theme (the ranges are fixed): each is
        # drawn once into a pixmap and blitted at every frame.
        for item in (self.sat_curve, self.ns_curve, self.sat_push, self.ns_push, self.zero_line):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.sat_fakes = pg.ScatterPlotItem()
        self.ns_fakes = pg.ScatterPlotItem()
        for item in (self.sat_fakes, self.ns_fakes):
            item.setZValue(10)
            plot.addItem(item)
        self.edge_note = pg.TextItem(anchor=(0.0, 1.0))
        self.edge_note.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.addItem(self.edge_note, ignoreBounds=True)
        self._extras = (self.legend, self.readout)
        self._temperature: Optional[float] = None
        self._drawn_curves = False
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        self._restyle(theme, [(self.plot_widget, self.plot)], [self.legend, self.readout])
        self.zero_line.setPen(theme.pen(theme.muted, width=1))
        self._top_ticks = None
        self._fit_top_ticks()
        self.edge_note.setColor(theme.foreground)
        self.edge_note.setFont(_font(theme, 0.85))
        self._kind = None  # restyle the curves on the next refresh
        self.legend.setText(
            f"{_span(theme.accent, '━ saturating log(1 − D)')} &nbsp; "
            f"{_span(theme.good, '━ non-saturating −log D')} &nbsp; ╌ push (right axis); "
            f"dots: this batch's fakes")

    def _fit_top_ticks(self, *_) -> None:
        """The densest set of D(G(z)) labels on the top axis whose labels do not touch."""
        width = self.plot.vb.width()
        if width <= 0:
            return
        px_per_u = width / (2 * _lab.U_LIMIT + 0.6)
        axis = self.plot.getAxis("top")
        # style_plot gives tick labels 0.9 of the theme's font size
        label_px = QFontMetrics(_font(self._theme, 0.9)).horizontalAdvance("0.999")
        chosen = TOP_TICK_SETS[-1]
        for values in TOP_TICK_SETS:
            u = [math.log(d / (1 - d)) for d in values]
            if min(np.diff(u)) * px_per_u >= label_px + 8:
                chosen = values
                break
        if chosen != self._top_ticks:
            self._top_ticks = chosen
            axis.setTicks([[(math.log(d / (1 - d)), f"{d:g}") for d in chosen], []])

    def _style(self, kind: str) -> None:
        theme = self._theme
        chosen = {"saturating": kind == "saturating", "non_saturating": kind == "non_saturating"}
        for curve, push, fakes, colour, name in (
                (self.sat_curve, self.sat_push, self.sat_fakes, theme.accent, "saturating"),
                (self.ns_curve, self.ns_push, self.ns_fakes, theme.good, "non_saturating")):
            on = chosen[name]
            curve.setPen(theme.pen(colour, width=3.5 if on else 1.5, alpha=255 if on else 150))
            push.setPen(theme.pen(colour, width=2 if on else 1.2, style=Qt.PenStyle.DashLine,
                                  alpha=255 if on else 150))
            fakes.setSize((9 if on else 6) * theme.scale)
            fakes.setBrush(theme.brush(colour, 200 if on else 110))
            fakes.setPen(theme.pen(theme.background, width=0.8))
            fakes.setZValue(11 if on else 10)
        self._kind = kind

    def refresh(self) -> None:
        st: GanState = self.state
        c = st.generator_curves()
        if self._kind != c.kind:
            self._style(c.kind)
        if not self._drawn_curves:
            self.sat_curve.setData(c.u, c.saturating, skipFiniteCheck=True)
            self.ns_curve.setData(c.u, c.non_saturating, skipFiniteCheck=True)
            self._drawn_curves = True
        if self._temperature != c.temperature:
            self.sat_push.setData(c.u, c.grad_saturating, skipFiniteCheck=True)
            self.ns_push.setData(c.u, c.grad_non_saturating, skipFiniteCheck=True)
            self.twin.vb.setYRange(0.0, 1.05 / c.temperature, padding=0.0)
            self._temperature = c.temperature
        self.sat_fakes.setData(c.fake_u, c.fake_saturating)
        self.ns_fakes.setData(c.fake_u, c.fake_non_saturating)
        notes = []
        if c.n_left:
            notes.append(f"{c.n_left} fakes beyond u = −10 (drawn at the edge)")
        if c.n_right:
            notes.append(f"{c.n_right} fakes beyond u = +10")
        note = "; ".join(notes)
        if note != self.edge_note.toPlainText():
            self.edge_note.setText(note)
        self.edge_note.setPos(-_lab.U_LIMIT, LOSS_RANGE[1] - 0.3)
        theme = self._theme
        mine = "saturating" if c.kind == "saturating" else "non-saturating"
        self._set_text(
            self.readout,
            f"Fakes: mean D(G(z)) <b>{_num(c.mean_d)}</b> · push per fake "
            f"{_span(theme.accent, _num(c.mean_grad_saturating))} / "
            f"{_span(theme.good, _num(c.mean_grad_non_saturating))} · gradient on (μ, σ) "
            f"{_span(theme.accent, _num(c.norm_grad_saturating))} / "
            f"{_span(theme.good, _num(c.norm_grad_non_saturating))} "
            f"(saturating / non-saturating; training uses <b>{mine}</b>)")


# --------------------------------------------------------------------------- objective
class ObjectivePanel(_GanPanel):
    """The generator's expected loss over (μ, σ) under the current D, with its path."""

    title = "The generator's objective over (μ, σ)"
    panel_id = "objective"
    listens = ("data", "model", "settings", "running")

    def __init__(self, state: GanState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.plot_widget, self.plot = self._make_plot("gan_objective_plot")
        layout.addWidget(self.plot_widget, 1)
        self.readout = self._label("gan_objective_readout")
        layout.addWidget(self.readout)
        plot = self.plot
        mu, sigma = _lab.OBJECTIVE_MU, _lab.OBJECTIVE_SIGMA
        dmu, dsig = mu[1] - mu[0], sigma[1] - sigma[0]
        plot.setXRange(mu[0] - dmu / 2, mu[-1] + dmu / 2, padding=0.0)
        plot.setYRange(sigma[0] - dsig / 2, sigma[-1] + dsig / 2, padding=0.0)
        plot.setLabel("bottom", "generator mean μ")
        plot.setLabel("left", "generator width σ")
        self.image = RGB32ImageItem(axisOrder="col-major")
        # Set after each setImage: the rect becomes a transform for the image's current size.
        self._rect = (mu[0] - dmu / 2, sigma[0] - dsig / 2, mu[-1] - mu[0] + dmu,
                      sigma[-1] - sigma[0] + dsig)
        self.image.setZValue(-20)
        plot.addItem(self.image)
        self.colormap = pg.colormap.get("viridis")
        self.bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=self.colormap, interactive=False,
                                   width=12, label="ℓ (nats)")
        self.bar.setImageItem(self.image, insert_in=plot)
        self.path = pg.PlotCurveItem(antialias=True)
        self.path.setZValue(5)
        plot.addItem(self.path)
        self.start = pg.ScatterPlotItem(symbol="x")
        self.start.setZValue(6)
        # Where training began: still while training, blitted from a pixmap over the map.
        self.start.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._start_at: Optional[tuple[float, float]] = None
        plot.addItem(self.start)
        self.downhill = pg.PlotCurveItem(antialias=True)
        self.downhill.setZValue(7)
        plot.addItem(self.downhill)
        self.handle = DragHandle(pos=(0.0, 1.0), size=15, symbol="o")
        self.handle.setZValue(10)
        self.handle.setToolTip("The generator now: drag it to put μ and σ somewhere else")
        plot.addItem(self.handle)
        self.handle.sigDragged.connect(self._on_drag)
        self._extras = (self.readout,)
        self._live_curves = (self.path, self.downhill)
        self._rect_set = False
        self._levels: Optional[tuple[float, float]] = None
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        self._restyle(theme, [(self.plot_widget, self.plot)], [self.readout])
        self.path.setPen(theme.pen("#ffffff", width=2))
        self.start.setPen(theme.pen("#ffffff", width=2))
        self.start.setBrush(theme.brush("#ffffff"))
        self.start.setSize(11 * theme.scale)
        self.downhill.setPen(theme.pen(theme.accent, width=3))
        self.handle.setPen(theme.pen("#000000", width=1.5))
        self.handle.setBrush(theme.brush(theme.accent))
        axis = self.bar.axis if hasattr(self.bar, "axis") else None
        if axis is not None:
            axis.setTickFont(_font(theme, 0.85))
            axis.setTextPen(theme.pen(theme.foreground, width=1))

    def refresh(self) -> None:
        st: GanState = self.state
        view = st.objective()
        lo, hi = view.lo, view.hi
        if not hi > lo:
            hi = lo + 1e-6
        # Sticky, rounded levels: the colour bar's axis redraws only when the map outgrows
        # them (or shrinks well inside), not at every step.
        lo, hi = _sticky(self._levels, *_nice_levels(lo, hi), shrink=0.6)
        self.image.setImage(view.values.T, autoLevels=False, levels=(lo, hi))
        if not self._rect_set:
            self.image.setRect(*self._rect)
            self._rect_set = True
        if (lo, hi) != self._levels:
            self.bar.setLevels((lo, hi))  # its axis redraws only when the levels move
            self._levels = (lo, hi)
        self._set_quality()
        self.path.setData(view.path_mu, view.path_sigma, skipFiniteCheck=True)
        start = (float(view.path_mu[0]), float(view.path_sigma[0]))
        if start != self._start_at:  # it moves only at a reset or a drag
            self._start_at = start
            self.start.setData([start[0]], [start[1]])
        self.handle.setPos(view.mu, view.sigma)
        # The way downhill, 10 % of each axis long (a direction, not a step size).
        span_mu = _lab.OBJECTIVE_MU[-1] - _lab.OBJECTIVE_MU[0]
        span_sigma = _lab.OBJECTIVE_SIGMA[-1] - _lab.OBJECTIVE_SIGMA[0]
        d_mu, d_sigma = view.descent
        scale = math.hypot(d_mu / span_mu, d_sigma / span_sigma)
        if scale > 0:
            k = 0.1 / scale
            self.downhill.setData([view.mu, view.mu + k * d_mu],
                                  [view.sigma, view.sigma + k * d_sigma])
        else:
            self.downhill.setData([], [])
        name = "log(1 − D)" if view.kind == "saturating" else "−log D"
        i = int(np.argmin(np.abs(view.sigma_grid - view.sigma)))
        j = int(np.argmin(np.abs(view.mu_grid - view.mu)))
        theme = self._theme
        self._set_text(
            self.readout,
            f"E[{name}] under today's D: {_num(view.values[i, j])} nats near (μ, σ) = "
            f"({_num(view.mu)}, {_num(view.sigma)}); map from {_num(lo)} (dark) to {_num(hi)} "
            f"(bright). {_span(theme.accent, '━ downhill')}, gradient size "
            f"{_num(view.grad_norm)}; white: the path.")

    def _on_drag(self, pos) -> None:
        mu = float(np.clip(pos.x(), -_gan.MU_LIMIT, _gan.MU_LIMIT))
        sigma = float(np.clip(pos.y(), *_gan.SIGMA_RANGE))
        px, py = pixel_size(self.plot.vb)
        mu = float(np.clip(snap(mu, px), -_gan.MU_LIMIT, _gan.MU_LIMIT))
        sigma = float(np.clip(snap(sigma, py), *_gan.SIGMA_RANGE))
        self._guard(self.state.set_generator, mu=mu, sigma=sigma)


# --------------------------------------------------------------------------- history
class HistoryPanel(_GanPanel):
    """Both losses (left axis), D's accuracies and the JS distance (right axis) per step."""

    title = "Losses, D's accuracy and the JS distance per step"
    panel_id = "history"
    listens = ("model", "settings", "data", "running")

    def __init__(self, state: GanState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.plot_widget, self.plot = self._make_plot("gan_history_plot")
        layout.addWidget(self.plot_widget, 1)
        self.legend = self._label("gan_history_legend")
        layout.addWidget(self.legend)
        plot = self.plot
        plot.setLabel("bottom", "step")
        plot.setLabel("left", "loss (nats)")
        self.twin = _Twin(plot, "accuracy, JS")
        self.twin.vb.setYRange(0.0, 1.05, padding=0.0)
        self.ln2_line = pg.InfiniteLine(pos=2 * LN2, angle=0, movable=False, label="2 ln 2",
                                        labelOpts={"position": 0.03, "anchors": [(0, 0), (0, 0)]})
        self.ln2_line.setZValue(-10)
        self.ln2_line.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.ln2_line.label.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.addItem(self.ln2_line, ignoreBounds=True)
        self.d_loss = pg.PlotCurveItem()
        self.g_loss = pg.PlotCurveItem()
        plot.addItem(self.d_loss)
        plot.addItem(self.g_loss)
        self.acc_real = pg.PlotCurveItem()
        self.acc_fake = pg.PlotCurveItem()
        self.js = pg.PlotCurveItem()
        for item in (self.acc_real, self.acc_fake, self.js):
            self.twin.add(item)
        self._extras = (self.legend,)
        self._y_range: Optional[tuple[float, float]] = None
        self._x_top = 0.0
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        self._theme = theme
        self._restyle(theme, [(self.plot_widget, self.plot)], [self.legend])
        self.ln2_line.setPen(theme.pen(theme.muted, width=1, style=Qt.PenStyle.DashLine))
        self.ln2_line.label.setColor(theme.muted)
        self.ln2_line.label.setFont(_font(theme, 0.85))
        # One-pixel solid lines (times the presentation scale): Qt draws them on a fast path;
        # wider or dashed pens are stroked as outlines, ~10× slower for a long history.
        self.d_loss.setPen(theme.pen(theme.soft, width=1))
        self.g_loss.setPen(theme.pen(theme.accent, width=1))
        self.acc_real.setPen(theme.pen(theme.pos, width=1, alpha=150))
        self.acc_fake.setPen(theme.pen(theme.neg, width=1, alpha=150))
        self.js.setPen(theme.pen(theme.good, width=1.5))
        self.legend.setText(
            f"{_span(theme.soft, '━ D loss')} &nbsp; {_span(theme.accent, '━ G loss')} "
            f"(left) &nbsp; {_span(theme.pos, '━ D right on real')} &nbsp; "
            f"{_span(theme.neg, '━ on fakes')} &nbsp; {_span(theme.good, '━ JS distance')} "
            f"(right)")

    def refresh(self) -> None:
        h = self.state.history()
        steps = h.step
        last = float(steps[-1]) if steps.size else 0.0
        if last > self._x_top or last < 0.5 * self._x_top or self._x_top == 0.0:
            self._x_top = max(10.0, last * 1.5)
        self.plot.setXRange(0.0, self._x_top, padding=0.0)
        lo = float(min(0.0, h.d_loss.min(), h.g_loss.min()))
        hi = float(max(2 * LN2 * 1.1, h.d_loss.max(), h.g_loss.max()))
        self._y_range = _sticky(self._y_range, lo - 0.05 * (hi - lo), hi * 1.05)
        self.plot.setYRange(*self._y_range, padding=0.0)
        self.d_loss.setData(steps, h.d_loss, skipFiniteCheck=True)
        self.g_loss.setData(steps, h.g_loss, skipFiniteCheck=True)
        self.acc_real.setData(steps, h.acc_real, skipFiniteCheck=True)
        self.acc_fake.setData(steps, h.acc_fake, skipFiniteCheck=True)
        self.js.setData(steps, h.js, skipFiniteCheck=True)


# --------------------------------------------------------------------------- controls
class GanControls(_GanPanel):
    """Train (Play / Round / D / G / Reset), the players' settings and the data."""

    title = "GAN"
    panel_id = "gan_controls"
    listens = ("data", "settings", "running", "model")

    def __init__(self, state: GanState, parent: Optional[QWidget] = None) -> None:
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

        # -- training
        box, form = self._group("Train")
        grid = QGridLayout()
        grid.setSpacing(3)
        self.play_button = self._button("Play", "Train continuously (Space): what Play does is "
                                        "chosen below", self._on_play)
        self.round_button = self._button("Round", "One round: the discriminator's steps, then "
                                         "one generator step", lambda: self.state.step_round(1))
        self.reset_button = self._button("Reset", "Back to this stage's start (same seed): "
                                         "generator start, D undecided, history cleared",
                                         self.state.reset)
        self.d_button = self._button("D step", "One discriminator step (the generator stays)",
                                     lambda: self.state.step_discriminator(1))
        self.g_button = self._button("G step", "One generator step (the discriminator stays)",
                                     lambda: self.state.step_generator(1))
        grid.addWidget(self.play_button, 0, 0)
        grid.addWidget(self.round_button, 0, 1)
        grid.addWidget(self.reset_button, 0, 2)
        grid.addWidget(self.d_button, 1, 0)
        grid.addWidget(self.g_button, 1, 1)
        form.addRow(grid)
        self.play = self._combo(
            (("rounds", "round"), ("D only", "discriminator"), ("G only", "generator")),
            "What Play and the Step key do: whole rounds, discriminator steps only, or "
            "generator steps only", "play")
        form.addRow("Play does", self.play)
        self.speed = self._spin(*_lab.SPEED_RANGE, "Steps per frame while playing",
                                "steps_per_frame")
        form.addRow("Steps/frame", self.speed)
        self.counts = QLabel()
        self.counts.setWordWrap(True)
        self.counts.setTextFormat(Qt.TextFormat.PlainText)
        self.counts.setToolTip("Steps since Reset: rounds, discriminator and generator updates")
        form.addRow(self.counts)
        layout.addWidget(box)

        # -- generator
        box, form = self._group("Generator")
        self.loss = self._combo(
            (("non-saturating −log D", "non_saturating"), ("saturating log(1 − D)", "saturating")),
            "The generator's loss on its fakes: −log D(G(z)) (non-saturating) or "
            "log(1 − D(G(z))) (saturating, the original minimax; flat where D wins)", "loss")
        form.addRow("Loss", self.loss)
        self.generator = self._combo(
            (("μ + σ·ε", "location_scale"), ("bend (learns b)", "bend")),
            "The generator: a location-scale μ + σ·ε, or with a monotone bend "
            "μ + σ·(ε + b·tanh 2ε) whose b is learnt too (it can split in two)", "generator")
        form.addRow("Shape", self.generator)
        self.lr_g = ValueControl(1e-3, 5.0, log=True, decimals=4,
                                 tooltip="Generator learning rate: each step moves (μ, σ, b) by "
                                         "−rate × gradient (plain gradient steps)")
        self.lr_g.valueChanged.connect(lambda v: self._set(lr_g=v))
        form.addRow("Rate", self.lr_g)
        layout.addWidget(box)

        # -- discriminator
        box, form = self._group("Discriminator")
        feat = QWidget()
        feat_layout = QHBoxLayout(feat)
        feat_layout.setContentsMargins(0, 0, 0, 0)
        feat_layout.setSpacing(3)
        self.features = self._combo((("radial", "radial"), ("polynomial", "polynomial")),
                                    "D's features of x: Gaussian bumps at evenly spaced centres, "
                                    "or powers x, x², … (a new choice starts D again)", "features")
        self.feature_size = QSpinBox()
        self.feature_size.setToolTip("How many radial bumps (2–12), or the polynomial degree (1–6)")
        self.feature_size.valueChanged.connect(lambda v: self._set(feature_size=int(v)))
        feat_layout.addWidget(self.features, 1)
        feat_layout.addWidget(self.feature_size)
        form.addRow("Features", feat)
        self.d_steps = self._spin(*_lab.D_STEPS_RANGE, "Discriminator steps per generator step "
                                  "(k in a round)", "d_steps")
        form.addRow("D steps", self.d_steps)
        self.real_label = ValueControl(*_lab.REAL_LABEL_RANGE, decimals=3,
                                       tooltip="The real samples' target a: 1 is plain BCE, 0.9 "
                                               "is one-sided label smoothing (D* ≤ a; fakes "
                                               "keep target 0)")
        self.real_label.valueChanged.connect(lambda v: self._set(real_label=v))
        form.addRow("Real target", self.real_label)
        self.temperature = ValueControl(*_lab.TEMPERATURE_RANGE, log=True, decimals=3,
                                        tooltip="Temperature T: D(x) = σ(z / T) in both players' "
                                                "losses; T > 1 softens D and slows its learning")
        self.temperature.valueChanged.connect(lambda v: self._set(temperature=v))
        form.addRow("T", self.temperature)
        self.lr_d = ValueControl(1e-3, 10.0, log=True, decimals=4,
                                 tooltip="Discriminator learning rate (plain gradient steps on "
                                         "its weights and bias)")
        self.lr_d.valueChanged.connect(lambda v: self._set(lr_d=v))
        form.addRow("Rate", self.lr_d)
        layout.addWidget(box)

        # -- data
        box, form = self._group("Data")
        self.components = self._spin(1, _gan.MAX_COMPONENTS, "How many Gaussian bumps the real "
                                     "data have (drag them on the densities plot)", None)
        self.components.valueChanged.connect(
            lambda v: self._guard(self.state.set_components, int(v)))
        form.addRow("Real bumps", self.components)
        self.batch = self._spin(*_lab.BATCH_RANGE, "Real samples and fakes per step",
                                "batch_size")
        form.addRow("Batch", self.batch)
        self.seed = self._spin(0, 2**31 - 1, "Seed of the samples and the noise (a new seed "
                               "restarts from the stage's start)", "seed")
        form.addRow("Seed", self.seed)
        layout.addWidget(box)
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

    def _combo(self, items, tip: str, key: str) -> QComboBox:
        combo = QComboBox()
        combo.setToolTip(tip)
        for text, data in items:
            combo.addItem(text, data)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(6)
        combo.activated.connect(lambda i: self._set(**{key: combo.itemData(i)}))
        return combo

    def _spin(self, lo: int, hi: int, tip: str, key: Optional[str]) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(lo, hi)
        spin.setToolTip(tip)
        spin.setKeyboardTracking(False)
        if key is not None:
            spin.valueChanged.connect(lambda v: self._set(**{key: int(v)}))
        return spin

    def _set(self, **changes) -> None:
        self._guard(self.state.configure, **changes)

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        font = _font(theme)
        for widget in self.findChildren(QWidget):
            widget.setFont(font)
        policy = QFormLayout.RowWrapPolicy.WrapAllRows if theme.font_pt > 12 \
            else QFormLayout.RowWrapPolicy.DontWrapRows
        for form in self._forms:
            form.setRowWrapPolicy(policy)
        # A value control sizes its number box for the font it was built with: size it again.
        for control in self.findChildren(ValueControl):
            control.spin.setFixedWidth(control.spin.fontMetrics().horizontalAdvance("0.00000") + 10)

    def _on_play(self) -> None:
        self.state.set_running(not self.state.running)

    # ---------------------------------------------------------------- drawing
    def on_event(self, name: str, **info) -> Optional[bool]:
        if name == "model" and info.get("reason") == "step":
            self._note_step()
            self._show_counts()  # a step changes the counts only (at most 5 times a second)
            return False
        return None

    def _show_counts(self) -> None:
        c = self.state.counts
        self._set_text(self.counts, f"rounds {c['rounds']:,} · D updates {c['d_updates']:,} · "
                                    f"G updates {c['g_updates']:,}")

    @staticmethod
    def _show(widget, value) -> None:
        widget.blockSignals(True)
        if isinstance(widget, QComboBox):
            index = widget.findData(value)
            if widget.currentIndex() != index:
                widget.setCurrentIndex(index)
        elif widget.value() != value:
            widget.setValue(value)
        widget.blockSignals(False)

    def refresh(self) -> None:
        st: GanState = self.state
        s = st.setup
        for widget, value in ((self.play, s.play), (self.speed, s.steps_per_frame),
                              (self.loss, s.loss), (self.generator, s.generator),
                              (self.features, s.features), (self.d_steps, s.d_steps),
                              (self.components, len(s.real_means)), (self.batch, s.batch_size),
                              (self.seed, s.seed)):
            self._show(widget, value)
        lo, hi = _gan.FEATURE_SIZE_RANGE[s.features]
        self.feature_size.blockSignals(True)
        self.feature_size.setRange(lo, hi)
        self.feature_size.setValue(s.feature_size)
        self.feature_size.blockSignals(False)
        self.lr_g.set_value(s.lr_g)
        self.lr_d.set_value(s.lr_d)
        self.real_label.set_value(s.real_label)
        self.temperature.set_value(s.temperature)
        self.play_button.setText("Pause" if st.running else "Play")
        self._show_counts()


PANELS = {"densities": DensitiesPanel, "generator_loss": GeneratorLossPanel,
          "objective": ObjectivePanel, "history": HistoryPanel}
CONTROLS = GanControls
