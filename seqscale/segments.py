"""Series stored as contiguous segments: ids plus ragged lengths, no id per row.

When the rows of a long-format table are already sorted by series — the usual layout of a panel
written by a database or by ``df.sort_values(["id", "time"])`` — the series of each row need not
be read at all: ``Segments(ids, lengths)`` says that series ``ids[k]`` owns the next
``lengths[k]`` rows. Statistics are then segment reductions over contiguous memory and the
transform applies each segment's coefficients in place of a per-row lookup, so a per-series fit
plus transform reads the values twice and writes them once, like a global one.

Examples
--------
>>> import numpy as np, seqscale
>>> values = np.array([1.0, 3.0, 10.0, 20.0, 30.0])
>>> seg = seqscale.Segments(["a", "b"], [2, 3])
>>> seqscale.StandardScaler().fit_transform(values, groups=seg).round(3).tolist()
[-1.0, 1.0, -1.225, 0.0, 1.225]
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from seqscale.errors import InputError

__all__ = ["Segments"]


@dataclass(frozen=True, eq=False)
class Segments:
    """Series ``ids[k]`` owns the ``lengths[k]`` rows that follow the previous segments.

    Parameters
    ----------
    ids : sequence of series ids (unique), one per segment
    lengths : sequence of non-negative ints, one per segment; they sum to the number of rows
    """

    ids: Any
    lengths: Any

    def __post_init__(self) -> None:
        ids = np.asarray(self.ids)
        lengths = np.asarray(self.lengths)
        if ids.ndim != 1 or lengths.shape != ids.shape:
            raise InputError(
                f"Segments needs one length per id; got {ids.shape} ids and {lengths.shape} lengths."
            )
        if lengths.dtype.kind not in "iu" or (lengths.size and lengths.min() < 0):
            raise InputError("Segments lengths must be non-negative integers.")
        object.__setattr__(self, "ids", ids)
        object.__setattr__(self, "lengths", lengths.astype(np.int64))

    @classmethod
    def from_sorted(cls, row_ids: Any) -> Segments:
        """Segments of a per-row id column whose equal ids are contiguous (e.g. sorted)."""
        ids = np.asarray(row_ids)
        if ids.size == 0:
            return cls(ids[:0], np.zeros(0, dtype=np.int64))
        starts = np.concatenate([[0], np.flatnonzero(ids[1:] != ids[:-1]) + 1])
        lengths = np.diff(np.append(starts, ids.size))
        return cls(ids[starts], lengths)

    @property
    def unique(self) -> bool:
        """Whether every id owns one segment (else the general per-row path is used)."""
        import pandas as pd

        return bool(pd.Index(self.ids).is_unique)

    @property
    def offsets(self) -> np.ndarray:
        """Row offsets: segment k is ``rows[offsets[k]:offsets[k + 1]]``."""
        return np.concatenate([[0], np.cumsum(self.lengths)]).astype(np.int64)

    def check_rows(self, n_rows: int) -> None:
        """Refuse lengths that do not add up to the data's rows."""
        total = int(self.lengths.sum())
        if total != n_rows:
            raise InputError(f"Segments lengths add up to {total} rows but the data has {n_rows}.")

    def row_ids(self) -> np.ndarray:
        """The id of every row (for the general per-row path)."""
        return np.repeat(self.ids, self.lengths)


def segment_moments(rows: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(count, mean, m2, min, max)`` of each segment, shape ``(segments, channels)``."""
    kernels = _compiled()
    out = np.empty((5, offsets.size - 1, rows.shape[1]))
    kernels.moments(np.ascontiguousarray(rows), offsets, out)
    count, mean, m2, lo, hi = out
    empty = count == 0
    lo[empty], hi[empty] = np.nan, np.nan
    return count, mean, m2, lo, hi


def segment_apply(
    rows: np.ndarray,
    offsets: np.ndarray,
    shift: np.ndarray,
    scale: np.ndarray,
    offset: np.ndarray,
    out: np.ndarray | None,
    invert: bool,
) -> tuple[np.ndarray, int]:
    """Apply (or invert) segment k's coefficients to its rows; returns (result, infinite inputs)."""
    kernels = _compiled()
    rows = np.ascontiguousarray(rows)
    result = np.empty_like(rows) if out is None else out
    n_inf = kernels.apply(rows, offsets, shift, scale, offset, result, invert)
    return result, int(n_inf)


@functools.cache
def _compiled() -> Any:
    import numba

    opts = {"cache": True, "nogil": True, "error_model": "numpy"}

    @numba.njit(parallel=True, **opts)
    def moments(x, offsets, out):  # pragma: no cover - compiled
        n_channels = x.shape[1]
        xf = x.reshape(-1)
        for k in numba.prange(offsets.size - 1):
            a, b = offsets[k] * n_channels, offsets[k + 1] * n_channels
            for c in range(n_channels):
                # branch-free (selects) so that the loops vectorize; NaN is skipped
                n = 0.0
                s = 0.0
                lo = np.inf
                hi = -np.inf
                for e in range(a + c, b, n_channels):
                    v = np.float64(xf[e])
                    ok = v == v
                    n += 1.0 if ok else 0.0
                    s += v if ok else 0.0
                    lo = v if (ok and v < lo) else lo
                    hi = v if (ok and v > hi) else hi
                mean = s / n if n > 0 else 0.0
                m2 = 0.0
                corr = 0.0
                for e in range(a + c, b, n_channels):
                    v = np.float64(xf[e])
                    d = v - mean if v == v else 0.0
                    m2 += d * d
                    corr += d
                if n > 0:  # corrected two-pass: exact to rounding
                    m2 -= corr * corr / n
                    mean += corr / n
                out[0, k, c] = n
                out[1, k, c] = mean
                out[2, k, c] = max(m2, 0.0)
                out[3, k, c] = lo
                out[4, k, c] = hi

    @numba.njit(parallel=True, **opts)
    def apply(x, offsets, shift, scale, offset, out, invert):  # pragma: no cover - compiled
        total = 0
        n_channels = x.shape[1]
        xf = x.reshape(-1)
        of = out.reshape(-1)
        for k in numba.prange(offsets.size - 1):
            n_inf = 0
            a, b = offsets[k] * n_channels, offsets[k + 1] * n_channels
            if n_channels == 1:  # contiguous: a loop the compiler vectorizes
                h, s, o = shift[k, 0], scale[k, 0], offset[k, 0]
                if invert:
                    for e in range(a, b):
                        of[e] = (np.float64(xf[e]) - o) / s + h
                else:
                    for e in range(a, b):
                        of[e] = (np.float64(xf[e]) - h) * s + o
                    for e in range(a, b):  # from cache
                        n_inf += abs(np.float64(xf[e])) == np.inf
                continue
            for c in range(n_channels):
                h, s, o = shift[k, c], scale[k, c], offset[k, c]
                if invert:
                    for e in range(a + c, b, n_channels):
                        of[e] = (np.float64(xf[e]) - o) / s + h
                else:
                    for e in range(a + c, b, n_channels):
                        v = np.float64(xf[e])
                        n_inf += abs(v) == np.inf
                        of[e] = (v - h) * s + o
            total += n_inf
        return total

    class Kernels:
        pass

    kernels = Kernels()
    kernels.moments = moments
    kernels.apply = apply
    return kernels
