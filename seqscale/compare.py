"""Does scaling matter for *this* data? Train the same LSTM on raw, normalized, standardized and
advised inputs and compare the forecasts in original units.

Every variant gets the same network (:mod:`seqscale._lstm`: one LSTM layer of 32 units and a
linear head), the same windows (``n_in``, ``n_out``), the same epoch budget, early-stopping rule
and seeds. Only the preparation differs:

``raw``
    no scaling (method ``none`` for every numeric column and the target); categorical columns
    are still one-hot encoded.
``normalized``
    minmax to [0, 1] for every numeric column and the target.
``standardized``
    zero mean, unit variance for every numeric column and the target.
``advised``
    the plan :func:`seqscale.advise` writes for the training part, including the ``log1p`` and
    differencing it recommends.

Roles (input, target, categorical, ignore) come from the advice for every variant, so the
variants see the same columns. Each pipeline is fitted on the training part only (the earlier
``1 - test_size`` of the rows, never shuffled); the test windows get ``n_in`` (plus the
differencing span) rows of training history in front, so the first forecast is the first test
step. Forecasts go back to original units through :meth:`SequencePipeline.inverse_target` and
are scored by RMSE and MAE against the true values, as mean and standard deviation over the seeds.
A last-value (persistence) forecast is reported next to the table as a reference.

Examples
--------
>>> import numpy as np, pandas as pd
>>> t = np.arange(200)
>>> frame = pd.DataFrame({"t": t, "y": 50 + 0.2 * t + 5 * np.sin(t / 5)})
>>> result = compare(frame, "y", time="t", n_in=8, seeds=1, epochs=2)  # doctest: +SKIP
>>> list(result.table["variant"])  # doctest: +SKIP
['raw', 'normalized', 'standardized', 'advised']
"""

from __future__ import annotations

import copy
import html
import json
import math
import os
import time as _time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqscale.errors import InputError, ParameterError

__all__ = ["VARIANTS", "ComparisonResult", "compare", "variant_plans"]

VARIANTS = ("raw", "normalized", "standardized", "advised")
_UNIFORM = {"raw": "none", "normalized": "minmax", "standardized": "standard"}
_COLORS = {
    "raw": "#7f7f7f",
    "normalized": "#2ca02c",
    "standardized": "#1f77b4",
    "advised": "#d62728",
}
_EXTRA_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")
_TIMES = "\u00d7"  # the multiplication sign of "1.08x the best"


# ================================================================================================
# Plans
# ================================================================================================
def _uniform_plan(advised: dict, method: str) -> dict:
    """The advised plan's roles with one scaling method, no log1p and no differencing."""
    plan = copy.deepcopy(advised)
    for name, spec in plan["columns"].items():
        if spec.get("role") not in ("input", "target") or spec.get("encode"):
            continue
        entry = {
            "role": spec["role"],
            "log": False,
            "difference": None,
            "method": method,
            "bounds": None,
        }
        if method == "minmax":
            entry["feature_range"] = [0, 1]
        entry["reason"] = f"comparison variant: {method} for every numeric column"
        plan["columns"][name] = entry
    return plan


def variant_plans(
    train: pd.DataFrame, target: str, *, time: str | None = None, n_in: int = 12, n_out: int = 1
) -> dict[str, dict]:
    """The plans of the four standard variants, from the advice on the training part.

    Returns ``{"raw": plan, "normalized": plan, "standardized": plan, "advised": plan}``; every
    plan uses the window ``n_in``/``n_out``.
    """
    from seqscale.advise import advise

    advised = copy.deepcopy(advise(train, target=target, time=time, task="regression").plan)
    advised["window"] = {"n_in": int(n_in), "n_out": int(n_out)}
    plans = {name: _uniform_plan(advised, method) for name, method in _UNIFORM.items()}
    plans["advised"] = advised
    return plans


