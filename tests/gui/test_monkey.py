"""A seeded monkey: thousands of random user actions on the real window, in a subprocess.

Actions: switching stages and labs (the lesson navigator, Page Up / Down, the
workbench toggle), presentation mode and the dark theme, hiding and showing
docks, resizing, dragging and clicking in every visible plot, key presses,
training frames, undo and redo, data-set changes, letting timers run. Any
crash (a segfault included), an exception escaping a Qt callback, an error
box, or a number on screen that is not finite fails the test, which prints
the seed and the last actions so the run can be repeated:

    python -m tests.gui.test_monkey --seed 123 --actions 3000

The subprocess keeps a crash from taking pytest down and puts a time limit on
a hang; faulthandler prints the Python stack of a segfault.
"""

from __future__ import annotations

import argparse
import faulthandler
import math
import os
import random
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: Seeds run in CI (one subprocess each); a failure prints its seed. Each run stops at
#: CI_ACTIONS or after CI_SECONDS, whichever comes first (~60 s in all with start-up;
#: this two-core machine does 10-15 actions a second). Longer runs by hand:
#: ``python -m tests.gui.test_monkey --seed N --actions 10000``.
CI_SEEDS = (20261201,)
CI_ACTIONS = 5000
CI_SECONDS = 45.0
#: A CI run that managed fewer actions than this tested too little: it fails.
CI_MIN_ACTIONS = 200


# ----------------------------------------------------------------------------
# The monkey (runs in the subprocess)


