"""One-pass statistics and affine kernels on canonical ``rows x channels`` arrays.

Every function here is a pure function on *canonical* input: a C-contiguous 2D float32 or float64
array whose values are finite or NaN (validation happens at the edge, in ``seqscale.frames.values``).
Other layouts (Fortran order, strided views) are accepted but first copied with
``np.ascontiguousarray``, which costs one extra pass over memory.

Statistics (:func:`moments`, :func:`masked_moments`, :func:`segment_moments`) are returned as a
5-tuple ``(count, mean, m2, min, max)`` of float64 arrays, one value per channel (or per
``(group, channel)``):

- ``count`` is the number of non-NaN (and unmasked) values, stored as float64 so it merges with
  the other statistics without casts; it is an exact integer below 2**53.
- ``mean`` and ``m2`` (the sum of squared deviations from the mean) are accumulated in float64
  even for float32 input and are numerically stable: each block of rows is centred on its own
  mean (two sweeps over the cached block, with the usual correction term), blocks are merged with
  Chan's formula, and the running mean is carried as an unevaluated sum of two floats, so
  ``E[x**2] - E[x]**2`` is never formed. A channel with count 0 has mean 0, m2 0 and NaN min/max.
- Values larger than about 1e150 make the squared deviations overflow. Such channels are detected
  after the pass (a non-finite mean or m2 with finite input) and recomputed on data divided by a
  power of two (an exact scaling), so ``mean``, ``min`` and ``max`` are always finite and correct.
  ``m2`` is correct whenever it is representable; when the true ``m2`` exceeds the float64 maximum
  (a spread beyond roughly ``1.3e154 / sqrt(count)``, e.g. ``[1e308, -1e308]``) it is ``inf`` and
  the caller is expected to raise. Symmetrically, squared deviations below the smallest float64
  (a spread under about ``1e-154``) underflow and ``m2`` loses precision or becomes 0.

The affine functions (:func:`affine_apply`, :func:`affine_invert` and their per-group
``segment_`` variants) compute ``x * scale + offset`` and ``(y - offset) / scale`` (with
``divide=True``: ``x / scale + offset`` and ``(y - offset) * scale``) in float64 and
store the result in the input's dtype; NaN passes through. They read the input once and write the
output once, and ``out`` may be the input itself.

numba is imported on the first call of a kernel, never at import time, and the compiled machine
code is cached on disk. Large dense inputs (:func:`moments`, :func:`affine_apply`) are split into
a fixed number of row chunks run on numba's threads (results do not depend on the thread count),
and so does the per-group affine map; the per-group statistics of rows in any order run in a
fixed two row ranges (each with its own table, on two threads when free). Setting the
environment variable ``SEQSCALE_DISABLE_NUMBA=1`` (read on every call), or not having numba
installed, selects pure-numpy implementations of the same algorithms; they agree with the
compiled kernels to rounding and are slower.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import types
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np

__all__ = [
    "affine_apply",
    "affine_invert",
    "masked_moments",
    "moments",
    "last_infinite_count",
    "moments_residual",
    "numba_enabled",
    "one_thread",
    "segment_affine_apply",
    "segment_affine_invert",
    "segment_moments",
    "int_presence",
    "int_span",
    "id_span_acc",
    "chan_merge",
    "fold_rows",
]

Stats = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]

#: Environment variable that, when set to a true value, selects the numpy implementations.
DISABLE_ENV = "SEQSCALE_DISABLE_NUMBA"

# Target number of elements in one block of rows: two sweeps run over a block, the second one
# from cache.
_BLOCK_ELEMS = 16384
# Target number of float64 lanes in the accumulators: rows are grouped so that one group spans
# about this many consecutive elements, which lets the compiler vectorise the per-lane updates.
_LANES = 256
# Lanes for per-group statistics, where every run of rows pays for folding its lanes.
_RUN_LANES = 64
# Below this many elements the compiled kernels run on one thread.
PARALLEL_MIN_ELEMS = 1 << 18
# Number of row chunks of a parallel pass. Fixed (not the thread count) so results do not
# depend on the machine.
_CHUNKS = 8
# Mean run length under which grouped statistics use per-row updates instead of runs.
MIN_RUN = 8
# Rows per block in the numpy implementations.
_NP_BLOCK_ROWS = 65536
# Row ranges of the per-code statistics of rows in any order, each with its own tables of
# 48 bytes per (code, channel): few, so the tables stay in cache; fixed, so the results do not
# depend on the number of threads.
_CODE_CHUNKS = 2
# Outputs of at least this many bytes, written in random order by the per-series map, bypass
# the cache (non-temporal stores): far larger than a core's cache, they would only be evicted.
_STREAM_MIN_BYTES = 1 << 24


# --------------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------------


def _env_disabled() -> bool:
    return os.environ.get(DISABLE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def numba_enabled() -> bool:
    """Return True when the compiled kernels are used (numba importable and not disabled)."""
    return not _env_disabled() and _get_impl() is not None


def _impl():
    if _env_disabled():
        return None
    return _get_impl()


_PARALLEL_LOCK = threading.Lock()
_PARALLEL_PID: list[int] = []


@contextlib.contextmanager
def parallel_slot(chunks: int) -> Iterator[bool]:
    """Yield whether this call may run a multi-threaded kernel.

    One multi-threaded kernel runs at a time (some numba threading layers are not thread-safe);
    a call made while another runs uses the single-threaded kernel instead of waiting. A process
    forked after running one (some OpenMP runtimes hang in such children) stays single-threaded,
    and so does a thread inside :func:`one_thread`.
    """
    pid = os.getpid()
    if chunks <= 1 or getattr(_ONE_THREAD, "on", False) or (_PARALLEL_PID and _PARALLEL_PID[0] != pid):
        yield False
        return
    if not _PARALLEL_LOCK.acquire(blocking=False):
        yield False
        return
    try:
        if not _PARALLEL_PID:
            _PARALLEL_PID.append(pid)
        yield True
    finally:
        _PARALLEL_LOCK.release()


def _float_2d(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"expected a 2D rows x channels array, got {x.ndim}D")
    if x.dtype != np.float32 and x.dtype != np.float64:
        x = x.astype(np.float64)
    return np.ascontiguousarray(x)


def _layout(rows: int, channels: int, lanes: int = 0) -> tuple[int, int]:
    """Rows per lane group (``m``) and rows per block (a multiple of ``m``)."""
    c = max(channels, 1)
    m = max(1, -(-(lanes or _LANES) // c))
    block = max(m, (_BLOCK_ELEMS // c) // m * m)
    return m, block


def _chunks(rows: int, channels: int, m: int) -> int:
    """How many chunks a moments kernel cuts ``rows`` into (the rule is :func:`_k_chunk_count`,
    which compiled code calls too)."""
    return _k_chunk_count(rows, channels, m)


# --------------------------------------------------------------------------------------------
# Compiled kernels. Plain functions here; ``_get_impl`` compiles them with numba and binds the
# compiled versions to the ``_nb_*`` module names the kernels call each other through.
# --------------------------------------------------------------------------------------------


def _k_two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _k_chan(na, ha, la, qa, nb, qb, d):
    """The one merge formula of the moments: Chan's update of ``(na, ha + la, qa)`` by a set of
    ``nb`` values with centred sum of squares ``qb`` whose mean lies ``d`` above ``ha + la``.

    Returns ``n, high, low, m2``: the merged mean is the unevaluated sum ``high + low`` (a
    two-sum), so that the difference of means of later merges stays exact. Both sides must hold
    values (``na > 0``, ``nb > 0``). Plain arithmetic only: compiled by numba for the kernels, and
    called on numpy arrays by the numpy fallback and by :class:`~seqscale.core.stats.Moments`.
    """
    n = na + nb
    f = nb / n
    t = la + d * f
    s = ha + t
    bb = s - ha
    e = (ha - (s - bb)) + (t - bb)
    return n, s, e, qa + qb + d * d * na * f


def _k_merge(acc, g, j, nb, hb, lb, qb, mnb, mxb):
    """Merge one block's statistics into ``acc[:, g, j]`` (:func:`_k_chan`)."""
    if nb == 0.0:
        return
    na = acc[0, g, j]
    if mnb < acc[4, g, j]:
        acc[4, g, j] = mnb
    if mxb > acc[5, g, j]:
        acc[5, g, j] = mxb
    if na == 0.0:
        s, e = _nb_two_sum(hb, lb)
        acc[0, g, j] = nb
        acc[1, g, j] = s
        acc[2, g, j] = e
        acc[3, g, j] = qb
        return
    ha = acc[1, g, j]
    la = acc[2, g, j]
    n, s, e, q = _nb_chan(na, ha, la, acc[3, g, j], nb, qb, (hb - ha) + (lb - la))
    acc[0, g, j] = n
    acc[1, g, j] = s
    acc[2, g, j] = e
    acc[3, g, j] = q


