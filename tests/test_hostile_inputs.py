"""A hostile user's inputs: no lost file, no silent wrong answer, no traceback.

Outputs that are inputs, processes killed outright, full or read-only disks, devices and huge or
odd JSON given as coefficient, plan or pipeline files, loose types in hand-edited files. Each
mistake is one line on stderr and exit code 2 on the command line (or one ``SeqscaleError`` in
Python), with no output file and no temporary file left behind.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import seqscale
from seqscale.cli.app import app
from seqscale.errors import CoefficientFileError, DataFileError
from seqscale.files import io as sio
from seqscale.util import atomic as _atomic
from seqscale.util import jsonfile as _jsonfile

runner = CliRunner()


def run(*args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=True)


def assert_user_error(result, *words):
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("seqscale: error:"), lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


def frame(n=60):
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "date": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "x": rng.normal(10, 2, n), "y": np.cumsum(rng.normal(size=n)) + 50,
    })  # fmt: skip


PLAN = {
    "format": "seqscale.plan", "version": 1, "time": "date", "id": None, "target": ["y"],
    "task": "regression", "output_activation": "linear", "window": {"n_in": 4, "n_out": 1},
    "per_series": False, "series_features": False,
    "columns": {
        "x": {"role": "input", "log": False, "difference": None, "method": "standard", "bounds": None},
        "y": {"role": "target", "log": True, "difference": {"lag": 1, "order": 1}, "method": "minmax",
              "bounds": None},
    },
}  # fmt: skip


@pytest.fixture
def folder(tmp_path):
    sio.write_table(frame(), tmp_path / "data.csv")
    (tmp_path / "plan.json").write_text(json.dumps(PLAN))
    seqscale.MinMaxScaler().fit(frame()[["x", "y"]]).save(tmp_path / "coef.json")
    return tmp_path


# ------------------------------------------------------------------------ output == input
def _same_file_cases(folder: Path):
    data, plan, coef = folder / "data.csv", folder / "plan.json", folder / "coef.json"
    (folder / "link.csv").symlink_to(data)
    os.link(data, folder / "hard.csv")
    return {
        "transform onto its data": ["transform", data, "-c", coef, "-o", data],
        "transform onto its data via ..": ["transform", data, "-c", coef, "-o", folder / "." / "data.csv"],
        "transform onto a symlink of its data": ["transform", data, "-c", coef, "-o", folder / "link.csv"],
        "transform onto a hard link of its data": ["transform", data, "-c", coef, "-o", folder / "hard.csv"],
        "inverse onto its data": ["inverse", data, "-c", coef, "-o", data],
        "fit onto its plan": ["fit", data, "--plan", plan, "-o", plan],
        "fit onto its data": ["fit", folder / "c.json", "-o", folder / "c.json"],
        "advise --plan onto its data":
            ["advise", folder / "p.json", "--target", "y", "--plan", folder / "p.json"],
        "advise --report onto its data": ["advise", data, "--target", "y", "--report", data],
    }  # fmt: skip


def test_output_equal_to_an_input_is_refused(folder):
    (folder / "c.json").write_text("x,y\n1,2\n3,4\n")  # a CSV with a .json name: still an input
    (folder / "p.json").write_text("x,y\n1,2\n3,4\n")
    cases = _same_file_cases(folder)
    for name, args in cases.items():
        before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        result = run(*args)
        if result.exit_code == 2 and "unsupported file extension" in result.stderr:
            continue  # .json data is refused earlier, which also protects it
        assert_user_error(result, "is also an input", "another name")
        after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        assert after == before, name
        assert temp_files(folder) == [], name


def test_transform_file_refuses_its_input_as_output(folder):
    scaler = seqscale.MinMaxScaler().fit(frame()[["x", "y"]])
    before = (folder / "data.csv").read_bytes()
    with pytest.raises(DataFileError, match="is also an input"):
        seqscale.transform_file(scaler, folder / "data.csv", folder / "data.csv")
    assert (folder / "data.csv").read_bytes() == before


# ------------------------------------------------------------------------ kill -9 leftovers
def _killed_writer(target: Path) -> str:
    """Fork a process that writes ``target`` atomically, SIGKILL it midway; its temporary file."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: half a file written, then wait to be killed
        try:
            os.close(read_end)
            with _atomic.atomic_write(target) as handle:
                handle.write("half a file")
                handle.flush()
                os.write(write_end, b"w")
                time.sleep(600)
        finally:
            os._exit(1)
    os.close(write_end)
    try:
        assert os.read(read_end, 1) == b"w"
        own = _atomic.temporary_name(target, pid)
        assert (target.parent / own).exists()
    finally:
        os.close(read_end)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    return own


