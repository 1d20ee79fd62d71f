"""Benchmarks of bceviz, run with ``python -m bceviz.bench [suite ...]``.

Each suite is a function ``main(argv: list[str]) -> int`` that prints a table
and one JSON line and returns 0 when every figure meets its target. A new
suite is one line in ``SUITES``.
"""

from __future__ import annotations

#: Registered suites, in the order ``python -m bceviz.bench`` runs them:
#: name -> "module:function".
SUITES: dict[str, str] = {
    "engine": "bceviz.bench.engine:main",
    "gui": "bceviz.bench.gui:main",
}

__all__ = ["SUITES"]
