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


@pytest.fixture(scope="session", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest, dev: Evaluation, prod: Evaluation) -> Evaluation:
    return dev if request.param == "dev" else prod
