"""The GUI benchmark runs end to end on a few frames and prints its table and JSON line.

No timings are checked here (the machine running the tests may be busy): the
benchmark is the evidence, this only keeps it working. It runs in a child
process, as the benchmark starts its own windows and start-up children.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_gui_bench_runs_a_few_frames_and_prints_one_json_line():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "bceviz.bench", "gui", "--quick", "--seconds", "0.5",
         "--frames", "40", "--moves", "3", "--startup-runs", "1"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1: a goal missed on this run
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])
    assert result["suite"] == "gui" and result["scenario"] == "large"
    assert result["pass"] is (proc.returncode == 0)
    figures = result["figures"]
    assert "naive_fps" in figures  # the yardstick, for information
    for key in ("fps_min", "panels_visible", "steps_per_frame", "latency_p95", "drag_median",
                "rss_growth", "fps_min_late", "startup"):
        assert key in figures, key
        assert figures[key]["target"] is not None, key  # the goals are gated
    # the counters count: frames were painted, the drag moved a point, start-up finished
    assert figures["naive_fps"]["value"] > 0 and figures["fps_min"]["value"] > 0
    assert "drag_moved" not in figures
    assert figures["startup"]["value"] > 0
    # a layout figure, not a speed: every workbench panel is on screen at 1280 × 800
    assert figures["panels_visible"]["pass"], figures["panels_visible"]
    assert "FAIL" in proc.stdout or "PASS" in proc.stdout
