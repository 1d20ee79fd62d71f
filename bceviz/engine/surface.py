"""Loss surfaces: the training objective over a (w1, w2) weight grid, kept current under edits.

``LossSurface(X, y, spec)`` holds, for every grid weight (w1, w2), the mean
loss over the samples plus the L2 term ``l2/2 (w1² + w2²)``; the logit of
sample i is ``w1 x_i1 + w2 x_i2 + bias + o_i`` (``o_i`` is an optional
per-sample offset: the logit of the model's other weights, held fixed). Rows
of ``values`` are w2, columns are w1, in nats.

How it stays fast (docs/architecture.md, "Loss surfaces"):

* **Decomposition.** Non-focal BCE with smoothing ε and weight pw is
  ``CE_i = pw ys_i softplus(-z_i) + (1 - ys_i) softplus(z_i)`` with
  ``ys_i = ε/2 + (1 - ε) y_i``. The surface keeps two float64 grids,
  ``P = Σ y_i softplus(-z_i)`` and ``Q = Σ (1 - y_i) softplus(z_i)``: every
  term is a loss-like quantity (small where the model is right), so
  ``Σ CE = (pw (1 - ε/2) + ε/2) P + (1 - ε/2 + pw ε/2) Q + ε/2 (Σ y_i z_i - pw Σ (1 - y_i) z_i)``
  (``losses.bce_sum_coefficients``) needs no cancellation when ε = 0, and the
  last sum is linear in w (kept as O(N) sums). A change of smoothing or
  pos_weight is O(G²); a new label changes P and Q by one sample's grid.
* **One loss.** The surface never writes the loss formula: the surprisals
  softplus(±z) come from ``losses.softplus_pair`` (or, on the fast paths
  below, from per-axis exponential factors), and the loss from them is
  ``losses.loss_from_surprisals``, the formula of ``loss_from_logits``.
* **Incremental point edits.** Moving, adding, removing or relabelling a
  point subtracts its old O(G²) contribution and adds the new one, in float64.
  The sums are compensated (Knuth's TwoSum, a second grid holding each
  addition's rounding error), so a term that comes and goes leaves nothing
  behind whatever its size: a point moved out to 1e12 and back gives the
  same surface as a fresh build (a running sum would keep about 1e-3 of the
  1e13-sized terms it saw, 1e-5 of a mean loss). An edit costs about 0.1 ms
  more for it at G = 128.
* **Full recomputes** (new data, bias, offsets, range, resolution, any focal
  setting) run over cache-sized blocks of samples with in-place ufuncs and no
  (G², N) temporaries. A logit is separable, ``z = u(w1) + v(w2)``, so
  ``exp(z) = exp(u) exp(v)``: the exponentials are taken per axis in float64
  and each grid element costs one multiply and one ``log1p``
  (softplus(z) = log1p(exp(z))), in float32 when every logit of the sample
  stays within ±85 on the grid (then all factors are normal float32 numbers
  and each element is exact to float32 rounding, ~1e-7 relative; sums of a
  few samples are added to float64 totals). Samples with logits up to ±700
  take the same path in float64; beyond, the direct float64
  ``softplus_pair``.
* **Drift guard.** A float32 sum carries a rounding error of about 1e-7 of its
  value when it was computed; removing most of that mass by incremental edits
  would leave the error large relative to what remains. Each float32-built sum
  therefore remembers half its value at build time; when an edit takes any
  grid cell below that (or after 10,000 incremental edits) the sum is rebuilt.
  With the exact edits, the surface after any sequence of edits equals a
  fresh build to about 2e-7 relative.

Focal loss has no decomposition: any focal setting change recomputes the
focal sum ``F = Σ α_t,i CE_i (1 - p_t,i)^γ`` (hard labels without smoothing
take a shorter float32 path: ``softplus(m) σ(m)^γ`` with ``m`` the signed
margin). Point edits stay incremental. P and Q, once built, are kept up to
date while focal is on, so switching focal off is then O(G²).

**The bias slice.** The surface is a slice of the objective at one bias b
(and at fixed other weights, via ``offsets``). ``set_bias`` is a full
recompute (about 15 ms at G = 128, N = 1,000 on a two-core machine; see
``python -m bceviz.bench engine``), so a view following training re-slices
when b has drifted by more than a tolerance, preferably in a worker thread.
A ``LossSurface`` has no shared mutable state and may be built in a worker
thread, then used (only) by the thread that owns it.

Work is lazy: a setter records what changed and ``values`` (or ``gradient``)
recomputes what is needed, so several setters in a row cost one recompute.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Optional

import numpy as np

from bceviz.engine.losses import (
    LossSpec,
    bce_sum_coefficients,
    loss_from_surprisals,
    smooth_labels,
    softplus_pair,
    validate_labels,
)

__all__ = ["LossSurface"]

#: Largest |coordinate|, |weight|, |bias|, |offset| accepted: keeps logits, and
#: sums of N of them, finite in float64.
MAX_MAGNITUDE = 1e12
#: Largest L2 strength accepted (the L2 term stays finite for any accepted weight).
MAX_L2 = 1e12
#: Grid points per axis accepted by ``resolution``.
MIN_RESOLUTION, MAX_RESOLUTION = 2, 2048

# Separable paths, one per precision: (dtype, factor limit, logit limit,
# elements per block over all work buffers). Each per-axis exponential factor
# stays within exp(±factor limit) and every logit within ±logit limit, inside
# the dtype's normal range (float32: exp(±87.3), float64: exp(±708)), so
# products neither overflow nor become subnormal (subnormals make log1p
# several times slower). float32 blocks are about 1 MiB, float64 ones 1 MiB:
# they stay in a 2 MiB L2 cache.
_SEPARABLE_TIERS = (
    (np.float32, 80.0, 85.0, 1 << 18),
    (np.float64, 690.0, 700.0, 1 << 17),
)
# Elements per float64 buffer of the direct path (five buffers of 256 KiB).
_CHUNK_DIRECT = 1 << 15

# Drift guard: rebuild a float32-built sum when a cell falls below this
# fraction of its build-time value (minus a floor, per sample, below which the
# absolute error is negligible), or after this many incremental edits.
_GUARD_FRACTION = 0.5
_GUARD_FLOOR_PER_SAMPLE = 1e-6
_MAX_INCREMENTAL_EDITS = 10_000


# ----------------------------------------------------------------------------
# Validation


def _finite_float(name: str, value, limit: float = MAX_MAGNITUDE) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not (math.isfinite(out) and abs(out) <= limit):
        raise ValueError(
            f"{name} must be a finite number with |{name}| <= {limit:g}, got {value!r}"
        )
    return out


def _finite_array(name: str, value, shape_text: str) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric {shape_text}, got {value!r}") from None
    if arr.size and not (np.all(np.isfinite(arr)) and np.max(np.abs(arr)) <= MAX_MAGNITUDE):
        raise ValueError(
            f"{name} must hold finite numbers with magnitude <= {MAX_MAGNITUDE:g}"
        )
    return arr


def _validate_points(X) -> np.ndarray:
    arr = _finite_array("X", X, "of shape (N, 2)")
    if arr.size == 0:
        return np.zeros((0, 2))
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2), got {arr.shape}")
    return arr


def _validate_point(name: str, x) -> tuple[float, float]:
    arr = _finite_array(name, x, "of length 2")
    if arr.shape not in ((2,), (1, 2)):
        raise ValueError(f"{name} must be a point (x1, x2), got shape {arr.shape}")
    x1, x2 = arr.ravel()
    return float(x1), float(x2)


def _validate_label(name: str, value) -> float:
    label = _finite_float(name, value)
    if not 0.0 <= label <= 1.0:
        raise ValueError(f"label {name} must be in [0, 1], got {value!r}")
    return label


def _validate_labels_for(y, n: int) -> np.ndarray:
    labels = np.array(validate_labels(y, "y"), dtype=np.float64)
    if labels.size == 0 and n == 0:
        return np.zeros(0)
    if labels.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {labels.shape}")
    return labels


def _validate_offsets(offsets, n: int) -> Optional[np.ndarray]:
    if offsets is None:
        return None
    arr = _finite_array("offsets", offsets, f"of shape ({n},)")
    if arr.size == 0 and n == 0:
        return np.zeros(0)
    if arr.shape != (n,):
        raise ValueError(f"offsets must be None or have shape ({n},), got {arr.shape}")
    return arr


def _validate_range(name: str, value) -> tuple[float, float]:
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high), got {value!r}") from None
    lo = _finite_float(f"{name}[0]", lo)
    hi = _finite_float(f"{name}[1]", hi)
    if not lo < hi:
        raise ValueError(f"{name} must have low < high, got {value!r}")
    return lo, hi


def _validate_resolution(value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"resolution must be an integer, got {value!r}")
    res = int(value)
    if not MIN_RESOLUTION <= res <= MAX_RESOLUTION:
        raise ValueError(
            f"resolution must be in [{MIN_RESOLUTION}, {MAX_RESOLUTION}], got {value!r}"
        )
    return res


def _validate_spec(spec) -> LossSpec:
    if spec is None:
        return LossSpec()
    if not isinstance(spec, LossSpec):
        raise ValueError(f"spec must be a LossSpec, got {type(spec).__name__}")
    return spec


# ----------------------------------------------------------------------------
# Element kernels. Arrays are (samples, rows, columns); per-sample
# coefficients are (samples, 1, 1). Every kernel writes in place. The loss is
# always bceviz.engine.losses' own (softplus_pair for the surprisals of a
# logit, loss_from_surprisals for the loss from them): the kernels only choose
# how the surprisals are evaluated over the grid.


def _without_alpha(spec: LossSpec) -> LossSpec:
    """The spec with focal_alpha off: the sums carry alpha_t in their per-sample weights."""
    return spec if spec.focal_alpha is None else dataclasses.replace(spec, focal_alpha=None)


def _margin_spec(spec: LossSpec) -> LossSpec:
    """The loss of a signed margin m (hard labels): softplus(m) sigma(m)^gamma, weights aside."""
    return LossSpec(focal_gamma=spec.focal_gamma)


def _outer(rows: np.ndarray, cols: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out[k, r, c] = rows[k, r] * cols[k, c] (einsum beats a broadcast multiply here)."""
    return np.einsum("kr,kc->krc", rows, cols, out=out)


