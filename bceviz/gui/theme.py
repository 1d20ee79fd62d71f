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
    # Every colour that draws text or an indicator reaches 4.5 : 1 against the background
    # (WCAG AA; tests/gui/test_contrast.py computes it for both themes).
    accent: str = "#b85c00"  # the draggable handle, the current weights
    muted: str = "#5f6368"
    good: str = "#1a7a40"
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
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if app is not None:  # every widget, menus and dialogs included, follows the theme
            app.setPalette(palette(self._theme))
            app.setStyleSheet(indicator_style(self._theme))


_manager: ThemeManager | None = None


def manager() -> ThemeManager:
    """The process-wide theme manager (created on first use, after QApplication)."""
    global _manager
    if _manager is None:
        _manager = ThemeManager()
        _manager._apply_global()
    return _manager


def luminance(color: str) -> float:
    """Relative luminance (WCAG 2) of a colour given as #rrggbb or a Qt colour name."""
    c = pg.mkColor(color)

    def channel(v: float) -> float:
        v = v / 255.0
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours, from 1 (same) to 21 (black on white)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


#: Theme fields that colour text or indicators (checked against the background).
TEXT_COLOURS = ("foreground", "neg", "pos", "soft", "accent", "muted", "good")


def palette(theme: Theme):
    """The application palette of a theme: text, fields, buttons, and the roles Qt's styles
    draw check boxes, radio buttons, frames and selections with (so that none of them
    keeps the other theme's colour and vanishes)."""
    from PySide6.QtGui import QColor, QPalette

    bg, fg = QColor(theme.background), QColor(theme.foreground)
    dark = bg.lightness() < 128
    button = bg.lighter(140) if dark else bg.darker(106)
    field = bg.lighter(120) if dark else QColor("#ffffff")
    pal = QPalette()
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        for role, color in (
                (QPalette.ColorRole.Window, bg), (QPalette.ColorRole.WindowText, fg),
                (QPalette.ColorRole.Base, field), (QPalette.ColorRole.AlternateBase, button),
                (QPalette.ColorRole.Text, fg), (QPalette.ColorRole.Button, button),
                (QPalette.ColorRole.ButtonText, fg), (QPalette.ColorRole.BrightText, fg),
                (QPalette.ColorRole.ToolTipBase, field), (QPalette.ColorRole.ToolTipText, fg),
                (QPalette.ColorRole.PlaceholderText, QColor(theme.muted)),
                (QPalette.ColorRole.Highlight, QColor(theme.accent if not dark else "#8ab4f8")),
                (QPalette.ColorRole.HighlightedText, QColor("#ffffff" if not dark
                                                            else "#1e1f22")),
                # frames and the outlines of check boxes / radio buttons: the foreground
                # mixed in, strong enough to see on the field colour
                (QPalette.ColorRole.Light, bg.lighter(170) if dark else QColor("#ffffff")),
                (QPalette.ColorRole.Midlight, bg.lighter(150) if dark else bg.darker(110)),
                (QPalette.ColorRole.Mid, QColor(theme.muted)),
                (QPalette.ColorRole.Dark, QColor(theme.muted)),
                (QPalette.ColorRole.Shadow, QColor("#000000"))):
            pal.setColor(group, role, color)
    muted = QColor(theme.muted)
    disabled = QPalette.ColorGroup.Disabled
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        pal.setColor(disabled, role, muted)
    # a disabled field keeps the theme's background (not the default light one)
    for role, color in ((QPalette.ColorRole.Window, bg), (QPalette.ColorRole.Base, bg),
                        (QPalette.ColorRole.Button, button)):
        pal.setColor(disabled, role, color)
    return pal


def indicator_style(theme: Theme) -> str:
    """Style rules the dark theme needs: Qt's Fusion style draws check-box and radio-button
    outlines as the window colour darkened (invisible on a dark window) and a checked
    toggle button barely differently from an unchecked one. Empty for the light theme."""
    if theme.name != "dark":
        return ""
    edge, fill, field = theme.foreground, "#8ab4f8", "#2b2d31"
    return (
        f"QCheckBox::indicator, QRadioButton::indicator {{ width: 12px; height: 12px;"
        f" border: 1px solid {edge}; background: {field}; }}"
        f" QRadioButton::indicator {{ border-radius: 7px; }}"
        f" QCheckBox::indicator:checked, QRadioButton::indicator:checked {{"
        f" background: {fill}; border: 3px solid {field}; outline: 1px solid {edge}; }}"
        f" QCheckBox::indicator:disabled, QRadioButton::indicator:disabled {{"
        f" border-color: {theme.muted}; }}"
        f" QPushButton:checked, QToolButton:checked {{ background: {fill}; color: #1e1f22;"
        f" border: 1px solid {edge}; border-radius: 3px; padding: 3px 8px; }}"
    )


def current() -> Theme:
    return manager().theme


def style_plot(plot_item: "pg.PlotItem", theme: Theme | None = None,
               grid: bool | str = True) -> None:
    """Apply the theme's colours and font sizes to a PlotItem's axes and title, and its grid.

    ``grid``: True (both directions), "x" (vertical lines), "y" or False. The
    grid is drawn by a :class:`bceviz.gui.rendering.GridLines` item inside the
    view, not by the axes: an axis that draws the grid spans the whole plot and
    so repaints its tick labels on every change inside the plot.

    The axes and the grid are cached as pixmaps (Qt's device-coordinate
    cache): an axis's inward ticks and the grid lie under the curves, so every
    curve that changes would otherwise play their pictures again, in Python,
    on every frame; cached, they are drawn again only when they change (a
    range, a size, a font) and blitted otherwise.
    """
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QGraphicsItem

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
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    plot_item.showGrid(x=False, y=False)
    want_x, want_y = grid in (True, "x"), grid in (True, "y")
    pen = theme.pen(theme.foreground, width=1, alpha=int(round(255 * theme.grid_alpha)))
    lines = getattr(plot_item, "_bceviz_grid", None)
    if lines is None and (want_x or want_y):
        lines = plot_item._bceviz_grid = GridLines(plot_item, x=want_x, y=want_y, pen=pen)
    if lines is not None:
        lines.setPen(pen)
        lines.set_axes(want_x, want_y)
        lines.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
