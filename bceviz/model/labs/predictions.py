"""The predictions lab's state: a real model's outputs, where their loss comes from, and what-ifs.

The lab (see ``docs/architecture.md``, "Labs") takes a file of a model's
scores (logits or probabilities) and labels — the practitioner's own, read by
:func:`bceviz.model.prediction_files.read_model_outputs`, or the bundled demo
(cross-validated predictions bceviz makes on the breast-cancer data, and an
over-confident copy) — and shows, all in nats of plain BCE on the file's
logits:

* **the anatomy of the loss**: the per-example loss distribution, the share
  of the total carried by the worst 1 %, 5 %, 10 % of the examples and the
  cumulative share curve (:func:`bceviz.engine.predictions.worst_shares`),
  the worst examples (exportable as CSV);
* **calibration**: the reliability diagram, ECE and Brier, and temperature
  scaling (:func:`bceviz.engine.predictions.temperature_scale`) fitted on the
  validation split (or a seeded held-out share) and reported on the other
  rows (the test split when there is one);
* **ranking and a threshold** (``bceviz.engine.metrics``): ROC/AUC, PR/AP,
  the confusion at a threshold, the best threshold by F1 or by a cost ratio
  chosen on the fit rows and reported on the others;
* **what-if loss settings**: each example's pull |∂L/∂z| under label
  smoothing, pos_weight or focal γ/α against plain BCE, and how the total
  pull moves between easy and hard, positive and negative examples;
* **proper scoring**: the expected log loss, Brier and 0–1 loss of
  reporting p when the truth is q, and the frameworks' caps.

Probabilities of exactly 0 or 1 are shown at a framework's cap (setting
``cap``: scikit-learn, Keras or PyTorch; :func:`bceviz.engine.predictions.probabilities_to_logits`).
Metrics need classes: labels are read as classes at 0.5 for them
(``bceviz.engine.metrics.hard_labels``), and soft labels are said so.

Everything a panel shows is computed by :func:`compute_figures` — a pure
function of the data and the settings, cached per figure group on the
inputs that group depends on — so the GUI can run it in a worker thread
(the newest request wins, :meth:`PredictionsState.offer_figures`) while the
CLI and the tests call :meth:`PredictionsState.figures` directly. Data is
kept sorted by score, which makes the metrics' sorts cheap (a sorted
array sorts in linear time) at 10⁶ examples.

Events: ``data`` (a new file or demo), ``settings`` (any setting),
``figures`` (new figures to draw). Limits: 1 to 10⁶ examples
(:data:`bceviz.model.prediction_files.MAX_ROWS`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from bceviz.engine import metrics
from bceviz.engine.losses import (
    LossSpec,
    framework_ceiling,
    grad_from_logits,
    logit,
    loss_from_logits,
    sigmoid,
)
from bceviz.engine.predictions import (
    CAP_FRAMEWORKS,
    PullSplit,
    ShareCurve,
    cap_logit,
    expected_scores,
    probabilities_to_logits,
    pull,
    pull_split,
    share_curve,
    temperature_scale,
    worst_shares,
)
from bceviz.model.atomic import WriteError, write_atomic
from bceviz.model.datafiles import DataFileError
from bceviz.model.labs import LabInfo
from bceviz.model.labs.base import (
    LabError,
    LabState,
    check_keys,
    choice,
    integer,
    number,
)
from bceviz.model.prediction_files import (
    DEMO_FILES,
    DEMO_FOLDS,
    DEMO_L2,
    KINDS,
    MAX_ROWS,
    SPLITS,
    ModelOutputs,
    ReadOptions,
    read_model_outputs,
)
from bceviz.resources import resource_path

#: Which rows the anatomy, ranking, threshold and what-if figures use.
ROWS: tuple[str, ...] = ("all",) + SPLITS
#: Where temperature scaling and the best threshold are fitted.
FIT_ON: tuple[str, ...] = ("validation", "heldout")
#: How the best threshold is chosen.
RULES: tuple[str, ...] = ("f1", "cost")
#: What the ranking panel shows.
RANKING_VIEWS: tuple[str, ...] = ("roc", "pr")
#: Data sets a stage may name ("keep": the data on screen, the default).
DATASET_KEYS: tuple[str, ...] = tuple(DEMO_FILES)
DEFAULT_DATASET = "breast_cancer_cv"
#: Rows of the worst-examples table (the export may write more).
WORST_ROWS = 200
#: At most this many rows in an export of the worst examples.
EXPORT_MAX_ROWS = 100_000
#: Fractions of the worst examples whose share of the loss is stated.
WORST_FRACTIONS = (0.01, 0.05, 0.10)
#: Points kept of a ROC or PR curve for drawing (the AUC and AP use every point).
CURVE_POINTS = 1500
#: Bins per decade of the loss histogram and its lowest edge (smaller losses go in the first bin).
HIST_PER_DECADE = 5
HIST_FLOOR = 1e-6
#: Bins of p_t in the what-if panel's histogram of examples.
PT_BINS = 40
#: Results kept per figure group (a view switched back to, a setting undone: no recompute).
CACHE_DEPTH = 2
#: Below this many rows the window computes figures on its own thread (a few ms).
CHEAP_ROWS = 20_000

CAP_TEXT = {
    "sklearn": "scikit-learn's log_loss (float64): p clipped to [2.2e-16, 1 − 2.2e-16], at most "
               "36.04 nats an example",
    "keras": "Keras' binary_crossentropy: p clipped to [1e-7, 1 − 1e-7], at most 16.12 nats an "
             "example",
    "pytorch": "PyTorch's BCELoss: each log clamped at −100, at most 100 nats an example",
}
CAP_NAMES = {"sklearn": "scikit-learn", "keras": "Keras", "pytorch": "PyTorch"}

_SETTING_RANGES = {
    "heldout_share": (0.05, 0.95),
    "threshold": (0.001, 0.999),
    "cost_ratio": (0.01, 100.0),
    "label_smoothing": (0.0, 0.5),
    "pos_weight": (0.01, 100.0),
    "focal_gamma": (0.0, 10.0),
    "easy_cut": (0.5, 0.99),
    "q": (0.01, 0.99),
}
BINS_RANGE = (5, 50)


# --------------------------------------------------------------------------- formatting


def fmt(value: Optional[float], digits: int = 3) -> str:
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
        mantissa, exponent = f"{v:.{max(digits - 1, 0)}e}".split("e")
        text = f"{mantissa}×10{superscript(int(exponent))}"
    else:
        decimals = max(0, digits - 1 - math.floor(math.log10(a)))
        text = f"{v:.{decimals}f}"
    return text.replace("-", "−")


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def superscript(exponent: int) -> str:
    """An integer exponent in superscript digits, e.g. −4 as ⁻⁴."""
    return str(exponent).translate(_SUPERSCRIPT)


def pct(value: Optional[float], digits: int = 1) -> str:
    """A share in [0, 1] as a percentage, '—' for None."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{100.0 * value:.{digits}f} %"


