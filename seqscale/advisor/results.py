"""The result types of :func:`seqscale.advisor.api.advise`: :class:`ColumnAdvice` and :class:`Advice`.

Both are importable from :mod:`seqscale` and :mod:`seqscale.advisor.api`; this module holds
their access, output (plan entry, DataFrame, plan file, HTML report) and display code.
"""

from __future__ import annotations

import copy
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from seqscale.advisor.report import write_report
from seqscale.advisor.wording import p_text, short_reason, spread_text
from seqscale.errors import ParameterError
from seqscale.sequence.plan import plain, save_plan

if TYPE_CHECKING:  # pragma: no cover
    from seqscale.advisor.validate import Validation

__all__ = ["Advice", "ColumnAdvice", "short_reason"]


# ================================================================================================
# One column
# ================================================================================================
@dataclass
class ColumnAdvice:
    """The analysis and recommendation for one column.

    ``stats`` are the raw column's statistics (all rows); ``normality`` and ``stationarity``
    describe the values the scaler will see (after ``log1p``/differencing) and record
    ``sampled``/``n_used``. ``method`` is ``None`` for categorical and ignored columns.
    """

    name: str
    kind: str
    role: str
    stats: dict = field(default_factory=dict)
    normality: dict = field(default_factory=dict)
    stationarity: dict = field(default_factory=dict)
    method: str | None = None
    log: bool = False
    difference: dict | None = None
    feature_range: list | None = None
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    encode: str | None = None
    classes: list | None = None

    @property
    def sampled(self) -> bool:
        """True when a test used a sample instead of every row."""
        return bool(self.normality.get("sampled") or self.stationarity.get("sampled"))

    @property
    def n_used(self) -> dict:
        """Number of values each sampled test used."""
        return {
            "normality": self.normality.get("n_used"),
            "stationarity": self.stationarity.get("n_used"),
        }

    @property
    def recommendation(self) -> str:
        """Short text: e.g. ``"log1p → diff(1) → standard"``, ``"one-hot"``, ``"ignore"``."""
        if self.role == "ignore":
            return "ignore"
        if self.role == "categorical":
            return "one-hot"
        if self.encode == "onehot":
            return "one-hot (softmax)"
        steps = []
        if self.log:
            steps.append("log1p")
        if self.difference:
            steps.append(f"diff({self.difference['lag']})")
        if self.encode == "label":
            steps.append("encode 0/1")
        steps.append(self._method_text())
        return " → ".join(steps)

    def _method_text(self) -> str:
        method = self.method or "none"
        if self.feature_range is not None and method == "minmax":
            lo, hi = self.feature_range
            method = f"minmax [{lo:g}, {hi:g}]"
        return method

    def plan_entry(self) -> dict:
        """This column's entry in the plan file."""
        if self.role == "ignore":
            return {"role": "ignore", "reason": self.reason}
        if self.role == "categorical":
            return {"role": "categorical", "handle_unknown": "ignore", "reason": self.reason}
        entry: dict[str, Any] = {
            "role": self.role,
            "log": bool(self.log),
            "difference": dict(self.difference) if self.difference else None,
            "method": self.method or "none",
        }
        if self.feature_range is not None:
            entry["feature_range"] = [plain(v) for v in self.feature_range]
        entry["bounds"] = None
        if self.encode is not None:
            entry["encode"] = self.encode
        if self.classes is not None:
            entry["classes"] = [plain(v) for v in self.classes]
        entry["reason"] = self.reason
        return entry


# ================================================================================================
# Display helpers
# ================================================================================================
_FRAME_STATS = (
    "count",
    "nan_share",
    "distinct",
    "min",
    "max",
    "mean",
    "std",
    "skewness",
    "kurtosis",
    "outlier_share",
)


def _frame_row(c: ColumnAdvice) -> dict:
    """One row of :meth:`Advice.to_frame`."""
    st, nm, sn = c.stats, c.normality, c.stationarity
    return {
        "column": c.name,
        "kind": c.kind,
        "role": c.role,
        "recommendation": c.recommendation,
        "method": c.method,
        "log": c.log,
        "difference": c.difference["lag"] if c.difference else None,
        **{key: st.get(key) for key in _FRAME_STATS},
        "normal_p": nm.get("p_value"),
        "roughly_normal": nm.get("roughly_normal"),
        "adf_p": sn.get("adf_p"),
        "kpss_p": sn.get("kpss_p"),
        "trend_r2": sn.get("trend_r2"),
        "test_outside_share": st.get("test_outside_share"),
        "sampled": c.sampled,
        "n_warnings": len(c.warnings),
        "reason": c.reason,
    }


