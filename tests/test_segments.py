"""Segments (ids + ragged lengths of sorted rows) give the same results as one id per row."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import seqscale

METHODS = [seqscale.MinMaxScaler, seqscale.StandardScaler, seqscale.RobustScaler, seqscale.MaxAbsScaler]


@pytest.fixture
def panel():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 40, size=30)
    ids = np.array([f"s{i}" for i in range(30)], dtype=object)
    level = np.repeat(rng.lognormal(2, 2, size=30), lengths)
    values = level[:, None] * (1 + 0.1 * rng.normal(size=(lengths.sum(), 2)))
    values[rng.random(values.shape) < 0.02] = np.nan
    return values, seqscale.Segments(ids, lengths)


@pytest.mark.parametrize("cls", METHODS, ids=lambda c: c.__name__)
def test_segments_equal_per_row_ids(cls, panel):
    values, seg = panel
    rows = cls().fit(values, groups=seg.row_ids())
    segs = cls().fit(values, groups=seg)
    np.testing.assert_allclose(segs.affine_.scale, rows.affine_.scale, rtol=1e-12)
    np.testing.assert_allclose(segs.affine_.shift, rows.affine_.shift, rtol=1e-12, atol=1e-12)
    expected = rows.transform(values, groups=seg.row_ids())
    got = segs.transform(values, groups=seg)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(segs.inverse_transform(got, groups=seg), values, rtol=1e-12)


def test_float32_kept_and_in_place(panel):
    values, seg = panel
    x = np.nan_to_num(values).astype(np.float32)
    scaler = seqscale.StandardScaler().fit(x, groups=seg)
    out = scaler.transform(x, groups=seg)
    assert out.dtype == np.float32
    y = x.copy()
    same = scaler.transform(y, groups=seg, copy=False)
    assert np.shares_memory(same, y)
    np.testing.assert_array_equal(same, out)


def test_unseen_series_and_partial_fit(panel):
    values, seg = panel
    first = seqscale.Segments(seg.ids[:20], seg.lengths[:20])
    n_first = int(seg.lengths[:20].sum())
    scaler = seqscale.StandardScaler(unseen="pooled").fit(values[:n_first], groups=first)
    pooled = scaler.transform(values, groups=seg)
    reference = scaler.transform(values, groups=seg.row_ids())
    np.testing.assert_allclose(pooled, reference, rtol=1e-12)
    strict = seqscale.StandardScaler().fit(values[:n_first], groups=first)
    with pytest.raises(seqscale.UnseenSeriesError):
        strict.transform(values, groups=seg)
    rest = seqscale.Segments(seg.ids[20:], seg.lengths[20:])
    strict.partial_fit(values[n_first:], groups=rest)
    whole = seqscale.StandardScaler().fit(values, groups=seg)
    np.testing.assert_allclose(strict.affine_.scale, whole.affine_.scale, rtol=1e-12)


def test_repeated_ids_and_clip_take_the_per_row_path(panel):
    values, _ = panel
    seg = seqscale.Segments(["a", "b", "a"], [3, 4, len(values) - 7])
    scaler = seqscale.MinMaxScaler(out_of_range="clip").fit(values, groups=seg)
    reference = seqscale.MinMaxScaler(out_of_range="clip").fit(values, groups=seg.row_ids())
    np.testing.assert_allclose(
        scaler.transform(values * 2, groups=seg), reference.transform(values * 2, groups=seg.row_ids())
    )


def test_errors_and_file_round_trip(panel, tmp_path):
    values, seg = panel
    with pytest.raises(seqscale.InputError, match="add up"):
        seqscale.StandardScaler().fit(values[:-1], groups=seg)
    with pytest.raises(seqscale.InputError, match="one length per id"):
        seqscale.Segments(["a"], [1, 2])
    scaler = seqscale.StandardScaler().fit(values, groups=seg)
    bad = values.copy()
    bad[5, 1] = np.inf
    with pytest.raises(seqscale.InputError, match="row 5"):
        scaler.transform(bad, groups=seg)
    scaler.save(tmp_path / "c.json")
    loaded = seqscale.load(tmp_path / "c.json")
    np.testing.assert_array_equal(loaded.transform(values, groups=seg), scaler.transform(values, groups=seg))
    report = scaler.check(values * 3, groups=seg)
    assert report["n_above"].sum() > 0


def test_from_sorted():
    seg = seqscale.Segments.from_sorted(np.array([7, 7, 3, 3, 3, 9]))
    assert seg.ids.tolist() == [7, 3, 9] and seg.lengths.tolist() == [2, 3, 1]
    assert seg.offsets.tolist() == [0, 2, 5, 6]


# ---------------------------------------------------------------------------------------------
# fit_transform in one sweep (statistics, coefficients and scaled values per segment)

ONE_SWEEP = [
    seqscale.MinMaxScaler(),
    seqscale.MinMaxScaler(feature_range=(-1, 1)),
    seqscale.MinMaxScaler(feature_range=(0.1, 0.9)),
    seqscale.StandardScaler(),
    seqscale.StandardScaler(with_mean=False),
    seqscale.StandardScaler(with_std=False),
    seqscale.MaxAbsScaler(),
]


def _ragged(rng, lengths, channels, dtype=np.float64):
    level = np.repeat(rng.lognormal(2, 2, size=len(lengths)), lengths)
    values = level[:, None] * (1 + 0.1 * rng.normal(size=(int(np.sum(lengths)), channels)))
    return values.astype(dtype)


@pytest.mark.filterwarnings("ignore::seqscale.ConstantFeatureWarning")
@pytest.mark.parametrize("scaler", ONE_SWEEP, ids=repr)
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_transform_equals_fit_then_transform(scaler, channels, dtype):
    rng = np.random.default_rng(channels)
    # empty, one-value, constant and NaN-holding series among ordinary ones
    lengths = np.array([0, 1, 5, 7, 300, 2, 64, 9, 1000])
    values = _ragged(rng, lengths, channels, dtype)
    values[6:11] = 3.5  # series 3 (rows 6..12) partly constant: constant once 11, 12 are set too
    values[11:13] = 3.5
    values[20, 0] = np.nan
    values[330:336] = np.nan  # a run of NaN inside series 5
    seg = seqscale.Segments([f"s{i}" for i in range(len(lengths))], lengths)
    two = scaler.__class__(**scaler.get_params())
    expected = two.fit(values, groups=seg).transform(values, groups=seg)
    got = scaler.fit_transform(values, groups=seg)
    assert got.dtype == dtype and not np.shares_memory(got, values)
    np.testing.assert_array_equal(got, expected)
    for attr in ("scale", "shift", "offset"):
        np.testing.assert_array_equal(getattr(scaler.affine_, attr), getattr(two.affine_, attr))
    np.testing.assert_array_equal(scaler.series_stats_.count, two.series_stats_.count)
    assert np.isnan(got[330:336]).all() and np.isnan(got[20, 0])


def test_one_sweep_statistics_match_numpy():
    rng = np.random.default_rng(5)
    lengths = rng.integers(0, 200, size=300)
    values = rng.normal(1e6, 3.0, size=(int(lengths.sum()), 2))
    values[rng.random(values.shape) < 0.01] = np.nan
    seg = seqscale.Segments(np.arange(300), lengths)
    scaler = seqscale.StandardScaler()
    with pytest.warns(seqscale.ConstantFeatureWarning):  # the empty series
        scaler.fit_transform(values, groups=seg)
    bounds = seg.offsets
    for k in range(300):
        block = values[bounds[k] : bounds[k + 1]]
        stats = scaler.series_stats_.take(k)
        np.testing.assert_array_equal(stats.count, (~np.isnan(block)).sum(axis=0))
        if block.size and not np.isnan(block).all(axis=0).any():
            np.testing.assert_allclose(stats.mean, np.nanmean(block, axis=0), rtol=1e-15)
            np.testing.assert_allclose(stats.m2, np.nanvar(block, axis=0) * stats.count, rtol=1e-9)
            np.testing.assert_array_equal(stats.min, np.nanmin(block, axis=0))
            np.testing.assert_array_equal(stats.max, np.nanmax(block, axis=0))


def test_one_sweep_min_max_of_signed_zeros_subnormals_and_huge_values():
    from seqscale.frames.segments import segment_moments

    values = np.array([0.0, -0.0, -5e-324, 5e-324, 1e308, 1.7e308, 1.6e308, -1.7e308, -1e308, -2.0, -3.0])
    count, mean, _, lo, hi = segment_moments(values.reshape(-1, 1), np.array([0, 4, 9, 11]))
    np.testing.assert_array_equal(lo.ravel(), [-5e-324, -1.7e308, -3.0])
    np.testing.assert_array_equal(hi.ravel(), [5e-324, 1.7e308, -2.0])
    np.testing.assert_array_equal(count.ravel(), [4, 5, 2])
    # the sum of the huge series overflows float64; its mean is still right
    np.testing.assert_allclose(mean[1, 0], 1.6e308 / 5, rtol=1e-12)
    huge = seqscale.MaxAbsScaler().fit_transform(values[4:9], groups=seqscale.Segments(["h"], [5]))
    np.testing.assert_allclose(huge, [1 / 1.7, 1.0, 1.6 / 1.7, -1.0, -1 / 1.7], rtol=1e-15)


def test_one_sweep_refuses_infinity_and_leaves_the_input():
    values = np.arange(20, dtype=float)
    values[13] = -np.inf
    kept = values.copy()
    with pytest.raises(seqscale.InputError, match="row 13"):
        seqscale.StandardScaler().fit_transform(values, groups=seqscale.Segments([1, 2], [10, 10]))
    np.testing.assert_array_equal(values, kept)


def test_coefficients_the_method_changes_are_reapplied():
    """The sweep's own coefficients are checked against the method's; differing series are redone."""

    class Halved(seqscale.StandardScaler):
        def _method_affine(self, stats, extra, names, series):
            affine = super()._method_affine(stats, extra, names, series)
            if series is not None:
                affine.scale[::3] *= 0.5
                affine.divisor[::3] *= 2.0  # the map divides by it
            return affine

    rng = np.random.default_rng(3)
    lengths = rng.integers(1, 50, size=40)
    values = rng.normal(size=int(lengths.sum()))
    seg = seqscale.Segments(np.arange(40), lengths)
    expected = Halved().fit(values, groups=seg).transform(values, groups=seg)
    np.testing.assert_array_equal(Halved().fit_transform(values, groups=seg), expected)
    plain = seqscale.StandardScaler().fit_transform(values, groups=seg)
    assert not np.allclose(plain, expected)


@pytest.mark.parametrize(
    "scaler",
    [
        seqscale.MinMaxScaler(bounds=(-50.0, 50.0)),
        seqscale.MinMaxScaler(margin=0.1),
        seqscale.StandardScaler(mean=0.0),
        seqscale.RobustScaler(),
        seqscale.MinMaxScaler(out_of_range="clip"),
        seqscale.StandardScaler(copy=False),
    ],
    ids=repr,
)
def test_fit_transform_of_segments_with_other_parameters(scaler, panel):
    values, seg = panel
    two = scaler.__class__(**scaler.get_params())
    expected = two.fit(values, groups=seg).transform(values.copy(), groups=seg)
    x = values.copy()
    got = scaler.fit_transform(x, groups=seg)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert np.shares_memory(got, x) == (scaler.copy is False)


def test_fit_transform_of_segments_keeps_the_container(panel):
    values, seg = panel
    frame = pd.DataFrame(values, columns=["a", "b"])
    got = seqscale.MinMaxScaler().fit_transform(frame, groups=seg)
    assert isinstance(got, pd.DataFrame) and list(got.columns) == ["a", "b"]
    np.testing.assert_array_equal(
        got.to_numpy(), seqscale.MinMaxScaler().fit(values, groups=seg).transform(values, groups=seg)
    )


@pytest.mark.slow
def test_threads_and_numpy_fallback_agree(monkeypatch):
    from seqscale.core import kernels as _kernels

    rng = np.random.default_rng(9)
    lengths = rng.integers(100, 3000, size=300)  # large enough for numba's threads
    values = rng.normal(5.0, 2.0, size=int(lengths.sum()))
    values[::997] = np.nan
    seg = seqscale.Segments(np.arange(300), lengths)
    threaded = seqscale.StandardScaler().fit_transform(values, groups=seg)
    with _kernels._PARALLEL_LOCK:  # another kernel holds the threads: this call runs on one
        serial = seqscale.StandardScaler().fit_transform(values, groups=seg)
    np.testing.assert_array_equal(threaded, serial)
    monkeypatch.setenv(_kernels.DISABLE_ENV, "1")
    fallback = seqscale.StandardScaler().fit_transform(values, groups=seg)
    np.testing.assert_allclose(fallback, threaded, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        seqscale.StandardScaler().fit(values, groups=seg).transform(values, groups=seg), threaded, atol=1e-12
    )


@settings(max_examples=150, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 40), min_size=1, max_size=12),
    channels=st.sampled_from([1, 2]),
    dtype=st.sampled_from([np.float64, np.float32]),
    data=st.data(),
)
def test_segment_statistics_property(lengths, channels, dtype, data):
    """Count, min and max exact; mean and m2 to rounding; NaN skipped; any dtype and width."""
    from seqscale.frames.segments import segment_moments

    n_rows = sum(lengths)
    element = st.one_of(
        st.floats(-1e6, 1e6, width=32), st.just(np.nan), st.just(0.0), st.just(-0.0), st.just(1.5)
    )
    flat = data.draw(st.lists(element, min_size=n_rows * channels, max_size=n_rows * channels))
    values = np.array(flat, dtype=dtype).reshape(n_rows, channels)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    count, mean, m2, lo, hi = segment_moments(values, offsets)
    for k in range(len(lengths)):
        block = values[offsets[k] : offsets[k + 1]].astype(np.float64)
        for c in range(channels):
            col = block[:, c][~np.isnan(block[:, c])]
            assert count[k, c] == col.size
            if col.size == 0:
                assert np.isnan(lo[k, c]) and np.isnan(hi[k, c]) and mean[k, c] == 0 and m2[k, c] == 0
                continue
            assert lo[k, c] == col.min() and hi[k, c] == col.max()
            np.testing.assert_allclose(mean[k, c], col.mean(), rtol=1e-12, atol=1e-9)
            np.testing.assert_allclose(m2[k, c], ((col - col.mean()) ** 2).sum(), rtol=1e-9, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# per-row integer ids of rows sorted by series take the segment path


def test_sorted_runs_detects_contiguous_integer_ids():
    from seqscale.frames.segments import sorted_runs

    ids = np.repeat(np.array([7, 3, 9]), [10, 20, 30])
    seg = sorted_runs(ids, 60, (60, 1))
    assert seg.ids.tolist() == [7, 3, 9] and seg.lengths.tolist() == [10, 20, 30]
    per_sample = sorted_runs(np.repeat([4, 5], [9, 10]), 19 * 6, (19, 6, 2))  # 3D: ids per sample
    assert per_sample.lengths.tolist() == [54, 60]
    assert sorted_runs(np.repeat([1, 2, 1], 10), 30, (30,)) is None  # series 1 in two runs
    assert sorted_runs(np.tile(np.arange(10), 10), 100, (100,)) is None  # interleaved
    named = sorted_runs(np.repeat(np.array(["b", "a"], dtype=object), [10, 12]), 22, (22,))
    assert named.ids.tolist() == ["b", "a"] and named.lengths.tolist() == [10, 12]
    assert sorted_runs(np.repeat(np.array(["a", None], dtype=object), 10), 20, (20,)) is None
    assert sorted_runs(np.repeat([0.5, np.nan], 10), 20, (20,)) is None
    assert sorted_runs(np.repeat(np.array(["a", "b", "a"], dtype=object), 10), 30, (30,)) is None
    assert sorted_runs(np.repeat([1, 2], 10), 21, (21,)) is None  # wrong length: per-row error


@pytest.mark.parametrize("cls", METHODS, ids=lambda c: c.__name__)
def test_sorted_int_ids_equal_segments_and_shuffled_rows(cls):
    rng = np.random.default_rng(11)
    lengths = rng.integers(8, 120, size=60)
    ids = np.repeat(rng.permutation(1000)[:60], lengths)  # sorted by series, ids not sorted
    values = _ragged(rng, lengths, 2)
    seg = seqscale.Segments.from_sorted(ids)
    got = cls().fit_transform(values, groups=ids)
    np.testing.assert_array_equal(got, cls().fit_transform(values, groups=seg))
    fitted = cls().fit(values, groups=ids)
    np.testing.assert_array_equal(fitted.transform(values, groups=ids), fitted.transform(values, groups=seg))
    np.testing.assert_allclose(fitted.inverse_transform(got, groups=ids), values, rtol=1e-12)
    perm = rng.permutation(ids.size)  # the same panel with its rows shuffled: the per-row path
    shuffled = cls().fit(values[perm], groups=ids[perm]).transform(values[perm], groups=ids[perm])
    np.testing.assert_allclose(shuffled, got[perm], rtol=1e-10, atol=1e-12)


def test_sorted_int_ids_keep_every_policy():
    rng = np.random.default_rng(12)
    lengths = rng.integers(10, 50, size=30)
    ids = np.repeat(np.arange(30), lengths)
    values = rng.normal(size=int(lengths.sum()))
    first = ids < 20
    # unseen series, own coefficients: no recursion between the segment and per-row paths
    own = seqscale.StandardScaler(unseen="own").fit(values[first], groups=ids[first])
    expected = own.transform(values, groups=ids.astype(str).astype(object))  # per-row reference
    np.testing.assert_allclose(own.transform(values, groups=ids), expected, rtol=1e-12)
    with pytest.raises(seqscale.UnseenSeriesError):
        seqscale.StandardScaler().fit(values[first], groups=ids[first]).transform(values, groups=ids)
    clip = seqscale.MinMaxScaler(out_of_range="clip").fit(values, groups=ids)
    assert clip.transform(values * 3, groups=ids).max() <= 1.0
    frame = pd.DataFrame({"id": ids, "v": values})
    by_column = seqscale.MaxAbsScaler().fit_transform(frame, groups="id")
    np.testing.assert_array_equal(
        by_column["v"].to_numpy(), seqscale.MaxAbsScaler().fit_transform(values, groups=ids)
    )


def test_sorted_string_ids_take_the_segment_path_and_missing_ids_are_named():
    rng = np.random.default_rng(13)
    lengths = rng.integers(8, 60, size=25)
    names = np.array([f"shop-{i:03d}" for i in rng.permutation(25)], dtype=object)
    ids = np.repeat(names, lengths)
    values = rng.normal(size=int(lengths.sum()))
    got = seqscale.StandardScaler().fit_transform(values, groups=ids)
    seg = seqscale.Segments(names, lengths)
    np.testing.assert_array_equal(got, seqscale.StandardScaler().fit_transform(values, groups=seg))
    as_strings = pd.Series(ids, dtype="string")  # a pandas string column works the same
    np.testing.assert_array_equal(seqscale.StandardScaler().fit_transform(values, groups=as_strings), got)
    broken = ids.copy()
    broken[40] = None
    with pytest.raises(seqscale.InputError, match="missing series id at row 40"):
        seqscale.StandardScaler().fit_transform(values, groups=broken)


def test_unique_ids_of_every_kind():
    assert seqscale.Segments([3, -2, 7], [1, 1, 1]).unique
    assert not seqscale.Segments([3, -2, 3], [1, 1, 1]).unique
    assert seqscale.Segments(np.array([5, 10**12], dtype=np.int64), [1, 1]).unique  # not compact
    assert not seqscale.Segments(np.array([10**12, 10**12], dtype=np.uint64), [1, 1]).unique
    assert not seqscale.Segments(["a", "b", "a"], [1, 1, 1]).unique
    assert seqscale.Segments(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)).unique
