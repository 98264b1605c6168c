import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

import seqscale  # noqa: E402
from seqscale.errors import (  # noqa: E402
    InputError,
    NotFittedError,
    ParameterError,
    UnseenSeriesError,
)
from seqscale.export.torch import (  # noqa: E402
    AffineModule,
    GroupedAffineModule,
    GroupedScaledModel,
    ScaledModel,
    module_from_scaler,
    wrap_model,
)

# torch.jit.script still works but newer torch releases flag it as deprecated
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")

SCALERS = [
    seqscale.MinMaxScaler,
    seqscale.StandardScaler,
    seqscale.RobustScaler,
    seqscale.MaxAbsScaler,
]
SHAPES = {"1d": (200,), "2d": (200, 3), "3d": (16, 12, 3)}
TOL = {np.float32: 1e-6, np.float64: 1e-12}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def _data(shape, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return (rng.normal(50, 10, size=shape) * rng.uniform(0.5, 3)).astype(dtype)


def _close(actual, expected, dtype):
    """rtol 1e-6 (float32) / 1e-12 (float64), plus the same share of the data's magnitude.

    The absolute part covers cancellation: ``(y - offset) / scale + shift`` for a value far
    below ``shift`` loses digits in any float format, by the ratio ``|shift| / |x|``.
    """
    a = actual.detach().numpy() if isinstance(actual, torch.Tensor) else actual
    assert a.dtype == np.dtype(dtype)
    tol = TOL[dtype]
    magnitude = max(1.0, float(np.nanmax(np.abs(expected))))
    np.testing.assert_allclose(a, expected, rtol=tol, atol=tol * magnitude)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("cls", SCALERS)
def test_same_numbers_as_numpy(cls, shape, dtype):
    X = _data(SHAPES[shape], dtype=dtype)
    scaler = cls().fit(X)
    module = module_from_scaler(scaler, dtype=TORCH_DTYPE[dtype])
    new = _data(SHAPES[shape], seed=1, dtype=dtype)
    y = module(torch.from_numpy(new))
    _close(y, scaler.transform(new), dtype)
    _close(module.inverse(y), scaler.inverse_transform(y.numpy()), dtype)
    _close(module.inverse(y), new, dtype)


def test_float32_data_default_dtype():
    X = _data((64, 10, 2), dtype=np.float32)
    scaler = seqscale.StandardScaler().fit(X)
    module = module_from_scaler(scaler)
    assert module.shift.dtype == torch.float64  # the coefficients, whatever the module's dtype
    _close(module(torch.from_numpy(X)), scaler.transform(X), np.float32)


def test_dtype_moves_keep_every_digit():
    # float32 has 128 between neighbours near 1.2e9: float32 coefficients would be off by up to 64
    X = 1.23456789e9 + np.array([[-1.0], [0.0], [1.0]])
    scaler = seqscale.StandardScaler().fit(X)
    module = scaler.to_torch()  # default dtype float32
    moved = module.float().half().to(torch.bfloat16).double()
    assert moved.shift.dtype == torch.float64 and moved.state_dict()["shift"].item() == 1.23456789e9
    top = torch.tensor([[1.23456789e9 + 1]], dtype=torch.float64)
    assert moved(top).item() == pytest.approx(np.sqrt(1.5), rel=1e-12)  # 1.2247...
    assert moved.inverse(moved(top)).item() == pytest.approx(1.23456789e9 + 1, rel=0, abs=1e-6)
    _close(moved(torch.from_numpy(X)), scaler.transform(X), np.float64)
    assert module.float()(torch.tensor([5], dtype=torch.int64)).dtype == torch.float32
    assert module.double()(torch.tensor([5], dtype=torch.int64)).dtype == torch.float64


def test_integer_input_is_converted():
    scaler = seqscale.MinMaxScaler().fit(np.array([[0.0], [10.0]]))
    out = module_from_scaler(scaler)(torch.tensor([[5]]))
    assert out.dtype == torch.float32 and out.item() == 0.5


def test_features_subset_for_target_predictions():
    X = pd.DataFrame(_data((300, 3)), columns=["a", "y", "b"])
    scaler = seqscale.MinMaxScaler().fit(X)
    target = module_from_scaler(scaler, dtype=torch.float64, features=["y"])
    assert target.n_features == 1 and target.feature_names == ["y"]
    pred = np.random.default_rng(3).uniform(size=(20, 4))  # [batch, horizon]
    _close(
        target.inverse(torch.from_numpy(pred)),
        scaler.inverse_transform(pred, features=["y"]),
        np.float64,
    )
    raw = X["y"].to_numpy().copy()
    _close(target(torch.from_numpy(raw)), scaler.transform(raw, features=["y"]), np.float64)
    two = module_from_scaler(scaler, dtype=torch.float64, features=["b", "a"])
    both = np.random.default_rng(4).uniform(size=(5, 7, 2))
    _close(
        two.inverse(torch.from_numpy(both)),
        scaler.inverse_transform(both, features=["b", "a"]),
        np.float64,
    )


def test_wrong_feature_count_raises():
    module = module_from_scaler(seqscale.StandardScaler().fit(_data((50, 3))))
    with pytest.raises(InputError, match="3 features"):
        module(torch.ones(4, 2))
    with pytest.raises(InputError):
        module.inverse(torch.ones(4, 5, 4))


def test_clip_matches_out_of_range_clip():
    X = _data((100, 2))
    scaler = seqscale.MinMaxScaler(out_of_range="clip").fit(X)
    module = module_from_scaler(scaler, dtype=torch.float64)
    assert module.clip
    wide = X * 3 - 100
    y = module(torch.from_numpy(wide))
    _close(y, scaler.transform(wide), np.float64)
    assert y.min() == 0.0 and y.max() == 1.0
    assert not module_from_scaler(scaler, clip=False).clip
    std = module_from_scaler(seqscale.StandardScaler().fit(X), dtype=torch.float64, clip=True)
    assert torch.isfinite(std.low).all() and float(std(torch.from_numpy(wide)).max()) <= float(std.high.max())


def test_nan_and_padding_pass_through():
    X = _data((6, 10, 2))
    X[:, 7:, :] = -1.0
    X[0, 2, 1] = np.nan
    scaler = seqscale.StandardScaler(mask_value=-1.0).fit(X)
    module = module_from_scaler(scaler, dtype=torch.float64)
    y = module(torch.from_numpy(X))
    expected = scaler.transform(X)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, equal_nan=True)
    assert (y[:, 7:] == -1.0).all() and torch.isnan(y[0, 2, 1])
    np.testing.assert_allclose(module.inverse(y).numpy(), X, rtol=1e-12, equal_nan=True)


