"""The one-vs-rest lab's state: 2-D points of K classes, one sigmoid per class, softmax beside it.

Classes A, B, C, … become binary vectors ([0, 1, 0] for B) and each class
gets a sigmoid trained as "this class against the rest"
(``bceviz.engine.multiclass``). The K probabilities are independent, so the
map has regions where no classifier says yes (every p < 0.5) and regions
where several do; softmax regression on the same data is shown beside it, its
probabilities summing to 1 everywhere.

Events (keywords only):

========  ================================================================
data      points changed (``kind``: "generate", "file", "move", "add",
          "remove"; ``index`` names the point of an edit)
model     the weights changed (``reason``: "step", "reset", "fit", "data",
          "settings")
settings  a setting changed (``names``)
view      the class that clicks add changed
========  ================================================================

With ``auto_fit`` on and training paused, every edit refits both models to
their optima (warm-started Newton, a few milliseconds); while training runs
the edit changes the data under the running optimizer. Derived figures are
computed here once per state version: :meth:`grid` (the maps), :meth:`points_figure`,
:meth:`metrics_figure` (held-out confusion matrices, per-class ROC), :meth:`code`.
The data sets are illustrative: Gaussian clusters (parameters in
:meth:`data_description`); at most ``MAX_POINTS`` points; a CSV holds x1, x2
and an integer class column (3 to 5 distinct values) and is read by
:func:`bceviz.model.datafiles.read_table_csv`; its features are standardised.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from bceviz.engine import metrics as _metrics
from bceviz.engine import multiclass as _mc
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
MIN_CLASSES, MAX_CLASSES = 3, 5
#: Cells per side of each map.
GRID = 100
#: Half-width of the maps (data units) for generated data.
EXTENT = 4.0
DEFAULT_CLASS_NAMES = ("A", "B", "C", "D", "E")
STARTS = ("fit", "zero")
MAX_NAME = 16
#: The most steps one ``step(n)`` call takes.
MAX_STEPS_PER_CALL = 200_000
#: Below this gradient norm a gradient step moves nothing: training has converged.
CONVERGED_GRAD = 1e-13
#: Region codes of :attr:`MulticlassGrid.region`.
EXACTLY_ONE, NOBODY, SEVERAL = 0, 1, 2

DEFAULTS: dict[str, Any] = {
    "dataset": "ring",
    "n_points": 240,
    "n_classes": 4,
    "seed": 0,
    "spread": 0.7,
    "heldout_fraction": 0.3,
    "l2": 0.01,
    "lr": 1.0,
    "optimizer": "gd",
    "start": "fit",
    "auto_fit": True,
    "steps_per_frame": 1,
    "class_names": None,
    "add_class": 0,
    "map_class": None,
}
DATA_KEYS = frozenset({"dataset", "n_points", "n_classes", "seed", "spread", "heldout_fraction"})


# --------------------------------------------------------------------------- figures
@dataclass(frozen=True, eq=False)
class MulticlassGrid:
    """Both models on a GRID × GRID lattice (rows along x2, columns along x1).

    ``ovr``/``softmax``: (K, G, G) probabilities. ``region``: EXACTLY_ONE,
    NOBODY (every one-vs-rest p < 0.5) or SEVERAL (two or more p ≥ 0.5);
    ``ovr_argmax`` / ``softmax_argmax`` the decided class; ``disagree`` where
    the two argmaxes differ. Shares are fractions of the map's area.
    """

    xs: np.ndarray
    ys: np.ndarray
    ovr: np.ndarray
    softmax: np.ndarray
    ovr_argmax: np.ndarray
    softmax_argmax: np.ndarray
    n_yes: np.ndarray
    region: np.ndarray
    disagree: np.ndarray
    nobody_share: float
    several_share: float
    disagree_share: float
    ovr_sum_min: float
    ovr_sum_max: float
    extent: float


@dataclass(frozen=True, eq=False)
class PointsFigure:
    X: np.ndarray
    labels: np.ndarray
    heldout: np.ndarray
    ovr: np.ndarray  # (n, K)
    softmax: np.ndarray
    ovr_pred: np.ndarray
    softmax_pred: np.ndarray
    nobody: np.ndarray
    several: np.ndarray
    class_names: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class RocCurve:
    fpr: np.ndarray
    tpr: np.ndarray
    auc: float | None  # None: the held-out split lacks the class or its rest


@dataclass(frozen=True, eq=False)
class ModelMetrics:
    """One model's figures on the training and held-out points."""

    train_accuracy: float
    heldout_accuracy: float
    confusion: np.ndarray  # held-out (K, K): rows true class, columns decided class
    roc: tuple[RocCurve, ...]  # held-out, class k against the rest, scored by p_k
    recall: tuple[float, ...]  # held-out per class
    precision: tuple[float, ...]


@dataclass(frozen=True)
class HeldoutSummary:
    """The held-out counts the maps' readouts show (cheap: no curves)."""

    n_train: int
    n_heldout: int
    ovr_accuracy: float
    softmax_accuracy: float
    nobody: int  # held-out points where no one-vs-rest sigmoid says yes
    several: int


