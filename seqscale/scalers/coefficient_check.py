"""Validation of a coefficient record, field by field, into a fitted scaler.

Every problem raises :class:`~seqscale.errors.CoefficientFileError` with the file, the field (and
channel) at fault and what to do. Nothing else escapes, whatever the record holds.
"""

from __future__ import annotations

import math
import warnings
from operator import itemgetter
from typing import Any

import numpy as np

from seqscale.core import registry
from seqscale.core.stats import Moments
from seqscale.errors import CoefficientFileError, SeqscaleError
from seqscale.scalers import build as _build

__all__ = ["FORMAT", "FORMAT_VERSION", "build"]

FORMAT = "seqscale.coefficients"
FORMAT_VERSION = 2

_STATS = ("count", "mean", "m2", "min", "max")
_COEFS = ("shift", "scale", "offset")


_Fail = CoefficientFileError


def _need(cond: bool, source: str, message: str) -> None:
    if not cond:
        raise _Fail(f"{source}: {message}")


def _header(record: Any, source: str, classes: dict) -> type:
    _need(isinstance(record, dict), source, "the file must hold a JSON object.")
    _need(
        record.get("format") == FORMAT,
        source,
        f"field 'format' must be {FORMAT!r}; this is not a seqscale coefficient file.",
    )
    version = record.get("version")
    _need(
        isinstance(version, int) and not isinstance(version, bool) and version >= 1,
        source,
        "field 'version' must be a positive integer.",
    )
    _need(
        version <= FORMAT_VERSION,
        source,
        f"format version {version} was written by a newer seqscale (this one reads up to "
        f"{FORMAT_VERSION}); upgrade seqscale to load it.",
    )
    method = record.get("method")
    _need(
        isinstance(method, str) and method in classes,
        source,
        f"field 'method' is {method!r}; expected one of {sorted(classes)}.",
    )
    return classes[method]


def _number(value: Any, source: str, where: str, allow_null: bool = False) -> float:
    if value is None and allow_null:
        return math.nan
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    _need(ok and math.isfinite(value), source, f"{where} must be a finite number, got {value!r}.")
    return float(value)


_NUMBER_TYPES = {int, float}
_MISSING = object()


def _numbers(values: list | tuple, nullable: np.ndarray | None) -> np.ndarray | None:
    """``values`` as float64 when each is a finite JSON number (or null where ``nullable``)."""
    kinds = set(map(type, values))
    if not kinds <= _NUMBER_TYPES | ({type(None)} if nullable is not None else set()):
        return None
    try:
        out = np.array(values, dtype=np.float64)  # null -> NaN
    except (OverflowError, TypeError, ValueError):  # an integer beyond float64
        return None
    bad = ~np.isfinite(out)
    if bad.any():
        # every null became NaN: as many non-finite values as nulls means no NaN/Infinity token
        if nullable is None or int(bad.sum()) != values.count(None) or (bad & ~nullable).any():
            return None
    return out


def _uniform_fields(channels: list, allowed: set[str]) -> dict[str, tuple] | None:
    """Field -> the tuple of its values over all channels, when every channel holds the same
    fields (the files seqscale writes); None otherwise. Transposed in C: no loop per channel."""
    if len(set(map(len, channels))) != 1:
        return None
    names = tuple(channels[0])
    if not set(names) <= allowed:
        return None
    try:  # every channel has these fields and as many fields in all: exactly these
        rows = list(map(itemgetter(*names), channels))
    except KeyError:
        return None
    if len(names) == 1:
        return {names[0]: tuple(rows)}
    return dict(zip(names, zip(*rows)))


def _fast_columns(channels: list, keys: tuple[str, ...], weighted: bool = False) -> dict | None:
    """The channel columns parsed as arrays (no Python object per value); None when any value is
    odd, so that :func:`_slow_columns` finds it and names it."""
    if set(map(type, channels)) != {dict}:
        return None
    allowed = {"feature", "series", "domain", *keys}
    fields = _uniform_fields(channels, allowed)
    if fields is not None:
        return _uniform_columns(fields, len(channels), keys, weighted)
    if set().union(*map(dict.keys, channels)) - allowed:
        return None
    count = _count_column([ch.get("count") for ch in channels], weighted)
    if count is None:
        return None
    empty = count == 0
    out: dict[str, Any] = {"count": count}
    for k in keys:
        if k == "count":
            continue
        values = [ch.get(k, _MISSING) for ch in channels]
        nullable = empty
        if k in _COEFS:  # absent means "recompute"; an explicit null is refused by the slow path
            if any(v is None for v in values):
                return None
            nullable = np.fromiter((v is _MISSING for v in values), dtype=bool, count=len(values))
            values = [None if v is _MISSING else v for v in values]
        column = _numbers(values, nullable)
        if column is None:
            return None
        out[k] = column
    domains = [ch.get("domain", {}) for ch in channels]
    if set(map(type, domains)) != {dict}:
        return None
    out["feature"] = [ch.get("feature") for ch in channels]
    out["series"] = [ch.get("series") for ch in channels]
    out["domain"] = domains
    return out


