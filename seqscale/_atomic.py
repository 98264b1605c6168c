"""Atomic file writes: write to a temporary file beside the target, fsync, then rename.

A reader (or a killed process) sees either the old file or the complete new one, never a torn
file. The temporary file is removed when the write fails.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_path", "atomic_write"]


def _file_mode(target: Path) -> int:
    """The mode of the file being replaced, or the usual mode of a new file (umask applied)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    Use this when a library (pyarrow, matplotlib) wants a path to write to. On any exception the
    temporary file is deleted and ``target`` is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "a.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (folder / "a.txt").read_text()
    'hello'
    """
    target = Path(target)
    directory = target.parent if str(target.parent) else Path()
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    tmp = Path(name)
    tmp.chmod(_file_mode(target))
    try:
        yield tmp
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        tmp.replace(target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_write(
    target: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8"
) -> Iterator[IO]:
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
