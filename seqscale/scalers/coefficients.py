"""Coefficient files: a small, versioned, human-readable JSON record of a fitted scaler.

One channel per feature (or per (series, feature)) holds the statistics seen and the resulting
coefficients, so a person can open the file, find ``"temp"`` and type domain bounds into its
``"domain"`` (or correct a ``"min"``). On load the statistics and domain values are the source of
truth: the coefficients are recomputed from them and compared with the stored ones, and anything
invalid is refused with a :class:`~seqscale.errors.CoefficientFileError` naming the field. Files
are written atomically. No pickle.

Bump ``FORMAT_VERSION`` when a field changes meaning; older files keep loading, newer ones are
refused with a message asking to upgrade seqscale.

Versions: 1, the first; 2 adds ``"weighted"``: when true (a fit with ``sample_weight``), each
channel's ``"count"`` and the file's ``"n_samples_seen"`` (a list when features differ) are total
weights (any non-negative number) instead of counts of rows; loading takes ``n_samples_seen_``
from the channels' counts. A version-1 file is read as ``"weighted": false``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from seqscale.core import domain as _domain
from seqscale.core import registry
from seqscale.errors import CoefficientFileError, SeqscaleError
from seqscale.scalers.coefficient_check import FORMAT, FORMAT_VERSION, build
from seqscale.scalers.registry import SCALERS
from seqscale.util.atomic import atomic_write
from seqscale.util.jsonfile import read_json
from seqscale.util.version import __version__

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "coefficient_table",
    "dumps",
    "from_dict",
    "load",
    "save",
    "to_dict",
]

_STATS = ("count", "mean", "m2", "min", "max")
_COEFS = ("shift", "scale", "offset")


def _classes() -> dict[str, type]:
    return SCALERS


def _native(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _grid(est: Any) -> tuple[list[str], list[Any] | None]:
    names = est._feature_names_list() or [f"x{i}" for i in range(est.n_features_in_)]
    series = [_native(s) for s in est.series_] if est._grouped else None
    return names, series


def _domain_arrays(est: Any) -> dict[str, np.ndarray]:
    names = est._feature_names_list()
    series = est.series_ if est._grouped else None
    shape = est.affine_.scale.shape
    out = {}
    for param, keys in registry.get(est.method).domain.items():
        width = len(keys)
        dom = _domain.resolve(
            getattr(est, param),
            names=names,
            n_features=est.n_features_in_,
            series=series,
            width=width,
            what=param,
        )
        if dom is None:
            continue
        for i, key in enumerate(keys):
            out[key] = np.broadcast_to(dom[..., i], shape)
    return out


def is_weighted(est: Any) -> bool:
    """Whether a fitted scaler saw sample weights (``n_samples_seen_`` is then a float weight)."""
    return np.asarray(est.n_samples_seen_).dtype.kind == "f"


def to_dict(est: Any) -> dict:
    """The coefficient record of a fitted scaler (see the module docstring)."""
    est._require_fitted()
    weighted = is_weighted(est)
    names, series = _grid(est)
    table = est.series_stats_ if est._grouped else est.stats_
    fields = {k: v.reshape(-1) for k, v in table.as_dict().items()}
    fields.update({k: v.reshape(-1) for k, v in est._extra_table(est._grouped).items()})
    affine = est.affine_
    fields.update({f: getattr(affine, f).reshape(-1) for f in _COEFS})
    domain = {k: v.reshape(-1) for k, v in _domain_arrays(est).items()}
    channels = _channels(fields, domain, names, series, weighted)
    params = {
        k: _native_param(v) for k, v in est.get_params().items() if k not in registry.get(est.method).domain
    }
    extra = getattr(est, "_extra", None)
    pooled = {}
    if registry.get(est.method).extra is not None and est._grouped:
        pooled = {
            "pooled": {k: [_native(v) for v in vals.tolist()] for k, vals in est._extra_table(False).items()}
        }
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "seqscale_version": _version(),
        "method": est.method,
        "params": params,
        "layout": "per_series" if est._grouped else "per_feature",
        "features": names,
        "named_features": hasattr(est, "feature_names_in_"),
        "weighted": weighted,
        "n_samples_seen": np.asarray(est.n_samples_seen_).tolist() if weighted else int(est._n_rows),
        "exact": True if extra is None else extra.exact,
        "rank_error": 0.0 if extra is None else extra.rank_error,
        **pooled,
        "channels": channels,
    }


def _column(values: np.ndarray) -> list:
    """A float column as JSON values: NaN and infinities become null."""
    out = values.tolist()
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        out[i] = None
    return out


def _channels(fields: dict, domain: dict, names: list, series: list | None, weighted: bool) -> list[dict]:
    """One dict per channel (series-major), built column-wise: no Python loop per value."""
    n = len(fields["count"])
    keys = ["feature"] + (["series"] if series is not None else []) + list(fields)
    columns: list[Any] = [names * (n // len(names))]
    if series is not None:
        columns.append([s for s in series for _ in names])
    for key, values in fields.items():
        columns.append(
            values.astype(np.int64).tolist() if key == "count" and not weighted else _column(values)
        )
    channels = [dict(zip(keys, row)) for row in zip(*columns)]
    fixed = np.zeros(n, dtype=bool)
    for values in domain.values():
        fixed |= ~np.isnan(values)
    for i in np.flatnonzero(fixed).tolist():
        channels[i]["domain"] = {k: float(v[i]) for k, v in domain.items() if not math.isnan(v[i])}
    return channels


def _native_param(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_native(v) for v in value]
    return _native(value)


def _version() -> str:
    return __version__


def save(est: Any, path: str | os.PathLike[str]) -> None:
    """Write ``est``'s coefficients to ``path`` as indented JSON, atomically."""
    with atomic_write(path) as handle:
        handle.write(dumps(to_dict(est)))


