"""The optimizer race without Qt: racers share the state's data and loss, start together, report."""

from __future__ import annotations

import numpy as np
import pytest

from bceviz.engine import logistic
from bceviz.model.race import (
    MAX_RACERS,
    Race,
    RaceError,
    RacerSpec,
    parse_race,
    race_of,
    racer_names,
)
from bceviz.model.state import AppState


@pytest.fixture
def state() -> AppState:
    st = AppState()
    st.set_weights([0.3, -0.2], 0.1)
    return st


def test_parse_names_rates_and_refusals() -> None:
    assert parse_race("gd, momentum:0.2 ,ADAM") == (
        RacerSpec("gd", 0.5), RacerSpec("momentum", 0.2), RacerSpec("adam", 0.05))
    assert parse_race([("gd", 1.0), "newton"])[0] == RacerSpec("gd", 1.0)
    for bad, match in (("gd", "2 to 5"), ("gd,adam,sgd,newton,momentum,gd:2", "2 to 5"),
                       ("gd,lbfgs", "unknown optimizer 'lbfgs'"), ("gd,adam:-1", "> 0"),
                       ("gd,adam:x", "not a number"), ("gd,gd", "already racing"),
                       ("gd,adam:nan", "> 0")):
        with pytest.raises(RaceError, match=match):
            parse_race(bad)
    assert racer_names(parse_race("gd:0.1,gd:1,adam")) == ["gd@0.1", "gd@1", "adam"]


def test_racers_start_from_the_states_weights_and_match_their_own_trainer(state) -> None:
    race = race_of(state)
    race.start("gd,momentum,adam")
    assert [r.name for r in race.racers] == ["gd", "momentum", "adam"]
    for r in race.racers:
        assert np.array_equal(r.trainer.w, state.trainer.w) and r.trainer.b == state.trainer.b
    state.step(25)  # Play races them: the same steps
    F = state.features_of(state.X_train)
    for r in race.racers:
        assert r.trainer.steps == 25
        ref = logistic.Trainer(F, state.y_train, state.spec, optimizer=r.spec.optimizer,
                               lr=r.spec.lr, w0=np.array([0.3, -0.2]), b0=0.1)
        ref.step(25)
        np.testing.assert_allclose(r.trainer.w, ref.w, rtol=1e-12)
    figs = race.figures()
    assert len({f.objective for f in figs}) == 3  # they really differ
    assert all(f.path.shape == (26, 2) for f in figs)


def test_a_dragged_point_and_a_loss_setting_apply_to_every_racer(state) -> None:
    race = race_of(state)
    race.start("gd,adam")
    state.step(5)
    state.move_point(0, 2.5, -2.5)
    state.set_spec(label_smoothing=0.2)
    F = state.features_of(state.X_train)
    for r in race.racers:
        assert np.array_equal(r.trainer.X, F)
        assert r.trainer.spec == state.spec
        assert r.trainer.objective() == pytest.approx(
            logistic.Trainer(F, state.y_train, state.spec, w0=r.trainer.w,
                             b0=r.trainer.b).objective())
    state.set_training(l2=0.1)
    assert all(r.trainer.l2 == 0.1 for r in race.racers)
    assert [r.spec.optimizer for r in race.racers] == ["gd", "adam"]


def test_feature_map_change_reaches_the_racers(state) -> None:
    race = race_of(state)
    race.start("gd,newton")
    state.set_features("product")
    assert all(r.trainer.n_features == 3 for r in race.racers)
    state.step(3)
    assert all(r.trainer.steps == 3 for r in race.racers)


def test_moving_the_model_or_resetting_restarts_the_race(state) -> None:
    race = race_of(state)
    race.start("gd,adam")
    state.step(10)
    state.set_weights([1.0, 1.0], 0.0)
    assert all(r.trainer.steps == 0 and np.array_equal(r.trainer.w, [1.0, 1.0])
               for r in race.racers)
    state.reset_weights()
    assert all(np.array_equal(r.trainer.w, [0.0, 0.0]) for r in race.racers)


def test_steps_to_tolerance_and_report(state) -> None:
    race = race_of(state)
    race.start("newton,gd")
    race.set_tolerance(1e-6)
    state.step(30)
    figs = {f.name: f for f in race.figures()}
    assert figs["newton"].steps_to_tolerance is not None
    assert figs["newton"].steps_to_tolerance <= 10
    assert figs["gd"].steps_to_tolerance is None or figs["gd"].steps_to_tolerance > 10
    report = race.report()
    assert set(report) == {"newton", "gd"}
    assert report["newton"]["objective"] == pytest.approx(race.racers[0].trainer.objective())
    assert report["gd"]["w"] == list(race.racers[1].trainer.w)
    with pytest.raises(RaceError, match="tolerance"):
        race.set_tolerance(0)


def test_a_diverging_racer_stops_the_others_race_on(state) -> None:
    race = race_of(state)
    race.start([("gd", 1e4), ("adam", 0.05)])
    state.set_training(l2=1.0)
    state.step(200)
    figs = race.figures()
    assert figs[0].diverged and "Diverged" in figs[0].status
    assert np.isfinite(figs[0].objective)
    assert figs[1].steps == 200 and not figs[1].diverged


def test_a_stage_with_the_race_panel_starts_it_and_others_stop_it() -> None:
    from bceviz.model import scenarios, stages

    st = AppState()
    race = race_of(st)
    scenarios.apply_scenario(st, stages.get_stage("race").settings)
    assert race.active and 2 <= len(race.racers) <= MAX_RACERS
    scenarios.apply_scenario(st, stages.get_stage("xor-product").settings)
    assert not race.active


def test_refused_start_changes_nothing(state) -> None:
    race = Race(state)
    race.start("gd,adam")
    with pytest.raises(RaceError):
        race.start("gd")
    assert [r.name for r in race.racers] == ["gd", "adam"]


def test_memory_stays_bounded_over_many_steps(state) -> None:
    race = race_of(state)
    race.start("gd,momentum,adam,newton,sgd")
    state.step(20_000)
    for r in race.racers:
        assert len(r.trainer.history) <= r.trainer.history.capacity
    assert all(len(f.path) <= 2001 for f in race.figures())
