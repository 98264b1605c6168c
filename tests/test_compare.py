"""seqscale.lab.compare.compare: the same LSTM on raw / normalized / standardized / advised data."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from seqscale.advisor import lstm as _lstm
from seqscale.errors import ParameterError
from seqscale.lab.compare import VARIANTS, ComparisonResult, compare

PNG = b"\x89PNG\r\n\x1a\n"
N, N_IN, TEST = 300, 8, 0.2


def _frame(n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    t = np.arange(n)
    y = 200.0 + 0.8 * t + 12.0 * np.sin(2 * np.pi * t / 25) + rng.normal(0, 2.0, n)
    return pd.DataFrame(
        {
            "t": t,
            "season": np.array(["a", "b", "c", "d"])[t % 4],
            "x": 1000.0 + 40.0 * np.cos(2 * np.pi * t / 25) + rng.normal(0, 5.0, n),
            "y": y,
        }
    )


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module")
def result(frame) -> ComparisonResult:
    return compare(frame, "y", time="t", n_in=N_IN, seeds=2, epochs=3, patience=2)


def test_table_has_the_four_variants(result):
    table = result.table
    assert list(table["variant"]) == list(VARIANTS)
    assert list(table.columns) == [
        "variant",
        "rmse_mean",
        "rmse_std",
        "mae_mean",
        "mae_std",
        "epochs_run",
        "best",
    ]
    for col in ("rmse_mean", "rmse_std", "mae_mean", "mae_std", "epochs_run"):
        assert np.isfinite(table[col]).all(), col
    assert table["best"].sum() == 1
    assert table.loc[table["best"], "variant"].item() == result.best
    assert (table["mae_mean"] <= table["rmse_mean"] + 1e-9).all()
    assert len(result.runs) == 4 * 2
    assert set(result.histories) == set(VARIANTS)
    for runs in result.histories.values():
        assert [r["seed"] for r in runs] == [0, 1]
        assert all(1 <= len(r["train"]) == len(r["validation"]) <= 3 for r in runs)


def test_errors_are_in_original_units(result, frame):
    y = frame["y"]
    test = y.iloc[-math.ceil(TEST * N) :]
    table = result.table.set_index("variant")
    # raw: a barely trained network outputs numbers near 0, so its error is of the target's size
    assert 0.2 * test.mean() < table.loc["raw", "rmse_mean"] < 5 * test.mean()
    # advised differences the trending target: forecasts are last level + a small change
    assert table.loc["advised", "rmse_mean"] < 0.5 * y.std()
    # the reference: the last known value, computed by hand
    diff = test.to_numpy() - y.iloc[-len(test) - 1 : -1].to_numpy()
    assert result.baseline["rmse"] == pytest.approx(np.sqrt(np.mean(diff**2)))


def test_forecasts_cover_exactly_the_test_period(result, frame):
    preds = result.predictions
    n_test = math.ceil(TEST * N)
    assert list(preds.columns) == ["actual", *VARIANTS]
    assert preds.index.name == "t"
    # the first forecast is the first test step
    assert preds.index.tolist() == frame["t"].iloc[-n_test:].tolist()
    np.testing.assert_array_equal(preds["actual"].to_numpy(), frame["y"].iloc[-n_test:].to_numpy())
    assert np.isfinite(preds.to_numpy()).all()
    assert result.settings["n_test"] == n_test and result.settings["n_train"] == N - n_test


def test_same_seed_same_numbers(result, frame):
    again = compare(frame, "y", time="t", n_in=N_IN, seeds=2, epochs=3, patience=2)
    pd.testing.assert_frame_equal(again.table, result.table)
    pd.testing.assert_frame_equal(again.predictions, result.predictions)


def test_json(result, tmp_path):
    path = result.to_json(tmp_path / "comparison.json")
    data = json.loads(path.read_text())
    assert data["format"] == "seqscale.comparison"
    assert [row["variant"] for row in data["table"]] == list(VARIANTS)
    assert set(data["histories"]) == set(VARIANTS)
    assert data["verdict"].startswith("best: ")
    assert len(data["predictions"]["actual"]) == len(result.predictions)
    assert data["plans"]["advised"]["columns"]["y"]["difference"] is not None
    assert data["plans"]["raw"]["columns"]["y"]["method"] == "none"
    assert not list(tmp_path.glob(".*.tmp"))  # atomic: no temporary file left


def test_pngs(result, tmp_path):
    for make, name in ((result.plot_losses, "losses.png"), (result.plot_forecasts, "f.png")):
        path = make(tmp_path / name)
        data = path.read_bytes()
        assert data[:8] == PNG and len(data) > 5000


def test_html_section_and_rich(result):
    from rich.console import Console

    fragment = result.html_section()
    assert fragment.count("data:image/png;base64,") == 2
    for name in VARIANTS:
        assert f">{name}" in fragment
    buffer = io.StringIO()
    Console(file=buffer, width=160).print(result)
    text = buffer.getvalue()
    assert "best: " in text and "last value (reference)" in text
    assert all(name in text for name in VARIANTS)


def test_verdict_names_the_winner(result):
    verdict = result.verdict()
    assert verdict.startswith(f"best: {result.best} (RMSE ")
    if result.best != "advised":
        assert "advised is " in verdict


def test_plans_override(frame):
    custom = compare(
        frame,
        "y",
        time="t",
        n_in=N_IN,
        seeds=1,
        epochs=1,
        plans={"raw": None, "normalized": None, "standardized": None},
    )
    assert list(custom.table["variant"]) == ["advised"]
    with pytest.raises(ParameterError):
        compare(frame, ["y"], time="t")
    with pytest.raises(ParameterError):
        compare(frame, "y", time="t", seeds=0)


def test_lstm_is_deterministic_and_restores_settings():
    import torch

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5, 3)).astype(np.float32)
    y = X[:, -1:, :1].copy()
    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    a = _lstm.train_lstm(X, y, seed=4, epochs=4, patience=10)
    b = _lstm.train_lstm(X, y, seed=4, epochs=4, patience=10)
    c = _lstm.train_lstm(X, y, seed=5, epochs=4, patience=10)
    assert a.history == b.history and a.history != c.history
    assert a.epochs_run == 4 and 1 <= a.best_epoch <= 4
    assert a.history["validation"][a.best_epoch - 1] == min(a.history["validation"])
    np.testing.assert_array_equal(_lstm.predict(a.model, X), _lstm.predict(b.model, X))
    assert _lstm.predict(a.model, X).shape == (60, 1, 1)
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == det


def test_import_does_not_load_torch():
    code = (
        "import sys, seqscale, seqscale.lab.compare, seqscale.lab.demo\n"
        "print(','.join(m for m in ('torch', 'matplotlib') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
