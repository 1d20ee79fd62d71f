"""Sessions: the whole AppState as a versioned JSON file, validated before anything changes.

A session keeps everything a user built: the 2-D data and its held-out mask,
the generator settings, the loss settings, the feature map, the optimizer
settings, the model's weights, the step count and the training history (so
the training curves and the path on the loss surface survive), the loss-curve
probe, the samples panel, the threshold, the view options, the scenario
(id, title, caption, panels) and an opaque window-layout string supplied by
the GUI (base64 of ``QMainWindow.saveState``). No Qt here.

Reliability (DESIGN.md, "Reliability rules"):

* Text is kept exactly, including file names with bytes that are not UTF-8
  (``os.fsdecode`` turns those into lone surrogates): they are written as
  ``\\udcXX`` escapes and read back unchanged.
* JSON only: no pickle, no eval. Floats are written with ``repr`` (Python's
  json does), so a round trip is bit-for-bit exact. ``allow_nan=False`` on
  write; ``NaN``/``Infinity`` tokens and overflowing numbers (``1e999``) are
  refused on read.
* ``save_session`` writes a temporary file in the target's folder, fsyncs it
  and ``os.replace``-s it over the target: the old file survives a failure.
* ``load_session`` parses and validates the whole file (types, ranges,
  lengths, cross-field consistency) without touching any state; every
  problem is a :class:`SessionError` naming the file and the JSON path of the
  field, e.g. ``data.y[12]: label 1.5 is outside [0, 1]``.
* ``apply_session`` builds the new trainer first; only when that succeeds are
  the state's fields replaced, then each event fires once.

Format ``"format": "bceviz-session"``, ``"format_version": 1``::

    {
      "format": "bceviz-session", "format_version": 1,
      "app_version": "0.1.0",                 # informational
      "data": {"X": [[x1, x2], ...], "y": [...], "heldout": [false, ...],
               "source": "generated",
               "axes": {"names": ["x1", "x2"], "mean": [0.0, 0.0], "std": [1.0, 1.0],
                        "standardized": false, "label_name": "label"}},
      "dataset": {kind, n, noise, pos_fraction, label_noise, seed, heldout_fraction},
      "loss": {"label_smoothing", "pos_weight", "focal_gamma", "focal_alpha"},
      "features": "linear",
      "training": {optimizer, lr, l1, l2, batch_size, momentum, steps_per_frame, seed},
      "model": {"w": [...], "b": 0.0, "steps": 120,
                "history": {"step": [...], "loss": [...], "objective": [...],
                            "grad_norm": [...], "w_norm": [...], "b": [...],
                            "w": [[...], ...], "stride": 1, "last_kept": 120,
                            "provisional": false}},
      "probe": {"z": 0.847, "y": 1.0},
      "samples": {"p": [...], "y": [...], "ref_p": [...] | null},
      "threshold": 0.5,
      "view": {units, curve_axis, show_mse, ...},
      "scenario": {"id": "", "title": "", "caption": "", "panels": null | [...]},
      "layout": null | "<base64>"
    }

Every field is required, except that a field missing from ``dataset``,
``training`` or ``view``, and a missing ``data.axes``, take the app's
defaults (these grow with the app; an older session must still open).
Unknown fields are refused. A data table loaded from a file (``state.table``,
which lets the user re-choose the two feature columns) is not saved: the
points and their axes are, and re-choosing features needs the file again.
Optimizer memory (momentum velocity, Adam moments, mini-batch order) is not
saved: training continued from a session starts it afresh, which makes no
difference for gradient descent and Newton.

Ranges. Every number has one, checked on load (the message names the field
and states it) and before saving (a file bceviz writes is one it can open):

==============================  =============================================
data.X                          each coordinate within ±1e9
                                (``datafiles.COORDINATE_LIMIT``), at most
                                20,000 points
data.y, samples.*, threshold    in [0, 1]; probe.z in [-30, 30]
data.axes.mean / std            within ±1e100 / in (0, 1e100]
dataset                         n in [2, 20,000], noise [0, 5], pos_fraction
                                (0, 1), label_noise [0, 0.5], heldout_fraction
                                [0, 1), seed [0, 2**31 − 1]
loss                            label_smoothing [0, 1), pos_weight [0, 1e6],
                                focal_gamma [0, 100], focal_alpha [0, 1]
training                        lr (0, 1000], l1 and l2 [0, 1000], batch_size
                                [1, 20,000], momentum [0, 1), steps_per_frame
                                [1, 1000], seed [0, 2**31 − 1]
model.w, model.b, history w/b   within ±1e150
model.steps, history.step       [0, 10**12]; history.stride a power of two
                                up to 2**40
history loss, objective,        [0, 1e300]
grad_norm, w_norm
any other whole number / number within ±(2**31 − 1) / ±1e12
==============================  =============================================

Integer literals of more than 30 digits are refused without being converted,
a file holding more than 3,000,000 values (``MAX_VALUES``) before it is
parsed, and an object that names a key twice (JSON would keep the last).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import numpy as np

import bceviz
from bceviz.engine import datasets as _datasets
from bceviz.engine import logistic as _logistic
from bceviz.engine.losses import LossSpec
from bceviz.model import datafiles as _datafiles
from bceviz.model.atomic import ReadError, WriteError, read_regular, write_atomic

if TYPE_CHECKING:  # pragma: no cover
    from bceviz.model.state import AppState

FORMAT = "bceviz-session"
#: Format 2 adds the lab, the stage and the other labs' states (``lab``, ``stage``,
#: ``labs``); a format-1 file is the 2-D lab alone and opens as such.
FORMAT_VERSION = 2
#: Files larger than this are refused before reading (a full session is ~10 MB).
MAX_FILE_BYTES = 50 * 1024 * 1024
#: The usual file-name suffix (the GUI's file dialogs use it).
SUFFIX = ".bceviz.json"
#: A session holds at most this many JSON values (a comma separates each from the next):
#: the 2-D lab's largest (20,000 points and a full history) is ~0.5 million, the other
#: labs' states fit in the rest. A file with more commas is refused before it is parsed,
#: so a hostile file cannot make the parser build millions of objects (peak memory stays
#: within a small multiple of the file's size).
MAX_VALUES = 3_000_000
#: Integer literals longer than this many digits are refused without converting them.
MAX_DIGITS = 30

# The range of every number in a session (checked on load; messages name the field):
#: ``dataset.seed``, ``training.seed``: what NumPy seeds and Qt spin boxes hold.
MAX_SEED = 2**31 - 1
#: ``model.steps`` and every ``model.history.step``: far beyond any real run, and far
#: from the 64-bit limit that step counters live in.
MAX_STEPS = 10**12
#: ``model.w``, ``model.b`` and their history. Far beyond any weight training reaches
#: (a degree-5 feature of a coordinate at the 1e9 limit is 1e45, so one gradient step
#: can legitimately move a weight by ~1e48), and small enough that ||w||² and every
#: logit stay finite.
WEIGHT_LIMIT = 1e150
#: ``model.history`` loss, objective, gradient norm and weight norm: in [0, this].
HISTORY_LIMIT = 1e300
#: ``loss.pos_weight`` in [0, this] (the balanced weight of 20,000 points is < 20,000).
MAX_POS_WEIGHT = 1e6
#: ``loss.focal_gamma`` in [0, this].
MAX_FOCAL_GAMMA = 100.0
#: ``training.lr`` in (0, this]; ``training.l1``, ``training.l2`` in [0, MAX_PENALTY].
MAX_LEARNING_RATE = 1e3
MAX_PENALTY = 1e3
#: ``data.axes.mean`` within ± this, ``data.axes.std`` in (0, this].
AXIS_LIMIT = _datafiles.FEATURE_VALUE_LIMIT
#: A setting without a range of its own: whole numbers within ±(2**31 − 1), numbers ±1e12.
DEFAULT_INT_LIMIT = 2**31 - 1
DEFAULT_NUMBER_LIMIT = 1e12

PathLike = Union[str, "os.PathLike[str]"]


class SessionError(ValueError):
    """A session could not be saved, read or applied; ``str(err)`` is for the user.

    Attributes: ``file`` (path or None), ``field`` (JSON path such as
    ``"data.y[12]"``, or None), ``problem`` (what is wrong), and ``line`` /
    ``column`` for malformed JSON.
    """

    def __init__(self, problem: str, *, file: Optional[PathLike] = None,
                 field: Optional[str] = None, line: Optional[int] = None,
                 column: Optional[int] = None) -> None:
        self.file = os.fspath(file) if file is not None else None
        self.field = field
        self.problem = problem
        self.line = line
        self.column = column
        where = f"{field}: " if field else ""
        if self.file is not None:
            message = f"Session {self.file}: {where}{problem}"
        else:
            message = f"Session: {where}{problem}"
        super().__init__(message)


class _FieldError(Exception):
    """A validation problem at a JSON path (turned into SessionError with the file)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class _NonFinite:
    """Stands in for a NaN/Infinity token so validation can name its field."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return self.token


class _HugeInt:
    """Stands in for an integer literal of more than MAX_DIGITS digits (never converted:
    Python refuses to convert more than 4,300 digits, and no field holds such a number)."""

    def __init__(self, literal: str) -> None:
        self.digits = len(literal.lstrip("-"))
        self.negative = literal.startswith("-")

    def __repr__(self) -> str:
        return f"a {self.digits:,}-digit whole number"


def _parse_int(literal: str) -> Any:
    return int(literal) if len(literal) <= MAX_DIGITS else _HugeInt(literal)


class _DuplicateKeys(dict):
    """A JSON object in which a key appeared more than once (``duplicate`` names it)."""

    duplicate = ""


def _pairs_hook(found: list) -> Callable[[list], dict]:
    """``object_pairs_hook`` that keeps the last value (as json does) but marks duplicates."""

    def hook(pairs: list) -> dict:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        seen: set = set()
        key = ""
        for k, _ in pairs:
            if k in seen:
                key = k
                break
            seen.add(k)
        marked = _DuplicateKeys(obj)
        marked.duplicate = key
        found.append(key)
        return marked

    return hook


# ----------------------------------------------------------------------------
# The parsed session


@dataclass(frozen=True, eq=False)
class SessionData:
    """A validated session, ready for :func:`apply_session` (arrays are float64/bool copies)."""

    X: np.ndarray
    y: np.ndarray
    heldout: np.ndarray
    data_source: str
    dataset: Any  # DatasetSettings
    spec: LossSpec
    features: str
    training: Any  # TrainingSettings
    w: np.ndarray
    b: float
    steps: int
    history: dict  # arrays step, loss, objective, grad_norm, w_norm, b, w; stride, ...
    probe_z: float
    probe_y: float
    samples_p: np.ndarray
    samples_y: np.ndarray
    samples_ref_p: Optional[np.ndarray]
    threshold: float
    view: Any  # ViewOptions
    scenario_id: str
    scenario_title: str
    caption: str
    scenario_panels: Optional[tuple[str, ...]]
    layout: Optional[str]
    axes: Any = None  # DataAxes (None: the default x1, x2)
    app_version: str = ""
    file: Optional[str] = None
    #: The lab on screen when saved and its stage (format 1: the 2-D lab, its scenario).
    lab: str = "logistic2d"
    stage: str = ""
    #: Other labs' states, lab id -> that lab's own payload (validated by the lab's
    #: ``restore`` when applied; see bceviz.model.labs.base).
    labs: Any = None
    format_version: int = FORMAT_VERSION

    def layout_bytes(self) -> Optional[bytes]:
        """The GUI's window layout (``QMainWindow.restoreState`` input), or None."""
        return None if self.layout is None else base64.b64decode(self.layout)


