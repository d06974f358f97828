"""Entry point: `python -m tools.review <subcommand>`."""

from __future__ import annotations

import sys

from tools.review.cli import main

if __name__ == "__main__":
    sys.exit(main())
