"""Public data sets (seqscale.datasets): shapes, known values, metadata, CSV/Parquet exports, offline."""

from __future__ import annotations

import dataclasses
import functools
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from seqscale import datasets
from seqscale.errors import ParameterError

MACRO_COLUMNS = [
    "date", "quarter", "realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1",
    "tbilrate", "unemp", "pop", "infl", "realint",
]  # fmt: skip
T = pd.Timestamp
#: name -> (columns, (first time, first target), (last time, last target))
KNOWN = {
    "macrodata": (MACRO_COLUMNS, (T("1959-01-01"), 2710.349), (T("2009-07-01"), 12990.341)),
    "co2": (["date", "co2"], (T("1958-03-29"), 316.1), (T("2001-12-29"), 371.5)),
    "nile": (["year", "volume"], (1871, 1120.0), (1970, 740.0)),
    "sunspots": (["year", "sunactivity"], (1700, 5.0), (2008, 2.9)),
    "grunfeld": (["firm", "year", "invest", "value", "capital"], (1935, 2.938), (1954, 68.6)),
    "fertility": (["country", "year", "fertility"], (1960, 7.671), (2011, 3.643)),
    "interest_inflation": (["date", "inflation", "rate"], (T("1972-04-01"), 0.083), (T("1998-10-01"), 0.038)),
    "elnino": (["date", "temperature"], (T("1950-01-01"), 23.11), (T("2010-12-01"), 22.07)),
    "airpassengers": (["date", "passengers"], (T("1949-01-01"), 112.0), (T("1960-12-01"), 432.0)),
    "wineind": (["date", "sales"], (T("1980-01-01"), 15136.0), (T("1994-08-01"), 23356.0)),
    "woolyrnq": (["date", "production"], (T("1965-01-01"), 6172.0), (T("1994-07-01"), 6396.0)),
    "taylor": (["time", "demand"], (T("2000-06-05 00:00"), 22262.0), (T("2000-08-27 23:30"), 23132.0)),
    "msft": (
        ["date", "open", "high", "low", "close", "volume"],
        (T("1986-03-13"), 0.07533),
        (T("2017-11-10"), 83.87),
    ),
}  # fmt: skip
#: name -> (first data line, last data line) of the CSV export (panels sorted by id, then time)
CSV_LINES = {
    "macrodata": (
        "1959Q1,1,2710.349,1707.4,286.898,470.045,1886.9,28.98,139.7,2.82,5.8,177.146,0.0,0.0",
        "2009Q3,3,12990.341,9256.0,1486.398,1044.088,10040.6,216.385,1673.9,0.12,9.6,308.013,3.56,-3.44",
    ),
    "co2": ("1958-03-29,316.1", "2001-12-29,371.5"),
    "nile": ("1871,1120.0", "1970,740.0"),
    "sunspots": ("1700,5.0", "2008,2.9"),
    "grunfeld": ("American Steel,1935,2.938,30.284,52.011", "Westinghouse,1954,68.6,1188.9,213.5"),
    "fertility": ("Afghanistan,1960,7.671", "Zimbabwe,2011,3.643"),
    "interest_inflation": ("1972Q2,-0.00313258,0.083", "1998Q4,0.0239234,0.038"),
    "elnino": ("1950-01,23.11", "2010-12,22.07"),
    "airpassengers": ("1949-01,112.0", "1960-12,432.0"),
    "wineind": ("1980-01-01,15136.0", "1994-08-01,23356.0"),
    "woolyrnq": ("1965-01-01,6172.0", "1994-07-01,6396.0"),
    "taylor": ("2000-06-05 00:00:00,22262.0", "2000-08-27 23:30:00,23132.0"),
    "msft": (
        "1986-03-13,0.0672,0.07533,0.0672,0.07533,1371330506",
        "2017-11-10,83.79,84.095,83.23,83.87,19396301",
    ),
}  # fmt: skip
NAMES = list(KNOWN)
PANELS = ["grunfeld", "fertility"]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a data set loader tried to use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@functools.cache
def _loaded(name: str) -> pd.DataFrame:
    return datasets.load_dataset(name)


def load(name: str) -> pd.DataFrame:
    return _loaded(name).copy()


def series_of(frame: pd.DataFrame, info: datasets.DatasetInfo) -> list[pd.DataFrame]:
    if info.id is None:
        return [frame]
    return [part for _, part in frame.groupby(info.id, sort=False)]


