"""Regression tests for scikit-learn parity: the issue's exact examples, against scikit-learn."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
from sklearn import preprocessing as skp

import seqscale


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", seqscale.ConstantFeatureWarning)
        yield


# 1. RobustScaler: tied quantiles interpolate as numpy does (exact when the neighbours are equal)
def test_robust_tied_quantiles_give_a_zero_range():
    X = np.array([[0.0]] + [[7.3]] * 16 + [[100.0]])
    scaler = seqscale.RobustScaler(quantile_range=(10, 90)).fit(X)
    assert scaler.scale_.tolist() == [1.0] and scaler.center_.tolist() == [7.3]
    np.testing.assert_array_equal(scaler.transform(X), X - 7.3)


@pytest.mark.parametrize("q", [(10, 90), (5, 95), (33, 66), (25, 75)])
def test_robust_quantiles_equal_numpy_bit_for_bit(q):
    rng = np.random.default_rng(0)
    for _ in range(100):
        X = rng.choice(rng.normal(size=3), size=(int(rng.integers(5, 40)), 2))
        ours = seqscale.RobustScaler(quantile_range=q).fit(X)
        theirs = skp.RobustScaler(quantile_range=q).fit(X)
        np.testing.assert_array_equal(ours.center_, theirs.center_)
        np.testing.assert_array_equal(ours.scale_, theirs.scale_)


# 2. MinMaxScaler: a constant training feature keeps slope b - a
def test_minmax_constant_feature_moves_with_slope_b_minus_a():
    train = np.array([[0.0, 1.0], [0.0, 5.0], [0.0, 9.0]])
    ours = seqscale.MinMaxScaler(feature_range=(-1, 1)).fit(train)
    assert ours.transform(np.array([[1.0, 5.0]])).tolist() == [[1.0, 0.0]]
    theirs = skp.MinMaxScaler(feature_range=(-1, 1)).fit(train)
    np.testing.assert_array_equal(ours.transform(train + 2), theirs.transform(train + 2))


# 3. MaxAbsScaler: the largest magnitude maps to exactly +-1
def test_maxabs_constant_column_maps_to_one():
    X = np.array([[686.7160532391669]] * 2)
    assert seqscale.MaxAbsScaler().fit_transform(X).tolist() == [[1.0], [1.0]]
    assert seqscale.MaxAbsScaler().fit_transform(-X).tolist() == [[-1.0], [-1.0]]


# 4. near-constant channels: scikit-learn's rule, the same on every path
NEAR = np.array([[0.3], [0.1 + 0.2]] * 5)


def test_near_constant_column_is_constant():
    out = seqscale.StandardScaler().fit_transform(NEAR)
    assert np.abs(out).max() < 1e-15  # not [-2, 0, ...]
    assert seqscale.StandardScaler().fit(NEAR).scale_.tolist() == [1.0]
    assert seqscale.RobustScaler().fit(NEAR).scale_.tolist() == [1.0]
    assert np.array_equal(seqscale.MinMaxScaler().fit_transform(NEAR) < 1e-15, np.ones((10, 1), bool))
    np.testing.assert_allclose(
        seqscale.StandardScaler().fit_transform(NEAR), skp.StandardScaler().fit_transform(NEAR), atol=1e-16
    )


def test_near_constant_rule_follows_scikit_learn_bound():
    n, eps = 10, np.finfo(np.float64).eps
    scales = 10.0 ** np.arange(-30, 19)
    X = np.vstack([np.ones((n // 2, 1)) + scales, np.ones((n // 2, 1)) - scales])
    ours = seqscale.StandardScaler(with_mean=False).fit(X)
    theirs = skp.StandardScaler(with_mean=False).fit(X)
    np.testing.assert_array_equal(ours.scale_ == 1.0, theirs.scale_ == 1.0)
    bound = n * eps * scales**2 + n**2 * eps**2
    assert np.all(ours.scale_[scales**2 <= bound] == 1.0)


def _series_data():
    ids = np.repeat(np.arange(3), 10)
    values = np.concatenate([NEAR[:, 0], np.arange(10.0), NEAR[:, 0] * 1e6])
    return ids, values[:, None]


@pytest.mark.parametrize("path", ["per_row_ids", "segments_sweep", "partial_fit"])
def test_near_constant_rule_on_every_grouped_path(path):
    ids, X = _series_data()
    est = seqscale.StandardScaler()
    if path == "per_row_ids":
        out = est.fit(X, groups=ids).transform(X, groups=ids)
    elif path == "segments_sweep":
        out = est.fit_transform(X, groups=seqscale.Segments(np.arange(3), np.full(3, 10)))
    else:
        for k in range(0, 30, 5):
            est.partial_fit(X[k : k + 5], groups=ids[k : k + 5])
        out = est.transform(X, groups=ids)
    assert np.abs(out[ids != 1]).max() < 1e-9
    np.testing.assert_allclose(out[ids == 1, 0], skp.scale(np.arange(10.0)))


def test_near_constant_rule_streaming_and_dask():
    chunks = [NEAR[:4], NEAR[4:]]
    est = seqscale.StandardScaler()
    for c in chunks:
        est.partial_fit(c)
    assert est.scale_.tolist() == [1.0]
    da = pytest.importorskip("dask.array")
    fitted = seqscale.StandardScaler().fit(da.from_array(NEAR, chunks=3))
    assert fitted.scale_.tolist() == [1.0]


# 5. scikit-learn's attribute semantics
def _exact_var(col: np.ndarray) -> Fraction:
    vals = [Fraction(float(v)) for v in col if not np.isnan(v)]
    mean = sum(vals) / len(vals)
    return sum((v - mean) ** 2 for v in vals) / len(vals)


def test_standard_attributes_as_scikit_learn():
    X = np.array([[0, 1, 3], [np.nan, 6, 10], [5, 4, np.nan], [8, 0, np.nan]], dtype=np.float64)
    for with_mean in (True, False):
        for with_std in (True, False):
            ours = seqscale.StandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
            theirs = skp.StandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
            for attr in ("mean_", "var_", "scale_"):
                a, b = getattr(ours, attr), getattr(theirs, attr)
                assert (a is None) == (b is None), attr
                if a is None:
                    continue
                if attr == "mean_":
                    np.testing.assert_array_equal(a, b)
                    continue
                # the variance is summed pairwise with two-sums: never further from the exact
                # rational value than scikit-learn's, and within 1e-15 of it
                exact = np.array([float(_exact_var(col)) for col in X.T])
                if attr == "scale_":
                    exact = np.sqrt(exact)
                assert np.all(np.abs(a - exact) <= np.abs(b - exact)), (attr, a, b, exact)
                np.testing.assert_allclose(a, b, rtol=1e-15)
            np.testing.assert_array_equal(ours.n_samples_seen_, [3, 4, 2])
    assert seqscale.StandardScaler().fit(np.ones((4, 2))).n_samples_seen_ == 4


def test_standard_scale_is_the_std_exactly():
    X = np.random.default_rng(3).normal(5, 3, size=(200, 4))
    ours = seqscale.StandardScaler().fit(X)
    np.testing.assert_array_equal(ours.scale_, np.sqrt(ours.var_))  # not 1 / (1 / std)
    np.testing.assert_allclose(ours.scale_, skp.StandardScaler().fit(X).scale_, rtol=1e-15)


def test_robust_attributes_none_when_off():
    X = np.random.default_rng(0).normal(size=(10, 3))
    assert seqscale.RobustScaler(with_centering=False).fit(X).center_ is None
    assert seqscale.RobustScaler(with_scaling=False).fit(X).scale_ is None
    ours, theirs = seqscale.RobustScaler().fit(X), skp.RobustScaler().fit(X)
    np.testing.assert_array_equal(ours.scale_, theirs.scale_)


def test_maxabs_attributes_exact():
    X = np.random.default_rng(0).normal(size=(10, 3)) * 7.1
    ours, theirs = seqscale.MaxAbsScaler().fit(X), skp.MaxAbsScaler().fit(X)
    np.testing.assert_array_equal(ours.max_abs_, theirs.max_abs_)
    np.testing.assert_array_equal(ours.scale_, theirs.scale_)


def test_clip_spelled_as_scikit_learn():
    X = np.array([[0.0], [10.0]])
    for cls in (seqscale.MinMaxScaler, seqscale.MaxAbsScaler):
        est = cls(clip=True).fit(X)
        assert est.transform(np.array([[20.0], [-30.0]])).min() >= (-1 if cls is seqscale.MaxAbsScaler else 0)
        assert est.transform(np.array([[20.0]])).tolist() == [[1.0]]
    with pytest.raises(seqscale.ParameterError, match="clip=True"):
        seqscale.MinMaxScaler(clip=True, out_of_range="error").fit(X)


# 6. unseen="own": see tests/test_panel.py::test_unseen_own_uses_the_rows_given_and_never_changes_the_scaler


# 7. a plan column with method "maxabs" and bounds is a max-abs scaler with the domain bound
def test_plan_maxabs_with_bounds_is_a_maxabs_scaler():
    from seqscale.sequence.pipeline_specs import make_scaler

    est = make_scaler({"method": "maxabs", "bounds": [-40, 25]})
    assert isinstance(est, seqscale.MaxAbsScaler) and est.max_abs == 40.0
    fitted = est.fit(np.array([[-3.0], [10.0]]))
    assert fitted.transform(np.array([[20.0], [-40.0]])).tolist() == [[0.5], [-1.0]]
    record = fitted.to_dict()
    assert record["method"] == "maxabs"
    assert record["channels"][0]["domain"] == {"max_abs": 40.0}


def test_maxabs_domain_survives_a_coefficient_file(tmp_path):
    est = seqscale.MaxAbsScaler(max_abs={"a": 8.0}).fit(
        __import__("pandas").DataFrame({"a": [1.0, -2.0], "b": [3.0, 4.0]})
    )
    est.save(tmp_path / "c.json")
    back = seqscale.load(tmp_path / "c.json")
    np.testing.assert_array_equal(back.max_abs_, [8.0, 4.0])


# 8. every categorical dtype is refused, with the pointer to OneHotEncoder
def _categoricals():
    import pandas as pd

    yield pd.DataFrame({"a": pd.Categorical([1, 2, 4])})
    yield pd.Series(pd.Categorical([1.5, 2.5, 4.5]))
    yield pd.Categorical([1, 2, 4])
    pl = pytest.importorskip("polars")
    yield pl.DataFrame({"a": pl.Series(["x", "y", "x"], dtype=pl.Categorical)})
    yield pl.DataFrame({"a": pl.Series(["x", "y", "x"], dtype=pl.Enum(["x", "y"]))})


@pytest.mark.parametrize("index", range(5))
def test_categorical_dtypes_are_refused(index):
    X = list(_categoricals())[index]
    with pytest.raises(seqscale.InputTypeError, match="OneHotEncoder"):
        seqscale.StandardScaler().fit(X)


# 9. booleans are 0/1 (float64 out), as scikit-learn takes them
def test_booleans_are_accepted_as_zero_one():
    import pandas as pd

    flags = np.array([[True, False], [False, False], [True, True]])
    for method in ("MinMaxScaler", "StandardScaler", "RobustScaler", "MaxAbsScaler"):
        ours = getattr(seqscale, method)().fit_transform(flags)
        assert ours.dtype == np.float64
        np.testing.assert_allclose(ours, getattr(skp, method)().fit_transform(flags), rtol=1e-15)
    frame = pd.DataFrame({"holiday": [True, False, True], "sales": [3.0, 5.0, 4.0]})
    out = seqscale.MinMaxScaler().fit_transform(frame)
    assert out["holiday"].tolist() == [1.0, 0.0, 1.0] and out["holiday"].dtype == np.float64
    nullable = pd.DataFrame({"promo": pd.array([True, None, False], dtype="boolean")})
    assert seqscale.MaxAbsScaler().fit_transform(nullable)["promo"].tolist()[::2] == [1.0, 0.0]


# scipy.sparse for the scalers that keep zeros at zero
SPARSE_SCALERS = [
    ("MaxAbsScaler", {}),
    ("StandardScaler", {"with_mean": False}),
    ("RobustScaler", {"with_centering": False}),
]


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("name, kwargs", SPARSE_SCALERS)
def test_sparse_equals_scikit_learn(name, kwargs, fmt):
    sp = pytest.importorskip("scipy.sparse")
    X = sp.random(60, 5, density=0.3, format=fmt, random_state=0, dtype=np.float64) * 10 - 0
    X.data -= 3.0
    ours = getattr(seqscale, name)(**kwargs).fit(X)
    theirs = getattr(skp, name)(**kwargs).fit(X)
    got, want = ours.transform(X), theirs.transform(X)
    assert got.format == ("csr" if fmt == "coo" else fmt)
    np.testing.assert_allclose(got.toarray(), want.toarray(), rtol=1e-15, atol=0)
    np.testing.assert_allclose(ours.inverse_transform(got).toarray(), X.toarray(), rtol=1e-15)
    np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=1e-15)


def test_sparse_partial_fit_equals_fit():
    sp = pytest.importorskip("scipy.sparse")
    X = sp.random(90, 3, density=0.4, format="csr", random_state=1) * 5
    whole = seqscale.StandardScaler(with_mean=False).fit(X)
    chunks = seqscale.StandardScaler(with_mean=False)
    for k in range(0, 90, 30):
        chunks.partial_fit(X[k : k + 30])
    np.testing.assert_allclose(chunks.var_, whole.var_, rtol=1e-14)
    np.testing.assert_allclose(whole.var_, X.toarray().var(axis=0), rtol=1e-14)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_weighted_equals_scikit_learn(fmt):
    """StandardScaler(with_mean=False) on weighted sparse input: scikit-learn's numbers."""
    sp = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(5)
    X = sp.random(200, 4, density=0.3, format=fmt, random_state=2) * 10
    X.data -= 4.0
    X.data[[3, 17]] = np.nan
    w = rng.uniform(0, 3, size=200)
    w[rng.choice(200, 30, replace=False)] = 0.0
    ours = seqscale.StandardScaler(with_mean=False).fit(X, sample_weight=w)
    theirs = skp.StandardScaler(with_mean=False).fit(X, sample_weight=w)
    for attr in ("mean_", "var_", "scale_", "n_samples_seen_"):
        np.testing.assert_allclose(getattr(ours, attr), getattr(theirs, attr), rtol=1e-13)
    np.testing.assert_allclose(ours.transform(X).toarray(), theirs.transform(X).toarray(), rtol=1e-13)
    chunks = seqscale.StandardScaler(with_mean=False)
    ref = skp.StandardScaler(with_mean=False)
    for k in range(0, 200, 50):
        chunks.partial_fit(X[k : k + 50], sample_weight=w[k : k + 50])
        ref.partial_fit(X[k : k + 50], sample_weight=w[k : k + 50])
    np.testing.assert_allclose(chunks.var_, ref.var_, rtol=1e-13)
    np.testing.assert_allclose(chunks.var_, ours.var_, rtol=1e-13)


