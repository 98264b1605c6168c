"""W3 — streaming: fit a standardization on a Parquet file larger than one wants in memory.

A file of ``rows x 8`` float64 columns (row groups of 1M rows, pyarrow's default Snappy
compression) is written once into a temporary directory and deleted at the end. Each case runs in
a fresh interpreter, which reports its own peak resident set (``getrusage`` ``ru_maxrss``):

- ``pyarrow bare read``: ``ParquetFile.iter_batches(batch_size=1M)`` and a trivial touch of each
  column (the reference: no tool can fit faster than it reads);
- ``read by row group``: ``ParquetFile.read_row_group(i)`` one group at a time, same touch (shows
  the memory a bounded reader needs: ``iter_batches`` holds far more than one batch);
- ``seqscale fit_file``: ``seqscale.stream.fit_file(path, method="standard", batch_size=1M)``;
- ``seqscale partial_fit``: ``StandardScaler.partial_fit`` over the same record batches;
- ``scikit-learn partial_fit``: ``StandardScaler.partial_fit`` over the same record batches, each
  turned into a 2D array with ``np.column_stack`` of the zero-copy column views.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import _harness as h

TITLE = "W3 streaming (Parquet file)"
GOALS = ["fit throughput ≥ 80% of pyarrow bare read", "peak RSS < 1 GB"]
COLUMNS = [
    "tool",
    "time",
    "throughput",
    "% of bare read",
    "\u00d7 bare read time",
    "peak RSS",
    "RSS after imports",
    "note",
]
N_COLS = 8
ROW_GROUP = 1_000_000
BATCH = 1_000_000
ROUNDS = 3
CASES = [
    "read",
    "read by row group",
    "seqscale fit_file",
    "seqscale partial_fit",
    "scikit-learn partial_fit",
]


# ---------------------------------------------------------------------------- the file
def write_file(path: Path, rows: int, seed: int = 3) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    names = [f"x{j}" for j in range(N_COLS)]
    schema = pa.schema([(n, pa.float64()) for n in names])
    loc = np.linspace(-100, 1e4, N_COLS)
    sd = np.linspace(0.1, 300, N_COLS)
    with pq.ParquetWriter(path, schema) as writer:
        done = 0
        while done < rows:
            k = min(ROW_GROUP, rows - done)
            cols = [pa.array(rng.standard_normal(k) * sd[j] + loc[j]) for j in range(N_COLS)]
            writer.write_table(pa.Table.from_arrays(cols, schema=schema), row_group_size=ROW_GROUP)
            done += k


# ---------------------------------------------------------------------------- one case
def _case_fn(case: str, path: str, batch: int):
    import pyarrow.parquet as pq

    if case == "read":

        def fn():
            rows, touched = 0, 0.0
            for b in pq.ParquetFile(path).iter_batches(batch_size=batch):
                rows += b.num_rows
                for col in b.columns:  # zero-copy view; read one value
                    touched += col.to_numpy()[0]
            return {"rows": rows}

        return fn
    if case == "read by row group":

        def fn():
            rows, touched = 0, 0.0
            pf = pq.ParquetFile(path)
            for i in range(pf.num_row_groups):
                for b in pf.read_row_group(i).to_batches(max_chunksize=batch):
                    rows += b.num_rows
                    for col in b.columns:
                        touched += col.to_numpy()[0]
            return {"rows": rows}

        return fn
    if case == "seqscale fit_file":
        from seqscale import stream

        def fn():
            res = stream.fit_file(path, method="standard", batch_size=batch)
            return {"mean": _attr(res, "mean_", "mean"), "std": _attr(res, "scale_", None)}

        return fn
    if case == "seqscale partial_fit":
        import seqscale

        def fn():
            s = seqscale.StandardScaler()
            for b in pq.ParquetFile(path).iter_batches(batch_size=batch):
                s.partial_fit(np.column_stack([c.to_numpy() for c in b.columns]))
            return {"mean": s.mean_.tolist(), "std": s.scale_.tolist()}

        return fn
    if case == "scikit-learn partial_fit":
        from sklearn.preprocessing import StandardScaler

        def fn():
            s = StandardScaler()
            for b in pq.ParquetFile(path).iter_batches(batch_size=batch):
                s.partial_fit(np.column_stack([c.to_numpy() for c in b.columns]))
            return {"mean": s.mean_.tolist(), "std": s.scale_.tolist()}

        return fn
    raise ValueError(case)


def _attr(obj, name, fallback):
    for n in (name, fallback):
        if n and hasattr(obj, n):
            return np.asarray(getattr(obj, n), dtype=float).tolist()
    return None


def _run_case(case: str, path: str, batch: int, n: int) -> dict:
    fn = _case_fn(case, path, batch)  # imports happen here
    rss_imports = h.max_rss_bytes()
    info = fn()  # warm-up (numba compilation from its disk cache, file in the page cache)
    runs = []
    for _ in range(n):
        t0 = time.perf_counter()
        info = fn()
        runs.append(time.perf_counter() - t0)
    return {
        "case": case,
        "runs": runs,
        "median": float(np.median(runs)),
        "rss_imports": rss_imports,
        "rss_peak": h.max_rss_bytes(),
        "info": info,
    }


def _merge_rounds(so_far: dict | None, new: dict) -> dict:
    """One case's result over rounds: all runs, their median, the largest peak RSS."""
    if so_far is None or "error" in new:
        return new
    if "error" in so_far:
        return so_far
    runs = so_far["runs"] + new["runs"]
    return {
        **so_far,
        "runs": runs,
        "median": float(np.median(runs)),
        "rss_peak": max(so_far["rss_peak"], new["rss_peak"]),
        "rss_imports": max(so_far["rss_imports"], new["rss_imports"]),
    }


