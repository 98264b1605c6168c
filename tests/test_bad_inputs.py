"""Bad inputs, row by row: every row of docs/bad-inputs.md has its test here.

Each test asserts the exact seqscale error class (and its built-in base: ValueError or
TypeError), that the message names the culprit (feature, column, row, line, file or field), or —
for inputs seqscale accepts — the documented behaviour with real values.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import seqscale
from seqscale.errors import (
    CoefficientFileError,
    ConstantFeatureWarning,
    DataFileError,
    FeatureMismatchError,
    InputError,
    InputTypeError,
    SeqscaleError,
)
from seqscale.files import io as sio

CLASSES = {
    "minmax": seqscale.MinMaxScaler,
    "standard": seqscale.StandardScaler,
    "robust": seqscale.RobustScaler,
    "maxabs": seqscale.MaxAbsScaler,
}
METHODS = list(CLASSES)


@pytest.fixture(params=METHODS)
def method(request):
    return request.param


def make(method, **kwargs):
    return CLASSES[method](**kwargs)


def quiet_fit(est, X, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstantFeatureWarning)
        return est.fit(X, **kwargs)


def frame(rng=None, n=30):
    rng = rng or np.random.default_rng(7)
    return pd.DataFrame(
        {"temp": rng.normal(15, 5, n), "rain": rng.gamma(2.0, 1.5, n), "wind": rng.uniform(0, 9, n)}
    )


def write(path, content):
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def assert_error(excinfo, cls, base, *words):
    """Exact class, the built-in base, and every word in the message."""
    err = excinfo.value
    if cls is CoefficientFileError:  # see test_coefficient_file_error_is_the_public_class
        assert isinstance(err, cls), f"{type(err).__name__} raised, {cls.__name__} expected: {err}"
    else:
        assert type(err) is cls, f"{type(err).__name__} raised, {cls.__name__} expected: {err}"
    assert isinstance(err, SeqscaleError) and isinstance(err, base)
    for word in words:
        assert str(word) in str(err), f"{word!r} not in message: {err}"


# =============================================================================== arrays
def test_nan_ignored_by_fit_and_passed_through(method):
    df = frame()
    holed = df.copy()
    holed.loc[[2, 5, 11], "temp"] = np.nan
    holed.loc[7, "rain"] = np.nan
    est = make(method).fit(holed)
    ref = make(method).fit(holed.dropna(subset=["temp"])[["temp"]])  # temp statistics without NaN
    np.testing.assert_allclose(est.scale_[0], ref.scale_[0], rtol=1e-12)
    assert est.stats_.count.tolist() == [27, 29, 30]
    out = est.transform(holed)
    assert out.isna().to_numpy().tolist() == holed.isna().to_numpy().tolist()
    keep = ~holed.isna()
    expected = make(method).fit(holed).transform(holed.fillna(0.0))
    np.testing.assert_array_equal(out[keep].to_numpy()[keep], expected[keep].to_numpy()[keep])
    back = est.inverse_transform(out)
    np.testing.assert_allclose(back.to_numpy()[keep], holed.to_numpy()[keep], rtol=1e-13)


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
@pytest.mark.parametrize("container", ["ndarray", "frame", "3d"])
def test_infinite_value_at_fit_names_feature_and_row(method, bad, container):
    X = frame().to_numpy(copy=True)
    X[4, 1] = bad
    if container == "frame":
        X, label, row = pd.DataFrame(X, columns=["temp", "rain", "wind"]), "'rain'", 4
    elif container == "3d":
        X, label, row = X.reshape(5, 6, 3), "'x1'", 4  # rows of the pooled [samples*timesteps]
    else:
        label, row = "'x1'", 4
    with pytest.raises(InputError) as excinfo:
        make(method).fit(X)
    assert_error(excinfo, InputError, ValueError, label, f"row {row}", "infinite")


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_value_at_transform_names_feature_and_row(method, bad):
    df = frame()
    est = make(method).fit(df)
    new = df.head(6).copy()
    new.loc[3, "wind"] = bad
    with pytest.raises(InputError) as excinfo:
        est.transform(new)
    assert_error(excinfo, InputError, ValueError, "'wind'", "row 3")


@pytest.mark.parametrize(
    "X",
    [np.empty((0,)), np.empty((0, 3)), np.empty((0, 5, 3)), pd.DataFrame({"a": []}, dtype=float), []],
    ids=["1d", "2d", "3d", "frame", "list"],
)
def test_empty_input(method, X):
    with pytest.raises(InputError) as excinfo:
        make(method).fit(X)
    assert_error(excinfo, InputError, ValueError, "0 sample", "empty")
    est = make(method).fit(np.ones((4, 3)) * np.arange(4.0)[:, None])
    with pytest.raises(InputError) as excinfo:
        est.transform(np.empty((0, 3)))
    assert_error(excinfo, InputError, ValueError, "0 sample")


def test_zero_features(method):
    with pytest.raises(InputError) as excinfo:
        make(method).fit(np.empty((4, 0)))
    assert_error(excinfo, InputError, ValueError, "0 feature")


# documented mapping of a constant channel (and of a single row): minmax -> lower end of
# feature_range, standard and robust -> 0, maxabs -> sign (0 for an all-zero feature, warned).
def _constant_expected(method, value, fr=(0, 1)):
    if method == "minmax":
        return fr[0]
    if method == "maxabs":
        return float(np.sign(value))
    return 0.0


def test_one_row(method):
    X = np.array([[3.5, -2.0, 7.0]])
    est = make(method)
    if method == "maxabs":
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConstantFeatureWarning)  # sign is well defined
            est.fit(X)
    else:
        with pytest.warns(ConstantFeatureWarning, match=r"\['x0', 'x1', 'x2'\]"):
            est.fit(X)
    out = est.transform(X)
    assert out.tolist() == [[_constant_expected(method, v) for v in X[0]]]
    assert est.inverse_transform(out).tolist() == X.tolist()


@pytest.mark.parametrize("value", [0.0, 5.0, -3.25, 1e100])
def test_constant_column(method, value):
    df = pd.DataFrame({"flat": np.full(8, value), "ramp": np.arange(8.0)})
    est = make(method, **({"feature_range": (-1, 1)} if method == "minmax" else {}))
    warns = method != "maxabs" or value == 0.0
    if warns:
        with pytest.warns(ConstantFeatureWarning, match="'flat'") as record:
            est.fit(df)
        assert all("ramp" not in str(w.message) for w in record)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConstantFeatureWarning)
            est.fit(df)
    out = est.transform(df)
    fr = (-1, 1) if method == "minmax" else (0, 1)
    assert (out["flat"] == _constant_expected(method, value, fr)).all()
    assert np.isfinite(out.to_numpy()).all()
    np.testing.assert_array_equal(est.inverse_transform(out)["flat"].to_numpy(), df["flat"].to_numpy())


def test_wrong_number_of_features_at_transform(method):
    est = make(method).fit(frame().to_numpy())
    for X in (np.ones((2, 4)), np.ones((2, 2)), np.ones((2, 5, 4))):
        with pytest.raises(FeatureMismatchError) as excinfo:
            est.transform(X)
        assert_error(
            excinfo, FeatureMismatchError, ValueError, f"X has {X.shape[-1]} features", "expecting 3"
        )
        assert isinstance(excinfo.value, InputError)


@pytest.mark.parametrize(
    "columns, words",
    [
        (["temp", "rain", "gust"], ["Unseen at fit time: ['gust']", "now missing: ['wind']"]),
        (["temp", "rain"], ["now missing: ['wind']"]),
        (["wind", "rain", "temp"], ["different order"]),
        (["temp", "rain", "wind", "extra"], ["Unseen at fit time: ['extra']"]),
    ],
    ids=["renamed", "missing", "reordered", "extra"],
)
def test_wrong_feature_names_at_transform(method, columns, words):
    df = frame()
    est = make(method).fit(df)
    new = pd.DataFrame(np.ones((2, len(columns))), columns=columns)
    with pytest.raises(FeatureMismatchError) as excinfo:
        est.transform(new)
    assert_error(excinfo, FeatureMismatchError, ValueError, *words)
    with pytest.raises(FeatureMismatchError):
        est.inverse_transform(new)


@pytest.mark.parametrize("shape", [(2, 3, 4, 2), (1, 1, 1, 1, 1)])
def test_4d_input(method, shape):
    with pytest.raises(InputError) as excinfo:
        make(method).fit(np.ones(shape))
    assert_error(excinfo, InputError, ValueError, f"{len(shape)}D", str(shape))
    est = make(method).fit(np.arange(6.0).reshape(3, 2))
    with pytest.raises(InputError):
        est.transform(np.ones((2, 3, 4, 2)))


def test_scalar_input(method):
    with pytest.raises(InputError) as excinfo:
        make(method).fit(np.float64(3.0))
    assert_error(excinfo, InputError, ValueError, "0D")


def _strided_cases():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3)) * [1.0, 50.0, 1e-3] + [0.0, 7.0, -2.0]
    X3 = rng.normal(size=(6, 8, 3)) * [2.0, 0.5, 9.0]
    return {
        "reversed columns X[:, ::-1]": X[:, ::-1],
        "every other row X[::2]": X[::2],
        "reversed rows X[::-1]": X[::-1],
        "fortran order": np.asfortranarray(X),
        "3d reversed timesteps": X3[:, ::-1, :],
        "3d fortran": np.asfortranarray(X3),
        "3d every other sample": X3[::2],
    }


@pytest.mark.parametrize("case", list(_strided_cases()))
def test_non_contiguous_and_negative_stride(method, case):
    X = _strided_cases()[case]
    assert not X.flags.c_contiguous
    C = np.ascontiguousarray(X)
    a, b = make(method).fit(X), make(method).fit(C)
    np.testing.assert_array_equal(a.scale_, b.scale_)
    np.testing.assert_array_equal(a.affine_.offset, b.affine_.offset)
    out = a.transform(X)
    np.testing.assert_array_equal(out, b.transform(C))
    np.testing.assert_array_equal(a.inverse_transform(out), b.inverse_transform(np.ascontiguousarray(out)))
    assert out.shape == X.shape


def test_float16_computed_as_float32_returned_as_float16(method):
    X = (np.random.default_rng(5).normal(size=(50, 2)) * [3, 100]).astype(np.float16)
    est = make(method).fit(X)
    out = est.transform(X)
    assert out.dtype == np.float16  # scikit-learn keeps float16 too
    ref = make(method).fit(X.astype(np.float32)).transform(X.astype(np.float32))
    np.testing.assert_array_equal(out, ref.astype(np.float16))
    assert est.inverse_transform(out).dtype == np.float16
    X3 = X.reshape(5, 10, 2)
    assert est.transform(X3).dtype == np.float16


# values near the float maximum: a clear InputError, or the right (finite) result
BIG = {
    "symmetric 1e308": np.array([[1e308], [-1e308], [5e307]]),
    "near max": np.array([[1.7e308], [1.6e308], [1.65e308]]),
    "half": np.array([[1e308], [5e307], [0.0]]),
    "full span": np.array([[-1.7e308], [1.7e308]]),
    "constant max": np.full((5, 1), 1.7e308),
    "1e154 (square overflows)": np.array([[1e154], [-1e154], [0.0]]),
}


@pytest.mark.parametrize("case", list(BIG))
def test_values_near_float_max(method, case):
    X = BIG[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no silent overflow
        warnings.simplefilter("ignore", ConstantFeatureWarning)
        try:
            est = make(method).fit(X)
        except InputError as err:
            assert type(err) is InputError
            assert any(w in str(err) for w in ("overflow", "exceeds the largest float64")), str(err)
            assert "channel(s) [0]" in str(err)
            return
        out = est.transform(X)
    assert np.isfinite(out).all(), out
    assert np.isfinite(est.scale_).all() and (est.scale_ > 0).all()
    np.testing.assert_allclose(est.inverse_transform(out), X, rtol=1e-12)
    if method == "minmax" and np.ptp(X) > 0:
        assert out.min() == 0.0 and out.max() >= 1.0 - 2**-52


@pytest.mark.parametrize("feature_range", [(0.0, 1.0), (-1.0, 1.0), (0.0, 10.0)])
@pytest.mark.parametrize("case", ["near max", "half"])
@pytest.mark.parametrize("per_series", [False, True], ids=["pooled", "per series (one sweep)"])
def test_minmax_extreme_max_never_above_upper_end(case, feature_range, per_series):
    # LIMIT (docs/bad-inputs.md): when 1 / (max - min) is subnormal (spans above ~4.5e307) no
    # float64 scale may map the max exactly onto the upper end; it then lands a few ulps below
    # it, never above; the min maps onto the lower end exactly
    X = BIG[case]
    lo, hi = feature_range
    est = seqscale.MinMaxScaler(feature_range=feature_range)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the pooled statistics of huge values
        if per_series:
            out = est.fit_transform(np.concatenate([X, X[::-1]]), groups=np.repeat([0, 1], len(X)))
        else:
            out = est.fit(X).transform(X)
    assert out.min() == lo
    assert out.max() <= hi
    assert out.max() >= hi - 4 * np.spacing(hi)
    if feature_range == (0.0, 1.0):
        assert out.max() == 0.9999999999999999  # the value the docs quote


@pytest.mark.parametrize(
    "values, dtype",
    [
        ([2**63 - 1, 2**63 - 2, 0, -(2**63)], np.int64),
        ([2**63 - 1, 2**62, 2**61], np.int64),
        ([2**64 - 1, 0, 2**63], np.uint64),
        ([2**64 - 1, 2**64 - 2, 2**63], np.uint64),
    ],
    ids=["int64 full range", "int64 near max", "uint64 full range", "uint64 near max"],
)
def test_huge_integers(method, values, dtype):
    X = np.array(values, dtype=dtype)[:, None]
    ref_data = np.array([float(v) for v in values])[:, None]  # exact int -> nearest float64
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConstantFeatureWarning)
        est = make(method).fit(X)
        out = est.transform(X)
        ref = make(method).fit(ref_data).transform(ref_data)
    assert out.dtype == np.float64
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    frame_out = quiet_fit(make(method), pd.DataFrame({"big": X[:, 0]})).transform(
        pd.DataFrame({"big": X[:, 0]})
    )
    np.testing.assert_allclose(frame_out["big"].to_numpy(), ref[:, 0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "column, values",
    [
        ("city", ["paris", "oslo", "rome"]),
        ("mixed", pd.Series([1.0, "n/a", 3.0], dtype=object)),
        ("when", pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"])),
        ("duration", pd.to_timedelta([1, 2, 3], unit="h")),
        ("category", pd.Categorical(["a", "b", "a"])),
        ("text", pd.array(["a", "b", "c"], dtype="string")),
    ],
)
def test_non_numeric_column_named(method, column, values):
    df = pd.DataFrame({"temp": [1.0, 2.0, 3.0], column: values})
    with pytest.raises(InputTypeError) as excinfo:
        make(method).fit(df)
    assert_error(excinfo, InputTypeError, TypeError, repr(column))
    est = make(method).fit(pd.DataFrame({"temp": [1.0, 2.0, 3.0], column: [1.0, 2.0, 4.0]}))
    with pytest.raises(InputTypeError) as excinfo:
        est.transform(df)
    assert_error(excinfo, InputTypeError, TypeError, repr(column))


@pytest.mark.parametrize(
    "X, word",
    [
        (np.array([["a", "b"], ["c", "d"]]), "string"),
        (np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"), "datetime"),
        (np.array([[1.0, "x"]], dtype=object), "non-numeric"),
    ],
    ids=["str", "datetime", "object"],
)
def test_non_numeric_array(method, X, word):
    with pytest.raises(InputTypeError) as excinfo:
        make(method).fit(X)
    assert_error(excinfo, InputTypeError, TypeError, word)


# =============================================================================== data files
def test_ragged_csv(tmp_path):
    path = write(tmp_path / "ragged.csv", "a,b,c\n1,2,3\n4,5\n7,8,9\n")
    with pytest.raises(DataFileError) as excinfo:
        sio.read_table(path)
    assert_error(excinfo, DataFileError, ValueError, "ragged.csv", "line 3", "expected 3", "got 2")
    path = write(tmp_path / "long.csv", "a,b\n1,2\n3,4\n5,6,7\n")
    with pytest.raises(DataFileError) as excinfo:
        sio.read_table(path)
    assert_error(excinfo, DataFileError, ValueError, "long.csv", "line 4", "got 3")


@pytest.mark.parametrize("numeric", [None, True])
def test_non_numeric_cell_names_line_and_column(tmp_path, numeric):
    lines = ["day,temp,rain"] + [f"d{i},{10 + i}.5,{i}" for i in range(8)]
    lines[6] = "d5,warm,5"
    path = write(tmp_path / "cells.csv", "\n".join(lines) + "\n")
    with pytest.raises(DataFileError) as excinfo:
        sio.read_table(path, numeric=["temp"] if numeric else None)
    assert_error(excinfo, DataFileError, ValueError, "cells.csv", "line 7", "'temp'", "'warm'")


def test_non_numeric_cell_in_streamed_file(tmp_path):
    est = seqscale.MinMaxScaler().fit(pd.DataFrame({"temp": [1.0, 2.0]}))
    lines = ["temp"] + [str(float(i)) for i in range(50)] + ["oops"] + ["1.0"] * 5
    path = write(tmp_path / "stream.csv", "\n".join(lines) + "\n")
    with pytest.raises(DataFileError) as excinfo:
        seqscale.transform_file(est, path, tmp_path / "out.csv", batch_size=10)
    assert_error(excinfo, DataFileError, ValueError, "stream.csv", "line 52", "'temp'", "'oops'")
    assert not (tmp_path / "out.csv").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["stream.csv"]


def test_bom_is_ignored(tmp_path):
    path = write(tmp_path / "bom.csv", b"\xef\xbb\xbftemp,rain\n1.5,2\n3.25,4\n")
    df = sio.read_table(path)
    assert list(df.columns) == ["temp", "rain"]
    assert df["temp"].tolist() == [1.5, 3.25]
    assert df["rain"].tolist() == [2, 4]


def test_semicolons(tmp_path):
    path = write(tmp_path / "semi.csv", "temp;rain;city\n1.5;2;oslo\n-3.25;;rome\n")
    df = sio.read_table(path)
    assert list(df.columns) == ["temp", "rain", "city"]
    assert df["temp"].tolist() == [1.5, -3.25]
    assert df["rain"].iloc[0] == 2.0 and math.isnan(df["rain"].iloc[1])
    assert df["city"].tolist() == ["oslo", "rome"]


def test_decimal_comma_with_semicolons_is_explained(tmp_path):
    path = write(tmp_path / "euro.csv", "temp;rain\n1,5;2\n3,25;4\n")
    with pytest.raises(DataFileError) as excinfo:
        sio.read_table(path)
    assert_error(excinfo, DataFileError, ValueError, "euro.csv", "'temp'", "Decimal commas")


def test_no_header(tmp_path):
    path = write(tmp_path / "nohead.csv", "1.5,2,3\n4,5,6\n")
    with pytest.raises(DataFileError) as excinfo:
        sio.read_table(path)
    assert_error(excinfo, DataFileError, ValueError, "nohead.csv", "no header row")


@pytest.mark.parametrize("keep", [0.0, 0.3, 0.9, 0.999])
def test_truncated_parquet(tmp_path, keep):
    good = tmp_path / "good.parquet"
    sio.write_table(frame(n=2000), good)
    data = good.read_bytes()
    path = write(tmp_path / "cut.parquet", data[: int(len(data) * keep)])
    with pytest.raises(DataFileError) as excinfo:
        sio.read_table(path)
    assert_error(excinfo, DataFileError, ValueError, "cut.parquet")
    assert "truncated or corrupt" in str(excinfo.value) or "not a valid Parquet" in str(excinfo.value)
    est = seqscale.MinMaxScaler().fit(frame())
    with pytest.raises(DataFileError):
        seqscale.transform_file(est, path, tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()


# =============================================================================== coefficient files
def saved(tmp_path, method, grouped=False, name="coef.json"):
    df = frame()
    est = make(method)
    if grouped:
        df["site"] = np.repeat(["north", "south", "east"], 10)
        est.fit(df, groups="site")
    else:
        est.fit(df)
    path = tmp_path / name
    est.save(path)
    return path


def edit(path, change, *, allow_nan=False):
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record, allow_nan=allow_nan))
    return path


@pytest.mark.parametrize("grouped", [False, True], ids=["per_feature", "per_series"])
@pytest.mark.parametrize("keep", [0, 1, 10, 0.5, -2])
def test_coefficient_file_truncated(tmp_path, method, grouped, keep):
    path = saved(tmp_path, method, grouped)
    text = path.read_text()
    cut = keep if isinstance(keep, int) and keep >= 0 else int(len(text) * keep) if keep > 0 else keep
    path.write_text(text[:cut])
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load(path)
    assert_error(excinfo, CoefficientFileError, ValueError, str(path))


def test_coefficient_file_error_is_the_public_class(tmp_path):
    path = saved(tmp_path, "standard")
    edit(path, lambda r: r["channels"][0].__setitem__("scale", 0.0))
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load(path)
    assert type(excinfo.value) is CoefficientFileError


def test_coefficient_file_missing(tmp_path):
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load(tmp_path / "nowhere.json")
    assert_error(excinfo, CoefficientFileError, ValueError, "nowhere.json", "no such")


@pytest.mark.parametrize(
    "value, literal", [(0.0, "0.0"), (-0.5, "-0.5"), (float("nan"), "NaN")], ids=["zero", "negative", "nan"]
)
@pytest.mark.parametrize("grouped", [False, True], ids=["per_feature", "per_series"])
def test_coefficient_file_bad_scale(tmp_path, method, grouped, value, literal):
    path = saved(tmp_path, method, grouped)

    def change(record):
        record["channels"][1]["scale"] = value

    edit(path, change, allow_nan=True)
    assert f'"scale": {literal}' in path.read_text()
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load(path)
    assert_error(excinfo, CoefficientFileError, ValueError, str(path), "channels[1]", "scale")


@pytest.mark.parametrize("field", ["count", "mean", "m2", "min", "max", "shift", "offset"])
def test_coefficient_file_nan_statistic(tmp_path, method, field):
    path = saved(tmp_path, method)
    edit(path, lambda r: r["channels"][2].__setitem__(field, float("nan")), allow_nan=True)
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load(path)
    assert_error(excinfo, CoefficientFileError, ValueError, str(path), "channels[2]", field)


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda r: r["channels"].pop(), ["do not fill a grid of 3 features", "lengths mismatch"]),
        (lambda r: r["features"].append("gust"), ["do not fill a grid of 4 features"]),
        (lambda r: r["channels"].append(dict(r["channels"][0])), ["4 channels do not fill"]),
        (lambda r: r["features"].pop(), ["mismatched lengths", "2 features"]),
    ],
    ids=["channel dropped", "feature added", "channel added", "feature dropped"],
)
def test_coefficient_file_mismatched_lengths(tmp_path, method, change, words):
    path = saved(tmp_path, method)
    edit(path, change)
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load(path)
    assert_error(excinfo, CoefficientFileError, ValueError, str(path))
    assert any(w in str(excinfo.value) for w in words), str(excinfo.value)


@pytest.mark.parametrize(
    "value",
    [
        "zscore",
        None,
        3,
        ["minmax"],
        {"name": "minmax"},
    ],
)
def test_coefficient_file_unknown_method(tmp_path, value):
    path = saved(tmp_path, "minmax")
    edit(path, lambda r: r.__setitem__("method", value))
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load(path)
    assert_error(excinfo, CoefficientFileError, ValueError, str(path), "'method'", repr(value))


def test_coefficient_file_other_scaler_method(tmp_path):
    """A minmax file relabelled "standard": the statistics give other coefficients -> refused."""
    path = saved(tmp_path, "minmax")
    edit(path, lambda r: (r.__setitem__("method", "standard"), r.__setitem__("params", {})))
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load(path)
    assert_error(excinfo, CoefficientFileError, ValueError, str(path), "channels[0]", "statistics")


@pytest.mark.parametrize("version", [3, 99, 10**6])
def test_coefficient_file_future_version(tmp_path, method, version):
    path = saved(tmp_path, method)
    edit(path, lambda r: r.__setitem__("version", version))
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load(path)
    assert_error(
        excinfo, CoefficientFileError, ValueError, str(path), f"version {version}", "newer", "upgrade"
    )


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, True, None])
def test_coefficient_file_invalid_version(tmp_path, version):
    path = saved(tmp_path, "minmax")
    edit(path, lambda r: r.__setitem__("version", version))
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load(path)
    assert_error(excinfo, CoefficientFileError, ValueError, str(path), "'version'")


@pytest.mark.parametrize("grouped", [False, True], ids=["per_feature", "per_series"])
def test_coefficient_file_for_other_columns(tmp_path, method, grouped):
    est = seqscale.load(saved(tmp_path, method, grouped))
    other = pd.DataFrame({"price": [1.0, 2.0], "volume": [3.0, 4.0], "spread": [5.0, 6.0]})
    kwargs = {"groups": ["north", "south"]} if grouped else {}
    with pytest.raises(FeatureMismatchError) as excinfo:
        est.transform(other, **kwargs)
    assert_error(excinfo, FeatureMismatchError, ValueError, "'price'", "'temp'")
    with pytest.raises(FeatureMismatchError):
        est.inverse_transform(other, **kwargs)
    # a file for other columns through transform_file
    if not grouped:
        data = tmp_path / "other.csv"
        sio.write_table(other, data)
        with pytest.raises(FeatureMismatchError) as excinfo:
            seqscale.transform_file(est, data, tmp_path / "out.csv")
        assert_error(excinfo, FeatureMismatchError, ValueError, "other.csv", "'temp'", "'price'")
        assert not (tmp_path / "out.csv").exists()


# =============================================================================== plan files
def valid_plan():
    return {
        "format": "seqscale.plan", "version": 1, "time": "date", "id": None, "target": ["y"],
        "task": "regression", "output_activation": "linear", "window": {"n_in": 4, "n_out": 1},
        "per_series": False, "series_features": False,
        "columns": {
            "q": {"role": "categorical", "handle_unknown": "ignore"},
            "x": {"role": "input", "log": False, "difference": None, "method": "standard", "bounds": None},
            "y": {"role": "target", "log": False, "difference": {"lag": 1, "order": 1},
                  "method": "minmax", "feature_range": [0, 1], "bounds": None},
        },
    }  # fmt: skip


def _set(path):
    def change(plan):
        *head, last = path
        node = plan
        for key in head:
            node = node[key]
        if last is ...:
            return
        return node, last

    return change


PLAN_CASES = {
    "method unknown": (("columns", "x", "method"), "zscore", "columns.x.method"),
    "bounds reversed": (("columns", "y", "bounds"), [1, 0], "columns.y.bounds"),
    "bounds NaN-ish": (("columns", "y", "bounds"), ["nan", 1], "columns.y.bounds"),
    "standard bounds std 0": (("columns", "x", "bounds"), {"mean": 0, "std": 0}, "columns.x.bounds.std"),
    "difference lag 0": (("columns", "y", "difference"), {"lag": 0, "order": 1}, "columns.y.difference.lag"),
    "difference lag 2**63": (
        ("columns", "y", "difference"),
        {"lag": 2**63, "order": 1},
        "columns.y.difference.lag",
    ),
    "difference order 9": (
        ("columns", "y", "difference"),
        {"lag": 1, "order": 9},
        "columns.y.difference.order",
    ),
    "log not bool": (("columns", "x", "log"), "yes", "columns.x.log"),
    "role unknown": (("columns", "x", "role"), "feature", "columns.x.role"),
    "column not object": (("columns", "x"), [1, 2], "columns.x"),
    "columns empty": (("columns",), {}, "columns"),
    "target unknown": (("target",), ["nope"], "target"),
    "task unknown": (("task",), "forecast", "task"),
    "activation for task": (("output_activation",), "softmax", "output_activation"),
    "window negative": (("window",), {"n_in": -4, "n_out": 1}, "window"),
    "format wrong": (("format",), "seqscale.coefficients", "format"),
    "version future": (("version",), 2, "version"),
    "feature_range for standard": (("columns", "x", "feature_range"), [0, 1], "columns.x.feature_range"),
    "unknown key": (("columns", "x", "colour"), "red", "columns.x.colour"),
}


@pytest.mark.parametrize("case", list(PLAN_CASES))
def test_plan_file_malformed(tmp_path, case):
    keys, value, field = PLAN_CASES[case]
    plan = valid_plan()
    node = plan
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load_plan(path)
    assert_error(excinfo, CoefficientFileError, ValueError, str(path), field)


# (column, method, bounds, feature_range, the field named): domain values whose coefficients or
# image overflow float32, the dtype of the pipeline's tensors (mean 6.8e38 gave -inf/inf windows)
DOMAIN_CASES = {
    "standard mean 6.8e38": ("x", "standard", {"mean": 6.8e38, "std": 2}, None, "columns.x.bounds.mean"),
    "standard mean -1e308": ("x", "standard", {"mean": -1e308, "std": 1}, None, "columns.x.bounds.mean"),
    "standard std 1e-300 (scale 1e300)": ("x", "standard", {"mean": 10, "std": 1e-300}, None,
                                          "columns.x.bounds.std"),
    "standard std 1e-39 (scale 1e39)": ("x", "standard", {"mean": 10, "std": 1e-39}, None,
                                        "columns.x.bounds.std"),
    "standard std 1e300 (scale 1e-300)": ("x", "standard", {"mean": 10, "std": 1e300}, None,
                                          "columns.x.bounds.std"),
    "minmax bounds beyond float32": ("y", "minmax", [-1e308, 1e308], None, "columns.y.bounds"),
    "minmax span 1e-310": ("y", "minmax", [0, 1e-310], None, "columns.y.bounds"),
    "minmax feature_range to 1e39": ("y", "minmax", None, [0, 1e39], "columns.y.feature_range"),
    "minmax wide feature_range, narrow bounds": ("y", "minmax", [0, 1e-20], [-3e38, 3e38],
                                                 "columns.y.bounds"),
    "maxabs bound 1e-300": ("y", "maxabs", [-1e-300, 1e-300], None, "columns.y.bounds"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(DOMAIN_CASES))
def test_plan_domain_values_beyond_float32_are_refused(tmp_path, case):
    col, method, bounds, feature_range, field = DOMAIN_CASES[case]
    plan = valid_plan()
    entry = {"role": plan["columns"][col]["role"], "log": False, "difference": None, "method": method,
             "bounds": bounds}  # fmt: skip
    if feature_range is not None:
        entry["feature_range"] = feature_range
    plan["columns"][col] = entry
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load_plan(path)
    assert_error(excinfo, CoefficientFileError, ValueError, str(path), field, "float32")
    pipe = seqscale.SequencePipeline(plan["columns"], target=["y"], time="date", n_in=4)
    with pytest.raises(seqscale.errors.ParameterError) as excinfo:  # the same rule, named the same
        pipe.fit(pipeline_frame())
    assert_error(excinfo, seqscale.errors.ParameterError, ValueError, field, "float32")


def tiny_x_plan_and_frame():
    """A plan fixing x's scale at 1e37 (near the largest accepted) for data of that size."""
    plan = valid_plan()
    plan["columns"]["x"]["bounds"] = {"mean": 0.0, "std": 1e-37}
    plan["columns"]["y"]["bounds"] = [-1e38, 1e38]  # scale 5e-39, near the smallest accepted
    return plan, pipeline_frame().assign(x=lambda d: (d["x"] - 10.0) * 1e-38)


