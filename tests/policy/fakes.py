"""Hand-built policy inputs shaped like what the engine passes and what the program emits.

`make_args` builds a real `pulumi_policy.ResourceValidationArgs`, with props wrapped in the same
unknown-checking proxy the analyzer server uses (so rules see Mapping/Sequence proxies, not dicts).
The builders produce restricted-PSA workloads like the Kubernetes target renders them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from dreamscape_policy import all_policies
from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
WORKLOAD_TYPES = (DEPLOYMENT, STATEFUL_SET, DAEMON_SET, JOB, CRON_JOB)
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
SERVICE = "kubernetes:core/v1:Service"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DOCKER_CONTAINER = "docker:index/container:Container"


@dataclass
class Violations:
    """A recording `report_violation` callback."""

    messages: list[str] = field(default_factory=list)

    def __call__(self, message: str, urn: str | None = None) -> None:
        self.messages.append(message)


def make_args(
    resource_type: str,
    props: dict[str, Any],
    *,
    name: str = "api",
    protect: bool = False,
    config: dict[str, Any] | None = None,
) -> ResourceValidationArgs:
    """A `ResourceValidationArgs` as the analyzer server builds it for one resource."""
    opts = PolicyResourceOptions(
        protect=protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=None,
    )
    urn = f"urn:pulumi:prod::dreamscape::{resource_type}::{name}"
    return ResourceValidationArgs(
        resource_type,
        unknown_checking_proxy(copy.deepcopy(props)),
        urn,
        name,
        opts,
        None,
        config,
    )


def policy_named(name: str) -> ResourceValidationPolicy:
    """The pack's resource policy called `name`."""
    for policy in all_policies():
        if policy.name == name and isinstance(policy, ResourceValidationPolicy):
            return policy
    raise LookupError(f"no resource policy named {name!r}")


def violations_of(policy_name: str, args: ResourceValidationArgs) -> list[str]:
    """Run one policy against `args` and return the reported messages."""
    recorder = Violations()
    result = policy_named(policy_name).validate(args, recorder)
    assert result is None, f"{policy_name} is expected to validate synchronously"
    return recorder.messages


def all_violations(args: ResourceValidationArgs) -> dict[str, list[str]]:
    """Run every policy of the pack against `args`; only policies that reported anything appear."""
    found: dict[str, list[str]] = {}
    policies: list[Policy] = all_policies()
    for policy in policies:
        if isinstance(policy, ResourceValidationPolicy):
            messages = violations_of(policy.name, args)
            if messages:
                found[policy.name] = messages
    return found


def restricted_security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def restricted_container(name: str = "api", image: str = "ghcr.io/dreamscape/api:1.4.2") -> dict[str, Any]:
    """A container as the Kubernetes target renders it: secrets as files or secretKeyRefs."""
    return {
        "name": name,
        "image": image,
        "command": ["/usr/bin/supervisord", "-c", "/etc/supervisord.conf"],
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "DATABASE_HOST", "value": "postgres"},
            {"name": "JWT_SECRET_FILE", "value": "/run/secrets/jwt-secret"},
            {"name": "POSTGRES_PASSWORD_FILE", "value": "/run/secrets/postgres-password"},
            {"name": "REDIS_KEY_PREFIX", "value": "api:"},
            {
                "name": "MINIO_SECRET_KEY",
                "valueFrom": {"secretKeyRef": {"name": "minio-credentials", "key": "secret-key"}},
            },
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "512Mi"},
        },
        "securityContext": restricted_security_context(),
        "volumeMounts": [
            {"name": "secrets", "mountPath": "/run/secrets", "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
    }


def restricted_pod_spec() -> dict[str, Any]:
    """A restricted-PSA pod spec with one initContainer and one container."""
    init = restricted_container("wait-for-postgres", "ghcr.io/dreamscape/toolbox:2.0.1")
    init["env"] = [{"name": "PGHOST", "value": "postgres"}]
    return {
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "runAsGroup": 1000,
            "fsGroup": 1000,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "initContainers": [init],
        "containers": [restricted_container()],
        "volumes": [
            {"name": "secrets", "secret": {"secretName": "api-secrets", "defaultMode": 0o400}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
    }


def workload(resource_type: str, pod: dict[str, Any] | None = None, name: str = "api") -> dict[str, Any]:
    """Inputs of a workload of `resource_type` wrapping `pod` (default: the restricted pod spec)."""
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "dreamscape"}
    template = {"metadata": {"labels": labels}, "spec": pod if pod is not None else restricted_pod_spec()}
    metadata = {"name": name, "namespace": "dreamscape", "labels": labels}
    if resource_type == CRON_JOB:
        template["spec"]["restartPolicy"] = "OnFailure"
        return {
            "metadata": metadata,
            "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}},
        }
    if resource_type == JOB:
        template["spec"]["restartPolicy"] = "OnFailure"
        return {"metadata": metadata, "spec": {"backoffLimit": 2, "template": template}}
    spec: dict[str, Any] = {"selector": {"matchLabels": labels}, "template": template}
    if resource_type == STATEFUL_SET:
        spec["serviceName"] = f"{name}-peers"
        spec["replicas"] = 3
    return {"metadata": metadata, "spec": spec}


def pod_of(props: dict[str, Any]) -> dict[str, Any]:
    """The pod spec inside workload inputs built by `workload` (for targeted edits)."""
    spec = props["spec"]
    if "jobTemplate" in spec:
        spec = spec["jobTemplate"]["spec"]
    pod: dict[str, Any] = spec["template"]["spec"]
    return pod


def main_container(props: dict[str, Any]) -> dict[str, Any]:
    """The first regular container of workload inputs built by `workload`."""
    container: dict[str, Any] = pod_of(props)["containers"][0]
    return container
