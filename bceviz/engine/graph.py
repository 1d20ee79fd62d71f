"""BCE on a graph network's nodes: a two-layer GCN on a seeded lending network, its exact gradient,
its training, a stable layout and the baseline that ignores the graph.

Pure NumPy, float64. Losses are in nats. The pieces:

* :func:`normalized_adjacency` -- ``Â = D̂^-1/2 (A + I) D̂^-1/2`` with ``D̂`` the
  row sums of ``A + I``: torch_geometric's ``gcn_norm`` (self-loops of weight
  1, edge weights allowed), written as a dense matrix.
* :func:`gcn_logits` -- ``H = relu(Â X W1 + b1)``, ``logits = Â H w2 + b2``: two
  torch_geometric ``GCNConv`` layers with a ReLU between them, the second with
  one output per node.
* :func:`gcn_loss` / :func:`gcn_grad` -- the mean of ``loss_from_logits`` over the
  nodes where ``mask`` is True (the firms whose outcome is known) and its exact
  gradient with respect to every parameter (``W1, b1, w2, b2``).
* :class:`GCNTrainer` -- full-batch Adam or gradient descent on that loss plus
  ``l2/2 (||W1||² + ||w2||²)`` (biases unpenalised), with a bounded history.
* :func:`make_lending_network` -- the seeded synthetic lending network the lab
  shows (the generating process is stated in its docstring), and
  :func:`simulate_cascade`, the contagion rule that labels it.
* :func:`network_layout` -- a deterministic spectral + force-directed layout.
* :func:`fit_baseline` -- logistic regression on each firm's own features.

Edge cases, stated once:

* ``A`` must be square, finite, symmetric, non-negative and have a zero
  diagonal (no self-loops: the normalisation adds them); anything else is a
  ``ValueError`` naming ``A``. An isolated firm (a zero row) keeps only its
  self-loop: its row of ``Â`` is the unit vector, so its prediction depends on
  its own features alone. Every ``D̂`` entry is at least 1, so there is never
  a division by zero.
* An all-False ``mask`` has no loss: :func:`gcn_loss` returns 0.0 and
  :func:`gcn_grad` zeros (the gradient of an empty sum), where PyTorch's mean
  over no elements would give NaN.
* The ReLU's derivative at exactly 0 is taken as 0, as PyTorch does.
* Two layers hear two hops: a change of firm i's features or of one exposure
  can only move the logits of firms at most two links away from it.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np

from bceviz.engine.logistic import fit_logistic
from bceviz.engine.losses import LogitLoss, LossSpec, grad_from_logits, loss_from_logits

__all__ = [
    "EXPOSURE_UNIT",
    "FEATURE_NAMES",
    "LEVERAGE_RANGE",
    "LIQUIDITY_RANGE",
    "SIZE_RANGE",
    "EXPOSURE_MAX",
    "N_FIRMS_RANGE",
    "GRAPH_OPTIMIZERS",
    "PARAM_KEYS",
    "GCNTrainer",
    "LendingNetwork",
    "Baseline",
    "validate_adjacency",
    "normalized_adjacency",
    "gcn_logits",
    "gcn_loss",
    "gcn_grad",
    "init_params",
    "firm_features",
    "make_lending_network",
    "simulate_cascade",
    "split_known",
    "network_layout",
    "hop_distances",
    "fit_baseline",
]

#: Parameter names of the two-layer GCN, in order.
PARAM_KEYS = ("W1", "b1", "w2", "b2")
GRAPH_OPTIMIZERS = ("adam", "gd")

#: Debt / total assets (a ratio; 0.6 means 60 % of assets are financed by debt).
LEVERAGE_RANGE = (0.05, 0.95)
#: Liquid assets / short-term liabilities (a ratio; below 1 the firm cannot cover its bills).
LIQUIDITY_RANGE = (0.1, 3.0)
#: Total assets in € million.
SIZE_RANGE = (5.0, 20000.0)
#: Largest exposure between two firms the lab accepts, € million.
EXPOSURE_MAX = 500.0
#: Firms in a network.
N_FIRMS_RANGE = (15, 40)
#: The graph model reads exposures in units of €30 m: A = exposures / EXPOSURE_UNIT, so a
#: large exposure weighs about as much as a firm's own self-loop (weight 1).
EXPOSURE_UNIT = 30.0

#: The model's input columns (fixed scalings, not statistics of the data, so dragging
#: one firm never changes what a weight means):
#: (leverage - 0.6) / 0.15, (liquidity - 1) / 0.5, (log10(size / €1 m) - 2.5) / 0.5.
FEATURE_NAMES = ("leverage", "liquidity", "log size")
_FEATURE_CENTER = np.array([0.6, 1.0, 2.5])
_FEATURE_SCALE = np.array([0.15, 0.5, 0.5])

#: Share of an exposure lost when the counterparty defaults (loss given default).
LGD = 0.6

#: Records a trainer's history keeps before thinning (keeps every other one, doubles stride).
HISTORY_CAPACITY = 4096


# ----------------------------------------------------------------------------- validation


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return out


def _int(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) \
            or not lo <= int(value) <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


def _matrix(name: str, value, ndim: int) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array") from None
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    arr = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (no NaN or inf)")
    return arr


def validate_adjacency(A, name: str = "A") -> np.ndarray:
    """``A`` as float64 (n, n), or ValueError unless it is a valid exposure matrix.

    Valid: square with n >= 1, finite, non-negative, symmetric (to 1e-12
    relative to its largest entry) and with a zero diagonal.
    """
    arr = _matrix(name, A, 2)
    n = arr.shape[0]
    if n == 0 or arr.shape != (n, n):
        raise ValueError(f"{name} must be a square (n, n) matrix with n >= 1, got shape {arr.shape}")
    if np.any(arr < 0.0):
        raise ValueError(f"{name} must be non-negative (exposure weights >= 0)")
    if np.any(np.diag(arr) != 0.0):
        raise ValueError(f"{name} must have a zero diagonal (no self-loops; they are added)")
    scale = float(arr.max()) if arr.size else 0.0
    if not np.allclose(arr, arr.T, rtol=0.0, atol=1e-12 * max(scale, 1.0)):
        raise ValueError(f"{name} must be symmetric (A[i, j] == A[j, i])")
    return arr


def _check_a_hat(A_hat) -> np.ndarray:
    arr = _matrix("A_hat", A_hat, 2)
    n = arr.shape[0]
    if n == 0 or arr.shape != (n, n):
        raise ValueError(f"A_hat must be a square (n, n) matrix with n >= 1, got shape {arr.shape}")
    return arr


def _check_x(X, n: int) -> np.ndarray:
    arr = _matrix("X", X, 2)
    if arr.shape[0] != n or arr.shape[1] == 0:
        raise ValueError(f"X must have shape ({n}, d) with d >= 1 to match A_hat, got {arr.shape}")
    return arr


def _check_params(params, d: int) -> dict[str, np.ndarray]:
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a dict with keys {', '.join(PARAM_KEYS)}")
    missing = [k for k in PARAM_KEYS if k not in params]
    extra = sorted(set(params) - set(PARAM_KEYS))
    if missing or extra:
        raise ValueError(f"params must have exactly the keys {', '.join(PARAM_KEYS)}"
                         f" (missing {missing}, unknown {extra})")
    W1 = _matrix("params['W1']", params["W1"], 2)
    if W1.shape[0] != d or W1.shape[1] == 0:
        raise ValueError(f"params['W1'] must have shape ({d}, h) with h >= 1, got {W1.shape}")
    h = W1.shape[1]
    b1 = _matrix("params['b1']", params["b1"], 1)
    w2 = _matrix("params['w2']", params["w2"], 1)
    if b1.shape != (h,):
        raise ValueError(f"params['b1'] must have shape ({h},), got {b1.shape}")
    if w2.shape != (h,):
        raise ValueError(f"params['w2'] must have shape ({h},), got {w2.shape}")
    b2 = _matrix("params['b2']", params["b2"], np.ndim(params["b2"]))
    if b2.size != 1 or b2.ndim > 1:
        raise ValueError(f"params['b2'] must be a scalar (0-d array or float), got shape {b2.shape}")
    return {"W1": W1, "b1": b1, "w2": w2, "b2": np.asarray(b2.reshape(()))}


def _check_mask(mask, n: int) -> np.ndarray:
    try:
        arr = np.asarray(mask)
    except (TypeError, ValueError):
        raise ValueError("mask must be a boolean array") from None
    if arr.shape != (n,):
        raise ValueError(f"mask must have shape ({n},), got {arr.shape}")
    if arr.dtype != np.bool_:
        if arr.dtype.kind not in "biu" or not np.all((arr == 0) | (arr == 1)):
            raise ValueError("mask must be boolean (True where the outcome is known)")
        arr = arr.astype(bool)
    return arr


def _check_labels(y, n: int) -> np.ndarray:
    arr = _matrix("y", y, 1)
    if arr.shape != (n,):
        raise ValueError(f"y must have shape ({n},), got {arr.shape}")
    if not np.all((arr >= 0.0) & (arr <= 1.0)):
        raise ValueError("labels y must be in [0, 1]")
    return arr


def _check_spec(spec) -> LossSpec:
    if spec is None:
        return LossSpec()
    if not isinstance(spec, LossSpec):
        raise ValueError(f"spec must be a LossSpec, got {type(spec).__name__}")
    return spec


# ----------------------------------------------------------------------------- the GCN


def normalized_adjacency(A) -> np.ndarray:
    """``D̂^-1/2 (A + I) D̂^-1/2`` with ``D̂ = diag(row sums of A + I)``, shape (n, n).

    ``A``: symmetric exposure weights (>= 0, zero diagonal; see
    :func:`validate_adjacency`). The result is symmetric, its entries are in
    [0, 1], its diagonal is ``1 / d̂_i`` and its eigenvalues lie in (-1, 1]. An
    isolated node's row is the unit vector.
    """
    arr = validate_adjacency(A)
    a_tilde = arr + np.eye(arr.shape[0])
    inv_sqrt = 1.0 / np.sqrt(a_tilde.sum(axis=1))  # every row sum >= 1
    return inv_sqrt[:, None] * a_tilde * inv_sqrt[None, :]


@dataclass
class _Forward:
    ax: np.ndarray  # Â X (n, d)
    pre: np.ndarray  # Â X W1 + b1 (n, h)
    hidden: np.ndarray  # relu(pre)
    logits: np.ndarray  # (n,)


def _forward(a_hat: np.ndarray, ax: np.ndarray, p: Mapping[str, np.ndarray]) -> _Forward:
    pre = ax @ p["W1"] + p["b1"]
    hidden = np.maximum(pre, 0.0)
    logits = a_hat @ (hidden @ p["w2"]) + float(p["b2"])
    return _Forward(ax, pre, hidden, logits)


def _backward(a_hat: np.ndarray, f: _Forward, p: Mapping[str, np.ndarray],
              g_logits: np.ndarray) -> dict[str, np.ndarray]:
    """Gradients of sum(g_logits * logits) with respect to each parameter."""
    g_hw = a_hat.T @ g_logits  # d/d(H w2)
    d_pre = np.outer(g_hw, p["w2"])
    d_pre *= f.pre > 0.0  # ReLU'(0) = 0, as PyTorch
    return {
        "W1": f.ax.T @ d_pre,
        "b1": d_pre.sum(axis=0),
        "w2": f.hidden.T @ g_hw,
        "b2": np.asarray(g_logits.sum()),
    }


def _masked_loss_grad(logits: np.ndarray, y: np.ndarray, mask: np.ndarray,
                      spec: LossSpec) -> tuple[float, np.ndarray]:
    """Mean loss over the masked nodes and d(mean)/d(logits) for every node (0 off the mask)."""
    g = np.zeros_like(logits)
    m = int(np.count_nonzero(mask))
    if m == 0:
        return 0.0, g
    z, t = logits[mask], y[mask]
    loss = float(loss_from_logits(z, t, spec).mean())
    g[mask] = grad_from_logits(z, t, spec) / m
    return loss, g


def gcn_logits(A_hat, X, params) -> np.ndarray:
    """Per-node logits (n,) of the two-layer GCN: ``Â relu(Â X W1 + b1) w2 + b2``.

    ``A_hat``: (n, n), normally from :func:`normalized_adjacency`; ``X``: node
    features (n, d); ``params``: ``W1`` (d, h), ``b1`` (h,), ``w2`` (h,), ``b2``
    (a 0-d array or float). P(default) is ``sigmoid(logits)``.
    """
    a_hat = _check_a_hat(A_hat)
    x = _check_x(X, a_hat.shape[0])
    p = _check_params(params, x.shape[1])
    return _forward(a_hat, a_hat @ x, p).logits


def gcn_loss(A_hat, X, y, mask, params, *, spec: Optional[LossSpec] = None) -> float:
    """Mean ``loss_from_logits(logits, y, spec)`` over the nodes where ``mask`` is True, in nats.

    0.0 when no node is masked. ``y`` in [0, 1] for every node (the unmasked
    ones are not read). Stable for any finite logit.
    """
    a_hat = _check_a_hat(A_hat)
    n = a_hat.shape[0]
    x = _check_x(X, n)
    p = _check_params(params, x.shape[1])
    labels, m, spec = _check_labels(y, n), _check_mask(mask, n), _check_spec(spec)
    return _masked_loss_grad(_forward(a_hat, a_hat @ x, p).logits, labels, m, spec)[0]


def gcn_grad(A_hat, X, y, mask, params, *, spec: Optional[LossSpec] = None) -> dict[str, np.ndarray]:
    """Exact gradient of :func:`gcn_loss` with respect to ``W1, b1, w2, b2``.

    Returns a dict with the same keys and shapes as ``params`` (``b2`` a 0-d
    array). All zeros when no node is masked.
    """
    a_hat = _check_a_hat(A_hat)
    n = a_hat.shape[0]
    x = _check_x(X, n)
    p = _check_params(params, x.shape[1])
    labels, m, spec = _check_labels(y, n), _check_mask(mask, n), _check_spec(spec)
    f = _forward(a_hat, a_hat @ x, p)
    _loss, g = _masked_loss_grad(f.logits, labels, m, spec)
    return _backward(a_hat, f, p, g)


def _pack(params: Mapping[str, np.ndarray]) -> np.ndarray:
    """W1, b1, w2, b2 as one flat vector (in that order; W1 row-major)."""
    return np.concatenate([np.asarray(params["W1"], dtype=np.float64).ravel(),
                           np.asarray(params["b1"], dtype=np.float64).ravel(),
                           np.asarray(params["w2"], dtype=np.float64).ravel(),
                           np.asarray(params["b2"], dtype=np.float64).reshape(1)])


def _unpack(flat: np.ndarray, d: int, h: int) -> dict[str, np.ndarray]:
    """Views of :func:`_pack`'s vector with the parameters' shapes (b2 a 0-d view)."""
    k = d * h
    return {"W1": flat[:k].reshape(d, h), "b1": flat[k:k + h], "w2": flat[k + h:k + 2 * h],
            "b2": flat[k + 2 * h:].reshape(())}


def init_params(d: int, hidden: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Glorot-uniform weights (torch_geometric's ``GCNConv`` default) and zero biases, seeded."""
    d = _int("d", d, 1, 1000)
    hidden = _int("hidden", hidden, 1, 1000)
    rng = np.random.default_rng(_int("seed", seed, 0, 2**63 - 1))
    lim1 = math.sqrt(6.0 / (d + hidden))
    lim2 = math.sqrt(6.0 / (hidden + 1))
    return {
        "W1": rng.uniform(-lim1, lim1, size=(d, hidden)),
        "b1": np.zeros(hidden),
        "w2": rng.uniform(-lim2, lim2, size=hidden),
        "b2": np.asarray(0.0),
    }