def _focal_block(bufs, ev, eu, env, enu, ys, spec: LossSpec):
    """Focal loss (alpha_t left to the weights) of a block from the factors of exp(±z).

    bufs: four work arrays of the block's shape; ev, eu (env, enu): factors
    of exp(z) (exp(-z)); ys: smoothed labels per sample; spec: without alpha.
    """
    sp_pos, sp_neg, q, p = bufs
    _outer(ev, eu, sp_pos)  # exp(z)
    if spec.focal_gamma != 0.0:
        np.add(sp_pos, 1.0, out=q)
        np.reciprocal(q, out=q)  # 1 - sigma(z)
        np.multiply(sp_pos, q, out=p)  # sigma(z)
    np.log1p(sp_pos, out=sp_pos)  # softplus(z)
    _outer(env, enu, sp_neg)  # exp(-z)
    np.log1p(sp_neg, out=sp_neg)  # softplus(-z)
    return loss_from_surprisals(sp_neg, sp_pos, ys, spec, p=p, one_minus_p=q, in_place=True)


class _ExactSum:
    """A float64 grid sum kept exact under incremental edits (Knuth's TwoSum).

    ``value()`` = total + comp is the sum of everything added to within about
    one rounding of the result, however large the terms that came and went: a
    point moved out to 1e12 and back leaves nothing behind (a running sum
    would keep ~1e-3 of the 1e13-sized terms it saw). Each ``add`` costs six
    grid-sized ufuncs and no allocation (``scratch``: three spare grids shared
    by a surface's sums; the sum swaps its old total into them).
    """

    __slots__ = ("total", "comp")

    def __init__(self, total: np.ndarray) -> None:
        self.total = total
        self.comp = np.zeros_like(total)

    def add(self, x: np.ndarray, scratch: list) -> None:
        a = self.total
        s, kept, err = scratch
        np.add(a, x, out=s)
        np.subtract(s, a, out=kept)  # the part of x that went in
        np.subtract(s, kept, out=err)
        np.subtract(a, err, out=err)  # the rounding error seen from a
        np.subtract(x, kept, out=kept)  # ... and from x
        self.comp += err
        self.comp += kept
        self.total = s
        scratch[0] = a

    def value(self) -> np.ndarray:
        return self.total + self.comp


