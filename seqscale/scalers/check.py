"""Out-of-range and drift report: where new data leaves the fitted (or domain) range, and by how much."""

from __future__ import annotations

from typing import Any

import numpy as np

from seqscale.engines import dask as dask_engine
from seqscale.frames import layout as _layout
from seqscale.frames import panel
from seqscale.scalers import rows as _rows

__all__ = ["range_report"]


def range_report(
    est: Any, rows: np.ndarray, layout: _layout.Layout, ids: Any, keep: np.ndarray | None
) -> Any:
    """Per feature (and series) counts, shares and extent of values outside the fitted range.

    Columns: ``n`` (values checked), ``n_below``, ``n_above``, ``share_outside``, ``min``,
    ``max``, ``fitted_low``, ``fitted_high``, ``max_excess`` (largest distance outside, in
    original units), ``max_excess_ranges`` (the same as a share of the fitted range),
    ``first_row`` (row label, or position, of the first value outside; None when there is none)
    and ``mean_shift_std`` (shift of the mean from the training mean, in training stds).
    """

    if keep is not None:
        rows = rows[keep]
    names = est._feature_names_list() or [f"x{j}" for j in range(rows.shape[1])]
    if est._grouped:
        if ids is None:
            raise _rows.InputError(
                "this scaler was fitted per series: pass the series ids (groups= in Python, "
                "--id COL on the command line)."
            )
        row_ids = panel.row_ids(ids, layout_rows(layout, keep), layout.shape)
        row_ids = row_ids if keep is None else row_ids[keep]
        codes, _, unseen = panel.lookup(est.series_, row_ids, rows.shape[0], (rows.shape[0],))
        if unseen:
            raise panel.unseen_error(row_ids, codes)
        index = layout.index if layout.kind in ("frame", "series") and keep is None else None
        return _grouped_report(est, rows, codes, names, index)
    low, high = est.affine_.low, est.affine_.high
    with np.errstate(invalid="ignore"):
        below, above = rows < low, rows > high
    excess = np.fmax(
        np.nanmax(np.where(below, low - rows, 0.0), axis=0, initial=0.0),
        np.nanmax(np.where(above, rows - high, 0.0), axis=0, initial=0.0),
    )
    outside = below | above
    index = layout.index if layout.kind in ("frame", "series") and keep is None else None
    counts = {
        "n": np.sum(~np.isnan(rows), axis=0),
        "n_below": below.sum(axis=0),
        "n_above": above.sum(axis=0),
        "min": np.nanmin(np.where(np.isnan(rows), np.inf, rows), axis=0, initial=np.inf),
        "max": np.nanmax(np.where(np.isnan(rows), -np.inf, rows), axis=0, initial=-np.inf),
        "max_excess": excess,
        "first_row": [_first(outside[:, j], index) for j in range(rows.shape[1])],
        "sum": np.nansum(rows, axis=0) if rows.size else np.zeros(rows.shape[1]),
    }
    return _report(est, names, counts)


def dask_report(est: Any, X: Any) -> Any:
    """:func:`range_report` of a Dask collection, computed by one reduction on the cluster (only
    per-feature counts reach the client)."""
    if est._grouped:
        raise _rows.ParameterError(
            "check() of a per-series fit takes in-memory data; check a sample (ddf.head(n)) or "
            "one partition (ddf.get_partition(i).compute())."
        )
    n = dask_engine.n_features(X)
    if n != est.n_features_in_:
        raise _rows.FeatureMismatchError(
            f"X has {n} features, but {type(est).__name__} is expecting {est.n_features_in_} "
            "features as input."
        )
    counts = dask_engine.range_statistics(X, est.affine_.low, est.affine_.high, mask_value=est.mask_value)
    names = est._feature_names_list() or [f"x{j}" for j in range(len(counts["n"]))]
    return _report(est, names, counts)