def _k_ceil_div(a, b):
    return (a + b - 1) // b


def _k_init_acc(groups, channels):
    acc = np.zeros((6, groups, channels))
    acc[4, :, :] = np.inf
    acc[5, :, :] = -np.inf
    return acc


def _k_block_shifted(xf, mk, use_mask, r0, r1, C, m, lane, lmm, blk, clean):
    """One sweep over rows ``[r0, r1)`` centred on the shift ``lane[6]``, statistics into ``blk``.

    Returns 1 when ``blk`` is filled, 0 when it is filled but the shift is too far from this
    block's mean (squared offset above the block variance) for the sums to be accurate, 2 when
    ``clean`` (no NaN expected, no mask: no counting) was wrong for this block (``blk`` not
    filled). Each lane sums its squared deviations (and deviations) in row order; the lanes of
    a channel then fold pairwise with two-sums, their rounding errors kept in ``lane[4]`` and
    ``lane[5]``, so that only a lane's short sequential sum rounds (folding up to 256 lanes in
    sequence would leave the sum of squares several units in the last place off)."""
    L = m * C
    ln = lane[0]
    lq = lane[2]
    lc = lane[3]
    qe = lane[4]
    ce = lane[5]
    lmu = lane[6]
    lmn = lmm[0]
    lmx = lmm[1]
    for k in range(L):
        ln[k] = 0.0
        lq[k] = 0.0
        lc[k] = 0.0
        qe[k] = 0.0
        ce[k] = 0.0
        lmn[k] = np.inf
        lmx[k] = -np.inf
    e1 = r1 * C
    base = r0 * C
    while base < e1:
        kmax = min(L, e1 - base)
        xs = xf[base : base + kmax]
        if use_mask:
            ms = mk[base : base + kmax]
            for k in range(kmax):
                v = np.float64(xs[k])
                ok = (v == v) & (not ms[k])
                d = v - lmu[k]
                ln[k] += 1.0 if ok else 0.0
                lq[k] += d * d if ok else 0.0
                lc[k] += d if ok else 0.0
            for k in range(kmax):
                w = xs[k]
                ok = not ms[k]
                a = lmn[k]
                b = lmx[k]
                lmn[k] = w if (w < a) & ok else a
                lmx[k] = w if (w > b) & ok else b
        else:
            if clean:
                for k in range(kmax):
                    d = np.float64(xs[k]) - lmu[k]
                    lq[k] += d * d
                    lc[k] += d
            else:
                for k in range(kmax):
                    v = np.float64(xs[k])
                    ok = v == v
                    d = v - lmu[k]
                    ln[k] += 1.0 if ok else 0.0
                    lq[k] += d * d if ok else 0.0
                    lc[k] += d if ok else 0.0
            for k in range(kmax):
                w = xs[k]
                a = lmn[k]
                b = lmx[k]
                lmn[k] = w if w < a else a
                lmx[k] = w if w > b else b
        base += L
    # pairwise fold of each channel's lanes r*C + j with two-sums: lanes [half, h) into
    # [0, h - half), the rounding errors into lane[4] (squares) and lane[5] (deviations)
    h = m
    while h > 1:
        half = (h + 1) // 2
        off = half * C
        for k in range((h - half) * C):
            lq[k], e = _nb_two_sum(lq[k], lq[k + off])
            qe[k] += qe[k + off] + e
            lc[k], e = _nb_two_sum(lc[k], lc[k + off])
            ce[k] += ce[k + off] + e
        h = half
    fast = clean and not use_mask
    status = 1
    for j in range(C):
        n = np.float64(r1 - r0) if fast else 0.0
        mn = np.inf
        mx = -np.inf
        for r in range(m):
            k = r * C + j
            if not fast:
                n += ln[k]
            w = np.float64(lmn[k])
            if w < mn:
                mn = w
            w = np.float64(lmx[k])
            if w > mx:
                mx = w
        # the low parts are NaN once a high part overflowed: keep the infinity then
        q = lq[j]
        if abs(q) < np.inf:
            q += qe[j]
        c = lc[j]
        if abs(c) < np.inf:
            c += ce[j]
        if fast and q != q:
            return 2
        if n > 0.0:
            lo = c / n
            m2 = q - c * lo
            if not (c * lo <= 0.5 * q):
                status = 0
            blk[0, j] = n
            blk[1, j] = lmu[j]
            blk[2, j] = lo
            blk[3, j] = m2 if m2 > 0.0 else 0.0
        else:
            blk[0, j] = 0.0
            blk[1, j] = 0.0
            blk[2, j] = 0.0
            blk[3, j] = 0.0
        blk[4, j] = mn
        blk[5, j] = mx
    _nb_set_shift(lane, blk, C, m)
    return status


def _k_set_shift(lane, blk, C, m):
    """Centre the next block on this block's mean (channels without values keep their shift)."""
    lmu = lane[6]
    for j in range(C):
        if blk[0, j] > 0.0:
            mu = blk[1, j] + blk[2, j]
            for r in range(m):
                lmu[r * C + j] = mu


def _k_block(xf, mk, use_mask, r0, r1, C, m, lane, lmm, blk, shifted, clean):
    """Statistics of rows ``[r0, r1)`` into ``blk`` rows (count, mean, mean_lo, m2, min, max).

    ``xf`` is the flat C-ordered data; lanes ``lane[:, k]`` (``lmm[:, k]`` for min and max, in
    the data's dtype) accumulate the elements whose flat index is ``k`` modulo ``m * C`` within
    the block, always of channel ``k % C``. With ``shifted`` (a previous block of the same series
    set the shift) one sweep usually suffices; otherwise, or when the shift is too far off, a
    sweep for the block mean is followed by the centred sweep (from cache) on that mean, with
    the usual correction term. Returns whether the next block may assume no NaN.
    """
    if shifted:
        status = _nb_block_shifted(xf, mk, use_mask, r0, r1, C, m, lane, lmm, blk, clean)
        if status == 2:
            clean = r0 > r1  # a typed False: a literal would compile a separate specialisation
            status = _nb_block_shifted(xf, mk, use_mask, r0, r1, C, m, lane, lmm, blk, clean)
        if status == 1:
            return clean
    L = m * C
    ln = lane[0]
    ls = lane[1]
    lmu = lane[6]
    for k in range(L):
        ln[k] = 0.0
        ls[k] = 0.0
    e1 = r1 * C
    # sweep 1: count and sum
    base = r0 * C
    while base < e1:
        kmax = min(L, e1 - base)
        xs = xf[base : base + kmax]
        if use_mask:
            ms = mk[base : base + kmax]
            for k in range(kmax):
                v = np.float64(xs[k])
                ok = (v == v) & (not ms[k])
                ln[k] += 1.0 if ok else 0.0
                ls[k] += v if ok else 0.0
        else:
            for k in range(kmax):
                v = np.float64(xs[k])
                ok = v == v
                ln[k] += 1.0 if ok else 0.0
                ls[k] += v if ok else 0.0
        base += L
    full = not use_mask
    for j in range(C):
        n = 0.0
        s = 0.0
        for r in range(m):
            n += ln[r * C + j]
            s += ls[r * C + j]
        blk[0, j] = n
        blk[1, j] = s / n if n > 0.0 else 0.0
        full = full and n == r1 - r0
    for k in range(L):
        lmu[k] = blk[1, k % C]
    # sweep 2 (from cache), centred on the block mean: a "too far" status cannot apply
    status = _nb_block_shifted(xf, mk, use_mask, r0, r1, C, m, lane, lmm, blk, full)
    if status == 2:  # pragma: no cover - sweep 1 counted every value
        full = r0 > r1
        _nb_block_shifted(xf, mk, use_mask, r0, r1, C, m, lane, lmm, blk, full)
    return clean


def _k_moments_range(xf, mk, use_mask, r0, r1, C, m, B, acc, g):
    lane = np.zeros((7, m * C))
    lmm = np.empty((2, m * C), xf.dtype)
    blk = np.empty((6, C))
    clean = r1 >= r0  # a typed True (see above)
    r = r0
    while r < r1:
        re = min(r + B, r1)
        clean = _nb_block(xf, mk, use_mask, r, re, C, m, lane, lmm, blk, r > r0, clean)
        for j in range(C):
            _nb_merge(acc, g, j, blk[0, j], blk[1, j], blk[2, j], blk[3, j], blk[4, j], blk[5, j])
        r = re


def _k_fold_chunks(part, C):
    acc = _nb_init_acc(1, C)
    zero = np.int64(0)
    for p in range(part.shape[1]):
        for j in range(C):
            _nb_merge(
                acc, zero, j, part[0, p, j], part[1, p, j], part[2, p, j],
                part[3, p, j], part[4, p, j], part[5, p, j],
            )  # fmt: skip
    return acc


