"""Multi-label logistic regression: K independent sigmoids, their Hessian, a shared tanh layer.

A point may carry several labels at once (a movie is a comedy *and* a
romance). Each label k gets its own sigmoid ``p_k = σ(x·w_k + b_k)`` and the
objective is the sum over labels of each label's mean loss,

    J(W, b) = Σ_k mean_i loss_from_logits(z_ik, Y_ik, spec_k)  +  l2/2 ‖W‖²,

biases unpenalised (losses in nats). Label k's loss depends on (w_k, b_k)
only, so the gradient of J splits label by label and the Hessian is block
diagonal: with the parameters ordered label by label,
``[w_1 (d), b_1, w_2 (d), b_2, …]``, its off-diagonal blocks are exactly zero
(not small: zero, in floating point too). Learning one label never moves
another one; column k of the joint optimum equals
``fit_logistic(X, Y[:, k], spec_k, l2=l2)``.

**The shared layer.** The lab's toggle adds ``m`` tanh units that every label
head reads besides the inputs:

    h_i = tanh(X_i A + c)            A (d, m), c (m,)
    z_ik = [x_i, h_i] · w_k + b_k    w_k (d + m,)

with objective ``Σ_k mean_i loss(z_ik) + l2/2 (‖W‖² + ‖A‖²)`` (b and c
unpenalised). Parameters are ordered head by head, then unit by unit:
``[w_1 (d + m), b_1, …, w_K, b_K, a_1, …, a_m]`` with ``a_j = [A[:, j], c_j]``
(d + 1 each). The blocks between two heads stay exactly zero (head k's loss
still does not involve head j's weights); the blocks between a head and a
shared unit, and between units, fill in: independence holds for the heads,
not for what they share. With ``m = 0`` the model is the plain multi-label
model above. :func:`shared_gradient` and :func:`shared_hessian` are exact
(backpropagation and its second-order terms, not finite differences).

**Per-label loss settings.** Wherever a ``spec`` is taken it may be one
:class:`~bceviz.engine.losses.LossSpec` for every label or a sequence of K
of them, one per label; ``pos_weight`` per label is PyTorch's
``BCEWithLogitsLoss(pos_weight=torch.tensor([...]))``.

Edge cases: ``Y`` may be soft (any value in [0, 1]); a label whose column is
all 0 or all 1 has no finite unpenalised optimum (its bias runs off, as in
``fit_logistic``: finite, not converged). ``n`` must be at least 1, ``K`` at
least 1. Every array is float64.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Union

import numpy as np

from bceviz.engine.logistic import fit_logistic
from bceviz.engine.losses import (
    LossSpec,
    curvature_from_logits,
    grad_from_logits,
    loss_from_logits,
    sigmoid,
    validate_labels,
)

__all__ = [
    "MULTILABEL_DATASETS",
    "OPTIMIZERS",
    "FlatOptimizer",
    "MultilabelTrainer",
    "SharedParams",
    "SpecLike",
    "block_max_abs",
    "fit_multilabel",
    "init_shared",
    "label_specs",
    "multilabel_dataset",
    "multilabel_directions",
    "multilabel_gradient",
    "multilabel_hessian",
    "multilabel_logits",
    "multilabel_loss_per_label",
    "multilabel_objective",
    "multilabel_probabilities",
    "shared_block_sizes",
    "shared_gradient",
    "shared_hessian",
    "shared_hidden",
    "shared_logits",
    "shared_loss_per_label",
    "shared_objective",
]

SpecLike = Union[LossSpec, Sequence[LossSpec], None]

#: Optimizers of :class:`MultilabelTrainer` (and the multiclass trainer).
OPTIMIZERS = ("gd", "adam")

#: Training stops ("diverged") when the objective exceeds this factor times its
#: value (at least 1 nat) at the last (re)start.
EXPLOSION_FACTOR = 1e6

_ADAM_BETA1 = 0.9
_ADAM_BETA2 = 0.999
_ADAM_EPS = 1e-8


# ----------------------------------------------------------------------------
# Validation


def _as_matrix(value, name: str, *, allow_empty_columns: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    if arr.shape[0] == 0 or (arr.shape[1] == 0 and not allow_empty_columns):
        raise ValueError(f"{name} must have at least one row and one column, got {arr.shape}")
    return arr


def _as_vector(value, name: str, size: int) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric vector of length {size}") from None
    if arr.shape != (size,):
        raise ValueError(f"{name} must have length {size}, got shape {np.shape(value)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return arr


def _check_data(X, Y) -> tuple[np.ndarray, np.ndarray]:
    Xa = _as_matrix(X, "X")
    Ya = _as_matrix(validate_labels(Y, "Y"), "Y")
    if Ya.shape[0] != Xa.shape[0]:
        raise ValueError(f"Y must have one row per row of X ({Xa.shape[0]}), got {Ya.shape[0]}")
    return Xa, Ya


def _check_l2(l2) -> float:
    if isinstance(l2, bool) or not isinstance(l2, numbers.Real) or not math.isfinite(l2):
        raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2!r}")
    return float(l2)


def label_specs(spec: SpecLike, n_labels: int) -> tuple[LossSpec, ...]:
    """One LossSpec per label: ``spec`` repeated, or a sequence of exactly ``n_labels`` specs."""
    if spec is None:
        return (LossSpec(),) * n_labels
    if isinstance(spec, LossSpec):
        return (spec,) * n_labels
    if isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence):
        raise ValueError(f"spec must be a LossSpec or a sequence of {n_labels} LossSpecs")
    specs = tuple(spec)
    if len(specs) != n_labels:
        raise ValueError(f"spec must hold one LossSpec per label ({n_labels}), got {len(specs)}")
    for k, s in enumerate(specs):
        if not isinstance(s, LossSpec):
            raise ValueError(f"spec[{k}] must be a LossSpec, got {type(s).__name__}")
    return specs


def _per_label(fn, Z: np.ndarray, Y: np.ndarray, specs: tuple[LossSpec, ...]) -> np.ndarray:
    """``fn(z, y, spec)`` column by column (one call when every label shares the spec)."""
    if all(s == specs[0] for s in specs):
        return fn(Z, Y, specs[0])
    out = np.empty_like(Z)
    for k, s in enumerate(specs):
        out[:, k] = fn(Z[:, k], Y[:, k], s)
    return out


def _check_heads(W, b, d: int) -> tuple[np.ndarray, np.ndarray]:
    Wa = _as_matrix(W, "W")
    if Wa.shape[0] != d:
        raise ValueError(f"W must have shape ({d}, K) to match X, got {Wa.shape}")
    return Wa, _as_vector(b, "b", Wa.shape[1])


# ----------------------------------------------------------------------------
# Independent sigmoids


def multilabel_logits(X, W, b) -> np.ndarray:
    """Logits ``Z = X W + b``, shape (n, K)."""
    Xa = _as_matrix(X, "X")
    Wa, ba = _check_heads(W, b, Xa.shape[1])
    return Xa @ Wa + ba


def multilabel_probabilities(X, W, b) -> np.ndarray:
    """Probabilities ``σ(X W + b)`` in [0, 1], shape (n, K); rows need not sum to 1."""
    return sigmoid(multilabel_logits(X, W, b))


def multilabel_loss_per_label(X, Y, W, b, *, spec: SpecLike = None) -> np.ndarray:
    """Each label's mean loss in nats, shape (K,) (no penalty)."""
    Xa, Ya = _check_data(X, Y)
    Wa, ba = _check_heads(W, b, Xa.shape[1])
    if Wa.shape[1] != Ya.shape[1]:
        raise ValueError(f"W has {Wa.shape[1]} labels but Y has {Ya.shape[1]}")
    specs = label_specs(spec, Ya.shape[1])
    return _per_label(loss_from_logits, Xa @ Wa + ba, Ya, specs).mean(axis=0)


