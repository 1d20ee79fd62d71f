"""Predictions lab benchmark: 10⁶ rows of model outputs read, figured and redrawn.

``python -m bceviz.bench lab_predictions [--quick] [--rows N] [--runs R] [--seconds S]``
generates a file of N model outputs (10⁶ by default; 200,000 with ``--quick``):
seeded logits of an over-confident model (true logits N(0, 2²), reported × 2,
labels drawn from the true probabilities, 60/20/20 train/validation/test, an
id per row), as CSV (``id,logit,label,split``, about 40 MB) and as .npy, and
measures, in one process:

* **loading** (median of R): the CSV and the .npy through the lab's reader and
  preparation (``PredictionsState.read_file``: validated, sorted, frozen),
  wall and CPU time, against a naive ``csv`` module loop in the same run
  (goal: CSV <= 3 s, .npy below the CSV);
* **memory**: the peak resident memory above the level before the load,
  while loading the CSV and computing every figure and a round of setting
  changes (Linux ``VmHWM`` after resetting it; goal <= 250 MB);
* **figures after a setting change** (median of 2R): the lab's pure
  ``compute_figures`` from the default settings' cached figures to one
  changed setting, the way the window's worker runs it, so each run
  recomputes every figure the change touches (goal: every change <= 150 ms);
  and the first full computation after a load;
* **in the window** at 1280 × 720, offscreen, on the workbench (every panel):
  from a setting change to every panel redrawn with the worker's figures
  (median), the largest event-loop stall while a 10⁶-row file loads through
  the controls' thread and while the figures are recomputed (a
  ``LatencyProbe``: the window never freezes; goal <= 100 ms), and the ranking
  and threshold panels' repaints a second while the threshold moves every
  event-loop turn for S seconds.

The CPU time is given beside the wall time: on a busy machine the wall time
grows with the share of the CPU this process gets, the CPU time much less.
Prints a table and one JSON line; exit status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import math
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from bceviz.bench import figure_table

LOAD_TARGET_S = 3.0
FIGURE_TARGET_MS = 150.0
MEMORY_TARGET_MB = 250.0
STALL_TARGET_MS = 100.0
WINDOW_SIZE = (1280, 720)
STAGE = "predictions-workbench"

#: Setting changes measured: (label, two values alternated).
CHANGES: tuple[tuple[str, dict, dict], ...] = (
    ("threshold", {"threshold": 0.3}, {"threshold": 0.5}),
    ("best-threshold rule and cost ratio", {"rule": "cost", "cost_ratio": 5.0},
     {"rule": "f1", "cost_ratio": 1.0}),
    ("focal γ", {"focal_gamma": 2.0}, {"focal_gamma": 0.0}),
    ("pos_weight", {"pos_weight": 3.0}, {"pos_weight": 1.0}),
    ("label smoothing", {"label_smoothing": 0.1}, {"label_smoothing": 0.0}),
    ("easy/hard cut", {"easy_cut": 0.7}, {"easy_cut": 0.5}),
    ("reliability bins", {"bins": 15}, {"bins": 10}),
    ("proper-scoring q", {"q": 0.4}, {"q": 0.7}),
    ("ROC / PR view", {"ranking": "pr"}, {"ranking": "roc"}),
    ("rows: the test split", {"rows": "test"}, {"rows": "all"}),
    ("fit T and the threshold on a held-out share", {"fit_on": "heldout"},
     {"fit_on": "validation"}),
)


@dataclass
class Figure:
    key: str
    label: str
    value: float
    unit: str
    target: Optional[str] = None  # ">= 50", "<= 150"; None: for information

    @property
    def passed(self) -> Optional[bool]:
        if self.target is None:
            return None
        if self.value is None or not math.isfinite(self.value):
            return False
        op, bound = self.target.split()
        return self.value >= float(bound) if op == ">=" else self.value <= float(bound)


# --------------------------------------------------------------------------- helpers


def _status_mb(field: str) -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def timed(action: Callable[[], object], runs: int, warm: bool = False) -> tuple[float, float]:
    """Median wall and CPU time of ``action()`` over ``runs`` runs, in ms."""
    if warm:
        action()
    walls, cpus = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return 1e3 * float(np.median(walls)), 1e3 * float(np.median(cpus))


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "system": platform.platform(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1)
            if hasattr(os, "sysconf") else None}


def write_files(folder: Path, n: int, seed: int = 11) -> tuple[Path, Path]:
    """The generated model outputs as CSV and .npy (see the module docstring)."""
    rng = np.random.default_rng(seed)
    true = rng.normal(0.0, 2.0, n)
    labels = (rng.random(n) < 1.0 / (1.0 + np.exp(-true))).astype(np.int64)
    split = rng.choice(3, n, p=[0.6, 0.2, 0.2])
    logits = 2.0 * true
    names = np.array(["train", "validation", "test"])[split]
    csv_path = folder / f"outputs_{n}.csv"
    with open(csv_path, "w", encoding="utf-8") as fh:
        fh.write("id,logit,label,split\n")
        step = 100_000
        for start in range(0, n, step):
            stop = min(n, start + step)
            fh.write("".join(f"ex{i:07d},{z:.6f},{y},{s}\n" for i, z, y, s in zip(
                range(start, stop), logits[start:stop].tolist(), labels[start:stop].tolist(),
                names[start:stop].tolist())))
    npy_path = folder / f"outputs_{n}.npy"
    np.save(npy_path, np.column_stack([np.round(logits, 6), labels, split]).astype(np.float64))
    return csv_path, npy_path


def naive_csv(path: Path) -> int:
    """The baseline: the csv module and a float per cell, no checks."""
    rows = 0
    logits, labels = [], []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            logits.append(float(row[1]))
            labels.append(float(row[2]))
            rows += 1
    np.array(logits)
    np.array(labels)
    return rows


# --------------------------------------------------------------------------- model
def model_figures(csv_path: Path, npy_path: Path, n: int, runs: int, baseline: bool
                  ) -> tuple[list[Figure], dict, object]:
    from bceviz.model.labs.predictions import PredictionsState, compute_figures, settings_from

    figures: list[Figure] = []
    info: dict = {}
    state = PredictionsState()
    gc.collect()
    rss0 = _status_mb("VmRSS")
    peak_ok = _reset_peak()
    t0, c0 = time.perf_counter(), time.process_time()
    data = state.read_file(csv_path)
    load_wall, load_cpu = time.perf_counter() - t0, time.process_time() - c0
    state.adopt(data, csv_path)
    t0, c0 = time.perf_counter(), time.process_time()
    first, cache = compute_figures(state.data, state.settings, {}, time.perf_counter)
    full_wall, full_cpu = 1e3 * (time.perf_counter() - t0), 1e3 * (time.process_time() - c0)
    settings = state.settings
    for _label, a, b in CHANGES:
        for change in (a, b):
            settings = settings_from(change, settings, "s")
            _f, cache = compute_figures(state.data, settings, cache)
    peak = _status_mb("VmHWM") if peak_ok else float("nan")
    extra = peak - rss0
    walls = [load_wall]
    cpus = [load_cpu]
    for _ in range(max(0, runs - 1)):
        t0, c0 = time.perf_counter(), time.process_time()
        state.read_file(csv_path)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    figures.append(Figure("load_csv_s", f"read + sort {n:,} rows of CSV (id, logit, label, "
                          "split)", float(np.median(walls)), "s", f"<= {LOAD_TARGET_S:g}"))
    figures.append(Figure("load_csv_cpu_s", "  CPU time", float(np.median(cpus)), "s"))
    npy_wall, npy_cpu = timed(lambda: state.read_file(npy_path), max(1, runs))
    figures.append(Figure("load_npy_s", f"read + sort {n:,} rows of .npy (logit, label, split)",
                          npy_wall / 1e3, "s", f"<= {float(np.median(walls)):.3g}"))
    figures.append(Figure("load_npy_cpu_s", "  CPU time", npy_cpu / 1e3, "s"))
    if baseline:
        base_wall, _ = timed(lambda: naive_csv(csv_path), 1)
        figures.append(Figure("load_csv_naive_s", "  naive csv-module loop (no checks, no "
                              "sort)", base_wall / 1e3, "s"))
        figures.append(Figure("load_csv_ratio", "  naive / ours", base_wall / 1e3 /
                              float(np.median(walls)), "x"))
    figures.append(Figure("memory_peak_mb", "peak memory above the start: load, every figure, "
                          "the setting changes", extra, "MB", f"<= {MEMORY_TARGET_MB:g}"))
    figures.append(Figure("memory_held_mb", "  held afterwards (data and cached figures)",
                          _status_mb("VmRSS") - rss0, "MB"))
    figures.append(Figure("figures_first_ms", "every figure from scratch after a load",
                          full_wall, "ms"))
    figures.append(Figure("figures_first_cpu_ms", "  CPU time", full_cpu, "ms"))
    info["first_groups_ms"] = {k: round(v, 1) for k, v in first.timings.items()}

    slowest = 0.0
    per_change = {}
    base = settings_from({}, state.settings, "s")
    _f, base_cache = compute_figures(state.data, base, {})
    for label, a, _b in CHANGES:
        changed = settings_from(a, base, "s")
        groups: dict = {}

        def change(changed=changed, groups=groups) -> None:
            # from the base settings' figures each time: a real recompute of what the change
            # touches (the cache keeps the last values too, so switching back would be free)
            f, _c = compute_figures(state.data, changed, dict(base_cache), time.perf_counter)
            groups.update({k: round(v, 1) for k, v in f.timings.items()})

        wall, cpu = timed(change, max(2, 2 * runs))
        per_change[label] = {"ms": round(wall, 1), "cpu_ms": round(cpu, 1), "groups": groups}
        slowest = max(slowest, wall)
        figures.append(Figure(f"change_ms_{label}", f"  {label}", wall, "ms"))
        figures.append(Figure(f"change_cpu_ms_{label}", "    CPU time", cpu, "ms"))
    figures.insert(len(figures) - 2 * len(CHANGES),
                   Figure("change_ms_slowest", "figures after a setting change (slowest "
                          "change, median)", slowest, "ms", f"<= {FIGURE_TARGET_MS:g}"))
    info["changes"] = per_change
    return figures, info, data


# --------------------------------------------------------------------------- GUI
def gui_figures(data, csv_path: Path, seconds: float) -> tuple[list[Figure], dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from bceviz.app import _qapp, _settle, create_window
    from bceviz.bench.gui import LatencyProbe, PaintCounter, run_loop
    from bceviz.gui.labs.predictions import worker_for

    _qapp([])
    window = create_window(STAGE)
    window.resize(*WINDOW_SIZE)
    window.show()
    _settle(window, 0.3)
    state = window.lab_state
    worker = worker_for(state)
    figures: list[Figure] = []
    info: dict = {}
    panels = window.stage_host.visible_panels()
    controls = window.stage_host.lab_view.controls

    # A 10⁶-row file through the controls' thread, with a probe of the event loop.
    probe = LatencyProbe()
    probe.start()
    t0 = time.perf_counter()
    thread = controls.load_file(str(csv_path))
    while controls.loader is not None and time.perf_counter() - t0 < 120:
        QApplication.processEvents()
        time.sleep(0.001)
    worker.wait(60.0)
    load_s = time.perf_counter() - t0
    probe.stop()
    stall_load = max(probe.samples) if probe.samples else float("nan")
    figures.append(Figure("window_load_s", f"load {state.n:,} rows through the controls' thread "
                          "to every panel drawn", load_s, "s"))
    figures.append(Figure("window_load_stall_ms", "  largest event-loop stall meanwhile",
                          stall_load, "ms", f"<= {STALL_TARGET_MS:g}"))
    info["loaded_rows"] = state.n
    del thread

    # Setting changes in the window: from update() to every panel redrawn.
    latencies = []
    probe = LatencyProbe(seed=2)
    probe.start()
    for label, a, b in CHANGES:
        for change in (a, b):
            refresh0 = {pid: p.refresh_count for pid, p in panels.items()}
            t0 = time.perf_counter()
            state.update(**change)
            worker.wait(30.0)
            for p in panels.values():
                p.flush()
            while any(p.refresh_count == refresh0[pid] for pid, p in panels.items()) and \
                    time.perf_counter() - t0 < 10:
                QApplication.processEvents()
            latencies.append((label, 1e3 * (time.perf_counter() - t0)))
    probe.stop()
    values = [v for _l, v in latencies]
    figures.append(Figure("window_change_ms", "in the window: a setting change to every panel "
                          "redrawn (median)", float(np.median(values)), "ms"))
    figures.append(Figure("window_change_max_ms", "  slowest change", max(values), "ms"))
    figures.append(Figure("window_change_stall_ms", "  largest event-loop stall meanwhile",
                          max(probe.samples) if probe.samples else float("nan"), "ms",
                          f"<= {STALL_TARGET_MS:g}"))
    info["window_changes_ms"] = [(label, round(v, 1)) for label, v in latencies]

    # The threshold moving every event-loop turn: repaints of the ranking and threshold panels.
    counter = PaintCounter()
    for pid in ("ranking", "threshold"):
        counter.watch_panel(panels[pid])
    ticks = {"k": 0}

    def move() -> None:
        ticks["k"] += 1
        state.update(threshold=0.2 + 0.6 * (0.5 + 0.5 * math.sin(ticks["k"] / 15.0)))

    timer = QTimer()
    timer.setInterval(0)
    timer.timeout.connect(move)
    before = counter.snapshot()
    timer.start()
    t0, c0 = time.perf_counter(), time.process_time()
    run_loop(seconds)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    timer.stop()
    worker.wait(10.0)
    after = counter.snapshot()
    for pid in ("ranking", "threshold"):
        figures.append(Figure(f"threshold_fps_{pid}", f"repaints a second while the threshold "
                              f"moves: {pid}", (after[pid] - before[pid]) / wall, "fps",
                              ">= 10" if pid == "ranking" else None))
    figures.append(Figure("threshold_changes_per_s", "  threshold changes a second",
                          ticks["k"] / wall, "/s"))
    figures.append(Figure("threshold_cpu_share", "  CPU share this process got", cpu / wall, ""))
    window.close()
    window.deleteLater()
    return figures, info


def _fmt(fig: Figure) -> str:
    v = fig.value
    if v is None or not math.isfinite(v):
        return "n/a"
    if fig.unit == "":
        return f"{v:.3g}"
    if fig.unit == "x":
        return f"{v:.1f}x"
    if fig.unit == "/s":
        return f"{v:,.0f} /s"
    return f"{v:.3g} {fig.unit}"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bceviz.bench lab_predictions",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="200,000 rows, one run each, a short GUI run")
    parser.add_argument("--rows", type=int, default=None, help="rows of the generated file")
    parser.add_argument("--runs", type=int, default=3, help="runs of each timing")
    parser.add_argument("--seconds", type=float, default=2.0, help="the GUI run, seconds")
    args = parser.parse_args(argv)
    n = args.rows or (200_000 if args.quick else 1_000_000)
    runs = 1 if args.quick else max(1, args.runs)
    seconds = 0.5 if args.quick else max(0.5, args.seconds)
    load_before = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="bceviz-bench-") as folder:
        t0 = time.perf_counter()
        csv_path, npy_path = write_files(Path(folder), n)
        made = time.perf_counter() - t0
        size_mb = csv_path.stat().st_size / 1e6
        figures, model_info, data = model_figures(csv_path, npy_path, n, runs,
                                                  baseline=not args.quick)
        gui, gui_info = gui_figures(data, csv_path, seconds)
    figures += gui
    load_after = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    host = machine()
    print(f"bceviz predictions lab benchmark: {n:,} generated rows ({size_mb:.1f} MB of CSV, "
          f"made in {made:.1f} s), window {WINDOW_SIZE[0]}x{WINDOW_SIZE[1]} on {STAGE}, "
          f"QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM', '')}")
    print(f"machine: {host['cpu']}, {host['cores']} cores, {host['memory_gb']} GB, Python "
          f"{host['python']}, NumPy {host['numpy']}")
    print(f"load average (1, 5, 15 min): before {load_before}, after {load_after}")
    for line in figure_table(figures, "value", _fmt):
        print(line)
    passed = all(f.passed is not False for f in figures)
    print(json.dumps({
        "suite": "lab_predictions",
        "rows": n,
        "runs": runs,
        "seconds": seconds,
        "csv_mb": round(size_mb, 2),
        "figures": {f.key: {"value": f.value if f.value is None or math.isfinite(f.value)
                            else None, "unit": f.unit, "target": f.target, "pass": f.passed}
                    for f in figures},
        "model": model_info,
        "gui": gui_info,
        "machine": host,
        "load": {"before": load_before, "after": load_after},
        "pass": passed,
    }))
    return 0 if passed else 1


__all__ = ["main"]
