"""One locator for bundled files (scenarios, data, icons) in every way bceviz runs.

Order: the PyInstaller bundle (``sys._MEIPASS/resources``), the package data
of a wheel install (``bceviz/_resources``), then the source tree
(``<repo>/resources``, which also serves editable installs, where
``bceviz/_resources`` does not exist on disk).
"""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The folder that holds ``data/``, ``scenarios/`` and ``icons/``."""
    candidates = []
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        candidates.append(Path(frozen) / "resources")
    here = Path(__file__).resolve().parent
    candidates.append(here / "_resources")
    candidates.append(here.parent / "resources")
    for cand in candidates:
        if (cand / "data").is_dir():
            return cand
    raise FileNotFoundError(
        "bceviz resources not found; looked in " + ", ".join(str(c) for c in candidates)
    )


def resource_path(*parts: str) -> Path:
    """Path of a bundled file, e.g. ``resource_path("data", "breast_cancer_wisconsin.csv")``."""
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"bundled resource missing: {'/'.join(parts)}")
    return path
