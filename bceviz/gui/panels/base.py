"""Base class of every panel: holds the state, listens to it, and redraws at most once a frame."""

from __future__ import annotations

import time
from typing import Optional

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QEvent, QSize, QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from bceviz.gui import theme as _theme
from bceviz.gui.safety import guarded
from bceviz.model.state import AppState


def place_plots(layout: pg.GraphicsLayout, items, placements) -> None:
    """Arrange plots in a GraphicsLayout: each ``(item, row, col)`` of ``placements`` shown
    there, every other one of ``items`` hidden. No item ever leaves the scene.

    pyqtgraph's ``GraphicsLayout.removeItem`` takes the item out of its scene as well,
    which leaves it without any parent: then only Python owns it, and PySide deletes it
    in its own clean-up at exit, when the Python overrides of its children (axes, view
    box) can no longer run; the process died there with SIGSEGV. Here an item taken
    out of the grid stays a hidden child of the layout and goes away with its view.
    """
    grid = layout.layout
    for item in items:
        if item in layout.items:
            grid.removeItem(item)  # the grid only: the item stays a child, in the scene
            for row, col in layout.items.pop(item):
                layout.rows.get(row, {}).pop(col, None)
            try:
                item.geometryChanged.disconnect(layout._updateItemBorder)
            except (RuntimeError, TypeError):
                pass
            border = layout.itemBorders.pop(item, None)
            if border is not None and border.scene() is not None:
                border.scene().removeItem(border)
        if item.parentItem() is not layout:
            item.setParentItem(layout)
        item.hide()
    for item, row, col in placements:
        layout.addItem(item, row=row, col=col)
        item.show()  # hidden above when it was taken out of an earlier arrangement
    # A top-level layout item shrinks to its preferred size when its items change; give it
    # its view's whole area again, as pyqtgraph does on a resize (else a panel rearranged
    # while its window is on screen keeps its plots in a corner).
    scene = layout.scene() if placements else None
    for view in scene.views() if scene is not None else ():
        if isinstance(view, pg.GraphicsView) and view.centralWidget is layout:
            layout.layout.activate()
            layout.setGeometry(view.range)
        item.show()


