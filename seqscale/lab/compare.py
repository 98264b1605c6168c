"""Does scaling matter for *this* data? Train the same LSTM on raw, normalized, standardized and
advised inputs and compare the forecasts in original units.

Every variant gets the same network (:mod:`seqscale.advisor.lstm`: one LSTM layer and a linear head),
the same windows (``n_in``, ``n_out``), the same epoch budget, early-stopping rule and seeds,
and the same split. Only the preparation differs:

``raw``
    no scaling (method ``none`` for every numeric column and the target); categorical columns
    are still one-hot encoded.
``normalized``
    minmax to [0, 1] for every numeric column and the target.
``standardized``
    zero mean, unit variance for every numeric column and the target.
``advised``
    the plan :func:`seqscale.advise` writes for the training part, including the ``log1p`` and
    differencing it recommends.
``validated`` (``validate=True``)
    the advice's validated choice: candidate plans scored by the same small LSTM on the end of
    the training part (:func:`seqscale.advisor.validated_advice`); when it keeps the rules' plan,
    this row repeats the advised one.

Roles (input, target, categorical, ignore) and per-series scaling come from the advice for every
default variant, so the variants see the same columns. A user's plan (``plans=``) is compared on
the same footing: same rows, split, window, seeds and network.

Rows are sorted by (id, time). The test period is the last ``test_size`` share (or count) of the
distinct time values — one calendar cutoff for every series of a panel. Each pipeline is fitted on
the training part only; the test windows get ``n_in`` (plus the differencing span) rows of each
series' training history in front, so the first forecast is the first test step, and windows never
cross a series boundary. Forecasts go back to original units through
:meth:`SequencePipeline.inverse_target` and are scored by RMSE and MAE against the true values, as
mean and standard deviation over the seeds — pooled over all forecasts and, for panels, per series.
The last-value forecast and, when the time column has a regular calendar step, the seasonal-naive
forecast are reported as references.

Examples
--------
>>> import numpy as np, pandas as pd
>>> t = np.arange(200)
>>> frame = pd.DataFrame({"t": t, "y": 50 + 0.2 * t + 5 * np.sin(t / 5)})
>>> result = compare(frame, "y", time="t", n_in=8, seeds=1, epochs=2)  # doctest: +SKIP
>>> list(result.table["variant"])  # doctest: +SKIP
['raw', 'normalized', 'standardized', 'advised']
"""

from __future__ import annotations

import copy
import os
import time as _time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from seqscale.advisor import api as advise_api
from seqscale.advisor import lstm as _lstm
from seqscale.advisor.lstm import EPOCHS, PATIENCE
from seqscale.errors import InputError, ParameterError, SeqscaleError
from seqscale.frames.time_columns import with_time
from seqscale.lab.compare_rows import Split, history, order_rows, split_rows, usable_series
from seqscale.lab.comparison import ComparisonResult, progress_bar
from seqscale.lab.truth import Truth, season_length
from seqscale.sequence.pipeline import SequencePipeline
from seqscale.sequence.pipeline import _plain as plain
from seqscale.sequence.pipeline_steps import as_frame
from seqscale.sequence.plan import load_plan, validate_plan
from seqscale.sequence.rows import caller_rows

__all__ = ["VARIANTS", "ComparisonResult", "compare", "variant_plans"]

VARIANTS = ("raw", "normalized", "standardized", "advised")
_UNIFORM = {"raw": "none", "normalized": "minmax", "standardized": "standard"}


# ================================================================================================
# Plans
# ================================================================================================
def _uniform_plan(advised: dict, method: str) -> dict:
    """The advised plan's roles with one scaling method, no log1p and no differencing."""
    plan = copy.deepcopy(advised)
    for name, spec in plan["columns"].items():
        if spec.get("role") not in ("input", "target") or spec.get("encode"):
            continue
        entry = {"role": spec["role"], "log": False, "difference": None, "method": method, "bounds": None}
        if method == "minmax":
            entry["feature_range"] = [0, 1]
        entry["reason"] = f"comparison variant: {method} for every numeric column"
        plan["columns"][name] = entry
    return plan


