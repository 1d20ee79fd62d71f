"""bceviz.engine.segmentation: soft Dice against MONAI, gradients against autograd, metrics, the scan.

References: MONAI ``DiceLoss(sigmoid=True, smooth_nr, smooth_dr, squared_pred)``
and ``DiceCELoss(sigmoid=True)`` on (1, 1, H, W) float64 tensors; PyTorch
autograd through those losses for the gradients; ``BCEWithLogitsLoss`` (with
``pos_weight``) and torchvision's ``sigmoid_focal_loss`` written in torch ops
from its published source (torchvision is not installed) for the pixel-wise
losses; scikit-learn's ``f1_score`` / ``jaccard_score`` and set arithmetic
for the binary metrics. Every comparison runs (nothing is skipped).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from monai.losses import DiceCELoss, DiceLoss
from scipy.ndimage import uniform_filter
from sklearn.metrics import f1_score, jaccard_score

from bceviz.engine import segmentation as seg
from bceviz.engine.segmentation import (
    LOSS_KINDS,
    SegLoss,
    background_logit,
    box_mean,
    capsule_mask,
    dice_bce_grad,
    dice_bce_loss,
    dice_coefficient,
    disk_mask,
    feature_scales,
    iou,
    loss_size_curve,
    make_scan,
    mask_outline,
    overlap_figures,
    pixel_features,
    soft_dice_grad,
    soft_dice_loss,
    suggested_pos_weight,
    train_step,
)

SMOOTHING = [(1e-5, 1e-5), (0.0, 1e-5), (0.0, 1.0), (1.0, 1.0), (5.0, 0.5), (1e-5, 0.0)]


def _case(kind: str, seed: int, shape=(12, 10)) -> tuple[np.ndarray, np.ndarray]:
    """Random logits and a mask: random, empty, two pixels, full, soft."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 3.0, shape)
    if kind == "random":
        mask = (rng.random(shape) < 0.2).astype(float)
    elif kind == "empty":
        mask = np.zeros(shape)
    elif kind == "two_pixels":
        mask = np.zeros(shape)
        mask.flat[rng.choice(mask.size, 2, replace=False)] = 1.0
    elif kind == "full":
        mask = np.ones(shape)
    else:  # soft
        mask = rng.random(shape)
    return logits, mask


CASES = ["random", "empty", "two_pixels", "full", "soft"]


def _t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64)[None, None], requires_grad=grad)


def _monai_dice(logits, mask, **kw) -> tuple[float, np.ndarray]:
    z = _t(logits, grad=True)
    loss = DiceLoss(sigmoid=True, **kw)(z, _t(mask))
    loss.backward()
    return float(loss.item()), z.grad.numpy()[0, 0]


def _close(a, b, rtol=1e-10, atol=1e-13) -> bool:
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


# ----------------------------------------------------------------------------- MONAI parity
def _torch_dice(logits, mask, smooth_nr, smooth_dr, squared_pred) -> tuple[float, np.ndarray]:
    """The contract's formula in torch ops, differentiated by autograd (no norms, no cancellation)."""
    z = _t(logits, grad=True)
    p, m = torch.sigmoid(z), _t(mask)
    den = (p * p).sum() + (m * m).sum() if squared_pred else p.sum() + m.sum()
    loss = 1 - (2 * (p * m).sum() + smooth_nr) / (den + smooth_dr)
    loss.backward()
    return float(loss.item()), z.grad.numpy()[0, 0]


