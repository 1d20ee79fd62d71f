"""Safe file access: the one atomic writer, and the one reader of user files.

Every file bceviz writes (sessions, CSV, reports, PNG, SVG) goes through
:func:`write_atomic`; every user file it reads (CSV data, sessions) through
:func:`read_regular`, which refuses anything that is not a regular file at
once (a FIFO would block the reader for ever, a device could be endless) and
reads at most a stated number of bytes.

Writing
-------

:func:`write_atomic` writes the bytes to a temporary file in the target's own
folder, flushes and fsyncs it, gives it the permissions the target has (or
the user's umask for a new file) and ``os.replace``-s it over the target, then
fsyncs the folder (POSIX) so the rename survives a power cut. A reader
therefore sees the old file or the complete new one, never a part.

Failure paths, all of which leave the old file untouched and no temporary
file behind:

* a refused target (a folder, a missing folder, a device, pipe or socket)
  raises :class:`WriteError` before anything is created;
* a failing write, fsync, chmod or rename raises :class:`WriteError` with the
  system's reason (e.g. "No space left on device");
* anything else raised meanwhile (``KeyboardInterrupt``, ``MemoryError``, a
  bug) removes the temporary file and propagates unchanged.

Only a hard kill (SIGKILL, a power cut) between creating and renaming can
leave a temporary file. Its name records the writing process
(``.<name>.bceviz-<pid>-<random>.tmp``), and the next write to the same
target removes those of processes that no longer run.

A symbolic link is written through (the file it points to is replaced and the
link kept). Text is encoded as strict UTF-8 before anything is created: text
holding lone surrogates (undecodable bytes of a file name, see
:func:`bceviz.model.session.dumps_session`) must be made encodable by the
caller first.

Reading
-------
:func:`read_regular` stats the path, refuses a folder, a pipe, a device or a
socket and a file over the limit before opening it, opens it non-blocking (so
a file swapped for a FIFO in between cannot block either), checks the opened
file again and reads one byte more than the limit to notice a file that grew
meanwhile. Problems are :class:`ReadError` with a ``kind`` the caller words
for its own kind of file.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import stat
from typing import Union

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["ReadError", "WriteError", "read_regular", "temp_files_for", "write_atomic"]

#: A target name longer than this (in bytes) is shortened in its temporary file's name,
#: so the temporary name stays within the usual 255-byte limit of a file name.
_MAX_STEM_BYTES = 100
_TEMP = re.compile(r"\.bceviz-(\d+)-[0-9a-f]{8}\.tmp\Z")


class WriteError(OSError):
    """A file could not be written; ``reason`` is for the user, ``path`` names the target.

    An ``OSError`` (``errno`` set where the system gave one), so callers that
    catch OSError keep working; ``str()`` reads ``"<path>: <reason>"``.
    """

    def __init__(self, path: PathLike, reason: str, code: int = 0) -> None:
        super().__init__(code, reason, os.fspath(path))
        self.path = os.fspath(path)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def _stem(name: str) -> str:
    """The part of the temporary file's name that shows which file it belongs to."""
    raw = os.fsencode(name)
    if len(raw) <= _MAX_STEM_BYTES:
        return name
    return hashlib.sha256(raw).hexdigest()[:16]


def temp_files_for(path: PathLike) -> list[str]:
    """Temporary files (full paths) of interrupted writes to ``path`` by any process."""
    target = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(target)
    prefix = f".{_stem(name)}"
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    return [os.path.join(folder, e) for e in entries
            if e.startswith(prefix) and _TEMP.fullmatch(e[len(prefix):])]


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # someone else's live process, or cannot tell: keep its file
    return True


def _sweep(target: str) -> None:
    """Remove temporary files that killed writers of ``target`` left behind."""
    prefix_len = len(f".{_stem(os.path.basename(target))}")
    for temp in temp_files_for(target):
        match = _TEMP.fullmatch(os.path.basename(temp)[prefix_len:])
        if match is not None and not _running(int(match.group(1))):
            try:
                os.unlink(temp)
            except OSError:
                pass


def _resolve(fspath: str) -> str:
    """The file to replace: a symbolic link's destination, checked to be writable as a file."""
    target = os.path.realpath(fspath) if os.path.islink(fspath) else os.path.abspath(fspath)
    if os.path.isdir(target):
        raise WriteError(fspath, "it is a folder, not a file", errno.EISDIR)
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        what = "is a file, not a folder" if os.path.exists(folder) else "does not exist"
        raise WriteError(fspath, f"the folder {folder} {what}", errno.ENOENT)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise WriteError(fspath, f"cannot be written: {exc.strerror or exc}", exc.errno or 0) \
            from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise WriteError(fspath, "it is not a regular file (a device, pipe or socket); "
                                 "choose a file name", errno.EINVAL)
    return target


