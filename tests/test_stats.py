"""Moments: exact, mergeable sufficient statistics (Chan's parallel update)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from seqscale import Moments

FAST = settings(max_examples=150, deadline=None)


def reference(x: np.ndarray):
    """count, mean, m2, min, max per column with NaN ignored (two-pass, fsum)."""
    out = []
    for col in x.T:
        v = col[~np.isnan(col)]
        if v.size == 0:
            out.append((0.0, 0.0, 0.0, np.nan, np.nan))
            continue
        mean = math.fsum(v) / v.size
        d = v - mean
        mean += math.fsum(d) / v.size
        d = v - mean
        out.append((float(v.size), mean, math.fsum(d * d), v.min(), v.max()))
    return [np.array(c) for c in zip(*out)]


def assert_moments(m: Moments, x: np.ndarray, rtol=1e-12):
    count, mean, m2, mn, mx = reference(x)
    np.testing.assert_array_equal(m.count, count)
    scale = float(np.nanmax(np.abs(x), initial=0.0))
    np.testing.assert_allclose(m.mean, mean, rtol=rtol, atol=1e-15 * scale)
    np.testing.assert_allclose(m.m2, m2, rtol=1e-10, atol=1e-12 * scale**2)
    np.testing.assert_array_equal(m.min, mn)
    np.testing.assert_array_equal(m.max, mx)


elements = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)
arrays = hnp.arrays(np.float64, st.tuples(st.integers(1, 40), st.integers(1, 3)), elements=elements)


@FAST
@given(x=arrays, data=st.data())
def test_merge_equals_whole_at_every_split(x, data):
    k = data.draw(st.integers(0, x.shape[0]))
    whole = Moments.from_array(x)
    a, b = (
        Moments.from_array(x[:k]) if k else Moments.empty(x.shape[1]),
        Moments.from_array(x[k:]) if k < len(x) else Moments.empty(x.shape[1]),
    )
    for merged in (a.merge(b), b.merge(a)):
        np.testing.assert_array_equal(merged.count, whole.count)
        np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(merged.m2, whole.m2, rtol=1e-9, atol=1e-6)
        np.testing.assert_array_equal(merged.min, whole.min)
        np.testing.assert_array_equal(merged.max, whole.max)


@FAST
@given(x=arrays)
def test_from_array_matches_reference(x):
    assert_moments(Moments.from_array(x), x, rtol=1e-12)


@FAST
@given(x=arrays, data=st.data())
def test_merge_associative(x, data):
    i = data.draw(st.integers(0, x.shape[0]))
    j = data.draw(st.integers(i, x.shape[0]))
    parts = [Moments.from_array(p) if len(p) else Moments.empty(x.shape[1]) for p in (x[:i], x[i:j], x[j:])]
    left = parts[0].merge(parts[1]).merge(parts[2])
    right = parts[0].merge(parts[1].merge(parts[2]))
    np.testing.assert_allclose(left.mean, right.mean, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(left.m2, right.m2, rtol=1e-9, atol=1e-6)


def test_empty_is_identity():
    x = np.array([[1.0, 2.0], [3.0, 5.0], [4.0, np.nan]])
    m = Moments.from_array(x)
    for merged in (m.merge(Moments.empty(2)), Moments.empty(2).merge(m)):
        for f in ("count", "mean", "m2", "min", "max"):
            np.testing.assert_array_equal(getattr(merged, f), getattr(m, f))
    e = Moments.empty(2).merge(Moments.empty(2))
    assert e.count.tolist() == [0, 0] and np.isnan(e.min).all()


def test_nan_ignored():
    x = np.array([[1.0, np.nan], [np.nan, np.nan], [3.0, 2.0]])
    m = Moments.from_array(x)
    assert m.count.tolist() == [2, 1]
    assert m.mean.tolist() == [2.0, 2.0]
    assert m.m2.tolist() == [2.0, 0.0]


def test_all_nan_channel():
    m = Moments.from_array(np.full((3, 1), np.nan))
    assert m.count.tolist() == [0] and m.mean.tolist() == [0.0] and m.m2.tolist() == [0.0]
    assert np.isnan(m.min).all() and np.isnan(m.max).all()
    assert m.var().tolist() == [0.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_far_from_zero(dtype):
    rng = np.random.default_rng(3)
    x = (1e9 + rng.normal(size=(4000, 1))).astype(np.float64)
    if dtype == np.float32:
        x = (1e4 + rng.normal(size=(4000, 1))).astype(np.float32)
    m = Moments.from_array(x)
    _, _, m2, _, _ = reference(x.astype(np.float64))
    assert abs(m.m2[0] - m2[0]) <= 1e-12 * m2[0]
    assert m.mean.dtype == np.float64


def test_large_values_mean_finite():
    x = np.array([[1e308], [1e308], [1e308 * 0.5]])
    m = Moments.from_array(x)
    assert np.isfinite(m.mean).all()
    np.testing.assert_allclose(m.mean, [1e308 * (2.5 / 3)], rtol=1e-15)
    assert m.max[0] == 1e308 and m.min[0] == 5e307


@FAST
@given(x=arrays, data=st.data())
def test_from_groups_equals_per_group(x, data):
    n_groups = data.draw(st.integers(1, 4))
    codes = np.asarray(data.draw(st.lists(st.integers(0, n_groups - 1), min_size=len(x), max_size=len(x))))
    g = Moments.from_groups(x, codes, n_groups)
    assert g.count.shape == (n_groups, x.shape[1])
    for k in range(n_groups):
        part = x[codes == k]
        if len(part) == 0:
            assert (g.count[k] == 0).all()
            continue
        ref = Moments.from_array(part)
        np.testing.assert_array_equal(g.count[k], ref.count)
        np.testing.assert_allclose(g.mean[k], ref.mean, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(g.m2[k], ref.m2, rtol=1e-9, atol=1e-6)
        np.testing.assert_array_equal(g.min[k], ref.min)
        np.testing.assert_array_equal(g.max[k], ref.max)
    pooled = g.pooled()
    whole = Moments.from_array(x)
    np.testing.assert_array_equal(pooled.count, whole.count)
    np.testing.assert_allclose(pooled.mean, whole.mean, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(pooled.m2, whole.m2, rtol=1e-9, atol=1e-6)


def test_var_std_ddof():
    x = np.array([[1.0], [2.0], [4.0]])
    m = Moments.from_array(x)
    np.testing.assert_allclose(m.var(), np.var(x, axis=0), rtol=1e-15)
    np.testing.assert_allclose(m.std(ddof=1), np.std(x, axis=0, ddof=1), rtol=1e-15)
    one = Moments.from_array(np.array([[5.0]]))
    assert one.var(ddof=1).tolist() == [0.0]


def test_concat_take_as_dict():
    a = Moments.from_groups(np.arange(6.0).reshape(3, 2), np.array([0, 1, 1]), 2)
    b = a.concat(Moments.empty((1, 2)))
    assert b.count.shape == (3, 2)
    assert b.take(2).count.tolist() == [0, 0]
    assert set(a.as_dict()) == {"count", "mean", "m2", "min", "max"}


def test_pooled_equals_the_statistics_of_all_rows():
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 50, size=20_000)
    codes[codes == 7] = 8  # series 7 holds no row
    x = 1e9 + rng.normal(size=(20_000, 2)) * np.where(codes % 2, 1.0, 3.0)[:, None]
    x[::101, 1] = np.nan
    table = Moments.from_groups(x, codes, 50)
    pooled, whole = table.pooled(), Moments.from_array(x)
    np.testing.assert_array_equal(pooled.count, whole.count)
    np.testing.assert_allclose(pooled.mean, whole.mean, rtol=1e-15)
    # the series means are rounded to float64 (~6e-8 at 1e9): m2's between-series part inherits it
    np.testing.assert_allclose(pooled.m2, whole.m2, rtol=1e-9)
    np.testing.assert_array_equal(pooled.min, whole.min)
    np.testing.assert_array_equal(pooled.max, whole.max)
    empty = Moments.empty((0, 2)).pooled()
    assert empty.count.tolist() == [0, 0] and np.isnan(empty.min).all()
