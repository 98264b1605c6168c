"""The one estimator shell every scaler shares (scikit-learn's contract around an ``Affine``).

``fit`` is ``reset + partial_fit``; ``partial_fit`` folds the batch's :class:`Moments` into the
fitted ones (per feature, or per (series, feature) with ``groups=``) and recomputes the affine
coefficients through the subclass's method. ``transform`` and ``inverse_transform`` reshape the
input to ``rows x channels``, apply the coefficients and reshape back to the caller's container.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from seqscale.core import kernels as _kernels
from seqscale.core import registry as _registry
from seqscale.core.affine import Affine
from seqscale.core.methods import constant_channels
from seqscale.core.stats import Moments
from seqscale.engines import is_dask
from seqscale.errors import (
    ConstantFeatureWarning,
    FeatureMismatchError,
    InputError,
    NotFittedError,
    ParameterError,
)
from seqscale.frames import edge as _edge
from seqscale.frames import layout as _layout
from seqscale.frames import panel
from seqscale.frames.segments import Segments, segment_apply, segment_fit_apply, segment_moments
from seqscale.frames.values import raise_not_finite
from seqscale.scalers import build
from seqscale.scalers import callbacks as _callbacks
from seqscale.scalers import rows as _rows
from seqscale.scalers import sparse as _sparse
from seqscale.scalers.check import dask_report, range_report
from seqscale.scalers.coefficients import coefficient_table, save, to_dict

__all__ = ["AffineScaler"]

OUT_OF_RANGE_POLICIES = ("ignore", "clip", "warn", "error")


def _finite_number(value: Any) -> bool:
    """True for a real, finite number (not a bool, string or container)."""
    if isinstance(value, (bool, str, bytes)):
        return False
    try:
        return bool(np.isfinite(float(value)))
    except (TypeError, ValueError, OverflowError):
        return False


class AffineScaler(
    _callbacks.CallbackSupportMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None
):
    """Base class: fit statistics, derive ``y = (x - shift) * scale + offset``, apply, invert."""

    method: str = ""

    # ------------------------------------------------------------------ scikit-learn plumbing
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.three_d_array = True
        tags.input_tags.sparse = _sparse.accepts(self)
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def set_output(self, *, transform: str | None = None) -> AffineScaler:
        """Choose the container of ``transform`` and ``inverse_transform`` output.

        ``"pandas"``, ``"polars"`` or ``"pyarrow"`` give that library's DataFrame named by
        :meth:`get_feature_names_out` whatever the input was (a pandas input's index is kept for
        pandas output; a 3D array stays an array); ``"default"`` gives a numpy array, as
        scikit-learn. Without ``set_output`` a pandas or polars input keeps its container (a
        polars LazyFrame stays lazy) and an Arrow input gives an array. scikit-learn's own
        ``set_output`` knows "pandas" and "polars" only, so "pyarrow" works on seqscale steps.

        Examples
        --------
        >>> import pandas as pd
        >>> from seqscale import StandardScaler
        >>> frame = pd.DataFrame({"a": [1.0, 3.0]})
        >>> type(StandardScaler().set_output(transform="polars").fit_transform(frame)).__module__
        'polars.dataframe.frame'
        """
        if transform is None:
            return self
        allowed = ("default", *_edge.CONTAINERS)
        if transform not in allowed:
            raise ParameterError(f"set_output(transform={transform!r}): use one of {allowed}.")
        self._sklearn_output_config = {"transform": transform}
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output feature names: the input names (scaling keeps one column per feature)."""
        self._require_fitted()
        names = getattr(self, "feature_names_in_", None)
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            if names is not None and not np.array_equal(input_features, names):
                raise InputError(
                    f"input_features is not equal to feature_names_in_: {list(input_features)} "
                    f"differ from the fitted names {list(names)}."
                )
            if len(input_features) != self.n_features_in_:
                raise InputError(
                    f"input_features has {len(input_features)} names; expected {self.n_features_in_}."
                )
            return input_features
        if names is not None:
            return names.copy()
        return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        X: Any,
        y: Any = None,
        sample_weight: Any = None,
        *,
        groups: Any = None,
        lengths: Any = None,
    ) -> AffineScaler:
        """Estimate the coefficients from ``X`` (NaN and padding ignored).

        Parameters
        ----------
        X : array-like (n,), (rows, features) or (samples, timesteps, features), or DataFrame
        y : ignored
        sample_weight : array-like (n_samples,) or (samples, timesteps), or number, optional
            Weight of each sample (row; a 3D sample's weight applies to all its timesteps),
            finite and non-negative. Weighted mean and variance as scikit-learn's
            ``StandardScaler``; a weight of 0 leaves the sample out (of min and max too).
            ``RobustScaler`` uses weighted quantiles (the inverted weighted CDF). For a Dask
            collection: an aligned Dask array, or the name of a weight column of a DataFrame.
        groups : series id of each row (or of each sample of a 3D array), or the name of an id
            column of ``X``: each series gets its own coefficients.
        lengths : true length of each padded 3D sample; the padding is ignored.
        """
        if is_dask(X):
            return build.fit_dask(self, X, groups=groups, sample_weight=sample_weight)
        if _edge.is_lazy(X):
            return build.fit_lazy(self, X, groups, sample_weight, lengths)
        self._reset()
        return self.partial_fit(X, y, sample_weight, groups=groups, lengths=lengths)

    def fit_transform(
        self,
        X: Any,
        y: Any = None,
        sample_weight: Any = None,
        *,
        groups: Any = None,
        lengths: Any = None,
    ) -> Any:
        """``fit`` (with ``sample_weight``, if given) then ``transform`` with the same ``groups``
        and ``lengths``.

        When the rows are sorted by series (``groups=Segments(...)``, or integer ids in
        contiguous runs) both happen in one sweep: each series is read once, and its scaled
        values are written while it is still in cache.
        """
        if (
            groups is None
            or _callbacks.has_callbacks(self)
            or sample_weight is not None
            or lengths is not None
            or is_dask(X)
            or _edge.is_lazy(X)
            or self._segment_rule() is None
        ):
            fitted = self.fit(X, y, sample_weight, groups=groups, lengths=lengths)
            return fitted.transform(X, groups, lengths=lengths)
        self._check_params()
        self._reset()
        direct = self._segments_direct(None)
        rows, layout, ids = _rows.prepare(self, X, groups, reset=True, runs=direct)
        fresh = direct and self._output_buffer(X, rows, None) is None
        if fresh and isinstance(ids, Segments) and ids.unique:
            return self._fit_transform_segments(rows, layout, ids)
        codes = self._fit_rows(rows, layout, ids, None, first=True)
        if fresh and codes is not None:  # rows in any order: each row's series code is known
            finite = not _rows.may_leave_float64(self.series_stats_, self.affine_)
            out = self.affine_.apply(rows, codes=codes, finite=finite)
            if not finite and _kernels.last_infinite_count():
                raise_not_finite(self._feature_names_list(), rows, out)
            return _rows.wrap(self, out, layout)
        return self.transform(X, groups)

    def _fit_transform_segments(self, rows: np.ndarray, layout: Any, seg: Segments) -> Any:
        """One-sweep fit + transform of series stored as contiguous segments (a fresh output)."""
        seg.check_rows(rows.shape[0])
        stats, provisional, out = segment_fit_apply(rows, seg.offsets, self._segment_rule())
        self._check_grouped(True, grouped=True)
        codes = self._fold_segments(rows, seg, True, Moments(*stats))
        coef = self.affine_ if codes is None else self.affine_.take(codes)
        if provisional is None:  # no compiled kernel: apply them all
            out, _ = segment_apply(
                rows, seg.offsets, coef.shift, coef.factor, coef.offset, None, False, divide=coef.divides
            )
        else:  # the segments whose coefficients the method set otherwise (domain values)
            same = (coef.shift == provisional[0]) & (coef.scale == provisional[1])
            differ = np.flatnonzero(~(same & (coef.offset == provisional[2])).all(axis=1))
            if differ.size:
                segment_apply(
                    rows,
                    seg.offsets,
                    coef.shift,
                    coef.factor,
                    coef.offset,
                    out,
                    False,
                    differ,
                    divide=coef.divides,
                )
        if _rows.may_leave_float64(self.series_stats_, self.affine_):  # the sweep counts nothing
            raise_not_finite(self._feature_names_list(), rows, out)
        return _rows.wrap(self, out, layout)

    def _segment_rule(self) -> tuple[str, float, float] | None:
        """Hook: the coefficient rule the one-sweep segment kernel computes for this scaler's
        parameters (see :func:`seqscale.frames.segments.segment_fit_apply`), or None."""
        return None

    @_callbacks.with_callbacks
    def partial_fit(
        self,
        X: Any,
        y: Any = None,
        sample_weight: Any = None,
        *,
        groups: Any = None,
        lengths: Any = None,
    ) -> AffineScaler:
        """Update the coefficients with one more batch; exact (statistics merge by Chan's update).

        ``sample_weight`` as in :meth:`fit`; weighted and unweighted batches merge (an
        unweighted row weighs 1). Callbacks set with ``set_callbacks`` (scikit-learn >= 1.9)
        see one fit task per call, as with scikit-learn's ``StandardScaler``.
        """
        self._check_params()
        if is_dask(X) or _edge.is_lazy(X):
            raise ParameterError(
                "partial_fit takes in-memory batches; fit(dask_collection) or fit(lazy_frame) "
                "folds all the data at once."
            )
        task = _callbacks.begin(self, X, y, sample_weight)
        first = not hasattr(self, "stats_")
        if _sparse.is_sparse(X):
            self._partial_fit_sparse(X, groups, lengths, first, sample_weight)
        else:
            runs = lengths is None and self.mask_value is None
            rows, layout, ids = _rows.prepare(self, X, groups, reset=first, runs=runs)
            weight = _rows.row_weights(sample_weight, layout)
            self._fit_rows(rows, layout, ids, lengths, first, weight)
        _callbacks.end(task, self, X, y, sample_weight)
        return self

    def _partial_fit_sparse(
        self, X: Any, groups: Any, lengths: Any, first: bool, sample_weight: Any = None
    ) -> AffineScaler:
        """Fold a scipy.sparse batch: statistics of the stored values merged with the zeros
        (each weighing its row's weight when ``sample_weight`` is given)."""
        _sparse.check_no_shift(self)
        if groups is not None or lengths is not None:
            raise ParameterError("sparse input: groups= and lengths= are not supported.")
        X = _sparse.as_csr_or_csc(X)
        if np.isinf(X.data).any():
            raise InputError("Input X contains infinity or a value too large for dtype('float64').")
        _rows.check_names(self, None, reset=first)
        if not first and X.shape[1] != self.n_features_in_:
            raise FeatureMismatchError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        weight = _rows.row_weights(sample_weight, _layout.Layout("ndarray", X.shape, X.dtype))
        if self._declared().extra is not None:  # an extra statistic sees every value, zeros too
            self._update_extra(X.toarray(), None, first, weight)
        self._fold_moments(_sparse.moments(X, weight), X.shape[0] if weight is None else float(weight.sum()))
        return self

    def _fit_rows(
        self,
        rows: np.ndarray,
        layout: Any,
        ids: Any,
        lengths: Any,
        first: bool,
        weight: np.ndarray | None = None,
    ) -> np.ndarray | None:
        """Fold prepared rows (with their series ids, or Segments, or None) into the statistics;
        returns the series code of every row when ids were given per row and every row was kept."""
        if isinstance(ids, Segments):
            if weight is None and lengths is None and self.mask_value is None and ids.unique:
                self._check_grouped(first, grouped=True)
                self._fold_segments(rows, ids, first)
                return None
            ids = ids.row_ids()  # padding or repeated ids: the general per-row path
        if ids is not None:
            ids = panel.row_ids(ids, rows.shape[0], layout.shape)
        keep = _rows.keep_mask(self, rows, layout, lengths)
        if keep is not None:
            rows, ids = rows[keep], (None if ids is None else ids[keep])
            weight = None if weight is None else weight[keep]
        self._check_grouped(first, grouped=ids is not None)
        codes = self._fold(rows, ids, first, weight)
        return codes if keep is None else None

    def _check_grouped(self, first: bool, grouped: bool) -> None:
        if first:
            self._grouped = grouped
        elif self._grouped != grouped:
            state = "with" if self._grouped else "without"
            raise InputError(f"this scaler was fitted {state} groups; pass groups consistently.")

    def _fold_segments(
        self, rows: np.ndarray, seg: Segments, first: bool, found: Moments | None = None
    ) -> np.ndarray | None:
        """Merge per-segment statistics (one contiguous block of rows per series); returns the
        series code of each segment, or None when segment k is series k of the fitted table.
        ``found``: the segments' statistics, if already computed."""
        seg.check_rows(rows.shape[0])
        n_features = rows.shape[1]
        known = np.empty(0, dtype=object) if first else self.series_
        codes, self.series_ = panel.encode_new(known, seg.ids, len(seg.ids), (len(seg.ids),))
        if found is None:
            found = Moments(*segment_moments(rows, seg.offsets))
        n_series = len(self.series_)
        identity = first and np.array_equal(codes, np.arange(n_series))
        if identity:  # nothing to merge or reorder
            self.series_stats_ = found
        else:
            batch = Moments.empty((n_series, n_features))
            for field in ("count", "mean", "m2", "min", "max"):
                getattr(batch, field)[codes] = getattr(found, field)
            table = Moments.empty((0, n_features)) if first else self.series_stats_
            table = table.concat(Moments.empty((n_series - table.count.shape[0], n_features)))
            self.series_stats_ = table.merge(batch)
        self.stats_ = self.series_stats_.pooled()
        _rows.refuse_infinite(self, found, rows)
        row_codes = np.repeat(codes, seg.lengths) if self._declared().extra is not None else None
        self._update_extra(rows, row_codes, first)
        self._n_rows = int(rows.shape[0]) + (0 if first else self._n_rows)
        self.n_features_in_ = n_features
        self._refresh(warn=True)
        return None if identity else codes

    def _fold_series(self, ids: np.ndarray, table: Moments, n_rows: int) -> None:
        """Set per-series statistics computed elsewhere (one row of ``table`` per id)."""
        self._grouped = True
        self.series_ = ids
        self.series_stats_ = table
        self.stats_ = table.pooled()
        self._n_rows = int(n_rows)
        self.n_features_in_ = int(table.count.shape[-1])
        self._refresh(warn=True)

    def _fold(
        self, rows: np.ndarray, ids: np.ndarray | None, first: bool, weight: np.ndarray | None = None
    ) -> np.ndarray | None:
        """Merge the statistics of ``rows`` (one id per row, or None; optionally one weight
        per row) into the fitted ones; returns each row's series code (None without ids)."""
        codes = None
        if ids is None:
            if first:
                self.stats_ = batch = Moments.from_array(rows, weight)
            else:
                self.stats_, batch = self.stats_.update(rows, weight)
        elif first:
            codes, self.series_, batch = _rows.group_moments(rows, ids, weight)
            self.series_stats_ = batch
            self.stats_ = batch.pooled()
        else:
            codes, self.series_ = panel.encode_new(self.series_, ids, rows.shape[0], (rows.shape[0],))
            batch = Moments.from_groups(rows, codes, len(self.series_), weight)
            table = self.series_stats_
            missing = len(self.series_) - table.count.shape[0]
            self.series_stats_ = table.concat(Moments.empty((missing, rows.shape[1]))).merge(batch)
            self.stats_ = self.series_stats_.pooled()
        _rows.refuse_infinite(self, batch, rows)
        self._update_extra(rows, codes, first, weight)
        self._n_rows = int(rows.shape[0]) + (0 if first else self._n_rows)
        self._count_seen(int(rows.shape[0]), first, weighted=weight is not None)
        self.n_features_in_ = rows.shape[1]
        self._refresh(warn=True)
        return codes

    # ------------------------------------------------------------------ applying
    def transform(
        self,
        X: Any,
        groups: Any = None,
        *,
        lengths: Any = None,
        features: Any = None,
        axis: int = -1,
        copy: bool | None = None,
    ) -> Any:
        """Scale ``X`` with the fitted coefficients; the output has ``X``'s shape and type.

        NaN passes through; padding (``mask_value`` / ``lengths``) is left untouched.
        ``features=`` scales an array holding only some of the fitted features (e.g. a target).
        """
        return self._apply(X, groups, lengths, features, axis, copy, inverse=False)

    def inverse_transform(
        self,
        X: Any,
        groups: Any = None,
        *,
        lengths: Any = None,
        features: Any = None,
        axis: int = -1,
        copy: bool | None = None,
    ) -> Any:
        """Map scaled values (or a model's predictions) back to original units.

        ``features=["y"]`` inverts predictions of only those features, shaped ``[samples]``,
        ``[samples, horizon]`` or ``[samples, horizon, k]`` (features on ``axis``); quantile or
        sample forecasts go through the same map, since scaling is monotone.
        """
        return self._apply(X, groups, lengths, features, axis, copy, inverse=True)

    def _apply(self, X, groups, lengths, features, axis, copy, *, inverse: bool, runs: bool = True) -> Any:
        self._require_fitted()
        if _sparse.is_sparse(X):
            _sparse.check_no_shift(self)
            if groups is not None or lengths is not None or features is not None:
                raise ParameterError("sparse input: groups=, lengths= and features= are not supported.")
            X = _sparse.as_csr_or_csc(X)
            if X.shape[1] != self.n_features_in_:
                raise FeatureMismatchError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input."
                )
            return _sparse.apply(self, X, inverse)
        if is_dask(X):
            if lengths is not None or features is not None:
                raise ParameterError("Dask input: lengths= and features= are not supported.")
            return build.transform_dask(self, X, inverse=inverse, groups=groups)
        if _edge.is_lazy(X):
            if lengths is not None or features is not None:
                raise ParameterError("lazy frame input: lengths= and features= are not supported.")
            return build.transform_lazy(self, X, groups, inverse=inverse)
        channels = None if features is None else self._channel_index(features)
        if isinstance(groups, Segments) and (channels is not None or not self._segments_direct(lengths)):
            groups = groups.row_ids()
        if channels is None:
            runs = runs and self._segments_direct(lengths)
            rows, layout, ids = _rows.prepare(self, X, groups, reset=False, runs=runs)
            if isinstance(ids, Segments):
                return self._apply_segments(X, rows, layout, ids, copy, inverse)
            restore = lambda out: _rows.wrap(self, out, layout)  # noqa: E731
            keep = _rows.keep_mask(self, rows, layout, lengths)
        else:
            rows, restore = _rows.prepare_subset(X, len(channels), axis)
            layout, keep = _layout.Layout("ndarray", rows.shape, rows.dtype), None
            ids = groups
            if ids is not None:
                per_sample = np.asarray(ids.to_numpy() if hasattr(ids, "to_numpy") else ids)
                ids = np.repeat(per_sample, rows.shape[0] // max(len(per_sample), 1))
        affine, codes = _rows.select(self, ids, rows, layout, channels, inverse)
        clip = None if inverse else _rows.range_policy(self, rows, affine, codes)
        out = self._output_buffer(X, rows, copy)
        if inverse:
            result = affine.invert(rows, out=out, codes=codes)
        else:
            result = affine.apply(rows, out=out, codes=codes, clip=clip)
        found = not inverse and _kernels.last_infinite_count()  # counted by the map itself
        if keep is not None and not keep.all():
            result[~keep] = rows[~keep]
        if found:  # an infinite input, or one the coefficients sent past float64 (padding aside)
            raise_not_finite(self._feature_names_list(), rows, result, in_place=out is not None)
        restored = restore(result)
        if isinstance(X, np.ndarray) and X.dtype == np.float16 and self._in_place(copy):
            X[...] = restored  # computed in float32: written back into the caller's array
            return X
        return restored

    def _in_place(self, copy: bool | None) -> bool:
        """Whether the caller asked for the result in its own array."""
        return copy is False or (copy is None and not self.copy)

    def _output_buffer(self, X: Any, rows: np.ndarray, copy: bool | None) -> np.ndarray | None:
        """``rows`` itself when the caller asked for an in-place result on a float ndarray, else None."""
        in_place = self._in_place(copy)
        return rows if in_place and rows.flags.writeable and isinstance(X, np.ndarray) else None

    def _segments_direct(self, lengths: Any) -> bool:
        """Whether segments can be applied block by block (else the per-row path is used)."""
        return lengths is None and self.mask_value is None and self._range_policy() == "ignore"

    def _range_policy(self) -> str:
        """The out-of-range policy in force: ``clip=True`` (scikit-learn's spelling) means "clip"."""
        return "clip" if getattr(self, "clip", False) else self.out_of_range

    def _apply_segments(self, X, rows, layout, seg: Segments, copy, inverse: bool) -> Any:
        """Apply each segment's coefficients to its contiguous rows (no per-row lookup)."""
        seg.check_rows(rows.shape[0])
        if not self._grouped:
            raise InputError("segments were given, but this scaler was fitted without groups.")
        codes, _, unseen = panel.lookup(self.series_, seg.ids, len(seg.ids), (len(seg.ids),))
        table = self.affine_
        if unseen:
            if self.unseen == "own":
                return self._apply(X, seg.row_ids(), None, None, -1, copy, inverse=inverse, runs=False)
            table, codes = _rows.unseen_table(self, codes, seg.ids, rows)
        coef = table.take(codes)
        out = self._output_buffer(X, rows, copy)
        result, n_inf = segment_apply(
            rows, seg.offsets, coef.shift, coef.factor, coef.offset, out, inverse, divide=coef.divides
        )
        if n_inf:
            raise_not_finite(self._feature_names_list(), rows, result, in_place=out is not None)
        return _rows.wrap(self, result, layout)

    def set_params(self, **params: Any) -> AffineScaler:
        """Set parameters (scikit-learn contract); an unknown name lists the valid ones."""
        valid = self.get_params(deep=False)
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ParameterError(
                f"{type(self).__name__}.set_params: unknown parameter(s) {unknown}; "
                f"the parameters are {sorted(valid)}."
            )
        return super().set_params(**params)

    def feature_index(self, features: Any) -> np.ndarray:
        """Positions of the named (or indexed) features among the fitted ones.

        Examples
        --------
        >>> import pandas as pd
        >>> from seqscale.scalers import StandardScaler
        >>> StandardScaler().fit(pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 5.0]})).feature_index("b").tolist()
        [1]
        """
        return self._channel_index(features)

    def effective_out_of_range(self) -> str:
        """The out-of-range policy in force (``clip=True`` is scikit-learn's spelling of ``"clip"``).

        Examples
        --------
        >>> from seqscale.scalers import MinMaxScaler
        >>> MinMaxScaler(clip=True).effective_out_of_range()
        'clip'
        """
        return self._range_policy()

    def _channel_index(self, features: Any) -> np.ndarray:
        """Positions of the named (or indexed) features among the fitted ones."""
        names = self._feature_names_list()
        wanted = [features] if isinstance(features, (str, int, np.integer)) else list(features)
        if not wanted:
            known = names if names is not None else list(range(self.n_features_in_))
            raise InputError(f"features=[] names no feature; name at least one of {known}.")
        out = []
        for f in wanted:
            if isinstance(f, str) and names is not None and f in names:
                out.append(names.index(f))
            elif isinstance(f, (int, np.integer)) and -self.n_features_in_ <= f < self.n_features_in_:
                out.append(int(f) % self.n_features_in_)
            else:
                known = names if names is not None else list(range(self.n_features_in_))
                raise InputError(f"features: {f!r} is not a fitted feature; the features are {known}.")
        return np.asarray(out, dtype=np.intp)

    def check(self, X: Any, groups: Any = None, *, lengths: Any = None) -> Any:
        """Report, per feature (and series), values outside the fitted or domain range.

        Returns a DataFrame with the count and share of values below and above the range, the
        largest excess (in original units and as a share of the range), the first row where it
        happens, and the shift of the mean in training standard deviations.
        """
        self._require_fitted()
        if is_dask(X):  # one reduction on the cluster
            return dask_report(self, X)
        if isinstance(groups, Segments):
            groups = groups.row_ids()
        rows, layout, ids = _rows.prepare(self, X, groups, reset=False)
        keep = _rows.keep_mask(self, rows, layout, lengths)
        return range_report(self, rows, layout, ids, keep)

    @property
    def coefficients_(self) -> Any:
        """Tidy table of the fitted statistics and coefficients, one row per channel."""
        self._require_fitted()
        return coefficient_table(self)

    def save(self, path: Any) -> None:
        """Write the fitted coefficients to a versioned, human-readable JSON file (atomically)."""
        save(self, path)

    def to_dict(self) -> dict:
        """The coefficient file's content as a plain dict."""
        return to_dict(self)

    # ------------------------------------------------------------------ export
    def to_torch(self, features: Any = None, **kwargs: Any) -> Any:
        """A ``torch.nn.Module`` holding these coefficients as buffers.

        ``forward`` scales and ``inverse`` unscales.

        Per-series fits give a module whose ``forward(x, series_idx)`` gathers each sample's
        coefficients. See :mod:`seqscale.export.torch`.
        """
        from seqscale.export.torch import module_from_scaler

        self._require_fitted()
        return module_from_scaler(self, features=features, **kwargs)

    def to_keras(self, inverse: bool = False, features: Any = None, **kwargs: Any) -> Any:
        """A Keras 3 layer (any backend) that scales — or unscales with ``inverse=True``.

        Keywords go to :func:`seqscale.export.keras.layer_from_scaler` (``dtype="float64"``,
        ``clip``, ``name``).
        """
        from seqscale.export.keras import layer_from_scaler

        self._require_fitted()
        return layer_from_scaler(self, inverse=inverse, features=features, **kwargs)

    def _fold_moments(self, moments: Moments, n_rows: float) -> None:
        """Merge precomputed per-feature statistics of ``n_rows`` rows into the fitted ones.

        ``n_rows`` is a float (the total weight) for weighted statistics, as ``n_samples_seen_``.

        For engines that reduce data elsewhere (Dask chunks, file batches); feature names, if
        any, must already be set, and a robust scaler's sketches stored in ``_extra``.
        """
        self._check_params()
        first = not hasattr(self, "stats_")
        n_features = int(moments.count.shape[-1])
        if moments.count.ndim != 1:
            raise InputError("_fold_moments takes per-feature statistics of shape (n_features,).")
        if first:
            self._grouped = False
        elif self._grouped:
            raise InputError("this scaler was fitted with groups; pass groups consistently.")
        elif n_features != self.n_features_in_:
            raise FeatureMismatchError(
                f"X has {n_features} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        self.stats_ = moments if first else self.stats_.merge(moments)
        self._n_rows = int(n_rows) + (0 if first else self._n_rows)
        self._count_seen(n_rows, first, weighted=isinstance(n_rows, float))
        self.n_features_in_ = n_features
        self._refresh(warn=True)

    def _count_seen(self, n_rows: float, first: bool, weighted: bool) -> None:
        """Set ``n_samples_seen_``: the rows seen (an int) or, once any batch was weighted,
        scikit-learn's weighted meaning — the total weight of each feature's non-NaN values
        (one float when every feature has the same, else an array)."""
        weighted = weighted or (not first and np.asarray(self.n_samples_seen_).dtype.kind == "f")
        if not weighted:
            self.n_samples_seen_ = int(n_rows) + (0 if first else self.n_samples_seen_)
            return
        count = self.stats_.count
        self.n_samples_seen_ = float(count[0]) if np.ptp(count) == 0 else count.astype(np.float64)

    def _reset(self) -> None:
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("__")]:
            delattr(self, attr)
        self._extra = None
        self._n_rows = 0

    def _declared(self) -> _registry.Method:
        """This scaler's method, as declared in the method registry."""
        return _registry.get(self.method)

    def _update_extra(
        self, rows: np.ndarray, codes: np.ndarray | None, first: bool, weight: np.ndarray | None = None
    ) -> None:
        """Merge the method's extra statistic of ``rows`` (if it declares one) into the fitted one."""
        kind = self._declared().extra
        if kind is None:
            return
        if not first and self._extra is None:
            raise ParameterError(
                f"this {type(self).__name__} was loaded from a file: its {kind.what} is not stored, "
                "so partial_fit cannot continue it; fit again on the data."
            )
        n_groups = 1 if codes is None else len(self.series_)
        new = kind.from_rows(rows, codes, n_groups, weight)
        self._extra = new if first else self._extra.merge(new)

    def _extra_table(self, grouped: bool) -> dict[str, np.ndarray]:
        """The extra statistic's named arrays, per (series, feature) or pooled per feature."""
        if self._declared().extra is None:
            return {}
        if self._extra is None:  # loaded from a file: the stored values
            return self._stored_extra if grouped or not self._grouped else self._stored_pooled
        stat = self._extra if grouped or not self._grouped else self._extra.pooled()
        return stat.table(self.get_params())

    def _batch_extra(self, rows: np.ndarray, codes: np.ndarray, n_groups: int) -> dict[str, np.ndarray]:
        """The extra statistic of some rows per group, without changing the estimator."""
        kind = self._declared().extra
        return {} if kind is None else kind.from_rows(rows, codes, n_groups).table(self.get_params())

    def _refresh(self, warn: bool = False) -> None:
        """Recompute every coefficient from the statistics and the domain parameters."""
        names = self._feature_names_list()
        series = self.series_ if self._grouped else None
        table = self.series_stats_ if self._grouped else self.stats_
        self.affine_ = self._method_affine(table, self._extra_table(self._grouped), names, series)
        if self._grouped:
            self.fallback_ = self._fallback_affine(names)
        self._set_public_attributes(self.affine_, table)
        if np.asarray(getattr(self, "n_samples_seen_", 0)).dtype.kind != "f":  # weighted: total weights
            self.n_samples_seen_ = self._samples_seen(self.stats_)
        if warn:
            self._warn_constant(table, names)

    def _fallback_affine(self, names: list[str] | None) -> Affine | None:
        """Coefficients for series unseen at fit time: pooled statistics or median of the series'."""
        if self.unseen == "pooled":
            return self._method_affine(self.stats_, self._extra_table(False), names, None)
        if self.unseen == "median":
            stats = self.series_stats_
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                med = {k: np.nanmedian(v, axis=0) for k, v in stats.as_dict().items()}
                extra = {k: np.nanmedian(v, axis=0) for k, v in self._extra_table(True).items()}
            med["m2"] = np.nanmedian(stats.var(), axis=0) * med["count"]
            return self._method_affine(Moments.from_arrays(**med), extra, names, None)
        return None

    def _warn_constant(self, table: Moments, names: list[str] | None) -> None:
        constant = self._degenerate_channels(table) & (table.count > 0)
        if not constant.any():
            return
        label = names or [f"x{i}" for i in range(constant.shape[-1])]
        if constant.ndim == 1:
            which = [label[j] for j in np.flatnonzero(constant)]
            where = f"feature(s) {which}"
        else:
            flat = np.flatnonzero(constant.any(axis=1))
            where = f"{flat.size} series (e.g. {self.series_[flat[:3]].tolist()})"
        warnings.warn(
            f"{type(self).__name__}: {where} are constant in the data seen; "
            f"they map to {self._constant_target()} (no division by zero).",
            ConstantFeatureWarning,
            stacklevel=3,
        )

    def _constant_target(self) -> str:
        return "exactly 0"

    def _samples_seen(self, stats: Moments) -> int | np.ndarray:
        """Hook: ``n_samples_seen_``, the number of rows fitted (padding excluded)."""
        return self._n_rows

    def _degenerate_channels(self, table: Moments) -> np.ndarray:
        """Channels whose coefficients cannot come from the data (constant ones)."""
        return constant_channels(table)

    def _feature_names_list(self) -> list[str] | None:
        names = getattr(self, "feature_names_in_", None)
        return None if names is None else [str(n) for n in names]

    def _require_fitted(self) -> None:
        if not hasattr(self, "affine_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator, or load fitted coefficients "
                "with seqscale.load(path)."
            )

    def _check_params(self) -> None:
        if self.out_of_range not in OUT_OF_RANGE_POLICIES:
            raise ParameterError(f"out_of_range={self.out_of_range!r} is not one of {OUT_OF_RANGE_POLICIES}.")
        if getattr(self, "clip", False) and self.out_of_range not in ("ignore", "clip"):
            raise ParameterError(
                f"clip=True and out_of_range={self.out_of_range!r} contradict each other; clip=True "
                "is out_of_range='clip'."
            )
        panel.check_policy(self.unseen)
        if self.padding not in ("post", "pre"):
            raise ParameterError(
                f"padding={self.padding!r}: use 'post' or 'pre' (as in Keras pad_sequences)."
            )
        if self.mask_value is not None and not _finite_number(self.mask_value):
            raise ParameterError(f"mask_value={self.mask_value!r} must be a finite number or None.")
        self._check_method_params()

    def _check_method_params(self) -> None:
        """Hook: validate the method's own parameters."""

    def _method_affine(self, stats: Moments, extra: dict, names: list[str] | None, series: Any) -> Affine:
        raise NotImplementedError

    def _set_public_attributes(self, affine: Affine, stats: Moments) -> None:
        raise NotImplementedError
