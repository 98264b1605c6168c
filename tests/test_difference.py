import json

import numpy as np
import pandas as pd
import pytest

from seqscale.errors import (
    CoefficientFileError,
    FeatureMismatchError,
    InputError,
    NotFittedError,
    ParameterError,
)
from seqscale.sequence.difference import Difference

CASES = [(1, 1), (1, 2), (4, 1), (12, 2)]


def _walk(rng, shape):
    return np.cumsum(rng.integers(-50, 51, size=shape), axis=0)


@pytest.mark.parametrize(("lag", "order"), CASES)
@pytest.mark.parametrize("shape", [(300,), (300, 3)])
def test_exact_inverse_on_integer_random_walks(lag, order, shape):
    x = _walk(np.random.default_rng(lag * 10 + order), shape)
    span = lag * order
    d = Difference(lag, order)
    diffs = d.fit_transform(x)
    assert np.isnan(diffs[:span]).all() and not np.isnan(diffs[span:]).any()
    back = d.inverse_transform(diffs[span:], history=x[:span])
    np.testing.assert_array_equal(back, x[span:])
    # continuing after the fitted data with the remembered last_
    future = x[-1] + _walk(np.random.default_rng(1), (40, *shape[1:]))
    full = np.concatenate([x, future])
    new_diffs = d.transform(future, history=x)
    assert new_diffs.shape == future.shape
    np.testing.assert_array_equal(new_diffs, Difference(lag, order).fit_transform(full)[len(x) :])
    np.testing.assert_array_equal(d.inverse_transform(new_diffs), future)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_matches_numpy_diff(order):
    x = np.random.default_rng(order).normal(size=(50, 2))
    out = Difference(order=order, dropna=True).fit_transform(x)
    np.testing.assert_allclose(out, np.diff(x, n=order, axis=0), rtol=0, atol=1e-12)


@pytest.mark.parametrize(("lag", "order"), CASES)
def test_matches_pandas_diff_and_keeps_index(lag, order):
    idx = pd.date_range("2000-01-01", periods=80, freq="W")
    s = pd.Series(np.random.default_rng(0).normal(size=80).cumsum(), index=idx, name="y")
    expected = s
    for _ in range(order):
        expected = expected.diff(lag)
    pd.testing.assert_series_equal(Difference(lag, order).fit_transform(s), expected)
    dropped = Difference(lag, order, dropna=True).fit_transform(s)
    pd.testing.assert_series_equal(dropped, expected.iloc[lag * order :])
    df = pd.DataFrame({"a": s, "b": -s})
    out = Difference(lag, order).fit_transform(df)
    assert list(out.columns) == ["a", "b"] and out.index.equals(idx)
    pd.testing.assert_series_equal(out["a"], expected.rename("a"))


def test_inverse_keeps_pandas_type_and_index():
    s = pd.Series([1.0, 2.0, 4.0, 7.0], index=list("abcd"))
    d = Difference(dropna=True).fit(s)
    diffs = d.transform(s)
    back = d.inverse_transform(diffs, history=s.iloc[:1])
    pd.testing.assert_series_equal(back, s.iloc[1:])


def test_float32_kept_and_ints_become_float64():
    assert Difference().fit_transform(np.arange(5, dtype=np.float32)).dtype == np.float32
    assert Difference().fit_transform(np.arange(5)).dtype == np.float64


def _windows(x, span, horizon):
    """Per-sample histories [samples, span, ...] and true futures [samples, horizon, ...]."""
    starts = range(span, len(x) - horizon + 1)
    last = np.stack([x[s - span : s] for s in starts])
    future = np.stack([x[s : s + horizon] for s in starts])
    return last, future


@pytest.mark.parametrize(("lag", "order"), CASES)
@pytest.mark.parametrize("horizon", [1, 5, 30])
def test_multi_step_forecast_inversion_equals_true_future(lag, order, horizon):
    rng = np.random.default_rng(horizon)
    span = lag * order
    x = _walk(rng, (200, 2))
    full_diffs = Difference(lag, order).fit_transform(x)
    d = Difference(lag, order)
    last, future = _windows(x, span, horizon)
    _, pred = _windows(full_diffs, span, horizon)
    np.testing.assert_array_equal(d.invert_forecast(pred, last), future)  # [S, H, k]
    out = d.invert_forecast(pred[:, :, 0], last[:, :, 0])  # [S, H]
    np.testing.assert_array_equal(out, future[:, :, 0])
    longer = np.concatenate([np.zeros((last.shape[0], 3, 2)), last], axis=1)
    np.testing.assert_array_equal(d.invert_forecast(pred, longer), future)


def test_one_step_quantiles_map_exactly():
    rng = np.random.default_rng(7)
    x = _walk(rng, 100).astype(float)
    d = Difference(lag=1, order=2)
    last, _ = _windows(x, 2, 1)
    q = np.sort(rng.normal(size=(last.shape[0], 1, 5)), axis=2)
    out = d.invert_forecast(q, last, kind="quantiles")
    point = np.stack([d.invert_forecast(q[:, :, j], last) for j in range(5)], axis=2)
    np.testing.assert_allclose(out, point)
    # level = 2 * last - previous + difference: a shift, so quantiles stay ordered and exact
    np.testing.assert_allclose(out[:, 0, :], (2 * last[:, 1] - last[:, 0])[:, None] + q[:, 0, :])
    assert np.all(np.diff(out, axis=2) >= 0)