def test_plan_domain_values_at_the_float32_limits_give_finite_windows():
    plan, frame = tiny_x_plan_and_frame()
    X, y = seqscale.SequencePipeline.from_plan(plan).fit_transform(frame)
    assert np.isfinite(X).all() and np.isfinite(y).all()
    expected = frame["x"].to_numpy()[1:] * 1e37  # the first row is dropped by y's difference
    np.testing.assert_allclose(X[:, 0, -2], expected[: len(X)].astype(np.float32), rtol=1e-6)
    assert 0.1 < np.abs(X[:, 0, -2]).max() < 1.0
    np.testing.assert_allclose(y[:, 0, 0], 0.5, atol=1e-30)  # differences of ~1 -> 0.5 + ~5e-39


def test_pipeline_refuses_a_map_that_takes_the_training_values_beyond_float32():
    plan = valid_plan()
    plan["columns"]["x"]["bounds"] = {"mean": 3e38, "std": 0.5}  # each value within float32, x ~ 10
    with pytest.raises(InputError) as excinfo:
        seqscale.SequencePipeline.from_plan(plan).fit(pipeline_frame())
    assert_error(excinfo, InputError, ValueError, "columns.x.bounds", "-6e+38", "float32")


def test_pipeline_transform_refuses_values_scaled_beyond_float32(tmp_path):
    pipe = seqscale.SequencePipeline.from_plan(valid_plan()).fit(pipeline_frame())
    for value in (1e300, 3e39):  # finite float64, beyond float32 once scaled: inf windows before
        frame = pipeline_frame()
        frame.loc[10, "x"] = value
        with pytest.raises(InputError) as excinfo:
            pipe.transform(frame)
        assert_error(excinfo, InputError, ValueError, "column 'x'", f"{value:.6g}", "float32")
        with pytest.raises(InputError):
            pipe.transform_frame(frame)
    frame = pipeline_frame()
    frame.loc[10, "y"], frame.loc[11, "y"] = 1e308, -1e308  # their difference overflows float64
    with pytest.raises(InputError) as excinfo:
        pipe.transform(frame)
    assert_error(excinfo, InputError, ValueError, "column 'y'", "differencing", "overflows")


