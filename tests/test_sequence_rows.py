"""Errors about rows of time-series data name the rows the caller gave, even after sorting.

Each message of ``seqscale.sequence`` that names rows is made by ``at_rows``: ``err.rows`` holds
0-based positions in the data given (mapped back through the pipeline's sort by id and time and
through the rows differencing drops), and the command line names the file's lines instead.
"""

from __future__ import annotations

import doctest
import json

import numpy as np
import pandas as pd
import pytest
from conftest import ok, run, user_error

import seqscale
from seqscale.cli.jobs import check_job
from seqscale.errors import InputError, LeakageError, SeqscaleError
from seqscale.frames.time_columns import TimeCellError
from seqscale.sequence import pipeline_steps as steps
from seqscale.sequence import rows as seq_rows
from seqscale.sequence.encode import OneHotEncoder
from seqscale.sequence.leakage import check_test_start
from seqscale.sequence.split import split_by_time
from seqscale.sequence.window import to_supervised

# caller row -> time step: the rows are given out of time order
SHUFFLE = np.array([5, 0, 9, 4, 7, 1, 11, 3, 10, 2, 6, 8])  # no step at its own row


def plan(x=None, q=None, per_series=False, id=None):
    """A plan with input ``x``, target ``y`` (differenced once) and optionally a categorical ``q``."""
    columns = {
        "x": {"role": "input", "log": False, "difference": None, "method": "standard", "bounds": None,
              **(x or {})},
        "y": {"role": "target", "log": False, "difference": {"lag": 1, "order": 1},
              "method": "minmax", "feature_range": [0, 1], "bounds": None},
    }  # fmt: skip
    if q is not None:
        columns["q"] = {"role": "categorical", **q}
    return {
        "format": "seqscale.plan", "version": 1, "time": "t", "id": id, "target": ["y"],
        "task": "regression", "output_activation": "linear", "window": {"n_in": 2, "n_out": 1},
        "per_series": per_series, "series_features": False, "columns": columns,
    }  # fmt: skip


def shuffled():
    """Twelve daily time steps given in the order of ``SHUFFLE``: row i holds step ``SHUFFLE[i]``."""
    n = len(SHUFFLE)
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "t": pd.date_range("2020-01-01", periods=n, freq="D"), "x": rng.normal(10, 2, n),
        "y": np.cumsum(rng.normal(size=n)) + 50, "q": np.tile(["a", "b"], n // 2),
    })  # fmt: skip
    return frame.iloc[SHUFFLE].reset_index(drop=True)


def row_of(frame, day, series=None):
    """The caller's row holding time step ``day`` (of ``series``, in a panel with column ``s``)."""
    here = (frame["t"] == pd.Timestamp("2020-01-01") + pd.Timedelta(days=day)).to_numpy()
    if series is not None:
        here = here & (frame["s"] == series).to_numpy()
    return int(np.flatnonzero(here)[0])


def raised(call, kind=SeqscaleError):
    with pytest.raises(kind) as info:
        call()
    return info.value


# ------------------------------------------------------------------------------ the mechanism
def test_renumber_names_the_given_positions():
    err = InputError.at_rows("a at {row}, b at {row}.", 0, 2)
    err.renumber(np.array([7, 8, 9]))
    assert err.rows == (7, 9) and str(err) == "a at row 7, b at row 9."
    assert err.naming_rows(lambda r: f"line {r + 2}") == "a at line 9, b at line 11."
    plain = InputError("no row named")
    plain.renumber([5])
    assert plain.rows == () and str(plain) == "no row named"
    cell = TimeCellError("t", 3, "x")  # names its row its own way: left as it is
    cell.renumber([9, 9, 9, 9])
    assert cell.rows == () and cell.row == 3


def test_caller_rows_nests_from_inner_rows_to_the_callers():
    sorted_to_caller, kept_to_sorted = np.array([3, 0, 2, 1]), np.array([1, 2, 3])
    with pytest.raises(InputError) as info:
        with seq_rows.caller_rows(sorted_to_caller), seq_rows.caller_rows(kept_to_sorted):
            raise InputError.at_rows("x at {row}", 1)
    assert info.value.rows == (2,) and str(info.value) == "x at row 2"  # kept 1 -> sorted 2 -> 2
    with pytest.raises(InputError) as info, seq_rows.caller_rows(None):
        raise InputError.at_rows("x at {row}", 2)
    assert info.value.rows == (2,)


