"""Tolerant readers for resource inputs as the policy engine hands them over.

The engine gives policies read-only proxies (`collections.abc.Mapping` / `Sequence`), not `dict` / `list`,
so every helper checks against the abstract types. A missing or wrongly shaped value reads as empty:
the rules then report "missing" instead of crashing on a half-written resource.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

EMPTY: Mapping[str, Any] = {}

# Where the pod spec lives in each workload kind the program (or a chart) may emit.
POD_SPEC_PATHS: Mapping[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    # ReplicaSets and ReplicationControllers run pods too; a rule that skipped them could be bypassed.
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:core/v1:ReplicationController": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
WORKLOAD_TYPES = frozenset(POD_SPEC_PATHS)


def as_mapping(value: Any) -> Mapping[str, Any]:
    """`value` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else EMPTY


def as_sequence(value: Any) -> Sequence[Any]:
    """`value` if it is a list-like (but not a string), else an empty tuple."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return value
    return ()


def has_key(mapping: Mapping[str, Any], key: str) -> bool:
    """True if `key` is present, without reading its value.

    `key in proxy` reads the value and raises UnknownValueError when it is not known yet (preview of a
    value computed from another resource); iterating the keys does not.
    """
    return any(existing == key for existing in mapping)


def dig(value: Any, *path: str) -> Any:
    """Follow `path` through nested mappings; None as soon as a step is missing."""
    current = value
    for key in path:
        if not isinstance(current, Mapping) or key not in current:
            return None
        current = current[key]
    return current


@dataclass(frozen=True)
class ContainerRef:
    """One container of a pod spec, with where it came from (for messages)."""

    kind: str  # "container" or "initContainer"
    name: str
    spec: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f'{self.kind} "{self.name}"'

    @property
    def security_context(self) -> Mapping[str, Any]:
        return as_mapping(self.spec.get("securityContext"))


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod spec inside a workload's inputs, or None for resource types that carry none."""
    path = POD_SPEC_PATHS.get(resource_type)
    if path is None:
        return None
    return as_mapping(dig(props, *path))


def containers(spec: Mapping[str, Any]) -> Iterator[ContainerRef]:
    """Every initContainer and container of a pod spec, in that order."""
    for field, kind in (("initContainers", "initContainer"), ("containers", "container")):
        for index, raw in enumerate(as_sequence(spec.get(field))):
            container = as_mapping(raw)
            name = container.get("name")
            yield ContainerRef(kind, name if isinstance(name, str) else f"#{index}", container)