# ----------------------------------------------------------------------------
# Writing


def _floats(a) -> list:
    return np.asarray(a, dtype=np.float64).tolist()


def _plain(value: Any) -> Any:
    """Settings as plain JSON types (a NumPy scalar from a widget would not serialise)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value


def session_to_dict(state: "AppState", *, layout: Optional[str] = None,
                    lab: str = "logistic2d", stage: Optional[str] = None,
                    labs: Optional[dict] = None) -> dict:
    """The state as a JSON-ready dict (format version 2); ``layout`` is base64 text.

    ``state`` is the 2-D lab's; ``lab`` and ``stage`` say what was on screen
    (default: the 2-D lab at its scenario), ``labs`` maps other lab ids to
    their ``to_dict()`` payloads.
    """
    if layout is not None and not isinstance(layout, str):
        raise TypeError("layout must be base64 text (str) or None")
    trainer = state.trainer
    kept = trainer.history.state_dict()  # the history's public snapshot
    steps = [int(s) for s in kept["step"]]
    provisional = bool(kept["provisional"])
    last_kept = (steps[-2] if len(steps) > 1 else 0) if provisional else (steps[-1] if steps else 0)
    history = {
        "step": steps,
        "loss": _floats(kept["loss"]),
        "objective": _floats(kept["objective"]),
        "grad_norm": _floats(kept["grad_norm"]),
        "w_norm": _floats(kept["w_norm"]),
        "b": _floats(kept["b"]),
        "w": _floats(kept["w"]),
        "stride": int(kept["stride"]),
        "last_kept": int(last_kept),
        "provisional": provisional,
    }
    ref = state.samples_ref_p
    panels = getattr(state, "scenario_panels", None)
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "app_version": bceviz.__version__,
        "data": {
            "X": _floats(state.X),
            "y": _floats(state.y),
            "heldout": [bool(h) for h in state.heldout],
            "source": str(state.data_source),
            **({"axes": _axes_to_dict(state.axes)} if getattr(state, "axes", None) is not None
               else {}),
        },
        "dataset": _plain(dataclasses.asdict(state.dataset)),
        "loss": state.spec.to_dict(),
        "features": state.features,
        "training": _plain(dataclasses.asdict(state.training)),
        "model": {
            "w": _floats(trainer.w),
            "b": float(trainer.b),
            "steps": int(trainer.steps),
            "history": history,
        },
        "probe": {"z": float(state.probe_z), "y": float(state.probe_y)},
        "samples": {
            "p": _floats(state.samples_p),
            "y": _floats(state.samples_y),
            "ref_p": None if ref is None else _floats(ref),
        },
        "threshold": float(state.threshold),
        "view": _plain(dataclasses.asdict(state.view)),
        "scenario": {
            "id": state.scenario_id,
            "title": state.scenario_title,
            "caption": state.caption,
            "panels": None if panels is None else list(panels),
        },
        "layout": layout,
        "lab": str(lab),
        "stage": str(stage if stage is not None else getattr(state, "stage_id", "")
                     or state.scenario_id),
        "labs": dict(labs or {}),
    }


def _axes_to_dict(axes) -> dict:
    return {
        "names": [str(n) for n in axes.names],
        "mean": _floats(axes.mean),
        "std": _floats(axes.std),
        "standardized": bool(axes.standardized),
        "label_name": str(axes.label_name),
    }


def _find_non_finite(obj: Any, path: str = "") -> Optional[str]:
    if isinstance(obj, float):
        return None if math.isfinite(obj) else path
    if isinstance(obj, dict):
        for k, v in obj.items():
            found = _find_non_finite(v, f"{path}.{k}" if path else str(k))
            if found:
                return found
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            found = _find_non_finite(v, f"{path}[{i}]")
            if found:
                return found
    return None


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogates(text: str) -> str:
    """JSON text with each lone surrogate as a ``\\uXXXX`` escape, so it encodes as UTF-8.

    A file name the file system gives with bytes that are not UTF-8 (a Latin-1
    ``café.csv``) reaches the state as ``os.fsdecode`` makes it: each such byte
    a lone surrogate (``'caf\\udce9.csv'``). Raw, it cannot be encoded as
    UTF-8; escaped, it is valid JSON that ``json.loads`` reads back as the very
    same string, so the name survives a save and a load unchanged. (Only
    inside JSON strings can a surrogate occur, and an escape is valid there.)
    """
    if not _LONE_SURROGATE.search(text):
        return text
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def dumps_session(state: "AppState", *, layout: Optional[str] = None, **lab_info: Any) -> str:
    """The session as JSON text: one line per section, arrays kept compact.

    ``lab_info``: ``lab``, ``stage``, ``labs`` as :func:`session_to_dict` takes them.
    """
    return _dumps(session_to_dict(state, layout=layout, **lab_info))


def _dumps(doc: dict) -> str:
    lines = []
    try:
        for key, value in doc.items():
            text = json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(", ", ": "))
            lines.append(f"  {json.dumps(key)}: {_escape_surrogates(text)}")
    except ValueError:
        bad = _find_non_finite(doc) or "?"
        raise SessionError(f"the state holds a non-finite number at {bad}; not saved") from None
    except TypeError as exc:  # a value of a type JSON cannot hold
        raise SessionError(f"the state holds a value JSON cannot store ({exc}); not saved") \
            from None
    return "{\n" + ",\n".join(lines) + "\n}\n"


def save_session(state: "AppState", path: PathLike, *, layout: Optional[str] = None,
                 **lab_info: Any) -> None:
    """Write the session atomically (:func:`bceviz.model.atomic.write_atomic`).

    Raises SessionError naming the file if it cannot be written; an existing
    file is only replaced by a complete new one, and no temporary file is left.
    The session is validated as :func:`load_session` would before anything is
    written: a file bceviz saves is one it can open (a value outside its stated
    range is refused here, naming the field, rather than found on the next load).
    """
    doc = session_to_dict(state, layout=layout, **lab_info)
    text = _dumps(doc)
    try:
        session_from_dict(doc)
    except SessionError as exc:
        where = f"{exc.field}: " if exc.field else ""
        raise SessionError(f"not saved: the state cannot be stored as a session this "
                           f"version can open ({where}{exc.problem})", file=path) from None
    try:
        write_atomic(path, text)
    except WriteError as exc:
        raise SessionError(f"cannot save: {exc.reason}", file=path) from None
    _remember_readable(path, _stamp(path))


# -- files this version can open (so an unreadable one is never overwritten) ---

#: Files this process read or wrote as valid sessions: absolute path -> stamp.
_readable: dict[str, tuple] = {}


def _stamp(path: PathLike) -> Optional[tuple]:
    """What identifies a file's present contents: device, inode, size, modification time."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _remember_readable(path: PathLike, stamp: Optional[tuple]) -> None:
    if stamp is not None:
        _readable[os.path.abspath(os.fspath(path))] = stamp


