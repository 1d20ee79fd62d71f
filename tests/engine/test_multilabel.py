"""Multi-label engine: separate fits, scikit-learn and PyTorch agree; the Hessian decouples."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.multioutput import MultiOutputClassifier

from bceviz.engine.logistic import fit_logistic
from bceviz.engine.losses import LossSpec
from bceviz.engine.multilabel import (
    FlatOptimizer,
    MultilabelTrainer,
    SharedParams,
    block_max_abs,
    fit_multilabel,
    init_shared,
    label_specs,
    multilabel_gradient,
    multilabel_hessian,
    multilabel_loss_per_label,
    multilabel_objective,
    multilabel_probabilities,
    shared_block_sizes,
    shared_gradient,
    shared_hessian,
    shared_hidden,
    shared_logits,
    shared_objective,
)

torch.set_default_dtype(torch.float64)


def make_data(n=80, d=2, K=3, seed=0, soft=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    directions = rng.normal(size=(d, K))
    p = 1.0 / (1.0 + np.exp(-(X @ directions + rng.normal(size=K))))
    Y = p if soft else (rng.random((n, K)) < p).astype(float)
    return X, Y


# --------------------------------------------------------------------- PyTorch objective
def torch_objective(X, Y, specs, l2, d, K, m):
    """The same objective written with torch.nn.functional (targets smoothed by hand)."""
    Xt, Yt = torch.tensor(X), torch.tensor(Y)

    def objective(theta):
        hs, us = d + m + 1, d + 1
        heads = theta[:K * hs].reshape(K, hs).T
        W, b = heads[:-1], heads[-1]
        if m:
            units = theta[K * hs:].reshape(m, us).T
            A, c = units[:-1], units[-1]
            F = torch.cat([Xt, torch.tanh(Xt @ A + c)], dim=1)
            penalty = (W**2).sum() + (A**2).sum()
        else:
            F = Xt
            penalty = (W**2).sum()
        Z = F @ W + b
        total = 0.0
        for k, s in enumerate(specs):
            target = Yt[:, k] * (1 - s.label_smoothing) + s.label_smoothing / 2
            total = total + torch.nn.functional.binary_cross_entropy_with_logits(
                Z[:, k], target, pos_weight=torch.tensor(s.pos_weight))
        return total + 0.5 * l2 * penalty

    return objective


SPECS = [LossSpec(), LossSpec(pos_weight=3.0), LossSpec(pos_weight=0.4, label_smoothing=0.1)]


# --------------------------------------------------------------------- fits
def test_columns_equal_separate_fit_logistic_fits():
    X, Y = make_data(K=3, seed=1)
    W, b = fit_multilabel(X, Y, l2=0.02, spec=SPECS)
    for k in range(3):
        fit = fit_logistic(X, Y[:, k], SPECS[k], l2=0.02)
        np.testing.assert_allclose(W[:, k], fit.w, rtol=0, atol=1e-12)
        assert b[k] == pytest.approx(fit.b, abs=1e-12)


def test_joint_gradient_vanishes_at_the_fit():
    X, Y = make_data(K=3, seed=2, soft=True)
    W, b = fit_multilabel(X, Y, l2=0.01, spec=SPECS)
    gW, gb = multilabel_gradient(X, Y, W, b, l2=0.01, spec=SPECS)
    assert np.abs(gW).max() < 1e-7 and np.abs(gb).max() < 1e-7


def test_equals_sklearn_multioutput_classifier():
    X, Y = make_data(n=120, K=4, seed=3)
    lam, n = 0.03, X.shape[0]
    W, b = fit_multilabel(X, Y, l2=lam)
    ref = MultiOutputClassifier(
        LogisticRegression(C=1.0 / (lam * n), tol=1e-12, max_iter=10_000)).fit(X, Y)
    for k, est in enumerate(ref.estimators_):
        np.testing.assert_allclose(W[:, k], est.coef_[0], atol=1e-6)
        assert b[k] == pytest.approx(est.intercept_[0], abs=1e-6)
    P = multilabel_probabilities(X, W, b)
    P_ref = np.column_stack([p[:, 1] for p in ref.predict_proba(X)])
    np.testing.assert_allclose(P, P_ref, atol=1e-7)


def test_pos_weight_per_label_equals_sklearn_class_weight():
    # For hard labels, pos_weight w on label k is class_weight {1: w} of its own estimator.
    X, Y = make_data(n=100, K=3, seed=4)
    lam, n = 0.05, X.shape[0]
    weights = (1.0, 4.0, 0.25)
    W, b = fit_multilabel(X, Y, l2=lam, spec=[LossSpec(pos_weight=w) for w in weights])
    for k, w in enumerate(weights):
        est = LogisticRegression(C=1.0 / (lam * n), class_weight={0: 1.0, 1: w}, tol=1e-12,
                                 max_iter=10_000).fit(X, Y[:, k])
        np.testing.assert_allclose(W[:, k], est.coef_[0], atol=1e-6)
        assert b[k] == pytest.approx(est.intercept_[0], abs=1e-6)


def test_loss_per_label_and_objective():
    X, Y = make_data(K=3, seed=5)
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(2, 3)), rng.normal(size=3)
    theta = torch.tensor(np.vstack([W, b]).T.ravel())
    ref = torch_objective(X, Y, SPECS, 0.1, 2, 3, 0)(theta).item()
    assert multilabel_objective(X, Y, W, b, l2=0.1, spec=SPECS) == pytest.approx(ref, rel=1e-12)
    losses = multilabel_loss_per_label(X, Y, W, b, spec=SPECS)
    assert losses.shape == (3,)
    assert losses.sum() + 0.05 * np.sum(W**2) == pytest.approx(ref, rel=1e-12)


# --------------------------------------------------------------------- Hessian
@pytest.mark.parametrize("soft", [False, True])
def test_hessian_equals_torch_autograd(soft):
    X, Y = make_data(n=50, K=3, seed=6, soft=soft)
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=(2, 3)), rng.normal(size=3)
    H = multilabel_hessian(X, Y, W, b, l2=0.2, spec=SPECS)
    theta = torch.tensor(np.vstack([W, b]).T.ravel())  # [w_1, b_1, w_2, b_2, ...]
    H_ref = torch.autograd.functional.hessian(torch_objective(X, Y, SPECS, 0.2, 2, 3, 0),
                                              theta).numpy()
    assert H.shape == (9, 9)
    np.testing.assert_allclose(H, H_ref, atol=1e-13)


def test_off_diagonal_blocks_are_exactly_zero():
    X, Y = make_data(n=40, K=4, seed=7)
    W, b = fit_multilabel(X, Y, l2=0.1)
    H = multilabel_hessian(X, Y, W, b, l2=0.1)
    blocks = block_max_abs(H, [3] * 4)
    off = ~np.eye(4, dtype=bool)
    assert np.all(blocks[off] == 0.0)
    assert np.all(blocks[~off] > 0.0)


def test_focal_hessian_still_decouples():
    X, Y = make_data(n=40, K=2, seed=8)
    spec = [LossSpec(focal_gamma=2.0), LossSpec(focal_gamma=1.0, focal_alpha=0.25)]
    H = multilabel_hessian(X, Y, np.ones((2, 2)), np.zeros(2), spec=spec)
    assert np.all(H[:3, 3:] == 0.0) and np.all(H[3:, :3] == 0.0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), K=st.integers(1, 4), l2=st.floats(0.0, 1.0))
def test_hessian_is_block_diagonal_and_symmetric(seed, K, l2):
    X, Y = make_data(n=20, K=K, seed=seed, soft=True)
    rng = np.random.default_rng(seed)
    W, b = rng.normal(scale=3.0, size=(2, K)), rng.normal(size=K)
    H = multilabel_hessian(X, Y, W, b, l2=l2)
    mask = np.kron(np.eye(K), np.ones((3, 3))).astype(bool)
    assert np.all(H[~mask] == 0.0)
    np.testing.assert_array_equal(H, H.T)
    assert np.linalg.eigvalsh(H).min() > -1e-12  # BCE is convex in each head


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_learning_one_label_never_moves_another(seed):
    """Decoupling: relabel label 0 entirely; label 1's optimum is unchanged, bit for bit."""
    X, Y = make_data(n=30, K=2, seed=seed)
    W, b = fit_multilabel(X, Y, l2=0.1)
    Y2 = Y.copy()
    Y2[:, 0] = 1.0 - Y2[:, 0]
    W2, b2 = fit_multilabel(X, Y2, l2=0.1)
    np.testing.assert_array_equal(W[:, 1], W2[:, 1])
    assert b[1] == b2[1]
    g1 = multilabel_gradient(X, Y, W, b, l2=0.1)
    g2 = multilabel_gradient(X, Y2, W, b, l2=0.1)
    np.testing.assert_array_equal(g1[0][:, 1], g2[0][:, 1])