@pytest.mark.parametrize("kind", CASES)
@pytest.mark.parametrize("smooth", SMOOTHING)
@pytest.mark.parametrize("squared_pred", [False, True])
def test_soft_dice_and_gradient_match_monai(kind, smooth, squared_pred):
    nr, dr = smooth
    # With squared_pred MONAI computes Σ p·m as (‖p‖² + ‖m‖² − ‖p − m‖²) / 2, which
    # cancels: its error is a few ulps of ‖p‖², so the tolerance scales with that term.
    for seed in range(3):
        logits, mask = _case(kind, seed)
        kw = {"smooth_nr": nr, "smooth_dr": dr, "squared_pred": squared_pred}
        expected, expected_grad = _monai_dice(logits, mask, **kw)
        exact, exact_grad = _torch_dice(logits, mask, nr, dr, squared_pred)
        value = soft_dice_loss(logits, mask, **kw)
        grad = soft_dice_grad(logits, mask, **kw)
        assert grad.shape == logits.shape
        p = 1 / (1 + np.exp(-logits))
        den = (p * p).sum() + (mask * mask).sum() if squared_pred else p.sum() + mask.sum()
        noise = 64 * np.finfo(float).eps * (p * p).sum() if squared_pred else 0.0
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-14 + noise / (den + dr))
        numerator = 2 * (p * mask).sum() + nr
        rel = min(noise / numerator, 1.0) if numerator > 0 else (1.0 if noise else 0.0)
        scale = np.abs(expected_grad).max()
        assert _close(grad, expected_grad, rtol=1e-10 + rel,
                      atol=1e-12 * max(scale, 1e-300)), (kind, seed)
        # and to full precision against the formula itself
        assert value == pytest.approx(exact, rel=1e-13, abs=1e-15), (kind, seed)
        assert _close(grad, exact_grad, rtol=1e-11, atol=1e-13 * max(scale, 1e-300))


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (32, 32), (64, 48)])
def test_soft_dice_matches_monai_default_on_other_shapes(shape):
    logits, mask = _case("random", 7, shape)
    expected, expected_grad = _monai_dice(logits, mask)
    assert soft_dice_loss(logits, mask) == pytest.approx(expected, rel=1e-12, abs=1e-14)
    assert _close(soft_dice_grad(logits, mask), expected_grad, atol=1e-16)


@pytest.mark.parametrize("kind", CASES)
@pytest.mark.parametrize("lambdas", [(1.0, 1.0), (0.3, 2.0), (0.0, 1.0), (1.0, 0.0)])
def test_dice_bce_loss_and_gradient_match_monai_dice_ce(kind, lambdas):
    ld, lc = lambdas
    for seed in range(3):
        logits, mask = _case(kind, seed)
        z = _t(logits, grad=True)
        loss = DiceCELoss(sigmoid=True, lambda_dice=ld, lambda_ce=lc)(z, _t(mask))
        loss.backward()
        value = dice_bce_loss(logits, mask, lambda_dice=ld, lambda_ce=lc)
        assert value == pytest.approx(loss.item(), rel=1e-12, abs=1e-14)
        grad = dice_bce_grad(logits, mask, lambda_dice=ld, lambda_ce=lc)
        assert _close(grad, z.grad.numpy()[0, 0], atol=1e-16)


def test_dice_bce_with_smoothing_matches_monai():
    logits, mask = _case("two_pixels", 3)
    z = _t(logits, grad=True)
    loss = DiceCELoss(sigmoid=True, smooth_nr=0.0, smooth_dr=1.0, squared_pred=True)(z, _t(mask))
    loss.backward()
    assert dice_bce_loss(logits, mask, smooth_nr=0.0, smooth_dr=1.0, squared_pred=True) \
        == pytest.approx(loss.item(), rel=1e-12)
    assert _close(dice_bce_grad(logits, mask, smooth_nr=0.0, smooth_dr=1.0, squared_pred=True),
                  z.grad.numpy()[0, 0], atol=1e-16)


# ----------------------------------------------------------------------------- pixel-wise kinds
def _torch_focal(z: torch.Tensor, y: torch.Tensor, gamma: float, alpha) -> torch.Tensor:
    """torchvision.ops.sigmoid_focal_loss (reduction="mean"), from its published source."""
    p = torch.sigmoid(z)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha is not None and alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss.mean()


def _torch_reference(loss: SegLoss, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if loss.kind == "bce":
        return torch.nn.BCEWithLogitsLoss()(z, y)
    if loss.kind == "weighted_bce":
        return torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(loss.pos_weight,
                                                                  dtype=torch.float64))(z, y)
    if loss.kind == "focal":
        return _torch_focal(z, y, loss.focal_gamma, loss.focal_alpha)
    dice = DiceLoss(sigmoid=True, smooth_nr=loss.smooth_nr, smooth_dr=loss.smooth_dr,
                    squared_pred=loss.squared_pred)
    if loss.kind == "dice":
        return dice(z, y)
    return DiceCELoss(sigmoid=True, smooth_nr=loss.smooth_nr, smooth_dr=loss.smooth_dr,
                      squared_pred=loss.squared_pred, lambda_dice=loss.lambda_dice,
                      lambda_ce=loss.lambda_ce)(z, y)


