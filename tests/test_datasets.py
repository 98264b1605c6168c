"""Bundled data sets (seqscale.datasets): shapes, columns, dtypes, known values, no network."""

from __future__ import annotations

import socket
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from seqscale import datasets
from seqscale.errors import ParameterError

MACRO_COLUMNS = [
    "date", "quarter", "realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1",
    "tbilrate", "unemp", "pop", "infl", "realint",
]  # fmt: skip


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a data set loader tried to use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_macrodata():
    frame = datasets.load_macrodata()
    assert frame.shape == (203, 14)
    assert list(frame.columns) == MACRO_COLUMNS
    assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    assert frame["quarter"].dtype == np.int64
    assert sorted(frame["quarter"].unique()) == [1, 2, 3, 4]
    assert all(frame[name].dtype == np.float64 for name in MACRO_COLUMNS[2:])
    assert frame["realgdp"].iloc[0] == 2710.349
    assert frame["date"].iloc[0] == pd.Timestamp("1959-01-01")
    assert frame["date"].iloc[-1] == pd.Timestamp("2009-07-01")  # 2009Q3
    assert frame["date"].is_monotonic_increasing and frame["date"].is_unique
    assert not frame.isna().any().any()
    quarters = frame["date"].dt.quarter.to_numpy()
    np.testing.assert_array_equal(quarters, frame["quarter"].to_numpy())


def test_co2_interpolated_by_default():
    frame = datasets.load_co2()
    assert frame.shape == (2284, 2)
    assert list(frame.columns) == ["date", "co2"]
    assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    assert frame["co2"].dtype == np.float64
    assert not frame["co2"].isna().any()
    assert frame["co2"].iloc[0] == 316.1
    assert frame["date"].iloc[0] == pd.Timestamp("1958-03-29")
    assert (frame["date"].diff().dropna() == pd.Timedelta(weeks=1)).all()


def test_co2_keeps_gaps_on_request():
    raw = datasets.load_co2(fill=None)
    filled = datasets.load_co2()
    assert raw["co2"].isna().sum() == 59
    known = raw["co2"].notna()
    np.testing.assert_array_equal(raw.loc[known, "co2"], filled.loc[known, "co2"])
    gap = raw.index[raw["co2"].isna()][0]  # an interpolated week lies between its neighbours
    low, high = sorted([filled["co2"].iloc[gap - 1], filled["co2"].iloc[gap + 1]])
    assert low <= filled["co2"].iloc[gap] <= high
    with pytest.raises(ParameterError, match="fill"):
        datasets.load_co2(fill="zero")


def test_list_and_load_by_name():
    listed = datasets.list_datasets()
    assert set(listed) == {"macrodata", "co2"}
    assert all(isinstance(text, str) and text and "\n" not in text for text in listed.values())
    assert datasets.load_dataset("macrodata").shape == (203, 14)
    with pytest.raises(ParameterError, match="unknown data set"):
        datasets.load_dataset("nope")


def test_loaders_return_fresh_frames():
    first = datasets.load_macrodata()
    first.loc[0, "realgdp"] = -1.0
    assert datasets.load_macrodata()["realgdp"].iloc[0] == 2710.349


def test_importing_does_not_import_statsmodels():
    code = (
        "import sys, seqscale, seqscale.datasets, seqscale.io; "
        "assert 'statsmodels' not in sys.modules, 'statsmodels imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
