"""SteadyLabel: a readout at a fixed size that grows to fit, never clips, and lays out nothing."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from bceviz.gui.steady import SteadyLabel


def _needs(text: str, font: QFont) -> tuple[int, int]:
    plain = QLabel()
    plain.setTextFormat(Qt.TextFormat.PlainText)
    plain.setFont(font)
    plain.setText(text)
    hint = plain.sizeHint()
    return hint.width(), hint.height()


def test_every_text_fits_and_shorter_ones_keep_the_size(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    label = SteadyLabel("0.5")
    QVBoxLayout(host).addWidget(label)
    host.show()
    rng = np.random.default_rng(3)
    texts = [f"{v:.3f}" for v in rng.random(300)] + ["—", "1,234 (56 pos.)", "12.5 %\nof true 1"]
    widest = (0, 0)
    for text in texts:
        label.setText(text)
        assert label.text() == text
        need = _needs(text, label.font())
        assert label.width() >= need[0] and label.height() >= need[1], text
        widest = (max(widest[0], label.width()), max(widest[1], label.height()))
        assert label.width() == widest[0] and label.height() == widest[1]  # never shrinks
    assert label.minimumSize() == label.maximumSize()  # fixed: no layout requests
    label.setText("1")
    label.refit()  # refit: back to what its text needs
    assert label.width() <= _needs("1", label.font())[0] + 1


def test_a_bigger_font_refits_and_the_digits_still_fit(qtbot):
    label = SteadyLabel("0.000")
    qtbot.addWidget(label)
    label.show()
    small = label.width()
    big = QFont(label.font())
    big.setPointSizeF(label.font().pointSizeF() * 2)
    label.setFont(big)
    assert label.width() > small
    for text in ("0.111", "0.888", "9.999", "1.414"):
        label.setText(text)
        assert label.width() >= _needs(text, big)[0]


def test_rich_text_labels_measure_each_text(qtbot):
    label = SteadyLabel("x", text_format=Qt.TextFormat.RichText)
    qtbot.addWidget(label)
    label.show()
    label.setText('<b style="color: #123456">wide bold text 0.123</b>')
    rich = QLabel('<b style="color: #123456">wide bold text 0.123</b>')
    assert label.width() >= rich.sizeHint().width()


def test_tool_tip_is_kept(qtbot):
    label = SteadyLabel("1")
    qtbot.addWidget(label)
    label.setToolTip("needs both classes")
    label.setToolTip("needs both classes")
    assert label.toolTip() == "needs both classes"
    label.setToolTip("")
    assert label.toolTip() == ""
