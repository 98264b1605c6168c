"""The decision rules behind :func:`seqscale.advise.advise` and the text that explains them.

Pure functions on column statistics (see the rules in the :mod:`seqscale.advise` docstring):
column kinds, the scaling chain for inputs, the treatment of regression and classification
targets, and the reason/warning sentences. Nothing here runs a statistical test or builds a
result object.
"""

from __future__ import annotations

import pandas as pd

from seqscale._time import looks_like_time
from seqscale.errors import ParameterError

# thresholds (see the seqscale.advise docstring)
ALPHA = 0.05
MAX_INTEGER_LEVELS = 12
UNIT_LOW, UNIT_HIGH = -0.05, 1.05
SMALL_MEAN, STD_LOW, STD_HIGH = 0.5, 0.5, 2.0
NORMAL_SKEW, NORMAL_KURT = 0.5, 1.0
HEAVY_KURT, HEAVY_OUTLIERS = 3.0, 0.05
LOG_SKEW = 1.0
BOUNDED_KURT = -0.8
TREND_R2 = 0.5
OUTSIDE_WARN, OUTSIDE_SWITCH = 0.01, 0.02
ADF_MAXLAG = 12
HIGH_CARDINALITY = 50
MAX_CLASSES = 1000

_INCONCLUSIVE = "inconclusive (neither test rejects)"


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
    """constant, binary, categorical (few integer levels), count or continuous."""
    if st["distinct"] <= 1:
        return "constant"
    if st["distinct"] == 2 or is_bool:
        return "binary"
    if st["integer"] and st["distinct"] <= MAX_INTEGER_LEVELS:
        return "categorical"
    if st["integer"] and st["nonnegative"]:
        return "count"
    return "continuous"


def text_kind(distinct: int) -> str:
    return "constant" if distinct <= 1 else "binary" if distinct == 2 else "categorical"


def is_heavy(st: dict) -> bool:
    """Tukey outlier share above 5 % or |excess kurtosis| above 3."""
    return st["outlier_share"] > HEAVY_OUTLIERS or abs(st["kurtosis"]) > HEAVY_KURT


def takes_log(st: dict) -> bool:
    """Positive and right-skewed, and not already within about [0, 1] (rule 2)."""
    in_unit = st["min"] >= UNIT_LOW and st["max"] <= UNIT_HIGH
    return bool(st["nonnegative"] and st["skewness"] > LOG_SKEW and not in_unit)


def needs_difference(sn: dict) -> bool:
    return bool(sn.get("unit_root") or sn.get("trending"))


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
    return f"skew {st['skewness']:.2f}, excess kurtosis {st['kurtosis']:.2f}"


def normal_text(nm: dict) -> str:
    if nm.get("test") is None:
        return shape_text(nm)
    name = "D'Agostino" if nm["test"] == "dagostino" else "Shapiro"
    return (
        f"{shape_text(nm)}; {name} {fmt_p(nm['p_value'])}, n={nm['n_used']:,}; "
        "decided by effect size, p-value supporting"
    )


def trend_text(sn: dict) -> str:
    base = f"ADF {fmt_p(sn['adf_p'])}, KPSS {fmt_p(sn['kpss_p'], kpss=True)}, trend R²={sn['trend_r2']:.2f}"
    if sn.get("sampled"):
        base += f", {sn['n_used']:,} strided points"
    return base


def log_reason(st: dict) -> str:
    return f"positive and right-skewed (min {st['min']:.3g}, skew {st['skewness']:.2f}) → log, then scale"


def difference_reason(sn: dict) -> str:
    why = {
        (True, False): "unit root",
        (False, True): "strong trend",
        (True, True): "unit root and strong trend",
    }[(bool(sn["unit_root"]), bool(sn["trending"]))]
    return f"{why} ({trend_text(sn)}) → difference first"


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


def skewed_target_warning(st: dict) -> str:
    return (
        f"target is positive and right-skewed (skew {st['skewness']:.2f}); consider "
        '"log": true in the plan (predictions are then made in log space)'
    )


