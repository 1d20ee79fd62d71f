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
#: ``--train-steps`` at most this many (10 million: minutes to an hour on a laptop;
#: more is better continued from a saved session than typed as one number).
MAX_TRAIN_STEPS = 10**7
#: ``--train-steps`` trains in chunks of this many steps and reports progress on
#: stderr about every PROGRESS_SECONDS.
TRAIN_CHUNK = 10_000
PROGRESS_SECONDS = 5.0
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
    parser.add_argument("--scenario", "--stage", metavar="ID", dest="scenario",
                        help="open this stage (a lesson; default: default)")
    parser.add_argument("--list-scenarios", "--list-stages", action="store_true",
                        dest="list_scenarios",
                        help="print the stages, one a line: id<TAB>lab<TAB>title, and exit")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--session", metavar="PATH",
                        help="start from a saved session (.bceviz.json) instead of a scenario")
    parser.add_argument("--data", metavar="PATH",
                        help="use the points of a CSV file: two feature columns and a label "
                             "in [0, 1]")
    parser.add_argument("--train-steps", metavar="N", type=_non_negative_int, default=0,
                        help="train N steps (continuing from --session's weights) before "
                             f"anything else; at most {MAX_TRAIN_STEPS:,}, with progress on "
                             "stderr for long runs")
    parser.add_argument("--race", metavar="LIST",
                        help="2-D lab: race 2 to 5 optimizers (gd, sgd, momentum, adam, newton, "
                             "each with an optional :lr, e.g. gd,momentum:0.1,adam) from the "
                             "model's weights; --train-steps trains them and --report adds "
                             "\"race\"")
    parser.add_argument("--save-session", metavar="PATH",
                        help="write the session (after --train-steps) to PATH and exit")
    parser.add_argument("--report", metavar="PATH",
                        help="write the lab, the stage and the lab's figures (for the 2-D lab: "
                             "train_loss, accuracy, w, b, steps, ...) as JSON and exit")
    parser.add_argument("--screenshot", metavar="PATH",
                        help="write a PNG of the window as a user sees the stage, filling the "
                             "screen (1280 × 800 without a screen of at least 1280 × 720), "
                             "and exit")
    parser.add_argument("--presentation", action="store_true",
                        help="with --screenshot: in presentation mode (full screen, large type)")
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
    if value > MAX_TRAIN_STEPS:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_TRAIN_STEPS:,} training steps, got {value:,} (that many would take "
            "hours to days); continue from a saved session to train longer")
    return value


def _fail(message: str, code: int = 2) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


# --------------------------------------------------------------------------- state and window
def create_state(scenario: Optional[str] = None):
    """A fresh AppState with the scenario applied (raises ScenarioError for a bad id)."""
    from bceviz.model.scenarios import apply_scenario, load_scenario
    from bceviz.model.state import AppState

    from bceviz.model.race import race_of

    state = AppState()
    race_of(state)  # the optimizer race follows the state from the start (a race stage)
    apply_scenario(state, load_scenario(scenario or "default"))
    return state


def create_window(scenario: Optional[str] = None, state=None, *, lab_states=None,
                  stage: Optional[str] = None):
    """The main window on a stage (``default`` if None). A QApplication must exist.

    With ``state`` (the 2-D lab's) and ``lab_states`` (other labs', id -> state)
    prepared elsewhere, the window shows ``stage`` over them as they are.
    Raises StageError / ScenarioError (ValueErrors) for an unknown or malformed stage.
    """
    from bceviz.gui.main_window import MainWindow
    from bceviz.model import stages

    if state is None:
        stage_id = scenario or "default"
        found = stages.get_stage(stage_id)
        if found.lab == "logistic2d":
            state = create_state(stage_id)
            window = MainWindow(state)
            window.present(stage_id)
        else:
            from bceviz.model.state import AppState

            window = MainWindow(AppState(), lab_states=lab_states)
            window.show_stage(stage_id)
        return window
    window = MainWindow(state, lab_states=lab_states)
    window.present(stage or getattr(state, "stage_id", "") or state.scenario_id or "workbench")
    return window


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


def report_of(state, stage: Optional[str] = None) -> dict:
    """``{"lab", "stage", **the lab's figures}``; for the 2-D lab also the loss-curve handle's
    p, y, L and dL/dz when the stage shows the loss curve."""
    lab = getattr(state, "lab_id", "logistic2d")
    stage_id = stage if stage is not None else getattr(state, "stage_id", "")
    out = {"lab": lab, "stage": stage_id}
    out.update(state.report())
    if lab == "logistic2d":
        from bceviz.model import figures, stages
        from bceviz.model.race import existing_race

        race = existing_race(state)
        if race is not None and race.active:
            out["race"] = race.report()

        try:
            shown = stages.get_stage(stage_id)
            shows_curve = shown.is_workbench or "loss_curve" in shown.panel_ids
        except stages.StageError:
            shows_curve = False
        if shows_curve:
            r = figures.probe_readout(state)
            out["loss_curve"] = {"p": r.p, "y": r.y, "z": r.z, "L": r.loss, "dL_dz": r.dl_dz,
                                 "dL_dp": r.dl_dp, "d2L_dz2": r.d2l_dz2}
    return out


