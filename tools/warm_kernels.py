"""Compile seqscale's numba kernels once, into their on-disk cache.

``make test`` runs this after installing: the test workers then load the compiled kernels
instead of each compiling the same ones at the same time. Every kernel is also compiled on first
use, so this only moves that cost; it changes no result.
"""

import numpy as np

import seqscale
from seqscale.scalers import MaxAbsScaler, MeanAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

rng = np.random.default_rng(0)
for rows in (4_096, 400_000):  # below and above the size where the kernels use both cores
    ids = np.repeat(np.arange(rows // 64), 64)
    shuffled = rng.permutation(ids)
    segments = seqscale.Segments(np.arange(rows // 64), np.full(rows // 64, 64))
    for dtype in (np.float32, np.float64):
        X = rng.normal(50, 10, size=(rows, 3)).astype(dtype)
        for cls in (MinMaxScaler, StandardScaler, RobustScaler, MaxAbsScaler, MeanAbsScaler):
            est = cls().fit(X)
            est.inverse_transform(est.transform(X))
            for groups in (ids, shuffled, shuffled.astype(np.int32)):
                est = cls().fit(X, groups=groups)
                est.inverse_transform(est.transform(X, groups=groups), groups=groups)
            cls().fit_transform(X, groups=segments)
print("numba kernels compiled and cached")
