"""Containers to rows x channels and back: 1D/2D/3D arrays, DataFrames, long panels, series ids,
segments of rows per series, sparse input and time columns. Imports only the core below it."""
