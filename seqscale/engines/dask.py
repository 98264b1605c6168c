"""Scaling Dask arrays and DataFrames: a tree reduction of statistics and a lazy block-wise map.

Fitting never computes the collection in one piece: every chunk (or partition) is reduced to its
:class:`~seqscale.core.stats.Moments` — ``count, mean, m2, min, max`` per feature, packed with the
chunk's row count as a small ``(6, n_features)`` float64 array — and the packed statistics are
merged pairwise (Chan's update) in a binary tree of tasks, so the result equals the in-memory fit
to rounding whatever the chunking. The robust scaler merges per-chunk quantile sketches the same
way. ``transform`` is lazy: ``map_blocks`` / ``map_partitions`` apply the fitted affine map to
each block, keeping chunks, dtype and DataFrame metadata.

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

from typing import Any

import numpy as np

from seqscale.core.stats import Moments
from seqscale.engines import _apply_block, _block_stats, is_dask
from seqscale.errors import (
    FeatureMismatchError,
    InputError,
    InputTypeError,
    ParameterError,
)
from seqscale.frames import layout as _layout
from seqscale.frames.values import check_weights

__all__ = ["apply", "fit", "fit_moments", "fit_statistics", "is_dask", "prepare", "transform"]

_ROWS = 5  # index of the row count in a packed statistics array


# ---------------------------------------------------------------------------- packing
def _pack(moments: Moments, n_rows: int) -> np.ndarray:
    packed = np.empty((6, moments.count.shape[-1]), dtype=np.float64)
    for i, values in enumerate((moments.count, moments.mean, moments.m2, moments.min, moments.max)):
        packed[i] = values
    packed[_ROWS] = n_rows
    return packed


def _unpack(packed: np.ndarray) -> tuple[Moments, float]:
    n_rows = float(packed[_ROWS, 0]) if packed.size else 0.0  # a row count, or a total weight
    return Moments(*(packed[i].copy() for i in range(5))), n_rows


def _merge_packed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ma, na = _unpack(a)
    mb, nb = _unpack(b)
    return _pack(ma.merge(mb), na + nb)


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


def _chunk_moments(block: Any, mask_value: Any, weight: Any = None) -> np.ndarray:
    block, w = _block_weights(block, weight)
    moments, n_rows, _, _ = _block_stats(_block_rows(block), mask_value, w)
    return _pack(moments, n_rows)


def _chunk_extra(block: Any, mask_value: Any, weight: Any, kind: type) -> Any:
    """The method's extra statistic (an ``ExtraStatistic`` class ``kind``) of one chunk."""
    block, w = _block_weights(block, weight)
    _, _, rows, w = _block_stats(_block_rows(block), mask_value, w)
    return kind.from_rows(rows, None, 1, w)


def _merge_extra(a: Any, b: Any) -> Any:
    return a.merge(b)


# ---------------------------------------------------------------------------- collections
def _is_frame(X: Any) -> bool:
    return hasattr(X, "columns") and hasattr(X, "map_partitions")


def _check_collection(X: Any) -> None:
    if not is_dask(X):
        raise InputTypeError(f"expected a Dask array or DataFrame, got {type(X).__name__}.")
    if not _is_frame(X) and not hasattr(X, "map_blocks"):
        raise InputTypeError(
            f"{type(X).__name__}: pass a Dask array or DataFrame (a Dask Series: use .to_frame())."
        )
    if _is_frame(X):
        _check_frame_dtypes(X)
    elif X.ndim not in (1, 2, 3):
        raise InputError(
            f"expected a 1D, 2D [rows, features] or 3D [samples, timesteps, features] Dask array; "
            f"got {X.ndim}D with shape {X.shape}."
        )
    elif X.dtype.kind not in "fiu":
        raise InputTypeError(f"the Dask array has dtype {X.dtype}; seqscale scales numbers.")


def _check_frame_dtypes(X: Any) -> None:
    for name, dtype in X.dtypes.items():
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


def _blocks(X: Any) -> list:
    """The chunks (or partitions) as a flat list of delayed objects."""
    if _is_frame(X):
        return list(X.to_delayed())
    return list(np.asarray(_features_whole(X).to_delayed(), dtype=object).ravel())


