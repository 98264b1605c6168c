import numpy as np
import pandas as pd
import pytest

from seqscale.errors import InputError, InputTypeError, ParameterError
from seqscale.sequence.window import to_supervised, window_index


def _naive(values, n_in, n_out, targets, stride, gap):
    X, y, first = [], [], []
    start = 0
    while start + n_in + gap + n_out <= len(values):
        X.append(values[start : start + n_in])
        t0 = start + n_in + gap
        y.append(values[t0 : t0 + n_out][:, targets])
        first.append(t0)
        start += stride
    return np.array(X), np.array(y), np.array(first)


@pytest.mark.parametrize("seed", range(12))
def test_matches_naive_loop(seed):
    rng = np.random.default_rng(seed)
    rows, feats = int(rng.integers(20, 80)), int(rng.integers(1, 5))
    n_in, n_out = int(rng.integers(1, 8)), int(rng.integers(1, 4))
    stride, gap = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    targets = sorted(rng.choice(feats, size=int(rng.integers(1, feats + 1)), replace=False))
    if seed % 3 == 0:
        targets = targets[::-1]  # non-adjacent order forces a copy of the target columns
    data = rng.normal(size=(rows, feats))
    X, y = to_supervised(data, n_in, n_out, [int(t) for t in targets], stride=stride, gap=gap)
    eX, ey, first = _naive(data, n_in, n_out, targets, stride, gap)
    np.testing.assert_array_equal(X, eX)
    np.testing.assert_array_equal(y, ey)
    np.testing.assert_array_equal(window_index(data, n_in, n_out, stride=stride, gap=gap), first)


def test_default_targets_are_all_features_and_1d_input():
    x = np.arange(10.0)
    X, y = to_supervised(x, 3, 2)
    assert X.shape == (6, 3, 1) and y.shape == (6, 2, 1)
    np.testing.assert_array_equal(y[0, :, 0], [3.0, 4.0])


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_zero_copy_read_only_views(order, dtype):
    data = np.asarray(np.random.default_rng(0).normal(size=(500, 4)), dtype=dtype, order=order)
    X, y = to_supervised(data, 16, 3, targets=[1, 2], stride=2)
    assert np.shares_memory(X, data) and np.shares_memory(y, data)
    assert X.dtype == dtype
    assert not X.flags.writeable and not y.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        X[0, 0, 0] = 1
    with pytest.raises(ValueError, match="read-only"):
        y[0, 0, 0] = 1


def test_large_input_is_a_view_not_a_copy():
    data = np.zeros((1_000_000, 16), dtype=np.float32)
    X, _ = to_supervised(data, 64)
    assert X.shape == (1_000_000 - 64, 64, 16)
    assert np.shares_memory(X, data) and X.base is not None


def test_dataframe_single_dtype_is_a_view_and_targets_by_name():
    df = pd.DataFrame(np.random.default_rng(1).normal(size=(50, 3)), columns=["a", "b", "c"])
    X, y = to_supervised(df, 5, 2, targets=["c"])
    assert np.shares_memory(X, df.to_numpy()) and np.shares_memory(y, df.to_numpy())
    np.testing.assert_array_equal(y[:, :, 0], _naive(df.to_numpy(), 5, 2, [2], 1, 0)[1][:, :, 0])
    _, y1 = to_supervised(df, 5, targets="b")
    assert y1.shape == (45, 1, 1)


def test_series_and_window_index_labels():
    idx = pd.date_range("2024-01-01", periods=10, freq="D")
    s = pd.Series(np.arange(10.0), index=idx)
    _, y = to_supervised(s, 4, 2, stride=3)
    labels = window_index(s, 4, 2, stride=3)
    assert isinstance(labels, pd.DatetimeIndex)
    assert list(labels) == [idx[4], idx[7]]
    np.testing.assert_array_equal(y[:, 0, 0], [4.0, 7.0])


def _grouped_frame(rng, sizes, interleave):
    ids = np.repeat([f"s{i}" for i in range(len(sizes))], sizes)
    if interleave:  # rows of the series mixed; time order within a series = row order
        ids = rng.permutation(ids)
    return rng.normal(size=(len(ids), 3)), ids