LOSSES = [
    SegLoss("bce"),
    SegLoss("weighted_bce", pos_weight=37.5),
    SegLoss("focal", focal_gamma=2.0),
    SegLoss("focal", focal_gamma=0.5, focal_alpha=0.25),
    SegLoss("dice"),
    SegLoss("dice", smooth_nr=1.0, smooth_dr=1.0, squared_pred=True),
    SegLoss("dice_bce", lambda_dice=0.5, lambda_ce=2.0),
]


@pytest.mark.parametrize("loss", LOSSES, ids=lambda s: f"{s.kind}")
@pytest.mark.parametrize("kind", ["random", "empty", "two_pixels"])
def test_each_lab_loss_and_its_logit_gradient_match_torch(loss, kind):
    logits, mask = _case(kind, 11, (16, 16))
    z = _t(logits, grad=True)
    ref = _torch_reference(loss, z, _t(mask))
    ref.backward()
    value, grad = seg.segmentation_loss(logits, mask, loss)
    assert value == pytest.approx(ref.item(), rel=1e-11, abs=1e-14)
    assert _close(grad, z.grad.numpy()[0, 0], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda s: f"{s.kind}")
def test_train_step_gradient_through_shared_weights_matches_autograd(loss):
    scan = make_scan(32, lesion_radius=0.1, seed=3)
    features = pixel_features(scan.image)
    rng = np.random.default_rng(0)
    w, b = rng.normal(0.0, 1.0, features.shape[1]), -1.5
    step = train_step(features, scan.mask, w, b, loss, lr=0.1)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    z = (torch.tensor(features) @ wt + bt).reshape(1, 1, 32, 32)
    ref = _torch_reference(loss, z, _t(scan.mask))
    ref.backward()
    assert step.loss == pytest.approx(ref.item(), rel=1e-11)
    assert _close(step.grad_weights[:-1], wt.grad.numpy(), rtol=1e-9, atol=1e-14)
    assert step.grad_weights[-1] == pytest.approx(bt.grad.item(), rel=1e-9, abs=1e-14)
    assert _close(step.weights, w - 0.1 * wt.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert step.bias == pytest.approx(b - 0.1 * bt.grad.item(), rel=1e-12)


def test_train_step_momentum_is_heavy_ball():
    scan = make_scan(32, seed=1)
    features = pixel_features(scan.image)
    loss = SegLoss("dice")
    w, b = np.zeros(features.shape[1]), 0.0
    first = train_step(features, scan.mask, w, b, loss, 0.5, momentum=0.9)
    second = train_step(features, scan.mask, first.weights, first.bias, loss, 0.5,
                        momentum=0.9, velocity=first.velocity)
    assert _close(second.velocity, 0.9 * first.velocity + second.grad_weights)
    assert _close(second.weights, first.weights - 0.5 * second.velocity[:-1])


# ----------------------------------------------------------------------------- edge cases
def test_empty_target_without_numerator_smoothing_pins_the_loss_at_one():
    logits, mask = _case("empty", 0)
    for z in (logits, np.full_like(logits, -30.0), np.full_like(logits, 30.0)):
        assert soft_dice_loss(z, mask, smooth_nr=0.0, smooth_dr=1e-5) == 1.0
        assert np.all(soft_dice_grad(z, mask, smooth_nr=0.0, smooth_dr=1e-5) == 0.0)


def test_denominator_only_smoothing_gives_the_right_empty_answer_the_maximum_loss():
    mask = np.zeros((8, 8))
    all_zero = np.full((8, 8), -40.0)  # p ≈ 4e-18: the right answer
    assert soft_dice_loss(all_zero, mask, smooth_nr=0.0, smooth_dr=1.0) == 1.0
    # with the same term in the numerator it is (nearly) perfect instead
    assert soft_dice_loss(all_zero, mask, smooth_nr=1.0, smooth_dr=1.0) < 1e-15


def test_large_numerator_term_makes_predicting_nothing_better_than_finding_the_lesion():
    mask = disk_mask(32, 16.0, 16.0, 3.0).astype(float)  # 29 pixels
    perfect = np.where(mask > 0, 20.0, -20.0)
    nothing = np.full_like(perfect, -20.0)
    big = {"smooth_nr": 100.0, "smooth_dr": 1e-5}
    assert soft_dice_loss(nothing, mask, **big) < soft_dice_loss(perfect, mask, **big)
    assert soft_dice_loss(nothing, mask, **big) < 0.0
    assert soft_dice_loss(perfect, mask) < soft_dice_loss(nothing, mask)


def test_zero_denominator_convention_and_refusal():
    mask = np.zeros((4, 4))
    underflow = np.full((4, 4), -1e6)
    assert soft_dice_loss(underflow, mask, smooth_nr=0.0, smooth_dr=0.0) == 0.0
    assert np.all(soft_dice_grad(underflow, mask, smooth_nr=0.0, smooth_dr=0.0) == 0.0)
    with pytest.raises(ValueError, match="smooth_dr"):
        soft_dice_loss(underflow, mask, smooth_nr=1e-5, smooth_dr=0.0)


def test_every_loss_is_finite_for_extreme_logits():
    mask = np.zeros((6, 6))
    mask[2:4, 2:4] = 1.0
    for z in (1e6, -1e6):
        logits = np.where(mask > 0, -z, z)
        for loss in LOSSES:
            value, grad = seg.segmentation_loss(logits, mask, loss)
            assert math.isfinite(value) and np.all(np.isfinite(grad)), loss.kind


@pytest.mark.parametrize("bad, match", [
    ({"smooth_nr": -1.0}, "smooth_nr"), ({"smooth_dr": float("nan")}, "smooth_dr"),
    ({"smooth_nr": "1"}, "smooth_nr"),
])
def test_soft_dice_refuses_bad_smoothing(bad, match):
    logits, mask = _case("random", 0)
    with pytest.raises(ValueError, match=match):
        soft_dice_loss(logits, mask, **bad)


def test_inputs_are_validated():
    logits, mask = _case("random", 0)
    with pytest.raises(ValueError, match="mask must have the shape"):
        soft_dice_loss(logits, mask[:-1])
    with pytest.raises(ValueError, match="mask"):
        soft_dice_loss(logits, mask * 2.0)
    with pytest.raises(ValueError, match="finite"):
        soft_dice_grad(np.full_like(logits, np.inf), mask)
    with pytest.raises(ValueError, match="lambda_dice"):
        dice_bce_loss(logits, mask, lambda_dice=-1.0)
    with pytest.raises(ValueError, match="kind"):
        SegLoss("hinge")
    with pytest.raises(ValueError, match="focal_alpha"):
        SegLoss("focal", focal_alpha=1.5)
    with pytest.raises(ValueError, match="pos_weight"):
        SegLoss("weighted_bce", pos_weight=-2.0)
    with pytest.raises(ValueError, match="loss must be a SegLoss"):
        seg.segmentation_loss(logits, mask, "bce")


# ----------------------------------------------------------------------------- laws
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), nr=st.sampled_from([0.0, 1e-5, 1.0, 7.0]),
       dr=st.sampled_from([1e-5, 1.0, 7.0]), squared=st.booleans(),
       density=st.sampled_from([0.0, 0.05, 0.3, 1.0]))
