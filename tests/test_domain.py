"""Domain knowledge: fixed bounds, means and stds, margins; coefficients_ table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import assert_close

import seqscale


@pytest.fixture
def weather(rng):
    return pd.DataFrame({"temp": rng.uniform(0, 20, 40), "rain": rng.exponential(3, 40)})


@pytest.mark.parametrize(
    "bounds",
    [
        {"temp": (-10, 30)},
        {0: (-10, 30)},
        {"temp": [-10, 30]},
    ],
)
def test_bounds_dict(weather, bounds):
    est = seqscale.MinMaxScaler(bounds=bounds).fit(weather)
    out = est.transform(pd.DataFrame({"temp": [18.8, -10.0, 30.0], "rain": [0.0, 1.0, 2.0]}))
    assert out["temp"].tolist()[1:] == [0.0, 1.0]
    assert out["temp"].iloc[0] == pytest.approx(0.72, abs=1e-15)
    rain = weather["rain"]
    assert_close(out["rain"], (np.array([0.0, 1.0, 2.0]) - rain.min()) / (rain.max() - rain.min()))
    assert est.data_min_.tolist()[0] == -10 and est.data_max_.tolist()[0] == 30


def test_bounds_tuple_for_all_features(weather):
    est = seqscale.MinMaxScaler(bounds=(-10, 30)).fit(weather)
    assert est.data_min_.tolist() == [-10, -10] and est.data_max_.tolist() == [30, 30]


def test_bounds_array_per_feature(weather):
    est = seqscale.MinMaxScaler(bounds=np.array([[-10, 30], [0, 100]])).fit(weather)
    assert est.data_min_.tolist() == [-10, 0] and est.data_max_.tolist() == [30, 100]
    est = seqscale.MinMaxScaler(bounds=[(-10, 30), (None, None)]).fit(weather)
    assert est.data_max_[1] == weather["rain"].max()


def test_bounds_partial(weather):
    est = seqscale.MinMaxScaler(bounds={"temp": (None, 30)}).fit(weather)
    assert est.data_min_[0] == weather["temp"].min() and est.data_max_[0] == 30
    est = seqscale.MinMaxScaler(bounds={"temp": (-10, None)}).fit(weather)
    assert est.data_min_[0] == -10 and est.data_max_[0] == weather["temp"].max()


def test_bounds_with_feature_range(weather):
    est = seqscale.MinMaxScaler(feature_range=(-1, 1), bounds={"temp": (-10, 30)}).fit(weather)
    out = est.transform(pd.DataFrame({"temp": [-10.0, 10.0, 30.0], "rain": [1.0, 1.0, 1.0]}))
    assert out["temp"].tolist() == [-1.0, 0.0, 1.0]


def test_bounds_drive_out_of_range(weather):
    est = seqscale.MinMaxScaler(bounds={"temp": (-10, 30)}, out_of_range="error").fit(weather)
    est.transform(pd.DataFrame({"temp": [25.0], "rain": [1.0]}))  # outside data, inside domain
    with pytest.raises(seqscale.OutOfRangeError, match="temp"):
        est.transform(pd.DataFrame({"temp": [31.0], "rain": [1.0]}))


@pytest.mark.parametrize(
    "bounds",
    [
        {"temp": (30, -10)},
        {"temp": (5, 5)},
        {"temp": (0, np.inf)},
        {"temp": (np.nan, 1)},
        {"nope": (0, 1)},
        {"temp": 5},
        {"temp": ("a", 1)},
        np.zeros((3, 2)),
    ],
)
def test_bounds_invalid(weather, bounds):
    with pytest.raises(seqscale.ParameterError):
        seqscale.MinMaxScaler(bounds=bounds).fit(weather)


def test_standard_fixed_mean_std_some_features(weather):
    est = seqscale.StandardScaler(mean={"temp": 10.0}, std={"temp": 5.0}).fit(weather)
    out = est.transform(pd.DataFrame({"temp": [20.7], "rain": [weather["rain"].mean()]}))
    assert out["temp"].iloc[0] == pytest.approx(2.14, abs=1e-14)
    assert out["rain"].iloc[0] == pytest.approx(0.0, abs=1e-12)
    assert est.mean_[1] == pytest.approx(weather["rain"].mean(), rel=1e-12)
    assert est.scale_[1] == pytest.approx(weather["rain"].std(ddof=0), rel=1e-12)


def test_standard_only_mean_or_only_std(weather):
    est = seqscale.StandardScaler(mean=[0.0, 0.0]).fit(weather)
    assert est.mean_.tolist() == [0.0, 0.0]
    assert est.scale_[0] == pytest.approx(weather["temp"].std(ddof=0), rel=1e-12)
    est = seqscale.StandardScaler(std=2.0).fit(weather)
    assert est.scale_.tolist() == [2.0, 2.0]
    assert est.mean_[0] == pytest.approx(weather["temp"].mean(), rel=1e-12)


@pytest.mark.parametrize("std", [0.0, -1.0, {"temp": 0}])
def test_standard_invalid_std(weather, std):
    with pytest.raises(seqscale.ParameterError):
        seqscale.StandardScaler(std=std).fit(weather)


def test_fixed_std_on_constant_feature_used():
    df = pd.DataFrame({"flat": [3.0, 3.0, 3.0]})
    with pytest.warns(seqscale.ConstantFeatureWarning):
        est = seqscale.StandardScaler(std={"flat": 2.0}).fit(df)
    assert est.transform(pd.DataFrame({"flat": [7.0]}))["flat"].iloc[0] == 2.0


@pytest.mark.parametrize("margin", [0.1, 0.25, 0.0])
def test_margin(weather, margin):
    for fr in [(0, 1), (-1, 1)]:
        est = seqscale.MinMaxScaler(feature_range=fr, margin=margin).fit(weather)
        out = est.transform(weather).to_numpy()
        a, b = fr
        lo, hi = a + margin * (b - a), b - margin * (b - a)
        np.testing.assert_allclose(out.min(axis=0), [lo, lo], rtol=0, atol=1e-14)
        np.testing.assert_allclose(out.max(axis=0), [hi, hi], rtol=0, atol=1e-14)
        assert_close(est.inverse_transform(out), weather.to_numpy())


def test_margin_with_bounds(weather):
    est = seqscale.MinMaxScaler(margin=0.1, bounds={"temp": (-10, 30)}).fit(weather)
    out = est.transform(pd.DataFrame({"temp": [-10.0, 30.0], "rain": [1.0, 1.0]}))
    np.testing.assert_allclose(out["temp"], [0.1, 0.9], atol=1e-15)


def test_coefficients_table(weather):
    w = weather.copy()
    w.loc[[1, 2], "rain"] = np.nan
    est = seqscale.StandardScaler().fit(w)
    table = est.coefficients_
    assert list(table.index) == ["temp", "rain"]
    for col in ("count", "min", "max", "mean", "std", "nan_count", "scale", "offset"):
        assert col in table.columns, col
    assert table.loc["rain", "count"] == 38 and table.loc["rain", "nan_count"] == 2
    assert table.loc["temp", "nan_count"] == 0
    assert table.loc["rain", "min"] == w["rain"].min()
    assert table.loc["rain", "std"] == pytest.approx(w["rain"].std(ddof=0), rel=1e-12)
    assert table.loc["temp", "mean"] == pytest.approx(w["temp"].mean(), rel=1e-12)
    # y = (x - shift) * scale + offset
    x = w["temp"].to_numpy()
    row = table.loc["temp"]
    assert_close(est.transform(w)["temp"], (x - row["shift"]) * row["scale"] + row["offset"])


def test_coefficients_table_domain_and_grouped(weather):
    est = seqscale.MinMaxScaler(bounds={"temp": (-10, 30)}).fit(weather)
    table = est.coefficients_
    assert table.loc["temp", "domain_low"] == -10 and table.loc["temp", "domain_high"] == 30
    ids = np.repeat(["s1", "s2"], 20)
    grouped = seqscale.MinMaxScaler().fit(weather, groups=ids).coefficients_
    assert grouped.index.names == ["series", "feature"]
    assert len(grouped) == 4
    assert grouped.loc[("s2", "rain"), "max"] == weather["rain"].iloc[20:].max()


def test_coefficients_table_3d_nan_count():
    X = np.ones((2, 3, 1)) * np.arange(6.0).reshape(2, 3, 1)
    X[0, 1, 0] = np.nan
    table = seqscale.MinMaxScaler().fit(X).coefficients_
    assert table.loc["x0", "count"] == 5 and table.loc["x0", "nan_count"] == 1


def test_coefficients_table_masked_rows_are_not_nan():
    X = np.arange(12.0).reshape(2, 3, 2)
    X[1, 2, :] = -1.0
    table = seqscale.MinMaxScaler(mask_value=-1.0).fit(X).coefficients_
    assert table.loc["x0", "count"] == 5
    assert table.loc["x0", "nan_count"] == 0
