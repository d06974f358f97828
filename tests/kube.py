"""Turn recorded Kubernetes registrations into manifests and validate them against the official schema."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from components.targets.kubernetes import operators
from tests.harness import Evaluation, Registered

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


# -- Custom resources, validated against their CRDs -----------------------------------------------
# The program's operators vendor their CRDs (components/targets/kubernetes/crds, version and source in
# operators.py); the kinds k3s itself brings (HelmChart, HelmChartConfig, Traefik's Middleware, TLSOption,
# TraefikService and IngressRoute) are vendored for the tests only, in tests/crds/k3s (SOURCES.md there).

K3S_CRDS = Path(__file__).parent / "crds" / "k3s"


def _load(path: Path) -> list[dict[str, Any]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [doc for doc in yaml.load_all(path.read_text(), Loader=loader) if doc]


@cache
def known_crds() -> dict[tuple[str, str], dict[str, Any]]:
    """Every CRD a custom resource may be validated against, by (group, kind)."""
    crds = [crd for _, crd in operators.all_crds()]
    crds += [crd for path in sorted(K3S_CRDS.glob("*.yaml")) for crd in _load(path)]
    return {operators.crd_kind(crd): crd for crd in crds}


def k3s_kinds() -> frozenset[tuple[str, str]]:
    """Kinds whose CRDs k3s installs before any stack runs."""
    return frozenset(operators.crd_kind(crd) for path in K3S_CRDS.glob("*.yaml") for crd in _load(path))


def _strict(schema: Any) -> Any:
    """The structural schema as JSON Schema, closed like the API server's pruning plus `kubectl
    --validate=strict`: an unknown field is an error unless the schema preserves unknown fields."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: _strict(value) for key, value in schema.items()
              if key not in ("x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string")}
    if schema.get("x-kubernetes-int-or-string"):
        result.pop("type", None)
        result["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema \
            and not schema.get("x-kubernetes-preserve-unknown-fields"):
        result["additionalProperties"] = False
    if "properties" in schema:
        result["properties"] = {name: _strict(value) for name, value in schema["properties"].items()}
    return result


def crd_version_schema(crd: dict[str, Any], version: str) -> dict[str, Any]:
    for candidate in crd["spec"]["versions"]:
        if candidate["name"] == version:
            if not candidate.get("served", False):
                raise AssertionError(f"{crd['metadata']['name']} does not serve {version}")
            schema: dict[str, Any] = candidate["schema"]["openAPIV3Schema"]
            return schema
    raise AssertionError(f"{crd['metadata']['name']} has no version {version}")


def validate_custom(document: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless `document` fits its CRD's openAPIV3Schema at the pinned version."""
    group, version = str(document["apiVersion"]).split("/")
    crd = known_crds().get((group, document["kind"]))
    if crd is None:
        raise AssertionError(f"no vendored CRD for {document['apiVersion']} {document['kind']}")
    schema = _strict(crd_version_schema(crd, version))
    body = {k: v for k, v in document.items() if k not in ("apiVersion", "kind", "metadata")}
    # metadata is the API server's ObjectMeta (already checked for built-in objects), not part of the CRD schema.
    envelope = ("apiVersion", "kind", "metadata")
    schema = {**schema, "properties": {k: v for k, v in schema.get("properties", {}).items() if k not in envelope},
              "required": [k for k in schema.get("required", []) if k not in envelope]}
    jsonschema.Draft7Validator(schema).validate(body)


def custom_groups() -> tuple[str, ...]:
    """API group prefixes (`group/`) that are not in the official schema: CRD kinds, and CRDs themselves."""
    return (*sorted({f"{group}/" for group, _ in known_crds()}), "apiextensions.k8s.io/")


def custom_objects(evaluation: Evaluation) -> list[Registered]:
    return [r for r in evaluation.resources if r.type.startswith("kubernetes:")
            and "apiVersion" in r.inputs and r.type.split(":")[1].split("/")[0] in
            {group for group, _ in known_crds()}]


CUSTOM_GROUPS = custom_groups()
"""Not in the official schema: every CRD-defined group (validated against its CRD) and CRDs themselves."""
