"""W4 — Dask: fit and transform a chunked ``(rows, 8)`` float64 array on a two-worker LocalCluster.

seqscale's Dask support (``Scaler().fit(dask_array)``, or ``seqscale.engines.dask.fit``) against
dask-ml's ``StandardScaler`` / ``MinMaxScaler``. The array is generated on the workers and
persisted before timing. Accuracy: the fitted mean and std against numpy on the gathered array
(each column made contiguous, so numpy's pairwise summation applies).
"""

from __future__ import annotations

import warnings

import numpy as np

from benchmarks import _harness as h

TITLE = "W4 Dask (two-worker LocalCluster)"
GOALS = [
    "standard fit: faster than dask-ml",
    "standard fit + transform + .sum(): faster than dask-ml",
    "standard: mean/std equal to in-memory numpy to 1e-12",
    "minmax fit: faster than dask-ml",
    "minmax fit + transform + .sum(): faster than dask-ml",
]
COLUMNS = [
    "method",
    "tool",
    "operation",
    "time",
    "\u00d7 reference",
    "seqscale vs this tool",
    "max rel. diff vs numpy (mean, std)",
]
N_COLS = 8


def _seqscale_fit(cls, X):
    """``cls().fit(X)`` when the scaler accepts Dask collections, else the engine function."""
    from seqscale.engines import dask as sd

    if _scaler_dispatches():
        return cls().fit(X), "Scaler().fit(dask_array)"

    return sd.fit(cls(), X), "seqscale.engines.dask.fit"


def _scaler_dispatches() -> bool:
    """Whether the scalers' own ``fit``/``transform`` hand Dask collections to the Dask engine
    (otherwise ``np.asarray`` would quietly gather the whole array into memory)."""
    import inspect

    from seqscale.scalers import base as _base
    from seqscale.scalers import rows as _rows

    return any("is_dask" in inspect.getsource(m) for m in (_base, _rows))


def _seqscale_transform(est, X):
    from seqscale.engines import dask as sd

    if _scaler_dispatches():
        return est.transform(X)

    return sd.transform(est, X)


