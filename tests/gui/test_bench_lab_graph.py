"""The graph lab's benchmark runs end to end (``--quick``) and reports its figures.

No timings are checked (the machine running the tests may be busy): the
benchmark is the evidence, this keeps it working. It runs in a child process,
as the benchmark opens its own window.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_lab_graph_bench_runs_and_reports_its_figures():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "bceviz.bench", "lab_graph", "--quick"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1: a goal missed on this run
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])
    assert result["suite"] == "lab_graph"
    assert result["pass"] is (proc.returncode == 0)
    figures = result["figures"]
    for key in ("step_ms_40", "state_step_ms_40", "frame_ms", "drag_ms", "train_fps_network",
                "drag_fps_network", "drag_moved"):
        assert key in figures and figures[key]["target"] is not None, key  # gated goals
    for key in ("naive_step_ms_40", "step_ratio_40", "layout_ms", "train_steps_per_s"):
        assert key in figures and figures[key]["value"] > 0, key  # for information
    # the counters count: the network repainted, the dragged firm's books moved
    assert figures["train_fps_network"]["value"] > 0
    assert figures["drag_fps_network"]["value"] > 0
    assert figures["drag_moved"]["value"] == 1.0
    assert set(result["panels"]["train"]) == {"network", "compare", "training"}
    assert set(result["panels"]["drag"]) == {"network", "features"}
    assert "PASS" in proc.stdout or "FAIL" in proc.stdout
