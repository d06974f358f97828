"""The one error type the release command reports to its user."""

from __future__ import annotations


class ReleaseError(Exception):
    """A problem the user can fix; the CLI prints its message on one line and exits 2."""
