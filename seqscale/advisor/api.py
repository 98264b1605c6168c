"""Column analysis and scaling recommendations for LSTM inputs and targets.

:func:`advise` looks at every column of a table and recommends how to prepare it: which role it
plays (input, target, categorical, ignore), whether to take ``log1p`` and/or difference it first,
and which scaling method to fit on the training part. The result, :class:`Advice`, prints as a
table, converts to a DataFrame, renders an HTML report and writes an editable *plan file* (format
in ``docs/ARCHITECTURE.md``) that the pipeline reads back through :func:`load_plan`.

Rules (each recommendation's ``reason`` names the rule and the numbers behind it)
--------------------------------------------------------------------------------
Kinds
    ``constant``: at most one distinct non-missing value. ``binary``: exactly two distinct values
    (0/1, True/False, "yes"/"no", ...). ``categorical``: text, object or category dtype, or
    integer-valued numbers with at most :data:`MAX_INTEGER_LEVELS` (12) distinct values that
    *cycle with time* (a quarter, month or weekday code: 98 % of the rows equal the row one cycle
    earlier). ``ordinal``: other small-integer columns (a count 0-7 is a magnitude; scaled, the
    reason naming one-hot as the alternative). ``count``: non-negative integers with more
    distinct values. ``continuous``: everything else.
Roles
    constant -> ``ignore`` (with a warning); categorical and text binary -> ``categorical``
    (one-hot); numeric binary inputs -> passthrough (method ``none``; ``minmax`` maps two other
    values to 0/1); continuous, count and ordinal -> ``input`` with the scaling chain below.
Stationarity (rows in time order: sorted by ``time`` when given)
    ADF (fixed lag order ``int(4 (n/100)^0.25)``, at most 12), KPSS (``regression="c"``), the
    linear-trend R² and persistence (the share of the variance a lag-1 difference leaves, after
    removing the seasonal phase means when the time column gives a period), on at most 2,000
    evenly strided points. When both tests agree they decide: a unit root (ADF p > 0.10, KPSS
    p <= 0.05, the difference leaving less variance than the levels) -> difference; stationarity
    (ADF p < 0.05, KPSS p >= 0.10, trend R² < 0.6) -> levels. Otherwise a strong trend
    (R² >= 0.6) or persistence (a difference leaving at most half the variance) -> difference,
    else levels. The evidence is *strong* only when neither test contradicts the decision at 5 %
    and persistence agrees by a margin (at most 40 % / at least 60 % of the variance left);
    otherwise the reason says *weak evidence*. Panels (``id``): 20 series spread over the panel
    are tested one by one (10 rows or more each) and pooled: Fisher's combination of the ADF
    p-values (Maddala-Wu), Hadri's mean of the KPSS statistics, the median R² and persistence.
Seasonality
    The period comes from the time column's frequency (monthly 12, quarterly 4, weekly 52,
    daily 7, hourly 24, half-hourly 48) or, without one, from the highest autocorrelation peak;
    it is confirmed when the autocorrelation at that lag is >= 0.3 and the STL seasonal strength
    >= 0.64. The plan's window covers whole seasons (:func:`window_length`). A differenced,
    seasonal column takes the seasonal difference instead of lag 1 when that leaves less than
    80 % of the lag-1 difference's variance.
Scaling chain (on the values after the chosen ``log1p``/differencing)
    1. within about [0, 1] (min >= -0.05, max <= 1.05) *and* spanning at least half of it ->
       ``none``;
    2. positive (min >= 0), right-skewed (skewness > 1) and above 1 somewhere -> ``log: true``,
       then scale (decided on the raw values; the rest of the chain runs on ``log1p(x)``);
    3. already standardized-like (|mean| < 0.5, 0.5 < std < 2, no heavy tails) -> ``none``;
    4. heavy tails (Tukey outlier share > 5 % or |excess kurtosis| > 3) -> ``robust``;
    5. roughly normal (|skewness| < 0.5 and |excess kurtosis| < 1) -> ``standard``;
    6. otherwise (bounded/flat, or not normal without heavy tails) -> ``minmax``
       ("if in doubt, normalize"), unless more than 2 % of the test tail lies outside the
       training range, then ``standard``.
    Normality is decided by these effect-size bands; the D'Agostino (or Shapiro for n < 20)
    p-value is reported as supporting information only, because with many rows every p-value is
    tiny. For panels, skewness, kurtosis and outlier share are the medians over the series
    after per-series scaling.
Targets
    ``binary``: sigmoid output; 0/1 passes through (``none``), two other numbers are mapped to 0/1
    by ``minmax``, text labels need ``"encode": "label"``. ``multiclass``: softmax output,
    ``"encode": "onehot"``. ``regression``: a linear output takes the inputs' chain (log,
    difference, method); sigmoid/relu output -> ``minmax`` [0, 1]; tanh output -> ``minmax``
    [-1, 1]. An inconsistent task/activation pair raises
    :class:`~seqscale.errors.ParameterError`.
Validated choice (``validate=True``)
    See :mod:`seqscale.advisor.validate`: candidate plans scored by the small LSTM on a validation
    split of the rows before the test period; the rules' plan is kept unless beaten by 5 % and
    significantly (one-sided Diebold-Mariano p < 0.05 on the paired validation errors).

Sampling
    The cheap statistics use all rows. The normality test uses a random sample of ``sample`` rows
    and ADF/KPSS use at most 2,000 strided points; each column records ``sampled`` and ``n_used``.
"""

