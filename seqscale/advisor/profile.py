"""Column statistics and row ordering for :func:`seqscale.advise` and the HTML report.

The cheap statistics (count, missing share, min, max, mean, std, skewness, excess kurtosis,
quartiles, Tukey outlier share, distinct values) are computed on *all* rows, a block of columns at
a time: each block is an ``(n_rows, n_columns)`` float64 array in Fortran order, the moments are
vectorized reductions over the whole block and one ``np.sort`` per block gives the exact
quartiles, the distinct count and the outlier counts (binary search on the sorted column).

The expensive tests live elsewhere and run on samples:

- normality (D'Agostino ``normaltest``): a random sample of at most ``sample`` rows;
- stationarity (ADF, KPSS): an *evenly strided* subsample of at most
  :data:`STATIONARITY_POINTS` points in time order. A stride keeps the trend and the
  low-frequency behaviour of the series (a random walk sampled every k steps is still a random
  walk, white noise is still white noise), which is what the unit-root decision is about.

Nothing here imports scipy, statsmodels or matplotlib.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "BLOCK_COLUMNS",
    "CYCLE_MATCH",
    "STATIONARITY_POINTS",
    "Ordering",
    "column_values",
    "cycle_lag",
    "difference",
    "numeric_stats",
    "ordering",
    "outside_share",
    "per_series_shape",
    "series_rows",
    "strided",
    "trend_check",
]

#: Columns profiled together (a block holds about n_rows x 16 x 8 bytes, a few copies at once).
BLOCK_COLUMNS = 16

#: At most this many points (evenly strided, time order) go into ADF/KPSS.
STATIONARITY_POINTS = 2000


# ------------------------------------------------------------------------------------------------
# Row ordering and the train/test split
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ordering:
    """How rows are ordered in time and which rows form the test tail.

    Attributes
    ----------
    series_order:
        Row positions sorted by (series, time): each series is contiguous and in time order.
        Without ``id`` this is simply the time order.
    codes:
        Integer series code of every row (all zeros without ``id``).
    is_test:
        Boolean mask (original row positions): the last ``test_size`` share of the rows in time
        order (by the global time when ``time`` is given, else per series by position).
    longest:
        Row positions of the longest series, in time order (the whole frame without ``id``).
    n_series, series_lengths:
        Number of series and the length of each.
    """

    series_order: np.ndarray
    codes: np.ndarray
    is_test: np.ndarray
    longest: np.ndarray
    n_series: int
    series_lengths: np.ndarray

    @property
    def n_train(self) -> int:
        return int(self.is_test.size - np.count_nonzero(self.is_test))

    @property
    def identity(self) -> bool:
        """True when the rows are already in time order and there is a single series."""
        n = self.series_order.size
        return self.n_series == 1 and bool(np.array_equal(self.series_order, np.arange(n)))


def _time_key(values: pd.Series) -> np.ndarray:
    """A sortable array for a time column (datetimes, periods, numbers or strings)."""
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.dt.to_timestamp().to_numpy()
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy()
    return values.to_numpy()


def _time_order(frame: pd.DataFrame, time: object | None) -> tuple[np.ndarray, np.ndarray]:
    """Row positions sorted by time and the time rank of every row (row order without time)."""
    n = len(frame)
    if time is None:
        time_order = np.arange(n)
        return time_order, time_order
    time_order = np.argsort(_time_key(frame[time]), kind="stable")
    time_rank = np.empty(n, dtype=np.int64)
    time_rank[time_order] = np.arange(n)
    return time_order, time_rank


def _series_layout(
    frame: pd.DataFrame, id: object | None, time_order: np.ndarray, time_rank: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Series code of every row, the (series, time) row order and the series lengths."""
    n = len(frame)
    if id is None:
        return np.zeros(n, dtype=np.int64), time_order, np.array([n], dtype=np.int64)
    codes, _ = pd.factorize(frame[id], use_na_sentinel=False)
    codes = np.asarray(codes, dtype=np.int64)
    return codes, np.lexsort((time_rank, codes)), np.bincount(codes)


def _per_series_tail(
    codes: np.ndarray, series_order: np.ndarray, lengths: np.ndarray, test_size: float
) -> np.ndarray:
    """Test mask by the position inside each series against its own length."""
    n = codes.size
    ordered_codes = codes[series_order]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    position = np.arange(n) - starts[ordered_codes]
    n_test_series = np.ceil(test_size * lengths).astype(np.int64)
    test_ordered = position >= (lengths - n_test_series)[ordered_codes]
    is_test = np.empty(n, dtype=bool)
    is_test[series_order] = test_ordered
    return is_test


