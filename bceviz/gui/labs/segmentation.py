"""The segmentation lab's panels: the scan with its mask and brush, the probability and gradient maps,
the figures table, the loss against lesion size, training over steps, and the controls.

Every panel reads :class:`bceviz.model.labs.segmentation.SegmentationState`
and its derived figures (``figures()``, ``gradient_map()``, ``size_curve()``,
``outline()``, ``history()``), and writes back only through the state's
methods (``move_lesion``, ``paint``, ``set_scan``, ``set_loss``, ...). A
training step (``model`` with ``reason="step"``) redraws the maps paced like
the other labs' live panels; the figures table and the history redraw at
most ten and twenty times a second.

Coordinates in the maps are pixels of the scan: x to the right, y down (row
0 at the top, as a scan is read); pixel (r, c) covers [c, c + 1] × [r, r + 1].
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QEvent, QRectF, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics, QValidator
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGraphicsEllipseItem,
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

from bceviz.engine.segmentation import LOSS_KINDS, LOSS_TITLES, SCAN_SIZES
from bceviz.gui import theme as _theme
from bceviz.gui.contours import contour_segments
from bceviz.gui.panels.base import Panel
from bceviz.gui.panels.controls import ValueControl
from bceviz.gui.rendering import RGB32ImageItem
from bceviz.gui.widgets import apply_palette, num
from bceviz.model.labs.base import LabError

#: Curve colours of the five losses (and the hard Dice) in the size and history plots.
LOSS_COLOURS = {"bce": "#2166ac", "weighted_bce": "#1b9e77", "focal": "#7570b3",
                "dice": "#d95f02", "dice_bce": "#e7298a"}
LOSS_HELP = {
    "bce": "Mean BCE over all pixels: each pixel's loss is local, p − y is its gradient",
    "weighted_bce": "BCE with pos_weight on lesion pixels (PyTorch BCEWithLogitsLoss(pos_weight))",
    "focal": "Focal loss (torchvision sigmoid_focal_loss): easy pixels count less",
    "dice": "Soft Dice (MONAI DiceLoss(sigmoid=True)): 1 − (2Σp·m + s_nr)/(Σp + Σm + s_dr)",
    "dice_bce": "MONAI DiceCELoss(sigmoid=True): λ_dice · Dice + λ_ce · mean BCE",
}


def _fmt(value: Optional[float], digits: int = 3, percent: bool = False) -> str:
    """A figure for the table: "—" when undefined, never nan."""
    if value is None or not math.isfinite(value):
        return "—"
    if percent:
        return f"{100.0 * value:.1f} %"
    return num(value, digits).replace("-", "−")


def _sci(value: float) -> str:
    """A round tick value in short scientific notation: 5e−3, −2e−4, 0."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}".replace("-", "−")


def _plain(text: str = "", *, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def _lut(name: str, reverse: bool = False) -> np.ndarray:
    lut = pg.colormap.get(name).getLookupTable(nPts=256, alpha=False)
    return np.ascontiguousarray(lut[::-1] if reverse else lut)


def _grey_lut() -> np.ndarray:
    ramp = np.arange(256, dtype=np.uint8)
    return np.ascontiguousarray(np.stack([ramp, ramp, ramp], axis=1))


class _SciSpin(QDoubleSpinBox):
    """A spin box that shows 1e-05 rather than 0.000010 (for smoothing terms over 11 decades)."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt name)
        return f"{value:.3g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt name)
        try:
            return float(text.replace("−", "-"))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        try:
            value = float(text.replace("−", "-"))
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        ok = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos


class _SciValue(ValueControl):
    """A :class:`ValueControl` whose number is shown in scientific notation when small."""

    def __init__(self, lo: float, hi: float, **kwargs) -> None:
        super().__init__(lo, hi, **kwargs)
        old = self.spin
        spin = _SciSpin(self)
        spin.setDecimals(12)
        spin.setRange(old.minimum(), old.maximum())
        spin.setKeyboardTracking(False)
        spin.setButtonSymbols(QDoubleSpinBox.ButtonSymbols.NoButtons)
        spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        spin.setFixedWidth(old.width())
        spin.setToolTip(old.toolTip())
        self.layout().replaceWidget(old, spin)
        old.blockSignals(True)
        old.hide()
        old.deleteLater()
        self.spin = spin
        spin.valueChanged.connect(self._on_spin)


class _SegPanel(Panel):
    """A panel of this lab: training steps redraw it paced, like the 2-D lab's live panels."""

    def on_event(self, name: str, **info):
        if name == "model" and info.get("reason") == "step":
            self.schedule(paced=True)
            return False
        return self.on_lab_event(name, **info)

    def on_lab_event(self, name: str, **info) -> Optional[bool]:
        return None

    def _label_font(self, theme: _theme.Theme, scale: float = 1.0) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(theme.font_pt * scale)
        return font


class _MapView(pg.ViewBox):
    """A view box for a scan map: no pan or zoom; left-button gestures go to the panel."""

    def __init__(self, on_press: Optional[Callable] = None,
                 on_drag: Optional[Callable] = None) -> None:
        super().__init__(enableMenu=False)
        self.setMouseEnabled(False, False)
        self.invertY(True)
        self.setAspectLocked(True)
        self._on_press, self._on_drag = on_press, on_drag

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph name)
        if self._on_press is None or ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        pos = self.mapSceneToView(ev.scenePos())
        self._on_press(pos, pos, ev.modifiers())

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph name)
        if self._on_drag is None or ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        pos = self.mapSceneToView(ev.scenePos())
        last = self.mapSceneToView(ev.buttonDownScenePos() if ev.isStart() else ev.lastScenePos())
        self._on_drag(last, pos, ev.modifiers(), ev.isStart(), ev.isFinish())

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph name)
        ev.ignore()


