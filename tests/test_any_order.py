"""Per-series scaling of rows in any order: one-call fit_transform equals fit then transform."""

import numpy as np
import pytest

import seqscale
from seqscale.core import kernels
from seqscale.frames import panel
from seqscale.frames.segments import sorted_runs

ONE_CALL = [seqscale.StandardScaler, seqscale.MinMaxScaler, seqscale.MaxAbsScaler]
_FIELDS = ("shift", "scale", "offset")


def _panel(rng, n_series, channels, dtype=np.float64):
    lengths = rng.integers(1, 60, size=n_series)
    lengths[0] = 1  # a one-row series
    codes = np.repeat(np.arange(n_series), lengths)
    level = rng.lognormal(2, 2, size=n_series)[codes]
    values = level[:, None] * (1 + 0.1 * rng.normal(size=(codes.size, channels)))
    values[rng.random(values.shape) < 0.03] = np.nan
    values[codes == 1] = np.nan  # a series with no value at all
    order = rng.permutation(codes.size)
    return values[order].astype(dtype), codes[order]


def _same_fit(a, b):
    np.testing.assert_array_equal(a.series_, b.series_)
    for f in _FIELDS:
        np.testing.assert_array_equal(getattr(a.affine_, f), getattr(b.affine_, f))
    for f in ("count", "mean", "m2", "min", "max"):
        np.testing.assert_array_equal(getattr(a.series_stats_, f), getattr(b.series_stats_, f))


@pytest.mark.filterwarnings("ignore::seqscale.ConstantFeatureWarning")
@pytest.mark.parametrize("cls", ONE_CALL, ids=lambda c: c.__name__)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(
    "ids_of",
    [lambda c: c, lambda c: c * 7 - 50, lambda c: c.astype(np.int32), lambda c: 3 * c + 1],
    ids=["codes", "offset", "int32", "gaps"],
)
def test_shuffled_fit_transform_is_fit_then_transform(cls, dtype, channels, ids_of):
    rng = np.random.default_rng(3)
    values, codes = _panel(rng, 300, channels, dtype)
    ids = ids_of(codes)
    one = cls()
    got = one.fit_transform(values, groups=ids)
    two = cls().fit(values, groups=ids)
    expected = two.transform(values, groups=ids)
    assert got.dtype == values.dtype
    np.testing.assert_array_equal(got, expected)
    _same_fit(one, two)
    assert np.isnan(got[codes == 1]).all()  # the all-NaN series stays NaN
    single = np.flatnonzero(codes == 0)
    target = 1.0 if cls is seqscale.MaxAbsScaler else 0.0  # a one-row series is constant
    assert single.size == 1 and (np.isnan(values[single]) | (np.abs(got[single]) == target)).all()


