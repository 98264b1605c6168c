"""Messages naming rows stay intact whatever text the user's data holds ("{row}", braces)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import run, user_error

import seqscale
from seqscale.errors import InputError, SeqscaleError
from seqscale.lab.compare_rows import order_rows

TRICKY = ["{row}", "{x}", "{row} and {row}", "{", "}{row"]


def raised(call, kind=SeqscaleError) -> SeqscaleError:
    with pytest.raises(kind) as info:
        call()
    return info.value


def one_line(err: SeqscaleError) -> str:
    text = str(err)
    assert "\n" not in text
    return text


# ------------------------------------------------------------------------------ the mechanism
@pytest.mark.parametrize("text", TRICKY)
def test_values_are_inserted_as_they_are(text):
    err = InputError.at_rows("column {name!r} is empty at {row}; see {name}.", 3, name=text)
    assert err.rows == (3,)
    assert str(err) == f"column {text!r} is empty at row 3; see {text}."
    assert err.naming_rows(lambda r: f"line {r + 2}") == f"column {text!r} is empty at line 5; see {text}."
    err.renumber([0, 0, 0, 9])
    assert err.rows == (9,) and str(err) == f"column {text!r} is empty at row 9; see {text}."


def test_braces_that_name_no_value_are_kept():
    err = InputError.at_rows("a {row} of {'x'} and {other}", 1, name="n")
    assert str(err) == "a row 1 of {'x'} and {other}"


def test_a_template_naming_too_few_rows_is_a_bug_of_the_caller():
    with pytest.raises(ValueError, match="names 1 rows, not 2"):
        InputError.at_rows("at {row}", 1, 2)


@pytest.mark.parametrize("text", TRICKY)
def test_prefixed_keeps_the_rows(text):
    err = InputError.at_rows("value {v!r} at {row}.", 2, v=text).prefixed(f"variant {text!r}: ")
    assert type(err) is InputError and err.rows == (2,)
    assert str(err) == f"variant {text!r}: value {text!r} at row 2."
    err.renumber([5, 6, 7])
    assert str(err) == f"variant {text!r}: value {text!r} at row 7." and err.rows == (7,)
    plain = InputError("no row").prefixed(f"{text}: ")
    assert str(plain) == f"{text}: no row" and plain.rows == ()


# ------------------------------------------------------------------------------ library errors
@pytest.mark.parametrize("text", TRICKY)
def test_a_category_value_holding_row_text(text):
    enc = seqscale.OneHotEncoder().fit(np.array([["a"], ["b"]], dtype=object))
    err = raised(lambda: enc.transform(np.array([["a"], [text], ["b"], [text]], dtype=object)), InputError)
    assert err.rows == (1, 3)
    assert "(row 1, row 3)" in one_line(err) and repr(text) in str(err)


@pytest.mark.parametrize("text", TRICKY)
def test_a_column_name_holding_row_text(text):
    frame = pd.DataFrame({text: ["a", None, "b"]})
    err = raised(lambda: seqscale.OneHotEncoder().fit(frame), InputError)
    assert err.rows == (1,)
    assert one_line(err).startswith(f"column {text!r} has 1 missing values (row 1);")
    values = pd.DataFrame({"ok": [1.0, 2.0, 3.0], text: [1.0, 2.0, np.inf]})
    err = raised(lambda: seqscale.MinMaxScaler().fit(values), InputError)
    assert err.rows == (2,)
    assert f"feature {text!r} holds an infinite value (first at row 2)" in one_line(err)


@pytest.mark.parametrize("text", TRICKY)
def test_a_series_id_holding_row_text(text):
    frame = pd.DataFrame({"sid": ["b", text, "b", text], "t": [1, 2, 2, 2], "y": [1.0, 2.0, 3.0, 4.0]})
    err = raised(lambda: order_rows(frame, "t", "sid"), InputError)
    assert err.rows == (1, 3)
    assert one_line(err) == (
        f"series {text!r} has more than one row at t=2 (row 1 and row 3); keep one row per series and time."
    )


# ------------------------------------------------------------------------------ command line
@pytest.mark.parametrize("text", ["{row}", "{x}"])
def test_a_csv_cell_holding_row_text(tmp_path, text):
    lines = ["2020-01-01,a,1", f"2020-01-02,{text},2", "2020-01-03,a,3", f"2020-01-02,{text},4"]
    (tmp_path / "d.csv").write_text("\n".join(["date,sid,y", *lines]) + "\n")
    result = run("compare", tmp_path / "d.csv", "--target", "y", "--time", "date", "--id", "sid")
    user_error(result, f"d.csv: series {text!r} has more than one row", "(line 3 and line 5)")
