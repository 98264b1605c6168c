"""Sliding windows ``[time, features]`` -> supervised LSTM tensors ``(X, y)``.

``X`` has shape ``[samples, n_in, features]`` and ``y`` ``[samples, n_out, n_targets]``. Sample
``i`` reads rows ``[i*stride, i*stride + n_in)`` as input and, after ``gap`` rows, the next
``n_out`` rows of the target columns.

Memory: for one series, ``X`` is a read-only zero-copy view built with
``numpy.lib.stride_tricks.sliding_window_view``, so its cost is O(length), not
O(length x n_in). The view exists whenever the values are an ndarray (any layout) or a
DataFrame whose ``to_numpy()`` is a view (all columns of one numeric dtype). A copy of the values
(once, O(length)) happens for lists, mixed-dtype DataFrames and non-numeric dtypes; ``y`` is also
a view when the target columns are adjacent and in order. Both are read-only: writing into a
window would otherwise change every overlapping window and the series itself.

With ``groups`` the windows are copied (only the valid windows, vectorized): windows never
cross series boundaries, so they cannot be one regular view.

Examples
--------
>>> import numpy as np
>>> series = np.arange(6.0)
>>> X, y = to_supervised(series, n_in=3, n_out=1)
>>> X[:, :, 0].tolist()
[[0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [2.0, 3.0, 4.0]]
>>> y[:, :, 0].tolist()
[[3.0], [4.0], [5.0]]
>>> np.shares_memory(X, series), X.flags.writeable
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from seqscale.errors import InputError, InputTypeError, ParameterError
from seqscale.sequence.rows import listed

__all__ = ["to_supervised", "window_index"]

_SHOW = 10


@dataclass
class _Plan:
    values: np.ndarray  # [rows, features], grouped data sorted by series
    names: list | None
    index: pd.Index | None
    order: np.ndarray | None  # sorted row -> original row (None: unchanged)
    starts: np.ndarray | None  # first input row of each sample (None: regular stride)
    n_samples: int
    sample_groups: np.ndarray | None


def _check_params(n_in: Any, n_out: Any, stride: Any, gap: Any) -> None:
    for name, value, low in (
        ("n_in", n_in, 1),
        ("n_out", n_out, 1),
        ("stride", stride, 1),
        ("gap", gap, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ParameterError(f"{name}={value!r} is invalid; use an integer >= {low}.")


def _frame_values(frame: pd.DataFrame) -> np.ndarray:
    bad = [
        c
        for c in frame.columns
        if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
    ]
    if bad:
        raise InputTypeError(f"columns {bad[:_SHOW]} are not numeric; encode or drop them before windowing.")
    values = frame.to_numpy()
    if values.dtype.kind not in "biuf":
        values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    return values


def _values(data: Any, groups: Any) -> tuple[np.ndarray, list | None, pd.Index | None, Any]:
    """Return (values [rows, features], column names, index, group ids per row)."""
    if isinstance(data, pd.DataFrame):
        if groups is not None and np.ndim(groups) == 0:
            if groups not in data.columns:
                raise ParameterError(
                    f"groups={groups!r} is not a column of data; pass a column name or one series id per row."
                )
            data, groups = data.drop(columns=[groups]), data[groups].to_numpy()
        return _frame_values(data), list(data.columns), data.index, groups
    if isinstance(data, pd.Series):
        return _frame_values(data.to_frame()), [data.name], data.index, groups
    arr = np.asarray(data)
    if arr.dtype.kind not in "biuf":
        raise InputTypeError(
            f"data must be numeric; got dtype {arr.dtype}. Encode or drop non-numeric columns."
        )
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise InputError(
            f"data must be 1D or 2D [time, features]; got shape {arr.shape}. Window each series "
            "separately or pass groups=."
        )
    return arr, None, None, groups


def _target_columns(targets: Any, names: list | None, width: int) -> list[int]:
    if targets is None:
        return list(range(width))
    wanted = list(targets) if isinstance(targets, (list, tuple, np.ndarray, pd.Index)) else [targets]
    if not wanted:
        raise ParameterError("targets is empty; pass None (all features) or at least one target.")
    if names is not None:
        lookup = {name: j for j, name in enumerate(names)}
        unknown = [t for t in wanted if t not in lookup]
        if unknown:
            raise ParameterError(
                f"targets {unknown} are not feature columns of data; columns are {names[:50]}."
            )
        return [lookup[t] for t in wanted]
    for t in wanted:
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t < width:
            raise ParameterError(
                f"target {t!r} is not a column position of data (0..{width - 1}); pass integer "
                "positions, or a DataFrame to use column names."
            )
    return [int(t) for t in wanted]


def _take(values: np.ndarray, cols: list[int]) -> np.ndarray:
    """Target columns, as a view when they are adjacent and in order."""
    if cols == list(range(cols[0], cols[0] + len(cols))):
        return values[:, cols[0] : cols[0] + len(cols)]
    return values[:, cols]


def _windows(values: np.ndarray, width: int) -> np.ndarray:
    """Read-only view ``[rows - width + 1, width, features]``."""
    return sliding_window_view(values, width, axis=0).transpose(0, 2, 1)


def _group_layout(groups: Any, n_rows: int) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Return (order or None, series code per sorted row, series ids) by first appearance."""
    ids = np.asarray(groups)
    if ids.ndim != 1 or ids.shape[0] != n_rows:
        raise InputError(f"groups must hold one series id per row ({n_rows}); got shape {ids.shape}.")
    codes, uniques = pd.factorize(ids, use_na_sentinel=True)
    if (codes < 0).any():
        where, rows = listed(np.flatnonzero(codes < 0), _SHOW)
        raise InputError.at_rows(f"groups has missing series ids at {where}; fill or drop them.", *rows)
    if np.all(codes[1:] >= codes[:-1]):
        return None, codes, np.asarray(uniques)
    order = np.argsort(codes, kind="stable")
    return order, codes[order], np.asarray(uniques)


