"""Small shared GUI pieces: controlled drag handles, draggable scatter points, colours and snapping.

The drag items here never move themselves. They report where the user points
(in view coordinates) and the panel turns that into a state change; the next
refresh puts the item where the state says. The state stays the only truth,
so a handle constrained to a curve can never drift off it.
"""

from __future__ import annotations

import math
from typing import Optional

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from bceviz.gui import format as fmt
from bceviz.gui.theme import Theme

__all__ = [
    "apply_palette",
    "num",
    "loss_text",
    "DragHandle",
    "DraggablePoints",
    "snap",
    "pixel_size",
    "label_color",
    "fmt_prob",
    "signed",
]


class DragHandle(pg.TargetItem):
    """A TargetItem that reports drags instead of moving itself.

    Signals (positions are ``pg.Point`` in view coordinates, where the cursor is):

    * ``sigDragStarted()`` when a left-button drag begins on the handle;
    * ``sigDragged(pos)`` for every move of that drag (also the first and last);
    * ``sigDragFinished()`` when the button is released;
    * ``sigDragCancelled()`` on a right click during the drag (restore the
      value you saved at ``sigDragStarted``).

    The cursor position is reported without the grab offset: the handles are
    small and constrained (to a curve, to a strip), so following the cursor
    itself is what a user expects and keeps the value within a pixel of it.
    """

    sigDragStarted = Signal()
    sigDragged = Signal(object)
    sigDragFinished = Signal()
    sigDragCancelled = Signal()

    def mouseDragEvent(self, ev) -> None:  # noqa: N802 (Qt naming)
        if not self.movable or ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        if ev.isStart():
            self.moving = True
            self.sigDragStarted.emit()
        if not self.moving:
            return
        self.sigDragged.emit(self.mapToView(ev.pos()))
        if ev.isFinish():
            self.moving = False
            self.sigDragFinished.emit()

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if self.moving and ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            self.moving = False
            self.sigDragCancelled.emit()
        else:
            ev.ignore()


