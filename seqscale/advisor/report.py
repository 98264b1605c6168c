"""Self-contained HTML report of an :class:`~seqscale.advisor.results.Advice`.

One HTML file, no external assets: every figure is a PNG embedded as a ``data:`` URI. For each
column the report shows a histogram before and after the recommended preparation (``log1p``,
differencing and the scaling method, fitted on the training part only), the series over time with
the train/test split marked, the statistics and the reason for the recommendation.

Other modules add their own sections through ``extra_sections`` (``(title, html_fragment)``
pairs) and turn their matplotlib figures into images with :func:`figure_to_data_uri`.

The figures live in :mod:`seqscale.advisor.plots`; matplotlib is imported inside the functions and used
through ``matplotlib.figure.Figure`` only (no pyplot, no global backend switch).
"""

from __future__ import annotations

import html
import json
import math
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from seqscale.advisor import profile as _profile
from seqscale.advisor.plots import (  # noqa: F401 (DPI, FIGSIZE: importable from here too)
    DPI,
    FIGSIZE,
    bar_plot,
    figure_to_data_uri,
    histograms,
    plot_style,
    series_plot,
    time_values,
)
from seqscale.advisor.tables import as_frame as _as_frame
from seqscale.advisor.wording import p_text, short_reason, spread_text
from seqscale.core import registry as _registry
from seqscale.errors import ParameterError, SeqscaleWarning
from seqscale.frames.time_columns import with_time
from seqscale.scalers import build
from seqscale.scalers.registry import SCALERS
from seqscale.util.atomic import atomic_write

if TYPE_CHECKING:  # pragma: no cover
    from seqscale.advisor.results import Advice, ColumnAdvice

__all__ = ["apply_recommendation", "figure_to_data_uri", "write_report"]


# ------------------------------------------------------------------------------------------------
# The recommended transformation, fitted on the training part
# ------------------------------------------------------------------------------------------------
def apply_recommendation(
    values: np.ndarray,
    column: ColumnAdvice,
    order: _profile.Ordering,
    is_train: np.ndarray,
) -> tuple[np.ndarray, dict]:
    """Apply ``log1p``/difference/method of ``column`` to ``values`` (original row positions).

    The method's scaler (the one a pipeline fits) is fitted on the finite values of the rows
    where ``is_train`` is true and applied to the finite values; NaN and infinities pass through.
    Returns the transformed values and the fitted coefficients (``shift``, ``scale``,
    ``offset``: ``y = (x - shift) * scale + offset``), read from that scaler.
    """
    x = np.asarray(values, dtype=np.float64)
    if column.log:
        with np.errstate(invalid="ignore", divide="ignore"):
            x = np.log1p(x)
    if column.difference:
        x = _profile.difference(x, order, column.difference["lag"], column.difference["order"])
    train = x[is_train]
    train = train[np.isfinite(train)]
    method = column.method or "none"
    if not train.size or method == "none":
        return x, {"method": method, "shift": 0.0, "scale": 1.0, "offset": 0.0}
    scaler = _fitted_scaler(train, method, column.feature_range)
    out = x.copy()
    finite = np.isfinite(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeqscaleWarning)
        out[finite] = scaler.transform(x[finite, None])[:, 0]
    affine = build.fitted_affine(scaler)
    coefs = {f: float(getattr(affine, f)[0]) for f in ("shift", "scale", "offset")}
    return out, {"method": method, **coefs}


def _fitted_scaler(train: np.ndarray, method: str, feature_range: list | None) -> Any:
    """The registry's scaler of ``method`` fitted on the finite training values (a constant
    column's warning belongs to the advice, not to its figure)."""
    given = {"feature_range": tuple(feature_range or (0.0, 1.0))}
    params = {k: v for k, v in given.items() if k in _registry.get(method).plan_params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SeqscaleWarning)
        return SCALERS[method](**params).fit(train[:, None])