def test_soft_dice_gradient_equals_finite_differences(seed, nr, dr, squared, density):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 2.0, (5, 4))
    mask = (rng.random((5, 4)) < density).astype(float)
    kw = {"smooth_nr": nr, "smooth_dr": dr, "squared_pred": squared}
    grad = soft_dice_grad(logits, mask, **kw)
    h = 1e-6
    for idx in [(0, 0), (2, 1), (4, 3)]:
        up, down = logits.copy(), logits.copy()
        up[idx] += h
        down[idx] -= h
        fd = (soft_dice_loss(up, mask, **kw) - soft_dice_loss(down, mask, **kw)) / (2 * h)
        assert grad[idx] == pytest.approx(fd, rel=1e-5, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), nr=st.floats(0.0, 5.0), extra=st.floats(0.0, 5.0))
def test_soft_dice_is_in_unit_interval_when_numerator_term_does_not_exceed_denominator(
        seed, nr, extra):
    logits, mask = _case("soft", seed, (6, 6))
    value = soft_dice_loss(logits, mask, smooth_nr=nr, smooth_dr=nr + extra + 1e-9)
    assert 0.0 <= value <= 1.0


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), pa=st.floats(0.0, 1.0), pb=st.floats(0.0, 1.0))
def test_dice_and_iou_laws(seed, pa, pb):
    rng = np.random.default_rng(seed)
    a, b = rng.random((7, 5)) < pa, rng.random((7, 5)) < pb
    d, j = dice_coefficient(a, b), iou(a, b)
    assert d == dice_coefficient(b, a) and j == iou(b, a)
    assert 0.0 <= j <= d <= 1.0
    assert d == pytest.approx(2 * j / (1 + j), abs=1e-12)  # Dice = 2 IoU / (1 + IoU)
    assert dice_coefficient(a, a) == 1.0 and iou(a, a) == 1.0


