"""Every text and indicator reaches 4.5 : 1 against its background, in both themes."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QPalette

from bceviz.gui import theme as _theme

THEMES = [_theme.LIGHT, _theme.DARK]
PAIRS = [  # (text or indicator role, background role)
    (QPalette.ColorRole.WindowText, QPalette.ColorRole.Window),
    (QPalette.ColorRole.Text, QPalette.ColorRole.Base),
    (QPalette.ColorRole.ButtonText, QPalette.ColorRole.Button),
    (QPalette.ColorRole.HighlightedText, QPalette.ColorRole.Highlight),
    (QPalette.ColorRole.ToolTipText, QPalette.ColorRole.ToolTipBase),
    (QPalette.ColorRole.PlaceholderText, QPalette.ColorRole.Base),
    (QPalette.ColorRole.Dark, QPalette.ColorRole.Base),  # check box / radio outlines
    (QPalette.ColorRole.Mid, QPalette.ColorRole.Window),
]


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.name)
def test_plot_colours_that_draw_text_reach_4_5_to_1(theme):
    for name in _theme.TEXT_COLOURS:
        ratio = _theme.contrast_ratio(getattr(theme, name), theme.background)
        assert ratio >= 4.5, (theme.name, name, round(ratio, 2))


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.name)
def test_the_palette_reaches_4_5_to_1(qapp, theme):
    pal = _theme.palette(theme)
    for fg, bg in PAIRS:
        ratio = _theme.contrast_ratio(pal.color(fg).name(), pal.color(bg).name())
        assert ratio >= 4.5, (theme.name, fg.name, bg.name, round(ratio, 2))


def test_switching_theme_reaches_every_widget_and_comes_back(main_window, qapp):
    from PySide6.QtWidgets import QCheckBox

    main_window.act_dark.setChecked(True)
    box = main_window.panels["data"].findChildren(QCheckBox)[0]
    dark_text = box.palette().color(QPalette.ColorRole.WindowText).name()
    assert _theme.contrast_ratio(dark_text, _theme.DARK.background) >= 4.5
    assert qapp.palette().color(QPalette.ColorRole.Window).name() == _theme.DARK.background
    # check-box outlines and a checked toggle are drawn in the foreground colour
    assert "QCheckBox::indicator" in qapp.styleSheet() and "QPushButton:checked" in \
        qapp.styleSheet() and _theme.DARK.foreground in qapp.styleSheet()
    assert _theme.contrast_ratio(_theme.DARK.foreground, "#2b2d31") >= 4.5
    main_window.act_dark.setChecked(False)
    assert qapp.styleSheet() == ""
    light_text = box.palette().color(QPalette.ColorRole.WindowText).name()
    assert _theme.contrast_ratio(light_text, _theme.LIGHT.background) >= 4.5
    assert qapp.palette().color(QPalette.ColorRole.Window).name() == _theme.LIGHT.background