def test_listed_rows_stay_short():
    assert seq_rows.listed(np.array([3])) == ("{row}", [3])
    template, rows = seq_rows.listed(np.arange(2, 40, 3))
    assert rows == [2, 5, 8, 11, 14, 17, 20, 23, 26, 29] and template.endswith("{row}, ...")
    assert template.count("{row}") == 10


def test_sorted_rows_are_sort_values_with_the_callers_positions():
    frame = pd.DataFrame({"id": ["b", "a", "b", "a", "a"], "t": [2, 3, 1, 1, 3], "v": range(5)})
    frame.index = [10, 11, 12, 13, 14]
    out, positions = steps.sorted_rows(frame, "t", "id")
    pd.testing.assert_frame_equal(out, frame.sort_values(["id", "t"], kind="stable"))
    assert positions.tolist() == [3, 1, 4, 2, 0]
    same, none = steps.sorted_rows(frame, None, None)
    assert same is frame and none is None


@pytest.mark.parametrize("module", [seqscale.errors, seq_rows, steps])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# ------------------------------------------------------------------------------ pipeline
def test_log_of_values_below_minus_one_names_the_callers_row():
    frame = shuffled()
    bad = [row_of(frame, 8), row_of(frame, 3)]  # time steps 8 and 3: step 3 comes first in time
    frame.loc[bad, "x"] = -2.0
    pipe = seqscale.SequencePipeline.from_plan(plan(x={"log": True}))
    err = raised(lambda: pipe.fit(frame), InputError)
    assert err.rows == (bad[1],) and f"values <= -1 (first at row {bad[1]})" in str(err)
    fitted = seqscale.SequencePipeline.from_plan(plan(x={"log": True})).fit(shuffled())
    for call in (fitted.transform, fitted.transform_frame, fitted.check):
        err = raised(lambda call=call: call(frame), InputError)
        assert err.rows == (bad[1],) and f"first at row {bad[1]}" in str(err)


def test_log_check_names_a_position_of_the_data_given():
    frame = pd.DataFrame({"x": [0.0, 1.0, -1.0, -5.0]}, index=[40, 30, 20, 10])
    err = raised(lambda: steps.levels(frame, "x", log=True), InputError)
    assert err.rows == (2,) and "first at row 2" in str(err)


def test_overflowing_difference_names_the_callers_row():
    frame = shuffled()
    frame.loc[row_of(frame, 6), "y"], frame.loc[row_of(frame, 7), "y"] = 1e308, -1e308
    pipe = seqscale.SequencePipeline.from_plan(plan()).fit(shuffled())
    err = raised(lambda: pipe.transform(frame), InputError)
    assert err.rows == (row_of(frame, 7),)  # the difference at step 7 overflows
    assert f"overflows float64 (first at row {row_of(frame, 7)});" in str(err)
    assert "sorted" not in str(err)


def test_overflow_in_a_panel_given_out_of_order_names_the_callers_row():
    one = shuffled()
    panel = pd.concat([one.assign(s="b"), one.assign(s="a")], ignore_index=True).iloc[::-1]
    panel = panel.reset_index(drop=True)  # series b's rows last, each series reversed in time
    pipe = seqscale.SequencePipeline.from_plan(plan(id="s", per_series=True)).fit(panel)
    at = [row_of(panel, 2, "b"), row_of(panel, 3, "b")]
    bad = panel.copy()
    bad.loc[at[0], "y"], bad.loc[at[1], "y"] = -1e308, 1e308
    err = raised(lambda: pipe.transform(bad), InputError)
    assert err.rows == (at[1],) and f"first at row {at[1]}" in str(err)


