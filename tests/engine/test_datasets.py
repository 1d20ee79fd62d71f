"""Tests of bceviz.engine.datasets: determinism, shapes, class balance, noise, separability, splits."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from bceviz.engine.datasets import DATASET_KINDS, heldout_split, make_dataset


@pytest.mark.parametrize("kind", DATASET_KINDS)
def test_shapes_labels_range_and_determinism(kind):
    X, y = make_dataset(kind, 300, seed=7)
    assert X.shape == (300, 2) and X.dtype == np.float64
    assert y.shape == (300,) and y.dtype == np.float64
    assert set(np.unique(y)) == {0.0, 1.0}
    assert np.all(np.isfinite(X))
    # Roughly within [-3, 3]: the loss surface over w in [-6, 6]² stays interesting.
    assert np.mean(np.all(np.abs(X) <= 3.0, axis=1)) >= 0.97
    assert np.abs(X).max() < 4.5
    X2, y2 = make_dataset(kind, 300, seed=7)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make_dataset(kind, 300, seed=8)
    assert not np.array_equal(X, X3)


@pytest.mark.parametrize("kind", DATASET_KINDS)
@pytest.mark.parametrize(
    "n, fraction",
    [(200, 0.5), (200, 0.1), (201, 0.3), (500, 0.01), (50, 0.01), (100, 0.9), (2, 0.5)],
)
def test_pos_fraction_is_honoured(kind, n, fraction):
    _, y = make_dataset(kind, n, pos_fraction=fraction, seed=1)
    expected = min(max(round(n * fraction), 1), n - 1)
    assert y.sum() == expected
    assert y.sum() >= 1 and (1 - y).sum() >= 1


@pytest.mark.parametrize("kind", ["blobs", "moons"])
def test_label_noise_flips_exactly_that_fraction_and_keeps_the_points(kind):
    X0, y0 = make_dataset(kind, 400, seed=3)
    previous = np.zeros(400, dtype=bool)
    for rate in (0.05, 0.1, 0.25, 0.5):
        X, y = make_dataset(kind, 400, label_noise=rate, seed=3)
        np.testing.assert_array_equal(X, X0)
        flipped = y != y0
        assert flipped.sum() == round(rate * 400)
        assert np.all(flipped[previous])  # a higher rate flips a superset
        previous = flipped


def test_label_noise_never_empties_a_class():
    for seed in range(30):
        _, y = make_dataset("blobs", 10, pos_fraction=0.1, label_noise=0.1, seed=seed)
        assert 1 <= y.sum() <= 9
        assert np.sum(y != make_dataset("blobs", 10, pos_fraction=0.1, seed=seed)[1]) == 1


@pytest.mark.parametrize("noise", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blobs_are_linearly_separable(noise, seed):
    X, y = make_dataset("blobs", 300, noise=noise, seed=seed)
    svm = SVC(kernel="linear", C=1e6).fit(X, y)
    assert svm.score(X, y) == 1.0


@pytest.mark.parametrize("kind", ["overlap", "xor", "circles", "moons", "spirals"])
def test_other_kinds_are_not_linearly_separable(kind):
    X, y = make_dataset(kind, 300, seed=0)
    accuracy = LogisticRegression(C=1e4, max_iter=10_000).fit(X, y).score(X, y)
    assert accuracy < 0.95


def test_xor_positives_sit_where_x1_x2_is_positive_in_mirror_pairs():
    X, y = make_dataset("xor", 200, seed=4)
    np.testing.assert_array_equal(np.sign(X[:, 0] * X[:, 1]) > 0, y == 1)
    # Every point has its mirror image -x with the same label (even counts).
    key = {tuple(np.round(x, 12)): label for x, label in zip(X, y)}
    for x, label in zip(X, y):
        assert key[tuple(np.round(-x, 12))] == label


def test_noise_spreads_the_points():
    tight, _ = make_dataset("moons", 400, noise=0.0, seed=0)
    loose, _ = make_dataset("moons", 400, noise=0.5, seed=0)
    assert loose.std() > tight.std()


def test_dataset_validation():
    with pytest.raises(ValueError, match="kind"):
        make_dataset("checkerboard")
    for bad in (1, 0, -5, 2.5, True):
        with pytest.raises(ValueError, match="n must"):
            make_dataset("blobs", bad)
    for bad in (-0.1, float("nan"), 10.0):
        with pytest.raises(ValueError, match="noise"):
            make_dataset("blobs", noise=bad)
    for bad in (0.0, 1.0, -0.2, 1.5):
        with pytest.raises(ValueError, match="pos_fraction"):
            make_dataset("blobs", pos_fraction=bad)
    for bad in (-0.01, 0.6):
        with pytest.raises(ValueError, match="label_noise"):
            make_dataset("blobs", label_noise=bad)
    with pytest.raises(ValueError, match="seed"):
        make_dataset("blobs", seed=-1)


# ----------------------------------------------------------------------------
# Held-out split


def test_heldout_split_size_and_determinism():
    mask = heldout_split(200, 0.25, seed=1)
    assert mask.dtype == bool and mask.shape == (200,) and mask.sum() == 50
    np.testing.assert_array_equal(mask, heldout_split(200, 0.25, seed=1))
    assert not np.array_equal(mask, heldout_split(200, 0.25, seed=2))
    assert heldout_split(10, 0.0).sum() == 0
    assert heldout_split(4, 0.99).sum() == 3  # one sample always stays in training
    assert heldout_split(1, 0.5).sum() == 0


@pytest.mark.parametrize("fraction", [0.2, 0.25, 0.5])
def test_heldout_split_is_stratified(fraction):
    _, y = make_dataset("overlap", 400, pos_fraction=0.1, seed=0)
    mask = heldout_split(400, fraction, seed=3, y=y)
    n_pos = int(y.sum())
    assert y[mask].sum() == round(fraction * n_pos)
    assert (1 - y[mask]).sum() == round(fraction * (400 - n_pos))
    # Both classes stay in training even when a class has one member.
    _, y1 = make_dataset("overlap", 100, pos_fraction=0.01, seed=0)
    m1 = heldout_split(100, 0.5, y=y1)
    assert y1[~m1].sum() == 1


def test_heldout_split_validation():
    with pytest.raises(ValueError, match="heldout_fraction"):
        heldout_split(10, 1.0)
    with pytest.raises(ValueError, match="heldout_fraction"):
        heldout_split(10, -0.1)
    with pytest.raises(ValueError, match="n must"):
        heldout_split(0)
    with pytest.raises(ValueError, match="y"):
        heldout_split(10, y=np.zeros(9))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        heldout_split(3, y=np.array([0.0, 2.0, 1.0]))
