"""The application state: one object every panel reads, writes and listens to.

No widgets here (a test forbids Qt imports). A user gesture calls a setter;
the setter validates, changes the state and emits the matching event; each
panel redraws from the state. Panels never talk to each other.

Events (``state.events.<name>.connect(callback)``; callbacks take keywords):

==========  ===============================================================
spec        loss settings changed (smoothing, pos_weight, focal γ/α)
probe       the loss-curve handle (p, y) moved
samples     the (p, y) pairs of the samples panel changed
data        the 2-D points changed; ``kind`` is "reset", "move", "add",
            "remove" or "label" and ``index`` names the point for edits
weights     the model's weights changed: ``reason`` is "step", "reset" or "set" (a
            drag on the surface). Nothing else emits it: a loss setting, a penalty, a
            feature map and a point edit each have their own event, so a panel that does
            not read them is not redrawn
settings    optimizer, learning rate, L1/L2, batch size, steps per frame
features    the feature map changed (the weight vector changes length)
threshold   the decision threshold changed
running     training started or paused
status      a message for the status bar (``message``, ``level``)
view        display options (units, axes, overlays) changed
scenario    a scenario was applied (title, caption)
scrub       the timeline's view position changed (``index``: the history record
            shown, None = the present; ``kind`` "scrub", "clear" or "continue",
            the last with ``before``, the training record it replaced, for undo)
==========  ===============================================================

Scrubbing (:meth:`AppState.scrub_to`) is a view: it never changes the data,
settings or weights. :meth:`AppState.shown_weights` (and so ``logits_of``,
``proba_of``, ``point_losses``) follow it, so every panel that draws the model
shows the model as it was at that record; :meth:`AppState.continue_from_scrub`
is the one way back into training from there (see ``docs/architecture.md``).

Points loaded from a table (e.g. the bundled breast-cancer data) keep the
table in ``state.table`` so the user can choose two other feature columns
(:meth:`AppState.choose_features`); ``state.axes`` names the two features and
holds the mean and std that convert standardised coordinates back to the
file's units (generated data: ``x1``, ``x2``, no scaling).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Optional

import numpy as np

from bceviz.engine.losses import LossSpec, grad_from_logits, loss_from_logits, validate_labels
from bceviz.engine import datasets as _datasets
from bceviz.engine import logistic as _logistic
from bceviz.model import datafiles as _datafiles
from bceviz.model.events import EventGroup

#: The loss-curve handle stays within this logit range so p never reaches 0 or 1.
PROBE_Z_LIMIT = 30.0
OPTIMIZERS = ("gd", "sgd", "momentum", "adam", "newton")
OPTIMIZER_LABELS = {
    "gd": "Gradient descent",
    "sgd": "SGD (mini-batch)",
    "momentum": "Momentum",
    "adam": "Adam",
    "newton": "Newton (IRLS)",
}
#: Choices of ViewOptions.curves and ViewOptions.metrics_plot.
CURVE_CHOICES = ("all", "loss", "accuracy", "grad_norm", "w_norm")
METRICS_PLOTS = ("all", "scores", "roc", "pr", "reliability")
#: Above this many points the app refuses a data set (stated in the message).
MAX_POINTS = 20_000


@dataclass(frozen=True)
class DatasetSettings:
    """Parameters of the generated 2-D data set."""

    kind: str = "overlap"
    n: int = 200
    noise: float = 0.1
    pos_fraction: float = 0.5
    label_noise: float = 0.0
    seed: int = 0
    heldout_fraction: float = 0.25


@dataclass(frozen=True)
class TrainingSettings:
    """Optimizer and regularisation settings; all can change mid-training."""

    optimizer: str = "gd"
    lr: float = 0.5
    l1: float = 0.0
    l2: float = 0.0
    batch_size: Optional[int] = None
    momentum: float = 0.9
    steps_per_frame: int = 1
    seed: int = 0


@dataclass(frozen=True)
class ViewOptions:
    """How things are shown; no effect on any number."""

    units: str = "nats"  # "nats" or "bits"
    curve_axis: str = "p"  # loss curve against "p" or "z"
    show_mse: bool = False
    show_hinge: bool = False
    show_ceilings: bool = True
    show_entropy_floor: bool = True
    show_loss_glyphs: bool = False
    show_grad_arrows: bool = False
    show_grad_field: bool = False
    show_heldout: bool = True
    #: Training curves: "all" four small plots, or one large: "loss", "accuracy",
    #: "grad_norm", "w_norm" (a stage in front of a room shows one, legibly).
    curves: str = "all"
    #: Metrics plots: "all" four small ones, or one large: "scores", "roc", "pr", "reliability".
    metrics_plot: str = "all"
    #: Loss curve: top of the y axis in display units (0 = fit the curves).
    loss_y_max: float = 0.0
    #: Samples panel: right end of the loss-bar axis in display units (0 = fit the bars).
    samples_loss_max: float = 0.0


@dataclass(frozen=True)
class DataAxes:
    """What the two point coordinates are: feature names and the scaling back to file units.

    ``original = x * std + mean`` per axis (mean 0, std 1 when not standardised).
    """

    names: tuple[str, str] = ("x1", "x2")
    mean: tuple[float, float] = (0.0, 0.0)
    std: tuple[float, float] = (1.0, 1.0)
    standardized: bool = False
    label_name: str = "label"

    @classmethod
    def of_points(cls, points: "_datafiles.PointsData") -> "DataAxes":
        first, second = points.feature_names[0], points.feature_names[1]
        return cls(names=(str(first), str(second)),
                   mean=(float(points.feature_mean[0]), float(points.feature_mean[1])),
                   std=(float(points.feature_std[0]), float(points.feature_std[1])),
                   standardized=bool(points.standardized), label_name=points.label_name)

    def axis_label(self, i: int) -> str:
        """E.g. ``"mean_radius (standardised)"`` for axis i (0 or 1)."""
        return f"{self.names[i]} (standardised)" if self.standardized else self.names[i]

    def to_original_units(self, X) -> np.ndarray:
        """Points (..., 2) in model coordinates, back in the file's units."""
        return np.asarray(X, dtype=np.float64) * np.asarray(self.std) + np.asarray(self.mean)


