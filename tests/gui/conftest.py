"""Fixtures for the GUI tests: a state on a scenario, a shown main window, a shown panel."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest


@pytest.fixture
def scenario_state():
    """A fresh AppState on a scenario: ``scenario_state("xor-linear")``."""
    from bceviz.app import create_state

    return create_state

@pytest.fixture
def main_window(qtbot):
    """The real main window on the 2-D workbench (the default data, all nine docks) at 1280 × 800."""
    from bceviz.app import create_window, _settle

    window = create_window("workbench")
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    _settle(window, 0.05)
    yield window
    window.state.set_running(False)
    window.close()


@pytest.fixture
def show_panel(qtbot):
    """Build a panel class on a state, show it at a given size and flush its first draw."""

    def make(cls, state, size=(640, 520)):
        panel = cls(state)
        qtbot.addWidget(panel)
        panel.resize(*size)
        panel.show()
        qtbot.waitExposed(panel)
        panel.flush()
        return panel

    return make
