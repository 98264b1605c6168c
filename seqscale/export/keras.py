"""Fitted coefficients as a Keras 3 layer: scale inside a saved ``.keras`` model.

:func:`layer_from_scaler` turns a fitted scaler into a :class:`ScaleLayer` that scales (or, with
``inverse=True``, unscales) along the last axis. The layer is written with ``keras.ops`` only, so
it runs on whichever backend Keras uses (torch, JAX or TensorFlow); this module never chooses or
changes the backend (``KERAS_BACKEND`` / ``keras.json`` stay the user's).

The coefficients are part of the layer's config, so a model saved with
``model.save("model.keras")`` carries them. Keras finds the layer by its registered name
``"seqscale>ScaleLayer"``: ``import seqscale`` registers it as soon as Keras is imported
(before or after seqscale, without importing Keras itself), so
``keras.saving.load_model("model.keras")`` works in a fresh process after ``import seqscale``.

Examples
--------
>>> import numpy as np, seqscale
>>> from seqscale.export.keras import layer_from_scaler
>>> scaler = seqscale.MinMaxScaler().fit(np.array([[0.0], [10.0]]))
>>> layer = layer_from_scaler(scaler)
>>> keras.ops.convert_to_numpy(layer(np.array([[5.0]], dtype="float32"))).tolist()
[[0.5]]
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from seqscale.errors import InputError, NotFittedError, ParameterError

try:
    import keras
except ModuleNotFoundError as _missing:  # Keras is set to a backend that is not installed
    if _missing.name not in ("tensorflow", "jax", "jaxlib", "torch"):
        raise
    raise ImportError(
        f"Keras is set to a backend that is not installed ({_missing.name}): install it, or choose "
        "an installed one with the environment variable KERAS_BACKEND (torch, jax or tensorflow) "
        "before Python imports keras"
        + (
            f" (now KERAS_BACKEND={os.environ['KERAS_BACKEND']!r})."
            if "KERAS_BACKEND" in os.environ
            else " (without it Keras reads its backend from ~/.keras/keras.json)."
        )
    ) from None

__all__ = ["ScaleLayer", "layer_from_scaler"]


def _floats(values: Any, name: str, n: int | None = None, allow_none: bool = False) -> list:
    """Plain floats for the layer config; None (or +-inf) means "no bound" where allowed."""
    out = []
    for v in np.asarray(values, dtype=object).reshape(-1):
        f = None if v is None else float(v)
        if f is None or np.isinf(f):
            if not allow_none:
                raise ParameterError(f"{name} holds a missing or infinite value ({v!r}).")
            out.append(None)
        elif np.isnan(f):
            raise ParameterError(f"{name} holds NaN; refit the scaler on data with values.")
        else:
            out.append(f)
    if n is not None and len(out) != n:
        raise ParameterError(f"{name} holds {len(out)} values; expected {n} (one per feature).")
    return out


@keras.saving.register_keras_serializable(package="seqscale")
class ScaleLayer(keras.layers.Layer):
    """``y = (x - shift) * scale + offset`` (or its inverse) along the last axis.

    Parameters
    ----------
    shift, scale, offset : sequence of float, one per feature
    inverse : bool, default=False
        Compute ``x = (y - offset) / scale + shift`` instead (predictions back to real units).
    clip : bool, default=False
        Clip the scaled values to ``[low, high]`` (forward direction only).
    low, high : sequence of float or None, optional
        Clip bounds in output units; None where unbounded.
    mask_value : float, optional
        Padding value: a timestep whose features all equal it passes through untouched. The
        layer also passes on an incoming Keras mask.
    feature_names : list of str, optional
    divisor : sequence of float, optional
        For a method whose rule divides (standard, robust, max-abs, mean-abs): the layer then
        computes ``(x - shift) / divisor + offset`` and its inverse ``(y - offset) * divisor +
        shift``, the scaler's own arithmetic (``scale`` is ``1 / divisor``).
    **kwargs
        Standard layer arguments (``name``, ``dtype``...). ``dtype="float64"`` computes in
        float64: needed for data far from zero (around 1e9, float32 keeps no digit after the
        point). On JAX it needs 64-bit mode (``jax.config.update("jax_enable_x64", True)`` or
        ``JAX_ENABLE_X64=1``), which the layer checks rather than let JAX round to float32.

    Notes
    -----
    The numbers live in :meth:`get_config` as lists (the ``.keras`` file is self-contained)
    and in non-trainable weights. With one feature the coefficients apply to every element,
    so ``[batch, horizon]`` predictions of one target work directly.

    Examples
    --------
    >>> layer = ScaleLayer([10.0], [0.5], [0.0])
    >>> keras.ops.convert_to_numpy(layer(np.array([[14.0]], dtype="float32"))).tolist()
    [[2.0]]
    """

    def __init__(
        self,
        shift: Any,
        scale: Any,
        offset: Any,
        inverse: bool = False,
        clip: bool = False,
        low: Any = None,
        high: Any = None,
        mask_value: float | None = None,
        feature_names: list[str] | None = None,
        divisor: Any = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        _check_precision(self)
        self.shift_values = _floats(shift, "shift")
        n = len(self.shift_values)
        if n < 1:
            raise ParameterError("ScaleLayer needs at least one feature.")
        self.scale_values = _floats(scale, "scale", n)
        if any(s == 0.0 for s in self.scale_values):
            raise ParameterError("scale holds a zero; the map would not be invertible.")
        self.offset_values = _floats(offset, "offset", n)
        self.divisor_values = None if divisor is None else _floats(divisor, "divisor", n)
        if self.divisor_values is not None and any(d == 0.0 for d in self.divisor_values):
            raise ParameterError("divisor holds a zero; the map would not be invertible.")
        self.inverse = bool(inverse)
        self.clip = bool(clip)
        self.low_values = [None] * n if low is None else _floats(low, "low", n, allow_none=True)
        self.high_values = [None] * n if high is None else _floats(high, "high", n, allow_none=True)
        if mask_value is not None and not np.isfinite(float(mask_value)):
            raise ParameterError(f"mask_value={mask_value!r} must be a finite number or None.")
        self.mask_value = None if mask_value is None else float(mask_value)
        self.feature_names = None if feature_names is None else [str(f) for f in feature_names]
        self.n_features = n
        self.supports_masking = True
        values = {
            "shift": self.shift_values,
            "scale": self.scale_values,
            "offset": self.offset_values,
            "low": [-np.inf if v is None else v for v in self.low_values],
            "high": [np.inf if v is None else v for v in self.high_values],
        }
        if self.divisor_values is not None:  # a weight only where it divides: older files load as saved
            values["divisor"] = self.divisor_values
        for name, vals in values.items():
            weight = self.add_weight(shape=(n,), initializer="zeros", trainable=False, name=name)
            weight.assign(np.asarray(vals, dtype=weight.dtype))
            setattr(self, name, weight)

    def build(self, input_shape: Any) -> None:
        last = None if not input_shape else input_shape[-1]
        if self.n_features != 1 and last is not None and last != self.n_features:
            raise InputError(
                f"{self.name}: the last axis has {last} features, but the layer holds coefficients "
                f"for {self.n_features}; put the features last or pass features=[...]."
            )
        super().build(input_shape)

    def call(self, x: Any) -> Any:
        """Scale (or unscale) ``x`` along the last axis."""
        ops = keras.ops
        x = ops.cast(x, self.compute_dtype)
        shift, scale, offset = (ops.cast(w, x.dtype) for w in (self.shift, self.scale, self.offset))
        divisor = None if self.divisor_values is None else ops.cast(self.divisor, x.dtype)
        if self.inverse:
            y = (x - offset) / _full(scale, x) + shift if divisor is None else (x - offset) * divisor + shift
        else:
            y = (x - shift) * scale + offset if divisor is None else (x - shift) / _full(divisor, x) + offset
            if self.clip:
                y = ops.clip(y, ops.cast(self.low, x.dtype), ops.cast(self.high, x.dtype))
        if self.mask_value is not None:
            padded = ops.all(ops.equal(x, self.mask_value), axis=-1, keepdims=True)
            y = ops.where(padded, x, y)
        return y

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            shift=list(self.shift_values),
            scale=list(self.scale_values),
            offset=list(self.offset_values),
            inverse=self.inverse,
            clip=self.clip,
            low=list(self.low_values),
            high=list(self.high_values),
            mask_value=self.mask_value,
            feature_names=self.feature_names,
            divisor=None if self.divisor_values is None else list(self.divisor_values),
        )
        return config


def _full(divisor: Any, x: Any) -> Any:
    """The divisor, for a division that stays one. XLA (JAX) rewrites a division by a broadcast
    vector as a multiplication by its reciprocal, which rounds twice; broadcast behind an
    optimization barrier, the division is computed as written."""
    if keras.backend.backend() != "jax":
        return divisor
    import jax

    return jax.lax.optimization_barrier(keras.ops.broadcast_to(divisor, keras.ops.shape(x)))


def _check_precision(layer: keras.layers.Layer) -> None:
    """Refuse float64 on JAX without 64-bit mode, where it would silently become float32."""
    wide = "float64" in (layer.variable_dtype, layer.compute_dtype)
    if not wide or keras.backend.backend() != "jax":
        return
    import jax

    if not jax.config.read("jax_enable_x64"):
        raise ParameterError(
            f"{layer.name}: dtype float64 on the JAX backend needs JAX's 64-bit mode; run "
            'jax.config.update("jax_enable_x64", True) (or set JAX_ENABLE_X64=1) before building '
            "the model, otherwise JAX rounds every value to float32."
        )


def _bounds_list(values: np.ndarray) -> list:
    return [None if np.isnan(v) else float(v) for v in np.asarray(values, dtype=np.float64)]


def layer_from_scaler(
    scaler: Any,
    inverse: bool = False,
    features: Any = None,
    *,
    clip: bool | None = None,
    name: str | None = None,
    dtype: Any = None,
) -> ScaleLayer:
    """The fitted scaler as a Keras layer computing the same numbers as ``transform``.

    Parameters
    ----------
    scaler : fitted seqscale scaler (fitted without ``groups=``)
    inverse : bool, default=False
        Build the inverse map (place it after the output layer to predict in real units).
    features : list of names or positions, optional
        Only these features, in this order (e.g. ``["y"]`` for the target).
    clip : bool, optional
        Clip scaled values to the fitted range; default: the scaler's ``out_of_range == "clip"``
        (never for ``inverse=True``).
    name : str, optional
        Layer name.
    dtype : str or keras.DTypePolicy, optional
        The layer's dtype; default Keras' (``keras.config.floatx()``, float32). Use
        ``"float64"`` for data far from zero (see :class:`ScaleLayer`).

    Examples
    --------
    >>> import numpy as np, seqscale
    >>> scaler = seqscale.StandardScaler().fit(np.array([[1.0, 0.0], [3.0, 10.0]]))
    >>> unscale = layer_from_scaler(scaler, inverse=True, features=[1])
    >>> keras.ops.convert_to_numpy(unscale(np.array([[1.0]], dtype="float32"))).tolist()
    [[10.0]]
    >>> big = seqscale.StandardScaler().fit(np.array([[1e9 - 1], [1e9], [1e9 + 1]]))
    >>> keras.ops.convert_to_numpy(big.to_keras(dtype="float64")(np.array([[1e9 + 1]]))).round(4).tolist()
    [[1.2247]]
    """
    affine = getattr(scaler, "affine_", None)
    if affine is None:
        raise NotFittedError(
            f"This {type(scaler).__name__} instance is not fitted yet. Call 'fit' before "
            "converting it to a layer, or load fitted coefficients with seqscale.load(path)."
        )
    if np.ndim(affine.scale) != 1:
        raise ParameterError(
            "this scaler was fitted per series (groups=): a Keras layer holds one set of "
            "coefficients per feature. Scale the data with scaler.transform(X, groups=...) "
            "before the model, or use seqscale.export.torch.module_from_scaler."
        )
    names = _fitted_names(scaler)
    mask_value = getattr(scaler, "mask_value", None)
    if features is not None:
        channels = np.asarray(scaler.feature_index(features), dtype=np.intp)
        affine = affine.take(channels)
        names = None if names is None else [names[j] for j in channels]
        mask_value = None
    clip = (scaler.effective_out_of_range() == "clip") if clip is None else bool(clip)
    with np.errstate(invalid="ignore", over="ignore"):
        low, high = affine.output_bounds()
    return ScaleLayer(
        affine.shift,
        affine.scale,
        affine.offset,
        inverse=inverse,
        clip=clip and not inverse,
        low=_bounds_list(low),
        high=_bounds_list(high),
        mask_value=mask_value,
        feature_names=names,
        divisor=affine.divisor,
        name=name,
        dtype=dtype,
    )


def _fitted_names(scaler: Any) -> list[str] | None:
    """The scaler's fitted feature names, or None when it was fitted without names."""
    names = getattr(scaler, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]
