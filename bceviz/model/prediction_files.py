"""Reading a real model's outputs (scores and labels, one example a row) for the predictions lab.

A file of model outputs holds, per example, a **score** — a logit (any finite
number) or a probability in [0, 1] — and a **label** in [0, 1] (0/1, or soft),
optionally a **split** (train / validation / test) and an **id**. Formats:

* CSV text (comma, semicolon or tab; header optional), read with the same
  rules and messages as every bceviz data file (``bceviz.model.datafiles``):
  UTF-8 with or without a byte-order mark, ``#`` comment lines and blank
  lines skipped, quoted fields, each problem named by file, line and column,
  e.g. ``preds.csv, line 7, column 2: 'abc' is not a number``.
* NumPy ``.npy``: a 2-D numeric array with columns score, label and
  optionally a split code (0 train, 1 validation, 2 test), or a structured
  array with named fields; ``.npz``: named 1-D arrays. Never unpickled
  (``allow_pickle=False``); array headers are checked before any data is read.

Which column is which: a header (or array/field names) says it, case-insensitive —
``logit``/``logits``/``z``/``log_odds``/``margin`` for logits, ``prob``/``p``/
``probability``/``proba``/``y_prob`` for probabilities, ``score``/``pred``/
``prediction``/``output`` for either (then decided by the values: all in
[0, 1] reads as probabilities), the label as ``label``/``target``/``class``/
``y``/``y_true``/..., ``split``/``set``/``subset``/``partition``, ``id``/
``name``/``example``/``sample``/...; other columns are ignored (and said so).
Without a header the two numeric columns are score and label, in that order,
and text columns are the split (when every cell is a split name) or the id.
:class:`ReadOptions` lets the user say which column is which and whether the
scores are logits or probabilities.

Limits, stated in the refusal: at most :data:`MAX_ROWS` (10⁶) examples,
:data:`MAX_BYTES` on disk, |logit| <= :data:`MAX_ABS_LOGIT`, ids up to
:data:`ID_CHARS` characters (longer ones are cut, and said so).

The readers are pure functions returning a :class:`ModelOutputs`: a refused
file returns nothing, so the caller's state is untouched by construction.
``progress(fraction)``, if given, is called with increasing fractions in
(0, 1]; returning ``False`` cancels (a :class:`DataFileError` "loading cancelled").

:func:`demo_predictions` makes the bundled demo files: cross-validated logits
of bceviz's own logistic regression on the breast-cancer data (see
``resources/data/README.md``).
"""

from __future__ import annotations

import io
import math
import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Union

import numpy as np

from bceviz.model.atomic import ReadError, read_regular, write_atomic
from bceviz.model.datafiles import (
    LABEL_NAMES,
    DataFileError,
    _cell_problem,
    _is_number,
    _read_problem,
    _read_text,
    _sniff,
    _split,
)

__all__ = [
    "DEMO_FILES",
    "ID_CHARS",
    "KINDS",
    "MAX_ABS_LOGIT",
    "MAX_BYTES",
    "MAX_ROWS",
    "SPLITS",
    "ModelOutputs",
    "ReadOptions",
    "demo_predictions",
    "looks_like_model_outputs",
    "read_model_outputs",
    "write_demo_files",
]

PathLike = Union[str, "os.PathLike[str]"]
Progress = Optional[Callable[[float], object]]

#: At most this many examples (rows) in a file.
MAX_ROWS = 1_000_000
#: At most this many bytes on disk (a 10⁶-row CSV with ids and splits is about 40 MB).
MAX_BYTES = 200_000_000
#: Logits beyond ±this are refused (every loss stays exact to |z| = 1e6).
MAX_ABS_LOGIT = 1e6
#: Ids are kept up to this many characters.
ID_CHARS = 40
#: The splits a split column may name, in code order (0, 1, 2).
SPLITS: tuple[str, ...] = ("train", "validation", "test")
#: Whether scores are read as logits or probabilities ("auto": the header or the values say).
KINDS: tuple[str, ...] = ("auto", "logit", "prob")

LOGIT_NAMES = ("logit", "logits", "z", "log_odds", "logodds", "margin", "decision_function",
               "raw_score", "logit_score")
PROB_NAMES = ("prob", "probs", "p", "probability", "proba", "y_prob", "y_proba", "prob_1",
              "p1", "predicted_probability", "pred_prob")
EITHER_NAMES = ("score", "scores", "pred", "prediction", "predictions", "y_pred", "output",
                "y_score")
LABEL_COLUMN_NAMES = LABEL_NAMES + ("labels", "y_true", "truth", "true", "actual", "outcome")
SPLIT_NAMES = ("split", "set", "subset", "partition", "fold", "dataset", "phase")
ID_NAMES = ("id", "ids", "example", "example_id", "name", "key", "sample", "sample_id", "row_id",
            "uid", "index", "case", "case_id")
_SPLIT_WORDS = {"train": 0, "training": 0, "trn": 0, "validation": 1, "valid": 1, "val": 1,
                "dev": 1, "development": 1, "test": 2, "testing": 2, "tst": 2}
