"""Readout labels whose changing text does not re-lay out the window.

``QLabel.setText`` calls ``updateGeometry()``, and in a docked main window that
request climbs from the label's layout through the dock to the main window's
layout: when a readout changes every frame (a scrubbed timeline, a metrics
table while training), the whole window is laid out again each time — several
milliseconds a frame on this stack (see ``docs/architecture.md``, "Keeping a
frame cheap"). Qt skips the request for a widget whose minimum and maximum
sizes are equal, so a :class:`SteadyLabel` keeps a fixed size: the largest its
texts have needed so far (or a template's, reserved up front). A longer text
grows it once; shorter ones are drawn in the room already there.
:meth:`SteadyLabel.refit` shrinks it back to its current text (after a font
change, presentation mode, or a compact layout that changes every text).

Text is plain unless the caller asks for rich text at construction. Word
wrapping is not supported (a wrapped label's height depends on its width).
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import QLabel, QWidget


class SteadyLabel(QLabel):
    """A one-or-more-line label at a fixed size that only grows (see the module docstring).

    ``template``: a text at least as large as those expected (reserved at
    once, so the first frames do not grow the label one digit at a time);
    ``floor``: a minimum size in pixels (width, height) kept on every refit.
    """

    def __init__(self, text: str = "", template: str = "", parent: Optional[QWidget] = None,
                 *, floor: tuple[int, int] = (0, 0),
                 text_format: Qt.TextFormat = Qt.TextFormat.PlainText) -> None:
        super().__init__(parent)
        self._tip = ""
        self._fitting: set[str] = set()  # digit patterns known to fit the present size
        self.setTextFormat(text_format)
        self.setWordWrap(False)
        self._template = template
        self._floor = QSize(max(0, int(floor[0])), max(0, int(floor[1])))
        super().setText(text)
        self.refit()

    # ------------------------------------------------------------------ size
    def _hint_for(self, text: str) -> QSize:
        """The size hint this label would have with ``text`` (its font, margins, frame).

        QLabel caches its hints until its text changes (a new minimum size does not
        clear them), so the text is always changed, and put back.
        """
        current = self.text()
        super().setText(text + " " if text == current else text)  # at a fixed size: no layout
        if text == current:
            super().setText(text)
        hint = self.sizeHint()
        if text != current:
            super().setText(current)
        return hint

    def refit(self, template: Optional[str] = None) -> None:
        """Fix the size to the current text, the template and the floor (may shrink)."""
        if template is not None:
            self._template = template
        self.setMinimumSize(0, 0)  # a QLabel's size hint is never below its minimum size
        need = self._hint_for(self.text()).expandedTo(self._floor)
        if self._template:
            need = need.expandedTo(self._hint_for(self._template))
        self._fitting.clear()
        self.setFixedSize(need)

    def set_floor(self, width: int, height: int) -> None:
        """A new minimum size (pixels); refits."""
        self._floor = QSize(max(0, int(width)), max(0, int(height)))
        self.refit()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        if text == self.text():
            return
        super().setText(text)  # fixed size: Qt posts no layout request
        if self.textFormat() != Qt.TextFormat.PlainText:
            self._grow_to(self.sizeHint())
            return
        # A readout's texts differ mostly in their digits: the size of the text with
        # every digit the font's widest is asked once per pattern ("0.734", "0.118":
        # one question), not once per text (a size hint lays the text out: ~15 µs).
        pattern = text.translate(self._widest_digits())
        if pattern in self._fitting:
            return
        self._grow_to(self._hint_for(pattern))
        if len(self._fitting) > 256:
            self._fitting.clear()
        self._fitting.add(pattern)

    def _widest_digits(self) -> dict:
        font = self.font()
        key = font.key()
        cached = getattr(self, "_digit_map", None)
        if cached is None or cached[0] != key:
            metrics = self.fontMetrics()
            widest = max("0123456789", key=metrics.horizontalAdvance)
            cached = self._digit_map = (key, str.maketrans("0123456789", widest * 10))
        return cached[1]

    def _grow_to(self, hint: QSize) -> None:
        if hint.width() > self.width() or hint.height() > self.height():
            self.setFixedSize(hint.expandedTo(self.size()))  # grows once

    def setToolTip(self, tip: str) -> None:  # noqa: N802 (Qt name)
        if tip != self._tip:  # (a tool tip set again costs ~25 µs, a frame sets several)
            self._tip = tip
            super().setToolTip(tip)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # (a style sheet's colour: same size)
            self.refit()


__all__ = ["SteadyLabel"]
