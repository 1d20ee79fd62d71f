"""The tipping lab's benchmark runs end to end (``--quick``) and reports its figures.

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


def test_lab_tipping_bench_runs_and_reports_its_figures():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "bceviz.bench", "lab_tipping", "--quick"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1: a goal missed on this run
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])
    assert result["suite"] == "lab_tipping"
    assert result["pass"] is (proc.returncode == 0)
    figures = result["figures"]
    for key in ("fit_ms_60", "surface_move_ms_60", "frame_figures_ms", "drag_fps",
                "drag_latency_ms", "train_fps_tipping-two-examples",
                "train_fps_tipping-grain-boundaries"):
        assert key in figures and figures[key]["target"] is not None, key  # gated goals
    for key in ("fit_ratio_60", "surface_ratio_60", "sgd_steps_per_s"):
        assert key in figures and figures[key]["value"] > 0, key  # baselines, for information
    # the counters count: panels repainted, the dragged example moved
    assert figures["train_fps_tipping-two-examples"]["value"] > 0
    assert figures["drag_fps"]["value"] > 0
    assert figures["drag_moved"]["value"] == 1.0
    assert set(result["panels"]["train:tipping-two-examples"]) == {"strip", "table", "surface",
                                                                    "readout"}
    assert "PASS" in proc.stdout or "FAIL" in proc.stdout