#: Every spelling a split cell is looked up by in the fast path (lower, UPPER, Title).
_SPLIT_LOOKUP = {v: c for w, c in _SPLIT_WORDS.items() for v in (w, w.upper(), w.title())}
#: Label cells read by lookup in the fast path.
_HARD_LABELS = {"0": 0.0, "1": 1.0, "0.0": 0.0, "1.0": 1.0}
#: Characters per chunk of a CSV file (a chunk ends at a line end).
_CHUNK_CHARS = 1 << 20


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ReadOptions:
    """What the user says about a file: the kind of score and which column is which.

    kind: "auto" (the header or the values decide), "logit" or "prob".
    score, label, split, id: a column's header name or 1-based number (for
    arrays: the field or array name, or the 1-based column of a 2-D array);
    None finds it by name. ``split``/``id`` may be "" to ignore such a column.
    """

    kind: str = "auto"
    score: Union[str, int, None] = None
    label: Union[str, int, None] = None
    split: Union[str, int, None] = None
    id: Union[str, int, None] = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        for name in ("score", "label", "split", "id"):
            value = getattr(self, name)
            if value is None or (isinstance(value, str) and len(value) <= 200):
                continue
            if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                continue
            raise ValueError(f"{name} must be a column name, a 1-based column number or None, "
                             f"got {value!r}")

    def to_dict(self) -> dict:
        return {"kind": self.kind, "score": self.score, "label": self.label,
                "split": self.split, "id": self.id}


@dataclass(frozen=True, eq=False)
class ModelOutputs:
    """One file's examples, in the file's order.

    ``scores`` (n,) float64 as read: logits when ``kind == "logit"``,
    probabilities in [0, 1] when ``kind == "prob"`` (0 and 1 allowed: the lab
    shows them at a framework's cap). ``labels`` (n,) in [0, 1]. ``split``:
    (n,) int8 codes into :data:`SPLITS`, or None. ``ids``: (n,) str or bytes
    array, or None. ``columns`` maps each role ("score", "label", "split",
    "id") to the column it came from; ``kind_reason`` says why the scores
    were read as they were; ``notes`` are things the user should know
    (ignored columns, cut ids). ``source`` is the path.
    """

    scores: np.ndarray
    kind: str
    labels: np.ndarray
    split: Optional[np.ndarray]
    ids: Optional[np.ndarray]
    source: str
    columns: dict = field(default_factory=dict)
    kind_reason: str = ""
    notes: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return int(self.labels.size)

    @property
    def name(self) -> str:
        return Path(self.source).name or self.source


# --------------------------------------------------------------------------- columns


def _folded(name: str) -> str:
    return name.strip().casefold().replace(" ", "_").replace("-", "_")


def _find(names: list[str], candidates: tuple[str, ...], taken: set[int]) -> Optional[int]:
    folded = [_folded(n) for n in names]
    for cand in candidates:
        for j, f in enumerate(folded):
            if f == cand and j not in taken:
                return j
    return None


def _named(path: PathLike, names: list[str], given: Union[str, int, None], role: str,
           taken: set[int]) -> Optional[int]:
    """The column the user named for ``role`` (name or 1-based number), or None if not given."""
    if given is None or given == "":
        return None
    if isinstance(given, int):
        if not 1 <= given <= len(names):
            raise DataFileError(path, None, None, f"the {role} column {given} does not exist: "
                                f"there are {len(names)} columns")
        j = given - 1
    else:
        exact = [j for j, n in enumerate(names) if n == given]
        folded = [j for j, n in enumerate(names) if _folded(n) == _folded(given)]
        found = exact or folded
        if not found:
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise DataFileError(path, None, None, f"no column named {given!r} for the {role}; "
                                f"columns: {shown}")
        j = found[0]
    if j in taken:
        raise DataFileError(path, None, j + 1, f"column {names[j]!r} cannot be the {role} too")
    return j


@dataclass
class _Roles:
    """0-based columns of each role (None: absent), the kind and why."""

    score: int
    label: int
    split: Optional[int]
    id: Optional[int]
    kind: str  # "logit", "prob" or "auto" (decided by the values later)
    reason: str
    ignored: list[int]


def _roles_from_names(path: PathLike, names: list[str], options: ReadOptions) -> _Roles:
    taken: set[int] = set()
    score = _named(path, names, options.score, "score", taken)
    kind, reason = options.kind, ""
    if score is not None:
        taken.add(score)
    if score is None:
        for cands, k in ((LOGIT_NAMES, "logit"), (PROB_NAMES, "prob"), (EITHER_NAMES, "auto")):
            score = _find(names, cands, taken)
            if score is not None:
                if kind == "auto":
                    kind = k
                    reason = (f"the column is named {names[score]!r}" if k != "auto" else "")
                taken.add(score)
                break
    if score is None:
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        raise DataFileError(path, None, None,
                            "no score column: name it 'logit' (or 'logits') for logits, 'prob' "
                            f"for probabilities, or 'score'; columns: {shown}")
    label = _named(path, names, options.label, "label", taken)
    if label is None:
        label = _find(names, LABEL_COLUMN_NAMES, taken)
    if label is None:
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        raise DataFileError(path, None, None,
                            f"no label column: name it 'label' (or 'y', 'target'); columns: {shown}")
    taken.add(label)
    split = _named(path, names, options.split, "split", taken)
    if split is None and options.split is None:
        split = _find(names, SPLIT_NAMES, taken)
    if split is not None:
        taken.add(split)
    ident = _named(path, names, options.id, "id", taken)
    if ident is None and options.id is None:
        ident = _find(names, ID_NAMES, taken)
    if ident is not None:
        taken.add(ident)
    if options.kind != "auto":
        reason = "you said so"
    ignored = [j for j in range(len(names)) if j not in taken]
    return _Roles(score, label, split, ident, kind, reason, ignored)


