"""Data files: strict CSV and Parquet reading (whole or in record batches), atomic table writes,
and the exact-decimal / rebuilt-level inverse mapping written to files."""
