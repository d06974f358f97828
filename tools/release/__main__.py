"""Entry point: `python -m tools.release <subcommand>`."""

from __future__ import annotations

import sys

from tools.release.cli import main

if __name__ == "__main__":
    sys.exit(main())
