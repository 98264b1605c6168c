"""Tests of seqscale.advise: known cases, targets, plan files."""

from __future__ import annotations

import copy
import io
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from seqscale.advisor.api import (
    Advice,
    ColumnAdvice,
    advise,
    load_plan,
    validate_plan,
)
from seqscale.advisor.wording import short_reason
from seqscale.errors import CoefficientFileError, ParameterError

N = 2000


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    return pd.DataFrame(
        {
            "normal": rng.normal(50, 10, N),
            "uniform": rng.uniform(0, 100, N),
            "walk": 100 + np.cumsum(rng.normal(0.5, 1.0, N)),
            "flag": rng.integers(0, 2, N),
            "bools": rng.random(N) < 0.3,
            "letters": rng.choice(["a", "b", "c", "d"], N),
            "codes": rng.integers(1, 5, N),
            "quarter": np.tile([1, 2, 3, 4], N // 4),
            "unit": rng.beta(2, 5, N),
            "lognormal": rng.lognormal(1.0, 1.0, N),
            "t2": rng.standard_t(2, N) * 5,
            "const": np.full(N, 3.0),
            "y": rng.normal(0, 5, N),
        }
    )


@pytest.fixture(scope="module")
def advice(frame) -> Advice:
    return advise(frame, target="y")


@pytest.mark.parametrize(
    ("column", "kind", "role", "method"),
    [
        ("normal", "continuous", "input", "standard"),
        ("uniform", "continuous", "input", "minmax"),
        ("flag", "binary", "input", "none"),
        ("bools", "binary", "input", "none"),
        ("letters", "categorical", "categorical", None),
        ("codes", "ordinal", "input", "minmax"),
        ("quarter", "categorical", "categorical", None),
        ("unit", "continuous", "input", "none"),
        ("t2", "continuous", "input", "robust"),
        ("const", "constant", "ignore", None),
    ],
)
def test_known_cases(advice, column, kind, role, method):
    col = advice[column]
    assert (col.kind, col.role, col.method) == (kind, role, method), col.reason
    assert col.reason
    assert col.difference is None
    assert not col.log


def test_reason_names_rule_and_numbers(advice):
    reason = advice["normal"].reason
    assert reason.startswith("roughly normal (skew ")
    assert "D'Agostino p=" in reason and "n=2,000" in reason and "effect size" in reason
    assert "standardize" in reason


def test_random_walk_is_differenced_with_range_warning(advice):
    col = advice["walk"]
    assert col.difference == {"lag": 1, "order": 1}
    assert col.stationarity["unit_root"] or col.stationarity["trending"]
    assert col.stationarity["adf_p"] > 0.05
    assert any("min/max will be exceeded" in w for w in col.warnings)
    share = col.stats["test_outside_share"]
    assert share > 0.5
    assert f"{share:.1%}" in " ".join(col.warnings)
    assert col.method in ("standard", "none", "minmax", "robust")


def test_lognormal_gets_log_or_robust(advice):
    col = advice["lognormal"]
    assert col.log or col.method == "robust"
    if col.log:
        assert "log, then scale" in col.reason
        assert col.normality["on"].startswith("log1p")


def test_constant_warns(advice):
    assert any("constant" in w for w in advice["const"].warnings)
    assert advice.plan["columns"]["const"] == {
        "role": "ignore",
        "reason": advice["const"].reason,
    }


def test_stationary_columns_not_differenced(advice):
    for name in ("normal", "uniform", "t2"):
        assert advice[name].stationarity["adf_p"] < 0.05
        assert advice[name].difference is None  # the advisor's decision, not only the test's p


def test_statistics_present(advice):
    st = advice["normal"].stats
    for key in (
        "count",
        "min",
        "max",
        "mean",
        "std",
        "skewness",
        "kurtosis",
        "nan_share",
        "distinct",
        "outlier_share",
    ):
        assert key in st
    assert st["count"] == N
    assert abs(st["mean"] - 50) < 1
    assert abs(st["std"] - 10) < 0.5
    assert 0 < st["outlier_share"] < 0.02
    assert advice["normal"].normality["test"] == "dagostino"
    assert advice["normal"].normality["sampled"] is False


def test_statistics_match_scipy():
    from scipy import stats as sps

    rng = np.random.default_rng(3)
    x = rng.gamma(2.0, 3.0, 5000)
    x[::50] = np.nan
    col = advise(pd.DataFrame({"x": x, "y": rng.normal(size=5000)}))["x"]
    clean = x[np.isfinite(x)]
    assert math.isclose(col.stats["skewness"], sps.skew(clean), rel_tol=1e-9)
    assert math.isclose(col.stats["kurtosis"], sps.kurtosis(clean), rel_tol=1e-9)
    assert math.isclose(col.stats["std"], clean.std(ddof=1), rel_tol=1e-12)
    assert math.isclose(col.stats["nan_share"], 0.02)
    q1, q3 = np.percentile(clean, [25, 75])
    fences = (clean < q1 - 1.5 * (q3 - q1)) | (clean > q3 + 1.5 * (q3 - q1))
    assert math.isclose(col.stats["outlier_share"], fences.mean())
    assert any("missing" in w for w in col.warnings)


def test_sampling_is_recorded():
    rng = np.random.default_rng(5)
    n = 6000
    df = pd.DataFrame({"x": rng.normal(size=n) * 7 + 3, "y": rng.normal(size=n)})
    a = advise(df, sample=1000)
    col = a["x"]
    assert col.normality["sampled"] and col.normality["n_used"] == 1000
    assert col.stationarity["sampled"] and col.stationarity["n_used"] <= 2000
    assert col.sampled
    assert "random sample of 1,000" in a.sampling_note
    assert "Sampled" in str(a)


def test_time_column_orders_rows():
    rng = np.random.default_rng(9)
    walk = np.cumsum(rng.normal(0.3, 1, N))
    stamp = pd.date_range("2020-01-01", periods=N, freq="h")
    df = pd.DataFrame({"t": stamp, "walk": walk, "y": rng.normal(size=N)})
    shuffled = df.sample(frac=1.0, random_state=1).reset_index(drop=True)
    a = advise(shuffled, time="t")
    assert a["walk"].difference == {"lag": 1, "order": 1}
    assert "t" not in a.plan["columns"]
    assert a.plan["time"] == "t"


def test_panel_per_series():
    rng = np.random.default_rng(11)
    parts = []
    for k in range(3):
        parts.append(
            pd.DataFrame(
                {
                    "sid": f"s{k}",
                    "step": np.arange(700),
                    "level": np.cumsum(rng.normal(1, 1, 700)),
                    "noise": rng.normal(size=700) * 4 + 10,
                    "y": rng.normal(size=700),
                }
            )
        )
    df = pd.concat(parts, ignore_index=True)
    a = advise(df, time="step", id="sid")
    assert a.plan["per_series"] is True and a.plan["id"] == "sid"
    assert a["level"].difference is not None
    assert a["noise"].difference is None
    assert "series" in a["level"].stationarity
    validate_plan(a.plan)


# --------------------------------------------------------------------------------------------
# targets
# --------------------------------------------------------------------------------------------
def _target_frame(y) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(10, 2, len(y)), "y": y})


