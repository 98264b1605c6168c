import numpy as np
import pandas as pd
import pytest

from seqscale.errors import InputError, ParameterError
from seqscale.sequence.split import Split, split_by_time


def _daily(n=10, start="2024-01-01"):
    idx = pd.date_range(start, periods=n, freq="D")
    return pd.DataFrame({"v": np.arange(n)}, index=idx)


def test_share_of_array_returns_views_in_order():
    x = np.arange(20.0).reshape(10, 2)
    s = split_by_time(x, 0.25)
    assert isinstance(s, Split)
    assert len(s.train) == 7 and len(s.test) == 3  # the test share is rounded up
    assert s.cutoff == 7
    assert np.shares_memory(s.train, x) and np.shares_memory(s.test, x)
    np.testing.assert_array_equal(np.concatenate([s.train, s.test]), x)


def test_count_and_gap():
    train, test, cutoff = split_by_time(list(range(10)), 3, gap=2)
    assert train.tolist() == [0, 1, 2, 3, 4] and test.tolist() == [7, 8, 9] and cutoff == 7


def test_share_with_datetime_index_gives_time_cutoff():
    df = _daily()
    s = split_by_time(df, 0.2)
    assert s.test["v"].tolist() == [8, 9]
    assert s.cutoff == pd.Timestamp("2024-01-09")


@pytest.mark.parametrize("cutoff", ["2024-01-07", pd.Timestamp("2024-01-07"), np.datetime64("2024-01-07")])
def test_date_cutoff_with_index(cutoff):
    s = split_by_time(_daily(), cutoff)
    assert s.train["v"].tolist() == [0, 1, 2, 3, 4, 5]
    assert s.test["v"].tolist() == [6, 7, 8, 9]
    assert s.cutoff == pd.Timestamp("2024-01-07")


def test_date_cutoff_with_time_column_and_gap():
    df = _daily().reset_index(names="date")
    s = split_by_time(df, "2024-01-07 12:00", time="date", gap=2)
    assert s.train["v"].tolist() == [0, 1, 2, 3, 4]  # 0..6 before the cutoff, minus 2
    assert s.test["v"].tolist() == [7, 8, 9]


def test_rows_sharing_the_first_test_time_all_go_to_test():
    df = pd.DataFrame({"t": [1, 2, 3, 3, 3, 4], "v": range(6)})
    s = split_by_time(df, 3, time="t")  # the last 3 rows start inside the t=3 block
    assert s.test["v"].tolist() == [2, 3, 4, 5]
    assert s.cutoff == 3


def test_series_input():
    s = pd.Series(range(5), index=pd.period_range("2020Q1", periods=5, freq="Q"))
    _, test, cutoff = split_by_time(s, 1)
    assert test.tolist() == [4] and cutoff == pd.Timestamp("2021-01-01")


def _panel():
    dates = pd.date_range("2024-01-01", periods=6, freq="D")
    rows = [(g, d, i) for i, d in enumerate(dates) for g in ("a", "b")]
    rows += [("c", d, 100 + i) for i, d in enumerate(dates[2:])]  # shorter, starts later
    df = pd.DataFrame(rows, columns=["id", "date", "v"])
    return df.sample(frac=1, random_state=0).sort_values("date", kind="stable")


def test_grouped_same_date_cutoff_keeps_input_order():
    df = _panel()
    s = split_by_time(df, "2024-01-05", time="date", groups="id", gap=1)
    assert (s.test["date"] >= "2024-01-05").all()
    assert s.cutoff == pd.Timestamp("2024-01-05")
    # each series loses its last training row (gap=1)
    assert s.train.groupby("id")["date"].max().to_dict() == {
        "a": pd.Timestamp("2024-01-03"),
        "b": pd.Timestamp("2024-01-03"),
        "c": pd.Timestamp("2024-01-03"),
    }
    assert list(s.train.index) == [i for i in df.index if i in set(s.train.index)]


def test_grouped_same_share_per_series():
    df = _panel()
    s = split_by_time(df, 0.5, groups="id")
    sizes = s.test.groupby("id").size().to_dict()
    assert sizes == {"a": 3, "b": 3, "c": 2}
    assert s.cutoff == {"a": 3, "b": 3, "c": 2}
    timed = split_by_time(df, 0.5, time="date", groups="id")
    assert timed.cutoff["c"] == pd.Timestamp("2024-01-05")
    assert timed.cutoff["a"] == pd.Timestamp("2024-01-04")
    for g, part in timed.train.groupby("id"):
        assert part["date"].max() < timed.test.loc[timed.test["id"] == g, "date"].min()


def test_grouped_array_with_ids():
    x = np.arange(12)
    ids = np.array([0, 1] * 6)
    train, test, cutoff = split_by_time(x, 2, groups=ids)
    assert test.tolist() == [8, 9, 10, 11] and train.tolist() == list(range(8))
    assert cutoff == {0: 4, 1: 4}


@pytest.mark.parametrize("bad", [0, 0.0, 1.0, 1.5, -3, True, None, "not a date"])
def test_test_size_out_of_range(bad):
    frame = _daily() if isinstance(bad, str) else np.arange(10)
    with pytest.raises(ParameterError, match="test_size"):
        split_by_time(frame, bad)


def test_unsorted_time_says_sort_first():
    df = pd.DataFrame({"t": pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-03"]), "v": [1, 2, 3]})
    with pytest.raises(InputError, match=r"row 1.*sort by time first"):
        split_by_time(df, 1, time="t")
    panel = pd.DataFrame({"id": ["a", "b", "a", "b"], "t": [1, 1, 3, 2]})
    split_by_time(panel, 1, time="t", groups="id")  # sorted within each series: fine
    panel.loc[2, "t"] = 0
    with pytest.raises(InputError, match="sort by time first"):
        split_by_time(panel, 1, time="t", groups="id")


def test_empty_train_and_test_errors():
    with pytest.raises(InputError, match="training set is empty"):
        split_by_time(np.arange(5), 5)
    with pytest.raises(InputError, match=r"training set is empty.*gap=4"):
        split_by_time(np.arange(5), 2, gap=4)
    with pytest.raises(InputError, match="training set is empty"):
        split_by_time(_daily(), "2023-12-01")
    with pytest.raises(InputError, match="test set is empty"):
        split_by_time(_daily(), "2030-01-01")
    with pytest.raises(InputError, match=r"series 'c' \(0 rows\)"):
        split_by_time(_panel(), "2024-01-03", time="date", groups="id")


def test_other_errors():
    with pytest.raises(ParameterError, match="no datetime time"):
        split_by_time(np.arange(10), "2024-01-01")
    with pytest.raises(ParameterError, match="gap"):
        split_by_time(np.arange(10), gap=-1)
    with pytest.raises(ParameterError, match="'when' is not a column"):
        split_by_time(_daily(), time="when")
    with pytest.raises(InputError, match=r"row 0, time column 't': 'a' is not a time"):
        split_by_time(pd.DataFrame({"t": ["a", "b", "c"]}), 1, time="t")
    with pytest.raises(InputError, match=r"row 1, time column 't': the cell is empty"):
        split_by_time(pd.DataFrame({"t": [1.0, None, 3.0]}), 1, time="t")
    quarters = split_by_time(pd.DataFrame({"t": ["1959Q1", "1959Q2", "1959Q3", "1959Q4"]}), 1, time="t")
    assert quarters.cutoff == pd.Timestamp("1959-10-01")
    with pytest.raises(ParameterError, match="time zone"):
        split_by_time(_daily().tz_localize("UTC"), "2024-01-05")
