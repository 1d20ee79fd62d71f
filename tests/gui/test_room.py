"""What a teacher trips over in front of a room (issue: teaching in front of a room)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from tests.gui.test_file_actions import _window, config_dir  # noqa: F401 (fixture)


def test_a_restored_session_says_so_and_start_fresh_leaves_it(qtbot, config_dir):  # noqa: F811
    first = _window(qtbot, "xor-linear")
    first.file_actions.enable_persistence(restore_session=False)
    first.state.step(12)
    first.close()

    second = _window(qtbot, "xor-linear")
    second.file_actions.enable_persistence(restore_session=True)
    QApplication.processEvents()
    assert second.state.trainer.steps == 12
    assert "Restored from your last session" in second.caption_bar.text()
    assert second.act_fresh.isVisible() or not second.caption_toolbar.isHidden()
    second.act_fresh.trigger()
    assert second.state.trainer.steps == 0
    assert "Restored" not in second.caption_bar.text()
    assert not second.act_fresh.isVisible()
    second.file_actions.prefs = None
    second.close()


def test_a_loaded_csv_changes_the_title_and_caption(main_window, tmp_path):
    path = tmp_path / "my points.csv"
    path.write_text("a,b,label\n0,0,0\n1,1,1\n2,0,1\n", encoding="utf-8")
    main_window.state.load_points_file(path)
    QApplication.processEvents()
    assert "Start here" not in main_window.caption_bar.text()
    assert "my points.csv" in main_window.caption_bar.title
    assert "3 points" in main_window.caption_bar.caption


def test_stages_hold_the_axes_their_claims_need(main_window):
    """bce-vs-mse: the gradient peak of 0.3 is readable; focal-loss: the bars keep their scale."""
    w = main_window
    w.show_stage("bce-vs-mse")
    curve = w.panels["loss_curve"]
    curve.flush()
    top = curve.plot.getViewBox().viewRange()[1][1]
    assert top <= 4.5, top  # not 0-7.5: the 0.3 peak of |dMSE/dz| is 7 % of the height
    w.show_stage("focal-loss")
    samples = w.panels["samples"]
    samples.flush()
    before = samples.bars.getViewBox().viewRange()[0][1]
    w.state.set_spec(focal_gamma=0.0)
    samples.flush()
    after = samples.bars.getViewBox().viewRange()[0][1]
    assert before == after == 2.0  # the bars grow back on a scale that stays put


def test_one_bit_is_singular():
    import math

    from bceviz.gui.format import loss

    assert loss(math.log(2), "bits") == "1 bit"
    assert loss(1.0, "nats") == "1 nat"
    assert loss(2.0, "nats") == "2 nats"


def test_a_sum_inside_ln_keeps_its_parentheses(main_window):
    w = main_window
    w.state.set_probe(z=30.0, y=0.0)
    w.panels["formula"].flush()
    text = w.panels["formula"].text.text()
    assert "ln (1 − 9.4" in text or "ln(1 − 9.4" in text, text


def test_no_held_out_points_prints_nothing_over_the_training_curves(main_window, tmp_path):
    w = main_window
    path = tmp_path / "all train.csv"
    path.write_text("a,b,label\n0,0,0\n1,1,1\n2,0,1\n0,2,0\n", encoding="utf-8")
    w.state.load_points_file(path)
    panel = w.panels["metrics"]
    panel._dirty = True
    panel.flush()
    for name in ("roc", "pr", "cal"):
        assert panel.messages[name].textItem.toPlainText() == ""
    assert panel.split_box.currentData() == "train"  # it shows what it says
