"""Tests of bceviz.engine.hurdle: parity with statsmodels, stable pieces, steps, frequencies, data.

References, computed independently of the module under test:

* statsmodels ``Logit(counts > 0, add_constant(X))`` for the zero part,
  ``TruncatedLFPoisson(counts[counts > 0], add_constant(X[counts > 0]))`` for
  the count part (fitted with Newton: its default BFGS stops short on
  unstandardised ages) and ``Poisson(counts, add_constant(X))`` for plain
  Poisson: parameters, ``llf`` and ``loglike`` at given parameters;
* scipy.stats (``poisson``) for the probability tables, mpmath for log(1 − e^(−μ));
* central finite differences for gradients and Hessians (hypothesis).
"""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.discrete.truncated_model import TruncatedLFPoisson

from bceviz.engine import hurdle as H
from bceviz.engine.losses import loss_from_logits


def _sm_fits(X, counts):
    """statsmodels' three fits: (Logit, TruncatedLFPoisson, Poisson) results."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logit = sm.Logit((counts > 0).astype(float), sm.add_constant(X)).fit(disp=0, tol=1e-12,
                                                                              maxiter=100)
        pos = counts > 0
        trunc = TruncatedLFPoisson(counts[pos], sm.add_constant(X[pos])).fit(
            disp=0, method="newton", maxiter=200, tol=1e-12)
        pois = sm.Poisson(counts, sm.add_constant(X)).fit(disp=0, tol=1e-12, maxiter=100)
    return logit, trunc, pois


def _random_counts(seed: int, n: int, d: int):
    """A zero-inflated count data set with d covariates on unequal scales."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.array([10.0, 1.0, 0.3][:d]) + np.array([40.0, 2.0, -1.0][:d])
    eta = 0.5 + (X - X.mean(0)) / X.std(0) @ rng.normal(scale=0.4, size=d)
    counts = rng.poisson(np.exp(eta)).astype(float)
    counts[rng.random(n) < 0.3] = 0.0
    return X, counts


def _visits(n, **kwargs):
    data = H.make_doctor_visits(n, **kwargs)
    return data.X, data.counts


DATASETS = [
    ("visits default", lambda: _visits(1000)),
    ("visits many zeros", lambda: _visits(800, extra_zeros=0.7, count_strength=1.5, seed=3)),
    ("visits no extra zeros", lambda: _visits(600, extra_zeros=0.0, count_strength=0.5, seed=11)),
    ("one covariate", lambda: _random_counts(1, 400, 1)),
    ("three covariates", lambda: _random_counts(2, 500, 3)),
]


