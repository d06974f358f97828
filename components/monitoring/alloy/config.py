"""Grafana Alloy (Promtail's successor) shipping container logs to Loki.

On Docker it also serves container metrics (components.monitoring.containers) for Prometheus to scrape.

Two sources, picked by the type of `source` (the environment says which one its target has):
- `DockerLogSource` (dev): `discovery.docker` + `loki.source.docker` through the Docker socket, keeping
  only containers that carry the service-name label;
- `KubernetesLogSource` (prod, DaemonSet): `discovery.kubernetes` (role pod, one namespace, this node only)
  + `local.file_match` / `loki.source.file` tailing `/var/log/pods`, parsed with `stage.cri`.

Labels (components.monitoring.labels), the same values the metrics carry:
- `pod`: the Big Pod label (`dreamscape.io/pod`) when the workload has one, else the service name;
- `service`: the service name, and inside a Big Pod the process that wrote the line. supervisord merges
  its programs' output into one stream, so the process is read from the line: a `<service>: ` prefix (the
  reference application's), a JSON log line's `service` field, or NGINX's access/error log shape. A Big
  Pod line that matches none keeps `service=<pod>-pod` (the workload), never a made-up name;
- `environment` (a `loki.write` external label) and `level` (JSON `level`, a `level=` pair or NGINX's
  `[error]`), when the line says it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from components.monitoring import containers, labels
from components.monitoring.alloy.syntax import Attribute, Block, call, concat, ref, render_alloy
from components.monitoring.common import LOKI_PUSH_URL
from components.monitoring.prometheus.config import PolicyRule


@dataclass(frozen=True)
class AlloyPaths:
    """Where Alloy expects its config, its WAL/positions storage and the log sources it reads."""

    config_file: str = "/etc/alloy/config.alloy"
    storage_dir: str = "/var/lib/alloy/data"
    docker_socket: str = "/var/run/docker.sock"
    pod_logs_dir: str = "/var/log/pods"
    cgroup_dir: str = "/sys/fs/cgroup"
    """The host's cgroup files, which cAdvisor reads each container's usage from on Docker (a container's
    own `/sys/fs/cgroup` shows only itself; the rest of `/sys` is the host's already)."""


def _sanitize(label: str) -> str:
    """How Prometheus-style discovery turns a label/annotation key into a meta label suffix."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in label)


@dataclass(frozen=True)
class DockerLogSource:
    """Logs of the local Docker daemon's containers, read through its socket."""

    name_label: str = labels.NAME_LABEL
    """The service-name label the Docker target sets on every container."""
    pod_label: str = labels.BIG_POD_LABEL
    socket: str = "/var/run/docker.sock"
    """The socket on the machine (mounted read-only at `AlloyPaths.docker_socket`)."""


@dataclass(frozen=True)
class KubernetesLogSource:
    namespace: str
    node_name_env: str = "NODE_NAME"
    """Env var holding the node name (downward API `spec.nodeName`), so each DaemonSet pod tails its node."""
    pod_label: str = labels.BIG_POD_LABEL


@dataclass(frozen=True)
class AlloyConfigArgs:
    environment: str
    source: DockerLogSource | KubernetesLogSource
    loki_push_url: str = LOKI_PUSH_URL
    paths: AlloyPaths = field(default_factory=AlloyPaths)


PROCESS_PREFIX = r"^(?P<service>[a-z][a-z0-9-]*): "
"""`auth: listening on 0.0.0.0:3001 ...`: the service's name in front of the line, as the reference
application's services write it."""
NGINX_ACCESS = r'^\S+ \S+ \S+ \[[^\]]+\] "[A-Z]+ \S+ [^"]*" \d{3} '
"""NGINX's `combined` access log line."""
NGINX_ERROR = r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} \[(?P<level>[a-z]+)\] "
"""NGINX's error log line: `2026/11/29 06:00:00 [error] 12#12: ...`."""
LEVEL_PAIR = r'\blevel[=:] ?"?(?P<level>[A-Za-z]+)'