def test_the_set_covers_frequencies_kinds_and_panels():
    infos = [datasets.dataset_info(name) for name in datasets.list_datasets()]
    assert len(infos) == 13 and [info.name for info in infos] == NAMES
    assert {info.frequency for info in infos} == set(datasets.FREQUENCIES)
    assert {kind for info in infos for kind in info.kinds} == set(datasets.KINDS)
    assert [info.name for info in infos if info.id is not None] == PANELS
    assert {info.time_format for info in infos} == set(datasets.TIME_FORMATS)
    assert [info.pandas_freq for info in infos[:2]] == ["QS", "W-SAT"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        infos[0].target = "cpi"


@pytest.mark.parametrize("name", NAMES)
def test_loads_with_documented_shape_and_known_values(name):
    info = datasets.dataset_info(name)
    frame = load(name)
    columns, (time0, first), (time1, last) = KNOWN[name]
    assert list(frame.columns) == columns
    assert frame.shape == (info.rows, len(columns))
    if info.id is not None:  # the first and last series in id order
        frame = frame[frame[info.id].isin(frame[info.id].iloc[[0, -1]])]
    assert (frame[info.time].iloc[0], frame[info.target].iloc[0]) == (time0, first)
    assert (frame[info.time].iloc[-1], frame[info.target].iloc[-1]) == (time1, last)


@pytest.mark.parametrize("name", NAMES)
def test_metadata_matches_the_frame(name):
    info = datasets.dataset_info(name)
    frame = load(name)
    assert info.target in frame and frame[info.target].dtype == np.float64
    assert not frame[info.target].isna().any()
    if info.frequency == "annual":
        assert frame[info.time].dtype == np.int64
    else:
        assert pd.api.types.is_datetime64_any_dtype(frame[info.time])
    assert info.series == (1 if info.id is None else frame[info.id].nunique())
    assert set(info.kinds) <= set(datasets.KINDS) and info.description and info.licence
    assert info.source.startswith(("statsmodels.datasets ", "pmdarima.datasets "))
    for part in series_of(frame, info):
        times = part[info.time]
        assert times.is_monotonic_increasing and times.is_unique
        _assert_regular(times, info)


def _assert_regular(times: pd.Series, info: datasets.DatasetInfo) -> None:
    """Every step is one period of the documented frequency (trading days: one business day,
    bar holidays)."""
    if info.frequency == "annual":
        np.testing.assert_array_equal(times, np.arange(times.iloc[0], times.iloc[0] + len(times)))
    elif info.frequency == "business-daily":
        assert (times.dt.day_of_week < 5).all()
        business_days = np.busday_count(times.to_numpy()[:-1].astype("datetime64[D]"),
                                        times.to_numpy()[1:].astype("datetime64[D]"))  # fmt: skip
        # the longest closures: 11-14 Sep 2001 (5 business days to the next trading day), then
        # Ford's funeral (2 Jan 2007) and hurricane Sandy (29-30 Oct 2012)
        assert business_days.min() == 1 and business_days.max() == 5
        assert np.count_nonzero(business_days >= 3) == 3
        assert np.mean(business_days == 1) > 0.95
    else:
        expected = pd.date_range(times.iloc[0], periods=len(times), freq=info.pandas_freq)
        np.testing.assert_array_equal(times.to_numpy(), expected.to_numpy())


def _measured_kinds(frame: pd.DataFrame, info: datasets.DatasetInfo) -> set[str]:
    """The kinds a target shows, by the criteria written in docs/datasets.md."""
    parts = [part[info.target].to_numpy() for part in series_of(frame, info)]
    y = np.concatenate(parts)
    trend = np.median([abs(stats.spearmanr(np.arange(len(p)), p).statistic) for p in parts])
    found = {"trending"} if trend >= 0.5 else set()
    if info.season_length and _seasonal_strength(y, info.season_length) >= 0.5:
        found.add("seasonal")
    if info.season_length is None and info.id is None and _cycle_peak(y) >= 0.3:
        found.add("cyclic")
    if "trending" not in found and info.id is None and _level_shift(y) >= 1.5:
        found.add("level-shift")
    if y.min() >= 0 and y.max() <= 1:
        found.add("bounded")
    if np.median(np.abs(y)) < 0.1:
        found.add("tiny")
    if stats.skew(y) >= 0.75:
        found.add("skewed")
    returns = np.diff(np.log(y)) if info.id is None and (y > 0).all() else np.zeros(3)
    if stats.kurtosis(y) > 3 or stats.kurtosis(returns) > 5:
        found.add("heavy-tailed")
    if _scale_span(frame, info, parts) >= 100:
        found.add("mixed-scale")
    return found


def _seasonal_strength(y: np.ndarray, period: int) -> float:
    from statsmodels.tsa.seasonal import STL

    fit = STL(y, period=period).fit()
    return max(0.0, 1 - np.var(fit.resid) / np.var(fit.resid + fit.seasonal))


def _cycle_peak(y: np.ndarray) -> float:
    """Highest autocorrelation (lags up to 20) after it first turns negative."""
    from statsmodels.tsa.stattools import acf

    correlations = acf(y, nlags=20)
    negative = np.flatnonzero(correlations < 0)
    return float(correlations[negative[0] :].max()) if len(negative) else 0.0


def _level_shift(y: np.ndarray) -> float:
    """Largest gap between the means before and after a split, in within-segment std."""
    best = 0.0
    for k in range(len(y) // 5, len(y) - len(y) // 5):
        before, after = y[:k], y[k:]
        within = np.sqrt((before.var() * k + after.var() * (len(y) - k)) / len(y))
        best = max(best, abs(before.mean() - after.mean()) / within)
    return best


def _scale_span(frame, info, parts) -> float:
    """Ratio of the largest to the smallest typical magnitude: of the value columns, and (panels,
    x10 so that a tenfold spread counts) of the series."""
    medians = frame.drop(columns=[c for c in (info.time, info.id) if c]).abs().median()
    span = medians.max() / medians[medians > 0].min()
    if info.id is not None:
        typical = [np.median(np.abs(p)) for p in parts]
        span = max(span, 10 * max(typical) / min(typical))
    return float(span)


@pytest.mark.parametrize("name", NAMES)
def test_kinds_are_what_the_data_shows(name):
    info = datasets.dataset_info(name)
    assert _measured_kinds(load(name), info) == set(info.kinds)


@pytest.mark.parametrize("name", NAMES)
def test_csv_is_written_as_people_write_it(name, real_csv):
    info = datasets.dataset_info(name)
    lines = real_csv(name).read_text().splitlines()
    assert lines[0] == ",".join(KNOWN[name][0])
    assert (lines[1], lines[-1]) == CSV_LINES[name]
    assert len(lines) == info.rows + 1


def _parse_time(text: pd.Series, time_format: str) -> pd.Series:
    if time_format == "year":
        return text.astype("int64")
    if time_format == "year-quarter":
        return pd.PeriodIndex(text, freq="Q").to_timestamp().to_series(index=text.index)
    return pd.to_datetime(text, format={"year-month": "%Y-%m"}.get(time_format, "ISO8601"))


@pytest.mark.parametrize("name", NAMES)
def test_csv_reads_back_to_the_same_numbers(name, real_csv):
    info = datasets.dataset_info(name)
    text = pd.read_csv(real_csv(name), dtype={info.time: str})
    text[info.time] = _parse_time(text[info.time], info.time_format)
    expected = load(name)
    text[info.time] = text[info.time].astype(expected[info.time].dtype)
    pd.testing.assert_frame_equal(text, expected, check_dtype=False)
    assert (text.dtypes == expected.dtypes).all()


def test_time_text_forms_in_raw_lines(real_csv):
    assert real_csv("sunspots").read_text().splitlines()[1].startswith("1700,")
    assert real_csv("macrodata").read_text().splitlines()[5].startswith("1960Q1,1,")
    assert real_csv("airpassengers").read_text().splitlines()[13].startswith("1950-01,")
    assert real_csv("taylor").read_text().splitlines()[2].startswith("2000-06-05 00:30:00,")
    assert real_csv("msft").read_text().splitlines()[4].startswith("1986-03-18,")


@pytest.mark.parametrize("name", PANELS)
def test_panels_in_long_format_in_either_order(name, real_csv):
    info = datasets.dataset_info(name)
    by_id = pd.read_csv(real_csv(name, sort="id"))
    by_time = pd.read_csv(real_csv(name, sort="time"))
    ids, times = by_id[info.id], by_id[info.time]
    assert ids.is_monotonic_increasing
    assert all(part.is_monotonic_increasing for _, part in times.groupby(ids))
    assert by_time[info.time].is_monotonic_increasing
    assert all(part.is_monotonic_increasing for _, part in by_time[info.id].groupby(by_time[info.time]))
    keys = [info.id, info.time]
    pd.testing.assert_frame_equal(by_time.sort_values(keys).reset_index(drop=True), by_id)


def test_panel_csv_sorted_by_time_starts_with_every_firm_in_1935(real_csv):
    lines = real_csv("grunfeld", sort="time").read_text().splitlines()
    assert lines[1] == "American Steel,1935,2.938,30.284,52.011"
    assert lines[2] == "Atlantic Refining,1935,39.68,157.7,183.2"
    assert [line.split(",")[1] for line in lines[1:12]] == ["1935"] * 11
    assert lines[-1] == "Westinghouse,1954,68.6,1188.9,213.5"


def test_country_names_with_commas_are_quoted(real_csv):
    lines = real_csv("fertility").read_text().splitlines()
    korea = [line for line in lines if line.startswith('"Korea, Rep."')]
    assert len(korea) == 52 and korea[0] == '"Korea, Rep.",1960,6.155'


@pytest.mark.parametrize("name", ["macrodata", "grunfeld", "taylor", "msft"])
def test_parquet_keeps_real_types(name, real_parquet):
    frame = pd.read_parquet(real_parquet(name))
    pd.testing.assert_frame_equal(frame, load(name))


def test_fertility_drops_aggregates_gaps_and_short_records():
    frame = load("fertility")
    countries = set(frame["country"])
    dropped = {"OECD members", "Latin America & Caribbean (all income levels)", "Bermuda"}
    assert dropped.isdisjoint(countries) and {"Andorra", "American Samoa"}.isdisjoint(countries)
    assert (frame.groupby("country")["year"].agg(["min", "max"]) == [1960, 2011]).all(axis=1).sum() == 188
    assert {"Kosovo", "Greenland", "Korea, Rep."} <= countries
    assert frame.groupby("country").size().min() >= 20
    assert frame.loc[frame["country"] == "Kosovo", "year"].tolist() == list(range(1981, 2012))


def _docs_table(heading: str) -> list[list[str]]:
    """Rows of the first table after ``heading`` in docs/datasets.md, cells stripped of backticks."""
    text = (Path(__file__).parents[1] / "docs" / "datasets.md").read_text()
    lines = text.split(heading, 1)[1].split("\n|---", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    return [[cell.strip().strip("`") for cell in line.strip("|").split("|")] for line in lines]


def test_docs_table_matches_the_metadata():
    rows = _docs_table("# Public data sets")
    assert [row[0] for row in rows] == NAMES
    for name, frequency, n_rows, series, target, kinds, *_ in rows:
        info = datasets.dataset_info(name)
        assert (frequency, int(n_rows), int(series), target) == (
            info.frequency,
            info.rows,
            info.series,
            info.target,
        )
        assert kinds.split(", ") == list(info.kinds)
    forms = {"integer year": "year", "quarter": "year-quarter", "year-month": "year-month"}
    forms |= {"ISO date": "date", "date-time": "datetime"}
    for form, example, names in _docs_table("## The CSV files"):
        assert datasets.TIME_FORMATS[forms[form]] == example
        listed = [name.strip(" `") for name in names.split(",")]
        assert listed == [name for name in NAMES if datasets.dataset_info(name).time_format == forms[form]]


def test_macrodata_quarter_column():
    frame = load("macrodata")
    assert frame["quarter"].dtype == np.int64
    np.testing.assert_array_equal(frame["date"].dt.quarter, frame["quarter"])


def test_co2_keeps_gaps_on_request():
    raw = datasets.load_co2(fill=None)
    filled = load("co2")
    assert raw["co2"].isna().sum() == 59
    known = raw["co2"].notna()
    np.testing.assert_array_equal(raw.loc[known, "co2"], filled.loc[known, "co2"])
    gap = raw.index[raw["co2"].isna()][0]  # an interpolated week lies between its neighbours
    low, high = sorted([filled["co2"].iloc[gap - 1], filled["co2"].iloc[gap + 1]])
    assert low <= filled["co2"].iloc[gap] <= high
    with pytest.raises(ParameterError, match="fill"):
        datasets.load_co2(fill="zero")


def test_unknown_names_and_orders_are_refused(tmp_path):
    with pytest.raises(ParameterError, match="unknown data set 'nope'"):
        datasets.load_dataset("nope")
    with pytest.raises(ParameterError, match="unknown data set"):
        datasets.dataset_info("AirPassengers")
    with pytest.raises(ParameterError, match="sort must be 'id' or 'time'"):
        datasets.export_csv("grunfeld", tmp_path / "g.csv", sort="firm")
    assert list(tmp_path.iterdir()) == []


def test_missing_pmdarima_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "pmdarima.datasets", None)
    with pytest.raises(ParameterError, match=r"pip install 'seqscale\[data\]'"):
        datasets.load_dataset("taylor")


def test_loaders_return_fresh_frames():
    first = datasets.load_macrodata()
    first.loc[0, "realgdp"] = -1.0
    assert datasets.load_macrodata()["realgdp"].iloc[0] == 2710.349


def test_importing_does_not_import_the_data_packages():
    code = (
        "import sys, seqscale, seqscale.datasets, seqscale.files.io; "
        "assert 'statsmodels' not in sys.modules, 'statsmodels imported'; "
        "assert 'pmdarima' not in sys.modules, 'pmdarima imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