def set_aside_unreadable(path: PathLike) -> Optional[str]:
    """Before ``path`` is overwritten: if it holds a file this version cannot open, rename it.

    For the autosave: a session written by a newer bceviz (or damaged) must not
    be replaced by the default state on quit. Returns the new path
    (``<name>.unreadable-<YYYYmmdd-HHMMSS>.json`` in the same folder) when a
    file was set aside, None when there is nothing to keep (no file, or one
    this version opens; a file this process read or wrote unchanged since is
    not read again). Raises SessionError, naming both problems, when the file
    can neither be opened nor renamed: then it must not be overwritten.
    """
    fspath = os.fspath(path)
    stamp = _stamp(fspath)
    if stamp is None or _readable.get(os.path.abspath(fspath)) == stamp:
        return None
    try:
        load_session(fspath)
        return None
    except SessionError as exc:
        problem = exc.problem
    folder, name = os.path.split(os.path.abspath(fspath))
    stem = name[:-len(".json")] if name.lower().endswith(".json") else name
    when = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        candidate = os.path.join(folder, f"{stem}.unreadable-{when}"
                                         + (f"-{n}" if n > 1 else "") + ".json")
        if not os.path.lexists(candidate):
            break
    try:
        os.rename(fspath, candidate)
    except OSError as exc:
        raise SessionError(f"this version cannot open it ({problem}) and it cannot be moved "
                           f"aside ({exc.strerror or exc}): it is not overwritten",
                           file=fspath) from None
    return candidate


