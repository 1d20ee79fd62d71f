"""The 2-D lab's timeline in numbers: the recorded steps, their loss, where the view is, what is thinned.

The timeline scrubs the trainer's own bounded history
(``bceviz.engine.logistic.TrainingHistory``): one record per kept step,
thinned to every ``stride``-th step when it grows long. This module turns it
into what the timeline bar shows, without Qt, so the bar and the tests read
the same object (see ``docs/architecture.md``, "Derived figures").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass(frozen=True, eq=False)
class TimelineFigures:
    """What the timeline shows.

    ``n_records`` records (at least 1); ``index`` the record shown (0 ..
    n_records − 1; the newest when at the present); ``at_present`` whether the
    view follows training; ``step`` and ``loss`` (mean training loss in nats,
    penalty excluded; never NaN or inf: a non-finite record reads 0 and
    ``loss_ok`` is False) of that record; ``stride`` the spacing of kept records
    (1 = every step); ``thinned_until`` the last step of the thinned stretch (0
    when nothing is thinned); ``label`` the one-line readout and ``thinned_note``
    the sentence that says what is thinned ("" when nothing is).
    """

    n_records: int
    index: int
    at_present: bool
    step: int
    loss: float
    loss_ok: bool
    stride: int
    thinned_until: int
    label: str
    thinned_note: str


def timeline_figures(state) -> TimelineFigures:
    """The timeline of ``state`` (an ``AppState``): its trainer's history and scrub position."""
    hist = state.trainer.history
    n = len(hist)
    steps = hist.step
    scrub: Optional[int] = state.scrub_index
    index = n - 1 if scrub is None else int(scrub)
    step = int(steps[index]) if n else 0
    raw = float(hist.loss[index]) if n else 0.0
    loss_ok = bool(np.isfinite(raw))
    loss = raw if loss_ok else 0.0
    stride = int(hist.stride)
    gaps = np.flatnonzero(np.diff(steps) > 1) if n > 1 else np.empty(0, dtype=np.intp)
    thinned_until = int(steps[gaps[-1] + 1]) if gaps.size else 0
    note = ""
    if thinned_until:
        note = (f"thinned: steps 0–{thinned_until:,} keep one step in {stride:,} "
                f"({n:,} records)")
    where = "now" if scrub is None else f"{index + 1:,} of {n:,}"
    shown = f"{loss:.4f}" if loss_ok else "—"
    label = f"step {step:,} · loss {shown} nats · {where}"
    return TimelineFigures(n_records=n, index=index, at_present=scrub is None, step=step,
                           loss=loss, loss_ok=loss_ok, stride=stride,
                           thinned_until=thinned_until, label=label, thinned_note=note)


__all__ = ["TimelineFigures", "timeline_figures"]
