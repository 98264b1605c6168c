"""One-pass kernels: statistics vs numpy references, accuracy, overflow, affine maps."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings
from fractions import Fraction

import numpy as np
import pytest

from seqscale.core import kernels as K


@pytest.fixture(params=["numba", "numpy"])
def backend(request, monkeypatch):
    """Run a test with the compiled kernels and with the numpy implementations."""
    if request.param == "numpy":
        monkeypatch.setenv(K.DISABLE_ENV, "1")
        assert not K.numba_enabled()
    else:
        monkeypatch.delenv(K.DISABLE_ENV, raising=False)
        assert K.numba_enabled()
    return request.param


def _reference(x: np.ndarray, mask: np.ndarray | None = None):
    x = x.astype(np.float64)
    if mask is not None:
        x = np.where(mask, np.nan, x)
    count = (~np.isnan(x)).sum(axis=0).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(x, axis=0)
        var = np.nanvar(x, axis=0)
        lo = np.nanmin(x, axis=0)
        hi = np.nanmax(x, axis=0)
    mean = np.where(count > 0, mean, 0.0)
    m2 = np.where(count > 0, var * count, 0.0)
    return count, mean, m2, lo, hi


def _check(got, want, rtol=1e-12):
    count, mean, m2, lo, hi = got
    for a in got:
        assert a.dtype == np.float64
    np.testing.assert_array_equal(count, want[0])
    scale = float(np.nanmax(np.abs(np.asarray(want[3:])), initial=0.0)) + 1.0
    np.testing.assert_allclose(mean, want[1], rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(m2, want[2], rtol=1e-10, atol=1e-9)
    np.testing.assert_array_equal(lo, want[3])
    np.testing.assert_array_equal(hi, want[4])


SHAPES = [(1, 1), (7, 3), (1000, 1), (3001, 5), (257, 16), (20000, 2)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_moments_match_numpy(backend, shape, dtype):
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 3 + 5).astype(dtype)
    x[rng.random(shape) < 0.1] = np.nan
    _check(K.moments(x), _reference(x))


def test_moments_large_enough_for_parallel_chunks(backend):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((70_000, 4)).astype(np.float32) + np.float32(100)
    x[rng.random(x.shape) < 0.01] = np.nan
    _check(K.moments(x), _reference(x))


def test_moments_all_nan_channel_and_zero_rows(backend):
    x = np.array([[1.0, np.nan], [2.0, np.nan], [4.0, np.nan]])
    count, mean, m2, lo, hi = K.moments(x)
    assert count.tolist() == [3.0, 0.0]
    assert mean[1] == 0.0 and m2[1] == 0.0
    assert np.isnan(lo[1]) and np.isnan(hi[1])
    assert lo[0] == 1.0 and hi[0] == 4.0
    count, mean, m2, lo, hi = K.moments(np.empty((0, 3), np.float32))
    assert count.tolist() == [0.0] * 3 and mean.tolist() == [0.0] * 3 and m2.tolist() == [0.0] * 3
    assert np.isnan(lo).all() and np.isnan(hi).all()
    assert K.moments(np.empty((4, 0)))[0].shape == (0,)


def test_moments_non_contiguous_input(backend):
    rng = np.random.default_rng(2)
    base = rng.standard_normal((600, 8))
    for x in (np.asfortranarray(base), base[::3, ::2]):
        _check(K.moments(x), _reference(x))


def test_moments_drift_and_jumps(backend):
    # a trend and a level jump across blocks: the shifted single sweep must fall back correctly
    n = 50_000
    t = np.arange(n, dtype=np.float64)
    x = np.stack([t * 1e3, np.where(t < n // 2, 0.0, 1e9) + np.sin(t)], axis=1)
    want = _reference(x)
    got = K.moments(x)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-14)
    np.testing.assert_allclose(got[2][0], _exact_m2(x[:, 0])[0], rtol=1e-13)
    np.testing.assert_allclose(got[2][1], _exact_m2(x[:, 1])[0], rtol=1e-13)


def _exact_m2(values: np.ndarray) -> tuple[float, float]:
    """Exact m2 and mean of float values (rational arithmetic on centred values)."""
    vals = [Fraction(float(v)) for v in values]
    mean = sum(vals, Fraction(0)) / len(vals)
    m2 = sum(((v - mean) ** 2 for v in vals), Fraction(0))
    return float(m2), float(mean)


def _exact_std(values: np.ndarray) -> float:
    """Population std of float values, exact up to the final rounding.

    Values are centred on a float ``s`` near the mean (the residuals ``r = v - s`` are exact),
    each ``r * r`` is split exactly into three floats (Veltkamp), and the sums are taken with
    ``math.fsum``; ``m2 = sum(r**2) - sum(r)**2 / n`` is then formed in rational arithmetic.
    """
    v = np.asarray(values, dtype=np.float64)
    s = float(np.mean(v))
    r = v - s
    assert np.array_equal(r + s, v) and np.all(v - r == s)
    c = 134217729.0 * r
    hi = c - (c - r)
    lo = r - hi
    squares = Fraction(math.fsum(np.concatenate([hi * hi, 2.0 * hi * lo, lo * lo])))
    total = Fraction(math.fsum(r))
    m2 = squares - total * total / v.size
    return math.sqrt(m2 / v.size)


@pytest.mark.parametrize(
    ("dtype", "offset"), [(np.float64, 1e9), (np.float32, 1e4)], ids=["f64-1e9", "f32-1e4"]
)
def test_moments_accuracy_against_exact_reference(backend, dtype, offset):
    rng = np.random.default_rng(3)
    x = (offset + rng.standard_normal(1_000_000)).astype(dtype)
    count, mean, m2, _, _ = K.moments(x.reshape(-1, 1))
    std = math.sqrt(m2[0] / count[0])
    exact = _exact_std(x)
    assert abs(std - exact) / exact <= 1e-13
    exact_mean = float(Fraction(math.fsum(x.astype(np.float64))) / x.size)
    assert abs(mean[0] - exact_mean) <= 2 * np.spacing(exact_mean)


def test_moments_near_float_max(backend):
    big = np.finfo(np.float64).max
    x = np.array(
        [
            [1.6e308, 1e308, 1e150, 1e308],
            [1.6e308, -1e308, -2e150, 1e308],
            [1.6e308, 1e308, 3e150, -1e308],
            [1.6e308, -1e308, 5e150, np.nan],
        ]
    )
    count, mean, m2, lo, hi = K.moments(x)
    assert count.tolist() == [4.0, 4.0, 4.0, 3.0]
    assert mean[0] == 1.6e308 and m2[0] == 0.0
    assert mean[1] == 0.0 and m2[1] == np.inf  # true m2 = 4e616 is not representable
    want_m2, want_mean = _exact_m2(x[:, 2] / 2.0**500)
    np.testing.assert_allclose(mean[2], want_mean * 2.0**500, rtol=1e-15)
    np.testing.assert_allclose(m2[2], want_m2 * 2.0**1000, rtol=1e-14)
    assert np.isfinite(m2[2])
    np.testing.assert_allclose(mean[3], 1e308 / 3, rtol=1e-15)
    assert lo.tolist() == [1.6e308, -1e308, -2e150, -1e308]
    assert hi.tolist() == [1.6e308, 1e308, 5e150, 1e308]
    # a long constant column near the maximum: block sums overflow, the mean must not
    col = np.full((10_000, 1), big)
    c, mu, m2c, _, _ = K.moments(col)
    assert mu[0] == big and m2c[0] == 0.0 and c[0] == 10_000


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masked_moments(backend, dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3000, 3)).astype(dtype)
    x[rng.random(x.shape) < 0.05] = np.nan
    mask = rng.random(x.shape) < 0.3
    mask[:, 2] = True
    _check(K.masked_moments(x, mask), _reference(x, mask))
    with pytest.raises(ValueError, match="mask shape"):
        K.masked_moments(x, mask[:10])


def _segment_reference(x, codes, n_groups):
    C = x.shape[1]
    out = [np.zeros((n_groups, C)) for _ in range(3)] + [np.full((n_groups, C), np.nan) for _ in range(2)]
    for g in range(n_groups):
        rows = x[codes == g]
        if rows.shape[0] == 0:
            continue
        for j in range(C):
            col = rows[:, j]
            if np.isnan(col).all():
                continue
            ref = _reference(col.reshape(-1, 1))
            for k in range(5):
                out[k][g, j] = ref[k][0]
    return tuple(out)


def _check_segments(got, want):
    for a in got:
        assert a.shape == want[0].shape and a.dtype == np.float64
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-10, atol=1e-9)
    np.testing.assert_array_equal(got[3], want[3])
    np.testing.assert_array_equal(got[4], want[4])


@pytest.mark.parametrize("order", ["sorted", "runs", "shuffled"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_segment_moments_vs_loop(backend, order, dtype):
    rng = np.random.default_rng(5)
    n_groups = 40
    lengths = rng.integers(0, 120, n_groups)
    lengths[[3, 7]] = 0  # empty groups
    lengths[[4, 9]] = 1  # single rows
    lengths[11] = 3000  # longer than a block
    codes = np.repeat(np.arange(n_groups), lengths)
    if order == "runs":  # contiguous runs in an unsorted order, one group split in two runs
        perm = rng.permutation(n_groups)
        codes = np.concatenate([np.repeat(g, lengths[g]) for g in perm] + [np.array([perm[0]])])
    elif order == "shuffled":
        codes = rng.permutation(codes)
    x = (rng.standard_normal((codes.size, 2)) * 2 + 7).astype(dtype)
    x[rng.random(x.shape) < 0.05] = np.nan
    got = K.segment_moments(x, codes, n_groups + 2)
    _check_segments(got, _segment_reference(x, codes, n_groups + 2))
    _check_segments(K.segment_moments(x, codes.astype(np.int32), n_groups + 2), got)
    assert got[0][n_groups:].sum() == 0 and np.isnan(got[3][n_groups:]).all()


def test_segment_moments_edge_cases(backend):
    count, mean, m2, lo, hi = K.segment_moments(np.empty((0, 2)), np.empty(0, np.int64), 3)
    assert count.shape == (3, 2) and (count == 0).all() and (mean == 0).all() and (m2 == 0).all()
    assert np.isnan(lo).all() and np.isnan(hi).all()
    with pytest.raises(IndexError):
        K.segment_moments(np.ones((3, 1)), np.array([0, 5, 1]), 2)
    with pytest.raises(IndexError):
        K.segment_moments(np.ones((3, 1)), np.array([0, -1, 1]), 2)
    with pytest.raises(ValueError, match="codes"):
        K.segment_moments(np.ones((3, 1)), np.array([0, 1]), 2)


def test_segment_moments_accuracy_and_overflow(backend):
    rng = np.random.default_rng(6)
    x = np.concatenate([1e9 + rng.standard_normal(5000), [1e308, -1e308], np.full(3, 1.7e308)])
    codes = np.repeat([0, 1, 2], [5000, 2, 3])
    count, mean, m2, lo, hi = K.segment_moments(x.reshape(-1, 1), codes, 3)
    assert lo[1, 0] == -1e308 and hi[1, 0] == 1e308 and lo[2, 0] == hi[2, 0] == 1.7e308
    exact = _exact_std(x[:5000])
    assert abs(math.sqrt(m2[0, 0] / count[0, 0]) - exact) / exact <= 1e-13
    assert mean[1, 0] == 0.0 and m2[1, 0] == np.inf
    assert mean[2, 0] == 1.7e308 and m2[2, 0] == 0.0
    assert np.isfinite(mean).all()


def _ulp_close(back, x, scale, offset, n_ulp):
    """``back`` within ``n_ulp`` ulp of ``x``, measured at the magnitude the round trip passes
    through (``|x| + |offset / scale|``: the output is rounded at ``|y|``)."""
    back = np.asarray(back)
    x = np.asarray(x)
    size = np.abs(x.astype(np.float64)) + np.abs(np.asarray(offset) / np.asarray(scale))
    tol = n_ulp * np.spacing(size.astype(x.dtype))
    close = np.abs(back.astype(np.float64) - x) <= tol
    return bool(np.all(close | (np.isnan(back) & np.isnan(x))))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (999, 3), (5000, 16), (70_000, 2)])
def test_affine_round_trip(backend, dtype, shape):
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(shape) * 10).astype(dtype)
    x[rng.random(shape) < 0.05] = np.nan
    scale = rng.uniform(0.01, 100, shape[1])
    offset = rng.uniform(-5, 5, shape[1])
    y = K.affine_apply(x, scale, offset)
    assert y.dtype == dtype and y.shape == x.shape
    want = (x.astype(np.float64) * scale + offset).astype(dtype)
    np.testing.assert_array_equal(y, want)
    back = K.affine_invert(y, scale, offset)
    assert back.dtype == dtype
    assert _ulp_close(back, x, scale, offset, 4 if dtype == np.float64 else 1)
    np.testing.assert_array_equal(back, ((y.astype(np.float64) - offset) / scale).astype(dtype))


def test_affine_in_place_out_and_clip(backend):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2000, 3)).astype(np.float32)
    x[5, 1] = np.nan
    keep = x.copy()
    res = K.affine_apply(x, 2.0, [0.0, 1.0, 2.0], out=x)
    assert res is x
    np.testing.assert_array_equal(x, (keep.astype(np.float64) * 2 + [0, 1, 2]).astype(np.float32))
    back = K.affine_invert(x, 2.0, [0.0, 1.0, 2.0], out=x)
    assert back is x and _ulp_close(x, keep, 2.0, np.array([0.0, 1.0, 2.0]), 2)
    out = np.empty_like(keep)
    assert K.affine_apply(keep, 1.0, 0.0, out=out) is out
    clipped = K.affine_apply(keep, 1.0, 0.0, lo=[-0.5, -1.0, -np.inf], hi=0.5)
    assert np.nanmin(clipped[:, 0]) >= -0.5 and np.nanmin(clipped[:, 1]) >= -1.0
    assert np.nanmax(clipped) <= 0.5
    assert clipped[:, 2].min() == keep[:, 2].min()
    assert np.isnan(clipped[5, 1])
    np.testing.assert_array_equal(
        clipped, np.clip(keep.astype(np.float64), [-0.5, -1.0, -np.inf], 0.5).astype(np.float32)
    )
    # a non-contiguous in-place target is written back
    f = np.asfortranarray(keep.astype(np.float64))
    assert K.affine_apply(f, 3.0, 0.0, out=f) is f
    np.testing.assert_array_equal(f, keep.astype(np.float64) * 3)
    with pytest.raises(ValueError, match="shape"):
        K.affine_apply(keep, 1.0, 0.0, out=np.empty((3, 3), np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shuffle", [False, True])
def test_segment_affine_vs_loop(backend, dtype, shuffle):
    rng = np.random.default_rng(9)
    n_groups, C = 30, 3
    codes = np.repeat(np.arange(n_groups), rng.integers(1, 60, n_groups))
    if shuffle:
        codes = rng.permutation(codes)
    x = rng.standard_normal((codes.size, C)).astype(dtype)
    x[rng.random(x.shape) < 0.05] = np.nan
    S = rng.uniform(0.1, 10, (n_groups, C))
    O = rng.uniform(-1, 1, (n_groups, C))
    y = K.segment_affine_apply(x, codes, S, O)
    assert y.dtype == dtype
    np.testing.assert_array_equal(K.segment_affine_apply(x, codes.astype(np.int32), S, O), y)
    want = np.empty_like(x)
    for i, g in enumerate(codes):
        want[i] = (x[i].astype(np.float64) * S[g] + O[g]).astype(dtype)
    np.testing.assert_array_equal(y, want)
    back = K.segment_affine_invert(y, codes, S, O)
    assert _ulp_close(back, x, S[codes], O[codes], 2)
    z = x.copy()
    assert K.segment_affine_apply(z, codes, S, O, out=z) is z
    np.testing.assert_array_equal(z, want)
    with pytest.raises(IndexError):
        K.segment_affine_apply(x, np.full(codes.size, n_groups), S, O)
    with pytest.raises(ValueError, match="n_groups"):
        K.segment_affine_apply(x, codes, S[:, :1], O)


@pytest.mark.parametrize("channels", [1, 3])
def test_segment_affine_parallel_chunks_equal_one_thread(channels):
    """Rows in random order and in runs, split over numba's threads: the same bits as one thread."""
    rng = np.random.default_rng(10)
    n_groups = 500
    runs = np.repeat(np.arange(n_groups), rng.integers(200, 400, n_groups))
    codes = np.concatenate([rng.permutation(runs), runs])  # short runs, then long ones
    x = rng.standard_normal((codes.size, channels))
    H, S, O = (rng.uniform(0.5, 2.0, (n_groups, channels)) for _ in range(3))
    assert x.size >= K.PARALLEL_MIN_ELEMS
    threaded = K.segment_affine_apply(x, codes, S, O, shift2d=H)
    with K._PARALLEL_LOCK:  # another kernel holds the threads: one thread
        serial = K.segment_affine_apply(x, codes, S, O, shift2d=H)
    np.testing.assert_array_equal(threaded, serial)
    np.testing.assert_array_equal(threaded, (x - H[codes]) * S[codes] + O[codes])
    back = K.segment_affine_invert(threaded, codes, S, O, shift2d=H)
    np.testing.assert_allclose(back, x, rtol=1e-12, atol=1e-12)
    bad = codes.copy()
    bad[-5] = n_groups
    with pytest.raises(IndexError, match="1 group codes"):
        K.segment_affine_apply(x, bad, S, O)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("divide", [False, True])