def _k_moments_serial(xf, mk, use_mask, R, C, m, B):
    """On one thread, the same chunks, in the same order, as :func:`_k_moments_parallel` with
    the ``P`` that :func:`_chunks` gives: the result does not depend on whether a call could
    run multi-threaded."""
    zero = np.int64(0)  # a typed zero: a literal 0 would compile a separate specialisation
    P = _nb_chunk_count(R, C, m)
    if P == 1:
        acc = _nb_init_acc(1, C)
        _nb_moments_range(xf, mk, use_mask, zero, R, C, m, B, acc, zero)
        return acc
    part = _nb_init_acc(P, C)
    for p in range(P):
        _nb_moments_chunk(xf, mk, use_mask, R, C, m, B, P, part, p)
    return _nb_fold_chunks(part, C)


def _k_moments_parallel(xf, mk, use_mask, R, C, m, B, P):
    part = _nb_init_acc(P, C)
    for p in _prange(P):
        _nb_moments_chunk(xf, mk, use_mask, R, C, m, B, P, part, p)
    return _nb_fold_chunks(part, C)


def _k_runs_range(codes, G, a, b, buf):
    """Write the starts of the runs of equal codes beginning in ``[a, b)`` to ``buf[a:]``;
    return their number and the number of codes outside ``[0, G)``; the number is -1 once
    the runs would overflow ``buf``."""
    k = 0
    nbad = 0
    prev = codes[a - 1] if a > 0 else -1
    i = a
    while i < b:
        if a + k >= buf.size:
            return -1, nbad
        # skip a stretch of 64 codes equal to the previous valid one (a vectorised check)
        if i > 0 and i + 64 <= b and prev >= 0 and prev < G:
            chunk = codes[i : i + 64]
            diff = 0
            for t in range(64):
                diff |= chunk[t] ^ prev
            if diff == 0:
                i += 64
                continue
        c = codes[i]
        nbad += 1 if (c < 0) | (c >= G) else 0
        if (i == 0) | (c != prev):
            buf[a + k] = i
            k += 1
        prev = c
        i += 1
    return k, nbad


def _k_runs_serial(codes, G, budget):
    """Starts of the runs of equal codes and the bad-code count, or ``(empty, -1)`` once there
    are more than ``budget`` runs."""
    n = codes.size
    buf = np.empty(max(min(n, budget), 1), np.int64)
    k, nbad = _nb_runs_range(codes, G, np.int64(0), n, buf)
    if k < 0:
        return np.empty(0, np.int64), np.int64(-1)
    starts = np.empty(k + 1, np.int64)
    starts[:k] = buf[:k]
    starts[k] = n
    return starts, nbad


def _k_run_moments_range(xf, C, m, B, starts, r_lo, r_hi, slots, acc):
    lane = np.zeros((7, m * C))
    lmm = np.empty((2, m * C), xf.dtype)
    blk = np.empty((6, C))
    dummy = np.zeros(1, np.bool_)
    no_mask = dummy[0]  # a typed False: a literal would compile a separate specialisation
    for r in range(r_lo, r_hi):
        g = slots[r]
        a = starts[r]
        e = starts[r + 1]
        clean = e >= a  # a typed True
        while a < e:
            b = min(a + B, e)
            clean = _nb_block(xf, dummy, no_mask, a, b, C, m, lane, lmm, blk, a > starts[r], clean)
            for j in range(C):
                _nb_merge(acc, g, j, blk[0, j], blk[1, j], blk[2, j], blk[3, j], blk[4, j], blk[5, j])
            a = b


def _k_merge_slots(src, slots, G):
    C = src.shape[2]
    acc = _nb_init_acc(G, C)
    for r in range(src.shape[1]):
        g = slots[r]
        for j in range(C):
            _nb_merge(
                acc, g, j, src[0, r, j], src[1, r, j], src[2, r, j],
                src[3, r, j], src[4, r, j], src[5, r, j],
            )  # fmt: skip
    return acc


def _k_code_update(tab, ext, k, v):
    """Add the value ``v`` (not NaN) to entry ``k`` (unsigned): count, shift, shifted sum and
    sum of squares at ``tab[4k : 4k + 4]``, min and max at ``ext[2k : 2k + 2]``. Unsigned
    positions: a signed index makes the compiler add a wrap-around test to every access."""
    one = np.uint64(1)
    t = k * np.uint64(4)
    e = k * np.uint64(2)
    n = tab[t]
    if n == 0.0:
        tab[t + one] = v
        ext[e] = v
        ext[e + one] = v
    d = v - tab[t + one]
    tab[t] = n + 1.0
    tab[t + np.uint64(2)] += d
    tab[t + np.uint64(3)] += d * d
    # select, then store unconditionally: a branch per row on whether the extreme moved
    # measured 10-20 % slower over rows in random order (ties keep the stored value, as before)
    lo = ext[e]
    hi = ext[e + one]
    ext[e] = v if v < lo else lo
    ext[e + one] = v if v > hi else hi


def _k_code_sums_range(x, codes, G, lo, a, b, tab, ext):
    """Per (entry, channel) statistics of rows ``[a, b)`` in any order, in one pass, where row
    ``i`` belongs to entry ``codes[i] - lo`` (``lo`` 0 for codes, the low end of a span for
    integer ids): entry ``k = (code - lo) * C + channel`` holds count, shift (the entry's first
    value), sum and sum of squares of the shifted values in ``tab[4k : 4k + 4]`` (32 bytes, two
    entries a cache line) and min and max in ``ext[2k : 2k + 2]``. Two small tables stay in the
    core's cache where one table of 64-byte entries did not (measured 30 % faster over 20,000
    codes). Shifted sums are exact enough for the variance as long as the shift lies within the
    data, which the first value does. Returns ``(rows outside [0, G), NaN values skipped)``.

    The entry is read as unsigned, so one comparison with ``G`` also catches a negative one;
    the rows are taken through views from 0, which the compiler knows need no wrap-around test.
    """
    C = x.shape[1]
    nbad = 0
    nnan = 0
    top = np.uint64(G)
    cs = codes[a:b]
    if C == 1:  # one channel: flat loads, no channel loop
        xs = x.reshape(-1)[a:b]
        for i in range(cs.size):
            k = np.uint64(np.int64(cs[i]) - lo)
            if k >= top:
                nbad += 1
                continue
            v = np.float64(xs[i])
            if v == v:
                _nb_code_update(tab, ext, k, v)
            else:
                nnan += 1
        return nbad, nnan
    xs2 = x[a:b]
    width = np.uint64(C)
    for i in range(cs.size):
        k = np.uint64(np.int64(cs[i]) - lo)
        if k >= top:
            nbad += 1
            continue
        for j in range(C):
            v = np.float64(xs2[i, j])
            if v == v:
                _nb_code_update(tab, ext, k * width + np.uint64(j), v)
            else:
                nnan += 1
    return nbad, nnan


def _k_code_moments(x, codes, G, P, lo):
    """Per-entry statistics of rows in any order (one pass; rows split into ``P`` ranges run in
    parallel when compiled so, tables of their own, merged by :func:`_k_merge`). Same
    ``(6, G, C)`` accumulators as the run kernels; returns ``(acc, rows outside, NaN values)``
    (entries as in :func:`_k_code_sums_range`)."""
    R, C = x.shape
    per = _nb_ceil_div(R, P)
    part = np.zeros((P, G * C * 4))
    ext = np.empty((P, G * C * 2))
    bad = np.zeros(P, np.int64)
    nan = np.zeros(P, np.int64)
    for p in _prange(P):
        bad[p], nan[p] = _nb_code_sums_range(
            x, codes, G, lo, min(R, p * per), min(R, p * per + per), part[p], ext[p]
        )
    return _nb_code_tables_acc(part, ext, G, C), bad.sum(), nan.sum()


def _k_code_tables_acc(part, ext, G, C):
    """The per-code tables of :func:`_k_code_sums_range` merged, in order, into one
    ``(6, G, C)`` accumulator (compiled on its own: inside the parallel kernel this loop ran
    ten times slower)."""
    acc = _nb_init_acc(G, C)
    for p in range(part.shape[0]):
        t = part[p]
        e = ext[p]
        for g in range(G):
            for j in range(C):
                k = g * C + j
                n = t[4 * k]
                if n > 0:
                    d = t[4 * k + 2]
                    q = max(t[4 * k + 3] - d * d / n, 0.0)
                    _nb_merge(acc, g, j, n, t[4 * k + 1], d / n, q, e[2 * k], e[2 * k + 1])
    return acc


def _k_int_span(ids):
    """``(min, max)`` of a non-empty integer vector in one pass."""
    lo = ids[0]
    hi = ids[0]
    for i in range(ids.size):
        lo = min(lo, ids[i])
        hi = max(hi, ids[i])
    return lo, hi


