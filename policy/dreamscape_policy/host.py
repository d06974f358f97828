"""Rules 8-11: workloads stay off the host (edge-only exposure, no host namespaces, no extra privileges).

On Kubernetes they follow the Pod Security Standards (`restricted`/`baseline`): no hostNetwork, no
hostPort, no hostPID/hostIPC, no added capabilities except NET_BIND_SERVICE, and no hostPath volumes
(the log shipper's read-only hostPath is allowed only in the privileged `*-node-agents` namespace). On the
Docker target (dev) the same classes are the container's `networkMode`/`pidMode`/`ipcMode` "host",
`capabilities.adds`, `privileged`, ports published beyond the loopback address, and bind mounts of
system paths.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .props import as_mapping, as_sequence, containers, pod_spec

HOST_NETWORK_POLICY = "no-host-network-or-host-ports"
HOST_NAMESPACES_POLICY = "no-host-pid-or-ipc"
CAPABILITIES_POLICY = "no-added-capabilities"
HOST_PATH_POLICY = "host-paths-confined"
DOCKER_CONTAINER = "docker:index/container:Container"

ALLOWED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
"""The only capability the `restricted` Pod Security Standard lets a container add."""
HOST_PATH_NAMESPACES_KEY = "hostPathNamespaces"
DEFAULT_HOST_PATH_NAMESPACES: tuple[str, ...] = ("*-node-agents",)
READ_ONLY_HOST_PATHS_KEY = "readOnlyHostPaths"
DEFAULT_READ_ONLY_HOST_PATHS: tuple[str, ...] = ("/var/run/docker.sock", "/sys/fs/cgroup")
SYSTEM_PATHS = ("/etc", "/proc", "/sys", "/dev", "/boot", "/root", "/usr", "/bin", "/sbin", "/lib",
                "/var/lib", "/var/run", "/run")
"""Host paths a dev container must not mount (source checkouts elsewhere are the point of dev)."""


def _is_true(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _namespace(args: ResourceValidationArgs) -> str:
    value = as_mapping(args.props.get("metadata")).get("namespace")
    return value if isinstance(value, str) and value else "default"


def validate_host_network(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No hostNetwork, no hostPort; Docker: no host network mode, ports published on loopback only."""
    if args.resource_type == DOCKER_CONTAINER:
        if args.props.get("networkMode") == "host":
            report_violation("container uses networkMode \"host\"; publish ports on the loopback address.", None)
        for raw in as_sequence(args.props.get("ports")):
            port = as_mapping(raw)
            ip = port.get("ip")
            if not _is_loopback(ip):
                shown = ip if isinstance(ip, str) and ip else "0.0.0.0 (Docker's default)"
                report_violation(
                    f"container publishes port {port.get('internal')} on {shown}; dev publishes on the "
                    "loopback address only (docker.publishAddress).",
                    None,
                )
        return
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    if _is_true(spec.get("hostNetwork")):
        report_violation("pod sets hostNetwork: true; only the edge (Ingress) is exposed.", None)
    for container in containers(spec):
        for raw in as_sequence(container.spec.get("ports")):
            port = as_mapping(raw)
            if port.get("hostPort") not in (None, 0):
                report_violation(
                    f"{container.label} binds hostPort {port.get('hostPort')}; reach it through a Service "
                    "and the Ingress instead.",
                    None,
                )


def _is_loopback(ip: object) -> bool:
    if not isinstance(ip, str) or not ip:
        return False
    try:
        return ipaddress.ip_address(ip.strip("[]")).is_loopback
    except ValueError:
        return False


