"""The tipping lab's state: examples on one feature axis and p(x) = σ(w·x + b), trained by SGD or Newton.

The lab (see ``docs/architecture.md``, "Labs") is the simplest system the
applications start from: one number per example, two classes, one tipping
point. Examples are ``(feature value, class)`` pairs in the feature's own
units (misorientation θ in degrees, hairpin ΔG in kcal/mol, or whatever a
CSV's first column holds). The model ``p(x) = σ(w x + b)`` is trained one
example at a time — ``w ← w − η (∂L/∂z · x + λ w)``, ``b ← b − η ∂L/∂z`` with
∂L/∂z = ŷ − y for plain BCE (:func:`bceviz.engine.tipping.sgd_update`) — in
the examples' order or shuffled each epoch, or jumps to the Newton fit
(:func:`bceviz.engine.tipping.fit_tipping`). The objective is the mean loss
plus λ/2 · w² (λ = ``l2``, in 1/unit²); η (``lr``) is in 1/unit².

Data sets (all illustrative, never measurements; the generating parameters
are stated in :attr:`DatasetInfo.description`):

* ``two_terminators`` — two hand-made terminators, ΔG = −14 kcal/mol (works)
  and −4 kcal/mol (fails): the lab starts here, from two examples;
* ``grain_boundaries`` — 60 seeded synthetic grain boundaries, θ uniform over
  0–62.8°, P(special) = σ(−0.4 /° · (θ − 15°));
* ``terminators`` — 60 seeded synthetic terminators, ΔG uniform over
  −25 to −3 kcal/mol, P(works) = σ(−0.6 /(kcal/mol) · (ΔG + 12 kcal/mol));
* ``csv`` — a file of (feature, label) rows read by :meth:`TippingState.load_csv`
  through :func:`bceviz.model.datafiles.read_table_csv` (bad files are named
  by line and column and nothing changes).

Events: ``data`` (examples; ``kind`` = move / flip / add / delete / reset and
``index``), ``model`` (w, b; a training step has ``reason="step"``, also
``"fit"``, ``"reset"``, ``"set"``), ``settings`` (l2, loss settings, η, order,
speed, what the strip shows). Derived figures — :meth:`~TippingState.fit`,
:meth:`~TippingState.strip`, :meth:`~TippingState.surface`,
:meth:`~TippingState.steps_table`, :meth:`~TippingState.statements` (and the
status line :meth:`~TippingState.readout`) — are
computed here once per state version and shared by every panel; all numbers
in them are finite (None where a figure does not exist).

Limits: 1 to :data:`MAX_EXAMPLES` examples, |x| <= :data:`MAX_ABS_X`, class
labels 0 or 1; ``step(n)`` does at most :data:`MAX_STEPS_PER_CALL` steps
(:data:`MAX_STEPS_PER_CALL_SETTINGS` with loss settings).
"""

from __future__ import annotations

import math
import os
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bceviz.engine import tipping as _tip
from bceviz.engine.losses import LossSpec, loss_from_logits, sigmoid
from bceviz.model.datafiles import LABEL_NAMES, DataFileError, read_table_csv
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

#: At most this many examples.
MAX_EXAMPLES = 2000
#: The last example cannot be deleted.
MIN_EXAMPLES = 1
#: Largest |feature value| accepted, in any unit.
MAX_ABS_X = 1e6
#: ``step(n)`` does at most this many SGD steps per call (plain BCE: ~3 µs a step) ...
MAX_STEPS_PER_CALL = 1_000_000
#: ... and this many with loss settings (each step's ∂L/∂z through grad_from_logits, ~90 µs).
MAX_STEPS_PER_CALL_SETTINGS = 50_000
#: SGD stops (with a status message) if |w| or |b| would pass this.
MAX_ABS_WEIGHT = 1e12
#: Rows of the SGD steps table.
TABLE_ROWS = 12
#: (w, b) points kept of the SGD path (older ones thinned, the newest kept).
PATH_MAX = 1000
#: Samples of the strip's curves (a sigmoid is smooth: 241 points are smooth on any screen).
STRIP_POINTS = 241
#: Learning rate and L2 ranges.
LR_RANGE = (1e-6, 10.0)
L2_RANGE = (0.0, 100.0)
#: Steps per frame while playing.
SPEED_RANGE = (1, 1000)
ORDERS = ("in_order", "shuffled")
#: Epochs per block of shuffled orders (each block drawn from one seeded generator).
_PERM_BLOCK = 256


# --------------------------------------------------------------------------- formatting


def _fmt(value: float | None, digits: int = 3) -> str:
    """``digits`` significant digits, typographic minus, '—' for None or a non-finite value."""
    if value is None:
        return "—"
    v = float(value)
    if not math.isfinite(v):
        return "—"
    if v == 0.0:
        return "0"
    a = abs(v)
    if a >= 1e6 or a < 1e-3:
        text = f"{v:.{max(digits - 1, 0)}e}"
        mantissa, exponent = text.split("e")
        text = f"{mantissa}×10^{int(exponent)}"
    else:
        decimals = max(0, digits - 1 - math.floor(math.log10(a)))
        text = f"{v:.{decimals}f}"
    return text.replace("-", "−")


def _with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return f"{text}{unit}" if unit == "°" else f"{text} {unit}"


# --------------------------------------------------------------------------- data sets


@dataclass(frozen=True)
class DatasetInfo:
    """What a data set is: its feature (name, unit), class names, range and origin.

    ``unit`` is appended to numbers (``"°"`` directly, others after a space);
    ``per_unit`` names w's unit ("per degree"). ``axis`` is the strip's range.
    ``lr`` and ``steps_per_frame`` are the defaults that suit the feature's scale.
    """

    key: str
    title: str
    feature: str
    unit: str
    per_unit: str
    class_names: tuple[str, str]
    axis: tuple[float, float]
    description: str
    lr: float
    steps_per_frame: int
    decimals: int = 1
    synthetic: _tip.SyntheticSet | None = None
    examples: tuple[tuple[float, float], ...] = ()

    def values(self) -> tuple[np.ndarray, np.ndarray]:
        if self.synthetic is not None:
            return _tip.make_synthetic(self.synthetic)
        x = np.array([e[0] for e in self.examples], dtype=np.float64)
        y = np.array([e[1] for e in self.examples], dtype=np.float64)
        return x, y


def _synthetic_description(p: _tip.SyntheticSet, feature: str, unit: str, classes: tuple,
                           per: str) -> str:
    u = unit if unit == "°" else f" {unit}"

    def given(v: float) -> str:  # a generating parameter exactly as it is set
        return f"{v:g}".replace("-", "−")

    return (f"Illustrative synthetic data, not measurements: {p.n} examples, {feature} uniform "
            f"over {given(p.x_low)}{u} to {given(p.x_high)}{u}, rounded to 0.1{u}; class "
            f"'{classes[1]}' with probability σ({given(p.w_true)} {per} · ({feature} − "
            + (f"({given(p.tipping_true)}{u})" if p.tipping_true < 0 else
               f"{given(p.tipping_true)}{u}")
            + f")), i.e. a true tipping point at "
            f"{given(p.tipping_true)}{u} and width {_fmt(p.width_true)}{u}; "
            f"numpy seed {p.seed}.")


DATASETS: dict[str, DatasetInfo] = {}


def _register(info: DatasetInfo) -> None:
    DATASETS[info.key] = info


