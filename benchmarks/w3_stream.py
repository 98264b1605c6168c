"""W3 — streaming: fit a standardization on a Parquet file larger than one wants in memory.

A file of ``rows x 8`` float64 columns (row groups of 1M rows, pyarrow's default Snappy
compression) is written once into a temporary directory and deleted at the end. Each case runs in
a fresh interpreter, which reports its own peak resident set (``getrusage`` ``ru_maxrss``):

- ``read by row group``: ``ParquetFile.read_row_group(i)`` one group at a time, with pyarrow's
  threads (``use_threads=True``) and with one thread, and a trivial touch of each column. The
  faster of the two is the reference: the machine's fastest read of the file (no tool can fit
  faster than it reads);
- ``iter_batches``: pyarrow's ``ParquetFile.iter_batches(batch_size=1M)``, same touch, shown for
  its memory (it holds most of the file's decoded pages);
- ``seqscale fit_file``: ``seqscale.fit_file(path, method="standard", batch_size=1M)``;
- ``seqscale partial_fit`` and ``scikit-learn partial_fit``: ``StandardScaler.partial_fit`` over
  the same row-group reader as the reference (threads on), each group turned into a 2D array with
  ``np.column_stack`` of the zero-copy column views;
- ``read + write by row group``: each row group read and written to a new Parquet file with page
  checksums (what ``transform_file`` writes), the reference of ``seqscale transform_file``.
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
GOALS = ["fit_file ≥ 90% of the fastest read", "fit_file peak RSS < 1 GB"]
COLUMNS = [
    "tool",
    "time",
    "throughput",
    "% of reference",
    "\u00d7 reference time",
    "peak RSS",
    "RSS after imports",
    "note",
]
N_COLS = 8
ROW_GROUP = 1_000_000
BATCH = 1_000_000
# one round per full run: `make bench RUNS=5` gives each case five fresh interpreters, at five
# moments spread over the series of runs (a run took 11 minutes with three rounds of its own)
ROUNDS = 1
CASES = [
    "read by row group (threads)",
    "read by row group (1 thread)",
    "iter_batches read",
    "seqscale fit_file",
    "seqscale partial_fit",
    "scikit-learn partial_fit",
    "read + write by row group",
    "seqscale transform_file",
    "panel: read by row group",
    "seqscale fit_file per series",
]
PANEL_STEPS = 50  # rows per series of the panel file (rows shuffled over the whole file)
READS = CASES[:2]  # the reference is the faster of these
LABELS = {
    "read by row group (threads)": "pyarrow read_row_group loop, threads",
    "read by row group (1 thread)": "pyarrow read_row_group loop, one thread",
    "iter_batches read": "pyarrow iter_batches (for its memory)",
    "read + write by row group": "pyarrow read_row_group + ParquetWriter (reference of transform_file)",
    "panel: read by row group": "panel file: pyarrow read_row_group loop, threads",
    "seqscale fit_file per series": 'panel file: seqscale fit_file(groups="id")',
}
PANEL = CASES[-2:]


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


def write_panel(path: Path, n_series: int, seed: int = 5) -> None:
    """``id`` (int64) and two float64 columns, ``PANEL_STEPS`` rows per series in random order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    rows = n_series * PANEL_STEPS
    ids = rng.permutation(np.repeat(np.arange(n_series, dtype=np.int64), PANEL_STEPS))
    level = rng.normal(100.0, 30.0, n_series)
    schema = pa.schema([("id", pa.int64()), ("load", pa.float64()), ("temp", pa.float64())])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, ROW_GROUP):
            part = ids[start : start + ROW_GROUP]
            k = part.size
            cols = [
                pa.array(part),
                pa.array(level[part] + rng.standard_normal(k)),
                pa.array(rng.gamma(2.0, 3.0, k)),
            ]
            writer.write_table(pa.Table.from_arrays(cols, schema=schema), row_group_size=ROW_GROUP)


def _panel_path(path: str) -> str:
    return str(Path(path).with_name("panel.parquet"))


