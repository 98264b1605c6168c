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

from seqscale import _keras_hook
from seqscale.advise import Advice, ColumnAdvice, advise
from seqscale.affine import Affine
from seqscale.coefficients import load
from seqscale.difference import Difference
from seqscale.encode import OneHotEncoder
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
from seqscale.instance import WindowCoefficients, scale_windows
from seqscale.pipeline import SequencePipeline, check_windows, load_pipeline
from seqscale.plan import load_plan, validate_plan
from seqscale.scalers import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler
from seqscale.segments import Segments
from seqscale.split import Split, split_by_time
from seqscale.stats import Moments
from seqscale.window import to_supervised, window_index

# Loaded on first use, so that `import seqscale` stays light (pyarrow, statsmodels, matplotlib,
# torch and dask are imported only by the functions that need them).
_LAZY = {
    "read_table": "seqscale.io",
    "write_table": "seqscale.io",
    "iter_batches": "seqscale.io",
    "datasets": "seqscale.datasets",
    "fit_file": "seqscale.stream",
    "transform_file": "seqscale.stream",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name])
        return module if module.__name__.endswith("." + name) else getattr(module, name)
    raise AttributeError(f"module 'seqscale' has no attribute {name!r}")


__version__ = "0.1.0"

# A saved .keras model holding seqscale's layer loads after `import seqscale`: the layer is
# registered when Keras is imported (Keras itself is not imported here).
_keras_hook.install()

__all__ = [
    "Advice",
    "Affine",
    "ColumnAdvice",
    "advise",
    "load_plan",
    "SequencePipeline",
    "check_windows",
    "load_pipeline",
    "validate_plan",
    "Difference",
    "OneHotEncoder",
    "Split",
    "WindowCoefficients",
    "datasets",
    "fit_file",
    "transform_file",
    "iter_batches",
    "read_table",
    "scale_windows",
    "split_by_time",
    "to_supervised",
    "window_index",
    "write_table",
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
    "Segments",
    "SeqscaleError",
    "SeqscaleWarning",
    "StandardScaler",
    "UnseenSeriesError",
    "load",
]
