"""W8 — per-series standardization on Dask: 1M series x 100 steps on two worker processes.

A Dask DataFrame of ``id`` (int64) and ``value`` (float64), 100 rows per series, generated on the
workers (``dask.dataframe.from_map``) and persisted before timing; every partition holds whole
series in shuffled row order. Both tools get that frame:

- seqscale: ``StandardScaler().fit(ddf, groups="id")`` (per-partition statistics merged by id in
  a ``DataFrame.reduction``), then ``transform(ddf, groups="id")`` (``map_partitions`` with the
  fitted coefficients shared by every partition);
- dask: ``ddf.groupby("id")["value"].transform(lambda s: (s - s.mean()) / s.std(ddof=0))``;
- dask, aggregate and merge: ``groupby().agg(["mean", "std"])`` merged back on the id, the
  fastest way to say it in dask (its own row, not the basis of the goal).

Each case ends in ``["value"].sum().compute()``. dask's ``groupby().transform`` runs a Python
function per series (about a minute per 20,000-series partition on two cores), so it is timed on
the first partition and scaled by rows, marked extrapolated, as is the aggregate-and-merge route;
seqscale runs on the whole frame. Agreement: every scaled row of the first 1,000 series, from each
tool, gathered and compared.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from benchmarks import _harness as h

TITLE = "W8 per-series Dask (two worker processes)"
GOALS = [
    "per-series fit + transform: faster than dask's groupby().transform",
    "per-series result equal to dask's to 1e-12",
]
COLUMNS = ["tool", "operation", "time", "seqscale vs this tool", "max abs. diff vs seqscale"]
STEPS = 100
PER_PARTITION = 20_000  # series per partition


def _partition(i: int, n_series: int) -> pd.DataFrame:
    """Series ``[i * PER_PARTITION, ...)``: 100 steps each, a level and a spread per series."""
    rng = np.random.default_rng(1_000 + i)
    first = i * PER_PARTITION
    k = min(PER_PARTITION, n_series - first)
    ids = np.repeat(np.arange(first, first + k, dtype=np.int64), STEPS)
    level = rng.normal(100.0, 30.0, k)
    spread = rng.gamma(2.0, 2.0, k)
    values = level.repeat(STEPS) + spread.repeat(STEPS) * rng.standard_normal(k * STEPS)
    order = rng.permutation(k * STEPS)  # rows in any order within the partition
    index = pd.RangeIndex(first * STEPS, (first + k) * STEPS)
    return pd.DataFrame({"id": ids[order], "value": values[order]}, index=index)


def run() -> h.Section:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster, wait

    import seqscale

    section = h.Section("w8", TITLE, COLUMNS)
    n_series = h.scaled(1_000_000, 2_000)
    reps = h.repeats(1)
    parts = -(-n_series // PER_PARTITION)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        ddf = dd.from_map(_partition, range(parts), n_series=n_series).persist()
        # dask's own routes run on the first partition's series and are scaled by rows (see the note)
        sub = dd.from_map(_partition, range(1), n_series=n_series).persist()
        tiny = dd.from_map(_partition, range(1), n_series=min(n_series, 1_000)).persist()
        wait([ddf, sub, tiny])
        sub_rows, all_rows = min(PER_PARTITION, n_series) * STEPS, n_series * STEPS
        h.log(f"W8: {n_series:,} series x {STEPS} steps in {parts} partitions, {reps} repeats")

        def ours(frame):
            est = seqscale.StandardScaler().fit(frame, groups="id")
            return est.transform(frame, groups="id")

        def theirs(frame):
            g = frame.groupby("id")["value"]
            scaled = g.transform(lambda s: (s - s.mean()) / s.std(ddof=0), meta=("value", "f8"))
            return scaled.to_frame()

        def merged(frame):
            stats = frame.groupby("id")["value"].agg(["mean", "std"])
            both = frame.merge(stats, left_on="id", right_index=True, how="left")
            n = frame.groupby("id")["value"].count()
            both = both.merge(n.rename("n").to_frame(), left_on="id", right_index=True, how="left")
            ddof0 = both["std"] * np.sqrt((both["n"] - 1) / both["n"])  # dask's std has ddof=1
            return ((both["value"] - both["mean"]) / ddof0).to_frame("value")

        # (tool, operation, function, frame it is timed on)
        cases = [
            ("seqscale", "fit(groups) + transform(groups) + sum", ours, ddf),
            ("dask", "groupby().transform + sum", theirs, sub),
            ("dask", "groupby().agg + merge + sum", merged, sub),
        ]
        times, extrapolated = {}, set()
        for tool, op, fn, frame in cases:
            scale_up = all_rows / sub_rows if frame is sub else 1.0
            try:
                # the warm-up runs on a small frame: it starts the workers' imports and kernels
                fn(tiny)["value"].sum().compute()
                t = h.timeit(lambda fn=fn, frame=frame: fn(frame)["value"].sum().compute(), reps, warmup=0)
            except Exception as exc:  # a tool that fails at this size still gets its row
                section.add(
                    tool=tool, operation=op, time="—", **{"seqscale vs this tool": f"failed: {exc}"[:120]}
                )
                continue
            times[op] = t.median * scale_up
            if frame is sub and scale_up != 1.0:
                extrapolated.add(op)
            h.log(f"W8 {tool:9s} {op:40s} {h.fmt_time(times[op]):>10s}")

        # agreement on the first 1,000 series, gathered from every tool
        sample = {op: fn(tiny)["value"].compute().sort_index() for _, op, fn, _ in cases if op in times}
        ref = sample.get(cases[0][1])
        for tool, op, _, _ in cases:
            if op not in times:
                continue
            diff = None if ref is None else float(np.max(np.abs(sample[op].to_numpy() - ref.to_numpy())))
            ours_t = times.get(cases[0][1])
            section.add(
                tool=tool,
                operation=op,
                time=h.fmt_time(times[op]) + (" (extrapolated)" if op in extrapolated else ""),
                **{
                    "seqscale vs this tool": ""
                    if tool == "seqscale" or not ours_t
                    else h.fmt_speedup(times[op] / ours_t),
                    "max abs. diff vs seqscale": ""
                    if diff is None or tool == "seqscale"
                    else h.fmt_err(diff),
                },
                seconds=times[op],
            )
        t_ours, t_theirs = times.get(cases[0][1]), times.get(cases[1][1])
        if t_ours and t_theirs:
            note = "dask extrapolated" if cases[1][1] in extrapolated else ""
            section.goal(
                GOALS[0],
                h.fmt_speedup(t_theirs / t_ours),
                t_theirs > t_ours,
                note,
                value=t_theirs / t_ours,
                unit="faster",
            )
        else:
            section.goal(GOALS[0], "not measured", None, "a case failed")
        if ref is not None and cases[1][1] in sample:
            d = float(np.max(np.abs(sample[cases[1][1]].to_numpy() - ref.to_numpy())))
            section.goal(GOALS[1], f"{d:.1e}", d <= 1e-12, value=d, unit="err")
        else:
            section.goal(GOALS[1], "not measured", None, "a case failed")
        section.notes.append(
            f"{n_series:,} series x {STEPS} steps = {all_rows:,} float64 values with int64 ids, "
            f"{parts} partitions of {PER_PARTITION:,} whole series (rows shuffled inside each), "
            "persisted on a LocalCluster of 2 worker processes x 1 thread. Median of "
            f"{reps} timed run(s) after a warm-up on 1,000 series. dask's groupby().transform "
            "calls a Python function per series, and its agg + merge shuffles the frame twice: "
            f"both are timed on the first partition's {sub_rows // STEPS:,} series and scaled by "
            f"rows ({all_rows / sub_rows:g}x), marked extrapolated (their shuffles grow faster than "
            "that, so the extrapolation is in dask's favour). Agreement: every scaled row of the "
            "first 1,000 series, gathered from each tool."
        )
    finally:
        client.close()
        cluster.close()
    return section
