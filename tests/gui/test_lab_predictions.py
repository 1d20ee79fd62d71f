"""The predictions lab's panels (pytest-qt, offscreen): they draw the state's figures, write back
through it, load files in a thread with progress and Cancel, compute large data off the GUI
thread (the newest request winning) and show text from files as plain text."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel

from bceviz.engine.losses import LossSpec, sigmoid
from bceviz.gui import theme as _theme
from bceviz.gui.labs import predictions as gp
from bceviz.gui.labs.predictions import (
    CONTROLS,
    PANELS,
    CalibrationPanel,
    LossesPanel,
    PredictionsControls,
    PullsPanel,
    RankingPanel,
    ScoringPanel,
    SharesPanel,
    ThresholdPanel,
    WorstPanel,
    worker_for,
)
from bceviz.model.labs.predictions import CHEAP_ROWS, PredictionsState


@pytest.fixture
def state():
    return PredictionsState()


def write_outputs(path, n: int, seed: int = 0, ids: bool = True) -> None:
    rng = np.random.default_rng(seed)
    true = rng.normal(0.0, 2.0, n)
    y = (rng.random(n) < sigmoid(true)).astype(int)
    split = np.array(["train", "validation", "test"])[rng.integers(0, 3, n)]
    head = "id,logit,label,split\n" if ids else "logit,label,split\n"
    rows = [(f"ex{i}," if ids else "") + f"{2 * z:.6f},{c},{s}\n"
            for i, (z, c, s) in enumerate(zip(true.tolist(), y.tolist(), split.tolist()))]
    path.write_text(head + "".join(rows), encoding="utf-8")


def wait_for(qtbot, controls, timeout=20_000) -> None:
    """Until the controls' loader has finished (the load object is then deleted)."""
    qtbot.waitUntil(lambda: controls.loader is None, timeout=timeout)
    qtbot.wait(20)


def test_the_lab_declares_its_panels_and_controls():
    assert set(PANELS) == {"losses", "shares", "worst", "calibration", "ranking", "threshold",
                           "pulls", "scoring"}
    assert CONTROLS is PredictionsControls
    assert all(cls.panel_id == pid for pid, cls in PANELS.items())


def test_the_panels_draw_the_states_figures(qtbot, show_panel, state):
    f = state.figures()
    losses = show_panel(LossesPanel, state)
    x, y = losses.pos.getData()
    np.testing.assert_allclose(y, np.sqrt(f.anatomy.hist_positive))
    assert "mean loss 0.0820 nats" in losses.summary.text()
    shares = show_panel(SharesPanel, state)
    _, ys = shares.curve.getData()
    np.testing.assert_allclose(ys, f.anatomy.curve.shares)
    assert "The worst 1 % (6 examples) carry 48.1 %" in shares.summary.text()
    worst = show_panel(WorstPanel, state)
    assert worst.model.rowCount() == len(f.anatomy.table)
    assert worst.model.item(0, 1).text() == str(f.anatomy.table[0].row)
    calib = show_panel(CalibrationPanel, state)
    xs, ys = calib.after.getData()
    np.testing.assert_allclose(ys, f.calibration.after.fraction_positive)
    assert "T = 0.953 fitted on validation (228)" in calib.summary.text()
    ranking = show_panel(RankingPanel, state)
    assert "AUC 0.9931" in ranking.summary.text()
    threshold = show_panel(ThresholdPanel, state)
    t = f.threshold
    assert threshold.cells["tp"].text() == f"TP {t.tp}" and threshold.cells["fn"].text() == \
        f"FN {t.fn}"
    assert "chosen on validation" in threshold.best.text()
    pulls = show_panel(PullsPanel, state)
    np.testing.assert_allclose(pulls.pos_setting.getData()[1], f.pulls.pull_positive_setting)
    scoring = show_panel(ScoringPanel, state)
    assert scoring.minima.data["y"][0] == pytest.approx(f.scoring.entropy)
    assert "scikit-learn 25.2" in scoring.caps.text()


def test_panels_write_back_through_the_state(qtbot, show_panel, state):
    threshold = show_panel(ThresholdPanel, state)
    threshold.slider.spin.setValue(0.3)
    assert state.settings.threshold == pytest.approx(0.3)
    threshold.flush()
    assert threshold.cells["tp"].text() == f"TP {state.figures().threshold.tp}"
    ranking = show_panel(RankingPanel, state)
    index = ranking.view_box.findData("pr")
    ranking.view_box.setCurrentIndex(index)
    ranking.view_box.activated.emit(index)
    assert state.settings.ranking == "pr"
    ranking.flush()
    assert "AP 0.992" in ranking.summary.text()
    scoring = show_panel(ScoringPanel, state)
    scoring.q.spin.setValue(0.4)
    assert state.settings.q == pytest.approx(0.4)
    # a refused gesture is a status, and nothing changes
    before = state.to_dict()
    assert not threshold._guard(state.update, threshold=5.0)
    assert state.status_level == "warning" and "threshold" in state.status_message
    assert state.to_dict() == before


