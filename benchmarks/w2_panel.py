"""W2 — panel: many series of different lengths in long format, each with its own coefficients.

seqscale (``fit(values, groups=ids)`` + ``transform(values, groups=ids)``), pandas' built-in
groupby transforms, darts' ``Scaler`` over a list of ``TimeSeries`` and tslearn's scalers over a
NaN-padded 3D array. darts and tslearn are timed on a subset of the series and extrapolated
linearly (their cost is per series).
"""

from __future__ import annotations

import statistics
import warnings

import numpy as np

from benchmarks import _harness as h

TITLE = "W2 panel (per-series scaling)"
GOALS = [
    "int ids, sorted rows: fit_transform ≤ 3\u00d7 copy",
    "int ids: ≥ 15\u00d7 faster than pandas",
    "int ids: ≥ 400\u00d7 faster than darts",
    "int ids, rows in random order: fit_transform ≤ 5\u00d7 copy",
]
COLUMNS = [
    "method",
    "tool",
    "operation",
    "time",
    "\u00d7 values.copy()",
    "seqscale vs this tool",
    "peak memory",
    "note",
]
DARTS_SUBSET = 500
TSLEARN_SUBSET = 250
MAX_LEN = 1000
WARMUP = 3
WARM_SECONDS = 0.5
ROUNDS = 3