def test_kill9_of_writers_then_one_clean_write_leaves_no_temporary_file(tmp_path):
    """Five writers killed with SIGKILL while their temporary file exists, then one clean write."""
    target = tmp_path / "coef.json"
    seqscale.MinMaxScaler().fit(frame()[["x"]]).save(target)
    before = target.read_bytes()
    for _ in range(5):
        own = _killed_writer(target)
        # the killed writer left its file; the one killed before was removed when this one started
        assert temp_files(tmp_path) == [own]
        assert target.read_bytes() == before  # never torn
    seqscale.MinMaxScaler().fit(frame()[["y"]]).save(target)
    assert temp_files(tmp_path) == []
    assert seqscale.load(target).feature_names_in_.tolist() == ["y"]


@pytest.mark.slow
def test_kill9_leftovers_are_removed_by_the_next_write(tmp_path):
    rows = 2_000_000
    rng = np.random.default_rng(0)
    table = pa.table({name: rng.standard_normal(rows) for name in "ab"})
    pq.write_table(table, tmp_path / "big.parquet")
    seqscale.MinMaxScaler().fit(table.slice(0, 1000).to_pandas()).save(tmp_path / "coef.json")
    out = tmp_path / "out.parquet"
    command = [sys.executable, "-m", "seqscale.cli", "transform", str(tmp_path / "big.parquet"),
               "-c", str(tmp_path / "coef.json"), "-o", str(out)]  # fmt: skip
    killed = []
    for _ in range(4):
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        own = _atomic.temporary_name(out, proc.pid)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and own not in temp_files(tmp_path):
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.returncode == -signal.SIGKILL and own in temp_files(tmp_path):
            killed.append(own)
            # the killed process left its file; the one killed before it was removed on start
            assert temp_files(tmp_path) == [own]
    assert len(killed) >= 2, killed
    small = tmp_path / "small.parquet"
    pq.write_table(table.slice(0, 100), small)
    result = run("transform", small, "-c", tmp_path / "coef.json", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert temp_files(tmp_path) == []
    assert pq.read_table(out).num_rows == 100


def test_leftover_of_a_live_process_is_kept(tmp_path):
    target = tmp_path / "coef.json"
    alive = tmp_path / _atomic.temporary_name(target, os.getppid())
    alive.write_text("being written")
    seqscale.MinMaxScaler().fit(frame()[["x"]]).save(target)
    assert alive.exists()
    assert seqscale.load(target).n_features_in_ == 1


# ------------------------------------------------------------------------ write failures
def _fails_with(monkeypatch, code):
    def fail(fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(_atomic.os, "fsync", fail)


WRITERS = {
    "fit -o": lambda f: ["fit", f / "data.csv", "--method", "standard", "-o", f / "out.json"],
    "fit --plan -o": lambda f: ["fit", f / "data.csv", "--plan", f / "plan.json", "-o", f / "out.json"],
    "advise --plan": lambda f: ["advise", f / "data.csv", "--target", "y", "--plan", f / "out.json"],
    "advise --report": lambda f: ["advise", f / "data.csv", "--target", "y", "--report", f / "out.json"],
    "transform": lambda f: ["transform", f / "data.csv", "-c", f / "coef.json", "-o", f / "out.json.csv"],
}  # fmt: skip


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize(
    "code, words",
    [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system")],
)
def test_write_failure_is_one_line_naming_the_target(folder, monkeypatch, writer, code, words):
    _fails_with(monkeypatch, code)
    args = WRITERS[writer](folder)
    before = sorted(p.name for p in folder.iterdir())
    line = assert_user_error(run(*args), "cannot write", str(args[-1]), words)
    assert ".tmp" not in line
    assert sorted(p.name for p in folder.iterdir()) == before


@pytest.mark.parametrize("writer", WRITERS)
def test_write_onto_a_folder_or_into_a_missing_folder(folder, writer):
    args = WRITERS[writer](folder)
    Path(args[-1]).mkdir()
    assert_user_error(run(*args), "cannot write", "is a folder")
    Path(args[-1]).rmdir()
    args[-1] = folder / "missing" / "out.json"
    line = assert_user_error(run(*args), "cannot write", f"folder {folder / 'missing'} does not exist")
    assert ".tmp" not in line
    assert not (folder / "missing").exists()
    assert temp_files(folder) == []


# ------------------------------------------------------------------------ JSON files
LOADERS = {
    "coefficient": seqscale.load,
    "plan": seqscale.load_plan,
    "pipeline": seqscale.load_pipeline,
}


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_device_as_a_json_file_is_refused_at_once(loader, device):
    start = time.monotonic()
    with pytest.raises(CoefficientFileError, match="not a regular file"):
        LOADERS[loader](device)
    assert time.monotonic() - start < 2


@pytest.mark.parametrize("loader", LOADERS)
def test_folder_and_fifo_as_a_json_file_are_refused(tmp_path, loader):
    with pytest.raises(CoefficientFileError, match=r"not a regular file|cannot read"):
        LOADERS[loader](tmp_path)
    os.mkfifo(tmp_path / "fifo.json")
    with pytest.raises(CoefficientFileError, match="not a regular file"):
        LOADERS[loader](tmp_path / "fifo.json")  # no writer: must not block


@pytest.mark.parametrize("loader", LOADERS)
def test_json_file_above_the_cap_is_refused(tmp_path, monkeypatch, loader):
    monkeypatch.setattr(_jsonfile, "MAX_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"format": "x", "pad": "a" * 2000}))
    with pytest.raises(CoefficientFileError, match=r"big.json: larger than 0 MiB, the most"):
        LOADERS[loader](path)


def test_cap_covers_a_million_channel_coefficient_file(tmp_path):
    # per-series robust files are the widest (325 MB for 1M channels of 5 features, 200,000
    # series with 6-digit ids): the cap holds three such files
    ids = np.repeat(np.arange(800_000, 801_000), 3)
    values = pd.DataFrame(np.random.default_rng(2).normal(size=(ids.size, 5)), columns=list("abcde"))
    seqscale.RobustScaler().fit(values, groups=ids).save(tmp_path / "r.json")
    per_channel = (tmp_path / "r.json").stat().st_size / 5_000
    assert 250 < per_channel < 400
    assert _jsonfile.MAX_BYTES >= 3 * per_channel * 1_000_000


def _coef_record():
    return seqscale.StandardScaler().fit(frame()[["x", "y"]]).to_dict()


@pytest.mark.parametrize("loader", LOADERS)
def test_json_integer_over_4300_digits_is_refused(tmp_path, loader):
    path = tmp_path / "f.json"
    text = re.sub(r'"version": \d+', '"version": ' + "9" * 5000, json.dumps(_coef_record()), count=1)
    path.write_text(text)
    with pytest.raises(CoefficientFileError, match="an integer of 5000 digits is too long"):
        LOADERS[loader](path)


@pytest.mark.parametrize("loader", LOADERS)
def test_duplicate_keys_are_refused(tmp_path, loader):
    path = tmp_path / "f.json"
    path.write_text(json.dumps(_coef_record()).replace('{"format"', '{"method": "minmax", "format"', 1))
    with pytest.raises(CoefficientFileError, match="key 'method' appears twice"):
        LOADERS[loader](path)


def test_duplicate_key_inside_a_channel_is_refused(tmp_path):
    path = tmp_path / "f.json"
    seqscale.StandardScaler().fit(frame()[["x", "y"]]).save(path)
    path.write_text(path.read_text().replace('"count": 60,', '"count": 60, "count": 7,', 1))
    with pytest.raises(CoefficientFileError, match="key 'count' appears twice"):
        seqscale.load(path)


def test_lone_surrogate_feature_name_is_refused_before_any_output(folder):
    coef = folder / "coef.json"
    text = coef.read_text().replace('"x"', '"\\udc80x"')
    coef.write_text(text)
    with pytest.raises(CoefficientFileError, match=r"features\[0\] holds a lone UTF-16 surrogate"):
        seqscale.load(coef)
    result = run("transform", folder / "data.csv", "-c", coef, "-o", folder / "out.csv")
    assert_user_error(result, "lone UTF-16 surrogate")
    assert not (folder / "out.csv").exists()


def test_surrogate_pair_is_text(tmp_path):
    path = tmp_path / "f.json"
    seqscale.StandardScaler().fit(frame()[["x"]].rename(columns={"x": "\U0001f600"})).save(path)
    path.write_text(path.read_text().replace("\U0001f600", "\\ud83d\\ude00"))
    assert seqscale.load(path).feature_names_in_.tolist() == ["\U0001f600"]


# ------------------------------------------------------------------------ loose coefficient types
LOOSE = [
    ("n_samples_seen", -5, "'n_samples_seen' must be a non-negative integer"),
    ("n_samples_seen", 200.7, "'n_samples_seen' must be a non-negative integer"),
    ("n_samples_seen", "60", "'n_samples_seen' must be a non-negative integer"),
    ("n_samples_seen", True, "'n_samples_seen' must be a non-negative integer"),
    ("n_samples_seen", 3, "'n_samples_seen' is 3 but a feature counts 60"),
    ("named_features", "no", "'named_features' must be true or false"),
    ("named_features", 0, "'named_features' must be true or false"),
    ("exact", "yes", "'exact' must be true or false"),
    ("rank_error", -1, "'rank_error' must be a number between 0 and 1"),
    ("seqscale_version", 3, "'seqscale_version' must be text"),
    ("surprise", 1, "unknown field(s) ['surprise']"),
    ("params.with_mean", "false", "'params.with_mean' must be true or false"),
    ("params.with_std", 0, "'params.with_std' must be true or false"),
    ("params.copy", None, "'params.copy' must be true or false"),
    ("channels.0.scael", 1.0, "channels[0] (feature 'x') has unknown field(s) ['scael']"),
    ("channels.1.low", 0.0, "channels[1] (feature 'y') has unknown field(s) ['low']"),
]


def _set(record: dict, dotted: str, value) -> None:
    keys = dotted.split(".")
    inner = record
    for key in keys[:-1]:
        inner = inner[int(key)] if key.isdigit() else inner[key]
    inner[keys[-1]] = value


@pytest.mark.parametrize("field, value, words", LOOSE, ids=[f"{f}={v!r}" for f, v, _ in LOOSE])
def test_coefficient_file_loose_types_are_refused(tmp_path, field, value, words):
    record = _coef_record()
    _set(record, field, value)
    path = tmp_path / "coef.json"
    path.write_text(json.dumps(record))
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load(path)
    assert words in str(excinfo.value)
    assert str(path) in str(excinfo.value)


# ------------------------------------------------------------------------ CSV streaming
def _streamed(path, monkeypatch, chunk):
    monkeypatch.setattr(sio, "_CSV_CHUNK_BYTES", chunk)
    batches = list(sio.iter_batches(path, batch_size=7))
    return pa.Table.from_batches(batches).to_pandas()


@pytest.mark.parametrize("chunk", [1, 16, 64, 1000])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_csv_stream_cut_anywhere_reads_like_read_table(tmp_path, monkeypatch, chunk, newline):
    rows = [f'{i},"note {i}{newline}on two lines, with ""quotes""",{i * 0.5}' for i in range(40)]
    rows[5] = "5,plain,2.5"
    rows[9] = '9,"a ""quoted"" word",4.5'
    rows[12] = '12,5" stray quote,6.0'  # a quote inside an unquoted cell is text
    text = "\ufeffid,note,value" + newline + newline.join(rows) + newline + newline
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode())
    expected = sio.read_table(path)
    got = _streamed(path, monkeypatch, chunk)
    pd.testing.assert_frame_equal(got.astype({"id": float}), expected.astype({"id": float}))


def test_csv_stream_memory_does_not_grow_with_the_file(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    path = tmp_path / "big.csv"
    sio.write_table(pd.DataFrame(rng.standard_normal((300_000, 4)), columns=list("abcd")), path)
    assert path.stat().st_size > 20e6
    monkeypatch.setattr(sio, "_CSV_CHUNK_BYTES", 1 << 20)
    most = 0
    for _batch in sio.iter_batches(path, batch_size=10_000):
        most = max(most, pa.total_allocated_bytes())
    assert most < 8e6, f"{most / 1e6:.0f} MB of Arrow memory held while streaming a 20 MB CSV"


def test_csv_stream_ragged_row_is_found_in_a_later_chunk(tmp_path, monkeypatch):
    lines = ["a,b"] + [f"{i},{i}" for i in range(500)] + ["1,2,3"] + [f"{i},{i}" for i in range(10)]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileError, match=r"line 502 has the wrong number of fields: expected 2"):
        _streamed(path, monkeypatch, 256)


# ------------------------------------------------------------------------ odd data files
def _every_command(folder: Path, data: Path, coef: Path) -> dict[str, list]:
    return {
        "fit": ["fit", data, "-o", folder / "fitted.json"],
        "transform": ["transform", data, "-c", coef, "-o", folder / "out.csv"],
        "inverse": ["inverse", data, "-c", coef, "-o", folder / "out2.csv"],
        "check": ["check", data, "-c", coef],
        "advise": ["advise", data, "--target", "x"],
    }


def test_csv_integer_column_above_2_53_is_read_by_every_command(tmp_path):
    data = tmp_path / "big_ints.csv"
    stamps = [1_700_000_000_000_000_001 + i * 10**9 for i in range(30)]
    data.write_text("ts,x\n" + "".join(f"{t},{i * 0.5}\n" for i, t in enumerate(stamps)))
    seqscale.MinMaxScaler().fit(pd.DataFrame({"x": np.arange(30) * 0.5})).save(tmp_path / "coef.json")
    for name, args in _every_command(tmp_path, data, tmp_path / "coef.json").items():
        result = run(*args)
        assert result.exit_code in (0, 1), (name, result.stderr)
        assert "Traceback" not in result.stderr + result.stdout
    scaled = sio.read_table(tmp_path / "out.csv")
    np.testing.assert_allclose(scaled["x"], np.arange(30) / 29)


@pytest.mark.parametrize("shape", ["1,500 long names", "one 200 KB name", "200 KB without newline"])
def test_first_line_longer_than_128_kib(tmp_path, shape):
    data = tmp_path / "wide.csv"
    if shape == "1,500 long names":
        names = [f"{'c' * 90}{i}" for i in range(1_500)] + ["x"]
        data.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    elif shape == "one 200 KB name":
        data.write_text("n" * 200_000 + ",x\n1,2\n3,4\n5,6\n")
    else:
        data.write_text("1;" * 100_000)
    seqscale.MinMaxScaler().fit(pd.DataFrame({"x": [0.0, 4.0]})).save(tmp_path / "coef.json")
    commands = _every_command(tmp_path, data, tmp_path / "coef.json")
    if shape == "1,500 long names":  # advising 1,500 columns is slow and says nothing more here
        commands.pop("advise")
        commands["fit"] += ["--column", "x"]
    for name, args in commands.items():
        result = run(*args)
        assert "Traceback" not in result.stderr + result.stdout, name
        assert "field larger than field limit" not in result.stderr, name
        if result.exit_code == 2:
            assert_user_error(result, str(data))
        else:
            assert result.exit_code in (0, 1), (name, result.stderr[-300:])


def test_parquet_with_duplicate_column_names(tmp_path):
    data = tmp_path / "dup.parquet"
    pq.write_table(pa.table([pa.array([1.0, 2.0]), pa.array([3.0, 4.0])], names=["x", "x"]), data)
    seqscale.MinMaxScaler().fit(pd.DataFrame({"x": [0.0, 4.0]})).save(tmp_path / "coef.json")
    for name, args in _every_command(tmp_path, data, tmp_path / "coef.json").items():
        assert_user_error(run(*args), str(data), "duplicate column names ['x']")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["coef.json", "dup.parquet"], name


def test_parquet_index_named_like_a_column(tmp_path):
    data = tmp_path / "idx.parquet"
    frame_ = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=pd.Index([7, 8, 9], name="x"))
    pq.write_table(pa.Table.from_pandas(frame_), data)
    seqscale.MinMaxScaler().fit(pd.DataFrame({"x": [0.0, 4.0]})).save(tmp_path / "coef.json")
    for name, args in _every_command(tmp_path, data, tmp_path / "coef.json").items():
        assert_user_error(run(*args), str(data), "stored pandas index 'x' has the same name as a column")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["coef.json", "idx.parquet"], name
    with pytest.raises(DataFileError, match="same name as a column"):
        sio.read_table(data)


# ------------------------------------------------------------------------ API misuse
def test_complex_dataframe_column_is_refused():
    bad = pd.DataFrame({"a": [1 + 2j, 3 + 0j], "b": [1.0, 2.0]})
    for cls in (seqscale.MinMaxScaler, seqscale.StandardScaler, seqscale.RobustScaler, seqscale.MaxAbsScaler):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # never numpy's ComplexWarning
            with pytest.raises(seqscale.errors.InputError, match="column 'a' is complex"):
                cls().fit(bad)
            fitted = cls().fit(pd.DataFrame({"a": [1.0, 3.0], "b": [1.0, 2.0]}))
            with pytest.raises(seqscale.errors.InputError, match="column 'a' is complex"):
                fitted.transform(bad)


def test_dataframe_with_duplicate_column_names_is_refused():
    bad = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], columns=["a", "a"])
    with pytest.raises(seqscale.errors.InputError, match=r"duplicate column names \['a'\]"):
        seqscale.StandardScaler().fit(bad)
    fitted = seqscale.StandardScaler().fit(pd.DataFrame({"a": [1.0, 3.0], "b": [1.0, 2.0]}))
    with pytest.raises(seqscale.errors.InputError, match=r"duplicate column names \['a'\]"):
        fitted.transform(bad)


