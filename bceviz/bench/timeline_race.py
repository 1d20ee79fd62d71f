"""Benchmark of the 2-D lab's timeline and optimizer race in the scenario ``large`` (1,000 points).

Run with ``python -m bceviz.bench timeline_race`` (``--quick`` for a short run).
The window is the real one at 1280 × 800, offscreen, every panel docked as a
user sees it (the suite ``gui``'s window, :func:`bceviz.bench.gui.build_window`).

* **scrub** -- the timeline moved to a random recorded step, then every panel
  of the lab redrawn (each panel's ``flush``) and painted: the time from the
  ``scrub_to`` call to the end of the paint, median over the moves. Goal
  <= 16.7 ms (one frame at 60 Hz).
* **five racers** -- gd, sgd, momentum, adam and newton racing while training
  runs live: paint rates of the loss surface and the data panel. Goal >= 50
  repaints a second each.
* **memory** -- RSS growth between frame 1,000 and frame 20,000 of forced
  racing frames (tick, redraw, paint; a point moved every tenth frame).
  Goal <= 10 MB.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import sys
import time
from typing import Optional

import numpy as np

from bceviz.bench.gui import (
    DRAG_TARGET_MS,
    FPS_TARGET,
    RSS_GROWTH_TARGET_MB,
    SCENARIO,
    WINDOW_SIZE,
    Figure,
    PaintCounter,
    _qt,
    build_window,
    load_average,
    machine,
    measure_training,
    percentile,
    report,
    rss_mb,
    run_loop,
)

RACERS = "gd,sgd,momentum,adam,newton"


def measure_scrub(window, moves: int, seed: int = 5) -> dict:
    """Milliseconds from ``scrub_to`` to every panel redrawn and painted, per move."""
    from PySide6.QtWidgets import QApplication

    state = window.state
    state.set_running(False)
    rng = np.random.default_rng(seed)
    n = len(state.trainer.history)
    times, cpu = [], []
    for _ in range(moves):
        index = int(rng.integers(0, n - 1))
        t0, c0 = time.perf_counter(), time.process_time()
        state.scrub_to(index)
        for panel in window.panels.values():
            panel.flush()
        QApplication.processEvents()  # the paint
        times.append((time.perf_counter() - t0) * 1000.0)
        cpu.append((time.process_time() - c0) * 1000.0)
    state.scrub_to(None)
    return {"ms": times, "cpu_ms": cpu, "records": n}


def measure_race_memory(window, frames_first: int, frames_total: int) -> dict:
    """RSS after ``frames_first`` and ``frames_total`` forced racing frames."""
    from PySide6.QtWidgets import QApplication

    from bceviz.model.race import race_of

    state = window.state
    race = race_of(state)
    rng = np.random.default_rng(11)
    state.set_running(True)
    window.train_timer.stop()  # frames are forced here, one after another
    live = [p for p in window.panels.values() if not p.min_interval_ms]
    rss = {}
    t0 = time.perf_counter()
    for frame in range(1, frames_total + 1):
        if frame % 10 == 0:
            i = int(rng.integers(state.n_points))
            x = state.X[i] + rng.normal(scale=0.02, size=2)
            state.move_point(i, float(x[0]), float(x[1]))
        window._on_frame()
        for panel in live:
            panel.flush()
        QApplication.processEvents()
        QApplication.processEvents()
        if frame in (frames_first, frames_total):
            gc.collect()
            rss[frame] = rss_mb()
        if state.trainer.diverged or not state.running:
            state.reset_weights()
            state.set_running(True)
            window.train_timer.stop()
    wall = time.perf_counter() - t0
    window.train_timer.start()
    return {"growth_mb": rss[frames_total] - rss[frames_first], "rss_first_mb": rss[frames_first],
            "ms_per_frame": 1000.0 * wall / frames_total, "racers": len(race.racers),
            "race_steps": max((r.trainer.steps for r in race.racers), default=0)}


def run(args) -> tuple[list[Figure], dict, list[str]]:
    from bceviz.model.race import race_of

    quick = args.quick
    seconds = args.seconds or (3.0 if quick else 6.0)
    frames_total = args.frames or (3000 if quick else 20000)
    frames_first = min(1000, frames_total // 2)
    moves = args.moves or (30 if quick else 100)
    notes: list[str] = []
    info: dict = {"load_before": load_average()}
    app = _qt()  # noqa: F841 - keeps the application alive

    window = build_window()
    counter = PaintCounter()
    for panel in window.panels.values():
        counter.watch_panel(panel)
    run_loop(1.5)
    state = window.state
    state.step(400)  # a history to scrub
    run_loop(0.5)

    scrub = measure_scrub(window, moves)
    figures = [
        Figure("scrub_median", f"scrub: timeline moved -> every panel redrawn and painted, "
               f"median ({state.n_points:,} points)", statistics.median(scrub["ms"]), "ms",
               f"<= {DRAG_TARGET_MS:g}"),
        Figure("scrub_p90", "  90th percentile", percentile(scrub["ms"], 90), "ms"),
        Figure("scrub_cpu_median", "  CPU time of a scrub, median (what a free core needs)",
               statistics.median(scrub["cpu_ms"]), "ms"),
    ]

    race_of(state).start(RACERS)
    train = measure_training(window, counter, seconds)
    for pid in ("surface", "data"):
        figures.append(Figure(f"race_fps_{pid}", f"five racers, training live: {pid} repaints/s",
                              train["panels"][pid]["fps"], "fps", f">= {FPS_TARGET:g}"))
    figures.append(Figure("race_steps_per_s", "  race steps per second (each racer)",
                          train["steps"] / train["wall_s"], "/s"))

    mem = measure_race_memory(window, frames_first, frames_total)
    figures += [
        Figure("race_rss_growth", f"five racers: RSS growth from frame {frames_first:,} to "
               f"{frames_total:,}", mem["growth_mb"], "MB", f"<= {RSS_GROWTH_TARGET_MB:g}"),
        Figure("race_forced_frame_ms", "  forced racing frame (tick, redraw, paint), mean",
               mem["ms_per_frame"], "ms"),
    ]
    state.set_running(False)
    window.close()
    window.deleteLater()
    run_loop(0.05)
    info.update(machine())
    info["load_after"] = load_average()
    info["scrub_records"] = scrub["records"]
    if quick:
        notes.append(f"--quick: {seconds:g} s runs, {frames_total:,} frames for memory "
                     "(the full run: 6 s, 20,000)")
    return figures, info, notes


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bceviz.bench timeline_race",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs")
    parser.add_argument("--seconds", type=float, default=0.0, help="length of the paint-rate run")
    parser.add_argument("--frames", type=int, default=0, help="frames of the memory run (20,000)")
    parser.add_argument("--moves", type=int, default=0, help="timeline moves (100)")
    args = parser.parse_args(argv)
    figures, info, notes = run(args)
    print(report(figures, info, notes))
    passed = all(f.passed is not False for f in figures)
    print(json.dumps({
        "suite": "timeline_race", "scenario": SCENARIO, "window": list(WINDOW_SIZE),
        "figures": {f.key: {"value": None if f.value is None or not math.isfinite(f.value)
                            else round(float(f.value), 3),
                            "unit": f.unit, "target": f.target, "pass": f.passed}
                    for f in figures},
        "notes": notes, "machine": info, "pass": passed,
    }))
    sys.stdout.flush()
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
