"""The validated choice: candidates, the margin rule, and that the test period is never read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqscale.advisor.api import advise
from seqscale.advisor.validate import MARGIN, _choose, candidate_plans, diebold_mariano

pytest.importorskip("torch")


def _frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    t = np.arange(n)
    y = 50 + np.cumsum(rng.normal(0.2, 1, n)) + 5 * np.sin(2 * np.pi * t / 12)
    return pd.DataFrame(
        {"date": pd.date_range("2000-01-01", periods=n, freq="MS"), "x": rng.normal(10, 2, n), "y": y}
    )


@pytest.fixture(scope="module")
def validated():
    return advise(_frame(), target="y", time="date", validate=True)


def test_candidates_are_scored_and_reported(validated):
    table = validated.validation.table
    assert {"rules", "minmax", "standard"} <= set(table["candidate"])
    assert np.isfinite(table["rmse"]).all() and (table["rmse"] > 0).all()
    assert table["chosen"].sum() == 1
    assert table.loc[table["candidate"] == "rules", "vs_rules"].item() == 1.0
    others = table[table["candidate"] != "rules"]["p_vs_rules"]
    assert ((others >= 0) & (others <= 1)).all()
    chosen = validated.validation.chosen
    assert (
        validated.plan["columns"]["y"] == validated.validation.plans[chosen]["columns"]["y"]
        or chosen != "rules"
    )
    assert validated.settings["validated"] is True
    text = str(validated)
    assert "validated choice" in text and "vs rules" in text and validated.validation.summary()[:30] in text


def test_only_training_rows_are_read(validated):
    frame = _frame()
    n_test = int(np.ceil(0.2 * len(frame)))
    changed = frame.copy()
    changed.loc[changed.index[-n_test:], ["x", "y"]] = [[1e6, -1e6]] * n_test
    again = advise(changed, target="y", time="date", validate=True)
    pd.testing.assert_frame_equal(again.validation.table, validated.validation.table)
    assert again.plan == validated.plan
    assert again.n_rows == len(frame) - n_test


def test_rows_in_any_order_give_the_same_validated_choice(validated):
    """The training rows are read in time order whatever order the frame's rows come in."""
    shuffled = _frame().sample(frac=1.0, random_state=3).reset_index(drop=True)
    again = advise(shuffled, target="y", time="date", validate=True)
    pd.testing.assert_frame_equal(again.validation.table, validated.validation.table)
    assert again.plan == validated.plan and again.n_rows == validated.n_rows


def test_report_shows_the_scores(validated, tmp_path):
    path = validated.report(tmp_path / "report.html")
    page = path.read_text(encoding="utf-8")
    assert "Validated choice" in page and "validation RMSE" in page
    best = validated.validation.table.query("chosen")["rmse"].item()
    assert f"{best:.4g}" in page


def test_margin_keeps_the_rules_unless_clearly_and_significantly_beaten():
    def table(rules: float, other: float, p: float = 0.001) -> pd.DataFrame:
        rows = {"candidate": ["rules", "minmax"], "rmse": [rules, other], "p_vs_rules": [np.nan, p]}
        return pd.DataFrame(rows)

    assert _choose(table(1.0, 1.0 - MARGIN / 2)) == "rules"
    assert _choose(table(1.0, 1.0 - 2 * MARGIN)) == "minmax"
    assert _choose(table(1.0, 0.8, p=0.27)) == "rules"  # 20 % lower, but within the noise
    assert _choose(table(np.nan, 3.0)) == "minmax"


def test_diebold_mariano_on_paired_errors():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=400)
    good, bad = truth + rng.normal(0, 1.0, 400), truth + rng.normal(0, 1.3, 400)
    se_good, se_bad = pd.Series((good - truth) ** 2), pd.Series((bad - truth) ** 2)
    assert diebold_mariano(se_bad, se_good) < 0.001  # "good" beats the rules' "bad"
    assert diebold_mariano(se_good, se_bad) > 0.999
    shuffled = se_good.sample(frac=1, random_state=1).set_axis(se_good.index)
    assert 0.05 < diebold_mariano(se_good, shuffled) < 0.95
    assert np.isnan(diebold_mariano(se_good.iloc[:2], se_bad.iloc[:2]))


def test_candidates_deduplicated_and_seasonal():
    plan = {
        "columns": {
            "y": {
                "role": "target",
                "log": True,
                "difference": {"lag": 1, "order": 1},
                "method": "standard",
                "reason": "r",
            },
            "q": {"role": "categorical", "reason": "code"},
        }
    }
    plans = candidate_plans(plan, period=4)
    assert list(plans) == [
        "rules", "minmax", "standard", "seasonal difference (4)", "rules without log",
    ]  # fmt: skip
    assert plans["seasonal difference (4)"]["columns"]["y"]["difference"] == {"lag": 4, "order": 1}
    assert plans["minmax"]["columns"]["y"]["feature_range"] == [0, 1]
    assert all(p["columns"]["q"] == {"role": "categorical", "reason": "code"} for p in plans.values())


def test_log_candidate_for_positive_skewed_columns_the_rules_did_not_log():
    entry = {"role": "input", "log": False, "difference": None, "method": "minmax", "reason": "r"}
    plan = {"columns": {"x": dict(entry), "z": dict(entry), "y": {**entry, "role": "target"}}}
    plans = candidate_plans(plan, skewed=["x"])
    logged = plans["rules with log"]["columns"]
    assert logged["x"]["log"] is True and logged["z"]["log"] is False and logged["y"]["log"] is False
    assert "rules with log" not in candidate_plans(plan)


def test_validate_needs_one_regression_target():
    from seqscale.errors import ParameterError

    frame = _frame(60).assign(z=1.0)
    with pytest.raises(ParameterError, match="one target"):
        advise(frame, target=["y", "x"], validate=True)


def test_cli_validate_prints_scores_and_writes_the_chosen_plan(tmp_path):
    from typer.testing import CliRunner

    from seqscale.advisor.api import load_plan
    from seqscale.cli.app import app

    data, plan = tmp_path / "data.csv", tmp_path / "plan.json"
    _frame(120).assign(step=np.arange(120)).drop(columns="date").to_csv(data, index=False)
    args = ["advise", str(data), "--target", "y", "--time", "step", "--validate", "--plan", str(plan)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "validated choice" in result.output and "vs rules" in result.output
    assert "training rows" in result.output
    written = load_plan(plan)
    assert written["columns"]["y"]["role"] == "target"
    kept = "rules' plan is kept" in " ".join(result.output.split())
    assert kept != written["columns"]["y"]["reason"].startswith("validated on")
