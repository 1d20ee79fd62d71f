"""Engine benchmark: the loss surface against the naive float64 surface, at G = 128, N = 1,000.

``python -m bceviz.bench engine [--runs N]`` prints a table (median of
several runs of each figure, its target, PASS/FAIL) and one JSON line with the
same figures and the machine. Both the naive and the fast surfaces run in the
same process, so the speed-ups are comparable even on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import tracemalloc
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from bceviz.engine.losses import LossSpec, loss_from_logits
from bceviz.bench import figure_table
from bceviz.engine.surface import LossSurface

RESOLUTION = 128
N_POINTS = 1000
FOCAL = LossSpec(focal_gamma=2.0, focal_alpha=0.25)  # torchvision's defaults


@dataclass
class Figure:
    """One measured number, its target and whether it meets it."""

    key: str
    label: str
    value: float
    unit: str
    target: Optional[str] = None  # e.g. ">= 7", "<= 1"; None: for information

    @property
    def passed(self) -> Optional[bool]:
        if self.target is None:
            return None
        op, bound = self.target.split()
        return self.value >= float(bound) if op == ">=" else self.value <= float(bound)


def naive_surface(X: np.ndarray, y: np.ndarray, spec: LossSpec, resolution: int) -> np.ndarray:
    """The reference: the whole (G², N) float64 logit matrix, loss_from_logits, mean."""
    w = np.linspace(-6.0, 6.0, resolution)
    W1, W2 = np.meshgrid(w, w)
    logits = W1.reshape(-1, 1) * X[:, 0] + W2.reshape(-1, 1) * X[:, 1]
    return loss_from_logits(logits, y[None, :], spec).mean(axis=1).reshape(W1.shape)


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping Gaussian blobs, standardised as the app standardises data."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.5).astype(np.float64)
    X = rng.normal(size=(n, 2)) + np.where(y[:, None] == 1.0, 1.0, -1.0)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, y


def median_ms(action: Callable[[int], object], runs: int) -> float:
    """Median wall time of action(k) for k = 0..runs-1, in milliseconds (after a warm-up)."""
    action(-1)
    times = []
    for k in range(runs):
        start = time.perf_counter()
        action(k)
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def _full_recompute(surface: LossSurface) -> Callable[[int], object]:
    """A full recompute: a new bias slice, then read the values."""
    return lambda k: (surface.set_bias(1e-3 * (k + 2)), surface.values)


def interleaved_median_ms(naive: Callable[[], object], fast: Callable[[int], object],
                          runs: int, fast_per_naive: int = 3) -> tuple[float, float]:
    """Medians (ms) of naive() and fast(k), timed alternately so both see the same load."""
    naive()
    fast(-1)
    naive_times, fast_times = [], []
    for k in range(runs):
        start = time.perf_counter()
        naive()
        naive_times.append(time.perf_counter() - start)
        for j in range(fast_per_naive):
            start = time.perf_counter()
            fast(k * fast_per_naive + j)
            fast_times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(naive_times)), 1e3 * float(np.median(fast_times))


def _peak_extra_mb(surface: LossSurface) -> float:
    """Peak memory allocated above the starting point during one full recompute (tracemalloc)."""
    surface.set_bias(surface.bias + 0.01)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        surface.values  # noqa: B018
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - base) / 1e6


def run(runs: int = 5) -> tuple[list[Figure], dict]:
    X, y = make_data(N_POINTS)
    G = RESOLUTION
    rng = np.random.default_rng(1)
    figures: list[Figure] = []
    edit_runs = max(51, 10 * runs + 1)

    # Naive surfaces (the reference) against full recomputes, and the accuracy.
    plain = LossSurface(X, y, resolution=G)
    focal = LossSurface(X, y, FOCAL, resolution=G)
    naive_plain, fast_plain = interleaved_median_ms(
        lambda: naive_surface(X, y, LossSpec(), G), _full_recompute(plain), runs)
    naive_focal, fast_focal = interleaved_median_ms(
        lambda: naive_surface(X, y, FOCAL, G), _full_recompute(focal), runs)
    worst = 0.0
    for spec in (LossSpec(), FOCAL):
        ref = naive_surface(X, y, spec, G)
        got = LossSurface(X, y, spec, resolution=G).values
        worst = max(worst, float(np.max(np.abs(got - ref) / ref)))
    figures += [
        Figure("naive_plain_ms", "naive full surface, plain BCE", naive_plain, "ms"),
        Figure("naive_focal_ms", "naive full surface, focal (g=2, a=0.25)", naive_focal, "ms"),
        Figure("full_plain_ms", "full recompute, plain BCE", fast_plain, "ms"),
        Figure("full_focal_ms", "full recompute, focal (g=2, a=0.25)", fast_focal, "ms"),
        Figure("speedup_plain", "speed-up, plain BCE", naive_plain / fast_plain, "x", ">= 7"),
        Figure("speedup_focal", "speed-up, focal", naive_focal / fast_focal, "x", ">= 4"),
        Figure("max_rel_error", "max relative error vs naive", worst, "", "<= 1e-5"),
    ]

    # Point edits on the plain surface (each followed by reading the values).
    plain.set_bias(0.0)
    plain.values  # noqa: B018

    def move(k):
        plain.move_point(int(rng.integers(N_POINTS)), rng.normal(size=2))
        return plain.values

    def add(k):
        plain.add_point(rng.normal(size=2), float(k % 2))
        return plain.values

    def remove(k):
        plain.remove_point(plain.n_points - 1)
        return plain.values

    def label_flip(k):
        i = int(rng.integers(plain.n_points))
        plain.set_label(i, 1.0 - plain.y[i])
        return plain.values

    smoothing = iter(np.linspace(0.0, 0.3, edit_runs + 1)[::-1])
    weights = iter(np.linspace(0.5, 4.0, edit_runs + 1))

    def smoothing_change(k):
        plain.set_spec(LossSpec(label_smoothing=float(next(smoothing))))
        return plain.values

    def pos_weight_change(k):
        plain.set_spec(LossSpec(label_smoothing=0.1, pos_weight=float(next(weights))))
        return plain.values

    figures += [
        Figure("move_ms", "point move", median_ms(move, edit_runs), "ms", "<= 1"),
        Figure("add_ms", "point add", median_ms(add, edit_runs), "ms", "<= 1"),
        Figure("remove_ms", "point remove", median_ms(remove, edit_runs), "ms", "<= 1"),
        Figure("label_flip_ms", "label flip", median_ms(label_flip, edit_runs), "ms", "<= 2"),
        Figure("smoothing_ms", "label_smoothing change", median_ms(smoothing_change, edit_runs),
               "ms", "<= 2"),
        Figure("pos_weight_ms", "pos_weight change", median_ms(pos_weight_change, edit_runs),
               "ms", "<= 2"),
    ]

    # Memory: the largest of the three float32 kernels.
    focal_general = LossSurface(X, y, LossSpec(label_smoothing=0.1, focal_gamma=2.0),
                                resolution=G)
    peak = max(_peak_extra_mb(s) for s in (plain, focal, focal_general))
    figures.append(Figure("peak_extra_mb", "peak extra memory, full recompute", peak, "MB",
                          "<= 16"))

    # For information: focal point edits, the general focal kernel, float64 paths.
    focal.values  # noqa: B018

    def focal_move(k):
        focal.move_point(int(rng.integers(N_POINTS)), rng.normal(size=2))
        return focal.values

    wide = LossSurface(X, y, resolution=G, w1_range=(-60, 60), w2_range=(-60, 60))
    figures += [
        Figure("focal_move_ms", "point move, focal", median_ms(focal_move, edit_runs), "ms",
               "<= 1"),
        Figure("full_focal_smoothed_ms", "full recompute, focal + smoothing 0.1",
               median_ms(_full_recompute(focal_general), max(5, runs)), "ms"),
        Figure("full_wide_ms", "full recompute, plain, w in [-60, 60]^2 (float64)",
               median_ms(_full_recompute(wide), max(5, runs)), "ms"),
    ]
    return figures, machine()


def machine() -> dict:
    processor = platform.processor()
    if not processor or processor == platform.machine():
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as f:
                processor = next(
                    (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                    processor,
                )
        except OSError:
            pass
    info = {
        "processor": processor or platform.machine(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "system": platform.system(),
    }
    if hasattr(os, "getloadavg"):
        info["load_average_1min"] = round(os.getloadavg()[0], 2)
    return info


def _format_value(fig: Figure) -> str:
    if fig.unit == "x":
        return f"{fig.value:.1f}x"
    if fig.unit == "":
        return f"{fig.value:.1e}"
    digits = 3 if fig.value < 10 else 1
    return f"{fig.value:.{digits}f} {fig.unit}"


def report(figures: list[Figure], info: dict, runs: int) -> str:
    lines = [
        f"bceviz engine benchmark: G = {RESOLUTION}, N = {N_POINTS}, "
        f"medians of >= {runs} runs",
        f"machine: {info['processor']}, {info['cores']} cores, numpy {info['numpy']}, "
        f"load {info.get('load_average_1min', '?')}",
    ]
    lines += figure_table(figures, "median", _format_value)
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bceviz.bench engine", description=__doc__)
    parser.add_argument("--runs", type=int, default=5,
                        help="runs of each naive surface (>= 5); faster figures run more often")
    args = parser.parse_args(argv)
    runs = max(5, args.runs)
    figures, info = run(runs)
    print(report(figures, info, runs))
    passed = all(f.passed is not False for f in figures)
    print(json.dumps({
        "suite": "engine",
        "resolution": RESOLUTION,
        "n_points": N_POINTS,
        "runs": runs,
        "figures": {
            f.key: {"value": round(f.value, 6) if f.unit != "" else f.value, "unit": f.unit,
                    "target": f.target, "pass": f.passed}
            for f in figures
        },
        "machine": info,
        "pass": passed,
    }))
    return 0 if passed else 1
