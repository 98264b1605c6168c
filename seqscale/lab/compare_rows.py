"""Rows, split and series of :func:`~seqscale.lab.compare.compare`: one ordering and one cutoff per variant.

Rows are sorted by (id, time); repeated times of one series are refused (a panel passed without
its id). The test period is the last share (or count) of the *distinct* time values, so every
series of a panel shares one calendar cutoff. Series too short for one training window are
dropped by name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seqscale.errors import InputError, ParameterError
from seqscale.sequence.pipeline import _plain as plain
from seqscale.sequence.pipeline_steps import sort_positions

__all__ = ["Split", "history", "order_rows", "split_rows", "usable_series"]


def order_rows(df: pd.DataFrame, time: str | None, id: str | None) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows sorted by (id, time), index reset, and each sorted row's position in ``df``.

    Repeated times of one series are refused (a panel passed without ``id``). The positions
    let errors about sorted rows name the caller's rows
    (:func:`seqscale.sequence.rows.caller_rows`).

    Examples
    --------
    >>> df = pd.DataFrame({"t": [3, 1, 2], "y": [30.0, 10.0, 20.0]})
    >>> out, positions = order_rows(df, "t", None)
    >>> out["t"].tolist(), positions.tolist()
    ([1, 2, 3], [1, 2, 0])
    """
    if time is None:
        if id is not None:
            raise ParameterError(
                f"id={id!r} needs time= too: the column that orders each series' rows (e.g. a date "
                "or a year)."
            )
        return df.reset_index(drop=True), np.arange(len(df))
    keys = [k for k in (id, time) if k is not None]
    for key in keys:
        missing = np.flatnonzero(df[key].isna().to_numpy())
        if missing.size:
            raise InputError.at_rows(
                "column {key!r} is empty at {row}; every row needs an {key}.", missing[0], key=key
            )
    twice = np.flatnonzero(df.duplicated(keys, keep=False).to_numpy())
    if twice.size:
        raise _repeat_error(df, time, id, twice)
    positions = sort_positions(df, keys)
    return df.iloc[positions].reset_index(drop=True), positions


def _repeat_error(df: pd.DataFrame, time: str, id: str | None, rows: np.ndarray) -> InputError:
    value = df[time].iloc[rows[0]]
    same = rows[(df[time].iloc[rows] == value).to_numpy()]
    if id is not None:
        same = same[(df[id].iloc[same] == df[id].iloc[rows[0]]).to_numpy()]
    if id is None:
        return InputError.at_rows(
            "time column {time!r} repeats values ({value} is on {n} rows, e.g. {row} "
            "and {row}): this looks like a panel of several series in long format. "
            "Pass the series column with --id COL (id= in Python).",
            same[0],
            same[1],
            time=time,
            value=plain(value),
            n=same.size,
        )
    return InputError.at_rows(
        "series {series!r} has more than one row at {time}={value} "
        "({row} and {row}); keep one row per series and time.",
        same[0],
        same[1],
        series=plain(df[id].iloc[rows[0]]),
        time=time,
        value=plain(value),
    )


@dataclass
class Split:
    train: pd.DataFrame
    test: pd.DataFrame
    cutoff: Any


def split_rows(df: pd.DataFrame, test_size: Any, time: str | None) -> Split:
    """The last ``test_size`` share (or count) of the distinct times is the test period."""
    is_int = isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool)
    is_share = isinstance(test_size, (float, np.floating)) and 0 < test_size < 1
    if not (is_share or (is_int and test_size >= 1)):
        raise ParameterError(
            f"test_size={test_size!r} is invalid; use a share in (0, 1) or a whole number of time steps >= 1."
        )
    times = df[time] if time is not None else pd.Series(np.arange(len(df)))
    distinct = np.sort(times.unique())
    k = int(test_size) if is_int else math.ceil(round(test_size * len(distinct), 9))
    if k >= len(distinct):
        raise ParameterError(
            f"test_size={test_size!r} leaves no training period: the data has {len(distinct)} "
            "time steps. Give a smaller test_size."
        )
    cutoff = distinct[len(distinct) - k]
    test = (times >= cutoff).to_numpy()
    cutoff = pd.Timestamp(cutoff) if isinstance(cutoff, np.datetime64) else cutoff
    return Split(df.loc[~test], df.loc[test], cutoff.item() if isinstance(cutoff, np.generic) else cutoff)


def usable_series(split: Split, id: str | None, need: int) -> tuple[Split, list]:
    """Drop series with fewer than ``need`` training rows (panels); refuse a short single series."""
    counts = split.train.groupby(id, sort=False).size() if id else pd.Series([len(split.train)])
    short = counts.index[counts < need]
    if id is None and len(short):
        raise InputError(
            f"the training part has {len(split.train)} rows; the windows need at least {need} "
            "(n_in + differencing span + n_out). Lower n_in or test_size."
        )
    if id is None:
        return split, []
    orphans = np.setdiff1d(split.test[id].unique(), counts.index)  # series that start in the test period
    dropped = sorted({*short.tolist(), *orphans.tolist()}, key=str)
    if len(dropped) == split.train[id].nunique() + len(orphans):
        raise InputError(
            f"no series has the {need} training rows the windows need (n_in + differencing span + "
            f"n_out; the longest has {int(counts.max())}). Lower n_in or test_size."
        )
    keep = lambda part: part.loc[~part[id].isin(dropped)]  # noqa: E731
    return Split(keep(split.train), keep(split.test), split.cutoff), dropped


def history(train: pd.DataFrame, id: str | None, rows: int) -> pd.DataFrame:
    """The last ``rows`` training rows of each series: what the first test window looks back on."""
    return train.groupby(id, sort=False).tail(rows) if id else train.iloc[len(train) - rows :]
