"""Loaders of the bundled data sets: each reads data shipped inside an installed package.

statsmodels (a seqscale dependency) and pmdarima (the ``data`` extra) are imported only when a
loader runs. Every loader returns a fresh frame: a real time column (``datetime64`` or int64
years) first, then the series id for panels, then float64 values.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pandas as pd

from seqscale.errors import ParameterError

MACRO_COLUMNS = (
    "realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1", "tbilrate", "unemp",
    "pop", "infl", "realint",
)  # fmt: skip
#: World Bank regional and income aggregates in statsmodels' fertility table (not countries).
FERTILITY_AGGREGATES = frozenset({"LCN", "OED", "OSS", "PSS"})
#: Countries with a shorter unbroken record are dropped (too short for windows of a few years).
FERTILITY_MIN_YEARS = 20
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _pmdarima_datasets() -> ModuleType:
    """``pmdarima.datasets``, or a one-line error naming the extra that installs it."""
    try:
        return importlib.import_module("pmdarima.datasets")
    except ImportError as error:
        raise ParameterError(
            "this data set ships with pmdarima, which is not installed; "
            "install it with: pip install 'seqscale[data]'"
        ) from error


def _quarter_start(year: pd.Series, quarter: pd.Series) -> pd.Series:
    months = 3 * quarter.astype("int64") - 2
    return pd.to_datetime(pd.DataFrame({"year": year.astype("int64"), "month": months, "day": 1}))


def load_macrodata() -> pd.DataFrame:
    """US quarterly macroeconomic data, 1959Q1-2009Q3 (203 rows).

    Columns: ``date`` (quarter start, ``datetime64``), ``quarter`` (int64, 1-4: a categorical
    season), then float64 ``realgdp``, ``realcons``, ``realinv``, ``realgovt``, ``realdpi``,
    ``cpi``, ``m1``, ``tbilrate``, ``unemp``, ``pop``, ``infl``, ``realint``.

    Source: statsmodels' ``macrodata`` data set, compiled from FRED (Federal Reserve Bank of
    St. Louis) and the US Bureau of Labor Statistics (unemployment). Public domain (US government
    data).

    Examples
    --------
    >>> frame = load_macrodata()
    >>> frame.shape
    (203, 14)
    >>> float(frame["realgdp"].iloc[0])
    2710.349
    """
    from statsmodels.datasets import macrodata

    raw = macrodata.load_pandas().data
    quarter = raw["quarter"].astype("int64")
    frame = pd.DataFrame({"date": _quarter_start(raw["year"], quarter), "quarter": quarter})
    for name in MACRO_COLUMNS:
        frame[name] = raw[name].astype("float64")
    return frame


def load_co2(fill: str | None = "interpolate") -> pd.DataFrame:
    """Weekly atmospheric CO2 (ppm) at Mauna Loa, March 1958 - December 2001 (2284 weeks).

    Columns: ``date`` (week ending on Saturday, ``datetime64``) and ``co2`` (float64).

    Parameters
    ----------
    fill : {"interpolate", None}, default "interpolate"
        59 weeks have no measurement. ``"interpolate"`` fills them linearly in time so the series
        is regular (what a windowed LSTM demo needs); ``None`` keeps them as NaN.

    Source: statsmodels' ``co2`` data set (Keeling and Whorf, Scripps Institution of
    Oceanography, via the Carbon Dioxide Information Analysis Center, US Department of Energy).
    Public domain.

    Examples
    --------
    >>> frame = load_co2()
    >>> list(frame.columns), int(frame["co2"].isna().sum())
    (['date', 'co2'], 0)
    >>> int(load_co2(fill=None)["co2"].isna().sum())
    59
    """
    if fill not in ("interpolate", None):
        raise ParameterError(f"fill must be 'interpolate' or None, got {fill!r}.")
    from statsmodels.datasets import co2

    series = co2.load_pandas().data["co2"].astype("float64")
    if fill == "interpolate":
        series = series.interpolate(method="time", limit_direction="both")
    return series.rename_axis("date").reset_index()


def load_nile() -> pd.DataFrame:
    """Annual flow of the Nile at Aswan, 1871-1970: ``year`` (int64), ``volume`` (10^8 m^3)."""
    from statsmodels.datasets import nile

    raw = nile.load_pandas().data
    return pd.DataFrame({"year": raw["year"].astype("int64"), "volume": raw["volume"].astype("float64")})


def load_sunspots() -> pd.DataFrame:
    """Yearly mean sunspot number, 1700-2008: ``year`` (int64), ``sunactivity``."""
    from statsmodels.datasets import sunspots

    raw = sunspots.load_pandas().data
    return pd.DataFrame(
        {"year": raw["YEAR"].astype("int64"), "sunactivity": raw["SUNACTIVITY"].astype("float64")}
    )


def load_grunfeld() -> pd.DataFrame:
    """Grunfeld investment panel: 11 US firms x 1935-1954, long format sorted by firm, year."""
    from statsmodels.datasets import grunfeld

    raw = grunfeld.load_pandas().data
    frame = pd.DataFrame({"firm": raw["firm"].astype(str), "year": raw["year"].astype("int64")})
    for name in ("invest", "value", "capital"):
        frame[name] = raw[name].astype("float64")
    return frame.sort_values(["firm", "year"], kind="stable").reset_index(drop=True)


def load_fertility() -> pd.DataFrame:
    """World Bank fertility rate (births per woman), countries x 1960-2011, wide -> long.

    Regional aggregates and missing cells are dropped, then the countries whose record has a gap
    inside it or spans fewer than 20 years, so every country is one unbroken yearly series.
    """
    from statsmodels.datasets import fertility

    raw = fertility.load_pandas().data
    raw = raw[~raw["Country Code"].isin(FERTILITY_AGGREGATES)]
    years = [column for column in raw.columns if str(column).isdigit()]
    long = raw.melt(id_vars="Country Name", value_vars=years, var_name="year", value_name="fertility")
    long = long.dropna(subset=["fertility"])
    frame = pd.DataFrame(
        {
            "country": long["Country Name"].astype(str),
            "year": long["year"].astype("int64"),
            "fertility": long["fertility"].astype("float64"),
        }
    )
    span = frame.groupby("country")["year"].agg(["min", "max", "size"])
    keep = (span["max"] - span["min"] + 1 == span["size"]) & (span["size"] >= FERTILITY_MIN_YEARS)
    unbroken = span.index[keep]
    frame = frame[frame["country"].isin(unbroken)]
    return frame.sort_values(["country", "year"], kind="stable").reset_index(drop=True)


def load_interest_inflation() -> pd.DataFrame:
    """West German quarterly inflation and interest rate as fractions, 1972Q2-1998Q4."""
    from statsmodels.datasets import interest_inflation

    raw = interest_inflation.load_pandas().data
    return pd.DataFrame(
        {
            "date": _quarter_start(raw["year"], raw["quarter"]),
            "inflation": raw["Dp"].astype("float64"),
            "rate": raw["R"].astype("float64"),
        }
    )


def load_elnino() -> pd.DataFrame:
    """Monthly sea surface temperature (deg C) in the Nino 1+2 region, 1950-2010, wide -> long."""
    from statsmodels.datasets import elnino

    raw = elnino.load_pandas().data
    long = raw.melt(id_vars="YEAR", value_vars=list(MONTHS), var_name="month", value_name="temperature")
    month = long["month"].map({name: i + 1 for i, name in enumerate(MONTHS)})
    date = pd.to_datetime(pd.DataFrame({"year": long["YEAR"].astype("int64"), "month": month, "day": 1}))
    frame = pd.DataFrame({"date": date, "temperature": long["temperature"].astype("float64")})
    return frame.sort_values("date").reset_index(drop=True)


def _regular(values: pd.Series, start: str, freq: str, time: str, target: str) -> pd.DataFrame:
    dates = pd.date_range(start, periods=len(values), freq=freq)
    return pd.DataFrame({time: dates, target: values.to_numpy(dtype="float64")})


def load_airpassengers() -> pd.DataFrame:
    """Monthly international airline passengers (thousands), 1949-1960."""
    series = _pmdarima_datasets().load_airpassengers(as_series=True)
    return _regular(series, "1949-01-01", "MS", "date", "passengers")


def load_wineind() -> pd.DataFrame:
    """Monthly Australian wine sales (litres, bottles under 1 litre), Jan 1980 - Aug 1994."""
    series = _pmdarima_datasets().load_wineind(as_series=True)
    first = pd.to_datetime(series.index[0], format="%b %Y")
    return _regular(series, str(first.date()), "MS", "date", "sales")


def load_woolyrnq() -> pd.DataFrame:
    """Quarterly Australian woollen yarn production (tonnes), 1965Q1-1994Q3."""
    series = _pmdarima_datasets().load_woolyrnq(as_series=True)
    quarter, year = series.index[0].split()  # "Q1 1965"
    start = pd.Period(f"{year}{quarter}", freq="Q").start_time
    return _regular(series, str(start.date()), "QS", "date", "production")


def load_taylor() -> pd.DataFrame:
    """Half-hourly electricity demand (MW) in England and Wales, 5 June - 27 August 2000."""
    series = pd.Series(_pmdarima_datasets().load_taylor())
    return _regular(series, "2000-06-05 00:00", "30min", "time", "demand")


def load_msft() -> pd.DataFrame:
    """Daily Microsoft share prices (US$, split-adjusted) and volume, 1986-03-13 to 2017-11-10."""
    raw = _pmdarima_datasets().load_msft()
    frame = pd.DataFrame({"date": pd.to_datetime(raw["Date"], format="%Y-%m-%d")})
    for name in ("Open", "High", "Low", "Close"):
        frame[name.lower()] = raw[name].astype("float64")
    frame["volume"] = raw["Volume"].astype("int64")
    return frame
