"""The ``seqscale`` command end to end (typer's CliRunner) on small CSV and Parquet files.

User mistakes: exit code 2, one line on stderr starting with "seqscale: error:" that names the
file / column / row, no traceback, and no output file (nor temporary file) left behind.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import files, ok, run, user_error

import seqscale
from seqscale.files import io as sio


def make_data(n=100):
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "date": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "sid": np.repeat(["a", "b"], n // 2),
        "x": rng.normal(10, 2, n), "y": np.cumsum(rng.normal(size=n)) + 50, "z": rng.uniform(0, 1, n) / 3,
    })  # fmt: skip


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "data.csv"
    sio.write_table(make_data(), path)
    return path


def ulps(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.abs(a - b) / np.spacing(np.maximum(np.abs(a), np.abs(b)))


# ------------------------------------------------------------------------------ fit
@pytest.mark.parametrize("method", ["minmax", "standard", "robust", "maxabs"])
def test_fit_plain_scaler(tmp_path, data, method):
    result = ok(run("fit", data, "-o", tmp_path / "coef.json", "--method", method))
    assert "100 rows" in result.stdout and "x, y, z" in result.stdout
    est = seqscale.load(tmp_path / "coef.json")
    assert est.method == method and list(est.feature_names_in_) == ["x", "y", "z"]
    ref = getattr(seqscale, type(est).__name__)().fit(sio.read_table(data)[["x", "y", "z"]])
    np.testing.assert_allclose(est.scale_, ref.scale_, rtol=1e-12)


def test_fit_groups(tmp_path, data):
    ok(run("fit", data, "-o", tmp_path / "coef.json", "--groups", "sid", "--method", "standard"))
    est = seqscale.load(tmp_path / "coef.json")
    assert est._grouped and list(est.series_) == ["a", "b"]
    frame = sio.read_table(data)
    ref = seqscale.StandardScaler().fit(frame[["x", "y", "z"]], groups=frame["sid"])
    np.testing.assert_allclose(est.scale_, ref.scale_, rtol=1e-12)


def test_fit_train_rows(tmp_path, data):
    result = ok(run("fit", data, "-o", tmp_path / "coef.json", "--train-rows", 80))
    assert "80 rows" in result.stdout
    est = seqscale.load(tmp_path / "coef.json")
    ref = seqscale.MinMaxScaler().fit(sio.read_table(data).iloc[:80][["x", "y", "z"]])
    np.testing.assert_array_equal(est.data_max_, ref.data_max_)


def test_fit_train_until_date(tmp_path, data):
    result = ok(
        run("fit", data, "-o", tmp_path / "coef.json", "--train-until", "2020-03-01", "--time", "date")
    )
    assert "60 rows" in result.stdout  # January (31) + February 2020 (29)
    est = seqscale.load(tmp_path / "coef.json")
    ref = seqscale.MinMaxScaler().fit(sio.read_table(data).iloc[:60][["x", "y", "z"]])
    np.testing.assert_array_equal(est.data_min_, ref.data_min_)


# ------------------------------------------------------------------------------ transform, inverse
@pytest.mark.parametrize("method", ["minmax", "standard", "robust", "maxabs"])
@pytest.mark.parametrize("fmt", [".csv", ".parquet"])
def test_round_trip_csv_transform_inverse_csv(tmp_path, data, method, fmt):
    """A float64 column survives CSV -> transform -> inverse -> CSV (exactly, or to 1 ulp)."""
    ok(run("fit", data, "-o", tmp_path / "coef.json", "--method", method))
    ok(run("transform", data, "-c", tmp_path / "coef.json", "-o", tmp_path / f"scaled{fmt}"))
    ok(run("inverse", tmp_path / f"scaled{fmt}", "-c", tmp_path / "coef.json", "-o", tmp_path / "back.csv"))
    original, back = sio.read_table(data), sio.read_table(tmp_path / "back.csv")
    assert list(back.columns) == list(original.columns)
    assert back[["date", "sid"]].equals(original[["date", "sid"]])
    shift = seqscale.load(tmp_path / "coef.json").affine_.shift
    for j, col in enumerate("xyz"):
        assert back[col].dtype == np.float64
        x, b = original[col].to_numpy(), back[col].to_numpy()
        # exact or 1 ulp of the value when |x| >= |shift| (always for maxabs, and for min-max when
        # min >= 0); a value much smaller than the mean subtracted cannot survive a float64 y, so
        # then 1 ulp of the shift is the bound (see docs/bad-inputs.md).
        big = np.abs(x) >= abs(shift[j])
        assert ulps(b[big], x[big]).max(initial=0) <= 1, col
        # The shortest decimal written back maps to the very same scaled value, so it lies in that
        # value's preimage, which spans about ulp(y) / scale + ulp(shift): two ulps of the shift.
        assert (np.abs(b - x) <= 2 * np.spacing(np.maximum(np.abs(x), abs(shift[j])))).all(), col
        if method in ("maxabs", "minmax"):
            assert ulps(b, x).max() <= 1, col


def test_api_and_cli_give_the_same_numbers(tmp_path, data):
    ok(run("fit", data, "-o", tmp_path / "coef.json", "--method", "standard"))
    ok(run("transform", data, "-c", tmp_path / "coef.json", "-o", tmp_path / "scaled.parquet"))
    cli = sio.read_table(tmp_path / "scaled.parquet")
    # the file API the command calls gives the very same numbers ...
    scaler = seqscale.fit_file(data, "standard")
    seqscale.transform_file(scaler, data, tmp_path / "api.parquet")
    api = sio.read_table(tmp_path / "api.parquet")
    np.testing.assert_array_equal(cli[["x", "y", "z"]].to_numpy(), api[["x", "y", "z"]].to_numpy())
    # ... and the in-memory fit agrees to rounding (its statistics are summed in other blocks)
    frame = sio.read_table(data)
    memory = seqscale.StandardScaler().fit(frame[["x", "y", "z"]]).transform(frame[["x", "y", "z"]])
    np.testing.assert_allclose(cli[["x", "y", "z"]].to_numpy(), memory.to_numpy(), rtol=1e-14, atol=1e-14)


def test_transform_per_series(tmp_path, data):
    ok(run("fit", data, "-o", tmp_path / "coef.json", "--id", "sid", "--method", "standard"))
    ok(run("transform", data, "-c", tmp_path / "coef.json", "-o", tmp_path / "s.csv", "--id", "sid"))
    out = sio.read_table(tmp_path / "s.csv")
    for _, part in out.groupby("sid"):
        np.testing.assert_allclose(part[["x", "y", "z"]].mean(), 0, atol=1e-12)


def test_transform_summary_counts_rows(tmp_path, data):
    ok(run("fit", data, "-o", tmp_path / "coef.json"))
    result = ok(run("transform", data, "-c", tmp_path / "coef.json", "-o", tmp_path / "s.csv"))
    assert "scaled 100 rows" in result.stdout, result.stdout


# ------------------------------------------------------------------------------ check
def test_check_within_and_beyond_tolerance(tmp_path, data):
    ok(run("fit", data, "-o", tmp_path / "coef.json"))
    result = ok(run("check", data, "-c", tmp_path / "coef.json"))
    assert "within tolerance" in result.stdout
    shifted = sio.read_table(data)
    shifted["x"] += 1000.0
    sio.write_table(shifted, tmp_path / "june.csv")
    result = run("check", tmp_path / "june.csv", "-c", tmp_path / "coef.json")
    assert result.exit_code == 1, result.stdout
    assert "beyond tolerance" in result.stdout
    result = run(
        "check", tmp_path / "june.csv", "-c", tmp_path / "coef.json", "--tolerance", 1, "--drift", 1e9
    )
    assert result.exit_code == 0, result.stdout


# ------------------------------------------------------------------------------ advise -> plan -> pipeline
def test_advise_plan_fit_transform(tmp_path, data):
    plan, report = tmp_path / "plan.json", tmp_path / "report.html"
    result = ok(run("advise", data, "--target", "y", "--time", "date", "--plan", plan, "--report", report))
    assert "plan written" in result.stdout
    assert seqscale.load_plan(plan)["target"] == ["y"]
    assert report.read_text().lstrip().lower().startswith("<!doctype html>")
    ok(run("fit", data, "--plan", plan, "-o", tmp_path / "pipe.json"))
    pipe = seqscale.load(tmp_path / "pipe.json")
    assert type(pipe).__name__ == "SequencePipeline"
    ok(run("transform", data, "-c", tmp_path / "pipe.json", "-o", tmp_path / "out.csv"))
    out = sio.read_table(tmp_path / "out.csv")
    expected = pipe.transform_frame(sio.read_table(data))
    assert list(out.columns) == [str(c) for c in expected.columns]
    numeric = [c for c in out.columns if c != "date"]
    np.testing.assert_allclose(
        out[numeric].to_numpy(), expected[numeric].to_numpy(dtype=np.float64), rtol=0, atol=0
    )


@pytest.fixture
def pipeline_file(tmp_path, data):
    plan = {
        "format": "seqscale.plan", "version": 1, "time": "date", "id": None, "target": ["y"],
        "task": "regression", "output_activation": "linear", "window": {"n_in": 4, "n_out": 1},
        "per_series": False, "series_features": False,
        "columns": {
            "sid": {"role": "categorical", "handle_unknown": "ignore"},
            "x": {"role": "input", "log": False, "difference": None, "method": "standard", "bounds": None},
            "y": {"role": "target", "log": False, "difference": None, "method": "minmax", "bounds": None},
            "z": {"role": "ignore"},
        },
    }  # fmt: skip
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    ok(run("fit", data, "--plan", tmp_path / "plan.json", "-o", tmp_path / "pipe.json"))
    return tmp_path / "pipe.json"


def test_pipeline_inverse(tmp_path, data, pipeline_file):
    ok(run("transform", data, "-c", pipeline_file, "-o", tmp_path / "out.csv"))
    result = run("inverse", tmp_path / "out.csv", "-c", pipeline_file, "-o", tmp_path / "back.csv")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.stderr
    if result.exit_code == 0:
        back, original = sio.read_table(tmp_path / "back.csv"), sio.read_table(data)
        assert ulps(back["x"], original["x"]).max() <= 1


def test_pipeline_check(tmp_path, data, pipeline_file):
    # the data the pipeline was fitted on is within range: exit 0; x moved far above: exit 1
    result = ok(run("check", data, "-c", pipeline_file))
    assert "within tolerance" in result.stdout and "beyond tolerance" not in result.stdout
    shifted = sio.read_table(data)
    shifted["x"] += 100.0
    sio.write_table(shifted, tmp_path / "shifted.csv")
    result = run("check", tmp_path / "shifted.csv", "-c", pipeline_file)
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert "beyond tolerance" in result.stdout and "Traceback" not in result.stderr


# ------------------------------------------------------------------------------ user errors
def test_error_missing_file(tmp_path, data):
    ok(run("fit", data, "-o", tmp_path / "coef.json"))
    before = files(tmp_path)
    result = run("transform", tmp_path / "nope.csv", "-c", tmp_path / "coef.json", "-o", tmp_path / "out.csv")
    user_error(result, "nope.csv", "no such file", folder=tmp_path, before=before)
    result = run("fit", tmp_path / "nope.parquet", "-o", tmp_path / "c2.json")
    user_error(result, "nope.parquet", folder=tmp_path, before=before)
    result = run("transform", data, "-c", tmp_path / "absent.json", "-o", tmp_path / "out.csv")
    user_error(result, "absent.json", folder=tmp_path, before=before)


def test_error_unknown_column(tmp_path, data):
    before = files(tmp_path)
    result = run("fit", data, "-o", tmp_path / "coef.json", "--column", "nope")
    user_error(result, "data.csv", "'nope'", folder=tmp_path, before=before)
    result = run("fit", data, "-o", tmp_path / "coef.json", "--train-until", "2020-03-01", "--time", "nope")
    user_error(result, "data.csv", "'nope'", folder=tmp_path, before=before)


def test_error_unknown_groups_column(tmp_path, data):
    before = files(tmp_path)
    result = run("fit", data, "-o", tmp_path / "coef.json", "--id", "nope")
    user_error(result, "nope", "data.csv", folder=tmp_path, before=before)


@pytest.mark.parametrize("command", ["fit", "transform", "inverse", "check"])
def test_error_non_numeric_cell(tmp_path, data, command):
    ok(run("fit", data, "-o", tmp_path / "coef.json"))
    text = data.read_text().splitlines()
    cells = text[7].split(",")
    cells[3] = "abc"  # column y of line 8
    text[7] = ",".join(cells)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(text) + "\n")
    before = files(tmp_path)
    args = {
        "fit": ["fit", bad, "-o", tmp_path / "c2.json"],
        "transform": ["transform", bad, "-c", tmp_path / "coef.json", "-o", tmp_path / "out.csv"],
        "inverse": ["inverse", bad, "-c", tmp_path / "coef.json", "-o", tmp_path / "out.csv"],
        "check": ["check", bad, "-c", tmp_path / "coef.json"],
    }[command]
    user_error(run(*args), "bad.csv", "line 8", "'y'", "'abc'", folder=tmp_path, before=before)


@pytest.mark.parametrize("command", ["transform", "inverse", "check"])
@pytest.mark.parametrize("fmt", [".csv", ".parquet"])
def test_error_coefficients_for_other_columns(tmp_path, data, command, fmt):
    ok(run("fit", data, "-o", tmp_path / "coef.json"))
    other = tmp_path / f"other{fmt}"
    sio.write_table(pd.DataFrame({"price": [1.0, 2.0], "volume": [3.0, 4.0]}), other)
    before = files(tmp_path)
    extra = ["-o", tmp_path / "out.csv"] if command != "check" else []
    result = run(command, other, "-c", tmp_path / "coef.json", *extra)
    user_error(result, f"other{fmt}", "'x'", folder=tmp_path, before=before)


@pytest.mark.parametrize("keep", [0, 0.3, 0.9])
@pytest.mark.parametrize("command", ["transform", "inverse", "check"])
def test_error_truncated_coefficients(tmp_path, data, command, keep):
    ok(run("fit", data, "-o", tmp_path / "coef.json"))
    text = (tmp_path / "coef.json").read_text()
    (tmp_path / "coef.json").write_text(text[: int(len(text) * keep)])
    before = files(tmp_path)
    extra = ["-o", tmp_path / "out.parquet"] if command != "check" else []
    result = run(command, data, "-c", tmp_path / "coef.json", *extra)
    user_error(result, "coef.json", folder=tmp_path, before=before)


def test_error_existing_output_kept_on_failure(tmp_path, data):
    ok(run("fit", data, "-o", tmp_path / "coef.json"))
    (tmp_path / "out.csv").write_text("precious\n")
    (tmp_path / "coef.json").write_text("{")
    before = files(tmp_path)
    result = run("transform", data, "-c", tmp_path / "coef.json", "-o", tmp_path / "out.csv")
    user_error(result, "coef.json", folder=tmp_path, before=before)
    assert (tmp_path / "out.csv").read_text() == "precious\n"


@pytest.mark.parametrize(
    "args, words",
    [
        (["fit", "{data}", "-o", "{tmp}/coef.csv"], ["coef.csv", "JSON"]),
        (["fit", "{data}", "-o", "{tmp}/c.json", "--method", "zscore"], ["zscore"]),
        (["fit", "{data}", "-o", "{tmp}/c.json", "--train-rows", "500"], ["500", "every row"]),
        (["fit", "{data}", "-o", "{tmp}/c.json", "--train-until", "2021-03-01"], ["after the last date"]),
        (["check", "{data}", "-c", "{tmp}/coef.json", "--tolerance", "2"], ["--tolerance"]),
        (["transform", "{data}", "-c", "{tmp}/coef.json", "-o", "{tmp}/out.xlsx"], ["out.xlsx", ".xlsx"]),
    ],
    ids=["coef not json", "unknown method", "rows beyond end", "time beyond end", "tolerance", "extension"],
)
def test_error_bad_options(tmp_path, data, args, words):
    ok(run("fit", data, "-o", tmp_path / "coef.json"))
    before = files(tmp_path)
    args = [a.format(data=data, tmp=tmp_path) for a in args]
    user_error(run(*args), *words, folder=tmp_path, before=before)


def test_error_per_series_without_groups(tmp_path, data):
    ok(run("fit", data, "-o", tmp_path / "coef.json", "--id", "sid"))
    before = files(tmp_path)
    result = run("transform", data, "-c", tmp_path / "coef.json", "-o", tmp_path / "out.csv")
    user_error(result, "coef.json", "--id", folder=tmp_path, before=before)


# ------------------------------------------------------------------------------ help
@pytest.mark.parametrize("command", ["advise", "fit", "transform", "inverse", "check"])
def test_help_shows_an_example(command):
    result = ok(run(command, "--help"))
    assert "Example:" in result.stdout
    assert f"seqscale {command}" in result.stdout


def test_top_level_help_lists_every_command():
    result = ok(run("--help"))
    for command in ("advise", "fit", "transform", "inverse", "check"):
        assert command in result.stdout


def test_piped_output_keeps_a_rule_on_one_line(monkeypatch):
    """Piped, the results console does not wrap lines; a heading rule printed at a given width
    stays one line of that width (it was drawn at the console's full width, then folded)."""
    import io

    from rich.rule import Rule

    from seqscale.cli import app as cli_app

    monkeypatch.setattr(cli_app, "plain", lambda: True)
    console = cli_app._Out(width=cli_app.UNWRAPPED, file=io.StringIO())
    console.print(Rule("1/7  advise", align="left"), width=100)
    lines = console.file.getvalue().splitlines()
    assert len(lines) == 1 and len(lines[0]) == 100 and lines[0].startswith("1/7  advise ─")