def test_binary_target_sigmoid_passthrough():
    rng = np.random.default_rng(1)
    a = advise(_target_frame(rng.integers(0, 2, N)), task="binary")
    col = a["y"]
    assert a.plan["output_activation"] == "sigmoid"
    assert (col.role, col.method, col.encode) == ("target", "none", None)
    assert a.plan["columns"]["y"]["method"] == "none"


def test_binary_text_target_needs_encoding():
    rng = np.random.default_rng(1)
    a = advise(_target_frame(rng.choice(["no", "yes"], N)), task="binary")
    col = a["y"]
    assert col.encode == "label" and col.classes == ["no", "yes"]
    assert any("encoded" in w for w in col.warnings)
    validate_plan(a.plan)


def test_binary_other_numbers_mapped_by_minmax():
    rng = np.random.default_rng(1)
    col = advise(_target_frame(rng.choice([1, 2], N)), task="binary")["y"]
    assert col.method == "minmax" and col.feature_range == [0, 1]


def test_multiclass_target_softmax_onehot():
    rng = np.random.default_rng(2)
    a = advise(_target_frame(rng.integers(0, 4, N)), task="multiclass")
    entry = a.plan["columns"]["y"]
    assert a.plan["output_activation"] == "softmax"
    assert entry["role"] == "target" and entry["encode"] == "onehot" and entry["method"] == "none"
    assert entry["classes"] == [0, 1, 2, 3]