def test_pipeline_file_whose_scaler_maps_beyond_float32_is_refused(tmp_path):
    plan, frame = tiny_x_plan_and_frame()
    path = tmp_path / "pipe.json"
    seqscale.SequencePipeline.from_plan(plan).fit(frame).save(path)
    record = json.loads(path.read_text())
    channel = record["state"]["scalers"]["x"]["channels"][0]
    channel["min"], channel["max"] = -100.0, 100.0  # consistent statistics; -100 * 1e37 overflows
    path.write_text(json.dumps(record))
    for loader in (seqscale.load, seqscale.load_pipeline):
        with pytest.raises(CoefficientFileError) as excinfo:
            loader(path)
        assert_error(excinfo, CoefficientFileError, ValueError, str(path), "state.scalers.x", "-1e+39")


def _without_coefficients(channel):
    for key in ("shift", "scale", "offset"):  # the loader recomputes them from statistics and params
        channel.pop(key)


SCALER_PARAM_EDITS = {
    "feature_range": (
        "y",
        lambda s: s["params"].__setitem__("feature_range", [-1, 1]),
        "params.feature_range",
    ),
    "margin": ("y", lambda s: s["params"].__setitem__("margin", 0.1), "params.margin"),
    "clip": ("y", lambda s: s["params"].__setitem__("clip", True), "params.clip"),
    "domain mean": ("x", lambda s: s["channels"][0]["domain"].__setitem__("mean", 12.0), "domain"),
    "domain removed": ("x", lambda s: s["channels"][0].pop("domain"), "domain"),
    "with_mean": ("x", lambda s: s["params"].__setitem__("with_mean", False), "params.with_mean"),
}