def test_empty_features_list_is_refused():
    fitted = seqscale.MinMaxScaler().fit(np.random.default_rng(0).random((5, 3)))
    X = np.ones((4, 3))
    for call in (fitted.inverse_transform, fitted.transform):
        with pytest.raises(seqscale.errors.InputError, match=r"features=\[\] names no feature"):
            call(X[:, :0], features=[])


def test_set_params_with_an_unknown_name_lists_the_parameters():
    with pytest.raises(seqscale.errors.ParameterError) as excinfo:
        seqscale.StandardScaler().set_params(bogus=1)
    assert "unknown parameter(s) ['bogus']" in str(excinfo.value)
    assert "'with_mean'" in str(excinfo.value) and "'with_std'" in str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)  # scikit-learn's contract kept


# ------------------------------------------------------------------------ messages
def test_transform_matches_columns_exactly_and_names_the_missing_one(tmp_path):
    two = pd.DataFrame({"temp": [1.0, 3.0], "rain": [2.0, 5.0]})
    seqscale.MinMaxScaler().fit(two).save(tmp_path / "c.json")
    (tmp_path / "upper.csv").write_text("temp,RAIN\n1,2\n3,5\n")
    line = assert_user_error(
        run("transform", tmp_path / "upper.csv", "-c", tmp_path / "c.json", "-o", tmp_path / "out.csv"),
        "lacks column(s) ['rain']", "'rain' (the file has 'RAIN')",
    )  # fmt: skip
    assert "'temp'" not in line.split("lacks")[1].split("that")[0]
    assert not (tmp_path / "out.csv").exists()
    (tmp_path / "good.csv").write_text("rain,temp,city\n2,1,a\n5,3,b\n")
    result = run("transform", tmp_path / "good.csv", "-c", tmp_path / "c.json", "-o", tmp_path / "out.csv")
    assert result.exit_code == 0 and "(temp, rain)" in result.stdout


