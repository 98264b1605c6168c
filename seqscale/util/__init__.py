"""Bottom layer, next to :mod:`seqscale.errors`: atomic file writes and the one JSON-file reader,
shared by coefficient files, plans, pipelines, reports and the command line."""
