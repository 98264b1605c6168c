"""The ``seqscale`` command line (:mod:`seqscale.cli.app`), its jobs on files and its tables."""