@pytest.mark.parametrize("command", ["inverse", "check", "transform"])
def test_header_only_csv_is_explained(tmp_path, command):
    seqscale.MinMaxScaler().fit(pd.DataFrame({"temp": [1.0, 3.0]})).save(tmp_path / "c.json")
    (tmp_path / "head.csv").write_text("temp\n")
    args = [command, tmp_path / "head.csv", "-c", tmp_path / "c.json"]
    args += [] if command == "check" else ["-o", tmp_path / "out.csv"]
    line = assert_user_error(run(*args), str(tmp_path / "head.csv"), "no data rows")
    assert "Found array" not in line
    assert not (tmp_path / "out.csv").exists()


def test_check_on_an_all_nan_column_warns_nothing(tmp_path):
    two = pd.DataFrame({"temp": [1.0, 3.0], "rain": [2.0, 5.0]})
    seqscale.MinMaxScaler().fit(two).save(tmp_path / "c.json")
    (tmp_path / "nan.csv").write_text("temp,rain\n,1\n,2\n")
    env = {**os.environ, "PYTHONWARNINGS": "error::RuntimeWarning"}
    proc = subprocess.run([sys.executable, "-m", "seqscale.cli", "check", str(tmp_path / "nan.csv"), "-c",
                           str(tmp_path / "c.json")], capture_output=True, text=True, env=env)  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    assert "Mean of empty slice" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("lag", [50, 2**31 - 1])
