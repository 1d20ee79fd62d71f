"""Tests of bceviz.engine.losses against closed forms, finite differences, mpmath and sklearn.

Every expected value here is computed independently of the module under test:
hand-written closed forms in ``math``/NumPy, high-precision mpmath, central
finite differences, scikit-learn's ``log_loss`` or the documented Keras formula.
The torch parity tests live in ``test_losses_parity.py``.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bceviz.engine.losses import (
    FRAMEWORK_CEILINGS,
    NATS_PER_BIT,
    LossSpec,
    curvature_from_logits,
    entropy,
    framework_loss_from_probs,
    grad_from_logits,
    grad_wrt_prob,
    hinge_from_logits,
    hinge_grad_from_logits,
    kl_divergence,
    loss_from_logits,
    loss_from_probs,
    smooth_labels,
    squared_error_from_logits,
    squared_error_grad_from_logits,
    to_bits,
    validate_labels,
)

try:
    import mpmath
except ImportError:  # pragma: no cover - mpmath comes with torch's sympy
    mpmath = None

EPS64 = float(np.finfo(np.float64).eps)
PROPERTY = settings(max_examples=150, deadline=None)


# ----------------------------------------------------------------------------
# Independent references


def ref_sigmoid(z: float) -> float:
    """sigma(z) in math, stable on both sides."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def ref_softplus(z: float) -> float:
    """log(1 + e^z) in math."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def ref_entropy(y: float) -> float:
    """Binary entropy in nats with 0 log 0 = 0."""
    h = 0.0
    if y > 0:
        h -= y * math.log(y)
    if y < 1:
        h -= (1 - y) * math.log1p(-y)
    return h


def ref_loss(z: float, y: float, spec: LossSpec) -> float:
    """DESIGN.md's formula, written out in math (double precision)."""
    eps, pw, gamma, alpha = (
        spec.label_smoothing,
        spec.pos_weight,
        spec.focal_gamma,
        spec.focal_alpha,
    )
    ys = y * (1 - eps) + eps / 2
    ce = pw * ys * ref_softplus(-z) + (1 - ys) * ref_softplus(z)
    p = ref_sigmoid(z)
    q = p * (1 - ys) + ref_sigmoid(-z) * ys  # 1 - p_t
    loss = ce * q**gamma
    if alpha is not None:
        loss *= alpha * ys + (1 - alpha) * (1 - ys)
    return loss


specs = st.builds(
    LossSpec,
    label_smoothing=st.floats(0.0, 0.95),
    pos_weight=st.floats(0.0, 10.0),
    focal_gamma=st.one_of(st.just(0.0), st.floats(0.0, 5.0)),
    focal_alpha=st.one_of(st.none(), st.floats(0.0, 1.0)),
)
# Hard labels get extra weight: they are where the extremes live.
labels = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0))


# ----------------------------------------------------------------------------
# The worked numbers of the tutorial text


def test_p_085_for_a_positive_costs_minus_ln_085():
    expected = -math.log(0.85)
    assert expected == pytest.approx(0.16251892949777494, rel=1e-15)
    logit_085 = math.log(0.85 / 0.15)
    assert loss_from_logits(logit_085, 1.0) == pytest.approx(expected, rel=1e-13)
    assert loss_from_probs(0.85, 1.0) == pytest.approx(expected, rel=1e-13)


def test_p_09_for_a_positive_costs_0105_nats():
    assert loss_from_probs(0.9, 1) == pytest.approx(0.105, abs=5e-4)
    assert loss_from_logits(math.log(9.0), 1) == pytest.approx(-math.log(0.9), rel=1e-13)


def test_constant_classifier_b_beats_spread_classifier_a_on_likelihood_and_bce():
    labels_ = np.ones(3)
    probs_a = np.array([0.7, 0.8, 0.9])
    probs_b = np.array([0.8, 0.8, 0.8])
    likelihood_a, likelihood_b = np.prod(probs_a), np.prod(probs_b)
    assert likelihood_a == pytest.approx(0.504, rel=1e-12)
    assert likelihood_b == pytest.approx(0.512, rel=1e-12)

    bce_a = loss_from_probs(probs_a, labels_)
    bce_b = loss_from_probs(probs_b, labels_)
    assert bce_b.mean() < bce_a.mean()
    # Mean BCE is minus the log-likelihood per sample.
    assert bce_a.mean() == pytest.approx(-math.log(0.504) / 3, rel=1e-12)
    assert bce_b.mean() == pytest.approx(-math.log(0.512) / 3, rel=1e-12)
    # Same numbers through the logit path.
    logits_a = np.log(probs_a / (1 - probs_a))
    assert loss_from_logits(logits_a, labels_).sum() == pytest.approx(-math.log(0.504), rel=1e-12)


