"""rich tables the command line prints."""

from __future__ import annotations

import math

import pandas as pd
from rich.table import Table

__all__ = ["check_table"]


def _fmt(value: object, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def check_table(report: pd.DataFrame, tolerance: float, drift: float) -> Table:
    """Per-column out-of-range and drift table, failing rows in red."""
    table = Table(title=f"out-of-range and drift (tolerance {tolerance:g}, drift {drift:g} std)")
    keys = list(report.index.names)
    for name in [
        *keys,
        "n",
        "below",
        "above",
        "share outside",
        "fitted range",
        "max excess",
        "first row",
        "mean shift (std)",
        *(["units"] if "units" in report else []),
    ]:
        table.add_column(str(name), justify="right" if name not in keys else "left", overflow="fold")
    for key, row in report.iterrows():
        key = key if isinstance(key, tuple) else (key,)
        style = None if row.get("ok", True) else "red"
        fitted = f"[{_fmt(row.get('fitted_low'))}, {_fmt(row.get('fitted_high'))}]"
        table.add_row(
            *map(str, key),
            _fmt(row.get("n")),
            _fmt(row.get("n_below")),
            _fmt(row.get("n_above")),
            f"{row.get('share_outside', 0.0):.2%}",
            fitted,
            _fmt(row.get("max_excess")),
            _fmt(row.get("first_row")),
            _fmt(row.get("mean_shift_std"), 3),
            *([str(row["units"])] if "units" in report else []),
            style=style,
        )
    return table
