"""Input checks and per-row coefficient selection shared by every scaler method.

These helpers sit between the estimator shell (``_base``) and the pure kernels: they check
feature counts and names like scikit-learn (same messages), build the padding mask, pick the
coefficients of each row's series, and apply the out-of-range policy.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from seqscale.core.affine import Affine
from seqscale.core.kernels import int_presence
from seqscale.core.stats import Moments
from seqscale.errors import (
    FeatureMismatchError,
    InputError,
    OutOfRangeError,
    OutOfRangeWarning,
)
from seqscale.frames import layout as _layout
from seqscale.frames import panel
from seqscale.frames.segments import Segments, sorted_runs
from seqscale.frames.values import check_weights, raise_infinite

# Half the largest float64: a bound on the map's output under this is safe from rounding up past it.
_NEAR_FLOAT_MAX = float(np.finfo(np.float64).max) / 2

__all__ = [
    "group_moments",
    "may_leave_float64",
    "keep_mask",
    "prepare",
    "prepare_subset",
    "refuse_infinite",
    "check_weights",
    "row_weights",
    "select",
    "wrap",
]


def prepare(
    est: Any, X: Any, groups: Any, *, reset: bool, runs: bool = False
) -> tuple[np.ndarray, _layout.Layout, Any]:
    """Canonical rows, the layout to restore, and the series ids (or None).

    With ``runs=True``, per-row ids of rows sorted by series come back as
    :class:`~seqscale.frames.segments.Segments` (see :func:`~seqscale.frames.segments.sorted_runs`).
    """
    exclude: tuple[str, ...] = ()
    if isinstance(groups, str):
        if not _layout.is_dataframe(X) or groups not in X.columns:
            raise InputError(f"groups={groups!r} names no column of X; pass ids or an id column name.")
        exclude = (groups,)
    rows, layout = _layout.as_rows(X, exclude=exclude)
    ids = X[groups] if exclude else groups
    names = _layout.feature_names_of(_layout.drop_columns(X, exclude))
    check_names(est, names, reset)
    if not reset and rows.shape[1] != est.n_features_in_ and len(layout.shape) == 1:
        raise FeatureMismatchError(
            f"Expected 2D array, got 1D array instead: seqscale reads a 1D array as one series "
            f"(one feature), but {type(est).__name__} is expecting {est.n_features_in_} features. "
            "Reshape with X.reshape(1, -1) if it is a single sample."
        )
    if not reset and rows.shape[1] != est.n_features_in_:
        raise FeatureMismatchError(
            f"X has {rows.shape[1]} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input. Pass the same columns as at fit time"
            " (or use features=[...] to scale or invert only some of them)."
        )
    if runs and ids is not None and not isinstance(ids, Segments):
        ids = sorted_runs(ids, rows.shape[0], layout.shape) or ids
    return rows, layout, ids


def check_names(est: Any, names: np.ndarray | None, reset: bool) -> None:
    cls = type(est).__name__
    if reset:
        if names is not None:
            est.feature_names_in_ = names
        elif hasattr(est, "feature_names_in_"):
            del est.feature_names_in_
        return
    fitted = getattr(est, "feature_names_in_", None)
    if fitted is None and names is not None:
        warnings.warn(
            f"X has feature names, but {cls} was fitted without feature names",
            UserWarning,
            stacklevel=4,
        )
    elif fitted is not None and names is None:
        warnings.warn(
            f"X does not have valid feature names, but {cls} was fitted with feature names",
            UserWarning,
            stacklevel=4,
        )
    elif fitted is not None and (len(fitted) != len(names) or np.any(fitted != names)):
        unseen = [n for n in names if n not in set(fitted)]
        missing = [n for n in fitted if n not in set(names)]
        detail = f" Unseen at fit time: {unseen[:5]}." if unseen else ""
        detail += f" Seen at fit time, yet now missing: {missing[:5]}." if missing else ""
        detail += "" if unseen or missing else " Same names in a different order; reorder the columns."
        raise FeatureMismatchError(
            "The feature names should match those that were passed during fit." + detail
        )


def prepare_subset(X: Any, k: int, axis: int) -> tuple[np.ndarray, Any]:
    """Rows of ``k`` channels from predictions of any shape; returns (rows, restore function)."""
    frame_like = _layout.is_dataframe(X) or type(X).__module__.startswith("pandas")
    arr = np.asarray(X.to_numpy() if frame_like else X)
    if arr.dtype.kind not in "fiu":
        raise InputError(f"predictions must be numeric; got dtype {arr.dtype}.")
    given = arr.dtype
    arr = arr.astype(np.float32 if arr.dtype in (np.float16, np.float32) else np.float64, copy=False)
    if k == 1:
        rows, moved = arr.reshape(-1, 1), arr
    else:
        if arr.ndim == 0 or arr.shape[axis] != k:
            raise FeatureMismatchError(
                f"predictions of shape {arr.shape} have no axis {axis} of size {k} for the "
                f"{k} features asked for; put the features on the last axis or pass axis=."
            )
        moved = np.moveaxis(arr, axis, -1)
        rows = moved.reshape(-1, k)

    def restore(out_rows: np.ndarray) -> Any:
        out = out_rows.reshape(moved.shape)
        out = out if k == 1 else np.moveaxis(out, -1, axis)
        out = out.astype(np.float16) if given == np.float16 else out  # computed in float32
        if frame_like:
            return X.__class__(
                out,
                index=X.index,
                **({"columns": X.columns} if out.ndim == 2 else {"name": X.name}),
            )
        return out

    return rows, restore


def row_weights(sample_weight: Any, layout: _layout.Layout) -> np.ndarray | None:
    """One float64 weight per row of the canonical rows, or None when no weights were given.

    ``sample_weight`` holds one weight per sample: per row of a 1D/2D array or DataFrame, per
    sample of a 3D ``[samples, timesteps, features]`` array (shared by its timesteps), or one
    per ``[samples, timesteps]`` step; a number weights every sample alike. Weights must be
    finite and non-negative; 0 leaves a sample out.
    """
    if sample_weight is None:
        return None
    shape = layout.shape
    samples = shape[:1] if len(shape) < 3 else shape[:2]
    raw = sample_weight.to_numpy() if hasattr(sample_weight, "to_numpy") else sample_weight
    try:
        w = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"sample_weight must hold numbers; got {type(sample_weight).__name__}.") from None
    if w.ndim == 0:
        w = np.full(samples[0], float(w))
    if w.shape not in (samples[:1], samples):
        extra = f" or {samples} (one per timestep)" if len(samples) == 2 else ""
        raise InputError(
            f"sample_weight.shape == {w.shape}, expected {samples[:1]}{extra}: one weight per "
            "sample, in the order of the rows of X."
        )
    check_weights(w)
    if not (w > 0).any():
        raise InputError(
            "Sample weights must contain at least one non-zero number: every sample_weight is 0, "
            "so no sample is left to fit."
        )
    if len(shape) == 3 and w.ndim == 1:
        return np.repeat(w, shape[1])
    return w.reshape(-1)


def group_moments(
    rows: np.ndarray, ids: np.ndarray, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, Moments]:
    """``(codes, series ids, per-series statistics)`` of rows with one id per row.

    Compact integer ids are coded by their offset in their span, found in one min/max pass;
    which integers of the span do not occur is looked up only when the statistics have an
    empty series (an absent id, or a series whose values are all NaN or weigh 0). Many integer
    ids in random order skip the min/max pass: :func:`_over_sampled_span`.

    Examples
    --------
    >>> codes, series, stats = group_moments(np.array([[1.0], [2.0], [4.0]]), np.array([7, 9, 7]))
    >>> codes.tolist(), series.tolist(), stats.mean.ravel().tolist()
    ([0, 1, 0], [7, 9], [2.5, 2.0])
    """
    found = _over_sampled_span(rows, ids) if weight is None else None
    if found is not None:
        return found
    spanned = panel.span_codes(ids)
    if spanned is None:
        codes, series = panel.encode_new(np.empty(0, dtype=object), ids, rows.shape[0], (rows.shape[0],))
        return codes, series, Moments.from_groups(rows, codes, len(series), weight)
    codes, lo, size = spanned
    stats = Moments.from_groups(rows, codes, size, weight)
    present = None if (stats.count > 0).any(axis=1).all() else int_presence(ids, lo, size)
    return _span_series(codes, lo, size, stats, present)


def _over_sampled_span(rows: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, Moments] | None:
    """:func:`group_moments` of many integer ids in random order in one pass over a span guessed
    from a sample (:func:`~seqscale.frames.panel.sampled_span`), which the pass checks: the
    empty entries around the ids are then cut off, and without NaN values an empty entry is an
    absent id, with no pass to look it up. None when the guess does not hold (an id outside
    it) or does not apply: then the exact span is found first. Same result either way."""
    guess = panel.sampled_span(ids) if isinstance(ids, np.ndarray) else None
    found = None if guess is None else Moments.from_id_span(rows, ids, *guess)
    if found is None:
        return None
    (lo, size), (stats, n_nan) = guess, found
    present = (stats.count > 0).any(axis=1) if n_nan == 0 else int_presence(ids, lo, size)
    at = np.flatnonzero(present)
    first, last = int(at[0]), int(at[-1]) + 1
    stats, present = stats.take(np.arange(first, last)), present[first:last]  # a copy: the guess is wider
    lo, size = lo + first, last - first
    return _span_series(panel.span_offsets(ids, lo), lo, size, stats, None if present.all() else present)


def _span_series(
    codes: np.ndarray, lo: int, size: int, stats: Moments, present: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, Moments]:
    """``(codes, series ids, statistics)`` of ids coded over the span ``[lo, lo + size)`` once
    ``present`` (which of its integers occur; None: all) is known: absent ones dropped."""
    codes, series = panel.drop_absent(codes, lo, size, present)
    return codes, series, stats if series.size == size else stats.take(series - lo)


def may_leave_float64(stats: Moments, affine: Affine) -> bool:
    """Whether the map can send a value within its series' fitted range past float64.

    Only coefficients given by hand (a std far below the data's) or a spread tiny against the
    data's range can: a ``fit_transform``, whose rows are those fitted, then counts the +-inf
    values it gives, which it otherwise spares itself.

    Examples
    --------
    >>> from seqscale.core.stats import Moments
    >>> stats = Moments.from_array(np.array([[0.0], [1e10]]))
    >>> may_leave_float64(stats, Affine(np.zeros(1), np.ones(1), np.zeros(1)))
    False
    >>> may_leave_float64(stats, Affine(np.zeros(1), np.full(1, 1e300), np.zeros(1)))
    True
    """
    with np.errstate(all="ignore"):
        reach = np.fmax(np.abs(stats.max - affine.shift), np.abs(stats.min - affine.shift))
        factor = np.abs(affine.factor)
        top = (reach / factor if affine.divides else reach * factor) + np.abs(affine.offset)
    return bool(np.any(top >= _NEAR_FLOAT_MAX))  # NaN (an empty series) compares False


def keep_mask(est: Any, rows: np.ndarray, layout: _layout.Layout, lengths: Any) -> np.ndarray | None:
    """Rows that are real observations (not padding), or None when every row is."""
    keep = None
    if lengths is not None:
        if len(layout.shape) != 3:
            raise InputError("lengths= needs a 3D [samples, timesteps, features] array.")
        n, t = layout.shape[:2]
        lengths = np.asarray(lengths)
        if lengths.shape != (n,) or lengths.dtype.kind not in "iu" or np.any((lengths < 0) | (lengths > t)):
            raise InputError(f"lengths must hold {n} integers between 0 and {t} (one per sample).")
        steps = np.arange(t)
        valid = steps < lengths[:, None] if est.padding == "post" else steps >= (t - lengths)[:, None]
        keep = valid.reshape(-1)
    if est.mask_value is not None:
        padded = np.all(rows == float(est.mask_value), axis=1)
        keep = ~padded if keep is None else keep & ~padded
    return keep


def refuse_infinite(est: Any, batch: Any, rows: np.ndarray) -> None:
    """Raise when the batch holds +-inf (detected for free from its min and max)."""
    bad = np.isinf(batch.min) | np.isinf(batch.max)
    if bad.any():
        raise_infinite(est._feature_names_list(), rows)


def select(
    est: Any,
    ids: Any,
    rows: np.ndarray,
    layout: _layout.Layout,
    channels: Any = None,
    inverse: bool = False,
) -> tuple[Affine, np.ndarray | None]:
    """Coefficients for these rows and, when fitted per series, each row's series code.

    Returns ``(affine, codes)``: ``affine`` is per channel (``codes`` None) or a
    ``(series, channels)`` table whose row ``codes[i]`` applies to row i — the unseen-series
    fallback is appended as an extra row.
    """
    affine = est.affine_
    if not est._grouped:
        if ids is not None:
            raise InputError("groups were given, but this scaler was fitted without groups.")
        return (affine if channels is None else affine.take((..., channels))), None
    if ids is None:
        raise InputError("this scaler was fitted per series: pass groups= (the series id of each row).")
    codes, id_values, unseen = panel.lookup(est.series_, ids, rows.shape[0], layout.shape)
    table = affine
    if unseen:
        if est.unseen == "own" and channels is not None and not inverse:
            raise InputError(
                "unseen='own' computes an unseen series' coefficients from all its features; "
                "pass every fitted feature (not features=) for series not seen at fit time."
            )
        table, codes = unseen_table(est, codes, id_values, rows, inverse)
    if channels is not None:
        table = table.take((slice(None), channels))
    return table, codes


def unseen_table(
    est: Any, codes: np.ndarray, ids: np.ndarray, rows: np.ndarray, inverse: bool = False
) -> tuple[Affine, np.ndarray]:
    """Coefficient table and codes once series unseen at fit time (code -1) follow ``unseen``.

    The fitted estimator is never changed: ``"own"`` computes the coefficients of the rows given
    for this call only, and an inverse has no rows in original units to compute them from.
    """
    if est.unseen == "error":
        raise panel.unseen_error(ids, codes)
    if est.unseen == "own":
        if inverse:
            raise panel.unseen_error(
                ids,
                codes,
                "inverse_transform needs stored coefficients; unseen='own' computes a new "
                "series' coefficients in transform for that call only. Invert with the "
                "coefficients transform used (e.g. seqscale.scale_windows returns them), or fit "
                "on the series first.",
            )
        return _own_table(est, codes, ids, rows)
    fb = est.fallback_
    table = Affine.stack([est.affine_, fb.take(np.newaxis)])
    return table, np.where(codes < 0, len(est.series_), codes)


def _own_table(est: Any, codes: np.ndarray, ids: np.ndarray, rows: np.ndarray) -> tuple[Affine, np.ndarray]:
    """The fitted table plus one row per unseen series, from that series' rows in this call."""
    unseen = codes < 0
    local, new_ids = pd.factorize(np.asarray(ids)[unseen])
    batch = rows[unseen]
    stats = Moments.from_groups(batch, local, new_ids.size)
    extra = est._batch_extra(batch, local, new_ids.size)
    own = est._method_affine(stats, extra, est._feature_names_list(), None)
    table = Affine.stack([est.affine_, own])
    codes = codes.copy()
    codes[unseen] = len(est.series_) + local
    return table, codes


def range_policy(
    est: Any, rows: np.ndarray, affine: Affine, codes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """Apply ``out_of_range`` before scaling; return output clip bounds for "clip"."""
    policy = est._range_policy()
    if policy == "ignore":
        return None
    if policy == "clip":
        return affine.output_bounds()
    low, high = (affine.low, affine.high) if codes is None else (affine.low[codes], affine.high[codes])
    with np.errstate(invalid="ignore"):
        outside = (rows < low) | (rows > high)
    counts = outside.sum(axis=0)
    if not counts.any():
        return None
    names = est._feature_names_list() or [f"x{j}" for j in range(rows.shape[1])]
    parts = [
        f"{names[j]!r}: {int(c)} value(s), first at row {int(np.flatnonzero(outside[:, j])[0])}"
        for j, c in enumerate(counts)
        if c
    ]
    message = (
        "values outside the fitted range — "
        + "; ".join(parts[:10])
        + ". Use scaler.check(X) for details; out_of_range='clip' limits them, or refit / set "
        "domain bounds."
    )
    if policy == "error":
        raise OutOfRangeError(message)
    warnings.warn(message, OutOfRangeWarning, stacklevel=4)
    return None


def wrap(est: Any, out: np.ndarray, layout: _layout.Layout) -> Any:
    """Give the output the caller's container, or the one ``set_output`` asked for."""
    container = output_container(est)
    names = None if container is None else list(est.get_feature_names_out())
    return _layout.from_rows(out, layout, columns=names, container=container)


def output_container(est: Any) -> str | None:
    """The container ``set_output`` (or scikit-learn's global ``transform_output``) asks for;
    None when nothing was asked (the caller's container is kept)."""
    config = getattr(est, "_sklearn_output_config", {}).get("transform")
    if config is None:
        from sklearn import get_config

        config = get_config().get("transform_output", "default")
        return None if config == "default" else config
    return config
