"""The graph lab's state: a lending network, known and hidden firms, a two-layer GCN trained with
masked BCE, and the graph-blind baseline beside it.

The lab (see ``docs/architecture.md``, "Labs") asks one yes/no question per
firm — will it default? — on a seeded synthetic lending network
(:func:`bceviz.engine.graph.make_lending_network`; illustrative, its
generating process is stated there and in :data:`GENERATING_PROCESS`). Each
firm has a leverage (debt / total assets), a liquidity (liquid assets /
short-term liabilities, a ratio) and a size (total assets, € million);
exposures between firms are in € million. Some firms' outcomes are known
(the training set), the others hidden (the question).

The graph model is ``P(default) = σ(Â relu(Â X W1 + b1) w2 + b2)`` with ``Â``
the normalised exposure matrix (exposures in units of €30 m, self-loops
added) and ``X`` the firms' scaled features; it is trained by full-batch
Adam (or gradient descent) on the mean BCE over the known firms (with
``pos_weight``) plus ``l2/2 (||W1||² + ||w2||²)``. The baseline is a
logistic regression on each firm's own features with the same loss and L2,
refitted (Newton) whenever its data or loss change. Both are scored on the
hidden firms: mean plain BCE (nats), ROC AUC and recall at P >= 0.5.

Gestures: drag a firm's leverage or liquidity, add or remove an exposure
between two firms (pick one, then the other), reveal or hide a firm's
outcome, move a firm in the picture. The outcomes are the network's history:
an edit changes what the models see and predict, never what happened.

Events: ``data`` (``kind`` = features / exposure / known / network, and
``firm``), ``model`` (the GCN's weights; a training step has
``reason="step"``, also ``"reset"`` and ``"restore"``), ``settings`` (loss and
optimiser settings), ``view`` (selection, the pending exposure pick, the
layout). Derived figures (:meth:`GraphState.figures`) are computed here once
per state version and shared by every panel; every number in them is finite
(None where it does not exist).

Limits: 15-40 firms, exposures 0-€500 m, leverage 0.05-0.95, liquidity
0.1-3; ``step(n)`` takes at most :data:`MAX_STEPS_PER_CALL` steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from bceviz.engine import graph as _g
from bceviz.engine import metrics as _metrics
from bceviz.engine.losses import LossSpec, grad_from_logits, loss_from_logits, sigmoid
from bceviz.model.labs import LabInfo
from bceviz.model.labs.base import (
    LabError,
    LabState,
    boolean,
    check_keys,
    choice,
    integer,
    number,
)

#: ``step(n)`` takes at most this many steps per call (a step on 40 firms is ~0.4 ms).
MAX_STEPS_PER_CALL = 100_000
#: A stage may train this many steps before it is shown.
MAX_TRAIN_STEPS = 5_000
#: Prediction threshold for recall (a probability at or above it predicts default).
THRESHOLD = 0.5
#: How many of the firms whose prediction moved most are listed.
TOP_MOVERS = 5
#: A firm counts as moved when its P(default) changed by more than this.
MOVE_EPS = 1e-4
#: The firms whose shares add up to at least this part of the training loss dominate it.
DOMINANT_SHARE = 0.5

HIDDEN_RANGE = (2, 16)
LR_RANGE = (1e-4, 1.0)
L2_RANGE = (0.0, 1.0)
POS_WEIGHT_RANGE = (0.1, 50.0)
KNOWN_FRACTION_RANGE = (0.2, 0.8)
RESILIENCE_RANGE = (0.05, 1.0)
DISTRESSED_RANGE = (1, 8)
ROUNDS_RANGE = (1, 4)
SPEED_RANGE = (1, 50)
#: How far a firm may be moved in the picture (layout units; the layout fills [-1, 1]²).
POSITION_LIMIT = 1.3

GENERATING_PROCESS = (
    "Illustrative synthetic network, not real data. Sizes are log-uniform on €20 m–€2 bn; "
    "leverage ~ N(0.6, 0.12), liquidity log-normal around 1; each new firm lends to one or two "
    "earlier firms, bigger ones more likely, plus a few random links; an exposure is 3–10 % of "
    "√(size × size). A few firms fail first — they look it (leverage 80–92 %, liquidity "
    "0.2–0.45) — and failure spreads: a firm fails when 60 % of the share of its lending book "
    "owed by failed partners reaches its hidden threshold (resilience × a cushion it does not "
    "show), for two rounds."
)

SETTING_KEYS = frozenset({
    "n_firms", "seed", "initially_distressed", "resilience", "contagion_rounds",
    "known_fraction", "pos_weight", "lr", "l2", "hidden_units", "optimizer", "steps_per_frame",
    "train_steps", "select", "reveal", "hide",
})


# --------------------------------------------------------------------------- formatting


def _safe(value: Optional[float]) -> Optional[float]:
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def fmt(value: Optional[float], digits: int = 3) -> str:
    """A number with ``digits`` decimals at most, typographic minus, '—' for None."""
    if value is None or not math.isfinite(float(value)):
        return "—"
    text = f"{float(value):.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace("-", "−")


def firm_name(index: int) -> str:
    """How a firm is named on screen: its number, counted from 1."""
    return f"firm {index + 1}"


def _names(indices) -> str:
    nums = [str(int(i) + 1) for i in indices]
    if not nums:
        return "none"
    if len(nums) == 1:
        return f"firm {nums[0]}"
    return "firms " + ", ".join(nums[:-1]) + " and " + nums[-1]


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Score:
    """One model on the hidden firms (and its training loss on the known ones).

    ``heldout_loss``: mean plain BCE over the hidden firms, nats (None if no firm
    is hidden); ``auc``: ROC AUC over the hidden firms (None unless both
    outcomes are among them); ``recall``: share of hidden defaults with P >=
    0.5 (None if no hidden firm defaulted); ``precision`` likewise (0 when
    nothing is predicted to default); ``train_loss``: mean loss over the known
    firms with the lab's loss settings (nats).
    """

    heldout_loss: Optional[float]
    auc: Optional[float]
    recall: Optional[float]
    precision: Optional[float]
    train_loss: Optional[float]

    def as_dict(self) -> dict:
        return {"heldout_loss": self.heldout_loss, "auc": self.auc, "recall": self.recall,
                "precision": self.precision, "train_loss": self.train_loss}


@dataclass(frozen=True)
class FirmLoss:
    """A known firm's part of the training loss (``loss`` in nats, ``grad`` = dL/dz)."""

    index: int
    y: float
    p: float
    loss: float
    grad: float
    share: float


@dataclass(frozen=True)
class Mover:
    """A firm whose P(default) moved because of the last edit (``delta`` = new − before)."""

    index: int
    delta: float
    hops: Optional[int]