def _k_presence(ids, lo, n):
    """Which of the ``n`` integers ``lo, lo + 1, ...`` occur in ``ids`` (all within that range).

    A store only at an integer's first sighting: in a pass over ids in random order the
    stores, not the loads, are what costs (an unconditional store per row measured 2x slower).
    """
    seen = np.zeros(n, np.bool_)
    for i in range(ids.size):
        k = ids[i] - lo
        if not seen[k]:
            seen[k] = True
    return seen


def _k_affine_range(xf, out, sl, ol, hl, lol, hil, e0, e1, L, invert, divide):
    """``out = clip((x - h) * s + o)`` or ``out = (x - o) / s + h`` on flat elements
    ``[e0, e1)``, lane ``k`` of each group of ``L`` elements using coefficients ``sl[k]`` etc.
    With ``divide``, ``s`` is a divisor: ``clip((x - h) / s + o)`` and ``(x - o) * s + h``.
    Returns the number of infinite values the map gave before clipping (an infinite input, or
    a finite one the coefficients sent past float64) when applying; 0 when inverting."""
    base = e0
    n_inf = 0
    if invert and divide:
        while base < e1:
            kmax = min(L, e1 - base)
            xs = xf[base : base + kmax]
            ys = out[base : base + kmax]
            for k in range(kmax):
                ys[k] = (np.float64(xs[k]) - ol[k]) * sl[k] + hl[k]
            base += L
    elif invert:
        while base < e1:
            kmax = min(L, e1 - base)
            xs = xf[base : base + kmax]
            ys = out[base : base + kmax]
            for k in range(kmax):
                ys[k] = (np.float64(xs[k]) - ol[k]) / sl[k] + hl[k]
            base += L
    elif divide:
        while base < e1:
            kmax = min(L, e1 - base)
            xs = xf[base : base + kmax]
            ys = out[base : base + kmax]
            for k in range(kmax):
                y = (np.float64(xs[k]) - hl[k]) / sl[k] + ol[k]
                if abs(y) == np.inf:  # an infinite input, or a finite one sent past float64
                    n_inf += 1
                lo = lol[k]
                hi = hil[k]
                y = lo if y < lo else y
                y = hi if y > hi else y
                ys[k] = y
            base += L
    else:
        while base < e1:
            kmax = min(L, e1 - base)
            xs = xf[base : base + kmax]
            ys = out[base : base + kmax]
            for k in range(kmax):
                y = (np.float64(xs[k]) - hl[k]) * sl[k] + ol[k]
                if abs(y) == np.inf:  # an infinite input, or a finite one sent past float64
                    n_inf += 1
                lo = lol[k]
                hi = hil[k]
                y = lo if y < lo else y
                y = hi if y > hi else y
                ys[k] = y
            base += L
    return n_inf


def _k_affine(xf, out, sl, ol, hl, lol, hil, R, C, m, P, invert, divide):
    """:func:`_k_affine_range` with rows split into P chunks run in parallel."""
    per = _nb_ceil_div(_nb_ceil_div(R, P), m) * m
    total = 0
    for p in _prange(P):
        e0 = min(R, p * per) * C
        e1 = min(R, p * per + per) * C
        total += _nb_affine_range(xf, out, sl, ol, hl, lol, hil, e0, e1, m * C, invert, divide)
    return total


def _k_seg_affine_range(xf, codes, P, Sf, Q, T, out, a, b, C, G, multiply, gather, stream, count):
    """Rows ``[a, b)`` of the per-group affine map on flat arrays: ``(x - p) * s + q``, or
    ``(x - p) / s + q`` without ``multiply`` (the direction chosen by :func:`_map_terms`), with
    ``p, s, q`` the entries ``P[k], Sf[k], Q[k]`` of the row's (code, channel)
    ``k``. Returns ``(bad codes, infinite outputs)``: an infinite input, or a
    finite one the coefficients sent past float64; counted only with ``count`` (a caller that
    knows none can occur saves the count: it slows the gathering loop).

    One channel is taken run by run (consecutive rows with one code), so sorted codes give long
    contiguous loops with the coefficients in registers; the flags are tested outside those
    loops. With ``gather`` (rows in random order, runs of about one row) one channel is mapped
    by :func:`_k_gather_map` from the packed table ``T``; several channels (which share each
    row's lookup) fetch their coefficients row by row: looking for runs there costs as much as
    the map. Rows with a bad code get NaN.
    """
    nbad = 0
    ninf = 0.0  # a float count: an integer one kept the loops from vectorizing
    if gather and C == 1 and G > 0:
        ys = out[a:b]
        nbad = _nb_gather_map(xf[a:b], codes[a:b], T, ys, G, multiply, stream)
        if count:  # a pass of its own: counting inside the gathering loop slowed it more
            for i in range(ys.size):
                ninf += _nb_infinite(ys[i])
        return nbad, int(ninf)
    if gather or C > 1:  # row by row (several channels share each row's code lookup)
        for i in range(a, b):
            g = codes[i]
            if g < 0 or g >= G:
                nbad += 1
                for c in range(C):
                    out[i * C + c] = np.nan
                continue
            for c in range(C):
                k = g * C + c
                d = np.float64(xf[i * C + c]) - P[k]
                y = d * Sf[k] + Q[k] if multiply else d / Sf[k] + Q[k]
                out[i * C + c] = y
                ninf += _nb_infinite(y) if count else 0.0
        return nbad, int(ninf)
    i = a
    while i < b:
        g = codes[i]
        j = i + 1
        while j < b and codes[j] == g:
            j += 1
        if g < 0 or g >= G:
            nbad += j - i
            for k in range(i, j):
                out[k] = np.nan
        elif j - i < 16:  # short run: no views
            p = P[g]
            s = Sf[g]
            q = Q[g]
            for r in range(i, j):
                x = np.float64(xf[r])
                y = (x - p) * s + q if multiply else (x - p) / s + q
                out[r] = y
                ninf += _nb_infinite(y) if count else 0.0
        else:
            xs = xf[i:j]
            ys = out[i:j]
            p = P[g]
            s = Sf[g]
            q = Q[g]
            if multiply:
                for k in range(xs.size):
                    y = (np.float64(xs[k]) - p) * s + q
                    ys[k] = y
                    ninf += _nb_infinite(y) if count else 0.0
            else:
                for k in range(xs.size):
                    y = (np.float64(xs[k]) - p) / s + q
                    ys[k] = y
                    ninf += _nb_infinite(y) if count else 0.0
        i = j
    return nbad, int(ninf)


def _k_seg_affine(xf, codes, P, Sf, Q, T, out, R, C, G, multiply, parts, gather, stream, count):
    """:func:`_k_seg_affine_range` with rows split into ``parts`` chunks run in parallel."""
    per = _nb_ceil_div(R, parts)
    nbad = 0
    ninf = 0
    for p in _prange(parts):
        found = _nb_seg_affine_range(
            xf, codes, P, Sf, Q, T, out, min(R, p * per), min(R, p * per + per), C, G, multiply,
            gather, stream, count,
        )  # fmt: skip
        nbad += found[0]
        ninf += found[1]
    return nbad, ninf


def _k_infinite(v):
    """1.0 when ``v`` is +-inf, else 0.0 (NaN included)."""
    return 1.0 if (v == np.inf) | (v == -np.inf) else 0.0


def _k_gathered(xs, cs, T, i, top, multiply):
    """Row ``i`` mapped with the coefficients of its code, fetched from the packed table ``T``
    (``top`` the number of codes, unsigned), and whether its code is within ``[0, top)``: a bad
    code reads entry 0 (never out of bounds) and gives NaN, with no branch."""
    k = np.uint64(np.int64(cs[i]))
    ok = k < top
    t = (k if ok else np.uint64(0)) * np.uint64(4)
    d = np.float64(xs[i]) - T[t]
    y = d * T[t + np.uint64(1)] if multiply else d / T[t + np.uint64(1)]
    y += T[t + np.uint64(2)]
    return (y if ok else np.nan), ok


def _k_gather_map(xs, cs, T, ys, G, multiply, stream):
    """``ys[i] = (xs[i] - p) * s + q`` (or ``/ s`` when not ``multiply``) with ``(p, s, q)`` the
    entry of code ``cs[i]`` in ``T`` (4 floats per code: one cache line per row instead of one
    per coefficient). Returns the number of bad codes (their rows get NaN).

    With ``stream`` the rows are written past the cache, then fenced: a large output written
    row by row is otherwise first read into the cache to own each line. The two store kinds are
    two loops, as the compiler kept the test inside a single one.
    """
    top = np.uint64(G)
    nbad = 0
    if stream:
        for i in range(cs.size):
            y, ok = _nb_gathered(xs, cs, T, i, top, multiply)
            _nb_stream_store(ys, i, y)
            nbad += not ok
        _nb_store_fence()
    else:
        for i in range(cs.size):
            y, ok = _nb_gathered(xs, cs, T, i, top, multiply)
            ys[i] = y
            nbad += not ok
    return nbad