@dataclass(frozen=True, eq=False)
class TableChoice:
    """A loaded table and how two of its columns were turned into points."""

    table: "_datafiles.Table"
    label: str
    standardize: bool = True
    heldout_fraction: float = 0.3
    seed: int = 0
    source: str = "file"

    @property
    def feature_columns(self) -> list[str]:
        """Every column that can be a feature (all but the label)."""
        return [c for c in self.table.columns if c != self.label]


class StateError(ValueError):
    """A rejected change; the message is meant for the user (status bar / dialog)."""


@dataclass(eq=False)
class StateSnapshot:
    """Every field of an AppState, built and validated *before* the state is touched.

    Sessions, stages (scenarios) and undo of a whole-state change build one
    and hand it to :meth:`AppState.apply_snapshot`, the one transaction that
    replaces the state's fields: all or nothing, each event once at the end.
    """

    X: np.ndarray
    y: np.ndarray
    heldout: np.ndarray
    data_source: str
    axes: DataAxes
    table: Optional[TableChoice]
    dataset: DatasetSettings
    spec: LossSpec
    features: str
    training: TrainingSettings
    trainer: Any  # a bceviz.engine.logistic.Trainer for these points, features and settings
    probe_z: float
    probe_y: float
    samples_p: np.ndarray
    samples_y: np.ndarray
    samples_ref_p: Optional[np.ndarray]
    threshold: float
    view: ViewOptions
    scenario_id: str = ""
    scenario_title: str = ""
    caption: str = ""
    scenario_panels: Optional[tuple[str, ...]] = None


