"""Benchmarks: seqscale against the tools users would otherwise pick (``make bench``).

``python -m benchmarks`` runs every workload, each in its own process, and writes
``benchmarks/results/latest.md`` and ``latest.json``. See ``benchmarks/README.md``.
"""
