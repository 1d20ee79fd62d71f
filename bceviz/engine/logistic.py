"""Logistic regression on 2-D points: feature maps, a live step-by-step Trainer, and a one-shot fit.

The model is ``p = sigmoid(X_features @ w + b)``; training minimises the
objective

    mean over samples of loss_from_logits(z, y, spec)  +  l2/2 ||w||²  +  l1 ||w||₁

with the bias unpenalised, so with ``l2 = λ`` the optimum is scikit-learn's
``LogisticRegression(C=1/(λ n))``. Losses are in nats.

Design choices (see also the docstrings below):

* **Feature scaling.** ``make_features`` divides every monomial of degree k by
  ``FEATURE_SCALE**(k-1)`` (3**(k-1)), so each column is about as large as x1 on
  data in [-3, 3] (x1⁵ reaches 243 there; x1⁵/81 reaches 3). The scale is a
  fixed constant, not a statistic of the data, so dragging a point never
  changes what a weight means, and the linear columns x1, x2 always come first
  and unscaled (the loss-surface panel shows w1, w2 in x1, x2 units). With it,
  plain gradient descent at lr 0.1 is stable for every feature kind on the
  bundled data sets. ``feature_names`` spells the divisor out ("x1²/3").
* **L1.** First-order optimizers take a proximal step (soft-thresholding),
  which puts exact zeros in ``w``; Newton is *proximal Newton*: the L1 term is
  kept exact in the quadratic model, which is solved by coordinate descent,
  then a backtracking line search on the full objective. All optimizers share
  the same optimum.
* **Newton** uses the exact Hessian (``curvature_from_logits``, so focal loss
  and smoothing are handled); a focal Hessian can be indefinite, so its
  eigenvalues are replaced by their absolute values (floored), the step is
  capped at ``NEWTON_MAX_STEP`` and line-searched (Armijo). The objective
  never increases, so it cannot diverge, even on separable data where the
  unregularised optimum is at infinity. ``lr`` and ``batch_size`` do not
  apply to Newton.
* **History** is preallocated and bounded: when full it keeps every other
  record and doubles its stride, always keeping the newest step exactly.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bceviz.engine.losses import (
    LogitLoss,
    LossSpec,
    grad_from_logits,
    loss_from_logits,
    sigmoid,
    validate_labels,
)

__all__ = [
    "FEATURE_KINDS",
    "FEATURE_SCALE",
    "NEWTON_MAX_STEP",
    "OPTIMIZERS",
    "Fit",
    "Trainer",
    "TrainingHistory",
    "feature_names",
    "fit_logistic",
    "make_features",
    "n_features",
    "predict_proba",
]

FEATURE_KINDS = ("linear", "product", "poly2", "poly3", "poly4", "poly5", "sin")
OPTIMIZERS = ("gd", "sgd", "momentum", "adam", "newton")

#: A monomial of degree k is divided by FEATURE_SCALE**(k - 1): on data in
#: [-3, 3] every column then stays within [-3, 3], like x1 and x2.
FEATURE_SCALE = 3.0

#: Largest Newton step (Euclidean norm over w and b); a trust region that
#: keeps separable data from throwing the weights far off in one step.
NEWTON_MAX_STEP = 10.0

#: Relative rounding error assumed for the objective (a mean of N terms, each
#: exact to a few ulps, plus the penalty): a Newton decrease smaller than this
#: times |objective| cannot be measured, so the line search does not try.
NEWTON_ROUNDING = 64.0 * float(np.finfo(np.float64).eps)

#: The default loss settings (plain BCE); LossSpec is frozen, so sharing it is safe.
DEFAULT_SPEC = LossSpec()

#: Default number of records kept in a TrainingHistory.
HISTORY_CAPACITY = 16384

#: Default mini-batch size of "sgd" when batch_size is None.
SGD_DEFAULT_BATCH = 32

#: The loss "exploded" when the objective exceeds this factor times its value
#: (at least 1 nat) when training was last (re)started.
EXPLOSION_FACTOR = 1e6

_ADAM_BETA1 = 0.9
_ADAM_BETA2 = 0.999
_ADAM_EPS = 1e-8

_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


# ----------------------------------------------------------------------------
# Feature maps


def _poly_exponents(degree: int) -> list[tuple[int, int]]:
    """(i, j) for every monomial x1^i x2^j with 1 <= i + j <= degree, by degree."""
    return [(i, k - i) for k in range(1, degree + 1) for i in range(k, -1, -1)]


def _exponents(kind: str) -> list[tuple[int, int]] | None:
    if kind == "linear":
        return _poly_exponents(1)
    if kind == "product":
        return [(1, 0), (0, 1), (1, 1)]
    if kind.startswith("poly"):
        return _poly_exponents(int(kind[4:]))
    return None  # "sin"


def _check_kind(kind) -> str:
    if kind not in FEATURE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(FEATURE_KINDS)}; got {kind!r}")
    return kind


def _monomial_name(i: int, j: int) -> str:
    parts = []
    for var, power in (("x1", i), ("x2", j)):
        if power == 1:
            parts.append(var)
        elif power > 1:
            parts.append(var + str(power).translate(_SUPERSCRIPTS))
    name = "·".join(parts)
    divisor = round(FEATURE_SCALE ** (i + j - 1))
    return name if divisor == 1 else f"{name}/{divisor}"


def feature_names(kind: str) -> list[str]:
    """Column names of ``make_features(X, kind)``, e.g. ["x1", "x2", "x1·x2/3"]."""
    exps = _exponents(_check_kind(kind))
    if exps is None:
        return ["x1", "x2", "sin x1", "cos x1", "sin x2", "cos x2", "sin x1·sin x2"]
    return [_monomial_name(i, j) for i, j in exps]


def n_features(kind: str) -> int:
    """Number of columns d of ``make_features(X, kind)``."""
    return len(feature_names(kind))


def _as_points(X, name: str = "X") -> np.ndarray:
    arr = _as_matrix(X, name)
    if arr.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2) (raw 2-D points), got {arr.shape}")
    return arr


def make_features(X, kind: str = "linear") -> np.ndarray:
    """Feature matrix (N, d) in float64 for raw points X of shape (N, 2).

    Columns 0 and 1 are always x1 and x2, unscaled. The others, per kind:
    "product" adds x1·x2; "polyK" adds every monomial of degree 2..K, each of
    degree k divided by 3**(k-1) (FEATURE_SCALE) so it stays in the range of x1
    on data in [-3, 3]; "sin" adds sin x1, cos x1, sin x2, cos x2 and
    sin x1·sin x2 (already in [-1, 1]). Names: ``feature_names(kind)``.
    """
    kind = _check_kind(kind)
    pts = _as_points(X)
    x1, x2 = pts[:, 0], pts[:, 1]
    exps = _exponents(kind)
    if exps is None:
        s1, s2 = np.sin(x1), np.sin(x2)
        return np.column_stack([x1, x2, s1, np.cos(x1), s2, np.cos(x2), s1 * s2])
    out = np.empty((pts.shape[0], len(exps)))
    for col, (i, j) in enumerate(exps):
        out[:, col] = x1**i * x2**j / FEATURE_SCALE ** (i + j - 1)
    return out


# ----------------------------------------------------------------------------
# Validation helpers


def _as_matrix(X, name: str) -> np.ndarray:
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (N, d), got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return arr


def _check_data(X, y) -> tuple[np.ndarray, np.ndarray]:
    Xa = _as_matrix(X, "X")
    if Xa.shape[0] == 0 or Xa.shape[1] == 0:
        raise ValueError(f"X must have at least one sample and one feature, got shape {Xa.shape}")
    ya = np.ascontiguousarray(validate_labels(y, "y"), dtype=np.float64)
    if ya.shape != (Xa.shape[0],):
        raise ValueError(
            f"y must have shape ({Xa.shape[0]},) to match X {Xa.shape}, got {ya.shape}"
        )
    if not np.all(np.isfinite(ya)):
        raise ValueError("labels y must be in [0, 1] (no NaN)")
    return Xa, ya


def _check_spec(spec) -> LossSpec:
    if spec is None:
        return LossSpec()
    # ValueError, not TypeError, for every bad argument: the rule of docs/architecture.md.
    if not isinstance(spec, LossSpec):
        raise ValueError(f"spec must be a LossSpec, got {type(spec).__name__}")
    return spec


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


def _check_lr(lr) -> float:
    out = _real("lr", lr)
    if out <= 0.0:
        raise ValueError(f"lr (learning rate) must be > 0, got {lr!r}")
    return out


def _check_penalty(name: str, value) -> float:
    out = _real(name, value)
    if out < 0.0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return out


def _check_momentum(value) -> float:
    out = _real("momentum", value)
    if not 0.0 <= out < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {value!r}")
    return out


def _check_batch_size(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"batch_size must be None or an integer >= 1, got {value!r}")
    return int(value)


def _check_optimizer(name) -> str:
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")
    return name


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return int(seed)


def _check_weights(w, b, d: int) -> tuple[np.ndarray, float]:
    try:
        wa = np.array(w, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"w must be a numeric vector of length {d}, got {w!r}") from None
    if wa.shape != (d,):
        raise ValueError(f"w must have shape ({d},), got {np.shape(w)}")
    if not np.all(np.isfinite(wa)):
        raise ValueError("w must be finite (no NaN or inf)")
    return wa, _real("b", b)


def _soft_threshold(v: np.ndarray, threshold) -> np.ndarray:
    """Proximal operator of threshold·|v|: exact zeros where |v| <= threshold."""
    return np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0)


def predict_proba(X_features, w, b: float = 0.0) -> np.ndarray:
    """Probabilities sigmoid(X_features @ w + b) in [0, 1], shape (N,)."""
    Xa = _as_matrix(X_features, "X_features")
    wa, bb = _check_weights(w, b, Xa.shape[1])
    return sigmoid(Xa @ wa + bb)


# ----------------------------------------------------------------------------
# History


class TrainingHistory:
    """Bounded record of training, one row per recorded step (oldest first).

    Arrays (read-only views, valid until the trainer changes again; copy to
    keep): ``step`` (int), ``loss`` (mean loss in nats, penalty excluded),
    ``objective`` (loss + penalty), ``grad_norm`` (norm of the minimum-norm
    subgradient of the objective over w and b: 0 exactly at the optimum, also
    with L1), ``w_norm`` (||w||₂), ``w`` (k, d) the weight path, ``b``.

    Storage is preallocated for ``capacity`` records. A step is kept if it is
    a multiple of ``stride`` (1 at first). When the storage is full, only the
    multiples of 2·stride are kept and the stride doubles, so the kept steps
    stay evenly spaced and always include step 0. The newest step is always
    present: it is written into a provisional slot that the next record
    overwrites unless it is due to be kept. Recording is O(d).
    """

    _SCALARS = ("loss", "objective", "grad_norm", "w_norm", "b")

    def __init__(self, d: int, capacity: int = HISTORY_CAPACITY) -> None:
        if capacity < 4:
            raise ValueError(f"capacity must be >= 4, got {capacity!r}")
        self.capacity = int(capacity)
        self._step_arr = np.zeros(self.capacity, dtype=np.int64)
        self._data = np.zeros((len(self._SCALARS), self.capacity))
        self._w = np.zeros((self.capacity, d))
        self._count = 0
        self._provisional = False
        self._stride = 1
        self._last_kept = 0  # step of the newest kept (non-provisional) record

    # -- writing --------------------------------------------------------------

    def clear(self) -> None:
        self._count = 0
        self._provisional = False
        self._stride = 1
        self._last_kept = 0

    def record(
        self,
        step: int,
        loss: float,
        objective: float,
        grad_norm: float,
        w_norm: float,
        w: np.ndarray,
        b: float,
    ) -> None:
        """Append the state after ``step``; the newest record is always exact."""
        i = self._count - 1 if self._provisional else self._count
        while i >= self.capacity:
            self._thin()
            i = self._count
        self._write(i, step, loss, objective, grad_norm, w_norm, w, b)
        self._count = i + 1
        self._provisional = step % self._stride != 0
        if not self._provisional:
            self._last_kept = step

    def replace_newest(
        self,
        step: int,
        loss: float,
        objective: float,
        grad_norm: float,
        w_norm: float,
        w: np.ndarray,
        b: float,
    ) -> None:
        """Overwrite the newest record (the state changed without a step)."""
        if self._count == 0:
            self.record(step, loss, objective, grad_norm, w_norm, w, b)
        else:
            self._write(self._count - 1, step, loss, objective, grad_norm, w_norm, w, b)

    def _write(self, i, step, loss, objective, grad_norm, w_norm, w, b) -> None:
        self._step_arr[i] = step
        col = self._data[:, i]
        col[0] = loss
        col[1] = objective
        col[2] = grad_norm
        col[3] = w_norm
        col[4] = b
        self._w[i] = w

    def _thin(self) -> None:
        # Only called when every slot holds a kept record (none provisional).
        self._stride *= 2
        keep = np.flatnonzero(self._step_arr[: self._count] % self._stride == 0)
        m = keep.size
        self._step_arr[:m] = self._step_arr[keep]
        self._data[:, :m] = self._data[:, keep]
        self._w[:m] = self._w[keep]
        self._count = m
        self._last_kept = int(self._step_arr[m - 1]) if m else 0

    def resize_features(self, d: int) -> None:
        """Change the number of weights: shared columns kept, new ones zero."""
        old = self._w
        if old.shape[1] == d:
            return
        self._w = np.zeros((self.capacity, d))
        k = min(d, old.shape[1])
        self._w[: self._count, :k] = old[: self._count, :k]

    # -- reading --------------------------------------------------------------

    def __len__(self) -> int:
        return self._count

    @property
    def stride(self) -> int:
        """Spacing in steps between kept records (1 until the first thinning)."""
        return self._stride

    def _view(self, arr: np.ndarray) -> np.ndarray:
        v = arr[: self._count]
        v.flags.writeable = False
        return v

    @property
    def step(self) -> np.ndarray:
        return self._view(self._step_arr)

    @property
    def loss(self) -> np.ndarray:
        return self._view(self._data[0])

    @property
    def objective(self) -> np.ndarray:
        return self._view(self._data[1])

    @property
    def grad_norm(self) -> np.ndarray:
        return self._view(self._data[2])

    @property
    def w_norm(self) -> np.ndarray:
        return self._view(self._data[3])

    @property
    def b(self) -> np.ndarray:
        return self._view(self._data[4])

    @property
    def w(self) -> np.ndarray:
        return self._view(self._w)

    def as_dict(self) -> dict[str, np.ndarray]:
        """Copies of every array, e.g. to save or to keep across steps."""
        out = {"step": self.step.copy(), "w": self.w.copy()}
        for name in self._SCALARS:
            out[name] = getattr(self, name).copy()
        return out

    def state_dict(self) -> dict:
        """Everything needed to continue exactly: ``as_dict()`` plus ``stride``
        (int) and ``provisional`` (bool, the newest record will be overwritten).
        """
        out: dict = self.as_dict()
        out["stride"] = self._stride
        out["provisional"] = self._provisional
        return out

    def load_state_dict(self, state: dict) -> None:
        """Replace the contents with a ``state_dict()`` (e.g. from a saved session).

        ValueError, and nothing changed, unless: 1 to ``capacity`` records,
        strictly increasing steps >= 0, every array of the same length, w of
        shape (k, d), finite numbers, stride a power of two.
        """
        try:
            step = np.asarray(state["step"])
            arrays = {name: np.asarray(state[name], dtype=np.float64) for name in self._SCALARS}
            w = np.asarray(state["w"], dtype=np.float64)
            stride = state.get("stride", 1)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"history state is incomplete or not numeric: {exc}") from None
        k = step.shape[0] if step.ndim == 1 else -1
        if step.ndim != 1 or not 1 <= k <= self.capacity or step.dtype.kind not in "iu":
            raise ValueError(f"history step must be 1 to {self.capacity} integers")
        if np.any(step < 0) or np.any(np.diff(step) <= 0):
            raise ValueError("history steps must be >= 0 and strictly increasing")
        for name, arr in arrays.items():
            if arr.shape != (k,) or not np.all(np.isfinite(arr)):
                raise ValueError(f"history {name} must hold {k} finite numbers")
        d = self._w.shape[1]
        if w.shape != (k, d) or not np.all(np.isfinite(w)):
            raise ValueError(f"history w must have shape ({k}, {d}) and be finite")
        if (
            isinstance(stride, bool)
            or not isinstance(stride, numbers.Integral)
            or stride < 1
            or stride & (stride - 1)
        ):
            raise ValueError(f"history stride must be a power of two >= 1, got {stride!r}")
        provisional = state.get("provisional", int(step[-1]) % int(stride) != 0)
        self._step_arr[:k] = step
        for row, name in enumerate(self._SCALARS):
            self._data[row, :k] = arrays[name]
        self._w[:k] = w
        self._count = k
        self._stride = int(stride)
        self._provisional = bool(provisional)
        kept = step[:-1] if self._provisional else step
        self._last_kept = int(kept[-1]) if kept.size else 0


# ----------------------------------------------------------------------------
# Trainer


class Trainer:
    """Trains logistic regression one step at a time, for a live view.

    X: feature matrix (N, d) (e.g. ``make_features(points, kind)``); y: labels
    in [0, 1], shape (N,). Optimizers:

    * "gd": full-batch gradient descent.
    * "sgd": mini-batch SGD, ``batch_size`` samples (default 32), reshuffled
      each epoch with a generator seeded by ``seed``.
    * "momentum": heavy ball, ``w' = w - lr g + momentum (w - w_prev)``
      (equal to PyTorch's SGD momentum at constant lr); full batch unless
      ``batch_size`` is set.
    * "adam": Adam (beta1 0.9, beta2 0.999, eps 1e-8); full batch unless
      ``batch_size`` is set.
    * "newton": proximal, damped Newton (see the module docstring); always
      full batch, ``lr`` unused.

    L1 is applied by a proximal step whose threshold is ``l1`` times the step
    size actually used (per coordinate for Adam), so the optimizers' fixed
    points are exactly the optimum of the objective, with exact zeros.

    The trainer stops itself when training diverges (non-finite loss, logits
    or weights, or an objective above 1e6 times its starting value): the last
    finite weights are restored, ``diverged`` is True and ``status`` says why
    and what to do. Nothing happens on ``step`` until ``reset()``, a new
    ``lr``, ``set_optimizer`` or ``set_weights`` clears it.
    """

    def __init__(
        self,
        X,
        y,
        spec: LossSpec = DEFAULT_SPEC,
        *,
        optimizer: str = "gd",
        lr: float = 0.1,
        l2: float = 0.0,
        l1: float = 0.0,
        batch_size: int | None = None,
        momentum: float = 0.9,
        seed: int = 0,
        w0=None,
        b0: float = 0.0,
        history_capacity: int = HISTORY_CAPACITY,
    ) -> None:
        self._X, self._y = _check_data(X, y)
        self._spec = _check_spec(spec)
        self._optimizer = _check_optimizer(optimizer)
        self._lr = _check_lr(lr)
        self._l2 = _check_penalty("l2", l2)
        self._l1 = _check_penalty("l1", l1)
        self._batch_size = _check_batch_size(batch_size)
        self._momentum = _check_momentum(momentum)
        self._seed = _check_seed(seed)
        d = self._X.shape[1]
        self._history = TrainingHistory(d, history_capacity)
        self._diverged = False
        self._status = ""
        self._prepare_data()
        self.reset(w0, b0)

    # -- data and settings ------------------------------------------------------

    def _prepare_data(self) -> None:
        n = self._X.shape[0]
        self._n = n
        self._Xt = np.ascontiguousarray(self._X.T)
        self._loss_fn = LogitLoss(self._y, self._spec)
        self._reset_batches()

    def _reset_batches(self) -> None:
        self._perm = np.empty(0, dtype=np.intp)
        self._perm_pos = 0

    def _reset_optimizer_state(self) -> None:
        self._w_prev: np.ndarray | None = None
        self._b_prev = 0.0
        d = self._X.shape[1]
        self._adam_m = np.zeros(d + 1)
        self._adam_v = np.zeros(d + 1)
        self._adam_t = 0
        self._rng = np.random.default_rng(self._seed)
        self._reset_batches()

    def _clear_divergence(self) -> None:
        if self._diverged:
            self._reset_optimizer_state()
        self._diverged = False
        self._status = ""
        self._arm_watch()

    def _arm_watch(self) -> None:
        """Remember the objective that 'exploding' is measured against."""
        obj = self._cur_loss + self._penalty(self._w)
        self._explode_ref = EXPLOSION_FACTOR * max(obj if math.isfinite(obj) else 1.0, 1.0)

    def reset(self, w=None, b: float = 0.0) -> None:
        """Weights to zero (or w, b), clear history, optimizer state and divergence."""
        d = self._X.shape[1]
        if w is None:
            wa, bb = np.zeros(d), _real("b", b)
        else:
            wa, bb = _check_weights(w, b, d)
        self._w, self._b = wa, bb
        self._steps = 0
        self._diverged = False
        self._status = ""
        self._reset_optimizer_state()
        self._refresh_current()
        self._history.clear()
        self._record()
        self._arm_watch()

    def set_data(self, X, y) -> None:
        """New data (points dragged, added, removed, or a new feature map).

        Weights are kept; when the number of features d changes, the first
        min(d_old, d_new) weights are kept and the rest are zero. Optimizer
        state (momentum, Adam moments, batch order) is reset.
        """
        Xa, ya = _check_data(X, y)
        d_old, d_new = self._X.shape[1], Xa.shape[1]
        self._X, self._y = Xa, ya
        if d_new != d_old:
            w = np.zeros(d_new)
            k = min(d_old, d_new)
            w[:k] = self._w[:k]
            self._w = w
            self._history.resize_features(d_new)
        self._prepare_data()
        self._reset_optimizer_state()
        self._state_changed()

    def set_spec(self, spec: LossSpec) -> None:
        """New loss settings; weights and optimizer state are kept."""
        self._spec = _check_spec(spec)
        self._loss_fn = LogitLoss(self._y, self._spec)
        self._state_changed()

    def set_optimizer(self, name: str) -> None:
        """Switch optimizer (weights kept, optimizer state reset, divergence cleared)."""
        self._optimizer = _check_optimizer(name)
        self._reset_optimizer_state()
        self._clear_divergence()

    def set_weights(self, w, b: float) -> None:
        """Jump to weights (w, b), e.g. dragged on the loss surface.

        Optimizer state is reset and divergence cleared; the step count and
        history go on (the newest record is replaced by the new point).
        """
        wa, bb = _check_weights(w, b, self._X.shape[1])
        with np.errstate(over="ignore", invalid="ignore"):
            ev = self._evaluate(wa, bb)
        if ev is None:
            raise ValueError("w, b give logits too large to evaluate; choose smaller weights")
        self._w, self._b = wa, bb
        self._reset_optimizer_state()
        self._diverged = False
        self._status = ""
        self._state_changed()

    def restore(self, steps: int, history: dict | None = None) -> None:
        """Continue a saved run: set the step count and, optionally, the history.

        ``history`` is a ``TrainingHistory.state_dict()``; its newest record must
        be step ``steps`` at the current weights. Optimizer state is not part of
        it: "gd" and "newton" continue exactly, the others restart their state.
        """
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
            raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
        if history is not None:
            step = np.asarray(history.get("step", ()))
            w = np.asarray(history.get("w", ()), dtype=np.float64)
            b = np.asarray(history.get("b", ()), dtype=np.float64)
            if step.size == 0 or int(step[-1]) != steps:
                raise ValueError(f"the newest history record must be step {steps}")
            if w.ndim != 2 or not (np.array_equal(w[-1], self._w) and b[-1] == self._b):
                raise ValueError("the newest history record must hold the current weights")
            self._history.load_state_dict(history)
        else:
            self._history.clear()
        self._steps = int(steps)
        if history is None:
            self._record()

    def _state_changed(self) -> None:
        self._refresh_current()
        self._record(replace=True)
        self._arm_watch()

    @property
    def spec(self) -> LossSpec:
        return self._spec

    @property
    def optimizer(self) -> str:
        return self._optimizer

    @optimizer.setter
    def optimizer(self, name: str) -> None:
        self.set_optimizer(name)

    @property
    def lr(self) -> float:
        """Learning rate > 0 (unused by Newton). Setting it clears divergence."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check_lr(value)
        self._clear_divergence()

    @property
    def l2(self) -> float:
        """L2 strength >= 0: objective term l2/2 ||w||² (bias unpenalised)."""
        return self._l2

    @l2.setter
    def l2(self, value: float) -> None:
        self._l2 = _check_penalty("l2", value)
        self._record(replace=True)

    @property
    def l1(self) -> float:
        """L1 strength >= 0: objective term l1 ||w||₁ (bias unpenalised)."""
        return self._l1

    @l1.setter
    def l1(self, value: float) -> None:
        self._l1 = _check_penalty("l1", value)
        self._record(replace=True)

    @property
    def batch_size(self) -> int | None:
        """Mini-batch size for sgd/momentum/adam; None = full batch (sgd: 32)."""
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value: int | None) -> None:
        self._batch_size = _check_batch_size(value)
        self._reset_batches()

    @property
    def momentum(self) -> float:
        """Heavy-ball coefficient in [0, 1) of the "momentum" optimizer."""
        return self._momentum

    @momentum.setter
    def momentum(self, value: float) -> None:
        self._momentum = _check_momentum(value)

    @property
    def w(self) -> np.ndarray:
        """Current weights (a copy), shape (d,)."""
        return self._w.copy()

    @property
    def b(self) -> float:
        return self._b

    @property
    def X(self) -> np.ndarray:  # noqa: N802 (the design matrix, as in the maths)
        return self._X

    @property
    def y(self) -> np.ndarray:
        return self._y

    @property
    def n_features(self) -> int:
        return self._X.shape[1]

    @property
    def steps(self) -> int:
        """Steps taken since the last reset."""
        return self._steps

    @property
    def history(self) -> TrainingHistory:
        return self._history

    @property
    def status(self) -> str:
        """Human-readable problem report; "" when training is fine."""
        return self._status

    @property
    def diverged(self) -> bool:
        return self._diverged

    # -- evaluation ---------------------------------------------------------------

    def _penalty(self, w: np.ndarray) -> float:
        out = 0.0
        if self._l2:
            out += 0.5 * self._l2 * float(w @ w)
        if self._l1:
            out += self._l1 * float(np.abs(w).sum())
        return out

    def _loss_grad_z(self, z: np.ndarray, rows=None) -> tuple[float, np.ndarray]:
        """Mean loss and per-sample dL/dz for logits z (of the rows, if given); z is consumed.

        The loss is ``loss_from_logits`` (through LogitLoss, which validates
        the labels once instead of every step), so the trainer, ``--report``
        and every panel show the same numbers, exact to the last digits for
        any logit (no a·softplus(z) − b·z cancellation).
        """
        total, gz = self._loss_fn.loss_sum_and_grad(z, rows, overwrite=True)
        return total / z.shape[0], gz

    def _evaluate(self, w: np.ndarray, b: float) -> tuple[float, np.ndarray, float] | None:
        """(mean loss, dloss/dw, dloss/db) on all data, or None if not finite.

        Non-finite logits (weights far too large for the data) make the loss
        inf or NaN; the caller decides what that means (divergence, or a
        rejected line-search point).
        """
        z = self._X @ w
        z += b
        loss, gz = self._loss_grad_z(z)
        if not math.isfinite(loss):
            return None
        gw = self._Xt @ gz
        gw /= self._n
        return loss, gw, float(np.add.reduce(gz)) / self._n

    def _batch_gradient(
        self, w: np.ndarray, b: float, rows: np.ndarray
    ) -> tuple[np.ndarray, float]:
        Xr = self._X[rows]
        z = Xr @ w + b
        _, gz = self._loss_grad_z(z, rows)
        m = rows.shape[0]
        return (gz @ Xr) / m, float(gz.sum()) / m

    def _refresh_current(self) -> None:
        with np.errstate(over="ignore", invalid="ignore"):
            ev = self._evaluate(self._w, self._b)
        if ev is None:
            # Only new data far outside the old range with enormous weights gets
            # here; start again from zero rather than show a non-finite loss.
            self._w, self._b = np.zeros(self._X.shape[1]), 0.0
            ev = self._evaluate(self._w, self._b)
            assert ev is not None
        self._cur_loss, self._cur_gw, self._cur_gb = ev

    def mean_loss(self, w=None, b=None) -> float:
        """Mean loss in nats under the spec at (w, b) (current if None), penalty excluded."""
        if w is None and b is None:
            return self._cur_loss
        wa, bb = self._weights_or_current(w, b)
        z = self._X @ wa + bb
        if not math.isfinite(float(np.add.reduce(z))):
            # loss_from_logits' own message for logits it cannot evaluate.
            loss_from_logits(z, self._y, self._spec)
        # The same sum as the trainer's own (so mean_loss(w, b) at the current
        # weights is mean_loss() to the last bit).
        return self._loss_fn.loss_sum(z) / self._n

    def objective(self, w=None, b=None) -> float:
        """Mean loss + l2/2 ||w||² + l1 ||w||₁ at (w, b) (current if None)."""
        wa, _ = self._weights_or_current(w, b)
        return self.mean_loss(w, b) + self._penalty(wa)

    def gradient(self, w=None, b=None) -> tuple[np.ndarray, float]:
        """(d objective/dw, d objective/db); the L1 part is l1·sign(w) (0 where w = 0)."""
        if w is None and b is None:
            wa, gw, gb = self._w, self._cur_gw, self._cur_gb
        else:
            wa, bb = self._weights_or_current(w, b)
            z = self._X @ wa + bb
            gz = grad_from_logits(z, self._y, self._spec)
            gw, gb = (self._Xt @ gz) / self._n, float(gz.sum()) / self._n
        out = gw + self._l2 * wa
        if self._l1:
            out += self._l1 * np.sign(wa)
        return out, gb

    def _weights_or_current(self, w, b) -> tuple[np.ndarray, float]:
        wa = self._w if w is None else w
        bb = self._b if b is None else b
        return _check_weights(wa, bb, self._X.shape[1])

    def _stationarity(self, w: np.ndarray, gw: np.ndarray, gb: float) -> float:
        """Norm of the minimum-norm subgradient of the objective (0 at the optimum)."""
        g = gw + self._l2 * w if self._l2 else gw
        if self._l1:
            l1 = self._l1
            g = np.where(
                w != 0.0, g + l1 * np.sign(w), np.sign(g) * np.maximum(np.abs(g) - l1, 0.0)
            )
        return math.sqrt(float(g @ g) + gb * gb)

    def _record(self, replace: bool = False) -> None:
        w = self._w
        loss = self._cur_loss
        args = (
            self._steps,
            loss,
            loss + self._penalty(w),
            self._stationarity(w, self._cur_gw, self._cur_gb),
            math.sqrt(float(w @ w)),
            w,
            self._b,
        )
        if replace:
            self._history.replace_newest(*args)
        else:
            self._history.record(*args)

    # -- training -----------------------------------------------------------------

    def step(self, n: int = 1) -> int:
        """Take up to n optimizer steps; returns how many were taken.

        Fewer than n when training diverges (then ``diverged`` and ``status``
        say so); 0 while diverged.
        """
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"n must be an integer >= 0, got {n!r}")
        if self._diverged:
            return 0
        taken = 0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            for _ in range(int(n)):
                if not self._one_step():
                    break
                taken += 1
        return taken

    def _next_rows(self, batch: int) -> np.ndarray:
        if self._perm_pos + batch > self._perm.shape[0]:
            self._perm = self._rng.permutation(self._n)
            self._perm_pos = 0
        rows = self._perm[self._perm_pos : self._perm_pos + batch]
        self._perm_pos += batch
        return rows

    def _update_gradient(self) -> tuple[np.ndarray, float]:
        """Gradient of the smooth part (loss + L2) for the next update."""
        opt = self._optimizer
        batch = self._batch_size
        if opt == "sgd" and batch is None:
            batch = SGD_DEFAULT_BATCH
        if opt == "gd" or batch is None or batch >= self._n:
            gw, gb = self._cur_gw, self._cur_gb
        else:
            gw, gb = self._batch_gradient(self._w, self._b, self._next_rows(batch))
        if self._l2:
            gw = gw + self._l2 * self._w
        return gw, gb

    def _one_step(self) -> bool:
        w, b = self._w, self._b
        opt = self._optimizer
        if opt == "newton":
            result = self._newton_step()
            if result is None:
                return False
            w_new, b_new, ev = result
        else:
            gw, gb = self._update_gradient()
            lr, l1 = self._lr, self._l1
            if opt == "adam":
                t = self._adam_t + 1
                g = np.append(gw, gb)
                m = _ADAM_BETA1 * self._adam_m + (1.0 - _ADAM_BETA1) * g
                v = _ADAM_BETA2 * self._adam_v + (1.0 - _ADAM_BETA2) * g * g
                step_size = (lr / (1.0 - _ADAM_BETA1**t)) / (
                    np.sqrt(v / (1.0 - _ADAM_BETA2**t)) + _ADAM_EPS
                )
                delta = step_size * m
                w_new = w - delta[:-1]
                b_new = b - float(delta[-1])
                if l1:
                    w_new = _soft_threshold(w_new, l1 * step_size[:-1])
            else:
                w_new = w - lr * gw
                b_new = b - lr * gb
                if opt == "momentum" and self._w_prev is not None:
                    w_new += self._momentum * (w - self._w_prev)
                    b_new += self._momentum * (b - self._b_prev)
                if l1:
                    w_new = _soft_threshold(w_new, lr * l1)
            ev = None
        # One reduction: NaN or inf anywhere (or weights near overflow) shows in the sum.
        if not math.isfinite(float(np.add.reduce(w_new)) + b_new):
            return self._diverge("the weights became infinite")
        if ev is None:
            ev = self._evaluate(w_new, b_new)
            if ev is None:
                return self._diverge("the loss became infinite")
        objective = ev[0] + self._penalty(w_new)
        if not math.isfinite(objective):
            return self._diverge("the loss became infinite")
        if objective > self._explode_ref:
            start = self._explode_ref / EXPLOSION_FACTOR
            return self._diverge(f"the loss exploded to {objective:.3g} (from about {start:.3g})")
        # Commit.
        if opt == "momentum":
            self._w_prev, self._b_prev = w, b
        elif opt == "adam":
            self._adam_m, self._adam_v, self._adam_t = m, v, t
        self._w, self._b = w_new, float(b_new)
        self._cur_loss, self._cur_gw, self._cur_gb = ev
        self._steps += 1
        self._record()
        return True

    def _diverge(self, what: str) -> bool:
        step = self._steps + 1
        if self._optimizer == "newton":
            advice = "press reset"
            setting = "with Newton's method"
        else:
            advice = "lower the learning rate or press reset"
            setting = f"with learning rate {self._lr:g}"
        self._diverged = True
        self._status = f"Diverged at step {step}: {what} {setting} — {advice}"
        return False

    # -- Newton ---------------------------------------------------------------------

    def _newton_step(self) -> tuple[np.ndarray, float, tuple[float, np.ndarray, float]] | None:
        w, b = self._w, self._b
        d = w.shape[0]
        z = self._X @ w + b
        curv = self._loss_fn.curvature(z)
        # Hessian of the smooth part over theta = (w, b).
        H = np.empty((d + 1, d + 1))
        cx = self._Xt * curv  # (d, N)
        H[:d, :d] = cx @ self._X
        H[:d, d] = H[d, :d] = cx.sum(axis=1)
        H[d, d] = curv.sum()
        H /= self._n
        H[np.arange(d), np.arange(d)] += self._l2
        g = np.append(self._cur_gw + self._l2 * w, self._cur_gb)
        # A focal Hessian may be indefinite: use |eigenvalues|, floored.
        lam, V = np.linalg.eigh(0.5 * (H + H.T))
        lam = np.abs(lam)
        lam = np.maximum(lam, max(1e-10 * float(lam.max()), 1e-12))
        theta = np.append(w, b)
        l1 = self._l1
        if l1:
            H_pd = (V * lam) @ V.T
            delta = _prox_newton_direction(H_pd, g, theta, l1, d)
        else:
            delta = -(V @ ((V.T @ g) / lam))
        norm = math.sqrt(float(delta @ delta))
        if not math.isfinite(norm):
            self._diverge("the Newton step became infinite")
            return None
        if norm > NEWTON_MAX_STEP:
            delta *= NEWTON_MAX_STEP / norm
        # Armijo backtracking on the full (composite) objective.
        f0 = self._cur_loss + self._penalty(w)
        decrease = float(g @ delta)
        if l1:
            decrease += l1 * _l1_change(w, delta[:d])
        # The objective is a sum of N rounded terms; a predicted decrease below
        # its rounding error cannot be measured (the Armijo test would reject
        # every step and stall short of the optimum).
        noise = NEWTON_ROUNDING * abs(f0)
        if decrease < 0.0 and -decrease <= noise:
            # Near the optimum Newton's step is trusted on the (sub)gradient it
            # leaves, which is measured to full precision: take the full step
            # if the objective does not rise beyond rounding and the
            # stationarity measure (the history's grad_norm) falls.
            w_c, b_c = w + delta[:d], b + float(delta[d])
            ev = self._evaluate(w_c, b_c)
            if ev is not None and ev[0] + self._penalty(w_c) <= f0 + noise:
                now = self._stationarity(w, self._cur_gw, self._cur_gb)
                if self._stationarity(w_c, ev[1], ev[2]) < now:
                    return w_c, b_c, ev
        elif decrease < 0.0:
            t = 1.0
            for _ in range(40):
                cand = theta + t * delta
                w_c, b_c = cand[:d], float(cand[d])
                ev = self._evaluate(w_c, b_c)
                if ev is not None:
                    f = ev[0] + self._penalty(w_c)
                    if f <= f0 + 1e-4 * t * decrease:
                        return w_c, b_c, ev
                t *= 0.5
                if -t * decrease <= noise:
                    break  # the rest of the search is below rounding
        # No decrease possible (converged to rounding): stay put.
        return w.copy(), b, (self._cur_loss, self._cur_gw, self._cur_gb)