# ----------------------------------------------------------------------------- metrics
def _set_dice_iou(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    sa, sb = set(zip(*np.nonzero(a))), set(zip(*np.nonzero(b)))
    if not sa and not sb:
        return 1.0, 1.0
    return 2 * len(sa & sb) / (len(sa) + len(sb)), len(sa & sb) / len(sa | sb)


@pytest.mark.parametrize("seed", range(8))
def test_dice_and_iou_match_their_definitions_and_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    a = rng.random((9, 11)) < rng.uniform(0.0, 0.6)
    b = rng.random((9, 11)) < rng.uniform(0.0, 0.6)
    d, j = _set_dice_iou(a, b)
    assert dice_coefficient(a, b) == pytest.approx(d, abs=1e-15)
    assert iou(a, b) == pytest.approx(j, abs=1e-15)
    if a.any() or b.any():
        assert dice_coefficient(a, b) == pytest.approx(f1_score(b.ravel(), a.ravel()))
        assert iou(a, b) == pytest.approx(jaccard_score(b.ravel(), a.ravel()))


def test_two_empty_masks_agree_perfectly_and_one_empty_mask_not_at_all():
    empty = np.zeros((5, 5), dtype=bool)
    some = empty.copy()
    some[1, 2] = True
    assert dice_coefficient(empty, empty) == 1.0 and iou(empty, empty) == 1.0
    assert dice_coefficient(some, empty) == 0.0 and iou(empty, some) == 0.0
    assert dice_coefficient(np.zeros((3, 3)), np.zeros((3, 3))) == 1.0  # 0/1 floats


def test_metrics_refuse_non_binary_or_mismatched_masks():
    with pytest.raises(ValueError, match="pred must be a binary mask"):
        dice_coefficient(np.full((2, 2), 0.5), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="same shape"):
        iou(np.zeros((2, 2)), np.zeros((2, 3)))


def test_overlap_figures_agree_with_the_metrics():
    rng = np.random.default_rng(4)
    logits = rng.normal(-1.0, 2.0, (20, 20))
    mask = (rng.random((20, 20)) < 0.1).astype(float)
    fig = overlap_figures(logits, mask)
    pred = logits >= 0
    truth = mask > 0
    assert fig.dice == pytest.approx(dice_coefficient(pred, truth))
    assert fig.iou == pytest.approx(iou(pred, truth))
    assert fig.pixel_accuracy == pytest.approx(np.mean(pred == truth))
    assert fig.recall == pytest.approx((pred & truth).sum() / truth.sum())
    assert fig.precision == pytest.approx((pred & truth).sum() / pred.sum())
    empty = overlap_figures(np.full((4, 4), -1.0), np.zeros((4, 4)))
    assert empty.dice == 1.0 and empty.recall is None and empty.precision is None


def test_background_baseline_and_pos_weight_suggestion():
    mask = disk_mask(64, 20.0, 30.0, 4.0).astype(float)
    n_pos = int(mask.sum())
    assert suggested_pos_weight(mask) == pytest.approx((4096 - n_pos) / n_pos)
    assert suggested_pos_weight(np.zeros((8, 8))) is None
    z0 = background_logit(mask)
    assert z0 < 0
    fig = overlap_figures(np.full(mask.shape, z0), mask)
    assert fig.dice == 0.0 and fig.recall == 0.0
    assert fig.pixel_accuracy == pytest.approx(1 - n_pos / 4096)
    bce = seg.segmentation_loss(np.full(mask.shape, z0), mask, SegLoss("bce"))[0]
    share = n_pos / 4096
    entropy = -(share * math.log(share) + (1 - share) * math.log(1 - share))
    assert bce == pytest.approx(entropy, rel=0.02)  # the best constant prediction's BCE
    assert background_logit(np.ones((4, 4))) < 0  # still background everywhere


# ----------------------------------------------------------------------------- the scan
def test_scan_is_seeded_and_sized():
    a, b = make_scan(64, seed=5), make_scan(64, seed=5)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)
    assert not np.array_equal(a.image, make_scan(64, seed=6).image)
    for size in (32, 64, 128):
        scan = make_scan(size)
        assert scan.image.shape == scan.mask.shape == (size, size)
        assert scan.image.dtype == np.float64 and np.all(np.isfinite(scan.image))
        assert set(np.unique(scan.mask)) <= {0.0, 1.0}


