"""One battery every registered lab passes (docs/architecture.md, "Labs").

Like scikit-learn's ``check_estimator``: a new lab is done when this suite
passes for it without the suite changing. Each lab: its state module imports
no Qt; every stage of it applies and reports headless (JSON-safe, with the
lab and stage named); its state round-trips through a session payload; a
refused stage or session changes nothing; its panels open on every stage at
1280 × 720, each plot at least 300 × 180 px, and survive a burst of random
mouse input.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bceviz.model import labs, stages
from bceviz.model.labs.base import LabError

REPO = Path(__file__).resolve().parents[1]
LAB_IDS = [lab for lab in labs.lab_ids() if lab != "logistic2d"]
STAGES = [s for s in stages.all_stages() if s.lab != "logistic2d"]
ALL_STAGES = stages.all_stages()


def _json_equal(a, b, path="") -> None:
    """Same JSON structure; floats equal to 1e-9 relative."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), path
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), (path, sorted(a), sorted(b))
        for k in a:
            _json_equal(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _json_equal(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


def _fresh(lab_id: str):
    return labs.get_lab(lab_id).state_factory()


def test_every_stage_names_a_registered_lab_and_every_lab_has_stages():
    known = set(labs.lab_ids())
    for stage in ALL_STAGES:
        assert stage.lab in known, stage.stage_id
        assert stage.chapter in stages.CHAPTERS, (stage.stage_id, stage.chapter)
    for lab_id in known:
        assert stages.stages_of_lab(lab_id), f"lab {lab_id} has no stage"


@pytest.mark.parametrize("lab_id", LAB_IDS)
def test_the_state_module_imports_no_qt(lab_id):
    code = (f"import sys, bceviz.model.labs.{lab_id}\n"
            "print([m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'pyqtgraph', 'shiboken6')])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.stage_id)
def test_stage_applies_trains_reports_and_round_trips(stage):
    state = _fresh(stage.lab)
    state.apply_settings(dict(stage.settings))
    state.set_stage_id(stage.stage_id)
    state.step(3)
    report = state.report()
    json.dumps(report, allow_nan=False)  # JSON-safe: no NaN, no inf, plain types
    payload = json.loads(json.dumps(state.to_dict(), allow_nan=False))
    other = _fresh(stage.lab)
    other.restore(payload)
    _json_equal(json.loads(json.dumps(other.report())), json.loads(json.dumps(report)))
    # and the restored state trains on the same way
    state.step(2)
    other.step(2)
    _json_equal(json.loads(json.dumps(other.report())), json.loads(json.dumps(state.report())))


@pytest.mark.parametrize("lab_id", LAB_IDS)
def test_refused_settings_and_sessions_change_nothing(lab_id):
    state = _fresh(lab_id)
    state.apply_settings(dict(stages.stages_of_lab(lab_id)[0].settings))
    before = json.dumps(state.report())
    payload_before = json.dumps(state.to_dict())
    with pytest.raises(LabError):
        state.apply_settings({"no_such_setting_anywhere": 1})
    for bad in ({"no_such_field_anywhere": 1}, {**json.loads(payload_before), "extra_key_zz": 1}):
        with pytest.raises(LabError):
            state.restore(bad)
    assert json.dumps(state.report()) == before
    assert json.dumps(state.to_dict()) == payload_before


@pytest.mark.parametrize("stage", ALL_STAGES, ids=lambda s: s.stage_id)
def test_cli_report_names_the_lab_and_stage(stage, tmp_path):
    from bceviz.app import main

    out = tmp_path / "r.json"
    assert main(["--stage", stage.stage_id, "--train-steps", "2", "--report", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["lab"] == stage.lab and report["stage"] == stage.stage_id


# ------------------------------------------------------------------------ GUI
def _plots(widget):
    import pyqtgraph as pg

    return [v for v in widget.findChildren(pg.GraphicsView) if v.isVisible()]


def _plot_sizes(widget) -> list[tuple[str, float, float]]:
    """(name, width, height) of every plot on screen: each visible PlotItem of each view
    (a view of several plots counts each), or the view itself when it holds no PlotItem.
    Colour bars and label strips (under 120 px wide or 60 px tall) are not plots."""
    import pyqtgraph as pg

    out = []
    for view in _plots(widget):
        items = [it for it in view.scene().items()
                 if isinstance(it, pg.PlotItem) and it.isVisible()]
        if not items:
            out.append((view.objectName() or type(view).__name__, view.width(), view.height()))
        for it in items:
            rect = it.sceneBoundingRect()
            if rect.width() < 120 or rect.height() < 60:
                continue  # a colour bar or a label strip beside a plot, not a plot
            label = it.titleLabel.text if it.titleLabel is not None else ""
            out.append((label or view.objectName() or "plot", rect.width(), rect.height()))
    return out


@pytest.fixture(scope="module")
def window():
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from bceviz.app import _qapp, create_window

    _qapp([])
    w = create_window("workbench")
    w.resize(1280, 720)
    w.show()
    yield w
    w.close()
    w.deleteLater()


LESSON_STAGES = [s for s in ALL_STAGES if not s.is_workbench]


@pytest.mark.parametrize("mode", ["window", "presentation"])
@pytest.mark.parametrize("stage", LESSON_STAGES, ids=lambda s: s.stage_id)
def test_stage_opens_in_the_window_with_plots_large_enough(window, stage, mode, qtbot):
    """At 1280 × 720 (the test screen), in the window and in presentation mode."""
    from bceviz.app import _settle

    presentation = window.file_actions.presentation
    window.show_stage(stage.stage_id)
    if mode == "presentation":
        presentation.set(True)
    else:
        presentation.set(False)
        window.resize(window.fitting_size())
    _settle(window, 0.05)
    screen = window.screen().availableGeometry()
    assert (window.width(), window.height()) <= (screen.width(), screen.height()) or \
        (window.width() <= screen.width() and window.height() <= screen.height())
    hint = window.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 720, (stage.stage_id, hint)
    shown = window.stage_host.visible_panels()
    assert set(shown) == set(stage.panel_ids)

    def too_small():
        return [(stage.stage_id, pid, name, width, height)
                for pid, panel in shown.items() for name, width, height in _plot_sizes(panel)
                if width < 300 or height < 180]

    if too_small():  # a layout still settling on a busy machine: give it a moment more
        _settle(window, 0.5)
    for pid, panel in shown.items():
        assert panel.isVisible(), pid
    assert not too_small(), too_small()
    presentation.set(False)


@pytest.mark.parametrize("lab_id", LAB_IDS)
def test_panels_survive_a_burst_of_random_mouse_input(window, lab_id, qtbot):
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    first = stages.stages_of_lab(lab_id)[0]
    window.show_stage(first.stage_id)
    window.resize(1280, 720)
    QApplication.processEvents()
    rng = np.random.default_rng(7)
    views = [v for p in window.stage_host.visible_panels().values() for v in _plots(p)]
    assert views
    for view in views:
        view.scene().setMinDragTime(0) if hasattr(view.scene(), "setMinDragTime") else None
        vp = view.viewport()
        for _ in range(40):
            x, y = rng.uniform(5, vp.width() - 5), rng.uniform(5, vp.height() - 5)
            button = [Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton][rng.integers(2)]
            modifiers = Qt.KeyboardModifier.ShiftModifier if rng.random() < 0.2 \
                else Qt.KeyboardModifier.NoModifier
            pos = QPointF(x, y)
            for kind, buttons in ((QEvent.Type.MouseButtonPress, button),
                                  (QEvent.Type.MouseMove, button),
                                  (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton)):
                if kind == QEvent.Type.MouseMove:
                    pos = QPointF(min(vp.width() - 2, x + rng.uniform(-30, 30)),
                                  min(vp.height() - 2, max(2, y + rng.uniform(-30, 30))))
                ev = QMouseEvent(kind, pos, view.mapToGlobal(pos.toPoint()), button, buttons,
                                 modifiers)
                QApplication.sendEvent(vp, ev)
        QApplication.processEvents()
    state = window.lab_state
    json.dumps(state.report(), allow_nan=False)  # still finite and reportable
    window.toggle_play()
    for _ in range(5):
        window._on_frame()
    window.toggle_play()
    json.dumps(state.report(), allow_nan=False)
