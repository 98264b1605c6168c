"""``python -m seqscale``: the ``seqscale`` command (see :mod:`seqscale.cli.app`)."""

from seqscale.cli.app import main

if __name__ == "__main__":
    main()
