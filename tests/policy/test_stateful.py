"""Rule 5: StatefulSets and PVCs are protected in prod (and only required there)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy.fakes import PVC, STATEFUL_SET, make_args, violations_of, workload

PROTECTED = "stateful-resources-protected-in-prod"


def postgres_pvc() -> dict[str, Any]:
    return {
        "metadata": {"name": "postgres-data", "namespace": "dreamscape", "annotations": {}},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "local-path",
            "resources": {"requests": {"storage": "10Gi"}},
        },
    }


@pytest.mark.parametrize("resource_type", [STATEFUL_SET, PVC])
def test_an_unprotected_stateful_resource_is_rejected_in_prod(
    resource_type: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_STACK", "prod")
    props = workload(STATEFUL_SET, name="postgres") if resource_type == STATEFUL_SET else postgres_pvc()
    messages = violations_of(PROTECTED, make_args(resource_type, props, name="postgres", protect=False))
    assert len(messages) == 1, f"an unprotected {resource_type} in prod is reported, got {messages}"
    assert "protect=True" in messages[0], f"the message says how to fix it: {messages[0]}"


@pytest.mark.parametrize("resource_type", [STATEFUL_SET, PVC])
def test_a_protected_stateful_resource_passes_in_prod(
    resource_type: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_STACK", "prod")
    props = workload(STATEFUL_SET, name="postgres") if resource_type == STATEFUL_SET else postgres_pvc()
    args = make_args(resource_type, props, name="postgres", protect=True)
    assert violations_of(PROTECTED, args) == [], f"protect=True satisfies the rule for {resource_type}"


@pytest.mark.parametrize("stack", ["review-42", "dev"])
def test_review_and_dev_stacks_may_leave_state_unprotected(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_STACK", stack)
    args = make_args(PVC, postgres_pvc(), name="postgres", protect=False)
    assert violations_of(PROTECTED, args) == [], f"{stack} is ephemeral and must stay destroyable"


def test_deployments_are_not_required_to_be_protected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_STACK", "prod")
    args = make_args("kubernetes:apps/v1:Deployment", workload("kubernetes:apps/v1:Deployment"))
    assert violations_of(PROTECTED, args) == [], "stateless workloads are replaceable"


def test_docker_volumes_are_out_of_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_STACK", "prod")
    args = make_args("docker:index/volume:Volume", {"name": "postgres-data"}, protect=False)
    assert violations_of(PROTECTED, args) == [], "Docker volumes are dev-only and ignored"


def test_prod_stacks_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_STACK", "prod-eu")
    args = make_args(PVC, postgres_pvc(), protect=False, config={"prodStacks": ["prod", "prod-*"]})
    assert len(violations_of(PROTECTED, args)) == 1, "a configured glob makes prod-eu a prod stack"