# --------------------------------------------------------------------- shared layer
def random_shared(d, K, m, seed):
    rng = np.random.default_rng(seed)
    base = init_shared(d, K, m, seed=seed)
    return SharedParams(W=rng.normal(size=(d + m, K)), b=rng.normal(size=K), A=base.A,
                        c=rng.normal(size=m))


@pytest.mark.parametrize("m", [1, 3])
def test_shared_gradient_equals_autograd(m):
    X, Y = make_data(n=50, K=3, seed=9, soft=True)
    params = random_shared(2, 3, m, seed=m)
    objective = torch_objective(X, Y, SPECS, 0.07, 2, 3, m)
    theta = torch.tensor(params.flat(), requires_grad=True)
    value = objective(theta)
    (grad,) = torch.autograd.grad(value, theta)
    assert shared_objective(X, Y, params, l2=0.07, spec=SPECS) == pytest.approx(value.item(),
                                                                              rel=1e-12)
    np.testing.assert_allclose(shared_gradient(X, Y, params, l2=0.07, spec=SPECS).flat(),
                               grad.numpy(), atol=1e-14)


@pytest.mark.parametrize("m", [1, 2])
def test_shared_hessian_equals_torch_hessian(m):
    X, Y = make_data(n=25, K=3, seed=10)
    params = random_shared(2, 3, m, seed=10 + m)
    H = shared_hessian(X, Y, params, l2=0.07, spec=SPECS)
    H_ref = torch.autograd.functional.hessian(torch_objective(X, Y, SPECS, 0.07, 2, 3, m),
                                              torch.tensor(params.flat())).numpy()
    np.testing.assert_allclose(H, H_ref, atol=1e-13)


