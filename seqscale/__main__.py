"""``python -m seqscale``: the ``seqscale`` command (see :mod:`seqscale.cli`)."""

from seqscale.cli import main

if __name__ == "__main__":
    main()
