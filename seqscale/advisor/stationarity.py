"""The sampled statistical tests of :func:`seqscale.advisor.api.advise`: normality and ADF/KPSS.

scipy and statsmodels are imported inside the functions, so importing this module stays light.
"""

from __future__ import annotations

import math
import warnings as _warnings
from typing import Any

import numpy as np

from seqscale.advisor import profile as _profile
from seqscale.advisor.rules import (
    ADF_MAXLAG,
    ADF_UNIT_P,
    ALPHA,
    DIFF_VARIANCE,
    KPSS_ACCEPT_P,
    NORMAL_KURT,
    NORMAL_SKEW,
    TREND_R2,
)

__all__ = ["normality", "panel_stationarity", "stationarity"]

#: Margin around the persistence and trend thresholds inside which the evidence is weak.
MARGIN_BAND = 0.1
#: Shortest series of a panel whose tests enter the pooled panel tests.
PANEL_MIN_ROWS = 10


# ------------------------------------------------------------------------------------------------
# Normality
# ------------------------------------------------------------------------------------------------
def normality(sample: np.ndarray, st: dict, sampled: bool) -> dict:
    """D'Agostino (n >= 20) or Shapiro (3 <= n < 20) on ``sample`` + the effect-size verdict."""
    x = sample[np.isfinite(sample)]
    skew, kurt = st.get("skewness", math.nan), st.get("kurtosis", math.nan)
    rough = bool(abs(skew) < NORMAL_SKEW and abs(kurt) < NORMAL_KURT)
    out = {
        "test": None,
        "statistic": None,
        "p_value": None,
        "n_used": int(x.size),
        "sampled": bool(sampled),
        "skewness": float(skew),
        "kurtosis": float(kurt),
        "roughly_normal": rough,
        "per_series": st.get("per_series"),
        "decided_by": "effect size (|skew| < 0.5 and |excess kurtosis| < 1)",
    }
    if x.size < 3 or not np.ptp(x) > 0:
        return out
    out["test"], res = _normality_test(x)
    out["statistic"] = float(res.statistic)
    out["p_value"] = float(res.pvalue)
    return out


def _normality_test(x: np.ndarray) -> tuple[str, Any]:
    from scipy import stats as sps

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        if x.size >= 20:
            return "dagostino", sps.normaltest(x)
        return "shapiro", sps.shapiro(x)


# ------------------------------------------------------------------------------------------------
# Stationarity
# ------------------------------------------------------------------------------------------------
_TUPLE_KW: dict = {}


def _tuple_kw(func: Any) -> dict:
    """``{"result_object": False}`` where statsmodels accepts it (keeps the tuple results)."""
    key = func.__name__
    if key not in _TUPLE_KW:
        import inspect

        try:
            params = inspect.signature(func).parameters
        except (TypeError, ValueError):  # pragma: no cover
            params = {}
        _TUPLE_KW[key] = {"result_object": False} if "result_object" in params else {}
    return _TUPLE_KW[key]


def stationarity(x_time: np.ndarray, max_points: int, min_rows: int = 20, period: int | None = None) -> dict:
    """ADF + KPSS + trend check on an evenly strided subsample of ``x_time`` (time order).

    Fewer than ``min_rows`` points are not tested (a series of a panel may be shorter: its
    tests are pooled with the others'). With a seasonal ``period`` (from the time column's
    frequency) persistence is measured after removing the mean of each seasonal phase: a
    smooth seasonal cycle has a high lag-1 autocorrelation without wandering.
    """
    sub, stride = _profile.strided(x_time, max_points)
    calm, adjusted = _without_phase_means(x_time, period)
    calm, _ = _profile.strided(calm, max_points)
    n = int(sub.size)
    out: dict[str, Any] = {
        "n_used": n,
        "stride": int(stride),
        "sampled": stride > 1,
        "adf_p": None,
        "adf_stat": None,
        "adf_lags": None,
        "kpss_p": None,
        "kpss_stat": None,
    }
    out.update(_profile.trend_check(sub))
    if n < min_rows or not np.ptp(sub) > 0:
        out["verdict"] = "too short to test" if n < min_rows else "constant"
        out.update(unit_root=False, trending=False, difference=False, evidence="weak")
        return out
    _adf(sub, out)
    _kpss(sub, out)
    _decide(out, calm)
    if adjusted:
        out["persistence_after"] = f"removing the means of the {period} seasonal phases"
    return out


