"""The GAN lab's benchmark runs end to end (--quick) and reports its figures; no timing is asserted.

The benchmark is the evidence (``python -m bceviz.bench lab_gan``); this only
keeps it working. It runs in a child process, as it opens its own window.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_gan_bench_runs_and_reports_its_figures():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", "bceviz.bench", "lab_gan", "--quick",
                           "--seconds", "0.5"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1: a goal missed on this run
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])
    assert result["suite"] == "lab_gan" and result["pass"] is (proc.returncode == 0)
    figures = result["figures"]
    for key in ("round_ms_radial_k5", "round_ms_polynomial_k5", "frame_ms_k5",
                "train_fps_gan-vanishing", "train_fps_gan-two-modes", "train_fps_gan-workbench"):
        assert figures[key]["target"] is not None, key  # the goals are gated
        assert figures[key]["value"] is not None and figures[key]["value"] > 0, key
    assert "round_baseline_ms_radial_k5" in figures  # the contract-function round, in the same run
    panels = result["panels"]["train:gan-workbench"]
    assert set(panels) == {"densities", "generator_loss", "objective", "history"}
    assert all(p["refreshes"] > 0 for p in panels.values())  # frames were drawn while training
