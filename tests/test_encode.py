import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.preprocessing import OneHotEncoder as SkOneHot

from seqscale.errors import (
    CoefficientFileError,
    FeatureMismatchError,
    InputError,
    NotFittedError,
    ParameterError,
)
from seqscale.sequence.encode import OneHotEncoder


def _random_table(rng, n=200):
    return pd.DataFrame(
        {
            "status": rng.choice(["open", "closed", "pending", "void"], size=n, p=[0.5, 0.3, 0.15, 0.05]),
            "quarter": rng.choice([1, 2, 3, 4], size=n),
            "flag": rng.choice(["x", "y"], size=n),
        }
    )


def _sk_names(sk, ours):
    return [n.replace("_", "=", 1) for n in sk.get_feature_names_out()], list(ours)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_sklearn_on_random_categories(seed):
    rng = np.random.default_rng(seed)
    df = _random_table(rng)
    ours = OneHotEncoder().fit(df)
    sk = SkOneHot(sparse_output=False).fit(df)
    np.testing.assert_array_equal(ours.transform(df), sk.transform(df))
    sk_names, our_names = _sk_names(sk, ours.get_feature_names_out())
    assert sk_names == our_names
    assert our_names[:4] == ["status=closed", "status=open", "status=pending", "status=void"]
    for a, b in zip(ours.categories_, sk.categories_):
        assert list(a) == list(b)


def test_matches_sklearn_handle_unknown_ignore():
    rng = np.random.default_rng(3)
    train = _random_table(rng)
    test = _random_table(rng, 50)
    test.loc[[1, 7], "status"] = "never-seen"
    test.loc[3, "quarter"] = 9
    ours = OneHotEncoder(handle_unknown="ignore").fit(train)
    sk = SkOneHot(sparse_output=False, handle_unknown="ignore").fit(train)
    out = ours.transform(test)
    np.testing.assert_array_equal(out, sk.transform(test))
    assert out[1, :4].sum() == 0


@pytest.mark.parametrize("min_frequency", [15, 0.1])
def test_matches_sklearn_infrequent_if_exist(min_frequency):
    rng = np.random.default_rng(4)
    train = _random_table(rng, 300)
    train.loc[:4, "flag"] = "z"  # a rare category in every column
    train.loc[:2, "quarter"] = 7
    train.loc[5:7, "status"] = "rare"
    test = _random_table(rng, 60)
    test.loc[[0, 5], "status"] = "never-seen"
    ours = OneHotEncoder(handle_unknown="infrequent", min_frequency=min_frequency).fit(train)
    sk = SkOneHot(sparse_output=False, handle_unknown="infrequent_if_exist", min_frequency=min_frequency).fit(
        train
    )
    assert all(len(r) for r in sk.infrequent_categories_)
    np.testing.assert_array_equal(ours.transform(test), sk.transform(test))
    names = [n.replace("infrequent_sklearn", "infrequent") for n in _sk_names(sk, [])[0]]
    assert list(ours.get_feature_names_out()) == names
    for a, b in zip(ours.infrequent_categories_, sk.infrequent_categories_):
        assert list(a) == list(b)


def test_infrequent_column_collects_unknowns_even_without_rare_categories():
    enc = OneHotEncoder(handle_unknown="infrequent").fit(["a", "b", "a"])
    assert list(enc.get_feature_names_out()) == ["x0=a", "x0=b", "x0=infrequent"]
    assert enc.transform(["b", "zzz"]).tolist() == [[0, 1, 0], [0, 0, 1]]
    assert enc.inverse_transform([[0.1, 0.2, 0.7]]).tolist() == ["infrequent"]


def test_missing_as_category_matches_sklearn():
    x = np.array([["a"], ["b"], [np.nan], ["a"], [np.nan]], dtype=object)
    ours = OneHotEncoder(missing="category").fit(x)
    sk = SkOneHot(sparse_output=False).fit(x)
    np.testing.assert_array_equal(ours.transform(x), sk.transform(x))
    assert list(ours.get_feature_names_out()) == ["x0=a", "x0=b", "x0=nan"]
    assert ours.transform(np.array([[None]], dtype=object)).tolist() == [[0, 0, 1]]


def test_missing_error_names_column_and_rows():
    df = pd.DataFrame({"status": ["a", None, "b"]})
    with pytest.raises(InputError, match=r"'status'.*\(row 1\).*missing='category'") as info:
        OneHotEncoder().fit(df)
    assert info.value.rows == (1,)


def test_unknown_error_names_column_and_values():
    enc = OneHotEncoder().fit(pd.DataFrame({"status": ["open", "closed"]}))
    with pytest.raises(InputError, match=r"'status'.*\['gone', 'new'\].*\(row 1, row 2\)") as info:
        enc.transform(pd.DataFrame({"status": ["open", "new", "gone"]}))
    assert info.value.rows == (1, 2)


def test_names_ints_bools_and_1d_input():
    assert list(OneHotEncoder().fit(pd.Series([3, 1, 2], name="quarter")).get_feature_names_out()) == [
        "quarter=1",
        "quarter=2",
        "quarter=3",
    ]
    enc = OneHotEncoder().fit(np.array([True, False, True]))
    assert list(enc.get_feature_names_out()) == ["x0=False", "x0=True"]
    assert enc.transform([True]).tolist() == [[0.0, 1.0]]
    # integral floats (an int column with NaN elsewhere) are the same categories as ints
    assert OneHotEncoder().fit([1, 2]).transform(np.array([2.0, 1.0])).tolist() == [[0, 1], [1, 0]]


