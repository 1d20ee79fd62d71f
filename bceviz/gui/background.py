"""Background jobs for the GUI: a computation on a worker thread, its result on the GUI thread.

A *lane* is one daemon thread that runs the callables given to it in order (one
job at a time, like a pool of one). A :class:`Collector`, owned by a widget or
worker object on the GUI thread, watches the futures of the jobs it started and
calls their callbacks there, polling on a short timer while any are outstanding.

No Qt object is touched off the GUI thread. The earlier design emitted a queued
signal from a ``QRunnable``; under the full test suite (PySide6 6.11) such a
signal was seen emitted and never delivered, which left a panel computing for
ever. A future that the GUI thread looks at cannot get lost that way, and a job
whose owner went away simply finishes unobserved. See docs/architecture.md,
"Background work".
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from concurrent.futures import Future
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QTimer

from bceviz.gui.safety import call_guarded

#: How often a collector looks at its outstanding jobs (ms). Jobs take tens of
#: milliseconds or more; a look costs microseconds, and only while a job is out.
POLL_MS = 5


def lower_thread_priority(nice: int) -> None:
    """Run the calling thread at a lower priority than the interface (Linux: a nice value).

    A full loss-surface re-slice is ~60 ms of CPU; on a two-core machine shared with
    other work it must not take the core the event loop needs for the next frame.
    (Qt's thread priorities do nothing under Linux's default scheduler; nice is per
    thread there.)
    """
    if nice <= 0 or not hasattr(os, "setpriority") or not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), nice))
    except OSError:
        pass


class Lane:
    """One daemon thread running submitted callables in order; each gets a Future."""

    def __init__(self, name: str, *, nice: int = 0) -> None:
        self.name = name
        self.nice = nice
        self._queue: "queue.SimpleQueue[tuple[Callable[[], Any], Future]]" = queue.SimpleQueue()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], Any]) -> Future:
        future: Future = Future()
        self._queue.put((fn, future))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=f"bceviz-{self.name}",
                                                daemon=True)
                self._thread.start()
        return future

    def _run(self) -> None:  # the lane's thread
        lower_thread_priority(self.nice)
        while True:
            fn, future = self._queue.get()
            if future.set_running_or_notify_cancel():
                try:
                    result = fn()
                except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread
                    future.set_exception(exc)
                else:
                    future.set_result(result)
                    del result
            del fn, future  # hold no job's data while idle


_LANES: dict[str, Lane] = {}
_LANES_LOCK = threading.Lock()


def lane(name: str, *, nice: int = 0) -> Lane:
    """The process's lane of that name (created on first use)."""
    with _LANES_LOCK:
        found = _LANES.get(name)
        if found is None:
            found = _LANES[name] = Lane(name, nice=nice)
        return found


Callback = Callable[[Any], None]


class Collector(QObject):
    """Calls the callbacks of finished jobs on the GUI thread (owned by one object)."""

    def __init__(self, parent: Optional[QObject] = None, *, poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self._pending: list[tuple[Future, Callback, Callback]] = []
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.collect)

    @property
    def outstanding(self) -> int:
        """Jobs started here whose callbacks have not run yet."""
        return len(self._pending)

    def start(self, on: Lane, fn: Callable[[], Any], on_done: Callback,
              on_error: Callback) -> Future:
        """Run ``fn`` on the lane; later ``on_done(result)`` or ``on_error(exception)`` here."""
        future = on.submit(fn)
        self._pending.append((future, on_done, on_error))
        if not self._timer.isActive():
            self._timer.start()
        return future

    def collect(self) -> int:
        """Deliver every finished job now; returns how many were delivered."""
        finished = [item for item in self._pending if item[0].done()]
        if not finished:
            return 0
        gone = {id(item[0]) for item in finished}
        self._pending = [item for item in self._pending if id(item[0]) not in gone]
        if not self._pending:
            self._timer.stop()
        for future, on_done, on_error in finished:
            if future.cancelled():
                continue
            error = future.exception()
            # A failing callback is reported (safety.report_error) and the next one still runs.
            if error is None:
                call_guarded(on_done, future.result(), context="using a background result")
            else:
                call_guarded(on_error, error, context="reporting a background error")
        return len(finished)

    def cancel(self) -> None:
        """Forget every outstanding job (one not yet started does not run)."""
        for future, _, _ in self._pending:
            future.cancel()
        self._pending = []
        self._timer.stop()