def test_plan_lag_longer_than_the_data(tmp_path, lag):
    plan = json.loads(json.dumps(PLAN))
    plan["columns"]["x"]["difference"] = {"lag": lag, "order": 1}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    sio.write_table(frame(40), tmp_path / "data.csv")
    line = assert_user_error(
        run("fit", tmp_path / "data.csv", "--plan", tmp_path / "plan.json", "-o", tmp_path / "p.json"),
        str(tmp_path / "plan.json"), str(tmp_path / "data.csv"), f"columns.x.difference: lag {lag}",
        "the training data has 40 rows",
    )  # fmt: skip
    assert "Found array" not in line
    with pytest.raises(seqscale.errors.InputError, match="lower the lag"):
        seqscale.SequencePipeline.from_plan(plan).fit(frame(40))


@pytest.mark.parametrize("lag", [2**31, 10**20, 2**63])
def test_plan_lag_beyond_any_series_is_refused_by_the_plan_check(tmp_path, lag):
    plan = json.loads(json.dumps(PLAN))
    plan["columns"]["x"]["difference"] = {"lag": lag, "order": 1}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    sio.write_table(frame(40), tmp_path / "data.csv")
    assert_user_error(
        run("fit", tmp_path / "data.csv", "--plan", tmp_path / "plan.json", "-o", tmp_path / "p.json"),
        str(tmp_path / "plan.json"), "columns.x.difference.lag", f"got {lag}",
    )  # fmt: skip
    assert not (tmp_path / "p.json").exists()


