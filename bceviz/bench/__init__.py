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
    "timeline_race": "bceviz.bench.timeline_race:main",
    # One suite per lab (docs/architecture.md, "Labs"); a lab not built yet is skipped.
    "lab_tipping": "bceviz.bench.lab_tipping:main",
    "lab_multilabel": "bceviz.bench.lab_multilabel:main",
    "lab_segmentation": "bceviz.bench.lab_segmentation:main",
    "lab_hurdle": "bceviz.bench.lab_hurdle:main",
    "lab_gan": "bceviz.bench.lab_gan:main",
    "lab_graph": "bceviz.bench.lab_graph:main",
    "lab_predictions": "bceviz.bench.lab_predictions:main",
}



def figure_table(figures, value_header: str, format_value) -> list[str]:
    """Aligned rows (figure, value, target, PASS/FAIL) for a suite's printed table.

    ``figures`` have ``label``, ``unit``, ``target`` (None: information only)
    and ``passed``; ``format_value(figure)`` gives the value column's text.
    """
    rows = [("figure", value_header, "target", "")]
    for fig in figures:
        target = "" if fig.target is None else f"{fig.target} {fig.unit}".rstrip()
        status = "" if fig.passed is None else ("PASS" if fig.passed else "FAIL")
        rows.append((fig.label, format_value(fig), target, status))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for i, r in enumerate(rows):
        lines.append("  ".join(r[j].ljust(widths[j]) if j in (0, 2) else r[j].rjust(widths[j])
                               for j in range(4)).rstrip())
        if i == 0:
            lines.append("-" * (sum(widths) + 6))
    return lines


__all__ = ["SUITES", "figure_table"]
