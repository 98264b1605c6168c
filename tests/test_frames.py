"""Frames in real clients: scikit-learn's set_output, polars LazyFrame, Arrow tables, polars names."""

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler as SkMinMaxScaler
from sklearn.preprocessing import RobustScaler as SkRobustScaler
from sklearn.preprocessing import StandardScaler as SkStandardScaler

import seqscale
from seqscale.datasets import load_dataset
from seqscale.files.io import read_table, write_table

METHODS = [seqscale.MinMaxScaler, seqscale.StandardScaler, seqscale.MaxAbsScaler, seqscale.RobustScaler]
OUTPUT_TYPES = {"default": np.ndarray, "pandas": pd.DataFrame, "polars": pl.DataFrame}


@pytest.fixture
def frame():
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {"a": rng.normal(5, 2, 40), "b": rng.uniform(-1, 3, 40), "c": rng.normal(0, 1, 40)},
        index=np.arange(100, 140),
    )


def _inputs(frame):
    return {"pandas": frame, "polars": pl.from_pandas(frame), "numpy": frame.to_numpy()}


@pytest.mark.parametrize("output", ["default", "pandas", "polars"])
@pytest.mark.parametrize("given", ["pandas", "polars", "numpy"])
def test_pipeline_set_output_returns_what_was_asked(frame, output, given):
    X = _inputs(frame)[given]
    pipe = make_pipeline(seqscale.StandardScaler(), seqscale.MinMaxScaler()).set_output(transform=output)
    out = pipe.fit_transform(X)
    assert type(out) is OUTPUT_TYPES[output]
    expected = make_pipeline(SkStandardScaler(), SkMinMaxScaler())
    np.testing.assert_allclose(np.asarray(out), expected.fit_transform(frame.to_numpy()), atol=1e-12)
    if output != "default":
        names = ["a", "b", "c"] if given != "numpy" else ["x0", "x1", "x2"]
        assert list(out.columns) == names
    if output == "pandas" and given == "pandas":
        assert list(out.index) == list(frame.index)


@pytest.mark.parametrize("output", ["default", "pandas", "polars"])
@pytest.mark.parametrize("given", ["pandas", "polars"])
def test_column_transformer_set_output(frame, output, given):
    ct = ColumnTransformer(
        [("scaled", seqscale.RobustScaler(), ["a", "b"]), ("sk", SkStandardScaler(), ["c"])]
    ).set_output(transform=output)
    out = ct.fit_transform(_inputs(frame)[given])
    assert type(out) is OUTPUT_TYPES[output]
    expected = SkRobustScaler().fit_transform(frame[["a", "b"]])
    np.testing.assert_allclose(np.asarray(out)[:, :2], expected, atol=1e-12)
    if output != "default":
        assert list(out.columns) == ["scaled__a", "scaled__b", "sk__c"]


def test_set_output_default_gives_array_and_unset_keeps_container(frame):
    est = seqscale.StandardScaler()
    assert isinstance(est.fit_transform(frame), pd.DataFrame)  # nothing asked: the caller's container
    assert isinstance(est.set_output(transform="default").transform(frame), np.ndarray)
    assert isinstance(est.set_output(transform="default").inverse_transform(frame), np.ndarray)