# ------------------------------------------------------------------------ large coefficient files
@pytest.mark.parametrize("method", ["minmax", "standard", "robust", "maxabs"])
def test_channel_columns_parsed_as_arrays_match_the_checked_path(tmp_path, method):
    from seqscale.scalers import coefficient_check as _coef_check

    rng = np.random.default_rng(1)
    ids = np.repeat(np.arange(300), 5)
    values = pd.DataFrame({"a": rng.normal(size=ids.size), "b": rng.gamma(2, size=ids.size)})
    values.loc[ids == 7, "a"] = np.nan  # a series without values: null statistics
    cls = {"minmax": seqscale.MinMaxScaler, "standard": seqscale.StandardScaler,
           "robust": seqscale.RobustScaler, "maxabs": seqscale.MaxAbsScaler}[method]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        record = cls().fit(values, groups=ids).to_dict()
    extra = seqscale.core.registry.get(method).extra
    keys = _coef_check._STATS + _coef_check._COEFS + (() if extra is None else extra.record)
    without_coefs = [
        {k: v for k, v in ch.items() if k not in _coef_check._COEFS} for ch in record["channels"]
    ]
    one_without = [dict(ch) for ch in record["channels"]]
    del one_without[3]["scale"]  # not every channel holds the same fields
    for channels in (record["channels"], without_coefs, one_without):
        fast = _coef_check._fast_columns(channels, keys)
        assert fast is not None  # a valid file never takes the per-value path
        slow = _coef_check._slow_columns(channels, "f", keys)
        for key in keys:
            np.testing.assert_array_equal(fast[key], slow[key])
        assert fast["feature"] == slow["feature"] and fast["series"] == slow["series"]
        assert fast["domain"] == slow["domain"]