def _rule(**attrs: str | list[str]) -> Block:
    return Block("rule", None, tuple(Attribute(k, v) for k, v in attrs.items()))


def _pod_rules(meta: str, source_pod_label: str, name_label: str) -> list[Block]:
    """pod = the Big Pod label, else the service name; service = the service name (refined per line)."""
    return [
        _rule(source_labels=[meta + _sanitize(name_label)], target_label=labels.POD),
        _rule(source_labels=[meta + _sanitize(source_pod_label)], regex="(.+)", target_label=labels.POD),
        _rule(source_labels=[meta + _sanitize(name_label)], target_label=labels.SERVICE),
    ]


def _static(value: str) -> Block:
    return Block("stage.static_labels", None, (Attribute("values", {labels.SERVICE: value}),))


def _line_stages() -> list[Block]:
    """Per-line labels: the process (`service`) and `level` (see the module docstring)."""
    return [
        Block("stage.regex", None, (Attribute("expression", PROCESS_PREFIX),)),
        Block("stage.json", None, (Attribute("expressions", {labels.SERVICE: "", labels.LEVEL: ""}),)),
        Block("stage.match", None, (
            Attribute("selector", f'{{{labels.SERVICE}=~".+-pod"}} |~ `{NGINX_ACCESS}`'),
            _static("nginx"),
        )),
        Block("stage.match", None, (
            Attribute("selector", f'{{{labels.SERVICE}=~".+-pod"}} |~ `{NGINX_ERROR}`'),
            _static("nginx"),
            Block("stage.regex", None, (Attribute("expression", NGINX_ERROR),)),
        )),
        Block("stage.regex", None, (Attribute("expression", LEVEL_PAIR),)),
        Block("stage.labels", None, (Attribute("values", {labels.SERVICE: "", labels.LEVEL: ""}),)),
    ]


def _process(args: AlloyConfigArgs, cri: bool) -> Block:
    return Block("loki.process", "lines", (
        Attribute("forward_to", [ref("loki.write.default.receiver")]),
        *([Block("stage.cri", None, ())] if cri else []),
        *_line_stages(),
    ))


def _loki_write(args: AlloyConfigArgs) -> Block:
    return Block(
        "loki.write",
        "default",
        (
            Block("endpoint", None, (Attribute("url", args.loki_push_url),)),
            Attribute("external_labels", {labels.ENVIRONMENT: args.environment}),
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
                Block("filter", None, (Attribute("name", "label"), Attribute("values", [source.name_label]))),
            ),
        ),
        Block(
            "discovery.relabel",
            "containers",
            (Attribute("targets", []), *_pod_rules(meta, source.pod_label, source.name_label)),
        ),
        Block(
            "loki.source.docker",
            "containers",
            (
                Attribute("host", host),
                Attribute("targets", ref("discovery.docker.containers.targets")),
                Attribute("relabel_rules", ref("discovery.relabel.containers.rules")),
                Attribute("forward_to", [ref("loki.process.lines.receiver")]),
            ),
        ),
        _process(args, cri=False),
        _loki_write(args),
        _cadvisor(host),
    ]


def _cadvisor(docker_host: str) -> Block:
    """Container metrics of the Docker daemon's containers (components.monitoring.containers): only
    Docker containers, and only the workload labels copied onto their series."""
    return Block(containers.EXPORTER_COMPONENT, containers.EXPORTER_LABEL, (
        Attribute("docker_host", docker_host),
        Attribute("docker_only", True),
        Attribute("store_container_labels", False),
        Attribute("allowlisted_container_labels", list(containers.ALLOWLISTED_LABELS)),
    ))


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
                *_pod_rules(pod_label, source.pod_label, labels.NAME_LABEL),
                _rule(source_labels=["__meta_kubernetes_pod_name"], target_label=labels.KUBERNETES_POD),
                _rule(source_labels=["__meta_kubernetes_pod_node_name"], target_label=labels.NODE),
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
                Attribute("forward_to", [ref("loki.process.lines.receiver")]),
            ),
        ),
        _process(args, cri=True),
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
