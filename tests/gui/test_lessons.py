"""Every lesson opens from the Scenario menu with its caption in the window and its panels shown."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from bceviz.model.scenarios import list_scenarios, load_scenario
from tests.model.test_lessons import LESSONS


def test_the_stage_menu_lists_the_lessons_in_teaching_order(main_window):
    from bceviz.model import stages

    menu_ids = list(main_window.scenario_actions)
    assert menu_ids == [s.stage_id for s in stages.all_stages()]
    positions = [menu_ids.index(sid) for sid in LESSONS]
    assert positions == sorted(positions)
    for sid, title in list_scenarios():
        assert main_window.scenario_actions[sid].text() == title


def test_each_lesson_opens_from_the_menu_with_caption_and_panels(main_window):
    w = main_window
    for sid in LESSONS:
        sc = load_scenario(sid)
        w.scenario_actions[sid].trigger()
        QApplication.processEvents()
        assert w.state.scenario_id == sid
        assert w.scenario_actions[sid].isChecked()
        assert w.caption_bar.caption == sc["caption"] and w.caption_bar.title == sc["title"]
        assert sc["title"] in w.caption_bar.text()
        assert w.caption_bar.isVisible() and w.caption_bar.height() >= \
            2 * w.caption_bar.fontMetrics().height()  # the caption wraps, not cut to one line
        from bceviz.model import stages

        stage = stages.get_stage(sid)
        assert w.mode == "stage", sid
        assert set(w.stage_host.visible_panels()) == set(stage.panel_ids), sid
        assert all(dock.isHidden() for dock in w.docks.values()), sid
        assert w.panels["controls"].isVisible() == stage.controls, sid


def test_the_practice_problem_hides_its_answer_until_reveal(main_window, qtbot):
    from PySide6.QtCore import Qt

    w = main_window
    w.scenario_actions["practice-problem"].trigger()
    for panel in w.panels.values():
        panel.flush()
    curve, formula = w.panels["loss_curve"].readout.text(), w.panels["formula"].text.text()
    for text in (curve, formula):
        assert "0.1625" not in text and "−0.15" not in text
    assert "Reveal" in curve and w.act_reveal.isVisible()
    qtbot.keyClick(w, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    for panel in w.panels.values():
        panel.flush()
    assert "L = 0.1625 nats" in w.panels["loss_curve"].readout.text()
    assert "p − y = −0.15" in w.panels["loss_curve"].readout.text()
    assert "0.1625" in w.panels["formula"].text.text()
    assert not w.act_reveal.isVisible()
    # the next stage does not hide anything, and the one after a Reveal hides again
    w.scenario_actions["confident-wrong"].trigger()
    w.panels["loss_curve"].flush()
    assert "L = 4.605 nats" in w.panels["loss_curve"].readout.text()
    w.scenario_actions["practice-problem"].trigger()
    w.panels["loss_curve"].flush()
    assert "L = ?" in w.panels["loss_curve"].readout.text()


def test_numerical_stability_shows_the_clipped_probe(main_window):
    w = main_window
    w.scenario_actions["numerical-stability"].trigger()
    w.panels["loss_curve"].flush()
    text = w.panels["loss_curve"].readout.text()
    assert "L = 30 nats" in text and "p is held at" in text