class DraggablePoints(pg.ScatterPlotItem):
    """A scatter whose points can be dragged or clicked one at a time.

    Each spot's ``data`` is a hashable key (e.g. ``("A", 2)``); the signals name
    the key of the spot under the press, never move anything themselves:

    * ``sigPointDragged(key, pos, start_pos, phase)``: positions in view
      coordinates; phase is "start", "move" or "finish";
    * ``sigPointClicked(key)``: a left click on a spot.

    Presses on empty space are ignored, so the view behind still gets them
    (pyqtgraph's CustomGraphItem example). ``priority`` orders overlapping
    spots: the first key prefix in it wins.
    """

    sigPointDragged = Signal(object, object, object, str)
    sigPointClicked = Signal(object)

    def __init__(self, *args, priority: tuple = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.priority = priority
        self._drag_key = None

    def _key_at(self, pos) -> Optional[object]:
        spots = self.pointsAt(pos)
        if len(spots) == 0:
            return None
        keys = [s.data() for s in spots]

        def rank(key):
            head = key[0] if isinstance(key, tuple) else key
            return self.priority.index(head) if head in self.priority else len(self.priority)

        return min(keys, key=rank)

    def mouseDragEvent(self, ev) -> None:  # noqa: N802
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            self._drag_key = self._key_at(ev.buttonDownPos())
            if self._drag_key is None:
                ev.ignore()
                return
        elif self._drag_key is None:
            ev.ignore()
            return
        ev.accept()
        phase = "start" if ev.isStart() else ("finish" if ev.isFinish() else "move")
        key = self._drag_key
        if ev.isFinish():
            self._drag_key = None
        self.sigPointDragged.emit(key, pg.Point(ev.pos()), pg.Point(ev.buttonDownPos()), phase)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        key = self._key_at(ev.pos())
        if key is None:
            ev.ignore()
            return
        ev.accept()
        self.sigPointClicked.emit(key)


def rich_label(object_name: str, *, selectable: bool = True) -> QLabel:
    """A word-wrapped rich-text readout that takes only the height its text needs."""
    label = QLabel()
    label.setObjectName(object_name)
    label.setTextFormat(Qt.TextFormat.RichText)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
    return label


def pixel_size(view_box: pg.ViewBox) -> tuple[float, float]:
    """Width and height of one screen pixel in view units (1.0 before the first layout)."""
    try:
        px = view_box.viewPixelSize()
        w, h = float(px[0]), float(px[1])
    except Exception:  # noqa: BLE001 - not yet in a scene / zero size
        return 1.0, 1.0
    if not (math.isfinite(w) and w > 0):
        w = 1.0
    if not (math.isfinite(h) and h > 0):
        h = 1.0
    return w, h


def snap(value: float, tolerance: float) -> float:
    """The number with the fewest decimals within ``tolerance`` of ``value``.

    Dragging has the precision of a pixel; rounding to what a pixel can tell
    apart makes a drag land on 0.9 rather than 0.8994, without taking away
    any value the pointer could reach.
    """
    value = float(value)
    if not (math.isfinite(value) and tolerance > 0):
        return value
    for decimals in range(0, 16):
        rounded = round(value, decimals)
        if abs(rounded - value) <= tolerance:
            return rounded
    return value


def label_color(theme: Theme, y: float, alpha: int = 255) -> QColor:
    """Colour of a (soft) label: the negative colour at 0, the positive at 1, blended between."""
    y = min(max(float(y), 0.0), 1.0) if math.isfinite(float(y)) else 0.5
    neg, pos = pg.mkColor(theme.neg), pg.mkColor(theme.pos)
    c = QColor(
        round(neg.red() + (pos.red() - neg.red()) * y),
        round(neg.green() + (pos.green() - neg.green()) * y),
        round(neg.blue() + (pos.blue() - neg.blue()) * y),
    )
    c.setAlpha(alpha)
    return c


def num(value: float, digits: int = 4) -> str:
    """``format.num``: ``digits`` significant digits, never nan or inf."""
    return fmt.num(value, digits)


def loss_text(nats: float, units: str = "nats", digits: int = 4) -> str:
    """A loss given in nats, shown in ``units`` ("nats" or "bits") with the unit's name."""
    from bceviz.gui import format as _format

    return _format.loss(nats, units, digits)


def fmt_prob(p: float, one_minus_p: Optional[float] = None, digits: int = 4) -> str:
    """A probability that never rounds to a misleading exact 0 or 1: 1 − 3e-14, not 1."""
    p = float(p)
    q = (1.0 - p) if one_minus_p is None else float(one_minus_p)
    if 0.0 < q < 5e-4:
        return f"1 − {fmt.num(q, 2)}"
    return num(p, digits)


def signed(text: str) -> str:
    """Typographic minus signs for display (−0.1 rather than -0.1)."""
    return text.replace("-", "−")



def apply_palette(widget: QWidget, theme: Theme) -> None:
    """Give a panel and its child widgets (labels, check boxes, buttons) the theme's colours.

    A palette rather than style sheets: children inherit it, and text stays
    readable even when the application around the panel keeps another palette.
    """
    background, foreground = pg.mkColor(theme.background), pg.mkColor(theme.foreground)
    button = QColor(background).lighter(130) if background.lightness() < 128 \
        else QColor(background).darker(106)
    palette = QPalette(widget.palette())
    for role, color in (
        (QPalette.ColorRole.Window, background),
        (QPalette.ColorRole.Base, background),
        (QPalette.ColorRole.WindowText, foreground),
        (QPalette.ColorRole.Text, foreground),
        (QPalette.ColorRole.ButtonText, foreground),
        (QPalette.ColorRole.Button, button),
    ):
        palette.setColor(role, color)
    widget.setPalette(palette)
    widget.setAutoFillBackground(True)


def text_style(label: QWidget, colour=None, *, bold: bool = False,
               italic: bool = False) -> None:
    """Colour, weight and slant of a label's text, without a style sheet.

    A style sheet on a widget re-polishes it (~1 ms) and stops its parent's font
    from reaching it, so presentation mode's larger type would pass it by. The
    palette's text role and a font with only its weight and slant set leave the
    size to the parent. ``colour`` None keeps the inherited colour.
    """
    key = (None if colour is None else str(colour), bool(bold), bool(italic))
    if getattr(label, "_bceviz_text_style", None) == key:
        return
    label._bceviz_text_style = key  # type: ignore[attr-defined]
    palette = QPalette()  # no role set: everything inherited
    if colour is not None:
        palette.setColor(QPalette.ColorRole.WindowText, pg.mkColor(colour))
    label.setPalette(palette)
    font = QFont()  # no attribute set: everything inherited
    if bold:
        font.setBold(True)
    if italic:
        font.setItalic(True)
    label.setFont(font)