# ----------------------------------------------------------------------------
# Reading


def load_session(path: PathLike) -> SessionData:
    """Read and fully validate a session file; no state is touched.

    Raises SessionError (a ValueError) naming the file and the problem: a
    missing or unreadable file, one over 50 MB, bytes that are not UTF-8,
    malformed JSON (with line and column), a future format version, or any
    field that is missing, of the wrong type, out of range or inconsistent.
    """
    fspath = os.fspath(path)
    stamp = _stamp(fspath)  # before reading: a change meanwhile makes it stale, not wrong
    try:
        # Refuses folders, FIFOs, devices and sockets before opening (a FIFO would block).
        raw = read_regular(fspath, MAX_FILE_BYTES)
    except ReadError as exc:
        raise SessionError(_read_problem(exc), file=fspath) from None
    data = loads_session(raw, file=fspath)
    _remember_readable(fspath, stamp)
    return data


def _read_problem(exc: ReadError) -> str:
    limit = f"{MAX_FILE_BYTES // (1024 * 1024)} MB"
    if exc.kind == "missing":
        return "file not found"
    if exc.kind == "permission":
        return "permission denied: the file cannot be read"
    if exc.kind == "folder":
        return "this is a folder, not a session file"
    if exc.kind == "not_regular":
        return f"{exc.reason}: a session is read from a regular file only"
    if exc.kind == "too_large":
        if exc.size is not None:
            return f"the file is {exc.size / 1e6:.1f} MB; sessions over {limit} are refused"
        return f"the file is over {limit}; refused"
    return f"cannot read the file: {exc.reason}"