class _MapPanel(_SegPanel):
    """A square scan map in a plot with pixel axes, an outline of the mask over it."""

    cursor_brush = False

    def __init__(self, state, parent: Optional[QWidget] = None, *,
                 colour_map: Optional[pg.ColorMap] = None, on_press=None, on_drag=None) -> None:
        super().__init__(state, parent)
        self.layout_ = self.vbox(self)
        self.toolbar = QHBoxLayout()
        self.toolbar.setContentsMargins(0, 0, 0, 0)
        self.toolbar.setSpacing(4)
        self.layout_.addLayout(self.toolbar)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName(f"{self.panel_id}_view")
        self.graphics.setMinimumSize(300, 185)
        # room above the plot for half of the top tick label (row 0 is at the top)
        self.graphics.ci.layout.setContentsMargins(2, 6, 2, 1)
        self.layout_.addWidget(self.graphics, 1)
        self.view = _MapView(on_press, on_drag)
        self.plot = self.graphics.addPlot(viewBox=self.view)
        self.plot.hideButtons()
        self.plot.setLabel("bottom", "x (pixels)")
        self.plot.setLabel("left", "y (pixels)")
        self.image = RGB32ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.outline = pg.PlotCurveItem(connect="pairs", antialias=False)
        self.outline.setZValue(10)
        self.plot.addItem(self.outline)
        self.colour_bar: Optional[pg.ColorBarItem] = None
        if colour_map is not None:
            self.colour_bar = pg.ColorBarItem(values=(-1.0, 1.0), interactive=False, width=14,
                                              colorMap=colour_map)
            self.colour_bar.setImageItem(self.image, insert_in=self.plot)
        self.readout = _plain()
        self.readout.setObjectName(f"{self.panel_id}_readout")
        self.layout_.addWidget(self.readout)
        self._size = 0
        self._outline_key = None
        self._image_key: object = None

    def _show(self, values: np.ndarray, levels: tuple[float, float]) -> None:
        """Put a (size, size) map into the image; a new size also resets the pixel extent."""
        self.image.setImage(values, autoLevels=False, levels=levels)
        size = values.shape[0]
        if size != self._size:
            # after setImage: ImageItem.setRect scales by the current image's dimensions
            self._size = size
            self.image.setRect(QRectF(0, 0, size, size))
            self.view.setRange(xRange=(0, size), yRange=(0, size), padding=0.0)

    def _draw_outline(self) -> None:
        xs, ys = self.state.outline()
        key = (id(xs), xs.size)
        if key != self._outline_key:
            self._outline_key = key
            self.outline.setData(xs, ys, connect="pairs")

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self.graphics.setBackground(theme.background)
        _theme.style_plot(self.plot, theme, grid=False)
        if self.colour_bar is not None:
            self._style_bar(theme)
        self.readout.setFont(self._label_font(theme, 0.9 if theme.scale == 1.0 else 0.75))

    def _style_bar(self, theme: _theme.Theme) -> None:
        font = QFont()
        font.setPointSizeF(theme.font_pt * 0.85)
        axis = self.colour_bar.axis
        axis.setPen(theme.pen(theme.foreground, width=1))
        axis.setTextPen(theme.pen(theme.foreground, width=1))
        axis.setTickFont(font)
        axis.setWidth(QFontMetrics(font).horizontalAdvance("−5e−5") + 14)