def test_load_leaves_the_cycle_collector_as_it_was(tmp_path):
    import gc

    path = tmp_path / "c.json"
    seqscale.StandardScaler().fit(frame()[["x", "y"]]).save(path)
    bad = tmp_path / "bad.json"
    bad.write_text(path.read_text().replace('"scale": ', '"scale": -', 1))
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            seqscale.load(path)
            with pytest.raises(CoefficientFileError, match="scale"):
                seqscale.load(bad)
            assert gc.isenabled() is enabled
        finally:
            gc.enable()


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda ch: ch.__setitem__("mean", None), "channels[5] (feature 'b').mean must be a finite number"),
        (lambda ch: ch.__setitem__("mean", float("nan")), "channels[5] (feature 'b').mean"),
        (lambda ch: ch.__setitem__("scale", None), "channels[5] (feature 'b').scale"),
        (lambda ch: ch.__setitem__("min", "1.5"), "channels[5] (feature 'b').min"),
        (lambda ch: ch.__setitem__("count", True), "channels[5] (feature 'b').count"),
    ],
)
def test_odd_value_in_a_large_uniform_file_is_named(tmp_path, edit, words):
    """Every channel with the same fields takes the column-wise path; one odd value is still named."""
    ids = np.repeat(np.arange(2000), 3)
    values = pd.DataFrame({"a": np.arange(ids.size, dtype=float), "b": np.sin(np.arange(ids.size))})
    record = seqscale.StandardScaler().fit(values, groups=ids).to_dict()
    edit(record["channels"][5])
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(record))
    with pytest.raises(CoefficientFileError, match=re.escape(words)):
        seqscale.load(path)


# ------------------------------------------------------------------------ Dask cluster without workers
def test_dask_fit_with_every_worker_gone_fails_after_the_timeout():
    dask = pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    import dask.array as da

    cluster = distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None)
    client = distributed.Client(cluster)
    try:
        X = da.from_array(np.arange(100.0).reshape(50, 2), chunks=(10, 2))
        assert seqscale.StandardScaler().fit(X).mean_.tolist() == [49.0, 50.0]
        cluster.scale(0)
        deadline = time.monotonic() + 30
        while client.scheduler_info()["workers"] and time.monotonic() < deadline:
            time.sleep(0.1)
        start = time.monotonic()
        with dask.config.set({"seqscale.timeout": 2}):
            with pytest.raises(seqscale.errors.InputError) as excinfo:
                seqscale.StandardScaler().fit(X + 1)
        assert time.monotonic() - start < 20
        message = str(excinfo.value)
        assert "waited 2 s (seqscale.timeout)" in message and "has 0 worker(s)" in message
    finally:
        client.close()
        cluster.close()


