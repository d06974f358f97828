"""Pod-spec rules: resources, non-root, no privilege escalation (rules 1-3).

Each applies to every initContainer and container of Deployments, StatefulSets, DaemonSets, Jobs,
CronJobs (and bare Pods) on every stack.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .props import as_mapping, containers, pod_spec

RESOURCES_POLICY = "containers-declare-requests-and-limits"
NON_ROOT_POLICY = "containers-run-as-non-root"
NO_ESCALATION_POLICY = "containers-disallow-privilege-escalation"

REQUIRED_RESOURCES: tuple[tuple[str, str], ...] = (
    ("requests", "cpu"),
    ("requests", "memory"),
    ("limits", "cpu"),
    ("limits", "memory"),
)


def _is_set(value: object) -> bool:
    return value is not None and value != ""


def validate_requests_and_limits(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every container states requests and limits for both cpu and memory."""
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for container in containers(spec):
        resources = as_mapping(container.spec.get("resources"))
        missing = [
            f"{section}.{resource}"
            for section, resource in REQUIRED_RESOURCES
            if not _is_set(as_mapping(resources.get(section)).get(resource))
        ]
        if missing:
            report_violation(f"{container.label} is missing resources {', '.join(missing)}.", None)


def validate_non_root(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every container runs with runAsNonRoot: true (own or inherited) and never as UID 0."""
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    pod_context = as_mapping(spec.get("securityContext"))
    for container in containers(spec):
        context = container.security_context
        non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
        if non_root is not True:
            report_violation(
                f"{container.label} must set securityContext.runAsNonRoot: true "
                "(on the container or the pod).",
                None,
            )
        run_as_user = context.get("runAsUser", pod_context.get("runAsUser"))
        if run_as_user == 0:
            report_violation(f"{container.label} runs as runAsUser 0 (root); use a non-zero UID.", None)


def validate_no_privilege_escalation(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Every container sets allowPrivilegeEscalation: false and is never privileged."""
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for container in containers(spec):
        context = container.security_context
        if context.get("allowPrivilegeEscalation") is not False:
            report_violation(
                f"{container.label} must set securityContext.allowPrivilegeEscalation: false.", None
            )
        if context.get("privileged") is True:
            report_violation(f"{container.label} must not run privileged.", None)


def policies() -> list[ResourceValidationPolicy]:
    """The pod-spec policies of this module."""
    return [
        ResourceValidationPolicy(
            name=RESOURCES_POLICY,
            description="Every container and initContainer declares cpu and memory requests and limits.",
            validate=validate_requests_and_limits,
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
        ResourceValidationPolicy(
            name=NON_ROOT_POLICY,
            description="Every container runs as non-root (runAsNonRoot: true, never runAsUser 0).",
            validate=validate_non_root,
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
        ResourceValidationPolicy(
            name=NO_ESCALATION_POLICY,
            description="Every container sets allowPrivilegeEscalation: false and is not privileged.",
            validate=validate_no_privilege_escalation,
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
    ]
