"""The imbalance comparison of the 2-D lab: plain, weighted and focal fits side by side.

Fits each loss variant (``engine.logistic.fit_logistic``, Newton) on the
state's training points and scores them, the current model and the
"everyone negative" baseline on the held-out points (training points when
the held-out split lacks a class). Computed here, below the GUI, and cached:
the fits on the data, feature map, penalties and smoothing; the scores on the
state's version. No Qt here (see docs/architecture.md, "Derived figures").
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Optional

import numpy as np

from bceviz.engine import logistic as _logistic
from bceviz.engine import metrics as _metrics
from bceviz.engine.losses import LossSpec

#: Focusing parameter of the focal-loss variant (torchvision's default).
FOCAL_GAMMA = 2.0
#: Newton steps per variant in the comparison (and for "Fit now").
FIT_STEPS = 30
#: Above this many training points the comparison is refitted only on request.
AUTO_FIT_MAX = 5000
VARIANTS = ("plain", "weighted", "focal")


def variant_spec(base: LossSpec, variant: str, pos_weight: float) -> LossSpec:
    """The loss of a variant, keeping the base's label smoothing."""
    if variant == "weighted":
        return replace(base, pos_weight=pos_weight, focal_gamma=0.0, focal_alpha=None)
    if variant == "focal":
        return replace(base, pos_weight=1.0, focal_gamma=FOCAL_GAMMA, focal_alpha=None)
    return replace(base, pos_weight=1.0, focal_gamma=0.0, focal_alpha=None)


def spec_variant(spec: LossSpec) -> Optional[str]:
    """Which variant a spec is (None for any other combination)."""
    if spec.focal_alpha is not None:
        return None
    if spec.focal_gamma == 0.0:
        return "plain" if spec.pos_weight == 1.0 else "weighted"
    if spec.focal_gamma == FOCAL_GAMMA and spec.pos_weight == 1.0:
        return "focal"
    return None


def scores_at(labels: np.ndarray, probs: np.ndarray, threshold: float) -> dict:
    """Recall, precision, accuracy at the threshold; AP (None if a class is missing); ECE."""
    report = _metrics.classification_report(labels, probs, threshold)
    both = 0 < np.count_nonzero(labels) < labels.size
    return {
        "recall": report["recall"], "precision": report["precision"],
        "accuracy": report["accuracy"], "predicted": report["tp"] + report["fp"],
        "ap": _metrics.average_precision(labels, probs) if both else None,
        "ece": _metrics.expected_calibration_error(labels, probs),
    }



def _data_key(state) -> tuple:
    digest = hashlib.blake2b(digest_size=16)
    for array in (state.X, state.y, state.heldout):
        digest.update(np.ascontiguousarray(array).tobytes())
    return (digest.hexdigest(), state.features, state.training.l1, state.training.l2,
            state.spec.label_smoothing)


_fits_cache: dict = {}


def comparison_fits(state, *, force: bool = False) -> dict:
    """``{variant: {"spec", "w", "b"}}`` for plain, weighted and focal (``{}`` with no training
    point, or above AUTO_FIT_MAX training points unless ``force``). Cached on the data,
    feature map, penalties and smoothing, so a training step costs nothing here."""
    if state.n_train == 0 or (state.n_train > AUTO_FIT_MAX and not force):
        return {}
    key = (id(state), _data_key(state))
    cached = _fits_cache.get("last")
    if cached is not None and cached[0] == key:
        return cached[1]
    pos_weight = state.balanced_pos_weight()
    fits = {}
    for variant in VARIANTS:
        spec = variant_spec(state.spec, variant, pos_weight)
        fit = fit_variant(state, spec)
        fits[variant] = {"spec": spec, "w": fit.w, "b": fit.b}
    _fits_cache["last"] = (key, fits)
    return fits


def fit_variant(state, spec: LossSpec):
    """A FIT_STEPS-step Newton fit of ``spec`` on the state's training points."""
    return _logistic.fit_logistic(
        state.features_of(state.X_train), state.y_train, spec, l2=state.training.l2,
        l1=state.training.l1, optimizer="newton", steps=FIT_STEPS)


def eval_split(state) -> tuple[np.ndarray, str]:
    """The mask scored in the table, and its name: held-out if it has both classes."""
    held = state.heldout
    labels = state.y[held] >= 0.5
    if held.any() and 0 < np.count_nonzero(labels) < labels.size:
        return held, "held-out"
    return ~held, "training"


def score_rows(state, fits: dict) -> tuple[dict, str, int, int]:
    """The table: ``(rows, split name, n, n positive)``; rows per variant, "current" and
    "baseline" (precision and ECE undefined for the baseline: None, never NaN)."""
    mask, name = eval_split(state)
    labels = _metrics.hard_labels(state.y[mask])
    n, n_pos = int(labels.size), int(np.count_nonzero(labels))
    rows: dict = {}
    if labels.size == 0:
        return rows, name, n, n_pos
    F = state.features_of(state.X[mask])
    t = state.threshold
    for variant, fit in fits.items():
        if fit["w"].shape[0] != F.shape[1]:
            continue
        probs = _logistic.predict_proba(F, fit["w"], fit["b"])
        rows[variant] = scores_at(labels, probs, t)
    current = np.asarray(state.proba_of(state.X[mask]), dtype=np.float64)
    if np.all(np.isfinite(current)):
        rows["current"] = scores_at(labels, np.clip(current, 0.0, 1.0), t)
    baseline = scores_at(labels, np.zeros(labels.size), 0.5)
    baseline["precision"] = None  # nothing is called positive: undefined, not 0
    baseline["ece"] = None  # a rule, not a probability
    rows["baseline"] = baseline
    return rows, name, n, n_pos


__all__ = ["AUTO_FIT_MAX", "FIT_STEPS", "FOCAL_GAMMA", "VARIANTS", "comparison_fits",
           "eval_split", "fit_variant", "score_rows", "scores_at", "spec_variant", "variant_spec"]
