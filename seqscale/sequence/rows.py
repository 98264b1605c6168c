"""Rows named in error messages: short lists of rows, and rows of re-ordered data.

An error about rows is made with :meth:`seqscale.errors.SeqscaleError.at_rows`, so a caller that
read the data from a file can name the file's lines. Code that sorts or cuts the data before
checking it wraps the check in :func:`caller_rows`: the error then names the rows of the data the
caller gave.

Examples
--------
>>> import numpy as np
>>> from seqscale.errors import InputError
>>> template, rows = listed(np.array([4, 9, 12]), show=2)
>>> str(InputError.at_rows(f"bad values ({template}).", *rows))
'bad values (row 4, row 9, ...).'
>>> try:
...     with caller_rows(np.array([2, 0, 1])):  # sorted row -> the caller's row
...         raise InputError.at_rows("bad value at {row}.", 0)
... except InputError as err:
...     print(err, err.rows)
bad value at row 2. (2,)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from seqscale.errors import SeqscaleError

__all__ = ["caller_rows", "listed"]

SHOW = 10


def listed(positions: np.ndarray, show: int = SHOW) -> tuple[str, list[int]]:
    """A template naming the first ``show`` of ``positions`` and those rows.

    Parameters
    ----------
    positions : 1D integer array
        0-based row positions, in the order the message lists them.
    show : int, default 10
        How many rows the message names; ``", ..."`` follows when there are more.

    Returns
    -------
    template : str
        ``"{row}, {row}, ..."``, for :meth:`~seqscale.errors.SeqscaleError.at_rows`: join it to
        the rest of the template with ``+``; text from the user goes in as a value
        (``at_rows("column {name!r} (" + template + ")", *rows, name=name)``).
    rows : list of int
        The rows the template names, in order.
    """
    shown = [int(p) for p in np.asarray(positions)[:show]]
    more = ", ..." if len(positions) > show else ""
    return ", ".join(["{row}"] * len(shown)) + more, shown


@contextlib.contextmanager
def caller_rows(positions: np.ndarray | None) -> Iterator[None]:
    """An error raised inside that names row ``r`` names row ``positions[r]`` instead.

    Parameters
    ----------
    positions : 1D integer array or None
        For each row of the data checked inside, its position in the caller's data (e.g. the
        permutation that sorted it, or the rows a cut kept). None leaves the errors as they are.
    """
    try:
        yield
    except SeqscaleError as err:
        if positions is not None:
            err.renumber(positions)
        raise
