"""What a valid plan is: the format constants and the field-by-field checks.

:func:`check_plan` raises :class:`PlanError` naming the first offending field (a dotted path such
as ``columns.x.bounds``); :func:`seqscale.sequence.plan.validate_plan` turns that into the public
:class:`~seqscale.errors.CoefficientFileError`.
"""

from __future__ import annotations

import copy
import json
import math

from seqscale.core import registry

__all__ = [
    "ACTIVATIONS",
    "ENCODINGS",
    "METHODS",
    "OUT_MAX",
    "PLAN_FORMAT",
    "PLAN_VERSION",
    "ROLES",
    "TASKS",
    "TASK_ACTIVATIONS",
    "PlanError",
    "activation_problem",
    "check_plan",
    "check_scaled_entry",
]

PLAN_FORMAT = "seqscale.plan"
PLAN_VERSION = 1
ROLES = ("input", "target", "categorical", "ignore")
METHODS = registry.plan_methods()
TASKS = ("regression", "binary", "multiclass")
ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "softmax")
ENCODINGS = ("onehot", "label")

#: Output activations allowed per task (the first is the default).
TASK_ACTIVATIONS = {
    "regression": ("linear", "sigmoid", "tanh", "relu"),
    "binary": ("sigmoid", "softmax"),
    "multiclass": ("softmax",),
}

_TOP_KEYS = {
    "format",
    "version",
    "time",
    "id",
    "target",
    "task",
    "output_activation",
    "window",
    "per_series",
    "series_features",
    "columns",
    "notes",
}
_SCALED_KEYS = {
    "role",
    "log",
    "difference",
    "method",
    "bounds",
    "feature_range",
    "encode",
    "classes",
    "reason",
    "warnings",
}
_CATEGORICAL_KEYS = {"role", "handle_unknown", "reason", "warnings"}
_IGNORE_KEYS = {"role", "reason", "warnings"}
_MAX_DIFF_ORDER = 3
# a lag beyond any series length a machine holds; larger ones overflow pandas' C integers
_MAX_LAG = 2**31 - 1
#: The largest float32, the dtype of the tensors a pipeline returns: a domain value, an end of
#: ``feature_range`` and the scale the domain fixes (output units per input unit) stay within it,
#: and a scale stays above its reciprocal, so that no coefficient overflows the output.
OUT_MAX = 3.4028234663852886e38


# ------------------------------------------------------------------------------------------------
# Shared helpers
# ------------------------------------------------------------------------------------------------
def activation_problem(task: str, activation: str) -> str | None:
    """Why ``activation`` does not fit ``task`` (None when it does)."""
    if activation in TASK_ACTIVATIONS.get(task, ()):
        return None
    allowed = ", ".join(repr(a) for a in TASK_ACTIVATIONS.get(task, ()))
    return (
        f"output_activation={activation!r} is inconsistent with task={task!r}: "
        f"{_activation_why(task, activation)}; use one of {allowed}"
    )


def _activation_why(task: str, activation: str) -> str:
    if task == "regression":
        return (
            "softmax outputs a probability vector over classes that sums to 1, which cannot "
            "represent a real-valued target"
        )
    if task == "binary":
        return (
            f"{activation} outputs are not class probabilities in [0, 1] "
            "(tanh spans [-1, 1], linear/relu are unbounded)"
        )
    return (
        f"{activation} does not give one probability distribution over the classes "
        "(sigmoid scores each class independently, i.e. multi-label)"
    )


