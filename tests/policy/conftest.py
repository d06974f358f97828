"""Make the policy pack's rule package importable the way the Pulumi CLI sees it (policy/ on sys.path)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"
if str(POLICY_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_DIR))


@pytest.fixture(autouse=True)
def no_ambient_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests choose the stack explicitly; a PULUMI_STACK from the shell must not leak in."""
    monkeypatch.delenv("PULUMI_STACK", raising=False)
    yield