def range_warnings(
    sn: dict, tail: dict, eff_share: float, diff: bool, test_size: float, method: str | None = "minmax"
) -> list[str]:
    """Test-period values outside the training range, and an inconclusive stationarity test."""
    share = tail["share"]
    train_range = f"[{tail['train_min']:.4g}, {tail['train_max']:.4g}]"
    out = []
    if diff:
        after = f" (after differencing: {eff_share:.1%})" if eff_share == eff_share else ""
        out.append(
            f"trending: the training min/max will be exceeded later: {share:.1%} of the test "
            f"period (last {test_size:.0%} of rows) lies outside the training range "
            f"{train_range}{after}; difference first (recommended), or standardize, or set "
            "domain bounds"
        )
    elif share == share and share > OUTSIDE_WARN:
        effect = (
            "minmax-scaled values will leave the feature range there"
            if method == "minmax"
            else "the network will see values beyond any it was trained on there"
        )
        out.append(
            f"{share:.1%} of the test period lies outside the training range {train_range}; "
            f"{effect}: consider domain bounds"
        )
    if sn.get("verdict", "") == _INCONCLUSIVE and not diff:
        out.append(f"stationarity {sn['verdict']} ({trend_text(sn)}); not differenced")
    return out


# ------------------------------------------------------------------------------------------------
# Method choice for inputs
# ------------------------------------------------------------------------------------------------
def choose_method(st: dict, nm: dict, tail_share: float, *, transformed: str) -> tuple[str, str]:
    """The scaling chain (rules 1, 3-6) on the values ``st`` describes: ``(method, reason)``."""
    what = f"{transformed} values " if transformed else ""
    heavy = is_heavy(st)
    if st["min"] >= UNIT_LOW and st["max"] <= UNIT_HIGH:
        return "none", (
            f"{what}already within [0, 1] (min {st['min']:.3g}, max {st['max']:.3g}) → no scaling needed"
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


def integer_codes_reason(st: dict) -> str:
    levels = ", ".join(f"{v:g}" for v in st["values"] or [])
    return (
        f"integer codes with {st['distinct']} levels ({levels}; ≤ {MAX_INTEGER_LEVELS} "
        "distinct integers) → one-hot"
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
    activation: str, nm: dict, est: dict, share: float, *, diff: bool, kind: str
) -> tuple[str, list | None, str, list[str]]:
    """``(method, feature_range, reason, warnings)`` of a regression target."""
    warns: list[str] = []
    if activation in ("sigmoid", "relu", "tanh"):
        feature_range = [-1, 1] if activation == "tanh" else [0, 1]
        method, core = "minmax", _bounded_output_reason(activation, feature_range)
        if share == share and share > 0 and not diff:
            warns.append(
                f"{share:.1%} of the test period lies outside the training range: a "
                f"{activation} output cannot reach those values"
            )
    elif nm["roughly_normal"]:
        method, feature_range = "standard", None
        core = f"regression target, linear output: roughly normal ({normal_text(nm)}) → standardize"
    else:
        method, feature_range = "minmax", [0, 1]
        core = (
            f"regression target, linear output: not roughly normal ({normal_text(nm)}) "
            "→ normalize (minmax [0, 1])"
        )
    warns.extend(_target_shape_warnings(est, kind))
    return method, feature_range, core, warns


def _bounded_output_reason(activation: str, feature_range: list) -> str:
    lo, hi = feature_range
    top = hi if activation != "relu" else "∞"
    return f"regression target with a {activation} output (range {lo}...{top}) → minmax to [{lo}, {hi}]"


def _target_shape_warnings(est: dict, kind: str) -> list[str]:
    out = []
    if is_heavy(est):
        out.append(
            f"target has heavy tails ({est['outlier_share']:.1%} outliers, excess kurtosis "
            f"{est['kurtosis']:.1f}): consider a robust loss (Huber) or method robust"
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
