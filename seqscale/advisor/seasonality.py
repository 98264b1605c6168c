"""Seasonal period and strength for :func:`seqscale.advisor.api.advise`.

The candidate period comes from the time column's frequency (monthly -> 12, quarterly -> 4,
daily -> 7, hourly -> 24, half-hourly -> 48, ...); without a regular calendar frequency it is the
lag of the highest autocorrelation peak. A candidate is *confirmed* when the autocorrelation at
that lag is at least :data:`MIN_ACF` and the STL seasonal strength (Wang, Smith & Hyndman 2006:
``F = max(0, 1 - var(R) / var(S + R))``) is at least :data:`MIN_STRENGTH`, both measured on the
last :data:`MAX_POINTS` training values after removing a unit root or trend when there is one.

A seasonal *difference* (``x[t] - x[t - period]``) is recommended only when a difference is
needed anyway (unit root or trend) and the seasonal one leaves clearly less variance than the
lag-1 difference: then it helps the network, otherwise the window covering a full season lets the
network see the pattern itself. statsmodels is imported inside the functions.

Examples
--------
>>> import numpy as np, pandas as pd
>>> t = pd.date_range("2000-01-01", periods=120, freq="MS")
>>> period_of_time(pd.Series(t))
12
>>> x = 10 + 5 * np.sin(2 * np.pi * np.arange(120) / 12) + np.random.default_rng(0).normal(0, 0.5, 120)
>>> season = seasonality(x, 12)
>>> season["period"], season["strength"] > 0.9
(12, True)
"""

from __future__ import annotations

import math
import warnings as _warnings

import numpy as np
import pandas as pd

__all__ = [
    "MAX_POINTS",
    "MIN_ACF",
    "MIN_STRENGTH",
    "acf_period",
    "period_of_time",
    "seasonal_gain",
    "seasonality",
]

#: STL seasonal strength needed to confirm a season (Hyndman's "strong seasonality" band).
MIN_STRENGTH = 0.64
#: Autocorrelation at the seasonal lag needed to confirm a season.
MIN_ACF = 0.3
#: Most recent values (in time order) the autocorrelation and STL use.
MAX_POINTS = 5000
#: Longest period considered (longer cycles need more history than an LSTM window holds).
MAX_PERIOD = 400

# pandas offset prefix (after stripping numbers and anchors) -> steps per natural cycle
_PERIODS = {"Q": 4, "QS": 4, "BQ": 4, "M": 12, "MS": 12, "ME": 12, "BM": 12, "BMS": 12, "BME": 12,
            "W": 52, "D": 7, "B": 5, "C": 5}  # fmt: skip
_SUBDAILY = {"h": 3600, "H": 3600, "min": 60, "T": 60, "s": 1, "S": 1}


def _as_datetimes(values: pd.Series) -> pd.DatetimeIndex | None:
    """Sorted unique datetimes of a time column, or None when it is not a calendar time."""
    if isinstance(values.dtype, pd.PeriodDtype):
        values = values.dt.to_timestamp()
    elif not pd.api.types.is_datetime64_any_dtype(values.dtype):
        if pd.api.types.is_numeric_dtype(values.dtype) or len(values) == 0:
            return None
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            values = pd.to_datetime(values, errors="coerce")
        if values.isna().mean() > 0.05:
            return None
    return pd.DatetimeIndex(values.dropna().unique()).sort_values()


def _period_of_seconds(step: float) -> int | None:
    """Steps per day for sub-daily steps (a daily cycle), None for irregular ones."""
    if step <= 0 or step >= 86400 or 86400 % step:
        return None
    return int(86400 // step)


def period_of_time(values: pd.Series) -> int | None:
    """The natural seasonal period implied by a time column's frequency (None if none).

    Monthly -> 12, quarterly -> 4, weekly -> 52, daily -> 7, business-daily -> 5, sub-daily ->
    steps per day (hourly 24, half-hourly 48). Annual and irregular times have none.

    Examples
    --------
    >>> import pandas as pd
    >>> period_of_time(pd.Series(pd.date_range("2024-01-01", periods=96, freq="30min")))
    48
    """
    stamps = _as_datetimes(values)
    if stamps is None or len(stamps) < 4:
        return None
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")  # pandas 3 announces an offset return type
        freq = pd.infer_freq(stamps[: min(len(stamps), 1000)])
    freq = getattr(freq, "freqstr", freq)
    if freq is None:
        steps = np.diff(stamps.asi8[: min(len(stamps), 1000)]) / 1e9
        return _period_of_seconds(float(np.median(steps))) if steps.size else None
    base = freq.split("-")[0].lstrip("0123456789")
    if base in _PERIODS:
        return _PERIODS[base]
    if base in _SUBDAILY:
        mult = freq.split("-")[0][: len(freq.split("-")[0]) - len(base)]
        return _period_of_seconds(_SUBDAILY[base] * (int(mult) if mult else 1))
    return None


def _acf(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelations at lags 0..max_lag (FFT; NaN-free input)."""
    from statsmodels.tsa.stattools import acf

    return np.asarray(acf(x, nlags=max_lag, fft=True), dtype=np.float64)


def acf_period(x: np.ndarray) -> int | None:
    """Lag (>= 2) of the highest local autocorrelation peak, or None when there is none."""
    max_lag = min(MAX_PERIOD, x.size // 3)
    if max_lag < 3:
        return None
    r = _acf(x, max_lag)
    peaks = [k for k in range(2, max_lag) if r[k] > r[k - 1] and r[k] >= r[k + 1] and r[k] >= MIN_ACF]
    return max(peaks, key=lambda k: r[k]) if peaks else None


def _strength(x: np.ndarray, period: int) -> float:
    """STL seasonal strength ``max(0, 1 - var(R) / var(S + R))``."""
    from statsmodels.tsa.seasonal import STL

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        fit = STL(x, period=period, robust=False).fit()
    denom = float(np.var(fit.seasonal + fit.resid))
    return float(max(0.0, 1.0 - np.var(fit.resid) / denom)) if denom > 0 else 0.0


def seasonality(x: np.ndarray, period: int | None) -> dict:
    """Confirm ``period`` (or find one by autocorrelation) on ``x``.

    ``x`` is in time order, with any unit root or trend already removed by the caller.

    Returns ``{"period", "source", "acf", "strength", "seasonal"}``: ``seasonal`` is True when
    the autocorrelation at ``period`` is >= :data:`MIN_ACF` and the STL strength is >=
    :data:`MIN_STRENGTH`.
    """
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)][-MAX_POINTS:]
    source = "time frequency" if period else "autocorrelation peak"
    if period is None and x.size >= 12 and np.ptp(x) > 0:
        period = acf_period(x)
    out = {"period": period, "source": source, "acf": math.nan, "strength": 0.0, "seasonal": False}
    if period is None or period < 2 or x.size < 2 * period + 1 or not np.ptp(x) > 0:
        return out
    out["acf"] = float(_acf(x, period)[period])
    out["strength"] = _strength(x, period)
    out["seasonal"] = bool(out["acf"] >= MIN_ACF and out["strength"] >= MIN_STRENGTH)
    return out


def seasonal_gain(x: np.ndarray, period: int) -> float:
    """``var(x[t] - x[t-period]) / var(x[t] - x[t-1])`` on the finite values (time order)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size <= period + 1:
        return math.inf
    seasonal, lag1 = x[period:] - x[:-period], np.diff(x)
    v1 = float(np.nanvar(lag1))
    return float(np.nanvar(seasonal) / v1) if v1 > 0 else math.inf