def multilabel_objective(X, Y, W, b, *, l2: float = 0.0, spec: SpecLike = None) -> float:
    """Σ_k mean loss of label k + l2/2 ‖W‖² (nats)."""
    l2 = _check_l2(l2)
    Wa = np.asarray(W, dtype=np.float64)
    return float(multilabel_loss_per_label(X, Y, W, b, spec=spec).sum()
                 + 0.5 * l2 * float(np.sum(Wa * Wa)))


def multilabel_gradient(X, Y, W, b, *, l2: float = 0.0,
                        spec: SpecLike = None) -> tuple[np.ndarray, np.ndarray]:
    """(dJ/dW (d, K), dJ/db (K,)) of :func:`multilabel_objective`; column k: label k only."""
    Xa, Ya = _check_data(X, Y)
    Wa, ba = _check_heads(W, b, Xa.shape[1])
    if Wa.shape[1] != Ya.shape[1]:
        raise ValueError(f"W has {Wa.shape[1]} labels but Y has {Ya.shape[1]}")
    l2 = _check_l2(l2)
    G = _per_label(grad_from_logits, Xa @ Wa + ba, Ya, label_specs(spec, Ya.shape[1]))
    n = Xa.shape[0]
    return Xa.T @ G / n + l2 * Wa, G.sum(axis=0) / n


