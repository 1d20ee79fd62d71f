"""The multi-label lab's state: 2-D points with K labels, a sigmoid each, thresholds per label.

A point may carry several labels at once. Each label has its own sigmoid and
the objective is the sum of the labels' mean BCEs (``bceviz.engine.multilabel``):
the Hessian is block diagonal, so learning one label never disturbs another.
A toggle puts a shared tanh layer under the heads, and the blocks that touch
it fill in. Thresholds are chosen per label on a held-out split (best F1, or
the least cost for a per-label cost ratio) and shown against 0.5.

Events (keywords only):

========  ================================================================
data      points or labels changed (``kind``: "generate" or "file")
model     the parameters changed (``reason``: "step", "reset", "fit",
          "settings" or "data")
settings  a setting changed (``names``: which)
view      a display option changed (held-out points shown or not)
========  ================================================================

Everything a panel shows is computed here, once per state version
(``self.version``), and returned as frozen objects: :meth:`grid` (probability
maps and their sum), :meth:`hessian_figure`, :meth:`threshold_figure`,
:meth:`points_figure`, :meth:`code`. Data sets are illustrative: seeded
points N(0, 1.2²) with labels drawn around one line per label (the
generating parameters are in :meth:`data_description`). At most
``MAX_POINTS`` points; a CSV holds x1, x2 and 2–4 label columns (0/1 or soft)
and is read by :func:`bceviz.model.datafiles.read_table_csv`; its features
are standardised (the axes say so).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from bceviz.engine import metrics as _metrics
from bceviz.engine import multilabel as _ml
from bceviz.engine.losses import LossSpec, sigmoid
from bceviz.engine.multiclass import stratified_split
from bceviz.model import datafiles as _datafiles
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

MAX_POINTS = 2000
MIN_POINTS = 20
MIN_LABELS, MAX_LABELS = 2, 4
MAX_HIDDEN = 4
#: Cells per side of each probability map.
GRID = 100
#: Half-width of the maps (data units) for generated data; files: the data's extent.
EXTENT = 3.5
#: Steps the "fit" of a model with the shared layer takes (Adam, from a fresh start).
SHARED_FIT_STEPS = 1500
DEFAULT_LABEL_NAMES = ("comedy", "romance", "action", "drama")
THRESHOLD_METRICS = ("f1", "cost")
STARTS = ("zero", "fit")
#: Thresholds at which the panel's metric curves are sampled.
CURVE_THRESHOLDS = np.linspace(0.01, 0.99, 99)
MAX_NAME = 24
#: The most steps one ``step(n)`` call takes (the CLI's --train-steps may ask for more).
MAX_STEPS_PER_CALL = 200_000
#: Below this gradient norm a gradient step moves nothing: training has converged.
CONVERGED_GRAD = 1e-13

DEFAULTS: dict[str, Any] = {
    "dataset": "independent",
    "n_points": 300,
    "n_labels": 3,
    "seed": 0,
    "blur": 0.25,
    "heldout_fraction": 0.3,
    "l2": 0.01,
    "lr": 1.0,
    "optimizer": "gd",
    "shared_layer": False,
    "hidden_units": 3,
    "pos_weight": 1.0,
    "threshold_metric": "f1",
    "cost_ratio": 1.0,
    "start": "zero",
    "steps_per_frame": 1,
    "label_names": None,
    "map_label": None,
}
#: Settings whose change makes new data.
DATA_KEYS = frozenset({"dataset", "n_points", "n_labels", "seed", "blur", "heldout_fraction"})
#: Settings whose change rebuilds the model from its start.
STRUCTURE_KEYS = frozenset({"shared_layer", "hidden_units", "start"})


# --------------------------------------------------------------------------- figures
@dataclass(frozen=True, eq=False)
class ProbabilityGrid:
    """Probability maps on a GRID × GRID lattice: ``P[k]`` rows along x2, columns along x1.

    ``sum`` = Σ_k P[k] in [0, K] (it may exceed 1: the labels are not
    exclusive); ``sum_max`` / ``sum_min`` its extremes on the map and
    ``above_one_share`` the fraction of the map's area where it exceeds 1.
    """

    xs: np.ndarray
    ys: np.ndarray
    P: np.ndarray
    sum: np.ndarray
    sum_max: float
    sum_min: float
    above_one_share: float
    extent: float


@dataclass(frozen=True, eq=False)
class HessianFigure:
    """The Hessian at the current parameters, grouped label by label (then shared units).

    ``block_sizes`` and ``block_names`` describe the groups; ``block_max`` is
    max |H| per block pair; ``head_head_max`` the largest |entry| of any
    off-diagonal head-head block (exactly 0.0); ``head_shared_max`` that of
    the head-unit blocks (None without a shared layer).
    """

    H: np.ndarray
    block_sizes: tuple[int, ...]
    block_names: tuple[str, ...]
    param_names: tuple[str, ...]
    block_max: np.ndarray
    head_head_max: float
    head_shared_max: float | None
    n_heads: int
    shared: bool


@dataclass(frozen=True)
class LabelMetrics:
    precision: float
    recall: float
    f1: float

    def to_dict(self) -> dict:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass(frozen=True, eq=False)
class LabelThreshold:
    """One label's threshold, chosen on held-out data, and its metrics against 0.5."""

    name: str
    prevalence: float
    threshold: float
    chosen: bool  # False: the held-out split had one class, 0.5 kept
    metric: str
    metric_value: float | None
    cost_ratio: float
    train_at_half: LabelMetrics
    heldout_at_half: LabelMetrics
    train_at_threshold: LabelMetrics
    heldout_at_threshold: LabelMetrics
    curve: np.ndarray  # the metric on held-out data at CURVE_THRESHOLDS
    note: str


@dataclass(frozen=True, eq=False)
class ThresholdFigure:
    labels: tuple[LabelThreshold, ...]
    thresholds: np.ndarray  # CURVE_THRESHOLDS
    metric: str
    soft_labels: bool
    n_train: int
    n_heldout: int


