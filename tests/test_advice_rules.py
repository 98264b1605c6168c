"""Known cases for the advisor's rules: one synthetic column built to trigger exactly one rule."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from seqscale.advisor import seasonality as seasons
from seqscale.advisor.api import advise, window_length
from seqscale.advisor.stationarity import stationarity

N = 600


def _monthly(y: np.ndarray, **more: np.ndarray) -> pd.DataFrame:
    dates = pd.date_range("1990-01-01", periods=len(y), freq="MS")
    return pd.DataFrame({"date": dates, **more, "y": y})


# ------------------------------------------------------------------------------------------------
# "already within [0, 1]" needs a real spread
# ------------------------------------------------------------------------------------------------
def test_small_values_inside_unit_interval_are_scaled():
    rng = np.random.default_rng(0)
    t = np.arange(N)
    rate = 0.155 + 0.05 * np.sin(t / 40) + rng.normal(0, 0.003, N)  # 0.098-0.211 like interest rates
    returns = rng.normal(0, 0.013, N).clip(-0.04, 0.04)  # differenced logs of about +-0.04
    spread = rng.beta(2, 2, N)  # inside [0, 1] and spread over it
    a = advise(pd.DataFrame({"rate": rate, "ret": returns, "spread": spread, "y": rng.normal(size=N)}))
    assert a["rate"].method != "none" and a["ret"].method != "none"
    assert a["spread"].method == "none"
    assert "real spread" in a["spread"].reason
    assert f"{spread.min():.3g}" in a["spread"].reason


# ------------------------------------------------------------------------------------------------
# small-integer columns: one-hot only for codes that cycle with time
# ------------------------------------------------------------------------------------------------
def test_ordinal_count_is_a_magnitude_and_reason_names_one_hot():
    rng = np.random.default_rng(1)
    count = rng.binomial(7, 0.4, N)  # 0..7, a magnitude
    a = advise(pd.DataFrame({"count": count, "y": rng.normal(size=N)}))
    col = a["count"]
    assert (col.kind, col.role) == ("ordinal", "input")
    assert col.method in ("minmax", "standard")
    assert f"one-hot ({col.stats['distinct']} columns) is the alternative" in col.reason


def test_weekday_of_hourly_data_is_a_cycling_code():
    stamps = pd.date_range("2024-01-01", periods=24 * 7 * 6, freq="h")
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"t": stamps, "weekday": stamps.dayofweek, "y": rng.normal(size=len(stamps))})
    col = advise(df, time="t")["weekday"]
    assert col.role == "categorical"
    assert "168 steps earlier" in col.reason and "equally spaced" in col.reason


# ------------------------------------------------------------------------------------------------
# seasonality
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("freq", "period"), [("MS", 12), ("QS", 4), ("D", 7), ("h", 24), ("30min", 48), ("YS", None)]
)
def test_period_from_time_frequency(freq, period):
    assert seasons.period_of_time(pd.Series(pd.date_range("2000-01-01", periods=200, freq=freq))) == period


def test_trend_free_seasonal_series_is_not_differenced_and_not_trending():
    rng = np.random.default_rng(3)
    t = np.arange(240)
    y = 100 + 20 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, t.size)
    a = advise(_monthly(y), time="date")
    col = a["y"]
    season = col.stationarity["season"]
    assert season["period"] == 12 and season["seasonal"] and season["strength"] > 0.9
    assert col.difference is None
    assert not any("stationary" in w or "trend" in w for w in col.warnings), col.warnings
    assert "season of 12 steps" in col.reason
    assert a.plan["window"]["n_in"] % 12 == 0


def test_seasonal_difference_when_it_helps():
    rng = np.random.default_rng(4)
    t = np.arange(240)
    y = 500 + np.cumsum(rng.normal(1, 1, t.size)) + 40 * np.sin(2 * np.pi * t / 12)
    col = advise(_monthly(y), time="date")["y"]
    assert col.difference == {"lag": 12, "order": 1}
    assert "variance" in col.reason and f"{col.stationarity['season']['gain']:.0%}" in col.reason


def test_lag_one_difference_when_the_season_is_weak():
    rng = np.random.default_rng(5)
    t = np.arange(240)
    y = 500 + np.cumsum(rng.normal(1, 3, t.size)) + 0.5 * np.sin(2 * np.pi * t / 12)
    col = advise(_monthly(y), time="date")["y"]
    assert col.difference == {"lag": 1, "order": 1}


def test_half_hourly_window_covers_a_day():
    stamps = pd.date_range("2024-01-01", periods=48 * 60, freq="30min")
    rng = np.random.default_rng(6)
    y = 30 + 10 * np.sin(2 * np.pi * np.arange(stamps.size) / 48) + rng.normal(0, 1, stamps.size)
    a = advise(pd.DataFrame({"t": stamps, "y": y}), time="t")
    assert a["y"].stationarity["season"]["period"] == 48
    assert a.plan["window"]["n_in"] == 48


def test_window_length_rounds_to_whole_seasons():
    assert window_length(170, 12) == 12  # not 17
    assert window_length(10_000, 48) == 48  # not 24 (half a day)
    assert window_length(10_000, 7) == 21
    assert window_length(60, None) == 6
    assert window_length(30, 12) == 4  # a season longer than a quarter of the series is ignored
    assert window_length(16, None) == 4  # short panel series still get a few steps


# ------------------------------------------------------------------------------------------------
# warnings never contradict the choice
# ------------------------------------------------------------------------------------------------
def test_heavy_tailed_target_gets_robust_and_the_warning_agrees():
    rng = np.random.default_rng(7)
    y = rng.standard_t(3, 3000) * 5  # excess kurtosis well above 3, not positive
    col = advise(pd.DataFrame({"x": rng.normal(size=3000), "y": y}))["y"]
    assert col.method == "robust"
    assert f"excess kurtosis {col.stats['kurtosis']:.1f}" in col.reason
    heavy = [w for w in col.warnings if "heavy tails" in w]
    assert heavy and "robust scaling keeps" in heavy[0] and "consider" not in heavy[0].split(":")[1][:40]


def test_positive_skewed_target_takes_log_instead_of_a_warning():
    rng = np.random.default_rng(8)
    y = rng.lognormal(3, 1.2, 3000)  # excess kurtosis in the tens
    col = advise(pd.DataFrame({"x": rng.normal(size=3000), "y": y}))["y"]
    assert col.log is True and col.method != "minmax"
    assert "log1p" in col.recommendation and "→ log, then scale" in col.reason
    assert not any("consider" in w and "log" in w for w in col.warnings)


def test_minmax_kept_with_a_few_values_outside_says_why():
    rng = np.random.default_rng(9)
    x = rng.uniform(0, 100, 1000)
    x[-200:] = x[-200:].clip(x[:800].min(), x[:800].max())
    x[-3:] = 101.0  # 1.5 % of the test tail above the training max
    col = advise(pd.DataFrame({"x": x, "y": rng.normal(size=1000)}))["x"]
    assert col.method == "minmax"
    assert any("minmax kept because" in w for w in col.warnings)


# ------------------------------------------------------------------------------------------------
# a stable differencing decision
# ------------------------------------------------------------------------------------------------
def _ar(rng: np.random.Generator, phi: float, n: int = 55) -> np.ndarray:
    x, e = np.zeros(n), rng.normal(size=n)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


_PROCESSES = {
    "white noise": (lambda r: r.normal(0, 1, 55), False),
    "quarterly season": (lambda r: 5 * np.sin(np.pi * np.arange(55) / 2) + r.normal(0, 1, 55), False),
    "drifting walk": (lambda r: 100 + np.cumsum(r.normal(0.3, 1, 55)), True),
    # borderline ones: the decision may change with the row count, but only where it says "weak"
    "walk": (lambda r: 100 + np.cumsum(r.normal(0, 1, 55)), None),
    "AR(0.5)": (lambda r: _ar(r, 0.5), None),
    "AR(0.85)": (lambda r: _ar(r, 0.85), None),
    "AR(0.95)": (lambda r: _ar(r, 0.95), None),
    "trend R² near 0.6": (lambda r: 0.1 * np.arange(55) + r.normal(0, 1, 55), None),
    "level shift": (lambda r: np.r_[np.full(25, 3.0), np.zeros(30)] + r.normal(0, 1, 55), None),
}


@pytest.mark.parametrize("kind", list(_PROCESSES))
def test_differencing_is_stable_between_44_and_55_rows(kind):
    make, expected = _PROCESSES[kind]
    for seed in range(12):
        series = make(np.random.default_rng(seed))
        tests = [stationarity(series[:n], 2000) for n in range(44, 56)]
        if expected is not None:  # clear cases: one decision over the whole range
            assert {t["difference"] for t in tests} == {expected}, (kind, seed)
        for n, (before, after) in enumerate(itertools.pairwise(tests), start=44):
            if before["difference"] != after["difference"]:  # only ever between two weak verdicts
                assert before["evidence"] == after["evidence"] == "weak", (kind, seed, n)


def test_level_shift_keeps_its_levels_and_says_the_evidence_is_weak():
    rng = np.random.default_rng(0)
    volume = np.r_[rng.normal(1100, 150, 28), rng.normal(850, 130, 52)]  # the Nile's dam, in short
    frame = pd.DataFrame({"year": np.arange(1871, 1951), "volume": volume})
    col = advise(frame, target="volume", time="year")["volume"]
    sn = col.stationarity
    assert col.difference is None and sn["evidence"] == "weak" and sn["variance_left"] > 0.5
    assert "weak evidence: the tests do not agree" in col.reason
    assert f"leaves {sn['variance_left']:.0%} of the variance" in col.reason
    assert "levels are kept" in col.reason


def test_unit_root_with_both_tests_agreeing_is_strong():
    rng = np.random.default_rng(2)
    walk = 100 + np.cumsum(rng.normal(0, 1, 300))
    col = advise(pd.DataFrame({"x": walk, "y": rng.normal(size=300)}))["x"]
    assert col.difference == {"lag": 1, "order": 1} and col.stationarity["evidence"] == "strong"
    assert "both tests agree" in col.reason


def test_weak_evidence_is_said():
    rng = np.random.default_rng(3)
    ar = np.zeros(80)
    for i in range(1, 80):
        ar[i] = 0.85 * ar[i - 1] + rng.normal()
    sn = stationarity(ar, 2000)
    assert sn["evidence"] == "weak"
    col = advise(pd.DataFrame({"x": ar, "y": rng.normal(size=80)}))["x"]
    assert "weak evidence" in (col.reason + " ".join(col.warnings))


# ------------------------------------------------------------------------------------------------
# panels: judged per series, aggregated
# ------------------------------------------------------------------------------------------------
def _panel(rng: np.random.Generator, n_series: int = 10, length: int = 80) -> pd.DataFrame:
    parts = []
    for k in range(n_series):
        size = 1000.0 if k == 9 else 10.0 ** rng.uniform(0, 1)  # firms of very different size
        level = size * (1 + 0.1 * rng.normal(size=length))
        walk = np.cumsum(rng.normal(size=length)) if k < 3 else rng.normal(size=length)
        parts.append(pd.DataFrame({"firm": k, "year": np.arange(length), "sales": level, "mixed": walk}))
    frame = pd.concat(parts, ignore_index=True)
    return frame.assign(y=rng.normal(size=len(frame)))


def test_panel_shape_is_judged_per_series():
    rng = np.random.default_rng(10)
    col = advise(_panel(rng), time="year", id="firm")["sales"]
    assert col.stats["kurtosis"] > 3 and col.stats["skewness"] > 1  # pooled over sizes
    assert col.method == "standard", col.reason  # each firm alone is roughly normal
    assert col.log is False
    assert "medians over 10 series after per-series scaling" in col.reason


def test_panel_stationarity_is_a_share_of_series():
    rng = np.random.default_rng(11)
    col = advise(_panel(rng), time="year", id="firm")["mixed"]
    sn = col.stationarity
    assert sn["n_series_tested"] == 10
    assert sn["series_share"] == pytest.approx(0.3)
    assert col.difference is None  # 7 of 10 series are noise: the pooled series do not wander
    assert "pooled over 10 of 10 series tested" in col.reason
    assert "non-stationary in 30% of the series one by one" in col.reason


def test_short_panel_series_are_tested_pooled():
    """16 rows a series are too few for ADF/KPSS alone; pooled over 11 series they decide."""
    rng = np.random.default_rng(12)
    years = np.arange(1935, 1951)
    rows = []
    for k in range(11):
        walk = 50 * (k + 1) + np.cumsum(rng.normal(3, 10, years.size))  # growing firms, 16 years
        noise = rng.normal(100, 10, years.size)
        rows += [(k, t, w, z) for t, w, z in zip(years, walk, noise)]
    frame = pd.DataFrame(rows, columns=["firm", "year", "invest", "noise"])
    advice = advise(frame, target="invest", time="year", id="firm")
    invest, noise = advice["invest"], advice["noise"]
    assert invest.difference == {"lag": 1, "order": 1}
    assert invest.stationarity["n_series_used"] == 11 and invest.stationarity["adf_p"] > 0.10
    assert "pooled over 11 of 11 series tested" in invest.reason
    assert noise.difference is None


def test_weak_unit_root_reason_says_the_tests_agree():
    from seqscale.advisor.rules import difference_reason

    sn = {
        "evidence": "weak",
        "unit_root": True,
        "trending": False,
        "adf_p": 0.75,
        "kpss_p": 0.01,
        "trend_r2": 0.13,
        "variance_left": 0.93,
        "lag1_acf": 0.34,
    }
    reason = difference_reason(sn)
    assert reason.startswith("weak evidence: both tests point to a unit root (")
    assert "do not agree" not in reason and "leaves 93% of the variance" in reason
    sn["unit_root"] = False
    assert difference_reason(sn).startswith("weak evidence: the tests do not agree with a margin")