def test_lesion_area_follows_the_radius_down_to_one_percent_and_zero():
    for radius, share in [(0.0565, 0.01), (0.08, 0.02), (0.15, math.pi * 0.15**2)]:
        scan = make_scan(128, lesion_x=0.5, lesion_y=0.5, lesion_radius=radius)
        assert scan.lesion_share == pytest.approx(share, rel=0.06)
    empty = make_scan(64, lesion_radius=0.0)
    assert empty.lesion_pixels == 0
    assert np.array_equal(empty.image, seg._tissue(64, 0, empty.noise))


def test_moving_the_lesion_changes_only_the_lesion():
    a = make_scan(64, lesion_x=0.3, lesion_y=0.3, lesion_radius=0.05)
    b = make_scan(64, lesion_x=0.7, lesion_y=0.6, lesion_radius=0.05)
    far = (disk_mask(64, 19.2, 19.2, 9) | disk_mask(64, 44.8, 38.4, 9)) == 0
    assert np.array_equal(a.image[far], b.image[far])
    inside = a.mask > 0
    assert a.image[inside].mean() > a.image[~inside].mean() + 0.5 * a.contrast


def test_contrast_is_the_lesions_brightness():
    low = make_scan(64, contrast=0.0)
    high = make_scan(64, contrast=1.0)
    diff = high.image - low.image
    assert np.all(diff >= 0)
    assert diff[high.mask > 0].min() > 0.5 and diff[high.mask > 0].max() <= 1.0


@pytest.mark.parametrize("bad, match", [
    ({"size": 48}, "size"), ({"lesion_x": 1.5}, "lesion_x"), ({"lesion_radius": -0.1},
                                                               "lesion_radius"),
    ({"contrast": 3.0}, "contrast"), ({"noise": float("inf")}, "noise"),
    ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
])
def test_scan_arguments_are_validated(bad, match):
    with pytest.raises(ValueError, match=match):
        make_scan(**bad)


def test_disk_and_capsule_masks():
    disk = disk_mask(16, 8.0, 8.0, 2.0)
    rows, cols = np.nonzero(disk)
    assert np.all((rows + 0.5 - 8) ** 2 + (cols + 0.5 - 8) ** 2 <= 4.0)
    assert disk.sum() == 12
    stroke = capsule_mask(16, 2.0, 2.0, 13.0, 2.0, 1.0)
    assert stroke[1:3, 2:13].all() and not stroke[5:].any()  # no gaps along the stroke
    assert np.array_equal(capsule_mask(16, 8.0, 8.0, 8.0, 8.0, 2.0), disk)
    assert not capsule_mask(16, -20.0, -20.0, -10.0, -10.0, 2.0).any()


# ----------------------------------------------------------------------------- features
@pytest.mark.parametrize("h", [0, 1, 3, 6])
def test_box_mean_matches_its_definition(h):
    rng = np.random.default_rng(h)
    img = rng.random((17, 13))
    out = box_mean(img, h)
    brute = np.empty_like(img)
    for r in range(17):
        for c in range(13):
            brute[r, c] = img[max(r - h, 0):r + h + 1, max(c - h, 0):c + h + 1].mean()
    assert _close(out, brute, rtol=1e-12, atol=1e-12)
    k = 2 * h + 1
    interior = uniform_filter(img, size=k, mode="constant")[h:17 - h, h:13 - h]
    assert _close(out[h:17 - h, h:13 - h], interior, rtol=1e-12, atol=1e-12)


