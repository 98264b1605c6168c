"""Series ids for per-series (panel) scaling: ids to integer codes, unseen-series policy.

Every series gets one row of coefficients. Ids are mapped to codes with a hash table (pandas'
``factorize`` / ``Index.get_indexer``), or — for integer ids in a compact range, the usual case
of store or sensor numbers — with a direct lookup table, one gather per row. No Python loop per
series anywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from seqscale.core import kernels as _kernels
from seqscale.errors import InputError, ParameterError, UnseenSeriesError

__all__ = [
    "UNSEEN_POLICIES",
    "drop_absent",
    "encode_new",
    "id_array",
    "lookup",
    "row_ids",
    "sampled_span",
    "series_codes",
    "span_codes",
    "span_offsets",
]

UNSEEN_POLICIES = ("error", "pooled", "median", "own")


def id_array(groups: Any) -> np.ndarray:
    """The ids as a numpy array; Arrow-backed text ids (pandas' default string dtype, polars,
    pyarrow) are decoded once per distinct id, so the rows of a series share one object.

    Examples
    --------
    >>> import pandas as pd
    >>> id_array(pd.Series(["b", "a", "b"], dtype="string[pyarrow]")).tolist()
    ['b', 'a', 'b']
    """
    arrow = arrow_text(groups)
    if arrow is not None:
        return _decode_dictionary(arrow)
    return groups.to_numpy() if hasattr(groups, "to_numpy") else np.asarray(groups)


def arrow_text(groups: Any) -> Any:
    """The pyarrow array of Arrow-backed text ids (zero copy), else None."""
    module = type(groups).__module__
    if module.startswith("pandas"):
        dtype = getattr(groups, "dtype", None)
        if getattr(dtype, "storage", None) != "pyarrow" and getattr(dtype, "pyarrow_dtype", None) is None:
            return None
    elif not module.startswith(("polars", "pyarrow")):
        return None
    import pyarrow as pa

    try:
        arr = groups.to_arrow() if module.startswith("polars") else pa.array(groups)
    except (TypeError, ValueError, pa.ArrowException):
        return None
    text = (pa.types.is_string, pa.types.is_large_string, getattr(pa.types, "is_string_view", None))
    return arr if any(check is not None and check(arr.type) for check in text) else None


def _decode_dictionary(arr: Any) -> np.ndarray:
    """Object array of the ids of a pyarrow text array: one Python string per distinct id
    (None for a null), gathered to the rows."""
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    encoded = arr.dictionary_encode()
    values = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    index = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    if encoded.null_count:
        values = np.append(values, np.array([None], dtype=object))  # index -1: the null
    return values[index]


def row_ids(groups: Any, n_rows: int, layout_shape: tuple[int, ...]) -> np.ndarray:
    ids = id_array(groups)
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
    return ids


def _factorize(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One hash pass: ``(codes, uniques)``; a missing id (None, NaN) is an error naming its row."""
    codes, uniques = pd.factorize(ids, sort=False, use_na_sentinel=True)
    if codes.size and codes.min() < 0:
        first = int(np.flatnonzero(codes < 0)[0])
        raise InputError.at_rows("groups has a missing series id at {row}; every row needs an id.", first)
    return codes.astype(np.int64, copy=False), np.asarray(uniques, dtype=object)


