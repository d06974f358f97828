"""Grafana Alloy (Promtail's successor) shipping container logs to Loki.

Two modes, picked by the type of `source`:
- `DockerLogSource` (dev): `discovery.docker` + `loki.source.docker` through the Docker socket, keeping
  only containers that carry the DreamScape pod label;
- `KubernetesLogSource` (prod, DaemonSet): `discovery.kubernetes` (role pod, one namespace, this node only)
  + `local.file_match` / `loki.source.file` tailing `/var/log/pods`, parsed with `stage.cri`.
Every stream is labelled pod, service and environment (`environment` as `loki.write` external label).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from components.monitoring.alloy.syntax import Attribute, Block, call, concat, ref, render_alloy
from components.monitoring.catalog import (
    K8S_COMPONENT_LABEL,
    K8S_NAME_LABEL,
    LABEL_ENVIRONMENT,
    LABEL_POD,
    LABEL_SERVICE,
    AlloyPaths,
)
from components.monitoring.prometheus.config import PolicyRule


def _sanitize(label: str) -> str:
    """How Prometheus-style discovery turns a label/annotation key into a meta label suffix."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in label)


@dataclass(frozen=True)
class DockerLogSource:
    """Container labels the Docker target sets on DreamScape containers."""

    pod_label: str = "dreamscape.pod"
    service_label: str = "dreamscape.service"


@dataclass(frozen=True)
class KubernetesLogSource:
    namespace: str
    node_name_env: str = "NODE_NAME"
    """Env var holding the node name (downward API `spec.nodeName`), so each DaemonSet pod tails its node."""


@dataclass(frozen=True)
class AlloyConfigArgs:
    environment: str
    source: DockerLogSource | KubernetesLogSource
    loki_push_url: str = "http://loki:3100/loki/api/v1/push"
    paths: AlloyPaths = field(default_factory=AlloyPaths)


def _rule(**attrs: str | list[str]) -> Block:
    return Block("rule", None, tuple(Attribute(k, v) for k, v in attrs.items()))


def _loki_write(args: AlloyConfigArgs) -> Block:
    return Block(
        "loki.write",
        "default",
        (
            Block("endpoint", None, (Attribute("url", args.loki_push_url),)),
            Attribute("external_labels", {LABEL_ENVIRONMENT: args.environment}),
        ),
    )


def _docker(args: AlloyConfigArgs, source: DockerLogSource) -> list[Block]:
    host = f"unix://{args.paths.docker_socket}"
    meta = "__meta_docker_container_label_"
    return [
        Block(
            "discovery.docker",
            "containers",
            (
                Attribute("host", host),
                Block("filter", None, (Attribute("name", "label"), Attribute("values", [source.pod_label]))),
            ),
        ),
        Block(
            "discovery.relabel",
            "containers",
            (
                Attribute("targets", []),
                _rule(source_labels=[meta + _sanitize(source.pod_label)], target_label=LABEL_POD),
                # Fallback service name: the container name without Docker's leading slash.
                _rule(
                    source_labels=["__meta_docker_container_name"], regex="/?(.*)", target_label=LABEL_SERVICE
                ),
                _rule(
                    source_labels=[meta + _sanitize(source.service_label)],
                    regex="(.+)",
                    target_label=LABEL_SERVICE,
                ),
            ),
        ),
        Block(
            "loki.source.docker",
            "containers",
            (
                Attribute("host", host),
                Attribute("targets", ref("discovery.docker.containers.targets")),
                Attribute("relabel_rules", ref("discovery.relabel.containers.rules")),
                Attribute("forward_to", [ref("loki.write.default.receiver")]),
            ),
        ),
        _loki_write(args),
    ]


def _kubernetes(args: AlloyConfigArgs, source: KubernetesLogSource) -> list[Block]:
    pod_label = "__meta_kubernetes_pod_label_"
    return [
        Block(
            "discovery.kubernetes",
            "pods",
            (
                Attribute("role", "pod"),
                Block("namespaces", None, (Attribute("names", [source.namespace]),)),
                Block(
                    "selectors",
                    None,
                    (
                        Attribute("role", "pod"),
                        Attribute("field", concat("spec.nodeName=", call("sys.env", source.node_name_env))),
                    ),
                ),
            ),
        ),
        Block(
            "discovery.relabel",
            "pods",
            (
                Attribute("targets", ref("discovery.kubernetes.pods.targets")),
                _rule(source_labels=["__meta_kubernetes_pod_phase"], regex="Pending", action="drop"),
                _rule(source_labels=[pod_label + _sanitize(K8S_NAME_LABEL)], target_label=LABEL_POD),
                _rule(source_labels=["__meta_kubernetes_pod_container_name"], target_label=LABEL_SERVICE),
                _rule(
                    source_labels=[pod_label + _sanitize(K8S_COMPONENT_LABEL)],
                    regex="(.+)",
                    target_label=LABEL_SERVICE,
                ),
                _rule(source_labels=["__meta_kubernetes_namespace"], target_label="namespace"),
                _rule(source_labels=["__meta_kubernetes_pod_name"], target_label="kubernetes_pod"),
                _rule(source_labels=["__meta_kubernetes_pod_container_name"], target_label="container"),
                # Kubelet layout: /var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log
                _rule(
                    source_labels=["__meta_kubernetes_pod_uid", "__meta_kubernetes_pod_container_name"],
                    separator="/",
                    regex="(.+)",
                    replacement=f"{args.paths.pod_logs_dir.rstrip('/')}/*$1/*.log",
                    target_label="__path__",
                ),
            ),
        ),
        Block(
            "local.file_match",
            "pods",
            (Attribute("path_targets", ref("discovery.relabel.pods.output")),),
        ),
        Block(
            "loki.source.file",
            "pods",
            (
                Attribute("targets", ref("local.file_match.pods.targets")),
                Attribute("forward_to", [ref("loki.process.pods.receiver")]),
            ),
        ),
        Block(
            "loki.process",
            "pods",
            (
                Block("stage.cri", None, ()),
                Attribute("forward_to", [ref("loki.write.default.receiver")]),
            ),
        ),
        _loki_write(args),
    ]


def alloy_blocks(args: AlloyConfigArgs) -> list[Block]:
    if isinstance(args.source, DockerLogSource):
        return _docker(args, args.source)
    return _kubernetes(args, args.source)


def render_alloy_config(args: AlloyConfigArgs) -> str:
    """config.alloy text for `AlloyPaths.config_file`."""
    return render_alloy(alloy_blocks(args))


def alloy_cli_args(paths: AlloyPaths | None = None) -> list[str]:
    p = paths or AlloyPaths()
    return [
        "run",
        f"--storage.path={p.storage_dir}",
        "--server.http.listen-addr=0.0.0.0:12345",
        p.config_file,
    ]


def alloy_rbac_rules() -> list[PolicyRule]:
    """Namespaced Role rules for `discovery.kubernetes` role pod (logs are read from the node's files)."""
    return [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]
