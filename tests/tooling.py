"""Find real external tools for tests: skip locally when missing, fail in CI.

CI sets DREAMSCAPE_REQUIRE_TOOLS=1 so a missing tool is a red build, never a silent skip.
"""

from __future__ import annotations

import os
import shutil

import pytest

DEBIAN = "see .ci/run for the Debian package"


def require_tool(name: str, *candidates: str, install: str = DEBIAN) -> str:
    """Return the path of the first available executable among `name` and `candidates`. `install` says
    where the tool comes from, for the tools that are not Debian packages."""
    for exe in (name, *candidates):
        path = shutil.which(exe)
        if path:
            return path
    message = f"required tool {name!r} is not installed ({install})"
    if os.environ.get("DREAMSCAPE_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)