from __future__ import annotations

import math
import time as _time
from typing import Any

import numpy as np
import pandas as pd

from seqscale.advisor import profile as _profile
from seqscale.advisor.columns import Context, analyse_columns, profile_numeric
from seqscale.advisor.results import Advice, ColumnAdvice
from seqscale.advisor.rules import (  # noqa: F401
    ADF_MAXLAG,
    ALPHA,
    BOUNDED_KURT,
    HEAVY_KURT,
    HEAVY_OUTLIERS,
    HIGH_CARDINALITY,
    LOG_SKEW,
    MAX_CLASSES,
    MAX_INTEGER_LEVELS,
    NORMAL_KURT,
    NORMAL_SKEW,
    OUTSIDE_SWITCH,
    OUTSIDE_WARN,
    SMALL_MEAN,
    STD_HIGH,
    STD_LOW,
    TREND_R2,
    UNIT_HIGH,
    UNIT_LOW,
    dtype_kind,
)
from seqscale.advisor.seasonality import period_of_time
from seqscale.advisor.tables import as_frame as _as_frame
from seqscale.advisor.validate import candidate_plans, validate_plans
from seqscale.advisor.wording import short_reason as _short_reason  # noqa: F401
from seqscale.errors import InputError, ParameterError
from seqscale.frames.time_columns import with_time
from seqscale.sequence.plan import (  # noqa: F401
    ACTIVATIONS,
    ENCODINGS,
    METHODS,
    PLAN_FORMAT,
    PLAN_VERSION,
    ROLES,
    TASK_ACTIVATIONS,
    TASKS,
    activation_problem,
    load_plan,
    save_plan,
    validate_plan,
)
from seqscale.sequence.plan import activation_problem as _activation_problem  # noqa: F401
from seqscale.sequence.plan import plain as _plain  # noqa: F401
from seqscale.sequence.rows import caller_rows

# The noqa imports keep the rule thresholds, the other plan names and a few helpers importable
# from this module, where they used to be defined.
__all__ = [
    "ACTIVATIONS",
    "Advice",
    "ColumnAdvice",
    "METHODS",
    "PLAN_FORMAT",
    "PLAN_VERSION",
    "ROLES",
    "TASKS",
    "advise",
    "load_plan",
    "validated_advice",
    "window_length",
    "validate_plan",
]


