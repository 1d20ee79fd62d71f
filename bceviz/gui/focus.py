"""Keys that belong to the stage, whatever widget has the focus.

A teacher types 0.01 into a field and presses Space to train: the Space must
train, not blank the field. Rules (installed on every control of a window by
:func:`install`):

* **Space** toggles training unless a free-text field is being edited: in a
  number field it first commits the typed value; on a button, check box,
  slider or chooser it no longer clicks or toggles that control.
* **Enter** and **Esc** in a number field commit the value and give the keys
  back to the stage (the field loses the focus), so S, R and the arrows step
  and reset again.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QWidget,
)

_KEYS_OUT = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)
_STAGE_WIDGETS = (QAbstractSpinBox, QAbstractButton, QAbstractSlider, QComboBox)


class StageKeys(QObject):
    """The event filter; ``toggle`` is the window's play/pause, ``home`` takes the focus back."""

    def __init__(self, parent: QObject, toggle: Callable[[], None], home: QWidget) -> None:
        super().__init__(parent)
        self.toggle = toggle
        self.home = home
        self._watched: set[int] = set()

    def watch(self, root: QWidget) -> None:
        """Filter every control below ``root`` (call again for controls built later)."""
        for cls in _STAGE_WIDGETS:
            for widget in root.findChildren(cls):
                key = id(widget)
                if key in self._watched:
                    continue
                self._watched.add(key)
                widget.installEventFilter(self)
                if isinstance(widget, QAbstractSpinBox) and widget.lineEdit() is not None:
                    widget.lineEdit().installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            return False
        key = event.key()
        spin = _spin_box_of(obj)
        if key == Qt.Key.Key_Space and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            if isinstance(obj, QLineEdit) and spin is None:
                return False  # free text: a space is a character
            if kind == QEvent.Type.ShortcutOverride:
                event.accept()  # keep it from the window's shortcut: we handle it once, here
                return True
            if spin is not None:
                spin.interpretText()
            self.toggle()
            return True
        if spin is not None and key in _KEYS_OUT and kind == QEvent.Type.KeyPress:
            spin.interpretText()
            spin.clearFocus()
            self.home.setFocus(Qt.FocusReason.OtherFocusReason)
            return key != Qt.Key.Key_Escape  # Esc goes on to the window (leaves presentation)
        return False


def _spin_box_of(obj: QObject):
    if isinstance(obj, QAbstractSpinBox):
        return obj
    parent = obj.parent() if isinstance(obj, QLineEdit) else None
    return parent if isinstance(parent, QAbstractSpinBox) else None


def install(window: QWidget, toggle: Callable[[], None]) -> StageKeys:
    keys = StageKeys(window, toggle, window)
    keys.watch(window)
    return keys


__all__ = ["StageKeys", "install"]
