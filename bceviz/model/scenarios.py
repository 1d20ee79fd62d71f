"""Scenarios: named, versioned JSON starting points (data, loss, model, view) applied to the AppState.

A scenario is one JSON file ``resources/scenarios/<id>.json``. Loading
validates the whole file first; applying it to a state either succeeds
completely or raises :class:`ScenarioError` and leaves the state untouched
(the whole new state is built first, then applied in one transaction).

Format (``format_version`` 1). Every section is optional; a section or field
left out takes the app's default, so a scenario always produces the same
state whatever was loaded before it. Unknown keys are errors (a typo must not
be silently ignored).

.. code-block:: json

    {
      "format_version": 1,
      "id": "xor-linear",              // must equal the file name without .json
      "title": "XOR with a straight line",
      "caption": "One sentence shown above the panels: what to look at or drag.",
      "order": 20,                     // menu position (lower first), default 1000

      "dataset": {                     // a generated 2-D data set ...
        "kind": "xor",                 //   one of engine.datasets.DATASET_KINDS
        "n": 200,                      //   number of points, 1..20000
        "noise": 0.1,                  //   generator noise (>= 0)
        "pos_fraction": 0.5,           //   share of positives, (0, 1)
        "label_noise": 0.0,            //   share of flipped labels, [0, 1)
        "seed": 0,                     //   integer seed
        "heldout_fraction": 0.25       //   share kept out of training, [0, 1)
      },
      "points": {                      // ... or inline points (not both)
        "X": [[0.0, 1.0], [1.0, 0.0]], //   N pairs (x1, x2)
        "y": [1, 0],                   //   N labels in [0, 1] (soft allowed)
        "heldout": [false, false]      //   optional: N booleans
      },
      "real_data": {                   // ... or two columns of a bundled table
        "source": "breast-cancer",     //   one of REAL_DATA_SOURCES
        "features": ["mean_radius", "mean_texture"],  // two distinct columns
        "standardize": true,           //   (x - mean) / std, population std
        "heldout_fraction": 0.3,       //   stratified, [0, 1)
        "seed": 0                      //   integer >= 0 (the split's seed)
      },

      "loss": {"label_smoothing": 0.0, "pos_weight": 1.0,
               "focal_gamma": 0.0, "focal_alpha": null},
      "model": {
        "features": "linear",          // engine.logistic.FEATURE_KINDS
        "optimizer": "gd",             // gd | sgd | momentum | adam | newton
        "lr": 0.5, "l1": 0.0, "l2": 0.0,
        "batch_size": null,            // SGD mini-batch size (null = full batch)
        "momentum": 0.9, "steps_per_frame": 1, "seed": 0,
        "w": [0.0, 0.0], "b": 0.0      // starting weights (length = feature count)
      },
      "probe":   {"p": 0.7, "y": 1.0},                 // loss-curve handle
      "samples": {"p": [0.7, 0.8, 0.9], "y": [0.8, 0.8, 0.8],
                  "ref_p": null},                      // samples panel pairs
      "view": {"units": "nats", "curve_axis": "p", ...},  // any ViewOptions field
      "threshold": 0.5,                // decision threshold in [0, 1]
      "panels": ["controls", "data"],  // panels to show (others hidden); omit = all
      "autoplay": false                // start training as soon as it is loaded
    }

(``//`` comments above are for the reader; real files are plain JSON.)

Public functions: :func:`list_scenarios`, :func:`load_scenario`,
:func:`load_scenario_file`, :func:`validate_scenario` and
:func:`apply_scenario`. No Qt here.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Optional

import numpy as np

from bceviz.engine.losses import LossSpec
from bceviz.model.stages import SCENARIO_STAGE_KEYS
from bceviz.model.state import (
    MAX_POINTS,
    OPTIMIZERS,
    AppState,
    DataAxes,
    DatasetSettings,
    StateError,
    StateSnapshot,
    TableChoice,
    TrainingSettings,
    ViewOptions,
    check_points,
    check_samples,
    check_training,
    probe_logit,
)

FORMAT_VERSION = 1

#: Panel ids a scenario may name in ``panels`` (the GUI registry uses the same ids;
#: tests/model/test_scenarios.py checks that the two lists agree).
PANEL_IDS = (
    "controls", "loss_curve", "samples", "formula", "data", "surface",
    "training_curves", "metrics", "imbalance", "race",
)

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TOP_KEYS = {
    "format_version", "id", "title", "caption", "order", "dataset", "points", "loss",
    "model", "probe", "samples", "view", "threshold", "panels", "autoplay", "real_data",
} | set(SCENARIO_STAGE_KEYS)  # the stage's own keys, checked by bceviz.model.stages
#: Bundled tables a scenario's ``real_data`` may name: id -> (file in resources/data, label column).
REAL_DATA_SOURCES = {"breast-cancer": ("breast_cancer_wisconsin.csv", "malignant")}
_REAL_DATA_KEYS = {"source", "features", "standardize", "heldout_fraction", "seed"}
_DATASET_KEYS = {f.name for f in fields(DatasetSettings)}
_LOSS_KEYS = {f.name for f in fields(LossSpec)}
_TRAINING_KEYS = {f.name for f in fields(TrainingSettings)}
_MODEL_KEYS = _TRAINING_KEYS | {"features", "w", "b"}
_VIEW_KEYS = {f.name for f in fields(ViewOptions)}


class ScenarioError(ValueError):
    """A scenario that cannot be loaded or applied; the message names the file and the field."""


# --------------------------------------------------------------------------- finding files
def scenarios_dir() -> Path:
    """The folder of bundled scenario files."""
    from bceviz.resources import resources_dir

    return resources_dir() / "scenarios"


def list_scenarios(directory: Optional[Path] = None) -> list[tuple[str, str]]:
    """``[(id, title)]`` of the bundled scenarios, in menu order (``order``, then id).

    Only reads ids and titles (fast); files that are not even JSON objects are
    skipped here and reported by :func:`load_scenario`.
    """
    folder = Path(directory) if directory is not None else scenarios_dir()
    entries = []
    for path in sorted(folder.glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if not isinstance(raw, dict) or raw.get("id") != path.stem:
            continue
        order = raw.get("order", 1000)
        order = order if isinstance(order, (int, float)) and not isinstance(order, bool) else 1000
        entries.append((order, path.stem, str(raw.get("title") or path.stem)))
    entries.sort()
    return [(sid, title) for _, sid, title in entries]


def load_scenario(scenario_id: str, directory: Optional[Path] = None) -> dict:
    """Read and validate the bundled scenario ``scenario_id``; returns the validated dict."""
    if not isinstance(scenario_id, str) or not _ID_RE.match(scenario_id):
        raise ScenarioError(f"invalid scenario id {scenario_id!r} (lower-case letters, digits, - and _)")
    folder = Path(directory) if directory is not None else scenarios_dir()
    path = folder / f"{scenario_id}.json"
    if not path.is_file():
        known = ", ".join(sid for sid, _ in list_scenarios(folder)) or "none"
        raise ScenarioError(f"unknown scenario {scenario_id!r} (known: {known})")
    return load_scenario_file(path)


def load_scenario_file(path) -> dict:
    """Read and validate one scenario file; errors name the file (and line/column for bad JSON)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path.name}: cannot read: {exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"{path.name}: line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg})") from None
    scenario = validate_scenario(raw, source=path.name)
    if scenario["id"] != path.stem:
        raise ScenarioError(f"{path.name}: id {scenario['id']!r} does not match the file name")
    return scenario


