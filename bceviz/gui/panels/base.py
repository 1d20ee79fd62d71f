"""Base class of every panel: holds the state, listens to it, and redraws at most once a frame."""

from __future__ import annotations

import time

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from bceviz.gui import theme as _theme
from bceviz.model.state import AppState


class Panel(QWidget):
    """A view of the AppState.

    Subclasses set ``title``, ``listens`` (event names of ``state.events``) and
    implement ``refresh()`` (redraw everything from the state) and optionally
    ``on_event(name, **info)`` for incremental work that must see every event
    (e.g. the loss surface applying point edits). Events only mark the panel
    dirty; ``refresh`` runs once in the next event-loop turn, or no more often
    than ``min_interval_ms`` for expensive panels, so a burst of events during a
    drag or a training frame costs one redraw. ``flush()`` redraws at once.
    """

    title = "Panel"
    panel_id = "panel"
    listens: tuple[str, ...] = ()
    min_interval_ms = 0

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(self.panel_id)
        self.state = state
        self._dirty = False
        self._last_refresh = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)
        self._handlers = []
        for name in self.listens:
            handler = self._make_handler(name)
            getattr(state.events, name).connect(handler)
            self._handlers.append((name, handler))
        _theme.manager().changed.connect(self._on_theme)
        self.refresh_count = 0

    # -- event plumbing ------------------------------------------------------
    def _make_handler(self, name: str):
        def handler(**info):
            if not shiboken6.isValid(self):
                self.detach()
                return
            self.on_event(name, **info)
            self.schedule()

        return handler

    def detach(self) -> None:
        """Stop listening to the state (called when the panel goes away)."""
        for name, handler in self._handlers:
            getattr(self.state.events, name).disconnect(handler)
        self._handlers = []

    def on_event(self, name: str, **info) -> None:
        """Hook for work that must see every event; default: nothing."""

    def schedule(self) -> None:
        self._dirty = True
        if self._timer.isActive():
            return
        wait = 0
        if self.min_interval_ms:
            elapsed = (time.perf_counter() - self._last_refresh) * 1000.0
            wait = max(0, int(self.min_interval_ms - elapsed))
        self._timer.start(wait)

    def flush(self) -> None:
        """Redraw now if anything changed since the last redraw."""
        self._timer.stop()
        if not self._dirty:
            return
        self._dirty = False
        self._last_refresh = time.perf_counter()
        self.refresh()
        self.refresh_count += 1

    def refresh(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _on_theme(self) -> None:
        if shiboken6.isValid(self):
            self.apply_theme(_theme.current())
            self._dirty = True
            self.flush()

    def apply_theme(self, theme: _theme.Theme) -> None:
        """Restyle widgets for a theme change; default: nothing."""

    # -- helpers -------------------------------------------------------------
    def plot_views(self) -> list[pg.GraphicsView]:
        """The pyqtgraph views of this panel (used by export and benchmarks)."""
        return list(self.findChildren(pg.GraphicsView))

    @staticmethod
    def vbox(widget: QWidget, margins: int = 2) -> QVBoxLayout:
        layout = QVBoxLayout(widget)
        layout.setContentsMargins(margins, margins, margins, margins)
        layout.setSpacing(2)
        return layout