class Panel(QWidget):
    """A view of the AppState.

    Subclasses set ``title``, ``listens`` (event names of ``state.events``) and
    implement ``refresh()`` (redraw everything from the state) and optionally
    ``on_event(name, **info)`` for incremental work that must see every event
    (e.g. the loss surface applying point edits). Events only mark the panel
    dirty; ``refresh`` runs once in the next event-loop turn, or no more often
    than ``min_interval_ms`` for expensive panels, so a burst of events during a
    drag or a training frame costs one redraw (training steps are paced, see
    ``PACE_MS``). ``flush()`` redraws at once.

    Live panels go first: when a throttled panel's turn comes while a live
    panel (``min_interval_ms == 0``) is about to redraw, the throttled one
    steps back by one event-loop turn (up to ``MAX_YIELDS`` times). Qt
    delivers posted events (where the live panels' plots get painted) before
    timers in a turn, so the live panels are redrawn *and painted* first: a
    drag's frame is not held up by a metrics table.

    The panel's own layout (``self.vbox(self)``) lives on an inner widget, and
    the panel passes a layout request on to its dock only when the inner
    widget's size hints really changed. A QLabel whose text changes asks its
    layout to recompute, and Qt passes that request up through every parent
    layout to the main window, which then lays out every dock again (their
    title buttons, their animations): measured here as ~40 whole-window
    relayouts a second while training, for readouts that kept their size.
    """

    #: How many event-loop turns a throttled panel lets due live panels go first.
    MAX_YIELDS = 3
    #: A training step redraws a live panel at most once per this many ms after its last
    #: redraw; anything else (a drag, a setting) redraws at once. While a point is
    #: dragged during training, the mouse and the training timer would otherwise each
    #: ask for a frame, up to twice the frames a screen shows; paced, the steps ride
    #: along with the drag's frames.
    PACE_MS = 14
    #: Live panels with a redraw pending (class-wide).
    _pending_live: set = set()

    #: Qt virtual methods a panel may override, and what one returns when it fails. A
    #: Python exception must never leave a Qt virtual: shiboken has to carry it across
    #: C++ frames, and when the virtual was reached from another Python override (a
    #: dock's animation resizing a panel inside ``Panel.event``) PySide6 6.11 crashed
    #: reporting it (issue 21: a stale cache raising in a resize, then SIGSEGV). Every
    #: subclass's override is wrapped by :func:`bceviz.gui.safety.guarded` on definition
    #: (``__init_subclass__``): the error is reported and the panel keeps running.
    GUARDED_VIRTUALS: dict = {
        "event": False, "eventFilter": False, "sizeHint": QSize(), "minimumSizeHint": QSize(),
        **{name: None for name in (
            "resizeEvent", "showEvent", "hideEvent", "changeEvent", "paintEvent",
            "closeEvent", "moveEvent", "keyPressEvent", "keyReleaseEvent", "mousePressEvent",
            "mouseReleaseEvent", "mouseMoveEvent", "mouseDoubleClickEvent", "wheelEvent",
            "contextMenuEvent", "focusInEvent", "focusOutEvent", "enterEvent", "leaveEvent",
            "timerEvent")},
    }

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        for name, default in Panel.GUARDED_VIRTUALS.items():
            method = cls.__dict__.get(name)
            if callable(method) and not getattr(method, "__bceviz_guarded__", False):
                setattr(cls, name, guarded(f"{cls.__name__}.{name}", default=default)(method))

    title = "Panel"
    panel_id = "panel"
    listens: tuple[str, ...] = ()
    min_interval_ms = 0

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(self.panel_id)
        # Opaque: a label repainted inside the panel then repaints the panel's background,
        # not the dock's and the main window's beneath it as well.
        self.setAutoFillBackground(True)
        self.state = state
        self._dirty = False
        self._last_refresh = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer)
        self._yields = 0
        self._handlers = []
        for name in self.listens:
            handler = self._make_handler(name)
            getattr(state.events, name).connect(handler)
            self._handlers.append((name, handler))
        _theme.manager().changed.connect(self._on_theme)
        self.refresh_count = 0
        self._body: QWidget | None = None
        self._body_hints: tuple = ()

    # -- event plumbing ------------------------------------------------------
    def _make_handler(self, name: str):
        def handler(**info):
            if not shiboken6.isValid(self):
                self.detach()
                return
            if self.on_event(name, **info) is not False:
                # a training step (any lab's model event with reason="step") is paced
                self.schedule(paced=info.get("reason") == "step")

        return handler

    def detach(self) -> None:
        """Stop listening to the state (called when the panel goes away)."""
        Panel._pending_live.discard(self)
        for name, handler in self._handlers:
            getattr(self.state.events, name).disconnect(handler)
        self._handlers = []

    def on_event(self, name: str, **info) -> Optional[bool]:
        """Hook for work that must see every event; default: nothing.

        Return False when the event leaves everything the panel shows as it is
        (no redraw is scheduled).
        """

    def schedule(self, paced: bool = False) -> None:
        """Redraw soon: at once, after ``min_interval_ms`` since the last redraw for a
        throttled panel, or (``paced``: a training step) ``PACE_MS`` after it."""
        self._dirty = True
        elapsed = (time.perf_counter() - self._last_refresh) * 1000.0
        if self.min_interval_ms:
            wait = max(0, int(self.min_interval_ms - elapsed))
        else:
            Panel._pending_live.add(self)
            wait = max(0, int(self.PACE_MS - elapsed)) if paced else 0
        if self._timer.isActive() and self._timer.remainingTime() <= wait:
            return
        self._timer.start(wait)

    @guarded("redrawing a panel")
    def off_screen(self) -> bool:
        """True for a panel parked between stages or in a hidden dock of a shown window."""
        if self.isHidden():
            return True
        top = self.window()
        return top is not self and top.isVisible() and not self.isVisible()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._dirty:  # changes that came while off screen: draw them now
            self.schedule()

    def _on_timer(self) -> None:
        if self.off_screen():
            # Nobody sees it: keep it dirty and draw when it is shown (a parked lab's
            # panels would otherwise redraw on every training frame of another stage).
            self._timer.stop()
            Panel._pending_live.discard(self)
            return
        if self.min_interval_ms and self._yields < self.MAX_YIELDS and self._live_due():
            self._yields += 1
            self._timer.start(0)  # fires after this turn's timers and the next turn's paints
            return
        self.flush()

    @staticmethod
    def _live_due() -> bool:
        """True when a live panel will redraw within a millisecond (not a paced wait)."""
        for p in list(Panel._pending_live):
            if not shiboken6.isValid(p):
                Panel._pending_live.discard(p)
            elif p._dirty and p._timer.isActive() and p._timer.remainingTime() <= 1:
                return True
        return False

    def flush(self) -> None:
        """Redraw now if anything changed since the last redraw."""
        self._timer.stop()
        self._yields = 0
        Panel._pending_live.discard(self)
        if not self._dirty:
            return
        self._dirty = False
        self._last_refresh = time.perf_counter()
        self.refresh()
        self.refresh_count += 1

    def refresh(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @guarded("applying the theme to a panel")
    def _on_theme(self) -> None:
        if shiboken6.isValid(self):
            self.apply_theme(_theme.current())
            self._dirty = True
            self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        """Restyle widgets for a theme change; default: nothing."""

    # -- compact layout ------------------------------------------------------
    #: Panels with a compact layout set these: below ``compact_below`` pixels of
    #: width ``set_compact(True)`` is called, and the minimum size is always the
    #: compact one (else a dock would never be made narrow enough to turn compact).
    compact_below = 0
    compact_min: tuple[int, int] | None = None

    def set_compact(self, on: bool) -> None:
        """Switch to the compact layout (or back); panels with ``compact_below`` override it."""

    # -- helpers -------------------------------------------------------------
    def plot_views(self) -> list[pg.GraphicsView]:
        """The pyqtgraph views of this panel (used by export and benchmarks)."""
        return list(self.findChildren(pg.GraphicsView))

    @staticmethod
    def vbox(widget: QWidget, margins: int = 2) -> QVBoxLayout:
        """A vertical layout on ``widget`` (on a panel: on its inner widget, see the class doc)."""
        if isinstance(widget, Panel):
            widget = widget._content()
        layout = QVBoxLayout(widget)
        layout.setContentsMargins(margins, margins, margins, margins)
        layout.setSpacing(2)
        return layout

    # -- layout firewall (see the class docstring) -----------------------------
    def _content(self) -> QWidget:
        if self._body is None:
            self._body = QWidget(self)
            self._body.setObjectName(f"{self.panel_id}_content")
            self._body.setGeometry(self.rect())
            self._body.show()
        return self._body

    def _hints(self) -> tuple:
        body = self._body
        return (body.sizeHint(), body.minimumSizeHint(), body.minimumSize(), body.maximumSize(),
                body.sizePolicy().horizontalPolicy(), body.sizePolicy().verticalPolicy())

    @guarded("handling a panel's event", default=False)
    def event(self, event) -> bool:
        if event.type() == QEvent.Type.LayoutRequest and self._body is not None:
            hints = self._hints()
            if hints != self._body_hints:
                self._body_hints = hints
                self.updateGeometry()
            return True
        return super().event(event)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return self._body.sizeHint() if self._body is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        if self.compact_min is not None:
            return QSize(*self.compact_min)
        return self._body.minimumSizeHint() if self._body is not None else super().minimumSizeHint()

    @guarded("resizing a panel")
    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.compact_below:
            self.set_compact(event.size().width() < self.compact_below)
        if self._body is not None:
            self._body.setGeometry(self.rect())
        super().resizeEvent(event)
