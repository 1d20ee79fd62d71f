"""Simulated mouse input for pyqtgraph plots: real QMouseEvents sent to a view's viewport.

Positions are given in data (view-box) coordinates, the way a test thinks
about a plot: ``drag(panel.plot, (0.7, 0.36), (0.9, 0.11))``. The events go
through Qt and pyqtgraph's GraphicsScene exactly like a user's (hover, press,
moves past the drag threshold, release), as pyqtgraph's own
``tests/ui_testing.py`` does; QTest's mouse functions cannot hold a button
down across moves on a QGraphicsView.

Before dragging, the widget must be shown and laid out (``qtbot.addWidget(w);
w.show(); qtbot.waitExposed(w)``). ``drag`` and ``click`` call ``prepare``,
which switches off pyqtgraph's mouse-move rate limit (process-wide) and the
scene's minimum drag time, so a drag of a few events is a drag, not a click.

Usage::

    from tests.gui.drag import click, drag, to_viewport

    drag(panel.plot, start=(0.7, loss_at_07), end=(0.9, 0.0))
    click(panel.strip, (0.5, 0.3))
"""

from __future__ import annotations

from typing import Iterable, Optional, Union

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QGraphicsView

__all__ = ["prepare", "view_of", "to_viewport", "press", "move", "release", "drag", "click",
           "drag_pixels"]

Target = Union[pg.PlotItem, pg.ViewBox, pg.GraphicsItem]
Point = Union[tuple[float, float], QPointF]

LEFT = Qt.MouseButton.LeftButton
NO_BUTTON = Qt.MouseButton.NoButton
NO_MODIFIER = Qt.KeyboardModifier.NoModifier


def _view_box(item: Target) -> pg.ViewBox:
    if isinstance(item, pg.PlotItem):
        return item.getViewBox()
    if isinstance(item, pg.ViewBox):
        return item
    vb = item.getViewBox()
    if vb is None:
        raise ValueError(f"{item!r} is not in a ViewBox")
    return vb


def view_of(item: Target) -> QGraphicsView:
    """The GraphicsView that shows ``item``."""
    scene = item.scene()
    if scene is None or not scene.views():
        raise ValueError(f"{item!r} is not shown in any view")
    return scene.views()[0]


def prepare(item: Target) -> QGraphicsView:
    """Make simulated drags reliable: no move rate limit, no minimum drag time."""
    pg.setConfigOption("mouseRateLimit", -1)
    view = view_of(item)
    view.scene().minDragTime = 0
    return view


def to_viewport(item: Target, x: float, y: float) -> QPointF:
    """Viewport pixel position (float) of data point (x, y) in ``item``'s view box."""
    vb = _view_box(item)
    scene_pos = vb.mapViewToScene(pg.Point(float(x), float(y)))
    return view_of(item).viewportTransform().map(scene_pos)


def _send(view: QGraphicsView, kind: QEvent.Type, pos: QPointF, button, buttons, modifiers) -> None:
    viewport = view.viewport()
    global_pos = QPointF(viewport.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(kind, QPointF(pos), global_pos, button, buttons,
                        modifiers or NO_MODIFIER)
    QApplication.sendEvent(viewport, event)


def press(view: QGraphicsView, pos: QPointF, button=LEFT, modifiers=None) -> None:
    _send(view, QEvent.Type.MouseButtonPress, pos, button, button, modifiers)


def move(view: QGraphicsView, pos: QPointF, buttons=NO_BUTTON, modifiers=None) -> None:
    _send(view, QEvent.Type.MouseMove, pos, NO_BUTTON, buttons, modifiers)


def release(view: QGraphicsView, pos: QPointF, button=LEFT, modifiers=None) -> None:
    _send(view, QEvent.Type.MouseButtonRelease, pos, button, NO_BUTTON, modifiers)


def _lerp(a: QPointF, b: QPointF, t: float) -> QPointF:
    return QPointF(a.x() + (b.x() - a.x()) * t, a.y() + (b.y() - a.y()) * t)


def drag_pixels(view: QGraphicsView, path: Iterable[QPointF], button=LEFT,
                modifiers=None) -> None:
    """Hover at the first viewport position, press, move through the rest, release at the last."""
    points = [QPointF(p) for p in path]
    if len(points) < 2:
        raise ValueError("a drag needs at least two positions")
    view.scene().minDragTime = 0
    move(view, points[0])  # hover first: pyqtgraph picks the dragged item from the hover event
    press(view, points[0], button, modifiers)
    for p in points[1:]:
        move(view, p, button, modifiers)
    release(view, points[-1], button, modifiers)
    QApplication.processEvents()


def drag(item: Target, start: Point, end: Point, *, steps: int = 8, button=LEFT,
         modifiers=None, via: Optional[Iterable[Point]] = None) -> None:
    """Drag from ``start`` to ``end`` (data coordinates of ``item``'s view box).

    ``steps`` intermediate moves on the straight line (or through the data
    points ``via``, if given) make it look like a hand, not a jump.
    """
    view = prepare(item)

    def px(point: Point) -> QPointF:
        if isinstance(point, QPointF):
            return to_viewport(item, point.x(), point.y())
        return to_viewport(item, point[0], point[1])

    a, b = px(start), px(end)
    if via is not None:
        path = [a] + [px(p) for p in via] + [b]
    else:
        path = [_lerp(a, b, i / max(steps, 1)) for i in range(max(steps, 1) + 1)]
    drag_pixels(view, path, button, modifiers)


def click(item: Target, at: Point, *, button=LEFT, modifiers=None) -> None:
    """Hover, press and release at ``at`` (data coordinates of ``item``'s view box)."""
    view = prepare(item)
    pos = to_viewport(item, at[0], at[1]) if not isinstance(at, QPointF) \
        else to_viewport(item, at.x(), at.y())
    move(view, pos)
    press(view, pos, button, modifiers)
    release(view, pos, button, modifiers)
    QApplication.processEvents()
