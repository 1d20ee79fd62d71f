"""The engine benchmark runs end to end and prints its table and one JSON line.

No timings are asserted (the machine running the tests may be busy); the
benchmark's own output is the evidence. This keeps the script working.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_engine_bench_prints_every_gated_figure():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "bceviz.bench", "engine", "--runs", "1"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1: a goal missed on this run
    assert "speed-up, plain BCE" in proc.stdout
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])
    assert result["suite"] == "engine"
    figures = result["figures"]
    for key in ("speedup_plain", "speedup_focal"):
        assert figures[key]["target"] is not None and figures[key]["value"] > 1.0, key
    assert figures["max_rel_error"]["value"] < 1e-4
