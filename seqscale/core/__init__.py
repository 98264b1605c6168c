"""The core: the mergeable statistic (:class:`~seqscale.core.stats.Moments`), quantile sketches,
the per-channel map (:class:`~seqscale.core.affine.Affine`), the coefficient rules of the scaling
methods (:mod:`seqscale.core.methods`, where the method registry belongs), domain bounds and the
numba kernels. Imports only :mod:`seqscale.errors`."""

from seqscale.core import methods as _methods  # noqa: F401  (declares the methods of the registry)