def test_gradients_flow_and_equal_scale():
    scaler = seqscale.StandardScaler().fit(_data((100, 3)))
    module = module_from_scaler(scaler, dtype=torch.float64)
    x = torch.from_numpy(_data((4, 5, 3), seed=2)).requires_grad_(True)
    module(x).sum().backward()
    torch.testing.assert_close(x.grad, module.scale.expand(4, 5, 3))
    assert not any(p.requires_grad for p in module.buffers()) and not list(module.parameters())


def test_state_dict_round_trip():
    scaler = seqscale.MinMaxScaler(out_of_range="clip").fit(_data((100, 3)))
    module = module_from_scaler(scaler)
    fresh = AffineModule(3)  # from its shape alone: the settings come with the state
    fresh.load_state_dict(module.state_dict())
    assert fresh.clip
    x = torch.from_numpy(_data((8, 3), seed=5, dtype=np.float32) * 2)
    torch.testing.assert_close(fresh(x), module(x), rtol=0, atol=0)
    torch.testing.assert_close(fresh.inverse(x), module.inverse(x), rtol=0, atol=0)
    with pytest.raises(RuntimeError):
        AffineModule(2).load_state_dict(module.state_dict())


def test_torchscript():
    X = _data((10, 6, 3))
    scaler = seqscale.RobustScaler(mask_value=0.0).fit(X)
    module = module_from_scaler(scaler, dtype=torch.float64)
    scripted = torch.jit.script(module)
    x = torch.from_numpy(_data((4, 6, 3), seed=9))
    torch.testing.assert_close(scripted(x), module(x), rtol=0, atol=0)
    torch.testing.assert_close(scripted.inverse(x), module.inverse(x), rtol=0, atol=0)
    with pytest.raises(torch.jit.Error, match="InputError"):
        scripted(torch.ones(2, 2, dtype=torch.float64))
    clipped = torch.jit.script(module_from_scaler(seqscale.MinMaxScaler().fit(X), clip=True))
    assert float(clipped(x.float() * 10).max()) <= 1.0


def test_not_fitted_and_bad_parameters():
    with pytest.raises(NotFittedError):
        module_from_scaler(seqscale.StandardScaler())
    scaler = seqscale.StandardScaler().fit(_data((10, 2)))
    with pytest.raises(ParameterError):
        module_from_scaler(scaler, dtype=torch.int64)
    with pytest.raises(InputError):
        module_from_scaler(scaler, features=["nope"])
    with pytest.raises(ParameterError):
        module_from_scaler(scaler, series=["a"])


def test_import_seqscale_does_not_import_torch():
    code = "import sys, seqscale; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------------- per series
