"""Help ▸ Keys: every keyboard shortcut (read from the window's actions) and mouse gesture.

The shortcut rows are not a hand-kept list: they are collected from the
menu bar and the window's actions when the sheet opens, so a new action
with a shortcut appears by itself (a test checks that nothing is missing).
``bind_shortcuts`` gives every menu action with a shortcut to the window
too, so shortcuts keep working when the menu bar is hidden (presentation
mode) and whichever dock has the focus.
"""

from __future__ import annotations

from html import escape

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMainWindow,
    QMenu,
    QTextBrowser,
    QVBoxLayout,
)

#: Mouse gestures, per panel (what each panel's docstring says it accepts).
MOUSE = (
    ("Data and boundary", "Drag a point", "move it"),
    ("Data and boundary", "Click empty space", "add a point of the chosen class"),
    ("Data and boundary", "Shift-click a point", "flip its label"),
    ("Data and boundary", "Right-click a point, or Delete / Backspace", "delete it"),
    ("Loss curve", "Drag the handle, or click the plot", "move the prediction p (or z)"),
    ("Loss curve", "Drag the label strip", "set the label y (soft labels too)"),
    ("Loss curve", "Right-click during a drag", "cancel it"),
    ("Samples", "Drag a dot sideways / up or down", "change its p / its label"),
    ("Samples", "Click a dot", "flip a hard label"),
    ("Loss surface", "Drag the marker, or click", "move the weights (w1, w2)"),
    ("Threshold and metrics", "Drag the threshold line", "move the decision threshold"),
)


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").replace("…", "").strip()


def _walk(menu: QMenu, path: tuple[str, ...]):
    for action in menu.actions():
        sub = action.menu()
        if sub is not None:
            yield from _walk(sub, path + (_plain(action.text()),))
        elif not action.isSeparator():
            yield path, action


def menu_actions(window: QMainWindow) -> list[tuple[tuple[str, ...], QAction]]:
    """Every action of the menu bar with the menu path that leads to it."""
    found = []
    for top in window.menuBar().actions():
        if top.menu() is not None:
            found.extend(_walk(top.menu(), (_plain(top.text()),)))
    return found


def _what(action: QAction) -> str:
    """An action's name for the sheet: its text, or its ``data()`` when the text changes (undo)."""
    data = action.data()
    return data if isinstance(data, str) and data else _plain(action.text())


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str, str]]:
    """(keys, what, where) for every action of the window that has a shortcut."""
    rows, seen = [], set()
    for path, action in menu_actions(window):
        keys = action.shortcuts()
        if keys and id(action) not in seen:
            seen.add(id(action))
            rows.append((_keys_text(keys), _what(action), " ▸ ".join(path)))
    for action in window.actions():
        keys = action.shortcuts()
        if keys and id(action) not in seen:
            seen.add(id(action))
            rows.append((_keys_text(keys), _what(action), "window"))
    return rows


def _keys_text(keys: list[QKeySequence]) -> str:
    return " or ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)


def bind_shortcuts(window: QMainWindow) -> None:
    """Let the window own every menu action that has a shortcut (works with the menu bar hidden)."""
    for _, action in menu_actions(window):
        if action.shortcuts() and action not in window.actions():
            window.addAction(action)


def keys_html(window: QMainWindow) -> str:
    """The sheet as HTML: keys first, then the mouse."""
    parts = ["<h3>Keys</h3><table cellspacing=3 cellpadding=2>"]
    for keys, what, where in shortcut_rows(window):
        parts.append(f"<tr><td><b>{escape(keys)}</b></td><td>{escape(what)}</td>"
                     f"<td style='color:gray'>{escape(where)}</td></tr>")
    parts.append("</table><h3>Mouse</h3><table cellspacing=3 cellpadding=2>")
    for panel, gesture, effect in MOUSE:
        parts.append(f"<tr><td><b>{escape(gesture)}</b></td><td>{escape(effect)}</td>"
                     f"<td style='color:gray'>{escape(panel)}</td></tr>")
    parts.append("</table>")
    return "".join(parts)


class KeysDialog(QDialog):
    """A scrollable, non-modal sheet of keys and mouse gestures."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setObjectName("keys_dialog")
        self.setWindowTitle("bceviz keys")
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser(self)
        self.browser.setHtml(keys_html(window))
        layout.addWidget(self.browser)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.resize(620, 560)


def show_keys(window: QMainWindow) -> KeysDialog:
    """Open (or raise) the keys sheet of ``window``."""
    dialog = getattr(window, "_keys_dialog", None)
    if dialog is None:
        dialog = KeysDialog(window)
        window._keys_dialog = dialog
    else:
        dialog.browser.setHtml(keys_html(window))
    dialog.show()
    dialog.raise_()
    return dialog


__all__ = ["MOUSE", "KeysDialog", "bind_shortcuts", "keys_html", "menu_actions", "shortcut_rows",
           "show_keys"]
