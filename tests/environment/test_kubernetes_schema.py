"""Every built-in Kubernetes object the program emits validates against the official schema."""

from __future__ import annotations

import pytest

from tests.harness import Evaluation, evaluate
from tests.kube import kube_objects, manifest, validate

CUSTOM_GROUPS = ("traefik.io/", "cert-manager.io/", "helm.cattle.io/")
"""Custom resources are not in the official schema; their own tests check their structure."""


def builtin_objects(evaluation: Evaluation) -> list:  # type: ignore[type-arg]
    return [r for r in kube_objects(evaluation) if not r.inputs["apiVersion"].startswith(CUSTOM_GROUPS)]


@pytest.mark.parametrize("stack", ["prod", "review-pr-42"])
def test_every_builtin_kubernetes_object_is_schema_valid(stack: str) -> None:
    evaluation = evaluate(stack)
    objects = builtin_objects(evaluation)
    assert len(objects) >= 15, "the stack renders a real set of objects"
    for resource in objects:
        validate(resource)


def test_the_validator_rejects_a_broken_object(prod: Evaluation) -> None:
    # Guards the test above: a schema check that accepts anything proves nothing.
    statefulset = next(r for r in kube_objects(prod) if r.inputs["kind"] == "StatefulSet")
    broken = manifest(statefulset)
    broken["spec"]["replicas"] = "three"
    import kubernetes_validate

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.33.0", strict=True)
