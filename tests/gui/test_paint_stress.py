"""Paint stress: hundreds of frames of live training with every panel on screen.

This is the test that catches the PySide6 6.12.0 + pyqtgraph 0.14.0 abort on
Python 3.11 (DESIGN.md, "Known pitfalls"): it shows up only after some frames
of ordinary plotting (axes, images, scatter, text). The frames run in a child
process, so an abort ("Fatal Python error: none_dealloc") fails this test
with the child's stderr instead of killing the whole test session.

Between frames the state is pushed to extremes (huge weights, smoothing,
focal loss, points dragged far away, labels flipped, units switched), and at
the end no visible text — QLabels, spin boxes, pyqtgraph text and axis
labels — may read "nan" or "inf".
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FRAMES = 300

CHILD = textwrap.dedent(r'''
    import os, re, sys, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QLabel, QAbstractSpinBox, QGraphicsTextItem

    app = QApplication([])
    from bceviz.app import create_window, _settle
    from bceviz.model.state import StateError

    FRAMES = int(sys.argv[1])
    window = create_window("workbench")
    window.resize(1440, 960)
    window.show()
    d = window.docks
    # every panel on screen: split the tabbed ones out of their groups
    H = Qt.Orientation.Horizontal
    if "surface" in d:
        for pid in [p for p in d if p not in ("controls", "data", "surface", "loss_curve", "samples",
                                              "formula", "training_curves")]:
            window.splitDockWidget(d["surface"], d[pid], H)
    _settle(window, 0.1)
    hidden = [pid for pid, dock in d.items() if dock.visibleRegion().isEmpty()]
    assert not hidden, hidden

    st = window.state
    st.set_running(True)
    rng = np.random.default_rng(7)
    BAD = re.compile(r"\b(nan|inf|-inf)\b", re.IGNORECASE)

    def texts():
        for label in window.findChildren(QLabel):
            if label.isVisible():
                yield "QLabel", label.text()
        for spin in window.findChildren(QAbstractSpinBox):
            if spin.isVisible():
                yield "spin", spin.text()
        for view in window.findChildren(pg.GraphicsView):
            for item in view.scene().items():
                if isinstance(item, QGraphicsTextItem) and item.isVisible():
                    yield type(item).__name__, item.toPlainText()

    def poke(frame):
        k = frame % 12
        try:
            if k == 0:
                st.set_spec(label_smoothing=float(rng.uniform(0, 0.4)))
            elif k == 1:
                st.set_spec(focal_gamma=float(rng.uniform(0, 4)), focal_alpha=float(rng.uniform(0, 1)))
            elif k == 2:
                i = int(rng.integers(st.n_points))
                st.move_point(i, float(rng.uniform(-50, 50)), float(rng.uniform(-50, 50)))
            elif k == 3:
                st.flip_label(int(rng.integers(st.n_points)))
            elif k == 4:
                st.set_weights(st.trainer.w * float(rng.choice([0.0, 10.0, 100.0])), float(rng.uniform(-30, 30)))
            elif k == 5:
                st.set_view(units=str(rng.choice(["nats", "bits"])), curve_axis=str(rng.choice(["p", "z"])))
            elif k == 6:
                st.set_probe(p=float(rng.choice([0.0, 1.0, 1e-12, 0.5])), y=float(rng.uniform(0, 1)))
            elif k == 7:
                st.set_threshold(float(rng.choice([0.0, 1.0, 0.3, 0.5])))
            elif k == 8:
                st.set_training(optimizer=str(rng.choice(["gd", "momentum", "adam", "newton", "sgd"])),
                                lr=float(10 ** rng.uniform(-3, 1)))
            elif k == 9:
                st.set_spec(pos_weight=float(10 ** rng.uniform(-2, 2)))
            elif k == 10:
                st.set_features(str(rng.choice(["linear", "product", "poly3", "sin"])))
            elif k == 11 and not st.running:
                st.reset_weights(); st.set_running(True)
        except StateError:
            pass

    t0 = time.perf_counter()
    for frame in range(FRAMES):
        poke(frame)
        window._on_frame()  # one training frame, as the timer would
        for panel in window.panels.values():
            panel.flush()  # every panel redraws its items now
        QApplication.processEvents()  # paints every updated view (the window is shown)
        if frame % 20 == 0:
            window.grab()  # and a full render of every dock now and then
        if frame % 25 == 0:
            bad = [(kind, t) for kind, t in texts() if BAD.search(t)]
            assert not bad, (frame, bad[:5])
    bad = [(kind, t) for kind, t in texts() if BAD.search(t)]
    assert not bad, bad[:5]
    st.set_running(False)
    window.close()
    print(f"OK frames={FRAMES} seconds={time.perf_counter() - t0:.1f}")
''')


def test_many_frames_of_live_training_with_every_panel_survive(tmp_path):
    script = tmp_path / "stress.py"
    script.write_text(CHILD)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, str(script), str(FRAMES)], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-4000:]}"
    assert f"OK frames={FRAMES}" in proc.stdout
    assert "Fatal Python error" not in proc.stderr
