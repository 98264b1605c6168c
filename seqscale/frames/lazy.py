"""Lazy frames (polars LazyFrame) kept lazy: statistics by the frame's own engine, maps as expressions.

Fitting reduces the frame with its own (streaming) aggregation in two scans, the corrected
two-pass algorithm: count, mean, min and max first, then ``m2 = sum(d**2) - sum(d)**2 / n`` of the
deviations ``d`` from those means. (The engine's one-pass ``var`` loses digits on data far from
zero, e.g. 2.6e-10 relative at ``1e9 + N(0, 1)``; the two passes agree with the numpy path to
about 1e-15.) Per series the same reductions run under ``group_by`` on the id column.

Transforming adds nothing but expressions ``(col - shift) * scale + offset``; per series the
coefficients come from the id column mapped to each series' values (``replace_strict``), which
keeps the row order (a join does not promise it) and the whole plan lazy.

Examples
--------
>>> import polars as pl
>>> lf = pl.LazyFrame({"a": [1.0, 3.0, float("nan")]})
>>> stats, ids, n_rows = moments(lf, ["a"])
>>> stats.mean.tolist(), stats.m2.tolist(), n_rows
([2.0], [2.0], 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seqscale.core.stats import Moments
from seqscale.errors import InputError, InputTypeError

__all__ = ["affine_expressions", "collect", "distinct_ids", "moments", "schema"]


def _nw() -> Any:
    import narwhals as nw

    return nw


def _frame(lf: Any) -> Any:
    return _nw().from_native(lf)


def schema(lf: Any) -> dict[str, Any]:
    """Column name -> narwhals dtype, without running the query."""
    return dict(_frame(lf).collect_schema().items())


def collect(lf: Any) -> Any:
    """Run the query with the streaming engine; a narwhals eager frame."""
    try:
        return _frame(lf).collect(engine="streaming")
    except Exception as err:  # the engine's own error types differ by library and version
        raise InputError(f"the lazy frame could not be computed: {err}") from None


def _values(name: str, dtype: Any) -> Any:
    """The column as float64 with NaN read as missing (NaN is ignored by fit, as in numpy)."""
    nw = _nw()
    if isinstance(dtype, (nw.Categorical, nw.Enum)) or not (dtype.is_numeric() or dtype == nw.Boolean):
        raise InputTypeError(
            f"column {name!r} is {dtype}, not numeric; drop it or encode it (seqscale.OneHotEncoder) "
            "before scaling."
        )
    return nw.col(name).cast(nw.Float64).fill_nan(None)


def _check_columns(types: dict[str, Any], columns: list[str], id_column: str | None) -> None:
    missing = [c for c in [*columns, *([id_column] if id_column else [])] if c not in types]
    if missing:
        raise InputError(f"the lazy frame has no column(s) {missing}; its columns are {list(types)}.")


def moments(lf: Any, columns: list[str], id_column: str | None = None) -> tuple[Moments, Any, int]:
    """Statistics of ``columns`` (per series of ``id_column``, if given) by the frame's engine.

    Returns ``(moments, ids, n_rows)``: ``Moments`` of shape ``(features,)`` or
    ``(series, features)``, the series ids in first-seen order (None without ``id_column``) and
    the number of rows.
    """
    nw = _nw()
    types = schema(lf)
    _check_columns(types, columns, id_column)
    frame = _frame(lf)
    first = [nw.len().alias("__rows")]
    for j, c in enumerate(columns):
        v = _values(c, types[c])
        first += [
            v.count().alias(f"n{j}"),
            v.mean().alias(f"mean{j}"),
            v.min().alias(f"min{j}"),
            v.max().alias(f"max{j}"),
        ]
    if id_column is None:
        head = collect(frame.select(*first))
    else:
        head = collect(frame.group_by(id_column).agg(*first)).sort(id_column)
    count, mean, low, high = (
        np.column_stack(
            [head.get_column(f"{k}{j}").to_numpy().astype(np.float64) for j in range(len(columns))]
        )
        for k in ("n", "mean", "min", "max")
    )
    mean = np.nan_to_num(mean, nan=0.0)
    ids = None if id_column is None else head.get_column(id_column).to_numpy()
    second = []
    for j, c in enumerate(columns):
        centre = nw.lit(float(mean[0, j])) if id_column is None else nw.col(f"__mean{j}")
        d = _values(c, types[c]) - centre
        second += [d.sum().alias(f"s{j}"), (d * d).sum().alias(f"q{j}")]
    if id_column is None:
        tail = collect(frame.select(*second))
    else:
        means = nw.from_dict(
            {
                id_column: head.get_column(id_column),
                **{f"__mean{j}": mean[:, j] for j in range(len(columns))},
            },
            backend=head.implementation,
        )
        joined = frame.join(means.lazy(), on=id_column, how="left")
        tail = collect(joined.group_by(id_column).agg(*second))
        order = {key: i for i, key in enumerate(tail.get_column(id_column).to_list())}
        take = np.asarray([order[key] for key in head.get_column(id_column).to_list()], dtype=np.intp)
        tail = tail[take.tolist()]
    s, q = (
        np.column_stack(
            [tail.get_column(f"{k}{j}").to_numpy().astype(np.float64) for j in range(len(columns))]
        )
        for k in ("s", "q")
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        m2 = np.where(count > 0, q - s * s / np.where(count > 0, count, 1.0), 0.0)
    m2 = np.maximum(m2, 0.0)
    n_rows = int(np.asarray(head.get_column("__rows").to_numpy()).sum())
    if id_column is None:
        count, mean, m2, low, high = (a[0] for a in (count, mean, m2, low, high))
    return Moments.from_arrays(count=count, mean=mean, m2=m2, min=low, max=high), ids, n_rows


def _table(frame: Any, prefix: str, n: int) -> np.ndarray:
    """Columns ``prefix0 .. prefix{n-1}`` of an aggregate as a float64 ``(rows, n)`` array."""
    return np.column_stack([frame.get_column(f"{prefix}{j}").to_numpy().astype(np.float64) for j in range(n)])


def distinct_ids(lf: Any, id_column: str) -> np.ndarray:
    """The distinct values of the id column (a small query: one value per series)."""
    return collect(_frame(lf).select(id_column).unique()).get_column(id_column).to_numpy()


def affine_expressions(
    lf: Any,
    columns: list[str],
    coefficients: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    inverse: bool = False,
    id_column: str | None = None,
    ids: np.ndarray | None = None,
    fallback: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    clip: tuple[np.ndarray, np.ndarray] | None = None,
    mask_value: float | None = None,
) -> Any:
    """``lf`` with each of ``columns`` replaced by its affine map, as lazy expressions.

    ``coefficients`` = ``(shift, scale, offset)``, each ``(features,)``, or ``(series, features)``
    with ``ids`` naming the series of each row of the table and ``id_column`` the frame's id
    column; rows of other series take ``fallback`` (one row per feature), or null without it.
    ``clip``: output bounds; ``mask_value``: rows whose features all equal it stay as they are.
    Computed in float64; the output is float32 when every column is float32 (as an eager
    frame's), else float64.
    """
    nw = _nw()
    types = schema(lf)
    _check_columns(types, columns, id_column)
    shift, scale, offset = coefficients
    keys = None if ids is None else [k.item() if isinstance(k, np.generic) else k for k in ids]
    exprs = []
    for j, c in enumerate(columns):
        _values(c, types[c])  # refuses a column that is not numeric
        x = nw.col(c).cast(nw.Float64)  # NaN and null pass through
        if ids is None:
            a, b, o = (nw.lit(float(v[j])) for v in (shift, scale, offset))
        else:
            a, b, o = (
                nw.col(id_column).replace_strict(
                    keys,
                    v[:, j].tolist(),
                    default=None if fallback is None else float(f[j]),
                    return_dtype=nw.Float64,
                )
                for v, f in zip((shift, scale, offset), fallback or (None, None, None))
            )
        y = (x - o) / b + a if inverse else (x - a) * b + o
        if clip is not None:
            low, high = (None if np.isnan(bound[j]) else float(bound[j]) for bound in clip)
            y = y.clip(lower_bound=low, upper_bound=high)
        out_type = nw.Float32 if all(types[k] == nw.Float32 for k in columns) else nw.Float64
        exprs.append((y, out_type, c))
    if mask_value is not None:
        padded = nw.all_horizontal(*[nw.col(c).cast(nw.Float64) == float(mask_value) for c in columns])
        exprs = [(nw.when(~padded).then(y).otherwise(nw.col(c).cast(nw.Float64)), t, c) for y, t, c in exprs]
    return _frame(lf).with_columns(*[y.cast(t).alias(c) for y, t, c in exprs]).to_native()