# ---------------------------------------------------------------------------- one case
def _row_groups(path: str, threads: bool = True):
    """The tables of the file's row groups, one at a time (the reference reader)."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    for i in range(pf.num_row_groups):
        yield pf.read_row_group(i, use_threads=threads)


def _touch(tables) -> dict:
    rows, touched = 0, 0.0
    for t in tables:
        rows += t.num_rows
        for col in t.columns:  # zero-copy view of the (first) chunk; read one value
            touched += (col.chunk(0) if hasattr(col, "chunk") else col).to_numpy()[0]
    return {"rows": rows}


def _case_fn(case: str, path: str, batch: int):
    import pyarrow.parquet as pq

    if case in READS:
        return lambda: _touch(_row_groups(path, threads=case.endswith("(threads)")))
    if case == "panel: read by row group":
        return lambda: _touch(_row_groups(_panel_path(path)))
    if case == "seqscale fit_file per series":
        from seqscale.files import stream

        def fn():
            res = stream.fit_file(_panel_path(path), method="standard", groups="id", batch_size=batch)
            return {"series": len(res.series_)}

        return fn
    if case == "iter_batches read":
        return lambda: _touch(pq.ParquetFile(path).iter_batches(batch_size=batch))
    if case == "seqscale fit_file":
        from seqscale.files import stream

        def fn():
            res = stream.fit_file(path, method="standard", batch_size=batch)
            return {"mean": _attr(res, "mean_", "mean"), "std": _attr(res, "scale_", None)}

        return fn
    if case in ("seqscale partial_fit", "scikit-learn partial_fit"):
        if case.startswith("seqscale"):
            from seqscale import StandardScaler
        else:
            from sklearn.preprocessing import StandardScaler

        def fn():
            s = StandardScaler()
            for t in _row_groups(path):
                s.partial_fit(np.column_stack([c.to_numpy() for c in t.columns]))
            return {"mean": s.mean_.tolist(), "std": s.scale_.tolist()}

        return fn
    out = str(Path(path).with_name("out.parquet"))
    if case == "read + write by row group":

        def fn():
            writer = None
            for t in _row_groups(path):
                if writer is None:
                    writer = pq.ParquetWriter(out, t.schema, write_page_checksum=True)
                writer.write_table(t)
            writer.close()
            Path(out).unlink()
            return {}

        return fn
    if case == "seqscale transform_file":
        import seqscale
        from seqscale.files import stream

        first = next(_row_groups(path)).to_pandas()
        scaler = seqscale.StandardScaler().fit(first)

        def fn():
            stream.transform_file(scaler, path, out, batch_size=batch)
            Path(out).unlink()
            return {}

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
    reps = h.repeats(1)
    data_mib = rows * N_COLS * 8 / h.MiB
    tmp = Path(tempfile.mkdtemp(prefix="seqscale-bench-w3-"))
    try:
        path = tmp / "data.parquet"
        t0 = time.perf_counter()
        h.log(f"W3: writing {rows:,} x {N_COLS} float64 ({data_mib:,.0f} MiB) to a temporary Parquet file")
        write_file(path, rows)
        n_series = h.scaled(400_000, 1_000)
        write_panel(tmp / "panel.parquet", n_series)
        panel_mib = n_series * PANEL_STEPS * 24 / h.MiB
        file_mib = path.stat().st_size / h.MiB
        h.log(f"W3: written {file_mib:,.0f} MiB in {time.perf_counter() - t0:.0f} s")
        # rounds through all cases: the reads and the fits are timed at interleaved moments,
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

    reads = [results[c]["median"] for c in READS if "error" not in results[c]]
    ref = min(reads) if reads else None
    rw = results["read + write by row group"]
    ref_rw = None if "error" in rw else rw["median"]
    for case in CASES:
        r = results[case]
        if "error" in r:
            section.add(tool=case, time="—", note=f"did not run: {r['error'][:200]}")
            continue
        t = r["median"]
        base = ref_rw if case in ("read + write by row group", "seqscale transform_file") else ref
        if case in PANEL:
            panel_read = results["panel: read by row group"]
            base = None if "error" in panel_read else panel_read["median"]
        note = "reference" if t == base or (case in READS and t == ref) else ""
        if base and case in ("read + write by row group", "seqscale transform_file"):
            note = note or "vs read + write"
        section.add(
            **{
                "tool": LABELS.get(case, case),
                "time": h.fmt_time(t),
                "throughput": f"{(panel_mib if case in PANEL else data_mib) / t:,.0f} MiB/s",
                "% of reference": "—" if not base else f"{100 * base / t:.0f}%",
                "\u00d7 reference time": "—" if not base else h.fmt_ratio(t / base),
                "peak RSS": h.fmt_mib(r["rss_peak"]),
                "RSS after imports": h.fmt_mib(r["rss_imports"]),
                "note": note,
                "seconds": t,
                "runs": r["runs"],
                "rss_peak_bytes": r["rss_peak"],
                "rss_imports_bytes": r["rss_imports"],
            }
        )

    # agreement between the fits
    fits = {
        c: results[c]["info"]
        for c in CASES
        if c.endswith(("fit_file", "partial_fit")) and "error" not in results[c]
    }
    if "seqscale fit_file" in fits and "scikit-learn partial_fit" in fits:
        a, b = fits["seqscale fit_file"], fits["scikit-learn partial_fit"]
        if a.get("mean") is not None:
            d = np.max(np.abs(np.subtract(a["mean"], b["mean"])) / np.abs(b["mean"]))
            section.notes.append(
                f"seqscale `fit_file` and scikit-learn means agree to {d:.1e} (max relative)."
            )

    ours = results["seqscale fit_file"]
    if "error" in ours or not ref:
        why = ours.get("error", "the reads failed")[:150]
        section.goal("fit_file throughput ≥ 90% of the fastest read of the file", "not measured", None, why)
        section.goal("fit_file peak RSS < 1 GB", "not measured", None, why)
    else:
        share = ref / ours["median"]
        section.goal(
            "fit_file throughput ≥ 90% of the fastest read of the file",
            f"{100 * share:.0f}% ({data_mib / ours['median']:,.0f} vs {data_mib / ref:,.0f} MiB/s)",
            share >= 0.9,
            value=share,
            unit="%",
        )
        peak = ours["rss_peak"]
        section.goal(
            "fit_file peak RSS < 1 GB", f"{peak / 1e9:.2f} GB", peak < 1e9, value=peak / 1e9, unit="GB"
        )
    per_series = results["seqscale fit_file per series"]
    if "error" not in per_series:
        section.facts.append(
            f'`fit_file(groups="id")` on the panel file ({n_series:,} series x {PANEL_STEPS} rows, '
            f"ids in random order, row groups of {ROW_GROUP:,} rows) peaked at "
            f"{h.fmt_mib(per_series['rss_peak'])}: one row group plus the per-series statistics"
        )
    tf = results["seqscale transform_file"]
    if ref_rw and "error" not in tf:
        section.facts.append(
            f"`transform_file` takes {tf['median'] / ref_rw:.2f}\u00d7 the time of reading and writing "
            "the same file by row group (no goal set)"
        )

    section.notes += [
        f"File: {rows:,} rows \u00d7 {N_COLS} float64 columns = {data_mib:,.0f} MiB of values "
        f"({file_mib:,.0f} MiB on disk, Snappy, row groups of {ROW_GROUP:,} rows), written to a "
        "temporary directory and deleted afterwards. It is in the OS page cache while the cases "
        "run "
        "(just written, and each case makes a warm-up pass), so this measures decoding and "
        "computing, not the disk.",
        "Each case runs in a fresh interpreter, the cases one after another: one warm-up "
        f"pass, then {ROUNDS * max(1, -(-reps // ROUNDS))} timed pass(es) per run; the table "
        "of several runs shows the median and range over the runs. "
        f"Batches of {BATCH:,} rows. Throughput = value bytes ({data_mib:,.0f} MiB) / time.",
        "Peak RSS: `getrusage(RUSAGE_SELF).ru_maxrss` of that interpreter at the end (whole "
        "process: "
        "interpreter, imported libraries, Arrow buffers); `RSS after imports` is the same measure "
        "before the first pass.",
        "Reference: the faster of the two `read_row_group` loops (pyarrow's threads on or off), "
        "the reader every tool gets here (`partial_fit` rows included; `fit_file` has its own, "
        "which also reads one row group at a time). `transform_file` is compared with reading "
        "every row group and writing it to a new Parquet file with page checksums.",
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
