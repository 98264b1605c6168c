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

from seqscale.advisor.api import Advice, ColumnAdvice, advise
from seqscale.core.affine import Affine
from seqscale.core.stats import Moments
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
from seqscale.export import keras_hook
from seqscale.frames.segments import Segments
from seqscale.scalers import estimators as _estimators
from seqscale.scalers.estimators import *  # noqa: F403  (every scaler class: estimators.__all__)
from seqscale.scalers.instance import WindowCoefficients, scale_windows
from seqscale.sequence.difference import Difference
from seqscale.sequence.encode import OneHotEncoder
from seqscale.sequence.load import load
from seqscale.sequence.pipeline import SequencePipeline, check_windows, load_pipeline
from seqscale.sequence.plan import load_plan, validate_plan
from seqscale.sequence.split import Split, split_by_time
from seqscale.sequence.window import to_supervised, window_index
from seqscale.util.version import __version__ as __version__

# Loaded on first use, so that `import seqscale` stays light (pyarrow, statsmodels, matplotlib,
# torch and dask are imported only by the functions that need them).
_LAZY = {
    "read_table": "seqscale.files.io",
    "write_table": "seqscale.files.io",
    "iter_batches": "seqscale.files.io",
    "datasets": "seqscale.datasets",
    "fit_file": "seqscale.files.stream",
    "transform_file": "seqscale.files.stream",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name])
        return module if module.__name__.endswith("." + name) else getattr(module, name)
    raise AttributeError(f"module 'seqscale' has no attribute {name!r}")


# A saved .keras model holding seqscale's layer loads after `import seqscale`: the layer is
# registered when Keras is imported (Keras itself is not imported here).
keras_hook.install()

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
    "Moments",
    "NotFittedError",
    "OutOfRangeError",
    "OutOfRangeWarning",
    "ParameterError",
    "Segments",
    "SeqscaleError",
    "SeqscaleWarning",
    "UnseenSeriesError",
    "load",
    *_estimators.__all__,
]
