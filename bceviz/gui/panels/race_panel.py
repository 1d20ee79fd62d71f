"""The optimizer race panel: who is racing, and each racer's loss, ‖w‖ and steps to a tolerance.

Reads from the state's race (:func:`bceviz.model.race.race_of`): the lineup
and :meth:`~bceviz.model.race.Race.figures` (computed below the GUI, once
per race version). Writes: ``race.start(lineup)`` (the lineup field and
Start), ``race.stop()``, ``race.set_tolerance(tol)``,
``race.set_show_boundaries(on)``. Training itself is the
window's Play: every racer takes the state's steps. Each racer's colour
(:data:`RACER_COLOURS`, the Okabe–Ito palette, legible to colour-blind
viewers) is the same here, on the loss surface and on the training curves.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from bceviz.gui import format as fmt
from bceviz.gui.panels.base import Panel
from bceviz.model.race import DEFAULT_LINEUP, RaceError, race_of

#: One colour per racer, in lineup order (Okabe–Ito: sky blue, green, reddish purple, blue,
#: vermillion; the theme's orange stays the model's own marker and path).
RACER_COLOURS = ("#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00")
COLUMNS = ("optimizer", "lr", "loss", "‖w‖", "to tol.")


def racer_colour(i: int) -> str:
    """The colour of racer ``i`` (0-based)."""
    return RACER_COLOURS[i % len(RACER_COLOURS)]


class RacePanel(Panel):
    """A lineup field, Start / Stop, the tolerance and one table row per racer."""

    title = "Optimizer race"
    panel_id = "race"
    listens = ("scenario",)
    min_interval_ms = 250  # a table of numbers: four redraws a second can be read

    def __init__(self, state, parent: Optional[QWidget] = None) -> None:
        super().__init__(state, parent)
        self.race = race_of(state)
        layout = self.vbox(self)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.lineup = QLineEdit(DEFAULT_LINEUP)
        self.lineup.setObjectName("race_lineup")
        self.lineup.setToolTip("Two to five of gd, sgd, momentum, adam, newton, each with an "
                               "optional learning rate: gd:0.5,momentum:0.1,adam")
        self.lineup.returnPressed.connect(self.start)
        self.lineup.setMinimumWidth(60)  # the workbench's column must stay narrow
        self.lineup.setCursorPosition(0)  # a narrow field shows the lineup's start, not its end
        self.lineup.editingFinished.connect(lambda: self.lineup.setCursorPosition(0))
        row.addWidget(self.lineup, 1)
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("race_start")
        self.start_button.setToolTip("Start the race from the model's weights; Play trains it")
        self.start_button.clicked.connect(self.start)
        row.addWidget(self.start_button)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("race_stop")
        self.stop_button.clicked.connect(self.race.stop)
        row.addWidget(self.stop_button)
        layout.addLayout(row)
        tol_row = QHBoxLayout()
        tol_row.setContentsMargins(0, 0, 0, 0)
        tol_label = QLabel("‖∇‖ ≤")
        tol_label.setToolTip("Steps to tolerance: the first step with a gradient norm at most this")
        tol_label.setTextFormat(Qt.TextFormat.PlainText)
        tol_row.addWidget(tol_label)
        self.tolerance = QDoubleSpinBox()
        self.tolerance.setObjectName("race_tolerance")
        self.tolerance.setDecimals(6)
        self.tolerance.setRange(1e-6, 10.0)
        self.tolerance.setSingleStep(1e-3)
        self.tolerance.setValue(self.race.tolerance)
        self.tolerance.valueChanged.connect(self._on_tolerance)
        tol_row.addWidget(self.tolerance)
        self.boundaries = QCheckBox("boundaries")
        self.boundaries.setObjectName("race_boundaries")
        self.boundaries.setToolTip("Draw each racer's decision boundary on the data plot "
                                   "(boundaries on the data)")
        self.boundaries.toggled.connect(self.race.set_show_boundaries)
        tol_row.addWidget(self.boundaries)
        tol_row.addStretch(1)
        layout.addLayout(tol_row)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("race_table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        self.note = QLabel()
        self.note.setObjectName("race_note")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.note)
        self.race.events.race.connect(self._on_race)
        self.refresh()

    # ----------------------------------------------------------------- events
    def _on_race(self, kind: str = "", **_) -> None:
        if not self._handlers:  # detached
            return
        self.schedule(paced=kind == "step")

    def detach(self) -> None:
        self.race.events.race.disconnect(self._on_race)
        super().detach()

    def start(self) -> None:
        try:
            self.race.start(self.lineup.text())
        except RaceError as exc:
            self.state.set_status(str(exc), "error")

    def _on_tolerance(self, value: float) -> None:
        try:
            self.race.set_tolerance(value)
        except RaceError as exc:
            self.state.set_status(str(exc), "error")

    # ---------------------------------------------------------------- drawing
    def refresh(self) -> None:
        figs = self.race.figures()
        self.stop_button.setEnabled(self.race.active)
        if self.table.rowCount() != len(figs):
            self.table.setRowCount(len(figs))
        for i, f in enumerate(figs):
            to_tol = "—" if f.steps_to_tolerance is None else f"{f.steps_to_tolerance:,}"
            cells = (f"● {f.name}", f"{f.lr:g}",
                     "diverged" if f.diverged else fmt.num(f.loss, 4),
                     fmt.num(f.w_norm, 3), to_tol)
            for col, text in enumerate(cells):
                item = self.table.item(i, col)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(i, col, item)
                if item.text() != text:
                    item.setText(text)
                if col == 0:
                    item.setForeground(QColor(racer_colour(i)))
                if f.diverged and f.status:
                    item.setToolTip(f.status)
        if not figs:
            self.note.setText("No race: name two to five optimizers and press Start.")
        else:
            self.note.setText(f"Step {max(f.steps for f in figs):,}. Play (Space) trains every "
                              "racer the same steps; a dragged point or a loss setting changes "
                              "the race for all of them.")
        if self.boundaries.isChecked() != self.race.show_boundaries:
            self.boundaries.blockSignals(True)
            self.boundaries.setChecked(self.race.show_boundaries)
            self.boundaries.blockSignals(False)
        if self.race.tolerance != self.tolerance.value():
            self.tolerance.blockSignals(True)
            self.tolerance.setValue(self.race.tolerance)
            self.tolerance.blockSignals(False)


__all__ = ["COLUMNS", "RACER_COLOURS", "RacePanel", "racer_colour"]
