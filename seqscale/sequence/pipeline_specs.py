"""Column specs for :class:`~seqscale.sequence.pipeline.SequencePipeline`: defaults, target rules, scalers.

A *spec* is one entry of a plan file's ``columns`` (see ``docs/ARCHITECTURE.md``). This module
fills in the defaults for columns the user did not describe, decides the target's treatment from
the output activation (and refuses inconsistent explicit choices with a
:class:`~seqscale.errors.ParameterError` that says why and what to do), and builds the scaler a
spec asks for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from seqscale.core import registry
from seqscale.errors import InputTypeError, ParameterError
from seqscale.frames.time_columns import looks_like_time
from seqscale.scalers.estimators import SCALERS, StandardScaler
from seqscale.sequence.encode import _normalize as plain
from seqscale.sequence.encode import _sorted

__all__ = [
    "ACTIVATIONS",
    "METHODS",
    "ROLES",
    "TASKS",
    "check_task",
    "make_scaler",
    "resolve_columns",
    "target_spec",
]

ROLES = ("input", "target", "categorical", "ignore")
METHODS = registry.plan_methods()
TASKS = ("regression", "binary", "multiclass")
ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "softmax")
TASK_ACTIVATIONS = {
    "regression": ("linear", "sigmoid", "tanh", "relu"),
    "binary": ("sigmoid", "softmax"),
    "multiclass": ("softmax",),
}
#: Output range of each bounded activation (None: unbounded side).
ACTIVATION_RANGE = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, None)}
NORMAL_SKEW, NORMAL_KURT = 0.5, 1.0
_SCALED_DEFAULTS = {"log": False, "difference": None, "bounds": None}


def check_task(task: Any, activation: Any) -> None:
    """Refuse an unknown task or activation, or a pair that cannot work together.

    Examples
    --------
    >>> check_task("regression", "softmax")
    Traceback (most recent call last):
    ...
    seqscale.errors.ParameterError: output_activation='softmax' does not fit task='regression': ...
    """
    if task not in TASKS:
        raise ParameterError(f"task={task!r} is not one of {TASKS}.")
    if activation not in ACTIVATIONS:
        raise ParameterError(f"output_activation={activation!r} is not one of {ACTIVATIONS}.")
    if activation in TASK_ACTIVATIONS[task]:
        return
    why = {
        "regression": "a softmax outputs class probabilities that sum to 1, which cannot "
        "represent a real-valued target; use 'linear' (or 'sigmoid'/'tanh' with a minmax target), "
        "or task='multiclass' if the target is a class label",
        "binary": f"a {activation} output is not a class probability in [0, 1]; use 'sigmoid' "
        "(one 0/1 output) or 'softmax' (one-hot over the two classes)",
        "multiclass": f"a {activation} output is not one probability distribution over the "
        "classes; use 'softmax' (the target is one-hot encoded)",
    }[task]
    raise ParameterError(f"output_activation={activation!r} does not fit task={task!r}: {why}.")


# ------------------------------------------------------------------------------------------ specs
def _normalize(name: str, spec: Any) -> dict:
    """Fill the defaults of one user-given spec (role, method, log, difference, bounds)."""
    if not isinstance(spec, dict):
        raise ParameterError(f"columns[{name!r}] must be a dict such as {{'role': 'input'}}; got {spec!r}.")
    out = dict(spec)
    role = out.setdefault("role", "input")
    if role not in ROLES:
        raise ParameterError(f"columns[{name!r}]['role']={role!r} is not one of {ROLES}.")
    if role in ("input", "target"):
        for key, value in _SCALED_DEFAULTS.items():
            out.setdefault(key, value)
        if role == "input":
            out.setdefault("method", "minmax")
        method = out.get("method")
        if method is not None and method not in METHODS:
            raise ParameterError(f"columns[{name!r}]['method']={method!r} is not one of {METHODS}.")
    if role == "categorical":
        out.setdefault("handle_unknown", "ignore")
    return out


def _default(series: pd.Series) -> dict:
    """Unlisted column: numeric -> input by minmax ("if in doubt, normalize"), else categorical."""
    numeric = pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
    if numeric:
        return {"role": "input", "method": "minmax", **_SCALED_DEFAULTS}
    if looks_like_time(series):
        raise ParameterError(
            f"column {series.name!r} holds dates, which are never one-hot encoded: pass "
            f"time={series.name!r} (--time {series.name} on the command line) if it orders the "
            "rows, or give it {'role': 'ignore'}."
        )
    return {"role": "categorical", "handle_unknown": "ignore"}


def resolve_columns(
    frame: pd.DataFrame, columns: Any, target: Any, time: Any, id: Any
) -> tuple[dict[str, dict], list[str]]:
    """Every used column's spec (frame order) and the target names.

    ``target`` (a name or list of names) marks columns as targets; so does ``"role": "target"``.
    """
    given = {} if columns is None else columns
    if not isinstance(given, dict):
        raise ParameterError(f"columns must be a dict {{name: spec}}; got {type(given).__name__}.")
    specs = {str(k): _normalize(str(k), v) for k, v in given.items()}
    for key in (time, id):
        if key is not None and key in specs:
            raise ParameterError(f"columns[{key!r}]: the time and id columns are never features; remove it.")
    targets = _targets(specs, target)
    for t in targets:
        specs.setdefault(t, {"role": "target", **_SCALED_DEFAULTS, "method": None})
    missing = [c for c, s in specs.items() if s["role"] != "ignore" and c not in frame.columns]
    if missing:
        raise ParameterError(f"columns {missing} are described but missing from the data.")
    out = {}
    for col in frame.columns:
        name = str(col)
        if name in (time, id):
            continue
        spec = specs.get(name) or _default(frame[col])
        if spec["role"] != "ignore":
            out[name] = spec
    return out, targets


def _targets(specs: dict, target: Any) -> list[str]:
    named = [] if target is None else ([target] if isinstance(target, str) else [str(t) for t in target])
    marked = [c for c, s in specs.items() if s["role"] == "target"]
    for t in named:
        if t in specs and specs[t]["role"] != "target":
            raise ParameterError(
                f"target {t!r} is described with role {specs[t]['role']!r}; give it role 'target' "
                "or pick another target."
            )
    targets = named + [t for t in marked if t not in named]
    if not targets:
        raise ParameterError(
            "no target: name the column to predict with target='y' (or give it "
            "{'role': 'target'} in columns)."
        )
    return targets


# ------------------------------------------------------------------------------------------ target
def target_spec(
    name: str, spec: dict, values: pd.Series, task: str, activation: str, groups: Any = None
) -> dict:
    """Resolve the target's treatment from the output activation, or refuse an inconsistent one.

    Returns the spec with ``method`` (and ``feature_range``) filled in; classification targets get
    ``classes`` and ``encode`` (``"onehot"`` for softmax, ``"label"`` for labels other than 0/1).
    """
    check_task(task, activation)
    if task != "regression":
        return _classification_spec(name, spec, values, task, activation)
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        raise InputTypeError(
            f"target {name!r} is not numeric (dtype {values.dtype}); for class labels use "
            "task='binary' (sigmoid) or task='multiclass' (softmax)."
        )
    out = dict(spec)
    if activation == "linear":
        if out.get("method") is None:
            out["method"] = "standard" if _roughly_normal(values, groups) else "minmax"
        if out["method"] == "minmax":
            out.setdefault("feature_range", [0, 1])
        return out
    return _bounded_spec(name, out, values, activation)


def _bounded_spec(name: str, out: dict, values: pd.Series, activation: str) -> dict:
    """Target of a bounded output (sigmoid, tanh, relu): minmax into the activation's range."""
    lo, hi = ACTIVATION_RANGE[activation]
    method = out.get("method")
    finite = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    if method is None:
        plain = activation == "sigmoid" and finite.size and np.isin(finite, (0.0, 1.0)).all()
        if plain and not out["log"] and out["difference"] is None:
            out["method"] = "none"  # a 0/1 target already matches a sigmoid
            return out
        out["method"] = "minmax"
    method = out["method"]
    where = f"target {name!r}"
    output = registry.METHODS[method].output if method in registry.METHODS else "none"
    if output is None:
        raise ParameterError(
            f"{where}: method {method!r} gives values below 0 and above 1 (unbounded), which a "
            f"{activation} output ({_range_text(lo, hi)}) can never produce; use method 'minmax' "
            f"(feature_range within {_range_text(lo, hi)}) or output_activation='linear'."
        )
    if isinstance(output, tuple) and (output[0] < lo or (hi is not None and output[1] > hi)):
        raise ParameterError(
            f"{where}: method {method!r} maps into [{output[0]:g}, {output[1]:g}] but a {activation} "
            f"output covers {_range_text(lo, hi)}; use method 'minmax' or output_activation='tanh'."
        )
    if output == "feature_range":
        default = [lo, 1.0 if hi is None else hi]
        a, b = (float(v) for v in out.setdefault("feature_range", default))
        if a < lo or (hi is not None and b > hi):
            raise ParameterError(
                f"{where}: feature_range [{a}, {b}] reaches outside the {activation} output range "
                f"{_range_text(lo, hi)}; use feature_range {default}."
            )
    if method == "none" and finite.size and not out["log"] and out["difference"] is None:
        if finite.min() < lo or (hi is not None and finite.max() > hi):
            raise ParameterError(
                f"{where}: method 'none' keeps values in [{finite.min():g}, {finite.max():g}], "
                f"outside the {activation} output range {_range_text(lo, hi)}; use method 'minmax'."
            )
    return out