def test_unknown_category_names_the_callers_rows_after_sorting_and_differencing():
    pipe = seqscale.SequencePipeline.from_plan(plan(q={"handle_unknown": "error"})).fit(shuffled())
    frame = shuffled()
    new = [row_of(frame, d) for d in (9, 2, 5)]  # listed in time order: 2, 5, 9
    frame.loc[new, "q"] = "new"
    err = raised(lambda: pipe.transform(frame), InputError)
    expected = (new[1], new[2], new[0])
    assert err.rows == expected
    assert f"['new'] (row {expected[0]}, row {expected[1]}, row {expected[2]});" in str(err)


def test_infinite_values_through_the_pipeline_name_the_callers_row():
    frame = shuffled()
    frame.loc[row_of(frame, 6), "x"] = np.inf
    err = raised(lambda: seqscale.SequencePipeline.from_plan(plan()).fit(frame), InputError)
    assert err.rows == (row_of(frame, 6),) and f"first at row {row_of(frame, 6)}" in str(err)


def test_check_reports_the_callers_row_label():
    pipe = seqscale.SequencePipeline.from_plan(plan(x={"method": "minmax", "feature_range": [0, 1]}))
    pipe.fit(shuffled())
    later = shuffled().set_axis(range(100, 112), axis=0)
    later.loc[100 + row_of(later, 2), "x"] = 1e3
    later.loc[100 + row_of(later, 10), "x"] = 2e3
    report = pipe.check(later)
    assert report.loc["x", "first_row"] == 100 + row_of(later, 2)


def test_fit_into_the_test_period_names_the_callers_row():
    frame = shuffled()
    pipe = seqscale.SequencePipeline.from_plan(plan()).set_params(test_start=pd.Timestamp("2020-01-10"))
    err = raised(lambda: pipe.fit(frame), LeakageError)
    late = np.flatnonzero(frame["t"] >= pd.Timestamp("2020-01-10"))  # steps 9, 11, 10
    assert err.rows == (int(late[0]),) and f"3 row(s), first at row {late[0]}." in str(err)
    direct = raised(lambda: check_test_start(frame, 8, time=None), LeakageError)
    assert direct.rows == (8,) and "4 row(s), first at row 8." in str(direct)


# ------------------------------------------------------------------------------ encoder
def test_encoder_lists_at_most_ten_rows():
    col = np.array(["a"] * 30, dtype=object)
    col[3::2] = None
    err = raised(lambda: OneHotEncoder().fit(col), InputError)
    assert err.rows == tuple(range(3, 23, 2))
    assert "has 14 missing values (row 3, row 5, row 7, " in str(err) and "row 21, ...);" in str(err)
    enc = OneHotEncoder().fit(["a", "b"])
    err = raised(lambda: enc.transform(["a", "c", "b", "d"]), InputError)
    assert err.rows == (1, 3) and "['c', 'd'] (row 1, row 3);" in str(err)


