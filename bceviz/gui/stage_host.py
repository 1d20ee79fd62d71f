"""The stage host: the window's centre, showing one stage's two to four panels, large.

A stage (``bceviz.model.stages.Stage``) names rows of panel ids with relative
sizes, and whether the lab's controls stand beside them. The host arranges
the lab's panels in splitters (a row is a horizontal splitter, the rows a
vertical one), each panel in a :class:`StageCell` with its title. Panels are
created once per lab (by :class:`LabView`) and never deleted while the app
runs; a stage change takes them out of the old arrangement (parked, hidden)
and puts them into the new one, so nothing of the previous stage's layout
survives (see ``docs/architecture.md``, "Stages").
"""

from __future__ import annotations

import importlib
from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from bceviz.gui import theme as _theme
from bceviz.model.labs import LabInfo
from bceviz.model.stages import Stage

#: Width of the controls column beside a stage's panels (pixels at 96 dpi).
CONTROLS_WIDTH = 270


class LabView:
    """One lab in the window: its info, its state, its panels (id -> widget) and controls.

    Built once per lab, the first time a stage of the lab is shown. The 2-D
    lab's panels already exist (they live in the window's docks for the
    workbench); other labs' panels come from their GUI module's ``PANELS``
    and ``CONTROLS``.
    """

    def __init__(self, info: LabInfo, state, panels: dict[str, QWidget],
                 controls: Optional[QWidget], titles: dict[str, str]) -> None:
        self.info = info
        self.state = state
        self.panels = panels
        self.controls = controls
        self.titles = titles

    @classmethod
    def build(cls, info: LabInfo, state) -> "LabView":
        module = importlib.import_module(info.gui_module)
        panels: dict[str, QWidget] = {}
        titles: dict[str, str] = {}
        for pid, panel_cls in module.PANELS.items():
            panel = panel_cls(state)
            panels[pid] = panel
            titles[pid] = str(getattr(panel_cls, "title", "") or pid)
        controls_cls = getattr(module, "CONTROLS", None)
        controls = controls_cls(state) if controls_cls is not None else None
        return cls(info, state, panels, controls, titles)

    def all_widgets(self) -> list[QWidget]:
        out = list(self.panels.values())
        if self.controls is not None:
            out.append(self.controls)
        return out


