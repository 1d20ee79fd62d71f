"""The optimizer race of the 2-D lab: two to five trainers from the same weights on the same loss.

No Qt here. A :class:`Race` belongs to one ``AppState`` (:func:`race_of`) and
follows it through the state's events, like a view (see
``docs/architecture.md``, "One writer"): the racers never own data or loss
settings, they are kept in step with the state's.

- ``data`` / ``features``: every racer gets the state's training features
  and labels (a dragged point moves under every racer at once); ``spec``:
  the state's loss settings; ``settings``: the state's L1, L2 and momentum
  (each racer keeps its own optimizer and learning rate).
- ``weights`` with ``reason="step"`` (and ``steps=n``): every racer takes
  the same n steps, so pressing Play races them; ``reason="set"`` (the model
  dragged on the surface) or ``"reset"`` (R, a stage, continue-from-here):
  the race restarts from the state's weights.
- ``scenario``: a stage whose panels include ``"race"`` starts the
  :data:`DEFAULT_LINEUP` (or keeps the race running); any other stage stops it.

The race's own event ``race`` (``race.events.race``) has ``kind`` "start",
"step", "sync" (data or loss changed under the racers), "view" (whether each
racer's decision boundary is drawn on the data plot: ``show_boundaries``)
or "stop".

Figures (:meth:`Race.figures`, cached per race version): each racer's
name, optimizer, learning rate, step count, mean loss (nats, penalty
excluded), objective (loss + penalty), ‖w‖, gradient norm, the steps it took
to reach the tolerance (the first *recorded* step whose gradient norm is at
most ``tolerance``; the history is thinned when long, so this can be late by
less than its stride; None while not reached), its (w1, w2) path and its
status (a diverged racer stops and says why; the others race on).
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Any, Optional, Sequence

import numpy as np

from bceviz.engine import logistic as _logistic
from bceviz.model.events import EventGroup

#: Optimizers a racer can use (bceviz.engine.logistic.Trainer's names).
RACE_OPTIMIZERS = ("gd", "sgd", "momentum", "adam", "newton")
#: Learning rate of a racer named without one (``gd`` in ``--race gd,adam``).
DEFAULT_LR = {"gd": 0.5, "sgd": 0.2, "momentum": 0.1, "adam": 0.05, "newton": 1.0}
MIN_RACERS, MAX_RACERS = 2, 5
#: Mini-batch size of an SGD racer when the state's settings name none.
DEFAULT_BATCH = 32
#: Gradient-norm tolerance of "steps to tolerance" (settable, in (0, 10]).
DEFAULT_TOLERANCE = 1e-3
#: The race a stage showing the race panel starts.
DEFAULT_LINEUP = "gd,momentum,adam,newton"
#: A path drawn has at most this many points (the history itself thins old steps).
MAX_PATH_POINTS = 2000
#: Records each racer keeps (thinned beyond; a quarter of the lab's own trainer's: five
#: racers' preallocated histories stay under 3 MB once filled).
RACER_HISTORY_CAPACITY = 4096


class RaceError(ValueError):
    """A refused race (its message names the entry and the allowed values)."""


@dataclass(frozen=True)
class RacerSpec:
    """One racer: an optimizer of RACE_OPTIMIZERS and its learning rate (> 0, finite)."""

    optimizer: str
    lr: float


def parse_race(text: "str | Sequence[Any]") -> tuple[RacerSpec, ...]:
    """Racers from ``"gd,momentum:0.1,adam"`` (an optional ``:lr`` each) or a list of
    names, ``(optimizer, lr)`` pairs or RacerSpecs.

    RaceError unless there are MIN_RACERS to MAX_RACERS entries, each optimizer
    is one of RACE_OPTIMIZERS, each learning rate a finite number > 0 and no
    two entries are the same optimizer at the same learning rate.
    """
    items = [part.strip() for part in text.split(",")] if isinstance(text, str) else list(text)
    out: list[RacerSpec] = []
    for pos, item in enumerate(items, 1):
        if isinstance(item, RacerSpec):
            spec = item
        else:
            if isinstance(item, str):
                name, _, lr_text = item.partition(":")
                lr: Any = lr_text.strip() or None
            elif isinstance(item, (tuple, list)) and len(item) == 2:
                name, lr = item
            else:
                raise RaceError(f"race entry {pos}: {item!r} is not an optimizer name")
            name = str(name).strip().lower()
            if name not in RACE_OPTIMIZERS:
                raise RaceError(f"race entry {pos}: unknown optimizer {name!r}; allowed: "
                                f"{', '.join(RACE_OPTIMIZERS)}")
            if lr is None:
                lr = DEFAULT_LR[name]
            try:
                lr = float(lr)
            except (TypeError, ValueError):
                raise RaceError(f"race entry {pos}: learning rate {lr!r} is not a number") \
                    from None
            spec = RacerSpec(name, lr)
        if not (math.isfinite(spec.lr) and spec.lr > 0):
            raise RaceError(f"race entry {pos}: learning rate must be a finite number > 0, "
                            f"got {spec.lr!r}")
        if spec in out:
            raise RaceError(f"race entry {pos}: {spec.optimizer} at lr {spec.lr:g} is already "
                            "racing")
        out.append(spec)
    if not MIN_RACERS <= len(out) <= MAX_RACERS:
        raise RaceError(f"a race needs {MIN_RACERS} to {MAX_RACERS} optimizers, got {len(out)}")
    return tuple(out)


def racer_names(specs: Sequence[RacerSpec]) -> list[str]:
    """Unique names: the optimizer, with ``@lr`` when the optimizer races more than once."""
    counts = {s.optimizer: 0 for s in specs}
    for s in specs:
        counts[s.optimizer] += 1
    return [s.optimizer if counts[s.optimizer] == 1 else f"{s.optimizer}@{s.lr:g}"
            for s in specs]


@dataclass
class Racer:
    """One racer: its name, its spec and its own trainer (on the state's data and loss)."""

    name: str
    spec: RacerSpec
    trainer: _logistic.Trainer


@dataclass(frozen=True, eq=False)
class RacerFigures:
    """What the table, the surface and the curves show of one racer (see the module doc)."""

    name: str
    optimizer: str
    lr: float
    steps: int
    loss: float
    objective: float
    w_norm: float
    grad_norm: float
    steps_to_tolerance: Optional[int]
    w: np.ndarray
    b: float
    path: np.ndarray  # (k, 2): (w1, w2) per recorded step (thinned to MAX_PATH_POINTS)
    curve_steps: np.ndarray  # recorded steps
    curve_loss: np.ndarray  # mean loss per recorded step, nats (NaN where not finite)
    diverged: bool
    status: str


class Race:
    """Two to five racers following one AppState (build it with :func:`race_of`)."""

    def __init__(self, state: Any) -> None:
        self.events = EventGroup("race")
        self.version = 0
        self.events.race.connect(self._bump)
        self.racers: list[Racer] = []
        self.tolerance = DEFAULT_TOLERANCE
        #: Draw each racer's decision boundary on the data plot (a view option).
        self.show_boundaries = False
        self._state = weakref.ref(state)
        self._cache: Optional[tuple[int, list[RacerFigures]]] = None
        ev = state.events
        self._listeners = [(ev.data, self._on_data), (ev.features, self._on_data),
                           (ev.spec, self._on_spec), (ev.settings, self._on_settings),
                           (ev.weights, self._on_weights), (ev.scenario, self._on_scenario)]
        for event, callback in self._listeners:
            event.connect(callback)
        if "race" in (state.scenario_panels or ()):
            self.start(DEFAULT_LINEUP)

    def _bump(self, **_: Any) -> None:
        self.version += 1

    @property
    def state(self) -> Any:
        st = self._state()
        if st is None:
            raise RaceError("the race's state is gone")
        return st

    @property
    def active(self) -> bool:
        return bool(self.racers)

    @property
    def lineup(self) -> tuple[RacerSpec, ...]:
        return tuple(r.spec for r in self.racers)

    def detach(self) -> None:
        """Stop following the state (the racers stay as they are)."""
        st = self._state()
        if st is not None:
            for event, callback in self._listeners:
                event.disconnect(callback)
        self._listeners = []

    # ------------------------------------------------------------- changing
    def start(self, racers: "str | Sequence[Any]", *, tolerance: Optional[float] = None) -> None:
        """Start (or restart) a race from the state's shown weights; RaceError, nothing
        changed, on a refused lineup or tolerance."""
        specs = parse_race(racers)
        tol = self.tolerance if tolerance is None else _tolerance(tolerance)
        built = [Racer(name, spec, self._new_trainer(spec))
                 for name, spec in zip(racer_names(specs), specs)]
        self.racers, self.tolerance = built, tol
        self.events.race.emit(kind="start")

    def restart(self) -> None:
        """The same racers again from the state's current weights, step 0."""
        if self.racers:
            self.start(self.lineup)

    def stop(self) -> None:
        if self.racers:
            self.racers = []
            self.events.race.emit(kind="stop")

    def set_tolerance(self, tolerance: float) -> None:
        """The gradient-norm tolerance of "steps to tolerance", in (0, 10]."""
        tol = _tolerance(tolerance)
        if tol != self.tolerance:
            self.tolerance = tol
            self.events.race.emit(kind="sync")

    def set_show_boundaries(self, on: bool) -> None:
        """Draw (or not) each racer's decision boundary on the data plot."""
        on = bool(on)
        if on != self.show_boundaries:
            self.show_boundaries = on
            self.events.race.emit(kind="view")

    def step(self, n: int = 1) -> int:
        """Every racer takes up to n steps (a diverged one stays where it stopped)."""
        if not self.racers or n <= 0:
            return 0
        taken = max(r.trainer.step(int(n)) for r in self.racers)
        self.events.race.emit(kind="step")
        return taken

    # ------------------------------------------------------------- following
    def _features(self) -> tuple[np.ndarray, np.ndarray]:
        st = self.state
        return _logistic.make_features(st.X_train, st.features), st.y_train

    def _new_trainer(self, spec: RacerSpec) -> _logistic.Trainer:
        st = self.state
        t = st.training
        F, y = self._features()
        w, b = st.shown_weights()
        return _logistic.Trainer(
            F, y, st.spec, optimizer=spec.optimizer, lr=spec.lr, l2=t.l2, l1=t.l1,
            batch_size=(t.batch_size or DEFAULT_BATCH) if spec.optimizer == "sgd" else None,
            momentum=t.momentum, seed=t.seed, w0=np.array(w), b0=float(b),
            history_capacity=RACER_HISTORY_CAPACITY)

    def _on_data(self, **_: Any) -> None:
        if not self.racers:
            return
        F, y = self._features()
        if len(y) == 0:
            return
        for r in self.racers:
            r.trainer.set_data(F, y)
        self.events.race.emit(kind="sync")

    def _on_spec(self, **_: Any) -> None:
        if not self.racers:
            return
        for r in self.racers:
            r.trainer.set_spec(self.state.spec)
        self.events.race.emit(kind="sync")

    def _on_settings(self, **_: Any) -> None:
        if not self.racers:
            return
        t = self.state.training
        for r in self.racers:
            r.trainer.l1, r.trainer.l2, r.trainer.momentum = t.l1, t.l2, t.momentum
            if r.spec.optimizer == "sgd":
                r.trainer.batch_size = t.batch_size or DEFAULT_BATCH
        self.events.race.emit(kind="sync")

    def _on_weights(self, reason: str = "", steps: int = 0, **_: Any) -> None:
        if not self.racers:
            return
        if reason == "step":
            self.step(int(steps) if steps else 1)
        elif reason in ("set", "reset"):
            self.restart()

    def _on_scenario(self, panels: Optional[Sequence[str]] = None, **_: Any) -> None:
        if "race" in (panels or ()):
            if not self.racers:
                self.start(DEFAULT_LINEUP)
        else:
            self.stop()

    # ------------------------------------------------------------- figures
    def figures(self) -> list[RacerFigures]:
        """Each racer's figures, computed once per race version."""
        if self._cache is not None and self._cache[0] == self.version:
            return self._cache[1]
        out = [_figures_of(r, self.tolerance) for r in self.racers]
        self._cache = (self.version, out)
        return out

    def report(self) -> dict:
        """``{name: {"optimizer", "lr", "steps", "loss", "objective", "w", "b",
        "steps_to_tolerance", "diverged"}}`` (JSON-safe numbers)."""
        return {f.name: {"optimizer": f.optimizer, "lr": f.lr, "steps": f.steps,
                         "loss": f.loss, "objective": f.objective,
                         "w": [float(v) for v in f.w], "b": f.b,
                         "steps_to_tolerance": f.steps_to_tolerance, "diverged": f.diverged}
                for f in self.figures()}


def _tolerance(value: Any) -> float:
    try:
        tol = float(value)
    except (TypeError, ValueError):
        raise RaceError(f"tolerance must be a number in (0, 10], got {value!r}") from None
    if not (math.isfinite(tol) and 0 < tol <= 10):
        raise RaceError(f"tolerance must be a number in (0, 10], got {value!r}")
    return tol


def _figures_of(racer: Racer, tolerance: float) -> RacerFigures:
    t = racer.trainer
    hist = t.history
    n = len(hist)
    reached = np.flatnonzero(hist.grad_norm <= tolerance) if n else np.empty(0, np.intp)
    w = t.w.copy()
    if n and hist.w.shape[1] >= 2:
        stride = -(-n // MAX_PATH_POINTS)
        path = np.array(hist.w[::stride, :2])
        if stride > 1 and (n - 1) % stride:
            path = np.vstack([path, hist.w[-1:, :2]])
    else:
        path = np.empty((0, 2))
    loss = np.array(hist.loss, dtype=np.float64)
    loss[~np.isfinite(loss)] = np.nan
    last = n - 1
    return RacerFigures(
        name=racer.name, optimizer=racer.spec.optimizer, lr=racer.spec.lr, steps=int(t.steps),
        loss=_finite(hist.loss[last]) if n else 0.0,
        objective=_finite(hist.objective[last]) if n else 0.0,
        w_norm=float(np.linalg.norm(w)),
        grad_norm=_finite(hist.grad_norm[last]) if n else 0.0,
        steps_to_tolerance=int(hist.step[reached[0]]) if reached.size else None,
        w=w, b=float(t.b), path=path, curve_steps=np.array(hist.step, dtype=np.float64),
        curve_loss=loss, diverged=bool(t.diverged), status=t.status)


def _finite(value: Any) -> float:
    v = float(value)
    return v if math.isfinite(v) else 0.0


_RACES: "weakref.WeakKeyDictionary[Any, Race]" = weakref.WeakKeyDictionary()


def race_of(state: Any) -> Race:
    """The race that follows ``state`` (an AppState), built on first use."""
    race = _RACES.get(state)
    if race is None:
        race = _RACES[state] = Race(state)
    return race


def existing_race(state: Any) -> Optional[Race]:
    """The state's race if one was built, else None (builds nothing)."""
    return _RACES.get(state)


__all__ = ["DEFAULT_LINEUP", "DEFAULT_LR", "DEFAULT_TOLERANCE", "MAX_RACERS", "MIN_RACERS",
           "RACE_OPTIMIZERS", "Race", "RaceError", "RacerFigures", "RacerSpec", "existing_race",
           "parse_race", "race_of", "racer_names"]
