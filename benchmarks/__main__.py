"""``python -m benchmarks [w1 w2 ...] [--runs N] [--readme README.md]``: run the workloads and
write the results table.

Each workload runs in a fresh interpreter (its memory and threads do not leak into the next
one); a workload that fails is reported in the table and the run goes on. With ``--runs N`` the
whole suite runs N times; the table shows the median and range of every figure over the runs
and names every goal that failed in any run; ``--readme`` rewrites the README's summary.
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
    args = p.parse_args(argv)
    if args.child:
        return _child(args.child, Path(args.out))

    names = args.workloads or list(WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        p.error(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    machines, runs, seconds = [], [], []
    for k in range(max(1, args.runs)):
        h.log(f"run {k + 1} of {max(1, args.runs)}")
        mach, sections, t = _run_suite(names)
        machines.append(mach)
        runs.append(sections)
        seconds.append(t)
        # written after every run: an interrupted series still leaves its finished runs
        text = h.write_results(machines, runs, seconds, Path(args.results))
    print(text)
    h.log(f"written {Path(args.results) / 'latest.md'} and latest.json")
    if args.readme:
        from benchmarks import _aggregate

        done = _aggregate.update_readme(Path(args.readme), _aggregate.readme_block(runs, machines))
        h.log(f"{args.readme}: " + ("summary rewritten" if done else "no benchmark markers found"))
    return 0


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
    return mach, sections, time.perf_counter() - t0


if __name__ == "__main__":
    raise SystemExit(main())