@pytest.mark.parametrize("logit", [30.0, 50.0, 1e3, 1e6])
def test_label_smoothing_keeps_a_gradient_at_infinite_confidence(logit):
    spec = LossSpec(label_smoothing=0.2)
    assert smooth_labels(1.0, 0.2) == pytest.approx(0.9, rel=1e-15)
    # p - y_s -> 1 - 0.9: the smoothed model is still pushed back.
    assert grad_from_logits(logit, 1.0, spec) == pytest.approx(0.1, rel=1e-11)
    # Without smoothing the gradient vanishes like -e^-z.
    assert 0.0 <= -grad_from_logits(logit, 1.0) <= 1e-13


def test_one_bit_is_ln2_nats_and_p_half_costs_exactly_one_bit():
    assert NATS_PER_BIT == math.log(2.0)
    assert to_bits(math.log(2.0)) == 1.0
    assert to_bits(loss_from_probs(0.5, 1.0)) == 1.0
    assert to_bits(loss_from_logits(0.0, 1.0)) == 1.0
    assert to_bits(loss_from_logits(0.0, 0.0)) == 1.0
    assert to_bits(1.0) == pytest.approx(1.0 / math.log(2.0), rel=1e-15)


# ----------------------------------------------------------------------------
# Closed forms


@PROPERTY
@given(z=st.floats(-700.0, 700.0), y=labels)
def test_plain_bce_gradient_is_sigmoid_minus_label(z, y):
    expected = ref_sigmoid(z) - y
    assert grad_from_logits(z, y) == pytest.approx(expected, rel=1e-14, abs=2 * EPS64)


@PROPERTY
@given(z=st.floats(-700.0, 700.0), y=labels)
def test_plain_bce_curvature_is_p_times_one_minus_p(z, y):
    e = math.exp(-abs(z))
    expected = e / (1.0 + e) ** 2  # p (1 - p) without cancellation
    assert curvature_from_logits(z, y) == pytest.approx(expected, rel=1e-13, abs=1e-300)


@PROPERTY
@given(z=st.floats(-60.0, 60.0), y=labels, spec=specs)
def test_loss_matches_the_design_formula(z, y, spec):
    expected = ref_loss(z, y, spec)
    assert loss_from_logits(z, y, spec) == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_loss_is_vectorised_and_broadcasts():
    z = np.linspace(-5, 5, 12).reshape(3, 4)
    y = np.array([0.0, 0.3, 0.7, 1.0])
    spec = LossSpec(label_smoothing=0.1, pos_weight=2.0, focal_gamma=2.0, focal_alpha=0.25)
    out = loss_from_logits(z, y, spec)
    assert out.shape == (3, 4) and out.dtype == np.float64
    expected = [[ref_loss(z[i, j], y[j], spec) for j in range(4)] for i in range(3)]
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert grad_from_logits(z, y, spec).shape == (3, 4)
    assert curvature_from_logits(z, y, spec).shape == (3, 4)
    # Integer and float32 inputs are computed in float64.
    assert loss_from_logits(np.float32(2.0), 1).dtype == np.float64


