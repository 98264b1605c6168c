"""The method registry: every path reads it; MeanAbsScaler proves it (GluonTS's MeanScaler);
the segment sweep equals the registry's rule; one merge formula for any split and order."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import seqscale
from seqscale.core import registry
from seqscale.core.stats import Moments
from seqscale.frames.segments import segment_fit_apply
from seqscale.scalers import MeanAbsScaler
from seqscale.scalers.registry import SCALERS
from seqscale.sequence import pipeline_specs, plan_schema


def gluonts_mean_scale(data: np.ndarray, observed: np.ndarray, minimum_scale: float = 1e-10) -> np.ndarray:
    """GluonTS ``MeanScaler`` (torch) in numpy, over axis 1 of ``(series, time)`` data: the mean
    of ``|x|`` over observed values, the batch's for a series with none, at least ``minimum_scale``."""
    ts_sum = np.abs(data * observed).sum(axis=1)
    num_observed = observed.sum(axis=1)
    scale = ts_sum / np.maximum(num_observed, 1)
    batch = ts_sum.sum() / max(num_observed.sum(), 1)
    scale = np.where(num_observed > 0, scale, batch)
    return np.maximum(scale, minimum_scale)


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(7)
    lengths = [5, 8, 3, 6]
    values = [rng.normal(3.0, 2.0, n) for n in lengths]
    values[2] = np.zeros(3)  # an all-zero series: the floor
    ids = np.repeat(["a", "b", "c", "d"], lengths)
    return ids, np.concatenate(values), lengths


def test_registry_lists_every_scaler_and_every_path_reads_it():
    assert registry.names() == tuple(SCALERS) == ("minmax", "standard", "robust", "maxabs", "meanabs")
    assert plan_schema.METHODS == pipeline_specs.METHODS == (*registry.names(), "none")
    for name, method in registry.METHODS.items():
        assert SCALERS[name].method == name
        assert set(method.domain) <= set(SCALERS[name]().get_params())
    assert registry.get("robust").extra.record == ("median", "q_low", "q_high")
    with pytest.raises(seqscale.ParameterError, match="not one of"):
        registry.get("zscore")


def test_meanabs_dense_matches_numpy():
    x = np.array([[1.0, -2.0, 0.0], [3.0, 4.0, 0.0], [-5.0, np.nan, 0.0]])
    est = MeanAbsScaler().fit(x)
    expected = np.array([3.0, 3.0, 1e-10])  # nan ignored; an all-zero column takes the floor
    np.testing.assert_array_equal(est.scale_, expected)
    np.testing.assert_allclose(est.transform(x), x / expected, rtol=1e-15)
    np.testing.assert_allclose(est.inverse_transform(est.transform(x)), x, rtol=1e-15)


def test_meanabs_per_series_matches_gluonts(panel):
    ids, values, lengths = panel
    est = MeanAbsScaler().fit(values[:, None], groups=ids)
    width = max(lengths)
    data = np.zeros((len(lengths), width))
    observed = np.zeros_like(data)
    for k, chunk in enumerate(np.split(values, np.cumsum(lengths)[:-1])):
        data[k, : len(chunk)], observed[k, : len(chunk)] = chunk, 1.0
    scale = gluonts_mean_scale(data, observed)
    np.testing.assert_allclose(est.scale_[:, 0], scale, rtol=1e-15)
    out = est.transform(values[:, None], groups=ids)[:, 0]
    np.testing.assert_allclose(out, values / np.repeat(scale, lengths), rtol=1e-15)
    # Segments (the one-sweep path) and rows in any order give the same coefficients
    seg = seqscale.Segments(["a", "b", "c", "d"], lengths)
    by_seg = MeanAbsScaler().fit(values[:, None], groups=seg)
    np.testing.assert_array_equal(by_seg.affine_.scale, est.affine_.scale)
    np.testing.assert_allclose(
        MeanAbsScaler().fit_transform(values[:, None], groups=seg)[:, 0], out, rtol=1e-15
    )
    order = np.random.default_rng(1).permutation(len(ids))
    shuffled = MeanAbsScaler().fit(values[order, None], groups=ids[order])
    by_id = dict(zip(shuffled.series_, shuffled.scale_[:, 0]))
    np.testing.assert_allclose([by_id[s] for s in est.series_], est.scale_[:, 0], rtol=1e-15)


def test_meanabs_partial_fit_and_unseen_series_use_the_pooled_mean(panel):
    ids, values, _ = panel
    whole = MeanAbsScaler(unseen="pooled").fit(values[:, None], groups=ids)
    part = MeanAbsScaler(unseen="pooled")
    for chunk in np.array_split(np.arange(len(ids)), 3):
        part.partial_fit(values[chunk, None], groups=ids[chunk])
    np.testing.assert_allclose(part.affine_.scale, whole.affine_.scale, rtol=1e-15)
    pooled = np.abs(values).mean()
    out = whole.transform(np.array([[2.0]]), groups=np.array(["new"]))
    np.testing.assert_allclose(out, [[2.0 / pooled]], rtol=1e-15)


def test_meanabs_coefficient_file_round_trip(panel, tmp_path):
    ids, values, _ = panel
    est = MeanAbsScaler().fit(pd.DataFrame({"v": values, "w": -2 * values}), groups=ids)
    path = tmp_path / "c.json"
    est.save(path)
    record = json.loads(path.read_text())
    assert record["method"] == "meanabs" and "pooled" in record
    assert record["channels"][0]["mean_abs"] == pytest.approx(np.abs(values[:5]).mean(), rel=1e-15)
    back = seqscale.load(path)
    np.testing.assert_array_equal(back.affine_.scale, est.affine_.scale)
    np.testing.assert_array_equal(back.scale_, est.scale_)
    record["channels"][0]["scale"] *= 2.0  # a coefficient that does not follow from the statistics
    path.write_text(json.dumps(record))
    with pytest.raises(seqscale.CoefficientFileError):
        seqscale.load(path)


