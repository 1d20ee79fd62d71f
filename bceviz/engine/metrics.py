"""Classification metrics for the threshold panel: ROC, PR, confusion, calibration, Brier.

Pure NumPy, vectorised, float64. Each function takes hard labels ``y`` (0 or 1)
and scores or probabilities of the same length, and is meant to run live every
few frames on a few thousand points (each call is well under a millisecond at
2,000 points: one sort at most).

Conventions, chosen to match scikit-learn so its documentation applies:

* **Positive prediction**: a score *at or above* the threshold predicts 1.
* **Ties** in scores are one threshold: tied samples switch together, as in
  ``sklearn.metrics.roc_curve`` / ``precision_recall_curve``. ``roc_curve``
  drops collinear intermediate points by default (``drop_intermediate=True``,
  scikit-learn's default and its exact rule); ``pr_curve`` keeps every
  threshold by default (``drop_intermediate=False``, scikit-learn's default).
  Either can be switched; outputs then equal scikit-learn's array for array.
* **Labels must be hard** (exactly 0 or 1). Soft labels raise ``ValueError``
  rather than being rounded behind the user's back; a caller that wants the
  usual reading of a soft label as a class calls :func:`hard_labels` first
  (``y >= 0.5`` is positive) and says so on screen.
* **Both classes** are required by the ranking metrics (``roc_curve``,
  ``roc_auc``, ``pr_curve``, ``average_precision``, ``best_threshold``): with one
  class they raise ``ValueError("ROC needs both classes; y has only label 1")``
  instead of scikit-learn's warning-and-NaN. ``confusion``,
  ``classification_report``, the calibration functions and ``brier_score`` are
  defined for one class and accept it.
* **No NaN out**: undefined ratios are 0 (scikit-learn's ``zero_division=0``).
  The only non-finite number returned is ``roc_curve``'s first threshold,
  ``+inf`` ("nothing is positive"), exactly as in scikit-learn; a panel that
  prints thresholds should show it as "above every score".
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "hard_labels",
    "roc_curve",
    "roc_auc",
    "pr_curve",
    "ranking_curves",
    "average_precision",
    "confusion",
    "classification_report",
    "best_threshold",
    "calibration_curve",
    "expected_calibration_error",
    "ece_of_curve",
    "brier_score",
]


# --------------------------------------------------------------------------- validation


def _as_1d(name: str, values: ArrayLike) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    return arr


def _first_bad(name: str, arr: np.ndarray, ok: np.ndarray) -> str:
    i = int(np.flatnonzero(~ok)[0])
    return f"{name}[{i}] = {float(arr[i])!r}"


def _labels_and_values(
    y: ArrayLike, values: ArrayLike, values_name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Hard labels and finite values as float64 1-D arrays of one length, or ValueError."""
    labels = _as_1d("y", y)
    vals = _as_1d(values_name, values)
    if labels.shape != vals.shape:
        raise ValueError(
            f"y and {values_name} must have the same length; got {labels.size} and {vals.size}"
        )
    if labels.size == 0:
        raise ValueError("y is empty; metrics need at least one sample")
    hard = (labels == 0.0) | (labels == 1.0)
    if not hard.all():
        raise ValueError(
            "y must hold hard labels 0 or 1; "
            + _first_bad("y", labels, hard)
            + " (use hard_labels(y) to read soft labels as classes at 0.5)"
        )
    finite = np.isfinite(vals)
    if not finite.all():
        raise ValueError(
            f"{values_name} must be finite numbers; " + _first_bad(values_name, vals, finite)
        )
    return labels, vals


def _probabilities(y: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    labels, probs = _labels_and_values(y, p, "p")
    inside = (probs >= 0.0) & (probs <= 1.0)
    if not inside.all():
        raise ValueError("p must be probabilities in [0, 1]; " + _first_bad("p", probs, inside))
    return labels, probs


def _require_both_classes(labels: np.ndarray, what: str) -> int:
    """Number of positives, or ValueError naming the only label present."""
    n_pos = int(np.count_nonzero(labels))
    if n_pos == 0 or n_pos == labels.size:
        only = 1 if n_pos else 0
        raise ValueError(f"{what} needs both classes; y has only label {only}")
    return n_pos


def _check_n_bins(n_bins: int) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}")
    return int(n_bins)


