"""Reading and writing the data files bceviz uses, with validation that says what and where.

Every data file the app reads goes through here. A problem raises
:class:`DataFileError` (a ``ValueError``) naming the file, the 1-based line and
column where they apply, and what is wrong, e.g.
``points.csv, line 7, column 2: 'abc' is not a number``. The readers are pure
functions: a refused file returns nothing, so the caller's state is untouched by
construction (nothing half-loaded).

What a file may look like:

* UTF-8 text, with or without a byte-order mark; ``\\n``, ``\\r\\n`` or ``\\r``
  line ends.
* Fields separated by comma, semicolon or tab, sniffed from the first 20
  content lines: the separator that splits every one of them into the same
  number of fields wins, tab before semicolon before comma (so ``1,5;2,5;1``
  is semicolon-separated and its decimal commas are reported, never split).
  Fields may be quoted (``"x 1"``), not spread over several lines.
* An optional header: the first content line is a header when none of its
  cells reads as a number (a mixed line is data, so a typo in the first row is
  reported where it is, not swallowed as column names).
* Lines whose first non-blank character is ``#`` and blank lines are skipped;
  whitespace around cells is ignored.
* Every cell a finite number (no NaN, no infinity, no empty cell); Python's
  float syntax (``1``, ``-2.5``, ``1e-3``), no digit separators.
* Labels in [0, 1]; soft labels are allowed. Where a class is needed (the
  ``require_both_classes`` flag) a label at or above 0.5 counts as class 1,
  as ``bceviz.engine.metrics.hard_labels`` reads it.

Limits are stated in the refusal: ``max_bytes`` (default 50 MB) is checked
before reading, ``max_rows`` (default 200,000 data rows; 1,000 for the samples
panel's pairs) before parsing.

``progress(fraction)``, if given, is called with increasing fractions in
(0, 1] as rows are parsed: every ~5 % (and at least 5,000 rows apart) for large
files, and with 1.0 once the file has been read successfully. Returning
``False`` from it cancels the load (a ``DataFileError`` saying so).
"""

from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import numpy as np

from bceviz.model.atomic import ReadError, WriteError, read_regular, write_atomic
from bceviz.resources import resource_path

__all__ = [
    "DataFileError",
    "PointsData",
    "Table",
    "read_points_csv",
    "read_table_csv",
    "select_features",
    "read_pairs_csv",
    "load_breast_cancer",
    "write_points_csv",
    "DEFAULT_MAX_ROWS",
    "DEFAULT_MAX_BYTES",
    "COORDINATE_LIMIT",
    "FEATURE_VALUE_LIMIT",
    "PAIRS_MAX_ROWS",
    "LABEL_NAMES",
    "PROBABILITY_NAMES",
]

PathLike = Union[str, "os.PathLike[str]"]
Progress = Optional[Callable[[float], object]]

DEFAULT_MAX_ROWS = 200_000
DEFAULT_MAX_BYTES = 50_000_000
#: Point coordinates (as the app holds them: after standardisation, when standardised)
#: must lie within ±COORDINATE_LIMIT. Beyond about 1e154 the squares in a gradient norm
#: overflow to infinity, and the degree-5 features (x⁵, and x¹⁰ in Newton's Hessian)
#: overflow far earlier; 1e9 keeps every figure of every feature map finite with room
#: to spare (x¹⁰ summed over 20,000 points is below 1e95) while leaving raw units such
#: as incomes or populations usable. Data in larger units must be rescaled.
COORDINATE_LIMIT = 1e9
#: A table column used as a standardised feature: every value within ±1e100, so its
#: mean and standard deviation are finite (the squares of larger values overflow).
FEATURE_VALUE_LIMIT = 1e100
#: The samples panel draws each pair as a draggable dot; more is not a "handful".
PAIRS_MAX_ROWS = 1_000
#: Header names (case-insensitive) that mark the label column, most specific first.
LABEL_NAMES = ("label", "target", "class", "malignant", "y")
#: Header names (case-insensitive) that mark the probability column of a pairs file.
PROBABILITY_NAMES = ("p", "prob", "proba", "probability", "prediction", "pred", "score")

