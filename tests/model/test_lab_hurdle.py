"""Tests of the hurdle lab's Qt-free state: settings, data, training, decoupling, figures, sessions."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.discrete.truncated_model import TruncatedLFPoisson

from bceviz.engine import hurdle as H
from bceviz.model.datafiles import DataFileError
from bceviz.model.labs import LabError, get_lab
from bceviz.model.labs.hurdle import (
    GRAD_TOL,
    HIST_MAX,
    MAX_PEOPLE,
    PARTS,
    HurdleState,
    read_counts_csv,
)


@pytest.fixture
def state():
    return HurdleState()


def _recorder(state):
    seen = []
    for name in state.events.names:
        getattr(state.events, name).connect(lambda _n=name, **info: seen.append((_n, info)))
    return seen


def _snapshot(state):
    return json.dumps({"report": state.report(), "session": state.to_dict()}, sort_keys=True)


def test_registered_and_json_safe_report(state):
    info = get_lab("hurdle")
    assert info.state_factory is HurdleState
    assert info.gui_module == "bceviz.gui.labs.hurdle"
    report = state.report()
    text = json.dumps(report, allow_nan=False)
    assert "NaN" not in text
    for key in ("data", "hurdle", "poisson", "loss_per_person", "expected_zeros", "steps",
                "ml_fit"):
        assert key in report
    for key in ("zero_w", "zero_b", "count_w", "count_b", "zero_loglik", "count_loglik",
                "loglik"):
        assert key in report["hurdle"]
    assert set(report["poisson"]) == {"w", "b", "loglik"}


def test_default_data_is_the_stated_synthetic_set(state):
    data = H.make_doctor_visits(1000, extra_zeros=0.4, count_strength=1.0, seed=7)
    np.testing.assert_array_equal(state.data.X, data.X)
    np.testing.assert_array_equal(state.data.counts, data.counts)
    assert state.report()["data"]["params"]["extra_zeros"] == 0.4


# --------------------------------------------------------------------------- the numbers
def test_report_after_fit_equals_statsmodels(state):
    state.fit_now()
    r = state.report()
    X, counts = state.data.X, state.data.counts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logit = sm.Logit((counts > 0).astype(float), sm.add_constant(X)).fit(disp=0)
        pos = counts > 0
        trunc = TruncatedLFPoisson(counts[pos], sm.add_constant(X[pos])).fit(
            disp=0, method="newton", maxiter=100)
        pois = sm.Poisson(counts, sm.add_constant(X)).fit(disp=0)
    h = r["hurdle"]
    np.testing.assert_allclose([h["zero_b"], *h["zero_w"]], logit.params, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose([h["count_b"], *h["count_w"]], trunc.params, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose([r["poisson"]["b"], *r["poisson"]["w"]], pois.params, rtol=1e-6,
                               atol=1e-9)
    assert h["zero_loglik"] == pytest.approx(logit.llf, rel=1e-9)
    assert h["count_loglik"] == pytest.approx(trunc.llf, rel=1e-9)
    assert h["loglik"] == pytest.approx(logit.llf + trunc.llf, rel=1e-9)
    assert r["poisson"]["loglik"] == pytest.approx(pois.llf, rel=1e-9)
    assert h["loglik"] > r["poisson"]["loglik"]


def test_loss_decomposition(state):
    state.step(25)
    f = state.figures()
    assert f.losses["total"] == f.losses["zero"] + f.losses["count"]
    assert f.logliks["hurdle"] == pytest.approx(f.logliks["zero"] + f.logliks["count"], rel=1e-14)
    zw, zb = f.weights["zero"]
    cw, cb = f.weights["count"]
    total, zll, cll = H.hurdle_loglik(state.data.X, state.data.counts, zw, zb, cw, cb)
    assert f.logliks["hurdle"] == pytest.approx(total, rel=1e-10)
    assert f.logliks["zero"] == pytest.approx(zll, rel=1e-10)
    assert f.losses["total"] == pytest.approx(-total / state.data.n, rel=1e-10)


# --------------------------------------------------------------------------- training
def test_step_trains_and_emits_a_model_step(state):
    seen = _recorder(state)
    before = state.figures().losses["total"]
    assert state.step(5) == 5
    assert state.steps == {"zero": 5, "count": 5, "poisson": 5}
    assert state.figures().losses["total"] < before
    assert ("model", {"reason": "step"}) in seen
    assert [name for name, _ in seen].count("model") == 1  # one event for the whole call


def test_training_one_part_leaves_the_other_put(state):
    """The decoupling: the zero part trains, the count part's weights and loss do not move."""
    state.set_training(train_count=False, train_poisson=False)
    f0 = state.figures()
    count_w, count_b = f0.weights["count"]
    count_loss = f0.losses["count"]
    state.step(40)
    f1 = state.figures()
    np.testing.assert_array_equal(f1.weights["count"][0], count_w)
    assert f1.weights["count"][1] == count_b
    assert f1.losses["count"] == count_loss
    assert f1.losses["zero"] < f0.losses["zero"]
    assert state.steps == {"zero": 40, "count": 0, "poisson": 0}
    # ... and the other way round.
    state.set_training(train_zero=False, train_count=True)
    zero = state.figures().losses["zero"]
    state.step(40)
    assert state.figures().losses["zero"] == zero
    assert state.figures().losses["count"] < count_loss