_register(DatasetInfo(
    key="two_terminators", title="Two terminators (hand-made)",
    feature="ΔG of the hairpin", unit="kcal/mol", per_unit="per kcal/mol",
    class_names=("fails", "works"), axis=(-20.0, 2.0),
    description=("Two made-up terminators, for illustration: one works with a hairpin of "
                 "ΔG = −14 kcal/mol, one fails at −4 kcal/mol."),
    lr=0.03, steps_per_frame=1, examples=((-14.0, 1.0), (-4.0, 0.0)),
))
_register(DatasetInfo(
    key="grain_boundaries", title="Grain boundaries (synthetic)",
    feature="misorientation θ", unit="°", per_unit="per degree",
    class_names=("general", "special"), axis=(0.0, 62.8),
    description=_synthetic_description(_tip.GRAIN_BOUNDARIES, "θ", "°", ("general", "special"),
                                       "/°"),
    lr=0.004, steps_per_frame=100, synthetic=_tip.GRAIN_BOUNDARIES,
))
_register(DatasetInfo(
    key="terminators", title="DNA terminators (synthetic)",
    feature="ΔG of the hairpin", unit="kcal/mol", per_unit="per kcal/mol",
    class_names=("fails", "works"), axis=(-26.0, -2.0),
    description=_synthetic_description(_tip.TERMINATORS, "ΔG", "kcal/mol", ("fails", "works"),
                                       "/(kcal/mol)"),
    lr=0.005, steps_per_frame=100, synthetic=_tip.TERMINATORS,
))
#: Data sets a stage may name (a CSV is loaded by the user).
DATASET_KEYS: tuple[str, ...] = tuple(DATASETS)
DEFAULT_DATASET = "two_terminators"


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class StepRow:
    """One SGD step: example ``index`` (0-based) at ``x`` with class ``y``; ŷ = ``p`` before the
    step, ``p − y``, ∂L/∂z (``grad_z``; equal to p − y for plain BCE) and the changes of w, b."""

    step: int
    index: int
    x: float
    y: float
    p: float
    p_minus_y: float
    grad_z: float
    dw: float
    db: float
    w: float
    b: float


@dataclass(frozen=True)
class StripFigure:
    """What the 1-D strip draws (feature units; probabilities in [0, 1]).

    ``xs``/``p_model``: the current model's curve over ``x_range``; ``p_fit``:
    the Newton optimum's curve (None when it does not exist). ``tipping_point``
    and ``band`` (the x of p = 0.1 and p = 0.9, sorted) are the current
    model's (None when w = 0). ``gap``: the two nearest opposite examples
    when the classes are separated.
    """

    x_range: tuple[float, float]
    xs: np.ndarray
    p_model: np.ndarray
    p_fit: np.ndarray | None
    tipping_point: float | None
    band: tuple[float, float] | None
    fit_tipping_point: float | None
    x: np.ndarray
    y: np.ndarray
    p_examples: np.ndarray
    gap: tuple[float, float] | None


@dataclass(frozen=True)
class SurfaceFigure:
    """The objective over (w, b): ``values`` (len(b_values), len(w_values)), nats.

    ``image`` is ``values`` on a log scale mapped to [0, 1] (for a colour
    map) and ``levels`` are contour levels in the same [0, 1] units.
    ``path`` (k, 2) is the SGD path of (w, b) since the last reset or fit;
    ``optimum`` the fitted (w, b) when it exists, ``escape`` the direction
    (dw, db) the loss keeps falling along when it does not (or None).
    """

    w_values: np.ndarray
    b_values: np.ndarray
    values: np.ndarray
    image: np.ndarray
    levels: tuple[float, ...]
    path: np.ndarray
    current: tuple[float, float]
    optimum: tuple[float, float] | None
    escape: tuple[float, float] | None
    value_range: tuple[float, float]


@dataclass(frozen=True)
class Readout:
    """The lab's numbers in sentences (plain text, for the readout panel and ``--report``)."""

    model: str
    fit: str
    uncertainty: str
    separation: str
    settings_effect: str
    data_note: str
    separated: bool
    optimum_exists: bool


# --------------------------------------------------------------------------- the state


@dataclass
class _Config:
    """Everything apply_settings / restore set at once (validated before any is applied)."""

    dataset: DatasetInfo
    x: np.ndarray
    y: np.ndarray
    l2: float = 0.0
    spec: LossSpec = field(default_factory=LossSpec)
    lr: float = 0.03
    order: str = "in_order"
    seed: int = 0
    steps_per_frame: int = 1
    show_fit: bool = True
    w: float = 0.0
    b: float = 0.0
    start_fit: bool = False


SETTING_KEYS = frozenset({
    "dataset", "examples", "l2", "lr", "order", "seed", "label_smoothing", "pos_weight",
    "focal_gamma", "focal_alpha", "start", "w", "b", "steps_per_frame", "show_fit",
})


