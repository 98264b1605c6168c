"""Series stored as contiguous segments: ids plus ragged lengths, no id per row.

When the rows of a long-format table are already sorted by series — the usual layout of a panel
written by a database or by ``df.sort_values(["id", "time"])`` — the series of each row need not
be read at all: ``Segments(ids, lengths)`` says that series ``ids[k]`` owns the next
``lengths[k]`` rows. Statistics are then segment reductions over contiguous memory and the
transform applies each segment's coefficients in place of a per-row lookup. ``fit_transform``
does both in one sweep: each segment is read from memory once, its statistics and coefficients
computed, and its scaled values written while it is still in cache — one read and one write of
the values, like ``values.copy()``.

Examples
--------
>>> import numpy as np, seqscale
>>> values = np.array([1.0, 3.0, 10.0, 20.0, 30.0])
>>> seg = seqscale.Segments(["a", "b"], [2, 3])
>>> seqscale.StandardScaler().fit_transform(values, groups=seg).round(3).tolist()
[-1.0, 1.0, -1.225, 0.0, 1.225]
"""

from __future__ import annotations

import ctypes
import functools
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from seqscale.core import kernels as _kernels
from seqscale.errors import InputError
from seqscale.frames import panel

__all__ = ["Segments", "sorted_runs"]


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
        starts = _run_starts(ids, budget=None)
        if starts is None:
            raise InputError("Segments.from_sorted: the ids do not compare one by one (use plain values).")
        return cls(ids[starts], np.diff(np.append(starts, ids.size)))

    @property
    def unique(self) -> bool:
        """Whether every id owns one segment (else the general per-row path is used)."""
        span = panel.compact_ints(self.ids)
        if span is not None:  # compact integers: one count per id
            return bool(np.bincount((self.ids - span[0]).astype(np.intp)).max() <= 1)
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


