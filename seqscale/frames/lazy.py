"""Lazy frames (polars LazyFrame) kept lazy: statistics by the frame's own engine, maps as expressions.

Fitting reduces the frame with its own (streaming) aggregation in two scans, the corrected
two-pass algorithm: count, mean, min and max first, then the sums of the deviations ``d`` from
those means, giving ``m2 = sum(d**2) - sum(d)**2 / n`` and the mean refined by ``sum(d) / n``.
(The engine's one-pass ``var`` loses digits on data far from zero, e.g. 2.6e-10 relative at
``1e9 + N(0, 1)``; the two passes agree with the numpy path to about 1e-15.) Per series the same
reductions run under ``group_by`` on the id column. The same plan handles:

- a weight column: the weighted sums of ``Moments.from_array(rows, w)`` (``count`` the total
  weight, rows of weight 0 left out of min and max), bad weights refused with the message of
  :func:`~seqscale.frames.values.check_weights`;
- padding: rows whose features all equal ``mask_value`` are filtered out in the plan;
- the method's extra statistic (:func:`extra`): the mean of ``|x|`` as the moments of ``|x|``;
  robust's quantiles as the engine's ``lower`` and ``higher`` order statistics, interpolated by
  :func:`seqscale.core.quantiles.between` — numpy's ``linear`` quantiles bit for bit.

Collected instead (in :func:`seqscale.scalers.build.fit_lazy`), because the engine cannot
express them with aggregations: weighted quantiles (the inverted weighted CDF orders each
series' values with their weights), a weight array that is not a column of the frame, and
``lengths=``.

Transforming adds nothing but expressions ``(col - shift) * scale + offset`` (``/ divisor`` for
the methods whose transform divides, as the eager kernels do: per series the same bits; a column
divided by one number polars computes through its reciprocal); per series the
coefficients come from the id column mapped to each series' values (``replace_strict``), which
keeps the row order (a join does not promise it) and the whole plan lazy.

Examples
--------
>>> import polars as pl
>>> lf = pl.LazyFrame({"a": [1.0, 3.0, float("nan")]})
>>> stats, ids, n_rows, seen = moments(lf, ["a"])
>>> stats.mean.tolist(), stats.m2.tolist(), n_rows
([2.0], [2.0], 3)
>>> [q.tolist() for q in quantiles(pl.LazyFrame({"a": [4.0, 1.0, 3.0, 2.0]}), ["a"], [0.5, 0.25])]
[[[2.5]], [[1.75]]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seqscale.core.extras import AbsMeanStatistic, QuantileStatistic, QuantileValues
from seqscale.core.quantiles import between, order_positions
from seqscale.core.stats import Moments
from seqscale.errors import InputError, InputTypeError
from seqscale.frames.values import check_weights

__all__ = [
    "affine_expressions",
    "collect",
    "computes",
    "distinct_ids",
    "extra",
    "moments",
    "quantiles",
    "schema",
]


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


def _kept(frame: Any, columns: list[str], mask_value: Any) -> Any:
    """``frame`` without its padding rows (every feature equal to ``mask_value``; NaN is not)."""
    if mask_value is None:
        return frame
    return frame.filter(~_padded(columns, mask_value))


def _padded(columns: list[str], mask_value: Any) -> Any:
    """True for a row whose features all equal ``mask_value`` (a null or NaN never does)."""
    nw = _nw()
    equal = [(nw.col(c).cast(nw.Float64) == float(mask_value)).fill_null(False) for c in columns]
    return nw.all_horizontal(*equal, ignore_nulls=False)


def _aggregate(frame: Any, exprs: list, id_column: str | None) -> Any:
    """One aggregation (per series under ``group_by``, series sorted by id), collected."""
    if id_column is None:
        return collect(frame.select(*exprs))
    return collect(frame.group_by(id_column).agg(*exprs)).sort(id_column)


def _weight(types: dict[str, Any], weight: str | None) -> Any:
    """The weight column as float64, or None; refuses a column that is not numeric."""
    if weight is None:
        return None
    if weight not in types:
        raise InputError(
            f"sample_weight={weight!r} names no column of the lazy frame; columns: {list(types)}."
        )
    nw = _nw()
    if not types[weight].is_numeric():
        raise InputTypeError(f"the weight column {weight!r} is {types[weight]}, not numeric.")
    return nw.col(weight).cast(nw.Float64)


def _check_weights(frame: Any, head: Any, weight: str) -> None:
    """Refuse negative, missing or infinite weights with ``check_weights``' message (the weight
    column is collected only when the aggregation found a bad one)."""
    if float(np.asarray(head.get_column("__bad").to_numpy(), dtype=np.float64).sum()) == 0:
        return
    nw = _nw()
    column = collect(frame.select(nw.col(weight).cast(nw.Float64))).get_column(weight).to_numpy()
    check_weights(np.asarray(column, dtype=np.float64), f"weight column {weight!r}")


def moments(
    lf: Any,
    columns: list[str],
    id_column: str | None = None,
    *,
    weight: str | None = None,
    mask_value: Any = None,
    magnitude: bool = False,
) -> tuple[Moments, Any, int | float, int]:
    """Statistics of ``columns`` (per series of ``id_column``, if given) by the frame's engine.

    ``weight``: the name of a weight column (weighted statistics as ``Moments.from_array(rows,
    w)``: ``count`` is the total weight, rows of weight 0 left out of min and max too);
    ``mask_value``: padding rows are left out; ``magnitude``: the statistics of ``|x|``.

    Returns ``(moments, ids, n_rows, seen)``: ``Moments`` of shape ``(features,)`` or
    ``(series, features)``, the series ids sorted (None without ``id_column``), the number of
    rows (their total weight when weighted) and the number of rows.
    """
    nw = _nw()
    types = schema(lf)
    _check_columns(types, columns, id_column)
    w = _weight(types, weight)
    frame = _kept(_frame(lf), columns, mask_value)
    first = [nw.len().alias("__rows")]
    if w is not None:
        first += [w.sum().alias("__weight"), (~w.is_finite() | (w < 0)).fill_null(True).sum().alias("__bad")]
    values = []
    for j, c in enumerate(columns):
        v = _values(c, types[c])
        v = v.abs() if magnitude else v
        ww = None if w is None else nw.when(~v.is_null() & (w > 0)).then(w)
        values.append((v, ww))
        if w is None:
            first += [v.count().alias(f"n{j}"), v.mean().alias(f"mean{j}")]
        else:
            first += [ww.sum().alias(f"n{j}"), (ww * v).sum().alias(f"mean{j}")]
            v = nw.when(w > 0).then(v)
        first += [v.min().alias(f"min{j}"), v.max().alias(f"max{j}")]
    head = _aggregate(frame, first, id_column)
    if w is not None:
        _check_weights(frame, head, weight)
    k = len(columns)
    count, mean, low, high = (_table(head, name, k) for name in ("n", "mean", "min", "max"))
    if w is not None:  # the weighted sums: the first mean
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, mean / np.where(count > 0, count, 1.0), 0.0)
    mean = np.nan_to_num(mean, nan=0.0)
    ids = None if id_column is None else head.get_column(id_column).to_numpy()
    second = []
    for j, (v, ww) in enumerate(values):
        centre = nw.lit(float(mean[0, j])) if id_column is None else nw.col(f"__mean{j}")
        d = v - centre
        wd = d if ww is None else ww * d
        second += [wd.sum().alias(f"s{j}"), (wd * d).sum().alias(f"q{j}")]
    if id_column is None:
        tail = collect(frame.select(*second))
    else:
        means = nw.from_dict(
            {id_column: head.get_column(id_column), **{f"__mean{j}": mean[:, j] for j in range(k)}},
            backend=head.implementation,
        )
        joined = frame.join(means.lazy(), on=id_column, how="left")
        tail = collect(joined.group_by(id_column).agg(*second))
        order = {key: i for i, key in enumerate(tail.get_column(id_column).to_list())}
        take = np.asarray([order[key] for key in head.get_column(id_column).to_list()], dtype=np.intp)
        tail = tail[take.tolist()]
    s, q = (_table(tail, name, k) for name in ("s", "q"))
    with np.errstate(invalid="ignore", divide="ignore"):
        safe = np.where(count > 0, count, 1.0)
        m2 = np.where(count > 0, q - s * s / safe, 0.0)
        # the corrected two-pass mean: the first mean plus the mean deviation from it (a mean
        # near zero among large values, e.g. heavy tails, keeps its digits)
        mean = np.where(count > 0, mean + s / safe, 0.0)
    m2 = np.maximum(m2, 0.0)
    seen = int(np.asarray(head.get_column("__rows").to_numpy()).sum())
    n_rows: int | float = seen
    if w is not None:
        n_rows = float(np.asarray(head.get_column("__weight").to_numpy(), dtype=np.float64).sum())
    if id_column is None:
        count, mean, m2, low, high = (a[0] for a in (count, mean, m2, low, high))
    return Moments.from_arrays(count=count, mean=mean, m2=m2, min=low, max=high), ids, n_rows, seen


def quantiles(
    lf: Any,
    columns: list[str],
    probabilities: list[float],
    id_column: str | None = None,
    *,
    mask_value: Any = None,
) -> list[np.ndarray]:
    """Quantiles of ``columns`` (per series of ``id_column``, sorted by id), one array per
    probability, exactly as numpy's ``linear`` method and the exact quantile sketch give them.

    The engine picks the two neighbouring order statistics (its ``lower`` and ``higher``
    quantiles); the interpolation between them is :func:`seqscale.core.quantiles.between`, so
    the result is the numpy path's bit for bit. NaN and nulls are left out; a series without
    values gives NaN.
    """
    types = schema(lf)
    _check_columns(types, columns, id_column)
    frame = _kept(_frame(lf), columns, mask_value)
    exprs = []
    for j, c in enumerate(columns):
        v = _values(c, types[c])
        exprs.append(v.count().alias(f"n{j}"))
        for i, p in enumerate(probabilities):
            exprs += [
                v.quantile(p, interpolation="lower").alias(f"lo{i}_{j}"),
                v.quantile(p, interpolation="higher").alias(f"hi{i}_{j}"),
            ]
    head = _aggregate(frame, exprs, id_column)
    k = len(columns)
    count = _table(head, "n", k)
    out = []
    for i, p in enumerate(probabilities):
        low, high = _table(head, f"lo{i}_", k), _table(head, f"hi{i}_", k)
        _, frac = order_positions(count, p)
        with np.errstate(invalid="ignore", over="ignore"):
            value = between(low, high, p, frac)
        out.append(np.where(count > 0, value, np.nan))
    return out


def computes(kind: type | None, weighted: bool = False) -> bool:
    """Whether :func:`extra` computes the extra statistic ``kind`` (a class of the method
    registry, or None for none) with the engine; weighted quantiles are not."""
    if kind is None or kind is AbsMeanStatistic:
        return True
    return kind is QuantileStatistic and not weighted


def extra(
    lf: Any,
    kind: type,
    columns: list[str],
    id_column: str | None,
    params: dict[str, Any],
    *,
    weight: str | None = None,
    mask_value: Any = None,
) -> Any:
    """The method's extra statistic by the engine (see :func:`computes`): robust's quantiles as
    final values (:class:`~seqscale.core.extras.QuantileValues`, per series and pooled), or the
    moments of ``|x|`` (:class:`~seqscale.core.extras.AbsMeanStatistic`, mergeable)."""
    if kind is AbsMeanStatistic:
        table = moments(lf, columns, id_column, weight=weight, mask_value=mask_value, magnitude=True)[0]
        return AbsMeanStatistic.from_moments(table, grouped=id_column is not None)
    if kind is not QuantileStatistic or weight is not None:
        raise InputError(f"the {kind.what} of a lazy frame is computed on the collected frame.")
    qrange = tuple(float(v) for v in params.get("quantile_range", (25.0, 75.0)))
    probabilities = [0.5, qrange[0] / 100.0, qrange[1] / 100.0]

    def named(found: list[np.ndarray], row: bool) -> dict[str, np.ndarray]:
        return {name: (v[0] if row else v) for name, v in zip(QuantileStatistic.record, found)}

    pooled = named(quantiles(lf, columns, probabilities, mask_value=mask_value), True)
    if id_column is None:
        return QuantileValues(pooled, pooled, qrange, grouped=False)
    per_series = quantiles(lf, columns, probabilities, id_column, mask_value=mask_value)
    return QuantileValues(named(per_series, False), pooled, qrange, grouped=True)


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
    divide: bool = False,
    id_column: str | None = None,
    ids: np.ndarray | None = None,
    fallback: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    clip: tuple[np.ndarray, np.ndarray] | None = None,
    mask_value: float | None = None,
) -> Any:
    """``lf`` with each of ``columns`` replaced by its affine map, as lazy expressions.

    ``coefficients`` = ``(shift, scale, offset)``, each ``(features,)``, or ``(series, features)``;
    with ``divide`` the scale is a divisor: ``(x - shift) / scale + offset``, inverse
    ``(y - offset) * scale + shift``, as the eager kernels compute it;
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
        if inverse:
            y = (x - o) * b + a if divide else (x - o) / b + a
        else:
            y = (x - a) / b + o if divide else (x - a) * b + o
        if clip is not None:
            low, high = (None if np.isnan(bound[j]) else float(bound[j]) for bound in clip)
            y = y.clip(lower_bound=low, upper_bound=high)
        out_type = nw.Float32 if all(types[k] == nw.Float32 for k in columns) else nw.Float64
        exprs.append((y, out_type, c))
    if mask_value is not None:
        padded = _padded(columns, mask_value)
        exprs = [(nw.when(~padded).then(y).otherwise(nw.col(c).cast(nw.Float64)), t, c) for y, t, c in exprs]
    return _frame(lf).with_columns(*[y.cast(t).alias(c) for y, t, c in exprs]).to_native()
