"""PNG/SVG export and clipboard copy of pyqtgraph widgets (Qt's QSvgGenerator, not SVGExporter)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from bceviz.gui.export import (
    ExportError,
    copy_to_clipboard,
    export,
    export_png,
    export_svg,
    render_image,
)

SVG_NS = "{http://www.w3.org/2000/svg}"


def make_plot(parent=None) -> pg.PlotWidget:
    """A PlotWidget with a curve, a heatmap (ImageItem), a scatter and axis labels."""
    widget = pg.PlotWidget(parent)
    x = np.linspace(-3, 3, 200)
    curve = widget.plot(x, np.log1p(np.exp(-x)), pen=pg.mkPen("r", width=2))
    image = pg.ImageItem(np.random.default_rng(0).random((16, 16)))
    image.setRect(-3, 0, 2, 2)
    widget.addItem(image)
    scatter = pg.ScatterPlotItem(x[::20], np.cos(x[::20]), size=9, brush="b")
    widget.addItem(scatter)
    widget.setLabel("bottom", "logit z")
    widget.setLabel("left", "loss (nats)")
    widget.items = (curve, image, scatter)  # type: ignore[attr-defined]
    return widget


@pytest.fixture
def plot(qtbot):
    widget = make_plot()
    qtbot.addWidget(widget)
    widget.resize(320, 240)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def as_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    ptr = image.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=image.sizeInBytes())
    return arr.reshape(image.height(), image.bytesPerLine() // 4, 4)[:, : image.width(), :3].copy()


def assert_not_blank(image: QImage):
    assert not image.isNull()
    pixels = as_array(image).astype(float)
    assert pixels.var() > 100.0  # axes, text, a curve, a heatmap: far from uniform
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 20


@pytest.mark.parametrize("scale", [1, 2, 1.5])
def test_png_at_scale(plot, tmp_path, scale):
    path = tmp_path / f"plot@{scale}x.png"
    size = export_png(plot, path, scale=scale)
    expected = QSize(round(320 * scale), round(240 * scale))
    assert size == expected
    image = QImage(str(path))
    assert image.size() == expected
    assert_not_blank(image)


def test_png_at_scale_two_has_more_detail_not_just_bigger_pixels(plot):
    one, two = as_array(render_image(plot, 1)), as_array(render_image(plot, 2))
    upscaled = np.repeat(np.repeat(one, 2, axis=0), 2, axis=1)
    assert two.shape == upscaled.shape
    assert np.any(two != upscaled)  # re-rendered (text, curves), not nearest-neighbour


def test_export_restores_the_items_and_views(plot, tmp_path):
    curve, image, scatter = plot.items
    mode = plot.cacheMode()
    export_png(plot, tmp_path / "a.png", scale=2)
    export_svg(plot, tmp_path / "a.svg")
    assert scatter._exportOpts is False and curve._exportOpts is False
    assert plot.cacheMode() == mode


def test_svg_is_valid_vector_graphics(plot, tmp_path):
    path = tmp_path / "plot.svg"
    export_svg(plot, path, title="Loss curve")
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("width") == "320" and root.get("height") == "240"
    assert root.get("viewBox") == "0 0 320 240"
    paths = root.findall(f".//{SVG_NS}path")
    images = root.findall(f".//{SVG_NS}image")
    assert len(paths) >= 5  # curve, axes, scatter symbols drawn as vectors
    assert len(images) == 1  # only the heatmap is a bitmap
    assert root.find(f"{SVG_NS}title").text == "Loss curve"
    # SVG 1.1 with clip paths: what the view clips (curves beyond the axes) stays clipped.
    assert root.get("version") == "1.1"
    assert root.findall(f".//{SVG_NS}clipPath")
    renderer = QSvgRenderer(str(path))
    assert renderer.isValid()
    canvas = QImage(320, 240, QImage.Format.Format_ARGB32)
    canvas.fill(0xFFFFFFFF)
    painter = QPainter(canvas)
    renderer.render(painter)
    painter.end()
    assert_not_blank(canvas)


def test_whole_window_with_a_plot_and_a_label(qtbot, tmp_path):
    window = QMainWindow()
    qtbot.addWidget(window)
    central = QWidget()
    layout = QVBoxLayout(central)
    layout.addWidget(QLabel("Mean BCE = 0.1625 nats"))
    layout.addWidget(make_plot(central))
    window.setCentralWidget(central)
    window.resize(400, 360)
    window.show()
    qtbot.waitExposed(window)
    assert export_png(window, tmp_path / "w.png", scale=2) == QSize(800, 720)
    assert_not_blank(QImage(str(tmp_path / "w.png")))
    export_svg(window, tmp_path / "w.svg")
    assert QSvgRenderer(str(tmp_path / "w.svg")).isValid()
    assert "Mean BCE" in (tmp_path / "w.svg").read_text(encoding="utf-8")


def test_scene_and_item_targets(plot, tmp_path):
    export_png(plot.scene(), tmp_path / "scene.png")
    assert_not_blank(QImage(str(tmp_path / "scene.png")))
    export_svg(plot.getPlotItem(), tmp_path / "item.svg")
    assert QSvgRenderer(str(tmp_path / "item.svg")).isValid()


def test_export_dispatches_on_extension(plot, tmp_path):
    export(plot, tmp_path / "a.PNG", scale=2)
    assert QImage(str(tmp_path / "a.PNG")).width() == 640
    export(plot, tmp_path / "a.svg")
    assert QSvgRenderer(str(tmp_path / "a.svg")).isValid()
    with pytest.raises(ExportError, match="use .png or .svg"):
        export(plot, tmp_path / "a.jpg")


@pytest.mark.parametrize("scale", [0, -1, float("nan"), float("inf"), "big"])
def test_bad_scale_is_refused(plot, tmp_path, scale):
    with pytest.raises(ValueError, match="scale"):
        export_png(plot, tmp_path / "x.png", scale=scale)
    assert not (tmp_path / "x.png").exists()


def test_enormous_scale_is_refused(plot, tmp_path):
    with pytest.raises(ValueError, match="too large"):
        export_png(plot, tmp_path / "x.png", scale=100)


# ----------------------------------------------------------------------------
# Failures: a clear ExportError naming the path, and no partial file


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_missing_folder(plot, tmp_path, fmt):
    path = tmp_path / "no" / "such" / f"plot.{fmt}"
    with pytest.raises(ExportError) as info:
        export(plot, path)
    assert str(path) in str(info.value) and info.value.path == str(path)
    assert "does not exist" in str(info.value)
    assert isinstance(info.value, OSError)
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_parent_is_a_file(plot, tmp_path, fmt):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    with pytest.raises(ExportError):
        export(plot, blocker / f"plot.{fmt}")
    assert blocker.read_text() == "not a folder"


def test_target_is_a_folder(plot, tmp_path):
    with pytest.raises(ExportError, match="folder"):
        export_png(plot, tmp_path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs a POSIX user that permissions apply to (not root)")
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_read_only_folder(plot, tmp_path, fmt):
    folder = tmp_path / "ro"
    folder.mkdir()
    existing = folder / f"plot.{fmt}"
    existing.write_bytes(b"old")
    folder.chmod(0o555)
    try:
        with pytest.raises(ExportError) as info:
            export(plot, existing)
        assert str(existing) in str(info.value)
        assert existing.read_bytes() == b"old"
        assert sorted(os.listdir(folder)) == [f"plot.{fmt}"]
    finally:
        folder.chmod(0o755)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_unwritable_location_even_for_root(plot, fmt):
    """/proc accepts no new files whoever asks: the read-only case that also runs as root."""
    path = f"/proc/bceviz-export-test.{fmt}"
    with pytest.raises(ExportError) as info:
        export(plot, path)
    assert path in str(info.value)
    assert not os.path.exists(path)


def test_failed_write_keeps_the_old_file(plot, tmp_path, monkeypatch):
    """A rename that fails (e.g. disk full) leaves the old file and no temp file."""
    from bceviz.model import atomic

    target = tmp_path / "plot.png"
    target.write_bytes(b"old")

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    with pytest.raises(ExportError, match=str(target)):
        export_png(plot, target)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["plot.png"]


def test_existing_file_is_replaced_on_success(plot, tmp_path):
    target = tmp_path / "plot.png"
    target.write_bytes(b"old")
    export_png(plot, target)
    assert QImage(str(target)).width() == 320
    assert os.listdir(tmp_path) == ["plot.png"]


# ----------------------------------------------------------------------------
# Clipboard


def test_copy_to_clipboard(plot):
    copied = copy_to_clipboard(plot, scale=2)
    assert copied.size() == QSize(640, 480)
    pasted = QGuiApplication.clipboard().image()
    assert pasted.size() == QSize(640, 480)
    assert_not_blank(pasted)


# ----------------------------------------------------------------------------
# Slides: a panel at 2x is laid out larger, not upscaled


@pytest.fixture
def panel_in_window(qtbot):
    """A plot panel inside a window (an exported panel is never a window itself)."""
    window = QMainWindow()
    qtbot.addWidget(window)
    central = QWidget()
    layout = QVBoxLayout(central)
    layout.addWidget(QLabel("Loss curve"))
    panel = QWidget()
    inner = QVBoxLayout(panel)
    inner.addWidget(make_plot(panel))
    layout.addWidget(panel, 1)
    window.setCentralWidget(central)
    window.resize(360, 300)
    window.show()
    qtbot.waitExposed(window)
    yield panel  # (the window stays referenced until the test ends)
    window.close()


def _tick_labels(plot_widget, name: str) -> list[str]:
    axis = plot_widget.getPlotItem().getAxis(name)
    image = QImage(4, 4, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        return [text for _rect, _flags, text in axis.generateDrawSpecs(painter)[2]]
    finally:
        painter.end()


def test_png_at_scale_two_lays_a_panel_out_larger(panel_in_window, monkeypatch):
    """At 2x a panel is re-laid-out at 2 / SLIDE_TYPE its size (more room for the plot and
    its ticks) and painted at SLIDE_TYPE: not the screen layout's picture scaled up."""
    from bceviz.gui import export as export_module

    panel = panel_in_window
    plot = panel.findChildren(pg.PlotWidget)[0]
    size, view = panel.size(), plot.getPlotItem().vb.size()
    ticks = {name: _tick_labels(plot, name) for name in ("bottom", "left")}
    seen = {}
    real_paint = export_module._paint

    def spy(target, painter, source):
        seen["size"] = (target.width(), target.height())
        seen["view"] = plot.getPlotItem().vb.size()
        seen["ticks"] = {name: _tick_labels(plot, name) for name in ("bottom", "left")}
        seen["dpr"] = painter.device().devicePixelRatio()
        real_paint(target, painter, source)

    monkeypatch.setattr(export_module, "_paint", spy)
    image = render_image(panel, 2)
    factor = 2 / export_module.SLIDE_TYPE
    assert image.size() == QSize(2 * size.width(), 2 * size.height())
    assert seen["size"] == (round(size.width() * factor), round(size.height() * factor))
    assert seen["dpr"] == pytest.approx(export_module.SLIDE_TYPE, rel=0.01)
    # In the image the plot area is larger than in the screen picture scaled up 2x: the
    # axes and the label kept their type size, the rest of the room went to the plot.
    dpr = export_module.SLIDE_TYPE
    assert seen["view"].width() * dpr > 2 * view.width() + 4
    assert seen["view"].height() * dpr > 2 * view.height() + 4
    # ... and its axes chose their ticks for that room (never fewer than on screen)
    for name in ("bottom", "left"):
        assert len(seen["ticks"][name]) >= len(ticks[name]), name
    assert_not_blank(image)
    # the panel is back as it was
    assert panel.size() == size
    assert {name: _tick_labels(plot, name) for name in ("bottom", "left")} == ticks


def test_slide_differs_from_the_upscaled_picture(panel_in_window):
    from bceviz.gui.export import slide_layout

    one = as_array(render_image(panel_in_window, 1))
    two = as_array(render_image(panel_in_window, 2))
    upscaled = np.repeat(np.repeat(one, 2, axis=0), 2, axis=1)
    assert two.shape == upscaled.shape
    assert np.mean(np.any(two != upscaled, axis=2)) > 0.05  # a different drawing, not pixels
    with slide_layout(panel_in_window.window(), 2) as size:  # a window stays as it is
        assert size == panel_in_window.window().size()