@dataclass(frozen=True)
class ComparisonRow:
    label: str
    unit: str
    graph: str
    baseline: str
    difference: str
    better: str  # "graph", "baseline" or "" (a tie or no number)


@dataclass(frozen=True)
class GraphFigures:
    """Everything the lab's panels show, computed once per state version.

    Arrays are read-only and indexed by firm (0-based); ``edges`` are (i, j)
    pairs with i < j and ``edge_weights`` their exposures in € million.
    """

    n: int
    p_graph: np.ndarray
    p_base: np.ndarray
    known: np.ndarray
    y: np.ndarray
    graph: Score
    baseline: Score
    comparison: tuple[ComparisonRow, ...]
    comparison_note: str
    firm_losses: tuple[FirmLoss, ...]  # known firms, largest loss first
    dominant: tuple[int, ...]
    dominant_share: float
    dominance_text: str
    movers: tuple[Mover, ...]
    movers_text: str
    touch_origin: tuple[int, ...]
    edges: np.ndarray
    edge_weights: np.ndarray
    n_hidden: int
    n_hidden_defaults: int
    n_known_defaults: int
    baseline_boundary: Optional[tuple[tuple[float, float], tuple[float, float]]]
    boundary_size: float
    selected_text: str


@dataclass(frozen=True)
class _Config:
    n_firms: int
    seed: int
    initially_distressed: int
    resilience: float
    contagion_rounds: int
    known_fraction: float
    spec: LossSpec
    lr: float
    l2: float
    hidden: int
    optimizer: str
    steps_per_frame: int
    train_steps: int
    select: Optional[int]
    reveal: tuple[int, ...]
    hide: tuple[int, ...]


@dataclass
class _Touch:
    """The state before the current gesture began (what its movers compare with)."""

    kind: str  # "features" or "exposure"
    origin: tuple[int, ...]
    leverage: np.ndarray
    liquidity: np.ndarray
    exposures: np.ndarray

    def __post_init__(self) -> None:
        self.linked = self.exposures > 0  # links before the edit (hops across a removed link)
        self.a_hat = _g.normalized_adjacency(self.exposures / _g.EXPOSURE_UNIT)
        self.x: Optional[np.ndarray] = None

    def features(self, size: np.ndarray) -> np.ndarray:
        if self.x is None or self.x.shape[0] != size.shape[0]:
            self.x = _g.firm_features(self.leverage, self.liquidity, size)
        return self.x


DEFAULT_CONFIG = _Config(
    n_firms=30, seed=3, initially_distressed=3, resilience=0.25, contagion_rounds=2,
    known_fraction=0.5, spec=LossSpec(), lr=0.03, l2=0.03, hidden=8, optimizer="adam",
    steps_per_frame=4, train_steps=0, select=None, reveal=(), hide=())