# ------------------------------------------------------------------------------ split, window
def test_unsorted_time_names_both_rows():
    df = pd.DataFrame({"t": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-02"]), "v": [1, 2, 3]})
    err = raised(lambda: split_by_time(df, 1, time="t"), InputError)
    assert err.rows == (2, 1)
    assert "row 2 (2024-01-02 00:00:00) comes after row 1 (2024-01-03 00:00:00)" in str(err)


def test_unsorted_time_of_an_interleaved_panel_names_the_callers_rows():
    panel = pd.DataFrame({"id": ["a", "b", "b", "a", "b", "a"], "t": [1, 1, 2, 2, 5, 0]})
    err = raised(lambda: split_by_time(panel, 1, time="t", groups="id"), InputError)
    assert err.rows == (5, 3) and "row 5 (0) comes after row 3 (2)" in str(err)


@pytest.mark.parametrize("call", [
    lambda ids: split_by_time(np.zeros(len(ids)), 1, groups=ids),
    lambda ids: to_supervised(np.zeros(len(ids)), 2, groups=ids),
], ids=["split", "window"])  # fmt: skip
def test_missing_series_ids_are_listed(call):
    ids = np.array(["a", None, "b", None] + ["a"] * 8, dtype=object)
    err = raised(lambda: call(ids), InputError)
    assert err.rows == (1, 3) and "missing series ids at row 1, row 3; fill" in str(err)
    many = np.array([None, "a"] * 12, dtype=object)
    err = raised(lambda: call(many), InputError)
    assert err.rows == tuple(range(0, 20, 2)) and "at row 0, row 2, " in str(err)
    assert "row 18, ...; fill" in str(err)


# ------------------------------------------------------------------------------ the command line
def write_csv(path, frame, blank_after=None):
    """``frame`` as CSV (time as dates), with a blank line after data row ``blank_after``."""
    lines = frame.assign(t=frame["t"].dt.strftime("%Y-%m-%d")).to_csv(index=False).splitlines()
    if blank_after is not None:
        lines.insert(blank_after + 2, "")
    path.write_text("\n".join(lines) + "\n")


def test_cli_fit_names_the_file_line_of_a_value_below_minus_one(tmp_path):
    frame = shuffled().drop(columns="q")
    frame.loc[row_of(frame, 4), "x"] = -3.0
    write_csv(tmp_path / "d.csv", frame, blank_after=0)
    (tmp_path / "plan.json").write_text(json.dumps(plan(x={"log": True})))
    line = row_of(frame, 4) + 3  # the header, then the blank line after the first row
    result = run("fit", tmp_path / "d.csv", "--plan", tmp_path / "plan.json", "-o", tmp_path / "p.json")
    user_error(result, f"d.csv: column 'x' has values <= -1 (first at line {line});", "'log': false")


def test_cli_transform_names_the_file_lines_of_rows_the_pipeline_sorted(tmp_path):
    (tmp_path / "plan.json").write_text(json.dumps(plan(q={"handle_unknown": "error"})))
    write_csv(tmp_path / "train.csv", shuffled())
    ok(run("fit", tmp_path / "train.csv", "--plan", tmp_path / "plan.json", "-o", tmp_path / "p.json"))
    frame = shuffled()
    new = [row_of(frame, d) for d in (9, 2)]
    frame.loc[new, "q"] = "new"
    write_csv(tmp_path / "later.csv", frame)
    result = run("transform", tmp_path / "later.csv", "-c", tmp_path / "p.json", "-o", tmp_path / "s.csv")
    lines = (new[1] + 2, new[0] + 2)  # time order: step 2 first
    user_error(result, f"later.csv: column 'q' has values not seen at fit time: ['new'] "
               f"(line {lines[0]}, line {lines[1]});")  # fmt: skip
    frame = shuffled()
    frame.loc[row_of(frame, 7), "y"], frame.loc[row_of(frame, 8), "y"] = -1e308, 1e308
    write_csv(tmp_path / "huge.csv", frame)
    result = run("transform", tmp_path / "huge.csv", "-c", tmp_path / "p.json", "-o", tmp_path / "s.csv")
    user_error(result, f"overflows float64 (first at line {row_of(frame, 8) + 2});")


def test_cli_check_names_the_file_line_of_the_first_value_outside(tmp_path):
    (tmp_path / "plan.json").write_text(json.dumps(plan()))
    write_csv(tmp_path / "train.csv", shuffled())
    ok(run("fit", tmp_path / "train.csv", "--plan", tmp_path / "plan.json", "-o", tmp_path / "p.json"))
    frame = shuffled()
    frame.loc[row_of(frame, 3), "x"] = 1e3
    frame.loc[row_of(frame, 10), "x"] = 2e3
    write_csv(tmp_path / "later.csv", frame)
    report, fine = check_job(tmp_path / "later.csv", tmp_path / "p.json")
    assert not fine and report.loc["x", "first_row"] == f"line {row_of(frame, 3) + 2}"


# ------------------------------------------------------------------------------ lab and advice
def test_drift_table_names_the_rows_of_the_frame_given():
    from seqscale.lab.demo import drift_table

    fitted = seqscale.SequencePipeline.from_plan(plan(x={"log": True})).fit(shuffled())
    test = shuffled()
    bad = row_of(test, 6)
    test.loc[bad, "x"] = -3.0
    err = raised(lambda: drift_table(fitted, shuffled(), test), InputError)
    assert err.rows == (bad,) and f"first at row {bad}" in str(err)
