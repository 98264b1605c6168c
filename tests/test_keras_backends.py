"""The Keras layer on every Keras backend installed here, each in fresh processes.

One process builds and saves two models holding seqscale layers (float64 standard and min-max
layers; float32 mean-absolute layers, forward and inverse); another, fresh, loads the ``.keras``
files after a bare ``import seqscale`` (no ``import seqscale.export.keras``) and must predict the
same numbers. The backend is chosen the user's two ways: ``keras.json`` (through
``KERAS_HOME``, with ``KERAS_BACKEND`` unset: seqscale must not set it) and ``KERAS_BACKEND``.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

if importlib.util.find_spec("keras") is None:
    pytest.skip("keras is not installed", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[1]
MODULES = {"torch": "torch", "jax": "jax", "tensorflow": "tensorflow"}
INSTALLED = [b for b, module in MODULES.items() if importlib.util.find_spec(module) is not None]

SAVE = """
import os, sys
import numpy as np
import keras                      # before seqscale: the layer is registered at `import seqscale`
import seqscale
from seqscale.errors import ParameterError

backend = sys.argv[1]
assert keras.backend.backend() == backend, keras.backend.backend()
assert "KERAS_BACKEND" not in os.environ, "seqscale set KERAS_BACKEND"
assert "seqscale.export.keras" in sys.modules
if backend == "jax":             # float64 needs JAX's 64-bit mode: refused, not rounded
    try:
        seqscale.MinMaxScaler().fit(np.ones((2, 1))).to_keras(dtype="float64")
        raise SystemExit("float64 without jax_enable_x64 was accepted")
    except ParameterError as exc:
        assert "jax_enable_x64" in str(exc)
    import jax
    jax.config.update("jax_enable_x64", True)
keras.utils.set_random_seed(0)
X = 1.23456789e9 + np.random.default_rng(0).normal(0, 1, size=(32, 6, 2))
scaler = seqscale.StandardScaler().fit(X)
target = seqscale.MinMaxScaler().fit(X[:, -1, 1:])
model = keras.Sequential([
    keras.Input((6, 2), dtype="float64"),
    scaler.to_keras(name="scale_inputs", dtype="float64"),
    keras.layers.LSTM(4),
    keras.layers.Dense(1),
    target.to_keras(inverse=True, name="to_real_units", dtype="float64"),
])
scaled = keras.ops.convert_to_numpy(model.layers[0](X))
np.testing.assert_allclose(scaled, scaler.transform(X), rtol=1e-9, atol=1e-9)
model.save(sys.argv[2])
np.save(sys.argv[2] + ".npy", model.predict(X, verbose=0))

# the plain layer (the backend's float32) of a MeanAbsScaler, and its inverse on the output
Z = np.random.default_rng(1).normal(0, 1, size=(32, 6, 2)) * [3.0, 0.02] + [1.0, -0.01]
mean_abs = seqscale.MeanAbsScaler().fit(Z)
plain = keras.Sequential([
    keras.Input((6, 2)),
    mean_abs.to_keras(name="mean_abs"),
    keras.layers.LSTM(4),
    keras.layers.Dense(2),
    seqscale.MeanAbsScaler().fit(Z[:, -1]).to_keras(inverse=True, name="back"),
])
out = keras.ops.convert_to_numpy(plain.layers[0](Z.astype("float32")))
assert out.dtype == np.float32
np.testing.assert_allclose(out, mean_abs.transform(Z), rtol=1e-6, atol=1e-6)
np.testing.assert_allclose(mean_abs.scale_, np.abs(Z).reshape(-1, 2).mean(axis=0), rtol=1e-12)  # divisors
plain.save(sys.argv[2] + ".plain.keras")
np.save(sys.argv[2] + ".plain.npy", plain.predict(Z.astype("float32"), verbose=0))
"""

LOAD = """
import sys
import numpy as np
import seqscale                   # registers the layer without importing keras
assert "keras" not in sys.modules
import keras

X = 1.23456789e9 + np.random.default_rng(0).normal(0, 1, size=(32, 6, 2))
model = keras.saving.load_model(sys.argv[2])
assert type(model.layers[0]).__module__ == "seqscale.export.keras"
np.testing.assert_array_equal(model.predict(X, verbose=0), np.load(sys.argv[2] + ".npy"))
assert model.layers[0].dtype == "float64" and model.layers[-1].dtype == "float64"

Z = np.random.default_rng(1).normal(0, 1, size=(32, 6, 2)) * [3.0, 0.02] + [1.0, -0.01]
plain = keras.saving.load_model(sys.argv[2] + ".plain.keras")
assert [layer.name for layer in plain.layers if "seqscale" in type(layer).__module__] == ["mean_abs", "back"]
assert plain.layers[0].dtype == "float32" and plain.layers[-1].get_config()["inverse"] is True
predicted = plain.predict(Z.astype("float32"), verbose=0)
np.testing.assert_array_equal(predicted, np.load(sys.argv[2] + ".plain.npy"))
print("loaded on", keras.backend.backend())
"""


def _run(code, args, env, tmp_path):
    script = tmp_path / "script.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "KERAS_HOME", "JAX_ENABLE_X64")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**env, **extra}


# every backend's fresh interpreter costs 10-30 s of imports (Keras also loads TensorFlow when it
# is installed): these run in the slow suite, `make test-all`; the in-process Keras tests run always
@pytest.mark.parametrize("backend", [pytest.param(b, marks=pytest.mark.slow) for b in INSTALLED])
def test_saved_model_loads_in_a_fresh_process(backend, tmp_path):
    home = tmp_path / "keras_home"
    home.mkdir()
    (home / "keras.json").write_text(json.dumps({"backend": backend, "floatx": "float32"}))
    path = str(tmp_path / "model.keras")
    _run(SAVE, [backend, path], _env(KERAS_HOME=str(home)), tmp_path)
    extra = {"JAX_ENABLE_X64": "1"} if backend == "jax" else {}
    out = _run(LOAD, [backend, path], _env(KERAS_BACKEND=backend, **extra), tmp_path)
    assert f"loaded on {backend}" in out


HIDE_TENSORFLOW = """
import sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "tensorflow":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Hide())
"""


def test_a_backend_that_is_not_installed_is_named(tmp_path):
    missing = next((b for b in MODULES if b not in INSTALLED), None)
    code = "import seqscale.export.keras"
    if missing is None:  # every backend is installed here: hide TensorFlow as if it were absent
        missing = "tensorflow"
        code = HIDE_TENSORFLOW + code
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(KERAS_BACKEND=missing),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: Keras is set to a backend that is not installed")
    assert f"KERAS_BACKEND={missing!r}" in last