class GraphState(LabState):
    """The lending-network lab (Qt-free): see the module docstring."""

    lab_id = "graph"
    EVENTS = ("data", "model", "settings", "view")

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[str, tuple[Any, Any]] = {}
        self._data_v = self._model_v = self._settings_v = self._view_v = 0
        self._touch: Optional[_Touch] = None
        self._selected: Optional[int] = None
        self._link_from: Optional[int] = None
        self._build(DEFAULT_CONFIG)

    # ------------------------------------------------------------------ building
    def _build(self, cfg: _Config) -> None:
        """Assign everything from a validated config (no events)."""
        net = _g.make_lending_network(
            cfg.n_firms, seed=cfg.seed, initially_distressed=cfg.initially_distressed,
            resilience=cfg.resilience, contagion_rounds=cfg.contagion_rounds)
        known = _g.split_known(net.defaulted, cfg.known_fraction, seed=cfg.seed)
        for i in cfg.reveal:
            known[i] = True
        for i in cfg.hide:
            known[i] = False
        self._assign_network(
            params=dict(net.params), size=net.size.copy(), leverage=net.leverage.copy(),
            liquidity=net.liquidity.copy(), exposures=net.exposures.copy(),
            default_round=net.default_round.copy(), known=known,
            positions=_g.network_layout(net.exposures))
        self._known_fraction = cfg.known_fraction
        self._spec, self._lr, self._l2 = cfg.spec, cfg.lr, cfg.l2
        self._hidden, self._optimizer = cfg.hidden, cfg.optimizer
        self.steps_per_frame = cfg.steps_per_frame
        self._trainer = _g.GCNTrainer(
            self._a_hat, self._x, self._y, self._known, hidden=cfg.hidden, spec=cfg.spec,
            optimizer=cfg.optimizer, lr=cfg.lr, l2=cfg.l2, seed=cfg.seed)
        if cfg.train_steps:
            self._trainer.step(cfg.train_steps)
        self._selected = cfg.select
        self._link_from = None
        self._touch = None
        self._bump_all()

    def _assign_network(self, *, params: dict, size: np.ndarray, leverage: np.ndarray,
                        liquidity: np.ndarray, exposures: np.ndarray, default_round: np.ndarray,
                        known: np.ndarray, positions: np.ndarray) -> None:
        self._params = params
        self._size, self._leverage, self._liquidity = size, leverage, liquidity
        self._exposures = exposures
        self._rounds = default_round
        self._y = (default_round >= 0).astype(np.float64)
        self._known = known
        self._positions = positions
        self._x = _g.firm_features(leverage, liquidity, size)
        self._a_hat = _g.normalized_adjacency(exposures / _g.EXPOSURE_UNIT)

    def _emit(self, name: str, **info: Any) -> None:
        getattr(self.events, name).emit(**info)

    def _bump_all(self) -> None:
        self._data_v += 1
        self._model_v += 1
        self._settings_v += 1
        self._view_v += 1

    # ------------------------------------------------------------------ reading
    @property
    def n(self) -> int:
        return int(self._y.shape[0])

    @property
    def leverage(self) -> np.ndarray:
        return self._ro(self._leverage)

    @property
    def liquidity(self) -> np.ndarray:
        return self._ro(self._liquidity)

    @property
    def size(self) -> np.ndarray:
        """Total assets, € million."""
        return self._ro(self._size)

    @property
    def exposures(self) -> np.ndarray:
        """(n, n) exposures in € million (symmetric, zero diagonal)."""
        return self._ro(self._exposures)

    @property
    def outcomes(self) -> np.ndarray:
        """1.0 where the firm defaulted (the history; shown only for known firms)."""
        return self._ro(self._y)

    @property
    def default_round(self) -> np.ndarray:
        """0: failed first; k >= 1: failed in contagion round k; -1: survived."""
        return self._ro(self._rounds)

    @property
    def known(self) -> np.ndarray:
        return self._ro(self._known)

    @property
    def positions(self) -> np.ndarray:
        """(n, 2) layout positions, about [-1, 1]²."""
        return self._ro(self._positions)

    @property
    def selected(self) -> Optional[int]:
        return self._selected

    @property
    def link_from(self) -> Optional[int]:
        """The firm picked first for an exposure edit (None when no pick is pending)."""
        return self._link_from

    @property
    def known_fraction(self) -> float:
        """The share of firms whose outcome the network was generated with as known."""
        return self._known_fraction

    @property
    def spec(self) -> LossSpec:
        return self._spec

    @property
    def pos_weight(self) -> float:
        return self._spec.pos_weight

    @property
    def lr(self) -> float:
        return self._lr

    @property
    def l2(self) -> float:
        return self._l2

    @property
    def hidden_units(self) -> int:
        return self._hidden

    @property
    def optimizer(self) -> str:
        return self._optimizer

    @property
    def steps(self) -> int:
        return int(self._trainer.steps)

    @property
    def network_params(self) -> dict:
        return dict(self._params)

    @property
    def params(self) -> dict[str, np.ndarray]:
        """A copy of the GCN's weights (W1, b1, w2, b2)."""
        return {k: np.array(v, copy=True) for k, v in self._trainer.params.items()}

    @property
    def history(self) -> _g.TrainerHistory:
        return self._trainer.history

    @property
    def version(self) -> tuple[int, int, int, int]:
        return (self._data_v, self._model_v, self._settings_v, self._view_v)

    @staticmethod
    def _ro(arr: np.ndarray) -> np.ndarray:
        view = arr.view()
        view.flags.writeable = False
        return view

    def can_train(self) -> bool:
        return bool(self._known.any()) and not self._trainer.diverged

    def neighbours(self, firm: int) -> np.ndarray:
        i = self._check_firm(firm)
        return np.flatnonzero(self._exposures[i] > 0)

    # ------------------------------------------------------------------ validation
    def _check_firm(self, firm: Any, path: str = "firm") -> int:
        if isinstance(firm, (bool, np.bool_)) or not isinstance(firm, (int, np.integer)):
            raise LabError(f"{path} must be a firm index (a whole number), got {firm!r}")
        if not 0 <= int(firm) < self.n:
            raise LabError(f"{path} must be between 0 and {self.n - 1}, got {firm}")
        return int(firm)

    # ------------------------------------------------------------------ gestures
    def _data_changed(self, kind: str, firm: Optional[int]) -> None:
        self._data_v += 1
        self._emit("data", kind=kind, firm=firm)

    def _begin_touch(self, kind: str, origin: tuple[int, ...], new_gesture: bool) -> None:
        t = self._touch
        if new_gesture or t is None or t.kind != kind or t.origin != origin:
            self._touch = _Touch(kind, origin, self._leverage.copy(), self._liquidity.copy(),
                                 self._exposures.copy())

    def set_firm_features(self, firm: int, *, leverage: Optional[float] = None,
                          liquidity: Optional[float] = None, new_gesture: bool = False) -> None:
        """Move a firm's leverage (debt / assets, 0.05-0.95) and/or liquidity (0.1-3).

        Consecutive edits of the same firm are one gesture (its movers compare
        with the predictions before the gesture began); ``new_gesture`` starts
        a new one (a drag's first move).
        """
        i = self._check_firm(firm)
        lev = self._leverage[i] if leverage is None else number(
            leverage, "leverage", *_g.LEVERAGE_RANGE)
        liq = self._liquidity[i] if liquidity is None else number(
            liquidity, "liquidity", *_g.LIQUIDITY_RANGE)
        if lev == self._leverage[i] and liq == self._liquidity[i] and not new_gesture:
            return
        self._begin_touch("features", (i,), new_gesture)
        self._leverage = self._leverage.copy()
        self._liquidity = self._liquidity.copy()
        self._leverage[i], self._liquidity[i] = lev, liq
        self._x = _g.firm_features(self._leverage, self._liquidity, self._size)
        self._trainer.set_data(X=self._x)
        self._data_changed("features", i)

    def set_exposure(self, i: int, j: int, amount: float) -> None:
        """Set the exposure between firms i and j to ``amount`` € million (0 removes it)."""
        a, b = self._check_firm(i, "i"), self._check_firm(j, "j")
        if a == b:
            raise LabError("an exposure links two different firms (i and j are the same)")
        value = number(amount, "exposure (€ million)", 0.0, _g.EXPOSURE_MAX)
        if value == self._exposures[a, b]:
            return
        self._begin_touch("exposure", tuple(sorted((a, b))), True)
        exposures = self._exposures.copy()
        exposures[a, b] = exposures[b, a] = round(value, 1) if value else 0.0
        self._exposures = exposures
        self._a_hat = _g.normalized_adjacency(exposures / _g.EXPOSURE_UNIT)
        self._trainer.set_data(A_hat=self._a_hat)
        self._data_changed("exposure", a)

    def default_exposure(self) -> float:
        """The amount a new exposure gets: the median of the existing ones (€ million)."""
        values = self._exposures[np.triu_indices(self.n, 1)]
        values = values[values > 0]
        return float(round(np.median(values), 1)) if values.size else 10.0

    def toggle_exposure(self, i: int, j: int) -> bool:
        """Remove the exposure between i and j, or add one of :meth:`default_exposure`.

        Returns True when an exposure now exists.
        """
        a, b = self._check_firm(i, "i"), self._check_firm(j, "j")
        if a == b:
            raise LabError("an exposure links two different firms (i and j are the same)")
        had = self._exposures[a, b] > 0
        self.set_exposure(a, b, 0.0 if had else self.default_exposure())
        verb = "removed" if had else f"added (€{fmt(self._exposures[a, b], 1)} m)"
        self.set_status(f"Exposure between {firm_name(a)} and {firm_name(b)} {verb}")
        return not had

    def set_known(self, firm: int, known: bool) -> None:
        """Reveal (True: the outcome joins the training set) or hide a firm's outcome."""
        i = self._check_firm(firm)
        flag = boolean(known, "known")
        if bool(self._known[i]) == flag:
            return
        mask = self._known.copy()
        mask[i] = flag
        self._known = mask
        self._trainer.set_data(mask=mask)
        self._data_changed("known", i)
        if flag:
            outcome = "defaulted" if self._y[i] else "survived"
            self.set_status(f"Revealed: {firm_name(i)} {outcome}; it now trains both models")
        else:
            self.set_status(f"{firm_name(i).capitalize()} is hidden again: a question to answer")

    def toggle_known(self, firm: int) -> bool:
        i = self._check_firm(firm)
        self.set_known(i, not bool(self._known[i]))
        return bool(self._known[i])

    def select_firm(self, firm: Optional[int]) -> None:
        """Select a firm (None: nothing); its numbers show in the readouts."""
        i = None if firm is None else self._check_firm(firm)
        if i == self._selected:
            return
        self._selected = i
        self._view_v += 1
        self._emit("view", kind="select", firm=i)

    def pick_for_exposure(self, firm: int) -> Optional[bool]:
        """Two picks make an exposure edit: the first firm waits, the second toggles the link.

        Picking the waiting firm again cancels. Returns None while waiting (or
        cancelled), else whether an exposure now exists.
        """
        i = self._check_firm(firm)
        first = self._link_from
        if first is None:
            self._link_from = i
            self._view_v += 1
            self._emit("view", kind="link", firm=i)
            self.set_status(f"Now pick the second firm to add or remove an exposure with "
                            f"{firm_name(i)} (pick it again to cancel)")
            return None
        self._link_from = None
        self._view_v += 1
        self._emit("view", kind="link", firm=None)
        if first == i:
            self.set_status("Exposure edit cancelled")
            return None
        return self.toggle_exposure(first, i)

    def cancel_pick(self) -> None:
        if self._link_from is not None:
            self._link_from = None
            self._view_v += 1
            self._emit("view", kind="link", firm=None)

    def move_firm(self, firm: int, x: float, y: float) -> None:
        """Place a firm elsewhere in the picture (the layout; nothing else changes)."""
        i = self._check_firm(firm)
        px = number(x, "x", -1e9, 1e9)
        py = number(y, "y", -1e9, 1e9)
        lim = POSITION_LIMIT
        px, py = min(max(px, -lim), lim), min(max(py, -lim), lim)
        positions = self._positions.copy()
        positions[i] = (px, py)
        self._positions = positions
        self._view_v += 1
        self._emit("view", kind="positions", firm=i)

    def relayout(self) -> None:
        """Lay the network out afresh for its current exposures (deterministic)."""
        self._positions = _g.network_layout(self._exposures)
        self._view_v += 1
        self._emit("view", kind="positions", firm=None)

    # ------------------------------------------------------------------ settings
    def _settings_changed(self) -> None:
        self._settings_v += 1
        self._emit("settings")

    def set_pos_weight(self, pos_weight: float) -> None:
        """Weight on the defaults' term of BCE (PyTorch ``pos_weight``), 0.1-50."""
        pw = number(pos_weight, "pos_weight", *POS_WEIGHT_RANGE)
        if pw == self._spec.pos_weight:
            return
        self._spec = LossSpec(pos_weight=pw)
        self._trainer.set_spec(self._spec)
        self._settings_changed()

    def balanced_pos_weight(self) -> float:
        """Known survivors / known defaults (the weight that balances the classes), clipped."""
        pos = float(self._y[self._known].sum())
        neg = float(self._known.sum()) - pos
        if pos == 0:
            return 1.0
        lo, hi = POS_WEIGHT_RANGE
        return float(min(max(round(neg / pos, 2), lo), hi))

    def set_lr(self, lr: float) -> None:
        value = number(lr, "lr (learning rate)", *LR_RANGE)
        if value == self._lr:
            return
        self._lr = value
        self._trainer.set_lr(value)
        self._settings_changed()

    def set_l2(self, l2: float) -> None:
        value = number(l2, "l2", *L2_RANGE)
        if value == self._l2:
            return
        self._l2 = value
        self._trainer.set_l2(value)
        self._settings_changed()

    def set_optimizer(self, name: str) -> None:
        value = choice(name, "optimizer", _g.GRAPH_OPTIMIZERS)
        if value == self._optimizer:
            return
        self._optimizer = value
        self._trainer.set_optimizer(value)
        self._settings_changed()

    def set_hidden_units(self, hidden: int) -> None:
        """Hidden units of the first layer (2-16); the model restarts from fresh weights."""
        value = integer(hidden, "hidden_units", *HIDDEN_RANGE)
        if value == self._hidden:
            return
        self._hidden = value
        self._new_trainer()
        self._settings_changed()
        self._model_changed("reset")

    def set_steps_per_frame(self, steps: int) -> None:
        value = integer(steps, "steps_per_frame", *SPEED_RANGE)
        if value != self.steps_per_frame:
            self.steps_per_frame = value
            self._settings_changed()

    def _new_trainer(self) -> None:
        self._trainer = _g.GCNTrainer(
            self._a_hat, self._x, self._y, self._known, hidden=self._hidden, spec=self._spec,
            optimizer=self._optimizer, lr=self._lr, l2=self._l2, seed=int(self._params["seed"]))

    def new_network(self, seed: Optional[int] = None) -> None:
        """A fresh network with the same generator settings (next seed when None)."""
        cfg = self._current_config()
        new_seed = (cfg.seed + 1) % (2**31) if seed is None else integer(seed, "seed", 0,
                                                                        2**31 - 1)
        cfg = _Config(**{**cfg.__dict__, "seed": new_seed, "train_steps": 0, "select": None,
                         "reveal": (), "hide": ()})
        self.set_running(False)
        self._apply(cfg)
        self.set_status(f"New network (seed {new_seed}): {int(self._y.sum())} of {self.n} "
                        "firms defaulted")

    def generate(self, *, n_firms: Optional[int] = None, seed: Optional[int] = None,
                 initially_distressed: Optional[int] = None, resilience: Optional[float] = None,
                 known_fraction: Optional[float] = None) -> None:
        """A new network from changed generator settings (the others and the loss kept).

        Validated first (LabError names the field); the model starts afresh.
        """
        cfg = self._current_config()
        changes = {
            "n_firms": cfg.n_firms if n_firms is None else integer(n_firms, "n_firms",
                                                                    *_g.N_FIRMS_RANGE),
            "seed": cfg.seed if seed is None else integer(seed, "seed", 0, 2**31 - 1),
            "initially_distressed": cfg.initially_distressed if initially_distressed is None
            else integer(initially_distressed, "initially_distressed", *DISTRESSED_RANGE),
            "resilience": cfg.resilience if resilience is None else number(
                resilience, "resilience", *RESILIENCE_RANGE),
            "known_fraction": cfg.known_fraction if known_fraction is None else number(
                known_fraction, "known_fraction", *KNOWN_FRACTION_RANGE),
        }
        cfg = _Config(**{**cfg.__dict__, **changes, "train_steps": 0, "select": None,
                         "reveal": (), "hide": ()})
        self.set_running(False)
        self._apply(cfg)
        self.set_status(f"Network of {self.n} firms (seed {cfg.seed}): {int(self._y.sum())} "
                        "defaulted")

    def _current_config(self) -> _Config:
        p = self._params
        return _Config(
            n_firms=int(p["n_firms"]), seed=int(p["seed"]),
            initially_distressed=int(p["initially_distressed"]),
            resilience=float(p["resilience"]), contagion_rounds=int(p["contagion_rounds"]),
            known_fraction=self._known_fraction, spec=self._spec, lr=self._lr, l2=self._l2,
            hidden=self._hidden, optimizer=self._optimizer,
            steps_per_frame=self.steps_per_frame, train_steps=0, select=self._selected,
            reveal=(), hide=())

    def _apply(self, cfg: _Config) -> None:
        with self.transaction("data", "model", "settings", "view"):
            self._build(cfg)
            self._emit("data", kind="network", firm=None)
            self._emit("settings")
            self._emit("model", reason="reset")
            self._emit("view", kind="network", firm=None)

    def apply_settings(self, settings: dict) -> None:
        """Put the lab into a stage's settings; everything not named goes back to its default.

        Keys: ``n_firms`` (15-40), ``seed``, ``initially_distressed`` (1-8),
        ``resilience`` (0.05-1), ``contagion_rounds`` (1-4), ``known_fraction``
        (0.2-0.8), ``pos_weight`` (0.1-50), ``lr``, ``l2``, ``hidden_units``
        (2-16), ``optimizer`` (adam / gd), ``steps_per_frame`` (1-50),
        ``train_steps`` (0-5000: trained before the stage shows), ``select``
        (a firm number as shown, from 1), ``reveal`` / ``hide`` (lists of firm
        numbers whose outcome is made known / hidden). Validated completely
        first (LabError names the field); nothing changes on an error.
        """
        check_keys(settings, "settings", SETTING_KEYS)
        d = DEFAULT_CONFIG
        n = integer(settings.get("n_firms", d.n_firms), "settings.n_firms", *_g.N_FIRMS_RANGE)

        def firm_number(value: Any, path: str) -> int:
            return integer(value, path, 1, n) - 1

        def firm_list(key: str) -> tuple[int, ...]:
            raw = settings.get(key, [])
            if not isinstance(raw, list) or len(raw) > n:
                raise LabError(f"settings.{key} must be a list of firm numbers (1-{n})")
            return tuple(firm_number(v, f"settings.{key}[{k}]") for k, v in enumerate(raw))

        reveal, hide = firm_list("reveal"), firm_list("hide")
        both = set(reveal) & set(hide)
        if both:
            raise LabError(f"settings: firm {min(both) + 1} is in both reveal and hide")
        select = settings.get("select")
        cfg = _Config(
            n_firms=n,
            seed=integer(settings.get("seed", d.seed), "settings.seed", 0, 2**31 - 1),
            initially_distressed=integer(settings.get("initially_distressed",
                                                      d.initially_distressed),
                                         "settings.initially_distressed", *DISTRESSED_RANGE),
            resilience=number(settings.get("resilience", d.resilience), "settings.resilience",
                              *RESILIENCE_RANGE),
            contagion_rounds=integer(settings.get("contagion_rounds", d.contagion_rounds),
                                     "settings.contagion_rounds", *ROUNDS_RANGE),
            known_fraction=number(settings.get("known_fraction", d.known_fraction),
                                  "settings.known_fraction", *KNOWN_FRACTION_RANGE),
            spec=LossSpec(pos_weight=number(settings.get("pos_weight", 1.0),
                                            "settings.pos_weight", *POS_WEIGHT_RANGE)),
            lr=number(settings.get("lr", d.lr), "settings.lr", *LR_RANGE),
            l2=number(settings.get("l2", d.l2), "settings.l2", *L2_RANGE),
            hidden=integer(settings.get("hidden_units", d.hidden), "settings.hidden_units",
                           *HIDDEN_RANGE),
            optimizer=choice(settings.get("optimizer", d.optimizer), "settings.optimizer",
                             _g.GRAPH_OPTIMIZERS),
            steps_per_frame=integer(settings.get("steps_per_frame", d.steps_per_frame),
                                    "settings.steps_per_frame", *SPEED_RANGE),
            train_steps=integer(settings.get("train_steps", 0), "settings.train_steps", 0,
                                MAX_TRAIN_STEPS),
            select=None if select is None else firm_number(select, "settings.select"),
            reveal=reveal, hide=hide)
        self.set_running(False)
        self._apply(cfg)
        self.set_status("")

    # ------------------------------------------------------------------ training
    def _model_changed(self, reason: str) -> None:
        self._model_v += 1
        self._emit("model", reason=reason)

    def step(self, n: int = 1) -> int:
        """Up to ``n`` optimizer steps (at most :data:`MAX_STEPS_PER_CALL`); returns how many."""
        count = integer(n, "n", 0, 2**62)
        if count == 0 or not self.can_train():
            return 0
        capped = min(count, MAX_STEPS_PER_CALL)
        done = self._trainer.step(capped)
        if self._trainer.diverged:
            self.set_running(False)
            self.set_status(self._trainer.status, "error")
        elif capped < count:
            self.set_status(f"Trained {done:,} steps (at most {MAX_STEPS_PER_CALL:,} at once)",
                            "warning")
        if done:
            self._model_changed("step")
        return done

    def reset(self) -> None:
        """Fresh seeded GCN weights (step 0); the network, outcomes and settings stay."""
        self._trainer.reset()
        self._model_changed("reset")

    # ------------------------------------------------------------------ derived
    def _cached(self, name: str, key: Any, build):
        hit = self._cache.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]
        value = build()
        self._cache[name] = (key, value)
        return value

    def baseline(self) -> _g.Baseline:
        """The graph-blind logistic regression on the known firms' own features."""
        hit = self._cache.get("baseline")
        previous = hit[1] if hit is not None else None
        return self._cached("baseline", (self._data_v, self._settings_v), lambda: _g.fit_baseline(
            self._x, self._y, self._known, spec=self._spec, l2=self._l2, start=previous))

    def graph_logits(self) -> np.ndarray:
        return self._cached("graph_logits", (self._data_v, self._model_v), self._trainer.logits)

    def figures(self) -> GraphFigures:
        """Derived figures for this state version (shared by every panel)."""
        return self._cached("figures", self.version, self._build_figures)

    def _baseline_score(self, base: _g.Baseline) -> tuple[np.ndarray, Score]:
        """The baseline's P(default) (read-only) and score: fixed while the GCN trains."""
        zb = base.logits(self._x)
        pb = sigmoid(zb)
        pb.flags.writeable = False
        return pb, self._score(zb)

    def _score(self, logits: np.ndarray) -> Score:
        y, known = self._y, self._known
        hidden = ~known
        train = None
        if known.any():
            train = _safe(float(loss_from_logits(logits[known], y[known], self._spec).mean()))
        if not hidden.any():
            return Score(None, None, None, None, train)
        zh, yh = logits[hidden], y[hidden]
        heldout = _safe(float(loss_from_logits(zh, yh).mean()))
        auc = None
        if 0 < yh.sum() < yh.size:
            auc = _safe(_metrics.roc_auc(yh, zh))
        report = _metrics.classification_report(yh, sigmoid(zh), THRESHOLD)
        recall = _safe(report["recall"]) if yh.sum() > 0 else None
        return Score(heldout, auc, recall, _safe(report["precision"]), train)

    def _build_figures(self) -> GraphFigures:
        zg = self.graph_logits()
        base = self.baseline()
        pb, baseline = self._cached("baseline_score", (self._data_v, self._settings_v),
                                    lambda: self._baseline_score(base))
        pg = sigmoid(zg)
        graph = self._score(zg)
        known = self._known
        y = self._y
        n_hidden = int((~known).sum())
        n_hidden_def = int(y[~known].sum())
        rows = self._comparison(graph, baseline)
        note = self._comparison_note(graph, baseline, n_hidden, n_hidden_def)
        # Per-firm training loss.
        idx = np.flatnonzero(known)
        losses = loss_from_logits(zg[idx], y[idx], self._spec) if idx.size else np.zeros(0)
        grads = grad_from_logits(zg[idx], y[idx], self._spec) if idx.size else np.zeros(0)
        total = float(losses.sum())
        shares = losses / total if total > 0 else np.zeros_like(losses)
        order = np.argsort(-losses, kind="stable")
        firm_losses = tuple(FirmLoss(int(idx[k]), float(y[idx[k]]), float(pg[idx[k]]),
                                     float(losses[k]), float(grads[k]), float(shares[k]))
                            for k in order)
        dominant: list[int] = []
        acc = 0.0
        for row in firm_losses:
            if acc >= DOMINANT_SHARE or total <= 0:
                break
            dominant.append(row.index)
            acc += row.share
        dominance = self._dominance_text(dominant, acc, len(firm_losses))
        movers, origin = self._movers(zg)
        iu, ju = np.nonzero(np.triu(self._exposures, 1))
        edges = np.column_stack([iu, ju]).astype(np.int64)
        weights = self._exposures[iu, ju].copy()
        boundary, bsize = self._cached("boundary", (self._data_v, self._settings_v,
                                                    self._selected), lambda: self._boundary(base))
        for arr in (pg, edges, weights):
            arr.flags.writeable = False
        return GraphFigures(
            n=self.n, p_graph=pg, p_base=pb, known=self.known, y=self.outcomes, graph=graph,
            baseline=baseline, comparison=rows, comparison_note=note, firm_losses=firm_losses,
            dominant=tuple(dominant), dominant_share=float(acc), dominance_text=dominance,
            movers=movers, movers_text=self._movers_text(movers, origin), touch_origin=origin,
            edges=edges, edge_weights=weights, n_hidden=n_hidden, n_hidden_defaults=n_hidden_def,
            n_known_defaults=int(y[known].sum()), baseline_boundary=boundary, boundary_size=bsize,
            selected_text=self._selected_text(pg, pb))

    @staticmethod
    def _comparison(graph: Score, baseline: Score) -> tuple[ComparisonRow, ...]:
        rows = []
        for label, unit, key, lower_better in (
            ("Held-out loss", "nats", "heldout_loss", True),
            ("AUC", "", "auc", False),
            ("Recall (P ≥ 0.5)", "", "recall", False),
            ("Training loss", "nats", "train_loss", True),
        ):
            g, b = getattr(graph, key), getattr(baseline, key)
            diff = None if g is None or b is None else g - b
            better = ""
            if diff is not None and abs(diff) > 5e-4:
                better = "graph" if (diff < 0) == lower_better else "baseline"
            sign = "+" if diff is not None and diff > 0 else ""
            rows.append(ComparisonRow(label, unit, fmt(g), fmt(b),
                                      "—" if diff is None else sign + fmt(diff), better))
        return tuple(rows)

    @staticmethod
    def _comparison_note(graph: Score, baseline: Score, n_hidden: int, n_def: int) -> str:
        if n_hidden == 0:
            return "Every outcome is known: hide some firms to have a question to answer."
        head = f"Scored on the {n_hidden} hidden firms ({n_def} of them defaulted)."
        if graph.auc is None:
            return head + " AUC needs both outcomes among the hidden firms."
        gain = graph.auc - (baseline.auc or 0.0)
        if abs(gain) < 5e-4:
            return head + " The exposures add nothing to the AUC here."
        who = "The exposures are worth" if gain > 0 else "Here the graph costs"
        return head + f" {who} {fmt(abs(gain), 2)} of AUC."

    @staticmethod
    def _dominance_text(dominant: list[int], share: float, n_known: int) -> str:
        if not dominant:
            return "No known firm: nothing to learn from yet."
        return (f"{_names(dominant).capitalize()} carry {round(100 * share)} % of the training "
                f"loss ({len(dominant)} of {n_known} known firms).") if len(dominant) > 1 else (
                f"{_names(dominant).capitalize()} alone carries {round(100 * share)} % of the "
                f"training loss ({n_known} known firms).")

    def _movers(self, zg: np.ndarray) -> tuple[tuple[Mover, ...], tuple[int, ...]]:
        t = self._touch
        if t is None or t.leverage.shape != self._leverage.shape:
            return (), ()
        before = sigmoid(self._trainer.logits_for(t.a_hat, t.features(self._size)))
        delta = sigmoid(zg) - before
        order = np.argsort(-np.abs(delta), kind="stable")[:TOP_MOVERS]
        linked = t.linked | (self._exposures > 0)
        hops = _g.hop_distances(linked.astype(np.float64), list(t.origin))
        movers = tuple(Mover(int(i), float(delta[i]), int(hops[i]) if hops[i] >= 0 else None)
                       for i in order if abs(delta[i]) > MOVE_EPS)
        return movers, t.origin

    @staticmethod
    def _movers_text(movers: tuple[Mover, ...], origin: tuple[int, ...]) -> str:
        if not origin:
            return "Drag a firm's leverage or liquidity, or change an exposure, to see who moves."
        if not movers:
            return f"Nothing moved yet after the edit at {_names(origin)}."
        parts = []
        for m in movers:
            hops = "unlinked" if m.hops is None else (
                "itself" if m.hops == 0 else f"{m.hops} hop{'s' if m.hops > 1 else ''}")
            sign = "+" if m.delta > 0 else ""
            parts.append(f"{m.index + 1} {sign}{fmt(m.delta, 2)} ({hops})")
        return f"Since the edit at {_names(origin)}, P(default) moved most at: " + \
            ", ".join(parts)

    def _boundary(self, base: _g.Baseline):
        """Where the baseline says P = 0.5 in the (leverage, liquidity) plane, at one size."""
        size = float(self._size[self._selected]) if self._selected is not None \
            else float(np.median(self._size))
        w = base.w
        x3 = (math.log10(size) - 2.5) / 0.5
        # w0 (lev - 0.6)/0.15 + w1 (liq - 1)/0.5 + w2 x3 + b = 0
        a, c = w[0] / 0.15, w[1] / 0.5
        rest = -0.6 * a - 1.0 * c + w[2] * x3 + base.b
        lo_l, hi_l = _g.LEVERAGE_RANGE
        lo_q, hi_q = _g.LIQUIDITY_RANGE
        points = []
        if abs(c) > 1e-12:
            for lev in (lo_l, hi_l):
                q = -(a * lev + rest) / c
                if lo_q <= q <= hi_q:
                    points.append((lev, q))
        if abs(a) > 1e-12:
            for q in (lo_q, hi_q):
                lev = -(c * q + rest) / a
                if lo_l <= lev <= hi_l:
                    points.append((lev, q))
        uniq: list[tuple[float, float]] = []
        for p in points:
            if all(abs(p[0] - u[0]) + abs(p[1] - u[1]) > 1e-9 for u in uniq):
                uniq.append((float(p[0]), float(p[1])))
        if len(uniq) < 2:
            return None, size
        return (uniq[0], uniq[1]), size

    def _selected_text(self, pg: np.ndarray, pb: np.ndarray) -> str:
        i = self._selected
        if i is None:
            return "Click a firm to see its numbers."
        partners = int(np.count_nonzero(self._exposures[i] > 0))
        lent = float(self._exposures[i].sum())
        if self._known[i]:
            r = int(self._rounds[i])
            outcome = ("survived" if r < 0 else "defaulted: among the first to fail" if r == 0
                       else f"defaulted in contagion round {r}")
            outcome = "known, " + outcome
        else:
            outcome = "hidden (the question)"
        return (f"{firm_name(i).capitalize()}: assets €{fmt(self._size[i], 0)} m, leverage "
                f"{round(100 * self._leverage[i])} %, liquidity {fmt(self._liquidity[i], 2)}, "
                f"{partners} partner{'s' if partners != 1 else ''} (€{fmt(lent, 0)} m). "
                f"P(default): graph {fmt(pg[i], 2)}, alone {fmt(pb[i], 2)}. Outcome: {outcome}.")

    # ------------------------------------------------------------------ report & sessions
    def report(self) -> dict:
        """The lab's figures for ``--report`` (JSON-safe: finite floats, None where undefined)."""
        f = self.figures()
        gain_auc = None if f.graph.auc is None or f.baseline.auc is None else \
            _safe(f.graph.auc - f.baseline.auc)
        gain_loss = None if f.graph.heldout_loss is None or f.baseline.heldout_loss is None \
            else _safe(f.baseline.heldout_loss - f.graph.heldout_loss)
        p = self._params
        return {
            "n_firms": self.n,
            "n_known": int(self._known.sum()),
            "n_hidden": f.n_hidden,
            "n_defaults": int(self._y.sum()),
            "n_hidden_defaults": f.n_hidden_defaults,
            "n_exposures": int(f.edges.shape[0]),
            "seed": int(p["seed"]),
            "resilience": float(p["resilience"]),
            "initially_distressed": int(p["initially_distressed"]),
            "steps": self.steps,
            "pos_weight": self._spec.pos_weight,
            "lr": self._lr,
            "l2": self._l2,
            "hidden_units": self._hidden,
            "optimizer": self._optimizer,
            "threshold": THRESHOLD,
            "graph": f.graph.as_dict(),
            "baseline": f.baseline.as_dict(),
            "auc_gain": gain_auc,
            "heldout_loss_gain": gain_loss,
            "dominant_firms": [i + 1 for i in f.dominant],
            "dominant_share": _safe(f.dominant_share),
            "movers": [{"firm": m.index + 1, "delta": _safe(m.delta), "hops": m.hops}
                       for m in f.movers],
        }

    def to_dict(self) -> dict:
        return {
            "network": {k: (float(v) if isinstance(v, float) else v)
                        for k, v in self._params.items()},
            "size": self._size.tolist(),
            "leverage": self._leverage.tolist(),
            "liquidity": self._liquidity.tolist(),
            "exposures": _edge_list(self._exposures),
            "default_round": [int(v) for v in self._rounds],
            "known": [bool(v) for v in self._known],
            "positions": self._positions.tolist(),
            "known_fraction": self._known_fraction,
            "pos_weight": self._spec.pos_weight,
            "lr": self._lr, "l2": self._l2, "hidden_units": self._hidden,
            "optimizer": self._optimizer, "steps_per_frame": self.steps_per_frame,
            "selected": self._selected,
            "touch": None if self._touch is None else {
                "kind": self._touch.kind, "origin": list(self._touch.origin),
                "leverage": self._touch.leverage.tolist(),
                "liquidity": self._touch.liquidity.tolist(),
                "exposures": _edge_list(self._touch.exposures)},
            "trainer": self._trainer.state_dict(),
        }

    def restore(self, payload: dict) -> None:
        """Restore :meth:`to_dict`'s payload; LabError names the field and nothing changes."""
        check_keys(payload, "graph", {"network", "size", "leverage", "liquidity", "exposures",
                                      "default_round", "known", "positions", "known_fraction",
                                      "pos_weight", "lr", "l2", "hidden_units", "optimizer",
                                      "steps_per_frame", "selected", "touch", "trainer"})
        net = check_keys(payload.get("network"), "graph.network",
                         {"n_firms", "seed", "initially_distressed", "resilience",
                          "extra_links", "lgd", "contagion_rounds"})
        n = integer(net.get("n_firms"), "graph.network.n_firms", *_g.N_FIRMS_RANGE)
        params = {
            "n_firms": n,
            "seed": integer(net.get("seed"), "graph.network.seed", 0, 2**31 - 1),
            "initially_distressed": integer(net.get("initially_distressed"),
                                            "graph.network.initially_distressed",
                                            *DISTRESSED_RANGE),
            "resilience": number(net.get("resilience"), "graph.network.resilience",
                                 *RESILIENCE_RANGE),
            "extra_links": number(net.get("extra_links", 0.4), "graph.network.extra_links",
                                  0.0, 2.0),
            "lgd": number(net.get("lgd", _g.LGD), "graph.network.lgd", 0.0, 1.0),
            "contagion_rounds": integer(net.get("contagion_rounds"),
                                        "graph.network.contagion_rounds", *ROUNDS_RANGE),
        }

        def vector(key: str, lo: float, hi: float, source: Optional[dict] = None,
                   prefix: str = "graph") -> np.ndarray:
            raw = (payload if source is None else source).get(key)
            if not isinstance(raw, list) or len(raw) != n:
                raise LabError(f"{prefix}.{key} must be a list of {n} numbers")
            return np.array([number(v, f"{prefix}.{key}[{k}]", lo, hi)
                             for k, v in enumerate(raw)])

        size = vector("size", *_g.SIZE_RANGE)
        leverage = vector("leverage", *_g.LEVERAGE_RANGE)
        liquidity = vector("liquidity", *_g.LIQUIDITY_RANGE)
        exposures = _edges_from(payload.get("exposures"), n, "graph.exposures")
        touch = None
        raw_touch = payload.get("touch")
        if raw_touch is not None:
            t = check_keys(raw_touch, "graph.touch",
                           {"kind", "origin", "leverage", "liquidity", "exposures"})
            kind = choice(t.get("kind"), "graph.touch.kind", ("features", "exposure"))
            origin_raw = t.get("origin")
            if not isinstance(origin_raw, list) or not 1 <= len(origin_raw) <= 2:
                raise LabError("graph.touch.origin must be a list of one or two firm indices")
            origin = tuple(integer(v, f"graph.touch.origin[{k}]", 0, n - 1)
                           for k, v in enumerate(origin_raw))
            touch = _Touch(kind, origin,
                           vector("leverage", *_g.LEVERAGE_RANGE, t, "graph.touch"),
                           vector("liquidity", *_g.LIQUIDITY_RANGE, t, "graph.touch"),
                           _edges_from(t.get("exposures"), n, "graph.touch.exposures"))
        rounds_raw = payload.get("default_round")
        if not isinstance(rounds_raw, list) or len(rounds_raw) != n:
            raise LabError(f"graph.default_round must be a list of {n} whole numbers")
        rounds = np.array([integer(v, f"graph.default_round[{k}]", -1, 4)
                           for k, v in enumerate(rounds_raw)], dtype=np.int64)
        known_raw = payload.get("known")
        if not isinstance(known_raw, list) or len(known_raw) != n:
            raise LabError(f"graph.known must be a list of {n} true/false values")
        known = np.array([boolean(v, f"graph.known[{k}]") for k, v in enumerate(known_raw)])
        pos_raw = payload.get("positions")
        if not isinstance(pos_raw, list) or len(pos_raw) != n or not all(
                isinstance(p, list) and len(p) == 2 for p in pos_raw):
            raise LabError(f"graph.positions must be {n} [x, y] pairs")
        positions = np.array([[number(v, f"graph.positions[{k}]", -POSITION_LIMIT,
                                      POSITION_LIMIT) for v in p]
                              for k, p in enumerate(pos_raw)])
        known_fraction = number(payload.get("known_fraction", 0.5), "graph.known_fraction",
                                *KNOWN_FRACTION_RANGE)
        spec = LossSpec(pos_weight=number(payload.get("pos_weight", 1.0), "graph.pos_weight",
                                          *POS_WEIGHT_RANGE))
        lr = number(payload.get("lr", DEFAULT_CONFIG.lr), "graph.lr", *LR_RANGE)
        l2 = number(payload.get("l2", DEFAULT_CONFIG.l2), "graph.l2", *L2_RANGE)
        hidden = integer(payload.get("hidden_units", DEFAULT_CONFIG.hidden), "graph.hidden_units",
                         *HIDDEN_RANGE)
        optimizer = choice(payload.get("optimizer", "adam"), "graph.optimizer",
                           _g.GRAPH_OPTIMIZERS)
        speed = integer(payload.get("steps_per_frame", DEFAULT_CONFIG.steps_per_frame),
                        "graph.steps_per_frame", *SPEED_RANGE)
        selected_raw = payload.get("selected")
        selected = None if selected_raw is None else integer(selected_raw, "graph.selected", 0,
                                                             n - 1)
        x = _g.firm_features(leverage, liquidity, size)
        a_hat = _g.normalized_adjacency(exposures / _g.EXPOSURE_UNIT)
        y = (rounds >= 0).astype(np.float64)
        try:
            trainer = _g.GCNTrainer(a_hat, x, y, known, hidden=hidden, spec=spec,
                                    optimizer=optimizer, lr=lr, l2=l2, seed=int(params["seed"]))
            state = payload.get("trainer")
            if not isinstance(state, dict):
                raise ValueError("must be an object")
            trainer.load_state_dict(state)
        except (ValueError, TypeError, KeyError) as exc:
            raise LabError(f"graph.trainer: {exc}") from None
        self.set_running(False)
        with self.transaction("data", "model", "settings", "view"):
            self._assign_network(params=params, size=size, leverage=leverage,
                                 liquidity=liquidity, exposures=exposures, default_round=rounds,
                                 known=known, positions=positions)
            self._known_fraction = known_fraction
            self._spec, self._lr, self._l2 = spec, lr, l2
            self._hidden, self._optimizer = hidden, optimizer
            self.steps_per_frame = speed
            self._trainer = trainer
            self._selected, self._link_from, self._touch = selected, None, touch
            self._bump_all()
            self._emit("data", kind="network", firm=None)
            self._emit("settings")
            self._emit("model", reason="restore")
            self._emit("view", kind="network", firm=None)