def hard_labels(y: ArrayLike, threshold: float = 0.5) -> np.ndarray:
    """Soft labels in [0, 1] read as classes: 1.0 where ``y >= threshold``, else 0.0."""
    labels = np.asarray(y, dtype=np.float64)
    inside = (labels >= 0.0) & (labels <= 1.0)
    if not inside.all():
        flat = labels.ravel()
        raise ValueError("labels y must be in [0, 1]; " + _first_bad("y", flat, inside.ravel()))
    return (labels >= threshold).astype(np.float64)


# --------------------------------------------------------------------------- ranking curves


def _counts_at_thresholds(
    labels: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fps, tps, thresholds) at each distinct score, highest score first.

    Same construction as scikit-learn's ``confusion_matrix_at_thresholds``: sort by
    decreasing score, take the cumulative positives at the last index of every
    run of tied scores, so tied samples enter together.
    """
    order = np.argsort(scores, kind="stable")[::-1]
    sorted_scores = scores[order]
    sorted_labels = labels[order]
    last_of_run = np.flatnonzero(np.diff(sorted_scores))
    threshold_idxs = np.concatenate([last_of_run, [sorted_scores.size - 1]])
    tps = np.cumsum(sorted_labels)[threshold_idxs]
    fps = 1.0 + threshold_idxs - tps
    return fps, tps, sorted_scores[threshold_idxs]


def roc_curve(
    y: ArrayLike, scores: ArrayLike, *, drop_intermediate: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve: false-positive rate, true-positive rate, and the thresholds giving them.

    ``thresholds`` decrease; ``fpr[i], tpr[i]`` are the rates when ``scores >=
    thresholds[i]`` predicts positive. ``thresholds[0]`` is ``+inf`` (nothing
    predicted positive, the point (0, 0)). With ``drop_intermediate`` (default,
    as scikit-learn) thresholds whose point is collinear with its neighbours are
    dropped; the curve and the AUC are unchanged. Equal to
    ``sklearn.metrics.roc_curve(y, scores, drop_intermediate=...)``.

    Raises ValueError unless y holds both labels 0 and 1.
    """
    labels, vals = _labels_and_values(y, scores, "scores")
    _require_both_classes(labels, "ROC")
    return _roc_from_counts(*_counts_at_thresholds(labels, vals), drop_intermediate)


def _roc_from_counts(fps: np.ndarray, tps: np.ndarray, thresholds: np.ndarray,
                     drop_intermediate: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if drop_intermediate and fps.size > 2:
        corner = np.logical_or(np.diff(fps, 2), np.diff(tps, 2))
        keep = np.flatnonzero(np.concatenate([[True], corner, [True]]))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps = np.concatenate([[0.0], fps])
    tps = np.concatenate([[0.0], tps])
    thresholds = np.concatenate([[np.inf], thresholds])
    return fps / fps[-1], tps / tps[-1], thresholds


def ranking_curves(y: ArrayLike, scores: ArrayLike) -> tuple[tuple, tuple]:
    """``(roc_curve(y, scores), pr_curve(y, scores))`` from one sort of the scores.

    Each is exactly what the function of that name returns with its default
    ``drop_intermediate``; a panel that draws both every frame sorts once.
    Raises ValueError unless y holds both classes.
    """
    labels, vals = _labels_and_values(y, scores, "scores")
    _require_both_classes(labels, "ROC and PR")
    counts = _counts_at_thresholds(labels, vals)
    return _roc_from_counts(*counts, True), _pr_from_counts(*counts, False)


def roc_auc(y: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve in [0, 1] (trapezoids, so a tie counts one half).

    Equals ``sklearn.metrics.roc_auc_score`` and the probability that a random
    positive outscores a random negative (ties counted 1/2). Raises ValueError
    unless y holds both classes.
    """
    fpr, tpr, _ = roc_curve(y, scores)
    return float(np.trapezoid(tpr, fpr))


def pr_curve(
    y: ArrayLike, scores: ArrayLike, *, drop_intermediate: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision-recall curve as scikit-learn's ``precision_recall_curve``.

    ``thresholds`` increase (one per distinct score, lowest first);
    ``precision[i], recall[i]`` belong to ``scores >= thresholds[i]``, and one
    last point ``(precision 1, recall 0)`` with no threshold closes the curve,
    so ``precision`` and ``recall`` are one longer than ``thresholds``.
    ``drop_intermediate=True`` keeps only the ends of each run of equal recall
    (scikit-learn's rule). Raises ValueError unless y holds both classes.
    """
    labels, vals = _labels_and_values(y, scores, "scores")
    _require_both_classes(labels, "PR")
    return _pr_from_counts(*_counts_at_thresholds(labels, vals), drop_intermediate)


def _pr_from_counts(fps: np.ndarray, tps: np.ndarray, thresholds: np.ndarray,
                    drop_intermediate: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if drop_intermediate and fps.size > 2:
        changes = np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:]))
        keep = np.flatnonzero(np.concatenate([[True], changes, [True]]))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    precision = tps / (tps + fps)  # tps + fps >= 1 at every threshold
    recall = tps / tps[-1]
    return (
        np.concatenate([precision[::-1], [1.0]]),
        np.concatenate([recall[::-1], [0.0]]),
        thresholds[::-1].copy(),
    )