def _count_column(values: list, weighted: bool) -> np.ndarray | None:
    """The channels' counts as an array, or None when one is not a count (negative, or not whole
    for an unweighted fit) and the slow path must name it."""
    count = _numbers(values, None)
    if count is None or (count < 0).any() or (not weighted and (count != np.floor(count)).any()):
        return None
    return count


def _uniform_columns(fields: dict, n: int, keys: tuple[str, ...], weighted: bool) -> dict | None:
    """:func:`_fast_columns` for channels that all hold the same fields (see _uniform_fields)."""
    if "count" not in fields:
        return None
    count = _count_column(fields["count"], weighted)
    if count is None:
        return None
    empty = count == 0
    out: dict[str, Any] = {"count": count}
    for k in keys:
        if k == "count":
            continue
        if k not in fields:
            if k not in _COEFS:  # a statistic is required; a coefficient absent is recomputed
                return None
            out[k] = np.full(n, np.nan)
            continue
        values = fields[k]
        nullable = None if k in _COEFS else empty  # an explicit null coefficient is refused
        column = _numbers(values, nullable)
        if column is None:
            return None
        out[k] = column
    domains = fields.get("domain")
    if domains is not None and set(map(type, domains)) != {dict}:
        return None
    out["feature"] = list(fields.get("feature", (None,) * n))
    out["series"] = list(fields.get("series", (None,) * n))
    out["domain"] = list(domains) if domains is not None else [{}] * n
    return out


def _columns(channels: Any, source: str, keys: tuple[str, ...], weighted: bool) -> dict[str, np.ndarray]:
    _need(
        isinstance(channels, list) and len(channels) > 0,
        source,
        "field 'channels' must be a non-empty list.",
    )
    fast = _fast_columns(channels, keys, weighted)
    return fast if fast is not None else _slow_columns(channels, source, keys, weighted)


def _slow_columns(
    channels: list, source: str, keys: tuple[str, ...], weighted: bool = False
) -> dict[str, np.ndarray]:
    """Channel by channel, raising for the first odd value with its channel and field."""
    out: dict[str, list] = {k: [] for k in keys}
    out["feature"], out["series"], out["domain"] = [], [], []
    allowed = {"feature", "series", "domain", *keys}
    for i, ch in enumerate(channels):
        _need(isinstance(ch, dict), source, f"channels[{i}] must be an object.")
        label = f"channels[{i}] (feature {ch.get('feature')!r})"
        unknown = set(ch) - allowed
        _need(
            not unknown,
            source,
            f"{label} has unknown field(s) {sorted(unknown)}; allowed: {sorted(allowed)}.",
        )
        count = _number(ch.get("count"), source, f"{label}.count")
        _need(
            count >= 0 and (weighted or count == int(count)),
            source,
            f"{label}.count must be a non-negative {'number' if weighted else 'integer'}.",
        )
        empty = count == 0
        for k in keys:
            if k in _COEFS and k not in ch:
                out[k].append(math.nan)  # recomputed from the statistics
                continue
            _need(k in ch, source, f"{label} has no field {k!r}.")
            out[k].append(_number(ch[k], source, f"{label}.{k}", allow_null=empty and k not in _COEFS))
        out["feature"].append(ch.get("feature"))
        out["series"].append(ch.get("series"))
        domain = ch.get("domain", {})
        _need(isinstance(domain, dict), source, f"{label}.domain must be an object.")
        out["domain"].append(domain)
    return {k: (np.asarray(v, dtype=np.float64) if k in keys else v) for k, v in out.items()}


def _check_values(cols: dict, source: str) -> None:
    def bad(mask: np.ndarray, field: str, rule: str) -> None:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            raise _Fail(f"{source}: channels[{i}] (feature {cols['feature'][i]!r}).{field} {rule}.")

    bad(cols["m2"] < 0, "m2", "must not be negative")
    with np.errstate(invalid="ignore"):
        bad(cols["min"] > cols["max"], "min", "is above max")
    scale = cols["scale"]
    given = ~np.isnan(scale)
    bad(
        given & ~(scale > 0),
        "scale",
        "must be positive (a zero, negative or NaN scale cannot be inverted)",
    )