def _block_shape(n_samples: int, rows: int, cols: int, chunk: int) -> tuple[int, int]:
    """(samples per block, grid rows per block) so a block holds about `chunk` elements."""
    per_sample = rows * cols
    if per_sample <= chunk:
        return max(1, min(n_samples, chunk // per_sample)), rows
    return 1, max(1, chunk // cols)


# ----------------------------------------------------------------------------


class LossSurface:
    """Mean loss (plus L2) of a two-weight linear logit over a (w1, w2) grid.

    X: (N, 2) points; y: (N,) labels in [0, 1] (soft labels allowed).
    spec: the loss (``LossSpec``). w1_range, w2_range: (low, high) of the
    grid axes; resolution: grid points per axis (G). bias: the logit's
    constant. l2: strength λ >= 0 of ``λ/2 (w1² + w2²)``. offsets: None or
    (N,) extra logit per sample (the other weights' contribution, fixed).

    ``values`` is a read-only (G, G) float64 array in nats, rows = w2,
    columns = w1; ``version`` increases with every change.
    """

    def __init__(
        self,
        X,
        y,
        spec: Optional[LossSpec] = None,
        *,
        w1_range=(-6.0, 6.0),
        w2_range=(-6.0, 6.0),
        bias: float = 0.0,
        resolution: int = 128,
        l2: float = 0.0,
        offsets=None,
    ) -> None:
        points = _validate_points(X)
        labels = _validate_labels_for(y, points.shape[0])
        self._offsets = _validate_offsets(offsets, points.shape[0])
        self._x1 = points[:, 0].copy()
        self._x2 = points[:, 1].copy()
        self._labels = labels
        self._spec = _validate_spec(spec)
        self._w1_range = _validate_range("w1_range", w1_range)
        self._w2_range = _validate_range("w2_range", w2_range)
        self._resolution = _validate_resolution(resolution)
        self._bias = _finite_float("bias", bias)
        self._l2 = self._check_l2(l2)
        self._version = 0
        self._values: Optional[np.ndarray] = None
        self._gradient: Optional[tuple[np.ndarray, np.ndarray]] = None
        self._scratch: Optional[list] = None
        self._make_axes()
        self._invalidate_sums()

    # ------------------------------------------------------------ read access
    @property
    def values(self) -> np.ndarray:
        """(G, G) mean loss + L2 term in nats, rows = w2, columns = w1 (read-only)."""
        if self._values is None:
            self._values = self._compute_values()
        return self._values

    def gradient(self) -> tuple[np.ndarray, np.ndarray]:
        """(dV/dw1, dV/dw2) of ``values`` on the grid, each (G, G) and read-only.

        Finite differences of the grid (second order inside, first order at the
        edges, ``np.gradient``): accurate to O(grid step²), which is what a
        field of arrows over the same grid can show.
        """
        if self._gradient is None:
            d_dw2, d_dw1 = np.gradient(self.values, self._w2, self._w1)
            d_dw1.flags.writeable = False
            d_dw2.flags.writeable = False
            self._gradient = (d_dw1, d_dw2)
        return self._gradient

    @property
    def w1(self) -> np.ndarray:
        """Grid axis of w1: ``np.linspace(*w1_range, resolution)`` (read-only)."""
        return self._w1

    @property
    def w2(self) -> np.ndarray:
        """Grid axis of w2: ``np.linspace(*w2_range, resolution)`` (read-only)."""
        return self._w2

    @property
    def n_points(self) -> int:
        return int(self._labels.shape[0])

    @property
    def version(self) -> int:
        """Increases by at least one with every change of the surface."""
        return self._version

    @property
    def spec(self) -> LossSpec:
        return self._spec

    @property
    def bias(self) -> float:
        return self._bias

    @property
    def l2(self) -> float:
        return self._l2

    @property
    def w1_range(self) -> tuple[float, float]:
        return self._w1_range

    @property
    def w2_range(self) -> tuple[float, float]:
        return self._w2_range

    @property
    def resolution(self) -> int:
        return self._resolution

    @property
    def X(self) -> np.ndarray:  # noqa: N802 (the points, as in the maths)
        """(N, 2) copy of the points."""
        return np.column_stack([self._x1, self._x2]).reshape(-1, 2)

    @property
    def y(self) -> np.ndarray:
        """(N,) copy of the labels."""
        return self._labels.copy()

    @property
    def offsets(self) -> Optional[np.ndarray]:
        """(N,) copy of the per-sample logit offsets, or None when there are none."""
        return None if self._offsets is None else self._offsets.copy()

    def __repr__(self) -> str:
        return (
            f"LossSurface(n_points={self.n_points}, spec={self._spec!r}, "
            f"w1_range={self._w1_range}, w2_range={self._w2_range}, bias={self._bias}, "
            f"resolution={self._resolution}, l2={self._l2}, "
            f"offsets={'None' if self._offsets is None else 'set'})"
        )

    # ------------------------------------------------------------ point edits
    def move_point(self, i, x_new, *, offset=None) -> None:
        """Move point i to x_new = (x1, x2); offset: its new logit offset (None keeps it)."""
        i = self._check_index(i)
        x1, x2 = _validate_point("x_new", x_new)
        old_offset = self._offset_at(i)
        new_offset = old_offset if offset is None else _finite_float("offset", offset)
        if offset is not None and self._offsets is None and new_offset != 0.0:
            self._offsets = np.zeros(self.n_points)
        label = float(self._labels[i])
        old = (float(self._x1[i]), float(self._x2[i]), old_offset)
        if old == (x1, x2, new_offset):
            return
        self._apply_point(*old, label, -1.0)
        self._x1[i], self._x2[i] = x1, x2
        if self._offsets is not None:
            self._offsets[i] = new_offset
        self._apply_point(x1, x2, new_offset, label, +1.0)
        self._after_edit()

    def set_label(self, i, y_new) -> None:
        """Give point i the label y_new in [0, 1]."""
        i = self._check_index(i)
        label = _validate_label("y_new", y_new)
        old_label = float(self._labels[i])
        if label == old_label:
            return
        self._apply_relabel(float(self._x1[i]), float(self._x2[i]), self._offset_at(i),
                            old_label, label)
        self._labels[i] = label
        self._after_edit()

    def add_point(self, x, y, *, offset: float = 0.0) -> None:
        """Append a point x = (x1, x2) with label y in [0, 1] (and logit offset)."""
        x1, x2 = _validate_point("x", x)
        label = _validate_label("y", y)
        offset = _finite_float("offset", offset)
        if self._offsets is None and offset != 0.0:
            self._offsets = np.zeros(self.n_points)
        self._x1 = np.append(self._x1, x1)
        self._x2 = np.append(self._x2, x2)
        self._labels = np.append(self._labels, label)
        if self._offsets is not None:
            self._offsets = np.append(self._offsets, offset)
        if self.n_points == 1:
            self._reset_to_empty_sums()
        self._apply_point(x1, x2, offset, label, +1.0)
        self._after_edit()

    def remove_point(self, i) -> None:
        """Remove point i."""
        i = self._check_index(i)
        x1, x2, offset = float(self._x1[i]), float(self._x2[i]), self._offset_at(i)
        label = float(self._labels[i])
        self._x1 = np.delete(self._x1, i)
        self._x2 = np.delete(self._x2, i)
        self._labels = np.delete(self._labels, i)
        if self._offsets is not None:
            self._offsets = np.delete(self._offsets, i)
        if self.n_points == 0:
            self._reset_to_empty_sums()  # exact zeros, no residue of the removed sums
        else:
            self._apply_point(x1, x2, offset, label, -1.0)
        self._after_edit()

    # ------------------------------------------------------------ settings
    def set_spec(self, spec: LossSpec) -> None:
        """Change the loss. O(G²) between non-focal specs; a focal one recomputes F."""
        spec = _validate_spec(spec)
        if spec == self._spec:
            return
        self._spec = spec
        if not spec.is_focal or spec != self._focal_spec:
            self._drop_focal()
        self._changed()

    def set_bias(self, b) -> None:
        """Move the slice to bias b (a full recompute)."""
        b = _finite_float("bias", b)
        if b == self._bias:
            return
        self._bias = b
        self._invalidate_sums()

    def set_l2(self, l2) -> None:
        """Change the L2 strength (O(G²))."""
        l2 = self._check_l2(l2)
        if l2 == self._l2:
            return
        self._l2 = l2
        self._changed()

    def set_data(self, X, y, offsets=None) -> None:
        """Replace every point (N may be 0); offsets: None or (N,) (full recompute)."""
        points = _validate_points(X)
        labels = _validate_labels_for(y, points.shape[0])
        offs = _validate_offsets(offsets, points.shape[0])
        self._x1, self._x2 = points[:, 0].copy(), points[:, 1].copy()
        self._labels = labels
        self._offsets = offs
        self._invalidate_sums()

    def set_offsets(self, offsets) -> None:
        """Set the per-sample logit offsets, (N,), or None for none (full recompute)."""
        offs = _validate_offsets(offsets, self.n_points)
        if offs is None and self._offsets is None:
            return
        self._offsets = offs
        self._invalidate_sums()

    def set_ranges(self, w1_range, w2_range) -> None:
        """Change the grid's (low, high) along w1 and w2 (full recompute)."""
        r1 = _validate_range("w1_range", w1_range)
        r2 = _validate_range("w2_range", w2_range)
        if (r1, r2) == (self._w1_range, self._w2_range):
            return
        self._w1_range, self._w2_range = r1, r2
        self._make_axes()
        self._invalidate_sums()

    def set_resolution(self, G) -> None:
        """Change the grid points per axis (full recompute)."""
        res = _validate_resolution(G)
        if res == self._resolution:
            return
        self._resolution = res
        self._make_axes()
        self._invalidate_sums()

    # ------------------------------------------------------------ internals: state
    @staticmethod
    def _check_l2(l2) -> float:
        value = _finite_float("l2", l2, MAX_L2)
        if value < 0.0:
            raise ValueError(f"l2 must be >= 0, got {l2!r}")
        return value

    def _check_index(self, i) -> int:
        n = self.n_points
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise ValueError(f"point index i must be an integer, got {i!r}")
        if not 0 <= int(i) < n:
            raise ValueError(f"point index i must be in [0, {n}), got {i!r}")
        return int(i)

    def _offset_at(self, i: int) -> float:
        return 0.0 if self._offsets is None else float(self._offsets[i])

    def _make_axes(self) -> None:
        G = self._resolution
        self._w1 = np.linspace(*self._w1_range, G)
        self._w2 = np.linspace(*self._w2_range, G)
        self._w1.flags.writeable = False
        self._w2.flags.writeable = False

    def _changed(self) -> None:
        self._version += 1
        self._values = None
        self._gradient = None

    def _invalidate_sums(self) -> None:
        """Forget every sum: the next read recomputes what the spec needs."""
        self._pos: Optional[_ExactSum] = None  # P = Σ y_i softplus(-z_i)
        self._neg: Optional[_ExactSum] = None  # Q = Σ (1 - y_i) softplus(z_i)
        self._pq_guard: Optional[tuple[np.ndarray, np.ndarray]] = None
        self._pq_edits = 0
        self._drop_focal()
        self._changed()

    def _drop_focal(self) -> None:
        self._focal: Optional[_ExactSum] = None  # F = Σ focal loss_i
        self._focal_spec: Optional[LossSpec] = None
        self._focal_guard: Optional[np.ndarray] = None
        self._focal_edits = 0

    def _reset_to_empty_sums(self) -> None:
        """Sums of zero samples: exact zeros (valid for any spec)."""
        G = self._resolution
        self._pos = _ExactSum(np.zeros((G, G)))
        self._neg = _ExactSum(np.zeros((G, G)))
        self._pq_guard, self._pq_edits = None, 0
        if self._spec.is_focal:
            self._focal = _ExactSum(np.zeros((G, G)))
            self._focal_spec = self._spec
            self._focal_guard, self._focal_edits = None, 0
        else:
            self._drop_focal()

    def _after_edit(self) -> None:
        """Count the edit and rebuild (lazily) any sum whose float32 error could now show."""
        if self._pos is not None and self._neg is not None:
            self._pq_edits += 1
            guard = self._pq_guard
            if self._pq_edits > _MAX_INCREMENTAL_EDITS or (
                guard is not None
                and (np.any(self._pos.total < guard[0]) or np.any(self._neg.total < guard[1]))
            ):
                self._pos = self._neg = None
                self._pq_guard = None
        if self._focal is not None:
            self._focal_edits += 1
            if self._focal_edits > _MAX_INCREMENTAL_EDITS or (
                self._focal_guard is not None and np.any(self._focal.total < self._focal_guard)
            ):
                self._drop_focal()
        self._changed()

    def _guard_for(self, grid: np.ndarray) -> np.ndarray:
        return _GUARD_FRACTION * grid - _GUARD_FLOOR_PER_SAMPLE * max(self.n_points, 1)

    # ------------------------------------------------------------ internals: values
    def _compute_values(self) -> np.ndarray:
        n = self.n_points
        spec = self._spec
        G = self._resolution
        if n == 0:
            total = np.zeros((G, G))
        elif spec.is_focal:
            total = self._ensure_focal_sum().value()
        else:
            total = self._combine_pq(spec)
        np.maximum(total, 0.0, out=total)  # a loss is >= 0; only rounding could say otherwise
        if n:
            total /= n
        if self._l2 != 0.0:
            half = 0.5 * self._l2
            total += half * self._w2[:, None] ** 2
            total += half * self._w1[None, :] ** 2
        total.flags.writeable = False
        return total

    def _combine_pq(self, spec: LossSpec) -> np.ndarray:
        """Σ CE over samples on the grid from P, Q and linear sums (module docstring)."""
        pos, neg = self._ensure_pq_sums()
        c_pos, c_neg, c_lin = bce_sum_coefficients(spec)
        total = pos.value()
        total *= c_pos
        total += c_neg * neg.value()
        if c_lin != 0.0:
            # c_lin Σ (y_i - pw (1 - y_i)) z_i, linear in (w1, w2).
            coef = self._labels - spec.pos_weight * (1.0 - self._labels)
            k1 = c_lin * float(coef @ self._x1)
            k2 = c_lin * float(coef @ self._x2)
            const = float(coef.sum()) * self._bias
            if self._offsets is not None:
                const += float(coef @ self._offsets)
            total += (k2 * self._w2 + c_lin * const)[:, None]
            total += (k1 * self._w1)[None, :]
        return total

    # ------------------------------------------------------------ internals: full recomputes
    def _ensure_pq_sums(self) -> tuple[_ExactSum, _ExactSum]:
        if self._pos is None or self._neg is None:
            labels = self._labels
            constant = self._logit_constants()
            pos = labels > 0.0
            neg = labels < 1.0
            # P: margins m = -z of samples with y > 0, weight y; Q: m = z, weight 1 - y.
            pos_grid = self._sum_over_grid(
                "softplus", -self._x1[pos], -self._x2[pos], -constant[pos], labels[pos]
            )
            neg_grid = self._sum_over_grid(
                "softplus", self._x1[neg], self._x2[neg], constant[neg], 1.0 - labels[neg]
            )
            self._pos, self._neg = _ExactSum(pos_grid), _ExactSum(neg_grid)
            self._pq_guard = (self._guard_for(pos_grid), self._guard_for(neg_grid))
            self._pq_edits = 0
        return self._pos, self._neg

    def _ensure_focal_sum(self) -> _ExactSum:
        if self._focal is not None:
            return self._focal
        spec = self._spec
        labels = self._labels
        constant = self._logit_constants()
        alpha_t = self._alpha_t(smooth_labels(labels, spec.label_smoothing))
        hard = bool(np.all((labels == 0.0) | (labels == 1.0)))
        if hard and spec.label_smoothing == 0.0:
            # Signed margin m = -z for y = 1, z for y = 0: loss = w softplus(m) sigma(m)^gamma.
            sign = 1.0 - 2.0 * labels
            weights = alpha_t * np.where(labels == 1.0, spec.pos_weight, 1.0)
            keep = weights > 0.0
            grid = self._sum_over_grid(
                "focal_margin", (sign * self._x1)[keep], (sign * self._x2)[keep],
                (sign * constant)[keep], weights[keep],
            )
        else:
            keep = alpha_t > 0.0
            grid = self._sum_over_grid(
                "focal", self._x1[keep], self._x2[keep], constant[keep], alpha_t[keep],
                labels=labels[keep],
            )
        self._focal = _ExactSum(grid)
        self._focal_spec = spec
        self._focal_guard = self._guard_for(grid)
        self._focal_edits = 0
        return self._focal

    def _logit_constants(self) -> np.ndarray:
        if self._offsets is None:
            return np.full(self.n_points, self._bias)
        return self._offsets + self._bias

    def _alpha_t(self, smoothed):
        alpha = self._spec.focal_alpha
        if alpha is None:
            return np.ones_like(np.asarray(smoothed, dtype=np.float64))
        return alpha * smoothed + (1.0 - alpha) * (1.0 - smoothed)

    def _sum_over_grid(self, kind, a, b, c, weights, labels=None) -> np.ndarray:
        """Σ_k weights_k · term(m_k) over the grid, m_k(w1, w2) = a_k w1 + b_k w2 + c_k.

        kind: "softplus" (term softplus(m)), "focal_margin" (softplus(m)
        sigma(m)^gamma, m a signed margin) or "focal" (the full focal loss with
        m = z and these labels). Each sample takes the cheapest path that is
        exact for it: separable float32, separable float64, or direct float64.
        """
        G = self._resolution
        total = np.zeros((G, G))
        if labels is None:
            labels = np.zeros_like(a)
        todo = np.ones(a.shape, dtype=bool)
        for dtype, factor_limit, logit_limit, chunk in _SEPARABLE_TIERS:
            if not np.any(todo):
                break
            fits, shift = self._separable_shift(a, b, c, factor_limit, logit_limit)
            take = todo & fits
            if np.any(take):
                self._accumulate_separable(
                    total, kind, dtype, chunk,
                    a[take], b[take], c[take], shift[take], weights[take], labels[take],
                )
                todo &= ~take
        if np.any(todo):
            self._accumulate_direct(total, kind, a[todo], b[todo], c[todo],
                                    weights[todo], labels[todo])
        return total

    def _separable_shift(self, a, b, c, factor_limit: float, logit_limit: float):
        """Which samples fit a separable path, and the shift s that centres their factors.

        u = a w1 - s and v = b w2 + c + s must stay within ±factor_limit and the
        logit u + v within ±logit_limit on the whole grid (u and v are linear,
        so the grid's corners bound them).
        """
        lim = factor_limit
        u_ends = np.stack([a * self._w1_range[0], a * self._w1_range[1]])
        v_ends = np.stack([b * self._w2_range[0], b * self._w2_range[1]]) + c
        u_lo, u_hi = u_ends.min(axis=0), u_ends.max(axis=0)
        v_lo, v_hi = v_ends.min(axis=0), v_ends.max(axis=0)
        lo = np.maximum(u_hi - lim, -lim - v_lo)
        hi = np.minimum(u_lo + lim, lim - v_hi)
        fits = (lo <= hi) & (u_hi + v_hi <= logit_limit) & (u_lo + v_lo >= -logit_limit)
        return fits, np.where(fits, 0.5 * (lo + hi), 0.0)

    def _accumulate_separable(self, total, kind, dtype, chunk, a, b, c, shift, weights,
                              labels) -> None:
        """Add these samples' sums to total (float64), computing in dtype.

        exp(±m) on the grid is the outer product of per-axis factors taken in
        float64; an element then costs a multiply and a log1p (plus the focal
        factor), and a block's weighted sum over samples is one matrix-vector
        product, added to the float64 total.
        """
        G = self._resolution
        spec = self._spec
        gamma = spec.focal_gamma
        n = a.size
        n_buffers = {"softplus": 1, "focal_margin": 3 if gamma == 3.0 else 2, "focal": 4}[kind]
        kb, rows = _block_shape(n, G, G, chunk // n_buffers)
        size = kb * rows * G
        buffers = [np.empty(size, dtype=dtype) for _ in range(n_buffers)]
        margin_spec = _margin_spec(spec)
        focal_spec = _without_alpha(spec)
        for s0 in range(0, n, kb):
            s1 = min(s0 + kb, n)
            k = s1 - s0
            u = a[s0:s1, None] * self._w1[None, :] - shift[s0:s1, None]
            v = b[s0:s1, None] * self._w2[None, :] + (c[s0:s1] + shift[s0:s1])[:, None]
            exp_u = np.exp(u).astype(dtype)
            exp_v = np.exp(v).astype(dtype)
            if kind != "softplus":
                exp_neg_u = np.exp(-u).astype(dtype)
                exp_neg_v = np.exp(-v).astype(dtype)
            w_block = weights[s0:s1].astype(dtype)
            if kind == "focal":
                ys = smooth_labels(labels[s0:s1], spec.label_smoothing)
                ys_c = ys.astype(dtype)[:, None, None]
            for r0 in range(0, G, rows):
                r1 = min(r0 + rows, G)
                count = k * (r1 - r0) * G
                bufs = [buf[:count].reshape(k, r1 - r0, G) for buf in buffers]
                if kind == "softplus":
                    term = bufs[0]
                    _outer(exp_v[:, r0:r1], exp_u, term)  # exp(m)
                    np.log1p(term, out=term)  # softplus(m)
                elif kind == "focal_margin":
                    term, factor = bufs[0], bufs[1]
                    _outer(exp_v[:, r0:r1], exp_u, term)  # exp(m)
                    np.log1p(term, out=term)  # softplus(m), the surprisal of the true class
                    if gamma != 0.0:
                        _outer(exp_neg_v[:, r0:r1], exp_neg_u, factor)  # exp(-m)
                        factor += 1.0
                        np.reciprocal(factor, out=factor)  # sigma(m) = 1 - p_t
                    term = loss_from_surprisals(
                        term, None, 1.0, margin_spec, p=bufs[2] if n_buffers == 3 else None,
                        one_minus_p=factor, in_place=True,
                    )
                else:
                    term = _focal_block(
                        bufs, exp_v[:, r0:r1], exp_u, exp_neg_v[:, r0:r1], exp_neg_u,
                        ys_c, focal_spec,
                    )
                block = w_block @ term.reshape(k, -1)
                total[r0:r1] += block.reshape(r1 - r0, G)

    def _accumulate_direct(self, total, kind, a, b, c, weights, labels) -> None:
        """Add these samples' sums to total in float64 from the logits themselves.

        For logits beyond ±700 on the grid, where exp(m) does not exist in float64.
        """
        G = self._resolution
        spec = self._spec
        gamma = spec.focal_gamma
        margin_spec = _margin_spec(spec)
        focal_spec = _without_alpha(spec)
        n = a.size
        kb, rows = _block_shape(n, G, G, _CHUNK_DIRECT)
        size = kb * rows * G
        buffers = [np.empty(size) for _ in range(5)]
        for s0 in range(0, n, kb):
            s1 = min(s0 + kb, n)
            k = s1 - s0
            u = a[s0:s1, None] * self._w1[None, :]
            v = b[s0:s1, None] * self._w2[None, :] + c[s0:s1, None]
            w = weights[s0:s1]
            for r0 in range(0, G, rows):
                r1 = min(r0 + rows, G)
                count = k * (r1 - r0) * G
                m, t1, t2, t3, t4 = (buf[:count].reshape(k, r1 - r0, G) for buf in buffers)
                np.add(v[:, r0:r1, None], u[:, None, :], out=m)
                # t1 = softplus(m), t2 = softplus(-m); m is work space.
                softplus_pair(m, (t1, t2), work=m)
                if kind == "softplus":
                    term = t1
                elif kind == "focal_margin":
                    if gamma != 0.0:
                        np.negative(t2, out=t2)
                        np.exp(t2, out=t2)  # sigma(m) = 1 - p_t
                    term = loss_from_surprisals(t1, None, 1.0, margin_spec, p=t3,
                                                one_minus_p=t2, in_place=True)
                else:
                    ys = smooth_labels(labels[s0:s1], spec.label_smoothing)[:, None, None]
                    if gamma != 0.0:
                        np.negative(t2, out=t3)
                        np.exp(t3, out=t3)  # sigma(z)
                        np.negative(t1, out=t4)
                        np.exp(t4, out=t4)  # 1 - sigma(z)
                    term = loss_from_surprisals(t2, t1, ys, focal_spec, p=t3, one_minus_p=t4,
                                                in_place=True)
                total[r0:r1] += (w @ term.reshape(k, -1)).reshape(r1 - r0, G)

    # ------------------------------------------------------------ internals: one point
    def _point_surprisals(self, x1: float, x2: float, offset: float):
        """(softplus(z), softplus(-z)) of one sample over the grid, float64 (G, G)."""
        z = np.add.outer(x2 * self._w2 + (self._bias + offset), x1 * self._w1)
        return softplus_pair(z, (np.empty_like(z), np.empty_like(z)), work=z)

    def _point_focal(self, sp_pos, sp_neg, label: float) -> np.ndarray:
        """alpha_t · focal loss of one sample over the grid (consumes sp_pos, sp_neg)."""
        spec = self._spec
        ys = float(smooth_labels(label, spec.label_smoothing))
        p = one_minus_p = None
        if spec.focal_gamma != 0.0:
            p = np.exp(np.negative(sp_neg))
            one_minus_p = np.exp(np.negative(sp_pos))
        return loss_from_surprisals(sp_neg, sp_pos, ys, spec, p=p, one_minus_p=one_minus_p,
                                    in_place=True)

    def _apply_terms(self, sp_pos, sp_neg, label: float, sign: float, consume: bool) -> None:
        """Add (sign = +1) or subtract (-1) one sample's terms, from its surprisals, to every
        valid sum. Adding and later subtracting the same sample cancels exactly (the terms
        are the same numbers and the sums are exact), whatever its magnitude.
        """
        scratch = self._edit_scratch()
        if self._pos is not None and self._neg is not None:
            if label > 0.0:
                self._pos.add((sign * label) * sp_neg, scratch)
            if label < 1.0:
                self._neg.add((sign * (1.0 - label)) * sp_pos, scratch)
        if self._focal is not None:
            if not consume:
                sp_pos, sp_neg = sp_pos.copy(), sp_neg.copy()
            loss = self._point_focal(sp_pos, sp_neg, label)
            if sign < 0.0:
                np.negative(loss, out=loss)
            self._focal.add(loss, scratch)

    def _apply_point(self, x1, x2, offset, label, sign: float) -> None:
        """Add (sign = +1) or subtract (-1) one sample's terms to every valid sum."""
        if self._pos is None and self._focal is None:
            return
        sp_pos, sp_neg = self._point_surprisals(x1, x2, offset)
        self._apply_terms(sp_pos, sp_neg, label, sign, consume=True)

    def _apply_relabel(self, x1, x2, offset, old_label, new_label) -> None:
        """Change one sample's label in every valid sum: its old terms out, its new ones in."""
        if self._pos is None and self._focal is None:
            return
        sp_pos, sp_neg = self._point_surprisals(x1, x2, offset)
        self._apply_terms(sp_pos, sp_neg, old_label, -1.0, consume=False)
        self._apply_terms(sp_pos, sp_neg, new_label, +1.0, consume=True)

    def _edit_scratch(self) -> list:
        """Three spare (G, G) grids for the exact sums' additions (kept between edits)."""
        G = self._resolution
        if self._scratch is None or self._scratch[0].shape != (G, G):
            self._scratch = [np.empty((G, G)) for _ in range(3)]
        return self._scratch
