"""Regression tests for scikit-learn parity: the issue's exact examples, against scikit-learn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import preprocessing as skp

import seqscale


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", seqscale.ConstantFeatureWarning)
        yield


# 1. RobustScaler: tied quantiles interpolate as numpy does (exact when the neighbours are equal)
def test_robust_tied_quantiles_give_a_zero_range():
    X = np.array([[0.0]] + [[7.3]] * 16 + [[100.0]])
    scaler = seqscale.RobustScaler(quantile_range=(10, 90)).fit(X)
    assert scaler.scale_.tolist() == [1.0] and scaler.center_.tolist() == [7.3]
    np.testing.assert_array_equal(scaler.transform(X), X - 7.3)


@pytest.mark.parametrize("q", [(10, 90), (5, 95), (33, 66), (25, 75)])
def test_robust_quantiles_equal_numpy_bit_for_bit(q):
    rng = np.random.default_rng(0)
    for _ in range(100):
        X = rng.choice(rng.normal(size=3), size=(int(rng.integers(5, 40)), 2))
        ours = seqscale.RobustScaler(quantile_range=q).fit(X)
        theirs = skp.RobustScaler(quantile_range=q).fit(X)
        np.testing.assert_array_equal(ours.center_, theirs.center_)
        np.testing.assert_array_equal(ours.scale_, theirs.scale_)


# 2. MinMaxScaler: a constant training feature keeps slope b - a
def test_minmax_constant_feature_moves_with_slope_b_minus_a():
    train = np.array([[0.0, 1.0], [0.0, 5.0], [0.0, 9.0]])
    ours = seqscale.MinMaxScaler(feature_range=(-1, 1)).fit(train)
    assert ours.transform(np.array([[1.0, 5.0]])).tolist() == [[1.0, 0.0]]
    theirs = skp.MinMaxScaler(feature_range=(-1, 1)).fit(train)
    np.testing.assert_array_equal(ours.transform(train + 2), theirs.transform(train + 2))


# 3. MaxAbsScaler: the largest magnitude maps to exactly +-1
def test_maxabs_constant_column_maps_to_one():
    X = np.array([[686.7160532391669]] * 2)
    assert seqscale.MaxAbsScaler().fit_transform(X).tolist() == [[1.0], [1.0]]
    assert seqscale.MaxAbsScaler().fit_transform(-X).tolist() == [[-1.0], [-1.0]]


# 4. near-constant channels: scikit-learn's rule, the same on every path
NEAR = np.array([[0.3], [0.1 + 0.2]] * 5)


def test_near_constant_column_is_constant():
    out = seqscale.StandardScaler().fit_transform(NEAR)
    assert np.abs(out).max() < 1e-15  # not [-2, 0, ...]
    assert seqscale.StandardScaler().fit(NEAR).scale_.tolist() == [1.0]
    assert seqscale.RobustScaler().fit(NEAR).scale_.tolist() == [1.0]
    assert np.array_equal(seqscale.MinMaxScaler().fit_transform(NEAR) < 1e-15, np.ones((10, 1), bool))
    np.testing.assert_allclose(
        seqscale.StandardScaler().fit_transform(NEAR), skp.StandardScaler().fit_transform(NEAR), atol=1e-16
    )


def test_near_constant_rule_follows_scikit_learn_bound():
    n, eps = 10, np.finfo(np.float64).eps
    scales = 10.0 ** np.arange(-30, 19)
    X = np.vstack([np.ones((n // 2, 1)) + scales, np.ones((n // 2, 1)) - scales])
    ours = seqscale.StandardScaler(with_mean=False).fit(X)
    theirs = skp.StandardScaler(with_mean=False).fit(X)
    np.testing.assert_array_equal(ours.scale_ == 1.0, theirs.scale_ == 1.0)
    bound = n * eps * scales**2 + n**2 * eps**2
    assert np.all(ours.scale_[scales**2 <= bound] == 1.0)


def _series_data():
    ids = np.repeat(np.arange(3), 10)
    values = np.concatenate([NEAR[:, 0], np.arange(10.0), NEAR[:, 0] * 1e6])
    return ids, values[:, None]


@pytest.mark.parametrize("path", ["per_row_ids", "segments_sweep", "partial_fit"])
def test_near_constant_rule_on_every_grouped_path(path):
    ids, X = _series_data()
    est = seqscale.StandardScaler()
    if path == "per_row_ids":
        out = est.fit(X, groups=ids).transform(X, groups=ids)
    elif path == "segments_sweep":
        out = est.fit_transform(X, groups=seqscale.Segments(np.arange(3), np.full(3, 10)))
    else:
        for k in range(0, 30, 5):
            est.partial_fit(X[k : k + 5], groups=ids[k : k + 5])
        out = est.transform(X, groups=ids)
    assert np.abs(out[ids != 1]).max() < 1e-9
    np.testing.assert_allclose(out[ids == 1, 0], skp.scale(np.arange(10.0)))


def test_near_constant_rule_streaming_and_dask():
    chunks = [NEAR[:4], NEAR[4:]]
    est = seqscale.StandardScaler()
    for c in chunks:
        est.partial_fit(c)
    assert est.scale_.tolist() == [1.0]
    da = pytest.importorskip("dask.array")
    fitted = seqscale.StandardScaler().fit(da.from_array(NEAR, chunks=3))
    assert fitted.scale_.tolist() == [1.0]


# 5. scikit-learn's attribute semantics
def test_standard_attributes_as_scikit_learn():
    X = np.array([[0, 1, 3], [np.nan, 6, 10], [5, 4, np.nan], [8, 0, np.nan]], dtype=np.float64)
    for with_mean in (True, False):
        for with_std in (True, False):
            ours = seqscale.StandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
            theirs = skp.StandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
            for attr in ("mean_", "var_", "scale_"):
                a, b = getattr(ours, attr), getattr(theirs, attr)
                assert (a is None) == (b is None), attr
                if a is not None:
                    np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(ours.n_samples_seen_, [3, 4, 2])
    assert seqscale.StandardScaler().fit(np.ones((4, 2))).n_samples_seen_ == 4


def test_standard_scale_is_the_std_exactly():
    X = np.random.default_rng(3).normal(5, 3, size=(200, 4))
    ours = seqscale.StandardScaler().fit(X)
    np.testing.assert_array_equal(ours.scale_, np.sqrt(ours.var_))  # not 1 / (1 / std)
    np.testing.assert_allclose(ours.scale_, skp.StandardScaler().fit(X).scale_, rtol=1e-15)


def test_robust_attributes_none_when_off():
    X = np.random.default_rng(0).normal(size=(10, 3))
    assert seqscale.RobustScaler(with_centering=False).fit(X).center_ is None
    assert seqscale.RobustScaler(with_scaling=False).fit(X).scale_ is None
    ours, theirs = seqscale.RobustScaler().fit(X), skp.RobustScaler().fit(X)
    np.testing.assert_array_equal(ours.scale_, theirs.scale_)


def test_maxabs_attributes_exact():
    X = np.random.default_rng(0).normal(size=(10, 3)) * 7.1
    ours, theirs = seqscale.MaxAbsScaler().fit(X), skp.MaxAbsScaler().fit(X)
    np.testing.assert_array_equal(ours.max_abs_, theirs.max_abs_)
    np.testing.assert_array_equal(ours.scale_, theirs.scale_)


def test_clip_spelled_as_scikit_learn():
    X = np.array([[0.0], [10.0]])
    for cls in (seqscale.MinMaxScaler, seqscale.MaxAbsScaler):
        est = cls(clip=True).fit(X)
        assert est.transform(np.array([[20.0], [-30.0]])).min() >= (-1 if cls is seqscale.MaxAbsScaler else 0)
        assert est.transform(np.array([[20.0]])).tolist() == [[1.0]]
    with pytest.raises(seqscale.ParameterError, match="clip=True"):
        seqscale.MinMaxScaler(clip=True, out_of_range="error").fit(X)
