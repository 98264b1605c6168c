"""Atomic file writes: write to a temporary file beside the target, fsync, then rename.

A reader (or a killed process) sees either the old file or the complete new one, never a torn
file. The temporary file is removed when the write fails. A process killed outright (SIGKILL, a
power cut) cannot remove its temporary file, so the name says whose it is —
``.NAME.seqscale-<pid>.tmp`` — and the next write to the same target removes every such file whose
process is gone. Every writer also goes through :func:`check_output`: the target must not be one of
the files being read, and its folder must exist.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from seqscale.errors import DataFileError

__all__ = ["atomic_path", "atomic_write", "check_output", "temporary_name"]

PathLike = str | os.PathLike[str]
_COUNTER = itertools.count()
_ADVICE = {
    errno.ENOSPC: "free some space or write elsewhere",
    errno.EDQUOT: "free some space or write elsewhere",
    errno.EROFS: "the file system is read-only; write elsewhere",
    errno.EACCES: "check the folder's permissions or write elsewhere",
    errno.EPERM: "check the folder's permissions or write elsewhere",
    errno.EISDIR: "the target is a folder; give a file name",
}


def _file_mode(target: Path) -> int:
    """The mode of the file being replaced, or the usual mode of a new file (umask applied)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:  # one of them does not exist (yet): compare the resolved paths
        return a.resolve() == b.resolve()


def check_output(target: PathLike, inputs: Iterable[PathLike | None] = ()) -> Path:
    """Refuse to write ``target`` over one of ``inputs``, into a missing folder, or onto a folder.

    Raises
    ------
    DataFileError
        One line naming the output and what to do. Same file means the same path once symlinks
        and ``..`` are resolved, or the same inode (a hard link).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_output(folder / "out.csv", [folder / "in.csv"]).name
    'out.csv'
    >>> check_output(folder / "in.csv", [folder / "." / "in.csv"])
    Traceback (most recent call last):
    ...
    seqscale.errors.DataFileError: ...in.csv is also an input ...
    """
    target = Path(target)
    for source in inputs:
        if source is not None and _same_file(Path(source), target):
            raise DataFileError(
                f"{target} is also an input ({source}); writing it would destroy the input. "
                "Give the output another name."
            )
    folder = target.parent if str(target.parent) else Path()
    if not folder.is_dir():
        raise DataFileError(f"cannot write {target}: folder {folder} does not exist; create it first.")
    if target.is_dir():
        raise DataFileError(f"cannot write {target}: it is a folder; give a file name.")
    return target


def _write_error(target: Path, err: OSError) -> DataFileError:
    advice = _ADVICE.get(err.errno, "check the folder and the disk")
    reason = err.strerror or str(err)
    return DataFileError(f"cannot write {target}: {reason}; {advice}.")


def _about_output(err: BaseException, tmp: Path, target: Path) -> bool:
    """Whether ``err`` is a write failure of the output (not, say, an input that cannot be read)."""
    if not isinstance(err, OSError) or err.errno not in _ADVICE:
        return False
    return err.filename is None or Path(err.filename) in (tmp, target)


def temporary_name(target: Path, pid: int) -> str:
    """The name of the temporary file that process ``pid`` writes before renaming onto ``target``."""
    return f".{target.name}.seqscale-{pid}.tmp"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _remove_leftovers(target: Path, folder: Path) -> None:
    """Delete temporary files of earlier writes to ``target`` whose process is gone (killed)."""
    pattern = re.compile(re.escape(f".{target.name}.seqscale-") + r"(\d+)(?:-\d+)?\.tmp")
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            found = pattern.fullmatch(entry.name)
            if found and not _alive(int(found.group(1))):
                with contextlib.suppress(OSError):
                    Path(entry.path).unlink()


def _create_temporary(target: Path, folder: Path) -> Path:
    """Create this process's temporary file for ``target`` (exclusively; a suffix when busy)."""
    pid = os.getpid()
    name = temporary_name(target, pid)
    while True:
        tmp = folder / name
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another thread of this process writes the same target
            name = f".{target.name}.seqscale-{pid}-{next(_COUNTER)}.tmp"
            continue
        except OSError as err:
            raise _write_error(target, err) from None
        os.close(fd)
        return tmp


@contextlib.contextmanager
def atomic_path(target: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    Use this when a library (pyarrow, matplotlib) wants a path to write to. On any exception the
    temporary file is deleted and ``target`` is left as it was; a full disk, a read-only file
    system, a folder in the way or a permission problem becomes a ``DataFileError`` naming
    ``target`` (never the temporary file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "a.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (folder / "a.txt").read_text()
    'hello'
    """
    target = check_output(target)
    folder = target.parent if str(target.parent) else Path()
    _remove_leftovers(target, folder)
    tmp = _create_temporary(target, folder)
    try:
        tmp.chmod(_file_mode(target))
        yield tmp
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        tmp.replace(target)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if _about_output(err, tmp, target):
            raise _write_error(target, err) from None
        raise


@contextlib.contextmanager
def atomic_write(target: PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file beside ``target`` for writing; rename it onto ``target`` on success.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_write(folder / "b.json") as fh:
    ...     _ = fh.write("{}")
    >>> (folder / "b.json").read_text()
    '{}'
    """
    if "b" in mode:
        encoding = None
    with atomic_path(target) as tmp, tmp.open(mode, encoding=encoding) as handle:
        yield handle
        handle.flush()
