"""Derived figures of the 2-D lab that more than one view shows, computed once below the GUI.

Panels, the status bar and ``--report`` read these objects instead of each
computing its own copy, so two places that show the same number cannot
disagree (see ``docs/architecture.md``, "Derived figures"). Each function is
memoised on the state's inputs, so the loss-curve and formula panels
redrawing for the same handle position share one computation. No Qt here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bceviz.engine import metrics as _metrics
from bceviz.engine.losses import (
    LossSpec,
    curvature_from_logits,
    grad_from_logits,
    loss_from_logits,
    smooth_labels,
)


@dataclass(frozen=True)
class ProbeReadout:
    """The loss-curve handle in numbers: the prediction, the label and the loss's derivatives.

    ``p`` and ``q = 1 − p`` are each accurate to full relative precision
    (so a confident p = 1 − 1e-13 still shows its q). Losses in nats.
    """

    z: float
    p: float
    q: float
    y: float
    y_smoothed: float
    loss: float
    #: The cross-entropy part alone (smoothing and pos_weight, no focal factor).
    cross_entropy: float
    dl_dz: float
    dl_dp: float
    d2l_dz2: float


def sigmoid_pair(z) -> tuple[np.ndarray, np.ndarray]:
    """(σ(z), 1 − σ(z)), each to full relative precision, for any finite z."""
    z = np.asarray(z, dtype=np.float64)
    tail = np.log1p(np.exp(-np.abs(z)))
    return np.exp(-(np.maximum(-z, 0.0) + tail)), np.exp(-(np.maximum(z, 0.0) + tail))


@lru_cache(maxsize=64)
def _readout(z: float, y: float, spec: LossSpec) -> ProbeReadout:
    p_arr, q_arr = sigmoid_pair(z)
    p, q = float(p_arr), float(q_arr)
    ce_spec = LossSpec(label_smoothing=spec.label_smoothing, pos_weight=spec.pos_weight)
    dl_dz = float(grad_from_logits(z, y, spec))
    return ProbeReadout(
        z=float(z), p=p, q=q, y=float(y),
        y_smoothed=float(smooth_labels(y, spec.label_smoothing)),
        loss=float(loss_from_logits(z, y, spec)),
        cross_entropy=float(loss_from_logits(z, y, ce_spec)),
        dl_dz=dl_dz, dl_dp=dl_dz / (p * q) if p * q > 0 else 0.0,
        d2l_dz2=float(curvature_from_logits(z, y, spec)))


def probe_readout(state) -> ProbeReadout:
    """The readout of ``state``'s loss-curve handle (``probe_z``, ``probe_y``, ``spec``)."""
    return _readout(float(state.probe_z), float(state.probe_y), state.spec)


# --------------------------------------------------------------------------- samples
#: The samples panel holds p of exactly 0 or 1 this far from the edge (the loss stays finite).
SAMPLES_P_CLIP = 1e-12


@dataclass(frozen=True, eq=False)
class SamplesSummary:
    """The samples panel's numbers: per-pair losses (nats, current loss settings) of
    classifier A (and B, the reference, if any), the product of likelihoods and mean of
    each, and the pair that carries the largest share of A's total loss."""

    losses_a: np.ndarray
    losses_b: "np.ndarray | None"
    likelihood_a: float
    likelihood_b: "float | None"
    mean_a: float
    mean_b: "float | None"
    dominant: "int | None"
    dominant_share: float
    clipped: bool


def _clip(p) -> np.ndarray:
    return np.clip(np.asarray(p, dtype=np.float64), SAMPLES_P_CLIP, 1.0 - SAMPLES_P_CLIP)


def likelihood(p, y) -> float:
    """Π p^y (1 − p)^(1 − y): the probability a classifier gives the observed labels."""
    from bceviz.engine.losses import loss_from_probs

    return float(np.exp(-np.sum(loss_from_probs(_clip(p), y, eps=0.0))))


@lru_cache(maxsize=16)
def _samples(p: bytes, y: bytes, ref: "bytes | None", spec: LossSpec) -> SamplesSummary:
    pa, ya = np.frombuffer(p), np.frombuffer(y)
    pc = _clip(pa)
    losses_a = loss_from_logits(np.log(pc) - np.log1p(-pc), ya, spec)
    losses_b = like_b = mean_b = None
    clipped = bool(np.any((pa <= 0) | (pa >= 1)))
    if ref is not None:
        rb = np.frombuffer(ref)
        rc = _clip(rb)
        losses_b = loss_from_logits(np.log(rc) - np.log1p(-rc), ya, spec)
        like_b, mean_b = likelihood(rb, ya), float(np.mean(losses_b)) if len(rb) else 0.0
        clipped = clipped or bool(np.any((rb <= 0) | (rb >= 1)))
    total = float(np.sum(losses_a))
    dominant = int(np.argmax(losses_a)) if len(pa) and total > 0 else None
    share = float(losses_a[dominant]) / total if dominant is not None else 0.0
    return SamplesSummary(losses_a=losses_a, losses_b=losses_b, likelihood_a=likelihood(pa, ya),
                          likelihood_b=like_b, mean_a=float(np.mean(losses_a)) if len(pa) else 0.0,
                          mean_b=mean_b, dominant=dominant, dominant_share=share,
                          clipped=clipped)


