"""Nothing lost: every file seqscale writes goes through a temporary file and a rename.

A failure midway through writing leaves the old file intact (or no file when there was none) and
no temporary file behind; a ``seqscale transform`` killed with SIGKILL leaves the old output
bit-identical (or none), never a torn file.
"""

from __future__ import annotations

import json
import os
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

import seqscale
from seqscale.errors import SeqscaleError
from seqscale.files import io as sio
from seqscale.files import stream
from seqscale.util import atomic as _atomic

OLD = b"old content that must survive\n"


def small_frame(n=50):
    rng = np.random.default_rng(2)
    return pd.DataFrame({"a": rng.normal(5, 2, n), "b": rng.uniform(-3, 9, n), "city": ["x", "y"] * (n // 2)})


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


def assert_untouched(folder: Path, target: Path, had_old: bool, others: set[str]):
    assert temp_files(folder) == [], f"temporary files left behind: {temp_files(folder)}"
    if had_old:
        assert target.read_bytes() == OLD
    else:
        assert not target.exists()
    assert {p.name for p in folder.iterdir()} == others | ({target.name} if had_old else set())


class DiskFull(OSError):
    pass


class _HalfWriter:
    """A file object that writes half of the first chunk, then fails (a full disk)."""

    def __init__(self, handle):
        self._handle = handle

    def write(self, data):
        self._handle.write(data[: max(len(data) // 2, 1)])
        self._handle.flush()
        raise DiskFull(28, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()
        return False


def _is_temp(file) -> bool:
    name = Path(os.fspath(file)).name if isinstance(file, (str, os.PathLike)) else ""
    return name.startswith(".") and name.endswith(".tmp")


@pytest.fixture
def half_writes(monkeypatch):
    """Every temporary file opened for writing fails midway (whichever way it is opened)."""
    real_open, real_path_open = open, Path.open

    def fake_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        return _HalfWriter(handle) if "w" in mode and _is_temp(file) else handle

    def fake_path_open(self, mode="r", *args, **kwargs):
        handle = real_path_open(self, mode, *args, **kwargs)
        return _HalfWriter(handle) if "w" in mode and _is_temp(self) else handle

    monkeypatch.setattr(_atomic, "open", fake_open, raising=False)
    monkeypatch.setattr(Path, "open", fake_path_open)


@pytest.fixture
def rename_fails(monkeypatch):
    """The final rename fails (everything was written and synced)."""

    def fail(src, dst):
        assert Path(src).exists() and Path(src).stat().st_size > 0  # the data was written
        raise DiskFull(5, "Input/output error")

    monkeypatch.setattr(_atomic.os, "replace", fail)


@pytest.fixture
def fsync_fails(monkeypatch):
    def fail(fd):
        raise DiskFull(5, "Input/output error")

    monkeypatch.setattr(_atomic.os, "fsync", fail)


FAULTS = ["half_writes", "rename_fails", "fsync_fails"]


# ------------------------------------------------------------------------------ writers
def _fitted_scaler(method="standard"):
    cls = {"minmax": seqscale.MinMaxScaler, "standard": seqscale.StandardScaler,
           "robust": seqscale.RobustScaler, "maxabs": seqscale.MaxAbsScaler}[method]  # fmt: skip
    return cls().fit(small_frame()[["a", "b"]])


def _plan():
    return {
        "format": "seqscale.plan", "version": 1, "time": "date", "id": None, "target": ["y"],
        "task": "regression", "output_activation": "linear", "window": {"n_in": 4, "n_out": 1},
        "per_series": False, "series_features": False,
        "columns": {
            "x": {"role": "input", "log": False, "difference": None, "method": "standard", "bounds": None},
            "y": {"role": "target", "log": False, "difference": None, "method": "minmax", "bounds": None},
        },
    }  # fmt: skip


def _pipeline_frame(n=30):
    rng = np.random.default_rng(4)
    return pd.DataFrame({"date": pd.date_range("2021-01-01", periods=n), "x": rng.normal(size=n),
                         "y": rng.normal(size=n).cumsum()})  # fmt: skip


def write_scaler(folder, target):
    _fitted_scaler().save(target)


def write_plan(folder, target):
    from seqscale.sequence.plan import save_plan

    save_plan(_plan(), target)


def write_pipeline(folder, target):
    seqscale.SequencePipeline.from_plan(_plan()).fit(_pipeline_frame()).save(target)


def write_csv(folder, target):
    sio.write_table(small_frame(), target)


def write_parquet(folder, target):
    sio.write_table(small_frame(), target)


def write_transformed(folder, target):
    source = folder / "input.parquet"
    if not source.exists():
        pq.write_table(pa.Table.from_pandas(small_frame(3000), preserve_index=False), source)
    seqscale.transform_file(_fitted_scaler(), source, target, batch_size=500)


_ADVICE = {}


def write_report(folder, target):
    from seqscale.advisor.report import write_report as report

    frame = _pipeline_frame(40)[["date", "y"]]
    if "advice" not in _ADVICE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _ADVICE["advice"] = seqscale.advise(frame, target="y", time="date")
    report(_ADVICE["advice"], frame, target)


WRITERS = {
    "scaler.save": (write_scaler, "coef.json"),
    "save_plan": (write_plan, "plan.json"),
    "pipeline.save": (write_pipeline, "pipe.json"),
    "write_table csv": (write_csv, "table.csv"),
    "write_table parquet": (write_parquet, "table.parquet"),
    "transform_file csv": (write_transformed, "scaled.csv"),
    "transform_file parquet": (write_transformed, "scaled.parquet"),
    "report html": (write_report, "report.html"),
}


def _prepare(folder, writer, target):
    """Create the writer's inputs (transform_file reads a file); return the files present."""
    if writer is write_transformed:
        writer(folder, target)
        assert target.exists() and temp_files(folder) == []
        target.unlink()
    return {p.name for p in folder.iterdir()}


# the HTML report is slow to render: two cases of it (one here, one below) are enough
COMMIT_CASES = [(name, fault, had_old) for name in WRITERS for fault in ("rename_fails", "fsync_fails")
                for had_old in (True, False)
                if not (name == "report html" and (fault == "fsync_fails" or had_old))]  # fmt: skip


@pytest.mark.parametrize("name, fault, had_old", COMMIT_CASES)
def test_failure_at_commit_keeps_old_file(tmp_path, request, name, fault, had_old):
    writer, filename = WRITERS[name]
    target = tmp_path / filename
    others = _prepare(tmp_path, writer, target)
    if had_old:
        target.write_bytes(OLD)
    request.getfixturevalue(fault)
    with pytest.raises((OSError, SeqscaleError)):
        writer(tmp_path, target)
    assert_untouched(tmp_path, target, had_old, others)


TEXT_WRITERS = ["scaler.save", "save_plan", "pipeline.save", "report html"]


@pytest.mark.parametrize(
    "name, had_old",
    [(name, had_old) for name in TEXT_WRITERS for had_old in (True, False)
     if not (name == "report html" and not had_old)],
)  # fmt: skip
def test_text_write_failing_midway_keeps_old_file(tmp_path, half_writes, name, had_old):
    writer, filename = WRITERS[name]
    target = tmp_path / filename
    target.write_bytes(OLD) if had_old else None
    others = {p.name for p in tmp_path.iterdir()} - {target.name}
    with pytest.raises((OSError, SeqscaleError)):
        writer(tmp_path, target)
    assert_untouched(tmp_path, target, had_old, others)


@pytest.mark.parametrize("had_old", [True, False], ids=["old file", "no file"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_write_table_failing_midway_keeps_old_file(tmp_path, monkeypatch, suffix, had_old):
    target = tmp_path / f"table{suffix}"
    if had_old:
        target.write_bytes(OLD)
    real_parquet, real_csv = pq.write_table, pd.DataFrame.to_csv

    def parquet_then_fail(table, where, **kwargs):
        real_parquet(table, where, **kwargs)
        with Path(where).open("r+b") as handle:
            handle.truncate(Path(where).stat().st_size // 2)
        raise OSError(28, "No space left on device")

    def csv_then_fail(self, where=None, **kwargs):
        real_csv(self.head(len(self) // 2), where, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sio.pq, "write_table", parquet_then_fail)
    monkeypatch.setattr(pd.DataFrame, "to_csv", csv_then_fail)
    with pytest.raises(seqscale.DataFileError) as excinfo:
        sio.write_table(small_frame(), target)
    assert target.name in str(excinfo.value)
    assert_untouched(tmp_path, target, had_old, set())


@pytest.mark.parametrize("had_old", [True, False], ids=["old file", "no file"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".tsv"])
def test_transform_file_failing_midway_keeps_old_file(tmp_path, monkeypatch, suffix, had_old):
    source = tmp_path / "input.parquet"
    pq.write_table(pa.Table.from_pandas(small_frame(4000), preserve_index=False), source)
    target = tmp_path / f"scaled{suffix}"
    if had_old:
        target.write_bytes(OLD)
    real_apply, calls = stream._apply_block, []

    def apply_then_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # two batches already written to the temporary file
            assert temp_files(tmp_path)
            raise RuntimeError("killed midway")
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(stream, "_apply_block", apply_then_fail)
    with pytest.raises(RuntimeError, match="killed midway"):
        seqscale.transform_file(_fitted_scaler(), source, target, batch_size=1000)
    assert_untouched(tmp_path, target, had_old, {"input.parquet"})


def test_transform_file_error_in_data_keeps_old_file(tmp_path):
    """A bad cell found in the last batch: the old output stays, no temp file."""
    source = tmp_path / "input.csv"
    lines = ["a,b"] + [f"{i}.5,{i}" for i in range(3000)] + ["oops,1"]
    source.write_text("\n".join(lines) + "\n")
    target = tmp_path / "scaled.csv"
    target.write_bytes(OLD)
    with pytest.raises(seqscale.DataFileError, match="line 3002"):
        seqscale.transform_file(_fitted_scaler(), source, target, batch_size=500)
    assert_untouched(tmp_path, target, True, {"input.csv"})


def test_successful_write_replaces_and_keeps_mode(tmp_path):
    target = tmp_path / "coef.json"
    target.write_bytes(OLD)
    target.chmod(0o640)
    _fitted_scaler().save(target)
    assert json.loads(target.read_text())["format"] == "seqscale.coefficients"
    assert target.stat().st_mode & 0o777 == 0o640
    assert temp_files(tmp_path) == []


# ------------------------------------------------------------------------------ SIGKILL
BIG_ROWS = 3_000_000


@pytest.fixture(scope="module")
def big_input(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big")
    rng = np.random.default_rng(0)
    table = pa.table({name: rng.standard_normal(BIG_ROWS) for name in "abcd"})
    pq.write_table(table, folder / "BIG.parquet")
    seqscale.MinMaxScaler().fit(table.slice(0, 10_000).to_pandas()).save(folder / "coef.json")
    old = pa.table({name: rng.standard_normal(1000) for name in "abcd"})
    pq.write_table(old, folder / "old.parquet", write_page_checksum=True)
    return folder


def _command():
    return [sys.executable, "-m", "seqscale.cli"]


@pytest.mark.parametrize("moment", ["temp file appears", "temp file grows"])
def test_sigkill_midway_leaves_old_output(tmp_path, big_input, moment):
    out = tmp_path / "out.parquet"
    old_bytes = (big_input / "old.parquet").read_bytes()
    out.write_bytes(old_bytes)
    proc = subprocess.Popen(
        [*_command(), "transform", str(big_input / "BIG.parquet"), "-c", str(big_input / "coef.json"),
         "-o", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        killed = False
        while time.monotonic() < deadline and proc.poll() is None:
            temps = temp_files(tmp_path)
            if temps and temps[0].startswith(".out.parquet."):
                size = (tmp_path / temps[0]).stat().st_size if (tmp_path / temps[0]).exists() else 0
                if moment == "temp file appears" or size > 8 << 20:
                    proc.send_signal(signal.SIGKILL)
                    killed = True
                    break
            time.sleep(0.002)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert killed, f"the transform ended before it could be killed: {proc.stderr.read().decode()[-500:]}"
    assert proc.returncode == -signal.SIGKILL
    # the real output is the old file, bit for bit: never a torn file
    assert out.exists()
    assert out.read_bytes() == old_bytes
    assert pq.read_table(out).equals(pq.read_table(big_input / "old.parquet"))
    # leftovers are acceptable only as temporary files named .<name>.*.tmp
    for path in tmp_path.iterdir():
        assert path.name == "out.parquet" or (
            path.name.startswith(".out.parquet.") and path.name.endswith(".tmp")
        )


def test_sigkill_without_old_output_leaves_nothing(tmp_path, big_input):
    out = tmp_path / "out.parquet"
    proc = subprocess.Popen(
        [*_command(), "transform", str(big_input / "BIG.parquet"), "-c", str(big_input / "coef.json"),
         "-o", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not temp_files(tmp_path):
            time.sleep(0.002)
        time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode == -signal.SIGKILL:
        assert not out.exists()
    else:  # finished before the kill: then the output is complete
        assert pq.read_table(out).num_rows == BIG_ROWS
