"""``python -m benchmarks [w1 w2 ...] [--runs N] [--update] [--readme README.md]``: run the
workloads and write the results table.

Each workload runs in a fresh interpreter (its memory and threads do not leak into the next
one); a workload that fails is reported in the table and the run goes on. With ``--runs N`` the
whole suite runs N times (after the kernels are compiled once, untimed); the table shows the
median and range of every figure over the runs and names every goal that failed in any run;
``--readme`` rewrites the README's summary. With ``--update`` the named workloads are
re-measured N times and replace their sections in the N runs of the existing results; the
others keep theirs, and the table names the commit of each.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import _harness as h

WARM_SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "warm_kernels.py"

WORKLOADS = {
    "w1": "benchmarks.w1_dense",
    "w2": "benchmarks.w2_panel",
    "w3": "benchmarks.w3_stream",
    "w4": "benchmarks.w4_dask",
    "w5": "benchmarks.w5_numerics",
    "w6": "benchmarks.w6_windows",
    "w7": "benchmarks.w7_csv_stream",
    "w8": "benchmarks.w8_dask_panel",
}
RESULTS = Path(__file__).resolve().parent / "results"


def _child(name: str, out: Path) -> int:
    module = importlib.import_module(WORKLOADS[name])
    t0 = time.perf_counter()
    section = module.run()
    section.seconds = time.perf_counter() - t0
    out.write_text(json.dumps(section.to_json(), default=h._json_default))
    return 0


def _failed(name: str, detail: str) -> h.Section:
    module = importlib.import_module(WORKLOADS[name])
    title = getattr(module, "TITLE", name)
    s = h.Section(name, title, [])
    s.notes.append(f"**Did not complete**: {detail}")
    for goal in getattr(module, "GOALS", []):
        s.goal(goal, "not measured", None, "workload failed")
    return s


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("workloads", nargs="*", help=f"some of {', '.join(WORKLOADS)} (default: all)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--results", default=str(RESULTS), help="output directory (default: %(default)s)")
    p.add_argument("--runs", type=int, default=1, help="full runs of the suite (default: 1)")
    p.add_argument("--readme", help="rewrite the benchmark summary between the markers of this file")
    p.add_argument(
        "--update",
        action="store_true",
        help="re-measure the named workloads in each run of the existing results (as many --runs)",
    )
    args = p.parse_args(argv)
    if args.child:
        return _child(args.child, Path(args.out))

    names = list(dict.fromkeys(args.workloads)) or list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        return _refuse(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    out_dir = Path(args.results)
    if args.update and not args.workloads:
        return _refuse("--update re-measures the workloads named; name them, e.g. w2 w3")
    if args.update:
        try:
            machines, runs, seconds = _existing(out_dir, names, args.runs)
        except ValueError as err:
            return _refuse(str(err))
    else:
        machines, runs, seconds = [], [], []
    _warm_kernels()
    for k in range(max(1, args.runs)):
        h.log(f"run {k + 1} of {max(1, args.runs)}")
        mach, sections, t = _run_suite(names)
        if args.update:
            machines[k], runs[k], seconds[k] = replace_sections(
                machines[k], runs[k], seconds[k], mach, sections
            )
        else:
            machines.append(mach)
            runs.append(sections)
            seconds.append(t)
        # written after every run: an interrupted series still leaves its finished runs
        text = h.write_results(machines, runs, seconds, out_dir)
    print(text)
    h.log(f"written {out_dir / 'latest.md'} and latest.json")
    if args.readme:
        from benchmarks import _aggregate

        block = _aggregate.readme_block(runs, machines, seconds)
        done = _aggregate.update_readme(Path(args.readme), block)
        h.log(f"{args.readme}: " + ("summary rewritten" if done else "no benchmark markers found"))
    return 0


def _warm_kernels() -> None:
    """Compile seqscale's kernels into their disk cache before anything is timed: a workload
    timed once (W8's Dask workers) would otherwise time the compiling after a kernel changed."""
    h.log("compiling the kernels (numba's disk cache)")
    subprocess.run([sys.executable, str(WARM_SCRIPT)], check=True, stdout=subprocess.DEVNULL)


def _refuse(message: str) -> int:
    print(f"python -m benchmarks: {message}", file=sys.stderr)
    return 2


def _existing(
    out_dir: Path, names: list[str], n_runs: int
) -> tuple[list[dict], list[list[h.Section]], list[float]]:
    """The results ``--update`` re-measures some workloads of.

    Raises
    ------
    ValueError
        One line: no ``latest.json``, a workload missing from one of its runs, another number of
        runs or another scale than the existing results.
    """
    path = out_dir / "latest.json"
    if not path.exists():
        raise ValueError(f"--update: {path} does not exist; run the whole suite first")
    try:
        machines, runs, seconds = h.load_results(path)
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"--update: cannot read {path}: {err}") from None
    if n_runs != len(runs):
        raise ValueError(
            f"--update: {path} holds {len(runs)} run(s); re-measure with --runs {len(runs)}, "
            f"not {n_runs}, so that every run gets one new measurement"
        )
    missing = [n for n in names if any(n not in {s.key for s in sections} for sections in runs)]
    if missing:
        raise ValueError(f"--update: {', '.join(missing)} not measured in every run of {path}")
    scales = {m.get("scale") for m in machines}
    if scales != {h.scale()}:
        shown = ", ".join(f"{s:g}" for s in scales if s is not None) or "unknown"
        raise ValueError(f"--update: {path} was measured at {h.SCALE_ENV}={shown}, not {h.scale():g}")
    return machines, runs, seconds


