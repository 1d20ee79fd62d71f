"""Number formatting for labels: never prints nan or inf, says when a value was clipped."""

from __future__ import annotations

import math

from bceviz.engine.losses import NATS_PER_BIT


def num(value: float, digits: int = 4) -> str:
    """A finite number with ``digits`` significant digits; '—' for NaN, '∞' markers for inf."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "—"
    if math.isnan(v):
        return "—"
    if math.isinf(v):
        return "> 1e308" if v > 0 else "< -1e308"
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or abs(v) < 1e-4:
        return f"{v:.{max(digits - 1, 1)}e}"
    return f"{v:.{digits}g}"


def loss(nats: float, units: str = "nats", digits: int = 4) -> str:
    """A loss in the chosen units with its unit name."""
    value = nats / NATS_PER_BIT if units == "bits" else nats
    text = num(value, digits)
    unit = units[:-1] if text in ("1", "−1", "-1") else units  # "1 bit", not "1 bits"
    return f"{text} {unit}"
