"""Value checks shared by every path (in memory, Dask, files): weights and infinite values.

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

__all__ = ["check_weights", "raise_infinite"]


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
    hits = np.argwhere(np.isinf(rows))
    if hits.size == 0:
        return
    row, channel = (int(v) for v in hits[0])
    row += row0
    label = names[channel] if names and channel < len(names) else f"x{channel}"
    raise InputError.at_rows(
        "Input X contains infinity or a value too large for dtype('float64'): "
        "feature {label!r} holds an infinite value (first at {row}); replace +-inf with NaN "
        "(ignored by fit, passed through by transform) or with a finite value.",
        row,
        label=label,
    )
