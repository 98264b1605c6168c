"""Leakage guards: fitting on the test period, and fitting on overlapping windows.

Two mistakes make a scaler learn from data it should not: fitting on rows of the test period
(the test score is then optimistic), and fitting on already windowed ``[samples, window,
features]`` arrays built by a sliding window (each value is counted up to ``window`` times, and
the statistics of the first and last values of the series are underweighted).

Examples
--------
>>> import numpy as np, warnings
>>> series = np.arange(20.0)
>>> windows = np.stack([series[i:i + 5] for i in range(16)])[:, :, None]
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     check_windows(windows)
True
>>> caught[0].category.__name__
'LeakageWarning'
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

import numpy as np
import pandas as pd

from seqscale.errors import InputError, LeakageError, LeakageWarning, ParameterError

__all__ = ["check_test_start", "check_windows"]

_DATES = (str, dt.date, np.datetime64, pd.Timestamp)
_CHUNK = 4096


def _overlap_stride(X: np.ndarray) -> int | None:
    """Smallest shift s with ``X[0, s:] == X[1, :-s]`` (None: the first pair does not overlap)."""
    for s in range(1, X.shape[1]):
        if _same(X[0, s:], X[1, :-s]).all():
            return s
    return None


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        eq = a == b
    if a.dtype.kind == "f":
        eq |= np.isnan(a) & np.isnan(b)
    return eq


def _overlap_share(X: np.ndarray, s: int) -> float:
    hits = 0
    for start in range(0, X.shape[0] - 1, _CHUNK):
        a = X[start : start + _CHUNK + 1]
        eq = _same(a[:-1, s:], a[1:, :-s])
        hits += int(eq.reshape(eq.shape[0], -1).all(axis=1).sum())
    return hits / (X.shape[0] - 1)


def check_windows(X: Any, *, threshold: float = 0.5, stacklevel: int = 2) -> bool:
    """Warn when a 3D array looks like overlapping sliding windows of one series.

    Consecutive samples of a sliding window share all but ``stride`` timesteps:
    ``X[i, s:] == X[i + 1, :-s]``. When that holds for more than ``threshold`` of the pairs, a
    :class:`~seqscale.errors.LeakageWarning` explains that fitting a scaler on the array counts
    each value up to ``window`` times, and how to avoid it: scale the series first, then window
    it (:class:`~seqscale.sequence.pipeline.SequencePipeline` does both in that order).

    Parameters
    ----------
    X : array-like ``[samples, window, features]`` (or ``[samples, window]``)
    threshold : float, default 0.5
        Share of consecutive pairs that must overlap.
    stacklevel : int, default 2
        Passed to :func:`warnings.warn`.

    Returns
    -------
    bool
        True when the array looks like overlapping windows (and a warning was issued).

    Examples
    --------
    >>> import numpy as np
    >>> check_windows(np.random.default_rng(0).normal(size=(50, 8, 2)))   # independent samples
    False
    """
    arr = np.asarray(X)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise InputError(
            f"check_windows needs a 3D [samples, window, features] array; got shape {arr.shape}."
        )
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        return False
    stride = _overlap_stride(arr)
    if stride is None or _overlap_share(arr, stride) <= threshold:
        return False
    window = arr.shape[1]
    warnings.warn(
        f"X looks like overlapping sliding windows of one series (X[i, {stride}:] == "
        f"X[i+1, :-{stride}] for most samples). Fitting a scaler on it counts each value up to "
        f"{-(-window // stride)} times and underweights the ends of the series. Scale the series "
        "first, then window it: e.g. SequencePipeline(...).fit(train_frame), or fit the scaler "
        "on the 2D [time, features] data and call to_supervised afterwards.",
        LeakageWarning,
        stacklevel=stacklevel,
    )
    return True


# ---------------------------------------------------------------------------------- test period
def _times(frame: pd.DataFrame, time: Any) -> pd.Index | None:
    if time is not None:
        return pd.Index(frame[time])
    if isinstance(frame.index, pd.PeriodIndex):
        return frame.index.to_timestamp()
    return frame.index if isinstance(frame.index, pd.DatetimeIndex) else None


def _inside(times: pd.Index | None, positions: np.ndarray, start: Any, what: str) -> np.ndarray:
    """Rows at or after ``start``: a date/time value, or a row position."""
    if isinstance(start, _DATES) and not isinstance(start, bool):
        if times is None:
            raise ParameterError(
                f"test_start={start!r} is a date but the data has no time column; pass time=."
            )
        try:
            stamp = pd.Timestamp(start)
            values = pd.DatetimeIndex(pd.to_datetime(times))
            return np.asarray(values >= stamp)
        except (TypeError, ValueError) as err:
            raise ParameterError(
                f"cannot compare the {what} times with test_start={start!r}: {err}"
            ) from None
    if isinstance(start, (int, float, np.integer, np.floating)) and not isinstance(start, bool):
        if times is not None and pd.api.types.is_numeric_dtype(times):
            return np.asarray(times >= start)
        return positions >= start
    raise ParameterError(
        f"test_start={start!r} is invalid; use a date/time, a row position, or a dict "
        "{series id: start} (as returned by split_by_time(...).cutoff)."
    )


def check_test_start(frame: pd.DataFrame, test_start: Any, *, time: Any = None, id: Any = None) -> None:
    """Raise :class:`~seqscale.errors.LeakageError` when ``frame`` reaches into the test period.

    ``test_start`` is the declared first test time (a timestamp, or a number compared with a
    numeric time column), a row position (no time column), or a dict ``{series id: start}``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": range(10), "v": range(10)})
    >>> check_test_start(df, 8, time="t")
    Traceback (most recent call last):
    ...
    seqscale.errors.LeakageError: ...
    """
    if test_start is None:
        return
    if isinstance(test_start, dict):
        if id is None:
            raise ParameterError("test_start is a dict {series: start} but no id column is named; pass id=.")
        hit = np.zeros(len(frame), dtype=bool)
        for key, rows in frame.groupby(id, sort=False).indices.items():
            if key in test_start:
                part = frame.iloc[rows]
                hit[rows] = _inside(
                    _times(part, time), np.arange(len(rows)), test_start[key], f"series {key!r}"
                )
    else:
        positions = np.arange(len(frame))
        if id is not None:
            positions = frame.groupby(id, sort=False).cumcount().to_numpy()
        hit = _inside(_times(frame, time), positions, test_start, "data")
    if hit.any():
        raise LeakageError.at_rows(
            "the data passed to fit reaches into the test period (test_start={start!r}): "
            "{n} row(s), first at {row}. Fit on the training part only, e.g. "
            "split_by_time(frame, ...).train, or pass allow_leakage=True if this is intended.",
            int(np.flatnonzero(hit)[0]),
            start=test_start,
            n=int(hit.sum()),
        )
