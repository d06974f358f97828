"""Turn recorded Kubernetes registrations into manifests and validate them against the official schema."""

from __future__ import annotations

from typing import Any

import kubernetes_validate

from tests.harness import Evaluation, Registered

CUSTOM_GROUPS = ("traefik.io/", "cert-manager.io/", "helm.cattle.io/", "apiextensions.k8s.io/", "keda.sh/")
"""API groups of custom resources: not in the official schema; their own tests check their structure."""
KUBERNETES_VERSION = "1.33.0"
"""k3s 1.33: the oldest minor we support (Traefik v3, built-in metrics-server)."""


def _ints(value: Any) -> Any:
    """The mock runtime turns every number into a float; the schema wants integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def manifest(resource: Registered) -> dict[str, Any]:
    result: dict[str, Any] = _ints({k: v for k, v in resource.inputs.items() if not k.startswith("__")})
    return result


def kube_objects(evaluation: Evaluation) -> list[Registered]:
    return [r for r in evaluation.resources if r.type.startswith("kubernetes:") and "apiVersion" in r.inputs]


def validate(resource: Registered) -> None:
    kubernetes_validate.validate(manifest(resource), KUBERNETES_VERSION, strict=True)


def pod_spec(resource: Registered) -> dict[str, Any]:
    spec = manifest(resource)["spec"]
    if resource.type.endswith(":CronJob"):
        spec = spec["jobTemplate"]["spec"]
    result: dict[str, Any] = spec["template"]["spec"]
    return result


def workloads(evaluation: Evaluation) -> list[Registered]:
    kinds = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
    return [r for r in kube_objects(evaluation) if r.inputs.get("kind") in kinds]
