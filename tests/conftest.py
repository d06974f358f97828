"""Shared fixtures: each stack is evaluated once per session under the mock runtime."""

from __future__ import annotations

import pytest

from tests.harness import Evaluation, evaluate


@pytest.fixture(scope="session")
def dev() -> Evaluation:
    return evaluate("dev")


@pytest.fixture(scope="session")
def prod() -> Evaluation:
    return evaluate("prod")


REVIEW_OVERRIDES = {
    "imageTag": "pr-42-abc1234",
    "review": {"pr": 42, "commit": "abc1234", "expiresAt": "2030-01-01T00:00:00Z"},
}


@pytest.fixture(scope="session")
def review() -> Evaluation:
    """A review stack (`review-42`) on k3s, as `tools/review` configures it."""
    return evaluate("review-42", REVIEW_OVERRIDES)


@pytest.fixture(scope="session", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest, dev: Evaluation, prod: Evaluation) -> Evaluation:
    return dev if request.param == "dev" else prod
