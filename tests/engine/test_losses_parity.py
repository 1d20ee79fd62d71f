"""Parity of bceviz.engine.losses with PyTorch (float64): the conventions users know.

References: ``torch.nn.BCEWithLogitsLoss`` (label smoothing applied to the
targets, ``pos_weight``), torchvision's ``sigmoid_focal_loss`` reproduced from
its published source in torch ops (torchvision is not installed), autograd for
dL/dz and d2L/dz2, and ``torch.nn.BCELoss`` for the probability-space clamp.

Tolerances are 1e-12 relative plus, where torch itself subtracts nearly equal
numbers, an absolute term equal to a few ulps of the terms torch subtracts;
the strict relative accuracy of the module is tested against mpmath in
``test_losses.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bceviz.engine.losses import (
    FRAMEWORK_CEILINGS,
    LossSpec,
    curvature_from_logits,
    framework_loss_from_probs,
    grad_from_logits,
    loss_from_logits,
)

import torch
F = torch.nn.functional

EPS64 = float(np.finfo(np.float64).eps)
LOGITS = np.concatenate([np.linspace(-30.0, 30.0, 241), [-1e3, -50.0, 50.0, 1e3]])
LABELS = [0.0, 1.0, 0.25, 0.6]


def _t(values) -> "torch.Tensor":
    return torch.as_tensor(np.asarray(values, dtype=np.float64))


def _targets(labels, label_smoothing: float):
    """Keras smoothing, computed here rather than with the module's helper."""
    return labels * (1.0 - label_smoothing) + 0.5 * label_smoothing


def _derivatives(loss_fn, logits: np.ndarray):
    """Per-sample (loss, dL/dz, d2L/dz2) by autograd; samples are independent."""
    z = _t(logits).requires_grad_(True)
    loss = loss_fn(z)
    (grad,) = torch.autograd.grad(loss.sum(), z, create_graph=True)
    (curv,) = torch.autograd.grad(grad.sum(), z)
    return loss.detach().numpy(), grad.detach().numpy(), curv.numpy()


def _assert_close(actual, expected, rtol, atol, what):
    actual, expected = np.broadcast_arrays(np.asarray(actual), np.asarray(expected))
    atol = np.broadcast_to(atol, actual.shape)
    err = np.abs(actual - expected)
    bad = err > rtol * np.abs(expected) + atol
    assert not bad.any(), (
        f"{what}: worst at index {np.argmax(err - rtol * np.abs(expected) - atol)}; "
        f"actual {actual[bad][:3]}, torch {expected[bad][:3]}"
    )


# ----------------------------------------------------------------------------
# BCEWithLogitsLoss: plain, smoothed, weighted


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.2])
@pytest.mark.parametrize("pos_weight", [1.0, 0.0, 0.5, 3.7])
@pytest.mark.parametrize("label", LABELS)
def test_bce_with_logits_loss_gradient_and_curvature(label_smoothing, pos_weight, label):
    targets = _t(np.full(LOGITS.shape, _targets(label, label_smoothing)))
    criterion = torch.nn.BCEWithLogitsLoss(
        reduction="none", pos_weight=torch.tensor(pos_weight, dtype=torch.float64)
    )
    loss_ref, grad_ref, curv_ref = _derivatives(lambda z: criterion(z, targets), LOGITS)
    spec = LossSpec(label_smoothing=label_smoothing, pos_weight=pos_weight)

    # torch computes (1 - t) z - lw log_sigmoid(z): a few ulps of those two
    # terms (it cancels for t = 0, z << 0; it is exact to rtol for t = 1).
    t = targets.numpy()
    lw = (pos_weight - 1.0) * t + 1.0
    minus_log_sigmoid = np.logaddexp(0.0, -LOGITS)
    torch_rounding = 4 * EPS64 * ((1 - t) * np.abs(LOGITS) + lw * minus_log_sigmoid)
    _assert_close(loss_from_logits(LOGITS, label, spec), loss_ref, 1e-12, torch_rounding, "loss")

    # torch's backward is (lw - ... ) sigma(z) - pw t: a few ulps of pw + 1 absolute.
    grad_rounding = 4 * EPS64 * (pos_weight + 1.0)
    _assert_close(grad_from_logits(LOGITS, label, spec), grad_ref, 1e-12, grad_rounding, "grad")
    _assert_close(
        curvature_from_logits(LOGITS, label, spec), curv_ref, 1e-12, grad_rounding, "curvature"
    )


