"""Every built-in Kubernetes object the program emits validates against the official schema."""

from __future__ import annotations

from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from components.targets.kubernetes import operators
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


KEDA_CRD = operators.KEDA.crd_dir / "keda.sh_scaledobjects.yaml"
"""KEDA's ScaledObject CRD as released (the version and source in operators.py): the schema the API server
applies to what the Kubernetes target renders, and the CRD the program registers where it installs KEDA."""


def test_every_scaled_object_validates_against_kedas_own_crd_schema(prod: Evaluation) -> None:
    crd = yaml.safe_load(KEDA_CRD.read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    schema = version["schema"]["openAPIV3Schema"]
    scalers = [r for r in kube_objects(prod) if r.inputs["kind"] == "ScaledObject"]
    assert len(scalers) == 3, "one per autoscaled Big Pod"
    for resource in scalers:
        jsonschema.validate(manifest(resource), schema)
    broken = manifest(scalers[0])
    broken["spec"]["triggers"][0]["metadata"]["threshold"] = 1000
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)  # trigger metadata is a map of strings