def validate_host_namespaces(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No hostPID / hostIPC; Docker: no pidMode / ipcMode "host"."""
    if args.resource_type == DOCKER_CONTAINER:
        for field in ("pidMode", "ipcMode"):
            if args.props.get(field) == "host":
                report_violation(f"container sets {field} \"host\"; it would see the host's processes.", None)
        return
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for field in ("hostPID", "hostIPC"):
        if _is_true(spec.get(field)):
            report_violation(f"pod sets {field}: true; pods never share the node's namespaces.", None)


def validate_capabilities(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No capabilities added beyond NET_BIND_SERVICE; Docker containers are never privileged either."""
    if args.resource_type == DOCKER_CONTAINER:
        added = [str(c) for c in as_sequence(as_mapping(args.props.get("capabilities")).get("adds"))]
        _report_capabilities("container", added, report_violation)
        if _is_true(args.props.get("privileged")):
            report_violation("container runs privileged.", None)
        return
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for container in containers(spec):
        added = [str(c) for c in as_sequence(as_mapping(container.security_context.get("capabilities")).get("add"))]
        _report_capabilities(container.label, added, report_violation)


def _report_capabilities(label: str, added: list[str], report_violation: ReportViolation) -> None:
    extra = sorted({c.upper().removeprefix("CAP_") for c in added} - ALLOWED_CAPABILITIES)
    if extra:
        report_violation(
            f"{label} adds capabilities {', '.join(extra)}; only NET_BIND_SERVICE may be added (drop ALL).", None
        )


def validate_host_paths(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """hostPath only read-only and in the node-agents namespaces; Docker: no writable or system host paths."""
    config = args.get_config()
    if args.resource_type == DOCKER_CONTAINER:
        patterns = _patterns(config, READ_ONLY_HOST_PATHS_KEY, DEFAULT_READ_ONLY_HOST_PATHS)
        # An allowed literal path is allowed where it resolves to as well (/var/run -> /run).
        allowed = (*patterns, *(os.path.realpath(p) for p in patterns if not any(c in p for c in "*?[")))
        for path, read_only in _docker_host_paths(args.props):
            system = [form for form in _path_forms(path) if _is_system_path(form)]
            if not system:
                continue
            if read_only and all(any(fnmatchcase(form, p) for p in allowed) for form in system):
                continue
            resolved = f" (resolves to {', '.join(f for f in system if f != path)})" if system != [path] else ""
            report_violation(
                f"container mounts the host path {path}{resolved}{' read-only' if read_only else ''}; system "
                f"paths stay off dev containers (allow a read-only one in {READ_ONLY_HOST_PATHS_KEY}).",
                None,
            )
        return
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    host_volumes = {
        str(as_mapping(v).get("name")): str(as_mapping(as_mapping(v).get("hostPath")).get("path"))
        for v in as_sequence(spec.get("volumes"))
        if as_mapping(v).get("hostPath") is not None
    }
    if not host_volumes:
        return
    namespace = _namespace(args)
    namespaces = _patterns(config, HOST_PATH_NAMESPACES_KEY, DEFAULT_HOST_PATH_NAMESPACES)
    if not any(fnmatchcase(namespace, p) for p in namespaces):
        report_violation(
            f"pod mounts hostPath {', '.join(sorted(host_volumes.values()))} in namespace {namespace!r}; hostPath "
            f"is allowed only in {', '.join(namespaces)} ({HOST_PATH_NAMESPACES_KEY}).",
            None,
        )
    for container in containers(spec):
        for raw in as_sequence(container.spec.get("volumeMounts")):
            mount = as_mapping(raw)
            name = str(mount.get("name"))
            if name in host_volumes and not _is_true(mount.get("readOnly")):
                report_violation(f"{container.label} mounts hostPath {host_volumes[name]} writable.", None)


def _docker_host_paths(props: Mapping[str, Any]) -> Iterator[tuple[str, bool]]:
    for raw in as_sequence(props.get("volumes")):
        volume = as_mapping(raw)
        if isinstance(volume.get("hostPath"), str):
            yield volume["hostPath"], _is_true(volume.get("readOnly"))
    for raw in as_sequence(props.get("mounts")):
        mount = as_mapping(raw)
        if mount.get("type") == "bind" and isinstance(mount.get("source"), str):
            yield mount["source"], _is_true(mount.get("readOnly"))


def _path_forms(path: str) -> list[str]:
    """The path as written, without `..` and repeated slashes, and with every symlink resolved: the
    policy runs where `pulumi preview` runs, which for the dev stack is the Docker host, so a bind mount
    of `~/src/etc-link` (a symlink to /etc) is caught as /etc."""
    forms = [path, os.path.normpath(path), os.path.realpath(path)]
    return list(dict.fromkeys(forms))


def _is_system_path(path: str) -> bool:
    clean = "/" + path.strip("/")
    return clean == "/" or any(clean == p or clean.startswith(p + "/") for p in SYSTEM_PATHS)


def _patterns(config: Mapping[str, Any], key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = config.get(key)
    if value is None or isinstance(value, str):
        return default
    return tuple(item for item in as_sequence(value) if isinstance(item, str) and item)


def policies() -> list[ResourceValidationPolicy]:
    """The host-isolation policies of this module."""
    globs = {"type": "array", "items": {"type": "string"}}
    return [
        ResourceValidationPolicy(
            name=HOST_NETWORK_POLICY,
            description="No hostNetwork or hostPort; Docker containers publish on loopback only.",
            validate=validate_host_network,
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
        ResourceValidationPolicy(
            name=HOST_NAMESPACES_POLICY,
            description="No hostPID or hostIPC (Docker: no pidMode/ipcMode host).",
            validate=validate_host_namespaces,
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
        ResourceValidationPolicy(
            name=CAPABILITIES_POLICY,
            description="No capabilities added beyond NET_BIND_SERVICE; no privileged Docker containers.",
            validate=validate_capabilities,
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
        ResourceValidationPolicy(
            name=HOST_PATH_POLICY,
            description="hostPath only read-only in the node-agents namespaces; no system paths in dev.",
            validate=validate_host_paths,
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={
                    HOST_PATH_NAMESPACES_KEY: {
                        **globs, "default": list(DEFAULT_HOST_PATH_NAMESPACES),
                        "description": "Namespaces (globs) where read-only hostPath volumes are allowed.",
                    },
                    READ_ONLY_HOST_PATHS_KEY: {
                        **globs, "default": list(DEFAULT_READ_ONLY_HOST_PATHS),
                        "description": "System host paths (globs) a Docker container may mount read-only.",
                    },
                },
            ),
        ),
    ]
