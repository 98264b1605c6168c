"""Small real data sets bundled for demos and tests (no network access).

Both come with statsmodels (a seqscale dependency), which is imported only when a loader is
called, so ``import seqscale`` stays light.

Examples
--------
>>> from seqscale import datasets
>>> sorted(datasets.list_datasets())
['co2', 'macrodata']
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from seqscale.errors import ParameterError

__all__ = ["list_datasets", "load_co2", "load_dataset", "load_macrodata"]

MACRO_COLUMNS = (
    "realgdp", "realcons", "realinv", "realgovt", "realdpi", "cpi", "m1", "tbilrate", "unemp",
    "pop", "infl", "realint",
)  # fmt: skip


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
    year = raw["year"].astype("int64")
    quarter = raw["quarter"].astype("int64")
    date = pd.to_datetime(pd.DataFrame({"year": year, "month": 3 * quarter - 2, "day": 1}))
    frame = pd.DataFrame({"date": date, "quarter": quarter})
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
    frame = series.rename_axis("date").reset_index()
    return frame


_LOADERS: dict[str, tuple[Callable[[], pd.DataFrame], str]] = {
    "macrodata": (load_macrodata, "US quarterly macroeconomic series, 1959-2009 (203 rows)"),
    "co2": (load_co2, "weekly Mauna Loa CO2 in ppm, 1958-2001 (2284 rows, gaps interpolated)"),
}


def list_datasets() -> dict[str, str]:
    """Names of the bundled data sets with a one-line description.

    Examples
    --------
    >>> list_datasets()["macrodata"]
    'US quarterly macroeconomic series, 1959-2009 (203 rows)'
    """
    return {name: description for name, (_, description) in _LOADERS.items()}


def load_dataset(name: str) -> pd.DataFrame:
    """Load a bundled data set by name (see :func:`list_datasets`).

    Examples
    --------
    >>> load_dataset("co2").shape
    (2284, 2)
    """
    if name not in _LOADERS:
        raise ParameterError(f"unknown data set {name!r}; choose one of {sorted(_LOADERS)}.")
    return _LOADERS[name][0]()