def variant_plans(
    train: pd.DataFrame,
    target: str,
    *,
    time: str | None = None,
    id: str | None = None,
    n_in: int | None = None,
    n_out: int = 1,
    validate: bool = False,
) -> dict[str, dict]:
    """The plans of the standard variants, from the advice on the training part.

    Parameters
    ----------
    train : the training rows (the advice sees nothing else)
    target, time, id : the target, time and series id columns
    n_in : input window of every plan; default: the window the advice recommends
    n_out : forecast steps
    validate : add the advice's validated choice as ``"validated"``

    Returns
    -------
    dict
        ``{"raw": plan, "normalized": plan, "standardized": plan, "advised": plan}`` (and
        ``"validated": plan``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = np.arange(120)
    >>> plans = variant_plans(pd.DataFrame({"t": t, "y": 5.0 * t}), "y", time="t", n_in=6)
    >>> plans["normalized"]["columns"]["y"]["method"], plans["advised"]["window"]["n_in"]
    ('minmax', 6)
    """
    advised, validated = _advice(train, target, time, id, validate)
    n_in = int(advised["window"]["n_in"] if n_in is None else n_in)
    plans = {name: _uniform_plan(advised, method) for name, method in _UNIFORM.items()}
    plans["advised"] = advised
    if validated is not None:
        plans["validated"] = validated
    for plan in plans.values():
        plan["window"] = {"n_in": n_in, "n_out": int(n_out)}
    return plans


def _advice(train: pd.DataFrame, target: str, time: Any, id: Any, validate: bool) -> tuple[dict, dict | None]:
    """The rules' plan and (``validate``) the validated plan, from one analysis of ``train``."""
    advise_module = advise_api
    if not validate:
        advice = advise_module.advise(train, target=target, time=time, id=id, task="regression")
        return copy.deepcopy(advice.plan), None
    if not hasattr(advise_module, "validated_advice"):
        raise ParameterError("validate=True (--validate) needs the validated advice; this version lacks it.")
    advice = advise_module.validated_advice(train, target, time=time, id=id)
    rules = copy.deepcopy(advice.validation.plans["rules"])
    rules["window"] = dict(advice.plan["window"])
    return rules, copy.deepcopy(advice.plan)


def _resolve_plans(plans: Any, defaults: dict[str, dict], target: str) -> tuple[dict, dict]:
    """The default variants updated by ``plans``; returns ``(plans, sources)``.

    A name mapped to None drops a default. Every plan gets the defaults' window, time and id
    (the same footing); its target must be the compared one.
    """
    sources = dict.fromkeys(defaults, "advice on the training rows")
    sources["validated"] = "validated advice on the training rows"
    sources.update({name: f"every numeric column {m}" for name, m in _UNIFORM.items()})
    if plans is None:
        return defaults, sources
    if not isinstance(plans, dict):
        raise ParameterError(
            "plans must be a dict {variant name: plan dict or plan file}; a name mapped to None "
            f"drops that default variant. Got {type(plans).__name__}."
        )
    out, common = dict(defaults), defaults["advised"]
    for name, plan in plans.items():
        name = str(name)
        sources.pop(name, None)
        if plan is None:
            out.pop(name, None)
            continue
        is_path = isinstance(plan, (str, os.PathLike))
        source = os.fspath(plan) if is_path else f"plan {name!r}"
        plan = copy.deepcopy(load_plan(plan) if is_path else validate_plan(plan, source=source))
        if list(plan.get("target") or []) != [target]:
            raise ParameterError(
                f"{source} predicts {plan.get('target')}, but the comparison's target is {target!r}; "
                "RMSE in original units is only comparable for the same target."
            )
        plan.update(window=dict(common["window"]), time=common["time"], id=common["id"])
        out[name], sources[name] = plan, source
    if not out:
        raise ParameterError("plans dropped every variant; keep at least one.")
    return out, {name: sources[name] for name in out}


