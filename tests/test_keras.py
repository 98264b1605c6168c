import os
import sys

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
from seqscale.export.keras import ScaleLayer, layer_from_scaler  # noqa: E402

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


def test_float64_layer_keeps_the_digits_of_large_values():
    X = 1.23456789e9 + np.array([[-1.0], [0.0], [1.0]])
    scaler = seqscale.StandardScaler().fit(X)
    top = np.array([[1.23456789e9 + 1]])
    wide = scaler.to_keras(dtype="float64")
    assert wide.compute_dtype == "float64" and wide.get_config()["shift"] == [1.23456789e9]
    assert _np(wide(top)).item() == pytest.approx(np.sqrt(1.5), rel=1e-12)  # 1.2247...
    back = scaler.to_keras(inverse=True, dtype="float64")
    assert _np(back(wide(top))).item() == pytest.approx(1.23456789e9 + 1, rel=0, abs=1e-6)
    narrow = _np(scaler.to_keras()(top)).item()  # float32: no digit after the point survives
    assert narrow != pytest.approx(np.sqrt(1.5), rel=1e-3)


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


def test_docstring_examples():
    import doctest

    import seqscale.export.keras

    result = doctest.testmod(seqscale.export.keras, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_import_seqscale_registers_the_layer_once_keras_is_loaded():
    from seqscale.export import keras_hook

    keras_hook.install()  # keras is loaded here: registers at once, adds no finder
    assert keras.saving.get_registered_object("seqscale>ScaleLayer") is ScaleLayer
    assert not any(isinstance(f, keras_hook._AfterKeras) for f in sys.meta_path)