def samples_summary(state) -> SamplesSummary:
    """The summary of ``state``'s samples panel pairs (memoised on the pairs and the spec)."""
    ref = state.samples_ref_p
    return _samples(np.ascontiguousarray(state.samples_p, dtype=np.float64).tobytes(),
                    np.ascontiguousarray(state.samples_y, dtype=np.float64).tobytes(),
                    None if ref is None else np.ascontiguousarray(ref, np.float64).tobytes(),
                    state.spec)


# --------------------------------------------------------------------------- metrics
SPLITS = ("train", "heldout")
SPLIT_NAMES = {"train": "training", "heldout": "held-out"}
#: Uniform bins of the reliability diagram and ECE (scikit-learn's strategy="uniform").
CALIBRATION_BINS = 10


def score_split(name: str, labels: np.ndarray, probs: np.ndarray,
                threshold: float) -> dict:
    """Every number the panel shows for one split (``labels`` hard 0/1, ``probs`` in [0, 1]).

    Keys: ``name, n, n_pos, problem`` (a message when ranking metrics are
    undefined, else ""), the ``classification_report`` keys at ``threshold``
    (when n > 0), ``auc, ap, roc, pr`` (None when a class is missing),
    ``calibration, ece, brier`` (None when n == 0).
    """
    n = int(labels.size)
    n_pos = int(np.count_nonzero(labels))
    out: dict = {"name": name, "n": n, "n_pos": n_pos, "problem": "", "auc": None, "ap": None,
                 "roc": None, "pr": None, "calibration": None, "ece": None, "brier": None}
    shown = SPLIT_NAMES[name]
    if n == 0:
        out["problem"] = f"{shown} split: no points"
        return out
    out.update(_metrics.classification_report(labels, probs, threshold))
    out["calibration"] = _metrics.calibration_curve(labels, probs, CALIBRATION_BINS)
    out["ece"] = _metrics.ece_of_curve(*out["calibration"])  # (the same bins, binned once)
    out["brier"] = _metrics.brier_score(labels, probs)
    if n_pos in (0, n):
        only = 1 if n_pos else 0
        out["problem"] = f"{shown} split has only label {only} ({n:,} points)"
        return out
    out["roc"], out["pr"] = _metrics.ranking_curves(labels, probs)  # one sort for both
    fpr, tpr, _ = out["roc"]
    precision, recall, _ = out["pr"]
    # roc_auc and average_precision are these one-line sums over the same curves
    # (see engine.metrics); reusing the curves saves two sorts per split per frame.
    out["auc"] = float(np.trapezoid(tpr, fpr))
    out["ap"] = float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))
    return out


def metric_value(report: dict, metric: str, cost_fn: float = 1.0, cost_fp: float = 1.0) -> float:
    """F1, Youden's J or the mean cost per point from a ``classification_report``."""
    if metric == "f1":
        return float(report["f1"])
    if metric == "youden":
        return float(report["recall"] + report["specificity"] - 1.0)
    n = report["tn"] + report["fp"] + report["fn"] + report["tp"]
    return float((cost_fn * report["fn"] + cost_fp * report["fp"]) / n) if n else 0.0



@dataclass(frozen=True, eq=False)
class MetricsFigures:
    """The threshold-and-metrics numbers of both splits at the state's threshold.

    ``probs`` is P(y=1) of every point (clipped to [0, 1]; ``model_ok`` False
    when the model gave a non-finite one), ``soft`` whether any label is soft
    (read as a class at 0.5), ``splits`` maps "train" / "heldout" to
    :func:`score_split`'s dict.
    """

    probs: np.ndarray
    model_ok: bool
    soft: bool
    splits: dict


_metrics_cache: dict = {}


def metrics_figures(state) -> MetricsFigures:
    """The metrics of ``state`` (the 2-D lab), computed once per change of its model or data."""
    key = (id(state), state.version, float(state.threshold))
    cached = _metrics_cache.get("last")
    if cached is not None and cached[0] == key:
        return cached[1]
    probs = np.asarray(state.proba_of(state.X), dtype=np.float64) if state.n_points \
        else np.empty(0)
    model_ok = bool(np.all(np.isfinite(probs)))
    probs = np.clip(np.nan_to_num(probs, nan=0.5), 0.0, 1.0)
    soft = bool(np.any((state.y > 0) & (state.y < 1)))
    splits = {}
    for split in SPLITS:
        mask = state.heldout if split == "heldout" else ~state.heldout
        if mask.any():
            labels, p = _metrics.hard_labels(state.y[mask]), probs[mask]
        else:
            labels, p = np.empty(0), np.empty(0)
        splits[split] = score_split(split, labels, p, float(state.threshold))
    figures = MetricsFigures(probs=probs, model_ok=model_ok, soft=soft, splits=splits)
    _metrics_cache["last"] = (key, figures)
    return figures




