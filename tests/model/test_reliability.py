"""Reliability without Qt: hostile files, names and numbers (issue 21), each generated here.

Sections follow the issue's items: the one atomic writer, file names with
undecodable bytes, readers that refuse what is not a regular file, the ranges
of every number in a session, huge coordinates, and the smaller refusals.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from bceviz.model import atomic, datafiles, session
from bceviz.model.atomic import WriteError, write_atomic
from bceviz.model.datafiles import DataFileError
from bceviz.model.session import SessionError
from bceviz.model.state import AppState

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file system semantics")


# ----------------------------------------------------------------------------
# 6. One atomic writer: the old file survives, no temporary file is left


def test_write_atomic_writes_bytes_and_text(tmp_path):
    write_atomic(tmp_path / "a.bin", b"\x00\x01")
    write_atomic(tmp_path / "b.txt", "é\n")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_bytes() == "é\n".encode()
    assert sorted(os.listdir(tmp_path)) == ["a.bin", "b.txt"]


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt(),
                                   RuntimeError("a bug")])
def test_every_failure_keeps_the_old_file_and_removes_the_temp(tmp_path, monkeypatch,
                                                              failing, error):
    target = tmp_path / "s.json"
    target.write_bytes(b"old")

    def fail(*args, **kwargs):
        raise error

    if failing == "write":
        real_fdopen = os.fdopen

        class Failing:
            def __init__(self, fd, *args, **kwargs):
                self.handle = real_fdopen(fd, *args, **kwargs)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.handle.close()

            def write(self, data):
                self.handle.write(data[:10])  # half written, then the failure
                raise error

        monkeypatch.setattr(atomic.os, "fdopen", Failing)
    else:
        monkeypatch.setattr(atomic.os, failing, fail)
    expected = WriteError if isinstance(error, OSError) else type(error)
    with pytest.raises(expected) as info:
        write_atomic(target, b"new")
    monkeypatch.undo()
    if isinstance(error, OSError):
        assert "No space left on device" in str(info.value) and str(target) in str(info.value)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["s.json"]


def test_refused_targets_create_nothing(tmp_path):
    with pytest.raises(WriteError, match="is a folder"):
        write_atomic(tmp_path, b"x")
    with pytest.raises(WriteError, match="does not exist"):
        write_atomic(tmp_path / "no" / "x.png", b"x")
    (tmp_path / "file").write_bytes(b"keep")
    with pytest.raises(WriteError, match="is a file, not a folder"):
        write_atomic(tmp_path / "file" / "x.png", b"x")
    assert sorted(os.listdir(tmp_path)) == ["file"]


@posix_only
def test_a_fifo_or_device_is_never_written_over(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(WriteError, match="not a regular file"):
        write_atomic(fifo, b"x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    with pytest.raises(WriteError, match="not a regular file"):
        write_atomic("/dev/null", b"x")


@posix_only
def test_a_symbolic_link_is_written_through(tmp_path):
    real = tmp_path / "real.json"
    real.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


@posix_only
def test_permissions_of_an_existing_file_are_kept_and_new_files_follow_the_umask(tmp_path):
    old = tmp_path / "old.csv"
    old.write_bytes(b"x")
    os.chmod(old, 0o640)
    write_atomic(old, b"y")
    assert stat.S_IMODE(os.stat(old).st_mode) == 0o640
    mask = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.csv", b"z")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(os.stat(tmp_path / "new.csv").st_mode) == 0o640


def test_a_long_name_still_gets_a_temporary_file(tmp_path):
    name = "é" * 120 + ".json"  # 245 bytes: a temporary name with a suffix would not fit
    write_atomic(tmp_path / name, b"ok")
    assert (tmp_path / name).read_bytes() == b"ok"


@posix_only
def test_a_killed_writer_leaves_one_temp_that_the_next_write_removes(tmp_path):
    """SIGKILL mid-write: the next save of the same file sweeps the dead process's temp."""
    target = tmp_path / "autosave.json"
    target.write_bytes(b"old")
    script = textwrap.dedent(f"""
        import os, sys
        from bceviz.model import atomic
        real_fsync = os.fsync
        def stall(fd):
            print("writing", flush=True)
            sys.stdin.read()  # hold here until killed
        atomic.os.fsync = stall
        atomic.write_atomic({str(target)!r}, b"x" * 100000)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        proc.kill()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(atomic.temp_files_for(target)) == 1
    assert target.read_bytes() == b"old"
    write_atomic(target, b"new")
    assert atomic.temp_files_for(target) == []
    assert os.listdir(tmp_path) == ["autosave.json"]


def test_a_temp_of_a_live_process_is_kept(tmp_path):
    target = tmp_path / "x.json"
    live = tmp_path / f".x.json.bceviz-{os.getppid()}-0123abcd.tmp"
    live.write_bytes(b"someone is writing")
    write_atomic(target, b"ok")
    assert live.exists()


def test_csv_export_with_an_undecodable_name_leaves_nothing(tmp_path):
    """Before: a non-OSError while writing the CSV left a half-written temporary file."""
    with pytest.raises(ValueError, match="not valid Unicode"):
        datafiles.write_points_csv(tmp_path / "p.csv", np.zeros((2, 2)), np.array([0.0, 1.0]),
                                   feature_names=("caf\udce9", "b"))
    assert os.listdir(tmp_path) == []


def test_report_goes_through_the_atomic_writer(tmp_path, monkeypatch):
    from bceviz import app

    target = tmp_path / "r.json"
    target.write_text("old")

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(OSError, match="No space left"):
        app.write_report(AppState(), str(target))
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["r.json"]


def test_only_the_atomic_module_renames_files_into_place():
    """One writer: no other module of the package creates temp files or renames them."""
    import pathlib

    import bceviz

    root = pathlib.Path(bceviz.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "atomic.py":
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("os.replace(", "mkstemp(", "QSaveFile", "pixmap.save(str",
                       "image.save(str", ".save(path"):
            if needle in text:
                offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []


# ----------------------------------------------------------------------------
# 1. File names with bytes that are not UTF-8 (lone surrogates) are kept exactly


def _state_with(source: str, title: str, name: str) -> AppState:
    from bceviz.model.state import DataAxes

    state = AppState()
    state.set_data(np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]), np.array([0.0, 1.0, 1.0]),
                   source=source, axes=DataAxes(names=(name, "x2"), label_name=name + "!"))
    state.scenario_title = title
    state.caption = "caption " + title
    return state


def test_a_session_keeps_lone_surrogates_exactly(tmp_path):
    """Before: UnicodeEncodeError on save (and a traceback from --save-session)."""
    source, title, name = "caf\udce9.csv", "T\udcff\udc80tle", "r\udcb5dius"
    path = tmp_path / "s.json"
    session.save_session(_state_with(source, title, name), path)
    raw = path.read_bytes()
    raw.decode("utf-8")  # valid UTF-8: the surrogates are JSON escapes
    assert b"\\udce9" in raw
    data = session.load_session(path)
    assert data.data_source == source and data.scenario_title == title
    assert data.caption == "caption " + title
    assert data.axes.names[0] == name and data.axes.label_name == name + "!"
    again = AppState()
    session.apply_session(again, data)
    session.save_session(again, tmp_path / "t.json")
    assert (tmp_path / "t.json").read_bytes() == raw


@pytest.mark.skipif(sys.platform in ("win32", "darwin"),
                    reason="needs a file system that stores arbitrary bytes in names")
def test_a_latin1_file_name_loads_saves_and_reloads(tmp_path):
    folder = os.fsencode(tmp_path)
    raw_name = folder + b"/caf\xe9.csv"
    with open(raw_name, "w", encoding="utf-8") as fh:
        fh.write("a,b,label\n0,1,0\n1,0,1\n")
    path = os.fsdecode(raw_name)
    state = AppState()
    state.load_points_file(path)
    assert state.data_source == "caf\udce9.csv"
    session.save_session(state, os.fsdecode(folder + b"/s\xe9ssion.json"))
    back = session.load_session(os.fsdecode(folder + b"/s\xe9ssion.json"))
    assert back.data_source == "caf\udce9.csv"
    assert os.fsencode(back.data_source) == b"caf\xe9.csv"  # the very bytes of the name


@pytest.mark.skipif(sys.platform in ("win32", "darwin"),
                    reason="needs a file system that stores arbitrary bytes in names")
def test_cli_data_from_a_latin1_name_then_save_session(tmp_path):
    folder = os.fsencode(tmp_path)
    csv = folder + b"/caf\xe9.csv"
    with open(csv, "w", encoding="utf-8") as fh:
        fh.write("a,b,label\n0,1,0\n1,0,1\n2,2,1\n")
    out = folder + b"/out.json"
    proc = subprocess.run([os.fsencode(sys.executable), b"-m", b"bceviz", b"--data", csv,
                           b"--train-steps", b"3", b"--save-session", out],
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr
    assert session.load_session(os.fsdecode(out)).data_source == "caf\udce9.csv"


# ----------------------------------------------------------------------------
# 4. Only regular files are read: a FIFO is refused at once, never waited on


def _refused_promptly(call, fifo) -> Exception:
    """Run ``call`` in a thread; if it blocks on the FIFO, unblock it and fail."""
    outcome: list = []

    def run():
        try:
            call()
            outcome.append(None)
        except Exception as exc:  # noqa: BLE001 - the refusal is what we want
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(5.0)
    if worker.is_alive():  # it opened the FIFO and waits for a writer: free it
        with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "wb", closefd=True):
            pass
        worker.join(5.0)
        pytest.fail("the reader blocked on a FIFO")
    assert outcome and outcome[0] is not None, "a FIFO was accepted"
    return outcome[0]


@posix_only
def test_a_fifo_given_as_a_session_is_refused_at_once(tmp_path):
    fifo = tmp_path / "f.json"
    os.mkfifo(fifo)
    exc = _refused_promptly(lambda: session.load_session(fifo), fifo)
    assert isinstance(exc, SessionError) and "not a regular file" in str(exc)
    assert str(fifo) in str(exc)


@posix_only
@pytest.mark.parametrize("reader", [datafiles.read_points_csv, datafiles.read_table_csv,
                                    datafiles.read_pairs_csv])
def test_a_fifo_given_as_a_csv_is_refused_at_once(tmp_path, reader):
    fifo = tmp_path / "f.csv"
    os.mkfifo(fifo)
    exc = _refused_promptly(lambda: reader(fifo), fifo)
    assert isinstance(exc, DataFileError) and "not a regular file" in str(exc)


@posix_only
def test_a_file_swapped_for_a_fifo_after_the_check_does_not_block(tmp_path, monkeypatch):
    """The opened file is checked again (a FIFO that replaced it meanwhile is refused)."""
    fifo = tmp_path / "swap.json"
    os.mkfifo(fifo)
    real_stat = os.stat

    def stale_stat(path, *args, **kwargs):  # the check sees a regular file...
        if os.fspath(path) == str(fifo):
            return real_stat(__file__)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(atomic.os, "stat", stale_stat)
    exc = _refused_promptly(lambda: session.load_session(fifo), fifo)
    assert "not a regular file" in str(exc)


@posix_only
def test_a_device_is_refused(tmp_path):
    with pytest.raises(SessionError, match="not a regular file but a device"):
        session.load_session("/dev/zero")
    with pytest.raises(DataFileError, match="not a regular file"):
        datafiles.read_points_csv("/dev/zero")


@posix_only
def test_cli_session_fifo_fails_promptly(tmp_path):
    fifo = tmp_path / "f.json"
    os.mkfifo(fifo)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "bceviz", "--session", str(fifo),
                           "--report", str(tmp_path / "r.json")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "not a regular file" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert time.monotonic() - start < 60


# ----------------------------------------------------------------------------
# 7/8. Every number in a session has a stated range, checked on load


def _doc() -> dict:
    state = AppState()
    state.step(3)
    return session.session_to_dict(state)


def _loads(doc: dict, *, text: str | None = None):
    return session.loads_session(text if text is not None else json.dumps(doc))


def _refused(doc: dict, field: str, *words: str, text: str | None = None) -> SessionError:
    with pytest.raises(SessionError) as info:
        _loads(doc, text=text)
    assert info.value.field == field, str(info.value)
    for word in words:
        assert word in str(info.value), str(info.value)
    return info.value


@pytest.mark.parametrize("field", ["model.steps", "threshold", "dataset.seed", "data.X"])
def test_a_5000_digit_integer_is_refused_naming_its_field(field):
    """Before: ValueError from int() escaped as a traceback."""
    doc = _doc()
    marker = 123456789
    section, _, key = field.partition(".")
    if field == "data.X":
        doc["data"]["X"][0][0] = marker
        field = "data.X[0][0]"
    elif key:
        doc[section][key] = marker
    else:
        doc[section] = marker
    text = json.dumps(doc).replace(str(marker), "9" * 5000, 1)
    err = _refused(doc, field, "5,000-digit", text=text)
    assert len(str(err)) < 500  # the digits are not repeated back


def test_steps_of_10_to_the_30_and_2_to_the_63_are_refused():
    """Before: OverflowError while loading (1e30) or on every training frame (2**63 - 1)."""
    for steps in (10**30, 2**63 - 1):
        doc = _doc()
        doc["model"]["steps"] = steps
        doc["model"]["history"]["step"][-1] = steps
        _refused(doc, "model.steps", "too large", f"{session.MAX_STEPS:,}")
    doc = _doc()
    doc["model"]["steps"] = 1e30
    _refused(doc, "model.steps", "expected a whole number")


def test_the_largest_step_count_still_trains():
    doc = _doc()
    doc["model"]["steps"] = session.MAX_STEPS
    doc["model"]["history"]["step"][-1] = session.MAX_STEPS
    doc["model"]["history"]["last_kept"] = session.MAX_STEPS
    doc["model"]["history"]["step"] = doc["model"]["history"]["step"][-1:]
    for key in ("loss", "objective", "grad_norm", "w_norm", "b", "w"):
        doc["model"]["history"][key] = doc["model"]["history"][key][-1:]
    state = AppState()
    session.apply_session(state, _loads(doc))
    state.step(5)
    assert state.trainer.steps == session.MAX_STEPS + 5


@pytest.mark.parametrize("section,key,value,words", [
    ("loss", "pos_weight", 1e308, ("too large", "1e+06")),
    ("loss", "focal_gamma", 1e6, ("too large",)),
    ("training", "batch_size", 2**40, ("too large", "20,000")),
    ("training", "seed", 2**40, ("too large", "2,147,483,647")),
    ("dataset", "seed", 2**40, ("too large", "2,147,483,647")),
    ("training", "lr", 1e300, ("too large",)),
    ("training", "l2", 1e300, ("too large",)),
])
def test_settings_out_of_range_are_refused(section, key, value, words):
    """Before: pos_weight 1e308 was an AssertionError; 2**40 seeds and batch sizes were
    accepted, then raised OverflowError in every refresh of the controls."""
    doc = _doc()
    doc[section][key] = value
    _refused(doc, f"{section}.{key}", *words)


def test_weights_of_1e308_are_refused_as_weights():
    doc = _doc()
    doc["model"]["w"][0] = 1e308
    doc["model"]["history"]["w"][-1][0] = 1e308
    _refused(doc, "model.w[0]", "weight 1e+308 is outside", "1e+150")


def _numeric_leaves(obj, path=""):
    """(path, value) of every number in a session document (lists: the first entry only)."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return
    if isinstance(obj, (int, float)):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numeric_leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(obj, list) and obj:
        yield from _numeric_leaves(obj[0], f"{path}[0]")


def test_every_number_in_a_session_has_a_range():
    """Each number in turn made huge: each is refused, and the message names its field."""
    from bceviz.model.state import DataAxes

    state = AppState()
    state.set_data(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0.0, 1.0]),
                   axes=DataAxes(mean=(1.0, 2.0), std=(3.0, 4.0), standardized=True))
    state.set_training(batch_size=5, optimizer="sgd")
    state.step(2)
    base = session.session_to_dict(state)
    leaves = list(_numeric_leaves(base))
    assert len(leaves) > 30
    for path, value in leaves:
        if path == "format_version":
            continue
        doc = json.loads(json.dumps(base))
        target = doc
        parts = path.replace("[0]", ".[0]").split(".")
        for part in parts[:-1]:
            target = target[0] if part == "[0]" else target[part]
        last = parts[-1]
        huge = 10**25 if isinstance(value, int) else 1e305
        if last == "[0]":
            target[0] = huge
        else:
            target[last] = huge
        with pytest.raises(SessionError) as info:
            _loads(doc)
        assert info.value.field is not None and info.value.field.startswith(
            path.split("[")[0].rsplit(".", 1)[0]), (path, str(info.value))