def test_set_output_pandas_keeps_index_and_names():
    df = pd.DataFrame({"status": ["open", "closed"]}, index=[10, 20])
    out = OneHotEncoder().set_output(transform="pandas").fit_transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["status=closed", "status=open"]
    assert list(out.index) == [10, 20]


def test_inverse_of_probabilities_and_zero_rows():
    rng = np.random.default_rng(5)
    labels = np.array(["cat", "dog", "eel"])
    enc = OneHotEncoder().fit(labels)
    logits = rng.normal(size=(50, 3))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    decoded = enc.inverse_transform(probs)
    assert decoded.shape == (50,)
    assert list(decoded) == list(labels[probs.argmax(axis=1)])
    assert enc.inverse_transform(np.zeros((2, 3))).tolist() == [None, None]
    assert enc.inverse_transform(probs.reshape(10, 5, 3)).shape == (10, 5)


def test_inverse_round_trip_dataframe_and_nan_for_zero_rows():
    df = pd.DataFrame({"status": ["open", "closed", "open"], "quarter": [1, 4, 2]})
    enc = OneHotEncoder(handle_unknown="ignore").fit(df)
    back = enc.inverse_transform(enc.transform(df))
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    unknown = enc.inverse_transform(enc.transform(pd.DataFrame({"status": ["x"], "quarter": [1]})))
    assert pd.isna(unknown.loc[0, "status"]) and unknown.loc[0, "quarter"] == 1


def test_inverse_width_mismatch():
    enc = OneHotEncoder().fit(["a", "b"])
    with pytest.raises(FeatureMismatchError, match=r"\(n_rows, 2\)"):
        enc.inverse_transform(np.zeros((3, 5)))


def test_to_dict_round_trip_through_json():
    rng = np.random.default_rng(6)
    df = _random_table(rng)
    df.loc[0, "status"] = None
    enc = OneHotEncoder(handle_unknown="infrequent", min_frequency=0.1, missing="category").fit(df)
    again = OneHotEncoder.from_dict(json.loads(json.dumps(enc.to_dict())))
    np.testing.assert_array_equal(again.transform(df), enc.transform(df))
    assert list(again.get_feature_names_out()) == list(enc.get_feature_names_out())
    assert again.get_params() == enc.get_params()
    probs = rng.random((20, len(enc.get_feature_names_out())))
    pd.testing.assert_frame_equal(again.inverse_transform(probs), enc.inverse_transform(probs))
    assert again.to_dict() == enc.to_dict()


def _good_dict():
    return OneHotEncoder().fit(pd.DataFrame({"s": ["a", "b"], "q": [1, 2]})).to_dict()


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(type="MinMaxScaler"), "type"),
        (lambda d: d.update(version=99), "version"),
        (lambda d: d["params"].update(handle_unknown="maybe"), "handle_unknown"),
        (lambda d: d["params"].update(min_frequency=-1), "min_frequency"),
        (lambda d: d.update(columns="abc"), "columns"),
        (lambda d: d["columns"][1].update(categories=[1, 1]), "columns[1].categories"),
        (lambda d: d["columns"][0].update(categories=[{"a": 1}]), "columns[0].categories"),
        (lambda d: d["columns"][0].update(infrequent=["zzz"]), "columns[0].infrequent"),
        (lambda d: d["columns"][0].pop("name"), "columns[0].name"),
        (lambda d: d.update(feature_names_in=["only-one"]), "feature_names_in"),
        (lambda d: d.update(input_ndim=3), "input_ndim"),
    ],
)
def test_from_dict_rejects_bad_content(mutate, field):
    d = _good_dict()
    mutate(d)
    with pytest.raises(CoefficientFileError, match=field.replace("[", r"\[").replace("]", r"\]")):
        OneHotEncoder.from_dict(d)


def test_from_dict_rejects_non_dict():
    with pytest.raises(CoefficientFileError, match="record"):
        OneHotEncoder.from_dict([1, 2])


def test_not_fitted_and_bad_params():
    with pytest.raises(NotFittedError, match="fit"):
        OneHotEncoder().transform(["a"])
    assert issubclass(NotFittedError, SklearnNotFittedError)
    for kwargs in (
        {"handle_unknown": "infrequent_if_exist"},
        {"missing": "drop"},
        {"min_frequency": 1.5},
        {"dtype": "int8"},
    ):
        with pytest.raises(ParameterError):
            OneHotEncoder(**kwargs).fit(["a"])


def test_feature_mismatch_and_3d_input():
    enc = OneHotEncoder().fit(pd.DataFrame({"a": ["x"], "b": ["y"]}))
    with pytest.raises(FeatureMismatchError, match="'b'"):
        enc.transform(pd.DataFrame({"a": ["x"]}))
    with pytest.raises(FeatureMismatchError, match="3 columns"):
        enc.transform(np.array([["x", "y", "z"]], dtype=object))
    with pytest.raises(InputError, match="3D"):
        OneHotEncoder().fit(np.zeros((2, 2, 2)))


def test_sklearn_contract():
    enc = OneHotEncoder(handle_unknown="ignore", min_frequency=3)
    assert clone(enc).get_params() == enc.get_params()
    assert hasattr(enc, "fit_transform") and hasattr(enc, "set_output")
    out = OneHotEncoder(dtype="float32").fit_transform([["a"], ["b"]])
    assert out.dtype == np.float32
