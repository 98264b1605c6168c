"""The validated choice of :func:`seqscale.advise.advise`: candidate plans scored by a small LSTM.

Rules give reasons; evidence decides. Within the *training* period only, the rows are split in
time order into a fit part and a later validation part (the last ``validation`` share of every
series). For each candidate plan the same small LSTM (:mod:`seqscale.advise.lstm`: 32 units, seeded,
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
than :data:`MARGIN` (a relative margin against seed noise): the rules stay the default and need
evidence to be overruled.

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

from seqscale.advise import lstm as _lstm
from seqscale.errors import InputError
from seqscale.sequence.pipeline import SequencePipeline
from seqscale.sequence.split import split_by_time

__all__ = ["MARGIN", "Validation", "candidate_plans", "validate_plans"]

#: Another plan replaces the rules' plan only when its validation RMSE is lower by this share.
MARGIN = 0.05
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


def _rules_with(plan: dict, reason: str, key: str, value: Any) -> dict:
    """The rules' plan with one step (``log`` or ``difference``) set for every scaled column."""
    out = copy.deepcopy(plan)
    for name in _numeric(out):
        out["columns"][name][key] = copy.deepcopy(value)
        out["columns"][name]["reason"] = f"{reason}; rules: {out['columns'][name]['reason']}"
    return out


def candidate_plans(plan: dict, period: int | None = None) -> dict[str, dict]:
    """The candidate plans for ``plan`` (the rules' plan), by name, duplicates removed.

    Examples
    --------
    >>> plan = {"columns": {"y": {"role": "target", "log": False, "difference": None,
    ...         "method": "standard", "bounds": None, "reason": "rules"}}}
    >>> list(candidate_plans(plan, period=12))
    ['rules', 'minmax', 'differenced', 'seasonal difference (12)']
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
    settings : rows in the fit and validation parts, windows, seeds, epochs, seconds.
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
                f"(RMSE {rules:.4g}; no candidate lower by more than {MARGIN:.0%})"
            )
        return (
            f"validated on the last {val:,} of {fit + val:,} training rows: '{self.chosen}' chosen, "
            f"RMSE {best:.4g} vs {rules:.4g} for the rules' plan ({best / rules:.2f} times)"
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


def _score(plan: dict, parts: tuple, target: str, n_in: int, seeds: int) -> list[float]:
    """RMSE (original units) of the validation forecasts, one per seed."""
    fit, val, cutoff = parts
    pipe, X, y, frame = _data(plan, fit, val, cutoff, n_in)
    X_val, _ = pipe.transform(frame)
    truth, out = None, []
    for seed in range(seeds):
        model = _lstm.train_lstm(X, y, seed=seed, epochs=EPOCHS, patience=PATIENCE, batch_size=BATCH).model
        back = pipe.inverse_target(_lstm.predict(model, X_val), frame=frame)
        if truth is None:
            truth = _truth(frame, back, target, plan["time"], plan["id"])
        err = back[target].to_numpy(dtype=np.float64) - truth
        out.append(float(np.sqrt(np.nanmean(err**2))))
    return out


def _row(name: str, plan: dict, parts: tuple, target: str, n_in: int, seeds: int) -> dict:
    """One line of the validation table; a plan the fit part is too short for scores NaN."""
    try:
        scores = _score(plan, parts, target, n_in, seeds)
    except InputError:
        scores = [math.nan]
    spread = float(np.std(scores, ddof=1)) if len(scores) > 1 else math.nan  # undefined for one seed
    return {"candidate": name, "rmse": float(np.mean(scores)), "rmse_std": spread}


def _choose(table: pd.DataFrame) -> str:
    """The rules' plan unless a candidate's RMSE is lower by more than :data:`MARGIN`."""
    rules = float(table.loc[table["candidate"] == "rules", "rmse"].iloc[0])
    best = table.loc[table["rmse"].idxmin()]
    ok = math.isfinite(rules) and not best["rmse"] < (1 - MARGIN) * rules
    return "rules" if ok else str(best["candidate"])


def validate_plans(
    train: pd.DataFrame, plans: dict[str, dict], target: str, *, share: float, n_in: int, seeds: int = SEEDS
) -> Validation:
    """Score ``plans`` on the last ``share`` of ``train`` (time order, per series) and choose.

    ``train`` must hold the training period only: nothing after it is read.
    """
    started = _time.perf_counter()
    first = next(iter(plans.values()))
    fit, val, cutoff = _split(train, share, first["time"], first["id"])
    rows = [_row(name, plan, (fit, val, cutoff), target, n_in, seeds) for name, plan in plans.items()]
    table = pd.DataFrame(rows)
    table["vs_rules"] = table["rmse"] / float(table.loc[table["candidate"] == "rules", "rmse"].iloc[0])
    chosen = _choose(table)
    table["chosen"] = table["candidate"] == chosen
    settings = {"n_fit": len(fit), "n_validation": len(val), "n_in": int(n_in), "seeds": int(seeds),
                "epochs": EPOCHS, "patience": PATIENCE, "batch_size": BATCH, "max_windows": MAX_WINDOWS,
                "margin": MARGIN,
                "seconds": _time.perf_counter() - started}  # fmt: skip
    return Validation(table, chosen, plans, settings)
