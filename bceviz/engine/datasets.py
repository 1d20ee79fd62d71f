"""Seeded toy data sets of labelled 2-D points, and a (stratified) held-out split.

Every generator is deterministic for a given seed and places its points
roughly within [-3, 3]² (a few jittered points may fall just outside), so a
linear model's loss surface over w ∈ [-6, 6]² spans both good and bad weights.
Labels are floats 0.0 / 1.0; the rows come shuffled.

Kinds:

* "blobs": two Gaussian clusters with a gap between them along their axis;
  linearly separable for any ``noise`` (points are folded back behind a
  margin), as long as ``label_noise`` is 0.
* "overlap": two wide Gaussian clusters whose tails interpenetrate; not
  linearly separable (for any realistic n).
* "xor": four quadrant clusters, positives where x1·x2 > 0. The points come
  in mirror pairs (x, -x) with equal labels, so with balanced classes the best
  linear model is exactly w = 0, b = 0 with mean loss ln 2: a coin flip.
* "circles": a positive disc inside a negative ring.
* "moons": two interleaving half circles (scikit-learn's shape, scaled).
* "spirals": two interleaved spiral arms.

``noise`` is the standard deviation of the Gaussian jitter added to every
coordinate, in units of ``NOISE_UNIT`` data units (the default 0.1 looks like
scikit-learn's ``make_moons(noise=0.1)``); for blobs and overlap it widens
the clusters. ``pos_fraction`` is the share of positives before label noise
(rounded, at least one of each class); ``label_noise`` flips exactly
round(label_noise · n) labels, chosen at random; for one seed the points do
not depend on ``label_noise`` and a higher rate flips a superset of labels.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np

__all__ = ["DATASET_KINDS", "NOISE_UNIT", "heldout_split", "make_dataset"]

DATASET_KINDS = ("blobs", "overlap", "xor", "circles", "moons", "spirals")

#: Data units per unit of ``noise``.
NOISE_UNIT = 1.5

Generator = Callable[[np.random.Generator, int, int, float], tuple[np.ndarray, np.ndarray]]


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_real(
    name: str, value, low: float, high: float, *, open_low=False, open_high=False
) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    v = float(value)
    too_low = v <= low if open_low else v < low
    too_high = v >= high if open_high else v > high
    if too_low or too_high:
        lo, hi = ("(" if open_low else "["), (")" if open_high else "]")
        raise ValueError(f"{name} must be in {lo}{low:g}, {high:g}{hi}, got {value!r}")
    return v


# ----------------------------------------------------------------------------
# Generators: (rng, n_pos, n_neg, jitter in data units) -> (positives, negatives)


def _blobs(rng, n_pos, n_neg, jitter):
    axis = np.array([0.8, 0.6])  # unit vector from the negative to the positive cluster
    across = np.array([-0.6, 0.8])
    centre, spread, margin = 1.4, 0.5 + jitter, 0.3

    def cluster(n, sign):
        along = centre + spread * rng.standard_normal(n)
        along = margin + np.abs(along - margin)  # fold stragglers back behind the margin
        side = spread * rng.standard_normal(n)
        return sign * along[:, None] * axis + side[:, None] * across

    return cluster(n_pos, 1.0), cluster(n_neg, -1.0)


def _overlap(rng, n_pos, n_neg, jitter):
    centre = np.array([0.75, 0.55])
    spread = 0.8 + jitter

    def cluster(n, sign):
        return sign * centre + spread * rng.standard_normal((n, 2))

    return cluster(n_pos, 1.0), cluster(n_neg, -1.0)


def _mirrored(half: Callable[[int], np.ndarray], n: int) -> np.ndarray:
    """n points made of pairs (x, -x), plus one unpaired point if n is odd."""
    base = half((n + 1) // 2)
    return np.concatenate([base, -base[: n // 2]])


def _xor(rng, n_pos, n_neg, jitter):
    spread = 0.45 + 0.5 * jitter

    def quadrant(qx, qy):
        def draw(n):
            pts = 1.4 + spread * rng.standard_normal((n, 2))
            pts = np.abs(pts) * np.array([qx, qy])  # stay in the quadrant
            return pts

        return draw

    # Positives in quadrants I/III, negatives in II/IV, as mirror pairs.
    return _mirrored(quadrant(1.0, 1.0), n_pos), _mirrored(quadrant(-1.0, 1.0), n_neg)


def _circles(rng, n_pos, n_neg, jitter):
    # Positives fill a disc of radius 1.1 (uniform in area); negatives a ring at 2.3.
    r_in = 1.1 * np.sqrt(rng.uniform(0.0, 1.0, n_pos))
    r_out = 2.3 + 0.15 * rng.standard_normal(n_neg)
    pts = []
    for r in (r_in, r_out):
        angle = rng.uniform(0.0, 2.0 * math.pi, r.size)
        ring = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
        pts.append(ring + jitter * rng.standard_normal((r.size, 2)))
    return pts[0], pts[1]


def _moons(rng, n_pos, n_neg, jitter):
    scale = 1.6
    t_neg = rng.uniform(0.0, math.pi, n_neg)
    t_pos = rng.uniform(0.0, math.pi, n_pos)
    neg = np.column_stack([np.cos(t_neg), np.sin(t_neg)])
    pos = np.column_stack([1.0 - np.cos(t_pos), 0.5 - np.sin(t_pos)])
    shift = np.array([0.5, 0.25])
    neg = (neg - shift) * scale + jitter * rng.standard_normal((n_neg, 2))
    pos = (pos - shift) * scale + jitter * rng.standard_normal((n_pos, 2))
    return pos, neg


def _spirals(rng, n_pos, n_neg, jitter):
    def arm(n, phase):
        t = np.sqrt(rng.uniform(0.04, 1.0, n))  # denser towards the outside, like the arc length
        angle = 3.0 * math.pi * t + phase
        r = 2.7 * t
        pts = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
        return pts + 0.5 * jitter * rng.standard_normal((n, 2))

    return arm(n_pos, 0.0), arm(n_neg, math.pi)


_GENERATORS: dict[str, Generator] = {
    "blobs": _blobs,
    "overlap": _overlap,
    "xor": _xor,
    "circles": _circles,
    "moons": _moons,
    "spirals": _spirals,
}


def make_dataset(
    kind: str,
    n: int = 200,
    *,
    noise: float = 0.1,
    pos_fraction: float = 0.5,
    label_noise: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): n points X (n, 2) in float64, labels y (n,) of 0.0 / 1.0.

    kind: one of DATASET_KINDS; n >= 2; noise >= 0 (jitter, see the module
    docstring; at most 5); pos_fraction in (0, 1), the share of positives,
    rounded, with at least one positive and one negative; label_noise in
    [0, 0.5], the exact fraction of flipped labels; seed: integer >= 0.
    """
    if kind not in _GENERATORS:
        raise ValueError(f"kind must be one of {', '.join(DATASET_KINDS)}; got {kind!r}")
    n = _check_int("n", n, 2)
    noise = _check_real("noise", noise, 0.0, 5.0)
    pos_fraction = _check_real(
        "pos_fraction", pos_fraction, 0.0, 1.0, open_low=True, open_high=True
    )
    label_noise = _check_real("label_noise", label_noise, 0.0, 0.5)
    seed = _check_int("seed", seed, 0)

    rng = np.random.default_rng(seed)
    n_pos = min(max(round(n * pos_fraction), 1), n - 1)
    n_neg = n - n_pos
    pos, neg = _GENERATORS[kind](rng, n_pos, n_neg, noise * NOISE_UNIT)
    X = np.concatenate([pos, neg]).astype(np.float64)
    y = np.concatenate([np.ones(n_pos), np.zeros(n_neg)])

    order = rng.permutation(n)
    X, y = np.ascontiguousarray(X[order]), y[order]

    # Drawn after the points so that, for one seed, changing label_noise keeps
    # every point in place, and a higher rate flips a superset of the labels.
    n_flip = round(label_noise * n)
    flip = rng.permutation(n)[:n_flip]
    if n_flip:
        y[flip] = 1.0 - y[flip]
        _keep_both_classes(y, flip, rng)
    return X, y


