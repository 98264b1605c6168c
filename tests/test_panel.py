"""Per-series (panel) scaling: each series id gets its own coefficients."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from conftest import assert_close, make, make_sklearn

import seqscale


@pytest.fixture
def panel(rng):
    ids = np.array(["a"] * 12 + ["b"] * 9 + ["c"] * 15)
    rng.shuffle(ids)
    loc = {"a": [0, 100], "b": [50, -3], "c": [-7, 1e4]}
    spread = {"a": [1, 5], "b": [0.1, 20], "c": [3, 1e3]}
    X = np.stack([rng.normal(size=2) * spread[i] + loc[i] for i in ids])
    return X, ids


def per_series_reference(method, X, ids, Y=None, inverse=False):
    out = np.empty_like(X if Y is None else Y)
    data = X if Y is None else Y
    for sid in np.unique(ids):
        ref = make_sklearn(method).fit(X[ids == sid])
        f = ref.inverse_transform if inverse else ref.transform
        out[ids == sid] = f(data[ids == sid])
    return out


def test_grouped_equals_per_series_sklearn(method, panel):
    X, ids = panel
    est = make(method).fit(X, groups=ids)
    out = est.transform(X, groups=ids)
    assert_close(out, per_series_reference(method, X, ids))
    assert_close(est.inverse_transform(out, groups=ids), X)
    assert est.scale_.shape == (3, 2)
    assert sorted(est.series_.tolist()) == ["a", "b", "c"]


def test_grouped_transform_subset_of_series(method, panel):
    X, ids = panel
    est = make(method).fit(X, groups=ids)
    only_b = ids == "b"
    assert_close(est.transform(X[only_b], groups=ids[only_b]), per_series_reference(method, X, ids)[only_b])


def test_dataframe_id_column_kept(method, panel):
    X, ids = panel
    df = pd.DataFrame({"store": ids, "sales": X[:, 0], "temp": X[:, 1]}, index=pd.RangeIndex(5, 5 + len(ids)))
    est = make(method).fit(df, groups="store")
    assert list(est.feature_names_in_) == ["sales", "temp"]
    out = est.transform(df, groups="store")
    assert list(out.columns) == ["store", "sales", "temp"]
    assert out["store"].tolist() == ids.tolist()
    assert out.index.equals(df.index)
    assert_close(out[["sales", "temp"]].to_numpy(), per_series_reference(method, X, ids))
    back = est.inverse_transform(out, groups="store")
    assert list(back.columns) == ["store", "sales", "temp"]
    assert_close(back[["sales", "temp"]].to_numpy(), X)


def test_polars_id_column_kept(method, panel):
    X, ids = panel
    df = pl.DataFrame({"store": ids.tolist(), "sales": X[:, 0], "temp": X[:, 1]})
    est = make(method).fit(df, groups="store")
    out = est.transform(df, groups="store")
    assert out.columns == ["store", "sales", "temp"]
    assert out["store"].to_list() == ids.tolist()
    assert_close(out.select(["sales", "temp"]).to_numpy(), per_series_reference(method, X, ids))


def test_groups_column_name_missing(method, panel):
    X, _ = panel
    with pytest.raises(seqscale.InputError, match="store"):
        make(method).fit(X, groups="store")


def test_groups_wrong_length_or_missing_id(method, panel):
    X, ids = panel
    with pytest.raises(seqscale.InputError):
        make(method).fit(X, groups=ids[:-1])
    bad = ids.astype(object)
    bad[3] = None
    with pytest.raises(seqscale.InputError, match="row 3"):
        make(method).fit(X, groups=bad)


def test_unseen_error(method, panel):
    X, ids = panel
    est = make(method).fit(X, groups=ids)
    with pytest.raises(seqscale.UnseenSeriesError, match="'z'"):
        est.transform(X[:2], groups=["a", "z"])
    with pytest.raises(seqscale.UnseenSeriesError):
        est.inverse_transform(X[:2], groups=["z", "z"])
    by_number = make(method).fit(X[:4], groups=[1, 1, 2, 2])
    with pytest.raises(seqscale.UnseenSeriesError, match=r"fit time: 7\. "):  # not np.int64(7)
        by_number.transform(X[:1], groups=np.array([7]))


def test_unseen_pooled(method, panel):
    X, ids = panel
    est = make(method, unseen="pooled").fit(X, groups=ids)
    new = X[:4] * 1.1
    out = est.transform(new, groups=["zz"] * 4)
    assert_close(out, make_sklearn(method).fit(X).transform(new), rtol=1e-10, atol=1e-10)
    # known series keep their own coefficients in the same call
    mixed = est.transform(X[:2], groups=[ids[0], "zz"])
    assert_close(mixed[0], per_series_reference(method, X, ids)[0])
    assert_close(est.inverse_transform(out, groups=["zz"] * 4), new, rtol=1e-10, atol=1e-10)


def test_unseen_median(panel):
    X, ids = panel
    est = seqscale.StandardScaler(unseen="median").fit(X, groups=ids)
    means = np.array([X[ids == s].mean(axis=0) for s in ["a", "b", "c"]])
    stds = np.array([X[ids == s].std(axis=0) for s in ["a", "b", "c"]])
    new = X[:3]
    out = est.transform(new, groups=["q"] * 3)
    assert_close(out, (new - np.median(means, axis=0)) / np.median(stds, axis=0), rtol=1e-10, atol=1e-10)
    est = seqscale.MinMaxScaler(unseen="median").fit(X, groups=ids)
    mins = np.median([X[ids == s].min(axis=0) for s in "abc"], axis=0)
    maxs = np.median([X[ids == s].max(axis=0) for s in "abc"], axis=0)
    assert_close(est.transform(new, groups=["q"] * 3), (new - mins) / (maxs - mins), rtol=1e-10, atol=1e-10)


def test_unseen_own_uses_the_rows_given_and_never_changes_the_scaler(method, panel):
    X, ids = panel
    est = make(method, unseen="own").fit(X, groups=ids)
    before = (est.series_.copy(), est.n_samples_seen_, est.stats_, est.affine_)
    new = np.array([[1.0, 2.0], [3.0, 7.0], [2.0, 4.0], [5.0, 3.0]])
    out = est.transform(new, groups=["new"] * 4)
    assert_close(out, make_sklearn(method).fit_transform(new))
    # nothing was folded in: the fitted scaler is the same object state
    assert est.series_.tolist() == before[0].tolist() and est.n_samples_seen_ == before[1]
    assert est.stats_ is before[2] and est.affine_ is before[3]
    # a second chunk of the series gets the coefficients of its own rows, not the first chunk's
    assert_close(est.transform(new[2:], groups=["new"] * 2), make_sklearn(method).fit_transform(new[2:]))
    assert_close(est.transform(X, groups=ids), per_series_reference(method, X, ids))
    with pytest.raises(seqscale.UnseenSeriesError, match=r"'new'.*inverse_transform"):
        est.inverse_transform(out, groups=["new"] * 4)


def test_partial_fit_groups_updates_and_adds(method, panel):
    X, ids = panel
    whole = make(method).fit(X, groups=ids)
    est = make(method)
    first = ids != "c"
    est.partial_fit(X[first][:10], groups=ids[first][:10])
    est.partial_fit(X[first][10:], groups=ids[first][10:])
    est.partial_fit(X[~first], groups=ids[~first])  # adds series c
    assert sorted(est.series_.tolist()) == ["a", "b", "c"]
    assert_close(est.transform(X, groups=ids), whole.transform(X, groups=ids))
    assert est.n_samples_seen_ == len(X)


def test_3d_one_id_per_sample(method, rng):
    X = rng.normal(size=(6, 4, 2)) * [1, 10]
    X[3:] += 100
    ids = np.array(["u", "u", "u", "v", "v", "v"])
    est = make(method).fit(X, groups=ids)
    out = est.transform(X, groups=ids)
    assert out.shape == X.shape
    for sid in ("u", "v"):
        part = X[ids == sid].reshape(-1, 2)
        assert_close(out[ids == sid].reshape(-1, 2), make_sklearn(method).fit_transform(part))
    assert_close(est.inverse_transform(out, groups=ids), X)


def test_3d_grouped_with_lengths(rng):
    X = rng.normal(size=(4, 5, 1))
    lengths = np.array([5, 2, 3, 5])
    X[1, 2:] = 1e6
    X[2, 3:] = 1e6
    ids = ["a", "a", "b", "b"]
    est = seqscale.MinMaxScaler().fit(X, groups=ids, lengths=lengths)
    out = est.transform(X, groups=ids, lengths=lengths)
    assert np.all(out[1, 2:] == 1e6)
    real_b = np.concatenate([X[2, :3, 0], X[3, :, 0]])
    assert_close(out[3, :, 0], (X[3, :, 0] - real_b.min()) / np.ptp(real_b))


def test_integer_ids(method, panel):
    X, ids = panel
    int_ids = np.unique(ids, return_inverse=True)[1] + 100
    est = make(method).fit(X, groups=int_ids)
    assert_close(est.transform(X, groups=int_ids), per_series_reference(method, X, int_ids))


def test_per_series_domain_bounds(panel):
    X, ids = panel
    est = seqscale.MinMaxScaler(bounds={"a": {0: (-10, 30)}}).fit(X, groups=ids)
    a = list(est.series_).index("a")
    assert est.data_min_[a, 0] == -10 and est.data_max_[a, 0] == 30
    out = est.transform(np.array([[18.8, X[ids == "a"][0, 1]]]), groups=["a"])
    assert out[0, 0] == pytest.approx(0.72, abs=1e-15)
    b = list(est.series_).index("b")
    assert est.data_min_[b, 0] == X[ids == "b", 0].min()


def test_per_series_domain_mean_std(panel):
    X, ids = panel
    est = seqscale.StandardScaler(mean={"b": [10.0, None]}, std={"b": {0: 5.0}}).fit(X, groups=ids)
    b = list(est.series_).index("b")
    assert est.mean_[b, 0] == 10.0 and est.scale_[b, 0] == 5.0
    assert est.mean_[b, 1] == pytest.approx(X[ids == "b", 1].mean(), rel=1e-12)
    out = est.transform(np.array([[20.7, 0.0]]), groups=["b"])
    assert out[0, 0] == pytest.approx(2.14, abs=1e-14)


def test_per_feature_bounds_with_groups(panel):
    X, ids = panel
    est = seqscale.MinMaxScaler(bounds={0: (-100, 100)}).fit(X, groups=ids)
    assert np.all(est.data_min_[:, 0] == -100) and np.all(est.data_max_[:, 0] == 100)


def test_constant_series_warns_and_maps_to_zero(method):
    X = (
        np.array([[0.0], [0.0], [2.0], [5.0]])
        if method == "maxabs"
        else np.array([[1.0], [1.0], [2.0], [5.0]])
    )
    with pytest.warns(seqscale.ConstantFeatureWarning):
        est = make(method).fit(X, groups=["flat", "flat", "up", "up"])
    out = est.transform(X, groups=["flat", "flat", "up", "up"])
    assert not np.isnan(out).any()
    assert np.all(out[:2] == 0.0)


def test_check_grouped(panel):
    X, ids = panel
    est = seqscale.MinMaxScaler().fit(X, groups=ids)
    new = X.copy()
    new[ids == "a", 0] += 1e6
    report = est.check(new, groups=ids)
    assert report.loc[("a", "x0"), "n_above"] == (ids == "a").sum()
    assert report.loc[("b", "x0"), "n_above"] == 0
