"""bceviz.engine.predictions against SciPy, PyTorch and scikit-learn, and its laws.

* ``temperature_scale`` equals a direct SciPy minimisation of the mean BCE over
  log T to 1e-6, scales with the logits, and refuses data without a finite
  minimiser (separating logits, logits pointing the wrong way, all zeros).
* ``loss_shares`` are the per-example losses over their sum (PyTorch's
  ``BCEWithLogitsLoss(reduction="none")`` normalised); worst shares and the
  cumulative share curve against a brute-force sort.
* Pulls are |∂L/∂z| (PyTorch autograd for plain and pos_weight BCE, the engine's
  ``grad_from_logits`` for focal and smoothing) and split by group exactly.
* Proper scores equal scikit-learn's weighted log loss, Brier and 0–1 loss, and
  the proper ones are minimised at p = q.
* Probabilities of exactly 0 or 1 cost what scikit-learn's ``log_loss`` and
  PyTorch's ``BCELoss`` report, through the framework caps.
* The metrics on these inputs (temperature-scaled probabilities) keep their
  scikit-learn parity.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
    zero_one_loss,
)

import bceviz.engine as engine
from bceviz.engine import metrics
from bceviz.engine.losses import (
    LossSpec,
    framework_ceiling,
    framework_loss_from_probs,
    grad_from_logits,
    loss_from_logits,
    sigmoid,
)
from bceviz.engine.predictions import (
    CAP_FRAMEWORKS,
    cap_logit,
    expected_scores,
    loss_shares,
    probabilities_to_logits,
    pull,
    pull_groups,
    pull_split,
    share_curve,
    temperature_scale,
    worst_shares,
)

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SPECS = [
    LossSpec(),
    LossSpec(label_smoothing=0.1),
    LossSpec(pos_weight=3.0),
    LossSpec(focal_gamma=2.0),
    LossSpec(focal_gamma=2.0, focal_alpha=0.25),
    LossSpec(label_smoothing=0.2, pos_weight=0.5, focal_gamma=1.5),
]


def model_outputs(seed: int, n: int = 400, confidence: float = 1.0, soft: bool = False):
    """Logits of a model whose calibrated logits are N(0, 2²), scaled by ``confidence``."""
    rng = np.random.default_rng(seed)
    true_logits = rng.normal(0.0, 2.0, n)
    p_true = sigmoid(true_logits)
    labels = p_true if soft else (rng.random(n) < p_true).astype(float)
    return confidence * true_logits, labels


def scipy_temperature(logits, labels) -> float:
    """The direct minimisation: SciPy's bounded Brent on log T of the mean BCE."""
    res = minimize_scalar(lambda u: float(np.mean(loss_from_logits(logits / math.exp(u), labels))),
                          bounds=(-9.0, 9.0), method="bounded", options={"xatol": 1e-11})
    assert res.success
    return math.exp(res.x)


# --------------------------------------------------------------------------- temperature