def _keep_both_classes(y: np.ndarray, flip: np.ndarray, rng: np.random.Generator) -> None:
    """If flipping emptied a class, trade one flip for a flip in the other class.

    The number of flipped labels stays the same.
    """
    for missing in (1.0, 0.0):
        if np.any(y == missing):
            continue
        # Every original member of `missing` was flipped; undo one of them and
        # flip an unflipped member of the other class instead.
        flipped = flip[y[flip] != missing]
        undo = flipped[rng.integers(flipped.size)]
        unflipped = np.setdiff1d(np.flatnonzero(y != missing), flip)
        if unflipped.size == 0:
            return  # n too small to keep both classes; leave it
        other = unflipped[rng.integers(unflipped.size)]
        y[undo] = missing
        y[other] = missing


def heldout_split(
    n: int, heldout_fraction: float = 0.25, seed: int = 0, y: np.ndarray | None = None
) -> np.ndarray:
    """Boolean mask of length n, True for held-out samples.

    round(heldout_fraction · n) samples are held out, at least one sample
    stays in training. When labels y (length n, values in [0, 1]; y >= 0.5
    counts as positive) are given the split is stratified: each class holds
    out round(fraction · its size) samples and keeps at least one for training.
    """
    n = _check_int("n", n, 1)
    frac = _check_real("heldout_fraction", heldout_fraction, 0.0, 1.0, open_high=True)
    seed = _check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    mask = np.zeros(n, dtype=bool)
    if y is None:
        k = min(round(frac * n), n - 1)
        mask[rng.permutation(n)[:k]] = True
        return mask
    labels = np.asarray(y)
    if labels.dtype.kind not in "biuf":
        raise ValueError(f"y must be numeric labels, got dtype {labels.dtype}")
    if labels.shape != (n,):
        raise ValueError(f"y must have shape ({n},), got {labels.shape}")
    if not np.all((labels >= 0) & (labels <= 1)):
        raise ValueError("labels y must be in [0, 1]")
    positive = labels >= 0.5
    for members in (np.flatnonzero(positive), np.flatnonzero(~positive)):
        if members.size == 0:
            continue
        k = min(round(frac * members.size), members.size - 1)
        mask[rng.permutation(members)[:k]] = True
    return mask