# --------------------------------------------------------------------------- parity
@pytest.mark.parametrize("name, make", DATASETS, ids=[d[0] for d in DATASETS])
def test_fits_equal_statsmodels(name, make):
    X, counts = make()
    fit = H.fit_hurdle(X, counts)
    logit, trunc, pois = _sm_fits(X, counts)
    assert fit.converged
    np.testing.assert_allclose(np.append(fit.zero_b, fit.zero_w), logit.params,
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(np.append(fit.count_b, fit.count_w), trunc.params,
                               rtol=1e-6, atol=1e-8)
    assert fit.zero_loglik == pytest.approx(logit.llf, rel=1e-10)
    assert fit.count_loglik == pytest.approx(trunc.llf, rel=1e-10)
    assert fit.loglik == pytest.approx(logit.llf + trunc.llf, rel=1e-10)
    assert fit.loglik == fit.zero_loglik + fit.count_loglik
    w, b, ll = H.fit_poisson(X, counts)
    np.testing.assert_allclose(np.append(b, w), pois.params, rtol=1e-6, atol=1e-8)
    assert ll == pytest.approx(pois.llf, rel=1e-10)


def test_logliks_at_any_parameters_equal_statsmodels():
    X, counts = _random_counts(5, 300, 2)
    rng = np.random.default_rng(9)
    pos = counts > 0
    logit = sm.Logit((counts > 0).astype(float), sm.add_constant(X))
    trunc = TruncatedLFPoisson(counts[pos], sm.add_constant(X[pos]))
    pois = sm.Poisson(counts, sm.add_constant(X))
    for _ in range(5):
        theta = rng.normal(scale=[0.5, 0.02, 0.2])
        w, b = theta[1:], theta[0]
        assert H.zero_part_loglik(X, counts, w, b) == pytest.approx(logit.loglike(theta), rel=1e-12)
        assert H.count_part_loglik(X, counts, w, b) == pytest.approx(trunc.loglike(theta),
                                                                     rel=1e-12)
        assert H.poisson_loglik(X, counts, w, b) == pytest.approx(pois.loglike(theta), rel=1e-12)
        total, zll, cll = H.hurdle_loglik(X, counts, w, b, w, b)
        assert total == zll + cll


def test_zero_part_is_bce_of_the_shared_loss():
    X, counts = _random_counts(4, 200, 2)
    w, b = np.array([0.03, -0.4]), -0.7
    expected = loss_from_logits(X @ w + b, (counts > 0).astype(float))
    np.testing.assert_array_equal(H.zero_part_losses(X, counts, w, b), expected)


def test_loss_parts_sum_to_minus_loglik_per_person():
    X, counts = _random_counts(6, 350, 2)
    zw, zb, cw, cb = np.array([0.01, 0.2]), 0.3, np.array([-0.02, 0.1]), 0.8
    total, _, _ = H.hurdle_loglik(X, counts, zw, zb, cw, cb)
    parts = H.part_loss("zero", X, counts, zw, zb) + H.part_loss("count", X, counts, cw, cb)
    assert parts == pytest.approx(-total / X.shape[0], rel=1e-13)


# --------------------------------------------------------------------------- stable pieces
@pytest.mark.parametrize("mu", [1e-300, 1e-20, 1e-8, 1e-3, 0.3, math.log(2), 0.7, 5.0, 40.0, 700.0])
def test_log1mexp_full_precision(mu):
    with mpmath.workdps(50):
        expected = float(mpmath.log(-mpmath.expm1(-mpmath.mpf(mu))))
    assert float(H.log1mexp(mu)) == pytest.approx(expected, rel=4e-16, abs=1e-300)


@pytest.mark.parametrize("eta", [-1e6, -800.0, -50.0, -21.0, -19.0, -5.0, 0.0, 3.0, 6.0])
def test_truncated_logpmf_finite_and_exact(eta):
    for y in (1.0, 2.0, 7.0):
        value = float(H.truncated_poisson_logpmf(np.array([y]), np.array([eta]))[0])
        assert math.isfinite(value)
        with mpmath.workdps(60):
            e = mpmath.mpf(eta)
            mu = mpmath.exp(e)
            ref = y * e - mu - mpmath.loggamma(y + 1) - mpmath.log(-mpmath.expm1(-mu))
        assert value == pytest.approx(float(ref), rel=1e-13, abs=1e-13)


def test_truncated_mean_and_variance_against_scipy():
    eta = np.array([-30.0, -8.0, -2.0, -0.5, 0.0, 1.0, 2.5])
    k = np.arange(1, 400)
    for e in eta:
        mu = math.exp(e)
        pmf = stats.poisson.pmf(k, mu) / -math.expm1(-mu)
        mean = float(np.sum(k * pmf)) if mu > 1e-6 else 1.0 + mu / 2
        var = float(np.sum((k - mean) ** 2 * pmf)) if mu > 1e-6 else mu / 2
        assert float(H.truncated_poisson_mean(e)) == pytest.approx(mean, rel=1e-9)
        assert float(H.truncated_poisson_variance(e)) == pytest.approx(var, rel=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.floats(-6.0, 4.0))
def test_truncated_pmf_sums_to_one(eta):
    k = np.arange(1, 200, dtype=float)
    total = np.exp(H.truncated_poisson_logpmf(k, np.full(k.shape, eta))).sum()
    assert total == pytest.approx(1.0, rel=1e-10)


def test_log_factorial_matches_scipy():
    y = np.array([0, 1, 2, 5, 10, 170, 1000, 100_000], dtype=float)
    from scipy.special import gammaln

    np.testing.assert_allclose(H.log_factorial(y), gammaln(y + 1), rtol=1e-14)


# --------------------------------------------------------------------------- derivatives
def _fd_grad(part, X, counts, w, b, h=1e-6):
    theta = np.append(w, b)
    out = np.zeros_like(theta)
    for j in range(theta.size):
        tp, tm = theta.copy(), theta.copy()
        tp[j] += h
        tm[j] -= h
        out[j] = (H.part_loss(part, X, counts, tp[:-1], tp[-1])
                  - H.part_loss(part, X, counts, tm[:-1], tm[-1])) / (2 * h)
    return out


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(H.PARTS), st.integers(0, 10_000),
       st.lists(st.floats(-1.0, 1.0), min_size=3, max_size=3))
