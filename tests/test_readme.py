"""The README's commands are the ones CI runs, and the README says what it must."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = text.split("```")
    return [b.strip().splitlines()[-1] for b in blocks[1::2] if b.strip().startswith("bash")]


def test_ci_runs_the_readme_test_command():
    commands = _readme_commands()
    test_cmds = [c for c in commands if "pytest" in c]
    assert test_cmds, "README has no test command"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_cmds[0] in [line.strip() for line in ci], (test_cmds[0], "not in .ci/run")


def test_readme_has_a_command_that_starts_the_app():
    assert any(c.rstrip().endswith("bceviz") or "python3 -m bceviz" in c for c in _readme_commands())
