"""One JSON file for a fitted :class:`~seqscale.sequence.pipeline.SequencePipeline` (no pickle).

The file holds the plan (validated like any plan file) and each step's own record: every scaler's
coefficient record, every encoder's and difference's ``to_dict()``, the per-series features, the
training cutoff. On load every part is validated and cross-checked against the plan; anything
wrong raises :class:`~seqscale.errors.CoefficientFileError` naming the field.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import pandas as pd

from seqscale.errors import CoefficientFileError, SeqscaleError
from seqscale.scalers import build
from seqscale.scalers.coefficients import from_dict as scaler_from_dict
from seqscale.sequence import pipeline_specs as specs
from seqscale.sequence.difference import Difference
from seqscale.sequence.encode import OneHotEncoder
from seqscale.sequence.pipeline_target import label_encoder
from seqscale.sequence.plan import validate_plan
from seqscale.util.atomic import atomic_write
from seqscale.util.jsonfile import read_json
from seqscale.util.version import __version__

__all__ = ["FORMAT", "VERSION", "from_dict", "load", "save", "to_dict"]

FORMAT = "seqscale.pipeline"
VERSION = 1


class _FieldError(Exception):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where, self.message = where, message


# ------------------------------------------------------------------------------------ writing
def _json_value(value: Any) -> Any:
    """A JSON value for a time, number or date (a tagged dict keeps its kind)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "isoformat"):
        return {"timestamp": pd.Timestamp(value).isoformat()}
    if isinstance(value, (int, float, str)) or value is None:
        return value
    raise CoefficientFileError(f"cannot store {value!r} ({type(value).__name__}) in a pipeline file.")


