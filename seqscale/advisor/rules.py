"""The decision rules behind :func:`seqscale.advisor.api.advise` and the text that explains them.

Pure functions on column statistics (see the rules in the :mod:`seqscale.advisor.api` docstring):
column kinds, the scaling chain for inputs, the treatment of regression and classification
targets, and the reason/warning sentences. Nothing here runs a statistical test or builds a
result object.
"""

from __future__ import annotations

import pandas as pd

from seqscale.errors import ParameterError
from seqscale.frames.time_columns import looks_like_time

# thresholds (see the seqscale.advisor.api docstring)
ALPHA = 0.05
MAX_INTEGER_LEVELS = 12
UNIT_LOW, UNIT_HIGH = -0.05, 1.05
SMALL_MEAN, STD_LOW, STD_HIGH = 0.5, 0.5, 2.0
NORMAL_SKEW, NORMAL_KURT = 0.5, 1.0
HEAVY_KURT, HEAVY_OUTLIERS = 3.0, 0.05
LOG_SKEW = 1.0
BOUNDED_KURT = -0.8
TREND_R2 = 0.6
ADF_UNIT_P = 0.10
KPSS_ACCEPT_P = 0.10
UNIT_SPREAD = 0.5
SEASONAL_GAIN = 0.8
DIFF_VARIANCE = 0.5  # weak evidence: difference when that leaves at most half the variance
OUTSIDE_WARN, OUTSIDE_SWITCH = 0.01, 0.02
ADF_MAXLAG = 12
HIGH_CARDINALITY = 50
MAX_CLASSES = 1000