def _roles_without_header(path: PathLike, line: int, cells: list[str], options: ReadOptions
                          ) -> _Roles:
    n = len(cells)
    names = [f"column{j + 1}" for j in range(n)]
    given = [options.score, options.label, options.split, options.id]
    if any(isinstance(g, str) and g for g in given):
        raise DataFileError(path, line, None, "the file has no header line, so columns can only "
                            "be chosen by number (1, 2, ...)")
    numeric = [j for j, c in enumerate(cells) if _is_number(c)]
    text = [j for j, c in enumerate(cells) if not _is_number(c)]
    taken: set[int] = set()
    score = _named(path, names, options.score, "score", taken)
    if score is not None:
        taken.add(score)
    label = _named(path, names, options.label, "label", taken)
    if label is not None:
        taken.add(label)
    free = [j for j in numeric if j not in taken]
    if score is None:
        if not free:
            raise DataFileError(path, line, None, "no numeric column for the score")
        score = free.pop(0)
        taken.add(score)
    if label is None:
        if not free:
            raise DataFileError(path, line, None,
                                "found one numeric column; expected two: a score and a label")
        label = free.pop(0)
        taken.add(label)
    if free and options.score is None:
        raise DataFileError(path, line, None,
                            f"found {len(numeric)} numeric columns and no header; without a "
                            "header a file has two numeric columns (score, label): name the "
                            "columns in a header line (e.g. logit,label)")
    split = _named(path, names, options.split, "split", taken)
    ident = _named(path, names, options.id, "id", taken)
    for j in text:
        if j in taken or j in (split, ident):
            continue
        if split is None and options.split is None and \
                cells[j].strip().casefold() in _SPLIT_WORDS:
            split = j
        elif ident is None and options.id is None:
            ident = j
    taken.update(j for j in (split, ident) if j is not None)
    ignored = [j for j in range(n) if j not in taken]
    kind = options.kind
    return _Roles(score, label, split, ident, kind,
                  "you said so" if kind != "auto" else "", ignored)


# --------------------------------------------------------------------------- CSV


def _content_prefix(text: str, keep: int) -> tuple[list[int], list[str], list[int]]:
    """Line numbers, stripped texts and end offsets of the first ``keep`` content lines."""
    numbers: list[int] = []
    texts: list[str] = []
    ends: list[int] = []
    pos, line = 0, 1
    size = len(text)
    while pos < size and len(numbers) < keep:
        end = text.find("\n", pos)
        end = size if end < 0 else end
        stripped = text[pos:end].strip()
        if stripped and not stripped.startswith("#"):
            numbers.append(line)
            texts.append(stripped)
            ends.append(end + 1)
        pos = end + 1
        line += 1
    return numbers, texts, ends


class _Sink:
    """Per-chunk arrays of each role, and each chunk's line numbers, gathered for the end."""

    def __init__(self) -> None:
        self.scores: list[np.ndarray] = []
        self.labels: list[np.ndarray] = []
        self.split: list[np.ndarray] = []
        self.ids: list[np.ndarray] = []
        self.lines: list[np.ndarray] = []
        self.rows = 0


def _value_checks(path: PathLike, kind: str, scores: np.ndarray, labels: np.ndarray,
                  roles: _Roles, line_of: Callable[[int], int],
                  cell_of: Callable[[int, int], str]) -> None:
    """The first bad score or label of a block (in file order), as a DataFileError."""
    bad_score = ~np.isfinite(scores)
    if kind == "prob":
        with np.errstate(invalid="ignore"):
            bad_score |= ~((scores >= 0.0) & (scores <= 1.0))
    else:
        with np.errstate(invalid="ignore"):
            bad_score |= np.abs(scores) > MAX_ABS_LOGIT
    with np.errstate(invalid="ignore"):
        bad_label = ~((labels >= 0.0) & (labels <= 1.0))
    first = []
    if bad_score.any():
        first.append((int(np.flatnonzero(bad_score)[0]), roles.score, "score"))
    if bad_label.any():
        first.append((int(np.flatnonzero(bad_label)[0]), roles.label, "label"))
    if not first:
        return
    r, col, role = min(first, key=lambda t: (t[0], t[1]))
    cell = cell_of(r, col)
    value = scores[r] if role == "score" else labels[r]
    if not math.isfinite(value):
        message = _cell_problem(cell)
    elif role == "label":
        message = f"label {cell!r} is outside [0, 1] (labels are 0/1 or soft, in [0, 1])"
    elif kind == "prob":
        message = (f"probability {cell!r} is outside [0, 1]; if the scores are logits, say "
                   "so (or name the column 'logit')")
    else:
        message = f"logit {cell!r} is beyond ±{MAX_ABS_LOGIT:g}"
    raise DataFileError(path, line_of(r), col + 1, message)


def _split_codes(path: PathLike, cells: list[str], line_of: Callable[[int], int],
                 column: int) -> np.ndarray:
    codes = list(map(_SPLIT_LOOKUP.get, cells))
    if None in codes:
        for r, (cell, code) in enumerate(zip(cells, codes)):
            if code is None:
                code = _SPLIT_WORDS.get(cell.strip().casefold())
                if code is None:
                    raise DataFileError(path, line_of(r), column,
                                        f"{cell.strip()[:40]!r} is not a split: train, "
                                        "validation or test")
                codes[r] = code
    return np.array(codes, dtype=np.int8)


