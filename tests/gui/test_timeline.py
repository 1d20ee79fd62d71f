"""The timeline bar in the window: scrubbing moves what the panels show and nothing else; keys; continue and undo."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication


def _key(window, qtbot, key) -> None:
    window.activateWindow()
    window.setFocus()
    qtbot.keyClick(window, key)
    QApplication.processEvents()


def _fields(st) -> tuple:
    return (st.X.copy(), st.y.copy(), st.heldout.copy(), st.spec, st.training, st.features,
            st.trainer.w.copy(), float(st.trainer.b), int(st.trainer.steps))


def _assert_same(a: tuple, b: tuple) -> None:
    for x, y in zip(a, b):
        assert np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y


def _flush(window) -> None:
    QApplication.processEvents()
    window.timeline.refresh()
    for panel in window.panels.values():
        panel.flush()


@pytest.fixture
def trained(main_window):
    main_window.state.step(40)
    _flush(main_window)
    return main_window


def test_timeline_is_shown_on_the_workbench(trained):
    assert trained.timeline_toolbar.isVisible()
    bar = trained.timeline
    n = len(trained.state.trainer.history)
    assert bar.slider.maximum() == n - 1 and bar.slider.value() == n - 1
    assert bar.label.text().startswith("step 40")
    assert not bar.continue_button.isEnabled()


def test_dragging_the_slider_moves_the_panels_and_changes_no_field(trained):
    st = trained.state
    before = _fields(st)
    surface = trained.panels["surface"]
    curves = trained.panels["training_curves"]
    data = trained.panels["data"]
    marker_now = surface.marker.pos()
    image_now = np.array(data.image.image, copy=True) if data.image.image is not None else None
    trained.timeline.slider.setValue(3)
    _flush(trained)
    assert st.scrub_index == 3
    hist = st.trainer.history
    pos = surface.marker.pos()
    assert (pos.x(), pos.y()) == pytest.approx((hist.w[3][0], hist.w[3][1]))
    assert (pos.x(), pos.y()) != pytest.approx((marker_now.x(), marker_now.y()))
    xs, _ = surface.path.getData()
    assert len(xs) == 4
    # every plot on show has its cursor (a small dock shows the loss plot alone)
    shown = [line for line in curves.cursors if line.getViewBox().isVisible()]
    assert shown and all(line.isVisible() for line in shown)
    assert curves.cursors[0].value() == pytest.approx(float(hist.step[3]))
    if image_now is not None:
        assert not np.array_equal(np.asarray(data.image.image), image_now)
    assert trained.timeline.label.text().startswith(f"step {int(hist.step[3])}")
    assert trained.timeline.continue_button.isEnabled()
    _assert_same(before, _fields(st))


def test_keys_scrub_while_paused_and_s_still_steps(trained, qtbot):
    st = trained.state
    n = len(st.trainer.history)
    _key(trained, qtbot, Qt.Key.Key_Left)
    assert st.scrub_index == n - 2
    _key(trained, qtbot, Qt.Key.Key_Left)
    assert st.scrub_index == n - 3
    _key(trained, qtbot, Qt.Key.Key_Right)  # scrubbed: → moves the view, no step
    assert st.scrub_index == n - 2 and st.trainer.steps == 40
    _key(trained, qtbot, Qt.Key.Key_Home)
    assert st.scrub_index == 0
    _key(trained, qtbot, Qt.Key.Key_End)
    assert st.scrub_index is None and st.trainer.steps == 40
    _key(trained, qtbot, Qt.Key.Key_Right)  # at the present: → steps
    assert st.trainer.steps == 41
    _key(trained, qtbot, Qt.Key.Key_Home)
    _key(trained, qtbot, Qt.Key.Key_S)  # S steps from the present
    assert st.scrub_index is None and st.trainer.steps == 42


def test_focused_slider_takes_the_arrows(trained, qtbot):
    st = trained.state
    slider = trained.timeline.slider
    slider.setFocus()
    QApplication.processEvents()
    qtbot.keyClick(slider, Qt.Key.Key_Left)
    assert st.scrub_index == len(st.trainer.history) - 2
    qtbot.keyClick(slider, Qt.Key.Key_Right)
    assert st.scrub_index is None and st.trainer.steps == 40


def test_playing_resumes_from_the_present(trained, qtbot):
    st = trained.state
    trained.timeline.slider.setValue(2)
    _key(trained, qtbot, Qt.Key.Key_Space)
    assert st.running and st.scrub_index is None
    st.set_running(False)


def test_continue_from_here_truncates_and_undo_brings_the_history_back(trained, qtbot):
    st = trained.state
    hist_before = st.trainer.history.state_dict()
    trained.timeline.slider.setValue(10)
    step10 = int(st.trainer.history.step[10])
    qtbot.mouseClick(trained.timeline.continue_button, Qt.MouseButton.LeftButton)
    _flush(trained)
    assert st.trainer.steps == step10 and len(st.trainer.history) == 11
    assert trained.timeline.slider.maximum() == 10
    undo = trained.file_actions.undo.stack
    assert undo.undoText().startswith("Continue from step")
    undo.undo()
    assert st.trainer.steps == 40
    assert np.array_equal(st.trainer.history.w, hist_before["w"])
    undo.redo()
    assert st.trainer.steps == step10


def test_timeline_hidden_for_a_lesson_that_does_not_train(main_window):
    main_window.show_stage("surprise-bits")
    QApplication.processEvents()
    assert not main_window.timeline_shown()
    assert not main_window.timeline_toolbar.isVisible()
    main_window.show_stage("xor-product")
    QApplication.processEvents()
    assert main_window.timeline_toolbar.isVisible()


def test_timeline_race_bench_runs_a_few_frames_and_prints_one_json_line():
    """No timings checked (the machine may be busy): this only keeps the suite working."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from bceviz.bench import SUITES

    assert SUITES["timeline_race"] == "bceviz.bench.timeline_race:main"
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = str(repo) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "bceviz.bench", "timeline_race", "--quick", "--seconds", "0.5",
         "--frames", "40", "--moves", "3"],
        capture_output=True, text=True, cwd=repo, env=env, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, proc.stdout
    import json

    result = json.loads(lines[0])
    assert result["suite"] == "timeline_race"
    for key in ("scrub_median", "race_fps_surface", "race_fps_data", "race_rss_growth"):
        assert result["figures"][key]["target"] is not None, key
    assert result["figures"]["race_fps_surface"]["value"] > 0


def test_the_score_histogram_keeps_its_scale_while_scrubbed(trained):
    """Scrubbed, the histogram's height only grows (steps compare on one scale); at the
    present it may shrink again."""
    st = trained.state
    metrics = trained.panels["metrics"]
    st.step(200)
    _flush(trained)
    n = len(st.trainer.history)
    tops = []
    for index in (0, n // 2, n - 2, 1, n // 3):
        st.scrub_to(index)
        _flush(trained)
        tops.append(metrics.hist_plot.getViewBox().viewRange()[1][1])
    assert tops == sorted(tops)  # never lower than before while scrubbed
    # at step 0 every score is 0.5: one bin holds every point, the scale reaches the top
    st.scrub_to(0)
    _flush(trained)
    high = metrics.hist_plot.getViewBox().viewRange()[1][1]
    st.scrub_to(None)
    _flush(trained)
    present = metrics.hist_plot.getViewBox().viewRange()[1][1]
    shares = [item.getData()[1] for item in (metrics.hist_neg, metrics.hist_pos)]
    tallest = max(float(np.max(s)) for s in shares if len(s))
    assert tallest < 0.45 * high  # (trained: the scores spread over several bins)
    assert present < high  # back at the present it follows the bars again