# ------------------------------------------------------------------------------------------------
# Kinds
# ------------------------------------------------------------------------------------------------
def dtype_kind(series: pd.Series) -> str:
    """'numeric', 'text' (categorical candidates), 'datetime' or 'other'."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.PeriodDtype):
        return "datetime"
    if isinstance(dtype, pd.CategoricalDtype):
        return "text"
    if pd.api.types.is_complex_dtype(dtype):
        return "other"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    return "datetime" if looks_like_time(series) else "text"  # text dates are never categories


def numeric_kind(st: dict, is_bool: bool) -> str:
    """constant, binary, levels (few integer levels: decided by evidence), count or continuous."""
    if st["distinct"] <= 1:
        return "constant"
    if st["distinct"] == 2 or is_bool:
        return "binary"
    if st["integer"] and st["distinct"] <= MAX_INTEGER_LEVELS:
        return "levels"
    if st["integer"] and st["nonnegative"]:
        return "count"
    return "continuous"


def text_kind(distinct: int) -> str:
    return "constant" if distinct <= 1 else "binary" if distinct == 2 else "categorical"


def is_heavy(st: dict) -> bool:
    """Tukey outlier share above 5 % or |excess kurtosis| above 3."""
    return st["outlier_share"] > HEAVY_OUTLIERS or abs(st["kurtosis"]) > HEAVY_KURT


def takes_log(st: dict) -> bool:
    """Positive and right-skewed, and above 1 somewhere (``log1p`` is nearly the identity on
    values within [0, 1], so it would not reduce their skew) (rule 2)."""
    return bool(st["nonnegative"] and st["skewness"] > LOG_SKEW and st["max"] > UNIT_HIGH)


def in_unit_interval(st: dict) -> bool:
    """Within about [0, 1] *and* spanning at least half of it (a real spread).

    Interest rates of 0.098-0.211 or log returns of +-0.04 lie inside [0, 1] but use a sliver of
    it: they still need scaling.
    """
    inside = st["min"] >= UNIT_LOW and st["max"] <= UNIT_HIGH
    return bool(inside and st["max"] - st["min"] >= UNIT_SPREAD)


# ------------------------------------------------------------------------------------------------
# Reason text
# ------------------------------------------------------------------------------------------------
def fmt_p(p: float | None, kpss: bool = False) -> str:
    """``"p=0.31"``, ``"p<0.001"``; KPSS p-values are table-bounded: ``"p≤0.01"``, ``"p≥0.10"``."""
    if p is None:
        return "p n/a"
    if kpss and p <= 0.01:
        return "p≤0.01"
    if kpss and p >= 0.1:
        return "p≥0.10"
    if p < 0.001:
        return "p<0.001"
    return f"p={p:.2f}" if p >= 0.01 else f"p={p:.3f}"


def shape_text(st: dict) -> str:
    text = f"skew {st['skewness']:.2f}, excess kurtosis {st['kurtosis']:.2f}"
    if st.get("per_series"):
        text += f", medians over {st['per_series']} series after per-series scaling"
    return text


def normal_text(nm: dict) -> str:
    if nm.get("test") is None:
        return shape_text(nm)
    name = "D'Agostino" if nm["test"] == "dagostino" else "Shapiro"
    return (
        f"{shape_text(nm)}; {name} {fmt_p(nm['p_value'])}, n={nm['n_used']:,}; "
        "decided by effect size, p-value supporting"
    )


def trend_text(sn: dict) -> str:
    if "n_series_tested" in sn:
        base = (
            f"pooled over {sn['n_series_used']} of {sn['n_series_tested']} series tested: Fisher ADF "
            f"{fmt_p(sn['adf_p'])}, Hadri KPSS {fmt_p(sn['kpss_p'])}, median trend R²={sn['trend_r2']:.2f}"
        )
        if "series_share" in sn:
            base += f"; non-stationary in {sn['series_share']:.0%} of the series one by one"
        return base
    base = f"ADF {fmt_p(sn['adf_p'])}, KPSS {fmt_p(sn['kpss_p'], kpss=True)}, trend R²={sn['trend_r2']:.2f}"
    if sn.get("sampled"):
        base += f", {sn['n_used']:,} strided points"
    return base


def _persistence_text(sn: dict) -> str:
    after = f" after {sn['persistence_after']}" if sn.get("persistence_after") else ""
    return (
        f"a lag-1 difference leaves {sn['variance_left']:.0%} of the variance{after} "
        f"(lag-1 autocorrelation {sn['lag1_acf']:.2f})"
    )


def log_reason(st: dict) -> str:
    return f"positive and right-skewed (min {st['min']:.3g}, skew {st['skewness']:.2f}) → log, then scale"


def needs_difference(sn: dict) -> bool:
    return bool(sn.get("difference"))


def difference_reason(sn: dict, lag: int = 1) -> str:
    """Why the column is differenced (``lag``: 1 or the seasonal period)."""
    how = "difference first" if lag == 1 else f"seasonal difference (lag {lag}) first"
    if sn.get("evidence") == "weak":
        if sn.get("unit_root"):  # the tests agree; persistence does not back them by a margin
            lead = f"weak evidence: both tests point to a unit root ({trend_text(sn)}), but "
        else:
            why = "strong trend" if sn["trending"] else "persistent"
            lead = f"weak evidence: the tests do not agree with a margin ({trend_text(sn)}); {why}: "
        return (
            f"{lead}{_persistence_text(sn)} → {how}, since a missed unit root makes the network "
            "extrapolate and an extra difference only adds a little noise"
        )
    why = {
        (True, False): "unit root",
        (False, True): "strong trend",
        (True, True): "unit root and strong trend",
    }.get((bool(sn["unit_root"]), bool(sn["trending"])), "non-stationary")
    return f"{why} ({trend_text(sn)}; both tests agree) → {how}"


def levels_reason(sn: dict) -> str:
    """Why a column whose stationarity evidence is weak keeps its levels."""
    if sn.get("adf_p") is None and sn.get("kpss_p") is None:
        return f"not differenced: {sn.get('verdict', 'not tested')}"
    return (
        f"weak evidence: the tests do not agree with a margin ({trend_text(sn)}); "
        f"{_persistence_text(sn)}, so the levels are kept"
    )


def seasonal_reason(season: dict, gain: float | None) -> str:
    """The season found and whether its difference helps."""
    base = (
        f"season of {season['period']} steps ({season['source']}; autocorrelation "
        f"{season['acf']:.2f}, STL strength {season['strength']:.2f})"
    )
    if gain is None:
        return f"{base}: the input window covers it, no seasonal difference (the series is stationary)"
    if gain < SEASONAL_GAIN:
        return f"{base}: the seasonal difference leaves {gain:.0%} of the lag-1 difference's variance"
    return (
        f"{base}: the seasonal difference would leave {gain:.0%} of the lag-1 difference's variance, so lag 1"
    )


def transformed_label(log: bool, diff: bool) -> str:
    """How the values the scaler sees were derived ('' for the raw values)."""
    if diff:
        return "log1p + differenced" if log else "differenced"
    return "log1p" if log else ""


# ------------------------------------------------------------------------------------------------
# Warnings
# ------------------------------------------------------------------------------------------------
def common_warnings(st: dict) -> list[str]:
    out = []
    if st.get("nan_share"):
        out.append(f"{st['nan_share']:.1%} missing values: impute or drop them before windowing")
    if st.get("inf_count"):
        out.append(f"{st['inf_count']} infinite values (treated as missing here; scalers reject inf)")
    return out


def range_warnings(
    sn: dict, tail: dict, eff_share: float, diff: bool, test_size: float, method: str | None
) -> list[str]:
    """Test-period values outside the training range, and weak stationarity evidence."""
    share = tail["share"]
    train_range = f"[{tail['train_min']:.4g}, {tail['train_max']:.4g}]"
    out = []
    if diff and share == share and share > 0:
        after = f" (after differencing: {eff_share:.1%})" if eff_share == eff_share else ""
        out.append(
            f"non-stationary: the training min/max will be exceeded later: {share:.1%} of the test "
            f"period (last {test_size:.0%} of rows) lies outside the training range "
            f"{train_range}{after}; differencing (recommended) keeps the scaled changes in range"
        )
    elif not diff and share == share and share > OUTSIDE_WARN:
        out.append(_outside_warning(share, train_range, method))
    if sn.get("evidence") == "weak" and not diff and sn.get("verdict") == "stationary":
        out.append(
            f"weak evidence of stationarity ({trend_text(sn)}); not differenced because "
            f"{_persistence_text(sn)}: check forecasts near the edges of the training range"
        )
    return out


def _outside_warning(share: float, train_range: str, method: str | None) -> str:
    """Test values outside the training range of a column that is not differenced."""
    head = f"{share:.1%} of the test period lies outside the training range {train_range}"
    if method == "minmax" and share <= OUTSIDE_SWITCH:
        return (
            f"{head}: minmax kept because that is at most {OUTSIDE_SWITCH:.0%} (beyond it, "
            "standardize); scaled values will leave [0, 1] there, or set domain bounds"
        )
    if method == "minmax":
        return f"{head}: minmax-scaled values will leave the feature range there; consider domain bounds"
    return f"{head}: the network will see values beyond any it was trained on there; consider domain bounds"


# ------------------------------------------------------------------------------------------------
# Method choice for inputs
# ------------------------------------------------------------------------------------------------
def choose_method(st: dict, nm: dict, tail_share: float, *, transformed: str) -> tuple[str, str]:
    """The scaling chain (rules 1, 3-6) on the values ``st`` describes: ``(method, reason)``."""
    what = f"{transformed} values " if transformed else ""
    heavy = is_heavy(st)
    if in_unit_interval(st):
        return "none", (
            f"{what}already within [0, 1] with a real spread (min {st['min']:.3g}, max "
            f"{st['max']:.3g}) → no scaling needed"
        )
    if abs(st["mean"]) < SMALL_MEAN and STD_LOW < st["std"] < STD_HIGH and not heavy:
        return "none", (
            f"{what}already small and standardized-like (mean {st['mean']:.2f}, "
            f"std {st['std']:.2f}) → no scaling needed"
        )
    if heavy:
        return "robust", (
            f"{what}heavy-tailed ({st['outlier_share']:.1%} beyond the 1.5 IQR fences, "
            f"excess kurtosis {st['kurtosis']:.1f}) → robust scaling (median/IQR)"
        )
    if nm["roughly_normal"]:
        return "standard", f"{what}roughly normal ({normal_text(nm)}) → standardize"
    return _normalize_or_standardize(st, nm, tail_share, what)


def _normalize_or_standardize(st: dict, nm: dict, tail_share: float, what: str) -> tuple[str, str]:
    """Rule 6: minmax ("if in doubt, normalize") unless the test tail leaves the range."""
    if st["kurtosis"] <= BOUNDED_KURT:
        why = f"{what}flat/bounded (excess kurtosis {st['kurtosis']:.2f})"
    else:
        why = f"{what}not normal ({normal_text(nm)}) and not heavy-tailed"
    if tail_share == tail_share and tail_share > OUTSIDE_SWITCH:
        return "standard", (
            f"{why}, but {tail_share:.1%} of the test tail lies outside the training range, "
            "so standardize rather than normalize"
        )
    return "minmax", f"{why} → normalize (minmax; if in doubt, normalize)"


def binary_input(st: dict) -> tuple[str, str]:
    """``(method, reason)`` of a numeric two-valued input."""
    lo, hi = st["min"], st["max"]
    if lo >= -1 and hi <= 1:
        return "none", f"binary values {lo:g}/{hi:g} → passthrough (no scaling)"
    return "minmax", f"binary values {lo:g}/{hi:g} → minmax maps them to 0/1"


def _levels_text(st: dict) -> str:
    return ", ".join(f"{v:g}" for v in st["values"] or [])


def integer_codes_reason(st: dict, lag: int, share: float) -> str:
    """A small-integer column that cycles with time: a calendar/season code."""
    return (
        f"integer code with {st['distinct']} levels ({_levels_text(st)}) that cycles with time "
        f"({share:.0%} of rows equal the row {lag} steps earlier): a calendar/season code → "
        "one-hot; the alternative, scaling it as a number, would treat the levels as equally "
        f"spaced magnitudes (level {st['max']:g} as far above level {st['min']:g} as the codes say)"
    )


def integer_magnitude_reason(st: dict) -> str:
    """A small-integer column that does not cycle: an ordinal count, scaled as a number."""
    return (
        f"{st['distinct']} integer levels ({_levels_text(st)}) that do not cycle with time: an "
        f"ordinal count/magnitude, scaled as a number; one-hot ({st['distinct']} columns) is the "
        "alternative if the levels are unordered codes (set its role to categorical in the plan)"
    )


def text_input_warnings(st: dict, kind: str) -> list[str]:
    """Missing values, constant, high cardinality and identifier-like text columns."""
    distinct = st["distinct"]
    out = []
    if st["nan_share"]:
        out.append(f"{st['nan_share']:.1%} missing values (become their own all-zero one-hot row)")
    if kind == "constant":
        out.append("constant column carries no information: ignored")
        return out
    if distinct > HIGH_CARDINALITY:
        out.append(
            f"high cardinality ({distinct:,} levels): one-hot makes {distinct:,} columns; "
            "consider an embedding, grouping rare levels, or ignoring it"
        )
    if st["count"] and distinct > 0.5 * st["count"] and distinct > HIGH_CARDINALITY:
        out.append("almost every value is distinct: looks like an identifier (pass it as id=?)")
    return out


def text_input_reason(kind: str, distinct: int) -> str:
    if kind == "constant":
        return f"constant column ({distinct} distinct value) → ignore"
    if kind == "categorical":
        return f"text/category values with {distinct} levels → one-hot"
    return "two text values → one-hot (2 columns; a single 0/1 column would also do)"


# ------------------------------------------------------------------------------------------------
# Targets
# ------------------------------------------------------------------------------------------------
def regression_target(
    activation: str, est: dict, nm: dict, share: float, eff_share: float, *, label: str, diff: bool, kind: str
) -> tuple[str, list | None, str, list[str]]:
    """``(method, feature_range, reason, warnings)`` of a regression target.

    A linear output takes the inputs' scaling chain (:func:`choose_method`); a bounded output
    (sigmoid, relu, tanh) needs minmax to its range.
    """
    warns = _target_shape_warnings(est, kind, bounded=activation != "linear")
    if activation == "linear":
        method, core = choose_method(est, nm, eff_share, transformed=label)
        feature_range = [0, 1] if method == "minmax" else None
        return method, feature_range, f"regression target, linear output: {core}", warns
    feature_range = [-1, 1] if activation == "tanh" else [0, 1]
    if share == share and share > 0 and not diff:
        warns.append(
            f"{share:.1%} of the test period lies outside the training range: a "
            f"{activation} output cannot reach those values"
        )
    return "minmax", feature_range, _bounded_output_reason(activation, feature_range), warns


def _bounded_output_reason(activation: str, feature_range: list) -> str:
    lo, hi = feature_range
    top = hi if activation != "relu" else "∞"
    return f"regression target with a {activation} output (range {lo}...{top}) → minmax to [{lo}, {hi}]"


def _target_shape_warnings(est: dict, kind: str, *, bounded: bool) -> list[str]:
    """Heavy tails the chosen method cannot remove, and a two-valued regression target."""
    out = []
    if is_heavy(est):
        what = (
            "minmax to the bounded output's range is required, so most values sit in a narrow band"
            if bounded
            else "robust scaling keeps the bulk of the values spread"
        )
        out.append(
            f"target has heavy tails ({est['outlier_share']:.1%} outliers, excess kurtosis "
            f"{est['kurtosis']:.1f}): {what}; the MSE loss is still dominated by the extremes, "
            "so consider a Huber loss"
        )
    if kind == "binary":
        out.append("target has only two values: is this a task='binary' problem?")
    return out


def check_class_count(name: str, distinct: int, task: str) -> None:
    """Raise :class:`ParameterError` when ``distinct`` classes do not fit ``task``."""
    if distinct < 2:
        raise ParameterError(
            f"task={task!r} but target {name!r} has {distinct} distinct value(s); "
            "a classifier needs at least two classes"
        )
    if task == "binary" and distinct > 2:
        raise ParameterError(
            f"task='binary' but target {name!r} has {distinct} distinct values; "
            "use task='multiclass' (softmax) or task='regression'"
        )
    if distinct > MAX_CLASSES:
        raise ParameterError(
            f"target {name!r} has {distinct:,} distinct values, too many for classification; "
            "use task='regression'"
        )


def classification_target(
    task: str, activation: str, classes: list, distinct: int, *, numeric: bool
) -> tuple[str | None, str, list | None, str, list[str]]:
    """``(encode, method, feature_range, reason, warnings)`` of a classification target."""
    if task == "multiclass" or activation == "softmax":
        reason = (
            f"{task} target with {distinct} classes → softmax output, one-hot encoded "
            "(one output per class), no scaling"
        )
        warns = []
        if task == "multiclass" and distinct == 2:
            warns.append("only two classes: task='binary' with a sigmoid output is simpler")
        return "onehot", "none", None, reason, warns
    if numeric:
        return _numeric_binary_target(classes)
    return _text_binary_target(classes)


def _numeric_binary_target(classes: list) -> tuple[None, str, list | None, str, list[str]]:
    if set(classes) <= {0, 1}:
        reason = "binary target with values 0/1 → sigmoid output, passthrough (no scaling)"
        return None, "none", None, reason, []
    a, b = classes[0], classes[1]
    reason = (
        f"binary target with values {a}/{b} → minmax to [0, 1] maps {a}→0 and {b}→1 for the sigmoid output"
    )
    return None, "minmax", [0, 1], reason, []


def _text_binary_target(classes: list) -> tuple[str, str, None, str, list[str]]:
    a, b = classes[0], classes[1]
    reason = (
        f"binary target with labels {a!r}/{b!r}: must be encoded ({a!r}→0, {b!r}→1) for the sigmoid output"
    )
    warning = (
        f"target must be encoded to 0/1: {a!r}→0, {b!r}→1 "
        "(swap the classes list in the plan to change the positive class)"
    )
    return "label", "none", None, reason, [warning]


def non_integer_classes_warning(distinct: int) -> str:
    return f"target holds non-integer numbers ({distinct} distinct): is this a regression?"