class Monkey:
    """Random actions on a MainWindow; ``log`` keeps the last ones for the report."""

    def __init__(self, window, seed: int) -> None:
        self.window = window
        self.rng = random.Random(seed)
        self.log: deque = deque(maxlen=40)
        self.count = 0
        from bceviz.model import stages

        self.stage_ids = [s.stage_id for s in stages.all_stages()]
        # the 2-D lab, where the docks and most panels are, gets more of the time
        self.stage_ids_2d = [s.stage_id for s in stages.all_stages() if s.lab == "logistic2d"]
        self.actions = [
            (self.stage, 4), (self.next_stage, 2), (self.workbench, 2),
            (self.presentation, 2), (self.dark, 1), (self.dock, 8), (self.reset_layout, 1),
            (self.resize, 3), (self.drag, 18), (self.click, 10), (self.key, 14),
            (self.frame, 16), (self.play, 4), (self.undo, 5), (self.data_change, 3),
            (self.wait, 4), (self.wheel, 4),
        ]
        self.weights = [w for _, w in self.actions]

    # -- helpers
    def _visible_plots(self):
        import pyqtgraph as pg

        out = []
        for view in self.window.findChildren(pg.GraphicsView):
            if view.isVisible() and view.width() > 20 and view.height() > 20:
                for item in view.scene().items():
                    if isinstance(item, pg.ViewBox) and item.isVisible():
                        out.append((view, item))
        return out

    def _random_point(self, view, vb):
        import pyqtgraph as pg
        from PySide6.QtCore import QPointF

        rect = vb.sceneBoundingRect()
        if self.rng.random() < 0.6:  # aim at something: a data point of the 2-D state
            st = self.window.state
            if len(st.X):
                x, y = st.X[self.rng.randrange(len(st.X))]
                scene = vb.mapViewToScene(pg.Point(float(x), float(y)))
                if rect.contains(scene):
                    return QPointF(view.mapFromScene(scene))
        scene_x = rect.left() + self.rng.random() * rect.width()
        scene_y = rect.top() + self.rng.random() * rect.height()
        return QPointF(view.mapFromScene(QPointF(scene_x, scene_y)))

    # -- actions
    def stage(self):
        ids = self.stage_ids_2d if self.rng.random() < 0.6 else self.stage_ids
        sid = self.rng.choice(ids)
        self.log.append(f"stage {sid}")
        self.window.show_stage(sid)

    def next_stage(self):
        step = self.rng.choice((-1, 1))
        self.log.append(f"next_stage {step}")
        self.window.next_stage(step)

    def workbench(self):
        self.log.append("toggle_workbench")
        self.window.toggle_workbench()

    def presentation(self):
        self.log.append("presentation")
        self.window.act_presentation.trigger()

    def dark(self):
        self.log.append("dark")
        self.window.act_dark.trigger()

    def dock(self):
        pid = self.rng.choice(sorted(self.window.docks))
        self.log.append(f"dock {pid} toggle")
        self.window.docks[pid].toggleViewAction().trigger()

    def reset_layout(self):
        self.log.append("reset_layout")
        self.window.reset_layout()

    def resize(self):
        w, h = self.rng.randint(900, 1600), self.rng.randint(600, 1000)
        self.log.append(f"resize {w}x{h}")
        self.window.resize(w, h)

    def drag(self):
        import pyqtgraph as pg
        from PySide6.QtCore import Qt

        from tests.gui import drag as _drag

        plots = self._visible_plots()
        if not plots:
            return self.frame()
        view, vb = self.rng.choice(plots)
        start = self._random_point(view, vb)
        steps = self.rng.randint(2, 12)
        path = [start]
        for _ in range(steps):
            last = path[-1]
            path.append(type(last)(last.x() + self.rng.uniform(-40, 40),
                                   last.y() + self.rng.uniform(-40, 40)))
        button = self.rng.choice((_drag.LEFT, _drag.LEFT, _drag.LEFT, Qt.MouseButton.RightButton))
        self.log.append(f"drag in {view.parent().objectName() or type(view).__name__} "
                        f"{len(path)} moves")
        pg.setConfigOption("mouseRateLimit", -1)
        view.scene().minDragTime = 0
        _drag.move(view, path[0])
        _drag.press(view, path[0], button)
        for i, p in enumerate(path[1:]):
            _drag.move(view, p, button)
            if self.rng.random() < 0.3:  # training frames during the drag
                self.window._on_frame()
            if i % 3 == 0:
                self._process()
        _drag.release(view, path[-1], button)

    def click(self):
        from PySide6.QtCore import Qt

        from tests.gui import drag as _drag

        plots = self._visible_plots()
        if not plots:
            return self.frame()
        view, vb = self.rng.choice(plots)
        pos = self._random_point(view, vb)
        button = self.rng.choice((_drag.LEFT, _drag.LEFT, Qt.MouseButton.RightButton))
        modifiers = self.rng.choice((None, None, Qt.KeyboardModifier.ShiftModifier))
        self.log.append(f"click {button} {modifiers}")
        _drag.move(view, pos)
        _drag.press(view, pos, button, modifiers)
        _drag.release(view, pos, button, modifiers)

    def key(self):
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        key = self.rng.choice((Qt.Key.Key_Space, Qt.Key.Key_S, Qt.Key.Key_Right, Qt.Key.Key_R,
                               Qt.Key.Key_F11, Qt.Key.Key_Escape, Qt.Key.Key_PageDown,
                               Qt.Key.Key_PageUp, Qt.Key.Key_Delete, Qt.Key.Key_Left,
                               Qt.Key.Key_Z))
        modifier = Qt.KeyboardModifier.ControlModifier if key == Qt.Key.Key_Z \
            else Qt.KeyboardModifier.NoModifier
        self.log.append(f"key {key.name}")
        QTest.keyClick(self.window, key, modifier)

    def frame(self):
        self.log.append("frame")
        st = self.window.state
        if st.running:
            self.window._on_frame()
        else:
            st.step(self.rng.choice((1, 1, 5, 40)))

    def play(self):
        self.log.append("play")
        self.window.toggle_play()

    def undo(self):
        stack = self.window.file_actions.undo.stack
        if self.rng.random() < 0.6:
            self.log.append("undo")
            stack.undo()
        else:
            self.log.append("redo")
            stack.redo()

    def data_change(self):
        st = self.window.state
        choice = self.rng.randrange(4)
        self.log.append(f"data_change {choice}")
        if choice == 0:
            st.generate(n=self.rng.choice((2, 20, 200, 1000)))
        elif choice == 1:
            st.set_features(self.rng.choice(("linear", "product", "poly3", "poly5", "sin")))
        elif choice == 2:
            st.set_spec(pos_weight=self.rng.choice((0.5, 1.0, 3.0)),
                        focal_gamma=self.rng.choice((0.0, 2.0)))
        else:
            st.set_training(optimizer=self.rng.choice(("gd", "sgd", "momentum", "adam",
                                                       "newton")), lr=self.rng.choice((0.1, 5.0)))

    def wheel(self):
        from PySide6.QtCore import QPoint, QPointF, Qt
        from PySide6.QtGui import QWheelEvent
        from PySide6.QtWidgets import QApplication

        plots = self._visible_plots()
        if not plots:
            return self.wait()
        view, vb = self.rng.choice(plots)
        pos = self._random_point(view, vb)
        delta = self.rng.choice((-240, -120, 120, 240))
        self.log.append(f"wheel {delta}")
        event = QWheelEvent(QPointF(pos), QPointF(view.viewport().mapToGlobal(pos.toPoint())),
                            QPoint(0, 0), QPoint(0, delta), Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(view.viewport(), event)

    def wait(self):
        from PySide6.QtTest import QTest

        ms = self.rng.choice((0, 5, 20, 40))
        self.log.append(f"wait {ms} ms")
        QTest.qWait(ms)

    # -- the run
    def _process(self):
        from PySide6.QtWidgets import QApplication

        QApplication.processEvents()

    def step(self) -> None:
        action = self.rng.choices(self.actions, weights=self.weights)[0][0]
        self.count += 1
        action()
        # Events (layouts, timers, paints) after every few actions: enough for each
        # action to meet the aftermath of the ones before, cheap enough for thousands.
        if self.count % 3 == 0 or self.rng.random() < 0.2:
            self._process()


def _error_boxes(app) -> list[str]:
    return [w.text() for w in app.topLevelWidgets()
            if w.objectName() == "bceviz_error" and w.isVisible()]


def _check_finite(window) -> None:
    st = window.state
    assert math.isfinite(st.trainer.mean_loss()), "the training loss is not finite"
    text = window.readout_label.text() + " " + window.status_label.text()
    for bad in ("nan", "inf ", "inf\n"):
        assert bad not in text.lower().replace("infinite", ""), f"{bad!r} on screen: {text!r}"


def run(seed: int, actions: int, seconds: float, scenario: str = "breast-cancer") -> int:
    """Run the monkey; returns the number of actions done. Raises on the first problem."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from bceviz.app import _qapp, _settle, create_window
    from bceviz.gui import safety

    app = _qapp([])
    errors: list[str] = []
    real_report = safety.report_error

    def report(exc, context="", **kwargs):  # an error reported by the guard fails the run
        errors.append(f"{type(exc).__name__}: {exc} (while {context})")
        real_report(exc, context, **kwargs)

    safety.report_error = report
    hook_errors: list[str] = []

    def hook(exc_type, exc, tb):
        import traceback

        hook_errors.append("".join(traceback.format_exception(exc_type, exc, tb)))

    sys.excepthook = hook
    window = create_window(scenario)
    window.resize(1280, 800)
    window.show()
    _settle(window, 0.1)
    monkey = Monkey(window, seed)
    deadline = time.monotonic() + seconds
    try:
        while monkey.count < actions and time.monotonic() < deadline:
            monkey.step()
            if errors or hook_errors or _error_boxes(app):
                raise AssertionError("an error inside a Qt callback:\n"
                                     + "\n".join(errors + hook_errors + _error_boxes(app)))
            if monkey.count % 50 == 0:
                _check_finite(window)
        _settle(window, 0.05)
        _check_finite(window)
    except BaseException:
        import traceback

        sys.excepthook = sys.__excepthook__
        traceback.print_exc()
        print(f"monkey: seed {seed} failed after {monkey.count} actions; last actions:",
              file=sys.stderr)
        for entry in monkey.log:
            print(f"  {entry}", file=sys.stderr)
        raise
    finally:
        window.state.set_running(False)
    window.file_actions.presentation.set(False)
    safety.dispose(window)  # as the app does after its event loop ends
    return monkey.count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=CI_SEEDS[0])
    parser.add_argument("--actions", type=int, default=CI_ACTIONS)
    parser.add_argument("--seconds", type=float, default=1e9)
    parser.add_argument("--scenario", default="breast-cancer")
    args = parser.parse_args(argv)
    faulthandler.enable()
    print(f"monkey: seed {args.seed}", flush=True)
    done = run(args.seed, args.actions, args.seconds, args.scenario)
    print(f"monkey: seed {args.seed}: {done} actions, no problem", flush=True)
    return 0


# ----------------------------------------------------------------------------
# The test


@pytest.mark.parametrize("seed", CI_SEEDS)
def test_random_actions_never_crash(seed):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    try:
        proc = subprocess.run(
            [sys.executable, "-X", "faulthandler", "-m", "tests.gui.test_monkey",
             "--seed", str(seed), "--actions", str(CI_ACTIONS), "--seconds", str(CI_SECONDS)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=CI_SECONDS + 90)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"monkey seed {seed} hung (repeat: python -m tests.gui.test_monkey "
                    f"--seed {seed}):\n{(exc.stderr or '')[-3000:]}")
    assert proc.returncode == 0, (
        f"monkey seed {seed} failed with exit code {proc.returncode} (repeat: python -m "
        f"tests.gui.test_monkey --seed {seed} --actions {CI_ACTIONS}):\n{proc.stderr[-6000:]}")
    assert "no problem" in proc.stdout
    done = int(proc.stdout.rsplit("seed", 1)[1].split(":")[1].split()[0])
    assert done >= CI_MIN_ACTIONS, f"only {done} actions in {CI_SECONDS} s"
    print(f"monkey seed {seed}: {done} actions")


if __name__ == "__main__":
    sys.exit(main())
