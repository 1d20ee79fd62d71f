"""The tipping lab's Qt-free state: examples, SGD steps, the Newton fit, figures, settings, sessions."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bceviz.engine.losses import LossSpec, sigmoid
from bceviz.engine.tipping import (
    GRAIN_BOUNDARIES,
    TERMINATORS,
    fit_tipping,
    make_synthetic,
    sgd_update,
    surface_values,
)
from bceviz.model.datafiles import DataFileError
from bceviz.model.labs import get_lab
from bceviz.model.labs.base import LabError
from bceviz.model.labs.tipping import (
    DATASETS,
    MAX_EXAMPLES,
    MAX_STEPS_PER_CALL,
    MAX_STEPS_PER_CALL_SETTINGS,
    PATH_MAX,
    TABLE_ROWS,
    TippingState,
)

REPORT_KEYS = {"w", "b", "tipping_point", "width", "separable", "se_w", "se_b"}


def recorder(state):
    """Every event the state emits, as (name, info) in order."""
    seen = []
    for name in state.events.names:
        getattr(state.events, name).connect(lambda _n=name, **info: seen.append((_n, info)))
    return seen


def snapshot(state):
    return json.dumps(state.to_dict(), sort_keys=True), json.dumps(state.report(), sort_keys=True)


def json_safe(obj) -> None:
    json.dumps(obj, allow_nan=False)


# ----------------------------------------------------------------------------- registry, start


def test_registered_and_starts_from_two_examples():
    info = get_lab("tipping")
    assert info.gui_module == "bceviz.gui.labs.tipping"
    state = info.state_factory()
    assert isinstance(state, TippingState)
    assert state.n == 2 and sorted(state.y.tolist()) == [0.0, 1.0]
    assert state.w == 0.0 and state.b == 0.0 and state.can_train()
    report = state.report()
    assert REPORT_KEYS <= set(report)
    json_safe(report)
    # w = 0: no tipping point yet, and an honest statement of it
    assert report["tipping_point"] is None and report["width"] is None
    assert "no tipping point" in state.statements().model
    # two examples of different x are always separated
    assert report["separable"] is True and report["se_w"] is None


def test_examples_are_read_only_views():
    state = TippingState()
    with pytest.raises(ValueError):
        state.x[0] = 3.0
    with pytest.raises(ValueError):
        state.y[0] = 0.0


# ----------------------------------------------------------------------------- SGD


def test_each_step_is_the_seed_update_and_the_table_says_so():
    state = TippingState()
    seen = recorder(state)
    w = b = 0.0
    for k in range(5):
        i = k % 2  # in order: 0, 1, 0, 1, ...
        x_i, y_i = float(state.x[i]), float(state.y[i])
        w_new, b_new, p, g = sgd_update(w, b, x_i, y_i, state.lr)
        assert state.step(1) == 1
        row = state.steps_table()[-1]
        assert (row.step, row.index, row.x, row.y) == (k + 1, i, x_i, y_i)
        assert row.p == pytest.approx(p, rel=1e-15)
        assert row.p_minus_y == pytest.approx(p - y_i, rel=1e-15)
        assert row.grad_z == pytest.approx(row.p_minus_y, rel=1e-15)  # plain BCE
        # w ← w − η (ŷ − y) x, b ← b − η (ŷ − y)
        assert row.dw == pytest.approx(-state.lr * (p - y_i) * x_i, rel=1e-12)
        assert row.db == pytest.approx(-state.lr * (p - y_i), rel=1e-12)
        assert (state.w, state.b) == pytest.approx((w_new, b_new), rel=1e-15)
        w, b = w_new, b_new
    assert [name for name, _ in seen] == ["model"] * 5
    assert all(info == {"reason": "step"} for _, info in seen)
    assert len(state.surface().path) == 6  # the start and five steps


def test_table_keeps_the_last_rows_and_the_path_stays_bounded():
    state = TippingState()
    state.apply_settings({"dataset": "terminators"})
    assert state.step(3 * PATH_MAX) == 3 * PATH_MAX
    rows = state.steps_table()
    assert len(rows) == TABLE_ROWS
    assert [r.step for r in rows] == list(range(3 * PATH_MAX - TABLE_ROWS + 1, 3 * PATH_MAX + 1))
    path = state.surface().path
    assert len(path) <= PATH_MAX
    assert tuple(path[-1]) == (state.w, state.b)
    np.testing.assert_array_equal(path[0], [0.0, 0.0])  # the start is kept


def test_shuffled_order_visits_every_example_once_per_epoch_and_is_seeded():
    def indices(seed):
        state = TippingState()
        state.apply_settings({"dataset": "grain_boundaries", "order": "shuffled", "seed": seed})
        out = []
        for _ in range(3 * state.n):
            state.step(1)
            out.append(state.steps_table()[-1].index)
        return out, state.n

    a, n = indices(3)
    b, _ = indices(3)
    c, _ = indices(4)
    assert a == b and a != c
    for epoch in range(3):
        assert sorted(a[epoch * n:(epoch + 1) * n]) == list(range(n))
    assert a[:n] != list(range(n))


def test_many_steps_at_once_are_capped_and_finish():
    state = TippingState()
    assert state.step(10**12) == MAX_STEPS_PER_CALL
    assert state.steps == MAX_STEPS_PER_CALL
    assert all(math.isfinite(v) for v in (state.w, state.b))
    state.set_loss(focal_gamma=2.0)
    assert state.step(10**12) == MAX_STEPS_PER_CALL_SETTINGS
    json_safe(state.report())
    with pytest.raises(LabError, match="steps"):
        state.step(-1)


def test_separated_data_w_grows_while_the_tipping_point_stays_in_the_gap():
    state = TippingState()  # two terminators: −14 works, −4 fails
    lo, hi = state.separation().gap
    sizes = []
    for _ in range(6):
        state.step(4000)
        sizes.append(abs(state.w))
        assert lo < state.report()["tipping_point"] < hi
    assert all(b > a for a, b in zip(sizes, sizes[1:]))  # |w| keeps growing, epoch after epoch
    text = state.statements().separation
    assert "No maximum-likelihood estimate" in text and "L2" in text
    # an L2 penalty stops it: SGD then settles where the penalised fit is
    state.set_l2(0.05)
    state.reset()
    state.step(200_000)
    fit = state.fit()
    assert fit.converged
    assert state.w == pytest.approx(fit.w, rel=0.05)
    assert state.report()["tipping_point"] == pytest.approx(fit.tipping_point, abs=0.3)


# ----------------------------------------------------------------------------- fit


@pytest.mark.parametrize("key, params", [("grain_boundaries", GRAIN_BOUNDARIES),
                                         ("terminators", TERMINATORS)])
def test_fit_and_report_match_the_engine_on_the_synthetic_sets(key, params):
    state = TippingState()
    state.apply_settings({"dataset": key})
    x, y = make_synthetic(params)
    np.testing.assert_array_equal(state.x, x)
    np.testing.assert_array_equal(state.y, y)
    state.fit_now()
    ref = fit_tipping(x, y)
    report = state.report()
    assert (report["w"], report["b"]) == (ref.w, ref.b)
    assert report["tipping_point"] == ref.tipping_point and report["width"] == ref.width
    assert report["se_w"] == ref.se_w and report["se_b"] == ref.se_b
    assert report["se_tipping_point"] == ref.se_tipping_point
    assert report["separable"] is False and report["fit_converged"] is True
    assert "Wald" in state.statements().uncertainty
    assert report["w"] < 0  # both sets: class 1 at low x (small θ, very negative ΔG)


def test_fit_on_separated_data_says_there_is_no_maximum():
    state = TippingState()
    seen = recorder(state)
    fit = state.fit_now()
    assert fit is not None and not fit.converged and not fit.optimum_exists
    assert math.isfinite(state.w) and abs(state.w) > 5.0
    assert ("model", {"reason": "fit"}) in seen
    assert state.status_level == "warning" and "No maximum" in state.status_message
    report = state.report()
    assert report["fit_converged"] is False and report["se_w"] is None and report["se_b"] is None
    assert "do not exist" in report["uncertainty_message"]
    state.set_l2(0.01)
    assert state.fit().converged and "hold w finite" in state.statements().separation


def test_uncertainty_statements_are_honest():
    state = TippingState()
    state.apply_settings({"dataset": "terminators"})
    assert state.fit().se_w is not None
    state.set_l2(0.1)
    assert state.fit().se_w is None and "without a penalty" in state.statements().uncertainty
    state.set_l2(0.0)
    state.set_loss(label_smoothing=0.1)
    assert state.fit().se_w is None and "plain BCE only" in state.statements().uncertainty


def test_loss_settings_say_what_they_do_to_the_tipping_point():
    state = TippingState()
    state.apply_settings({"dataset": "terminators"})
    plain = state.fit()
    state.set_loss(pos_weight=4.0)
    weighted = state.fit()
    text = state.statements().settings_effect
    # w < 0 here (works at low ΔG): x* moves up, towards the failing terminators
    assert weighted.tipping_point > plain.tipping_point
    assert "toward the 'fails' examples" in text
    assert state.format_x(weighted.tipping_point) in text
    assert state.format_x(plain.tipping_point) in text
    state.set_loss(pos_weight=1.0, label_smoothing=0.2)
    assert state.fit().width > plain.width  # softer targets: a flatter sigmoid
    assert "width ×" in state.statements().settings_effect
    with pytest.raises(LabError, match="pos_weight"):
        state.set_loss(pos_weight=-1.0)
    with pytest.raises(LabError, match="not a loss setting"):
        state.set_loss(gamma=2.0)


# ----------------------------------------------------------------------------- edits


def test_edits_emit_specific_events_and_move_the_fit():
    state = TippingState()
    state.apply_settings({"dataset": "grain_boundaries"})
    seen = recorder(state)
    t0 = state.fit().tipping_point
    state.move_example(0, 30.0)
    state.flip_example(1)
    i = state.add_example(5.0, 1)
    state.delete_example(i)
    assert [(n, info.get("kind"), info.get("index")) for n, info in seen] == [
        ("data", "move", 0), ("data", "flip", 1), ("data", "add", state.n), ("data", "delete",
                                                                            state.n)]
    assert state.x[0] == 30.0
    assert state.fit().tipping_point != t0


@pytest.mark.parametrize("call, match", [
    (lambda s: s.move_example(5, 1.0), "example index"),
    (lambda s: s.move_example(0, float("nan")), "finite"),
    (lambda s: s.move_example(0, 2e6), "<="),
    (lambda s: s.set_label(0, 0.5), "class label"),
    (lambda s: s.add_example(1.0, 2), "class label"),
    (lambda s: s.add_example("3", 1), "number"),
    (lambda s: s.set_l2(-1.0), "L2"),
    (lambda s: s.set_lr(0.0), "learning rate"),
    (lambda s: s.set_order("random"), "order"),
    (lambda s: s.set_steps_per_frame(0), "steps per frame"),
    (lambda s: s.choose_dataset("mnist"), "dataset"),
])
def test_refused_changes_leave_the_state_as_it_was(call, match):
    state = TippingState()
    state.step(3)
    before = snapshot(state)
    with pytest.raises(LabError, match=match):
        call(state)
    assert snapshot(state) == before


def test_the_last_example_cannot_be_deleted_and_the_limit_holds():
    state = TippingState()
    state.delete_example(0)
    before = snapshot(state)
    with pytest.raises(LabError, match="last example"):
        state.delete_example(0)
    assert snapshot(state) == before
    state.apply_settings({"examples": [[float(i), i % 2] for i in range(MAX_EXAMPLES)]})
    with pytest.raises(LabError, match="at most"):
        state.add_example(1.0, 1)
    assert state.n == MAX_EXAMPLES


def test_one_class_left_no_fit_but_sgd_still_runs():
    state = TippingState()
    state.flip_example(1)
    assert state.fit() is None and state.fit_now() is None
    assert "one class" in state.statements().separation.lower()
    assert state.step(5) == 5
    json_safe(state.report())


# ----------------------------------------------------------------------------- figures


def test_strip_figure_is_the_model_and_its_band():
    state = TippingState()
    state.apply_settings({"dataset": "terminators", "start": "fit"})
    strip = state.strip()
    np.testing.assert_allclose(strip.p_model, sigmoid(state.w * strip.xs + state.b))
    lo, hi = strip.band
    p_lo, p_hi = sorted(float(sigmoid(state.w * v + state.b)) for v in (lo, hi))
    assert p_lo == pytest.approx(0.1) and p_hi == pytest.approx(0.9)
    assert float(sigmoid(state.w * strip.tipping_point + state.b)) == pytest.approx(0.5)
    assert strip.p_fit is not None and strip.gap is None
    assert strip.x_range[0] < state.x.min() and strip.x_range[1] > state.x.max()
    assert state.strip() is strip  # cached per version: two panels read one object
    state.set_show_fit(False)
    assert state.strip().p_fit is None


def test_x_range_does_not_move_under_a_drag_inside_it():
    state = TippingState()
    lo, hi = state.x_range
    state.move_example(0, lo + 0.5)
    assert state.x_range == (lo, hi)
    state.move_example(0, hi + 30.0)
    assert state.x_range[1] > hi + 30.0


@settings(max_examples=25, deadline=None)
@given(ops=st.lists(st.tuples(st.sampled_from(["move", "flip", "add", "delete", "l2", "spec",
                                               "step"]),
                              st.integers(0, 100), st.floats(-30.0, 5.0)), max_size=12))
def test_surface_equals_the_brute_force_grid_after_any_edits(ops):
    state = TippingState()
    state.apply_settings({"dataset": "two_terminators"})
    state.surface()  # build it: later edits update it incrementally
    for kind, i, v in ops:
        if kind == "move":
            state.move_example(i % state.n, v)
        elif kind == "flip":
            state.flip_example(i % state.n)
        elif kind == "add":
            state.add_example(v, i % 2)
        elif kind == "delete" and state.n > 1:
            state.delete_example(i % state.n)
        elif kind == "l2":
            state.set_l2((0.0, 0.01, 0.5)[i % 3])
        elif kind == "spec":
            state.set_loss(pos_weight=1.0 + i % 3, focal_gamma=float(i % 2))
        elif kind == "step":
            state.step(i)
        surf = state.surface()
        ref = surface_values(state.x, state.y, surf.w_values, surf.b_values, l2=state.l2,
                             spec=state.spec)
        np.testing.assert_allclose(surf.values, ref, rtol=1e-9, atol=1e-9)
        assert np.all((surf.image >= 0) & (surf.image <= 1))
        w_lo, w_hi = surf.w_values[[0, -1]]
        b_lo, b_hi = surf.b_values[[0, -1]]
        assert w_lo <= state.w <= w_hi and b_lo <= state.b <= b_hi
        if surf.optimum is not None:
            assert w_lo <= surf.optimum[0] <= w_hi and b_lo <= surf.optimum[1] <= b_hi


def test_surface_shows_an_escape_direction_without_an_optimum():
    state = TippingState()
    surf = state.surface()
    assert surf.optimum is None and surf.escape is not None
    assert surf.escape[0] < 0  # works at low ΔG: w runs off to −∞
    state.set_l2(0.01)
    surf = state.surface()
    assert surf.escape is None and surf.optimum == (state.fit().w, state.fit().b)


# ----------------------------------------------------------------------------- data sets, CSV


def test_synthetic_sets_state_their_generating_parameters():
    for key, params in (("grain_boundaries", GRAIN_BOUNDARIES), ("terminators", TERMINATORS)):
        text = DATASETS[key].description
        assert text.startswith("Illustrative synthetic data")
        for number in (params.n, params.seed):
            assert str(number) in text
        for value in (params.x_low, params.x_high, params.tipping_true, params.w_true):
            assert f"{value:.1f}".replace("-", "−").rstrip("0").rstrip(".") in text
    assert DATASETS["grain_boundaries"].axis == (0.0, 62.8)
    assert DATASETS["terminators"].axis[1] < 0  # negative ΔG


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_loads_through_the_validated_reader(tmp_path):
    state = TippingState()
    seen = recorder(state)
    path = write(tmp_path, "angles.csv", "theta_deg,special\n5,1\n9.5,1\n20,0\n12,0\n40,0\n")
    state.load_csv(path)
    assert state.dataset.key == "csv" and state.dataset.feature == "theta_deg"
    np.testing.assert_array_equal(state.x, [5, 9.5, 20, 12, 40])
    np.testing.assert_array_equal(state.y, [1, 1, 0, 0, 0])
    assert {n for n, _ in seen} == {"data", "model", "settings"}
    assert [n for n, _ in seen].count("data") == 1  # one transaction, each event once
    # a header that names the label first
    state.load_csv(write(tmp_path, "b.csv", "label;dG\n1;-14\n0;-4\n1;-9\n"))
    np.testing.assert_array_equal(state.x, [-14, -4, -9])
    json_safe(state.report())


@pytest.mark.parametrize("text, where", [
    ("x,label\n1,0\n2,2\n", "line 3, column 2"),           # a label that is not 0 or 1
    ("x,label\n1,0\n2,abc\n", "line 3, column 2"),         # the reader's own check
    ("x,label\n1,0\n2,1\n3\n", "line 4"),                  # a short row
    ("x,y,label\n1,2,0\n", "expected 2"),                  # three columns
    ("x,label\n1,0\n2,0\n", "both classes"),
    ("x,label\n1,0\n2e9,1\n", "line 3, column 1"),
    ("", "empty"),
])
def test_bad_csv_files_are_named_by_line_and_column_and_change_nothing(tmp_path, text, where):
    state = TippingState()
    state.step(3)
    before = snapshot(state)
    with pytest.raises(DataFileError) as err:
        state.load_csv(write(tmp_path, "bad.csv", text))
    assert where in str(err.value) and "bad.csv" in str(err.value)
    assert snapshot(state) == before


# ----------------------------------------------------------------------------- stages, sessions


def test_apply_settings_resets_what_a_stage_does_not_name():
    state = TippingState()
    state.apply_settings({"dataset": "grain_boundaries", "l2": 0.5, "pos_weight": 3.0,
                          "order": "shuffled", "lr": 0.001, "start": "fit"})
    assert state.l2 == 0.5 and state.spec.pos_weight == 3.0 and state.w != 0.0
    state.step(10)
    state.apply_settings({"dataset": "terminators"})
    assert state.l2 == 0.0 and state.spec == LossSpec() and state.order == "in_order"
    assert state.lr == DATASETS["terminators"].lr and state.steps == 0
    assert (state.w, state.b) == (0.0, 0.0) and state.steps_table() == ()


@pytest.mark.parametrize("settings_, match", [
    ({"datset": "terminators"}, "unknown field"),
    ({"dataset": "mnist"}, "settings.dataset"),
    ({"l2": -0.1}, "settings.l2"),
    ({"lr": "fast"}, "settings.lr"),
    ({"examples": [[1.0, 0], [2.0, 3]]}, r"settings.examples\[1\]\[1\]"),
    ({"examples": []}, "settings.examples"),
    ({"focal_alpha": 2.0}, "settings.focal_alpha"),
    ({"start": "fit", "w": 1.0}, "either"),
    ({"start": "end"}, "settings.start"),
    ({"steps_per_frame": 0}, "settings.steps_per_frame"),
])
def test_bad_stage_settings_are_refused_whole(settings_, match):
    state = TippingState()
    state.apply_settings({"dataset": "grain_boundaries", "l2": 0.2})
    before = snapshot(state)
    with pytest.raises(LabError, match=match):
        state.apply_settings(settings_)
    assert snapshot(state) == before


def test_session_round_trip_gives_the_same_report():
    state = TippingState()
    state.apply_settings({"dataset": "grain_boundaries", "order": "shuffled", "seed": 5,
                          "label_smoothing": 0.05, "l2": 0.01})
    state.step(77)
    state.move_example(3, 44.4)
    payload = json.loads(json.dumps(state.to_dict(), allow_nan=False))
    other = TippingState()
    other.restore(payload)
    assert other.report() == state.report()
    assert other.steps_table() == state.steps_table()
    np.testing.assert_array_equal(other.surface().path, state.surface().path)
    # and training continues identically (the shuffled order comes from the seed and epoch)
    state.step(50)
    other.step(50)
    assert other.report() == state.report()


def test_session_round_trip_of_a_loaded_file(tmp_path):
    state = TippingState()
    state.load_csv(write(tmp_path, "f.csv", "dose,outcome\n1,0\n2,0\n3,1\n4,1\n2.5,1\n"))
    other = TippingState()
    other.restore(json.loads(json.dumps(state.to_dict())))
    assert other.report() == state.report() and other.dataset.feature == "dose"


@pytest.mark.parametrize("mutate, match", [
    (lambda p: p.update(dataset="nope"), "tipping.dataset"),
    (lambda p: p.update(extra=1), "unknown field"),
    (lambda p: p["model"].update(w=float("inf")), "tipping.model.w"),
    (lambda p: p["model"].update(path=[[0.0]]), r"tipping.model.path\[0\]"),
    (lambda p: p["model"].update(table=[[1, 0, 1.0, 0.5, 0.5, 0, 0, 0, 0, 0]]),
     r"tipping.model.table\[0\]"),
    (lambda p: p["loss"].update(pos_weight=-2), "tipping.loss.pos_weight"),
    (lambda p: p.update(examples=[[1.0, 1], ["a", 0]]), r"tipping.examples\[1\]\[0\]"),
])
def test_bad_sessions_are_refused_and_change_nothing(mutate, match):
    source = TippingState()
    source.step(3)
    payload = json.loads(json.dumps(source.to_dict()))
    mutate(payload)
    state = TippingState()
    state.apply_settings({"dataset": "terminators", "l2": 0.3})
    before = snapshot(state)
    with pytest.raises(LabError, match=match):
        state.restore(payload)
    assert snapshot(state) == before


def test_reset_keeps_the_data_and_clears_the_training():
    state = TippingState()
    state.apply_settings({"dataset": "terminators"})
    state.step(30)
    seen = recorder(state)
    x = state.x.copy()
    state.reset()
    assert (state.w, state.b, state.steps) == (0.0, 0.0, 0)
    assert state.steps_table() == () and len(state.surface().path) == 1
    np.testing.assert_array_equal(state.x, x)
    assert seen == [("model", {"reason": "reset"})]


def test_numbers_shown_are_never_nan_or_inf():
    state = TippingState()
    state.set_lr(10.0)
    state.step(10_000)
    for fig in (state.strip(), state.surface()):
        for value in vars(fig).values():
            if isinstance(value, np.ndarray):
                assert np.all(np.isfinite(value))
    json_safe(state.report())
    for text in vars(state.statements()).values():
        assert "nan" not in str(text).lower() and "inf" not in str(text).lower()


# ----------------------------------------------------------------------------- the stages' captions


def stage_state(stage_id):
    from bceviz.model.stages import get_stage

    stage = get_stage(stage_id)
    assert stage.lab == "tipping" and stage.chapter == "Applications: a tipping point"
    assert 100 <= stage.order < 200
    state = TippingState()
    state.apply_settings(dict(stage.settings))
    return stage, state


def test_stage_two_examples_caption_agrees():
    stage, state = stage_state("tipping-two-examples")
    assert "ΔG = −14 kcal/mol" in stage.caption and "−4 kcal/mol" in stage.caption
    assert state.n == 2
    assert {(float(a), float(c)) for a, c in zip(state.x, state.y)} == {(-14.0, 1.0), (-4.0, 0.0)}
    # "x* zig-zags into the gap between the two, to stay there after about 170 steps"
    assert "about 170 steps" in stage.caption
    outside = []
    for k in range(1, 2001):
        state.step(1)
        t = state.report()["tipping_point"]
        if not (t is not None and -14.0 < t < -4.0):
            outside.append(k)
    assert 160 <= outside[-1] <= 180
    assert 1 in outside and 151 in outside  # it did zig-zag in from outside


def test_stage_grain_boundaries_caption_agrees():
    stage, state = stage_state("tipping-grain-boundaries")
    fit = state.fit()
    assert (state.w, state.b) == (fit.w, fit.b)  # the stage opens at the fit
    assert f"x* = {state.format_x(fit.tipping_point)} ± " \
           f"{state.format_length(fit.se_tipping_point, 2)}" in stage.caption
    assert f"within {state.format_length(fit.width)}" in stage.caption
    assert f"{state.n} synthetic" in stage.caption
    assert f"about {GRAIN_BOUNDARIES.tipping_true:g}°" in stage.caption


def test_stage_terminators_caption_agrees():
    stage, state = stage_state("tipping-terminators")
    fit = state.fit()
    assert fit.w < 0 and state.x.max() < 0  # negative ΔG, negative slope
    assert f"w = {fit.w:.2f}".replace("-", "−") + " per kcal/mol" in stage.caption
    assert f"x* = {state.format_x(fit.tipping_point)}" in stage.caption


def test_stage_separation_caption_agrees():
    stage, state = stage_state("tipping-separation")
    sep = state.separation()
    assert sep.separable and sep.gap == (11.5, 17.0)
    assert "at or below 11.5°" in stage.caption and "at or above 17°" in stage.caption
    assert not state.fit().optimum_exists
    sizes = []
    for _ in range(5):
        state.step(state.steps_per_frame * 20)
        sizes.append(abs(state.w))
        assert 11.5 < state.report()["tipping_point"] < 17.0  # x* stays in the gap
    assert all(b > a for a, b in zip(sizes, sizes[1:]))  # while |w| grows
    state.set_l2(0.01)  # "any L2 penalty gives it a minimum again"
    assert state.fit().converged and state.surface().optimum is not None
