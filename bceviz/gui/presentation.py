"""Presentation mode (F11): full screen, larger fonts and lines, no controls; F11 or Esc leaves.

Reads the main window's ``act_presentation`` (the checkable View action with
F11) and follows it: on, the window goes full screen, the theme switches to
its presentation scale (``theme.set_presentation``: plot fonts, lines and
markers), the window's own font grows for labels and readouts, and the
controls dock and the menu bar are hidden. Every shortcut keeps working
because the window owns its actions (see ``keys.bind_shortcuts``). Off puts
back exactly what was there before: window state, font, controls and menu
bar visibility.
"""

from __future__ import annotations

from typing import Optional

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow

from bceviz.gui import theme as _theme

#: Widget fonts grow by this factor (plots grow by the theme's own scale).
FONT_SCALE = 1.5


class PresentationMode(QObject):
    """Switches a MainWindow in and out of presentation mode."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.active = False
        self._saved: Optional[dict] = None
        self.leave_action = QAction("Leave presentation mode", window)
        self.leave_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.leave_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.leave_action.setEnabled(False)  # Esc means nothing else in the window otherwise
        self.leave_action.triggered.connect(lambda: self.set(False))
        window.addAction(self.leave_action)
        self.toggle_action: Optional[QAction] = getattr(window, "act_presentation", None)
        if self.toggle_action is not None:
            window.addAction(self.toggle_action)  # F11 works with the menu bar hidden
            self.toggle_action.toggled.connect(self.set)

    def set(self, on: bool) -> None:
        on = bool(on)
        if on == self.active:
            return
        w = self.window
        controls = getattr(w, "docks", {}).get("controls")
        if on:
            docks = getattr(w, "mode", "") == "docks" and hasattr(w, "dock_layout")
            self._saved = {
                "states": w.windowState(),
                "size": w.size(),
                "font": w.font(),
                "controls": controls is not None and not controls.isHidden(),
                "menu": not w.menuBar().isHidden(),
                "docks": w.dock_layout() if docks else None,
            }
            self.active = True
            _theme.manager().set_presentation(True)
            font = w.font()
            font.setPointSizeF(font.pointSizeF() * FONT_SCALE)
            w.setFont(font)
            if controls is not None:
                controls.hide()
            w.menuBar().hide()
            w.showFullScreen()
            # the workbench's docks: arranged for the full screen and the larger type
            follow = getattr(w, "_follow_size", None)
            if follow is not None:
                QTimer.singleShot(0, follow)
        else:
            saved = self._saved or {}
            self.active = False
            _theme.manager().set_presentation(False)
            if "font" in saved:
                w.setFont(saved["font"])
            if controls is not None and saved.get("controls", True):
                controls.show()
            if saved.get("menu", True):
                w.menuBar().show()
            states = saved.get("states", Qt.WindowState.WindowNoState)
            w.setWindowState(states)
            if not states & (Qt.WindowState.WindowFullScreen | Qt.WindowState.WindowMaximized):
                w.showNormal()
                if "size" in saved:
                    # The larger type widened the window's minimum: let every layout see
                    # the normal type before asking for the old size.
                    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
                    w.layout().activate()
                    w.resize(saved["size"])
            if saved.get("docks") is not None and getattr(w, "mode", "") == "docks":
                w.restore_dock_layout(saved["docks"])
            # The window's minimum shrinks back to the normal type only once its layouts
            # have run, and a window manager may size the window back later: put the
            # size and the docks back once more then.
            QTimer.singleShot(0, lambda: self._restore_later(saved))
            self._saved = None
        self.leave_action.setEnabled(on)
        if self.toggle_action is not None and self.toggle_action.isChecked() != on:
            self.toggle_action.setChecked(on)  # Esc: keep the View menu's tick in step

    def _restore_later(self, saved: dict) -> None:
        w = self.window
        if self.active or not shiboken6.isValid(w):
            return
        states = saved.get("states", Qt.WindowState.WindowNoState)
        normal = not states & (Qt.WindowState.WindowFullScreen | Qt.WindowState.WindowMaximized)
        if normal and "size" in saved and w.size() != saved["size"]:
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            w.layout().activate()
            w.resize(saved["size"])
        if saved.get("docks") is not None and getattr(w, "mode", "") == "docks":
            w.restore_dock_layout(saved["docks"])


__all__ = ["PresentationMode", "FONT_SCALE"]
