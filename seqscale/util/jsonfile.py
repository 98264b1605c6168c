"""The one reader of seqscale's JSON files (coefficients, plans, pipelines).

Reads at most :data:`MAX_BYTES` from a regular file, decodes strict UTF-8 and parses strict JSON:
duplicate keys, integer literals too long to convert and lone UTF-16
surrogates (``"\\ud800"``, which cannot be written back as UTF-8) are refused. Every problem is a
:class:`~seqscale.errors.CoefficientFileError` naming the file and what to do.
"""

from __future__ import annotations

import json
import os
import re
import stat
from typing import Any

from seqscale.errors import CoefficientFileError

__all__ = ["MAX_BYTES", "read_json"]

#: A coefficient file of one million channels is 230 MB (standard) to 330 MB (per-series robust,
#: the widest); three times that leaves room for larger files while /dev/zero is refused fast.
MAX_BYTES = 1 << 30
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class _Refused(ValueError):
    """Internal: a JSON value that json would accept but seqscale refuses."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise _Refused(f"key {duplicate!r} appears twice in one object; keep one")
    return out


def _read_bytes(where: str, kind: str) -> bytes:
    try:
        fd = os.open(where, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise CoefficientFileError(f"{where}: no such {kind} file.") from None
    except OSError as err:
        raise CoefficientFileError(f"{where}: cannot read the {kind} file ({err.strerror}).") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CoefficientFileError(
            f"{where} is not a regular file (a device, pipe or folder); give the path of a {kind} file."
        )
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(MAX_BYTES + 1)
        except OSError as err:
            raise CoefficientFileError(f"{where}: cannot read the {kind} file ({err.strerror}).") from None
    if len(data) > MAX_BYTES:
        raise CoefficientFileError(
            f"{where}: larger than {MAX_BYTES >> 20} MiB, the most seqscale reads from a {kind} file "
            "(a coefficient file of one million channels is 230-330 MB); is it the right file?"
        )
    return data


def _lone_surrogate(value: Any, where: str = "") -> str | None:
    """The dotted path of the first string (or key) holding a lone surrogate, else None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where or "(top level)"
        return None
    items: Any = ()
    if isinstance(value, dict):
        for key in value:
            if _lone_surrogate(key) is not None:
                return f"{where}.{key!a}".lstrip(".")
        items = ((f"{where}.{k}".lstrip("."), v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    for path, item in items:
        found = _lone_surrogate(item, path)
        if found is not None:
            return found
    return None


def read_json(path: str | os.PathLike[str], kind: str) -> Any:
    """Parse the JSON file at ``path`` strictly; ``kind`` ("coefficient", "plan"...) is for messages.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.json"
    >>> _ = path.write_text('{"a": 1, "a": 2}')
    >>> try:
    ...     read_json(path, "plan")
    ... except CoefficientFileError as err:
    ...     print(str(err).split(": ", 1)[1])
    not a valid plan file: key 'a' appears twice in one object; keep one.
    """
    where = os.fspath(path)
    data = _read_bytes(where, kind)
    try:
        text = data.decode("utf-8")
        del data  # a large file is held once while it is parsed, not twice
        record = json.loads(text, object_pairs_hook=_pairs)
    except _Refused as err:
        raise CoefficientFileError(f"{where}: not a valid {kind} file: {err}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise CoefficientFileError(
            f"{where}: not a readable JSON {kind} file ({err}); it may be truncated or damaged. "
            "Write it again with seqscale."
        ) from None
    except ValueError as err:  # an integer literal beyond Python's 4,300-digit conversion limit
        digits = re.search(r"has (\d+) digits", str(err))
        size = f" of {digits.group(1)} digits" if digits else ""
        raise CoefficientFileError(
            f"{where}: not a valid {kind} file: an integer{size} is too long (more than 4,300 digits)."
        ) from None
    if _SURROGATE_ESCAPE.search(text):
        found = _lone_surrogate(record)
        if found is not None:
            raise CoefficientFileError(
                f"{where}: field {found} holds a lone UTF-16 surrogate escape (\\ud800-\\udfff), "
                "which is not text; fix the name."
            )
    return record
