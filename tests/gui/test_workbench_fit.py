"""The 2-D workbench (stages ``workbench`` and ``large``, nine docks) fits a room's screen.

At the tests' 1280 × 720 screen (tests/conftest.py), in the window and in presentation
mode: the window's minimum size and the window itself are within the screen, every dock on
screen lies inside the window and its panel inside the dock, each panel's content has the
room it needs (nothing squeezed below its minimum, so nothing drawn over or off its dock),
and every plot on screen is at least ``PLOT_MIN`` large. Presentation mode gives the
layout back exactly as it was. At 1920 × 1080 (a screen of its own, in a child process) the
metrics panel's four plots are each at least 300 × 180 px in presentation mode and the
panel lies inside the window. See docs/architecture.md, "The window and a frame".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: The smallest plot (px, a PlotItem with its axes) on screen in the workbench.
PLOT_MIN = (120, 120)
#: PlotItems narrower than this are colour bars beside a plot, not plots.
COLOUR_BAR_WIDTH = 100
#: Panels whose content may still need more room than their dock gives (owned elsewhere;
#: their minimum sizes are being reworked): the metrics panel's table and plots need
#: more width than its compact minimum declares.
KNOWN_CRAMPED = {"metrics"}


def _shown_docks(window) -> dict:
    """Panel id -> dock for the docks on screen (a tab behind another is not on screen)."""
    return {pid: dock for pid, dock in window.docks.items()
            if dock.isVisible() and not dock.visibleRegion().isEmpty()}


def _plots(panel) -> list[tuple[str, float, float]]:
    import pyqtgraph as pg

    out = []
    for view in panel.findChildren(pg.GraphicsView):
        if not view.isVisible():
            continue
        for item in view.scene().items():
            if isinstance(item, pg.PlotItem) and item.isVisible():
                rect = item.sceneBoundingRect()
                if rect.width() >= COLOUR_BAR_WIDTH:
                    out.append((panel.panel_id, rect.width(), rect.height()))
    return out


def _problems(window) -> list:
    """Everything that does not fit, as readable tuples (empty when all is well)."""
    out = []
    screen = window.screen().availableGeometry()
    hint = window.minimumSizeHint()
    if hint.width() > screen.width() or hint.height() > screen.height():
        out.append(("minimum size", hint.toTuple(), screen.size().toTuple()))
    if window.width() > screen.width() or window.height() > screen.height():
        out.append(("window", window.size().toTuple(), screen.size().toTuple()))
    inside = window.rect()
    for pid, dock in _shown_docks(window).items():
        if not inside.contains(dock.geometry()):
            out.append(("dock off the window", pid, dock.geometry().getRect()))
        panel = dock.widget()
        if not dock.rect().contains(panel.geometry()):
            out.append(("panel off its dock", pid, panel.geometry().getRect()))
        body = getattr(panel, "_body", None)
        if body is not None and pid not in KNOWN_CRAMPED:
            need = body.minimumSizeHint()
            if need.width() > panel.width() + 1 or need.height() > panel.height() + 1:
                out.append(("content squeezed", pid, need.toTuple(), panel.size().toTuple()))
        for name, width, height in _plots(panel):
            if width < PLOT_MIN[0] or height < PLOT_MIN[1]:
                out.append(("plot too small", name, int(width), int(height)))
    return out


@pytest.fixture(scope="module")
def bench():
    from bceviz.app import _qapp, create_window

    _qapp([])
    window = create_window("workbench")
    window.show()
    window.resize(window.fitting_size())
    yield window
    window.file_actions.presentation.set(False)
    window.state.set_running(False)
    window.close()
    window.deleteLater()


def _open(window, stage_id: str, mode: str) -> None:
    from bceviz.app import _settle

    presentation = window.file_actions.presentation
    presentation.set(False)
    window.show_stage(stage_id)
    window.state.set_running(False)  # the large stage trains at once: hold it still
    if mode == "presentation":
        presentation.set(True)
    else:
        window.resize(window.fitting_size())
    _settle(window, 0.1)


@pytest.mark.parametrize("mode", ["window", "presentation"])
@pytest.mark.parametrize("stage_id", ["workbench", "large"])
def test_the_workbench_fits_a_1280_x_720_screen(bench, stage_id, mode):
    from bceviz.app import _settle

    _open(bench, stage_id, mode)
    screen = bench.screen().availableGeometry()
    assert (screen.width(), screen.height()) == (1280, 720)  # the tests' screen
    if _problems(bench):  # a layout still settling on a busy machine: a moment more
        _settle(bench, 0.5)
    assert not _problems(bench), _problems(bench)
    shown = _shown_docks(bench)
    # the panels that carry the workbench are on screen, the others one tab away
    assert {"data", "loss_curve", "metrics"} <= set(shown), sorted(shown)
    for pid, dock in bench.docks.items():
        if pid in shown or (pid == "controls" and mode == "presentation"):
            continue
        assert not dock.isHidden(), pid
        partners = bench.tabifiedDockWidgets(dock)
        assert any(p.objectName()[5:] in shown for p in partners), pid
    assert bench.docks["controls"].isHidden() == (mode == "presentation")
    bench.file_actions.presentation.set(False)


def test_every_tab_group_has_one_tab_bar_on_screen(bench):
    """Re-tabbing docks leaves no second tab bar drawn over the docks."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QTabBar

    _open(bench, "workbench", "presentation")
    bench.file_actions.presentation.set(False)
    _open(bench, "workbench", "window")
    bars = [b for b in bench.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
            if b.isVisible() and b.count()]
    groups = [tuple(sorted(b.tabText(i) for i in range(b.count()))) for b in bars]
    assert len(groups) == len(set(groups)), groups
    for bar in bars:
        assert bench.rect().contains(bar.geometry()), bar.geometry()


