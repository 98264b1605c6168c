"""From a table to LSTM inputs: differencing, one-hot encoding, windows, time splits, leakage
checks, the plan file and the fitted :class:`~seqscale.sequence.pipeline.SequencePipeline`."""
