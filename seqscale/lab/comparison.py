"""The result of :func:`seqscale.lab.compare.compare`: tables, verdict, figures, JSON, the output folder."""

from __future__ import annotations

import html
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqscale.advisor.plots import figure_to_data_uri, plot_style
from seqscale.lab.comparison_plots import forecast_figure, loss_figure
from seqscale.lab.comparison_plots import number_text as _num
from seqscale.lab.truth import Truth
from seqscale.sequence.plan import save_plan
from seqscale.util.atomic import atomic_path, atomic_write

__all__ = ["ComparisonResult", "progress_bar"]

_TIMES = "\u00d7"  # the multiplication sign of "1.08x the best"
SHOWN_SERIES = 30  # series rows printed (all of them are in the JSON)


@dataclass
class ComparisonResult:
    """What :func:`seqscale.lab.compare.compare` found.

    Attributes
    ----------
    table : DataFrame, one row per variant: ``variant``, ``rmse_mean``, ``rmse_std``,
        ``mae_mean``, ``mae_std`` (original units, every forecast pooled; std over seeds),
        ``epochs_run`` (mean over seeds), ``best`` (lowest mean RMSE)
    runs : DataFrame, one row per (variant, seed): ``rmse``, ``mae``, ``n`` (points scored),
        ``epochs_run``, ``best_epoch``, ``seconds``
    histories : ``{variant: [{"seed", "train", "validation", "best_epoch", "epochs_run"}, ...]}``
        per-epoch MSE in the variant's own (scaled) target units
    predictions : DataFrame indexed by target time ((id, time) for panels): ``actual`` and each
        variant's forecast (mean over seeds), original units; ``name+h`` columns for horizon ``h``
        when ``n_out > 1``
    references : ``{name: {"rmse", "mae", "n"}}``: the last-value forecast and, with a calendar
        season, the seasonal-naive one, scored on the same points
    series_table : panels only (else None): one row per series — the id, ``n_test`` (points
        scored), each variant's mean RMSE and its std over seeds (``<variant> std``), each
        reference's RMSE, and ``best`` (the variant with the lowest mean RMSE)
    plans : the plan each variant used (pipeline plans, loadable by ``SequencePipeline.from_plan``)
    loss_units : ``{variant: "scaled" | "original"}``, the units of that variant's losses
    settings : parameters, split, the training rows the advice saw (``advice_rows``), where each
        plan came from (``plan_sources``), skipped series and the elapsed time
    context : the actual target values just before the test period (one series; forecast plot)
    """

    table: pd.DataFrame
    runs: pd.DataFrame
    histories: dict[str, list[dict]]
    predictions: pd.DataFrame
    references: dict[str, dict]
    plans: dict[str, dict]
    loss_units: dict[str, str]
    settings: dict = field(default_factory=dict)
    series_table: pd.DataFrame | None = None
    context: pd.Series | None = None

    @classmethod
    def build(
        cls,
        *,
        runs: pd.DataFrame,
        series_runs: pd.DataFrame,
        histories: dict,
        forecasts: dict[str, np.ndarray],
        truth: Truth,
        plans: dict,
        loss_units: dict,
        settings: dict,
    ) -> ComparisonResult:
        """Summarise per-seed runs into the tables (used by :func:`seqscale.lab.compare.compare`)."""
        order = list(forecasts)
        references, reference_rows = truth.reference_errors()
        series_table = None
        if truth.series is not None:
            series_table = _series_table(series_runs, pd.DataFrame(reference_rows), order, settings["id"])
        predictions = _predictions(truth, forecasts)
        return cls(
            _summary(runs, order),
            runs,
            histories,
            predictions,
            references,
            plans,
            loss_units,
            settings,
            series_table,
            truth.context,
        )

    # ------------------------------------------------------------------ summary
    @property
    def best(self) -> str:
        """Name of the variant with the lowest mean RMSE."""
        return str(self.table.loc[self.table["rmse_mean"].idxmin(), "variant"])

    @property
    def baseline(self) -> dict:
        """The last-value (persistence) forecast's ``rmse`` and ``mae``."""
        return self.references["last value"]

    def verdict(self) -> str:
        """One line: the best variant and how the others (advised first) compare to it."""
        t = self.table.set_index("variant")
        best = self.best
        b = t.loc[best]
        line = f"best: {best} (RMSE {_num(b.rmse_mean)} ± {_num(b.rmse_std)})"
        others = t.drop(index=best)
        for name in ("advised", "validated"):
            if name in others.index:
                line += f"; {name} is {others.loc[name, 'rmse_mean'] / b.rmse_mean:.2f}{_TIMES} the best"
                if _noise(b, others.loc[name]):
                    line += " (within seed noise)"
        rivals = others.drop(index="validated", errors="ignore")
        if best == "advised" and len(rivals):
            runner = rivals["rmse_mean"].idxmin()
            line += f"; next: {runner} at {rivals.loc[runner, 'rmse_mean'] / b.rmse_mean:.2f}{_TIMES}"
            if _noise(b, rivals.loc[runner]):
                line += " (within seed noise)"
        if "raw" in others.index and best != "raw":
            line += f"; raw is {others.loc['raw', 'rmse_mean'] / b.rmse_mean:.2f}{_TIMES}"
        if self.series_table is not None and "advised" in t.index:
            wins = int((self.series_table["best"] == "advised").sum())
            line += f"; advised best in {wins} of {len(self.series_table)} series"
        for name, ref in self.references.items():
            if math.isfinite(ref["rmse"]):
                beaten = "beaten" if b.rmse_mean < ref["rmse"] else "not beaten"
                line += f". {name.capitalize()}: RMSE {_num(ref['rmse'])} ({beaten} by the best LSTM)"
        return line

    def rows_note(self) -> str:
        """Which rows the advice and the pipelines were fitted on, and what was scored."""
        s, seen = self.settings, self.settings["advice_rows"]
        series = f" of {seen['series']} series" if s.get("id") else ""
        span = (
            f"{s['time']} {_plain(seen['first'])} to {_plain(seen['last'])}"
            if s.get("time")
            else (f"rows {seen['first']} to {seen['last']}")
        )
        note = (
            f"advice and pipelines fitted on the {seen['rows']} training rows{series} ({span}); "
            f"scored on {s['n_test']} test rows from {_plain(s['cutoff'])}"
        )
        if s.get("skipped_series"):
            skipped = s["skipped_series"]
            shown = ", ".join(map(str, skipped[:5])) + (", ..." if len(skipped) > 5 else "")
            note += f"; {len(skipped)} series too short for a training window skipped ({shown})"
        return note

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict:
        """Everything as plain JSON-ready values."""
        preds = self.predictions.reset_index()
        return {
            "format": "seqscale.comparison",
            "version": 2,
            "settings": _jsonable(self.settings),
            "verdict": self.verdict(),
            "rows": self.rows_note(),
            "table": _jsonable(self.table.to_dict(orient="records")),
            "references": _jsonable(self.references),
            "series_table": None
            if self.series_table is None
            else _jsonable(self.series_table.to_dict(orient="records")),
            "runs": _jsonable(self.runs.to_dict(orient="records")),
            "loss_units": dict(self.loss_units),
            "histories": _jsonable(self.histories),
            "predictions": _jsonable(preds.to_dict(orient="list")),
            "plans": _jsonable(self.plans),
        }

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` as JSON, atomically."""
        with atomic_write(path) as handle:
            json.dump(self.to_dict(), handle, indent=1, ensure_ascii=False, allow_nan=False)
            handle.write("\n")
        return Path(path)

    def save(self, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
        """Write the whole comparison into ``out_dir``; returns ``{name: path}``.

        ``comparison.json`` (numbers, settings, plans), ``plans/<variant>.json`` (each plan, as
        ``seqscale fit --plan`` reads it), ``losses.png``, ``forecasts.png``, ``report.html``.
        """
        out = Path(out_dir)
        (out / "plans").mkdir(parents=True, exist_ok=True)
        paths = {
            f"plan {name}": save_plan(plan, out / "plans" / f"{name}.json")
            for name, plan in self.plans.items()
        }
        paths["comparison"] = self.to_json(out / "comparison.json")
        paths["losses"] = self.plot_losses(out / "losses.png")
        paths["forecasts"] = self.plot_forecasts(out / "forecasts.png")
        paths["report"] = self.write_report(out / "report.html")
        return paths

    def write_report(self, path: str | os.PathLike[str]) -> Path:
        """A self-contained HTML page with :meth:`html_section`."""
        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>seqscale compare</title></head>"
            f"<body><h1>LSTM comparison of scaling choices</h1>{self.html_section()}</body></html>"
        )
        with atomic_write(path) as handle:
            handle.write(page)
        return Path(path)

    # ------------------------------------------------------------------ figures
    def loss_figure(self) -> Any:
        """matplotlib Figure: training and validation loss per epoch, one panel per variant."""
        return loss_figure(self)

    def forecast_figure(self) -> Any:
        """matplotlib Figure: the actual test values and each variant's mean forecast.

        Panels: one axis for each of the first four series.
        """
        return forecast_figure(self)

    def plot_losses(self, path: str | os.PathLike[str]) -> Path:
        """PNG of the training/validation loss curves (log scale), one panel per variant."""
        return _save_png(self.loss_figure, path)

    def plot_forecasts(self, path: str | os.PathLike[str]) -> Path:
        """PNG of the actual test values and each variant's forecast (x = time)."""
        return _save_png(self.forecast_figure, path)

    # ------------------------------------------------------------------ display
    def _title(self) -> str:
        s = self.settings
        series = f" over {s['n_series']} series (pooled)" if s.get("id") else ""
        return (
            f"LSTM on {s['target']}{series}: {s['seeds']} seed(s), ≤ {s['epochs']} epochs "
            f"(patience {s['patience']}), n_in={s['n_in']}, n_out={s['n_out']}, {s['n_test']} test rows"
        )

    def _rows(self) -> list[tuple[str, str, str, str, str, bool]]:
        """(variant, RMSE, MAE, x best, epochs, is best) per variant, then the references."""
        best = float(self.table["rmse_mean"].min())
        rows = [
            (
                str(r.variant) + (" ★" if r.best else ""),
                f"{_num(r.rmse_mean)} ± {_num(r.rmse_std)}",
                f"{_num(r.mae_mean)} ± {_num(r.mae_std)}",
                f"{r.rmse_mean / best:.2f}",
                f"{r.epochs_run:.1f}",
                bool(r.best),
            )
            for r in self.table.itertuples(index=False)
        ]
        for name, ref in self.references.items():
            rows.append(
                (
                    f"{name} (reference)",
                    _num(ref["rmse"]),
                    _num(ref["mae"]),
                    f"{ref['rmse'] / best:.2f}",
                    "—",
                    False,
                )
            )
        return rows

    def _series_rows(self) -> tuple[list[str], list[list[str]]]:
        """Header and rows of the per-series RMSE table (the first SHOWN_SERIES series)."""
        st = self.series_table
        names = [*self.histories, *self.references]
        head = [str(self.settings["id"]), "test points", *names, "best"]
        rows = [
            [str(r[head[0]]), str(int(r["n_test"])), *(_num(r[n]) for n in names), str(r["best"])]
            for _, r in st.head(SHOWN_SERIES).iterrows()
        ]
        return head, rows

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.table import Table

        table = Table(
            title=self._title(), caption=f"{self.verdict()}\n{self.rows_note()}", caption_justify="left"
        )
        for name in ("variant", "RMSE", "MAE", f"{_TIMES} best RMSE", "epochs run"):
            table.add_column(name, justify="left" if name == "variant" else "right")
        for *cells, is_best in self._rows():
            style = "bold green" if is_best else ("dim" if "reference" in cells[0] else None)
            table.add_row(*cells, style=style)
        if self.series_table is None:
            return table
        head, rows = self._series_rows()
        extra = len(self.series_table) - len(rows)
        per = Table(
            title="RMSE per series (mean over seeds, original units)",
            caption=f"{extra} more series in comparison.json" if extra > 0 else None,
        )
        for i, name in enumerate(head):
            per.add_column(name, justify="left" if i in (0, len(head) - 1) else "right")
        for row in rows:
            per.add_row(*row)
        return Group(table, per)

    def html_section(self) -> str:
        """HTML fragment: verdict, tables and both figures as data URIs (for ``extra_sections``)."""
        s = self.settings
        head = (
            "<tr><th>variant</th><th>RMSE (mean ± std)</th><th>MAE (mean ± std)</th>"
            f"<th>{_TIMES} best RMSE</th><th>epochs run</th></tr>"
        )
        rows = []
        for *cells, is_best in self._rows():
            style = ' style="background:#e8f5e9;font-weight:bold"' if is_best else ""
            style = ' style="color:#52606d"' if "reference" in cells[0] else style
            tds = [
                f"<td>{html.escape(cells[0])}</td>",
                *(f'<td class="num">{html.escape(c)}</td>' for c in cells[1:]),
            ]
            rows.append(f"<tr{style}>{''.join(tds)}</tr>")
        with plot_style():
            losses = figure_to_data_uri(self.loss_figure())
            forecasts = figure_to_data_uri(self.forecast_figure())
        return (
            f'<p class="reason">{html.escape(self.verdict())}</p>'
            f"<p>The same LSTM (1 layer, {s['hidden']} units, linear head) trained on each "
            f"preparation of <b>{html.escape(str(s['target']))}</b> and its inputs: "
            f"{s['seeds']} seed(s), at most {s['epochs']} epochs with early stopping "
            f"(patience {s['patience']}) on the last {s['validation']:.0%} of the training "
            f"windows, n_in={s['n_in']}, n_out={s['n_out']}. {html.escape(self.rows_note())}; "
            "errors in original units.</p>"
            f"<table>{head}{''.join(rows)}</table>{self._series_html()}"
            f'<img src="{forecasts}" alt="actual vs forecasts over the test period">'
            f'<img src="{losses}" alt="training and validation loss per variant">'
            '<p class="note">Losses are in each variant\'s own target units (raw: original '
            "units), so their levels are not comparable across panels; RMSE and MAE are.</p>"
        )

    def _series_html(self) -> str:
        if self.series_table is None:
            return ""
        head, rows = self._series_rows()
        cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join(
            "<tr>" + "".join(f'<td class="num">{html.escape(c)}</td>' for c in row) + "</tr>" for row in rows
        )
        return f"<h3>RMSE per series (mean over seeds)</h3><table><tr>{cells}</tr>{body}</table>"


# ================================================================================================
# Tables
# ================================================================================================
def _std(x: pd.Series) -> float:
    return float(x.std(ddof=1)) if len(x) > 1 else 0.0


def _summary(runs: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    g = runs.groupby("variant", sort=False)
    table = pd.DataFrame(
        {
            "variant": order,
            "rmse_mean": [float(g.get_group(v)["rmse"].mean()) for v in order],
            "rmse_std": [_std(g.get_group(v)["rmse"]) for v in order],
            "mae_mean": [float(g.get_group(v)["mae"].mean()) for v in order],
            "mae_std": [_std(g.get_group(v)["mae"]) for v in order],
            "epochs_run": [float(g.get_group(v)["epochs_run"].mean()) for v in order],
        }
    )
    finite = table["rmse_mean"].where(np.isfinite(table["rmse_mean"]))
    table["best"] = False
    if finite.notna().any():
        table.loc[finite.idxmin(), "best"] = True
    return table


def _series_table(runs: pd.DataFrame, refs: pd.DataFrame, order: list[str], id: str) -> pd.DataFrame:
    """One row per series: each variant's mean RMSE and std over seeds, references, the best."""
    series = pd.unique(runs["series"])
    by = runs.groupby(["series", "variant"], sort=False)["rmse"]
    mean, std = by.mean(), by.agg(_std)
    out = pd.DataFrame({id: series})
    out["n_test"] = runs.groupby("series", sort=False)["n"].first().reindex(series).to_numpy()
    for v in order:
        out[v] = mean.xs(v, level="variant").reindex(series).to_numpy()
        out[f"{v} std"] = std.xs(v, level="variant").reindex(series).to_numpy()
    if len(refs):
        for name, part in refs.groupby("variant", sort=False):
            out[name] = part.set_index("series")["rmse"].reindex(series).to_numpy()
    out["best"] = out[order].astype(float).fillna(np.inf).idxmin(axis=1)
    return out


def _predictions(truth: Truth, forecasts: dict[str, np.ndarray]) -> pd.DataFrame:
    blocks = {"actual": truth.actual, **forecasts}
    data = {}
    for name, block in blocks.items():
        for h in range(truth.n_out):
            data[name if truth.n_out == 1 else f"{name}+{h + 1}"] = np.asarray(block)[:, h]
    out = pd.DataFrame(data, index=truth.index)
    if not isinstance(out.index, pd.MultiIndex):
        out.index.name = out.index.name or "step"
    return out


# ================================================================================================
# Small helpers
# ================================================================================================
def _noise(a: pd.Series, b: pd.Series) -> bool:
    """True when two variants' mean RMSEs differ by less than their combined seed spread."""
    return abs(b.rmse_mean - a.rmse_mean) <= math.hypot(a.rmse_std, b.rmse_std)


def _plain(value: Any) -> str:
    """A time for a sentence: dates without a midnight time."""
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        stamp = pd.Timestamp(value)
        return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)
    return str(value)


def _save_png(make: Any, path: str | os.PathLike[str]) -> Path:
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


class progress_bar:
    """Context manager yielding ``advance(description)``; a rich bar on stderr when enabled."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total, self._bar = enabled, total, None

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda description: None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("training LSTMs: {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),  # stdout keeps only the results
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