# ================================================================================================
# Parameters
# ================================================================================================
def _resolve_task(task: object, output_activation: object) -> tuple[str, str]:
    if task not in TASKS:
        raise ParameterError(f"task must be one of {TASKS}, got {task!r}")
    if output_activation is None:
        return str(task), TASK_ACTIVATIONS[str(task)][0]
    if output_activation not in ACTIVATIONS:
        raise ParameterError(
            f"output_activation must be one of {ACTIVATIONS} or None, got {output_activation!r}"
        )
    problem = activation_problem(str(task), str(output_activation))
    if problem:
        raise ParameterError(problem)
    return str(task), str(output_activation)


def _check_options(test_size: object, sample: object) -> None:
    if not isinstance(test_size, (int, float)) or isinstance(test_size, bool) or not (0 < test_size < 1):
        raise ParameterError(f"test_size must be a number in (0, 1), got {test_size!r}")
    if not isinstance(sample, (int, np.integer)) or isinstance(sample, bool) or sample < 20:
        raise ParameterError(f"sample must be an integer >= 20, got {sample!r}")


def _check_column_names(df: pd.DataFrame, time: object, id: object) -> list[str]:
    """The column names as text; ``time`` and ``id`` must be two different columns."""
    if df.columns.has_duplicates:
        dup = df.columns[df.columns.duplicated()].tolist()
        raise InputError(f"duplicate column names: {dup}")
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        raise InputError("column names must stay distinct when converted to text")
    for label, col in (("time", time), ("id", id)):
        if col is not None and col not in df.columns:
            raise ParameterError(f"{label}={col!r} is not a column (columns: {names[:20]})")
    if time is not None and id is not None and time == id:
        raise ParameterError("time and id must be different columns")
    return names


def _target_list(df: pd.DataFrame, target: object, time: object, id: object, names: list[str]) -> list:
    if target is None:
        targets = []
    else:
        targets = list(target) if isinstance(target, (list, tuple)) else [target]
    for t in targets:
        if t not in df.columns:
            raise ParameterError(f"target {t!r} is not a column (columns: {names[:20]})")
        if t in (time, id):
            raise ParameterError(f"target {t!r} cannot also be the time or id column")
    if len(set(map(str, targets))) != len(targets):
        raise ParameterError(f"target lists a column twice: {targets}")
    return targets


def _check_rows(n: int, test_size: float) -> None:
    if n < 3:
        raise InputError(f"advise needs at least 3 rows, got {n}")
    n_test = math.ceil(test_size * n)
    if n - n_test < 2:
        raise ParameterError(f"test_size={test_size} leaves fewer than 2 training rows")


# ================================================================================================
# The result
# ================================================================================================
def _plan(
    results: list[ColumnAdvice],
    settings: dict,
    order: _profile.Ordering,
    n: int,
) -> dict:
    steps = int(np.median(order.series_lengths)) if order.n_series > 1 else n
    n_in = window_length(steps, _season_period(results))
    return {
        "format": PLAN_FORMAT,
        "version": PLAN_VERSION,
        "time": settings["time"],
        "id": settings["id"],
        "target": list(settings["target"]),
        "task": settings["task"],
        "output_activation": settings["output_activation"],
        "window": {"n_in": n_in, "n_out": 1},
        "per_series": settings["id"] is not None,
        "series_features": False,
        "columns": {c.name: c.plan_entry() for c in results},
    }


def _season_period(results: list[ColumnAdvice]) -> int | None:
    """The confirmed seasonal period of the target, else the longest one among the inputs."""
    seasonal = [c for c in results if c.stationarity.get("season", {}).get("seasonal")]
    targets = [c for c in seasonal if c.role == "target"]
    periods = [c.stationarity["season"]["period"] for c in (targets or seasonal)]
    return max(periods) if periods else None


