"""Reliability of the window (issue 21): hostile names and files never crash, hang or lose work.

Every hostile file is generated here. The window under test is the real main
window on the default scenario (the ``main_window`` fixture) unless a test
needs its own.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from bceviz.gui import settings as gui_settings
from bceviz.model import atomic, session
from bceviz.model.state import DataAxes


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    """Settings and the autosave in a temporary folder, never the user's."""
    folder = tmp_path / "config"
    monkeypatch.setenv(gui_settings.ENV_DIR, str(folder))
    QStandardPaths.setTestModeEnabled(True)
    yield folder
    QStandardPaths.setTestModeEnabled(False)


def error_boxes() -> list:
    """The error boxes bceviz.gui.safety.report_error has open."""
    return [w for w in QApplication.topLevelWidgets()
            if w.objectName() == "bceviz_error" and w.isVisible()]


@pytest.fixture
def no_error_boxes():
    """Fail if a test leaves an error box open (an error that should not have happened)."""
    yield
    boxes = error_boxes()
    texts = [b.text() for b in boxes]
    for box in boxes:
        box.close()
    assert texts == []


def _window(qtbot, scenario="default"):
    from bceviz.app import _settle, create_window

    window = create_window(scenario)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    _settle(window, 0.05)
    return window


# ----------------------------------------------------------------------------
# 6. --screenshot writes through the atomic writer


def test_a_failed_screenshot_keeps_the_old_png(main_window, tmp_path, monkeypatch):
    from bceviz.app import save_screenshot

    target = tmp_path / "shot.png"
    save_screenshot(main_window, str(target))
    old = target.read_bytes()
    assert QImage(str(target)).width() >= 1280

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        save_screenshot(main_window, str(target))
    assert target.read_bytes() == old
    assert os.listdir(tmp_path) == ["shot.png"]


# ----------------------------------------------------------------------------
# 1. Lone surrogates: saved, shown and reloaded; no error escapes a Qt callback

LATIN1_SOURCE = "caf\udce9.csv"  # os.fsdecode(b"caf\xe9.csv")


def _hostile_names(state) -> None:
    state.set_data(np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]), np.array([0.0, 1.0, 1.0]),
                   source=LATIN1_SOURCE, axes=DataAxes(names=("r\udcb5", "x2")))


def test_file_save_with_a_latin1_source_saves_and_reloads(main_window, tmp_path,
                                                          no_error_boxes):
    """Before: File > Save raised UnicodeEncodeError."""
    _hostile_names(main_window.state)
    path = tmp_path / "s.bceviz.json"
    assert main_window.file_actions.save_session(path)
    assert session.load_session(path).data_source == LATIN1_SOURCE
    main_window.state.generate(n=50)
    assert main_window.file_actions.open_session(path)
    assert main_window.state.data_source == LATIN1_SOURCE
    main_window.panels["controls"].flush()
    label = main_window.panels["controls"].source_label
    assert "caf\ufffd.csv" in label.text()  # shown with a replacement character


def test_quit_with_a_latin1_source_autosaves(qtbot, config_dir, no_error_boxes):
    window = _window(qtbot)
    window.file_actions.enable_persistence(restore_session=False)
    _hostile_names(window.state)
    window.close()
    assert session.load_session(config_dir / gui_settings.AUTOSAVE_NAME).data_source \
        == LATIN1_SOURCE


@pytest.mark.qt_no_exception_capture  # the error is deliberate: it is reported, not raised
def test_autosave_catches_everything_and_says_so(qtbot, config_dir, monkeypatch, capsys):
    """Before: only OSError/SessionError were caught; the rest escaped the close event."""
    window = _window(qtbot)
    window.file_actions.enable_persistence(restore_session=False)

    def broken(*args, **kwargs):
        raise UnicodeEncodeError("utf-8", "caf\udce9", 3, 4, "surrogates not allowed")

    monkeypatch.setattr(session, "save_session", broken)
    window.close()  # pytest-qt fails the test if anything escapes a Qt virtual
    assert not window.isVisible()
    boxes = error_boxes()
    assert len(boxes) == 1 and "not autosaved" in boxes[0].text()
    boxes[0].close()
    assert "UnicodeEncodeError" in capsys.readouterr().err


