"""Grafana Alloy, the log shipper: it reads container logs and pushes them to Loki.

Where logs come from is the platform's answer (`PlatformFacts.log_source`):
- the Docker socket (dev): one container with the socket mounted read-only, keeping only containers that
  carry the service-name label; it also serves the Docker containers' metrics (cAdvisor, reading the
  host's `/sys/fs/cgroup` read-only) on its HTTP port for Prometheus;
- pod log files (prod, review): a DaemonSet (`WorkloadKind.PER_NODE`) tailing `/var/log/pods` on its node
  (`NODE_NAME` from `spec.nodeName`), with a Role to list the environment's pods.
Labels (pod, service per process, environment, level) are described in `alloy/config.py`.

Security exception: the environment's namespace enforces the restricted Pod Security Standard, which
forbids hostPath. Because Alloy has a node mount, the Kubernetes target runs it in the separate
`<namespace>-node-agents` namespace (enforce: privileged; warn/audit: restricted). The container still runs
non-root (UID 473, the image's `alloy` user) with group 0, because the kubelet writes pod logs as
root:root 0640; the mount is read-only, all capabilities are dropped and the root filesystem is read-only.
On Docker Alloy runs as root, which reading the Docker socket needs. Positions live in scratch space:
after a restart Alloy may resend recent lines (Loki drops exact duplicates).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from components import spec
from components.config import ImageConfig
from components.deploy import BlueprintComponent
from components.infra.common import resources_of
from components.monitoring import containers
from components.monitoring.alloy.config import (
    AlloyConfigArgs,
    AlloyPaths,
    DockerLogSource,
    KubernetesLogSource,
    alloy_cli_args,
    alloy_rbac_rules,
    render_alloy_config,
)
from components.monitoring.common import COMPONENT, LOKI_PUSH_URL
from components.targets import LogSource, PlatformFacts

ALLOY_UID = 473
ALLOY_PORT = 12345


@dataclass(frozen=True, kw_only=True)
class AlloyArgs:
    config: ImageConfig
    platform: PlatformFacts
    """Where logs come from (the Docker socket, or /var/log/pods on every node) and the namespace."""
    loki_push_url: str = LOKI_PUSH_URL


def log_source(platform: PlatformFacts) -> DockerLogSource | KubernetesLogSource:
    """The platform's answer, as the typed source the config renderer takes."""
    if platform.log_source is LogSource.POD_LOG_FILES:
        if platform.namespace is None:
            raise ValueError("pod log files are read per namespace, and the platform names none")
        return KubernetesLogSource(namespace=platform.namespace)
    return DockerLogSource()


def source_mount(source: DockerLogSource | KubernetesLogSource, paths: AlloyPaths) -> spec.HostMount:
    """The node path the source reads, mounted read-only."""
    if isinstance(source, KubernetesLogSource):
        return spec.HostMount(host_path=paths.pod_logs_dir, mount_path=paths.pod_logs_dir, read_only=True, node=True)
    return spec.HostMount(host_path=source.socket, mount_path=paths.docker_socket, read_only=True, node=True)


def source_ports(source: DockerLogSource | KubernetesLogSource) -> tuple[spec.Port, ...]:
    """On Docker, Alloy's HTTP port is also the container metrics target (components.monitoring.containers);
    on Kubernetes the kubelet serves container metrics and Alloy's port is only probed."""
    if isinstance(source, DockerLogSource):
        return (spec.Port("http", ALLOY_PORT, metrics_path=containers.METRICS_PATH),)
    return ()


def source_mounts(source: DockerLogSource | KubernetesLogSource, paths: AlloyPaths) -> tuple[spec.HostMount, ...]:
    """The log source, plus on Docker the cgroup files cAdvisor reads each container's usage from."""
    if isinstance(source, DockerLogSource):
        cgroups = spec.HostMount(host_path=paths.cgroup_dir, mount_path=paths.cgroup_dir, read_only=True, node=True)
        return source_mount(source, paths), cgroups
    return (source_mount(source, paths),)


def source_access(
    source: DockerLogSource | KubernetesLogSource,
) -> tuple[tuple[spec.ApiRule, ...], dict[str, str], int]:
    """The API rules, pod-field env and user the source needs: discovery of this node's pods as the image's
    `alloy` user (kubelet log files are root:root 0640, group 0 reads them), or root for the Docker socket."""
    if isinstance(source, KubernetesLogSource):
        rules = tuple(spec.ApiRule(tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r["verbs"]))
                      for r in alloy_rbac_rules())
        return rules, {source.node_name_env: "spec.nodeName"}, ALLOY_UID
    return (), {}, 0


def alloy_blueprint(args: AlloyArgs) -> spec.Blueprint:
    """The log shipper: one per node (Kubernetes) or one per Docker daemon."""
    paths = AlloyPaths()
    source = log_source(args.platform)
    config_text = render_alloy_config(AlloyConfigArgs(
        environment=args.platform.environment, source=source, loki_push_url=args.loki_push_url, paths=paths))
    rules, field_env, user = source_access(source)
    ready = spec.Probe(command=("curl", "-fsS", "-o", "/dev/null", f"http://127.0.0.1:{ALLOY_PORT}/-/ready"),
                       period_seconds=15)
    service = spec.Service(
        name="alloy",
        component=COMPONENT,
        zone=spec.Zone.MONITORING,
        kind=spec.WorkloadKind.PER_NODE,
        probes=spec.Probes(readiness=ready, liveness=spec.Probe(
            http_path="/-/healthy", port=ALLOY_PORT, period_seconds=30, failure_threshold=5)),
        api_rules=rules,
        ports=source_ports(source),
        container=spec.Container(
            image=args.config.image,
            resources=resources_of(args.config.resources),
            command=("/bin/alloy",),
            args=tuple(alloy_cli_args(paths)),
            config_files=(spec.ConfigFile(paths.config_file, config_text),),
            host_mounts=source_mounts(source, paths),
            field_env=MappingProxyType(field_env),
            security=spec.Security(run_as_user=user, run_as_group=0, fs_group=None,
                                   scratch_paths=(paths.storage_dir, "/tmp")),
        ),
    )
    return spec.Blueprint(services=(service,))


class Alloy(BlueprintComponent):
    """The log shipper: one per node (Kubernetes) or one per Docker daemon."""

    TYPE = "dreamscape:monitoring:Alloy"