# ----------------------------------------------------------------------------- scan
class ScanPanel(_MapPanel):
    """The scan, the mask's outline, and the tools: move the lesion, paint or erase the mask.

    Reads ``scan`` (image), ``outline()``, ``view`` (tool, brush radius) and
    ``scan_params``. Writes ``move_lesion`` (Move: drag or click anywhere —
    the lesion's centre follows the pointer), ``paint`` (Paint / Erase: drag
    strokes; Shift with Paint erases), ``set_view(tool=..., brush_radius=...)``
    and ``clear_paint``. The grey scale is fixed (intensity 0.1 black to 1.1
    white), so a fainter lesion looks fainter.
    """

    title = "Scan and mask"
    panel_id = "scan"
    listens = ("scan", "mask", "view")
    LEVELS = (0.1, 1.1)

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent, on_press=self._press, on_drag=self._drag)
        self.image.setLookupTable(_grey_lut())
        self.image.setLevels(self.LEVELS)
        self.tool_buttons = QButtonGroup(self)
        self.tool_buttons.setExclusive(True)
        for key, text, tip in (
            ("move", "Move lesion", "Drag (or click) on the scan to move the lesion's centre"),
            ("paint", "Paint", "Drag on the scan to paint pixels into the mask (Shift: erase)"),
            ("erase", "Erase", "Drag on the scan to erase pixels from the mask"),
        ):
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setToolTip(tip)
            button.setProperty("tool", key)
            button.setObjectName(f"scan_tool_{key}")
            self.tool_buttons.addButton(button)
            self.toolbar.addWidget(button)
        self.tool_buttons.buttonClicked.connect(
            lambda b: self._guard(self.state.set_view, tool=b.property("tool")))
        self.brush = QSpinBox()
        self.brush.setObjectName("scan_brush_radius")
        self.brush.setRange(1, 12)
        self.brush.setSuffix(" px")
        self.brush.setToolTip("Brush radius in pixels of the scan")
        self.brush.valueChanged.connect(
            lambda v: self._guard(self.state.set_view, brush_radius=float(v)))
        self.toolbar.addWidget(self.brush)
        self.clear_button = QToolButton()
        self.clear_button.setText("Clear")
        self.clear_button.setObjectName("scan_clear_strokes")
        self.clear_button.setToolTip("Remove every brush stroke: the mask is the lesion's disk again")
        self.clear_button.clicked.connect(lambda: self._guard(self.state.clear_paint))
        self.toolbar.addWidget(self.clear_button)
        self.toolbar.addStretch(1)
        self.centre = pg.ScatterPlotItem(size=11, symbol="+", pxMode=True)
        self.centre.setZValue(11)
        self.plot.addItem(self.centre)
        self.cursor = QGraphicsEllipseItem()
        self.cursor.setZValue(12)
        self.cursor.hide()
        self.plot.addItem(self.cursor)
        self.graphics.scene().sigMouseMoved.connect(self._hover)
        self._stroke_erase = False
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def _guard(self, fn, *args, **kwargs) -> None:
        try:
            fn(*args, **kwargs)
        except LabError as exc:
            self.state.set_status(str(exc), "error")
            self.schedule()

    # -- gestures
    def _press(self, pos, _last, modifiers) -> None:
        tool = self.state.view["tool"]
        if tool == "move":
            self._guard(self.state.move_lesion, float(pos.x()), float(pos.y()))
        else:
            erase = tool == "erase" or bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
            self._guard(self.state.paint, float(pos.x()), float(pos.y()), erase=erase)

    def _drag(self, last, pos, modifiers, start: bool, finish: bool) -> None:
        tool = self.state.view["tool"]
        if tool == "move":
            self._guard(self.state.move_lesion, float(pos.x()), float(pos.y()))
            return
        if start:
            self._stroke_erase = tool == "erase" or bool(
                modifiers & Qt.KeyboardModifier.ShiftModifier)
        self._guard(self.state.paint, float(last.x()), float(last.y()), float(pos.x()),
                    float(pos.y()), erase=self._stroke_erase)
        self._move_cursor(pos)

    def _hover(self, scene_pos) -> None:
        if self.state.view["tool"] == "move":
            self.cursor.hide()
            return
        if not self.plot.sceneBoundingRect().contains(scene_pos):
            self.cursor.hide()
            return
        self._move_cursor(self.view.mapSceneToView(scene_pos))

    def _move_cursor(self, pos) -> None:
        r = float(self.state.view["brush_radius"])
        self.cursor.setRect(QRectF(float(pos.x()) - r, float(pos.y()) - r, 2 * r, 2 * r))
        self.cursor.show()

    # -- drawing
    def refresh(self) -> None:
        st = self.state
        size = st.scan.size
        key = st.version()[0]  # the scan's version: a brush stroke leaves the image as it is
        if key != self._image_key:
            self._image_key = key
            self._show(st.scan.image, self.LEVELS)
        self._draw_outline()
        params = st.scan_params
        self.centre.setData([params["lesion_x"] * size], [params["lesion_y"] * size])
        tool = st.view["tool"]
        for button in self.tool_buttons.buttons():
            button.setChecked(button.property("tool") == tool)
        self.brush.blockSignals(True)
        self.brush.setValue(int(round(st.view["brush_radius"])))
        self.brush.blockSignals(False)
        if tool == "move":
            self.cursor.hide()
        self.clear_button.setEnabled(st.painted)
        n, pixels = int(st.mask.sum()), st.mask.size
        strokes = " · edited by brush" if st.painted else ""
        radius_px = params["lesion_radius"] * size
        self.readout.setText(
            f"mask {n} px ({100 * n / pixels:.1f} %) · r = {radius_px:.1f} px · contrast "
            f"{params['contrast']:.2f}{strokes}")

    def apply_theme(self, theme: _theme.Theme) -> None:
        super().apply_theme(theme)
        self.outline.setPen(theme.pen(theme.pos, width=1.5))
        self.centre.setPen(theme.pen(theme.accent, width=2))
        self.centre.setBrush(theme.brush(theme.accent))
        self.cursor.setPen(theme.pen(theme.accent, width=1.5))


# ----------------------------------------------------------------------------- probability
class ProbabilityPanel(_MapPanel):
    """The predicted probability map σ(z) with its 0.5 contour and the true mask's outline.

    Reads ``probability()``, ``logits()`` and ``outline()``. Writes nothing.
    Colours: blue p = 0, white 0.5, red 1 (the colour bar).
    """

    title = "Predicted probability p = σ(z)"
    panel_id = "probability"
    listens = ("scan", "mask", "model")

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent, colour_map=pg.colormap.get("CET-D1"))
        self.colour_bar.setLevels((0.0, 1.0))
        self.contour = pg.PlotCurveItem(connect="pairs")
        self.contour.setZValue(11)
        self.plot.addItem(self.contour)
        self.readout.setText("")
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def refresh(self) -> None:
        st = self.state
        size = st.scan.size
        version = st.version()
        key = (version[0], version[2])  # scan and model: a brush stroke moves only the outline
        if key != self._image_key:
            self._image_key = key
            self._show(st.probability(), (0.0, 1.0))
            centres = np.arange(size) + 0.5
            xs, ys = contour_segments(st.logits(), [0.0], centres, centres)
            self.contour.setData(xs, ys, connect="pairs")
        self._draw_outline()
        fig = st.figures()
        m = fig.model
        self.readout.setText(
            f"orange: p = 0.5, around the predicted lesion ({m.predicted_pixels:,} px) · "
            f"dark edges: the true mask ({m.lesion_pixels:,} px) · step {fig.steps:,}")

    def apply_theme(self, theme: _theme.Theme) -> None:
        super().apply_theme(theme)
        self.outline.setPen(theme.pen(theme.foreground, width=1.0, alpha=200))
        self.contour.setPen(theme.pen(theme.accent, width=2.5))