@pytest.mark.parametrize("method", ["gradient", "newton"])
def test_training_converges_to_the_fit_and_stops(state, method):
    state.set_training(method=method)
    state.set_running(True)
    done = state.step(10**9)  # large n is safe: capped, and stops once converged
    assert 0 < done < 5000
    assert all(state.converged.values())
    assert not state.running
    assert not state.can_train()
    assert "Converged" in state.status_message
    r = state.report()
    assert r["hurdle"]["loglik"] == pytest.approx(r["ml_fit"]["hurdle"]["loglik"], abs=1e-6)
    assert r["poisson"]["loglik"] == pytest.approx(r["ml_fit"]["poisson"]["loglik"], abs=1e-6)
    assert state.step(10) == 0


def test_nothing_to_train_when_every_part_is_off(state):
    state.set_training(train_zero=False, train_count=False, train_poisson=False)
    assert not state.can_train()
    state.set_running(True)
    assert not state.running
    assert state.step(3) == 0


def test_step_refuses_bad_n(state):
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(LabError, match="steps"):
            state.step(bad)


def test_reset_and_reset_one_part(state):
    state.step(30)
    trained = state.figures().weights["zero"]
    state.reset(("count",))
    f = state.figures()
    np.testing.assert_array_equal(f.weights["zero"][0], trained[0])
    assert state.steps["count"] == 0 and state.steps["zero"] == 30
    assert f.losses["count"] == pytest.approx(H.part_loss("count", state._prep.Xs,
                                                          state.data.counts, [0, 0], 0.0))
    state.reset()
    assert state.steps == dict.fromkeys(PARTS, 0)
    assert state.figures().losses["zero"] == pytest.approx(math.log(2.0), rel=1e-14)


def test_fitted_start_and_reset_back_to_it():
    state = HurdleState()
    state.apply_settings({"start": {"poisson": "fitted"}})
    r = state.report()
    assert r["poisson"]["loglik"] == pytest.approx(r["ml_fit"]["poisson"]["loglik"], rel=1e-12)
    assert r["loss_per_person"]["zero"] == pytest.approx(math.log(2.0))
    state.step(3)
    state.reset()
    assert state.report()["poisson"] == r["poisson"]


# --------------------------------------------------------------------------- settings
@pytest.mark.parametrize("settings, field", [
    ({"data": {"extra_zeros": 0.95}}, "settings.data.extra_zeros"),
    ({"data": {"n": 20}}, "settings.data.n"),
    ({"data": {"n": MAX_PEOPLE + 1}}, "settings.data.n"),
    ({"data": {"seed": -1}}, "settings.data.seed"),
    ({"training": {"method": "adam"}}, "settings.training.method"),
    ({"training": {"lr": 0.0}}, "settings.training.lr"),
    ({"training": {"train_zero": 1}}, "settings.training.train_zero"),
    ({"view": {"covariate": 2}}, "settings.view.covariate"),
    ({"view": {"histogram": "pie"}}, "settings.view.histogram"),
    ({"start": "trained"}, "settings.start"),
    ({"start": {"zero": "fitted", "hurdle": "fitted"}}, "settings.start"),
    ({"data": {"extra_zeros": 0.2}, "colour": "red"}, "colour"),
])
def test_apply_settings_all_or_nothing(state, settings, field):
    state.step(7)
    before = _snapshot(state)
    with pytest.raises(LabError) as info:
        state.apply_settings(settings)
    assert field in str(info.value)
    assert _snapshot(state) == before


