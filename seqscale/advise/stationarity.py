"""The sampled statistical tests of :func:`seqscale.advise.advise`: normality and ADF/KPSS.

scipy and statsmodels are imported inside the functions, so importing this module stays light.
"""

from __future__ import annotations

import math
import warnings as _warnings
from typing import Any

import numpy as np

from seqscale.advise import profile as _profile
from seqscale.advise.rules import (
    ADF_MAXLAG,
    ADF_UNIT_P,
    ALPHA,
    KPSS_ACCEPT_P,
    KPSS_REJECT_P,
    MEMORYLESS_ACF,
    NORMAL_KURT,
    NORMAL_SKEW,
    PERSISTENT_ACF,
    TREND_R2,
)

__all__ = ["normality", "stationarity"]


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


def stationarity(x_time: np.ndarray, max_points: int) -> dict:
    """ADF + KPSS + trend check on an evenly strided subsample of ``x_time`` (time order)."""
    sub, stride = _profile.strided(x_time, max_points)
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
    if n < 20 or not np.ptp(sub) > 0:
        out["verdict"] = "too short to test" if n < 20 else "constant"
        out.update(unit_root=False, trending=False, difference=False, evidence="weak")
        return out
    _adf(sub, out)
    _kpss(sub, out)
    _decide(out, sub)
    return out


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


def _stationary_confirmed(out: dict) -> bool:
    """No strong trend (R² < 0.6) and two of three signs of stationarity: ADF rejects a unit
    root (p < 0.05), KPSS does not reject stationarity (p >= 0.10), little persistence (lag-1
    autocorrelation < 0.5; ADF alone has little power at 50 rows). Lag-1 autocorrelation below
    0.2 suffices unless KPSS rejects at 1 %: a unit root at 40 rows or more shows about 0.8."""
    adf_p, kpss_p = out["adf_p"], out["kpss_p"]
    if out["trend_r2"] >= TREND_R2:
        return False
    if out["lag1_acf"] < MEMORYLESS_ACF and (kpss_p is None or kpss_p > KPSS_REJECT_P):
        return True
    signs = (
        adf_p is not None and adf_p < ALPHA,
        kpss_p is not None and kpss_p >= KPSS_ACCEPT_P,
        out["lag1_acf"] < PERSISTENT_ACF,
    )
    return sum(signs) >= 2


def _unit_root_confirmed(out: dict) -> bool:
    """ADF far from rejecting (p > 0.10) and KPSS rejecting at 1 %, or a strong trend."""
    adf_p, kpss_p = out["adf_p"], out["kpss_p"]
    kpss_rejects = kpss_p is not None and kpss_p <= KPSS_REJECT_P
    return bool(kpss_rejects and ((adf_p is not None and adf_p > ADF_UNIT_P) or out["trend_r2"] >= TREND_R2))


def _decide(out: dict, sub: np.ndarray) -> None:
    """``difference``, its ``evidence`` ("strong"/"weak") and the ``verdict``.

    Not differenced only when stationarity is confirmed with a margin
    (:func:`_stationary_confirmed`); the evidence is strong when that, or a unit root, is
    confirmed (:func:`_unit_root_confirmed`), weak otherwise. Between the two the series is
    differenced: a missed unit root makes the network extrapolate beyond the training range, an
    extra difference costs a little noise. Deciding on the stationary side's margin keeps the
    decision from flipping as a few training rows are added (p-values near 0.05 move a lot at
    50 rows).
    """
    out["lag1_acf"] = _lag1(sub)
    out["unit_root"] = bool(
        out["adf_p"] is not None and out["adf_p"] > ALPHA and (out["kpss_p"] or 1) < ALPHA
    )
    out["trending"] = bool(out["trend_r2"] >= TREND_R2)
    stationary, unit_root = _stationary_confirmed(out), _unit_root_confirmed(out)
    out["difference"] = not stationary
    out["evidence"] = "strong" if stationary or unit_root else "weak"
    if stationary:
        out["verdict"] = "stationary"
    else:
        out["verdict"] = "unit root" if out["unit_root"] else "trend" if out["trending"] else "non-stationary"