def _safe(value: Optional[float]) -> Optional[float]:
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, eq=False)
class PredictionData:
    """The examples of one file (or demo), sorted by score (ascending), read-only arrays.

    ``scores`` are as read (logits, or probabilities when ``kind == "prob"``),
    ``labels`` in [0, 1], ``split`` int8 codes into SPLITS (or None),
    ``order`` each sorted position's 0-based row in the file, ``ids`` in the
    file's order (or None). ``soft``: some label is not 0 or 1. ``version``
    changes with every new data (figures are cached on it).
    """

    version: int
    dataset: str
    title: str
    description: str
    source: str
    kind: str
    kind_reason: str
    scores: np.ndarray
    labels: np.ndarray
    hard: np.ndarray
    split: Optional[np.ndarray]
    order: np.ndarray
    ids: Optional[np.ndarray]
    columns: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    soft: bool = False
    n_extreme: int = 0
    split_counts: tuple[int, int, int] = (0, 0, 0)

    @property
    def n(self) -> int:
        return int(self.labels.size)

    @property
    def n_positive(self) -> int:
        return int(np.count_nonzero(self.hard))

    def has_split(self, name: str) -> bool:
        if name == "all":
            return True
        return self.split is not None and self.split_counts[SPLITS.index(name)] > 0

    def file_row(self, position: int) -> int:
        """The 1-based row (example number) in the file of a sorted position."""
        return int(self.order[position]) + 1

    def id_of(self, position: int) -> str:
        """The example's id (plain text) or its 1-based row number when the file has none."""
        if self.ids is None:
            return str(self.file_row(position))
        value = self.ids[int(self.order[position])]
        return value.decode("ascii") if isinstance(value, bytes) else str(value)


def prepare_outputs(outputs: ModelOutputs, *, dataset: str = "file", title: str = "",
                    description: str = "", version: int = 0) -> PredictionData:
    """Sort a file's examples by score and freeze them (pure; the GUI runs it in the loader)."""
    if outputs.n < 1:
        raise LabError("the file holds no examples")
    if outputs.n > MAX_ROWS:
        raise LabError(f"the file holds {outputs.n:,} examples; the limit is {MAX_ROWS:,}")
    order = np.argsort(outputs.scores, kind="stable")
    scores = outputs.scores[order]
    labels = outputs.labels[order]
    soft = bool(np.any((labels != 0.0) & (labels != 1.0)))
    hard = (labels >= 0.5).astype(np.float64) if soft else labels
    split = None if outputs.split is None else outputs.split[order]
    counts = (0, 0, 0)
    if split is not None:
        c = np.bincount(split, minlength=3)
        counts = (int(c[0]), int(c[1]), int(c[2]))
    n_extreme = 0
    if outputs.kind == "prob":
        n_extreme = int(np.count_nonzero((scores == 0.0) | (scores == 1.0)))
    name = Path(outputs.source).name
    text = description or (f"{outputs.n:,} examples read from {name}: "
                           + ", ".join(f"{role} = column {col!r}"
                                       for role, col in outputs.columns.items()) + ".")
    return PredictionData(
        version=version, dataset=dataset, title=title or f"File: {name[:80]}",
        description=text, source=outputs.source, kind=outputs.kind,
        kind_reason=outputs.kind_reason, scores=_frozen(scores), labels=_frozen(labels),
        hard=_frozen(hard if hard is not labels else labels), split=None if split is None
        else _frozen(split), order=_frozen(order), ids=outputs.ids, columns=dict(outputs.columns),
        notes=outputs.notes, soft=soft, n_extreme=n_extreme, split_counts=counts)


_DEMO_CACHE: dict[str, PredictionData] = {}


def demo_data(key: str, version: int = 0) -> PredictionData:
    """The bundled demo ``key`` (a DATASET_KEYS entry), read once per process."""
    if key not in DEMO_FILES:
        raise LabError(f"dataset must be one of {', '.join(DATASET_KEYS)}, got {key!r}")
    cached = _DEMO_CACHE.get(key)
    if cached is None:
        name, multiplier, title = DEMO_FILES[key]
        outputs = read_model_outputs(resource_path("data", name))
        how = (f"Demo, made by bceviz: {DEMO_FOLDS}-fold cross-validated logits of its own "
               f"L2 logistic regression (Newton, l2 = {DEMO_L2:g} on the mean loss) on all 30 "
               "standardised features of the breast-cancer data (569 tumours, 212 malignant "
               "= 1); folds 1–2 are the validation split, 3–5 the test split")
        if multiplier != 1.0:
            how += f"; every logit multiplied by {multiplier:g} to make it over-confident"
        cached = prepare_outputs(outputs, dataset=key, title=title, description=how + ".")
        _DEMO_CACHE[key] = cached
    return replace(cached, version=version)


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """Every setting of the lab (validated; all figures are functions of the data and these).

    cap: the framework whose clipping a probability of 0 or 1 meets
    (CAP_FRAMEWORKS); rows: which rows most figures use (ROWS); fit_on:
    "validation" (the file's validation split; the held-out share when it
    has none) or "heldout" (a seeded share ``heldout_share`` of the rows,
    ``seed``); bins: reliability bins; threshold: a probability; rule and
    cost_ratio (a false negative's cost over a false positive's): the best
    threshold; spec: the what-if loss setting; easy_cut: p_t at or above it
    is easy; q: the proper-scoring truth; ranking: "roc" or "pr".
    """

    cap: str = "sklearn"
    rows: str = "all"
    fit_on: str = "validation"
    heldout_share: float = 0.5
    seed: int = 0
    bins: int = 10
    threshold: float = 0.5
    rule: str = "f1"
    cost_ratio: float = 1.0
    spec: LossSpec = field(default_factory=LossSpec)
    easy_cut: float = 0.5
    q: float = 0.7
    ranking: str = "roc"

    def to_dict(self) -> dict:
        return {"cap": self.cap, "rows": self.rows, "fit_on": self.fit_on,
                "heldout_share": self.heldout_share, "seed": self.seed, "bins": self.bins,
                "threshold": self.threshold, "rule": self.rule, "cost_ratio": self.cost_ratio,
                "label_smoothing": self.spec.label_smoothing, "pos_weight": self.spec.pos_weight,
                "focal_gamma": self.spec.focal_gamma, "focal_alpha": self.spec.focal_alpha,
                "easy_cut": self.easy_cut, "q": self.q, "ranking": self.ranking}


SETTING_KEYS = frozenset(Settings().to_dict()) | {"dataset"}


def settings_from(raw: dict, base: Settings, path: str) -> Settings:
    """``base`` with ``raw``'s keys (validated; LabError names ``path.key``)."""
    check_keys(raw, path, set(Settings().to_dict()))
    values = base.to_dict()
    for key, value in raw.items():
        where = f"{path}.{key}"
        if key == "cap":
            values[key] = choice(value, where, CAP_FRAMEWORKS)
        elif key == "rows":
            values[key] = choice(value, where, ROWS)
        elif key == "fit_on":
            values[key] = choice(value, where, FIT_ON)
        elif key == "rule":
            values[key] = choice(value, where, RULES)
        elif key == "ranking":
            values[key] = choice(value, where, RANKING_VIEWS)
        elif key == "seed":
            values[key] = integer(value, where, 0, 2**31 - 1)
        elif key == "bins":
            values[key] = integer(value, where, *BINS_RANGE)
        elif key == "focal_alpha":
            values[key] = None if value is None else number(value, where, 0.0, 1.0)
        else:
            values[key] = number(value, where, *_SETTING_RANGES[key])
    spec = LossSpec(label_smoothing=values.pop("label_smoothing"),
                    pos_weight=values.pop("pos_weight"), focal_gamma=values.pop("focal_gamma"),
                    focal_alpha=values.pop("focal_alpha"))
    return Settings(spec=spec, **values)


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class WorstRow:
    """One of the worst examples: rank 1 is the largest loss."""

    rank: int
    row: int  # 1-based example number in the file
    id: str
    split: str
    score: float  # as in the file (logit or probability)
    p: float  # σ(logit), after the cap for probabilities
    label: float
    loss: float  # nats
    share: float  # of the rows' total loss