# ----------------------------------------------------------------------------- gradient
class GradientPanel(_MapPanel):
    """∂L/∂z per pixel of the chosen loss on one symmetric, signed-log colour scale.

    Reads ``gradient_map()`` (values, the colour scale shared by the five
    losses unless "own scale" is chosen, the share on lesion pixels) and
    ``outline()``. Writes ``set_view(grad_scale=...)``. Red: ∂L/∂z < 0, a
    descent step raises the pixel's logit (towards lesion); blue: > 0, lowers it.
    """

    title = "Gradient ∂L/∂z per pixel"
    panel_id = "gradient"
    listens = ("scan", "mask", "model", "settings", "view")

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent, colour_map=pg.ColorMap(
            pos=np.linspace(0.0, 1.0, 256), color=_lut("CET-D1", reverse=True)))
        self.colour_bar.setLevels((-1.0, 1.0))
        self.own_scale = QCheckBox("own scale")
        self.own_scale.setObjectName("gradient_own_scale")
        self.own_scale.setToolTip(
            "Off: one colour scale shared by the five losses at this prediction, so switching "
            "the loss compares like with like. On: this loss's own largest |∂L/∂z|.")
        self.own_scale.toggled.connect(
            lambda on: self.state.set_view(grad_scale="own" if on else "shared"))
        self.loss_label = _plain(wrap=False)
        tip = ("∂L/∂z of each pixel's logit for the chosen loss. Red: negative, a descent step "
               "raises the logit (towards lesion); blue: positive, it lowers it. The colour "
               "scale is logarithmic over three decades and, unless 'own scale' is on, shared "
               "by the five losses at this prediction. The share is Σ|∂L/∂z| over lesion "
               "pixels divided by Σ|∂L/∂z| over all pixels.")
        self.readout.setToolTip(tip)
        self.graphics.setToolTip(tip)
        # No tool bar row above the map (its height belongs to the plot): the loss's name
        # leads the readout, and the scale switch stands beside it.
        self.loss_label.hide()
        index = self.layout_.indexOf(self.readout)
        self.layout_.removeWidget(self.readout)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.setSpacing(4)
        bottom.addWidget(self.readout, 1)
        bottom.addWidget(self.own_scale, 0, Qt.AlignmentFlag.AlignTop)
        self.layout_.insertLayout(index, bottom)
        self._ticks_for = None
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def refresh(self) -> None:
        st = self.state
        gm = st.gradient_map()
        self._show(gm.display, (-1.0, 1.0))
        self._draw_outline()
        if self._ticks_for != gm.scale:
            self._ticks_for = gm.scale
            self.colour_bar.axis.setTicks([[(pos, _sci(v)) for pos, v in gm.ticks]])
        self.own_scale.blockSignals(True)
        self.own_scale.setChecked(not gm.shared)
        self.own_scale.blockSignals(False)
        share = gm.lesion_share.get(gm.kind)
        share_text = "—" if share is None else f"{100 * share:.0f} %"
        self.loss_label.setText(f"{LOSS_TITLES[gm.kind]} · largest |∂L/∂z| "
                                f"{_fmt(gm.own_max[gm.kind], 2)}")
        scale_text = "shared" if gm.shared else "own"
        self.readout.setText(
            f"{LOSS_TITLES[gm.kind]} · red: descent raises z, blue: lowers it · "
            f"±{_fmt(gm.scale, 2)} {scale_text} · lesion pixels: {share_text} of Σ|∂L/∂z|")

    def apply_theme(self, theme: _theme.Theme) -> None:
        super().apply_theme(theme)
        self.outline.setPen(theme.pen(theme.foreground, width=1.0, alpha=200))
        self.loss_label.setFont(self._label_font(theme, 0.9))


# ----------------------------------------------------------------------------- figures
class FiguresPanel(_SegPanel):
    """Dice, IoU, pixel accuracy, recall and the loss: the model beside "background everywhere".

    Reads ``figures()``. Writes nothing. Redraws at most ten times a second.
    """

    title = "Figures: model and baseline"
    panel_id = "figures"
    listens = ("scan", "mask", "model", "settings")
    min_interval_ms = 100
    ROWS = (("dice", "Dice"), ("iou", "IoU"), ("pixel_accuracy", "pixel accuracy"),
            ("recall", "recall (lesion found)"), ("loss", "loss"))

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        outer = self.vbox(self, margins=0)
        # In a short cell (presentation type on a 720-px screen) the table scrolls
        # rather than squeezing its rows into each other.
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        body = QWidget(scroll)
        body.setObjectName("figures_body")
        scroll.setWidget(body)
        self.scroll = scroll
        layout = self.vbox(body, margins=6)
        self.header = _plain()
        self.header.setObjectName("figures_header")
        layout.addWidget(self.header)
        grid_host = QWidget()
        self.grid = QGridLayout(grid_host)
        self.grid.setContentsMargins(0, 4, 0, 4)
        self.grid.setHorizontalSpacing(12)
        self.grid.setVerticalSpacing(4)
        self.cells: dict[tuple[str, str], QLabel] = {}
        self.col_titles = [_plain("", wrap=False), _plain("model", wrap=False),
                           _plain("background\neverywhere", wrap=False)]
        for c, label in enumerate(self.col_titles):
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom)
            self.grid.addWidget(label, 0, c)
        self.row_titles: list[QLabel] = []
        for r, (key, text) in enumerate(self.ROWS, start=1):
            title = _plain(text, wrap=False)
            title.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
            self.row_titles.append(title)
            self.grid.addWidget(title, r, 0)
            for c, col in enumerate(("model", "baseline"), start=1):
                cell = _plain("", wrap=False)
                cell.setObjectName(f"figures_{col}_{key}")
                cell.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                cell.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
                self.cells[(col, key)] = cell
                self.grid.addWidget(cell, r, c)
        self.grid.setColumnStretch(0, 1)
        layout.addWidget(grid_host)
        self.note = _plain()
        self.note.setObjectName("figures_note")
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def refresh(self) -> None:
        st = self.state
        fig = st.figures()
        m, b = fig.model, fig.baseline
        for col, f, loss in (("model", m, fig.loss_value), ("baseline", b, fig.baseline_loss)):
            self.cells[(col, "dice")].setText(_fmt(f.dice))
            self.cells[(col, "iou")].setText(_fmt(f.iou))
            self.cells[(col, "pixel_accuracy")].setText(_fmt(f.pixel_accuracy, percent=True))
            self.cells[(col, "recall")].setText(_fmt(f.recall, percent=True))
            self.cells[(col, "loss")].setText(_fmt(loss, 4))
        unit = "nats" if fig.loss_kind in ("bce", "weighted_bce", "focal") else (
            "Dice + nats" if fig.loss_kind == "dice_bce" else "no unit")
        self.row_titles[-1].setText(f"loss ({unit})")
        share = m.lesion_pixels / m.pixels
        self.header.setText(
            f"{fig.loss_title} · lesion {m.lesion_pixels:,} of {m.pixels:,} px "
            f"({100 * share:.1f} %) · step {fig.steps:,}")
        sugg = fig.suggested_pos_weight
        sugg_text = "no lesion pixels: recall undefined (—)" if sugg is None \
            else f"n_neg / n_pos = {sugg:.1f}"
        self.note.setText(
            f"A pixel is lesion where p ≥ 0.5. Background everywhere: the constant "
            f"p = {fig.baseline_p:.4f}, the lesion's share (below 0.5) · {sugg_text}")

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        big = self._label_font(theme, 1.1 if theme.scale == 1.0 else 1.0)
        bold = QFont(big)
        bold.setBold(True)
        for label in self.col_titles:
            label.setFont(bold)
        for label in self.row_titles:
            label.setFont(big)
        for cell in self.cells.values():
            cell.setFont(big)
        self.header.setFont(self._label_font(theme, 0.95))
        self.note.setFont(self._label_font(theme, 0.85))
        QTimer.singleShot(0, self._fit_width)

    def _fit_width(self) -> None:
        """Never narrower than the table (the scroll area only scrolls vertically)."""
        if not shiboken6.isValid(self):
            return
        title = self.col_titles[2]
        title.setText("background\neverywhere")
        body = self.scroll.widget()
        needed = body.minimumSizeHint().width() + self.scroll.verticalScrollBar().sizeHint().width()
        if needed != self.minimumWidth():
            self.setMinimumWidth(needed)
        self._one_line_title()

    def _one_line_title(self) -> None:
        """The baseline's column title on one line when the panel is wide enough (one row less)."""
        title = self.col_titles[2]
        one = "background everywhere"
        extra = title.fontMetrics().horizontalAdvance(one) - title.fontMetrics().horizontalAdvance(
            "background")
        text = one if self.width() >= self.minimumWidth() + extra + 8 else "background\neverywhere"
        if title.text() != text:
            title.setText(text)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._one_line_title()