def _l1_change(w: np.ndarray, step: np.ndarray) -> float:
    """||w + step||₁ − ||w||₁ without cancellation.

    Where a weight keeps its sign the change is sign(w)·step exactly; the
    difference of the two norms would round to ~1e-16·||w||₁, far more than
    the change near the optimum (and of either sign).
    """
    moved = w + step
    same = np.sign(moved) == np.sign(w)
    return float(np.where(same, np.sign(w) * step, np.abs(moved) - np.abs(w)).sum())


def _prox_newton_direction(
    H: np.ndarray,
    g: np.ndarray,
    theta: np.ndarray,
    l1: float,
    d: int,
    sweeps: int = 200,
) -> np.ndarray:
    """argmin over delta of g·delta + ½ delta'H delta + l1 ||(theta + delta)[:d]||₁.

    Cyclic coordinate descent on u = theta + delta (the last coordinate, the
    bias, is unpenalised); H must be positive definite. Started at u = theta
    and monotone in the model, so even a truncated solve is a descent
    direction.
    """
    u = theta.copy()
    r = g.copy()  # gradient of the quadratic at u
    diag = np.diag(H).copy()
    for _ in range(sweeps):
        biggest = 0.0
        for j in range(d + 1):
            target = u[j] - r[j] / diag[j]
            if j < d:
                thr = l1 / diag[j]
                target = math.copysign(max(abs(target) - thr, 0.0), target)
            change = target - u[j]
            if change != 0.0:
                u[j] = target
                r += H[:, j] * change
                biggest = max(biggest, abs(change))
        if biggest <= 1e-12 * (1.0 + float(np.abs(u).max())):
            break
    return u - theta


