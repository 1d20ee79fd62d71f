"""Entry point: the ``bceviz`` command (open the window, or train, report and screenshot headless).

``--list-scenarios``, ``--version`` and ``--report`` never import Qt, so they
start fast and work on machines without a display. ``--screenshot`` renders
offscreen (``QT_QPA_PLATFORM=offscreen`` is chosen automatically when no
platform is set).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from typing import Optional, Sequence

import bceviz

PROG = "bceviz"
SCREENSHOT_SIZE = (1280, 800)


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (no usage block)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog=PROG,
        description="See and touch binary cross-entropy: drag predictions, labels and points, "
                    "watch the loss, its gradient and a live logistic regression.",
    )
    parser.add_argument("--scenario", metavar="ID", help="start from this scenario (default: default)")
    parser.add_argument("--list-scenarios", action="store_true",
                        help="print the scenario ids and titles (id<TAB>title) and exit")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--session", metavar="PATH",
                        help="start from a saved session (.bceviz.json) instead of a scenario")
    parser.add_argument("--data", metavar="PATH",
                        help="use the points of a CSV file: two feature columns and a label "
                             "in [0, 1]")
    parser.add_argument("--train-steps", metavar="N", type=_non_negative_int, default=0,
                        help="train N steps (continuing from --session's weights) before "
                             "anything else")
    parser.add_argument("--save-session", metavar="PATH",
                        help="write the session (after --train-steps) to PATH and exit")
    parser.add_argument("--report", metavar="PATH",
                        help="write the state's summary (train_loss, accuracy, w, b, steps, ...) "
                             "as JSON and exit")
    parser.add_argument("--screenshot", metavar="PATH",
                        help="write a PNG of the whole main window (1280 × 800) and exit")
    parser.add_argument("--self-test", action="store_true",
                        help="check that this installation works (offscreen) and exit")
    return parser


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of steps, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"the number of steps must be >= 0, got {value}")
    return value


def _fail(message: str, code: int = 2) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


# --------------------------------------------------------------------------- state and window
def create_state(scenario: Optional[str] = None):
    """A fresh AppState with the scenario applied (raises ScenarioError for a bad id)."""
    from bceviz.model.scenarios import apply_scenario, load_scenario
    from bceviz.model.state import AppState

    state = AppState()
    apply_scenario(state, load_scenario(scenario or "default"))
    return state


def create_window(scenario: Optional[str] = None, state=None):
    """The main window on a scenario (``default`` if None). A QApplication must exist.

    Raises ScenarioError (a ValueError) for an unknown or malformed scenario.
    """
    from bceviz.gui.main_window import MainWindow

    if state is None:
        state = create_state(scenario)
    return MainWindow(state)


def _qapp(argv: Sequence[str]):
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication([PROG, *argv])
        app.setApplicationName("bceviz")
        app.setApplicationVersion(bceviz.__version__)
        app.setDesktopFileName("bceviz")
        _set_window_icon(app)
    return app


def _set_window_icon(app) -> None:
    """The bceviz icon for every window; a missing icon file is not worth failing for."""
    from PySide6.QtGui import QIcon

    from bceviz.resources import resource_path

    try:
        app.setWindowIcon(QIcon(str(resource_path("icons", "bceviz.svg"))))
    except FileNotFoundError:
        pass


def _settle(window, seconds: float = 0.4) -> None:
    """Let panels draw (their redraws are coalesced into the event loop)."""
    from PySide6.QtWidgets import QApplication

    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        QApplication.processEvents()
        for panel in getattr(window, "panels", {}).values():
            panel.flush()
        time.sleep(0.01)
    QApplication.processEvents()


def save_screenshot(window, path: str, size=SCREENSHOT_SIZE) -> tuple[int, int]:
    """Render the whole window at ``size`` (or larger) to a PNG; returns the image size."""
    window.resize(*size)
    window.show()
    _settle(window)
    pixmap = window.grab()
    if pixmap.width() < size[0] or pixmap.height() < size[1]:
        raise RuntimeError(f"the window rendered at {pixmap.width()}×{pixmap.height()}, "
                           f"smaller than {size[0]}×{size[1]}")
    from PySide6.QtCore import QBuffer, QIODevice

    from bceviz.model.atomic import write_atomic

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not pixmap.save(buffer, "PNG"):
        raise RuntimeError("Qt could not encode the window as PNG")
    # The one atomic writer: a failed write (a full disk) keeps the old PNG.
    write_atomic(path, bytes(buffer.data().data()))
    return pixmap.width(), pixmap.height()


def write_report(state, path: str) -> dict:
    """Write ``state.summary()`` as JSON (atomically); non-finite numbers become null."""
    from bceviz.model.atomic import write_atomic

    summary = _json_safe(state.summary())
    write_atomic(path, json.dumps(summary, indent=2, allow_nan=False) + "\n")
    return summary


def _json_safe(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # NumPy scalars
        return _json_safe(value.item())
    return value


def install_excepthook() -> None:
    """Unexpected errors: the traceback goes to stderr, the user sees a short message box."""
    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        from bceviz.gui.safety import report_error  # the one place errors are reported

        if exc is not None and exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        report_error(exc if exc is not None else exc_type())

    hook.bceviz_hook = True  # type: ignore[attr-defined]  # report_error must not call it back
    sys.excepthook = hook


# --------------------------------------------------------------------------- main
def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    if args.version:
        print(f"bceviz {bceviz.__version__}")
        return 0
    if args.self_test:
        from bceviz.selftest import run_selftest

        return run_selftest()
    from bceviz.model.scenarios import ScenarioError, list_scenarios

    if args.list_scenarios:
        for sid, title in list_scenarios():
            print(f"{sid}\t{title}")
        return 0
    if args.scenario and args.session:
        return _fail("give --scenario or --session, not both")
    try:
        state = create_state(args.scenario)
    except ScenarioError as exc:
        return _fail(str(exc))
    except FileNotFoundError as exc:
        return _fail(str(exc), 1)
    from bceviz.model import datafiles, session
    from bceviz.model.state import StateError

    session_data = None
    if args.session:
        try:
            session_data = session.load_session(args.session)
            session.apply_session(state, session_data)
        except session.SessionError as exc:
            return _fail(str(exc))
    if args.data:
        try:
            state.load_points_file(args.data)
        except datafiles.DataFileError as exc:
            return _fail(str(exc))
        except StateError as exc:
            return _fail(f"{args.data}: {exc}")
    if args.train_steps:
        state.step(args.train_steps)
        if state.trainer.diverged:
            print(f"{PROG}: warning: {state.trainer.status}", file=sys.stderr)
    if args.save_session:
        try:  # a session loaded from a file keeps its window layout
            session.save_session(state, args.save_session,
                                 layout=session_data.layout if session_data else None)
        except session.SessionError as exc:
            return _fail(str(exc), 1)
    if args.report:
        try:
            write_report(state, args.report)
        except OSError as exc:
            return _fail(f"cannot write the report {args.report!r}: {exc.strerror or exc}", 1)
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _qapp([])
        window = create_window(state=state)
        if session_data is not None:
            window.file_actions.restore_layout(session_data.layout_bytes())
        try:
            save_screenshot(window, args.screenshot)
        except (OSError, RuntimeError) as exc:
            return _fail(f"screenshot failed: {exc}", 1)
        finally:
            window.close()
            window.deleteLater()
    if args.report or args.screenshot or args.save_session:
        return 0

    app = _qapp([])
    install_excepthook()
    window = create_window(state=state)
    # Preferences, layout and autosave on quit; with nothing asked for on the
    # command line, the session autosaved on the last quit comes back.
    window.file_actions.enable_persistence(
        restore_session=not (args.scenario or args.session or args.data))
    if session_data is not None:
        window.file_actions.restore_layout(session_data.layout_bytes())
    window.show()
    return int(app.exec())


__all__ = ["main", "create_window", "create_state", "build_parser", "save_screenshot",
           "write_report", "install_excepthook"]