def _plan(data: Any, n_in: int, n_out: int, stride: int, gap: int, groups: Any) -> _Plan:
    _check_params(n_in, n_out, stride, gap)
    values, names, index, group_ids = _values(data, groups)
    need = n_in + gap + n_out
    if group_ids is None:
        if values.shape[0] < need:
            raise InputError(
                f"the series has {values.shape[0]} rows; windows need n_in + gap + n_out = "
                f"{need} rows. Pass a longer series or lower n_in, gap or n_out."
            )
        n = (values.shape[0] - need) // stride + 1
        return _Plan(values, names, index, None, None, n, None)
    order, codes, uniques = _group_layout(group_ids, values.shape[0])
    counts = np.bincount(codes, minlength=len(uniques))
    short = np.flatnonzero(counts < need)
    if short.size:
        detail = ", ".join(f"{_plain(uniques[g])!r} ({counts[g]} rows)" for g in short[:_SHOW])
        raise InputError(
            f"series {detail} are shorter than n_in + gap + n_out = {need} rows; drop them or "
            "lower n_in, gap or n_out."
        )
    per = (counts - need) // stride + 1
    sample_codes = np.repeat(np.arange(len(uniques)), per)
    offsets = np.cumsum(counts) - counts
    step = np.arange(sample_codes.size) - np.repeat(np.cumsum(per) - per, per)
    starts = offsets[sample_codes] + step * stride
    sorted_values = values if order is None else values[order]
    return _Plan(sorted_values, names, index, order, starts, int(starts.size), uniques[sample_codes])


def _select(windows: np.ndarray, plan: _Plan, stride: int) -> np.ndarray:
    if plan.starts is None:
        return windows[: (plan.n_samples - 1) * stride + 1 : stride]
    out = windows[plan.starts]
    out.flags.writeable = False
    return out


def to_supervised(
    data: Any,
    n_in: int,
    n_out: int = 1,
    targets: Any = None,
    *,
    stride: int = 1,
    gap: int = 0,
    groups: Any = None,
) -> tuple[np.ndarray, ...]:
    """Cut a series (or several) into LSTM input/target windows.

    Parameters
    ----------
    data : 2D array ``[time, features]``, 1D series, Series or DataFrame (numeric)
    n_in : int
        Input steps per sample (>= 1).
    n_out : int, default 1
        Target steps per sample (>= 1).
    targets : column name(s) for DataFrames, integer position(s) otherwise; default all features
    stride : int, default 1
        Rows between the starts of consecutive samples.
    gap : int, default 0
        Rows skipped between the last input row and the first target row.
    groups : column name (DataFrame) or one series id per row, optional
        Windows stay within each series. Rows of a series need not be contiguous: rows are
        grouped stably (series in order of first appearance, time order kept within each).

    Returns
    -------
    X : ndarray ``[samples, n_in, features]`` (read-only)
    y : ndarray ``[samples, n_out, n_targets]`` (read-only)
    sample_groups : ndarray ``[samples]``, the series id of each sample (only with ``groups``)

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": ["a"] * 4 + ["b"] * 4, "v": range(8)})
    >>> X, y, ids = to_supervised(df, n_in=2, targets="v", groups="id")
    >>> X[:, :, 0].tolist(), y[:, 0, 0].tolist(), ids.tolist()
    ([[0, 1], [1, 2], [4, 5], [5, 6]], [2, 3, 6, 7], ['a', 'a', 'b', 'b'])
    """
    plan = _plan(data, n_in, n_out, stride, gap, groups)
    cols = _target_columns(targets, plan.names, plan.values.shape[1])
    X = _select(_windows(plan.values, n_in), plan, stride)
    source = _take(plan.values, cols)[n_in + gap :]
    y = _select(_windows(source, n_out), plan, stride)
    if plan.sample_groups is None:
        return X, y
    return X, y, plan.sample_groups


def window_index(
    data: Any,
    n_in: int,
    n_out: int = 1,
    *,
    stride: int = 1,
    gap: int = 0,
    groups: Any = None,
) -> Any:
    """Time index of each sample's first target step, to align predictions with time.

    Same arguments as :func:`to_supervised`. Returns the index labels (a pandas ``Index``) for
    Series and DataFrames, or integer row positions (in the original row order) for arrays.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series(range(5), index=pd.date_range("2024-01-01", periods=5, freq="D"))
    >>> [str(t.date()) for t in window_index(s, n_in=3)]
    ['2024-01-04', '2024-01-05']
    """
    plan = _plan(data, n_in, n_out, stride, gap, groups)
    starts = plan.starts if plan.starts is not None else np.arange(plan.n_samples) * stride
    rows = starts + n_in + gap
    if plan.order is not None:
        rows = plan.order[rows]
    return rows if plan.index is None else plan.index[rows]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
