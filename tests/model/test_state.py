"""AppState: events fire for each change, refused changes change nothing, summary numbers are right."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bceviz.engine.losses import LossSpec
from bceviz.model.state import AppState, StateError


class Recorder:
    """Connects to every event of a state and records (name, info)."""

    def __init__(self, state: AppState) -> None:
        self.calls: list[tuple[str, dict]] = []
        for event in state.events:
            event.connect(lambda name=event.name, **info: self.calls.append((name, info)))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def clear(self) -> None:
        self.calls.clear()


@pytest.fixture
def state():
    return AppState()


@pytest.fixture
def rec(state):
    return Recorder(state)


def _snapshot(st: AppState) -> dict:
    return {
        "X": st.X.copy(), "y": st.y.copy(), "heldout": st.heldout.copy(),
        "spec": st.spec, "training": st.training, "features": st.features,
        "w": st.trainer.w.copy(), "b": st.trainer.b, "steps": st.trainer.steps,
        "threshold": st.threshold, "view": st.view, "probe": (st.probe_z, st.probe_y),
        "samples": (st.samples_p.copy(), st.samples_y.copy()), "dataset": st.dataset,
        "running": st.running,
    }


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        va, vb = a[key], b[key]
        if isinstance(va, tuple) and va and isinstance(va[0], np.ndarray):
            for x, y in zip(va, vb):
                np.testing.assert_array_equal(x, y)
        elif isinstance(va, np.ndarray):
            np.testing.assert_array_equal(va, vb, err_msg=key)
        else:
            assert va == vb, key


# -- events ---------------------------------------------------------------------------------
# Each change emits the events of what changed, and nothing else: the weights event
# only when the weights moved (a step, a reset, a drag of the weights), so panels that
# do not read a loss setting or a point are not redrawn for it.
@pytest.mark.parametrize("change, expected", [
    (lambda s: s.set_spec(label_smoothing=0.1), ["spec"]),
    (lambda s: s.set_training(lr=0.05), ["settings"]),
    (lambda s: s.set_training(l2=0.1), ["settings"]),
    (lambda s: s.set_features("poly2"), ["features"]),
    (lambda s: s.move_point(3, 0.5, 0.5), ["data"]),
    (lambda s: s.add_point(0.0, 0.0, 1.0), ["data"]),
    (lambda s: s.remove_point(0), ["data"]),
    (lambda s: s.flip_label(2), ["data"]),
    (lambda s: s.set_threshold(0.3), ["threshold"]),
    (lambda s: s.set_view(units="bits"), ["view"]),
    (lambda s: s.set_probe(p=0.2), ["probe"]),
    (lambda s: s.set_samples([0.1, 0.9], [0.0, 1.0]), ["samples"]),
    (lambda s: s.set_running(True), ["running"]),
    (lambda s: s.step(3), ["weights"]),
    (lambda s: s.reset_weights(), ["status", "weights"]),
    (lambda s: s.generate(seed=5), ["data"]),
])
def test_each_change_emits_its_events(state, rec, change, expected):
    change(state)
    assert rec.names() == expected


def test_data_events_name_the_kind_and_index(state, rec):
    state.move_point(4, 1.0, 2.0)
    state.add_point(0.0, 0.0, 0.0)
    state.remove_point(1)
    state.set_label(2, 0.3)
    data = [info for name, info in rec.calls if name == "data"]
    assert data == [{"kind": "move", "index": 4}, {"kind": "add", "index": state.n_points},
                    {"kind": "remove", "index": 1}, {"kind": "label", "index": 2}]


def test_no_change_no_event(state, rec):
    state.set_spec(label_smoothing=0.0)
    state.set_threshold(state.threshold)
    state.set_view(units=state.view.units)
    state.set_features(state.features)
    state.set_running(False)
    assert rec.calls == []


def test_blocked_events_replay_the_last(state, rec):
    with state.events.weights.blocked(replay_last=True):
        state.step(1)
        state.step(1)
    assert rec.names() == ["weights"]


# -- refused changes ------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [
    lambda s: s.set_spec(label_smoothing=1.0),
    lambda s: s.set_spec(pos_weight=-1.0),
    lambda s: s.set_spec(focal_alpha=1.5),
    lambda s: s.set_training(lr=0.0),
    lambda s: s.set_training(lr=float("nan")),
    lambda s: s.set_training(optimizer="lbfgs"),
    lambda s: s.set_training(l1=-0.1),
    lambda s: s.set_training(steps_per_frame=0),
    lambda s: s.set_training(no_such_setting=1),
    lambda s: s.set_features("poly9"),
    lambda s: s.move_point(10_000, 0.0, 0.0),
    lambda s: s.move_point(0, float("inf"), 0.0),
    lambda s: s.add_point(0.0, 0.0, 2.0),
    lambda s: s.set_label(0, -0.5),
    lambda s: s.set_data(np.zeros((3, 3)), np.zeros(3)),
    lambda s: s.set_data(np.zeros((2, 2)), np.array([0.0, 7.0])),
    lambda s: s.generate(n=10**9),
    lambda s: s.generate(kind="galaxy"),
    lambda s: s.generate(heldout_fraction=1.0),
    lambda s: s.set_view(units="decibels"),
    lambda s: s.set_threshold("high"),
    lambda s: s.set_probe(p=1.5),
    lambda s: s.set_samples([0.5], [0.5, 0.5]),
    lambda s: s.set_weights([1.0, 2.0, 3.0]),
])
def test_a_refused_change_raises_state_error_and_changes_nothing(state, rec, bad):
    before = _snapshot(state)
    with pytest.raises(StateError) as info:
        bad(state)
    assert str(info.value)  # a message for the user
    _assert_same(before, _snapshot(state))
    assert [n for n in rec.names() if n != "status"] == []


def test_probe_at_exactly_0_or_1_is_clipped_and_says_so(state, rec):
    state.set_probe(p=0.0, y=1.0)
    assert 0.0 < state.probe_p < 1e-12
    assert "status" in rec.names()
    assert math.isfinite(float(state.point_losses().max()))


# -- summary --------------------------------------------------------------------------------
def _independent_bce(z, y, smoothing=0.0, pos_weight=1.0):
    ys = y * (1 - smoothing) + smoothing / 2
    log_p = -np.logaddexp(0.0, -z)
    log_1mp = -np.logaddexp(0.0, z)
    return -(pos_weight * ys * log_p + (1 - ys) * log_1mp)


def test_summary_matches_an_independent_recomputation(state):
    state.set_spec(label_smoothing=0.1, pos_weight=2.0)
    state.set_training(l2=0.05, optimizer="adam", lr=0.05)
    state.step(50)
    s = state.summary()
    w, b = np.array(s["w"]), s["b"]
    train = ~state.heldout
    z = state.X @ w + b  # linear features: the columns are x1, x2
    losses = _independent_bce(z, state.y, 0.1, 2.0)
    assert s["train_loss"] == pytest.approx(losses[train].mean(), rel=1e-10)
    assert s["heldout_loss"] == pytest.approx(losses[~train].mean(), rel=1e-10)
    predicted = 1 / (1 + np.exp(-z)) >= 0.5
    truth = state.y >= 0.5
    assert s["accuracy"] == pytest.approx(np.mean(predicted[train] == truth[train]))
    assert s["heldout_accuracy"] == pytest.approx(np.mean(predicted[~train] == truth[~train]))
    # the penalty is excluded from train_loss, included in the objective
    assert s["objective"] == pytest.approx(s["train_loss"] + 0.05 / 2 * float(w @ w), rel=1e-10)
    assert s["steps"] == 50 and s["n_points"] == len(state.y)
    assert s["n_train"] + s["n_heldout"] == s["n_points"]


def test_summary_follows_the_threshold(state):
    state.step(30)
    state.set_threshold(0.99)
    s = state.summary()
    z = state.logits_of(state.X[~state.heldout])
    y = state.y[~state.heldout]
    assert s["accuracy"] == pytest.approx(np.mean((1 / (1 + np.exp(-z)) >= 0.99) == (y >= 0.5)))


def test_summary_with_nothing_held_out(state):
    state.set_data(state.X, state.y, np.zeros(len(state.y), bool), source="test")
    s = state.summary()
    assert s["heldout_loss"] is None and s["heldout_accuracy"] is None
    assert s["train_loss"] == pytest.approx(math.log(2))


def test_training_changes_are_live_without_reset(state):
    state.step(10)
    w = state.trainer.w.copy()
    state.set_spec(focal_gamma=2.0)
    state.set_training(optimizer="momentum", lr=0.2, l1=0.01)
    state.set_features("product")
    assert state.trainer.steps == 10
    np.testing.assert_array_equal(state.trainer.w[:2], w)
    assert state.spec == LossSpec(focal_gamma=2.0)


def test_divergence_pauses_and_reports(state, rec):
    state.set_training(lr=10.0, l2=1.0)
    state.set_weights([1.0, 1.0], 0.0)
    state.set_running(True)
    for _ in range(50):
        state.step(1)
        if not state.running:
            break
    assert not state.running and state.trainer.diverged
    assert ("status", {"message": state.trainer.status, "level": "error"}) in rec.calls
    assert np.all(np.isfinite(state.trainer.w))
    state.set_running(True)
    assert not state.running  # refused until reset
    state.reset_weights()
    state.set_running(True)
    assert state.running