def _key_numbers(c: ColumnAdvice) -> str:
    """The few statistics shown in the console table."""
    st = c.stats
    if c.kind == "constant":
        return f"{st.get('distinct', 0)} value(s)"
    if c.kind not in ("categorical", "binary") and st.get("mean") is None:
        return f"{st.get('distinct', 0)} distinct"
    if st.get("mean") is None or c.role == "categorical":
        return f"{st.get('distinct', 0)} levels"
    if c.kind == "binary":
        return f"mean {st['mean']:.2f}"
    parts = [
        f"sk {st['skewness']:.2f}",
        f"ku {st['kurtosis']:.1f}",
        f"out {st['outlier_share']:.1%}",
    ]
    if st.get("nan_share"):
        parts.append(f"NaN {st['nan_share']:.1%}")
    return " ".join(parts)


def _table_row(c: ColumnAdvice, full: bool = False) -> tuple[str, str, str, str, str]:
    reason = " ".join(c.reason.split()) if full else short_reason(c.reason)
    if c.warnings:
        reason = f"⚠{len(c.warnings)} " + reason
    rec = c.recommendation if c.role != "target" else f"target: {c.recommendation}"
    return c.name, c.kind, rec, _key_numbers(c), reason


def validation_table(validation: Validation):
    """The candidates' validation scores as a rich table (the chosen one marked)."""
    from rich import box
    from rich.table import Table

    units = "RMSE (target units)"
    table = Table(title="validated choice", caption=validation.summary(), box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("candidate", units, "± std (seeds)", "vs rules", "p (DM)", "chosen"):
        table.add_column(name, justify="left" if name == "candidate" else "right")
    for row in validation.table.itertuples(index=False):
        mark = "✓" if row.chosen else ""
        table.add_row(
            row.candidate,
            f"{row.rmse:.4g}",
            spread_text(row.rmse_std),
            f"{row.vs_rules:.2f}",
            p_text(getattr(row, "p_vs_rules", math.nan)),
            mark,
        )
    return table


def _adopt_entry(col: ColumnAdvice, entry: dict, why: str) -> None:
    """Set the steps of ``entry`` on ``col``; the reason says why and keeps the rules' reason."""
    col.log = bool(entry.get("log"))
    col.difference = dict(entry["difference"]) if entry.get("difference") else None
    col.method = entry.get("method", "none")
    col.feature_range = entry.get("feature_range") if col.method == "minmax" else None
    col.reason = f"{why} → {col.recommendation}; the rules said: {col.reason}"
    entry["reason"] = col.reason


# ================================================================================================
# All columns
# ================================================================================================
class Advice:
    """The result of :func:`~seqscale.advisor.api.advise`: one :class:`ColumnAdvice` per column.

    Attributes
    ----------
    columns : list[ColumnAdvice]
    plan : dict
        The plan file content (``format: "seqscale.plan", version: 1``).
    n_rows, n_columns, elapsed : the analysed shape and the seconds it took.
    """

    def __init__(
        self,
        columns: list[ColumnAdvice],
        *,
        plan: dict,
        settings: dict,
        n_rows: int,
        n_columns: int,
        elapsed: float,
        frame: pd.DataFrame | None = None,
    ) -> None:
        self.columns = columns
        self.plan = plan
        self.settings = settings
        self.n_rows = n_rows
        self.n_columns = n_columns
        self.elapsed = elapsed
        self._frame = frame
        self.validation: Validation | None = None

    # --- validated choice -------------------------------------------------------------------------
    def adopt(self, validation: Validation) -> None:
        """Record ``validation`` and make its chosen plan the recommendation.

        Columns whose steps change get the chosen steps and a reason that gives the scores and
        keeps what the rules said.
        """
        self.validation = validation
        chosen = copy.deepcopy(validation.plan)
        chosen["window"] = dict(self.plan["window"])
        self.plan = chosen
        self.settings["validated"] = True
        if validation.chosen == "rules":
            return
        for col in self.columns:
            entry = chosen["columns"].get(col.name, {})
            if col.role in ("input", "target") and not col.encode and entry:
                _adopt_entry(col, entry, validation.summary())

    # --- access ---------------------------------------------------------------------------------
    def __getitem__(self, name: object) -> ColumnAdvice:
        for col in self.columns:
            if col.name == str(name):
                return col
        raise KeyError(name)

    def __iter__(self):
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    @property
    def sampled(self) -> bool:
        return any(c.sampled for c in self.columns)

    @property
    def sampling_note(self) -> str:
        """One sentence on the samples the tests used ('' when every test used every row)."""
        parts = []
        norm_n = [c.normality.get("n_used") for c in self.columns if c.normality.get("sampled")]
        if norm_n:
            parts.append(f"normality tests used a random sample of {max(norm_n):,} of {self.n_rows:,} rows")
        stat = [c.stationarity for c in self.columns if c.stationarity.get("sampled")]
        if stat:
            parts.append(
                f"ADF/KPSS used an evenly strided subsample of at most "
                f"{self.settings['stationarity_points']:,} points in time order (every "
                f"{_ordinal(max(x['stride'] for x in stat))} row)"
            )
        if not parts:
            return ""
        return "Sampled: " + "; ".join(parts) + ". Other statistics use all rows."

    # --- outputs --------------------------------------------------------------------------------
    def save_plan(self, path: str | os.PathLike[str]) -> Path:
        """Write :attr:`plan` as indented JSON, atomically. Returns the path."""
        return save_plan(self.plan, path)

    def to_frame(self) -> pd.DataFrame:
        """One row per column with the key numbers and the recommendation."""
        return pd.DataFrame([_frame_row(c) for c in self.columns])

    def report(
        self,
        path: str | os.PathLike[str],
        frame: pd.DataFrame | None = None,
        *,
        split: float | int | None = None,
        extra_sections: list[tuple[str, str]] | tuple = (),
    ) -> Path:
        """Write the HTML report (see :func:`seqscale.advisor.report.write_report`)."""
        data = frame if frame is not None else self._frame
        if data is None:
            raise ParameterError("report() needs the frame the advice was computed on")
        return write_report(self, data, path, split=split, extra_sections=extra_sections)

    # --- display --------------------------------------------------------------------------------
    def _key_numbers(self, c: ColumnAdvice) -> str:
        return _key_numbers(c)

    def __rich_console__(self, console: Any, options: Any) -> Any:
        """The advice table. A terminal gets short reasons cut after a word; a pipe or a file
        gets every word of every cell (the whole reason, with its numbers)."""
        full = not console.is_terminal
        table = self._empty_table(full)
        for c in self.columns:
            table.add_row(*_table_row(c, full))
        yield table
        if self.validation is not None:
            yield validation_table(self.validation)

    def _empty_table(self, full: bool = False):
        from rich import box
        from rich.table import Table

        s = self.settings
        table = Table(
            title=(
                f"seqscale advice: {self.n_rows:,} rows x {self.n_columns} columns, "
                f"task {s['task']} ({s['output_activation']} output)"
            ),
            caption=self.sampling_note or None,
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            expand=False,
        )
        # a pipe or file: no width limits, so no name or number is folded mid-word
        table.add_column("column", overflow="fold", max_width=None if full else 18)
        table.add_column("kind", max_width=None if full else 11)
        table.add_column("recommendation", overflow="fold", max_width=None if full else 24)
        table.add_column("key numbers", overflow="fold", max_width=None if full else 26)
        table.add_column("reason", overflow="fold", min_width=24)
        return table

    def __str__(self) -> str:
        from rich.console import Console

        console = Console(record=True, width=120, file=io.StringIO(), color_system=None, force_terminal=False)
        console.print(self)
        return console.export_text()

    def __repr__(self) -> str:
        return (
            f"Advice(n_rows={self.n_rows}, columns={[c.name for c in self.columns]!r}, "
            f"task={self.settings['task']!r})"
        )


def _ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``22nd`` ...

    Examples
    --------
    >>> [_ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 22, 103)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '22nd', '103rd']
    """
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
