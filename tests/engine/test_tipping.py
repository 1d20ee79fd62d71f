"""bceviz.engine.tipping against statsmodels and scikit-learn, and its laws (separation, units, SGD)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression

from bceviz.engine.logistic import fit_logistic
from bceviz.engine.losses import LossSpec, grad_from_logits, loss_from_logits
from bceviz.engine.tipping import (
    GRAIN_BOUNDARIES,
    TERMINATORS,
    TWO_LN9,
    TippingSurface,
    check_separation,
    fit_tipping,
    make_synthetic,
    sgd_run,
    sgd_update,
    surface_values,
    tipping_point_of,
    width_of,
)

FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

NON_PLAIN_SPECS = [
    LossSpec(label_smoothing=0.1),
    LossSpec(pos_weight=3.0),
    LossSpec(focal_gamma=2.0),
    LossSpec(focal_gamma=2.0, focal_alpha=0.25),
    LossSpec(label_smoothing=0.2, pos_weight=0.5, focal_gamma=1.0),
    LossSpec(focal_alpha=0.7),
]


def overlapping(seed: int, n: int = 40, scale: float = 1.0, shift: float = 0.0):
    """Data whose classes overlap on x (not separable): x ~ N(shift, scale), P(y=1) logistic."""
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, scale, n)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-1.5 * (x - shift) / scale))).astype(float)
    return x, y


def objective(w, b, x, y, l2=0.0, spec=None):
    return float(np.mean(loss_from_logits(w * x + b, y, spec or LossSpec()))) + 0.5 * l2 * w * w


def objective_gradient(w, b, x, y, l2=0.0, spec=None):
    g = grad_from_logits(w * x + b, y, spec or LossSpec())
    return float(np.mean(g * x)) + l2 * w, float(np.mean(g))


def statsmodels_fit(x, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.Logit(y, sm.add_constant(x, has_constant="add")).fit(
            method="newton", maxiter=200, tol=1e-13, disp=0)
    b, w = res.params
    se_b, se_w = res.bse
    return w, b, se_w, se_b


# ----------------------------------------------------------------------------- statsmodels


@pytest.mark.parametrize("params", [GRAIN_BOUNDARIES, TERMINATORS], ids=lambda p: p.key)
def test_synthetic_sets_match_statsmodels_logit(params):
    x, y = make_synthetic(params)
    fit = fit_tipping(x, y)
    w, b, se_w, se_b = statsmodels_fit(x, y)
    assert fit.converged and not fit.separable
    assert fit.w == pytest.approx(w, rel=1e-8)
    assert fit.b == pytest.approx(b, rel=1e-8)
    assert fit.se_w == pytest.approx(se_w, rel=1e-7)
    assert fit.se_b == pytest.approx(se_b, rel=1e-7)
    assert fit.tipping_point == pytest.approx(-b / w, rel=1e-8)
    # the delta-method error of x* = −b/w from statsmodels' covariance
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.Logit(y, sm.add_constant(x)).fit(method="newton", tol=1e-13, disp=0)
    cov = res.cov_params()  # order (const, x)
    assert fit.cov_wb == pytest.approx(cov[0, 1], rel=1e-7)
    grad = np.array([-1.0 / w, b / w**2])  # d(−b/w)/d(b, w)
    assert fit.se_tipping_point == pytest.approx(math.sqrt(grad @ cov @ grad), rel=1e-7)


@FAST
@given(seed=st.integers(0, 10_000), n=st.integers(12, 80),
       scale=st.sampled_from([1e-3, 0.2, 1.0, 30.0, 4000.0]),
       offset=st.sampled_from([0.0, -3.0, 1.5, 8.0]))
def test_fit_matches_statsmodels_on_non_separable_data(seed, n, scale, offset):
    # (offsets of a few spreads: far beyond, statsmodels' unscaled Newton loses digits itself)
    x, y = overlapping(seed, n, scale, offset * scale)
    sep = check_separation(x, y)
    assume(0 < y.sum() < n and not sep.separable and not sep.quasi_separable)
    fit = fit_tipping(x, y)
    w, b, se_w, se_b = statsmodels_fit(x, y)
    assert fit.converged
    # Near-separated data leave the likelihood flat: compare in the units of the errors.
    assert abs(fit.w - w) <= 1e-6 * se_w
    assert abs(fit.b - b) <= 1e-6 * se_b
    assert fit.se_w == pytest.approx(se_w, rel=1e-5)
    assert fit.se_b == pytest.approx(se_b, rel=1e-5)


# ----------------------------------------------------------------------------- scikit-learn


def sklearn_fit(x, y, l2):
    model = LogisticRegression(C=1.0 / (l2 * x.size), tol=1e-12, max_iter=1000,
                               solver="newton-cholesky")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x.reshape(-1, 1), y)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


@pytest.mark.parametrize("l2", [1e-3, 0.05, 1.0])
@pytest.mark.parametrize("case", ["grain", "terminators", "separable", "two"])
def test_l2_fit_matches_sklearn(case, l2):
    if case == "grain":
        x, y = make_synthetic(GRAIN_BOUNDARIES)
    elif case == "terminators":
        x, y = make_synthetic(TERMINATORS)
    elif case == "separable":
        x = np.array([0.1, 0.5, 0.9, 2.0, 2.5, 3.1])
        y = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    else:
        x, y = np.array([-14.0, -4.0]), np.array([1.0, 0.0])
    fit = fit_tipping(x, y, l2=l2)
    w, b = sklearn_fit(x, y, l2)
    assert fit.converged and fit.optimum_exists
    assert fit.w == pytest.approx(w, rel=1e-5, abs=1e-7)
    assert fit.b == pytest.approx(b, rel=1e-5, abs=1e-6)
    assert fit.se_w is None and fit.se_b is None  # a penalised fit has no Wald errors here
    gw, gb = objective_gradient(fit.w, fit.b, x, y, l2)
    assert abs(gw) < 1e-9 and abs(gb) < 1e-9


@FAST
@given(seed=st.integers(0, 10_000), l2=st.floats(1e-3, 2.0))
def test_l2_fit_matches_sklearn_property(seed, l2):
    x, y = overlapping(seed, 30, 2.0, 5.0)
    assume(0 < y.sum() < y.size)
    fit = fit_tipping(x, y, l2=l2)
    w, b = sklearn_fit(x, y, l2)
    assert fit.w == pytest.approx(w, rel=1e-5, abs=1e-7)
    assert fit.b == pytest.approx(b, rel=1e-5, abs=1e-6)


# ----------------------------------------------------------------------------- loss settings


@pytest.mark.parametrize("spec", NON_PLAIN_SPECS, ids=repr)
def test_fit_with_loss_settings_is_the_minimiser(spec):
    x, y = make_synthetic(TERMINATORS)
    fit = fit_tipping(x, y, spec=spec)
    assert fit.converged and fit.se_w is None and fit.se_b is None
    gw, gb = objective_gradient(fit.w, fit.b, x, y, spec=spec)
    assert abs(gw) < 1e-8 and abs(gb) < 1e-8
    # an independent optimiser on the same objective
    ref = minimize(lambda t: objective(t[0], t[1], x, y, spec=spec), x0=[0.0, 0.0],
                   jac=lambda t: np.array(objective_gradient(t[0], t[1], x, y, spec=spec)),
                   method="BFGS", options={"gtol": 1e-11, "maxiter": 10_000})
    assert fit.objective <= ref.fun + 1e-12
    assert fit.w == pytest.approx(ref.x[0], rel=1e-4)
    assert fit.b == pytest.approx(ref.x[1], rel=1e-4)
    # and the 2-D engine's Newton on the same one feature
    other = fit_logistic(x.reshape(-1, 1), y, spec, steps=500, tol=1e-12)
    assert fit.w == pytest.approx(float(other.w[0]), rel=1e-6)
    assert fit.b == pytest.approx(float(other.b), rel=1e-6)


def test_pos_weight_moves_the_tipping_point_towards_the_negatives():
    x, y = make_synthetic(TERMINATORS)  # w < 0: class 1 (works) at low ΔG
    plain = fit_tipping(x, y)
    weighted = fit_tipping(x, y, spec=LossSpec(pos_weight=4.0))
    assert weighted.w < 0 and plain.w < 0
    # predicting "works" becomes cheaper: the tipping point moves up, into the failures
    assert weighted.tipping_point > plain.tipping_point


def test_smoothing_gives_separated_data_a_finite_optimum():
    x, y = np.array([-14.0, -4.0]), np.array([1.0, 0.0])
    fit = fit_tipping(x, y, spec=LossSpec(label_smoothing=0.1))
    assert fit.separable and fit.optimum_exists and fit.converged
    assert fit.tipping_point == pytest.approx(-9.0, rel=1e-9)


# ----------------------------------------------------------------------------- definitions


@FAST
@given(w=st.floats(-50, 50).filter(lambda v: abs(v) > 1e-3), b=st.floats(-100, 100))
def test_tipping_point_and_width_mean_what_they_say(w, b):
    t, width = tipping_point_of(w, b), width_of(w)

    def p(v):
        return 1.0 / (1.0 + math.exp(-(w * v + b)))

    assert p(t) == pytest.approx(0.5, abs=1e-9)
    lo, hi = sorted([p(t - width / 2), p(t + width / 2)])
    assert lo == pytest.approx(0.1, abs=1e-9) and hi == pytest.approx(0.9, abs=1e-9)
    assert width == pytest.approx(TWO_LN9 / abs(w))


def test_no_tipping_point_without_a_slope():
    assert tipping_point_of(0.0, 1.0) is None and width_of(0.0) is None
    fit = fit_tipping([3.0, 3.0, 3.0], [0.0, 1.0, 1.0])  # a constant feature
    assert fit.w == 0.0 and fit.tipping_point is None and fit.width is None
    assert fit.b == pytest.approx(math.log(2.0))  # the best constant: logit of 2/3
    assert fit.se_w is None and not fit.separable and not fit.quasi_separable


# ----------------------------------------------------------------------------- separation


def brute_force_separation(x, y):
    """(separable, quasi) by trying every threshold between and at the sorted values."""
    values = np.unique(x)
    cuts = np.concatenate([[values[0] - 1], (values[:-1] + values[1:]) / 2, [values[-1] + 1]])
    pos, neg = x[y == 1], x[y == 0]
    separable = any((np.all(pos > t) and np.all(neg < t)) or (np.all(pos < t) and np.all(neg > t))
                    for t in cuts)
    quasi = False
    if not separable and values.size > 1:
        quasi = any((np.all(pos >= t) and np.all(neg <= t)) or (np.all(pos <= t) and np.all(neg >= t))
                    for t in values)
    return separable, quasi


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(-4, 4), st.integers(0, 1)), min_size=2, max_size=9))
def test_separation_is_detected_exactly_when_a_threshold_splits_the_classes(rows):
    x = np.array([r[0] for r in rows], dtype=float) * 2.5
    y = np.array([r[1] for r in rows], dtype=float)
    assume(0 < y.sum() < y.size)
    sep = check_separation(x, y)
    separable, quasi = brute_force_separation(x, y)
    assert sep.separable == separable
    assert sep.quasi_separable == quasi
    if separable:
        lo, hi = sep.gap
        pos_side = x[y == 1]
        assert (np.all(pos_side >= hi) if sep.positive_above else np.all(pos_side <= lo))
    fit = fit_tipping(x, y)  # plain, no penalty
    no_mle = separable or quasi
    assert fit.optimum_exists == (not no_mle)
    assert fit.converged == (not no_mle)
    assert (fit.se_w is None) == (no_mle or np.unique(x).size == 1)
    assert fit_tipping(x, y, l2=0.1).converged  # a penalty always gives the optimum


def test_separated_fit_stops_at_large_finite_weights_without_overflow():
    cases = [
        (np.array([-14.0, -4.0]), np.array([1.0, 0.0])),
        (np.array([0.0, 1e-9]), np.array([0.0, 1.0])),  # a tiny gap: a huge but finite w
        (np.array([1e8, 1e8 + 1.0, 3e8]), np.array([0.0, 1.0, 1.0])),
        (np.array([0.0, 1.0, 1.0, 2.0]), np.array([0.0, 0.0, 1.0, 1.0])),  # quasi
    ]
    for x, y in cases:
        with np.errstate(over="raise", invalid="raise", divide="raise"), \
                warnings.catch_warnings():
            warnings.simplefilter("error")
            fit = fit_tipping(x, y)
        assert not fit.converged and not fit.optimum_exists
        assert math.isfinite(fit.w) and math.isfinite(fit.b)
        sep = check_separation(x, y)
        lo, hi = sep.gap
        # x* between the two nearest opposite examples, and every example far from it in z
        assert lo <= fit.tipping_point <= hi
        off_tie = x[(x < lo) | (x > hi)] if sep.quasi_separable else x
        assert np.min(np.abs(fit.w * off_tie + fit.b)) > 30.0
        assert fit.se_w is None and fit.se_b is None
        penalised = fit_tipping(x, y, l2=1e-2)
        assert penalised.converged and abs(penalised.w) < abs(fit.w)


def test_loss_settings_that_remove_a_class_leave_no_optimum():
    x, y = make_synthetic(GRAIN_BOUNDARIES)
    for spec in (LossSpec(pos_weight=0.0), LossSpec(focal_alpha=0.0), LossSpec(focal_alpha=1.0)):
        for l2 in (0.0, 0.5):
            fit = fit_tipping(x, y, l2=l2, spec=spec)
            assert not fit.optimum_exists and not fit.converged
            assert math.isfinite(fit.w) and math.isfinite(fit.b)


# ----------------------------------------------------------------------------- units


@FAST
@given(seed=st.integers(0, 10_000),
       factor=st.sampled_from([math.pi / 180.0, 180.0 / math.pi, 1000.0, 1e-3, 4.184, 7.0]),
       l2=st.sampled_from([0.0, 0.01, 0.3]),
       separated=st.booleans())
def test_units_do_not_change_the_fit(seed, factor, l2, separated):
    """Degrees vs radians, kcal vs cal: w divided, x* and width multiplied by the factor."""
    if separated:
        rng = np.random.default_rng(seed)
        x = np.sort(rng.uniform(0.0, 62.8, 12))
        y = (x < x[5] + 1e-9).astype(float)
    else:
        x, y = overlapping(seed, 40, 10.0, 20.0)
    assume(0 < y.sum() < y.size)
    a = fit_tipping(x, y, l2=l2)
    b = fit_tipping(x * factor, y, l2=l2 * factor**2)
    assert a.converged == b.converged and a.separable == b.separable
    tol = 1e-7 if a.converged else 1e-5
    assert b.w * factor == pytest.approx(a.w, rel=tol)
    assert b.b == pytest.approx(a.b, rel=tol, abs=1e-9)
    assert b.tipping_point == pytest.approx(a.tipping_point * factor, rel=tol)
    assert b.width == pytest.approx(a.width * factor, rel=tol)
    if a.se_w is not None:
        assert b.se_w * factor == pytest.approx(a.se_w, rel=1e-7)
        assert b.se_b == pytest.approx(a.se_b, rel=1e-7)
    else:
        assert b.se_w is None


def test_degrees_and_radians_on_the_grain_boundaries():
    x, y = make_synthetic(GRAIN_BOUNDARIES)
    deg = fit_tipping(x, y)
    rad = fit_tipping(np.radians(x), y)
    assert math.radians(deg.tipping_point) == pytest.approx(rad.tipping_point, rel=1e-9)
    assert deg.iterations == rad.iterations


# ----------------------------------------------------------------------------- SGD


finite = st.floats(-50, 50, allow_nan=False)


@FAST
@given(w=finite, b=finite, x=finite, y=st.sampled_from([0.0, 1.0]), lr=st.floats(1e-4, 2.0))
def test_sgd_update_is_the_closed_form_for_plain_bce(w, b, x, y, lr):
    w_new, b_new, p, grad = sgd_update(w, b, x, y, lr)
    z = w * x + b
    p_ref = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
    assert p == pytest.approx(p_ref, rel=1e-12, abs=1e-300)
    assert grad == pytest.approx(p_ref - y, rel=1e-12, abs=1e-15)
    assert w_new == pytest.approx(w - lr * (p_ref - y) * x, rel=1e-12, abs=1e-12)
    assert b_new == pytest.approx(b - lr * (p_ref - y), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("spec", NON_PLAIN_SPECS, ids=repr)
@given(w=finite, b=finite, x=finite, y=st.sampled_from([0.0, 1.0]), lr=st.floats(1e-4, 2.0),
       l2=st.sampled_from([0.0, 0.1]))
@settings(max_examples=25, deadline=None)
def test_sgd_update_uses_grad_from_logits_for_loss_settings(spec, w, b, x, y, lr, l2):
    w_new, b_new, _p, grad = sgd_update(w, b, x, y, lr, spec, l2=l2)
    z = w * x + b
    g_ref = float(grad_from_logits(z, y, spec))
    assert grad == pytest.approx(g_ref, rel=1e-14, abs=1e-300)
    assert w_new == pytest.approx(w - lr * (g_ref * x + l2 * w), rel=1e-12, abs=1e-12)
    assert b_new == pytest.approx(b - lr * g_ref, rel=1e-12, abs=1e-12)
    # and grad_z really is dL/dz: a central difference of the loss
    if abs(z) < 30:
        h = 1e-6
        fd = (float(loss_from_logits(z + h, y, spec)) - float(loss_from_logits(z - h, y, spec))) / (2 * h)
        assert grad == pytest.approx(fd, rel=1e-5, abs=1e-8)


def test_sgd_run_equals_repeated_updates_and_records_the_path():
    x, y = make_synthetic(GRAIN_BOUNDARIES)
    spec = LossSpec(focal_gamma=2.0)
    for s in (LossSpec(), spec):
        w, b = 0.0, 0.0
        expected = []
        for xi, yi in zip(x, y):
            w, b, p, g = sgd_update(w, b, xi, yi, 0.002, s, l2=0.01)
            expected.append((w, b, p, g))
        path = np.empty((x.size, 2))
        w2, b2, ps, gs = sgd_run(0.0, 0.0, x, y, 0.002, s, l2=0.01, path=path)
        assert (w2, b2) == expected[-1][:2]
        np.testing.assert_array_equal(path, [[e[0], e[1]] for e in expected])
        np.testing.assert_array_equal(ps, [e[2] for e in expected])
        np.testing.assert_array_equal(gs, [e[3] for e in expected])


def test_sgd_descends_towards_the_fit_on_average():
    x, y = make_synthetic(TERMINATORS)
    fit = fit_tipping(x, y, l2=0.01)
    rng = np.random.default_rng(0)
    order = np.concatenate([rng.permutation(x.size) for _ in range(400)])
    w, b, _, _ = sgd_run(0.0, 0.0, x[order], y[order], 0.01, l2=0.01)
    assert objective(w, b, x, y, 0.01) < objective(0.0, 0.0, x, y, 0.01)
    assert tipping_point_of(w, b) == pytest.approx(fit.tipping_point, abs=1.5)


def test_sgd_validation_names_the_argument():
    with pytest.raises(ValueError, match="lr"):
        sgd_update(0.0, 0.0, 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="y_i"):
        sgd_update(0.0, 0.0, 1.0, 1.5, 0.1)
    with pytest.raises(ValueError, match="x_i"):
        sgd_update(0.0, 0.0, float("nan"), 1.0, 0.1)
    with pytest.raises(ValueError, match="overflow"):
        sgd_update(1e300, 0.0, 1e10, 1.0, 0.1)
    with pytest.raises(ValueError, match="spec"):
        sgd_update(0.0, 0.0, 1.0, 1.0, 0.1, spec="plain")


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize("x, y, match", [
    ([1.0, 2.0], [1.0, 1.0], "both classes"),
    ([1.0, 2.0], [0.0, 0.5], "class labels 0 or 1"),
    ([1.0, float("nan")], [0.0, 1.0], "finite"),
    ([1.0, 2.0, 3.0], [0.0, 1.0], "same length"),
    ([[1.0, 2.0]], [[0.0, 1.0]], "1-D"),
    ([0.0, 2e9], [0.0, 1.0], "within"),
])
def test_fit_refuses_bad_data(x, y, match):
    with pytest.raises(ValueError, match=match):
        fit_tipping(x, y)


def test_fit_refuses_bad_settings():
    with pytest.raises(ValueError, match="l2"):
        fit_tipping([0.0, 1.0], [0.0, 1.0], l2=-1.0)
    with pytest.raises(ValueError, match="spec"):
        fit_tipping([0.0, 1.0], [0.0, 1.0], spec={"pos_weight": 2})


# ----------------------------------------------------------------------------- surface


SURFACE_SPECS = [LossSpec(), LossSpec(label_smoothing=0.1, pos_weight=2.0),
                 LossSpec(focal_alpha=0.25), LossSpec(focal_gamma=2.0, focal_alpha=0.25)]

edits = st.lists(st.one_of(
    st.tuples(st.just("move"), st.integers(0, 50), st.floats(-30, 30)),
    st.tuples(st.just("flip"), st.integers(0, 50), st.just(0.0)),
    st.tuples(st.just("add"), st.integers(0, 1), st.floats(-30, 30)),
    st.tuples(st.just("remove"), st.integers(0, 50), st.just(0.0)),
    st.tuples(st.just("spec"), st.integers(0, len(SURFACE_SPECS) - 1), st.just(0.0)),
    st.tuples(st.just("l2"), st.integers(0, 2), st.just(0.0)),
), max_size=25)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 1000), ops=edits)
def test_surface_stays_equal_to_the_brute_force_grid_under_edits(seed, ops):
    x, y = overlapping(seed, 8, 8.0, -10.0)
    wv, bv = np.linspace(-3.0, 1.0, 17), np.linspace(-20.0, 10.0, 13)
    spec, l2 = LossSpec(), 0.0
    surf = TippingSurface(x, y, wv, bv)
    xs, ys = list(x), list(y)
    for kind, i, v in ops:
        if kind == "move" and xs:
            i %= len(xs)
            xs[i] = v
            surf.move_point(i, v)
        elif kind == "flip" and xs:
            i %= len(xs)
            ys[i] = 1.0 - ys[i]
            surf.set_label(i, ys[i])
        elif kind == "add":
            xs.append(v)
            ys.append(float(i))
            surf.add_point(v, float(i))
        elif kind == "remove" and xs:
            i %= len(xs)
            xs.pop(i)
            ys.pop(i)
            surf.remove_point(i)
        elif kind == "spec":
            spec = SURFACE_SPECS[i]
            surf.set_spec(spec)
        elif kind == "l2":
            l2 = (0.0, 0.1, 2.0)[i]
            surf.set_l2(l2)
    ref = surface_values(np.array(xs), np.array(ys), wv, bv, l2=l2, spec=spec)
    np.testing.assert_allclose(surf.values, ref, rtol=1e-9, atol=1e-9)


def test_surface_minimum_is_near_the_fit():
    x, y = make_synthetic(TERMINATORS)
    fit = fit_tipping(x, y)
    wv = np.linspace(fit.w - 0.5, fit.w + 0.5, 201)
    bv = np.linspace(fit.b - 6.0, fit.b + 6.0, 201)
    values = TippingSurface(x, y, wv, bv).values
    j, i = np.unravel_index(np.argmin(values), values.shape)
    assert abs(wv[i] - fit.w) <= 0.006 and abs(bv[j] - fit.b) <= 0.07
    assert values.min() >= fit.objective - 1e-12


def test_synthetic_sets_are_seeded_and_within_their_stated_ranges():
    for params in (GRAIN_BOUNDARIES, TERMINATORS):
        x1, y1 = make_synthetic(params)
        x2, y2 = make_synthetic(params)
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
        assert x1.size == params.n
        assert params.x_low <= x1.min() and x1.max() <= params.x_high
        assert 0 < y1.sum() < y1.size
        fit = fit_tipping(x1, y1)
        # the generating sign is recovered, and the tipping point within 5 % of the range
        assert np.sign(fit.w) == np.sign(params.w_true)
        assert abs(fit.tipping_point - params.tipping_true) < 0.05 * (params.x_high - params.x_low)


def test_a_warm_start_finds_the_same_optimum_and_is_ignored_without_one():
    x, y = make_synthetic(GRAIN_BOUNDARIES)
    cold = fit_tipping(x, y)
    x2 = x.copy()
    x2[0] = 20.0
    warm = fit_tipping(x2, y, start=(cold.w, cold.b))
    ref = fit_tipping(x2, y)
    assert warm.converged and warm.iterations < ref.iterations
    assert warm.w == pytest.approx(ref.w, rel=1e-10) and warm.b == pytest.approx(ref.b, rel=1e-10)
    assert warm.se_w == pytest.approx(ref.se_w, rel=1e-9)
    sep_x, sep_y = np.array([-14.0, -4.0]), np.array([1.0, 0.0])
    stopped = fit_tipping(sep_x, sep_y)
    again = fit_tipping(sep_x, sep_y, start=(stopped.w * 3, stopped.b * 3))
    assert (again.w, again.b) == (stopped.w, stopped.b)  # where it stops does not depend on it
