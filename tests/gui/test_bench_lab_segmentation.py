"""The segmentation lab's benchmark runs end to end (--quick) and reports its figures.

No timing is asserted (the machine running the tests may be busy): the
benchmark's own output is the evidence; this keeps it working. It runs in a
child process, as it opens its own window.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_segmentation_bench_runs_and_reports_its_gated_figures():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "bceviz.bench", "lab_segmentation", "--quick"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1: a goal missed on this run
    assert "one training step, 64²" in proc.stdout
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])
    assert result["suite"] == "lab_segmentation"
    assert result["pass"] is (proc.returncode == 0)
    figures = result["figures"]
    for key in ("step_ms", "maps_fps", "stroke_ms", "features_max_error"):
        assert figures[key]["target"] is not None, key  # the goals are gated
    # the counters counted: steps were timed, the maps were painted, the stroke painted pixels
    assert figures["step_ms"]["value"] > 0 and figures["maps_fps"]["value"] > 0
    assert figures["stroke_pixels"]["value"] > 0
    assert figures["features_max_error"]["pass"] is True
