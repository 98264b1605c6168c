"""The sampled statistical tests of :func:`seqscale.advise.advise`: normality and ADF/KPSS.

scipy and statsmodels are imported inside the functions, so importing this module stays light.
"""

from __future__ import annotations

import math
import warnings as _warnings
from typing import Any

import numpy as np

from seqscale import _profile
from seqscale._rules import ADF_MAXLAG, ALPHA, NORMAL_KURT, NORMAL_SKEW, TREND_R2

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
        out["unit_root"] = False
        out["trending"] = False
        return out
    _adf(sub, out)
    _kpss(sub, out)
    _decide(out)
    return out


def _adf(sub: np.ndarray, out: dict) -> None:
    from statsmodels.tsa.stattools import adfuller

    n = sub.size
    maxlag = max(0, min(ADF_MAXLAG, int(12 * (n / 100) ** 0.25), n // 2 - 3))
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")  # rank-deficient lags of step-like series, etc.
            adf = adfuller(sub, maxlag=maxlag, regression="c", autolag="AIC", **_tuple_kw(adfuller))
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


def _decide(out: dict) -> None:
    """``unit_root``, ``trending`` and the ``verdict`` from the two p-values and the trend."""
    adf_p, kpss_p = out["adf_p"], out["kpss_p"]
    tested = adf_p is not None and kpss_p is not None
    unit_root = tested and adf_p > ALPHA and kpss_p < ALPHA
    trending = out["trend_r2"] >= TREND_R2
    out["unit_root"] = bool(unit_root)
    out["trending"] = bool(trending)
    if unit_root:
        out["verdict"] = "unit root"
    elif trending:
        out["verdict"] = "trend"
    elif tested and adf_p <= ALPHA and kpss_p >= ALPHA:
        out["verdict"] = "stationary"
    elif tested and adf_p <= ALPHA:
        out["verdict"] = "inconclusive (ADF and KPSS both reject)"
    else:
        out["verdict"] = "inconclusive (neither test rejects)"
