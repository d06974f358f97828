"""checkov (Kubernetes framework) finds nothing in the rendered prod and review manifests.

checkov conflicts with the project's pins (it needs packaging<24), so it lives in its own virtualenv:
`python3 -m venv .venv-checkov && .venv-checkov/bin/pip install checkov==3.3.30` (see docs/security.md).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.harness import ROOT
from tests.tooling import require_tool
from tools.render_manifests import PLACEHOLDER, render

CHECKOV_INSTALL = "a pip package in its own virtualenv, not a Debian package: .ci/run creates .venv-checkov"


@pytest.mark.tools
def test_checkov_reports_no_failed_check(tmp_path: Path) -> None:
    checkov = require_tool("checkov", str(ROOT / ".venv-checkov" / "bin" / "checkov"), install=CHECKOV_INSTALL)
    for stack in ("prod", "review-42"):
        render(stack, tmp_path)
    result = subprocess.run(
        [checkov, "-d", str(tmp_path), "--config-file", str(ROOT / ".checkov.yaml")],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert "Passed checks:" in result.stdout, f"checkov did not run: {result.stdout}{result.stderr}"
    assert result.returncode == 0 and "Failed checks: 0" in result.stdout, \
        f"checkov found problems in the rendered manifests:\n{result.stdout}"


def test_rendered_secrets_hold_only_placeholders(tmp_path: Path) -> None:
    written = render("prod", tmp_path)
    secrets = [p for p in written if p.name.startswith("secret-")]
    assert secrets, "the prod stack renders Secrets"
    for path in secrets:
        text = path.read_text()
        assert PLACEHOLDER in text, f"{path.name}: values replaced by the placeholder"