def test_cli_refuses_a_5000_digit_session_without_a_traceback(tmp_path):
    doc = _doc()
    doc["threshold"] = 424242
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc).replace("424242", "7" * 5000))
    proc = subprocess.run([sys.executable, "-m", "bceviz", "--session", str(path),
                           "--report", str(tmp_path / "r.json")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "threshold" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_state_outside_the_ranges_is_not_saved(tmp_path):
    """What save writes, load opens: an out-of-range state is refused at save, by field."""
    state = AppState()
    state.set_training(lr=1e4)
    with pytest.raises(SessionError, match="not saved.*training.lr"):
        session.save_session(state, tmp_path / "s.json")
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------
# 9. Finite but huge coordinates are refused with the limit stated


def _csv(tmp_path, text: str, name: str = "p.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("value", ["1e155", "-1.5e308", "2e9"])
def test_a_csv_with_a_huge_coordinate_is_refused_where_it_is(tmp_path, value):
    """Before: accepted, then the gradient norm overflowed and no save ever worked again."""
    path = _csv(tmp_path, f"a,b,label\n0,1,0\n1,{value},1\n")
    with pytest.raises(DataFileError) as info:
        datafiles.read_points_csv(path)
    err = info.value
    assert (err.line, err.column) == (3, 2)
    assert "outside [-1e+09, 1e+09]" in str(err) and "rescale" in str(err)


def test_a_table_column_too_large_to_standardise_is_refused(tmp_path):
    path = _csv(tmp_path, "a,b,malignant\n0,1,0\n1e150,2,1\n3,4,1\n")
    table = datafiles.read_table_csv(path)
    with pytest.raises(DataFileError) as info:
        datafiles.select_features(table, "a", "b", "malignant")
    assert info.value.line == 3 and info.value.column == 1
    assert "1e+100" in str(info.value)
    with pytest.raises(DataFileError, match="1e\\+09"):
        datafiles.select_features(table, "a", "b", "malignant", standardize=False)


def test_the_state_refuses_huge_coordinates_from_any_path():
    from bceviz.model.state import StateError

    state = AppState()
    with pytest.raises(StateError, match="outside"):
        state.set_data(np.array([[0.0, 0.0], [1e155, 1.0]]), np.array([0.0, 1.0]))
    with pytest.raises(StateError, match="outside"):
        state.move_point(0, 2e9, 0.0)
    with pytest.raises(StateError, match="outside"):
        state.add_point(0.0, -1e308, 1.0)
    assert state.n_points == 200 and np.abs(state.X).max() < 10


def test_a_session_with_a_huge_coordinate_is_refused():
    doc = _doc()
    doc["data"]["X"][4][1] = 1e155
    _refused(doc, "data.X[4][1]", "outside [-1e+09, 1e+09]")


@pytest.mark.parametrize("features", ["linear", "poly5", "sin"])
@pytest.mark.parametrize("optimizer", ["gd", "newton", "adam"])
def test_at_the_limit_every_figure_stays_finite_and_saving_works(tmp_path, features,
                                                                 optimizer):
    lim = datafiles.COORDINATE_LIMIT
    X = np.array([[lim, -lim], [-lim, lim], [lim, lim], [-lim, -lim], [0.5, 0.25]])
    state = AppState()
    state.set_data(X, np.array([1.0, 0.0, 1.0, 0.0, 1.0]))
    state.set_features(features)
    state.set_training(optimizer=optimizer)
    state.step(5)
    summary = state.summary()
    for key in ("train_loss", "objective", "b"):
        assert summary[key] is None or np.isfinite(summary[key]), (key, summary[key])
    hist = state.trainer.history.as_dict()
    for key in ("loss", "objective", "grad_norm", "w_norm"):
        assert np.all(np.isfinite(hist[key])), key
    session.save_session(state, tmp_path / "s.json")
    assert session.load_session(tmp_path / "s.json").X.tobytes() == X.tobytes()


# ----------------------------------------------------------------------------
# 5. A session file this version cannot open is set aside, not overwritten


def test_set_aside_leaves_readable_files_and_renames_the_others(tmp_path, monkeypatch):
    good = tmp_path / "good.json"
    session.save_session(AppState(), good)

    def must_not_read(*args):
        raise AssertionError("a file this process wrote is not read again")

    with monkeypatch.context() as patch:
        patch.setattr(session, "load_session", must_not_read)
        assert session.set_aside_unreadable(good) is None
    assert session.set_aside_unreadable(tmp_path / "missing.json") is None
    bad = tmp_path / "last-session.json"
    bad.write_text("{ not json")
    kept = session.set_aside_unreadable(bad)
    assert kept is not None and not bad.exists()
    assert os.path.basename(kept).startswith("last-session.unreadable-")
    assert open(kept).read() == "{ not json"
    bad.write_text("{ again")  # a second one in the same second gets its own name
    assert session.set_aside_unreadable(bad) not in (None, kept)


# ----------------------------------------------------------------------------
# 10. The smaller refusals, and limits checked while reading


def _peak_bytes(call) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        call()
    except (DataFileError, SessionError):
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def test_duplicate_keys_in_a_session_are_refused_naming_the_object():
    """Before: silently accepted, the last value winning."""
    text = json.dumps(_doc()).replace('"threshold": 0.5', '"threshold": 0.5, "threshold": 0.9')
    with pytest.raises(SessionError) as info:
        session.loads_session(text)
    assert info.value.field is None and "'threshold' appears twice" in str(info.value)
    text = json.dumps(_doc()).replace('"pos_weight": 1.0', '"pos_weight": 1.0, "pos_weight": 3')
    with pytest.raises(SessionError) as info:
        session.loads_session(text)
    assert info.value.field == "loss" and "'pos_weight' appears twice" in str(info.value)


def test_duplicate_keys_deep_in_another_labs_payload_are_refused():
    doc = _doc()
    doc["labs"] = {"tipping": {"marker": 1}}
    text = json.dumps(doc).replace('"marker": 1', '"marker": 1, "marker": 2')
    with pytest.raises(SessionError, match="'marker' appears twice"):
        session.loads_session(text)


def test_unknown_panel_ids_are_refused():
    """Before: an unknown id hid every panel."""
    doc = _doc()
    doc["scenario"]["panels"] = ["controls", "dta"]
    _refused(doc, "scenario.panels[1]", "'dta' is not one of")


def test_a_session_of_3_million_points_is_refused_before_parsing(tmp_path):
    """Before: a 42 MB file of 3 million points peaked at 528 MB before the point limit."""
    doc = _doc()
    doc["data"]["X"] = [[0, 1]] * 1_000_000
    doc["data"]["y"] = [1] * 1_000_000
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(doc, separators=(",", ":")))
    with pytest.raises(SessionError, match="holds more than 3,000,000 values"):
        session.load_session(path)
    assert _peak_bytes(lambda: session.load_session(path)) < 3 * path.stat().st_size


def test_a_csv_of_comment_lines_peaks_at_a_small_multiple_of_its_size(tmp_path):
    """Before: 48 MB of comment lines became 24 million strings (1.34 GB)."""
    path = tmp_path / "comments.csv"
    with open(path, "w") as fh:
        fh.write("a,b,label\n0,1,0\n1,0,1\n")
        fh.write("#\n" * 6_000_000)
    assert datafiles.read_points_csv(path).n == 2
    assert _peak_bytes(lambda: datafiles.read_points_csv(path)) < 4 * path.stat().st_size


def test_rows_past_the_limit_are_counted_not_kept(tmp_path):
    path = tmp_path / "rows.csv"
    with open(path, "w") as fh:
        fh.write("a,b,label\n")
        fh.write("0,1,0\n" * 800_000)
    with pytest.raises(DataFileError, match="more than 20,000 data rows .* has 800,000"):
        datafiles.read_points_csv(path, max_rows=20_000)
    assert _peak_bytes(lambda: datafiles.read_points_csv(path, max_rows=20_000)) \
        < 4 * path.stat().st_size


def test_line_numbers_survive_comments_blank_lines_and_old_mac_line_ends(tmp_path):
    path = _csv(tmp_path, "# c\r\n\r\na,b,label\r0,1,0\r\n  # x\n\n1,zz,1\n")
    with pytest.raises(DataFileError) as info:
        datafiles.read_points_csv(path)
    assert (info.value.line, info.value.column) == (7, 2)


@pytest.mark.parametrize("digit", ["１", "١", "۳", "٫5"])
def test_digits_of_other_scripts_are_not_numbers(tmp_path, digit):
    """Before: float() read fullwidth and Arabic-Indic digits silently."""
    path = _csv(tmp_path, f"a,b,label\n0,1,0\n{digit},2,1\n")
    with pytest.raises(DataFileError) as info:
        datafiles.read_points_csv(path)
    assert (info.value.line, info.value.column) == (3, 1)
    assert "is not a number" in str(info.value)


def test_a_double_bom_is_stripped(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf\xef\xbb\xbfradius,texture,label\n0,1,0\n1,0,1\n")
    points = datafiles.read_points_csv(path)
    assert points.feature_names == ("radius", "texture")


def test_train_steps_is_capped_with_the_cap_stated(capsys):
    """Before: --train-steps accepted 10**11 (two weeks of work) without a word."""
    from bceviz import app

    with pytest.raises(SystemExit) as info:
        app.build_parser().parse_args(["--train-steps", str(10**11)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "at most 10,000,000 training steps" in err and "100,000,000,000" in err
    assert app.build_parser().parse_args(["--train-steps", "10000000"]).train_steps == 10**7


def test_long_training_reports_progress_on_stderr(monkeypatch, capsys):
    from bceviz import app

    monkeypatch.setattr(app, "PROGRESS_SECONDS", 0.0)
    monkeypatch.setattr(app, "TRAIN_CHUNK", 50)
    state = AppState()
    app._train(state, 200)
    assert state.trainer.steps == 200
    lines = [line for line in capsys.readouterr().err.splitlines() if "training:" in line]
    assert lines[0].startswith("bceviz: training: 50 of 200 steps (25 %), about ")
    assert len(lines) == 3  # 50, 100, 150: none once done


def test_divergence_says_the_loss_became_infinite(monkeypatch):
    """Before: "the loss became inf" in the status bar."""
    state = AppState()
    trainer = state.trainer
    monkeypatch.setattr(trainer, "_evaluate", lambda w, b: None)  # the loss overflows
    state.step(1)
    assert trainer.diverged and "the loss became infinite" in state.status_message
    assert "became inf " not in state.status_message


def test_pos_weight_of_1e308_is_refused_by_the_state_with_its_range():
    """Before: an AssertionError inside the trainer."""
    from bceviz.model.state import StateError

    state = AppState()
    with pytest.raises(StateError, match=r"pos_weight 1e\+308 is too large: allowed \[0, 1e\+06\]"):
        state.set_spec(pos_weight=1e308)
    assert state.spec.pos_weight == 1.0
