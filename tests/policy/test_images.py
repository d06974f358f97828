"""Rule 4: prod and review stacks run pinned images; dev may use anything."""

from __future__ import annotations

import pytest
from dreamscape_policy.images import image_problem

from tests.policy.fakes import (
    CRON_JOB,
    DEPLOYMENT,
    DOCKER_CONTAINER,
    main_container,
    make_args,
    pod_of,
    violations_of,
    workload,
)

PINNED = "images-pinned-in-prod-and-review"
DIGEST = "ghcr.io/dreamscape/api@sha256:" + "a" * 64


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/dreamscape/api:1.4.2",
        "registry.local:5000/dreamscape/api:2025.11.22-abc1234",
        DIGEST,
        "ghcr.io/dreamscape/api:latest@sha256:" + "b" * 64,
        "sha256:" + "c" * 64,
    ],
)
def test_version_tags_and_digests_count_as_pinned(image: str) -> None:
    assert image_problem(image) is None, f"{image} names one fixed image"


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/dreamscape/api:latest",
        "ghcr.io/dreamscape/api",
        "registry.local:5000/api",
        "redis:",
        "",
        None,
    ],
)
def test_latest_missing_or_empty_tags_are_not_pinned(image: str | None) -> None:
    assert image_problem(image) is not None, f"{image!r} may change under the same reference"


@pytest.mark.parametrize("stack", ["prod", "review-42"])
def test_a_latest_image_is_rejected_on_prod_and_review_stacks(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_STACK", stack)
    props = workload(DEPLOYMENT)
    main_container(props)["image"] = "ghcr.io/dreamscape/api:latest"
    messages = violations_of(PINNED, make_args(DEPLOYMENT, props))
    assert len(messages) == 1, f"the latest image is reported on {stack}, got {messages}"
    assert stack in messages[0], f"the message names the stack: {messages[0]}"


def test_an_untagged_init_container_image_is_rejected_in_a_cron_job(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_STACK", "prod")
    props = workload(CRON_JOB)
    pod_of(props)["initContainers"][0]["image"] = "busybox"
    messages = violations_of(PINNED, make_args(CRON_JOB, props))
    assert len(messages) == 1, f"init containers of CronJobs are checked, got {messages}"
    assert "without a tag" in messages[0], f"the message explains the missing tag: {messages[0]}"


def test_pinned_images_pass_on_prod(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_STACK", "prod")
    props = workload(DEPLOYMENT)
    main_container(props)["image"] = DIGEST
    assert violations_of(PINNED, make_args(DEPLOYMENT, props)) == [], "tags and digests are accepted"


def test_a_latest_image_is_allowed_on_the_dev_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_STACK", "dev")
    props = workload(DEPLOYMENT)
    main_container(props)["image"] = "ghcr.io/dreamscape/api:latest"
    assert violations_of(PINNED, make_args(DEPLOYMENT, props)) == [], "dev iterates on moving tags"


def test_a_docker_container_on_dev_may_use_latest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_STACK", "dev")
    args = make_args(DOCKER_CONTAINER, {"image": "redis:latest", "name": "redis"})
    assert violations_of(PINNED, args) == [], "the rule does not apply to dev"


def test_a_docker_container_with_latest_is_rejected_when_the_stack_is_prod_like(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PULUMI_STACK", "review-7")
    args = make_args(DOCKER_CONTAINER, {"image": "redis:latest", "name": "redis"})
    assert len(violations_of(PINNED, args)) == 1, "Docker containers are checked like pod containers"


def test_an_unknown_stack_is_treated_as_prod() -> None:
    props = workload(DEPLOYMENT)
    main_container(props)["image"] = "ghcr.io/dreamscape/api:latest"
    messages = violations_of(PINNED, make_args(DEPLOYMENT, props))
    assert len(messages) == 1, f"without PULUMI_STACK or config the rule fails closed, got {messages}"
    assert "unknown stack" in messages[0], f"the message says why it applied: {messages[0]}"


def test_the_stack_override_in_policy_config_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PULUMI_STACK", "prod")
    props = workload(DEPLOYMENT)
    main_container(props)["image"] = "ghcr.io/dreamscape/api:latest"
    args = make_args(DEPLOYMENT, props, config={"stack": "dev"})
    assert violations_of(PINNED, args) == [], "config `stack` overrides PULUMI_STACK"


def test_pinned_image_stacks_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    props = workload(DEPLOYMENT)
    main_container(props)["image"] = "ghcr.io/dreamscape/api:latest"
    config = {"pinnedImageStacks": ["prod", "staging-*"]}
    monkeypatch.setenv("PULUMI_STACK", "staging-eu")
    assert len(violations_of(PINNED, make_args(DEPLOYMENT, props, config=config))) == 1, (
        "a configured glob makes staging-eu prod-like"
    )
    monkeypatch.setenv("PULUMI_STACK", "review-42")
    assert violations_of(PINNED, make_args(DEPLOYMENT, props, config=config)) == [], (
        "a configured list replaces the default, so review-* is no longer included"
    )