def write_report(state, path: str, *, stage: Optional[str] = None) -> dict:
    """Write :func:`report_of` as JSON (atomically); non-finite numbers become null."""
    from bceviz.model.atomic import write_atomic

    summary = _json_safe(report_of(state, stage))
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
    from bceviz.model import stages as _stages

    if args.list_scenarios:
        try:
            for stage in _stages.all_stages():
                print(f"{stage.stage_id}\t{stage.lab}\t{stage.title}")
        except _stages.StageError as exc:
            return _fail(str(exc), 1)
        return 0
    if args.scenario and args.session:
        return _fail("give --scenario (--stage) or --session, not both")
    try:
        launch = _prepare(args)
    except _LaunchError as exc:
        return _fail(str(exc), exc.code)
    from bceviz.model import session

    current = launch.current
    if args.train_steps:
        _train(current, args.train_steps)
    if args.save_session:
        try:  # a session loaded from a file keeps its window layout
            session.save_session(launch.state, args.save_session,
                                 layout=launch.session_data.layout if launch.session_data
                                 else None, **launch.lab_info())
        except session.SessionError as exc:
            return _fail(str(exc), 1)
    if args.report:
        try:
            write_report(current, args.report, stage=launch.stage_id)
        except OSError as exc:
            return _fail(f"cannot write the report {args.report!r}: {exc.strerror or exc}", 1)
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _qapp([])
        window = launch.window()
        if launch.session_data is not None and launch.lab_id == "logistic2d":
            window.file_actions.restore_layout(launch.session_data.layout_bytes())
        try:
            if args.presentation:
                window.show()
                window.file_actions.presentation.set(True)
            save_screenshot(window, args.screenshot, size=_screen_size(window))
        except (OSError, RuntimeError) as exc:
            return _fail(f"screenshot failed: {exc}", 1)
        finally:
            from bceviz.gui.safety import dispose

            dispose(window)  # now, not in PySide's clean-up at exit (a crash there)
    if args.report or args.screenshot or args.save_session:
        return 0

    from bceviz.platform_check import problem

    trouble = problem()
    if trouble:  # before Qt, which would abort with a less helpful message
        return _fail(trouble, 1)
    app = _qapp([])
    install_excepthook()
    window = launch.window()
    # Preferences, layout and autosave on quit; with nothing asked for on the
    # command line, the session autosaved on the last quit comes back.
    window.file_actions.enable_persistence(
        restore_session=not (args.scenario or args.session or args.data))
    if launch.session_data is not None and launch.lab_id == "logistic2d":
        window.file_actions.restore_layout(launch.session_data.layout_bytes())
    window.show()
    code = int(app.exec())
    from bceviz.gui.safety import dispose

    dispose(window)  # now, not in PySide's clean-up at exit (a crash there)
    return code


class _LaunchError(Exception):
    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class _Launch:
    """What the command line asked for: the labs' states, the lab and stage on screen."""

    def __init__(self, state, lab_states: dict, lab_id: str, stage_id: str,
                 session_data=None) -> None:
        self.state = state  # the 2-D lab's AppState
        self.lab_states = lab_states  # other labs: id -> state
        self.lab_id = lab_id
        self.stage_id = stage_id
        self.session_data = session_data

    @property
    def current(self):
        return self.state if self.lab_id == "logistic2d" else self.lab_states[self.lab_id]

    def lab_info(self) -> dict:
        return {"lab": self.lab_id, "stage": self.stage_id,
                "labs": {lab: st.to_dict() for lab, st in self.lab_states.items()}}

    def window(self):
        return create_window(state=self.state, lab_states=self.lab_states, stage=self.stage_id)


