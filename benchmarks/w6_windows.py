"""W6 — windowing: ``seqscale.to_supervised`` on a long float32 series with a 64-step window.

The inputs of every sample overlap; a strided view costs nothing, a copy costs 64 times the data.
"""

from __future__ import annotations

import numpy as np

from benchmarks import _harness as h

TITLE = "W6 windowing (to_supervised)"
GOALS: list[str] = []  # whether X and y are views is a fact, not a goal
COLUMNS = [
    "tool",
    "call",
    "time",
    "X shape",
    "X shares memory with the data",
    "y shares memory",
    "peak memory",
]
N_IN = 64
FEATURES = 16


def run() -> h.Section:
    import seqscale

    section = h.Section("w6", TITLE, COLUMNS)
    steps = h.scaled(10_000_000, 10_000)
    reps = h.repeats(5)
    data = np.random.default_rng(6).standard_normal((steps, FEATURES), dtype=np.float32)
    call = f"to_supervised(data, n_in={N_IN})"
    fn = lambda: seqscale.to_supervised(data, n_in=N_IN)  # noqa: E731
    t = h.timeit(fn, reps).median
    mem, (X, y) = h.peak_memory(fn, inspect=lambda out: out)
    share_x, share_y = bool(np.shares_memory(X, data)), bool(np.shares_memory(y, data))
    copy_bytes = X.size * X.itemsize
    section.add(
        **{
            "tool": "seqscale",
            "call": f"`{call}`",
            "time": h.fmt_time(t),
            "X shape": str(X.shape),
            "X shares memory with the data": "yes" if share_x else "no (copy)",
            "y shares memory": "yes" if share_y else "no (copy)",
            "peak memory": h.fmt_mib(mem),
            "seconds": t,
            "peak_bytes": mem,
            "shares_x": share_x,
            "shares_y": share_y,
        }
    )
    h.log(f"W6 {call}: {t * 1e6:.1f} µs, views: X {share_x}, y {share_y}")
    views = {True: "a view of the data", False: "a COPY"}
    section.facts.append(
        f"to_supervised: X is {views[share_x]}, y is {views[share_y]} ({h.fmt_time(t)} per call)"
    )
    section.notes += [
        f"data: float32 `({steps:,}, {FEATURES})` = {data.nbytes / h.MiB:,.0f} MiB; median of "
        f"{reps} calls "
        f"after one warm-up. A copied X would take {copy_bytes / h.MiB:,.0f} MiB.",
        h.memory_note(),
    ]
    return section