@pytest.mark.qt_no_exception_capture  # the error is deliberate: it is reported, not raised
def test_an_error_in_the_close_filter_is_reported_and_the_window_closes(qtbot, monkeypatch):
    window = _window(qtbot)

    def broken():
        raise RuntimeError("boom while quitting")

    monkeypatch.setattr(window.file_actions, "save_on_quit", broken)
    window.close()
    assert not window.isVisible()
    boxes = error_boxes()
    assert len(boxes) == 1 and "boom while quitting" in boxes[0].text()
    boxes[0].close()


# ----------------------------------------------------------------------------
# 8. Numbers beyond a widget's range never raise in a refresh


def test_controls_show_settings_beyond_their_spin_boxes(show_panel, no_error_boxes):
    """Before: a batch size or seed of 2**40 raised OverflowError in every refresh."""
    from bceviz.gui.panels.controls import ControlsPanel
    from bceviz.model.state import AppState

    state = AppState()
    panel = show_panel(ControlsPanel, state, size=(300, 760))
    state.set_training(optimizer="sgd", batch_size=2**40)
    state.generate(seed=2**31 - 1)
    panel.flush()
    assert panel.batch_size.value() == panel.batch_size.maximum()
    assert panel.seed.value() == 2**31 - 1  # any seed a session may hold is shown as it is


# ----------------------------------------------------------------------------
# 3. Text from a file, a file name or a session is shown as plain text

#: 60 nested tables: as HTML, each level doubles the layout time (14 levels take a second).
HOSTILE = "<table><tr><td>" * 60 + "x"

_HOSTILE_SCRIPT = r'''
import json, sys
from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QApplication, QLabel, QWidget
import pyqtgraph as pg
from bceviz.app import _qapp, _settle, create_window

hostile = sys.argv[2]
app = _qapp([])
window = create_window()
window.resize(1280, 800)
window.show()
assert window.file_actions.open_session(sys.argv[1]), window.status_label.text()
window.present("workbench")
_settle(window, 0.3)
for panel in window.panels.values():
    panel.flush()
_settle(window, 0.3)
window.grab()  # lays out and paints everything on screen

problems, literal = [], 0
for widget in [window, *window.findChildren(QWidget)]:
    texts = []
    if isinstance(widget, QLabel):
        texts.append(("text", widget.text(), widget.textFormat()))
    texts.append(("tooltip", widget.toolTip(), Qt.TextFormat.AutoText))
    for kind, text, fmt in texts:
        if "<table>" not in text:
            continue
        rich = fmt == Qt.TextFormat.RichText or (
            fmt == Qt.TextFormat.AutoText and GuiQt.mightBeRichText(text))
        if rich:
            problems.append(f"{widget.objectName() or type(widget).__name__} {kind}")
        else:
            literal += 1
for view in window.findChildren(pg.GraphicsView):
    for item in view.scene().items():
        if isinstance(item, pg.LabelItem) and "<table>" in item.text:
            problems.append(f"pyqtgraph label {item.text[:40]!r}")
controls = window.panels["controls"].source_label
print(json.dumps({"problems": problems, "literal": literal, "controls": controls.text(),
                  "status": window.status_label.text()}))
window.close()
'''


def test_a_hostile_session_opens_quickly_and_shows_its_text_literally(tmp_path):
    """Before: data.source of 60 nested <table>s in the controls' rich-text label never
    returned (2.2 GB). A subprocess with a timeout: a regression fails, never hangs CI."""
    import json
    import subprocess
    import sys

    from bceviz.model.state import AppState

    state = AppState()
    state.set_data(np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]), np.array([0.0, 1.0, 1.0]),
                   source=HOSTILE[:1000],
                   axes=DataAxes(names=(HOSTILE[:1000], "<b>x2</b>" * 40), standardized=True,
                                 mean=(1.0, 2.0), std=(1.0, 1.0), label_name=HOSTILE[:1000]))
    state.scenario_title = HOSTILE[:1000]
    state.caption = HOSTILE
    path = tmp_path / "hostile.bceviz.json"
    session.save_session(state, path)
    script = tmp_path / "hostile.py"
    script.write_text(_HOSTILE_SCRIPT)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, str(script), str(path), HOSTILE], env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["problems"] == []
    assert result["literal"] >= 3  # the controls, the imbalance panel, the metrics headers
    assert HOSTILE[:1000].rsplit("/", 1)[-1][:200] in result["controls"]


