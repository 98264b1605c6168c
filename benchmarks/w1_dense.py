"""W1 — dense windows: float32 ``(samples, 64, 16)``, per-feature min-max and standardization.

seqscale works on the 3D array directly; scikit-learn gets the free ``X.reshape(-1, 16)`` view;
plain numpy reduces over axes (0, 1). Fit, transform, inverse, fit+transform, and the in-place
transform where the tool has one.
"""

from __future__ import annotations

import warnings

import numpy as np

from benchmarks import _harness as h

TITLE = "W1 dense windows"
GOALS = [
    "transform ≤ 1.5\u00d7 copy",
    "inverse ≤ 1.5\u00d7 copy",
    "fit ≤ 3\u00d7 flat sum",
    "fit+transform ≥ 5\u00d7 faster than scikit-learn",
]
COLUMNS = ["method", "tool", "operation", "time", "\u00d7 reference", "peak memory", "output dtype"]


def _numpy_ops(method: str):
    if method == "minmax":

        def fit(X):
            mn, mx = X.min(axis=(0, 1)), X.max(axis=(0, 1))
            return mn, mx - mn

        def transform(X, p):
            return (X - p[0]) / p[1]

        def inverse(Y, p):
            return Y * p[1] + p[0]

        def inplace(X, p):
            np.subtract(X, p[0], out=X)
            np.divide(X, p[1], out=X)
            return X
    else:

        def fit(X):
            return X.mean(axis=(0, 1)), X.std(axis=(0, 1))

        def transform(X, p):
            return (X - p[0]) / p[1]

        def inverse(Y, p):
            return Y * p[1] + p[0]

        def inplace(X, p):
            np.subtract(X, p[0], out=X)
            np.divide(X, p[1], out=X)
            return X

    return fit, transform, inverse, inplace