def fit_multilabel(X, Y, *, l2: float = 0.0,
                   spec: SpecLike = None) -> tuple[np.ndarray, np.ndarray]:
    """The optimum of the multi-label objective: ``(W (d, K), b (K,))``.

    Column k is ``fit_logistic(X, Y[:, k], spec_k, l2=l2)`` (Newton to
    convergence): the objective is a sum of independent terms, so the joint
    optimum is the labels' separate optima. With ``l2 = λ > 0`` and hard
    labels each column equals scikit-learn's ``LogisticRegression(C=1/(λ n))``
    (``MultiOutputClassifier`` of it). A label that is separable, or all one
    class, has no unpenalised optimum: its weights stay finite and large.
    """
    Xa, Ya = _check_data(X, Y)
    l2 = _check_l2(l2)
    specs = label_specs(spec, Ya.shape[1])
    d, K = Xa.shape[1], Ya.shape[1]
    W, b = np.zeros((d, K)), np.zeros(K)
    for k in range(K):
        fit = fit_logistic(Xa, Ya[:, k], specs[k], l2=l2)
        W[:, k], b[k] = fit.w, fit.b
    return W, b


def multilabel_hessian(X, Y, W, b, *, l2: float = 0.0, spec: SpecLike = None) -> np.ndarray:
    """Hessian of :func:`multilabel_objective`, shape (K(d+1), K(d+1)).

    Parameters ordered label by label, ``[w_1 (d), b_1, w_2 (d), b_2, …]``.
    Block (k, k) is ``mean_i ℓ''_k(z_ik) x̃_i x̃_iᵀ`` (x̃ = [x, 1]) plus l2 on
    the weights' diagonal; every off-diagonal block is exactly zero. For
    plain BCE ℓ'' = p(1 - p) does not depend on the labels; with focal loss
    it does and a block may be indefinite.
    """
    Xa, Ya = _check_data(X, Y)
    Wa, ba = _check_heads(W, b, Xa.shape[1])
    if Wa.shape[1] != Ya.shape[1]:
        raise ValueError(f"W has {Wa.shape[1]} labels but Y has {Ya.shape[1]}")
    l2 = _check_l2(l2)
    n, d = Xa.shape
    K = Ya.shape[1]
    S = _per_label(curvature_from_logits, Xa @ Wa + ba, Ya, label_specs(spec, K))
    Xt = np.hstack([Xa, np.ones((n, 1))])
    size = d + 1
    H = np.zeros((K * size, K * size))
    for k in range(K):
        block = (Xt.T * S[:, k]) @ Xt / n
        block = 0.5 * (block + block.T)  # symmetric to the last bit
        block[np.arange(d), np.arange(d)] += l2
        H[k * size:(k + 1) * size, k * size:(k + 1) * size] = block
    return H


def block_max_abs(H, sizes: Sequence[int]) -> np.ndarray:
    """max |H| over each block of a partition into consecutive groups of ``sizes``, (B, B)."""
    Ha = np.asarray(H, dtype=np.float64)
    edges = np.concatenate([[0], np.cumsum(np.asarray(sizes, dtype=np.intp))])
    if Ha.ndim != 2 or Ha.shape[0] != Ha.shape[1] or edges[-1] != Ha.shape[0]:
        raise ValueError(f"sizes must add up to the side of the square H {Ha.shape}")
    B = len(sizes)
    out = np.zeros((B, B))
    for r in range(B):
        for c in range(B):
            block = Ha[edges[r]:edges[r + 1], edges[c]:edges[c + 1]]
            out[r, c] = float(np.abs(block).max()) if block.size else 0.0
    return out


# ----------------------------------------------------------------------------
# A shared tanh layer under the heads


