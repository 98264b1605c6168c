"""Segments (ids + ragged lengths of sorted rows) give the same results as one id per row."""

import numpy as np
import pytest

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