def test_shared_layer_fills_the_blocks_it_touches_and_no_other():
    X, Y = make_data(n=60, K=3, seed=11)
    params = random_shared(2, 3, 2, seed=3)
    H = shared_hessian(X, Y, params, l2=0.01)
    sizes = params.block_sizes()
    assert sizes == shared_block_sizes(2, 3, 2) == [5, 5, 5, 3, 3]
    blocks = block_max_abs(H, sizes)
    heads = blocks[:3, :3]
    assert np.all(heads[~np.eye(3, dtype=bool)] == 0.0)  # head with head: exactly zero
    assert np.all(blocks[:3, 3:] > 1e-4)  # head with shared unit: filled in
    assert np.all(blocks[3:, 3:] > 1e-4)


def test_shared_hessian_without_units_is_the_plain_hessian():
    X, Y = make_data(n=30, K=2, seed=12)
    params = random_shared(2, 2, 0, seed=1)
    np.testing.assert_array_equal(shared_hessian(X, Y, params, l2=0.3),
                                  multilabel_hessian(X, Y, params.W, params.b, l2=0.3))


@settings(max_examples=30, deadline=None)
@given(d=st.integers(1, 3), K=st.integers(1, 4), m=st.integers(0, 4), seed=st.integers(0, 999))
def test_flat_round_trip(d, K, m, seed):
    params = random_shared(d, K, m, seed)
    back = SharedParams.from_flat(params.flat(), d, K, m)
    for name in ("W", "b", "A", "c"):
        np.testing.assert_array_equal(getattr(back, name), getattr(params, name))
    assert params.flat().size == sum(params.block_sizes())


def test_hidden_and_logits():
    X, _ = make_data(n=10)
    params = random_shared(2, 3, 2, seed=0)
    H = shared_hidden(X, params.A, params.c)
    assert H.shape == (10, 2) and np.all(np.abs(H) < 1)
    Z = shared_logits(X, params)
    np.testing.assert_allclose(Z, np.hstack([X, H]) @ params.W + params.b)