def _without_phase_means(x: np.ndarray, period: int | None) -> tuple[np.ndarray, bool]:
    """``x`` (finite values, time order) minus the mean of its seasonal phase (``t mod period``)
    and True; ``x`` and False without a period or with fewer than two full seasons."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    if not period or period < 2 or x.size < 2 * period:
        return x, False
    phase = np.arange(x.size) % period
    means = np.bincount(phase, weights=x, minlength=period) / np.bincount(phase, minlength=period)
    return x - means[phase] + x.mean(), True


def _adf(sub: np.ndarray, out: dict) -> None:
    from statsmodels.tsa.stattools import adfuller

    n = sub.size
    # a fixed lag order (Schwert's short rule): an AIC-chosen order jumps as rows are added and
    # makes the p-value, and the decision, flip between nearby training lengths
    maxlag = max(0, min(ADF_MAXLAG, int(4 * (n / 100) ** 0.25), n // 2 - 3))
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")  # rank-deficient lags of step-like series, etc.
            adf = adfuller(sub, maxlag=maxlag, regression="c", autolag=None, **_tuple_kw(adfuller))
        out["adf_stat"], out["adf_p"], out["adf_lags"] = float(adf[0]), float(adf[1]), int(adf[2])
    except (ValueError, np.linalg.LinAlgError) as err:  # pragma: no cover - degenerate input
        out["adf_error"] = str(err)


def _kpss(sub: np.ndarray, out: dict) -> None:
    from statsmodels.tools.sm_exceptions import InterpolationWarning
    from statsmodels.tsa.stattools import kpss

    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore", InterpolationWarning)  # p-value outside its table
            _warnings.simplefilter("ignore", RuntimeWarning)
            kp = kpss(sub, regression="c", nlags="auto", **_tuple_kw(kpss))
        out["kpss_stat"], out["kpss_p"] = float(kp[0]), float(kp[1])
    except (ValueError, np.linalg.LinAlgError, OverflowError) as err:  # pragma: no cover
        out["kpss_error"] = str(err)


def _lag1(x: np.ndarray) -> float:
    """Lag-1 autocorrelation of ``x`` (0 when undefined)."""
    if x.size < 3:
        return 0.0
    xc = x - x.mean()
    den = float(xc @ xc)
    return float(xc[1:] @ xc[:-1]) / den if den > 0 else 0.0


def _variance_left(x: np.ndarray) -> float:
    """``var(x[t] - x[t-1]) / var(x)``: the share of the variance a lag-1 difference leaves
    (about ``2 (1 - lag-1 autocorrelation)``; below 1 only for persistent series)."""
    v = float(np.var(x))
    return float(np.var(np.diff(x)) / v) if x.size > 2 and v > 0 else 1.0


def _decide(out: dict, sub: np.ndarray | None = None) -> None:
    """``difference``, its ``evidence`` ("strong"/"weak"), ``unit_root``, ``trending`` and the
    ``verdict`` from ``adf_p``, ``kpss_p``, ``trend_r2`` and ``variance_left`` in ``out``.

    When both tests agree, with a margin, they decide: a unit root when ADF is far from
    rejecting it (p > 0.10) and KPSS rejects stationarity (p <= 0.05), and a difference leaves less
    variance than the levels have -> difference;
    stationarity when ADF rejects (p < 0.05), KPSS does not (p >= 0.10) and there is no strong
    trend (linear-trend R² < 0.6) -> levels. When they disagree, persistence decides: difference
    a strong trend and a series whose lag-1 difference leaves at most half its variance
    (:data:`DIFF_VARIANCE`; lag-1 autocorrelation above about 0.75), keep the levels otherwise.
    A series the tests cannot settle is thus differenced when it wanders (a missed unit root
    makes the network extrapolate) and kept in levels when it barely remembers its last value
    (a level shift, an AR(0.5)), where the noise of the differences would hurt more.

    The evidence is *strong* only when neither test contradicts the decision at 5 % and
    persistence agrees with it by a margin (:data:`MARGIN_BAND`): for a difference, KPSS
    rejecting, ADF not, and at most 40 % of the variance left (or R² >= 0.7); for the levels,
    ADF rejecting, KPSS not, at least 60 % of the variance left and R² < 0.5. Otherwise it is
    *weak*, and said so. Where the tests stop agreeing persistence takes over, and it decides
    the same way unless it sits near its threshold, which makes the evidence weak on both
    sides: adding a few rows cannot turn a strong verdict into its opposite unless a statistic
    jumps across its whole margin.
    """
    if sub is not None:
        out["lag1_acf"] = _lag1(sub)
        out["variance_left"] = _variance_left(sub)
    adf_p, kpss_p, left, r2 = out["adf_p"], out["kpss_p"], out["variance_left"], out["trend_r2"]
    kpss_rejects = kpss_p is not None and kpss_p <= ALPHA
    kpss_accepts = kpss_p is not None and kpss_p >= KPSS_ACCEPT_P
    trending = bool(r2 >= TREND_R2)
    # a unit root's differences vary less than its levels: tests that say otherwise are wrong
    unit_root = bool(kpss_rejects and adf_p is not None and adf_p > ADF_UNIT_P and left < 1.0)
    stationary = bool(adf_p is not None and adf_p < ALPHA and kpss_accepts and not trending)
    out["unit_root"], out["trending"] = unit_root, trending
    if unit_root or stationary:
        out["difference"] = unit_root
    else:
        out["difference"] = bool(trending or left <= DIFF_VARIANCE)
    if out["difference"]:  # neither test against it, persistence or the trend clearly for it
        strong = bool(
            kpss_rejects
            and (adf_p is None or adf_p > ALPHA)
            and (left <= DIFF_VARIANCE - MARGIN_BAND or r2 >= TREND_R2 + MARGIN_BAND)
        )
    else:
        strong = bool(
            adf_p is not None
            and adf_p < ALPHA
            and not kpss_rejects
            and left >= DIFF_VARIANCE + MARGIN_BAND
            and r2 < TREND_R2 - MARGIN_BAND
        )
    out["tests_agree"] = unit_root or stationary
    out["evidence"] = "strong" if strong else "weak"
    if not out["difference"]:
        out["verdict"] = "stationary"
    else:
        out["verdict"] = "unit root" if unit_root else "trend" if trending else "persistent"


# ------------------------------------------------------------------------------------------------
# Panels: the series' tests pooled
# ------------------------------------------------------------------------------------------------
def panel_stationarity(tested: list[dict]) -> dict:
    """One decision for a panel from the tests of its series (each from :func:`stationarity`).

    ADF p-values are pooled by Fisher's method (the Maddala-Wu panel unit-root test), the KPSS
    statistics by their mean (Hadri's panel stationarity test: ``z = sqrt(N) (mean - 1/6) /
    sqrt(1/45)``), the trend R² and the share of variance a difference leaves by their medians;
    :func:`_decide` then decides on these as on one series. Series too short for the tests
    (fewer than :data:`PANEL_MIN_ROWS` rows) are left out.
    """
    from scipy import stats as sps

    usable = [t for t in tested if t.get("adf_p") is not None or t.get("kpss_stat") is not None]
    out: dict[str, Any] = {
        "n_series_tested": len(tested),
        "n_series_used": len(usable),
        "pooled": "Fisher (Maddala-Wu) ADF, Hadri KPSS, medians",
        "adf_p": None,
        "kpss_p": None,
        "trend_r2": float(np.median([t["trend_r2"] for t in tested])) if tested else 0.0,
        "lag1_acf": float(np.median([t.get("lag1_acf", 0.0) for t in usable])) if usable else 0.0,
        "variance_left": float(np.median([t.get("variance_left", 1.0) for t in usable])) if usable else 1.0,
        "n_used": int(sum(t["n_used"] for t in tested)),
        "sampled": any(t.get("sampled") for t in tested),
    }
    if not usable:
        out.update(unit_root=False, trending=False, difference=False, evidence="weak")
        out["verdict"] = "too short to test"
        return out
    adf = [min(max(t["adf_p"], 1e-300), 1.0) for t in usable if t.get("adf_p") is not None]
    if adf:
        out["adf_p"] = float(sps.combine_pvalues(adf, method="fisher").pvalue)
    kp = [t["kpss_stat"] for t in usable if t.get("kpss_stat") is not None]
    if kp:
        z = math.sqrt(len(kp)) * (float(np.mean(kp)) - 1 / 6) / math.sqrt(1 / 45)
        out["kpss_p"] = float(sps.norm.sf(z))
    out["series_share"] = float(np.mean([t["difference"] for t in usable]))
    _decide(out)
    return out