# ------------------------------------------------------------------------------------------------
# HTML pieces
# ------------------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;
max-width:1000px;color:#1f2933;line-height:1.45;padding:0 12px}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;
border-bottom:1px solid #d9dee3;padding-bottom:.2em}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}
td,th{border:1px solid #d9dee3;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f2f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
.reason{background:#f6f8fa;border-left:3px solid #3b75af;padding:6px 10px}
.warn{color:#8a4b00}.note{color:#52606d;font-size:.9em}
img{max-width:100%;height:auto;display:block;margin:.4em 0}
pre{background:#f6f8fa;padding:10px;overflow-x:auto;font-size:.8em}
.stats{display:flex;gap:16px;flex-wrap:wrap}
tr.chosen td{font-weight:600;background:#eef6ee}
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "n/a"
        return f"{v:.4g}"
    if isinstance(value, (list, tuple)):
        return html.escape(", ".join(str(v) for v in value[:12]))
    return html.escape(str(value))


_STAT_ROWS = [
    ("count", "count"),
    ("nan_share", "missing share"),
    ("distinct", "distinct values"),
    ("min", "min"),
    ("max", "max"),
    ("mean", "mean"),
    ("std", "std"),
    ("skewness", "skewness"),
    ("kurtosis", "excess kurtosis"),
    ("q1", "Q1"),
    ("median", "median"),
    ("q3", "Q3"),
    ("outlier_share", "outliers beyond 1.5 IQR"),
    ("test_outside_share", "test tail outside training range"),
    ("top", "most frequent"),
    ("top_share", "most frequent share"),
]
_NORMAL_ROWS = [
    ("on", "tested values"),
    ("test", "test"),
    ("p_value", "p-value"),
    ("n_used", "n used"),
    ("sampled", "sampled"),
    ("roughly_normal", "roughly normal (effect size)"),
]
_STATION_ROWS = [
    ("on", "tested values"),
    ("verdict", "verdict"),
    ("adf_p", "ADF p-value"),
    ("adf_lags", "ADF lags"),
    ("kpss_p", "KPSS p-value"),
    ("trend_r2", "trend R²"),
    ("shift_std", "last-20% shift (std)"),
    ("n_used", "n used"),
    ("stride", "stride"),
    ("series", "series"),
]


def _cell(key: str, value: Any) -> str:
    if key.endswith("share") and isinstance(value, float) and not math.isnan(value):
        return f"{value:.2%}"
    return _fmt(value)


def _table(title: str, data: dict, rows: list[tuple[str, str]]) -> str:
    cells = []
    for key, label in rows:
        if key in data and data[key] is not None:
            value = data[key]
            cls = ' class="num"' if isinstance(value, (int, float, np.number)) else ""
            cells.append(f"<tr><th>{html.escape(label)}</th><td{cls}>{_cell(key, value)}</td></tr>")
    if not cells:
        return ""
    return f'<table><tr><th colspan="2">{html.escape(title)}</th></tr>{"".join(cells)}</table>'


def _img(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{html.escape(alt, quote=True)}">'


def _resolve_split(split: float | int | None, n: int, default: float) -> float:
    if split is None:
        return default
    if isinstance(split, bool):
        raise ParameterError(f"split must be a test share in (0, 1) or a training row count, got {split!r}")
    if isinstance(split, (int, np.integer)):
        if not 2 <= int(split) < n:
            raise ParameterError(f"split={split} must be a training row count in [2, {n})")
        return (n - int(split)) / n
    if isinstance(split, (float, np.floating)) and 0 < float(split) < 1:
        return float(split)
    raise ParameterError(f"split must be a test share in (0, 1) or a training row count, got {split!r}")


# ------------------------------------------------------------------------------------------------
# Report sections
# ------------------------------------------------------------------------------------------------
@dataclass
class _Layout:
    """The rows of the report's frame in time order and the train/test split."""

    order: _profile.Ordering
    is_train: np.ndarray
    test_share: float
    time_values: np.ndarray | None
    time_label: str


def _layout(df: pd.DataFrame, advice: Advice, split: float | int | None) -> tuple[dict[str, Any], _Layout]:
    """The frame's columns by name (checked against the advice) and the row layout."""
    settings = advice.settings
    time, id_ = settings.get("time"), settings.get("id")
    lookup = {str(c): c for c in df.columns}
    for col in advice.columns:
        if col.name not in lookup:
            raise ParameterError(f"column {col.name!r} of the advice is not in the frame")
    time_col = lookup.get(time) if time is not None else None
    id_col = lookup.get(id_) if id_ is not None else None
    test_share = _resolve_split(split, len(df), settings.get("test_size", 0.2))
    df = with_time(df, time_col)  # a frame given by the caller may hold text dates
    order = _profile.ordering(df, time_col, id_col, test_share)
    values = time_values(df, time_col)
    label = str(time) if values is not None else "time step (row order)"
    return lookup, _Layout(order, ~order.is_test, test_share, values, label)


def _column_figures(col: ColumnAdvice, series: pd.Series, layout: _Layout) -> list[tuple]:
    """``(figure, what)`` pairs shown for one column."""
    numeric = col.stats.get("mean") is not None
    if col.role in ("input", "target") and numeric and col.encode is None:
        raw = np.asarray(_profile.column_values(series), dtype=np.float64)
        after, _ = apply_recommendation(raw, col, layout.order, layout.is_train)
        return [
            (histograms(col, raw, after, layout.is_train), "histograms"),
            (
                series_plot(col, raw, layout.order, layout.is_train, layout.time_values, layout.time_label),
                "series",
            ),
        ]
    if col.role in ("categorical", "target") or (col.kind == "binary"):
        return [(bar_plot(col, series), "level counts")]
    return []


def _column_section(i: int, col: ColumnAdvice, series: pd.Series, layout: _Layout) -> str:
    name = html.escape(col.name)
    block = [
        f'<section id="col-{i}"><h2>{name} <span class="note">({html.escape(col.kind)}, '
        f"{html.escape(col.role)}: {html.escape(col.recommendation)})</span></h2>",
        f'<p class="reason">{html.escape(col.reason)}</p>',
    ]
    if col.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in col.warnings)
        block.append(f'<ul class="warn">{items}</ul>')
    for fig, what in _column_figures(col, series, layout):
        block.append(_img(figure_to_data_uri(fig), f"{col.name} {what}"))
    tables = [
        _table(f"statistics (all {len(series):,} rows given to advise)", col.stats, _STAT_ROWS),
        _table("normality", col.normality, _NORMAL_ROWS),
        _table("stationarity", col.stationarity, _STATION_ROWS),
    ]
    block.append('<div class="stats">' + "".join(t for t in tables if t) + "</div>")
    block.append("</section>")
    return "".join(block)


def _summary(columns: list[ColumnAdvice]) -> str:
    rows = [
        f'<tr><td><a href="#col-{i}">{html.escape(col.name)}</a></td>'
        f"<td>{html.escape(col.kind)}</td><td>{html.escape(col.role)}</td>"
        f"<td>{html.escape(col.recommendation)}</td>"
        f"<td>{html.escape(short_reason(col.reason))}</td>"
        f'<td class="num">{len(col.warnings)}</td></tr>'
        for i, col in enumerate(columns)
    ]
    return (
        "<h2>Summary</h2><table><tr><th>column</th><th>kind</th><th>role</th>"
        "<th>recommendation</th><th>reason</th><th>warnings</th></tr>" + "".join(rows) + "</table>"
    )


def _header(advice: Advice, n: int, n_columns: int, layout: _Layout, title: str) -> str:
    settings = advice.settings
    time, id_ = settings.get("time"), settings.get("id")
    n_train = int(layout.is_train.sum())
    header = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Dataset: <b>{n:,} rows x {n_columns} columns</b>; "
        f"target: {html.escape(', '.join(settings.get('target') or []) or '(none)')}; "
        f"task: {html.escape(settings['task'])} "
        f"({html.escape(settings['output_activation'])} output); "
        f"time: {html.escape(str(time) if time else 'row order')}; "
        f"id: {html.escape(str(id_) if id_ else '(single series)')}.</p>",
        f"<p>Train/test split in time order: {n_train:,} training rows, {n - n_train:,} test "
        f"rows ({layout.test_share:.0%}). Transformations shown are fitted on the training "
        "part.</p>",
    ]
    if advice.sampling_note:
        header.append(f'<p class="note">{html.escape(advice.sampling_note)}</p>')
    header.append(
        f'<p class="note">Analysis took {advice.elapsed:.2f} s. Normality is decided by effect '
        "size (|skew| &lt; 0.5 and |excess kurtosis| &lt; 1); p-values are supporting only.</p>"
    )
    return "".join(header)


def _extras(extra_sections: Iterable[tuple[str, str]]) -> str:
    extras = []
    for item in extra_sections:
        try:
            sec_title, fragment = item
        except (TypeError, ValueError) as err:
            raise ParameterError("extra_sections must hold (title, html) pairs") from err
        extras.append(f"<section><h2>{html.escape(str(sec_title))}</h2>{fragment}</section>")
    return "".join(extras)


def _validation_row(r: Any) -> str:
    mark = ' class="chosen"' if r.chosen else ""
    return (
        f"<tr{mark}><td>{html.escape(r.candidate)}</td><td>{r.rmse:.4g}</td><td>{spread_text(r.rmse_std)}</td>"
        f"<td>{r.vs_rules:.2f}</td><td>{p_text(getattr(r, 'p_vs_rules', float('nan')))}</td>"
        f"<td>{'chosen' if r.chosen else ''}</td></tr>"
    )


def _validation_block(advice: Advice) -> str:
    """The candidates' validation scores beside the reasons ('' without a validated choice)."""
    validation = getattr(advice, "validation", None)
    if validation is None:
        return ""
    rows = "".join(_validation_row(r) for r in validation.table.itertuples(index=False))
    return (
        f"<h2>Validated choice</h2><p>{html.escape(validation.summary())}.</p>"
        "<table><tr><th>candidate</th><th>validation RMSE (target units)</th><th>± std over seeds</th>"
        "<th>vs rules</th><th>p (Diebold-Mariano, vs rules)</th>"
        f"<th>chosen</th></tr>{rows}</table>"
        '<p class="note">Scored within the training rows only: the same small LSTM trained on the '
        "earlier part forecasts the later part one step ahead, in original units.</p>"
    )


def _plan_block(plan: dict) -> str:
    plan_json = json.dumps(plan, indent=2, ensure_ascii=False)
    return (
        '<h2>Plan</h2><p class="note">Save it with <code>advice.save_plan(path)</code>, edit it '
        "(methods, bounds, roles), and give it to the pipeline.</p>"
        f"<pre>{html.escape(plan_json)}</pre>"
    )


# ------------------------------------------------------------------------------------------------
# The report
# ------------------------------------------------------------------------------------------------
def write_report(
    advice: Advice,
    frame: Any,
    path: str | os.PathLike[str],
    *,
    split: float | int | None = None,
    extra_sections: Iterable[tuple[str, str]] = (),
    title: str = "seqscale report",
) -> Path:
    """Write the HTML report of ``advice`` for ``frame`` to ``path`` (atomically).

    Parameters
    ----------
    advice : the result of :func:`seqscale.advise` on ``frame``.
    frame : the same table (pandas; polars is converted).
    split : test share in (0, 1), or the number of training rows in time order; default: the
        ``test_size`` given to ``advise``. Transformations are fitted on the training part.
    extra_sections : ``(title, html_fragment)`` pairs appended after the column sections (the
        title is escaped, the fragment is inserted as given).
    title : the page title.
    """
    df = _as_frame(frame)
    lookup, layout = _layout(df, advice, split)
    with plot_style():
        sections = [
            _column_section(i, col, df[lookup[col.name]], layout) for i, col in enumerate(advice.columns)
        ]
    extras = _extras(extra_sections)
    document = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        + _header(advice, len(df), df.shape[1], layout, title)
        + _summary(advice.columns)
        + _validation_block(advice)
        + "".join(sections)
        + extras
        + _plan_block(advice.plan)
        + "</body></html>\n"
    )
    with atomic_write(path) as handle:
        handle.write(document)
    return Path(path)