def test_stable_for_huge_logits():
    X, Y = make_data(n=20, K=2, seed=13)
    W = np.full((2, 2), 1e5)
    assert np.isfinite(multilabel_objective(X, Y, W, np.zeros(2)))
    assert np.all(np.isfinite(multilabel_hessian(X, Y, W, np.zeros(2))))


# --------------------------------------------------------------------- trainer
def test_trainer_descends_to_the_fit():
    X, Y = make_data(n=60, K=3, seed=14)
    trainer = MultilabelTrainer(X, Y, SPECS, l2=0.1, lr=2.0)
    start = trainer.objective
    assert trainer.step(1200) == 1200
    W, b = fit_multilabel(X, Y, l2=0.1, spec=SPECS)
    assert trainer.objective < start
    np.testing.assert_allclose(trainer.params.W, W, atol=1e-5)
    np.testing.assert_allclose(trainer.params.b, b, atol=1e-5)
    np.testing.assert_allclose(trainer.hessian(),
                               multilabel_hessian(X, Y, trainer.params.W, trainer.params.b,
                                                  l2=0.1, spec=SPECS))


def test_trainer_with_shared_layer_learns():
    X, Y = make_data(n=100, K=3, seed=15)
    trainer = MultilabelTrainer(X, Y, l2=0.01, hidden_units=3, optimizer="adam", lr=0.05)
    start = trainer.objective
    trainer.step(300)
    assert trainer.objective < start
    assert trainer.params.A.shape == (2, 3)
    assert trainer.hessian().shape == (3 * 6 + 3 * 3,) * 2


def test_trainer_divergence_keeps_finite_weights():
    X, Y = make_data(n=50, K=2, seed=16)
    trainer = MultilabelTrainer(X * 1e3, Y, lr=1e6)
    taken = trainer.step(100)
    assert taken < 100 and trainer.diverged and "lower the learning rate" in trainer.status
    assert np.all(np.isfinite(trainer.params.flat())) and np.isfinite(trainer.objective)
    assert trainer.step(5) == 0
    trainer.lr = 0.1
    assert not trainer.diverged


def test_flat_optimizer_adam_first_step_is_lr_sized():
    opt = FlatOptimizer("adam", 0.1)
    theta, state = opt.propose(np.zeros(3), np.array([5.0, -0.01, 2.0]))
    np.testing.assert_allclose(theta, [-0.1, 0.1, -0.1], rtol=1e-6)
    opt.commit(state)


# --------------------------------------------------------------------- validation
@pytest.mark.parametrize("call, match", [
    (lambda X, Y: fit_multilabel(X, Y * 2), "labels Y must be in"),
    (lambda X, Y: fit_multilabel(X[:5], Y), "one row per row"),
    (lambda X, Y: fit_multilabel(X, Y, l2=-1), "l2 must be >= 0"),
    (lambda X, Y: fit_multilabel(X, Y, spec=[LossSpec()]), "one LossSpec per label"),
    (lambda X, Y: fit_multilabel(X, Y, spec="plain"), "spec must be"),
    (lambda X, Y: multilabel_hessian(X, Y, np.zeros((3, 2)), np.zeros(2)), "W must have shape"),
    (lambda X, Y: multilabel_hessian(X, Y, np.zeros((2, 2)), np.zeros(3)), "b must have length"),
    (lambda X, Y: MultilabelTrainer(X, Y, optimizer="lbfgs"), "optimizer must be one of"),
    (lambda X, Y: MultilabelTrainer(X, Y, lr=0), "lr"),
    (lambda X, Y: MultilabelTrainer(X, Y, hidden_units=-1), "hidden_units"),
    (lambda X, Y: fit_multilabel(np.full((4, 2), np.nan), Y[:4]), "finite"),
])
def test_bad_arguments_name_themselves(call, match):
    X, Y = make_data(n=20, K=2)
    with pytest.raises(ValueError, match=match):
        call(X, Y)


def test_label_specs():
    assert label_specs(None, 2) == (LossSpec(), LossSpec())
    s = LossSpec(pos_weight=2.0)
    assert label_specs(s, 3) == (s, s, s)
    with pytest.raises(ValueError, match=r"spec\[1\]"):
        label_specs([s, 1.0], 2)
