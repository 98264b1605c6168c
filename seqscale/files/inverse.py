"""Inverse mapping for files: levels from differences given the history, and exact decimals.

Two jobs of ``seqscale inverse`` that the in-memory API leaves to the caller:

* a differenced pipeline column comes back from the scaler as differences; with the observed
  history (time column and levels) :func:`rebuild_levels` turns them into levels (through the
  earlier observations, or earlier rebuilt values past the end of the history), then undoes log1p;
* an inverted float64 is often one ulp away from the value that was scaled (``22.66 ->
  22.659999999999997``); :func:`shortest_preimage` writes instead the shortest decimal that the
  forward map sends to exactly the same scaled value, which for data written with a few decimals
  is the value as it was written.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from math import comb
from typing import Any

import numpy as np
import pandas as pd

from seqscale.errors import InputError

__all__ = ["pipeline_decimals", "pipeline_levels", "rebuild_levels", "shortest_preimage"]


def shortest_preimage(
    inverted: np.ndarray, scaled: np.ndarray, forward: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Each inverted value rounded to the fewest decimals that still map to its scaled value.

    ``forward(x)`` is the scaling (same shape in, same shape out). A value is replaced only when
    ``forward(rounded) == scaled`` exactly, so the result is always a preimage as exact as the
    plain inverse: scaling it again gives bitwise the same numbers.

    Examples
    --------
    >>> f = lambda x: (x - 0.1) * (1 / 7.0)
    >>> s = f(np.array([28.15]))
    >>> back = s / (1 / 7.0) + 0.1
    >>> back.tolist(), shortest_preimage(back, s, f).tolist()
    ([28.149999999999995], [28.15])
    """
    out = np.array(inverted, dtype=np.float64, copy=True)
    todo = np.isfinite(out) & np.isfinite(scaled)
    for decimals in range(16):
        if not todo.any():
            break
        candidate = np.round(out, decimals)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # out-of-range notes were given by the inverse itself
            hit = todo & (forward(candidate) == scaled)
        out[hit] = candidate[hit]
        todo &= ~hit
    return out


def rebuild_levels(
    diffs: pd.DataFrame,
    history: pd.DataFrame,
    column: str,
    *,
    lag: int,
    order: int,
    log: bool,
    time: str,
    id: str | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Levels of ``column`` for each row of ``diffs`` (differences, in log1p units when ``log``).

    ``x[t] = d[t] + base[t]`` with ``base[t] = -sum_k C(order, k) (-1)^k x[t - k lag]``,
    positions counted along each series' time axis (history times, then prediction times after
    the history's end). Earlier levels come from ``history`` where observed, else from rows
    rebuilt before. Returns ``(levels, base)``; ``base`` is in log1p units when ``log``.
    """
    out, base = np.full(len(diffs), np.nan), np.full(len(diffs), np.nan)
    keys = diffs[id].to_numpy() if id is not None else np.zeros(len(diffs))
    hist_keys = history[id].to_numpy() if id is not None else np.zeros(len(history))
    for key in pd.unique(keys):
        rows = np.flatnonzero(keys == key)
        past = history[hist_keys == key]
        if past.empty:
            raise InputError(f"the history has no rows of series {key!r}; it needs that series' last levels.")
        out[rows], base[rows] = _one_series(diffs.iloc[rows], past, column, lag, order, log, time)
    return (np.expm1(out) if log else out), base


def _one_series(
    diffs: pd.DataFrame, past: pd.DataFrame, column: str, lag: int, order: int, log: bool, time: str
) -> tuple[np.ndarray, np.ndarray]:
    past = past.sort_values(time, kind="stable")
    levels = past[column].to_numpy(dtype=np.float64)
    levels = np.log1p(levels) if log else levels
    axis = pd.Index(past[time].to_numpy())
    ahead = pd.Index(np.sort(diffs[time].to_numpy()))
    axis = axis.append(ahead[~ahead.isin(axis) & (ahead > axis.max())]).unique()
    known = np.concatenate([levels, np.full(len(axis) - len(levels), np.nan)])
    weights = [(k, -comb(order, k) * (-1) ** k) for k in range(1, order + 1)]
    order_rows = np.argsort(diffs[time].to_numpy(), kind="stable")
    result, base = np.full(len(diffs), np.nan), np.full(len(diffs), np.nan)
    values = diffs[column].to_numpy(dtype=np.float64)
    times = diffs[time].to_numpy()
    for i in order_rows:
        p = axis.get_loc(times[i]) if times[i] in axis else -1
        if p < 0:
            raise InputError(f"{time} {_show(times[i])} lies before the end of the history but is not in it.")
        if p - order * lag < 0:
            raise InputError(
                f"{time} {_show(times[i])}: rebuilding levels of {column!r} needs {order * lag} "
                "earlier observation(s) in the history; give a history that starts earlier."
            )
        base[i] = sum(w * known[p - k * lag] for k, w in weights)
        level = result[i] = values[i] + base[i]
        if p >= len(levels):  # past the end of the history: later rows build on this one
            known[p] = level
    return result, base


def _show(value: Any) -> str:
    stamp = pd.Timestamp(value) if isinstance(value, np.datetime64) else value
    if isinstance(stamp, pd.Timestamp) and stamp == stamp.normalize():
        return str(stamp.date())
    return str(stamp)


def pipeline_decimals(pipe: Any, frame: pd.DataFrame, result: pd.DataFrame, columns: list[str]) -> None:
    """Inverted pipeline columns rewritten with the fewest decimals that scale back exactly."""
    for col in columns:
        inverted = result[col].to_numpy(dtype=np.float64)
        result[col] = _exact(pipe, frame, col, inverted, np.zeros_like(inverted))


def pipeline_levels(
    pipe: Any, scaled: pd.DataFrame, result: pd.DataFrame, past: pd.DataFrame, columns: list[str]
) -> pd.DataFrame:
    """``result`` with the differenced ``columns`` rebuilt as levels from the history ``past``.

    Each level is written with the fewest decimals whose difference scales back to exactly the
    value read from ``scaled`` (see :func:`shortest_preimage`).
    """
    out = result.copy()
    for col in columns:
        d, log = pipe.specs_[col]["difference"], bool(pipe.specs_[col].get("log"))
        levels, base = rebuild_levels(
            result, past, col, lag=d["lag"], order=d["order"], log=log, time=pipe.time, id=pipe.id
        )
        out[col] = _exact(pipe, scaled, col, levels, base)
    return out


def _exact(pipe: Any, scaled: pd.DataFrame, col: str, values: np.ndarray, base: np.ndarray) -> np.ndarray:
    """:func:`shortest_preimage` of ``values`` under the pipeline's forward map of ``col``:
    ``scale(log1p(x) - base)`` (without log1p when the column takes none)."""
    scaler = pipe.scalers_[col]
    if scaler is None:
        return values
    ids = scaled[pipe.id].to_numpy() if pipe.per_series and pipe.id in scaled.columns else None
    forward = functools.partial(
        _forward, scaler=scaler, col=col, log=bool(pipe.specs_[col].get("log")), base=base, ids=ids
    )
    return shortest_preimage(values, scaled[col].to_numpy(dtype=np.float64), forward)


def _forward(x: np.ndarray, *, scaler: Any, col: str, log: bool, base: np.ndarray, ids: Any) -> np.ndarray:
    with np.errstate(all="ignore"):
        diff = (np.log1p(x) if log else x) - base
    return scaler.transform(pd.DataFrame({col: diff}), groups=ids)[col].to_numpy()