def test_apply_settings_resets_what_the_stage_does_not_name(state):
    state.apply_settings({"data": {"extra_zeros": 0.7, "seed": 3},
                          "training": {"method": "newton", "train_poisson": False},
                          "view": {"covariate": 0, "histogram": "rootogram"}})
    assert state.data_params["extra_zeros"] == 0.7
    assert state.training["method"] == "newton"
    state.step(2)
    state.apply_settings({})
    assert state.data_params == {"extra_zeros": 0.4, "count_strength": 1.0, "n": 1000, "seed": 7}
    assert state.training["method"] == "gradient" and state.training["train_poisson"]
    assert state.view == {"covariate": 1, "histogram": "bars", "zero_view": "probability"}
    assert state.steps == dict.fromkeys(PARTS, 0)


def test_apply_settings_emits_each_event_once(state):
    seen = _recorder(state)
    state.apply_settings({"data": {"n": 500}})
    names = [n for n, _ in seen if n != "status"]
    for name in ("data", "model", "settings", "view"):
        assert names.count(name) == 1, name


def test_generate_with_sliders(state):
    seen = _recorder(state)
    state.generate(extra_zeros=0.0)
    assert state.data_params["extra_zeros"] == 0.0
    zeros_none = state.report()["data"]["zero_share"]
    state.generate(extra_zeros=0.8, count_strength=2.0)
    assert state.report()["data"]["zero_share"] > zeros_none + 0.5
    assert state.report()["data"]["params"]["count_strength"] == 2.0
    assert "data" in [n for n, _ in seen]
    before = _snapshot(state)
    with pytest.raises(LabError, match="count_strength"):
        state.generate(count_strength=2.5)
    with pytest.raises(LabError, match="unknown field"):
        state.generate(share=0.3)
    assert _snapshot(state) == before


def test_set_view_and_training_validate(state):
    before = _snapshot(state)
    with pytest.raises(LabError, match="zero_view"):
        state.set_view(zero_view="loss")
    with pytest.raises(LabError, match="steps_per_frame"):
        state.set_training(steps_per_frame=0)
    assert _snapshot(state) == before
    state.set_view(covariate=0, zero_view="residual")
    assert state.figures().zero.index == 0


# --------------------------------------------------------------------------- files
def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _csv_rows(n=60, seed=0):
    data = H.make_doctor_visits(n, seed=seed)
    return [f"{a:g},{c:g},{int(y)}" for (a, c), y in zip(data.X.tolist(), data.counts.tolist())]


def test_csv_loads(state, tmp_path):
    path = _write(tmp_path, "visits.csv", "age,chronic,visits\n" + "\n".join(_csv_rows()) + "\n")
    state.load_csv(path)
    assert state.data.source == "visits.csv"
    assert state.data.n == 60
    assert state.data.feature_names == ("age", "chronic")
    assert state.report()["data"]["params"] is None
    assert "Loaded visits.csv" in state.status_message


def test_csv_count_column_named_in_header(tmp_path):
    rows = [r.split(",") for r in _csv_rows()]
    text = "count,age,chronic\n" + "\n".join(f"{c},{a},{b}" for a, b, c in rows)
    data = read_counts_csv(_write(tmp_path, "c.csv", text))
    assert data.count_name == "count"
    assert data.feature_names == ("age", "chronic")


@pytest.mark.parametrize("bad, message", [
    ("-1", "line 5, column 3: count -1 is negative"),
    ("2.5", "line 5, column 3: count 2.5 is not a whole number"),
    ("abc", "line 5, column 3"),
])
def test_csv_bad_counts_refused_with_line_and_column(state, tmp_path, bad, message):
    rows = _csv_rows()
    rows[3] = rows[3].rsplit(",", 1)[0] + "," + bad
    path = _write(tmp_path, "bad.csv", "age,chronic,visits\n" + "\n".join(rows) + "\n")
    before = _snapshot(state)
    with pytest.raises(DataFileError) as info:
        state.load_csv(path)
    assert message in str(info.value)
    assert _snapshot(state) == before


