"""``python -m shared.cli``: the same as the installed ``nwcheck`` command."""

from __future__ import annotations

import sys

from shared.cli import main

if __name__ == "__main__":
    sys.exit(main())
