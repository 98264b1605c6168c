"""Coefficient files: versioned JSON, validated load, hand edits that take effect."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import METHODS, SCALER_CLASSES, assert_close, make

import seqscale
from seqscale.scalers.coefficients import FORMAT_VERSION


@pytest.fixture
def df(rng):
    return pd.DataFrame(rng.normal(size=(30, 3)) * [1, 10, 100] + [0, 5, -50], columns=["temp", "rain", "y"])


def saved(est, tmp_path, name="coef.json"):
    path = tmp_path / name
    est.save(path)
    return path


def edit(path, fn):
    record = json.loads(path.read_text())
    fn(record)
    path.write_text(json.dumps(record))
    return path


@pytest.mark.parametrize("kwargs", [{}, {"out_of_range": "clip"}, {"mask_value": -1.0}])
def test_round_trip_every_scaler(method, df, tmp_path, kwargs):
    est = make(method, **kwargs).fit(df)
    loaded = seqscale.load(saved(est, tmp_path))
    assert type(loaded) is type(est)
    assert loaded.get_params() == est.get_params()
    assert list(loaded.feature_names_in_) == ["temp", "rain", "y"]
    assert loaded.n_features_in_ == 3 and loaded.n_samples_seen_ == 30
    assert np.array_equal(loaded.transform(df).to_numpy(), est.transform(df).to_numpy())
    Y = est.transform(df)
    assert np.array_equal(loaded.inverse_transform(Y).to_numpy(), est.inverse_transform(Y).to_numpy())
    assert_close(loaded.scale_, est.scale_, rtol=0, atol=0)


def test_round_trip_unnamed_3d(method, X3, tmp_path):
    est = make(method).fit(X3)
    loaded = seqscale.load(saved(est, tmp_path))
    assert not hasattr(loaded, "feature_names_in_")
    assert np.array_equal(loaded.transform(X3), est.transform(X3))


def test_round_trip_minmax_params(df, tmp_path):
    est = seqscale.MinMaxScaler(feature_range=(-1, 1), margin=0.1, bounds={"temp": (-10, 30)}).fit(df)
    loaded = seqscale.load(saved(est, tmp_path))
    assert tuple(loaded.feature_range) == (-1, 1) and loaded.margin == 0.1
    assert np.array_equal(loaded.transform(df).to_numpy(), est.transform(df).to_numpy())


def test_round_trip_standard_domain(df, tmp_path):
    est = seqscale.StandardScaler(mean={"temp": 10.0}, std={"temp": 5.0}).fit(df)
    loaded = seqscale.load(saved(est, tmp_path))
    assert np.array_equal(loaded.transform(df).to_numpy(), est.transform(df).to_numpy())


@pytest.mark.parametrize("unseen", ["error", "pooled", "median"])
def test_round_trip_grouped(method, df, tmp_path, unseen, request):
    ids = np.repeat(["s1", "s2", "s3"], 10)
    est = make(method, unseen=unseen).fit(df, groups=ids)
    loaded = seqscale.load(saved(est, tmp_path))
    assert type(loaded) is type(est)
    assert loaded.series_.tolist() == ["s1", "s2", "s3"]
    assert np.array_equal(
        loaded.transform(df, groups=ids).to_numpy(), est.transform(df, groups=ids).to_numpy()
    )
    if unseen != "error":
        new = df.iloc[:3]
        assert_close(
            loaded.transform(new, groups=["zz"] * 3).to_numpy(),
            est.transform(new, groups=["zz"] * 3).to_numpy(),
            rtol=1e-12,
            atol=1e-12,
        )


def test_round_trip_integer_series_ids(df, tmp_path):
    ids = np.repeat([7, 8, 9], 10)
    est = seqscale.StandardScaler().fit(df, groups=ids)
    loaded = seqscale.load(saved(est, tmp_path))
    assert np.array_equal(
        loaded.transform(df, groups=ids).to_numpy(), est.transform(df, groups=ids).to_numpy()
    )


def test_json_fields(method, df, tmp_path):
    path = saved(make(method).fit(df), tmp_path)
    record = json.loads(path.read_text())
    for key in ("format", "version", "method", "params", "features", "channels"):
        assert key in record
    assert record["format"] == "seqscale.coefficients"
    assert record["version"] == FORMAT_VERSION
    assert record["method"] == method
    assert record["features"] == ["temp", "rain", "y"]
    assert len(record["channels"]) == 3
    ch = record["channels"][0]
    for key in ("feature", "count", "mean", "m2", "min", "max", "shift", "scale", "offset"):
        assert key in ch
    assert record == make(method).fit(df).to_dict() | {"seqscale_version": record["seqscale_version"]}


def test_load_from_dict(df):
    from seqscale.scalers.coefficients import from_dict

    est = seqscale.MinMaxScaler().fit(df)
    again = from_dict(est.to_dict())
    assert np.array_equal(again.transform(df).to_numpy(), est.transform(df).to_numpy())


def test_save_is_atomic_and_leaves_no_temp(df, tmp_path):
    est = seqscale.MinMaxScaler().fit(df)
    path = saved(est, tmp_path)
    path2 = saved(est, tmp_path)  # overwrite
    assert path == path2
    assert [p.name for p in tmp_path.iterdir()] == ["coef.json"]


def test_save_unfitted(tmp_path):
    with pytest.raises(seqscale.NotFittedError):
        seqscale.MinMaxScaler().save(tmp_path / "x.json")


# ------------------------------------------------------------------ refusals
def test_missing_file(tmp_path):
    with pytest.raises(seqscale.CoefficientFileError, match="no such"):
        seqscale.load(tmp_path / "absent.json")


def test_truncated_file(df, tmp_path):
    path = saved(seqscale.MinMaxScaler().fit(df), tmp_path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(seqscale.CoefficientFileError, match="truncated"):
        seqscale.load(path)


@pytest.mark.parametrize("text", ["not json at all", "", "\x00\x01", "[1, 2, 3]", "null", '"a string"'])
def test_not_a_coefficient_file(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(seqscale.CoefficientFileError):
        seqscale.load(path)


def test_binary_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(bytes(range(256)))
    with pytest.raises(seqscale.CoefficientFileError):
        seqscale.load(path)


def _set(path, key, value):
    return edit(path, lambda r: r.__setitem__(key, value))


def _set_channel(path, i, key, value):
    return edit(path, lambda r: r["channels"][i].__setitem__(key, value))


@pytest.mark.parametrize(
    "key, value, field",
    [
        ("version", FORMAT_VERSION + 1, "version"),
        ("version", "1", "version"),
        ("version", 0, "version"),
        ("format", "something.else", "format"),
        ("method", "quantile", "method"),
        ("method", None, "method"),
        ("params", {"bogus": 1}, "params"),
        ("params", [1, 2], "params"),
        ("features", ["temp", "rain"], "features|mismatch|lengths"),
        ("features", ["temp", "temp", "y"], "features|duplicate"),
        ("features", [], "features"),
        ("channels", [], "channels"),
        ("channels", "x", "channels"),
        ("layout", "sideways", "layout"),
        ("n_samples_seen", "many", "n_samples_seen"),
    ],
)
def test_header_refused(method, df, tmp_path, key, value, field):
    path = _set(saved(make(method).fit(df), tmp_path), key, value)
    with pytest.raises(seqscale.CoefficientFileError, match=field):
        seqscale.load(path)


def test_future_version_message(df, tmp_path):
    path = _set(saved(seqscale.MinMaxScaler().fit(df), tmp_path), "version", 99)
    with pytest.raises(seqscale.CoefficientFileError, match="upgrade"):
        seqscale.load(path)


@pytest.mark.parametrize(
    "field, value",
    [
        ("scale", 0.0),
        ("scale", -1.0),
        ("scale", None),
        ("scale", "nan"),
        ("scale", float("inf")),
        ("count", -1),
        ("count", 2.5),
        ("m2", -3.0),
        ("mean", None),
        ("min", "low"),
        ("max", True),
    ],
)
def test_channel_values_refused(method, df, tmp_path, field, value):
    path = saved(make(method).fit(df), tmp_path)
    text = json.loads(path.read_text())
    text["channels"][1][field] = value
    raw = json.dumps(text)
    if value == "nan":
        raw = raw.replace('"nan"', "NaN")
    path.write_text(raw.replace("Infinity", "Infinity"))
    with pytest.raises(seqscale.CoefficientFileError, match=field):
        seqscale.load(path)


def test_min_above_max_refused(df, tmp_path):
    path = _set_channel(saved(seqscale.MinMaxScaler().fit(df), tmp_path), 0, "min", 1e9)
    with pytest.raises(seqscale.CoefficientFileError, match="min"):
        seqscale.load(path)


def test_missing_statistic_refused(df, tmp_path):
    path = edit(saved(seqscale.StandardScaler().fit(df), tmp_path), lambda r: r["channels"][2].pop("m2"))
    with pytest.raises(seqscale.CoefficientFileError, match="m2"):
        seqscale.load(path)


def test_mismatched_lengths_refused(df, tmp_path):
    path = edit(saved(seqscale.MinMaxScaler().fit(df), tmp_path), lambda r: r["channels"].pop())
    with pytest.raises(seqscale.CoefficientFileError, match=r"mismatch|features"):
        seqscale.load(path)


def test_channel_feature_order_refused(df, tmp_path):
    path = _set_channel(saved(seqscale.MinMaxScaler().fit(df), tmp_path), 0, "feature", "rain")
    with pytest.raises(seqscale.CoefficientFileError, match="features"):
        seqscale.load(path)


@pytest.mark.parametrize("field", ["scale", "shift", "offset"])
def test_tampered_coefficient_refused(method, df, tmp_path, field):
    path = saved(make(method).fit(df), tmp_path)
    record = json.loads(path.read_text())
    old = record["channels"][1][field]
    if method in ("maxabs", "minmax") and field in ("shift", "offset") and old == 0.0:
        new = 0.5
    else:
        new = old * 1.01 + 0.01
    record["channels"][1][field] = new
    path.write_text(json.dumps(record))
    with pytest.raises(seqscale.CoefficientFileError, match=rf"channels\[1\].*{field}"):
        seqscale.load(path)


def test_tampered_grouped_refused(df, tmp_path):
    est = seqscale.StandardScaler().fit(df, groups=np.repeat(["a", "b", "c"], 10))
    path = _set_channel(saved(est, tmp_path), 4, "scale", 123.0)
    with pytest.raises(seqscale.CoefficientFileError, match="scale"):
        seqscale.load(path)


def test_grouped_series_ids_refused(df, tmp_path):
    est = seqscale.StandardScaler().fit(df, groups=np.repeat(["a", "b", "c"], 10))
    path = _set_channel(saved(est, tmp_path), 3, "series", "a")  # duplicates / breaks the grid
    with pytest.raises(seqscale.CoefficientFileError, match="series"):
        seqscale.load(path)


def test_unknown_domain_key_refused(df, tmp_path):
    path = _set_channel(saved(seqscale.MinMaxScaler().fit(df), tmp_path), 0, "domain", {"lowest": 3})
    with pytest.raises(seqscale.CoefficientFileError, match="domain"):
        seqscale.load(path)


def test_invalid_params_value_refused(df, tmp_path):
    path = edit(
        saved(seqscale.MinMaxScaler().fit(df), tmp_path),
        lambda r: r["params"].__setitem__("feature_range", [1, 0]),
    )
    with pytest.raises(seqscale.CoefficientFileError, match="feature_range"):
        seqscale.load(path)


# ------------------------------------------------------------------ hand edits
def test_hand_edited_domain_bounds_take_effect(df, tmp_path):
    path = saved(seqscale.MinMaxScaler().fit(df), tmp_path)

    def add_domain(r):
        r["channels"][0]["domain"] = {"low": -10, "high": 30}
        for k in ("shift", "scale", "offset"):
            r["channels"][0].pop(k)

    loaded = seqscale.load(edit(path, add_domain))
    new = pd.DataFrame({"temp": [18.8], "rain": [0.0], "y": [0.0]})
    assert loaded.transform(new)["temp"].iloc[0] == pytest.approx(0.72, abs=1e-15)
    assert loaded.data_min_[0] == -10 and loaded.data_max_[0] == 30
    # other features unchanged
    est = seqscale.MinMaxScaler().fit(df)
    assert_close(loaded.transform(df)[["rain", "y"]], est.transform(df)[["rain", "y"]], rtol=0, atol=0)
    # saving again keeps the domain
    again = seqscale.load(saved(loaded, tmp_path, "again.json"))
    assert again.data_min_[0] == -10


def test_hand_edited_domain_with_stale_coefficients_refused(df, tmp_path):
    path = _set_channel(
        saved(seqscale.MinMaxScaler().fit(df), tmp_path), 0, "domain", {"low": -10, "high": 30}
    )
    with pytest.raises(seqscale.CoefficientFileError, match=r"domain|delete"):
        seqscale.load(path)


def test_hand_edited_domain_partial(df, tmp_path):
    path = saved(seqscale.MinMaxScaler().fit(df), tmp_path)

    def add(r):
        r["channels"][0]["domain"] = {"high": 30}
        for k in ("shift", "scale", "offset"):
            r["channels"][0].pop(k)

    loaded = seqscale.load(edit(path, add))
    assert loaded.data_max_[0] == 30 and loaded.data_min_[0] == df["temp"].min()


def test_hand_edited_min_takes_effect(df, tmp_path):
    path = saved(seqscale.MinMaxScaler().fit(df), tmp_path)

    def set_min(r):
        r["channels"][1]["min"] = -100.0
        for k in ("shift", "scale", "offset"):
            r["channels"][1].pop(k)

    loaded = seqscale.load(edit(path, set_min))
    assert loaded.data_min_[1] == -100.0
    x = df["rain"].to_numpy()
    assert_close(loaded.transform(df)["rain"], (x + 100.0) / (x.max() + 100.0))


def test_hand_edited_standard_domain(df, tmp_path):
    path = saved(seqscale.StandardScaler().fit(df), tmp_path)

    def add(r):
        r["channels"][0]["domain"] = {"mean": 10, "std": 5}
        for k in ("shift", "scale", "offset"):
            r["channels"][0].pop(k)

    loaded = seqscale.load(edit(path, add))
    assert loaded.transform(pd.DataFrame({"temp": [20.7], "rain": [0.0], "y": [0.0]}))["temp"].iloc[
        0
    ] == pytest.approx(2.14, abs=1e-14)


def test_hand_edited_grouped_domain(df, tmp_path):
    ids = np.repeat(["a", "b", "c"], 10)
    path = saved(seqscale.MinMaxScaler().fit(df, groups=ids), tmp_path)

    def add(r):
        ch = r["channels"][3]  # series b, feature temp
        assert ch["series"] == "b" and ch["feature"] == "temp"
        ch["domain"] = {"low": -10, "high": 30}
        for k in ("shift", "scale", "offset"):
            ch.pop(k)

    loaded = seqscale.load(edit(path, add))
    new = pd.DataFrame({"temp": [18.8, 18.8], "rain": [0.0, 0.0], "y": [0.0, 0.0]})
    out = loaded.transform(new, groups=["b", "a"])
    assert out["temp"].iloc[0] == pytest.approx(0.72, abs=1e-15)
    assert out["temp"].iloc[1] != pytest.approx(0.72, abs=1e-6)


def test_loaded_feature_mismatch(df, tmp_path):
    loaded = seqscale.load(saved(seqscale.MinMaxScaler().fit(df), tmp_path))
    with pytest.raises(seqscale.FeatureMismatchError):
        loaded.transform(df.rename(columns={"y": "target"}))
    with pytest.raises(seqscale.FeatureMismatchError, match="X has 2 features"):
        loaded.transform(df[["temp", "rain"]].to_numpy())


def test_loaded_partial_fit_continues(df, tmp_path):
    for cls in SCALER_CLASSES:
        if cls is seqscale.RobustScaler:
            continue
        est = cls().fit(df.iloc[:15])
        loaded = seqscale.load(saved(est, tmp_path)).partial_fit(df.iloc[15:])
        assert_close(loaded.transform(df).to_numpy(), cls().fit(df).transform(df).to_numpy())


def test_loaded_robust_partial_fit_refused(df, tmp_path):
    loaded = seqscale.load(saved(seqscale.RobustScaler().fit(df), tmp_path))
    with pytest.raises(seqscale.ParameterError):
        loaded.partial_fit(df)


def test_constant_feature_round_trip(tmp_path):
    df = pd.DataFrame({"flat": [2.0, 2.0, 2.0], "x": [1.0, 2.0, 3.0]})
    for method in METHODS:
        if method == "maxabs":  # a constant non-zero feature is regular for max-abs (maps to 1)
            est = make(method).fit(df)
        else:
            with pytest.warns(seqscale.ConstantFeatureWarning):
                est = make(method).fit(df)
        loaded = seqscale.load(saved(est, tmp_path))
        assert np.array_equal(loaded.transform(df).to_numpy(), est.transform(df).to_numpy())


@pytest.mark.parametrize(
    "method",
    [
        "minmax",
        "standard",
        "maxabs",
        "robust",
    ],
)
def test_all_nan_feature_round_trip(tmp_path, method):
    df = pd.DataFrame({"empty": [np.nan, np.nan, np.nan], "x": [1.0, 2.0, 3.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = make(method).fit(df)
        loaded = seqscale.load(saved(est, tmp_path))
        assert_close(loaded.transform(df).to_numpy(), est.transform(df).to_numpy())
