"""The predictions lab's benchmark runs end to end (``--quick``) and reports its figures.

No timings are checked (the machine running the tests may be busy): the
benchmark is the evidence, this keeps it working. It runs in a child process,
as the benchmark opens its own window and generates its own file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_lab_predictions_bench_runs_and_reports_its_figures():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "bceviz.bench", "lab_predictions", "--quick",
                           "--rows", "50000"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1: a goal missed on this run
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])
    assert result["suite"] == "lab_predictions" and result["rows"] == 50_000
    assert result["pass"] is (proc.returncode == 0)
    figures = result["figures"]
    for key in ("load_csv_s", "load_npy_s", "memory_peak_mb", "change_ms_slowest",
                "window_load_stall_ms", "window_change_stall_ms", "threshold_fps_ranking"):
        assert key in figures and figures[key]["target"] is not None, key  # gated goals
    for key in ("load_csv_s", "load_npy_s", "figures_first_ms", "change_ms_threshold",
                "window_change_ms"):
        assert figures[key]["value"] > 0, key
    # every measured setting change is there, and the window loaded the file it made
    assert len(result["model"]["changes"]) == 11
    assert result["gui"]["loaded_rows"] == 50_000
    assert result["machine"]["cores"] >= 1
    assert "PASS" in proc.stdout or "FAIL" in proc.stdout