def _span(plan: dict) -> int:
    """Rows lost at the start of each series to the plan's differencing."""
    spans = [
        int(spec["difference"]["lag"]) * int(spec["difference"].get("order", 1))
        for spec in plan["columns"].values()
        if spec.get("role") in ("input", "target") and spec.get("difference")
    ]
    return max(spans, default=0)


# ================================================================================================
# Variants: pipelines, tensors, training
# ================================================================================================
@dataclass
class _Variant:
    pipe: Any
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    test_frame: pd.DataFrame


def _prepare(
    name: str, plan: dict, split: Split, id: str | None, positions: np.ndarray | None = None
) -> _Variant:
    """Fit the variant's pipeline on the training rows; tensors of the training and test period.

    ``positions[i]`` is the caller's row of the ordered frame's row ``i`` (the rows of ``split``
    carry their place in that frame as index labels); errors name the caller's rows.
    """
    n_in, n_out = plan["window"]["n_in"], plan["window"]["n_out"]
    try:
        pipe = SequencePipeline.from_plan(plan, n_in=n_in, n_out=n_out, test_start=split.cutoff)
        with caller_rows(_callers(split.train, positions)):
            pipe.fit(split.train)
            X_train, y_train = pipe.transform(split.train)
        test_frame = pd.concat([history(split.train, id, n_in + pipe.span_), split.test])
        with caller_rows(_callers(test_frame, positions)):
            X_test, _ = pipe.transform(test_frame)
    except SeqscaleError as err:
        raise err.prefixed(f"variant {name!r}: ") from None
    return _Variant(pipe, X_train, y_train, X_test, test_frame)


def _callers(part: pd.DataFrame, positions: np.ndarray | None) -> np.ndarray:
    """The caller's row of each row of ``part`` (rows of the ordered frame, by index label)."""
    rows = part.index.to_numpy()
    return rows if positions is None else positions[rows]


def _train(name: str, variant: _Variant, truth: Truth, budget: dict, advance: Any) -> tuple:
    """Every seed of one variant: run records, loss histories, the forecasts (mean over seeds)."""
    target, n_out = truth.target, truth.n_out
    runs, series_runs, histories, forecasts = [], [], [], []
    for seed in range(budget["seeds"]):
        t0 = _time.perf_counter()
        fit = _lstm.train_lstm(
            variant.X_train, variant.y_train, seed=seed, epochs=budget["epochs"], patience=budget["patience"]
        )
        back = variant.pipe.inverse_target(_lstm.predict(fit.model, variant.X_test), frame=variant.test_frame)
        values = back[_forecast_columns(target, n_out)].to_numpy(dtype=np.float64)
        truth.check_index(variant.pipe.target_index(), name)
        pooled, per_series = truth.errors(values)
        runs.append(
            {
                "variant": name,
                "seed": seed,
                **pooled,
                "epochs_run": fit.epochs_run,
                "best_epoch": fit.best_epoch,
                "seconds": _time.perf_counter() - t0,
            }
        )
        series_runs += [{"variant": name, "seed": seed, **row} for row in per_series]
        histories.append(
            {"seed": seed, **fit.history, "best_epoch": fit.best_epoch, "epochs_run": fit.epochs_run}
        )
        forecasts.append(values)
        advance(f"{name}, seed {seed}")
    return runs, series_runs, histories, np.mean(forecasts, axis=0)


def _train_all(
    variants: dict[str, _Variant], plans: dict, truth: Truth, budget: dict, progress: bool
) -> tuple:
    """Every variant and seed: (runs, per-series runs, histories, mean forecasts)."""
    runs, series_runs, histories, forecasts = [], [], {}, {}
    with progress_bar(progress, len(variants) * budget["seeds"]) as advance:
        for name, variant in variants.items():
            same = _same_as(name, plans)
            if same is not None:  # validation kept the rules' plan: the advised runs, once
                r, s = _renamed(runs, name, same), _renamed(series_runs, name, same)
                histories[name], forecasts[name] = histories[same], forecasts[same]
                for _ in range(budget["seeds"]):
                    advance(f"{name}: the {same} plan, trained above")
            else:
                r, s, histories[name], forecasts[name] = _train(name, variant, truth, budget, advance)
            runs += r
            series_runs += s
    return runs, series_runs, histories, forecasts


