"""File and Edit menus in the real window: sessions, data, images, clipboard, code, persistence.

Message boxes and file dialogs are patched: a refused file must produce a
message that names the file and the problem, and leave the state unchanged.
Persistence tests keep settings and the autosave in a temporary folder
(``BCEVIZ_CONFIG_DIR`` and QStandardPaths' test mode), never the user's.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from bceviz.gui import file_actions, keys
from bceviz.gui import settings as gui_settings
from bceviz.model import datafiles, session
from bceviz.model.state import MAX_POINTS


@pytest.fixture
def messages(monkeypatch):
    """Every QMessageBox.warning as (title, text), instead of a blocking dialog."""
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda parent, title, text, *a, **k: shown.append((title, text)))
    return shown


@pytest.fixture
def save_dialog(monkeypatch):
    """Make QFileDialog.getSaveFileName answer with ``answer[0]`` (path, filter)."""
    answer = [("", "")]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: answer[0])
    return answer


def snapshot(state) -> dict:
    return {
        "X": state.X.copy(), "y": state.y.copy(), "heldout": state.heldout.copy(),
        "spec": state.spec, "training": state.training, "features": state.features,
        "w": state.trainer.w.copy(), "b": state.trainer.b, "steps": state.trainer.steps,
        "samples_p": state.samples_p.copy(), "samples_y": state.samples_y.copy(),
        "threshold": state.threshold, "scenario": state.scenario_id, "source": state.data_source,
    }


def assert_unchanged(before: dict, state) -> None:
    after = snapshot(state)
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(value, after[key]), key
        else:
            assert value == after[key], key


# --------------------------------------------------------------------------- menus
def test_file_menu_lists_every_action_above_quit(main_window):
    fa = main_window.file_actions
    texts = [a.text().replace("&", "") for a in main_window.file_menu.actions() if a.text()]
    assert texts == ["Open session…", "Save session…", "Restore last session", "Open data…",
                     "Open samples…", "Export data as CSV…", "Export image", "Copy image",
                     "Quit"]
    assert fa.act_open_session.shortcut().toString() == "Ctrl+O"
    assert fa.act_save_session.shortcut().toString() == "Ctrl+S"
    assert fa.act_copy_image.shortcut().toString() == "Ctrl+Shift+C"
    exported = set(fa.export_actions)
    assert exported == {"window", *main_window.docks}
    assert [a.text() for a in fa.scale_actions.values()] == ["Scale 1×", "Scale 2×", "Scale 3×"]


def test_keys_sheet_lists_every_shortcut(main_window):
    main_window.show_keys()
    dialog = main_window._keys_dialog
    text = dialog.browser.toPlainText()
    actions = [a for _, a in keys.menu_actions(main_window)] + main_window.actions()
    with_keys = [a for a in actions if a.shortcuts()]
    assert len(with_keys) >= 12
    for action in with_keys:
        for seq in action.shortcuts():
            assert seq.toString() in text, action.text()
    for needle in ("Ctrl+Z", "Ctrl+Y", "F11", "Esc", "Space", "Drag a point", "Shift-click",
                   "Undo the last point edit or setting change"):
        assert needle in text
    dialog.close()


# --------------------------------------------------------------------------- sessions
def test_session_save_then_open_restores_weights_data_and_layout(main_window, tmp_path):
    fa, state = main_window.file_actions, main_window.state
    state.set_spec(label_smoothing=0.1)
    state.step(25)
    main_window.docks["formula"].hide()
    saved = snapshot(state)
    path = tmp_path / "demo.bceviz.json"
    assert fa.save_session(path)
    assert json.loads(path.read_text())["layout"]

    state.generate(kind="moons", n=120, seed=3)
    state.reset_weights()
    state.set_spec(label_smoothing=0.0)
    main_window.docks["formula"].show()
    main_window.docks["samples"].hide()

    assert fa.open_session(path)
    QApplication.processEvents()
    assert_unchanged(saved, state)
    assert main_window.docks["formula"].isHidden()
    assert not main_window.docks["samples"].isHidden()
    assert "demo.bceviz.json" in main_window.status_label.text()


def test_session_menu_actions_use_the_file_dialogs(main_window, tmp_path, monkeypatch, save_dialog):
    fa, state = main_window.file_actions, main_window.state
    state.step(3)
    save_dialog[0] = (str(tmp_path / "from-menu"), file_actions.SESSION_FILTER)
    fa.act_save_session.trigger()
    written = tmp_path / ("from-menu" + session.SUFFIX)
    assert written.is_file()
    state.reset_weights()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(written), ""))
    fa.act_open_session.trigger()
    assert state.trainer.steps == 3


BAD_SESSIONS = {
    "malformed.json": ('{"format": "bceviz-session", "format_version": 1,', "line 1"),
    "future.json": ('{"format": "bceviz-session", "format_version": 99}', "newer"),
    "empty.json": ("", "empty"),
    "not-a-session.json": ('{"hello": 1}', "Session"),
}


def test_each_bad_session_shows_a_message_and_changes_nothing(main_window, tmp_path, messages):
    state = main_window.state
    state.step(4)
    before = snapshot(state)
    for name, (text, problem) in BAD_SESSIONS.items():
        path = tmp_path / name
        path.write_text(text)
        messages.clear()
        assert not main_window.file_actions.open_session(path)
        assert len(messages) == 1, name
        title, message = messages[0]
        assert title == "Cannot open the session"
        assert str(path) in message and problem in message, (name, message)
        assert_unchanged(before, state)


def test_a_session_with_a_bad_value_names_the_field(main_window, tmp_path, messages):
    good = tmp_path / "good.json"
    session.save_session(main_window.state, good)
    doc = json.loads(good.read_text())
    doc["data"]["y"][12] = 1.5
    bad = tmp_path / "bad-label.json"
    bad.write_text(json.dumps(doc))
    before = snapshot(main_window.state)
    assert not main_window.file_actions.open_session(bad)
    assert "data.y[12]" in messages[0][1] and "bad-label.json" in messages[0][1]
    assert_unchanged(before, main_window.state)


# --------------------------------------------------------------------------- data files
def test_open_data_replaces_the_points_and_export_reads_back(main_window, tmp_path):
    fa, state = main_window.file_actions, main_window.state
    src = tmp_path / "points.csv"
    src.write_text("# my points\nheight;weight;label\n1.5;2;1\n-0.5;0.25;0\n3;-1;0.7\n")
    assert fa.open_data(src)
    assert state.n_points == 3 and state.data_source == "points.csv"
    assert state.axes.names == ("height", "weight")
    assert np.array_equal(state.y, [1.0, 0.0, 0.7])
    out = tmp_path / "out.csv"
    assert fa.export_data(out)
    back = datafiles.read_points_csv(out)
    assert np.array_equal(back.X, state.X) and np.array_equal(back.y, state.y)
    assert back.feature_names == ("height", "weight")


BAD_CSV = {
    "text.csv": ("x1,x2,label\n1,2,1\n3,abc,0\n", "line 3, column 2"),
    "nan.csv": ("x1,x2,label\n1,nan,1\n", "line 2, column 2"),
    "inf.csv": ("1,2,1\n1,inf,0\n", "line 2, column 2"),
    "label.csv": ("x1,x2,label\n1,2,1\n3,4,1.5\n", "line 3, column 3"),
    "ragged.csv": ("1,2,1\n3,4,0\n5,6\n", "line 3"),
    "norows.csv": ("x1,x2,label\n# nothing\n", "no"),
    "twocols.csv": ("1,2\n3,4\n", "column"),
    "binary.csv": (b"\xff\xfe\x00\x01\x02garbage\x00", "binary.csv"),
}


def test_each_bad_csv_shows_a_message_naming_file_and_place(main_window, tmp_path, messages):
    before = snapshot(main_window.state)
    for name, (content, where) in BAD_CSV.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        messages.clear()
        assert not main_window.file_actions.open_data(path)
        assert len(messages) == 1, name
        title, message = messages[0]
        assert title == "Cannot open the data"
        assert name in message and where in message, (name, message)
        assert "Nothing was changed" in message
        assert_unchanged(before, main_window.state)


def test_a_missing_file_and_a_file_over_the_limit_are_refused(main_window, tmp_path, messages):
    state = main_window.state
    before = snapshot(state)
    assert not main_window.file_actions.open_data(tmp_path / "nope.csv")
    assert "nope.csv" in messages[-1][1]
    big = tmp_path / "big.csv"
    rows = np.column_stack([np.arange(MAX_POINTS + 1), np.zeros(MAX_POINTS + 1),
                            np.arange(MAX_POINTS + 1) % 2])
    np.savetxt(big, rows, fmt="%d", delimiter=",")
    assert not main_window.file_actions.open_data(big)
    assert "big.csv" in messages[-1][1] and "20,000" in messages[-1][1]
    assert_unchanged(before, state)


def test_a_large_file_loads_with_a_progress_dialog(main_window, tmp_path, monkeypatch):
    seen = []
    original = file_actions._Progress.__call__

    def spy(self, fraction):
        result = original(self, fraction)
        seen.append((fraction, self.dialog is not None))
        return result

    monkeypatch.setattr(file_actions._Progress, "__call__", spy)
    rng = np.random.default_rng(0)
    n = MAX_POINTS
    rows = np.column_stack([rng.normal(size=(n, 2)), rng.integers(0, 2, n)])
    path = tmp_path / "large.csv"
    np.savetxt(path, rows, fmt=["%.6f", "%.6f", "%d"], delimiter=",", header="a,b,label",
               comments="")
    assert main_window.file_actions.open_data(path)
    assert main_window.state.n_points == n
    assert any(shown for fraction, shown in seen if fraction < 1.0)
    assert seen[-1][0] == 1.0
    assert not main_window.findChildren(file_actions.QProgressDialog, "data_progress") or all(
        not d.isVisible() for d in main_window.findChildren(file_actions.QProgressDialog))


def test_open_samples(main_window, tmp_path, messages):
    fa, state = main_window.file_actions, main_window.state
    path = tmp_path / "pairs.csv"
    path.write_text("y,p\n1,0.9\n0,0.2\n1,0.35\n")
    assert fa.open_samples(path)
    assert np.array_equal(state.samples_p, [0.9, 0.2, 0.35])
    assert np.array_equal(state.samples_y, [1.0, 0.0, 1.0])
    bad = tmp_path / "bad-pairs.csv"
    bad.write_text("p,y\n0.5,1\n1.2,0\n")
    before = snapshot(state)
    assert not fa.open_samples(bad)
    assert "bad-pairs.csv" in messages[-1][1] and "line 3" in messages[-1][1]
    assert_unchanged(before, state)


# --------------------------------------------------------------------------- images
def test_export_menu_writes_png_at_the_chosen_scale_and_svg(main_window, tmp_path, save_dialog):
    fa = main_window.file_actions
    fa.scale_actions[3.0].trigger()
    assert fa.export_scale == 3.0
    png = tmp_path / "curve.png"
    save_dialog[0] = (str(png), file_actions.IMAGE_FILTERS["png"])
    fa.export_actions["loss_curve"].trigger()
    image = QImage(str(png))
    panel = main_window.panels["loss_curve"]
    assert not image.isNull()
    assert (image.width(), image.height()) == (3 * panel.width(), 3 * panel.height())

    svg = tmp_path / "window"  # no suffix: the chosen filter decides
    save_dialog[0] = (str(svg), file_actions.IMAGE_FILTERS["svg"])
    fa.export_actions["window"].trigger()
    renderer = QSvgRenderer(str(svg) + ".svg")
    assert renderer.isValid()
    assert renderer.defaultSize().width() == main_window.width()

    fa.scale_actions[1.0].trigger()
    assert fa.export_image("surface", tmp_path / "surface.png")
    assert QImage(str(tmp_path / "surface.png")).width() == main_window.panels["surface"].width()


def test_exporting_a_hidden_panel_says_so(main_window, tmp_path, messages):
    main_window.docks["formula"].hide()
    assert not main_window.file_actions.export_image("formula", tmp_path / "f.png")
    assert "hidden" in messages[0][1] and "Formula" in messages[0][1]
    assert not (tmp_path / "f.png").exists()


def test_export_to_a_missing_folder_names_the_file(main_window, tmp_path, messages):
    target = tmp_path / "no-such-folder" / "x.png"
    assert not main_window.file_actions.export_image("window", target)
    assert str(target) in messages[0][1]


def test_copy_image_puts_a_picture_on_the_clipboard(main_window):
    fa = main_window.file_actions
    fa.set_export_scale(2.0)
    QGuiApplication.clipboard().clear()
    fa.act_copy_image.trigger()
    image = QGuiApplication.clipboard().image()
    target = fa.copy_target()
    widget = main_window if target == "window" else main_window.panels[target]
    assert (image.width(), image.height()) == (2 * widget.width(), 2 * widget.height())
    assert fa.copy_image("data")
    image = QGuiApplication.clipboard().image()
    assert image.width() == 2 * main_window.panels["data"].width()


def test_copy_loss_as_code_dialog(main_window):
    fa, state = main_window.file_actions, main_window.state
    state.set_spec(pos_weight=3.0)
    fa.act_copy_code.trigger()
    dialog = fa.code_dialog
    assert dialog.isVisible()
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == \
        ["PyTorch", "Keras", "scikit-learn"]
    pytorch = dialog.editors["pytorch"].toPlainText()
    assert "BCEWithLogitsLoss(pos_weight=torch.tensor(3.0))" in pytorch
    state.set_spec(pos_weight=1.0, label_smoothing=0.1)  # follows the state while open
    dialog.tabs.setCurrentIndex(1)
    text = dialog.copy()
    assert "BinaryCrossentropy(from_logits=True, label_smoothing=0.1)" in text
    assert QGuiApplication.clipboard().text() == text
    dialog.close()


# --------------------------------------------------------------------------- persistence
@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    folder = tmp_path / "config"
    monkeypatch.setenv(gui_settings.ENV_DIR, str(folder))
    QStandardPaths.setTestModeEnabled(True)
    yield folder
    QStandardPaths.setTestModeEnabled(False)


def _window(qtbot, scenario="default"):
    from bceviz.app import _settle, create_window

    window = create_window(scenario)
    qtbot.addWidget(window)
    window.resize(1100, 760)
    window.show()
    qtbot.waitExposed(window)
    _settle(window, 0.05)
    return window


def test_quit_autosaves_and_the_next_start_restores(qtbot, config_dir):
    first = _window(qtbot, "xor-linear")
    first.file_actions.enable_persistence(restore_session=False)
    first.state.step(12)
    first.act_dark.setChecked(True)
    first.docks["formula"].hide()
    saved = snapshot(first.state)
    first.close()
    assert (config_dir / gui_settings.AUTOSAVE_NAME).is_file()
    assert (config_dir / "bceviz.ini").is_file()
    assert gui_settings.Preferences().dark

    second = _window(qtbot, "default")
    second.file_actions.enable_persistence(restore_session=True)
    QApplication.processEvents()
    assert_unchanged(saved, second.state)
    assert second.docks["formula"].isHidden()
    assert second.act_dark.isChecked()
    second.act_dark.setChecked(False)
    second.close()


def test_a_broken_autosave_starts_fresh_with_a_status_message(qtbot, config_dir, messages):
    config_dir.mkdir(parents=True)
    (config_dir / gui_settings.AUTOSAVE_NAME).write_text("{ not json")
    window = _window(qtbot, "default")
    before = snapshot(window.state)
    window.file_actions.enable_persistence(restore_session=True)
    assert not messages  # at start-up: the status bar, not a dialog
    assert gui_settings.AUTOSAVE_NAME in window.status_label.text()
    assert "starting fresh" in window.status_label.text()
    assert_unchanged(before, window.state)
    window.file_actions.prefs = None  # do not autosave over the broken file in this test
    window.close()


def test_restore_last_session_without_one_says_so(main_window, config_dir, messages):
    assert not main_window.file_actions.restore_last_session()
    assert messages and "No session" in messages[0][1]


def test_scripted_windows_never_touch_settings(main_window, tmp_path, monkeypatch):
    monkeypatch.setenv(gui_settings.ENV_DIR, str(tmp_path / "untouched"))
    main_window.close()
    assert not (tmp_path / "untouched").exists()
