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


def test_statistics_are_a_dask_reduction(X):
    """One task per chunk, then dask's own tree of combine tasks (``dask.array.reduction``)."""
    import dask

    graph = sd._statistics_graph(X, None, None, None)
    assert isinstance(graph, da.Array)
    names = {key[0] if isinstance(key, tuple) else key for key in dict(graph.__dask_graph__())}
    assert any(n.startswith("seqscale-statistics") for n in names)
    with dask.config.set(scheduler="sync"):
        small = da.from_array(np.arange(40.0).reshape(20, 2), chunks=(1, 2))  # 20 chunks
        tree = sd._array_reduction(small, None, None, None)
        assert len(dict(tree.__dask_graph__())) > 20 + 1  # chunks, combine levels, aggregate
        got = tree.compute()
    want = Moments.from_array(np.arange(40.0).reshape(20, 2))
    _assert_moments(got.moments, want)
    assert got.n_rows == 20


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


def test_unfitted_and_bad_groups_are_refused(X):
    with pytest.raises(ParameterError, match="groups"):
        sd.fit(seqscale.StandardScaler(), X, groups=np.zeros(X.shape[0]))
    with pytest.raises(seqscale.NotFittedError):
        sd.transform(seqscale.StandardScaler(), X)
    with pytest.raises(InputTypeError):
        sd.fit_moments(np.zeros((3, 2)))


# ---------------------------------------------------------------------------- per series
@pytest.fixture(scope="module")
def panel():
    """3,000 series of two features in random row order (ids as text)."""
    rng = np.random.default_rng(9)
    n = 120_000
    codes = rng.integers(0, 3_000, n)
    frame = pd.DataFrame(
        {
            "id": np.char.add("s", codes.astype(str)).astype(object),
            "load": rng.normal(300.0, 10.0, n) + codes,
            "temp": rng.gamma(2.0, 3.0, n),
        }
    )
    frame.loc[rng.random(n) < 0.02, "temp"] = np.nan
    return frame


@pytest.fixture(scope="module")
def panel_ddf(panel):
    """The panel in 7 partitions: every series' rows spread over all of them."""
    return dd.from_pandas(panel, npartitions=7)


def _fit_both(cls, panel_ddf, panel, **params):
    """The scaler fitted per series on Dask and in memory; the same ids in the same order."""
    est = cls(**params).fit(panel_ddf, groups="id")
    want = cls(**params).fit(panel, groups="id")
    np.testing.assert_array_equal(est.series_, want.series_)
    return est, want


def _assert_same_transform(est, want, ddf, frame):
    """``est`` scales the Dask frame as ``want`` scales the pandas one (returns the computed)."""
    got = est.transform(ddf, groups="id").compute()
    np.testing.assert_allclose(
        got[["load", "temp"]].to_numpy(),
        want.transform(frame, groups="id")[["load", "temp"]].to_numpy(),
        rtol=1e-12,
        atol=1e-12,
    )
    return got


@pytest.mark.parametrize("cls", [*SCALERS, seqscale.MinMaxScaler])
def test_per_series_fit_and_transform(client, panel, panel_ddf, cls):
    est, want = _fit_both(cls, panel_ddf, panel)
    for f in FIELDS:
        np.testing.assert_allclose(getattr(est.series_stats_, f), getattr(want.series_stats_, f), rtol=1e-13)
    _assert_same_fit(est, want)
    out = est.transform(panel_ddf, groups="id")
    assert sd.is_dask(out) and out.npartitions == 7
    got = _assert_same_transform(est, want, panel_ddf, panel)
    pd.testing.assert_index_equal(got.index, panel.index)
    assert got["id"].tolist() == panel["id"].tolist()
    back = est.inverse_transform(out, groups="id").compute()
    np.testing.assert_allclose(
        back[["load", "temp"]].to_numpy(), panel[["load", "temp"]].to_numpy(), rtol=1e-12
    )


def test_per_series_integer_ids_weights_and_unseen(client, panel):
    frame = panel.assign(id=panel["id"].str[1:].astype(int), w=np.linspace(0.0, 2.0, len(panel)))
    ddf = dd.from_pandas(frame, npartitions=5)
    est = seqscale.StandardScaler(unseen="pooled").fit(ddf, groups="id", sample_weight="w")
    want = seqscale.StandardScaler(unseen="pooled").fit(
        frame[["id", "load", "temp"]], groups="id", sample_weight=frame["w"].to_numpy()
    )
    np.testing.assert_array_equal(est.series_, want.series_)  # compact integers: sorted
    for attr in ("shift", "scale", "offset"):
        np.testing.assert_allclose(getattr(est.affine_, attr), getattr(want.affine_, attr), rtol=1e-12)
    np.testing.assert_allclose(est.n_samples_seen_, want.n_samples_seen_, rtol=1e-14)  # weight sums
    new = frame[["id", "load", "temp"]].iloc[:1000].assign(id=lambda f: f["id"] + 10_000)  # unseen
    _assert_same_transform(est, want, dd.from_pandas(new, npartitions=2), new)
    strict = seqscale.StandardScaler().fit(ddf[["id", "load", "temp"]], groups="id")
    with pytest.raises(seqscale.UnseenSeriesError):
        strict.transform(dd.from_pandas(new, npartitions=2), groups="id").compute()


