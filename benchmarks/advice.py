"""Does the advice pay off? ``seqscale compare`` on every public data set of :mod:`seqscale.datasets`.

``python -m benchmarks.advice [NAME ...] [--seeds 3] [--epochs 40] [--patience 8] [--no-validate]``
(``make advice-bench`` runs every data set). For each set,
:func:`~seqscale.lab.compare.compare` trains the same LSTM on raw, normalized, standardized and
advised data (and the advice's validated choice, when
this seqscale has one) on the first 80 % of the time steps and scores one-step forecasts of the
rest in the target's own units; panels are compared with their series id. The table gives each
variant's RMSE as mean ± std over the seeds, the last-value and seasonal-naive references, the
best of raw / normalized / standardized, and for the advised (and validated) variant its ratio to
that best and whether it lies within one seed-std of it (mean RMSE at most the best's mean plus
the larger of the two seed stds).

Results: ``benchmarks/results/advice.md`` (the table the README includes) and ``advice.json``
(every number, the settings, the machine and its load).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
LEVELS = ("raw", "normalized", "standardized")
CHECKED = ("advised", "validated")
RATIO_LIMIT = 1.25  # issue 13: the recommended variant never above 1.25x the best


def run_one(name: str, seeds: int, epochs: int, patience: int, validate: bool) -> dict:
    """Compare on one data set; a row of plain numbers."""
    from seqscale.datasets import dataset_info, load_dataset
    from seqscale.lab.compare import compare

    info = dataset_info(name)
    frame = load_dataset(name)
    started = time.perf_counter()
    result = compare(
        frame,
        info.target,
        time=info.time,
        id=info.id,
        seeds=seeds,
        epochs=epochs,
        patience=patience,
        validate=validate,
    )
    table = result.table.set_index("variant")
    row: dict[str, Any] = {
        "data set": name,
        "frequency": info.frequency,
        "rows": len(frame),
        "series": result.settings["n_series"],
        "n_in": result.settings["n_in"],
        "test points": int(result.runs["n"].iloc[0]),
        "variants": {
            v: {"mean": table.loc[v, "rmse_mean"], "std": table.loc[v, "rmse_std"]} for v in table.index
        },
        "references": {k: v["rmse"] for k, v in result.references.items()},
        "seconds": time.perf_counter() - started,
        "verdict": result.verdict(),
        "advice_rows": result.settings["advice_rows"],
    }
    row.update(judge(row["variants"]))
    if validate:
        row["validation cpu seconds"] = validation_cost(frame, info)
    return row


def validation_cost(frame: Any, info: Any) -> float:
    """CPU seconds (``time.process_time``) of the validated choice on compare's training rows,
    measured after compare ran (numba kernels compiled, torch imported)."""
    from seqscale.advisor.api import validated_advice
    from seqscale.frames.time_columns import with_time
    from seqscale.lab.compare_rows import order_rows, split_rows

    df = order_rows(with_time(frame, info.time), info.time, info.id)
    train = split_rows(df, 0.2, info.time).train
    started = time.process_time()
    validated_advice(train, info.target, time=info.time, id=info.id)
    return time.process_time() - started


def judge(variants: dict[str, dict]) -> dict:
    """Best of raw/normalized/standardized; each checked variant's ratio to it and the seed test."""
    levels = {v: variants[v] for v in LEVELS if v in variants and math.isfinite(variants[v]["mean"])}
    best = min(levels, key=lambda v: levels[v]["mean"])
    out: dict[str, Any] = {"best level": best}
    for name in CHECKED:
        if name not in variants:
            continue
        mine, top = variants[name], levels[best]
        out[f"{name} ratio"] = mine["mean"] / top["mean"]
        out[f"{name} within"] = bool(mine["mean"] <= top["mean"] + max(top["std"], mine["std"]))
    return out