@pytest.mark.parametrize("spec", [LossSpec(), LossSpec(0.1, 3.0), LossSpec(0.3, 0.0)])
def test_coefficients_give_ce_as_a_softplus_minus_b_z(spec):
    z = np.linspace(-8, 8, 33)
    for y in (0.0, 0.4, 1.0):
        a, b = spec.coefficients(np.array(y))
        expected = [a * ref_softplus(v) - b * v for v in z]
        np.testing.assert_allclose(loss_from_logits(z, y, spec), expected, rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------
# High-precision reference: relative accuracy where double precision can have it

needs_mpmath = pytest.mark.skipif(mpmath is None, reason="mpmath not installed")


def _mp_terms(z, y: float, spec: LossSpec, order: int):
    """(derivative of the loss of the given order, sum of |terms| of the analytic form).

    The second value is the scale against which rounding in double precision
    must be judged where the derivative passes through zero.
    """
    mp = mpmath
    z = mp.mpf(z)
    eps, pw = mp.mpf(spec.label_smoothing), mp.mpf(spec.pos_weight)
    ys = mp.mpf(y) * (1 - eps) + eps / 2
    alpha_t = 1 if spec.focal_alpha is None else (
        mp.mpf(spec.focal_alpha) * ys + (1 - mp.mpf(spec.focal_alpha)) * (1 - ys)
    )
    gamma = mp.mpf(spec.focal_gamma)

    def ce(t):
        return pw * ys * mp.log1p(mp.exp(-t)) + (1 - ys) * mp.log1p(mp.exp(t))

    def m(t):
        p = 1 / (1 + mp.exp(-t))
        return (p * (1 - ys) + (1 - p) * ys) ** gamma

    def loss(t):
        return ce(t) * m(t) * alpha_t

    value = loss(z) if order == 0 else mp.diff(loss, z, order)
    p = 1 / (1 + mp.exp(-z))
    # |terms| of d^k(ce * m) by the product rule, with dce split into its two parts.
    d = [mp.diff(ce, z, k) if k else ce(z) for k in range(order + 1)]
    dm = [mp.diff(m, z, k) if k else m(z) for k in range(order + 1)]
    if order >= 1:
        d[1] = abs((1 - ys) * p) + abs(pw * ys * (1 - p))
    scale = sum(math.comb(order, k) * abs(d[k] * dm[order - k]) for k in range(order + 1))
    return value, scale * abs(alpha_t)


ACCURACY_SPECS = [
    LossSpec(),
    LossSpec(pos_weight=3.7),
    LossSpec(pos_weight=0.25),
    LossSpec(label_smoothing=0.1),
    LossSpec(focal_gamma=2.0),
    LossSpec(focal_gamma=0.5, focal_alpha=0.25),
    LossSpec(label_smoothing=0.05, pos_weight=2.0, focal_gamma=5.0, focal_alpha=0.8),
]


@needs_mpmath
@pytest.mark.parametrize("spec", ACCURACY_SPECS, ids=repr)
@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
def test_loss_gradient_curvature_to_full_relative_precision(spec, y):
    """Confident, correct predictions (z >> 0 for y = 1) must not lose digits.

    Regression test: the loss was computed as a*softplus(z) - b*z and the
    gradient as a*p - b, which cancel for y = 1 and z >> 0 (loss exactly 0 and
    gradient exactly 0 beyond z ~ 37 instead of ~e^-z).
    """
    mpmath.mp.dps = 40
    zs = np.linspace(-40.0, 40.0, 81)
    for fn, order, rtol in (
        (loss_from_logits, 0, 1e-12),
        (grad_from_logits, 1, 1e-11),
        (curvature_from_logits, 2, 1e-11),
    ):
        got = fn(zs, y, spec)
        for z, value in zip(zs, got):
            ref, scale = _mp_terms(z, y, spec, order)
            tol = rtol * float(scale) + 1e-300
            assert abs(value - float(ref)) <= tol, (fn.__name__, z, value, float(ref), tol)


# ----------------------------------------------------------------------------
# Properties (hypothesis)


def _fd_tolerance(values_scale: float, deriv: float, h: float) -> float:
    # Rounding of the difference quotient (~eps * |f| / h) plus truncation
    # (h^2 * |f'''| / 6, with |f'''| bounded by a few times the function scale).
    return 50 * EPS64 * values_scale / h + 1e-6 * (abs(deriv) + 1e-3 * values_scale)


@PROPERTY
@given(z=st.floats(-30.0, 30.0), y=labels, spec=specs)
def test_gradient_equals_central_finite_difference(z, y, spec):
    h = 2.0**-14  # ~6e-5: truncation ~1e-10, rounding ~1e-11 * |L|
    up, down = loss_from_logits([z + h, z - h], y, spec)
    fd = (up - down) / (2 * h)
    grad = float(grad_from_logits(z, y, spec))
    scale = 1.0 + abs(float(loss_from_logits(z, y, spec))) + spec.pos_weight
    assert abs(fd - grad) <= _fd_tolerance(scale, grad, h), (fd, grad)


@PROPERTY
@given(z=st.floats(-30.0, 30.0), y=labels, spec=specs)
def test_curvature_equals_central_finite_difference_of_gradient(z, y, spec):
    h = 2.0**-14
    up, down = grad_from_logits([z + h, z - h], y, spec)
    fd = (up - down) / (2 * h)
    curv = float(curvature_from_logits(z, y, spec))
    scale = 1.0 + abs(float(grad_from_logits(z, y, spec))) + spec.pos_weight
    assert abs(fd - curv) <= _fd_tolerance(scale, curv, h), (fd, curv)


@PROPERTY
@given(z=st.floats(-1e6, 1e6), y=labels, eps=st.floats(0.0, 0.99))
def test_plain_bce_is_never_below_the_entropy_of_its_target(z, y, eps):
    spec = LossSpec(label_smoothing=eps)
    ys = y * (1 - eps) + eps / 2
    floor = ref_entropy(ys)
    loss = float(loss_from_logits(z, y, spec))
    assert loss >= floor - 1e-13 * (1 + floor)
    np.testing.assert_allclose(entropy(ys), floor, rtol=1e-13, atol=1e-300)
    assert float(entropy(smooth_labels(y, eps))) == pytest.approx(floor, rel=1e-12, abs=1e-300)


@PROPERTY
@given(z=st.floats(-1e6, 1e6), k=st.integers(0, 2**20), eps=st.floats(0.0, 0.99))
def test_plain_bce_is_symmetric_under_swapping_classes(z, k, eps):
    # Labels k / 2^20 make 1 - y exact, so only the loss is under test.
    y = k / 2**20
    spec = LossSpec(label_smoothing=eps)
    left = float(loss_from_logits(z, y, spec))
    right = float(loss_from_logits(-z, 1.0 - y, spec))
    # Smoothing rounds y_s by ~eps, which moves the loss by up to |z| * eps.
    tol = 1e-13 * abs(left) + (4 * EPS64 * abs(z) if eps else 0.0) + 1e-300
    assert abs(left - right) <= tol
    assert float(grad_from_logits(z, y, spec)) == pytest.approx(
        -float(grad_from_logits(-z, 1.0 - y, spec)), rel=1e-12, abs=4 * EPS64
    )


EXTREME_LOGITS = np.array(
    [-1e6, -1e5, -746.0, -745.0, -710.0, -709.0, -40.0, -1e-300, 0.0, 1e-300, 40.0, 709.0,
     710.0, 745.0, 746.0, 1e5, 1e6]
)


@PROPERTY
@given(z=st.floats(-1e6, 1e6), y=labels, spec=specs)
def test_loss_gradient_and_curvature_are_finite_for_huge_logits(z, y, spec):
    zs = np.append(EXTREME_LOGITS, z)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow is fine
        for fn in (loss_from_logits, grad_from_logits, curvature_from_logits):
            out = fn(zs, y, spec)
            assert np.all(np.isfinite(out)), (fn.__name__, zs[~np.isfinite(out)])
    assert np.all(loss_from_logits(zs, y, spec) >= 0.0)


def test_loss_from_logits_grows_linearly_without_a_ceiling():
    assert FRAMEWORK_CEILINGS["logits"] == math.inf
    assert loss_from_logits(-1e6, 1.0) == 1e6
    assert loss_from_logits(1e6, 0.0) == 1e6
    assert loss_from_logits(1e6, 1.0) == 0.0
    assert grad_from_logits(-1e6, 1.0) == -1.0
    assert curvature_from_logits(1e6, 1.0) == 0.0


# ----------------------------------------------------------------------------
# entropy, KL, bits


def test_entropy_closed_form_and_endpoints():
    ys = np.array([0.0, 1e-12, 0.1, 0.5, 0.9, 1.0])
    np.testing.assert_allclose(entropy(ys), [ref_entropy(v) for v in ys], rtol=1e-14)
    assert entropy(0.5) == math.log(2.0)
    assert entropy(0.0) == 0.0 and entropy(1.0) == 0.0


@PROPERTY
@given(z=st.floats(-50.0, 50.0), y=labels)
def test_kl_divergence_is_bce_minus_entropy_and_nonnegative(z, y):
    kl = float(kl_divergence(z, y))
    assert kl >= 0.0
    # KL(y || p) = y log(y/p) + (1-y) log((1-y)/(1-p)), written out directly.
    expected = 0.0
    if y > 0:
        expected += y * (math.log(y) + ref_softplus(-z))
    if y < 1:
        expected += (1 - y) * (math.log1p(-y) + ref_softplus(z))
    assert kl == pytest.approx(max(expected, 0.0), rel=1e-9, abs=1e-12 * (1 + abs(z)))


@pytest.mark.parametrize("y", [0.01, 0.2, 0.5, 0.73, 0.99])
def test_kl_divergence_is_zero_at_p_equal_y(y):
    z = math.log(y / (1 - y))
    assert kl_divergence(z, y) == pytest.approx(0.0, abs=1e-14)
    assert kl_divergence(z + 0.5, y) > 1e-3


# ----------------------------------------------------------------------------
# Comparison losses: squared error and hinge


@PROPERTY
@given(z=st.floats(-30.0, 30.0), y=labels)
def test_squared_error_and_its_gradient(z, y):
    p = ref_sigmoid(z)
    assert squared_error_from_logits(z, y) == pytest.approx((p - y) ** 2, rel=1e-12, abs=1e-15)
    h = 2.0**-14
    up, down = squared_error_from_logits([z + h, z - h], y)
    fd = (up - down) / (2 * h)
    assert squared_error_grad_from_logits(z, y) == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_squared_error_gradient_vanishes_on_the_wrong_side_where_bce_does_not():
    mse_grad = float(squared_error_grad_from_logits(-10.0, 1.0))
    bce_grad = float(grad_from_logits(-10.0, 1.0))
    assert abs(mse_grad) < 1e-3
    assert mse_grad < 0  # still points the right way, just too weakly
    assert bce_grad == pytest.approx(-1.0, abs=1e-4)
    # 2 (p - 1) p (1 - p) with p = sigma(-10), 1 - p = sigma(10).
    assert mse_grad == pytest.approx(-2 * ref_sigmoid(10) ** 2 * ref_sigmoid(-10), rel=1e-12)


@pytest.mark.parametrize("y, t", [(1.0, 1.0), (0.0, -1.0)])
def test_hinge_closed_form_and_subgradient(y, t):
    z = np.array([-3.0, -1.0, 0.0, 0.5, 2.0, 5.0])
    np.testing.assert_array_equal(hinge_from_logits(z, y), np.maximum(0.0, 1.0 - t * z))
    # Away from the kink at t z = 1, the gradient is the finite difference.
    h = 1e-6
    for v in z[np.abs(t * z - 1.0) > 1e-3]:
        fd = (hinge_from_logits(v + h, y) - hinge_from_logits(v - h, y)) / (2 * h)
        assert hinge_grad_from_logits(v, y) == pytest.approx(fd, abs=1e-8)
    # Beyond the margin the hinge is flat: no gradient at all.
    assert hinge_grad_from_logits(5.0 * t, y) == 0.0
    assert hinge_grad_from_logits(-5.0 * t, y) == -t


# ----------------------------------------------------------------------------
# Probability-space BCE and framework conventions


def test_loss_from_probs_closed_form_and_clipping():
    p = np.array([0.0, 1e-9, 0.2, 0.5, 0.8, 1 - 1e-9, 1.0])
    for y in (0.0, 0.35, 1.0):
        pc = np.clip(p, 1e-7, 1 - 1e-7)
        expected = -(y * np.log(pc) + (1 - y) * np.log(1 - pc))
        np.testing.assert_allclose(loss_from_probs(p, y), expected, rtol=1e-9)
    assert loss_from_probs(0.0, 1.0, eps=0.0) == math.inf
    assert loss_from_probs(0.0, 0.0, eps=0.0) == 0.0
    assert loss_from_probs(1.0, 1.0, eps=0.0) == 0.0


@PROPERTY
@given(p=st.floats(1e-4, 1 - 1e-4), y=labels)
def test_grad_wrt_prob_equals_finite_difference(p, y):
    h = 1e-7 * min(p, 1 - p)
    up, down = loss_from_probs([p + h, p - h], y, eps=0.0)
    fd = (up - down) / (2 * h)
    expected = -y / p + (1 - y) / (1 - p)
    assert grad_wrt_prob(p, y) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert grad_wrt_prob(p, y) == pytest.approx(fd, rel=1e-5, abs=1e-5)


def test_framework_conventions_at_hard_mistakes():
    # Keras clips p to [1e-7, 1 - 1e-7]: its documented ceiling is -ln 1e-7.
    assert FRAMEWORK_CEILINGS["keras"] == pytest.approx(7 * math.log(10), rel=1e-14)
    # sklearn clips at float64 eps = 2^-52: ceiling 52 ln 2.
    assert FRAMEWORK_CEILINGS["sklearn"] == pytest.approx(52 * math.log(2), rel=1e-14)
    # torch.nn.BCELoss clamps log at -100.
    assert FRAMEWORK_CEILINGS["pytorch"] == 100.0
    for fw in ("pytorch", "keras", "sklearn"):
        assert framework_loss_from_probs(0.0, 1.0, fw) == pytest.approx(
            FRAMEWORK_CEILINGS[fw], rel=1e-14)
        assert framework_loss_from_probs(1.0, 0.0, fw) == pytest.approx(
            FRAMEWORK_CEILINGS[fw], rel=1e-9)
    assert framework_loss_from_probs(0.0, 1.0, "exact") == math.inf
    assert framework_loss_from_probs(0.3, 1.0, "exact") == pytest.approx(-math.log(0.3))
    with pytest.raises(ValueError, match="framework"):
        framework_loss_from_probs(0.5, 1.0, "jax")


def _keras_binary_crossentropy(y, p, label_smoothing):
    """keras.losses.binary_crossentropy per sample, from its documented formula."""
    y = np.asarray(y, dtype=np.float64) * (1 - label_smoothing) + label_smoothing / 2
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.2])
def test_keras_binary_crossentropy_parity(label_smoothing):
    p = np.array([0.0, 1e-9, 1e-7, 1e-3, 0.25, 0.5, 0.85, 0.999, 1 - 1e-9, 1.0])
    for y in (0.0, 1.0, 0.4):
        expected = _keras_binary_crossentropy(y, p, label_smoothing)
        y_s = y * (1 - label_smoothing) + label_smoothing / 2
        np.testing.assert_allclose(
            framework_loss_from_probs(p, y_s, "keras"), expected, rtol=1e-12, atol=1e-15)
        # Inside the clip range the logit form with Keras-style smoothing agrees.
        inner = (p > 1e-6) & (p < 1 - 1e-6)
        logits = np.log(p[inner]) - np.log1p(-p[inner])
        spec = LossSpec(label_smoothing=label_smoothing)
        np.testing.assert_allclose(
            loss_from_logits(logits, y, spec), expected[inner], rtol=1e-9)


