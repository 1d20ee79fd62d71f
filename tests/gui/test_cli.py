"""The bceviz command, run as a user would: a subprocess, headless."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "bceviz", *args], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=timeout)


def test_list_scenarios_prints_id_tab_lab_tab_title():
    from bceviz.model import labs, stages

    proc = run("--list-scenarios")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("\t") for line in proc.stdout.splitlines()]
    assert all(len(r) == 3 and r[0] and r[1] and r[2] for r in rows)
    ids = [r[0] for r in rows]
    assert ids[0] == "default"
    assert {"default", "xor-linear", "xor-product", "large", "workbench"} <= set(ids)
    assert ids == [s.stage_id for s in stages.all_stages()]  # the navigator's order
    assert {r[1] for r in rows} <= set(labs.lab_ids())
    assert dict((r[0], r[1]) for r in rows)["xor-linear"] == "logistic2d"
    alias = run("--list-stages")
    assert alias.stdout == proc.stdout


def test_list_scenarios_and_version_do_not_import_qt():
    code = ("import sys, contextlib, io\n"
            "from bceviz.app import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['--list-scenarios']); main(['--version'])\n"
            "print([m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph')])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_version():
    import bceviz

    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"bceviz {bceviz.__version__}"


def _report(tmp_path, *args):
    out = tmp_path / "report.json"
    proc = run(*args, "--report", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(out.read_text())


def test_xor_with_a_linear_model_gives_up_at_ln2(tmp_path):
    report = _report(tmp_path, "--scenario", "xor-linear", "--train-steps", "3000")
    assert report["steps"] == 3000
    assert report["n_points"] == 200
    assert report["train_loss"] == pytest.approx(math.log(2), abs=1e-3)
    assert {"accuracy", "w", "b"} <= set(report)
    assert len(report["w"]) == 2


def test_xor_with_the_product_feature_is_solved(tmp_path):
    report = _report(tmp_path, "--scenario", "xor-product", "--train-steps", "2000")
    assert report["accuracy"] >= 0.95
    assert report["train_loss"] < 0.2
    assert len(report["w"]) == 3


def test_report_without_training_matches_the_scenario(tmp_path):
    report = _report(tmp_path, "--scenario", "default")
    assert report["steps"] == 0 and report["w"] == [0.0, 0.0] and report["b"] == 0.0
    assert report["train_loss"] == pytest.approx(math.log(2))


def test_screenshot_is_at_least_1280_by_800(tmp_path):
    from PySide6.QtGui import QImage

    out = tmp_path / "shot.png"
    proc = run("--scenario", "default", "--train-steps", "20", "--screenshot", str(out))
    assert proc.returncode == 0, proc.stderr
    image = QImage(str(out))
    assert not image.isNull()
    assert image.width() >= 1280 and image.height() >= 800


@pytest.mark.parametrize("args, needle", [
    (("--scenario", "no-such-scenario"), "no-such-scenario"),
    (("--train-steps", "lots"), "lots"),
    (("--train-steps", "-5"), "-5"),
    (("--frobnicate",), "--frobnicate"),
])
def test_bad_input_is_one_line_without_traceback(args, needle):
    proc = run(*args)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0] and "Traceback" not in proc.stderr


def test_unwritable_report_path_is_one_line(tmp_path):
    proc = run("--report", str(tmp_path / "missing-dir" / "r.json"))
    assert proc.returncode != 0
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_self_test_passes():
    proc = run("--self-test", timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SELFTEST OK" in proc.stdout
