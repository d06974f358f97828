"""Rule 7: only the edge is exposed outside the cluster.

A Service of type NodePort or LoadBalancer, or one with externalIPs, is allowed only when it is the edge:
annotated ``dreamscape.io/edge: "true"``, or listed in the policy config ``edgeServices`` as ``name``
(any namespace) or ``namespace/name``. Everything else stays ClusterIP and is reached through Ingress.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .props import as_mapping, as_sequence

EDGE_ONLY_POLICY = "services-exposed-only-at-edge"
SERVICE = "kubernetes:core/v1:Service"
EDGE_ANNOTATION = "dreamscape.io/edge"
EDGE_SERVICES_KEY = "edgeServices"
EXPOSED_TYPES = frozenset({"NodePort", "LoadBalancer"})


def _is_edge(args: ResourceValidationArgs, metadata: Mapping[str, Any]) -> bool:
    annotations = as_mapping(metadata.get("annotations"))
    if str(annotations.get(EDGE_ANNOTATION, "")).lower() == "true":
        return True
    raw_name = metadata.get("name")
    name = raw_name if isinstance(raw_name, str) and raw_name else args.name
    raw_namespace = metadata.get("namespace")
    namespace = raw_namespace if isinstance(raw_namespace, str) and raw_namespace else "default"
    for entry in as_sequence(args.get_config().get(EDGE_SERVICES_KEY)):
        if not isinstance(entry, str):
            continue
        if "/" in entry:
            if entry == f"{namespace}/{name}":
                return True
        elif entry == name:
            return True
    return False


def validate_edge_only(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """NodePort/LoadBalancer/externalIPs only on edge Services."""
    if args.resource_type != SERVICE:
        return
    spec = as_mapping(args.props.get("spec"))
    service_type = spec.get("type")
    exposed_type = service_type if service_type in EXPOSED_TYPES else None
    external_ips = bool(as_sequence(spec.get("externalIPs")))
    if exposed_type is None and not external_ips:
        return
    metadata = as_mapping(args.props.get("metadata"))
    if _is_edge(args, metadata):
        return
    how = f"type {exposed_type}" if exposed_type else "externalIPs"
    report_violation(
        f'Service "{args.name}" is exposed with {how} but is not the edge; use ClusterIP behind the '
        f'Ingress, or mark the edge with annotation {EDGE_ANNOTATION}: "true" / the '
        f"{EDGE_SERVICES_KEY} policy config.",
        None,
    )


def policies() -> list[ResourceValidationPolicy]:
    """The exposure policies of this module."""
    return [
        ResourceValidationPolicy(
            name=EDGE_ONLY_POLICY,
            description="Only edge Services use NodePort, LoadBalancer or externalIPs.",
            validate=validate_edge_only,
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={
                    EDGE_SERVICES_KEY: {
                        "type": "array",
                        "items": {"type": "string"},
                        "default": [],
                        "description": (
                            'Services allowed to be exposed, as "name" (any namespace) or "namespace/name".'
                        ),
                    },
                },
            ),
        ),
    ]