@dataclass(frozen=True)
class AnatomyFigure:
    """Where the loss comes from, on the chosen rows.

    ``hist_edges`` (k + 1,) log-spaced loss edges in nats (the first bin also
    holds every loss below ``hist_edges[1]``); ``hist_negative`` /
    ``hist_positive`` (k,) example counts by class. ``worst`` holds
    (fraction, count, share) for each of WORST_FRACTIONS; ``curve`` is the
    cumulative share curve; ``table`` the WORST_ROWS largest losses.
    """

    rows: str
    n: int
    n_positive: int
    mean_loss: float
    median_loss: float
    max_loss: float
    mean_loss_positive: Optional[float]
    mean_loss_negative: Optional[float]
    hist_edges: np.ndarray
    hist_negative: np.ndarray
    hist_positive: np.ndarray
    worst: tuple[tuple[float, int, float], ...]
    curve: ShareCurve
    table: tuple[WorstRow, ...]
    n_capped: int
    cap: str


@dataclass(frozen=True)
class ReliabilityCurve:
    """A reliability diagram's non-empty bins: mean predicted p against fraction positive."""

    mean_predicted: np.ndarray
    fraction_positive: np.ndarray
    counts: np.ndarray
    ece: float
    brier: float


@dataclass(frozen=True)
class CalibrationFigure:
    """Temperature scaling fitted on ``fit_rows`` and reported on ``report_rows``.

    ``temperature`` is None when no finite T exists (``problem`` says why);
    then the "after" figures equal the "before" ones. Losses in nats
    (mean plain BCE), ECE and Brier on classes (labels read at 0.5).
    """

    fit_rows: str
    report_rows: str
    n_fit: int
    n_report: int
    temperature: Optional[float]
    problem: str
    loss_before: float
    loss_after: float
    before: ReliabilityCurve
    after: ReliabilityCurve
    bins: int


@dataclass(frozen=True)
class RankingFigure:
    """ROC and PR of the chosen rows (curves thinned to CURVE_POINTS for drawing).

    ``auc`` and ``ap`` use every point (``bceviz.engine.metrics``'
    definitions); None with one class only (``problem`` says so).
    """

    rows: str
    fpr: np.ndarray
    tpr: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    auc: Optional[float]
    ap: Optional[float]
    prevalence: float
    problem: str
    ece: float
    brier: float


@dataclass(frozen=True)
class ThresholdFigure:
    """The confusion at ``threshold`` (a probability; p >= threshold predicts 1) on the rows."""

    rows: str
    threshold: float
    tn: int
    fp: int
    fn: int
    tp: int
    precision: float
    recall: float
    f1: float
    accuracy: float
    fpr: float


@dataclass(frozen=True)
class BestThresholdFigure:
    """The best threshold by ``rule``, chosen on ``fit_rows`` and reported on ``report_rows``.

    ``value_fit`` is F1 (rule "f1") or the mean cost per example (rule
    "cost", a false negative costing ``cost_ratio`` false positives) on the
    fit rows; ``f1_report``, ``cost_report``, ``precision_report``,
    ``recall_report`` on the report rows. None when a split has one class.
    """

    rule: str
    cost_ratio: float
    fit_rows: str
    report_rows: str
    threshold: Optional[float]
    value_fit: Optional[float]
    f1_report: Optional[float]
    cost_report: Optional[float]
    precision_report: Optional[float]
    recall_report: Optional[float]
    problem: str


@dataclass(frozen=True)
class PullFigure:
    """Each example's pull |∂L/∂z| under the what-if setting against plain BCE.

    ``p_true`` (k,) is a grid of p_t, the probability the model gives an
    example's own label; ``pull_*`` the pull of a positive (y = 1) or a
    negative (y = 0) example at that p_t, plain or under ``spec``.
    ``hist_edges``/``hist_positive``/``hist_negative``: where the examples
    are on p_t. ``plain`` and ``setting`` split the total pull.
    """

    rows: str
    spec: LossSpec
    p_true: np.ndarray
    pull_positive_plain: np.ndarray
    pull_positive_setting: np.ndarray
    pull_negative_plain: np.ndarray
    pull_negative_setting: np.ndarray
    hist_edges: np.ndarray
    hist_positive: np.ndarray
    hist_negative: np.ndarray
    plain: PullSplit
    setting: PullSplit


@dataclass(frozen=True)
class ScoringFigure:
    """Expected scores of reporting p for truth q (nats for the log loss) and the caps.

    ``caps`` gives, for each framework, the expected log loss it reports at
    p = 0 (q times its ceiling) and at p = 1 ((1 − q) times it).
    """

    q: float
    p: np.ndarray
    log_loss: np.ndarray
    brier: np.ndarray
    zero_one: np.ndarray
    entropy: float
    brier_floor: float
    caps: dict


@dataclass(frozen=True)
class Figures:
    """Everything the panels and the report show, for one (data version, settings)."""

    key: tuple
    anatomy: AnatomyFigure
    calibration: Optional[CalibrationFigure]
    ranking: RankingFigure
    threshold: ThresholdFigure
    best: BestThresholdFigure
    pulls: PullFigure
    scoring: ScoringFigure
    problems: tuple[str, ...]
    timings: dict


def figures_key(data: PredictionData, settings: Settings) -> tuple:
    return (data.version, settings)


def _thin(*arrays: np.ndarray, points: int = CURVE_POINTS) -> tuple[np.ndarray, ...]:
    n = arrays[0].size
    if n <= points:
        return tuple(np.array(a, dtype=np.float64) for a in arrays)
    keep = np.unique(np.linspace(0, n - 1, points).round().astype(np.int64))
    return tuple(np.array(a[keep], dtype=np.float64) for a in arrays)


@dataclass(frozen=True, eq=False)
class _Base:
    """Per (data, cap): logits, σ(logit) and plain losses of every example, sorted by score."""

    logits: np.ndarray
    p: np.ndarray
    loss: np.ndarray
    capped: np.ndarray  # bool, or empty when nothing is capped


@dataclass(frozen=True, eq=False)
class _View:
    """The arrays of the rows a figure uses (sorted by score)."""

    rows: str
    positions: Optional[np.ndarray]  # sorted positions, None for every row
    logits: np.ndarray
    labels: np.ndarray
    hard: np.ndarray
    p: np.ndarray
    loss: np.ndarray
    n_capped: int


def _base(data: PredictionData, cap: str) -> _Base:
    if data.kind == "prob":
        logits, _n_capped, _ = probabilities_to_logits(data.scores, cap)
        limit = cap_logit(cap)
        capped = np.abs(logits) >= limit
    else:
        logits = np.array(data.scores, dtype=np.float64)
        capped = np.zeros(0, dtype=bool)
    p = sigmoid(logits)
    loss = loss_from_logits(logits, data.labels)
    return _Base(_frozen(logits), _frozen(p), _frozen(loss), _frozen(capped))


