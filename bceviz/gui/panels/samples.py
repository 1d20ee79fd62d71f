"""The samples panel: a few (p, y) pairs as draggable dots, their losses as bars, and the mean.

Reads from the state: ``samples_p``, ``samples_y`` (classifier A, filled dots),
``samples_ref_p`` (reference classifier B on the same samples, hollow rings;
None hides it), ``spec`` (the bars and means use the current loss settings)
and ``view.units``.

Writes back: ``set_sample(i, p=...)`` when a dot of A is dragged sideways,
``set_sample(i, y=...)`` when a dot is dragged up or down (the dot's height
within its row is its label: top = 1, bottom = 0) or clicked (flips a hard
label), ``set_samples(..., ref_p=...)`` when a ring of B is dragged sideways
or a sample is added (+) or removed (−).

A drag decides its direction after the first few pixels and keeps it, so a
sideways drag never nudges the label by accident.

The product of likelihoods Π p^y (1 − p)^(1 − y) is the plain-BCE quantity
(exp of minus the summed plain loss); the bars and means follow the spec.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from bceviz.engine.losses import NATS_PER_BIT
from bceviz.gui import theme as _theme
from bceviz.gui.panels.base import Panel
from bceviz.model import figures as _figures
from bceviz.gui.widgets import (
    rich_label,
    apply_palette,
    DraggablePoints,
    label_color,
    loss_text,
    num,
    pixel_size,
    signed,
    snap,
)
from bceviz.model.state import AppState, StateError

#: Half the vertical room of a row taken by the label (y = 1 at the top, 0 at the bottom).
ROW_HALF = 0.3
#: Drags of p stop this far from 0 and 1 (the loss of a wrong label stays on the scale).
P_EDGE = 1e-3
#: Predictions are clipped this far from 0 and 1 for the loss (exact 0 or 1 come only from files).
P_CLIP = 1e-12
#: A drag picks its direction after the pointer has moved this many pixels.
DIRECTION_PX = 3.0
MAX_SAMPLES = 64
#: The plots' height (px, axes included) below which the readout under them scrolls.
PLOT_MIN_HEIGHT = 150


def _logits(p: np.ndarray) -> np.ndarray:
    pc = np.clip(np.asarray(p, dtype=np.float64), P_CLIP, 1.0 - P_CLIP)
    return np.log(pc) - np.log1p(-pc)


class SamplesPanel(Panel):
    """A handful of (p, y) pairs, the loss of each, the mean, and which one dominates it."""

    title = "Samples"
    panel_id = "samples"
    listens = ("samples", "spec", "view")

    def __init__(self, state: AppState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        self._drag: Optional[dict] = None
        self._selected: Optional[int] = None
        self._bar_top = 1.0
        self._value_texts: list[pg.TextItem] = []
        self.losses_a = np.zeros(0)
        self.losses_b: Optional[np.ndarray] = None
        self.dominant: Optional[int] = None
        self.figures: Optional[_figures.SamplesSummary] = None

        layout = self.vbox(self)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        self.add_button = QToolButton()
        self.add_button.setText("+")
        self.add_button.setToolTip("Add a sample (p = 0.5, y = 1)")
        self.add_button.clicked.connect(self.add_sample)
        self.remove_button = QToolButton()
        self.remove_button.setText("−")
        self.remove_button.setToolTip("Remove the last sample you touched (or the last one)")
        self.remove_button.clicked.connect(self.remove_sample)
        bar.addWidget(self.add_button)
        bar.addWidget(self.remove_button)
        self.hint = QLabel("drag a dot sideways for p, up or down for y; click flips y")
        self.hint.setWordWrap(True)
        bar.addWidget(self.hint, 1)
        layout.addLayout(bar)

        self.graphics = pg.GraphicsLayoutWidget()
        # the two plots (axes included) never shorter than PLOT_MIN_HEIGHT: the text
        # below scrolls first
        self.graphics.setMinimumSize(160, PLOT_MIN_HEIGHT)
        self.graphics.ci.layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.graphics, 1)

        self.summary = rich_label("samples_summary")
        # The readout lines wrap in a narrow dock; they scroll rather than squeeze the plots.
        scroll = self.summary_scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.summary)
        scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout.addWidget(scroll)

        self._build_strip()
        self._build_bars()
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    # ---------------------------------------------------------------- building
    def _build_strip(self) -> None:
        strip = self.strip = self.graphics.addPlot(row=0, col=0, enableMenu=False)
        strip.setMenuEnabled(False)
        strip.hideButtons()
        strip.setMouseEnabled(x=False, y=False)
        strip.invertY(True)
        strip.setLabel("bottom", "prediction p")
        strip.setXRange(0.0, 1.0, padding=0.03)
        # p runs over [0, 1] only: three labels never run together in a narrow strip
        strip.getAxis("bottom").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")],
                                          [(0.25, ""), (0.75, "")]])
        self.rails = pg.PlotDataItem(connect="pairs")
        self.rails.setZValue(-5)
        strip.addItem(self.rails)
        self.rail_notes = (pg.TextItem("y = 1", anchor=(0, 1)), pg.TextItem("y = 0", anchor=(0, 0)))
        for note in self.rail_notes:
            strip.addItem(note, ignoreBounds=True)
        self.halo = pg.ScatterPlotItem(size=26, symbol="o")
        self.halo.setZValue(-1)
        strip.addItem(self.halo)
        self.dots = DraggablePoints(size=14, symbol="o", priority=("A", "B"), hoverable=False)
        self.dots.setZValue(5)
        strip.addItem(self.dots)
        self.dots.sigPointDragged.connect(self._on_point_dragged)
        self.dots.sigPointClicked.connect(self._on_point_clicked)
        strip.vb.sigResized.connect(self._on_resized)

    def _build_bars(self) -> None:
        bars = self.bars = self.graphics.addPlot(row=0, col=1, enableMenu=False)
        bars.setMenuEnabled(False)
        bars.hideButtons()
        bars.setMouseEnabled(x=False, y=False)
        bars.invertY(True)
        bars.setYLink(self.strip)
        bars.getAxis("bottom").enableAutoSIPrefix(False)
        bars.hideAxis("left")
        self.graphics.ci.layout.setColumnStretchFactor(0, 3)
        self.graphics.ci.layout.setColumnStretchFactor(1, 2)
        self.bars_a = pg.BarGraphItem(x0=[], y=[], height=0.3, width=[])
        self.bars_b = pg.BarGraphItem(x0=[], y=[], height=0.3, width=[])
        bars.addItem(self.bars_a)
        bars.addItem(self.bars_b)
        self.mean_a = pg.InfiniteLine(angle=90, movable=False, label="",
                                      labelOpts={"position": 0.98})
        self.mean_b = pg.InfiniteLine(angle=90, movable=False, label="",
                                      labelOpts={"position": 0.98})
        bars.addItem(self.mean_a)
        bars.addItem(self.mean_b)

    def apply_theme(self, theme: _theme.Theme) -> None:
        self.graphics.setBackground(theme.background)
        _theme.style_plot(self.strip, theme, grid="x")
        _theme.style_plot(self.bars, theme, grid="x")
        self.rails.setPen(theme.pen(theme.muted, width=1, style=Qt.PenStyle.DotLine, alpha=120))
        for note in self.rail_notes:
            note.setColor(theme.muted)
        self.halo.setPen(theme.pen(theme.accent, width=3))
        self.halo.setBrush(theme.brush(theme.accent, alpha=60))
        self.mean_a.setPen(theme.pen(theme.foreground, width=1.6))
        self.mean_b.setPen(theme.pen(theme.foreground, width=1.4, style=Qt.PenStyle.DashLine))
        self.mean_a.label.setColor(theme.foreground)
        self.mean_b.label.setColor(theme.foreground)
        for text in self._value_texts:
            text.setColor(theme.foreground)
        font = QFont()
        font.setPointSizeF(theme.font_pt * 0.95)
        self.summary.setFont(font)
        # two lines of the readout at least; the rest scrolls when the dock is short
        self.summary_scroll.setMinimumHeight(2 * QFontMetrics(font).lineSpacing() + 4)
        apply_palette(self, theme)
        small = QFont()
        small.setPointSizeF(theme.font_pt * 0.85)
        self.hint.setFont(small)
        self.hint.setStyleSheet(f"color: {theme.muted};")  # a hint: quieter than the text

    # ------------------------------------------------------------ computation
    def _scale(self) -> float:
        return NATS_PER_BIT if self.state.view.units == "bits" else 1.0

    #: Π p^y (1 − p)^(1 − y) (model.figures.likelihood).
    likelihood = staticmethod(_figures.likelihood)

    @staticmethod
    def row_offset(y: float) -> float:
        """Vertical offset of a dot within its row (the axis is inverted: y = 1 sits on top)."""
        return (0.5 - float(y)) * 2.0 * ROW_HALF

    def _row_pixels(self) -> float:
        """Screen height of one sample's row (60 before the first layout)."""
        height = float(self.strip.vb.height())
        n = max(len(self.state.samples_p), 1)
        return height / (n + 0.2) if height > 1 else 60.0

    def _on_resized(self, *_args) -> None:
        # Marker sizes and which labels fit depend on the row height.
        self._dirty = True
        self.schedule()

    # ---------------------------------------------------------------- refresh
    def refresh(self) -> None:
        state, theme = self.state, _theme.current()
        p, y = state.samples_p, state.samples_y
        ref = state.samples_ref_p
        n = len(p)
        scale = self._scale()
        rows = np.arange(n, dtype=np.float64)
        heights = rows + np.array([self.row_offset(v) for v in y])
        row_px = self._row_pixels()
        # Dots shrink with the rows so neighbours never overlap in a small dock.
        dot_size = min(max(0.45 * row_px, 7.0), 14.0) * theme.scale

        summary = self.figures = _figures.samples_summary(state)  # computed below the GUI
        self.losses_a, self.losses_b = summary.losses_a, summary.losses_b
        self.dominant = summary.dominant

        # Strip: the rails (label 1 at the top of a row, 0 at the bottom), then the dots.
        rail_x = np.tile([0.0, 1.0], 2 * n)
        rail_y = np.repeat(np.concatenate([rows - ROW_HALF, rows + ROW_HALF]), 2)
        self.rails.setData(rail_x, rail_y)
        spots = []
        for i in range(n):
            color = label_color(theme, y[i])
            spots.append({"pos": (p[i], heights[i]), "data": ("A", i), "size": dot_size,
                          "brush": pg.mkBrush(color), "pen": theme.pen(theme.foreground, width=1),
                          "symbol": "o"})
        if ref is not None:
            for i in range(n):
                color = label_color(theme, y[i])
                spots.append({"pos": (ref[i], heights[i]), "data": ("B", i),
                              "size": 1.45 * dot_size, "brush": pg.mkBrush(None),
                              "pen": pg.mkPen(color, width=2.2 * theme.scale), "symbol": "o"})
        self.dots.setData(spots)
        if self.dominant is not None:
            d = self.dominant
            self.halo.setData([p[d]], [heights[d]], size=1.9 * dot_size)
        else:
            self.halo.setData([], [])
        # Name the rails of the first row once: a dot's height in its row is its label.
        self.rail_notes[0].setPos(-0.03, -ROW_HALF)
        self.rail_notes[1].setPos(-0.03, ROW_HALF)
        for note in self.rail_notes:
            note.setVisible(row_px >= 45)
        ticks = [(float(i), f"#{i + 1}  y={num(y[i], 2)}") for i in range(n)]
        self.strip.getAxis("left").setTicks([ticks, []])
        self.strip.setYRange(-0.6, n - 0.4, padding=0.0)

        self._refresh_bars(theme, rows, scale, row_px)
        self.summary.setText(self._summary_html())
        self.add_button.setEnabled(n < MAX_SAMPLES)
        self.remove_button.setEnabled(n > 1)

    def _refresh_bars(self, theme, rows, scale, row_px: float) -> None:
        n = len(rows)
        la = self.losses_a / scale
        has_b = self.losses_b is not None
        offset = 0.17 if has_b else 0.0
        height = 0.3 if has_b else 0.5
        brushes = []
        pens = []
        for i in range(n):
            color = label_color(theme, self.state.samples_y[i], alpha=200)
            brushes.append(theme.brush(theme.accent) if i == self.dominant else pg.mkBrush(color))
            pens.append(theme.pen(theme.foreground, width=2.0 if i == self.dominant else 0.8))
        self.bars_a.setOpts(x0=np.zeros(n), y=rows - offset, height=height, width=la,
                            brushes=brushes, pens=pens)
        if has_b:
            lb = self.losses_b / scale
            self.bars_b.setOpts(x0=np.zeros(n), y=rows + offset, height=height, width=lb,
                                brushes=[label_color(theme, v, alpha=45)
                                         for v in self.state.samples_y], pens=[
                                    pg.mkPen(label_color(theme, v), width=1.6 * theme.scale)
                                    for v in self.state.samples_y])
            self.bars_b.setVisible(True)
        else:
            lb = np.zeros(0)
            self.bars_b.setVisible(False)

        top = float(np.max(np.concatenate([la, lb, [0.0]])))
        needed = max(0.5, 1.25 * top) if math.isfinite(top) else 1.0
        # While dragging the scale only grows, so bars do not rescale under the pointer.
        if self._drag is not None:
            needed = max(needed, self._bar_top)
        fixed = self.state.view.samples_loss_max
        if fixed > 0:  # a stage holds the scale so a change of setting is seen as bars moving
            needed = max(fixed, 1.05 * top) if math.isfinite(top) else fixed
        self._bar_top = needed
        self.bars.setXRange(0.0, needed, padding=0.0)
        self.bars.setLabel("bottom", f"loss ({self.state.view.units})")

        mean_a = float(np.mean(la)) if n else 0.0
        mean_b = float(np.mean(lb)) if has_b and n else 0.0
        self.mean_a.setValue(mean_a)
        self.mean_a.label.setFormat(f"mean A {num(mean_a, 3)}" if has_b
                                    else f"mean {num(mean_a, 3)}")
        self.mean_b.setVisible(has_b)
        if has_b:
            self.mean_b.setValue(mean_b)
            self.mean_b.label.setFormat(f"mean B {num(mean_b, 3)}")
        # Labels near the bottom at two heights (so two close means never collide), each on
        # the side of its line with more room.
        for line, value, position in ((self.mean_a, mean_a, 0.98), (self.mean_b, mean_b, 0.9)):
            anchor = (0.0, 1.0) if value < 0.55 * needed else (1.0, 1.0)
            line.label.anchors = [anchor, anchor]
            line.label.setPosition(position)  # the y axis is inverted: near 1 is the bottom
            # In a short plot the labels would cover the bars: the summary has the numbers.
            line.label.setVisible(self.bars.vb.height() >= 150 or self.bars.vb.height() <= 1)

        while len(self._value_texts) < n:
            text = pg.TextItem(anchor=(0, 0.5), color=theme.foreground)
            self.bars.addItem(text, ignoreBounds=True)
            self._value_texts.append(text)
        for i, text in enumerate(self._value_texts):
            visible = i < n and row_px >= 24
            text.setVisible(visible)
            if visible:
                text.setText(num(la[i], 3))
                text.setPos(la[i], rows[i] - offset)

    def _summary_html(self) -> str:
        state = self.state
        units = state.view.units
        n = len(state.samples_p)
        spec = state.spec
        plain = spec.label_smoothing == 0 and spec.pos_weight == 1.0 and not spec.is_focal

        summary = self.figures

        def line(name, like, mean, marker):
            text = (f"<b>{name}</b> {marker}: Π likelihood = <b>{num(like, 4)}</b> &nbsp; "
                    f"mean BCE = <b>{signed(loss_text(mean, units))}</b>")
            if plain and like > 0:
                log = "log₂" if units == "bits" else "ln"
                text += f" &nbsp;(= −{log} {num(like, 4)} / {n})"
            return text

        lines = [line("A", summary.likelihood_a, summary.mean_a, "●")]
        if summary.losses_b is not None:
            lines.append(line("B", summary.likelihood_b, summary.mean_b, "○"))
        if summary.dominant is not None:
            share = summary.dominant_share
            lines.append(f"#{self.dominant + 1} carries the largest share of A's total loss: "
                         f"<b>{num(100 * share, 3)}%</b>")
        if not plain:
            lines.append("<i>bars and means use the current loss settings; "
                         "the likelihood is plain BCE's</i>")
        if summary.clipped:
            lines.append(f"<i>p of exactly 0 or 1 is clipped to {num(P_CLIP, 2)} from the edge</i>")
        return "<br>".join(lines)

    # ------------------------------------------------------------- gestures
    def add_sample(self) -> None:
        state = self.state
        if len(state.samples_p) >= MAX_SAMPLES:
            return
        p = np.append(state.samples_p, 0.5)
        y = np.append(state.samples_y, 1.0)
        ref = None if state.samples_ref_p is None else np.append(state.samples_ref_p, 0.5)
        self._apply_samples(p, y, ref)

    def remove_sample(self) -> None:
        state = self.state
        n = len(state.samples_p)
        if n <= 1:
            return
        i = self._selected if self._selected is not None and self._selected < n else n - 1
        self._selected = None
        p = np.delete(state.samples_p, i)
        y = np.delete(state.samples_y, i)
        ref = None if state.samples_ref_p is None else np.delete(state.samples_ref_p, i)
        self._apply_samples(p, y, ref)

    def _apply_samples(self, p, y, ref) -> None:
        try:
            self.state.set_samples(p, y, ref_p=ref, keep_ref=ref is not None)
        except StateError as exc:
            self.state.set_status(str(exc), "warning")

    def _set_sample(self, i: int, **kwargs) -> None:
        try:
            self.state.set_sample(i, **kwargs)
        except (StateError, IndexError) as exc:
            self.state.set_status(str(exc), "warning")

    def _on_point_clicked(self, key) -> None:
        _who, i = key
        self._selected = i
        y = float(self.state.samples_y[i])
        self._set_sample(i, y=0.0 if y >= 0.5 else 1.0)

    def _on_point_dragged(self, key, pos, start, phase: str) -> None:
        who, i = key
        if phase == "start":
            self._drag = {"key": key, "axis": None}
            self._selected = i
        drag = self._drag
        if drag is None or drag["key"] != key:
            return
        sx, sy = pixel_size(self.strip.vb)
        if drag["axis"] is None:
            dx, dy = abs(pos.x() - start.x()) / sx, abs(pos.y() - start.y()) / sy
            if max(dx, dy) >= DIRECTION_PX:
                drag["axis"] = "p" if dx >= dy else "y"
        if drag["axis"] == "p":
            new_p = min(max(snap(pos.x(), sx), P_EDGE), 1.0 - P_EDGE)
            if who == "A":
                self._set_sample(i, p=new_p)
            elif self.state.samples_ref_p is not None:
                ref = self.state.samples_ref_p.copy()
                ref[i] = new_p
                self._apply_samples(self.state.samples_p, self.state.samples_y, ref)
        elif drag["axis"] == "y":
            raw = 0.5 - (pos.y() - i) / (2.0 * ROW_HALF)
            new_y = min(max(snap(raw, sy / (2.0 * ROW_HALF)), 0.0), 1.0) + 0.0  # no −0
            self._set_sample(i, y=new_y)
        if phase == "finish":
            self._drag = None
            self._dirty = True
            self.schedule()