_DELIMITERS = ("\t", ";", ",")
_DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma", None: "none"}
_SNIFF_LINES = 20
_PROGRESS_MIN_ROWS = 5_000
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+(?:[eE][+-]?\d+)?$", re.ASCII)
_QUOTED = re.compile(r'"[^"]*"')


# --------------------------------------------------------------------------- results


class DataFileError(ValueError):
    """A data file that cannot be used, and where: ``path``, ``line``, ``column``, ``message``.

    ``line`` and ``column`` are 1-based, or None where they do not apply (a
    missing file, a limit, a whole column). ``str()`` reads
    ``"file.csv, line 7, column 2: 'abc' is not a number"`` with the file's
    name (``path`` keeps the full path).
    """

    def __init__(
        self, path: PathLike, line: Optional[int], column: Optional[int], message: str
    ) -> None:
        super().__init__(str(path), line, column, message)
        self.path = str(path)
        self.line = line
        self.column = column
        self.message = message

    def __str__(self) -> str:
        parts = [Path(self.path).name or self.path]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        return ", ".join(parts) + ": " + self.message


@dataclass(frozen=True, eq=False)
class PointsData:
    """2-D points with labels, ready for the data panel.

    ``X`` (n, 2) float64 features, standardised when ``standardized`` is true;
    ``y`` (n,) float64 labels in [0, 1] (soft allowed). ``feature_mean`` and
    ``feature_std`` (each (2,)) convert back to the file's units:
    ``original = X * feature_std + feature_mean`` (0 and 1 when not
    standardised). ``source`` is the path (or a description) it came from.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, str]
    label_name: str
    source: str
    feature_mean: np.ndarray = field(default_factory=lambda: np.zeros(2))
    feature_std: np.ndarray = field(default_factory=lambda: np.ones(2))
    standardized: bool = False

    @property
    def n(self) -> int:
        return int(self.y.shape[0])

    def to_original_units(self, X: np.ndarray) -> np.ndarray:
        """Features (..., 2) in this data's (possibly standardised) units, back in file units."""
        return np.asarray(X, dtype=np.float64) * self.feature_std + self.feature_mean

    def to_model_units(self, X_original: np.ndarray) -> np.ndarray:
        """Features (..., 2) in file units, in this data's (possibly standardised) units."""
        return (np.asarray(X_original, dtype=np.float64) - self.feature_mean) / self.feature_std


@dataclass(frozen=True, eq=False)
class Table:
    """A numeric table read from a file: ``data`` (n, k) float64 under ``columns``.

    ``line_numbers`` (n,) holds each row's 1-based line in the file, so a later
    check (e.g. of a chosen label column) can still say where. Without a header
    the columns are named ``column1``, ``column2``, ...
    """

    columns: list[str]
    data: np.ndarray
    source: str
    line_numbers: np.ndarray
    has_header: bool = True
    delimiter: Optional[str] = ","

    def column_index(self, name: Union[str, int]) -> int:
        """0-based index of a column given by name (exact, then case-insensitive) or index."""
        if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
            if 0 <= name < len(self.columns):
                return int(name)
            raise DataFileError(
                self.source, None, None,
                f"no column {name} (0-based); the table has {len(self.columns)} columns",
            )
        if name in self.columns:
            return self.columns.index(name)
        folded = [c.casefold() for c in self.columns]
        if folded.count(str(name).casefold()) == 1:
            return folded.index(str(name).casefold())
        shown = ", ".join(self.columns[:12]) + (", ..." if len(self.columns) > 12 else "")
        raise DataFileError(self.source, None, None, f"no column named {name!r}; columns: {shown}")

    def column(self, name: Union[str, int]) -> np.ndarray:
        """One column as a new (n,) array."""
        return self.data[:, self.column_index(name)].copy()


# --------------------------------------------------------------------------- reading text


