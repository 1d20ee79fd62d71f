"""The loss-curve panel: BCE against p or z, a prediction handle on the curve and a draggable label.

Reads from the state: ``probe_z``/``probe_p``/``probe_y`` (the handle), ``spec``
(smoothing, pos_weight, focal γ/α shape every curve) and ``view`` (``units``,
``curve_axis``, ``show_mse``, ``show_hinge``, ``show_ceilings``,
``show_entropy_floor``).

Writes back: ``set_probe(p=...)`` or ``set_probe(z=...)`` while the prediction
handle is dragged or the plot is clicked (the handle stays on the current-label
curve because its position always comes from the state; a right click during
a drag puts it back), ``set_probe(y=...)`` while the label handle on the
strip at the right is dragged or the strip is clicked, and ``set_view(...)``
from the panel's own toggles.

Ranges: the x-range is fixed ([0, 1] for p; ±8 for z, wider only if the state
puts the handle beyond it). The y-range depends on the spec, the units and the
x-range only (never on the handle while dragging), so nothing jumps under the
pointer. Drags are clamped to the visible range (p in [0.001, 0.999] in the
p-view; the z-view reaches further) and rounded to what one pixel can tell apart.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QFont, QLinearGradient
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QWidget,
)

from bceviz.engine.losses import (
    FRAMEWORK_CEILING_DTYPES,
    FRAMEWORK_CEILINGS,
    NATS_PER_BIT,
    framework_ceiling,
    entropy,
    grad_from_logits,
    hinge_from_logits,
    hinge_grad_from_logits,
    loss_from_logits,
    squared_error_from_logits,
    squared_error_grad_from_logits,
)
from bceviz.gui import theme as _theme
from bceviz.gui.panels.base import Panel
from bceviz.model import figures as _figures
from bceviz.gui.widgets import (
    rich_label,
    apply_palette,
    DragHandle,
    fmt_prob,
    label_color,
    loss_text,
    num,
    pixel_size,
    signed,
    snap,
)
from bceviz.model.state import PROBE_Z_LIMIT, AppState, StateError

#: The p-view's drag stops this far from 0 and 1 (the z-view reaches further).
P_EDGE = 1e-3
#: Half-width of the z-view's default x-range.
Z_HALF_RANGE = 8.0
#: Samples of each curve.
GRID_SIZE = 1201
#: Half-length of the tangent segment, in screen pixels.
TANGENT_PX = 110.0

CEILING_NAMES = (("keras", "Keras"), ("sklearn", "sklearn"), ("pytorch", "PyTorch"))


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether two (x, y, w, h) rectangles share more than a pixel's edge."""
    return (a[0] < b[0] + b[2] - 1 and b[0] < a[0] + a[2] - 1
            and a[1] < b[1] + b[3] - 1 and b[1] < a[1] + a[3] - 1)


