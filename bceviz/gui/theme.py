"""Colours, fonts and line widths shared by every panel, for light, dark and presentation modes."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal


@dataclass(frozen=True)
class Theme:
    name: str = "light"
    background: str = "#ffffff"
    foreground: str = "#202124"
    grid_alpha: float = 0.25
    neg: str = "#2166ac"  # label 0: blue
    pos: str = "#c0392b"  # label 1: red
    soft: str = "#7b3294"  # a soft label / the current target
    accent: str = "#e67e22"  # the draggable handle, the current weights
    muted: str = "#8a8f98"
    good: str = "#1a9850"
    colormap: str = "CET-D1"  # diverging blue-white-red for probabilities
    surface_colormap: str = "viridis"
    font_pt: float = 10.0
    line_width: float = 2.0
    marker_size: float = 8.0
    scale: float = 1.0  # presentation mode enlarges fonts, lines and markers

    def pen(self, color: str | None = None, width: float | None = None, style=None, alpha=255):
        c = pg.mkColor(color or self.foreground)
        c.setAlpha(alpha)
        pen = pg.mkPen(c, width=(width or self.line_width) * self.scale)
        if style is not None:
            pen.setStyle(style)
        return pen

    def brush(self, color: str, alpha: int = 255):
        c = pg.mkColor(color)
        c.setAlpha(alpha)
        return pg.mkBrush(c)

    def label_color(self, y: float) -> str:
        return self.pos if y >= 0.5 else self.neg


LIGHT = Theme()
DARK = Theme(
    name="dark", background="#1e1f22", foreground="#e8eaed", neg="#6baed6", pos="#fb6a4a",
    soft="#c2a5cf", accent="#fdae61", muted="#9aa0a6", good="#66bd63",
)


class ThemeManager(QObject):
    """Holds the current theme; panels restyle on ``changed``."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._theme = LIGHT
        self._presentation = False

    @property
    def theme(self) -> Theme:
        base = self._theme
        return replace(base, scale=1.6, font_pt=base.font_pt * 1.6) if self._presentation else base

    @property
    def presentation(self) -> bool:
        return self._presentation

    def set_dark(self, dark: bool) -> None:
        new = DARK if dark else LIGHT
        if new is not self._theme:
            self._theme = new
            self._apply_global()
            self.changed.emit()

    def set_presentation(self, on: bool) -> None:
        if bool(on) != self._presentation:
            self._presentation = bool(on)
            self.changed.emit()

    def _apply_global(self) -> None:
        pg.setConfigOption("background", self._theme.background)
        pg.setConfigOption("foreground", self._theme.foreground)


_manager: ThemeManager | None = None


def manager() -> ThemeManager:
    """The process-wide theme manager (created on first use, after QApplication)."""
    global _manager
    if _manager is None:
        _manager = ThemeManager()
        _manager._apply_global()
    return _manager


def current() -> Theme:
    return manager().theme


def style_plot(plot_item: "pg.PlotItem", theme: Theme | None = None,
               grid: bool | str = True) -> None:
    """Apply the theme's colours and font sizes to a PlotItem's axes and title, and its grid.

    ``grid``: True (both directions), "x" (vertical lines), "y" or False. The
    grid is drawn by a :class:`bceviz.gui.rendering.GridLines` item inside the
    view, not by the axes: an axis that draws the grid spans the whole plot and
    so repaints its tick labels on every change inside the plot.
    """
    from PySide6.QtGui import QFont

    from bceviz.gui.rendering import GridLines

    theme = theme or current()
    font = QFont()
    font.setPointSizeF(theme.font_pt * 0.9)
    for name in ("left", "bottom", "right", "top"):
        axis = plot_item.getAxis(name)
        if axis is None:
            continue
        axis.setPen(theme.pen(theme.foreground, width=1))
        axis.setTextPen(theme.pen(theme.foreground, width=1))
        axis.setTickFont(font)
        axis.label.setFont(font)
    plot_item.showGrid(x=False, y=False)
    want_x, want_y = grid in (True, "x"), grid in (True, "y")
    pen = theme.pen(theme.foreground, width=1, alpha=int(round(255 * theme.grid_alpha)))
    lines = getattr(plot_item, "_bceviz_grid", None)
    if lines is None and (want_x or want_y):
        lines = plot_item._bceviz_grid = GridLines(plot_item, x=want_x, y=want_y, pen=pen)
    if lines is not None:
        lines.setPen(pen)
        lines.set_axes(want_x, want_y)
