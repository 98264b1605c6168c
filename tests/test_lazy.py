"""polars LazyFrame fits computed by polars' own aggregation, every method, weights and padding:
equal to the numpy path (robust's quantiles bit for bit, the rest within 1e-12 relative), and
nothing but per-series aggregates is ever collected."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import seqscale
from seqscale.core.quantiles import QuantileSketch
from seqscale.frames import lazy

pl = pytest.importorskip("polars")

COEFS = ("shift", "scale", "offset")


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(8)
    n = 20_000
    ids = rng.integers(0, 40, n)
    a = 1e6 + rng.normal(0.0, 3.0, n) + ids  # far from zero
    a[::97] = np.nan
    b = rng.standard_t(2, n)
    return pl.DataFrame({"id": ids, "a": a, "b": b, "w": (np.arange(n) % 5).astype(float) * 0.7})


@pytest.fixture
def collected_sizes(monkeypatch):
    """The row counts of everything the lazy fit collects."""
    sizes = []
    original = lazy.collect

    def recording(frame):
        out = original(frame)
        sizes.append(len(out))
        return out

    monkeypatch.setattr(lazy, "collect", recording)
    return sizes


def _eager(cls, panel, groups, weight, **params):
    frame = panel.drop("w") if groups else panel.drop("w", "id")
    w = None if weight is None else panel[weight].to_numpy()
    return cls(**params).fit(frame, groups=groups, sample_weight=w)


def _lazy_input(panel, groups, weight):
    keep = [c for c in panel.columns if (c != "id" or groups) and (c != "w" or weight)]
    return panel.select(keep).lazy()


def _assert_equal_fit(got, want, exact):
    # a mean near zero among values of order 10 (column b's heavy tails) is known to about
    # 1e-15 absolute, not relative: the corrected two-pass mean of polars is the closer one
    tol = {"rtol": 0, "atol": 0} if exact else {"rtol": 1e-12, "atol": 1e-14}
    for attr in COEFS:
        np.testing.assert_allclose(
            getattr(got.affine_, attr), getattr(want.affine_, attr), err_msg=attr, **tol
        )
    np.testing.assert_allclose(got.n_samples_seen_, want.n_samples_seen_, rtol=1e-13)
    if hasattr(want, "series_"):
        np.testing.assert_array_equal(got.series_, want.series_)


@pytest.mark.parametrize("groups", [None, "id"])
@pytest.mark.parametrize("quantile_range", [(25.0, 75.0), (10.0, 90.0), (33.0, 66.7)])
def test_robust_quantiles_by_polars_equal_numpy_bit_for_bit(panel, collected_sizes, groups, quantile_range):
    est = seqscale.RobustScaler(quantile_range=quantile_range, unseen="pooled")
    got = est.fit(_lazy_input(panel, groups, None), groups=groups)
    want = _eager(seqscale.RobustScaler, panel, groups, None, quantile_range=quantile_range, unseen="pooled")
    _assert_equal_fit(got, want, exact=True)
    np.testing.assert_array_equal(got.scale_, want.scale_)
    assert got.exact_ and max(collected_sizes) <= 40  # aggregates only, never the 20,000 rows
    if groups:
        np.testing.assert_array_equal(got.fallback_.scale, want.fallback_.scale)  # pooled quantiles
    out = got.transform(_lazy_input(panel, groups, None), groups=groups)
    assert isinstance(out, pl.LazyFrame)
    frame = panel.drop("w") if groups else panel.drop("w", "id")
    np.testing.assert_allclose(
        out.collect().select("a", "b").to_numpy(),
        want.transform(frame, groups=groups).select("a", "b").to_numpy(),
        rtol=1e-12,
        atol=1e-12,
    )


def test_quantiles_with_nulls_match_the_sketch_for_every_count():
    rng = np.random.default_rng(1)
    values = rng.normal(size=600)
    ids = np.repeat(np.arange(40), np.arange(40) // 2 + 1)[:600]
    values = values[: ids.size]
    values[rng.random(ids.size) < 0.2] = np.nan
    frame = pl.DataFrame({"id": ids, "x": values}).with_columns(pl.col("x").fill_nan(None))
    probs = [0.5, 0.1, 0.25, 0.3, 0.667, 0.9]
    got = lazy.quantiles(frame.lazy(), ["x"], probs, "id")
    sketch = QuantileSketch.from_values(values, ids, 40)
    for p, q in zip(probs, got):
        np.testing.assert_array_equal(q[:, 0], sketch.quantile(p), err_msg=str(p))


@pytest.mark.parametrize(
    "cls", [seqscale.StandardScaler, seqscale.MinMaxScaler, seqscale.MaxAbsScaler, seqscale.MeanAbsScaler]
)
@pytest.mark.parametrize("groups", [None, "id"])
@pytest.mark.parametrize("weight", [None, "w"])
def test_weights_and_mean_abs_by_polars(panel, collected_sizes, cls, groups, weight):
    got = cls().fit(_lazy_input(panel, groups, weight), groups=groups, sample_weight=weight)
    want = _eager(cls, panel, groups, weight)
    _assert_equal_fit(got, want, exact=False)
    assert max(collected_sizes) <= 40
    if cls is seqscale.MeanAbsScaler:  # a mergeable statistic: partial_fit continues it
        more = panel.head(1_000)
        got.partial_fit(_lazy_input(more, groups, None).collect(), groups=groups)
        want.partial_fit(_lazy_input(more, groups, None).collect(), groups=groups)
        np.testing.assert_allclose(got.affine_.scale, want.affine_.scale, rtol=1e-12)


@pytest.mark.parametrize("cls", [seqscale.StandardScaler, seqscale.RobustScaler, seqscale.MeanAbsScaler])
def test_padding_is_filtered_in_the_plan(panel, collected_sizes, cls):
    padded = panel.with_columns(
        pl.when(pl.int_range(pl.len()) % 11 == 0).then(-1.0).otherwise(pl.col(c)).alias(c) for c in ("a", "b")
    )
    got = cls(mask_value=-1.0).fit(_lazy_input(padded, "id", None), groups="id")
    want = _eager(cls, padded, "id", None, mask_value=-1.0)
    _assert_equal_fit(got, want, exact=cls is seqscale.RobustScaler)
    assert max(collected_sizes) <= 40
    out = got.transform(_lazy_input(padded, "id", None), groups="id").collect()  # padding kept
    expected = want.transform(padded.drop("w"), groups="id")
    np.testing.assert_allclose(
        out.select("a", "b").to_numpy(), expected.select("a", "b").to_numpy(), rtol=1e-12, atol=1e-12
    )
    assert (out.filter(pl.int_range(pl.len()) % 11 == 0).select("a", "b").to_numpy() == -1.0).all()


def test_what_polars_cannot_express_is_collected_and_still_equal(panel, collected_sizes):
    """Weighted quantiles (the inverted weighted CDF) and weight arrays collect the frame."""
    got = seqscale.RobustScaler().fit(_lazy_input(panel, "id", "w"), groups="id", sample_weight="w")
    want = _eager(seqscale.RobustScaler, panel, "id", "w")
    _assert_equal_fit(got, want, exact=True)
    assert max(collected_sizes) == len(panel)
    w = panel["w"].to_numpy()
    got = seqscale.StandardScaler().fit(_lazy_input(panel, None, None), sample_weight=w)
    _assert_equal_fit(got, _eager(seqscale.StandardScaler, panel, None, "w"), exact=False)


def test_refusals(panel):
    bad = panel.with_columns(
        pl.when(pl.int_range(pl.len()) == 7).then(-2.0).otherwise(pl.col("w")).alias("w")
    )
    with pytest.raises(seqscale.InputError, match=r"-2\.0 at index 7"):
        seqscale.StandardScaler().fit(_lazy_input(bad, None, "w"), sample_weight="w")
    with pytest.raises(seqscale.InputError, match="'nope'"):
        seqscale.StandardScaler().fit(_lazy_input(panel, None, None), sample_weight="nope")
    robust = seqscale.RobustScaler().fit(_lazy_input(panel, "id", None), groups="id")
    with pytest.raises(seqscale.ParameterError, match="partial_fit"):
        robust.partial_fit(panel.drop("w").head(10), groups="id")


@pytest.mark.parametrize(
    "cls",
    [
        seqscale.StandardScaler,
        seqscale.MinMaxScaler,
        seqscale.MaxAbsScaler,
        seqscale.RobustScaler,
        seqscale.MeanAbsScaler,
    ],
)
@pytest.mark.parametrize("groups", [None, "id"])
def test_lazy_transform_equals_eager_bit_for_bit(panel, cls, groups):
    """One fitted scaler, a lazy frame and an eager one: per series the same bits both ways,
    forward and back, since the plan divides where the kernels divide (a multiplication by the
    reciprocal differed in the last bit for a fifth of the values). Without groups polars itself
    divides a column by a number through its reciprocal: one rounding more, within 1e-12."""
    same = np.testing.assert_array_equal
    if groups is None:
        same = functools.partial(np.testing.assert_allclose, rtol=1e-12, atol=1e-12)
    frame = panel.drop("w") if groups else panel.drop("w", "id")
    fitted = cls(unseen="pooled").fit(frame, groups=groups)
    unseen = frame.with_columns(pl.col("id") + 1) if groups else frame  # id 40: the pooled fallback
    for data in (frame, unseen):
        eager = fitted.transform(data, groups=groups)
        lazy_out = fitted.transform(data.lazy(), groups=groups).collect()
        same(lazy_out.select("a", "b").to_numpy(), eager.select("a", "b").to_numpy())
        back = fitted.inverse_transform(eager, groups=groups)
        lazy_back = fitted.inverse_transform(eager.lazy(), groups=groups).collect()
        same(lazy_back.select("a", "b").to_numpy(), back.select("a", "b").to_numpy())