def test_segment_affine_streaming_stores_same_bits(monkeypatch, dtype, divide):
    """Rows in random order written past the cache (non-temporal stores) hold the same bits as
    ordinary stores, forward and inverse, for both dtypes, with bad codes still NaN."""
    if not K.numba_enabled():
        pytest.skip("compiled kernels only")
    rng = np.random.default_rng(11)
    n_groups = 700
    codes = rng.permutation(np.repeat(np.arange(n_groups), rng.integers(100, 300, n_groups)))
    assert K.short_runs(codes)  # the gather path
    x = (rng.standard_normal((codes.size, 1)) * 50 + 7).astype(dtype)
    x[rng.random(x.shape) < 0.01] = np.nan
    H, S, O = (rng.uniform(0.5, 2.0, (n_groups, 1)) for _ in range(3))
    cached = K.segment_affine_apply(x, codes, S, O, shift2d=H, divide=divide)
    monkeypatch.setattr(K, "_STREAM_MIN_BYTES", 0)
    streamed = K.segment_affine_apply(x, codes, S, O, shift2d=H, divide=divide)
    np.testing.assert_array_equal(streamed, cached)
    assert streamed.dtype == dtype
    d = x.astype(np.float64) - H[codes]
    want = (d / S[codes] if divide else d * S[codes]) + O[codes]
    np.testing.assert_array_equal(streamed, want.astype(dtype))
    back = K.segment_affine_invert(streamed, codes, S, O, shift2d=H, divide=divide)
    with K._PARALLEL_LOCK:  # one thread: one range, one fence
        np.testing.assert_array_equal(
            K.segment_affine_invert(streamed, codes, S, O, shift2d=H, divide=divide), back
        )
    tol = 1e-4 if dtype == np.float32 else 1e-11  # values of about 50: round-trip within ulps
    np.testing.assert_allclose(back, x, rtol=0, atol=tol)
    bad = codes.copy()
    bad[[3, 99]] = -1
    with pytest.raises(IndexError, match="2 group codes"):
        K.segment_affine_apply(x, bad, S, O)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("channels", [1, 2])
