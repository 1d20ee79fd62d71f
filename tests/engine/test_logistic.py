"""Tests of bceviz.engine.logistic against scikit-learn, finite differences and known optima."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from bceviz.engine.datasets import make_dataset
from bceviz.engine.logistic import (
    FEATURE_KINDS,
    OPTIMIZERS,
    Trainer,
    TrainingHistory,
    feature_names,
    fit_logistic,
    make_features,
    predict_proba,
)
from bceviz.engine.losses import LossSpec, loss_from_logits

LN2 = math.log(2.0)


@pytest.fixture(scope="module")
def overlap():
    X, y = make_dataset("overlap", 200, seed=3)
    return make_features(X, "product"), y


@pytest.fixture(scope="module")
def blobs():
    return make_dataset("blobs", 100, seed=1)


def sklearn_fit(F, y, lam):
    ref = LogisticRegression(C=1.0 / (lam * len(y)), tol=1e-12, max_iter=10_000)
    ref.fit(F, y)
    return ref.coef_.ravel(), float(ref.intercept_[0])


# ----------------------------------------------------------------------------
# Features


@pytest.mark.parametrize("kind", FEATURE_KINDS)
def test_features_start_with_raw_x1_x2_and_match_names(kind):
    X = np.random.default_rng(0).uniform(-3, 3, (50, 2))
    F = make_features(X, kind)
    names = feature_names(kind)
    assert F.shape == (50, len(names)) and F.dtype == np.float64
    assert names[:2] == ["x1", "x2"]
    np.testing.assert_array_equal(F[:, :2], X)
    assert len(set(names)) == len(names)
    # Scaled so that no column is far larger than x1 on data in [-3, 3].
    assert np.abs(F).max() <= 3.0 + 1e-12


def test_feature_counts_and_scaling():
    counts = {k: make_features(np.ones((1, 2)), k).shape[1] for k in FEATURE_KINDS}
    assert counts == {
        "linear": 2,
        "product": 3,
        "poly2": 5,
        "poly3": 9,
        "poly4": 14,
        "poly5": 20,
        "sin": 7,
    }
    assert feature_names("product") == ["x1", "x2", "x1·x2/3"]
    F = make_features(np.array([[3.0, 2.0]]), "poly5")
    assert feature_names("poly5")[14] == "x1⁵/81"
    assert F[0, 14] == pytest.approx(3.0**5 / 81)


def test_feature_validation():
    with pytest.raises(ValueError, match="kind"):
        make_features(np.zeros((3, 2)), "cubic")
    with pytest.raises(ValueError, match="kind"):
        feature_names("cubic")
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        make_features(np.zeros((3, 3)), "linear")
    with pytest.raises(ValueError, match="finite"):
        make_features(np.array([[np.nan, 0.0]]), "linear")


# ----------------------------------------------------------------------------
# Optimum: scikit-learn as the reference


@pytest.mark.parametrize(
    "optimizer, kwargs, tol",
    [
        ("newton", {}, 1e-6),
        ("gd", {"lr": 1.0, "steps": 4000}, 1e-4),
        ("momentum", {"lr": 0.5, "steps": 1500}, 1e-4),
        ("adam", {"lr": 0.02, "steps": 4000}, 2e-3),
        ("sgd", {"lr": 0.05, "steps": 3000, "batch_size": 50}, 0.15),
    ],
)
def test_l2_optimum_equals_sklearn(overlap, optimizer, kwargs, tol):
    F, y = overlap
    lam = 0.05
    w_ref, b_ref = sklearn_fit(F, y, lam)
    fit = fit_logistic(F, y, l2=lam, optimizer=optimizer, **kwargs)
    assert not fit.status
    np.testing.assert_allclose(fit.w, w_ref, atol=tol)
    assert fit.b == pytest.approx(b_ref, abs=tol)
    if optimizer == "newton":
        assert fit.converged and fit.steps < 20


def test_newton_matches_sklearn_with_poly_features():
    X, y = make_dataset("circles", 200, noise=0.3, seed=2)
    F = make_features(X, "poly3")
    lam = 1e-3
    w_ref, b_ref = sklearn_fit(F, y, lam)
    fit = fit_logistic(F, y, l2=lam)
    assert fit.converged
    np.testing.assert_allclose(fit.w, w_ref, atol=1e-5)
    assert fit.b == pytest.approx(b_ref, abs=1e-5)


# ----------------------------------------------------------------------------
# Gradients: finite differences over random specs


specs = st.builds(
    LossSpec,
    label_smoothing=st.floats(0.0, 0.4),
    pos_weight=st.floats(0.2, 5.0),
    focal_gamma=st.sampled_from([0.0, 0.0, 0.5, 1.0, 2.0, 3.7]),
    focal_alpha=st.one_of(st.none(), st.floats(0.05, 0.95)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    spec=specs,
    l1=st.floats(0.0, 0.5),
    l2=st.floats(0.0, 0.5),
    seed=st.integers(0, 10_000),
    soft=st.booleans(),
)
def test_gradient_matches_finite_differences(spec, l1, l2, seed, soft):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3, 3, (30, 2))
    F = make_features(X, "product")
    y = rng.uniform(0, 1, 30) if soft else (rng.uniform(size=30) < 0.5).astype(float)
    # Keep every |w_j| away from 0, where the L1 term is not differentiable.
    w = rng.uniform(0.2, 1.5, 3) * rng.choice([-1.0, 1.0], 3)
    b = float(rng.uniform(-1, 1))
    trainer = Trainer(F, y, spec, l1=l1, l2=l2)
    trainer.set_weights(w, b)
    h = 1e-6
    theta = np.append(w, b)
    fd = np.empty(4)
    for j in range(4):
        e = np.zeros(4)
        e[j] = h
        up, dn = theta + e, theta - e
        fd[j] = (trainer.objective(up[:3], up[3]) - trainer.objective(dn[:3], dn[3])) / (2 * h)
    for gw, gb in (trainer.gradient(), trainer.gradient(w, b)):  # cached fast path, explicit
        np.testing.assert_allclose(np.append(gw, gb), fd, rtol=1e-5, atol=1e-6)
    # The trainer's inlined loss equals the reference implementation.
    ref = float(loss_from_logits(F @ w + b, y, spec).mean())
    assert trainer.mean_loss() == pytest.approx(ref, rel=1e-12, abs=1e-14)
    assert trainer.objective() == pytest.approx(
        ref + l2 / 2 * w @ w + l1 * np.abs(w).sum(), rel=1e-12
    )


@pytest.mark.parametrize(
    "spec",
    [LossSpec(focal_gamma=2.0), LossSpec(focal_gamma=1.0, focal_alpha=0.3, label_smoothing=0.1)],
)
def test_newton_with_focal_hessian_reaches_the_gradient_descent_optimum(overlap, spec):
    F, y = overlap
    newton = fit_logistic(F, y, spec, l2=0.02)
    assert newton.converged and newton.steps < 30
    gd = fit_logistic(F, y, spec, l2=0.02, optimizer="gd", lr=1.0, steps=4000)
    np.testing.assert_allclose(gd.w, newton.w, atol=1e-4)


# ----------------------------------------------------------------------------
# Behaviour on the classic data sets


def test_linear_model_on_xor_is_a_coin_flip_and_the_product_feature_solves_it():
    X, y = make_dataset("xor", 200, seed=0)
    linear = fit_logistic(make_features(X, "linear"), y)
    assert linear.history.loss[-1] == pytest.approx(LN2, abs=1e-9)
    gd = Trainer(make_features(X, "linear"), y)
    gd.step(500)
    assert gd.mean_loss() == pytest.approx(LN2, abs=1e-6)

    F = make_features(X, "product")
    prod = fit_logistic(F, y, l2=1e-3)
    accuracy = np.mean((predict_proba(F, prod.w, prod.b) >= 0.5) == (y == 1))
    assert accuracy >= 0.95
    assert prod.history.loss[-1] < 0.2


def test_separable_data_weights_grow_without_bound_unless_regularised(blobs):
    X, y = blobs
    free = Trainer(X, y, lr=0.5)
    free.step(3000)
    h = free.history
    assert np.all(np.diff(h.w_norm) > 0)  # ||w|| keeps growing
    assert np.all(np.diff(h.loss) < 0)
    assert h.loss[-1] < 0.01 and h.loss[-1] < h.loss[1000] / 2
    assert h.w_norm[-1] > h.w_norm[1000] + 1

    ridge = Trainer(X, y, lr=0.5, l2=0.05)
    ridge.step(3000)
    r = ridge.history.w_norm
    assert r[-1] < 5 and abs(r[-1] - r[-500]) < 1e-6  # converged to a finite optimum
    assert ridge.history.grad_norm[-1] < 1e-8

    newton = Trainer(X, y, optimizer="newton")
    newton.step(30)
    assert not newton.diverged and np.all(np.isfinite(newton.w))
    assert np.all(np.diff(newton.history.objective) <= 0)
    assert newton.history.loss[-1] < 1e-6


def test_label_smoothing_gives_separable_data_a_finite_optimum(blobs):
    X, y = blobs
    eps = 0.1
    fit = fit_logistic(X, y, LossSpec(label_smoothing=eps))
    assert fit.converged and np.linalg.norm(fit.w) < 5
    # Stationary in the bias: mean prediction = mean smoothed target.
    p = predict_proba(X, fit.w, fit.b)
    assert p.mean() == pytest.approx(np.mean(y * (1 - eps) + eps / 2), abs=1e-8)
    plain = fit_logistic(X, y, steps=10, tol=0.0)
    assert np.linalg.norm(plain.w) > 3 * np.linalg.norm(fit.w)


def test_pos_weight_focal_and_smoothing_move_the_fit_the_expected_way(overlap):
    F, y = overlap
    pos = y == 1

    def fit(spec):
        f = fit_logistic(F, y, spec, l2=0.01)
        assert f.converged
        return f, predict_proba(F, f.w, f.b)

    base, p0 = fit(LossSpec())
    _, p_pw = fit(LossSpec(pos_weight=3.0))
    assert p_pw[pos].mean() > p0[pos].mean() + 0.05
    assert p_pw[~pos].mean() > p0[~pos].mean()
    _, p_alpha = fit(LossSpec(focal_alpha=0.8))
    assert p_alpha[pos].mean() > p0[pos].mean() + 0.05
    focal, p_focal = fit(LossSpec(focal_gamma=2.0))
    assert np.linalg.norm(focal.w) < np.linalg.norm(base.w)  # less confident
    assert np.abs(p_focal - 0.5).mean() < np.abs(p0 - 0.5).mean()
    smooth, _ = fit(LossSpec(label_smoothing=0.3))
    assert np.linalg.norm(smooth.w) < np.linalg.norm(base.w)


# ----------------------------------------------------------------------------
# L1


@pytest.mark.parametrize(
    "optimizer, lr, steps",
    [("newton", 0.1, 200), ("gd", 1.0, 5000), ("momentum", 0.3, 3000), ("adam", 0.01, 6000)],
)
def test_l1_gives_exact_zeros_at_the_optimum(optimizer, lr, steps):
    X, y = make_dataset("overlap", 200, seed=5)
    F = make_features(X, "poly3")
    l1 = 0.03
    fit = fit_logistic(F, y, l1=l1, optimizer=optimizer, lr=lr, steps=steps, tol=1e-9)
    zeros = fit.w == 0.0
    assert 2 <= zeros.sum() < F.shape[1]
    # KKT conditions of mean loss + l1 ||w||₁ checked from scratch.
    z = F @ fit.w + fit.b
    p = 1 / (1 + np.exp(-z))
    g = F.T @ (p - y) / len(y)
    kkt_tol = 1e-6 if optimizer == "newton" else 2e-3
    assert np.all(np.abs(g[zeros]) <= l1 + kkt_tol)
    np.testing.assert_allclose(g[~zeros], -l1 * np.sign(fit.w[~zeros]), atol=kkt_tol)
    assert abs(np.mean(p - y)) < kkt_tol


def test_l1_first_order_and_newton_agree():
    X, y = make_dataset("moons", 150, seed=2)
    F = make_features(X, "poly2")
    newton = fit_logistic(F, y, l1=0.02, l2=0.01)
    gd = fit_logistic(F, y, l1=0.02, l2=0.01, optimizer="gd", lr=1.0, steps=5000)
    np.testing.assert_allclose(gd.w, newton.w, atol=1e-5)
    np.testing.assert_array_equal(gd.w == 0, newton.w == 0)


# ----------------------------------------------------------------------------
# Divergence


def test_huge_learning_rate_diverges_cleanly(overlap):
    F, y = overlap
    t = Trainer(F, y, lr=1e4, l2=0.5)
    taken = t.step(10_000)
    assert t.diverged and taken < 10_000 and t.steps == taken
    assert np.all(np.isfinite(t.w)) and math.isfinite(t.b)
    assert t.status.startswith(f"Diverged at step {taken + 1}: ")
    assert "learning rate 10000" in t.status and "reset" in t.status
    assert math.isfinite(t.mean_loss()) and np.all(np.isfinite(t.history.w))
    assert np.all(np.isfinite(t.history.loss))
    w_before = t.w
    assert t.step(5) == 0
    np.testing.assert_array_equal(t.w, w_before)
    t.lr = 0.1  # a new learning rate clears it
    assert not t.diverged and t.status == ""
    assert t.step(5) == 5
    t.lr = 1e4
    t.step(10_000)
    assert t.diverged
    t.reset()
    assert not t.diverged and t.steps == 0 and len(t.history) == 1


def test_overflowing_weights_stop_training():
    rng = np.random.default_rng(0)
    F = rng.normal(size=(50, 2))
    y = (rng.uniform(size=50) < 0.5).astype(float)
    t = Trainer(F, y, lr=1e300)
    t.step(100)
    assert t.diverged and np.all(np.isfinite(t.w))


def test_every_optimizer_survives_default_lr_on_every_feature_kind():
    for kind in ("circles", "spirals"):
        X, y = make_dataset(kind, 200, seed=0)
        for feats in ("poly5", "sin"):
            F = make_features(X, feats)
            for opt in OPTIMIZERS:
                t = Trainer(F, y, optimizer=opt)
                t.step(200)
                assert not t.diverged, (kind, feats, opt, t.status)
                assert t.mean_loss() < LN2


# ----------------------------------------------------------------------------
# History


def test_history_is_bounded_and_keeps_the_newest_step():
    rng = np.random.default_rng(0)
    F = rng.normal(size=(20, 2))
    y = (F[:, 0] + rng.normal(size=20) > 0).astype(float)
    t = Trainer(F, y, lr=0.01)
    cap = t.history.capacity
    assert 10_000 <= cap <= 20_000
    t.step(100_000)
    h = t.history
    assert len(h) <= cap
    assert h.step[0] == 0 and h.step[-1] == 100_000
    assert np.all(np.diff(h.step) > 0)
    np.testing.assert_array_equal(h.w[-1], t.w)
    assert h.b[-1] == t.b and h.loss[-1] == t.mean_loss()
    assert h.w.shape == (len(h), 2)
    with pytest.raises(ValueError):
        h.loss[0] = 1.0  # read-only views


def test_history_thinning_is_even():
    h = TrainingHistory(1, capacity=8)
    for s in range(1000):
        h.record(s, 0.0, 0.0, 0.0, 0.0, np.array([float(s)]), 0.0)
    steps = h.step
    assert len(h) <= 8 and steps[-1] == 999 and steps[0] == 0
    np.testing.assert_array_equal(np.diff(steps[:-1]), h.stride)  # evenly spaced
    np.testing.assert_array_equal(h.w[:, 0], steps)
    # Records that skip steps still thin (never overflow).
    h.clear()
    for s in range(0, 4000, 4):
        h.record(s, 0.0, 0.0, 0.0, 0.0, np.array([0.0]), 0.0)
    assert len(h) <= 8 and h.step[-1] == 3996 and h.step[0] == 0


def test_history_contents(overlap):
    F, y = overlap
    t = Trainer(F, y, l2=0.1, l1=0.01)
    t.step(3)
    h = t.history
    assert list(h.step) == [0, 1, 2, 3]
    assert h.loss[0] == pytest.approx(LN2)
    np.testing.assert_allclose(h.w_norm, np.linalg.norm(h.w, axis=1))
    w = h.w[2]
    assert h.objective[2] == pytest.approx(
        t.mean_loss(w, h.b[2]) + 0.05 * w @ w + 0.01 * np.abs(w).sum()
    )
    assert np.all(np.diff(h.grad_norm) < 0)


def test_step_is_cheap_enough_for_live_training():
    X, y = make_dataset("moons", 2000, seed=0)
    t = Trainer(make_features(X, "poly5"), y)
    t.step(50)
    import time

    start = time.perf_counter()
    t.step(500)
    per_step = (time.perf_counter() - start) / 500
    assert per_step < 2e-3  # typically ~0.1 ms


# ----------------------------------------------------------------------------
# Live edits


def test_set_data_with_more_or_fewer_features_keeps_the_shared_weights():
    X, y = make_dataset("circles", 150, seed=0)
    t = Trainer(make_features(X, "poly2"), y)
    t.step(50)
    w = t.w
    t.set_data(make_features(X, "linear"), y)
    np.testing.assert_array_equal(t.w, w[:2])
    assert t.history.w.shape[1] == 2
    t.set_data(make_features(X, "poly3"), y)
    np.testing.assert_array_equal(t.w[:2], w[:2])
    np.testing.assert_array_equal(t.w[2:], 0.0)
    assert t.history.w.shape[1] == 9
    steps = t.steps
    assert t.step(10) == 10 and t.steps == steps + 10
    # Fewer points is fine too.
    t.set_data(make_features(X[:40], "poly3"), y[:40])
    assert t.step(5) == 5


def test_set_weights_spec_and_penalties_mid_training(overlap):
    F, y = overlap
    t = Trainer(F, y, optimizer="momentum")
    t.step(10)
    n = len(t.history)
    t.set_weights([1.0, -2.0, 0.5], 0.3)
    assert len(t.history) == n  # newest record replaced, not appended
    np.testing.assert_array_equal(t.history.w[-1], [1.0, -2.0, 0.5])
    assert t.history.loss[-1] == pytest.approx(t.mean_loss())
    loss_plain = t.mean_loss()
    t.set_spec(LossSpec(pos_weight=4.0))
    assert t.mean_loss() != loss_plain
    assert t.history.loss[-1] == t.mean_loss()
    t.l2 = 0.5
    assert t.history.objective[-1] == pytest.approx(t.objective())
    t.step(5)
    assert t.steps == 15


def test_sgd_is_seeded(overlap):
    F, y = overlap
    runs = []
    for seed in (0, 0, 1):
        t = Trainer(F, y, optimizer="sgd", batch_size=16, seed=seed)
        t.step(100)
        runs.append(t.w)
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_validation_messages_name_the_argument(overlap):
    F, y = overlap
    for bad in (0, -1.0, float("nan"), float("inf"), "0.1"):
        with pytest.raises(ValueError, match="lr"):
            Trainer(F, y, lr=bad)
    t = Trainer(F, y)
    with pytest.raises(ValueError, match="lr"):
        t.lr = 0.0
    for name in ("l1", "l2"):
        with pytest.raises(ValueError, match=name):
            Trainer(F, y, **{name: -0.1})
        with pytest.raises(ValueError, match=name):
            setattr(t, name, -1.0)
    with pytest.raises(ValueError, match="optimizer"):
        Trainer(F, y, optimizer="lbfgs")
    with pytest.raises(ValueError, match="optimizer"):
        t.set_optimizer("rmsprop")
    with pytest.raises(ValueError, match="batch_size"):
        t.batch_size = 0
    with pytest.raises(ValueError, match="momentum"):
        t.momentum = 1.0
    with pytest.raises(ValueError, match="y"):
        Trainer(F, y[:-1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Trainer(F, y * 2)
    with pytest.raises(ValueError, match="X"):
        Trainer(F[:, 0], y)
    with pytest.raises(ValueError, match="w"):
        t.set_weights([1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match="spec"):
        t.set_spec("focal")
    with pytest.raises(ValueError, match="steps"):
        fit_logistic(F, y, steps=-1)
    assert t.lr == 0.1 and t.l1 == 0.0  # failed assignments change nothing


def test_history_state_round_trip_continues_identically():
    X, y = make_dataset("overlap", 60, seed=1)
    a = Trainer(X, y, lr=0.3, history_capacity=64)
    a.step(150)  # thinned
    state = a.history.state_dict()
    assert state["stride"] == a.history.stride > 1
    b = Trainer(X, y, lr=0.3, history_capacity=64, w0=a.w, b0=a.b)
    b.restore(a.steps, state)
    for _ in range(2):
        for key, value in a.history.as_dict().items():
            np.testing.assert_array_equal(b.history.as_dict()[key], value)
        a.step(37)
        b.step(37)
    with pytest.raises(ValueError, match="newest"):
        b.restore(5, state)
    bad = dict(state, step=state["step"][::-1].copy())
    with pytest.raises(ValueError, match="increasing"):
        b.history.load_state_dict(bad)
    with pytest.raises(ValueError, match="stride"):
        b.history.load_state_dict(dict(state, stride=3))