def _sigmoid_pair(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(σ(z), 1 − σ(z)), each to full relative precision."""
    z = np.asarray(z, dtype=np.float64)
    tail = np.log1p(np.exp(-np.abs(z)))
    return np.exp(-(np.maximum(-z, 0.0) + tail)), np.exp(-(np.maximum(z, 0.0) + tail))


class LossCurvePanel(Panel):
    """BCE against the prediction for y = 0, y = 1 and the current label, with live readouts."""

    title = "Loss curve"
    panel_id = "loss_curve"
    listens = ("probe", "spec", "view")
    #: False while a stage hides its answer (the window's Reveal sets it).
    revealed = True

    def set_revealed(self, on: bool) -> None:
        """Show or hide the handle's loss and gradient values (a practice problem's answer)."""
        if bool(on) != self.revealed:
            self.revealed = bool(on)
            self._dirty = True
            self.flush()

    def __init__(self, state: AppState, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        self._drag: Optional[str] = None  # "p" (prediction handle) or "y" (label), while dragging
        self._saved_probe: Optional[tuple[float, float]] = None
        self._x_range = (0.0, 1.0)
        self._y_top = 1.0  # in display units
        self._axis = None  # axis the grid was built for
        self._z_grid = np.zeros(0)
        self._x_grid = np.zeros(0)
        self._handle_xy = (0.0, 0.0)
        self._slope = 0.0

        layout = self.vbox(self)
        layout.addLayout(self._build_toolbar())

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setMinimumSize(160, 120)
        self.graphics.ci.layout.setContentsMargins(2, 2, 2, 2)
        self.graphics.ci.layout.setHorizontalSpacing(4)
        layout.addWidget(self.graphics, 1)

        self.legend = rich_label("loss_curve_legend", selectable=False)
        layout.addWidget(self.legend)

        self.readout = rich_label("loss_curve_readout")
        layout.addWidget(self.readout)

        self._build_plot()
        self._build_strip()
        self.graphics.scene().sigMouseClicked.connect(self._on_scene_click)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    # ----------------------------------------------------------------- building
    def _build_toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(2)  # narrow enough to sit beside three columns at 1280 px
        against = QLabel("vs")
        against.setToolTip("Plot the loss against the probability p or against the logit z")
        bar.addWidget(against)
        self.axis_buttons = QButtonGroup(self)
        self.axis_buttons.setExclusive(True)
        for key, text, tip in (
            ("p", "p", "Plot the loss against the predicted probability p"),
            ("z", "z", "Plot the loss against the logit z = ln(p / (1 − p))"),
        ):
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setToolTip(tip)
            button.setProperty("axis", key)
            self.axis_buttons.addButton(button)
            bar.addWidget(button)
        self.axis_buttons.buttonClicked.connect(
            lambda b: self._set_view(curve_axis=b.property("axis")))
        bar.addSpacing(6)
        self.toggles: dict[str, QCheckBox] = {}
        for key, text, tip in (
            ("show_mse", "MSE", "Overlay the squared error (p − y)² and the size of its gradient"),
            ("show_hinge", "hinge", "Overlay the hinge loss max(0, 1 − t·z) with t = 2y − 1"),
            ("show_ceilings", "caps",
             "Where PyTorch, Keras and scikit-learn cap a confidently wrong loss "
             "(scikit-learn's depends on the predictions' dtype: 36.04 nats for "
             "float64, 15.94 for float32)"),
            ("show_entropy_floor", "floor", "The entropy H(yₛ): the lowest plain BCE can go"),
        ):
            box = QCheckBox(text)
            box.setToolTip(tip)
            box.toggled.connect(lambda on, k=key: self._set_view(**{k: bool(on)}))
            self.toggles[key] = box
            bar.addWidget(box)
        self.bits_box = QCheckBox("bits")
        self.bits_box.setToolTip("Show losses in bits (log base 2) instead of nats (natural log)")
        self.bits_box.toggled.connect(lambda on: self._set_view(units="bits" if on else "nats"))
        bar.addWidget(self.bits_box)
        bar.addStretch(1)
        return bar

    def _build_plot(self) -> None:
        plot = self.plot = self.graphics.addPlot(row=0, col=0, enableMenu=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.vb.setDefaultPadding(0.0)
        # Antialiased: the thick current-label curve looks jagged without it.
        self.curve_y0 = plot.plot(antialias=True)
        self.curve_y1 = plot.plot(antialias=True)
        self.curve_current = plot.plot(antialias=True)
        self.curve_mse = plot.plot()
        self.curve_mse_grad = plot.plot()
        self.curve_bce_grad = plot.plot()
        self.curve_hinge = plot.plot()
        self.floor_line = pg.InfiniteLine(angle=0, movable=False, label="",
                                          labelOpts={"position": 0.06, "anchors": [(0, 1), (0, 1)]})
        plot.addItem(self.floor_line)
        self.ceiling_lines: dict[str, pg.InfiniteLine] = {}
        for key, _name in CEILING_NAMES:
            line = pg.InfiniteLine(angle=0, movable=False, label="",
                                   labelOpts={"position": 0.75, "anchors": [(0.5, 1), (0.5, 1)]})
            line.setZValue(-5)
            plot.addItem(line)
            self.ceiling_lines[key] = line
        self.ceiling_note = pg.TextItem(anchor=(0, 0))
        plot.addItem(self.ceiling_note, ignoreBounds=True)

        self.tangent = plot.plot()
        self.tangent.setZValue(5)
        self.handle = DragHandle(pos=(0.7, 0.3), size=14, symbol="o")
        self.handle.setZValue(10)
        self.handle.setToolTip("Drag sideways to change the prediction")
        plot.addItem(self.handle)
        self.handle.sigDragStarted.connect(lambda: self._drag_started("p"))
        self.handle.sigDragged.connect(self._on_handle_dragged)
        self.handle.sigDragFinished.connect(self._drag_finished)
        self.handle.sigDragCancelled.connect(self._drag_cancelled)
        plot.vb.sigResized.connect(self._on_view_resized)

    def _build_strip(self) -> None:
        strip = self.strip = self.graphics.addPlot(row=0, col=1, enableMenu=False)
        strip.setMenuEnabled(False)
        strip.hideButtons()
        strip.setMouseEnabled(x=False, y=False)
        strip.setMinimumWidth(62)
        strip.setMaximumWidth(62)
        strip.hideAxis("left")
        strip.showAxis("right")
        strip.getAxis("right").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")],
                                         [(0.25, ""), (0.75, "")]])
        strip.getAxis("right").setWidth(26)
        strip.getAxis("bottom").setTicks([[]])
        # "y", not "label y": the strip is 62 px wide (its tooltip and the legend say more)
        strip.setLabel("bottom", "y")
        strip.setXRange(0.0, 1.0, padding=0.0)
        strip.setYRange(-0.04, 1.04, padding=0.0)
        self.strip_gradient = QGraphicsRectItem(0.0, 0.0, 1.0, 1.0)
        self.strip_gradient.setPen(pg.mkPen(None))
        self.strip_gradient.setZValue(-10)
        strip.addItem(self.strip_gradient)
        self.label_line = pg.InfiniteLine(angle=0, movable=False)
        strip.addItem(self.label_line)
        self.smoothed_marker = pg.ScatterPlotItem(size=9, symbol="t2")
        self.smoothed_marker.setToolTip("The smoothed target yₛ the loss actually uses")
        strip.addItem(self.smoothed_marker)
        self.label_handle = DragHandle(pos=(0.5, 1.0), size=16, symbol="d")
        self.label_handle.setZValue(10)
        self.label_handle.setToolTip("Drag up or down to change the label y (any value in [0, 1])")
        strip.addItem(self.label_handle)
        self.label_handle.sigDragStarted.connect(lambda: self._drag_started("y"))
        self.label_handle.sigDragged.connect(self._on_label_dragged)
        self.label_handle.sigDragFinished.connect(self._drag_finished)
        self.label_handle.sigDragCancelled.connect(self._drag_cancelled)

    # ------------------------------------------------------------------ theme
    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self.schedule()  # the caps note wraps or unwraps with the width

    def apply_theme(self, theme: _theme.Theme) -> None:
        self.graphics.setBackground(theme.background)
        _theme.style_plot(self.plot, theme)
        _theme.style_plot(self.strip, theme, grid=False)
        self.curve_y0.setPen(theme.pen(theme.neg, width=1.2, alpha=170))
        self.curve_y1.setPen(theme.pen(theme.pos, width=1.2, alpha=170))
        # MSE itself dashed and grey, its gradient solid green and thicker: the two must
        # be told apart at a glance from the back of a room
        self.curve_mse.setPen(theme.pen(theme.muted, width=1.6, style=Qt.PenStyle.DashLine))
        self.curve_mse_grad.setPen(theme.pen(theme.good, width=2.6))
        self.curve_bce_grad.setPen(theme.pen(theme.soft, width=1.4, style=Qt.PenStyle.DotLine))
        self.curve_hinge.setPen(theme.pen(theme.muted, width=1.6, style=Qt.PenStyle.DashDotLine))
        self.tangent.setPen(
            theme.pen(theme.foreground, width=1.3, style=Qt.PenStyle.DashLine, alpha=200))
        self.floor_line.setPen(theme.pen(theme.muted, width=1.2, style=Qt.PenStyle.DashLine))
        self.floor_line.label.setColor(theme.muted)
        for line in self.ceiling_lines.values():
            line.setPen(theme.pen(theme.foreground, width=1, style=Qt.PenStyle.DotLine, alpha=160))
            line.label.setColor(theme.foreground)
        self.ceiling_note.setColor(theme.muted)
        note_font = QFont()
        note_font.setPointSizeF(theme.font_pt * 0.8)
        self.ceiling_note.setFont(note_font)
        for handle in (self.handle, self.label_handle):
            handle.setPen(theme.pen(theme.foreground, width=1.5))
            handle.setBrush(theme.brush(theme.accent))
            handle.setHoverPen(theme.pen(theme.foreground, width=2.5))
            handle.setHoverBrush(theme.brush(theme.accent, alpha=200))
        self.label_line.setPen(theme.pen(theme.accent, width=2))
        self.smoothed_marker.setPen(theme.pen(theme.foreground, width=1))
        self.smoothed_marker.setBrush(theme.brush(theme.soft))
        ramp = QLinearGradient(0.0, 0.0, 0.0, 1.0)  # item coordinates: label 0 to label 1
        for stop in (0.0, 0.5, 1.0):
            ramp.setColorAt(stop, label_color(theme, stop, alpha=80))
        self.strip_gradient.setBrush(QBrush(ramp))
        font = QFont()
        font.setPointSizeF(theme.font_pt * 0.95)
        for label in (self.readout, self.legend):
            label.setFont(font)
        apply_palette(self, theme)

    # ------------------------------------------------------------------ state
    def _set_view(self, **changes) -> None:
        try:
            self.state.set_view(**changes)
        except StateError as exc:
            self.state.set_status(str(exc), "warning")

    def _units_scale(self) -> float:
        return NATS_PER_BIT if self.state.view.units == "bits" else 1.0

    def _ensure_grid(self) -> None:
        """Build the x grid (and the z it stands for) when the axis or the x-range changes."""
        axis = self.state.view.curve_axis
        z_now = self.state.probe_z
        if axis == "p":
            x_range = (0.0, 1.0)
        else:
            # Wider than the default only for a handle the state put beyond it (a drag is
            # clamped to the range, so dragging never widens it); frozen during a drag.
            half = Z_HALF_RANGE
            if self._drag is not None and self._axis == "z":
                half = self._x_range[1]
            elif abs(z_now) > Z_HALF_RANGE:
                half = min(math.ceil(abs(z_now) + 1.0), PROBE_Z_LIMIT + 1.0)
            x_range = (-half, half)
        if axis == self._axis and x_range == self._x_range and self._z_grid.size:
            return
        self._axis, self._x_range = axis, x_range
        if axis == "p":
            # Even in z so both tails are sampled finely enough to reach the top of the plot.
            self._z_grid = np.linspace(-11.0, 11.0, GRID_SIZE)
            self._x_grid = _sigmoid_pair(self._z_grid)[0]
            self.plot.setLabel("bottom", "predicted probability p")
        else:
            self._z_grid = np.linspace(x_range[0] - 0.5, x_range[1] + 0.5, GRID_SIZE)
            self._x_grid = self._z_grid
            self.plot.setLabel("bottom", "logit z")
        self.plot.setXRange(x_range[0], x_range[1], padding=0.02)

    def _edge_logits(self) -> tuple[float, float]:
        """Logits of the leftmost and rightmost point a drag can reach."""
        if self._axis == "p":
            edge = math.log(P_EDGE) - math.log1p(-P_EDGE)
            return edge, -edge
        return self._x_range

    def _update_y_range(self, spec, handle_loss: float) -> None:
        if self._drag is not None:
            return  # frozen while dragging: nothing may jump under the pointer
        lo, hi = self._edge_logits()
        edges = np.array([lo, hi, lo, hi])
        labels = np.array([0.0, 0.0, 1.0, 1.0])
        top = float(np.max(loss_from_logits(edges, labels, spec)))
        top = max(top, handle_loss, 0.5)
        scale = self._units_scale()
        self._y_top = 1.12 * top / scale
        fixed = self.state.view.loss_y_max
        if fixed > 0:  # a stage fixes the range its claim needs (e.g. gradients below 1),
            self._y_top = max(fixed, 1.12 * handle_loss / scale)  # the handle stays on it
        self.plot.setYRange(-0.04 * self._y_top, self._y_top, padding=0.0)
        self.plot.setLabel("left", f"loss ({self.state.view.units})")

    # ---------------------------------------------------------------- refresh
    def refresh(self) -> None:
        state, theme = self.state, _theme.current()
        view, spec = state.view, state.spec
        scale = self._units_scale()
        self._sync_toolbar()
        self._ensure_grid()

        z_grid, x_grid = self._z_grid, self._x_grid
        readout = _figures.probe_readout(state)  # shared with the formula panel
        y, ys, z = readout.y, readout.y_smoothed, readout.z
        p, q, loss = readout.p, readout.q, readout.loss
        self._update_y_range(spec, loss)

        self.curve_y0.setData(x_grid, loss_from_logits(z_grid, 0.0, spec) / scale)
        self.curve_y1.setData(x_grid, loss_from_logits(z_grid, 1.0, spec) / scale)
        current = loss_from_logits(z_grid, y, spec) / scale
        self.curve_current.setData(x_grid, current)
        color = label_color(theme, y)
        self.curve_current.setPen(pg.mkPen(color, width=theme.line_width * 1.4 * theme.scale))
        self.legend.setText(self._legend_html(theme, view, y))

        # Tangent at the handle: slope in display units per unit of the x axis.
        grad_z, curv, grad_p = readout.dl_dz, readout.d2l_dz2, readout.dl_dp
        x_handle = p if self._axis == "p" else z
        self._handle_xy = (x_handle, loss / scale)
        self._slope = (grad_p if self._axis == "p" else grad_z) / scale
        self.handle.setPos(x_handle, loss / scale)
        self._update_tangent()

        self._refresh_floor(view, spec, y, ys, scale)
        self._refresh_ceilings(view, scale)
        self._refresh_overlays(view, y, z_grid, x_grid)

        self.label_handle.setPos(0.5, y)
        self.label_line.setValue(y)
        if spec.label_smoothing > 0:
            self.smoothed_marker.setData([0.85], [ys])
        else:
            self.smoothed_marker.setData([], [])
        if self.revealed:
            self.readout.setText(self._readout_html(p, q, y, ys, z, loss, grad_p, grad_z, curv))
        else:
            self.readout.setText(
                f"<b>p</b> = {signed(fmt_prob(p, q))} &nbsp; <b>y = {signed(num(y, 4))}</b>"
                " &nbsp; <b>L = ?</b> &nbsp; ∂L/∂z = ?<br><i>Work them out, then press Reveal "
                "(Ctrl+R).</i>")

    def _sync_toolbar(self) -> None:
        view = self.state.view
        for button in self.axis_buttons.buttons():
            button.blockSignals(True)
            button.setChecked(button.property("axis") == view.curve_axis)
            button.blockSignals(False)
        for key, box in self.toggles.items():
            box.blockSignals(True)
            box.setChecked(bool(getattr(view, key)))
            box.blockSignals(False)
        self.bits_box.blockSignals(True)
        self.bits_box.setChecked(view.units == "bits")
        self.bits_box.blockSignals(False)

    @staticmethod
    def _legend_html(theme, view, y) -> str:
        """A one-line legend under the plot, so no legend box ever hides a curve."""

        def entry(color, text, glyph="━━"):
            c = pg.mkColor(color).name()
            return f'<span style="color:{c}">{glyph}</span>&nbsp;{text}'

        entries = [entry(theme.neg, "y = 0"), entry(theme.pos, "y = 1"),
                   entry(label_color(theme, y).name(), f"<b>current y = {num(y, 3)}</b>")]
        if view.show_mse:
            entries += [entry(theme.muted, "MSE (p − y)²", "╍╍"),
                        entry(theme.good, "|∂MSE/∂z|", "━━"),
                        entry(theme.soft, "|∂BCE/∂z|", "┈┈")]
        if view.show_hinge:
            entries.append(entry(theme.muted, "hinge", "╍·"))
        return " &nbsp; ".join(entries)

    def _refresh_floor(self, view, spec, y, ys, scale) -> None:
        floor = float(entropy(ys))
        show = view.show_entropy_floor and floor > 1e-9
        self.floor_line.setVisible(show)
        if show:
            self.floor_line.setValue(floor / scale)
            plain = spec.pos_weight == 1.0 and not spec.is_focal
            name = "H(yₛ)" if spec.label_smoothing > 0 else "H(y)"
            note = "" if plain else " (floor of plain BCE)"
            self.floor_line.label.setFormat(f"{name} = {num(floor / scale, 4)}{note}")

    def _refresh_ceilings(self, view, scale) -> None:
        off_scale = []
        drawn: list[str] = []
        for key, name in CEILING_NAMES:
            value = FRAMEWORK_CEILINGS[key] / scale
            # A cap that depends on the predictions' dtype says which one it is,
            # and gives the other (scikit-learn: float64 36.04, float32 15.94).
            dtype = FRAMEWORK_CEILING_DTYPES[key]
            note = ""
            if dtype != "any":
                other = "float32" if dtype == "float64" else "float64"
                note = f" ({dtype}; {other}: {num(framework_ceiling(key, other) / scale, 4)})"
            line = self.ceiling_lines[key]
            inside = view.show_ceilings and value <= self._y_top
            line.setVisible(inside)
            if inside:
                line.setValue(value)
                # The dtype note on a line of its own: the label stays as wide as the others.
                line.label.setFormat(f"{name} caps at {num(value, 4)}"
                                     + (f"\n{note.strip()}" if note else ""))
                drawn.append(key)
            elif view.show_ceilings:
                off_scale.append(f"{name} {num(value, 4)}{note}")
        taken = self._place_ceiling_note(off_scale)
        self._place_ceiling_labels(drawn, taken)

    def _place_ceiling_note(self, off_scale: list[str]) -> list[tuple[float, float, float, float]]:
        """The caps above the plotted range, along its top edge, as many lines as the width
        needs (never wider than the plot: a narrow dock gets one cap a line, and the
        dtype note on a line of its own if even that is too wide). Returns the note's
        rectangle in view-box pixels (x, y, w, h), or nothing when no cap is off the scale."""
        self.ceiling_note.setVisible(bool(off_scale))
        if not off_scale:
            return []
        width = max(self.plot.vb.width(), 1.0)
        x0, x1 = self._x_range
        v0, v1 = self.plot.vb.viewRange()[0]
        start = x0 + 0.025 * (x1 - x0)  # the p-view's one line starts near the left edge
        start_px = (start - v0) / (v1 - v0) * width if v1 > v0 else 0.0
        parts = ["caps ↑ " + off_scale[0], *off_scale[1:]]
        split = [piece for part in parts for piece in part.replace(" (", "\n  (").split("\n")]
        for text in (" · ".join(parts), "\n".join(parts), "\n".join(split)):
            self.ceiling_note.setText(text)
            w, h = self._text_size(self.ceiling_note)
            one_line = "\n" not in text
            if self._axis == "p" and one_line:
                fits = start_px + w <= width - 3
            else:
                fits = w <= width - 6
            if fits:
                break
        if self._axis == "p" and one_line:
            self.ceiling_note.setAnchor((0, 0))
            self.ceiling_note.setPos(start, self._y_top)
            left = start_px
        else:  # in a column: the top middle is free (the z-view's curves are straight lines)
            self.ceiling_note.setAnchor((0.5, 0))
            self.ceiling_note.setPos(0.5 * (x0 + x1), self._y_top)
            left = (0.5 * (x0 + x1) - v0) / (v1 - v0) * width - 0.5 * w if v1 > v0 \
                else 0.5 * (width - w)
        return [(left, 0.0, w, h)]

    @staticmethod
    def _text_size(item: pg.TextItem) -> tuple[float, float]:
        """Width and height in pixels of a TextItem's text (without its document margin)."""
        margin = item.textItem.document().documentMargin()
        rect = item.textItem.boundingRect()
        return rect.width() - 2 * margin, rect.height() - 2 * margin

    def _place_ceiling_labels(self, keys: list[str],
                              taken: list[tuple[float, float, float, float]]) -> None:
        """Put each drawn cap's label beside its line where it overlaps no other label nor
        the note and stays inside the plot: right or left, above or below the line. A
        label with no such place is left off (its value is still the line's height, and
        the toolbar's "caps" tooltip names every cap)."""
        vb = self.plot.vb
        width, height = max(vb.width(), 1.0), max(vb.height(), 1.0)
        y_lo, y_hi = -0.04 * self._y_top, self._y_top
        slots = ((0.75, (0.5, 1.0)), (0.25, (0.5, 1.0)), (0.75, (0.5, 0.0)), (0.25, (0.5, 0.0)),
                 (0.5, (0.5, 1.0)), (0.5, (0.5, 0.0)))
        placed = list(taken)
        for key in keys:
            line = self.ceiling_lines[key]
            label = line.label
            w, h = self._text_size(label)
            margin = label.textItem.document().documentMargin()
            y_px = (y_hi - line.value()) / (y_hi - y_lo) * height
            spot = None
            for position, anchor in slots:
                # the text sits inside its margin: anchor (·, 1) puts the text's bottom
                # one margin above the line, anchor (·, 0) its top one margin below
                left = position * width - anchor[0] * w
                top = y_px - h - margin if anchor[1] == 1.0 else y_px + margin
                rect = (left, top, w, h)
                inside = left >= 0 and top >= 0 and left + w <= width and top + h <= height
                if inside and not any(_overlap(rect, other) for other in placed):
                    spot = (position, anchor, rect)
                    break
            label.setVisible(spot is not None)
            if spot is None:
                continue
            position, anchor, rect = spot
            label.anchors = [anchor, anchor]
            label.setAnchor(anchor)
            label.setPosition(position)
            placed.append(rect)

    def _refresh_overlays(self, view, y, z_grid, x_grid) -> None:
        scale = self._units_scale()
        empty = (np.zeros(0), np.zeros(0))
        if view.show_mse:
            self.curve_mse.setData(x_grid, squared_error_from_logits(z_grid, y))
            self.curve_mse_grad.setData(x_grid, np.abs(squared_error_grad_from_logits(z_grid, y)))
            self.curve_bce_grad.setData(
                x_grid, np.abs(grad_from_logits(z_grid, y, self.state.spec)) / scale)
        else:
            for item in (self.curve_mse, self.curve_mse_grad, self.curve_bce_grad):
                item.setData(*empty)
        if view.show_hinge:
            self.curve_hinge.setData(x_grid, hinge_from_logits(z_grid, y))
        else:
            self.curve_hinge.setData(*empty)

    def _on_view_resized(self, *_args) -> None:
        """The tangent keeps its screen length; the caps' note and labels are placed anew."""
        self._update_tangent()
        if self.state.view.show_ceilings and self._axis is not None:
            self._refresh_ceilings(self.state.view, self._units_scale())

    def _update_tangent(self, *_args) -> None:
        """A segment of fixed screen length along the slope at the handle."""
        x0, y0 = self._handle_xy
        sx, sy = pixel_size(self.plot.vb)
        dx_px, dy_px = 1.0 / sx, self._slope / sy
        norm = math.hypot(dx_px, dy_px)
        if not (math.isfinite(norm) and norm > 0):
            self.tangent.setData([], [])
            return
        t = TANGENT_PX / norm
        self.tangent.setData([x0 - t, x0 + t], [y0 - t * self._slope, y0 + t * self._slope])

    def _readout_html(self, p, q, y, ys, z, loss, grad_p, grad_z, curv) -> str:
        spec, view = self.state.spec, self.state.view
        scale = self._units_scale()
        units = view.units

        def n(v, digits=4):
            return signed(num(v, digits))

        label = f"y = {n(y)}"
        if spec.label_smoothing > 0:
            label += f" → yₛ = {n(ys)}"
        first = (f"<b>p</b> = {signed(fmt_prob(p, q))} &nbsp; <b>{label}</b> &nbsp; "
                 f"z = {n(z)} &nbsp; <b>L = {signed(loss_text(loss, units))}</b>")
        plain = spec.pos_weight == 1.0 and not spec.is_focal
        if plain:
            target = "yₛ" if spec.label_smoothing > 0 else "y"
            by = f" = (p − {target}) / ln 2" if units == "bits" else f" = p − {target}"
            dz = f"∂L/∂z{by} = {n(grad_z / scale)}"
        else:
            dz = f"∂L/∂z = {n(grad_z / scale)}"
        second = (f"∂L/∂p = {n(grad_p / scale)} &nbsp; {dz} &nbsp; "
                  f"∂²L/∂z² = {n(curv / scale)}")
        lines = [first, second]
        extras = []
        if view.show_mse:
            mse = float(squared_error_from_logits(z, y))
            mse_g = float(squared_error_grad_from_logits(z, y))
            text = f"MSE = {n(mse)}, ∂MSE/∂z = {n(mse_g)}"
            # Saturation: a wrong prediction that MSE barely pushes while BCE still does.
            if abs(p - y) > 0.5 and abs(mse_g) < 0.25 * abs(grad_z):
                share = abs(mse_g) / abs(grad_z)
                text += (f" — <b>MSE saturates</b>: its push is {num(100 * share, 2)}% "
                         "of BCE's")
            extras.append(text)
        if view.show_hinge:
            extras.append(f"hinge = {n(float(hinge_from_logits(z, y)))}, "
                          f"∂/∂z = {n(float(hinge_grad_from_logits(z, y)))}")
        if extras:
            lines.append(" &nbsp; ".join(extras))
        if abs(z) >= PROBE_Z_LIMIT - 1e-9:
            lines.append(f"<i>p is held at {signed(fmt_prob(p, q))} (|z| ≤ {PROBE_Z_LIMIT:g}): "
                         "at exactly 0 or 1 a wrong label's loss would be unbounded</i>")
        return "<br>".join(lines)

    # ------------------------------------------------------------------ drags
    def _drag_started(self, which: str) -> None:
        self._drag = which
        self._saved_probe = (self.state.probe_z, self.state.probe_y)

    def _drag_finished(self) -> None:
        self._drag = None
        self._saved_probe = None
        self._dirty = True
        self.schedule()

    def _drag_cancelled(self) -> None:
        saved = self._saved_probe
        self._drag = None
        self._saved_probe = None
        if saved is not None:
            self._set_probe(z=saved[0], y=saved[1])
        self._dirty = True
        self.schedule()

    def _set_probe(self, **kwargs) -> None:
        try:
            self.state.set_probe(**kwargs)
        except StateError as exc:
            self.state.set_status(str(exc), "warning")

    def _prediction_at(self, x: float) -> dict:
        """The set_probe keyword for a pointer at view x (clamped, rounded to a pixel)."""
        px, _ = pixel_size(self.plot.vb)
        lo, hi = self._x_range
        if self._axis == "p":
            x = snap(x, px)
            return {"p": min(max(x, P_EDGE), 1.0 - P_EDGE)}
        x = snap(x, px)
        return {"z": min(max(x, lo), hi)}

    def _on_handle_dragged(self, pos) -> None:
        if self._drag != "p":
            return
        self._set_probe(**self._prediction_at(pos.x()))

    def _label_at(self, y: float) -> float:
        _, py = pixel_size(self.strip.vb)
        return min(max(snap(y, py), 0.0), 1.0) + 0.0  # + 0.0: never −0

    def _on_label_dragged(self, pos) -> None:
        if self._drag != "y":
            return
        self._set_probe(y=self._label_at(pos.y()))

    def _on_scene_click(self, ev) -> None:
        """A click on the plot moves the prediction there; a click on the strip sets the label."""
        if ev.isAccepted() or ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        pos = ev.scenePos()
        if self.strip.vb.sceneBoundingRect().contains(pos):
            self._set_probe(y=self._label_at(self.strip.vb.mapSceneToView(pos).y()))
        elif self.plot.vb.sceneBoundingRect().contains(pos):
            self._set_probe(**self._prediction_at(self.plot.vb.mapSceneToView(pos).x()))