def _grid(cols: dict, record: dict, source: str) -> tuple[list[str], list | None]:
    features = record.get("features")
    _need(
        isinstance(features, list) and features and all(isinstance(f, str) for f in features),
        source,
        "field 'features' must be a non-empty list of names.",
    )
    _need(len(set(features)) == len(features), source, "field 'features' has duplicate names.")
    layout = record.get("layout")
    _need(
        layout in ("per_feature", "per_series"),
        source,
        "field 'layout' must be 'per_feature' or 'per_series'.",
    )
    n = len(cols["count"])
    nf = len(features)
    _need(n % nf == 0, source, f"{n} channels do not fill a grid of {nf} features; lengths mismatch.")
    expected = features * (n // nf)
    _need(
        cols["feature"] == expected,
        source,
        "channel features do not follow field 'features' (each series lists every feature in order).",
    )
    if layout == "per_feature":
        _need(n == nf, source, f"{n} channels for {nf} features; mismatched lengths.")
        return features, None
    series = cols["series"][::nf]
    _need(
        set(map(type, series)) <= {str, int},  # exact types: a bool is refused
        source,
        "every channel of a per-series file needs a 'series' id (string or integer).",
    )
    _need(
        all(cols["series"][k::nf] == series for k in range(nf)),
        source,
        "channel series ids must repeat once per feature, in order.",
    )
    _need(len(set(series)) == len(series), source, "a series id appears twice.")
    return features, series


_TOP = {
    "format", "version", "seqscale_version", "method", "params", "layout", "features",
    "named_features", "n_samples_seen", "exact", "rank_error", "pooled", "channels", "weighted",
}  # fmt: skip


def _check_top(record: dict, source: str) -> None:
    """Unknown top-level fields and the type of each flag and count (never coerced)."""
    unknown = set(record) - _TOP
    _need(not unknown, source, f"unknown field(s) {sorted(unknown)}; a coefficient file has {sorted(_TOP)}.")
    for key in ("named_features", "exact"):
        value = record.get(key, True)
        _need(isinstance(value, bool), source, f"field {key!r} must be true or false, got {value!r}.")
    seen = record.get("n_samples_seen", 0)
    if record.get("weighted", False) is True:  # total weights, taken from the channels' counts
        numbers = seen if isinstance(seen, list) else [seen]
        ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in numbers)
        _need(ok, source, f"field 'n_samples_seen' must be non-negative weights, got {seen!r}.")
        return _check_text_and_errors(record, source)
    _need(
        isinstance(seen, int) and not isinstance(seen, bool) and seen >= 0,
        source,
        f"field 'n_samples_seen' must be a non-negative integer, got {seen!r}.",
    )
    _check_text_and_errors(record, source)


def _check_text_and_errors(record: dict, source: str) -> None:
    error = record.get("rank_error", 0.0)
    ok = isinstance(error, (int, float)) and not isinstance(error, bool) and 0 <= error <= 1
    _need(ok, source, f"field 'rank_error' must be a number between 0 and 1, got {error!r}.")
    version = record.get("seqscale_version", "")
    _need(isinstance(version, str), source, f"field 'seqscale_version' must be text, got {version!r}.")


def _check_param_types(est: Any, params: dict, source: str) -> None:
    """A flag parameter (default true/false) must be a JSON boolean, not "false" or 0."""
    defaults = est.get_params()
    for key, value in params.items():
        if isinstance(defaults[key], bool):
            _need(
                isinstance(value, bool),
                source,
                f"field 'params.{key}' must be true or false, got {value!r}.",
            )


def build(record: Any, source: str, classes: dict) -> Any:
    """Validated record -> fitted scaler (see :func:`seqscale.scalers.coefficients.from_dict`)."""
    cls = _header(record, source, classes)
    _check_top(record, source)
    kind = registry.get(cls.method).extra
    keys = _STATS + _COEFS + (() if kind is None else kind.record)
    weighted = record.get("weighted", False)
    _need(isinstance(weighted, bool), source, "field 'weighted' must be true or false.")
    cols = _columns(record.get("channels"), source, keys, weighted)
    _check_values(cols, source)
    features, series = _grid(cols, record, source)
    est = _estimator(cls, record, source, cols, features, series)
    _compare(est, cols, source)
    return est