# ----------------------------------------------------------------------------- size curve
class SizeCurvePanel(_SegPanel):
    """Each loss's value and the hard Dice against the lesion's size, for one fixed prediction quality.

    Reads ``size_curve()`` (the five losses with the current settings; a
    centred lesion predicted with a 1-px soft edge, shifted 1 px). Writes
    nothing. Both axes are logarithmic; values below 1e-6 (or negative, with
    a large numerator term) are drawn at 1e-6 and said so.
    """

    title = "Loss against lesion size"
    panel_id = "size_curve"
    listens = ("scan", "mask", "settings")
    FLOOR = 1e-6

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("size_curve_view")
        self.graphics.setMinimumSize(300, 185)
        self.graphics.ci.layout.setContentsMargins(2, 2, 6, 2)
        layout.addWidget(self.graphics, 1)
        self.plot = self.graphics.addPlot()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(False, False)
        self.plot.setLogMode(x=True, y=True)
        self.plot.setLabel("bottom", "lesion share of the pixels (%)")
        self.plot.setLabel("left", "value (log)")
        # Log axes with hand-placed ticks (positions are log10 of the value): pyqtgraph's
        # own minor labels run into each other on a narrow plot.
        self.plot.getAxis("bottom").setTicks([
            [(math.log10(v), f"{v:g}") for v in (0.1, 0.3, 1, 3, 10)],
            [(math.log10(v), "") for v in (0.2, 0.5, 2, 5, 20)]])
        self.plot.getAxis("left").setTicks([
            [(float(k), label) for k, label in ((-6, "1e−6"), (-4, "1e−4"), (-2, "0.01"),
                                                (0, "1"))],
            [(float(k), "") for k in (-5, -3, -1)]])
        self.curves: dict[str, pg.PlotDataItem] = {}
        for kind in LOSS_KINDS:
            self.curves[kind] = self.plot.plot([], [])
        self.dice_curve = self.plot.plot([], [])
        # inside the plot, in the empty band at the bottom (below 1e-4 no curve goes)
        self.legend = pg.LegendItem(colCount=3, labelTextSize="8pt", offset=(-6, -4))
        self.legend.setParentItem(self.plot.getViewBox())
        for kind in LOSS_KINDS:
            self.legend.addItem(self.curves[kind], LOSS_TITLES[kind])
        self.legend.addItem(self.dice_curve, "Dice (metric)")
        self.marker = pg.InfiniteLine(angle=90, movable=False)
        self.plot.addItem(self.marker)
        self._drawn: object = None
        self.readout = _plain()
        self.readout.setObjectName("size_curve_readout")
        tip = ("Each lesion size is predicted equally well: a disk of the right radius with a "
               "1-px soft edge, shifted 1 px. Mean BCE shrinks with the lesion (few pixels are "
               "touched); the Dice loss grows. BCE, weighted BCE and focal in nats; soft Dice "
               "and the Dice metric have no unit.")
        self.readout.setToolTip(tip)
        self.graphics.setToolTip(tip)
        layout.addWidget(self.readout)
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def refresh(self) -> None:
        curve = self.state.size_curve()
        x = 100.0 * curve.share
        keep = x > 0
        clipped = any(bool(np.any(y[keep] < self.FLOOR)) for y in curve.values.values())
        if curve.values is not self._drawn:  # a brush stroke moves only the marker
            self._drawn = curve.values
            for kind, item in self.curves.items():
                item.setData(x[keep], np.maximum(curve.values[kind][keep], self.FLOOR))
            self.dice_curve.setData(x[keep], np.maximum(curve.dice_metric[keep], self.FLOOR))
            self.plot.setXRange(math.log10(x[keep].min()), math.log10(x[keep].max()),
                                padding=0.02)
            self.plot.setYRange(math.log10(self.FLOOR), math.log10(1.5), padding=0.02)
        share = 100.0 * float(curve.current_share)
        self.marker.setVisible(share > 0)
        if share > 0:
            self.marker.setValue(math.log10(share))
        note = " Values below 1e−6 (or negative) are drawn at 1e−6." if clipped else ""
        now = f"now {share:.2f} %" if share > 0 else "the scan is empty"
        self.readout.setText(f"The same 1-px error at every size · BCE kinds in nats, Dice "
                             f"unitless · dotted: this scan, {now}.{note}")

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self.graphics.setBackground(theme.background)
        _theme.style_plot(self.plot, theme, grid=True)
        for kind, item in self.curves.items():
            # weighted BCE (pos_weight 1) and BCE + Dice (small lesions) can lie on BCE and
            # Dice: dashed, so the curve beneath still shows
            dashed = kind in ("weighted_bce", "dice_bce")
            item.setPen(theme.pen(LOSS_COLOURS[kind], width=2.0,
                                  style=Qt.PenStyle.DashLine if dashed else None))
        self.dice_curve.setPen(theme.pen(theme.foreground, width=2.0,
                                         style=Qt.PenStyle.DashLine))
        self.marker.setPen(theme.pen(theme.accent, width=1.5, style=Qt.PenStyle.DotLine))
        self.legend.setLabelTextSize(f"{theme.font_pt * 0.8:.0f}pt")
        self.legend.setLabelTextColor(theme.foreground)
        self.legend.setBrush(theme.brush(theme.background, alpha=210))
        self.readout.setFont(self._label_font(theme, 0.85 if theme.scale == 1.0 else 0.75))
        self._dirty = True


