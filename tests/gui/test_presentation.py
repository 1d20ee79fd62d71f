"""Presentation mode (F11 / Esc) and the dark theme on every plot."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from bceviz.gui import theme as _theme


def key(window, qtbot, k) -> None:
    window.activateWindow()
    window.setFocus()
    qtbot.keyClick(window, k)
    QApplication.processEvents()


def caption_font(window) -> float:
    return window.caption_bar.font().pointSizeF()


def label_font(window) -> float:
    """A plain label's text size (inherits the window's font)."""
    return window.status_label.font().pointSizeF()


def test_f11_presents_and_esc_leaves(main_window, qtbot):
    w = main_window
    font, label, plot_font = caption_font(w), label_font(w), _theme.current().font_pt
    width = _theme.current().line_width * _theme.current().scale
    key(w, qtbot, Qt.Key.Key_F11)
    assert w.file_actions.presentation.active and w.act_presentation.isChecked()
    assert w.isFullScreen()
    assert caption_font(w) > 1.3 * font and label_font(w) > 1.3 * label  # widget text
    assert _theme.current().font_pt > 1.3 * plot_font  # plot text
    assert _theme.current().line_width * _theme.current().scale > 1.3 * width
    assert w.docks["controls"].isHidden() and w.menuBar().isHidden()

    key(w, qtbot, Qt.Key.Key_Space)  # keys still work with the menus hidden
    assert w.state.running
    key(w, qtbot, Qt.Key.Key_Space)
    assert not w.state.running
    steps = w.state.trainer.steps
    key(w, qtbot, Qt.Key.Key_S)
    assert w.state.trainer.steps == steps + 1

    key(w, qtbot, Qt.Key.Key_Escape)
    assert not w.file_actions.presentation.active and not w.act_presentation.isChecked()
    assert not w.isFullScreen()
    assert label_font(w) == label and _theme.current().font_pt == plot_font
    assert caption_font(w) < 1.2 * font
    assert not w.docks["controls"].isHidden() and not w.menuBar().isHidden()


def test_f11_toggles_back_and_esc_is_free_otherwise(main_window, qtbot):
    w = main_window
    assert not w.file_actions.presentation.leave_action.isEnabled()
    key(w, qtbot, Qt.Key.Key_F11)
    assert w.isFullScreen()
    key(w, qtbot, Qt.Key.Key_F11)
    assert not w.isFullScreen() and not _theme.manager().presentation
    assert not w.file_actions.presentation.leave_action.isEnabled()


def test_a_hidden_controls_dock_stays_hidden_after_presentation(main_window, qtbot):
    w = main_window
    w.docks["controls"].hide()
    w.file_actions.presentation.set(True)
    w.file_actions.presentation.set(False)
    assert w.docks["controls"].isHidden()


def test_dark_theme_reaches_every_plot(main_window):
    w = main_window
    try:
        w.act_dark.setChecked(True)
        QApplication.processEvents()
        dark = pg.mkColor(_theme.DARK.background).name()
        views = [v for panel in w.panels.values() for v in panel.findChildren(pg.GraphicsView)]
        assert len(views) >= 6
        for view in views:
            owner = view.parentWidget()
            while owner is not None and owner not in w.panels.values():
                owner = owner.parentWidget()
            assert view.backgroundBrush().color().name() == dark, owner.panel_id
    finally:
        w.act_dark.setChecked(False)
    light = pg.mkColor(_theme.LIGHT.background).name()
    assert all(v.backgroundBrush().color().name() == light
               for panel in w.panels.values() for v in panel.findChildren(pg.GraphicsView))
