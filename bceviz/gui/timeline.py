"""The 2-D lab's timeline bar: a slider over the recorded training steps, to look back and continue.

Reads from the state: the trainer's history and ``scrub_index`` through
:func:`bceviz.model.timeline.timeline_figures` (step, loss, what is thinned).
Writes: ``state.scrub_to(index)`` (a view: every panel of the lab follows
through the state's ``scrub`` event, nothing in the data, settings or weights
changes) and ``state.continue_from_scrub()`` ("Continue from here": the later
history is discarded; undoable). Playing resumes from the present (the state
clears the scrub when training starts).

Keys: with the slider focused, ← → move one record, Home / End go to the
first record and to the present (the slider takes them from the window's
shortcuts only while training is paused). The window adds the same keys
while the timeline is scrubbed (see ``MainWindow``).
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from bceviz.gui.steady import SteadyLabel
from bceviz.model.state import AppState, StateError
from bceviz.model.timeline import timeline_figures

#: While training runs the bar follows at most this often (milliseconds).
RUNNING_INTERVAL_MS = 100
_SCRUB_KEYS = (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End)


class TimelineSlider(QSlider):
    """A horizontal slider that keeps ← → Home End from the window's shortcuts while paused."""

    def __init__(self, state: AppState, parent: Optional[QWidget] = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._state = state

    def event(self, ev: QEvent) -> bool:
        if ev.type() == QEvent.Type.ShortcutOverride and ev.key() in _SCRUB_KEYS \
                and not self._state.running:
            ev.accept()
            return True
        return super().event(ev)


class TimelineBar(QWidget):
    """The slider, the readout of the record shown, the thinning note and two buttons."""

    def __init__(self, state: AppState, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline_bar")
        self.state = state
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        title = QLabel("Timeline")
        title.setTextFormat(Qt.TextFormat.PlainText)
        row.addWidget(title)
        self.slider = TimelineSlider(state, self)
        self.slider.setObjectName("timeline_slider")
        self.slider.setToolTip("Drag back through training: every panel shows the model as it "
                               "was (← → one record, Home / End)")
        self.slider.setMinimum(0)
        self.slider.setSingleStep(1)
        self.slider.setPageStep(10)
        self.slider.setMinimumWidth(200)
        self.slider.valueChanged.connect(self._on_value)
        row.addWidget(self.slider, 1)
        # a fixed-size readout: its text changes on every scrub, and a label that
        # resized would lay the whole window out again each time
        self.label = SteadyLabel(template="step 999,999 · loss 0.0000 nats · 9,999 of 9,999")
        self.label.setObjectName("timeline_label")
        row.addWidget(self.label)
        self.note = QLabel()
        self.note.setObjectName("timeline_thinned")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        row.addWidget(self.note)
        self.present_button = QPushButton("Now")
        self.present_button.setObjectName("timeline_present")
        self.present_button.setToolTip("Back to the present (End)")
        self.present_button.clicked.connect(lambda: self._guard(self.state.scrub_to, None))
        row.addWidget(self.present_button)
        self.continue_button = QPushButton("Continue from here")
        self.continue_button.setObjectName("timeline_continue")
        self.continue_button.setToolTip("Train on from the step shown; the later history is "
                                        "discarded (Ctrl+Z brings it back)")
        self.continue_button.clicked.connect(lambda: self._guard(self.state.continue_from_scrub))
        row.addWidget(self.continue_button)
        self._updating = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh)
        ev = state.events
        self._listeners = [(ev.weights, self._on_change), (ev.scrub, self._on_change),
                           (ev.features, self._on_change), (ev.running, self._on_change),
                           (ev.data, self._on_change)]
        for event, callback in self._listeners:
            event.connect(callback)
        self.refresh()

    # ---------------------------------------------------------------- events
    def _on_change(self, reason: str = "", **_) -> None:
        if reason != "step":  # a scrub, a reset, a drag: at once (a few labels, cheap)
            self._timer.stop()
            self.refresh()
        elif not self._timer.isActive():
            self._timer.start(RUNNING_INTERVAL_MS)

    def detach(self) -> None:
        for event, callback in self._listeners:
            event.disconnect(callback)
        self._listeners = []

    def _guard(self, fn, *args) -> None:
        try:
            fn(*args)
        except StateError as exc:
            self.state.set_status(str(exc), "error")

    def _on_value(self, value: int) -> None:
        if not self._updating:
            self._guard(self.state.scrub_to, int(value))

    # ---------------------------------------------------------------- gestures
    def step_by(self, records: int) -> None:
        """Move the view by ``records`` (negative: back), clipped to the history."""
        fig = timeline_figures(self.state)
        self._guard(self.state.scrub_to,
                    min(max(fig.index + int(records), 0), fig.n_records - 1))

    def home(self) -> None:
        self._guard(self.state.scrub_to, 0)

    def end(self) -> None:
        self._guard(self.state.scrub_to, None)

    # ---------------------------------------------------------------- drawing
    def refresh(self) -> None:
        fig = timeline_figures(self.state)
        self._updating = True
        try:
            self.slider.setMaximum(max(fig.n_records - 1, 0))
            self.slider.setValue(fig.index)
        finally:
            self._updating = False
        self.label.setText(fig.label)
        self.note.setText(fig.thinned_note)
        self.note.setVisible(bool(fig.thinned_note))
        self.continue_button.setEnabled(not fig.at_present)
        self.present_button.setEnabled(not fig.at_present)


__all__ = ["RUNNING_INTERVAL_MS", "TimelineBar", "TimelineSlider"]