def test_per_series_refusals(client, panel_ddf):
    with pytest.raises(ParameterError, match="'nope'"):
        seqscale.StandardScaler().fit(panel_ddf, groups="nope")
    grouped = seqscale.StandardScaler().fit(panel_ddf, groups="id")
    with pytest.raises(ParameterError, match="groups="):
        grouped.transform(panel_ddf[["load", "temp"]])
    plain = seqscale.StandardScaler().fit(panel_ddf[["load", "temp"]])
    with pytest.raises(ParameterError, match="without groups"):
        plain.transform(panel_ddf, groups="id")


@pytest.mark.parametrize("cls", [seqscale.RobustScaler, seqscale.MeanAbsScaler])
def test_per_series_extra_statistics(client, panel, panel_ddf, cls):
    """A method's extra statistic per series (robust's quantile sketches, meanabs' mean of |x|),
    each series' rows spread over every partition, merged by id: robust equals the in-memory
    quantiles bit for bit (exact sketches), meanabs to 1e-13; transform is lazy and equal."""
    est, want = _fit_both(cls, panel_ddf, panel, unseen="median")
    tol = {"rtol": 0, "atol": 0} if cls is seqscale.RobustScaler else {"rtol": 1e-13}
    for attr in ("shift", "scale", "offset"):
        np.testing.assert_allclose(getattr(est.affine_, attr), getattr(want.affine_, attr), **tol)
        np.testing.assert_allclose(getattr(est.fallback_, attr), getattr(want.fallback_, attr), **tol)
    own = cls(unseen="own").fit(dd.from_pandas(panel[panel["id"] != "s5"], npartitions=3), groups="id")
    with pytest.raises(seqscale.UnseenSeriesError, match=r"'s5'.*Dask partition"):
        own.transform(panel_ddf, groups="id").compute()
    if cls is seqscale.RobustScaler:
        assert est.exact_
        medians = panel.groupby("id", sort=False)[["load", "temp"]].median().loc[est.series_]
        np.testing.assert_array_equal(est.center_, medians.to_numpy())
    _assert_same_transform(est, want, panel_ddf, panel)


def test_per_series_robust_weights_padding_and_integer_ids(client, panel):
    frame = panel.assign(id=panel["id"].str[1:].astype(int), w=(np.arange(len(panel)) % 3).astype(float))
    frame.loc[::50, ["load", "temp"]] = -1.0  # padding rows
    ddf = dd.from_pandas(frame.sample(frac=1.0, random_state=2), npartitions=6)
    est = seqscale.RobustScaler(mask_value=-1.0).fit(ddf, groups="id", sample_weight="w")
    shuffled = frame.sample(frac=1.0, random_state=2)
    want = seqscale.RobustScaler(mask_value=-1.0).fit(
        shuffled[["id", "load", "temp"]], groups="id", sample_weight=shuffled["w"].to_numpy()
    )
    np.testing.assert_array_equal(est.series_, want.series_)  # compact integers: sorted
    np.testing.assert_array_equal(est.affine_.shift, want.affine_.shift)
    np.testing.assert_array_equal(est.affine_.scale, want.affine_.scale)
    mean_abs = seqscale.MeanAbsScaler().fit(ddf, groups="id", sample_weight="w")
    ref = seqscale.MeanAbsScaler().fit(
        shuffled[["id", "load", "temp"]], groups="id", sample_weight=shuffled["w"].to_numpy()
    )
    np.testing.assert_allclose(mean_abs.affine_.scale, ref.affine_.scale, rtol=1e-13)


# ---------------------------------------------------------------------------- Series, check
def test_dask_series_in_and_out(client, data):
    values = pd.Series(data[:30_000, 1], name="flow")
    series = dd.from_pandas(values, npartitions=3)
    est = seqscale.StandardScaler().fit(series)
    want = seqscale.StandardScaler().fit(values)
    _assert_same_fit(est, want)
    out = est.transform(series)
    assert sd.is_dask(out) and out.ndim == 1 and out.name == "flow"
    pd.testing.assert_series_equal(out.compute(), want.transform(values), rtol=1e-12)


