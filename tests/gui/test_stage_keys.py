"""Space trains and Enter/Esc hand the keys back, whichever control has the focus."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDoubleSpinBox


def _l2_field(window):
    boxes = [b for b in window.panels["controls"].findChildren(QDoubleSpinBox)
             if "L2" in (b.toolTip() + b.objectName()) or b.objectName() == "l2"]
    return boxes[0] if boxes else window.panels["controls"].findChildren(QDoubleSpinBox)[-1]


def test_space_after_typing_in_a_field_commits_it_and_trains(main_window, qtbot):
    w = main_window
    box = _l2_field(w)
    box.setFocus()
    QApplication.processEvents()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "0.01")
    assert not w.state.running
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Space)
    assert w.state.running, "Space must start training"
    assert box.text().strip() != "" and abs(box.value() - 0.01) < 1e-12
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Space)
    assert not w.state.running


def test_enter_commits_and_gives_the_keys_back(main_window, qtbot):
    w = main_window
    box = _l2_field(w)
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "0.02")
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert abs(box.value() - 0.02) < 1e-12
    assert not box.hasFocus()
    steps = w.state.trainer.steps
    qtbot.keyClick(w, Qt.Key.Key_S)
    assert w.state.trainer.steps == steps + 1


def test_space_on_a_check_box_trains_instead_of_toggling_it(main_window, qtbot):
    from PySide6.QtWidgets import QCheckBox

    w = main_window
    box = w.panels["data"].findChildren(QCheckBox)[0]
    box.setFocus()
    before = box.isChecked()
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert box.isChecked() == before
    assert w.state.running
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert not w.state.running