def _range_text(lo: float, hi: float | None) -> str:
    return f"({lo:g}, {'inf' if hi is None else format(hi, 'g')})"


def _classification_spec(name: str, spec: dict, values: pd.Series, task: str, activation: str) -> dict:
    where = f"target {name!r}"
    out = dict(spec)
    if out.get("method") not in (None, "none") or out.get("log") or out.get("difference"):
        raise ParameterError(
            f"{where}: a {task} target holds class labels; it cannot be scaled, logged or "
            "differenced (remove 'method', 'log' and 'difference' from its spec)."
        )
    classes = out.get("classes") or _classes(values)
    if values.isna().any():
        raise ParameterError(f"{where} has missing labels in the training data; fill or drop those rows.")
    if task == "binary" and len(classes) != 2:
        raise ParameterError(
            f"{where} has {len(classes)} distinct values ({classes[:10]}); a sigmoid/binary "
            "target needs exactly two. Use task='multiclass' with a softmax output, or "
            "task='regression' if the values are amounts."
        )
    if len(classes) < 2:
        raise ParameterError(f"{where} has a single class {classes}; a classifier needs at least two.")
    out.update(method="none", log=False, difference=None, bounds=None, classes=classes)
    if activation == "softmax":
        out["encode"] = "onehot"
    else:
        zero_one = classes == [0, 1] and not any(isinstance(c, bool) for c in classes)
        out["encode"] = None if zero_one else "label"
    return out


