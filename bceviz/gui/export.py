"""Export a panel or the whole window as PNG or SVG, and copy it to the clipboard.

PNG is rendered at ``scale`` times the on-screen size. A panel (any widget that
is not a window) exported at a scale above 1 is a slide: it is laid out anew at
``scale / SLIDE_TYPE`` times its size (:func:`slide_layout`) and painted into a
QImage whose device pixel ratio is ``SLIDE_TYPE`` (1.5). The plots get more room
than the type, so axes carry more tick labels and titles that were cramped fit,
while text and symbols come out 1.5 × as large as on screen, re-rendered sharp
rather than upscaled. A window, and any scale up to 1, is painted at its size
with the device pixel ratio ``scale``, exactly as on a high-DPI screen. Like
there, pyqtgraph's cosmetic pens keep their width in device pixels, so lines look
thinner relative to text: presentation mode (thicker lines) plus scale 2 is the
combination for slides.

SVG uses Qt's own ``QSvgGenerator`` painting the widget: pyqtgraph 0.14.0's
``SVGExporter`` fails with recent PySide6 (pyqtgraph issue 3495; DESIGN.md,
"Known pitfalls"). Curves, axes and text become SVG paths and text; an
``ImageItem`` (heatmap) becomes an embedded ``<image>``. The file is SVG 1.1
with clip paths (browsers and Inkscape honour them; Qt's own QSvgRenderer
ignores clip-path, so a Qt preview of a cramped window shows clipped text).

Every image is rendered to bytes in memory first and then written by the app's
one atomic writer (:func:`bceviz.model.atomic.write_atomic`: a temporary file
in the same folder, fsynced and renamed over the target), so a failed export
keeps the old file, leaves no temporary file, and is an ``ExportError`` naming
the path.
"""

from __future__ import annotations

import math
import os
import re
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterator, Union

from PySide6.QtCore import QBuffer, QIODevice, QPoint, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QRegion
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from bceviz.model.atomic import WriteError, write_atomic

Exportable = Union[QWidget, QGraphicsScene, QGraphicsItem]
PathLike = Union[str, "os.PathLike[str]"]

#: Largest image side in pixels an export may create (a 16k × 16k ARGB image is 1 GB).
MAX_SIDE_PX = 16_384


class ExportError(OSError):
    """An export failed; the message names the file and says why (user-facing)."""

    def __init__(self, path: PathLike, reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"Could not export to {self.path}: {reason}")


# ----------------------------------------------------------------------------
# What to paint


def _source_rect(target: Exportable) -> QRectF:
    """The logical area exported, in the target's own coordinates."""
    if isinstance(target, QWidget):
        return QRectF(0, 0, target.width(), target.height())
    if isinstance(target, QGraphicsScene):
        return QRectF(target.sceneRect())
    if isinstance(target, QGraphicsItem):
        return QRectF(target.sceneBoundingRect())
    raise TypeError(f"cannot export a {type(target).__name__}: give a widget, scene or item")


def _paint(target: Exportable, painter: QPainter, source: QRectF) -> None:
    """Paint the target at logical size with its top-left corner at (0, 0)."""
    if isinstance(target, QWidget):
        target.ensurePolished()
        # QWidget.render explicitly: QGraphicsView overrides render() with a
        # scene-only variant; the widget's own render includes every child and
        # reaches pyqtgraph's GraphicsView.paintEvent (prepareForPaint) too.
        QWidget.render(target, painter, QPoint(0, 0), QRegion(),
                       QWidget.RenderFlag.DrawWindowBackground | QWidget.RenderFlag.DrawChildren)
        return
    scene = target if isinstance(target, QGraphicsScene) else target.scene()
    if scene is None:
        raise TypeError("the graphics item is not in a scene")
    scene.render(painter, QRectF(0, 0, source.width(), source.height()), source)


def _scenes_and_views(target: Exportable) -> tuple[list[QGraphicsScene], list[QGraphicsView]]:
    if isinstance(target, QGraphicsScene):
        return [target], []
    if isinstance(target, QGraphicsItem):
        return ([target.scene()] if target.scene() is not None else []), []
    views = [target] if isinstance(target, QGraphicsView) else []
    views += [v for v in target.findChildren(QGraphicsView) if v.isVisibleTo(target)]
    scenes: list[QGraphicsScene] = []
    for view in views:
        if view.scene() is not None and view.scene() not in scenes:
            scenes.append(view.scene())
    return scenes, views


