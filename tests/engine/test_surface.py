"""LossSurface against a brute-force surface: fresh, after every kind of edit and setting."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bceviz.engine.losses import LossSpec, grad_from_logits, loss_from_logits
from bceviz.engine.surface import LossSurface

# Mean losses agree with the float64 brute force to 1e-5 relative (float32 paths
# are about 1e-7) or 1e-6 absolute.
RTOL, ATOL = 1e-5, 1e-6

SPECS = {
    "plain": LossSpec(),
    "smoothing": LossSpec(label_smoothing=0.2),
    "pos_weight": LossSpec(pos_weight=3.5),
    "pos_weight_zero": LossSpec(pos_weight=0.0, label_smoothing=0.1),
    "smooth_weighted": LossSpec(label_smoothing=0.1, pos_weight=0.4),
    "focal_gamma2": LossSpec(focal_gamma=2.0),
    "focal_alpha": LossSpec(focal_gamma=2.0, focal_alpha=0.25),
    "focal_alpha_only": LossSpec(focal_alpha=0.7),
    "focal_gamma_frac": LossSpec(focal_gamma=1.5, focal_alpha=0.6),
    "focal_gamma3": LossSpec(focal_gamma=3.0),
    "focal_everything": LossSpec(
        label_smoothing=0.15, pos_weight=2.0, focal_gamma=0.5, focal_alpha=0.3
    ),
}


def brute_surface(X, y, spec=LossSpec(), *, w1_range=(-6, 6), w2_range=(-6, 6), bias=0.0,
                  resolution=128, l2=0.0, offsets=None):
    """The definition, written independently: a (G², N) logit matrix and loss_from_logits."""
    X = np.asarray(X, dtype=np.float64).reshape(-1, 2)
    y = np.asarray(y, dtype=np.float64)
    w1 = np.linspace(*w1_range, resolution)
    w2 = np.linspace(*w2_range, resolution)
    W1, W2 = np.meshgrid(w1, w2)  # rows = w2, columns = w1
    reg = 0.5 * l2 * (W1**2 + W2**2)
    if y.size == 0:
        return reg
    extra = 0.0 if offsets is None else np.asarray(offsets, dtype=np.float64)[None, :]
    Z = W1.reshape(-1, 1) * X[:, 0] + W2.reshape(-1, 1) * X[:, 1] + bias + extra
    loss = loss_from_logits(Z, y[None, :], spec).mean(axis=1)
    return loss.reshape(W1.shape) + reg


def assert_matches(surface: LossSurface, X, y, spec, **kwargs):
    ref = brute_surface(X, y, spec, **kwargs)
    values = surface.values
    assert values.shape == ref.shape
    assert np.all(np.isfinite(values))
    np.testing.assert_allclose(values, ref, rtol=RTOL, atol=ATOL)


def blobs(n, seed=0, soft=False, scale=1.0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.45).astype(np.float64)
    X = rng.normal(size=(n, 2)) + np.where(y[:, None] == 1, 1.0, -1.0)
    if soft:
        y = rng.random(n)
    return X * scale, y


# ----------------------------------------------------------------------------
# Fresh surfaces


@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
@pytest.mark.parametrize("name", list(SPECS))
def test_fresh_surface_matches_brute_force(name, soft):
    X, y = blobs(60, seed=1, soft=soft)
    spec = SPECS[name]
    surface = LossSurface(X, y, spec, resolution=24, bias=0.4, l2=0.05)
    assert_matches(surface, X, y, spec, resolution=24, bias=0.4, l2=0.05)


def test_axes_orientation_and_defaults():
    X = np.array([[1.0, 0.0], [-0.5, 0.0]])
    surface = LossSurface(X, [1, 0], w1_range=(-2, 4), w2_range=(-1, 3), resolution=17)
    np.testing.assert_array_equal(surface.w1, np.linspace(-2, 4, 17))
    np.testing.assert_array_equal(surface.w2, np.linspace(-1, 3, 17))
    values = surface.values
    assert values.shape == (17, 17)
    # x2 = 0: the loss depends on w1 only, i.e. on the column, not the row.
    np.testing.assert_allclose(values, np.broadcast_to(values[0], values.shape), rtol=1e-12)
    assert not np.allclose(values[0], values[0, 0])
    default = LossSurface(X, [1, 0])
    assert default.values.shape == (128, 128)
    np.testing.assert_array_equal(default.w1, np.linspace(-6, 6, 128))


def test_full_size_surface_matches_brute_force():
    X, y = blobs(300, seed=2)
    surface = LossSurface(X, y)
    assert_matches(surface, X, y, LossSpec())


def test_values_are_read_only_and_cached():
    X, y = blobs(10)
    surface = LossSurface(X, y, resolution=8)
    values = surface.values
    with pytest.raises(ValueError):
        values[0, 0] = 1.0
    assert surface.values is values
    d1, d2 = surface.gradient()
    with pytest.raises(ValueError):
        d1[0, 0] = 1.0


# ----------------------------------------------------------------------------
# Point edits


def _random_edits(surface, X, y, offsets, rng, n_edits, check_every, spec, **kwargs):
    """Apply random edits to surface and to (X, y, offsets) copies; compare as we go."""
    for step in range(n_edits):
        n = len(y)
        kind = rng.choice(["move", "label", "add", "remove"]) if n else "add"
        if kind == "move":
            i = int(rng.integers(n))
            x = rng.normal(size=2) * 1.5
            surface.move_point(i, x)
            X[i] = x
        elif kind == "label":
            i = int(rng.integers(n))
            label = float(rng.choice([0.0, 1.0, rng.random()]))
            surface.set_label(i, label)
            y[i] = label
        elif kind == "add":
            x = rng.normal(size=2) * 1.5
            label = float(rng.choice([0.0, 1.0, rng.random()]))
            if offsets is None:
                surface.add_point(x, label)
            else:
                off = float(rng.normal())
                surface.add_point(x, label, offset=off)
                offsets = np.append(offsets, off)
            X = np.vstack([X, x])
            y = np.append(y, label)
        else:
            i = int(rng.integers(n))
            surface.remove_point(i)
            X = np.delete(X, i, axis=0)
            y = np.delete(y, i)
            if offsets is not None:
                offsets = np.delete(offsets, i)
        assert surface.n_points == len(y)
        if step % check_every == 0:
            assert_matches(surface, X, y, spec, offsets=offsets, **kwargs)
    assert_matches(surface, X, y, spec, offsets=offsets, **kwargs)
    return X, y, offsets


@pytest.mark.parametrize(
    "name", ["plain", "smooth_weighted", "focal_alpha", "focal_gamma_frac", "focal_everything"]
)
def test_random_edit_sequence_matches_brute_force(name):
    spec = SPECS[name]
    rng = np.random.default_rng(7)
    X, y = blobs(40, seed=3)
    surface = LossSurface(X, y, spec, resolution=16, bias=-0.3)
    surface.values  # noqa: B018 - build the sums, so the edits below are incremental
    _random_edits(surface, X.copy(), y.copy(), None, rng, 120, 10, spec,
                  resolution=16, bias=-0.3)


@pytest.mark.parametrize("name", ["plain", "focal_alpha"])
def test_remove_down_to_zero_points_and_add_back(name):
    spec = SPECS[name]
    X, y = blobs(25, seed=4)
    surface = LossSurface(X, y, spec, resolution=12, l2=0.2)
    surface.values  # noqa: B018
    rng = np.random.default_rng(0)
    while surface.n_points:
        i = int(rng.integers(surface.n_points))
        surface.remove_point(i)
        X, y = np.delete(X, i, axis=0), np.delete(y, i)
        assert_matches(surface, X, y, spec, resolution=12, l2=0.2)
    # Zero points: only the L2 term, exactly, with no NaN.
    w1, w2 = np.meshgrid(surface.w1, surface.w2)
    np.testing.assert_allclose(surface.values, 0.1 * (w1**2 + w2**2), rtol=1e-14, atol=0)
    for x, label in [((0.5, -1.0), 1.0), ((2.0, 0.3), 0.0), ((-1.0, -1.0), 0.25)]:
        surface.add_point(x, label)
        X, y = np.vstack([X, x]), np.append(y, label)
        assert_matches(surface, X, y, spec, resolution=12, l2=0.2)


def test_edits_before_the_first_read_are_applied():
    X, y = blobs(20, seed=5)
    surface = LossSurface(X, y, resolution=10)
    surface.move_point(3, (4.0, -4.0))
    surface.set_label(4, 0.3)
    surface.add_point((1.0, 1.0), 1.0)
    surface.remove_point(0)
    X[3], y[4] = (4.0, -4.0), 0.3
    X, y = np.vstack([X, (1.0, 1.0)]), np.append(y, 1.0)
    X, y = X[1:], y[1:]
    assert_matches(surface, X, y, LossSpec(), resolution=10)


def test_float32_sums_stay_accurate_when_most_points_are_removed():
    # The float32-built sums carry ~1e-7 of their initial size as rounding error:
    # after removing 295 of 300 points the guard must have rebuilt them.
    X, y = blobs(300, seed=6, scale=2.0)
    spec = LossSpec(label_smoothing=0.05)
    surface = LossSurface(X, y, spec, resolution=20)
    surface.values  # noqa: B018
    for _ in range(295):
        surface.remove_point(0)
        X, y = X[1:], y[1:]
    ref = brute_surface(X, y, spec, resolution=20)
    np.testing.assert_allclose(surface.values, ref, rtol=2e-6, atol=0)


def test_point_edits_with_offsets():
    rng = np.random.default_rng(11)
    X, y = blobs(30, seed=7)
    offsets = rng.normal(size=30)
    spec = LossSpec(focal_gamma=2.0)
    surface = LossSurface(X, y, spec, resolution=12, offsets=offsets)
    assert_matches(surface, X, y, spec, resolution=12, offsets=offsets)
    X, y, offsets = _random_edits(surface, X.copy(), y.copy(), offsets.copy(), rng, 40, 8,
                                  spec, resolution=12)
    # move_point can carry the moved point's new offset.
    surface.move_point(2, (0.5, 0.5), offset=1.5)
    X[2], offsets[2] = (0.5, 0.5), 1.5
    assert_matches(surface, X, y, spec, resolution=12, offsets=offsets)
    np.testing.assert_array_equal(surface.offsets, offsets)


def test_offset_keyword_creates_offsets_when_there_were_none():
    X, y = blobs(10, seed=8)
    surface = LossSurface(X, y, resolution=8)
    assert surface.offsets is None
    surface.add_point((0.0, 1.0), 1.0, offset=-2.0)
    X, y = np.vstack([X, (0.0, 1.0)]), np.append(y, 1.0)
    offsets = np.zeros(11)
    offsets[-1] = -2.0
    assert_matches(surface, X, y, LossSpec(), resolution=8, offsets=offsets)


# ----------------------------------------------------------------------------
# Settings


def test_spec_changes_in_sequence_match_brute_force():
    X, y = blobs(50, seed=9, soft=True)
    surface = LossSurface(X, y, resolution=16)
    surface.values  # noqa: B018
    for name in ["smoothing", "pos_weight", "focal_gamma2", "focal_alpha", "plain",
                 "focal_everything", "smooth_weighted", "focal_gamma_frac", "pos_weight_zero"]:
        surface.set_spec(SPECS[name])
        assert surface.spec == SPECS[name]
        assert_matches(surface, X, y, SPECS[name], resolution=16)


def test_edits_while_focal_keep_the_decomposition_current():
    X, y = blobs(40, seed=10)
    surface = LossSurface(X, y, resolution=12)
    surface.values  # noqa: B018
    surface.set_spec(SPECS["focal_alpha"])
    surface.values  # noqa: B018
    surface.move_point(0, (3.0, 3.0))
    surface.set_label(1, 1.0 - y[1])
    surface.remove_point(5)
    X[0], y[1] = (3.0, 3.0), 1.0 - y[1]
    X, y = np.delete(X, 5, axis=0), np.delete(y, 5)
    assert_matches(surface, X, y, SPECS["focal_alpha"], resolution=12)
    surface.set_spec(SPECS["smooth_weighted"])
    assert_matches(surface, X, y, SPECS["smooth_weighted"], resolution=12)


def test_non_focal_spec_change_does_not_recompute_the_sums(monkeypatch):
    # The O(G²) contract: smoothing, pos_weight and labels come from the kept sums.
    X, y = blobs(30, seed=12)
    surface = LossSurface(X, y, resolution=16)
    surface.values  # noqa: B018

    def fail(*args, **kwargs):
        raise AssertionError("full recompute")

    monkeypatch.setattr(surface, "_sum_over_grid", fail)
    for spec in [SPECS["smoothing"], SPECS["pos_weight"], SPECS["smooth_weighted"]]:
        surface.set_spec(spec)
        assert_matches(surface, X, y, spec, resolution=16)
    surface.set_label(0, 1.0 - y[0])
    surface.set_label(1, 0.35)
    y[0], y[1] = 1.0 - y[0], 0.35
    assert_matches(surface, X, y, SPECS["smooth_weighted"], resolution=16)
    surface.set_l2(0.3)
    assert_matches(surface, X, y, SPECS["smooth_weighted"], resolution=16, l2=0.3)


def test_set_bias_l2_offsets_ranges_resolution_data():
    X, y = blobs(30, seed=13)
    spec = LossSpec(label_smoothing=0.1, focal_gamma=1.0)
    kw = dict(resolution=10)
    surface = LossSurface(X, y, spec, **kw)
    surface.set_bias(1.25)
    kw["bias"] = 1.25
    assert_matches(surface, X, y, spec, **kw)
    surface.set_l2(0.7)
    kw["l2"] = 0.7
    assert_matches(surface, X, y, spec, **kw)
    offsets = np.linspace(-1, 1, 30)
    surface.set_offsets(offsets)
    assert_matches(surface, X, y, spec, offsets=offsets, **kw)
    surface.set_ranges((-1, 2), (0.5, 9))
    kw.update(w1_range=(-1, 2), w2_range=(0.5, 9))
    assert_matches(surface, X, y, spec, offsets=offsets, **kw)
    surface.set_resolution(7)
    kw["resolution"] = 7
    assert_matches(surface, X, y, spec, offsets=offsets, **kw)
    assert surface.w1.shape == surface.w2.shape == (7,)
    surface.set_offsets(None)
    assert surface.offsets is None
    assert_matches(surface, X, y, spec, **kw)
    X2, y2 = blobs(12, seed=14, soft=True)
    surface.set_data(X2, y2)
    assert surface.n_points == 12
    assert_matches(surface, X2, y2, spec, **kw)
    surface.set_data(np.zeros((0, 2)), [])
    assert surface.n_points == 0
    assert_matches(surface, np.zeros((0, 2)), [], spec, **kw)


def test_no_points_gives_the_l2_term_only():
    surface = LossSurface(np.zeros((0, 2)), [], l2=0.5, resolution=5)
    w1, w2 = np.meshgrid(surface.w1, surface.w2)
    np.testing.assert_allclose(surface.values, 0.25 * (w1**2 + w2**2), rtol=1e-14, atol=0)
    surface.set_spec(SPECS["focal_alpha"])
    np.testing.assert_allclose(surface.values, 0.25 * (w1**2 + w2**2), rtol=1e-14, atol=0)
    assert LossSurface([], [], resolution=4).values.sum() == 0.0
    d1, d2 = surface.gradient()
    assert np.all(np.isfinite(d1)) and np.all(np.isfinite(d2))


# ----------------------------------------------------------------------------
# Numerics at the extremes


@pytest.mark.parametrize("name", ["plain", "smooth_weighted", "focal_alpha", "focal_everything"])
def test_extreme_data_is_finite_and_exact(name):
    # Logits up to ~1e4 (float64 direct path), ~300 (float64 separable) and
    # mixtures with ordinary points (float32 separable) in one surface.
    spec = SPECS[name]
    X, y = blobs(30, seed=15)
    X = X * np.repeat([1.0, 25.0, 800.0], 10)[:, None]
    surface = LossSurface(X, y, spec, resolution=12)
    values = surface.values
    assert np.all(np.isfinite(values))
    assert_matches(surface, X, y, spec, resolution=12)
    surface.move_point(0, (1000.0, -900.0))
    X[0] = (1000.0, -900.0)
    assert_matches(surface, X, y, spec, resolution=12)


def test_huge_weights_range_is_finite():
    X, y = blobs(20, seed=16)
    surface = LossSurface(X, y, w1_range=(-1e4, 1e4), w2_range=(-1e4, 1e4), resolution=9)
    assert np.all(np.isfinite(surface.values))
    assert_matches(surface, X, y, LossSpec(), w1_range=(-1e4, 1e4), w2_range=(-1e4, 1e4),
                   resolution=9)


def test_separable_data_at_large_weights_keeps_small_losses_relative():
    # Far from the boundary the loss is ~1e-12: float32 must not flatten it to 0.
    X = np.array([[2.0, 2.0], [-2.0, -2.0], [3.0, 1.0], [-1.0, -3.0]])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    surface = LossSurface(X, y, w1_range=(5, 8), w2_range=(5, 8), resolution=6)
    ref = brute_surface(X, y, w1_range=(5, 8), w2_range=(5, 8), resolution=6)
    assert ref.max() < 1e-8
    np.testing.assert_allclose(surface.values, ref, rtol=1e-5, atol=0)


# ----------------------------------------------------------------------------
# Gradient, version, memory


def test_gradient_matches_the_analytic_gradient():
    X, y = blobs(40, seed=17)
    spec = LossSpec(label_smoothing=0.1)
    surface = LossSurface(X, y, spec, resolution=201, w1_range=(-2, 2), w2_range=(-3, 1),
                          l2=0.1, bias=0.2)
    d_dw1, d_dw2 = surface.gradient()
    assert d_dw1.shape == d_dw2.shape == (201, 201)
    r, c = 120, 75
    w1, w2 = surface.w1[c], surface.w2[r]
    z = w1 * X[:, 0] + w2 * X[:, 1] + 0.2
    g = grad_from_logits(z, y, spec)
    assert d_dw1[r, c] == pytest.approx(np.mean(g * X[:, 0]) + 0.1 * w1, rel=1e-3, abs=1e-5)
    assert d_dw2[r, c] == pytest.approx(np.mean(g * X[:, 1]) + 0.1 * w2, rel=1e-3, abs=1e-5)


def test_version_increases_on_every_change_and_only_then():
    X, y = blobs(10, seed=18)
    surface = LossSurface(X, y, resolution=6)
    seen = [surface.version]

    def changed():
        assert surface.version > seen[-1]
        seen.append(surface.version)

    surface.move_point(0, (1.0, 2.0)); changed()  # noqa: E702
    surface.set_label(0, 0.5); changed()  # noqa: E702
    surface.add_point((0.0, 0.0), 1.0); changed()  # noqa: E702
    surface.remove_point(3); changed()  # noqa: E702
    surface.set_spec(LossSpec(pos_weight=2.0)); changed()  # noqa: E702
    surface.set_bias(0.5); changed()  # noqa: E702
    surface.set_l2(0.1); changed()  # noqa: E702
    surface.set_offsets(np.ones(10)); changed()  # noqa: E702
    surface.set_ranges((-1, 1), (-2, 2)); changed()  # noqa: E702
    surface.set_resolution(8); changed()  # noqa: E702
    surface.set_data(X, y); changed()  # noqa: E702
    before = surface.version
    surface.values  # noqa: B018
    surface.set_bias(0.5)
    surface.set_l2(0.1)
    surface.set_spec(LossSpec(pos_weight=2.0))
    surface.set_resolution(8)
    surface.set_label(0, float(y[0]))
    surface.move_point(1, X[1])
    assert surface.version == before


def test_full_recompute_peak_memory_is_small():
    X, y = blobs(1000, seed=19)
    for spec in (LossSpec(), LossSpec(focal_gamma=2.0, label_smoothing=0.1)):
        surface = LossSurface(X, y, spec)
        tracemalloc.start()
        try:
            surface.values  # noqa: B018
            current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 16e6, f"peak {peak / 1e6:.1f} MB for {spec}"


# ----------------------------------------------------------------------------
# Property: any small data set, any spec


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.floats(-20, 20), st.floats(-20, 20), st.floats(0, 1)),
        min_size=0, max_size=8,
    ),
    smoothing=st.sampled_from([0.0, 0.3]),
    pos_weight=st.sampled_from([0.0, 1.0, 4.0]),
    gamma=st.sampled_from([0.0, 0.5, 2.0]),
    alpha=st.sampled_from([None, 0.25]),
    bias=st.floats(-5, 5),
)
def test_property_matches_brute_force(data, smoothing, pos_weight, gamma, alpha, bias):
    spec = LossSpec(smoothing, pos_weight, gamma, alpha)
    X = np.array([d[:2] for d in data]).reshape(-1, 2)
    y = np.array([d[2] for d in data])
    surface = LossSurface(X, y, spec, resolution=5, bias=bias, l2=0.01)
    assert_matches(surface, X, y, spec, resolution=5, bias=bias, l2=0.01)


# ----------------------------------------------------------------------------
# Invalid arguments


def _surface():
    X, y = blobs(5, seed=20)
    return LossSurface(X, y, resolution=4)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(X=np.zeros((3, 3)), y=[0, 1, 0]), "X"),
        (dict(X=[[0, np.nan]], y=[1]), "X"),
        (dict(X=[[0, np.inf]], y=[1]), "X"),
        (dict(X=[[0, 1e13]], y=[1]), "X"),
        (dict(X=[["a", 1]], y=[1]), "X"),
        (dict(X=[[0, 1]], y=[1.5]), "y"),
        (dict(X=[[0, 1]], y=[-0.1]), "y"),
        (dict(X=[[0, 1], [1, 0]], y=[1]), "y"),
        (dict(X=[[0, 1]], y=[1], spec="bce"), "spec"),
        (dict(X=[[0, 1]], y=[1], w1_range=(1, 1)), "w1_range"),
        (dict(X=[[0, 1]], y=[1], w2_range=(0, np.inf)), "w2_range"),
        (dict(X=[[0, 1]], y=[1], w2_range=5), "w2_range"),
        (dict(X=[[0, 1]], y=[1], resolution=1), "resolution"),
        (dict(X=[[0, 1]], y=[1], resolution=64.0), "resolution"),
        (dict(X=[[0, 1]], y=[1], resolution=True), "resolution"),
        (dict(X=[[0, 1]], y=[1], resolution=10**6), "resolution"),
        (dict(X=[[0, 1]], y=[1], bias=np.nan), "bias"),
        (dict(X=[[0, 1]], y=[1], l2=-1.0), "l2"),
        (dict(X=[[0, 1]], y=[1], offsets=[1.0, 2.0]), "offsets"),
        (dict(X=[[0, 1]], y=[1], offsets=[np.nan]), "offsets"),
    ],
)
def test_invalid_constructor_arguments(kwargs, match):
    X, y = kwargs.pop("X"), kwargs.pop("y")
    with pytest.raises(ValueError, match=match):
        LossSurface(X, y, **kwargs)


def test_invalid_edit_arguments_leave_the_surface_unchanged():
    surface = _surface()
    before = surface.values.copy()
    version = surface.version
    bad_calls = [
        (lambda: surface.move_point(5, (0, 0)), "i"),
        (lambda: surface.move_point(-1, (0, 0)), "i"),
        (lambda: surface.move_point(1.0, (0, 0)), "i"),
        (lambda: surface.move_point(0, (0, 0, 0)), "x_new"),
        (lambda: surface.move_point(0, (0, np.nan)), "x_new"),
        (lambda: surface.move_point(0, (0, 0), offset=np.inf), "offset"),
        (lambda: surface.set_label(0, 2.0), "y_new"),
        (lambda: surface.set_label(7, 1.0), "i"),
        (lambda: surface.add_point((0, 0), -0.5), "y"),
        (lambda: surface.add_point((0, "x"), 1.0), "x"),
        (lambda: surface.remove_point(5), "i"),
        (lambda: surface.set_spec(None and 1 or "focal"), "spec"),
        (lambda: surface.set_bias("b"), "bias"),
        (lambda: surface.set_l2(np.nan), "l2"),
        (lambda: surface.set_data(np.zeros((2, 2)), [0.0]), "y"),
        (lambda: surface.set_offsets(np.zeros(4)), "offsets"),
        (lambda: surface.set_ranges((0, 1), (2, 1)), "w2_range"),
        (lambda: surface.set_resolution(0), "resolution"),
    ]
    for call, match in bad_calls:
        with pytest.raises(ValueError, match=match):
            call()
    assert surface.version == version
    np.testing.assert_array_equal(surface.values, before)