def test_gradient_and_hessian_equal_finite_differences(part, seed, theta):
    X, counts = _random_counts(seed, 60, 2)
    Xs = (X - X.mean(0)) / X.std(0)
    w, b = np.array(theta[:2]), theta[2]
    gw, gb = H.part_gradient(part, Xs, counts, w, b)
    np.testing.assert_allclose(np.append(gw, gb), _fd_grad(part, Xs, counts, w, b),
                               rtol=1e-5, atol=1e-7)
    Hm = H.part_hessian(part, Xs, counts, w, b)
    h = 1e-5
    theta_v = np.append(w, b)
    fd = np.zeros_like(Hm)
    for j in range(3):
        tp, tm = theta_v.copy(), theta_v.copy()
        tp[j] += h
        tm[j] -= h
        gp = np.append(*H.part_gradient(part, Xs, counts, tp[:-1], tp[-1]))
        gm = np.append(*H.part_gradient(part, Xs, counts, tm[:-1], tm[-1]))
        fd[:, j] = (gp - gm) / (2 * h)
    np.testing.assert_allclose(Hm, fd, rtol=1e-4, atol=1e-6)


def test_zero_part_residual_is_p_minus_y():
    X, counts = _random_counts(8, 100, 2)
    w, b = np.array([0.02, 0.3]), -0.4
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    gw, gb = H.part_gradient("zero", X, counts, w, b)
    r = p - (counts > 0)
    np.testing.assert_allclose(gb, r.mean(), rtol=1e-12)
    np.testing.assert_allclose(gw, X.T @ r / 100, rtol=1e-12)


# --------------------------------------------------------------------------- steps
@pytest.mark.parametrize("part", H.PARTS)
@pytest.mark.parametrize("method", H.METHODS)
def test_steps_descend_and_reach_the_fit(part, method):
    data = H.make_doctor_visits(500, seed=2)
    Xs = (data.X - data.X.mean(0)) / data.X.std(0)
    w, b = np.zeros(2), 0.0
    loss = H.part_loss(part, Xs, data.counts, w, b)
    for _ in range(400 if method == "gradient" else 25):
        st_ = H.part_step(part, Xs, data.counts, w, b, method=method, lr=1.0)
        assert st_.loss <= loss + 1e-15
        w, b, loss = st_.w, st_.b, st_.loss
    fit = H.fit_hurdle(Xs, data.counts)
    if part == "poisson":
        ref_w, ref_b, _ = H.fit_poisson(Xs, data.counts)
    else:
        ref_w, ref_b = (fit.zero_w, fit.zero_b) if part == "zero" else (fit.count_w, fit.count_b)
    tol = 2e-3 if method == "gradient" else 1e-8
    np.testing.assert_allclose(np.append(w, b), np.append(ref_w, ref_b), atol=tol)