def window_length(steps: int, period: int | None) -> int:
    """Input steps per window: a tenth of the series (at most 24; at least 4 when the series has
    16 steps), rounded to whole seasons.

    With a season of ``period`` steps that fits four times into the series, the window covers
    at least one full season (48 steps for half-hourly data with a daily cycle, 12 for monthly
    data).

    Examples
    --------
    >>> window_length(170, 12), window_length(10_000, 48), window_length(60, None)
    (12, 48, 6)
    """
    base = int(max(1, min(24, steps // 10), min(4, steps // 4)))
    if period is None or period > steps // 4:
        return base
    return int(period * max(1, base // period))


def _training_rows(
    df: pd.DataFrame, time: object, id: object, test_size: float, targets: list, task: str
) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows before the test period (the only rows a validated choice may read), sorted by
    (series, time) as the rest of the advice reads them, and their positions in ``df``."""
    if task != "regression" or len(targets) != 1:
        raise ParameterError("validate=True needs task='regression' and one target column")
    order = _profile.ordering(df, time, id, float(test_size))
    kept = order.series_order[~order.is_test[order.series_order]]
    return df.iloc[kept], kept


def validated_advice(
    train: Any,
    target: str,
    *,
    output_activation: str | None = None,
    time: str | None = None,
    id: str | None = None,
    validation: float = 0.2,
    sample: int = 200_000,
    random_state: int | None = 0,
) -> Advice:
    """The validated advice for a frame that *is* the training period (every row may be read).

    The rules run on ``train`` with its last ``validation`` share (per series) as their test
    tail; the candidate plans are scored on that same tail (:mod:`seqscale.advisor.validate`) and the
    chosen one becomes ``Advice.plan``. :func:`advise` with ``validate=True`` calls this on the
    rows before its test period; :mod:`seqscale.lab.compare.compare` calls it on its training part.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> y = np.cumsum(np.random.default_rng(0).normal(1, 1, 300))
    >>> a = validated_advice(pd.DataFrame({"y": y}), "y")  # doctest: +SKIP
    >>> a.validation.chosen, a.plan["columns"]["y"]["difference"]  # doctest: +SKIP
    ('rules', {'lag': 1, 'order': 1})
    """
    started = _time.perf_counter()
    rules = advise(train, target, "regression", output_activation, time, id, validation, sample, random_state)
    plan = rules.plan
    plans = candidate_plans(plan, _season_period(rules.columns), _skewed(rules.columns))
    rules.adopt(
        validate_plans(_as_frame(train), plans, str(target), share=validation, n_in=plan["window"]["n_in"])
    )
    rules.elapsed = _time.perf_counter() - started
    return rules


def _skewed(results: list[ColumnAdvice]) -> list[str]:
    """Scaled columns that are positive and right-skewed (skewness > 0.5) but not logged."""
    return [
        c.name
        for c in results
        if c.role in ("input", "target")
        and not c.log
        and c.stats.get("nonnegative")
        and c.stats.get("skewness", 0.0) > NORMAL_SKEW
    ]


def _settings(
    targets: list,
    ctx: Context,
    time: object,
    id: object,
    sample: int,
    random_state: int | None,
) -> dict:
    return {
        "target": [str(t) for t in targets],
        "task": ctx.task,
        "output_activation": ctx.activation,
        "time": None if time is None else str(time),
        "id": None if id is None else str(id),
        "test_size": ctx.test_size,
        "sample": int(sample),
        "random_state": random_state,
        "stationarity_points": ctx.stationarity_points,
        "n_series": ctx.order.n_series,
    }


def _context(
    df: pd.DataFrame,
    task: str,
    activation: str,
    time: object,
    id: object,
    test_size: float,
    sample: int,
    random_state: int | None,
) -> Context:
    n = len(df)
    order = _profile.ordering(df, time, id, float(test_size))
    rng = np.random.default_rng(random_state)
    sample_idx = None if n <= sample else np.sort(rng.choice(n, size=int(sample), replace=False))
    period = period_of_time(df[time]) if time is not None else None
    return Context(
        df, order, sample_idx, n, task, activation, float(test_size), _profile.STATIONARITY_POINTS, period
    )


def _analyse(df: pd.DataFrame, ctx: Context, time: object, id: object, targets: list) -> list:
    columns = [c for c in df.columns if c != time and c != id]
    dtype_kinds = {c: dtype_kind(df[c]) for c in columns}
    numeric = [c for c in columns if dtype_kinds[c] == "numeric"]
    stats, tails = profile_numeric(df, numeric, ctx.order)

    # ADF/KPSS fit many tiny regressions: multi-threaded BLAS only adds overhead there
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return analyse_columns(df, columns, dtype_kinds, stats, tails, targets, ctx)


# ================================================================================================
# advise
# ================================================================================================
def advise(
    frame: Any,
    target: str | list[str] | None = "y",
    task: str = "regression",
    output_activation: str | None = None,
    time: str | None = None,
    id: str | None = None,
    test_size: float = 0.2,
    sample: int = 200_000,
    random_state: int | None = 0,
    validate: bool = False,
    validation: float = 0.2,
) -> Advice:
    """Analyse every column of ``frame`` and recommend how to scale it for an LSTM.

    Parameters
    ----------
    frame : pandas/polars DataFrame or 2-D array
    target : column name(s) predicted by the network (None: inputs only).
    task : "regression", "binary" or "multiclass".
    output_activation : the network's output activation; default by task (linear, sigmoid,
        softmax). Inconsistent pairs raise :class:`~seqscale.errors.ParameterError`.
    time : column giving the time order (rows are sorted by it; default: row order).
    id : column naming the series of a panel (statistics per series; ``per_series`` in the plan).
    test_size : share of the latest rows treated as the test period (out-of-range checks).
    sample : rows in the random sample of the normality test.
    random_state : seed of that sample.
    validate : also check the choice on data (one regression target): the rows before the test
        period are split in time order, candidate plans (the rules' plan, min-max and
        standardization of the levels, the rules' plan differenced, seasonally differenced or
        without ``log1p``) train the same small LSTM on the earlier part and forecast the later
        ``validation`` share; the best replaces the rules' plan when it is clearly better
        (see :mod:`seqscale.advisor.validate`). Everything, the rules included, is then computed from
        the training rows only: the test period is never read. Scores: ``Advice.validation``.
    validation : share of the training rows used as the validation part.

    Returns
    -------
    Advice
        See the module docstring for the rules.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(50, 10, 500), "y": rng.normal(0, 5, 500)})
    >>> a = advise(df, target="y")
    >>> a["x"].method, a.plan["output_activation"]
    ('standard', 'linear')
    """
    started = _time.perf_counter()
    df = with_time(_as_frame(frame), time)
    task, activation = _resolve_task(task, output_activation)
    _check_options(test_size, sample)
    names = _check_column_names(df, time, id)
    targets = _target_list(df, target, time, id, names)
    _check_rows(len(df), test_size)
    if validate:
        train, kept = _training_rows(df, time, id, test_size, targets, task)
        with caller_rows(kept):  # errors name the caller's rows, not those of the cut
            return validated_advice(
                train, targets[0], output_activation=output_activation, time=time, id=id,
                validation=validation, sample=sample, random_state=random_state,
            )  # fmt: skip

    ctx = _context(df, task, activation, time, id, test_size, sample, random_state)
    results = _analyse(df, ctx, time, id, targets)
    settings = _settings(targets, ctx, time, id, sample, random_state)
    return Advice(
        results,
        plan=_plan(results, settings, ctx.order, ctx.n),
        settings=settings,
        n_rows=ctx.n,
        n_columns=df.shape[1],
        elapsed=_time.perf_counter() - started,
        frame=df,
    )
