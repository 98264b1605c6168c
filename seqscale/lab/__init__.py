"""Experiments on top of everything: :func:`~seqscale.lab.compare.compare` (the same LSTM on
differently prepared data), known-truth checks and the demo."""