def test_huge_rate_is_halved_not_divergent():
    data = H.make_doctor_visits(300, seed=4)
    Xs = (data.X - data.X.mean(0)) / data.X.std(0)
    st_ = H.part_step("poisson", Xs, data.counts, np.zeros(2), 0.0, lr=100.0)
    assert 0 < st_.step_size < 100.0
    assert math.isfinite(st_.loss)
    assert st_.loss <= H.part_loss("poisson", Xs, data.counts, np.zeros(2), 0.0)


def test_parts_are_decoupled():
    """One part's step leaves the other's loss exactly as it was (different parameters)."""
    data = H.make_doctor_visits(400, seed=5)
    Xs = (data.X - data.X.mean(0)) / data.X.std(0)
    cw, cb = np.array([0.1, 0.2]), 0.5
    before = H.part_loss("count", Xs, data.counts, cw, cb)
    st_ = H.part_step("zero", Xs, data.counts, np.zeros(2), 0.0, method="newton")
    assert st_.loss < H.part_loss("zero", Xs, data.counts, np.zeros(2), 0.0)
    assert H.part_loss("count", Xs, data.counts, cw, cb) == before


# --------------------------------------------------------------------------- frequencies
def test_expected_frequencies_against_scipy():
    X, _ = _random_counts(3, 150, 2)
    zw, zb, cw, cb = np.array([0.02, 0.1]), -0.2, np.array([0.01, 0.2]), 0.3
    K = 12
    mu = np.exp(X @ cw + cb)
    pi = 1.0 / (1.0 + np.exp(-(X @ zw + zb)))
    k = np.arange(K + 1)
    pmf = stats.poisson.pmf(k[None, :], mu[:, None])
    hurdle_ref = np.concatenate([[np.sum(1 - pi)],
                                 (pi[:, None] * pmf[:, 1:] / (1 - np.exp(-mu))[:, None]).sum(0)])
    np.testing.assert_allclose(H.expected_frequencies_hurdle(X, zw, zb, cw, cb, K), hurdle_ref,
                               rtol=1e-10)
    np.testing.assert_allclose(H.expected_frequencies_poisson(X, cw, cb, K), pmf.sum(0),
                               rtol=1e-10)


def test_hurdle_expected_zeros_equal_observed_at_the_fit():
    """At the fit the zero part's score for the bias is Σ(p − y) = 0: expected zeros = observed."""
    data = H.make_doctor_visits(1000)
    fit = H.fit_hurdle(data.X, data.counts)
    K = int(data.counts.max()) + 40
    freq = H.expected_frequencies_hurdle(data.X, fit.zero_w, fit.zero_b, fit.count_w,
                                         fit.count_b, K)
    obs = H.observed_frequencies(data.counts, K)
    assert freq[0] == pytest.approx(obs[0], rel=1e-8)
    assert freq.sum() == pytest.approx(1000.0, rel=1e-9)
    w, b, _ = H.fit_poisson(data.X, data.counts)
    pois = H.expected_frequencies_poisson(data.X, w, b, K)
    assert pois.sum() == pytest.approx(1000.0, rel=1e-9)
    assert pois[0] < 0.7 * obs[0]  # plain Poisson under-predicts the zeros ...
    assert pois[1] > 1.5 * obs[1]  # ... and over-predicts the ones


def test_observed_frequencies():
    np.testing.assert_array_equal(H.observed_frequencies([0, 0, 2, 5, 9], 5), [2, 0, 1, 0, 0, 1])


# --------------------------------------------------------------------------- synthetic data
def test_doctor_visits_seeded_and_stated():
    a = H.make_doctor_visits(1000, extra_zeros=0.4, count_strength=1.0, seed=7)
    b = H.make_doctor_visits(1000, extra_zeros=0.4, count_strength=1.0, seed=7)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.counts, b.counts)
    age, chronic = a.X[:, 0], a.X[:, 1]
    assert age.min() >= 18 and age.max() <= 85 and np.all(age == np.round(age))
    assert chronic.min() >= 0 and chronic.max() <= 8
    assert np.all(a.counts[a.never] == 0)
    assert a.params["extra_zeros"] == 0.4 and a.params["seed"] == 7
    # The never-visitor probability averages exactly extra_zeros.
    p = a.params
    slope = (p["never_age_effect"] * (age - 50) / 10
             + p["never_chronic_effect"] * (chronic - 1.5))
    q = 1 / (1 + np.exp(-(p["never_intercept"] + slope)))
    assert q.mean() == pytest.approx(0.4, abs=1e-9)
    assert abs(a.never.mean() - 0.4) < 0.05