def test_controls_drive_the_state_and_follow_it(qtbot, show_panel, state):
    controls = show_panel(PredictionsControls, state, size=(270, 900))
    controls.gamma.spin.setValue(2.0)
    assert state.settings.spec == LossSpec(focal_gamma=2.0)
    controls.alpha_on.setChecked(True)
    assert state.settings.spec.focal_alpha == pytest.approx(0.25)
    controls.alpha_on.setChecked(False)
    controls.pos_weight.spin.setValue(3.0)
    assert state.settings.spec == LossSpec(focal_gamma=2.0, pos_weight=3.0)
    for combo, value, field in ((controls.rule, "cost", "rule"), (controls.rows, "test", "rows"),
                                (controls.fit_on, "heldout", "fit_on")):
        i = combo.findData(value)
        combo.setCurrentIndex(i)
        combo.activated.emit(i)
        assert getattr(state.settings, field) == value
    controls.bins.setValue(15)
    assert state.settings.bins == 15
    i = controls.dataset.findData("breast_cancer_overconfident")
    controls.dataset.setCurrentIndex(i)
    controls.dataset.activated.emit(i)
    assert state.data.dataset == "breast_cancer_overconfident"
    state.apply_settings({"dataset": "breast_cancer_cv", "threshold": 0.2, "q": 0.3})
    controls.flush()
    assert controls.threshold.value() == pytest.approx(0.2)
    assert controls.dataset.currentData() == "breast_cancer_cv"
    assert controls.rule.currentData() == "f1" and controls.gamma.value() == 0.0
    assert not controls.cap.isEnabled()  # logits: no cap to choose


def test_every_control_has_a_tooltip(qtbot, show_panel, state):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QSlider

    widgets = [show_panel(PredictionsControls, state, size=(270, 900))]
    widgets += [show_panel(cls, state) for cls in PANELS.values()]
    for widget in widgets:
        for cls in (QAbstractButton, QAbstractSpinBox, QComboBox, QSlider):
            for child in widget.findChildren(cls):
                if child.objectName().startswith("qt_"):  # Qt's own parts (a table's corner)
                    continue
                assert child.toolTip(), (type(widget).__name__, cls.__name__, child.objectName())


def test_a_file_loads_in_a_thread_with_progress_and_the_window_stays_live(qtbot, show_panel,
                                                                         tmp_path, state,
                                                                         monkeypatch):
    import bceviz.model.prediction_files as pf

    monkeypatch.setattr(pf, "_CHUNK_CHARS", 100_000)  # about 17 chunks, so 17 progress reports
    report = gp._LoadProgress.report
    shown_midway = threading.Event()

    def slow_report(self, fraction):
        # A slow disk: past half-way the worker waits until the progress bar has shown a
        # value it reached (so the test holds whatever the machine's load).
        going_on = report(self, fraction)
        if fraction >= 0.5:
            shown_midway.wait(10.0)
        return going_on

    monkeypatch.setattr(gp._LoadProgress, "report", slow_report)
    path = tmp_path / "model.csv"
    write_outputs(path, 60_000)
    controls = show_panel(PredictionsControls, state, size=(270, 900))
    worst = show_panel(WorstPanel, state)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(5)
    values = []
    load = controls.load_file(str(path))
    load.progress.connect(values.append)
    load.progress.connect(lambda v: shown_midway.set() if 500 <= v < 1000 else None)
    assert controls.progress_row.isVisibleTo(controls) and not controls.open_button.isEnabled()
    wait_for(qtbot, controls)
    timer.stop()
    assert state.n == 60_000 and state.data.dataset == "file"
    assert state.source.path == str(path)
    assert "60,000 examples" in state.status_message
    assert not controls.progress_row.isVisibleTo(controls) and controls.open_button.isEnabled()
    assert values == sorted(values)
    # the event loop kept running while the file was read: the worker's progress (shown on
    # this thread) arrived before the data did, and the timer fired meanwhile
    assert shown_midway.is_set() and values and min(values) < 1000 and ticks
    # more rows than CHEAP_ROWS: the figures came from the worker
    assert state.n > CHEAP_ROWS
    assert worker_for(state).wait(20.0) and state.figures_current()
    worst.flush()
    assert worst.model.item(0, 2).text().startswith("ex")
    controls.flush()
    assert controls.dataset.currentText() == "File: model.csv"