# --------------------------------------------------------------------------- validation
def validate_scenario(raw: Any, source: str = "scenario") -> dict:
    """Check types, ranges and unknown keys; returns a normalised copy (every section filled).

    Raises ScenarioError naming ``source`` and the offending field.
    """
    def fail(where: str, msg: str):
        raise ScenarioError(f"{source}: {where}: {msg}" if where else f"{source}: {msg}")

    if not isinstance(raw, dict):
        fail("", "a scenario must be a JSON object")
    _check_keys(raw, _TOP_KEYS, "", fail)
    version = raw.get("format_version")
    if version is None:
        fail("format_version", "missing (this bceviz writes 1)")
    if not _is_int(version) or version < 1:
        fail("format_version", f"must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        fail("format_version", f"{version} is newer than this bceviz supports ({FORMAT_VERSION})")
    sid = raw.get("id")
    if not isinstance(sid, str) or not _ID_RE.match(sid):
        fail("id", f"must be lower-case letters, digits, - or _, got {sid!r}")
    title = raw.get("title", sid)
    caption = raw.get("caption", "")
    if not isinstance(title, str) or not title.strip():
        fail("title", "must be a non-empty string")
    if not isinstance(caption, str):
        fail("caption", "must be a string")
    order = raw.get("order", 1000)
    if not _is_number(order):
        fail("order", f"must be a number, got {order!r}")

    out: dict[str, Any] = {
        "format_version": FORMAT_VERSION, "id": sid, "title": title, "caption": caption,
        "order": order,
    }

    # data: generated, inline or a bundled table, only one of them
    given = [key for key in ("dataset", "points", "real_data") if key in raw]
    if len(given) > 1:
        fail("", f"give only one of 'dataset', 'points' and 'real_data', not {' and '.join(given)}")
    out["real_data"] = None
    if "real_data" in raw:
        out["real_data"] = _validate_real_data(raw["real_data"], fail)
        out["dataset"] = None
        out["points"] = None
    elif "points" in raw:
        out["points"] = _validate_points(raw["points"], fail)
        out["dataset"] = None
    else:
        ds = _section(raw, "dataset", _DATASET_KEYS, fail)
        merged = asdict(DatasetSettings())
        merged.update(ds)
        for key in ("n", "seed"):
            if not _is_int(merged[key]):
                fail(f"dataset.{key}", f"must be an integer, got {merged[key]!r}")
        if not isinstance(merged["kind"], str):
            fail("dataset.kind", f"must be a string, got {merged['kind']!r}")
        from bceviz.engine.datasets import DATASET_KINDS

        if merged["kind"] not in DATASET_KINDS:
            fail("dataset.kind", f"unknown kind {merged['kind']!r} (one of {', '.join(DATASET_KINDS)})")
        if not 1 <= merged["n"] <= MAX_POINTS:
            fail("dataset.n", f"must be between 1 and {MAX_POINTS}, got {merged['n']}")
        for key in ("noise", "pos_fraction", "label_noise", "heldout_fraction"):
            if not _is_number(merged[key]):
                fail(f"dataset.{key}", f"must be a finite number, got {merged[key]!r}")
        if merged["noise"] < 0:
            fail("dataset.noise", "must be >= 0")
        if not 0 < merged["pos_fraction"] < 1:
            fail("dataset.pos_fraction", f"must be in (0, 1), got {merged['pos_fraction']}")
        if not 0 <= merged["label_noise"] < 1:
            fail("dataset.label_noise", f"must be in [0, 1), got {merged['label_noise']}")
        if not 0 <= merged["heldout_fraction"] < 1:
            fail("dataset.heldout_fraction", f"must be in [0, 1), got {merged['heldout_fraction']}")
        out["dataset"] = merged
        out["points"] = None

    loss = _section(raw, "loss", _LOSS_KEYS, fail)
    for key, value in loss.items():
        if not (value is None and key == "focal_alpha") and not _is_number(value):
            fail(f"loss.{key}", f"must be a finite number, got {value!r}")
    try:
        spec = LossSpec(**loss)
    except ValueError as exc:
        fail("loss", str(exc))
    out["loss"] = asdict(spec)

    model = _section(raw, "model", _MODEL_KEYS, fail)
    training = asdict(TrainingSettings())
    training.update({k: v for k, v in model.items() if k in _TRAINING_KEYS})
    if training["optimizer"] not in OPTIMIZERS:
        fail("model.optimizer", f"unknown optimizer {training['optimizer']!r} "
                                f"(one of {', '.join(OPTIMIZERS)})")
    for key in ("lr", "l1", "l2", "momentum"):
        if not _is_number(training[key]):
            fail(f"model.{key}", f"must be a finite number, got {training[key]!r}")
    if training["lr"] <= 0:
        fail("model.lr", f"must be > 0, got {training['lr']}")
    if training["l1"] < 0 or training["l2"] < 0:
        fail("model", "l1 and l2 must be >= 0")
    if training["batch_size"] is not None and (not _is_int(training["batch_size"])
                                               or training["batch_size"] < 1):
        fail("model.batch_size", f"must be null or an integer >= 1, got {training['batch_size']!r}")
    if not _is_int(training["steps_per_frame"]) or not 1 <= training["steps_per_frame"] <= 1000:
        fail("model.steps_per_frame", "must be an integer between 1 and 1000")
    if not _is_int(training["seed"]):
        fail("model.seed", f"must be an integer, got {training['seed']!r}")
    from bceviz.engine import logistic

    features = model.get("features", "linear")
    if features not in logistic.FEATURE_KINDS:
        fail("model.features", f"unknown feature map {features!r} "
                               f"(one of {', '.join(logistic.FEATURE_KINDS)})")
    n_weights = int(logistic.make_features(np.zeros((1, 2)), features).shape[1])
    w = model.get("w")
    if w is not None:
        if not isinstance(w, list) or not all(_is_number(v) for v in w):
            fail("model.w", "must be a list of finite numbers")
        if len(w) != n_weights:
            fail("model.w", f"the {features!r} feature map has {n_weights} weights, got {len(w)}")
    b = model.get("b")
    if b is not None and not _is_number(b):
        fail("model.b", f"must be a finite number, got {b!r}")
    out["model"] = {"features": features, **training, "w": w, "b": b}

    probe = _section(raw, "probe", {"p", "y"}, fail)
    for key, value in probe.items():
        if not _is_number(value) or not 0 <= value <= 1:
            fail(f"probe.{key}", f"must be a number in [0, 1], got {value!r}")
    out["probe"] = {"p": probe.get("p", 0.7), "y": probe.get("y", 1.0)}

    samples = _section(raw, "samples", {"p", "y", "ref_p"}, fail)
    if samples:
        for key in ("p", "y"):
            if key not in samples:
                fail("samples", f"needs both 'p' and 'y' (missing {key!r})")
        for key in ("p", "y", "ref_p"):
            value = samples.get(key)
            if value is None and key == "ref_p":
                continue
            if (not isinstance(value, list) or not value
                    or not all(_is_number(v) and 0 <= v <= 1 for v in value)):
                fail(f"samples.{key}", "must be a non-empty list of numbers in [0, 1]")
            if len(value) != len(samples["p"]):
                fail(f"samples.{key}", "must have as many entries as samples.p")
        if len(samples["p"]) > 64:
            fail("samples", "at most 64 pairs")
        out["samples"] = {"p": samples["p"], "y": samples["y"], "ref_p": samples.get("ref_p")}
    else:
        # the AppState's own starting pairs
        out["samples"] = {"p": [0.7, 0.8, 0.9], "y": [1.0, 1.0, 1.0], "ref_p": [0.8, 0.8, 0.8]}

    view = _section(raw, "view", _VIEW_KEYS, fail)
    view_defaults = asdict(ViewOptions())
    for key, value in view.items():
        expected = type(view_defaults[key])
        if expected is bool and not isinstance(value, bool):
            fail(f"view.{key}", f"must be true or false, got {value!r}")
        if expected is str and not isinstance(value, str):
            fail(f"view.{key}", f"must be a string, got {value!r}")
        if expected is float and (not _is_number(value) or not 0 <= value <= 1000):
            fail(f"view.{key}", f"must be a number from 0 to 1000, got {value!r}")
    view_defaults.update(view)
    if view_defaults["units"] not in ("nats", "bits"):
        fail("view.units", f"must be 'nats' or 'bits', got {view_defaults['units']!r}")
    if view_defaults["curve_axis"] not in ("p", "z"):
        fail("view.curve_axis", f"must be 'p' or 'z', got {view_defaults['curve_axis']!r}")
    from bceviz.model.state import CURVE_CHOICES, METRICS_PLOTS

    if view_defaults["curves"] not in CURVE_CHOICES:
        fail("view.curves", f"must be one of {', '.join(CURVE_CHOICES)}")
    if view_defaults["metrics_plot"] not in METRICS_PLOTS:
        fail("view.metrics_plot", f"must be one of {', '.join(METRICS_PLOTS)}")
    out["view"] = view_defaults

    threshold = raw.get("threshold", 0.5)
    if not _is_number(threshold) or not 0 <= threshold <= 1:
        fail("threshold", f"must be a number in [0, 1], got {threshold!r}")
    out["threshold"] = float(threshold)

    panels = raw.get("panels")
    if panels is not None:
        if not isinstance(panels, list) or not all(isinstance(p, str) for p in panels):
            fail("panels", "must be a list of panel ids")
        unknown = [p for p in panels if p not in PANEL_IDS]
        if unknown:
            fail("panels", f"unknown panel {unknown[0]!r} (one of {', '.join(PANEL_IDS)})")
        panels = list(dict.fromkeys(panels))
    out["panels"] = panels

    autoplay = raw.get("autoplay", False)
    if not isinstance(autoplay, bool):
        fail("autoplay", f"must be true or false, got {autoplay!r}")
    out["autoplay"] = autoplay
    return out


def _validate_points(points: Any, fail) -> dict:
    if not isinstance(points, dict):
        fail("points", "must be an object with X, y and optionally heldout")
    _check_keys(points, {"X", "y", "heldout"}, "points", fail)
    X, y = points.get("X"), points.get("y")
    if not isinstance(X, list) or not isinstance(y, list) or not X:
        fail("points", "needs non-empty lists 'X' (pairs) and 'y' (labels)")
    if len(X) > MAX_POINTS:
        fail("points", f"at most {MAX_POINTS} points, got {len(X)}")
    for i, row in enumerate(X):
        if not isinstance(row, list) or len(row) != 2 or not all(_is_number(v) for v in row):
            fail(f"points.X[{i}]", f"must be a pair of finite numbers, got {row!r}")
    if len(y) != len(X):
        fail("points.y", f"has {len(y)} labels for {len(X)} points")
    for i, v in enumerate(y):
        if not _is_number(v) or not 0 <= v <= 1:
            fail(f"points.y[{i}]", f"must be a label in [0, 1], got {v!r}")
    heldout = points.get("heldout")
    if heldout is not None:
        if not isinstance(heldout, list) or len(heldout) != len(X) \
                or not all(isinstance(v, bool) for v in heldout):
            fail("points.heldout", "must be a list of true/false, one per point")
    else:
        heldout = [False] * len(X)
    return {"X": X, "y": y, "heldout": heldout}


def _validate_real_data(real: Any, fail) -> dict:
    if not isinstance(real, dict):
        fail("real_data", "must be a JSON object")
    _check_keys(real, _REAL_DATA_KEYS, "real_data", fail)
    source = real.get("source")
    if source not in REAL_DATA_SOURCES:
        fail("real_data.source",
             f"unknown source {source!r} (one of {', '.join(REAL_DATA_SOURCES)})")
    features = real.get("features")
    if (not isinstance(features, list) or len(features) != 2
            or not all(isinstance(f, str) and f for f in features)):
        fail("real_data.features", f"must be a list of two column names, got {features!r}")
    if features[0] == features[1]:
        fail("real_data.features", f"must be two different columns, got {features[0]!r} twice")
    standardize = real.get("standardize", True)
    if not isinstance(standardize, bool):
        fail("real_data.standardize", f"must be true or false, got {standardize!r}")
    fraction = real.get("heldout_fraction", 0.3)
    if not _is_number(fraction) or not 0 <= fraction < 1:
        fail("real_data.heldout_fraction", f"must be a number in [0, 1), got {fraction!r}")
    seed = real.get("seed", 0)
    if not _is_int(seed) or seed < 0:
        fail("real_data.seed", f"must be an integer >= 0, got {seed!r}")
    # The column names are checked against the file when the scenario is applied
    # (while its snapshot is built, before the state is touched).
    return {"source": source, "features": list(features), "standardize": standardize,
            "heldout_fraction": float(fraction), "seed": seed}


def _section(raw: dict, name: str, allowed: set, fail) -> dict:
    value = raw.get(name, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        fail(name, "must be a JSON object")
    _check_keys(value, allowed, name, fail)
    return dict(value)


def _check_keys(obj: dict, allowed: set, where: str, fail) -> None:
    for key in obj:
        if key not in allowed:
            prefix = f"{where}." if where else ""
            fail(f"{prefix}{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------- applying
def apply_scenario(state: AppState, scenario: dict) -> None:
    """Put ``state`` into the scenario (a dict from :func:`load_scenario` or a raw one).

    All or nothing: the scenario is validated and the whole new state built
    as a :class:`~bceviz.model.state.StateSnapshot` (data, trainer, settings)
    without touching ``state``; only then does ``state.apply_snapshot`` replace
    its fields, each event once. Training is paused first and the weights'
    history starts afresh; ``autoplay`` starts it.
    """
    if not _NORMALISED_KEYS <= set(scenario):  # a raw file's dict: validate it first
        scenario = validate_scenario(scenario)
    try:
        snap = scenario_snapshot(scenario)
    except (StateError, ValueError) as exc:
        raise ScenarioError(f"scenario {scenario.get('id')!r}: {exc}") from None
    state.apply_snapshot(snap, source="scenario", status=f"Scenario: {scenario['title']}",
                         autoplay=scenario["autoplay"])


#: Keys every dict from :func:`validate_scenario` has (a raw file may lack some).
_NORMALISED_KEYS = {"dataset", "points", "real_data", "loss", "model", "probe", "samples",
                    "view", "threshold", "panels", "autoplay", "order", "caption"}


def scenario_snapshot(sc: dict) -> StateSnapshot:
    """The state a validated scenario describes, built without any AppState (may raise)."""
    from bceviz.engine import datasets as _datasets
    from bceviz.engine import logistic as _logistic
    from bceviz.model import datafiles

    table = None
    axes = DataAxes()
    dataset = DatasetSettings()
    if sc.get("real_data") is not None:
        real = sc["real_data"]
        from bceviz.resources import resource_path

        file_name, label = REAL_DATA_SOURCES[real["source"]]
        raw_table = datafiles.read_table_csv(resource_path("data", file_name))
        points = datafiles.select_features(raw_table, real["features"][0], real["features"][1],
                                           label, standardize=real["standardize"],
                                           require_both_classes=True)
        frac = real["heldout_fraction"]
        heldout = (_datasets.heldout_split(points.n, frac, seed=real["seed"], y=points.y)
                   if frac > 0 else np.zeros(points.n, bool))
        X, y, heldout = check_points(points.X, points.y, heldout)
        axes = DataAxes.of_points(points)
        table = TableChoice(table=raw_table, label=points.label_name,
                            standardize=real["standardize"], heldout_fraction=frac,
                            seed=int(real["seed"]), source=real["source"])
        source = real["source"]
    elif sc["points"] is not None:
        pts = sc["points"]
        X, y, heldout = check_points(pts["X"], pts["y"], pts["heldout"])
        source = "scenario"
    else:
        dataset = DatasetSettings(**sc["dataset"])
        if dataset.n > MAX_POINTS:
            raise StateError(f"at most {MAX_POINTS:,} points, asked for {dataset.n:,}")
        Xg, yg = _datasets.make_dataset(dataset.kind, dataset.n, noise=dataset.noise,
                                        pos_fraction=dataset.pos_fraction,
                                        label_noise=dataset.label_noise, seed=dataset.seed)
        heldout = (_datasets.heldout_split(len(yg), dataset.heldout_fraction, seed=dataset.seed,
                                           y=yg)
                   if dataset.heldout_fraction > 0 else np.zeros(len(yg), bool))
        X, y, heldout = check_points(Xg, yg, heldout)
        source = "generated"
    spec = LossSpec(**sc["loss"])
    model = sc["model"]
    features = model["features"]
    training = check_training(TrainingSettings(**{k: model[k] for k in _TRAINING_KEYS}))
    train = ~heldout
    trainer = _logistic.Trainer(
        _logistic.make_features(X[train], features), y[train], spec,
        optimizer=training.optimizer, lr=training.lr, l2=training.l2, l1=training.l1,
        batch_size=training.batch_size, momentum=training.momentum, seed=training.seed)
    if model["w"] is not None or model["b"] is not None:
        w = (np.asarray(model["w"], float) if model["w"] is not None
             else np.zeros_like(trainer.w))
        if w.shape != trainer.w.shape or not np.all(np.isfinite(w)):
            raise StateError("weights must be finite and match the feature map")
        trainer.set_weights(w, float(model["b"]) if model["b"] is not None else 0.0)
    probe = sc["probe"]
    samples = sc["samples"]
    samples_p, samples_y, ref = check_samples(samples["p"], samples["y"], samples["ref_p"])
    return StateSnapshot(
        X=X, y=y, heldout=heldout, data_source=source, axes=axes, table=table,
        dataset=dataset, spec=spec, features=features, training=training, trainer=trainer,
        probe_z=probe_logit(probe["p"]), probe_y=float(probe["y"]), samples_p=samples_p,
        samples_y=samples_y, samples_ref_p=ref, threshold=float(sc["threshold"]),
        view=ViewOptions(**sc["view"]), scenario_id=sc["id"], scenario_title=sc["title"],
        caption=sc["caption"],
        scenario_panels=tuple(sc["panels"]) if sc["panels"] is not None else None)


__all__ = [
    "FORMAT_VERSION", "PANEL_IDS", "REAL_DATA_SOURCES", "ScenarioError", "apply_scenario",
    "list_scenarios", "load_scenario", "scenario_snapshot", "load_scenario_file", "scenarios_dir", "validate_scenario",
]