def run() -> h.Section:
    import sklearn.preprocessing as skp

    import seqscale

    section = h.Section("w1", TITLE, COLUMNS)
    n = h.scaled(100_000, 100)
    reps = h.repeats(5)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, 64, 16), dtype=np.float32)
    X *= np.linspace(0.5, 20, 16, dtype=np.float32)
    X += np.linspace(-50, 500, 16, dtype=np.float32)
    X2 = X.reshape(-1, 16)  # a view: scikit-learn's 2D input at no cost
    work = np.empty_like(X)  # scratch for the in-place cases
    nbytes = X.nbytes
    h.log(f"W1: X {X.shape} float32, {nbytes / h.MiB:,.0f} MiB, {reps} repeats")

    def refill():
        np.copyto(work, X)

    # references: the faster of one and two threads, so "x copy" is the distance to the machine's
    # limit (seqscale's kernels use both cores too)
    refs = {
        "x.copy()": (lambda: X.copy(), "copy"),
        "x.copy() over two threads": (lambda: h.parallel_copy(X), "copy"),
        "x.sum() (flat)": (lambda: X.sum(), "sum"),
        "x.sum() (flat) over two threads": (lambda: h.parallel_sum(X), "sum"),
    }
    ref_times = {label: h.timeit(fn, reps, warm_seconds=0.5).median for label, (fn, _) in refs.items()}
    t_copy = min(t for label, t in ref_times.items() if refs[label][1] == "copy")
    t_sum = min(t for label, t in ref_times.items() if refs[label][1] == "sum")
    for label, (fn, kind) in refs.items():
        t = ref_times[label]
        m = h.peak_memory(fn)[0] if kind == "copy" else 0.0
        r = t / (t_copy if kind == "copy" else t_sum)
        section.add(
            **{
                "method": "—",
                "tool": "reference",
                "operation": label,
                "time": h.fmt_time(t),
                "\u00d7 reference": f"{h.fmt_ratio(r)} {kind}",
                "peak memory": h.fmt_mib(m),
                "output dtype": "float32",
                "seconds": t,
                "ratio": r,
                "peak_bytes": m,
            }
        )

    results: dict[tuple[str, str, str], float] = {}

    def measure(method, tool, op, fn, ref, setup=None):
        kind = "fit" if op == "fit" else "apply"
        ref_t = t_sum if kind == "fit" else t_copy
        t = h.timeit(fn, reps, setup=setup).median
        mem, dtype = h.peak_memory(fn, setup, inspect=lambda out: getattr(out, "dtype", None))
        results[(method, tool, op)] = t
        dtype_s = "—" if dtype is None else str(dtype)
        if dtype is not None and dtype != np.float32:
            dtype_s += " (not kept)"
        section.add(
            **{
                "method": method,
                "tool": tool,
                "operation": op,
                "time": h.fmt_time(t),
                "\u00d7 reference": f"{h.fmt_ratio(t / ref_t)} {ref}",
                "peak memory": h.fmt_mib(mem),
                "output dtype": dtype_s,
                "seconds": t,
                "ratio": t / ref_t,
                "peak_bytes": mem,
            }
        )
        h.log(f"W1 {method:8s} {tool:13s} {op:22s} {h.fmt_time(t):>10s}  {t / ref_t:6.2f}x {ref}")

    def one_method(method):
        Ours = seqscale.MinMaxScaler if method == "minmax" else seqscale.StandardScaler
        Theirs = skp.MinMaxScaler if method == "minmax" else skp.StandardScaler
        # --- seqscale, on the 3D array
        fitted = Ours().fit(X)
        Y = fitted.transform(X)
        measure(method, "seqscale", "fit", lambda: Ours().fit(X), "sum")
        measure(method, "seqscale", "transform", lambda: fitted.transform(X), "copy")
        measure(method, "seqscale", "inverse", lambda: fitted.inverse_transform(Y), "copy")
        try:
            fitted.transform(work, copy=False)
            measure(
                method,
                "seqscale",
                "transform (in place)",
                lambda: fitted.transform(work, copy=False),
                "copy",
                setup=refill,
            )
        except TypeError:
            section.notes.append("seqscale: no in-place transform (`copy=False`) in this version.")
        measure(method, "seqscale", "fit+transform", lambda: Ours().fit_transform(X), "copy")
        # --- scikit-learn, on the reshaped 2D view
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sk = Theirs().fit(X2)
            Y2 = sk.transform(X2)
            sk_inplace = Theirs(copy=False).fit(X2)
            measure(method, "scikit-learn", "fit", lambda: Theirs().fit(X2), "sum")
            measure(method, "scikit-learn", "transform", lambda: sk.transform(X2), "copy")
            measure(method, "scikit-learn", "inverse", lambda: sk.inverse_transform(Y2), "copy")
            measure(
                method,
                "scikit-learn",
                "transform (in place)",
                lambda: sk_inplace.transform(work.reshape(-1, 16)),
                "copy",
                setup=refill,
            )
            measure(method, "scikit-learn", "fit+transform", lambda: Theirs().fit_transform(X2), "copy")
        # --- plain numpy
        fit, transform, inverse, inplace = _numpy_ops(method)
        p = fit(X)
        Yn = transform(X, p)
        measure(method, "numpy", "fit", lambda: fit(X), "sum")
        measure(method, "numpy", "transform", lambda: transform(X, p), "copy")
        measure(method, "numpy", "inverse", lambda: inverse(Yn, p), "copy")
        measure(method, "numpy", "transform (in place)", lambda: inplace(work, p), "copy", setup=refill)
        measure(method, "numpy", "fit+transform", lambda: transform(X, fit(X)), "copy")

    for method in ("minmax", "standard"):
        one_method(method)

    # ---------------------------------------------------------------- goals
    for method in ("minmax", "standard"):
        tcopy, tsum = t_copy, t_sum
        r_tr = results[(method, "seqscale", "transform")] / tcopy
        r_inv = results[(method, "seqscale", "inverse")] / tcopy
        r_fit = results[(method, "seqscale", "fit")] / tsum
        speed = (
            results[(method, "scikit-learn", "fit+transform")]
            / results[(method, "seqscale", "fit+transform")]
        )
        section.goal(
            f"{method}: transform ≤ 1.5\u00d7 copy", f"{r_tr:.2f}\u00d7", r_tr <= 1.5, value=r_tr, unit="x"
        )
        section.goal(
            f"{method}: inverse ≤ 1.5\u00d7 copy", f"{r_inv:.2f}\u00d7", r_inv <= 1.5, value=r_inv, unit="x"
        )
        section.goal(
            f"{method}: fit ≤ 3\u00d7 flat sum", f"{r_fit:.2f}\u00d7", r_fit <= 3.0, value=r_fit, unit="x"
        )
        section.goal(
            f"{method}: fit+transform ≥ 5\u00d7 faster than scikit-learn",
            f"{speed:.1f}\u00d7 faster",
            speed >= 5.0,
            value=speed,
            unit="faster",
        )

    section.notes += [
        f"X: float32 `({n:,}, 64, 16)` = {nbytes / h.MiB:,.0f} MiB, no NaN. Median of {reps} runs "
        "after "
        f"one warm-up. References (the faster of one and two threads): copy {h.fmt_time(t_copy)}, "
        f"flat sum {h.fmt_time(t_sum)}; the two-thread versions split the flat array in halves, "
        "each copied (into a fresh array) or summed by numpy in its own thread.",
        "seqscale takes the 3D array; scikit-learn the `X.reshape(-1, 16)` view; numpy reduces "
        "over "
        "axes (0, 1) and applies `(X - a) / b` (standardization: `X.mean`, `X.std` in float32).",
        "`\u00d7 reference`: a fit is divided by the flat sum, everything else by the copy. "
        "In-place rows "
        "scale a scratch copy of X (refilled, untimed, before each run).",
        h.memory_note(),
    ]
    return section
