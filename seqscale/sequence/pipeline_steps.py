"""The row-wise steps of :class:`~seqscale.sequence.pipeline.SequencePipeline`, as plain functions.

Order, always: (log1p) -> difference -> scale -> encode -> window. Everything here works on a frame
already sorted by (id, time); differencing and level histories stay within each series.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seqscale.errors import InputError, InputTypeError, UnseenSeriesError
from seqscale.frames.time_columns import with_time
from seqscale.scalers import build
from seqscale.sequence.plan_schema import OUT_MAX

__all__ = [
    "Prepared",
    "as_frame",
    "check_length",
    "check_scaled",
    "difference",
    "history",
    "levels",
    "prepare",
    "remember",
    "scaled_range_problem",
    "series_table",
    "sort_frame",
    "sort_positions",
    "sorted_rows",
]


@dataclass
class Prepared:
    """A frame after log1p and differencing (before scaling), with what inverting needs."""

    frame: pd.DataFrame  # sorted input frame (all rows)
    ids: np.ndarray | None  # series id per row (all rows)
    numeric: dict[str, pd.Series]  # scaled columns after log1p/difference (all rows)
    levels: dict[str, pd.Series]  # differenced targets: their (log) levels (all rows)
    keep: np.ndarray  # rows left after dropping each series' first `span` rows


def as_frame(data: Any) -> pd.DataFrame:
    """A pandas DataFrame from a DataFrame, polars/pyarrow table, dict or 2D array."""
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas") and callable(data.to_pandas):
        out = data.to_pandas()
        if isinstance(out, pd.DataFrame):
            return out
    if isinstance(data, dict):
        return pd.DataFrame(data)
    if isinstance(data, np.ndarray) and data.ndim == 2:
        return pd.DataFrame(data, columns=[f"x{j}" for j in range(data.shape[1])])
    raise InputTypeError(
        f"expected a DataFrame (rows = time steps, one column per variable); got "
        f"{type(data).__name__}{getattr(data, 'shape', '')}."
    )


def sort_frame(frame: pd.DataFrame, time: Any, id: Any) -> pd.DataFrame:
    """Rows sorted by (id, time) (stable; without a time column the row order is the time order).

    The time column is parsed first (:func:`seqscale.frames.time_columns.parse_times`: text dates, years,
    quarters ...).
    """
    return sorted_rows(frame, time, id)[0]


def sorted_rows(frame: pd.DataFrame, time: Any, id: Any) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Rows sorted as by :func:`sort_frame`, and each sorted row's position in ``frame``.

    Parameters
    ----------
    frame : DataFrame
        The data as the caller gave it.
    time, id : column names or None
        The sort keys (series id first); neither: the rows stay in place.

    Returns
    -------
    sorted : DataFrame
        The rows sorted stably by (id, time), with their index labels.
    positions : 1D integer array or None
        ``positions[i]`` is the 0-based position in ``frame`` of sorted row ``i`` (None when
        there is no key), for naming the caller's rows in errors
        (:func:`seqscale.sequence.rows.caller_rows`).

    Examples
    --------
    >>> df = pd.DataFrame({"t": [3, 1, 2], "v": [30.0, 10.0, 20.0]}, index=[7, 8, 9])
    >>> out, positions = sorted_rows(df, "t", None)
    >>> out.index.tolist(), positions.tolist()
    ([8, 9, 7], [1, 2, 0])
    """
    keys = [k for k in (id, time) if k is not None]
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise InputError(f"columns {missing} (id/time) are missing from the data.")
    frame = with_time(frame, time)
    if id is not None and frame[id].isna().any():
        raise InputError(f"id column {id!r} has missing values; every row needs a series id.")
    if not keys:
        return frame, None
    positions = sort_positions(frame, keys)
    return frame.iloc[positions], positions


def sort_positions(frame: pd.DataFrame, keys: list) -> np.ndarray:
    """The positions of ``frame``'s rows in their stable order by ``keys`` (series id first).

    Examples
    --------
    >>> sort_positions(pd.DataFrame({"id": [2, 1, 2], "t": [1, 5, 0]}), ["id", "t"]).tolist()
    [1, 2, 0]
    """
    return frame[keys].reset_index(drop=True).sort_values(keys, kind="stable").index.to_numpy()


