"""The bceviz command with sessions and data files, run as a user would (subprocess, headless)."""

from __future__ import annotations

import json

from bceviz.model import session
from bceviz.model.state import AppState
from tests.gui.test_cli import run


def _summary(path):
    return json.loads(path.read_text())


def test_save_after_training_then_continue_from_the_session(tmp_path):
    first = tmp_path / "first.bceviz.json"
    proc = run("--scenario", "separable-l2", "--train-steps", "30", "--save-session", str(first),
               "--report", str(tmp_path / "r1.json"))
    assert proc.returncode == 0, proc.stderr
    data = session.load_session(first)
    assert data.steps == 30 and data.scenario_id == "separable-l2"

    second = tmp_path / "second.bceviz.json"
    proc = run("--session", str(first), "--train-steps", "20", "--save-session", str(second),
               "--report", str(tmp_path / "r2.json"))
    assert proc.returncode == 0, proc.stderr
    assert _summary(tmp_path / "r2.json")["steps"] == 50  # continued, not restarted
    # the same 50 steps in one go give the same weights (gradient descent keeps no memory)
    state = AppState()
    session.apply_session(state, session.load_session(first))
    state.step(20)
    assert _summary(tmp_path / "r2.json")["w"] == [float(v) for v in state.trainer.w]

    third = tmp_path / "third.bceviz.json"  # load and save without training: an exact copy
    proc = run("--session", str(second), "--save-session", str(third))
    assert proc.returncode == 0, proc.stderr
    a, b = json.loads(second.read_text()), json.loads(third.read_text())
    a.pop("app_version"), b.pop("app_version")
    assert a == b


def test_data_file_on_the_command_line(tmp_path):
    good = tmp_path / "points.csv"
    good.write_text("a,b,label\n0,1,1\n1,0,0\n2,2,1\n-1,-1,0\n")
    proc = run("--data", str(good), "--train-steps", "5", "--report", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stderr
    report = _summary(tmp_path / "r.json")
    assert report["n_points"] == 4 and report["n_heldout"] == 0 and report["steps"] == 5


def test_bad_inputs_are_one_line_errors(tmp_path):
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("x1,x2,label\n1,2,1\n3,4,2\n")
    future = tmp_path / "future.json"
    future.write_text('{"format": "bceviz-session", "format_version": 7}')
    cases = [
        (("--data", str(bad_csv)), "bad.csv, line 3, column 3"),
        (("--data", str(tmp_path / "missing.csv")), "missing.csv"),
        (("--session", str(future)), "future.json"),
        (("--session", str(tmp_path / "nope.json")), "file not found"),
        (("--session", str(future), "--scenario", "default"), "not both"),
        (("--scenario", "default", "--save-session", str(tmp_path / "no" / "dir.json")),
         "dir.json"),
    ]
    for args, needle in cases:
        proc = run(*args, "--report", str(tmp_path / "r.json"))
        assert proc.returncode != 0, args
        assert "Traceback" not in proc.stderr, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("bceviz: error:"), proc.stderr
        assert needle in lines[0], (args, lines[0])
    assert not (tmp_path / "r.json").exists()


def test_list_scenarios_shows_every_lesson_with_its_title():
    from tests.model.test_lessons import LESSONS

    proc = run("--list-scenarios")
    assert proc.returncode == 0, proc.stderr
    rows = {r[0]: r[2] for r in (line.split("\t") for line in proc.stdout.splitlines())}
    ids = list(rows)
    assert set(LESSONS) <= set(ids)
    assert [ids.index(s) for s in LESSONS] == sorted(ids.index(s) for s in LESSONS)
    assert rows["practice-problem"] == "Practice problem: p = 0.85, y = 1"