def run() -> h.Section:
    import pandas as pd

    import seqscale

    section = h.Section("w2", TITLE, COLUMNS)
    n_series = h.scaled(20_000, 50)
    reps = h.repeats(15)
    rng = np.random.default_rng(2)
    lengths = rng.integers(50, MAX_LEN + 1, n_series)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    codes = np.repeat(np.arange(n_series, dtype=np.int64), lengths)
    R = int(codes.size)
    level = rng.normal(100, 50, n_series)
    spread = rng.uniform(0.5, 20, n_series)
    values = rng.standard_normal(R) * spread[codes] + level[codes]
    names = np.array([f"series-{i:05d}" for i in range(n_series)], dtype=object)
    str_ids = names[codes]
    order = rng.permutation(R)
    shuffled, shuffled_ids = values[order], codes[order]
    df = pd.DataFrame({"id": codes, "v": values})
    dfs = pd.DataFrame({"id": str_ids, "v": values})
    h.log(f"W2: {n_series:,} series, {R:,} rows, {reps} repeats")

    # Every case (the reference included) is timed in ROUNDS rounds that go through all cases in
    # turn, and its median taken over all its runs: on this kind of machine fresh 80 MiB outputs
    # come in bursts of slow allocations, and the memory state left by one case (string ids,
    # pandas' hash tables) slows the next; rounds spread both over every tool alike.
    cases: list[dict] = []

    def case(method, tool, op, fn, ours_key=None, keep=None):
        cases.append(
            {
                "method": method,
                "tool": tool,
                "op": op,
                "fn": fn,
                "ours_key": ours_key,
                "keep": keep,
                "runs": [],
            }
        )

    case("—", "reference", "values.copy()", lambda: values.copy())
    case("—", "reference", "values.copy() over two threads", lambda: h.parallel_copy(values))
    for method in ("standard", "minmax"):
        Ours = seqscale.StandardScaler if method == "standard" else seqscale.MinMaxScaler
        fitted = Ours().fit(values, groups=codes)

        def both(ids=codes, Ours=Ours):
            return Ours().fit(values, groups=ids).transform(values, groups=ids)

        def one_call(ids=codes, Ours=Ours):
            return Ours().fit_transform(values, groups=ids)

        # the same rows given as sorted segments (ids + ragged lengths): no id read per row;
        # fit_transform does both in one sweep (each series read once, written from cache)
        segments = seqscale.Segments(np.arange(n_series), lengths)
        tool = "seqscale (int ids)"
        case(method, tool, "fit", lambda Ours=Ours: Ours().fit(values, groups=codes))
        case(method, tool, "transform", lambda fitted=fitted: fitted.transform(values, groups=codes))
        case(method, tool, "fit+transform", both)
        case(method, tool, "fit_transform", one_call, keep=("ours", method, "int"))
        tool = "seqscale (string ids)"
        case(method, tool, "fit+transform", lambda both=both: both(str_ids))
        case(method, tool, "fit_transform", lambda f=one_call: f(str_ids), keep=("ours", method, "str"))
        tool = "seqscale (segments)"
        case(method, tool, "fit+transform", lambda seg=segments, both=both: both(seg))
        case(method, tool, "fit_transform", lambda seg=segments, f=one_call: f(seg))
        # rows in random order: no runs to find
        tool = "seqscale (int ids, rows shuffled)"
        case(
            method,
            tool,
            "fit+transform",
            lambda Ours=Ours, x=shuffled, g=shuffled_ids: Ours().fit(x, groups=g).transform(x, groups=g),
        )
        case(
            method,
            tool,
            "fit_transform",
            lambda Ours=Ours, x=shuffled, g=shuffled_ids: Ours().fit_transform(x, groups=g),
            keep=("ours", method, "shuffled"),
        )

    def pandas_standard(frame):
        g = frame.groupby("id", sort=False)["v"]
        return (frame["v"] - g.transform("mean")) / g.transform("std", ddof=0)

    def pandas_minmax(frame):
        g = frame.groupby("id", sort=False)["v"]
        lo = g.transform("min")
        return (frame["v"] - lo) / (g.transform("max") - lo)

    for method, fn in (("standard", pandas_standard), ("minmax", pandas_minmax)):
        tool = "pandas groupby (int ids)"
        case(
            method, tool, "fit+transform", lambda fn=fn: fn(df), (method, "int"), ("theirs", method, "pandas")
        )
        tool = "pandas groupby (string ids)"
        case(method, tool, "fit+transform", lambda fn=fn: fn(dfs), (method, "str"))

    per_round = max(1, -(-reps // ROUNDS))
    for r in range(ROUNDS):
        for c in cases:
            warm = {"warmup": WARMUP, "warm_seconds": WARM_SECONDS} if r == 0 else {"warmup": 1}
            c["runs"] += h.timeit(c["fn"], per_round, **warm).runs
        h.log(f"W2: round {r + 1} of {ROUNDS} done")
    # the reference: the faster of the one- and two-thread copy
    t_copy = min(statistics.median(cases[0]["runs"]), statistics.median(cases[1]["runs"]))
    ours: dict[tuple[str, str], float] = {}
    theirs: dict[tuple[str, str], float] = {}

    def row(method, tool, op, t, mem, note="", ours_key=None, extrapolated=False):
        faster = ""
        if ours_key is not None and ours_key in ours:
            faster = h.fmt_speedup(t / ours[ours_key])
        section.add(
            **{
                "method": method,
                "tool": tool,
                "operation": op,
                "time": h.fmt_time(t) + (" (extrapolated)" if extrapolated else ""),
                "\u00d7 values.copy()": h.fmt_ratio(t / t_copy),
                "seqscale vs this tool": faster,
                "peak memory": h.fmt_mib(mem),
                "note": note,
                "seconds": t,
                "ratio": t / t_copy,
                "peak_bytes": mem,
                "extrapolated": extrapolated,
            }
        )
        h.log(f"W2 {method:8s} {tool:28s} {op:16s} {h.fmt_time(t):>10s} {t / t_copy:8.2f}x copy {note}")

    for c in cases:
        t = statistics.median(c["runs"])
        if c["keep"] is not None:
            side, method, kind = c["keep"]
            (ours if side == "ours" else theirs)[(method, kind)] = t
        mem, _ = h.peak_memory(c["fn"])
        row(c["method"], c["tool"], c["op"], t, mem, ours_key=c["ours_key"])

    # check that the pandas and seqscale results agree (same population std)
    diff = np.nanmax(
        np.abs(
            pandas_standard(df).to_numpy()
            - seqscale.StandardScaler().fit(values, groups=codes).transform(values, groups=codes)
        )
    )
    section.notes.append(f"seqscale and pandas standardized values agree to {diff:.1e} (max abs difference).")

    # ------------------------------------------------------------------ darts
    sub = min(DARTS_SUBSET, n_series)
    factor = n_series / sub
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import logging

            logging.getLogger("darts").setLevel(logging.ERROR)
            from darts import TimeSeries
            from darts.dataprocessing.transformers import Scaler
            from sklearn.preprocessing import MinMaxScaler as SkMinMax
            from sklearn.preprocessing import StandardScaler as SkStandard

            series = [TimeSeries.from_values(values[starts[i] : starts[i + 1]]) for i in range(sub)]
            for method, inner in (("standard", SkStandard), ("minmax", SkMinMax)):
                fn = lambda inner=inner: Scaler(inner()).fit_transform(series)  # noqa: E731
                t = h.timeit(fn, min(reps, 3)).median
                mem, _ = h.peak_memory(fn)
                theirs[(method, "darts")] = t * factor
                row(
                    method,
                    "darts Scaler (list of TimeSeries)",
                    "fit+transform",
                    t * factor,
                    mem,
                    f"{sub} series timed ({h.fmt_time(t)}), \u00d7{factor:.0f}; memory of the subset",
                    ours_key=(method, "int"),
                    extrapolated=True,
                )
        section.notes.append(
            "darts: `Scaler(StandardScaler())` / `Scaler(MinMaxScaler())` (one scikit-learn "
            "scaler per "
            f"series) `.fit_transform(list_of_TimeSeries)` on the first {sub} series, extrapolated "
            f"linearly to {n_series:,} series; building the `TimeSeries` objects is not timed."
        )
    except Exception as exc:
        section.notes.append(f"darts skipped: {type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ tslearn
    sub_t = min(TSLEARN_SUBSET, n_series)
    factor_t = n_series / sub_t
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from tslearn.preprocessing import TimeSeriesScalerMeanVariance, TimeSeriesScalerMinMax

            padded = np.full((sub_t, MAX_LEN, 1), np.nan)
            mask = np.arange(MAX_LEN) < lengths[:sub_t, None]
            padded[..., 0][mask] = values[: starts[sub_t]]
            n_unpadded = max(1, min(sub_t, R // MAX_LEN))  # as many full-length series as the rows give
            unpadded = np.resize(values, n_unpadded * MAX_LEN).reshape(n_unpadded, MAX_LEN, 1)
            factor_v = R / unpadded.size
            for method, cls in (
                ("standard", TimeSeriesScalerMeanVariance),
                ("minmax", TimeSeriesScalerMinMax),
            ):
                fn = lambda cls=cls: cls().fit_transform(padded)  # noqa: E731
                t = h.timeit(fn, min(reps, 3)).median
                mem, _ = h.peak_memory(fn)
                theirs[(method, "tslearn")] = t * factor_t
                row(
                    method,
                    "tslearn (NaN-padded 3D)",
                    "fit+transform",
                    t * factor_t,
                    mem,
                    f"{sub_t} series timed ({h.fmt_time(t)}), \u00d7{factor_t:.0f}; memory of the subset",
                    ours_key=(method, "int"),
                    extrapolated=True,
                )
                # the same shape without padding: what tslearn costs when it has no NaN to trim
                fn = lambda cls=cls: cls().fit_transform(unpadded)  # noqa: E731
                t = h.timeit(fn, min(reps, 3)).median
                mem, _ = h.peak_memory(fn)
                row(
                    method,
                    "tslearn (equal-length 3D, no NaN)",
                    "fit+transform",
                    t * factor_v,
                    mem,
                    f"`{unpadded.shape}` timed ({h.fmt_time(t)}), \u00d7{factor_v:.0f} per value",
                    ours_key=(method, "int"),
                    extrapolated=True,
                )
        section.notes.append(
            "tslearn: `TimeSeriesScalerMeanVariance` / `TimeSeriesScalerMinMax().fit_transform` "
            "on a "
            f"NaN-padded `({sub_t}, {MAX_LEN}, 1)` array (the first {sub_t} series), extrapolated "
            f"linearly to {n_series:,} series; the padded layout alone holds "
            f"{n_series * MAX_LEN / R:.1f}\u00d7 the values of the long format. Almost all of "
            "tslearn's time on the padded array is its NaN-trimming loop (`tslearn.utils` "
            "`_ts_size` walks back from the end of each series one time step at a time in Python, "
            "calling `np.all` per step, to find its length; over 99% of the time in a profile of "
            "50 padded series); the same scalers on a NaN-free "
            f"`{unpadded.shape}` array of the panel's values (row `tslearn (equal-length 3D, no NaN)`, "
            "extrapolated per value to the panel's rows) show its cost without that loop."
        )
    except Exception as exc:
        section.notes.append(f"tslearn skipped: {type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------ goals
    # Every goal against another tool compares the same input: one integer id per row (darts,
    # which takes a list of series, is the one exception on its side). Segments(ids, lengths)
    # is a faster input form that pandas and darts are not given: it has rows, never a goal.
    for method in ("standard", "minmax"):
        ours_int = ours[(method, "int")]
        r = ours_int / t_copy
        section.goal(
            f"{method}: fit_transform with int ids, rows sorted by series, ≤ 3\u00d7 copy",
            f"{r:.2f}\u00d7",
            r <= 3.0,
            value=r,
            unit="x",
        )
        sp = theirs[(method, "pandas")] / ours_int
        section.goal(
            f"{method}: int ids, ≥ 15\u00d7 faster than pandas groupby().transform (int ids)",
            h.fmt_speedup(sp),
            sp >= 15,
            value=sp,
            unit="faster",
        )
        goal = f"{method}: int ids, ≥ 400\u00d7 faster than darts"
        if (method, "darts") in theirs:
            sd = theirs[(method, "darts")] / ours_int
            section.goal(goal, h.fmt_speedup(sd), sd >= 400, "darts extrapolated", value=sd, unit="faster")
        else:
            section.goal(goal, "not measured", None, "darts unavailable")
        rs = ours[(method, "shuffled")] / t_copy
        section.goal(
            f"{method}: fit_transform with int ids, rows in random order, ≤ 5\u00d7 copy",
            f"{rs:.2f}\u00d7",
            rs <= 5.0,
            value=rs,
            unit="x",
        )
        rstr = ours[(method, "str")] / t_copy
        section.facts.append(
            f"{method}: fit_transform with string ids (rows sorted) takes {rstr:.1f}\u00d7 copy "
            "(5\u00d7 would be the stretch goal; not met)"
            if rstr > 5
            else f"{method}: fit_transform with string ids (rows sorted) takes {rstr:.1f}\u00d7 copy"
        )

    section.notes += [
        f"{n_series:,} series of 50\u2013{MAX_LEN} steps (seeded), {R:,} rows, one float64 "
        "column, rows "
        f"sorted by series. Median of {ROUNDS * per_round} runs per case, taken in "
        f"{ROUNDS} rounds through all cases, after warm-up runs for {WARM_SECONDS:g} s (darts, "
        f"tslearn: {min(reps, 3)} runs after one). "
        f"Reference: the faster of `values.copy()` and the same copy over two threads, "
        f"{h.fmt_time(t_copy)}; `\u00d7 values.copy()` divides by it.",
        "seqscale: `Scaler().fit(values, groups=ids)` then `.transform(values, groups=ids)` "
        "(fit+transform), or `Scaler().fit_transform(values, groups=ids)` (one sweep when the "
        "rows are sorted by series: the ids' runs are found, then each series is read once); "
        "pandas: `g.transform('mean')`, `g.transform('std', ddof=0)` (min-max: `'min'`, `'max'`) "
        "and "
        "arithmetic on the columns; `seqscale vs this tool` compares with seqscale "
        "`fit_transform` with the same kind of ids (int codes or strings); the goals use the int-id "
        "`fit_transform` (the per-row ids pandas gets), never the `Segments` rows.",
        h.memory_note(),
    ]
    return section