def _sklearn_log_loss(y: int, p: float) -> float:
    from sklearn.metrics import log_loss

    # sklearn 1.9 renamed y_pred to y_proba; pass whichever this version takes.
    key = "y_proba" if "y_proba" in inspect.signature(log_loss).parameters else "y_pred"
    return log_loss([y], **{key: [p]}, labels=[0, 1])


@pytest.mark.parametrize("p", [0.0, 1e-300, 1e-20, 1e-7, 0.01, 0.3, 0.5, 0.9, 1 - 1e-12, 1.0])
@pytest.mark.parametrize("y", [0, 1])
def test_sklearn_log_loss_parity(y, p):
    import sklearn  # noqa: F401 - the reference must be installed
    expected = _sklearn_log_loss(y, p)
    # sklearn forms 1 - p before its log; that rounds by <= eps/2, hence atol.
    assert framework_loss_from_probs(p, y, "sklearn") == pytest.approx(
        expected, rel=1e-12, abs=2 * EPS64)


def test_sklearn_ceiling_is_its_loss_at_p0_for_a_positive():
    import sklearn  # noqa: F401 - the reference must be installed
    assert FRAMEWORK_CEILINGS["sklearn"] == pytest.approx(_sklearn_log_loss(1, 0.0), rel=1e-14)
    assert FRAMEWORK_CEILINGS["sklearn"] == pytest.approx(_sklearn_log_loss(0, 1.0), rel=1e-9)