def ordering(frame: pd.DataFrame, time: object | None, id: object | None, test_size: float) -> Ordering:
    """Compute the time order, the series layout and the test-tail mask of ``frame``."""
    n = len(frame)
    time_order, time_rank = _time_order(frame, time)
    codes, series_order, lengths = _series_layout(frame, id, time_order, time_rank)
    n_series = int(lengths.size)
    if time is not None or id is None:
        is_test = time_rank >= n - math.ceil(test_size * n)
    else:
        is_test = _per_series_tail(codes, series_order, lengths, test_size)
    if n_series > 1:
        longest = series_order[codes[series_order] == int(np.argmax(lengths))]
    else:
        longest = series_order
    return Ordering(series_order, codes, is_test, longest, n_series, lengths)


def difference(x: np.ndarray, order: Ordering, lag: int = 1, times: int = 1) -> np.ndarray:
    """Difference ``x`` (original row positions) within each series; undefined rows are NaN."""
    out = np.asarray(x, dtype=np.float64)
    so = order.series_order
    codes_ordered = order.codes[so]
    for _ in range(times):
        xo = out[so]
        d = np.full(xo.shape, np.nan)
        if xo.size > lag:
            d[lag:] = xo[lag:] - xo[:-lag]
            if order.n_series > 1:
                d[lag:][codes_ordered[lag:] != codes_ordered[:-lag]] = np.nan
        out = np.empty_like(d)
        out[so] = d
    return out


