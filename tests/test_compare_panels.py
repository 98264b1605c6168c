"""seqscale.lab.compare.compare on panels (long format), user plans, references and the CLI end to end.

Tiny networks (1-2 epochs, 1 seed) keep these fast: they test what is compared and how it is
scored, not how well an LSTM learns.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from typer.testing import CliRunner

from seqscale.cli.app import app
from seqscale.errors import InputError, ParameterError
from seqscale.lab.compare import _prepare, _uniform_plan, compare, variant_plans
from seqscale.lab.compare_rows import order_rows, split_rows
from seqscale.lab.truth import season_length
from seqscale.sequence.plan import load_plan, save_plan

FIRMS = {"acme": 100.0, "bolt": 400.0, "corp": 1600.0, "dyna": 50.0}
YEARS = np.arange(1971, 2001)  # 30 years; test = the last 6
FAST = {"n_in": 3, "seeds": 1, "epochs": 2, "patience": 1}


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for k, (firm, size) in enumerate(FIRMS.items()):
        level = size * np.exp(np.cumsum(rng.normal(0.03, 0.05, YEARS.size)))
        for year, sales, x in zip(YEARS, level, rng.normal(size=YEARS.size)):
            rows.append({"firm": firm, "year": int(year), "code": 1000.0 * (k + 1), "x": x, "sales": sales})
    return pd.DataFrame(rows)  # sorted by firm, then year


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return _panel()


@pytest.fixture(scope="module")
def by_year(panel) -> pd.DataFrame:
    return panel.sort_values(["year", "firm"], kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def result(by_year):
    return compare(by_year, "sales", time="year", id="firm", **FAST)


# ------------------------------------------------------------------------------------------ panels
def test_any_row_order_gives_the_same_result(result, panel):
    shuffled = panel.sample(frac=1.0, random_state=1)
    for frame in (panel, shuffled):
        again = compare(frame, "sales", time="year", id="firm", **FAST)
        pd.testing.assert_frame_equal(again.table, result.table)
        pd.testing.assert_frame_equal(again.series_table, result.series_table)
        pd.testing.assert_frame_equal(again.predictions, result.predictions)


def test_windows_never_cross_a_series(by_year):
    df, _ = order_rows(by_year, "year", "firm")
    split = split_rows(df, 0.2, "year")
    plans = variant_plans(split.train, "sales", time="year", id="firm", n_in=3)
    raw = plans["raw"]
    raw["columns"]["code"] = {
        "role": "input",
        "log": False,
        "difference": None,
        "method": "none",
        "bounds": None,
    }
    variant = _prepare("raw", raw, split, "firm")
    code = list(variant.pipe.feature_names_out_).index("code")
    for X in (variant.X_train, variant.X_test):
        window_codes = X[:, :, code]
        assert (window_codes == window_codes[:, :1]).all()  # one series per window
        assert set(np.unique(window_codes)) == {1000.0, 2000.0, 3000.0, 4000.0}
    # per firm: 24 training years -> 24 - n_in - n_out + 1 = 21 windows; 6 test windows
    assert variant.X_train.shape[0] == 4 * 21
    assert variant.X_test.shape[0] == 4 * 6


def test_results_per_series_and_pooled(result, by_year):
    st = result.series_table
    assert st["firm"].tolist() == sorted(FIRMS)
    assert (st["n_test"] == 6).all()
    assert set(st["best"]) <= set(result.table["variant"])
    # one seed: pooled MSE is the test-point-weighted mean of the per-series MSEs
    for row in result.table.itertuples():
        per = st[row.variant].to_numpy()
        assert row.rmse_mean == pytest.approx(math.sqrt(np.sum(per**2 * 6) / 24))
    # the last-value reference by hand, per series and pooled
    errors = []
    for firm in FIRMS:
        sales = by_year.loc[by_year["firm"] == firm, "sales"].to_numpy()
        err = sales[-6:] - sales[-7:-1]
        errors.append(err)
        assert st.set_index("firm").loc[firm, "last value"] == pytest.approx(np.sqrt(np.mean(err**2)))
    assert result.baseline["rmse"] == pytest.approx(np.sqrt(np.mean(np.concatenate(errors) ** 2)))
    # forecasts of every (firm, year) of the test period, none other
    expected = pd.MultiIndex.from_product([sorted(FIRMS), YEARS[-6:]], names=["firm", "year"])
    assert result.predictions.index.equals(expected)
    assert "advised best in" in result.verdict()


def test_rows_the_advice_saw(result):
    seen = result.settings["advice_rows"]
    assert seen == {"rows": 4 * 24, "first": 1971, "last": 1994, "series": 4}
    assert result.settings["cutoff"] == 1995
    note = result.rows_note()
    assert "96 training rows of 4 series (year 1971 to 1994)" in note and "from 1995" in note


def test_a_panel_without_id_is_refused(by_year):
    with pytest.raises(InputError, match=r"repeats values \(1971 is on 4 rows.*--id COL"):
        compare(by_year, "sales", time="year", **FAST)
    with pytest.raises(ParameterError, match="needs time="):
        compare(by_year, "sales", id="firm", **FAST)
    twice = pd.concat([by_year, by_year.iloc[:1]])
    with pytest.raises(InputError, match="series 'acme' has more than one row at year=1971"):
        compare(twice, "sales", time="year", id="firm", **FAST)


def test_short_and_late_series_are_skipped(panel):
    short = pd.DataFrame(
        {"firm": "tiny", "year": [1995, 1996, 1997, 1998], "code": 0.0, "x": 0.0, "sales": 9.0}
    )
    late = short.assign(firm="late", year=[1997, 1998, 1999, 2000])
    frame = pd.concat([panel, short, late], ignore_index=True)
    result = compare(frame, "sales", time="year", id="firm", **FAST)
    assert result.settings["skipped_series"] == ["late", "tiny"]
    assert result.series_table["firm"].tolist() == sorted(FIRMS)
    assert "2 series too short for a training window skipped (late, tiny)" in result.rows_note()


# ------------------------------------------------------------------------------------------ plans
def test_a_user_plan_is_compared_on_the_same_footing(result, by_year, tmp_path):
    mine = save_plan(result.plans["advised"], tmp_path / "mine.json")
    again = compare(by_year, "sales", time="year", id="firm", plans={"mine": mine}, **FAST)
    table = again.table.set_index("variant")
    # the advised plan given back as a file: same split, windows, seeds and network -> same numbers
    assert table.loc["mine", "rmse_mean"] == table.loc["advised", "rmse_mean"]
    assert again.settings["plan_sources"]["mine"] == str(mine)
    assert again.settings["plan_sources"]["advised"] == "advice on the training rows"
    data = again.to_dict()
    assert data["settings"]["plan_sources"]["mine"] == str(mine)
    assert data["plans"]["mine"]["columns"] == data["plans"]["advised"]["columns"]


def test_a_plan_for_another_target_is_refused(result, by_year, tmp_path):
    plan = json.loads(json.dumps(result.plans["advised"]))
    plan["target"] = ["x"]
    plan["columns"]["x"]["role"], plan["columns"]["sales"]["role"] = "target", "input"
    with pytest.raises(ParameterError, match=r"predicts \['x'\], but the comparison's target is 'sales'"):
        compare(by_year, "sales", time="year", id="firm", plans={"other": plan}, **FAST)


def test_uniform_plans_keep_roles_and_per_series(result):
    for name, method in (("raw", "none"), ("normalized", "minmax"), ("standardized", "standard")):
        plan = result.plans[name]
        assert plan["per_series"] is True and plan["id"] == "firm"
        assert plan["columns"]["sales"]["method"] == method
        assert plan["columns"]["sales"]["difference"] is None
    assert _uniform_plan(result.plans["advised"], "minmax")["columns"]["sales"]["feature_range"] == [0, 1]


# ------------------------------------------------------------------------------------------ references
def test_season_length():
    dates = lambda freq, n=40: pd.Series(pd.date_range("2001-01-01", periods=n, freq=freq))  # noqa: E731
    assert [season_length(dates(f)) for f in ("MS", "QS", "W-SAT", "D", "30min", "h")] == [
        12,
        4,
        52,
        7,
        48,
        24,
    ]
    assert season_length(dates("B")) == 5
    assert season_length(dates("YS")) is None
    assert season_length(pd.Series(YEARS)) is None


def test_seasonal_naive_reference_by_hand():
    t = pd.date_range("2000-01-01", periods=72, freq="MS")
    y = 100 + 10 * np.sin(2 * np.pi * np.arange(72) / 12) + np.arange(72) * 0.5
    frame = pd.DataFrame({"date": t, "y": y})
    result = compare(frame, "y", time="date", test_size=12, **FAST)
    ref = result.references["seasonal naive (m=12)"]
    err = y[-12:] - y[-24:-12]  # the value one season earlier
    assert ref["rmse"] == pytest.approx(np.sqrt(np.mean(err**2))) and ref["n"] == 12
    assert result.settings["season"] == 12
    assert "Seasonal naive (m=12): RMSE" in result.verdict()


def test_test_size_is_checked(by_year):
    for bad in (1.5, 0, 30, -0.2):
        with pytest.raises(ParameterError, match="test_size"):
            compare(by_year, "sales", time="year", id="firm", test_size=bad, **FAST)


# ------------------------------------------------------------------------------------------ CLI
runner = CliRunner()


def _cli(*args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=True)


@pytest.mark.slow
def test_cli_panel_end_to_end_sorted_by_time_or_by_id(panel, by_year, tmp_path):
    tables = []
    for name, frame in (("by_year", by_year), ("by_firm", panel)):
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        out = tmp_path / f"out_{name}"
        args = ["compare", path, "--target", "sales", "--time", "year", "--id", "firm", "--out", out]
        res = _cli(*args, "--n-in", 3, "--seeds", 1, "--epochs", 2, "--patience", 1)
        assert res.exit_code == 0, (res.stdout, res.stderr, res.exception)
        assert "Traceback" not in res.stdout and "RMSE per series" in res.stdout
        assert "96 training rows of 4 series" in res.stdout
        assert sorted(p.name for p in out.iterdir()) == [
            "comparison.json", "forecasts.png", "losses.png", "plans", "report.html",
        ]  # fmt: skip
        assert "RMSE per series" in (out / "report.html").read_text()
        data = json.loads((out / "comparison.json").read_text())
        assert [r["firm"] for r in data["series_table"]] == sorted(FIRMS)
        assert data["settings"]["plan_sources"]["advised"] == "advice on the training rows"
        plan = load_plan(out / "plans" / "advised.json")
        assert plan["id"] == "firm" and plan["per_series"] is True and plan["window"]["n_in"] == 3
        tables.append(data["table"])
    assert tables[0] == tables[1]


def test_cli_panel_without_id_is_one_line_and_writes_nothing(by_year, tmp_path):
    path = tmp_path / "panel.csv"
    by_year.to_csv(path, index=False)
    out = tmp_path / "out"
    res = _cli("compare", path, "--target", "sales", "--time", "year", "--out", out, "--epochs", 1)
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seqscale: error:") and "--id COL" in lines[0]
    assert not out.exists()


def test_cli_plan_files_named_twice_are_refused(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "p.json").write_text("{}")
    res = _cli(
        "compare",
        tmp_path / "x.csv",
        "-t",
        "y",
        "--plan",
        tmp_path / "a/p.json",
        "--plan",
        tmp_path / "b/p.json",
    )
    assert res.exit_code == 2 and "both be variant 'p'" in res.stderr


@pytest.mark.slow
def test_validated_row(by_year):
    import importlib

    if not hasattr(importlib.import_module("seqscale.advisor.api"), "validated_advice"):
        pytest.skip("this seqscale has no validated advice")
    frame = by_year[by_year["firm"] == "bolt"]
    result = compare(frame, "sales", time="year", validate=True, **FAST)
    table = result.table.set_index("variant")
    assert list(table.index) == ["raw", "normalized", "standardized", "advised", "validated"]
    assert result.settings["plan_sources"]["validated"] == "validated advice on the training rows"
    if result.plans["validated"]["columns"] == result.plans["advised"]["columns"]:  # rules kept
        assert table.loc["validated", "rmse_mean"] == table.loc["advised", "rmse_mean"]
    assert "validated is " in result.verdict() or result.best == "validated"


@pytest.mark.slow
def test_cli_on_the_grunfeld_panel_csv_in_both_orders(real_csv, tmp_path):
    pytest.importorskip("statsmodels")
    results = []
    for order in ("time", "id"):
        out = tmp_path / order
        args = ["compare", real_csv("grunfeld", sort=order), "-t", "invest", "--time", "year", "--id", "firm"]
        res = _cli(*args, "--out", out, "--n-in", 3, "--seeds", 1, "--epochs", 1, "--patience", 1)
        assert res.exit_code == 0, (res.stdout, res.stderr, res.exception)
        assert "InvalidIndexError" not in res.stdout + res.stderr
        data = json.loads((out / "comparison.json").read_text())
        assert len(data["series_table"]) == 11 and data["settings"]["cutoff"] == 1951
        results.append(data["table"])
    assert results[0] == results[1]


@pytest.mark.slow
def test_cli_on_a_parquet_series_with_real_dates(real_parquet, tmp_path):
    out = tmp_path / "out"
    args = ["compare", real_parquet("airpassengers"), "-t", "passengers", "--time", "date", "--out", out]
    res = _cli(*args, "--n-in", 12, "--seeds", 1, "--epochs", 1, "--patience", 1)
    assert res.exit_code == 0, (res.stdout, res.stderr, res.exception)
    data = json.loads((out / "comparison.json").read_text())
    assert data["settings"]["season"] == 12 and "seasonal naive (m=12)" in data["references"]
    assert data["settings"]["advice_rows"]["last"].startswith("1958-")


# ------------------------------------------------------------------------------ rows in errors
def _shuffled_with(column: str, firm: str, year: int, value: float) -> tuple[pd.DataFrame, int]:
    """The panel in random row order with ``value`` at (firm, year); that row's position."""
    frame = _panel().sample(frac=1.0, random_state=2).reset_index(drop=True)
    row = int(np.flatnonzero(((frame["firm"] == firm) & (frame["year"] == year)).to_numpy())[0])
    frame.loc[row, column] = value
    return frame, row


@pytest.mark.parametrize("year", [1980, 1998])  # a training row, a test row
def test_errors_name_the_callers_row_of_a_shuffled_panel(year):
    frame, row = _shuffled_with("x", "bolt", year, np.inf)
    with pytest.raises(InputError) as info:
        compare(frame, "sales", time="year", id="firm", **FAST)
    assert info.value.rows == (row,)
    assert str(info.value).startswith("variant 'raw': ")
    assert f"holds an infinite value (first at row {row})" in str(info.value)


def test_compare_on_the_command_line_names_the_line_of_a_shuffled_file(tmp_path):
    frame, row = _shuffled_with("x", "corp", 1985, np.inf)
    frame.to_csv(tmp_path / "p.csv", index=False)
    args = ["compare", str(tmp_path / "p.csv"), "--target", "sales", "--time", "year", "--id", "firm"]
    result = CliRunner().invoke(app, [*args, "--seeds", "1", "--epochs", "1", "--n-in", "3"])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert f"infinite value (first at line {row + 2})" in result.stderr