def levels(frame: pd.DataFrame, col: str, log: bool) -> pd.Series:
    """The column as float64, through ``log1p`` when ``log`` (values must be > -1)."""
    x = frame[col]
    if not (pd.api.types.is_numeric_dtype(x) or pd.api.types.is_bool_dtype(x)):
        raise InputTypeError(
            f"column {col!r} is not numeric (dtype {x.dtype}); give it role 'categorical' or "
            "'ignore', or convert it."
        )
    x = x.astype(np.float64)
    if not log:
        return x
    bad = (x <= -1).to_numpy()
    if bad.any():
        raise InputError.at_rows(
            "column {col!r} has values <= -1 (first at {row}); log1p needs values > -1. "
            "Set 'log': false for it.",
            int(np.flatnonzero(bad)[0]),
            col=col,
        )
    return np.log1p(x)


def difference(x: pd.Series, ids: np.ndarray | None, lag: int, order: int) -> pd.Series:
    """``(1 - B^lag)^order`` within each series; the first ``lag * order`` rows of each are NaN."""
    for _ in range(order):
        x = x.diff(lag) if ids is None else x.groupby(ids, sort=False).diff(lag)
    return x


def history(x: pd.Series, ids: np.ndarray | None, span: int) -> np.ndarray:
    """``[rows, span]``: each row's level and the ``span - 1`` levels before it (same series)."""
    cols = []
    for j in range(span):
        k = span - 1 - j
        cols.append(x.shift(k) if ids is None else x.groupby(ids, sort=False).shift(k))
    return np.column_stack([c.to_numpy(dtype=np.float64) for c in cols])


def keep_rows(ids: np.ndarray | None, n: int, span: int) -> np.ndarray:
    """Rows after the first ``span`` rows of each series (those have no difference)."""
    if ids is None:
        return np.arange(n) >= span
    return pd.Series(ids).groupby(ids, sort=False).cumcount().to_numpy() >= span