def test_segment_affine_counts_infinite_outputs(backend, shuffle, channels):
    """The per-series map counts the +-inf values it gives in its own pass: infinite inputs and
    finite ones sent past float64 (none when inverting)."""
    rng = np.random.default_rng(12)
    codes = np.repeat(np.arange(40), 3000)
    if shuffle:
        codes = rng.permutation(codes)
    x = rng.standard_normal((codes.size, channels))
    x[[5, 777, 90_000], 0] = [np.inf, -np.inf, np.inf]
    S, O = np.full((40, channels), 2.0), np.zeros((40, channels))
    y = K.segment_affine_apply(x, codes, S, O)
    assert K.last_infinite_count() == 3
    assert np.isinf(y[[5, 777, 90_000], 0]).all()
    K.segment_affine_invert(y, codes, S, O)
    assert K.last_infinite_count() == 0
    K.segment_affine_apply(x, codes, S, O, count_infinite=False)  # input said to be finite
    assert K.last_infinite_count() == 0
    finite = np.nan_to_num(x, posinf=1.0, neginf=1.0)
    K.segment_affine_apply(finite, codes, S, O)
    assert K.last_infinite_count() == 0
    finite[[7, 8], 0] = 1e308  # doubled: past the largest float64
    assert np.isinf(K.segment_affine_apply(finite, codes, S, O)[[7, 8], 0]).all()
    assert K.last_infinite_count() == 2


