"""The whole seqscale story on real data, in about a minute: ``seqscale demo``.

Data: statsmodels' quarterly US macro series (1959-2009, 203 rows): twelve numeric series with
wildly different scales (real GDP in the thousands, interest rates in percent, population in
millions) and a categorical ``quarter``. Target: real GDP, one quarter ahead. The last 20 % of
the quarters (mid-1999 on) are the test period; real GDP there is above anything seen in
training, which is exactly where scaling choices matter.

Steps (every output goes to ``out_dir``):

1. advise on the training period -> ``plan.json``
2. fit the pipeline on the training period -> ``coefficients.json``
3. transform -> LSTM tensors (shapes printed)
4. compare raw / normalized / standardized / advised LSTMs -> ``comparison.json``,
   ``losses.png``, ``forecasts.png``
5. forecasts back in real units -> ``predictions.csv``
6. drift of the test period against the fitted coefficients -> ``drift.csv``
7. ``report.html``: the advice report, the comparison and the drift table
"""

from __future__ import annotations

import html
import os
import sys
import time as _time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqscale.advisor.api import advise
from seqscale.datasets import load_dataset
from seqscale.files.io import write_table
from seqscale.lab.compare import compare
from seqscale.sequence import pipeline_steps as steps
from seqscale.sequence.pipeline import SequencePipeline
from seqscale.sequence.rows import caller_rows
from seqscale.sequence.split import split_by_time

__all__ = ["DATASET", "TARGET", "drift_table", "run_demo"]

DATASET = "macrodata"
TARGET = "realgdp"
TIME = "date"
TEST_SIZE = 0.2
FULL = {"seeds": 3, "epochs": 60, "patience": 10}
QUICK = {"seeds": 1, "epochs": 4, "patience": 2}
SHARE_ALERT = 0.10  # share of test values outside the fitted range flagged as drift
SHIFT_ALERT = 2.0  # mean shift (training stds) flagged as drift