def test_bce_with_logits_for_a_batch_of_mixed_labels():
    rng = np.random.default_rng(7)
    logits = rng.normal(0, 4, size=500)
    labels = rng.uniform(0, 1, size=500)
    labels[:200] = np.round(labels[:200])
    spec = LossSpec(label_smoothing=0.15, pos_weight=2.5)
    criterion = torch.nn.BCEWithLogitsLoss(
        reduction="none", pos_weight=torch.tensor(2.5, dtype=torch.float64)
    )
    targets = _t(_targets(labels, 0.15))
    loss_ref, grad_ref, curv_ref = _derivatives(lambda z: criterion(z, targets), logits)
    np.testing.assert_allclose(loss_from_logits(logits, labels, spec), loss_ref, rtol=1e-12)
    np.testing.assert_allclose(
        grad_from_logits(logits, labels, spec), grad_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        curvature_from_logits(logits, labels, spec), curv_ref, rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------
# Focal loss: torchvision.ops.sigmoid_focal_loss, reproduced in torch ops


def sigmoid_focal_loss(inputs, targets, alpha: float = 0.25, gamma: float = 2.0, pos_weight=None):
    """torchvision.ops.sigmoid_focal_loss(reduction="none"), from its published source.

    pos_weight (not a torchvision argument) goes into the CE term, as DESIGN.md
    defines the weighted focal loss; None reproduces torchvision exactly.
    """
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(
        inputs, targets, reduction="none", pos_weight=pos_weight
    )
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss


# torchvision forms 1 - p_t by subtraction, which loses ~eps / (1 - p_t)
# relative; |z| <= 6 keeps that (times gamma) below 1e-12.
FOCAL_LOGITS = np.linspace(-6.0, 6.0, 97)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("alpha", [None, 0.25, 0.8, 0.0, 1.0])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("label", LABELS)
def test_focal_loss_matches_torchvision(gamma, alpha, label_smoothing, label):
    targets = _t(np.full(FOCAL_LOGITS.shape, _targets(label, label_smoothing)))
    torch_alpha = -1.0 if alpha is None else alpha  # torchvision: alpha < 0 switches it off
    loss_ref, grad_ref, curv_ref = _derivatives(
        lambda z: sigmoid_focal_loss(z, targets, alpha=torch_alpha, gamma=gamma), FOCAL_LOGITS
    )
    spec = LossSpec(label_smoothing=label_smoothing, focal_gamma=gamma, focal_alpha=alpha)
    _assert_close(loss_from_logits(FOCAL_LOGITS, label, spec), loss_ref, 1e-12, 1e-300, "loss")
    # Derivatives pass through zero for soft labels: a few ulps of O(1) absolute.
    _assert_close(grad_from_logits(FOCAL_LOGITS, label, spec), grad_ref, 1e-12, 1e-15, "grad")
    _assert_close(
        curvature_from_logits(FOCAL_LOGITS, label, spec), curv_ref, 1e-12, 1e-15, "curvature"
    )


@pytest.mark.parametrize("pos_weight", [0.3, 4.0])
@pytest.mark.parametrize("label", [0.0, 1.0, 0.7])
def test_weighted_focal_loss_puts_pos_weight_in_the_ce_term(pos_weight, label):
    targets = _t(np.full(FOCAL_LOGITS.shape, _targets(label, 0.05)))
    pw = torch.tensor(pos_weight, dtype=torch.float64)
    loss_ref, grad_ref, curv_ref = _derivatives(
        lambda z: sigmoid_focal_loss(z, targets, alpha=0.25, gamma=2.0, pos_weight=pw),
        FOCAL_LOGITS,
    )
    spec = LossSpec(label_smoothing=0.05, pos_weight=pos_weight, focal_gamma=2.0, focal_alpha=0.25)
    atol = 1e-15 * (1 + pos_weight)
    _assert_close(loss_from_logits(FOCAL_LOGITS, label, spec), loss_ref, 1e-12, 1e-300, "loss")
    _assert_close(grad_from_logits(FOCAL_LOGITS, label, spec), grad_ref, 1e-12, atol, "grad")
    _assert_close(
        curvature_from_logits(FOCAL_LOGITS, label, spec), curv_ref, 1e-12, atol, "curvature"
    )


def test_gamma_zero_without_alpha_is_plain_bce_like_torchvision():
    targets = _t(np.full(FOCAL_LOGITS.shape, 1.0))
    ref = sigmoid_focal_loss(_t(FOCAL_LOGITS), targets, alpha=-1.0, gamma=0.0).numpy()
    spec = LossSpec(focal_gamma=0.0)
    assert not spec.is_focal
    np.testing.assert_allclose(loss_from_logits(FOCAL_LOGITS, 1.0, spec), ref, rtol=1e-12)


# ----------------------------------------------------------------------------
# BCELoss on probabilities: the log clamp at -100


PROBS = np.array([0.0, 1e-300, 1e-50, 1e-20, 1e-7, 0.01, 0.3, 0.5, 0.85, 0.99, 1 - 1e-12, 1.0])


@pytest.mark.parametrize("label", [0.0, 1.0, 0.3, 0.9])
def test_bce_loss_per_sample_matches_pytorch_convention(label):
    targets = _t(np.full(PROBS.shape, label))
    ref = torch.nn.BCELoss(reduction="none")(_t(PROBS), targets).numpy()
    got = framework_loss_from_probs(PROBS, label, "pytorch")
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0.0)
    assert np.all(np.isfinite(got))


def test_pytorch_ceiling_is_bce_loss_at_p0_for_a_positive():
    one = torch.ones(1, dtype=torch.float64)
    zero = torch.zeros(1, dtype=torch.float64)
    assert FRAMEWORK_CEILINGS["pytorch"] == torch.nn.BCELoss()(zero, one).item()
    assert FRAMEWORK_CEILINGS["pytorch"] == torch.nn.BCELoss()(one, zero).item()
    # Logits have no ceiling: BCEWithLogitsLoss keeps growing with |z|.
    huge = torch.tensor([-1e6], dtype=torch.float64)
    assert F.binary_cross_entropy_with_logits(huge, one).item() == pytest.approx(1e6)
    assert loss_from_logits(-1e6, 1.0) == pytest.approx(1e6)
    assert FRAMEWORK_CEILINGS["logits"] == math.inf
    # Ordering the help text relies on: Keras caps lowest, PyTorch highest.
    ceilings = FRAMEWORK_CEILINGS
    assert ceilings["keras"] < ceilings["sklearn"] < ceilings["pytorch"]
