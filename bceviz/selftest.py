"""``bceviz --self-test``: prove an installation (source, wheel or frozen bundle) works.

Runs offscreen unless a Qt platform is already chosen, and exercises what a
user's first minute touches, in order, stopping at the first failure:

1. the resources folder is found (``bceviz.resources``);
2. a bundled scenario loads and becomes the state;
3. the real main window is built with every panel and drawn;
4. the bundled Breast Cancer Wisconsin CSV loads into the state;
5. training steps run and lower the loss;
6. pyqtgraph's colour maps load ("CET-D1", "viridis": data files that a
   freezer can forget) and an ImageItem of a loss surface renders in colour;
7. the window's loss-surface panel finishes its surface and shows it;
8. the window exports as PNG and the surface panel as SVG (Qt's
   QSvgGenerator) into a temporary folder; both files are read back and checked.

Prints one line per step, then ``SELFTEST OK`` and returns 0; on a failure
prints ``SELFTEST FAILED: <step>: <reason>`` (the traceback goes to stderr)
and returns 1. When there is no stdout (a windowed Windows build) the report
goes to ``bceviz-selftest.log`` in the temporary folder.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable, Optional

#: Scenario loaded by the self-test (bundled in ``resources/scenarios``).
SCENARIO = "default"
#: Training steps run on the breast-cancer data.
TRAIN_STEPS = 50
#: Fewest distinct colours a colour-mapped loss surface must show.
MIN_COLOURS = 24
WINDOW_SIZE = (1280, 800)


class SelfTestError(AssertionError):
    """A check failed; the message says what was expected and what was found."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SelfTestError(message)


class _Report:
    """Lines to stdout, or to a log file when the process has no stdout."""

    def __init__(self) -> None:
        self.stream = sys.stdout
        self.log_path: Optional[Path] = None
        if self.stream is None:  # windowed build on Windows: no console
            self.log_path = Path(tempfile.gettempdir()) / "bceviz-selftest.log"
            self.stream = open(self.log_path, "w", encoding="utf-8")

    def line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def error(self, text: str) -> None:
        print(text, file=sys.stderr if sys.stderr is not None else self.stream, flush=True)