def test_leaving_presentation_restores_the_layout_exactly(bench):
    from bceviz.app import _settle

    _open(bench, "workbench", "window")
    bench.docks["samples"].raise_()  # a tab the user chose stays chosen
    _settle(bench, 0.05)

    def layout():
        return ({pid: (d.isHidden(), d.geometry().getRect()) for pid, d in bench.docks.items()
                 if not d.visibleRegion().isEmpty()}, bench.size().toTuple(), bench.arrangement)

    before = layout()
    bench.file_actions.presentation.set(True)
    _settle(bench, 0.1)
    assert bench.arrangement == "stacked"  # presentation type on a small screen
    bench.file_actions.presentation.set(False)
    _settle(bench, 0.1)
    after = layout()
    assert after[1:] == before[1:]
    assert set(after[0]) == set(before[0])
    for pid, (hidden, rect) in before[0].items():
        assert after[0][pid][0] == hidden, pid
        # the caption bar may re-wrap by a line: positions within a few pixels, sizes too
        assert all(abs(a - b) <= 8 for a, b in zip(after[0][pid][1], rect)), (pid, rect,
                                                                            after[0][pid][1])


def test_the_arrangement_follows_the_window_until_the_user_moves_a_dock(bench):
    from bceviz.app import _settle

    _open(bench, "workbench", "window")
    assert bench.arrangement == "compact"
    bench.resize(1280, 800)
    _settle(bench, 0.05)
    assert bench.arrangement == "full"  # nine panels at once
    assert {"formula", "samples", "training_curves", "imbalance"} <= set(_shown_docks(bench))
    bench.resize(bench.fitting_size())
    _settle(bench, 0.05)
    assert bench.arrangement == "compact" and bench.height() <= 720
    bench.layout_custom = True  # as when the user drags a dock (dockLocationChanged)
    try:
        bench.resize(1280, 800)
        _settle(bench, 0.05)
        assert bench.arrangement == "compact"
    finally:
        bench.reset_layout()
        bench.resize(bench.fitting_size())
        _settle(bench, 0.05)
    assert not bench.layout_custom and bench.arrangement == "compact"


_BIG_SCREEN_SCRIPT = r"""
import json, sys
from bceviz.app import _qapp, create_window, _settle
_qapp([])
w = create_window("workbench")
w.show()
w.resize(w.fitting_size())
_settle(w, 0.1)
w.file_actions.presentation.set(True)
_settle(w, 0.3)
sys.path.insert(0, sys.argv[1])
from test_workbench_fit import _plots, _problems
m = w.panels["metrics"]
dock = w.docks["metrics"]
out = {"window": w.size().toTuple(), "arrangement": w.arrangement,
       "metrics_plots": [p[1:] for p in _plots(m)], "compact": m.compact,
       "dock": dock.geometry().getRect(), "need": m._body.minimumSizeHint().toTuple(),
       "panel": m.size().toTuple(), "problems": [list(map(str, p)) for p in _problems(w)]}
print("RESULT" + json.dumps(out), flush=True)
import os
os._exit(0)  # not PySide's clean-up at exit (see bceviz.gui.safety.dispose)
"""


def test_presentation_at_1920_x_1080_gives_the_metrics_room(tmp_path):
    screen = {"screens": [{"name": "hd", "x": 0, "y": 0, "width": 1920, "height": 1080,
                           "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}
    config = tmp_path / "screen.json"
    config.write_text(json.dumps(screen), encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-c", _BIG_SCREEN_SCRIPT, str(Path(__file__).parent)],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
    assert proc.returncode == 0 and lines, proc.stderr[-2000:]
    out = json.loads(lines[-1][len("RESULT"):])
    assert out["window"] == [1920, 1080] and out["arrangement"] == "full", out
    assert not out["compact"], out  # the table beside the plots
    assert len(out["metrics_plots"]) == 4, out
    for width, height in out["metrics_plots"]:
        assert width >= 300 and height >= 180, out
    x, _, width, _ = out["dock"]
    assert x + width <= 1920, out  # nothing runs off the right edge
    assert out["need"][0] <= out["panel"][0], out  # the metrics' content has its width
    assert not out["problems"], out