def test_message_boxes_show_file_text_literally(main_window, tmp_path, monkeypatch):
    """A refused file's message quotes its name and cells: never rendered as HTML."""
    from PySide6.QtGui import Qt as GuiQt
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: shown.append(text))
    bad = tmp_path / ("<table><tr><td>" * 16 + ".csv")  # a legal 244-byte name
    bad.write_text('a,b,label\n0,1,0\n"<table><tr><td><table>",2,1\n')
    assert not main_window.file_actions.open_data(bad)
    assert shown and "<table>" not in shown[0] and "&lt;table&gt;" in shown[0]
    assert GuiQt.mightBeRichText(shown[0])  # escaped into a paragraph that shows the text
    shown.clear()
    main_window.file_actions._error("t", "plain message, no markup")
    assert shown == ["plain message, no markup"]  # plain text stays exactly as it is


# ----------------------------------------------------------------------------
# 5. An autosave this version cannot open is kept, never overwritten


def _newer_autosave(config_dir) -> bytes:
    from bceviz.model.state import AppState

    doc = session.session_to_dict(AppState())
    doc["format_version"] = 99  # from a newer bceviz
    raw = json.dumps(doc).encode()
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / gui_settings.AUTOSAVE_NAME).write_bytes(raw)
    return raw


def _kept(config_dir) -> list:
    return sorted(config_dir.glob("last-session.unreadable-*.json"))


def test_quit_keeps_an_autosave_from_a_newer_version(qtbot, config_dir):
    """Before: started with --scenario, the quit replaced it with the default state."""
    raw = _newer_autosave(config_dir)
    window = _window(qtbot)
    window.file_actions.enable_persistence(restore_session=False)
    window.close()
    kept = _kept(config_dir)
    assert len(kept) == 1 and kept[0].read_bytes() == raw
    assert session.load_session(config_dir / gui_settings.AUTOSAVE_NAME).format_version \
        == session.FORMAT_VERSION
    boxes = error_boxes()
    assert len(boxes) == 1 and kept[0].name in boxes[0].text()
    boxes[0].close()


def test_a_failed_restore_sets_the_file_aside_and_says_where(qtbot, config_dir,
                                                            no_error_boxes):
    raw = _newer_autosave(config_dir)
    window = _window(qtbot)
    window.file_actions.enable_persistence(restore_session=True)
    status = window.status_label.text()
    kept = _kept(config_dir)
    assert len(kept) == 1 and kept[0].read_bytes() == raw
    assert "newer bceviz" in status and kept[0].name in status
    window.close()
    assert kept[0].read_bytes() == raw  # the quit wrote a new autosave, beside it
    assert (config_dir / gui_settings.AUTOSAVE_NAME).is_file()


