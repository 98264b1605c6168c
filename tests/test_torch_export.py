"""Fitted modules in the clients users deploy them with: torch.export, ONNX Runtime, checkpoints.

Each test runs the real client (no stand-ins): ``torch.export.export`` with a dynamic batch,
``torch.onnx.export`` run by ``onnxruntime``, and a Lightning-style checkpoint (``state_dict``
saved with ``torch.save``, read back with ``torch.load(weights_only=True)`` into a model built
from hyperparameters alone).
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import seqscale  # noqa: E402
from seqscale.errors import ParameterError  # noqa: E402
from seqscale.export.torch import AffineModule, GroupedAffineModule, GroupedScaledModel, wrap_model  # noqa: E402

# torch.onnx's exporter warns about optional packages (torchvision) and its own deprecations
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")

BATCH = torch.export.Dim("batch")


def _data(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(50, 10, size=shape) * rng.uniform(0.5, 3)


def _panel(unseen="pooled", cls=seqscale.MinMaxScaler):
    X = _data((30, 8, 2), seed=11)
    ids = np.array(["s1", "s2", "s3"], dtype=object)[np.arange(30) % 3]
    X[ids == "s2"] *= 5
    return X, ids, cls(unseen=unseen, out_of_range="clip").fit(X, groups=ids)


def _onnx(module, args, path, dynamic):
    """Export with the dynamo-based exporter and open the file in ONNX Runtime."""
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    program = torch.onnx.export(module.eval(), args, dynamic_shapes=dynamic, verbose=False)
    program.save(str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return lambda *arrays: session.run(None, dict(zip(names, arrays)))[0]


# ---------------------------------------------------------------------------------- torch.export
def test_export_plain_module_dynamic_batch(capsys):
    scaler = seqscale.MinMaxScaler(out_of_range="clip").fit(_data((100, 3)))
    module = scaler.to_torch()
    x = torch.from_numpy(_data((4, 6, 3), seed=3)).float()
    program = torch.export.export(module, (x,), dynamic_shapes=({0: BATCH},))
    wide = torch.from_numpy(_data((9, 6, 3), seed=4) * 2).float()
    torch.testing.assert_close(program.module()(wide), module(wide), rtol=0, atol=0)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("unseen", ["pooled", "error"])
def test_export_per_series_module(unseen, capsys):
    X, _, scaler = _panel(unseen)
    module = scaler.to_torch(dtype=torch.float64)
    x = torch.from_numpy(X[:4])
    idx = module.index_of(["s2", "s1", "s3", "s1"])
    program = torch.export.export(module, (x, idx), dynamic_shapes=({0: BATCH}, {0: BATCH}))
    assert capsys.readouterr().out == ""  # no graph dumped
    new_ids = ["s3", "s1", "s2", "s2", "s1", "s3", "s3"]
    if unseen == "pooled":
        new_ids[2] = "new"
    x7, idx7 = torch.from_numpy(_data((7, 8, 2), seed=5)), module.index_of(new_ids)
    exported = program.module()(x7, idx7)
    torch.testing.assert_close(exported, module(x7, idx7), rtol=0, atol=0)
    np.testing.assert_allclose(exported.numpy(), scaler.transform(x7.numpy(), groups=new_ids), rtol=1e-12)
    with pytest.raises(RuntimeError, match="outside"):
        program.module()(x7, torch.tensor([0, 1, 2, 3, 0, 1, 2]))
    if unseen == "error":
        with pytest.raises(RuntimeError, match="UnseenSeriesError"):
            program.module()(x7, torch.tensor([0, 1, -1, 2, 0, 1, 2]))


def test_export_wrapped_per_series_model():
    X, _, xs = _panel("median", seqscale.StandardScaler)
    wrapped = wrap_model(torch.nn.Identity(), xs, dtype=torch.float64)
    assert isinstance(wrapped, GroupedScaledModel)
    x, idx = torch.from_numpy(X[:5]), wrapped.input_scaler.index_of(["s1", "s2", "s3", "zz", "s1"])
    program = torch.export.export(wrapped, (x, idx), dynamic_shapes=({0: BATCH}, {0: BATCH}))
    got = program.module()(x, idx)
    torch.testing.assert_close(got, wrapped(x, idx), rtol=0, atol=0)
    torch.testing.assert_close(got[:3], x[:3], rtol=1e-12, atol=1e-9)  # scaled, then unscaled


# ---------------------------------------------------------------------------------- ONNX Runtime
def test_onnx_plain_module_runs_in_onnxruntime(tmp_path, capsys):
    X = _data((6, 10, 2))
    X[:, 8:] = 0.0
    scaler = seqscale.RobustScaler(mask_value=0.0).fit(X)
    module = scaler.to_torch()
    run = _onnx(module, (torch.from_numpy(X[:2]).float(),), tmp_path / "scale.onnx", ({0: BATCH},))
    assert capsys.readouterr().out == ""
    new = _data((5, 10, 2), seed=7).astype(np.float32)
    new[:, 9:] = 0.0
    got = run(new)
    np.testing.assert_allclose(got, module(torch.from_numpy(new)).numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got, scaler.transform(new), rtol=1e-5, atol=1e-5)
    assert (got[:, 9:] == 0.0).all()


def test_onnx_per_series_module_runs_in_onnxruntime(tmp_path):
    X, _, scaler = _panel("pooled")
    module = scaler.to_torch(dtype=torch.float64)
    args = (torch.from_numpy(X[:3]), module.index_of(["s1", "s2", "s3"]))
    run = _onnx(module, args, tmp_path / "grouped.onnx", ({0: BATCH}, {0: BATCH}))
    new = _data((6, 8, 2), seed=8) * 3  # some values beyond the fitted range: clipped
    ids = ["s3", "new", "s1", "s2", "s2", "s1"]
    idx = module.index_of(ids)
    got = run(new, idx.numpy())
    np.testing.assert_allclose(got, module(torch.from_numpy(new), idx).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, scaler.transform(new, groups=ids), rtol=1e-12, atol=1e-12)
    # ONNX cannot raise: an invalid position gives NaN for that sample only
    out = run(new, np.array([0, 1, 7, 2, -3, 0]))
    assert np.isnan(out[[2, 4]]).all() and np.isfinite(out[[0, 1, 3, 5]]).all()


@pytest.mark.slow
def test_onnx_per_series_inverse_of_predictions(tmp_path):
    _, _, scaler = _panel("error", seqscale.StandardScaler)
    target = scaler.to_torch(features=[1])

    class Unscale(torch.nn.Module):
        def __init__(self, table):
            super().__init__()
            self.table = table

        def forward(self, pred, series_idx):
            return self.table.inverse(pred, series_idx)

    pred = np.random.default_rng(2).normal(size=(4, 3)).astype(np.float32)  # [batch, horizon]
    idx = target.index_of(["s2", "s1", "s3", "s2"])
    run = _onnx(
        Unscale(target), (torch.from_numpy(pred), idx), tmp_path / "inv.onnx", ({0: BATCH}, {0: BATCH})
    )
    expected = scaler.inverse_transform(pred, groups=["s2", "s1", "s3", "s2"], features=[1])
    np.testing.assert_allclose(run(pred, idx.numpy()), expected, rtol=1e-5)
    assert np.isnan(run(pred, np.array([0, -1, 1, 2]))[1]).all()  # unseen='error': NaN, not a guess


# ---------------------------------------------------------------------------------- checkpoints
class Forecaster(torch.nn.Module):
    """A model as Lightning rebuilds it: from hyperparameters only, then load_state_dict."""

    def __init__(self, n_series, n_features):
        super().__init__()
        self.scale = GroupedAffineModule(n_series, n_features)
        self.lstm = torch.nn.LSTM(n_features, 4, batch_first=True)
        self.head = torch.nn.Linear(4, 1)
        self.unscale = AffineModule(1)

    def forward(self, x, series_idx):
        out, _ = self.lstm(self.scale(x, series_idx))
        return self.unscale.inverse(self.head(out[:, -1]))


def test_checkpoint_restores_modules_built_from_shapes(tmp_path):
    torch.manual_seed(0)
    X = _data((40, 6, 2), seed=3)
    X[:, 5:] = -1.0
    ids = np.repeat(np.array([101, 202]), 20)  # numpy integer ids
    xs = seqscale.StandardScaler(unseen="median", mask_value=-1.0, out_of_range="clip").fit(X, groups=ids)
    ys = seqscale.MinMaxScaler().fit(X[:, -2, 1:2])
    model = Forecaster(2, 2)
    model.scale = xs.to_torch()
    model.unscale = ys.to_torch()
    path = tmp_path / "epoch=0.ckpt"
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": {"n_series": 2, "n_features": 2}}, path)

    checkpoint = torch.load(path, weights_only=True)  # plain tensors and Python values only
    fresh = Forecaster(**checkpoint["hyper_parameters"])
    fresh.load_state_dict(checkpoint["state_dict"])
    assert fresh.scale.clip and fresh.scale.mask_value == -1.0 and fresh.scale.unseen == "median"
    assert fresh.scale.series.tolist() == [101, 202]
    idx = fresh.scale.index_of([202, 999, 101])
    assert idx.tolist() == [1, -1, 0]
    x = torch.from_numpy(_data((3, 6, 2), seed=4) * 4).float()
    x[:, 5:] = -1.0
    with torch.no_grad():
        torch.testing.assert_close(fresh(x, idx), model(x, idx), rtol=0, atol=0)
    scaled = fresh.scale(x.double(), idx).numpy()
    np.testing.assert_allclose(scaled, xs.transform(x.double().numpy(), groups=[202, 999, 101]), rtol=1e-12)
    with pytest.raises(ParameterError, match="2 series ids for a module of 3 series"):
        Forecaster(3, 2).load_state_dict(checkpoint["state_dict"])
    with pytest.raises(RuntimeError, match="size mismatch"):
        Forecaster(2, 3).load_state_dict(checkpoint["state_dict"])
