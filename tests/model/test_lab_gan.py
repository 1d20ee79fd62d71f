"""The gan lab's Qt-free state: settings, all-or-nothing changes, sessions, training, figures, stages.

The stage tests at the end check the numbers each stage's caption states, by
running the stage's settings for as long as the caption says.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bceviz.engine import gan as engine
from bceviz.model import stages
from bceviz.model.labs import gan as lab
from bceviz.model.labs.base import LabError
from bceviz.model.labs.gan import GanState

LN2 = math.log(2.0)
REPORT_KEYS = {"mu", "sigma", "bend", "d_loss", "g_loss", "d_accuracy_real", "d_accuracy_fake",
               "d_accuracy", "js_distance", "d_loss_optimal", "g_grad_saturating",
               "g_grad_non_saturating", "steps", "rounds", "d_updates", "g_updates", "loss"}


def _events(state):
    seen = []
    for name in ("data", "model", "settings"):
        getattr(state.events, name).connect(lambda _n=name, **info: seen.append((_n, info)))
    return seen


def _json(obj):
    return json.loads(json.dumps(obj, allow_nan=False))


def test_fresh_state_reports_an_undecided_discriminator():
    state = GanState()
    report = _json(state.report())
    assert REPORT_KEYS <= set(report)
    assert report["mu"] == -3.0 and report["sigma"] == 1.0
    assert report["d_loss"] == pytest.approx(2 * LN2)  # D = 1/2: 2 ln 2 for any temperature
    assert report["d_accuracy_real"] == report["d_accuracy_fake"] == 0.5
    assert report["steps"] == 0 and state.can_train()
    assert state.history().step.tolist() == [0.0]


@pytest.mark.parametrize("settings, field", [
    ({"nope": 1}, "nope"),
    ({"mu": 9.0}, "settings.mu"),
    ({"sigma": 0.0}, "settings.sigma"),
    ({"loss": "minimax"}, "settings.loss"),
    ({"real_label": 0.3}, "settings.real_label"),
    ({"temperature": 0.0}, "settings.temperature"),
    ({"batch_size": 8}, "settings.batch_size"),
    ({"d_steps": 0}, "settings.d_steps"),
    ({"lr_d": -1.0}, "settings.lr_d"),
    ({"seed": 1.5}, "settings.seed"),
    ({"features": "polynomial", "feature_size": 12}, "settings.feature_size"),
    ({"real_means": [0.0, 1.0], "real_widths": [0.5]}, "settings.real_widths"),
    ({"real_means": [0.0, 1.0, 2.0, 3.0]}, "settings.real_means"),
    ({"real_means": [7.0]}, "settings.real_means"),
    ({"bend": 1.0}, "settings.bend"),
    ({"play": "both"}, "settings.play"),
    ({"d_warmup": 5000}, "settings.d_warmup"),
    ({"mu": True}, "settings.mu"),
])
def test_bad_settings_name_the_field_and_change_nothing(settings, field):
    state = GanState()
    state.apply_settings({"mu": -1.0, "temperature": 2.0})
    state.step(3)
    before, payload = json.dumps(state.report()), json.dumps(state.to_dict())
    with pytest.raises(LabError, match=field.replace(".", r"\.")):
        state.apply_settings(settings)
    with pytest.raises(LabError):
        state.configure(**{k.removeprefix("settings."): v for k, v in settings.items()})
    assert json.dumps(state.report()) == before
    assert json.dumps(state.to_dict()) == payload


def test_apply_settings_resets_everything_it_does_not_name():
    state = GanState()
    state.apply_settings({"temperature": 3.0, "real_label": 0.9, "mu": 1.0})
    state.step(5)
    state.apply_settings({"loss": "saturating"})
    assert state.setup.temperature == 1.0 and state.setup.real_label == 1.0
    assert state.params.mu == -3.0 and state.steps == 0 and state.setup.loss == "saturating"


def test_session_round_trip_gives_the_same_report_and_the_same_future():
    state = GanState()
    state.apply_settings({"real_means": [-2.0, 2.0], "generator": "bend", "features": "polynomial",
                          "feature_size": 4, "real_label": 0.9, "d_steps": 2})
    state.step(7)
    state.step_discriminator(2)
    payload = _json(state.to_dict())
    other = GanState()
    other.restore(payload)
    assert _json(other.report()) == _json(state.report())
    np.testing.assert_array_equal(other.history().d_loss, state.history().d_loss)
    state.step(4)
    other.step(4)
    assert _json(other.report()) == _json(state.report())


@pytest.mark.parametrize("mutate, field", [
    (lambda p: p["model"].update(d_weights=[0.0]), "d_weights"),
    (lambda p: p["model"].update(sigma=-1.0), "sigma"),
    (lambda p: p["rng"].update(state=-5), "rng.state"),
    (lambda p: p["batch"].update(eps=[0.0]), "same length"),
    (lambda p: p["history"].append([1.0, 2.0]), "history"),
    (lambda p: p.update(extra=1), "extra"),
    (lambda p: p["settings"].update(loss="x"), "settings.loss"),
    (lambda p: p["model"].update(bend=2.0), "bend"),
])
def test_a_bad_session_names_the_field_and_changes_nothing(mutate, field):
    state = GanState()
    state.step(2)
    payload = _json(state.to_dict())
    mutate(payload)
    target = GanState()
    target.apply_settings({"mu": 2.0})
    before = json.dumps(target.to_dict())
    with pytest.raises(LabError, match=field):
        target.restore(payload)
    assert json.dumps(target.to_dict()) == before


def test_steps_of_each_kind_change_only_their_player():
    state = GanState()
    state.step_round(2)
    p0 = state.params
    state.step_discriminator(3)
    p1 = state.params
    assert (p1.mu, p1.sigma) == (p0.mu, p0.sigma) and not np.array_equal(p1.d_weights, p0.d_weights)
    state.step_generator(2)
    p2 = state.params
    assert np.array_equal(p2.d_weights, p1.d_weights) and p2.mu != p1.mu
    assert state.counts == {"d_updates": 5, "g_updates": 4, "rounds": 2}
    assert state.steps == 7 and state.history().step[-1] == 7
    assert len(state.objective().path_mu) == 1 + 2 + 2  # start + G steps


def test_play_mode_decides_what_step_does_and_reset_goes_back_to_the_start():
    state = GanState()
    state.apply_settings({"play": "discriminator", "d_warmup": 10, "seed": 4})
    start = _json(state.report())
    state.step(5)
    assert state.params.mu == -3.0 and state.counts["d_updates"] == 5
    state.reset()
    assert _json(state.report()) == start
    fresh = GanState()
    fresh.apply_settings({"play": "discriminator", "d_warmup": 10, "seed": 4})
    assert _json(fresh.report()) == start  # seeded: the same start every time


def test_a_training_step_emits_one_model_event_with_reason_step():
    state = GanState()
    seen = _events(state)
    assert state.step(25) == 25
    assert seen == [("model", {"reason": "step"})]
    assert state.step(0) == 0


def test_events_are_specific():
    state = GanState()
    seen = _events(state)
    state.configure(loss="saturating")
    assert [n for n, _ in seen] == ["settings"]
    seen.clear()
    state.set_component(0, mean=1.0)
    assert sorted(n for n, _ in seen) == ["data", "settings"]
    seen.clear()
    state.configure(features="polynomial", feature_size=3)
    assert ("model", {"reason": "features"}) in seen
    assert state.params.d_weights.shape == (3,) and not state.params.d_weights.any()
    seen.clear()
    state.configure(seed=5)
    assert ("model", {"reason": "reset"}) in seen and state.steps == 0


def test_large_step_counts_are_capped_and_history_stays_bounded(monkeypatch):
    monkeypatch.setattr(lab, "MAX_STEPS_PER_CALL", 300)
    state = GanState()
    assert state.step(10**15) == 300
    assert state.steps == 300 and state.history().step[-1] == 300
    series = lab._Series(2, capacity=8)
    for i in range(100):
        series.append((i, -i))
    rows = series.rows()
    assert 4 <= rows.shape[0] <= 8 and rows[-1, 0] == 99 and np.all(np.diff(rows[:, 0]) > 0)


def test_mixture_edits_keep_shares_and_components_in_range():
    state = GanState()
    state.set_components(3)
    assert len(state.setup.real_means) == 3 and sum(state.setup.real_shares) == pytest.approx(1.0)
    state.set_component(1, share=0.6)
    shares = state.setup.real_shares
    assert shares[1] == pytest.approx(0.6) and sum(shares) == pytest.approx(1.0)
    state.set_component(2, width=2.0, mean=-5.5)
    assert state.setup.real_widths[2] == 2.0 and state.setup.real_means[2] == -5.5
    with pytest.raises(LabError, match="width"):
        state.set_component(0, width=10.0)
    with pytest.raises(LabError, match="component"):
        state.set_component(3, mean=0.0)
    state.set_components(1)
    assert state.setup.real_shares == (1.0,)


def test_set_generator_moves_it_by_hand_and_records_the_path():
    state = GanState()
    state.set_generator(mu=1.5, sigma=0.7)
    assert (state.params.mu, state.params.sigma) == (1.5, 0.7)
    view = state.objective()
    assert (view.path_mu[-1], view.path_sigma[-1]) == (1.5, 0.7)
    with pytest.raises(LabError, match="sigma"):
        state.set_generator(sigma=0.0)


def test_derived_views_are_cached_per_version_and_finite():
    state = GanState()
    state.apply_settings({"d_warmup": 30, "loss": "saturating", "temperature": 0.5})
    views = (state.densities(), state.generator_curves(), state.objective(), state.history())
    assert state.densities() is views[0] and state.objective() is views[2]
    for view in views:
        for name, value in vars(view).items():
            if isinstance(value, np.ndarray):
                assert np.all(np.isfinite(value)), name
            elif isinstance(value, float):
                assert math.isfinite(value), name
    state.step(1)
    assert state.densities() is not views[0]


def test_densities_view_agrees_with_the_engine():
    state = GanState()
    state.apply_settings({"real_means": [-1.0, 2.0], "real_widths": [0.4, 0.8],
                          "real_shares": [0.25, 0.75], "d_warmup": 20, "real_label": 0.9})
    view = state.densities()
    mix = state.setup.mixture
    np.testing.assert_allclose(view.p_real, mix.pdf(view.x))
    np.testing.assert_allclose(view.optimal, engine.optimal_discriminator(
        view.p_real, view.p_gen, real_label=0.9))
    assert view.optimal.max() <= 0.9 + 1e-12
    peaks = view.centre_handles[:, 1]
    np.testing.assert_allclose(peaks, [0.25 / (0.4 * math.sqrt(2 * math.pi)),
                                       0.75 / (0.8 * math.sqrt(2 * math.pi))])
    bin_w = view.hist_edges[1] - view.hist_edges[0]
    assert view.hist_real.sum() * bin_w == pytest.approx(1.0, abs=0.02)  # a density


def test_generator_curves_show_the_saturating_push_vanishing_where_d_wins():
    state = GanState()
    state.apply_settings({"real_means": [2.5], "mu": -4.0, "sigma": 0.5, "d_warmup": 100,
                          "d_steps": 5, "loss": "saturating"})
    curves = state.generator_curves()
    assert curves.mean_d < 0.01
    assert curves.mean_grad_saturating < 0.01 * curves.mean_grad_non_saturating
    assert curves.norm_grad_saturating < 0.05 * curves.norm_grad_non_saturating
    np.testing.assert_allclose(curves.saturating + curves.non_saturating, -curves.u, atol=1e-12)
    np.testing.assert_allclose(curves.grad_saturating + curves.grad_non_saturating, 1.0)
    assert curves.fake_u.size == lab.FAKE_MARKS and np.all(np.diff(curves.fake_u) >= 0)
    assert curves.n_left + curves.n_right <= state.setup.batch_size


def test_objective_map_is_lower_where_the_discriminator_says_real():
    state = GanState()
    state.apply_settings({"mu": -1.0, "d_warmup": 200})
    view = state.objective()
    j_data = int(np.argmin(np.abs(view.mu_grid - 2.0)))
    j_fake = int(np.argmin(np.abs(view.mu_grid + 1.0)))
    i = int(np.argmin(np.abs(view.sigma_grid - 0.5)))
    assert view.values[i, j_data] < view.values[i, j_fake]
    assert view.descent[0] > 0  # downhill points toward the real data


# --------------------------------------------------------------------------- the stages' captions
def _stage_state(stage_id: str, **override):
    stage = stages.get_stage(stage_id)
    assert stage.lab == "gan"
    state = GanState()
    state.apply_settings({**stage.settings, **override})
    return state, stage


def test_every_gan_stage_applies_and_sits_in_its_order_range():
    gan_stages = stages.stages_of_lab("gan")
    assert {s.stage_id for s in gan_stages} >= {"gan-discriminator", "gan-flipping", "gan-vanishing",
                                                 "gan-smoothing", "gan-two-modes"}
    for stage in gan_stages:
        assert 600 <= stage.order <= 699 and stage.chapter == "Applications: a GAN's judge"
        _stage_state(stage.stage_id)


def test_stage_discriminator_loss_falls_from_two_ln_two_to_its_optimum():
    state, stage = _stage_state("gan-discriminator")
    assert "2 ln 2 = 1.386" in stage.caption and "0.25 nats" in stage.caption
    assert state.report()["d_loss"] == pytest.approx(1.386, abs=5e-4)
    assert state.report()["d_loss_optimal"] == pytest.approx(0.25, abs=0.005)
    state.step(300)
    report = state.report()
    assert report["mu"] == -1.0  # only D trains
    assert report["d_loss"] == pytest.approx(report["d_loss_optimal"], abs=0.1)
    view = state.densities()
    mass = (view.p_real + view.p_gen) > 0.05
    assert np.max(np.abs(view.discriminator - view.optimal)[mass]) < 0.2


def test_stage_flipping_generator_steps_raise_d_of_the_fakes():
    state, _stage = _stage_state("gan-flipping")
    before = state.generator_curves().mean_d
    g_before = state.report()["g_loss"]
    state.step(30)
    assert state.counts["d_updates"] == 0 and state.counts["g_updates"] == 30
    assert state.generator_curves().mean_d > before + 0.1
    assert state.report()["g_loss"] < g_before


def test_stage_vanishing_saturating_stalls_and_non_saturating_arrives():
    state, stage = _stage_state("gan-vanishing")
    assert "μ stays at −4" in stage.caption
    state.step(1000)
    report = state.report()
    assert abs(report["mu"] + 4.0) < 0.1 and report["js_distance"] > 0.99
    assert report["g_grad_saturating"] < 0.01 * report["g_grad_non_saturating"]
    state.configure(loss="non_saturating")
    state.reset()
    state.step(600)
    report = state.report()
    assert abs(report["mu"] - 2.5) < 0.2 and report["js_distance"] < 0.1


def test_stage_smoothing_and_temperature_revive_the_saturating_generator():
    state, stage = _stage_state("gan-smoothing")
    assert "about 2,000 rounds" in stage.caption and "T = 3" in stage.caption
    state.step(2000)
    report = state.report()
    assert abs(report["mu"] - 2.5) < 0.2 and report["js_distance"] < 0.1
    assert state.densities().optimal.max() <= 0.9 + 1e-12
    alone, _ = _stage_state("gan-smoothing", temperature=1.0)
    alone.step(1000)
    assert alone.report()["mu"] < -3.5  # smoothing alone does not save it


def test_stage_two_modes_one_bump_straddles_and_a_bend_splits():
    state, stage = _stage_state("gan-two-modes")
    assert "σ ≈ 2.6" in stage.caption and "about 0.6" in stage.caption
    state.step(1500)
    report = state.report()
    assert abs(report["sigma"] - 2.6) < 0.3 and report["js_distance"] == pytest.approx(0.6, abs=0.05)
    bent, _ = _stage_state("gan-two-modes", generator="bend")
    bent.step(1500)
    split = bent.report()
    assert split["bend"] > 2.0 and 0.4 <= split["js_distance"] <= 0.6
    assert split["js_distance"] < report["js_distance"]
