"""The segmentation lab's Qt-free state: settings, brush, training, figures, the smoothing traps."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bceviz.engine import segmentation as seg
from bceviz.model.labs import get_lab, lab_ids
from bceviz.model.labs.base import LabError
from bceviz.model.labs.segmentation import (
    HISTORY_MAX,
    MAX_STEPS_PER_CALL,
    SegmentationState,
    symlog,
    symlog_ticks,
)

REPORT_KEYS = {"dice", "iou", "pixel_accuracy", "recall", "loss", "loss_value"}


@pytest.fixture
def state() -> SegmentationState:
    return SegmentationState()


def _events(state: SegmentationState) -> list:
    seen: list = []
    for name in state.events.names:
        getattr(state.events, name).connect(lambda name=name, **info: seen.append((name, info)))
    return seen


def _snapshot(state: SegmentationState) -> str:
    return json.dumps(state.to_dict(), sort_keys=True)


def _walk_finite(obj) -> None:
    if isinstance(obj, dict):
        for v in obj.values():
            _walk_finite(v)
    elif isinstance(obj, list):
        for v in obj:
            _walk_finite(v)
    elif isinstance(obj, float):
        assert math.isfinite(obj)


# ----------------------------------------------------------------------------- registry
def test_lab_is_registered():
    assert "segmentation" in lab_ids()
    info = get_lab("segmentation")
    assert info.gui_module == "bceviz.gui.labs.segmentation"
    assert isinstance(info.state_factory(), SegmentationState)


# ----------------------------------------------------------------------------- report
def test_report_has_the_figures_and_is_json_safe(state):
    report = state.report()
    assert REPORT_KEYS <= set(report)
    assert report["loss"] == "bce"
    text = json.dumps(report, allow_nan=False)
    _walk_finite(json.loads(text))
    # p = 0.5 everywhere at the start: BCE is ln 2, everything predicted lesion
    assert report["loss_value"] == pytest.approx(math.log(2))
    assert report["recall"] == 1.0
    assert report["pixel_accuracy"] == pytest.approx(report["lesion_share"])


def test_empty_scan_reports_none_for_recall_not_nan(state):
    state.set_scan(lesion_radius=0.0)
    report = state.report()
    assert report["recall"] is None and report["lesion_pixels"] == 0
    assert report["suggested_pos_weight"] is None
    assert report["baseline"]["dice"] == 1.0  # both empty: perfect
    json.dumps(report, allow_nan=False)


def test_background_baseline_beside_the_model_on_a_tiny_lesion(state):
    fig = state.figures()
    share = fig.model.lesion_pixels / fig.model.pixels
    assert 0.01 <= share <= 0.02  # a tiny tumour: 1–2 % of the pixels
    assert fig.baseline.pixel_accuracy == pytest.approx(1 - share)
    assert fig.baseline.pixel_accuracy > 0.98
    assert fig.baseline.dice == 0.0 and fig.baseline.recall == 0.0
    assert fig.baseline_loss < 0.07  # a small BCE for predicting nothing
    assert fig.baseline_p < 0.5


# ----------------------------------------------------------------------------- training
def test_step_and_reset(state):
    seen = _events(state)
    assert state.can_train()
    assert state.step(5) == 5 and state.step_count == 5
    assert ("model", {"reason": "step"}) in seen
    assert state.report()["steps"] == 5
    before = state.report()["loss_value"]
    state.step(200)
    assert state.report()["loss_value"] < before
    state.reset()
    assert state.step_count == 0 and np.all(state.weights == 0) and state.bias == 0.0
    assert state.report()["loss_value"] == pytest.approx(math.log(2))
    assert state.step(0) == 0


def test_step_is_capped_and_safe_for_large_n(state, monkeypatch):
    from bceviz.model.labs import segmentation as lab

    monkeypatch.setattr(lab, "MAX_STEPS_PER_CALL", 3 * HISTORY_MAX)  # the real cap: 100,000
    assert MAX_STEPS_PER_CALL == 100_000
    state.set_scan(size=32)
    done = state.step(10**9)
    assert done == 3 * HISTORY_MAX
    steps, _loss, _dice = state.history()
    assert len(steps) <= HISTORY_MAX + 1 and steps[-1] <= state.step_count
    _walk_finite(state.report())


def test_divergence_stops_training_with_a_message_and_finite_weights(state, monkeypatch):
    from bceviz.model.labs import segmentation as lab

    monkeypatch.setattr(lab, "WEIGHT_LIMIT", 50.0)  # the real limit, 1e6, takes long to reach
    state.set_loss(kind="weighted_bce", pos_weight=5000.0)
    state.set_training(lr=50.0, momentum=0.99)
    state.set_running(True)
    done = state.step(3000)
    assert done < 3000 and state.step_count == done
    assert "diverged" in state.status_message and not state.running
    assert np.all(np.abs(state.weights) <= 50.0) and math.isfinite(state.bias)
    _walk_finite(state.report())


def test_bce_is_myopic_on_the_tiny_lesion_where_dice_finds_more(state):
    state.step(50)
    early = state.figures()
    # BCE first learns "background everywhere": the baseline's accuracy, Dice 0
    assert early.model.dice == 0.0
    assert early.model.pixel_accuracy == pytest.approx(early.baseline.pixel_accuracy, abs=0.002)
    state.step(1500)
    bce = state.figures().model
    state.reset()
    state.set_loss(kind="dice")
    state.step(1500)
    dice = state.figures().model
    assert dice.dice > bce.dice + 0.05 and dice.recall > bce.recall
    state.reset()
    state.use_suggested_pos_weight()
    state.set_loss(kind="weighted_bce")
    state.step(1500)
    weighted = state.figures().model
    assert weighted.recall > 0.8 > dice.recall  # weighting finds the lesion ...
    assert weighted.pixel_accuracy < dice.pixel_accuracy  # ... with many false alarms


# ----------------------------------------------------------------------------- the traps
def test_trap_denominator_only_smoothing_scores_the_right_empty_answer_worst(state):
    state.apply_settings({"scan": {"lesion_radius": 0.0},
                          "loss": {"kind": "dice", "smooth_nr": 0.0, "smooth_dr": 1.0}})
    fig = state.figures()
    assert fig.baseline.dice == 1.0  # predicting nothing is exactly right ...
    assert fig.baseline_loss == 1.0  # ... and gets the maximum loss
    state.set_loss(smooth_nr=1.0)
    assert state.figures().baseline_loss < 0.5  # the same term above fixes it


def test_trap_empty_target_without_numerator_smoothing_pins_the_loss_at_one(state):
    state.apply_settings({"scan": {"lesion_radius": 0.0},
                          "loss": {"kind": "dice", "smooth_nr": 0.0}})
    assert state.figures().loss_value == 1.0
    state.step(300)
    assert state.figures().loss_value == 1.0
    assert np.all(state.weights == 0.0) and state.bias == 0.0  # the gradient is exactly 0
    assert np.all(state.gradient_map().values == 0.0)
    assert state.figures().model.dice == 0.0  # still p = 0.5: "lesion" everywhere
    # with smoothing in the numerator as well, training empties the prediction
    state.reset()
    state.set_loss(smooth_nr=1.0, smooth_dr=1.0)
    state.step(1500)  # slowly at first: the gradient is 1/(Σp + 1)² per unit of p(1 − p)
    assert state.figures().model.dice == 1.0
    assert state.figures().loss_value < 0.05


def test_trap_large_numerator_term_makes_training_unstable(state):
    state.apply_settings({"loss": {"kind": "dice", "smooth_nr": 100.0},
                          "training": {"lr": 1.0}})
    state.step(400)
    _steps, loss, dice = state.history()
    assert dice.max() > 0.05  # it starts to find the lesion ...
    assert dice[-1] == 0.0  # ... then collapses to predicting nothing
    assert loss[-1] < 0.0  # while the "loss" falls below zero
    assert state.figures().model.predicted_pixels == 0
    # with MONAI's default terms the same training keeps the lesion
    state.reset()
    state.set_loss(smooth_nr=1e-5)
    state.step(400)
    assert state.figures().model.dice > 0.3


# ----------------------------------------------------------------------------- gradient map
def test_gradient_map_shares_one_symmetric_scale_across_losses(state):
    state.step(100)
    maps = {}
    for kind in seg.LOSS_KINDS:
        state.set_loss(kind=kind)
        maps[kind] = state.gradient_map()
    scales = {m.scale for m in maps.values()}
    assert len(scales) == 1  # the same scale whichever loss is chosen
    scale = scales.pop()
    largest = max(maps["bce"].own_max.values())
    assert largest <= scale < 1.5 * largest  # rounded up to a step of the colour scale
    for gm in maps.values():
        assert np.abs(gm.values).max() <= scale * (1 + 1e-12)
        assert np.all(np.abs(gm.display) <= 1.0)
    # BCE's map is (p − y) / N, pixel by pixel
    p = state.probability()
    assert np.allclose(maps["bce"].values, (p - state.mask) / state.mask.size)
    # Dice's gradient is larger on the tiny lesion than BCE's
    lesion = state.mask > 0
    assert np.abs(maps["dice"].values[lesion]).mean() > 5 * np.abs(maps["bce"].values[lesion]).mean()
    state.set_view(grad_scale="own")
    own = state.gradient_map()
    assert own.own_max[state.loss.kind] <= own.scale < 1.5 * own.own_max[state.loss.kind]


def test_dice_gradient_is_global_bce_gradient_is_local(state):
    state.step(100)
    far = (50.0, 56.0)  # far from the lesion
    for kind, changes in (("bce", False), ("dice", True)):
        state.set_loss(kind=kind)
        before = state.gradient_map().values.copy()
        state.paint(*far)
        after = state.gradient_map().values
        changed = np.abs(after - before) > 1e-15
        stroke = seg.capsule_mask(64, *far, *far, state.view["brush_radius"])
        assert changed[stroke].all()
        assert changed[~stroke].any() == changes, kind
        state.clear_paint()


def test_colour_scale_moves_in_round_steps():
    from bceviz.model.labs.segmentation import nice_ceil

    assert nice_ceil(0.0046) == 0.005 and nice_ceil(0.005) == 0.005
    assert nice_ceil(0.00012) == 0.00015 and nice_ceil(7.1) == 10.0 and nice_ceil(1.0) == 1.0


def test_symlog_scale():
    v = np.array([-1.0, -1e-3, 0.0, 1e-6, 0.5, 1.0, 2.0])
    out = symlog(v, 1.0)
    assert out[0] == -1.0 and out[2] == 0.0 and out[5] == 1.0 and out[6] == 1.0
    assert np.all(np.diff(out) >= 0)
    ticks = symlog_ticks(2.0)
    assert ticks[0] == (-1.0, -2.0) and ticks[-1] == (1.0, 2.0) and (0.0, 0.0) in ticks


# ----------------------------------------------------------------------------- size curve
def test_size_curve_shows_dice_is_harsher_on_small_lesions(state):
    curve = state.size_curve()
    share = curve.share
    assert share[0] < 0.002 and share[-1] > 0.15
    assert set(curve.values) == set(seg.LOSS_KINDS)
    small = np.searchsorted(share, 0.01)
    assert curve.values["dice"][small] > 2 * curve.values["dice"][-1]
    assert curve.values["bce"][small] < curve.values["bce"][-1]
    assert curve.dice_metric[small] < curve.dice_metric[-1]
    assert curve.current_share == pytest.approx(state.figures().model.lesion_pixels / 4096)
    assert state.size_curve() is curve  # cached
    state.set_loss(smooth_nr=5.0)
    assert state.size_curve() is not curve


# ----------------------------------------------------------------------------- brush and scan
def test_brush_paints_and_erases_the_mask(state):
    seen = _events(state)
    lesion = state.mask.copy()
    assert state.paint(10.0, 10.0, 20.0, 10.0)
    assert state.mask[10, 10:20].all() and state.painted
    assert ("mask", {"reason": "paint"}) in seen
    assert not state.paint(10.0, 10.0, 20.0, 10.0)  # nothing new
    cy, cx = np.argwhere(lesion > 0).mean(axis=0)
    state.set_view(brush_radius=12.0)
    state.paint(cx + 0.5, cy + 0.5, erase=True)
    assert state.mask[lesion > 0].sum() == 0
    state.clear_paint()
    assert np.array_equal(state.mask, lesion) and not state.painted


def test_strokes_stay_when_the_lesion_moves_and_go_when_the_size_changes(state):
    state.paint(5.0, 5.0)
    state.move_lesion(20.0, 40.0)
    assert state.scan_params["lesion_x"] == pytest.approx(20 / 64)
    assert state.mask[4:6, 4:6].all() and state.painted
    assert state.mask[40, 20] == 1.0
    state.set_scan(size=128)
    assert not state.painted and state.mask.shape == (128, 128)


def test_moving_the_lesion_keeps_the_weights(state):
    state.step(50)
    w = state.weights.copy()
    seen = _events(state)
    state.move_lesion(10.0, 50.0)
    assert np.array_equal(state.weights, w)
    assert {name for name, _ in seen} >= {"scan", "mask", "model"}


def test_suggested_pos_weight(state):
    fig = state.figures()
    n_pos = fig.model.lesion_pixels
    assert fig.suggested_pos_weight == pytest.approx((4096 - n_pos) / n_pos)
    assert state.use_suggested_pos_weight() == pytest.approx((4096 - n_pos) / n_pos)
    state.set_scan(lesion_radius=0.0)
    with pytest.raises(LabError, match="no lesion pixels"):
        state.use_suggested_pos_weight()


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("settings, match", [
    ({"scan": {"size": 48}}, "settings.scan.size"),
    ({"scan": {"lesion_radius": 0.4}}, "settings.scan.lesion_radius"),
    ({"scan": {"lesion_x": "left"}}, "settings.scan.lesion_x"),
    ({"scan": {"seed": -1}}, "settings.scan.seed"),
    ({"scan": {"colour": 1}}, "unknown field 'colour'"),
    ({"loss": {"kind": "hinge"}}, "settings.loss.kind"),
    ({"loss": {"smooth_dr": 0.0}}, "settings.loss.smooth_dr"),
    ({"loss": {"smooth_nr": -1.0}}, "settings.loss.smooth_nr"),
    ({"loss": {"focal_alpha": 2.0}}, "settings.loss.focal_alpha"),
    ({"loss": {"squared_pred": 1}}, "settings.loss.squared_pred"),
    ({"loss": {"pos_weight": "suggested"}, "scan": {"lesion_radius": 0.0}}, "no lesion pixels"),
    ({"training": {"lr": 0.0}}, "settings.training.lr"),
    ({"training": {"steps_per_frame": 0}}, "settings.training.steps_per_frame"),
    ({"view": {"tool": "lasso"}}, "settings.view.tool"),
    ({"view": {"brush_radius": 40}}, "settings.view.brush_radius"),
    ({"pretrain_steps": 10**6}, "settings.pretrain_steps"),
    ({"pretrain": 10}, "unknown field 'pretrain'"),
])
def test_refused_settings_name_the_field_and_change_nothing(state, settings, match):
    state.paint(3.0, 3.0)
    state.step(3)
    before = _snapshot(state)
    seen = _events(state)
    with pytest.raises(LabError, match=match):
        state.apply_settings(settings)
    assert _snapshot(state) == before and seen == []


@pytest.mark.parametrize("method, values, match", [
    ("set_scan", {"contrast": 5.0}, "scan.contrast"),
    ("set_scan", {"size": True}, "scan.size"),
    ("set_loss", {"pos_weight": -1.0}, "loss.pos_weight"),
    ("set_loss", {"kind": None}, "loss.kind"),
    ("set_training", {"momentum": 1.0}, "training.momentum"),
    ("set_view", {"grad_scale": "log"}, "view.grad_scale"),
])
def test_refused_gestures_change_nothing(state, method, values, match):
    before = _snapshot(state)
    with pytest.raises(LabError, match=match):
        getattr(state, method)(**values)
    assert _snapshot(state) == before


def test_apply_settings_resets_what_the_stage_before_left(state):
    state.apply_settings({"scan": {"size": 32, "lesion_radius": 0.2},
                          "loss": {"kind": "focal"}, "view": {"tool": "paint"}})
    state.paint(4.0, 4.0)
    state.step(10)
    seen = _events(state)
    state.apply_settings({})
    assert state.scan.size == 64 and state.loss.kind == "bce" and state.view["tool"] == "move"
    assert not state.painted and state.step_count == 0
    names = [name for name, _ in seen]
    for name in ("scan", "mask", "model", "settings", "view"):
        assert names.count(name) == 1, name


def test_stage_settings_with_suggested_weight_and_pretraining(state):
    state.apply_settings({"loss": {"kind": "weighted_bce", "pos_weight": "suggested"},
                          "pretrain_steps": 50, "training": {"steps_per_frame": 4}})
    n_pos = state.figures().model.lesion_pixels
    assert state.loss.pos_weight == pytest.approx((4096 - n_pos) / n_pos)
    assert state.step_count == 50 and state.steps_per_frame == 4


# ----------------------------------------------------------------------------- sessions
def test_session_round_trip_gives_the_same_report(state):
    state.apply_settings({"scan": {"size": 32, "lesion_x": 0.3, "seed": 4},
                          "loss": {"kind": "dice_bce", "lambda_dice": 0.5}})
    state.paint(3.0, 3.0, 8.0, 9.0)
    state.paint(10.0, 10.0, erase=True)
    state.step(37)
    payload = json.loads(json.dumps(state.to_dict(), allow_nan=False))
    other = SegmentationState()
    other.restore(payload)
    assert other.report() == state.report()
    assert np.array_equal(other.mask, state.mask)
    # training continues identically (the momentum buffer came along)
    state.step(5)
    other.step(5)
    assert other.report() == state.report()


@pytest.mark.parametrize("mutate, match", [
    (lambda p: p.pop("weights"), "missing field 'weights'"),
    (lambda p: p.update(format=2), "session.format"),
    (lambda p: p.update(weights=[1.0, 2.0]), "session.weights"),
    (lambda p: p.update(weights=[1.0, "x", 0.0, 0.0]), r"session.weights\[1\]"),
    (lambda p: p.update(painted=[10**7]), r"session.painted\[0\]"),
    (lambda p: p.update(painted=[5], erased=[5]), "both painted and erased"),
    (lambda p: p["scan"].update(size=100), "session.scan.size"),
    (lambda p: p["scan"].pop("seed"), "missing field 'seed'"),
    (lambda p: p.update(history=[[0, 1.0]]), r"session.history\[0\]"),
    (lambda p: p.update(bias=float("nan")), "session.bias"),
])
def test_restore_refuses_bad_sessions_and_changes_nothing(state, mutate, match):
    payload = json.loads(json.dumps(SegmentationState().to_dict()))
    mutate(payload)
    state.step(3)
    before = _snapshot(state)
    with pytest.raises(LabError, match=match):
        state.restore(payload)
    assert _snapshot(state) == before


def test_figures_are_cached_per_version(state):
    a = state.figures()
    assert state.figures() is a
    state.step(1)
    b = state.figures()
    assert b is not a and b.steps == 1
    g = state.gradient_map()
    assert state.gradient_map() is g
    state.paint(2.0, 2.0)
    assert state.gradient_map() is not g


# ----------------------------------------------------------------------------- stages
def _stage_state(stage_id: str) -> SegmentationState:
    from bceviz.model.stages import get_stage

    stage = get_stage(stage_id)
    assert stage.lab == "segmentation" and 400 <= stage.order < 500
    assert stage.chapter == "Applications: segmentation"
    state = SegmentationState()
    state.apply_settings(dict(stage.settings))
    return state


def test_the_five_stages_exist_in_order():
    from bceviz.model.stages import stages_of_lab

    ids = [s.stage_id for s in stages_of_lab("segmentation")]
    assert ids == ["segmentation-pixels", "segmentation-accuracy-lies",
                   "segmentation-local-global", "segmentation-weighting", "segmentation-traps"]
    for stage in stages_of_lab("segmentation"):
        assert 2 <= len(stage.panel_ids) <= 4


def test_pixels_stage_caption_agrees_and_bce_finds_the_big_lesion():
    from bceviz.model.stages import get_stage

    state = _stage_state("segmentation-pixels")
    assert "4,096 pixels" in get_stage("segmentation-pixels").caption
    assert state.figures().model.pixels == 4096
    state.step(300)
    assert state.figures().model.dice > 0.9


def test_accuracy_lies_stage_caption_numbers():
    from bceviz.model.stages import get_stage

    caption = get_stage("segmentation-accuracy-lies").caption
    state = _stage_state("segmentation-accuracy-lies")
    fig = state.figures()
    n = fig.model.lesion_pixels
    assert f"{n} of {fig.model.pixels:,} pixels ({100 * n / fig.model.pixels:.1f} %)" in caption
    assert f"{100 * fig.baseline.pixel_accuracy:.1f} % accurate" in caption
    assert f"({fig.baseline_loss:.3f} nats)" in caption and fig.baseline.dice == 0.0
    state.step(20)  # "BCE training learns exactly that first"
    assert state.figures().model.predicted_pixels == 0


def test_local_global_stage_caption_numbers():
    from bceviz.model.stages import get_stage

    caption = get_stage("segmentation-local-global").caption
    state = _stage_state("segmentation-local-global")
    gm = state.gradient_map()
    n = state.figures().model.lesion_pixels
    assert f"the {n} lesion pixels get {100 * gm.lesion_share['bce']:.0f} % of BCE" in caption
    assert abs(gm.lesion_share["dice"] - 0.5) < 0.05 and "half of Dice" in caption


def test_weighting_stage_caption_numbers():
    from bceviz.model.stages import get_stage

    caption = get_stage("segmentation-weighting").caption
    state = _stage_state("segmentation-weighting")
    fig = state.figures()
    n, pixels = fig.model.lesion_pixels, fig.model.pixels
    assert f"n_neg / n_pos = {state.loss.pos_weight:.0f}" in caption
    assert f"the {n} lesion pixels weigh as much as the {pixels - n:,} others" in caption
    state.step(1500)
    fig = state.figures()
    assert fig.model.recall > 0.8  # "finds most of the lesion"
    assert fig.model.pixel_accuracy < fig.baseline.pixel_accuracy - 0.05  # "many false alarms"


def test_traps_stage_reproduces_each_trap_as_its_caption_says():
    state = _stage_state("segmentation-traps")
    fig = state.figures()
    assert fig.baseline.dice == 1.0 and fig.baseline_loss == 1.0  # right answer, maximum loss
    state.step(200)  # "nothing moves"
    assert state.figures().loss_value == 1.0 and state.step_count == 200
    assert np.all(state.weights == 0.0)
    state.set_loss(smooth_nr=1.0)  # "Set smooth_nr to 1 and Play again"
    state.step(600)
    assert state.figures().loss_value < 0.1 and state.figures().model.dice == 1.0
    state.set_scan(lesion_radius=0.06)  # "set the radius to 0.06 and smooth_nr to 100, Reset"
    state.set_loss(smooth_nr=100.0)
    state.reset()
    state.step(400)
    _steps, loss, dice = state.history()
    assert dice.max() > 0.05 and dice[-1] == 0.0 and loss[-1] < 0.0
