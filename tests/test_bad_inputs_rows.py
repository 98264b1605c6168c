"""Rows of docs/bad-inputs.md that say more than their first test checks: each claim checked here."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import make

import seqscale
from seqscale.core import kernels as _kernels
from seqscale.errors import CoefficientFileError, InputError
from seqscale.files import io as sio


@pytest.mark.parametrize("sep", ["\t", "|"], ids=["tab", "pipe"])
def test_tab_and_pipe_delimiters(tmp_path, sep):
    path = tmp_path / "data.csv"
    rows = [["temp", "rain", "city"], ["1.5", "2", "oslo"], ["-3.25", "", "rome"]]
    path.write_text("".join(sep.join(r) + "\n" for r in rows))
    df = sio.read_table(path)
    assert list(df.columns) == ["temp", "rain", "city"]
    assert df["temp"].tolist() == [1.5, -3.25]
    assert df["rain"].iloc[0] == 2.0 and math.isnan(df["rain"].iloc[1])
    assert df["city"].tolist() == ["oslo", "rome"]


@pytest.mark.skipif(not _kernels.numba_enabled(), reason="the count is made by the compiled kernel")
@pytest.mark.parametrize("method", ["minmax", "standard", "robust", "maxabs"])
def test_infinite_at_transform_counted_without_an_extra_pass(monkeypatch, method):
    # "counted inside the fused transform kernel, no extra pass": no numpy scan of the whole
    # input for infinities while transforming clean data, and the kernel's count finds them
    X = np.random.default_rng(3).normal(size=(50_000, 4))
    est = make(method).fit(X)
    expected = est.transform(X)
    for name in ("isinf", "isfinite", "isnan", "isposinf", "isneginf"):
        real = getattr(np, name)

        def scan(a, *args, _real=real, _name=name, **kwargs):
            assert np.size(a) < X.size, f"np.{_name} over the whole input: an extra pass"
            return _real(a, *args, **kwargs)

        monkeypatch.setattr(np, name, scan)
    out = est.transform(X)
    monkeypatch.undo()
    np.testing.assert_array_equal(out, expected)
    bad = X.copy()
    bad[123, 2] = np.inf
    with pytest.raises(InputError, match="row 123"):
        est.transform(bad)


@pytest.mark.parametrize("grouped", [False, True], ids=["per_feature", "per_series"])
@pytest.mark.parametrize("keep", [0, 1, 10, 0.5, -2])
def test_truncated_coefficient_file_says_may_be_truncated(tmp_path, grouped, keep):
    X = np.random.default_rng(4).normal(size=(40, 2))
    groups = np.repeat([0, 1], 20) if grouped else None
    path = tmp_path / "coefficients.json"
    seqscale.StandardScaler().fit(X, groups=groups).save(path)
    text = path.read_text()
    cut = keep if isinstance(keep, int) else int(len(text) * keep)
    path.write_text(text[:cut])
    with pytest.raises(CoefficientFileError) as excinfo:
        seqscale.load(path)
    assert str(path) in str(excinfo.value) and "may be truncated" in str(excinfo.value)


@pytest.mark.parametrize(
    "empty, train",
    [
        (np.empty((0,)), np.arange(6.0)),
        (np.empty((0, 3)), np.arange(12.0).reshape(4, 3)),
        (np.empty((0, 5, 3)), np.arange(60.0).reshape(4, 5, 3)),
        (pd.DataFrame({"a": []}, dtype=float), pd.DataFrame({"a": [1.0, 2.0, 4.0]})),
        ([], [1.0, 2.0, 4.0]),
    ],
    ids=["1d", "2d", "3d", "frame", "list"],
)
@pytest.mark.parametrize("method", ["minmax", "standard", "robust", "maxabs"])
def test_empty_input_refused_by_transform_of_each_kind(method, empty, train):
    est = make(method).fit(train)
    with pytest.raises(InputError, match="0 sample"):
        est.transform(empty)
