"""One-pass statistics and affine kernels on canonical ``rows x channels`` arrays.

Every function here is a pure function on *canonical* input: a C-contiguous 2D float32 or float64
array whose values are finite or NaN (validation happens at the edge, in ``_validation.py``).
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
  the caller is expected to raise.

The affine functions (:func:`affine_apply`, :func:`affine_invert` and their per-group
``segment_`` variants) compute ``x * scale + offset`` and ``(y - offset) / scale`` in float64 and
store the result in the input's dtype; NaN passes through. They read the input once and write the
output once, and ``out`` may be the input itself.

numba is imported on the first call of a kernel, never at import time, and the compiled machine
code is cached on disk. Setting the environment variable ``SEQSCALE_DISABLE_NUMBA=1`` (read on
every call), or not having numba installed, selects pure-numpy implementations of the same
algorithms; they agree with the compiled kernels to rounding and are slower.
"""

from __future__ import annotations

import functools
import os
from types import SimpleNamespace

import numpy as np

__all__ = [
    "affine_apply",
    "affine_invert",
    "masked_moments",
    "moments",
    "numba_enabled",
    "segment_affine_apply",
    "segment_affine_invert",
    "segment_moments",
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
# Below this many elements the compiled kernels run on one thread.
_PARALLEL_MIN_ELEMS = 1 << 18
# Number of row chunks of a parallel pass. Fixed (not the thread count) so results do not
# depend on the machine.
_CHUNKS = 8
# Mean run length under which grouped statistics use per-row updates instead of runs.
_MIN_RUN = 8
# Rows per block in the numpy implementations.
_NP_BLOCK_ROWS = 65536


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


def _float_2d(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"expected a 2D rows x channels array, got {x.ndim}D")
    if x.dtype != np.float32 and x.dtype != np.float64:
        x = x.astype(np.float64)
    return np.ascontiguousarray(x)


def _layout(rows: int, channels: int) -> tuple[int, int]:
    """Rows per lane group (``m``) and rows per block (a multiple of ``m``)."""
    c = max(channels, 1)
    m = max(1, -(-_LANES // c))
    block = max(m, (_BLOCK_ELEMS // c) // m * m)
    return m, block


def _chunks(rows: int, channels: int, m: int) -> int:
    if rows * channels < _PARALLEL_MIN_ELEMS:
        return 1
    return max(1, min(_CHUNKS, rows // max(m, 1)))


# --------------------------------------------------------------------------------------------
# Compiled kernels. Plain functions here; ``_get_impl`` compiles them with numba and binds the
# compiled versions to the ``_nb_*`` module names the kernels call each other through.
# --------------------------------------------------------------------------------------------


def _k_two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _k_merge(acc, g, j, nb, hb, lb, qb, mnb, mxb):
    """Merge one block's statistics into ``acc[:, g, j]`` (Chan's formula, two-float mean)."""
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
    n = na + nb
    d = (hb - ha) + (lb - la)
    f = nb / n
    s, e = _nb_two_sum(ha, la + d * f)
    acc[0, g, j] = n
    acc[1, g, j] = s
    acc[2, g, j] = e
    acc[3, g, j] = acc[3, g, j] + qb + d * d * na * f


def _k_init_acc(groups, channels):
    acc = np.zeros((6, groups, channels))
    acc[4, :, :] = np.inf
    acc[5, :, :] = -np.inf
    return acc


def _k_block_shifted(xf, mk, use_mask, r0, r1, C, m, lane, blk):
    """One sweep over rows ``[r0, r1)`` centred on the shift ``lane[6]`` (the previous block's
    mean). Fills ``blk`` and returns True, or returns False when the shift is too far from this
    block's mean (squared offset above the block variance) for the sums to be accurate."""
    L = m * C
    ln = lane[0]
    lq = lane[2]
    lc = lane[3]
    lmn = lane[4]
    lmx = lane[5]
    lmu = lane[6]
    for k in range(L):
        ln[k] = 0.0
        lq[k] = 0.0
        lc[k] = 0.0
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
                a = lmn[k]
                b = lmx[k]
                lmn[k] = v if (v < a) & ok else a
                lmx[k] = v if (v > b) & ok else b
        else:
            for k in range(kmax):
                v = np.float64(xs[k])
                ok = v == v
                d = v - lmu[k]
                ln[k] += 1.0 if ok else 0.0
                lq[k] += d * d if ok else 0.0
                lc[k] += d if ok else 0.0
                a = lmn[k]
                b = lmx[k]
                lmn[k] = v if v < a else a
                lmx[k] = v if v > b else b
        base += L
    for j in range(C):
        n = 0.0
        q = 0.0
        c = 0.0
        mn = np.inf
        mx = -np.inf
        for r in range(m):
            k = r * C + j
            n += ln[k]
            q += lq[k]
            c += lc[k]
            if lmn[k] < mn:
                mn = lmn[k]
            if lmx[k] > mx:
                mx = lmx[k]
        if n > 0.0:
            lo = c / n
            m2 = q - c * lo
            if not (c * lo <= 0.5 * q):
                return False
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
    return True


def _k_set_shift(lane, blk, C, m):
    """Centre the next block on this block's mean (channels without values keep their shift)."""
    lmu = lane[6]
    for j in range(C):
        if blk[0, j] > 0.0:
            mu = blk[1, j] + blk[2, j]
            for r in range(m):
                lmu[r * C + j] = mu


def _k_block(xf, mk, use_mask, r0, r1, C, m, lane, blk, shifted):
    """Statistics of rows ``[r0, r1)`` into ``blk`` rows (count, mean, mean_lo, m2, min, max).

    ``xf`` is the flat C-ordered data; lanes ``lane[:, k]`` accumulate the elements whose flat
    index is ``k`` modulo ``m * C`` within the block (always the same channel ``k % C``). With
    ``shifted`` (a previous block of the same series set the shift) one sweep usually suffices;
    otherwise, or when the shift is too far off, a sweep for the block mean is followed by a
    sweep (from cache) for the centred squares with the usual correction term.
    """
    if shifted and _nb_block_shifted(xf, mk, use_mask, r0, r1, C, m, lane, blk):
        return
    L = m * C
    ln = lane[0]
    ls = lane[1]
    lq = lane[2]
    lc = lane[3]
    lmn = lane[4]
    lmx = lane[5]
    lmu = lane[6]
    for k in range(L):
        ln[k] = 0.0
        ls[k] = 0.0
        lq[k] = 0.0
        lc[k] = 0.0
        lmn[k] = np.inf
        lmx[k] = -np.inf
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
    for j in range(C):
        n = 0.0
        s = 0.0
        for r in range(m):
            n += ln[r * C + j]
            s += ls[r * C + j]
        blk[0, j] = n
        blk[1, j] = s / n if n > 0.0 else 0.0
    for k in range(L):
        lmu[k] = blk[1, k % C]
    # sweep 2 (from cache): centred squares, correction term, min, max
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
                lq[k] += d * d if ok else 0.0
                lc[k] += d if ok else 0.0
                a = lmn[k]
                b = lmx[k]
                lmn[k] = v if (v < a) & ok else a
                lmx[k] = v if (v > b) & ok else b
        else:
            for k in range(kmax):
                v = np.float64(xs[k])
                ok = v == v
                d = v - lmu[k]
                lq[k] += d * d if ok else 0.0
                lc[k] += d if ok else 0.0
                a = lmn[k]
                b = lmx[k]
                lmn[k] = v if v < a else a
                lmx[k] = v if v > b else b
        base += L
    for j in range(C):
        q = 0.0
        c = 0.0
        mn = np.inf
        mx = -np.inf
        for r in range(m):
            k = r * C + j
            q += lq[k]
            c += lc[k]
            if lmn[k] < mn:
                mn = lmn[k]
            if lmx[k] > mx:
                mx = lmx[k]
        n = blk[0, j]
        if n > 0.0:
            lo = c / n
            m2 = q - c * lo
            blk[2, j] = lo
            blk[3, j] = m2 if m2 > 0.0 else 0.0
        else:
            blk[2, j] = 0.0
            blk[3, j] = 0.0
        blk[4, j] = mn
        blk[5, j] = mx
    _nb_set_shift(lane, blk, C, m)


def _k_moments_range(xf, mk, use_mask, r0, r1, C, m, B, acc, g):
    lane = np.empty((7, m * C))
    blk = np.empty((6, C))
    r = r0
    while r < r1:
        re = min(r + B, r1)
        _nb_block(xf, mk, use_mask, r, re, C, m, lane, blk, r > r0)
        for j in range(C):
            _nb_merge(acc, g, j, blk[0, j], blk[1, j], blk[2, j], blk[3, j], blk[4, j], blk[5, j])
        r = re


def _k_fold_chunks(part, C):
    acc = _nb_init_acc(1, C)
    for p in range(part.shape[1]):
        for j in range(C):
            _nb_merge(
                acc, 0, j, part[0, p, j], part[1, p, j], part[2, p, j],
                part[3, p, j], part[4, p, j], part[5, p, j],
            )  # fmt: skip
    return acc


def _k_moments_serial(xf, mk, use_mask, R, C, m, B):
    acc = _nb_init_acc(1, C)
    _nb_moments_range(xf, mk, use_mask, 0, R, C, m, B, acc, 0)
    return acc


def _k_moments_parallel(xf, mk, use_mask, R, C, m, B, P):
    part = _nb_init_acc(P, C)
    per = -(-(-(-R // P)) // m) * m
    for p in _prange(P):
        a = min(R, p * per)
        b = min(R, a + per)
        _nb_moments_range(xf, mk, use_mask, a, b, C, m, B, part, p)
    return _nb_fold_chunks(part, C)


def _k_runs(codes, G, P):
    """Start rows of the runs of equal codes (plus a final ``n``) and the number of bad codes."""
    n = codes.size
    buf = np.empty(max(n, 1), np.int64)
    cnt = np.zeros(P, np.int64)
    bad = np.zeros(P, np.int64)
    per = -(-n // P)
    for p in _prange(P):
        a = min(n, p * per)
        b = min(n, a + per)
        k = 0
        nbad = 0
        prev = codes[a - 1] if a > 0 else -1
        for i in range(a, b):
            c = codes[i]
            if c < 0 or c >= G:
                nbad += 1
            if i == 0 or c != prev:
                buf[a + k] = i
                k += 1
            prev = c
        cnt[p] = k
        bad[p] = nbad
    total = 0
    for p in range(P):
        total += cnt[p]
    starts = np.empty(total + 1, np.int64)
    t = 0
    for p in range(P):
        a = min(n, p * per)
        for k in range(cnt[p]):
            starts[t] = buf[a + k]
            t += 1
    starts[total] = n
    return starts, bad.sum()


def _k_run_moments(xf, C, m, B, starts, bounds, slots, acc):
    """Statistics of each run ``r`` (rows ``starts[r]:starts[r+1]``) merged into ``slots[r]``.

    ``bounds`` splits the runs into chunks processed in parallel; slots must be distinct across
    chunks (each group in one run, or one slot per run).
    """
    P = bounds.size - 1
    dummy = np.zeros(1, np.bool_)
    for p in _prange(P):
        lane = np.empty((7, m * C))
        blk = np.empty((6, C))
        for r in range(bounds[p], bounds[p + 1]):
            g = slots[r]
            a = starts[r]
            e = starts[r + 1]
            while a < e:
                b = min(a + B, e)
                _nb_block(xf, dummy, False, a, b, C, m, lane, blk, a > starts[r])
                for j in range(C):
                    _nb_merge(
                        acc, g, j, blk[0, j], blk[1, j], blk[2, j], blk[3, j],
                        blk[4, j], blk[5, j],
                    )  # fmt: skip
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


def _k_welford(x, codes, G):
    """Per-group statistics in one pass over rows in any order (shifted Welford updates).

    The shift of a (group, channel) is its first value, so ``acc[1]`` holds the shift and
    ``acc[2]`` the running mean of the shifted values; their sum is the mean.
    """
    R, C = x.shape
    acc = _nb_init_acc(G, C)
    nbad = 0
    for i in range(R):
        g = codes[i]
        if g < 0 or g >= G:
            nbad += 1
            continue
        for j in range(C):
            v = np.float64(x[i, j])
            if v != v:
                continue
            n = acc[0, g, j]
            if n == 0.0:
                acc[0, g, j] = 1.0
                acc[1, g, j] = v
                acc[4, g, j] = v
                acc[5, g, j] = v
                continue
            n += 1.0
            acc[0, g, j] = n
            w = v - acc[1, g, j]
            mu = acc[2, g, j]
            d = w - mu
            mu += d / n
            acc[2, g, j] = mu
            acc[3, g, j] += d * (w - mu)
            if v < acc[4, g, j]:
                acc[4, g, j] = v
            if v > acc[5, g, j]:
                acc[5, g, j] = v
    return acc, nbad


def _k_affine(xf, out, sl, ol, lol, hil, R, C, m, P, invert):
    """``out = clip(x * s + o)`` or ``out = (x - o) / s`` per lane, rows split into P chunks."""
    L = m * C
    per = -(-(-(-R // P)) // m) * m
    for p in _prange(P):
        e0 = min(R, p * per) * C
        e1 = min(R, p * per + per) * C
        base = e0
        if invert:
            while base < e1:
                kmax = min(L, e1 - base)
                xs = xf[base : base + kmax]
                ys = out[base : base + kmax]
                for k in range(kmax):
                    ys[k] = (np.float64(xs[k]) - ol[k]) / sl[k]
                base += L
        else:
            while base < e1:
                kmax = min(L, e1 - base)
                xs = xf[base : base + kmax]
                ys = out[base : base + kmax]
                for k in range(kmax):
                    y = np.float64(xs[k]) * sl[k] + ol[k]
                    y = lol[k] if y < lol[k] else y
                    y = hil[k] if y > hil[k] else y
                    ys[k] = y
                base += L


def _k_seg_affine_range(x, codes, S, O, out, a, b, invert):
    C = x.shape[1]
    G = S.shape[0]
    nbad = 0
    for i in range(a, b):
        g = codes[i]
        if g < 0 or g >= G:
            nbad += 1
            for j in range(C):
                out[i, j] = np.nan
        elif invert:
            for j in range(C):
                out[i, j] = (np.float64(x[i, j]) - O[g, j]) / S[g, j]
        else:
            for j in range(C):
                out[i, j] = np.float64(x[i, j]) * S[g, j] + O[g, j]
    return nbad


def _k_seg_affine(x, codes, S, O, out, P, invert):
    R = x.shape[0]
    per = -(-R // P)
    bad = np.zeros(P, np.int64)
    for p in _prange(P):
        a = min(R, p * per)
        b = min(R, a + per)
        bad[p] = _nb_seg_affine_range(x, codes, S, O, out, a, b, invert)
    return bad.sum()


def _prange(n):  # replaced by numba.prange inside compiled code
    return range(n)


_nb_two_sum = _k_two_sum
_nb_merge = _k_merge
_nb_init_acc = _k_init_acc
_nb_block = _k_block
_nb_block_shifted = _k_block_shifted
_nb_set_shift = _k_set_shift
_nb_moments_range = _k_moments_range
_nb_fold_chunks = _k_fold_chunks
_nb_seg_affine_range = _k_seg_affine_range


@functools.lru_cache(maxsize=None)
def _get_impl() -> SimpleNamespace | None:
    """Import numba and compile the kernels (once per process; machine code cached on disk)."""
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency, but stay usable without it
        return None
    g = globals()
    opts = {"cache": True, "fastmath": False, "error_model": "numpy", "nogil": True}
    serial = numba.njit(**opts)
    parallel = numba.njit(parallel=True, **opts)
    g["_prange"] = numba.prange
    # helpers first: the kernels below resolve these module names when they are compiled
    g["_nb_two_sum"] = serial(_k_two_sum)
    g["_nb_merge"] = serial(_k_merge)
    g["_nb_init_acc"] = serial(_k_init_acc)
    g["_nb_set_shift"] = serial(_k_set_shift)
    g["_nb_block_shifted"] = serial(_k_block_shifted)
    g["_nb_block"] = serial(_k_block)
    g["_nb_moments_range"] = serial(_k_moments_range)
    g["_nb_fold_chunks"] = serial(_k_fold_chunks)
    g["_nb_seg_affine_range"] = serial(_k_seg_affine_range)
    return SimpleNamespace(
        moments_serial=serial(_k_moments_serial),
        moments_parallel=parallel(_k_moments_parallel),
        runs=parallel(_k_runs),
        run_moments=parallel(_k_run_moments),
        merge_slots=serial(_k_merge_slots),
        welford=serial(_k_welford),
        affine=parallel(_k_affine),
        seg_affine=parallel(_k_seg_affine),
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
    a = acc[:, idx]
    na, ha, la, qa, mna, mxa = a
    nb, hb, lb, qb, mnb, mxb = blk
    n = na + nb
    first = na == 0
    safe_n = np.where(n > 0, n, 1.0)
    d = (hb - ha) + (lb - la)
    f = nb / safe_n
    h0 = np.where(first, hb, ha)
    t = np.where(first, lb, la + d * f)
    s = h0 + t
    bb = s - h0
    e = (h0 - (s - bb)) + (t - bb)
    q = np.where(first, qb, qa + qb + d * d * na * f)
    keep = nb == 0
    out = np.stack(
        [
            n,
            np.where(keep, ha, s),
            np.where(keep, la, e),
            np.where(keep, qa, q),
            np.fmin(mna, mnb),
            np.fmax(mxa, mxb),
        ]
    )
    acc[:, idx] = out


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
    if P == 1:
        return impl.moments_serial(xf, mk, use_mask, R, C, m, block)
    return impl.moments_parallel(xf, mk, use_mask, R, C, m, block, P)


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
    x = _float_2d(x)
    if mask is not None:
        mask = np.ascontiguousarray(mask, dtype=np.bool_)
        if mask.shape != x.shape:
            raise ValueError(f"mask shape {mask.shape} does not match data shape {x.shape}")
    count, mean, m2, mn, mx = (a[0] for a in _finish(_moments_acc(x, mask)))
    bad = _overflowed(count, mean, m2)
    if bad.any():
        cols = np.flatnonzero(bad)
        k = _exponents(mn[cols], mx[cols])
        xs = np.ascontiguousarray(np.ldexp(x[:, cols].astype(np.float64), -k))
        ms = None if mask is None else np.ascontiguousarray(mask[:, cols])
        _, mean_s, m2_s, _, _ = (a[0] for a in _finish(_moments_acc(xs, ms)))
        mean[cols], m2[cols] = _rescale(mean_s, m2_s, k)
    return count, mean, m2, mn, mx


def _codes(codes: np.ndarray, rows: int) -> np.ndarray:
    codes = np.ascontiguousarray(codes, dtype=np.int64).reshape(-1)
    if codes.shape[0] != rows:
        raise ValueError(f"codes has {codes.shape[0]} entries for {rows} rows")
    return codes


def _bad_codes(n_bad: int, n_groups: int) -> None:
    if n_bad:
        raise IndexError(f"{n_bad} group codes outside [0, {n_groups})")


def _segment_acc(x: np.ndarray, codes: np.ndarray, G: int) -> np.ndarray:
    R, C = x.shape
    impl = _impl()
    if impl is None or R == 0 or C == 0:
        if R and (codes.min() < 0 or codes.max() >= G):
            _bad_codes(int(np.count_nonzero((codes < 0) | (codes >= G))), G)
        with np.errstate(all="ignore"):
            return _np_segment_moments(x, codes, G)
    P = _chunks(R, max(C, 8), 1)
    starts, n_bad = impl.runs(codes, G, P)
    _bad_codes(int(n_bad), G)
    n_runs = starts.size - 1
    if n_runs * _MIN_RUN > R:
        acc, n_bad = impl.welford(x, codes, G)
        return acc
    run_codes = codes[starts[:-1]]
    m, block = _layout(R, C)
    # split the runs into P chunks of about equal row counts
    bounds = np.searchsorted(starts, np.linspace(0, R, P + 1).round().astype(np.int64))
    bounds[0], bounds[-1] = 0, n_runs
    bounds = np.maximum.accumulate(np.minimum(bounds, n_runs))
    xf = x.reshape(-1)
    if n_runs == 1 or np.all(run_codes[1:] > run_codes[:-1]):
        acc = _k_init_acc(G, C)
        impl.run_moments(xf, C, m, block, starts, bounds, run_codes, acc)
        return acc
    part = _k_init_acc(n_runs, C)
    impl.run_moments(xf, C, m, block, starts, bounds, np.arange(n_runs, dtype=np.int64), part)
    return impl.merge_slots(part, run_codes, G)


def segment_moments(x: np.ndarray, codes: np.ndarray, n_groups: int) -> Stats:
    """Per-group, per-channel ``(count, mean, m2, min, max)``, each of shape ``(n_groups, C)``.

    ``codes[i]`` in ``[0, n_groups)`` is the group of row ``i`` (a code outside raises
    IndexError). Rows of a group need not be contiguous: runs of equal codes are processed as
    blocks (in parallel when each group forms one run, e.g. sorted codes), and when runs are very
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
    if out.dtype == x.dtype and out.flags.c_contiguous and out.flags.writeable:
        return out, None
    return np.empty_like(x, order="C"), out


def _affine(x, scale, offset, out, lo, hi, invert):
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
    lo_c = _coef(lo, C, -np.inf)
    hi_c = _coef(hi, C, np.inf)
    res, copy_to = _prepare_out(x, out)
    copy_to = copy_to if out_target is None else out_target
    impl = _impl()
    if R and C:
        if impl is None:
            _np_affine(x, s, o, lo_c, hi_c, res, invert)
        else:
            m, _ = _layout(R, C)
            reps = m
            impl.affine(
                x.reshape(-1), res.reshape(-1), np.tile(s, reps), np.tile(o, reps),
                np.tile(lo_c, reps), np.tile(hi_c, reps), R, C, m, _chunks(R, C, m), invert,
            )  # fmt: skip
    if copy_to is not None:
        np.copyto(copy_to, res, casting="unsafe")
        return copy_to
    return res


def _np_affine(x, s, o, lo, hi, res, invert) -> None:
    for r0 in range(0, x.shape[0], _NP_BLOCK_ROWS):
        xb = x[r0 : r0 + _NP_BLOCK_ROWS].astype(np.float64)
        if invert:
            yb = (xb - o) / s
        else:
            yb = xb * s + o
            np.clip(yb, lo, hi, out=yb)
        res[r0 : r0 + _NP_BLOCK_ROWS] = yb


def affine_apply(
    x: np.ndarray,
    scale: np.ndarray,
    offset: np.ndarray,
    out: np.ndarray | None = None,
    *,
    lo: np.ndarray | float | None = None,
    hi: np.ndarray | float | None = None,
) -> np.ndarray:
    """``y = x * scale + offset`` per channel, computed in float64, stored in ``x.dtype``.

    ``scale`` and ``offset`` broadcast to ``(channels,)``. ``out`` (same shape; ``x`` itself for
    an in-place update) receives the result, which is returned. ``lo``/``hi`` (output units,
    scalars or per channel; None for no bound) clip the result before it is stored. NaN passes
    through, also through the clip.
    """
    return _affine(x, scale, offset, out, lo, hi, False)


def affine_invert(
    y: np.ndarray, scale: np.ndarray, offset: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """``x = (y - offset) / scale`` per channel (a true division, so ``invert(apply(x))`` is
    within a few ulp of ``x``), computed in float64, stored in ``y.dtype``."""
    return _affine(y, scale, offset, out, None, None, True)


def _segment_affine(x, codes, scale2d, offset2d, out, invert):
    src = np.asarray(x)
    x = _float_2d(src)
    R, C = x.shape
    codes = _codes(codes, R)
    S = np.ascontiguousarray(scale2d, dtype=np.float64)
    O = np.ascontiguousarray(offset2d, dtype=np.float64)
    if S.ndim != 2 or S.shape[1] != C or O.shape != S.shape:
        raise ValueError(f"scale2d/offset2d must both have shape (n_groups, {C})")
    G = S.shape[0]
    if out is src and x is not src:
        res, copy_to = np.empty_like(x), src
    else:
        res, copy_to = _prepare_out(x, out)
    impl = _impl()
    if R and C:
        if impl is None:
            if codes.min() < 0 or codes.max() >= G:
                _bad_codes(int(np.count_nonzero((codes < 0) | (codes >= G))), G)
            for r0 in range(0, R, _NP_BLOCK_ROWS):
                cb = codes[r0 : r0 + _NP_BLOCK_ROWS]
                xb = x[r0 : r0 + _NP_BLOCK_ROWS].astype(np.float64)
                yb = (xb - O[cb]) / S[cb] if invert else xb * S[cb] + O[cb]
                res[r0 : r0 + _NP_BLOCK_ROWS] = yb
        else:
            n_bad = impl.seg_affine(x, codes, S, O, res, _chunks(R, C, 1), invert)
            _bad_codes(int(n_bad), G)
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
) -> np.ndarray:
    """``y[i] = x[i] * scale2d[codes[i]] + offset2d[codes[i]]`` (float64 math, ``x.dtype`` out).

    ``scale2d``/``offset2d`` have shape ``(n_groups, channels)``; a code outside
    ``[0, n_groups)`` raises IndexError. ``out`` may be ``x`` itself.
    """
    return _segment_affine(x, codes, scale2d, offset2d, out, False)


def segment_affine_invert(
    y: np.ndarray,
    codes: np.ndarray,
    scale2d: np.ndarray,
    offset2d: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``x[i] = (y[i] - offset2d[codes[i]]) / scale2d[codes[i]]``; see segment_affine_apply."""
    return _segment_affine(y, codes, scale2d, offset2d, out, True)
