"""One-vs-rest and softmax: scikit-learn and PyTorch agree; sums, shifts and edge cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from bceviz.engine.multiclass import (
    MulticlassTrainer,
    fit_one_vs_rest,
    fit_softmax,
    one_hot,
    ovr_objective,
    ovr_probabilities,
    softmax_gradient,
    softmax_hessian,
    softmax_objective,
    softmax_probabilities,
    stratified_split,
)
from bceviz.engine.logistic import fit_logistic
from bceviz.engine.multilabel import fit_multilabel

torch.set_default_dtype(torch.float64)

CENTRES = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [0.0, -2.0], [1.5, 1.5]])


def make_data(n=150, K=4, seed=0, spread=1.0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % K
    rng.shuffle(labels)
    X = CENTRES[labels] * 0.7 + rng.normal(scale=spread, size=(n, 2))
    return X, labels


def sklearn_tol():
    return {"tol": 1e-12, "max_iter": 10_000}


@pytest.mark.parametrize("K, lam", [(3, 0.01), (4, 0.1), (5, 0.003)])
def test_one_vs_rest_equals_sklearn(K, lam):
    X, labels = make_data(K=K, seed=K)
    n = len(labels)
    W, b = fit_one_vs_rest(X, labels, K, l2=lam)
    ref = OneVsRestClassifier(LogisticRegression(C=1.0 / (lam * n), **sklearn_tol())).fit(X, labels)
    for k, est in enumerate(ref.estimators_):
        np.testing.assert_allclose(W[:, k], est.coef_[0], atol=1e-6)
        assert b[k] == pytest.approx(est.intercept_[0], abs=1e-6)
    P = ovr_probabilities(X, W, b)
    P_ref = np.column_stack([est.predict_proba(X)[:, 1] for est in ref.estimators_])
    np.testing.assert_allclose(P, P_ref, atol=1e-7)
    # scikit-learn's predict_proba renormalises the rows; the argmax is the same
    np.testing.assert_array_equal(P.argmax(axis=1), ref.predict(X))


def test_one_vs_rest_is_multilabel_on_one_hot_columns():
    X, labels = make_data(K=3, seed=1)
    W, b = fit_one_vs_rest(X, labels, 3, l2=0.02)
    W2, b2 = fit_multilabel(X, one_hot(labels, 3), l2=0.02)
    np.testing.assert_allclose(W, W2, atol=1e-9)
    np.testing.assert_allclose(b, b2, atol=1e-9)
    for k in range(3):  # and each column is fit_logistic's binary fit
        fit = fit_logistic(X, (labels == k).astype(float), l2=0.02)
        np.testing.assert_allclose(W[:, k], fit.w, atol=1e-9)


def test_warm_start_reaches_the_same_optimum():
    X, labels = make_data(K=4, seed=11)
    W, b = fit_one_vs_rest(X, labels, 4, l2=0.01)
    W2, b2 = fit_one_vs_rest(X, labels, 4, l2=0.01, W0=W + 1.0, b0=b - 2.0)
    np.testing.assert_allclose(W2, W, atol=1e-9)
    np.testing.assert_allclose(b2, b, atol=1e-9)


def test_unpenalised_separable_one_vs_rest_stays_finite():
    X, labels = make_data(n=60, K=3, seed=12, spread=0.05)
    W, b = fit_one_vs_rest(X, labels, 3)
    assert np.all(np.isfinite(W)) and np.all(np.isfinite(b))
    assert np.all(ovr_probabilities(X, W, b).argmax(axis=1) == labels)


def test_ovr_rows_need_not_sum_to_one():
    X, labels = make_data(K=4, seed=2)
    W, b = fit_one_vs_rest(X, labels, 4, l2=0.01)
    sums = ovr_probabilities(X, W, b).sum(axis=1)
    assert sums.min() < 0.9 and sums.max() > 1.0


@pytest.mark.parametrize("K, lam", [(3, 0.01), (4, 0.1), (5, 0.001)])
def test_softmax_equals_sklearn_multinomial(K, lam):
    X, labels = make_data(K=K, seed=10 + K)
    n = len(labels)
    W, b = fit_softmax(X, labels, K, l2=lam)
    ref = LogisticRegression(C=1.0 / (lam * n), **sklearn_tol()).fit(X, labels)
    np.testing.assert_allclose(softmax_probabilities(X, W, b), ref.predict_proba(X), atol=1e-7)
    np.testing.assert_allclose(W, ref.coef_.T, atol=1e-6)
    np.testing.assert_allclose(b, ref.intercept_ - ref.intercept_.mean(), atol=1e-6)
    assert abs(b.sum()) < 1e-12


def test_softmax_objective_gradient_hessian_equal_torch():
    X, labels = make_data(n=60, K=3, seed=3)
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(2, 3)), rng.normal(size=3)
    Xt, yt = torch.tensor(X), torch.tensor(labels)

    def objective(theta):
        M = theta.reshape(3, 3).T  # class by class [w_k, b_k]
        Z = Xt @ M[:-1] + M[-1]
        return torch.nn.functional.cross_entropy(Z, yt) + 0.5 * 0.1 * (M[:-1] ** 2).sum()

    theta = torch.tensor(np.vstack([W, b]).T.ravel(), requires_grad=True)
    value = objective(theta)
    (grad,) = torch.autograd.grad(value, theta)
    assert softmax_objective(X, labels, W, b, l2=0.1) == pytest.approx(value.item(), rel=1e-12)
    gW, gb = softmax_gradient(X, labels, W, b, l2=0.1)
    np.testing.assert_allclose(np.vstack([gW, gb]).T.ravel(), grad.numpy(), atol=1e-14)
    H_ref = torch.autograd.functional.hessian(objective, theta.detach()).numpy()
    np.testing.assert_allclose(softmax_hessian(X, labels, W, b, l2=0.1), H_ref, atol=1e-13)


def test_ovr_objective_is_the_sum_of_binary_losses():
    X, labels = make_data(n=40, K=3, seed=4)
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=(2, 3)), rng.normal(size=3)
    Z = torch.tensor(X @ W + b)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(
        Z, torch.tensor(one_hot(labels, 3)), reduction="none").mean(dim=0).sum().item()
    assert ovr_objective(X, labels, W, b, l2=0.2) == pytest.approx(
        ref + 0.1 * np.sum(W**2), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), K=st.integers(2, 5), scale=st.floats(0.0, 1e4))
def test_softmax_rows_sum_to_one_for_any_logit(seed, K, scale):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(10, 2))
    P = softmax_probabilities(X, rng.normal(scale=scale, size=(2, K)), rng.normal(size=K))
    assert np.all(np.isfinite(P)) and np.all(P >= 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(shift=st.floats(-50, 50))
def test_softmax_is_invariant_to_a_common_bias_shift(shift):
    X, _ = make_data(n=30, K=3, seed=5)
    W, b = np.ones((2, 3)), np.array([0.3, -0.1, 0.5])
    np.testing.assert_allclose(softmax_probabilities(X, W, b + shift),
                               softmax_probabilities(X, W, b), atol=1e-12)


def test_fit_softmax_warm_start_and_unpenalised_separable_data_stay_finite():
    X, labels = make_data(n=90, K=3, seed=6, spread=0.05)  # tight clusters: separable
    W, b = fit_softmax(X, labels, 3, l2=0.0, steps=50)
    assert np.all(np.isfinite(W)) and np.all(np.isfinite(b))
    assert np.all(softmax_probabilities(X, W, b).argmax(axis=1) == labels)
    X2, labels2 = make_data(n=90, K=3, seed=7)
    W1, b1 = fit_softmax(X2, labels2, 3, l2=0.05)
    W2, b2 = fit_softmax(X2, labels2, 3, l2=0.05, W0=W1 + 0.3, b0=b1 - 0.2)
    np.testing.assert_allclose(W1, W2, atol=1e-8)
    np.testing.assert_allclose(b1, b2, atol=1e-8)


def test_one_vs_rest_nobody_says_yes_in_the_middle_of_a_line():
    """Three classes in a row: the middle one cannot be split off by one line."""
    rng = np.random.default_rng(8)
    labels = np.repeat([0, 1, 2], 40)
    X = np.column_stack([labels * 2.0 - 2.0 + rng.normal(scale=0.6, size=120),
                         rng.normal(size=120)])
    W, b = fit_one_vs_rest(X, labels, 3, l2=0.01)
    P = ovr_probabilities(X, W, b)
    middle = labels == 1
    assert np.mean(P[middle].max(axis=1) < 0.5) > 0.5  # most middle points: nobody says yes
    Ws, bs = fit_softmax(X, labels, 3, l2=0.01)
    assert np.mean(softmax_probabilities(X, Ws, bs)[middle].argmax(axis=1) == 1) > 0.8


def test_stratified_split_keeps_every_class_in_training():
    labels = np.array([0] * 10 + [1] * 4 + [2] * 1)
    mask = stratified_split(labels, 3, 0.5, seed=3)
    assert mask[:10].sum() == 5 and mask[10:14].sum() == 2 and mask[14:].sum() == 0
    np.testing.assert_array_equal(mask, stratified_split(labels, 3, 0.5, seed=3))


def test_trainer_approaches_both_fits():
    X, labels = make_data(n=60, K=3, seed=9)
    trainer = MulticlassTrainer(X, labels, 3, l2=0.1, lr=2.0)
    trainer.step(1500)
    Wo, bo = fit_one_vs_rest(X, labels, 3, l2=0.1)
    Ws, bs = fit_softmax(X, labels, 3, l2=0.1)
    np.testing.assert_allclose(trainer.ovr[0], Wo, atol=1e-4)
    np.testing.assert_allclose(trainer.ovr[1], bo, atol=1e-4)
    np.testing.assert_allclose(trainer.softmax[0], Ws, atol=1e-4)
    np.testing.assert_allclose(trainer.softmax[1], bs, atol=1e-4)
    o, s = trainer.objectives()
    assert o == pytest.approx(ovr_objective(X, labels, Wo, bo, l2=0.1), abs=1e-8)
    assert s == pytest.approx(softmax_objective(X, labels, Ws, bs, l2=0.1), abs=1e-8)


def test_trainer_divergence():
    X, labels = make_data(n=60, K=3, seed=10)
    trainer = MulticlassTrainer(X * 1e3, labels, 3, lr=1e6)
    assert trainer.step(50) < 50 and trainer.diverged
    assert np.all(np.isfinite(trainer.ovr[0])) and np.all(np.isfinite(trainer.softmax[0]))
    trainer.reset()
    assert not trainer.diverged and trainer.steps == 0


@pytest.mark.parametrize("call, match", [
    (lambda X, y: fit_one_vs_rest(X, y, 4), "class 3 has no sample"),
    (lambda X, y: fit_softmax(X, y + 1, 3), r"labels must be in \[0, 2\]"),
    (lambda X, y: fit_one_vs_rest(X, y + 0.5, 3), "whole numbers"),
    (lambda X, y: fit_one_vs_rest(X, y, 1), "n_classes must be an integer >= 2"),
    (lambda X, y: fit_softmax(X, y, 3, l2=-0.1), "l2 must be"),
    (lambda X, y: fit_softmax(X, y[:-1], 3), "labels must have shape"),
    (lambda X, y: ovr_probabilities(X, np.zeros((3, 3)), np.zeros(3)), "W must have shape"),
    (lambda X, y: softmax_probabilities(X, np.zeros((2, 3)), np.zeros(2)), "b must have length"),
    (lambda X, y: stratified_split(y, 3, 1.0), "heldout_fraction"),
    (lambda X, y: one_hot(y.reshape(-1, 1), 3), "1-D"),
    (lambda X, y: MulticlassTrainer(X, y, 3, optimizer="sgd"), "optimizer must be one of"),
])
def test_bad_arguments_name_themselves(call, match):
    X, labels = make_data(n=30, K=3)
    with pytest.raises(ValueError, match=match):
        call(X, labels)
