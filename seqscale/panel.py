"""Series ids for per-series (panel) scaling: ids to integer codes, unseen-series policy.

Every series gets one row of coefficients. Ids are mapped to codes with a hash table (pandas'
``factorize`` / ``Index.get_indexer``): no Python loop per series anywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from seqscale.errors import InputError, ParameterError, UnseenSeriesError

__all__ = ["UNSEEN_POLICIES", "encode_new", "lookup", "row_ids", "series_codes"]

UNSEEN_POLICIES = ("error", "pooled", "median", "own")


def row_ids(groups: Any, n_rows: int, layout_shape: tuple[int, ...]) -> np.ndarray:
    ids = groups.to_numpy() if hasattr(groups, "to_numpy") else np.asarray(groups)
    if ids.ndim != 1:
        raise InputError(f"groups must be one id per row; got an array of shape {ids.shape}.")
    if len(layout_shape) == 3 and ids.size == layout_shape[0]:
        ids = np.repeat(ids, layout_shape[1])  # one id per sample of a 3D array
    if ids.size != n_rows:
        raise InputError(
            f"groups has {ids.size} ids but the data has {n_rows} rows"
            + (f" ({layout_shape[0]} samples)" if len(layout_shape) == 3 else "")
            + "; give one series id per row (or per sample of a 3D array)."
        )
    if pd.isna(ids).any():
        first = int(np.flatnonzero(pd.isna(ids))[0])
        raise InputError(f"groups has a missing series id at row {first}; every row needs an id.")
    return ids


def series_codes(groups: Any, n_rows: int, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(codes, uniques)``: ``codes[i]`` is the position of row i's id in ``uniques``.

    Examples
    --------
    >>> codes, ids = series_codes(["b", "a", "b"], 3, (3, 1))
    >>> codes.tolist(), ids.tolist()
    ([0, 1, 0], ['b', 'a'])
    """
    ids = row_ids(groups, n_rows, shape)
    codes, uniques = pd.factorize(ids, sort=False)
    return codes.astype(np.int64), np.asarray(uniques, dtype=ids.dtype if ids.dtype != object else object)


def lookup(
    known: np.ndarray, groups: Any, n_rows: int, shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``groups`` among ``known`` ids (-1 for unseen) and the ids themselves."""
    ids = row_ids(groups, n_rows, shape)
    return pd.Index(known).get_indexer(ids).astype(np.int64), ids


def encode_new(
    known: np.ndarray, groups: Any, n_rows: int, shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``groups`` where unseen ids are appended after ``known``; returns (codes, all ids)."""
    codes, ids = lookup(known, groups, n_rows, shape)
    unseen = codes < 0
    if not unseen.any():
        return codes, known
    new_codes, new_ids = pd.factorize(ids[unseen], sort=False)
    codes[unseen] = new_codes + len(known)
    return codes, np.concatenate([np.asarray(known, dtype=object), np.asarray(new_ids, dtype=object)])


def check_policy(unseen: str) -> None:
    """Refuse an unknown unseen-series policy."""
    if unseen not in UNSEEN_POLICIES:
        raise ParameterError(f"unseen={unseen!r} is not one of {UNSEEN_POLICIES}.")


def unseen_error(ids: np.ndarray, codes: np.ndarray) -> UnseenSeriesError:
    """The error for series ids not seen at fit time (policy ``"error"``)."""
    missing = pd.unique(ids[codes < 0])
    shown = ", ".join(repr(v) for v in missing[:5]) + (" ..." if missing.size > 5 else "")
    return UnseenSeriesError(
        f"{missing.size} series id(s) were not seen at fit time: {shown}. Fit (or partial_fit) "
        "on them first, or choose unseen='pooled', 'median' or 'own'."
    )