class TippingState(LabState):
    """One feature, two classes, one tipping point (Qt-free; see the module docstring)."""

    lab_id = "tipping"
    EVENTS = ("data", "model", "settings")

    def __init__(self) -> None:
        super().__init__()
        info = DATASETS[DEFAULT_DATASET]
        x, y = info.values()
        self._assign(_Config(dataset=info, x=x, y=y, lr=info.lr,
                             steps_per_frame=info.steps_per_frame))

    # ------------------------------------------------------------------ reading
    @property
    def dataset(self) -> DatasetInfo:
        return self._dataset

    @property
    def x(self) -> np.ndarray:
        """Feature values (n,), read-only view, in the data set's unit."""
        view = self._x.view()
        view.flags.writeable = False
        return view

    @property
    def y(self) -> np.ndarray:
        """Class labels (n,) 0 or 1, read-only view."""
        view = self._y.view()
        view.flags.writeable = False
        return view

    @property
    def n(self) -> int:
        return int(self._x.size)

    @property
    def w(self) -> float:
        return self._w

    @property
    def b(self) -> float:
        return self._b

    @property
    def l2(self) -> float:
        return self._l2

    @property
    def spec(self) -> LossSpec:
        return self._spec

    @property
    def lr(self) -> float:
        return self._lr

    @property
    def order(self) -> str:
        return self._order

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def show_fit(self) -> bool:
        return self._show_fit

    @property
    def steps(self) -> int:
        """SGD steps since the last reset or fit."""
        return self._steps

    @property
    def version(self) -> tuple[int, int, int]:
        """(data, model, settings) versions: figures are cached on them."""
        return (self._data_v, self._model_v, self._settings_v)

    def can_train(self) -> bool:
        return self.n >= 1

    def class_name(self, label: float) -> str:
        return self._dataset.class_names[int(label >= 0.5)]

    def format_x(self, value: float | None) -> str:
        """A position on the feature axis with the unit, e.g. '13.9°' or '−4.0 kcal/mol'.

        The data set's decimals (one more below 1 in size); 4 significant digits for a
        file's feature or a value beyond ±10⁵.
        """
        decimals = self._dataset.decimals
        if (value is None or not math.isfinite(value) or self._dataset.key == "csv"
                or abs(value) >= 1e5):
            return _with_unit(_fmt(value, 4), self._dataset.unit)
        d = decimals + (1 if 0 < abs(value) < 1 else 0)
        text = f"{value:.{d}f}".replace("-", "−")
        if text.lstrip("−").strip("0.") == "":
            text = text.lstrip("−")  # never "−0.0"
        return _with_unit(text, self._dataset.unit)

    def format_length(self, value: float | None, digits: int = 3) -> str:
        """A distance along the feature axis (a width, an error) with the unit, 3 digits."""
        return _with_unit(_fmt(value, digits), self._dataset.unit)

    def _emit(self, name: str, **info: Any) -> None:
        getattr(self.events, name).emit(**info)

    # ------------------------------------------------------------------ assigning
    def _assign(self, cfg: _Config) -> None:
        """Set every field from a validated config (the only place a whole state is assigned)."""
        self._dataset = cfg.dataset
        self._x = np.array(cfg.x, dtype=np.float64)
        self._y = np.array(cfg.y, dtype=np.float64)
        self._l2 = float(cfg.l2)
        self._spec = cfg.spec
        self._lr = float(cfg.lr)
        self._order = cfg.order
        self._seed = int(cfg.seed)
        self.steps_per_frame = int(cfg.steps_per_frame)
        self._show_fit = bool(cfg.show_fit)
        self._data_v = getattr(self, "_data_v", 0) + 1
        self._settings_v = getattr(self, "_settings_v", 0) + 1
        self._model_v = getattr(self, "_model_v", 0) + 1
        self._cache: dict[str, tuple[Any, Any]] = {}
        self._fit_hint: tuple[float, float] | None = None
        self._surf: _tip.TippingSurface | None = None
        self._surf_box: tuple | None = None
        self._perm_cache: tuple | None = None
        self._x_range = self._default_range()
        w, b = cfg.w, cfg.b
        if cfg.start_fit:
            fit = self.fit()
            if fit is not None:
                w, b = fit.w, fit.b
        self._reset_model(float(w), float(b))

    def _reset_model(self, w: float, b: float) -> None:
        self._w, self._b = w, b
        self._steps = 0
        self._epoch = 0
        self._pos = 0
        self._path = np.array([[w, b]], dtype=np.float64)
        self._table: deque[StepRow] = deque(maxlen=TABLE_ROWS)
        self._model_v += 1

    def _default_range(self) -> tuple[float, float]:
        lo, hi = self._dataset.axis
        if self.n:
            lo, hi = min(lo, float(self._x.min())), max(hi, float(self._x.max()))
        if hi - lo <= 0.0:
            half = max(1.0, abs(lo) * 0.1)
            lo, hi = lo - half, hi + half
        pad = 0.04 * (hi - lo)
        return (lo - pad, hi + pad)

    @property
    def x_range(self) -> tuple[float, float]:
        """The strip's range (feature units): the data set's axis and every example, padded.

        It only changes when the data set changes or an example is placed beyond it,
        so nothing moves under a drag.
        """
        return self._x_range

    def _data_changed(self, kind: str, index: int | None = None) -> None:
        self._data_v += 1
        lo, hi = self._x_range
        if self.n and (float(self._x.min()) < lo or float(self._x.max()) > hi):
            self._x_range = self._default_range()
        self._emit("data", kind=kind, index=index)

    # ------------------------------------------------------------------ examples
    def _check_index(self, index: Any) -> int:
        return integer(index, "example index", 0, max(self.n - 1, 0))

    def _check_x(self, value: Any, path: str = "x") -> float:
        return number(value, path, -MAX_ABS_X, MAX_ABS_X)

    def _check_label(self, value: Any, path: str = "class") -> float:
        if isinstance(value, bool) or value not in (0, 1, 0.0, 1.0):
            raise LabError(f"{path} must be a class label 0 or 1, got {value!r}")
        return float(value)

    def move_example(self, index: int, x: float) -> None:
        """Put example ``index`` at feature value ``x`` (its class kept)."""
        i = self._check_index(index)
        xv = self._check_x(x)
        if xv == self._x[i]:
            return
        self._x[i] = xv
        if self._surf is not None:
            self._surf.move_point(i, xv)
        self._data_changed("move", i)

    def set_label(self, index: int, label: float) -> None:
        i = self._check_index(index)
        yv = self._check_label(label)
        if yv == self._y[i]:
            return
        self._y[i] = yv
        if self._surf is not None:
            self._surf.set_label(i, yv)
        self._data_changed("flip", i)

    def flip_example(self, index: int) -> None:
        """Give example ``index`` the other class."""
        i = self._check_index(index)
        self.set_label(i, 1.0 - self._y[i])

    def add_example(self, x: float, label: float) -> int:
        """Add an example; returns its index. Refused beyond MAX_EXAMPLES."""
        xv = self._check_x(x)
        yv = self._check_label(label)
        if self.n >= MAX_EXAMPLES:
            raise LabError(f"at most {MAX_EXAMPLES:,} examples; delete one first")
        self._x = np.append(self._x, xv)
        self._y = np.append(self._y, yv)
        if self._surf is not None:
            self._surf.add_point(xv, yv)
        self._new_epoch()
        self._data_changed("add", self.n - 1)
        return self.n - 1

    def delete_example(self, index: int) -> None:
        i = self._check_index(index)
        if self.n <= MIN_EXAMPLES:
            raise LabError("the last example cannot be deleted (add another first)")
        self._x = np.delete(self._x, i)
        self._y = np.delete(self._y, i)
        if self._surf is not None:
            self._surf.remove_point(i)
        self._new_epoch()
        self._data_changed("delete", i)

    def _new_epoch(self) -> None:
        """The number of examples changed: SGD starts a fresh pass over them."""
        if self._pos:
            self._epoch += 1
            self._pos = 0

    def nearest_example(self, x: float, tolerance: float) -> int | None:
        """Index of the example closest to ``x`` within ``tolerance`` (feature units), or None."""
        if not self.n:
            return None
        d = np.abs(self._x - float(x))
        i = int(np.argmin(d))
        return i if d[i] <= tolerance else None

    # ------------------------------------------------------------------ data sets
    def choose_dataset(self, key: str) -> None:
        """Switch to a bundled data set with its defaults (η, speed); loss settings kept."""
        info = DATASETS.get(choice(key, "dataset", DATASET_KEYS))
        assert info is not None
        x, y = info.values()
        cfg = self._current_config()
        cfg = replace(cfg, dataset=info, x=x, y=y, lr=info.lr,
                      steps_per_frame=info.steps_per_frame, w=0.0, b=0.0, start_fit=False)
        self._apply_config(cfg)

    def load_csv(self, path: str | os.PathLike) -> None:
        """Read (feature, label) rows from a CSV; on any problem raise and change nothing.

        Two numeric columns: the label column is the one a header names
        ``label``/``target``/``class``/``y`` (the last column otherwise); labels
        must be 0 or 1, both classes present; at most MAX_EXAMPLES rows,
        |x| <= MAX_ABS_X. Problems raise :class:`DataFileError` naming the
        file, line and column (the data file reader's own checks included).
        """
        table = read_table_csv(path, max_rows=MAX_EXAMPLES)
        if len(table.columns) != 2:
            raise DataFileError(
                path, int(table.line_numbers[0]), None,
                f"found {len(table.columns)} columns; expected 2: a feature and a class label")
        label_col = 1
        if table.has_header:
            folded = [c.strip().casefold() for c in table.columns]
            if folded[1] not in LABEL_NAMES and folded[0] in LABEL_NAMES:
                label_col = 0
        feature_col = 1 - label_col
        labels = table.data[:, label_col]
        bad = np.flatnonzero((labels != 0.0) & (labels != 1.0))
        if bad.size:
            r = int(bad[0])
            raise DataFileError(path, int(table.line_numbers[r]), label_col + 1,
                                f"class label {labels[r]!r} is not 0 or 1")
        values = table.data[:, feature_col]
        big = np.flatnonzero(np.abs(values) > MAX_ABS_X)
        if big.size:
            r = int(big[0])
            raise DataFileError(path, int(table.line_numbers[r]), feature_col + 1,
                                f"feature value {values[r]!r} is beyond ±{MAX_ABS_X:g}")
        n1 = int(labels.sum())
        if n1 == 0 or n1 == labels.size:
            raise DataFileError(path, None, label_col + 1,
                                f"all {labels.size:,} labels are class {int(n1 > 0)}; "
                                "both classes 0 and 1 are needed")
        name = table.columns[feature_col] if table.has_header else "x"
        label_name = table.columns[label_col] if table.has_header else "class"
        name = name.strip()[:60] or "x"
        lo, hi = float(values.min()), float(values.max())
        info = DatasetInfo(
            key="csv", title=f"File: {os.path.basename(os.fspath(path))[:80]}",
            feature=name, unit="", per_unit=f"per unit of {name}",
            class_names=(f"{label_name[:30]} = 0", f"{label_name[:30]} = 1"), axis=(lo, hi),
            description=(f"{labels.size:,} rows read from {os.path.basename(os.fspath(path))} "
                         f"({n1:,} of class 1)."),
            lr=_suggested_lr(values), steps_per_frame=20 if labels.size > 10 else 1,
            decimals=3,
        )
        cfg = replace(self._current_config(), dataset=info, x=values.copy(), y=labels.copy(),
                      lr=info.lr, steps_per_frame=info.steps_per_frame, w=0.0, b=0.0,
                      start_fit=False)
        self._apply_config(cfg)

    def _current_config(self) -> _Config:
        return _Config(dataset=self._dataset, x=self._x.copy(), y=self._y.copy(), l2=self._l2,
                       spec=self._spec, lr=self._lr, order=self._order, seed=self._seed,
                       steps_per_frame=self.steps_per_frame, show_fit=self._show_fit,
                       w=self._w, b=self._b)

    def _apply_config(self, cfg: _Config) -> None:
        with self.transaction("data", "model", "settings"):
            self._assign(cfg)
            self._emit("data", kind="reset", index=None)
            self._emit("settings")
            self._emit("model", reason="reset")

    # ------------------------------------------------------------------ settings
    def set_l2(self, l2: float) -> None:
        value = number(l2, "L2 strength", *L2_RANGE)
        if value == self._l2:
            return
        self._l2 = value
        if self._surf is not None:
            self._surf.set_l2(value)
        self._settings_changed()

    def set_loss(self, **changes: Any) -> None:
        """Change the loss settings (label_smoothing, pos_weight, focal_gamma, focal_alpha)."""
        spec = _spec_from(changes, self._spec)
        if spec == self._spec:
            return
        self._spec = spec
        if self._surf is not None:
            self._surf.set_spec(spec)
        self._settings_changed()

    def set_lr(self, lr: float) -> None:
        value = number(lr, "learning rate", *LR_RANGE)
        if value != self._lr:
            self._lr = value
            self._settings_changed()

    def set_order(self, order: str) -> None:
        value = choice(order, "order", ORDERS)
        if value != self._order:
            self._order = value
            self._new_epoch()
            self._settings_changed()

    def set_steps_per_frame(self, steps: int) -> None:
        value = integer(steps, "steps per frame", *SPEED_RANGE)
        if value != self.steps_per_frame:
            self.steps_per_frame = value
            self._settings_changed()

    def set_show_fit(self, on: bool) -> None:
        value = boolean(on, "show_fit")
        if value != self._show_fit:
            self._show_fit = value
            self._settings_changed()

    def _settings_changed(self) -> None:
        self._settings_v += 1
        self._emit("settings")

    # ------------------------------------------------------------------ training
    def set_model(self, w: float, b: float) -> None:
        """Put the model at (w, b) (the path starts again there)."""
        wv = number(w, "w", -MAX_ABS_WEIGHT, MAX_ABS_WEIGHT)
        bv = number(b, "b", -MAX_ABS_WEIGHT, MAX_ABS_WEIGHT)
        self._reset_model(wv, bv)
        self._emit("model", reason="set")

    def reset(self) -> None:
        """Back to w = b = 0 (p = 0.5 everywhere), the path and the table cleared; data kept."""
        self.set_running(False)
        self._reset_model(0.0, 0.0)
        self._emit("model", reason="reset")

    def fit_now(self) -> TippingFitView | None:
        """Jump to the Newton fit (the path starts again there); None (and a status) if none."""
        fit = self.fit()
        if fit is None:
            self.set_status("Newton needs examples of both classes", "warning")
            return None
        self.set_running(False)
        self._reset_model(fit.w, fit.b)
        self._emit("model", reason="fit")
        if not fit.converged:
            self.set_status(
                "No maximum: Newton stopped where every example is predicted within e⁻⁴⁶ of "
                "its class; the loss keeps falling as |w| grows", "warning")
        return fit

    def _sequence(self, count: int) -> np.ndarray:
        """Example indices of the next ``count`` SGD steps (advances nothing)."""
        n = self.n
        if self._order == "in_order":
            return (self._pos + np.arange(count)) % n
        out = np.empty(count, dtype=np.intp)
        done, epoch, pos = 0, self._epoch, self._pos
        while done < count:
            perm = self._permutation(epoch)
            take = min(count - done, n - pos)
            out[done:done + take] = perm[pos:pos + take]
            done += take
            epoch, pos = epoch + 1, 0
        return out

    def _permutation(self, epoch: int) -> np.ndarray:
        block = epoch // _PERM_BLOCK
        key = (self._seed, block, self.n)
        if self._perm_cache is None or self._perm_cache[0] != key:
            rng = np.random.default_rng([self._seed, block])
            perms = np.argsort(rng.random((_PERM_BLOCK, self.n)), axis=1, kind="stable")
            self._perm_cache = (key, perms)
        return self._perm_cache[1][epoch % _PERM_BLOCK]

    def step(self, n: int = 1) -> int:
        """Take ``n`` single-example SGD steps; returns how many were taken.

        At most MAX_STEPS_PER_CALL per call (MAX_STEPS_PER_CALL_SETTINGS with loss
        settings); fewer if a step would overflow (training stops with a status).
        """
        count = integer(n, "steps", 0, 2**62)
        cap = MAX_STEPS_PER_CALL if self._spec == LossSpec() else MAX_STEPS_PER_CALL_SETTINGS
        count = min(count, cap)
        if count == 0 or not self.can_train():
            return 0
        done = 0
        chunk = 100_000
        while done < count:
            k = min(chunk, count - done)
            idx = self._sequence(k)
            path = np.empty((k, 2))
            try:
                w, b, ps, gs = _tip.sgd_run(self._w, self._b, self._x[idx], self._y[idx],
                                            self._lr, self._spec, l2=self._l2, path=path)
            except ValueError:
                self.set_running(False)
                self.set_status("SGD stopped: the step overflowed; lower the learning rate "
                                "and press Reset", "error")
                break
            if not (abs(w) <= MAX_ABS_WEIGHT and abs(b) <= MAX_ABS_WEIGHT):
                self.set_running(False)
                self.set_status(f"SGD stopped: |w| or |b| passed {MAX_ABS_WEIGHT:g}; lower the "
                                "learning rate and press Reset", "error")
                break
            self._record(idx, ps, gs, path)
            done += k
        if done:
            self._model_v += 1
            self._emit("model", reason="step")
        return done

    def _record(self, idx: np.ndarray, ps: np.ndarray, gs: np.ndarray, path: np.ndarray) -> None:
        k = idx.size
        prev = np.vstack([[self._w, self._b], path[:-1]])
        first = max(0, k - TABLE_ROWS)
        for j in range(first, k):
            i = int(idx[j])
            self._table.append(StepRow(
                step=self._steps + j + 1, index=i, x=float(self._x[i]), y=float(self._y[i]),
                p=float(ps[j]), p_minus_y=float(ps[j] - self._y[i]), grad_z=float(gs[j]),
                dw=float(path[j, 0] - prev[j, 0]), db=float(path[j, 1] - prev[j, 1]),
                w=float(path[j, 0]), b=float(path[j, 1])))
        self._w, self._b = float(path[-1, 0]), float(path[-1, 1])
        self._steps += k
        total = self._pos + k
        n = self.n
        self._epoch += total // n
        self._pos = total % n
        self._path = _thin_path(np.vstack([self._path, path]))

    # ------------------------------------------------------------------ figures
    def _cached(self, name: str, key: Any, build):
        hit = self._cache.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]
        value = build()
        self._cache[name] = (key, value)
        return value

    def fit(self) -> _tip.TippingFit | None:
        """The Newton fit with the current data, L2 and loss settings (None: one class only)."""
        return self._cached("fit", (self._data_v, self._settings_v), self._build_fit)

    def _build_fit(self) -> _tip.TippingFit | None:
        if self.n < 2 or self._y.min() == self._y.max():
            return None
        # Warm start from the last optimum (a drag moves it a little): same optimum to
        # rounding, a third of the iterations; never used where no optimum exists.
        fit = _tip.fit_tipping(self._x, self._y, l2=self._l2, spec=self._spec,
                               start=self._fit_hint)
        self._fit_hint = (fit.w, fit.b) if fit.converged else None
        return fit

    def plain_fit(self) -> _tip.TippingFit | None:
        """The fit with plain BCE (same L2): what the loss settings are compared with."""
        if self._spec == LossSpec():
            return self.fit()

        def build():
            if self.n < 2 or self._y.min() == self._y.max():
                return None
            return _tip.fit_tipping(self._x, self._y, l2=self._l2)

        return self._cached("plain_fit", (self._data_v, self._settings_v), build)

    def separation(self) -> _tip.Separation:
        return self._cached("separation", self._data_v,
                            lambda: _tip.check_separation(self._x, self._y))

    def current_loss(self) -> tuple[float, float]:
        """(mean loss, objective) in nats at the current (w, b)."""
        def build():
            if not self.n:
                return 0.0, 0.5 * self._l2 * self._w ** 2
            loss = float(np.mean(loss_from_logits(self._w * self._x + self._b, self._y,
                                                  self._spec)))
            return loss, loss + 0.5 * self._l2 * self._w ** 2

        return self._cached("loss", self.version, build)

    def steps_table(self) -> tuple[StepRow, ...]:
        """The last SGD steps, oldest first (at most TABLE_ROWS)."""
        return self._cached("table", self._model_v, lambda: tuple(self._table))

    def strip(self) -> StripFigure:
        return self._cached("strip", (self.version, self._x_range), self._build_strip)

    def _build_strip(self) -> StripFigure:
        lo, hi = self._x_range
        xs = np.linspace(lo, hi, STRIP_POINTS)
        w, b = self._w, self._b
        p_model = sigmoid(w * xs + b)
        fit = self.fit()
        p_fit = None
        fit_t = None
        if fit is not None and self._show_fit and fit.optimum_exists:
            p_fit = sigmoid(fit.w * xs + fit.b)
            fit_t = fit.tipping_point
        t = _tip.tipping_point_of(w, b)
        band = None
        if w != 0.0:
            half = _tip.TWO_LN9 / (2.0 * abs(w))
            if t is not None and math.isfinite(half):
                band = (t - half, t + half)
        sep = self.separation()
        gap = sep.gap if (sep.separable or sep.quasi_separable) else None
        x, y = self._x.copy(), self._y.copy()
        return StripFigure(
            x_range=(lo, hi), xs=xs, p_model=p_model, p_fit=p_fit, tipping_point=t, band=band,
            fit_tipping_point=fit_t, x=x, y=y, p_examples=sigmoid(w * x + b), gap=gap)

    # -- the (w, b) surface
    def surface(self) -> SurfaceFigure:
        return self._cached("surface", self.version, self._build_surface)

    def _resolution(self) -> int:
        return int(min(81, max(31, math.sqrt(1.5e6 / max(self.n, 1)))))

    def _needed_box(self) -> tuple[float, float, float, float]:
        ws = [0.0, self._w, float(self._path[:, 0].min()), float(self._path[:, 0].max())]
        bs = [0.0, self._b, float(self._path[:, 1].min()), float(self._path[:, 1].max())]
        fit = self.fit()
        if fit is not None and fit.optimum_exists and fit.converged:
            ws.append(fit.w)
            bs.append(fit.b)
        w_lo, w_hi, b_lo, b_hi = min(ws), max(ws), min(bs), max(bs)
        if self.n:
            sx = float(np.std(self._x)) or max(abs(float(np.mean(self._x))), 1.0)
            mx = abs(float(np.mean(self._x)))
        else:
            sx, mx = 1.0, 0.0
        min_w, min_b = 2.0 / sx, 2.0 * (1.0 + mx / sx)
        w_lo, w_hi = _widen(w_lo, w_hi, min_w)
        b_lo, b_hi = _widen(b_lo, b_hi, min_b)
        return (w_lo, w_hi, b_lo, b_hi)

    def _box(self) -> tuple[float, float, float, float]:
        """The grid's (w_lo, w_hi, b_lo, b_hi): kept while it fits what must show, else regrown."""
        need = self._needed_box()
        old = self._surf_box
        if old is not None:
            inside = (old[0] <= need[0] and need[1] <= old[1] and old[2] <= need[2]
                      and need[3] <= old[3])
            snug = ((old[1] - old[0]) <= 4.0 * (need[1] - need[0])
                    and (old[3] - old[2]) <= 4.0 * (need[3] - need[2]))
            if inside and snug:
                return old
        w_pad = 0.2 * (need[1] - need[0])
        b_pad = 0.2 * (need[3] - need[2])
        return (need[0] - w_pad, need[1] + w_pad, need[2] - b_pad, need[3] + b_pad)

    def _build_surface(self) -> SurfaceFigure:
        box = self._box()
        res = self._resolution()
        if self._surf is None or box != self._surf_box or self._surf.w_values.size != res:
            wv = np.linspace(box[0], box[1], res)
            bv = np.linspace(box[2], box[3], res)
            self._surf = _tip.TippingSurface(self._x, self._y, wv, bv, l2=self._l2,
                                             spec=self._spec)
            self._surf_box = box
        surf = self._surf
        values = surf.values
        vmin, vmax = float(values.min()), float(values.max())
        # log scale above the grid's minimum: the valley's floor and its walls both read
        floor = max(vmin, 0.0)
        scale = max(vmax - floor, 1e-12)
        offset = max(1e-3 * scale, 1e-9)
        image = np.log((values - floor) + offset)
        lo, hi = math.log(offset), math.log(scale + offset)
        image = (image - lo) / max(hi - lo, 1e-12)
        levels = tuple(float(v) for v in np.linspace(0.08, 0.92, 8))
        fit = self.fit()
        optimum = escape = None
        if fit is not None and fit.optimum_exists and fit.converged:
            optimum = (fit.w, fit.b)
        elif fit is not None and not fit.optimum_exists:
            norm = math.hypot(fit.w, fit.b)
            if norm > 0:
                escape = (fit.w / norm, fit.b / norm)
        return SurfaceFigure(
            w_values=surf.w_values, b_values=surf.b_values, values=values,
            image=np.clip(image, 0.0, 1.0), levels=levels, path=self._path.copy(),
            current=(self._w, self._b), optimum=optimum, escape=escape,
            value_range=(vmin, vmax))

    # -- sentences
    def statements(self) -> Readout:
        """The lab's numbers in sentences (the readout panel, ``--report``)."""
        return self._cached("statements", self.version, self._build_readout)

    def readout(self) -> str:
        """One short line for the window's status bar: steps, x* and the loss."""
        loss, _ = self.current_loss()
        t = _tip.tipping_point_of(self._w, self._b)
        where = f"x* = {self.format_x(t)}" if t is not None else "w = 0"
        return f"step {self._steps:,} · {where} · loss {_fmt(loss, 3)}"

    def _build_readout(self) -> Readout:
        info = self._dataset
        per = info.per_unit
        loss, objective = self.current_loss()
        t = _tip.tipping_point_of(self._w, self._b)
        if t is None:
            model = (f"Model: w = 0, b = {_fmt(self._b)}: p = {_fmt(float(sigmoid(self._b)))} "
                     "everywhere, so there is no tipping point yet. "
                     f"Mean loss {_fmt(loss, 4)} nats.")
        else:
            model = (f"Model: w = {_fmt(self._w)} {per}, b = {_fmt(self._b)} → "
                     f"x* = −b/w = {self.format_x(t)}, width (p 0.1→0.9) = "
                     f"{self.format_length(_tip.width_of(self._w))}; mean loss {_fmt(loss, 4)} nats"
                     + (f", objective {_fmt(objective, 4)}" if self._l2 else "")
                     + f" after {self._steps:,} SGD steps.")
        fit = self.fit()
        sep = self.separation()
        c0, c1 = info.class_names
        if fit is None:
            fit_line = ("Newton: no fit — the examples are all of one class; add an example of "
                        "the other class.")
        elif fit.converged:
            fit_line = (f"Newton fit ({fit.iterations} iterations): w = {_fmt(fit.w)} {per}, "
                        f"b = {_fmt(fit.b)}, x* = {self.format_x(fit.tipping_point)}, width = "
                        f"{self.format_length(fit.width)}.")
        elif not fit.optimum_exists:
            fit_line = (f"Newton: no optimum — it stopped after {fit.iterations} iterations at "
                        f"w = {_fmt(fit.w)} {per} (x* = {self.format_x(fit.tipping_point)}) and "
                        "|w| would keep growing.")
        else:
            fit_line = f"Newton did not converge in {fit.iterations} iterations."
        uncertainty = self._uncertainty_text(fit, sep)
        separation = self._separation_text(fit, sep)
        effect = self._effect_text(fit)
        return Readout(model=model, fit=fit_line, uncertainty=uncertainty, separation=separation,
                       settings_effect=effect, data_note=info.description,
                       separated=bool(sep.separable or sep.quasi_separable),
                       optimum_exists=bool(fit is not None and fit.optimum_exists))

    def _uncertainty_text(self, fit, sep) -> str:
        if fit is None:
            return "Standard errors: none without examples of both classes."
        if fit.se_w is not None:
            return (f"Standard errors (Wald, inverse Hessian of the summed log-loss): "
                    f"se(w) = {_fmt(fit.se_w)} {self._dataset.per_unit}, "
                    f"se(b) = {_fmt(fit.se_b)}; x* = {self.format_x(fit.tipping_point)} ± "
                    f"{self.format_length(fit.se_tipping_point, 2)} (delta method).")
        if sep.separable or sep.quasi_separable or not fit.optimum_exists:
            return ("Standard errors do not exist: with the classes separated there is no "
                    "maximum-likelihood estimate to be uncertain about.")
        if self._spec != LossSpec():
            return ("Standard errors are given for plain BCE only: with smoothing, pos_weight "
                    "or focal the loss is not a log-likelihood, and its inverse Hessian is not "
                    "the estimate's covariance.")
        if self._l2 > 0.0:
            return ("Standard errors are given without a penalty only: with L2 the fit is not "
                    "the maximum-likelihood estimate (set L2 to 0).")
        return ("Standard errors do not exist here: the Hessian is singular (the feature does "
                "not vary).")

    def _separation_text(self, fit, sep) -> str:
        info = self._dataset
        c0, c1 = info.class_names
        if fit is None:
            return f"Only one class: nothing to separate (add a '{c0}' or '{c1}' example)."
        if not (sep.separable or sep.quasi_separable):
            if fit.optimum_exists:
                return ("The classes overlap: no threshold splits them, so the maximum-likelihood "
                        "fit exists.")
            return ("The loss settings leave no optimum: one class pulls nothing (pos_weight or "
                    "focal α is 0 for it), so b runs off.")
        lo, hi = sep.gap
        upper, lower = (c1, c0) if sep.positive_above else (c0, c1)
        if sep.separable:
            text = (f"Perfect separation: every '{lower}' example lies at or below "
                    f"{self.format_x(lo)} and every '{upper}' one at or above "
                    f"{self.format_x(hi)}. ")
        else:
            text = (f"Quasi-separation: the classes meet only at {self.format_x(lo)} (examples of "
                    "both there) and do not overlap elsewhere. ")
        if fit.optimum_exists:
            holds = []
            if self._l2 > 0:
                holds.append(f"L2 = {_fmt(self._l2)}")
            if self._spec.label_smoothing > 0:
                holds.append(f"label smoothing {_fmt(self._spec.label_smoothing)}")
            return text + (f"{' and '.join(holds) or 'The loss settings'} hold w finite: the fit "
                           f"has w = {_fmt(fit.w)} {info.per_unit}, "
                           f"x* = {self.format_x(fit.tipping_point)}.")
        between = (f"x* stays between {self.format_x(lo)} and {self.format_x(hi)} while |w| "
                   "grows") if sep.separable else f"x* stays at {self.format_x(lo)} while |w| grows"
        return text + ("No maximum-likelihood estimate exists: the loss keeps falling as |w| "
                       f"grows, so {between}, step after step. An L2 penalty (> 0) gives a "
                       "finite answer.")

    def _effect_text(self, fit) -> str:
        spec = self._spec
        if spec == LossSpec():
            return "Loss: plain BCE (no smoothing, pos_weight 1, no focal term)."
        parts = []
        if spec.label_smoothing:
            parts.append(f"smoothing {_fmt(spec.label_smoothing)} (targets "
                         f"{_fmt(spec.label_smoothing / 2)} / {_fmt(1 - spec.label_smoothing / 2)})")
        if spec.pos_weight != 1.0:
            parts.append(f"pos_weight {_fmt(spec.pos_weight)}")
        if spec.focal_gamma:
            parts.append(f"focal γ = {_fmt(spec.focal_gamma)}")
        if spec.focal_alpha is not None:
            parts.append(f"focal α = {_fmt(spec.focal_alpha)}")
        head = "Loss: " + ", ".join(parts) + ". "
        plain = self.plain_fit()
        if fit is None or plain is None:
            return head + "No fit to compare."
        if not (fit.optimum_exists and fit.converged):
            return head + "With these settings there is no optimum to compare."
        if not (plain.optimum_exists and plain.converged):
            return head + (f"Plain BCE has no optimum here; these settings give one at "
                           f"x* = {self.format_x(fit.tipping_point)}, width "
                           f"{self.format_length(fit.width)}.")
        if fit.tipping_point is None or plain.tipping_point is None:
            return head + "One of the fits has w = 0 (no tipping point)."
        shift = fit.tipping_point - plain.tipping_point
        c0, c1 = self._dataset.class_names
        # class 1 lies on the side w points to: moving against it moves into class 0's side
        toward = c1 if (shift > 0) == (fit.w > 0) else c0
        ratio = fit.width / plain.width if fit.width and plain.width else None
        text = (f"x* = {self.format_x(fit.tipping_point)} against plain BCE's "
                f"{self.format_x(plain.tipping_point)}: ")
        if abs(shift) < 1e-9 * max(1.0, abs(plain.tipping_point)):
            text += "unmoved"
        else:
            text += f"moved {self.format_length(abs(shift))} toward the '{toward}' examples"
        if ratio is not None:
            text += f"; width ×{_fmt(ratio)}"
        return head + text + "."

    # ------------------------------------------------------------------ stages and sessions
    def apply_settings(self, settings: dict) -> None:
        """Put the lab into a stage's settings; everything not named goes back to its default.

        Keys: ``dataset`` (a DATASET_KEYS entry), ``examples`` ([[x, class], ...],
        replacing the data set's examples, its feature and classes kept), ``l2``,
        ``lr``, ``order`` (in_order / shuffled), ``seed``, ``label_smoothing``,
        ``pos_weight``, ``focal_gamma``, ``focal_alpha``, ``start`` ("zero" or
        "fit"), ``w`` and ``b`` (a starting model), ``steps_per_frame``,
        ``show_fit``. Validated completely first (LabError names the field).
        """
        check_keys(settings, "settings", SETTING_KEYS)
        key = choice(settings.get("dataset", DEFAULT_DATASET), "settings.dataset", DATASET_KEYS)
        info = DATASETS[key]
        if "examples" in settings:
            x, y = _examples_from(settings["examples"], "settings.examples")
        else:
            x, y = info.values()
        spec = _spec_from({k: settings[k] for k in ("label_smoothing", "pos_weight",
                                                    "focal_gamma", "focal_alpha")
                           if k in settings}, LossSpec(), prefix="settings.")
        start = choice(settings.get("start", "zero"), "settings.start", ("zero", "fit"))
        if start == "fit" and ("w" in settings or "b" in settings):
            raise LabError("settings: give either start = \"fit\" or w and b, not both")
        cfg = _Config(
            dataset=info, x=x, y=y,
            l2=number(settings.get("l2", 0.0), "settings.l2", *L2_RANGE),
            spec=spec,
            lr=number(settings.get("lr", info.lr), "settings.lr", *LR_RANGE),
            order=choice(settings.get("order", "in_order"), "settings.order", ORDERS),
            seed=integer(settings.get("seed", 0), "settings.seed", 0, 2**31 - 1),
            steps_per_frame=integer(settings.get("steps_per_frame", info.steps_per_frame),
                                    "settings.steps_per_frame", *SPEED_RANGE),
            show_fit=boolean(settings.get("show_fit", True), "settings.show_fit"),
            w=number(settings.get("w", 0.0), "settings.w", -MAX_ABS_WEIGHT, MAX_ABS_WEIGHT),
            b=number(settings.get("b", 0.0), "settings.b", -MAX_ABS_WEIGHT, MAX_ABS_WEIGHT),
            start_fit=start == "fit",
        )
        self.set_running(False)
        self._apply_config(cfg)

    def report(self) -> dict:
        """The lab's figures for ``--report`` (JSON-safe: finite floats or None)."""
        fit = self.fit()
        sep = self.separation()
        loss, objective = self.current_loss()
        readout = self.statements()
        spec = self._spec
        return {
            "dataset": self._dataset.key,
            "feature": self._dataset.feature,
            "unit": self._dataset.unit,
            "class_names": list(self._dataset.class_names),
            "n_examples": self.n,
            "n_class1": int(self._y.sum()),
            "w": _safe(self._w),
            "b": _safe(self._b),
            "tipping_point": _safe(_tip.tipping_point_of(self._w, self._b)),
            "width": _safe(_tip.width_of(self._w)),
            "loss": _safe(loss),
            "objective": _safe(objective),
            "steps": self._steps,
            "fit_w": _safe(fit.w) if fit else None,
            "fit_b": _safe(fit.b) if fit else None,
            "fit_tipping_point": _safe(fit.tipping_point) if fit else None,
            "fit_width": _safe(fit.width) if fit else None,
            "fit_converged": bool(fit.converged) if fit else False,
            "optimum_exists": bool(fit.optimum_exists) if fit else False,
            "se_w": _safe(fit.se_w) if fit else None,
            "se_b": _safe(fit.se_b) if fit else None,
            "se_tipping_point": _safe(fit.se_tipping_point) if fit else None,
            "separable": bool(sep.separable),
            "quasi_separable": bool(sep.quasi_separable),
            "gap": [_safe(sep.gap[0]), _safe(sep.gap[1])] if sep.gap else None,
            "l2": self._l2,
            "lr": self._lr,
            "order": self._order,
            "label_smoothing": spec.label_smoothing,
            "pos_weight": spec.pos_weight,
            "focal_gamma": spec.focal_gamma,
            "focal_alpha": spec.focal_alpha,
            "separation_message": readout.separation,
            "uncertainty_message": readout.uncertainty,
            "settings_effect": readout.settings_effect,
        }

    def to_dict(self) -> dict:
        info = self._dataset
        payload = {
            "dataset": info.key,
            "examples": [[float(a), float(c)] for a, c in zip(self._x.tolist(), self._y.tolist())],
            "l2": self._l2, "lr": self._lr, "order": self._order, "seed": self._seed,
            "steps_per_frame": self.steps_per_frame, "show_fit": self._show_fit,
            "loss": {"label_smoothing": self._spec.label_smoothing,
                     "pos_weight": self._spec.pos_weight,
                     "focal_gamma": self._spec.focal_gamma,
                     "focal_alpha": self._spec.focal_alpha},
            "model": {"w": self._w, "b": self._b, "steps": self._steps, "epoch": self._epoch,
                      "pos": self._pos, "path": self._path.tolist(),
                      "table": [[r.step, r.index, r.x, r.y, r.p, r.grad_z, r.dw, r.db, r.w, r.b]
                                for r in self._table]},
        }
        if info.key == "csv":
            payload["file"] = {"title": info.title, "feature": info.feature,
                               "class_names": list(info.class_names),
                               "description": info.description}
        return payload

    def restore(self, payload: dict) -> None:
        """Restore :meth:`to_dict`'s payload; LabError names the field and nothing changes."""
        check_keys(payload, "tipping", {"dataset", "examples", "l2", "lr", "order", "seed",
                                        "steps_per_frame", "show_fit", "loss", "model", "file"})
        key = choice(payload.get("dataset"), "tipping.dataset", DATASET_KEYS + ("csv",))
        x, y = _examples_from(payload.get("examples"), "tipping.examples")
        if key == "csv":
            meta = check_keys(payload.get("file"), "tipping.file",
                              {"title", "feature", "class_names", "description"})
            names = meta.get("class_names")
            if (not isinstance(names, list) or len(names) != 2
                    or not all(isinstance(v, str) and len(v) <= 80 for v in names)):
                raise LabError("tipping.file.class_names must be two names")
            texts = {}
            for k, limit in (("title", 120), ("feature", 60), ("description", 400)):
                v = meta.get(k)
                if not isinstance(v, str) or len(v) > limit:
                    raise LabError(f"tipping.file.{k} must be text of at most {limit} characters")
                texts[k] = v
            info = DatasetInfo(key="csv", title=texts["title"], feature=texts["feature"] or "x",
                               unit="", per_unit=f"per unit of {texts['feature'] or 'x'}",
                               class_names=(names[0], names[1]),
                               axis=(float(x.min()), float(x.max())),
                               description=texts["description"], lr=_suggested_lr(x),
                               steps_per_frame=1, decimals=3)
        else:
            info = DATASETS[key]
        loss = check_keys(payload.get("loss", {}), "tipping.loss",
                          {"label_smoothing", "pos_weight", "focal_gamma", "focal_alpha"})
        spec = _spec_from({k: v for k, v in loss.items()
                           if not (k == "focal_alpha" and v is None)}, LossSpec(),
                          prefix="tipping.loss.")
        model = check_keys(payload.get("model", {}), "tipping.model",
                           {"w", "b", "steps", "epoch", "pos", "path", "table"})
        w = number(model.get("w", 0.0), "tipping.model.w", -MAX_ABS_WEIGHT, MAX_ABS_WEIGHT)
        b = number(model.get("b", 0.0), "tipping.model.b", -MAX_ABS_WEIGHT, MAX_ABS_WEIGHT)
        steps = integer(model.get("steps", 0), "tipping.model.steps", 0, 2**62)
        epoch = integer(model.get("epoch", 0), "tipping.model.epoch", 0, 2**62)
        pos = integer(model.get("pos", 0), "tipping.model.pos", 0, max(x.size - 1, 0))
        path = _path_from(model.get("path", [[w, b]]), "tipping.model.path")
        table = _table_from(model.get("table", []), x.size, "tipping.model.table")
        cfg = _Config(
            dataset=info, x=x, y=y,
            l2=number(payload.get("l2", 0.0), "tipping.l2", *L2_RANGE), spec=spec,
            lr=number(payload.get("lr", info.lr), "tipping.lr", *LR_RANGE),
            order=choice(payload.get("order", "in_order"), "tipping.order", ORDERS),
            seed=integer(payload.get("seed", 0), "tipping.seed", 0, 2**31 - 1),
            steps_per_frame=integer(payload.get("steps_per_frame", 1), "tipping.steps_per_frame",
                                    *SPEED_RANGE),
            show_fit=boolean(payload.get("show_fit", True), "tipping.show_fit"),
            w=w, b=b)
        self.set_running(False)
        with self.transaction("data", "model", "settings"):
            self._assign(cfg)
            self._steps, self._epoch, self._pos = steps, epoch, pos
            self._path = path
            self._table.extend(table)
            self._emit("data", kind="reset", index=None)
            self._emit("settings")
            self._emit("model", reason="reset")