# ----------------------------------------------------------------------------
# Validation


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"label_smoothing": -0.1}, "label_smoothing"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"label_smoothing": float("nan")}, "label_smoothing"),
        ({"label_smoothing": "0.1"}, "label_smoothing"),
        ({"pos_weight": -1.0}, "pos_weight"),
        ({"pos_weight": float("inf")}, "pos_weight"),
        ({"pos_weight": None}, "pos_weight"),
        ({"focal_gamma": -0.5}, "focal_gamma"),
        ({"focal_gamma": float("nan")}, "focal_gamma"),
        ({"focal_alpha": -0.01}, "focal_alpha"),
        ({"focal_alpha": 1.5}, "focal_alpha"),
        ({"focal_alpha": float("nan")}, "focal_alpha"),
        ({"focal_alpha": "a"}, "focal_alpha"),
    ],
)
def test_loss_spec_rejects_bad_settings_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LossSpec(**kwargs)


def test_loss_spec_accepts_the_edges_of_its_ranges():
    spec = LossSpec(label_smoothing=0.0, pos_weight=0.0, focal_gamma=0.0, focal_alpha=0.0)
    assert spec.is_focal
    LossSpec(label_smoothing=0.999, focal_alpha=1.0)
    assert not LossSpec().is_focal
    assert LossSpec(pos_weight=2).to_dict() == {
        "label_smoothing": 0.0, "pos_weight": 2.0, "focal_gamma": 0.0, "focal_alpha": None}