@pytest.mark.parametrize("name, kwargs", SPARSE_SCALERS)
def test_sparse_weighted_equals_dense_weighted(name, kwargs):
    """One mechanism: the implicit zeros weigh their row's weight, exactly as dense zeros do."""
    sp = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(6)
    dense = (sp.random(120, 3, density=0.4, random_state=3) * 8).toarray()
    dense[dense != 0] -= 2.0
    dense[:, 2] += 1.0  # a column with no implicit zero
    X = sp.csr_matrix(dense)
    w = rng.uniform(0, 2, size=120)
    w[:10] = 0.0
    w[np.argmax(np.abs(dense[:, 0]))] = 0.0  # the largest magnitude of column 0 has no weight
    ours = getattr(seqscale, name)(**kwargs).fit(X, sample_weight=w)
    ref = getattr(seqscale, name)(**kwargs).fit(dense, sample_weight=w)
    np.testing.assert_allclose(ours.transform(X).toarray(), ref.transform(dense), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(ours.stats_.count, ref.stats_.count, rtol=1e-14)
    np.testing.assert_allclose(ours.stats_.m2, ref.stats_.m2, rtol=1e-13)
    assert ours.stats_.max[0] == ref.stats_.max[0] and ours.stats_.min[0] == ref.stats_.min[0]
    np.testing.assert_allclose(ours.n_samples_seen_, ref.n_samples_seen_, rtol=1e-14)
    only_zero_rows = np.zeros(120)
    only_zero_rows[np.flatnonzero(dense[:, 0] == 0)[:5]] = 1.0  # weight only on implicit zeros
    fitted = getattr(seqscale, name)(**kwargs).fit(X[:, :1], sample_weight=only_zero_rows)
    assert fitted.stats_.max[0] == 0.0 and fitted.stats_.count[0] == 5.0


def test_sparse_weights_are_checked_like_dense_ones():
    sp = pytest.importorskip("scipy.sparse")
    X = sp.random(10, 2, density=0.5, format="csr", random_state=0)
    with pytest.raises(ValueError, match=r"sample_weight\.shape"):
        seqscale.MaxAbsScaler().fit(X, sample_weight=np.ones(9))
    with pytest.raises(ValueError, match="non-negative"):
        seqscale.MaxAbsScaler().fit(X, sample_weight=-np.ones(10))


def test_float16_in_float16_out_like_scikit_learn():
    X = np.random.default_rng(4).normal(size=(20, 3)).astype(np.float16)
    for name in ("MinMaxScaler", "StandardScaler", "RobustScaler", "MaxAbsScaler"):
        ours = getattr(seqscale, name)().fit(X)
        out = ours.transform(X)
        assert out.dtype == np.float16 and ours.inverse_transform(out).dtype == np.float16
        assert ours.scale_.dtype == np.float64
        want = getattr(skp, name)().fit(X).transform(X)
        np.testing.assert_allclose(out.astype(np.float64), want.astype(np.float64), rtol=1e-3, atol=1e-3)
    assert seqscale.MaxAbsScaler().fit_transform(X.reshape(4, 5, 3)).dtype == np.float16
    inplace = X.copy()
    assert seqscale.MaxAbsScaler(copy=False).fit(X).transform(inplace) is inplace
    assert np.abs(inplace).max() == 1.0


def test_sparse_refused_with_scikit_learn_wording():
    sp = pytest.importorskip("scipy.sparse")
    X = sp.random(10, 2, density=0.5, format="csr", random_state=0)
    with pytest.raises(ValueError, match="Cannot center sparse matrices: pass `with_mean=False` instead"):
        seqscale.StandardScaler().fit(X)
    with pytest.raises(ValueError, match="Cannot center sparse matrices: use `with_centering=False`"):
        seqscale.RobustScaler().fit(X)
    with pytest.raises(TypeError, match="MinMaxScaler does not support sparse input"):
        seqscale.MinMaxScaler().fit(X)
    dense_fit = seqscale.StandardScaler().fit(X.toarray())
    with pytest.raises(ValueError, match="Cannot center sparse matrices"):
        dense_fit.transform(X)


def test_infinity_message_starts_with_scikit_learns_wording():
    with pytest.raises(ValueError, match=r"Input X contains infinity or a value too large for dtype"):
        seqscale.StandardScaler().fit(np.array([[1.0], [np.inf]]))


def test_one_dimensional_input_against_several_features_uses_scikit_learns_wording():
    est = seqscale.StandardScaler().fit(np.ones((4, 3)) * np.arange(4.0)[:, None])
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array instead"):
        est.inverse_transform(np.arange(4.0))
    assert seqscale.StandardScaler().fit_transform(np.arange(4.0)).shape == (4,)  # one series


class _Recorder:
    """A fit callback (scikit-learn's protocol) that records the hooks called."""

    def __init__(self):
        self.calls = []

    def setup(self, estimator, context):
        self.calls.append("setup")

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, metadata=None, fitted_estimator=None):
        self.calls.append("begin")

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, metadata=None, fitted_estimator=None):
        self.calls.append("end")
        self.fitted = fitted_estimator
        self.weight = metadata["sample_weight"]

    def teardown(self, estimator, context):
        self.calls.append("teardown")


