"""Every command on files written as people write them: dates as text, years, quarters, panels.

Public data sets come from the ``real_csv`` / ``real_parquet`` fixtures (exported once per
session); small files with a specific defect are written by the tests themselves.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import seqscale
from seqscale.cli.app import app
from seqscale.errors import ParameterError
from seqscale.files import io as sio
from seqscale.frames.time_columns import TimeCellError, find_time, looks_like_time, parse_times

runner = CliRunner()


def run(*args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=True)


def ok(result):
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def user_error(result, *words):
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("seqscale: error:"), result.stderr
    for word in words:
        assert str(word) in lines[0], f"{word!r} not in {lines[0]!r}"
    return lines[0]


def write_plan(path, **columns):
    """A plan for macrodata: log-differenced, standardized real GDP as the target, ``columns``."""
    target = {"role": "target", "log": True, "difference": {"lag": 1, "order": 1}, "method": "standard"}
    plan = {
        "format": "seqscale.plan", "version": 1, "time": "date", "id": None, "target": ["realgdp"],
        "task": "regression", "output_activation": "linear", "window": {"n_in": 4, "n_out": 1},
        "per_series": False, "series_features": False,
        "columns": {"realgdp": target, **{k: {"log": False, "difference": None, "bounds": None, **v}
                                          for k, v in columns.items()}},
    }  # fmt: skip
    path.write_text(json.dumps(plan))


# ------------------------------------------------------------------------------ 1. time parsing
@pytest.mark.parametrize(
    "cells, first, last",
    [
        (["1959Q1", "1959Q2", "1960 Q4"], "1959-01-01", "1960-10-01"),
        (["1980-01", "1980-02"], "1980-01-01", "1980-02-01"),
        (["1980/11", "1980/12"], "1980-11-01", "1980-12-01"),
        (["2020-01-31", "2020-02-01 10:30"], "2020-01-31", "2020-02-01 10:30:00"),
        (["2000-06-01T00:30:00", "2000-06-01T01:00:00"], "2000-06-01 00:30:00", "2000-06-01 01:00:00"),
        (["01/31/2020", "02/01/2020"], "2020-01-31", "2020-02-01"),
    ],
)
def test_text_times_parse_to_datetimes(cells, first, last):
    parsed = parse_times(pd.Series(cells), "t")
    assert pd.api.types.is_datetime64_dtype(parsed.dtype)
    assert parsed.iloc[0] == pd.Timestamp(first) and parsed.iloc[-1] == pd.Timestamp(last)


def test_utc_offsets_become_instants():
    parsed = parse_times(pd.Series(["2020-01-01T00:00+01:00", "2020-01-01T00:00+02:00"]), "t")
    assert str(parsed.dt.tz) == "UTC" and parsed.iloc[0] > parsed.iloc[1]


def test_years_stay_numbers_as_text_or_integers():
    assert parse_times(pd.Series(["1871", "1872"]), "year").tolist() == [1871, 1872]
    years = pd.Series([1871, 1872])
    assert parse_times(years, "year") is years


@pytest.mark.parametrize(
    "cells, row, value",
    [
        (["2020-01-31", "2020-13-01"], 1, "2020-13-01"),
        (["1959Q1", "1959Q2", "1959-07"], 2, "1959-07"),
        (["1980-01", None, "1980-03"], 1, None),
        (["2020-01-01", "yesterday"], 1, "yesterday"),
    ],
)
def test_bad_time_cell_is_named(cells, row, value):
    with pytest.raises(TimeCellError) as info:
        parse_times(pd.Series(cells, dtype=object), "date")
    assert (info.value.row, info.value.value) == (row, value)
    assert "'date'" in str(info.value)


def test_bad_time_cell_in_a_file_names_its_line(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("quarter,gdp\n1959Q1,1.0\n\n1959Q2,2.0\n1959Q5,3.0\n")  # a blank line 3
    with pytest.raises(seqscale.errors.DataFileError, match=r"q.csv: line 5, time column 'quarter'"):
        sio.read_table(path, time="quarter")
    result = run("advise", path, "--target", "gdp", "--time", "quarter")
    user_error(result, "q.csv", "line 5", "'quarter'", "'1959Q5'")


def test_split_by_time_and_pipeline_take_text_dates():
    df = pd.DataFrame({"date": [f"19{y}Q{q}" for y in range(50, 60) for q in range(1, 5)]})
    df["y"] = np.arange(len(df), dtype=float)
    train, test, cutoff = seqscale.split_by_time(df, 0.25, time="date")
    assert cutoff == pd.Timestamp("1957-07-01") and len(test) == 10
    pipe = seqscale.SequencePipeline({"y": {"role": "target", "method": "minmax"}}, time="date", n_in=4)
    X, _ = pipe.fit(train).transform(df)
    assert X.shape == (36, 4, 1)
    assert pipe.inverse_target(X[:, -1:, :]).index[0] == pd.Timestamp("1951-01-01")
    from seqscale.advisor.report import _layout

    advice = seqscale.advise(df, target="y", time="date")
    assert advice.settings["time"] == "date"
    assert _layout(df, advice, None)[1].time_values[4] == np.datetime64("1951-01-01")


# ------------------------------------------------------------------------------ 1. every command
def test_advise_report_plots_against_the_parsed_time(tmp_path, real_csv):
    from seqscale.advisor.report import _layout
    from seqscale.cli.jobs import read_frame

    path = real_csv("airpassengers")  # dates written as 1949-01
    result = ok(run("advise", path, "--target", "passengers", "--report", tmp_path / "r.html"))
    assert "taking 'date' as the time column" in result.stderr
    html = (tmp_path / "r.html").read_text()
    assert "time: date" in html and "row order" not in html
    assert "statistics (all 144 rows given to advise)" in html
    frame, time, _ = read_frame(path)
    layout = _layout(frame, seqscale.advise(frame, target="passengers", time=time), None)[1]
    assert layout.time_label == "date"
    assert layout.time_values[0] == np.datetime64("1949-01-01")


def test_fit_train_until_a_year_is_that_year(tmp_path, real_csv):
    path = real_csv("nile")  # year,volume with years 1871..1970
    result = ok(run("fit", path, "--time", "year", "--train-until", 1950, "-o", tmp_path / "c.json"))
    assert "fitted scaler on 79 rows" in result.stdout  # 1871..1949
    frame = sio.read_table(path)
    ref = seqscale.MinMaxScaler().fit(frame.loc[frame["year"] < 1950, ["volume"]])
    np.testing.assert_array_equal(seqscale.load(tmp_path / "c.json").data_max_, ref.data_max_)
    result = run("fit", path, "--time", "year", "--train-until", 1980, "-o", tmp_path / "d.json")
    user_error(result, "after the last year (1970)", "--train-rows")
    result = ok(run("advise", path, "--target", "volume"))
    assert "'year' is data; pass --time year if it orders the rows" in result.stderr
    result = run("fit", path, "--time", "year", "--train-until", "1950-06", "-o", tmp_path / "d.json")
    user_error(result, "'year' holds numbers")
    assert not (tmp_path / "d.json").exists()


def test_fit_plan_on_quarters_declares_the_test_start(tmp_path, real_csv):
    path = real_csv("macrodata")  # date as 1959Q1, plus an integer 'quarter' column
    write_plan(tmp_path / "plan.json", unemp={"role": "input", "method": "none"})
    keep = ["date", "realgdp", "unemp"]
    sio.write_table(sio.read_table(path, raw=["date"])[keep], tmp_path / "m.csv")
    result = ok(
        run("fit", tmp_path / "m.csv", "--plan", tmp_path / "plan.json", "--train-until", "1990Q1",
            "-o", tmp_path / "pipe.json")
    )  # fmt: skip
    assert "on 124 rows" in result.stdout  # 1959Q1 .. 1989Q4
    pipe = seqscale.load(tmp_path / "pipe.json")
    assert pipe.test_start == pd.Timestamp("1990-01-01")
    assert pipe.cutoff_ == pd.Timestamp("1989-10-01")


def test_parquet_with_real_datetimes_fits_like_the_csv(tmp_path, real_csv, real_parquet):
    for name, path in (("csv", real_csv("airpassengers")), ("pq", real_parquet("airpassengers"))):
        ok(run("fit", path, "--time", "date", "--train-until", "1958-01", "-o", tmp_path / f"{name}.json"))
    csv, pq = seqscale.load(tmp_path / "csv.json"), seqscale.load(tmp_path / "pq.json")
    assert csv.n_samples_seen_ == pq.n_samples_seen_ == 108
    np.testing.assert_array_equal(csv.data_max_, pq.data_max_)


def test_check_of_a_parquet_file_names_rows(tmp_path, real_parquet):
    path = real_parquet("airpassengers")  # a real datetime column
    ok(run("fit", path, "--train-until", "1958-01-01", "-o", tmp_path / "c.json"))
    from seqscale.cli.jobs import check_job

    report, good = check_job(path, tmp_path / "c.json")
    frame = sio.read_table(path)
    first = int(np.argmax(frame["passengers"].to_numpy() > frame["passengers"].iloc[:108].max()))
    assert not good and report.loc["passengers", "first_row"] == f"row {first + 1}"


def test_compare_runs_on_text_quarters(tmp_path, real_csv):
    path = real_csv("woolyrnq")  # 119 quarters written as dates
    result = ok(
        run("compare", path, "--target", "production", "--seeds", 1, "--epochs", 2, "--n-in", 4,
            "--out", tmp_path / "c", "--json", tmp_path / "c.json")
    )  # fmt: skip
    assert "taking 'date' as the time column" in result.stderr
    settings = json.loads((tmp_path / "c.json").read_text())["settings"]
    assert settings["time"] == "date" and str(settings["cutoff"]).startswith("1988-10-01")


def test_compare_refuses_a_share_above_one(tmp_path, real_csv):
    path = real_csv("airpassengers")
    result = run("compare", path, "--target", "passengers", "--test-size", 1.5, "--out", tmp_path / "c")
    user_error(result, "--test-size 1.5")
    assert not (tmp_path / "c").exists()


# ------------------------------------------------------------------------------ 2. date columns
def test_a_date_column_is_never_one_hot_encoded(tmp_path):
    df = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=30).strftime("%Y-%m-%d")})
    df["y"] = np.arange(30.0)
    assert looks_like_time(df["date"]) and not looks_like_time(pd.Series(["00501", "00502"]))
    with pytest.raises(ParameterError, match=r"column 'date' holds dates.*time='date'"):
        seqscale.SequencePipeline(target="y", n_in=3).fit(df)
    advice = seqscale.advise(df, target="y")
    col = {c.name: c for c in advice.columns}["date"]
    assert (col.kind, col.role) == ("datetime", "ignore")
    assert find_time(df, None) == "date"
    two = df.assign(other=df["date"])
    with pytest.raises(ParameterError, match=r"--time COL"):
        find_time(two, None)
    sio.write_table(two, tmp_path / "two.csv")
    user_error(run("advise", tmp_path / "two.csv", "--target", "y"), "['date', 'other']", "--time COL")


# ------------------------------------------------------------------------------ 3. one --id
@pytest.mark.parametrize("sort", ["id", "time"])
def test_panel_in_any_row_order_gives_the_same_coefficients(tmp_path, real_csv, sort):
    path = real_csv("grunfeld", sort=sort)
    ok(run("fit", path, "--id", "firm", "--time", "year", "--train-until", 1950, "--method", "standard",
           "-o", tmp_path / "c.json"))  # fmt: skip
    est = seqscale.load(tmp_path / "c.json")
    frame = sio.read_table(real_csv("grunfeld", sort="id"))
    train = frame[frame["year"] < 1950]
    ref = seqscale.StandardScaler().fit(train[["invest", "value", "capital"]], groups=train["firm"])
    assert list(est.series_) == list(ref.series_)
    np.testing.assert_allclose(est.mean_, ref.mean_, rtol=1e-13)


def test_train_rows_counts_rows_of_each_series(tmp_path, real_csv):
    path = real_csv("grunfeld", sort="time")  # 11 firms, 1935..1954
    ok(run("fit", path, "--id", "firm", "--time", "year", "--train-rows", 15, "-o", tmp_path / "r.json"))
    ok(run("fit", path, "--id", "firm", "--time", "year", "--train-until", 1950, "-o", tmp_path / "t.json"))
    rows, until = seqscale.load(tmp_path / "r.json"), seqscale.load(tmp_path / "t.json")
    np.testing.assert_array_equal(rows.data_max_, until.data_max_)
    result = run("fit", path, "--id", "firm", "--train-rows", 20, "-o", tmp_path / "x.json")
    user_error(result, "--train-rows 20 keeps every row", "20 rows")


def test_groups_is_a_deprecated_alias_of_id(tmp_path, real_csv):
    path = real_csv("grunfeld")
    result = ok(run("fit", path, "--groups", "firm", "--time", "year", "-o", tmp_path / "c.json"))
    assert "--groups is deprecated; use --id" in result.stderr
    result = run("transform", path, "-c", tmp_path / "c.json", "-o", tmp_path / "s.csv")
    user_error(result, "per-series", "--id COL")


# ------------------------------------------------------------------------------ 4. check
def _macro(tmp_path, real_csv):
    frame = sio.read_table(real_csv("macrodata"), raw=["date"])[["date", "realgdp", "tbilrate", "unemp"]]
    sio.write_table(frame, tmp_path / "m.csv")
    write_plan(
        tmp_path / "plan.json",
        tbilrate={"role": "input", "method": "none"},
        unemp={"role": "input", "method": "minmax"},
    )
    ok(run("fit", tmp_path / "m.csv", "--plan", tmp_path / "plan.json", "--train-until", "1970Q1",
           "-o", tmp_path / "pipe.json"))  # fmt: skip
    return frame


def test_check_judges_unscaled_inputs_and_names_units_and_lines(tmp_path, real_csv):
    frame = _macro(tmp_path, real_csv)
    later = frame.iloc[80:92].reset_index(drop=True)  # 1979Q1 .. 1981Q4: rates of 10-15 %
    sio.write_table(later, tmp_path / "later.csv")
    from seqscale.cli.jobs import check_job

    report, good = check_job(tmp_path / "later.csv", tmp_path / "pipe.json", tolerance=0.5)
    assert not good
    rate = report.loc["tbilrate"]  # method "none": fed unscaled, still checked
    train = frame.iloc[:44]["tbilrate"]
    assert rate["fitted_high"] == train.max() and rate["units"] == "levels"
    above = later["tbilrate"].iloc[1:] > train.max()  # the first row only starts the differences
    assert rate["n_above"] == above.sum() > 0
    assert rate["first_row"] == f"line {3 + int(np.argmax(above.to_numpy()))}"
    assert report.loc["realgdp", "units"] == "differences (lag 1) of log1p"
    result = run("check", tmp_path / "later.csv", "-c", tmp_path / "pipe.json", "--tolerance", 0.5)
    assert result.exit_code == 1
    assert "tbilrate" in result.stdout and "differences (lag 1) of log1p" in result.stdout


def test_check_per_series_fills_excess_first_row_and_shift(tmp_path, real_csv):
    path = real_csv("grunfeld", sort="time")
    ok(run("fit", path, "--id", "firm", "--time", "year", "--train-until", 1950, "-o", tmp_path / "c.json"))
    result = run("check", path, "-c", tmp_path / "c.json", "--id", "firm")
    assert result.exit_code == 1
    from seqscale.cli.jobs import check_job

    report, _ = check_job(path, tmp_path / "c.json", id="firm")
    row = report.loc[("General Motors", "invest")]
    gm = sio.read_table(path)
    gm = gm[gm["firm"] == "General Motors"].reset_index()
    high = gm.loc[gm["year"] < 1950, "invest"].max()
    assert row["max_excess"] == pytest.approx(gm["invest"].max() - high)
    first = int(gm.loc[gm["invest"] > high, "index"].iloc[0])
    assert row["first_row"] == f"line {first + 2}"
    assert row["mean_shift_std"] > 0


# ------------------------------------------------------------------------------ 5. inverse
def test_inverse_of_a_differenced_pipeline_needs_the_history(tmp_path, real_csv):
    frame = _macro(tmp_path, real_csv)
    ok(run("transform", tmp_path / "m.csv", "-c", tmp_path / "pipe.json", "-o", tmp_path / "s.csv"))
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run("inverse", tmp_path / "s.csv", "-c", tmp_path / "pipe.json", "-o", tmp_path / "b.csv")
    user_error(result, "'realgdp' (lag 1)", "--history")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    result = ok(
        run("inverse", tmp_path / "s.csv", "-c", tmp_path / "pipe.json", "-o", tmp_path / "b.csv",
            "--history", tmp_path / "m.csv")
    )  # fmt: skip
    assert "levels in original units" in result.stdout
    back = sio.read_table(tmp_path / "b.csv")
    np.testing.assert_array_equal(back["realgdp"], frame["realgdp"].iloc[1:])  # as written: 2710.349
    np.testing.assert_array_equal(back["tbilrate"], frame["tbilrate"].iloc[1:])
    np.testing.assert_array_equal(back["unemp"], frame["unemp"].iloc[1:])  # min-max, as written
    scaled = sio.read_table(tmp_path / "s.csv", raw=["date"])  # a pipeline writes ISO dates
    assert back["date"].tolist() == scaled["date"].tolist() and scaled["date"][0] == "1959-04-01"


# ------------------------------------------------------------------------------ 6. exact values
@pytest.mark.parametrize("method", ["minmax", "standard", "robust", "maxabs"])
def test_prices_survive_transform_and_inverse_exactly(tmp_path, real_csv, method):
    prices = sio.read_table(real_csv("msft"), raw=["date"]).iloc[-600:]
    prices[["open", "close"]] = prices[["open", "close"]].round(2)  # as quoted: cents
    prices["zip"], prices["ratio"], prices["big"] = "00501", "5.10", "1e3"
    sio.write_table(prices[["date", "open", "close", "zip", "ratio", "big"]], tmp_path / "p.csv")
    ok(run("fit", tmp_path / "p.csv", "--column", "open", "--column", "close", "--method", method,
           "-o", tmp_path / "c.json"))  # fmt: skip
    ok(run("transform", tmp_path / "p.csv", "-c", tmp_path / "c.json", "-o", tmp_path / "s.csv"))
    assert sio.read_table(tmp_path / "s.csv", raw=["zip"])["zip"].eq("00501").all()
    ok(run("inverse", tmp_path / "s.csv", "-c", tmp_path / "c.json", "-o", tmp_path / "b.csv"))
    assert (tmp_path / "b.csv").read_text() == (tmp_path / "p.csv").read_text()


def test_inverse_reports_columns_it_leaves_alone(tmp_path):
    sio.write_table(pd.DataFrame({"y": [1.0, 2.0, 4.0]}), tmp_path / "t.csv")
    ok(run("fit", tmp_path / "t.csv", "-o", tmp_path / "c.json"))
    sio.write_table(pd.DataFrame({"y": [0.5], "extra": [3.0]}), tmp_path / "pred.csv")
    result = ok(run("inverse", tmp_path / "pred.csv", "-c", tmp_path / "c.json", "-o", tmp_path / "b.csv"))
    assert "left as read (no coefficients for them): extra" in result.stdout
    assert sio.read_table(tmp_path / "b.csv")["y"].tolist() == [2.5]


def test_missing_cells_are_counted(tmp_path):
    (tmp_path / "t.csv").write_text("t,y\n1,1.5\n2,n/a\n3,NA\n4,2.5\n")
    result = ok(run("fit", tmp_path / "t.csv", "--time", "t", "-o", tmp_path / "c.json"))
    assert "fitted scaler on 4 rows; 2 missing value(s) skipped" in result.stdout


# ------------------------------------------------------------------------------ 10. small
def test_cli_warnings_are_one_line_without_source_paths(tmp_path):
    sio.write_table(pd.DataFrame({"t": [1, 2, 3], "c": [5.0, 5.0, 5.0]}), tmp_path / "k.csv")
    result = runner.invoke(
        app, ["fit", str(tmp_path / "k.csv"), "--time", "t", "-o", str(tmp_path / "c.json")]
    )
    assert result.exit_code == 0
    assert "seqscale: warning: MinMaxScaler: feature(s) ['c'] are constant" in result.stderr
    assert ".py:" not in result.stderr


def test_piped_tables_print_every_word(tmp_path, real_csv):
    result = ok(run("advise", real_csv("nile"), "--target", "volume", "--time", "year"))
    advice = seqscale.advise(sio.read_table(real_csv("nile")), target="volume", time="year")
    line = next(ln for ln in result.stdout.splitlines() if ln.lstrip().startswith("volume"))
    assert " ".join(advice.columns[0].reason.split()) in line  # whole, on the column's own line
    assert "…" not in result.stdout


@pytest.mark.parametrize("lag, order", [(1, 1), (4, 1), (1, 2)])
def test_rebuild_levels_inside_and_past_the_history(lag, order):
    from seqscale.files.inverse import rebuild_levels

    rng = np.random.default_rng(lag + order)
    x = np.cumsum(rng.integers(-9, 10, size=40)).astype(float) + 500
    d = pd.Series(x).diff(lag) if order == 1 else pd.Series(x).diff(lag).diff(lag)
    frame = pd.DataFrame({"t": np.arange(40), "y": d.to_numpy()}).iloc[order * lag :]
    history = pd.DataFrame({"t": np.arange(30), "y": x[:30]})  # the last 10 rows are rebuilt in turn
    back, _ = rebuild_levels(frame, history, "y", lag=lag, order=order, log=False, time="t", id=None)
    np.testing.assert_array_equal(back, x[order * lag :])
    with pytest.raises(seqscale.errors.InputError, match="earlier observation"):
        rebuild_levels(frame, history.iloc[order * lag :], "y", lag=lag, order=order, log=False,
                       time="t", id=None)  # fmt: skip


def test_ordinals():
    from seqscale.advisor.results import _ordinal

    assert [_ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 111, 103)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "111th", "103rd",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "method, words", [("minmax", "minmax-scaled"), ("standard", "beyond any it was trained")]
)
def test_out_of_range_warning_speaks_of_the_chosen_method(method, words):
    from seqscale.advisor.rules import range_warnings

    tail = {"share": 0.3, "train_min": 0.0, "train_max": 1.0}
    (text,) = range_warnings({}, tail, 0.3, False, 0.2, method)
    assert words in text and ("minmax" in text) == (method == "minmax")


@pytest.mark.parametrize(
    "module",
    [
        "seqscale.frames.time_columns",
        "seqscale.files.inverse",
        "seqscale.sequence.split",
        "seqscale.files.io",
    ],
)
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
