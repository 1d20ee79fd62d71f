"""pyproject.toml ships every package and the resources a wheel install needs."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "bceviz").rglob("__init__.py")
    }
    assert found - listed == set(), f"packages missing from pyproject.toml: {found - listed}"
    assert "bceviz._resources" in listed
    assert config["tool"]["setuptools"]["package-dir"]["bceviz._resources"] == "resources"


def test_resource_globs_cover_every_resource_file():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["bceviz._resources"]
    base = ROOT / "resources"
    files = [p for p in base.rglob("*") if p.is_file()]
    assert files
    uncovered = [p for p in files if not any(p.relative_to(base).match(g) for g in globs)]
    assert not uncovered, f"resource files a wheel would leave out: {uncovered}"
