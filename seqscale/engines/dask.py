"""Scaling Dask arrays and DataFrames through dask's own reductions and a lazy block-wise map.

Fitting never computes the collection in one piece: every chunk (or partition) is reduced to its
:class:`~seqscale.core.stats.Moments` — ``count, mean, m2, min, max`` per feature — with its row
count and, for methods that need one, the method's extra statistic (the method registry's
protocol: robust's quantile sketches, meanabs' mean of ``|x|``); ``dask.array.reduction`` (arrays)
or ``DataFrame.reduction`` (frames) merges them in dask's tree of combine tasks (Chan's update), so
the result equals the in-memory fit to rounding whatever the chunking. Per series
(``groups="id"`` on a DataFrame), each partition gives per-series statistics that merge by id.
``transform`` is lazy: ``map_blocks`` / ``map_partitions`` apply the fitted map to each block,
keeping chunks, dtype and DataFrame metadata; ``check`` is one more reduction.

dask is imported inside the functions of this module only; :func:`is_dask` does not import it.

Examples
--------
>>> import numpy as np, dask.array as da, seqscale
>>> from seqscale.engines import dask as sd
>>> X = da.from_array(np.arange(20.0).reshape(10, 2), chunks=(3, 2))
>>> scaler = sd.fit(seqscale.MinMaxScaler(), X)
>>> scaler.data_max_.tolist()
[18.0, 19.0]
>>> Y = sd.transform(scaler, X)            # lazy: a dask array with X's chunks
>>> Y.chunks == X.chunks, float(Y.max().compute())
(True, 1.0)

To run on a cluster, connect a client first; the computations above then run on its workers::

    from distributed import Client
    client = Client("tcp://scheduler:8786")
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from seqscale.core.stats import Moments
from seqscale.engines import GroupStats, _apply_block, _block_stats, _padding, is_dask
from seqscale.errors import (
    FeatureMismatchError,
    InputError,
    InputTypeError,
    ParameterError,
)
from seqscale.frames import layout as _layout
from seqscale.frames.values import check_weights

__all__ = ["apply", "fit", "fit_moments", "fit_statistics", "is_dask", "prepare", "transform"]


# ---------------------------------------------------------------------------- partial results
class _Partial:
    """Statistics of some chunks: moments, rows seen (or total weight), and the method's extra
    statistic (the registry's protocol: robust's quantile sketches, meanabs' mean of |x|)."""

    __slots__ = ("extra", "moments", "n_rows")

    def __init__(self, moments: Moments, n_rows: int | float, extra: Any) -> None:
        self.moments, self.n_rows, self.extra = moments, n_rows, extra

    def merge(self, other: _Partial) -> _Partial:
        extra = None if self.extra is None else self.extra.merge(other.extra)
        return _Partial(self.moments.merge(other.moments), self.n_rows + other.n_rows, extra)


def _merge_all(parts: list) -> Any:
    """Merge partial results in order (their order is the order of the rows)."""
    result = parts[0]
    for part in parts[1:]:
        result = result.merge(part)
    return result


# ---------------------------------------------------------------------------- chunk functions
def _block_rows(block: Any) -> np.ndarray:
    """A chunk (ndarray of any rank, or a pandas partition) as canonical ``rows x features``."""
    if _layout.is_dataframe(block):
        if len(block) == 0:
            return np.empty((0, block.shape[1]), dtype=np.float64)
        return _layout.as_rows(block)[0]
    arr = np.asarray(block)
    if arr.dtype.kind not in "fiu":
        raise InputTypeError(f"Dask array of dtype {arr.dtype}: seqscale scales numbers.")
    arr = arr.astype(_out_dtype(arr.dtype), copy=False)
    if arr.ndim == 1:
        return arr.reshape(-1, 1)
    return arr.reshape(-1, arr.shape[-1])


def _out_dtype(dtype: np.dtype) -> np.dtype:
    """float32 (and float16) compute in float32; everything else in float64 (as in memory)."""
    return np.dtype(np.float32) if dtype in (np.float16, np.float32) else np.dtype(np.float64)


def _block_weights(block: Any, weight: Any) -> tuple[Any, np.ndarray | None]:
    """Split a chunk from its weights: a weight column of a partition, or an aligned block of a
    weight array (one weight per sample, or per [sample, timestep] of a 3D chunk)."""
    if weight is None:
        return block, None
    if isinstance(weight, str):
        w = np.asarray(block[weight].to_numpy(dtype=np.float64, na_value=np.nan))
        block = block.drop(columns=[weight])
    else:
        w = np.asarray(weight, dtype=np.float64)
        shape = np.shape(block)
        if w.ndim == 1 and len(shape) == 3:
            w = np.repeat(w, shape[1])
    w = w.reshape(-1)
    check_weights(w)
    return block, w


def _chunk_partial(block: Any, mask_value: Any, extra: Any, weight: Any = None) -> _Partial:
    """Statistics of one chunk (an ndarray or a pandas partition, with its weights)."""
    block, w = _block_weights(block, weight)
    moments, n_rows, rows, w = _block_stats(_block_rows(block), mask_value, w)
    return _Partial(moments, n_rows, None if extra is None else extra.from_rows(rows, None, 1, w))


def _chunk_groups(part: Any, by: str, mask_value: Any, weight: str | None, extra: Any = None) -> GroupStats:
    """Per-series statistics of one partition, the series named by its column ``by`` (and the
    method's extra statistic per series, when ``extra`` names its class)."""
    ids = part[by].to_numpy()
    features = part.drop(columns=[by])
    features, w = _block_weights(features, weight)
    if len(features) == 0:
        return GroupStats.empty(features.shape[1])
    if part[by].isna().any():
        raise InputError(f"the id column {by!r} holds missing values; every row needs a series id.")
    return GroupStats.from_rows(_block_rows(features), ids, mask_value, w, extra)


# ---------------------------------------------------------------------------- collections
def _is_frame(X: Any) -> bool:
    return hasattr(X, "columns") and hasattr(X, "map_partitions") and getattr(X, "ndim", 2) == 2


def _is_series(X: Any) -> bool:
    return hasattr(X, "to_frame") and hasattr(X, "map_partitions") and getattr(X, "ndim", 2) == 1


def _as_frame(X: Any) -> Any:
    """A Dask Series as a one-column DataFrame (its name, or ``x0``, is the feature name)."""
    if is_dask(X) and _is_series(X):
        return X.to_frame(name=X.name if X.name is not None else "x0")
    return X


def _check_collection(X: Any, skip: str | None = None) -> None:
    if not is_dask(X):
        raise InputTypeError(f"expected a Dask array or DataFrame, got {type(X).__name__}.")
    if not _is_frame(X) and not hasattr(X, "map_blocks"):
        raise InputTypeError(
            f"{type(X).__name__}: pass a Dask array or DataFrame (a Dask Series: use .to_frame())."
        )
    if _is_frame(X):
        _check_frame_dtypes(X, skip)
    elif X.ndim not in (1, 2, 3):
        raise InputError(
            f"expected a 1D, 2D [rows, features] or 3D [samples, timesteps, features] Dask array; "
            f"got {X.ndim}D with shape {X.shape}."
        )
    elif X.dtype.kind not in "fiu":
        raise InputTypeError(f"the Dask array has dtype {X.dtype}; seqscale scales numbers.")


def _check_frame_dtypes(X: Any, skip: str | None = None) -> None:
    for name, dtype in X.dtypes.items():
        if name == skip:
            continue
        kind = getattr(dtype, "kind", "O")
        if kind not in "fiu":
            raise InputTypeError(
                f"column {name!r} has dtype {dtype}; seqscale scales numbers. Select the numeric "
                "columns (e.g. ddf[numeric_columns]) or encode categories first."
            )


def _features_whole(X: Any) -> Any:
    """Rechunk an array so that each chunk holds every feature (the last axis in one piece)."""
    if not _is_frame(X) and X.ndim > 1 and X.numblocks[-1] > 1:
        return X.rechunk({X.ndim - 1: -1})
    return X


def n_features(X: Any) -> int:
    """The number of features of a Dask array, DataFrame or Series (1)."""
    X = _as_frame(X)
    if _is_frame(X):
        return len(X.columns)
    return 1 if X.ndim == 1 else int(X.shape[-1])


# ---------------------------------------------------------------------------- reductions
def _array_chunk(x, w=None, *, axis=None, keepdims=None, mask_value=None, extra=None, computing_meta=False):
    if computing_meta:
        return x
    weight = None if w is None else np.asarray(w)[..., 0].reshape(-1)
    if weight is not None:
        check_weights(weight)
    moments, n_rows, rows, weight = _block_stats(_block_rows(x), mask_value, weight)
    return _Partial(moments, n_rows, None if extra is None else extra.from_rows(rows, None, 1, weight))


def _array_combine(parts, axis=None, keepdims=None) -> _Partial:
    return _merge_all(_flatten(parts))


def _flatten(parts: Any) -> list:
    """The partial results of ``dask.array.reduction`` (nested lists over the reduced axes)."""
    if not isinstance(parts, list):
        return [parts]
    return [leaf for part in parts for leaf in _flatten(part)]


def _array_reduction(X: Any, weights: Any, mask_value: Any, extra: Any) -> Any:
    """``dask.array.reduction`` of a whole-feature array to one :class:`_Partial`."""
    import dask.array as da

    X = _features_whole(X)
    if weights is not None:  # one weight per sample (or [sample, timestep]), broadcast to X
        weights = weights.reshape(weights.shape + (1,) * (X.ndim - weights.ndim))
    return da.reduction(
        X,
        partial(_array_chunk, mask_value=mask_value, extra=extra),
        _array_combine,
        combine=_array_combine,
        axis=tuple(range(max(X.ndim - 1, 1))),
        keepdims=False,
        concatenate=False,
        dtype=np.float64,
        meta=np.empty(0),
        weights=weights,
        name="seqscale-statistics",
    )


def _boxed(result: Any) -> Any:
    import pandas as pd

    return pd.DataFrame({"partial": [result]})


def _frame_chunk(part: Any, **options: Any) -> Any:
    return _boxed(_chunk_partial(part, **options))


def _frame_groups_chunk(part: Any, **options: Any) -> Any:
    return _boxed(_chunk_groups(part, **options))


def _frame_combine(frame: Any) -> Any:
    return _boxed(_merge_all(list(frame["partial"])))


def _frame_aggregate(frame: Any) -> Any:
    return _merge_all(list(frame["partial"]))


def _frame_reduction(X: Any, chunk: Any, **options: Any) -> Any:
    """``DataFrame.reduction``: each partition to a partial result, merged in partition order."""
    return X.reduction(
        chunk,
        aggregate=_frame_aggregate,
        combine=_frame_combine,
        chunk_kwargs=options,
        meta=object,
        split_every=8,
    )


def _statistics_graph(X: Any, weights: Any, mask_value: Any, extra: Any) -> Any:
    if _is_frame(X):
        return _frame_reduction(X, _frame_chunk, mask_value=mask_value, extra=extra, weight=weights)
    return _array_reduction(X, weights, mask_value, extra)


def _aligned(X: Any, sample_weight: Any) -> tuple[Any, Any]:
    """``X`` and its weights: None, a DataFrame's weight column name, or a Dask array aligned
    with ``X``'s chunks along the samples (``X`` is made whole along its other axes)."""
    if sample_weight is None:
        return X, None
    if _is_frame(X):
        if not isinstance(sample_weight, str) or sample_weight not in X.columns:
            raise ParameterError(
                f"sample_weight={sample_weight!r}: for a Dask DataFrame, give the name of its weight column."
            )
        return X, sample_weight
    if not is_dask(sample_weight) or not hasattr(sample_weight, "rechunk"):
        raise ParameterError(
            "sample_weight for a Dask array must be a Dask array with one weight per sample "
            "(e.g. dask.array.from_array(w))."
        )
    n_samples = X.shape[0]
    allowed = [(n_samples,)] + ([tuple(X.shape[:2])] if X.ndim == 3 else [])
    if tuple(sample_weight.shape) not in allowed:
        raise InputError(f"sample_weight.shape == {sample_weight.shape}, expected one of {allowed}.")
    X = X.rechunk(dict.fromkeys(range(1, X.ndim), -1))
    w = sample_weight.astype(np.float64).rechunk(
        {0: X.chunks[0], **({1: -1} if sample_weight.ndim == 2 else {})}
    )
    return X, w


def fit_moments(X: Any, *, mask_value: float | None = None) -> Moments:
    """Per-feature statistics of a Dask array or DataFrame, reduced by dask over its chunks.

    Parameters
    ----------
    X : dask.array.Array of shape (n,), (rows, features) or (samples, timesteps, features), or
        dask.dataframe.DataFrame with numeric columns
        A 3D array is pooled over samples and timesteps (one set of statistics per feature).
        Chunks split along the feature axis are joined first.
    mask_value : float, optional
        Rows whose features all equal it are padding and are left out.

    Returns
    -------
    Moments
        ``count, mean, m2, min, max`` per feature, equal to
        ``Moments.from_array(rows of X.compute())`` up to rounding (about 1e-15 relative).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> x = np.arange(12.0).reshape(6, 2)
    >>> fit_moments(da.from_array(x, chunks=(2, 2))).mean.tolist()
    [5.0, 6.0]
    """
    X = _as_frame(X)
    _check_collection(X)
    (result,) = _compute(_statistics_graph(X, None, mask_value, None))
    return result.moments


#: Dask configuration key: seconds a fit waits for the cluster's results (unset: no limit).
TIMEOUT_KEY = "seqscale.timeout"


def _compute(*graphs: Any) -> tuple:
    """``dask.compute(*graphs)``, bounded by ``dask.config`` ``seqscale.timeout`` on a cluster.

    With a ``distributed.Client`` active and a timeout set, a cluster that lost every worker (or
    stalls) raises ``InputError`` naming what was awaited instead of waiting forever.
    """
    import dask

    timeout = dask.config.get(TIMEOUT_KEY, None)
    client = _active_client()
    if client is not None:
        _check_workers(client)
    if client is None or timeout is None:
        return dask.compute(*graphs)
    from distributed import TimeoutError as DaskTimeout
    from distributed import wait

    futures = client.compute(list(graphs))
    try:
        wait(futures, timeout=timeout)
    except (DaskTimeout, TimeoutError):
        workers = len(client.scheduler_info().get("workers", {}))
        client.cancel(futures)
        raise InputError(
            f"the Dask fit waited {timeout} s ({TIMEOUT_KEY}) for the statistics of "
            f"{len(futures)} reduction(s) from the cluster at {client.scheduler.address}, which "
            f"has {workers} worker(s); start workers or raise the timeout."
        ) from None
    return tuple(client.gather(futures))


_CHECKED: set = set()  # (scheduler address, worker addresses) known to import seqscale


def _check_workers(client: Any) -> None:
    """Refuse, with one clear line, a cluster whose workers cannot import seqscale.

    Tasks of seqscale's functions run on the workers: a worker without seqscale fails them, and
    the scheduler would re-run them elsewhere (or fail much later, far from the cause).
    """
    workers = tuple(sorted(client.scheduler_info().get("workers", {})))
    key = (client.scheduler.address, workers)
    if not workers or key in _CHECKED:
        return
    import importlib.util

    found = client.run(importlib.util.find_spec, "seqscale", on_error="return")  # none of ours
    missing = [address for address, spec in found.items() if spec is None or isinstance(spec, Exception)]
    if missing:
        raise InputError(
            f"Dask worker(s) {missing[:5]} cannot import seqscale: install seqscale (the same "
            "version as the client, with its dask extra) on every worker of the cluster."
        )
    _CHECKED.add(key)


def _active_client() -> Any:
    """The current ``distributed.Client``, if distributed is loaded and one is active."""
    import sys

    if "distributed" not in sys.modules:
        return None
    from distributed import get_client

    try:
        return get_client()
    except ValueError:
        return None


def fit(est: Any, X: Any, groups: Any = None, sample_weight: Any = None) -> Any:
    """Fit a seqscale scaler on a Dask collection chunk by chunk: ``est.fit(X)``.

    Parameters
    ----------
    est : a seqscale scaler (any method: MinMaxScaler, StandardScaler, MaxAbsScaler, RobustScaler,
        MeanAbsScaler)
    X : dask.array.Array (1D, 2D or 3D) or dask.dataframe.DataFrame of numeric columns
        DataFrame column names become ``feature_names_in_``.
    groups : str, optional
        For a DataFrame, the name of its series id column: one set of coefficients per series
        (rows in any order, a series' rows spread over any partitions), equal to the in-memory
        ``fit(frame, groups=...)``, for every method.
    sample_weight : str or dask.array.Array, optional
        For a DataFrame, the name of its weight column (not a feature); for an array, a Dask
        array of one weight per sample (or per [sample, timestep] of a 3D array), aligned with
        ``X`` by rechunking. As ``sample_weight`` of the in-memory ``fit``.

    Returns
    -------
    est, fitted: ``stats_``, ``n_samples_seen_``, ``n_features_in_`` and the method's attributes.

    Notes
    -----
    The statistics are merged by dask's reduction (:func:`fit_statistics`); one
    ``dask.compute`` call runs it on the current scheduler (a ``distributed.Client`` when one is
    active). A method's extra statistic is merged the same way, per feature or per series by id:
    ``MeanAbsScaler``'s mean of ``|x|`` to rounding (1e-13 relative); ``RobustScaler`` merges
    one quantile sketch per feature and chunk, which holds the values themselves, so its
    quantiles equal the in-memory ones exactly while each feature (per series: each series)
    has at most the sketch's capacity (200,000) values, otherwise within the recorded rank
    error (``est.exact_``). Exact quantiles keep every value until the fit ends: the client
    receives about 24 bytes per value of the data.

    Examples
    --------
    >>> import numpy as np, dask.array as da, seqscale
    >>> X = da.from_array(np.arange(8.0).reshape(4, 2), chunks=(2, 2))
    >>> fit(seqscale.StandardScaler(), X).mean_.tolist()
    [3.0, 4.0]
    """
    return est.fit(X, groups=groups, sample_weight=sample_weight)


def prepare(X: Any, sample_weight: Any = None, groups: Any = None) -> tuple[Any, Any, list[str] | None]:
    """Check a collection to fit on: ``X`` (weights aligned), its weights, the feature names
    (without the weight and id columns; None for an array or a Series, as in memory)."""
    series = is_dask(X) and _is_series(X)
    X = _as_frame(X)
    if groups is not None:
        _check_groups(X, groups)
    _check_collection(X, skip=groups)
    X, weights = _aligned(X, sample_weight)
    meta = X._meta  # noqa: SLF001 (dask's empty metadata frame; dask has no public accessor)
    names = (
        _layout.feature_names_of(meta.drop(columns=[groups]) if groups else meta) if _is_frame(X) else None
    )
    if names is not None and isinstance(sample_weight, str):
        names = [n for n in names if n != sample_weight]
    return X, weights, None if names is None or series else list(names)


def _check_groups(X: Any, groups: Any) -> None:
    if not _is_frame(X) or not isinstance(groups, str):
        raise ParameterError(
            "groups= on Dask: give a Dask DataFrame and the name of its series id column "
            "(e.g. scaler.fit(ddf, groups='id')); for a Dask array, put the ids in a DataFrame column."
        )
    if groups not in X.columns:
        raise ParameterError(f"groups={groups!r} names no column; columns: {list(X.columns)[:10]}.")


def fit_statistics(
    X: Any, weights: Any, *, mask_value: Any = None, extra: Any = None
) -> tuple[Moments, int | float, Any]:
    """Merged statistics of a collection checked by :func:`prepare`, in one ``dask.compute``.

    Returns the moments, the rows seen (their total weight for a weighted fit) and, with
    with ``extra`` (an extra-statistic class of the method registry), the merged extra statistic.
    """
    (result,) = _compute(_statistics_graph(X, weights, mask_value, extra))
    n_rows = result.n_rows if weights is not None else int(result.n_rows)
    if n_rows == 0:
        raise InputError(
            "the Dask collection holds no rows (or only padding rows); seqscale needs at least one "
            "observation to fit."
        )
    return result.moments, n_rows, result.extra


def fit_group_statistics(
    X: Any, groups: str, weights: Any, *, mask_value: Any = None, extra: Any = None
) -> GroupStats:
    """Per-series statistics of a Dask DataFrame checked by :func:`prepare`: each partition's
    statistics per id, merged by id in partition order (ids in order of first appearance).

    ``extra``: the method's extra-statistic class (the registry's protocol), reduced per series
    beside the moments and merged by id the same way (any partitioning, ids spread across
    partitions).
    """
    graph = _frame_reduction(
        X, _frame_groups_chunk, by=groups, mask_value=mask_value, weight=weights, extra=extra
    )
    (result,) = _compute(graph)
    if result.n_rows == 0:
        raise InputError("the Dask DataFrame holds no rows (or only padding rows); nothing to fit.")
    return result


# ---------------------------------------------------------------------------- transform
def transform(est: Any, X: Any, inverse: bool = False) -> Any:
    """Lazily scale (or, with ``inverse=True``, unscale) a Dask collection with a fitted scaler:
    ``est.transform(X)`` (or ``est.inverse_transform(X)``); see :func:`apply`.

    Examples
    --------
    >>> import numpy as np, dask.array as da, seqscale
    >>> X = da.from_array(np.array([[0.0], [5.0], [10.0]]), chunks=(2, 1))
    >>> s = seqscale.MinMaxScaler().fit(X.compute())
    >>> transform(s, X).compute().ravel().tolist()
    [0.0, 0.5, 1.0]
    """
    return est.inverse_transform(X) if inverse else est.transform(X)


def apply(
    X: Any,
    affine: Any,
    names: list[str],
    *,
    inverse: bool = False,
    policy: str = "ignore",
    mask_value: Any = None,
    fitted_names: Any = None,
    owner: str = "scaler",
) -> Any:
    """Lazily apply a per-feature affine map (or its inverse) to a Dask collection.

    Parameters
    ----------
    X : dask.array.Array (1D, 2D or 3D, features on the last axis) or dask.dataframe.DataFrame
        with the fitted features (by name when ``fitted_names`` is given).
    affine : Affine of shape ``(n_features,)``
    names : one name per feature, for messages.
    inverse : map scaled values back to original units.
    policy : ``"ignore"``, ``"clip"``, ``"warn"`` or ``"error"`` for values outside the range.
    mask_value : padding rows (all features equal to it) are left untouched.
    fitted_names : the feature names a DataFrame's columns must match, or None.
    owner : the fitted object's name, for messages.

    Returns
    -------
    A Dask array with ``X``'s chunks (float32 stays float32, other dtypes give float64), or a
    Dask DataFrame with ``X``'s divisions, columns and index. Nothing is computed.

    Notes
    -----
    NaN passes through; padding rows are left untouched (an array whose feature axis is split in
    several chunks is then rechunked to hold every feature in one chunk). ``policy="clip"`` clips
    each block. ``"warn"`` and ``"error"`` are checked block by block when the result is
    computed: ``"error"`` raises ``OutOfRangeError`` from ``compute()`` (the message names the
    row: within the array, or within a DataFrame's partition); ``"warn"`` emits
    ``OutOfRangeWarning`` where the block runs — on a distributed cluster, in the worker's log —
    so prefer ``"error"`` or ``scaler.check`` on a sample there.
    """
    if is_dask(X) and _is_series(X):  # a Series in, a Series out (as in memory)
        options = {"inverse": inverse, "policy": policy, "mask_value": mask_value, "owner": owner}
        frame = apply(X.to_frame(name="x0"), affine, names, fitted_names=None, **options)
        return frame["x0"].rename(X.name)
    _check_collection(X)
    if (client := _active_client()) is not None:
        _check_workers(client)
    n = n_features(X)
    if n != len(names):
        raise FeatureMismatchError(
            f"X has {n} features, but {owner} is expecting {len(names)} features as input."
        )
    options = {"inverse": bool(inverse), "policy": policy, "mask_value": mask_value}
    if _is_frame(X):
        fitted = fitted_names
        if fitted is not None and [str(c) for c in X.columns] != [str(c) for c in fitted]:
            raise FeatureMismatchError(
                f"The feature names should match those that were passed during fit: got "
                f"{list(X.columns)[:10]}, fitted {list(fitted)[:10]}."
            )
        meta = _frame_meta(X._meta)  # noqa: SLF001 (dask's metadata frame)
        return X.map_partitions(
            _transform_partition,
            affine,
            names,
            options,
            meta=meta,
            partition_info=True,
            enforce_metadata=False,
        )
    if options["mask_value"] is not None:
        X = _features_whole(X)
    dtype = _out_dtype(X.dtype)
    return X.map_blocks(
        _transform_block,
        affine,
        names,
        options,
        X.shape,
        dtype=dtype,
        meta=np.empty((0,) * X.ndim, dtype=dtype),
    )


def apply_groups(X: Any, by: str, transform: Any, features: list[str] | None) -> Any:
    """Lazily apply a per-series map to each partition of a Dask DataFrame.

    ``transform(partition)`` maps one pandas partition (with its id column ``by``) to the scaled
    partition, as the in-memory per-series ``transform`` does; it travels to the workers once
    (one task shared by all partitions). ``features``: the fitted feature names, or None.
    """
    from dask import delayed

    _check_groups(X, by)
    _check_collection(X, skip=by)
    if (client := _active_client()) is not None:
        _check_workers(client)
    have = [str(c) for c in X.columns if c != by]
    if features is not None and have != [str(f) for f in features]:
        raise FeatureMismatchError(
            f"The feature names should match those that were passed during fit: got "
            f"{have[:10]}, fitted {list(features)[:10]}."
        )
    meta = X._meta.copy()  # noqa: SLF001 (dask's metadata frame)
    scaled = [c for c in meta.columns if c != by]
    meta[scaled] = _frame_meta(meta[scaled])
    shared = delayed(transform, pure=True, traverse=False)
    return X.map_partitions(_call, shared, meta=meta, enforce_metadata=False)


def _call(part: Any, transform: Any) -> Any:
    return transform(part)


def _frame_meta(meta: Any) -> Any:
    dtypes = [getattr(t, "numpy_dtype", t) for t in meta.dtypes]
    single = dtypes and all(t in (np.float16, np.float32) for t in dtypes)
    return meta.astype(np.float32 if single else np.float64)


def _transform_block(block: np.ndarray, affine, names, options, shape, block_info=None):
    rows = _block_rows(block)
    row0, channels = 0, None
    if block_info is not None and 0 in block_info:
        loc = block_info[0]["array-location"]
        row0 = loc[0][0] * int(np.prod(shape[1:-1], dtype=np.int64))
        if len(shape) > 1:
            channels = slice(*loc[-1])
    part = affine if channels is None else affine.take((..., channels))
    kept_names = names if channels is None else names[channels]
    out = _apply_block(rows, part, names=kept_names, row0=row0, **options)
    return out.reshape(block.shape)


def _transform_partition(part: Any, affine, names, options, partition_info=None) -> Any:
    import pandas as pd

    if len(part) == 0:
        return _frame_meta(part)
    rows = _layout.as_rows(part)[0]
    number = None if partition_info is None else partition_info.get("number")
    where = "" if number is None else f" of partition {number}"
    out = _apply_block(rows, affine, names=names, where=where, **options)
    return pd.DataFrame(out, index=part.index, columns=part.columns, copy=False)


# ---------------------------------------------------------------------------- range check
class _Range:
    """What ``scaler.check`` needs of some rows, per feature: values seen, below and above the
    range, extremes, largest excess, sum, and the first row outside (a label, or a position
    counted within these rows)."""

    __slots__ = ("_positional", "above", "below", "excess", "first", "high", "low", "n", "rows", "total")

    def __init__(self, rows: np.ndarray, low: np.ndarray, high: np.ndarray, index: Any) -> None:
        self._positional = index is None
        with np.errstate(invalid="ignore"):
            below, above = rows < low, rows > high
        outside = below | above
        valid = ~np.isnan(rows)
        self.rows = rows.shape[0]
        self.n = valid.sum(axis=0)
        self.below, self.above = below.sum(axis=0), above.sum(axis=0)
        self.low = np.min(np.where(valid, rows, np.inf), axis=0, initial=np.inf)
        self.high = np.max(np.where(valid, rows, -np.inf), axis=0, initial=-np.inf)
        self.excess = np.fmax(
            np.max(np.where(below, low - rows, 0.0), axis=0, initial=0.0),
            np.max(np.where(above, rows - high, 0.0), axis=0, initial=0.0),
        )
        self.total = np.where(valid, rows, 0.0).sum(axis=0)
        first = []
        for j in range(rows.shape[1]):
            hits = np.flatnonzero(outside[:, j])
            first.append(None if hits.size == 0 else (index[hits[0]] if index is not None else int(hits[0])))
        self.first = first

    def merge(self, other: _Range) -> _Range:
        """``other``'s rows follow ``self``'s."""
        out = object.__new__(_Range)
        out.rows = self.rows + other.rows
        for name in ("n", "below", "above", "total"):
            setattr(out, name, getattr(self, name) + getattr(other, name))
        out.low, out.high = np.minimum(self.low, other.low), np.maximum(self.high, other.high)
        out.excess = np.fmax(self.excess, other.excess)
        out._positional = self._positional
        offset = self.rows if self._positional else None
        out.first = [
            a if a is not None else (b if b is None or offset is None else b + offset)
            for a, b in zip(self.first, other.first)
        ]
        return out

    def as_dict(self) -> dict[str, Any]:
        """The per-feature columns of the report."""
        return {
            "n": self.n,
            "n_below": self.below,
            "n_above": self.above,
            "min": self.low,
            "max": self.high,
            "max_excess": self.excess,
            "first_row": self.first,
            "sum": self.total,
        }


def _range_chunk(
    block: Any, low, high, mask_value, positional, axis=None, keepdims=None, computing_meta=False
):
    if computing_meta:
        return block
    index = None if positional or not _layout.is_dataframe(block) else block.index
    rows = _block_rows(block)
    padded = _padding(rows, mask_value)
    if padded is not None:
        rows = rows[~padded]
        index = None if index is None else index[~padded]
    return _Range(rows, low, high, index)


def range_statistics(X: Any, low: np.ndarray, high: np.ndarray, *, mask_value: Any = None) -> dict[str, Any]:
    """Per feature, what a range check needs of a Dask collection, by one reduction: counts of
    values below ``low`` and above ``high``, extremes, largest excess, sum, first row outside (a
    DataFrame's index label, or a row position counted over the whole array).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> X = da.from_array(np.array([[0.0], [5.0], [12.0]]), chunks=1)
    >>> r = range_statistics(X, np.array([0.0]), np.array([10.0]))
    >>> int(r["n_above"][0]), r["first_row"], float(r["max_excess"][0])
    (1, [2], 2.0)
    """
    X = _as_frame(X)
    _check_collection(X)
    options = {"low": low, "high": high, "mask_value": mask_value}
    if _is_frame(X):
        graph = X.reduction(
            _frame_range_chunk,
            aggregate=_frame_aggregate,
            combine=_frame_combine,
            chunk_kwargs={**options, "positional": False},
            meta=object,
            split_every=8,
        )
    else:
        import dask.array as da

        X = X.rechunk(dict.fromkeys(range(1, X.ndim), -1))
        graph = da.reduction(
            X,
            partial(_range_chunk, positional=True, **options),
            _array_combine,
            combine=_array_combine,
            axis=tuple(range(max(X.ndim - 1, 1))),
            keepdims=False,
            concatenate=False,
            dtype=np.float64,
            meta=np.empty(0),
            name="seqscale-range",
        )
    (result,) = _compute(graph)
    return result.as_dict()


def _frame_range_chunk(part: Any, **options: Any) -> Any:
    return _boxed(_range_chunk(part, **options))
