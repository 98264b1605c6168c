"""QuantileSketch (robust scaling): exact quantiles in memory, bounded error when compacted."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import seqscale
from seqscale.core.quantiles import QuantileSketch

FAST = settings(max_examples=150, deadline=None)
values = hnp.arrays(np.float64, st.integers(1, 60), elements=st.floats(-1e6, 1e6, allow_nan=False))


@FAST
@given(x=values, q=st.floats(0, 1))
def test_exact_quantile_equals_numpy_linear(x, q):
    s = QuantileSketch.from_values(x)
    assert s.exact
    np.testing.assert_allclose(s.quantile(q), [np.quantile(x, q)], rtol=1e-12, atol=1e-9)


@FAST
@given(x=values, data=st.data())
def test_grouped_quantiles_and_merge(x, data):
    n_groups = data.draw(st.integers(1, 4))
    codes = np.asarray(data.draw(st.lists(st.integers(0, n_groups - 1), min_size=len(x), max_size=len(x))))
    k = data.draw(st.integers(0, len(x)))
    a = QuantileSketch.from_values(x[:k], codes[:k], n_groups)
    b = QuantileSketch.from_values(x[k:], codes[k:], n_groups)
    whole = QuantileSketch.from_values(x, codes, n_groups)
    merged = a.merge(b)
    for q in (0.0, 0.25, 0.5, 0.75, 1.0):
        expect = [np.quantile(x[codes == g], q) if (codes == g).any() else np.nan for g in range(n_groups)]
        np.testing.assert_allclose(whole.quantile(q), expect, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(merged.quantile(q), expect, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(whole.pooled().quantile(0.5), [np.quantile(x, 0.5)], rtol=1e-12, atol=1e-9)


def test_nan_dropped_and_empty_group():
    s = QuantileSketch.from_values(np.array([np.nan, 1.0, 3.0, np.nan]), np.array([0, 0, 0, 1]), 2)
    out = s.quantile(0.5)
    assert out[0] == 2.0 and np.isnan(out[1])


def test_compaction_bounded_rank_error():
    rng = np.random.default_rng(0)
    x = rng.normal(size=5000)
    s = QuantileSketch.from_values(x, capacity=1000)
    assert not s.exact and 0 < s.rank_error <= 0.01
    for q in (0.1, 0.25, 0.5, 0.75, 0.9):
        got = s.quantile(q)[0]
        rank = np.searchsorted(np.sort(x), got) / x.size
        assert abs(rank - q) <= s.rank_error + 2 / 1000


def test_streamed_compaction_keeps_error_bound():
    rng = np.random.default_rng(1)
    x = rng.exponential(size=6000)
    s = QuantileSketch.from_values(x[:1000], capacity=800)
    for chunk in np.array_split(x[1000:], 10):
        s = s.merge(QuantileSketch.from_values(chunk, capacity=800))
    assert s.values.size <= 800
    got = s.quantile(0.5)[0]
    rank = np.searchsorted(np.sort(x), got) / x.size
    assert abs(rank - 0.5) <= s.rank_error + 2 / 800


def test_robust_partial_fit_equals_fit():
    rng = np.random.default_rng(2)
    X = rng.standard_t(2, size=(500, 3))
    whole = seqscale.RobustScaler().fit(X)
    est = seqscale.RobustScaler()
    for chunk in np.array_split(X, 17):
        est.partial_fit(chunk)
    np.testing.assert_allclose(est.center_, whole.center_, rtol=1e-12)
    np.testing.assert_allclose(est.scale_, whole.scale_, rtol=1e-12)
    assert est.exact_


@pytest.mark.parametrize("qr", [(0, 100), (5, 95), (25, 75), (49, 51)])
def test_robust_quantile_ranges_match_sklearn(qr):
    from sklearn.preprocessing import RobustScaler

    rng = np.random.default_rng(3)
    X = rng.lognormal(size=(101, 2))
    np.testing.assert_allclose(
        seqscale.RobustScaler(quantile_range=qr).fit_transform(X),
        RobustScaler(quantile_range=qr).fit_transform(X),
        rtol=1e-12,
        atol=1e-12,
    )


def test_robust_with_ties_and_nan():
    from sklearn.preprocessing import RobustScaler

    X = np.array([[1.0], [1.0], [1.0], [2.0], [np.nan], [9.0], [1.0]])
    np.testing.assert_allclose(
        seqscale.RobustScaler().fit_transform(X),
        RobustScaler().fit_transform(X),
        rtol=1e-12,
        atol=1e-12,
    )