def _tree(items: list, combine: Any) -> Any:
    """Pairwise (binary tree) combination of delayed values: ceil(log2(n)) rounds."""
    from dask import delayed

    merge = delayed(combine, pure=True)
    while len(items) > 1:
        paired = [merge(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        items = paired + ([items[-1]] if len(items) % 2 else [])
    return items[0]


def _n_features(X: Any) -> int:
    if _is_frame(X):
        return len(X.columns)
    return 1 if X.ndim == 1 else int(X.shape[-1])


def _moments_graph(X: Any, mask_value: Any, weights: list | None = None) -> Any:
    from dask import delayed

    chunk = delayed(_chunk_moments, pure=True)
    blocks = _blocks(X)
    weights = [None] * len(blocks) if weights is None else weights
    return _tree([chunk(b, mask_value, w) for b, w in zip(blocks, weights)], _merge_packed)


def _aligned(X: Any, sample_weight: Any) -> tuple[Any, list | None]:
    """``X`` and one weight item per block of it (None, a column name, or a delayed block).

    A weight array is aligned with ``X``'s chunks along the samples; ``X`` is rechunked to be
    whole along its other axes, so each block holds whole samples.
    """
    if sample_weight is None:
        return X, None
    if _is_frame(X):
        if not isinstance(sample_weight, str) or sample_weight not in X.columns:
            raise ParameterError(
                f"sample_weight={sample_weight!r}: for a Dask DataFrame, give the name of its weight column."
            )
        return X, [sample_weight] * X.npartitions
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
    w = sample_weight.rechunk({0: X.chunks[0], **({1: -1} if sample_weight.ndim == 2 else {})})
    return X, list(np.asarray(w.to_delayed(), dtype=object).ravel())


def fit_moments(X: Any, *, mask_value: float | None = None) -> Moments:
    """Per-feature statistics of a Dask array or DataFrame by a tree reduction over its chunks.

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
    _check_collection(X)

    (packed,) = _compute(_moments_graph(X, mask_value))
    return _unpack(packed)[0]


#: Dask configuration key: seconds a fit waits for the cluster's results (unset: no limit).
TIMEOUT_KEY = "seqscale.timeout"


def _compute(*graphs: Any) -> tuple:
    """``dask.compute(*graphs)``, bounded by ``dask.config`` ``seqscale.timeout`` on a cluster.

    With a ``distributed.Client`` active and a timeout set, a cluster that lost every worker (or
    stalls) raises ``InputError`` naming what was awaited instead of waiting forever.
    """
    import dask

    timeout = dask.config.get(TIMEOUT_KEY, None)
    client = _active_client() if timeout is not None else None
    if client is None:
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
    est : a seqscale scaler (MinMaxScaler, StandardScaler, MaxAbsScaler, RobustScaler)
    X : dask.array.Array (1D, 2D or 3D) or dask.dataframe.DataFrame of numeric columns
        DataFrame column names become ``feature_names_in_``.
    groups : None
        Per-series fits are in-memory only; passing groups raises ``ParameterError``.
    sample_weight : str or dask.array.Array, optional
        For a DataFrame, the name of its weight column (not a feature); for an array, a Dask
        array of one weight per sample (or per [sample, timestep] of a 3D array), aligned with
        ``X`` by rechunking. As ``sample_weight`` of the in-memory ``fit``.

    Returns
    -------
    est, fitted: ``stats_``, ``n_samples_seen_``, ``n_features_in_`` and the method's attributes.

    Notes
    -----
    The statistics are merged in a binary tree of tasks (:func:`fit_statistics`); one
    ``dask.compute`` call runs it on the current scheduler (a ``distributed.Client`` when one is
    active). ``RobustScaler`` merges one quantile sketch per feature and chunk: exact while each
    feature has at most the sketch's capacity (200,000) values, otherwise within the recorded rank
    error (``est.exact_``).

    Examples
    --------
    >>> import numpy as np, dask.array as da, seqscale
    >>> X = da.from_array(np.arange(8.0).reshape(4, 2), chunks=(2, 2))
    >>> fit(seqscale.StandardScaler(), X).mean_.tolist()
    [3.0, 4.0]
    """
    return est.fit(X, groups=groups, sample_weight=sample_weight)


def prepare(X: Any, sample_weight: Any = None) -> tuple[Any, list | None, list[str] | None]:
    """Check a collection to fit on: ``X`` (weights aligned), per-chunk weights, feature names."""
    _check_collection(X)
    X, weights = _aligned(X, sample_weight)
    meta = X._meta  # noqa: SLF001 (dask's empty metadata frame; dask has no public accessor)
    names = _layout.feature_names_of(meta) if _is_frame(X) else None
    if names is not None and isinstance(sample_weight, str):
        names = [n for n in names if n != sample_weight]
    return X, weights, None if names is None else list(names)


def fit_statistics(
    X: Any, weights: list | None, *, mask_value: Any = None, extra: type | None = None
) -> tuple[Moments, int | float, Any]:
    """Merged statistics of a collection checked by :func:`prepare`, in one ``dask.compute``.

    Returns the moments, the rows seen (their total weight for a weighted fit) and the merged
    extra statistic of the method (``extra``: its ``ExtraStatistic`` class), or None.
    """
    graphs = [_moments_graph(X, mask_value, weights)]
    if extra is not None:
        from dask import delayed

        chunk = delayed(_chunk_extra, pure=True)
        blocks = _blocks(X)
        items = [chunk(b, mask_value, w, extra) for b, w in zip(blocks, weights or [None] * len(blocks))]
        graphs.append(_tree(items, _merge_extra))
    results = _compute(*graphs)
    moments, n_rows = _unpack(results[0])
    n_rows = n_rows if weights is not None else int(n_rows)
    if n_rows == 0:
        raise InputError(
            "the Dask collection holds no rows (or only padding rows); seqscale needs at least one "
            "observation to fit."
        )
    return moments, n_rows, results[1] if len(results) > 1 else None


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
    _check_collection(X)
    n = _n_features(X)
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
