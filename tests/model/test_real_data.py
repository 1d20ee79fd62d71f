"""Breast-cancer and imbalance scenarios: real data through the user-CSV path, feature choice."""

from __future__ import annotations

import numpy as np
import pytest

from bceviz.engine import metrics
from bceviz.model import datafiles
from bceviz.model.scenarios import ScenarioError, apply_scenario, load_scenario, validate_scenario
from bceviz.model.state import AppState, DataAxes, StateError
from bceviz.resources import resource_path

BREAST_CANCER = resource_path("data", "breast_cancer_wisconsin.csv")


@pytest.fixture
def cancer_state() -> AppState:
    state = AppState()
    apply_scenario(state, load_scenario("breast-cancer"))
    return state


def heldout_auc(state: AppState) -> float:
    mask = state.heldout
    return metrics.roc_auc(state.y[mask], state.proba_of(state.X[mask]))


def test_breast_cancer_scenario_loads_the_whole_table(cancer_state):
    st = cancer_state
    assert st.n_points == 569
    assert int(st.y.sum()) == 212  # malignant = 1, the positive class
    assert st.data_source == "breast-cancer"
    assert st.table is not None and len(st.table.feature_columns) == 30
    assert st.axes.names == ("mean_radius", "mean_texture")
    assert st.axes.label_name == "malignant"
    assert st.axes.axis_label(0) == "mean_radius (standardised)"
    # standardised, and the axes convert back to the file's units exactly
    np.testing.assert_allclose(st.X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(st.X.std(axis=0), 1.0, rtol=1e-12)
    table = datafiles.read_table_csv(BREAST_CANCER)
    raw = table.data[:, [table.column_index("mean_radius"), table.column_index("mean_texture")]]
    np.testing.assert_allclose(st.axes.to_original_units(st.X), raw, rtol=1e-12)
    # a stratified held-out split of 30 %
    assert st.heldout.sum() == pytest.approx(0.3 * 569, abs=1)
    assert st.y[st.heldout].mean() == pytest.approx(212 / 569, abs=0.01)


def test_breast_cancer_trains_to_a_good_heldout_auc(cancer_state):
    st = cancer_state
    assert st.training.optimizer == "newton"
    st.step(8)
    auc = heldout_auc(st)
    assert auc > 0.9
    # the same number as scikit-learn's
    import sklearn.metrics as sklearn_metrics
    mask = st.heldout
    assert auc == pytest.approx(sklearn_metrics.roc_auc_score(st.y[mask], st.proba_of(st.X[mask])))


def test_choosing_features_reloads_the_points_with_the_same_split(cancer_state):
    st = cancer_state
    seen = []
    st.events.data.connect(
        lambda **info: seen.append(("data", st.axes.names, st.table is not None)))
    st.events.weights.connect(lambda **info: seen.append(("weights", info.get("reason"))))
    split_before = st.heldout.copy()
    st.choose_features("worst_radius", "worst_concave_points")
    assert st.axes.names == ("worst_radius", "worst_concave_points")
    assert st.n_points == 569 and int(st.y.sum()) == 212
    np.testing.assert_array_equal(st.heldout, split_before)
    table = datafiles.read_table_csv(BREAST_CANCER)
    col = table.column("worst_radius")
    np.testing.assert_allclose(st.X[:, 0], (col - col.mean()) / col.std(), rtol=1e-12)
    # listeners see the new table with the new points (the weights did not move: no event)
    assert seen == [("data", ("worst_radius", "worst_concave_points"), True)]
    st.step(10)
    assert heldout_auc(st) > 0.95


def test_a_refused_feature_changes_nothing(cancer_state):
    st = cancer_state
    X_before = st.X.copy()
    with pytest.raises(StateError, match="no column named 'radius'"):
        st.choose_features("radius", "mean_texture")
    with pytest.raises(StateError, match="label column"):
        st.choose_features("malignant", "mean_texture")
    np.testing.assert_array_equal(st.X, X_before)
    assert st.axes.names == ("mean_radius", "mean_texture")


def test_generated_data_forgets_the_table(cancer_state):
    st = cancer_state
    st.generate(kind="overlap")
    assert st.table is None
    assert st.axes == DataAxes()
    with pytest.raises(StateError, match="no table"):
        st.choose_features("mean_radius", "mean_texture")
    st2 = AppState()
    st2.set_data(np.zeros((2, 2)), np.array([0.0, 1.0]))
    assert st2.table is None and st2.axes.names == ("x1", "x2")


def test_user_table_goes_through_the_same_path(tmp_path):
    path = tmp_path / "patients.csv"
    path.write_text("age,marker,sick\n50,1.5,1\n40,0.5,0\n60,2.5,1\n30,0.1,0\n")
    st = AppState()
    st.load_table(datafiles.read_table_csv(path), "age", "marker", "sick", heldout_fraction=0.0)
    assert st.axes.names == ("age", "marker") and st.axes.label_name == "sick"
    assert st.n_points == 4 and not st.heldout.any()
    one_class = tmp_path / "healthy.csv"
    one_class.write_text("age,marker,sick\n50,1.5,0\n40,0.5,0\n")
    with pytest.raises(StateError, match="one class|both classes|only"):
        st.load_table(datafiles.read_table_csv(one_class), "age", "marker", "sick")
    assert st.n_points == 4


@pytest.mark.parametrize("bad, message", [
    ({"source": "iris", "features": ["a", "b"]}, "unknown source"),
    ({"source": "breast-cancer", "features": ["mean_radius"]}, "two column names"),
    ({"source": "breast-cancer", "features": ["mean_radius", "mean_radius"]}, "two different"),
    ({"source": "breast-cancer", "features": ["a", "b"], "heldout_fraction": 1.0},
     "heldout_fraction"),
    ({"source": "breast-cancer", "features": ["a", "b"], "colour": 1}, "unknown key"),
])
def test_real_data_section_is_validated(bad, message):
    raw = {"format_version": 1, "id": "x", "real_data": bad}
    with pytest.raises(ScenarioError, match=message):
        validate_scenario(raw)


def test_unknown_column_in_a_scenario_leaves_the_state_untouched():
    st = AppState()
    X_before = st.X.copy()
    raw = {"format_version": 1, "id": "x",
           "real_data": {"source": "breast-cancer", "features": ["mean_radius", "nope"]}}
    with pytest.raises(ScenarioError, match="nope"):
        apply_scenario(st, validate_scenario(raw))
    np.testing.assert_array_equal(st.X, X_before)
    with pytest.raises(ScenarioError, match="only one of"):
        validate_scenario({**raw, "dataset": {"kind": "overlap"}})


def test_imbalance_scenario_is_rare_positives():
    st = AppState()
    apply_scenario(st, load_scenario("imbalance"))
    share = st.y.mean()
    assert 0.01 <= share <= 0.05
    assert st.y[st.heldout].sum() >= 5  # enough positives held out to score recall