def test_regression_normal_target_standard_linear():
    rng = np.random.default_rng(3)
    a = advise(_target_frame(rng.normal(100, 15, N)))
    assert a.plan["output_activation"] == "linear"
    assert a["y"].method == "standard" and a["y"].role == "target"


def test_regression_uniform_target_minmax_linear():
    rng = np.random.default_rng(3)
    col = advise(_target_frame(rng.uniform(5, 9, N)))["y"]
    assert col.method == "minmax" and col.feature_range == [0, 1]


@pytest.mark.parametrize(("act", "expected"), [("tanh", [-1, 1]), ("sigmoid", [0, 1])])
def test_bounded_activation_targets(act, expected):
    rng = np.random.default_rng(4)
    a = advise(_target_frame(rng.normal(100, 15, N)), output_activation=act)
    assert a["y"].method == "minmax" and a["y"].feature_range == expected
    assert a.plan["columns"]["y"]["feature_range"] == expected
    assert a.plan["output_activation"] == act


@pytest.mark.parametrize(
    ("task", "act"),
    [
        ("regression", "softmax"),
        ("binary", "tanh"),
        ("binary", "linear"),
        ("multiclass", "sigmoid"),
    ],
)
def test_inconsistent_task_activation(task, act):
    rng = np.random.default_rng(5)
    with pytest.raises(ParameterError, match="inconsistent"):
        advise(_target_frame(rng.integers(0, 2, 100)), task=task, output_activation=act)


def test_bad_parameters():
    df = _target_frame(np.arange(50.0))
    with pytest.raises(ParameterError):
        advise(df, task="ranking")
    with pytest.raises(ParameterError):
        advise(df, target="nope")
    with pytest.raises(ParameterError):
        advise(df, test_size=1.5)
    with pytest.raises(ParameterError):
        advise(df, time="nope")
    with pytest.raises(ParameterError, match="multiclass"):
        advise(_target_frame(np.arange(50) % 3), task="binary")
    with pytest.raises(ParameterError):
        advise(_target_frame(np.array(["a", "b"] * 25)), task="regression")


# --------------------------------------------------------------------------------------------
# display
# --------------------------------------------------------------------------------------------
def test_str_and_frame(advice, frame):
    text = str(advice)
    for name in frame.columns:
        assert name in text
    assert "standard" in text and "one-hot" in text
    table = advice.to_frame()
    assert list(table["column"]) == list(frame.columns)
    assert {"kind", "method", "skewness", "adf_p", "reason"} <= set(table.columns)
    assert isinstance(advice["normal"], ColumnAdvice)
    from rich.console import Console

    piped = Console(file=io.StringIO(), width=10_000, force_terminal=False, color_system=None)
    piped.print(advice)
    assert all(" ".join(c.reason.split()) in piped.file.getvalue() for c in advice.columns)
    for c in advice.columns:  # a terminal gets short reasons, cut after a whole word
        whole = short_reason(c.reason, limit=None)
        cut = short_reason(c.reason, limit=30)
        assert len(cut) <= 31 and whole.startswith(cut.rstrip("…"))
        assert cut == whole or whole[len(cut) - 1] in " ,;:"