@pytest.mark.parametrize("text, message", [
    ("a,b\n1,2\n3,4\n", "three"),
    ("age,chronic,visits\n" + "\n".join(f"{i},{i % 3},0" for i in range(30)), "both zeros"),
    ("age,chronic,visits\n" + "\n".join(f"{i},1,{i % 3}" for i in range(30)), "constant"),
    ("age,chronic,visits\n1,2,0\n2,3,1\n", "10"),
])
def test_csv_unusable_files_refused(state, tmp_path, text, message):
    before = _snapshot(state)
    with pytest.raises(DataFileError, match=message):
        state.load_csv(_write(tmp_path, "f.csv", text))
    assert _snapshot(state) == before


# --------------------------------------------------------------------------- figures
def test_figures_cached_per_version(state):
    a = state.figures()
    assert state.figures() is a
    state.step(1)
    b = state.figures()
    assert b is not a and b.version != a.version
    state.set_view(covariate=0)
    assert state.figures() is not b


def test_histogram_figures(state):
    state.fit_now()
    h = state.figures().histogram
    obs = np.bincount(state.data.counts.astype(int))
    K = min(int(state.data.counts.max()), HIST_MAX)
    np.testing.assert_array_equal(h.observed, obs[:K + 1])
    assert h.hurdle[0] == pytest.approx(obs[0], rel=1e-6)  # the zero part matches the zeros
    assert h.poisson[0] < 0.7 * obs[0]
    assert h.poisson[1] > 1.5 * obs[1]
    assert h.observed.sum() + h.tail_observed == state.data.n
    np.testing.assert_allclose(h.hang_poisson, np.sqrt(h.poisson) - np.sqrt(h.observed))


def test_zero_and_count_part_figures(state):
    state.fit_now()
    f = state.figures()
    z = f.zero
    assert z.index == 1  # chronic conditions by default
    y = (state.data.counts > 0).astype(float)
    np.testing.assert_allclose(z.residual, z.p - y, atol=1e-15)
    np.testing.assert_allclose(z.bce, -(y * np.log(z.p) + (1 - y) * np.log1p(-z.p)), rtol=1e-9)
    assert z.mean_residual == pytest.approx(0.0, abs=1e-6)  # the bias's score at the fit
    assert np.all(np.diff(z.curve) > 0)  # more conditions, more likely to visit
    chronic = state.data.X[:, 1]
    for x, share in zip(z.bin_x, z.bin_share):
        assert share == pytest.approx(y[chronic == x].mean())
    c = f.count
    assert np.all(c.truncated_mean >= 1.0)
    assert c.counts.min() >= 1
    pos = state.data.counts > 0
    for x, m in zip(c.bin_x, c.bin_mean):
        assert m == pytest.approx(state.data.counts[pos & (chronic == x)].mean())
    state.set_view(covariate=0)
    assert state.figures().zero.bin_x.size == 8  # ages in 8 equal-width bins


def test_figures_finite_everywhere(state):
    state.generate(extra_zeros=0.9, count_strength=2.0)
    state.set_training(lr=10.0)
    state.step(20)
    f = state.figures()
    for arr in (f.histogram.poisson, f.histogram.hurdle, f.zero.curve, f.zero.bce,
                f.count.truncated_mean, f.count.poisson_mean, *f.history):
        assert np.all(np.isfinite(arr))
    assert all(math.isfinite(v) for v in f.losses.values())


def test_history_is_bounded(state):
    state.set_training(lr=0.001)
    for _ in range(3):
        state.step(500)
    steps = state.figures().history[0]
    assert len(steps) <= 601 and steps[-1] == 1500


# --------------------------------------------------------------------------- sessions
def test_session_round_trip(state, tmp_path):
    state.apply_settings({"data": {"extra_zeros": 0.6, "seed": 11},
                          "view": {"covariate": 0}})
    state.step(17)
    payload = json.loads(json.dumps(state.to_dict()))
    other = HurdleState()
    other.restore(payload)
    a, b = state.report(), other.report()
    np.testing.assert_allclose(a["hurdle"]["zero_w"], b["hurdle"]["zero_w"], rtol=1e-12)
    assert a["hurdle"]["loglik"] == pytest.approx(b["hurdle"]["loglik"], rel=1e-12)
    assert a["steps"] == b["steps"]
    assert other.view["covariate"] == 0


def test_session_round_trip_with_a_file(state, tmp_path):
    path = _write(tmp_path, "v.csv", "age,chronic,visits\n" + "\n".join(_csv_rows(80)))
    state.load_csv(path)
    state.step(5)
    other = HurdleState()
    other.restore(json.loads(json.dumps(state.to_dict())))
    assert other.data.source == "v.csv"
    np.testing.assert_array_equal(other.data.counts, state.data.counts)
    assert other.report()["hurdle"]["loglik"] == pytest.approx(state.report()["hurdle"]["loglik"],
                                                               rel=1e-12)