# ------------------------------------------------------------------------------------------------
# Column values
# ------------------------------------------------------------------------------------------------
def column_values(series: pd.Series) -> np.ndarray:
    """A float64 view/copy of a numeric or boolean column; missing values become NaN."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype == np.float64:
        return series.to_numpy()
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return series.to_numpy(dtype=np.float64)
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


# ------------------------------------------------------------------------------------------------
# Vectorized statistics
# ------------------------------------------------------------------------------------------------
_LEVELS_KEPT = 12


def _quantile_sorted(s: np.ndarray, q: float) -> float:
    """Linear-interpolation quantile (numpy's default) of a sorted, NaN-free array."""
    pos = q * (s.size - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, s.size - 1)
    frac = pos - lo
    return float(s[lo] + (s[hi] - s[lo]) * frac)


def _moments(
    block: np.ndarray, finite: np.ndarray, count: np.ndarray, all_finite: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean, sample std, skewness and excess kurtosis of every column (finite values only)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        total = block.sum(axis=0) if all_finite else np.sum(block, axis=0, where=finite)
        safe_count = np.maximum(count, 1)
        mean = total / safe_count
        d = block - mean
        if not all_finite:
            d[~finite] = 0.0
        d2 = d * d
        m2 = d2.sum(axis=0) / safe_count
        d *= d2
        m3 = d.sum(axis=0) / safe_count
        d2 *= d2
        m4 = d2.sum(axis=0) / safe_count
        del d, d2
        std = np.sqrt(m2 * safe_count / np.maximum(count - 1, 1))
        ok = m2 > 0
        skew = np.where(ok, m3 / np.where(ok, m2, 1.0) ** 1.5, 0.0)
        kurt = np.where(ok, m4 / np.where(ok, m2, 1.0) ** 2 - 3.0, 0.0)
    return mean, std, skew, kurt


def _empty_stats() -> dict:
    """The statistics of a column without a finite value."""
    nan = math.nan
    return {
        "min": nan,
        "max": nan,
        "mean": nan,
        "std": nan,
        "skewness": nan,
        "kurtosis": nan,
        "q1": nan,
        "median": nan,
        "q3": nan,
        "iqr": nan,
        "outlier_share": 0.0,
        "distinct": 0,
        "integer": False,
        "nonnegative": False,
        "values": [],
    }


def _sorted_stats(s: np.ndarray, moments: tuple, levels: int) -> dict:
    """The statistics of one column from its sorted finite values and its moments."""
    mean, std, skew, kurt = moments
    c = s.size
    q1 = _quantile_sorted(s, 0.25)
    q3 = _quantile_sorted(s, 0.75)
    iqr = q3 - q1
    lo_fence, hi_fence = q1 - 1.5 * iqr, q3 + 1.5 * iqr
    n_out = int(np.searchsorted(s, lo_fence, "left")) + int(c - np.searchsorted(s, hi_fence, "right"))
    change = s[1:] != s[:-1]
    distinct = 1 + int(np.count_nonzero(change))
    values = None
    if distinct <= levels:
        values = [float(v) for v in s[np.concatenate([[True], change])]]
    return {
        "min": float(s[0]),
        "max": float(s[-1]),
        "mean": float(mean),
        "std": float(std) if c > 1 else 0.0,
        "skewness": float(skew),
        "kurtosis": float(kurt),
        "q1": q1,
        "median": _quantile_sorted(s, 0.5),
        "q3": q3,
        "iqr": iqr,
        "outlier_share": n_out / c,
        "distinct": distinct,
        "integer": bool(np.array_equal(s, np.trunc(s))),
        "nonnegative": bool(s[0] >= 0),
        "values": values,
    }


def numeric_stats(block: np.ndarray, *, levels: int = _LEVELS_KEPT) -> list[dict]:
    """Statistics of every column of ``block`` (``(n_rows, n_columns)`` float64).

    NaN is missing; +-inf is counted (``inf_count``) and otherwise treated as missing. Returns one
    dict per column with ``count, nan_share, inf_count, min, max, mean, std, skewness, kurtosis
    (excess), q1, median, q3, iqr, outlier_share, distinct, integer, nonnegative, values`` where
    ``values`` lists the distinct values when there are at most ``levels`` of them (else None).
    Skewness and kurtosis are the moment (biased) estimators, as ``scipy.stats.skew``/``kurtosis``.
    """
    block = np.asarray(block, dtype=np.float64)
    if block.ndim == 1:
        block = block[:, None]
    n, b = block.shape
    finite = np.isfinite(block)
    count = finite.sum(axis=0)
    nan_count = np.isnan(block).sum(axis=0)
    inf_count = n - count - nan_count
    all_finite = bool(b == 0 or count.min() == n)
    mean, std, skew, kurt = _moments(block, finite, count, all_finite)
    if all_finite:
        ordered = np.sort(block, axis=0)
    else:
        ordered = np.sort(np.where(finite, block, np.nan), axis=0)

    results = []
    for j in range(b):
        c = int(count[j])
        entry: dict = {
            "count": c,
            "nan_share": float(nan_count[j] / n) if n else 0.0,
            "inf_count": int(inf_count[j]),
        }
        if c == 0:
            entry.update(_empty_stats())
        else:
            moments = (mean[j], std[j], skew[j], kurt[j])
            entry.update(_sorted_stats(ordered[:c, j], moments, levels))
        results.append(entry)
    return results


def outside_share(block: np.ndarray, is_test: np.ndarray) -> list[dict]:
    """Share of the test rows of each column outside the training [min, max].

    ``is_test`` is a boolean row mask. Returns per column ``{"share", "train_min", "train_max",
    "n_test"}`` (share is NaN when a part has no finite value).
    """
    block = np.asarray(block, dtype=np.float64)
    if block.ndim == 1:
        block = block[:, None]
    n = block.shape[0]
    n_test = int(np.count_nonzero(is_test))
    if n_test and n_test < n and bool(is_test[-n_test:].all()):
        train, test = block[: n - n_test], block[n - n_test :]  # plain tail: no copies
    else:
        train, test = block[~is_test], block[is_test]
    with np.errstate(invalid="ignore"):
        if train.shape[0]:
            train_clean = np.where(np.isfinite(train), train, np.nan)
            lo = np.fmin.reduce(train_clean, axis=0)
            hi = np.fmax.reduce(train_clean, axis=0)
        else:
            lo = hi = np.full(block.shape[1], np.nan)
        test_finite = np.isfinite(test)
        n_fin = test_finite.sum(axis=0)
        outside = (((test < lo) | (test > hi)) & test_finite).sum(axis=0)
    out = []
    for j in range(block.shape[1]):
        share = float(outside[j] / n_fin[j]) if n_fin[j] and np.isfinite(lo[j]) else math.nan
        out.append(
            {
                "share": share,
                "train_min": float(lo[j]),
                "train_max": float(hi[j]),
                "n_test": int(n_fin[j]),
            }
        )
    return out


# ------------------------------------------------------------------------------------------------
# Time-order helpers for the stationarity tests
# ------------------------------------------------------------------------------------------------
def strided(x: np.ndarray, max_points: int = STATIONARITY_POINTS) -> tuple[np.ndarray, int]:
    """Evenly strided subsample of at most ``max_points`` finite values (time order kept)."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    stride = max(1, math.ceil(x.size / max_points))
    return x[::stride], stride


def trend_check(x: np.ndarray) -> dict:
    """Linear-trend share of variance (R^2 of x on time) and the shift of the last 20 %.

    ``shift`` is (mean of the last 20 % - mean of the first 80 %) in units of the first 80 %'s
    standard deviation.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if n < 5 or not np.ptp(x) > 0:
        return {"trend_r2": 0.0, "shift_std": 0.0, "slope_per_step": 0.0}
    t = np.arange(n, dtype=np.float64)
    t -= t.mean()
    xc = x - x.mean()
    sxx = float(t @ t)
    slope = float(t @ xc) / sxx
    ss_tot = float(xc @ xc)
    r2 = (slope * slope * sxx) / ss_tot if ss_tot > 0 else 0.0
    cut = round(0.8 * n)
    head, tail = x[:cut], x[cut:]
    sd = float(head.std()) if head.size > 1 else 0.0
    if tail.size and sd > 0:
        shift = float((tail.mean() - head.mean()) / sd)
    elif tail.size and tail.mean() != head.mean():
        shift = math.inf if tail.mean() > head.mean() else -math.inf
    else:
        shift = 0.0
    return {"trend_r2": float(min(max(r2, 0.0), 1.0)), "shift_std": shift, "slope_per_step": slope}


# ------------------------------------------------------------------------------------------------
# Panels: one statistic per series, aggregated
# ------------------------------------------------------------------------------------------------
def series_rows(order: Ordering, max_series: int) -> list[np.ndarray]:
    """Row positions (time order) of at most ``max_series`` series, evenly spread over them."""
    bounds = np.concatenate([[0], np.cumsum(order.series_lengths)])
    picked = np.unique(np.linspace(0, order.n_series - 1, min(max_series, order.n_series)).astype(int))
    return [order.series_order[bounds[k] : bounds[k + 1]] for k in picked]


def per_series_shape(values: np.ndarray, order: Ordering, max_series: int = 500) -> dict:
    """Median skewness, excess kurtosis and outlier share over the series of a panel.

    These are the shape of each series after its own scaling (an affine map changes none of
    them), so firms of very different size do not make the pooled column look heavy-tailed.
    """
    rows = [r for r in series_rows(order, max_series) if r.size >= 3]
    if not rows:
        return {}
    stats = [numeric_stats(values[r][:, None])[0] for r in rows]
    usable = [s for s in stats if s["count"] >= 3 and s["std"] > 0]
    if not usable:
        return {}
    return {
        "skewness": float(np.median([s["skewness"] for s in usable])),
        "kurtosis": float(np.median([s["kurtosis"] for s in usable])),
        "outlier_share": float(np.median([s["outlier_share"] for s in usable])),
        "n_series": len(usable),
    }


# ------------------------------------------------------------------------------------------------
# Small-integer columns: a cycling calendar code or a magnitude?
# ------------------------------------------------------------------------------------------------
#: Share of rows equal to the row one cycle earlier that marks a calendar/season code.
CYCLE_MATCH = 0.98


def _match_share(x: np.ndarray, lag: int) -> float:
    return float(np.mean(x[lag:] == x[:-lag])) if 0 < lag < x.size else 0.0


def cycle_lag(x: np.ndarray, levels: int, period: int | None = None) -> tuple[int, float] | None:
    """``(lag, share)`` when the integer column ``x`` (time order) repeats with a fixed cycle.

    A cycle is a lag of at least ``levels`` rows (each level once per cycle: quarter 1-4 every 4
    rows, weekday 0-6 every 7 days or every 168 hours) at which at least 98 % of the rows equal
    the row one cycle earlier, more often than at lag 1 (a slowly changing count also repeats
    its neighbours).
    """
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    lags = {levels * k for k in (1, 24, 48, 96)} | {365}
    if period:
        lags |= {period, levels * period}
    at_one = _match_share(x, 1)
    for lag in sorted(lg for lg in lags if lg <= x.size // 3):
        share = _match_share(x, lag)
        if share >= CYCLE_MATCH and share > at_one:
            return lag, share
    return None
