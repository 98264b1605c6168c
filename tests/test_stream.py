"""Streaming files: fit_file equals the in-memory fit; transform_file is exact and atomic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import seqscale
from seqscale.core.stats import Moments
from seqscale.errors import DataFileError, InputTypeError, ParameterError
from seqscale.files import io, stream
from seqscale.scalers import coefficients

N_ROWS = 300_000
NUMERIC = ["a", "b", "c", "d"]
METHODS = {
    "minmax": seqscale.MinMaxScaler,
    "standard": seqscale.StandardScaler,
    "maxabs": seqscale.MaxAbsScaler,
}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    out = pd.DataFrame(
        {
            "a": rng.normal(1e6, 3.0, N_ROWS),
            "site": rng.choice(["north", "south, east", 'q"x'], N_ROWS),
            "b": rng.standard_cauchy(N_ROWS),
            "c": rng.exponential(1e-6, N_ROWS),
            "d": rng.normal(0.0, 1.0, N_ROWS) * 10.0 ** rng.integers(-30, 30, N_ROWS),
        }
    )
    out.loc[rng.random(N_ROWS) < 0.01, "b"] = np.nan
    return out


@pytest.fixture(scope="module")
def files(frame, tmp_path_factory):
    folder = tmp_path_factory.mktemp("stream")
    return {
        "parquet": io.write_table(frame, folder / "data.parquet"),
        "csv": io.write_table(frame, folder / "data.csv"),
    }


def _same_fit(got, want) -> None:
    for field in ("count", "mean", "m2", "min", "max"):
        np.testing.assert_allclose(
            getattr(got.stats_, field), getattr(want.stats_, field), rtol=1e-12, err_msg=field
        )
    for attr in ("shift", "scale", "offset"):
        np.testing.assert_allclose(
            getattr(got.affine_, attr), getattr(want.affine_, attr), rtol=1e-12, err_msg=attr
        )
    np.testing.assert_array_equal(got.n_samples_seen_, want.n_samples_seen_)  # per feature with NaN
    assert list(got.feature_names_in_) == list(want.feature_names_in_)


@pytest.mark.parametrize("kind", ["parquet", "csv"])
@pytest.mark.parametrize("method", sorted(METHODS))
def test_fit_file_equals_in_memory(files, frame, kind, method):
    est = stream.fit_file(files[kind], method, batch_size=25_000)
    assert list(est.feature_names_in_) == NUMERIC  # the text column is skipped
    _same_fit(est, METHODS[method]().fit(frame[NUMERIC]))


def test_fit_file_params_columns_and_errors(files, frame):
    est = stream.fit_file(
        files["parquet"], "minmax", columns=["c", "a"], batch_size=70_000, feature_range=(-1, 1)
    )
    _same_fit(est, seqscale.MinMaxScaler(feature_range=(-1, 1)).fit(frame[["c", "a"]]))
    with pytest.raises(InputTypeError, match="site"):
        stream.fit_file(files["csv"], columns=["a", "site"])
    with pytest.raises(DataFileError, match="unknown"):
        stream.fit_file(files["parquet"], columns=["nope"])
    with pytest.raises(ParameterError, match="method"):
        stream.fit_file(files["parquet"], "zscore")


def test_fit_file_robust(tmp_path, frame):
    small = frame.iloc[:60_000]
    path = io.write_table(small, tmp_path / "small.parquet")
    est = stream.fit_file(path, "robust", batch_size=7_000)
    ref = seqscale.RobustScaler().fit(small[NUMERIC])
    np.testing.assert_array_equal(est.center_, ref.center_)
    np.testing.assert_allclose(est.scale_, ref.scale_, rtol=1e-12)


def test_fit_file_progress(files, capsys):
    stream.fit_file(files["parquet"], batch_size=100_000)
    assert capsys.readouterr() == ("", "")  # silent unless asked
    est = stream.fit_file(files["parquet"], "standard", batch_size=100_000, progress=True)
    assert est.n_samples_seen_[0] == N_ROWS and est.n_samples_seen_[1] < N_ROWS  # "b" holds NaN
    out, shown = capsys.readouterr()
    assert out == ""  # the bar is on stderr: stdout keeps only results
    name = Path(files["parquet"]).name
    assert f"fit {name}" in shown, shown  # the bar names the file
    assert f"{N_ROWS}/{N_ROWS}" in shown, shown  # and ends with every row counted


def test_csv_progress_counts_bytes_of_the_file(files, tmp_path, capsys):
    import re

    from rich.filesize import decimal

    scaler = stream.fit_file(files["csv"], batch_size=40_000, progress=True)
    out, shown = capsys.readouterr()
    assert out == "" and f"fit {Path(files['csv']).name}" in shown
    size = decimal(Path(files["csv"]).stat().st_size)  # e.g. "27.9 MB": the total is the file size
    done = re.search(r"([\d.,]+)/([\d.,]+ [kMG]?B)", shown)
    assert done is not None and done.group(2) == size and size.startswith(done.group(1)), shown
    stream.transform_file(scaler, files["csv"], tmp_path / "out.csv", batch_size=40_000, progress=True)
    out, shown = capsys.readouterr()
    assert out == "" and "data.csv -> out.csv" in shown and size.split()[1] in shown


def test_fit_file_default_method_is_the_command_line_default(files, frame):
    from typer.testing import CliRunner

    from seqscale.cli.app import app

    est = stream.fit_file(files["parquet"], columns=NUMERIC)
    assert isinstance(est, seqscale.MinMaxScaler)
    _same_fit(est, seqscale.MinMaxScaler().fit(frame[NUMERIC]))
    coef = Path(files["parquet"]).parent / "default.json"
    columns = [part for name in NUMERIC for part in ("--column", name)]
    args = ["fit", str(files["parquet"]), "-o", str(coef), *columns]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert seqscale.load(coef).method == est.method == "minmax"


@pytest.mark.parametrize("source", ["parquet", "csv"])
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_transform_file_exact(files, frame, tmp_path, source, suffix):
    scaler = seqscale.StandardScaler().fit(frame[NUMERIC])
    out = stream.transform_file(scaler, files[source], tmp_path / f"out{suffix}", batch_size=40_000)
    got = io.read_table(out)
    assert list(got.columns) == list(frame.columns)
    pd.testing.assert_series_equal(got["site"], frame["site"], check_dtype=False)
    np.testing.assert_array_equal(got[NUMERIC].to_numpy(), scaler.transform(frame[NUMERIC]))
    back = stream.transform_file(scaler, out, tmp_path / f"back{suffix}", inverse=True)
    np.testing.assert_array_equal(
        io.read_table(back)[NUMERIC].to_numpy(), scaler.inverse_transform(got[NUMERIC])
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"out{suffix}", f"back{suffix}"])


def test_csv_float_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(5)
    values = rng.normal(size=50_000) * 10.0 ** rng.integers(-300, 300, 50_000)
    special = [0.1, 1 / 3, 5e-324, 1.7976931348623157e308, -0.0, 1e16, 2.0**53 + 2, np.nan]
    x = np.concatenate([values, special])
    source = io.write_table(pd.DataFrame({"x": x}), tmp_path / "x.parquet")
    identity = seqscale.StandardScaler(mean=0.0, std=1.0).fit(x[:, None])
    out = stream.transform_file(identity, source, tmp_path / "x.csv", columns=["x"])
    back = io.read_table(out)["x"].to_numpy()
    np.testing.assert_array_equal(back, x)
    want = identity.transform(x[:, None]).ravel()
    np.testing.assert_array_equal(np.signbit(back), np.signbit(want))  # bit for bit, zeros too


def test_transform_file_subset_and_nulls(tmp_path):
    table = pa.table({"y": pa.array([1.0, None, 3.0]), "id": ["a", "b", "c"]})
    pq.write_table(table, tmp_path / "pred.parquet")
    fitted = pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 4.0]})
    scaler = seqscale.MinMaxScaler().fit(fitted)
    out = stream.transform_file(scaler, tmp_path / "pred.parquet", tmp_path / "y.parquet", inverse=True)
    result = pq.read_table(out)
    assert result.column("y").to_pylist() == [4.0, None, 12.0]
    assert result.column("id").to_pylist() == ["a", "b", "c"]


def test_transform_file_checksums(files, frame, tmp_path):
    scaler = seqscale.MaxAbsScaler().fit(frame[NUMERIC])
    out = stream.transform_file(scaler, files["parquet"], tmp_path / "o.parquet", batch_size=100_000)
    handle = pq.ParquetFile(out, page_checksum_verification=True)
    assert handle.metadata.num_rows == N_ROWS
    handle.read()


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_failure_midway_leaves_nothing(files, frame, tmp_path, monkeypatch, suffix):
    scaler = seqscale.StandardScaler().fit(frame[NUMERIC])
    real = stream._open_writer

    class Failing:
        def __init__(self, writer):
            self.writer, self.calls = writer, 0

        def write_batch(self, batch):
            self.calls += 1
            if self.calls > 2:
                raise RuntimeError("disk full")
            self.writer.write_batch(batch)

        def close(self):
            self.writer.close()

    monkeypatch.setattr(stream, "_open_writer", lambda *a: Failing(real(*a)))
    with pytest.raises(RuntimeError, match="disk full"):
        stream.transform_file(scaler, files["parquet"], tmp_path / f"o{suffix}", batch_size=25_000)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_replaced_atomically(files, frame, tmp_path, monkeypatch):
    scaler = seqscale.StandardScaler().fit(frame[NUMERIC])
    target = tmp_path / "o.parquet"
    target.write_bytes(b"old content")
    monkeypatch.setattr(stream, "_open_writer", _failing_open)
    with pytest.raises(RuntimeError):
        stream.transform_file(scaler, files["parquet"], target, batch_size=50_000)
    assert target.read_bytes() == b"old content"
    assert [p.name for p in tmp_path.iterdir()] == ["o.parquet"]
    monkeypatch.undo()
    stream.transform_file(scaler, files["parquet"], target, batch_size=50_000)
    np.testing.assert_array_equal(io.read_table(target)[NUMERIC].to_numpy(), scaler.transform(frame[NUMERIC]))
    assert [p.name for p in tmp_path.iterdir()] == ["o.parquet"]


def _failing_open(*args):
    raise RuntimeError("cannot open writer")


def test_transform_file_errors(files, frame, tmp_path):
    scaler = seqscale.StandardScaler().fit(frame[NUMERIC])
    with pytest.raises(DataFileError, match="extension"):
        stream.transform_file(scaler, files["parquet"], tmp_path / "o.xlsx")
    with pytest.raises(DataFileError, match="does not exist"):
        stream.transform_file(scaler, files["parquet"], tmp_path / "missing" / "o.csv")
    with pytest.raises(seqscale.NotFittedError):
        stream.transform_file(seqscale.StandardScaler(), files["parquet"], tmp_path / "o.csv")
    strict = seqscale.MinMaxScaler(out_of_range="error").fit(frame[NUMERIC].iloc[:1000])
    with pytest.raises(seqscale.OutOfRangeError, match="first at row"):
        stream.transform_file(strict, files["parquet"], tmp_path / "o.csv", batch_size=50_000)
    assert list(tmp_path.iterdir()) == []


def test_moments_fold_matches_batches(files, frame):
    est = stream.fit_file(files["csv"], batch_size=25_000)
    np.testing.assert_allclose(est.stats_.m2, Moments.from_array(frame[NUMERIC].to_numpy()).m2, rtol=1e-12)


# ---------------------------------------------------------------------------- per series
@pytest.fixture(scope="module")
def panel_file(tmp_path_factory):
    """A panel of 2,000 series in random row order, in row groups much smaller than the file."""
    rng = np.random.default_rng(5)
    n = 60_000
    ids = rng.integers(0, 2_000, n)
    frame = pd.DataFrame(
        {
            "id": np.char.add("s", ids.astype(str)).astype(object),
            "load": rng.normal(500.0, 20.0, n) + ids,
            "site": rng.choice(["a", "b"], n),
            "temp": rng.gamma(2.0, 3.0, n),
        }
    )
    frame.loc[rng.random(n) < 0.02, "temp"] = np.nan
    folder = tmp_path_factory.mktemp("panel")
    path = folder / "panel.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=4_000)
    csv_frame = frame.assign(id=ids)  # integer ids in a CSV: read back as numbers
    return frame, path, csv_frame, io.write_table(csv_frame, folder / "panel.csv")


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_fit_file_per_series_equals_in_memory(panel_file, tmp_path, method, kind):
    frame, parquet, csv_frame, csv = panel_file
    data, path = (frame, parquet) if kind == "parquet" else (csv_frame, csv)
    got = stream.fit_file(path, method, groups="id", batch_size=3_000)
    want = METHODS[method]().fit(data[["id", "load", "temp"]], groups="id")
    assert list(got.feature_names_in_) == ["load", "temp"]
    np.testing.assert_array_equal(got.series_, want.series_)  # same ids, same order
    for field in ("count", "mean", "m2", "min", "max"):
        np.testing.assert_allclose(
            getattr(got.series_stats_, field), getattr(want.series_stats_, field), rtol=1e-13
        )
    for attr in ("shift", "scale", "offset"):
        np.testing.assert_allclose(getattr(got.affine_, attr), getattr(want.affine_, attr), rtol=1e-13)
    np.testing.assert_array_equal(got.n_samples_seen_, want.n_samples_seen_)
    out = stream.transform_file(got, path, tmp_path / "out.parquet", groups="id", batch_size=7_000)
    back = io.read_table(out)
    expected = want.transform(data[["id", "load", "temp"]], groups="id")
    np.testing.assert_allclose(
        back[["load", "temp"]].to_numpy(), expected[["load", "temp"]].to_numpy(), rtol=1e-12, atol=1e-12
    )
    assert back["site"].tolist() == data["site"].tolist()  # other columns pass through


def test_per_series_file_unseen_policy_and_errors(panel_file, tmp_path):
    frame, path, _, _ = panel_file
    train = tmp_path / "train.parquet"
    io.write_table(frame[frame["id"] != "s7"].reset_index(drop=True), train)
    strict = stream.fit_file(train, "standard", groups="id")
    with pytest.raises(seqscale.UnseenSeriesError, match="s7"):
        stream.transform_file(strict, path, tmp_path / "x.parquet", groups="id")
    assert not (tmp_path / "x.parquet").exists()  # nothing partial left
    pooled = stream.fit_file(train, "standard", groups="id", unseen="pooled")
    out = io.read_table(stream.transform_file(pooled, path, tmp_path / "y.parquet", groups="id"))
    want = pooled.transform(frame[["id", "load", "temp"]], groups="id")
    np.testing.assert_allclose(
        out[["load", "temp"]].to_numpy(), want[["load", "temp"]].to_numpy(), rtol=1e-12
    )
    with pytest.raises(ParameterError, match="groups="):
        stream.transform_file(pooled, path, tmp_path / "z.parquet")
    with pytest.raises(DataFileError, match="'nope'"):
        stream.fit_file(path, "standard", groups="nope")
    own = stream.fit_file(train, "meanabs", groups="id", unseen="own")  # a batch: part of a series
    with pytest.raises(seqscale.UnseenSeriesError, match=r"'s7'.*file batch holds only some"):
        stream.transform_file(own, path, tmp_path / "o.parquet", groups="id", batch_size=5_000)
    seen = io.read_table(stream.transform_file(own, train, tmp_path / "o.parquet", groups="id"))
    want = seqscale.MeanAbsScaler().fit(io.read_table(train)[["id", "load", "temp"]], groups="id")
    expected = want.transform(io.read_table(train)[["id", "load", "temp"]], groups="id")
    np.testing.assert_allclose(
        seen[["load", "temp"]].to_numpy(), expected[["load", "temp"]].to_numpy(), rtol=1e-12
    )


EXTRA = {"robust": seqscale.RobustScaler, "meanabs": seqscale.MeanAbsScaler}


@pytest.mark.parametrize("method", sorted(EXTRA))
@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_per_series_extra_statistics_equal_in_memory(panel_file, tmp_path, method, kind):
    """Robust's quantile sketches and meanabs' mean of |x|, per series over 20 batches (each
    series' rows spread over most of them, in random order), merged by id: robust equals the
    in-memory quantiles bit for bit (the sketch is exact below 200,000 values per series),
    meanabs to 1e-13."""
    frame, parquet, csv_frame, csv = panel_file
    data, path = (frame, parquet) if kind == "parquet" else (csv_frame, csv)
    got = stream.fit_file(path, method, groups="id", batch_size=3_000, unseen="pooled")
    want = EXTRA[method](unseen="pooled").fit(data[["id", "load", "temp"]], groups="id")
    np.testing.assert_array_equal(got.series_, want.series_)
    tol = {"rtol": 0, "atol": 0} if method == "robust" else {"rtol": 1e-13}
    for attr in ("shift", "scale", "offset"):
        np.testing.assert_allclose(getattr(got.affine_, attr), getattr(want.affine_, attr), **tol)
        np.testing.assert_allclose(getattr(got.fallback_, attr), getattr(want.fallback_, attr), **tol)
    np.testing.assert_allclose(got.scale_, want.scale_, **tol)
    if method == "robust":
        assert got.exact_ and got.to_dict()["exact"] is True
        medians = data.groupby("id")[["load", "temp"]].median().loc[got.series_]
        np.testing.assert_array_equal(got.center_, medians.to_numpy())
    saved = coefficients.from_dict(got.to_dict())  # the coefficient file of a streamed fit
    np.testing.assert_allclose(saved.affine_.scale, want.affine_.scale, **tol)
    out = stream.transform_file(got, path, tmp_path / "out.csv", groups="id", batch_size=7_000)
    back = io.read_table(out)
    expected = want.transform(data[["id", "load", "temp"]], groups="id")
    np.testing.assert_allclose(
        back[["load", "temp"]].to_numpy(), expected[["load", "temp"]].to_numpy(), rtol=1e-12, atol=1e-12
    )


def test_per_series_robust_file_with_weights(panel_file):
    frame, path, _, _ = panel_file
    weighted = frame.assign(w=np.arange(len(frame)) % 4)  # whole weights, zeros included
    file = path.with_name("weighted.parquet")
    io.write_table(weighted, file)
    got = stream.fit_file(file, "robust", groups="id", sample_weight="w", batch_size=5_000)
    want = seqscale.RobustScaler().fit(
        weighted[["id", "load", "temp"]], groups="id", sample_weight=weighted["w"].to_numpy()
    )
    np.testing.assert_array_equal(got.series_, want.series_)
    np.testing.assert_array_equal(got.affine_.shift, want.affine_.shift)
    np.testing.assert_array_equal(got.affine_.scale, want.affine_.scale)


def test_fit_file_meanabs_through_the_registry(files, frame):
    got = stream.fit_file(files["parquet"], seqscale.MeanAbsScaler(), columns=NUMERIC, batch_size=70_000)
    want = seqscale.MeanAbsScaler().fit(frame[NUMERIC])
    for attr in ("shift", "scale", "offset"):
        np.testing.assert_allclose(getattr(got.affine_, attr), getattr(want.affine_, attr), rtol=1e-13)