@pytest.mark.parametrize("name", ["MinMaxScaler", "StandardScaler", "RobustScaler", "MaxAbsScaler"])
def test_fit_callbacks_like_scikit_learn(name):
    pytest.importorskip("sklearn.callback")
    X = np.random.default_rng(8).normal(size=(12, 2))
    one_task = ["setup", "begin", "end", "teardown"]
    for call in ("fit", "partial_fit", "fit_transform"):
        cb = _Recorder()
        est = getattr(seqscale, name)().set_callbacks(cb)
        getattr(est, call)(X, sample_weight=np.ones(12))
        assert cb.calls == one_task, call
        np.testing.assert_array_equal(cb.fitted.transform(X), est.transform(X))
        assert cb.weight.tolist() == [1.0] * 12
        assert not hasattr(est, "_callback_fit_ctx")  # torn down
    cb = _Recorder()  # per series, rows sorted by series: the one-sweep fit_transform
    est = getattr(seqscale, name)().set_callbacks(cb)
    est.fit_transform(X, groups=np.repeat([1, 2], 6))
    assert cb.calls == one_task
    est.partial_fit(X, groups=np.repeat([3, 4], 6))
    assert cb.calls == one_task * 2
    with pytest.raises(TypeError, match="FitCallback"):
        est.set_callbacks(object())
