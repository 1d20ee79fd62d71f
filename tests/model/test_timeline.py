"""The 2-D lab's timeline without Qt: scrubbing is a view, continue-from-here truncates and can be undone."""

from __future__ import annotations

import numpy as np
import pytest

from bceviz.engine import logistic
from bceviz.model import figures
from bceviz.model.state import AppState, StateError
from bceviz.model.timeline import timeline_figures


@pytest.fixture
def state() -> AppState:
    st = AppState()
    st.step(30)
    return st


def _fields(st: AppState) -> tuple:
    return (st.X.copy(), st.y.copy(), st.heldout.copy(), st.spec, st.training, st.features,
            st.trainer.w.copy(), float(st.trainer.b), int(st.trainer.steps),
            len(st.trainer.history))


def _same(a: tuple, b: tuple) -> bool:
    return all(np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
               for x, y in zip(a, b))


def test_scrub_shows_an_old_record_and_changes_nothing_else(state: AppState) -> None:
    before = _fields(state)
    events: list[dict] = []
    state.events.scrub.connect(lambda **info: events.append(info))
    state.scrub_to(5)
    assert events == [{"index": 5, "kind": "scrub"}]
    w, b = state.shown_weights()
    hist = state.trainer.history
    assert np.array_equal(w, hist.w[5]) and b == hist.b[5]
    assert not np.array_equal(w, state.trainer.w)
    # the panels' logits follow the scrubbed weights
    F = state.features_of(state.X)
    assert np.allclose(state.logits_of(state.X), F @ hist.w[5] + hist.b[5])
    assert np.allclose(state.proba_of(state.X), 1 / (1 + np.exp(-(F @ hist.w[5] + hist.b[5]))))
    assert _same(before, _fields(state))
    # the report speaks of the present, not of the view
    assert state.summary()["train_loss"] == pytest.approx(float(hist.loss[-1]))


def test_metrics_follow_the_scrub(state: AppState) -> None:
    now = figures.metrics_figures(state).probs.copy()
    state.scrub_to(0)
    then = figures.metrics_figures(state).probs
    assert np.allclose(then, 0.5)  # step 0: zero weights
    assert not np.allclose(now, then)


def test_newest_record_is_the_present(state: AppState) -> None:
    state.scrub_to(3)
    state.scrub_to(len(state.trainer.history) - 1)
    assert state.scrub_index is None
    assert timeline_figures(state).at_present


def test_refused_positions_change_nothing(state: AppState) -> None:
    state.scrub_to(2)
    for bad in (-1, len(state.trainer.history), 2.5, True, "3"):
        with pytest.raises(StateError, match="timeline position"):
            state.scrub_to(bad)
        assert state.scrub_index == 2


def test_playing_stepping_and_editing_weights_return_to_the_present(state: AppState) -> None:
    state.scrub_to(4)
    state.set_running(True)
    assert state.scrub_index is None
    state.set_running(False)
    state.scrub_to(4)
    state.step(1)
    assert state.scrub_index is None
    state.scrub_to(4)
    state.set_weights(state.trainer.w + 0.1)
    assert state.scrub_index is None


def test_scrubbing_pauses_training(state: AppState) -> None:
    state.set_running(True)
    state.scrub_to(1)
    assert not state.running


def test_point_drag_while_scrubbed_keeps_the_view(state: AppState) -> None:
    state.scrub_to(3)
    state.move_point(0, 0.5, 0.5)
    assert state.scrub_index == 3


def test_continue_from_here_truncates_and_continues(state: AppState) -> None:
    hist = state.trainer.history
    w5, b5, step5 = hist.w[5].copy(), float(hist.b[5]), int(hist.step[5])
    events: list[tuple[str, dict]] = []
    state.events.scrub.connect(lambda **i: events.append(("scrub", i)))
    state.events.weights.connect(lambda **i: events.append(("weights", i)))
    state.scrub_to(5)
    events.clear()
    state.continue_from_scrub()
    assert [name for name, _ in events] == ["scrub", "weights"]
    assert events[0][1]["kind"] == "continue" and events[0][1]["before"]["steps"] == 30
    assert state.scrub_index is None
    assert np.array_equal(state.trainer.w, w5) and state.trainer.b == b5
    assert state.trainer.steps == step5 and len(state.trainer.history) == 6
    state.step(3)
    assert state.trainer.steps == step5 + 3
    assert list(state.trainer.history.step) == list(range(step5 + 4))


def test_continue_is_undone_by_restoring_the_record(state: AppState) -> None:
    before = state.training_record()
    state.scrub_to(2)
    got: list[dict] = []
    state.events.scrub.connect(lambda **i: got.append(i))
    state.continue_from_scrub()
    state.restore_training_record(got[-1]["before"])
    assert np.array_equal(state.trainer.w, before["w"]) and state.trainer.b == before["b"]
    assert state.trainer.steps == 30
    assert np.array_equal(state.trainer.history.w, before["history"]["w"])


def test_continue_without_scrub_is_refused(state: AppState) -> None:
    with pytest.raises(StateError, match="nothing to continue"):
        state.continue_from_scrub()
    assert state.trainer.steps == 30


def test_restore_of_a_record_that_does_not_fit_changes_nothing(state: AppState) -> None:
    record = state.training_record()
    state.set_features("product")
    w = state.trainer.w.copy()
    with pytest.raises(StateError, match="feature map"):
        state.restore_training_record(record)
    assert np.array_equal(state.trainer.w, w)


def test_thinned_history_is_said_on_the_timeline() -> None:
    st = AppState()
    assert timeline_figures(st).thinned_note == ""
    small = logistic.Trainer(st.training_features(), st.y_train, history_capacity=8)
    small.step(40)
    assert small.history.stride > 1

    class Holder:
        trainer = small
        scrub_index = 1

    fig = timeline_figures(Holder())
    assert fig.stride == small.history.stride and fig.thinned_until > 0
    assert f"one step in {fig.stride}" in fig.thinned_note
    assert fig.step == int(small.history.step[1]) and not fig.at_present


def test_continue_keeps_the_thinning_stride() -> None:
    st = AppState()
    st.step(40000)  # beyond the history's capacity: thinned
    hist = st.trainer.history
    stride = hist.stride
    assert stride > 1
    st.scrub_to(len(hist) // 2)
    step = int(hist.step[len(hist) // 2])
    st.continue_from_scrub()
    assert st.trainer.history.stride == stride and st.trainer.steps == step
    st.step(stride + 1)
    assert int(st.trainer.history.step[-1]) == step + stride + 1


def test_figures_label(state: AppState) -> None:
    state.scrub_to(4)
    fig = timeline_figures(state)
    hist = state.trainer.history
    assert fig.index == 4 and fig.step == int(hist.step[4])
    assert fig.loss == pytest.approx(float(hist.loss[4]))
    assert fig.label.startswith(f"step {fig.step}") and "5 of 31" in fig.label