def average_precision(y: ArrayLike, scores: ArrayLike) -> float:
    """Average precision in [0, 1], scikit-learn's step-wise definition.

    ``AP = sum_n (R_n - R_{n-1}) P_n`` over the PR thresholds, no interpolation;
    equals ``sklearn.metrics.average_precision_score``. Raises ValueError
    unless y holds both classes.
    """
    precision, recall, _ = pr_curve(y, scores)
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


# --------------------------------------------------------------------------- one threshold


def confusion(y: ArrayLike, scores: ArrayLike, threshold: float) -> tuple[int, int, int, int]:
    """Confusion counts ``(tn, fp, fn, tp)`` when ``scores >= threshold`` predicts 1.

    The order is scikit-learn's ``confusion_matrix(...).ravel()``. Any real
    threshold is allowed, including +-inf.
    """
    labels, vals = _labels_and_values(y, scores, "scores")
    t = float(threshold)
    if np.isnan(t):
        raise ValueError("threshold must be a number, got nan")
    predicted = vals >= t
    positive = labels == 1.0
    tp = int(np.count_nonzero(predicted & positive))
    n_pos = int(np.count_nonzero(positive))
    n_pred = int(np.count_nonzero(predicted))
    fp = n_pred - tp
    fn = n_pos - tp
    tn = labels.size - n_pos - fp
    return tn, fp, fn, tp


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else 0.0


def classification_report(y: ArrayLike, scores: ArrayLike, threshold: float) -> dict[str, float]:
    """Everything the threshold panel shows at one threshold, as a flat dict.

    Keys: ``precision, recall, f1, accuracy, specificity, fpr`` (floats in [0, 1])
    and ``tn, fp, fn, tp`` (ints). A ratio whose denominator is 0 is reported
    as 0.0 (scikit-learn's ``zero_division=0``), never NaN: e.g. precision
    when nothing is predicted positive, or specificity and fpr when y has no
    negatives. ``f1 = 2 tp / (2 tp + fp + fn)``, as scikit-learn computes it.
    """
    tn, fp, fn, tp = confusion(y, scores, threshold)
    n = tn + fp + fn + tp
    return {
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "accuracy": _ratio(tp + tn, n),
        "specificity": _ratio(tn, tn + fp),
        "fpr": _ratio(fp, fp + tn),
        "tn": tn,
        "fp": fp,
        "fn": fn,
        "tp": tp,
    }


