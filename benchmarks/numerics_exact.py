"""Numerics of the four scalers against an exact reference, next to scikit-learn.

For each data set, scaler and fitting mode (one ``fit``; 100 chunks merged by ``partial_fit``),
the largest error of the transformed values against the exact ones, in output units. The
reference is rational arithmetic (``fractions``) on the exact input values: the mean, the
quantiles (numpy's linear interpolation, evaluated exactly), min, max and max-abs are exact; the
standard deviation is an integer square root to ~60 digits. Constant and near-constant channels
follow the same rule on both sides (a spread within the rounding error of the statistics counts
as none: scale 1), so the reference says what the rule says, computed exactly.

Run ``python -m benchmarks.numerics_exact`` to write ``benchmarks/results/numerics_exact.md``.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np

N_ROWS = 2000
CHUNKS = 100
SCALERS = ("MinMaxScaler", "StandardScaler", "RobustScaler", "MaxAbsScaler")
_EPS = Fraction(2) ** -52


def datasets() -> dict[str, np.ndarray]:
    """The data sets of the table, one column each (int64 stays int64, float32 stays float32)."""
    rng = np.random.default_rng(11)
    noise = rng.standard_normal(N_ROWS)
    return {
        "1e9 + N(0,1)": 1e9 + noise,
        "1e15 + N(0,1)": 1e15 + noise,
        "1 + 1e-10·N(0,1)": 1 + 1e-10 * noise,
        "tied (3 values)": rng.choice(np.array([0.1, 7.3, 7.3000000000000001, 100.0]), N_ROWS),
        "constant 686.716...": np.full(N_ROWS, 686.7160532391669),
        "near-constant [0.3, 0.1+0.2]": np.tile([0.3, 0.1 + 0.2], N_ROWS // 2),
        "int64 near 2**62": (2**62 + rng.integers(-(2**20), 2**20, N_ROWS)).astype(np.int64),
        "float32 1e6 + N(0,1)": (1e6 + noise).astype(np.float32),
    }


def _exact(values: np.ndarray) -> list[Fraction]:
    if values.dtype.kind in "iu":
        return [Fraction(int(v)) for v in values.tolist()]
    return [Fraction(float(v)) for v in values.astype(np.float64).tolist()]


def _sqrt(q: Fraction, digits: int = 200) -> Fraction:
    return Fraction(math.isqrt((q.numerator << (2 * digits)) // q.denominator), 1 << digits)


def _quantile(sorted_x: list[Fraction], p: Fraction) -> Fraction:
    """numpy's "linear" quantile, exactly."""
    h = (len(sorted_x) - 1) * p
    k = math.floor(h)
    a, b = sorted_x[k], sorted_x[min(k + 1, len(sorted_x) - 1)]
    return a + (b - a) * (h - k)


def _negligible(spread2: Fraction, level: Fraction, n: int) -> bool:
    return spread2 <= n * _EPS * spread2 + (n * _EPS * level) ** 2


def exact_coefficients(name: str, x: list[Fraction]) -> tuple[Fraction, Fraction, Fraction]:
    """``(shift, divisor, offset)`` with ``y = (x - shift) / divisor + offset``, exactly."""
    n = len(x)
    lo, hi = min(x), max(x)
    mean = sum(x) / n
    var = sum((v - mean) ** 2 for v in x) / n
    if name == "MinMaxScaler":
        constant = hi == lo or _negligible(var, mean, n)
        return lo, (Fraction(1) if constant else hi - lo), Fraction(0)
    if name == "StandardScaler":
        constant = var == 0 or _negligible(var, mean, n)
        return (lo if hi == lo else mean), (Fraction(1) if constant else _sqrt(var)), Fraction(0)
    if name == "RobustScaler":
        s = sorted(x)
        med = _quantile(s, Fraction(1, 2))
        iqr = _quantile(s, Fraction(3, 4)) - _quantile(s, Fraction(1, 4))
        constant = iqr == 0 or _negligible(iqr * iqr, med, n)
        return med, (Fraction(1) if constant else iqr), Fraction(0)
    bound = max(abs(lo), abs(hi))
    return Fraction(0), (bound if bound else Fraction(1)), Fraction(0)


def _fit(est, X: np.ndarray, chunks: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if chunks == 1:
            return est.fit(X)
        for part in np.array_split(X, chunks):
            est.partial_fit(part)
        return est


def output_error(est, X: np.ndarray, exact_y: list[Fraction]) -> float:
    """Largest absolute error of ``est.transform(X)`` against the exact outputs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = np.asarray(est.transform(X), dtype=np.float64).ravel()
    return max(float(abs(Fraction(float(a)) - b)) for a, b in zip(y.tolist(), exact_y))


def measure() -> list[dict]:
    """One row per (data set, scaler, mode): seqscale's and scikit-learn's largest output error."""
    from sklearn import preprocessing as skp

    import seqscale

    rows = []
    for label, values in datasets().items():
        X = values.reshape(-1, 1)
        x = _exact(values)
        for name in SCALERS:
            shift, div, off = exact_coefficients(name, x)
            exact_y = [(v - shift) / div + off for v in x]
            for mode, chunks in (("fit", 1), (f"partial_fit, {CHUNKS} chunks", CHUNKS)):
                ours = output_error(_fit(getattr(seqscale, name)(), X, chunks), X, exact_y)
                theirs_est = getattr(skp, name)()
                if chunks > 1 and not hasattr(theirs_est, "partial_fit"):
                    theirs = None  # scikit-learn's RobustScaler has no partial_fit
                else:
                    theirs = output_error(_fit(theirs_est, X, chunks), X, exact_y)
                rows.append(
                    {"data": label, "scaler": name, "mode": mode, "seqscale": ours, "scikit-learn": theirs}
                )
    return rows


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else ("0" if v == 0 else f"{v:.2g}")


def markdown(rows: list[dict]) -> str:
    lines = [
        "# Numerics against an exact reference",
        "",
        f"Largest absolute error of the transformed values (output units) over {N_ROWS} rows, "
        "against rational arithmetic on the exact inputs; `partial_fit` merges "
        f"{CHUNKS} chunks. scikit-learn's RobustScaler has no `partial_fit` (n/a). "
        "Written by `python -m benchmarks.numerics_exact`.",
        "",
        "| data | scaler | mode | seqscale | scikit-learn |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [r["data"], r["scaler"], r["mode"], _fmt(r["seqscale"]), _fmt(r["scikit-learn"])]
        lines.append("| " + " | ".join(cells) + " |")
    paired = [(r["seqscale"], r["scikit-learn"]) for r in rows if r["scikit-learn"] is not None]
    closer = sum(ours < theirs for ours, theirs in paired)
    equal = sum(ours == theirs for ours, theirs in paired)
    lines += [
        "",
        f"Of the {len(paired)} rows with a scikit-learn value, seqscale is closer to the exact "
        f"outputs on {closer}, equally close on {equal} and further on {len(paired) - closer - equal}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    import sklearn

    import seqscale

    rows = measure()
    versions = f"seqscale {seqscale.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}"
    text = markdown(rows).replace("Written by", f"{versions}. Written by")
    out = Path(__file__).parent / "results" / "numerics_exact.md"
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