def _read_value(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        if set(value) != {"timestamp"} or not isinstance(value["timestamp"], str):
            raise _FieldError(where, 'must be a number, a text, null or {"timestamp": "..."}')
        try:
            return pd.Timestamp(value["timestamp"])
        except (ValueError, TypeError) as err:
            raise _FieldError(where, f"is not a valid timestamp ({err})") from None
    if isinstance(value, (int, float, str)) or value is None:
        return value
    raise _FieldError(where, f"has an invalid value {value!r}")


def _test_start(start: Any) -> Any:
    if isinstance(start, dict):
        return {"by_series": [[_json_value(k), _json_value(v)] for k, v in start.items()]}
    return _json_value(start)


def to_dict(pipe: Any) -> dict:
    """The pipeline file's content (see the module docstring)."""
    pipe._require_fitted()
    plan = json.loads(json.dumps(pipe.to_plan(), allow_nan=False, default=_default))
    return {
        "format": FORMAT,
        "version": VERSION,
        "seqscale_version": __version__,
        "plan": plan,
        "params": {
            "test_start": _test_start(pipe.test_start),
            "allow_leakage": bool(pipe.allow_leakage),
        },
        "state": {
            "span": int(pipe.span_),
            "feature_names_out": [str(n) for n in pipe.feature_names_out_],
            "target_names_out": list(pipe.target_names_out_),
            "scalers": {c: (None if s is None else s.to_dict()) for c, s in pipe.scalers_.items()},
            "encoders": {c: e.to_dict() for c, e in pipe.encoders_.items()},
            "differences": {c: d.to_dict() for c, d in pipe.differences_.items()},
            "series_features": getattr(pipe, "series_table_", None),
            "cutoff": _json_value(pipe.cutoff_),
            "n_rows_seen": int(pipe.n_rows_seen_),
            "plan_digest": plan_digest(plan),
        },
    }


def plan_digest(plan: dict) -> str:
    """SHA-256 of the plan as fitted, its free-text ``reason`` fields left out.

    Every step's fitted state follows from the plan (a column's log, lags, method, window,
    roles...), so the embedded plan is sealed by this digest: an edit other than a reason is
    refused on load instead of silently changing what the fitted steps mean.
    """
    import hashlib

    columns = plan.get("columns")
    if isinstance(columns, dict):
        columns = {
            k: {f: v for f, v in s.items() if f != "reason"} if isinstance(s, dict) else s
            for k, s in columns.items()
        }
        plan = {**plan, "columns": columns}
    text = json.dumps(plan, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def save(pipe: Any, path: str | os.PathLike[str]) -> None:
    """Write the fitted pipeline as indented JSON, atomically (validated before writing)."""
    record = to_dict(pipe)
    text = json.dumps(record, indent=1, allow_nan=False, default=_default)
    from_dict(json.loads(text), type(pipe), source="pipeline to save")  # never write a file we cannot read
    with atomic_write(path) as handle:
        handle.write(text + "\n")


# ------------------------------------------------------------------------------------ reading
def load(path: str | os.PathLike[str], cls: type) -> Any:
    """Read and validate a pipeline file into a ``cls`` (a
    :class:`~seqscale.sequence.pipeline.SequencePipeline`); CoefficientFileError for anything wrong."""
    try:
        where = os.fspath(path)
    except TypeError:
        raise CoefficientFileError(f"path must be a file path, got {type(path).__name__}.") from None
    return from_dict(read_json(where, "pipeline"), cls, source=where)


def from_dict(record: Any, cls: type, source: str = "pipeline") -> Any:
    """Rebuild a fitted ``cls`` pipeline from its record, validating every field."""
    try:
        return _build(record, cls, source)
    except _FieldError as err:
        raise CoefficientFileError(f"{source}: field {err.where!r}: {err.message}") from None
    except CoefficientFileError:
        raise
    except Exception as err:  # a hand-edited file must only ever give a file error
        raise CoefficientFileError(
            f"{source}: malformed pipeline file ({type(err).__name__}: {err})"
        ) from None


def _need(ok: bool, where: str, message: str) -> None:
    if not ok:
        raise _FieldError(where, message)


def _sub(record: dict, key: str, kind: type, where: str = "") -> Any:
    path = f"{where}.{key}" if where else key
    _need(key in record, path, "is missing")
    _need(isinstance(record[key], kind), path, f"must be a {kind.__name__}")
    return record[key]


def _part(where: str, read: Any, record: Any) -> Any:
    """Read one step's own record; its errors name the field of the pipeline file."""
    try:
        return read(record)
    except SeqscaleError as err:
        raise _FieldError(where, str(err)) from None


def _build(record: Any, cls: type, source: str) -> Any:
    _need(isinstance(record, dict), "record", "must be a JSON object")
    _need(record.get("format") == FORMAT, "format", f"must be {FORMAT!r}")
    version = record.get("version")
    _need(
        version == VERSION and not isinstance(version, bool),
        "version",
        f"unknown version {version!r} (this seqscale reads {VERSION}); upgrade seqscale",
    )
    raw_plan = _sub(record, "plan", dict)
    plan = validate_plan(raw_plan, source=f"{source}: plan")
    params = _sub(record, "params", dict)
    allow = params.get("allow_leakage", False)
    _need(isinstance(allow, bool), "params.allow_leakage", "must be true or false")
    pipe = cls.from_plan(plan, test_start=_read_start(params.get("test_start")), allow_leakage=allow)
    state = _sub(record, "state", dict)
    _restore(pipe, plan, state, source)
    _need(
        "plan_digest" in state,
        "state.plan_digest",
        "is missing: the file was written by an earlier seqscale (or the field was removed), so "
        "the embedded plan cannot be checked against the fitted steps; fit the pipeline again",
    )
    _need(
        state.get("plan_digest") == plan_digest(raw_plan),
        "plan",
        "differs from the plan these steps were fitted with (state.plan_digest); every fitted "
        "step depends on it, so edit the plan file itself and fit again (only 'reason' texts "
        "may be edited here)",
    )
    return pipe


def _read_start(value: Any) -> Any:
    if isinstance(value, dict) and "by_series" in value:
        pairs = value["by_series"]
        _need(
            isinstance(pairs, list) and all(isinstance(p, list) and len(p) == 2 for p in pairs),
            "params.test_start.by_series",
            "must be a list of [series, start] pairs",
        )
        return {_read_value(k, "params.test_start"): _read_value(v, "params.test_start") for k, v in pairs}
    return _read_value(value, "params.test_start")


def _restore(pipe: Any, plan: dict, state: dict, source: str) -> None:
    pipe.targets_ = list(plan["target"])
    pipe.target_kind_ = plan["task"]
    pipe.specs_ = {c: dict(s) for c, s in plan["columns"].items() if s["role"] != "ignore"}
    for t in pipe.targets_:
        if pipe.target_kind_ == "regression":
            _need(
                pipe.specs_[t].get("encode") is None,
                f"plan.columns.{t}.encode",
                "a regression target is not encoded",
            )
        else:
            _need(
                bool(pipe.specs_[t].get("classes")),
                f"plan.columns.{t}.classes",
                "a classification target needs its classes",
            )
    if pipe.target_kind_ != "regression":
        _need(len(pipe.targets_) == 1, "plan.target", "a classification pipeline has one target")
    pipe.scalers_ = _scalers(pipe, specs, _sub(state, "scalers", dict, "state"), source)
    pipe.encoders_ = _encoders(pipe, _sub(state, "encoders", dict, "state"))
    pipe.differences_ = _differences(pipe, _sub(state, "differences", dict, "state"))
    pipe.span_ = max((d.span for d in pipe.differences_.values()), default=0)
    _need(state.get("span") == pipe.span_, "state.span", f"must be {pipe.span_} (largest lag * order)")
    t = pipe.targets_[0]
    if pipe.target_kind_ != "regression" and pipe.specs_[t].get("encode") == "onehot":
        pipe.target_encoder_ = label_encoder(t, pipe.specs_[t]["classes"])
    if plan["series_features"]:
        pipe.series_table_ = _series_table(state.get("series_features"))
    pipe.cutoff_ = _read_value(state.get("cutoff"), "state.cutoff")
    rows = state.get("n_rows_seen")
    _need(
        isinstance(rows, int) and not isinstance(rows, bool) and rows > 0,
        "state.n_rows_seen",
        "must be a positive integer",
    )
    pipe.n_rows_seen_ = rows
    names = pipe._feature_names()
    _need(
        state.get("feature_names_out") == names,
        "state.feature_names_out",
        f"does not match the steps (expected {names[:20]})",
    )
    pipe.feature_names_out_ = np.asarray(names, dtype=object)
    pipe.n_features_out_ = len(names)
    pipe.target_names_out_ = pipe._target_names()
    _need(
        state.get("target_names_out") == pipe.target_names_out_,
        "state.target_names_out",
        f"does not match the target (expected {pipe.target_names_out_})",
    )


def _scalers(pipe: Any, specs: Any, records: dict, source: str) -> dict:
    scaled = pipe.scaled_columns()
    extra = sorted(set(records) - set(scaled))
    _need(
        not extra,
        f"state.scalers.{extra[0] if extra else ''}",
        "is not a scaled column of the plan",
    )
    out = {}
    for col, spec in scaled.items():
        where = f"state.scalers.{col}"
        _need(col in records, where, "is missing")
        expected = specs.make_scaler(spec)
        if spec.get("method") == "none" and records[col] is None:  # written before "none" kept statistics
            out[col] = None
            continue
        _need(isinstance(records[col], dict), where, "must be a coefficient record")
        scaler = scaler_from_dict(records[col], source=f"{source}: {where}")
        _need(
            scaler.method == expected.method,
            f"{where}.method",
            f"is {scaler.method!r} but the plan asks for {spec['method']!r}",
        )
        _need(build.fitted_feature_names(scaler) == [col], f"{where}.features", f"must be [{col!r}]")
        if spec.get("method") == "none":
            affine = build.fitted_table(scaler)
            identity = np.all(affine.scale == 1) and not np.any(affine.shift)
            _need(
                bool(identity and not np.any(affine.offset)),
                where,
                'must be the identity (method "none")',
            )
        _need(
            build.is_grouped(scaler) == bool(pipe.per_series),
            f"{where}.layout",
            "must be per_series" if pipe.per_series else "must be per_feature",
        )
        out[col] = scaler
    return out


def _encoders(pipe: Any, records: dict) -> dict:
    wanted = [c for c, s in pipe.specs_.items() if s["role"] == "categorical"]
    _need(
        sorted(records) == sorted(wanted),
        "state.encoders",
        f"must hold exactly the columns {wanted}",
    )
    out = {}
    for col in wanted:
        enc = _part(f"state.encoders.{col}", OneHotEncoder.from_dict, records[col])
        _need(enc._names() == [col], f"state.encoders.{col}.feature_names_in", f"must be [{col!r}]")
        handle = pipe.specs_[col].get("handle_unknown", "ignore")
        _need(
            enc.handle_unknown == handle,
            f"state.encoders.{col}.params.handle_unknown",
            f"must match the plan ({handle!r})",
        )
        out[col] = enc
    return out


def _differences(pipe: Any, records: dict) -> dict:
    wanted = {c: s["difference"] for c, s in pipe.scaled_columns().items() if s["difference"]}
    _need(
        sorted(records) == sorted(wanted),
        "state.differences",
        f"must hold exactly the columns {sorted(wanted)}",
    )
    out = {}
    for col, d in wanted.items():
        diff = _part(f"state.differences.{col}", Difference.from_dict, records[col])
        _need(
            (diff.lag, diff.order) == (d["lag"], d["order"]),
            f"state.differences.{col}.params",
            f"must match the plan (lag {d['lag']}, order {d['order']})",
        )
        out[col] = diff
    return out


def _series_table(table: Any) -> dict:
    where = "state.series_features"
    _need(isinstance(table, dict), where, "must be an object (the plan asks for series features)")
    for key in ("columns", "names", "series", "values"):
        _need(isinstance(table.get(key), list), f"{where}.{key}", "must be a list")
    values = np.asarray(table["values"], dtype=np.float64)
    ok = values.ndim == 2 and values.shape == (len(table["series"]), len(table["names"]))
    _need(
        ok and bool(np.isfinite(values).all()),
        f"{where}.values",
        "must be one row of finite numbers per series, one per name",
    )
    _need(len(table["names"]) == 2 * len(table["columns"]), f"{where}.names", "must be two per column")
    _need(
        len(set(map(repr, table["series"]))) == len(table["series"]),
        f"{where}.series",
        "repeats a series",
    )
    return {k: table[k] for k in ("columns", "names", "series", "values")}
