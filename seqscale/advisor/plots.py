"""The matplotlib figures of the HTML report (:mod:`seqscale.advisor.report`).

matplotlib is imported inside the functions and used through ``matplotlib.figure.Figure`` only
(no pyplot, no global backend switch).
"""

from __future__ import annotations

import base64
import io
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from seqscale.advisor import profile as _profile

if TYPE_CHECKING:  # pragma: no cover
    from seqscale.advisor.results import ColumnAdvice

__all__ = [
    "DPI",
    "FIGSIZE",
    "bar_plot",
    "figure_to_data_uri",
    "histograms",
    "plot_style",
    "series_plot",
    "time_values",
]

FIGSIZE = (9.0, 2.6)
DPI = 96
_PLOT_POINTS = 4000
_MAX_SERIES_PLOTTED = 4
_RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_TRAIN_COLOR, _TEST_COLOR, _RAW_COLOR = "#3b75af", "#e1812c", "#5f6b7a"


def figure_to_data_uri(fig: Any, *, dpi: int | None = None, close: bool = True) -> str:
    """Render a matplotlib figure to ``"data:image/png;base64,..."`` for an ``<img src=...>``.

    Works with ``matplotlib.figure.Figure`` objects and pyplot figures alike. With ``close=True``
    a pyplot-managed figure is closed afterwards (a bare ``Figure`` needs no closing).
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi or fig.dpi, metadata={"Software": None})
    if close:
        import sys

        if "matplotlib.pyplot" in sys.modules:  # only pyplot keeps figures alive
            sys.modules["matplotlib.pyplot"].close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def plot_style():
    """Context manager with the report's matplotlib style."""
    import matplotlib

    return matplotlib.rc_context(_RC)


def _new_figure(ncols: int = 1):
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="tight")
    axes = fig.subplots(1, ncols)
    return fig, np.atleast_1d(axes)


def _bins(values: np.ndarray) -> np.ndarray | int:
    if values.size == 0:
        return 10
    lo, hi = float(values.min()), float(values.max())
    if not hi > lo:
        return np.array([lo - 0.5, hi + 0.5])
    try:
        edges = np.histogram_bin_edges(values, bins="fd")
    except (ValueError, MemoryError):  # pragma: no cover
        edges = np.array([])
    n_bins = int(min(60, max(10, edges.size - 1))) if edges.size > 1 else 30
    return np.linspace(lo, hi, n_bins + 1)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ------------------------------------------------------------------------------------------------
# Histograms before/after the recommended preparation
# ------------------------------------------------------------------------------------------------
def histograms(col: ColumnAdvice, raw: np.ndarray, after: np.ndarray, is_train: np.ndarray):
    """Raw values (all rows) next to the prepared values (train and test)."""
    fig, (ax1, ax2) = _new_figure(2)
    _raw_histogram(ax1, col, raw)
    _after_histogram(ax2, col, after, is_train)
    return fig


def _raw_histogram(ax: Any, col: ColumnAdvice, raw: np.ndarray) -> None:
    values = raw[np.isfinite(raw)]
    ax.hist(values, bins=_bins(values), color=_RAW_COLOR, alpha=0.9)
    ax.set_title(_short(f"{col.name}: before (raw, all rows)"))
    ax.set_xlabel("value")
    ax.set_ylabel("count")


def _after_histogram(ax: Any, col: ColumnAdvice, after: np.ndarray, is_train: np.ndarray) -> None:
    ok = np.isfinite(after)
    tr, te = after[ok & is_train], after[ok & ~is_train]
    bins = _bins(after[ok])
    if tr.size:
        ax.hist(tr, bins=bins, color=_TRAIN_COLOR, alpha=0.75, label="train")
    if te.size:
        ax.hist(te, bins=bins, color=_TEST_COLOR, alpha=0.6, label="test")
    if col.method == "minmax":
        lo, hi = col.feature_range or [0, 1]
        for edge in (lo, hi):
            ax.axvline(edge, color="black", lw=0.8, ls="--")
    ax.set_title(_short(f"{col.name}: after {col.recommendation}"))
    ax.set_xlabel("scaled value")
    ax.set_ylabel("count")
    if tr.size or te.size:
        ax.legend(loc="upper right", frameon=False)