LOGIT_FUNCTIONS = [
    loss_from_logits,
    grad_from_logits,
    curvature_from_logits,
    squared_error_from_logits,
    squared_error_grad_from_logits,
    hinge_from_logits,
    hinge_grad_from_logits,
    kl_divergence,
]
PROB_FUNCTIONS = [
    loss_from_probs,
    grad_wrt_prob,
    lambda p, y: framework_loss_from_probs(p, y, "pytorch"),
    lambda p, y: framework_loss_from_probs(p, y, "keras"),
    lambda p, y: framework_loss_from_probs(p, y, "sklearn"),
]


@pytest.mark.parametrize("fn", LOGIT_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "z, y, match",
    [
        (0.0, 1.5, r"labels y .*\[0, 1\]"),
        (0.0, -0.1, r"labels y .*\[0, 1\]"),
        (0.0, float("nan"), r"labels y .*\[0, 1\]"),
        ([0.0, 1.0], [1.0, 2.0], r"labels y"),
        (float("nan"), 1.0, r"logits z .*finite"),
        (float("inf"), 1.0, r"logits z .*finite"),
        ([0.0, -math.inf], 1.0, r"logits z .*finite"),
        (np.zeros(3), np.ones(4), r"shapes of z \(3,\) and y \(4,\)"),
        ("abc", 1.0, r"\bz\b.*numeric"),
        ("0.5", 1.0, r"\bz\b.*numeric"),
        (None, 1.0, r"\bz\b.*numeric"),
        (1 + 2j, 1.0, r"\bz\b.*numeric"),
        ([1.0, "x"], 1.0, r"\bz\b.*numeric"),
        (0.0, "1", r"\by\b.*numeric"),
        (0.0, object(), r"\by\b.*numeric"),
    ],
)
def test_logit_functions_reject_bad_inputs_naming_them(fn, z, y, match):
    with pytest.raises(ValueError, match=match):
        fn(z, y)