def _panel(unseen="pooled", cls=seqscale.MinMaxScaler, shape=(30, 8, 2)):
    X = _data(shape, seed=11)
    rng = np.random.default_rng(12)
    ids = np.array(["s1", "s2", "s3"], dtype=object)[rng.integers(0, 3, size=shape[0])]
    X[ids == "s2"] *= 5
    return X, ids, cls(unseen=unseen).fit(X, groups=ids)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("unseen", ["pooled", "median"])
@pytest.mark.parametrize("cls", SCALERS)
def test_grouped_same_numbers_as_numpy(cls, unseen, dtype):
    _, _, scaler = _panel(unseen, cls)
    module = module_from_scaler(scaler, dtype=TORCH_DTYPE[dtype])
    assert isinstance(module, GroupedAffineModule)
    assert module.shift.shape == (4, 2)
    new = _data((7, 8, 2), seed=13, dtype=dtype)
    new_ids = np.array(["s2", "s1", "new", "s3", "s2", "other", "s1"], dtype=object)
    idx = module.index_of(new_ids)
    assert idx.dtype == torch.long and idx.tolist()[2] == -1
    y = module(torch.from_numpy(new), idx)
    _close(y, scaler.transform(new, groups=new_ids), dtype)
    _close(module.inverse(y, idx), scaler.inverse_transform(y.numpy(), groups=new_ids), dtype)
    flat = new[:, 0, :]  # [batch, features]
    _close(module(torch.from_numpy(flat), idx), scaler.transform(flat, groups=new_ids), dtype)


def test_grouped_target_subset_any_shape():
    _, _, scaler = _panel("error")
    target = module_from_scaler(scaler, dtype=torch.float64, features=[1])
    pred = np.random.default_rng(1).uniform(size=(5, 3))  # [batch, horizon]
    pid = np.array(["s3", "s1", "s1", "s2", "s3"], dtype=object)
    expected = scaler.inverse_transform(pred, groups=pid, features=[1])
    _close(target.inverse(torch.from_numpy(pred), target.index_of(pid)), expected, np.float64)
    one = pred[:, 0]
    _close(
        target.inverse(torch.from_numpy(one), target.index_of(pid)),
        scaler.inverse_transform(one, groups=pid, features=[1]),
        np.float64,
    )


def test_grouped_unseen_error_and_bad_positions():
    _, _, scaler = _panel("error")
    module = module_from_scaler(scaler)
    x = torch.ones(3, 8, 2)
    with pytest.raises(UnseenSeriesError):
        module(x, torch.tensor([0, -1, 1]))
    with pytest.raises(InputError, match="outside"):
        module(x, torch.tensor([0, 3, 1]))
    with pytest.raises(InputError, match="one series position per sample"):
        module(x, torch.tensor([0, 1]))
    with pytest.raises(InputError, match="integer"):
        module(x, torch.tensor([0.0, 1.0, 2.0]))
    scripted = torch.jit.script(module)
    with pytest.raises(torch.jit.Error, match="UnseenSeriesError"):
        scripted(x, torch.tensor([0, -1, 1]))


def test_grouped_torchscript_and_state_dict():
    _, _, scaler = _panel("median", seqscale.StandardScaler)
    module = module_from_scaler(scaler, dtype=torch.float64)
    scripted = torch.jit.script(module)
    x = torch.from_numpy(_data((4, 8, 2), seed=3))
    idx = module.index_of(["s3", "x", "s1", "s2"])
    torch.testing.assert_close(scripted(x, idx), module(x, idx), rtol=0, atol=0)
    torch.testing.assert_close(scripted.inverse(x, idx), module.inverse(x, idx), rtol=0, atol=0)
    fresh = GroupedAffineModule(3, 2, unseen="median", dtype=torch.float64)
    fresh.load_state_dict(module.state_dict())
    assert fresh.series.tolist() == module.series.tolist()
    torch.testing.assert_close(
        fresh(x, fresh.index_of(["s3", "x", "s1", "s2"])), module(x, idx), rtol=0, atol=0
    )


def test_grouped_integer_ids():
    X = _data((40, 2))
    ids = np.repeat([10, 20], 20)
    scaler = seqscale.StandardScaler().fit(X, groups=ids)
    module = module_from_scaler(scaler, dtype=torch.float64)
    assert module.index_of([20, 10, 30]).tolist() == [1, 0, -1]
    assert module.index_of(pd.Series([10])).tolist() == [0]
    _close(
        module(torch.from_numpy(X), module.index_of(ids)),
        scaler.transform(X, groups=ids),
        np.float64,
    )