def dumps(record: dict) -> str:
    """JSON text with one line per channel: short enough to read, easy to edit by hand."""
    head = {k: v for k, v in record.items() if k != "channels"}  # "pooled" stays in the header
    lines = list(map(json.JSONEncoder(allow_nan=False).encode, record["channels"]))
    text = json.dumps(head, indent=1, allow_nan=False)[:-2]
    return text + ',\n "channels": [\n  ' + ",\n  ".join(lines) + "\n ]\n}\n"


def load(path: str | os.PathLike[str]) -> Any:
    """Read a coefficient file and return the fitted scaler it holds (:func:`seqscale.load` also
    reads pipeline files).

    Raises
    ------
    CoefficientFileError
        When the file is missing, not JSON, truncated, of a newer format version, or holds an
        invalid field (the message names it).
    """
    where = os.fspath(path)
    record = read_json(where, "coefficient")
    return from_dict(record, source=where)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector: a parsed record (a million channel objects for a large
    file) holds no cycles, yet each collection would walk all of it while the columns are built."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def from_dict(record: Any, source: str = "coefficients") -> Any:
    """Rebuild a fitted scaler from a coefficient record, validating every field."""
    try:
        with _no_cycle_collection():
            return build(record, source, _classes())
    except CoefficientFileError:
        raise
    except SeqscaleError as err:
        raise CoefficientFileError(f"{source}: {err}") from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError) as err:
        raise CoefficientFileError(
            f"{source}: invalid coefficient record ({type(err).__name__}: {err})."
        ) from None


def coefficient_table(est: Any) -> Any:
    """Tidy DataFrame: per channel the statistics seen and the resulting coefficients."""
    import pandas as pd

    record = to_dict(est)
    frame = pd.DataFrame(record["channels"])
    if "domain" in frame:
        domain = pd.DataFrame([d if isinstance(d, dict) else {} for d in frame.pop("domain")])
        frame = frame.join(domain.add_prefix("domain_"))
    frame["std"] = np.sqrt(frame["m2"] / frame["count"].where(frame["count"] > 0))
    if not est._grouped and not is_weighted(est):
        frame.insert(2, "nan_count", _nan_counts(est))
    keys = ["series", "feature"] if est._grouped else ["feature"]
    ordered = keys + [c for c in frame.columns if c not in keys]
    return frame[ordered].set_index(keys)


def _nan_counts(est: Any) -> np.ndarray:
    return np.asarray(est._n_rows - est.stats_.count, dtype=np.int64)