def test_dense_affine_counts_infinite_outputs_before_clipping(backend):
    x = np.array([[1.0, 2.0], [np.inf, 1e308], [3.0, -1e308]])
    y = K.affine_apply(x, [1.0, 4.0], 0.0)
    assert K.last_infinite_count() == 3 and np.isinf(y[1:, 1]).all()
    clipped = K.affine_apply(x, [1.0, 4.0], 0.0, lo=-5.0, hi=5.0)
    assert K.last_infinite_count() == 3 and np.isfinite(clipped).all()
    K.affine_invert(y, [1.0, 4.0], 0.0)
    assert K.last_infinite_count() == 0


def test_backends_agree():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((40_000, 3)) * 1e3 + 1e6
    x[rng.random(x.shape) < 0.01] = np.nan
    compiled = K.moments(x)
    import os

    os.environ[K.DISABLE_ENV] = "1"
    try:
        fallback = K.moments(x)
    finally:
        del os.environ[K.DISABLE_ENV]
    for a, b in zip(compiled, fallback):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_import_does_not_load_numba():
    code = "import sys, seqscale.core.kernels; assert 'numba' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_concurrent_calls_from_threads():
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(11)
    x = rng.standard_normal((300_000, 4))
    want = K.moments(x)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: K.moments(x), range(8)))
        scaled = list(pool.map(lambda _: K.affine_apply(x, 2.0, 1.0), range(4)))
    for got in results:
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-14)
    for y in scaled:
        np.testing.assert_array_equal(y, x * 2.0 + 1.0)