@pytest.mark.filterwarnings("ignore::seqscale.ConstantFeatureWarning")
@pytest.mark.parametrize("cls", ONE_CALL, ids=lambda c: c.__name__)
def test_shuffled_rows_match_sorted_rows(cls):
    rng = np.random.default_rng(4)
    values, codes = _panel(rng, 200, 2)
    order = np.argsort(codes, kind="stable")
    shuffled = cls().fit_transform(values, groups=codes)
    sorted_ = cls().fit_transform(values[order], groups=codes[order])
    np.testing.assert_allclose(shuffled[order], sorted_, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("unseen", ["pooled", "median", "error"])
def test_one_call_fit_serves_unseen_series_like_fit(unseen):
    rng = np.random.default_rng(5)
    values, codes = _panel(rng, 100, 2)
    one = seqscale.StandardScaler(unseen=unseen)
    one.fit_transform(values, groups=codes)
    two = seqscale.StandardScaler(unseen=unseen).fit(values, groups=codes)
    new = np.array([5, 500, 7, 501])
    x = rng.normal(size=(4, 2))
    if unseen == "error":
        for est in (one, two):
            with pytest.raises(seqscale.errors.UnseenSeriesError, match="500"):
                est.transform(x, groups=new)
        return
    np.testing.assert_array_equal(one.transform(x, groups=new), two.transform(x, groups=new))


def test_empty_and_one_row_inputs():
    for n in (0, 1):
        x = np.ones((n, 2))
        ids = np.arange(n)
        try:
            expected = seqscale.StandardScaler().fit(x, groups=ids).transform(x, groups=ids)
        except Exception as err:  # the same refusal from both
            with pytest.raises(type(err)):
                seqscale.StandardScaler().fit_transform(x, groups=ids)
            continue
        np.testing.assert_array_equal(seqscale.StandardScaler().fit_transform(x, groups=ids), expected)


def test_string_ids_sorted_equal_codes_bit_for_bit():
    rng = np.random.default_rng(6)
    lengths = rng.integers(5, 40, size=80)
    codes = np.repeat(np.arange(80), lengths)
    names = np.array([f"store-{i}" for i in range(80)], dtype=object)
    shared = names[codes]  # one object per series
    distinct = np.array([f"store-{c}" for c in codes.tolist()], dtype=object)  # one object per row
    values = rng.normal(size=(codes.size, 2)) * 3 + 10
    expected = seqscale.MinMaxScaler().fit_transform(values, groups=codes)
    for ids in (shared, distinct):
        seg = sorted_runs(ids, ids.size, (ids.size, 2))
        assert seg is not None and seg.ids.tolist() == names.tolist()
        assert seg.lengths.tolist() == lengths.tolist()
        np.testing.assert_array_equal(seqscale.MinMaxScaler().fit_transform(values, groups=ids), expected)


def test_object_runs_by_identity_still_compare_values():
    a1, a2 = "".join(["a", "b"]), "".join(["a", "b"])  # equal strings, two objects
    assert a1 is not a2
    ids = np.array([a1] * 10 + [a2] * 10 + ["c"] * 20, dtype=object)
    seg = sorted_runs(ids, 40, (40,))
    assert seg.ids.tolist() == ["ab", "c"] and seg.lengths.tolist() == [20, 20]
    back = np.array(["x"] * 10 + ["y"] * 10 + ["x"] * 10, dtype=object)  # x in two runs: per row
    assert sorted_runs(back, 30, (30,)) is None
    assert sorted_runs(np.array(["x"] * 10 + [None] * 10, dtype=object), 20, (20,)) is None


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint16, np.int8])
def test_int_presence_matches_bincount(dtype):
    rng = np.random.default_rng(7)
    ids = (rng.integers(0, 90, size=50_000) - 40).astype(dtype)
    ids = ids[(ids % 7) != 0]  # gaps
    lo, hi = kernels.int_span(ids)
    expected = np.bincount(ids.astype(np.int64) - lo) > 0
    np.testing.assert_array_equal(kernels.int_presence(ids, lo, hi - lo + 1), expected)


@pytest.mark.parametrize("kind", ["pandas", "polars", "pyarrow"])
@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_arrow_text_ids_equal_object_ids(kind, order):
    rng = np.random.default_rng(8)
    lengths = rng.integers(10, 40, size=50)
    names = np.array([f"id-{i}" for i in range(50)], dtype=object)[np.repeat(np.arange(50), lengths)]
    values = rng.normal(size=(names.size, 2)) * 5 + 1
    if order == "shuffled":
        perm = rng.permutation(names.size)
        names, values = names[perm], values[perm]
    if kind == "pandas":
        import pandas as pd

        ids = pd.Series(names, dtype="string[pyarrow]")
    elif kind == "polars":
        pl = pytest.importorskip("polars")
        ids = pl.Series(names.tolist())
    else:
        import pyarrow as pa

        ids = pa.chunked_array([names[:100].tolist(), names[100:].tolist()])
    expected = seqscale.StandardScaler().fit(values, groups=names)
    got = seqscale.StandardScaler()
    out = got.fit_transform(values, groups=ids)
    np.testing.assert_array_equal(out, expected.transform(values, groups=names))
    assert got.series_.tolist() == expected.series_.tolist()
    np.testing.assert_array_equal(got.transform(values, groups=ids), out)


def test_arrow_text_missing_id_is_named():
    import pandas as pd

    ids = pd.Series(["a"] * 10 + [None] + ["b"] * 9, dtype="string[pyarrow]")
    with pytest.raises(seqscale.errors.InputError, match="missing series id at row 10"):
        seqscale.StandardScaler().fit_transform(np.ones(20), groups=ids)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.uint32])
