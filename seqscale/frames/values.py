"""Value checks shared by every path (in memory, Dask, files): weights, infinite values, and
values that scaling sends past the float64 range.

Examples
--------
>>> import numpy as np
>>> check_weights(np.array([1.0, 0.0]))
>>> try:
...     raise_infinite(["a"], np.array([[1.0], [np.inf]]))
... except InputError as err:
...     "feature 'a'" in str(err) and "row 1" in str(err)
True
"""

from __future__ import annotations

import numpy as np

from seqscale.errors import InputError

__all__ = ["check_weights", "raise_infinite", "raise_not_finite"]


def check_weights(w: np.ndarray, what: str = "sample_weight", row0: int = 0) -> None:
    """Refuse negative, NaN or infinite weights, naming the first one and its index (counted
    from ``row0``, e.g. the first row of a file's batch)."""
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        first = np.unravel_index(int(np.flatnonzero(bad.ravel())[0]), w.shape)
        where = first if w.ndim > 1 else int(first[0]) + row0
        raise InputError(
            f"{what} holds {float(w[first])!r} at index {where}; "
            "weights must be finite and non-negative (0 leaves a sample out)."
        )


def raise_infinite(names: list[str] | None, rows: np.ndarray, row0: int = 0) -> None:
    """Raise the InputError for the first +-inf in ``rows``, naming its feature and row."""
    first = _first_infinite(names, rows)
    if first is None:
        return
    row, label = first
    raise InputError.at_rows(
        "Input X contains infinity or a value too large for dtype('float64'): "
        "feature {label!r} holds an infinite value (first at {row}); replace +-inf with NaN "
        "(ignored by fit, passed through by transform) or with a finite value.",
        row + row0,
        label=label,
    )


def raise_not_finite(
    names: list[str] | None, rows: np.ndarray, result: np.ndarray, row0: int = 0, in_place: bool = False
) -> None:
    """Raise for the first +-inf a map gave: an infinite input (:func:`raise_infinite`), or a
    finite value that the coefficients sent past the float64 range (a std or scale given by
    hand far below the data's, or data far outside the range the scaler was fitted on).

    ``result`` is the map's output; with ``in_place`` it overwrote ``rows``, so which of the
    two happened cannot be told. Nothing is raised when ``result`` holds no infinity.

    Examples
    --------
    >>> x = np.array([[1.0], [1e10]])
    >>> try:
    ...     raise_not_finite(["a"], x, x / 1e-300)
    ... except InputError as err:
    ...     "feature 'a'" in str(err) and "row 1" in str(err) and "float64" in str(err)
    True
    """
    if not in_place:
        raise_infinite(names, rows, row0)  # returns when the input holds none
    first = _first_infinite(names, result)
    if first is None:
        return
    row, label = first
    cause = "the input held +-inf there (replace it with NaN or a finite value), or " if in_place else ""
    raise InputError.at_rows(
        "scaling sends feature {label!r} past the float64 range (first at {row}): "
        + cause
        + "the coefficients are too extreme for that value; check a std, scale or range given to "
        "the scaler by hand, or refit on data that includes values like it.",
        row + row0,
        label=label,
    )


def _first_infinite(names: list[str] | None, values: np.ndarray) -> tuple[int, str] | None:
    """``(row, feature label)`` of the first +-inf of a ``rows x channels`` array, or None."""
    hits = np.argwhere(np.isinf(values))
    if hits.size == 0:
        return None
    row, channel = (int(v) for v in hits[0])
    return row, names[channel] if names and channel < len(names) else f"x{channel}"
