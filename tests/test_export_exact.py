"""Exported torch modules and Keras layers compute the scaler's own numbers, bit for bit in
float64: dividing where the method's rule divides, multiplying where it multiplies."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
torch = pytest.importorskip("torch")

import seqscale  # noqa: E402
from seqscale.export.torch import module_from_scaler  # noqa: E402
from seqscale.scalers.estimators import SCALERS  # noqa: E402

DIVIDES = {"standard", "robust", "maxabs", "meanabs"}


def _data(seed: int) -> np.ndarray:
    """Three channels: far from zero (1e9 + N(0, 1)), ordinary, and of mixed sign."""
    rng = np.random.default_rng(seed)
    return np.column_stack([1e9 + rng.normal(size=300), rng.normal(50, 10, 300), rng.normal(0, 3, 300)])


@pytest.mark.parametrize("method", sorted(SCALERS))
def test_torch_module_equals_transform_bit_for_bit(method):
    X, new = _data(0), _data(1)
    scaler = SCALERS[method]().fit(X)
    assert scaler.affine_.divides == (method in DIVIDES)
    module = module_from_scaler(scaler, dtype=torch.float64)
    assert module.divides == (method in DIVIDES)
    scaled = module(torch.from_numpy(new)).numpy()
    np.testing.assert_array_equal(scaled, scaler.transform(new))
    np.testing.assert_array_equal(
        module.inverse(torch.from_numpy(scaled)).numpy(), scaler.inverse_transform(scaled)
    )
    # float32 modules still scale float32 inputs to float32 precision
    small = new[:, 1:].astype(np.float32)
    part = module_from_scaler(scaler, features=[1, 2])
    got = part(torch.from_numpy(small)).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, scaler.transform(new)[:, 1:], rtol=1e-5, atol=1e-5)
    # the state (divisor and whether it divides) survives a round trip into a bare module
    fresh = type(module)(3, dtype=torch.float64)
    fresh.load_state_dict(module.state_dict())
    np.testing.assert_array_equal(fresh(torch.from_numpy(new)).numpy(), scaled)
    scripted = torch.jit.script(module)
    np.testing.assert_array_equal(scripted(torch.from_numpy(new)).numpy(), scaled)


@pytest.mark.parametrize("method", sorted(SCALERS))
def test_grouped_torch_module_equals_transform_bit_for_bit(method):
    X = _data(2)
    groups = np.repeat(["a", "b", "c"], 100)
    scaler = SCALERS[method](unseen="pooled").fit(X, groups=groups)
    module = module_from_scaler(scaler, dtype=torch.float64)
    assert module.divides == (method in DIVIDES)
    idx = module.index_of(groups)
    scaled = module(torch.from_numpy(X), idx).numpy()
    np.testing.assert_array_equal(scaled, scaler.transform(X, groups=groups))
    back = module.inverse(torch.from_numpy(scaled), idx).numpy()
    np.testing.assert_array_equal(back, scaler.inverse_transform(scaled, groups=groups))


def test_state_saved_without_a_divisor_still_loads():
    scaler = seqscale.StandardScaler().fit(_data(3))
    module = module_from_scaler(scaler, dtype=torch.float64)
    old = {k: v for k, v in module.state_dict().items() if k != "divisor"}
    old["_extra_state"] = {k: v for k, v in old["_extra_state"].items() if k != "divides"}
    fresh = type(module)(3, dtype=torch.float64)
    fresh.load_state_dict(old)  # an older file multiplies by the reciprocal, as it did
    assert not fresh.divides
    x = torch.from_numpy(_data(4))
    torch.testing.assert_close(fresh(x), module(x), rtol=1e-15, atol=1e-12)


def _keras():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.read("jax_enable_x64"):
            pytest.skip("float64 on JAX needs its 64-bit mode")
    return keras


@pytest.mark.parametrize("method", sorted(SCALERS))
def test_keras_layer_equals_transform_bit_for_bit(method, tmp_path):
    keras = _keras()
    from seqscale.export.keras import ScaleLayer, layer_from_scaler

    X, new = _data(5), _data(6)
    scaler = SCALERS[method]().fit(X)
    layer = layer_from_scaler(scaler, dtype="float64")
    assert (layer.divisor_values is not None) == (method in DIVIDES)
    scaled = keras.ops.convert_to_numpy(layer(new))
    np.testing.assert_array_equal(scaled, scaler.transform(new))
    unscale = layer_from_scaler(scaler, inverse=True, dtype="float64")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(unscale(scaled)), scaler.inverse_transform(scaled)
    )
    again = ScaleLayer.from_config(layer.get_config())
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(again(new)), scaled)
    # float32 layers keep working
    f32 = keras.ops.convert_to_numpy(layer_from_scaler(scaler, features=[1, 2])(new[:, 1:].astype("float32")))
    np.testing.assert_allclose(f32, scaler.transform(new)[:, 1:], rtol=1e-5, atol=1e-5)


EXACT_ON_BACKEND = """
import sys
import numpy as np
if sys.argv[1] == "jax":
    import jax
    jax.config.update("jax_enable_x64", True)
import keras
import seqscale
from seqscale.scalers.estimators import SCALERS

assert keras.backend.backend() == sys.argv[1]
rng = np.random.default_rng(8)
X = np.column_stack([1e9 + rng.normal(size=300), rng.normal(50, 10, 300), rng.normal(0, 3, 300)])
new = X[::-1] + 0.5
for method, cls in SCALERS.items():
    scaler = cls().fit(X)
    scaled = keras.ops.convert_to_numpy(scaler.to_keras(dtype="float64")(new))
    np.testing.assert_array_equal(scaled, scaler.transform(new), err_msg=method)
    back = keras.ops.convert_to_numpy(scaler.to_keras(inverse=True, dtype="float64")(scaled))
    np.testing.assert_array_equal(back, scaler.inverse_transform(scaled), err_msg=method)
print("ok")
"""


def _backends() -> list:
    import importlib.util

    if importlib.util.find_spec("keras") is None:
        return []
    return [b for b in ("torch", "jax", "tensorflow") if importlib.util.find_spec(b) is not None]


@pytest.mark.slow
@pytest.mark.parametrize("backend", _backends())
def test_keras_layer_is_bit_exact_on_every_installed_backend(backend):
    """In a fresh process per backend: every method's float64 layer equals transform exactly."""
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(seqscale.__file__).resolve().parents[1])
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": root}
    done = subprocess.run(
        [sys.executable, "-c", EXACT_ON_BACKEND, backend],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