@pytest.mark.parametrize("confidence", [0.3, 1.0, 3.0, 10.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_temperature_equals_a_direct_scipy_minimisation(seed, confidence):
    logits, labels = model_outputs(seed, confidence=confidence)
    T = temperature_scale(logits, labels)
    assert T == pytest.approx(scipy_temperature(logits, labels), rel=1e-6)
    # over-confident logits (x 3, x 10) are softened by about that factor
    if confidence > 1:
        assert T > 1.5


def test_temperature_with_soft_labels_and_many_rows():
    logits, labels = model_outputs(5, n=3000, confidence=2.0, soft=True)
    T = temperature_scale(logits, labels)
    assert T == pytest.approx(scipy_temperature(logits, labels), rel=1e-6)
    # soft labels equal to σ(z/2): the minimiser is exactly T = 2
    assert T == pytest.approx(2.0, rel=1e-9)


def test_temperature_on_a_large_set_uses_the_subsample_start_and_still_agrees():
    logits, labels = model_outputs(7, n=120_000, confidence=2.5)
    T = temperature_scale(logits, labels)
    assert T == pytest.approx(scipy_temperature(logits, labels), rel=1e-6)


@FAST
@given(seed=st.integers(0, 10_000), scale=st.floats(0.05, 20.0))
def test_temperature_scales_with_the_logits(seed, scale):
    logits, labels = model_outputs(seed, n=200)
    try:
        base = temperature_scale(logits, labels)
    except ValueError:
        return
    assert temperature_scale(scale * logits, labels) == pytest.approx(scale * base, rel=1e-9)


def test_temperature_raises_without_a_finite_minimiser():
    # separating logits: every positive above 0, every negative below
    with pytest.raises(ValueError, match="separate"):
        temperature_scale([2.0, 1.0, -0.5, -3.0], [1, 1, 0, 0])
    # all logits on the wrong side
    with pytest.raises(ValueError, match="wrong way"):
        temperature_scale([-2.0, -1.0, 0.5, 3.0], [1, 1, 0, 0])
    # wrong on balance, though one is right
    with pytest.raises(ValueError, match="wrong way"):
        temperature_scale([-4.0, 0.1, 3.0], [1, 1, 0])
    with pytest.raises(ValueError, match="all 0"):
        temperature_scale([0.0, 0.0], [0, 1])
    for bad_logits, bad_labels, match in (([], [], "empty"), ([1.0, np.nan], [0, 1], "finite"),
                                          ([1.0, 2.0], [0, 1, 1], "shape"),
                                          ([1.0, 2.0], [0, 2], r"\[0, 1\]"),
                                          (np.ones((2, 2)), np.ones((2, 2)), "1-D")):
        with pytest.raises(ValueError, match=match):
            temperature_scale(bad_logits, bad_labels)


def test_temperature_of_almost_separating_logits_is_small_but_finite():
    logits = np.array([3.0, 2.0, 1.0, -1.0, -2.0, -3.0, 0.5])
    labels = np.array([1, 1, 1, 0, 0, 0, 0], dtype=float)
    T = temperature_scale(logits, labels)
    assert 0 < T < 1
    assert T == pytest.approx(scipy_temperature(logits, labels), rel=1e-6)


def test_engine_reexports_the_contract():
    assert engine.temperature_scale is temperature_scale
    assert engine.loss_shares is loss_shares
    assert {"temperature_scale", "loss_shares"} <= set(engine.__all__)


# --------------------------------------------------------------------------- shares


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_loss_shares_are_the_losses_over_their_sum(spec):
    logits, labels = model_outputs(2, n=300, confidence=2.0)
    shares = loss_shares(logits, labels, spec)
    losses = loss_from_logits(logits, labels, spec)
    np.testing.assert_allclose(shares, losses / losses.sum(), rtol=1e-15, atol=0)
    assert shares.sum() == pytest.approx(1.0, rel=1e-12)


def test_loss_shares_against_pytorch():
    # PyTorch's (1 - y) z + softplus(-z) form cancels for confidently right examples
    # (about 1e-17 absolute), hence the absolute tolerance on the tiny shares.
    logits, labels = model_outputs(3, n=500, confidence=3.0)
    for pos_weight in (1.0, 4.0):
        ref = torch.nn.BCEWithLogitsLoss(reduction="none",
                                         pos_weight=torch.tensor(pos_weight, dtype=torch.float64))(
            torch.tensor(logits), torch.tensor(labels)).numpy()
        np.testing.assert_allclose(loss_shares(logits, labels, LossSpec(pos_weight=pos_weight)),
                                   ref / ref.sum(), rtol=1e-10, atol=1e-16)


def test_loss_shares_are_zero_when_the_total_is_zero():
    # pos_weight 0 on positives only: every loss is exactly 0
    shares = loss_shares([1.0, -2.0, 5.0], [1, 1, 1], LossSpec(pos_weight=0.0))
    assert np.array_equal(shares, np.zeros(3))
    assert loss_shares([], []).size == 0


def test_worst_shares_and_the_curve_against_a_brute_force_sort():
    logits, labels = model_outputs(4, n=1234, confidence=3.0)
    losses = loss_from_logits(logits, labels)
    ordered = np.sort(losses)[::-1]
    total = ordered.sum()
    fractions = (0.01, 0.05, 0.10, 1.0)
    got = worst_shares(losses, fractions)
    for f, share in zip(fractions, got):
        k = math.ceil(f * losses.size)
        assert share == pytest.approx(ordered[:k].sum() / total, rel=1e-12)
    assert got[-1] == pytest.approx(1.0)
    curve = share_curve(losses, points=100)
    assert curve.counts[0] == 1 and curve.counts[-1] == losses.size
    assert np.all(np.diff(curve.shares) >= 0) and curve.shares[-1] == pytest.approx(1.0)
    for k, share in zip(curve.counts[::7], curve.shares[::7]):
        assert share == pytest.approx(ordered[:k].sum() / total, rel=1e-12)
    np.testing.assert_allclose(curve.fractions, curve.counts / losses.size)
    # the curve lies above the diagonal: the worst k carry at least k/n of the loss
    assert np.all(curve.shares >= curve.fractions - 1e-12)
    # a presorted input gives the same numbers
    assert worst_shares(losses, fractions, descending=ordered) == got


def test_worst_share_of_a_tiny_set_is_at_least_one_example():
    assert worst_shares([1.0, 3.0], (0.01,)) == (0.75,)
    assert worst_shares([0.0, 0.0], (0.1,)) == (0.0,)
    for bad in ([], [1.0, -1.0], [np.inf]):
        with pytest.raises(ValueError, match="losses"):
            worst_shares(bad)
    with pytest.raises(ValueError, match="fractions"):
        worst_shares([1.0], (0.0,))
    with pytest.raises(ValueError, match="points"):
        share_curve([1.0, 2.0], points=1)


# --------------------------------------------------------------------------- pulls


def test_plain_and_weighted_pulls_equal_pytorch_autograd():
    logits, labels = model_outputs(6, n=400, confidence=2.0)
    for pos_weight in (1.0, 3.0):
        z = torch.tensor(logits, requires_grad=True)
        loss = torch.nn.BCEWithLogitsLoss(reduction="sum",
                                          pos_weight=torch.tensor(pos_weight, dtype=torch.float64))(
            z, torch.tensor(labels))
        loss.backward()
        np.testing.assert_allclose(pull(logits, labels, LossSpec(pos_weight=pos_weight)),
                                   np.abs(z.grad.numpy()), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_pulls_are_the_engine_gradients_in_chunks(spec):
    logits, labels = model_outputs(8, n=70_000, confidence=2.0)  # more than one chunk
    assert np.array_equal(pull(logits, labels, spec), np.abs(grad_from_logits(logits, labels, spec)))


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_pull_split_sums_by_group(spec):
    logits, labels = model_outputs(9, n=800, confidence=2.0)
    split = pull_split(logits, labels, spec, easy_cut=0.6)
    size = np.abs(grad_from_logits(logits, labels, spec))
    p = sigmoid(logits)
    p_true = np.where(labels == 1, p, 1 - p)
    easy, positive = p_true >= 0.6, labels >= 0.5
    assert split.total == pytest.approx(size.sum(), rel=1e-12)
    assert split.easy == pytest.approx(size[easy].sum(), rel=1e-12)
    assert split.hard == pytest.approx(size[~easy].sum(), rel=1e-12)
    assert split.positive == pytest.approx(size[positive].sum(), rel=1e-12)
    assert split.negative == pytest.approx(size[~positive].sum(), rel=1e-12)
    assert sum(split.counts) == logits.size
    assert split.counts[3] == int(np.count_nonzero(~easy & positive))
    assert split.share("easy") + split.share("hard") == pytest.approx(1.0)
    groups = pull_groups(logits, labels, 0.6)
    again = pull_split(logits, labels, spec, easy_cut=0.6, groups=groups,
                       pulls=pull(logits, labels, spec))
    assert again == split


def test_focal_moves_pull_to_hard_examples_and_pos_weight_to_positives():
    logits, labels = model_outputs(10, n=2000, confidence=1.5)
    plain = pull_split(logits, labels)
    focal = pull_split(logits, labels, LossSpec(focal_gamma=2.0))
    weighted = pull_split(logits, labels, LossSpec(pos_weight=4.0))
    assert focal.share("hard") > plain.share("hard") + 0.1
    assert weighted.share("positive") > plain.share("positive") + 0.1
    with pytest.raises(ValueError, match="easy_cut"):
        pull_groups(logits, labels, 1.0)


# --------------------------------------------------------------------------- proper scores


@pytest.mark.parametrize("q", [0.0, 0.1, 0.37, 0.5, 0.9, 1.0])
def test_expected_scores_equal_scikit_learn_weighted(q):
    for p in (1e-6, 0.05, 0.3, 0.5, 0.62, 0.999):
        scores = expected_scores(np.array([p]), q)
        weights = [q, 1 - q]
        if 0 < q < 1:
            assert scores.log_loss[0] == pytest.approx(
                log_loss([1, 0], [p, p], sample_weight=weights, labels=[0, 1]), rel=1e-12)
        assert scores.brier[0] == pytest.approx(
            brier_score_loss([1, 0], [p, p], sample_weight=weights), rel=1e-12, abs=1e-15)
        assert scores.zero_one[0] == pytest.approx(
            zero_one_loss([1, 0], [int(p >= 0.5)] * 2, sample_weight=weights), abs=1e-15)


@FAST
@given(q=st.floats(0.01, 0.99))
def test_log_loss_and_brier_are_proper_zero_one_is_not(q):
    p = np.linspace(0.0005, 0.9995, 1999)
    s = expected_scores(p, q)
    step = p[1] - p[0]
    assert abs(p[np.argmin(s.log_loss)] - q) <= step
    assert abs(p[np.argmin(s.brier)] - q) <= step
    # the 0-1 loss is flat on each side of 1/2: reporting 0.51 is as good as reporting q = 0.99
    side = p >= 0.5 if q >= 0.5 else p < 0.5
    assert np.ptp(s.zero_one[side]) == 0.0
    # entropy is the floor of the expected log loss
    assert np.min(s.log_loss) >= -(q * math.log(q) + (1 - q) * math.log(1 - q)) - 1e-12


def test_the_infinite_penalty_meets_the_caps():
    scores = expected_scores(np.array([0.0, 1.0]), 0.3, framework="sklearn")
    assert np.all(np.isinf(scores.log_loss))
    ceiling = framework_ceiling("sklearn")
    np.testing.assert_allclose(scores.log_loss_capped, [0.3 * ceiling, 0.7 * ceiling], rtol=1e-9)
    with pytest.raises(ValueError, match="framework"):
        expected_scores(np.array([0.5]), 0.3, framework="tensorflow")
    with pytest.raises(ValueError, match="q"):
        expected_scores(np.array([0.5]), 1.5)
    with pytest.raises(ValueError, match="p must"):
        expected_scores(np.array([-0.1]), 0.5)


# --------------------------------------------------------------------------- caps


def test_probabilities_of_zero_and_one_cost_the_frameworks_caps():
    p = np.array([0.0, 1e-20, 1e-9, 0.3, 0.5, 1 - 1e-9, 1.0, 0.0, 1.0])
    y = np.array([1, 1, 1, 0, 1, 0, 0, 0, 1], dtype=float)
    for framework in CAP_FRAMEWORKS:
        z, n_capped, n_exact = probabilities_to_logits(p, framework)
        assert np.all(np.isfinite(z)) and n_exact == 4
        ours = loss_from_logits(z, y)
        np.testing.assert_allclose(ours, framework_loss_from_probs(p, y, framework),
                                   rtol=1e-9, atol=1e-12)
        assert np.max(np.abs(z)) == pytest.approx(cap_logit(framework))
        assert float(loss_from_logits(-cap_logit(framework), 1.0)) == pytest.approx(
            framework_ceiling(framework), rel=1e-12)
        assert n_capped >= n_exact
    # scikit-learn's log_loss (float64) and PyTorch's BCELoss, the field's own figures
    z, _, _ = probabilities_to_logits(p, "sklearn")
    assert float(np.mean(loss_from_logits(z, y))) == pytest.approx(log_loss(y, p), rel=1e-9)
    z, _, _ = probabilities_to_logits(p, "pytorch")
    ref = torch.nn.BCELoss(reduction="none")(torch.tensor(p), torch.tensor(y)).numpy()
    np.testing.assert_allclose(loss_from_logits(z, y), ref, rtol=1e-9, atol=1e-12)
    assert cap_logit("keras") == pytest.approx(-math.log(1e-7) + math.log1p(-1e-7))
    with pytest.raises(ValueError, match="framework"):
        cap_logit("logits")
    with pytest.raises(ValueError, match=r"p\[1\]"):
        probabilities_to_logits(np.array([0.5, 1.5]))


# --------------------------------------------------------------------------- metrics


def test_metrics_keep_their_scikit_learn_parity_after_temperature_scaling():
    logits, labels = model_outputs(11, n=1500, confidence=3.0)
    T = temperature_scale(logits, labels)
    p = sigmoid(logits / T)
    assert metrics.roc_auc(labels, p) == pytest.approx(roc_auc_score(labels, p), rel=1e-12)
    assert metrics.roc_auc(labels, logits) == pytest.approx(roc_auc_score(labels, p), rel=1e-12)
    assert metrics.average_precision(labels, p) == pytest.approx(
        average_precision_score(labels, p), rel=1e-12)
    assert metrics.brier_score(labels, p) == pytest.approx(brier_score_loss(labels, p), rel=1e-12)
    before = float(np.mean(loss_from_logits(logits, labels)))
    after = float(np.mean(loss_from_logits(logits / T, labels)))
    assert after < before
    assert after == pytest.approx(log_loss(labels, p), rel=1e-9)
    assert metrics.expected_calibration_error(labels, p) < metrics.expected_calibration_error(
        labels, sigmoid(logits))