# ------------------------------------------------------------------------------------------------
# The series over time
# ------------------------------------------------------------------------------------------------
def time_values(frame: pd.DataFrame, time: str | None) -> np.ndarray | None:
    """Plottable x values of the time column (None: plot against row positions)."""
    if time is None:
        return None
    values = frame[time]
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.dt.to_timestamp().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        out = values.to_numpy()
        if getattr(out.dtype, "tz", None) is not None:  # pragma: no cover
            out = values.dt.tz_localize(None).to_numpy()
        return out
    return None  # strings etc.: fall back to positions


def _series_groups(order: _profile.Ordering) -> list[np.ndarray]:
    """Row positions (time order) of the longest series plotted, or of the single series."""
    if order.n_series <= 1:
        return [order.series_order]
    ranked = np.argsort(-order.series_lengths, kind="stable")[:_MAX_SERIES_PLOTTED]
    codes_ordered = order.codes[order.series_order]
    return [order.series_order[codes_ordered == k] for k in ranked]


def _plot_group(ax: Any, raw: np.ndarray, rows: np.ndarray, xs_all: Any, label: str, i: int):
    stride = max(1, math.ceil(rows.size / _PLOT_POINTS))
    shown = rows[::stride]
    xs = xs_all[shown] if xs_all is not None else np.arange(rows.size)[::stride]
    color = _TRAIN_COLOR if i == 0 else None
    ax.plot(xs, raw[shown], lw=0.8, color=color, label=label)


def _test_start(rows: np.ndarray, test_rows: np.ndarray, xs_all: Any) -> tuple[Any, Any]:
    """x of the first test row and of the last row of a series."""
    first = int(np.argmax(test_rows))
    if xs_all is None:
        return first, rows.size - 1
    return xs_all[rows[first]], xs_all[rows[-1]]


def series_plot(
    col: ColumnAdvice,
    raw: np.ndarray,
    order: _profile.Ordering,
    is_train: np.ndarray,
    time_values: np.ndarray | None,
    time_label: str,
):
    """The raw series (up to four of the longest) with the test period shaded."""
    fig, (ax,) = _new_figure(1)
    groups = _series_groups(order)
    boundary = x_end = None
    for i, rows in enumerate(groups):
        label = f"series {i + 1}" if len(groups) > 1 else col.name
        _plot_group(ax, raw, rows, time_values, label, i)
        test_rows = ~is_train[rows]
        if test_rows.any() and (boundary is None or i == 0):
            boundary, x_end = _test_start(rows, test_rows, time_values)
    if boundary is not None:
        ax.axvline(boundary, color="black", lw=1.0, ls="--")
        ax.axvspan(boundary, x_end, color=_TEST_COLOR, alpha=0.15, lw=0, label="test period")
    ax.set_title(_short(f"{col.name}: series over time (train | test)", 90))
    ax.set_xlabel(time_label)
    ax.set_ylabel("value")
    ax.legend(loc="upper left", frameon=False, ncols=min(5, len(groups) + 1))
    return fig


# ------------------------------------------------------------------------------------------------
# Level counts
# ------------------------------------------------------------------------------------------------
def _level_label(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return _short(str(value), 14)


def bar_plot(col: ColumnAdvice, series: pd.Series):
    """Counts of the 20 most frequent levels (missing values as their own level)."""
    fig, (ax,) = _new_figure(1)
    counts = series.astype("object").where(series.notna(), "(missing)").value_counts()
    top = counts.iloc[:20]
    try:
        top = top.sort_index()
    except TypeError:  # mixed types: keep the frequency order
        pass
    labels = [_level_label(v) for v in top.index]
    ax.bar(range(len(top)), top.to_numpy(), color=_TRAIN_COLOR)
    many = len(top) > 8
    ax.set_xticks(range(len(top)), labels, rotation=30 if many else 0, ha="right" if many else "center")
    more = f" (top 20 of {counts.size})" if counts.size > 20 else ""
    ax.set_title(_short(f"{col.name}: level counts{more}", 90))
    ax.set_xlabel("level")
    ax.set_ylabel("count")
    return fig