def test_cancel_and_bad_files_change_nothing(qtbot, show_panel, tmp_path, state):
    controls = show_panel(PredictionsControls, state, size=(270, 900))
    before = state.to_dict()
    bad = tmp_path / "bad.csv"
    bad.write_text("logit,label\n1,0\n2,7\n", encoding="utf-8")
    assert controls.load_file(str(bad)) is not None
    wait_for(qtbot, controls)
    assert state.status_level == "error" and "line 3, column 2" in state.status_message
    assert "nothing changed" in state.status_message
    assert state.to_dict() == before
    big = tmp_path / "big.csv"
    write_outputs(big, 300_000)
    assert controls.load_file(str(big)) is not None
    assert controls.load_file(str(big)) is None  # one file at a time
    qtbot.mouseClick(controls.cancel_button, Qt.MouseButton.LeftButton)
    wait_for(qtbot, controls)
    assert "cancelled" in state.status_message and state.to_dict() == before
    assert controls.loader is None and controls.open_button.isEnabled()
    # a load still running when the app quits is cancelled and waited for
    assert controls.load_file(str(big)) is not None
    controls.stop_loading()
    assert controls.loader is None or controls.loader.done
    wait_for(qtbot, controls)
    assert state.to_dict() == before


def test_large_data_is_computed_off_the_gui_thread_and_the_newest_request_wins(qtbot, show_panel,
                                                                              tmp_path):
    state = PredictionsState()
    path = tmp_path / "big.csv"
    write_outputs(path, 120_000, ids=False)
    state.adopt(state.read_file(path), path)
    panels = [show_panel(cls, state, size=(420, 320)) for cls in PANELS.values()]
    worker = worker_for(state)
    assert worker.wait(20.0)
    started = worker.jobs_started
    for t in (0.2, 0.3, 0.4, 0.5, 0.6):  # a burst: at most one job runs, the rest coalesce
        state.update(threshold=t, focal_gamma=2 * t)
    assert worker.busy
    assert worker.wait(20.0)
    assert state.figures_current() and state.figures().threshold.threshold == pytest.approx(0.6)
    assert worker.jobs_started - started <= 3
    for panel in panels:
        panel.flush()
    threshold = next(p for p in panels if isinstance(p, ThresholdPanel))
    assert threshold.cells["tp"].text() == f"TP {state.figures().threshold.tp:,}"


def test_text_from_a_file_is_plain_text(qtbot, show_panel, tmp_path, state):
    path = tmp_path / "<b>model<i>.csv"
    path.write_text("id,logit,label\n<i>x</i>,-3,1\n<b>y</b>,2,0\nz,1,1\n", encoding="utf-8")
    state.load_data_file(path)
    worst = show_panel(WorstPanel, state)
    ids = {worst.model.item(r, 2).text() for r in range(worst.model.rowCount())}
    assert {"<i>x</i>", "<b>y</b>"} <= ids
    controls = show_panel(PredictionsControls, state, size=(270, 900))
    assert controls.dataset.currentText() == "File: <b>model<i>.csv"
    for widget in (controls, worst):
        for label in widget.findChildren(QLabel):
            if "<" in label.text():
                assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName()


def test_export_writes_the_worst_examples(qtbot, show_panel, tmp_path, state):
    worst = show_panel(WorstPanel, state)
    out = tmp_path / "worst.csv"
    assert worst.export(str(out), 20)
    assert len(out.read_text(encoding="utf-8").splitlines()) == 21
    assert "Exported the 20 worst" in state.status_message
    assert not worst.export(str(tmp_path / "missing" / "dir" / "w.csv"))
    assert state.status_level == "error"


def test_presentation_mode_keeps_the_plots_and_steps_notes_aside(qtbot, show_panel, state):
    manager = _theme.manager()
    panel = show_panel(LossesPanel, state, size=(520, 300))
    try:
        manager.set_presentation(True)
        qtbot.wait(10)
        panel.resize(520, 300)
        qtbot.wait(10)
        assert panel.plot_widget.height() >= 170
        assert not panel.legend.isVisible()
        panel.resize(520, 800)
        qtbot.wait(10)
        assert panel.legend.isVisible() and panel.summary.isVisible()
    finally:
        manager.set_presentation(False)
