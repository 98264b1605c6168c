"""W5 — numerics: the standard deviation of data far from zero, against an exact reference.

``1e9 + N(0, 1)`` in float64 and ``1e4 + N(0, 1)`` in float32. The reference is exact: every
float is an integer multiple of a common power of two, so with Python integers
``n * sum(k**2) - sum(k)**2`` is exact, and the standard deviation is rounded once at the end.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np

from benchmarks import _harness as h

TITLE = "W5 numerics (std far from zero)"
GOALS = ["relative error ≤ 1e-13"]
COLUMNS = ["data", "tool", "std", "relative error"]
CHUNKS = 100


def exact_std(x: np.ndarray) -> float:
    """Population standard deviation of the exact values of ``x``, correctly rounded (nearly)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    mant, exp = np.frexp(x)  # x = mant * 2**exp, 0.5 <= |mant| < 1
    k = (mant * 2.0**53).astype(np.int64)  # exact 53-bit integers
    e = exp.astype(np.int64) - 53
    e0 = int(e.min())
    ints = [int(a) << int(b - e0) for a, b in zip(k.tolist(), e.tolist())]
    n = len(ints)
    s1 = sum(ints)
    s2 = sum(i * i for i in ints)
    var = Fraction(n * s2 - s1 * s1, n * n) * Fraction(2) ** (2 * e0)
    # sqrt of a Fraction to ~1e-30 relative: integer square root on a scaled numerator
    num, den = var.numerator, var.denominator
    shift = 200
    root = math.isqrt((num << (2 * shift)) // den)
    return float(Fraction(root, 1 << shift))


def run() -> h.Section:
    from sklearn.preprocessing import StandardScaler as SkStandard

    import seqscale

    section = h.Section("w5", TITLE, COLUMNS)
    n = h.scaled(1_000_000, 100_000)
    rng = np.random.default_rng(5)
    datasets = {
        "float64 1e9 + N(0,1)": (1e9 + rng.standard_normal(n)).astype(np.float64),
        "float32 1e4 + N(0,1)": (1e4 + rng.standard_normal(n)).astype(np.float32),
    }
    try:
        import dask
        import dask.array as da
        import dask_ml.preprocessing as dmp
    except Exception as exc:
        dmp = None
        section.notes.append(f"dask-ml skipped: {type(exc).__name__}: {exc}")

    for label, x in datasets.items():
        ref = exact_std(x)
        col = x.reshape(-1, 1)
        chunks = np.array_split(col, CHUNKS)
        cases = {}
        cases["seqscale fit"] = lambda col=col: seqscale.StandardScaler().fit(col).scale_[0]

        def ours_partial(chunks=chunks):
            s = seqscale.StandardScaler()
            for c in chunks:
                s.partial_fit(c)
            return s.scale_[0]

        cases[f"seqscale partial_fit \u00d7{CHUNKS}"] = ours_partial
        cases["scikit-learn fit"] = lambda col=col: SkStandard().fit(col).scale_[0]

        def theirs_partial(chunks=chunks):
            s = SkStandard()
            for c in chunks:
                s.partial_fit(c)
            return s.scale_[0]

        cases[f"scikit-learn partial_fit \u00d7{CHUNKS}"] = theirs_partial
        if dmp is not None:

            def dask_ml(col=col):
                with dask.config.set(scheduler="synchronous"):
                    return (
                        dmp.StandardScaler().fit(da.from_array(col, chunks=(len(col) // CHUNKS, 1))).scale_[0]
                    )

            cases[f"dask-ml fit ({CHUNKS} chunks)"] = dask_ml
        cases[f"numpy x.std() ({x.dtype})"] = lambda x=x: x.std()
        if x.dtype != np.float64:
            cases["numpy x.std(dtype=float64)"] = lambda x=x: x.std(dtype=np.float64)
        cases["naive sqrt(E[x²] \u2212 E[x]²), float64"] = lambda x=x: _naive(x)

        errors = {}
        for tool, fn in cases.items():
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                try:
                    value = float(fn())
                except Exception as exc:
                    section.add(data=label, tool=tool, std="—", **{"relative error": f"failed: {exc}"})
                    continue
            err = abs(value - ref) / ref if np.isfinite(value) else float("nan")
            errors[tool] = err
            section.add(
                data=label,
                tool=tool,
                std=f"{value:.17g}",
                **{"relative error": h.fmt_err(err)},
                value=value,
                exact=ref,
                rel_error=err,
            )
            h.log(f"W5 {label:22s} {tool:36s} rel. error {h.fmt_err(err)}")
        section.add(
            data=label,
            tool="exact (integer arithmetic)",
            std=f"{ref:.17g}",
            **{"relative error": "—"},
            value=ref,
        )
        for tool in ("seqscale fit", f"seqscale partial_fit \u00d7{CHUNKS}"):
            e = errors.get(tool, float("nan"))
            section.goal(f"{label}, {tool}: relative error ≤ 1e-13", h.fmt_err(e), bool(e <= 1e-13))

    section.notes += [
        f"{n:,} values each. `std` is the fitted `scale_` (population std) of each tool; seqscale "
        "and "
        f"scikit-learn `partial_fit` see the data in {CHUNKS} consecutive chunks.",
        "Exact reference: the float values (float32 widened exactly) as integer multiples of a "
        "common "
        "power of two; `n·Σk² \u2212 (Σk)²` in Python integers; square root to ~60 digits, "
        "rounded once.",
        "The naive formula `sqrt(mean(x*x) - mean(x)**2)` is computed in float64; `nan` means the "
        "difference came out negative.",
    ]
    return section


def _naive(x: np.ndarray) -> float:
    x64 = x.astype(np.float64)
    return float(np.sqrt(np.mean(x64 * x64) - np.mean(x64) ** 2))
