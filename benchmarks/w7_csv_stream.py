"""W7 — streaming a CSV file: peak memory of ``fit_file`` and ``transform_file`` at two sizes.

CSV files of 8 float64 columns (written with the shortest round-trip digits, ~150 bytes a row)
of about 1 GB and 4 GB (``SEQSCALE_BENCH_SCALE`` scales them) are written into a temporary
directory and deleted at the end. Each case runs once in a fresh interpreter, which reports its
own peak resident set (``getrusage`` ``ru_maxrss``) and the resident set after its imports:

- ``seqscale fit_file``: ``fit_file(path, "standard")`` (default batch of 1M rows);
- ``seqscale transform_file``: the fitted scaler applied to the same file, written as CSV beside
  it.

Goal: peak RSS under 0.7 GB at both sizes (memory bounded by the batch, not the file).
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

TITLE = "W7 streaming (CSV file)"
GOALS = ["peak RSS < 0.7 GB for a 1 GB and a 4 GB CSV"]
COLUMNS = ["case", "file size", "rows", "time", "throughput", "peak RSS", "RSS after imports"]
N_COLS = 8
SIZES_GB = (1.0, 4.0)
LIMIT = 0.7e9
CASES = ["seqscale fit_file", "seqscale transform_file"]


def write_csv(path: Path, target_bytes: float, seed: int = 5) -> int:
    """Write blocks of random rows until the file holds about ``target_bytes``; return the rows."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    names = [f"x{j}" for j in range(N_COLS)]
    rows = 0
    with path.open("wb") as handle:
        options = pacsv.WriteOptions(include_header=True)
        while handle.tell() < target_bytes:
            block = 200_000
            table = pa.table({n: rng.standard_normal(block) * 10 ** (j % 4) for j, n in enumerate(names)})
            pacsv.write_csv(table, handle, options)
            options = pacsv.WriteOptions(include_header=False)
            rows += block
    return rows


def _case(case: str, path: str) -> dict:
    import seqscale

    rss_imports = h.max_rss_bytes()
    t0 = time.perf_counter()
    scaler = seqscale.fit_file(path, "standard")
    if case == "seqscale transform_file":
        t0 = time.perf_counter()
        out = Path(path).with_name("scaled.csv")
        seqscale.transform_file(scaler, path, out)
        out.unlink()
    return {"seconds": time.perf_counter() - t0, "rss_peak": h.max_rss_bytes(), "rss_imports": rss_imports}


def _subprocess_case(case: str, path: Path) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.w7_csv_stream", "--case", case, "--path", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        return {"error": lines[-1] if lines else f"exit code {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run() -> h.Section:
    section = h.Section("w7", TITLE, COLUMNS)
    worst = 0.0
    for size in SIZES_GB:
        target = size * 1e9 * h.scale()
        tmp = Path(tempfile.mkdtemp(prefix="seqscale-bench-w7-"))
        try:
            path = tmp / "data.csv"
            rows = write_csv(path, target)
            nbytes = path.stat().st_size
            h.log(f"W7: wrote {nbytes / 1e9:.2f} GB ({rows:,} rows)")
            for case in CASES:
                r = _subprocess_case(case, path)
                if "error" in r:
                    section.add(case=case, **{"file size": f"{nbytes / 1e9:.2f} GB", "time": r["error"]})
                    worst = float("inf")
                    continue
                worst = max(worst, r["rss_peak"])
                h.log(f"W7 {case} {nbytes / 1e9:.2f} GB: peak RSS {r['rss_peak'] / 1e9:.2f} GB")
                section.add(**{
                    "case": case, "file size": f"{nbytes / 1e9:.2f} GB", "rows": f"{rows:,}",
                    "time": h.fmt_time(r["seconds"]),
                    "throughput": f"{nbytes / h.MiB / r['seconds']:,.0f} MiB/s",
                    "peak RSS": h.fmt_mib(r["rss_peak"]), "RSS after imports": h.fmt_mib(r["rss_imports"]),
                })  # fmt: skip
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    section.goal(GOALS[0], f"worst peak RSS {worst / 1e9:.2f} GB", worst < LIMIT)
    return section


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", choices=CASES, required=True)
    parser.add_argument("--path", required=True)
    args = parser.parse_args()
    print(json.dumps(_case(args.case, args.path)))


if __name__ == "__main__":
    main()