def test_csv_stream_skips_a_byte_order_mark_on_a_blank_first_line(tmp_path, monkeypatch):
    """A BOM followed by a blank line is not the header: the stream reads what read_table reads."""
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf\n0,NA\n0,0\n0,0")
    frame = sio.read_table(path)
    batches = list(sio.iter_batches(path, batch_size=1))
    assert list(frame.columns) == ["0", "NA"]
    assert sum(b.num_rows for b in batches) == len(frame) == 2


# --------------------------------------------------------------------------------------------
# Finite values that scaling sends past the float64 range
# --------------------------------------------------------------------------------------------
def _past_float64(call) -> seqscale.errors.InputError:
    with pytest.raises(seqscale.errors.InputError, match="past the float64 range") as info:
        call()
    return info.value


@pytest.mark.parametrize("path", ["dense", "dense fit_transform", "ids", "ids fit_transform",
                                  "shuffled ids fit_transform", "segments fit_transform"])  # fmt: skip
def test_a_std_given_far_below_the_data_is_refused_on_every_path(path):
    """``std=1e-300`` given by hand sends 1e10 past float64: one line naming the feature and the
    row, on the dense, per-series (runs, rows in random order) and one-sweep paths."""
    rng = np.random.default_rng(5)
    n = 100_000 if "shuffled" in path else 6
    ids = rng.permutation(np.arange(n) % 3) if "shuffled" in path else np.repeat([0, 1, 2], n // 3)
    x = pd.DataFrame({"level": rng.normal(size=n)})
    bad = int(np.flatnonzero(ids == 2)[1])
    x.loc[bad, "level"] = 1e10
    scaler = seqscale.StandardScaler(mean=0.0, std=1e-300)
    calls = {
        "dense": lambda: scaler.fit(x).transform(x),
        "dense fit_transform": lambda: scaler.fit_transform(x),
        "ids": lambda: scaler.fit(x, groups=ids).transform(x, groups=ids),
        "ids fit_transform": lambda: scaler.fit_transform(x, groups=ids),
        "shuffled ids fit_transform": lambda: scaler.fit_transform(x, groups=ids),
        "segments fit_transform": lambda: scaler.fit_transform(
            x, groups=seqscale.Segments([0, 1, 2], [n // 3] * 3)
        ),
    }
    err = _past_float64(calls[path])
    assert err.rows == (bad,) and "feature 'level'" in str(err) and len(str(err).splitlines()) == 1


def test_data_far_outside_a_tiny_fitted_range_is_refused_and_clipping_bounds_it():
    tiny = np.array([[1e-300], [3e-300], [2e-300]])
    scaler = seqscale.MinMaxScaler().fit(tiny)
    later = np.array([[2e-300], [1e10]])
    assert _past_float64(lambda: scaler.transform(later)).rows == (1,)
    clipped = seqscale.MinMaxScaler(out_of_range="clip").fit(tiny).transform(later)
    np.testing.assert_allclose(clipped, [[0.5], [1.0]], rtol=1e-15)  # the clip policy bounds it instead


def test_scaling_in_place_past_float64_names_both_causes():
    x = np.array([[1.0], [1e10], [2.0]])
    scaler = seqscale.StandardScaler(mean=0.0, std=1e-300).fit(x)
    err = _past_float64(lambda: scaler.transform(x, copy=False))
    assert err.rows == (1,) and "held +-inf" in str(err)


def test_an_infinite_input_is_still_named_as_such():
    x = np.array([[1.0], [np.inf], [2.0]])
    scaler = seqscale.StandardScaler().fit(np.array([[1.0], [2.0]]))
    with pytest.raises(seqscale.errors.InputError, match="holds an infinite value") as info:
        scaler.transform(x)
    assert info.value.rows == (1,)


def test_cli_transform_names_the_csv_line_sent_past_float64(tmp_path):
    train = tmp_path / "train.csv"
    train.write_text("date,v\n2020-01-01,1e-300\n2020-01-02,3e-300\n2020-01-03,2e-300\n")
    later = tmp_path / "later.csv"
    later.write_text("date,v\n2020-01-04,2e-300\n2020-01-05,1e10\n")
    coef = tmp_path / "coef.json"
    runner = CliRunner()
    fitted = runner.invoke(app, ["fit", str(train), "--method", "minmax", "--time", "date", "-o", str(coef)])
    assert fitted.exit_code == 0, fitted.output
    out = tmp_path / "scaled.csv"
    result = runner.invoke(app, ["transform", str(later), "--coefficients", str(coef), "-o", str(out)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "line 3" in result.output and "past the float64 range" in result.output
    assert not out.exists()