class AppState:
    """Everything the app shows, without any widget."""

    def __init__(self) -> None:
        self.events = EventGroup(
            "spec", "probe", "samples", "data", "weights", "settings", "features",
            "threshold", "running", "status", "view", "scenario", "scrub",
        )
        #: Bumped before any listener hears of a change: derived figures cache on it.
        self.version = 0
        for event in self.events:
            event.connect(self._bump_version)
        self.spec = LossSpec()
        self.probe_z = float(np.log(0.7 / 0.3))
        self.probe_y = 1.0
        self.samples_p = np.array([0.7, 0.8, 0.9])
        self.samples_y = np.array([1.0, 1.0, 1.0])
        #: A second classifier's predictions on the same samples (None = off).
        self.samples_ref_p: Optional[np.ndarray] = np.array([0.8, 0.8, 0.8])
        self.dataset = DatasetSettings()
        self.training = TrainingSettings()
        self.features = "linear"
        self.threshold = 0.5
        self.view = ViewOptions()
        self.running = False
        self.status_message = ""
        self.scenario_id = ""
        #: The stage on screen (for the 2-D lab: the scenario's id).
        self.stage_id = ""
        self.scenario_title = ""
        self.caption = ""
        #: Panel ids the current scenario shows (None = all panels).
        self.scenario_panels: Optional[tuple[str, ...]] = None
        self.data_source = "generated"
        #: Names and scaling of the two point coordinates.
        self.axes = DataAxes()
        #: The table the points were chosen from (None for generated or 2-column data).
        self.table: Optional[TableChoice] = None
        X, y = _datasets.make_dataset("overlap", 200, seed=0)
        self.X = np.asarray(X, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64)
        self.heldout = _datasets.heldout_split(len(self.y), 0.25, seed=0, y=self.y)
        self.trainer = self._new_trainer()
        #: The history record the timeline shows (None = the present); see scrub_to.
        self.scrub_index: Optional[int] = None

    def _bump_version(self, **_: Any) -> None:
        self.version += 1

    # ------------------------------------------------------------ transaction
    def apply_snapshot(self, snap: StateSnapshot, *, source: str = "stage",
                       status: Optional[str] = None, autoplay: bool = False) -> None:
        """Replace every field at once from a validated snapshot; each event fires once after.

        The one way a whole new state comes in (session load, stage load):
        nothing here can fail half-way, because the snapshot was built and
        checked first (:func:`check_points`, :func:`check_samples`, the trainer
        built for the snapshot's own points). Training is paused first.
        """
        if self.running:
            self.running = False
            self.events.running.emit()
        self.X, self.y, self.heldout = snap.X.copy(), snap.y.copy(), snap.heldout.copy()
        self.data_source, self.axes, self.table = snap.data_source, snap.axes, snap.table
        self.dataset, self.spec, self.features = snap.dataset, snap.spec, snap.features
        self.training, self.trainer = snap.training, snap.trainer
        self.probe_z, self.probe_y = float(snap.probe_z), float(snap.probe_y)
        self.samples_p, self.samples_y = snap.samples_p.copy(), snap.samples_y.copy()
        self.samples_ref_p = None if snap.samples_ref_p is None else snap.samples_ref_p.copy()
        self.threshold, self.view = float(snap.threshold), snap.view
        self.scenario_id, self.scenario_title = snap.scenario_id, snap.scenario_title
        self.caption, self.scenario_panels = snap.caption, snap.scenario_panels
        self.stage_id = snap.scenario_id
        scrubbed, self.scrub_index = self.scrub_index is not None, None
        ev = self.events
        if scrubbed:
            ev.scrub.emit(index=None, kind="clear")
        ev.data.emit(kind="reset", index=None)
        ev.spec.emit()
        ev.features.emit()
        ev.settings.emit()
        # "reset": weights and the whole history were replaced, so views that cache
        # the history (training curves, the surface path) start over.
        ev.weights.emit(reason="reset", source=source)
        ev.probe.emit()
        ev.samples.emit()
        ev.threshold.emit()
        ev.view.emit()
        ev.scenario.emit(id=snap.scenario_id, title=snap.scenario_title, caption=snap.caption,
                         panels=snap.scenario_panels, autoplay=autoplay)
        if status:
            self.set_status(status, "info")
        if autoplay:
            self.set_running(True)

    def snapshot(self) -> StateSnapshot:
        """The current fields as a snapshot (arrays copied; the trainer is shared)."""
        return StateSnapshot(
            X=self.X.copy(), y=self.y.copy(), heldout=self.heldout.copy(),
            data_source=self.data_source, axes=self.axes, table=self.table,
            dataset=self.dataset, spec=self.spec, features=self.features,
            training=self.training, trainer=self.trainer, probe_z=self.probe_z,
            probe_y=self.probe_y, samples_p=self.samples_p.copy(),
            samples_y=self.samples_y.copy(),
            samples_ref_p=None if self.samples_ref_p is None else self.samples_ref_p.copy(),
            threshold=self.threshold, view=self.view, scenario_id=self.scenario_id,
            scenario_title=self.scenario_title, caption=self.caption,
            scenario_panels=self.scenario_panels)

    # -------------------------------------------------- the lab interface
    # The 2-D lab's state predates bceviz.model.labs.base.LabState; these give
    # it the same interface the window and the CLI use for every lab.
    lab_id = "logistic2d"

    @property
    def steps_per_frame(self) -> int:
        return self.training.steps_per_frame

    def can_train(self) -> bool:
        return self.n_train > 0 and not self.trainer.diverged

    def reset(self) -> None:
        self.reset_weights()

    def report(self) -> dict:
        return self.summary()

    def apply_settings(self, settings: dict) -> None:
        """Apply a stage's settings (a scenario dict); StateError on a refusal, nothing changed."""
        from bceviz.model import scenarios as _scenarios

        try:
            _scenarios.apply_scenario(self, settings)
        except _scenarios.ScenarioError as exc:
            raise StateError(str(exc)) from None

    def set_stage_id(self, stage_id: str) -> None:
        self.stage_id = str(stage_id)

    # ------------------------------------------------------------------ probe
    @property
    def probe_p(self) -> float:
        """The loss-curve handle's predicted probability, strictly inside (0, 1)."""
        return float(1.0 / (1.0 + math.exp(-self.probe_z)))

    def set_probe(self, *, p: Optional[float] = None, z: Optional[float] = None,
                  y: Optional[float] = None) -> None:
        """Move the loss-curve handle. p is clipped so the loss stays finite."""
        if p is not None and z is not None:
            raise StateError("give p or z, not both")
        new_z = self.probe_z
        if p is not None:
            p = _finite("p", p)
            if not 0.0 <= p <= 1.0:
                raise StateError(f"p must be in [0, 1], got {p:g}")
            lim = 1.0 / (1.0 + math.exp(PROBE_Z_LIMIT))
            clipped = min(max(p, lim), 1.0 - lim)
            if clipped != p:
                self.set_status(
                    f"p = {p:g} is clipped to {clipped:.3g}: at exactly 0 or 1 the loss of a "
                    "wrong label is infinite", "info")
            new_z = math.log(clipped) - math.log1p(-clipped)
        if z is not None:
            z = _finite("z", z)
            new_z = min(max(z, -PROBE_Z_LIMIT), PROBE_Z_LIMIT)
        new_y = self.probe_y if y is None else _label("y", y)
        if new_z == self.probe_z and new_y == self.probe_y:
            return
        self.probe_z, self.probe_y = float(new_z), float(new_y)
        self.events.probe.emit()

    # ---------------------------------------------------------------- samples
    def set_samples(self, p, y, ref_p=None, *, keep_ref: bool = True) -> None:
        p_arr = np.atleast_1d(np.asarray(p, dtype=np.float64)).copy()
        y_arr = np.atleast_1d(np.asarray(y, dtype=np.float64)).copy()
        if p_arr.shape != y_arr.shape or p_arr.ndim != 1:
            raise StateError("samples need as many predictions as labels")
        if not np.all(np.isfinite(p_arr)) or np.any((p_arr < 0) | (p_arr > 1)):
            raise StateError("sample predictions must be in [0, 1]")
        _labels(y_arr)
        if len(p_arr) > 64:
            raise StateError("the samples panel holds at most 64 pairs")
        if ref_p is not None:
            ref = np.asarray(ref_p, dtype=np.float64).copy()
            self.samples_ref_p = ref if ref.shape == p_arr.shape else None
        elif not keep_ref or (self.samples_ref_p is not None
                              and self.samples_ref_p.shape != p_arr.shape):
            self.samples_ref_p = None
        self.samples_p, self.samples_y = p_arr, y_arr
        self.events.samples.emit()

    def set_sample(self, i: int, *, p: Optional[float] = None, y: Optional[float] = None) -> None:
        p_arr, y_arr = self.samples_p.copy(), self.samples_y.copy()
        if p is not None:
            p_arr[i] = _finite("p", p)
        if y is not None:
            y_arr[i] = _label("y", y)
        self.set_samples(p_arr, y_arr)

    # ------------------------------------------------------------------- loss
    def set_spec(self, spec: Optional[LossSpec] = None, **changes: Any) -> None:
        """Replace the loss settings (or change some fields): ValueError text is user-facing."""
        try:
            new = spec if spec is not None else replace(self.spec, **changes)
        except (TypeError, ValueError) as exc:
            raise StateError(str(exc)) from None
        if new == self.spec:
            return
        check_spec(new)
        self.spec = new
        self.trainer.set_spec(new)
        self.events.spec.emit()

    def balanced_pos_weight(self) -> float:
        """n_neg / n_pos over the training points (1 if a class is missing)."""
        y = self.y[~self.heldout]
        n_pos = float(np.sum(y >= 0.5))
        n_neg = float(len(y) - n_pos)
        return n_neg / n_pos if n_pos > 0 and n_neg > 0 else 1.0

    # --------------------------------------------------------------- training
    def set_training(self, **changes: Any) -> None:
        """Change optimizer settings live (no reset)."""
        try:
            new = replace(self.training, **changes)
        except TypeError as exc:
            raise StateError(str(exc)) from None
        check_training(new)
        if new == self.training:
            return
        old = self.training
        self.training = new
        t = self.trainer
        try:
            if new.optimizer != old.optimizer:
                t.set_optimizer(new.optimizer)
            t.lr, t.l1, t.l2 = new.lr, new.l1, new.l2
            t.batch_size = new.batch_size
            t.momentum = new.momentum
        except ValueError as exc:
            self.training = old
            raise StateError(str(exc)) from None
        self.events.settings.emit()

    def set_features(self, kind: str) -> None:
        if kind not in _logistic.FEATURE_KINDS:
            raise StateError(f"unknown feature map {kind!r}")
        if kind == self.features:
            return
        self._clear_scrub()
        self.features = kind
        self._sync_trainer_data()
        self.events.features.emit()

    def step(self, n: Optional[int] = None) -> int:
        """Train n steps (default: steps per frame). Divergence pauses and says why."""
        n = self.training.steps_per_frame if n is None else int(n)
        if n <= 0 or self.n_train == 0:
            return 0
        self._clear_scrub()
        done = self.trainer.step(n)
        if done:
            self.events.weights.emit(reason="step", steps=done)
        if self.trainer.diverged:
            self.set_running(False)
            self.set_status(self.trainer.status, "error")
        return done

    def set_running(self, running: bool) -> None:
        running = bool(running)
        if running and self.trainer.diverged:
            self.set_status(self.trainer.status + " (press R to reset)", "error")
            running = False
        if running and self.n_train == 0:
            self.set_status("Nothing to train on: add points first", "warning")
            running = False
        if running == self.running:
            return
        if running:  # playing resumes from the present
            self._clear_scrub()
        self.running = running
        self.events.running.emit()

    def reset_weights(self) -> None:
        self._clear_scrub()
        self.trainer.reset()
        self.set_status("Weights reset to zero", "info")
        self.events.weights.emit(reason="reset")

    def set_weights(self, w, b: Optional[float] = None) -> None:
        """Put the model at given weights (e.g. the user drags the marker on the surface)."""
        w_arr = np.asarray(w, dtype=np.float64).copy()
        if w_arr.shape != self.trainer.w.shape or not np.all(np.isfinite(w_arr)):
            raise StateError("weights must be finite and match the feature map")
        bb = self.trainer.b if b is None else _finite("b", b)
        self._clear_scrub()
        self.trainer.set_weights(w_arr, bb)
        self.events.weights.emit(reason="set")

    # ------------------------------------------------------------------- data
    @property
    def n_points(self) -> int:
        return int(len(self.y))

    @property
    def n_train(self) -> int:
        return int(np.count_nonzero(~self.heldout))

    @property
    def X_train(self) -> np.ndarray:  # noqa: N802 - X is the design matrix
        return self.X[~self.heldout]

    @property
    def y_train(self) -> np.ndarray:
        return self.y[~self.heldout]

    def generate(self, **changes: Any) -> None:
        """Regenerate the data set with changed generator settings; weights are kept."""
        try:
            new = replace(self.dataset, **changes)
        except TypeError as exc:
            raise StateError(str(exc)) from None
        if new.n > MAX_POINTS:
            raise StateError(f"at most {MAX_POINTS:,} points, asked for {new.n:,}")
        if not 0.0 <= new.heldout_fraction < 1.0:
            raise StateError("held-out fraction must be in [0, 1)")
        try:
            X, y = _datasets.make_dataset(new.kind, new.n, noise=new.noise,
                                          pos_fraction=new.pos_fraction,
                                          label_noise=new.label_noise, seed=new.seed)
            heldout = (_datasets.heldout_split(len(y), new.heldout_fraction, seed=new.seed, y=y)
                       if new.heldout_fraction > 0 else np.zeros(len(y), bool))
        except ValueError as exc:
            raise StateError(str(exc)) from None
        self.dataset = new
        self.data_source = "generated"
        self.axes = DataAxes()
        self.table = None
        self._replace_data(X, y, heldout)

    def set_data(self, X, y, heldout=None, *, source: str = "file",
                 axes: Optional[DataAxes] = None) -> None:
        """Replace all points (validated first: a refused set changes nothing).

        ``axes`` names the two features (default ``x1``, ``x2``); any table
        chosen from before is forgotten (see :meth:`load_table`).
        """
        X_arr, y_arr, mask = check_points(X, y, heldout)
        self.data_source = source
        self.axes = axes if axes is not None else DataAxes()
        self.table = None
        self._replace_data(X_arr, y_arr, mask)

    def load_table(self, table: "_datafiles.Table", feature1: str, feature2: str, label: str, *,
                   standardize: bool = True, heldout_fraction: float = 0.3, seed: int = 0,
                   source: Optional[str] = None) -> None:
        """Use two feature columns of a table as the points, keeping the table for re-choosing.

        Goes through ``datafiles.select_features`` (the user-CSV path: labels
        checked, both classes required, population-std standardisation) and a
        stratified held-out split that depends only on the labels and ``seed``,
        so choosing other features keeps the same points held out. A refusal
        raises StateError and changes nothing. Weights are kept.
        """
        frac = _finite("held-out fraction", heldout_fraction)
        if not 0.0 <= frac < 1.0:
            raise StateError("held-out fraction must be in [0, 1)")
        try:
            points = _datafiles.select_features(table, feature1, feature2, label,
                                                standardize=standardize,
                                                require_both_classes=True)
            heldout = (_datasets.heldout_split(points.n, frac, seed=seed, y=points.y)
                       if frac > 0 else np.zeros(points.n, bool))
        except ValueError as exc:
            raise StateError(str(exc)) from None
        choice = TableChoice(table=table, label=points.label_name, standardize=standardize,
                             heldout_fraction=frac, seed=int(seed),
                             source=source or table.source)
        # Listeners must see the table together with the new points: hold the
        # data event until both are in place.
        with self.events.data.blocked(replay_last=True):
            self.set_data(points.X, points.y, heldout, source=choice.source,
                          axes=DataAxes.of_points(points))
            self.table = choice

    def load_points_file(self, path, *, progress=None) -> None:
        """Replace the points with a CSV file: two features and a label (Open data, --data).

        Read by ``datafiles.read_points_csv`` with at most MAX_POINTS rows
        (``progress`` as there); all points train, none is held out. A refused
        file raises DataFileError (file, line, column) or StateError and
        changes nothing. Weights are kept.
        """
        points = _datafiles.read_points_csv(path, max_rows=MAX_POINTS, progress=progress)
        name = os.path.basename(os.fspath(path))
        self.set_data(points.X, points.y, None, source=name, axes=DataAxes.of_points(points))
        self.set_caption(f"Your data: {name}",
                         f"{self.n_points:,} points from {name}, every one a training point "
                         f"({points.feature_names[0]} against {points.feature_names[1]}). "
                         "Press Space to train.")

    def set_caption(self, title: str, caption: str) -> None:
        """Say on screen what is shown now (after a data file replaced a stage's points)."""
        self.scenario_title, self.caption = str(title), str(caption)
        self.events.scenario.emit(id=self.scenario_id, title=self.scenario_title,
                                  caption=self.caption, panels=self.scenario_panels,
                                  autoplay=False)

    def load_samples_file(self, path) -> None:
        """Replace the samples panel's pairs with a CSV file of (p, y) pairs (at most 64).

        Raises DataFileError or StateError; a refused file changes nothing.
        """
        p, y = _datafiles.read_pairs_csv(path, max_rows=64)
        self.set_samples(p, y, keep_ref=False)

    def choose_features(self, feature1: str, feature2: str) -> None:
        """Re-load the current table with two other feature columns (same split and scaling)."""
        choice = self.table
        if choice is None:
            raise StateError("no table is loaded: features can only be chosen from a data table")
        self.load_table(choice.table, feature1, feature2, choice.label,
                        standardize=choice.standardize, heldout_fraction=choice.heldout_fraction,
                        seed=choice.seed, source=choice.source)

    def _replace_data(self, X, y, heldout) -> None:
        self.X, self.y, self.heldout = X, y, heldout
        self._sync_trainer_data()
        self.events.data.emit(kind="reset", index=None)

    def move_point(self, i: int, x1: float, x2: float) -> None:
        i = self._index(i)
        x1, x2 = _coordinate("x1", x1), _coordinate("x2", x2)
        self.X[i] = (x1, x2)
        self._sync_trainer_data()
        self.events.data.emit(kind="move", index=i)

    def add_point(self, x1: float, x2: float, label: float, *, heldout: bool = False) -> int:
        if self.n_points >= MAX_POINTS:
            raise StateError(f"at most {MAX_POINTS:,} points")
        x1, x2, label = _coordinate("x1", x1), _coordinate("x2", x2), _label("label", label)
        self.X = np.vstack([self.X, [[x1, x2]]])
        self.y = np.append(self.y, label)
        self.heldout = np.append(self.heldout, bool(heldout))
        self._sync_trainer_data()
        i = self.n_points - 1
        self.events.data.emit(kind="add", index=i)
        return i

    def remove_point(self, i: int) -> tuple[float, float, float, bool]:
        """Delete point i; returns what was removed (x1, x2, label, heldout) for undo."""
        i = self._index(i)
        removed = (float(self.X[i, 0]), float(self.X[i, 1]), float(self.y[i]), bool(self.heldout[i]))
        self.X = np.delete(self.X, i, axis=0)
        self.y = np.delete(self.y, i)
        self.heldout = np.delete(self.heldout, i)
        self._sync_trainer_data()
        self.events.data.emit(kind="remove", index=i)
        return removed

    def insert_point(self, i: int, x1: float, x2: float, label: float, heldout: bool) -> None:
        """Put a point back at index i (undo of a removal)."""
        if not 0 <= i <= self.n_points:
            raise StateError(f"no place {i} for a point")
        self.X = np.insert(self.X, i, [_coordinate("x1", x1), _coordinate("x2", x2)], axis=0)
        self.y = np.insert(self.y, i, _label("label", label))
        self.heldout = np.insert(self.heldout, i, bool(heldout))
        self._sync_trainer_data()
        self.events.data.emit(kind="reset", index=None)

    def set_label(self, i: int, label: float) -> None:
        i = self._index(i)
        self.y[i] = _label("label", label)
        self._sync_trainer_data()
        self.events.data.emit(kind="label", index=i)

    def flip_label(self, i: int) -> None:
        i = self._index(i)
        self.set_label(i, 1.0 - float(self.y[i]))

    def _index(self, i: int) -> int:
        i = int(i)
        if not 0 <= i < self.n_points:
            raise StateError(f"no point {i}: there are {self.n_points}")
        return i

    # -------------------------------------------------------------- threshold
    def set_threshold(self, t: float) -> None:
        t = _finite("threshold", t)
        t = min(max(t, 0.0), 1.0)
        if t == self.threshold:
            return
        self.threshold = t
        self.events.threshold.emit()

    # ------------------------------------------------------------------- view
    def set_view(self, **changes: Any) -> None:
        try:
            new = replace(self.view, **changes)
        except TypeError as exc:
            raise StateError(str(exc)) from None
        if new.units not in ("nats", "bits") or new.curve_axis not in ("p", "z"):
            raise StateError("units must be nats or bits; curve axis p or z")
        for value in (new.loss_y_max, new.samples_loss_max):
            if not (math.isfinite(value) and 0.0 <= value <= 1000.0):
                raise StateError("a fixed loss axis must be 0 (automatic) to 1000")
        if new.curves not in CURVE_CHOICES or new.metrics_plot not in METRICS_PLOTS:
            raise StateError(f"curves must be one of {', '.join(CURVE_CHOICES)}; metrics plot "
                             f"one of {', '.join(METRICS_PLOTS)}")
        if new == self.view:
            return
        self.view = new
        self.events.view.emit()

    def set_status(self, message: str, level: str = "info") -> None:
        self.status_message = message
        self.events.status.emit(message=message, level=level)

    # -------------------------------------------------------------- derived
    def features_of(self, X) -> np.ndarray:
        """The model's feature columns for raw 2-D points X (N, 2).

        For the state's own points (``X is self.X``) the matrix is kept while the
        points' bytes and the feature map stay the same, and returned read-only:
        several panels ask for it in one frame (a scrubbed timeline: the metrics,
        the formula, the data panel), each a polynomial expansion of every point.
        """
        X = np.asarray(X, dtype=np.float64)
        if X is not self.X:
            return _logistic.make_features(X, self.features)
        raw = X.tobytes()  # (any edit in place changes these: a cache that cannot go stale)
        cached = getattr(self, "_own_features", None)
        if cached is not None and cached[0] == self.features and cached[1] == raw:
            return cached[2]
        F = _logistic.make_features(X, self.features)
        F.flags.writeable = False
        self._own_features = (self.features, raw, F)
        return F

    def training_features(self) -> np.ndarray:
        """The feature matrix the model trains on (training points only; read-only view)."""
        F = self.trainer.X.view()
        F.flags.writeable = False
        return F

    def logits_of(self, X) -> np.ndarray:
        """Logits of points X (N, 2) under the weights shown (:meth:`shown_weights`)."""
        w, b = self.shown_weights()
        return self.features_of(X) @ w + b

    def proba_of(self, X) -> np.ndarray:
        z = self.logits_of(X)
        return np.exp(-np.logaddexp(0.0, -z))

    def point_losses(self) -> np.ndarray:
        """Per-point loss (nats) of every point under the current spec."""
        return loss_from_logits(self.logits_of(self.X), self.y, self.spec)

    def point_grads(self) -> np.ndarray:
        """Per-point dL/dz of every point under the current spec."""
        return grad_from_logits(self.logits_of(self.X), self.y, self.spec)

    def summary(self) -> dict:
        """Numbers for reports: train loss (penalty excluded), accuracy, weights."""
        tr = ~self.heldout
        out: dict[str, Any] = {
            "steps": int(self.trainer.steps),
            "n_points": self.n_points,
            "n_train": self.n_train,
            "n_heldout": int(self.heldout.sum()),
            "features": self.features,
            "w": [float(v) for v in self.trainer.w],
            "b": float(self.trainer.b),
            "spec": self.spec.to_dict(),
            "threshold": self.threshold,
        }
        for name, mask in (("train", tr), ("heldout", ~tr)):
            if not mask.any():
                out[f"{name}_loss"] = None
                out[f"{name}_accuracy"] = None
                continue
            z = self.features_of(self.X[mask]) @ self.trainer.w + self.trainer.b
            y = self.y[mask]
            out[f"{name}_loss"] = float(np.mean(loss_from_logits(z, y, self.spec)))
            p = np.exp(-np.logaddexp(0.0, -z))
            out[f"{name}_accuracy"] = float(np.mean((p >= self.threshold) == (y >= 0.5)))
        out["accuracy"] = out["train_accuracy"]
        out["objective"] = float(self.trainer.objective()) if self.n_train else None
        out["diverged"] = bool(self.trainer.diverged)
        return out

    # -------------------------------------------------------------- timeline
    def shown_weights(self) -> tuple[np.ndarray, float]:
        """(w, b) the panels draw: the scrubbed history record's, else the trainer's.

        The arrays are read-only views (copy to keep); ``b`` a float.
        """
        i = self.scrub_index
        if i is None:
            return self.trainer.w, float(self.trainer.b)
        hist = self.trainer.history
        return hist.w[i], float(hist.b[i])

    def scrub_to(self, index: Optional[int]) -> None:
        """Show history record ``index`` (0 = the oldest kept; None or the newest = the present).

        A view only: data, settings and weights stay as they are. Training is
        paused first (the present would move under the user otherwise).
        StateError, nothing changed, if ``index`` is not in [0, len(history) − 1].
        """
        n = len(self.trainer.history)
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
                raise StateError(f"timeline position must be an integer, got {index!r}")
            index = int(index)
            if not 0 <= index < n:
                raise StateError(f"timeline position {index} is outside [0, {n - 1}]")
            if index == n - 1:
                index = None
        if index == self.scrub_index:
            return
        if index is not None and self.running:
            self.set_running(False)
        self.scrub_index = index
        self.events.scrub.emit(index=index, kind="scrub")

    def _clear_scrub(self) -> None:
        if self.scrub_index is not None:
            self.scrub_index = None
            self.events.scrub.emit(index=None, kind="clear")

    def training_record(self) -> dict:
        """The trainer's weights, step count and history (copies): what continue-from-here
        replaces and undo puts back (:meth:`restore_training_record`)."""
        t = self.trainer
        return {"w": t.w.copy(), "b": float(t.b), "steps": int(t.steps),
                "history": t.history.state_dict()}

    def restore_training_record(self, record: dict) -> None:
        """Put back weights, step count and history from :meth:`training_record`.

        StateError, nothing changed, if the record does not fit the feature map
        (the weights' length) or is inconsistent.
        """
        t = self.trainer
        w = np.asarray(record["w"], dtype=np.float64)
        if w.shape != t.w.shape or not np.all(np.isfinite(w)):
            raise StateError("the recorded weights do not match the feature map")
        old = self.training_record()
        try:
            t.set_weights(w, float(record["b"]))
            t.restore(int(record["steps"]), record["history"])
        except ValueError as exc:
            t.set_weights(old["w"], old["b"])
            t.restore(old["steps"], old["history"])
            raise StateError(f"cannot restore the training history: {exc}") from None
        self.scrub_index = None
        self.events.scrub.emit(index=None, kind="clear")
        # "reset": the history was replaced, so views that cache it start over.
        self.events.weights.emit(reason="reset", source="timeline")

    def continue_from_scrub(self) -> None:
        """Continue training from the scrubbed record: the later history is discarded.

        The weights become the record's, the step count its step, the history
        ends there (its thinning stride kept); the optimizer's state (momentum,
        Adam moments) starts afresh. Emits ``scrub`` with ``kind="continue"``
        and ``before`` (the training record replaced, so undo can put it back),
        then ``weights`` with ``reason="reset"``. StateError if nothing is scrubbed.
        """
        i = self.scrub_index
        if i is None:
            raise StateError("nothing to continue from: drag the timeline back first")
        before = self.training_record()
        hist = before["history"]
        cut = {name: (np.asarray(v)[: i + 1].copy() if isinstance(v, np.ndarray) else v)
               for name, v in hist.items()}
        cut["provisional"] = int(cut["step"][-1]) % int(hist["stride"]) != 0
        record = {"w": cut["w"][-1].copy(), "b": float(cut["b"][-1]),
                  "steps": int(cut["step"][-1]), "history": cut}
        t = self.trainer
        try:
            t.set_weights(record["w"], record["b"])
            t.restore(record["steps"], cut)
        except ValueError as exc:
            t.set_weights(before["w"], before["b"])
            t.restore(before["steps"], before["history"])
            raise StateError(f"cannot continue from step {record['steps']}: {exc}") from None
        self.scrub_index = None
        self.events.scrub.emit(index=None, kind="continue", before=before)
        self.events.weights.emit(reason="reset", source="timeline")
        self.set_status(f"Continuing from step {record['steps']:,}: the later history is "
                        "discarded (Ctrl+Z brings it back)", "info")

    # -------------------------------------------------------------- internal
    def _new_trainer(self):
        t = self.training
        return _logistic.Trainer(
            _logistic.make_features(self.X_train, self.features), self.y_train, self.spec,
            optimizer=t.optimizer, lr=t.lr, l2=t.l2, l1=t.l1, batch_size=t.batch_size,
            momentum=t.momentum, seed=t.seed,
        )

    def _sync_trainer_data(self) -> None:
        self.trainer.set_data(_logistic.make_features(self.X_train, self.features), self.y_train)


