"""Several full runs of the suite folded into one table: median and range per row and per goal.

A figure in the tables is the median over the runs, followed by the smallest and largest value
``(min-max)``; a goal is listed with the number of runs it passed, and every goal that failed in
any run is named with the runs it failed in. The README's benchmark summary (between two marker
comments) is rewritten from the same numbers.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

from benchmarks import _harness as h

NUMBER = re.compile(r"-?\d[\d,]*\.?\d*(?:e[-+]?\d+)?")
README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"


def _numbers(text: str) -> list[float]:
    return [float(m.replace(",", "")) for m in NUMBER.findall(text)]


def _fmt_like(template: str, values: list[float]) -> str:
    """``template`` (one run's text) with its first number replaced by the median and range of
    ``values``, printed with the template's own number of decimals."""
    m = NUMBER.search(template)
    if m is None:
        return template
    token = m.group(0)
    decimals = len(token.split(".")[1]) if "." in token and "e" not in token else 0

    def f(v: float) -> str:
        return f"{v:,.{decimals}f}" if "," in token or abs(v) >= 1000 else f"{v:.{decimals}f}"

    med, lo, hi = statistics.median(values), min(values), max(values)
    shown = f(med) if f(lo) == f(hi) else f"{f(med)} ({f(lo)}\u2013{f(hi)})"
    return template[: m.start()] + shown + template[m.end() :]


def _cell(texts: list[str], seconds: list[float] | None, column: str) -> str:
    if column == "time" and seconds and all(s is not None for s in seconds):
        med = h.fmt_time(statistics.median(seconds))
        lo, hi = h.fmt_time(min(seconds)), h.fmt_time(max(seconds))
        extra = " (extrapolated)" if "extrapolated" in texts[0] else ""
        return med + ("" if lo == hi else f" ({lo}\u2013{hi})") + extra
    if len(set(texts)) == 1:
        return texts[0]
    skeletons = {NUMBER.sub("#", t, count=1) for t in texts}
    firsts = [_numbers(t)[:1] for t in texts]
    if len(skeletons) == 1 and all(firsts):
        return _fmt_like(texts[len(texts) // 2], [v[0] for v in firsts])
    return " / ".join(dict.fromkeys(texts))  # e.g. µs in one run and ms in another


def aggregate_sections(runs: list[list[h.Section]]) -> list[h.Section]:
    """One section per workload whose rows show the median and range over the runs."""
    out = []
    for parts in zip(*runs):
        first = parts[0]
        section = h.Section(first.key, first.title, first.columns, notes=list(first.notes))
        if all(len(p.facts) == len(first.facts) for p in parts):
            section.facts = [_cell(list(texts), None, "") for texts in zip(*(p.facts for p in parts))]
        else:
            section.facts = list(dict.fromkeys(f for p in parts for f in p.facts))
        same_shape = all(len(p.rows) == len(first.rows) for p in parts)
        for i in range(len(first.rows) if same_shape else 0):
            rows = [p.rows[i] for p in parts]
            seconds = [r.get("seconds") for r in rows]
            merged = {c: _cell([str(r.get(c, "")) for r in rows], seconds, c) for c in first.columns}
            section.rows.append(merged)
        if not same_shape:
            section.notes.insert(
                0, "The runs produced different rows; the rows of each run are in the JSON file."
            )
        section.seconds = statistics.median(p.seconds for p in parts)
        out.append(section)
    return out


def goal_summary(runs: list[list[h.Section]]) -> tuple[list[dict], list[str]]:
    """Per goal: median and range of the measured value, runs passed; and the failures named."""
    table, failures = [], []
    goal_lists = [[g for s in sections for g in s.goals] for sections in runs]
    for gs in zip(*goal_lists):
        g0 = gs[0]
        values = [g.value for g in gs if g.value is not None]
        measured = _fmt_value(values, g0.unit) if values else g0.measured
        passed = sum(1 for g in gs if g.passed)
        failed = [str(k + 1) for k, g in enumerate(gs) if g.passed is False]
        skipped = sum(1 for g in gs if g.passed is None)
        result = f"{passed} of {len(gs)}" + (f" ({skipped} skipped)" if skipped else "")
        table.append(
            {
                "workload": g0.workload,
                "goal": g0.goal,
                "median (range) over runs": measured + (f" ({g0.note})" if g0.note else ""),
                "passed in": f"**{result}**" if failed else result,
            }
        )
        if failed:
            failures.append(f"{g0.workload} {g0.goal}: failed in run(s) {', '.join(failed)} — {measured}")
    return table, failures


def _fmt_value(values: list[float], unit: str) -> str:
    def one(v: float) -> str:
        if unit == "faster":
            return f"{v:,.0f}\u00d7" if v >= 100 else f"{v:.1f}\u00d7"
        if unit == "%":
            return f"{100 * v:.0f}%"
        if unit == "GB":
            return f"{v:.2f} GB"
        if unit == "err":
            return h.fmt_err(v)
        return f"{v:.2f}\u00d7"

    med, lo, hi = one(statistics.median(values)), one(min(values)), one(max(values))
    suffix = " faster" if unit == "faster" else ""
    return (med if lo == hi else f"{med} ({lo}\u2013{hi})") + suffix


def render(machines: list[dict], runs: list[list[h.Section]], seconds: list[float]) -> str:
    """Markdown for several runs: the last run's machine line, each run's load, goals, tables."""
    n = len(runs)
    loads = [_run_loads(k, m, sections) for k, (m, sections) in enumerate(zip(machines, runs))]
    table, failures = goal_summary(runs)
    commits, per_workload = h.measured_at(runs, machines)
    if per_workload:
        what = f"**{n} runs** of seqscale{commits}"
    else:
        what = f"**{n} full runs** of seqscale{commits or ' at an unknown commit'}"
    note = (
        f"{what}; every figure "
        "is the median over the runs, with the smallest and largest value in parentheses (the notes "
        "under each table quote the first run). System "
        "load average (1 min) at the start → end of each run: " + "; ".join(loads) + "."
    )
    goals = h._table(["workload", "goal", "median (range) over runs", "passed in"], table)
    all_pass = sum(1 for row in table if row["passed in"] == f"{n} of {n}")
    goals += ["", f"{all_pass} of {len(table)} goals passed in every run."]
    if failures:
        goals += ["", "Goals that failed in at least one run:", ""] + [f"- {f}" for f in failures]
    mach = dict(machines[-1])
    return h.render(mach, aggregate_sections(runs), statistics.median(seconds), goals, note, commits)


def _load(x: list | None) -> str:
    return str(x[0]) if x else "?"


def _run_loads(k: int, mach: dict, sections: list[h.Section]) -> str:
    """``run 1 <date>: 1.2 → 1.4``, followed by the re-measurements of some of its workloads."""
    parts = h.load_parts(mach, sections)
    again = [f"{who} re-measured {date}: {_load(a)} → {_load(b)}" for who, date, a, b in parts if who]
    run = [f"{date}: {_load(a)} → {_load(b)}" for who, date, a, b in parts if not who]
    if not run:
        return f"run {k + 1}: " + "; ".join(again)
    return f"run {k + 1} {run[0]}" + (f" ({'; '.join(again)})" if again else "")


def _start_loads(mach: dict, sections: list[h.Section]) -> str:
    """``1.2``, or ``1.2 (W2, W3: 0.9)`` when some workloads were re-measured."""
    parts = h.load_parts(mach, sections)
    again = [f"{who}: {_load(a)}" for who, _, a, _ in parts if who]
    run = [_load(a) for who, _, a, _ in parts if not who]
    if not again:
        return run[0]
    return " ".join([*run, f"({'; '.join(again)})"])


def readme_block(
    runs: list[list[h.Section]], machines: list[dict], seconds: list[float] | None = None
) -> str:
    """The README's summary: every goal with its median, range and runs passed, the commits
    measured and the system load at the start of each run (and of each re-measurement)."""
    table, failures = goal_summary(runs)
    n = len(runs)
    m = machines[-1]
    commits, per_workload = h.measured_at(runs, machines)
    how = [f"`make bench RUNS={n}`" + (" and `--update`" if per_workload else "")]
    if seconds:
        how.append(f"about {statistics.median(seconds) / 60:.0f} minutes a run")
    all_pass = sum(1 for row in table if row["passed in"] == f"{n} of {n}")
    how = ", ".join(how) + f"; {all_pass} of {len(table)} goals passed in every run"
    where = f"on {m['cpu']} ({m['usable_cpus']} CPUs), {m.get('date', '')}"
    if per_workload:
        head = f"{n} runs of seqscale ({how}) {where}{commits}. Median (smallest\u2013largest)"
    else:
        head = f"{n} full runs of seqscale{commits} ({how}) {where}; median (smallest\u2013largest)"
    starts = ", ".join(_start_loads(x, sections) for x, sections in zip(machines, runs))
    lines = [
        README_START,
        f"{head} over the runs. Loads (1 min) at the start of each run: {starts}.",
        "",
        *h._table(["workload", "goal", "median (range) over runs", "passed in"], table),
        "",
    ]
    if failures:
        lines += ["Failed in at least one run:", ""] + [f"- {f}" for f in failures] + [""]
    else:
        lines += ["Every goal passed in every run.", ""]
    lines.append(README_END)
    return "\n".join(lines)


def update_readme(path: Path, block: str) -> bool:
    """Replace the text between the markers in ``path``; False when the markers are missing."""
    text = path.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    h.write_atomic(path, text[:start] + block + text[end + len(README_END) :])
    return True
