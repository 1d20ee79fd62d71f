"""The one-vs-rest lab's state (no Qt): settings, edits, sessions, maps, metrics, files, code."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, roc_auc_score

from bceviz.engine.multiclass import (
    fit_one_vs_rest,
    fit_softmax,
    ovr_probabilities,
    softmax_probabilities,
)
from bceviz.model.labs import BUILTIN, LabError
from bceviz.model.labs.multiclass import (
    DEFAULTS,
    LAB,
    MAX_POINTS,
    NOBODY,
    SEVERAL,
    MulticlassState,
)


@pytest.fixture
def state():
    return MulticlassState()


def record(state):
    seen = []
    for name in state.events.names:
        getattr(state.events, name).connect(lambda _n=name, **info: seen.append((_n, info)))
    return seen


def train_data(state):
    train = ~state.heldout
    return state.X[train], state.labels[train]


def test_registered_and_reports_json(state):
    assert "bceviz.model.labs.multiclass" in BUILTIN
    assert LAB.lab_id == MulticlassState.lab_id == "multiclass"
    assert LAB.state_factory is MulticlassState and LAB.gui_module == "bceviz.gui.labs.multiclass"
    report = state.report()
    json.dumps(report, allow_nan=False)
    assert report["n_classes"] == 4 and len(report["classes"]) == 4
    for key in ("ovr_weights", "ovr_bias", "softmax_weights", "softmax_bias", "heldout_auc_ovr",
                "heldout_recall_ovr"):
        assert key in report["classes"][0]
    for key in ("ovr_accuracy", "softmax_accuracy", "ovr_confusion", "nobody_says_yes"):
        assert key in report["heldout"]


def test_starts_at_the_fitted_optima(state):
    X, labels = train_data(state)
    Wo, bo = fit_one_vs_rest(X, labels, 4, l2=DEFAULTS["l2"])
    Ws, bs = fit_softmax(X, labels, 4, l2=DEFAULTS["l2"])
    np.testing.assert_allclose(state.ovr[0], Wo, atol=1e-10)
    np.testing.assert_allclose(state.softmax[0], Ws, atol=1e-8)
    np.testing.assert_allclose(state.softmax[1], bs, atol=1e-8)


@pytest.mark.parametrize("settings, match", [
    ({"n_classes": 2}, "n_classes"),
    ({"n_classes": 6}, "n_classes"),
    ({"nope": 1}, "unknown field"),
    ({"spread": 0}, "spread"),
    ({"add_class": 4}, "add_class"),
    ({"class_names": ["A", "B"]}, "class_names"),
    ({"dataset": "file"}, "loading a CSV"),
    ({"auto_fit": "yes"}, "true or false"),
    ({"n_points": MAX_POINTS + 1}, "n_points"),
])
def test_bad_settings_are_refused_and_nothing_changes(state, settings, match):
    before = json.dumps(state.to_dict())
    seen = record(state)
    with pytest.raises(LabError, match=match):
        state.apply_settings(settings)
    with pytest.raises(LabError, match=match):
        state.update(**settings)
    assert json.dumps(state.to_dict()) == before and seen == []


def test_apply_settings_resets_what_the_stage_does_not_name(state):
    state.update(l2=1.0, add_class=3)
    state.move_point(0, (3.0, 3.0))
    seen = record(state)
    state.apply_settings({"dataset": "line", "n_classes": 3})
    names = [n for n, _ in seen]
    assert all(names.count(e) == 1 for e in ("data", "model", "settings"))
    assert state.settings["l2"] == DEFAULTS["l2"] and state.add_class == 0
    assert state.n_classes == 3 and state.class_names == ("A", "B", "C")


def test_edits_refit_when_auto_fit(state):
    seen = record(state)
    i = int(np.flatnonzero(~state.heldout)[0])
    state.move_point(i, (0.5, -0.25))
    np.testing.assert_array_equal(state.X[i], [0.5, -0.25])
    assert ("data", {"kind": "move", "index": i}) in seen
    X, labels = train_data(state)
    Wo, bo = fit_one_vs_rest(X, labels, 4, l2=DEFAULTS["l2"])
    np.testing.assert_allclose(state.ovr[0], Wo, atol=1e-8)
    n = state.n_points
    state.set_add_class(2)
    state.add_point((9.0, -9.0))  # clamped to the map
    assert state.n_points == n + 1 and state.labels[-1] == 2 and not state.heldout[-1]
    np.testing.assert_array_equal(state.X[-1], [state.extent, -state.extent])
    state.remove_point(n)
    assert state.n_points == n


def test_edits_while_training_keep_the_running_weights(state):
    state.update(start="zero")
    state.step(10)
    state.set_running(True)
    W = state.ovr[0].copy()
    state.move_point(0, (1.0, 1.0))
    np.testing.assert_array_equal(state.ovr[0], W)
    state.set_running(False)


def test_last_training_point_of_a_class_cannot_go(state):
    state.apply_settings({"n_points": 24, "n_classes": 3, "heldout_fraction": 0.5})
    k = 0
    train = np.flatnonzero((state.labels == k) & ~state.heldout)
    held = np.flatnonzero((state.labels == k) & state.heldout)
    for i in sorted([*held, *train[1:]], reverse=True):
        state.remove_point(int(i))
    before = json.dumps(state.to_dict())
    last = int(np.flatnonzero(state.labels == k)[0])
    with pytest.raises(LabError, match="class A needs at least one training point"):
        state.remove_point(last)
    assert json.dumps(state.to_dict()) == before


@pytest.mark.parametrize("call, match", [
    (lambda s: s.move_point(10_000, (0, 0)), "index"),
    (lambda s: s.move_point(0, (np.nan, 0)), "finite"),
    (lambda s: s.move_point(0, "here"), "two numbers"),
    (lambda s: s.add_point((0, 0), 7), "label"),
    (lambda s: s.step(-2), "whole number"),
])
def test_bad_gestures_change_nothing(state, call, match):
    before = json.dumps(state.to_dict())
    with pytest.raises(LabError, match=match):
        call(state)
    assert json.dumps(state.to_dict()) == before


def test_grid_regions(state):
    g = state.grid()
    assert state.grid() is g
    n_yes = (g.ovr >= 0.5).sum(axis=0)
    np.testing.assert_array_equal(g.region == NOBODY, n_yes == 0)
    np.testing.assert_array_equal(g.region == SEVERAL, n_yes >= 2)
    assert g.nobody_share == pytest.approx(np.mean(n_yes == 0))
    assert 0 < g.nobody_share < 1 and 0 < g.several_share < 1
    np.testing.assert_allclose(g.softmax.sum(axis=0), 1.0, atol=1e-12)
    assert g.ovr_sum_min < 1 < g.ovr_sum_max
    # spot check against the engine
    pts = np.array([[g.xs[7], g.ys[11]]])
    np.testing.assert_allclose(g.ovr[:, 11, 7], ovr_probabilities(pts, *state.ovr)[0])
    np.testing.assert_allclose(g.softmax[:, 11, 7], softmax_probabilities(pts, *state.softmax)[0])
    np.testing.assert_array_equal(g.disagree, g.ovr_argmax != g.softmax_argmax)


def test_metrics_equal_sklearn(state):
    mf = state.metrics_figure()
    pf = state.points_figure()
    held = state.heldout
    np.testing.assert_array_equal(
        mf.ovr.confusion, confusion_matrix(state.labels[held], pf.ovr_pred[held], labels=range(4)))
    np.testing.assert_array_equal(
        mf.softmax.confusion,
        confusion_matrix(state.labels[held], pf.softmax_pred[held], labels=range(4)))
    for k in range(4):
        y = state.labels[held] == k
        assert mf.ovr.roc[k].auc == pytest.approx(roc_auc_score(y, pf.ovr[held, k]))
        assert mf.softmax.roc[k].auc == pytest.approx(roc_auc_score(y, pf.softmax[held, k]))
    assert mf.heldout_nobody == int(np.sum((pf.ovr[held] < 0.5).all(axis=1)))


def test_line_of_classes_leaves_nobody_saying_yes(state):
    state.apply_settings({"dataset": "line", "n_classes": 4})
    g = state.grid()
    assert g.nobody_share > 0.2
    report = state.report()
    assert report["map"]["nobody_share"] == g.nobody_share


def test_training_from_zero(state):
    state.update(start="zero")
    assert np.all(state.ovr[0] == 0) and state.steps == 0
    seen = record(state)
    assert state.step(40) == 40 and ("model", {"reason": "step"}) in seen
    o, s = state.trainer.objectives()
    assert o < 4 * np.log(2) and s < np.log(4)
    state.reset()
    assert state.steps == 0


def test_session_round_trip(state):
    state.update(start="zero", add_class=2)
    state.step(12)
    state.move_point(3, (0.1, 0.2))
    payload = json.loads(json.dumps(state.to_dict()))
    other = MulticlassState()
    other.restore(payload)
    assert other.report() == state.report()
    assert other.add_class == 2


@pytest.mark.parametrize("mutate, match", [
    (lambda p: p.update(format=0), "format"),
    (lambda p: p["data"].update(labels=[9] * len(p["data"]["X"])), "class numbers"),
    (lambda p: p["model"].update(ovr_W=[[0.0]]), "ovr_W"),
    (lambda p: p["data"].update(heldout=[True] * len(p["data"]["X"])), "training point"),
    (lambda p: p["settings"].update(spread=99), "spread"),
])
def test_bad_sessions_are_refused(state, mutate, match):
    payload = json.loads(json.dumps(state.to_dict()))
    mutate(payload)
    other = MulticlassState()
    other.update(l2=0.5)
    before = json.dumps(other.to_dict())
    with pytest.raises(LabError, match=match):
        other.restore(payload)
    assert json.dumps(other.to_dict()) == before


# --------------------------------------------------------------------- files
def write(tmp_path, text):
    path = tmp_path / "classes.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def csv_text(classes=(1, 2, 3), n=45, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        c = classes[i % len(classes)]
        x = rng.normal(size=2) + [c * 2.0, -c]
        rows.append(f"{float(100 + 10 * x[0])!r},{float(x[1])!r},{c}")
    return "height,weight,species\n" + "\n".join(rows) + "\n"


def test_load_csv(state, tmp_path):
    state.load_csv(write(tmp_path, csv_text()))
    assert state.n_classes == 3 and state.class_names == ("1", "2", "3")
    assert state.n_points == 45 and state.settings["dataset"] == "file"
    np.testing.assert_allclose(state.X.mean(axis=0), 0, atol=1e-12)
    json.dumps(state.report(), allow_nan=False)
    other = MulticlassState()
    other.restore(json.loads(json.dumps(state.to_dict())))
    assert other.report() == state.report()


@pytest.mark.parametrize("text, match", [
    ("a,b,c\n" + "\n".join(f"{i},{i * 2 % 5},{i % 3 + 0.5}" for i in range(20)),
     "line 2, column 3: class 0.5 is not a whole number"),
    ("a,b,c\n" + "\n".join(f"{i},{i % 5},{i % 2}" for i in range(20)), "2 distinct classes"),
    ("a,b,c,d\n" + "\n".join(f"{i},{i % 5},{i % 3},1" for i in range(20)), "expected 3"),
    ("a,b,c\n1,2,x\n", "not a number"),
])
def test_bad_files_are_refused(state, tmp_path, text, match):
    before = json.dumps(state.to_dict())
    with pytest.raises(LabError, match=match):
        state.load_csv(write(tmp_path, text))
    assert json.dumps(state.to_dict()) == before


# --------------------------------------------------------------------- copy as code
def test_sklearn_code_reproduces_both_models(state):
    text = state.code("sklearn")
    assert "OneVsRestClassifier(LogisticRegression(" in text and "multi_class=" not in text
    namespace: dict = {}
    exec(text, namespace)  # our own generated snippet
    for k, est in enumerate(namespace["ovr"].estimators_):
        np.testing.assert_allclose(est.coef_[0], state.ovr[0][:, k], atol=1e-5)
    X, _ = train_data(state)
    np.testing.assert_allclose(namespace["P_softmax"],
                               softmax_probabilities(X, *state.softmax), atol=1e-6)
    np.testing.assert_array_equal(namespace["nobody_says_yes"],
                                  state.points_figure().nobody[~state.heldout])


def test_pytorch_code_trains_the_same_steps(state):
    state.update(start="zero", lr=0.5)
    state.step(20)
    namespace: dict = {}
    exec(state.code("pytorch"), namespace)
    np.testing.assert_allclose(namespace["ovr"].weight.detach().numpy().T, state.ovr[0],
                               atol=1e-10)
    Ws = namespace["softmax"].weight.detach().numpy().T
    np.testing.assert_allclose(Ws, state.softmax[0], atol=1e-10)


# --------------------------------------------------------------------- stages
def staged(stage_id):
    from bceviz.model.stages import get_stage

    stage = get_stage(stage_id)
    assert stage.lab == "multiclass" and 300 <= stage.order < 400
    assert stage.chapter == "Applications: many classes"
    state = MulticlassState()
    state.apply_settings(dict(stage.settings))
    return stage, state


def test_nobody_stage_caption_numbers():
    stage, state = staged("multiclass-nobody")
    g, mf = state.grid(), state.metrics_figure()
    assert f"on {100 * g.nobody_share:.0f} % of the map (grey) no classifier says yes" \
        in stage.caption
    assert f"for {mf.heldout_nobody} of the {mf.n_heldout} held-out points nobody does" \
        in stage.caption
    assert state.settings["map_class"] == 1 and state.class_names[1] == "B"
    # B's sigmoid is the weak one: the lowest AUC against the rest
    aucs = [r.auc for r in mf.ovr.roc]
    assert int(np.argmin(aucs)) == 1


def test_softmax_stage_caption_numbers():
    stage, state = staged("multiclass-softmax")
    g, mf = state.grid(), state.metrics_figure()
    assert f"sum to anything from {g.ovr_sum_min:.2f} to {g.ovr_sum_max:.2f}" in stage.caption
    assert (f"{100 * mf.softmax.heldout_accuracy:.0f} % of the held-out points right against "
            f"{100 * mf.ovr.heldout_accuracy:.0f} %") in stage.caption
    np.testing.assert_allclose(g.softmax.sum(axis=0), 1.0, atol=1e-12)


def test_per_class_stage_caption_numbers():
    stage, state = staged("multiclass-per-class")
    mf = state.metrics_figure()
    assert state.n_classes == 5 and "Five classes" in stage.caption
    assert f"on the {mf.n_heldout} held-out points" in stage.caption
    assert mf.ovr.heldout_accuracy == mf.softmax.heldout_accuracy
    assert f"Both models get {100 * mf.ovr.heldout_accuracy:.1f} %" in stage.caption


def test_map_class_view_setting(state):
    seen = record(state)
    state.set_map_class(3)
    assert state.settings["map_class"] == 3 and ("view", {}) in seen
    with pytest.raises(LabError, match="map_class"):
        state.set_map_class(4)
    state.update(n_classes=3)
    assert state.settings["map_class"] is None


def test_heldout_summary_agrees_with_the_metrics(state):
    hs, mf = state.heldout_summary(), state.metrics_figure()
    assert hs.ovr_accuracy == mf.ovr.heldout_accuracy
    assert hs.softmax_accuracy == mf.softmax.heldout_accuracy
    assert (hs.nobody, hs.several, hs.n_heldout) == (mf.heldout_nobody, mf.heldout_several,
                                                     mf.n_heldout)
