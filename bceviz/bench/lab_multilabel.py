"""Many-labels and many-classes labs' benchmark: the engine's fits and Hessians, and the maps' repaint rate.

``python -m bceviz.bench lab_multilabel [--quick] [--runs N] [--seconds S]``
measures, in one process, at 300 points and K = 4:

* **multi-label engine**: the fit (K Newton fits), one live training step
  without and with the shared tanh layer, the exact Hessian against the
  naive baseline of central differences of the exact gradient (2P gradient
  evaluations; the ratio is given and the two must agree), and the derived
  figures one frame reads (the maps, the Hessian, the thresholds);
* **one-vs-rest engine**: both fits from scratch, the warm-started refit one
  dragged point costs, one step of both models, and the maps' figures; the
  naive baseline of the maps is one ``ovr_probabilities`` call per grid row;
* the **maps' repaints per second** in the real window at 1280 × 720 while
  ``state.step()`` runs from a 0-ms QTimer for S seconds (2 by default), on
  stages of both labs (re-set to 300 points and K = 4, training from zero
  weights): an event filter counts real ``QEvent.Paint`` events on each
  panel's pyqtgraph viewports that show new content (bceviz.bench.gui's
  PaintCounter). Every live panel (every map, the Hessian) is gated at >= 50
  a second; throttled panels (thresholds, ROC, confusion, code) are given for
  information;
  The event loop's share of a core and its CPU time per frame are given
  too: on a machine busy with other work the repaint rate says more about
  the other work than about the panels;
* a **drag** on the one-vs-rest decision map: real mouse moves, each timed
  until the map has refit, redrawn and painted (median, for information).

Prints a table and one JSON line; exit status 1 when a goal is missed.
Timings on a shared two-core machine are noisy: medians, and the load average.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from bceviz.bench import figure_table

N_POINTS = 300
N_LABELS = 4
FPS_TARGET = 50.0
WINDOW_SIZE = (1280, 720)
#: (stage, settings laid over it): 300 points, K = 4, trained live from zero.
TRAIN_STAGES = (
    ("multilabel-decoupled", {"n_labels": N_LABELS, "n_points": N_POINTS, "start": "zero"}),
    ("multilabel-workbench", {"n_labels": N_LABELS, "n_points": N_POINTS, "start": "zero"}),
    ("multiclass-nobody", {"n_classes": N_LABELS, "n_points": N_POINTS, "start": "zero",
                           "dataset": "ring"}),
    ("multiclass-softmax", {"n_classes": N_LABELS, "n_points": N_POINTS, "start": "zero",
                            "dataset": "ring"}),
)


@dataclass
class Figure:
    key: str
    label: str
    value: float
    unit: str
    target: Optional[str] = None  # ">= 50", "<= 1e-6"; None: for information

    @property
    def passed(self) -> Optional[bool]:
        if self.target is None:
            return None
        if self.value is None or not math.isfinite(self.value):
            return False
        op, bound = self.target.split()
        return self.value >= float(bound) if op == ">=" else self.value <= float(bound)


def median_ms(action: Callable[[], object], runs: int) -> float:
    """Median wall time of ``action()`` over ``runs`` runs after one warm-up, in ms."""
    action()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        action()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def central_difference_hessian(X, Y, params, l2: float, h: float = 1e-5) -> np.ndarray:
    """The naive Hessian: central differences of the exact gradient, one column at a time."""
    from bceviz.engine import multilabel as ml

    theta = params.flat()
    d, K, m = params.n_inputs, params.n_labels, params.n_hidden
    H = np.empty((theta.size, theta.size))
    for j in range(theta.size):
        step = np.zeros_like(theta)
        step[j] = h
        up = ml.shared_gradient(X, Y, ml.SharedParams.from_flat(theta + step, d, K, m), l2=l2)
        down = ml.shared_gradient(X, Y, ml.SharedParams.from_flat(theta - step, d, K, m), l2=l2)
        H[:, j] = (up.flat() - down.flat()) / (2 * h)
    return 0.5 * (H + H.T)


# --------------------------------------------------------------------------- engine
def engine_figures(runs: int) -> list[Figure]:
    from bceviz.engine import multiclass as mc
    from bceviz.engine import multilabel as ml
    from bceviz.model.labs.multiclass import MulticlassState
    from bceviz.model.labs.multilabel import MultilabelState

    figures: list[Figure] = []
    X, Y = ml.multilabel_dataset("independent", N_POINTS, N_LABELS, seed=0)
    l2 = 0.01
    figures.append(Figure("ml_fit_ms", f"multi-label fit, {N_POINTS} points, K = {N_LABELS}",
                          median_ms(lambda: ml.fit_multilabel(X, Y, l2=l2), runs), "ms"))
    for m, name in ((0, "independent"), (3, "shared layer (3 tanh units)")):
        trainer = ml.MultilabelTrainer(X, Y, l2=l2, hidden_units=m, lr=0.5)
        figures.append(Figure(f"ml_step_ms_{m}", f"  one training step, {name}",
                              median_ms(lambda t=trainer: t.step(1), runs * 4), "ms"))
        trainer.step(50)
        params = trainer.params
        exact = median_ms(lambda p=params: ml.shared_hessian(X, Y, p, l2=l2), runs)
        naive = median_ms(lambda p=params: central_difference_hessian(X, Y, p, l2),
                          max(3, runs // 3))
        H = ml.shared_hessian(X, Y, params, l2=l2)
        error = float(np.max(np.abs(H - central_difference_hessian(X, Y, params, l2))))
        figures.append(Figure(f"ml_hessian_ms_{m}", f"  exact Hessian {H.shape[0]}², {name}",
                              exact, "ms"))
        figures.append(Figure(f"ml_hessian_naive_ms_{m}", "    central differences (naive)",
                              naive, "ms"))
        figures.append(Figure(f"ml_hessian_speedup_{m}", "    exact against naive",
                              naive / exact, "x"))
        figures.append(Figure(f"ml_hessian_error_{m}", "    largest difference, the two ways",
                              error, "", "<= 1e-6"))

    state = MultilabelState()
    state.apply_settings({"n_labels": N_LABELS, "n_points": N_POINTS})
    state.step(20)

    def frame() -> None:
        state.version += 1  # as a training step does, without changing the weights
        state.grid()
        state.hessian_figure()
        state.threshold_figure()
        state.points_figure()

    figures.append(Figure("ml_frame_ms", "  a frame's derived figures (maps, Hessian, "
                          "thresholds)", median_ms(frame, runs * 2), "ms"))

    Xc, labels = mc.multiclass_dataset("ring", N_POINTS, N_LABELS, seed=0)
    figures.append(Figure("mc_fit_ms", f"one-vs-rest + softmax fits, {N_POINTS} points, "
                          f"K = {N_LABELS}", median_ms(lambda: (
                              mc.fit_one_vs_rest(Xc, labels, N_LABELS, l2=l2),
                              mc.fit_softmax(Xc, labels, N_LABELS, l2=l2)), runs), "ms"))
    cstate = MulticlassState()
    cstate.apply_settings({"n_classes": N_LABELS, "n_points": N_POINTS, "dataset": "ring"})
    rng = np.random.default_rng(1)

    def drag_refit() -> None:
        cstate.move_point(0, cstate.X[0] + rng.normal(0.0, 0.05, 2))

    figures.append(Figure("mc_refit_ms", "  refit after one point moved (warm start)",
                          median_ms(drag_refit, runs * 2), "ms"))
    ctrainer = mc.MulticlassTrainer(Xc, labels, N_LABELS, l2=l2)
    figures.append(Figure("mc_step_ms", "  one training step of both models",
                          median_ms(lambda: ctrainer.step(1), runs * 4), "ms"))

    def cframe() -> None:
        cstate.version += 1
        cstate.grid()
        cstate.points_figure()
        cstate.metrics_figure()

    figures.append(Figure("mc_frame_ms", "  a frame's derived figures (maps, metrics)",
                          median_ms(cframe, runs * 2), "ms"))
    g = cstate.grid()
    pts = [np.column_stack([g.xs, np.full(g.xs.size, y)]) for y in g.ys]

    def naive_maps() -> None:
        for row in pts:
            mc.ovr_probabilities(row, *cstate.ovr)

    def whole_maps() -> None:
        gx, gy = np.meshgrid(g.xs, g.ys)
        mc.ovr_probabilities(np.column_stack([gx.ravel(), gy.ravel()]), *cstate.ovr)

    t_naive, t_whole = median_ms(naive_maps, runs), median_ms(whole_maps, runs)
    figures.append(Figure("mc_maps_ms", f"  one-vs-rest maps {g.xs.size}², one product",
                          t_whole, "ms"))
    figures.append(Figure("mc_maps_naive_ms", "    row by row (naive)", t_naive, "ms"))
    figures.append(Figure("mc_maps_speedup", "    one product against row by row",
                          t_naive / t_whole, "x"))
    return figures


# --------------------------------------------------------------------------- GUI
def gui_figures(seconds: float, moves: int) -> tuple[list[Figure], dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from bceviz.app import _qapp, _settle, create_window
    from bceviz.bench.gui import PaintCounter, run_loop

    _qapp([])
    window = create_window(TRAIN_STAGES[0][0])
    window.resize(*WINDOW_SIZE)
    window.show()
    _settle(window, 0.3)
    figures: list[Figure] = []
    info: dict = {"rates": {}}
    for stage_id, settings in TRAIN_STAGES:
        window.show_stage(stage_id)
        window.resize(*WINDOW_SIZE)
        state = window.lab_state
        state.apply_settings(settings)
        _settle(window, 0.3)
        shown = window.stage_host.visible_panels()
        counter = PaintCounter()
        for panel in shown.values():
            counter.watch_panel(panel)
        timer = QTimer()
        timer.setInterval(0)
        timer.timeout.connect(lambda s=state: s.step(1))
        refresh0 = {pid: p.refresh_count for pid, p in shown.items()}
        steps0 = state.steps
        run_loop(0.2)
        before = counter.snapshot()
        timer.start()
        t0, c0 = time.perf_counter(), time.thread_time()
        run_loop(seconds)
        wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
        timer.stop()
        after = counter.snapshot()
        rates = {}
        for pid, panel in shown.items():
            rates[pid] = {"fps": (after[pid] - before[pid]) / wall,
                          "refreshes": panel.refresh_count - refresh0[pid],
                          "min_interval_ms": panel.min_interval_ms,
                          "size": [panel.width(), panel.height()]}
        info["rates"][stage_id] = rates
        live = [pid for pid, r in rates.items() if not r["min_interval_ms"]]
        slowest = min(rates[pid]["fps"] for pid in live)
        figures.append(Figure(f"train_fps_{stage_id}", f"{stage_id}: slowest live panel "
                              f"({', '.join(live)})", slowest, "fps", f">= {FPS_TARGET:g}"))
        for pid, r in rates.items():
            note = f" (throttled to {1000 / r['min_interval_ms']:.0f} Hz)" \
                if r["min_interval_ms"] else ""
            figures.append(Figure(f"fps_{stage_id}_{pid}", f"  {pid}{note}", r["fps"], "fps"))
        figures.append(Figure(f"steps_per_s_{stage_id}", "  training steps a second meanwhile",
                              (state.steps - steps0) / wall, "/s"))
        frames = max(1, max(r["refreshes"] for pid, r in rates.items() if pid in live))
        figures.append(Figure(f"cpu_share_{stage_id}", "  share of a core the event loop got "
                              "(the rest: other processes)", cpu / wall, ""))
        figures.append(Figure(f"cpu_per_frame_{stage_id}", "  CPU per frame (step, redraws, "
                              "paints)", 1e3 * cpu / frames, "ms"))
        figures.append(Figure(f"full_core_fps_{stage_id}", "  frames a second a whole core "
                              "would give", frames / cpu if cpu > 0 else float("nan"), "fps"))

    # A drag on the decision map: each mouse move until the map has repainted.
    window.show_stage("multiclass-softmax")
    window.resize(*WINDOW_SIZE)
    state = window.lab_state
    state.apply_settings({"n_classes": N_LABELS, "n_points": N_POINTS, "dataset": "ring"})
    _settle(window, 0.3)
    decision = window.stage_host.visible_panels()["decision"]
    import pyqtgraph as pg

    pg.setConfigOption("mouseRateLimit", -1)
    view = decision.plot_widget
    view.scene().minDragTime = 0
    vp = view.viewport()
    counter = PaintCounter()
    counter.watch("decision", [vp], lambda: decision.refresh_count)

    def to_vp(x: float, y: float) -> QPointF:
        return view.viewportTransform().map(decision.view_box.mapViewToScene(pg.Point(x, y)))

    def send(kind, pos, button, buttons) -> None:
        QApplication.sendEvent(vp, QMouseEvent(kind, pos, vp.mapToGlobal(pos.toPoint()), button,
                                               buttons, Qt.KeyboardModifier.NoModifier))

    i = int(np.flatnonzero(~state.heldout)[0])
    x0, y0 = (float(v) for v in state.X[i])
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    start = to_vp(x0, y0)
    send(QEvent.Type.MouseMove, start, none, none)
    send(QEvent.Type.MouseButtonPress, start, left, left)
    QApplication.processEvents()
    latencies = []
    for k in range(1, moves + 1):
        target = to_vp(x0 + 1.5 * math.sin(k / moves * math.pi), y0 + 1.5 * k / moves)
        refreshes, paints = decision.refresh_count, counter.counts["decision"]
        t0 = time.perf_counter()
        send(QEvent.Type.MouseMove, target, none, left)
        deadline = t0 + 1.0
        while time.perf_counter() < deadline and not (
                decision.refresh_count > refreshes and counter.counts["decision"] > paints):
            QApplication.processEvents()
        latencies.append(1e3 * (time.perf_counter() - t0))
    send(QEvent.Type.MouseButtonRelease, to_vp(x0, y0 + 1.5), left, none)
    QApplication.processEvents()
    moved = float(np.hypot(*(state.X[i] - (x0, y0))) > 0.5)
    figures.append(Figure("drag_ms", "drag on the decision map: move to refit and repaint "
                          "(median)", float(np.median(latencies)), "ms"))
    figures.append(Figure("drag_p95_ms", "  95th percentile", float(np.percentile(latencies, 95)),
                          "ms"))
    figures.append(Figure("drag_moved", "  the dragged point moved (1 = yes)", moved, "",
                          ">= 1"))
    window.close()
    return figures, info


def _fmt(fig: Figure) -> str:
    v = fig.value
    if v is None or not math.isfinite(v):
        return "n/a"
    if fig.unit == "":
        return f"{v:.2g}"
    if fig.unit == "x":
        return f"{v:.1f}x"
    return f"{v:.3g} {fig.unit}"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bceviz.bench lab_multilabel",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few runs, short GUI runs")
    parser.add_argument("--runs", type=int, default=15, help="runs of each engine timing")
    parser.add_argument("--seconds", type=float, default=2.0, help="each GUI training run, s")
    parser.add_argument("--moves", type=int, default=30, help="mouse moves of the drag")
    args = parser.parse_args(argv)
    runs = 3 if args.quick else max(3, args.runs)
    seconds = 0.6 if args.quick else max(0.5, args.seconds)
    moves = 8 if args.quick else max(5, args.moves)
    load_before = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    figures = engine_figures(runs)
    gui, info = gui_figures(seconds, moves)
    figures += gui
    load_after = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    print(f"bceviz many-labels / many-classes benchmark: {N_POINTS} points, K = {N_LABELS}, "
          f"{WINDOW_SIZE[0]}x{WINDOW_SIZE[1]}, QT_QPA_PLATFORM="
          f"{os.environ.get('QT_QPA_PLATFORM', '')}, {os.cpu_count()} cores")
    print(f"load average (1, 5, 15 min): before {load_before}, after {load_after}")
    for line in figure_table(figures, "value", _fmt):
        print(line)
    passed = all(f.passed is not False for f in figures)
    print(json.dumps({
        "suite": "lab_multilabel",
        "labs": ["multilabel", "multiclass"],
        "points": N_POINTS,
        "labels": N_LABELS,
        "runs": runs,
        "seconds": seconds,
        "figures": {f.key: {"value": f.value if f.value is None or math.isfinite(f.value)
                            else None, "unit": f.unit, "target": f.target, "pass": f.passed}
                    for f in figures},
        "panels": info["rates"],
        "load": {"before": load_before, "after": load_after},
        "pass": passed,
    }))
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
