"""The hurdle lab's benchmark runs end to end (quick) and reports its figures; no timing asserted.

It runs in a child process, as the benchmark opens its own window; the machine
running the tests may be busy, so only the figures' presence is checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_hurdle_bench_runs_and_reports_its_figures():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "bceviz.bench", "lab_hurdle", "--quick"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1: a goal missed on this run
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])
    assert result["suite"] == "lab_hurdle" and result["people"] == 1000
    assert result["pass"] is (proc.returncode == 0)
    figures = result["figures"]
    for key in ("frame_ms", "freq_max_rel_error", "fps"):
        assert figures[key]["target"] is not None, key  # the goals are gated
    for stage in ("hurdle-too-many-zeros", "hurdle-yes-no-first", "hurdle-two-losses"):
        assert figures[f"fps_{stage}"]["value"] > 0, stage  # frames were painted
        assert f"cpu_{stage}" in figures
    assert figures["freq_max_rel_error"]["value"] < 1e-9  # the two ways agree
    assert figures["freq_speedup"]["value"] > 1
    assert "table" not in result and "figure" in proc.stdout  # the printed table