def test_out_with_another_float_dtype(backend):
    x = np.linspace(-1, 1, 30, dtype=np.float32).reshape(10, 3)
    out = np.empty((10, 3), np.float64)
    assert K.affine_apply(x, 3.0, 0.25, out=out) is out
    np.testing.assert_array_equal(out, x.astype(np.float64) * 3.0 + 0.25)


def test_serial_and_parallel_compiles_never_share_a_cache_entry():
    """numba's disk cache names machine code by function name and line only: a serial and a
    parallel compile of one function must come from differently named functions, or the serial
    dispatcher loads the parallel code (two threads inside ``one_thread()``)."""
    pytest.importorskip("numba")
    from seqscale.frames import segments

    for impl in (K._get_impl(), segments._get_impl()):
        options: dict[tuple[str, int], set] = {}
        for dispatcher in vars(impl).values():
            code = dispatcher.py_func.__code__
            key = (dispatcher.py_func.__qualname__, code.co_firstlineno)
            options.setdefault(key, set()).add(bool(dispatcher.targetoptions.get("parallel")))
        shared = {key: found for key, found in options.items() if len(found) > 1}
        assert not shared, shared
    serial, parallel = K._get_impl().code_moments, K._get_impl().code_moments_parallel
    assert serial.py_func.__code__ is parallel.py_func.__code__  # one source, two names