def _resolve_plans(plans: dict | None, defaults: dict[str, dict], n_in: int, n_out: int) -> dict[str, dict]:
    """The default variants updated by ``plans`` (a name mapped to None drops a default)."""
    from seqscale.advise import load_plan, validate_plan

    if plans is None:
        return defaults
    if not isinstance(plans, dict):
        raise ParameterError(
            "plans must be a dict {variant name: plan dict or plan file}; a name mapped to None "
            f"drops that default variant. Got {type(plans).__name__}."
        )
    out = dict(defaults)
    for name, plan in plans.items():
        if plan is None:
            out.pop(str(name), None)
            continue
        is_path = isinstance(plan, (str, os.PathLike))
        plan = copy.deepcopy(load_plan(plan) if is_path else validate_plan(plan))
        plan["window"] = {"n_in": int(n_in), "n_out": int(n_out)}  # same windows for all
        out[str(name)] = plan
    if not out:
        raise ParameterError("plans dropped every variant; keep at least one.")
    return out


# ================================================================================================
# The result
# ================================================================================================
@dataclass
class ComparisonResult:
    """What :func:`compare` found.

    Attributes
    ----------
    table : DataFrame, one row per variant: ``variant``, ``rmse_mean``, ``rmse_std``,
        ``mae_mean``, ``mae_std`` (original units; std over seeds), ``epochs_run`` (mean over
        seeds), ``best`` (lowest mean RMSE)
    runs : DataFrame, one row per (variant, seed): ``rmse``, ``mae``, ``epochs_run``,
        ``best_epoch``, ``seconds``
    histories : ``{variant: [{"seed", "train", "validation", "best_epoch", "epochs_run"}, ...]}``
        per-epoch MSE in the variant's own (scaled) target units
    predictions : DataFrame indexed by target time: ``actual`` and each variant's forecast (mean
        over seeds), original units; ``name+h`` columns for horizon ``h`` when ``n_out > 1``
    baseline : the last-value (persistence) forecast's ``rmse`` and ``mae`` (a reference)
    plans : the plan of each variant
    loss_units : ``{variant: "scaled" | "original"}``, the units of that variant's losses
    settings : the comparison's parameters, the split and the elapsed time
    context : the actual target values just before the test period (for the forecast plot)
    """

    table: pd.DataFrame
    runs: pd.DataFrame
    histories: dict[str, list[dict]]
    predictions: pd.DataFrame
    baseline: dict
    plans: dict[str, dict]
    loss_units: dict[str, str]
    settings: dict = field(default_factory=dict)
    context: pd.Series | None = None

    # ------------------------------------------------------------------ summary
    @property
    def best(self) -> str:
        """Name of the variant with the lowest mean RMSE."""
        return str(self.table.loc[self.table["rmse_mean"].idxmin(), "variant"])

    def verdict(self) -> str:
        """One line: the best variant and how the others (advised first) compare to it."""
        t = self.table.set_index("variant")
        best = self.best
        b = t.loc[best]
        line = f"best: {best} (RMSE {_num(b.rmse_mean)} ± {_num(b.rmse_std)})"
        others = t.drop(index=best)
        if "advised" in others.index:
            ratio = others.loc["advised", "rmse_mean"] / b.rmse_mean
            line += f"; advised is {ratio:.2f}{_TIMES} the best"
            noise = _noise(b, others.loc["advised"])
            if noise:
                line += " (within seed noise)"
        elif best == "advised" and len(others):
            runner = others["rmse_mean"].idxmin()
            ratio = others.loc[runner, "rmse_mean"] / b.rmse_mean
            line += f"; next: {runner} at {ratio:.2f}{_TIMES}"
            if _noise(b, others.loc[runner]):
                line += " (within seed noise)"
        if "raw" in others.index and best != "raw":
            line += f"; raw is {others.loc['raw', 'rmse_mean'] / b.rmse_mean:.2f}{_TIMES}"
        base = self.baseline.get("rmse")
        if base is not None and math.isfinite(base):
            beaten = b.rmse_mean < base
            line += (
                f". Last-value forecast: RMSE {_num(base)} "
                f"({'beaten' if beaten else 'not beaten'} by the best LSTM)"
            )
        return line

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict:
        """Everything as plain JSON-ready values."""
        preds = self.predictions.reset_index()
        return {
            "format": "seqscale.comparison",
            "version": 1,
            "settings": _jsonable(self.settings),
            "verdict": self.verdict(),
            "table": _jsonable(self.table.to_dict(orient="records")),
            "runs": _jsonable(self.runs.to_dict(orient="records")),
            "baseline": _jsonable(self.baseline),
            "loss_units": dict(self.loss_units),
            "histories": _jsonable(self.histories),
            "predictions": _jsonable(preds.to_dict(orient="list")),
            "plans": _jsonable(self.plans),
        }

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` as JSON, atomically."""
        from seqscale._atomic import atomic_write

        with atomic_write(path) as handle:
            json.dump(self.to_dict(), handle, indent=1, ensure_ascii=False, allow_nan=False)
            handle.write("\n")
        return Path(path)

    # ------------------------------------------------------------------ figures
    def loss_figure(self) -> Any:
        """matplotlib Figure: training and validation loss per epoch, one panel per variant."""
        from matplotlib.figure import Figure

        names = list(self.histories)
        ncols = min(2, len(names))
        nrows = math.ceil(len(names) / ncols)
        fig = Figure(figsize=(9.0, 2.6 * nrows + 0.5), dpi=96, layout="constrained")
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        from matplotlib.lines import Line2D
        from matplotlib.ticker import MaxNLocator

        for ax, name in zip(axes, names):
            for run in self.histories[name]:
                epochs = np.arange(1, len(run["train"]) + 1)
                best = run["best_epoch"]
                ax.plot(epochs, run["train"], color="#1f77b4", lw=1.1, alpha=0.85)
                ax.plot(epochs, run["validation"], color="#ff7f0e", lw=1.1, ls="--", alpha=0.9)
                ax.plot([best], [run["validation"][best - 1]], "o", color="#ff7f0e", ms=4)
            ax.set_yscale("log")
            units = self.loss_units.get(name, "scaled")
            ax.set_title(f"{name} (target in {units} units)", loc="left")
            ax.set_xlabel("epoch")
            ax.set_ylabel(f"MSE ({units} units)")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(True, which="major", alpha=0.3)
        for ax in axes[len(names) :]:
            ax.set_visible(False)
        n_seeds = len(next(iter(self.histories.values()), []))
        handles = [
            Line2D([], [], color="#1f77b4", lw=1.1, label="train"),
            Line2D([], [], color="#ff7f0e", lw=1.1, ls="--", label="validation (last windows)"),
            Line2D(
                [],
                [],
                color="#ff7f0e",
                ls="",
                marker="o",
                ms=4,
                label="best epoch (weights restored)",
            ),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
        fig.suptitle(
            f"Loss per epoch, one line per seed ({n_seeds} seed{'s' if n_seeds != 1 else ''}). "
            "Each panel is in its own units: compare curves within a panel, not across panels.",
            fontsize=9,
        )
        return fig

    def forecast_figure(self) -> Any:
        """matplotlib Figure: the actual test values and each variant's mean forecast."""
        from matplotlib.figure import Figure

        target, h = self.settings["target"], self.settings["n_out"]
        col = (lambda n: n) if h == 1 else (lambda n: f"{n}+1")
        preds = self.predictions
        x = preds.index
        fig = Figure(figsize=(9.0, 3.8), dpi=96, layout="constrained")
        ax = fig.subplots()
        context = self.context
        if context is not None and len(context):
            ax.plot(
                context.index,
                context.to_numpy(),
                color="#bbbbbb",
                lw=1.4,
                label="training period (actual)",
            )
            ax.axvline(x[0], color="#999999", lw=0.8, ls=":")
        actual = preds[col("actual")].to_numpy(dtype=float)
        ax.plot(x, actual, color="black", lw=2.0, label="actual (test period)")
        lo, hi = np.nanmin(actual), np.nanmax(actual)
        if context is not None and len(context):
            lo, hi = min(lo, float(context.min())), max(hi, float(context.max()))
        pad = 0.25 * (hi - lo if hi > lo else max(abs(hi), 1.0))
        ylim = (lo - pad, hi + pad)
        table = self.table.set_index("variant")
        for i, name in enumerate(self.histories):
            y = preds[col(name)].to_numpy(dtype=float)
            outside = (y < ylim[0]) | (y > ylim[1])
            off = bool(outside.any())
            label = f"{name} (RMSE {_num(table.loc[name, 'rmse_mean'])})"
            if off:
                label += (
                    f": off the chart\n(mean forecast {_num(float(np.nanmean(y)))})"
                    if outside.all()
                    else ": partly off the chart"
                )
            shown = np.where(outside, np.nan, y)  # not clipped: an edge line would mislead
            ax.plot(
                x,
                shown,
                color=_color(name, i),
                lw=1.3,
                ls="-" if not off else (0, (4, 2)),
                label=label,
            )
        ax.set_ylim(*ylim)
        ax.set_xlabel(str(self.settings.get("time") or "time step"))
        ax.set_ylabel(f"{target} (original units)")
        step = "" if h == 1 else " (horizon 1)"
        ax.set_title(f"{target}: actual vs LSTM forecasts{step}, mean over seeds", loc="left")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
        return fig

    def plot_losses(self, path: str | os.PathLike[str]) -> Path:
        """PNG of the training/validation loss curves (log scale), one panel per variant."""
        return _save_png(self.loss_figure, path)

    def plot_forecasts(self, path: str | os.PathLike[str]) -> Path:
        """PNG of the actual test values and each variant's forecast (x = time)."""
        return _save_png(self.forecast_figure, path)

    # ------------------------------------------------------------------ display
    def __rich__(self) -> Any:
        from rich.table import Table

        s = self.settings
        table = Table(
            title=(
                f"LSTM on {s['target']}: {s['seeds']} seed(s), ≤ {s['epochs']} epochs "
                f"(patience {s['patience']}), n_in={s['n_in']}, n_out={s['n_out']}, "
                f"{s['n_test']} test rows"
            ),
            caption=self.verdict(),
            caption_justify="left",
        )
        for name, justify in [
            ("variant", "left"),
            ("RMSE", "right"),
            ("MAE", "right"),
            (f"{_TIMES} best RMSE", "right"),
            ("epochs run", "right"),
        ]:
            table.add_column(name, justify=justify)
        best = float(self.table["rmse_mean"].min())
        for row in self.table.itertuples(index=False):
            table.add_row(
                str(row.variant) + (" ★" if row.best else ""),
                f"{_num(row.rmse_mean)} ± {_num(row.rmse_std)}",
                f"{_num(row.mae_mean)} ± {_num(row.mae_std)}",
                f"{row.rmse_mean / best:.2f}",
                f"{row.epochs_run:.1f}",
                style="bold green" if row.best else None,
            )
        base = self.baseline
        table.add_row(
            "last value (reference)",
            _num(base["rmse"]),
            _num(base["mae"]),
            f"{base['rmse'] / best:.2f}",
            "—",
            style="dim",
        )
        return table

    def html_section(self) -> str:
        """HTML fragment: verdict, table and both figures as data URIs (for ``extra_sections``)."""
        from seqscale._plots import figure_to_data_uri, plot_style

        s = self.settings
        best = float(self.table["rmse_mean"].min())
        head = (
            "<tr><th>variant</th><th>RMSE (mean ± std)</th><th>MAE (mean ± std)</th>"
            f"<th>{_TIMES} best RMSE</th><th>epochs run</th></tr>"
        )
        rows = []
        for row in self.table.itertuples(index=False):
            style = ' style="background:#e8f5e9;font-weight:bold"' if row.best else ""
            rows.append(
                f"<tr{style}><td>{html.escape(str(row.variant))}{' ★' if row.best else ''}</td>"
                f'<td class="num">{_num(row.rmse_mean)} ± {_num(row.rmse_std)}</td>'
                f'<td class="num">{_num(row.mae_mean)} ± {_num(row.mae_std)}</td>'
                f'<td class="num">{row.rmse_mean / best:.2f}</td>'
                f'<td class="num">{row.epochs_run:.1f}</td></tr>'
            )
        base = self.baseline
        rows.append(
            f'<tr style="color:#52606d"><td>last value (reference)</td>'
            f'<td class="num">{_num(base["rmse"])}</td><td class="num">{_num(base["mae"])}</td>'
            f'<td class="num">{base["rmse"] / best:.2f}</td><td class="num">—</td></tr>'
        )
        with plot_style():
            losses = figure_to_data_uri(self.loss_figure())
            forecasts = figure_to_data_uri(self.forecast_figure())
        return (
            f'<p class="reason">{html.escape(self.verdict())}</p>'
            f"<p>The same LSTM (1 layer, {s['hidden']} units, linear head) trained on each "
            f"preparation of <b>{html.escape(str(s['target']))}</b> and its inputs: "
            f"{s['seeds']} seed(s), at most {s['epochs']} epochs with early stopping "
            f"(patience {s['patience']}) on the last {s['validation']:.0%} of the training "
            f"windows, n_in={s['n_in']}, n_out={s['n_out']}. Pipelines fitted on the "
            f"{s['n_train']} training rows only; scored on the {s['n_test']} test rows in "
            "original units.</p>"
            f"<table>{head}{''.join(rows)}</table>"
            f'<img src="{forecasts}" alt="actual vs forecasts over the test period">'
            f'<img src="{losses}" alt="training and validation loss per variant">'
            '<p class="note">Losses are in each variant\'s own target units (raw: original '
            "units), so their levels are not comparable across panels; RMSE and MAE are.</p>"
        )


# ================================================================================================
# compare
# ================================================================================================
def compare(
    frame: Any,
    target: str,
    *,
    time: str | None = None,
    plans: dict | None = None,
    test_size: float | int = 0.2,
    n_in: int = 12,
    n_out: int = 1,
    seeds: int = 3,
    epochs: int = 60,
    patience: int = 10,
    progress: bool = False,
) -> ComparisonResult:
    """Train the same LSTM on differently prepared data; score the forecasts in original units.

    Parameters
    ----------
    frame : DataFrame (pandas; polars is converted), rows = time steps of one series
    target : the column to forecast
    time : time column (rows must be sorted by it); default: row order
    plans : optional ``{name: plan dict or plan file}`` added to (or replacing) the four default
        variants; ``{name: None}`` drops a default. Every plan's window is set to
        ``n_in``/``n_out`` so the variants see the same windows.
    test_size : share (or row count) of the last rows held out as the test period
    n_in, n_out : input steps and forecast steps per window
    seeds : seeds per variant (0 .. seeds-1); the table reports mean ± std over them
    epochs, patience : epoch budget and early-stopping patience (validation: the last 20 % of
        the training windows)
    progress : show a progress bar over (variant, seed)

    Returns
    -------
    ComparisonResult
    """
    from seqscale import _lstm
    from seqscale._time import with_time
    from seqscale.pipeline import SequencePipeline
    from seqscale.pipeline import _plain as plain
    from seqscale.split import split_by_time

    started = _time.perf_counter()
    df, target = _check_args(frame, target, time, n_in, n_out, seeds, epochs, patience)
    df = with_time(df, time)  # the one time parser: text dates, years, quarters ...
    train, test, cutoff = split_by_time(df, test_size, time=time)
    defaults = variant_plans(train, target, time=time, n_in=n_in, n_out=n_out)
    chosen = _resolve_plans(plans, defaults, n_in, n_out)

    pipes, data = {}, {}
    for name, plan in chosen.items():
        pipe = SequencePipeline.from_plan(plan, n_in=n_in, n_out=n_out, test_start=cutoff)
        pipe.fit(train)
        history = n_in + pipe.span_
        if len(train) < history + n_out:
            raise InputError(
                f"the training part has {len(train)} rows; variant {name!r} needs more than "
                f"{history + n_out} (n_in + differencing span + n_out). Lower n_in or test_size."
            )
        test_frame = pd.concat([train.iloc[len(train) - history :], test])
        X_train, y_train = pipe.transform(train)
        X_test, _ = pipe.transform(test_frame)
        pipes[name], data[name] = pipe, (X_train, y_train, X_test, test_frame)

    truth = _truth(df, target, time)
    runs, histories, forecasts = [], {name: [] for name in chosen}, {}
    with _progress(progress, len(chosen) * seeds) as advance:
        for name, pipe in pipes.items():
            X_train, y_train, X_test, test_frame = data[name]
            per_seed = []
            for seed in range(seeds):
                t0 = _time.perf_counter()
                fit = _lstm.train_lstm(X_train, y_train, seed=seed, epochs=epochs, patience=patience)
                pred = _lstm.predict(fit.model, X_test)
                back = pipe.inverse_target(pred, frame=test_frame)
                values = back[_forecast_columns(target, n_out)].to_numpy(dtype=np.float64)
                actual = _actuals(truth, back.index, n_out)
                err = values - actual
                runs.append(
                    {
                        "variant": name,
                        "seed": seed,
                        "rmse": float(np.sqrt(np.nanmean(err**2))),
                        "mae": float(np.nanmean(np.abs(err))),
                        "epochs_run": fit.epochs_run,
                        "best_epoch": fit.best_epoch,
                        "seconds": _time.perf_counter() - t0,
                    }
                )
                histories[name].append(
                    {
                        "seed": seed,
                        "train": fit.history["train"],
                        "validation": fit.history["validation"],
                        "best_epoch": fit.best_epoch,
                        "epochs_run": fit.epochs_run,
                    }
                )
                per_seed.append(pd.DataFrame(values, index=back.index))
                advance(f"{name}, seed {seed}")
            forecasts[name] = sum(per_seed) / len(per_seed)

    runs_df = pd.DataFrame(runs)
    table = _summary(runs_df, list(chosen))
    index = next(iter(forecasts.values())).index
    predictions = _predictions(truth, index, forecasts, n_out)
    baseline = _persistence(truth, index, n_out)
    loss_units = {name: _units(pipe, target) for name, pipe in pipes.items()}
    context = truth.loc[: index[0]].iloc[-(3 * n_in + 1) : -1]
    settings = {
        "target": target,
        "time": time,
        "n_in": int(n_in),
        "n_out": int(n_out),
        "seeds": int(seeds),
        "epochs": int(epochs),
        "patience": int(patience),
        "hidden": _lstm.HIDDEN,
        "learning_rate": _lstm.LEARNING_RATE,
        "batch_size": _lstm.BATCH_SIZE,
        "validation": _lstm.VALIDATION_SHARE,
        "test_size": test_size,
        "cutoff": plain(cutoff),
        "n_train": len(train),
        "n_test": len(test),
        "n_train_windows": {n: int(d[0].shape[0]) for n, d in data.items()},
        "n_features": {n: int(d[0].shape[2]) for n, d in data.items()},
        "elapsed_seconds": _time.perf_counter() - started,
    }
    return ComparisonResult(
        table,
        runs_df,
        histories,
        predictions,
        baseline,
        {n: p.to_plan() for n, p in pipes.items()},
        loss_units,
        settings,
        context,
    )


# ================================================================================================
# Helpers
# ================================================================================================
def _check_args(
    frame: Any,
    target: Any,
    time: Any,
    n_in: Any,
    n_out: Any,
    seeds: Any,
    epochs: Any,
    patience: Any,
) -> tuple[pd.DataFrame, str]:
    from seqscale._pipeline_steps import as_frame

    df = as_frame(frame)
    if not isinstance(target, str):
        raise ParameterError(
            f"target must be one column name (a string); got {target!r}. Compare one target at "
            "a time: RMSE in original units is not comparable across targets."
        )
    for name, col in (("target", target), ("time", time)):
        if col is not None and col not in df.columns:
            raise ParameterError(f"{name}={col!r} is not a column; columns: {list(df.columns)}.")
    if not pd.api.types.is_numeric_dtype(df[target]):
        raise InputError(f"target {target!r} must be numeric (regression); got {df[target].dtype}.")
    for name, value, low in (
        ("n_in", n_in, 1),
        ("n_out", n_out, 1),
        ("seeds", seeds, 1),
        ("epochs", epochs, 1),
        ("patience", patience, 1),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ParameterError(f"{name}={value!r} is invalid; use an integer >= {low}.")
    if time is None:
        df = df.reset_index(drop=True)  # row position is the time
    return df, target


def _truth(df: pd.DataFrame, target: str, time: str | None) -> pd.Series:
    series = df.set_index(time)[target] if time is not None else df[target]
    return series.astype(np.float64)


def _forecast_columns(target: str, n_out: int) -> list[str]:
    return [target] if n_out == 1 else [f"{target}+{k + 1}" for k in range(n_out)]


def _actuals(truth: pd.Series, index: pd.Index, n_out: int) -> np.ndarray:
    """``[samples, n_out]``: the true value ``h`` steps from each forecast's first target time."""
    pos = truth.index.get_indexer(index)
    if (pos < 0).any():
        raise InputError("forecast times are missing from the frame; is the time column unique?")
    cols = [truth.to_numpy()[np.minimum(pos + h, len(truth) - 1)] for h in range(n_out)]
    out = np.column_stack(cols)
    out[pos[:, None] + np.arange(n_out) >= len(truth)] = np.nan
    return out


def _persistence(truth: pd.Series, index: pd.Index, n_out: int) -> dict:
    """The last known value repeated over the horizon: the reference to beat."""
    pos = truth.index.get_indexer(index)
    last = truth.to_numpy()[pos - 1][:, None]
    err = last - _actuals(truth, index, n_out)
    return {
        "name": "last value",
        "rmse": float(np.sqrt(np.nanmean(err**2))),
        "mae": float(np.nanmean(np.abs(err))),
    }


def _predictions(
    truth: pd.Series, index: pd.Index, forecasts: dict[str, pd.DataFrame], n_out: int
) -> pd.DataFrame:
    names = ["actual", *forecasts]
    blocks = {"actual": _actuals(truth, index, n_out)}
    blocks.update({k: v.to_numpy() for k, v in forecasts.items()})
    data = {}
    for name in names:
        for h in range(n_out):
            data[name if n_out == 1 else f"{name}+{h + 1}"] = blocks[name][:, h]
    out = pd.DataFrame(data, index=index)
    out.index.name = truth.index.name or "step"
    return out


def _summary(runs: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    def std(x: pd.Series) -> float:
        return float(x.std(ddof=1)) if len(x) > 1 else 0.0

    g = runs.groupby("variant", sort=False)
    table = pd.DataFrame(
        {
            "variant": order,
            "rmse_mean": [float(g.get_group(v)["rmse"].mean()) for v in order],
            "rmse_std": [std(g.get_group(v)["rmse"]) for v in order],
            "mae_mean": [float(g.get_group(v)["mae"].mean()) for v in order],
            "mae_std": [std(g.get_group(v)["mae"]) for v in order],
            "epochs_run": [float(g.get_group(v)["epochs_run"].mean()) for v in order],
        }
    )
    finite = table["rmse_mean"].where(np.isfinite(table["rmse_mean"]))
    table["best"] = False
    if finite.notna().any():
        table.loc[finite.idxmin(), "best"] = True
    return table


def _units(pipe: Any, target: str) -> str:
    spec = pipe.specs_[target]
    steps = spec.get("log") or spec.get("difference")
    return "original" if spec.get("method") in (None, "none") and not steps else "scaled"


def _noise(a: pd.Series, b: pd.Series) -> bool:
    """True when two variants' mean RMSEs differ by less than their combined seed spread."""
    return abs(b.rmse_mean - a.rmse_mean) <= math.hypot(a.rmse_std, b.rmse_std)


def _num(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if abs(value) >= 1e5 or (0 < abs(value) < 1e-3):
        return f"{value:.3g}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def _color(name: str, i: int) -> str:
    return _COLORS.get(name, _EXTRA_COLORS[i % len(_EXTRA_COLORS)])


def _save_png(make: Any, path: str | os.PathLike[str]) -> Path:
    from seqscale._atomic import atomic_path
    from seqscale._plots import plot_style

    with plot_style():
        fig = make()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", metadata={"Software": None})
    return Path(path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class _progress:
    """Context manager yielding ``advance(description)``; a rich bar when enabled."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total, self._bar = enabled, total, None

    def __enter__(self):
        if not self.enabled:
            return lambda description: None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(
            TextColumn("training LSTMs: {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=True,
        )
        self._bar.__enter__()
        task = self._bar.add_task("starting", total=self.total)

        def advance(description: str) -> None:
            self._bar.update(task, advance=1, description=description)

        return advance

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
