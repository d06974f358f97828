"""Every Kubernetes object the program registers is valid against the official schema."""

from __future__ import annotations

import pytest

from tests import kube
from tests.harness import Evaluation, Registered, evaluate

CUSTOM_RESOURCE_GROUPS = ("traefik.io/", "helm.cattle.io/", "apiextensions.k8s.io/")
"""CRDs and custom resources have no schema in kubernetes-validate; they are excluded on purpose."""

REVIEW = {"review": {"pr": 7, "commit": "abcdef1", "expiresAt": "2026-12-01T00:00:00Z"}}


def schema_checked(evaluation: Evaluation) -> list[Registered]:
    return [r for r in kube.kube_objects(evaluation)
            if not str(r.inputs["apiVersion"]).startswith(CUSTOM_RESOURCE_GROUPS)]


def test_every_kubernetes_object_of_prod_validates_against_the_official_schema(prod: Evaluation) -> None:
    objects = schema_checked(prod)
    assert len(objects) > 20, "prod registers the whole environment as Kubernetes objects"
    for resource in objects:
        kube.validate(resource)


@pytest.mark.parametrize("stack", ["review-pr-7"])
def test_every_kubernetes_object_of_a_review_stack_validates_against_the_official_schema(stack: str) -> None:
    objects = schema_checked(evaluate(stack, REVIEW))
    assert objects, "a review stack registers Kubernetes objects"
    for resource in objects:
        kube.validate(resource)


def test_the_docker_dev_stack_registers_no_kubernetes_object(dev: Evaluation) -> None:
    assert not kube.kube_objects(dev), "dev runs on Docker only; nothing there to validate"