def _subprocess_case(case: str, path: Path, batch: int, n: int) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.w3_stream",
        "--case",
        case,
        "--path",
        str(path),
        "--batch",
        str(batch),
        "--repeats",
        str(n),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        return {"case": case, "error": lines[-1] if lines else f"exit code {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- workload
def run() -> h.Section:
    section = h.Section("w3", TITLE, COLUMNS)
    rows = h.scaled(50_000_000, 100_000)
    reps = h.repeats(3)
    data_mib = rows * N_COLS * 8 / h.MiB
    tmp = Path(tempfile.mkdtemp(prefix="seqscale-bench-w3-"))
    try:
        path = tmp / "data.parquet"
        t0 = time.perf_counter()
        h.log(f"W3: writing {rows:,} x {N_COLS} float64 ({data_mib:,.0f} MiB) to a temporary Parquet file")
        write_file(path, rows)
        file_mib = path.stat().st_size / h.MiB
        h.log(f"W3: written {file_mib:,.0f} MiB in {time.perf_counter() - t0:.0f} s")
        # rounds through all cases: the bare read and the fits are timed at interleaved moments,
        # so a slow spell of the machine does not fall on one of them only
        results: dict[str, dict] = {}
        for _ in range(ROUNDS):
            for case in CASES:
                r = _subprocess_case(case, path, BATCH, max(1, -(-reps // ROUNDS)))
                results[case] = _merge_rounds(results.get(case), r)
        for case, r in results.items():
            if "error" in r:
                h.log(f"W3 {case}: failed: {r['error']}")
            else:
                h.log(
                    f"W3 {case:26s} {h.fmt_time(r['median']):>10s} "
                    f"{data_mib / r['median']:8.0f} MiB/s  peak RSS {r['rss_peak'] / h.MiB:,.0f} "
                    "MiB"
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ref = results["read"].get("median")
    for case in CASES:
        r = results[case]
        if "error" in r:
            section.add(tool=case, time="—", note=f"did not run: {r['error'][:200]}")
            continue
        t = r["median"]
        label = {
            "read": "pyarrow iter_batches bare read (reference)",
            "read by row group": "pyarrow read_row_group loop",
        }.get(case, case)
        section.add(
            **{
                "tool": label,
                "time": h.fmt_time(t),
                "throughput": f"{data_mib / t:,.0f} MiB/s",
                "% of bare read": "—" if not ref else f"{100 * ref / t:.0f}%",
                "\u00d7 bare read time": "—" if not ref else h.fmt_ratio(t / ref),
                "peak RSS": h.fmt_mib(r["rss_peak"]),
                "RSS after imports": h.fmt_mib(r["rss_imports"]),
                "note": "",
                "seconds": t,
                "runs": r["runs"],
                "rss_peak_bytes": r["rss_peak"],
                "rss_imports_bytes": r["rss_imports"],
            }
        )

    # agreement between the fits
    fits = {c: results[c]["info"] for c in CASES[2:] if "error" not in results[c]}
    if "seqscale fit_file" in fits and "scikit-learn partial_fit" in fits:
        a, b = fits["seqscale fit_file"], fits["scikit-learn partial_fit"]
        if a.get("mean") is not None:
            d = np.max(np.abs(np.subtract(a["mean"], b["mean"])) / np.abs(b["mean"]))
            section.notes.append(
                f"seqscale `fit_file` and scikit-learn means agree to {d:.1e} (max relative)."
            )

    ours = results["seqscale fit_file"]
    if "error" in ours or not ref:
        why = ours.get("error", "bare read failed")[:150]
        section.goal("fit throughput ≥ 80% of pyarrow bare read", "not measured", None, why)
        section.goal("peak RSS < 1 GB", "not measured", None, why)
    else:
        share = ref / ours["median"]
        section.goal(
            "fit_file throughput ≥ 80% of pyarrow bare read",
            f"{100 * share:.0f}% ({data_mib / ours['median']:,.0f} vs {data_mib / ref:,.0f} MiB/s)",
            share >= 0.8,
        )
        peak = ours["rss_peak"]
        section.goal("fit_file peak RSS < 1 GB", f"{peak / 1e9:.2f} GB", peak < 1e9)

    section.notes += [
        f"File: {rows:,} rows \u00d7 {N_COLS} float64 columns = {data_mib:,.0f} MiB of values "
        f"({file_mib:,.0f} MiB on disk, Snappy, row groups of {ROW_GROUP:,} rows), written to a "
        "temporary directory and deleted afterwards. It is in the OS page cache while the cases "
        "run "
        "(just written, and each case makes a warm-up pass), so this measures decoding and "
        "computing, not the disk.",
        f"Each case runs {ROUNDS} times (rounds through all cases), each time in a fresh "
        "interpreter: one warm-up pass, then timed passes; the median of all "
        f"{ROUNDS * max(1, -(-reps // ROUNDS))} timed passes is shown. "
        f"Batches of {BATCH:,} rows. Throughput = value bytes ({data_mib:,.0f} MiB) / time.",
        "Peak RSS: `getrusage(RUSAGE_SELF).ru_maxrss` of that interpreter at the end (whole "
        "process: "
        "interpreter, imported libraries, Arrow buffers); `RSS after imports` is the same measure "
        "before the first pass.",
    ]
    return section


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--case", required=True, choices=CASES)
    p.add_argument("--path", required=True)
    p.add_argument("--batch", type=int, default=BATCH)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    print(json.dumps(_run_case(a.case, a.path, a.batch, a.repeats), default=h._json_default))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
