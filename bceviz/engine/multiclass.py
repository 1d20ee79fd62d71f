"""Many classes from sigmoids: one-vs-rest logistic regression against softmax regression.

Classes ``0..K-1`` become binary vectors (class B of A, B, C is ``[0, 1, 0]``).
**One-vs-rest** trains one sigmoid per class, "class k against the rest", on
those one-hot columns: it is exactly the multi-label model of
:mod:`bceviz.engine.multilabel` with ``Y = one_hot(labels)``. Its K
probabilities are independent, so a point may get p < 0.5 from every class
("nobody says yes") or p ≥ 0.5 from several. **Softmax** regression couples
the classes, ``P_ik = exp(z_ik) / Σ_j exp(z_ij)``, so each row sums to 1.

Objectives (nats; biases unpenalised), ``n`` samples, ``λ = l2``:

* one-vs-rest, column k: mean BCE of "class k" + λ/2 ‖w_k‖², equal to
  scikit-learn ``OneVsRestClassifier(LogisticRegression(C=1/(λ n)))``;
* softmax: mean cross-entropy + λ/2 ‖W‖², equal to scikit-learn's
  (multinomial) ``LogisticRegression(C=1/(λ n))`` for λ > 0. A common shift of
  all logits leaves the softmax unchanged and the intercepts are not
  penalised, so ``b`` is returned with Σ b_k = 0 (scikit-learn's convention).

Edge cases: ``labels`` must be whole numbers in [0, K); a class with no
sample is refused (its "against the rest" fit has no optimum and softmax
would push its logit to −∞). Without a penalty, classes that a line
separates have no optimum either: the fits stop at large, finite weights
(the Newton steps are capped and line-searched).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from bceviz.engine.losses import loss_from_logits, sigmoid, softplus
from bceviz.engine.multilabel import (
    EXPLOSION_FACTOR,
    OPTIMIZERS,
    FlatOptimizer,
    multilabel_loss_per_label,
)

__all__ = [
    "MULTICLASS_DATASETS",
    "OPTIMIZERS",
    "MulticlassTrainer",
    "class_centres",
    "fit_one_vs_rest",
    "fit_softmax",
    "multiclass_dataset",
    "one_hot",
    "ovr_objective",
    "ovr_probabilities",
    "softmax_gradient",
    "softmax_hessian",
    "softmax_logits",
    "softmax_objective",
    "softmax_probabilities",
    "stratified_split",
]

#: Largest softmax Newton step (Euclidean norm over W and b).
NEWTON_MAX_STEP = 10.0


# ----------------------------------------------------------------------------
# Validation


def _as_points(X, name: str = "X") -> np.ndarray:
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array") from None
    if arr.dtype.kind not in "biuf" or arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D numeric array (n, d), got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one row and one column, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return arr


def _check_n_classes(n_classes) -> int:
    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral) \
            or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    return int(n_classes)


def _check_labels(labels, n: int, n_classes: int, *, all_present: bool = True) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError("labels must be whole numbers 0..K-1 (class indices)")
    elif arr.dtype.kind not in "biu":
        raise ValueError(f"labels must be integer class indices, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match X, got {arr.shape}")
    out = arr.astype(np.intp)
    if out.size and (out.min() < 0 or out.max() >= n_classes):
        bad = out[(out < 0) | (out >= n_classes)][0]
        raise ValueError(f"labels must be in [0, {n_classes - 1}] (n_classes {n_classes}), "
                         f"found {int(bad)}")
    if all_present:
        counts = np.bincount(out, minlength=n_classes)
        if np.any(counts == 0):
            k = int(np.flatnonzero(counts == 0)[0])
            raise ValueError(f"labels: class {k} has no sample; every class 0..{n_classes - 1} "
                             "needs at least one")
    return out


def _check_l2(l2) -> float:
    if isinstance(l2, bool) or not isinstance(l2, numbers.Real) or not math.isfinite(l2) \
            or l2 < 0:
        raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
    return float(l2)


def _check_weights(W, b, d: int, n_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    try:
        Wa = np.asarray(W, dtype=np.float64)
        ba = np.asarray(b, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError("W and b must be numeric arrays") from None
    if Wa.ndim != 2 or Wa.shape[0] != d:
        raise ValueError(f"W must have shape ({d}, K) to match X, got {Wa.shape}")
    K = Wa.shape[1]
    if n_classes is not None and K != n_classes:
        raise ValueError(f"W must have {n_classes} columns (one per class), got {K}")
    if ba.shape != (K,):
        raise ValueError(f"b must have length {K}, got shape {np.shape(b)}")
    if not (np.all(np.isfinite(Wa)) and np.all(np.isfinite(ba))):
        raise ValueError("W and b must be finite (no NaN or inf)")
    return Wa, ba


def one_hot(labels, n_classes: int) -> np.ndarray:
    """Class indices (n,) as rows of a (n, K) float64 0/1 matrix (class 1 of 3 → [0, 1, 0])."""
    K = _check_n_classes(n_classes)
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be a 1-D array of class indices, got shape {arr.shape}")
    lab = _check_labels(arr, arr.shape[0], K, all_present=False)
    out = np.zeros((lab.shape[0], K))
    out[np.arange(lab.shape[0]), lab] = 1.0
    return out


def stratified_split(labels, n_classes: int, heldout_fraction: float = 0.25,
                     seed: int = 0) -> np.ndarray:
    """Boolean mask, True for held-out samples: round(fraction · size) of each class.

    Each class keeps at least one sample for training. ``heldout_fraction``
    in [0, 1); ``seed`` ≥ 0 (the same seed gives the same split).
    """
    K = _check_n_classes(n_classes)
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be a 1-D array, got shape {arr.shape}")
    lab = _check_labels(arr, arr.shape[0], K, all_present=False)
    if isinstance(heldout_fraction, bool) or not isinstance(heldout_fraction, numbers.Real) \
            or not 0.0 <= heldout_fraction < 1.0:
        raise ValueError(f"heldout_fraction must be in [0, 1), got {heldout_fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    mask = np.zeros(lab.shape[0], dtype=bool)
    for k in range(K):
        members = np.flatnonzero(lab == k)
        if members.size == 0:
            continue
        take = min(round(heldout_fraction * members.size), members.size - 1)
        mask[rng.permutation(members)[:take]] = True
    return mask


# ----------------------------------------------------------------------------
# One-vs-rest


def _binary_objective(Xt: np.ndarray, y: np.ndarray, theta: np.ndarray, l2: float) -> float:
    z = Xt @ theta
    w = theta[:-1]
    return float(loss_from_logits(z, y).mean()) + 0.5 * l2 * float(w @ w)


def _fit_binary(Xt: np.ndarray, y: np.ndarray, l2: float, theta: np.ndarray, *,
                steps: int = 100, tol: float = 1e-10) -> np.ndarray:
    """Newton's method for mean plain BCE + l2/2 ‖w‖² on X̃ = [X, 1]; θ = (w, b).

    Each step solves the exact Newton system (least squares where it is
    singular: l2 = 0 on separable data), capped at NEWTON_MAX_STEP and
    line-searched (Armijo), so the objective never increases and θ stays
    finite. Stops when the gradient norm falls to ``tol``.
    """
    n, P = Xt.shape
    penal = np.full(P, l2)
    penal[-1] = 0.0
    obj = _binary_objective(Xt, y, theta, l2)
    for _ in range(steps):
        z = Xt @ theta
        p = sigmoid(z)
        g = Xt.T @ (p - y) / n + penal * theta
        if math.sqrt(float(g @ g)) <= tol:
            break
        H = (Xt.T * (p * (1.0 - p))) @ Xt / n
        H[np.arange(P), np.arange(P)] += penal
        try:
            delta = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            delta = -np.linalg.lstsq(H, g, rcond=None)[0]
        norm = math.sqrt(float(delta @ delta))
        if not math.isfinite(norm) or norm == 0.0:
            break
        if norm > NEWTON_MAX_STEP:
            delta *= NEWTON_MAX_STEP / norm
        decrease = float(g @ delta)
        if decrease >= 0.0:
            break
        t, accepted = 1.0, False
        for _ in range(40):
            cand = theta + t * delta
            obj_c = _binary_objective(Xt, y, cand, l2)
            if obj_c <= obj + 1e-4 * t * decrease:
                theta, obj, accepted = cand, obj_c, True
                break
            t *= 0.5
        if not accepted:
            break
    return theta


def fit_one_vs_rest(X, labels, n_classes: int, *, l2: float = 0.0, W0=None,
                    b0=None) -> tuple[np.ndarray, np.ndarray]:
    """K binary fits "class k against the rest": ``(W (d, K), b (K,))``.

    Column k minimises mean plain BCE of ``labels == k`` + l2/2 ‖w_k‖² by
    Newton's method to a gradient norm of 1e-10 — the optimum of
    ``fit_logistic(X, labels == k, l2=l2)`` and of scikit-learn's
    ``OneVsRestClassifier(LogisticRegression(C=1/(λ n)))``. ``W0``, ``b0``
    (optional) warm-start every column (same optimum, fewer steps: a dragged
    point's refit). Without a penalty a class that a line separates has no
    optimum; its weights stop large and finite (100 capped steps).
    """
    Xa = _as_points(X)
    K = _check_n_classes(n_classes)
    lab = _check_labels(labels, Xa.shape[0], K)
    l2 = _check_l2(l2)
    d = Xa.shape[1]
    if W0 is not None or b0 is not None:
        W0a, b0a = _check_weights(np.zeros((d, K)) if W0 is None else W0,
                                  np.zeros(K) if b0 is None else b0, d, K)
    else:
        W0a, b0a = np.zeros((d, K)), np.zeros(K)
    Xt = np.hstack([Xa, np.ones((Xa.shape[0], 1))])
    W, b = np.zeros((d, K)), np.zeros(K)
    with np.errstate(over="ignore", under="ignore"):
        for k in range(K):
            theta = _fit_binary(Xt, (lab == k).astype(np.float64), l2,
                                np.append(W0a[:, k], b0a[k]))
            W[:, k], b[k] = theta[:-1], theta[-1]
    return W, b


def ovr_probabilities(X, W, b) -> np.ndarray:
    """One-vs-rest probabilities ``σ(X W + b)``, (n, K): independent, rows need not sum to 1."""
    Xa = _as_points(X)
    Wa, ba = _check_weights(W, b, Xa.shape[1])
    return sigmoid(Xa @ Wa + ba)


def ovr_objective(X, labels, W, b, *, l2: float = 0.0) -> float:
    """Σ_k (mean BCE of "class k against the rest") + l2/2 ‖W‖², in nats."""
    Xa = _as_points(X)
    Wa, ba = _check_weights(W, b, Xa.shape[1])
    K = Wa.shape[1]
    Y = one_hot(_check_labels(labels, Xa.shape[0], K, all_present=False), K)
    l2 = _check_l2(l2)
    return float(multilabel_loss_per_label(Xa, Y, Wa, ba).sum() + 0.5 * l2 * np.sum(Wa * Wa))


# ----------------------------------------------------------------------------
# Softmax


def softmax_logits(X, W, b) -> np.ndarray:
    """Logits ``X W + b`` (n, K) of the softmax model."""
    Xa = _as_points(X)
    Wa, ba = _check_weights(W, b, Xa.shape[1])
    return Xa @ Wa + ba


def _log_softmax(Z: np.ndarray) -> np.ndarray:
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax_probabilities(X, W, b) -> np.ndarray:
    """Softmax probabilities (n, K) in [0, 1]; every row sums to 1 (stable for any finite logit)."""
    return np.exp(_log_softmax(softmax_logits(X, W, b)))


def _softmax_parts(Xa, lab, Wa, ba, l2):
    logp = _log_softmax(Xa @ Wa + ba)
    n = Xa.shape[0]
    loss = -float(logp[np.arange(n), lab].mean())
    return loss + 0.5 * l2 * float(np.sum(Wa * Wa)), logp


def softmax_objective(X, labels, W, b, *, l2: float = 0.0) -> float:
    """Mean cross-entropy −mean_i log P_i,y_i + l2/2 ‖W‖², in nats."""
    Xa = _as_points(X)
    Wa, ba = _check_weights(W, b, Xa.shape[1])
    lab = _check_labels(labels, Xa.shape[0], Wa.shape[1], all_present=False)
    return _softmax_parts(Xa, lab, Wa, ba, _check_l2(l2))[0]


def _softmax_grad(Xa, lab, Wa, ba, l2) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    obj, logp = _softmax_parts(Xa, lab, Wa, ba, l2)
    n = Xa.shape[0]
    R = np.exp(logp)
    R[np.arange(n), lab] -= 1.0  # P - onehot
    return obj, Xa.T @ R / n + l2 * Wa, R.sum(axis=0) / n, logp


def softmax_gradient(X, labels, W, b, *, l2: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(dJ/dW (d, K), dJ/db (K,)) of :func:`softmax_objective`; dJ/dz = P − onehot."""
    Xa = _as_points(X)
    Wa, ba = _check_weights(W, b, Xa.shape[1])
    lab = _check_labels(labels, Xa.shape[0], Wa.shape[1], all_present=False)
    _, gW, gb, _ = _softmax_grad(Xa, lab, Wa, ba, _check_l2(l2))
    return gW, gb


def softmax_hessian(X, labels, W, b, *, l2: float = 0.0) -> np.ndarray:
    """Hessian of :func:`softmax_objective`, class by class ``[w_1, b_1, …, w_K, b_K]``.

    Block (k, j) is ``mean_i P_ik (δ_kj − P_ij) x̃_i x̃_iᵀ`` (x̃ = [x, 1]) plus
    l2 on the weights' diagonal. Unlike one-vs-rest the off-diagonal blocks
    are not zero: the classes share the normaliser. It is singular along a
    common shift of the biases (and, with l2 = 0, of the weights).
    """
    Xa = _as_points(X)
    Wa, ba = _check_weights(W, b, Xa.shape[1])
    _check_labels(labels, Xa.shape[0], Wa.shape[1], all_present=False)
    return _softmax_hess(Xa, Wa, ba, _check_l2(l2))


def _softmax_hess(Xa, Wa, ba, l2) -> np.ndarray:
    n, d = Xa.shape
    K = Wa.shape[1]
    P = np.exp(_log_softmax(Xa @ Wa + ba))
    Xt = np.hstack([Xa, np.ones((n, 1))])
    s = d + 1
    H = np.zeros((K * s, K * s))
    for k in range(K):
        for j in range(k, K):
            weight = P[:, k] * ((1.0 if j == k else 0.0) - P[:, j])
            block = (Xt.T * weight) @ Xt / n
            H[k * s:(k + 1) * s, j * s:(j + 1) * s] = block
            H[j * s:(j + 1) * s, k * s:(k + 1) * s] = block.T
    for k in range(K):
        idx = np.arange(k * s, k * s + d)
        H[idx, idx] += l2
    return H


def _pack(W: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.vstack([W, b[None, :]]).T.ravel()


def _unpack(theta: np.ndarray, d: int, K: int) -> tuple[np.ndarray, np.ndarray]:
    M = theta.reshape(K, d + 1).T
    return np.ascontiguousarray(M[:-1]), M[-1].copy()


def fit_softmax(X, labels, n_classes: int, *, l2: float = 0.0, W0=None, b0=None,
                steps: int = 200, tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Softmax regression by damped Newton: ``(W (d, K), b (K,))`` with Σ b_k = 0.

    Minimises :func:`softmax_objective`; for l2 > 0 the optimum equals
    scikit-learn's ``LogisticRegression(C=1/(λ n))`` (multinomial). The Newton
    system is solved in the range of the Hessian (the common-shift direction
    has zero gradient), each step is capped at ``NEWTON_MAX_STEP`` and
    line-searched, so the objective never increases and the weights stay
    finite even without a penalty on separable data. Stops when the gradient
    norm falls to ``tol`` or after ``steps`` Newton steps. ``W0``, ``b0``
    warm-start it (default zeros).
    """
    Xa = _as_points(X)
    K = _check_n_classes(n_classes)
    lab = _check_labels(labels, Xa.shape[0], K)
    l2 = _check_l2(l2)
    d = Xa.shape[1]
    if W0 is None and b0 is None:
        W, b = np.zeros((d, K)), np.zeros(K)
    else:
        W, b = _check_weights(np.zeros((d, K)) if W0 is None else W0,
                              np.zeros(K) if b0 is None else b0, d, K)
        W, b = W.copy(), b.copy()
    obj, gW, gb, _ = _softmax_grad(Xa, lab, W, b, l2)
    for _ in range(int(steps)):
        g = _pack(gW, gb)
        if math.sqrt(float(g @ g)) <= tol:
            break
        H = _softmax_hess(Xa, W, b, l2)
        lam, V = np.linalg.eigh(H)
        keep = lam > max(1e-12, 1e-10 * float(lam.max()))
        delta = -(V[:, keep] @ ((V[:, keep].T @ g) / lam[keep]))
        norm = math.sqrt(float(delta @ delta))
        if not math.isfinite(norm) or norm == 0.0:
            break
        if norm > NEWTON_MAX_STEP:
            delta *= NEWTON_MAX_STEP / norm
        decrease = float(g @ delta)
        if decrease >= 0:
            break
        theta = _pack(W, b)
        t, accepted = 1.0, False
        for _ in range(40):
            W_c, b_c = _unpack(theta + t * delta, d, K)
            obj_c, gW_c, gb_c, _ = _softmax_grad(Xa, lab, W_c, b_c, l2)
            if obj_c <= obj + 1e-4 * t * decrease:
                W, b, obj, gW, gb = W_c, b_c, obj_c, gW_c, gb_c
                accepted = True
                break
            t *= 0.5
        if not accepted:
            break
    return W, b - b.mean()


# ----------------------------------------------------------------------------
# Live training of both models side by side


class MulticlassTrainer:
    """Trains one-vs-rest and softmax side by side on the same data, one step at a time.

    X (n, d), labels in 0..K-1 (every class present). Each :meth:`step`
    takes one full-batch step of ``optimizer`` ("gd" or "adam", learning rate
    ``lr``) on each model's objective (:func:`ovr_objective`,
    :func:`softmax_objective`, the same ``l2``). Both start at zero. The
    softmax biases are kept centred (Σ b_k = 0; the gradient has no component
    along a common shift, so this changes nothing but the display). Divergence
    keeps the last finite weights and sets ``status``.
    """

    _explode_ref: float | None = None
    #: (one-vs-rest objective, its gradient, softmax objective, its gradient) now, or None.
    _evaluation: tuple[float, np.ndarray, float, np.ndarray] | None = None

    def __init__(self, X, labels, n_classes: int, *, l2: float = 0.0, optimizer: str = "gd",
                 lr: float = 0.5) -> None:
        self._X = _as_points(X)
        self._K = _check_n_classes(n_classes)
        self._labels = _check_labels(labels, self._X.shape[0], self._K)
        self._Y = one_hot(self._labels, self._K)
        self._l2 = _check_l2(l2)
        self._ovr_opt = FlatOptimizer(optimizer, lr)
        self._soft_opt = FlatOptimizer(optimizer, lr)
        self.reset()

    def reset(self) -> None:
        d, K = self._X.shape[1], self._K
        self._ovr = (np.zeros((d, K)), np.zeros(K))
        self._soft = (np.zeros((d, K)), np.zeros(K))
        self._steps = 0
        self._ovr_opt.reset()
        self._soft_opt.reset()
        self._diverged, self._status = False, ""
        self._arm()

    def _objectives(self, ovr=None, soft=None) -> tuple[float, float]:
        Wo, bo = self._ovr if ovr is None else ovr
        Ws, bs = self._soft if soft is None else soft
        o = float(multilabel_loss_per_label(self._X, self._Y, Wo, bo).sum()
                  + 0.5 * self._l2 * np.sum(Wo * Wo))
        s = _softmax_parts(self._X, self._labels, Ws, bs, self._l2)[0]
        return o, s

    def _evaluate(self, ovr, soft) -> tuple[float, np.ndarray, float, np.ndarray]:
        """(one-vs-rest objective, its packed gradient, softmax objective, its gradient).

        One pass per model: for plain BCE dℓ/dz = σ(z) − y, and the loss is
        softplus(−z) for y = 1 and softplus(z) for y = 0 (finite for any logit).
        """
        X, Y, n, l2 = self._X, self._Y, self._X.shape[0], self._l2
        Wo, bo = ovr
        Z = X @ Wo + bo
        sp_pos, sp_neg = softplus(Z), softplus(-Z)
        o = float(np.sum(Y * sp_neg + (1.0 - Y) * sp_pos)) / n + 0.5 * l2 * float(np.sum(Wo * Wo))
        G = np.exp(-sp_neg) - Y  # σ(z) − y
        grad_o = _pack(X.T @ G / n + l2 * Wo, G.sum(axis=0) / n)
        Ws, bs = soft
        s, gWs, gbs, _ = _softmax_grad(X, self._labels, Ws, bs, l2)
        return o, grad_o, s, _pack(gWs, gbs)

    def _current(self) -> tuple[float, np.ndarray, float, np.ndarray]:
        evaluation = self._evaluation
        if evaluation is None:
            evaluation = self._evaluation = self._evaluate(self._ovr, self._soft)
        return evaluation

    @property
    def grad_norm(self) -> float:
        """The larger of the two models' gradient norms at the current weights."""
        _, go, _, gs = self._current()
        return math.sqrt(max(float(go @ go), float(gs @ gs)))

    def _arm(self) -> None:
        """Measure "exploded" against the objectives now (at the next step: edits are cheap)."""
        self._explode_ref = None
        self._evaluation = None

    def _explode_limit(self) -> float:
        if self._explode_ref is None:
            o, s = self._objectives()
            self._explode_ref = EXPLOSION_FACTOR * max(o, s, 1.0)
        return self._explode_ref

    def set_data(self, X, labels) -> None:
        """New points/labels, same K; weights kept, optimizer state reset."""
        Xa = _as_points(X)
        if Xa.shape[1] != self._X.shape[1]:
            raise ValueError(f"X must keep {self._X.shape[1]} columns, got {Xa.shape[1]}")
        lab = _check_labels(labels, Xa.shape[0], self._K)
        self._X, self._labels, self._Y = Xa, lab, one_hot(lab, self._K)
        self._ovr_opt.reset()
        self._soft_opt.reset()
        self._arm()

    def set_weights(self, ovr: tuple, softmax: tuple) -> None:
        """Jump to weights ``ovr = (W, b)``, ``softmax = (W, b)`` (e.g. the fitted optima)."""
        d = self._X.shape[1]
        Wo, bo = _check_weights(ovr[0], ovr[1], d, self._K)
        Ws, bs = _check_weights(softmax[0], softmax[1], d, self._K)
        self._ovr, self._soft = (Wo.copy(), bo.copy()), (Ws.copy(), bs - bs.mean())
        self._ovr_opt.reset()
        self._soft_opt.reset()
        self._diverged, self._status = False, ""
        self._arm()

    @property
    def ovr(self) -> tuple[np.ndarray, np.ndarray]:
        return self._ovr

    @property
    def softmax(self) -> tuple[np.ndarray, np.ndarray]:
        return self._soft

    @property
    def steps(self) -> int:
        return self._steps

    @property
    def l2(self) -> float:
        return self._l2

    @l2.setter
    def l2(self, value: float) -> None:
        self._l2 = _check_l2(value)
        self._arm()

    @property
    def lr(self) -> float:
        return self._ovr_opt.lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._ovr_opt.lr = self._soft_opt.lr = FlatOptimizer("gd", value).lr
        self._diverged, self._status = False, ""

    @property
    def optimizer(self) -> str:
        return self._ovr_opt.kind

    def set_optimizer(self, name: str) -> None:
        lr = self._ovr_opt.lr
        self._ovr_opt, self._soft_opt = FlatOptimizer(name, lr), FlatOptimizer(name, lr)
        self._diverged, self._status = False, ""

    @property
    def diverged(self) -> bool:
        return self._diverged

    @property
    def status(self) -> str:
        return self._status

    def objectives(self) -> tuple[float, float]:
        """(one-vs-rest objective, softmax objective) at the current weights, in nats."""
        return self._objectives()

    def step(self, n: int = 1) -> int:
        """Up to n steps of both models; returns how many were taken."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"n must be an integer >= 0, got {n!r}")
        if self._diverged:
            return 0
        d, K = self._X.shape[1], self._K
        taken = 0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            limit = self._explode_limit()
            for _ in range(int(n)):
                _, grad_o, _, grad_s = self._current()
                new_o, st_o = self._ovr_opt.propose(_pack(*self._ovr), grad_o)
                new_s, st_s = self._soft_opt.propose(_pack(*self._soft), grad_s)
                if not (math.isfinite(float(np.add.reduce(new_o)))
                        and math.isfinite(float(np.add.reduce(new_s)))):
                    return taken + self._diverge("the weights became infinite")
                ovr, soft = _unpack(new_o, d, K), _unpack(new_s, d, K)
                soft = (soft[0], soft[1] - soft[1].mean())
                evaluation = self._evaluate(ovr, soft)
                o, s = evaluation[0], evaluation[2]
                if not (math.isfinite(o) and math.isfinite(s)) or max(o, s) > limit:
                    what = ("the loss became infinite" if not (math.isfinite(o)
                                                              and math.isfinite(s))
                            else f"the loss exploded to {max(o, s):.3g}")
                    return taken + self._diverge(what)
                self._ovr, self._soft, self._evaluation = ovr, soft, evaluation
                self._ovr_opt.commit(st_o)
                self._soft_opt.commit(st_s)
                self._steps += 1
                taken += 1
        return taken

    def _diverge(self, what: str) -> int:
        self._diverged = True
        self._status = (f"Diverged at step {self._steps + 1}: {what} with learning rate "
                        f"{self._ovr_opt.lr:g} — lower the learning rate or press reset")
        return 0


# ----------------------------------------------------------------------------
# Illustrative data sets

#: Kinds of :func:`multiclass_dataset`.
MULTICLASS_DATASETS = ("ring", "line", "random")


def class_centres(kind: str, n_classes: int, seed: int = 0) -> np.ndarray:
    """Cluster centres (K, 2) of a data kind.

    * "ring": on a circle of radius 2 (a gap in the middle, where
      one-vs-rest often has nobody saying yes);
    * "line": evenly along x1 in [-2.4, 2.4] at x2 = 0 (a middle class cannot
      be cut off from the rest by one line);
    * "random": uniform in [-2.2, 2.2]², at least 1.2 apart (seeded).
    """
    if kind not in MULTICLASS_DATASETS:
        raise ValueError(f"kind must be one of {', '.join(MULTICLASS_DATASETS)}; got {kind!r}")
    K = _check_n_classes(n_classes)
    if kind == "ring":
        angles = 2.0 * np.pi * np.arange(K) / K + np.pi / 2
        return 2.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    if kind == "line":
        return np.column_stack([np.linspace(-2.4, 2.4, K), np.zeros(K)])
    rng = np.random.default_rng(int(seed) + 7919)
    centres: list[np.ndarray] = []
    while len(centres) < K:
        c = rng.uniform(-2.2, 2.2, size=2)
        if all(float(np.hypot(*(c - o))) >= 1.2 for o in centres) or rng.random() < 0.01:
            centres.append(c)
    return np.array(centres)


def multiclass_dataset(kind: str, n: int, n_classes: int, *, seed: int = 0,
                       spread: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Seeded illustrative classes: points X (n, 2) and labels (n,) in 0..K-1.

    Gaussian clusters of standard deviation ``spread`` (data units, in
    [0.05, 3]) around :func:`class_centres`; class sizes differ by at most one
    (n ≥ 2K). Rows are shuffled; the same arguments give the same data.
    """
    K = _check_n_classes(n_classes)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2 * K:
        raise ValueError(f"n must be an integer >= {2 * K} (two points per class), got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if isinstance(spread, bool) or not isinstance(spread, numbers.Real) \
            or not 0.05 <= spread <= 3.0:
        raise ValueError(f"spread must be in [0.05, 3] (data units), got {spread!r}")
    centres = class_centres(kind, K, int(seed))
    rng = np.random.default_rng(int(seed))
    labels = np.arange(int(n)) % K
    rng.shuffle(labels)
    X = centres[labels] + rng.normal(0.0, float(spread), size=(int(n), 2))
    return X, labels.astype(np.intp)