def check_spec(spec: LossSpec) -> LossSpec:
    """The loss settings within the ranges sessions state (pos_weight 1e308 made even the
    loss at zero weights infinite); StateError naming the setting otherwise."""
    from bceviz.model.session import MAX_FOCAL_GAMMA, MAX_POS_WEIGHT

    if spec.pos_weight > MAX_POS_WEIGHT:
        raise StateError(f"pos_weight {spec.pos_weight:g} is too large: allowed "
                         f"[0, {MAX_POS_WEIGHT:g}]")
    if spec.focal_gamma > MAX_FOCAL_GAMMA:
        raise StateError(f"focal γ {spec.focal_gamma:g} is too large: allowed "
                         f"[0, {MAX_FOCAL_GAMMA:g}]")
    return spec


def check_points(X, y, heldout=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated copies of points (N, 2), labels (N,) and the held-out mask; StateError else."""
    X_arr = np.array(X, dtype=np.float64)
    y_arr = np.array(y, dtype=np.float64)
    if X_arr.ndim != 2 or X_arr.shape[1] != 2 or y_arr.shape != (X_arr.shape[0],):
        raise StateError("data must be N points with two features and one label each")
    if not np.all(np.isfinite(X_arr)):
        raise StateError("data must contain finite numbers only")
    _coordinates(X_arr)
    _labels(y_arr)
    if len(y_arr) > MAX_POINTS:
        raise StateError(f"at most {MAX_POINTS:,} points, the data has {len(y_arr):,}")
    mask = np.zeros(len(y_arr), bool) if heldout is None else np.array(heldout, dtype=bool)
    if mask.shape != y_arr.shape:
        raise StateError("held-out mask must have one entry per point")
    return X_arr, y_arr, mask


def check_training(new: TrainingSettings) -> TrainingSettings:
    """The optimizer settings, or StateError naming the one out of range."""
    if new.optimizer not in OPTIMIZERS:
        raise StateError(f"unknown optimizer {new.optimizer!r}")
    if not (math.isfinite(new.lr) and new.lr > 0):
        raise StateError(f"learning rate must be > 0, got {new.lr!r}")
    if new.l1 < 0 or new.l2 < 0 or not (math.isfinite(new.l1) and math.isfinite(new.l2)):
        raise StateError("L1 and L2 strengths must be finite and >= 0")
    if new.batch_size is not None and new.batch_size < 1:
        raise StateError("batch size must be at least 1")
    if not 1 <= new.steps_per_frame <= 1000:
        raise StateError("steps per frame must be between 1 and 1000")
    return new


def probe_logit(p: float) -> float:
    """The loss-curve handle's logit for probability p, clipped to ±PROBE_Z_LIMIT."""
    p = _finite("p", p)
    if not 0.0 <= p <= 1.0:
        raise StateError(f"p must be in [0, 1], got {p:g}")
    lim = 1.0 / (1.0 + math.exp(PROBE_Z_LIMIT))
    clipped = min(max(p, lim), 1.0 - lim)
    return math.log(clipped) - math.log1p(-clipped)


def check_samples(p, y, ref_p=None) -> tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """Validated copies of the samples panel's pairs (at most 64) and the reference p."""
    p_arr = np.atleast_1d(np.array(p, dtype=np.float64))
    y_arr = np.atleast_1d(np.array(y, dtype=np.float64))
    if p_arr.shape != y_arr.shape or p_arr.ndim != 1:
        raise StateError("samples need as many predictions as labels")
    if not np.all(np.isfinite(p_arr)) or np.any((p_arr < 0) | (p_arr > 1)):
        raise StateError("sample predictions must be in [0, 1]")
    _labels(y_arr)
    if len(p_arr) > 64:
        raise StateError("the samples panel holds at most 64 pairs")
    ref = None
    if ref_p is not None:
        ref = np.array(ref_p, dtype=np.float64)
        if ref.shape != p_arr.shape or not np.all(np.isfinite(ref)) \
                or np.any((ref < 0) | (ref > 1)):
            raise StateError("the reference predictions must be one p in [0, 1] per sample")
    return p_arr, y_arr, ref


def _finite(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise StateError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise StateError(f"{name} must be a finite number, got {value!r}")
    return v


def _coordinate(name: str, value: Any) -> float:
    """A point coordinate: finite and within ±COORDINATE_LIMIT (bceviz.model.datafiles)."""
    v = _finite(name, value)
    if abs(v) > _datafiles.COORDINATE_LIMIT:
        raise StateError(f"{name} = {v:g} is outside [-{_datafiles.COORDINATE_LIMIT:g}, "
                         f"{_datafiles.COORDINATE_LIMIT:g}], the range of point coordinates")
    return v


def _coordinates(X: np.ndarray) -> None:
    """Every coordinate of points (N, 2) within ±COORDINATE_LIMIT, else StateError."""
    limit = _datafiles.COORDINATE_LIMIT
    if X.size and float(np.max(np.abs(X))) > limit:
        i, j = (int(v) for v in np.argwhere(np.abs(X) > limit)[0])
        raise StateError(f"point {i}: x{j + 1} = {X[i, j]:g} is outside [-{limit:g}, {limit:g}]; "
                         "coordinates beyond that make the model's numbers overflow "
                         "(rescale the data)")


def _label(name: str, value: Any) -> float:
    v = _finite(name, value)
    if not 0.0 <= v <= 1.0:
        raise StateError(f"{name} must be in [0, 1], got {v:g}")
    return v


def _labels(y: np.ndarray) -> None:
    try:
        validate_labels(y)
    except ValueError as exc:
        raise StateError(str(exc)) from None


__all__ = [
    "AppState", "StateSnapshot", "check_points", "check_samples", "check_training", "probe_logit", "DataAxes", "TableChoice", "DatasetSettings", "TrainingSettings", "ViewOptions",
    "StateError", "OPTIMIZERS", "OPTIMIZER_LABELS", "MAX_POINTS", "PROBE_Z_LIMIT", "asdict",
    "field",
]