@pytest.mark.parametrize("edit", list(SCALER_PARAM_EDITS))
def test_pipeline_file_whose_scaler_parameters_differ_from_the_plan_is_refused(tmp_path, edit):
    """Parameters and coefficients edited together loaded and scaled unlike the (sealed) plan."""
    plan = valid_plan()
    plan["columns"]["x"]["bounds"] = {"mean": 10.0, "std": 2.0}
    path = tmp_path / "pipe.json"
    seqscale.SequencePipeline.from_plan(plan).fit(pipeline_frame()).save(path)
    record = json.loads(path.read_text())
    col, change, field = SCALER_PARAM_EDITS[edit]
    change(record["state"]["scalers"][col])
    _without_coefficients(record["state"]["scalers"][col]["channels"][0])
    path.write_text(json.dumps(record))
    for loader in (seqscale.load, seqscale.load_pipeline):
        with pytest.raises(CoefficientFileError) as excinfo:
            loader(path)
        assert_error(excinfo, CoefficientFileError, ValueError, str(path), f"state.scalers.{col}", field)


@pytest.mark.parametrize("text", ["", "{", '{"format": "seqscale.plan"', "[1, 2]", "null", "\x00\xff"])
def test_plan_file_not_a_plan(tmp_path, text):
    path = tmp_path / "plan.json"
    path.write_text(text, encoding="latin-1")
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load_plan(path)
    assert_error(excinfo, CoefficientFileError, ValueError, str(path))