# ----------------------------------------------------------------------------- history
class HistoryPanel(_SegPanel):
    """The loss and the hard Dice over training steps (since the last reset).

    Reads ``history()``. Writes nothing. Redraws at most twenty times a second.
    """

    title = "Loss and Dice over steps"
    panel_id = "history"
    listens = ("model", "settings")
    min_interval_ms = 50

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("history_view")
        self.graphics.setMinimumSize(300, 185)
        self.graphics.ci.layout.setContentsMargins(2, 2, 6, 2)
        layout.addWidget(self.graphics, 1)
        self.plot = self.graphics.addPlot()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(False, False)
        self.plot.setLabel("bottom", "training step")
        self.plot.setLabel("left", "value")
        self.loss_curve = self.plot.plot([], [])
        self.dice_curve = self.plot.plot([], [])
        # inside the plot, top right (a legend row below would take the plot's height)
        self.legend = pg.LegendItem(colCount=2, labelTextSize="8pt", offset=(-6, 4))
        self.legend.setParentItem(self.plot.getViewBox())
        self.legend.addItem(self.loss_curve, "loss")
        self.legend.addItem(self.dice_curve, "Dice (metric)")
        self.zero = pg.InfiniteLine(pos=0.0, angle=0, movable=False)
        self.plot.addItem(self.zero)
        for name in ("bottom", "left"):
            self.plot.getAxis(name).enableAutoSIPrefix(False)
        self._ranges: tuple = ()
        self.apply_theme(_theme.current())
        self._dirty = True
        self.flush()

    def refresh(self) -> None:
        steps, loss, dice = self.state.history()
        self.loss_curve.setData(steps, loss)
        self.dice_curve.setData(steps, dice)
        # Ranges move in round jumps (x: the next 1, 2 or 5 × 10^k), not with every step:
        # a range change repaints the axes, tick labels and all.
        lo = min(0.0, math.floor(4.0 * float(loss.min())) / 4.0) if loss.size else 0.0
        hi = max(1.0, math.ceil(4.0 * float(loss.max())) / 4.0) if loss.size else 1.0
        x_max = _round_up(float(steps[-1]) if steps.size else 0.0)
        ranges = (lo, hi, x_max)
        if ranges != self._ranges:
            self._ranges = ranges
            self.plot.setYRange(lo, hi, padding=0.04)
            self.plot.setXRange(0, x_max, padding=0.02)
        name = f"loss ({self.state.loss.title})"
        for sample, label in self.legend.items:
            if sample.item is self.loss_curve and label.text != name:
                label.setText(name)

    def apply_theme(self, theme: _theme.Theme) -> None:
        apply_palette(self, theme)
        self.graphics.setBackground(theme.background)
        _theme.style_plot(self.plot, theme, grid=True)
        self.loss_curve.setPen(theme.pen(theme.pos, width=2.0))
        self.dice_curve.setPen(theme.pen(theme.foreground, width=2.0, style=Qt.PenStyle.DashLine))
        self.zero.setPen(theme.pen(theme.muted, width=1))
        self.legend.setLabelTextSize(f"{theme.font_pt * 0.8:.0f}pt")
        self.legend.setLabelTextColor(theme.foreground)
        self.legend.setBrush(theme.brush(theme.background, alpha=210))