def _prepare(args) -> _Launch:
    """Build the states the command line names (stage, session, data), or raise _LaunchError."""
    from bceviz.model import datafiles, session
    from bceviz.model import labs as _labs
    from bceviz.model import stages as _stages
    from bceviz.model.labs.base import LabError
    from bceviz.model.scenarios import ScenarioError
    from bceviz.model.state import StateError

    refused = (ScenarioError, _stages.StageError, StateError, LabError)
    lab_states: dict = {}
    session_data = None
    try:
        stage = _stages.get_stage(args.scenario or _stage_for_data(args) or "default")
        state = create_state(stage.stage_id if stage.lab == "logistic2d" else "default")
        lab_id, stage_id = stage.lab, stage.stage_id
        if lab_id != "logistic2d":
            lab_states[lab_id] = _new_lab_state(lab_id, stage)
    except refused as exc:
        raise _LaunchError(str(exc)) from None
    except FileNotFoundError as exc:
        raise _LaunchError(str(exc), 1) from None
    if args.session:
        try:
            session_data = session.load_session(args.session)
            restored = {}
            for other, payload in (session_data.labs or {}).items():
                restored[other] = _new_lab_state(other, None)
                restored[other].restore(payload)
            session.apply_session(state, session_data)
        except session.SessionError as exc:
            raise _LaunchError(str(exc)) from None
        except refused as exc:
            raise _LaunchError(f"{args.session}: {exc}") from None
        lab_states = restored
        lab_id, stage_id = session_data.lab, session_data.stage
        if lab_id != "logistic2d" and lab_id not in lab_states:
            lab_states[lab_id] = _new_lab_state(lab_id, None)
        if lab_id not in _labs.lab_ids():
            lab_id, stage_id = "logistic2d", state.scenario_id
    if args.data:
        current = state if lab_id == "logistic2d" else lab_states[lab_id]
        loader = getattr(current, "load_data_file", None) or current.load_points_file
        try:
            loader(args.data)
        except datafiles.DataFileError as exc:
            raise _LaunchError(str(exc)) from None
        except refused as exc:
            raise _LaunchError(f"{args.data}: {exc}") from None
    state.set_stage_id(stage_id) if lab_id == "logistic2d" else None
    if getattr(args, "race", None):
        from bceviz.model.race import RaceError, race_of

        if lab_id != "logistic2d":
            raise _LaunchError(f"--race races the 2-D lab's optimizers; stage {stage_id!r} "
                               f"is of the {lab_id} lab")
        try:
            race_of(state).start(args.race)
        except RaceError as exc:
            raise _LaunchError(f"--race: {exc}") from None
    return _Launch(state, lab_states, lab_id, stage_id, session_data)


def _stage_for_data(args) -> Optional[str]:
    """``--data`` alone with a file of model outputs (scores and labels) opens the predictions lab."""
    if not args.data or args.session:
        return None
    from bceviz.model.prediction_files import looks_like_model_outputs

    return "predictions-where-loss-comes-from" if looks_like_model_outputs(args.data) else None


def _new_lab_state(lab_id: str, stage):
    """A fresh state of a lab, put into ``stage``'s settings when one is given."""
    from bceviz.model import labs as _labs

    state = _labs.get_lab(lab_id).state_factory()
    if stage is not None:
        state.apply_settings(dict(stage.settings))
        state.set_stage_id(stage.stage_id)
    return state


def _train(state, steps: int) -> None:
    """``--train-steps``: train the current lab (diverging training is a warning, not an error).

    Trains in chunks of ``TRAIN_CHUNK`` steps; a run longer than
    ``PROGRESS_SECONDS`` reports its progress on stderr about that often.
    """
    start = last = time.monotonic()
    done = 0
    while done < steps:
        chunk = min(TRAIN_CHUNK, steps - done)
        took = int(state.step(chunk) or 0)
        done += took
        if took == 0:  # diverged, or nothing to train: said below
            break
        now = time.monotonic()
        if now - last >= PROGRESS_SECONDS and done < steps:
            last = now
            left = (now - start) / done * (steps - done)
            print(f"{PROG}: training: {done:,} of {steps:,} steps ({100 * done / steps:.0f} %), "
                  f"about {_duration(left)} left", file=sys.stderr, flush=True)
    trainer = getattr(state, "trainer", None)
    if trainer is not None and trainer.diverged:
        print(f"{PROG}: warning: {trainer.status}", file=sys.stderr)
    elif done < steps and getattr(state, "status_level", "") == "error":
        print(f"{PROG}: warning: {state.status_message}", file=sys.stderr)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _screen_size(window) -> tuple[int, int]:
    """The size a user's window has on this screen: the screen's, at most 1280 × 800."""
    screen = window.screen()
    if screen is None:
        return SCREENSHOT_SIZE
    avail = screen.availableGeometry().size()
    if avail.width() < 1280 or avail.height() < 720 or avail.width() > 2560:
        return SCREENSHOT_SIZE  # e.g. the offscreen platform's default 800 × 600 screen
    return avail.width(), avail.height()  # as a user sees it: the window filling the screen


__all__ = ["main", "create_window", "create_state", "build_parser", "save_screenshot",
           "write_report", "install_excepthook"]