@dataclass(frozen=True, eq=False)
class SharedParams:
    """Parameters of the model with a shared tanh layer (``m = 0``: the plain heads).

    W (d + m, K): head k's weights on [x, h]; b (K,); A (d, m) and c (m,): the
    shared units' input weights and biases. Arrays are float64; treat them as
    read-only.
    """

    W: np.ndarray
    b: np.ndarray
    A: np.ndarray
    c: np.ndarray

    @property
    def n_inputs(self) -> int:
        return int(self.A.shape[0])

    @property
    def n_labels(self) -> int:
        return int(self.b.shape[0])

    @property
    def n_hidden(self) -> int:
        return int(self.c.shape[0])

    def block_sizes(self) -> list[int]:
        return shared_block_sizes(self.n_inputs, self.n_labels, self.n_hidden)

    def flat(self) -> np.ndarray:
        """θ in the Hessian's order: ``[w_1, b_1, …, w_K, b_K, a_1, …, a_m]``."""
        heads = np.vstack([self.W, self.b[None, :]])  # (d + m + 1, K)
        units = np.vstack([self.A, self.c[None, :]])  # (d + 1, m)
        return np.concatenate([heads.T.ravel(), units.T.ravel()])

    @classmethod
    def from_flat(cls, theta, d: int, n_labels: int, n_hidden: int) -> SharedParams:
        """The inverse of :meth:`flat` for d inputs, K labels and m units."""
        size = n_labels * (d + n_hidden + 1) + n_hidden * (d + 1)
        t = _as_vector(theta, "theta", size)
        split = n_labels * (d + n_hidden + 1)
        heads = t[:split].reshape(n_labels, d + n_hidden + 1).T
        units = t[split:].reshape(n_hidden, d + 1).T
        return cls(W=np.ascontiguousarray(heads[:-1]), b=heads[-1].copy(),
                   A=np.ascontiguousarray(units[:-1]), c=units[-1].copy())

    def to_dict(self) -> dict:
        return {"W": self.W.tolist(), "b": self.b.tolist(), "A": self.A.tolist(),
                "c": self.c.tolist()}


def shared_block_sizes(d: int, n_labels: int, n_hidden: int) -> list[int]:
    """Block sizes of the shared model's parameter vector: K heads of d+m+1, m units of d+1."""
    return [d + n_hidden + 1] * n_labels + [d + 1] * n_hidden