@pytest.mark.parametrize("fn", PROB_FUNCTIONS)
@pytest.mark.parametrize(
    "p, y, match",
    [
        (1.5, 1.0, r"probabilities p .*\[0, 1\]"),
        (-0.01, 1.0, r"probabilities p .*\[0, 1\]"),
        (float("nan"), 1.0, r"probabilities p .*\[0, 1\]"),
        (0.5, 1.01, r"labels y .*\[0, 1\]"),
        (0.5, float("nan"), r"labels y .*\[0, 1\]"),
        (np.full(3, 0.5), np.ones(4), r"shapes of p \(3,\) and y \(4,\)"),
        ("high", 1.0, r"\bp\b.*numeric"),
        (0.5, "yes", r"\by\b.*numeric"),
    ],
)
def test_probability_functions_reject_bad_inputs_naming_them(fn, p, y, match):
    with pytest.raises(ValueError, match=match):
        fn(p, y)


def test_other_validation_paths():
    with pytest.raises(ValueError, match="spec"):
        loss_from_logits(0.0, 1.0, {"label_smoothing": 0.1})
    with pytest.raises(ValueError, match="eps"):
        loss_from_probs(0.5, 1.0, eps=0.5)
    with pytest.raises(ValueError, match="eps"):
        grad_wrt_prob(0.5, 1.0, eps=-1e-3)
    with pytest.raises(ValueError, match="labels"):
        entropy(1.2)
    with pytest.raises(ValueError, match=r"labels targets .*\[0, 1\]"):
        validate_labels([0.0, 3.0], name="targets")
    # Booleans and integers are numbers; empty arrays are fine.
    assert loss_from_logits(0, True) == pytest.approx(math.log(2.0))
    assert loss_from_logits(np.array([]), np.array([])).shape == (0,)