class PlanError(Exception):
    """A problem at ``where`` (a dotted field path) of a plan."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where, self.message = where, message


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_pair(value: object, where: str) -> list:
    if not isinstance(value, list) or len(value) != 2:
        raise PlanError(where, f"must be a list [low, high], got {value!r}")
    lo, hi = value
    if not (_is_number(lo) and _is_number(hi)):
        raise PlanError(where, f"must hold two finite numbers, got {value!r}")
    if not lo < hi:
        raise PlanError(where, f"low must be below high, got {value!r}")
    return [lo, hi]


def _check_text_list(value: object, where: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PlanError(where, "must be a list of strings")


def _check_extra_keys(entry: dict, allowed: set, where: str, message: str) -> None:
    extra = set(entry) - allowed
    if extra:
        raise PlanError(f"{where}.{sorted(extra)[0]}", message)


# ------------------------------------------------------------------------------------------------
# Scaled (input/target) column entries
# ------------------------------------------------------------------------------------------------
def _check_difference(diff: object, where: str) -> dict | None:
    if diff is None:
        return None
    if not isinstance(diff, dict) or set(diff) != {"lag", "order"}:
        raise PlanError(f"{where}.difference", f'must be null or {{"lag": int, "order": int}}, got {diff!r}')
    if not _is_int(diff["lag"]) or not 1 <= diff["lag"] <= _MAX_LAG:
        raise PlanError(
            f"{where}.difference.lag", f"must be an integer in 1..{_MAX_LAG:,}, got {diff['lag']!r}"
        )
    if not _is_int(diff["order"]) or not 1 <= diff["order"] <= _MAX_DIFF_ORDER:
        raise PlanError(
            f"{where}.difference.order",
            f"must be an integer in 1..{_MAX_DIFF_ORDER}, got {diff['order']!r}",
        )
    return {"lag": diff["lag"], "order": diff["order"]}


def _check_standard_bounds(bounds: object, where: str) -> None:
    if not isinstance(bounds, dict) or set(bounds) != {"mean", "std"}:
        raise PlanError(
            f"{where}.bounds",
            f'for method "standard" must be {{"mean": number, "std": number}}, got {bounds!r}',
        )
    if not _is_number(bounds["mean"]):
        raise PlanError(f"{where}.bounds.mean", f"must be a finite number, got {bounds['mean']!r}")
    if not _is_number(bounds["std"]) or bounds["std"] <= 0:
        raise PlanError(f"{where}.bounds.std", f"must be a finite number > 0, got {bounds['std']!r}")


def _check_bounds(bounds: object, method: str, where: str) -> None:
    if bounds is None:
        return
    kind = registry.METHODS[method].plan_bounds if method in registry.METHODS else None
    if kind == "pair":
        _check_pair(bounds, f"{where}.bounds")
        if registry.METHODS[method].bounds_params(bounds).get("max_abs", 1.0) == 0:
            raise PlanError(f"{where}.bounds", f"{method} bounds must not both be 0")
    elif kind == "mean_std":
        _check_standard_bounds(bounds, where)
    else:
        raise PlanError(f"{where}.bounds", f'must be null for method "{method}"')
    _check_values_fit_output(bounds, f"{where}.bounds")


def _check_feature_range(entry: dict, method: str, where: str) -> None:
    if "feature_range" not in entry or entry["feature_range"] is None:
        return
    if method not in registry.METHODS or "feature_range" not in registry.METHODS[method].plan_params:
        raise PlanError(f"{where}.feature_range", f'only applies to method "minmax", not "{method}"')
    _check_pair(entry["feature_range"], f"{where}.feature_range")
    hint = "a network's inputs and targets need a few units, e.g. [0, 1]"
    _check_values_fit_output(entry["feature_range"], f"{where}.feature_range", hint)


_IN_COLUMN_UNITS = "give it in the column's own units (after log/difference), or rescale the column first"


def _check_values_fit_output(values: list | dict, where: str, hint: str = _IN_COLUMN_UNITS) -> None:
    """Every domain value within float32's range (the dtype of a pipeline's tensors)."""
    items = values.items() if isinstance(values, dict) else enumerate(values)
    for key, value in items:
        if abs(value) > OUT_MAX:
            raise PlanError(
                f"{where}.{key}" if isinstance(values, dict) else where,
                f"{value!r} is beyond the float32 range (|value| <= {OUT_MAX:.4g}) of the tensors "
                f"the pipeline returns; {hint}",
            )


def _domain_scale(entry: dict, method: str) -> tuple[float, str] | None:
    """The scale (output units per input unit) the plan alone fixes, and the field that fixes it."""
    bounds = entry.get("bounds")
    if bounds is None or method not in registry.METHODS:
        return None
    params = registry.METHODS[method].bounds_params(bounds)
    if "std" in params:
        return 1.0 / params["std"], "bounds.std"
    if "max_abs" in params:
        return 1.0 / params["max_abs"], "bounds"
    low, high = params["bounds"]
    a, b = entry.get("feature_range") or (0.0, 1.0)
    return (float(b) - float(a)) / (high - low), "bounds"


def _check_domain_scale(entry: dict, method: str, where: str) -> None:
    """The scale the domain fixes is neither beyond float32 nor below its reciprocal."""
    fixed = _domain_scale(entry, method)
    if fixed is None:
        return
    scale, field = fixed
    if not 1.0 / OUT_MAX <= scale <= OUT_MAX:
        size = f"{scale:.4g}" if math.isfinite(scale) else "beyond float64"
        raise PlanError(
            f"{where}.{field}",
            f"fixes a scale (output units per unit of the column) of {size}, outside "
            f"[{1 / OUT_MAX:.4g}, {OUT_MAX:.4g}] (float32, the dtype of the tensors the pipeline "
            "returns), so typical values would overflow or vanish; give the spread in the "
            "column's own units (after log/difference), or rescale the column first",
        )


def _check_encode(entry: dict, out: dict, where: str) -> None:
    encode = entry.get("encode")
    if encode is None:
        return
    if entry["role"] != "target":
        raise PlanError(f"{where}.encode", "only target columns can be encoded")
    if encode not in ENCODINGS:
        raise PlanError(f"{where}.encode", f"must be null or one of {ENCODINGS}, got {encode!r}")
    if out["method"] != "none" or out["log"] or out["difference"] is not None:
        raise PlanError(f"{where}.encode", 'encoded targets need method "none", no log, no difference')


def _check_classes(classes: object, encode: object, where: str) -> None:
    if classes is None:
        return
    if not isinstance(classes, list) or not classes:
        raise PlanError(f"{where}.classes", "must be a non-empty list")
    for v in classes:
        if not (isinstance(v, str) or _is_number(v) or isinstance(v, bool)):
            raise PlanError(f"{where}.classes", f"holds an invalid class {v!r}")
    if len({json.dumps(v) for v in classes}) != len(classes):
        raise PlanError(f"{where}.classes", "lists a class twice")
    if encode == "label" and len(classes) != 2:
        raise PlanError(f"{where}.classes", "label encoding needs exactly two classes")


def _check_scaled(entry: dict, where: str) -> dict:
    _check_extra_keys(entry, _SCALED_KEYS, where, f"unknown key (allowed: {sorted(_SCALED_KEYS)})")
    out = dict(entry)
    method = entry.get("method")
    if method not in METHODS:
        raise PlanError(f"{where}.method", f"must be one of {METHODS}, got {method!r}")
    log = entry.get("log", False)
    if not isinstance(log, bool):
        raise PlanError(f"{where}.log", f"must be true or false, got {log!r}")
    out["log"] = log
    out["difference"] = _check_difference(entry.get("difference"), where)
    _check_bounds(entry.get("bounds"), method, where)
    out["bounds"] = entry.get("bounds")
    _check_feature_range(entry, method, where)
    _check_domain_scale(entry, method, where)
    _check_encode(entry, out, where)
    _check_classes(entry.get("classes"), entry.get("encode"), where)
    return out


def check_scaled_entry(name: str, entry: dict) -> dict:
    """Check the entry of scaled column ``name`` alone (its domain values included), as in a plan.

    A pipeline given ``columns=`` checks each column before fitting its scaler, so that domain
    values the output dtype cannot hold are named as plan fields, not met as overflows.
    """
    return _check_scaled(entry, f"columns.{name}")


# ------------------------------------------------------------------------------------------------
# Column entries
# ------------------------------------------------------------------------------------------------
def _check_categorical(entry: dict, where: str) -> dict:
    _check_extra_keys(
        entry,
        _CATEGORICAL_KEYS,
        where,
        f"unknown key for a categorical column (allowed: {sorted(_CATEGORICAL_KEYS)})",
    )
    handle = entry.get("handle_unknown", "ignore")
    if handle not in ("ignore", "error"):
        raise PlanError(f"{where}.handle_unknown", f'must be "ignore" or "error", got {handle!r}')
    return {**entry, "handle_unknown": handle}


def _check_entry(name: str, entry: object, plan: dict, targets: list) -> dict:
    where = f"columns.{name}"
    if name in (plan.get("time"), plan.get("id")):
        raise PlanError(where, "the time/id column must not be listed in columns")
    if not isinstance(entry, dict):
        raise PlanError(where, f"must be an object, got {type(entry).__name__}")
    role = entry.get("role")
    if role not in ROLES:
        raise PlanError(f"{where}.role", f"must be one of {ROLES}, got {role!r}")
    if "reason" in entry and not isinstance(entry["reason"], str):
        raise PlanError(f"{where}.reason", "must be text")
    if "warnings" in entry:
        _check_text_list(entry["warnings"], f"{where}.warnings")
    if role == "ignore":
        _check_extra_keys(entry, _IGNORE_KEYS, where, "unknown key for an ignored column")
        return dict(entry)
    if role == "categorical":
        return _check_categorical(entry, where)
    if role == "target" and name not in targets:
        raise PlanError(f"{where}.role", 'is "target" but the column is not in "target"')
    return _check_scaled(entry, where)


def _check_columns(plan: dict, targets: list) -> dict:
    columns = plan.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise PlanError("columns", "must be a non-empty object {name: entry}")
    return {name: _check_entry(name, entry, plan, targets) for name, entry in columns.items()}


def _check_target_entries(plan: dict, targets: list, columns: dict) -> None:
    for t in targets:
        if t not in columns:
            raise PlanError("target", f"names {t!r}, which is not in columns")
        if columns[t]["role"] != "target":
            raise PlanError(f"columns.{t}.role", 'must be "target" (it is listed in "target")')
    if plan["task"] == "multiclass":
        for t in targets:
            if columns[t].get("encode") is None:
                raise PlanError(f"columns.{t}.encode", 'a multiclass target needs "onehot"')
    if not any(e["role"] in ("input", "target", "categorical") for e in columns.values()):
        raise PlanError("columns", "no column is used (all ignored)")


# ------------------------------------------------------------------------------------------------
# Top-level fields
# ------------------------------------------------------------------------------------------------
def _check_header(plan: object) -> None:
    if not isinstance(plan, dict):
        raise PlanError("plan", f"must be a JSON object, got {type(plan).__name__}")
    extra = set(plan) - _TOP_KEYS
    if extra:
        raise PlanError(sorted(extra)[0], f"unknown key (allowed: {sorted(_TOP_KEYS)})")
    if plan.get("format") != PLAN_FORMAT:
        raise PlanError("format", f"must be {PLAN_FORMAT!r}, got {plan.get('format')!r}")
    version = plan.get("version")
    if not _is_int(version) or version != PLAN_VERSION:
        raise PlanError("version", f"unknown plan version {version!r} (this seqscale reads {PLAN_VERSION})")
    for key in ("time", "id"):
        if plan.get(key) is not None and not isinstance(plan[key], str):
            raise PlanError(key, f"must be null or a column name, got {plan[key]!r}")


def _check_task(plan: dict) -> None:
    task = plan.get("task")
    if task not in TASKS:
        raise PlanError("task", f"must be one of {TASKS}, got {task!r}")
    act = plan.get("output_activation")
    if act not in ACTIVATIONS:
        raise PlanError("output_activation", f"must be one of {ACTIVATIONS}, got {act!r}")
    problem = activation_problem(task, act)
    if problem:
        raise PlanError("output_activation", problem)


def _check_window(plan: dict) -> None:
    window = plan.get("window")
    if not isinstance(window, dict) or set(window) != {"n_in", "n_out"}:
        raise PlanError("window", f'must be {{"n_in": int, "n_out": int}}, got {window!r}')
    for key in ("n_in", "n_out"):
        if not _is_int(window[key]) or window[key] < 1:
            raise PlanError(f"window.{key}", f"must be an integer >= 1, got {window[key]!r}")


def _check_flags(plan: dict) -> None:
    for key in ("per_series", "series_features"):
        if not isinstance(plan.get(key), bool):
            raise PlanError(key, f"must be true or false, got {plan.get(key)!r}")
    for key in ("per_series", "series_features"):
        if plan[key] and plan.get("id") is None:
            raise PlanError(key, "is true but no id column is named")


def _check_targets(plan: dict) -> list:
    targets = plan.get("target")
    if isinstance(targets, str):
        raise PlanError("target", 'must be a list of column names, e.g. ["y"]')
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise PlanError("target", f"must be a list of column names, got {targets!r}")
    if len(set(targets)) != len(targets):
        raise PlanError("target", "lists a column twice")
    return targets


def check_plan(plan: object) -> dict:
    """A normalized deep copy of ``plan``; raises :class:`PlanError` at the first problem."""
    _check_header(plan)
    _check_task(plan)
    _check_window(plan)
    _check_flags(plan)
    targets = _check_targets(plan)
    if "notes" in plan and not isinstance(plan["notes"], (str, list)):
        raise PlanError("notes", "must be text or a list of text")
    columns = _check_columns(plan, targets)
    _check_target_entries(plan, targets, columns)
    return copy.deepcopy({**plan, "columns": columns})