def _k_stream_store(out, i, y):  # replaced by a non-temporal store inside compiled code
    out[i] = y


def _k_store_fence():  # replaced by a memory fence inside compiled code
    pass


def _streaming_stores(numba: Any) -> tuple[Any, Any]:
    """``(store, fence)`` for compiled code: ``store(out, i, y)`` writes ``out[i]`` with a
    non-temporal hint, and ``fence()`` orders such stores before whatever follows.

    A large output written row by row in random order is otherwise first read into the cache
    (to own the line) and then written back: a third of the memory traffic of the per-series
    map. Non-temporal stores go to memory directly, as ``memcpy`` does for large copies; they
    are weakly ordered, hence the fence before other threads read the output.
    """
    from llvmlite import ir

    types = numba.types

    @numba.extending.intrinsic
    def stream_store(typingctx, out, i, y):
        def codegen(context, builder, signature, args):
            array, index, value = args
            target = context.make_array(signature.args[0])(context, builder, array)
            value = context.cast(builder, value, signature.args[2], signature.args[0].dtype)
            store = builder.store(value, builder.gep(target.data, [index]))
            store.set_metadata("nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]))
            return context.get_dummy_value()

        return types.void(out, i, y), codegen

    @numba.extending.intrinsic
    def fence(typingctx):
        def codegen(context, builder, signature, args):
            builder.fence("seq_cst")
            return context.get_dummy_value()

        return types.void(), codegen

    return stream_store, fence


def _k_moments_chunk(xf, mk, use_mask, R, C, m, B, P, part, p):
    """Chunk ``p`` of ``P`` (whole lane groups of ``m`` rows) into ``part[:, p]``."""
    per = _nb_ceil_div(_nb_ceil_div(R, P), m) * m
    a = min(R, p * per)
    b = min(R, a + per)
    _nb_moments_range(xf, mk, use_mask, a, b, C, m, B, part, p)


def _k_chunk_count(R, C, m):
    """Chunks of the moments kernels: one below ``PARALLEL_MIN_ELEMS`` values, else up to
    ``_CHUNKS`` of at least ``m`` rows (the one rule, for Python callers and compiled code)."""
    if R * C < PARALLEL_MIN_ELEMS:
        return 1
    return max(1, min(_CHUNKS, R // max(m, 1)))


_ONE_THREAD = threading.local()


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Within this block, kernels called from this thread run single-threaded.

    For a caller that keeps the other core busy itself (a reader thread decoding the next
    batch of a file): a multi-threaded kernel would then wait at its barrier for a thread the
    system has not scheduled. The moments are the same either way (the single-threaded kernel
    reduces the same chunks in the same order).

    Examples
    --------
    >>> x = np.arange(1e6).reshape(-1, 1)
    >>> with one_thread():
    ...     serial = moments(x)
    >>> bool((serial[2] == moments(x)[2]).all())
    True
    """
    before = getattr(_ONE_THREAD, "on", False)
    _ONE_THREAD.on = True
    try:
        yield
    finally:
        _ONE_THREAD.on = before


def _prange(n):  # replaced by numba.prange inside compiled code
    return range(n)


_nb_two_sum = _k_two_sum
_nb_chan = _k_chan
_nb_merge = _k_merge
_nb_init_acc = _k_init_acc
_nb_ceil_div = _k_ceil_div
_nb_block = _k_block
_nb_block_shifted = _k_block_shifted
_nb_set_shift = _k_set_shift
_nb_moments_range = _k_moments_range
_nb_moments_chunk = _k_moments_chunk
_nb_chunk_count = _k_chunk_count
_nb_run_moments_range = _k_run_moments_range
_nb_runs_range = _k_runs_range
_nb_affine_range = _k_affine_range
_nb_fold_chunks = _k_fold_chunks
_nb_seg_affine_range = _k_seg_affine_range
_nb_gathered = _k_gathered
_nb_gather_map = _k_gather_map
_nb_infinite = _k_infinite
_nb_stream_store = _k_stream_store
_nb_store_fence = _k_store_fence
_nb_code_sums_range = _k_code_sums_range
_nb_code_tables_acc = _k_code_tables_acc
_nb_code_update = _k_code_update


def numba_and_options(**extra: Any) -> tuple[Any, dict[str, Any]] | None:
    """numba and the compile options of every seqscale kernel (``extra`` added), or None when
    numba is not installed: the one start of the ``_get_impl`` compile helpers."""
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency, but stay usable without it
        return None
    return numba, {"cache": True, "fastmath": False, "error_model": "numpy", "nogil": True, **extra}


def parallel_twin(fn: Callable) -> Callable:
    """``fn`` under another name, to compile with ``parallel=True`` next to a serial compile.

    numba's disk cache files a function's machine code under its name and line, not under its
    compile options: a serial and a parallel compile of one function shared one entry, and the
    serial dispatcher then ran the parallel code (two threads where one was promised).
    """
    twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_parallel", fn.__defaults__)
    twin.__qualname__ = fn.__qualname__ + "_parallel"
    twin.__doc__ = fn.__doc__
    return twin


@functools.cache
def _get_impl() -> SimpleNamespace | None:
    """Import numba and compile the kernels (once per process; machine code cached on disk)."""
    found = numba_and_options()
    if found is None:  # pragma: no cover
        return None
    numba, opts = found
    g = globals()
    serial = numba.njit(**opts)
    parallel = lambda fn: numba.njit(parallel=True, **opts)(parallel_twin(fn))  # noqa: E731
    g["_prange"] = numba.prange
    # helpers first: the kernels below resolve these module names when they are compiled
    g["_nb_two_sum"] = serial(_k_two_sum)
    g["_nb_chan"] = serial(_k_chan)
    g["_nb_merge"] = serial(_k_merge)
    g["_nb_init_acc"] = serial(_k_init_acc)
    g["_nb_ceil_div"] = serial(_k_ceil_div)
    g["_nb_set_shift"] = serial(_k_set_shift)
    g["_nb_block_shifted"] = serial(_k_block_shifted)
    g["_nb_block"] = serial(_k_block)
    g["_nb_moments_range"] = serial(_k_moments_range)
    g["_nb_moments_chunk"] = serial(_k_moments_chunk)
    g["_nb_chunk_count"] = serial(_k_chunk_count)
    g["_nb_run_moments_range"] = serial(_k_run_moments_range)
    g["_nb_runs_range"] = serial(_k_runs_range)
    g["_nb_affine_range"] = serial(_k_affine_range)
    g["_nb_fold_chunks"] = serial(_k_fold_chunks)
    inline = numba.njit(inline="always", **opts)
    g["_nb_stream_store"], g["_nb_store_fence"] = _streaming_stores(numba)
    g["_nb_gathered"] = inline(_k_gathered)
    g["_nb_gather_map"] = serial(_k_gather_map)
    g["_nb_infinite"] = inline(_k_infinite)
    g["_nb_seg_affine_range"] = serial(_k_seg_affine_range)
    g["_nb_code_update"] = inline(_k_code_update)
    g["_nb_code_sums_range"] = serial(_k_code_sums_range)
    g["_nb_code_tables_acc"] = serial(_k_code_tables_acc)
    return SimpleNamespace(
        moments_serial=serial(_k_moments_serial),
        moments_parallel=parallel(_k_moments_parallel),
        runs=serial(_k_runs_serial),
        run_moments=g["_nb_run_moments_range"],
        merge_slots=serial(_k_merge_slots),
        int_span=serial(_k_int_span),
        presence=serial(_k_presence),
        code_moments=serial(_k_code_moments),
        code_moments_parallel=parallel(_k_code_moments),
        affine_serial=g["_nb_affine_range"],
        affine_parallel=parallel(_k_affine),
        seg_affine=g["_nb_seg_affine_range"],
        seg_affine_parallel=parallel(_k_seg_affine),
    )


# --------------------------------------------------------------------------------------------
# numpy implementations of the same algorithms
# --------------------------------------------------------------------------------------------


def _np_run_stats(xb: np.ndarray, ok: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Statistics (6, runs, C) of the row runs of ``xb`` beginning at ``starts`` (first is 0)."""
    lengths = np.diff(np.append(starts, xb.shape[0]))
    n = np.add.reduceat(ok.astype(np.float64), starts, axis=0)
    s = np.add.reduceat(np.where(ok, xb, 0.0), starts, axis=0)
    pos = n > 0
    mu = np.where(pos, s / np.where(pos, n, 1.0), 0.0)
    d = np.where(ok, xb - np.repeat(mu, lengths, axis=0), 0.0)
    q = np.add.reduceat(d * d, starts, axis=0)
    c = np.add.reduceat(d, starts, axis=0)
    lo = np.where(pos, c / np.where(pos, n, 1.0), 0.0)
    m2 = np.maximum(q - c * lo, 0.0)
    xn = np.where(ok, xb, np.nan)
    mn = np.fmin.reduceat(xn, starts, axis=0)
    mx = np.fmax.reduceat(xn, starts, axis=0)
    mn = np.where(pos, mn, np.inf)
    mx = np.where(pos, mx, -np.inf)
    return np.stack([n, mu, lo, m2, mn, mx])


def _np_merge(acc: np.ndarray, idx: np.ndarray, blk: np.ndarray) -> None:
    """Vectorised :func:`_k_merge` of ``blk[:, r]`` into ``acc[:, idx[r]]`` (idx unique)."""
    na, ha, la, qa, mna, mxa = acc[:, idx]
    nb, hb, lb, qb, mnb, mxb = blk
    both = (na > 0) & (nb > 0)
    _, s, e, q = _k_chan(na, ha, la, qa, np.where(both, nb, 1.0), qb, (hb - ha) + (lb - la))
    hb_s, lb_s = _k_two_sum(hb, lb)
    only_b = (na == 0) & (nb > 0)
    acc[:, idx] = np.stack(
        [
            na + nb,
            np.where(both, s, np.where(only_b, hb_s, ha)),
            np.where(both, e, np.where(only_b, lb_s, la)),
            np.where(both, q, np.where(only_b, qb, qa)),
            np.fmin(mna, mnb),
            np.fmax(mxa, mxb),
        ]
    )


def _np_moments(x: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    R, C = x.shape
    acc = _k_init_acc(1, C)
    zero = np.zeros(1, np.intp)
    idx = np.zeros(1, np.intp)
    for r0 in range(0, R, _NP_BLOCK_ROWS):
        xb = x[r0 : r0 + _NP_BLOCK_ROWS].astype(np.float64)
        ok = ~np.isnan(xb)
        if mask is not None:
            ok &= ~mask[r0 : r0 + _NP_BLOCK_ROWS]
        _np_merge(acc, idx, _np_run_stats(xb, ok, zero))
    return acc


def _np_segment_moments(x: np.ndarray, codes: np.ndarray, G: int) -> np.ndarray:
    R, C = x.shape
    acc = _k_init_acc(G, C)
    for r0 in range(0, R, _NP_BLOCK_ROWS):
        cb = codes[r0 : r0 + _NP_BLOCK_ROWS]
        xb = x[r0 : r0 + _NP_BLOCK_ROWS].astype(np.float64)
        if np.any(cb[1:] < cb[:-1]):
            order = np.argsort(cb, kind="stable")
            cb = cb[order]
            xb = xb[order]
        starts = np.flatnonzero(np.diff(cb)) + 1
        starts = np.concatenate([[0], starts]).astype(np.intp)
        _np_merge(acc, cb[starts], _np_run_stats(xb, ~np.isnan(xb), starts))
    return acc


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def _finish(acc: np.ndarray) -> Stats:
    """(6, G, C) accumulators -> (count, mean, m2, min, max), squeezed by the caller."""
    count = acc[0].copy()
    mean = acc[1] + acc[2]
    m2 = acc[3].copy()
    empty = count == 0
    mn = np.where(empty, np.nan, acc[4])
    mx = np.where(empty, np.nan, acc[5])
    mean[empty] = 0.0
    m2[empty] = 0.0
    return count, mean, m2, mn, mx


def _moments_acc(x: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    R, C = x.shape
    impl = _impl()
    if impl is None or R == 0 or C == 0:
        with np.errstate(all="ignore"):
            return _np_moments(x, mask)
    m, block = _layout(R, C)
    xf = x.reshape(-1)
    if mask is None:
        mk, use_mask = np.zeros(1, np.bool_), False
    else:
        mk, use_mask = mask.reshape(-1), True
    P = _chunks(R, C, m)
    with parallel_slot(P) as parallel:
        if parallel:
            return impl.moments_parallel(xf, mk, use_mask, R, C, m, block, P)
        return impl.moments_serial(xf, mk, use_mask, R, C, m, block)


def _overflowed(count, mean, m2) -> np.ndarray:
    return (count > 0) & ~(np.isfinite(mean) & np.isfinite(m2))


def _exponents(mn: np.ndarray, mx: np.ndarray) -> np.ndarray:
    """Power-of-two exponents bringing the largest magnitude below 1."""
    big = np.fmax(np.abs(mn), np.abs(mx))
    return np.frexp(np.where(np.isfinite(big), big, 0.0))[1]


def _rescale(mean_s, m2_s, k):
    with np.errstate(over="ignore"):
        return np.ldexp(mean_s, k), np.ldexp(m2_s, 2 * k)


def moments(x: np.ndarray) -> Stats:
    """Per-channel ``(count, mean, m2, min, max)`` of a ``rows x channels`` array, ignoring NaN.

    One pass over memory; float64 accumulation; stable (see the module notes). ``x`` should be a
    C-contiguous 2D float32/float64 array of finite-or-NaN values; other layouts are copied first.
    All five results are float64 arrays of shape ``(channels,)``; ``count`` holds integers.

    Examples
    --------
    >>> n, mean, m2, lo, hi = moments(np.array([[1.0, np.nan], [3.0, np.nan]]))
    >>> n.tolist(), mean.tolist(), m2.tolist(), lo.tolist(), hi[0].item()
    ([2.0, 0.0], [2.0, 0.0], [2.0, 0.0], [1.0, nan], 3.0)
    """
    return _masked(x, None)


def masked_moments(x: np.ndarray, mask: np.ndarray) -> Stats:
    """Like :func:`moments`, also ignoring the entries where ``mask`` (same shape) is True."""
    return _masked(x, mask)


def _masked(x: np.ndarray, mask: np.ndarray | None) -> Stats:
    return _masked_residual(x, mask)[:5]


def moments_residual(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """:func:`moments` plus the rounding residual of the mean (``true mean - mean``).

    The running mean is carried as a pair of floats; the residual is its low part, so that
    later merges (``partial_fit``) can use the mean to double-float precision.
    """
    return _masked_residual(x, None)


def _masked_residual(x: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, ...]:
    x = _float_2d(x)
    if mask is not None:
        mask = np.ascontiguousarray(mask, dtype=np.bool_)
        if mask.shape != x.shape:
            raise ValueError(f"mask shape {mask.shape} does not match data shape {x.shape}")
    acc = _moments_acc(x, mask)
    count, mean, m2, mn, mx = (a[0] for a in _finish(acc))
    with np.errstate(invalid="ignore", over="ignore"):
        residual = np.where(count > 0, (acc[1, 0] - mean) + acc[2, 0], 0.0)
    bad = _overflowed(count, mean, m2)
    if bad.any():
        cols = np.flatnonzero(bad)
        k = _exponents(mn[cols], mx[cols])
        xs = np.ascontiguousarray(np.ldexp(x[:, cols].astype(np.float64), -k))
        ms = None if mask is None else np.ascontiguousarray(mask[:, cols])
        _, mean_s, m2_s, _, _ = (a[0] for a in _finish(_moments_acc(xs, ms)))
        mean[cols], m2[cols] = _rescale(mean_s, m2_s, k)
        residual[cols] = 0.0
    residual = np.where(np.isfinite(residual), residual, 0.0)
    return count, mean, m2, mn, mx, residual


def _codes(codes: np.ndarray, rows: int) -> np.ndarray:
    """Codes as a contiguous int32 or int64 vector (int32 kept: half the memory traffic)."""
    codes = np.asarray(codes)
    dtype = np.int32 if codes.dtype == np.int32 else np.int64
    codes = np.ascontiguousarray(codes, dtype=dtype).reshape(-1)
    if codes.shape[0] != rows:
        raise ValueError(f"codes has {codes.shape[0]} entries for {rows} rows")
    return codes


def short_runs(ids: np.ndarray) -> bool:
    """Whether a sample of 1D ``ids`` (16 windows of 64 spread over them) shows runs of equal
    neighbours much shorter than ``MIN_RUN``: rows in random order, where looking for runs
    would scan ``1 / MIN_RUN`` of the ids to give up. A guess that only chooses the faster
    path; both paths give the same result.

    Examples
    --------
    >>> short_runs(np.arange(100_000) % 1000), short_runs(np.repeat(np.arange(1000), 100))
    (True, False)
    """
    n = ids.shape[0]
    if n < 1 << 16:
        return False
    at = np.linspace(0, n - 64, 16).astype(np.intp)[:, None] + np.arange(64)
    window = ids[at]
    changes = np.count_nonzero(window[:, 1:] != window[:, :-1])
    return bool(changes * 2 > window[:, 1:].size)


def _bad_codes(n_bad: int, n_groups: int) -> None:
    if n_bad:
        raise IndexError(f"{n_bad} group codes outside [0, {n_groups})")


def _code_tables(R: int, C: int, G: int) -> int:
    """Row ranges, each with tables of its own, of the per-entry pass over ``R`` rows of ``C``
    channels into ``G`` entries: two only when the rows outnumber the entries (zeroing and
    merging a table costs about as much as updating it once per row)."""
    return _CODE_CHUNKS if R * C >= PARALLEL_MIN_ELEMS and R > 4 * G else 1


def _code_moments(impl: SimpleNamespace, x: np.ndarray, codes: np.ndarray, G: int, lo: int) -> tuple:
    """The per-entry pass (:func:`_k_code_moments`) with its row ranges run in parallel when
    there are two."""
    R, C = x.shape
    P = _code_tables(R, C, G)
    with parallel_slot(P) as parallel:
        run = impl.code_moments_parallel if parallel else impl.code_moments
        return run(x, codes, G, P, lo)


def id_span_acc(x: np.ndarray, ids: np.ndarray, lo: int, size: int) -> tuple[np.ndarray, int] | None:
    """Per-entry accumulators of rows in any order whose 1D integer ``ids`` are taken as entries
    ``id - lo`` of a guessed span ``[lo, lo + size)``, in one pass with no codes made first:
    ``(acc, NaN values skipped)``, or None when an id falls outside the span, or when the pass
    would not be the one :func:`segment_moments` makes over the exact span (rows in runs, too
    few rows for two tables over the guess, no compiled kernels). Then the caller finds the
    exact span and codes. Every entry's statistics are those of the exact pass, bit for bit.

    Examples
    --------
    >>> ids = np.tile(np.arange(3, 1003), 300)[np.random.default_rng(0).permutation(300_000)]
    >>> acc, nan = id_span_acc(np.ones((ids.size, 1)), ids, 0, 1100)
    >>> acc[0, 2:5, 0].tolist(), float(acc[0, 1003:, 0].sum()), nan
    ([0.0, 300.0, 300.0], 0.0, 0)
    """
    impl = _impl()
    R, C = x.shape
    if impl is None or R == 0 or C == 0 or ids.dtype not in (np.int32, np.int64):
        return None
    if ids.shape != (R,) or not ids.flags.c_contiguous or not short_runs(ids):
        return None  # the exact path checks the ids and makes contiguous codes
    if _code_tables(R, C, size) != _code_tables(R, C, 1) or not (-(1 << 62) <= lo <= lo + size <= 1 << 62):
        return None
    acc, n_out, n_nan = _code_moments(impl, x, ids, size, lo)
    return None if n_out else (acc, int(n_nan))


def _segment_acc(x: np.ndarray, codes: np.ndarray, G: int) -> np.ndarray:
    R, C = x.shape
    impl = _impl()
    if impl is None or R == 0 or C == 0:
        if R and (codes.min() < 0 or codes.max() >= G):
            _bad_codes(int(np.count_nonzero((codes < 0) | (codes >= G))), G)
        with np.errstate(all="ignore"):
            return _np_segment_moments(x, codes, G)
    interleaved = short_runs(codes)
    starts, n_bad = (None, -1) if interleaved else impl.runs(codes, G, R // MIN_RUN + 1)
    if n_bad < 0:  # short runs (rows in any order): one pass updating per-code tables
        acc, n_bad, _ = _code_moments(impl, x, codes, G, 0)
        _bad_codes(int(n_bad), G)
        return acc
    _bad_codes(int(n_bad), G)
    n_runs = starts.size - 1
    run_codes = codes[starts[:-1]]
    m, block = _layout(R, C, _RUN_LANES)
    xf = x.reshape(-1)
    if n_runs == 1 or np.all(run_codes[1:] > run_codes[:-1]):  # one run per group
        acc = _k_init_acc(G, C)
        impl.run_moments(xf, C, m, block, starts, 0, n_runs, run_codes, acc)
        return acc
    part = _k_init_acc(n_runs, C)
    slots = np.arange(n_runs, dtype=np.int64)
    impl.run_moments(xf, C, m, block, starts, 0, n_runs, slots, part)
    return impl.merge_slots(part, run_codes, G)


#: The one merge formula of the moments (:func:`_k_chan`), for numpy arrays.
chan_merge = _k_chan


def fold_rows(table: np.ndarray) -> np.ndarray:
    """Merge the rows of a ``(6, rows, channels)`` accumulator table into one ``(6, channels)``.

    The rows are ``count, mean high, mean low, m2, min, max`` (empty rows: count 0, min +inf, max
    -inf). Compiled: :func:`_k_merge` row after row; numpy: :func:`_np_merge` pairwise.
    """
    table = np.ascontiguousarray(table, dtype=np.float64)
    impl = _impl()
    if impl is not None and table.shape[1] and table.shape[2]:
        return impl.merge_slots(table, np.zeros(table.shape[1], np.int64), 1)[:, 0]
    if table.shape[1] == 0:
        return _k_init_acc(1, table.shape[2])[:, 0]
    with np.errstate(all="ignore"):
        while table.shape[1] > 1:
            half = table.shape[1] // 2
            top = table[:, : table.shape[1] - half].copy()
            _np_merge(top, np.arange(half), table[:, top.shape[1] :])
            table = top
    return table[:, 0]


def int_span(ids: np.ndarray) -> tuple[int, int]:
    """``(min, max)`` of a non-empty 1D integer array, in one pass over memory.

    Examples
    --------
    >>> int_span(np.array([3, -1, 7]))
    (-1, 7)
    """
    impl = _impl()
    if impl is None or ids.size < 4096:
        return int(ids.min()), int(ids.max())
    lo, hi = impl.int_span(np.ascontiguousarray(ids).reshape(-1))
    return int(lo), int(hi)


def int_presence(ids: np.ndarray, lo: int, n: int) -> np.ndarray:
    """Boolean ``(n,)``: whether ``lo + k`` occurs in the integer ``ids`` (all in ``[lo, lo + n)``).

    One compiled pass over the ids (``np.bincount`` makes three).

    Examples
    --------
    >>> int_presence(np.array([3, 5, 3]), 3, 4).tolist()
    [True, False, True, False]
    """
    impl = _impl()
    if impl is None or ids.size < 4096 or ids.dtype == np.uint64:
        return np.bincount(ids.astype(np.intp) - lo, minlength=n)[:n] > 0
    seen = impl.presence(np.ascontiguousarray(ids).reshape(-1), lo, n)
    return seen


def segment_moments(x: np.ndarray, codes: np.ndarray, n_groups: int) -> Stats:
    """Per-group, per-channel ``(count, mean, m2, min, max)``, each of shape ``(n_groups, C)``.

    ``codes[i]`` in ``[0, n_groups)`` is the group of row ``i`` (a code outside raises
    IndexError). Rows of a group need not be contiguous: runs of equal codes are processed as
    blocks (a group split over several runs merges them), and when runs are very
    short (interleaved series) a one-pass per-row update indexed by code is used. Groups without
    rows have count 0, mean 0, m2 0 and NaN min/max. Same accuracy notes as :func:`moments`.
    """
    x = _float_2d(x)
    G = int(n_groups)
    if G < 0:
        raise ValueError("n_groups must be >= 0")
    codes = _codes(codes, x.shape[0])
    count, mean, m2, mn, mx = _finish(_segment_acc(x, codes, G))
    bad = _overflowed(count, mean, m2)
    if bad.any():
        for j in np.flatnonzero(bad.any(axis=0)):
            k = np.where(bad[:, j], _exponents(mn[:, j], mx[:, j]), 0)
            xs = np.ldexp(x[:, j].astype(np.float64), -k[codes]).reshape(-1, 1)
            _, mean_s, m2_s, _, _ = _finish(_segment_acc(xs, codes, G))
            rows = bad[:, j]
            mean[rows, j], m2[rows, j] = _rescale(mean_s[rows, 0], m2_s[rows, 0], k[rows])
    return count, mean, m2, mn, mx


def _coef(v, C: int, default: float | None = None) -> np.ndarray:
    if v is None:
        return np.full(C, default, dtype=np.float64)
    return np.ascontiguousarray(np.broadcast_to(np.asarray(v, dtype=np.float64), (C,)))


def _prepare_out(x: np.ndarray, out: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The array to compute into and, when it is not ``out`` itself, where to copy it after."""
    if out is None:
        return np.empty_like(x, order="C"), None
    if out.shape != x.shape:
        raise ValueError(f"out has shape {out.shape}, expected {x.shape}")
    if out.dtype in (np.float32, np.float64) and out.flags.c_contiguous and out.flags.writeable:
        return out, None
    return np.empty_like(x, order="C"), out


_last = threading.local()  # n_inf: infinite values given by this thread's last affine map


def last_infinite_count() -> int:
    """Number of +-inf values the calling thread's last :func:`affine_apply` or
    :func:`segment_affine_apply` gave before clipping: infinite inputs, and finite ones the
    coefficients sent past float64 (counted in the same pass)."""
    return getattr(_last, "n_inf", 0)


def _affine(x, scale, offset, out, lo, hi, invert, shift=None, divide=False):
    src = np.asarray(x)
    x = _float_2d(src)
    if out is not None and out is src and x is not src:
        out_target = src  # non-canonical in-place request: compute aside, copy back
        out = None
    else:
        out_target = None
    R, C = x.shape
    s = _coef(scale, C)
    o = _coef(offset, C)
    h = _coef(shift, C, 0.0)
    lo_c = _coef(lo, C, -np.inf)
    hi_c = _coef(hi, C, np.inf)
    res, copy_to = _prepare_out(x, out)
    copy_to = copy_to if out_target is None else out_target
    impl = _impl()
    n_inf = 0
    if R and C:
        if impl is None:
            n_inf = _np_affine(x, s, o, h, lo_c, hi_c, res, invert, divide)
        else:
            m, _ = _layout(R, C)
            lanes = (
                np.tile(s, m),
                np.tile(o, m),
                np.tile(h, m),
                np.tile(lo_c, m),
                np.tile(hi_c, m),
            )
            xf, rf = x.reshape(-1), res.reshape(-1)
            P = _chunks(R, C, m)
            with parallel_slot(P) as parallel:
                if parallel:
                    n_inf = impl.affine_parallel(xf, rf, *lanes, R, C, m, P, invert, divide)
                else:
                    n_inf = impl.affine_serial(xf, rf, *lanes, 0, R * C, m * C, invert, divide)
    _last.n_inf = int(n_inf)
    if copy_to is not None:
        np.copyto(copy_to, res, casting="unsafe")
        return copy_to
    return res


def _np_affine(x, s, o, h, lo, hi, res, invert, divide=False) -> int:
    n_inf = 0
    for r0 in range(0, x.shape[0], _NP_BLOCK_ROWS):
        xb = x[r0 : r0 + _NP_BLOCK_ROWS].astype(np.float64)
        if invert:
            yb = (xb - o) * s + h if divide else (xb - o) / s + h
        else:
            yb = (xb - h) / s + o if divide else (xb - h) * s + o
            n_inf += int(np.count_nonzero(np.isinf(yb)))
            np.clip(yb, lo, hi, out=yb)
        res[r0 : r0 + _NP_BLOCK_ROWS] = yb
    return n_inf


def affine_apply(
    x: np.ndarray,
    scale: np.ndarray,
    offset: np.ndarray,
    out: np.ndarray | None = None,
    *,
    lo: np.ndarray | float | None = None,
    hi: np.ndarray | float | None = None,
    shift: np.ndarray | float | None = None,
    divide: bool = False,
) -> np.ndarray:
    """``y = (x - shift) * scale + offset`` per channel (``shift`` 0 when None), computed in
    float64, stored in ``x.dtype``; with ``divide``, ``scale`` is a divisor:
    ``y = (x - shift) / scale + offset`` (one rounding instead of two).

    ``scale`` and ``offset`` broadcast to ``(channels,)``. ``out`` (same shape, any float dtype;
    ``x`` itself for an in-place update, otherwise not overlapping ``x``) receives the result,
    which is returned. ``lo``/``hi`` (output units,
    scalars or per channel; None for no bound) clip the result before it is stored. NaN passes
    through, also through the clip.
    """
    return _affine(x, scale, offset, out, lo, hi, False, shift, divide)


def affine_invert(
    y: np.ndarray,
    scale: np.ndarray,
    offset: np.ndarray,
    out: np.ndarray | None = None,
    *,
    shift: np.ndarray | float | None = None,
    divide: bool = False,
) -> np.ndarray:
    """``x = (y - offset) / scale + shift`` per channel (a true division, so
    ``invert(apply(x))`` is within a few ulp of ``x``), computed in float64, stored in
    ``y.dtype``; with ``divide`` (``scale`` a divisor) ``x = (y - offset) * scale + shift``."""
    return _affine(y, scale, offset, out, None, None, True, shift, divide)


def _map_terms(
    S: np.ndarray, O: np.ndarray, H: np.ndarray, invert: bool, divide: bool
) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(P, Q, multiply)`` of the per-series map ``(x - P) * S + Q`` (``/ S`` without
    ``multiply``): applying subtracts the shift ``H`` and adds the offset ``O``, inverting the
    other way round; a divisor (``divide``) multiplies when inverting, a scale divides."""
    P, Q = (O, H) if invert else (H, O)
    return P, Q, invert == divide


def _gather_table(P: np.ndarray, S: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """One channel's terms (:func:`_map_terms`) packed for :func:`_k_gather_map`: per code
    ``(p, s, q, 0)``, flat."""
    table = np.zeros((S.shape[0], 4))
    table[:, 0], table[:, 1], table[:, 2] = P[:, 0], S[:, 0], Q[:, 0]
    return table.reshape(-1)


def _segment_affine(x, codes, scale2d, offset2d, out, invert, shift2d=None, divide=False, count=True):
    src = np.asarray(x)
    x = _float_2d(src)
    R, C = x.shape
    codes = _codes(codes, R)
    S = np.ascontiguousarray(scale2d, dtype=np.float64)
    O = np.ascontiguousarray(offset2d, dtype=np.float64)
    H = np.zeros_like(S) if shift2d is None else np.ascontiguousarray(shift2d, dtype=np.float64)
    if S.ndim != 2 or S.shape[1] != C or O.shape != S.shape or H.shape != S.shape:
        raise ValueError(f"scale2d/offset2d must both have shape (n_groups, {C})")
    G = S.shape[0]
    if out is src and x is not src:
        res, copy_to = np.empty_like(x), src
    else:
        res, copy_to = _prepare_out(x, out)
    impl = _impl()
    n_inf = 0
    P, Q, multiply = _map_terms(S, O, H, invert, divide)
    if R and C:
        if impl is None:
            if codes.min() < 0 or codes.max() >= G:
                _bad_codes(int(np.count_nonzero((codes < 0) | (codes >= G))), G)
            for r0 in range(0, R, _NP_BLOCK_ROWS):
                cb = codes[r0 : r0 + _NP_BLOCK_ROWS]
                d = x[r0 : r0 + _NP_BLOCK_ROWS].astype(np.float64) - P[cb]
                yb = (d * S[cb] if multiply else d / S[cb]) + Q[cb]
                n_inf += int(np.count_nonzero(np.isinf(yb))) if count else 0
                res[r0 : r0 + _NP_BLOCK_ROWS] = yb
        else:
            gather = short_runs(codes)
            table = _gather_table(P, S, Q) if gather and C == 1 else np.empty(0)
            flat = (x.reshape(-1), codes, P.reshape(-1), S.reshape(-1), Q.reshape(-1), table, res.reshape(-1))
            flags = (gather, gather and res.nbytes >= _STREAM_MIN_BYTES, count)
            with parallel_slot(_chunks(R, C, 1)) as parallel:
                if parallel:
                    n_bad, n_inf = impl.seg_affine_parallel(*flat, R, C, G, multiply, _CHUNKS, *flags)
                else:
                    n_bad, n_inf = impl.seg_affine(*flat, 0, R, C, G, multiply, *flags)
            _bad_codes(int(n_bad), G)
    _last.n_inf = int(n_inf)
    if copy_to is not None:
        np.copyto(copy_to, res, casting="unsafe")
        return copy_to
    return res


def segment_affine_apply(
    x: np.ndarray,
    codes: np.ndarray,
    scale2d: np.ndarray,
    offset2d: np.ndarray,
    out: np.ndarray | None = None,
    *,
    shift2d: np.ndarray | None = None,
    divide: bool = False,
    count_infinite: bool = True,
) -> np.ndarray:
    """``y[i] = (x[i] - shift2d[c]) * scale2d[c] + offset2d[c]`` with ``c = codes[i]`` (float64
    math, ``x.dtype`` out; ``shift2d`` zeros when None); with ``divide``, ``scale2d`` holds
    divisors: ``(x[i] - shift2d[c]) / scale2d[c] + offset2d[c]``.

    ``scale2d``/``offset2d`` have shape ``(n_groups, channels)``; a code outside
    ``[0, n_groups)`` raises IndexError. ``out`` may be ``x`` itself. The +-inf values it gives
    (infinite inputs, or finite ones sent past float64) are counted in the same pass
    (:func:`last_infinite_count`) unless ``count_infinite`` is False, for a caller that knows
    none can occur.
    """
    return _segment_affine(x, codes, scale2d, offset2d, out, False, shift2d, divide, count_infinite)


def segment_affine_invert(
    y: np.ndarray,
    codes: np.ndarray,
    scale2d: np.ndarray,
    offset2d: np.ndarray,
    out: np.ndarray | None = None,
    *,
    shift2d: np.ndarray | None = None,
    divide: bool = False,
) -> np.ndarray:
    """``x[i] = (y[i] - offset2d[c]) / scale2d[c] + shift2d[c]`` (with ``divide``:
    ``* scale2d[c]``); see segment_affine_apply."""
    return _segment_affine(y, codes, scale2d, offset2d, out, True, shift2d, divide, False)
