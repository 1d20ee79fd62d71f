"""Change notifications without Qt: a tiny callback list per kind of change."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable


class Event:
    """A named list of callbacks; ``emit(**info)`` calls each with the same keywords."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []
        self._blocked = 0
        self._pending: list[dict] | None = None

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        try:
            self._callbacks.remove(callback)
        except ValueError:
            pass

    def emit(self, **info: Any) -> None:
        if self._blocked:
            if self._pending is not None:
                self._pending.append(info)
            return
        for callback in list(self._callbacks):
            callback(**info)

    @contextmanager
    def blocked(self, *, replay_last: bool = False):
        """Suppress emissions inside the block; optionally emit the last one after it."""
        self._blocked += 1
        outer = self._pending
        self._pending = [] if replay_last else None
        try:
            yield
        finally:
            pending = self._pending
            self._pending = outer
            self._blocked -= 1
            if replay_last and pending:
                self.emit(**pending[-1])


class EventGroup:
    """Attribute access to a fixed set of events: ``state.events.spec.connect(cb)``."""

    def __init__(self, *names: str) -> None:
        self._names = names
        for name in names:
            setattr(self, name, Event(name))

    def __iter__(self):
        return (getattr(self, n) for n in self._names)

    def __getattr__(self, name: str) -> Event:  # for type checkers: events are set in __init__
        if name.startswith("_"):
            raise AttributeError(name)
        raise AttributeError(f"no event {name!r} (events: {', '.join(self._names)})")

    @property
    def names(self) -> tuple[str, ...]:
        return self._names
