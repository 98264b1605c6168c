"""The package version, written into coefficient and pipeline files."""

__version__ = "0.1.0"