def loads_session(text: Union[str, bytes, bytearray], *,
                  file: Optional[PathLike] = None) -> SessionData:
    """Parse and validate session JSON text (or UTF-8 bytes)."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_FILE_BYTES:
            raise SessionError("the session is over 50 MB; refused", file=file)
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SessionError(
                f"not a text (UTF-8) file: undecodable byte at offset {exc.start}", file=file
            ) from None
    if not text.strip():
        raise SessionError("the file is empty", file=file)
    commas = text.count(",")
    if commas >= MAX_VALUES:
        raise SessionError(
            f"holds more than {MAX_VALUES:,} values ({commas:,} commas); a session holds at "
            f"most {MAX_VALUES:,} (20,000 points and a full history are about 500,000): "
            "refused before reading it", file=file)
    duplicates: list = []
    try:
        doc = json.loads(text, parse_constant=_NonFinite, parse_int=_parse_int,
                         object_pairs_hook=_pairs_hook(duplicates))
    except json.JSONDecodeError as exc:
        raise SessionError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            file=file, line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise SessionError("not a session: the JSON is nested too deeply", file=file) from None
    except (ValueError, OverflowError) as exc:  # a literal json itself cannot convert
        raise SessionError(f"not valid JSON: {exc}", file=file) from None
    data = session_from_dict(doc, file=file)
    if duplicates:  # in a part that no validator walks (another lab's payload)
        raise SessionError(f"the key {duplicates[0]!r} appears twice in one object; "
                           "a session names each field once", file=file)
    return data


def session_from_dict(doc: Any, *, file: Optional[PathLike] = None) -> SessionData:
    """Validate a decoded session document (as json.load returns it)."""
    try:
        return _parse(doc, file)
    except _FieldError as exc:
        raise SessionError(exc.problem, file=file, field=exc.path or None) from None


# -- small validators ---------------------------------------------------------


def _type_name(value: Any) -> str:
    if isinstance(value, (_NonFinite, _HugeInt)):
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "text " + (repr(value) if len(value) < 40 else repr(value[:37] + "..."))
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _obj(value: Any, path: str, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    if not isinstance(value, dict):
        raise _FieldError(path, f"expected an object, got {_type_name(value)}")
    if isinstance(value, _DuplicateKeys):
        raise _FieldError(path, f"the field {value.duplicate!r} appears twice; "
                                "each field may appear once")
    for key in keys:
        if key not in value and key not in optional:
            raise _FieldError(path, f"missing field {key!r}")
    unknown = [k for k in value if k not in keys]
    if unknown:
        raise _FieldError(path, f"unknown field {unknown[0]!r} (expected {', '.join(keys)})")
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_TOO_LARGE = "number too large (it overflows to infinity); numbers must be finite"


def _entries(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def _number(value: Any, path: str) -> float:
    if isinstance(value, _NonFinite):
        raise _FieldError(path, f"{value.token} is not allowed: numbers must be finite")
    if isinstance(value, _HugeInt):
        raise _FieldError(path, f"{value!r} is far out of range: " + _TOO_LARGE)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _FieldError(path, f"expected a number, got {_type_name(value)}")
    try:
        out = float(value)
    except OverflowError:
        raise _FieldError(path, _TOO_LARGE) from None
    if not math.isfinite(out):
        raise _FieldError(path, _TOO_LARGE)
    return out


def _ranged(value: Any, path: str, lo: float, hi: float, *, lo_open: bool = False,
            hi_open: bool = False, what: str = "value") -> float:
    v = _number(value, path)
    if (v < lo or (lo_open and v == lo)) or (v > hi or (hi_open and v == hi)):
        interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        raise _FieldError(path, f"{what} {v!r} is outside {interval}")
    return v


def _range_text(lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> str:
    def shown(v: float) -> str:
        return f"{v:,}" if isinstance(v, int) else f"{v:g}"

    return f"{'(' if lo_open else '['}{shown(lo)}, {shown(hi)}{')' if hi_open else ']'}"


def _integer(value: Any, path: str, lo: int, hi: int) -> int:
    """A whole number in [lo, hi]; every integer field states its range."""
    if isinstance(value, _HugeInt):
        side = "too small" if value.negative else "too large"
        raise _FieldError(path, f"{value!r} is {side}: allowed {_range_text(lo, hi)}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _FieldError(path, f"expected a whole number, got {_type_name(value)}")
    if value < lo:
        raise _FieldError(path, f"{value} must be >= {lo} (allowed: {_range_text(lo, hi)})")
    if value > hi:
        raise _FieldError(path, f"{value:,} is too large: allowed {_range_text(lo, hi)}")
    return value


def _bounded(value: Any, path: str, lo: float, hi: float, what: str = "") -> float:
    """A finite number in [lo, hi]; the message says the side that is wrong and the range."""
    v = _number(value, path)
    label = f"{what} " if what else ""
    if v < lo:
        raise _FieldError(path, f"{label}{v!r} must be >= {lo:g} (allowed: [{lo:g}, {hi:g}])")
    if v > hi:
        raise _FieldError(path, f"{label}{v!r} is too large: allowed [{lo:g}, {hi:g}]")
    return v


def _boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _FieldError(path, f"expected true or false, got {_type_name(value)}")
    return value


def _text(value: Any, path: str, choices: Optional[tuple[str, ...]] = None,
          max_len: int = 10_000) -> str:
    if not isinstance(value, str):
        raise _FieldError(path, f"expected text, got {_type_name(value)}")
    if choices is not None and value not in choices:
        raise _FieldError(path, f"{value!r} is not one of {', '.join(choices)}")
    if len(value) > max_len:
        raise _FieldError(path, f"text longer than {max_len} characters")
    return value


def _list(value: Any, path: str, length: Optional[int] = None,
          length_of: str = "") -> list:
    if not isinstance(value, list):
        raise _FieldError(path, f"expected a list, got {_type_name(value)}")
    if length is not None and len(value) != length:
        raise _FieldError(
            path, f"has {_entries(len(value))} but {length_of} {length}"
            if length_of else f"has {_entries(len(value))}, expected {length}")
    return value


_NUMBER_TYPES = (int, float)


def _vector(value: Any, path: str, length: Optional[int] = None, length_of: str = "",
            check: Optional[Callable[[np.ndarray], Optional[int]]] = None,
            problem: str = "") -> np.ndarray:
    """A list of finite numbers as float64; ``check`` returns the first bad index or None."""
    items = _list(value, path, length, length_of)
    if not all(type(v) in _NUMBER_TYPES for v in items):
        for i, v in enumerate(items):
            _number(v, f"{path}[{i}]")
    try:
        arr = np.array(items, dtype=np.float64)
    except OverflowError:
        for i, v in enumerate(items):
            _number(v, f"{path}[{i}]")
        raise  # pragma: no cover - one of them overflows
    arr = arr.reshape(len(items))
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise _FieldError(f"{path}[{i}]", _TOO_LARGE)
    if check is not None:
        found = check(arr)
        if found is not None:
            raise _FieldError(f"{path}[{found}]", problem.format(value=items[found]))
    return arr


def _first(mask: np.ndarray) -> Optional[int]:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else None


def _unit_vector(value: Any, path: str, what: str, length: Optional[int] = None,
                 length_of: str = "") -> np.ndarray:
    return _vector(value, path, length, length_of,
                   check=lambda a: _first((a < 0.0) | (a > 1.0)),
                   problem=what + " {value!r} is outside [0, 1]")


def _matrix(value: Any, path: str, rows: Optional[int], cols: int, rows_of: str = "", *,
            limit: Optional[float] = None, problem: str = "") -> np.ndarray:
    """A list of rows of ``cols`` finite numbers; with ``limit``, each within ±limit
    (``problem`` formats the refusal with ``{value}``)."""
    items = _list(value, path, rows, rows_of)
    out = np.empty((len(items), cols), dtype=np.float64)
    for i, row in enumerate(items):
        if not (isinstance(row, list) and len(row) == cols
                and all(type(v) in _NUMBER_TYPES for v in row)):
            if not isinstance(row, list):
                raise _FieldError(f"{path}[{i}]", f"expected a list of {cols} numbers, "
                                                  f"got {_type_name(row)}")
            if len(row) != cols:
                raise _FieldError(f"{path}[{i}]",
                                  f"has {len(row)} numbers, expected {cols}")
            for j, v in enumerate(row):
                _number(v, f"{path}[{i}][{j}]")
        try:
            out[i] = row
        except OverflowError:
            for j, v in enumerate(row):
                _number(v, f"{path}[{i}][{j}]")
    bad = np.argwhere(~np.isfinite(out))
    if bad.size:
        i, j = (int(v) for v in bad[0])
        raise _FieldError(f"{path}[{i}][{j}]", _TOO_LARGE)
    if limit is not None:
        bad = np.argwhere(np.abs(out) > limit)
        if bad.size:
            i, j = (int(v) for v in bad[0])
            raise _FieldError(f"{path}[{i}][{j}]", problem.format(value=items[i][j]))
    return out


# -- sections -------------------------------------------------------------------

_TOP_KEYS = ("format", "format_version", "app_version", "data", "dataset", "loss", "features",
             "training", "model", "probe", "samples", "threshold", "view", "scenario", "layout")
#: Format 2's additions (absent from format 1: the 2-D lab, at its scenario, alone).
_LAB_KEYS = ("lab", "stage", "labs")


def _parse(doc: Any, file: Optional[PathLike]) -> SessionData:
    from bceviz.model import state as _state  # the state module imports the engine

    if not isinstance(doc, dict):
        raise _FieldError("", f"not a bceviz session: the file holds {_type_name(doc)}, "
                              "not an object")
    if doc.get("format") != FORMAT:
        found = doc.get("format")
        raise _FieldError("format", "not a bceviz session (expected \"format\": "
                                    f"\"{FORMAT}\", found {_type_name(found)})")
    version = doc.get("format_version")
    if isinstance(version, _HugeInt):
        raise _FieldError("format_version", f"{version!r} is not a valid format version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise _FieldError("format_version", f"expected a whole number, got {_type_name(version)}")
    if version > FORMAT_VERSION:
        raise _FieldError(
            "", f"written by a newer bceviz (format {version}); this one reads up to "
                f"{FORMAT_VERSION}. Update bceviz to open it.")
    if version < 1:
        raise _FieldError("format_version", f"{version} is not a valid format version")
    _obj(doc, "", _TOP_KEYS + _LAB_KEYS, optional=_LAB_KEYS)
    lab_id = _text(doc.get("lab", "logistic2d"), "lab", max_len=64)
    stage_id = _text(doc.get("stage", ""), "stage", max_len=64)
    labs = doc.get("labs", {})
    if not isinstance(labs, dict) or not all(isinstance(v, dict) for v in labs.values()):
        raise _FieldError("labs", "expected an object of lab id -> lab state objects")
    app_version = _text(doc["app_version"], "app_version", max_len=100)

    # data
    data = _obj(doc["data"], "data", ("X", "y", "heldout", "source", "axes"),
                optional=("axes",))
    limit = _datafiles.COORDINATE_LIMIT
    X = _matrix(data["X"], "data.X", None, 2, limit=limit,
                problem=f"coordinate {{value!r}} is outside [-{limit:g}, {limit:g}] (rescale "
                        "the data: coordinates beyond that make the model's numbers overflow)")
    n = X.shape[0]
    if n > _state.MAX_POINTS:
        raise _FieldError("data.X", f"{n:,} points; at most {_state.MAX_POINTS:,} are allowed")
    y = _unit_vector(data["y"], "data.y", "label", n, "data.X has")
    heldout_list = _list(data["heldout"], "data.heldout", n, "data.X has")
    for i, h in enumerate(heldout_list):
        if not isinstance(h, bool):
            raise _FieldError(f"data.heldout[{i}]", f"expected true or false, got {_type_name(h)}")
    heldout = np.array(heldout_list, dtype=bool).reshape(n)
    if n == 0:
        raise _FieldError("data.X", "no points: a session needs at least one training point")
    if heldout.all():
        raise _FieldError("data.heldout",
                          "every point is held out: at least one must be a training point")
    source = _text(data["source"], "data.source", max_len=1000)
    axes = _parse_axes(data["axes"], "data.axes", _state) if "axes" in data else None

    dataset = _dataclass_section(doc["dataset"], "dataset", _state.DatasetSettings, {
        "kind": lambda v, p: _text(v, p, _datasets.DATASET_KINDS),
        "n": lambda v, p: _integer(v, p, 2, _state.MAX_POINTS),
        "noise": lambda v, p: _ranged(v, p, 0.0, 5.0),
        "pos_fraction": lambda v, p: _ranged(v, p, 0.0, 1.0, lo_open=True, hi_open=True),
        "label_noise": lambda v, p: _ranged(v, p, 0.0, 0.5),
        "seed": lambda v, p: _integer(v, p, 0, MAX_SEED),
        "heldout_fraction": lambda v, p: _ranged(v, p, 0.0, 1.0, hi_open=True),
    })

    # loss
    loss = _obj(doc["loss"], "loss", ("label_smoothing", "pos_weight", "focal_gamma",
                                      "focal_alpha"))
    eps = _ranged(loss["label_smoothing"], "loss.label_smoothing", 0.0, 1.0, hi_open=True)
    pos_weight = _bounded(loss["pos_weight"], "loss.pos_weight", 0.0, MAX_POS_WEIGHT)
    gamma = _bounded(loss["focal_gamma"], "loss.focal_gamma", 0.0, MAX_FOCAL_GAMMA)
    alpha = (None if loss["focal_alpha"] is None
             else _ranged(loss["focal_alpha"], "loss.focal_alpha", 0.0, 1.0))
    try:
        spec = LossSpec(label_smoothing=eps, pos_weight=pos_weight, focal_gamma=gamma,
                        focal_alpha=alpha)
    except ValueError as exc:  # pragma: no cover - ranges are checked above
        raise _FieldError("loss", str(exc)) from None

    features = _text(doc["features"], "features", tuple(_logistic.FEATURE_KINDS))
    d = _logistic.n_features(features)

    training = _dataclass_section(doc["training"], "training", _state.TrainingSettings, {
        "optimizer": lambda v, p: _text(v, p, tuple(_state.OPTIMIZERS)),
        "lr": lambda v, p: _positive(v, p, "learning rate", MAX_LEARNING_RATE),
        "l1": lambda v, p: _bounded(v, p, 0.0, MAX_PENALTY),
        "l2": lambda v, p: _bounded(v, p, 0.0, MAX_PENALTY),
        "batch_size": lambda v, p: None if v is None else _integer(v, p, 1, _state.MAX_POINTS),
        "momentum": lambda v, p: _ranged(v, p, 0.0, 1.0, hi_open=True),
        "steps_per_frame": lambda v, p: _integer(v, p, 1, 1000),
        "seed": lambda v, p: _integer(v, p, 0, MAX_SEED),
    })

    # model
    model = _obj(doc["model"], "model", ("w", "b", "steps", "history"))
    w = _vector(model["w"], "model.w", d, f"features {features!r} have", check=_weight_check,
                problem=_WEIGHT_PROBLEM)
    b = _bounded(model["b"], "model.b", -WEIGHT_LIMIT, WEIGHT_LIMIT, what="weight")
    steps = _integer(model["steps"], "model.steps", 0, MAX_STEPS)
    history = _parse_history(model["history"], "model.history", d, steps, w, b)

    # probe, samples, threshold
    probe = _obj(doc["probe"], "probe", ("z", "y"))
    probe_z = _ranged(probe["z"], "probe.z", -_state.PROBE_Z_LIMIT, _state.PROBE_Z_LIMIT,
                      what="logit")
    probe_y = _ranged(probe["y"], "probe.y", 0.0, 1.0, what="label")
    samples = _obj(doc["samples"], "samples", ("p", "y", "ref_p"))
    samples_p = _unit_vector(samples["p"], "samples.p", "prediction")
    m = len(samples_p)
    if m > 64:
        raise _FieldError("samples.p", f"{m} pairs; the samples panel holds at most 64")
    samples_y = _unit_vector(samples["y"], "samples.y", "label", m, "samples.p has")
    ref_p = (None if samples["ref_p"] is None
             else _unit_vector(samples["ref_p"], "samples.ref_p", "prediction", m,
                               "samples.p has"))
    threshold = _ranged(doc["threshold"], "threshold", 0.0, 1.0, what="threshold")

    view = _dataclass_section(doc["view"], "view", _state.ViewOptions, {
        "units": lambda v, p: _text(v, p, ("nats", "bits")),
        "curve_axis": lambda v, p: _text(v, p, ("p", "z")),
        "curves": lambda v, p: _text(v, p, _state.CURVE_CHOICES),
        "metrics_plot": lambda v, p: _text(v, p, _state.METRICS_PLOTS),
        "loss_y_max": lambda v, p: _bounded(v, p, 0.0, 1000.0),
        "samples_loss_max": lambda v, p: _bounded(v, p, 0.0, 1000.0),
    })

    scenario = _obj(doc["scenario"], "scenario", ("id", "title", "caption", "panels"))
    scenario_id = _text(scenario["id"], "scenario.id", max_len=200)
    scenario_title = _text(scenario["title"], "scenario.title", max_len=1000)
    caption = _text(scenario["caption"], "scenario.caption")
    panels_raw = scenario["panels"]
    panels: Optional[tuple[str, ...]] = None
    if panels_raw is not None:
        from bceviz.model.scenarios import PANEL_IDS

        # An unknown id would hide every panel: refuse it (the ids the window knows).
        panels = tuple(_text(v, f"scenario.panels[{i}]", PANEL_IDS)
                       for i, v in enumerate(_list(panels_raw, "scenario.panels")))

    layout = doc["layout"]
    if layout is not None:
        layout = _text(layout, "layout", max_len=MAX_FILE_BYTES)
        try:
            base64.b64decode(layout, validate=True)
        except (binascii.Error, ValueError):
            raise _FieldError("layout", "not base64 text (the window layout is unreadable)") \
                from None

    return SessionData(
        X=X, y=y, heldout=heldout, data_source=source, dataset=dataset, spec=spec,
        features=features, training=training, w=w, b=b, steps=steps, history=history,
        probe_z=probe_z, probe_y=probe_y, samples_p=samples_p, samples_y=samples_y,
        samples_ref_p=ref_p, threshold=threshold, view=view, scenario_id=scenario_id,
        scenario_title=scenario_title, caption=caption, scenario_panels=panels,
        layout=layout, axes=axes, app_version=app_version,
        file=os.fspath(file) if file is not None else None,
        lab=lab_id, stage=stage_id or scenario_id, labs=dict(labs), format_version=version,
    )


def _parse_axes(value: Any, path: str, state_module: Any) -> Any:
    obj = _obj(value, path, ("names", "mean", "std", "standardized", "label_name"))
    names = tuple(_text(v, f"{path}.names[{i}]", max_len=1000)
                  for i, v in enumerate(_list(obj["names"], f"{path}.names", 2)))
    mean = _vector(obj["mean"], f"{path}.mean", 2,
                   check=lambda a: _first(np.abs(a) > AXIS_LIMIT),
                   problem=f"mean {{value!r}} is outside [-{AXIS_LIMIT:g}, {AXIS_LIMIT:g}]")
    std = _vector(obj["std"], f"{path}.std", 2,
                  check=lambda a: _first(~((a > 0) & (a <= AXIS_LIMIT))),
                  problem=f"std {{value!r}} is outside (0, {AXIS_LIMIT:g}]")
    return state_module.DataAxes(
        names=names, mean=(float(mean[0]), float(mean[1])), std=(float(std[0]), float(std[1])),
        standardized=_boolean(obj["standardized"], f"{path}.standardized"),
        label_name=_text(obj["label_name"], f"{path}.label_name", max_len=1000))


def _positive(value: Any, path: str, what: str, hi: float) -> float:
    v = _number(value, path)
    if not v > 0:
        raise _FieldError(path, f"{what} must be > 0, got {v!r} (allowed: (0, {hi:g}])")
    if v > hi:
        raise _FieldError(path, f"{what} {v!r} is too large: allowed (0, {hi:g}]")
    return v


def _weight_check(a: np.ndarray) -> Optional[int]:
    """model.w, model.history w and b: the first weight beyond ±WEIGHT_LIMIT, or None."""
    return _first(np.abs(a) > WEIGHT_LIMIT)


_WEIGHT_PROBLEM = f"weight {{value!r}} is outside [-{WEIGHT_LIMIT:g}, {WEIGHT_LIMIT:g}]"


def _dataclass_section(value: Any, path: str, cls: type, validators: dict) -> Any:
    """A settings dataclass from an object; missing fields take the dataclass default.

    Fields without an explicit validator are checked against their default's
    type (bool, whole number, number, text).
    """
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields)
    obj = _obj(value, path, names, optional=names)
    defaults = cls()
    kwargs = {}
    for name in names:
        if name not in obj:
            continue
        fpath = _join(path, name)
        raw = obj[name]
        if name in validators:
            kwargs[name] = validators[name](raw, fpath)
            continue
        default = getattr(defaults, name)
        int_limit, number_limit = DEFAULT_INT_LIMIT, DEFAULT_NUMBER_LIMIT
        if isinstance(default, bool):
            kwargs[name] = _boolean(raw, fpath)
        elif isinstance(default, int):
            kwargs[name] = _integer(raw, fpath, -int_limit, int_limit)
        elif isinstance(default, float):
            kwargs[name] = _bounded(raw, fpath, -number_limit, number_limit)
        elif isinstance(default, str):
            kwargs[name] = _text(raw, fpath)
        elif default is None:
            kwargs[name] = None if raw is None else _bounded(raw, fpath, -number_limit,
                                                             number_limit)
        else:  # pragma: no cover - no such field today
            raise _FieldError(fpath, "cannot be read by this version")
    return dataclasses.replace(defaults, **kwargs)


_HISTORY_KEYS = ("step", "loss", "objective", "grad_norm", "w_norm", "b", "w",
                 "stride", "last_kept", "provisional")


def _parse_history(value: Any, path: str, d: int, steps: int, w: np.ndarray, b: float) -> dict:
    hist = _obj(value, path, _HISTORY_KEYS)
    step_list = _list(hist["step"], f"{path}.step")
    k = len(step_list)
    if k == 0:
        raise _FieldError(f"{path}.step", "empty: the history holds at least the current step")
    capacity = _logistic.HISTORY_CAPACITY
    if k > capacity:
        raise _FieldError(f"{path}.step", f"{k} records; at most {capacity} are kept")
    for i, s in enumerate(step_list):
        _integer(s, f"{path}.step[{i}]", 0, MAX_STEPS)
    step = np.array(step_list, dtype=np.int64)
    if k > 1:
        bad = _first(np.diff(step) <= 0)
        if bad is not None:
            raise _FieldError(f"{path}.step[{bad + 1}]",
                              f"steps must increase, but {step[bad + 1]} follows {step[bad]}")
    if int(step[-1]) != steps:
        raise _FieldError(f"{path}.step[{k - 1}]",
                          f"the newest record is step {int(step[-1])} but model.steps is {steps}")
    out: dict[str, Any] = {"step": step}
    of = f"{path}.step has"
    for name in ("loss", "objective", "grad_norm", "w_norm"):
        out[name] = _vector(hist[name], f"{path}.{name}", k, of)
        low = _first(out[name] < 0)
        if low is not None:
            raise _FieldError(f"{path}.{name}[{low}]", f"{out[name][low]!r} must be >= 0")
        high = _first(out[name] > HISTORY_LIMIT)
        if high is not None:
            raise _FieldError(f"{path}.{name}[{high}]",
                              f"{out[name][high]!r} is too large: allowed [0, {HISTORY_LIMIT:g}]")
    out["b"] = _vector(hist["b"], f"{path}.b", k, of, check=_weight_check,
                       problem=_WEIGHT_PROBLEM)
    out["w"] = _matrix(hist["w"], f"{path}.w", k, d, of, limit=WEIGHT_LIMIT,
                       problem=_WEIGHT_PROBLEM)
    if not (np.array_equal(out["w"][-1], w) and out["b"][-1] == b):
        raise _FieldError(f"{path}.w[{k - 1}]",
                          "the newest record does not match the model's weights model.w, model.b")
    stride = _integer(hist["stride"], f"{path}.stride", 1, 2**40)
    if stride & (stride - 1):
        raise _FieldError(f"{path}.stride", f"{stride} is not a power of two")
    out["stride"] = stride
    out["last_kept"] = _integer(hist["last_kept"], f"{path}.last_kept", 0, max(steps, 0))
    out["provisional"] = _boolean(hist["provisional"], f"{path}.provisional")
    return out


# ----------------------------------------------------------------------------
# Applying


def _build_trainer(data: SessionData):
    """A trainer at the session's weights, step count and history (may raise ValueError)."""
    train = ~data.heldout
    t = data.training
    trainer = _logistic.Trainer(
        _logistic.make_features(data.X[train], data.features), data.y[train], data.spec,
        optimizer=t.optimizer, lr=t.lr, l2=t.l2, l1=t.l1, batch_size=t.batch_size,
        momentum=t.momentum, seed=t.seed, w0=data.w, b0=data.b,
    )
    _restore_history(trainer, data.steps, data.history)
    return trainer


