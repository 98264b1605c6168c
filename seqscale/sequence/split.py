"""Train/test split by time: the test set is the end of each series, never a random sample.

Examples
--------
>>> import numpy as np
>>> train, test, cutoff = split_by_time(np.arange(10), test_size=0.2)
>>> train.tolist(), test.tolist(), cutoff
([0, 1, 2, 3, 4, 5, 6, 7], [8, 9], 8)
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from seqscale.errors import InputError, ParameterError
from seqscale.frames.time_columns import parse_cutoff, parse_times
from seqscale.sequence.rows import listed

__all__ = ["Split", "split_by_time", "split_training"]

_SHOW = 10
_DATES = (str, dt.date, np.datetime64, pd.Timestamp)


class Split(NamedTuple):
    """Result of :func:`split_by_time`.

    Attributes
    ----------
    train, test : same type as the input (DataFrame, Series or ndarray), rows in input order
    cutoff : the declared test start. A date cutoff: that ``pandas.Timestamp``. A share or count:
        the time of the first test row (with a time column or DatetimeIndex) or its row position.
        With ``groups`` and a share or count: a dict ``{series id: first test time or position
        within that series}``.
    """

    train: Any
    test: Any
    cutoff: Any


def _column(frame: Any, value: Any, what: str) -> np.ndarray | None:
    """A column name (DataFrame) or an array-like with one entry per row."""
    if value is None:
        return None
    if np.ndim(value) == 0:
        if not isinstance(frame, pd.DataFrame) or value not in frame.columns:
            raise ParameterError(
                f"{what}={value!r} is not a column of the data; pass a column name of a "
                "DataFrame or one value per row."
            )
        return frame[value].to_numpy()
    values = np.asarray(value)
    if values.ndim != 1 or values.shape[0] != len(frame):
        raise InputError(f"{what} must have one value per row ({len(frame)}); got {values.shape}.")
    return values


def _times(frame: Any, time: Any) -> tuple[pd.Index | None, str]:
    """Time values as a pandas Index (or None) and a name for messages."""
    if time is None:
        index = getattr(frame, "index", None)
        if isinstance(index, pd.PeriodIndex):
            return index.to_timestamp(), "index"
        return (index, "index") if isinstance(index, pd.DatetimeIndex) else (None, "")
    name = repr(time) if np.ndim(time) == 0 else "time"
    if np.ndim(time) == 0 and isinstance(frame, pd.DataFrame) and time in frame.columns:
        values = frame[time].reset_index(drop=True)
    else:
        values = pd.Series(_column(frame, time, "time"))
    times = pd.Index(parse_times(values, time if np.ndim(time) == 0 else "time"))
    return times, name


def _check_sorted(times: pd.Index, codes: np.ndarray, order: np.ndarray, name: str) -> None:
    key = times.asi8 if isinstance(times, pd.DatetimeIndex) else times.to_numpy()
    key = key[order]
    bad = np.flatnonzero((key[1:] < key[:-1]) & (codes[order][1:] == codes[order][:-1]))
    if bad.size:
        row, before = int(order[bad[0] + 1]), int(order[bad[0]])
        raise InputError.at_rows(
            "time {name} is not sorted: {row} ({late}) comes after {row} ({early}); sort by time first.",
            row,
            before,
            name=name,
            late=times[row],
            early=times[before],
        )


def _sizes(test_size: Any) -> tuple[str, Any]:
    if isinstance(test_size, _DATES) and not isinstance(test_size, bool):
        try:
            return "date", pd.Timestamp(test_size)
        except (ValueError, TypeError) as err:
            raise ParameterError(f"test_size={test_size!r} is not a date: {err}") from None
    if isinstance(test_size, (float, np.floating)) and 0 < test_size < 1:
        return "share", float(test_size)
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool) and test_size >= 1:
        return "count", int(test_size)
    raise ParameterError(
        f"test_size={test_size!r} is invalid; use a share in (0, 1), a row count >= 1, or a "
        "date (with a time column or DatetimeIndex)."
    )


def _n_test(kind: str, size: Any, n: np.ndarray) -> np.ndarray:
    if kind == "share":
        return np.ceil(np.round(size * n, 9)).astype(np.int64)
    return np.full_like(n, size)


def split_by_time(
    frame: Any,
    test_size: Any = 0.2,
    *,
    time: Any = None,
    gap: int = 0,
    groups: Any = None,
) -> Split:
    """Split rows into the earlier train part and the later test part, never shuffling.

    Parameters
    ----------
    frame : DataFrame, Series or array (rows = time steps, sorted by time within each series)
    test_size : float, int or date, default 0.2
        A share in (0, 1) of the rows (rounded up) or a row count, taken from the end (of each
        series, with ``groups``); or a date (``"2020-01-01"``, Timestamp): rows at or after it
        are test (needs ``time`` or a DatetimeIndex). With a time, rows sharing the first test
        time all go to test.
    time : column name or one value per row, optional
        Datetime or numeric time; default: the index when it is a DatetimeIndex or PeriodIndex.
    gap : int, default 0
        Rows dropped from the end of train (of each series): an embargo so that input windows
        of the test period do not overlap the training targets.
    groups : column name or one series id per row, optional
        Split each series: at the same date, or the same share / count per series.

    Returns
    -------
    Split
        ``(train, test, cutoff)``; rows keep their input order. Ungrouped share/count splits
        of arrays return views.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"v": range(6)}, index=pd.date_range("2024-01-01", periods=6))
    >>> s = split_by_time(df, "2024-01-05", gap=1)
    >>> s.train["v"].tolist(), s.test["v"].tolist(), str(s.cutoff.date())
    ([0, 1, 2], [4, 5], '2024-01-05')
    """
    if isinstance(gap, bool) or not isinstance(gap, (int, np.integer)) or gap < 0:
        raise ParameterError(f"gap={gap!r} is invalid; use an integer >= 0.")
    if not isinstance(frame, (pd.DataFrame, pd.Series)):
        frame = np.asarray(frame)
        if frame.ndim == 0:
            raise InputError("frame must have rows; got a scalar.")
    kind, size = _sizes(test_size)
    times, name = _times(frame, time)
    if kind == "date" and (times is None or not isinstance(times, pd.DatetimeIndex)):
        raise ParameterError(
            f"test_size={test_size!r} is a date but there is no datetime time; pass time= "
            "(a datetime column), use a DatetimeIndex, or give a share or row count."
        )
    ids = _column(frame, groups, "groups")
    if ids is None:
        return _split_one(frame, kind, size, times, name, gap)
    return _split_groups(frame, kind, size, times, name, gap, ids)


def _rows(frame: Any, sel: Any) -> Any:
    return frame.iloc[sel] if isinstance(frame, (pd.DataFrame, pd.Series)) else frame[sel]


def _at_or_after(times: pd.Index, cutoff: Any) -> np.ndarray:
    try:
        return np.asarray(times >= cutoff)
    except TypeError as err:
        raise ParameterError(
            f"cannot compare the time values with cutoff {cutoff!r} ({err}); give the cutoff "
            "with the same time zone as the data."
        ) from None


def _split_one(frame: Any, kind: str, size: Any, times: Any, name: str, gap: int) -> Split:
    n = len(frame)
    if times is not None:
        _check_sorted(times, np.zeros(n, dtype=np.int64), np.arange(n), name)
    if kind == "date":
        after = _at_or_after(times, size)
        start = int(np.argmax(after)) if after.any() else n
        cutoff = size
    else:
        start = n - int(_n_test(kind, size, np.array([n]))[0])
        if start > 0 and times is not None:
            start = int(times.searchsorted(times[start], side="left"))
        cutoff = times[start] if times is not None and start < n else start
    if start >= n:
        raise InputError(f"the test set is empty: no row is at or after {cutoff}; choose an earlier cutoff.")
    if start - gap < 1:
        raise InputError(
            f"the training set is empty: {start} rows come before the test start and gap={gap}; "
            "give a smaller test_size or gap, or more data."
        )
    return Split(_rows(frame, slice(0, start - gap)), _rows(frame, slice(start, n)), cutoff)


def _split_groups(
    frame: Any, kind: str, size: Any, times: Any, name: str, gap: int, ids: np.ndarray
) -> Split:
    codes, uniques = pd.factorize(ids, use_na_sentinel=True)
    if (codes < 0).any():
        where, rows = listed(np.flatnonzero(codes < 0), _SHOW)
        raise InputError.at_rows(f"groups has missing series ids at {where}; fill or drop them.", *rows)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    offsets = np.cumsum(counts) - counts
    rank = np.empty(len(codes), dtype=np.int64)
    rank[order] = np.arange(len(codes)) - offsets[codes[order]]
    if times is not None:
        _check_sorted(times, codes, order, name)
    if kind == "date":
        test = _at_or_after(times, size)
        cutoff: Any = size
    else:
        first = np.maximum(counts - _n_test(kind, size, counts), 0)
        test = rank >= first[codes]
        if times is not None:  # rows sharing a series' first test time all go to test
            first_time = np.asarray(times)[order[offsets + first.clip(max=counts - 1)]]
            test = np.asarray(times) >= first_time[codes]
        first = np.bincount(codes, weights=~test, minlength=len(counts)).astype(np.int64)
        label = (
            (lambda g: times[order[offsets[g] + first[g]]])
            if times is not None
            else (lambda g: int(first[g]))
        )
        cutoff = {_plain(u): label(g) for g, u in enumerate(uniques) if first[g] < counts[g]}
    n_train = np.bincount(codes, weights=~test, minlength=len(counts)).astype(np.int64)
    empty = np.flatnonzero(n_train - gap < 1)
    if empty.size:
        detail = ", ".join(f"{_plain(uniques[g])!r} ({n_train[g]} rows)" for g in empty[:_SHOW])
        raise InputError(
            f"the training set of series {detail} is empty with gap={gap}; give a later cutoff, "
            "a smaller test_size or gap, or drop those series."
        )
    if not test.any():
        raise InputError(f"the test set is empty: no row is at or after {size}; choose an earlier cutoff.")
    train = ~test & (rank < (n_train - gap)[codes])
    return Split(_rows(frame, np.flatnonzero(train)), _rows(frame, np.flatnonzero(test)), cutoff)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# ---------------------------------------------------------------------- the command line's split
def split_training(
    frame: pd.DataFrame,
    *,
    train_until: str | None = None,
    train_rows: int | None = None,
    time: str | None = None,
    id: str | None = None,
) -> tuple[pd.DataFrame, Any]:
    """Rows of the training period and the declared test start (None: all rows train).

    ``train_until`` is a time (the first test time, compared with the parsed ``time`` column:
    ``1950`` is the year 1950 in a column of years); ``train_rows`` is a row count (of each
    series with ``id``). ``frame`` is sorted by (id, time).

    Examples
    --------
    >>> df = pd.DataFrame({"year": [1948, 1949, 1950, 1951], "v": [1.0, 2.0, 3.0, 4.0]})
    >>> train, start = split_training(df, train_until="1950", time="year")
    >>> train["year"].tolist(), start
    ([1948, 1949], 1950)
    """
    if train_until is not None and train_rows is not None:
        raise ParameterError("give --train-until (a time) or --train-rows (a row count), not both.")
    if train_until is not None:
        return _until(frame, str(train_until), time)
    if train_rows is not None:
        return _first_rows(frame, train_rows, time, id)
    return frame, None


def _until(frame: pd.DataFrame, text: str, time: str | None) -> tuple[pd.DataFrame, Any]:
    if time is None:
        raise ParameterError(
            f"--train-until {text!r} is a time, so the data needs a time column: pass --time COL "
            "(or a plan with a 'time' column); for a row count use --train-rows N."
        )
    times = frame[time]
    cutoff = parse_cutoff(text, times, time)
    before = (times < cutoff).to_numpy()
    rows = f" (for a row count use --train-rows {text})" if text.isdigit() else ""
    if not before.any():
        raise ParameterError(
            f"--train-until {text!r} leaves no training rows: the first {time} is {_show(times.min())}{rows}."
        )
    if before.all():
        raise ParameterError(
            f"--train-until {text!r} is after the last {time} ({_show(times.max())}): every row "
            f"would be training; give an earlier time, or omit --train-until to fit on all rows{rows}."
        )
    return frame[before], cutoff


def _first_rows(frame: pd.DataFrame, n: int, time: str | None, id: str | None) -> tuple[pd.DataFrame, Any]:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"--train-rows {n!r}: give a row count >= 1.")
    position = frame.groupby(id, sort=False).cumcount().to_numpy() if id else np.arange(len(frame))
    train = position < n
    if train.all():
        longest = int(position.max()) + 1 if len(frame) else 0
        raise ParameterError(
            f"--train-rows {n} keeps every row for training (the longest series has {longest} "
            "rows); give a smaller count, or omit --train-rows to fit on all rows."
        )
    start = frame[time].to_numpy()[position == n] if time else np.full((position == n).sum(), n)
    if id is None:
        return frame[train], _plain_time(start[0])
    keys = frame[id].to_numpy()[position == n]
    return frame[train], {_plain_time(k): _plain_time(v) for k, v in zip(keys, start)}


def _show(value: Any) -> str:
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return str(value.date())
    return str(value)


def _plain_time(value: Any) -> Any:
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)
    return _plain(value)