def _id_array(cells: list[str]) -> np.ndarray:
    """Ids as a fixed-width array: bytes (one a character) when ASCII, else str; cut to ID_CHARS."""
    joined = "".join(cells)
    if " " in joined or "\t" in joined:
        cells = [c.strip() for c in cells]
    if joined.isascii():
        arr = np.array(cells, dtype="S") if cells else np.array([], dtype="S1")
        width = arr.dtype.itemsize
    else:
        arr = np.array(cells, dtype=str)
        width = arr.dtype.itemsize // 4
    if width > ID_CHARS:
        arr = arr.astype(f"{arr.dtype.kind}{ID_CHARS}")
    return arr


def _fast_chunk(path: PathLike, chunk: str, first_line: int, ncol: int, delim: str,
                roles: _Roles, kind: str, sink: _Sink) -> bool:
    """Parse a chunk of plain lines in bulk; False when it needs the line-by-line path.

    Plain: no quotes, no comments, every line with exactly ``ncol - 1``
    delimiters (checked on the bytes), numeric cells in ASCII without digit
    separators. Value problems are reported here with their line and column.
    """
    if '"' in chunk or "#" in chunk:
        return False
    raw = np.frombuffer(chunk.encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(raw == 10)
    marks = np.flatnonzero(raw == ord(delim))
    per_line = np.diff(np.searchsorted(marks, ends), prepend=0)
    if per_line.size == 0 or np.any(per_line != ncol - 1):
        return False
    rows = int(ends.size)
    cells = chunk.replace(delim, "\n").split("\n")
    cells.pop()  # after the chunk's last line end
    if len(cells) != rows * ncol:
        return False
    columns = {}
    for role, col in (("score", roles.score), ("label", roles.label)):
        column = cells[col::ncol]
        joined = "".join(column)
        if "_" in joined or not joined.isascii():
            return False
        if role == "label":  # hard labels by lookup: three times faster than float()
            try:
                columns[role] = np.fromiter(map(_HARD_LABELS.__getitem__, column), np.float64,
                                            rows)
                continue
            except KeyError:
                pass
        try:
            columns[role] = np.fromiter(map(float, column), np.float64, rows)
        except ValueError:
            return False

    def line_of(r: int) -> int:
        return first_line + r

    def cell_of(r: int, c: int) -> str:
        return cells[r * ncol + c].strip()

    _value_checks(path, kind, columns["score"], columns["label"], roles, line_of, cell_of)
    if roles.split is not None:
        sink.split.append(_split_codes(path, cells[roles.split::ncol], line_of, roles.split + 1))
    if roles.id is not None:
        sink.ids.append(_id_array(cells[roles.id::ncol]))
    sink.scores.append(columns["score"])
    sink.labels.append(columns["label"])
    sink.lines.append(np.arange(first_line, first_line + rows, dtype=np.int64))
    sink.rows += rows
    return True


def _slow_chunk(path: PathLike, chunk: str, first_line: int, ncol: int,
                delim: Optional[str], roles: _Roles, kind: str, sink: _Sink,
                like: str) -> None:
    """Parse a chunk line by line (quotes, comments, blank lines), raising at the first problem."""
    scores: list[float] = []
    labels: list[float] = []
    splits: list[str] = []
    ids: list[str] = []
    lines: list[int] = []
    texts: list[list[str]] = []
    for offset, line_text in enumerate(chunk.split("\n")[:-1]):
        stripped = line_text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        number = first_line + offset
        cells = _split(stripped, delim)
        if len(cells) != ncol:
            _flush_checks(path, kind, scores, labels, roles, lines, texts)
            column = len(cells) + 1 if len(cells) < ncol else ncol + 1
            raise DataFileError(path, number, column, f"row has {len(cells)} fields; expected "
                                f"{ncol} like {like}")
        for col in (roles.score, roles.label):
            if not _is_number(cells[col]):
                _flush_checks(path, kind, scores, labels, roles, lines, texts)
                raise DataFileError(path, number, col + 1, _cell_problem(cells[col]))
        scores.append(float(cells[roles.score]))
        labels.append(float(cells[roles.label]))
        if roles.split is not None:
            splits.append(cells[roles.split])
        if roles.id is not None:
            ids.append(cells[roles.id])
        lines.append(number)
        texts.append(cells)
    _flush_checks(path, kind, scores, labels, roles, lines, texts)
    line_arr = np.array(lines, dtype=np.int64)
    if roles.split is not None:
        sink.split.append(_split_codes(path, splits, lambda r: int(line_arr[r]), roles.split + 1))
    if roles.id is not None:
        sink.ids.append(_id_array(ids))
    sink.scores.append(np.array(scores, dtype=np.float64))
    sink.labels.append(np.array(labels, dtype=np.float64))
    sink.lines.append(line_arr)
    sink.rows += len(lines)


def _flush_checks(path: PathLike, kind: str, scores: list[float], labels: list[float],
                  roles: _Roles, lines: list[int], texts: list[list[str]]) -> None:
    """Value checks of the rows parsed so far (an earlier bad value is reported first)."""
    if not scores:
        return
    _value_checks(path, kind, np.array(scores), np.array(labels), roles,
                  lambda r: lines[r], lambda r, c: texts[r][c])


def _read_csv(path: PathLike, options: ReadOptions, progress: Progress) -> ModelOutputs:
    text = _read_text(path, MAX_BYTES)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    numbers, texts, ends = _content_prefix(text, 21)
    if not numbers:
        raise DataFileError(path, None, None, "no data rows (only comments and blank lines)")
    delim = _sniff(texts[:20])
    first_cells = _split(texts[0], delim)
    has_header = any(first_cells) and not any(_is_number(c) for c in first_cells)
    ncol = len(first_cells)
    if ncol < 2:
        raise DataFileError(path, numbers[0], None,
                            "found 1 column (no comma, semicolon or tab separates the fields); "
                            "expected at least two: a score and a label")
    if has_header:
        if len(numbers) < 2:
            raise DataFileError(path, None, None,
                                f"has a header (line {numbers[0]}) but no data rows")
        names = [c or f"column{j}" for j, c in enumerate(first_cells, start=1)]
        seen: dict[str, int] = {}
        for j, name in enumerate(names, start=1):
            if name in seen:
                raise DataFileError(path, numbers[0], j,
                                    f"duplicate column name {name!r} (also column {seen[name]})")
            seen[name] = j
        roles = _roles_from_names(path, names, options)
        body_start, body_line, like = ends[0], numbers[0] + 1, f"the header (line {numbers[0]})"
    else:
        names = [f"column{j}" for j in range(1, ncol + 1)]
        roles = _roles_without_header(path, numbers[0], first_cells, options)
        body_start, body_line, like = 0, 1, f"line {numbers[0]}"
    # The row limit, checked before parsing: one newline per row at most.
    upper = text.count("\n", body_start)
    if upper > MAX_ROWS:
        rows = upper - sum(1 for _ in _blank_or_comment_lines(text, body_start, MAX_ROWS + 1))
        if rows > MAX_ROWS:
            raise DataFileError(path, None, None,
                                f"more than {MAX_ROWS:,} data rows (the limit); the file has "
                                f"{rows:,}")
    kind = roles.kind
    sink = _Sink()
    pos, line = body_start, body_line
    size = len(text)
    while pos < size:
        end = text.find("\n", min(pos + _CHUNK_CHARS, size - 1)) + 1
        end = size if end <= 0 else end
        chunk = text[pos:end]
        parsed = delim is not None and _fast_chunk(path, chunk, line, ncol, delim, roles,
                                                   "prob" if kind == "prob" else "logit", sink)
        if not parsed:
            _slow_chunk(path, chunk, line, ncol, delim, roles,
                        "prob" if kind == "prob" else "logit", sink, like)
        line += chunk.count("\n")
        pos = end
        if progress is not None and pos < size and progress(0.95 * pos / size) is False:
            raise DataFileError(path, None, None, "loading cancelled")
    if sink.rows == 0:
        raise DataFileError(path, None, None, "no data rows (only comments and blank lines)")
    scores = np.concatenate(sink.scores)
    labels = np.concatenate(sink.labels)
    lines = np.concatenate(sink.lines)
    split = np.concatenate(sink.split) if roles.split is not None else None
    ids = _join_ids(sink.ids) if roles.id is not None else None
    del text
    return _finish(path, scores, labels, split, ids, roles, names, kind,
                   lambda r: (int(lines[r]), roles.score + 1), progress)


def _blank_or_comment_lines(text: str, start: int, limit: int):
    """Blank and comment lines after ``start`` (only for an over-long file's refusal)."""
    pos = start
    size = len(text)
    count = 0
    while pos < size and count < 10 * limit:
        end = text.find("\n", pos)
        end = size if end < 0 else end
        stripped = text[pos:end].strip()
        if not stripped or stripped.startswith("#"):
            yield end
        pos = end + 1
        count += 1


def _join_ids(parts: list[np.ndarray]) -> np.ndarray:
    if not parts:
        return np.array([], dtype="S1")
    if any(p.dtype.kind == "U" for p in parts):  # some chunk had non-ASCII ids: all as str
        parts = [np.char.decode(p, "ascii") if p.dtype.kind == "S" else p for p in parts]
    return np.concatenate(parts)


def _finish(path: PathLike, scores: np.ndarray, labels: np.ndarray, split: Optional[np.ndarray],
            ids: Optional[np.ndarray], roles: _Roles, names: list[str], kind: str,
            where: Callable[[int], tuple[Optional[int], Optional[int]]],
            progress: Progress) -> ModelOutputs:
    """Decide an "auto" kind from the values, check the logits' range, build the result."""
    reason = roles.reason
    if kind == "auto":
        inside = bool(np.all((scores >= 0.0) & (scores <= 1.0)))
        kind = "prob" if inside else "logit"
        reason = ("every score is in [0, 1], so they are read as probabilities" if inside
                  else "some scores are outside [0, 1], so they are read as logits")
    if kind == "logit":
        big = np.abs(scores) > MAX_ABS_LOGIT
        if big.any():
            r = int(np.flatnonzero(big)[0])
            line, column = where(r)
            raise DataFileError(path, line, column,
                                f"logit {scores[r]!r} is beyond ±{MAX_ABS_LOGIT:g}")
    notes = []
    if roles.ignored:
        shown = ", ".join(repr(names[j]) for j in roles.ignored[:6])
        notes.append(f"ignored column{'s' if len(roles.ignored) > 1 else ''} {shown}"
                     + (" and more" if len(roles.ignored) > 6 else ""))
    if ids is not None and ids.dtype.itemsize // (4 if ids.dtype.kind == "U" else 1) >= ID_CHARS:
        notes.append(f"ids are shown up to {ID_CHARS} characters")
    columns = {"score": names[roles.score], "label": names[roles.label]}
    if roles.split is not None:
        columns["split"] = names[roles.split]
    if roles.id is not None:
        columns["id"] = names[roles.id]
    for arr in (scores, labels, split, ids):
        if arr is not None:
            arr.flags.writeable = False
    if progress is not None and progress(1.0) is False:
        raise DataFileError(path, None, None, "loading cancelled")
    return ModelOutputs(scores=scores, kind=kind, labels=labels, split=split, ids=ids,
                        source=str(path), columns=columns, kind_reason=reason,
                        notes=tuple(notes))


# --------------------------------------------------------------------------- NumPy files

_ALLOWED_KINDS = "biuf"


def _check_header(path: PathLike, name: str, shape: tuple, dtype: np.dtype, *,
                  text_ok: bool) -> None:
    """Refuse an array before reading it: its shape, size and dtype come from the header."""
    if dtype.hasobject:
        raise DataFileError(path, None, None, f"array {name!r} holds Python objects; bceviz "
                            "never unpickles files: save numbers (or text) only")
    kinds = _ALLOWED_KINDS + ("US" if text_ok else "")
    if dtype.names is None and dtype.kind not in kinds:
        raise DataFileError(path, None, None, f"array {name!r} has dtype {dtype}; expected "
                            "numbers" + (" or text" if text_ok else ""))
    if dtype.kind in "US" and dtype.itemsize > 1024:
        raise DataFileError(path, None, None, f"array {name!r} holds text over 256 characters "
                            "a cell")
    rows = shape[0] if shape else 1
    if rows > MAX_ROWS:
        raise DataFileError(path, None, None, f"array {name!r} has {rows:,} rows; the limit is "
                            f"{MAX_ROWS:,}")
    if int(np.prod(shape, dtype=np.int64)) * max(dtype.itemsize, 1) > 16 * MAX_BYTES:
        raise DataFileError(path, None, None, f"array {name!r} is too large")


def _header_of(path: PathLike, name: str, stream) -> tuple[tuple, np.dtype]:
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
    except (ValueError, OSError, EOFError) as exc:
        raise DataFileError(path, None, None, f"array {name!r} is not a valid .npy array "
                            f"({exc})") from None
    return tuple(shape), np.dtype(dtype)


def _column_values(path: PathLike, name: str, values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise DataFileError(path, None, None, f"array {name!r} must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind not in _ALLOWED_KINDS:
        raise DataFileError(path, None, None, f"array {name!r} must hold numbers, "
                            f"got dtype {arr.dtype}")
    return np.array(arr, dtype=np.float64)


def _array_split(path: PathLike, name: str, values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind in "US":
        words = np.char.lower(np.char.strip(arr.astype(str)))
        codes = np.full(arr.shape, -1, dtype=np.int8)
        for word, code in _SPLIT_WORDS.items():
            codes[words == word] = code
        bad = np.flatnonzero(codes < 0)
        if bad.size:
            r = int(bad[0])
            raise DataFileError(path, None, None, f"array {name!r}, row {r + 1}: "
                                f"{str(arr[r])[:40]!r} is not a split: train, validation or test")
        return codes
    numbers = np.asarray(arr, dtype=np.float64)
    ok = np.isin(numbers, (0.0, 1.0, 2.0))
    if not ok.all():
        r = int(np.flatnonzero(~ok)[0])
        raise DataFileError(path, None, None, f"array {name!r}, row {r + 1}: split code "
                            f"{numbers[r]!r} is not 0 (train), 1 (validation) or 2 (test)")
    return numbers.astype(np.int8)


def _array_ids(values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        arr = np.char.mod("%d", arr) if arr.dtype.kind in "biu" else arr.astype(str)
    if arr.dtype.kind == "S":
        arr = np.char.decode(arr, "utf-8", "replace")
    return _join_ids([_id_array(list(arr.astype(str)))])


def _from_named(path: PathLike, arrays: dict[str, np.ndarray], options: ReadOptions,
                progress: Progress) -> ModelOutputs:
    """Named 1-D arrays (an .npz, or a structured array's fields) as ModelOutputs."""
    names = list(arrays)
    roles = _roles_from_names(path, names, options)
    lengths = {n: np.asarray(a).shape[:1] for n, a in arrays.items()}
    used = [j for j in (roles.score, roles.label, roles.split, roles.id) if j is not None]
    n = lengths[names[roles.score]]
    for j in used:
        if lengths[names[j]] != n:
            raise DataFileError(path, None, None,
                                f"arrays {names[roles.score]!r} and {names[j]!r} have different "
                                f"lengths ({n[0] if n else 0:,} and "
                                f"{lengths[names[j]][0] if lengths[names[j]] else 0:,})")
    scores = _column_values(path, names[roles.score], arrays[names[roles.score]])
    labels = _column_values(path, names[roles.label], arrays[names[roles.label]])
    if scores.size == 0:
        raise DataFileError(path, None, None, "no examples (the arrays are empty)")
    split = None if roles.split is None else \
        _array_split(path, names[roles.split], arrays[names[roles.split]])
    ids = None if roles.id is None else _array_ids(arrays[names[roles.id]])
    kind = roles.kind if roles.kind != "auto" or options.kind == "auto" else options.kind
    _array_value_checks(path, names, roles, scores, labels, kind)
    return _finish(path, scores, labels, split, ids, roles, names, kind,
                   lambda r: (None, None), progress)


def _array_value_checks(path: PathLike, names: list[str], roles: _Roles, scores: np.ndarray,
                        labels: np.ndarray, kind: str) -> None:
    def where(r: int, c: int) -> str:
        return f"{scores[r]!r}" if c == roles.score else f"{labels[r]!r}"

    try:
        _value_checks(path, "prob" if kind == "prob" else "logit", scores, labels, roles,
                      lambda r: r + 1, where)
    except DataFileError as exc:
        column = (exc.column or 1) - 1
        raise DataFileError(path, None, None, f"array {names[column]!r}, row {exc.line}: "
                            f"{exc.message}") from None


def _read_npy(path: PathLike, raw: Union[bytes, bytearray], options: ReadOptions, progress: Progress
              ) -> ModelOutputs:
    stream = io.BytesIO(raw)
    shape, dtype = _header_of(path, Path(str(path)).name, stream)
    _check_header(path, "the array", shape, dtype, text_ok=False)
    stream.seek(0)
    try:
        arr = np.load(stream, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataFileError(path, None, None, f"cannot read the array: {exc}") from None
    if progress is not None and progress(0.5) is False:
        raise DataFileError(path, None, None, "loading cancelled")
    if arr.dtype.names is not None:
        if arr.ndim != 1:
            raise DataFileError(path, None, None, f"a structured array must be 1-D, got shape "
                                f"{arr.shape}")
        return _from_named(path, {name: arr[name] for name in arr.dtype.names}, options,
                           progress)
    if arr.ndim != 2 or not 2 <= arr.shape[1] <= 3:
        raise DataFileError(path, None, None,
                            f"the array has shape {arr.shape}; expected (n, 2) or (n, 3): "
                            "score, label and optionally a split code 0/1/2, or a structured "
                            "array with named fields")
    names = ["score", "label", "split"][:arr.shape[1]]
    columns = {name: arr[:, j] for j, name in enumerate(names)}
    if options.kind == "auto":
        options = ReadOptions(kind="auto", score=1, label=2, split=3 if arr.shape[1] == 3 else "")
    else:
        options = ReadOptions(kind=options.kind, score=1, label=2,
                              split=3 if arr.shape[1] == 3 else "")
    return _from_named(path, columns, options, progress)


def _read_npz(path: PathLike, raw: Union[bytes, bytearray], options: ReadOptions, progress: Progress
              ) -> ModelOutputs:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        members = [m for m in archive.namelist() if m.endswith(".npy")]
        for member in members:
            with archive.open(member) as stream:
                shape, dtype = _header_of(path, member[:-4], stream)
            _check_header(path, member[:-4], shape, dtype, text_ok=True)
    except zipfile.BadZipFile as exc:
        raise DataFileError(path, None, None, f"is not a valid .npz file ({exc})") from None
    if not members:
        raise DataFileError(path, None, None, "the .npz file holds no arrays")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataFileError(path, None, None, f"cannot read the arrays: {exc}") from None
    if progress is not None and progress(0.5) is False:
        raise DataFileError(path, None, None, "loading cancelled")
    return _from_named(path, arrays, options, progress)


# --------------------------------------------------------------------------- entry points


def read_model_outputs(path: PathLike, options: Optional[ReadOptions] = None, *,
                       progress: Progress = None) -> ModelOutputs:
    """Read a file of model outputs (CSV, .npy or .npz) into :class:`ModelOutputs`.

    The format comes from the file's first bytes (the NumPy and zip magic),
    else it is CSV text. Raises :class:`DataFileError` naming the file (and
    the line and column for CSV) for anything it cannot use; a refusal
    returns nothing.
    """
    options = ReadOptions() if options is None else options
    try:
        head = _head(path, 8)
    except ReadError as exc:
        raise DataFileError(path, None, None, _read_problem(exc, MAX_BYTES)) from None
    if head.startswith(b"\x93NUMPY") or head.startswith(b"PK\x03\x04"):
        try:
            raw = read_regular(path, MAX_BYTES)
        except ReadError as exc:
            raise DataFileError(path, None, None, _read_problem(exc, MAX_BYTES)) from None
        if progress is not None and progress(0.1) is False:
            raise DataFileError(path, None, None, "loading cancelled")
        reader = _read_npy if head.startswith(b"\x93NUMPY") else _read_npz
        return reader(path, raw, options, progress)
    return _read_csv(path, options, progress)


def _head(path: PathLike, size: int) -> bytes:
    """The first ``size`` bytes of a regular file (ReadError otherwise)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ReadError(path, "missing", "file not found") from None
    except PermissionError:
        raise ReadError(path, "permission", "permission denied") from None
    except OSError as exc:
        raise ReadError(path, "other", exc.strerror or str(exc)) from None
    if stat.S_ISDIR(info.st_mode):
        raise ReadError(path, "folder", "is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise ReadError(path, "not_regular", "is not a regular file (a device, pipe or socket)")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb", buffering=0) as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ReadError(path, "not_regular", "is not a regular file")
            return handle.read(size)
    except ReadError:
        raise
    except PermissionError:
        raise ReadError(path, "permission", "permission denied") from None
    except OSError as exc:
        raise ReadError(path, "other", exc.strerror or str(exc)) from None


def looks_like_model_outputs(path: PathLike) -> bool:
    """True when a file is probably model outputs (so ``--data`` opens the predictions lab).

    A NumPy file, or text whose first content line is a header naming a score
    column (logit, prob, score, ...) and a label column. Never raises: an
    unreadable file is False (the reader then says what is wrong).
    """
    try:
        head = _head(path, 65536)
    except ReadError:
        return False
    if head.startswith(b"\x93NUMPY") or head.startswith(b"PK\x03\x04"):
        return True
    try:
        text = head.decode("utf-8-sig", errors="ignore").lstrip("\ufeff")
    except UnicodeDecodeError:  # pragma: no cover - errors are ignored
        return False
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.strip() for line in text.split("\n")[:-1] if line.strip()
             and not line.strip().startswith("#")]
    if not lines:
        return False
    delim = _sniff(lines[:20])
    cells = [_folded(c) for c in _split(lines[0], delim)]
    if any(_is_number(c) for c in cells):
        return False
    has_score = any(c in LOGIT_NAMES + PROB_NAMES + EITHER_NAMES for c in cells)
    has_label = any(c in LABEL_COLUMN_NAMES for c in cells)
    return has_score and has_label and len(cells) <= 8


# --------------------------------------------------------------------------- the demo

#: The bundled demo files (resources/data): key -> (file name, logit multiplier, title).
DEMO_FILES: dict[str, tuple[str, float, str]] = {
    "breast_cancer_cv": ("predictions_breast_cancer_cv.csv", 1.0,
                         "Breast cancer: cross-validated logits (bceviz's own model)"),
    "breast_cancer_overconfident": ("predictions_breast_cancer_overconfident.csv", 3.0,
                                    "Breast cancer: the same logits × 3 (over-confident)"),
}
#: How the demo was made (the lab states it; resources/data/README.md repeats it).
DEMO_L2 = 0.002
DEMO_FOLDS = 5
DEMO_SEED = 0
DEMO_VALIDATION_FOLDS = 2


def demo_predictions(multiplier: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                       np.ndarray]:
    """(ids, logits, labels, split codes) of the demo: 5-fold cross-validated predictions.

    bceviz's own logistic regression (``bceviz.engine.logistic.fit_logistic``,
    Newton, L2 = 0.002 on the mean loss, i.e. scikit-learn's C ≈ 1.1) on all
    30 features of resources/data/breast_cancer_wisconsin.csv (569 tumours,
    212 malignant = 1), each feature standardised with its training folds'
    mean and standard deviation. Folds: a permutation by
    ``numpy.random.default_rng(0)`` cut into 5 near-equal parts; each
    example's logit comes from the model fitted on the other 4 folds. Folds 1
    and 2 are the "validation" split, folds 3–5 "test". ``multiplier``
    scales the logits (3 gives the over-confident copy). Ids are the rows'
    1-based numbers in the breast-cancer file.
    """
    from bceviz.engine.logistic import fit_logistic
    from bceviz.model.datafiles import read_table_csv
    from bceviz.resources import resource_path

    table = read_table_csv(resource_path("data", "breast_cancer_wisconsin.csv"))
    label_col = table.column_index("malignant")
    X = np.delete(table.data, label_col, axis=1)
    y = table.data[:, label_col].copy()
    n = y.size
    perm = np.random.default_rng(DEMO_SEED).permutation(n)
    folds = np.array_split(perm, DEMO_FOLDS)
    logits = np.empty(n)
    split = np.empty(n, dtype=np.int8)
    for k, test_rows in enumerate(folds):
        train_rows = np.setdiff1d(perm, test_rows)
        mean = X[train_rows].mean(axis=0)
        std = X[train_rows].std(axis=0)
        fit = fit_logistic((X[train_rows] - mean) / std, y[train_rows], l2=DEMO_L2)
        logits[test_rows] = ((X[test_rows] - mean) / std) @ fit.w + fit.b
        split[test_rows] = 1 if k < DEMO_VALIDATION_FOLDS else 2
    ids = np.arange(1, n + 1)
    return ids, multiplier * logits, y, split


def demo_csv_text(multiplier: float = 1.0) -> str:
    """The demo file's text: ``id,logit,label,split`` with 17 significant digits."""
    ids, logits, labels, split = demo_predictions(multiplier)
    lines = ["# Demo model outputs made by bceviz (see resources/data/README.md):",
             "# 5-fold cross-validated logits of an L2 logistic regression (l2 = 0.002) on",
             "# the 30 standardised features of breast_cancer_wisconsin.csv"
             + (f", times {multiplier:g} (over-confident on purpose)." if multiplier != 1.0
                else "."),
             "id,logit,label,split"]
    for i, z, y, s in zip(ids.tolist(), logits.tolist(), labels.tolist(), split.tolist()):
        lines.append(f"{i},{z:.17g},{int(y)},{SPLITS[s]}")
    return "\n".join(lines) + "\n"


def write_demo_files(folder: PathLike) -> list[Path]:
    """Write both demo files into ``folder`` (atomically); returns their paths.

    ``python -c "from bceviz.model.prediction_files import write_demo_files;
    write_demo_files('resources/data')"`` regenerates the bundled copies; a
    test checks they equal what :func:`demo_predictions` makes.
    """
    out = []
    for name, multiplier, _title in DEMO_FILES.values():
        target = Path(folder) / name
        write_atomic(target, demo_csv_text(multiplier))
        out.append(target)
    return out