def test_plan_file_missing(tmp_path):
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load_plan(tmp_path / "absent.json")
    assert_error(excinfo, CoefficientFileError, ValueError, "absent.json")


def test_plan_file_valid_round_trip(tmp_path):
    from seqscale.sequence.plan import save_plan

    path = save_plan(valid_plan(), tmp_path / "plan.json")
    assert seqscale.load_plan(path)["columns"]["y"]["difference"] == {"lag": 1, "order": 1}


# =============================================================================== pipeline files
def pipeline_frame(n=40):
    rng = np.random.default_rng(11)
    return pd.DataFrame({
        "date": pd.date_range("2020-01-01", periods=n, freq="D"), "q": np.tile(["a", "b"], n // 2),
        "x": rng.normal(10, 2, n), "y": np.cumsum(rng.normal(size=n)) + 50,
    })  # fmt: skip


@pytest.fixture(scope="module")
def pipeline_record(tmp_path_factory):
    path = tmp_path_factory.mktemp("pipe") / "pipe.json"
    seqscale.SequencePipeline.from_plan(valid_plan()).fit(pipeline_frame()).save(path)
    return json.loads(path.read_text())


PIPELINE_CASES = {
    "version future": (lambda r: r.__setitem__("version", 2), "'version'"),
    "format wrong": (lambda r: r.__setitem__("format", "seqscale.pipe"), "'format'"),
    "plan missing": (lambda r: r.pop("plan"), "'plan'"),
    "plan method": (lambda r: r["plan"]["columns"]["x"].__setitem__("method", "zscore"), "columns.x.method"),
    "state missing": (lambda r: r.pop("state"), "'state'"),
    "span wrong": (lambda r: r["state"].__setitem__("span", 3), "'state.span'"),
    "scaler zero scale": (lambda r: r["state"]["scalers"]["x"]["channels"][0].__setitem__("scale", 0.0),
                          "state.scalers.x"),
    "scaler missing": (lambda r: r["state"]["scalers"].pop("y"), "'state.scalers.y'"),
    "scaler method differs": (lambda r: r["plan"]["columns"]["x"].__setitem__("method", "minmax"),
                              "state.scalers.x.method"),
    "encoder missing": (lambda r: r["state"]["encoders"].pop("q"), "'state.encoders'"),
    "difference params": (lambda r: r["plan"]["columns"]["y"]["difference"].__setitem__("lag", 2),
                          "state.differences.y"),
    "n_rows_seen negative": (lambda r: r["state"].__setitem__("n_rows_seen", -1), "'state.n_rows_seen'"),
    "feature names": (lambda r: r["state"].__setitem__("feature_names_out", ["x"]),
                      "'state.feature_names_out'"),
    "cutoff bad timestamp": (lambda r: r["state"].__setitem__("cutoff", {"timestamp": "not a date"}),
                             "'state.cutoff'"),
    "allow_leakage not bool": (lambda r: r["params"].__setitem__("allow_leakage", "yes"),
                               "'params.allow_leakage'"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(PIPELINE_CASES))
@pytest.mark.parametrize("loader", ["load", "load_pipeline"])
def test_pipeline_file_malformed(tmp_path, pipeline_record, case, loader):
    change, field = PIPELINE_CASES[case]
    record = json.loads(json.dumps(pipeline_record))
    change(record)
    path = tmp_path / "pipe.json"
    path.write_text(json.dumps(record))
    with pytest.raises(CoefficientFileError) as excinfo:
        getattr(seqscale, loader)(path)
    assert_error(excinfo, CoefficientFileError, ValueError, str(path), field)


@pytest.mark.parametrize("share", [0.0, 0.1, 0.5, 0.99])
def test_pipeline_file_truncated(tmp_path, pipeline_record, share):
    text = json.dumps(pipeline_record, indent=1)
    path = tmp_path / "pipe.json"
    path.write_text(text[: int(len(text) * share)])
    for loader in (seqscale.load, seqscale.load_pipeline):
        with pytest.raises(CoefficientFileError) as excinfo:
            loader(path)
        assert_error(excinfo, CoefficientFileError, ValueError, str(path))


def test_pipeline_file_valid_loads_and_transforms(tmp_path, pipeline_record):
    path = tmp_path / "pipe.json"
    path.write_text(json.dumps(pipeline_record))
    pipe = seqscale.load(path)
    X, y = pipe.transform(pipeline_frame())
    assert X.shape == (35, 4, 4) and y.shape == (35, 1, 1)
    assert np.isfinite(X).all() and np.isfinite(y).all()