def run() -> h.Section:
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster, wait

    import seqscale

    section = h.Section("w4", TITLE, COLUMNS)
    rows = h.scaled(20_000_000, 200_000)
    chunk = h.scaled(1_000_000, 10_000)
    reps = h.repeats(3)
    try:
        import dask_ml.preprocessing as dmp
    except Exception as exc:
        dmp = None
        section.notes.append(f"dask-ml skipped: {type(exc).__name__}: {exc}")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        rng = da.random.default_rng(4)
        loc = np.linspace(-100, 1e4, N_COLS)
        sd_ = np.linspace(0.1, 300, N_COLS)
        X = (rng.standard_normal((rows, N_COLS), chunks=(chunk, N_COLS)) * sd_ + loc).persist()
        wait(X)
        h.log(f"W4: {rows:,} x {N_COLS} float64 in {X.numblocks[0]} chunks of {chunk:,} rows, {reps} repeats")
        Xn = X.compute()
        cols = [np.ascontiguousarray(Xn[:, j]) for j in range(N_COLS)]
        ref_mean = np.array([c.mean() for c in cols])
        ref_std = np.array([c.std() for c in cols])
        ref_min, ref_max = Xn.min(axis=0), Xn.max(axis=0)
        del Xn, cols

        t_sum = h.timeit(lambda: X.sum().compute(), reps).median
        t_copy = h.timeit(lambda: X.map_blocks(np.copy).sum().compute(), reps).median
        for label, t in (
            ("X.sum().compute()", t_sum),
            ("X.map_blocks(np.copy).sum().compute()", t_copy),
        ):
            section.add(
                method="—",
                tool="reference",
                operation=f"`{label}`",
                time=h.fmt_time(t),
                **{"\u00d7 reference": "1.00\u00d7"},
                seconds=t,
            )

        times: dict[tuple[str, str, str], float] = {}
        diffs: dict[tuple[str, str], float] = {}
        api = ""

        def rel(a, b):
            return float(np.max(np.abs(np.asarray(a, dtype=float) - b) / np.abs(b)))

        def add(method, tool, op, t, ref_t, ref_name, acc=""):
            times[(method, tool, op)] = t
            faster = ""
            if tool != "seqscale" and (method, "seqscale", op) in times:
                faster = h.fmt_speedup(t / times[(method, "seqscale", op)])
            section.add(
                method=method,
                tool=tool,
                operation=op,
                time=h.fmt_time(t),
                **{
                    "\u00d7 reference": f"{h.fmt_ratio(t / ref_t)} {ref_name}",
                    "seqscale vs this tool": faster,
                    "max rel. diff vs numpy (mean, std)": acc,
                },
                seconds=t,
            )
            h.log(f"W4 {method:8s} {tool:9s} {op:26s} {h.fmt_time(t):>10s}")

        def _measure(method, tool, Ours, Theirs):
            nonlocal api
            if tool == "seqscale":
                fitted, api = _seqscale_fit(Ours, X)

                def fit(Ours=Ours):
                    return _seqscale_fit(Ours, X)[0]

                def lazy(fitted=fitted):
                    return _seqscale_transform(fitted, X)
            else:
                fitted = Theirs().fit(X)

                def fit(Theirs=Theirs):
                    return Theirs().fit(X)

                def lazy(fitted=fitted):
                    return fitted.transform(X)

            if method == "standard":
                dm = rel(fitted.mean_, ref_mean)
                ds = rel(fitted.scale_, ref_std)
                diffs[(method, tool)] = max(dm, ds)
                acc = f"{h.fmt_err(dm)}, {h.fmt_err(ds)}"
            else:
                dm = rel(fitted.data_min_, ref_min)
                ds = rel(fitted.data_max_, ref_max)
                diffs[(method, tool)] = max(dm, ds)
                acc = f"min {h.fmt_err(dm)}, max {h.fmt_err(ds)}"
            add(method, tool, "fit", h.timeit(fit, reps).median, t_sum, "sum", acc)
            add(
                method,
                tool,
                "transform (lazy) + .sum()",
                h.timeit(lambda lazy=lazy: lazy().sum().compute(), reps).median,
                t_copy,
                "copy+sum",
            )
            add(
                method,
                tool,
                "fit + transform + .sum()",
                h.timeit(
                    lambda fit=fit: (
                        (_seqscale_transform(fit(), X) if tool == "seqscale" else fit().transform(X))
                        .sum()
                        .compute()
                    ),
                    reps,
                ).median,
                t_copy,
                "copy+sum",
            )

        failures: dict[tuple[str, str], str] = {}
        for method in ("standard", "minmax"):
            Ours = seqscale.StandardScaler if method == "standard" else seqscale.MinMaxScaler
            tools = [("seqscale", None)]
            if dmp is not None:
                tools.append(("dask-ml", dmp.StandardScaler if method == "standard" else dmp.MinMaxScaler))
            for tool, Theirs in tools:
                try:
                    _measure(method, tool, Ours, Theirs)
                except Exception as exc:
                    msg = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
                    failures[(method, tool)] = msg
                    section.add(
                        method=method,
                        tool=tool,
                        operation="—",
                        time="—",
                        **{"\u00d7 reference": f"failed: {msg}"},
                    )
                    h.log(f"W4 {method} {tool}: failed: {msg}")

        for method in ("standard", "minmax"):
            ours_failed = failures.get((method, "seqscale"))
            for op in ("fit", "fit + transform + .sum()"):
                goal = f"{method} {op}: faster than dask-ml"
                if dmp is None:
                    section.goal(goal, "not measured", None, "dask-ml unavailable")
                elif (method, "seqscale", op) not in times or (method, "dask-ml", op) not in times:
                    section.goal(
                        goal,
                        "not measured",
                        None,
                        "seqscale failed" if ours_failed else "dask-ml failed",
                    )
                else:
                    sp = times[(method, "dask-ml", op)] / times[(method, "seqscale", op)]
                    section.goal(goal, h.fmt_speedup(sp), sp > 1.0, value=sp, unit="faster")
            if method == "standard":  # min and max are exact in any order: a fact, not a goal
                goal = "standard: mean/std equal to in-memory numpy to 1e-12"
                if (method, "seqscale") in diffs:
                    d = diffs[(method, "seqscale")]
                    section.goal(goal, f"max rel. diff {h.fmt_err(d)}", d <= 1e-12, value=d, unit="err")
                else:
                    section.goal(goal, "not measured", None, f"seqscale failed: {ours_failed}")
            elif (method, "seqscale") in diffs:
                section.facts.append(
                    f"minmax: min/max equal numpy's (max rel. diff {h.fmt_err(diffs[(method, 'seqscale')])})"
                )
        # losses: every operation where dask-ml is faster than seqscale, named
        for (method, tool, op), t in times.items():
            ours_t = times.get((method, "seqscale", op))
            if tool == "dask-ml" and ours_t and t < ours_t:
                section.facts.append(
                    f"loss: {method} {op}: seqscale {h.fmt_time(ours_t)}, dask-ml {h.fmt_time(t)} "
                    f"(seqscale {ours_t / t:.1f}\u00d7 slower)"
                )
        section.notes += [
            f"X: `({rows:,}, {N_COLS})` float64 (column means from -100 to 1e4, stds 0.1 to 300), "
            "chunks of "
            f"{chunk:,} rows, generated on the workers and persisted before timing; "
            f"`LocalCluster(n_workers=2, threads_per_worker=1)`. Median of {reps} runs after one "
            "warm-up.",
            f"seqscale entry point used: `{api}`; transform: lazy Dask array, reduced with "
            "`.sum().compute()`.",
            "References: `X.sum().compute()` for fits; `X.map_blocks(np.copy).sum().compute()` for "
            "transforms. Accuracy: against numpy on the gathered array, per contiguous column "
            "(pairwise "
            "summation); dask-ml uses `da.nanmean`/`da.nanvar`.",
            "Memory is not reported here: it is spread over the worker processes.",
        ]
        _ = dask
    finally:
        client.close()
        cluster.close()
    return section
