"""Logs: single-binary Loki (filesystem storage, compactor retention) and Grafana Alloy shipping to it.

Alloy has two shapes, chosen by an argument (the environment passes the Kubernetes namespace or None):
- Docker (dev): one container with the Docker socket mounted read-only. It keeps only containers that
  carry `app.kubernetes.io/name` (the Docker target's service-name label) and labels every line with
  pod (= that label), service (`app.kubernetes.io/component`) and environment.
- Kubernetes (prod, review): a DaemonSet (`WorkloadKind.PER_NODE`) tailing `/var/log/pods` on its node
  (`NODE_NAME` from `spec.nodeName`), with a Role to list the environment's pods.

Security exception: the environment's namespace enforces the restricted Pod Security Standard, which
forbids hostPath. Because Alloy has a node mount, the Kubernetes target runs it in the separate
`<namespace>-node-agents` namespace (enforce: privileged; warn/audit: restricted). The container still runs
non-root (UID 473, the image's `alloy` user) with group 0, because the kubelet writes pod logs as
root:root 0640; the mount is read-only, all capabilities are dropped and the root filesystem is read-only.
On Docker the target does not override the image user, so Alloy runs as the image's default user (root),
which reading the Docker socket needs. Positions live in scratch space: after a restart Alloy may resend
recent lines (Loki drops exact duplicates).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from components import spec
from components.config import ImageConfig, LokiConfig
from components.deploy import BlueprintComponent
from components.infra.common import resources_of
from components.monitoring.common import COMPONENT, LOKI_PORT
from components.monitoring.config import (
    AlloyConfigArgs,
    AlloyPaths,
    DockerLogSource,
    KubernetesLogSource,
    LokiConfigArgs,
    LokiPaths,
    alloy_cli_args,
    alloy_rbac_rules,
    loki_cli_flags,
    render_alloy_config,
    render_loki_config,
)
from components.monitoring.config.catalog import K8S_COMPONENT_LABEL, K8S_NAME_LABEL
from components.targets import LogSource, PlatformFacts

LOKI_UID = 10001
ALLOY_UID = 473
ALLOY_PORT = 12345


@dataclass(frozen=True, kw_only=True)
class LokiArgs:
    config: LokiConfig


def loki_blueprint(args: LokiArgs) -> spec.Blueprint:
    """Log storage and query (single binary)."""
    paths = LokiPaths()
    config_text = render_loki_config(LokiConfigArgs(retention_hours=args.config.retention_hours,
                                                         paths=paths, http_port=LOKI_PORT))
    ready = spec.Probe(http_path="/ready", port=LOKI_PORT, period_seconds=10)
    service = spec.Service(
        name="loki",
        component=COMPONENT,
        zone=spec.Zone.MONITORING,
        kind=spec.WorkloadKind.STATEFUL,
        ports=(spec.Port("loki", LOKI_PORT, metrics_path="/metrics"),),
        volumes=(spec.DataVolume("data", paths.data_dir, args.config.storage),),
        probes=spec.Probes(readiness=ready, liveness=spec.Probe(tcp_port=LOKI_PORT, period_seconds=20,
                                                                failure_threshold=6),
                           startup=spec.Probe(http_path="/ready", port=LOKI_PORT,
                                                                period_seconds=5, failure_threshold=60)),
        container=spec.Container(
            image=args.config.image,
            resources=resources_of(args.config.resources),
            args=tuple(loki_cli_flags(paths)),
            config_files=(spec.ConfigFile(paths.config_file, config_text),),
            security=spec.Security(run_as_user=LOKI_UID, run_as_group=LOKI_UID, fs_group=LOKI_UID),
        ),
    )
    return spec.Blueprint(services=(service,))


class Loki(BlueprintComponent):
    """Log storage and query (single binary)."""

    TYPE = "dreamscape:monitoring:Loki"


@dataclass(frozen=True, kw_only=True)
class AlloyArgs:
    config: ImageConfig
    platform: PlatformFacts
    """Where logs come from (the Docker socket, or /var/log/pods on every node) and the namespace."""
    loki_push_url: str = f"http://loki:{LOKI_PORT}/loki/api/v1/push"


def alloy_config(args: AlloyArgs, paths: AlloyPaths) -> AlloyConfigArgs:
    source: DockerLogSource | KubernetesLogSource
    platform = args.platform
    if platform.log_source is LogSource.POD_LOG_FILES and platform.namespace is not None:
        source = KubernetesLogSource(namespace=platform.namespace)
    else:
        source = DockerLogSource(pod_label=K8S_NAME_LABEL, service_label=K8S_COMPONENT_LABEL)
    return AlloyConfigArgs(environment=platform.environment, source=source, loki_push_url=args.loki_push_url,
                           paths=paths)


def alloy_blueprint(args: AlloyArgs) -> spec.Blueprint:
    """The log shipper: one per node (Kubernetes) or one per Docker daemon."""
    paths = AlloyPaths()
    config_text = render_alloy_config(alloy_config(args, paths))
    on_kubernetes = args.platform.log_source is LogSource.POD_LOG_FILES
    mount = (spec.HostMount(host_path=paths.pod_logs_dir, mount_path=paths.pod_logs_dir, read_only=True, node=True)
             if on_kubernetes else
             spec.HostMount(host_path="/var/run/docker.sock", mount_path=paths.docker_socket, read_only=True,
                            node=True))
    rules = tuple(spec.ApiRule(tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r["verbs"]))
                  for r in alloy_rbac_rules()) if on_kubernetes else ()
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
        container=spec.Container(
            image=args.config.image,
            resources=resources_of(args.config.resources),
            command=("/bin/alloy",),
            args=tuple(alloy_cli_args(paths)),
            config_files=(spec.ConfigFile(paths.config_file, config_text),),
            host_mounts=(mount,),
            field_env=MappingProxyType({"NODE_NAME": "spec.nodeName"} if on_kubernetes else {}),
            # Reading the Docker socket needs root; pod log files need only group 0 (kubelet: 0640).
            security=spec.Security(run_as_user=ALLOY_UID if on_kubernetes else 0, run_as_group=0,
                                   fs_group=None, scratch_paths=(paths.storage_dir, "/tmp")),
        ),
    )
    return spec.Blueprint(services=(service,))


class Alloy(BlueprintComponent):
    """The log shipper: one per node (Kubernetes) or one per Docker daemon."""

    TYPE = "dreamscape:monitoring:Alloy"