class StageCell(QFrame):
    """A panel with its title above it (the docks' title bar, for a stage)."""

    def __init__(self, title: str, panel: QWidget, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("stage_cell")
        self.setFrameShape(QFrame.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        self.title = QLabel(title, self)
        self.title.setObjectName("stage_cell_title")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        layout.addWidget(self.title)
        layout.addWidget(panel, 1)
        self.panel = panel
        panel.show()

    def release(self, parking: QWidget) -> None:
        """Give the panel back (to the hidden parking widget) before the cell goes away."""
        self.layout().removeWidget(self.panel)
        self.panel.hide()
        self.panel.setParent(parking)


class StageHost(QWidget):
    """Shows one stage: optional controls column, then rows of panels in splitters."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("stage_host")
        self.parking = QWidget(self)
        self.parking.setObjectName("stage_parking")
        self.parking.hide()
        self._outer = QHBoxLayout(self)
        self._outer.setContentsMargins(0, 0, 0, 0)
        self._outer.setSpacing(0)
        self._root: Optional[QSplitter] = None
        self._cells: list[StageCell] = []
        self._controls: Optional[QWidget] = None
        self.stage: Optional[Stage] = None
        self.lab_view: Optional[LabView] = None
        self.show_controls = True

    # ------------------------------------------------------------- arrange
    def clear(self) -> None:
        """Take every panel out of the arrangement (parked and hidden); drop the splitters."""
        for cell in self._cells:
            cell.release(self.parking)
        self._cells = []
        if self._controls is not None:
            self._controls.hide()
            self._controls.setParent(self.parking)
            self._controls = None
        if self._root is not None:
            self._outer.removeWidget(self._root)
            self._root.hide()
            self._root.deleteLater()
            self._root = None
        self.stage = None
        self.lab_view = None

    def show_stage(self, lab_view: LabView, stage: Stage, *, show_controls: bool = True) -> None:
        """Arrange ``stage``'s panels of ``lab_view`` (a workbench stage shows them all)."""
        self.clear()
        self.stage, self.lab_view = stage, lab_view
        self.show_controls = show_controls
        rows, row_stretch, col_stretch = self._rows(lab_view, stage)
        root = QSplitter(Qt.Orientation.Horizontal, self)
        root.setObjectName("stage_root")
        root.setChildrenCollapsible(False)
        want_controls = lab_view.controls is not None and show_controls and (
            stage.controls or stage.is_workbench)
        if want_controls:
            controls = lab_view.controls
            controls.setParent(root)
            root.addWidget(controls)
            controls.show()
            self._controls = controls
        column = QSplitter(Qt.Orientation.Vertical, root)
        column.setObjectName("stage_rows")
        column.setChildrenCollapsible(False)
        for r, row in enumerate(rows):
            line = QSplitter(Qt.Orientation.Horizontal, column)
            line.setObjectName(f"stage_row_{r}")
            line.setChildrenCollapsible(False)
            for pid in row:
                panel = lab_view.panels[pid]
                cell = StageCell(lab_view.titles.get(pid, pid), panel, line)
                cell.setObjectName(f"stage_cell_{pid}")
                line.addWidget(cell)
                self._cells.append(cell)
            column.addWidget(line)
            for c, stretch in enumerate(col_stretch[r]):
                line.setStretchFactor(c, stretch)
            line.setSizes([1000 * s for s in col_stretch[r]])
        for r, stretch in enumerate(row_stretch):
            column.setStretchFactor(r, stretch)
        column.setSizes([1000 * s for s in row_stretch])
        root.addWidget(column)
        index = root.indexOf(column)
        root.setStretchFactor(index, 1)
        if want_controls:
            root.setStretchFactor(0, 0)
            root.setSizes([self.controls_width(), 10_000])
        self._root = root
        self._outer.addWidget(root)
        root.show()
        self.apply_theme()

    def controls_width(self) -> int:
        scale = 1.25 if _theme.manager().presentation else 1.0
        return int(CONTROLS_WIDTH * scale)

    @staticmethod
    def _rows(lab_view: LabView, stage: Stage):
        if not stage.is_workbench:
            missing = [pid for pid in stage.panel_ids if pid not in lab_view.panels]
            if missing:
                raise KeyError(f"stage {stage.stage_id!r} names panel {missing[0]!r}, which the "
                               f"lab {lab_view.info.lab_id!r} does not have "
                               f"({', '.join(lab_view.panels)})")
            return stage.layout, stage.row_stretch, stage.col_stretch
        ids = list(lab_view.panels)
        half = (len(ids) + 1) // 2 if len(ids) > 2 else len(ids)
        rows = tuple(r for r in (tuple(ids[:half]), tuple(ids[half:])) if r)
        return rows, tuple(1 for _ in rows), tuple(tuple(1 for _ in r) for r in rows)

    # --------------------------------------------------------------- query
    def cells(self) -> list[StageCell]:
        return list(self._cells)

    def visible_panels(self) -> dict[str, QWidget]:
        return {cell.objectName().removeprefix("stage_cell_"): cell.panel for cell in self._cells}

    def apply_theme(self) -> None:
        theme = _theme.current()
        for cell in self._cells:
            font = cell.title.font()
            font.setPointSizeF(theme.font_pt)
            font.setBold(True)
            cell.title.setFont(font)
        if self._root is not None and self._controls is not None:
            sizes = self._root.sizes()
            if len(sizes) == 2:
                self._root.setSizes([self.controls_width(), max(sizes[1], 100)])


__all__ = ["CONTROLS_WIDTH", "LabView", "StageCell", "StageHost"]