def _report(est: Any, names: list[str], counts: dict[str, Any]) -> Any:
    import pandas as pd

    low, high = est.affine_.low, est.affine_.high
    train_mean, train_std = est.stats_.mean, est.stats_.std()
    n = counts["n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        new_mean = np.where(n > 0, counts["sum"] / np.maximum(n, 1), np.nan)  # all-NaN column: NaN
        frame = pd.DataFrame(
            {
                "n": n,
                "n_below": counts["n_below"],
                "n_above": counts["n_above"],
                "share_outside": (counts["n_below"] + counts["n_above"]) / np.maximum(n, 1),
                "min": counts["min"],
                "max": counts["max"],
                "fitted_low": low,
                "fitted_high": high,
                "max_excess": counts["max_excess"],
                "max_excess_ranges": counts["max_excess"] / np.where(high > low, high - low, np.nan),
                "first_row": counts["first_row"],
                "mean_shift_std": (new_mean - train_mean) / np.where(train_std > 0, train_std, np.nan),
            },
            index=pd.Index(names, name="feature"),
        )
    return frame


def layout_rows(layout: _layout.Layout, keep: np.ndarray | None) -> int:
    """Number of rows of the layout before padding was removed."""
    return int(np.prod(layout.shape[:-1])) if len(layout.shape) > 1 else layout.shape[0]


def _first(mask: np.ndarray, index: Any) -> Any:
    hits = np.flatnonzero(mask)
    if hits.size == 0:
        return None
    return index[hits[0]] if index is not None else int(hits[0])


def _grouped_report(
    est: Any, rows: np.ndarray, codes: np.ndarray, names: list[str], index: Any = None
) -> Any:
    import pandas as pd

    low, high = est.affine_.low[codes], est.affine_.high[codes]
    with np.errstate(invalid="ignore"):
        below, above = rows < low, rows > high
    n_series, nf = est.affine_.scale.shape
    train_mean, train_std = est.series_stats_.mean, est.series_stats_.std()
    frames = []
    for j in range(nf):
        x = rows[:, j]
        valid = ~np.isnan(x)
        count = np.bincount(codes, weights=valid, minlength=n_series)
        nb = np.bincount(codes, weights=below[:, j], minlength=n_series)
        na = np.bincount(codes, weights=above[:, j], minlength=n_series)
        excess = np.zeros(n_series)
        gap = np.where(below[:, j], low[:, j] - x, np.where(above[:, j], x - high[:, j], 0.0))
        np.maximum.at(excess, codes, np.nan_to_num(gap))
        total = np.bincount(codes, weights=np.where(valid, x, 0.0), minlength=n_series)
        seen = count > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            shift = (total / count - train_mean[:, j]) / np.where(
                train_std[:, j] > 0, train_std[:, j], np.nan
            )
        first = _first_per_series(below[:, j] | above[:, j], codes, n_series, index)
        frames.append(
            pd.DataFrame(
                {
                    "series": est.series_[seen],
                    "feature": names[j],
                    "n": count[seen].astype(int),
                    "n_below": nb[seen].astype(int),
                    "n_above": na[seen].astype(int),
                    "share_outside": (nb + na)[seen] / count[seen],
                    "fitted_low": est.affine_.low[seen, j],
                    "fitted_high": est.affine_.high[seen, j],
                    "max_excess": excess[seen],
                    "first_row": [first[g] for g in np.flatnonzero(seen)],
                    "mean_shift_std": shift[seen],
                }
            )
        )
    return pd.concat(frames, ignore_index=True).set_index(["series", "feature"])


def _first_per_series(mask: np.ndarray, codes: np.ndarray, n_series: int, index: Any) -> list:
    """Row label (or position) of each series' first flagged row; None where there is none."""
    first: list = [None] * n_series
    hits = np.flatnonzero(mask)
    seen_codes, where = np.unique(codes[hits], return_index=True)
    for code, pos in zip(seen_codes, hits[where]):
        first[int(code)] = index[pos] if index is not None else int(pos)
    return first