def best_threshold(
    y: ArrayLike,
    scores: ArrayLike,
    metric: Literal["f1", "youden", "cost"] = "f1",
    *,
    cost_fn: float = 1.0,
    cost_fp: float = 1.0,
) -> tuple[float, float]:
    """The threshold that optimises ``metric``, and the metric's value there.

    Candidates are every distinct score (``scores >= t`` predicts 1) plus one
    threshold just above the highest score (``np.nextafter(max, inf)``: nothing
    positive), so the result is always finite and every reachable confusion
    matrix is considered.

    * ``"f1"``: maximise F1 = 2 tp / (2 tp + fp + fn).
    * ``"youden"``: maximise Youden's J = tpr - fpr, in [-1, 1].
    * ``"cost"``: minimise the mean misclassification cost per sample,
      ``(cost_fn * fn + cost_fp * fp) / n`` (costs >= 0, in the caller's units).

    Ties go to the highest threshold (the most conservative classifier). F1
    and J are compared exactly (as ratios of integers), so mathematically equal
    values tie. Raises ValueError unless y holds both classes.
    """
    labels, vals = _labels_and_values(y, scores, "scores")
    n_pos = _require_both_classes(labels, "Choosing a threshold")
    n = labels.size
    n_neg = n - n_pos
    fps, tps, thresholds = _counts_at_thresholds(labels, vals)
    # Prepend the "nothing positive" candidate; candidates are in decreasing
    # threshold order, so argmax/argmin (first hit) picks the highest on ties.
    fps = np.concatenate([[0.0], fps])
    tps = np.concatenate([[0.0], tps])
    above_all = float(np.nextafter(thresholds[0], np.inf))
    if metric == "f1":
        # 2 tp / (n_pos + predicted positives): one correctly rounded division of
        # exact integers, so equal fractions give equal floats.
        values = 2.0 * tps / (n_pos + tps + fps)
        best = int(np.argmax(values))
        value = float(values[best])
    elif metric == "youden":
        key = tps * n_neg - fps * n_pos  # J * n_pos * n_neg, an exact integer
        best = int(np.argmax(key))
        value = float(key[best] / (n_pos * n_neg))
    elif metric == "cost":
        for name, c in (("cost_fn", cost_fn), ("cost_fp", cost_fp)):
            if not (np.isfinite(c) and c >= 0):
                raise ValueError(f"{name} must be a finite cost >= 0, got {c!r}")
        costs = (cost_fn * (n_pos - tps) + cost_fp * fps) / n
        best = int(np.argmin(costs))
        value = float(costs[best])
    else:
        raise ValueError(f'metric must be "f1", "youden" or "cost", got {metric!r}')
    threshold = above_all if best == 0 else float(thresholds[best - 1])
    return threshold, value


# --------------------------------------------------------------------------- calibration


def calibration_curve(
    y: ArrayLike, p: ArrayLike, n_bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reliability diagram data over ``n_bins`` uniform bins of [0, 1].

    Returns ``(mean_predicted, fraction_positive, counts)``, each of length
    ``n_bins``, one entry per bin in order. Binning is exactly scikit-learn's
    ``calibration_curve(strategy="uniform")``: edges ``linspace(0, 1, n_bins + 1)``,
    bin k holds ``edge_k < p <= edge_{k+1}`` (the first bin also holds p = 0),
    and for non-empty bins ``mean_predicted`` / ``fraction_positive`` equal
    scikit-learn's ``prob_pred`` / ``prob_true``.

    Empty bins are kept with ``counts == 0``, and both their ``mean_predicted``
    and ``fraction_positive`` hold the **bin centre**: the point sits on the
    diagonal (zero calibration gap) and is never NaN. Plot or weigh bins with
    ``counts > 0`` only. ``p`` must be probabilities in [0, 1].
    """
    labels, probs = _probabilities(y, p)
    bins = _check_n_bins(n_bins)
    edges = np.linspace(0.0, 1.0, bins + 1)
    bin_ids = np.searchsorted(edges[1:-1], probs)
    counts = np.bincount(bin_ids, minlength=bins)
    sum_p = np.bincount(bin_ids, weights=probs, minlength=bins)
    sum_y = np.bincount(bin_ids, weights=labels, minlength=bins)
    centres = 0.5 * (edges[:-1] + edges[1:])
    filled = counts != 0
    mean_predicted = centres.copy()
    fraction_positive = centres.copy()
    mean_predicted[filled] = sum_p[filled] / counts[filled]
    fraction_positive[filled] = sum_y[filled] / counts[filled]
    return mean_predicted, fraction_positive, counts.astype(np.int64)


def expected_calibration_error(y: ArrayLike, p: ArrayLike, n_bins: int = 10) -> float:
    """ECE in [0, 1]: count-weighted mean of |fraction_positive - mean_predicted|.

    Over the non-empty uniform bins of :func:`calibration_curve` (empty bins
    have weight 0).
    """
    return ece_of_curve(*calibration_curve(y, p, n_bins))


def ece_of_curve(mean_predicted: np.ndarray, fraction_positive: np.ndarray,
                 counts: np.ndarray) -> float:
    """The ECE of a :func:`calibration_curve` result (a caller with the curve bins once)."""
    gaps = np.abs(fraction_positive - mean_predicted)
    return float(np.dot(counts, gaps) / counts.sum())


def brier_score(y: ArrayLike, p: ArrayLike) -> float:
    """Brier score in [0, 1]: mean squared error of probabilities against labels.

    Equals ``sklearn.metrics.brier_score_loss``. ``p`` must be in [0, 1].
    """
    labels, probs = _probabilities(y, p)
    return float(np.mean((probs - labels) ** 2))
