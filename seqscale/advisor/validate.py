"""The validated choice of :func:`seqscale.advisor.api.advise`: candidate plans scored by a small LSTM.

Rules give reasons; evidence decides. Within the *training* period only, the rows are split in
time order into a fit part and a later validation part (the last ``validation`` share of every
series). For each candidate plan the same small LSTM (:mod:`seqscale.advisor.lstm`: 32 units, seeded,
early stopping on the end of the fit windows) is trained on the fit part and forecasts the
validation part one step ahead; the forecasts go back to original units and are scored by RMSE.
The budget is smaller than :mod:`seqscale.lab.compare.compare`'s (the latest :data:`MAX_WINDOWS` windows,
:data:`EPOCHS` epochs, batches of :data:`BATCH`, :data:`SEEDS` seed) so that a few thousand rows
take seconds of CPU per candidate.

Candidates: the rules' plan; min-max and standardization of the levels (no log, no difference:
the plans without differencing); the rules' plan with every numeric column differenced, with a
seasonal difference (when a season was found), and without its ``log1p`` (when it takes one).
(The rules' plan with its differences removed is not a candidate: its methods were chosen for
differenced values; a method of ``none`` would feed raw levels to the network.) Identical
plans are scored once. The rules' plan is kept unless another candidate's RMSE is lower by more
than :data:`MARGIN` (a relative margin against seed noise) *and* the gain is significant on the
validation points (one-sided Diebold-Mariano test on the paired squared errors, p below
:data:`SIGNIFICANCE`): the rules stay the default and need evidence to be overruled; a few dozen
validation points (a short panel) rarely are that evidence.

torch is imported only when the scoring runs.
"""

from __future__ import annotations

import copy
import json
import math
import time as _time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from seqscale.advisor import lstm as _lstm
from seqscale.errors import InputError
from seqscale.sequence.pipeline import SequencePipeline
from seqscale.sequence.split import split_by_time

__all__ = [
    "MARGIN",
    "SIGNIFICANCE",
    "Validation",
    "candidate_plans",
    "diebold_mariano",
    "validate_plans",
]

#: Another plan replaces the rules' plan only when its validation RMSE is lower by this share ...
MARGIN = 0.05
#: ... and significantly so: one-sided Diebold-Mariano p-value on the validation points below this.
SIGNIFICANCE = 0.05
#: Training windows kept per candidate (the latest ones): bounds the time per fit.
MAX_WINDOWS = 1500
EPOCHS, PATIENCE, SEEDS, BATCH = 20, 5, 1, 64

_SCALED_ROLES = ("input", "target")


# ------------------------------------------------------------------------------------------------
# Candidates
# ------------------------------------------------------------------------------------------------
def _numeric(plan: dict) -> list[str]:
    """Columns the scaling applies to (inputs and regression targets)."""
    return [n for n, s in plan["columns"].items() if s.get("role") in _SCALED_ROLES and not s.get("encode")]


def _edit(plan: dict, reason: str, **changes: Any) -> dict:
    """A copy of ``plan`` with ``changes`` applied to every scaled column."""
    out = copy.deepcopy(plan)
    for name in _numeric(out):
        entry = out["columns"][name]
        entry.update(changes)
        if entry.get("method") == "minmax":
            entry.setdefault("feature_range", [0, 1])
        elif "feature_range" in entry and entry.get("method") != "minmax":
            entry.pop("feature_range")
        entry["reason"] = reason
    return out


def _rules_with(plan: dict, reason: str, key: str, value: Any, only: list[str] | None = None) -> dict:
    """The rules' plan with one step (``log`` or ``difference``) set for every scaled column
    (or the ``only`` ones)."""
    out = copy.deepcopy(plan)
    for name in only if only is not None else _numeric(out):
        out["columns"][name][key] = copy.deepcopy(value)
        out["columns"][name]["reason"] = f"{reason}; rules: {out['columns'][name]['reason']}"
    return out


def candidate_plans(
    plan: dict, period: int | None = None, skewed: list[str] | None = None
) -> dict[str, dict]:
    """The candidate plans for ``plan`` (the rules' plan), by name, duplicates removed.

    ``skewed``: scaled columns that are positive and right-skewed but not logged by the rules
    (skewness between 0.5 and the log rule's 1): the rules' plan with ``log1p`` on them is a
    candidate too.

    Examples
    --------
    >>> plan = {"columns": {"y": {"role": "target", "log": False, "difference": None,
    ...         "method": "standard", "bounds": None, "reason": "rules"}}}
    >>> list(candidate_plans(plan, period=12, skewed=["y"]))
    ['rules', 'minmax', 'differenced', 'seasonal difference (12)', 'rules with log']
    """
    uses_log = any(plan["columns"][n].get("log") for n in _numeric(plan))
    levels = {"log": False, "difference": None}
    out = {
        "rules": plan,
        "minmax": _edit(plan, "candidate: minmax levels", **levels, method="minmax"),
        "standard": _edit(plan, "candidate: standardized levels", **levels, method="standard"),
    }
    out["differenced"] = _rules_with(plan, "candidate: differenced", "difference", {"lag": 1, "order": 1})
    if period:
        lag = {"lag": int(period), "order": 1}
        out[f"seasonal difference ({period})"] = _rules_with(
            plan, "candidate: seasonal difference", "difference", lag
        )
    if uses_log:
        out["rules without log"] = _rules_with(plan, "candidate: no log1p", "log", False)
    logged = [n for n in (skewed or []) if n in _numeric(plan) and not plan["columns"][n].get("log")]
    if logged:
        out["rules with log"] = _rules_with(
            plan, "candidate: log1p of the skewed columns", "log", True, only=logged
        )
    return _unique(out)


