"""The "add a lab" walk-through of docs/architecture.md, built and run for real.

The lab's two modules are the walk-through's code, written to a temporary
package; the test registers the lab and its stage the documented way, opens
the stage in the window, trains it with the window's own key, and reports it.
"""

from __future__ import annotations

import importlib
import json
import sys
import textwrap

import pytest

STATE = '''
import math

from bceviz.engine import loss_from_logits
from bceviz.model.labs import LabInfo
from bceviz.model.labs.base import LabState, check_keys, number


class CoinState(LabState):
    lab_id = "coin"
    EVENTS = ("model",)

    def __init__(self) -> None:
        super().__init__()
        self.z, self.y = 0.0, 1.0

    def apply_settings(self, settings: dict) -> None:
        check_keys(settings, "settings", {"z", "y"})
        z = number(settings.get("z", 0.0), "settings.z", -30, 30)
        y = number(settings.get("y", 1.0), "settings.y", 0, 1)
        with self.transaction():
            self.z, self.y = z, y
            self.events.model.emit(reason="stage")

    def step(self, n: int = 1) -> int:
        for _ in range(n):
            p = 1 / (1 + math.exp(-self.z))
            self.z -= 0.5 * (p - self.y)
        self.events.model.emit(reason="step")
        return n

    def report(self) -> dict:
        return {"z": self.z, "loss": float(loss_from_logits(self.z, self.y))}

    def to_dict(self) -> dict:
        return {"z": self.z, "y": self.y}

    def restore(self, payload: dict) -> None:
        check_keys(payload, "lab", {"z", "y"})
        self.apply_settings(payload)


LAB = LabInfo(lab_id="coin", title="One coin", state_factory=CoinState,
              gui_module="coinlab.gui")
'''

GUI = '''
import pyqtgraph as pg

from bceviz.gui.panels.base import Panel


class LossPanel(Panel):
    panel_id = "coin_loss"
    title = "Loss of one coin"
    listens = ("model",)

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        layout = self.vbox(self)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumSize(320, 200)
        layout.addWidget(self.plot)
        self.marker = self.plot.plot([0], [0], symbol="o")

    def refresh(self) -> None:
        r = self.state.report()
        self.marker.setData([r["z"]], [r["loss"]])


PANELS = {"loss": LossPanel}
CONTROLS = None
'''

STAGE = {"format_version": 1, "id": "coin-first", "lab": "coin",
         "chapter": "Applications: the 2-D classifier", "order": 999, "title": "One coin",
         "caption": "One logit, one label.", "first": "Press S.", "layout": [["loss"]],
         "settings": {"z": -2.0, "y": 1.0}}


@pytest.fixture
def coin_lab(tmp_path):
    from bceviz.model import labs, stages

    package = tmp_path / "coinlab"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "state.py").write_text(textwrap.dedent(STATE), encoding="utf-8")
    (package / "gui.py").write_text(textwrap.dedent(GUI), encoding="utf-8")
    (tmp_path / "coin-first.json").write_text(json.dumps(STAGE), encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("coinlab.state")
        labs.register_lab(module.LAB)
        stages.register_stage(stages.load_stage_file(tmp_path / "coin-first.json"))
        yield module
    finally:
        stages.unregister_stage("coin-first")
        labs.unregister_lab("coin")
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.split(".")[0] == "coinlab"]:
            del sys.modules[name]


def test_the_documented_lab_opens_trains_and_reports(coin_lab, qtbot, tmp_path):
    from PySide6.QtCore import Qt

    from bceviz.app import _settle, create_window, main
    from bceviz.model import labs

    assert "coin" in labs.lab_ids()
    window = create_window("coin-first")
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    _settle(window, 0.05)
    assert window.current_lab == "coin" and window.mode == "stage"
    panel = window.stage_host.visible_panels()["loss"]
    assert panel.isVisible() and panel.width() >= 300
    assert "One coin" in window.caption_bar.text()
    state = window.lab_state
    z0 = state.z
    qtbot.keyClick(window, Qt.Key.Key_S)  # the window's Step key steps the current lab
    assert state.z > z0
    out = tmp_path / "report.json"
    assert main(["--stage", "coin-first", "--train-steps", "3", "--report", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["lab"] == "coin" and report["stage"] == "coin-first" and report["z"] > -2.0