def _fsync_dir(folder: str) -> None:
    """Make the rename durable where the OS allows (not on Windows)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: PathLike, data: bytes | bytearray | memoryview | str) -> None:
    """Replace ``path`` with ``data`` (bytes, or text written as UTF-8) in one step.

    See the module docstring for the guarantees. Raises :class:`WriteError`
    (an ``OSError``) naming the path and the reason; ``UnicodeEncodeError``
    for text that is not valid Unicode (nothing is created then).
    """
    fspath = os.fspath(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    target = _resolve(fspath)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = None  # a new file: os.open applies the user's umask to 0o666
    folder, name = os.path.split(target)
    _sweep(target)
    temp = os.path.join(folder, f".{_stem(name)}.bceviz-{os.getpid()}-{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) \
        | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(temp, flags, 0o666)
    except OSError as exc:
        raise WriteError(fspath, f"cannot create a file in {folder}: {exc.strerror or exc}",
                         exc.errno or 0) from None
    done = False
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            if mode is not None:
                os.chmod(temp, mode)
            os.replace(temp, target)
        except OSError as exc:
            raise WriteError(fspath, exc.strerror or str(exc), exc.errno or 0) from None
        done = True
    finally:
        if not done:  # every failure, whatever was raised (KeyboardInterrupt included)
            try:
                os.unlink(temp)
            except OSError:
                pass
    _fsync_dir(folder)


class ReadError(OSError):
    """A user file that cannot be read; ``kind`` says why, ``reason`` in words.

    ``kind`` is one of ``"missing"``, ``"folder"``, ``"not_regular"``,
    ``"too_large"`` (``size`` holds the bytes found, or None when the file
    grew past the limit while being read), ``"permission"`` or ``"other"``.
    """

    def __init__(self, path: PathLike, kind: str, reason: str, *, size: int | None = None,
                 code: int = 0) -> None:
        super().__init__(code, reason, os.fspath(path))
        self.path = os.fspath(path)
        self.kind = kind
        self.reason = reason
        self.size = size

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def _read_error(path: str, exc: OSError) -> ReadError:
    if isinstance(exc, FileNotFoundError):
        return ReadError(path, "missing", "file not found", code=exc.errno or 0)
    if isinstance(exc, PermissionError):
        return ReadError(path, "permission", "permission denied", code=exc.errno or 0)
    if isinstance(exc, IsADirectoryError):
        return ReadError(path, "folder", "is a folder, not a file", code=exc.errno or 0)
    return ReadError(path, "other", exc.strerror or str(exc), code=exc.errno or 0)


def _check_kind(path: str, info: os.stat_result, max_bytes: int) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise ReadError(path, "folder", "is a folder, not a file", code=errno.EISDIR)
    if not stat.S_ISREG(info.st_mode):
        what = ("a pipe (FIFO)" if stat.S_ISFIFO(info.st_mode)
                else "a socket" if stat.S_ISSOCK(info.st_mode) else "a device")
        raise ReadError(path, "not_regular", f"is not a regular file but {what}",
                        code=errno.EINVAL)
    if info.st_size > max_bytes:
        raise ReadError(path, "too_large", "is over the size limit", size=info.st_size,
                        code=errno.EFBIG)


def read_regular(path: PathLike, max_bytes: int) -> bytearray:
    """The bytes of a regular file of at most ``max_bytes`` bytes; :class:`ReadError` otherwise.

    Never blocks on a FIFO or a device and never reads more than
    ``max_bytes + 1`` bytes, whatever the path names. The bytes come in one
    buffer of the file's size (no second copy: peak memory is the file's size).
    """
    fspath = os.fspath(path)
    try:
        _check_kind(fspath, os.stat(fspath), max_bytes)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) \
            | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(fspath, flags)
    except ReadError:
        raise
    except OSError as exc:
        raise _read_error(fspath, exc) from None
    try:
        with os.fdopen(fd, "rb", buffering=0) as handle:
            info = os.fstat(handle.fileno())
            _check_kind(fspath, info, max_bytes)  # the file actually opened
            # One byte more than the file's size notices a file that grew meanwhile.
            buffer = bytearray(min(info.st_size, max_bytes) + 1)
            view = memoryview(buffer)
            filled = 0
            while filled < len(buffer):
                got = handle.readinto(view[filled:])
                if not got:
                    break
                filled += got
            if filled == len(buffer) and filled <= max_bytes:  # it grew: read the rest
                view.release()
                buffer += handle.read(max_bytes + 1 - filled)
                filled = len(buffer)
            else:
                view.release()
    except ReadError:
        raise
    except OSError as exc:
        raise _read_error(fspath, exc) from None
    if filled > max_bytes:
        raise ReadError(fspath, "too_large", "grew over the size limit while being read",
                        code=errno.EFBIG)
    del buffer[filled:]
    return buffer