def test_import_is_light():
    code = (
        "import sys, seqscale.advisor.api, seqscale.advisor.report; "
        "bad = [m for m in ('statsmodels', 'matplotlib') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------------------------
# plan files
# --------------------------------------------------------------------------------------------
def test_plan_format(advice):
    plan = advice.plan
    assert plan["format"] == "seqscale.plan" and plan["version"] == 1
    assert plan["target"] == ["y"] and plan["task"] == "regression"
    assert plan["time"] is None and plan["id"] is None
    assert plan["window"] == {"n_in": 24, "n_out": 1}
    assert plan["per_series"] is False and plan["series_features"] is False
    cols = plan["columns"]
    assert cols["letters"] == {
        "role": "categorical",
        "handle_unknown": "ignore",
        "reason": advice["letters"].reason,
    }
    assert cols["walk"]["difference"] == {"lag": 1, "order": 1}
    for entry in cols.values():
        assert entry["role"] in ("input", "target", "categorical", "ignore")
        if entry["role"] in ("input", "target"):
            assert {"log", "difference", "method", "bounds", "reason"} <= set(entry)
    json.dumps(plan, allow_nan=False)


def test_plan_round_trip(advice, tmp_path):
    path = advice.save_plan(tmp_path / "plan.json")
    assert load_plan(path) == advice.plan
    assert not list(tmp_path.glob(".*.tmp"))


def test_edited_plan_validates(advice, tmp_path):
    plan = copy.deepcopy(advice.plan)
    plan["columns"]["normal"]["method"] = "minmax"
    plan["columns"]["normal"]["bounds"] = [0, 100]
    plan["columns"]["uniform"]["method"] = "standard"
    plan["columns"]["uniform"]["bounds"] = {"mean": 50, "std": 28.9}
    plan["columns"]["letters"]["handle_unknown"] = "error"
    plan["columns"]["t2"] = {"role": "ignore", "reason": "edited"}
    plan["window"]["n_in"] = 48
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(plan, indent=2))
    loaded = load_plan(path)
    assert loaded["columns"]["normal"]["bounds"] == [0, 100]
    assert loaded == plan


def _mutate(plan, dotted, value):
    plan = copy.deepcopy(plan)
    *head, last = dotted.split(".")
    node = plan
    for key in head:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return plan


_DELETE = object()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("columns.normal.method", "zscore"),
        ("columns.normal.role", "feature"),
        ("columns.walk.difference", {"lag": -1, "order": 1}),
        ("columns.walk.difference", {"lag": True, "order": 1}),
        ("columns.walk.difference", {"lag": 1}),
        ("columns.uniform.bounds", [0, float("nan")]),
        ("columns.uniform.bounds", [5, 1]),
        ("columns.normal.bounds", [0, 1]),
        ("columns.normal.bounds", {"mean": 0, "std": 0}),
        ("columns.normal.log", "yes"),
        ("columns.normal.metod", "standard"),
        ("columns.letters.handle_unknown", "drop"),
        ("columns.y.role", "input"),
        ("columns.normal", ["input"]),
        ("format", "other"),
        ("version", 2),
        ("task", "ranking"),
        ("output_activation", "softmax"),
        ("window.n_in", 0),
        ("window", None),
        ("target", "y"),
        ("target", ["missing"]),
        ("columns", {}),
        ("per_series", True),
        ("columns.y.feature_range", [1, 0]),
        ("columns.y.method", _DELETE),
    ],
)
def test_malformed_plans_raise_file_error(advice, tmp_path, field, value):
    plan = _mutate(advice.plan, field, value)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(plan))
    with pytest.raises(CoefficientFileError) as info:
        load_plan(path)
    message = str(info.value)
    assert str(path) in message
    assert field.split(".")[0] in message


@pytest.mark.parametrize("text", ["", "[1, 2]", "null", '"plan"', "{", "\x00\x01", "[" * 5000])
def test_non_plans_raise_file_error(tmp_path, text):
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(CoefficientFileError, match=r"x\.json"):
        load_plan(path)


def test_missing_file_and_non_dict(tmp_path):
    with pytest.raises(CoefficientFileError, match=r"absent\.json: no such plan file"):
        load_plan(tmp_path / "absent.json")
    with pytest.raises(CoefficientFileError):
        validate_plan([1, 2, 3])
    with pytest.raises(CoefficientFileError):
        load_plan(tmp_path)  # a directory


def test_truncated_and_garbled_files_only_raise_file_error(advice, tmp_path):
    text = json.dumps(advice.plan, indent=1)
    path = tmp_path / "t.json"
    for cut in range(0, len(text), max(1, len(text) // 150)):
        path.write_text(text[:cut])
        with pytest.raises(CoefficientFileError):
            load_plan(path)
    rng = np.random.default_rng(0)
    junk = [None, True, -3, 0.5, "x", [], {}, [1, "a"], {"lag": 1}, float("inf")]
    paths = []

    def walk(node, prefix):
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append(f"{prefix}{key}")
                walk(value, f"{prefix}{key}.")

    walk(advice.plan, "")
    for dotted in paths:
        for _ in range(2):
            value = junk[rng.integers(len(junk))]
            try:
                validate_plan(_mutate(advice.plan, dotted, value))
            except CoefficientFileError:
                pass