# --------------------------------------------------------------------------- history
class HistoryScores:
    """Held-out loss (nats), training accuracy and held-out accuracy of every history record.

    The engine's history records the training loss; these three it does not,
    so each *new* record is scored once, on the data as it was at that moment
    (the same convention as the recorded training loss), and kept by step;
    when the history thins, the kept steps are looked up, so a frame costs
    O(new records), not O(history). ``reset()`` after the weights were reset
    (the step count restarts), ``data_changed()`` after the points or the
    feature map changed.
    """

    def __init__(self) -> None:
        self._cache_steps = np.empty(0, dtype=np.int64)
        self._cache_vals = np.empty((0, 3))
        self._last_step = -1
        self._reset_pending = True
        self._split_features: dict[int, np.ndarray] = {}

    def reset(self) -> None:
        self._reset_pending = True

    def data_changed(self) -> None:
        self._split_features = {}

    def _score(self, st, W: np.ndarray, B: np.ndarray) -> np.ndarray:
        """(k, 3): held-out loss (nats), train accuracy, held-out accuracy for weight rows."""
        k = len(B)
        out = np.full((k, 3), np.nan)
        t = st.threshold
        with np.errstate(divide="ignore"):
            cut = math.log(t) - math.log1p(-t) if 0 < t < 1 else (-math.inf if t <= 0 else math.inf)
        for col, mask in ((1, ~st.heldout), (2, st.heldout)):
            if not mask.any():
                continue
            F = self._features(st, col, mask)
            if F.shape[1] != W.shape[1]:
                return out
            Z = F @ W.T + B  # (m, k)
            y = st.y[mask][:, None]
            out[:, col] = np.mean((Z >= cut) == (y >= 0.5), axis=0)
            if col == 2:
                out[:, 0] = np.mean(loss_from_logits(Z, y, st.spec), axis=0)
        return out

    def _features(self, st, col: int, mask: np.ndarray) -> np.ndarray:
        """Features of the training (col 1) or held-out (col 2) points, kept until data change."""
        F = self._split_features.get(col)
        if F is None or len(F) != int(np.count_nonzero(mask)):
            F = self._split_features[col] = st.features_of(st.X[mask])
        return F

    def update(self, st, steps: np.ndarray, W: np.ndarray, B: np.ndarray) -> np.ndarray:
        """(len(steps), 3) scores of the history records (new ones scored, kept ones reused)."""
        if self._reset_pending or (len(self._cache_steps) and len(steps)
                                   and steps[-1] < self._cache_steps[-1]):
            self._cache_steps = np.empty(0, dtype=np.int64)
            self._cache_vals = np.empty((0, 3))
            self._reset_pending = False
        cs = self._cache_steps
        k = len(cs) - 1  # all cached records but the newest (it may have been replaced)
        if 0 < k < len(steps) and steps[0] == cs[0] and steps[k - 1] == cs[k - 1]:
            # the usual frame: the history grew and did not thin, so the cached records
            # are its first k (steps are unique and increasing)
            vals = np.empty((len(steps), 3))
            vals[:k] = self._cache_vals[:k]
            vals[k:] = self._score(st, W[k:], B[k:])
            self._cache_steps, self._cache_vals = steps.copy(), vals
            return vals
        idx = np.searchsorted(cs, steps)
        idx_c = np.minimum(idx, max(len(cs) - 1, 0))
        found = (idx < len(cs)) & (cs[idx_c] == steps) if len(cs) else np.zeros(len(steps), bool)
        if len(steps):
            found[-1] = False  # the newest record may have been replaced (a drag, a new spec)
        vals = np.empty((len(steps), 3))
        if found.any():
            vals[found] = self._cache_vals[idx_c[found]]
        new = ~found
        if new.any():
            vals[new] = self._score(st, W[new], B[new])
        self._cache_steps, self._cache_vals = steps.copy(), vals
        return vals


__all__ = ["CALIBRATION_BINS", "HistoryScores", "MetricsFigures", "ProbeReadout", "SAMPLES_P_CLIP", "SPLIT_NAMES",
           "SamplesSummary", "likelihood", "metric_value", "metrics_figures", "probe_readout",
           "samples_summary", "score_split", "sigmoid_pair"]