# ------------------------------------------------------------------------------------------------
# Table
# ------------------------------------------------------------------------------------------------
def _num(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if abs(value) >= 1e5 or 0 < abs(value) < 1e-3:
        return f"{value:.3g}"
    return f"{value:,.1f}" if abs(value) >= 100 else (f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}")


def _cell(v: dict | None, bold: bool) -> str:
    if v is None:
        return "—"
    text = f"{_num(v['mean'])} ± {_num(v['std'])}"
    return f"**{text}**" if bold else text


def _reference(refs: dict, prefix: str) -> str:
    value = next((v for k, v in refs.items() if k.startswith(prefix)), None)
    return "—" if value is None else _num(value)


def render(rows: list[dict], settings: dict) -> str:
    """The markdown table (and the lines that say how it was made)."""
    names = [*LEVELS, *CHECKED]
    shown = [n for n in names if any(n in r.get("variants", {}) for r in rows)]
    head = ["data set", "freq.", "rows", "series", *shown, "last value", "seasonal naive", "best level"]
    for name in CHECKED:
        if name in shown:
            head += [f"{name} / best", f"{name} within 1 std"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['data set']} | failed: {r['error']} |")
            continue
        best = min(r["variants"], key=lambda v: r["variants"][v]["mean"])
        cells = [r["data set"], r["frequency"], f"{r['rows']:,}", str(r["series"])]
        cells += [_cell(r["variants"].get(n), n == best) for n in shown]
        cells += [_reference(r["references"], "last value"), _reference(r["references"], "seasonal naive")]
        cells.append(r["best level"])
        for name in CHECKED:
            if name in shown:
                ratio = r.get(f"{name} ratio")
                cells += [f"{ratio:.2f}" if ratio is not None else "—", _yes(r.get(f"{name} within"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join([*_header(rows, settings), "", *lines, "", *_footer(rows, settings)]) + "\n"


def _yes(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "**no**")


def _header(rows: list[dict], settings: dict) -> list[str]:
    return [
        "RMSE of one-step forecasts over the last 20 % of the time steps, in each target's own units, "
        f"mean ± std over {settings['seeds']} seed(s); the same LSTM (1 layer, 32 units, at most "
        f"{settings['epochs']} epochs of at most 256 windows, early stopping with patience "
        f"{settings['patience']} on the last 20 % of the training windows) for every variant. "
        "Bold: the lowest mean. Best level: the best of raw, normalized and standardized; "
        "x / best: the variant's mean RMSE over that best's; within 1 std: at most the best's mean "
        "plus the larger of the two seed stds.",
    ]


def _footer(rows: list[dict], settings: dict) -> list[str]:
    ok = [r for r in rows if "error" not in r]
    lines = []
    for name in CHECKED:
        judged = [r for r in ok if f"{name} within" in r]
        if judged:
            within = sum(r[f"{name} within"] for r in judged)
            under = sum(r[f"{name} ratio"] <= RATIO_LIMIT for r in judged)
            lines.append(
                f"{name}: within one seed-std of the best level on {within} of {len(judged)} data sets, "
                f"at most {RATIO_LIMIT}x the best on {under} of {len(judged)}."
            )
    costs = [(r["data set"], r["validation cpu seconds"]) for r in ok if "validation cpu seconds" in r]
    if costs:
        lines.append(
            "CPU seconds of the validated choice (all candidates, one process, after compare): "
            + ", ".join(f"{name} {sec:.1f}" for name, sec in costs)
            + "."
        )
    missing = [r["data set"] for r in ok if "validated" not in r["variants"]]
    if missing and len(missing) < len(ok):
        lines.append(f"No validated row for: {', '.join(missing)}.")
    loads = settings.get("load_average")
    lines.append(
        f"Run {settings['date']}: compare took {sum(r.get('seconds', 0) for r in ok) / 60:.1f} min in total "
        f"over the data sets on {settings['cpus']} cores (load average {loads[0]:g} at the start, "
        f"{loads[1]:g} at the end: the machine was shared)."
        if loads
        else f"Run {settings['date']}."
    )
    return lines


# ------------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------------
def _has_validation() -> bool:
    import importlib

    return hasattr(importlib.import_module("seqscale.advisor.api"), "validated_advice")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; write ``advice.md`` and ``advice.json``."""
    from seqscale.datasets import list_datasets

    parser = argparse.ArgumentParser(prog="python -m benchmarks.advice", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="data sets (default: all)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--patience", type=int, default=8)
    parser.add_argument("--no-validate", action="store_true", help="skip the validated variant")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--combine", nargs="+", type=Path, metavar="JSON", help="merge advice.json files of partial runs"
    )
    args = parser.parse_args(argv)
    if args.combine:
        return _write(*combine(args.combine), args.results)
    names = args.names or list(list_datasets())
    validate = _has_validation() and not args.no_validate
    settings = {
        "seeds": args.seeds,
        "epochs": args.epochs,
        "patience": args.patience,
        "validate": validate,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
    }
    start_load = os.getloadavg()[0]
    rows = []
    for name in names:
        print(f"{name} ...", file=sys.stderr, flush=True)
        try:
            rows.append(run_one(name, args.seeds, args.epochs, args.patience, validate))
        except Exception as err:  # a failing data set is reported in the table; the run goes on
            rows.append({"data set": name, "error": f"{type(err).__name__}: {err}"[:200]})
        print(f"  {rows[-1].get('verdict', rows[-1].get('error'))}", file=sys.stderr, flush=True)
    settings["load_average"] = [round(start_load, 1), round(os.getloadavg()[0], 1)]
    return _write(rows, settings, args.results)


def _write(rows: list[dict], settings: dict, folder: Path) -> int:
    text = render(rows, settings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "advice.md").write_text(text)
    (folder / "advice.json").write_text(
        json.dumps({"settings": settings, "rows": rows}, indent=1, default=str)
    )
    print(text)
    return 0


def combine(paths: list[Path]) -> tuple[list[dict], dict]:
    """Rows of several partial runs (run side by side), in the catalog's order; their settings.

    A data set in several runs keeps the last one that succeeded (list reruns last).
    """
    from seqscale.datasets import list_datasets

    parts = [json.loads(Path(p).read_text()) for p in paths]
    rows: dict[str, dict] = {}
    for part in parts:
        for row in part["rows"]:
            if "error" not in row or row["data set"] not in rows:
                rows[row["data set"]] = row
    order = [n for n in list_datasets() if n in rows]
    settings = dict(parts[0]["settings"])
    loads = [p["settings"].get("load_average") for p in parts if p["settings"].get("load_average")]
    if loads:
        settings["load_average"] = [min(x[0] for x in loads), max(x[1] for x in loads)]
    settings["validate"] = [p["settings"]["validate"] for p in parts]
    return [rows[n] for n in order], settings


if __name__ == "__main__":
    raise SystemExit(main())