@dataclass(frozen=True, eq=False)
class PointsFigure:
    """The points for the maps: coordinates, hard labels, label-set bitmasks, held-out mask."""

    X: np.ndarray
    Y: np.ndarray  # as given (soft allowed)
    hard: np.ndarray  # Y >= 0.5
    codes: np.ndarray  # Σ_k hard_k 2^k
    n_labels_per_point: np.ndarray
    multi_share: float  # share of the points carrying two or more labels
    heldout: np.ndarray
    label_names: tuple[str, ...]


# --------------------------------------------------------------------------- validation
def _per_label(value: Any, path: str, n_labels: int, lo: float, hi: float) -> tuple[float, ...]:
    if isinstance(value, (list, tuple)):
        if len(value) != n_labels:
            raise LabError(f"{path} must hold one number per label ({n_labels}), got {len(value)}")
        return tuple(number(v, f"{path}[{k}]", lo, hi) for k, v in enumerate(value))
    return (number(value, path, lo, hi),) * n_labels


def _names(value: Any, path: str, n_labels: int) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_LABEL_NAMES[:n_labels]
    if not isinstance(value, (list, tuple)) or len(value) != n_labels:
        raise LabError(f"{path} must be a list of {n_labels} names")
    out = []
    for k, name in enumerate(value):
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            raise LabError(f"{path}[{k}] must be a name of 1 to {MAX_NAME} characters")
        out.append(name.strip())
    if len(set(out)) != len(out):
        raise LabError(f"{path}: the names must differ")
    return tuple(out)


def validate_settings(raw: dict, base: dict | None = None) -> dict:
    """Complete, validated settings: ``raw`` over ``base`` (default DEFAULTS).

    Raises LabError naming the field.
    """
    check_keys(raw, "settings", set(DEFAULTS))
    merged = dict(DEFAULTS if base is None else base)
    merged.update(raw)
    s: dict[str, Any] = {}
    s["dataset"] = choice(merged["dataset"], "settings.dataset",
                          (*_ml.MULTILABEL_DATASETS, "file"))
    if s["dataset"] == "file" and (base is None or base.get("dataset") != "file"):
        raise LabError("settings.dataset: 'file' is set by loading a CSV file")
    s["n_points"] = integer(merged["n_points"], "settings.n_points", MIN_POINTS, MAX_POINTS)
    K = s["n_labels"] = integer(merged["n_labels"], "settings.n_labels", MIN_LABELS, MAX_LABELS)
    s["seed"] = integer(merged["seed"], "settings.seed", 0, 2**31 - 1)
    s["blur"] = number(merged["blur"], "settings.blur", 0.0, 2.0)
    s["heldout_fraction"] = number(merged["heldout_fraction"], "settings.heldout_fraction",
                                   0.1, 0.6)
    s["l2"] = number(merged["l2"], "settings.l2", 0.0, 10.0)
    s["lr"] = number(merged["lr"], "settings.lr", 0.0, 50.0, lo_open=True)
    s["optimizer"] = choice(merged["optimizer"], "settings.optimizer", _ml.OPTIMIZERS)
    s["shared_layer"] = boolean(merged["shared_layer"], "settings.shared_layer")
    s["hidden_units"] = integer(merged["hidden_units"], "settings.hidden_units", 1, MAX_HIDDEN)
    pw = merged["pos_weight"]
    if isinstance(pw, (list, tuple)) and len(pw) != K and "pos_weight" not in raw:
        pw = 1.0  # the label count changed: per-label values start again
    s["pos_weight"] = _per_label(pw, "settings.pos_weight", K, 0.05, 50.0)
    cr = merged["cost_ratio"]
    if isinstance(cr, (list, tuple)) and len(cr) != K and "cost_ratio" not in raw:
        cr = 1.0
    s["cost_ratio"] = _per_label(cr, "settings.cost_ratio", K, 0.05, 50.0)
    s["threshold_metric"] = choice(merged["threshold_metric"], "settings.threshold_metric",
                                   THRESHOLD_METRICS)
    s["start"] = choice(merged["start"], "settings.start", STARTS)
    s["steps_per_frame"] = integer(merged["steps_per_frame"], "settings.steps_per_frame", 1, 100)
    names = merged["label_names"]
    if isinstance(names, (list, tuple)) and len(names) != K and "label_names" not in raw:
        names = None
    s["label_names"] = _names(names, "settings.label_names", K)
    shown = merged["map_label"]
    if isinstance(shown, int) and not isinstance(shown, bool) and shown >= K \
            and "map_label" not in raw:
        shown = None
    s["map_label"] = None if shown is None else integer(shown, "settings.map_label", 0, K - 1)
    return s


def _json_settings(s: dict) -> dict:
    out = dict(s)
    for key in ("pos_weight", "cost_ratio", "label_names"):
        out[key] = list(s[key])
    return out