@contextmanager
def _export_mode(target: Exportable, painter: QPainter, background: QColor) -> Iterator[None]:
    """Draw pyqtgraph items as for its own exporters, and without view caches.

    In export mode a ScatterPlotItem draws each symbol as vector paths instead
    of blitting cached pixmaps (which would be blurry at scale 2 and raster in
    SVG), and PlotItem hides its hover buttons. The views' background cache
    would otherwise become a full-size bitmap in the SVG. Sizes stay logical
    (``resolutionScale`` 1): the device pixel ratio does the scaling.
    """
    scenes, views = _scenes_and_views(target)
    opts = {"antialias": True, "background": background, "painter": painter,
            "resolutionScale": 1.0}
    items = [item for scene in scenes for item in scene.items()
             if hasattr(item, "setExportMode")]
    cache_modes = [(view, view.cacheMode()) for view in views]
    try:
        for view, _mode in cache_modes:
            view.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        for item in items:
            item.setExportMode(True, opts)
        yield
    finally:
        for item in items:
            item.setExportMode(False)
        for view, mode in cache_modes:
            view.setCacheMode(mode)
            view.resetCachedContent()


def _background(target: Exportable) -> QColor:
    if isinstance(target, QWidget):
        return target.palette().color(target.backgroundRole())
    scene = target if isinstance(target, QGraphicsScene) else target.scene()
    brush = scene.backgroundBrush() if scene is not None else None
    if brush is not None and brush.style() != Qt.BrushStyle.NoBrush:
        return brush.color()
    return QColor("white")


def _check_scale(scale: float) -> float:
    try:
        scale = float(scale)
    except (TypeError, ValueError):
        raise ValueError(f"scale must be a number, got {scale!r}") from None
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    return scale


#: Device pixel ratio of a slide export: text, symbols and markers this much larger
#: than on screen; the rest of the scale goes to a larger layout (see the module doc).
SLIDE_TYPE = 1.5


def _settle_layout(widget: QWidget) -> None:
    """Let a resized widget's layouts, graphics layouts and panels catch up now."""
    QApplication.processEvents()
    for panel in [widget, *widget.findChildren(QWidget)]:
        flush = getattr(type(panel), "flush", None)
        if callable(flush) and hasattr(panel, "refresh"):
            panel.flush()  # a bceviz panel: its redraw (ticks thin out by width) is due
    QApplication.processEvents()


@contextmanager
def slide_layout(widget: QWidget, factor: float) -> Iterator[QSize]:
    """Lay ``widget`` out at ``factor`` × its size for the duration (yields that size).

    Its layouts, plots and panels redraw for the larger size, so axes choose their
    ticks for the room they now have; the old size and layout come back afterwards.
    A window, or a factor of 1 or less, is left as it is.
    """
    old = widget.size()
    if widget.isWindow() or factor <= 1.0 or old.isEmpty():
        yield old
        return
    size = QSize(max(1, round(old.width() * factor)), max(1, round(old.height() * factor)))
    try:
        for _ in range(3):  # a parent layout may put it back while the children settle
            widget.resize(size)
            _settle_layout(widget)
            if widget.size() == size:
                break
        yield widget.size()
    finally:
        widget.resize(old)
        _settle_layout(widget)


def render_image(target: Exportable, scale: float = 1.0) -> QImage:
    """The target rendered into an opaque QImage of ``scale`` × its logical size.

    A panel at a scale above 1 is laid out larger first (a slide, see the module doc).
    """
    scale = _check_scale(scale)
    source = _source_rect(target)
    width = max(1, round(source.width() * scale))
    height = max(1, round(source.height() * scale))
    if width > MAX_SIDE_PX or height > MAX_SIDE_PX:
        raise ValueError(
            f"{width} × {height} pixels is too large (at most {MAX_SIDE_PX} per side): "
            "choose a smaller scale")
    slide = isinstance(target, QWidget) and not target.isWindow() and scale > SLIDE_TYPE
    factor = scale / SLIDE_TYPE if slide else 1.0
    with (slide_layout(target, factor) if slide else nullcontext()):
        laid_out = _source_rect(target)
        image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
        # Paint at the logical size and let the device pixel ratio supply the
        # detail: text and curves are drawn at full resolution, cosmetic pens scale.
        image.setDevicePixelRatio(width / laid_out.width() if laid_out.width() else scale)
        image.fill(_background(target))
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
            with _export_mode(target, painter, _background(target)):
                _paint(target, painter, laid_out)
        finally:
            painter.end()
    image.setDevicePixelRatio(1.0)
    return image


