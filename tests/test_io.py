"""Strict CSV/Parquet reading, streaming and atomic writing (seqscale.files.io)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqscale.errors import DataFileError, InputError, InputTypeError, ParameterError
from seqscale.files import io as sio


def write(path, content):
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


# ---------------------------------------------------------------- reading CSV


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_reads_each_delimiter(tmp_path, sep):
    text = sep.join(["day", "temp", "rain"]) + "\n"
    text += sep.join(["mon", "12.5", "0"]) + "\n" + sep.join(["tue", "", "3"]) + "\n"
    frame = sio.read_table(write(tmp_path / "t.csv", text))
    assert list(frame.columns) == ["day", "temp", "rain"]
    assert list(frame["day"]) == ["mon", "tue"]
    assert frame["temp"].dtype == np.float64
    assert frame["temp"].iloc[0] == 12.5 and np.isnan(frame["temp"].iloc[1])
    assert frame["rain"].dtype == np.int64


def test_tsv_and_txt_extensions(tmp_path):
    assert sio.read_table(write(tmp_path / "t.tsv", "a\tb\n1\t2\n")).shape == (1, 2)
    assert sio.read_table(write(tmp_path / "t.txt", "a;b\n1;2\n")).shape == (1, 2)
    assert sio.read_table(write(tmp_path / "t.CSV", "a,b\n1,2\n")).shape == (1, 2)


def test_bom_is_ignored(tmp_path):
    frame = sio.read_table(write(tmp_path / "t.csv", "\ufeffa,b\n1,2\n"))
    assert list(frame.columns) == ["a", "b"]


def test_crlf_blank_lines_and_quoted_newlines(tmp_path):
    text = 'id,note,x\r\n\r\n1,"two\r\nlines",0.5\r\n2,"a, b",1.5\r\n\r\n'
    frame = sio.read_table(write(tmp_path / "t.csv", text))
    assert list(frame["note"]) == ["two\r\nlines", "a, b"]
    assert list(frame["x"]) == [0.5, 1.5]


def test_single_column_file(tmp_path):
    frame = sio.read_table(write(tmp_path / "t.csv", "value\n1.5\n2\n\n3\n"))
    assert list(frame.columns) == ["value"]
    assert frame["value"].tolist() == [1.5, 2.0, 3.0]


def test_single_column_text_with_occasional_comma(tmp_path):
    frame = sio.read_table(write(tmp_path / "t.csv", "name\nSmith; John\nDoe\nRoe\n"))
    assert frame["name"].tolist() == ["Smith; John", "Doe", "Roe"]


def test_missing_values(tmp_path):
    text = "a,b,c\nNA,nan,x\n1, 2 ,NULL\n,3,y\n"
    frame = sio.read_table(write(tmp_path / "t.csv", text))
    assert frame["a"].dtype == np.float64 and frame["a"].isna().tolist() == [True, False, True]
    assert frame["b"].tolist()[1:] == [2.0, 3.0]
    assert frame["c"].isna().tolist() == [False, True, False]


def test_text_and_dates(tmp_path):
    text = "date,city,x\n2020-01-01,Oslo,1\n2020-01-02,Rome,2\n"
    path = write(tmp_path / "t.csv", text)
    frame = sio.read_table(path)
    assert frame["date"].tolist() == ["2020-01-01", "2020-01-02"]
    frame = sio.read_table(path, parse_dates=["date"])
    assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    assert frame["date"].iloc[1] == pd.Timestamp("2020-01-02")
    with pytest.raises(DataFileError, match="'city' is not ISO dates"):
        sio.read_table(path, parse_dates=["city"])


def test_ragged_row_names_line_and_counts(tmp_path):
    path = write(tmp_path / "t.csv", "a,b,c\n1,2,3\n4,5,6\n7,8\n")
    with pytest.raises(DataFileError, match=r"line 4.*expected 3.*got 2") as info:
        sio.read_table(path)
    assert str(path) in str(info.value)
    path = write(tmp_path / "u.csv", 'a,b\n1,"x\ny"\n\n2,3,4\n')
    with pytest.raises(DataFileError, match=r"line 5.*expected 2.*got 3"):
        sio.read_table(path)


def test_non_numeric_cell_names_line_and_column(tmp_path):
    rows = "".join(f"d{i},{i}.5\n" for i in range(5))
    path = write(tmp_path / "t.csv", f"day,temp\n{rows}d5,abc\n")
    with pytest.raises(DataFileError, match=r"line 7, column 'temp': 'abc' is not a number") as info:
        sio.read_table(path)
    assert str(path) in str(info.value)


def test_decimal_comma_is_explained(tmp_path):
    path = write(tmp_path / "t.csv", "a;b\n1,5;2\n2,5;3\n")
    with pytest.raises(DataFileError, match=r"line 2, column 'a'.*[Dd]ecimal comma"):
        sio.read_table(path)


def test_numeric_option_forces_numbers(tmp_path):
    path = write(tmp_path / "t.csv", "a,b\nx,1\ny,2\nz,3\n")
    assert sio.read_table(path)["a"].tolist() == ["x", "y", "z"]
    with pytest.raises(DataFileError, match=r"line 2, column 'a': 'x'"):
        sio.read_table(path, numeric=["a"])
    with pytest.raises(DataFileError, match="unknown numeric column"):
        sio.read_table(path, numeric=["nope"])
    assert sio.read_table(path, columns=["b"], numeric=True)["b"].tolist() == [1, 2, 3]


def test_no_header_row(tmp_path):
    with pytest.raises(DataFileError, match="has no header row; add one"):
        sio.read_table(write(tmp_path / "t.csv", "1,2.5\n3,4\n"))
    with pytest.raises(DataFileError, match="has no header row"):
        sio.read_table(write(tmp_path / "u.csv", "7\n8\n"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (",b\n1,2\n", "column 1 has an empty name"),
        ("a,a\n1,2\n", "duplicate column names"),
        ("a,b|c\n1,2|3\n", "cannot detect the delimiter"),
        ("value\n1;2\n3;4\n", r"line 2.*expected 1.*got 2"),
    ],
)
def test_bad_header_or_layout(tmp_path, text, message):
    with pytest.raises(DataFileError, match=message):
        sio.read_table(write(tmp_path / "t.csv", text))


def test_unclosed_quote_names_its_line(tmp_path):
    path = write(tmp_path / "t.csv", 'a,b\n1,x\n2,"never closed\n3,y\n')
    with pytest.raises(DataFileError, match=r"line 3 has a badly quoted field"):
        sio.read_table(path)
    with pytest.raises(DataFileError, match=r"line 3 has a badly quoted field"):
        list(sio.iter_batches(path))


def test_line_of_spaces_is_explained(tmp_path):
    with pytest.raises(DataFileError, match=r"line 3 .*only spaces"):
        sio.read_table(write(tmp_path / "t.csv", "a,b\n1,2\n   \n3,4\n"))


def test_very_wide_header(tmp_path):
    names = [f"column_{i:05d}" for i in range(8000)]  # header line longer than the sniff sample
    text = ",".join(names) + "\n" + ",".join("1" for _ in names) + "\n"
    frame = sio.read_table(write(tmp_path / "t.csv", text))
    assert frame.shape == (1, 8000) and frame.columns[-1] == names[-1]


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n"])
def test_empty_file(tmp_path, content):
    with pytest.raises(DataFileError, match="is empty"):
        sio.read_table(write(tmp_path / "t.csv", content))


def test_binary_garbage_and_bad_encoding(tmp_path):
    rng = np.random.default_rng(0)
    with pytest.raises(DataFileError):
        sio.read_table(write(tmp_path / "a.csv", rng.bytes(5000)))
    with pytest.raises(DataFileError, match="not UTF-8"):
        sio.read_table(write(tmp_path / "b.csv", "name,x\ncaf\xe9,1\n".encode("latin-1")))
    late = b"name,x\n" + b"ab,1\n" * 20_000 + b"caf\xe9,2\n"  # beyond the sniffed sample
    with pytest.raises(DataFileError, match="not UTF-8"):
        sio.read_table(write(tmp_path / "c.csv", late))


def test_missing_file_and_unsupported_extension(tmp_path):
    with pytest.raises(DataFileError, match="no such file") as info:
        sio.read_table(tmp_path / "absent.csv")
    assert "absent.csv" in str(info.value)
    with pytest.raises(DataFileError, match=r"\.xlsx.*\.csv.*\.parquet"):
        sio.read_table(write(tmp_path / "t.xlsx", "a\n1\n"))
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(DataFileError, match="not a file"):
        sio.read_table(tmp_path / "folder.csv")


def test_columns_selection_and_unknown_column(tmp_path):
    path = write(tmp_path / "t.csv", "a,b,c\n1,2,3\n")
    assert list(sio.read_table(path, columns=["c", "a"]).columns) == ["c", "a"]
    with pytest.raises(DataFileError, match=r"unknown column \['z'\].*\['a', 'b', 'c'\]"):
        sio.read_table(path, columns=["a", "z"])
    frame = pd.DataFrame({"a": [1.0], "b": [2.0]})
    pq_path = sio.write_table(frame, tmp_path / "t.parquet")
    assert list(sio.read_table(pq_path, columns=["b"]).columns) == ["b"]
    with pytest.raises(DataFileError, match="unknown column"):
        sio.read_table(pq_path, columns=["z"])


# ---------------------------------------------------------------- round trips and writing


def tricky_floats(n=2000, seed=1):
    rng = np.random.default_rng(seed)
    special = [0.1, 1 / 3, 1e-300, 1e300, -0.0, 0.0, 5e-324, np.finfo(float).max, -2.5, 1e16]
    values = np.concatenate(
        [special, rng.normal(size=n), rng.uniform(-1e6, 1e6, n), 10.0 ** rng.uniform(-300, 300, n)]
    )
    return values


def test_float64_exact_round_trip_csv(tmp_path):
    values = tricky_floats()
    frame = pd.DataFrame({"x": values, "y": values[::-1].copy()})
    first = sio.read_table(sio.write_table(frame, tmp_path / "a.csv"))
    assert first["x"].dtype == np.float64
    np.testing.assert_array_equal(first.to_numpy(), frame.to_numpy())
    assert np.signbit(first["x"].iloc[4])  # -0.0 kept
    second = sio.read_table(sio.write_table(first, tmp_path / "b.csv"))
    np.testing.assert_array_equal(second.to_numpy(), frame.to_numpy())
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_parquet_round_trip(tmp_path):
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2020-01-01", periods=4, freq="D"),
            "city": ["a", "b", None, "d"],
            "x": tricky_floats()[:4],
            "n": np.arange(4),
        }
    )
    back = sio.read_table(sio.write_table(frame, tmp_path / "t.parquet"))
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    np.testing.assert_array_equal(back["x"].to_numpy(), frame["x"].to_numpy())
    assert sio.count_rows(tmp_path / "t.parquet") == 4
    assert sio.count_rows(sio.write_table(frame, tmp_path / "t.csv")) is None


def test_parquet_numeric_option(tmp_path):
    path = sio.write_table(pd.DataFrame({"s": ["a"], "x": [1.0]}), tmp_path / "t.pq")
    assert sio.read_table(path, numeric=["x"])["x"].tolist() == [1.0]
    with pytest.raises(DataFileError, match=r"column 's'.*not a number"):
        sio.read_table(path, numeric=True)


def test_index_written_only_when_meaningful(tmp_path):
    plain = pd.DataFrame({"x": [1.0, 2.0]})
    assert sio.write_table(plain, tmp_path / "a.csv").read_text() == "x\n1.0\n2.0\n"
    named = plain.set_axis(pd.Index([10, 20], name="t"))
    assert sio.write_table(named, tmp_path / "b.csv").read_text() == "t,x\n10,1.0\n20,2.0\n"
    back = sio.read_table(sio.write_table(named, tmp_path / "b.parquet"))
    assert back.columns.tolist() == ["t", "x"] and back["t"].tolist() == [10, 20]
    unnamed = plain.set_axis(pd.Index([5, 6]))
    assert sio.read_table(sio.write_table(unnamed, tmp_path / "c.csv")).columns[0] == "index"


def test_tsv_written_with_tabs(tmp_path):
    path = sio.write_table(pd.DataFrame({"a": [1], "b": ["x,y"]}), tmp_path / "t.tsv")
    assert path.read_text() == "a\tb\n1\tx,y\n"
    assert sio.read_table(path)["b"].tolist() == ["x,y"]


def test_write_rejects_unreadable_frames(tmp_path):
    with pytest.raises(DataFileError, match="look like numbers"):
        sio.write_table(pd.DataFrame([[1.0, 2.0]]), tmp_path / "t.csv")
    with pytest.raises(InputTypeError):
        sio.write_table(np.zeros((2, 2)), tmp_path / "t.csv")
    with pytest.raises(DataFileError, match="unsupported file extension"):
        sio.write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.json")
    assert list(tmp_path.iterdir()) == []


def test_write_to_missing_folder_is_clean(tmp_path):
    target = tmp_path / "nope" / "t.csv"
    with pytest.raises(DataFileError, match="does not exist"):
        sio.write_table(pd.DataFrame({"a": [1.0]}), target)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["t.csv", "t.parquet"])
def test_failed_write_leaves_no_file(tmp_path, monkeypatch, name):
    target = tmp_path / name
    target.write_text("old content")

    def explode(*args, **kwargs):
        path = args[1] if len(args) > 1 else args[0]
        Path(path).write_text("partial")  # a partial write, then a failure
        raise OSError("disk full")

    if name.endswith(".csv"):
        monkeypatch.setattr(pd.DataFrame, "to_csv", lambda self, path, **kw: explode(path))
    else:
        monkeypatch.setattr(sio.pq, "write_table", explode)
    with pytest.raises(DataFileError, match="disk full"):
        sio.write_table(pd.DataFrame({"a": [1.0]}), target)
    assert target.read_text() == "old content"
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_parquet_write_failure_for_mixed_column(tmp_path):
    frame = pd.DataFrame({"a": [1, "x", 2.5]}, dtype=object)
    with pytest.raises(DataFileError, match="cannot write"):
        sio.write_table(frame, tmp_path / "t.parquet")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- corrupt Parquet


def test_truncated_parquet(tmp_path):
    path = sio.write_table(pd.DataFrame({"x": np.arange(10_000.0)}), tmp_path / "t.parquet")
    data = path.read_bytes()
    write(path, data[: len(data) // 2])
    for call in (sio.read_table, sio.count_rows, lambda p: list(sio.iter_batches(p))):
        with pytest.raises(DataFileError, match="not a valid Parquet file") as info:
            call(path)
        assert str(path) in str(info.value)


def test_corrupt_parquet_page_fails_checksum(tmp_path):
    rng = np.random.default_rng(3)
    path = sio.write_table(pd.DataFrame({"x": rng.normal(size=50_000)}), tmp_path / "t.parquet")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # inside the column's data page
    write(path, bytes(data))
    with pytest.raises(DataFileError, match="not a valid Parquet file"):
        sio.read_table(path)


def test_one_flipped_byte_in_a_data_page_is_caught(tmp_path):
    """Every single-byte flip inside the column's pages of a file seqscale wrote is either refused
    (checksum, or a page header that no longer parses) or leaves the values as written."""
    import pyarrow.parquet as pq

    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"x": rng.normal(size=2_000)})
    path = sio.write_table(frame, tmp_path / "t.parquet")
    good = path.read_bytes()
    chunk = pq.ParquetFile(path).metadata.row_group(0).column(0)
    start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
    size = chunk.total_compressed_size
    assert start > 0 and size > 1000
    refused = 0
    for position in np.linspace(start, start + size - 1, 40).astype(int).tolist():
        damaged = bytearray(good)
        damaged[position] ^= 0x10
        path.write_bytes(bytes(damaged))
        for read in (sio.read_table, lambda p: pd.concat(b.to_pandas() for b in sio.iter_batches(p))):
            try:
                back = read(path)
            except DataFileError as err:
                assert str(path) in str(err)
                refused += 1
                continue
            np.testing.assert_array_equal(back["x"].to_numpy(), frame["x"].to_numpy())
    assert refused >= 60  # nearly every byte of a page is covered by its checksum


def test_garbage_parquet(tmp_path):
    with pytest.raises(DataFileError, match="not a valid Parquet file"):
        sio.read_table(write(tmp_path / "t.parquet", "a,b\n1,2\n"))


# ---------------------------------------------------------------- streaming


def big_frame(n=25_000):
    rng = np.random.default_rng(7)
    return pd.DataFrame({"t": np.arange(n), "x": rng.normal(size=n), "g": rng.choice(["a", "b"], n)})


@pytest.mark.parametrize("name", ["t.csv", "t.parquet"])
def test_iter_batches_yields_every_row_in_bounded_batches(tmp_path, name):
    frame = big_frame()
    path = sio.write_table(frame, tmp_path / name)
    batches = list(sio.iter_batches(path, batch_size=4000))
    assert all(isinstance(b, pa.RecordBatch) for b in batches)
    assert all(b.num_rows <= 4000 for b in batches) and len(batches) >= 7
    assert sum(b.num_rows for b in batches) == len(frame)
    values = np.concatenate([sio.batch_to_numpy(b, ["t", "x"]) for b in batches])
    np.testing.assert_array_equal(values, frame[["t", "x"]].to_numpy(dtype=float))
    assert [v for b in batches for v in b.column(2).to_pylist()] == frame["g"].tolist()


@pytest.mark.parametrize("name", ["t.csv", "t.parquet"])
def test_iter_batches_columns(tmp_path, name):
    path = sio.write_table(big_frame(100), tmp_path / name)
    (batch,) = sio.iter_batches(path, columns=["x"])
    assert batch.schema.names == ["x"] and batch.num_rows == 100
    with pytest.raises(DataFileError, match="unknown column"):
        sio.iter_batches(path, columns=["nope"])
    with pytest.raises(ParameterError):
        sio.iter_batches(path, batch_size=0)


def test_iter_batches_csv_errors_name_the_line(tmp_path):
    rows = "".join(f"{i},{i}.5\n" for i in range(30_000))
    path = write(tmp_path / "t.csv", f"t,x\n{rows}30000,oops\n")
    with pytest.raises(DataFileError, match=r"line 30002, column 'x': 'oops'"):
        list(sio.iter_batches(path, batch_size=1000))
    path = write(tmp_path / "u.csv", f"t,x\n{rows}1,2,3\n")
    with pytest.raises(DataFileError, match=r"line 30002.*expected 2.*got 3"):
        list(sio.iter_batches(path, batch_size=1000))


def test_batch_to_numpy():
    batch = pa.RecordBatch.from_pydict(
        {"a": [1.0, 2.0], "b": pa.array([3, None], pa.int64()), "s": ["x", "y"]}
    )
    single = sio.batch_to_numpy(batch, ["a"])
    assert single.shape == (2, 1) and not single.flags.writeable  # a view of the Arrow buffer
    both = sio.batch_to_numpy(batch, ["a", "b"])
    np.testing.assert_array_equal(both, [[1.0, 3.0], [2.0, np.nan]])
    assert sio.batch_to_numpy(batch, ["a", "b"], dtype=np.float32).dtype == np.float32
    with pytest.raises(InputTypeError, match="'s'"):
        sio.batch_to_numpy(batch)
    with pytest.raises(InputError, match="unknown"):
        sio.batch_to_numpy(batch, ["zz"])


# ---------------------------------------------------------------- fuzzing

FUZZ_EXAMPLES = int(os.environ.get("SEQSCALE_FUZZ_EXAMPLES", "300"))
CSV_ALPHABET = st.sampled_from(
    [*"ab1234567890.,;\t|\"' \n\r-+eE", "NA", "nan", "inf", "\ufeff", "\x00", "é", "\\"]
)
CSV_BYTES = st.one_of(
    st.lists(CSV_ALPHABET, max_size=200).map(lambda parts: "".join(parts).encode("utf-8")),
    st.binary(max_size=200),
    st.lists(
        st.lists(
            st.one_of(
                st.integers(-99, 99).map(str),
                st.floats().map(repr),
                st.text(st.characters(codec="utf-8"), max_size=4),
            ),
            min_size=1,
            max_size=4,
        ),
        max_size=6,
    ).map(lambda rows: "\n".join(",".join(row) for row in rows).encode("utf-8")),
)


@settings(
    max_examples=FUZZ_EXAMPLES, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
@given(data=CSV_BYTES, suffix=st.sampled_from([".csv", ".tsv"]))
def test_fuzz_read_table_only_raises_data_file_error(tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        frame = sio.read_table(path)
    except DataFileError as err:
        assert str(path) in str(err)
    else:
        assert isinstance(frame, pd.DataFrame)
        assert frame.columns.is_unique
    try:
        batches = list(sio.iter_batches(path, batch_size=3))
    except DataFileError:
        return
    assert all(b.num_rows <= 3 for b in batches)