@dataclass(frozen=True, eq=False)
class MetricsFigure:
    ovr: ModelMetrics
    softmax: ModelMetrics
    heldout_nobody: int  # held-out points where no one-vs-rest classifier says yes
    heldout_several: int
    n_train: int
    n_heldout: int
    roc_on: str  # "held-out" or "training" (when the held-out split is too small)


# --------------------------------------------------------------------------- validation
def _names(value: Any, path: str, n: int) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_CLASS_NAMES[:n]
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise LabError(f"{path} must be a list of {n} names")
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
                          (*_mc.MULTICLASS_DATASETS, "file"))
    if s["dataset"] == "file" and (base is None or base.get("dataset") != "file"):
        raise LabError("settings.dataset: 'file' is set by loading a CSV file")
    s["n_points"] = integer(merged["n_points"], "settings.n_points", MIN_POINTS, MAX_POINTS)
    K = s["n_classes"] = integer(merged["n_classes"], "settings.n_classes", MIN_CLASSES,
                                 MAX_CLASSES)
    s["seed"] = integer(merged["seed"], "settings.seed", 0, 2**31 - 1)
    s["spread"] = number(merged["spread"], "settings.spread", 0.05, 3.0)
    s["heldout_fraction"] = number(merged["heldout_fraction"], "settings.heldout_fraction",
                                   0.1, 0.6)
    s["l2"] = number(merged["l2"], "settings.l2", 0.0, 10.0)
    s["lr"] = number(merged["lr"], "settings.lr", 0.0, 50.0, lo_open=True)
    s["optimizer"] = choice(merged["optimizer"], "settings.optimizer", _mc.OPTIMIZERS)
    s["start"] = choice(merged["start"], "settings.start", STARTS)
    s["auto_fit"] = boolean(merged["auto_fit"], "settings.auto_fit")
    s["steps_per_frame"] = integer(merged["steps_per_frame"], "settings.steps_per_frame", 1, 100)
    names = merged["class_names"]
    if isinstance(names, (list, tuple)) and len(names) != K and "class_names" not in raw:
        names = None
    s["class_names"] = _names(names, "settings.class_names", K)
    add = merged["add_class"]
    if isinstance(add, int) and not isinstance(add, bool) and add >= K and "add_class" not in raw:
        add = 0
    s["add_class"] = integer(add, "settings.add_class", 0, K - 1)
    shown = merged["map_class"]
    if isinstance(shown, int) and not isinstance(shown, bool) and shown >= K \
            and "map_class" not in raw:
        shown = None
    s["map_class"] = None if shown is None else integer(shown, "settings.map_class", 0, K - 1)
    return s