# ----------------------------------------------------------------------------
# Atomic writing


def _write_atomically(path: PathLike, data: bytes) -> None:
    """Write bytes with the one atomic writer; ExportError (and no file left) on failure."""
    try:
        write_atomic(path, data)
    except WriteError as exc:
        raise ExportError(path, exc.reason) from None


def _image_bytes(image: QImage, fmt: str) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, fmt):
        raise RuntimeError(f"Qt could not encode the image as {fmt}")
    buffer.close()
    return bytes(buffer.data().data())


# ----------------------------------------------------------------------------
# Public API


def export_png(target: Exportable, path: PathLike, scale: float = 1.0) -> QSize:
    """Write target as a PNG of ``scale`` × its size; returns the pixel size.

    Raises ExportError (naming the path) if the file cannot be written and
    ValueError for a bad scale; an existing file is replaced only on success.
    """
    image = render_image(target, scale)
    try:
        _write_atomically(path, _image_bytes(image, "PNG"))
    except OSError as exc:
        if isinstance(exc, ExportError):
            raise
        raise ExportError(path, exc.strerror or str(exc)) from exc
    return image.size()


def svg_bytes(target: Exportable, *, title: str = "bceviz", description: str = "") -> bytes:
    """The target painted by QSvgGenerator, as SVG document bytes."""
    source = _source_rect(target)
    width, height = max(1, round(source.width())), max(1, round(source.height()))
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # SVG 1.1 output carries clip paths (Qt >= 6.5); SVG Tiny 1.2, the default,
    # drops every clip, so scrolled, elided or view-clipped content would spill.
    generator = QSvgGenerator(QSvgGenerator.SvgVersion.Svg11)
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(width, height))
    generator.setViewBox(QRectF(0, 0, width, height))
    generator.setTitle(title)
    generator.setDescription(description or "Exported from bceviz")
    generator.setResolution(96)
    painter = QPainter()
    if not painter.begin(generator):
        raise RuntimeError("Qt could not start the SVG generator")
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        with _export_mode(target, painter, _background(target)):
            _paint(target, painter, source)
    finally:
        painter.end()
    buffer.close()
    data = bytes(buffer.data().data())
    # QSvgGenerator states the size in millimetres at its resolution; give the
    # pixel size instead so viewers open the drawing at the size seen on screen.
    def pixel_size(match: re.Match) -> bytes:
        tag = re.sub(rb'\swidth="[^"]*"', b' width="%d"' % width, match.group(0), count=1)
        return re.sub(rb'\sheight="[^"]*"', b' height="%d"' % height, tag, count=1)

    return re.sub(rb"<svg\b[^>]*>", pixel_size, data, count=1)


def export_svg(target: Exportable, path: PathLike, *, title: str = "bceviz",
               description: str = "") -> None:
    """Write target as an SVG file (vector curves and text, embedded images)."""
    data = svg_bytes(target, title=title, description=description)
    try:
        _write_atomically(path, data)
    except OSError as exc:
        if isinstance(exc, ExportError):
            raise
        raise ExportError(path, exc.strerror or str(exc)) from exc


def export(target: Exportable, path: PathLike, scale: float = 1.0) -> None:
    """PNG or SVG by the file's extension (.png or .svg)."""
    suffix = Path(os.fspath(path)).suffix.lower()
    if suffix == ".svg":
        export_svg(target, path)
    elif suffix == ".png":
        export_png(target, path, scale)
    else:
        raise ExportError(path, f"unknown image type {suffix or '(no extension)'!r}: "
                                "use .png or .svg")


def copy_to_clipboard(target: Exportable, scale: float = 1.0) -> QImage:
    """Put the target on the clipboard as an image (pastes into slides and documents)."""
    image = render_image(target, scale)
    clipboard = QGuiApplication.clipboard()
    if clipboard is None:  # pragma: no cover - there is always one with a QGuiApplication
        raise RuntimeError("no clipboard available")
    clipboard.setImage(image)
    return image


def copy_text_to_clipboard(text: str) -> None:
    """Put plain text on the clipboard (e.g. the "Copy as code" snippets)."""
    QGuiApplication.clipboard().setText(text)


__all__ = [
    "ExportError", "MAX_SIDE_PX", "copy_text_to_clipboard", "copy_to_clipboard", "export",
    "export_png", "export_svg", "render_image", "SLIDE_TYPE", "slide_layout", "svg_bytes",
]
