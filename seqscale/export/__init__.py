"""Fitted coefficients as deep-learning layers: :mod:`seqscale.export.torch` (PyTorch modules)
and :mod:`seqscale.export.keras` (Keras layers). Neither framework is imported until used."""
