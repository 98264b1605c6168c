"""fit_file's reduction: single-threaded while the reader thread decodes, with the moments the
multi-threaded kernel gives, bit for bit."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

import seqscale
from seqscale.core import kernels
from seqscale.files import io, stream

pytestmark = pytest.mark.skipif(not kernels.numba_enabled(), reason="the compiled kernels are off")


def _acc(x: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    return kernels._moments_acc(np.ascontiguousarray(x), mask)


@pytest.mark.parametrize(
    ("rows", "channels", "dtype"),
    [(300_000, 1, np.float64), (1_000_003, 1, np.float64), (70_001, 5, np.float64), (262_144, 1, np.float32)],
)
def test_one_thread_gives_the_parallel_kernels_moments_bit_for_bit(rows, channels, dtype):
    rng = np.random.default_rng(rows)
    x = (1e6 + rng.standard_normal((rows, channels)) * np.geomspace(1e-3, 1e3, channels)).astype(dtype)
    x[rng.random(x.shape) < 0.01] = np.nan
    mask = rng.random(x.shape) < 0.05
    m, _ = kernels._layout(rows, channels)
    assert kernels._chunks(rows, channels, m) > 1  # large enough for the multi-threaded kernel
    for mk in (None, mask):
        parallel = _acc(x, mk)
        with kernels.one_thread():
            serial = _acc(x, mk)
        np.testing.assert_array_equal(serial, parallel)


def test_chunk_count_compiled_agrees_with_python():
    count = kernels._get_impl()  # compiles the helpers
    assert count is not None
    for rows in (1, 7, 255, 256, 2047, 262_143, 262_144, 300_000, 10**7):
        for channels in (1, 2, 3, 8, 300):
            m, _ = kernels._layout(rows, channels)
            assert kernels._nb_chunk_count(rows, channels, m) == kernels._chunks(rows, channels, m)


def test_one_thread_is_per_thread_and_restored():
    seen = {}

    def other() -> None:
        with kernels.parallel_slot(8) as parallel:
            seen["other"] = parallel

    with kernels.one_thread():
        with kernels.one_thread():
            pass
        with kernels.parallel_slot(8) as parallel:
            seen["inside"] = parallel
        worker = threading.Thread(target=other)
        worker.start()
        worker.join()
    with kernels.parallel_slot(8) as parallel:
        seen["after"] = parallel
    assert seen == {"inside": False, "other": True, "after": True}


def test_fit_file_reduces_parquet_on_one_thread(tmp_path, monkeypatch):
    """The reader thread holds the other core: a multi-threaded reduction would wait at its
    barrier for it. Columns above the multi-threaded size, with and without NaN."""
    rng = np.random.default_rng(2)
    rows = 300_000
    frame = pd.DataFrame({"a": rng.normal(5e3, 2.0, rows), "b": rng.standard_cauchy(rows)})
    frame.loc[rng.random(rows) < 0.01, "b"] = np.nan
    path = io.write_table(frame, tmp_path / "big.parquet")
    want = seqscale.StandardScaler().fit(frame)  # in memory: the multi-threaded kernel

    def refuse(*args):
        raise AssertionError("fit_file ran the multi-threaded moments kernel")

    monkeypatch.setattr(kernels._get_impl(), "moments_parallel", refuse)
    got = stream.fit_file(path, "standard")
    np.testing.assert_allclose(got.mean_, want.mean_, rtol=1e-15)
    np.testing.assert_allclose(got.scale_, want.scale_, rtol=1e-13)
    with pytest.raises(AssertionError, match="multi-threaded"):
        seqscale.StandardScaler().fit(frame)  # the spy works