@pytest.mark.parametrize("mutate, word", [
    (lambda p: p.update(colour=1), "unknown field"),
    (lambda p: p["weights"]["zero"].update(w=[1.0]), "hurdle.weights.zero.w"),
    (lambda p: p["weights"]["count"].update(b="x"), "hurdle.weights.count.b"),
    (lambda p: p["training"].update(method="sgd"), "hurdle.training.method"),
    (lambda p: p.update(file={"X": [[1, 2]] * 20, "counts": [1.5] * 20}), "hurdle.file.counts"),
    (lambda p: p["steps"].update(zero=-2), "hurdle.steps.zero"),
])
def test_restore_refuses_bad_payloads(state, mutate, word):
    state.step(3)
    payload = json.loads(json.dumps(state.to_dict()))
    mutate(payload)
    before = _snapshot(state)
    with pytest.raises(LabError, match=word.replace(".", r"\.")):
        state.restore(payload)
    assert _snapshot(state) == before


def test_gradient_tolerance_is_reachable():
    """Every part's gradient steps get below GRAD_TOL from the default start (no rounding floor)."""
    state = HurdleState()
    state.step(5000)
    assert all(state.converged.values())
    for part in PARTS:
        w, b = state.params[part]
        g = H.part_gradient(part, state._prep.Xs, state.data.counts, w, b)
        assert max(np.max(np.abs(g[0])), abs(g[1])) < GRAD_TOL


# --------------------------------------------------------------------------- stage captions
def _stage_state(stage_id):
    from bceviz.model import stages

    stage = stages.get_stage(stage_id)
    state = HurdleState()
    state.apply_settings(dict(stage.settings))
    return stage, state


def test_caption_too_many_zeros_agrees_with_the_numbers():
    stage, state = _stage_state("hurdle-too-many-zeros")
    r = state.report()
    h = state.figures().histogram
    assert "1,000 synthetic people" in stage.caption and r["data"]["n"] == 1000
    assert "46 % never went" in stage.caption and round(100 * r["data"]["zero_share"]) == 46
    assert "about 263" in stage.caption and round(h.poisson[0]) == 263
    assert "460 zeros exactly" in stage.caption and h.observed[0] == 460
    assert round(h.hurdle[0], 6) == 460
    assert h.poisson[1] > 2 * h.observed[1]  # "too many with one"
    assert r["hurdle"]["loglik"] > r["poisson"]["loglik"]
    # "with no extra zeros plain Poisson fits about as well as the hurdle"
    state.generate(extra_zeros=0.0)
    h0 = state.figures().histogram
    assert abs(h0.poisson[0] - h0.observed[0]) < 0.15 * h0.observed[0]
    ll = state.report()
    gap0 = ll["hurdle"]["loglik"] - ll["poisson"]["loglik"]
    assert gap0 < 3.0  # less than its 3 extra parameters buy: AIC would keep plain Poisson
    assert r["hurdle"]["loglik"] - r["poisson"]["loglik"] > 200


def test_caption_yes_no_first_agrees_with_the_numbers():
    stage, state = _stage_state("hurdle-yes-no-first")
    assert state.trained_parts() == ("zero",)
    assert state.converged == dict.fromkeys(PARTS, False)
    count_before = state.figures().weights["count"]
    state.step(10**6)
    f = state.figures()
    assert f.converged["zero"]
    assert abs(f.zero.mean_residual) < 1e-5  # "the mean of p − y is 0"
    assert "460" in stage.caption and round(f.histogram.hurdle[0]) == 460
    np.testing.assert_array_equal(f.weights["count"][0], count_before[0])  # already fitted


def test_caption_two_losses_agrees_with_the_numbers():
    stage, state = _stage_state("hurdle-two-losses")
    count_loss = state.figures().losses["count"]
    state.step(200)
    assert state.figures().losses["count"] == count_loss  # "does not move by a digit"
    state.set_training(train_count=True)
    state.step(10**6)
    f = state.figures()
    assert "1.590 nats per person" in stage.caption and f"{f.losses['total']:.3f}" == "1.590"
    assert "1.851" in stage.caption and f"{f.losses['poisson']:.3f}" == "1.851"
