"""sample_weight: scikit-learn's weighted statistics, exact merges, series, files and Dask."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import sklearn.preprocessing as skp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import seqscale
from seqscale import Moments
from seqscale.errors import InputError
from seqscale.files import io as seqscale_io
from seqscale.scalers.estimators import SCALERS as SCALERS_BY_NAME

SCALERS = [seqscale.MinMaxScaler, seqscale.StandardScaler, seqscale.RobustScaler, seqscale.MaxAbsScaler]


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    X = rng.normal(5.0, 3.0, size=(300, 3)) * [1.0, 1e3, 1e-3] + [0.0, 1e6, 0.0]
    w = rng.uniform(0.0, 2.0, size=300)
    w[rng.choice(300, 40, replace=False)] = 0.0
    w[np.argmax(X[:, 0])] = 0.0  # the largest value of feature 0 has no weight
    return X, w


def weighted_reference(x: np.ndarray, w: np.ndarray):
    """W, mean, m2 of one column with exact sums (fsum), NaN and zero weights left out."""
    keep = ~np.isnan(x) & (w > 0)
    x, w = x[keep], w[keep]
    total = math.fsum(w)
    mean = math.fsum(w * x) / total
    mean += math.fsum(w * (x - mean)) / total
    return total, mean, math.fsum(w * (x - mean) ** 2)


# ---------------------------------------------------------------------------- equal to scikit-learn
def test_standard_equals_sklearn_weighted(data):
    X, w = data
    X = X.copy()
    X[[3, 50, 51], [0, 1, 1]] = np.nan  # NaN ignored, as scikit-learn does
    ours = seqscale.StandardScaler().fit(X, sample_weight=w)
    ref = skp.StandardScaler().fit(X, sample_weight=w)
    np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-12)
    np.testing.assert_allclose(ours.var_, ref.var_, rtol=1e-12)
    np.testing.assert_allclose(ours.scale_, ref.scale_, rtol=1e-12)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.n_samples_seen_, ref.n_samples_seen_, rtol=1e-14)  # per feature
    for j in range(3):  # and with an exact reference
        total, mean, m2 = weighted_reference(X[:, j], w)
        assert ours.stats_.count[j] == pytest.approx(total, rel=1e-15)
        assert ours.mean_[j] == pytest.approx(mean, rel=1e-15)
        assert ours.var_[j] == pytest.approx(m2 / total, rel=1e-13)


def test_n_samples_seen_is_the_weight_total_like_sklearn(data):
    X, w = data
    ours = seqscale.StandardScaler().fit(X, sample_weight=w)
    ref = skp.StandardScaler().fit(X, sample_weight=w)
    assert isinstance(ours.n_samples_seen_, float)
    assert ours.n_samples_seen_ == pytest.approx(float(ref.n_samples_seen_), rel=1e-14)
    assert seqscale.StandardScaler().fit(X).n_samples_seen_ == 300  # unweighted: an int


def test_standard_partial_fit_equals_sklearn_partial_fit(data):
    X, w = data
    ours, ref = seqscale.StandardScaler(), skp.StandardScaler()
    for part in np.array_split(np.arange(300), 7):
        ours.partial_fit(X[part], sample_weight=w[part])
        ref.partial_fit(X[part], sample_weight=w[part])
    np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-12)
    np.testing.assert_allclose(ours.var_, ref.var_, rtol=1e-12)
    assert ours.n_samples_seen_ == pytest.approx(ref.n_samples_seen_, rel=1e-14)


@pytest.mark.parametrize("name", ["MinMaxScaler", "MaxAbsScaler"])
def test_weights_drop_zero_weight_rows_from_the_range(data, name):
    """Positive weights do not move min/max; weight 0 leaves a row out (scikit-learn's meaning of
    a zero weight: the same as removing the row)."""
    X, w = data
    fitted = getattr(seqscale, name)().fit(X, sample_weight=w)
    ref = getattr(skp, name)().fit(X[w > 0])
    np.testing.assert_allclose(fitted.scale_, ref.scale_, rtol=1e-12)
    np.testing.assert_allclose(fitted.transform(X), ref.transform(X), rtol=1e-12, atol=1e-12)
    positive = getattr(seqscale, name)().fit(X, sample_weight=np.where(w > 0, w, 1.0))
    np.testing.assert_allclose(positive.scale_, getattr(skp, name)().fit(X).scale_, rtol=1e-12)
    if name == "MinMaxScaler":
        assert fitted.data_max_[0] < X[:, 0].max()  # the weight-0 maximum is not the max
        np.testing.assert_array_equal(fitted.data_min_, X[w > 0].min(axis=0))


@pytest.mark.parametrize("q_range", [(25.0, 75.0), (10.0, 90.0), (5.0, 95.0)])
def test_robust_uses_the_inverted_weighted_cdf(data, q_range):
    X, w = data
    fitted = seqscale.RobustScaler(quantile_range=q_range).fit(X, sample_weight=w)

    def q(p):
        return np.array([np.quantile(X[:, j], p, method="inverted_cdf", weights=w) for j in range(3)])

    np.testing.assert_array_equal(fitted.center_, q(0.5))
    np.testing.assert_allclose(fitted.scale_, q(q_range[1] / 100) - q(q_range[0] / 100), rtol=4e-16)


def test_robust_weighted_partial_fit_and_groups(data):
    X, w = data
    whole = seqscale.RobustScaler().fit(X, sample_weight=w)
    parts = seqscale.RobustScaler()
    for part in np.array_split(np.arange(300), 4):
        parts.partial_fit(X[part], sample_weight=w[part])
    np.testing.assert_array_equal(parts.center_, whole.center_)
    np.testing.assert_array_equal(parts.scale_, whole.scale_)
    ids = np.arange(300) % 3
    grouped = seqscale.RobustScaler().fit(X, groups=ids, sample_weight=w)
    for g in range(3):
        rows = ids == g
        ref = np.quantile(X[rows], 0.5, axis=0, method="inverted_cdf", weights=np.repeat(w[rows, None], 3, 1))
        np.testing.assert_array_equal(grouped.center_[g], ref)


@pytest.mark.parametrize("cls", SCALERS, ids=lambda c: c.__name__)
def test_integer_weights_equal_repeated_rows(cls, data):
    X, _ = data
    counts = np.random.default_rng(1).integers(0, 4, size=300)
    weighted = cls().fit(X, sample_weight=counts)
    repeated = cls().fit(np.repeat(X, counts, axis=0))
    if cls is seqscale.RobustScaler:  # the weighted rule is the inverted CDF, of repeated rows too
        ref = np.quantile(np.repeat(X, counts, axis=0), 0.5, axis=0, method="inverted_cdf")
        np.testing.assert_array_equal(weighted.center_, ref)
        return
    np.testing.assert_allclose(weighted.affine_.shift, repeated.affine_.shift, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(weighted.affine_.scale, repeated.affine_.scale, rtol=1e-12)


@pytest.mark.parametrize("cls", SCALERS, ids=lambda c: c.__name__)
def test_weights_of_one_and_none_agree(cls, data):
    X, _ = data
    ones = cls().fit(X, sample_weight=np.ones(300))
    plain = cls().fit(X)
    if cls is not seqscale.RobustScaler:  # (weighted quantiles do not interpolate)
        np.testing.assert_allclose(ones.transform(X), plain.transform(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ones.fit_transform(X, sample_weight=2.5), ones.transform(X), rtol=0, atol=0)


# ---------------------------------------------------------------------------- shapes and refusals
def test_3d_weights_per_sample_and_per_timestep():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 6, 2))
    w = rng.uniform(0, 1, size=40)
    flat = X.reshape(-1, 2)
    per_sample = seqscale.StandardScaler().fit(X, sample_weight=w)
    ref = skp.StandardScaler().fit(flat, sample_weight=np.repeat(w, 6))
    np.testing.assert_allclose(per_sample.mean_, ref.mean_, rtol=1e-12)
    np.testing.assert_allclose(per_sample.var_, ref.var_, rtol=1e-12)
    steps = rng.uniform(0, 1, size=(40, 6))
    per_step = seqscale.StandardScaler().fit(X, sample_weight=steps)
    ref = skp.StandardScaler().fit(flat, sample_weight=steps.ravel())
    np.testing.assert_allclose(per_step.var_, ref.var_, rtol=1e-12)


def test_padding_rows_are_left_out_with_their_weights():
    X = np.array([[[1.0], [2.0], [0.0]], [[3.0], [0.0], [0.0]]])
    w = np.array([1.0, 3.0])
    fitted = seqscale.StandardScaler().fit(X, sample_weight=w, lengths=np.array([2, 1]))
    assert fitted.mean_.tolist() == [(1.0 + 2.0 + 3 * 3.0) / 5]
    assert fitted.n_samples_seen_ == 5.0


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        (
            np.r_[1.0, -1.0, 1.0, 1.0],
            r"sample_weight holds -1.0 at index 1; weights must be finite and non-negative",
        ),
        (np.r_[1.0, 1.0, np.nan, 1.0], r"holds nan at index 2"),
        (np.r_[np.inf, 1.0, 1.0, 1.0], r"holds inf at index 0"),
        (np.ones(3), r"sample_weight.shape == \(3,\), expected \(4,\)"),
        (np.ones((4, 1)), r"sample_weight.shape == \(4, 1\)"),
        (np.zeros(4), r"at least one non-zero"),
        (["a", "b", "c", "d"], r"must hold numbers"),
    ],
)
@pytest.mark.parametrize("cls", SCALERS, ids=lambda c: c.__name__)
def test_bad_weights_are_refused(cls, weights, match):
    X = np.arange(8.0).reshape(4, 2)
    for call in (cls().fit, cls().partial_fit, cls().fit_transform):
        with pytest.raises(InputError, match=match):
            call(X, sample_weight=weights)


def test_infinite_value_in_a_zero_weight_row_is_still_refused(tmp_path):
    X = np.array([[1.0, 0.0], [2.0, np.inf], [2.0, 1.0], [3.0, 0.5]])
    w = np.array([1.0, 0.0, 1.0, 2.0])
    with pytest.raises(InputError, match=r"feature 'x1' holds an infinite value \(first at row 1\)"):
        seqscale.StandardScaler().fit(X, sample_weight=w)
    with pytest.raises(InputError, match="first at row 1"):
        seqscale.MinMaxScaler().fit(X, groups=[0, 1, 1, 0], sample_weight=w)
    path = tmp_path / "inf.parquet"
    seqscale_io.write_table(pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "w": w}), path)
    with pytest.raises(InputError, match=r"\['b'\] hold infinite values"):
        seqscale.fit_file(path, "standard", sample_weight="w")


def test_pandas_series_weights_and_dataframe_input(data):
    X, w = data
    df = pd.DataFrame(X, columns=["a", "b", "c"], index=np.arange(300) * 2)
    fitted = seqscale.StandardScaler().fit(df, sample_weight=pd.Series(w, index=df.index))
    np.testing.assert_allclose(fitted.mean_, skp.StandardScaler().fit(X, sample_weight=w).mean_, rtol=1e-12)


# ---------------------------------------------------------------------------- scikit-learn plumbing
@pytest.mark.parametrize("cls", SCALERS, ids=lambda c: c.__name__)
def test_pipeline_passes_sample_weight_none_and_routes_weights(cls, data):
    import sklearn
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import Pipeline

    X, w = data
    y = X @ [1.0, 1e-3, 1e3]
    pipe = Pipeline([("scale", cls()), ("model", LinearRegression())])
    pipe.fit(X, y, scale__sample_weight=None)  # code that always passes the keyword
    pipe.fit(X, y, scale__sample_weight=w)
    np.testing.assert_allclose(pipe[0].affine_.scale, cls().fit(X, sample_weight=w).affine_.scale)
    with sklearn.config_context(enable_metadata_routing=True):
        scaler = cls().set_fit_request(sample_weight=True)
        routed = Pipeline(
            [("scale", scaler), ("model", LinearRegression().set_fit_request(sample_weight=True))]
        )
        routed.fit(X, y, sample_weight=w)
        np.testing.assert_allclose(routed[0].affine_.scale, cls().fit(X, sample_weight=w).affine_.scale)


def test_positional_sample_weight_like_sklearn(data):
    X, w = data
    a = seqscale.StandardScaler().fit(X, None, w)
    b = seqscale.StandardScaler().partial_fit(X, None, w)
    np.testing.assert_allclose(a.mean_, skp.StandardScaler().fit(X, None, w).mean_, rtol=1e-12)
    np.testing.assert_array_equal(a.mean_, b.mean_)


# ---------------------------------------------------------------------------- exact merges
elements = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False, width=64)
weights_st = st.one_of(st.just(0.0), st.floats(1e-3, 1e3))


@settings(max_examples=120, deadline=None)
@given(
    x=hnp.arrays(np.float64, st.tuples(st.integers(2, 40), st.integers(1, 3)), elements=elements),
    data=st.data(),
)
def test_weighted_merge_of_any_split_in_any_order_equals_one_pass(x, data):
    n = x.shape[0]
    w = np.array(data.draw(st.lists(weights_st, min_size=n, max_size=n)))
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=5)))
    parts = list(np.split(np.arange(n), cuts))
    order = data.draw(st.permutations(range(len(parts))))
    whole = Moments.from_array(x, w)
    folded = Moments.empty(x.shape[1])
    streamed = Moments.empty(x.shape[1])
    for k in order:
        folded = folded.merge(Moments.from_array(x[parts[k]], w[parts[k]]))
        streamed = streamed.update(x[parts[k]], w[parts[k]])[0]
    scale = float(np.abs(x).max()) or 1.0
    total = float(whole.count.max())
    for merged in (folded, streamed):
        np.testing.assert_allclose(merged.count, whole.count, rtol=1e-13)
        np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-13, atol=1e-13 * scale)
        np.testing.assert_allclose(merged.m2, whole.m2, rtol=1e-13, atol=1e-13 * scale**2 * total)
        np.testing.assert_array_equal(merged.min, whole.min)
        np.testing.assert_array_equal(merged.max, whole.max)


def test_unweighted_and_weighted_batches_merge_as_weight_one(data):
    X, w = data
    mixed = seqscale.StandardScaler().partial_fit(X[:100]).partial_fit(X[100:], sample_weight=w[100:])
    ref = skp.StandardScaler().fit(X, sample_weight=np.r_[np.ones(100), w[100:]])
    np.testing.assert_allclose(mixed.mean_, ref.mean_, rtol=1e-12)
    np.testing.assert_allclose(mixed.var_, ref.var_, rtol=1e-12)
    assert mixed.n_samples_seen_ == pytest.approx(ref.n_samples_seen_, rel=1e-14)


def test_weighted_streaming_far_from_zero_stays_exact():
    rng = np.random.default_rng(5)
    x = 1e9 + rng.normal(size=(20_000, 1))
    w = rng.uniform(0.1, 1.0, size=20_000)
    one = seqscale.StandardScaler().fit(x, sample_weight=w)
    chunks = seqscale.StandardScaler()
    for part in np.array_split(np.arange(20_000), 100):
        chunks.partial_fit(x[part], sample_weight=w[part])
    _, mean, m2 = weighted_reference(x[:, 0], w)
    std = math.sqrt(m2 / math.fsum(w))
    assert one.scale_[0] == pytest.approx(std, rel=1e-13)
    assert chunks.scale_[0] == pytest.approx(std, rel=1e-13)
    assert chunks.mean_[0] == pytest.approx(mean, rel=1e-15)


# ---------------------------------------------------------------------------- per series
@pytest.mark.parametrize("sorted_rows", [True, False])
def test_per_series_equals_sklearn_on_each_series(data, sorted_rows):
    X, w = data
    ids = np.repeat(np.array([10, 20, 30]), 100) if sorted_rows else np.arange(300) % 3 * 10 + 10
    fitted = seqscale.StandardScaler().fit(X, groups=ids, sample_weight=w)
    out = fitted.transform(X, groups=ids)
    for k, g in enumerate((10, 20, 30)):
        rows = ids == g
        ref = skp.StandardScaler().fit(X[rows], sample_weight=w[rows])
        np.testing.assert_allclose(fitted.mean_[k], ref.mean_, rtol=1e-12)
        np.testing.assert_allclose(fitted.var_[k], ref.var_, rtol=1e-12)
        np.testing.assert_allclose(out[rows], ref.transform(X[rows]), rtol=1e-12, atol=1e-12)
    pooled = skp.StandardScaler().fit(X, sample_weight=w)
    np.testing.assert_allclose(fitted.stats_.mean, pooled.mean_, rtol=1e-12)
    np.testing.assert_allclose(fitted.stats_.var(), pooled.var_, rtol=1e-12)
    segments = seqscale.Segments(np.array([10, 20, 30]), np.full(3, 100))
    if sorted_rows:
        same = seqscale.StandardScaler().fit_transform(X, groups=segments, sample_weight=w)
        np.testing.assert_allclose(same, out, rtol=1e-15)


def test_per_series_partial_fit_merges_weighted_batches(data):
    X, w = data
    ids = np.arange(300) % 4
    whole = seqscale.MinMaxScaler().fit(X, groups=ids, sample_weight=w)
    parts = seqscale.StandardScaler()
    for part in np.array_split(np.arange(300), 5):
        parts.partial_fit(X[part], groups=ids[part], sample_weight=w[part])
    one = seqscale.StandardScaler().fit(X, groups=ids, sample_weight=w)
    np.testing.assert_allclose(parts.mean_, one.mean_, rtol=1e-13)
    np.testing.assert_allclose(parts.var_, one.var_, rtol=1e-12)
    for g in range(4):
        rows = (ids == g) & (w > 0)
        np.testing.assert_array_equal(whole.data_min_[g], X[rows].min(axis=0))


# ---------------------------------------------------------------------------- files and Dask
def test_coefficient_file_records_a_weighted_fit(data, tmp_path):
    X, w = data
    fitted = seqscale.StandardScaler().fit(X, sample_weight=w)
    fitted.save(tmp_path / "c.json")
    record = json.loads((tmp_path / "c.json").read_text())
    assert record["version"] == 2 and record["weighted"] is True
    assert record["n_samples_seen"] == pytest.approx(float(w.sum()), rel=1e-14)
    assert record["channels"][0]["count"] == pytest.approx(float(w.sum()), rel=1e-14)
    loaded = seqscale.load(tmp_path / "c.json")
    assert loaded.n_samples_seen_ == fitted.n_samples_seen_
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))
    plain = seqscale.StandardScaler().fit(X).to_dict()
    assert plain["weighted"] is False and isinstance(plain["channels"][0]["count"], int)


def test_version_1_files_still_load(data, tmp_path):
    X, _ = data
    record = seqscale.MinMaxScaler().fit(X).to_dict()
    record["version"] = 1
    del record["weighted"]
    loaded = seqscale.scalers.coefficients.from_dict(record)
    assert loaded.n_samples_seen_ == 300
    record["channels"][0]["count"] = 299.5  # a fractional count needs "weighted": true
    with pytest.raises(seqscale.errors.CoefficientFileError, match="count must be a non-negative integer"):
        seqscale.scalers.coefficients.from_dict(record)


@pytest.mark.parametrize("method", ["standard", "minmax", "robust", "maxabs"])
def test_fit_file_with_a_weight_column(data, tmp_path, method):
    X, w = data
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(w=w, city="x")
    path = tmp_path / "train.parquet"
    seqscale_io.write_table(frame, path)
    streamed = seqscale.fit_file(path, method, sample_weight="w", batch_size=64)
    memory = SCALERS_BY_NAME[method]().fit(frame[["a", "b", "c"]], sample_weight=w)
    assert streamed.feature_names_in_.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(streamed.affine_.shift, memory.affine_.shift, rtol=1e-13)
    np.testing.assert_allclose(streamed.affine_.scale, memory.affine_.scale, rtol=1e-12)
    assert streamed.n_samples_seen_ == pytest.approx(memory.n_samples_seen_, rel=1e-14)


def test_fit_file_refuses_bad_weight_columns(tmp_path):
    path = tmp_path / "t.csv"
    seqscale_io.write_table(pd.DataFrame({"a": np.arange(7.0), "w": [1.0] * 5 + [-2.0, 1.0]}), path)
    with pytest.raises(
        InputError, match=r"weight column 'w' \(data rows counted from 0\) holds -2\.0 at index 5"
    ):
        seqscale.fit_file(path, "standard", sample_weight="w", batch_size=2)
    with pytest.raises(seqscale.errors.DataFileError, match="names no column"):
        seqscale.fit_file(path, "standard", sample_weight="weight")


@pytest.mark.parametrize("method", ["standard", "robust"])
def test_dask_weights_as_column_or_aligned_array(data, method):
    da = pytest.importorskip("dask.array")
    dd = pytest.importorskip("dask.dataframe")
    X, w = data
    memory = SCALERS_BY_NAME[method]().fit(X, sample_weight=w)
    arr = SCALERS_BY_NAME[method]().fit(
        da.from_array(X, chunks=(41, 2)), sample_weight=da.from_array(w, chunks=50)
    )
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(w=w)
    col = SCALERS_BY_NAME[method]().fit(dd.from_pandas(frame, npartitions=3), sample_weight="w")
    assert col.feature_names_in_.tolist() == ["a", "b", "c"]
    for fitted in (arr, col):
        np.testing.assert_allclose(fitted.affine_.shift, memory.affine_.shift, rtol=1e-13)
        np.testing.assert_allclose(fitted.affine_.scale, memory.affine_.scale, rtol=1e-12)
        assert fitted.n_samples_seen_ == pytest.approx(memory.n_samples_seen_, rel=1e-14)
    X3 = X.reshape(100, 3, 3)
    per_sample = seqscale.StandardScaler().fit(
        da.from_array(X3, chunks=(30, 2, 3)), sample_weight=da.from_array(w[:100], chunks=25)
    )
    ref = seqscale.StandardScaler().fit(X3, sample_weight=w[:100])
    np.testing.assert_allclose(per_sample.var_, ref.var_, rtol=1e-12)
    steps = w[:300].reshape(100, 3)
    per_step = seqscale.StandardScaler().fit(
        da.from_array(X3, chunks=(30, 2, 3)), sample_weight=da.from_array(steps, chunks=(40, 1))
    )
    ref = seqscale.StandardScaler().fit(X3, sample_weight=steps)
    np.testing.assert_allclose(per_step.var_, ref.var_, rtol=1e-12)
    with pytest.raises(InputError, match=r"sample_weight.shape == \(99,\)"):
        seqscale.StandardScaler().fit(da.from_array(X3), sample_weight=da.from_array(w[:99]))


def test_coefficient_table_of_a_weighted_fit(data):
    X, w = data
    table = seqscale.StandardScaler().fit(X, sample_weight=w).coefficients_
    assert "nan_count" not in table  # counts are weight totals: no NaN count to derive
    np.testing.assert_allclose(table["count"].to_numpy(), np.full(3, w.sum()), rtol=1e-14)
    ref = skp.StandardScaler().fit(X, sample_weight=w)
    np.testing.assert_allclose(table["std"].to_numpy(), ref.scale_, rtol=1e-12)


def test_weighted_sketch_past_its_capacity_stays_within_its_rank_error():
    from seqscale.core.quantiles import QuantileSketch

    rng = np.random.default_rng(2)
    values, w = rng.normal(size=20_000), rng.uniform(0.0, 1.0, size=20_000)
    sketch = QuantileSketch.from_values(values[:10_000], weights=w[:10_000], capacity=2_000)
    sketch = sketch.merge(QuantileSketch.from_values(values[10_000:], weights=w[10_000:], capacity=2_000))
    assert sketch.weighted and not sketch.exact
    order = np.argsort(values)
    cdf = np.cumsum(w[order]) / w.sum()
    for q in (0.1, 0.25, 0.5, 0.9):
        found = sketch.quantile(q)[0]
        share = cdf[np.searchsorted(values[order], found)]  # weight share up to the value found
        assert abs(share - q) <= sketch.rank_error + 1e-3