def _mask(data: PredictionData, rows: str) -> Optional[np.ndarray]:
    if rows == "all" or data.split is None:
        return None
    return data.split == SPLITS.index(rows)


def _view(data: PredictionData, base: _Base, rows: str) -> _View:
    mask = _mask(data, rows)
    if mask is None:
        n_capped = int(np.count_nonzero(base.capped))
        return _View("all" if data.split is None else rows, None, base.logits, data.labels,
                     data.hard, base.p, base.loss, n_capped)
    pos = np.flatnonzero(mask)
    n_capped = int(np.count_nonzero(base.capped[pos])) if base.capped.size else 0
    return _View(rows, _frozen(pos), _frozen(base.logits[pos]), _frozen(data.labels[pos]),
                 _frozen(data.hard[pos]), _frozen(base.p[pos]), _frozen(base.loss[pos]), n_capped)


def _descending(view: _View, soft: bool) -> np.ndarray:
    """The losses from largest to smallest.

    With hard labels and the data sorted by logit, class 0's losses rise and
    class 1's fall along the rows: laid out as two ascending runs, the sort
    is a linear-time merge.
    """
    if soft:
        return np.sort(view.loss)[::-1]
    # index arrays, not boolean masks: a gather by index is ten times faster on mixed labels
    neg = np.flatnonzero(view.hard == 0.0)
    pos = np.flatnonzero(view.hard != 0.0)
    runs = np.concatenate([view.loss[neg], view.loss[pos][::-1]])
    runs.sort(kind="stable")
    return runs[::-1]


def _anatomy(data: PredictionData, view: _View, cap: str) -> AnatomyFigure:
    loss = view.loss
    n = int(loss.size)
    descending = _descending(view, data.soft)
    total = float(np.sum(descending))
    shares = worst_shares(loss, WORST_FRACTIONS, descending=descending)
    worst = tuple((f, max(1, min(n, math.ceil(f * n - 1e-9))), s)
                  for f, s in zip(WORST_FRACTIONS, shares))
    curve = share_curve(loss, points=256, descending=descending)
    top = max(float(descending[0]), 1.0)
    decades = max(1, math.ceil(math.log10(top / HIST_FLOOR) - 1e-12))
    nbins = decades * HIST_PER_DECADE
    edges = HIST_FLOOR * 10.0 ** (np.arange(nbins + 1) / HIST_PER_DECADE)
    with np.errstate(divide="ignore"):
        index = np.floor(np.log10(np.maximum(loss, HIST_FLOOR) / HIST_FLOOR) * HIST_PER_DECADE)
    index = np.clip(index, 0, nbins - 1).astype(np.int64)
    positive = view.hard == 1.0
    hist = np.bincount(index + nbins * positive, minlength=2 * nbins)
    n_pos = int(np.count_nonzero(positive))
    class_sums = np.bincount(positive.view(np.int8), weights=loss, minlength=2)
    k = min(WORST_ROWS, n)
    if k < n:
        top_idx = np.argpartition(loss, n - k)[n - k:]
    else:
        top_idx = np.arange(n)
    top_idx = top_idx[np.lexsort((top_idx, -loss[top_idx]))]
    table = []
    for rank, j in enumerate(top_idx.tolist(), start=1):
        position = j if view.positions is None else int(view.positions[j])
        split = "" if data.split is None else SPLITS[int(data.split[position])]
        table.append(WorstRow(
            rank=rank, row=data.file_row(position), id=data.id_of(position), split=split,
            score=float(data.scores[position]), p=float(view.p[j]), label=float(view.labels[j]),
            loss=float(loss[j]), share=float(loss[j]) / total if total > 0 else 0.0))
    return AnatomyFigure(
        rows=view.rows, n=n, n_positive=n_pos, mean_loss=total / n,
        median_loss=float(descending[(n - 1) // 2] + descending[n // 2]) / 2.0,
        max_loss=float(descending[0]),
        mean_loss_positive=float(class_sums[1] / n_pos) if n_pos else None,
        mean_loss_negative=float(class_sums[0] / (n - n_pos)) if n_pos < n else None,
        hist_edges=edges, hist_negative=hist[:nbins], hist_positive=hist[nbins:],
        worst=worst, curve=curve, table=tuple(table), n_capped=view.n_capped, cap=cap)


@dataclass(frozen=True, eq=False)
class _Protocol:
    """Fit rows and report rows (sorted positions, int64) and their names."""

    fit: np.ndarray
    report: np.ndarray
    fit_name: str
    report_name: str
    note: str


def _protocol(data: PredictionData, fit_on: str, share: float, seed: int) -> _Protocol:
    note = ""
    if fit_on == "validation" and data.has_split("validation"):
        assert data.split is not None
        fit = data.split == 1
        if data.has_split("test"):
            report, report_name = data.split == 2, "test"
        else:
            report, report_name = ~fit, "the other splits"
        return _Protocol(np.flatnonzero(fit), np.flatnonzero(report), "validation", report_name,
                         "")
    if fit_on == "validation":
        note = "the data has no validation split: a held-out share is used instead"
    chosen = np.random.default_rng(seed).random(data.n) < share  # in the file's order
    fit = chosen[data.order]
    if data.n >= 2 and (fit.all() or not fit.any()):  # a tiny file: one row each way at least
        fit = np.zeros(data.n, dtype=bool)
        fit[int(np.argmin(data.order))] = True
    name = f"a {100 * share:.0f} % held-out share (seed {seed})"
    return _Protocol(np.flatnonzero(fit), np.flatnonzero(~fit), name, "the other rows", note)


def _ece_of(mean_p: np.ndarray, frac: np.ndarray, counts: np.ndarray) -> float:
    """expected_calibration_error's definition on a calibration curve already computed (its
    count-weighted mean gap; tests check it equals the metric)."""
    return float(np.sum(counts * np.abs(frac - mean_p)) / np.sum(counts))


def _reliability(labels: np.ndarray, p: np.ndarray, bins: int) -> ReliabilityCurve:
    mean_p, frac, counts = metrics.calibration_curve(labels, p, bins)
    filled = counts > 0
    return ReliabilityCurve(mean_p[filled], frac[filled], counts[filled],
                            _ece_of(mean_p, frac, counts), metrics.brier_score(labels, p))


@dataclass(frozen=True, eq=False)
class _Rows:
    """The fit rows' and the report rows' arrays, gathered once for T, reliability and threshold."""

    fit_logits: np.ndarray
    fit_labels: np.ndarray
    fit_hard: np.ndarray
    fit_p: np.ndarray
    logits: np.ndarray  # the report rows'
    labels: np.ndarray
    hard: np.ndarray
    p: np.ndarray
    loss_before: float  # mean plain loss of the report rows, nats


def _rows(data: PredictionData, base: _Base, proto: _Protocol) -> Optional[_Rows]:
    fit, report = proto.fit, proto.report
    if not fit.size or not report.size:
        return None
    soft = data.soft
    fit_labels, labels = data.labels[fit], data.labels[report]
    return _Rows(
        fit_logits=base.logits[fit], fit_labels=fit_labels,
        fit_hard=data.hard[fit] if soft else fit_labels, fit_p=base.p[fit],
        logits=base.logits[report], labels=labels, hard=data.hard[report] if soft else labels,
        p=base.p[report], loss_before=float(np.mean(base.loss[report])))


@dataclass(frozen=True)
class _Temperature:
    """T fitted on the fit rows and the report rows' mean loss before and after it."""

    temperature: Optional[float]
    problem: str
    n_fit: int
    n_report: int
    loss_before: float
    loss_after: float


def _temperature(rows: Optional[_Rows]) -> Optional[_Temperature]:
    if rows is None:
        return None
    problem = ""
    try:
        temperature: Optional[float] = temperature_scale(rows.fit_logits, rows.fit_labels)
    except ValueError as exc:
        temperature, problem = None, str(exc)
    n_fit, n_report, before = rows.fit_labels.size, rows.labels.size, rows.loss_before
    if temperature is None:
        return _Temperature(None, problem, n_fit, n_report, before, before)
    after = float(np.mean(loss_from_logits(rows.logits / temperature, rows.labels)))
    return _Temperature(temperature, "", n_fit, n_report, before, after)


def _calibration(rows: Optional[_Rows], proto: _Protocol, temp: Optional[_Temperature],
                 bins: int) -> Optional[CalibrationFigure]:
    if rows is None or temp is None:
        return None
    before = _reliability(rows.hard, rows.p, bins)
    if temp.temperature is None:
        after = before
    else:
        after = _reliability(rows.hard, sigmoid(rows.logits / temp.temperature), bins)
    return CalibrationFigure(
        fit_rows=proto.fit_name, report_rows=proto.report_name, n_fit=temp.n_fit,
        n_report=temp.n_report, temperature=temp.temperature, problem=temp.problem,
        loss_before=temp.loss_before, loss_after=temp.loss_after, before=before, after=after,
        bins=bins)


def _one_class(hard: np.ndarray) -> bool:
    n_pos = int(np.count_nonzero(hard))
    return n_pos == 0 or n_pos == hard.size


def _ranking(view: _View) -> tuple:
    """(fpr, tpr, precision, recall thinned for drawing, auc, ap, problem) of the rows."""
    y, scores = view.hard, view.logits
    empty = np.zeros(0)
    if _one_class(y):
        return (empty, empty, empty, empty, None, None,
                f"ROC and PR need both classes; these rows are all class {int(y[0])}")
    fpr, tpr, _ = metrics.roc_curve(y, scores)
    # roc_auc's and average_precision's own definitions, on the curves just computed
    # (one sort each instead of two; tests check they equal the metrics' functions).
    auc = float(np.trapezoid(tpr, fpr))
    precision, recall, _ = metrics.pr_curve(y, scores)
    ap = float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))
    fpr_t, tpr_t = _thin(fpr, tpr)
    recall_t, precision_t = _thin(recall, precision)
    return fpr_t, tpr_t, precision_t, recall_t, auc, ap, ""


