"""Every built-in Kubernetes object the program emits validates against the official schema."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from tests.harness import Evaluation, Registered, evaluate
from tests.kube import CUSTOM_GROUPS, KUBERNETES_VERSION, kube_objects, manifest, validate

REVIEW: dict[str, Any] = {"review": {"pr": 42, "commit": "abcdef1", "expiresAt": "2026-12-01T00:00:00Z"}}


def builtin_objects(evaluation: Evaluation) -> list[Registered]:
    return [r for r in kube_objects(evaluation) if not str(r.inputs["apiVersion"]).startswith(CUSTOM_GROUPS)]


@pytest.mark.parametrize(("stack", "overrides"), [("prod", {}), ("review-pr-42", REVIEW)])
def test_every_builtin_kubernetes_object_is_schema_valid(stack: str, overrides: dict[str, Any]) -> None:
    objects = builtin_objects(evaluate(stack, overrides))
    assert len(objects) >= 15, "the stack renders a real set of objects"
    for resource in objects:
        validate(resource)


def test_the_validator_rejects_a_broken_object(prod: Evaluation) -> None:
    # Guards the test above: a schema check that accepts anything proves nothing.
    statefulset = next(r for r in kube_objects(prod) if r.inputs["kind"] == "StatefulSet")
    broken = manifest(statefulset)
    broken["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_docker_dev_stack_registers_no_kubernetes_object(dev: Evaluation) -> None:
    assert not kube_objects(dev), "dev runs on Docker only; nothing there to validate"