# ----------------------------------------------------------------------------- controls
class SegmentationControls(_SegPanel):
    """The lab's settings: training, the scan and its lesion, the loss and Dice's smoothing terms.

    Reads ``training``, ``scan_params``, ``loss_params``, ``running`` and
    ``figures()`` (for the n_neg / n_pos suggestion). Writes ``set_running``,
    ``step``, ``reset``, ``set_training``, ``set_scan``, ``set_loss``,
    ``use_suggested_pos_weight``. Settings a loss does not use are greyed out.
    """

    title = "Controls"
    panel_id = "controls"
    listens = ("scan", "mask", "settings", "running", "model")

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
        self._widgets: list[QWidget] = []

        row = QHBoxLayout()
        row.setSpacing(4)
        self.play_button = self._button("Play", "Start or pause training (Space)",
                                        lambda: self._guard(self.state.set_running,
                                                            not self.state.running))
        self.step_button = self._button("Step", "Take one training step", self._on_step)
        self.reset_button = self._button("Reset", "The model back to w = 0 (p = 0.5 everywhere)",
                                         lambda: self._guard(self.state.reset))
        for b in (self.play_button, self.step_button, self.reset_button):
            row.addWidget(b)
        layout.addLayout(row)

        box, form = self._group("Training")
        self.lr = ValueControl(1e-3, 10.0, log=True, decimals=3,
                               tooltip="Learning rate of full-batch gradient descent (momentum 0.9)")
        self.lr.valueChanged.connect(lambda v: self._guard(self.state.set_training, lr=v))
        form.addRow("rate", self.lr)
        self.steps_per_frame = QSpinBox()
        self.steps_per_frame.setRange(1, 50)
        self.steps_per_frame.setToolTip("Training steps per frame while playing")
        self.steps_per_frame.valueChanged.connect(
            lambda v: self._guard(self.state.set_training, steps_per_frame=int(v)))
        form.addRow("steps/frame", self.steps_per_frame)
        layout.addWidget(box)

        box, form = self._group("Loss")
        loss_form = form
        self.kind = QComboBox()
        for kind in LOSS_KINDS:
            self.kind.addItem(LOSS_TITLES[kind], kind)
            self.kind.setItemData(self.kind.count() - 1, LOSS_HELP[kind],
                                  Qt.ItemDataRole.ToolTipRole)
        self.kind.setToolTip("The loss the model trains with (of the whole image)")
        self.kind.currentIndexChanged.connect(
            lambda _i: self._guard(self.state.set_loss, kind=self.kind.currentData()))
        form.addRow("loss", self.kind)
        self.pos_weight = self._value(form, "pos_weight", 0.1, 1000.0, 2,
                                      "Weight on lesion pixels' BCE (weighted BCE)",
                                      lambda v: self.state.set_loss(pos_weight=v), log=True,
                                      sci=True)
        self.suggest = self._button("use n_neg / n_pos",
                                    "Set pos_weight to the number of background pixels over "
                                    "lesion pixels", lambda: self._guard(
                                        self.state.use_suggested_pos_weight))
        form.addRow(self.suggest)
        self.gamma = self._value(form, "focal γ", 0.0, 5.0, 2,
                                 "Focal loss's focusing exponent: 0 is plain BCE",
                                 lambda v: self.state.set_loss(focal_gamma=v))
        self.alpha_on = QCheckBox("α")
        self.alpha_on.setToolTip("Focal loss's class balance α on lesion pixels (off: none)")
        self.alpha = ValueControl(0.0, 1.0, decimals=2,
                                  tooltip="Focal α: weight of lesion pixels, 1 − α of background")
        self.alpha_on.toggled.connect(lambda _on: self._apply_alpha())
        self.alpha.valueChanged.connect(lambda _v: self._apply_alpha())
        form.addRow(self.alpha_on, self.alpha)
        self.smooth_nr = self._value(form, "smooth_nr", 1e-6, 1000.0, 6,
                                     "Dice's numerator term (MONAI smooth_nr); leftmost is 0",
                                     lambda v: self.state.set_loss(smooth_nr=v), log=True,
                                     zero=True, sci=True)
        self.smooth_dr = self._value(form, "smooth_dr", 1e-8, 1000.0, 8,
                                     "Dice's denominator term (MONAI smooth_dr), > 0 so an empty "
                                     "scan is never 0/0",
                                     lambda v: self.state.set_loss(smooth_dr=v), log=True,
                                     sci=True)
        self.squared = QCheckBox("Σp² + Σm² below")
        self.squared.setToolTip("MONAI squared_pred: squares in Dice's denominator")
        self.squared.toggled.connect(lambda on: self._guard(self.state.set_loss,
                                                            squared_pred=bool(on)))
        form.addRow("", self.squared)
        self.lambda_dice = self._value(form, "λ Dice", 0.0, 10.0, 2,
                                       "Weight of the Dice term in BCE + Dice",
                                       lambda v: self.state.set_loss(lambda_dice=v))
        self.lambda_ce = self._value(form, "λ BCE", 0.0, 10.0, 2,
                                     "Weight of the BCE term in BCE + Dice",
                                     lambda v: self.state.set_loss(lambda_ce=v))
        self.loss_note = _plain()
        self.loss_note.setObjectName("controls_loss_note")
        form.addRow(self.loss_note)
        layout.addWidget(box)

        box, form = self._group("Scan (synthetic, illustrative)")
        self.size = QComboBox()
        for s in SCAN_SIZES:
            self.size.addItem(f"{s} × {s}", s)
        self.size.setToolTip("Pixels a side; brush strokes are cleared when the size changes")
        self.size.currentIndexChanged.connect(
            lambda _i: self._guard(self.state.set_scan, size=int(self.size.currentData())))
        form.addRow("size", self.size)
        self.seed = QSpinBox()
        self.seed.setRange(0, 9999)
        self.seed.setToolTip("Seed of the tissue and the noise")
        self.seed.valueChanged.connect(lambda v: self._guard(self.state.set_scan, seed=int(v)))
        form.addRow("seed", self.seed)
        self.lesion_x = self._value(form, "lesion x", 0.0, 1.0, 2,
                                    "The lesion's centre, fraction of the width (or drag it)",
                                    lambda v: self.state.set_scan(lesion_x=v))
        self.lesion_y = self._value(form, "lesion y", 0.0, 1.0, 2,
                                    "The lesion's centre, fraction of the height, from the top",
                                    lambda v: self.state.set_scan(lesion_y=v))
        self.radius = self._value(form, "radius", 0.0, 0.25, 3,
                                  "Radius as a fraction of the side: 0.056 covers about 1 % of "
                                  "the pixels, 0 is an empty scan",
                                  lambda v: self.state.set_scan(lesion_radius=v))
        self.contrast = self._value(form, "contrast", 0.0, 1.0, 2,
                                    "How much brighter the lesion is than the tissue",
                                    lambda v: self.state.set_scan(contrast=v))
        self.noise = self._value(form, "noise σ", 0.0, 0.5, 2,
                                 "Standard deviation of the pixel noise",
                                 lambda v: self.state.set_scan(noise=v))
        self.area = _plain()
        self.area.setObjectName("controls_area")
        form.addRow(self.area)
        layout.addWidget(box)
        layout.addStretch(1)
        self._rows = {w: loss_form.labelForField(w) for w in (
            self.pos_weight, self.gamma, self.smooth_nr, self.smooth_dr, self.lambda_dice,
            self.lambda_ce)}
        self._scroll, self._settings = scroll, body
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

    def _button(self, text: str, tip: str, slot: Callable) -> QPushButton:
        button = QPushButton(text)
        button.setMinimumWidth(10)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays play/pause
        button.clicked.connect(slot)
        return button

    def _value(self, form: QFormLayout, label: str, lo: float, hi: float, decimals: int,
               tip: str, apply: Callable, *, log: bool = False, zero: bool = False,
               sci: bool = False) -> ValueControl:
        cls = _SciValue if sci else ValueControl
        control = cls(lo, hi, log=log, zero=zero, decimals=decimals, tooltip=tip)
        control.valueChanged.connect(lambda v: self._guard(apply, v))
        label_widget = QLabel(label)
        label_widget.setToolTip(tip)
        form.addRow(label_widget, control)
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
        self.state.step(1)

    def _apply_alpha(self) -> None:
        alpha = self.alpha.value() if self.alpha_on.isChecked() else None
        self.alpha.setEnabled(self.alpha_on.isChecked())
        self._guard(self.state.set_loss, focal_alpha=alpha)

    def apply_theme(self, theme: _theme.Theme) -> None:
        from PySide6.QtGui import QColor, QPalette

        apply_palette(self, theme)
        palette = self.palette()
        for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                     QPalette.ColorRole.ButtonText):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.muted))
        self.setPalette(palette)
        QTimer.singleShot(0, self._fit_width)

    def _fit_width(self) -> None:
        """Never narrower than the settings (the scroll area scrolls only vertically)."""
        if not shiboken6.isValid(self):
            return
        needed = (self._settings.minimumSizeHint().width()
                  + self._scroll.verticalScrollBar().sizeHint().width() + 2)
        if needed != self.minimumWidth():
            self.setMinimumWidth(needed)

    def changeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # presentation mode grows the window's font
            QTimer.singleShot(0, self._fit_width)

    def on_event(self, name: str, **info):
        # A training step changes nothing shown here (not even paced); a brush stroke only
        # the mask's size
        # and the n_neg / n_pos suggestion (a full redraw would reset a dozen sliders per
        # mouse move).
        if name == "model":
            return False
        if name == "mask":
            self._show_mask_figures()
            return False
        return None

    def _show_mask_figures(self) -> None:
        fig = self.state.figures()
        n, pixels = fig.model.lesion_pixels, fig.model.pixels
        self.area.setText(f"mask: {n:,} of {pixels:,} pixels ({100 * n / pixels:.2f} %)")
        sugg = fig.suggested_pos_weight
        self.suggest.setText("n_neg / n_pos: no lesion" if sugg is None
                             else f"use n_neg / n_pos = {sugg:.1f}")
        self.suggest.setEnabled(sugg is not None and self.state.loss.kind == "weighted_bce")

    # ---------------------------------------------------------------- refresh
    def refresh(self) -> None:
        st = self.state
        self.play_button.setText("Pause" if st.running else "Play")
        tr, sc, lo = st.training, st.scan_params, st.loss_params
        self.lr.set_value(tr["lr"])
        _set_spin(self.steps_per_frame, int(tr["steps_per_frame"]))
        _set_combo(self.size, int(sc["size"]))
        _set_spin(self.seed, int(sc["seed"]))
        self.lesion_x.set_value(sc["lesion_x"])
        self.lesion_y.set_value(sc["lesion_y"])
        self.radius.set_value(sc["lesion_radius"])
        self.contrast.set_value(sc["contrast"])
        self.noise.set_value(sc["noise"])
        kind = lo["kind"]
        _set_combo(self.kind, kind)
        self.pos_weight.set_value(lo["pos_weight"])
        self.gamma.set_value(lo["focal_gamma"])
        self.alpha_on.blockSignals(True)
        self.alpha_on.setChecked(lo["focal_alpha"] is not None)
        self.alpha_on.blockSignals(False)
        if lo["focal_alpha"] is not None:
            self.alpha.set_value(lo["focal_alpha"])
        self.smooth_nr.set_value(lo["smooth_nr"])
        self.smooth_dr.set_value(lo["smooth_dr"])
        self.squared.blockSignals(True)
        self.squared.setChecked(bool(lo["squared_pred"]))
        self.squared.blockSignals(False)
        self.lambda_dice.set_value(lo["lambda_dice"])
        self.lambda_ce.set_value(lo["lambda_ce"])
        dice = kind in ("dice", "dice_bce")
        enabled = {self.pos_weight: kind == "weighted_bce", self.suggest: kind == "weighted_bce",
                   self.gamma: kind == "focal", self.alpha_on: kind == "focal",
                   self.alpha: kind == "focal" and lo["focal_alpha"] is not None,
                   self.smooth_nr: dice, self.smooth_dr: dice, self.squared: dice,
                   self.lambda_dice: kind == "dice_bce", self.lambda_ce: kind == "dice_bce"}
        for widget, on in enabled.items():
            widget.setEnabled(on)
            label = self._rows.get(widget)
            if label is not None:
                label.setEnabled(on)
        self._show_mask_figures()
        self.loss_note.setText(LOSS_HELP[kind])


def _round_up(value: float) -> float:
    """The smallest of 10, 20, 50, 100, 200, 500, ... that is at least ``value``."""
    decade = 10.0
    while True:
        for m in (1.0, 2.0, 5.0):
            if m * decade >= value:
                return m * decade
        decade *= 10.0


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
    "scan": ScanPanel,
    "probability": ProbabilityPanel,
    "gradient": GradientPanel,
    "figures": FiguresPanel,
    "size_curve": SizeCurvePanel,
    "history": HistoryPanel,
}
CONTROLS = SegmentationControls

__all__ = ["CONTROLS", "PANELS", "FiguresPanel", "GradientPanel", "HistoryPanel",
           "ProbabilityPanel", "ScanPanel", "SegmentationControls", "SizeCurvePanel"]
