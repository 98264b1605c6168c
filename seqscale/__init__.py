"""seqscale: scaling for sequence and time-series data fed to LSTMs and other recurrent networks.

Fit on the training part, save the coefficients as a small JSON file, scale new data exactly the
same way next month, check it for out-of-range values, and map predictions back to real units:
for 1D series, 2D tables, 3D ``[samples, timesteps, features]`` arrays, DataFrames, and thousands
of series each with its own coefficients.

Examples
--------
>>> import numpy as np, seqscale
>>> X = np.random.default_rng(0).normal(50, 10, size=(32, 24, 3))   # samples, timesteps, features
>>> scaler = seqscale.StandardScaler().fit(X)                        # one mean/std per feature
>>> Xs = scaler.transform(X)
>>> Xs.shape, bool(np.allclose(scaler.inverse_transform(Xs), X))
((32, 24, 3), True)
"""

from seqscale.affine import Affine
from seqscale.coefficients import load
from seqscale.errors import (
    CoefficientFileError,
    ConstantFeatureWarning,
    DataFileError,
    FeatureMismatchError,
    InputError,
    InputTypeError,
    LeakageError,
    LeakageWarning,
    NotFittedError,
    OutOfRangeError,
    OutOfRangeWarning,
    ParameterError,
    SeqscaleError,
    SeqscaleWarning,
    UnseenSeriesError,
)
from seqscale.scalers import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler
from seqscale.stats import Moments

__version__ = "0.1.0"

__all__ = [
    "Affine",
    "CoefficientFileError",
    "ConstantFeatureWarning",
    "DataFileError",
    "FeatureMismatchError",
    "InputError",
    "InputTypeError",
    "LeakageError",
    "LeakageWarning",
    "MaxAbsScaler",
    "MinMaxScaler",
    "Moments",
    "NotFittedError",
    "OutOfRangeError",
    "OutOfRangeWarning",
    "ParameterError",
    "RobustScaler",
    "SeqscaleError",
    "SeqscaleWarning",
    "StandardScaler",
    "UnseenSeriesError",
    "load",
]
