"""The 2-D lab: a logistic regression on points in the plane, the app's original workbench.

Its state is :class:`bceviz.model.state.AppState` (with the lab interface:
``step``, ``reset``, ``report``, ``apply_settings``, ``can_train``); its
stages are the lessons in ``resources/scenarios/``; its panels are the nine
of ``bceviz.gui.panels`` (see ``docs/architecture.md``).
"""

from __future__ import annotations

from bceviz.model.labs import LabInfo
from bceviz.model.state import AppState

LAB = LabInfo(
    lab_id="logistic2d",
    title="2-D classifier",
    state_factory=AppState,
    gui_module="bceviz.gui.labs.logistic2d",
    description="A logistic regression on 2-D points: drag points, the loss-curve handle or "
                "the weights; every loss setting; train live.",
)

__all__ = ["LAB"]