# --------------------------------------------------------------------------- series features
def series_table(frame: pd.DataFrame, ids: np.ndarray, columns: list[str]) -> dict:
    """Per-series level and scale of ``columns``, standardized across series.

    Level: ``sign(mean) * log10(1 + |mean|)``; scale: ``log10(std)``. Both are standardized
    across the training series so the network sees comparable numbers.
    """
    grouped = frame[columns].astype(np.float64).groupby(ids, sort=False)
    mean, std = grouped.mean(), grouped.std(ddof=0)
    level = np.sign(mean) * np.log10(1.0 + mean.abs())
    scale = np.log10(std.where(std > 0, np.nan)).fillna(0.0)
    parts, names = [], []
    for c in columns:
        parts += [level[c].to_numpy(), scale[c].to_numpy()]
        names += [f"{c}:level", f"{c}:log10_std"]
    values = np.column_stack(parts)
    spread = values.std(axis=0)
    values = (values - values.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    series = [s.item() if isinstance(s, np.generic) else s for s in mean.index]
    return {"columns": list(columns), "names": names, "series": series, "values": values.tolist()}


def series_values(table: dict, ids: np.ndarray) -> np.ndarray:
    """The constant per-series features of each row; unseen series are refused."""
    codes = pd.Index(table["series"]).get_indexer(ids)
    if (codes < 0).any():
        unseen = pd.unique(ids[codes < 0])[:5].tolist()
        raise UnseenSeriesError(
            f"series {unseen} were not seen at fit time, so they have no level/scale features; "
            "fit on them first or use series_features=False."
        )
    return np.asarray(table["values"], dtype=np.float64)[codes]


# --------------------------------------------------------------------------- transform
def prepare(pipe: Any, df: pd.DataFrame) -> Prepared:
    """log1p and difference every scaled column (``df`` sorted); keep levels of targets."""
    ids = df[pipe.id].to_numpy() if pipe.id is not None else None
    numeric, known = {}, {}
    for col, spec in pipe.scaled_columns().items():
        if col not in df.columns:
            raise InputError(missing_message(col, spec))
        x = levels(df, col, spec["log"]).reset_index(drop=True)
        d = spec["difference"]
        if d:
            if spec["role"] == "target":
                known[col] = x
            x = _checked_difference(col, x, ids, d)
        numeric[col] = x
    keep = keep_rows(ids, len(df), pipe.span_)
    return Prepared(df, ids, numeric, known, keep)


def _checked_difference(col: str, x: pd.Series, ids: np.ndarray | None, d: dict) -> pd.Series:
    """Differences of ``x``, refusing finite levels whose difference overflows float64."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = difference(x, ids, d["lag"], d["order"])
    overflow = np.isinf(out.to_numpy()) & np.isfinite(x.to_numpy())
    if overflow.any():
        raise InputError.at_rows(
            "column {col!r}: differencing (lag {lag}, order {order}) overflows float64 "
            '(first at {row}); the values are too extreme: rescale the column first (e.g. "log": true).',
            int(np.flatnonzero(overflow)[0]),
            col=col,
            lag=d["lag"],
            order=d["order"],
        )
    return out


def remember(pipe: Any, table: pd.DataFrame, prep: Prepared, first: np.ndarray) -> dict:
    """Per sample: series id, time of the first target step, last known target levels."""
    if pipe.time is not None:
        times = pd.Index(table[pipe.time].to_numpy()[first], name=pipe.time)
    else:
        times = prep.frame.index[np.flatnonzero(prep.keep)][first]
    ids = table[pipe.id].to_numpy()[first] if pipe.id is not None else None
    rows = np.flatnonzero(prep.keep)[first - 1]  # last input row, in the sorted frame
    hist = {t: history(x, prep.ids, pipe.differences_[t].span)[rows] for t, x in prep.levels.items()}
    return {"times": times, "ids": ids, "levels": hist, "n": len(first)}


def missing_message(col: str, spec: dict) -> str:
    """Why a column the pipeline was fitted with must be in the data."""
    if spec["role"] == "target":
        return (
            f"target column {col!r} is missing: its past values are an input of the model "
            "and the last known levels invert the forecasts. Pass it (NaN in future rows is fine)."
        )
    return f"column {col!r} was seen at fit time but is missing from the data."


def check_length(ids: Any, n: int, need: int, span: int) -> None:
    """Refuse series too short for one window after differencing."""
    counts = np.asarray([n]) if ids is None else pd.Series(ids).value_counts().to_numpy()
    if counts.size == 0 or counts.min() < need:
        raise InputError(
            f"a series has {0 if counts.size == 0 else int(counts.min())} rows after differencing "
            f"(which drops the first {span} rows of each); windows need n_in + n_out = {need}. "
            "Pass more history or lower n_in/n_out."
        )


# --------------------------------------------------------------------------- float32 output
def _beyond_output(values: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return ~(np.abs(values) <= OUT_MAX)


def _scale_hint(col: str, spec: dict) -> str:
    if spec.get("bounds") is not None:
        return (
            f"check the values and the plan's columns.{col}.bounds (in the column's units after "
            "log/difference)"
        )
    return f'check the values, or rescale column {col!r} first (e.g. "log": true)'


def check_scaled(col: str, spec: dict, before: np.ndarray, after: np.ndarray) -> None:
    """Refuse finite values that scaling took beyond float32, the dtype of the returned tensors.

    ``before`` are the values the column's scaler saw (after log/difference), ``after`` what it
    returned; NaN (missing) passes through and is not a problem.
    """
    bad = np.isfinite(before) & _beyond_output(after)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"column {col!r}: {int(bad.sum())} finite value(s) scale beyond the float32 range "
            f"(|y| <= {OUT_MAX:.4g}) of the tensors the pipeline returns (the first: {before[i]:.6g} "
            f"-> {after[i]:.4g}); {_scale_hint(col, spec)}."
        )


def scaled_range_problem(col: str, spec: dict, scaler: Any) -> str | None:
    """Why the fitted ``scaler`` takes its own training range beyond float32 (None when it does not).

    The map is monotone per channel, so the images of each channel's (and series') training
    minimum and maximum bound the image of every training value.
    """
    stats = scaler.series_stats_ if build.is_grouped(scaler) else scaler.stats_
    affine = build.fitted_table(scaler)
    for end in (stats.min, stats.max):
        with np.errstate(over="ignore", invalid="ignore"):
            image = (end - affine.shift) * affine.scale + affine.offset
        bad = ~np.isnan(end) & _beyond_output(image)
        if bad.any():
            i = np.flatnonzero(bad.ravel())[0]
            return (
                f"the training value {end.ravel()[i]:.6g} scales to {image.ravel()[i]:.4g}, beyond the "
                f"float32 range (|y| <= {OUT_MAX:.4g}) of the tensors the pipeline returns; "
                f"{_scale_hint(col, spec)}"
            )
    return None