def _ranking_figure(view: _View, curves: tuple, bins: int) -> RankingFigure:
    fpr, tpr, precision, recall, auc, ap, problem = curves
    rel = _reliability(view.hard, view.p, bins)
    return RankingFigure(view.rows, fpr, tpr, precision, recall, auc, ap,
                         float(np.mean(view.hard)), problem, rel.ece, rel.brier)


def _threshold(view: _View, threshold: float) -> ThresholdFigure:
    r = metrics.classification_report(view.hard, view.p, threshold)
    return ThresholdFigure(view.rows, threshold, int(r["tn"]), int(r["fp"]), int(r["fn"]),
                           int(r["tp"]), r["precision"], r["recall"], r["f1"], r["accuracy"],
                           r["fpr"])


def _best(rows: Optional[_Rows], proto: _Protocol, rule: str, cost_ratio: float
          ) -> BestThresholdFigure:
    none = BestThresholdFigure(rule, cost_ratio, proto.fit_name, proto.report_name, None, None,
                               None, None, None, None, "")
    if rows is None:
        return replace(none, problem="it needs rows to choose on and rows to report on")
    y_fit, p_fit, y_rep, p_rep = rows.fit_hard, rows.fit_p, rows.hard, rows.p
    if _one_class(y_fit):
        return replace(none, problem="the fit rows need both classes to choose a threshold")
    if rule == "f1":
        t, value = metrics.best_threshold(y_fit, p_fit, "f1")
    else:
        t, value = metrics.best_threshold(y_fit, p_fit, "cost", cost_fn=cost_ratio, cost_fp=1.0)
    r = metrics.classification_report(y_rep, p_rep, t)
    cost = (cost_ratio * r["fn"] + r["fp"]) / y_rep.size
    return BestThresholdFigure(rule, cost_ratio, proto.fit_name, proto.report_name, t, value,
                               r["f1"], cost, r["precision"], r["recall"], "")


def _p_true(view: _View) -> np.ndarray:
    """p_t, the probability the model gives each example's own label (soft labels weigh both)."""
    p_true = view.p * view.labels
    p_true += (1.0 - view.p) * (1.0 - view.labels)
    return _frozen(p_true)


def _groups(view: _View, p_true: np.ndarray, easy_cut: float) -> np.ndarray:
    """pull_groups' codes (2·hard + positive) from p_t already computed."""
    codes = (p_true < easy_cut).astype(np.int8)
    codes *= 2
    codes += view.hard >= 0.5
    return _frozen(codes)


def _pull_curves(spec: LossSpec) -> tuple[np.ndarray, ...]:
    p_true = np.linspace(0.005, 0.995, 199)
    z = logit(p_true)  # a positive at p_t has logit z; a negative has −z
    ones, zeros = np.ones_like(z), np.zeros_like(z)
    plain = LossSpec()
    return (p_true,
            np.abs(grad_from_logits(z, ones, plain)), np.abs(grad_from_logits(z, ones, spec)),
            np.abs(grad_from_logits(-z, zeros, plain)), np.abs(grad_from_logits(-z, zeros, spec)))


def _scoring(q: float, cap: str) -> ScoringFigure:
    p = np.linspace(0.001, 0.999, 499)
    s = expected_scores(p, q)
    entropy = -(q * math.log(q) + (1 - q) * math.log(1 - q))
    caps = {fw: (q * framework_ceiling(fw), (1 - q) * framework_ceiling(fw))
            for fw in CAP_FRAMEWORKS}
    return ScoringFigure(q=q, p=p, log_loss=s.log_loss, brier=s.brier, zero_one=s.zero_one,
                         entropy=entropy, brier_floor=q * (1 - q), caps=caps)