def test_an_unreadable_autosave_that_cannot_be_moved_is_not_overwritten(qtbot, config_dir,
                                                                       monkeypatch):
    raw = _newer_autosave(config_dir)
    window = _window(qtbot)
    window.file_actions.enable_persistence(restore_session=False)

    def no_rename(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(session.os, "rename", no_rename)
    assert window.file_actions.autosave() is None
    assert (config_dir / gui_settings.AUTOSAVE_NAME).read_bytes() == raw
    boxes = error_boxes()
    assert len(boxes) == 1 and "not overwritten" in boxes[0].text()
    boxes[0].close()
    window.file_actions.prefs = None  # the close must not try again in this test
    window.close()


# ----------------------------------------------------------------------------
# 2. Lifetime: no exception leaves a panel's Qt override; no plot is orphaned


@pytest.mark.qt_no_exception_capture  # the error is deliberate: it is reported, not raised
def test_an_error_in_a_panels_resize_is_reported_not_left_to_shiboken(qtbot, capfd):
    """The monkey's segfault: a stale cache raised in a panel's resizeEvent during a dock's
    animation (a Python override inside Panel.event); PySide6 crashed reporting it."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDockWidget, QMainWindow

    from bceviz.gui.panels.base import Panel
    from bceviz.model.state import AppState

    class StaleCache(Panel):
        panel_id = "stale"

        def refresh(self):
            pass

        def resizeEvent(self, event):  # noqa: N802
            super().resizeEvent(event)
            raise IndexError("boolean index did not match indexed array")

    window = QMainWindow()
    qtbot.addWidget(window)
    dock = QDockWidget("stale", window)
    dock.setWidget(StaleCache(AppState()))
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    window.resize(800, 600)
    window.show()
    qtbot.waitExposed(window)
    for width in (700, 900, 640):
        window.resize(width, 600)
        dock.hide()
        QApplication.processEvents()
        dock.show()
        QApplication.processEvents()
    err = capfd.readouterr().err
    assert "Error calling Python override" not in err  # nothing reached shiboken
    assert "IndexError" in err  # reported, with its traceback
    boxes = error_boxes()
    assert len(boxes) == 1 and "boolean index" in boxes[0].text()
    boxes[0].close()


def test_plots_not_shown_stay_in_the_scene(main_window, no_error_boxes):
    """Before: a plot taken out of a layout left its scene and had no parent; PySide then
    deleted it at exit, after Python had begun to shut down (SIGSEGV after quitting)."""
    import shiboken6

    curves = main_window.panels["training_curves"]
    metrics = main_window.panels["metrics"]
    for view_change in ({"curves": "loss", "metrics_plot": "roc"},
                        {"curves": "all", "metrics_plot": "all"},
                        {"curves": "grad_norm", "metrics_plot": "pr"}):
        main_window.state.set_view(**view_change)
        for panel in (curves, metrics):
            panel._dirty = True
            panel.flush()
        QApplication.processEvents()
        for panel in (curves, metrics):
            for plot in panel.plots:
                assert plot.scene() is panel.graphics.scene()
                assert plot.parentItem() is panel.graphics.ci
                assert not shiboken6.ownedByPython(plot)
    assert sum(p.isVisible() for p in curves.plots) == 1
    assert sum(p.isVisible() for p in metrics.plots) == 1


# ----------------------------------------------------------------------------
# Soak: a point dragged continuously while training does not grow memory


def test_a_long_drag_while_training_keeps_no_garbage(main_window, no_error_boxes):
    """Before: every mouse move pushed an undo command that QUndoStack merged and deleted,
    and PySide kept each deleted Python command alive (~4 MB a minute of dragging)."""
    import gc
    import math
    import tracemalloc

    from PySide6.QtCore import QPointF

    from bceviz.bench import gui as bench
    from bceviz.gui import undo

    window = main_window
    window.state.set_running(True)
    window.train_timer.stop()
    mouse = bench._Mouse(window)
    import pyqtgraph as pg

    pg.setConfigOption("mouseRateLimit", -1)
    mouse.view.scene().minDragTime = 0
    _, start = bench._point_on_screen(window, np.random.default_rng(3))
    gc.collect()
    alive_before = sum(isinstance(o, undo._Command) for o in gc.get_objects())
    mouse.press(start)

    def drag(moves: int, first: int) -> None:
        for k in range(first, first + moves):
            angle = 2 * math.pi * k / 40.0
            mouse.move(QPointF(start.x() + 4 + 10 * math.cos(angle),
                               start.y() + 10 * math.sin(angle)))
            if k % 3 == 0:
                window._on_frame()
                QApplication.processEvents()

    drag(30, 0)
    gc.collect()
    tracemalloc.start(5)
    before = tracemalloc.take_snapshot()
    drag(120, 30)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    mouse.release(start)
    QApplication.processEvents()
    window.state.set_running(False)
    gc.collect()
    made = sum(isinstance(o, undo._Command) for o in gc.get_objects()) - alive_before
    assert made <= 1, f"{made} undo commands alive after one drag"
    assert window.file_actions.undo.stack.count() == 1
    grown = [(s.size_diff, str(s.traceback)) for s in after.compare_to(before, "lineno")
             if "bceviz" in str(s.traceback) and s.size_diff > 0]
    undo_growth = sum(size for size, where in grown if "undo.py" in where)
    assert undo_growth < 5_000, f"undo records grew {undo_growth:,} bytes over 120 moves"