def test_doctor_visits_sliders_move_only_the_margin():
    base = H.make_doctor_visits(1000, extra_zeros=0.3, seed=1)
    more = H.make_doctor_visits(1000, extra_zeros=0.35, seed=1)
    np.testing.assert_array_equal(base.X, more.X)
    assert np.all(more.never[base.never])  # a never-visitor stays one as the share grows
    none = H.make_doctor_visits(1000, extra_zeros=0.0, seed=1)
    assert not none.never.any()
    flat = H.make_doctor_visits(1000, extra_zeros=0.0, count_strength=0.0, seed=1)
    assert flat.counts.mean() == pytest.approx(2.5, abs=0.2)


@pytest.mark.parametrize("kwargs, word", [
    ({"n": 5}, "n"), ({"n": 1000.0}, "n"), ({"extra_zeros": 1.0}, "extra_zeros"),
    ({"count_strength": -0.1}, "count_strength"), ({"seed": -1}, "seed"),
])
def test_doctor_visits_refuses_bad_parameters(kwargs, word):
    args = {"n": 100, **kwargs}
    with pytest.raises(ValueError, match=word):
        H.make_doctor_visits(args.pop("n"), **args)


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize("counts, word", [
    ([0, 1, -1], "whole numbers"), ([0, 1.5, 2], "fractions"), ([0, np.nan, 1], "finite"),
])
def test_bad_counts_refused(counts, word):
    with pytest.raises(ValueError, match=word):
        H.fit_hurdle(np.arange(3.0), counts)


def test_hurdle_needs_zeros_and_positives():
    X = np.arange(6.0)
    with pytest.raises(ValueError, match="both zeros and positive"):
        H.fit_hurdle(X, [1, 2, 3, 1, 2, 1])
    with pytest.raises(ValueError, match="both zeros and positive"):
        H.fit_hurdle(X, np.zeros(6))


def test_constant_covariate_refused():
    X = np.column_stack([np.arange(10.0), np.ones(10)])
    with pytest.raises(ValueError, match="constant"):
        H.fit_hurdle(X, [0, 1, 0, 2, 3, 0, 1, 4, 0, 2])


def test_separated_zeros_do_not_converge_but_stay_finite():
    X = np.arange(20.0)
    counts = np.where(X < 10, 0.0, 1.0 + (X % 3))
    fit = H.fit_hurdle(X, counts, max_iter=60)
    assert not fit.converged
    assert np.all(np.isfinite(fit.zero_w)) and math.isfinite(fit.zero_b)
    assert math.isfinite(fit.loglik)


def test_shapes_and_arguments_validated():
    with pytest.raises(ValueError, match="length"):
        H.fit_poisson(np.zeros((4, 2)), [0, 1, 2])
    with pytest.raises(ValueError, match="part"):
        H.part_loss("hurdle", np.zeros((3, 1)), [0, 1, 2], [0.0], 0.0)
    with pytest.raises(ValueError, match="method"):
        H.part_step("zero", np.arange(3.0), [0, 1, 2], [0.0], 0.0, method="adam")
    with pytest.raises(ValueError, match="lr"):
        H.part_step("zero", np.arange(3.0), [0, 1, 2], [0.0], 0.0, lr=0.0)
    with pytest.raises(ValueError, match="zero_w"):
        H.zero_part_loglik(np.zeros((3, 2)), [0, 1, 2], [0.0], 0.0)
    with pytest.raises(ValueError, match="max_count"):
        H.observed_frequencies([0, 1], -1)
