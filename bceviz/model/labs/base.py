"""The shape every lab's Qt-free state shares: events, play/pause, status, stage settings, sessions.

A lab (see ``docs/architecture.md``, "Labs") is one model the user can touch.
Its state object is the only writer of its fields: gestures call its methods,
the methods validate, change and emit specific events, and panels redraw from
what they read. Nothing outside the class assigns its fields.

A subclass declares

* ``EVENTS``: the names of its specific events (``"status"``, ``"running"`` and
  ``"stage"`` are always added);
* ``settings_schema()``: not required; ``apply_settings(settings)`` validates
  a stage's ``settings`` object completely and then applies it all at once
  (raise :class:`LabError` naming the field, before changing anything);
* ``step(n)``: ``n`` training steps (or rounds), returning how many were done;
* ``reset()``: back to the start of the current stage's model (data kept);
* ``report()``: a JSON-safe dict of the lab's figures for ``--report``;
* ``to_dict()`` / ``restore(payload)``: the session payload (JSON-safe;
  ``restore`` validates everything first and raises :class:`LabError` with the
  field's path, leaving the state untouched on failure).

Events are emitted with keywords only; callbacks take ``**info``.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any, ClassVar, Iterator, Optional

from bceviz.model.events import EventGroup


class LabError(ValueError):
    """A refused change; the message is meant for the user and names the field."""


class LabState:
    """Base class of a lab's state (Qt-free)."""

    #: The lab's id (the registry key, the stages' ``lab`` field).
    lab_id: ClassVar[str] = ""
    #: Specific events of the lab (besides ``status``, ``running`` and ``stage``).
    EVENTS: ClassVar[tuple[str, ...]] = ()
    #: Steps per frame while playing (the window's timer calls ``step(steps_per_frame)``).
    steps_per_frame: int = 1

    def __init__(self) -> None:
        names = tuple(dict.fromkeys(("status", "running", "stage") + tuple(self.EVENTS)))
        self.events = EventGroup(*names)
        self.running = False
        self.status_message = ""
        self.status_level = "info"
        self.stage_id = ""

    # ------------------------------------------------------------------ common
    def set_running(self, running: bool) -> None:
        running = bool(running)
        if running and not self.can_train():
            running = False
        if running == self.running:
            return
        self.running = running
        self.events.running.emit()

    def can_train(self) -> bool:
        """False when there is nothing to train (the window then refuses Play)."""
        return True

    def set_status(self, message: str, level: str = "info") -> None:
        self.status_message, self.status_level = str(message), str(level)
        self.events.status.emit(message=self.status_message, level=self.status_level)

    def set_stage_id(self, stage_id: str) -> None:
        self.stage_id = str(stage_id)

    @contextmanager
    def transaction(self, *event_names: str) -> Iterator[None]:
        """Hold the named events (default: all) and emit each once, after the block.

        Use inside a method that validates first and then assigns several
        fields, so listeners see one consistent change.
        """
        names = event_names or self.events.names
        events = [getattr(self.events, n) for n in names if n not in ("status",)]
        stack = []
        try:
            for ev in events:
                cm = ev.blocked(replay_last=True)
                cm.__enter__()
                stack.append(cm)
            yield
        finally:
            for cm in reversed(stack):
                cm.__exit__(None, None, None)

    # ------------------------------------------------------------- per lab
    def apply_settings(self, settings: dict) -> None:
        """Put the lab into a stage's ``settings`` (validated first; all or nothing)."""
        if settings:
            raise LabError(f"this lab takes no stage settings, got {sorted(settings)}")

    def step(self, n: int = 1) -> int:
        return 0

    def reset(self) -> None:
        pass

    def report(self) -> dict:
        return {}

    def to_dict(self) -> dict:
        return {}

    def restore(self, payload: dict) -> None:
        if payload:
            raise LabError("this lab keeps nothing in a session")


# ---------------------------------------------------------------- validators
def number(value: Any, path: str, lo: Optional[float] = None, hi: Optional[float] = None,
           *, lo_open: bool = False, hi_open: bool = False) -> float:
    """A finite float within [lo, hi] (open ends on request); LabError names ``path``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LabError(f"{path} must be a number, got {type(value).__name__}")
    try:
        v = float(value)
    except OverflowError:
        raise LabError(f"{path} is too large") from None
    if not math.isfinite(v):
        raise LabError(f"{path} must be a finite number")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise LabError(f"{path} must be {'>' if lo_open else '>='} {lo:g}, got {v:g}")
    if hi is not None and (v > hi or (hi_open and v == hi)):
        raise LabError(f"{path} must be {'<' if hi_open else '<='} {hi:g}, got {v:g}")
    return v


def integer(value: Any, path: str, lo: int, hi: int) -> int:
    """An int within [lo, hi] (bools and floats refused); LabError names ``path``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise LabError(f"{path} must be a whole number, got {type(value).__name__}")
    if not lo <= value <= hi:
        raise LabError(f"{path} must be between {lo:,} and {hi:,}")
    return int(value)


def choice(value: Any, path: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise LabError(f"{path} must be one of {', '.join(choices)}, got {value!r}")
    return value


def boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise LabError(f"{path} must be true or false")
    return value


def check_keys(obj: Any, path: str, allowed: set[str] | frozenset[str]) -> dict:
    """``obj`` must be a dict whose keys are all in ``allowed`` (a typo is an error)."""
    if not isinstance(obj, dict):
        raise LabError(f"{path} must be an object")
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise LabError(f"{path}: unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
    return obj


__all__ = ["LabError", "LabState", "boolean", "check_keys", "choice", "integer", "number"]
