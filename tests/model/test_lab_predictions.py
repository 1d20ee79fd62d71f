"""The predictions lab without Qt: the reader of model outputs, the figures, settings, sessions.

* The reader: CSV (comma, semicolon, tab; header optional; quotes, comments,
  blank lines, CRLF, a byte-order mark), .npy and .npz; columns by name, by
  number or by the values; bad files refused with file, line and column, and
  the state unchanged; the row limit stated; progress and cancellation.
* The bundled demo equals what ``demo_predictions`` makes.
* The figures keep scikit-learn's numbers (AUC, AP, Brier, reliability bins,
  log loss with probabilities of 0 and 1 at its cap), the engine's (T, shares,
  pulls, best threshold), and are cached per group.
* The state: settings validated all or nothing, stages keep a user's file,
  sessions round-trip (a file is read again), the worst examples export,
  the worker hand-over keeps only the newest figures.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from sklearn.calibration import calibration_curve as sk_calibration_curve
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)

import bceviz.model.prediction_files as pf
from bceviz.engine import metrics
from bceviz.engine.losses import LossSpec, framework_loss_from_probs, loss_from_logits, sigmoid
from bceviz.engine.predictions import pull_split, temperature_scale, worst_shares
from bceviz.model.datafiles import DataFileError
from bceviz.model.labs import get_lab
from bceviz.model.labs.base import LabError
from bceviz.model.labs.predictions import (
    DATASET_KEYS,
    PredictionsState,
    Settings,
    compute_figures,
    demo_data,
    settings_from,
)
from bceviz.model.prediction_files import (
    MAX_ROWS,
    ReadOptions,
    demo_csv_text,
    demo_predictions,
    looks_like_model_outputs,
    read_model_outputs,
)
from bceviz.resources import resource_path

REPORT_KEYS = {"mean_loss", "worst_1pct_share", "ece", "brier", "temperature", "auc", "ap"}


def write(tmp_path, name: str, text: str, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def snapshot(state):
    return json.dumps(state.to_dict(), sort_keys=True), json.dumps(state.report(), sort_keys=True)


def outputs(seed: int, n: int, confidence: float = 2.0):
    rng = np.random.default_rng(seed)
    true = rng.normal(0.0, 2.0, n)
    y = (rng.random(n) < sigmoid(true)).astype(float)
    return confidence * true, y


# --------------------------------------------------------------------------- the reader


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_csv_with_a_header_in_any_separator(tmp_path, sep):
    text = sep.join(["id", "logit", "label", "split"]) + "\n" + "\n".join(
        sep.join(row) for row in [["a", "1.5", "1", "train"], ["b", "-2", "0", "Validation"],
                                  ["c", "0.25", "1", "TEST"]]) + "\n"
    out = read_model_outputs(write(tmp_path, "p.csv", text))
    assert out.kind == "logit" and "logit" in out.kind_reason
    np.testing.assert_array_equal(out.scores, [1.5, -2.0, 0.25])
    np.testing.assert_array_equal(out.labels, [1, 0, 1])
    np.testing.assert_array_equal(out.split, [0, 1, 2])
    assert [v.decode() for v in out.ids] == ["a", "b", "c"]
    assert out.columns == {"score": "logit", "label": "label", "split": "split", "id": "id"}


def test_probabilities_by_name_or_by_values_and_what_the_user_says(tmp_path):
    by_name = read_model_outputs(write(tmp_path, "a.csv", "prob,y\n0.2,0\n1,1\n0,1\n"))
    assert by_name.kind == "prob" and by_name.columns["label"] == "y"
    ambiguous = read_model_outputs(write(tmp_path, "b.csv", "score,target\n0.2,0\n0.9,1\n"))
    assert ambiguous.kind == "prob" and "[0, 1]" in ambiguous.kind_reason
    logits = read_model_outputs(write(tmp_path, "c.csv", "score,target\n0.2,0\n3.5,1\n"))
    assert logits.kind == "logit"
    # the user says these are logits (values in [0, 1] notwithstanding)
    said = read_model_outputs(write(tmp_path, "d.csv", "score,target\n0.2,0\n0.9,1\n"),
                              ReadOptions(kind="logit"))
    assert said.kind == "logit" and said.kind_reason == "you said so"
    # and which column is which, by name or number
    chosen = read_model_outputs(write(tmp_path, "e.csv", "a,b,c\n0.5,1,3\n0.1,0,4\n"),
                                ReadOptions(kind="prob", score="a", label=2))
    np.testing.assert_array_equal(chosen.scores, [0.5, 0.1])
    assert chosen.columns == {"score": "a", "label": "b"} and "ignored column 'c'" in chosen.notes


def test_csv_without_a_header_quotes_comments_crlf_and_bom(tmp_path):
    text = "\ufeff# model v3 outputs\r\n\r\n-1.25\t0\tval\tcase 1\r\n2.5\t1\ttrain\tcase 2\r\n"
    out = read_model_outputs(write(tmp_path, "p.tsv", text))
    assert out.kind == "logit"
    np.testing.assert_array_equal(out.scores, [-1.25, 2.5])
    np.testing.assert_array_equal(out.split, [1, 0])
    assert [v.decode() for v in out.ids] == ["case 1", "case 2"]
    quoted = read_model_outputs(write(tmp_path, "q.csv",
                                      'id,prob,label\n"a, the first",0.5,1\n# c\n\nb,0.25,0\n'))
    assert [v.decode() for v in quoted.ids] == ["a, the first", "b"]
    np.testing.assert_array_equal(quoted.scores, [0.5, 0.25])
    # non-ASCII ids are kept as text
    accents = read_model_outputs(write(tmp_path, "u.csv", "id,logit,label\nété,1,1\nnoël,-1,0\n"))
    assert list(accents.ids) == ["été", "noël"]


BAD_FILES = [
    ("logit,label\n1,0\nabc,1\n", 3, 1, "'abc' is not a number"),
    ("prob,label\n0.2,0\n1.5,1\n", 3, 1, "outside [0, 1]"),
    ("logit,label\n1,0\n2,1.5\n", 3, 2, "label '1.5' is outside [0, 1]"),
    ("logit,label\n1,0\n2,1,7\n", 3, 3, "row has 3 fields; expected 2"),
    ("logit,label\n1,0\nnan,1\n", 3, 1, "NaN is not allowed"),
    ("logit,label\n1,0\n1e9,1\n", 3, 1, "beyond ±1e+06"),
    ("logit,label,split\n1,0,train\n2,1,holdout\n", 3, 3, "not a split"),
    ("logit,label\n1,0\n1_0,1\n", 3, 1, "is not a number"),
    ("logit;label\n1;0\n1,5;1\n", 3, 1, "decimal comma"),
    ('logit,label\n1,0\n"2",1\n"x",0\n', 4, 1, "'x' is not a number"),
]


@pytest.mark.parametrize("text,line,column,message", BAD_FILES)
def test_bad_files_are_refused_with_line_and_column_and_nothing_changes(tmp_path, text, line,
                                                                         column, message):
    path = write(tmp_path, "bad.csv", text)
    state = PredictionsState()
    before = snapshot(state)
    with pytest.raises(DataFileError) as info:
        state.load_data_file(path)
    err = info.value
    assert (err.line, err.column) == (line, column), str(err)
    assert message in err.message
    assert str(err).startswith(f"bad.csv, line {line}, column {column}: ")
    assert snapshot(state) == before


@pytest.mark.parametrize("text,message", [
    ("", "file is empty"),
    ("# only a comment\n", "no data rows"),
    ("logit,label\n", "no data rows"),
    ("a,b\n1,0\n", "no score column"),
    ("logit,b\n1,0\n", "no label column"),
    ("1,0,5\n2,1,6\n", "numeric columns and no header"),
    ("logit,logit\n1,0\n", "duplicate column name"),
    ("0.5\n0.2\n", "found 1 column"),
])
def test_files_without_what_is_needed_are_refused(tmp_path, text, message):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(DataFileError, match=message):
        read_model_outputs(path)


def test_binary_folders_and_missing_files_are_refused(tmp_path):
    (tmp_path / "bin.csv").write_bytes(b"logit,label\n\x00\x01")
    with pytest.raises(DataFileError, match="NUL"):
        read_model_outputs(tmp_path / "bin.csv")
    with pytest.raises(DataFileError, match="folder"):
        read_model_outputs(tmp_path)
    with pytest.raises(DataFileError, match="not found"):
        read_model_outputs(tmp_path / "nope.csv")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.csv")
        with pytest.raises(DataFileError, match="regular"):
            read_model_outputs(tmp_path / "fifo.csv")


def test_more_rows_than_the_limit_are_refused_stating_it(tmp_path, monkeypatch):
    monkeypatch.setattr(pf, "MAX_ROWS", 50)
    path = write(tmp_path, "big.csv", "logit,label\n" + "1.0,1\n" * 51)
    with pytest.raises(DataFileError, match="more than 50 data rows \\(the limit\\); the file "
                                           "has 51"):
        read_model_outputs(path)
    assert read_model_outputs(write(tmp_path, "ok.csv", "logit,label\n" + "1.0,1\n" * 50)).n == 50
    np.save(tmp_path / "big.npy", np.zeros((51, 2)))
    with pytest.raises(DataFileError, match="51 rows; the limit is 50"):
        read_model_outputs(tmp_path / "big.npy")
    assert MAX_ROWS == 1_000_000


def test_numpy_files(tmp_path):
    np.save(tmp_path / "a.npy", np.array([[0.1, 1, 2], [0.7, 0, 1]]))
    a = read_model_outputs(tmp_path / "a.npy")
    assert a.kind == "prob" and list(a.split) == [2, 1]
    np.savez(tmp_path / "b.npz", logits=np.array([1.0, -2.0]), y=np.array([1, 0]),
             split=np.array(["train", "test"]), id=np.array([5, 6]), extra=np.arange(2))
    b = read_model_outputs(tmp_path / "b.npz")
    assert b.kind == "logit" and list(b.split) == [0, 2]
    assert [v.decode() for v in b.ids] == ["5", "6"] and "ignored column 'extra'" in b.notes
    np.save(tmp_path / "c.npy", np.array([(0.2, 1), (0.3, 0)],
                                         dtype=[("prob", "f8"), ("label", "i4")]))
    assert read_model_outputs(tmp_path / "c.npy").kind == "prob"
    np.save(tmp_path / "d.npy", np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(DataFileError, match="never unpickles"):
        read_model_outputs(tmp_path / "d.npy")
    np.savez(tmp_path / "e.npz", prob=np.array([0.2, 1.2]), label=np.array([1, 0]))
    with pytest.raises(DataFileError, match="array 'prob', row 2: probability"):
        read_model_outputs(tmp_path / "e.npz")
    np.savez(tmp_path / "f.npz", logit=np.array([0.2, 1.2, 3]), label=np.array([1, 0]))
    with pytest.raises(DataFileError, match="different lengths"):
        read_model_outputs(tmp_path / "f.npz")
    np.save(tmp_path / "g.npy", np.zeros((3, 5)))
    with pytest.raises(DataFileError, match="expected \\(n, 2\\) or \\(n, 3\\)"):
        read_model_outputs(tmp_path / "g.npy")
    (tmp_path / "h.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataFileError, match="npz"):
        read_model_outputs(tmp_path / "h.npz")


def test_progress_rises_and_false_cancels(tmp_path, monkeypatch):
    monkeypatch.setattr(pf, "_CHUNK_CHARS", 2000)
    logits, labels = outputs(1, 3000)
    text = "logit,label\n" + "".join(f"{z!r},{int(y)}\n" for z, y in zip(logits.tolist(), labels.tolist()))
    path = write(tmp_path, "p.csv", text)
    seen = []
    out = read_model_outputs(path, progress=lambda f: seen.append(f))
    assert out.n == 3000 and len(seen) > 5 and seen == sorted(seen) and seen[-1] == 1.0
    np.testing.assert_array_equal(out.scores, logits)
    state = PredictionsState()
    before = snapshot(state)
    with pytest.raises(DataFileError, match="cancelled"):
        state.load_data_file(path, progress=lambda f: f < 0.3)
    assert snapshot(state) == before


def test_a_bad_row_after_good_chunks_is_found_where_it_is(tmp_path, monkeypatch):
    monkeypatch.setattr(pf, "_CHUNK_CHARS", 500)
    rows = [f"{k * 0.01!r},{k % 2}" for k in range(400)]
    rows[321] = "0.5,7"
    path = write(tmp_path, "p.csv", "logit,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataFileError) as info:
        read_model_outputs(path)
    assert (info.value.line, info.value.column) == (323, 2)


def test_looks_like_model_outputs(tmp_path):
    assert looks_like_model_outputs(write(tmp_path, "a.csv", "id,prob,label\n1,0.2,0\n"))
    assert looks_like_model_outputs(write(tmp_path, "b.csv", "logit;y\n1;0\n"))
    assert not looks_like_model_outputs(write(tmp_path, "c.csv", "x1,x2,label\n1,2,0\n"))
    assert not looks_like_model_outputs(write(tmp_path, "d.csv", "0.2,1\n"))
    assert not looks_like_model_outputs(resource_path("data", "breast_cancer_wisconsin.csv"))
    assert not looks_like_model_outputs(tmp_path / "missing.csv")
    np.save(tmp_path / "e.npy", np.zeros((2, 2)))
    assert looks_like_model_outputs(tmp_path / "e.npy")


def test_the_bundled_demo_is_what_demo_predictions_makes():
    for name, multiplier, _title in pf.DEMO_FILES.values():
        shipped = read_model_outputs(resource_path("data", name))
        ids, logits, labels, split = demo_predictions(multiplier)
        np.testing.assert_allclose(shipped.scores, logits, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(shipped.labels, labels)
        np.testing.assert_array_equal(shipped.split, split)
        assert [int(v) for v in shipped.ids] == ids.tolist()
        assert shipped.n == 569 and int(labels.sum()) == 212
        assert demo_csv_text(multiplier).splitlines()[3] == "id,logit,label,split"
    cv = read_model_outputs(resource_path("data", pf.DEMO_FILES["breast_cancer_cv"][0]))
    over = read_model_outputs(resource_path("data", pf.DEMO_FILES["breast_cancer_overconfident"][0]))
    np.testing.assert_allclose(over.scores, 3 * cv.scores, rtol=1e-12)
    assert set(DATASET_KEYS) == set(pf.DEMO_FILES)


# --------------------------------------------------------------------------- the figures


def test_figures_keep_scikit_learn_parity_on_the_demo():
    state = PredictionsState()
    f = state.figures()
    d = state.data
    y, z = d.labels, d.scores
    p = sigmoid(z)
    assert f.ranking.auc == pytest.approx(roc_auc_score(y, z), rel=1e-12)
    assert f.ranking.auc == pytest.approx(metrics.roc_auc(y, z), rel=1e-14)
    assert f.ranking.ap == pytest.approx(average_precision_score(y, z), rel=1e-12)
    assert f.ranking.ap == pytest.approx(metrics.average_precision(y, z), rel=1e-14)
    assert f.ranking.brier == pytest.approx(brier_score_loss(y, p), rel=1e-12)
    assert f.anatomy.mean_loss == pytest.approx(log_loss(y, p), rel=1e-9)
    # the reliability diagram: scikit-learn's uniform bins, before and after T on test
    c = f.calibration
    test, val = d.split == 2, d.split == 1
    prob_true, prob_pred = sk_calibration_curve(y[test], p[test], n_bins=10, strategy="uniform")
    np.testing.assert_allclose(c.before.fraction_positive, prob_true, rtol=1e-12)
    np.testing.assert_allclose(c.before.mean_predicted, prob_pred, rtol=1e-12)
    T = temperature_scale(z[val], y[val])
    assert c.temperature == pytest.approx(T, rel=1e-12)
    assert c.loss_after == pytest.approx(log_loss(y[test], sigmoid(z[test] / T)), rel=1e-9)
    prob_true, _ = sk_calibration_curve(y[test], sigmoid(z[test] / T), n_bins=10)
    np.testing.assert_allclose(c.after.fraction_positive, prob_true, rtol=1e-12)
    assert (c.fit_rows, c.report_rows, c.n_fit, c.n_report) == ("validation", "test", 228, 341)


def test_the_over_confident_demo_is_fixed_by_temperature_scaling():
    state = PredictionsState()
    state.apply_settings({"dataset": "breast_cancer_overconfident"})
    c = state.figures().calibration
    assert c.temperature == pytest.approx(2.858, abs=5e-4)
    assert c.loss_before == pytest.approx(0.1393, abs=5e-5)
    assert c.loss_after == pytest.approx(0.0771, abs=5e-5)
    assert c.after.ece < c.before.ece
    cv = PredictionsState().figures().calibration
    # T undoes the × 3: the calibrated test loss equals the cross-validated copy's
    assert c.loss_after == pytest.approx(cv.loss_after, rel=1e-9)


def test_anatomy_shares_and_the_worst_table():
    state = PredictionsState()
    a = state.figures().anatomy
    d = state.data
    loss = loss_from_logits(d.scores, d.labels)
    assert [w[2] for w in a.worst] == pytest.approx(list(worst_shares(loss)), rel=1e-12)
    assert [w[1] for w in a.worst] == [6, 29, 57]
    assert a.worst[0][2] == pytest.approx(0.4806, abs=5e-5)
    assert a.hist_negative.sum() + a.hist_positive.sum() == 569
    assert a.hist_positive.sum() == 212
    assert np.all(np.diff(a.curve.shares) >= 0)
    top = a.table
    assert [r.rank for r in top[:3]] == [1, 2, 3]
    assert all(top[k].loss >= top[k + 1].loss for k in range(len(top) - 1))
    # the worst row points back at the file: its id, score and label
    shipped = read_model_outputs(resource_path("data", pf.DEMO_FILES["breast_cancer_cv"][0]))
    worst = top[0]
    assert worst.loss == pytest.approx(float(loss.max()), rel=1e-12)
    assert int(worst.id) == worst.row
    assert shipped.scores[worst.row - 1] == worst.score
    assert shipped.labels[worst.row - 1] == worst.label
    assert sum(r.share for r in top) <= 1.0


def test_probabilities_of_zero_and_one_meet_the_chosen_cap(tmp_path):
    rng = np.random.default_rng(4)
    p = np.round(rng.random(300), 2)  # exact 0.0 and 1.0 among them
    p[:4] = [0.0, 1.0, 0.0, 1.0]
    y = (rng.random(300) < 0.5).astype(int)
    y[:4] = [1, 0, 0, 1]
    path = write(tmp_path, "p.csv", "prob,label\n" + "".join(f"{a!r},{b}\n" for a, b in zip(p.tolist(), y.tolist())))
    state = PredictionsState()
    state.load_data_file(path)
    assert state.data.n_extreme == int(np.count_nonzero((p == 0) | (p == 1)))
    assert state.figures().anatomy.mean_loss == pytest.approx(log_loss(y, p), rel=1e-9)
    state.update(cap="pytorch")
    # PyTorch's BCELoss figure (tests/engine/test_predictions.py checks it against torch)
    ref = float(np.mean(framework_loss_from_probs(p, y, "pytorch")))
    assert state.figures().anatomy.mean_loss == pytest.approx(ref, rel=1e-9)
    assert state.figures().anatomy.max_loss == pytest.approx(100.0, rel=1e-12)
    assert state.figures().anatomy.n_capped >= 2
    assert "cap" in state.loaded_message()


def test_threshold_and_the_best_threshold_chosen_on_validation_reported_on_test():
    state = PredictionsState()
    state.update(threshold=0.3, rule="cost", cost_ratio=5.0)
    f = state.figures()
    d = state.data
    p = sigmoid(d.scores)
    assert (f.threshold.tn, f.threshold.fp, f.threshold.fn, f.threshold.tp) == \
        metrics.confusion(d.labels, p, 0.3)
    val, test = d.split == 1, d.split == 2
    t, value = metrics.best_threshold(d.labels[val], p[val], "cost", cost_fn=5.0, cost_fp=1.0)
    assert f.best.threshold == t and f.best.value_fit == pytest.approx(value)
    tn, fp, fn, tp = metrics.confusion(d.labels[test], p[test], t)
    assert f.best.cost_report == pytest.approx((5 * fn + fp) / test.sum())
    assert f.best.f1_report == pytest.approx(2 * tp / (2 * tp + fp + fn))


def test_pulls_under_a_setting_against_plain():
    state = PredictionsState()
    state.update(focal_gamma=2.0, easy_cut=0.6)
    pl = state.figures().pulls
    d = state.data
    ref = pull_split(d.scores, d.labels, LossSpec(focal_gamma=2.0), easy_cut=0.6)
    assert pl.setting.total == pytest.approx(ref.total, rel=1e-12)
    assert pl.setting.share("hard") == pytest.approx(ref.share("hard"), rel=1e-12)
    assert pl.setting.share("hard") > pl.plain.share("hard")
    # the curves: plain BCE pulls 1 − p_t, focal much less on easy examples
    np.testing.assert_allclose(pl.pull_positive_plain, 1 - pl.p_true, rtol=1e-9)
    assert pl.pull_positive_setting[-1] < 0.01 * pl.pull_positive_plain[-1]


def test_figures_are_cached_per_group():
    data = demo_data("breast_cancer_cv", version=7)
    settings = Settings()
    first, cache = compute_figures(data, settings)
    second, cache2 = compute_figures(data, settings_from({"threshold": 0.2}, settings, "s"), cache)
    assert second.ranking is first.ranking and second.anatomy is first.anatomy
    assert second.calibration is first.calibration
    assert second.threshold is not first.threshold
    assert set(second.timings) == {"threshold"}
    third, cache3 = compute_figures(data, settings_from({"bins": 15}, settings, "s"), cache2)
    assert third.anatomy is first.anatomy and third.calibration is not first.calibration
    assert third.calibration.temperature == first.calibration.temperature
    # the ECE computed from the curve is the metric's
    y, p = data.hard, sigmoid(data.scores)
    assert third.ranking.ece == pytest.approx(metrics.expected_calibration_error(y, p, 15),
                                              rel=1e-14)
    assert first.calibration.before.ece == pytest.approx(metrics.expected_calibration_error(
        y[data.split == 2], p[data.split == 2], 10), rel=1e-14)
    # switching the rows to a split and back: the second way is free
    test, cache4 = compute_figures(data, settings_from({"rows": "test"}, settings, "s"), cache3)
    assert test.anatomy.n == 341 and "anatomy" in test.timings
    back, _ = compute_figures(data, settings_from({"bins": 15}, settings, "s"), cache4)
    assert back.anatomy is first.anatomy and back.timings == {}


def test_soft_labels_and_one_class_rows(tmp_path):
    logits, _ = outputs(5, 200)
    soft = sigmoid(logits / 2.0)
    path = write(tmp_path, "s.csv", "logit,label\n" + "".join(
        f"{z!r},{y!r}\n" for z, y in zip(logits.tolist(), soft.tolist())))
    state = PredictionsState()
    state.load_data_file(path)
    f = state.figures()
    assert state.data.soft and "soft labels" in state.loaded_message()
    assert f.calibration.temperature == pytest.approx(2.0, rel=1e-6)
    assert f.ranking.auc is not None
    one = write(tmp_path, "o.csv", "logit,label\n1,1\n2,1\n-1,1\n")
    state.load_data_file(one)
    report = state.report()
    json.dumps(report, allow_nan=False)
    assert report["auc"] is None and state.figures().ranking.problem
    assert report["temperature"] is None or report["temperature"] > 0


# --------------------------------------------------------------------------- the state


def test_registered_and_reports_what_the_issue_asks():
    info = get_lab("predictions")
    assert info.gui_module == "bceviz.gui.labs.predictions"
    state = info.state_factory()
    assert isinstance(state, PredictionsState)
    assert not state.can_train() and state.step(100) == 0
    report = state.report()
    json.dumps(report, allow_nan=False)
    assert REPORT_KEYS <= set(report)
    assert all(isinstance(report[k], float) for k in REPORT_KEYS)


@pytest.mark.parametrize("bad", [
    {"threshold": 1.5}, {"rows": "holdout"}, {"cap": "tensorflow"}, {"bins": 2},
    {"focal_gamma": -1}, {"q": 0.0}, {"dataset": "nope"}, {"seed": 1.5}, {"typo": 1},
    {"threshold": 0.2, "cost_ratio": 0},
])
def test_refused_settings_change_nothing(bad):
    state = PredictionsState()
    state.update(threshold=0.4)
    before = snapshot(state)
    with pytest.raises(LabError):
        state.apply_settings(bad)
    with pytest.raises(LabError):
        state.update(**{k: v for k, v in bad.items() if k != "dataset"} or {"typo": 1})
    assert snapshot(state) == before


def test_rows_that_the_data_lacks_are_refused(tmp_path):
    state = PredictionsState()
    state.load_data_file(write(tmp_path, "p.csv", "logit,label\n1,1\n-1,0\n"))
    with pytest.raises(LabError, match="no test rows"):
        state.update(rows="test")
    state.apply_settings({"dataset": "breast_cancer_cv", "rows": "test"})
    assert state.figures().anatomy.n == 341


def test_a_stage_without_a_dataset_keeps_the_users_file(tmp_path):
    path = write(tmp_path, "mine.csv", "logit,label\n1,1\n-1,0\n2,0\n")
    state = PredictionsState()
    state.load_data_file(path)
    state.apply_settings({"focal_gamma": 2.0})
    assert state.data.n == 3 and state.source.path == os.fspath(path)
    state.apply_settings({"dataset": "breast_cancer_overconfident"})
    assert state.data.n == 569 and state.source.path is None


def test_sessions_round_trip_demo_and_file(tmp_path):
    state = PredictionsState()
    state.apply_settings({"dataset": "breast_cancer_overconfident", "threshold": 0.3,
                          "focal_gamma": 2.0, "rows": "test"})
    payload = json.loads(json.dumps(state.to_dict()))
    other = PredictionsState()
    other.restore(payload)
    assert other.report() == state.report()
    logits, labels = outputs(6, 500)
    path = write(tmp_path, "mine.csv", "logit,label\n" + "".join(
        f"{z!r},{int(y)}\n" for z, y in zip(logits.tolist(), labels.tolist())))
    state.load_data_file(path)
    payload = json.loads(json.dumps(state.to_dict()))
    other = PredictionsState()
    other.restore(payload)
    assert other.report() == state.report()
    os.remove(path)
    third = PredictionsState()
    before = snapshot(third)
    with pytest.raises(LabError, match="predictions.source.path"):
        third.restore(payload)
    assert snapshot(third) == before
    for bad in ({"source": {"dataset": "breast_cancer_cv", "path": "x"}},
                {"settings": {"threshold": 3}}, {"source": {"dataset": "file"}},
                {"read_kind": "odds"}):
        with pytest.raises(LabError):
            third.restore(bad)
    assert snapshot(third) == before


def test_export_of_the_worst_examples(tmp_path):
    state = PredictionsState()
    out = tmp_path / "worst.csv"
    assert state.export_worst(out, 25) == 25
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "rank,row,id,split,score,p,label,loss_nats,share"
    assert len(lines) == 26
    first = lines[1].split(",")
    top = state.figures().anatomy.table[0]
    assert int(first[1]) == top.row and float(first[7]) == top.loss
    assert state.export_worst(out, 500) == 500  # beyond the table: computed afresh
    with pytest.raises(LabError):
        state.export_worst(out, 0)
    with pytest.raises(DataFileError, match="cannot write"):
        state.export_worst(tmp_path / "no" / "such" / "dir.csv", 5)


def test_the_worker_hand_over_shows_the_newest_and_refuses_old_data():
    state = PredictionsState()
    job = state.figure_job()
    figures, cache = compute_figures(job.data, job.settings, job.cache)
    seen = []
    state.events.figures.connect(lambda **_: seen.append(1))
    state.update(threshold=0.2)  # the job is stale now: shown while the next is computed
    assert not state.offer_figures(job.key, figures, cache)
    assert state.latest_figures() is figures and not state.figures_current() and seen == [1]
    job = state.figure_job()
    figures, cache = compute_figures(job.data, job.settings, job.cache)
    assert state.offer_figures(job.key, figures, cache)
    assert state.figures_current() and state.figures() is figures and seen == [1, 1]
    # figures of data no longer on screen are refused
    state.choose_dataset("breast_cancer_overconfident")
    assert not state.offer_figures(job.key, figures, cache)
    assert state.latest_figures() is figures and seen == [1, 1]
    # and a mismatched pair
    job = state.figure_job()
    assert not state.offer_figures(job.key, figures, cache)


def test_events_are_specific():
    state = PredictionsState()
    seen = []
    for name in state.events.names:
        getattr(state.events, name).connect(lambda _n=name, **info: seen.append(_n))
    state.update(threshold=0.3)
    assert seen == ["settings"]
    seen.clear()
    state.choose_dataset("breast_cancer_overconfident")
    assert sorted(seen) == ["data", "settings", "status"]


# --------------------------------------------------------------------------- the stages


def _stage_report(stage_id: str) -> tuple[str, PredictionsState]:
    from bceviz.model import stages

    stage = stages.get_stage(stage_id)
    state = PredictionsState()
    state.apply_settings(dict(stage.settings))
    return stage.caption, state


def test_the_stages_captions_state_what_the_lab_shows():
    caption, state = _stage_report("predictions-where-loss-comes-from")
    r = state.report()
    assert f"{r['n_examples']} breast-cancer tumours" in caption
    assert f"mean loss is {r['mean_loss']:.3f} nats" in caption
    assert f"worst 1 % ({r['worst_1pct_count']} examples) carry {100 * r['worst_1pct_share']:.0f} %" \
        in caption
    assert f"worst 10 % carry {100 * r['worst_10pct_share']:.0f} %" in caption

    caption, state = _stage_report("predictions-overconfident")
    r = state.report()
    assert f"AUC {r['auc']:.3f}" in caption
    cv = PredictionsState().report()
    assert f"rises from {cv['loss_before_temperature']:.3f} to " \
           f"{r['loss_before_temperature']:.3f} nats" in caption
    assert f"the {r['splits']['validation']} validation rows finds T = {r['temperature']:.2f}" \
        in caption
    assert f"test loss back to {r['loss_after_temperature']:.3f}" in caption
    from bceviz.model import stages

    assert f"its T is {cv['temperature']:.2f}" in stages.get_stage("predictions-overconfident").first

    caption, state = _stage_report("predictions-what-if")
    f = state.figures().pulls
    hard = f.plain.counts[2] + f.plain.counts[3]
    assert f"the {hard} hard examples (p_t < {f.plain.easy_cut:g})" in caption
    assert f"pull {100 * f.setting.share('hard'):.0f} % of the total instead of " \
           f"{100 * f.plain.share('hard'):.0f} %" in caption
    assert 0.45 <= f.setting.total / f.plain.total <= 0.55  # "the total pull would halve"
    state.update(focal_gamma=0.0, pos_weight=3.0)
    g = state.figures().pulls
    assert f"positives' share from {100 * g.plain.share('positive'):.0f} % to " \
           f"{100 * g.setting.share('positive'):.0f} %" in caption

    caption, state = _stage_report("predictions-proper-scoring")
    s = state.figures().scoring
    assert f"q = {s.q:g}" in caption and f"({s.entropy:.3f} nats)" in caption
    assert f"Brier score ({s.brier_floor:.2f})" in caption
    caps = {k: v[0] for k, v in s.caps.items()}
    assert f"scikit-learn reports {caps['sklearn']:.1f} nats, Keras {caps['keras']:.1f}, " \
           f"PyTorch {caps['pytorch']:.0f}" in caption
