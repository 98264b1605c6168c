"""Dask engine: tree-reduced statistics and lazy transforms equal the in-memory results."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import seqscale
from seqscale.core.stats import Moments
from seqscale.errors import InputTypeError, OutOfRangeError, ParameterError

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from seqscale.engines import dask as sd  # noqa: E402

SCALERS = [seqscale.MinMaxScaler, seqscale.StandardScaler, seqscale.MaxAbsScaler]
FIELDS = ("count", "mean", "m2", "min", "max")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def X(client):
    """(200_000, 8) in 20_000-row chunks, generated on the workers (no data in the graph)."""
    rng = da.random.default_rng(7)
    spread = np.array([1, 10, 1e-3, 1e6, 5, 2, 3, 7])
    x = rng.normal(size=(200_000, 8), chunks=(20_000, 8)) * spread + np.arange(8) * 100
    x = da.where(rng.random(size=x.shape, chunks=x.chunks) < 0.01, np.nan, x)
    return x.persist()


@pytest.fixture(scope="module")
def data(X):
    return X.compute()


@pytest.fixture(scope="module")
def cube():
    rng = np.random.default_rng(3)
    return rng.gamma(2.0, 3.0, size=(1_000, 24, 3)) + 50.0


def _assert_moments(got: Moments, want: Moments) -> None:
    for f in FIELDS:
        np.testing.assert_allclose(getattr(got, f), getattr(want, f), rtol=1e-12, err_msg=f)


def _assert_same_fit(got, want) -> None:
    for attr in ("shift", "scale", "offset"):
        np.testing.assert_allclose(
            getattr(got.affine_, attr), getattr(want.affine_, attr), rtol=1e-12, err_msg=attr
        )
    np.testing.assert_allclose(got.scale_, want.scale_, rtol=1e-12)
    _assert_moments(got.stats_, want.stats_)
    np.testing.assert_array_equal(got.n_samples_seen_, want.n_samples_seen_)
    assert got.n_features_in_ == want.n_features_in_


def test_is_dask_does_not_import_dask():
    code = (
        "import sys, numpy as np, pandas as pd, seqscale\n"
        "from seqscale.engines.dask import is_dask\n"
        "assert not is_dask(np.zeros(3)) and not is_dask(pd.DataFrame({'a': [1]}))\n"
        "assert 'dask' not in sys.modules, 'dask imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_is_dask(X):
    assert sd.is_dask(X) and sd.is_dask(dd.from_pandas(pd.DataFrame({"a": [1.0]}), npartitions=1))
    assert not sd.is_dask(np.zeros(2))


def test_fit_moments_equals_in_memory(client, data, X):
    _assert_moments(sd.fit_moments(X), Moments.from_array(data))


def test_fit_moments_uneven_and_feature_split_chunks(client, data):
    Xs = da.from_array(data[:123_457], chunks=((50_000, 1, 30_000, 43_456), (3, 5)))
    _assert_moments(sd.fit_moments(Xs), Moments.from_array(data[:123_457]))


def test_reduction_is_a_tree(X):
    graph = sd._moments_graph(X, None)
    deps = graph.__dask_graph__().get_all_dependencies()

    def merge_depth(key) -> int:
        if "merge_packed" not in str(key):
            return 0
        return 1 + max(merge_depth(d) for d in deps[key])

    assert merge_depth(graph.key) == int(np.ceil(np.log2(X.numblocks[0])))  # 10 chunks: 4 rounds


@pytest.mark.parametrize("cls", SCALERS)
def test_fit_and_transform_2d(client, data, X, cls):
    est = sd.fit(cls(), X)
    ref = cls().fit(data)
    _assert_same_fit(est, ref)
    Y = sd.transform(est, X)
    assert sd.is_dask(Y) and Y.chunks == X.chunks and Y.dtype == np.float64
    np.testing.assert_allclose(Y.compute(), est.transform(data), rtol=1e-12)
    back = sd.transform(est, Y, inverse=True)
    assert sd.is_dask(back)
    want = est.inverse_transform(est.transform(data))
    np.testing.assert_allclose(back.compute(), want, rtol=1e-12)


@pytest.mark.parametrize("cls", SCALERS)
def test_fit_and_transform_3d(client, cube, cls):
    X3 = da.from_array(cube, chunks=(128, 24, 3))
    est = sd.fit(cls(), X3)
    _assert_same_fit(est, cls().fit(cube))
    Y = sd.transform(est, X3)
    assert Y.shape == cube.shape and Y.chunks == X3.chunks
    np.testing.assert_allclose(Y.compute(), est.transform(cube), rtol=1e-12)


def test_transform_keeps_feature_split_chunks_and_float32(client, data):
    x32 = data[:50_000].astype(np.float32)
    X32 = da.from_array(x32, chunks=(10_000, (5, 3)))
    est = sd.fit(seqscale.StandardScaler(), X32)
    _assert_same_fit(est, seqscale.StandardScaler().fit(x32))
    Y = sd.transform(est, X32)
    assert Y.dtype == np.float32 and Y.chunks == X32.chunks
    np.testing.assert_array_equal(Y.compute(), est.transform(x32))


@pytest.mark.parametrize("cls", SCALERS)
def test_dataframe(client, data, cls):
    frame = pd.DataFrame(data[:40_000], columns=[f"c{i}" for i in range(8)])
    frame.index = frame.index + 1_000
    ddf = dd.from_pandas(frame, npartitions=4)
    est = sd.fit(cls(), ddf)
    ref = cls().fit(frame)
    _assert_same_fit(est, ref)
    assert list(est.feature_names_in_) == list(frame.columns)
    out = sd.transform(est, ddf)
    assert sd.is_dask(out) and out.npartitions == 4
    assert list(out.columns) == list(frame.columns) and (out.dtypes == np.float64).all()
    got = out.compute()
    want = est.transform(frame)
    pd.testing.assert_index_equal(got.index, want.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12)
    back = sd.transform(est, out, inverse=True).compute()
    np.testing.assert_allclose(back.to_numpy(), est.inverse_transform(want).to_numpy(), rtol=1e-12)


def test_dataframe_rejects_text_column(client):
    ddf = dd.from_pandas(pd.DataFrame({"a": [1.0, 2.0], "s": ["x", "y"]}), npartitions=1)
    with pytest.raises(InputTypeError, match="'s'"):
        sd.fit(seqscale.StandardScaler(), ddf)


def test_robust_scaler_via_sketches(client, data, X):
    est = sd.fit(seqscale.RobustScaler(), X)
    ref = seqscale.RobustScaler().fit(data)
    np.testing.assert_allclose(est.center_, ref.center_, rtol=1e-12)
    np.testing.assert_allclose(est.scale_, ref.scale_, rtol=1e-12)
    assert est.exact_


def test_mask_value_padding_is_ignored_and_kept(client, cube):
    padded = cube.copy()
    padded[::3, -5:, :] = -1.0
    X3 = da.from_array(padded, chunks=(100, 24, 3))
    est = sd.fit(seqscale.MinMaxScaler(mask_value=-1.0), X3)
    ref = seqscale.MinMaxScaler(mask_value=-1.0).fit(padded)
    _assert_same_fit(est, ref)
    np.testing.assert_array_equal(sd.transform(est, X3).compute(), ref.transform(padded))


def test_out_of_range_clip_and_error(client, data, X):
    est = sd.fit(seqscale.MinMaxScaler(out_of_range="clip"), X[:100_000])
    clipped = sd.transform(est, X).compute()
    np.testing.assert_array_equal(clipped, est.transform(data))
    strict = sd.fit(seqscale.MinMaxScaler(out_of_range="error"), X[:100_000])
    lazy = sd.transform(strict, X)  # building the graph does not check anything
    with pytest.raises(OutOfRangeError, match=r"first at row 1\d{5}\b"):
        lazy.compute()


def test_groups_and_unfitted_are_refused(X):
    with pytest.raises(ParameterError, match="groups"):
        sd.fit(seqscale.StandardScaler(), X, groups=np.zeros(X.shape[0]))
    with pytest.raises(seqscale.NotFittedError):
        sd.transform(seqscale.StandardScaler(), X)
    with pytest.raises(InputTypeError):
        sd.fit_moments(np.zeros((3, 2)))
