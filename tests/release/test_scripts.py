"""The shell scripts behind make and CI pass shellcheck."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.tooling import require_tool

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted([*(ROOT / "scripts").glob("*.sh"), *(ROOT / ".github" / "scripts").glob("*.sh"),
                  *(ROOT / "tests").rglob("*.sh"), ROOT / ".ci" / "run"])


@pytest.mark.tools
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_script_passes_shellcheck(script: Path) -> None:
    shellcheck = require_tool("shellcheck")
    done = subprocess.run([shellcheck, "--severity=style", str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{script.name} has shellcheck findings:\n{done.stdout}{done.stderr}"