# ================================================================================================
# compare
# ================================================================================================
def compare(
    frame: Any,
    target: str,
    *,
    time: str | None = None,
    id: str | None = None,
    plans: dict | None = None,
    test_size: float | int = 0.2,
    n_in: int | None = None,
    n_out: int = 1,
    seeds: int = 3,
    epochs: int = EPOCHS,
    patience: int = PATIENCE,
    validate: bool = False,
    progress: bool = False,
) -> ComparisonResult:
    """Train the same LSTM on differently prepared data; score the forecasts in original units.

    Parameters
    ----------
    frame : DataFrame (pandas; polars is converted): one series, or a panel in long format
        (one row per series and time), in any row order
    target : the column to forecast
    time : time column (numeric or datetime); default: the row order is the time order
    id : series id column of a panel: rows are sorted by (id, time), windows never cross a
        series, scaling is per series where the plan says so, and results come per series and
        pooled. Needs ``time``. A time column with repeated values and no ``id`` is refused.
    plans : optional ``{name: plan dict or plan file}`` added to (or replacing) the four default
        variants; ``{name: None}`` drops a default. Every plan gets the same window, time and id.
    test_size : share in (0, 1) or count of the last distinct time steps held out as the test
        period (one cutoff time for every series)
    n_in : input steps per window; default: the advised plan's window. n_out : forecast steps
    seeds : seeds per variant (0 .. seeds-1); the table reports mean ± std over them
    epochs, patience : epoch budget and early-stopping patience (validation: the last 20 % of
        the training windows)
    validate : add the advice's validated choice as the variant ``"validated"`` (it costs the
        scoring of the candidate plans; when the rules' plan is kept the row repeats ``advised``)
    progress : show a progress bar over (variant, seed)

    Returns
    -------
    ComparisonResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rows = [(f, yr, 100.0 * (f + 1) + yr % 7) for f in range(3) for yr in range(1990, 2030)]
    >>> panel = pd.DataFrame(rows, columns=["firm", "year", "sales"]).sort_values("year")
    >>> result = compare(panel, "sales", time="year", id="firm", n_in=4, seeds=1, epochs=2)  # doctest: +SKIP
    >>> result.series_table["firm"].tolist()  # doctest: +SKIP
    [0, 1, 2]
    """
    started = _time.perf_counter()
    df, target = _check_args(frame, target, time, id, n_in, n_out, seeds, epochs, patience)
    df, positions = order_rows(df, time, id)
    split = split_rows(df, test_size, time)
    defaults = variant_plans(split.train, target, time=time, id=id, n_in=n_in, n_out=n_out, validate=validate)
    chosen, sources = _resolve_plans(plans, defaults, target)
    window = defaults["advised"]["window"]
    need = window["n_in"] + max(_span(p) for p in chosen.values()) + window["n_out"]
    usable, skipped = usable_series(split, id, need)
    variants = {name: _prepare(name, plan, usable, id, positions) for name, plan in chosen.items()}

    first = next(iter(variants.values()))
    truth = Truth.build(df, target, time, id, first.pipe.target_index(first.test_frame), window["n_out"])
    budget = {"seeds": seeds, "epochs": epochs, "patience": patience}
    runs, series_runs, histories, forecasts = _train_all(variants, chosen, truth, budget, progress)

    settings = _settings(target, time, id, window, budget, test_size, split, usable, skipped, variants)
    settings.update(plan_sources=sources, elapsed_seconds=_time.perf_counter() - started)
    return ComparisonResult.build(
        runs=pd.DataFrame(runs),
        series_runs=pd.DataFrame(series_runs),
        histories=histories,
        forecasts=forecasts,
        truth=truth,
        plans={n: v.pipe.to_plan() for n, v in variants.items()},
        loss_units={n: _units(v.pipe, target) for n, v in variants.items()},
        settings=settings,
    )


