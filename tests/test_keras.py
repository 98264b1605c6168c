import os

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
pytest.importorskip("torch")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "torch":
    pytest.skip("Keras runs on another backend in this session", allow_module_level=True)

import seqscale  # noqa: E402
from seqscale.errors import InputError, NotFittedError, ParameterError  # noqa: E402
from seqscale.export.keras import ScaleLayer, _check_backend, layer_from_scaler  # noqa: E402

SCALERS = [
    seqscale.MinMaxScaler,
    seqscale.StandardScaler,
    seqscale.RobustScaler,
    seqscale.MaxAbsScaler,
]


def _data(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(50, 10, size=shape).astype(np.float32)


def _np(t):
    return keras.ops.convert_to_numpy(t)


@pytest.mark.parametrize("shape", [(200,), (200, 3), (16, 12, 3)])
@pytest.mark.parametrize("cls", SCALERS)
def test_same_numbers_as_numpy(cls, shape):
    X = _data(shape)
    scaler = cls().fit(X)
    new = _data(shape, seed=1)
    y = _np(layer_from_scaler(scaler)(new))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, scaler.transform(new), rtol=1e-6, atol=1e-6)
    back = _np(layer_from_scaler(scaler, inverse=True)(y))
    np.testing.assert_allclose(back, scaler.inverse_transform(y), rtol=1e-6, atol=1e-4)


def test_features_clip_and_padding():
    X = pd.DataFrame(_data((300, 3)), columns=["a", "y", "b"])
    scaler = seqscale.MinMaxScaler(out_of_range="clip").fit(X)
    target = layer_from_scaler(scaler, inverse=True, features=["y"])
    assert target.feature_names == ["y"] and not target.clip
    pred = np.random.default_rng(2).uniform(size=(10, 4)).astype(np.float32)  # [batch, horizon]
    np.testing.assert_allclose(_np(target(pred)), scaler.inverse_transform(pred, features=["y"]), rtol=1e-6)
    wide = (X.to_numpy() * 3 - 100).astype(np.float32)
    clipped = _np(layer_from_scaler(scaler)(wide))
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    padded = _data((4, 8, 2))
    padded[:, 6:] = 0.0
    masked = seqscale.StandardScaler(mask_value=0.0).fit(padded)
    out = _np(layer_from_scaler(masked)(padded))
    np.testing.assert_allclose(out, masked.transform(padded), rtol=1e-6, atol=1e-6)
    assert (out[:, 6:] == 0.0).all()


def test_errors():
    with pytest.raises(NotFittedError):
        layer_from_scaler(seqscale.StandardScaler())
    X = _data((40, 2))
    with pytest.raises(ParameterError, match="per series"):
        layer_from_scaler(seqscale.StandardScaler().fit(X, groups=np.repeat(["a", "b"], 20)))
    layer = layer_from_scaler(seqscale.StandardScaler().fit(X))
    with pytest.raises(InputError, match="features"):
        layer(np.ones((3, 5), dtype=np.float32))
    with pytest.raises(ParameterError):
        ScaleLayer([0.0, 1.0], [1.0], [0.0, 0.0])


def test_other_backend_is_refused():
    _check_backend("torch", preloaded=True)
    with pytest.raises(ParameterError, match="KERAS_BACKEND=torch"):
        _check_backend("jax", preloaded=False)
    with pytest.raises(ParameterError, match="imported before"):
        _check_backend("tensorflow", preloaded=True)


def test_config_is_self_contained():
    scaler = seqscale.MinMaxScaler(out_of_range="clip").fit(_data((50, 2)))
    layer = layer_from_scaler(scaler, name="scale_x")
    config = layer.get_config()
    np.testing.assert_array_equal(config["shift"], scaler.affine_.shift)
    np.testing.assert_array_equal(config["scale"], scaler.affine_.scale)
    assert config["low"] == [0.0, 0.0] and config["high"] == [1.0, 1.0]
    clone = ScaleLayer.from_config(config)
    x = _data((5, 2), seed=3)
    np.testing.assert_array_equal(_np(clone(x)), _np(layer(x)))
    assert not layer.trainable_weights and len(layer.non_trainable_weights) == 5


def test_lstm_model_saves_and_loads(tmp_path):
    keras.utils.set_random_seed(0)
    X = _data((32, 10, 3))
    scaler = seqscale.StandardScaler().fit(X)
    model = keras.Sequential(
        [
            keras.Input((10, 3)),
            layer_from_scaler(scaler, name="scale_inputs"),
            keras.layers.LSTM(8),
            keras.layers.Dense(1),
            layer_from_scaler(scaler, inverse=True, features=[1], name="to_real_units"),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, X[:, -1, 1:2], epochs=1, batch_size=16, verbose=0)
    before = model.predict(X, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), before)
    inner = keras.Sequential(model.layers[1:-1])
    manual = scaler.inverse_transform(_np(inner(scaler.transform(X))), features=[1])
    np.testing.assert_allclose(before, manual, rtol=1e-5, atol=1e-4)
