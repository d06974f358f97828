"""Security fixtures: a review stack evaluated once per session (prod and dev come from tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.harness import Evaluation, evaluate

REVIEW_OVERRIDES = {
    "imageTag": "pr-42-abc1234",
    "review": {"pr": 42, "commit": "abc1234", "expiresAt": "2030-01-01T00:00:00Z"},
}


@pytest.fixture(scope="session")
def review() -> Evaluation:
    return evaluate("review-42", REVIEW_OVERRIDES)