def _classes(values: pd.Series) -> list:
    uniques = {plain(v) for v in pd.unique(values.dropna())}
    return _sorted(list(uniques))


def _roughly_normal(values: pd.Series, groups: Any) -> bool:
    """|skewness| < 0.5 and |excess kurtosis| < 1 (per series standardized when ``groups``)."""
    x = pd.to_numeric(values, errors="coerce").astype(float)
    if groups is not None:
        by = x.groupby(np.asarray(groups), sort=False)
        x = (x - by.transform("mean")) / by.transform("std", ddof=0).replace(0.0, np.nan)
    v = x.dropna().to_numpy()
    if v.size < 8 or v.std() == 0:
        return False
    z = (v - v.mean()) / v.std()
    skew, kurt = float(np.mean(z**3)), float(np.mean(z**4) - 3.0)
    return abs(skew) < NORMAL_SKEW and abs(kurt) < NORMAL_KURT


# ------------------------------------------------------------------------------------------ scalers
def make_scaler(spec: dict) -> Any:
    """The unfitted scaler a spec asks for.

    Method ``"none"`` gets the identity (``StandardScaler(mean=0, std=1)``): it changes no value
    but records the training statistics, so that ``check`` can judge the column like any other.

    ``bounds`` are domain knowledge: ``[low, high]`` for minmax (and maxabs: divide by the larger
    absolute end), ``{"mean": m, "std": s}`` for standard.

    Examples
    --------
    >>> make_scaler({"method": "minmax", "bounds": [0, 100]}).bounds
    (0.0, 100.0)
    """
    method, bounds = spec.get("method"), spec.get("bounds")
    if method == "none":
        return StandardScaler(mean=0.0, std=1.0)
    if method not in registry.METHODS:
        raise ParameterError(f"method={method!r} is not one of {METHODS}.")
    declared = registry.METHODS[method]
    params = {}
    if "feature_range" in declared.plan_params:
        params["feature_range"] = tuple(float(v) for v in (spec.get("feature_range") or (0, 1)))
    if bounds is not None and declared.bounds_params is not None:
        params.update(declared.bounds_params(bounds))
    return SCALERS[method](**params)


def plan_entry(spec: dict) -> dict:
    """A spec as it goes into a plan file (internal keys removed, JSON-friendly values)."""
    out = {k: v for k, v in spec.items() if not k.startswith("_")}
    for key in ("feature_range", "bounds"):
        if isinstance(out.get(key), tuple):
            out[key] = list(out[key])
    if out.get("role") in ("input", "target") and out.get("encode") is None:
        out.pop("encode", None)
    if out.get("classes") is None:
        out.pop("classes", None)
    return out