def compute_figures(data: PredictionData, settings: Settings,
                    cache: Optional[dict] = None,
                    clock: Callable[[], float] = lambda: 0.0) -> tuple[Figures, dict]:
    """All figures for ``data`` and ``settings``, reusing ``cache``'s groups whose inputs match.

    Pure: reads only its arguments (the arrays are read-only) and returns
    ``(figures, new_cache)``; safe to run in a worker thread. ``cache`` is
    the dict a previous call returned (group -> its CACHE_DEPTH newest
    (key, value) pairs); each group is recomputed only when the data
    version or one of the settings it depends on changed to values not
    among those (a threshold change redraws the confusion, not the ROC;
    switching the rows back to all is free). ``clock`` (e.g. ``time.perf_counter``) times each group recomputed
    (``figures.timings``, ms) for the benchmark.
    """
    old = cache or {}
    new: dict = {}
    timings: dict = {}
    v, s = data.version, settings

    def get(name: str, key: tuple, build: Callable[[], Any]) -> Any:
        entries = old.get(name, [])
        found = next((e for e in entries if e[0] == key), None)
        if found is not None:
            value = found[1]
        else:
            t0 = clock()
            value = build()
            timings[name] = 1e3 * (clock() - t0)
        # the newest first, then up to CACHE_DEPTH - 1 earlier ones (switching back is free)
        new[name] = [(key, value)] + [e for e in entries if e[0] != key][:CACHE_DEPTH - 1]
        return value

    cap = s.cap if data.kind == "prob" else "none"
    base = get("base", (v, cap), lambda: _base(data, s.cap))
    rows = s.rows if data.has_split(s.rows) else "all"
    view = get("view", (v, cap, rows), lambda: _view(data, base, rows))
    anatomy = get("anatomy", (v, cap, rows), lambda: _anatomy(data, view, s.cap))
    proto = get("protocol", (v, s.fit_on, s.heldout_share, s.seed),
                lambda: _protocol(data, s.fit_on, s.heldout_share, s.seed))
    fit_key = (v, cap, s.fit_on, s.heldout_share, s.seed)
    split_rows = get("rows", fit_key, lambda: _rows(data, base, proto))
    temp = get("temperature", fit_key, lambda: _temperature(split_rows))
    calibration = get("calibration", fit_key + (s.bins,),
                      lambda: _calibration(split_rows, proto, temp, s.bins))
    curves = get("ranking_curves", (v, cap, rows), lambda: _ranking(view))
    ranking = get("ranking", (v, cap, rows, s.bins),
                  lambda: _ranking_figure(view, curves, s.bins))
    threshold = get("threshold", (v, cap, rows, s.threshold), lambda: _threshold(view, s.threshold))
    best = get("best", fit_key + (s.rule, s.cost_ratio),
               lambda: _best(split_rows, proto, s.rule, s.cost_ratio))
    p_true = get("p_true", (v, cap, rows), lambda: _p_true(view))
    groups = get("pull_groups", (v, cap, rows, s.easy_cut),
                 lambda: _groups(view, p_true, s.easy_cut))
    plain_pulls = get("pulls_plain", (v, cap, rows),
                      lambda: _frozen(pull(view.logits, view.labels)))
    setting_pulls = plain_pulls if s.spec == LossSpec() else get(
        "pulls_setting", (v, cap, rows, s.spec),
        lambda: _frozen(pull(view.logits, view.labels, s.spec)))
    pt_hist = get("pt_hist", (v, cap, rows), lambda: _pt_hist(view, p_true))
    pull_lines = get("pull_curves", (s.spec,), lambda: _pull_curves(s.spec))

    def build_pulls() -> PullFigure:
        plain = pull_split(view.logits, view.labels, easy_cut=s.easy_cut, groups=groups,
                           pulls=plain_pulls)
        setting = plain if s.spec == LossSpec() else pull_split(
            view.logits, view.labels, s.spec, easy_cut=s.easy_cut, groups=groups,
            pulls=setting_pulls)
        edges, hist_pos, hist_neg = pt_hist
        p_true, pos_plain, pos_setting, neg_plain, neg_setting = pull_lines
        return PullFigure(view.rows, s.spec, p_true, pos_plain, pos_setting, neg_plain,
                          neg_setting, hist_edges=edges, hist_positive=hist_pos,
                          hist_negative=hist_neg, plain=plain, setting=setting)

    pulls = get("pulls", (v, cap, rows, s.spec, s.easy_cut), build_pulls)
    scoring = get("scoring", (s.q,), lambda: _scoring(s.q, s.cap))
    problems = []
    if rows != s.rows:
        problems.append(f"the data has no {s.rows} rows: every row is used")
    if proto.note:
        problems.append(proto.note)
    figures = Figures(key=figures_key(data, settings), anatomy=anatomy, calibration=calibration,
                      ranking=ranking, threshold=threshold, best=best, pulls=pulls,
                      scoring=scoring, problems=tuple(problems), timings=timings)
    return figures, new