def _finite(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _metrics_at(y: np.ndarray, scores: np.ndarray, threshold: float) -> LabelMetrics:
    if y.size == 0:
        return LabelMetrics(0.0, 0.0, 0.0)
    r = _metrics.classification_report(y, scores, threshold)
    return LabelMetrics(r["precision"], r["recall"], r["f1"])


def _curve(y: np.ndarray, scores: np.ndarray, metric: str, cost_fn: float) -> np.ndarray:
    """F1 (or mean cost per sample) at CURVE_THRESHOLDS; zeros for empty data."""
    if y.size == 0:
        return np.zeros(CURVE_THRESHOLDS.size)
    pred = scores[None, :] >= CURVE_THRESHOLDS[:, None]
    pos = y[None, :] == 1.0
    tp = np.count_nonzero(pred & pos, axis=1).astype(float)
    fp = np.count_nonzero(pred & ~pos, axis=1).astype(float)
    fn = np.count_nonzero(~pred & pos, axis=1).astype(float)
    if metric == "f1":
        den = 2 * tp + fp + fn
        return np.divide(2 * tp, den, out=np.zeros_like(den), where=den > 0)
    return (cost_fn * fn + fp) / y.size


# --------------------------------------------------------------------------- the state
class MultilabelState(LabState):
    """Points with several labels each, and the live multi-label model (see the module doc)."""

    lab_id = "multilabel"
    EVENTS = ("data", "model", "settings", "view")

    def __init__(self) -> None:
        super().__init__()
        self.version = 0
        self._cache: dict[str, tuple[int, Any]] = {}
        self.show_heldout = True
        self._apply_all(validate_settings({}), *self._generate(validate_settings({})))

    def _emit(self, name: str, **info: Any) -> None:
        getattr(self.events, name).emit(**info)

    # ------------------------------------------------------------------ data
    @staticmethod
    def _generate(s: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
        X, Y = _ml.multilabel_dataset(s["dataset"], s["n_points"], s["n_labels"], seed=s["seed"],
                                      blur=s["blur"])
        heldout = _split(Y, s["heldout_fraction"], s["seed"])
        source = {"kind": "generated", "feature_names": ["x1", "x2"], "standardized": False,
                  "extent": EXTENT}
        return X, Y, heldout, source

    def data_description(self) -> str:
        """What the points are, with the generating parameters (plain text)."""
        s = self.settings
        if self.source["kind"] == "file":
            return (f"{self.n_points} points from {os.path.basename(self.source['path'])} "
                    f"(features standardised), {self.n_labels} labels")
        return (f"Illustrative data: {s['n_points']} points N(0, 1.2²), {s['n_labels']} labels "
                f"({s['dataset']}, boundary blur {s['blur']:g}, seed {s['seed']}); "
                f"{int(self.heldout.sum())} held out")

    def _apply_all(self, s: dict, X, Y, heldout, source, *,
                   params: _ml.SharedParams | None = None, steps: int = 0) -> None:
        """Assign settings and data and build the model (everything validated already)."""
        self.settings = s
        self.X, self.Y, self.heldout, self.source = X, Y, heldout, source
        self.steps_per_frame = s["steps_per_frame"]
        self._build_trainer(params, steps)
        self.version += 1

    def _specs(self, s: dict | None = None) -> tuple[LossSpec, ...]:
        s = self.settings if s is None else s
        return tuple(LossSpec(pos_weight=w) for w in s["pos_weight"])

    def _build_trainer(self, params: _ml.SharedParams | None, steps: int) -> None:
        s = self.settings
        train = ~self.heldout
        self.trainer = _ml.MultilabelTrainer(
            self.X[train], self.Y[train], self._specs(), l2=s["l2"],
            hidden_units=s["hidden_units"] if s["shared_layer"] else 0,
            optimizer=s["optimizer"], lr=s["lr"], seed=s["seed"])
        if params is not None:
            self.trainer.set_params(params)
            self._steps_offset = steps
        else:
            self._steps_offset = 0
            if s["start"] == "fit":
                self._fit_trainer()

    def _fit_trainer(self) -> None:
        s = self.settings
        train = ~self.heldout
        if not s["shared_layer"]:
            W, b = _ml.fit_multilabel(self.X[train], self.Y[train], l2=s["l2"], spec=self._specs())
            m = self.trainer.params
            self.trainer.set_params(_ml.SharedParams(W=W, b=b, A=m.A, c=m.c))
        else:
            helper = _ml.MultilabelTrainer(
                self.X[train], self.Y[train], self._specs(), l2=s["l2"],
                hidden_units=s["hidden_units"], optimizer="adam", lr=0.05, seed=s["seed"])
            helper.step(SHARED_FIT_STEPS)
            self.trainer.set_params(helper.params)

    # ------------------------------------------------------------------ properties
    @property
    def n_points(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_labels(self) -> int:
        return int(self.Y.shape[1])

    @property
    def label_names(self) -> tuple[str, ...]:
        return self.settings["label_names"]

    @property
    def steps(self) -> int:
        return self._steps_offset + self.trainer.steps

    @property
    def params(self) -> _ml.SharedParams:
        return self.trainer.params

    @property
    def shared(self) -> bool:
        return bool(self.settings["shared_layer"])

    def can_train(self) -> bool:
        return not self.trainer.diverged

    # ------------------------------------------------------------------ gestures
    def apply_settings(self, settings: dict) -> None:
        """A stage's settings over the defaults: new data, a fresh model (all or nothing)."""
        s = validate_settings(settings or {})
        X, Y, heldout, source = self._generate(s)
        with self.transaction():
            self.set_running(False)
            self._apply_all(s, X, Y, heldout, source)
            self.show_heldout = True
            self._emit_all("reset", "generate", tuple(s))

    def _emit_all(self, reason: str, kind: str, names: tuple) -> None:
        self._emit("data", kind=kind)
        self._emit("settings", names=names)
        self._emit("model", reason=reason)
        self._emit("view")

    def update(self, **changes: Any) -> None:
        """Change some settings (validated together first; all or nothing).

        Data settings make new data; ``shared_layer``, ``hidden_units`` and
        ``start`` rebuild the model from its start; the loss settings,
        ``l2``, ``lr`` and ``optimizer`` act on the running model.
        """
        if not changes:
            return
        base = dict(self.settings)
        if self.source["kind"] == "file" and DATA_KEYS & set(changes) - {"heldout_fraction"}:
            base["dataset"] = DEFAULTS["dataset"]
        s = validate_settings(changes, base)
        changed = tuple(k for k in changes if s[k] != self.settings[k])
        if not changed:
            return
        names = set(changed)
        with self.transaction():
            if names & DATA_KEYS:
                if self.source["kind"] == "file" and names <= {"heldout_fraction"}:
                    X, Y, source = self.X, self.Y, self.source
                    heldout = _split(Y, s["heldout_fraction"], s["seed"])
                else:
                    X, Y, heldout, source = self._generate(s)
                self._apply_all(s, X, Y, heldout, source)
                self._emit("data", kind="generate")
                self._emit("model", reason="data")
            elif names & STRUCTURE_KEYS:
                self.settings = s
                self._build_trainer(None, 0)
                self.version += 1
                self._emit("model", reason="settings")
            else:
                old = self.settings
                self.settings = s
                self.steps_per_frame = s["steps_per_frame"]
                tr = self.trainer
                if s["pos_weight"] != old["pos_weight"]:
                    tr.set_spec(self._specs())
                if s["l2"] != old["l2"]:
                    tr.l2 = s["l2"]
                if s["lr"] != old["lr"]:
                    tr.lr = s["lr"]
                if s["optimizer"] != old["optimizer"]:
                    tr.set_optimizer(s["optimizer"])
                self.version += 1
                if names & {"pos_weight", "l2"}:
                    self._emit("model", reason="settings")
                if "map_label" in names:
                    self._emit("view")
            self._emit("settings", names=changed)

    def set_pos_weight(self, label: int, value: float) -> None:
        """pos_weight of one label (0.05–50), as PyTorch's ``pos_weight[label]``."""
        k = integer(label, "label", 0, self.n_labels - 1)
        values = list(self.settings["pos_weight"])
        values[k] = number(value, f"pos_weight[{k}]", 0.05, 50.0)
        self.update(pos_weight=values)

    def set_cost_ratio(self, label: int, value: float) -> None:
        """Cost of a missed positive over a false alarm for one label (0.05–50)."""
        k = integer(label, "label", 0, self.n_labels - 1)
        values = list(self.settings["cost_ratio"])
        values[k] = number(value, f"cost_ratio[{k}]", 0.05, 50.0)
        self.update(cost_ratio=values)

    def set_map_label(self, label: int | None) -> None:
        """Show every label's map (None) or label ``label``'s map large."""
        self.update(map_label=None if label is None else
                    integer(label, "map_label", 0, self.n_labels - 1))

    def set_show_heldout(self, on: bool) -> None:
        on = boolean(on, "show_heldout")
        if on != self.show_heldout:
            self.show_heldout = on
            self._emit("view")

    def new_data(self) -> None:
        """The next seed's data (generated data only)."""
        if self.source["kind"] == "file":
            raise LabError("the points come from a file; choose a data set to generate new ones")
        self.update(seed=(self.settings["seed"] + 1) % 2**31)

    def load_csv(self, path: str) -> None:
        """Points from a CSV: x1, x2 and 2–4 label columns in [0, 1] (nothing changes on error)."""
        try:
            table = _datafiles.read_table_csv(path, max_rows=MAX_POINTS)
            X, Y, feature_names, label_names = _read_multilabel_table(path, table)
        except _datafiles.DataFileError as exc:
            self.set_status(str(exc), "error")
            raise LabError(str(exc)) from exc
        mean, std = X.mean(axis=0), X.std(axis=0)
        Xs = (X - mean) / std
        K = Y.shape[1]
        s = validate_settings({"n_labels": K, "label_names": list(label_names),
                               "pos_weight": 1.0, "cost_ratio": 1.0},
                              {**self.settings, "dataset": "file"})
        s["n_points"] = min(max(X.shape[0], MIN_POINTS), MAX_POINTS)
        heldout = _split(Y, s["heldout_fraction"], s["seed"])
        extent = float(max(EXTENT, 1.1 * np.abs(Xs).max()))
        source = {"kind": "file", "path": str(path), "feature_names": list(feature_names),
                  "standardized": True, "mean": mean.tolist(), "std": std.tolist(),
                  "extent": extent}
        with self.transaction():
            self.set_running(False)
            self._apply_all(s, Xs, Y, heldout, source)
            self._emit_all("data", "file", tuple(s))
        self.set_status(f"Loaded {X.shape[0]} points with {K} labels from "
                        f"{os.path.basename(str(path))}")

    def fit(self) -> None:
        """Jump to the trained optimum (no shared layer: exact; shared: 1,500 Adam steps)."""
        self._fit_trainer()
        self.version += 1
        self._emit("model", reason="fit")

    # ------------------------------------------------------------------ LabState
    def step(self, n: int = 1) -> int:
        """n optimizer steps (at most MAX_STEPS_PER_CALL); returns how many were done.

        Once the gradient has vanished (norm below CONVERGED_GRAD) a further
        step cannot move the parameters, so the remaining steps are counted
        without being computed: ``step(10**6)`` returns quickly once converged.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise LabError(f"n must be a whole number >= 0, got {n!r}")
        n = min(n, MAX_STEPS_PER_CALL)
        taken = 0
        while taken < n:
            chunk = min(n - taken, 500)
            done = self.trainer.step(chunk)
            taken += done
            if done < chunk:
                break
            if taken < n and self.trainer.grad_norm < CONVERGED_GRAD:
                self._steps_offset += n - taken
                taken = n
        if taken:
            self.version += 1
            self._emit("model", reason="step")
        if self.trainer.diverged:
            self.set_running(False)
            self.set_status(self.trainer.status, "error")
        return taken

    def reset(self) -> None:
        self._build_trainer(None, 0)
        self.version += 1
        self._emit("model", reason="reset")

    # ------------------------------------------------------------------ derived figures
    def _cached(self, name: str, compute):
        hit = self._cache.get(name)
        if hit is not None and hit[0] == self.version:
            return hit[1]
        value = compute()
        self._cache[name] = (self.version, value)
        return value

    def _probabilities(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(_ml.shared_logits(X, self.params))

    def point_probabilities(self) -> np.ndarray:
        """P(label k) for every point (n, K)."""
        return self._cached("point_p", lambda: self._probabilities(self.X))

    def _grid_points(self, extent: float) -> tuple[np.ndarray, np.ndarray]:
        """The lattice (xs, points (G², 2)), kept while the extent stays."""
        key = ("lattice", extent)
        if getattr(self, "_lattice_key", None) != key:
            xs = np.linspace(-extent, extent, GRID)
            gx, gy = np.meshgrid(xs, xs)
            self._lattice = (xs, np.column_stack([gx.ravel(), gy.ravel()]))
            self._lattice_key = key
        return self._lattice

    def grid(self) -> ProbabilityGrid:
        """The probability map of each label and their sum (cached per version).

        One (K, d) × (d, G²) product a frame (plus the shared units' tanh), and
        σ as 1/(1 + e^(−z)), exact to rounding and finite for every logit
        (e^(−z) overflows to inf for z < −709, giving 0).
        """
        def compute() -> ProbabilityGrid:
            extent = float(self.source["extent"])
            xs, pts = self._grid_points(extent)
            p = self.params
            F = np.hstack([pts, np.tanh(pts @ p.A + p.c)]) if p.n_hidden else pts
            Z = p.W.T @ F.T
            Z += p.b[:, None]
            with np.errstate(over="ignore"):
                np.negative(Z, out=Z)
                np.exp(Z, out=Z)
                Z += 1.0
                np.reciprocal(Z, out=Z)
            P = Z.reshape(self.n_labels, GRID, GRID)
            total = P.sum(axis=0)
            return ProbabilityGrid(xs=xs, ys=xs, P=P, sum=total, sum_max=float(total.max()),
                                   sum_min=float(total.min()),
                                   above_one_share=float(np.mean(total > 1.0)), extent=extent)
        return self._cached("grid", compute)

    def thresholds(self) -> np.ndarray:
        """Each label's threshold (K,), chosen on the held-out split; 0.5 where it cannot be."""
        return self._cached("thresholds_only", self._compute_threshold_values)

    def _compute_threshold_values(self) -> np.ndarray:
        s = self.settings
        P = self.point_probabilities()
        held = self.heldout
        hard = (self.Y[held] >= 0.5).astype(np.float64)
        out = np.full(self.n_labels, 0.5)
        for k in range(self.n_labels):
            try:
                if s["threshold_metric"] == "f1":
                    t, _ = _metrics.best_threshold(hard[:, k], P[held, k], "f1")
                else:
                    t, _ = _metrics.best_threshold(hard[:, k], P[held, k], "cost",
                                                   cost_fn=s["cost_ratio"][k], cost_fp=1.0)
                out[k] = min(t, 1.0)
            except ValueError:
                pass
        return out

    def hessian_figure(self) -> HessianFigure:
        """The exact Hessian of the training objective at the current parameters."""
        def compute() -> HessianFigure:
            p = self.params
            H = self.trainer.hessian()
            sizes = tuple(p.block_sizes())
            K, m = p.n_labels, p.n_hidden
            names = self.label_names + tuple(f"h{j + 1}" for j in range(m))
            inputs = ("w_x1", "w_x2") + tuple(f"w_h{j + 1}" for j in range(m))
            params = []
            for k in range(K):
                params += [f"{self.label_names[k]}: {w}" for w in inputs] + [
                    f"{self.label_names[k]}: b"]
            for j in range(m):
                params += [f"h{j + 1}: a_x1", f"h{j + 1}: a_x2", f"h{j + 1}: c"]
            blocks = _ml.block_max_abs(H, sizes)
            heads = blocks[:K, :K]
            off = heads[~np.eye(K, dtype=bool)]
            hh = float(off.max()) if off.size else 0.0
            hs = float(blocks[:K, K:].max()) if m else None
            return HessianFigure(H=H, block_sizes=sizes, block_names=names,
                                 param_names=tuple(params), block_max=blocks, head_head_max=hh,
                                 head_shared_max=hs, n_heads=K, shared=m > 0)
        return self._cached("hessian", compute)

    def threshold_figure(self) -> ThresholdFigure:
        """Per-label thresholds chosen on the held-out split, with precision and recall."""
        return self._cached("thresholds", self._compute_thresholds)

    def _compute_thresholds(self) -> ThresholdFigure:
        s = self.settings
        P = self.point_probabilities()
        hard = _metrics.hard_labels(self.Y)
        held, train = self.heldout, ~self.heldout
        metric = s["threshold_metric"]
        out = []
        for k, name in enumerate(self.label_names):
            yh, ph = hard[held, k], P[held, k]
            yt, pt = hard[train, k], P[train, k]
            ratio = s["cost_ratio"][k]
            note = ""
            try:
                if metric == "f1":
                    t, value = _metrics.best_threshold(yh, ph, "f1")
                else:
                    t, value = _metrics.best_threshold(yh, ph, "cost", cost_fn=ratio, cost_fp=1.0)
                chosen = True
                value_opt: float | None = _finite(value)
                if t > 1.0:
                    t, note = 1.0, "nothing predicted positive"
            except ValueError:
                t, chosen, value_opt = 0.5, False, None
                only = int(yh[0]) if yh.size else 0
                note = f"held-out data hold only label {only}: 0.5 kept"
            out.append(LabelThreshold(
                name=name, prevalence=float(hard[train, k].mean()) if train.any() else 0.0,
                threshold=float(t), chosen=chosen, metric=metric, metric_value=value_opt,
                cost_ratio=ratio,
                train_at_half=_metrics_at(yt, pt, 0.5), heldout_at_half=_metrics_at(yh, ph, 0.5),
                train_at_threshold=_metrics_at(yt, pt, t),
                heldout_at_threshold=_metrics_at(yh, ph, t),
                curve=_curve(yh, ph, metric, ratio), note=note))
        soft = bool(np.any((self.Y != 0.0) & (self.Y != 1.0)))
        return ThresholdFigure(labels=tuple(out), thresholds=CURVE_THRESHOLDS, metric=metric,
                               soft_labels=soft, n_train=int(train.sum()),
                               n_heldout=int(held.sum()))

    def points_figure(self) -> PointsFigure:
        def compute() -> PointsFigure:
            hard = self.Y >= 0.5
            codes = (hard * (1 << np.arange(self.n_labels))).sum(axis=1).astype(np.intp)
            per_point = hard.sum(axis=1)
            return PointsFigure(X=self.X, Y=self.Y, hard=hard, codes=codes,
                                n_labels_per_point=per_point,
                                multi_share=float(np.mean(per_point >= 2)),
                                heldout=self.heldout, label_names=self.label_names)
        return self._cached("points", compute)

    def label_correlation(self) -> np.ndarray:
        """Correlation (phi) of the hard labels over all points, (K, K); 0 where undefined."""
        def compute() -> np.ndarray:
            hard = (self.Y >= 0.5).astype(float)
            centred = hard - hard.mean(axis=0)
            norm = np.sqrt((centred**2).sum(axis=0))
            den = np.outer(norm, norm)
            C = np.divide(centred.T @ centred, den, out=np.zeros((self.n_labels,) * 2),
                          where=den > 0)
            return C
        return self._cached("corr", compute)

    def loss_per_label(self) -> np.ndarray:
        return self.trainer.loss_per_label

    # ------------------------------------------------------------------ code
    def code(self, framework: str) -> str:
        """"Copy as code": the current model as PyTorch or scikit-learn (plain text)."""
        choice(framework, "framework", ("pytorch", "sklearn"))
        return self._cached(f"code_{framework}", lambda: (
            pytorch_code(self) if framework == "pytorch" else sklearn_code(self)))

    # ------------------------------------------------------------------ report and sessions
    def report(self) -> dict:
        s = self.settings
        p = self.params
        th = self.threshold_figure()
        hess = self.hessian_figure()
        g = self.grid()
        losses = self.loss_per_label()
        d = 2
        labels = []
        for k, lt in enumerate(th.labels):
            entry = {
                "name": lt.name,
                "weights": [float(v) for v in p.W[:d, k]],
                "bias": float(p.b[k]),
                "pos_weight": s["pos_weight"][k],
                "train_loss": _finite(losses[k]),
                "prevalence": lt.prevalence,
                "threshold": lt.threshold,
                "threshold_chosen_on_heldout": lt.chosen,
                "threshold_metric": lt.metric,
                "cost_ratio": lt.cost_ratio,
                "metric_value": lt.metric_value,
                "train_at_threshold": lt.train_at_threshold.to_dict(),
                "heldout_at_threshold": lt.heldout_at_threshold.to_dict(),
                "train_at_0.5": lt.train_at_half.to_dict(),
                "heldout_at_0.5": lt.heldout_at_half.to_dict(),
            }
            if p.n_hidden:
                entry["hidden_weights"] = [float(v) for v in p.W[d:, k]]
            labels.append(entry)
        out = {
            "dataset": s["dataset"],
            "data": self.data_description(),
            "n_points": self.n_points,
            "n_train": th.n_train,
            "n_heldout": th.n_heldout,
            "n_labels": self.n_labels,
            "steps": self.steps,
            "objective": _finite(self.trainer.objective),
            "l2": s["l2"],
            "shared_layer": self.shared,
            "hidden_units": p.n_hidden,
            "labels": labels,
            "map": {"sum_min": g.sum_min, "sum_max": g.sum_max,
                    "above_one_share": g.above_one_share,
                    "multi_label_share": self.points_figure().multi_share},
            "hessian": {
                "size": int(hess.H.shape[0]),
                "max_abs_off_diagonal_head_blocks": hess.head_head_max,
                "max_abs_head_shared_blocks": hess.head_shared_max,
            },
            "status": self.trainer.status,
        }
        if p.n_hidden:
            out["shared_units"] = {"A": p.A.tolist(), "c": p.c.tolist()}
        return out

    def to_dict(self) -> dict:
        return {
            "format": 1,
            "settings": _json_settings(self.settings),
            "data": {"X": self.X.tolist(), "Y": self.Y.tolist(),
                     "heldout": [bool(v) for v in self.heldout], "source": dict(self.source)},
            "model": {"theta": self.params.flat().tolist(), "steps": self.steps},
            "view": {"show_heldout": self.show_heldout},
        }

    def restore(self, payload: dict) -> None:
        """A session's payload (validated completely first; the state is untouched on error)."""
        check_keys(payload, "multilabel", {"format", "settings", "data", "model", "view"})
        if payload.get("format") != 1:
            raise LabError("multilabel.format must be 1")
        for key in ("settings", "data", "model"):
            if key not in payload:
                raise LabError(f"multilabel.{key} is missing")
        data = check_keys(payload["data"], "multilabel.data", {"X", "Y", "heldout", "source"})
        source = _check_source(data.get("source"))
        raw = payload["settings"]
        base = {**DEFAULTS, "dataset": "file"} if source["kind"] == "file" else None
        s = validate_settings(check_keys(raw, "multilabel.settings", set(DEFAULTS)), base)
        X = _array(data.get("X"), "multilabel.data.X", (None, 2))
        n = X.shape[0]
        if not MIN_POINTS // 2 <= n <= MAX_POINTS:
            raise LabError(f"multilabel.data.X must hold {MIN_POINTS // 2} to {MAX_POINTS} points")
        Y = _array(data.get("Y"), "multilabel.data.Y", (n, s["n_labels"]))
        if not np.all((Y >= 0) & (Y <= 1)):
            raise LabError("multilabel.data.Y: labels must be in [0, 1]")
        held = data.get("heldout")
        if not isinstance(held, list) or len(held) != n or not all(
                isinstance(v, bool) for v in held):
            raise LabError(f"multilabel.data.heldout must be {n} true/false values")
        heldout = np.array(held, dtype=bool)
        if heldout.all():
            raise LabError("multilabel.data.heldout: at least one point must be for training")
        model = check_keys(payload["model"], "multilabel.model", {"theta", "steps"})
        m = s["hidden_units"] if s["shared_layer"] else 0
        K = s["n_labels"]
        theta = _array(model.get("theta"), "multilabel.model.theta", (None,))
        try:
            params = _ml.SharedParams.from_flat(theta, 2, K, m)
        except ValueError as exc:
            raise LabError(f"multilabel.model.theta: {exc}") from None
        steps = integer(model.get("steps"), "multilabel.model.steps", 0, 10**12)
        view = check_keys(payload.get("view", {}), "multilabel.view", {"show_heldout"})
        show = boolean(view.get("show_heldout", True), "multilabel.view.show_heldout")
        with self.transaction():
            self.set_running(False)
            self._apply_all(s, X, Y, heldout, source, params=params, steps=steps)
            self.show_heldout = show
            self._emit_all("reset", "generate", tuple(s))


# --------------------------------------------------------------------------- helpers
def _split(Y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Held-out mask, stratified by label set (each set keeps a training point)."""
    codes = ((Y >= 0.5) * (1 << np.arange(Y.shape[1]))).sum(axis=1).astype(np.intp)
    return stratified_split(codes, max(2, 1 << Y.shape[1]), fraction, seed)


def _array(value: Any, path: str, shape: tuple) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise LabError(f"{path} must be an array of numbers") from None
    if arr.ndim != len(shape) or any(w is not None and a != w for a, w in zip(arr.shape, shape)):
        want = " × ".join("n" if w is None else str(w) for w in shape)
        raise LabError(f"{path} must have shape {want}, got {' × '.join(map(str, arr.shape))}")
    if not np.all(np.isfinite(arr)) or (arr.size and np.abs(arr).max() > 1e6):
        raise LabError(f"{path} must hold finite numbers of magnitude at most 1e6")
    return arr


def _check_source(value: Any) -> dict:
    src = check_keys(value, "multilabel.data.source",
                     {"kind", "path", "feature_names", "standardized", "mean", "std", "extent"})
    kind = choice(src.get("kind"), "multilabel.data.source.kind", ("generated", "file"))
    names = src.get("feature_names", ["x1", "x2"])
    if not isinstance(names, list) or len(names) != 2 or not all(
            isinstance(v, str) and 0 < len(v) <= 64 for v in names):
        raise LabError("multilabel.data.source.feature_names must be two names")
    extent = number(src.get("extent", EXTENT), "multilabel.data.source.extent", 1.0, 1e6)
    out: dict[str, Any] = {"kind": kind, "feature_names": names,
                           "standardized": bool(src.get("standardized", False)), "extent": extent}
    if kind == "file":
        path = src.get("path", "")
        if not isinstance(path, str):
            raise LabError("multilabel.data.source.path must be text")
        out["path"] = path
        for key in ("mean", "std"):
            v = src.get(key, [0.0, 1.0] if key == "std" else [0.0, 0.0])
            if not isinstance(v, list) or len(v) != 2:
                raise LabError(f"multilabel.data.source.{key} must be two numbers")
            out[key] = [number(x, f"multilabel.data.source.{key}", -1e12, 1e12) for x in v]
    return out


def _read_multilabel_table(path, table: _datafiles.Table):
    """(X, Y, feature names, label names) of a multi-label table, or DataFileError (where)."""
    n_cols = len(table.columns)
    if not 2 + MIN_LABELS <= n_cols <= 2 + MAX_LABELS:
        raise _datafiles.DataFileError(
            path, None, None,
            f"found {n_cols} columns; a multi-label file has x1, x2 and {MIN_LABELS} to "
            f"{MAX_LABELS} label columns (0/1 or soft labels in [0, 1])")
    data = table.data
    if data.shape[0] < MIN_POINTS // 2:
        raise _datafiles.DataFileError(
            path, None, None, f"has {data.shape[0]} rows; at least {MIN_POINTS // 2} are needed")
    Y = data[:, 2:]
    bad = ~((Y >= 0.0) & (Y <= 1.0))
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        raise _datafiles.DataFileError(
            path, int(table.line_numbers[r]), c + 3,
            f"label {float(Y[r, c])!r} in column {table.columns[c + 2]!r} is outside [0, 1]")
    for c in range(Y.shape[1]):
        positives = int(np.count_nonzero(Y[:, c] >= 0.5))
        if positives in (0, Y.shape[0]):
            raise _datafiles.DataFileError(
                path, None, c + 3,
                f"label column {table.columns[c + 2]!r} is all class {1 if positives else 0}; "
                "each label needs both classes (a label >= 0.5 counts as 1)")
    X = data[:, :2]
    for c in range(2):
        if float(X[:, c].std()) == 0.0:
            raise _datafiles.DataFileError(path, None, c + 1,
                                           f"feature column {table.columns[c]!r} is constant")
    names = [c[:MAX_NAME].strip() or f"label{j + 1}" for j, c in enumerate(table.columns[2:])]
    if not table.has_header or len(set(names)) != len(names):
        names = [f"label {j + 1}" for j in range(Y.shape[1])]
    return X.copy(), Y.copy(), tuple(table.columns[:2]), tuple(names)


def _literal(arr: np.ndarray, indent: int = 4) -> str:
    """A nested list literal of an array, rows on their own lines, values exact (repr)."""
    rows = [("[" + ", ".join(repr(float(v)) for v in row) + "]") for row in np.atleast_2d(arr)]
    pad = " " * indent
    return "[\n" + "".join(f"{pad}{r},\n" for r in rows) + "]"


def _int_literal(arr: np.ndarray, indent: int = 4) -> str:
    rows = [("[" + ", ".join(str(int(v)) for v in row) + "]") for row in arr]
    pad = " " * indent
    return "[\n" + "".join(f"{pad}{r},\n" for r in rows) + "]"


def _list(values) -> str:
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


def pytorch_code(state: MultilabelState) -> str:
    """PyTorch: K sigmoid heads (optionally a shared tanh layer), BCEWithLogitsLoss per label.

    The model, the loss and the training loop come first and the data last
    (hundreds of rows), so the lines that matter are on screen.
    """
    s = state.settings
    train = ~state.heldout
    X, Y = state.X[train], state.Y[train]
    K, m = state.n_labels, (s["hidden_units"] if s["shared_layer"] else 0)
    optimizer = ("torch.optim.SGD(model.parameters(), lr=lr)" if s["optimizer"] == "gd"
                 else "torch.optim.Adam(model.parameters(), lr=lr)")
    lines = [
        "# bceviz multi-label lab: one sigmoid per label, the loss summed over labels.",
        "import torch",
        "",
        "torch.set_default_dtype(torch.float64)",
        f"labels = {list(state.label_names)!r}",
        f"pos_weight = torch.tensor({_list(s['pos_weight'])})  # one per label",
        f"l2 = {s['l2']!r}  # l2/2 * ||weights||^2, biases not penalised",
        f"lr = {s['lr']!r}",
        "# reduction='none', then each label's mean, summed: bceviz's objective",
        "# (the default 'mean' would also divide by the number of labels).",
        "loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight, reduction=\"none\")",
        "",
    ]
    if m:
        lines += [
            "class SharedLayerNet(torch.nn.Module):",
            f"    \"\"\"{m} shared tanh units; every head reads the inputs and the units.\"\"\"",
            "",
            "    def __init__(self):",
            "        super().__init__()",
            f"        self.hidden = torch.nn.Linear(2, {m})",
            f"        self.heads = torch.nn.Linear(2 + {m}, {K})",
            "        torch.nn.init.zeros_(self.heads.weight)",
            "        torch.nn.init.zeros_(self.heads.bias)",
            "        torch.nn.init.zeros_(self.hidden.bias)",
            "",
            "    def forward(self, x):",
            "        return self.heads(torch.cat([x, torch.tanh(self.hidden(x))], dim=1))",
            "",
            "",
            "torch.manual_seed(0)  # bceviz draws the units' first weights from its own seed",
            "model = SharedLayerNet()",
            "weights = [model.heads.weight, model.hidden.weight]",
        ]
    else:
        lines += [
            f"model = torch.nn.Linear(2, {K})  # column k of the weights: label k's sigmoid",
            "torch.nn.init.zeros_(model.weight)",
            "torch.nn.init.zeros_(model.bias)",
            "weights = [model.weight]",
        ]
    lines += [
        f"optimizer = {optimizer}",
        "",
        "",
        "def train(X, Y, steps):",
        "    for _ in range(steps):",
        "        optimizer.zero_grad()",
        "        loss = loss_fn(model(X), Y).mean(dim=0).sum()",
        "        loss = loss + l2 / 2 * sum((w ** 2).sum() for w in weights)",
        "        loss.backward()",
        "        optimizer.step()",
        "",
        "",
        f"# {X.shape[0]} training points; Y: one column per label, 0/1 or soft",
        f"X = torch.tensor({_literal(X)})",
        f"Y = torch.tensor({_literal(Y)})",
        f"train(X, Y, steps={max(state.steps, 1)})",
        "probabilities = torch.sigmoid(model(X))  # rows need not sum to 1",
    ]
    return "\n".join(lines) + "\n"


def sklearn_code(state: MultilabelState) -> str:
    """scikit-learn: MultiOutputClassifier(LogisticRegression(C=1/(λ n))), per-label thresholds.

    The model first, the data last (see :func:`pytorch_code`).
    """
    s = state.settings
    train = ~state.heldout
    X, Y = state.X[train], state.Y[train]
    hard = (Y >= 0.5).astype(int)
    n = X.shape[0]
    C = "np.inf" if s["l2"] == 0 else f"1.0 / ({s['l2']!r} * {n})"
    weights = s["pos_weight"]
    th = state.threshold_figure()
    note = []
    if np.any((Y != 0) & (Y != 1)):
        note.append("# scikit-learn needs hard labels: the soft labels are read as 0/1 at 0.5.")
    if state.shared:
        note.append("# The shared tanh layer has no scikit-learn equivalent: these are the "
                    "independent heads.")
    thresholds = [lt.threshold for lt in th.labels]
    lines = [
        "# bceviz multi-label lab: one LogisticRegression per label.",
        *note,
        "import numpy as np",
        "from sklearn.linear_model import LogisticRegression",
        "from sklearn.multioutput import MultiOutputClassifier",
        "",
        f"labels = {list(state.label_names)!r}",
        f"C = {C}  # bceviz's l2 = lambda on the mean loss: C = 1 / (lambda * n)",
        "# chosen per label on held-out data (by bceviz, for its current model)",
        f"thresholds = np.array({_list(thresholds)})",
    ]
    uniform = all(w == weights[0] for w in weights)
    if uniform:
        cw = "" if weights[0] == 1.0 else f", class_weight={{0: 1.0, 1: {weights[0]!r}}}"
        lines += [
            "# tol: tight, for the same optimum as bceviz's Newton fit",
            f"model = MultiOutputClassifier(LogisticRegression(C=C{cw}, tol=1e-10,",
            "                                                  max_iter=10_000))",
        ]
    else:
        lines += [
            "# pos_weight differs per label; MultiOutputClassifier clones one estimator,",
            "# so each label gets its own class_weight (= pos_weight for 0/1 labels).",
            f"pos_weight = {_list(weights)}",
            "heads = [LogisticRegression(C=C, class_weight={0: 1.0, 1: w}, tol=1e-10,",
            "                            max_iter=10_000) for w in pos_weight]",
        ]
    lines += [
        "",
        f"# {n} training points; Y: one 0/1 column per label",
        f"X = np.array({_literal(X)})",
        "Y = np.array(" + _int_literal(hard) + ")",
    ]
    if uniform:
        lines += ["model.fit(X, Y)", "heads = model.estimators_"]
    else:
        lines += ["for k, head in enumerate(heads):", "    head.fit(X, Y[:, k])"]
    lines += [
        "P = np.column_stack([h.predict_proba(X)[:, 1] for h in heads])",
        "predicted = P >= thresholds",
    ]
    return "\n".join(lines) + "\n"


LAB = LabInfo(lab_id="multilabel", title="Many labels (independent sigmoids)",
              state_factory=MultilabelState, gui_module="bceviz.gui.labs.multilabel",
              description="Several labels per point: one sigmoid each, decoupled learning, "
                          "thresholds per label")

__all__ = ["LAB", "MultilabelState", "pytorch_code", "sklearn_code", "validate_settings"]