def test_set_output_pyarrow_on_seqscale_steps(frame):
    est = seqscale.MinMaxScaler().set_output(transform="pyarrow")
    out = est.fit_transform(frame)
    assert isinstance(out, pa.Table) and out.column_names == ["a", "b", "c"]
    expected = seqscale.MinMaxScaler().fit_transform(frame.to_numpy())
    np.testing.assert_allclose(out.to_pandas().to_numpy(), expected)
    pipe = make_pipeline(seqscale.StandardScaler(), seqscale.MinMaxScaler()).set_output(transform="pyarrow")
    piped = pipe.fit_transform(pl.from_pandas(frame))
    assert isinstance(piped, pa.Table) and piped.column_names == ["a", "b", "c"]
    np.testing.assert_allclose(piped.to_pandas().to_numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("wrap", [pa.table, lambda d: pa.RecordBatch.from_pydict(d)])
def test_arrow_keeps_names(wrap):
    data = {"load": [1.0, 4.0, 2.0, 3.0], "temp": [10, 12, 11, 15]}
    table = wrap(data)
    est = seqscale.StandardScaler().fit(table)
    assert list(est.feature_names_in_) == ["load", "temp"]
    out = est.transform(table)
    assert isinstance(out, np.ndarray)  # nothing asked: an array, as scikit-learn
    np.testing.assert_allclose(out, SkStandardScaler().fit_transform(pd.DataFrame(data)))
    arrow = est.set_output(transform="pyarrow").transform(table)
    assert isinstance(arrow, pa.Table) and arrow.column_names == ["load", "temp"]
    polars = est.set_output(transform="polars").transform(table)
    assert polars.columns == ["load", "temp"]
    with pytest.raises(seqscale.FeatureMismatchError, match="feature names should match"):
        est.transform(pa.table({"temp": [1.0], "load": [2.0]}))


def test_set_output_unknown_container_is_refused():
    with pytest.raises(seqscale.ParameterError, match="xarray"):
        seqscale.StandardScaler().set_output(transform="xarray")


# ----------------------------------------------------------------------------- polars lazy
@pytest.fixture
def panel():
    rng = np.random.default_rng(3)
    n = 30_000
    a = 1e9 + rng.standard_normal(n)  # far from zero: the one-pass variance would lose digits
    a[::101] = np.nan
    return pl.DataFrame({"id": rng.integers(0, 7, n), "a": a, "b": rng.gamma(2.0, 3.0, n)})


def _close_moments(lazy, eager):
    for field in ("count", "mean", "min", "max"):
        np.testing.assert_allclose(getattr(lazy, field), getattr(eager, field), rtol=1e-12)
    np.testing.assert_allclose(lazy.m2, eager.m2, rtol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_lazy_in_lazy_out(panel, method):
    values = panel.drop("id")
    est = method().fit(values.lazy())
    eager = method().fit(values)
    _close_moments(est.stats_, eager.stats_)
    assert list(est.feature_names_in_) == ["a", "b"]
    out = est.transform(values.lazy())
    assert isinstance(out, pl.LazyFrame)
    collected = out.collect()
    assert collected.columns == ["a", "b"]
    np.testing.assert_allclose(collected.to_numpy(), eager.transform(values).to_numpy(), rtol=1e-9, atol=1e-6)
    back = est.inverse_transform(out).collect()
    np.testing.assert_allclose(back.to_numpy(), values.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("method", [seqscale.StandardScaler, seqscale.MinMaxScaler])
def test_lazy_per_series(panel, method):
    est = method().fit(panel.lazy(), groups="id")
    eager = method().fit(panel, groups="id")
    np.testing.assert_array_equal(est.series_, eager.series_)
    _close_moments(est.series_stats_, eager.series_stats_)
    out = est.transform(panel.lazy(), groups="id")
    assert isinstance(out, pl.LazyFrame)
    collected = out.collect()
    assert collected.columns == ["id", "a", "b"] and collected["id"].equals(panel["id"])
    np.testing.assert_allclose(
        collected.drop("id").to_numpy(), eager.transform(panel, groups="id").drop("id").to_numpy(), atol=1e-6
    )


def test_lazy_plan_is_expressions_not_data(panel):
    est = seqscale.StandardScaler().fit(panel.lazy(), groups="id")
    plan = est.transform(panel.lazy(), groups="id").explain()
    assert "replace_strict" in plan or "replace" in plan


def test_lazy_unseen_series(panel):
    est = seqscale.StandardScaler().fit(panel.filter(pl.col("id") < 5).lazy(), groups="id")
    with pytest.raises(seqscale.InputError, match=r"\[5, 6\]"):
        est.transform(panel.lazy(), groups="id")
    est = seqscale.StandardScaler(unseen="pooled").fit(panel.filter(pl.col("id") < 5).lazy(), groups="id")
    out = est.transform(panel.lazy(), groups="id").collect()
    new = panel.with_row_index().filter(pl.col("id") == 6)
    pooled = seqscale.StandardScaler().fit(panel.filter(pl.col("id") < 5).drop("id"))
    expected = pooled.transform(new.select("a", "b")).to_numpy()
    np.testing.assert_allclose(out[new["index"].to_list()].select("a", "b").to_numpy(), expected, atol=1e-6)


def test_lazy_clip_and_refusals(panel):
    values = panel.drop("id")
    est = seqscale.MinMaxScaler(clip=True).fit(values.head(100).lazy())
    out = est.transform(values.lazy()).collect()
    assert np.nanmin(out.to_numpy()) >= 0.0 and np.nanmax(out.to_numpy()) <= 1.0
    with pytest.raises(seqscale.ParameterError, match="needs the data"):
        seqscale.MinMaxScaler(out_of_range="error").fit(values.lazy()).transform(values.lazy())
    with pytest.raises(seqscale.InputError, match=r"differ from the fitted features"):
        est.transform(values.select("b", "a").lazy())
    with pytest.raises(seqscale.InputTypeError, match="'s'"):
        seqscale.StandardScaler().fit(pl.LazyFrame({"s": ["x", "y"]}))


def test_lazy_real_panel_equals_scikit_learn_per_firm():
    grunfeld = load_dataset("grunfeld")
    columns = ["invest", "value", "capital"]
    lazy = pl.from_pandas(grunfeld[["firm", *columns]]).lazy()
    est = seqscale.StandardScaler().fit(lazy, groups="firm")
    out = est.transform(lazy, groups="firm").collect().to_pandas()
    for firm, rows in grunfeld.groupby("firm"):
        ref = SkStandardScaler().fit(rows[columns])
        k = list(est.series_).index(firm)
        np.testing.assert_allclose(est.mean_[k], ref.mean_, rtol=1e-13)
        np.testing.assert_allclose(est.scale_[k], ref.scale_, rtol=1e-13)
        np.testing.assert_allclose(out.loc[rows.index, columns], ref.transform(rows[columns]), atol=1e-12)


# ----------------------------------------------------------------------------- polars names
def test_one_hot_encoder_keeps_polars_names():
    df = pl.DataFrame({"quarter": [1, 2, 1, 4], "shop": ["a", "b", "b", "a"]})
    enc = seqscale.OneHotEncoder().fit(df)
    assert list(enc.get_feature_names_out()) == [
        "quarter=1",
        "quarter=2",
        "quarter=4",
        "shop=a",
        "shop=b",
    ]
    np.testing.assert_array_equal(enc.transform(df)[:, :3], [[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]])
    out = seqscale.OneHotEncoder().set_output(transform="polars").fit_transform(df.to_arrow())
    assert out.columns[0] == "quarter=1"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_write_table_takes_polars(tmp_path, suffix):
    df = pl.DataFrame({"t": [1, 2, 3], "x": [0.1, 1 / 3, 2.5]})
    path = write_table(df, tmp_path / f"f{suffix}")
    back = read_table(path)
    assert list(back.columns) == ["t", "x"]
    assert back["x"].tolist() == [0.1, 1 / 3, 2.5]
    with pytest.raises(seqscale.InputTypeError, match="collect"):
        write_table(df.lazy(), tmp_path / f"g{suffix}")
    assert not (tmp_path / f"g{suffix}").exists()
