"""The scikit-learn scalers over the core, their coefficient files, range checks and per-window
scaling.

Examples
--------
>>> import numpy as np
>>> from seqscale.scalers import StandardScaler
>>> StandardScaler().fit(np.array([[1.0], [3.0]])).mean_.tolist()
[2.0]
"""

from seqscale.scalers import estimators
from seqscale.scalers.estimators import *  # noqa: F403  (every scaler class: estimators.__all__)

__all__ = list(estimators.__all__)