def series_codes(groups: Any, n_rows: int, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(codes, uniques)``: ``codes[i]`` is the position of row i's id in ``uniques``.

    Examples
    --------
    >>> codes, ids = series_codes(["b", "a", "b"], 3, (3, 1))
    >>> codes.tolist(), ids.tolist()
    ([0, 1, 0], ['b', 'a'])
    """
    ids = row_ids(groups, n_rows, shape)
    return _factorize(ids)


def lookup(
    known: np.ndarray, groups: Any, n_rows: int, shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Codes of ``groups`` among ``known`` ids (-1 for unseen), the ids themselves, and whether
    any is unseen (known without a pass over the codes where the lookup tells).

    Examples
    --------
    >>> codes, ids, unseen = lookup(np.array(["a", "b"], dtype=object), ["b", "c"], 2, (2,))
    >>> codes.tolist(), unseen
    ([1, -1], True)
    """
    ids = row_ids(groups, n_rows, shape)
    if _is_arange(known) and ids.dtype.kind in "iu" and ids.size:
        lo, hi = _kernels.int_span(ids)
        if lo >= 0 and hi < known.size:  # the ids are the codes already
            return ids.astype(np.int64, copy=False), ids, False
    table = _int_table(known, ids)
    if table is not None:
        lo, positions = table
        codes = positions[span_offsets(ids, lo)]
        return codes, ids, bool((positions < 0).any()) and bool((codes < 0).any())
    # hash the rows once, then look up only the distinct ids among the known ones
    local, uniques = _factorize(ids)
    positions = pd.Index(known).get_indexer(uniques).astype(np.int64)
    return positions[local], ids, bool((positions < 0).any())


def _is_arange(known: np.ndarray) -> bool:
    """True when the known ids are 0, 1, ..., n-1 (ids that are already codes)."""
    return (
        known.dtype.kind in "iu"
        and known.size > 0
        and int(known[0]) == 0
        and bool(np.all(np.diff(known) == 1))
    )


def compact_ints(*arrays: np.ndarray) -> tuple[int, int] | None:
    """``(low, high)`` of integer arrays whose values span a compact range, else None."""
    if not all(a.dtype.kind in "iu" for a in arrays):
        return None
    present = [a for a in arrays if a.size]
    if not present:
        return None
    spans = [_kernels.int_span(a) for a in present]  # one pass each, not two
    lo = min(a for a, _ in spans)
    hi = max(b for _, b in spans)
    return (lo, hi) if _compact(lo, hi, sum(a.size for a in arrays)) else None


def _compact(lo: int, hi: int, n: int) -> bool:
    """Whether integers ``lo .. hi`` make a table small enough for ``n`` ids: at most about four
    entries per id (else hashing the ids is cheaper)."""
    return hi - lo <= 4 * n + 1024


def _int_table(known: np.ndarray, ids: np.ndarray) -> tuple[int, np.ndarray] | None:
    """``(low, positions)`` with ``positions[id - low]`` the code of ``id`` (-1 unseen)."""
    span = compact_ints(np.asarray(known) if known.dtype.kind in "iu" else known, ids)
    if span is None or known.dtype.kind not in "iu":
        return None
    lo, hi = span
    positions = np.full(hi - lo + 1, -1, dtype=np.int64)
    positions[known.astype(np.int64) - lo] = np.arange(known.size)
    return lo, positions


def span_codes(ids: np.ndarray) -> tuple[np.ndarray, int, int] | None:
    """``(codes, lo, size)`` for 1D integer ids in a compact range (the rule of
    :func:`compact_ints`): ``codes = ids - lo`` over the whole span ``[lo, lo + size)``, found
    by one min/max pass (no copy when ``lo`` is 0). Integers of the span may not occur; a fit
    learns which from its statistics (an empty entry) and :func:`drop_absent` removes them.
    None for other ids.

    Examples
    --------
    >>> codes, lo, size = span_codes(np.array([12, 10, 12]))
    >>> codes.tolist(), lo, size
    ([2, 0, 2], 10, 3)
    """
    span = compact_ints(ids) if ids.ndim == 1 else None
    if span is None:
        return None
    lo, hi = span
    return span_offsets(ids, lo), lo, hi - lo + 1


def sampled_span(ids: np.ndarray) -> tuple[int, int] | None:
    """A guess at the span of many 1D int32/int64 ids: ``(lo, size)`` from the low and high
    ids of 4,096 rows spread over them, widened by an eighth of their spread on each side (to 0
    when that reaches it), so that for rows in any order the span misses an id only with
    negligible chance; None for other ids, fewer rows, or a span larger than
    :func:`compact_ints` allows. A pass over the rows can then check the guess instead of a
    first pass finding the span.

    Examples
    --------
    >>> sampled_span(np.arange(100_000)[::-1].copy())
    (0, 112515)
    >>> sampled_span(np.arange(10)) is None
    True
    """
    if ids.ndim != 1 or ids.dtype not in (np.int32, np.int64) or ids.size < 1 << 16:
        return None
    sample = ids[np.linspace(0, ids.size - 1, 4096).astype(np.intp)]
    low, high = int(sample.min()), int(sample.max())
    pad = (high - low) // 8 + 16
    lo = 0 if 0 <= low <= pad else low - pad
    hi = high + pad
    return (lo, hi - lo + 1) if _compact(lo, hi, ids.size) else None


def span_offsets(ids: np.ndarray, lo: int) -> np.ndarray:
    """``ids - lo`` as int64 (ids within a compact span from ``lo``; no copy when ``lo`` is 0).

    Examples
    --------
    >>> span_offsets(np.array([12, 10], dtype=np.int16), 10).tolist()
    [2, 0]
    """
    if lo == 0:
        return ids.astype(np.int64, copy=False)
    if ids.dtype == np.uint64:  # no wider type: the difference is small, so it fits
        return (ids - np.uint64(lo)).astype(np.int64)
    return np.subtract(ids, lo, dtype=np.int64)  # widened first: int16 ids can overflow


def drop_absent(
    codes: np.ndarray, lo: int, size: int, present: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)`` of :func:`span_codes`' ids once ``present`` (which integers of the
    span occur; None: all of them) is known: the codes renumbered without the absent ones.

    Examples
    --------
    >>> codes, ids = drop_absent(np.array([2, 0, 2]), 10, 3, np.array([True, False, True]))
    >>> codes.tolist(), ids.tolist()
    ([1, 0, 1], [10, 12])
    """
    if present is None or present.all():
        return codes, np.arange(lo, lo + size, dtype=np.int64)
    positions = np.cumsum(present) - 1
    return positions[codes], (np.flatnonzero(present) + lo).astype(np.int64)


def _new_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)`` of ids (sorted uniques for compact integers, else first seen)."""
    spanned = span_codes(ids)
    if spanned is None:
        return _factorize(ids)
    codes, lo, size = spanned
    return drop_absent(codes, lo, size, _kernels.int_presence(ids, lo, size))