def _size_text(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 1e5 else f"{int(n_bytes):,} bytes"


def _limit_text(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:g} MB" if n_bytes >= 1e5 else f"{n_bytes:,} bytes"


def _read_text(path: PathLike, max_bytes: int) -> str:
    """The file's text, or DataFileError for anything that stops it being CSV text."""
    try:
        # Refuses folders, FIFOs, devices and sockets before opening (a FIFO would block).
        raw = read_regular(path, max_bytes)
    except ReadError as exc:
        raise DataFileError(path, None, None, _read_problem(exc, max_bytes)) from None
    if not raw:
        raise DataFileError(path, None, None, "file is empty")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataFileError(
            path, None, None, "is UTF-16 text; save it as UTF-8 (e.g. Excel's 'CSV UTF-8')"
        )
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise DataFileError(
            path, raw.count(b"\n", 0, nul) + 1, None,
            "contains NUL bytes: this looks like a binary file, not CSV text",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataFileError(
            path, line, None,
            f"is not UTF-8 text (byte 0x{raw[exc.start]:02X} cannot be decoded); "
            "save the file as UTF-8",
        ) from None
    # A file saved twice by an editor that adds a byte-order mark may start with two:
    # the rest must not become part of the first column's name.
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise DataFileError(path, None, None, "file is empty")
    return text


def _read_problem(exc: ReadError, max_bytes: int) -> str:
    if exc.kind == "missing":
        return "file not found"
    if exc.kind == "permission":
        return "cannot be read: permission denied"
    if exc.kind == "folder":
        return "is a folder, not a file"
    if exc.kind == "not_regular":
        return exc.reason
    if exc.kind == "too_large":
        if exc.size is not None:
            return f"file is {_size_text(exc.size)}; the limit is {_limit_text(max_bytes)}"
        return f"file is over the limit of {_limit_text(max_bytes)}"
    return f"cannot be read: {exc.reason}"


# --------------------------------------------------------------------------- layout


@dataclass
class _Layout:
    delimiter: Optional[str]
    names: Optional[list[str]]  # header names, or None
    header_line: Optional[int]
    n_columns: int
    first_line: int  # line of the header, or of the first data row
    numbers: list[int]  # 1-based line number of each data row
    texts: list[str]  # stripped text of each data row


#: A line that is neither blank nor a comment (``^`` per line): its text from the first
#: non-blank character, which is not ``#``.
_CONTENT_LINE = re.compile(r"^[^\S\n]*([^#\s][^\n]*)", re.MULTILINE)
#: The start of such a line (zero width: counting them creates no strings).
_CONTENT_START = re.compile(r"^(?=[^\S\n]*[^#\s])", re.MULTILINE)


def _content_lines(text: str, keep: int) -> tuple[list[int], list[str], int]:
    """Line numbers and stripped texts of the first ``keep`` lines that are neither blank
    nor comments, and how many such lines there are in all.

    Streams: blank and comment lines are skipped by the regular expression engine and
    never become Python strings, and lines past ``keep`` are only counted, so memory
    stays within a small multiple of the file's size whatever the file holds (48 MB of
    comment lines used to become 24 million strings, 1.3 GB).
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    numbers: list[int] = []
    texts: list[str] = []
    line, pos = 1, 0
    for match in _CONTENT_LINE.finditer(text):
        start = match.start()
        line += text.count("\n", pos, start)
        pos = start
        numbers.append(line)
        texts.append(match.group(1).strip())
        if len(numbers) == keep:
            # The rest is only counted, by the regular expression engine.
            return numbers, texts, keep + len(_CONTENT_START.findall(text, match.end()))
    return numbers, texts, len(numbers)


def _sniff(sample: Sequence[str]) -> Optional[str]:
    """The field separator of the sample lines, or None for a single column."""
    unquoted = [_QUOTED.sub("", line) if '"' in line else line for line in sample]
    for delim in _DELIMITERS:
        counts = {line.count(delim) for line in unquoted}
        if len(counts) == 1 and min(counts) >= 1:
            return delim
    # No separator is consistent: take the one on the first line that is most
    # common overall, so the ragged row is then reported where it is.
    present = [d for d in _DELIMITERS if d in unquoted[0]]
    if not present:
        return None
    return max(present, key=lambda d: sum(line.count(d) for line in unquoted))


def _split(line: str, delimiter: Optional[str]) -> list[str]:
    if delimiter is None:
        return [line.strip().strip('"').strip()] if '"' in line else [line]
    if '"' in line:
        cells = next(csv.reader([line], delimiter=delimiter, skipinitialspace=True))
        return [c.strip() for c in cells]
    return [c.strip() for c in line.split(delimiter)]


def _is_number(cell: str) -> bool:
    # ASCII only: float() would also read fullwidth (１) and Arabic-Indic (١) digits,
    # which no spreadsheet writes as numbers; a cell that looks like one is refused.
    if not cell or "_" in cell or not cell.isascii():
        return False
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _layout(path: PathLike, text: str, max_rows: int) -> _Layout:
    # The limit is checked while reading: one row more than it (and a header) is kept.
    numbers, texts, total = _content_lines(text, max_rows + 2)
    if not numbers:
        raise DataFileError(path, None, None, "no data rows (only comments and blank lines)")
    delimiter = _sniff(texts[:_SNIFF_LINES])
    first_cells = _split(texts[0], delimiter)
    is_header = any(first_cells) and not any(_is_number(c) for c in first_cells)
    names: Optional[list[str]] = None
    header_line: Optional[int] = None
    if is_header:
        header_line = numbers[0]
        numbers, texts = numbers[1:], texts[1:]
        total -= 1
        names = []
        seen: dict[str, int] = {}
        for j, cell in enumerate(first_cells, start=1):
            name = cell or f"column{j}"
            if name in seen:
                raise DataFileError(
                    path, header_line, j,
                    f"duplicate column name {name!r} (also column {seen[name]})",
                )
            seen[name] = j
            names.append(name)
        if not numbers:
            raise DataFileError(
                path, None, None, f"has a header (line {header_line}) but no data rows"
            )
    if total > max_rows:
        raise DataFileError(
            path, numbers[max_rows], None,
            f"more than {max_rows:,} data rows (the limit); the file has {total:,}",
        )
    return _Layout(
        delimiter=delimiter,
        names=names,
        header_line=header_line,
        n_columns=len(first_cells),
        first_line=header_line if header_line is not None else numbers[0],
        numbers=numbers,
        texts=texts,
    )


def _check_column_count(path: PathLike, layout: _Layout, wanted: int, what: str) -> None:
    """Refuse a file whose first row does not have ``wanted`` fields; ``what`` names them."""
    n = layout.n_columns
    if n == wanted:
        return
    if layout.delimiter is None:
        found = "found 1 column (no comma, semicolon or tab separates the fields)"
    else:
        found = f"found {n} {_DELIMITER_NAMES[layout.delimiter]}-separated columns"
    message = f"{found}; expected {wanted}: {what}"
    if n > wanted:
        message += " (from a wider table, the columns to use must be chosen)"
    if n > wanted and layout.delimiter == ",":
        message += "; if the numbers use decimal commas, separate the fields with semicolons"
    raise DataFileError(path, layout.first_line, None, message)


# --------------------------------------------------------------------------- cells


def _shown(cell: str) -> str:
    return repr(cell if len(cell) <= 40 else cell[:37] + "...")


def _cell_problem(cell: str) -> str:
    """Why one cell is not a usable number (the cell is known to be bad)."""
    if cell == "":
        return "empty cell; expected a number"
    if _DECIMAL_COMMA.match(cell):
        return f"{_shown(cell)} is not a number (decimal comma? write {cell.replace(',', '.')})"
    if not _is_number(cell):
        if not cell.isascii() and any(c.isdigit() for c in cell):
            return (f"{_shown(cell)} is not a number: only the digits 0-9 are read "
                    "(not fullwidth or other scripts' digits)")
        return f"{_shown(cell)} is not a number"
    value = float(cell)
    if math.isnan(value):
        return f"{_shown(cell)}: NaN is not allowed; every cell must be a finite number"
    return f"{_shown(cell)} is not a finite number (infinity is not allowed)"


def _format_value(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


#: A range check on a column: (0-based column, lowest, highest, what the column holds).
_RangeCheck = tuple[int, float, float, str]


def _range_problem(what: str, value: float, lo: float, hi: float) -> str:
    message = f"{what} {_format_value(value)} is outside [{lo:g}, {hi:g}]"
    if what == "coordinate":
        message += (": bceviz keeps coordinates within that range so every figure stays "
                    "finite; rescale the column (e.g. to thousands)")
    return message


def _coordinate_checks(columns: Sequence[int]) -> list[_RangeCheck]:
    return [(c, -COORDINATE_LIMIT, COORDINATE_LIMIT, "coordinate") for c in columns]


def _parse_rows(
    path: PathLike,
    layout: _Layout,
    range_checks: Sequence[_RangeCheck],
    progress: Progress,
) -> tuple[np.ndarray, np.ndarray]:
    """All data rows as an (n, k) float64 array and their line numbers.

    The first problem in file order is reported: rows are parsed in chunks and
    each chunk's finite/range checks run before a later row's error is raised.
    """
    numbers, texts = layout.numbers, layout.texts
    n_rows = len(numbers)
    n_cols = layout.n_columns
    delimiter = layout.delimiter
    chunk = max(_PROGRESS_MIN_ROWS, math.ceil(n_rows / 20))
    blocks: list[np.ndarray] = []

    def check(block: np.ndarray, first: int) -> None:
        """Finite and range checks of parsed rows ``first, first + 1, ...``; keeps them."""
        if block.size == 0:
            return
        bad = ~np.isfinite(block)
        for col, lo, hi, _ in range_checks:
            with np.errstate(invalid="ignore"):
                bad[:, col] |= ~((block[:, col] >= lo) & (block[:, col] <= hi))
        if bad.any():
            r, c = divmod(int(np.flatnonzero(bad.ravel())[0]), n_cols)
            if not math.isfinite(block[r, c]):
                message = _cell_problem(_split(texts[first + r], delimiter)[c])
            else:
                what, lo, hi = next((w, lo, hi) for col, lo, hi, w in range_checks if col == c)
                message = _range_problem(what, float(block[r, c]), lo, hi)
            raise DataFileError(path, numbers[first + r], c + 1, message)
        blocks.append(block)

    def fast(start: int, stop: int) -> Optional[np.ndarray]:
        """The chunk parsed in bulk, or None if it needs the row-by-row path."""
        lines = texts[start:stop]
        sep = "\n" if delimiter is None else delimiter
        joined = sep.join(lines)
        if '"' in joined or "_" in joined or not joined.isascii():
            return None
        if delimiter is not None:
            counts = set(map(str.count, lines, [delimiter] * len(lines)))
            if counts != {n_cols - 1}:
                return None
        try:
            cells = list(map(float, joined.split(sep)))
        except ValueError:
            return None
        return np.array(cells, dtype=np.float64).reshape(stop - start, n_cols)

    def slow(start: int, stop: int) -> np.ndarray:
        """Row by row, raising at the first bad row (after checking the rows before it)."""
        values: list[list[float]] = []

        def earlier() -> None:
            check(np.array(values, dtype=np.float64).reshape(-1, n_cols), start)

        for i in range(start, stop):
            cells = _split(texts[i], delimiter)
            if len(cells) != n_cols:
                earlier()
                column = len(cells) + 1 if len(cells) < n_cols else n_cols + 1
                raise DataFileError(
                    path, numbers[i], column,
                    f"row has {len(cells)} fields; expected {n_cols} like line {layout.first_line}",
                )
            bad = next((j for j, cell in enumerate(cells) if not _is_number(cell)), None)
            if bad is not None:
                earlier()
                message = _cell_problem(cells[bad])
                found = next(((w, lo, hi) for col, lo, hi, w in range_checks if col == bad),
                             None)
                if found is not None and cells[bad] and not _is_number(cells[bad]) \
                        and found[0] != "coordinate":
                    kind, lo, hi = found
                    message += f"; a {kind} is a number in [{lo:g}, {hi:g}]"
                raise DataFileError(path, numbers[i], bad + 1, message)
            values.append([float(c) for c in cells])
        return np.array(values, dtype=np.float64).reshape(-1, n_cols)

    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        block = fast(start, stop)
        check(block if block is not None else slow(start, stop), start)
        if progress is not None and n_rows >= _PROGRESS_MIN_ROWS and stop < n_rows:
            if progress(stop / n_rows) is False:
                raise DataFileError(path, None, None, "loading cancelled")
    data = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    line_numbers = np.array(numbers, dtype=np.int64)
    return data, line_numbers


def _finish(path: PathLike, progress: Progress) -> None:
    if progress is not None and progress(1.0) is False:
        raise DataFileError(path, None, None, "loading cancelled")


def _check_both_classes(
    path: PathLike, labels: np.ndarray, column: Optional[int], name: str
) -> None:
    positives = int(np.count_nonzero(labels >= 0.5))
    if positives == 0 or positives == labels.size:
        only = 1 if positives else 0
        soft = "" if np.all((labels == 0) | (labels == 1)) else " (labels >= 0.5 count as 1)"
        raise DataFileError(
            path, None, column,
            f"all {labels.size:,} {name}s are class {only}{soft}; both classes 0 and 1 are needed",
        )


def _find_name(names: Sequence[str], candidates: Sequence[str]) -> Optional[int]:
    folded = [n.strip().casefold() for n in names]
    for cand in candidates:
        if cand in folded:
            return folded.index(cand)
    return None


def _validate_limits(max_rows: int, max_bytes: int) -> None:
    if not (isinstance(max_rows, (int, np.integer)) and max_rows >= 1):
        raise ValueError(f"max_rows must be an integer >= 1, got {max_rows!r}")
    if not (isinstance(max_bytes, (int, np.integer)) and max_bytes >= 1):
        raise ValueError(f"max_bytes must be an integer >= 1, got {max_bytes!r}")


# --------------------------------------------------------------------------- public readers


def read_table_csv(
    path: PathLike,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Progress = None,
) -> Table:
    """Any number of numeric columns (e.g. the 31-column breast-cancer file) as a :class:`Table`.

    Every cell must be a finite number; no column is treated as a label here
    (choose one with :func:`select_features`). Raises :class:`DataFileError`.
    """
    _validate_limits(max_rows, max_bytes)
    text = _read_text(path, max_bytes)
    layout = _layout(path, text, max_rows)
    data, line_numbers = _parse_rows(path, layout, (), progress)
    names = layout.names or [f"column{j}" for j in range(1, layout.n_columns + 1)]
    _finish(path, progress)
    return Table(
        columns=list(names),
        data=data,
        source=str(path),
        line_numbers=line_numbers,
        has_header=layout.names is not None,
        delimiter=layout.delimiter,
    )


def _label_index(names: Optional[list[str]]) -> int:
    """The label column of a 3-column points file: see :func:`read_points_csv`."""
    if names is None:
        return 2
    if names[-1].strip().casefold() in LABEL_NAMES:
        return 2
    found = _find_name(names, LABEL_NAMES)
    return 2 if found is None else found


def read_points_csv(
    path: PathLike,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    require_both_classes: bool = False,
    progress: Progress = None,
) -> PointsData:
    """A points file: exactly two feature columns and one label column, as :class:`PointsData`.

    The label is the last column, unless a header names another column
    ``label``, ``target``, ``class``, ``malignant`` or ``y`` (case-insensitive;
    a last column with one of those names always wins, so ``x,y,label`` works).
    Labels must be in [0, 1] (soft allowed). Features are returned as read
    (``standardized=False``). ``require_both_classes`` refuses a file whose
    labels are all one class. Raises :class:`DataFileError`.
    """
    _validate_limits(max_rows, max_bytes)
    text = _read_text(path, max_bytes)
    layout = _layout(path, text, max_rows)
    _check_column_count(path, layout, 3, "two features and a label")
    label_col = _label_index(layout.names)
    feature_cols = [j for j in range(3) if j != label_col]
    checks = [(label_col, 0.0, 1.0, "label"), *_coordinate_checks(feature_cols)]
    data, _ = _parse_rows(path, layout, checks, progress)
    names = layout.names or ["x1", "x2", "label"]
    labels = data[:, label_col].copy()
    if require_both_classes:
        _check_both_classes(path, labels, label_col + 1, "label")
    _finish(path, progress)
    return PointsData(
        X=data[:, feature_cols].copy(),
        y=labels,
        feature_names=(names[feature_cols[0]], names[feature_cols[1]]),
        label_name=names[label_col],
        source=str(path),
    )


def select_features(
    table: Table,
    feature1: Union[str, int],
    feature2: Union[str, int],
    label: Union[str, int],
    *,
    standardize: bool = True,
    require_both_classes: bool = False,
) -> PointsData:
    """Two features and a label column of a table, as :class:`PointsData`.

    Columns are given by name (exact, then case-insensitive) or 0-based index.
    With ``standardize`` each feature becomes ``(x - mean) / std`` with the
    population std (``ddof=0``), exactly as scikit-learn's ``StandardScaler``;
    a constant feature keeps std 1 (it becomes 0, as the scaler does). The mean
    and std used are in ``feature_mean`` / ``feature_std`` so the app can show
    original units. The label column must hold values in [0, 1]; a violation
    is reported with the file's line and column. Raises :class:`DataFileError`.
    """
    i1 = table.column_index(feature1)
    i2 = table.column_index(feature2)
    il = table.column_index(label)
    if il in (i1, i2):
        raise DataFileError(
            table.source, None, il + 1,
            f"the label column {table.columns[il]!r} cannot also be a feature",
        )
    labels = table.data[:, il].copy()
    outside = ~((labels >= 0.0) & (labels <= 1.0))
    if outside.any():
        r = int(np.flatnonzero(outside)[0])
        raise DataFileError(
            table.source, int(table.line_numbers[r]), il + 1,
            f"label {_format_value(float(labels[r]))} in column {table.columns[il]!r} "
            "is outside [0, 1]",
        )
    if require_both_classes:
        _check_both_classes(table.source, labels, il + 1, "label")
    X = table.data[:, [i1, i2]].astype(np.float64, copy=True)
    limit = FEATURE_VALUE_LIMIT if standardize else COORDINATE_LIMIT
    _check_features(table, X, (i1, i2), limit, "standardised feature" if standardize
                    else "coordinate")
    if standardize:
        mean = X.mean(axis=0)
        std = X.std(axis=0)
        # StandardScaler's rule for (near-)constant features: scale 1.
        tiny = 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean))
        std = np.where(std < tiny, 1.0, std)
        X = (X - mean) / std
        _check_features(table, X, (i1, i2), COORDINATE_LIMIT, "coordinate")
    else:
        mean, std = np.zeros(2), np.ones(2)
    return PointsData(
        X=X,
        y=labels,
        feature_names=(table.columns[i1], table.columns[i2]),
        label_name=table.columns[il],
        source=table.source,
        feature_mean=mean,
        feature_std=std,
        standardized=standardize,
    )


def _check_features(table: Table, X: np.ndarray, columns: tuple[int, int], limit: float,
                    what: str) -> None:
    """Refuse a feature value beyond ±limit, naming its line and column."""
    outside = np.abs(X) > limit
    if outside.any():
        r, j = (int(v) for v in np.argwhere(outside)[0])
        value = float(X[r, j])
        message = _range_problem(what, value, -limit, limit)
        if what != "coordinate":
            message += ": larger values make the mean and spread overflow"
        raise DataFileError(table.source, int(table.line_numbers[r]), columns[j] + 1,
                            f"{message} (column {table.columns[columns[j]]!r})")


def read_pairs_csv(
    path: PathLike,
    *,
    max_rows: int = PAIRS_MAX_ROWS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    require_both_classes: bool = False,
    progress: Progress = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(probability, label) pairs for the samples panel: two arrays ``(p, y)`` of shape (n,).

    Exactly two columns. Without a header the first is the probability and the
    second the label; a header may name them the other way round (probability
    ``p``/``prob``/``probability``/``prediction``/``score``; label as in
    :func:`read_points_csv`). Both must be in [0, 1]; labels may be soft.
    At most ``PAIRS_MAX_ROWS`` (1,000) rows by default. Raises :class:`DataFileError`.
    """
    _validate_limits(max_rows, max_bytes)
    text = _read_text(path, max_bytes)
    layout = _layout(path, text, max_rows)
    _check_column_count(path, layout, 2, "a probability and a label")
    p_col, y_col = 0, 1
    if layout.names is not None:
        found_p = _find_name(layout.names, PROBABILITY_NAMES)
        found_y = _find_name(layout.names, LABEL_NAMES)
        if found_p == 1 or found_y == 0:
            p_col, y_col = 1, 0
    checks = [(p_col, 0.0, 1.0, "probability"), (y_col, 0.0, 1.0, "label")]
    data, _ = _parse_rows(path, layout, checks, progress)
    p = data[:, p_col].copy()
    y = data[:, y_col].copy()
    if require_both_classes:
        _check_both_classes(path, y, y_col + 1, "label")
    _finish(path, progress)
    return p, y


def load_breast_cancer(
    feature1: str = "mean_radius", feature2: str = "mean_texture", standardize: bool = True
) -> PointsData:
    """Two features of the bundled Breast Cancer Wisconsin data (569 rows, 212 malignant).

    The label is column ``malignant`` (1 = malignant, the positive class).
    Standardised by default so the loss surface's weight range fits.
    """
    table = read_table_csv(resource_path("data", "breast_cancer_wisconsin.csv"))
    return select_features(table, feature1, feature2, "malignant", standardize=standardize)


# --------------------------------------------------------------------------- writing


_FORBIDDEN_IN_NAMES = (",", ";", "\t", "\n", "\r", '"')


def _check_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{what} must be a non-empty string, got {name!r}")
    if not _is_unicode(name):
        raise ValueError(
            f"{what} {name!r} holds bytes that are not valid Unicode (from a file name?): "
            "it cannot be written as UTF-8 text"
        )
    bad = [c for c in _FORBIDDEN_IN_NAMES if c in name]
    if bad or name.strip().startswith("#") or name != name.strip() or _is_number(name):
        raise ValueError(
            f"{what} {name!r} cannot be written as a header name "
            "(no separators, quotes, line breaks, leading '#', surrounding spaces, or numbers)"
        )
    return name


def _is_unicode(text: str) -> bool:
    """False for text holding lone surrogates (undecodable bytes kept by ``os.fsdecode``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _format_cell(value: float) -> str:
    # repr() is the shortest text that reads back to the same float: exact round trip.
    return repr(value)


def write_points_csv(
    path: PathLike,
    X: np.ndarray,
    y: np.ndarray,
    feature_names: Sequence[str] = ("x1", "x2"),
    label_name: str = "label",
) -> None:
    """Write points as a comma-separated UTF-8 file with a header, atomically.

    Values are written with ``repr`` (shortest round-trip text), so
    :func:`read_points_csv` reads back exactly the same float64 values. The
    file is written to a temporary file in the same folder and moved into place
    with ``os.replace``: a reader never sees a half-written file, and on any
    failure the old file is untouched. Invalid arrays or names raise
    ``ValueError``; a file-system failure raises :class:`DataFileError`.
    """
    features = np.asarray(X, dtype=np.float64)
    labels = np.asarray(y, dtype=np.float64)
    if features.ndim != 2 or features.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {features.shape}")
    if labels.shape != (features.shape[0],):
        raise ValueError(f"y must have shape ({features.shape[0]},), got {labels.shape}")
    if features.shape[0] == 0:
        raise ValueError("no points to write")
    if not np.all(np.isfinite(features)):
        raise ValueError("X must be finite (no NaN or infinity)")
    if features.size and float(np.max(np.abs(features))) > COORDINATE_LIMIT:
        raise ValueError(f"X must be within ±{COORDINATE_LIMIT:g} (the coordinates bceviz "
                         "reads back)")
    if not np.all((labels >= 0.0) & (labels <= 1.0)):
        raise ValueError("y must be labels in [0, 1]")
    names = [_check_name(n, "feature name") for n in feature_names]
    if len(names) != 2:
        raise ValueError(f"feature_names must hold 2 names, got {len(names)}")
    header = [*names, _check_name(label_name, "label_name")]
    if len(set(header)) != 3:
        raise ValueError(f"column names must differ, got {header}")

    rows = [
        f"{_format_cell(a)},{_format_cell(b)},{_format_value(c)}\n"
        for a, b, c in zip(features[:, 0].tolist(), features[:, 1].tolist(), labels.tolist())
    ]
    _write_atomically(path, ",".join(header) + "\n" + "".join(rows))


def _write_atomically(path: PathLike, text: str) -> None:
    """The one atomic writer (:mod:`bceviz.model.atomic`), failures as DataFileError."""
    try:
        write_atomic(path, text)
    except WriteError as exc:
        raise DataFileError(path, None, None, f"cannot write: {exc.reason}") from None
