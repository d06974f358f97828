"""prometheus.yml, the retention flags and the namespace RBAC rules for kubernetes_sd.

The targets are `ScrapeTarget`s (components.monitoring.scrape): the declared metrics ports of the
deployed services, nothing else. How Prometheus finds their addresses is data, not an environment name:
- `StaticDiscovery` (Docker): one `static_configs` entry per target, `host:port`, with its pod / service /
  environment labels;
- `KubernetesDiscovery` (k3s): `kubernetes_sd_configs` role `pod` in one namespace. Every container
  port of every pod is a candidate; the relabelling keeps exactly the `(app.kubernetes.io/name, container
  port name)` pairs of the targets and maps each pair to the same pod / service labels the static
  configs carry, plus `kubernetes_pod` (the replica) and `node`. A database operator's members are found
  by the operator's own pod label instead, carry their `role`, and have their metric names mapped onto
  the rules' vocabulary (components.monitoring.database_metrics). Container metrics come from every
  node's kubelet, one more job (components.monitoring.containers), which needs the cluster-scoped
  `KUBELET_RULES` and the kubelet's port on the nodes.
One job per `pod` label in both modes, so `job`, `pod` and `service` mean the same everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypedDict

from components.monitoring import containers, labels
from components.monitoring._yaml import dump_yaml
from components.monitoring.common import ALERTMANAGER_ADDRESS
from components.monitoring.scrape import ScrapeTarget
from components.spec import canary_name
from components.spec.tls import CA_FILE
from components.targets.labels import TRACK_LABEL

_DURATION = re.compile(r"([0-9]+(ms|s|m|h|d|w|y))+")
_SIZE = re.compile(r"[0-9]+(B|KB|MB|GB|TB|PB|EB)")


@dataclass(frozen=True)
class PrometheusPaths:
    """Where the Prometheus container expects its files (all read-only mounts except `data_dir`)."""

    config_file: str = "/etc/prometheus/prometheus.yml"
    rules_dir: str = "/etc/prometheus/rules"
    rules_file: str = "/etc/prometheus/rules/dreamscape.rules.yml"
    minio_token_file: str = "/run/secrets/prometheus/minio-token"
    data_dir: str = "/prometheus"


def _check_duration(value: str, what: str) -> str:
    if not _DURATION.fullmatch(value):
        raise ValueError(f"{what} must be a Prometheus duration such as 15s, 30d or 1h30m, got {value!r}")
    return value


@dataclass(frozen=True)
class StaticDiscovery:
    """Targets are reachable at `host:port` (the Docker network aliases)."""


@dataclass(frozen=True)
class KubernetesDiscovery:
    """Discover the targets' pods in one namespace (`prometheus_rbac_rules()` there), and the nodes'
    kubelets for container metrics (`containers.KUBELET_RULES`, cluster-wide)."""

    namespace: str


Discovery = StaticDiscovery | KubernetesDiscovery


@dataclass(frozen=True)
class PrometheusConfigArgs:
    environment: str
    targets: tuple[ScrapeTarget, ...]
    discovery: Discovery
    alertmanager_address: str | None = ALERTMANAGER_ADDRESS
    paths: PrometheusPaths = field(default_factory=PrometheusPaths)
    scrape_interval: str = "15s"
    evaluation_interval: str = "15s"

    def __post_init__(self) -> None:
        _check_duration(self.scrape_interval, "scrape_interval")
        _check_duration(self.evaluation_interval, "evaluation_interval")
        if not self.targets:
            raise ValueError("Prometheus needs at least one declared metrics port to scrape")


@dataclass(frozen=True)
class PrometheusStorageArgs:
    """TSDB retention: `30d` in prod, something short (e.g. `2d`) in dev; optional size cap like `8GB`."""

    retention_time: str
    retention_size: str | None = None

    def __post_init__(self) -> None:
        _check_duration(self.retention_time, "retention_time")
        if self.retention_size is not None and not _SIZE.fullmatch(self.retention_size):
            raise ValueError(f"retention_size must look like 512MB or 8GB, got {self.retention_size!r}")


class PolicyRule(TypedDict):
    apiGroups: list[str]
    resources: list[str]
    verbs: list[str]


def jobs_of(targets: Iterable[ScrapeTarget]) -> dict[str, tuple[ScrapeTarget, ...]]:
    """Targets grouped by job; the members of a job must agree on path and credentials."""
    by_job: dict[str, list[ScrapeTarget]] = {}
    for target in targets:
        by_job.setdefault(target.job, []).append(target)
    for job, members in by_job.items():
        shapes = {(m.path, m.credentials_file, m.members, m.server_name) for m in members}
        if len(shapes) != 1:
            raise ValueError(f"targets of job {job!r} disagree on metrics path, credentials, members or TLS: "
                             f"{sorted(shapes, key=str)}")
    return {job: tuple(members) for job, members in by_job.items()}


def _job_head(job: str, first: ScrapeTarget) -> dict[str, object]:
    scrape: dict[str, object] = {"job_name": job, "metrics_path": first.path,
                                 "scheme": "http" if first.server_name is None else "https"}
    if first.server_name is not None:
        # Kubernetes discovery dials pod IPs: the certificate is checked for the service's name instead.
        scrape["tls_config"] = {"ca_file": CA_FILE, "server_name": first.server_name,
                                "insecure_skip_verify": False}
    if first.credentials_file is not None:
        scrape["authorization"] = {"type": "Bearer", "credentials_file": first.credentials_file}
    if first.path == containers.METRICS_PATH:
        scrape["metric_relabel_configs"] = containers.metric_relabel_configs()
    if first.members is not None:
        scrape["metric_relabel_configs"] = [dict(rule) for rule in first.members.metric_relabel]
    return scrape


def _static_job(job: str, members: tuple[ScrapeTarget, ...], environment: str) -> dict[str, object]:
    scrape = _job_head(job, members[0])
    scrape["static_configs"] = [
        {
            "targets": [m.address],
            "labels": {labels.POD: m.pod, labels.SERVICE: m.service, labels.ENVIRONMENT: environment},
        }
        for m in members
    ]
    return scrape


def meta_pod_label(label: str) -> str:
    """`app.kubernetes.io/name` -> `__meta_kubernetes_pod_label_app_kubernetes_io_name`."""
    return "__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", label)


PORT_NAME_META = "__meta_kubernetes_pod_container_port_name"


def _pair(target: ScrapeTarget) -> str:
    """`<name>;<port>`, where the name is the service's or, when it runs one, its canary's."""
    host = re.escape(target.host)
    if target.canary:
        host = f"(?:{host}|{re.escape(canary_name(target.host))})"
    return f"{host};{re.escape(target.port_name)}"


def _kubernetes_job(job: str, members: tuple[ScrapeTarget, ...], discovery: KubernetesDiscovery,
                    environment: str) -> dict[str, object]:
    members_of = members[0].members
    host_label = members_of.host_label if members_of is not None else labels.NAME_LABEL
    pair_sources = [meta_pod_label(host_label), PORT_NAME_META]
    relabel: list[dict[str, object]] = [
        # Only the declared metrics ports: every other container port of the pod is not a target.
        {"source_labels": pair_sources, "separator": ";", "action": "keep",
         "regex": "|".join(_pair(m) for m in members)},
        # Pending pods have no address yet; finished or failed pods keep their IP for a while.
        {"source_labels": ["__meta_kubernetes_pod_phase"], "action": "drop", "regex": "Pending|Succeeded|Failed"},
    ]
    for m in members:
        for label, value in ((labels.POD, m.pod), (labels.SERVICE, m.service)):
            relabel.append({"source_labels": pair_sources, "separator": ";", "regex": _pair(m),
                            "action": "replace", "target_label": label, "replacement": value})
    # An operator's members: each one's role (primary or replica) on its series.
    relabel += [{"source_labels": [meta_pod_label(pod_label)], "action": "replace", "target_label": series_label}
                for pod_label, series_label in (members_of.member_labels.items() if members_of else ())]
    if any(m.canary for m in members):
        # A canary's series keep its pod's `pod` and `service` values and gain `track="canary"`.
        relabel.append({"source_labels": [meta_pod_label(TRACK_LABEL)], "action": "replace",
                        "target_label": TRACK_LABEL})
    relabel += [
        {"action": "replace", "replacement": environment, "target_label": labels.ENVIRONMENT},
        {"source_labels": ["__meta_kubernetes_pod_name"], "action": "replace",
         "target_label": labels.KUBERNETES_POD},
        {"source_labels": ["__meta_kubernetes_pod_node_name"], "action": "replace", "target_label": labels.NODE},
    ]
    scrape = _job_head(job, members[0])
    scrape["kubernetes_sd_configs"] = [{"role": "pod", "namespaces": {"names": [discovery.namespace]}}]
    scrape["relabel_configs"] = relabel
    return scrape


def prometheus_config(args: PrometheusConfigArgs) -> dict[str, object]:
    """prometheus.yml as plain data (see `render_prometheus_config`)."""
    document: dict[str, object] = {
        "global": {
            "scrape_interval": args.scrape_interval,
            "evaluation_interval": args.evaluation_interval,
            # Only added when talking to Alertmanager/remote storage; series get `environment` via targets.
            "external_labels": {labels.ENVIRONMENT: args.environment},
        },
        "rule_files": [args.paths.rules_file],
    }
    if args.alertmanager_address is not None:
        document["alerting"] = {
            "alertmanagers": [{"static_configs": [{"targets": [args.alertmanager_address]}]}]
        }
    discovery = args.discovery
    jobs = jobs_of(args.targets)
    scrape_configs = [
        _kubernetes_job(job, members, discovery, args.environment) if isinstance(discovery, KubernetesDiscovery)
        else _static_job(job, members, args.environment)
        for job, members in jobs.items()
    ]
    if isinstance(discovery, KubernetesDiscovery):
        if containers.KUBELET_JOB in jobs:
            raise ValueError(f"a service's pod label is {containers.KUBELET_JOB!r}, the kubelets' job name")
        scrape_configs.append(containers.kubelet_job(discovery.namespace, args.environment, args.targets))
    document["scrape_configs"] = scrape_configs
    return document


def render_prometheus_config(args: PrometheusConfigArgs) -> str:
    """prometheus.yml text. Secrets are referenced by file path only (`authorization.credentials_file`)."""
    return dump_yaml(prometheus_config(args))


def prometheus_cli_flags(
    storage: PrometheusStorageArgs, paths: PrometheusPaths | None = None, enable_lifecycle: bool = False
) -> list[str]:
    """Container args: config file, TSDB path and retention (`--storage.tsdb.retention.time=30d`)."""
    p = paths or PrometheusPaths()
    flags = [
        f"--config.file={p.config_file}",
        f"--storage.tsdb.path={p.data_dir}",
        f"--storage.tsdb.retention.time={storage.retention_time}",
    ]
    if storage.retention_size is not None:
        flags.append(f"--storage.tsdb.retention.size={storage.retention_size}")
    if enable_lifecycle:
        flags.append("--web.enable-lifecycle")
    return flags


def prometheus_rbac_rules() -> list[PolicyRule]:
    """The namespaced Role rules kubernetes_sd needs: read pods, services, endpoints, endpointslices."""
    read = ["get", "list", "watch"]
    return [
        {"apiGroups": [""], "resources": ["pods", "services", "endpoints"], "verbs": list(read)},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": list(read)},
    ]