def _edge_list(exposures: np.ndarray) -> list:
    iu, ju = np.nonzero(np.triu(exposures, 1))
    return [[int(i), int(j), float(exposures[i, j])] for i, j in zip(iu, ju)]


def _edges_from(raw: Any, n: int, path: str) -> np.ndarray:
    """An (n, n) exposure matrix from [i, j, € million] triples (LabError names ``path``)."""
    if not isinstance(raw, list) or len(raw) > n * (n - 1) // 2:
        raise LabError(f"{path} must be a list of [i, j, € million] triples")
    exposures = np.zeros((n, n))
    for k, e in enumerate(raw):
        if not isinstance(e, list) or len(e) != 3:
            raise LabError(f"{path}[{k}] must be [i, j, € million]")
        i = integer(e[0], f"{path}[{k}][0]", 0, n - 1)
        j = integer(e[1], f"{path}[{k}][1]", 0, n - 1)
        if i == j:
            raise LabError(f"{path}[{k}] links a firm with itself")
        exposures[i, j] = exposures[j, i] = number(e[2], f"{path}[{k}][2]", 0.0, _g.EXPOSURE_MAX)
    return exposures


LAB = LabInfo(
    lab_id="graph",
    title="Default contagion on a lending network",
    state_factory=GraphState,
    gui_module="bceviz.gui.labs.graph",
    description="A two-layer graph network asks every firm a yes/no question — will it "
                "default? — trained with masked BCE against a baseline that ignores the graph",
)

__all__ = [
    "DEFAULT_CONFIG", "GENERATING_PROCESS", "LAB", "MAX_STEPS_PER_CALL", "ComparisonRow",
    "FirmLoss", "GraphFigures", "GraphState", "Mover", "Score", "firm_name", "fmt",
]
