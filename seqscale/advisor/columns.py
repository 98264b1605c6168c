"""Per-column analysis of :func:`seqscale.advisor.api.advise`: statistics in, :class:`ColumnAdvice` out.

Numeric columns are profiled a block at a time (:func:`profile_numeric`); every column is then
analysed by its dtype kind with the rules of :mod:`seqscale.advisor.rules` and the sampled tests of
:mod:`seqscale.advisor.stationarity`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from seqscale.advisor import profile as _profile
from seqscale.advisor import rules
from seqscale.advisor import seasonality as seasons
from seqscale.advisor.results import ColumnAdvice
from seqscale.advisor.stationarity import PANEL_MIN_ROWS, normality, panel_stationarity, stationarity
from seqscale.errors import ParameterError
from seqscale.sequence.plan import plain

__all__ = ["Context", "analyse_columns", "profile_numeric"]


@dataclass
class Context:
    """What every column analysis needs besides the column itself."""

    frame: pd.DataFrame
    order: _profile.Ordering
    sample_idx: np.ndarray | None
    n: int
    task: str
    activation: str
    test_size: float
    stationarity_points: int
    period: int | None = None


def _sample(values: np.ndarray, ctx: Context) -> np.ndarray:
    return values if ctx.sample_idx is None else values[ctx.sample_idx]


# ================================================================================================
# Statistics on all rows
# ================================================================================================
def profile_numeric(
    df: pd.DataFrame, numeric: list, order: _profile.Ordering
) -> tuple[dict[object, dict], dict[object, dict]]:
    """Statistics and test-tail ranges of the ``numeric`` columns, a block of columns at a time."""
    stats: dict[object, dict] = {}
    tails: dict[object, dict] = {}
    n = len(df)
    for start in range(0, len(numeric), _profile.BLOCK_COLUMNS):
        cols = numeric[start : start + _profile.BLOCK_COLUMNS]
        block = np.empty((n, len(cols)), dtype=np.float64, order="F")
        for j, c in enumerate(cols):
            block[:, j] = _profile.column_values(df[c])
        for c, st, tl in zip(
            cols, _profile.numeric_stats(block), _profile.outside_share(block, order.is_test)
        ):
            stats[c], tails[c] = st, tl
        del block
    return stats, tails


def _text_stats(series: pd.Series) -> dict:
    n = len(series)
    counts = series.value_counts(dropna=True)
    nan_count = int(series.isna().sum())
    st = {
        "count": int(n - nan_count),
        "nan_share": nan_count / n if n else 0.0,
        "distinct": int(counts.size),
        "top": plain(counts.index[0]) if counts.size else None,
        "top_share": float(counts.iloc[0] / max(1, n - nan_count)) if counts.size else None,
    }
    if counts.size <= rules.MAX_INTEGER_LEVELS:
        st["values"] = [str(v) for v in counts.index]
    return st


# ================================================================================================
# Scaled columns: continuous/count inputs and regression targets
# ================================================================================================
#: Series of a panel whose stationarity is tested (evenly spread over the panel).
TESTED_SERIES = 20


def _transformed_values(x: np.ndarray, log: bool, lag: int, ctx: Context) -> np.ndarray:
    """``log1p`` and/or a difference at ``lag`` (0: none), within each series."""
    values = x
    if log:
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.log1p(values)
    if lag:
        values = _profile.difference(values, ctx.order, lag, 1)
    return values


def _stationarity_of(base: np.ndarray, ctx: Context) -> dict:
    """ADF/KPSS/trend in time order; a panel's series are tested one by one and pooled
    (:func:`seqscale.advisor.stationarity.panel_stationarity`)."""
    if ctx.order.n_series == 1:
        return stationarity(base[ctx.order.longest], ctx.stationarity_points, period=ctx.period)
    tested = [
        stationarity(base[r], ctx.stationarity_points, min_rows=PANEL_MIN_ROWS, period=ctx.period)
        for r in _profile.series_rows(ctx.order, TESTED_SERIES)
    ]
    sn = panel_stationarity(tested)
    sn["series"] = f"{len(tested)} of {ctx.order.n_series} series tested, pooled"
    return sn


def _season_and_lag(base: np.ndarray, sn: dict, ctx: Context) -> tuple[dict, int]:
    """The season of the (log) values and the difference lag: 0 (none), 1 or the period."""
    longest = base[ctx.order.longest]
    diff = rules.needs_difference(sn)
    season = seasons.seasonality(np.diff(longest) if diff else longest, ctx.period)
    season["gain"] = None
    if not diff:
        return season, 0
    if not season["seasonal"]:
        return season, 1
    season["gain"] = seasons.seasonal_gain(longest, season["period"])
    return season, season["period"] if season["gain"] < rules.SEASONAL_GAIN else 1


def _panel_shape(st: dict, values: np.ndarray, ctx: Context) -> dict:
    """For a panel: the median per-series skewness, kurtosis and outlier share replace the
    pooled ones (the pooled values stay under ``"pooled"``)."""
    if ctx.order.n_series == 1:
        return st
    shape = _profile.per_series_shape(values, ctx.order)
    if not shape:
        return st
    pooled = {k: st[k] for k in ("skewness", "kurtosis", "outlier_share")}
    return {**st, **{k: shape[k] for k in pooled}, "pooled": pooled, "per_series": shape["n_series"]}


def _effective_stats(x: np.ndarray, st: dict, tail: dict, log: bool, lag: int, ctx: Context) -> tuple:
    """The values the scaler will see, their statistics and their test-tail range."""
    if not (log or lag):
        return x, st, tail
    eff = _transformed_values(x, log, lag, ctx)
    est = _panel_shape(_profile.numeric_stats(eff[:, None])[0], eff, ctx)
    etail = _profile.outside_share(eff[:, None], ctx.order.is_test)[0]
    return eff, est, etail


def _log_step(st: dict) -> tuple[bool, list[str]]:
    """Whether to take ``log1p`` first, with the reason part that adds."""
    if not rules.takes_log(st):
        return False, []
    return True, [rules.log_reason(st)]


def _scaling(
    est: dict, nm: dict, shares: tuple, label: str, lag: int, kind: str, ctx: Context, *, is_target: bool
):
    """``(method, feature_range, reason, warnings)``; ``shares``: raw and effective test tail."""
    share, eff_share = shares
    if is_target:
        return rules.regression_target(
            ctx.activation, est, nm, share, eff_share, label=label, diff=bool(lag), kind=kind
        )
    method, core = rules.choose_method(est, nm, eff_share, transformed=label)
    return method, None, core, []


def _difference_parts(sn: dict, season: dict, lag: int) -> list[str]:
    if lag:
        parts = [rules.difference_reason(sn, lag)]
    else:  # a confirmed stationary column needs no word on differencing
        parts = [rules.levels_reason(sn)] if sn.get("evidence") == "weak" and "adf_p" in sn else []
    if season["seasonal"]:
        parts.append(rules.seasonal_reason(season, season["gain"]))
    return parts


def _analyse_scaled(
    name: str, x: np.ndarray, st: dict, tail: dict, kind: str, ctx: Context, *, is_target: bool
) -> ColumnAdvice:
    """Continuous/count inputs and regression targets: log, stationarity, season, scaling chain."""
    shape = _panel_shape(st, x, ctx)
    log, parts = _log_step(shape)
    base = _transformed_values(x, log, 0, ctx)
    sn = _stationarity_of(base, ctx)
    sn["season"], lag = _season_and_lag(base, sn, ctx)
    st["test_outside_share"] = tail["share"]
    parts.extend(_difference_parts(sn, sn["season"], lag))
    eff, est, etail = _effective_stats(x, shape, tail, log, lag, ctx)
    label = rules.transformed_label(log, bool(lag))
    nm = normality(_sample(eff, ctx), est, ctx.sample_idx is not None)
    nm["on"] = label or "raw values"
    sn["on"] = "log1p values" if log else "raw values"
    shares = (tail["share"], etail["share"])
    method, feature_range, core, warns = _scaling(est, nm, shares, label, lag, kind, ctx, is_target=is_target)
    warns = [*rules.common_warnings(st), *warns]
    warns.extend(rules.range_warnings(sn, tail, etail["share"], bool(lag), ctx.test_size, method))
    parts.append(core)
    return ColumnAdvice(
        name=name,
        kind=kind,
        role="target" if is_target else "input",
        stats=st,
        normality=nm,
        stationarity=sn,
        method=method,
        log=log,
        difference={"lag": lag, "order": 1} if lag else None,
        feature_range=feature_range,
        reason="; ".join(parts),
        warnings=warns,
    )


# ================================================================================================
# Classification targets
# ================================================================================================
def _numeric_classes(series: pd.Series, st: dict) -> list:
    classes = st["values"]
    if classes is None:
        x = _profile.column_values(series)
        classes = [float(v) for v in np.unique(x[np.isfinite(x)])]
    return [int(v) if float(v).is_integer() else float(v) for v in classes]


def _text_classes(series: pd.Series) -> list:
    uniq = series.dropna().unique()
    try:
        classes = sorted(uniq.tolist())
    except TypeError:
        classes = sorted(uniq.tolist(), key=str)
    return [plain(v) for v in classes]


def _classification_target(
    name: str, series: pd.Series, st: dict, kind: str, ctx: Context, numeric: bool
) -> ColumnAdvice:
    warns = rules.common_warnings(st) if numeric else []
    distinct = int(st["distinct"])
    rules.check_class_count(name, distinct, ctx.task)
    if numeric:
        classes = _numeric_classes(series, st)
        if not st["integer"] and ctx.task == "multiclass":
            warns.append(rules.non_integer_classes_warning(distinct))
    else:
        classes = _text_classes(series)
    encode, method, feature_range, reason, more = rules.classification_target(
        ctx.task, ctx.activation, classes, distinct, numeric=numeric
    )
    return ColumnAdvice(
        name=name,
        kind=kind,
        role="target",
        stats=st,
        method=method,
        feature_range=feature_range,
        reason=reason,
        warnings=warns + more,
        encode=encode,
        classes=classes,
    )


# ================================================================================================
# Columns by dtype kind
# ================================================================================================
def _analyse_text(name: str, series: pd.Series, ctx: Context, is_target: bool) -> ColumnAdvice:
    st = _text_stats(series)
    distinct = st["distinct"]
    kind = rules.text_kind(distinct)
    if is_target:
        if ctx.task == "regression":
            raise ParameterError(
                f"task='regression' but target {name!r} holds text/categories; "
                "use task='binary' or task='multiclass'"
            )
        return _classification_target(name, series, st, kind, ctx, numeric=False)
    role = "ignore" if kind == "constant" else "categorical"
    reason = rules.text_input_reason(kind, distinct)
    warns = rules.text_input_warnings(st, kind)
    return ColumnAdvice(name, kind, role, st, reason=reason, warnings=warns)


def _numeric_target(
    name: str, series: pd.Series, st: dict, tail: dict, kind: str, ctx: Context
) -> ColumnAdvice:
    if ctx.task != "regression":
        return _classification_target(name, series, st, kind, ctx, numeric=True)
    if kind == "constant":
        warns = [*rules.common_warnings(st), "target is constant: there is nothing to learn"]
        reason = "constant target → no scaling (check the data)"
        return ColumnAdvice(name, kind, "target", st, method="none", reason=reason, warnings=warns)
    x = _profile.column_values(series)
    kind = "ordinal" if kind == "levels" else kind
    return _analyse_scaled(name, x, st, tail, kind, ctx, is_target=True)


def _numeric_input(
    name: str, series: pd.Series, st: dict, tail: dict, kind: str, ctx: Context
) -> ColumnAdvice:
    warns = rules.common_warnings(st)
    if kind == "constant":
        what = "no values" if st["distinct"] == 0 else f"single value {st['min']:.6g}"
        warns.append(f"constant column ({what}) carries no information: ignored")
        reason = f"constant column ({what}) → ignore"
        return ColumnAdvice(name, kind, "ignore", st, reason=reason, warnings=warns)
    if kind == "binary":
        method, reason = rules.binary_input(st)
        return ColumnAdvice(name, kind, "input", st, method=method, reason=reason, warnings=warns)
    x = _profile.column_values(series)
    if kind == "levels":
        cycle = _profile.cycle_lag(x[ctx.order.longest], st["distinct"], ctx.period)
        if cycle is not None:
            reason = rules.integer_codes_reason(st, *cycle)
            return ColumnAdvice(name, "categorical", "categorical", st, reason=reason, warnings=warns)
        advice = _analyse_scaled(name, x, st, tail, "ordinal", ctx, is_target=False)
        advice.reason = f"{rules.integer_magnitude_reason(st)}; {advice.reason}"
        return advice
    return _analyse_scaled(name, x, st, tail, kind, ctx, is_target=False)


def _analyse_numeric(
    name: str, series: pd.Series, st: dict, tail: dict, ctx: Context, is_target: bool
) -> ColumnAdvice:
    kind = rules.numeric_kind(st, pd.api.types.is_bool_dtype(series.dtype))
    if is_target:
        return _numeric_target(name, series, st, tail, kind, ctx)
    return _numeric_input(name, series, st, tail, kind, ctx)


def _analyse_other(label: object, series: pd.Series, kind: str, is_target: bool) -> ColumnAdvice:
    """Datetime and other non-scalable columns: ignored (they cannot be targets)."""
    if is_target:
        raise ParameterError(f"target {label!r} has dtype {series.dtype}, which cannot be a target")
    what = "datetime" if kind == "datetime" else str(series.dtype)
    stats = {
        "count": int(series.notna().sum()),
        "nan_share": float(series.isna().mean()),
        "distinct": int(series.nunique()),
    }
    return ColumnAdvice(
        str(label),
        "constant" if series.nunique() <= 1 else kind,
        "ignore",
        stats,
        reason=f"{what} column → ignore",
        warnings=[
            f"{what} column ignored: pass it as time= or derive numeric features (hour, weekday, ...) from it"
        ],
    )


def analyse_columns(
    df: pd.DataFrame,
    columns: list,
    dtype_kind: dict,
    stats: dict,
    tails: dict,
    targets: list,
    ctx: Context,
) -> list[ColumnAdvice]:
    """One :class:`ColumnAdvice` per column of ``columns``, in order."""
    results: list[ColumnAdvice] = []
    for c in columns:
        name, is_target, kind = str(c), c in targets, dtype_kind[c]
        if kind == "numeric":
            results.append(_analyse_numeric(name, df[c], stats[c], tails[c], ctx, is_target))
        elif kind == "text":
            results.append(_analyse_text(name, df[c], ctx, is_target))
        else:
            results.append(_analyse_other(c, df[c], kind, is_target))
    return results
