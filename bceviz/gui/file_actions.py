"""The File and Edit menus: sessions, data files, image export, clipboard, undo, copy-as-code.

``install(window)`` adds to a MainWindow:

* File ▸ Open session… (Ctrl+O), Save session… (Ctrl+S), Restore last session;
  Open data… (two features and a label), Open samples… ((p, y) pairs for the
  samples panel), Export data as CSV…; Export ▸ scale 1×/2×/3×, the window or
  any panel as PNG or SVG; Copy image (Ctrl+Shift+C);
* Edit ▸ Undo (Ctrl+Z), Redo (Ctrl+Shift+Z or Ctrl+Y) through an
  :class:`~bceviz.gui.undo.UndoController`; Copy loss as code…;
* presentation mode (F11 / Esc, :mod:`bceviz.gui.presentation`) and the
  window-wide shortcuts (:func:`bceviz.gui.keys.bind_shortcuts`).

Every action is a method that takes an explicit path (scripts and tests pass
one; the menu asks with a file dialog) and returns whether it did anything.
A refused file is reported in a message box that names the file and the
problem (line and column for data files), and the state is left exactly as
it was: the readers validate everything before the state is touched.

Persistence (preferences, window layout, autosave on quit, restoring the
last session) is off until :meth:`FileActions.enable_persistence` is called,
which the ``bceviz`` command does for an interactive window: tests and
scripted windows never read or write the user's settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional, Union

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QCursor, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressDialog,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from bceviz.gui import export as _export
from bceviz.gui import keys as _keys
from bceviz.gui import safety as _safety
from bceviz.gui import settings as _settings
from bceviz.gui.presentation import PresentationMode
from bceviz.gui.undo import UndoController
from bceviz.model import codegen, datafiles, session
from bceviz.model.state import StateError

PathLike = Union[str, "os.PathLike[str]"]
SESSION_FILTER = "bceviz sessions (*.bceviz.json *.json);;All files (*)"
CSV_FILTER = "CSV files (*.csv *.tsv *.txt);;All files (*)"
IMAGE_FILTERS = {"png": "PNG image (*.png)", "svg": "SVG drawing (*.svg)"}


def _plain(text: str) -> str:
    return text.replace("&", "")


class FileActions(QObject):
    """The File/Edit menu logic of one main window (see the module docstring)."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.state = window.state
        self.undo = UndoController(self.state, self)
        self.presentation = PresentationMode(window)
        self.export_scale = 2.0
        self.last_dir = ""
        self.prefs: Optional[_settings.Preferences] = None
        self.code_dialog: Optional[CodeDialog] = None
        self._build_menus()
        _keys.bind_shortcuts(window)
        window.installEventFilter(self)

    # ------------------------------------------------------------------ menus
    def _act(self, menu: QMenu, text: str, slot: Callable[[], object], shortcuts=(),
             tip: str = "", before: Optional[QAction] = None) -> QAction:
        action = QAction(text, self.window)
        if shortcuts:
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda: slot())
        if before is not None:
            menu.insertAction(before, action)
        else:
            menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        w = self.window
        mb = w.menuBar()
        file_menu = getattr(w, "file_menu", None) or mb.addMenu("&File")
        existing = file_menu.actions()
        quit_action = existing[0] if existing else None  # our actions go above Quit

        def add(text, slot, shortcuts=(), tip=""):
            return self._act(file_menu, text, slot, shortcuts, tip, before=quit_action)

        def separator():
            if quit_action is not None:
                file_menu.insertSeparator(quit_action)
            else:
                file_menu.addSeparator()

        self.act_open_session = add("&Open session…", self.open_session, ["Ctrl+O"],
                                    "Open a saved session: data, settings, weights, history, "
                                    "layout")
        self.act_save_session = add("&Save session…", self.save_session, ["Ctrl+S"],
                                    "Save everything (data, settings, weights, history, layout)")
        self.act_restore = add("&Restore last session", self.restore_last_session,
                               tip="Open the session saved automatically when bceviz last closed")
        separator()
        self.act_open_data = add("Open &data…", self.open_data,
                                 tip="Points from a CSV file: two feature columns and a label "
                                     "in [0, 1]")
        self.act_open_samples = add("Open sa&mples…", self.open_samples,
                                    tip="(p, y) pairs from a CSV file for the samples panel")
        self.act_export_data = add("&Export data as CSV…", self.export_data,
                                   tip="Write the current points and labels as CSV")
        separator()

        export_menu = QMenu("Export &image", w)
        export_menu.setObjectName("export_menu")
        if quit_action is not None:
            file_menu.insertMenu(quit_action, export_menu)
        else:
            file_menu.addMenu(export_menu)
        self.export_menu = export_menu
        scales = QActionGroup(self)
        self.scale_actions: dict[float, QAction] = {}
        for scale in _settings.EXPORT_SCALES:
            act = QAction(f"Scale {scale:g}×", w)
            act.setCheckable(True)
            act.setStatusTip(f"PNG exports and copies at {scale:g} × the size on screen")
            act.toggled.connect(lambda on, s=scale: on and self.set_export_scale(s))
            scales.addAction(act)
            export_menu.addAction(act)
            self.scale_actions[scale] = act
        self.scale_actions[self.export_scale].setChecked(True)
        export_menu.addSeparator()
        self.export_actions: dict[str, QAction] = {}
        self.export_actions["window"] = self._act(
            export_menu, "&Window…", lambda: self.export_image("window"),
            tip="The whole window as PNG or SVG")
        for pid, dock in getattr(w, "docks", {}).items():
            self.export_actions[pid] = self._act(
                export_menu, f"{dock.windowTitle()} panel…",
                lambda pid=pid: self.export_image(pid),
                tip=f"The {dock.windowTitle()} panel as PNG or SVG")
        self.act_copy_image = add("&Copy image", self.copy_image, ["Ctrl+Shift+C"],
                                  "Copy the panel under the mouse (or the whole window) as an "
                                  "image")
        separator()

        edit_menu = QMenu("&Edit", w)
        scenario_menu = getattr(w, "stage_menu", None)
        anchor = next((a for a in mb.actions() if a.menu() is scenario_menu), None) \
            if scenario_menu is not None else None
        if anchor is not None:
            mb.insertMenu(anchor, edit_menu)
        else:
            mb.addMenu(edit_menu)
        self.edit_menu = edit_menu
        stack = self.undo.stack
        self.act_undo = stack.createUndoAction(w, "&Undo")
        self.act_undo.setShortcuts([QKeySequence("Ctrl+Z")])
        self.act_undo.setData("Undo the last point edit or setting change")  # for Help ▸ Keys
        self.act_redo = stack.createRedoAction(w, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.act_redo.setData("Redo what was undone")
        for act in (self.act_undo, self.act_redo):
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            edit_menu.addAction(act)
        edit_menu.addSeparator()
        self.act_copy_code = self._act(edit_menu, "Copy loss as &code…", self.show_code_dialog,
                                       tip="The current loss settings as PyTorch, Keras and "
                                           "scikit-learn code")

    # ------------------------------------------------------------- messages
    def _error(self, title: str, message: str) -> None:
        # The message names files and quotes their cells: shown literally, never as HTML.
        QMessageBox.warning(self.window, title, _safety.literal(message))

    def _status(self, message: str, level: str = "info") -> None:
        self.state.set_status(message, level)

    def _ask_open(self, title: str, filters: str) -> Optional[str]:
        path, _ = QFileDialog.getOpenFileName(self.window, title, self.last_dir, filters)
        return path or None

    def _ask_save(self, title: str, default_name: str, filters: str) -> tuple[Optional[str], str]:
        start = os.path.join(self.last_dir, default_name) if self.last_dir else default_name
        path, chosen = QFileDialog.getSaveFileName(self.window, title, start, filters)
        return (path or None), chosen

    def _remember_dir(self, path: PathLike) -> None:
        self.last_dir = str(Path(path).resolve().parent)
        if self.prefs is not None:
            self.prefs.last_dir = self.last_dir

    # -------------------------------------------------------------- sessions
    def layout_text(self) -> str:
        return session.encode_layout(bytes(self.window.saveState(_settings.LAYOUT_VERSION)))

    def save_session(self, path: Optional[PathLike] = None) -> bool:
        """Write the whole state and the window layout as a session file (atomically)."""
        if path is None:
            name = Path(self.prefs.last_session).name if self.prefs and self.prefs.last_session \
                else "session" + session.SUFFIX
            path, _ = self._ask_save("Save session", name, SESSION_FILTER)
            if path is None:
                return False
            if not str(path).lower().endswith(".json"):
                path = str(path) + session.SUFFIX
        try:
            session.save_session(self.state, path, layout=self.layout_text())
        except session.SessionError as exc:
            self._error("Cannot save the session", str(exc))
            return False
        self._remember_dir(path)
        if self.prefs is not None:
            self.prefs.last_session = str(Path(path).resolve())
        self._status(f"Session saved to {Path(path).name}")
        return True

    def open_session(self, path: Optional[PathLike] = None, *, quiet: bool = False) -> bool:
        """Load a session file: state, then layout. A bad file changes nothing and says why.

        ``quiet`` reports a failure in the status bar instead of a message box
        (the automatic restore at start-up).
        """
        if path is None:
            path = self._ask_open("Open session", SESSION_FILTER)
            if path is None:
                return False
        try:
            data = session.load_session(path)
            session.apply_session(self.state, data)
        except session.SessionError as exc:
            if quiet:
                self._status(f"{exc} — starting fresh", "error")
            else:
                self._error("Cannot open the session", str(exc))
            return False
        self.restore_layout(data.layout_bytes())
        self._remember_dir(path)
        if self.prefs is not None and not quiet:
            self.prefs.last_session = str(Path(path).resolve())
        return True

    def restore_layout(self, layout: Optional[bytes]) -> bool:
        """Put the docks where a session had them (False when the layout does not fit)."""
        if not layout:
            return False
        if self.presentation.active:
            self.presentation.set(False)
        ok = self.window.restoreState(QByteArray(layout), _settings.LAYOUT_VERSION)
        if not ok:
            self._status("The session's window layout does not fit this version; "
                         "the panels keep their places", "warning")
        return ok

    def restore_last_session(self, *, quiet: bool = False) -> bool:
        """Open the session autosaved on the last quit (File ▸ Restore last session)."""
        path = _settings.autosave_path()
        if not path.is_file():
            if not quiet:
                self._error("No last session",
                            f"No session has been saved on quit yet ({path} does not exist).")
            return False
        ok = self.open_session(path, quiet=quiet)
        if not ok:
            self._keep_unreadable(path)
        if ok and quiet:  # at start-up: say so where people look, with a way out
            note = getattr(self.window, "note_restored_session", None)
            if note is not None:
                note()
        return ok

    def _keep_unreadable(self, path: Path) -> Optional[str]:
        """An autosave this version cannot open is renamed, never overwritten; say where."""
        kept = session.set_aside_unreadable(path)
        if kept is not None:
            note = (f"The last session {path.name} could not be opened by this version; it is "
                    f"kept as {Path(kept).name} in {path.parent}")
            previous = self.state.status_message
            self._status(f"{previous} ({note})" if previous else note, "warning")
        return kept

    def autosave(self) -> Optional[Path]:
        """Save the session to the autosave file; any failure is reported, never raised.

        A file already there that this version cannot open (written by a newer
        bceviz, say) is renamed aside first and the user told where; if it can
        be neither opened nor renamed, nothing is written over it.
        """
        path = _settings.autosave_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            kept = session.set_aside_unreadable(path)
            if kept is not None:
                _safety.report_error(
                    RuntimeError("unreadable autosave kept"), "autosaving the session",
                    trace=False, message=f"The earlier autosave {path} could not be opened by "
                    f"this version of bceviz, so it was not overwritten: it is kept as {kept}.")
            session.save_session(self.state, path, layout=self.layout_text())
        except Exception as exc:  # noqa: BLE001 - at quit nothing may escape (safety module)
            _safety.report_error(exc, "autosaving the session",
                                 trace=not isinstance(exc, (OSError, session.SessionError)),
                                 message=f"The session was not autosaved: {exc}")
            return None
        return path

    # ------------------------------------------------------------ data files
    def open_data(self, path: Optional[PathLike] = None) -> bool:
        """Replace the points with a CSV file (two features and a label column)."""
        if path is None:
            path = self._ask_open("Open data (two features and a label)", CSV_FILTER)
            if path is None:
                return False
        with _Progress(self.window, f"Reading {Path(path).name}…") as progress:
            try:
                self.state.load_points_file(path, progress=progress)
            except datafiles.DataFileError as exc:
                if progress.cancelled:
                    self._status(f"Loading {Path(path).name} cancelled; nothing changed")
                else:
                    self._error("Cannot open the data", f"{exc}\n\n(file: {exc.path})\n\n"
                                "Nothing was changed.")
                return False
            except StateError as exc:
                self._error("Cannot use the data", f"{Path(path).name}: {exc}\n\n(file: {path})"
                            "\n\nNothing was changed.")
                return False
        self._remember_dir(path)
        self._status(f"Loaded {self.state.n_points:,} points from {Path(path).name}")
        return True

    def open_samples(self, path: Optional[PathLike] = None) -> bool:
        """Replace the samples panel's pairs with a CSV file of (p, y) pairs."""
        if path is None:
            path = self._ask_open("Open samples ((p, y) pairs)", CSV_FILTER)
            if path is None:
                return False
        try:
            self.state.load_samples_file(path)
        except datafiles.DataFileError as exc:
            self._error("Cannot open the samples", f"{exc}\n\n(file: {exc.path})\n\n"
                        "Nothing was changed.")
            return False
        except StateError as exc:
            self._error("Cannot use the samples",
                        f"{Path(path).name}: {exc}\n\nNothing was changed.")
            return False
        self._remember_dir(path)
        self._status(f"Loaded {len(self.state.samples_p)} samples from {Path(path).name}")
        return True

    def export_data(self, path: Optional[PathLike] = None) -> bool:
        """Write the current points and labels as CSV (as the app holds them)."""
        st = self.state
        if st.n_points == 0:
            self._error("Nothing to export", "There are no points to export.")
            return False
        if path is None:
            path, _ = self._ask_save("Export data as CSV", "bceviz-data.csv", CSV_FILTER)
            if path is None:
                return False
        names, label = _column_names(st.axes)
        try:
            datafiles.write_points_csv(path, st.X, st.y, names, label)
        except (datafiles.DataFileError, ValueError) as exc:
            self._error("Cannot export the data", f"{exc}\n\n(file: {path})")
            return False
        self._remember_dir(path)
        self._status(f"Wrote {st.n_points:,} points to {Path(path).name}")
        return True

    # ----------------------------------------------------------------- images
    def set_export_scale(self, scale: float) -> None:
        self.export_scale = float(scale)
        act = self.scale_actions.get(self.export_scale)
        if act is not None and not act.isChecked():
            act.setChecked(True)
        if self.prefs is not None:
            self.prefs.export_scale = self.export_scale

    def target(self, name: str) -> tuple[QWidget, str]:
        """The widget called ``name`` ("window" or a panel id) and its title; raises ValueError."""
        w = self.window
        if name == "window":
            return w, "window"
        docks = getattr(w, "docks", {})
        if name not in docks:
            raise ValueError(f"there is no panel {name!r}")
        dock = docks[name]
        title = f"{dock.windowTitle()} panel"
        if dock.isHidden():
            raise ValueError(f"The {title} is hidden: show it from the View menu first.")
        dock.raise_()  # a panel behind a tab is drawn only when in front
        QApplication.processEvents()
        panel = w.panels[name]
        panel.flush()
        return panel, title

    def export_image(self, name: str = "window", path: Optional[PathLike] = None,
                     scale: Optional[float] = None) -> bool:
        """The window or a panel as PNG (at the export scale) or SVG (vector), by the suffix."""
        try:
            widget, title = self.target(name)
        except ValueError as exc:
            self._error("Cannot export", str(exc))
            return False
        scale = self.export_scale if scale is None else float(scale)
        if path is None:
            stem = "bceviz-" + ("window" if name == "window" else name.replace("_", "-"))
            path, chosen = self._ask_save(f"Export the {title}", stem + ".png",
                                          ";;".join(IMAGE_FILTERS.values()))
            if path is None:
                return False
            if Path(path).suffix.lower() not in (".png", ".svg"):
                path = str(path) + (".svg" if chosen == IMAGE_FILTERS["svg"] else ".png")
        try:
            _export.export(widget, path, scale)
        except (_export.ExportError, ValueError, RuntimeError) as exc:
            self._error("Cannot export the image", str(exc))
            return False
        self._remember_dir(path)
        kind = "SVG" if Path(path).suffix.lower() == ".svg" else f"PNG at {scale:g}×"
        self._status(f"Exported the {title} to {Path(path).name} ({kind})")
        return True

    def copy_target(self) -> str:
        """The panel under the mouse, else the one with the keyboard focus, else the window."""
        w = self.window
        candidates = [QApplication.widgetAt(QCursor.pos()), QApplication.focusWidget()]
        for widget in candidates:
            while widget is not None:
                for pid, panel in getattr(w, "panels", {}).items():
                    if widget is panel:
                        return pid
                widget = widget.parentWidget()
        return "window"

    def copy_image(self, name: Optional[str] = None) -> bool:
        """Put the window or a panel on the clipboard as an image (at the export scale)."""
        name = name or self.copy_target()
        try:
            widget, title = self.target(name)
            _export.copy_to_clipboard(widget, self.export_scale)
        except (ValueError, RuntimeError) as exc:
            self._error("Cannot copy the image", str(exc))
            return False
        self._status(f"Copied the {title} to the clipboard ({self.export_scale:g}×)")
        return True

    # ------------------------------------------------------------------- code
    def show_code_dialog(self) -> "CodeDialog":
        if self.code_dialog is None:
            self.code_dialog = CodeDialog(self.state, self.window)
        self.code_dialog.refresh()
        self.code_dialog.show()
        self.code_dialog.raise_()
        return self.code_dialog

    # ------------------------------------------------------------ persistence
    def enable_persistence(self, *, restore_session: bool) -> None:
        """Use the user's preferences and layout; autosave on quit; maybe reopen the last session.

        Called by the ``bceviz`` command for an interactive window only.
        ``restore_session`` opens the autosaved session (a failure goes to the
        status bar and the app starts fresh).
        """
        self.prefs = _settings.Preferences()
        prefs = self.prefs
        self.last_dir = prefs.last_dir
        self.set_export_scale(prefs.export_scale)
        dark = getattr(self.window, "act_dark", None)
        if dark is not None:
            dark.setChecked(prefs.dark)
        panels = self.state.scenario_panels
        prefs.restore_window(self.window)
        if panels is not None:  # a lesson shows its own panels whatever was open last time
            self.window.apply_panel_visibility(panels)
        if restore_session:
            self.restore_last_session(quiet=True)

    def save_on_quit(self) -> None:
        """Leave presentation mode, keep preferences and layout, autosave the session."""
        if self.presentation.active:
            self.presentation.set(False)
        prefs = self.prefs
        if prefs is None:
            return
        dark = getattr(self.window, "act_dark", None)
        if dark is not None:
            prefs.dark = dark.isChecked()
        prefs.export_scale = self.export_scale
        prefs.save_window(self.window)
        prefs.sync()
        self.autosave()

    @_safety.guarded("closing the window", default=False)
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if obj is self.window and event.type() == QEvent.Type.Close:
            self.save_on_quit()
            if self.code_dialog is not None:
                self.code_dialog.close()
                self.code_dialog.detach()
            self.undo.detach()
        return False


def _column_names(axes) -> tuple[tuple[str, str], str]:
    """Header names for an exported points file: the axes' names if the CSV writer accepts them."""
    names = tuple(str(n) for n in axes.names)
    if axes.standardized:
        names = tuple(f"{n}_standardized" for n in names)
    label = str(axes.label_name)
    try:
        for n in (*names, label):
            datafiles._check_name(n, "name")
        if len({*names, label}) != 3:
            raise ValueError("duplicate names")
    except ValueError:
        return ("x1", "x2"), "label"
    return names, label  # type: ignore[return-value]


class _Progress:
    """A cancellable progress dialog for ``datafiles`` readers; shown only for slow reads."""

    def __init__(self, parent: QWidget, text: str) -> None:
        self.parent, self.text = parent, text
        self.dialog: Optional[QProgressDialog] = None
        self.cancelled = False

    def __enter__(self) -> "_Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None

    def __call__(self, fraction: float) -> bool:
        if self.dialog is None:
            if fraction >= 1.0:
                return True  # a small file: done before a dialog would be worth showing
            # The text names the file: shown literally, never as HTML (safety module).
            self.dialog = QProgressDialog(_safety.literal(self.text), "Cancel", 0, 1000,
                                          self.parent)
            self.dialog.setObjectName("data_progress")
            self.dialog.setWindowTitle("bceviz")
            self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
            self.dialog.setMinimumDuration(300)
        self.dialog.setValue(int(round(1000 * min(max(fraction, 0.0), 1.0))))
        QApplication.processEvents()
        self.cancelled = self.dialog.wasCanceled()
        return not self.cancelled


class CodeDialog(QDialog):
    """Edit ▸ Copy loss as code: one tab per framework and a Copy button for the shown tab."""

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setObjectName("code_dialog")
        self.setWindowTitle("Copy loss as code")
        layout = QVBoxLayout(self)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.tabs = QTabWidget(self)
        self.editors: dict[str, QPlainTextEdit] = {}
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        for fw in codegen.FRAMEWORKS:
            editor = QPlainTextEdit(self)
            editor.setReadOnly(True)
            editor.setFont(mono)
            editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            self.tabs.addTab(editor, codegen.FRAMEWORK_TITLES[fw])
            self.editors[fw] = editor
        layout.addWidget(self.tabs, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton("&Copy", self)
        self.copy_button.setDefault(True)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.resize(700, 480)
        for name in ("spec", "settings", "data"):
            getattr(state.events, name).connect(self._on_state)

    def _on_state(self, **_) -> None:
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        st = self.state
        t = st.training
        for fw, editor in self.editors.items():
            editor.setPlainText(codegen.loss_code(st.spec, fw, l2=t.l2, l1=t.l1,
                                                  n_samples=st.n_train or None))
        self.summary.setText("The loss bceviz is computing now, as code you can paste; "
                             "comments say where a framework has no exact equivalent.")

    def current_framework(self) -> str:
        return codegen.FRAMEWORKS[self.tabs.currentIndex()]

    def copy(self) -> str:
        text = self.editors[self.current_framework()].toPlainText()
        _export.copy_text_to_clipboard(text)
        self.state.set_status(
            f"{codegen.FRAMEWORK_TITLES[self.current_framework()]} code copied to the clipboard")
        return text

    def detach(self) -> None:
        for name in ("spec", "settings", "data"):
            getattr(self.state.events, name).disconnect(self._on_state)


def install(window: QMainWindow) -> FileActions:
    """Add the File/Edit actions, undo, presentation mode and window-wide shortcuts."""
    return FileActions(window)


__all__ = ["FileActions", "CodeDialog", "install"]