def _signature(plan: dict) -> str:
    cols = {n: {k: v for k, v in s.items() if k != "reason"} for n, s in plan["columns"].items()}
    return json.dumps(cols, sort_keys=True, default=str)


def _unique(plans: dict[str, dict]) -> dict[str, dict]:
    seen: set[str] = set()
    out = {}
    for name, plan in plans.items():
        key = _signature(plan)
        if key not in seen:
            seen.add(key)
            out[name] = plan
    return out


# ------------------------------------------------------------------------------------------------
# Scoring
# ------------------------------------------------------------------------------------------------
@dataclass
class Validation:
    """Validation scores of the candidate plans and the one chosen.

    Attributes
    ----------
    table : DataFrame, one row per candidate: ``candidate``, ``rmse`` (mean over seeds, original
        units of the target), ``rmse_std`` (over seeds; NaN for one seed), ``vs_rules`` (RMSE /
        the rules' RMSE), ``chosen``.
    chosen : name of the recommended candidate.
    plans : the candidate plans by name.
    settings : rows in the fit and validation parts, windows, seeds, epochs, seconds (wall and CPU).
    """

    table: pd.DataFrame
    chosen: str
    plans: dict[str, dict] = field(repr=False)
    settings: dict = field(default_factory=dict)

    @property
    def plan(self) -> dict:
        """The chosen plan."""
        return self.plans[self.chosen]

    def summary(self) -> str:
        """One sentence: what was chosen and by how much it beat the rules' plan."""
        t = self.table.set_index("candidate")
        best, rules = t.loc[self.chosen, "rmse"], t.loc["rules", "rmse"]
        fit, val = self.settings["n_fit"], self.settings["n_validation"]
        if self.chosen == "rules":
            return (
                f"validated on the last {val:,} of {fit + val:,} training rows: the rules' plan is kept "
                f"(RMSE {rules:.4g}; no candidate lower by more than {MARGIN:.0%} with a Diebold-Mariano "
                f"p-value below {SIGNIFICANCE})"
            )
        return (
            f"validated on the last {val:,} of {fit + val:,} training rows: '{self.chosen}' chosen, "
            f"RMSE {best:.4g} vs {rules:.4g} for the rules' plan ({best / rules:.2f} times, Diebold-Mariano "
            f"p={t.loc[self.chosen, 'p_vs_rules']:.2g})"
        )


def _split(frame: pd.DataFrame, share: float, time: str | None, id: str | None) -> tuple:
    return split_by_time(frame, share, time=time, groups=id)


def _history(fit: pd.DataFrame, rows: int, time: str | None, id: str | None) -> pd.DataFrame:
    """The last ``rows`` rows of every series of the fit part (context for the first forecast)."""
    if id is None:
        return fit.iloc[max(0, len(fit) - rows) :]
    ordered = fit.sort_values([id, time]) if time is not None else fit
    return ordered.groupby(id, sort=False).tail(rows)


def _data(plan: dict, fit: pd.DataFrame, val: pd.DataFrame, cutoff: Any, n_in: int) -> tuple:
    """Fitted pipeline, training windows and the validation frame (with its history)."""
    pipe = SequencePipeline.from_plan(plan, n_in=n_in, n_out=1, test_start=cutoff).fit(fit)
    X, y = pipe.transform(fit)
    frame = pd.concat([_history(fit, n_in + pipe.span_, plan["time"], plan["id"]), val])
    return pipe, X[-MAX_WINDOWS:], y[-MAX_WINDOWS:], frame


def _truth(
    frame: pd.DataFrame, back: pd.DataFrame, target: str, time: str | None, id: str | None
) -> np.ndarray:
    """The true target at each forecast's time (and series), aligned with ``back``."""
    if time is None and id is None:
        return frame[target].to_numpy(dtype=np.float64)[-len(back) :]
    keys = [k for k in (id, time) if k is not None]
    flat = back.reset_index()
    wanted = pd.MultiIndex.from_frame(flat[keys]) if len(keys) > 1 else pd.Index(flat[keys[0]])
    return frame.set_index(keys)[target].reindex(wanted).to_numpy(dtype=np.float64)


