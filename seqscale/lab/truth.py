"""The true values behind every forecast of :func:`seqscale.lab.compare.compare`, and the reference forecasts.

One lookup from the forecasts' index (first target time, or (series id, time) for panels) to the
rows of the sorted frame serves the LSTM variants and the references alike, so every forecast is
scored against the same values. A horizon step or a reference value that would fall into another
series is missing (NaN), never borrowed from a neighbour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["Truth", "season_length"]

_DAY = pd.Timedelta(days=1)
# calendar step -> season length (steps per year, or per week for daily data)
_CALENDAR = ((pd.Timedelta(days=6.5), pd.Timedelta(days=7.5), 52),
             (pd.Timedelta(days=27), pd.Timedelta(days=32), 12),
             (pd.Timedelta(days=88), pd.Timedelta(days=93), 4))  # fmt: skip


def season_length(times: pd.Series) -> int | None:
    """Steps per season from a datetime column's typical step, or None (no calendar season).

    Sub-daily steps: one day (48 for half-hourly data); daily: a week (7, or 5 for business
    days); weekly: 52;
    monthly: 12; quarterly: 4. Annual, irregular and numeric times have no season here.

    Examples
    --------
    >>> import pandas as pd
    >>> season_length(pd.Series(pd.date_range("2020-01-01", periods=30, freq="MS")))
    12
    >>> season_length(pd.Series([1990, 1991, 1992])) is None
    True
    """
    if not pd.api.types.is_datetime64_any_dtype(times):
        return None
    distinct = np.sort(pd.to_datetime(times).unique())
    if distinct.size < 3:
        return None
    step = pd.Timedelta(np.median(np.diff(distinct)))
    if step < _DAY:
        per_day = _DAY / step
        return round(per_day) if abs(per_day - round(per_day)) < 1e-9 and per_day >= 2 else None
    if step == _DAY:  # a week: 5 trading days when no date falls on a weekend
        return 7 if (pd.DatetimeIndex(distinct).day_of_week >= 5).any() else 5
    return next((m for low, high, m in _CALENDAR if low <= step <= high), None)


@dataclass
class Truth:
    """True target values ``actual [samples, n_out]`` at the forecasts' ``index``.

    Attributes
    ----------
    target, n_out : the compared column and horizon
    index : the forecasts' index (time, or a (series id, time) MultiIndex for panels)
    actual : float64 ``[samples, n_out]``, NaN past the end of a series
    series : ``[samples]`` series id of each forecast (None for one series)
    references : ``{name: [samples, n_out]}`` forecasts of "last value" and, with a calendar
        season, "seasonal naive"
    context : the target just before the test period (one series: for the forecast plot)
    season : season length used by the seasonal-naive reference (None when there is none)
    """

    target: str
    n_out: int
    index: pd.Index
    actual: np.ndarray
    series: np.ndarray | None
    references: dict[str, np.ndarray] = field(default_factory=dict)
    context: pd.Series | None = None
    season: int | None = None

    @classmethod
    def build(
        cls, df: pd.DataFrame, target: str, time: str | None, id: str | None, index: pd.Index, n_out: int
    ) -> Truth:
        """The truth of ``index`` from ``df`` (rows sorted by (id, time), index reset)."""
        keys = (
            pd.MultiIndex.from_frame(df[[id, time]])
            if id is not None
            else (pd.Index(df[time]) if time is not None else pd.RangeIndex(len(df)))
        )
        pos = keys.get_indexer(index)
        if (pos < 0).any():
            raise RuntimeError("forecast times missing from the frame")  # a bug: rows were checked unique
        codes = pd.factorize(df[id])[0] if id is not None else np.zeros(len(df), dtype=np.int64)
        values = df[target].to_numpy(dtype=np.float64)

        def at(offsets: np.ndarray) -> np.ndarray:
            """Values at row ``pos + offset`` (NaN where that row is in another series)."""
            rows = pos[:, None] + offsets
            inside = (rows >= 0) & (rows < len(df))
            rows = np.where(inside, rows, 0)
            same = inside & (codes[rows] == codes[pos][:, None])
            return np.where(same, values[rows], np.nan)

        steps = np.arange(n_out)[None, :]
        refs = {"last value": at(np.full((1, n_out), -1))}
        season = season_length(df[time]) if time is not None else None
        if season is not None:
            refs[f"seasonal naive (m={season})"] = at(
                steps - season * np.ceil((steps + 1) / season).astype(int)
            )
        context = None
        if id is None:
            before = pd.Series(values, index=keys)
            context = before.iloc[max(0, pos[0] - 36) : pos[0]]
        series = df[id].to_numpy()[pos] if id is not None else None
        return cls(target, n_out, index, at(steps), series, refs, context, season)

    def check_index(self, index: pd.Index, name: str) -> None:
        """Every variant must forecast exactly the same (series, time) points."""
        if not self.index.equals(index):
            raise RuntimeError(f"variant {name!r} forecasts other times than the first variant")

    def errors(self, forecast: np.ndarray, *, reference: bool = False) -> tuple[dict, list[dict]]:
        """RMSE and MAE of ``forecast [samples, n_out]``: pooled, and per series for panels.

        Points past the end of a series are skipped; so are the points a reference cannot
        forecast (no value a season back). A NaN or infinite LSTM forecast is never skipped.
        """
        forecast = np.asarray(forecast, dtype=np.float64).reshape(self.actual.shape)
        scored = ~np.isnan(self.actual) & (~np.isnan(forecast) if reference else True)
        err = np.where(scored, forecast - self.actual, 0.0)
        pooled = _scores(err, scored)
        if self.series is None:
            return pooled, []
        codes, labels = pd.factorize(self.series)
        rows = [
            {"series": labels[g], **_scores(err[codes == g], scored[codes == g])} for g in range(len(labels))
        ]
        return pooled, rows

    def reference_errors(self) -> tuple[dict[str, dict], list[dict]]:
        """The references scored like the variants: ``({name: scores}, per-series rows)``."""
        pooled, rows = {}, []
        for name, forecast in self.references.items():
            pooled[name], per_series = self.errors(forecast, reference=True)
            rows += [{"variant": name, **row} for row in per_series]
        return pooled, rows


def _scores(err: np.ndarray, scored: np.ndarray) -> dict:
    n = int(scored.sum())
    if not n:
        return {"rmse": math.nan, "mae": math.nan, "n": 0}
    with np.errstate(over="ignore", invalid="ignore"):
        return {"rmse": float(np.sqrt(np.sum(err**2) / n)), "mae": float(np.sum(np.abs(err)) / n), "n": n}