def _finite(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _json_settings(s: dict) -> dict:
    out = dict(s)
    out["class_names"] = list(s["class_names"])
    return out


# --------------------------------------------------------------------------- the state
class MulticlassState(LabState):
    """Points of K classes, one-vs-rest and softmax side by side (see the module doc)."""

    lab_id = "multiclass"
    EVENTS = ("data", "model", "settings", "view")

    def __init__(self) -> None:
        super().__init__()
        self.version = 0
        self._cache: dict[str, tuple[int, Any]] = {}
        s = validate_settings({})
        self._apply_all(s, *self._generate(s))

    def _emit(self, name: str, **info: Any) -> None:
        getattr(self.events, name).emit(**info)

    # ------------------------------------------------------------------ data
    @staticmethod
    def _generate(s: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
        X, labels = _mc.multiclass_dataset(s["dataset"], s["n_points"], s["n_classes"],
                                           seed=s["seed"], spread=s["spread"])
        X = np.clip(X, -EXTENT, EXTENT)
        heldout = _mc.stratified_split(labels, s["n_classes"], s["heldout_fraction"], s["seed"])
        source = {"kind": "generated", "feature_names": ["x1", "x2"], "standardized": False,
                  "extent": EXTENT}
        return X, labels, heldout, source

    def data_description(self) -> str:
        """What the points are, with the generating parameters (plain text)."""
        s = self.settings
        if self.source["kind"] == "file":
            return (f"{self.n_points} points from {os.path.basename(self.source['path'])} "
                    f"(features standardised), {self.n_classes} classes")
        return (f"Illustrative data: {self.n_points} points, {s['n_classes']} Gaussian clusters "
                f"({s['dataset']}, spread {s['spread']:g}, seed {s['seed']}); "
                f"{int(self.heldout.sum())} held out")

    def _apply_all(self, s: dict, X, labels, heldout, source, *, weights=None,
                   steps: int = 0) -> None:
        self.settings = s
        self.X, self.labels = np.asarray(X, dtype=np.float64), np.asarray(labels, dtype=np.intp)
        self.heldout, self.source = np.asarray(heldout, dtype=bool), source
        self.steps_per_frame = s["steps_per_frame"]
        self._build_trainer(weights, steps)
        self.version += 1

    def _train_data(self) -> tuple[np.ndarray, np.ndarray]:
        train = ~self.heldout
        return self.X[train], self.labels[train]

    def _build_trainer(self, weights, steps: int) -> None:
        s = self.settings
        Xt, lt = self._train_data()
        self.trainer = _mc.MulticlassTrainer(Xt, lt, s["n_classes"], l2=s["l2"],
                                             optimizer=s["optimizer"], lr=s["lr"])
        self._steps_offset = 0
        if weights is not None:
            self.trainer.set_weights(*weights)
            self._steps_offset = steps
        elif s["start"] == "fit":
            self._fit_trainer(warm=False)

    def _fit_trainer(self, warm: bool = True) -> None:
        s = self.settings
        Xt, lt = self._train_data()
        K = s["n_classes"]
        if warm:
            Wo, bo = self.trainer.ovr
            Ws, bs = self.trainer.softmax
            ovr = _mc.fit_one_vs_rest(Xt, lt, K, l2=s["l2"], W0=Wo, b0=bo)
            soft = _mc.fit_softmax(Xt, lt, K, l2=s["l2"], W0=Ws, b0=bs)
        else:
            ovr = _mc.fit_one_vs_rest(Xt, lt, K, l2=s["l2"])
            soft = _mc.fit_softmax(Xt, lt, K, l2=s["l2"])
        self.trainer.set_weights(ovr, soft)

    # ------------------------------------------------------------------ properties
    @property
    def n_points(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.settings["n_classes"])

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.settings["class_names"]

    @property
    def add_class(self) -> int:
        return int(self.settings["add_class"])

    @property
    def extent(self) -> float:
        return float(self.source["extent"])

    @property
    def steps(self) -> int:
        return self._steps_offset + self.trainer.steps

    @property
    def ovr(self) -> tuple[np.ndarray, np.ndarray]:
        return self.trainer.ovr

    @property
    def softmax(self) -> tuple[np.ndarray, np.ndarray]:
        return self.trainer.softmax

    def can_train(self) -> bool:
        return not self.trainer.diverged

    # ------------------------------------------------------------------ settings
    def apply_settings(self, settings: dict) -> None:
        """A stage's settings over the defaults: new data, fresh models (all or nothing)."""
        s = validate_settings(settings or {})
        X, labels, heldout, source = self._generate(s)
        with self.transaction():
            self.set_running(False)
            self._apply_all(s, X, labels, heldout, source)
            self._emit_all("generate", "reset", tuple(s))

    def _emit_all(self, kind: str, reason: str, names: tuple) -> None:
        self._emit("data", kind=kind)
        self._emit("settings", names=names)
        self._emit("model", reason=reason)
        self._emit("view")

    def update(self, **changes: Any) -> None:
        """Change some settings (validated together first; all or nothing).

        Data settings make new data (a loaded file keeps its points for a new
        ``heldout_fraction``); ``l2`` refits (auto-fit) or changes the running
        objective; ``lr``, ``optimizer`` act on the running trainer; ``start``
        rebuilds the models; ``add_class`` is the class that clicks add.
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
                    X, labels, source = self.X, self.labels, self.source
                    heldout = _mc.stratified_split(labels, s["n_classes"],
                                                   s["heldout_fraction"], s["seed"])
                else:
                    X, labels, heldout, source = self._generate(s)
                self._apply_all(s, X, labels, heldout, source)
                self._emit("data", kind="generate")
                self._emit("model", reason="data")
            elif "start" in names:
                self.settings = s
                self._build_trainer(None, 0)
                self.version += 1
                self._emit("model", reason="settings")
            else:
                old = self.settings
                self.settings = s
                self.steps_per_frame = s["steps_per_frame"]
                tr = self.trainer
                if s["lr"] != old["lr"]:
                    tr.lr = s["lr"]
                if s["optimizer"] != old["optimizer"]:
                    tr.set_optimizer(s["optimizer"])
                if s["l2"] != old["l2"]:
                    tr.l2 = s["l2"]
                    if s["auto_fit"] and not self.running:
                        self._fit_trainer()
                    self.version += 1
                    self._emit("model", reason="settings")
                elif s["auto_fit"] and not old["auto_fit"] and not self.running:
                    self._fit_trainer()
                    self.version += 1
                    self._emit("model", reason="fit")
                else:
                    self.version += 1
                if names & {"add_class", "map_class"}:
                    self._emit("view")
            self._emit("settings", names=changed)

    def set_add_class(self, k: int) -> None:
        """The class that a click on empty space adds (0..K-1)."""
        self.update(add_class=integer(k, "add_class", 0, self.n_classes - 1))

    def set_map_class(self, k: int | None) -> None:
        """Show every class's map (None) or class ``k``'s map large."""
        self.update(map_class=None if k is None else integer(k, "map_class", 0,
                                                             self.n_classes - 1))

    def new_data(self) -> None:
        if self.source["kind"] == "file":
            raise LabError("the points come from a file; choose a data set to generate new ones")
        self.update(seed=(self.settings["seed"] + 1) % 2**31)

    # ------------------------------------------------------------------ point edits
    def _point(self, xy: Any, path: str) -> np.ndarray:
        try:
            arr = np.array(xy, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise LabError(f"{path} must be two numbers (x1, x2)") from None
        if arr.shape != (2,) or not np.all(np.isfinite(arr)):
            raise LabError(f"{path} must be two finite numbers (x1, x2)")
        return np.clip(arr, -self.extent, self.extent)

    def _edited(self, X, labels, heldout, kind: str, index: int) -> None:
        """Install edited data (validated by the caller) and refit or retrain."""
        self.X, self.labels, self.heldout = X, labels, heldout
        Xt, lt = self._train_data()
        self.trainer.set_data(Xt, lt)
        if self.settings["auto_fit"] and not self.running:
            self._fit_trainer()
        self.version += 1
        self._emit("data", kind=kind, index=index)
        self._emit("model", reason="data")

    def move_point(self, index: int, xy: Any) -> None:
        """Move point ``index`` to ``xy`` (clamped to the map)."""
        i = integer(index, "index", 0, self.n_points - 1)
        p = self._point(xy, "position")
        X = self.X.copy()
        X[i] = p
        self._edited(X, self.labels, self.heldout, "move", i)

    def add_point(self, xy: Any, label: int | None = None) -> None:
        """Add a training point of class ``label`` (default: the chosen class) at ``xy``."""
        if self.n_points >= MAX_POINTS:
            raise LabError(f"at most {MAX_POINTS:,} points")
        k = self.add_class if label is None else integer(label, "label", 0, self.n_classes - 1)
        p = self._point(xy, "position")
        self._edited(np.vstack([self.X, p]), np.append(self.labels, k),
                     np.append(self.heldout, False), "add", self.n_points)

    def remove_point(self, index: int) -> None:
        """Delete point ``index``; every class keeps at least one training point."""
        i = integer(index, "index", 0, self.n_points - 1)
        k = int(self.labels[i])
        if not self.heldout[i] and np.count_nonzero((self.labels == k) & ~self.heldout) <= 1:
            raise LabError(f"class {self.class_names[k]} needs at least one training point")
        if self.n_points <= self.n_classes * 2:
            raise LabError(f"at least {self.n_classes * 2} points are needed")
        keep = np.arange(self.n_points) != i
        self._edited(self.X[keep], self.labels[keep], self.heldout[keep], "remove", i)

    def load_csv(self, path: str) -> None:
        """Points from a CSV: x1, x2 and an integer class column (3–5 classes); all or nothing."""
        try:
            table = _datafiles.read_table_csv(path, max_rows=MAX_POINTS)
            X, labels, values, feature_names = _read_class_table(path, table)
        except _datafiles.DataFileError as exc:
            self.set_status(str(exc), "error")
            raise LabError(str(exc)) from exc
        K = len(values)
        mean, std = X.mean(axis=0), X.std(axis=0)
        Xs = (X - mean) / std
        names = [_class_name(v) for v in values]
        s = validate_settings({"n_classes": K, "class_names": names, "add_class": 0},
                              {**self.settings, "dataset": "file"})
        heldout = _mc.stratified_split(labels, K, s["heldout_fraction"], s["seed"])
        extent = float(max(EXTENT, 1.1 * np.abs(Xs).max()))
        source = {"kind": "file", "path": str(path), "feature_names": list(feature_names),
                  "standardized": True, "mean": mean.tolist(), "std": std.tolist(),
                  "extent": extent}
        with self.transaction():
            self.set_running(False)
            self._apply_all(s, Xs, labels, heldout, source)
            self._emit_all("file", "data", tuple(s))
        self.set_status(f"Loaded {X.shape[0]} points of {K} classes from "
                        f"{os.path.basename(str(path))}")

    # ------------------------------------------------------------------ training
    def fit(self) -> None:
        """Both models to their optima (Newton, warm-started)."""
        self._fit_trainer()
        self.version += 1
        self._emit("model", reason="fit")

    def step(self, n: int = 1) -> int:
        """n gradient steps of both models (at most MAX_STEPS_PER_CALL); how many were done.

        Once both gradients have vanished (norm below CONVERGED_GRAD) a step
        cannot move the weights, so the remaining steps are counted without
        being computed: ``step(10**6)`` returns quickly once converged.
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

    def _grid_points(self, extent: float) -> tuple[np.ndarray, np.ndarray]:
        """The lattice (xs, points transposed (2, G²)), kept while the extent stays."""
        if getattr(self, "_lattice_key", None) != extent:
            xs = np.linspace(-extent, extent, GRID)
            gx, gy = np.meshgrid(xs, xs)
            self._lattice = (xs, np.vstack([gx.ravel(), gy.ravel()]))
            self._lattice_key = extent
        return self._lattice

    def grid(self) -> MulticlassGrid:
        """Both models' maps, the argmax decisions and where nobody or several say yes.

        One (K, 2) × (2, G²) product per model a frame; σ as 1/(1 + e^(−z))
        and the softmax with the largest logit subtracted, both finite for
        every logit.
        """
        def compute() -> MulticlassGrid:
            e = self.extent
            xs, ptsT = self._grid_points(e)
            K = self.n_classes
            Wo, bo = self.ovr
            Ws, bs = self.softmax
            Po = Wo.T @ ptsT
            Po += bo[:, None]
            with np.errstate(over="ignore"):
                np.negative(Po, out=Po)
                np.exp(Po, out=Po)
                Po += 1.0
                np.reciprocal(Po, out=Po)
            Ps = Ws.T @ ptsT
            Ps += bs[:, None]
            Ps -= Ps.max(axis=0)
            np.exp(Ps, out=Ps)
            Ps /= Ps.sum(axis=0)
            n_yes = np.count_nonzero(Po >= 0.5, axis=0)
            region = np.where(n_yes == 0, NOBODY, np.where(n_yes >= 2, SEVERAL, EXACTLY_ONE))
            oa, sa = Po.argmax(axis=0), Ps.argmax(axis=0)
            sums = Po.sum(axis=0)
            shape = (GRID, GRID)
            return MulticlassGrid(
                xs=xs, ys=xs, ovr=Po.reshape(K, *shape), softmax=Ps.reshape(K, *shape),
                ovr_argmax=oa.reshape(shape), softmax_argmax=sa.reshape(shape),
                n_yes=n_yes.reshape(shape), region=region.reshape(shape),
                disagree=(oa != sa).reshape(shape),
                nobody_share=float(np.mean(n_yes == 0)), several_share=float(np.mean(n_yes >= 2)),
                disagree_share=float(np.mean(oa != sa)), ovr_sum_min=float(sums.min()),
                ovr_sum_max=float(sums.max()), extent=e)
        return self._cached("grid", compute)

    def points_figure(self) -> PointsFigure:
        def compute() -> PointsFigure:
            Po = _mc.ovr_probabilities(self.X, *self.ovr)
            Ps = _mc.softmax_probabilities(self.X, *self.softmax)
            n_yes = (Po >= 0.5).sum(axis=1)
            return PointsFigure(X=self.X, labels=self.labels, heldout=self.heldout, ovr=Po,
                                softmax=Ps, ovr_pred=Po.argmax(axis=1),
                                softmax_pred=Ps.argmax(axis=1), nobody=n_yes == 0,
                                several=n_yes >= 2, class_names=self.class_names)
        return self._cached("points", compute)

    def heldout_summary(self) -> HeldoutSummary:
        """Held-out accuracies and the nobody / several counts (what a map's readout shows)."""
        def compute() -> HeldoutSummary:
            pf = self.points_figure()
            held = self.heldout
            y = self.labels[held]

            def acc(pred: np.ndarray) -> float:
                return float(np.mean(pred[held] == y)) if held.any() else 0.0

            return HeldoutSummary(
                n_train=int((~held).sum()), n_heldout=int(held.sum()),
                ovr_accuracy=acc(pf.ovr_pred), softmax_accuracy=acc(pf.softmax_pred),
                nobody=int(np.count_nonzero(pf.nobody & held)),
                several=int(np.count_nonzero(pf.several & held)))
        return self._cached("summary", compute)

    def metrics_figure(self) -> MetricsFigure:
        """Held-out confusion matrices and per-class ROC curves of both models."""
        return self._cached("metrics", self._compute_metrics)

    def _compute_metrics(self) -> MetricsFigure:
        pf = self.points_figure()
        K = self.n_classes
        held, train = self.heldout, ~self.heldout
        # ROC needs both "class k" and "the rest" among the scored points.
        roc_mask = held
        counts = np.bincount(self.labels[held], minlength=K)
        roc_on = "held-out"
        if held.sum() < 2 * K or np.any(counts == 0):
            roc_mask, roc_on = np.ones_like(held), "all"

        def model(P: np.ndarray, pred: np.ndarray) -> ModelMetrics:
            conf = np.zeros((K, K), dtype=np.int64)
            np.add.at(conf, (self.labels[held], pred[held]), 1)
            rocs = []
            for k in range(K):
                y = (self.labels[roc_mask] == k).astype(float)
                if 0 < y.sum() < y.size:
                    fpr, tpr, _ = _metrics.roc_curve(y, P[roc_mask, k])
                    rocs.append(RocCurve(fpr, tpr, _metrics.roc_auc(y, P[roc_mask, k])))
                else:
                    rocs.append(RocCurve(np.array([0.0, 1.0]), np.array([0.0, 1.0]), None))
            rows, cols = conf.sum(axis=1), conf.sum(axis=0)
            diag = np.diag(conf).astype(float)
            recall = tuple(float(diag[k] / rows[k]) if rows[k] else 0.0 for k in range(K))
            precision = tuple(float(diag[k] / cols[k]) if cols[k] else 0.0 for k in range(K))

            def acc(mask):
                return float(np.mean(pred[mask] == self.labels[mask])) if mask.any() else 0.0

            return ModelMetrics(train_accuracy=acc(train), heldout_accuracy=acc(held),
                                confusion=conf, roc=tuple(rocs), recall=recall,
                                precision=precision)

        return MetricsFigure(ovr=model(pf.ovr, pf.ovr_pred),
                             softmax=model(pf.softmax, pf.softmax_pred),
                             heldout_nobody=int(np.count_nonzero(pf.nobody & held)),
                             heldout_several=int(np.count_nonzero(pf.several & held)),
                             n_train=int(train.sum()), n_heldout=int(held.sum()), roc_on=roc_on)

    def code(self, framework: str) -> str:
        """"Copy as code": both models as scikit-learn or PyTorch (plain text)."""
        choice(framework, "framework", ("sklearn", "pytorch"))
        return self._cached(f"code_{framework}", lambda: (
            sklearn_code(self) if framework == "sklearn" else pytorch_code(self)))

    # ------------------------------------------------------------------ report and sessions
    def report(self) -> dict:
        s = self.settings
        g = self.grid()
        mf = self.metrics_figure()
        Wo, bo = self.ovr
        Ws, bs = self.softmax
        o_obj, s_obj = self.trainer.objectives()
        classes = []
        for k, name in enumerate(self.class_names):
            classes.append({
                "name": name,
                "ovr_weights": [float(v) for v in Wo[:, k]],
                "ovr_bias": float(bo[k]),
                "softmax_weights": [float(v) for v in Ws[:, k]],
                "softmax_bias": float(bs[k]),
                "n_train": int(np.count_nonzero((self.labels == k) & ~self.heldout)),
                "n_heldout": int(np.count_nonzero((self.labels == k) & self.heldout)),
                "heldout_auc_ovr": mf.ovr.roc[k].auc,
                "heldout_auc_softmax": mf.softmax.roc[k].auc,
                "heldout_recall_ovr": mf.ovr.recall[k],
                "heldout_recall_softmax": mf.softmax.recall[k],
                "heldout_precision_ovr": mf.ovr.precision[k],
                "heldout_precision_softmax": mf.softmax.precision[k],
            })
        return {
            "dataset": s["dataset"],
            "data": self.data_description(),
            "n_points": self.n_points,
            "n_train": mf.n_train,
            "n_heldout": mf.n_heldout,
            "n_classes": self.n_classes,
            "steps": self.steps,
            "l2": s["l2"],
            "objective_ovr": _finite(o_obj),
            "objective_softmax": _finite(s_obj),
            "classes": classes,
            "heldout": {
                "ovr_accuracy": mf.ovr.heldout_accuracy,
                "softmax_accuracy": mf.softmax.heldout_accuracy,
                "ovr_confusion": mf.ovr.confusion.tolist(),
                "softmax_confusion": mf.softmax.confusion.tolist(),
                "nobody_says_yes": mf.heldout_nobody,
                "several_say_yes": mf.heldout_several,
                "roc_on": mf.roc_on,
            },
            "train": {"ovr_accuracy": mf.ovr.train_accuracy,
                      "softmax_accuracy": mf.softmax.train_accuracy},
            "map": {"nobody_share": g.nobody_share, "several_share": g.several_share,
                    "disagree_share": g.disagree_share, "ovr_sum_min": g.ovr_sum_min,
                    "ovr_sum_max": g.ovr_sum_max},
            "status": self.trainer.status,
        }

    def to_dict(self) -> dict:
        Wo, bo = self.ovr
        Ws, bs = self.softmax
        return {
            "format": 1,
            "settings": _json_settings(self.settings),
            "data": {"X": self.X.tolist(), "labels": self.labels.tolist(),
                     "heldout": [bool(v) for v in self.heldout], "source": dict(self.source)},
            "model": {"ovr_W": Wo.tolist(), "ovr_b": bo.tolist(), "softmax_W": Ws.tolist(),
                      "softmax_b": bs.tolist(), "steps": self.steps},
        }

    def restore(self, payload: dict) -> None:
        """A session's payload (validated completely first; the state is untouched on error)."""
        check_keys(payload, "multiclass", {"format", "settings", "data", "model"})
        if payload.get("format") != 1:
            raise LabError("multiclass.format must be 1")
        for key in ("settings", "data", "model"):
            if key not in payload:
                raise LabError(f"multiclass.{key} is missing")
        data = check_keys(payload["data"], "multiclass.data", {"X", "labels", "heldout", "source"})
        source = _check_source(data.get("source"))
        base = {**DEFAULTS, "dataset": "file"} if source["kind"] == "file" else None
        s = validate_settings(check_keys(payload["settings"], "multiclass.settings",
                                         set(DEFAULTS)), base)
        K = s["n_classes"]
        X = _array(data.get("X"), "multiclass.data.X", (None, 2))
        n = X.shape[0]
        if not 2 * K <= n <= MAX_POINTS:
            raise LabError(f"multiclass.data.X must hold {2 * K} to {MAX_POINTS} points")
        raw_labels = data.get("labels")
        if not isinstance(raw_labels, list) or len(raw_labels) != n or not all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v < K
                for v in raw_labels):
            raise LabError(f"multiclass.data.labels must be {n} class numbers 0..{K - 1}")
        labels = np.array(raw_labels, dtype=np.intp)
        held = data.get("heldout")
        if not isinstance(held, list) or len(held) != n or not all(
                isinstance(v, bool) for v in held):
            raise LabError(f"multiclass.data.heldout must be {n} true/false values")
        heldout = np.array(held, dtype=bool)
        train_counts = np.bincount(labels[~heldout], minlength=K)
        if np.any(train_counts == 0):
            raise LabError("multiclass.data: every class needs a training point")
        model = check_keys(payload["model"], "multiclass.model",
                           {"ovr_W", "ovr_b", "softmax_W", "softmax_b", "steps"})
        ovr = (_array(model.get("ovr_W"), "multiclass.model.ovr_W", (2, K)),
               _array(model.get("ovr_b"), "multiclass.model.ovr_b", (K,)))
        soft = (_array(model.get("softmax_W"), "multiclass.model.softmax_W", (2, K)),
                _array(model.get("softmax_b"), "multiclass.model.softmax_b", (K,)))
        steps = integer(model.get("steps"), "multiclass.model.steps", 0, 10**12)
        X = np.clip(X, -source["extent"], source["extent"])
        with self.transaction():
            self.set_running(False)
            self._apply_all(s, X, labels, heldout, source, weights=(ovr, soft), steps=steps)
            self._emit_all("generate", "reset", tuple(s))


# --------------------------------------------------------------------------- helpers
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
    src = check_keys(value, "multiclass.data.source",
                     {"kind", "path", "feature_names", "standardized", "mean", "std", "extent"})
    kind = choice(src.get("kind"), "multiclass.data.source.kind", ("generated", "file"))
    names = src.get("feature_names", ["x1", "x2"])
    if not isinstance(names, list) or len(names) != 2 or not all(
            isinstance(v, str) and 0 < len(v) <= 64 for v in names):
        raise LabError("multiclass.data.source.feature_names must be two names")
    extent = number(src.get("extent", EXTENT), "multiclass.data.source.extent", 1.0, 1e6)
    out: dict[str, Any] = {"kind": kind, "feature_names": names,
                           "standardized": bool(src.get("standardized", False)), "extent": extent}
    if kind == "file":
        path = src.get("path", "")
        if not isinstance(path, str):
            raise LabError("multiclass.data.source.path must be text")
        out["path"] = path
        for key in ("mean", "std"):
            v = src.get(key, [1.0, 1.0] if key == "std" else [0.0, 0.0])
            if not isinstance(v, list) or len(v) != 2:
                raise LabError(f"multiclass.data.source.{key} must be two numbers")
            out[key] = [number(x, f"multiclass.data.source.{key}", -1e12, 1e12) for x in v]
    return out


CLASS_COLUMN_NAMES = ("class", "label", "target", "y", "species")


def _class_name(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _read_class_table(path, table: _datafiles.Table):
    """(X, labels 0..K-1, the file's class values, feature names) or DataFileError (where)."""
    if len(table.columns) != 3:
        raise _datafiles.DataFileError(
            path, None, None,
            f"found {len(table.columns)} columns; expected 3: x1, x2 and an integer class")
    col = 2
    if table.has_header:
        folded = [c.strip().casefold() for c in table.columns]
        for name in CLASS_COLUMN_NAMES:
            if name in folded:
                col = folded.index(name)
                break
    values = table.data[:, col]
    whole = values == np.round(values)
    if not whole.all():
        r = int(np.flatnonzero(~whole)[0])
        raise _datafiles.DataFileError(
            path, int(table.line_numbers[r]), col + 1,
            f"class {float(values[r])!r} is not a whole number (classes are integers: 0, 1, 2)")
    classes = np.unique(values)
    if not MIN_CLASSES <= classes.size <= MAX_CLASSES:
        raise _datafiles.DataFileError(
            path, None, col + 1,
            f"found {classes.size} distinct classes; this lab takes {MIN_CLASSES} to {MAX_CLASSES}")
    labels = np.searchsorted(classes, values).astype(np.intp)
    counts = np.bincount(labels, minlength=classes.size)
    if np.any(counts < 2):
        k = int(np.flatnonzero(counts < 2)[0])
        raise _datafiles.DataFileError(
            path, None, col + 1, f"class {_class_name(classes[k])} has fewer than 2 points")
    feature_cols = [j for j in range(3) if j != col]
    X = table.data[:, feature_cols]
    for j, c in enumerate(feature_cols):
        if float(X[:, j].std()) == 0.0:
            raise _datafiles.DataFileError(path, None, c + 1,
                                           f"feature column {table.columns[c]!r} is constant")
    names = tuple(table.columns[c] for c in feature_cols)
    return X.copy(), labels, [float(v) for v in classes], names


def _literal(arr: np.ndarray) -> str:
    rows = [("[" + ", ".join(repr(float(v)) for v in row) + "]") for row in np.atleast_2d(arr)]
    return "[\n" + "".join(f"    {r},\n" for r in rows) + "]"


def _int_list(values) -> str:
    text = ", ".join(str(int(v)) for v in values)
    # wrapped at about 88 characters
    out, line = [], ""
    for item in text.split(", "):
        if len(line) + len(item) > 80:
            out.append(line)
            line = ""
        line += item + ", "
    out.append(line)
    return "[\n" + "".join(f"    {chunk.rstrip()}\n" for chunk in out) + "]"


def sklearn_code(state: MulticlassState) -> str:
    """scikit-learn: OneVsRestClassifier(LogisticRegression) and multinomial LogisticRegression.

    The models first and the data last (hundreds of rows), so the lines that
    matter are on screen.
    """
    s = state.settings
    train = ~state.heldout
    X, labels = state.X[train], state.labels[train]
    n = X.shape[0]
    C = "np.inf" if s["l2"] == 0 else f"1.0 / ({s['l2']!r} * {n})"
    lines = [
        "# bceviz one-vs-rest lab: one sigmoid per class, and softmax on the same data.",
        "import numpy as np",
        "from sklearn.linear_model import LogisticRegression",
        "from sklearn.multiclass import OneVsRestClassifier",
        "",
        f"classes = {list(state.class_names)!r}  # labels 0, 1, 2, ... in this order",
        f"C = {C}  # bceviz's l2 = lambda on the mean loss: C = 1 / (lambda * n)",
        "# One sigmoid per class, each trained as 'class k against the rest'",
        "# (tol: tight, for the same optima as bceviz's Newton fits).",
        "ovr = OneVsRestClassifier(LogisticRegression(C=C, tol=1e-10, max_iter=10_000))",
        "# Softmax regression: multinomial is LogisticRegression's default for several",
        "# classes (its multi_class argument is deprecated).",
        "softmax = LogisticRegression(C=C, tol=1e-10, max_iter=10_000)",
        "",
        f"# {n} training points",
        f"X = np.array({_literal(X)})",
        f"labels = np.array({_int_list(labels)})",
        "ovr.fit(X, labels)",
        "softmax.fit(X, labels)",
        "# The K sigmoids are independent (ovr.predict_proba rescales rows to sum to 1).",
        "P_ovr = np.column_stack([est.predict_proba(X)[:, 1] for est in ovr.estimators_])",
        "nobody_says_yes = (P_ovr < 0.5).all(axis=1)",
        "several_say_yes = (P_ovr >= 0.5).sum(axis=1) >= 2",
        "P_softmax = softmax.predict_proba(X)  # rows sum to 1",
    ]
    return "\n".join(lines) + "\n"


def pytorch_code(state: MulticlassState) -> str:
    """PyTorch: one-vs-rest as BCEWithLogitsLoss on one-hot targets, softmax as CrossEntropyLoss."""
    s = state.settings
    train = ~state.heldout
    X, labels = state.X[train], state.labels[train]
    K = state.n_classes
    opt = "SGD" if s["optimizer"] == "gd" else "Adam"
    lines = [
        "# bceviz one-vs-rest lab: the same data, two models.",
        "import torch",
        "",
        "torch.set_default_dtype(torch.float64)",
        f"classes = {list(state.class_names)!r}",
        f"l2, lr = {s['l2']!r}, {s['lr']!r}  # l2/2 * ||W||^2, biases not penalised",
        f"ovr = torch.nn.Linear(2, {K})  # one sigmoid per class",
        f"softmax = torch.nn.Linear(2, {K})",
        "for model in (ovr, softmax):",
        "    torch.nn.init.zeros_(model.weight)",
        "    torch.nn.init.zeros_(model.bias)",
        "bce = torch.nn.BCEWithLogitsLoss(reduction=\"none\")",
        "cross_entropy = torch.nn.CrossEntropyLoss()",
        f"opt_ovr = torch.optim.{opt}(ovr.parameters(), lr=lr)",
        f"opt_softmax = torch.optim.{opt}(softmax.parameters(), lr=lr)",
        "",
        "",
        "def train(X, labels, steps):",
        f"    targets = torch.nn.functional.one_hot(labels, {K}).double()  # B -> [0, 1, 0, ...]",
        "    for _ in range(steps):",
        "        for model, opt, loss_of in (",
        "            (ovr, opt_ovr, lambda z: bce(z, targets).mean(dim=0).sum()),  # each class's",
        "            (softmax, opt_softmax, lambda z: cross_entropy(z, labels)),",
        "        ):",
        "            opt.zero_grad()",
        "            loss = loss_of(model(X)) + l2 / 2 * (model.weight ** 2).sum()",
        "            loss.backward()",
        "            opt.step()",
        "",
        "",
        f"# {X.shape[0]} training points",
        f"X = torch.tensor({_literal(X)})",
        f"labels = torch.tensor({_int_list(labels)})",
        f"train(X, labels, steps={max(state.steps, 1)})",
        "P_ovr = torch.sigmoid(ovr(X))  # independent: rows need not sum to 1",
        "P_softmax = torch.softmax(softmax(X), dim=1)  # rows sum to 1",
    ]
    return "\n".join(lines) + "\n"


LAB = LabInfo(lab_id="multiclass", title="Many classes (one-vs-rest)",
              state_factory=MulticlassState, gui_module="bceviz.gui.labs.multiclass",
              description="K classes as K sigmoids: where nobody says yes, and softmax beside it")

__all__ = ["LAB", "MulticlassState", "pytorch_code", "sklearn_code", "validate_settings"]