def test_check_is_a_reduction_equal_to_in_memory(client, data, X):
    est = seqscale.MinMaxScaler().fit(data[:100_000])
    pd.testing.assert_frame_equal(est.check(X), est.check(data), rtol=1e-12)
    frame = pd.DataFrame(data[:40_000], columns=[f"c{i}" for i in range(8)], index=np.arange(40_000) * 2 + 5)
    named = seqscale.StandardScaler().fit(frame.iloc[:10_000])
    got = named.check(dd.from_pandas(frame, npartitions=4))
    pd.testing.assert_frame_equal(got, named.check(frame), rtol=1e-12)
    assert got["first_row"].notna().any()  # index labels of the first value outside


def test_check_does_not_gather_the_data(client):
    """The report of a 4 GB array (generated on the workers) is computed without bringing it to
    the client: only per-chunk counts travel."""
    import dask

    rng = da.random.default_rng(1)
    big = rng.normal(size=(50_000_000, 10), chunks=(1_000_000, 10))
    est = seqscale.StandardScaler().fit(np.random.default_rng(0).normal(size=(1_000, 10)))
    graph = sd._array_reduction(big, None, None, None)  # the same shape of reduction check uses
    assert len(dict(graph.__dask_graph__())) < 200
    with dask.config.set({"distributed.comm.timeouts.connect": "30s"}):
        report = est.check(big[:2_000_000])
    assert int(report["n"].iloc[0]) == 2_000_000 and (report["n_above"] > 0).all()


# ---------------------------------------------------------------------------- separate processes
_NO_SEQSCALE = """
import os, sys
# a worker on a machine without seqscale: its import paths lose the package
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in str(getattr(f, "__module__", "")).lower()]
sys.path[:] = [p for p in sys.path if not os.path.isdir(os.path.join(p or ".", "seqscale"))]
"""


@pytest.mark.slow
def test_cluster_of_separate_processes(tmp_path, panel, panel_ddf):
    """``dask scheduler`` and ``dask worker`` processes started here: the fits equal the in-memory
    ones; a worker that cannot import seqscale is named in one clear error."""
    import os
    import shutil
    import time
    from pathlib import Path

    cli = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
    if cli is None:
        pytest.skip("the dask command line is not installed")
    root = str(Path(seqscale.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    address_file = tmp_path / "scheduler.json"
    common = ["--no-dashboard"]
    procs = [
        subprocess.Popen(
            [
                cli,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--scheduler-file",
                str(address_file),
                *common,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        worker = [cli, "worker", "--scheduler-file", str(address_file), "--nthreads", "1", *common]
        for i in range(2):
            procs.append(
                subprocess.Popen(
                    [*worker, "--name", f"good-{i}"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        with distributed.Client(scheduler_file=str(address_file), timeout=60) as c:
            c.wait_for_workers(2, timeout=120)
            ddf = panel_ddf
            est, want = _fit_both(seqscale.StandardScaler, ddf, panel)
            np.testing.assert_allclose(est.affine_.scale, want.affine_.scale, rtol=1e-13)
            _assert_same_transform(est, want, ddf, panel)
            robust = seqscale.RobustScaler().fit(ddf, groups="id")  # sketches sent between processes
            np.testing.assert_array_equal(
                robust.affine_.scale, seqscale.RobustScaler().fit(panel, groups="id").affine_.scale
            )
            on_workers = {w["name"] for w in c.scheduler_info()["workers"].values()}
            assert on_workers == {"good-0", "good-1"}

            preload = tmp_path / "no_seqscale.py"
            preload.write_text(_NO_SEQSCALE)
            procs.append(
                subprocess.Popen(
                    [*worker, "--name", "bare", "--preload", str(preload)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            c.wait_for_workers(3, timeout=120)
            bare = [a for a, w in c.scheduler_info()["workers"].items() if w["name"] == "bare"]
            with pytest.raises(seqscale.InputError, match="cannot import seqscale") as err:
                seqscale.StandardScaler().fit(ddf[["load", "temp"]])
            assert bare[0] in str(err.value)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.parametrize("cls", [seqscale.MeanAbsScaler, seqscale.RobustScaler])
def test_extra_statistics_through_the_registry(client, data, cls):
    """Methods with a statistic besides the moments (the registry's protocol) reduce on Dask."""
    frame = pd.DataFrame(data[:30_000], columns=[f"c{i}" for i in range(8)])
    ddf = dd.from_pandas(frame, npartitions=5)
    est, want = cls().fit(ddf), cls().fit(frame)
    for attr in ("shift", "scale", "offset"):
        np.testing.assert_allclose(getattr(est.affine_, attr), getattr(want.affine_, attr), rtol=1e-13)
    got = est.transform(ddf).compute()
    np.testing.assert_allclose(got.to_numpy(), want.transform(frame).to_numpy(), rtol=1e-12)
    arr = cls().fit(da.from_array(data[:30_000], chunks=(4_000, 8)))
    np.testing.assert_allclose(arr.affine_.scale, want.affine_.scale, rtol=1e-13)
