"""The multi-label lab's state (no Qt): settings, all or nothing, sessions, figures, files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import precision_score, recall_score

from bceviz.engine import metrics
from bceviz.engine.losses import LossSpec
from bceviz.engine.multilabel import fit_multilabel, shared_hessian
from bceviz.model.labs import BUILTIN, LabError
from bceviz.model.labs.multilabel import (
    CURVE_THRESHOLDS,
    DEFAULTS,
    LAB,
    MAX_POINTS,
    MultilabelState,
)


@pytest.fixture
def state():
    return MultilabelState()


def record(state):
    seen = []
    for name in state.events.names:
        getattr(state.events, name).connect(lambda _n=name, **info: seen.append((_n, info)))
    return seen


def test_registered_and_reports_json(state):
    assert "bceviz.model.labs.multilabel" in BUILTIN
    assert LAB.lab_id == MultilabelState.lab_id == "multilabel"
    assert LAB.state_factory is MultilabelState and LAB.gui_module == "bceviz.gui.labs.multilabel"
    report = state.report()
    json.dumps(report, allow_nan=False)
    assert report["n_labels"] == 3 and len(report["labels"]) == 3
    for key in ("n_train", "n_heldout", "steps", "objective", "hessian", "shared_layer"):
        assert key in report
    for label in report["labels"]:
        for key in ("name", "weights", "bias", "threshold", "heldout_at_threshold",
                    "train_at_threshold", "heldout_at_0.5", "train_at_0.5", "pos_weight"):
            assert key in label
        assert set(label["heldout_at_threshold"]) == {"precision", "recall", "f1"}


@pytest.mark.parametrize("settings, match", [
    ({"n_labels": 5}, "n_labels"),
    ({"bogus": 1}, "unknown field 'bogus'"),
    ({"pos_weight": [1.0, 2.0]}, "one number per label"),
    ({"pos_weight": [1.0, 2.0, -1.0]}, r"pos_weight\[2\]"),
    ({"lr": 0}, "settings.lr"),
    ({"dataset": "file"}, "loading a CSV"),
    ({"dataset": "spirals"}, "settings.dataset"),
    ({"n_points": MAX_POINTS + 1}, "settings.n_points"),
    ({"threshold_metric": "youden"}, "threshold_metric"),
    ({"label_names": ["a", "a", "b"]}, "must differ"),
    ({"shared_layer": 1}, "true or false"),
])
def test_bad_settings_are_refused_and_nothing_changes(state, settings, match):
    before = json.dumps(state.to_dict())
    seen = record(state)
    with pytest.raises(LabError, match=match):
        state.apply_settings(settings)
    with pytest.raises(LabError, match=match):
        state.update(**settings)
    assert json.dumps(state.to_dict()) == before
    assert seen == []


def test_apply_settings_applies_everything_once(state):
    state.update(l2=0.5, shared_layer=True)
    state.step(5)
    seen = record(state)
    state.apply_settings({"dataset": "rare", "n_labels": 4, "pos_weight": [1, 2, 3, 4]})
    names = [n for n, _ in seen]
    for event in ("data", "model", "settings"):
        assert names.count(event) == 1
    assert state.n_labels == 4 and state.settings["pos_weight"] == (1.0, 2.0, 3.0, 4.0)
    # nothing inherited from before the stage: defaults for what it does not name
    assert state.settings["l2"] == DEFAULTS["l2"] and not state.shared and state.steps == 0


def test_step_and_reset(state):
    seen = record(state)
    start = state.trainer.objective
    assert state.step(50) == 50 and state.steps == 50
    assert ("model", {"reason": "step"}) in seen
    assert state.trainer.objective < start
    state.reset()
    assert state.steps == 0 and np.all(state.params.W == 0)
    with pytest.raises(LabError):
        state.step(-1)


def test_many_steps_return_once_converged(state):
    state.update(lr=3.0)
    assert state.step(10**7) == 200_000  # capped per call, converged long before
    assert state.trainer.grad_norm < 1e-9
    W, b = fit_multilabel(state.X[~state.heldout], state.Y[~state.heldout],
                          l2=state.settings["l2"])
    np.testing.assert_allclose(state.params.W, W, atol=1e-8)


def test_fit_is_fit_multilabel_on_the_training_points(state):
    state.update(pos_weight=[1.0, 3.0, 0.5])
    state.fit()
    train = ~state.heldout
    W, b = fit_multilabel(state.X[train], state.Y[train], l2=state.settings["l2"],
                          spec=[LossSpec(pos_weight=w) for w in (1.0, 3.0, 0.5)])
    np.testing.assert_array_equal(state.params.W, W)
    np.testing.assert_array_equal(state.params.b, b)


def test_pos_weight_of_one_label_moves_only_that_label(state):
    state.fit()
    W0 = state.params.W.copy()
    state.set_pos_weight(1, 5.0)
    state.fit()
    W1 = state.params.W
    np.testing.assert_array_equal(W0[:, [0, 2]], W1[:, [0, 2]])
    assert not np.allclose(W0[:, 1], W1[:, 1])


def test_hessian_blocks(state):
    state.step(20)
    fig = state.hessian_figure()
    assert fig.H.shape == (9, 9) and fig.head_head_max == 0.0 and fig.head_shared_max is None
    assert fig.block_names == ("comedy", "romance", "action")
    state.update(shared_layer=True, hidden_units=2)
    state.step(20)
    fig = state.hessian_figure()
    assert fig.H.shape == (3 * 5 + 2 * 3,) * 2
    assert fig.head_head_max == 0.0 and fig.head_shared_max > 1e-3
    assert len(fig.param_names) == fig.H.shape[0]
    train = ~state.heldout
    np.testing.assert_array_equal(
        fig.H, shared_hessian(state.X[train], state.Y[train], state.params,
                              l2=state.settings["l2"], spec=state.trainer.specs))


def test_thresholds_are_chosen_on_heldout_points(state):
    state.fit()
    fig = state.threshold_figure()
    P = state.point_probabilities()
    held = state.heldout
    for k, lt in enumerate(fig.labels):
        y = metrics.hard_labels(state.Y[held, k])
        t, value = metrics.best_threshold(y, P[held, k], "f1")
        assert lt.threshold == t and lt.metric_value == value and lt.chosen
        assert lt.heldout_at_half.precision == pytest.approx(
            precision_score(y, P[held, k] >= 0.5, zero_division=0))
        assert lt.heldout_at_threshold.recall == pytest.approx(
            recall_score(y, P[held, k] >= t, zero_division=0))
        yt = metrics.hard_labels(state.Y[~held, k])
        assert lt.train_at_half.recall == pytest.approx(
            recall_score(yt, P[~held, k] >= 0.5, zero_division=0))
        assert lt.curve.shape == CURVE_THRESHOLDS.shape
        assert lt.curve.max() == pytest.approx(value, abs=0.08)


def test_costlier_misses_lower_the_threshold(state):
    state.fit()
    state.update(threshold_metric="cost")
    base = [lt.threshold for lt in state.threshold_figure().labels]
    state.set_cost_ratio(0, 20.0)
    after = [lt.threshold for lt in state.threshold_figure().labels]
    assert after[0] <= base[0] and after[1:] == base[1:]


def test_figures_are_cached_per_version(state):
    g = state.grid()
    assert state.grid() is g
    np.testing.assert_allclose(g.sum, g.P.sum(axis=0))
    state.step(1)
    assert state.grid() is not g


def test_overlapping_labels_sum_past_one(state):
    state.apply_settings({"dataset": "overlapping", "start": "fit"})
    g = state.grid()
    assert g.sum_max > 1.5 and 0 <= g.sum_min
    points = state.points_figure()
    assert points.n_labels_per_point.max() == 3
    assert np.all(points.codes == (points.hard * [1, 2, 4]).sum(axis=1))


def test_session_round_trip(state):
    state.update(shared_layer=True, pos_weight=[1.0, 2.0, 4.0], threshold_metric="cost")
    state.step(30)
    payload = json.loads(json.dumps(state.to_dict()))
    other = MultilabelState()
    other.restore(payload)
    assert other.report() == state.report()
    np.testing.assert_array_equal(other.params.flat(), state.params.flat())


@pytest.mark.parametrize("mutate, match", [
    (lambda p: p.update(format=2), "format"),
    (lambda p: p["model"].update(theta=[0.0] * 3), "theta"),
    (lambda p: p["data"].update(Y=[[2.0] * 3] * len(p["data"]["X"])), r"\[0, 1\]"),
    (lambda p: p["data"].update(heldout=[True] * len(p["data"]["X"])), "training"),
    (lambda p: p["settings"].update(n_labels=9), "n_labels"),
    (lambda p: p["data"]["source"].update(kind="web"), "source.kind"),
])
def test_bad_sessions_are_refused_and_nothing_changes(state, mutate, match):
    payload = json.loads(json.dumps(state.to_dict()))
    mutate(payload)
    other = MultilabelState()
    other.step(3)
    before = json.dumps(other.to_dict())
    with pytest.raises(LabError, match=match):
        other.restore(payload)
    assert json.dumps(other.to_dict()) == before


# --------------------------------------------------------------------- files
def write(tmp_path, text, name="labels.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def table(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) * [3.0, 0.5] + [10.0, -2.0]
    Y = np.column_stack([(X[:, 0] > 10).astype(float), (X[:, 1] > -2).astype(float),
                         np.round(rng.random(n), 2)])
    rows = "\n".join(",".join(repr(float(v)) for v in (*x, *y)) for x, y in zip(X, Y))
    return X, Y, "x1,x2,funny,sad,soft\n" + rows + "\n"


def test_load_csv_with_soft_labels(state, tmp_path):
    X, Y, text = table()
    state.load_csv(write(tmp_path, text))
    assert state.n_labels == 3 and state.label_names == ("funny", "sad", "soft")
    np.testing.assert_array_equal(state.Y, Y)
    np.testing.assert_allclose(state.X.mean(axis=0), 0, atol=1e-12)  # standardised
    assert state.settings["dataset"] == "file"
    fig = state.threshold_figure()
    assert fig.soft_labels
    json.dumps(state.report(), allow_nan=False)
    payload = json.loads(json.dumps(state.to_dict()))
    other = MultilabelState()
    other.restore(payload)
    assert other.report() == state.report()
    state.update(l2=0.1)  # settings still work on file data
    assert state.settings["dataset"] == "file"


@pytest.mark.parametrize("edit, match", [
    (lambda t: t.replace("\n", "\n0,0,1.5,0,0\n", 1), r"line 2, column 3: label 1\.5"),
    (lambda t: "\n".join(",".join(r.split(",")[:3]) for r in t.splitlines()), "found 3 columns"),
    (lambda t: "\n".join(r if i == 0 else ",".join(r.split(",")[:2] + ["0"] + r.split(",")[3:])
                         for i, r in enumerate(t.splitlines())), "all class 0"),
    (lambda t: t.replace("\n", "\n1,2,abc,0,0\n", 1), "not a number"),
])
def test_bad_files_are_refused_where_and_nothing_changes(state, tmp_path, edit, match):
    _, _, text = table()
    before = json.dumps(state.to_dict())
    with pytest.raises(LabError, match=match):
        state.load_csv(write(tmp_path, edit(text)))
    assert json.dumps(state.to_dict()) == before
    assert state.status_level == "error"


def test_too_many_rows_are_refused(state, tmp_path):
    rows = "\n".join(f"{i},{i % 7},{i % 2},{(i // 2) % 2}" for i in range(MAX_POINTS + 5))
    with pytest.raises(LabError, match="limit"):
        state.load_csv(write(tmp_path, "a,b,c,d\n" + rows))


# --------------------------------------------------------------------- copy as code
def test_sklearn_code_reproduces_the_fit(state):
    state.update(pos_weight=[1.0, 2.0, 0.5])
    state.fit()
    namespace: dict = {}
    exec(state.code("sklearn"), namespace)  # our own generated snippet
    for k, head in enumerate(namespace["heads"]):
        np.testing.assert_allclose(head.coef_[0], state.params.W[:, k], atol=1e-4)
        assert head.intercept_[0] == pytest.approx(state.params.b[k], abs=1e-4)
    assert "MultiOutputClassifier" in state.code("sklearn")


def test_sklearn_code_uses_multioutput_classifier_for_one_weight(state):
    state.fit()
    namespace: dict = {}
    exec(state.code("sklearn"), namespace)
    assert type(namespace["model"]).__name__ == "MultiOutputClassifier"
    np.testing.assert_allclose(namespace["P"][:, 0],
                               state.point_probabilities()[~state.heldout, 0], atol=1e-5)


def test_pytorch_code_trains_the_same_steps(state):
    state.update(pos_weight=[1.0, 3.0, 1.0], lr=0.5)
    state.step(25)
    text = state.code("pytorch")
    assert "BCEWithLogitsLoss(pos_weight=pos_weight" in text
    assert "torch.tensor([1.0, 3.0, 1.0])" in text
    namespace: dict = {}
    exec(text, namespace)
    model = namespace["model"]
    np.testing.assert_allclose(model.weight.detach().numpy().T, state.params.W, atol=1e-10)
    np.testing.assert_allclose(model.bias.detach().numpy(), state.params.b, atol=1e-10)


def test_pytorch_code_with_the_shared_layer_runs(state):
    state.update(shared_layer=True, hidden_units=2)
    state.step(3)
    namespace: dict = {}
    exec(state.code("pytorch"), namespace)
    assert namespace["probabilities"].shape == (int((~state.heldout).sum()), 3)


# --------------------------------------------------------------------- stages
def staged(stage_id):
    from bceviz.model.stages import get_stage

    stage = get_stage(stage_id)
    assert stage.lab == "multilabel" and 200 <= stage.order < 300
    assert stage.chapter == "Applications: many labels"
    state = MultilabelState()
    state.apply_settings(dict(stage.settings))
    return stage, state


def test_decoupled_stage_caption():
    stage, state = staged("multilabel-decoupled")
    assert state.n_labels == 2 and "the two labels' BCEs" in stage.caption
    assert set(stage.panel_ids) == {"maps", "hessian"}
    state.step(200)
    assert state.hessian_figure().head_head_max == 0.0  # "exactly 0"
    state.update(shared_layer=True)
    state.step(20)
    assert state.hessian_figure().head_head_max == 0.0
    assert state.hessian_figure().head_shared_max > 0.0  # "fill in"


def test_thresholds_stage_caption_numbers():
    stage, state = staged("multilabel-thresholds")
    fig = state.threshold_figure()
    drama = fig.labels[3]
    assert drama.name == "drama" and state.settings["map_label"] == 3
    assert f"drama is positive for {100 * state.Y[:, 3].mean():.1f} % of the points" \
        in stage.caption
    assert f"chosen on {fig.n_heldout} held-out points (best F1)" in stage.caption
    assert f"Drama's is {drama.threshold:.2f}" in stage.caption
    assert (f"held-out F1 is {drama.metric_value:.2f} against {drama.heldout_at_half.f1:.2f} "
            f"at 0.5") in stage.caption
    assert (f"recall {drama.heldout_at_threshold.recall:.2f} instead of "
            f"{drama.heldout_at_half.recall:.2f}") in stage.caption
    # the rarer labels' thresholds fall below 0.5
    assert drama.threshold < 0.5 and fig.labels[1].threshold < 0.5


def test_not_exclusive_stage_caption_numbers():
    stage, state = staged("multilabel-not-exclusive")
    g = state.grid()
    share = state.points_figure().multi_share
    assert f"{100 * share:.0f} % of the points carry two or more" in stage.caption
    assert f"Σ p runs from {g.sum_min:.2f} to {g.sum_max:.2f}" in stage.caption
    assert "BCEWithLogitsLoss" in state.code("pytorch") and "BCEWithLogitsLoss" in stage.caption


def test_map_label_view_setting(state):
    seen = record(state)
    state.set_map_label(2)
    assert state.settings["map_label"] == 2 and ("view", {}) in seen
    with pytest.raises(LabError, match="map_label"):
        state.set_map_label(3)
    state.update(n_labels=2)  # a label that no longer exists: every map again
    assert state.settings["map_label"] is None
    state.set_map_label(None)
    assert state.settings["map_label"] is None