# ================================================================================================
# Helpers
# ================================================================================================
def _same_as(name: str, plans: dict[str, dict]) -> str | None:
    """``"advised"`` when ``name`` is the validated variant and its plan is the advised one."""
    same = name == "validated" and "advised" in plans
    return "advised" if same and plans["validated"]["columns"] == plans["advised"]["columns"] else None


def _renamed(rows: list[dict], name: str, source: str) -> list[dict]:
    return [{**row, "variant": name} for row in rows if row["variant"] == source]


def _check_args(
    frame: Any,
    target: Any,
    time: Any,
    id: Any,
    n_in: Any,
    n_out: Any,
    seeds: Any,
    epochs: Any,
    patience: Any,
) -> tuple[pd.DataFrame, str]:
    df = as_frame(frame)
    if not isinstance(target, str):
        raise ParameterError(
            f"target must be one column name (a string); got {target!r}. Compare one target at "
            "a time: RMSE in original units is not comparable across targets."
        )
    for name, col in (("target", target), ("time", time), ("id", id)):
        if col is not None and col not in df.columns:
            raise ParameterError(f"{name}={col!r} is not a column; columns: {list(df.columns)}.")
    if time is not None:
        df = with_time(df, time)  # the one time parser: text dates, years, quarters ...
    if not pd.api.types.is_numeric_dtype(df[target]):
        raise InputError(f"target {target!r} must be numeric (regression); got {df[target].dtype}.")
    if time is not None and not (
        pd.api.types.is_numeric_dtype(df[time]) or pd.api.types.is_datetime64_any_dtype(df[time])
    ):
        raise InputError(
            f"time column {time!r} has dtype {df[time].dtype}; convert it with pandas.to_datetime."
        )
    checks = [("n_out", n_out), ("seeds", seeds), ("epochs", epochs), ("patience", patience)]
    for name, value in [("n_in", 1 if n_in is None else n_in), *checks]:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ParameterError(f"{name}={value!r} is invalid; use an integer >= 1.")
    return df, target


def _settings(
    target: str,
    time: str | None,
    id: str | None,
    window: dict,
    budget: dict,
    test_size: Any,
    split: Split,
    usable: Split,
    skipped: list,
    variants: dict[str, _Variant],
) -> dict:
    return {
        "target": target,
        "time": time,
        "id": id,
        **window,
        **budget,
        "hidden": _lstm.HIDDEN,
        "learning_rate": _lstm.LEARNING_RATE,
        "batch_size": _lstm.BATCH_SIZE,
        "epoch_windows": _lstm.EPOCH_WINDOWS,
        "validation": _lstm.VALIDATION_SHARE,
        "test_size": test_size,
        "cutoff": plain(split.cutoff),
        "advice_rows": _rows_seen(split.train, time, id),
        "n_train": len(usable.train),
        "n_test": len(usable.test),
        "n_series": int(usable.train[id].nunique()) if id else 1,
        "skipped_series": [plain(s) for s in skipped],
        "season": season_length(split.train[time]) if time is not None else None,
        "n_train_windows": {n: int(v.X_train.shape[0]) for n, v in variants.items()},
        "n_features": {n: int(v.X_train.shape[2]) for n, v in variants.items()},
    }


def _rows_seen(train: pd.DataFrame, time: str | None, id: str | None) -> dict:
    """Which rows the advice (and every pipeline) saw: count, first and last time, series."""
    first, last = (train[time].min(), train[time].max()) if time is not None else (0, len(train) - 1)
    return {
        "rows": len(train),
        "first": plain(first),
        "last": plain(last),
        "series": int(train[id].nunique()) if id else 1,
    }


def _forecast_columns(target: str, n_out: int) -> list[str]:
    return [target] if n_out == 1 else [f"{target}+{k + 1}" for k in range(n_out)]


def _units(pipe: Any, target: str) -> str:
    spec = pipe.specs_[target]
    steps = spec.get("log") or spec.get("difference")
    return "original" if spec.get("method") in (None, "none") and not steps else "scaled"