def test_meanabs_fit_file_equals_in_memory(tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(5, 3, 3000), "b": rng.exponential(2, 3000)})
    path = tmp_path / "x.csv"
    frame.to_csv(path, index=False)
    streamed = seqscale.fit_file(path, method="meanabs", batch_size=700)
    np.testing.assert_allclose(streamed.scale_, np.abs(frame.to_numpy()).mean(axis=0), rtol=1e-14)


def test_meanabs_on_dask_equals_in_memory():
    da = pytest.importorskip("dask.array")
    x = np.random.default_rng(4).normal(-1, 4, (1000, 3))
    est = MeanAbsScaler().fit(da.from_array(x, chunks=(130, 3)))
    np.testing.assert_allclose(est.scale_, np.abs(x).mean(axis=0), rtol=1e-14)


def test_meanabs_in_plan_and_pipeline():
    grunfeld = seqscale.datasets.load_grunfeld()
    plan = {
        "format": "seqscale.plan",
        "version": 1,
        "task": "regression",
        "output_activation": "linear",
        "id": "firm",
        "time": "year",
        "target": ["invest"],
        "window": {"n_in": 4, "n_out": 1},
        "per_series": True,
        "series_features": False,
        "columns": {
            "invest": {"role": "target", "method": "meanabs"},
            "value": {"role": "input", "method": "meanabs"},
        },
    }
    seqscale.validate_plan(plan)
    pipe = seqscale.SequencePipeline.from_plan(plan).fit(grunfeld)
    scaler = pipe.scalers_["value"]
    expected = grunfeld.loc[grunfeld["firm"] == grunfeld["firm"].iloc[0], "value"].abs().mean()
    row = list(scaler.series_).index(grunfeld["firm"].iloc[0])
    assert scaler.scale_[row, 0] == pytest.approx(expected, rel=1e-14)
    bad = json.loads(json.dumps(plan))
    bad["output_activation"] = "sigmoid"
    with pytest.raises(seqscale.ParameterError, match="unbounded"):
        seqscale.SequencePipeline.from_plan(bad).fit(grunfeld)


def test_meanabs_torch_and_keras_export():
    x = np.random.default_rng(5).normal(2, 3, (50, 2))
    est = MeanAbsScaler().fit(x)
    torch = pytest.importorskip("torch")
    module = est.to_torch()
    y = module(torch.tensor(x)).numpy()
    np.testing.assert_allclose(y, x / np.abs(x).mean(axis=0), rtol=1e-6)  # float32 weights


@pytest.mark.parametrize("method", [m for m in SCALERS if SCALERS[m]()._segment_rule() is not None])
def test_segment_sweep_equals_the_registry_rule_bit_for_bit(method):
    from seqscale.core import kernels

    if not kernels.numba_enabled():
        pytest.skip("the fused sweep needs numba")
    rng = np.random.default_rng(11)
    lengths = rng.integers(1, 40, 300)
    rows = rng.normal(0, 1, (int(lengths.sum()), 3)) * rng.choice([1e-3, 1.0, 1e6], 3) + rng.normal(0, 50, 3)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    rows[offsets[5] : offsets[6]] = 7.25  # a constant segment
    stats, coef, _ = segment_fit_apply(rows, offsets, SCALERS[method]()._segment_rule())
    affine = registry.get(method).rule(Moments(*stats))  # the default parameters
    for got, want in zip(coef, (affine.shift, affine.scale, affine.offset)):
        np.testing.assert_array_equal(got, want)


def _moments_of(parts: list[np.ndarray], order: list[int]) -> Moments:
    total = Moments.empty(parts[0].shape[1])
    for k in order:
        total = total.merge(Moments.from_array(parts[k]))
    return total


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 400),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6),
    st.randoms(use_true_random=False),
    st.sampled_from([0.0, 1e3, 1e9]),
)
def test_any_split_merged_in_any_order_equals_one_pass(n, cuts, rnd, level):
    rng = np.random.default_rng(rnd.randint(0, 2**32 - 1))
    x = rng.normal(level, 1.0, (n, 2))
    bounds = sorted({int(c * n) for c in cuts} | {0, n})
    parts = [x[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    order = list(range(len(parts)))
    rnd.shuffle(order)
    one = Moments.from_array(x)
    merged = _moments_of(parts, order)
    streamed = Moments.from_array(parts[order[0]])
    for k in order[1:]:
        streamed, _ = streamed.update(parts[k])
    codes = np.concatenate([np.full(len(p), i) for i, p in enumerate(parts)])
    pooled = Moments.from_groups(np.concatenate(parts), codes, len(parts)).pooled()
    for got in (merged, streamed, pooled):
        np.testing.assert_array_equal(got.count, one.count)
        np.testing.assert_array_equal(got.min, one.min)
        np.testing.assert_array_equal(got.max, one.max)
        # a mean near zero is a cancellation: its error is relative to the size of the values
        np.testing.assert_allclose(got.mean, one.mean, rtol=1e-13, atol=1e-13 * np.abs(x).mean(axis=0).max())
        # per-series tables keep no rounding residual of each series' mean: pooling them is exact
        # to 1e-13 only for data not far from zero (see Moments.pooled)
        if got is not pooled or level == 0.0:
            np.testing.assert_allclose(got.m2, one.m2, rtol=1e-13, atol=0)
