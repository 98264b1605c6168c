"""Figures of a :class:`~seqscale.lab.comparison.ComparisonResult`: losses per epoch, forecasts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["forecast_figure", "loss_figure", "number_text"]

_COLORS = {"raw": "#7f7f7f", "normalized": "#2ca02c", "standardized": "#1f77b4", "advised": "#d62728"}
_EXTRA_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")
PLOTTED_SERIES = 4


def number_text(value: float) -> str:
    """A score as the tables and figures print it (``n/a`` when undefined)."""
    if value is None or not math.isfinite(value):
        return "n/a"
    if abs(value) >= 1e5 or (0 < abs(value) < 1e-3):
        return f"{value:.3g}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def _color(name: str, i: int) -> str:
    return _COLORS.get(name, _EXTRA_COLORS[i % len(_EXTRA_COLORS)])


def loss_figure(result: Any) -> Any:
    """matplotlib Figure: training and validation loss per epoch, one panel per variant."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    names = list(result.histories)
    ncols = min(2, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig = Figure(figsize=(9.0, 2.6 * nrows + 0.5), dpi=96, layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, name in zip(axes, names):
        for run in result.histories[name]:
            epochs = np.arange(1, len(run["train"]) + 1)
            best = run["best_epoch"]
            ax.plot(epochs, run["train"], color="#1f77b4", lw=1.1, alpha=0.85)
            ax.plot(epochs, run["validation"], color="#ff7f0e", lw=1.1, ls="--", alpha=0.9)
            ax.plot([best], [run["validation"][best - 1]], "o", color="#ff7f0e", ms=4)
        ax.set_yscale("log")
        units = result.loss_units.get(name, "scaled")
        ax.set_title(f"{name} (target in {units} units)", loc="left")
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"MSE ({units} units)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, which="major", alpha=0.3)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    n_seeds = len(next(iter(result.histories.values()), []))
    handles = [
        Line2D([], [], color="#1f77b4", lw=1.1, label="train"),
        Line2D([], [], color="#ff7f0e", lw=1.1, ls="--", label="validation (last windows)"),
        Line2D([], [], color="#ff7f0e", ls="", marker="o", ms=4, label="best epoch (weights restored)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    fig.suptitle(
        f"Loss per epoch, one line per seed ({n_seeds} seed{'s' if n_seeds != 1 else ''}). "
        "Each panel is in its own units: compare curves within a panel, not across panels.",
        fontsize=9,
    )
    return fig


def forecast_figure(result: Any) -> Any:
    """matplotlib Figure: the actual test values and each variant's mean forecast.

    Panels: one axis for each of the first four series.
    """
    from matplotlib.figure import Figure

    preds = result.predictions
    if isinstance(preds.index, pd.MultiIndex):
        ids = preds.index.get_level_values(0).unique()[:PLOTTED_SERIES]
        parts = [(i, preds.xs(i, level=0), None) for i in ids]
    else:
        parts = [(None, preds, result.context)]
    fig = Figure(figsize=(9.0, 3.4 * len(parts) + 0.4), dpi=96, layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(parts), 1, squeeze=False)).ravel()
    for ax, (series, part, context) in zip(axes, parts):
        _draw_forecasts(result, ax, part, context, series)
    return fig


def _draw_forecasts(result: Any, ax: Any, preds: pd.DataFrame, context: Any, series: Any) -> None:
    """One axis: the actual values and each variant's forecast, labelled with its RMSE (of that
    series for a panel)."""
    target, h = result.settings["target"], result.settings["n_out"]
    col = (lambda n: n) if h == 1 else (lambda n: f"{n}+1")
    x = preds.index
    if context is not None and len(context):
        ax.plot(context.index, context.to_numpy(), color="#bbbbbb", lw=1.4, label="training period (actual)")
        ax.axvline(x[0], color="#999999", lw=0.8, ls=":")
    actual = preds[col("actual")].to_numpy(dtype=float)
    ax.plot(x, actual, color="black", lw=2.0, label="actual (test period)")
    lo, hi = np.nanmin(actual), np.nanmax(actual)
    if context is not None and len(context):
        lo, hi = min(lo, float(context.min())), max(hi, float(context.max()))
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    for name in result.histories:  # forecasts near the actual values widen the view to show them
        y = preds[col(name)].to_numpy(dtype=float)
        if np.isfinite(y).any() and lo - 2 * span <= np.nanmin(y) and np.nanmax(y) <= hi + 2 * span:
            lo, hi = min(lo, float(np.nanmin(y))), max(hi, float(np.nanmax(y)))
    pad = 0.25 * (hi - lo if hi > lo else max(abs(hi), 1.0))
    ylim = (lo - pad, hi + pad)
    rmse = result.table.set_index("variant")["rmse_mean"]
    if series is not None:
        st = result.series_table
        rmse = st.loc[st[result.settings["id"]] == series].iloc[0]
    for i, name in enumerate(result.histories):
        y = preds[col(name)].to_numpy(dtype=float)
        outside = (y < ylim[0]) | (y > ylim[1])
        off = bool(outside.any())
        text = f"{name} (RMSE {number_text(float(rmse[name]))})"
        if off:
            text += (
                f": off the chart\n(mean forecast {number_text(float(np.nanmean(y)))})"
                if outside.all()
                else ": partly off the chart"
            )
        shown = np.where(outside, np.nan, y)  # not clipped: an edge line would mislead
        ax.plot(x, shown, color=_color(name, i), lw=1.3, ls="-" if not off else (0, (4, 2)), label=text)
    ax.set_ylim(*ylim)
    if pd.api.types.is_integer_dtype(x):  # years: no 1951.5 ticks
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(str(result.settings.get("time") or "time step"))
    ax.set_ylabel(f"{target} (original units)")
    step = "" if h == 1 else " (horizon 1)"
    where = f" — {result.settings['id']} {series}" if series is not None else ""
    ax.set_title(f"{target}{where}: actual vs LSTM forecasts{step}, mean over seeds", loc="left")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
