"""Grafana Alloy, the log shipper: it reads container logs and pushes them to Loki.

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

import pulumi

from components import spec
from components.config import ImageConfig
from components.infra.common import resources_of
from components.monitoring.alloy.config import (
    AlloyConfigArgs,
    AlloyPaths,
    DockerLogSource,
    KubernetesLogSource,
    alloy_cli_args,
    alloy_rbac_rules,
    render_alloy_config,
)
from components.monitoring.common import COMPONENT, LOKI_PORT
from components.targets import Deployed, Target

ALLOY_UID = 473
ALLOY_PORT = 12345


@dataclass(frozen=True)
class AlloyArgs:
    config: ImageConfig
    target: Target
    environment: str
    source: DockerLogSource | KubernetesLogSource
    """Where the logs come from: the Docker socket, or /var/log/pods on each node of one namespace."""
    loki_push_url: str = f"http://loki:{LOKI_PORT}/loki/api/v1/push"


def source_mount(source: DockerLogSource | KubernetesLogSource, paths: AlloyPaths) -> spec.HostMount:
    """The node path the source reads, mounted read-only."""
    if isinstance(source, KubernetesLogSource):
        return spec.HostMount(host_path=paths.pod_logs_dir, mount_path=paths.pod_logs_dir, read_only=True, node=True)
    return spec.HostMount(host_path=source.socket, mount_path=paths.docker_socket, read_only=True, node=True)


def source_access(source: DockerLogSource | KubernetesLogSource) -> tuple[tuple[spec.ApiRule, ...], dict[str, str]]:
    """The API rules and pod-field env the source needs (Kubernetes discovery of this node's pods)."""
    if isinstance(source, KubernetesLogSource):
        rules = tuple(spec.ApiRule(tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r["verbs"]))
                      for r in alloy_rbac_rules())
        return rules, {source.node_name_env: "spec.nodeName"}
    return (), {}


class Alloy(pulumi.ComponentResource):
    """The log shipper: one per node (Kubernetes) or one per Docker daemon."""

    def __init__(self, name: str, args: AlloyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:monitoring:Alloy", name, None, opts)
        paths = AlloyPaths()
        self.config_text = render_alloy_config(AlloyConfigArgs(
            environment=args.environment, source=args.source, loki_push_url=args.loki_push_url, paths=paths))
        rules, field_env = source_access(args.source)
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
                config_files=(spec.ConfigFile(paths.config_file, self.config_text),),
                host_mounts=(source_mount(args.source, paths),),
                field_env=MappingProxyType(field_env),
                security=spec.Security(run_as_user=ALLOY_UID, run_as_group=0, fs_group=None,
                                       scratch_paths=(paths.storage_dir, "/tmp")),
            ),
        )
        self.deployed: Deployed = args.target.deploy_service(service, self)
        self.register_outputs({"source": type(args.source).__name__})