# ---------------------------------------------------------------------------------- wrapped models
class _Net(torch.nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.lstm = torch.nn.LSTM(n_in, 8, batch_first=True)
        self.head = torch.nn.Linear(8, n_out)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1, :])


def test_scaled_model_matches_manual_pipeline():
    torch.manual_seed(0)
    scaler = seqscale.StandardScaler().fit(_data((400, 3)))
    windows = _data((10, 12, 3), seed=4)
    net = _Net(3, 1).double()
    wrapped = wrap_model(net, scaler, y_features=[1], dtype=torch.float64)
    assert isinstance(wrapped, ScaledModel)
    got = wrapped(torch.from_numpy(windows))
    with torch.no_grad():
        scaled_pred = net(torch.from_numpy(scaler.transform(windows))).numpy()
    expected = scaler.inverse_transform(scaled_pred, features=[1])
    _close(got, expected, np.float64)
    scripted = torch.jit.script(wrapped)
    torch.testing.assert_close(scripted(torch.from_numpy(windows)), got)


def test_scaled_model_separate_target_scaler_float32():
    torch.manual_seed(1)
    X = _data((10, 12, 2), dtype=np.float32)
    y = _data((10, 3), seed=6, dtype=np.float32) * 100
    xs, ys = seqscale.MinMaxScaler().fit(X), seqscale.StandardScaler().fit(y)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(24, 3))
    wrapped = wrap_model(net, xs, ys)
    with torch.no_grad():
        scaled = net(torch.from_numpy(xs.transform(X))).numpy()
        got = wrapped(torch.from_numpy(X))
    np.testing.assert_allclose(got.numpy(), ys.inverse_transform(scaled), rtol=1e-5, atol=1e-4)
    plain = ScaledModel(torch.nn.Identity(), module_from_scaler(xs))
    torch.testing.assert_close(plain(torch.from_numpy(X)), torch.from_numpy(xs.transform(X)))


def test_grouped_scaled_model_aligns_series():
    torch.manual_seed(2)
    X, ids, xs = _panel("pooled")
    target = X[:, -1, 1] * 2
    order = np.argsort(ids, kind="stable")[::-1]  # the target scaler sees the series in another order
    ys = seqscale.StandardScaler(unseen="pooled").fit(target[order], groups=ids[order])
    assert list(ys.series_) != list(xs.series_)
    net = _Net(2, 1).double()
    wrapped = wrap_model(net, xs, ys, dtype=torch.float64)
    assert isinstance(wrapped, GroupedScaledModel)
    new_ids = np.array(["s1", "s3", "zz", "s2"], dtype=object)
    windows = X[:4]
    got = wrapped(torch.from_numpy(windows), wrapped.input_scaler.index_of(new_ids))
    with torch.no_grad():
        scaled = net(torch.from_numpy(xs.transform(windows, groups=new_ids))).numpy()
    _close(got, ys.inverse_transform(scaled[:, 0], groups=new_ids).reshape(-1, 1), np.float64)
    torch.jit.script(wrapped)
    with pytest.raises(ParameterError):
        wrap_model(net, xs, seqscale.StandardScaler().fit(target))


def test_pipeline_scaling_step_as_module():
    import pandas as pd

    rng = np.random.default_rng(3)
    n = 120
    frame = pd.DataFrame(
        {
            "t": pd.date_range("2020-01-01", periods=n, freq="D"),
            "kind": rng.choice(["a", "b", "c"], size=n),
            "x": rng.normal(50, 10, size=n),
            "y": rng.normal(5, 2, size=n),
        }
    )
    pipe = seqscale.SequencePipeline(
        {
            "kind": {"role": "categorical"},
            "x": {"role": "input", "method": "minmax"},
            "y": {"role": "target", "method": "standard"},
        },
        time="t",
        n_in=4,
    ).fit(frame)
    scaled = pipe.transform_frame(frame)
    names = [str(n) for n in pipe.feature_names_out_]
    raw = scaled[names].copy()
    raw["x"], raw["y"] = frame["x"].to_numpy(), frame["y"].to_numpy()
    module = pipe.to_torch(dtype=torch.float64)
    out = module(torch.from_numpy(raw.to_numpy(dtype=np.float64)))
    np.testing.assert_allclose(out.numpy(), scaled[names].to_numpy(dtype=np.float64), rtol=1e-12, atol=1e-12)
    target = pipe.to_torch(target=True, dtype=torch.float64)
    back = target.inverse(torch.from_numpy(scaled[["y"]].to_numpy(dtype=np.float64)))
    np.testing.assert_allclose(back.numpy().ravel(), frame["y"].to_numpy(), rtol=1e-12)


def test_docstring_examples():
    import doctest

    import seqscale.export.torch

    result = doctest.testmod(seqscale.export.torch, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
