"""The scikit-learn scalers over the core, their coefficient files, range checks and per-window
scaling.

Examples
--------
>>> import numpy as np
>>> from seqscale.scalers import StandardScaler
>>> StandardScaler().fit(np.array([[1.0], [3.0]])).mean_.tolist()
[2.0]
"""

from seqscale.scalers.estimators import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

__all__ = ["MaxAbsScaler", "MinMaxScaler", "RobustScaler", "StandardScaler"]