# ----------------------------------------------------------------------------- training


class TrainerHistory:
    """Bounded record of training, oldest first: ``step``, ``loss`` (masked mean, nats),
    ``objective`` (loss + L2 term) and ``heldout_loss`` (plain mean BCE over the unmasked
    nodes, NaN when every node is masked).

    A step is kept if it is a multiple of ``stride`` (1 at first); when the
    storage is full only the multiples of 2·stride stay and the stride doubles,
    so the kept steps stay evenly spaced. The newest step is always present
    (in a provisional slot the next record replaces unless it is due). Recording
    the same step twice overwrites it.
    """

    def __init__(self, capacity: int = HISTORY_CAPACITY) -> None:
        self.capacity = _int("capacity", capacity, 4, 10**7)
        self._data = np.zeros((self.capacity, 4))
        self.clear()

    def clear(self) -> None:
        self._count, self._stride, self._provisional = 0, 1, False

    def record(self, step: int, loss: float, objective: float, heldout: float) -> None:
        if self._count and self._data[self._count - 1, 0] == step:
            self._data[self._count - 1] = (step, loss, objective, heldout)
            return
        if self._provisional:
            self._count -= 1
        if self._count == self.capacity:
            rows = self._data[: self._count]
            kept = rows[rows[:, 0] % (2 * self._stride) == 0]
            self._data[: kept.shape[0]] = kept
            self._count = kept.shape[0]
            self._stride *= 2
        self._data[self._count] = (step, loss, objective, heldout)
        self._count += 1
        self._provisional = step % self._stride != 0

    def __len__(self) -> int:
        return self._count

    @property
    def stride(self) -> int:
        return self._stride

    @property
    def step(self) -> np.ndarray:
        return self._data[: self._count, 0]

    @property
    def loss(self) -> np.ndarray:
        return self._data[: self._count, 1]

    @property
    def objective(self) -> np.ndarray:
        return self._data[: self._count, 2]

    @property
    def heldout_loss(self) -> np.ndarray:
        return self._data[: self._count, 3]

    def state_dict(self) -> dict:
        """JSON-safe rows (a NaN held-out loss is stored as None)."""
        rows = [[float(v) if math.isfinite(v) else None for v in row]
                for row in self._data[: self._count].tolist()]
        return {"rows": rows, "stride": self._stride, "provisional": self._provisional}

    def load_state_dict(self, state: dict) -> None:
        raw = state["rows"]
        if not isinstance(raw, list):
            raise ValueError("rows must be a list")
        rows = np.array([[math.nan if v is None else v for v in row] for row in raw],
                        dtype=np.float64).reshape(-1, 4)
        if rows.shape[0] > self.capacity or not np.all(np.isfinite(rows[:, :3])):
            raise ValueError("rows must be finite (step, loss, objective) and at most "
                             f"{self.capacity} of them")
        stride = _int("stride", state["stride"], 1, 2**62)
        self._data[: rows.shape[0]] = rows
        self._count = rows.shape[0]
        self._stride = stride
        self._provisional = bool(state["provisional"])