@pytest.mark.parametrize("order", ["random", "ascending"])
def test_span_codes_and_absent_ids_match_factorize(dtype, order):
    rng = np.random.default_rng(9)
    for span in (1, 700, 20_000, 90_000):  # dense, with holes, past the compact limit
        ids = rng.integers(0, span, size=20_000) + (0 if dtype == np.uint32 else -(span // 3))
        ids = ids.astype(dtype)
        if order == "ascending":
            ids = np.sort(ids)
        found = panel.span_codes(ids)
        lo, hi = int(ids.min()), int(ids.max())
        if hi - lo > 4 * ids.size + 1024:
            assert found is None
            continue
        codes, low, size = found
        assert (low, size) == (lo, hi - lo + 1)
        np.testing.assert_array_equal(codes, ids.astype(np.int64) - lo)
        present = np.bincount(codes, minlength=size) > 0
        codes, uniques = panel.drop_absent(codes, low, size, present)
        expected = np.unique(ids.astype(np.int64))
        assert uniques.tolist() == expected.tolist()
        np.testing.assert_array_equal(uniques[codes], ids.astype(np.int64))


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_first_fit_with_absent_ids_empty_and_zero_weight_series(order):
    """Ids with holes, a series of NaN only and one of zero weight: the same series, in the
    same order, with the same statistics as pandas' hash-based codes give."""
    rng = np.random.default_rng(12)
    keys = np.array([3, 5, 6, 9, 40, 41])  # holes between them
    lengths = rng.integers(20, 60, size=keys.size)
    ids = np.repeat(keys, lengths)
    x = rng.normal(size=(ids.size, 2)) * 4 + 100
    x[ids == 9] = np.nan  # series 9: no value at all
    weight = np.where(ids == 41, 0.0, 1.0)
    if order == "shuffled":
        perm = rng.permutation(ids.size)
        ids, x, weight = ids[perm], x[perm], weight[perm]
    for w in (None, weight):
        fitted = seqscale.StandardScaler().fit(x, groups=ids, sample_weight=w)
        by_name = seqscale.StandardScaler().fit(x, groups=ids.astype(str), sample_weight=w)
        assert fitted.series_.tolist() == keys.tolist()
        order_of = {k: i for i, k in enumerate(by_name.series_.tolist())}
        pick = [order_of[str(k)] for k in keys]
        for field in ("count", "mean", "m2", "min", "max"):
            np.testing.assert_array_equal(
                getattr(fitted.series_stats_, field), getattr(by_name.series_stats_, field)[pick]
            )


def test_short_runs_guess():
    rng = np.random.default_rng(10)
    assert kernels.short_runs(rng.integers(0, 1000, size=100_000))
    assert not kernels.short_runs(np.repeat(np.arange(1000), 100))
    assert not kernels.short_runs(rng.integers(0, 1000, size=1000))  # too few to sample


def test_code_moments_of_rows_in_any_order_match_a_sorted_pass():
    rng = np.random.default_rng(11)
    codes = rng.integers(0, 3000, size=300_000)  # over the parallel threshold: two tables merged
    x = rng.normal(size=(codes.size, 2)) * rng.uniform(0.1, 50, 3000)[codes, None] + 1e4
    x[rng.random(x.shape) < 0.02] = np.nan
    count, mean, m2, mn, mx = kernels.segment_moments(x, codes, 3001)
    assert count[3000].sum() == 0 and np.isnan(mn[3000]).all()
    order = np.argsort(codes, kind="stable")
    xs, cs = x[order], codes[order]
    starts = np.searchsorted(cs, np.arange(3000))
    for g in (0, 1, 1234, 2999):
        block = xs[starts[g] : starts[g + 1] if g + 1 < 3000 else None]
        for j in range(2):
            v = block[:, j][~np.isnan(block[:, j])]
            assert count[g, j] == v.size
            np.testing.assert_allclose(mean[g, j], v.mean(), rtol=1e-13)
            np.testing.assert_allclose(m2[g, j], ((v - v.mean()) ** 2).sum(), rtol=1e-12)
            assert mn[g, j] == v.min() and mx[g, j] == v.max()


def test_narrow_int_ids_spanning_their_type_are_not_wrapped():
    # 20,000 rows make the span of 60,001 integers compact: coded by offset, not hashed
    ids = np.tile(np.array([-30_000, 30_000, -30_000, 0], dtype=np.int16), 5000)
    x = np.tile([1.0, 2.0, 3.0, 4.0], 5000)
    fitted = seqscale.MinMaxScaler().fit(x, groups=ids)
    assert fitted.series_.tolist() == [-30_000, 0, 30_000]
    np.testing.assert_array_equal(fitted.transform(x, groups=ids)[:4], [0.0, 0.0, 1.0, 0.0])
    later = np.array([30_000, -30_000, 0], dtype=np.int16)  # known ids, another order
    np.testing.assert_array_equal(fitted.transform(np.array([2.0, 2.0, 4.0]), groups=later), [0.0, 0.5, 0.0])


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("divide", [False, True])
def test_rows_in_random_order_are_mapped_row_by_row_exactly(channels, divide):
    """Shuffled codes take the row-by-row gather loop; it gives ``(x - h) / s + o`` (or
    ``* s``) and its inverse bit for bit, as numpy does, for one and several channels."""
    rng = np.random.default_rng(13)
    G, R = 500, 200_000
    codes = rng.integers(0, G, size=R)
    assert kernels.short_runs(codes)
    x = rng.normal(size=(R, channels)) * 7 + 3
    s = rng.uniform(0.5, 2, (G, channels))
    o, h = rng.normal(size=(G, channels)), rng.normal(size=(G, channels))
    y = kernels.segment_affine_apply(x, codes, s, o, shift2d=h, divide=divide)
    expected = (x - h[codes]) / s[codes] + o[codes] if divide else (x - h[codes]) * s[codes] + o[codes]
    np.testing.assert_array_equal(y, expected)
    back = kernels.segment_affine_invert(y, codes, s, o, shift2d=h, divide=divide)
    inverse = (y - o[codes]) * s[codes] + h[codes] if divide else (y - o[codes]) / s[codes] + h[codes]
    np.testing.assert_array_equal(back, inverse)
    bad = codes.copy()
    bad[[7, 99_999]] = [G, -1]
    with pytest.raises(IndexError, match="2 group codes outside"):
        kernels.segment_affine_apply(x, bad, s, o, shift2d=h, divide=divide)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("channels", [1, 2])
def test_codes_outside_the_table_are_counted_by_both_shuffled_kernels(dtype, channels):
    """The kernels read a code as unsigned, so one comparison catches a code of G or more and a
    negative one, of 32 and 64 bits alike: the statistics and the map both count them (no
    table is read or written out of bounds) and the other rows are unchanged."""
    rng = np.random.default_rng(29)
    G, R = 300, 100_000
    codes = rng.integers(0, G, size=R).astype(dtype)
    assert kernels.short_runs(codes)
    x = rng.normal(size=(R, channels)) * 3 + 10
    s, o, h = (rng.uniform(0.5, 2, (G, channels)) for _ in range(3))
    bad = codes.copy()
    bad[[1, 500, 70_000]] = [-1, G, np.iinfo(dtype).min]
    with pytest.raises(IndexError, match="3 group codes outside"):
        kernels.segment_moments(x, bad, G)
    with pytest.raises(IndexError, match="3 group codes outside"):
        kernels.segment_affine_apply(x, bad, s, o, shift2d=h)
    good = np.ones(R, bool)
    good[[1, 500, 70_000]] = False
    c = codes[good]
    count, mean, *_ = kernels.segment_moments(x[good], c, G)
    for j in range(channels):
        n = np.bincount(c, minlength=G)
        np.testing.assert_array_equal(count[:, j], n)
        np.testing.assert_allclose(mean[:, j], np.bincount(c, x[good][:, j], G) / n, rtol=1e-13)
    y = kernels.segment_affine_apply(x[good], c, s, o, shift2d=h)
    np.testing.assert_array_equal(y, (x[good] - h[c]) * s[c] + o[c])


def test_ids_in_random_order_keep_an_all_missing_series_at_the_span_edge():
    rng = np.random.default_rng(23)
    ids = rng.permutation(np.repeat(np.arange(5, 505), 400))
    x = rng.normal(size=ids.size)
    x[ids == 504] = np.nan  # the highest id has no value
    x[ids == 5] = np.nan  # nor the lowest
    fitted = seqscale.StandardScaler().fit(x, groups=ids)
    assert fitted.series_.tolist() == list(range(5, 505))
    assert fitted.series_stats_.count[[0, -1], 0].tolist() == [0.0, 0.0]
    out = fitted.transform(x, groups=ids)
    assert np.isnan(out[ids == 504]).all()
    keep = ids == 77
    np.testing.assert_allclose(out[keep], (x[keep] - x[keep].mean()) / x[keep].std(), rtol=1e-12)


def _ids_case(kind, rng):
    """Integer ids of rows in random order, enough of them for the sampled span, and values."""
    n = 3000
    ids = np.repeat(np.arange(n, dtype=np.int64), rng.integers(20, 60, n))
    x = rng.normal(size=(ids.size, 2)) * rng.uniform(0.1, 9, n)[ids, None] + rng.normal(50, 20, n)[ids, None]
    if kind == "offset":
        ids = ids + 10_000
    elif kind == "negative":
        ids = ids - 1500
    elif kind == "gaps":
        ids = ids * 3 + 1
    elif kind == "int32":
        ids = ids.astype(np.int32)
    elif kind == "all-nan edges":  # empty entries the pass cannot tell from absent ids
        x[(ids == 0) | (ids == n - 1)] = np.nan
        x[::97, 1] = np.nan
    elif kind == "outlier":  # one row far above the rest: the sample misses it
        ids[ids.size // 3] = 50_000
    elif kind == "short edge":  # the highest id has one row only
        ids[-1] = n + 200
    order = rng.permutation(ids.size)
    return ids[order], x[order]


@pytest.mark.parametrize(
    "kind", ["codes", "offset", "negative", "gaps", "int32", "all-nan edges", "outlier", "short edge"]
)
def test_sampled_span_gives_the_exact_spans_result_bit_for_bit(monkeypatch, kind):
    """Integer ids in random order are fitted in one pass over a span guessed from a sample; the
    codes, series and every statistic equal those of the exact span found by a min/max pass
    first, whether the guess holds, holds with empty entries to cut off, or misses an id."""
    from seqscale.core.stats import Moments
    from seqscale.scalers import rows

    ids, x = _ids_case(kind, np.random.default_rng(31))
    guess = panel.sampled_span(ids)
    assert guess is not None
    took = Moments.from_id_span(x, ids, *guess)
    assert (took is None) == (kind == "outlier")  # the one case where the guess misses
    codes, series, stats = rows.group_moments(x, ids)
    monkeypatch.setattr(panel, "sampled_span", lambda ids: None)
    want_codes, want_series, want = rows.group_moments(x, ids)
    np.testing.assert_array_equal(codes, want_codes)
    np.testing.assert_array_equal(series, want_series)
    assert series.tolist() == np.unique(ids).tolist()
    for field in ("count", "mean", "m2", "min", "max", "residual"):
        np.testing.assert_array_equal(getattr(stats, field), getattr(want, field))


def test_sampled_span_fit_transform_equals_the_exact_span(monkeypatch):
    ids, x = _ids_case("gaps", np.random.default_rng(32))
    fast = seqscale.StandardScaler()
    y = fast.fit_transform(x, groups=ids)
    monkeypatch.setattr(panel, "sampled_span", lambda ids: None)
    exact = seqscale.StandardScaler()
    np.testing.assert_array_equal(y, exact.fit_transform(x, groups=ids))
    _same_fit(fast, exact)
    keep = ids == 3 * 17 + 1
    np.testing.assert_allclose(y[keep], (x[keep] - x[keep].mean(0)) / x[keep].std(0), rtol=1e-12, atol=1e-13)


def test_sampled_span_declines_what_it_cannot_check():
    from seqscale.core.stats import Moments

    rng = np.random.default_rng(33)
    ids = rng.integers(0, 1000, 300_000)
    assert panel.sampled_span(ids[:1000]) is None  # too few rows to sample
    assert panel.sampled_span(ids.astype(np.int16)) is None  # narrow ids: the exact path widens them
    assert panel.sampled_span(ids.astype(float)) is None
    sparse = ids * 10**9  # far wider than the rows: hashed, not spanned
    assert panel.sampled_span(sparse) is None
    x = np.ones((ids.size, 1))
    assert kernels.id_span_acc(x, np.sort(ids), 0, 1200) is None  # rows in runs: the run pass
    assert kernels.id_span_acc(x, ids, 0, 80_000) is None  # one table where the exact span has two
    acc, nan = kernels.id_span_acc(x, ids, 0, 1200)
    assert nan == 0 and acc[0, :1000, 0].sum() == ids.size
    # ids the exact path would refuse or copy are left to it
    assert kernels.id_span_acc(x[:-5], ids, 0, 1200) is None  # one id per row, or the exact error
    assert kernels.id_span_acc(x, ids[::-1], 0, 1200) is None  # not contiguous
    assert kernels.id_span_acc(np.empty((ids.size, 0)), ids, 0, 1200) is None  # no channel
    with pytest.raises(ValueError, match="codes has 300000 entries for 299995 rows"):
        Moments.from_groups(x[:-5], ids, 1000)
    assert Moments.from_id_span(x[:-5], ids, 0, 1200) is None