# ----------------------------------------------------------------------------
# One-shot fit


@dataclass
class Fit:
    """Result of ``fit_logistic``: weights w (d,), bias b, and the trainer's history."""

    w: np.ndarray
    b: float
    history: TrainingHistory
    steps: int = 0
    converged: bool = False
    status: str = ""
    objective: float = field(default=float("nan"))


def fit_logistic(
    X,
    y,
    spec: LossSpec = DEFAULT_SPEC,
    *,
    l2: float = 0.0,
    l1: float = 0.0,
    optimizer: str = "newton",
    lr: float = 0.1,
    steps: int = 1000,
    batch_size: int | None = None,
    seed: int = 0,
    tol: float = 1e-8,
    momentum: float = 0.9,
    w0: Sequence[float] | None = None,
    b0: float = 0.0,
) -> Fit:
    """Train to convergence (or ``steps`` steps) and return a Fit.

    X: features (N, d); y: labels in [0, 1]. Stops early when the norm of the
    minimum-norm subgradient of the objective falls to ``tol`` or below
    (``converged`` True). With l2 = λ > 0 the optimum is scikit-learn's
    ``LogisticRegression(C=1/(λ N))``. On separable data with no penalty
    there is no optimum: the weights keep growing until ``steps`` runs out.
    """
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    tol_f = _real("tol", tol)
    if tol_f < 0:
        raise ValueError(f"tol must be >= 0, got {tol!r}")
    trainer = Trainer(
        X,
        y,
        spec,
        optimizer=optimizer,
        lr=lr,
        l2=l2,
        l1=l1,
        batch_size=batch_size,
        momentum=momentum,
        seed=seed,
        w0=w0,
        b0=b0,
    )
    grad_norm = trainer.history.grad_norm
    converged = bool(grad_norm[-1] <= tol_f)
    while not converged and trainer.steps < steps:
        if trainer.step(1) == 0:
            break
        converged = bool(trainer.history.grad_norm[-1] <= tol_f)
    return Fit(
        w=trainer.w,
        b=trainer.b,
        history=trainer.history,
        steps=trainer.steps,
        converged=converged,
        status=trainer.status,
        objective=trainer.objective(),
    )