def _restore_history(trainer, steps: int, history: dict) -> None:
    """Put a saved step count and history into a fresh trainer (engine's public restore)."""
    state = {k: v for k, v in history.items() if k != "last_kept"}
    trainer.restore(int(steps), state)


def apply_session(state: "AppState", data: Union[SessionData, dict]) -> None:
    """Make ``state`` the saved session (a SessionData, or a raw dict to validate).

    All or nothing: the session is validated and its trainer built before the
    state is touched, so on SessionError the state is exactly as before.
    Training is paused. Events fire once each afterwards (data ``kind="reset"``,
    weights ``reason="reset", source="session"``, ...). The layout is not
    applied here: the GUI reads ``data.layout_bytes()``.
    """
    if not isinstance(data, SessionData):
        data = session_from_dict(data)
    try:
        trainer = _build_trainer(data)
    except ValueError as exc:
        raise SessionError(f"cannot be applied: {exc}", file=data.file) from None

    from bceviz.model.state import DataAxes, StateSnapshot

    snap = StateSnapshot(
        X=data.X, y=data.y, heldout=data.heldout, data_source=data.data_source,
        axes=data.axes if data.axes is not None else DataAxes(),
        table=None,  # the loaded table is not part of a session
        dataset=data.dataset, spec=data.spec, features=data.features, training=data.training,
        trainer=trainer, probe_z=data.probe_z, probe_y=data.probe_y, samples_p=data.samples_p,
        samples_y=data.samples_y, samples_ref_p=data.samples_ref_p, threshold=data.threshold,
        view=data.view, scenario_id=data.scenario_id, scenario_title=data.scenario_title,
        caption=data.caption, scenario_panels=data.scenario_panels)
    name = Path(data.file).name if data.file else "session"
    state.apply_snapshot(snap, source="session",
                         status=f"Session {name} loaded ({data.steps} training steps)")


def encode_layout(raw: bytes) -> str:
    """Base64 text of the GUI's ``QMainWindow.saveState()`` bytes, for ``layout=``."""
    return base64.b64encode(bytes(raw)).decode("ascii")


__all__ = [
    "FORMAT", "FORMAT_VERSION", "MAX_FILE_BYTES", "SUFFIX", "SessionData", "SessionError",
    "apply_session", "dumps_session", "encode_layout", "load_session", "loads_session",
    "save_session", "session_from_dict", "session_to_dict", "set_aside_unreadable",
]
