"""Real public data sets for demos, tests and benchmarks (nothing is downloaded).

Each set is read from data shipped inside an installed package: statsmodels (a seqscale
dependency) or pmdarima (``pip install 'seqscale[data]'``), imported only when a loader runs, so
``import seqscale`` stays light. They cover annual to half-hourly series, trending, seasonal,
cyclic, bounded, tiny-valued, skewed and heavy-tailed targets, and two panels in long format.

Examples
--------
>>> from seqscale import datasets
>>> "macrodata" in datasets.list_datasets()
True
>>> info = datasets.dataset_info("grunfeld")
>>> info.frequency, info.id, info.target, info.series
('annual', 'firm', 'invest', 11)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from seqscale.datasets._catalog import CATALOG, FREQUENCIES, KINDS, TIME_FORMATS, DatasetInfo
from seqscale.datasets._loaders import (
    load_airpassengers,
    load_co2,
    load_elnino,
    load_fertility,
    load_grunfeld,
    load_interest_inflation,
    load_macrodata,
    load_msft,
    load_nile,
    load_sunspots,
    load_taylor,
    load_wineind,
    load_woolyrnq,
)
from seqscale.errors import ParameterError
from seqscale.util.atomic import atomic_path

__all__ = [
    "FREQUENCIES", "KINDS", "TIME_FORMATS", "DatasetInfo", "dataset_info", "export_csv",
    "export_parquet", "list_datasets", "load_airpassengers", "load_co2", "load_dataset",
    "load_elnino", "load_fertility", "load_grunfeld", "load_interest_inflation",
    "load_macrodata", "load_msft", "load_nile", "load_sunspots", "load_taylor", "load_wineind",
    "load_woolyrnq",
]  # fmt: skip

_INFO: dict[str, DatasetInfo] = {info.name: info for info in CATALOG}
_LOADERS: dict[str, Callable[[], pd.DataFrame]] = {
    "macrodata": load_macrodata,
    "co2": load_co2,
    "nile": load_nile,
    "sunspots": load_sunspots,
    "grunfeld": load_grunfeld,
    "fertility": load_fertility,
    "interest_inflation": load_interest_inflation,
    "elnino": load_elnino,
    "airpassengers": load_airpassengers,
    "wineind": load_wineind,
    "woolyrnq": load_woolyrnq,
    "taylor": load_taylor,
    "msft": load_msft,
}
_STRFTIME = {"year-month": "%Y-%m", "date": "%Y-%m-%d", "datetime": "%Y-%m-%d %H:%M:%S"}


def list_datasets() -> dict[str, str]:
    """Names of the bundled data sets with a one-line description.

    Examples
    --------
    >>> list_datasets()["macrodata"]
    'US quarterly macro series (real GDP in 2005 US$ bn, rates in %), 1959Q1-2009Q3'
    >>> len(list_datasets())
    13
    """
    return {name: info.description for name, info in _INFO.items()}


def dataset_info(name: str) -> DatasetInfo:
    """Metadata of a bundled data set: frequency, columns, season, kinds, source, licence.

    Examples
    --------
    >>> info = dataset_info("taylor")
    >>> info.frequency, info.time, info.target, info.season_length, info.rows
    ('half-hourly', 'time', 'demand', 48, 4032)
    """
    if name not in _INFO:
        raise ParameterError(f"unknown data set {name!r}; choose one of {sorted(_INFO)}.")
    return _INFO[name]


def load_dataset(name: str) -> pd.DataFrame:
    """Load a bundled data set by name (see :func:`list_datasets`).

    The frame has the time column (``datetime64``, or int64 years for annual data), the series id
    for panels (rows sorted by id, then time) and float64 values; see :func:`dataset_info`.

    Examples
    --------
    >>> load_dataset("co2").shape
    (2284, 2)
    >>> nile = load_dataset("nile")
    >>> nile.dtypes.astype(str).to_dict(), int(nile["year"].iloc[0]), float(nile["volume"].iloc[0])
    ({'year': 'int64', 'volume': 'float64'}, 1871, 1120.0)
    """
    dataset_info(name)
    return _LOADERS[name]()


def _sorted(frame: pd.DataFrame, info: DatasetInfo, sort: str) -> pd.DataFrame:
    if sort not in ("id", "time"):
        raise ParameterError(f"sort must be 'id' or 'time', got {sort!r}.")
    if info.id is None:
        return frame
    keys = [info.id, info.time] if sort == "id" else [info.time, info.id]
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def _time_text(times: pd.Series, time_format: str) -> pd.Series:
    """The time column as people write it: '1871', '1959Q1', '1949-01', ISO dates or date-times."""
    if time_format == "year":
        return times
    if time_format == "year-quarter":
        return times.dt.to_period("Q").astype(str)
    return times.dt.strftime(_STRFTIME[time_format])


def export_csv(name: str, path: str | os.PathLike[str], *, sort: str = "id") -> Path:
    """Write a bundled data set to CSV as people write it.

    The time column is text in the set's ``time_format`` (integer years ``1871``, quarters
    ``1959Q1``, year-month ``1949-01``, ISO dates, or date-times ``2000-06-05 00:30:00``);
    numbers use pandas' plain formatting; no index column.

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets`.
    path : str or path-like
        The CSV file to write (replaced atomically).
    sort : {"id", "time"}, default "id"
        Row order of a panel: by series id then time, or by time then series id. Single series
        are always in time order.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = export_csv("macrodata", pathlib.Path(tempfile.mkdtemp()) / "macro.csv")
    >>> out.read_text().splitlines()[1][:22]
    '1959Q1,1,2710.349,1707'
    """
    info = dataset_info(name)
    frame = _sorted(load_dataset(name), info, sort)
    frame[info.time] = _time_text(frame[info.time], info.time_format)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n")
    return Path(path)


def export_parquet(name: str, path: str | os.PathLike[str], *, sort: str = "id") -> Path:
    """Write a bundled data set to Parquet with its real column types (datetime64, int64 years).

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets`.
    path : str or path-like
        The Parquet file to write (replaced atomically).
    sort : {"id", "time"}, default "id"
        Row order of a panel, as in :func:`export_csv`.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = export_parquet("co2", pathlib.Path(tempfile.mkdtemp()) / "co2.parquet")
    >>> str(pd.read_parquet(out)["date"].dtype)
    'datetime64[us]'
    """
    info = dataset_info(name)
    frame = _sorted(load_dataset(name), info, sort)
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
    return Path(path)