# --------------------------------------------------------------------------- helpers
def distinct_colours(image) -> int:
    """Number of distinct ARGB values in a QImage."""
    import numpy as np
    from PySide6.QtGui import QImage

    img = image.convertToFormat(QImage.Format.Format_ARGB32)
    width, height, stride = img.width(), img.height(), img.bytesPerLine()
    if width == 0 or height == 0:
        return 0
    pixels = np.frombuffer(img.constBits(), dtype=np.uint32, count=height * stride // 4)
    return int(np.unique(pixels.reshape(height, stride // 4)[:, :width]).size)


def settle(window, seconds: float = 0.3, until: Optional[Callable[[], bool]] = None,
           timeout: float = 30.0) -> None:
    """Run the event loop so coalesced redraws and background surfaces complete.

    Runs at least ``seconds``; with ``until``, keeps going until it returns
    True (SelfTestError after ``timeout`` seconds).
    """
    from PySide6.QtWidgets import QApplication

    start = time.perf_counter()
    while True:
        QApplication.processEvents()
        for panel in getattr(window, "panels", {}).values():
            flush = getattr(panel, "flush", None)
            if flush is not None:
                flush()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and (until is None or until()):
            break
        if elapsed > timeout:
            raise SelfTestError(f"the window did not finish drawing within {timeout:.0f} s")
        time.sleep(0.01)
    QApplication.processEvents()


# --------------------------------------------------------------------------- the steps
class _SelfTest:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.app = None
        self.state = None
        self.window = None

    def step_resources(self) -> str:
        from bceviz.resources import resource_path, resources_dir

        folder = resources_dir()
        for parts in (("data", "breast_cancer_wisconsin.csv"), ("scenarios", f"{SCENARIO}.json")):
            resource_path(*parts)
        return str(folder)

    def step_scenario(self) -> str:
        from bceviz.app import create_state
        from bceviz.model.scenarios import list_scenarios

        ids = [sid for sid, _title in list_scenarios()]
        _check(SCENARIO in ids, f"scenario {SCENARIO!r} is not listed (found: {ids})")
        self.state = create_state(SCENARIO)
        _check(self.state.scenario_id == SCENARIO,
               f"the state's scenario is {self.state.scenario_id!r}, not {SCENARIO!r}")
        return f"{SCENARIO!r} of {len(ids)} scenarios, {self.state.n_points} points"

    def step_window(self) -> str:
        from PySide6 import __version__ as pyside_version
        from PySide6.QtWidgets import QApplication

        from bceviz.app import create_window

        self.app = QApplication.instance() or QApplication(["bceviz", "--self-test"])
        self.window = create_window(state=self.state)
        self.window.resize(*WINDOW_SIZE)
        self.window.show()
        settle(self.window)
        panels = sorted(getattr(self.window, "panels", {}))
        _check("surface" in panels, f"the window has no loss-surface panel (panels: {panels})")
        return (f"{type(self.window).__name__} with {len(panels)} panels "
                f"(PySide6 {pyside_version}, platform {QApplication.platformName()})")

    def step_dataset(self) -> str:
        import numpy as np

        from bceviz.model.datafiles import load_breast_cancer

        data = load_breast_cancer()
        _check(data.X.shape == (569, 2), f"expected 569 × 2 features, got {data.X.shape}")
        n_pos = int(np.sum(data.y == 1))
        _check(n_pos == 212, f"expected 212 malignant rows, got {n_pos}")
        self.state.set_data(data.X, data.y, source=data.source)
        _check(self.state.n_points == 569,
               f"the state holds {self.state.n_points} points after loading 569")
        settle(self.window)
        return f"{data.n} rows, features {', '.join(data.feature_names)}"

    def step_training(self) -> str:
        import math

        trainer = self.state.trainer
        before = float(trainer.mean_loss())
        self.state.step(TRAIN_STEPS)
        after = float(trainer.mean_loss())
        _check(not getattr(trainer, "diverged", False), f"training diverged: {trainer.status}")
        _check(math.isfinite(after), f"the loss is {after} after {TRAIN_STEPS} steps")
        _check(after < before, f"the loss did not decrease: {before:.4f} -> {after:.4f}")
        settle(self.window)
        return f"{TRAIN_STEPS} steps, mean loss {before:.4f} -> {after:.4f} nats"

    def step_colormaps(self) -> str:
        import pyqtgraph as pg
        from PySide6.QtCore import QRectF, Qt
        from PySide6.QtGui import QImage, QPainter
        from PySide6.QtWidgets import QGraphicsScene

        from bceviz.engine.surface import LossSurface

        surface = LossSurface(self.state.X_train, self.state.y_train, self.state.spec,
                              resolution=64)
        values = surface.values
        found = []
        for name in ("CET-D1", "viridis"):
            cmap = pg.colormap.get(name)
            _check(cmap is not None, f"pyqtgraph colour map {name!r} not found")
            scene = QGraphicsScene()
            item = pg.ImageItem(values, axisOrder="row-major")
            item.setColorMap(cmap)
            scene.addItem(item)
            image = QImage(128, 128, QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(Qt.GlobalColor.black)
            painter = QPainter(image)
            scene.render(painter, QRectF(0, 0, 128, 128), QRectF(0, 0, *values.shape[::-1]))
            painter.end()
            colours = distinct_colours(image)
            _check(colours >= MIN_COLOURS,
                   f"the loss surface in {name!r} shows only {colours} colour(s)")
            scene.removeItem(item)
            found.append(f"{name} {colours} colours")
        return ", ".join(found)

    def step_surface_panel(self) -> str:
        import numpy as np

        panel = self.window.panels["surface"]
        dock = getattr(self.window, "docks", {}).get("surface")
        if dock is not None:
            dock.show()
            dock.raise_()
        settle(self.window, until=lambda: not getattr(panel, "busy", False))
        image_item = getattr(panel, "image", None)
        data = getattr(image_item, "image", None)
        _check(data is not None, "the surface panel shows no image")
        _check(bool(np.all(np.isfinite(data))), "the surface panel's image has non-finite values")
        colours = distinct_colours(panel.grab().toImage())
        _check(colours >= MIN_COLOURS, f"the surface panel renders only {colours} colour(s)")
        return f"{data.shape[1]} × {data.shape[0]} surface, panel shows {colours} colours"

    def step_export(self) -> str:
        from xml.etree import ElementTree

        from PySide6.QtGui import QImage
        from PySide6.QtSvg import QSvgRenderer

        from bceviz.gui.export import export_png, export_svg

        png = self.workdir / "bceviz-window.png"
        svg = self.workdir / "bceviz-surface.svg"
        size = export_png(self.window, png)
        export_svg(self.window.panels["surface"], svg)

        head = png.read_bytes()[:8]
        _check(head == b"\x89PNG\r\n\x1a\n", f"{png.name} is not a PNG file (starts {head!r})")
        image = QImage(str(png))
        _check(not image.isNull(), f"{png.name} cannot be read back")
        _check((image.width(), image.height()) == (size.width(), size.height()),
               f"{png.name} is {image.width()}×{image.height()}, export said "
               f"{size.width()}×{size.height()}")
        colours = distinct_colours(image)
        _check(colours >= MIN_COLOURS, f"{png.name} has only {colours} colour(s)")

        text = svg.read_bytes()
        _check(len(text) > 1000, f"{svg.name} is only {len(text)} bytes")
        root = ElementTree.fromstring(text)
        _check(root.tag.endswith("svg"), f"{svg.name}: the root element is <{root.tag}>")
        _check(b"<image" in text, f"{svg.name} does not contain the surface image")
        renderer = QSvgRenderer(str(svg))
        _check(renderer.isValid(), f"Qt cannot read back {svg.name}")
        return (f"{png.name} {image.width()}×{image.height()} ({png.stat().st_size:,} bytes), "
                f"{svg.name} ({len(text):,} bytes)")

    def close(self) -> None:
        if self.window is not None:
            try:
                self.window.close()
                self.window.deleteLater()
                if self.app is not None:
                    self.app.processEvents()
            except Exception:  # noqa: BLE001 - never mask the result
                pass


def run_selftest() -> int:
    """Run every check; print ``SELFTEST OK`` and return 0, or say what failed and return 1."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    report = _Report()
    import bceviz

    mode = "bundle" if getattr(sys, "frozen", False) else "source"
    report.line(f"bceviz {bceviz.__version__} self-test ({mode}, Python "
                f"{platform.python_version()}, {platform.system()} {platform.machine()})")
    with tempfile.TemporaryDirectory(prefix="bceviz-selftest-") as tmp:
        test = _SelfTest(Path(tmp))
        steps = [
            ("resources", test.step_resources),
            ("scenario", test.step_scenario),
            ("window", test.step_window),
            ("data set", test.step_dataset),
            ("training", test.step_training),
            ("colour maps", test.step_colormaps),
            ("surface panel", test.step_surface_panel),
            ("export", test.step_export),
        ]
        try:
            for name, step in steps:
                start = time.perf_counter()
                try:
                    detail = step()
                except Exception as exc:  # noqa: BLE001 - every failure is reported
                    report.error(traceback.format_exc())
                    reason = f"{type(exc).__name__}: {exc}"
                    report.line(f"  FAIL  {name}: {reason}")
                    report.line(f"SELFTEST FAILED: {name}: {reason}")
                    return 1
                report.line(f"  ok    {name}: {detail} ({time.perf_counter() - start:.2f} s)")
        finally:
            test.close()
    report.line("SELFTEST OK")
    return 0


def main() -> int:  # ``python -m bceviz.selftest``
    return run_selftest()


if __name__ == "__main__":
    sys.exit(main())