def _score(plan: dict, parts: tuple, target: str, n_in: int, seeds: int) -> tuple[list[float], pd.Series]:
    """RMSE (original units) of the validation forecasts, one per seed, and the squared error
    of each validation point (mean over seeds), indexed by series and time (or position)."""
    fit, val, cutoff = parts
    pipe, X, y, frame = _data(plan, fit, val, cutoff, n_in)
    X_val, _ = pipe.transform(frame)
    truth, out, squared = None, [], []
    for seed in range(seeds):
        model = _lstm.train_lstm(X, y, seed=seed, epochs=EPOCHS, patience=PATIENCE, batch_size=BATCH).model
        back = pipe.inverse_target(_lstm.predict(model, X_val), frame=frame)
        if truth is None:
            truth = _truth(frame, back, target, plan["time"], plan["id"])
        err = back[target].to_numpy(dtype=np.float64) - truth
        out.append(float(np.sqrt(np.nanmean(err**2))))
        squared.append(err**2)
    keys = [k for k in (plan["id"], plan["time"]) if k is not None]
    index = pd.MultiIndex.from_frame(back.reset_index()[keys]) if keys else pd.RangeIndex(len(back))
    return out, pd.Series(np.mean(squared, axis=0), index=index)


def _row(name: str, plan: dict, parts: tuple, target: str, n_in: int, seeds: int) -> tuple[dict, pd.Series]:
    """One line of the validation table and the squared errors; a plan the fit part is too
    short for scores NaN."""
    try:
        scores, squared = _score(plan, parts, target, n_in, seeds)
    except InputError:
        scores, squared = [math.nan], pd.Series(dtype=np.float64)
    spread = float(np.std(scores, ddof=1)) if len(scores) > 1 else math.nan  # undefined for one seed
    return {"candidate": name, "rmse": float(np.mean(scores)), "rmse_std": spread}, squared


def diebold_mariano(rules: pd.Series, other: pd.Series) -> float:
    """One-sided p-value that ``other``'s squared errors are lower than ``rules``' on the same
    points (Diebold-Mariano test for one-step forecasts: the mean loss difference over its
    standard error, normal approximation). NaN when fewer than 3 common points.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.Series([4.0, 5, 6, 5, 4, 6]); b = pd.Series([1.0, 1, 2, 1, 2, 1])
    >>> diebold_mariano(a, b) < 0.01, diebold_mariano(b, a) > 0.99
    (True, True)
    """
    from scipy import stats as sps

    both = pd.concat([rules, other], axis=1, join="inner").dropna()
    if len(both) < 3:
        return math.nan
    d = both.iloc[:, 0].to_numpy() - both.iloc[:, 1].to_numpy()
    sd = float(np.std(d, ddof=1))
    if not sd > 0:
        return 0.0 if d.mean() > 0 else 1.0
    return float(sps.norm.sf(d.mean() / (sd / math.sqrt(len(d)))))


def _choose(table: pd.DataFrame) -> str:
    """The rules' plan unless a candidate's RMSE is lower by more than :data:`MARGIN` *and*
    significantly so (Diebold-Mariano p below :data:`SIGNIFICANCE`); the lowest such RMSE wins."""
    rules = float(table.loc[table["candidate"] == "rules", "rmse"].iloc[0])
    if not math.isfinite(rules):
        finite = table[np.isfinite(table["rmse"])]
        return str(finite.loc[finite["rmse"].idxmin(), "candidate"]) if len(finite) else "rules"
    p = table["p_vs_rules"] if "p_vs_rules" in table else pd.Series(0.0, index=table.index)
    better = table[(table["rmse"] < (1 - MARGIN) * rules) & (p < SIGNIFICANCE)]
    return "rules" if better.empty else str(better.loc[better["rmse"].idxmin(), "candidate"])


def validate_plans(
    train: pd.DataFrame, plans: dict[str, dict], target: str, *, share: float, n_in: int, seeds: int = SEEDS
) -> Validation:
    """Score ``plans`` on the last ``share`` of ``train`` (time order, per series) and choose.

    ``train`` must hold the training period only: nothing after it is read.
    """
    started, cpu = _time.perf_counter(), _time.process_time()
    first = next(iter(plans.values()))
    fit, val, cutoff = _split(train, share, first["time"], first["id"])
    scored = {name: _row(name, plan, (fit, val, cutoff), target, n_in, seeds) for name, plan in plans.items()}
    table = pd.DataFrame([row for row, _ in scored.values()])
    table["vs_rules"] = table["rmse"] / float(table.loc[table["candidate"] == "rules", "rmse"].iloc[0])
    rules_errors = scored["rules"][1]
    table["p_vs_rules"] = [
        math.nan if name == "rules" else diebold_mariano(rules_errors, errors)
        for name, (_, errors) in scored.items()
    ]
    chosen = _choose(table)
    table["chosen"] = table["candidate"] == chosen
    settings = {"n_fit": len(fit), "n_validation": len(val), "n_in": int(n_in), "seeds": int(seeds),
                "epochs": EPOCHS, "patience": PATIENCE, "batch_size": BATCH, "max_windows": MAX_WINDOWS,
                "margin": MARGIN, "significance": SIGNIFICANCE,
                "seconds": _time.perf_counter() - started,
                "cpu_seconds": _time.process_time() - cpu}  # fmt: skip
    return Validation(table, chosen, plans, settings)