def test_seasonal_quantiles_exact_up_to_lag_steps():
    rng = np.random.default_rng(8)
    last = rng.normal(size=(6, 4))
    q = np.sort(rng.normal(size=(6, 4, 3)), axis=2)
    out = Difference(lag=4).invert_forecast(q, last, kind="quantiles")
    np.testing.assert_allclose(out, last[:, :, None] + q)


@pytest.mark.parametrize(("lag", "horizon"), [(1, 2), (4, 5)])
def test_multi_step_quantiles_refused(lag, horizon):
    with pytest.raises(ParameterError, match=r"quantiles of a sum.*paths"):
        Difference(lag=lag).invert_forecast(np.zeros((3, horizon, 5)), np.zeros((3, lag)), kind="quantiles")


@pytest.mark.parametrize(("lag", "order"), CASES)
def test_paths_give_level_paths(lag, order):
    rng = np.random.default_rng(9)
    span = lag * order
    last = rng.integers(-9, 10, size=(4, span)).astype(float)
    paths = rng.integers(-3, 4, size=(4, 15, 6)).astype(float)
    d = Difference(lag, order)
    out = d.invert_forecast(paths, last, kind="paths")
    assert out.shape == paths.shape
    for p in range(6):
        np.testing.assert_array_equal(out[:, :, p], d.invert_forecast(paths[:, :, p], last))
    if (lag, order) == (1, 1):
        np.testing.assert_array_equal(out, last[:, -1, None, None] + np.cumsum(paths, axis=1))


def test_forecast_shape_errors():
    d = Difference(lag=2)
    with pytest.raises(InputError, match=r"last_levels.*lag\*order=2"):
        d.invert_forecast(np.zeros((3, 4)), np.zeros((3, 1)))
    with pytest.raises(InputError, match="samples=3"):
        d.invert_forecast(np.zeros((3, 4)), np.zeros((5, 2)))
    with pytest.raises(InputError, match="paths"):
        d.invert_forecast(np.zeros((3, 4)), np.zeros((3, 2)), kind="paths")
    with pytest.raises(ParameterError, match="kind"):
        d.invert_forecast(np.zeros((3, 4)), np.zeros((3, 2)), kind="mean")


def test_to_dict_round_trip_through_json():
    df = pd.DataFrame({"a": np.arange(30.0) ** 2, "b": np.arange(30.0)})
    d = Difference(lag=4, order=2).fit(df)
    again = Difference.from_dict(json.loads(json.dumps(d.to_dict())))
    np.testing.assert_array_equal(again.last_, d.last_)
    assert again.get_params() == d.get_params()
    assert list(again.feature_names_in_) == ["a", "b"]
    diffs = np.ones((5, 2))
    np.testing.assert_array_equal(again.inverse_transform(diffs), d.inverse_transform(diffs))
    unfitted = Difference(lag=3).to_dict()
    assert unfitted["last"] is None
    assert not hasattr(Difference.from_dict(unfitted), "last_")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(type="Other"), "type"),
        (lambda d: d.update(version=2), "version"),
        (lambda d: d["params"].update(lag=0), "lag"),
        (lambda d: d["params"].pop("order"), "params"),
        (lambda d: d.update(last=[1.0, 2.0]), "last"),
        (lambda d: d.update(last=[[1.0, "x"]] * 4), "last"),
        (lambda d: d.update(n_features_in=5), "n_features_in"),
        (lambda d: d.update(feature_names_in=[1]), "feature_names_in"),
    ],
)
def test_from_dict_rejects_bad_content(mutate, field):
    d = Difference(lag=2, order=2).fit(pd.DataFrame({"a": range(10)})).to_dict()
    mutate(d)
    with pytest.raises(CoefficientFileError, match=field):
        Difference.from_dict(d)


def test_errors():
    with pytest.raises(ParameterError, match="lag=0"):
        Difference(lag=0).fit(np.arange(5))
    with pytest.raises(ParameterError, match="order"):
        Difference(order=1.5).fit(np.arange(5))
    with pytest.raises(InputError, match="needs more than 8"):
        Difference(lag=4, order=2).fit(np.arange(8))
    with pytest.raises(InputError, match="NaN"):
        Difference().fit([1.0, 2.0, np.nan])
    with pytest.raises(NotFittedError, match="history"):
        Difference().inverse_transform([1.0])
    with pytest.raises(InputError, match="at least lag\\*order = 2"):
        Difference(lag=2).transform([1.0, 2.0], history=[1.0])
    with pytest.raises(FeatureMismatchError, match=r"3 features.*fitted on 2"):
        Difference().fit(np.zeros((4, 2))).transform(np.zeros((4, 3)))