def _estimator(cls: type, record: dict, source: str, cols: dict, features: list, series: list | None) -> Any:
    params = record.get("params", {})
    _need(isinstance(params, dict), source, "field 'params' must be an object.")
    est = cls()
    unknown = set(params) - set(est.get_params())
    _need(not unknown, source, f"field 'params' has unknown parameter(s) {sorted(unknown)}.")
    _check_param_types(est, params, source)
    clean = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    _need(
        all(not isinstance(v, dict) for v in clean.values()),
        source,
        "field 'params' holds a nested object.",
    )
    est.set_params(**clean)
    est.set_params(**_domain_params(cls.method, cols, features, series, source))
    try:
        _build.check_params(est)
    except SeqscaleError as err:
        raise _Fail(f"{source}: field 'params': {err}") from None
    nf = len(features)
    shape = (nf,) if series is None else (len(series), nf)
    stats = Moments.from_arrays(**{k: cols[k].reshape(shape) for k in _STATS})
    seen = None
    if not record.get("weighted", False):  # weighted: the total weights, from the channels' counts
        seen = record.get("n_samples_seen", int(stats.count.sum() // max(nf, 1)))
        seen = int(_number(seen, source, "field 'n_samples_seen'"))
        most = int(stats.count.max()) if series is None else int(stats.count.sum(axis=0).max())
        _need(
            seen >= most,
            source,
            f"field 'n_samples_seen' is {seen} but a feature counts {most} values; it must be at least that.",
        )
    kind = registry.get(cls.method).extra
    extra = None
    if kind is not None:
        stored = {k: cols[k].reshape(shape) for k in kind.record}
        extra = stored, _pooled_extra(record, source, nf, stored, kind.record)
    names = features if record.get("named_features", True) else None
    try:
        return _build.from_stored(est, stats, names=names, series=series, n_rows=seen, extra=extra)
    except SeqscaleError as err:
        raise _Fail(f"{source}: the statistics cannot give coefficients: {err}") from None


def _pooled_extra(record: dict, source: str, nf: int, per_series: dict, names: tuple[str, ...]) -> dict:
    """The extra statistic of all series pooled (stored for per-series files), else per feature."""
    if "pooled" not in record:
        if per_series[names[0]].ndim == 1:
            return per_series
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return {k: np.nanmedian(v, axis=0) for k, v in per_series.items()}
    pooled = record["pooled"]
    _need(
        isinstance(pooled, dict) and set(pooled) == set(names),
        source,
        f"field 'pooled' must hold {list(names)}.",
    )
    out = {}
    for key in names:
        values = pooled[key]
        _need(
            isinstance(values, list) and len(values) == nf,
            source,
            f"field 'pooled.{key}' needs {nf} numbers.",
        )
        out[key] = np.array([_number(v, source, f"pooled.{key}", allow_null=True) for v in values])
    return out


def _domain_params(method: str, cols: dict, features: list, series: list | None, source: str) -> dict:
    keys = registry.get(method).domain_keys
    entries = {}
    for i, dom in enumerate(cols["domain"] if any(cols["domain"]) else ()):
        if not dom:
            continue
        extra = set(dom) - set(keys)
        _need(
            not extra,
            source,
            f"channels[{i}].domain has unknown key(s) {sorted(extra)}; allowed: {list(keys)}.",
        )
        if dom:
            vals = {
                k: _number(dom.get(k), source, f"channels[{i}].domain.{k}", allow_null=True) for k in keys
            }
            entries[i] = vals
    if not entries:
        return {}
    nf = len(features)

    def value(i: int) -> Any:
        v = entries[i]
        if method == "minmax":
            return tuple(None if math.isnan(v[k]) else v[k] for k in keys)
        return v

    if method == "minmax":
        per = {}
        for i in entries:
            key = features[i % nf]
            per.setdefault(None if series is None else series[i // nf], {})[key] = value(i)
        return {"bounds": per[None] if series is None else per}
    out = {}
    for k in keys:
        per = {}
        for i, v in entries.items():
            if not math.isnan(v[k]):
                per.setdefault(None if series is None else series[i // nf], {})[features[i % nf]] = v[k]
        if per:
            out[k] = per[None] if series is None else per
    return out


def _compare(est: Any, cols: dict, source: str) -> None:
    for field in _COEFS:
        stored = cols[field]
        computed = getattr(est.affine_, field).reshape(-1)
        given = ~np.isnan(stored)
        tol = 1e-9 * np.maximum(np.abs(computed), np.abs(stored)) + 1e-300
        off = given & ~(np.abs(stored - computed) <= tol)
        if off.any():
            i = int(np.flatnonzero(off)[0])
            raise _Fail(
                f"{source}: channels[{i}] (feature {cols['feature'][i]!r}).{field} is {stored[i]!r} but "
                f"its statistics and domain give {computed[i]!r}. Edit the statistics (min, max, "
                "mean, m2...) or the channel's 'domain' instead — the coefficients follow from them "
                "— or delete the coefficient fields to have them recomputed."
            )