# ================================================================================================
# Drift: the test period against what the pipeline was fitted on
# ================================================================================================
def drift_table(pipe: Any, train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """Per numeric column: how far the test period lies outside what the pipeline was fitted on.

    Two views of each column the pipeline scales:

    * ``level_*``: the raw values of the test rows against the training rows (share outside the
      training [min, max], mean shift in training standard deviations);
    * ``fed_*``: the values the network is fed before scaling (after the pipeline's ``log1p`` and
      differencing) against the fitted scaler's range (the training or domain bounds its
      out-of-range check uses) and the training mean and std of those values.

    ``drift`` is True when either view has more than 10 % of the test values outside or a mean
    shift beyond 2 standard deviations.
    """
    train, train_rows = _sorted(pipe, train)
    test, test_rows = _sorted(pipe, test)
    tail = len(train) - pipe.span_  # the training rows the first test differences need
    context = pd.concat([train.iloc[tail:], test])
    with caller_rows(train_rows):
        fitted = steps.prepare(pipe, train)
    # only test rows can fail here: the tail passed above
    with caller_rows(np.concatenate([train_rows[tail:], test_rows])):
        later = steps.prepare(pipe, context)
    rows = []
    for col, spec in pipe.scaled_columns().items():
        lv_train = train[col].astype(np.float64).to_numpy()
        lv_test = test[col].astype(np.float64).to_numpy()
        fed_train = fitted.numeric[col][fitted.keep].to_numpy(dtype=np.float64)
        fed_test = later.numeric[col].to_numpy(dtype=np.float64)[len(context) - len(test) :]
        scaler = pipe.scalers_.get(col)
        if scaler is not None:  # the range the scaler's out-of-range check uses (fitted/domain)
            low, high = (float(np.ravel(v)[0]) for v in (scaler.affine_.low, scaler.affine_.high))
        else:
            low, high = float(np.nanmin(fed_train)), float(np.nanmax(fed_train))
        steps_done = [
            s for s, on in (("log1p", spec.get("log")), ("difference", spec.get("difference"))) if on
        ]
        rows.append(
            {
                "column": col,
                "role": spec["role"],
                "fed_as": ", ".join([*steps_done, spec.get("method") or "none"]),
                "level_share_outside": _outside(lv_test, np.nanmin(lv_train), np.nanmax(lv_train)),
                "level_mean_shift_std": _shift(lv_train, lv_test),
                "fed_share_outside": _outside(fed_test, low, high),
                "fed_mean_shift_std": _shift(fed_train, fed_test),
                "fitted_low": low,
                "fitted_high": high,
            }
        )
    table = pd.DataFrame(rows)
    level = [
        _share_alert(a) or _shift_alert(b)
        for a, b in zip(table["level_share_outside"], table["level_mean_shift_std"])
    ]
    fed = [
        _share_alert(a) or _shift_alert(b)
        for a, b in zip(table["fed_share_outside"], table["fed_mean_shift_std"])
    ]
    return table.assign(level_drift=level, fed_drift=fed)


def _sorted(pipe: Any, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """``frame`` sorted as the pipeline sorts it, and each sorted row's position in ``frame``."""
    out, positions = steps.sorted_rows(frame, pipe.time, pipe.id)
    return out, np.arange(len(frame)) if positions is None else positions


def _share_alert(share: float) -> bool:
    return bool(share > SHARE_ALERT)


def _shift_alert(shift: float) -> bool:
    return bool(abs(shift) > SHIFT_ALERT)


def _outside(values: np.ndarray, low: float, high: float) -> float:
    v = values[np.isfinite(values)]
    return float(np.mean((v < low) | (v > high))) if v.size else float("nan")


def _shift(train: np.ndarray, test: np.ndarray) -> float:
    a, b = train[np.isfinite(train)], test[np.isfinite(test)]
    sd = float(a.std()) if a.size else 0.0
    return float((b.mean() - a.mean()) / sd) if sd > 0 and b.size else float("nan")


def _drift_rich(table: pd.DataFrame) -> Any:
    from rich.table import Table

    out = Table(
        title="test period vs fitted coefficients: raw levels and values fed to the LSTM",
        caption=(
            f"red: more than {SHARE_ALERT:.0%} of the test values outside the fitted range or a "
            f"mean shift beyond {SHIFT_ALERT:g} std"
        ),
        caption_justify="left",
    )
    for name in (
        "column",
        "fed as",
        "levels: outside",
        "levels: shift (std)",
        "fed: outside",
        "fed: shift (std)",
    ):
        out.add_column(name, justify="left" if name in ("column", "fed as") else "right")
    for row in table.itertuples(index=False):

        def red(text: str, alert: bool) -> str:
            return f"[red]{text}[/red]" if alert else text

        out.add_row(
            row.column + (" (target)" if row.role == "target" else ""),
            row.fed_as,
            red(f"{row.level_share_outside:.0%}", _share_alert(row.level_share_outside)),
            red(_fmt(row.level_mean_shift_std), _shift_alert(row.level_mean_shift_std)),
            red(f"{row.fed_share_outside:.0%}", _share_alert(row.fed_share_outside)),
            red(_fmt(row.fed_mean_shift_std), _shift_alert(row.fed_mean_shift_std)),
        )
    return out


def _drift_html(table: pd.DataFrame, n_test: int) -> str:
    head = (
        "<tr><th>column</th><th>fed to the LSTM as</th><th>levels: share outside training "
        "range</th><th>levels: mean shift (train std)</th><th>fed: share outside fitted "
        "range</th><th>fed: mean shift (train std)</th></tr>"
    )
    rows = []
    for row in table.itertuples(index=False):

        def cell(text: str, alert: bool) -> str:
            style = ' style="color:#b00020;font-weight:bold"' if alert else ""
            return f'<td class="num"{style}>{text}</td>'

        rows.append(
            f"<tr><td>{html.escape(row.column)}{' (target)' if row.role == 'target' else ''}</td>"
            f"<td>{html.escape(row.fed_as)}</td>"
            + cell(f"{row.level_share_outside:.0%}", _share_alert(row.level_share_outside))
            + cell(_fmt(row.level_mean_shift_std), _shift_alert(row.level_mean_shift_std))
            + cell(f"{row.fed_share_outside:.0%}", _share_alert(row.fed_share_outside))
            + cell(_fmt(row.fed_mean_shift_std), _shift_alert(row.fed_mean_shift_std))
            + "</tr>"
        )
    n_level, n_fed = int(table["level_drift"].sum()), int(table["fed_drift"].sum())
    return (
        f"<p>The {n_test} test rows against the coefficients fitted on the training period. "
        f"As raw levels, {n_level} of {len(table)} columns have drifted (trending series leave "
        f"the training range); as fed to the LSTM (after the advised log1p/differencing), "
        f"{n_fed} have. Red: more than {SHARE_ALERT:.0%} outside or a shift beyond "
        f"{SHIFT_ALERT:g} std.</p><table>{head}{''.join(rows)}</table>"
    )


def _why(result: Any) -> str:
    """One sentence on what separates the advised plan from the uniform ones."""
    cols = result.plans["advised"]["columns"]
    diffed = [c for c, spec in cols.items() if spec.get("difference")]
    target_diffed = TARGET in diffed
    table = result.table.set_index("variant")["rmse_mean"]
    levels = min(table.get("normalized", np.inf), table.get("standardized", np.inf))
    if not target_diffed or "advised" not in table:
        return f"The advised plan differences {len(diffed)} trending column(s)."
    verb = "helped" if table["advised"] < levels else "did not help"
    text = (
        f"What differs: the advised plan differences {len(diffed)} trending columns, the target "
        f"among them, so the network predicts quarter-on-quarter changes, which stay inside the "
        f"training range (step 6), and inverse_target adds them to the last known level. The "
        f"normalized and standardized networks predict levels and would have to extrapolate "
        f"beyond every training value; here differencing {verb}."
    )
    if "raw" in table and table["raw"] > 10 * table.min():
        text += (
            " raw: with unscaled inputs and a target in the thousands, the network's outputs "
            "stay far from the target's level within the epoch budget."
        )
    return text


def _fmt(value: float) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:+.2f}"


# ================================================================================================
# The demo
# ================================================================================================
def run_demo(
    out_dir: str | os.PathLike[str] = "seqscale-demo",
    *,
    quick: bool = False,
    console: Any = None,
) -> dict:
    """Run the demo: advise, fit, transform, compare LSTMs, invert, check drift, report.

    Parameters
    ----------
    out_dir : folder for every output (created)
    quick : fewer seeds and epochs (a smoke run of a few seconds)
    console : a ``rich.console.Console`` to print to (default: a new one on stdout)

    Returns
    -------
    dict
        ``paths`` (name -> Path of every output), ``best``, ``verdict``, ``rmse`` / ``mae``
        (variant -> mean over seeds, original units), ``baseline_rmse``, tensor shapes,
        ``drift`` (column -> share of test levels outside the training range) and ``seconds``.
    """
    from rich.console import Console

    started = _time.perf_counter()
    console = console or Console()
    budget = QUICK if quick else FULL
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        name: out / file
        for name, file in (
            ("plan", "plan.json"),
            ("coefficients", "coefficients.json"),
            ("comparison", "comparison.json"),
            ("losses", "losses.png"),
            ("forecasts", "forecasts.png"),
            ("predictions", "predictions.csv"),
            ("drift", "drift.csv"),
            ("report", "report.html"),
        )
    }

    def rule(title: str) -> None:  # a heading line no wider than a terminal, even when piped
        from rich.rule import Rule

        console.print(Rule(title, align="left"), width=min(console.width, 100))

    def step(i: int, title: str) -> None:
        rule(f"[bold]{i}/7  {title}")

    def wrote(key: str, what: str) -> None:
        console.print(f"  wrote [cyan]{paths[key]}[/cyan]  {what}")

    frame = load_dataset(DATASET)
    train, test, cutoff = split_by_time(frame, TEST_SIZE, time=TIME)
    console.print(
        f"[bold]seqscale demo[/bold]: forecast US real GDP ({TARGET}) one quarter ahead from "
        f"{frame.shape[1] - 2} quarterly series and the quarter ({len(frame)} quarters, "
        f"{frame[TIME].min():%Y}-{frame[TIME].max():%Y}). Training: {len(train)} quarters "
        f"before {pd.Timestamp(cutoff):%Y-%m}; test: the last {len(test)}."
    )

    # 1. advise ------------------------------------------------------------------------------
    step(1, "advise: how should each column be prepared? (training period only)")
    advice = advise(train, target=TARGET, time=TIME, test_size=TEST_SIZE)
    console.print(advice)
    advice.save_plan(paths["plan"])
    wrote("plan", "the editable recipe (roles, log1p, differencing, scaling per column)")
    plan = advice.plan
    n_in, n_out = plan["window"]["n_in"], plan["window"]["n_out"]

    # 2. fit ---------------------------------------------------------------------------------
    step(2, "fit the pipeline on the training period")
    pipe = SequencePipeline.from_plan(plan, test_start=cutoff).fit(train)
    pipe.save(paths["coefficients"])
    console.print(
        f"  fitted on {len(train)} rows; test_start={pd.Timestamp(cutoff):%Y-%m-%d} is guarded "
        f"(fitting on later rows raises LeakageError); differencing drops the first "
        f"{pipe.span_} row(s)."
    )
    wrote("coefficients", "every step's fitted state, one JSON file (load_pipeline reads it)")

    # 3. transform ---------------------------------------------------------------------------
    step(3, "transform: table -> LSTM tensors")
    history = n_in + pipe.span_
    test_frame = pd.concat([train.iloc[len(train) - history :], test])
    X_train, y_train = pipe.transform(train)
    X_test, y_test = pipe.transform(test_frame)
    console.print(
        f"  X_train {X_train.shape} {X_train.dtype}, y_train {y_train.shape}; "
        f"X_test {X_test.shape}, y_test {y_test.shape}  [samples, steps, features]"
    )
    console.print(
        f"  {len(pipe.feature_names_out_)} features: " + ", ".join(map(str, pipe.feature_names_out_))
    )
    console.print(
        f"  the test windows start with {history} training rows of history (n_in={n_in} + "
        f"{pipe.span_} for differencing), so the first forecast is the first test quarter."
    )

    # 4. compare -----------------------------------------------------------------------------
    step(4, "compare: the same LSTM on raw, normalized, standardized and advised data")
    console.print(
        f"  1-layer LSTM (32 units), Adam, {budget['seeds']} seed(s), at most "
        f"{budget['epochs']} epochs, early stopping (patience {budget['patience']}) on the last "
        "20% of the training windows; scored on the test period in original units."
    )
    result = compare(
        frame,
        TARGET,
        time=TIME,
        test_size=TEST_SIZE,
        n_in=n_in,
        n_out=n_out,
        progress=sys.stderr.isatty(),  # the bar goes to stderr
        **budget,
    )
    console.print(result)
    why = _why(result)
    console.print(f"  {why}")
    result.to_json(paths["comparison"])
    wrote("comparison", "table, per-seed runs, loss histories, forecasts, plans")
    result.plot_losses(paths["losses"])
    wrote("losses", "training/validation loss per epoch, one panel per variant")
    result.plot_forecasts(paths["forecasts"])
    wrote("forecasts", "actual vs each variant's forecast over the test period")

    # 5. predictions in real units -----------------------------------------------------------
    step(5, "forecasts back in real units")
    write_table(result.predictions, paths["predictions"])
    preds = result.predictions
    first = preds.iloc[0]
    console.print(
        f"  inverse_target undid the scaling and the differencing: first test quarter "
        f"{preds.index[0]:%Y-%m}: actual {first['actual']:,.1f}, advised "
        f"{first.get('advised', float('nan')):,.1f} (billions of chained 2005 dollars)"
    )
    wrote("predictions", f"{len(preds)} quarters: actual and each variant (mean over seeds)")

    # 6. drift -------------------------------------------------------------------------------
    step(6, "drift: the test period against the fitted coefficients")
    drift = drift_table(pipe, train, test)
    console.print(_drift_rich(drift))
    console.print(
        f"  as raw levels {int(drift['level_drift'].sum())} of {len(drift)} columns drift "
        f"(the series trend); as fed to the LSTM {int(drift['fed_drift'].sum())} do."
    )
    write_table(drift, paths["drift"])
    wrote("drift", "per column: share outside the fitted range and mean shift")

    # 7. report ------------------------------------------------------------------------------
    step(7, "report")
    advice.report(
        paths["report"],
        frame,
        split=len(train),
        extra_sections=[
            (
                "LSTM comparison: raw, normalized, standardized, advised",
                result.html_section() + f"<p>{html.escape(why)}</p>",
            ),
            (
                "Drift: the test period against the fitted coefficients",
                _drift_html(drift, len(test)),
            ),
        ],
    )
    wrote("report", "one self-contained HTML file: advice, comparison, drift")

    seconds = _time.perf_counter() - started
    rule("[bold]summary")
    console.print(f"  {result.verdict()}")
    for key, path in paths.items():
        console.print(f"  {key:<12} {path}")
    console.print(f"  done in {seconds:.1f} s")
    table = result.table.set_index("variant")
    return {
        "out_dir": out,
        "paths": paths,
        "target": TARGET,
        "best": result.best,
        "verdict": result.verdict(),
        "rmse": table["rmse_mean"].to_dict(),
        "mae": table["mae_mean"].to_dict(),
        "baseline_rmse": result.baseline["rmse"],
        "X_train_shape": tuple(X_train.shape),
        "y_train_shape": tuple(y_train.shape),
        "X_test_shape": tuple(X_test.shape),
        "drift": dict(zip(drift["column"], drift["level_share_outside"])),
        "seconds": seconds,
    }
