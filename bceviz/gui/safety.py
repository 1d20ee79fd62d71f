"""User text shown safely, and the one guarded place for errors inside Qt callbacks.

Text from a file, a file name or a session
------------------------------------------
Qt shows a string as rich text when it merely *looks* like HTML (a
``QLabel`` or ``QMessageBox`` in its default ``AutoText`` mode, every tool
tip, pyqtgraph's axis labels and titles). Nested ``<table>`` markup in a file
name then takes minutes to lay out. So text that comes from the user's files
is never handed to Qt raw:

* :func:`shown` is the text as displayed: lone surrogates, which
  ``os.fsdecode`` uses to keep the undecodable bytes of a file name (a
  Latin-1 ``café.csv`` on a UTF-8 system), become U+FFFD. The state keeps the
  name exactly as the file system gave it; only the display replaces them.
  (PySide6 would silently drop them: ``caf.csv``.)
* :func:`escape` is for embedding user text into the app's own rich text.
* :func:`literal` is for Qt's ``AutoText`` places (message boxes, tool tips):
  plain text stays as it is, and text Qt would take for HTML is escaped.
* :func:`plain_label` makes a ``QLabel`` show plain text whatever it is given.

Errors inside Qt callbacks
--------------------------
An exception escaping a Qt virtual method or an event filter cannot be
propagated to a caller: PySide6 prints it, and on some paths (an event filter
during a close event) Qt goes on with a half-done operation and the process
dies. Every such callback goes through :func:`guarded` (a decorator) or
:func:`call_guarded`, and uncaught errors in slots reach :func:`report_error`
through the excepthook (``bceviz.app.install_excepthook``). The error's
traceback goes to stderr (the same error at most once per
``REPEAT_SECONDS``, so a failing redraw cannot flood the terminal) and the
user sees one non-blocking message box at a time; the app keeps running.
"""

from __future__ import annotations

import functools
import html
import re
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as _QtGui
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QWidget

__all__ = ["REPEAT_SECONDS", "call_guarded", "dispose", "escape", "guarded", "literal",
           "plain_label", "report_error", "shown"]

_SURROGATE = re.compile("[\ud800-\udfff]")
#: The same error (context, type, message) is printed again only after this many seconds.
REPEAT_SECONDS = 10.0
ERROR_TITLE = "bceviz: something went wrong"

F = TypeVar("F", bound=Callable[..., Any])


# ----------------------------------------------------------------------------
# Text


def shown(text: object) -> str:
    """``text`` as it is displayed: lone surrogates (undecodable bytes) become U+FFFD."""
    text = str(text)
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def escape(text: object) -> str:
    """``text`` escaped for the app's own rich text (``&``, ``<``, ``>``, quotes)."""
    return html.escape(shown(text))


def literal(text: object) -> str:
    """``text`` for an ``AutoText`` place (message box, tool tip) that shows it literally.

    Qt takes a string for HTML when its first line holds something tag-like;
    such a string is escaped into a rich-text paragraph that keeps line breaks.
    Anything else is returned as it is (Qt then shows it as plain text).
    """
    text = shown(text)
    if not _QtGui.mightBeRichText(text):
        return text
    return "<p style='white-space: pre-wrap'>" + html.escape(text) + "</p>"


def plain_label(label: QLabel) -> QLabel:
    """Make ``label`` show its text as plain text (never rich text); returns it."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


# ----------------------------------------------------------------------------
# Errors


_last_printed: dict[tuple[str, str, str], float] = {}
_open_box: list[QMessageBox] = []


def _box_open() -> bool:
    import shiboken6

    _open_box[:] = [b for b in _open_box if shiboken6.isValid(b) and b.isVisible()]
    return bool(_open_box)


def report_error(exc: BaseException, context: str = "", *, parent: QWidget | None = None,
                 message: str = "", show: bool = True, trace: bool = True) -> None:
    """Report an error: to stderr (with its traceback), and in a non-blocking message box.

    ``context`` says what was being done ("autosaving the session");
    ``message`` replaces the box's default text (and, with ``trace=False``, the
    traceback: for expected failures such as a full disk). Never raises.
    Without a QApplication (or with ``show=False``) only stderr is written. At
    most one box is open at a time; while it is, later errors go to stderr only.
    """
    try:
        key = (context, type(exc).__name__, str(exc)[:200])
        now = time.monotonic()
        if now - _last_printed.get(key, -1e9) >= REPEAT_SECONDS:
            _last_printed[key] = now
            where = f" while {context}" if context else ""
            if trace:
                print(f"bceviz: unexpected error{where}:", file=sys.stderr)
                traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
            else:
                print(f"bceviz: warning: {message or exc}", file=sys.stderr)
        hook = sys.excepthook
        if trace and hook is not sys.__excepthook__ and not getattr(hook, "bceviz_hook", False):
            # A test harness's hook (pytest-qt's): a guarded error still fails the test.
            hook(type(exc), exc, exc.__traceback__)
        if not show or QApplication.instance() is None or _box_open():
            return
        text = message or (
            f"{type(exc).__name__}: {exc}" + (f"\n\n(while {context})" if context else "")
            + "\n\nThe app keeps running; the details were written to the terminal (stderr). "
              "Please report them if this repeats.")
        box = QMessageBox(QMessageBox.Icon.Warning, ERROR_TITLE, shown(text),
                          QMessageBox.StandardButton.Ok, parent)
        box.setObjectName("bceviz_error")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setModal(False)
        box.show()
        _open_box.append(box)
    except Exception:  # noqa: BLE001 - reporting must never raise itself
        pass


def guarded(context: str, *, default: Any = None) -> Callable[[F], F]:
    """Decorator for Qt callbacks: an ``Exception`` is reported and ``default`` returned.

    ``KeyboardInterrupt`` and ``SystemExit`` pass through (they end the app).
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the one catch-all (module docstring)
                report_error(exc, context)
                return default

        wrapper.__bceviz_guarded__ = True  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def call_guarded(fn: Callable[..., Any], *args: Any, context: str = "", default: Any = None,
                 **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, with an ``Exception`` reported and ``default`` returned."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the one catch-all (module docstring)
        report_error(exc, context)
        return default


# ----------------------------------------------------------------------------
# Lifetime


def dispose(widget: QWidget) -> None:
    """Delete a closed top-level window and everything in it now, while Python runs.

    Left to the interpreter's exit, PySide deletes the objects Python owns in an
    arbitrary order after Python has begun to shut down; a plot layout deleted
    there resizes its children, whose Python overrides can no longer run, and the
    process died with SIGSEGV after a normal quit. Never raises.
    """
    import shiboken6

    try:
        if shiboken6.isValid(widget):
            widget.close()
            shiboken6.delete(widget)
    except Exception as exc:  # noqa: BLE001 - quitting must not fail
        report_error(exc, "closing the window", show=False)