def test_pixel_features_are_standardised_columns_in_raster_order():
    scan = make_scan(64)
    f = pixel_features(scan.image)
    assert f.shape == (64 * 64, 4)
    assert _close(f.mean(axis=0), 0.0, atol=1e-12)
    assert _close(f.std(axis=0), 1.0, atol=1e-12)
    img = scan.image.ravel()
    assert _close(f[:, 0], (img - img.mean()) / img.std())
    smooth = box_mean(scan.image, feature_scales(64)[1]).ravel()
    assert _close(f[:, 2], (smooth - smooth.mean()) / smooth.std())
    assert feature_scales(32) == (1, 2, 3) and feature_scales(64) == (1, 3, 6)
    assert feature_scales(128) == (2, 6, 12)
    assert np.all(pixel_features(np.ones((8, 8))) == 0.0)


# ----------------------------------------------------------------------------- size curve
def test_loss_size_curve_bce_forgives_small_lesions_dice_does_not():
    losses = {k: SegLoss(k) for k in LOSS_KINDS}
    curve = loss_size_curve(64, losses)
    share = curve["share"]
    assert np.all(np.diff(share) >= 0) and share[0] > 0
    small, large = 2, len(share) - 1
    # the same 1-px error: mean BCE is smaller on a small lesion (few pixels touched) ...
    assert curve["bce"][small] < curve["bce"][large]
    # ... while the Dice loss and the hard Dice say the small lesion is segmented far worse
    assert curve["dice"][small] > 2 * curve["dice"][large]
    assert curve["dice_metric"][small] < 0.8 < curve["dice_metric"][large]
    assert curve["dice_metric"][large] > 0.9
    assert losses["dice"].value(np.zeros((2, 2)), np.ones((2, 2))) == pytest.approx(1 / 3,
                                                                                     rel=1e-4)
    for key in LOSS_KINDS:
        assert np.all(np.isfinite(curve[key]))


def test_loss_size_curve_values_are_each_loss_on_each_drawn_lesion():
    losses = {"bce": SegLoss("bce"), "w": SegLoss("weighted_bce", pos_weight=9.0),
              "f": SegLoss("focal", focal_alpha=0.25), "d": SegLoss("dice", squared_pred=True),
              "db": SegLoss("dice_bce", smooth_nr=1.0, smooth_dr=2.0, lambda_ce=3.0)}
    curve = loss_size_curve(32, losses, shares=[0.0, 0.01, 0.1], edge_px=0.7, offset_px=2.0)
    centres = np.arange(32) + 0.5
    d_true = np.hypot(centres[None, :] - 16, centres[:, None] - 16)
    d_pred = np.hypot(centres[None, :] - 18, centres[:, None] - 16)
    for k, r in enumerate(curve["radius_px"]):
        mask = (d_true <= r).astype(float)
        logits = (r - d_pred) / 0.7
        assert curve["share"][k] == mask.mean()
        assert curve["dice_metric"][k] == overlap_figures(logits, mask).dice
        for name, loss in losses.items():
            assert curve[name][k] == pytest.approx(loss.value(logits, mask), rel=1e-13, abs=1e-15)
    with pytest.raises(ValueError, match="reserved"):
        loss_size_curve(32, {"share": SegLoss()})


def test_mask_outline_is_the_boundary_of_the_pixels():
    mask = np.zeros((6, 6))
    assert mask_outline(mask)[0].size == 0
    mask[2, 3] = 1.0
    xs, ys = mask_outline(mask)
    edges = {tuple(sorted(((xs[i], ys[i]), (xs[i + 1], ys[i + 1])))) for i in range(0, xs.size, 2)}
    assert edges == {((3, 2), (4, 2)), ((3, 3), (4, 3)), ((3, 2), (3, 3)), ((4, 2), (4, 3))}
    mask[2, 4] = 1.0  # a shared edge disappears: 6 unit edges around a 2 × 1 block
    assert mask_outline(mask)[0].size == 2 * 6
    full = np.ones((3, 3))
    assert mask_outline(full)[0].size == 2 * 12  # the image border closes it
