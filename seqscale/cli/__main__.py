"""``python -m seqscale.cli``: the ``seqscale`` command."""

from seqscale.cli.app import main

main()