def encode_new(
    known: np.ndarray, groups: Any, n_rows: int, shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``groups`` where unseen ids are appended after ``known``; returns (codes, all ids)."""
    if len(known) == 0:
        ids = row_ids(groups, n_rows, shape)
        return _new_ids(ids)
    codes, ids, any_unseen = lookup(known, groups, n_rows, shape)
    if not any_unseen:
        return codes, known
    unseen = codes < 0
    new_codes, new_ids = _new_ids(ids[unseen])
    codes[unseen] = new_codes + len(known)
    same_kind = known.dtype.kind in "iu" and new_ids.dtype.kind in "iu"
    dtype = np.int64 if same_kind else object
    return codes, np.concatenate([known.astype(dtype), new_ids.astype(dtype)])


def check_policy(unseen: str) -> None:
    """Refuse an unknown unseen-series policy."""
    if unseen not in UNSEEN_POLICIES:
        raise ParameterError(f"unseen={unseen!r} is not one of {UNSEEN_POLICIES}.")


def unseen_error(ids: np.ndarray, codes: np.ndarray, advice: str | None = None) -> UnseenSeriesError:
    """The error for series ids not seen at fit time (policy ``"error"``, or an inverse)."""
    missing = pd.unique(ids[codes < 0])
    shown = ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in missing[:5])
    shown += " ..." if missing.size > 5 else ""
    advice = advice or "Fit (or partial_fit) on them first, or choose unseen='pooled', 'median' or 'own'."
    return UnseenSeriesError(f"{missing.size} series id(s) were not seen at fit time: {shown}. {advice}")
