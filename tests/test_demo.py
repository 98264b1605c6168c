"""seqscale.lab.demo: the whole story on the bundled macro data (quick mode)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")
pytest.importorskip("statsmodels")

from seqscale.lab.demo import run_demo

FILES = [
    "plan.json",
    "coefficients.json",
    "comparison.json",
    "losses.png",
    "forecasts.png",
    "predictions.csv",
    "drift.csv",
    "report.html",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from rich.console import Console

    out = tmp_path_factory.mktemp("demo") / "out"  # created by run_demo
    buffer = io.StringIO()
    result = run_demo(out, quick=True, console=Console(file=buffer, width=140))
    return out, result, buffer.getvalue()


def test_writes_every_output(demo):
    out, result, _ = demo
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert {p.name for p in result["paths"].values()} == set(FILES)
    for path in result["paths"].values():
        assert path.exists() and path.stat().st_size > 0
    for name in ("losses.png", "forecasts.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_outputs_are_usable(demo):
    import seqscale
    from seqscale.files.io import read_table

    out, _, _ = demo
    plan = seqscale.load_plan(out / "plan.json")
    assert plan["target"] == ["realgdp"]
    pipe = seqscale.load_pipeline(out / "coefficients.json")
    assert list(pipe.targets_) == ["realgdp"]
    preds = read_table(out / "predictions.csv")
    assert {"date", "actual", "raw", "normalized", "standardized", "advised"} <= set(preds.columns)
    assert len(preds) == 41  # the test quarters
    data = json.loads((out / "comparison.json").read_text())
    assert [r["variant"] for r in data["table"]] == ["raw", "normalized", "standardized", "advised"]
    drift = read_table(out / "drift.csv")
    row = drift.set_index("column").loc["realgdp"]
    assert row["level_share_outside"] == 1.0  # real GDP in the test period beats every record


def test_report_has_the_sections(demo):
    out, _, _ = demo
    text = (out / "report.html").read_text()
    assert "LSTM comparison" in text and "Drift" in text
    assert text.count("data:image/png;base64,") >= 3


def test_result_and_console(demo):
    _, result, printed = demo
    assert result["best"] in result["rmse"]
    assert set(result["rmse"]) == {"raw", "normalized", "standardized", "advised"}
    assert result["X_train_shape"][0] == result["y_train_shape"][0]
    assert result["X_test_shape"][0] == 41
    assert isinstance(result["seconds"], float)
    for i in range(1, 8):
        assert f"{i}/7" in printed
    assert "best: " in printed and "report.html" in printed
    assert pd.notna(result["baseline_rmse"])
