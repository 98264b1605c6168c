"""The core scaler contract: parity with scikit-learn, shapes and containers, NaN and padding,
out-of-range policies, degenerate data, dtypes, errors, exact inverse and streaming."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
from conftest import METHODS, assert_close, make, make_sklearn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import seqscale


def exact_mean_std(x):
    """Mean and population std to ~1e-15 relative: fsum mean, then fsum on centred values."""
    x = np.asarray(x, dtype=np.float64)
    mean = math.fsum(x) / len(x)
    d = x - mean  # exact (Sterbenz) for data clustered around its mean
    corr = math.fsum(d) / len(x)
    var = math.fsum(d * d) / len(x) - corr * corr
    return mean + corr, math.sqrt(var)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# ---------------------------------------------------------------------------- scikit-learn parity
class TestSklearnParity:
    def test_fit_transform_inverse_equal_sklearn(self, method, X2):
        ours, ref = make(method).fit(X2), make_sklearn(method).fit(X2)
        assert_close(ours.transform(X2), ref.transform(X2))
        assert_close(ours.fit_transform(X2), ref.fit_transform(X2))
        Y = ref.transform(X2)
        assert_close(ours.inverse_transform(Y), ref.inverse_transform(Y))

    @pytest.mark.parametrize("seed", range(5))
    def test_random_data_many_seeds(self, method, seed):
        rng = np.random.default_rng(seed)
        X = rng.standard_t(3, size=(int(rng.integers(2, 80)), int(rng.integers(1, 5))))
        X = X * 10.0 ** rng.uniform(-3, 3) + rng.normal() * 10.0 ** rng.uniform(-2, 2)
        ours, ref = make(method).fit(X), make_sklearn(method).fit(X)
        assert_close(ours.transform(X), ref.transform(X))
        assert_close(ours.scale_, ref.scale_)

    def test_sklearn_attributes(self, X2):
        from sklearn import preprocessing as skp

        mm, smm = seqscale.MinMaxScaler().fit(X2), skp.MinMaxScaler().fit(X2)
        for attr in ("data_min_", "data_max_", "data_range_", "scale_", "min_"):
            assert_close(getattr(mm, attr), getattr(smm, attr))
        ss, sss = seqscale.StandardScaler().fit(X2), skp.StandardScaler().fit(X2)
        for attr in ("mean_", "var_", "scale_"):
            assert_close(getattr(ss, attr), getattr(sss, attr))
        rs, srs = seqscale.RobustScaler().fit(X2), skp.RobustScaler().fit(X2)
        for attr in ("center_", "scale_"):
            assert_close(getattr(rs, attr), getattr(srs, attr))
        ma, sma = seqscale.MaxAbsScaler().fit(X2), skp.MaxAbsScaler().fit(X2)
        for attr in ("max_abs_", "scale_"):
            assert_close(getattr(ma, attr), getattr(sma, attr))
        for est in (mm, ss, rs, ma):
            assert est.n_features_in_ == 3
            assert est.n_samples_seen_ == X2.shape[0]

    @pytest.mark.parametrize("fr", [(-1, 1), (2, 5), (-3.5, -0.25)])
    def test_minmax_feature_range(self, X2, fr):
        from sklearn.preprocessing import MinMaxScaler

        assert_close(
            seqscale.MinMaxScaler(feature_range=fr).fit_transform(X2),
            MinMaxScaler(feature_range=fr).fit_transform(X2),
        )

    @pytest.mark.parametrize("kw", [{"with_mean": False}, {"with_std": False}])
    def test_standard_options(self, X2, kw):
        from sklearn.preprocessing import StandardScaler

        assert_close(seqscale.StandardScaler(**kw).fit_transform(X2), StandardScaler(**kw).fit_transform(X2))

    @pytest.mark.parametrize(
        "kw",
        [
            {"quantile_range": (10, 90)},
            {"with_centering": False},
            {"with_scaling": False},
            {"unit_variance": True},
        ],
    )
    def test_robust_options(self, X2, kw):
        from sklearn.preprocessing import RobustScaler

        assert_close(seqscale.RobustScaler(**kw).fit_transform(X2), RobustScaler(**kw).fit_transform(X2))

    def test_partial_fit_equals_sklearn(self, X2):
        from sklearn import preprocessing as skp

        for ours, ref in [
            (seqscale.MinMaxScaler(), skp.MinMaxScaler()),
            (seqscale.StandardScaler(), skp.StandardScaler()),
            (seqscale.MaxAbsScaler(), skp.MaxAbsScaler()),
        ]:
            for chunk in np.array_split(X2, 7):
                ours.partial_fit(chunk)
                ref.partial_fit(chunk)
            assert_close(ours.transform(X2), ref.transform(X2))


# ---------------------------------------------------------------------------- estimator API
class TestEstimatorApi:
    def test_get_set_params(self, method):
        est = make(method)
        params = est.get_params()
        assert {"out_of_range", "unseen", "mask_value", "padding", "copy"} <= set(params)
        est.set_params(out_of_range="clip")
        assert est.get_params()["out_of_range"] == "clip"
        from sklearn.base import clone

        assert clone(est).get_params() == est.get_params()

    def test_feature_names_out(self, method, X2):
        est = make(method).fit(X2)
        assert list(est.get_feature_names_out()) == ["x0", "x1", "x2"]
        df = pd.DataFrame(X2, columns=["a", "b", "c"])
        est.fit(df)
        assert list(est.get_feature_names_out()) == ["a", "b", "c"]
        assert list(est.feature_names_in_) == ["a", "b", "c"]

    def test_set_output_pandas(self, method, X2):
        est = make(method).set_output(transform="pandas").fit(X2)
        out = est.transform(X2)
        assert isinstance(out, pd.DataFrame)
        assert list(out.columns) == ["x0", "x1", "x2"]
        assert_close(out.to_numpy(), make(method).fit_transform(X2))

    def test_set_output_polars(self, method, X2):
        est = make(method).set_output(transform="polars").fit(X2)
        out = est.transform(X2)
        assert isinstance(out, pl.DataFrame)
        assert out.columns == ["x0", "x1", "x2"]
        assert_close(out.to_numpy(), make(method).fit_transform(X2))

    def test_set_output_invalid(self, method):
        with pytest.raises(seqscale.ParameterError):
            make(method).set_output(transform="xarray")

    def test_not_fitted(self, method, X2):
        with pytest.raises(seqscale.NotFittedError):
            make(method).transform(X2)
        from sklearn.exceptions import NotFittedError

        with pytest.raises(NotFittedError):
            make(method).inverse_transform(X2)

    def test_refit_resets(self, method, X2, rng):
        est = make(method).fit(X2)
        other = rng.normal(size=(10, 2))
        est.fit(other)
        assert est.n_features_in_ == 2
        assert_close(est.transform(other), make_sklearn(method).fit_transform(other))


# ---------------------------------------------------------------------------- shapes and containers
class TestShapes:
    def test_1d(self, method, rng):
        x = rng.normal(5, 2, size=40)
        est = make(method)
        out = est.fit_transform(x)
        assert out.shape == x.shape
        assert_close(out, make_sklearn(method).fit_transform(x.reshape(-1, 1)).ravel())
        assert_close(est.inverse_transform(out), x)

    def test_3d_pooled_over_samples_and_timesteps(self, method, X3):
        est = make(method).fit(X3)
        out = est.transform(X3)
        assert out.shape == X3.shape and isinstance(out, np.ndarray)
        flat = X3.reshape(-1, X3.shape[-1])
        ref = make_sklearn(method).fit(flat)
        assert_close(out, ref.transform(flat).reshape(X3.shape))
        assert_close(est.inverse_transform(out), X3)

    def test_3d_non_contiguous(self, method, X3):
        view = np.asfortranarray(X3)[:, ::-1, :]
        out = make(method).fit(view).transform(view)
        flat = np.ascontiguousarray(view).reshape(-1, 3)
        assert_close(out, make_sklearn(method).fit_transform(flat).reshape(view.shape))

    def test_pandas_series_keeps_name_and_index(self, method, rng):
        s = pd.Series(
            rng.normal(size=20),
            index=pd.date_range("2024-01-01", periods=20, name="date"),
            name="temp",
        )
        out = make(method).fit_transform(s)
        assert isinstance(out, pd.Series)
        assert out.name == "temp"
        assert out.index.equals(s.index)
        assert_close(out.to_numpy(), make_sklearn(method).fit_transform(s.to_frame()).ravel())

    def test_pandas_dataframe_keeps_columns_and_index(self, method, X2):
        df = pd.DataFrame(X2, columns=["a", "b", "c"], index=pd.RangeIndex(100, 100 + len(X2), name="t"))
        est = make(method).fit(df)
        out = est.transform(df)
        assert isinstance(out, pd.DataFrame)
        assert list(out.columns) == ["a", "b", "c"]
        assert out.index.equals(df.index)
        assert_close(out.to_numpy(), make_sklearn(method).fit_transform(X2))
        back = est.inverse_transform(out)
        assert isinstance(back, pd.DataFrame)
        assert_close(back.to_numpy(), X2)

    def test_polars_dataframe(self, method, X2):
        df = pl.DataFrame({"a": X2[:, 0], "b": X2[:, 1], "c": X2[:, 2]})
        est = make(method).fit(df)
        out = est.transform(df)
        assert isinstance(out, pl.DataFrame)
        assert out.columns == ["a", "b", "c"]
        assert_close(out.to_numpy(), make_sklearn(method).fit_transform(X2))
        assert_close(est.inverse_transform(out).to_numpy(), X2)

    def test_list_input(self, method):
        X = [[1.0, 2.0], [3.0, 5.0], [4.0, 9.0]]
        assert_close(make(method).fit_transform(X), make_sklearn(method).fit_transform(X))

    def test_4d_refused(self, method):
        with pytest.raises(seqscale.InputError):
            make(method).fit(np.zeros((2, 2, 2, 2)))

    def test_scalar_refused(self, method):
        with pytest.raises(seqscale.InputError):
            make(method).fit(np.float64(3.0))

    @pytest.mark.parametrize("shape", [(0,), (0, 3), (0, 4, 2), (3, 0)])
    def test_empty_input(self, method, shape):
        with pytest.raises(seqscale.InputError):
            make(method).fit(np.zeros(shape))


# ---------------------------------------------------------------------------- dtypes
class TestDtypes:
    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    def test_float_dtype_kept(self, method, X3, dtype):
        X = X3.astype(dtype)
        est = make(method).fit(X)
        out = est.transform(X)
        assert out.dtype == dtype
        assert est.inverse_transform(out).dtype == dtype
        assert est.scale_.dtype == np.float64

    def test_float32_values_close_to_float64(self, method, X2):
        X = X2.astype(np.float32)
        out = make(method).fit_transform(X)
        ref = make(method).fit_transform(X.astype(np.float64))
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)

    @pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint16])
    def test_integers_become_float64(self, method, dtype):
        X = np.array([[1, 2], [3, 7], [5, 4], [9, 0]], dtype=dtype)
        out = make(method).fit_transform(X)
        assert out.dtype == np.float64
        assert_close(out, make_sklearn(method).fit_transform(X.astype(np.float64)))

    def test_float16_computed_as_float32_returned_as_float16(self, method):
        X = np.array([[1.5, 2.0], [3.25, 7.0], [5.0, 4.5]], dtype=np.float16)
        out = make(method).fit_transform(X)
        assert out.dtype == np.float16
        np.testing.assert_allclose(out, make_sklearn(method).fit_transform(X.astype(np.float64)), rtol=1e-3)

    def test_pandas_nullable_and_int_columns(self, method):
        df = pd.DataFrame({"a": pd.array([1, 2, None, 4], dtype="Int64"), "b": [1.0, 2.0, 3.0, 5.0]})
        out = make(method).fit_transform(df)
        assert np.isnan(out["a"].iloc[2])
        assert out["a"].dtype == np.float64

    @pytest.mark.parametrize(
        "column, kind",
        [
            (pd.Series(["x", "y", "z", "w"], dtype=object), "str"),
            (pd.Series(pd.date_range("2024-01-01", periods=4)), "datetime"),
            (pd.Series(pd.to_timedelta([1, 2, 3, 4], unit="D")), "timedelta"),
        ],
    )
    def test_non_numeric_column_named(self, method, column, kind):
        df = pd.DataFrame({"ok": [1.0, 2.0, 3.0, 4.0], "bad_col": column})
        with pytest.raises(seqscale.InputTypeError, match="bad_col"):
            make(method).fit(df)

    def test_polars_string_column_named(self, method):
        df = pl.DataFrame({"ok": [1.0, 2.0, 3.0], "label": ["a", "b", "c"]})
        with pytest.raises(seqscale.InputTypeError, match="label"):
            make(method).fit(df)

    @pytest.mark.parametrize(
        "X",
        [
            np.array([["a"], ["b"]]),
            np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"),
        ],
    )
    def test_non_numeric_array(self, method, X):
        with pytest.raises(seqscale.InputTypeError):
            make(method).fit(X)

    def test_numeric_strings_in_object_array_accepted(self, method):
        X = np.array([["1.5"], ["2.5"], ["4"]], dtype=object)
        assert_close(make(method).fit_transform(X), make_sklearn(method).fit_transform(X.astype(float)))


# ---------------------------------------------------------------------------- NaN, padding, lengths
class TestMissingAndPadding:
    def test_nan_ignored_by_fit_and_passed_through(self, method, X2, rng):
        X = X2.copy()
        X[rng.random(X.shape) < 0.2] = np.nan
        est = make(method).fit(X)
        out = est.transform(X)
        assert np.array_equal(np.isnan(out), np.isnan(X))
        assert_close(out, make_sklearn(method).fit(X).transform(X))
        back = est.inverse_transform(out)
        assert np.array_equal(np.isnan(back), np.isnan(X))
        assert_close(back, X, rtol=1e-12, atol=1e-12)

    def test_nan_not_counted(self, X2):
        X = X2.copy()
        X[:5, 1] = np.nan
        est = seqscale.StandardScaler().fit(X)
        assert est.stats_.count.tolist() == [60, 55, 60]
        table = est.coefficients_
        assert table.loc["x1", "nan_count"] == 5
        assert table.loc["x1", "count"] == 55

    def test_all_nan_feature_no_crash(self, method):
        X = np.array([[1.0, np.nan], [2.0, np.nan], [3.0, np.nan]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", seqscale.ConstantFeatureWarning)
            out = make(method).fit_transform(X)
        assert np.isnan(out[:, 1]).all()
        assert np.isfinite(out[:, 0]).all()

    def test_mask_value_rows_ignored_and_untouched(self, method, X3):
        X = X3.copy()
        X[0, -2:, :] = 0.0  # padded timesteps
        X[3, :1, :] = 0.0
        est = make(method, mask_value=0.0).fit(X)
        real = np.ones(X.shape[:2], bool)
        real[0, -2:] = False
        real[3, :1] = False
        ref = make_sklearn(method).fit(X[real])
        out = est.transform(X)
        assert_close(out[real], ref.transform(X[real]))
        assert np.all(out[~real] == 0.0)
        back = est.inverse_transform(out)
        assert np.all(back[~real] == 0.0)
        assert_close(back[real], X[real])

    def test_mask_value_partial_match_is_data(self, method):
        X = np.array([[0.0, 1.0], [0.0, 0.0], [2.0, 0.0], [4.0, 3.0]])
        est = make(method, mask_value=0.0).fit(X)
        rows = X[[0, 2, 3]]
        assert_close(est.transform(rows), make_sklearn(method).fit_transform(rows))

    @pytest.mark.parametrize("padding", ["post", "pre"])
    def test_lengths(self, method, X3, padding):
        lengths = np.array([5, 3, 1, 4, 5, 2, 5, 3])
        t = X3.shape[1]
        steps = np.arange(t)
        real = steps < lengths[:, None] if padding == "post" else steps >= (t - lengths)[:, None]
        X = X3.copy()
        X[~real] = -999.0
        est = make(method, padding=padding).fit(X, lengths=lengths)
        ref = make_sklearn(method).fit(X[real])
        out = est.transform(X, lengths=lengths)
        assert_close(out[real], ref.transform(X[real]))
        assert np.all(out[~real] == -999.0)
        assert np.all(est.inverse_transform(out, lengths=lengths)[~real] == -999.0)

    def test_lengths_invalid(self, method, X3):
        with pytest.raises(seqscale.InputError):
            make(method).fit(X3, lengths=[1, 2])
        with pytest.raises(seqscale.InputError):
            make(method).fit(X3, lengths=np.full(8, 99))
        with pytest.raises(seqscale.InputError):
            make(method).fit(X3[0], lengths=[1] * 5)

    def test_scale_then_pad_equals_pad_then_scale(self, method, rng):
        seqs = [rng.normal(3, 2, size=(n, 2)) for n in (4, 6, 2, 5)]
        t = 6
        pad = -1.0

        def pad_all(arrs):
            out = np.full((len(arrs), t, 2), pad)
            for i, a in enumerate(arrs):
                out[i, : len(a)] = a
            return out

        lengths = np.array([len(s) for s in seqs])
        flat = np.concatenate(seqs)
        scaled_then_padded = pad_all([make(method).fit(flat).transform(s) for s in seqs])
        padded = pad_all(seqs)
        padded_then_scaled = make(method).fit(padded, lengths=lengths).transform(padded, lengths=lengths)
        assert_close(padded_then_scaled, scaled_then_padded)
        masked = make(method, mask_value=pad).fit(padded).transform(padded)
        assert_close(masked, scaled_then_padded)


# ------------------------------------------------------------------ out of range and check
class TestOutOfRange:
    def _fitted(self, method, **kw):
        df = pd.DataFrame({"temp": [0.0, 10.0, 20.0], "rain": [1.0, 2.0, 3.0]})
        return make(method, **kw).fit(df)

    NEW = pd.DataFrame({"temp": [5.0, 25.0, -3.0, 30.0], "rain": [1.5, 2.0, 2.5, 3.0]})

    def test_ignore(self, method):
        est = self._fitted(method)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = est.transform(self.NEW)
        train = pd.DataFrame({"temp": [0.0, 10.0, 20.0], "rain": [1.0, 2.0, 3.0]})
        assert_close(out.to_numpy(), make_sklearn(method).fit(train).transform(self.NEW))

    def test_warn_names_feature(self, method):
        est = self._fitted(method, out_of_range="warn")
        with pytest.warns(seqscale.OutOfRangeWarning, match="temp"):
            est.transform(self.NEW)

    def test_error_names_feature(self, method):
        est = self._fitted(method, out_of_range="error")
        with pytest.raises(seqscale.OutOfRangeError, match="temp") as info:
            est.transform(self.NEW)
        assert "rain" not in str(info.value)
        est.transform(self.NEW.iloc[:1])  # inside: no error

    @pytest.mark.parametrize("policy", ["error", "clip", "warn"])
    def test_inverse_never_checks_range(self, method, policy):
        # predictions far outside the training range come back through the plain affine inverse:
        # no error, no warning, no clipping, whatever the transform's policy
        est = self._fitted(method, out_of_range=policy)
        pred = np.array([[50.0, -50.0], [1e6, 0.5]])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            back = np.asarray(est.inverse_transform(pd.DataFrame(pred, columns=["temp", "rain"])))
        a = est.affine_
        np.testing.assert_allclose(back, (pred - a.offset) / a.scale + a.shift, rtol=1e-14)
        train = np.array([[0.0, 1.0], [10.0, 2.0], [20.0, 3.0]])
        assert_close(back, make_sklearn(method).fit(train).inverse_transform(pred))

    def test_clip_minmax(self):
        est = self._fitted("minmax", out_of_range="clip")
        out = est.transform(self.NEW)
        assert out["temp"].tolist() == [0.25, 1.0, 0.0, 1.0]
        est = self._fitted("minmax", out_of_range="clip", feature_range=(-1, 1))
        out = est.transform(self.NEW)
        assert out["temp"].tolist() == [-0.5, 1.0, -1.0, 1.0]

    def test_clip_standard_to_training_range(self):
        est = self._fitted("standard", out_of_range="clip")
        out = est.transform(self.NEW)["temp"].to_numpy()
        hi = (20.0 - 10.0) / np.std([0.0, 10.0, 20.0])
        assert_close(out, [(5 - 10) / np.std([0.0, 10.0, 20.0]), hi, -hi, hi])

    def test_nan_is_not_out_of_range(self, method):
        est = self._fitted(method, out_of_range="error")
        out = est.transform(pd.DataFrame({"temp": [np.nan, 5.0], "rain": [2.0, np.nan]}))
        assert np.isnan(out.iloc[0, 0]) and np.isnan(out.iloc[1, 1])

    def test_invalid_policy(self, method, X2):
        with pytest.raises(seqscale.ParameterError):
            make(method, out_of_range="explode").fit(X2)

    def test_check_report(self, method):
        est = self._fitted(method)
        report = est.check(self.NEW)
        assert list(report.index) == ["temp", "rain"]
        assert report.loc["temp", "n_above"] == 2
        # max-abs scaling has the symmetric range [-max|x|, max|x|]: -3 is inside it
        assert report.loc["temp", "n_below"] == (0 if method == "maxabs" else 1)
        assert report.loc["temp", "first_row"] == 1
        assert report.loc["temp", "max_excess"] == pytest.approx(10.0)
        assert report.loc["rain", "n_above"] + report.loc["rain", "n_below"] == 0
        assert report.loc["rain", "max_excess"] == 0
        assert report.loc["rain", "first_row"] is None or pd.isna(report.loc["rain", "first_row"])

    def test_check_first_row_uses_index_label(self):
        est = self._fitted("minmax")
        new = self.NEW.set_axis([10, 11, 12, 13])
        assert est.check(new).loc["temp", "first_row"] == 11

    def test_check_3d_with_lengths(self):
        X = np.zeros((2, 3, 1))
        X[0, :, 0] = [0.0, 1.0, 2.0]
        X[1, :, 0] = [1.0, 99.0, 99.0]  # padding after length 1
        est = seqscale.MinMaxScaler().fit(X, lengths=[3, 1])
        report = est.check(X, lengths=[3, 1])
        assert report["n_above"].iloc[0] == 0


# ---------------------------------------------------------------------------- degenerate data
class TestDegenerate:
    @pytest.mark.parametrize("value", [0.0, 5.0, -3.25, 1e100, -1e100, 1e-300])
    def test_constant_feature_minmax(self, value):
        X = np.column_stack([np.full(6, value), np.arange(6.0)])
        df = pd.DataFrame(X, columns=["flat", "ramp"])
        for fr in [(0, 1), (-1, 1), (2, 3)]:
            est = seqscale.MinMaxScaler(feature_range=fr)
            with pytest.warns(seqscale.ConstantFeatureWarning, match="flat"):
                est.fit(df)
            out = est.transform(df).to_numpy()
            assert np.all(out[:, 0] == fr[0])
            assert not np.isnan(out).any()
            assert_close(est.inverse_transform(out), X, rtol=1e-15, atol=0)

    @pytest.mark.parametrize("method", ["standard", "robust"])
    @pytest.mark.parametrize("value", [0.0, 5.0, -3.25, 1e100, 0.1])
    def test_constant_feature_zero(self, method, value):
        df = pd.DataFrame({"flat": np.full(7, value), "ramp": np.arange(7.0)})
        est = make(method)
        with pytest.warns(seqscale.ConstantFeatureWarning, match="flat"):
            est.fit(df)
        out = est.transform(df).to_numpy()
        assert np.all(out[:, 0] == 0.0)
        assert_close(est.inverse_transform(out), df.to_numpy(), rtol=1e-15, atol=0)

    @pytest.mark.parametrize("value", [5.0, 1e100])
    def test_constant_feature_maxabs_sign(self, value):
        # max-abs scaling of a constant non-zero feature is well defined: it maps to its sign,
        # as in scikit-learn, and needs no warning.
        df = pd.DataFrame({"flat": np.full(7, value), "ramp": np.arange(7.0)})
        with warnings.catch_warnings():
            warnings.simplefilter("error", seqscale.ConstantFeatureWarning)
            out = seqscale.MaxAbsScaler().fit_transform(df)
        assert np.all(out["flat"].to_numpy() == np.sign(value))

    def test_constant_zero_maxabs(self):
        df = pd.DataFrame({"flat": np.zeros(4), "ramp": np.arange(4.0)})
        with pytest.warns(seqscale.ConstantFeatureWarning, match="flat"):
            out = seqscale.MaxAbsScaler().fit_transform(df)
        assert np.all(out["flat"] == 0.0)

    def test_standard_near_constant_is_constant(self):
        X = np.array([[1.0], [1.0 + 2e-16 * 2], [1.0]])  # equal up to rounding: scale 1, no blow-up
        with pytest.warns(seqscale.ConstantFeatureWarning):
            scaler = seqscale.StandardScaler().fit(X)
        assert scaler.scale_.tolist() == [1.0]
        assert np.abs(scaler.transform(X)).max() < 1e-15

    def test_single_row(self, method):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", seqscale.ConstantFeatureWarning)
            out = make(method).fit_transform(np.array([[3.0, -2.0]]))
        assert np.isfinite(out).all()

    @pytest.mark.parametrize(
        "fr", [(1, 0), (0, 0), (0, np.inf), (np.nan, 1), (-np.inf, 0), ("a", 1), (0,), None]
    )
    def test_invalid_feature_range(self, fr, X2):
        with pytest.raises(seqscale.ParameterError):
            seqscale.MinMaxScaler(feature_range=fr).fit(X2)

    @pytest.mark.parametrize("qr", [(75, 25), (-1, 50), (50, 101), (50, 50)])
    def test_invalid_quantile_range(self, qr, X2):
        with pytest.raises(seqscale.ParameterError):
            seqscale.RobustScaler(quantile_range=qr).fit(X2)

    @pytest.mark.parametrize(
        "kw",
        [
            {"unseen": "guess"},
            {"padding": "middle"},
            {"mask_value": np.nan},
            {"mask_value": np.inf},
        ],
    )
    def test_invalid_common_params(self, method, kw, X2):
        with pytest.raises(seqscale.ParameterError):
            make(method, **kw).fit(X2)

    @pytest.mark.parametrize("margin", [-0.1, 0.5, 0.7])
    def test_invalid_margin(self, margin, X2):
        with pytest.raises(seqscale.ParameterError):
            seqscale.MinMaxScaler(margin=margin).fit(X2)

    @pytest.mark.parametrize("bad", [np.inf, -np.inf])
    def test_infinite_values_named(self, method, bad):
        df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1.0, 2.0, 3.0, 4.0]})
        df.loc[2, "b"] = bad
        with pytest.raises(seqscale.InputError, match=r"'b'.*row 2"):
            make(method).fit(df)

    def test_infinite_values_grouped_no_runtime_warning(self, method):
        df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1.0, 2.0, np.inf, 4.0]})
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with pytest.raises(seqscale.InputError, match=r"'b'.*row 2"):
                make(method).fit(df, groups=[1, 1, 2, 2])

    def test_infinite_values_3d_row(self, method, X3):
        X = X3.copy()
        X[1, 2, 2] = np.inf
        with pytest.raises(seqscale.InputError, match=r"x2.*row 7"):
            make(method).fit(X)

    def test_infinite_values_grouped_named(self, method):
        df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1.0, 2.0, np.inf, 4.0]})
        with pytest.raises(seqscale.InputError, match=r"'b'.*row 2"):
            make(method).fit(df, groups=[1, 1, 2, 2])


# ---------------------------------------------------------------------------- errors
class TestErrors:
    def test_error_family(self):
        assert issubclass(seqscale.InputError, (seqscale.SeqscaleError, ValueError))
        assert issubclass(seqscale.InputTypeError, TypeError)
        assert issubclass(seqscale.InputTypeError, seqscale.SeqscaleError)
        for cls in (
            seqscale.ParameterError,
            seqscale.FeatureMismatchError,
            seqscale.UnseenSeriesError,
            seqscale.OutOfRangeError,
            seqscale.CoefficientFileError,
        ):
            assert issubclass(cls, seqscale.SeqscaleError) and issubclass(cls, ValueError)
        assert issubclass(seqscale.FeatureMismatchError, seqscale.InputError)
        for cls in (seqscale.ConstantFeatureWarning, seqscale.OutOfRangeWarning):
            assert issubclass(cls, seqscale.SeqscaleWarning) and issubclass(cls, UserWarning)

    def test_wrong_feature_count_message(self, rng):
        est = seqscale.MinMaxScaler().fit(rng.normal(size=(10, 3)))
        with pytest.raises(
            seqscale.FeatureMismatchError,
            match="X has 2 features, but MinMaxScaler is expecting 3 features as input",
        ):
            est.transform(rng.normal(size=(4, 2)))
        with pytest.raises(ValueError, match="X has 2 features"):
            est.inverse_transform(rng.normal(size=(4, 2)))

    def test_feature_names_mismatch(self, method, X2):
        df = pd.DataFrame(X2, columns=["a", "b", "c"])
        est = make(method).fit(df)
        with pytest.raises(seqscale.FeatureMismatchError, match="d"):
            est.transform(df.rename(columns={"c": "d"}))
        with pytest.raises(seqscale.FeatureMismatchError, match="order"):
            est.transform(df[["b", "a", "c"]])

    def test_names_vs_no_names_warns(self, method, X2):
        df = pd.DataFrame(X2, columns=["a", "b", "c"])
        with pytest.warns(UserWarning, match="feature names"):
            make(method).fit(df).transform(X2)
        with pytest.warns(UserWarning, match="feature names"):
            make(method).fit(X2).transform(df)

    def test_grouped_consistency(self, method, X2):
        est = make(method).fit(X2, groups=np.repeat([0, 1], 30))
        with pytest.raises(seqscale.InputError):
            est.transform(X2)
        with pytest.raises(seqscale.InputError):
            est.partial_fit(X2)
        est = make(method).fit(X2)
        with pytest.raises(seqscale.InputError):
            est.transform(X2, groups=np.zeros(60))

    def test_complex_and_sparse_refused(self, method):
        with pytest.raises(seqscale.InputError):
            make(method).fit(np.array([[1 + 1j], [2.0]]))
        import scipy.sparse as sp

        if method == "maxabs":  # keeps zeros at zero: sparse in, sparse out
            assert make(method).fit_transform(sp.csr_matrix(np.eye(3))).format == "csr"
            return
        with pytest.raises(seqscale.InputTypeError if method == "minmax" else seqscale.InputError):
            make(method).fit(sp.csr_matrix(np.eye(3)))


# ---------------------------------------------------------------------------- worked examples
class TestWorkedExamples:
    def test_minmax_bounds_18_8(self):
        est = seqscale.MinMaxScaler(bounds=(-10, 30)).fit(np.array([[0.0], [1.0]]))
        assert round(float(est.transform(np.array([[18.8]]))[0, 0]), 10) == 0.72

    def test_standard_20_7(self):
        est = seqscale.StandardScaler(mean=10.0, std=5.0).fit(np.array([[0.0], [1.0]]))
        assert round(float(est.transform(np.array([[20.7]]))[0, 0]), 10) == 2.14

    def test_sequence_10_to_100(self):
        x = np.arange(10.0, 101.0, 10.0)
        est = seqscale.MinMaxScaler()
        out = est.fit_transform(x)
        assert_close(out, np.arange(10) / 9, rtol=1e-15, atol=1e-16)
        assert out[0] == 0.0 and out[-1] == 1.0
        assert_close(est.inverse_transform(out), x, rtol=1e-15, atol=0)


# ---------------------------------------------------------------------------- features= subsets
class TestFeatureSubsets:
    @pytest.fixture
    def fitted(self, method, rng):
        df = pd.DataFrame(rng.normal(size=(50, 3)) * [1, 10, 100] + [0, 5, 1000], columns=["a", "b", "y"])
        return make(method).fit(df), df

    def _manual_inverse(self, est, j, pred):
        a = est.affine_
        return (np.asarray(pred) - a.offset[j]) / a.scale[j] + a.shift[j]

    def test_inverse_target_1d(self, fitted, rng):
        est, _ = fitted
        pred = rng.normal(size=20)
        out = est.inverse_transform(pred, features=["y"])
        assert out.shape == pred.shape
        assert_close(out, self._manual_inverse(est, 2, pred))
        assert_close(est.inverse_transform(pred, features="y"), out)

    def test_inverse_target_horizon(self, fitted, rng):
        est, _ = fitted
        pred = rng.normal(size=(20, 6))
        out = est.inverse_transform(pred, features=["y"])
        assert out.shape == pred.shape
        assert_close(out, self._manual_inverse(est, 2, pred))

    def test_inverse_quantile_forecasts(self, fitted, rng):
        est, _ = fitted
        pred = np.sort(rng.normal(size=(20, 6, 3)), axis=-1)  # 3 quantiles of the target
        out = est.inverse_transform(pred, features=["y"])
        assert out.shape == pred.shape
        assert_close(out, self._manual_inverse(est, 2, pred))
        assert np.all(np.diff(out, axis=-1) >= 0)

    def test_inverse_two_features_last_axis(self, fitted, rng):
        est, _ = fitted
        pred = rng.normal(size=(20, 6, 2))
        out = est.inverse_transform(pred, features=["a", "y"])
        assert out.shape == pred.shape
        assert_close(out[..., 0], self._manual_inverse(est, 0, pred[..., 0]))
        assert_close(out[..., 1], self._manual_inverse(est, 2, pred[..., 1]))

    def test_inverse_two_features_other_axis(self, fitted, rng):
        est, _ = fitted
        pred = rng.normal(size=(20, 2, 6))
        out = est.inverse_transform(pred, features=["a", "y"], axis=1)
        assert_close(out[:, 1, :], self._manual_inverse(est, 2, pred[:, 1, :]))

    def test_transform_subset_round_trip(self, fitted):
        est, df = fitted
        y = df["y"].to_numpy()
        ys = est.transform(y, features=["y"])
        assert_close(ys, est.transform(df)["y"].to_numpy())
        assert_close(est.inverse_transform(ys, features=["y"]), y)

    def test_subset_pandas_series(self, fitted):
        est, df = fitted
        out = est.transform(df["y"], features=["y"])
        assert isinstance(out, pd.Series) and out.name == "y" and out.index.equals(df.index)

    def test_subset_by_index(self, fitted, rng):
        est, _ = fitted
        pred = rng.normal(size=5)
        assert_close(est.inverse_transform(pred, features=[2]), est.inverse_transform(pred, features=["y"]))
        assert_close(est.inverse_transform(pred, features=[-1]), est.inverse_transform(pred, features=["y"]))

    def test_unknown_feature(self, fitted):
        est, _ = fitted
        with pytest.raises(seqscale.InputError, match="zz"):
            est.inverse_transform(np.zeros(3), features=["zz"])
        with pytest.raises(seqscale.FeatureMismatchError):
            est.inverse_transform(np.zeros((3, 3)), features=["a", "y"])

    def test_subset_float32_kept(self, fitted):
        est, _ = fitted
        assert est.inverse_transform(np.zeros(4, np.float32), features=["y"]).dtype == np.float32

    def test_subset_grouped(self, method, rng):
        X = rng.normal(size=(40, 3)) * [1, 2, 3]
        ids = np.repeat(["s1", "s2"], 20)
        est = make(method).fit(X, groups=ids)
        pred = rng.normal(size=(2, 4))  # one row per series, horizon 4
        out = est.inverse_transform(pred, groups=["s1", "s2"], features=[2])
        for i, sid in enumerate(["s1", "s2"]):
            s = est.series_.tolist().index(sid)
            a = est.affine_.take(s)
            assert_close(out[i], (pred[i] - a.offset[2]) / a.scale[2] + a.shift[2])


# ------------------------------------------------------------------ exact inverse and invariance
finite_scale = st.floats(min_value=-6, max_value=6)


class TestExactInverse:
    @FAST
    @given(
        seed=st.integers(0, 2**32 - 1),
        log_scale=finite_scale,
        log_loc=finite_scale,
        shape=st.sampled_from([(7,), (9, 1), (20, 3), (4, 5, 2)]),
        method=st.sampled_from(METHODS),
    )
    def test_inverse_of_transform_within_ulps(self, seed, log_scale, log_loc, shape, method):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=shape) * 10.0**log_scale + rng.choice([-1, 1]) * 10.0**log_loc
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", seqscale.ConstantFeatureWarning)
            est = make(method).fit(X)
        back = est.inverse_transform(est.transform(X))
        # a few ulp of the largest magnitude involved (|x| or the shift)
        mag = np.maximum(np.abs(X), np.abs(est.affine_.shift) if X.ndim > 1 else np.abs(est.affine_.shift[0]))
        assert np.all(np.abs(back - X) <= 8 * np.spacing(mag))

    @FAST
    @given(
        seed=st.integers(0, 2**32 - 1),
        a=st.floats(1e-3, 1e3),
        b=st.floats(-1e4, 1e4),
        method=st.sampled_from(["minmax", "standard", "robust"]),
    )
    def test_affine_invariance(self, seed, a, b, method):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(30, 2)) * [1, 5] + [0, 3]
        y1 = make(method).fit_transform(X)
        y2 = make(method).fit_transform(a * X + b)
        np.testing.assert_allclose(y2, y1, rtol=1e-7, atol=1e-7)

    @FAST
    @given(seed=st.integers(0, 2**32 - 1), a=st.floats(1e-3, 1e3))
    def test_maxabs_scale_invariance(self, seed, a):
        X = np.random.default_rng(seed).normal(size=(30, 2))
        np.testing.assert_allclose(
            seqscale.MaxAbsScaler().fit_transform(a * X),
            seqscale.MaxAbsScaler().fit_transform(X),
            rtol=1e-12,
            atol=1e-14,
        )

    def test_copy_false_in_place(self, method, X2):
        X = X2.copy()
        est = make(method, copy=False).fit(X)
        ref = make(method).fit(X2).transform(X2)
        out = est.transform(X)
        assert_close(out, ref)
        assert np.shares_memory(out, X)
        X3 = X2.copy()
        make(method).fit(X3).transform(X3)
        assert np.array_equal(X3, X2)  # default copy=True leaves input alone
        out = make(method).fit(X3).transform(X3, copy=False)
        assert np.shares_memory(out, X3)


# ---------------------------------------------------------------------------- streaming exactness
BIG = {
    "symmetric": np.array([[1e308], [-1e308], [5e307]]),
    "near_max": np.array([[1.7e308], [1.6e308], [1.65e308]]),
    "half": np.array([[1e308], [1e308 * 0.5], [0.0]]),
    "full_span": np.array([[-1.7e308], [1.7e308]]),
}
# the cases refused with a clear error (the message must match); every other case must give
# scikit-learn's result on the data divided by 1e300, and round-trip
BIG_REFUSED = {
    ("minmax", "symmetric"): "max - min overflows",
    ("minmax", "full_span"): "max - min overflows",
    **{("standard", c): "sum of squared deviations overflows" for c in BIG},
}


class TestStreaming:
    @pytest.mark.parametrize(
        "method",
        [
            "minmax",
            "maxabs",
            "robust",
            "standard",
        ],
    )
    def test_100_chunks_equal_fit(self, method, rng):
        X = rng.normal(size=(1000, 3)) * [1, 1e3, 1e-3] + [1e6, 0, -4]
        whole = make(method).fit(X)
        est = make(method)
        for chunk in np.array_split(X, 100):
            est.partial_fit(chunk)
        assert_close(est.scale_, whole.scale_, rtol=1e-12, atol=0)
        assert_close(est.affine_.shift, whole.affine_.shift, rtol=1e-12, atol=0)
        assert_close(est.affine_.offset, whole.affine_.offset, rtol=1e-12, atol=0)
        assert est.n_samples_seen_ == whole.n_samples_seen_
        assert_close(est.transform(X), whole.transform(X))

    @pytest.mark.parametrize("size", [1, 2, 50, 137, 137 + 42])
    def test_chunk_sizes(self, method, size, rng):
        X = rng.normal(3, 2, size=(137, 2))
        whole = make(method).fit(X)
        est = make(method)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", seqscale.ConstantFeatureWarning)  # 1-row first chunk
            for start in range(0, len(X), size):
                est.partial_fit(X[start : start + size])
        assert_close(est.scale_, whole.scale_, rtol=1e-12, atol=0)
        assert_close(est.stats_.mean, whole.stats_.mean, rtol=1e-12, atol=1e-15)
        assert_close(est.stats_.m2, whole.stats_.m2, rtol=1e-12, atol=0)

    def test_partial_fit_3d_and_dataframes(self, method, X3):
        whole = make(method).fit(X3)
        est = make(method).partial_fit(X3[:3]).partial_fit(X3[3:])
        assert_close(est.transform(X3), whole.transform(X3))
        df = pd.DataFrame(X3.reshape(-1, 3), columns=list("abc"))
        est = make(method).partial_fit(df.iloc[:10]).partial_fit(df.iloc[10:])
        assert_close(est.transform(df).to_numpy(), whole.transform(X3).reshape(-1, 3))

    def test_partial_fit_feature_count_checked(self, method, X2):
        est = make(method).partial_fit(X2)
        with pytest.raises(seqscale.FeatureMismatchError):
            est.partial_fit(X2[:, :2])

    def test_standard_std_1e9_offset(self, rng):
        x = 1e9 + rng.normal(size=5000)
        exact_mean, exact_std = exact_mean_std(x)
        est = seqscale.StandardScaler().fit(x)
        assert abs(est.scale_[0] - exact_std) <= 1e-9 * exact_std
        assert abs(est.mean_[0] - float(exact_mean)) <= 1e-15 * 1e9
        # transform keeps the precision: standardized values have mean 0 and std 1
        z = est.transform(x)
        assert abs(math.fsum(z) / len(z)) < 1e-6
        assert abs(np.std(z) - 1) < 1e-8

    def test_standard_std_1e9_offset_100_chunks(self):
        x = 1e9 + np.random.default_rng(0).normal(size=2000)
        exact_std = exact_mean_std(x)[1]
        est = seqscale.StandardScaler()
        for chunk in np.array_split(x, 100):
            est.partial_fit(chunk)
        assert abs(est.scale_[0] - exact_std) <= 1e-9 * exact_std

    def test_standard_std_1e9_float32(self, rng):
        x = (1e4 + rng.normal(size=2000)).astype(np.float32)
        std = exact_mean_std(x.astype(np.float64))[1]
        est = seqscale.StandardScaler().fit(x)
        assert abs(est.scale_[0] - std) <= 1e-9 * std

    def test_minmax_endpoints_exact_many_seeds(self):
        rng = np.random.default_rng(2024)
        failures = []
        for seed in range(500):
            a = float(rng.uniform(-10, 10))
            b = a + float(10.0 ** rng.uniform(-3, 2))
            X = rng.normal(size=(int(rng.integers(2, 40)), 2)) * 10.0 ** rng.uniform(-5, 5, size=2)
            X += rng.normal(size=2) * 10.0 ** rng.uniform(-3, 6, size=2)
            out = seqscale.MinMaxScaler(feature_range=(a, b)).fit_transform(X)
            lo, hi = out[X.argmin(axis=0), [0, 1]], out[X.argmax(axis=0), [0, 1]]
            # never outside [a, b]; the minimum lands on a exactly and the maximum on b, or within
            # an ulp of (b - a) below it when no float64 scale maps the span onto b exactly
            top = b - 2 * np.spacing(max(abs(a), abs(b), b - a))
            if not (np.all(out >= a) and np.all(out <= b) and np.all(lo == a) and np.all(hi >= top)):
                failures.append((seed, a, b))
        assert not failures, failures[:5]

    def test_minmax_endpoints_exact_float32(self):
        rng = np.random.default_rng(7)
        for _ in range(200):
            X = (rng.normal(size=(20, 2)) * 10.0 ** rng.uniform(-3, 3) + rng.normal() * 100).astype(
                np.float32
            )
            out = seqscale.MinMaxScaler().fit_transform(X)
            assert out.min() >= 0 and out.max() <= 1
            assert np.all(out.min(axis=0) == 0) and np.all(out.max(axis=0) == 1)

    @pytest.mark.parametrize("method, case", [(m, c) for m in METHODS for c in BIG])
    def test_near_float_max(self, method, case):
        X = BIG[case]
        refusal = BIG_REFUSED.get((method, case))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            if refusal is not None:  # a clear error naming the overflow, never inf or nan
                with pytest.raises(seqscale.InputError, match=refusal):
                    make(method).fit(X).transform(X)
                return
            est = make(method).fit(X)
            out = est.transform(X)
            assert np.isfinite(out).all(), out
            ref = make_sklearn(method).fit(X / 1e300).transform(X / 1e300)
            np.testing.assert_allclose(out, ref, rtol=1e-9, atol=1e-12)
            back = est.inverse_transform(out)
            assert np.isfinite(back).all()
            np.testing.assert_allclose(back, X, rtol=1e-9)

    @pytest.mark.parametrize("method", list(METHODS))
    def test_subnormal_values(self, method):
        # the spread of subnormal values has no float64 reciprocal: every method refuses them
        # with the remedy, and the same data rescaled as the message says gives scikit-learn's result
        X = np.array([[1e-310], [3e-310], [2e-310], [5e-310]])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(seqscale.InputError, match=r"too extreme for float64.*x \* 1e300"):
                make(method).fit(X).transform(X)
            out = make(method).fit(X * 1e300).transform(X * 1e300)
        np.testing.assert_allclose(out, make_sklearn(method).fit_transform(X * 1e300), rtol=1e-6)