def sorted_runs(ids: Any, n_rows: int, layout_shape: tuple[int, ...]) -> Segments | None:
    """Segments of per-row ids whose rows are sorted by series, else None.

    The usual long-format table — ``df.sort_values(["id", "time"])`` — holds each series in one
    contiguous run of rows; its per-row ids then say no more than ``Segments(ids, lengths)`` and
    the segment kernels apply, with no per-row lookup of the ids. Runs are found by comparing
    neighbouring ids (a compiled pass for integers); short runs (interleaved series), a series
    split over several runs or a missing id keep the per-row path, which gives up early. Ids given
    per sample of a 3D array cover ``timesteps`` rows each.
    """
    arrow = None if isinstance(ids, np.ndarray) else panel.arrow_text(ids)
    if arrow is not None:  # Arrow text: neighbours compared on the Arrow buffers
        return _arrow_runs(arrow, n_rows, layout_shape)
    if hasattr(ids, "to_numpy") and not isinstance(ids, np.ndarray):
        ids = panel.id_array(ids)
    if not isinstance(ids, np.ndarray) or ids.ndim != 1 or ids.dtype.kind not in "iuOUSfM" or ids.size < 2:
        return None
    per_id = layout_shape[1] if len(layout_shape) == 3 and ids.size == layout_shape[0] else 1
    if ids.size * per_id != n_rows:
        return None  # the per-row path names the mismatch
    starts = _run_starts(ids, budget=ids.size // _kernels.MIN_RUN + 1)
    if starts is None:
        return None
    first = ids[starts]
    if first.dtype.kind in "OfM" and _missing(first).any():
        return None  # the per-row path names the row of a missing id
    seg = Segments(first, np.diff(np.append(starts, ids.size)) * per_id)
    return seg if seg.unique else None


def _arrow_runs(arr: Any, n_rows: int, layout_shape: tuple[int, ...]) -> Segments | None:
    """:func:`sorted_runs` of a pyarrow text array, without a Python string per row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    per_id = layout_shape[1] if len(layout_shape) == 3 and n == layout_shape[0] else 1
    if n < 2 or n * per_id != n_rows or arr.null_count:
        return None  # the per-row path names the mismatch or the missing id
    changed = pc.not_equal(arr[1:], arr[:-1]).to_numpy(zero_copy_only=False)
    starts = np.concatenate([[0], np.flatnonzero(changed) + 1]).astype(np.int64)
    if starts.size > n // _kernels.MIN_RUN + 1:
        return None
    first = panel.id_array(arr.take(pa.array(starts)))
    seg = Segments(first, np.diff(np.append(starts, n)) * per_id)
    return seg if seg.unique else None


def _run_starts(ids: np.ndarray, budget: int | None) -> np.ndarray | None:
    """Rows where runs of equal neighbouring ids start (``ids`` not empty), or None once there
    are more than ``budget`` runs (so unsorted ids are given up early)."""
    limit = ids.size if budget is None else budget
    impl = _get_impl() if _kernels.numba_enabled() else None
    if impl is not None and ids.dtype == object and ids.itemsize == ctypes.sizeof(ctypes.c_ssize_t):
        found = _object_run_starts(np.ascontiguousarray(ids), limit)
        if found is not None:
            return found
    if impl is not None and ids.dtype.kind in "iu":
        if budget is not None and _kernels.short_runs(ids):
            return None  # rows in random order: give up before scanning
        ids = np.ascontiguousarray(ids)
        parts = 2 if ids.size >= _kernels.PARALLEL_MIN_ELEMS else 1
        with _kernels.parallel_slot(parts) as parallel:
            run = impl.run_starts_parallel if parallel else impl.run_starts
            starts = run(ids, limit, parts if parallel else 1)
        return None if starts.size and starts[0] < 0 else starts
    found = [np.zeros(1, dtype=np.int64)]
    n_found = 1
    for a in range(1, ids.size, _COMPARE_CHUNK):  # chunks: unsorted ids are given up early
        b = min(a + _COMPARE_CHUNK, ids.size)
        try:
            changed = np.asarray(ids[a:b] != ids[a - 1 : b - 1], dtype=bool)
        except (TypeError, ValueError):  # ids that do not compare elementwise
            return None
        found.append(np.flatnonzero(changed) + a)
        n_found += found[-1].size
        if budget is not None and n_found > b // _kernels.MIN_RUN + 1:
            return None
    return np.concatenate(found)


def _object_run_starts(ids: np.ndarray, limit: int) -> np.ndarray | None:
    """Run starts of an object array (strings, mixed ids) found by identity first, or None.

    The rows of one series usually hold the same Python object (ids repeated from a list, read
    through a categorical, or built by ``np.repeat``), so the runs of equal object addresses are
    found by the integer kernel without touching a string; only at the address changes are the
    ids compared by value, which merges neighbouring runs of equal but distinct objects. None
    when the addresses change more than ``limit`` times (every row its own object): the caller
    then compares all neighbours by value.
    """
    addresses = np.ctypeslib.as_array((ctypes.c_ssize_t * ids.size).from_address(ids.ctypes.data))
    starts = _run_starts(addresses, limit)  # ``ids`` stays alive: the addresses stay valid
    if starts is None:
        return None
    if starts.size > 1:
        try:
            changed = np.asarray(ids[starts[1:]] != ids[starts[1:] - 1], dtype=bool)
        except (TypeError, ValueError):  # ids that do not compare elementwise
            return None
        starts = np.concatenate([starts[:1], starts[1:][changed]])
    return starts


def _missing(values: np.ndarray) -> np.ndarray:
    """Missing ids (None, NaN, NaT)."""
    import pandas as pd

    return np.asarray(pd.isna(values))


# ids compared per step when looking for runs without a compiled kernel
_COMPARE_CHUNK = 1 << 20


Stats = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Coefficients = tuple[np.ndarray, np.ndarray, np.ndarray]


def segment_moments(rows: np.ndarray, offsets: np.ndarray) -> Stats:
    """``(count, mean, m2, min, max)`` of each segment, shape ``(segments, channels)``.

    Segment ``k`` is ``rows[offsets[k]:offsets[k + 1]]``; NaN is skipped; a segment without values
    has count 0, mean 0, m2 0 and NaN min/max.
    """
    return segment_fit_apply(rows, offsets, None)[0]


def segment_fit_apply(
    rows: np.ndarray, offsets: np.ndarray, rule: tuple[str, float, float] | None
) -> tuple[Stats, Coefficients | None, np.ndarray | None]:
    """Statistics of each segment and, with a ``rule``, the rows scaled segment by segment.

    ``rule = (method, p0, p1)`` names the coefficients computed in the same sweep: ``"standard"``
    (``p0``, ``p1``: with_mean, with_std as 0/1), ``"minmax"`` (``p0, p1``: feature_range) or
    ``"maxabs"``. They follow :mod:`seqscale.core.methods` for data-driven coefficients; the caller
    compares them with the ones the method gives and re-applies any segment that differs (domain
    values, refusals). Segments holding +-inf are not written (the caller refuses them). Returns
    ``(statistics, (shift, scale, offset) or None, scaled rows or None)``; without numba only the
    statistics are computed.

    Examples
    --------
    >>> rows = np.array([[1.0], [3.0], [10.0], [20.0], [30.0]])
    >>> stats, coef, out = segment_fit_apply(rows, np.array([0, 2, 5]), ("minmax", 0.0, 1.0))
    >>> stats[1].ravel().tolist(), out.ravel().tolist()
    ([2.0, 20.0], [0.0, 1.0, 0.0, 0.5, 1.0])
    """
    rows = np.ascontiguousarray(rows)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    n_seg, n_channels = offsets.size - 1, rows.shape[1]
    impl = _get_impl() if _kernels.numba_enabled() else None
    if impl is None:
        codes = np.repeat(np.arange(n_seg), np.diff(offsets))
        return _kernels.segment_moments(rows, codes, n_seg), None, None
    stats = np.empty((5, n_seg, n_channels))
    coef = np.full((3, n_seg, n_channels), np.nan)
    kind, p0, p1 = (_LOOKUP, 0.0, 0.0) if rule is None else (KINDS[rule[0]], float(rule[1]), float(rule[2]))
    out = rows if rule is None else np.empty_like(rows)
    with _kernels.parallel_slot(_chunks(rows, n_seg)) as parallel:
        run = impl.fit_apply_parallel if parallel else impl.fit_apply_serial
        run(rows, offsets, kind, p0, p1, stats, coef, out)
    if rule is None:
        return tuple(stats), None, None
    return tuple(stats), tuple(coef), out


def segment_apply(
    rows: np.ndarray,
    offsets: np.ndarray,
    shift: np.ndarray,
    scale: np.ndarray,
    offset: np.ndarray,
    out: np.ndarray | None,
    invert: bool,
    which: np.ndarray | None = None,
    *,
    divide: bool = False,
) -> tuple[np.ndarray, int]:
    """Apply (or invert) segment k's coefficients ``[k]`` to its rows; returns ``(result, infinite
    values)``: when applying, the +-inf values written (infinite inputs, and finite ones the
    coefficients sent past float64); 0 when inverting.

    ``which`` restricts the work to those segments (the other rows of ``out`` are left as they are).
    With ``divide``, ``scale`` holds divisors (``Affine.factor``): ``(x - shift) / scale + offset``.
    """
    rows = np.ascontiguousarray(rows)
    offsets = np.asarray(offsets, dtype=np.int64)
    starts, ends = offsets[:-1], offsets[1:]
    if which is not None:
        starts, ends = starts[which], ends[which]
        shift, scale, offset = shift[which], scale[which], offset[which]
    result = np.empty_like(rows) if out is None else out
    impl = _get_impl() if _kernels.numba_enabled() else None
    if impl is None:
        return result, _np_apply(rows, starts, ends, (shift, scale, offset), result, invert, divide)
    coef = [np.ascontiguousarray(a, dtype=np.float64) for a in (shift, scale, offset)]
    with _kernels.parallel_slot(_chunks(rows, starts.size)) as parallel:
        run = impl.apply_parallel if parallel else impl.apply_serial
        n_inf = run(
            rows, np.ascontiguousarray(starts), np.ascontiguousarray(ends), *coef, result, invert, divide
        )
    return result, int(n_inf)


def _chunks(rows: np.ndarray, n_segments: int) -> int:
    """2 (run on numba's threads) for large inputs of several segments, else 1."""
    return 2 if rows.size >= _kernels.PARALLEL_MIN_ELEMS and n_segments > 1 else 1


def _np_apply(rows, starts, ends, coef, result, invert: bool, divide: bool = False) -> int:
    """numpy version of the apply kernel: one gather of the chosen rows, one scatter."""
    lengths = ends - starts
    first = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    index = np.repeat(starts - first, lengths) + np.arange(int(lengths.sum()))
    shift, scale, offset = (np.repeat(np.asarray(a, dtype=np.float64), lengths, axis=0) for a in coef)
    x = rows[index].astype(np.float64)
    with np.errstate(all="ignore"):
        if divide:
            result[index] = (x - offset) * scale + shift if invert else (x - shift) / scale + offset
        else:
            result[index] = (x - offset) / scale + shift if invert else (x - shift) * scale + offset
    return 0 if invert else int(np.isinf(result[index]).sum())


# ------------------------------------------------------------------------------------------------
# Kernels. Plain functions here; ``_get_impl`` compiles them with numba and binds the compiled
# versions to the ``_nb_*`` names the kernels call each other through.
#
# Each segment is read from memory once: its statistics come from the first sweep, the second
# sweep (deviations from the mean) and the write of the scaled values run from cache. Loops run
# over zero-based views of one segment (the compiler vectorizes those, not loops over global row
# numbers), and sums use four independent accumulators, so the additions do not wait on each other.
# ------------------------------------------------------------------------------------------------

_LOOKUP, _STANDARD, _MINMAX, _MAXABS = 0, 1, 2, 3
_KEY_MAX = np.int64(0x7FFFFFFFFFFFFFFF)
KINDS = {"standard": _STANDARD, "minmax": _MINMAX, "maxabs": _MAXABS}
_prange = range


def _k_stats_nan(xs, f):
    """``(count, mean, m2, min, max)`` of a view holding NaN (skipped) or huge values.

    The sums run on the values times ``f``, a power of two (an exact scaling): with ``f < 1``
    values near the float64 maximum neither overflow the sum nor the deviations; ``m2`` is then
    ``inf`` only when it exceeds the float64 maximum itself.
    """
    n = 0.0
    s = 0.0
    lo = np.inf
    hi = -np.inf
    for i in range(xs.size):
        v = np.float64(xs[i])
        ok = v == v
        n += 1.0 if ok else 0.0
        s += v * f if ok else 0.0
        lo = v if v < lo else lo
        hi = v if v > hi else hi
    if n == 0:
        return 0.0, 0.0, 0.0, np.nan, np.nan
    mean = s / n
    q = 0.0
    corr = 0.0
    for i in range(xs.size):
        v = np.float64(xs[i]) * f
        d = v - mean if v == v else 0.0
        q += d * d
        corr += d
    return n, (mean + corr / n) / f, max(q - corr * corr / n, 0.0) / (f * f), lo, hi


def _k_sweep_bits(xs):
    """Sum, min and max of a contiguous float64 view in one vectorized sweep.

    Min and max are taken over integer keys that order like the floats (the sign bit flips the
    other bits of negative numbers), because the compiler vectorizes integer min/max reductions
    but not float ones. The keys of NaN sort outside +-inf: callers check the sum for NaN first.
    """
    xi = xs.view(np.int64)
    lo = _KEY_MAX
    hi = -_KEY_MAX - 1
    s = 0.0
    for i in range(xs.size):
        key = xi[i]
        key ^= (key >> 63) & _KEY_MAX
        lo = min(lo, key)
        hi = max(hi, key)
        s += xs[i]
    return s, lo ^ ((lo >> 63) & _KEY_MAX), hi ^ ((hi >> 63) & _KEY_MAX)


def _k_sweep_select(xs):
    """Sum, min and max of any 1D view (min/max by compare and select)."""
    s = 0.0
    lo = np.inf
    hi = -np.inf
    for i in range(xs.size):
        v = np.float64(xs[i])
        s += v
        lo = v if v < lo else lo
        hi = v if v > hi else hi
    return s, lo, hi


def _k_deviations(xs, mean):
    """Sum of squared deviations from ``mean`` and sum of deviations (the correction term)."""
    q = 0.0
    corr = 0.0
    for i in range(xs.size):
        d = np.float64(xs[i]) - mean
        q += d * d
        corr += d
    return q, corr


def _k_stats_careful(xs, stats, k, c):
    """The careful sweep, on values scaled down by 2**-64 when they overflow float64 sums."""
    found = _nb_stats_nan(xs, 1.0)
    if not (abs(found[1]) < np.inf and abs(found[2]) < np.inf) and abs(found[3]) < np.inf:
        if abs(found[4]) < np.inf:
            found = _nb_stats_nan(xs, 2.0**-64)
    for f in range(5):
        stats[f, k, c] = found[f]


def _k_stats(xs, s, stats, k, c):
    """Store ``(count, mean, m2, min, max)`` of ``xs`` at ``stats[:, k, c]``, given the sum ``s``
    and min/max already stored; NaN is skipped; min/max are NaN when there is no value."""
    if not (abs(s) < np.inf):  # a NaN, an infinity or an overflowing sum: the careful sweep
        _nb_stats_careful(xs, stats, k, c)
        return
    if xs.size == 0:
        stats[0, k, c] = 0.0
        stats[1, k, c] = 0.0
        stats[2, k, c] = 0.0
        stats[3, k, c] = np.nan
        stats[4, k, c] = np.nan
        return
    n = float(xs.size)
    mean = s / n
    q, corr = _nb_deviations(xs, mean)
    if not (abs(corr) < np.inf):  # deviations beyond the float64 range
        _nb_stats_careful(xs, stats, k, c)
        return
    stats[0, k, c] = n
    stats[1, k, c] = mean + corr / n  # corrected two-pass: exact to rounding
    stats[2, k, c] = max(q - corr * corr / n, 0.0)


def _k_negligible(spread, level, n):
    """:func:`seqscale.core.methods.negligible_spread` for one channel."""
    if spread == 0.0:
        return True
    t = n * 2.220446049250313e-16 * (abs(level) / abs(spread))
    return 1.0 - n * 2.220446049250313e-16 <= t * t


def _k_nudge(top_span, scale, p0, p1):
    """``scale`` moved by ulps so that ``top_span * scale + p0`` lands on ``p1``, never above it."""
    for _ in range(4):
        top = top_span * scale + p0
        if top > p1:
            scale = np.nextafter(scale, 0.0)
        elif top < p1:
            trial = np.nextafter(scale, np.inf)
            if top_span * trial + p0 <= p1:
                scale = trial
            else:
                break
        else:
            break
    return scale


def _k_divisor(kind, p1, m2, n, lo, hi, mean):
    """The divisor the rows of one segment are divided by (``Affine.divisor``), or 0 for a
    method that multiplies (min-max), as :mod:`seqscale.core.methods` sets it."""
    if kind == _STANDARD:
        spread = np.sqrt(m2 / n) if n > 0 else 0.0
        constant = not (hi > lo) or (spread > 0 and _nb_negligible(spread, mean, n))
        return 1.0 if (constant or not (spread > 0) or p1 == 0.0) else spread
    if kind == _MAXABS:
        bound = max(abs(lo), abs(hi)) if lo == lo else 0.0
        return bound if bound > 0 else 1.0
    return 0.0


def _k_coefficients(kind, p0, p1, mean, m2, n, lo, hi):
    """``(shift, scale, offset)`` of one segment, as :mod:`seqscale.core.methods` computes them."""
    spread = np.sqrt(m2 / n) if n > 0 else 0.0
    constant = not (hi > lo) or (spread > 0 and _nb_negligible(spread, mean, n))
    if kind == _STANDARD:  # p0: with_mean, p1: with_std
        center = lo if hi == lo else mean  # all equal: the min is the mean, exactly
        unit = constant or not (spread > 0)
        scale = 1.0 if (unit or p1 == 0.0) else 1.0 / spread
        return (center if p0 != 0.0 else 0.0), scale, 0.0
    if kind == _MINMAX:  # p0, p1: feature_range
        span = hi - lo
        constant = constant or not (span > 0)
        shift = lo if lo == lo else 0.0
        if constant:
            return shift, p1 - p0, p0
        return shift, _nb_nudge(hi - shift, (p1 - p0) * (1.0 / span), p0, p1), p0
    bound = max(abs(lo), abs(hi)) if lo == lo else 0.0  # _MAXABS
    return 0.0, (_nb_nudge(bound, 1.0 / bound, 0.0, 1.0) if bound > 0 else 1.0), 0.0


def _k_fit_apply_view(xs, rs, kind, p0, p1, stats, coef, k, c):
    """Coefficients of one segment's view ``xs`` from its statistics (stored), and ``rs``."""
    n, mean, m2, lo, hi = stats[0, k, c], stats[1, k, c], stats[2, k, c], stats[3, k, c], stats[4, k, c]
    h, s, o = _nb_coefficients(kind, p0, p1, mean, m2, n, lo, hi)
    coef[0, k, c] = h
    coef[1, k, c] = s
    coef[2, k, c] = o
    if abs(lo) == np.inf or abs(hi) == np.inf:
        return  # refused by the caller: nothing written
    d = _nb_divisor(kind, p1, m2, n, lo, hi, mean)
    if d != 0.0:
        for i in range(xs.size):  # from cache
            rs[i] = (np.float64(xs[i]) - h) / d + o
        return
    for i in range(xs.size):  # from cache
        rs[i] = (np.float64(xs[i]) - h) * s + o


def _k_fit_apply_segment(x, offsets, k, kind, p0, p1, stats, bits, coef, res):
    a, b = offsets[k], offsets[k + 1]
    if x.shape[1] == 1:  # a contiguous view
        xs = x.reshape(-1)[a:b]
        if xs.itemsize == 8:
            s, bits[3, k, 0], bits[4, k, 0] = _nb_sweep_bits(xs)
        else:
            s, stats[3, k, 0], stats[4, k, 0] = _nb_sweep_select(xs)
        _nb_stats(xs, s, stats, k, 0)
        if kind != _LOOKUP:
            _nb_fit_apply_view(xs, res.reshape(-1)[a:b], kind, p0, p1, stats, coef, k, 0)
        return
    for c in range(x.shape[1]):
        xs = x[a:b, c]
        s, stats[3, k, c], stats[4, k, c] = _nb_sweep_select(xs)
        _nb_stats(xs, s, stats, k, c)
        if kind != _LOOKUP:
            _nb_fit_apply_view(xs, res[a:b, c], kind, p0, p1, stats, coef, k, c)


def _k_fit_apply_serial(x, offsets, kind, p0, p1, stats, coef, res):
    """Per-segment statistics of ``x`` (rows x channels) and, with a ``kind``, the scaled rows."""
    bits = stats.view(np.int64)
    for k in range(offsets.size - 1):
        _nb_fit_apply_segment(x, offsets, k, kind, p0, p1, stats, bits, coef, res)


def _k_fit_apply_parallel(x, offsets, kind, p0, p1, stats, coef, res):
    bits = stats.view(np.int64)
    for k in _prange(offsets.size - 1):
        _nb_fit_apply_segment(x, offsets, k, kind, p0, p1, stats, bits, coef, res)


def _k_apply_view(xs, rs, h, s, o, invert, divide):
    n_inf = 0
    if invert and divide:
        for i in range(xs.size):
            rs[i] = (np.float64(xs[i]) - o) * s + h
        return 0
    if invert:
        for i in range(xs.size):
            rs[i] = (np.float64(xs[i]) - o) / s + h
        return 0
    if divide:
        for i in range(xs.size):
            rs[i] = (np.float64(xs[i]) - h) / s + o
    else:
        for i in range(xs.size):
            rs[i] = (np.float64(xs[i]) - h) * s + o
    for i in range(xs.size):  # from cache: infinite inputs, and finite ones sent past the range
        n_inf += abs(np.float64(rs[i])) == np.inf
    return n_inf


def _k_apply_segment(x, starts, ends, k, shift, scale, offset, res, invert, divide):
    a, b = starts[k], ends[k]
    if x.shape[1] == 1:
        xs, rs = x.reshape(-1)[a:b], res.reshape(-1)[a:b]
        return _nb_apply_view(xs, rs, shift[k, 0], scale[k, 0], offset[k, 0], invert, divide)
    n_inf = 0
    for c in range(x.shape[1]):
        n_inf += _nb_apply_view(
            x[a:b, c], res[a:b, c], shift[k, c], scale[k, c], offset[k, c], invert, divide
        )
    return n_inf


def _k_apply_serial(x, starts, ends, shift, scale, offset, res, invert, divide):
    """Apply (or invert) coefficients ``[k]`` to rows ``starts[k]:ends[k]``; count infinite inputs."""
    total = 0
    for k in range(starts.size):
        total += _nb_apply_segment(x, starts, ends, k, shift, scale, offset, res, invert, divide)
    return total


def _k_apply_parallel(x, starts, ends, shift, scale, offset, res, invert, divide):
    total = 0
    for k in _prange(starts.size):
        total += _nb_apply_segment(x, starts, ends, k, shift, scale, offset, res, invert, divide)
    return total


def _k_run_starts_range(ids, a, b, buf):
    """Write the rows of ``[a, b)`` where a run of equal consecutive ids starts to ``buf``;
    return their number, or -1 when they outnumber ``buf``. Blocks of 64 ids equal to the one
    before them are skipped with one vectorized check; only blocks holding a change are scanned."""
    j = 0
    i = a
    if a == 0 and b > 0:
        if buf.size == 0:
            return -1
        buf[0] = 0
        j = 1
        i = 1
    while i < b:
        e = min(i + 64, b)
        block = ids[i:e]
        before = ids[i - 1 : e - 1]
        diff = 0
        for t in range(block.size):
            diff |= block[t] ^ before[t]
        if diff != 0:
            for t in range(block.size):
                if block[t] != before[t]:
                    if j == buf.size:
                        return -1
                    buf[j] = i + t
                    j += 1
        i = e
    return j


def _k_run_starts(ids, limit, parts):
    """Rows where the runs of equal consecutive ids start (``ids`` split in ``parts`` ranges, run
    in parallel when compiled so); ``[-1]`` when there are more than ``limit`` runs."""
    n = ids.size
    per = (n + parts - 1) // parts
    bufs = np.empty((parts, limit), np.int64)
    counts = np.empty(parts, np.int64)
    for p in _prange(parts):
        a = min(n, p * per)
        counts[p] = _nb_run_starts_range(ids, a, min(n, a + per), bufs[p])
    total = 0
    for p in range(parts):
        if counts[p] < 0:
            total = limit + 1
            break
        total += counts[p]
    if total > limit:
        return np.full(1, -1, np.int64)
    out = np.empty(total, np.int64)
    j = 0
    for p in range(parts):
        out[j : j + counts[p]] = bufs[p, : counts[p]]
        j += counts[p]
    return out


_nb_stats_nan = _k_stats_nan
_nb_stats_careful = _k_stats_careful
_nb_sweep_bits = _k_sweep_bits
_nb_sweep_select = _k_sweep_select
_nb_deviations = _k_deviations
_nb_stats = _k_stats
_nb_negligible = _k_negligible
_nb_nudge = _k_nudge
_nb_coefficients = _k_coefficients
_nb_divisor = _k_divisor
_nb_fit_apply_view = _k_fit_apply_view
_nb_apply_view = _k_apply_view
_nb_fit_apply_segment = _k_fit_apply_segment
_nb_apply_segment = _k_apply_segment
_nb_run_starts_range = _k_run_starts_range


@functools.cache
def _get_impl() -> SimpleNamespace | None:
    """Compile the kernels (once per process; machine code cached on disk), or None without numba."""
    found = _kernels.numba_and_options(boundscheck=False)
    if found is None:  # pragma: no cover
        return None
    numba, opts = found
    g = globals()
    serial = numba.njit(**opts)
    inline = numba.njit(inline="always", **opts)
    g["_prange"] = numba.prange
    # the sums may be reordered (so that they vectorize); the coefficients and the affine map
    # are computed exactly as in seqscale.core.methods and the other kernels
    fast = numba.njit(**{**opts, "fastmath": {"reassoc", "nsz"}})
    g["_nb_sweep_bits"] = fast(_k_sweep_bits)
    g["_nb_sweep_select"] = fast(_k_sweep_select)
    g["_nb_deviations"] = fast(_k_deviations)
    g["_nb_stats_nan"] = serial(_k_stats_nan)
    g["_nb_stats_careful"] = serial(_k_stats_careful)
    g["_nb_stats"] = inline(_k_stats)
    g["_nb_negligible"] = inline(_k_negligible)
    g["_nb_nudge"] = inline(_k_nudge)
    g["_nb_coefficients"] = inline(_k_coefficients)
    g["_nb_divisor"] = inline(_k_divisor)
    g["_nb_fit_apply_view"] = inline(_k_fit_apply_view)
    g["_nb_apply_view"] = inline(_k_apply_view)
    g["_nb_fit_apply_segment"] = inline(_k_fit_apply_segment)
    g["_nb_apply_segment"] = inline(_k_apply_segment)
    g["_nb_run_starts_range"] = serial(_k_run_starts_range)
    parallel = lambda fn: numba.njit(parallel=True, **opts)(_kernels.parallel_twin(fn))  # noqa: E731
    return SimpleNamespace(
        fit_apply_serial=serial(_k_fit_apply_serial),
        fit_apply_parallel=parallel(_k_fit_apply_parallel),
        apply_serial=serial(_k_apply_serial),
        apply_parallel=parallel(_k_apply_parallel),
        run_starts=serial(_k_run_starts),
        run_starts_parallel=parallel(_k_run_starts),
    )