class GCNTrainer:
    """Full-batch training of the two-layer GCN with masked BCE, one step at a time.

    Objective: :func:`gcn_loss` (mean over the known nodes) plus
    ``l2/2 (||W1||² + ||w2||²)`` (biases unpenalised). Optimizers: ``"adam"``
    (β = 0.9, 0.999, ε = 1e-8, bias-corrected, as ``torch.optim.Adam``) and
    ``"gd"`` (plain gradient descent). ``set_data`` swaps the graph, features,
    labels or mask and keeps the weights and the optimizer's moments, so a
    drag during training does not restart it. ``Â X`` is cached per data
    change; a step costs a forward and a backward pass on (n, h) matrices.
    A non-finite objective or weight stops the trainer (``diverged``) and
    puts the last finite weights back.
    """

    def __init__(self, A_hat, X, y, mask, *, hidden: int = 8, spec: Optional[LossSpec] = None,
                 optimizer: str = "adam", lr: float = 0.03, l2: float = 1e-3, seed: int = 0) -> None:
        self._a_hat = _check_a_hat(A_hat)
        n = self._a_hat.shape[0]
        self._x = _check_x(X, n)
        self._y = _check_labels(y, n)
        self._mask = _check_mask(mask, n)
        self._ax = self._a_hat @ self._x
        self.hidden = _int("hidden", hidden, 1, 256)
        self.spec = _check_spec(spec)
        self._prepare_losses()
        self.optimizer = self._check_optimizer(optimizer)
        self.lr = self._check_lr(lr)
        self.l2 = self._check_l2(l2)
        self.seed = _int("seed", seed, 0, 2**63 - 1)
        self.history = TrainerHistory()
        #: 1 on the weights L2 penalises (W1, w2), 0 on the biases, in the flat layout.
        self._decay: Optional[np.ndarray] = None
        self.reset()

    # -- validation -------------------------------------------------------------
    @staticmethod
    def _check_optimizer(name) -> str:
        if name not in GRAPH_OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(GRAPH_OPTIMIZERS)}, got {name!r}")
        return str(name)

    @staticmethod
    def _check_lr(lr) -> float:
        out = _real("lr", lr)
        if not 0.0 < out <= 10.0:
            raise ValueError(f"lr (learning rate) must be in (0, 10], got {lr!r}")
        return out

    @staticmethod
    def _check_l2(l2) -> float:
        out = _real("l2", l2)
        if not 0.0 <= out <= 100.0:
            raise ValueError(f"l2 must be in [0, 100], got {l2!r}")
        return out

    # -- state --------------------------------------------------------------------
    def reset(self, seed: Optional[int] = None) -> None:
        """Fresh seeded weights, zero moments, step 0."""
        if seed is not None:
            self.seed = _int("seed", seed, 0, 2**63 - 1)
        self._set_flat(_pack(init_params(self._x.shape[1], self.hidden, self.seed)))
        self._m = np.zeros_like(self._flat)
        self._v = np.zeros_like(self._flat)
        self.steps = 0
        self.diverged = False
        self.status = ""
        self.history.clear()
        self._evaluate_and_record()

    def set_data(self, A_hat=None, X=None, y=None, mask=None) -> None:
        """Replace any of the graph, features, labels and mask (validated together first)."""
        a_hat = self._a_hat if A_hat is None else _check_a_hat(A_hat)
        n = a_hat.shape[0]
        x = self._x if X is None else _check_x(X, n)
        if x.shape != (n, self._x.shape[1]):
            raise ValueError(f"X must have shape ({n}, {self._x.shape[1]}), got {x.shape}")
        labels = self._y if y is None else _check_labels(y, n)
        m = self._mask if mask is None else _check_mask(mask, n)
        if labels.shape != (n,) or m.shape != (n,):
            raise ValueError("y and mask must have one entry per node of A_hat")
        self._a_hat, self._x, self._y, self._mask = a_hat, x, labels, m
        self._ax = a_hat @ x
        if y is not None or mask is not None:
            self._prepare_losses()
        self.diverged = False
        self.status = ""

    def set_spec(self, spec: LossSpec) -> None:
        self.spec = _check_spec(spec)
        self._prepare_losses()

    def _prepare_losses(self) -> None:
        """The known and the hidden nodes' losses, validated once (a step validates nothing)."""
        self._known_idx = np.flatnonzero(self._mask)
        self._hidden_idx = np.flatnonzero(~self._mask)
        self._train_loss = LogitLoss(self._y[self._known_idx], self.spec)
        self._heldout_loss = LogitLoss(self._y[self._hidden_idx])

    def _loss_and_grad(self, logits: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean training loss and its gradient in every node's logit (0 off the mask)."""
        g = np.zeros_like(logits)
        m = self._known_idx.size
        if m == 0:
            return 0.0, g
        total, grad = self._train_loss.loss_sum_and_grad(logits[self._known_idx])
        g[self._known_idx] = grad / m
        return total / m, g

    def set_lr(self, lr: float) -> None:
        self.lr = self._check_lr(lr)

    def set_l2(self, l2: float) -> None:
        self.l2 = self._check_l2(l2)

    def set_optimizer(self, name: str) -> None:
        name = self._check_optimizer(name)
        if name != self.optimizer:
            self.optimizer = name
            self._m = np.zeros_like(self._flat)
            self._v = np.zeros_like(self._flat)

    @property
    def mask(self) -> np.ndarray:
        return self._mask

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The weights W1 (d, h), b1 (h,), w2 (h,), b2 () — views of one flat vector, valid
        until the next step (copy to keep)."""
        return self._params

    def _set_flat(self, flat: np.ndarray) -> None:
        self._flat = flat
        self._params = _unpack(flat, self._x.shape[1], self.hidden)
        if self._decay is None or self._decay.shape != flat.shape:
            decay = _unpack(np.zeros_like(flat), self._x.shape[1], self.hidden)
            decay["W1"][...] = 1.0
            decay["w2"][...] = 1.0
            self._decay = _pack(decay)

    def logits(self) -> np.ndarray:
        """Current logits of every node (n,)."""
        return _forward(self._a_hat, self._ax, self.params).logits

    def logits_for(self, A_hat: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Logits the current weights give on another graph or other features (what-if)."""
        return _forward(A_hat, A_hat @ X, self.params).logits

    def _penalty(self) -> float:
        if self.l2 == 0.0:
            return 0.0
        weights = self._flat * self._decay
        return 0.5 * self.l2 * float(weights @ weights)

    def _heldout(self, logits: np.ndarray) -> float:
        k = self._hidden_idx.size
        if k == 0:
            return math.nan
        return self._heldout_loss.loss_sum(logits[self._hidden_idx]) / k

    def _evaluate_and_record(self) -> None:
        with np.errstate(over="ignore", invalid="ignore"):
            logits = self.logits()
        if not np.all(np.isfinite(logits)):
            self.loss = self.objective = math.inf
            self._diverge()
            return
        loss, _g = self._loss_and_grad(logits)
        self.loss = loss
        self.objective = loss + self._penalty()
        self.history.record(self.steps, loss, self.objective, self._heldout(logits))

    def state_dict(self) -> dict:
        """JSON-safe weights, moments, step count and history."""
        def conv(d):
            return {k: np.asarray(v).tolist() for k, v in d.items()}
        d, h = self._x.shape[1], self.hidden
        return {"params": conv(self.params), "m": conv(_unpack(self._m, d, h)),
                "v": conv(_unpack(self._v, d, h)), "steps": self.steps,
                "history": self.history.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict` output (validated first; ValueError names the field)."""
        d = self._x.shape[1]
        try:
            params = _check_params(state["params"], d)
            m = _check_params(state["m"], d)
            v = _check_params(state["v"], d)
            steps = _int("steps", state["steps"], 0, 2**62)
        except KeyError as exc:
            raise ValueError(f"trainer state lacks {exc.args[0]!r}") from None
        if params["W1"].shape[1] != self.hidden or m["W1"].shape != params["W1"].shape \
                or v["W1"].shape != params["W1"].shape:
            raise ValueError(f"params['W1'] must have shape ({d}, {self.hidden})")
        if any(np.any(v[k] < 0) for k in PARAM_KEYS):
            raise ValueError("Adam's second moments v must be >= 0")
        history = TrainerHistory()
        try:
            history.load_state_dict(state["history"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"history: {exc}") from None
        self._set_flat(_pack(params))
        self._m, self._v, self.steps = _pack(m), _pack(v), steps
        self.history = history
        self.diverged, self.status = False, ""
        self.loss = self._loss_and_grad(self.logits())[0]
        self.objective = self.loss + self._penalty()

    # -- stepping -------------------------------------------------------------------
    def step(self, n: int = 1) -> int:
        """Take up to ``n`` optimizer steps; returns how many were taken (0 when diverged
        or when no node is masked)."""
        n = _int("n", n, 0, 2**62)
        if self.diverged or not self._mask.any():
            return 0
        done = 0
        a_hat, ax = self._a_hat, self._ax
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        unit_decay = self._decay if self._decay is not None else np.zeros_like(self._flat)
        decay = unit_decay * self.l2
        for _ in range(n):
            p = self.params
            with np.errstate(over="ignore", invalid="ignore"):
                f = _forward(a_hat, ax, p)
            if not np.all(np.isfinite(f.logits)):
                self._diverge()
                break
            loss, g_logits = self._loss_and_grad(f.logits)
            flat = self._flat
            # The forward pass is at the weights of step ``self.steps``: record it for free.
            weights = flat * unit_decay
            penalty = 0.5 * self.l2 * float(weights @ weights)
            self.history.record(self.steps, loss, loss + penalty, self._heldout(f.logits))
            grads = _backward(a_hat, f, p, g_logits)
            grad = np.concatenate([grads["W1"].ravel(), grads["b1"], grads["w2"],
                                   grads["b2"].reshape(1)])
            if self.l2:
                grad += decay * flat
            if self.optimizer == "adam":
                t = self.steps + 1
                m_new = self._m * beta1 + (1.0 - beta1) * grad
                v_new = self._v * beta2 + (1.0 - beta2) * (grad * grad)
                step = (m_new / (1.0 - beta1**t)) / (np.sqrt(v_new / (1.0 - beta2**t)) + eps)
                new = flat - self.lr * step
            else:
                m_new, v_new = self._m, self._v
                new = flat - self.lr * grad
            with np.errstate(over="ignore", invalid="ignore"):
                finite = math.isfinite(float(new.sum())) and math.isfinite(loss)
            if not finite:
                self._diverge()
                break
            self._set_flat(new)
            self._m, self._v = m_new, v_new
            self.steps += 1
            done += 1
        if done:
            self._evaluate_and_record()
        return done

    def _diverge(self) -> None:
        self.diverged = True
        self.status = (f"training diverged at step {self.steps + 1} (lr {self.lr:g} too large?);"
                       " the last finite weights are kept")


# ----------------------------------------------------------------------------- the network


def firm_features(leverage, liquidity, size) -> np.ndarray:
    """The model's input (n, 3) from firms' leverage, liquidity and size (€ million).

    Fixed scalings: ``(leverage - 0.6) / 0.15``, ``(liquidity - 1) / 0.5``,
    ``(log10(size) - 2.5) / 0.5``; size must be > 0.
    """
    lev = _matrix("leverage", leverage, 1)
    liq = _matrix("liquidity", liquidity, 1)
    sz = _matrix("size", size, 1)
    if not lev.shape == liq.shape == sz.shape:
        raise ValueError(f"leverage, liquidity and size must have the same length, got "
                         f"{lev.shape}, {liq.shape}, {sz.shape}")
    if np.any(sz <= 0):
        raise ValueError("size (total assets, € million) must be > 0")
    raw = np.column_stack([lev, liq, np.log10(sz)])
    return (raw - _FEATURE_CENTER) / _FEATURE_SCALE


@dataclass(frozen=True)
class LendingNetwork:
    """A lending network and its history of defaults (illustrative, synthetic).

    ``leverage`` (n,): debt / total assets; ``liquidity`` (n,): liquid assets /
    short-term liabilities; ``size`` (n,): total assets, € million;
    ``exposures`` (n, n): bilateral lending between two firms, € million
    (symmetric, zero diagonal); ``cushion`` (n,): the unobserved capital
    cushion factor; ``initially_distressed`` (n,) bool: the firms
    that failed first; ``default_round`` (n,) int: 0 for those, k >= 1 for a
    firm that failed in round k of the cascade, -1 for a survivor;
    ``defaulted`` (n,) float 0/1; ``params``: the generating parameters.
    """

    leverage: np.ndarray
    liquidity: np.ndarray
    size: np.ndarray
    exposures: np.ndarray
    cushion: np.ndarray
    initially_distressed: np.ndarray
    default_round: np.ndarray
    params: dict

    @property
    def n(self) -> int:
        return int(self.leverage.shape[0])

    @property
    def defaulted(self) -> np.ndarray:
        return (self.default_round >= 0).astype(np.float64)


def simulate_cascade(exposures, cushion, initially_distressed, *, resilience: float = 0.25,
                     lgd: float = LGD, max_rounds: Optional[int] = None) -> np.ndarray:
    """Default round of each firm (0 initial, k >= 1 in round k, -1 survives).

    Rule (a weighted threshold cascade, as in Watts' model of global cascades):
    a firm's interbank book is the sum of its exposures; in each round a
    surviving firm loses ``lgd`` times the share of that book owed by partners
    that have failed so far, and it fails when that loss reaches its
    threshold ``resilience × cushion`` (``cushion`` > 0 per firm). A firm with
    no exposures never fails by contagion. Rounds repeat until nobody new
    fails, or for at most ``max_rounds`` rounds (None: until it stops).
    """
    A = validate_adjacency(exposures, "exposures")
    n = A.shape[0]
    cush = _matrix("cushion", cushion, 1)
    if cush.shape != (n,) or np.any(cush <= 0):
        raise ValueError(f"cushion must have shape ({n},) and be > 0")
    start = _check_mask(initially_distressed, n)
    res = _real("resilience", resilience)
    if res <= 0:
        raise ValueError(f"resilience must be > 0, got {resilience!r}")
    lgd_f = _real("lgd", lgd)
    if not 0.0 <= lgd_f <= 1.0:
        raise ValueError(f"lgd must be in [0, 1], got {lgd!r}")
    limit = n if max_rounds is None else _int("max_rounds", max_rounds, 0, n)
    book = A.sum(axis=1)
    has_book = book > 0.0
    threshold = res * cush
    rounds = np.where(start, 0, -1)
    failed = start.copy()
    for k in range(1, limit + 1):
        lost = np.divide(A @ failed.astype(np.float64), book, out=np.zeros(n), where=has_book)
        new = (~failed) & has_book & (lgd_f * lost >= threshold)
        if not new.any():
            break
        rounds[new] = k
        failed |= new
    return rounds


def make_lending_network(n_firms: int = 30, *, seed: int = 0, initially_distressed: int = 3,
                         resilience: float = 0.25, extra_links: float = 0.4,
                         contagion_rounds: int = 2) -> LendingNetwork:
    """The seeded synthetic lending network of the lab (illustrative, not real data).

    Generating process, for ``n_firms`` firms (15-40) and ``seed``:

    1. **Firms.** Size (total assets) is log-uniform on €20 m - €2 bn; leverage
       (debt / assets) is normal(0.6, 0.12) clipped to [0.2, 0.92]; liquidity
       (liquid assets / short-term liabilities) is log-normal around 1
       (σ = 0.35) clipped to [0.2, 2.8]; a loss-absorbing cushion factor,
       uniform on [0.5, 1.5], that the features do not show.
    2. **Exposures.** Firm k (k >= 1) lends to 1 or 2 earlier firms chosen with
       probability proportional to their size (big firms become hubs), then
       ``round(extra_links × n)`` further random pairs are linked. An exposure
       is ``U(0.03, 0.1) × sqrt(size_i × size_j)`` € million, rounded to €0.1 m.
    3. **Distress.** ``initially_distressed`` firms (1-8), drawn with
       probability proportional to sqrt(size), fail first; their books show
       it: leverage is redrawn uniform on [0.8, 0.92] and liquidity on
       [0.2, 0.45].
    4. **Contagion.** :func:`simulate_cascade` (threshold ``resilience ×
       cushion`` on the share of a firm's book lost, loss given default 0.6)
       for ``contagion_rounds`` rounds (1-4; the default 2 is as far as a
       two-layer GCN can hear). A firm caught by contagion need not look weak
       itself: only its exposures tell.

    Higher ``resilience`` (0.05-1) means fewer defaults by contagion.
    """
    n = _int("n_firms", n_firms, *N_FIRMS_RANGE)
    seed = _int("seed", seed, 0, 2**31 - 1)
    k0 = _int("initially_distressed", initially_distressed, 1, 8)
    res = _real("resilience", resilience)
    if not 0.05 <= res <= 1.0:
        raise ValueError(f"resilience must be in [0.05, 1], got {resilience!r}")
    extra = _real("extra_links", extra_links)
    if not 0.0 <= extra <= 2.0:
        raise ValueError(f"extra_links must be in [0, 2], got {extra_links!r}")
    rounds_max = _int("contagion_rounds", contagion_rounds, 1, 4)
    rng = np.random.default_rng(seed)
    size = np.round(10.0 ** rng.uniform(math.log10(20.0), math.log10(2000.0), n), 1)
    leverage = np.round(np.clip(rng.normal(0.6, 0.12, n), 0.2, 0.92), 3)
    liquidity = np.round(np.clip(np.exp(rng.normal(0.0, 0.35, n)), 0.2, 2.8), 3)
    cushion = rng.uniform(0.5, 1.5, n)
    pairs: set[tuple[int, int]] = set()
    for k in range(1, n):
        m = min(k, 1 + int(rng.random() < 0.5))
        prob = size[:k] / size[:k].sum()
        for j in rng.choice(k, size=m, replace=False, p=prob):
            pairs.add((int(j), k))
    target = len(pairs) + int(round(extra * n))
    tries = 0
    while len(pairs) < target and tries < 50 * n:
        i, j = sorted(int(v) for v in rng.choice(n, size=2, replace=False))
        pairs.add((i, j))
        tries += 1
    A = np.zeros((n, n))
    for i, j in sorted(pairs):
        amount = round(float(rng.uniform(0.03, 0.1) * math.sqrt(size[i] * size[j])), 1)
        A[i, j] = A[j, i] = max(amount, 0.1)
    weight = np.sqrt(size)
    start = np.zeros(n, dtype=bool)
    start[rng.choice(n, size=k0, replace=False, p=weight / weight.sum())] = True
    leverage[start] = np.round(rng.uniform(0.8, 0.92, k0), 3)
    liquidity[start] = np.round(rng.uniform(0.2, 0.45, k0), 3)
    rounds = simulate_cascade(A, cushion, start, resilience=res, max_rounds=rounds_max)
    params = {"n_firms": n, "seed": seed, "initially_distressed": k0, "resilience": res,
              "extra_links": extra, "lgd": LGD, "contagion_rounds": rounds_max}
    return LendingNetwork(leverage, liquidity, size, A, cushion, start, rounds, params)


def split_known(y, known_fraction: float = 0.5, *, seed: int = 0) -> np.ndarray:
    """Which firms' outcomes are known (True) for training; the rest are the question.

    Stratified and seeded: within each class, ``round(known_fraction × count)``
    firms are known, but at least one and at most count - 1 when the class has
    two or more members (so both the known and the hidden firms hold both
    classes whenever that is possible). ``known_fraction`` in [0.1, 0.9].
    """
    labels = _matrix("y", y, 1)
    if not np.all((labels == 0.0) | (labels == 1.0)):
        raise ValueError("y must hold hard outcomes 0 or 1")
    frac = _real("known_fraction", known_fraction)
    if not 0.1 <= frac <= 0.9:
        raise ValueError(f"known_fraction must be in [0.1, 0.9], got {known_fraction!r}")
    rng = np.random.default_rng(_int("seed", seed, 0, 2**31 - 1) + 7919)
    known = np.zeros(labels.shape[0], dtype=bool)
    for c in (0.0, 1.0):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        k = int(round(frac * idx.size))
        if idx.size >= 2:
            k = min(max(k, 1), idx.size - 1)
        known[idx[:k]] = True
    return known


# ----------------------------------------------------------------------------- layout


def hop_distances(A, sources) -> np.ndarray:
    """Links from the nearest of ``sources`` to every node (int, -1 if unreachable).

    Any positive ``A[i, j]`` is a link; ``sources`` are node indices.
    """
    arr = _matrix("A", A, 2)
    n = arr.shape[0]
    src = [int(s) for s in np.atleast_1d(np.asarray(sources, dtype=np.int64))]
    if any(not 0 <= s < n for s in src):
        raise ValueError(f"sources must be node indices in [0, {n - 1}]")
    linked = arr > 0.0
    dist = np.full(n, -1, dtype=np.int64)
    frontier = np.zeros(n, dtype=bool)
    frontier[src] = True
    dist[frontier] = 0
    k = 0
    while frontier.any():
        k += 1
        reach = linked[frontier].any(axis=0) & (dist < 0)
        dist[reach] = k
        frontier = reach
    return dist


def network_layout(A, *, iterations: int = 300) -> np.ndarray:
    """Node positions (n, 2) in [-1, 1]², deterministic: the same ``A`` gives the same picture.

    A spectral start (the two smallest non-trivial eigenvectors of the
    Laplacian of the link graph, made connected by a faint all-pairs term so
    separate pieces stay apart but defined; signs fixed), a tiny fixed spiral
    offset so structurally equal nodes do not coincide, then ``iterations``
    Fruchterman-Reingold steps with a linearly cooling step limit and a weak
    pull to the centre. Finally centred, turned so its long axis is
    horizontal, signs fixed, and scaled into [-1, 1]. No random numbers.
    """
    arr = validate_adjacency(A)
    iterations = _int("iterations", iterations, 0, 10000)
    n = arr.shape[0]
    if n == 1:
        return np.zeros((1, 2))
    if n == 2:
        return np.array([[-1.0, 0.0], [1.0, 0.0]])
    link = (arr > 0.0).astype(np.float64)
    w = link + 0.05 / n
    np.fill_diagonal(w, 0.0)
    lap = np.diag(w.sum(axis=1)) - w
    _vals, vecs = np.linalg.eigh(lap)
    pos = vecs[:, 1:3].copy()
    for c in range(2):
        col = pos[:, c]
        pivot = int(np.argmax(np.abs(col)))
        if col[pivot] < 0:
            pos[:, c] = -col
    pos /= max(float(np.abs(pos).max()), 1e-12)
    angle = np.arange(n) * 2.399963229728653  # golden angle
    pos += 1e-3 * np.column_stack([np.cos(angle), np.sin(angle)]) * np.sqrt(np.arange(n) + 1.0)[:, None]
    k = 1.0 / math.sqrt(n)
    t0 = 0.1
    x, y = pos[:, 0].copy(), pos[:, 1].copy()
    off_diag = ~np.eye(n, dtype=bool)
    for it in range(iterations):
        dx = x[:, None] - x[None, :]
        dy = y[:, None] - y[None, :]
        dist = np.sqrt(dx * dx + dy * dy)
        np.maximum(dist, 1e-4, out=dist)
        # Repulsion k²/d minus attraction d²/k along links, divided by d for the unit vector.
        coef = (k * k) / (dist * dist) - link * (dist / k)
        coef *= off_diag
        fx = (dx * coef).sum(axis=1) - 0.3 * k * x
        fy = (dy * coef).sum(axis=1) - 0.3 * k * y
        length = np.maximum(np.sqrt(fx * fx + fy * fy), 1e-12)
        limit = t0 * (1.0 - it / max(iterations, 1)) + 1e-3
        scale = np.minimum(length, limit) / length
        x += fx * scale
        y += fy * scale
    pos = np.column_stack([x, y])
    pos -= pos.mean(axis=0)
    cov = pos.T @ pos
    _ev, axes = np.linalg.eigh(cov)
    pos = pos @ axes[:, ::-1]
    for c in range(2):
        col = pos[:, c]
        pivot = int(np.argmax(np.abs(col)))
        if col[pivot] < 0:
            pos[:, c] = -col
    return pos / max(float(np.abs(pos).max()), 1e-12)


# ----------------------------------------------------------------------------- baseline


@dataclass(frozen=True)
class Baseline:
    """Logistic regression on each firm's own features: ``P = sigmoid(X @ w + b)``."""

    w: np.ndarray
    b: float

    def logits(self, X) -> np.ndarray:
        return _matrix("X", X, 2) @ self.w + self.b


def fit_baseline(X, y, mask, *, spec: Optional[LossSpec] = None, l2: float = 1e-3,
                 start: Optional[Baseline] = None) -> Baseline:
    """Fit the graph-blind baseline on the known firms (``mask``) by Newton's method.

    Same loss as the graph model (``spec``, e.g. its pos_weight) and the same
    L2 weight ``l2`` (objective: mean loss + l2/2 ||w||², bias unpenalised).
    With no known firm the baseline is w = 0, b = 0 (P = 0.5 everywhere).
    ``start``: a previous fit to start Newton from (a dragged firm moves the
    optimum a little: one or two steps instead of a cold start); the optimum
    is the same (the objective is strictly convex for l2 > 0).
    """
    x = _matrix("X", X, 2)
    n = x.shape[0]
    labels, m, spec = _check_labels(y, n), _check_mask(mask, n), _check_spec(spec)
    l2_f = _real("l2", l2)
    if l2_f < 0:
        raise ValueError(f"l2 must be >= 0, got {l2!r}")
    if not m.any():
        return Baseline(np.zeros(x.shape[1]), 0.0)
    w0: Optional[list[float]] = None
    b0 = 0.0
    if start is not None and start.w.shape == (x.shape[1],) and np.all(np.isfinite(start.w)) \
            and math.isfinite(start.b):
        w0, b0 = [float(v) for v in start.w], float(start.b)
    fit = fit_logistic(x[m], labels[m], spec, l2=l2_f, optimizer="newton", steps=100, w0=w0,
                       b0=b0)
    return Baseline(np.asarray(fit.w, dtype=np.float64), float(fit.b))