def _check_int(name: str, value, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def init_shared(d: int, n_labels: int, n_hidden: int, *, seed: int = 0,
                scale: float = 1.0) -> SharedParams:
    """Heads at zero and the units' input weights A ~ N(0, scale²) (seeded), c = 0.

    Random A is needed: with A = 0 and zero heads every unit outputs 0 and no
    gradient reaches A (a saddle). ``scale`` > 0 in units of 1/feature.
    """
    d = _check_int("d", d, 1)
    n_labels = _check_int("n_labels", n_labels, 1)
    n_hidden = _check_int("n_hidden", n_hidden, 0)
    seed = _check_int("seed", seed, 0)
    if not (isinstance(scale, numbers.Real) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    rng = np.random.default_rng(seed)
    return SharedParams(W=np.zeros((d + n_hidden, n_labels)), b=np.zeros(n_labels),
                        A=rng.normal(0.0, float(scale), size=(d, n_hidden)), c=np.zeros(n_hidden))


def _check_params(params, d: int) -> SharedParams:
    if not isinstance(params, SharedParams):
        raise ValueError(f"params must be SharedParams, got {type(params).__name__}")
    m, K = params.c.shape[0], params.b.shape[0]
    if params.A.shape != (d, m):
        raise ValueError(f"params.A must have shape ({d}, {m}), got {params.A.shape}")
    if params.W.shape != (d + m, K):
        raise ValueError(f"params.W must have shape ({d + m}, {K}), got {params.W.shape}")
    for name in ("W", "b", "A", "c"):
        if not np.all(np.isfinite(getattr(params, name))):
            raise ValueError(f"params.{name} must be finite (no NaN or inf)")
    return params


def shared_hidden(X, A, c) -> np.ndarray:
    """The shared units' outputs ``tanh(X A + c)`` in (-1, 1), shape (n, m)."""
    Xa = _as_matrix(X, "X")
    Aa = _as_matrix(A, "A", allow_empty_columns=True) if np.size(A) else np.zeros((Xa.shape[1], 0))
    return np.tanh(Xa @ Aa + _as_vector(c, "c", Aa.shape[1]))


def _forward(Xa: np.ndarray, p: SharedParams) -> tuple[np.ndarray, np.ndarray]:
    Hh = np.tanh(Xa @ p.A + p.c)
    F = np.hstack([Xa, Hh]) if p.n_hidden else Xa
    return F @ p.W + p.b, Hh


def shared_logits(X, params: SharedParams) -> np.ndarray:
    """Logits (n, K) of the shared model: ``[x, tanh(x A + c)] W + b``."""
    Xa = _as_matrix(X, "X")
    return _forward(Xa, _check_params(params, Xa.shape[1]))[0]


def shared_loss_per_label(X, Y, params: SharedParams, *, spec: SpecLike = None) -> np.ndarray:
    """Each label's mean loss (K,) in nats under the shared model (no penalty)."""
    Xa, Ya = _check_data(X, Y)
    p = _check_params(params, Xa.shape[1])
    if p.n_labels != Ya.shape[1]:
        raise ValueError(f"params have {p.n_labels} labels but Y has {Ya.shape[1]}")
    Z, _ = _forward(Xa, p)
    return _per_label(loss_from_logits, Z, Ya, label_specs(spec, Ya.shape[1])).mean(axis=0)


def _penalty(p: SharedParams, l2: float) -> float:
    return 0.5 * l2 * (float(np.sum(p.W * p.W)) + float(np.sum(p.A * p.A)))


def shared_objective(X, Y, params: SharedParams, *, l2: float = 0.0,
                     spec: SpecLike = None) -> float:
    """Σ_k mean loss of label k + l2/2 (‖W‖² + ‖A‖²), in nats."""
    l2 = _check_l2(l2)
    return float(shared_loss_per_label(X, Y, params, spec=spec).sum()) + _penalty(params, l2)


def shared_gradient(X, Y, params: SharedParams, *, l2: float = 0.0,
                    spec: SpecLike = None) -> SharedParams:
    """The exact gradient of :func:`shared_objective`, as SharedParams of the same shapes.

    Backpropagation: dJ/dw_k = mean_i ℓ'_ik [x_i, h_i] + l2 w_k, dJ/db_k =
    mean_i ℓ'_ik, and for unit j, with δ_ij = Σ_k ℓ'_ik W[d+j, k] (1 - h_ij²),
    dJ/dA[:, j] = mean_i δ_ij x_i + l2 A[:, j], dJ/dc_j = mean_i δ_ij.
    """
    Xa, Ya = _check_data(X, Y)
    p = _check_params(params, Xa.shape[1])
    if p.n_labels != Ya.shape[1]:
        raise ValueError(f"params have {p.n_labels} labels but Y has {Ya.shape[1]}")
    l2 = _check_l2(l2)
    return _gradient(Xa, Ya, p, label_specs(spec, Ya.shape[1]), l2)


def _gradient(Xa, Ya, p: SharedParams, specs, l2: float) -> SharedParams:
    return _evaluate(Xa, Ya, p, specs, l2)[1]


def _evaluate(Xa, Ya, p: SharedParams, specs, l2: float) -> tuple[np.ndarray, SharedParams]:
    """(each label's mean loss (K,), the gradient) from one forward pass."""
    n, d = Xa.shape
    Z, Hh = _forward(Xa, p)
    losses = _per_label(loss_from_logits, Z, Ya, specs).mean(axis=0)
    G = _per_label(grad_from_logits, Z, Ya, specs)
    F = np.hstack([Xa, Hh]) if p.n_hidden else Xa
    gW = F.T @ G / n + l2 * p.W
    gb = G.sum(axis=0) / n
    if p.n_hidden:
        delta = (G @ p.W[d:].T) * (1.0 - Hh * Hh)  # (n, m)
        gA = Xa.T @ delta / n + l2 * p.A
        gc = delta.sum(axis=0) / n
    else:
        gA, gc = np.zeros_like(p.A), np.zeros_like(p.c)
    return losses, SharedParams(W=gW, b=gb, A=gA, c=gc)


def shared_hessian(X, Y, params: SharedParams, *, l2: float = 0.0,
                   spec: SpecLike = None) -> np.ndarray:
    """The exact Hessian of :func:`shared_objective` in the order of :meth:`SharedParams.flat`.

    H = mean_i Σ_k [ℓ''_ik ∇z_ik ∇z_ikᵀ + ℓ'_ik ∇²z_ik] + l2 on the weights of
    W and A. ∇z_ik is [f_i, 1] on head k (f = [x, h]) and
    W[d+j, k] (1 - h_ij²) x̃_i on unit j (x̃ = [x, 1]); ∇²z_ik couples head k's
    weight on unit j with unit j, (1 - h_ij²) x̃_i, and unit j with itself,
    −2 W[d+j, k] h_ij (1 - h_ij²) x̃_i x̃_iᵀ. Two heads never meet: the
    head-head off-diagonal blocks are exactly zero. With m = 0 this equals
    :func:`multilabel_hessian`. The matrix is symmetric; with a shared layer
    it need not be positive definite (the objective is not convex).
    """
    Xa, Ya = _check_data(X, Y)
    p = _check_params(params, Xa.shape[1])
    if p.n_labels != Ya.shape[1]:
        raise ValueError(f"params have {p.n_labels} labels but Y has {Ya.shape[1]}")
    l2 = _check_l2(l2)
    specs = label_specs(spec, Ya.shape[1])
    n, d = Xa.shape
    K, m = p.n_labels, p.n_hidden
    Z, Hh = _forward(Xa, p)
    G = _per_label(grad_from_logits, Z, Ya, specs)
    S = _per_label(curvature_from_logits, Z, Ya, specs)
    hs = d + m + 1  # head block size
    us = d + 1  # unit block size
    P = K * hs + m * us
    Xt = np.hstack([Xa, np.ones((n, 1))])  # x̃ (n, d + 1)
    Ft = np.hstack([Xa, Hh, np.ones((n, 1))])  # [f, 1] (n, hs)
    T = 1.0 - Hh * Hh  # (n, m)
    # Jacobian of every logit: J[i, k, :] = ∇z_ik.
    J = np.zeros((n, K, P))
    for k in range(K):
        J[:, k, k * hs:(k + 1) * hs] = Ft
    for j in range(m):
        cols = slice(K * hs + j * us, K * hs + (j + 1) * us)
        # (n, K, us): W[d+j, k] (1 - h_ij²) x̃_i
        J[:, :, cols] = (T[:, j, None] * p.W[d + j][None, :])[:, :, None] * Xt[:, None, :]
    Jf = J.reshape(n * K, P)
    H = (Jf.T * S.reshape(-1)) @ Jf / n
    for j in range(m):
        unit = slice(K * hs + j * us, K * hs + (j + 1) * us)
        # head k's weight on unit j with unit j: mean_i ℓ'_ik (1 - h_ij²) x̃_i
        cross = (Xt.T @ (G * T[:, j, None])) / n  # (us, K)
        for k in range(K):
            r = k * hs + d + j
            H[r, unit] += cross[:, k]
            H[unit, r] += cross[:, k]
        # unit j with itself: mean_i (Σ_k ℓ'_ik W[d+j,k]) (−2 h_ij (1 - h_ij²)) x̃_i x̃_iᵀ
        weight = (G @ p.W[d + j]) * (-2.0 * Hh[:, j] * T[:, j])
        H[unit, unit] += (Xt.T * weight) @ Xt / n
    if l2:
        diag = np.zeros(P)
        for k in range(K):
            diag[k * hs:k * hs + d + m] = l2
        for j in range(m):
            diag[K * hs + j * us:K * hs + j * us + d] = l2
        H[np.arange(P), np.arange(P)] += diag
    # Exact zeros stay zero; symmetrise the rounding of the two halves.
    return 0.5 * (H + H.T)


# ----------------------------------------------------------------------------
# Live training


class FlatOptimizer:
    """Gradient descent or Adam on a flat parameter vector (state kept between steps).

    ``kind``: "gd" (θ ← θ − lr g) or "adam" (β1 0.9, β2 0.999, ε 1e-8, as
    PyTorch's Adam). ``lr`` > 0.
    """

    def __init__(self, kind: str = "gd", lr: float = 0.5) -> None:
        self.kind = _check_optimizer(kind)
        self.lr = _check_lr(lr)
        self.reset()

    def reset(self) -> None:
        self._m: np.ndarray | None = None
        self._v: np.ndarray | None = None
        self._t = 0

    def propose(self, theta: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, tuple]:
        """The next θ and the optimizer state that goes with it (commit with :meth:`commit`)."""
        if self.kind == "gd":
            return theta - self.lr * grad, ()
        m = np.zeros_like(theta) if self._m is None else self._m
        v = np.zeros_like(theta) if self._v is None else self._v
        t = self._t + 1
        m = _ADAM_BETA1 * m + (1.0 - _ADAM_BETA1) * grad
        v = _ADAM_BETA2 * v + (1.0 - _ADAM_BETA2) * grad * grad
        step = (self.lr / (1.0 - _ADAM_BETA1**t)) * m / (
            np.sqrt(v / (1.0 - _ADAM_BETA2**t)) + _ADAM_EPS)
        return theta - step, (m, v, t)

    def commit(self, state: tuple) -> None:
        if state:
            self._m, self._v, self._t = state


def _check_optimizer(name) -> str:
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")
    return str(name)


def _check_lr(lr) -> float:
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr (learning rate) must be a finite number > 0, got {lr!r}")
    return float(lr)


class MultilabelTrainer:
    """Trains the multi-label model (optionally with a shared layer) one step at a time.

    X (n, d), Y (n, K) labels in [0, 1]; ``spec`` one LossSpec or one per
    label; ``hidden_units`` m = 0 for independent sigmoids, 1 or more for the
    shared tanh layer (its input weights drawn from ``seed``). Every step is
    one full-batch step of ``optimizer`` ("gd" or "adam") on the objective of
    :func:`shared_objective`. When the objective turns non-finite or explodes
    the last finite parameters are kept, ``diverged`` is True and ``status``
    says why; :meth:`reset`, a new ``lr`` or optimizer clear it.
    """

    def __init__(self, X, Y, spec: SpecLike = None, *, l2: float = 0.0, hidden_units: int = 0,
                 optimizer: str = "gd", lr: float = 0.5, seed: int = 0) -> None:
        self._X, self._Y = _check_data(X, Y)
        self._specs = label_specs(spec, self._Y.shape[1])
        self._l2 = _check_l2(l2)
        self._m = _check_int("hidden_units", hidden_units, 0)
        self._seed = _check_int("seed", seed, 0)
        self._opt = FlatOptimizer(optimizer, lr)
        self.reset()

    # -- state -------------------------------------------------------------
    def reset(self, params: SharedParams | None = None) -> None:
        """Heads to zero and fresh shared units (or ``params``); step count 0."""
        d, K = self._X.shape[1], self._Y.shape[1]
        self._params = (init_shared(d, K, self._m, seed=self._seed) if params is None
                        else self._checked(params))
        self._steps = 0
        self._opt.reset()
        self._diverged, self._status = False, ""
        self._refresh()
        self._arm()

    def _checked(self, params: SharedParams) -> SharedParams:
        p = _check_params(params, self._X.shape[1])
        if p.n_labels != self._Y.shape[1] or p.n_hidden != self._m:
            raise ValueError(f"params must have {self._Y.shape[1]} labels and {self._m} units")
        return p

    def _refresh(self) -> None:
        self._losses, self._grad = _evaluate(self._X, self._Y, self._params, self._specs,
                                             self._l2)
        self._objective = float(self._losses.sum()) + _penalty(self._params, self._l2)

    def _arm(self) -> None:
        self._explode_ref = EXPLOSION_FACTOR * max(self._objective, 1.0)

    def set_data(self, X, Y) -> None:
        """New data with the same number of labels (parameters kept, optimizer state reset)."""
        Xa, Ya = _check_data(X, Y)
        if Xa.shape[1] != self._X.shape[1] or Ya.shape[1] != self._Y.shape[1]:
            raise ValueError(f"X and Y must keep their widths {self._X.shape[1]} and "
                             f"{self._Y.shape[1]}; build a new trainer instead")
        self._X, self._Y = Xa, Ya
        self._opt.reset()
        self._refresh()
        self._arm()

    def set_spec(self, spec: SpecLike) -> None:
        self._specs = label_specs(spec, self._Y.shape[1])
        self._refresh()
        self._arm()

    def set_params(self, params: SharedParams) -> None:
        """Jump to ``params`` (e.g. the fitted optimum); the step count goes on."""
        self._params = self._checked(params)
        self._opt.reset()
        self._diverged, self._status = False, ""
        self._refresh()
        self._arm()

    @property
    def params(self) -> SharedParams:
        return self._params

    @property
    def specs(self) -> tuple[LossSpec, ...]:
        return self._specs

    @property
    def l2(self) -> float:
        return self._l2

    @l2.setter
    def l2(self, value: float) -> None:
        self._l2 = _check_l2(value)
        self._refresh()
        self._arm()

    @property
    def lr(self) -> float:
        return self._opt.lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._opt.lr = _check_lr(value)
        self._diverged, self._status = False, ""
        self._arm()

    @property
    def optimizer(self) -> str:
        return self._opt.kind

    def set_optimizer(self, name: str) -> None:
        self._opt = FlatOptimizer(name, self._opt.lr)
        self._diverged, self._status = False, ""
        self._arm()

    @property
    def hidden_units(self) -> int:
        return self._m

    @property
    def steps(self) -> int:
        return self._steps

    @property
    def objective(self) -> float:
        return self._objective

    @property
    def loss_per_label(self) -> np.ndarray:
        return self._losses.copy()

    @property
    def gradient(self) -> SharedParams:
        return self._grad

    @property
    def grad_norm(self) -> float:
        g = self._grad.flat()
        return float(math.sqrt(float(g @ g)))

    @property
    def diverged(self) -> bool:
        return self._diverged

    @property
    def status(self) -> str:
        return self._status

    def hessian(self) -> np.ndarray:
        """The exact Hessian at the current parameters (see :func:`shared_hessian`)."""
        return shared_hessian(self._X, self._Y, self._params, l2=self._l2, spec=self._specs)

    # -- training ----------------------------------------------------------
    def step(self, n: int = 1) -> int:
        """Up to n optimizer steps; returns how many were taken (fewer once it diverges)."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"n must be an integer >= 0, got {n!r}")
        if self._diverged:
            return 0
        d, K, m = self._X.shape[1], self._Y.shape[1], self._m
        taken = 0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for _ in range(int(n)):
                theta = self._params.flat()
                new_theta, opt_state = self._opt.propose(theta, self._grad.flat())
                if not math.isfinite(float(np.add.reduce(new_theta))):
                    return taken + self._diverge("the weights became infinite")
                old = self._params
                self._params = SharedParams.from_flat(new_theta, d, K, m)
                try:
                    self._refresh()
                except ValueError:
                    self._params = old
                    self._refresh()
                    return taken + self._diverge("the logits became infinite")
                if not math.isfinite(self._objective) or self._objective > self._explode_ref:
                    value = self._objective
                    self._params = old
                    self._refresh()
                    return taken + self._diverge(f"the loss exploded to {value:.3g}")
                self._opt.commit(opt_state)
                self._steps += 1
                taken += 1
        return taken

    def _diverge(self, what: str) -> int:
        self._diverged = True
        self._status = (f"Diverged at step {self._steps + 1}: {what} with learning rate "
                        f"{self._opt.lr:g} — lower the learning rate or press reset")
        return 0


# ----------------------------------------------------------------------------
# Illustrative data sets

#: Kinds of :func:`multilabel_dataset`.
MULTILABEL_DATASETS = ("independent", "correlated", "overlapping", "rare")

#: Share of positives per label of the "rare" kind (before label noise).
RARE_PREVALENCE = (0.4, 0.2, 0.1, 0.05)


def multilabel_directions(kind: str, n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals (2, K) and offsets (K,) of the labels' boundaries for a data kind.

    * "independent": normals 180°/K apart through the origin (K = 2: at right
      angles, so the two labels are uncorrelated on the isotropic points);
    * "correlated": normals within a 30° fan, so the labels mostly agree;
    * "overlapping": normals 360°/K apart, each half-plane reaching past the
      centre (offset 0.6), so the centre carries every label;
    * "rare": as "independent", offsets set for RARE_PREVALENCE positives.
    """
    if kind not in MULTILABEL_DATASETS:
        raise ValueError(f"kind must be one of {', '.join(MULTILABEL_DATASETS)}; got {kind!r}")
    K = _check_int("n_labels", n_labels, 1)
    k = np.arange(K)
    if kind == "correlated":
        angles = np.deg2rad(30.0 + 30.0 * k / max(K - 1, 1))
        offsets = np.linspace(-0.2, 0.2, K)
    elif kind == "overlapping":
        angles = 2.0 * np.pi * k / K + np.pi / 4
        offsets = np.full(K, -0.6)
    else:
        angles = np.pi * k / K + np.pi / 8
        offsets = np.zeros(K)
    normals = np.vstack([np.cos(angles), np.sin(angles)])
    if kind == "rare":
        from statistics import NormalDist

        # points ~ N(0, POINT_SCALE² I): x·u ~ N(0, POINT_SCALE²); a share q above t
        offsets = np.array([NormalDist(0.0, POINT_SCALE).inv_cdf(1.0 - RARE_PREVALENCE[i % 4])
                            for i in range(K)])
    return normals, offsets


#: Standard deviation of the points' coordinates (data units).
POINT_SCALE = 1.2
#: Points are clipped to [-POINT_LIMIT, POINT_LIMIT]².
POINT_LIMIT = 3.2


def multilabel_dataset(kind: str, n: int, n_labels: int, *, seed: int = 0,
                       blur: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Seeded illustrative multi-label data: points X (n, 2) and hard labels Y (n, K).

    Points are N(0, 1.2²) per coordinate, clipped to ±3.2. Label k is drawn
    as Bernoulli(σ((x·u_k − t_k) / blur)) with the boundaries of
    :func:`multilabel_directions`: ``blur`` in [0, 2] data units is the width
    of the fuzzy band around each boundary (0: a sharp, separable boundary),
    so a rare label stays rare. Labels are drawn independently given x. Every
    label keeps both classes (the point nearest the boundary takes a missing
    class). The same arguments give the same data.
    """
    n = _check_int("n", n, 4)
    K = _check_int("n_labels", n_labels, 1)
    seed = _check_int("seed", seed, 0)
    if isinstance(blur, bool) or not isinstance(blur, numbers.Real) or not 0.0 <= blur <= 2.0:
        raise ValueError(f"blur must be in [0, 2] (data units), got {blur!r}")
    normals, offsets = multilabel_directions(kind, K)
    rng = np.random.default_rng(seed)
    X = np.clip(rng.normal(0.0, POINT_SCALE, size=(n, 2)), -POINT_LIMIT, POINT_LIMIT)
    margin = X @ normals - offsets
    u = rng.random((n, K))
    if blur > 0:
        Y = (u < sigmoid(margin / float(blur))).astype(np.float64)
    else:
        Y = (margin > 0).astype(np.float64)
    for k in range(K):
        positives = int(Y[:, k].sum())
        if positives == 0 or positives == n:
            i = int(np.argmin(np.abs(margin[:, k])))
            Y[i, k] = 1.0 - Y[i, k]
    return X, Y