def replace_sections(
    mach: dict, sections: list[h.Section], total: float, new_mach: dict, new: list[h.Section]
) -> tuple[dict, list[h.Section], float]:
    """One run of the results with the sections of ``new`` (a run of some workloads) in place of
    its own.

    Returns
    -------
    machine : dict
        ``mach`` with the re-measurement added to ``mach["updates"]`` (its workloads, commit,
        date, load at the start and end); earlier re-measurements keep only the workloads not
        measured again.
    sections : list of Section
        In the order of ``sections``.
    total : float
        ``total`` with the time of the replaced sections exchanged for the new ones'.
    """
    fresh = {s.key: s for s in new}
    total += sum(s.seconds for s in new) - sum(s.seconds for s in sections if s.key in fresh)
    earlier = [
        {**u, "workloads": [w for w in u["workloads"] if w not in fresh]} for u in mach.get("updates", [])
    ]
    update = {
        "workloads": [s.key for s in new],
        "commit": new_mach["seqscale_commit"],
        "date": new_mach["date"],
        "load_average_start": new_mach.get("load_average_start"),
        "load_average_end": new_mach.get("load_average_end"),
    }
    mach = {**mach, "updates": [*(u for u in earlier if u["workloads"]), update]}
    return mach, [fresh.get(s.key, s) for s in sections], total


def _run_suite(names: list[str]) -> tuple[dict, list[h.Section], float]:
    """One full run: each workload in its own interpreter."""
    mach = h.machine()
    h.log(f"scale {h.scale():g}; workloads {', '.join(names)}")
    t0 = time.perf_counter()
    sections = []
    with tempfile.TemporaryDirectory(prefix="seqscale-bench-") as tmp:
        for name in names:
            out = Path(tmp) / f"{name}.json"
            h.log(f"{name}: start")
            t1 = time.perf_counter()
            cmd = [sys.executable, "-m", "benchmarks", "--child", name, "--out", str(out)]
            tail: list[str] = []
            with subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True) as proc:
                for line in proc.stderr:  # echo live, keep the end for the failure note
                    sys.stderr.write(line)
                    tail = [*tail[-40:], line.rstrip()]
            if proc.returncode == 0 and out.exists():
                sections.append(h.Section.from_json(json.loads(out.read_text())))
            else:
                last = next((line for line in reversed(tail) if line.strip()), "no output")
                sections.append(_failed(name, f"exit code {proc.returncode}: {last[:300]}"))
                sections[-1].seconds = time.perf_counter() - t1
            h.log(f"{name}: done in {time.perf_counter() - t1:.0f} s")
    mach["load_average_end"] = h._load()
    for section in sections:
        section.commit = mach["seqscale_commit"]
    return mach, sections, time.perf_counter() - t0


if __name__ == "__main__":
    raise SystemExit(main())