def _pt_hist(view: _View, p_true: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    edges = np.linspace(0.0, 1.0, PT_BINS + 1)
    index = np.minimum((p_true * PT_BINS).astype(np.int64), PT_BINS - 1)
    positive = view.hard == 1.0
    hist = np.bincount(index + PT_BINS * positive, minlength=2 * PT_BINS)
    return edges, hist[PT_BINS:], hist[:PT_BINS]


# --------------------------------------------------------------------------- the state


@dataclass(frozen=True)
class FigureJob:
    """What a worker needs to compute the current figures (all immutable)."""

    key: tuple
    data: PredictionData
    settings: Settings
    cache: dict


@dataclass(frozen=True)
class Source:
    """Where the data came from: a demo key, or a file (path and how it was read)."""

    dataset: str
    path: Optional[str] = None
    options: ReadOptions = field(default_factory=ReadOptions)

    def to_dict(self) -> dict:
        out: dict = {"dataset": self.dataset}
        if self.path is not None:
            out["path"] = self.path
            out["read"] = self.options.to_dict()
        return out


class PredictionsState(LabState):
    """A real model's outputs and the figures of the lab (Qt-free; see the module docstring)."""

    lab_id = "predictions"
    EVENTS = ("data", "settings", "figures")

    def __init__(self) -> None:
        super().__init__()
        self._data_counter = 1
        self._data = demo_data(DEFAULT_DATASET, version=1)
        self._source = Source(DEFAULT_DATASET)
        self._settings = Settings()
        self._read_kind = "auto"
        self._cache: dict = {}
        self._figures: Optional[Figures] = None

    # ------------------------------------------------------------------ reading
    @property
    def data(self) -> PredictionData:
        return self._data

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def source(self) -> Source:
        return self._source

    @property
    def n(self) -> int:
        return self._data.n

    @property
    def read_kind(self) -> str:
        """How the next file's scores are read: "auto", "logit" or "prob"."""
        return self._read_kind

    @property
    def cheap(self) -> bool:
        """True when the figures take a few milliseconds (the window computes them itself)."""
        return self._data.n <= CHEAP_ROWS

    def can_train(self) -> bool:
        return False  # the model is the user's: nothing to train here

    def step(self, n: int = 1) -> int:
        return 0

    def reset(self) -> None:
        """Back to the default settings (the data kept)."""
        self._apply(self._data, self._source, Settings(), reason="reset")

    # ------------------------------------------------------------------ figures
    def figures_key(self) -> tuple:
        return figures_key(self._data, self._settings)

    def figures(self) -> Figures:
        """The current figures, computed here if no worker has delivered them yet."""
        key = self.figures_key()
        if self._figures is None or self._figures.key != key:
            self._figures, self._cache = compute_figures(self._data, self._settings, self._cache)
        return self._figures

    def latest_figures(self) -> Optional[Figures]:
        """The newest figures computed, which may belong to earlier settings (or None)."""
        return self._figures

    def figures_current(self) -> bool:
        return self._figures is not None and self._figures.key == self.figures_key()

    def figure_job(self) -> FigureJob:
        """A snapshot for computing the current figures elsewhere (a worker thread)."""
        return FigureJob(self.figures_key(), self._data, self._settings, dict(self._cache))

    def offer_figures(self, key: tuple, figures: Figures, cache: dict) -> bool:
        """Take a worker's figures; True when they are for the current data and settings.

        Figures of the current data whose settings have moved on since the job
        started are kept too (and ``figures`` is emitted): while a slider moves,
        the panels show the newest figures there are, and the worker computes
        the current ones next. Figures of older data are refused.
        """
        if figures.key != key or key[0] != self._data.version:
            return False
        self._figures, self._cache = figures, cache
        self.events.figures.emit()
        return key == self.figures_key()

    # ------------------------------------------------------------------ changes
    def _apply(self, data: PredictionData, source: Source, settings: Settings,
               reason: str) -> None:
        data_changed = data is not self._data
        settings_changed = settings != self._settings
        with self.transaction("data", "settings", "figures"):
            self._data, self._source, self._settings = data, source, settings
            if data_changed:
                self._cache = {}
                self.events.data.emit(reason=reason)
            if data_changed or settings_changed:
                self.events.settings.emit(reason=reason)

    def _check_rows(self, data: PredictionData, settings: Settings, path: str) -> None:
        if not data.has_split(settings.rows):
            present = [r for r in ROWS if data.has_split(r)]
            raise LabError(f"{path}.rows: the data has no {settings.rows} rows "
                           f"(it has: {', '.join(present)})")

    def update(self, **changes: Any) -> None:
        """Change some settings (keys as in ``apply_settings``); LabError and nothing changes."""
        settings = settings_from(changes, self._settings, "settings")
        self._check_rows(self._data, settings, "settings")
        self._apply(self._data, self._source, settings, reason="set")

    def set_read_kind(self, kind: str) -> None:
        self._read_kind = choice(kind, "kind", KINDS)

    def choose_dataset(self, key: str) -> None:
        """Switch to a bundled demo (settings kept; rows back to all if the demo lacks them)."""
        choice(key, "dataset", DATASET_KEYS)
        self._data_counter += 1
        data = demo_data(key, version=self._data_counter)
        settings = self._settings
        if not data.has_split(settings.rows):
            settings = replace(settings, rows="all")
        self._apply(data, Source(key), settings, reason="dataset")
        self.set_status(f"Demo: {data.title}")

    def read_file(self, path: str | os.PathLike, options: Optional[ReadOptions] = None, *,
                  progress: Optional[Callable[[float], object]] = None) -> PredictionData:
        """Read and prepare a file without changing anything (pure; a worker thread may call it).

        Raises DataFileError (file, line, column) or LabError.
        """
        opts = options if options is not None else ReadOptions(kind=self._read_kind)
        outputs = read_model_outputs(path, opts, progress=progress)
        return prepare_outputs(outputs)

    def adopt(self, data: PredictionData, path: str | os.PathLike,
              options: Optional[ReadOptions] = None) -> None:
        """Use data read by :meth:`read_file` (a new version; settings kept where they fit)."""
        self._data_counter += 1
        data = replace(data, version=self._data_counter)
        opts = options if options is not None else ReadOptions(kind=self._read_kind)
        settings = self._settings
        if not data.has_split(settings.rows):
            settings = replace(settings, rows="all")
        self._apply(data, Source("file", os.fspath(path), opts), settings, reason="file")
        self.set_status(self.loaded_message())

    def load_data_file(self, path: str | os.PathLike, *, options: Optional[ReadOptions] = None,
                       progress: Optional[Callable[[float], object]] = None) -> None:
        """Read a file of model outputs and use it; on any problem raise and change nothing.

        DataFileError names the file, line and column; the CLI's ``--data``
        calls this. ``progress(fraction)`` as in the reader (False cancels).
        """
        data = self.read_file(path, options, progress=progress)
        self.adopt(data, path, options)

    def loaded_message(self) -> str:
        d = self._data
        what = "logits" if d.kind == "logit" else "probabilities"
        parts = [f"{d.n:,} examples ({d.n_positive:,} positive) from {Path(d.source).name}",
                 f"scores read as {what}" + (f" ({d.kind_reason})" if d.kind_reason else "")]
        if d.split is not None:
            parts.append("splits " + ", ".join(f"{name} {count:,}" for name, count
                                               in zip(SPLITS, d.split_counts) if count))
        if d.n_extreme:
            parts.append(f"{d.n_extreme:,} probabilities of exactly 0 or 1, shown at "
                         f"{CAP_NAMES[self._settings.cap]}'s cap")
        if d.soft:
            parts.append("soft labels (read as classes at 0.5 for the metrics)")
        parts.extend(d.notes)
        return "; ".join(parts)

    def export_worst(self, path: str | os.PathLike, count: int = WORST_ROWS) -> int:
        """Write the ``count`` worst examples of the current rows as CSV (atomically); how many.

        Columns: rank, row (1-based example number in the file), id, split,
        score (as in the file), p, label, loss (nats), share (of the rows' total).
        """
        count = integer(count, "count", 1, EXPORT_MAX_ROWS)
        figures = self.figures()
        rows = list(figures.anatomy.table)
        if count > len(rows):
            rows = self._worst_rows(count)
        rows = rows[:count]
        lines = ["rank,row,id,split,score,p,label,loss_nats,share"]
        for r in rows:
            lines.append(",".join([str(r.rank), str(r.row), _csv_text(r.id), r.split,
                                   repr(r.score), repr(r.p), repr(r.label), repr(r.loss),
                                   repr(r.share)]))
        try:
            write_atomic(path, "\n".join(lines) + "\n")
        except WriteError as exc:
            raise DataFileError(path, None, None, f"cannot write: {exc.reason}") from None
        return len(rows)

    def _worst_rows(self, count: int) -> list[WorstRow]:
        data, s = self._data, self._settings
        base = _base(data, s.cap)
        rows = s.rows if data.has_split(s.rows) else "all"
        view = _view(data, base, rows)
        n = view.loss.size
        k = min(count, n)
        idx = np.argpartition(view.loss, n - k)[n - k:] if k < n else np.arange(n)
        idx = idx[np.lexsort((idx, -view.loss[idx]))]
        total = float(np.sum(view.loss))
        out = []
        for rank, j in enumerate(idx.tolist(), start=1):
            position = j if view.positions is None else int(view.positions[j])
            out.append(WorstRow(rank, data.file_row(position), data.id_of(position),
                                "" if data.split is None else SPLITS[int(data.split[position])],
                                float(data.scores[position]), float(view.p[j]),
                                float(view.labels[j]), float(view.loss[j]),
                                float(view.loss[j]) / total if total > 0 else 0.0))
        return out

    # ------------------------------------------------------------------ sentences
    def readout(self) -> str:
        """One short line for the status bar: the file, mean loss and the worst 1 %'s share."""
        f = self.figures() if self.cheap or self.figures_current() else self._figures
        if f is None:
            return f"{self._data.n:,} examples · computing…"
        a = f.anatomy
        return (f"{a.n:,} examples · mean loss {fmt(a.mean_loss, 3)} nats · worst 1 % carry "
                f"{pct(a.worst[0][2], 0)}")

    # ------------------------------------------------------------------ stages and sessions
    def apply_settings(self, settings: dict) -> None:
        """Put the lab into a stage's settings; every setting not named goes back to its default.

        Keys: ``dataset`` (a demo of DATASET_KEYS; not named: the data on
        screen stays, so a user's own file survives a change of stage) and
        every key of :meth:`Settings.to_dict` (cap, rows, fit_on,
        heldout_share, seed, bins, threshold, rule, cost_ratio,
        label_smoothing, pos_weight, focal_gamma, focal_alpha, easy_cut, q,
        ranking). Validated completely first (LabError names the field).
        """
        check_keys(settings, "settings", SETTING_KEYS)
        rest = {k: v for k, v in settings.items() if k != "dataset"}
        new_settings = settings_from(rest, Settings(), "settings")
        if "dataset" in settings:
            key = choice(settings["dataset"], "settings.dataset", DATASET_KEYS)
            data = self._data if self._source.dataset == key and \
                self._source.path is None else demo_data(key, version=self._data_counter + 1)
            source = Source(key)
        else:
            data, source = self._data, self._source
        self._check_rows(data, new_settings, "settings")
        if data is not self._data:
            self._data_counter += 1
        self.set_running(False)
        self._apply(data, source, new_settings, reason="stage")

    def report(self) -> dict:
        """The lab's figures for ``--report`` (JSON-safe: finite floats or None)."""
        f = self.figures()
        d, s = self._data, self._settings
        a, c, r, t, b, pl = f.anatomy, f.calibration, f.ranking, f.threshold, f.best, f.pulls
        out: dict = {
            "dataset": d.dataset,
            "source": Path(d.source).name,
            "n_examples": d.n,
            "n_positive": d.n_positive,
            "kind": d.kind,
            "soft_labels": d.soft,
            "splits": {name: count for name, count in zip(SPLITS, d.split_counts)},
            "rows": a.rows,
            "cap": s.cap,
            "n_exact_0_or_1": d.n_extreme,
            "n_capped": a.n_capped,
            "mean_loss": _safe(a.mean_loss),
            "median_loss": _safe(a.median_loss),
            "max_loss": _safe(a.max_loss),
            "worst_1pct_share": _safe(a.worst[0][2]),
            "worst_5pct_share": _safe(a.worst[1][2]),
            "worst_10pct_share": _safe(a.worst[2][2]),
            "worst_1pct_count": a.worst[0][1],
            "ece": _safe(r.ece),
            "brier": _safe(r.brier),
            "bins": s.bins,
            "auc": _safe(r.auc),
            "ap": _safe(r.ap),
            "temperature": _safe(c.temperature) if c else None,
            "temperature_fit_rows": c.fit_rows if c else None,
            "temperature_report_rows": c.report_rows if c else None,
            "temperature_problem": c.problem if c else "no rows to fit or report on",
            "loss_before_temperature": _safe(c.loss_before) if c else None,
            "loss_after_temperature": _safe(c.loss_after) if c else None,
            "ece_before_temperature": _safe(c.before.ece) if c else None,
            "ece_after_temperature": _safe(c.after.ece) if c else None,
            "brier_before_temperature": _safe(c.before.brier) if c else None,
            "brier_after_temperature": _safe(c.after.brier) if c else None,
            "threshold": t.threshold,
            "confusion": {"tn": t.tn, "fp": t.fp, "fn": t.fn, "tp": t.tp},
            "f1_at_threshold": _safe(t.f1),
            "best_threshold_rule": b.rule,
            "cost_ratio": s.cost_ratio,
            "best_threshold": _safe(b.threshold),
            "best_threshold_fit_value": _safe(b.value_fit),
            "best_threshold_report_f1": _safe(b.f1_report),
            "best_threshold_report_cost": _safe(b.cost_report),
            "what_if": {k: v for k, v in s.spec.to_dict().items()},
            "pull_total_ratio": _safe(pl.setting.total / pl.plain.total) if pl.plain.total > 0
            else None,
            "pull_share_hard_plain": _safe(pl.plain.share("hard")),
            "pull_share_hard_setting": _safe(pl.setting.share("hard")),
            "pull_share_positive_plain": _safe(pl.plain.share("positive")),
            "pull_share_positive_setting": _safe(pl.setting.share("positive")),
            "easy_cut": s.easy_cut,
            "q": s.q,
            "scoring_entropy": _safe(f.scoring.entropy),
            "problems": list(f.problems),
        }
        return out

    def to_dict(self) -> dict:
        return {"source": self._source.to_dict(), "settings": self._settings.to_dict(),
                "read_kind": self._read_kind}

    def restore(self, payload: dict) -> None:
        """Restore :meth:`to_dict`'s payload; LabError names the field and nothing changes.

        A file source is read again from its path (synchronously); a file
        that is gone or changed so it cannot be read refuses the session.
        """
        check_keys(payload, "predictions", {"source", "settings", "read_kind"})
        source_raw = check_keys(payload.get("source", {"dataset": DEFAULT_DATASET}),
                                "predictions.source", {"dataset", "path", "read"})
        key = choice(source_raw.get("dataset"), "predictions.source.dataset",
                     DATASET_KEYS + ("file",))
        read_kind = choice(payload.get("read_kind", "auto"), "predictions.read_kind", KINDS)
        settings = settings_from(payload.get("settings", {}), Settings(), "predictions.settings")
        if key == "file":
            path = source_raw.get("path")
            if not isinstance(path, str) or not path or len(path) > 4096:
                raise LabError("predictions.source.path must be the path of the file")
            read = check_keys(source_raw.get("read", {}), "predictions.source.read",
                              {"kind", "score", "label", "split", "id"})
            try:
                options = ReadOptions(**read)
            except (TypeError, ValueError) as exc:
                raise LabError(f"predictions.source.read: {exc}") from None
            try:
                data = self.read_file(path, options)
            except DataFileError as exc:
                raise LabError(f"predictions.source.path: {exc}") from None
            source = Source("file", path, options)
        else:
            if "path" in source_raw or "read" in source_raw:
                raise LabError("predictions.source: a demo has no path")
            data = demo_data(key, version=self._data_counter + 1)
            source = Source(key)
        self._check_rows(data, settings, "predictions.settings")
        self._data_counter += 1
        data = replace(data, version=self._data_counter)
        self.set_running(False)
        self._read_kind = read_kind
        self._apply(data, source, settings, reason="session")


def _csv_text(text: str) -> str:
    """A text cell for CSV: quoted when it holds a separator, a quote or a line break."""
    if any(c in text for c in ',"\n\r;\t') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


LAB = LabInfo(
    lab_id="predictions",
    title="Your own model's outputs",
    state_factory=PredictionsState,
    gui_module="bceviz.gui.labs.predictions",
    description="A file of a real model's scores and labels: where the loss comes from, "
                "calibration and temperature scaling, ROC/PR and a threshold, what pos_weight, "
                "focal and smoothing would change, proper scoring",
)

__all__ = [
    "CAP_TEXT", "CHEAP_ROWS", "DATASET_KEYS", "EXPORT_MAX_ROWS", "FIT_ON", "LAB", "ROWS",
    "RULES", "WORST_ROWS", "AnatomyFigure", "BestThresholdFigure", "CalibrationFigure",
    "FigureJob", "Figures", "PredictionData", "PredictionsState", "PullFigure",
    "RankingFigure", "ReliabilityCurve", "ScoringFigure", "Settings", "Source",
    "ThresholdFigure", "WorstRow", "compute_figures", "demo_data", "figures_key", "fmt", "pct",
    "prepare_outputs", "settings_from", "superscript",
]