# The fit type under its public name, for annotations in this module.
TippingFitView = _tip.TippingFit


# --------------------------------------------------------------------------- helpers


def _safe(value: float | None) -> float | None:
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def _widen(lo: float, hi: float, minimum: float) -> tuple[float, float]:
    if hi - lo >= minimum:
        return lo, hi
    mid = 0.5 * (lo + hi)
    return mid - minimum / 2.0, mid + minimum / 2.0


def _thin_path(path: np.ndarray) -> np.ndarray:
    """At most PATH_MAX points: past it, down to 3/4 of that (so it happens rarely), the
    newest PATH_MAX/2 kept as they are and the older part evenly thinned (its first point kept)."""
    k = path.shape[0]
    if k <= PATH_MAX:
        return path
    recent = PATH_MAX // 2
    older = np.linspace(0, k - recent - 1, PATH_MAX * 3 // 4 - recent).round().astype(int)
    keep = np.unique(np.concatenate([older, np.arange(k - recent, k)]))
    return path[keep]


def _suggested_lr(x: np.ndarray) -> float:
    """A learning rate whose largest single-example change of z stays about 1: 1 / (1 + max x²)."""
    top = float(np.max(x * x)) if x.size else 1.0
    return float(min(max(1.0 / (1.0 + top), LR_RANGE[0]), 1.0))


def _spec_from(changes: dict, base: LossSpec, prefix: str = "") -> LossSpec:
    allowed = {"label_smoothing", "pos_weight", "focal_gamma", "focal_alpha"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise LabError(f"{prefix}{unknown[0]}: not a loss setting "
                       f"(allowed: {', '.join(sorted(allowed))})")
    values = base.to_dict()
    if "label_smoothing" in changes:
        values["label_smoothing"] = number(changes["label_smoothing"], f"{prefix}label_smoothing",
                                           0.0, 0.5)
    if "pos_weight" in changes:
        values["pos_weight"] = number(changes["pos_weight"], f"{prefix}pos_weight", 0.0, 100.0)
    if "focal_gamma" in changes:
        values["focal_gamma"] = number(changes["focal_gamma"], f"{prefix}focal_gamma", 0.0, 10.0)
    if "focal_alpha" in changes:
        alpha = changes["focal_alpha"]
        values["focal_alpha"] = None if alpha is None else \
            number(alpha, f"{prefix}focal_alpha", 0.0, 1.0)
    try:
        return LossSpec(**values)
    except ValueError as exc:  # pragma: no cover - the ranges above are inside LossSpec's
        raise LabError(f"{prefix}loss: {exc}") from None


def _examples_from(raw: Any, path: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(raw, list) or not MIN_EXAMPLES <= len(raw) <= MAX_EXAMPLES:
        raise LabError(f"{path} must be a list of {MIN_EXAMPLES} to {MAX_EXAMPLES:,} "
                       "[feature value, class] pairs")
    xs, ys = [], []
    for k, item in enumerate(raw):
        if not isinstance(item, list) or len(item) != 2:
            raise LabError(f"{path}[{k}] must be a pair [feature value, class]")
        xs.append(number(item[0], f"{path}[{k}][0]", -MAX_ABS_X, MAX_ABS_X))
        label = item[1]
        if isinstance(label, bool) or label not in (0, 1, 0.0, 1.0):
            raise LabError(f"{path}[{k}][1] must be a class label 0 or 1, got {label!r}")
        ys.append(float(label))
    return np.array(xs, dtype=np.float64), np.array(ys, dtype=np.float64)


def _path_from(raw: Any, path: str) -> np.ndarray:
    if not isinstance(raw, list) or not 1 <= len(raw) <= PATH_MAX:
        raise LabError(f"{path} must be a list of 1 to {PATH_MAX:,} [w, b] pairs")
    out = np.empty((len(raw), 2))
    for k, item in enumerate(raw):
        if not isinstance(item, list) or len(item) != 2:
            raise LabError(f"{path}[{k}] must be a pair [w, b]")
        out[k, 0] = number(item[0], f"{path}[{k}][0]", -MAX_ABS_WEIGHT, MAX_ABS_WEIGHT)
        out[k, 1] = number(item[1], f"{path}[{k}][1]", -MAX_ABS_WEIGHT, MAX_ABS_WEIGHT)
    return out


def _table_from(raw: Any, n: int, path: str) -> list[StepRow]:
    if not isinstance(raw, list) or len(raw) > TABLE_ROWS:
        raise LabError(f"{path} must be a list of at most {TABLE_ROWS} rows")
    rows = []
    for k, item in enumerate(raw):
        if not isinstance(item, list) or len(item) != 10:
            raise LabError(f"{path}[{k}] must hold 10 numbers")
        step = integer(item[0], f"{path}[{k}][0]", 1, 2**62)
        index = integer(item[1], f"{path}[{k}][1]", 0, 2**31)
        vals = [number(v, f"{path}[{k}][{j}]") for j, v in enumerate(item[2:], start=2)]
        x, y, p, grad, dw, db, w, b = vals
        if y not in (0.0, 1.0) or not 0.0 <= p <= 1.0:
            raise LabError(f"{path}[{k}]: a class 0/1 and a probability in [0, 1] are needed")
        rows.append(StepRow(step=step, index=index, x=x, y=y, p=p, p_minus_y=p - y, grad_z=grad,
                            dw=dw, db=db, w=w, b=b))
    return rows


LAB = LabInfo(
    lab_id="tipping",
    title="Tipping point (one feature)",
    state_factory=TippingState,
    gui_module="bceviz.gui.labs.tipping",
    description="One number per example, two classes, one tipping point: SGD by hand, Newton, "
                "separation and standard errors",
)

__all__ = [
    "DATASETS", "DATASET_KEYS", "LAB", "MAX_EXAMPLES", "DatasetInfo", "Readout", "StepRow",
    "StripFigure", "SurfaceFigure", "TippingState",
]
