"""The many-labels / many-classes benchmark runs end to end (``--quick``) and reports its figures.

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


def test_lab_multilabel_bench_runs_and_reports_its_figures():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "bceviz.bench", "lab_multilabel", "--quick"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1: a goal missed on this run
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])
    assert result["suite"] == "lab_multilabel"
    assert result["labs"] == ["multilabel", "multiclass"]
    assert result["pass"] is (proc.returncode == 0)
    figures = result["figures"]
    stages = ("multilabel-decoupled", "multilabel-workbench", "multiclass-nobody",
              "multiclass-softmax")
    for stage in stages:  # gated: every live map repainted >= 50 times a second
        assert figures[f"train_fps_{stage}"]["target"] == ">= 50", stage
        assert figures[f"train_fps_{stage}"]["value"] > 0, stage  # the counters count
        assert figures[f"cpu_per_frame_{stage}"]["value"] > 0, stage
    # the exact Hessians agree with the naive baseline, which is slower
    for m in (0, 3):
        assert figures[f"ml_hessian_error_{m}"]["pass"] is True
        assert figures[f"ml_hessian_speedup_{m}"]["value"] > 0
    assert figures["drag_moved"]["value"] == 1.0
    assert {"maps", "hessian"} <= set(result["panels"]["multilabel-decoupled"])
    assert {"decision", "softmax"} <= set(result["panels"]["multiclass-softmax"])
    assert "PASS" in proc.stdout or "FAIL" in proc.stdout