@pytest.mark.parametrize("interleave", [False, True])
@pytest.mark.parametrize(("stride", "gap"), [(1, 0), (2, 1), (3, 2)])
def test_grouped_windows_match_per_series_loop(interleave, stride, gap):
    rng = np.random.default_rng(stride * 7 + gap)
    sizes = [15, 9, 30, 12]
    values, ids = _grouped_frame(rng, sizes, interleave)
    X, y, sample_ids = to_supervised(values, 4, 2, [0, 2], stride=stride, gap=gap, groups=ids)
    first = window_index(values, 4, 2, stride=stride, gap=gap, groups=ids)
    offset = 0
    for g in pd.unique(ids):
        rows = np.flatnonzero(ids == g)
        eX, ey, efirst = _naive(values[rows], 4, 2, [0, 2], stride, gap)
        n = len(eX)
        assert list(sample_ids[offset : offset + n]) == [g] * n
        np.testing.assert_array_equal(X[offset : offset + n], eX)
        np.testing.assert_array_equal(y[offset : offset + n], ey)
        np.testing.assert_array_equal(first[offset : offset + n], rows[efirst])
        offset += n
    assert offset == len(X) == len(y) == len(sample_ids)
    assert not X.flags.writeable and not y.flags.writeable


def test_grouped_windows_never_cross_boundaries():
    # each series holds its id as the value: a crossing window would mix ids
    ids = np.repeat([1, 2, 3], [10, 7, 12])
    data = np.column_stack([ids, np.arange(len(ids))]).astype(float)
    X, y, sample_ids = to_supervised(data, 5, 2, stride=1, groups=ids)
    assert np.all(X[:, :, 0] == sample_ids[:, None])
    assert np.all(y[:, :, 0] == sample_ids[:, None])
    assert len(X) == (10 - 6) + (7 - 6) + (12 - 6)


def test_groups_as_column_name_is_not_a_feature():
    df = pd.DataFrame({"id": ["a"] * 5 + ["b"] * 5, "v": np.arange(10.0)}, index=pd.RangeIndex(100, 110))
    X, _, ids = to_supervised(df, 3, 1, "v", groups="id")
    assert X.shape == (4, 3, 1)
    assert list(ids) == ["a", "a", "b", "b"]
    assert list(window_index(df, 3, groups="id")) == [103, 104, 108, 109]


def test_parameter_errors():
    data = np.zeros((20, 2))
    for kwargs, name in (
        ({"n_in": 0}, "n_in"),
        ({"n_in": 2, "n_out": 0}, "n_out"),
        ({"n_in": 2, "stride": 0}, "stride"),
        ({"n_in": 2, "gap": -1}, "gap"),
        ({"n_in": 2.5}, "n_in"),
    ):
        with pytest.raises(ParameterError, match=name):
            to_supervised(data, **kwargs)


def test_short_series_errors_name_the_series():
    with pytest.raises(InputError, match=r"10 rows.*n_in \+ gap \+ n_out = 12"):
        to_supervised(np.zeros(10), 8, 2, gap=2)
    ids = np.repeat(["long", "tiny"], [20, 3])
    with pytest.raises(InputError, match=r"'tiny' \(3 rows\)"):
        to_supervised(np.zeros((23, 1)), 4, groups=ids)


def test_target_and_type_errors():
    df = pd.DataFrame({"a": [1.0] * 10, "b": [2.0] * 10})
    with pytest.raises(ParameterError, match=r"\['zzz'\].*columns are \['a', 'b'\]"):
        to_supervised(df, 3, targets=["a", "zzz"])
    with pytest.raises(ParameterError, match="column position"):
        to_supervised(np.zeros((10, 2)), 3, targets=5)
    with pytest.raises(InputTypeError, match=r"\['s'\]"):
        to_supervised(df.assign(s="x"), 3)
    with pytest.raises(InputError, match=r"1D or 2D.*\(4, 4, 4\)"):
        to_supervised(np.zeros((4, 4, 4)), 2)
    with pytest.raises(ParameterError, match="not a column"):
        to_supervised(df, 3, groups="id")
    with pytest.raises(InputError, match="missing series ids"):
        to_supervised(np.zeros(10), 2, groups=[1.0] * 9 + [np.nan])
