"""The graph lab's Qt-free state: gestures, training, the baseline, figures, sessions, stages."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bceviz.engine import graph as g
from bceviz.engine.losses import LossSpec, loss_from_logits
from bceviz.model import stages as _stages
from bceviz.model.labs import get_lab
from bceviz.model.labs.base import LabError
from bceviz.model.labs.graph import (
    MAX_STEPS_PER_CALL,
    GraphState,
)


@pytest.fixture
def state():
    return GraphState()


def recorder(state):
    seen = []
    for name in state.events.names:
        getattr(state.events, name).connect(lambda _n=name, **info: seen.append((_n, info)))
    return seen


def json_safe(obj) -> None:
    json.dumps(obj, allow_nan=False)


def finite_numbers(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from finite_numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from finite_numbers(v)
    elif isinstance(obj, float):
        yield obj


# --------------------------------------------------------------------------- registry & report


def test_the_lab_is_registered_and_its_state_reports_json_safe_figures(state):
    info = get_lab("graph")
    assert info.state_factory is GraphState and info.gui_module == "bceviz.gui.labs.graph"
    report = state.report()
    json_safe(report)
    for key in ("heldout_loss", "auc", "recall", "precision", "train_loss"):
        assert key in report["graph"] and key in report["baseline"]
    assert report["n_firms"] == 30 and report["n_known"] + report["n_hidden"] == 30
    assert report["steps"] == 0
    assert all(math.isfinite(v) for v in finite_numbers(report))


def test_report_numbers_agree_with_the_engine(state):
    state.step(50)
    f = state.figures()
    hidden = ~state.known
    z = state.graph_logits()
    y = state.outcomes
    assert f.graph.heldout_loss == pytest.approx(float(loss_from_logits(z[hidden],
                                                                        y[hidden]).mean()))
    params = state.params
    a_hat = g.normalized_adjacency(state.exposures / g.EXPOSURE_UNIT)
    x = g.firm_features(state.leverage, state.liquidity, state.size)
    np.testing.assert_allclose(z, g.gcn_logits(a_hat, x, params))
    assert f.graph.train_loss == pytest.approx(g.gcn_loss(a_hat, x, y, state.known, params))
    base = g.fit_baseline(x, y, state.known, l2=state.l2)
    np.testing.assert_allclose(f.p_base, 1 / (1 + np.exp(-base.logits(x))), rtol=1e-12)


# --------------------------------------------------------------------------- settings


def test_apply_settings_builds_the_named_network_and_resets_the_rest(state):
    state.set_pos_weight(5.0)
    state.step(10)
    state.apply_settings({"n_firms": 20, "seed": 4, "known_fraction": 0.7, "select": 3,
                          "reveal": [1], "hide": [2]})
    assert state.n == 20 and state.steps == 0 and state.pos_weight == 1.0
    assert state.selected == 2 and state.known[0] and not state.known[1]
    assert state.network_params["seed"] == 4
    state.apply_settings({"train_steps": 25})
    assert state.steps == 25 and state.n == 30


@pytest.mark.parametrize("bad, field", [
    ({"n_firms": 14}, "n_firms"), ({"n_firms": 41}, "n_firms"), ({"seed": -1}, "seed"),
    ({"resilience": 0.01}, "resilience"), ({"initially_distressed": 9}, "initially_distressed"),
    ({"known_fraction": 0.95}, "known_fraction"), ({"pos_weight": 0.0}, "pos_weight"),
    ({"lr": 5.0}, "lr"), ({"l2": -1.0}, "l2"), ({"hidden_units": 1}, "hidden_units"),
    ({"optimizer": "sgd"}, "optimizer"), ({"train_steps": 10**6}, "train_steps"),
    ({"select": 0}, "select"), ({"select": 31}, "select"), ({"reveal": [40]}, "reveal"),
    ({"reveal": [2], "hide": [2]}, "both"), ({"reveal": "1"}, "reveal"),
    ({"colour": "red"}, "colour"), ({"steps_per_frame": 0}, "steps_per_frame"),
])
def test_a_refused_stage_setting_names_the_field_and_changes_nothing(state, bad, field):
    state.step(5)
    before = state.to_dict()
    with pytest.raises(LabError, match=field):
        state.apply_settings(bad)
    assert state.to_dict() == before


def test_setting_changes_validate_and_emit_the_settings_event(state):
    seen = recorder(state)
    state.set_pos_weight(3.0)
    assert state.spec == LossSpec(pos_weight=3.0)
    assert ("settings", {}) in seen
    for call, bad in ((state.set_pos_weight, 100.0), (state.set_lr, 0.0), (state.set_l2, 2.0),
                      (state.set_optimizer, "lbfgs"), (state.set_hidden_units, 40),
                      (state.set_steps_per_frame, 0)):
        before = state.to_dict()
        with pytest.raises(LabError):
            call(bad)
        assert state.to_dict() == before
    state.step(10)
    state.set_hidden_units(4)
    assert state.hidden_units == 4 and state.steps == 0 and state.params["W1"].shape == (3, 4)
    assert state.balanced_pos_weight() == pytest.approx(
        round((state.known.sum() - state.outcomes[state.known].sum())
              / state.outcomes[state.known].sum(), 2))


# --------------------------------------------------------------------------- gestures


def test_dragging_a_firm_moves_predictions_live_and_names_who_moved_and_how_far(state):
    state.step(200)
    before = state.figures().p_graph.copy()
    seen = recorder(state)
    i = int(np.argmax(state.leverage))
    state.set_firm_features(i, leverage=0.3, new_gesture=True)
    state.set_firm_features(i, liquidity=2.0)
    assert [e for e in seen if e[0] == "data"] == [("data", {"kind": "features", "firm": i})] * 2
    f = state.figures()
    assert state.leverage[i] == 0.3 and state.liquidity[i] == 2.0
    assert not np.allclose(f.p_graph, before)
    hops = g.hop_distances(state.exposures, [i])
    # Two layers hear two hops: nobody further away moved.
    moved = np.abs(f.p_graph - before) > 1e-12
    assert not np.any(moved & ((hops > 2) | (hops < 0)))
    assert f.movers and f.touch_origin == (i,)
    for m in f.movers:
        assert m.hops == hops[m.index]
        assert m.delta == pytest.approx(f.p_graph[m.index] - before[m.index], abs=1e-12)
    assert f.movers_text.startswith(f"Since the edit at firm {i + 1}, P(default) moved most")
    # The gesture's reference is the state before its first move, also during training.
    state.step(3)
    f2 = state.figures()
    assert f2.touch_origin == (i,)


@pytest.mark.parametrize("kwargs", [{"leverage": 0.99}, {"leverage": 0.0}, {"liquidity": 5.0},
                                    {"liquidity": float("nan")}, {"leverage": "0.5"}])
def test_bad_feature_values_are_refused_and_change_nothing(state, kwargs):
    before = state.to_dict()
    with pytest.raises(LabError):
        state.set_firm_features(0, **kwargs)
    assert state.to_dict() == before
    with pytest.raises(LabError, match="firm"):
        state.set_firm_features(30, leverage=0.5)
    with pytest.raises(LabError, match="firm"):
        state.set_firm_features(True, leverage=0.5)


def test_exposures_are_added_removed_and_picked_in_two_steps(state):
    i, j = 0, next(k for k in range(1, 30) if state.exposures[0, k] == 0)
    assert state.toggle_exposure(i, j) is True
    assert state.exposures[i, j] == state.exposures[j, i] == state.default_exposure()
    assert "added" in state.status_message
    f = state.figures()
    assert f.touch_origin == (i, j)
    assert {tuple(e) for e in f.edges.tolist()} >= {(i, j)}
    assert state.toggle_exposure(j, i) is False and state.exposures[i, j] == 0
    assert state.pick_for_exposure(i) is None and state.link_from == i
    assert state.pick_for_exposure(j) is True and state.link_from is None
    assert state.pick_for_exposure(3) is None
    assert state.pick_for_exposure(3) is None and state.link_from is None  # cancelled
    before = state.to_dict()
    for call in (lambda: state.set_exposure(2, 2, 5.0), lambda: state.set_exposure(0, 1, -1.0),
                 lambda: state.set_exposure(0, 1, 1e4), lambda: state.toggle_exposure(0, 99)):
        with pytest.raises(LabError):
            call()
    assert state.to_dict() == before


def test_a_removed_exposure_counts_hops_across_the_link_it_was(state):
    state.step(100)
    i = 0
    j = int(state.neighbours(0)[0])
    state.set_exposure(i, j, 0.0)
    f = state.figures()
    assert f.touch_origin == tuple(sorted((i, j)))
    assert all(m.hops is not None for m in f.movers)


def test_revealing_and_hiding_outcomes_retrains_the_baseline_at_once(state):
    seen = recorder(state)
    hidden = int(np.flatnonzero(~state.known)[0])
    base_before = state.figures().p_base.copy()
    n_hidden = state.figures().n_hidden
    state.set_known(hidden, True)
    assert state.known[hidden] and ("data", {"kind": "known", "firm": hidden}) in seen
    assert "Revealed" in state.status_message
    f = state.figures()
    assert f.n_hidden == n_hidden - 1
    assert not np.allclose(f.p_base, base_before)
    assert state.toggle_known(hidden) is False
    with pytest.raises(LabError, match="known"):
        state.set_known(0, "yes")


def test_hiding_every_outcome_leaves_nothing_to_train(state):
    for i in np.flatnonzero(state.known):
        state.set_known(int(i), False)
    assert not state.can_train()
    assert state.step(10) == 0
    f = state.figures()
    assert f.firm_losses == () and f.graph.train_loss is None
    assert "No known firm" in f.dominance_text
    json_safe(state.report())
    state.set_running(True)
    assert not state.running


def test_selection_layout_and_moves_are_view_events(state):
    seen = recorder(state)
    state.select_firm(4)
    state.move_firm(4, 5.0, -0.2)
    assert state.positions[4].tolist() == [1.3, -0.2]
    state.relayout()
    np.testing.assert_array_equal(state.positions, g.network_layout(state.exposures))
    assert {name for name, _ in seen} == {"view"}
    assert "Firm 5" in state.figures().selected_text
    state.select_firm(None)
    assert state.figures().selected_text.startswith("Click a firm")


# --------------------------------------------------------------------------- training


def test_step_trains_emits_one_model_event_and_reset_starts_over(state):
    seen = recorder(state)
    start = state.figures().graph.train_loss
    assert state.step(100) == 100
    assert [e for e in seen if e[0] == "model"] == [("model", {"reason": "step"})]
    assert state.steps == 100 and state.figures().graph.train_loss < start
    assert len(state.history) >= 2 and state.history.step[-1] == 100
    state.reset()
    assert state.steps == 0 and ("model", {"reason": "reset"}) in seen
    assert state.figures().graph.train_loss == pytest.approx(start)
    with pytest.raises(LabError, match="n"):
        state.step(-1)


def test_a_huge_step_count_is_capped_and_said(state, monkeypatch):
    monkeypatch.setattr("bceviz.model.labs.graph.MAX_STEPS_PER_CALL", 30)
    assert state.step(10**9) == 30
    assert "at most" in state.status_message
    assert MAX_STEPS_PER_CALL >= 10_000


def test_per_firm_losses_and_dominance_come_from_the_known_firms(state):
    state.step(100)
    f = state.figures()
    known = np.flatnonzero(state.known)
    assert {r.index for r in f.firm_losses} == set(known.tolist())
    losses = [r.loss for r in f.firm_losses]
    assert losses == sorted(losses, reverse=True)
    assert sum(r.share for r in f.firm_losses) == pytest.approx(1.0)
    for r in f.firm_losses:
        assert r.grad == pytest.approx(r.p - r.y)  # pos_weight 1: dL/dz = p − y
    assert f.dominant_share >= 0.5
    assert f.dominant == tuple(r.index for r in f.firm_losses[: len(f.dominant)])
    state.set_pos_weight(4.0)
    f = state.figures()
    for r in f.firm_losses:
        assert r.grad == pytest.approx((1 - r.y) * r.p - 4.0 * r.y * (1 - r.p))
    assert state.figures() is f  # one object per state version


def test_the_comparison_table_reads_the_scores(state):
    state.step(200)
    f = state.figures()
    labels = [r.label for r in f.comparison]
    assert labels[:3] == ["Held-out loss", "AUC", "Recall (P ≥ 0.5)"]
    auc = f.comparison[1]
    assert float(auc.graph) == pytest.approx(f.graph.auc, abs=5e-4)
    assert float(auc.baseline.replace("−", "-")) == pytest.approx(f.baseline.auc, abs=5e-4)
    assert f"{f.n_hidden} hidden firms" in f.comparison_note


# --------------------------------------------------------------------------- sessions


def test_a_session_round_trip_gives_the_same_report_and_the_same_next_steps(state):
    state.apply_settings({"n_firms": 25, "seed": 7, "pos_weight": 2.5})
    state.step(40)
    state.set_firm_features(3, leverage=0.8, new_gesture=True)
    state.toggle_exposure(0, 24)
    state.set_known(int(np.flatnonzero(~state.known)[0]), True)
    state.move_firm(2, 0.5, 0.5)
    state.select_firm(3)
    payload = json.loads(json.dumps(state.to_dict(), allow_nan=False))
    other = GraphState()
    other.restore(payload)
    assert other.report() == state.report()  # the movers too: the gesture's reference is kept
    assert other.figures().movers
    np.testing.assert_array_equal(state.positions, other.positions)
    state.step(7)
    other.step(7)
    np.testing.assert_array_equal(state.params["W1"], other.params["W1"])


@pytest.mark.parametrize("mutate, field", [
    (lambda p: p.update(known=p["known"][:-1]), "graph.known"),
    (lambda p: p["leverage"].__setitem__(0, 2.0), "graph.leverage"),
    (lambda p: p["exposures"].append([1, 1, 3.0]), "graph.exposures"),
    (lambda p: p["exposures"].append([0, 1, 1e6]), "graph.exposures"),
    (lambda p: p.update(default_round=[9] * len(p["default_round"])), "graph.default_round"),
    (lambda p: p["trainer"]["params"].update(W1=[[1.0]]), "graph.trainer"),
    (lambda p: p.update(hidden_units=3), "graph.trainer"),
    (lambda p: p.update(extra=1), "extra"),
    (lambda p: p["network"].update(n_firms=50), "graph.network.n_firms"),
    (lambda p: p.update(positions=[[0, 0]] * 3), "graph.positions"),
    (lambda p: p.update(touch={"kind": "features", "origin": [99], "leverage": [],
                               "liquidity": [], "exposures": []}), "graph.touch.origin"),
])
def test_a_bad_session_names_the_field_and_leaves_the_state(state, mutate, field):
    state.step(5)
    payload = json.loads(json.dumps(state.to_dict()))
    mutate(payload)
    before = state.to_dict()
    with pytest.raises(LabError, match=field.replace(".", r"\.")):
        state.restore(payload)
    assert state.to_dict() == before


# --------------------------------------------------------------------------- robustness


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["drag", "link", "known", "step", "pw", "select"]),
                          st.integers(0, 29), st.integers(0, 29),
                          st.floats(0.0, 1.0)), max_size=12))
def test_any_sequence_of_gestures_keeps_every_number_finite(actions):
    state = GraphState()
    for kind, i, j, u in actions:
        try:
            if kind == "drag":
                state.set_firm_features(i, leverage=0.05 + 0.9 * u, liquidity=0.1 + 2.9 * u)
            elif kind == "link":
                state.toggle_exposure(i, j)
            elif kind == "known":
                state.toggle_known(i)
            elif kind == "step":
                state.step(int(1 + 30 * u))
            elif kind == "pw":
                state.set_pos_weight(0.1 + 49.9 * u)
            else:
                state.select_firm(i)
        except LabError:
            pass
        f = state.figures()
        assert np.all(np.isfinite(f.p_graph)) and np.all(np.isfinite(f.p_base))
        report = state.report()
        json_safe(report)


# --------------------------------------------------------------------------- stages


def _stage_state(stage_id: str) -> GraphState:
    stage = _stages.get_stage(stage_id)
    assert stage.lab == "graph" and 700 <= stage.order < 800
    assert stage.chapter == "Applications: a lending network"
    state = GraphState()
    state.apply_settings(dict(stage.settings))
    return state


def test_every_graph_stage_applies_and_names_only_real_panels():
    ids = [s.stage_id for s in _stages.stages_of_lab("graph")]
    assert {"graph-yes-no", "graph-contagion", "graph-vs-alone",
            "graph-rare-defaults"} <= set(ids)
    panels = {"network", "features", "compare", "firm_loss", "training"}
    for stage in _stages.stages_of_lab("graph"):
        state = GraphState()
        state.apply_settings(dict(stage.settings))
        assert set(stage.panel_ids) <= panels
        assert 2 <= len(stage.panel_ids) <= 4 or stage.is_workbench
        json_safe(state.report())


def test_stage_yes_no_caption_agrees():
    stage = _stages.get_stage("graph-yes-no")
    state = _stage_state("graph-yes-no")
    assert state.steps == 0
    before = {r.index: r.loss for r in state.figures().firm_losses}
    state.step(300)
    f = state.figures()
    after = {r.index: r.loss for r in f.firm_losses}
    grew = [i for i in after if after[i] >= before[i]]
    assert "all but one shrink" in stage.first and grew == [12]
    assert "Firm 13, caught in the second round" in stage.first
    assert state.default_round[12] == 2 and f.dominant[0] == 12


def test_stage_contagion_caption_agrees():
    stage = _stages.get_stage("graph-contagion")
    state = _stage_state("graph-contagion")
    i = 15
    assert state.selected == i and state.default_round[i] == 0 and state.known[i]
    assert f"leverage {round(100 * state.leverage[i])} %" in stage.caption
    assert f"liquidity {state.liquidity[i]:.2f}" in stage.caption
    before = state.figures().p_graph.copy()
    state.set_firm_features(i, leverage=0.40, new_gesture=True)
    f = state.figures()
    partners = set(state.neighbours(i).tolist())
    # The partners' predictions fall; the firms three or more links away do not move.
    assert all(f.p_graph[k] < before[k] for k in partners)
    hops = g.hop_distances(state.exposures, [i])
    far = (hops > 2) | (hops < 0)
    assert far.any() and np.all(np.abs(f.p_graph - before)[far] < 1e-12)
    assert any(m.hops == 1 for m in f.movers)


def test_stage_vs_alone_caption_agrees():
    stage = _stages.get_stage("graph-vs-alone")
    state = _stage_state("graph-vs-alone")
    f = state.figures()
    assert f"the {f.n_hidden} hidden firms ({f.n_hidden_defaults} of them" in stage.caption
    assert f"baseline's {f.baseline.auc:.2f}" in stage.first
    state.step(300)
    f = state.figures()
    assert f.graph.auc > f.baseline.auc
    assert f.graph.heldout_loss < f.baseline.heldout_loss


def test_stage_rare_defaults_caption_agrees():
    stage = _stages.get_stage("graph-rare-defaults")
    state = _stage_state("graph-rare-defaults")
    r = state.report()
    assert f"Only {r['n_defaults']} of the {r['n_firms']} firms" in stage.caption
    assert r["graph"]["recall"] == 0.0 and r["baseline"]["recall"] == 0.0
    assert f"AUC {r['graph']['auc']:.2f}" in stage.caption
    pw = state.balanced_pos_weight()
    assert f"pos_weight {pw:g}" in stage.first and f"at {pw:g}," in stage.caption
    state.set_pos_weight(pw)
    state.step(300)
    after = state.report()
    assert after["graph"]["recall"] == 1.0
    assert after["graph"]["heldout_loss"] > r["graph"]["heldout_loss"]


def test_generate_changes_the_network_keeps_the_loss_and_refuses_bad_values(state):
    state.set_pos_weight(3.0)
    state.generate(n_firms=18, seed=9)
    assert state.n == 18 and state.network_params["seed"] == 9 and state.pos_weight == 3.0
    assert "18 firms" in state.status_message
    before = state.to_dict()
    with pytest.raises(LabError, match="resilience"):
        state.generate(resilience=3.0)
    assert state.to_dict() == before
    state.new_network()
    assert state.network_params["seed"] == 10 and state.n == 18
