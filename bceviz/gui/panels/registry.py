"""The ordered list of panels the main window builds, each imported only when needed.

An entry names a panel id (also the dock's objectName and the id scenarios
use in ``panels``), the class as ``"module:Class"`` and a default dock area.
Panels are imported lazily so a missing optional panel module is skipped
(while the app is being built some panels do not exist yet), but an
ImportError raised *inside* an existing module is a real bug and surfaces.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class PanelEntry:
    """One registered panel: id, ``"module:Class"`` and default dock area."""

    panel_id: str
    target: str
    area: str  # "left", "right", "top" or "bottom"
    title: str

    @property
    def module(self) -> str:
        return self.target.partition(":")[0]

    @property
    def class_name(self) -> str:
        return self.target.partition(":")[2]

    def exists(self) -> bool:
        """True when the panel's module is present (without importing it)."""
        try:
            return importlib.util.find_spec(self.module) is not None
        except ModuleNotFoundError:
            return False

    def load(self):
        """The panel class, or None when its module does not exist.

        An ImportError raised while importing an existing module propagates, and
        so does a module that lacks the named class.
        """
        if not self.exists():
            return None
        module = importlib.import_module(self.module)
        try:
            return getattr(module, self.class_name)
        except AttributeError:
            raise ImportError(f"{self.module} has no panel class {self.class_name}") from None


_P = "bceviz.gui.panels."

#: Build order = default tab/stack order. Titles are the dock titles.
PANELS: tuple[PanelEntry, ...] = (
    PanelEntry("controls", _P + "controls:ControlsPanel", "left", "Controls"),
    PanelEntry("loss_curve", _P + "loss_curve:LossCurvePanel", "right", "Loss curve"),
    PanelEntry("samples", _P + "samples:SamplesPanel", "right", "Samples"),
    PanelEntry("formula", _P + "formula:FormulaPanel", "bottom", "Formula"),
    PanelEntry("data", _P + "data_panel:DataPanel", "right", "Data and boundary"),
    PanelEntry("surface", _P + "surface_panel:SurfacePanel", "right", "Loss surface"),
    PanelEntry("training_curves", _P + "training_curves:TrainingCurvesPanel", "right",
               "Training curves"),
    PanelEntry("metrics", _P + "metrics_panel:MetricsPanel", "right", "Threshold and metrics"),
    PanelEntry("imbalance", _P + "imbalance:ImbalancePanel", "right", "Imbalance lab"),
    PanelEntry("race", _P + "race_panel:RacePanel", "right", "Optimizer race"),
)

PANEL_IDS = tuple(entry.panel_id for entry in PANELS)


def entry(panel_id: str) -> PanelEntry:
    for e in PANELS:
        if e.panel_id == panel_id:
            return e
    raise KeyError(panel_id)


def available_panels() -> list[tuple[PanelEntry, type]]:
    """``[(entry, panel class)]`` for every registered panel whose module exists."""
    out = []
    for e in PANELS:
        cls = e.load()
        if cls is not None:
            out.append((e, cls))
    return out
