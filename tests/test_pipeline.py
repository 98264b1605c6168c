"""SequencePipeline: raw frame -> LSTM tensors -> predictions back in real units."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from seqscale.errors import (
    CoefficientFileError,
    InputError,
    InputTypeError,
    LeakageError,
    LeakageWarning,
    ParameterError,
)
from seqscale.sequence.leakage import check_windows
from seqscale.sequence.pipeline import SequencePipeline, load_pipeline, pipeline_from_dict
from seqscale.sequence.split import split_by_time

DIFF1 = {"lag": 1, "order": 1}


def _frame(n: int = 80, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame(
        {
            "date": pd.date_range("2000-01-01", periods=n, freq="QS"),
            "trend": 100 + 2.0 * t + rng.normal(0, 1, n),
            "quarter": (t % 4) + 1,
            "y": 50 + 0.5 * t + 5 * np.sin(t / 2) + rng.normal(0, 1, n),
        }
    )


def _panel(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    parts = []
    for sid, mag in (("a", 1.0), ("b", 100.0), ("c", 10_000.0)):
        t = np.arange(n)
        parts.append(
            pd.DataFrame(
                {
                    "id": sid,
                    "t": t,
                    "x": rng.normal(0, 1, n) * mag,
                    "y": mag * (10 + np.sin(t / 3) + 0.1 * t + rng.normal(0, 0.1, n)),
                }
            )
        )
    return pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=0)  # shuffled rows


def _truth(
    df: pd.DataFrame, back: pd.DataFrame, time: str, col: str = "y", id: str | None = None
) -> np.ndarray:
    keys = [id, time] if id else [time]
    right = df.set_index(keys)[col]
    left = pd.MultiIndex.from_arrays([back[id], back.index]) if id else back.index
    return right.loc[left].to_numpy()


# ------------------------------------------------------------------------------ round trips
@pytest.mark.parametrize(
    ("spec", "span"),
    [
        ({"role": "target"}, 0),
        ({"role": "target", "difference": DIFF1}, 1),
        ({"role": "target", "difference": {"lag": 4, "order": 1}}, 4),
        ({"role": "target", "log": True, "difference": DIFF1, "method": "standard"}, 1),
        ({"role": "target", "difference": {"lag": 1, "order": 2}, "method": "robust"}, 2),
    ],
)
def test_round_trip_gives_original_target(spec, span):
    df = _frame()
    pipe = SequencePipeline({"y": spec, "quarter": {"role": "categorical"}}, time="date", n_in=6)
    X, y = pipe.fit(df).transform(df)
    assert pipe.span_ == span
    assert X.shape == (len(df) - span - 6, 6, len(pipe.feature_names_out_)) and X.dtype == np.float32
    back = pipe.inverse_target(y)
    assert list(back.columns) == ["y"] and back.index.name == "date"
    assert back.index[0] == df["date"].iloc[span + 6]
    np.testing.assert_allclose(back["y"], _truth(df, back, "date"), rtol=1e-5)


def test_round_trip_multi_step_columns():
    df = _frame()
    pipe = SequencePipeline({"y": {"role": "target", "difference": DIFF1}}, time="date", n_in=5, n_out=3)
    _, y = pipe.fit(df).transform(df)
    assert y.shape == (len(df) - 1 - 5 - 2, 3, 1)
    back = pipe.inverse_target(y)
    assert list(back.columns) == ["y+1", "y+2", "y+3"]
    ys = df.set_index("date")["y"]
    pos = ys.index.get_indexer(back.index)
    for h in range(3):
        np.testing.assert_allclose(back[f"y+{h + 1}"], ys.to_numpy()[pos + h], rtol=1e-5)


def test_round_trip_panel_per_series():
    df = _panel()
    pipe = SequencePipeline(
        {"y": {"role": "target", "difference": DIFF1}},
        time="t",
        id="id",
        n_in=5,
        n_out=2,
        per_series=True,
    )
    X, y = pipe.fit(df).transform(df)
    # each series is scaled on its own: magnitudes 1 .. 10,000 all land in [0, 1]
    frame = pipe.transform_frame(df)
    for _, part in frame.groupby("id"):
        assert part["x"].min() == pytest.approx(0) and part["x"].max() == pytest.approx(1)
    assert X.shape[0] == 3 * (40 - 1 - 5 - 1)
    back = pipe.inverse_target(y)
    assert list(back.columns) == ["id", "y+1", "y+2"]
    np.testing.assert_allclose(back["y+1"], _truth(df, back, "t", id="id"), rtol=1e-5)
    assert pipe.target_index().names == ["id", "t"]


def test_windows_do_not_cross_series():
    df = _panel()
    pipe = SequencePipeline(target="y", time="t", id="id", n_in=4, per_series=True).fit(df)
    frame = pipe.transform_frame(df)
    X, _ = pipe.transform(df)
    starts = frame.groupby("id").head(1).index
    # no window contains the last row of one series and the first of the next
    flat = frame[["x", "y"]].to_numpy(dtype=np.float32)
    for s in starts[1:]:
        bad = np.concatenate([flat[s - 1 : s], flat[s : s + 3]])
        assert not any(np.array_equal(w, bad) for w in X)


def test_inverse_difference_exact_on_integers():
    rng = np.random.default_rng(3)
    levels = np.cumsum(rng.integers(-50, 50, size=200)) + 1_000_000
    df = pd.DataFrame({"y": levels})
    pipe = SequencePipeline({"y": {"role": "target", "method": "none", "difference": DIFF1}}, n_in=3)
    _, y = pipe.fit(df).transform(df)
    back = pipe.inverse_target(y)
    assert np.array_equal(back["y"].to_numpy(), levels[4:].astype(float))
    assert list(back.index) == list(range(4, 200))  # no time column: the frame's index


def test_windowing_matches_naive_loop():
    df = _frame(40)
    pipe = SequencePipeline({"quarter": {"role": "categorical"}}, target="y", time="date", n_in=4, n_out=2)
    X, y = pipe.fit(df).transform(df)
    frame = pipe.transform_frame(df)
    values = frame[list(pipe.feature_names_out_)].to_numpy()
    target = frame["y"].to_numpy()
    n = len(frame) - 4 - 2 + 1
    naive_X = np.stack([values[i : i + 4] for i in range(n)]).astype(np.float32)
    naive_y = np.stack([target[i + 4 : i + 6] for i in range(n)])[:, :, None].astype(np.float32)
    assert np.array_equal(X, naive_X) and np.array_equal(y, naive_y)
    assert X.dtype == np.float32 and y.dtype == np.float32 and X.flags.c_contiguous


def test_one_hot_matches_sklearn_and_names():
    from sklearn.preprocessing import OneHotEncoder

    df = _frame(30)
    pipe = SequencePipeline({"quarter": {"role": "categorical"}}, target="y", time="date", n_in=3).fit(df)
    names = [n for n in pipe.feature_names_out_ if n.startswith("quarter")]
    assert names == ["quarter=1", "quarter=2", "quarter=3", "quarter=4"]
    expected = OneHotEncoder(sparse_output=False).fit_transform(df[["quarter"]])
    np.testing.assert_array_equal(pipe.transform_frame(df)[names].to_numpy(), expected)


def test_unlisted_columns_get_defaults_and_time_id_are_not_features():
    df = _frame(30).assign(region=["north", "south"] * 15)
    pipe = SequencePipeline(target="y", time="date", n_in=3).fit(df)
    assert pipe.specs_["trend"]["method"] == "minmax" and pipe.specs_["quarter"]["method"] == "minmax"
    assert pipe.specs_["region"]["role"] == "categorical"
    assert "date" not in pipe.feature_names_out_
    assert {"region=north", "region=south"} <= set(pipe.feature_names_out_)


def test_unsorted_rows_are_sorted_by_time():
    df = _frame(30)
    pipe = SequencePipeline(target="y", time="date", n_in=3).fit(df)
    X1, y1 = pipe.transform(df)
    X2, y2 = pipe.transform(df.sample(frac=1.0, random_state=2))
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)


def test_series_features_constant_per_series():
    df = _panel()
    pipe = SequencePipeline(target="y", time="t", id="id", n_in=4, per_series=True, series_features=True).fit(
        df
    )
    assert list(pipe.feature_names_out_[-2:]) == ["y:level", "y:log10_std"]
    frame = pipe.transform_frame(df)
    per = frame.groupby("id")["y:level"].nunique()
    assert (per == 1).all()
    levels = frame.groupby("id")["y:level"].first()
    assert levels["a"] < levels["b"] < levels["c"]
    with pytest.raises(InputError, match="not seen"):
        pipe.transform(df.assign(id=df["id"].replace("a", "z")))


# ------------------------------------------------------------------------------ end to end
def test_multivariate_example_end_to_end():
    df = _frame(60)
    train, test, cutoff = split_by_time(df, test_size=0.25, time="date")
    pipe = SequencePipeline(
        {
            "trend": {"role": "input", "difference": DIFF1, "method": "standard"},
            "quarter": {"role": "categorical"},
        },
        target="y",
        time="date",
        n_in=4,
        test_start=cutoff,
    ).fit(train)
    X, y = pipe.transform(test)
    assert X.shape == (len(test) - 1 - 4, 4, 1 + 1 + 4)
    assert not np.isnan(X).any()
    back = pipe.inverse_target(y)
    np.testing.assert_allclose(back["y"], _truth(test, back, "date"), rtol=1e-5)


def test_torch_lstm_trains_and_predicts_in_real_units():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    df = _frame(80)
    train, test, cutoff = split_by_time(df, test_size=0.3, time="date")
    pipe = SequencePipeline(
        {"quarter": {"role": "categorical"}, "y": {"role": "target", "difference": DIFF1}},
        time="date",
        n_in=6,
        test_start=cutoff,
    ).fit(train)
    X, y = pipe.transform(train)

    class Net(torch.nn.Module):
        def __init__(self, n_features):
            super().__init__()
            self.lstm = torch.nn.LSTM(n_features, 8, batch_first=True)
            self.head = torch.nn.Linear(8, 1)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])[:, None, :]

    net = Net(X.shape[2])
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(2):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(torch.from_numpy(X)), torch.from_numpy(y))
        loss.backward()
        opt.step()
    Xt, _ = pipe.transform(test)
    with torch.no_grad():
        pred = net(torch.from_numpy(Xt))
    back = pipe.inverse_target(pred)
    assert list(back.index) == list(test["date"].iloc[1 + 6 :])
    assert np.isfinite(back["y"]).all()
    # forecasts of differences are added to the last known level: same magnitude as the data
    assert np.abs(back["y"] - _truth(test, back, "date")).max() < 30


# ------------------------------------------------------------------------------ activation rules
def test_sigmoid_and_tanh_targets_land_in_range():
    df = _frame(40)
    sig = SequencePipeline(target="y", time="date", n_in=3, output_activation="sigmoid").fit(df)
    t = sig.transform_frame(df)["y"]
    assert t.min() == pytest.approx(0) and t.max() == pytest.approx(1)
    tanh = SequencePipeline(target="y", time="date", n_in=3, output_activation="tanh").fit(df)
    t = tanh.transform_frame(df)["y"]
    assert t.min() == pytest.approx(-1) and t.max() == pytest.approx(1)
    assert tanh.specs_["y"]["feature_range"] == [-1.0, 1.0]


def test_sigmoid_passes_binary_target_through():
    df = _frame(40).assign(flag=lambda d: (d["y"] > d["y"].median()).astype(int))
    pipe = SequencePipeline(target="flag", time="date", n_in=3, output_activation="sigmoid").fit(df)
    assert pipe.specs_["flag"]["method"] == "none"
    np.testing.assert_array_equal(pipe.transform_frame(df)["flag"], df["flag"].iloc[:].to_numpy())


def test_linear_target_standard_if_normal_else_minmax():
    rng = np.random.default_rng(0)
    normal = pd.DataFrame({"y": rng.normal(10, 2, 500)})
    skewed = pd.DataFrame({"y": rng.exponential(1.0, 500)})
    assert SequencePipeline(target="y", n_in=2).fit(normal).specs_["y"]["method"] == "standard"
    assert SequencePipeline(target="y", n_in=2).fit(skewed).specs_["y"]["method"] == "minmax"
    explicit = SequencePipeline({"y": {"role": "target", "method": "robust"}}, n_in=2).fit(normal)
    assert explicit.specs_["y"]["method"] == "robust"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {
                "columns": {"y": {"role": "target", "method": "standard"}},
                "output_activation": "sigmoid",
            },
            "unbounded",
        ),
        (
            {"columns": {"y": {"role": "target", "method": "robust"}}, "output_activation": "tanh"},
            "unbounded",
        ),
        (
            {
                "columns": {"y": {"role": "target", "method": "minmax", "feature_range": [-1, 1]}},
                "output_activation": "sigmoid",
            },
            "outside the sigmoid",
        ),
        ({"target": "y", "output_activation": "softmax"}, "softmax"),
        ({"target": "y", "task": "binary", "output_activation": "sigmoid"}, "exactly two"),
        ({"target": "y", "task": "multiclass", "output_activation": "sigmoid"}, "softmax"),
        (
            {
                "columns": {"y": {"role": "target", "method": "none"}},
                "output_activation": "sigmoid",
            },
            "outside the sigmoid",
        ),
        ({"target": "y", "output_activation": "swish"}, "swish"),
        ({"target": "y", "per_series": True}, "id"),
        (
            {"target": ["y", "quarter"], "task": "multiclass", "output_activation": "softmax"},
            "one label",
        ),
    ],
)
def test_inconsistent_choices_are_refused(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        SequencePipeline(time="date", n_in=3, **kwargs).fit(_frame(40))


def test_text_target_needs_a_classification_task():
    df = _frame(40).assign(label=["a", "b", "c", "d"] * 10)
    with pytest.raises(InputTypeError, match="multiclass"):
        SequencePipeline(target="label", time="date", n_in=3).fit(df)


def test_softmax_target_one_hot_and_decodes_labels():
    df = _frame(40).assign(label=np.array(["low", "mid", "high", "mid"] * 10))
    pipe = SequencePipeline(
        target="label", time="date", n_in=3, n_out=2, task="multiclass", output_activation="softmax"
    ).fit(df)
    assert pipe.target_names_out_ == ["label=high", "label=low", "label=mid"]
    assert not any(n.startswith("label") for n in pipe.feature_names_out_)  # labels are not inputs
    X, y = pipe.transform(df)
    assert y.shape == (40 - 3 - 1, 2, 3) and np.array_equal(y.sum(axis=2), np.ones((36, 2)))
    back = pipe.inverse_target(y * 0.8 + 0.05)  # probabilities
    assert list(back.columns) == ["label+1", "label+2"]
    assert back["label+1"].tolist() == df["label"].iloc[3:39].tolist()
    X2, y2 = pipe.transform(df.drop(columns="label"))
    assert y2 is None and np.array_equal(X, X2)


def test_binary_text_labels_under_sigmoid():
    df = _frame(40).assign(up=np.where(np.arange(40) % 3 == 0, "yes", "no"))
    pipe = SequencePipeline(target="up", time="date", n_in=3, task="binary", output_activation="sigmoid").fit(
        df
    )
    _, y = pipe.transform(df)
    assert set(np.unique(y)) == {0.0, 1.0}
    assert pipe.inverse_target(y[:, 0, 0] * 0.9)["up"].tolist() == df["up"].iloc[3:].tolist()


# ------------------------------------------------------------------------------ files
def _fitted(tmp_path, **kwargs):
    df = _frame(50)
    pipe = SequencePipeline(
        {
            "trend": {"role": "input", "difference": DIFF1, "method": "standard"},
            "quarter": {"role": "categorical"},
            "y": {"role": "target", "log": True, "difference": {"lag": 4, "order": 1}},
        },
        time="date",
        n_in=5,
        test_start=pd.Timestamp("2030-01-01"),
        **kwargs,
    ).fit(df)
    path = tmp_path / "pipe.json"
    pipe.save(path)
    return pipe, df, path


def test_save_load_round_trip(tmp_path):
    pipe, df, path = _fitted(tmp_path)
    loaded = load_pipeline(path)
    X1, y1 = pipe.transform(df)
    X2, y2 = loaded.transform(df)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    pd.testing.assert_frame_equal(pipe.inverse_target(y1), loaded.inverse_target(y2))
    assert loaded.test_start == pd.Timestamp("2030-01-01") and loaded.cutoff_ == pipe.cutoff_
    record = json.loads(path.read_text())
    assert record["format"] == "seqscale.pipeline" and "pickle" not in path.read_text()
    assert loaded.to_plan() == pipe.to_plan()


def test_save_load_panel_and_classifier(tmp_path):
    df = _panel()
    pipe = SequencePipeline(
        target="y",
        time="t",
        id="id",
        n_in=4,
        per_series=True,
        series_features=True,
        test_start={"a": 38, "b": 38, "c": 38},
    ).fit(df[df["t"] < 38])
    pipe.save(tmp_path / "p.json")
    X1, _ = pipe.transform(df)
    X2, _ = load_pipeline(tmp_path / "p.json").transform(df)
    assert np.array_equal(X1, X2)
    cls = _frame(40).assign(label=["a", "b", "c", "b"] * 10)
    clf = SequencePipeline(
        target="label", time="date", n_in=3, task="multiclass", output_activation="softmax"
    ).fit(cls)
    clf.save(tmp_path / "c.json")
    _, y = clf.transform(cls)
    assert load_pipeline(tmp_path / "c.json").inverse_target(y, frame=cls).equals(clf.inverse_target(y))


def _tamper(record, how):
    out = copy.deepcopy(record)
    how(out)
    return out


@pytest.mark.parametrize(
    ("how", "match"),
    [
        (lambda r: r["plan"]["columns"]["trend"].update(method="bogus"), "method"),
        (
            lambda r: r["plan"]["columns"]["trend"].update(method="minmax"),
            "state.scalers.trend.method",
        ),
        (lambda r: r["state"]["scalers"].pop("y"), "state.scalers.y"),
        (lambda r: r["state"]["scalers"]["y"]["channels"][0].update(scale="big"), "scale"),
        (lambda r: r["state"]["encoders"]["quarter"].update(version=7), "version"),
        (lambda r: r["state"]["differences"]["y"]["params"].update(lag=2), "differences"),
        (lambda r: r["state"].update(span="4"), "state.span"),
        (lambda r: r["state"].update(feature_names_out=["x"]), "feature_names_out"),
        (lambda r: r.update(version=99), "version"),
        (lambda r: r.update(format="seqscale.coefficients"), "format"),
        (lambda r: r.pop("state"), "state"),
        (lambda r: r["params"].update(test_start={"when": 1}), "test_start"),
    ],
)
def test_tampered_file_is_refused(tmp_path, how, match):
    _, _, path = _fitted(tmp_path)
    record = json.loads(path.read_text())
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_tamper(record, how)))
    with pytest.raises(CoefficientFileError, match=match):
        load_pipeline(bad)


@pytest.mark.parametrize("content", ["", "[1, 2]", "null", '{"format": "seqscale.pipeline"}'])
def test_truncated_or_empty_file_is_refused(tmp_path, content):
    _, _, path = _fitted(tmp_path)
    text = path.read_text()
    for body in (text[: len(text) // 2], content):
        bad = tmp_path / "bad.json"
        bad.write_text(body)
        with pytest.raises(CoefficientFileError):
            load_pipeline(bad)
    with pytest.raises(CoefficientFileError, match="no such"):
        load_pipeline(tmp_path / "missing.json")
    with pytest.raises(CoefficientFileError):
        pipeline_from_dict("not a dict")


# ------------------------------------------------------------------------------ leakage
def test_fit_crossing_test_start_is_refused():
    df = _frame(40)
    split = split_by_time(df, test_size=0.25, time="date")
    with pytest.raises(LeakageError, match="test period"):
        SequencePipeline(target="y", time="date", n_in=3, test_start=split.cutoff).fit(df)
    SequencePipeline(target="y", time="date", n_in=3, test_start=split.cutoff).fit(split.train)
    SequencePipeline(target="y", time="date", n_in=3, test_start=split.cutoff, allow_leakage=True).fit(df)
    with pytest.raises(LeakageError):  # a row position, without a time column
        SequencePipeline(target="y", n_in=3, test_start=30).fit(df.drop(columns="date"))
    panel = _panel()
    with pytest.raises(LeakageError):
        SequencePipeline(target="y", time="t", id="id", n_in=3, test_start={"b": 35}).fit(panel)


def test_check_windows_warns_on_sliding_windows_only():
    series = np.random.default_rng(0).normal(size=(100, 2))
    windows = np.stack([series[i : i + 10] for i in range(91)])
    with pytest.warns(LeakageWarning, match="scale the series first|Scale the series first"):
        assert check_windows(windows)
    strided = windows[::3]
    with pytest.warns(LeakageWarning):
        assert check_windows(strided)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not check_windows(np.random.default_rng(1).normal(size=(50, 10, 2)))
        assert not check_windows(np.stack([series[i : i + 10] for i in range(0, 90, 10)]))


def test_fit_on_windows_is_refused():
    series = np.random.default_rng(0).normal(size=(60, 1))
    windows = np.stack([series[i : i + 8] for i in range(53)])
    with pytest.warns(LeakageWarning), pytest.raises(InputError, match="not on windows"):
        SequencePipeline(target="x0", n_in=3).fit(windows)


# ------------------------------------------------------------------------------ probabilistic
def _quantile_setup(n_out: int, lag: int = 1):
    df = _frame(60)
    pipe = SequencePipeline(
        {"y": {"role": "target", "difference": {"lag": lag, "order": 1}}},
        time="date",
        n_in=4,
        n_out=n_out,
    ).fit(df)
    _, y = pipe.transform(df)
    return pipe, y


def test_one_step_quantiles_exact_through_difference():
    pipe, y = _quantile_setup(1)
    q = y + np.array([-0.1, 0.0, 0.1], dtype=np.float32)  # [samples, 1, 3]
    levels = pipe.inverse_target(q, kind="quantiles")
    assert levels.shape == q.shape
    for k in range(3):
        np.testing.assert_allclose(levels[:, :, k], pipe.inverse_target(q[:, :, k]).to_numpy())
    assert (np.diff(levels, axis=2) > 0).all()  # order kept


def test_multi_step_quantiles_refused_paths_work():
    pipe, y = _quantile_setup(3)
    q = y + np.array([-0.1, 0.0, 0.1], dtype=np.float32)
    with pytest.raises(ParameterError, match="paths"):
        pipe.inverse_target(q, kind="quantiles")
    paths = y + np.random.default_rng(0).normal(0, 0.05, (y.shape[0], 3, 20)).astype(np.float32)
    levels = pipe.inverse_target(paths, kind="paths")
    assert levels.shape == paths.shape
    for k in (0, 7, 19):
        np.testing.assert_allclose(levels[:, :, k], pipe.inverse_target(paths[:, :, k]).to_numpy())
    seasonal, ys = _quantile_setup(3, lag=4)  # horizon <= lag: quantiles still map exactly
    assert seasonal.inverse_target(ys + np.zeros((1, 1, 2), np.float32), kind="quantiles").shape[2] == 2


def test_inverse_needs_matching_samples():
    pipe, y = _quantile_setup(1)
    with pytest.raises(InputError, match="samples"):
        pipe.inverse_target(y[:-1])
    fresh = SequencePipeline(target="y", time="date", n_in=4).fit(_frame(30))
    with pytest.raises(InputError, match="transform"):
        fresh.inverse_target(np.zeros((5, 1)))
    back = fresh.inverse_target(fresh.transform(_frame(30))[1], frame=_frame(30))
    assert len(back) == 26


# ------------------------------------------------------------------------------ plans
ARCH_PLAN = {
    "format": "seqscale.plan",
    "version": 1,
    "time": "date",
    "id": None,
    "target": ["y"],
    "task": "regression",
    "output_activation": "linear",
    "window": {"n_in": 12, "n_out": 1},
    "per_series": False,
    "series_features": False,
    "columns": {
        "realgdp": {
            "role": "input",
            "log": False,
            "difference": {"lag": 1, "order": 1},
            "method": "standard",
            "bounds": None,
            "reason": "trending: ADF p=0.99 ...",
        },
        "quarter": {"role": "categorical", "handle_unknown": "ignore", "reason": "..."},
        "y": {
            "role": "target",
            "log": False,
            "difference": None,
            "method": "minmax",
            "feature_range": [0, 1],
            "bounds": None,
            "reason": "...",
        },
        "notes": {"role": "ignore", "reason": "constant column"},
    },
}


def test_from_plan_architecture_example(tmp_path):
    n = 60
    t = np.arange(n)
    df = pd.DataFrame(
        {
            "date": pd.date_range("1959-01-01", periods=n, freq="QS"),
            "realgdp": 2700 + 15 * t + np.random.default_rng(0).normal(0, 5, n),
            "quarter": t % 4 + 1,
            "y": np.sin(t / 3) + 2,
            "notes": "n/a",
        }
    )
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(ARCH_PLAN))
    for source in (ARCH_PLAN, path, str(path)):
        pipe = SequencePipeline.from_plan(source).fit(df)
        X, y = pipe.transform(df)
        assert list(pipe.feature_names_out_) == [
            "realgdp",
            "quarter=1",
            "quarter=2",
            "quarter=3",
            "quarter=4",
            "y",
        ]
        assert X.shape == (n - 1 - 12, 12, 6) and y.shape == (n - 1 - 12, 1, 1)
        assert 0 <= y.min() and y.max() <= 1
        np.testing.assert_allclose(pipe.inverse_target(y)["y"], df["y"].iloc[13:], rtol=1e-5)
    plan = pipe.to_plan()
    assert plan["columns"]["realgdp"]["reason"].startswith("trending")
    assert "notes" not in plan["columns"]
    bad = _tamper(ARCH_PLAN, lambda r: r["columns"]["y"].update(method="bogus"))
    with pytest.raises(CoefficientFileError, match="method"):
        SequencePipeline.from_plan(bad)


def test_params_are_stored_verbatim():
    cols = {"y": {"role": "target"}}
    pipe = SequencePipeline(cols, target="y", n_in=7)
    assert pipe.get_params()["columns"] is cols and pipe.get_params()["n_in"] == 7
    assert pipe.to_plan()["window"] == {"n_in": 7, "n_out": 1}
