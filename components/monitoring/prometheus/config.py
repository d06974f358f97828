"""prometheus.yml, the retention flags and the namespace RBAC rules for kubernetes_sd.

Two discovery modes, chosen by data rather than by environment name:
- static targets (Docker dev): every `ScrapeTarget` becomes one `static_configs` entry labelled with
  pod / service / environment;
- `kubernetes_sd_configs` (k3s prod): role `pod` in one namespace, opt-in by the annotation
  `prometheus.io/scrape: "true"`. Every declared container port becomes a target, so the three services of
  a Big Pod are scraped separately; `prometheus.io/port` pins one port and `prometheus.io/path` changes the
  path. Labels: `pod` <- `app.kubernetes.io/name`; `service` <- the container port name, else
  `app.kubernetes.io/component`, else `app.kubernetes.io/name` (name Big Pod ports after their service).
Both modes can be combined, e.g. prod adds MinIO as a static target because it needs a bearer token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypedDict

from components.monitoring._yaml import dump_yaml
from components.monitoring.catalog import (
    BIG_PODS,
    INFRA_EXPORTERS,
    K8S_COMPONENT_LABEL,
    K8S_NAME_LABEL,
    LABEL_ENVIRONMENT,
    LABEL_POD,
    LABEL_SERVICE,
    MINIO_METRICS,
    BigPod,
    Exporter,
    PrometheusPaths,
)

_DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
_SIZE = re.compile(r"^\d+(B|KB|MB|GB|TB|PB|EB)$")


def _check_duration(value: str, what: str) -> str:
    if not _DURATION.match(value):
        raise ValueError(f"{what} must be a Prometheus duration such as 15s, 30d or 1h30m, got {value!r}")
    return value


@dataclass(frozen=True)
class ScrapeTarget:
    """One static target. Targets that share a `job` must share path, scheme and credentials."""

    job: str
    pod: str
    service: str
    address: str
    metrics_path: str = "/metrics"
    scheme: str = "http"
    credentials_file: str | None = None
    """Bearer token file (container path); rendered as `authorization.credentials_file`."""


@dataclass(frozen=True)
class KubernetesDiscovery:
    """Discover annotated pods in one namespace (needs only `prometheus_rbac_rules()` in that namespace)."""

    namespace: str


@dataclass(frozen=True)
class PrometheusConfigArgs:
    environment: str
    static_targets: tuple[ScrapeTarget, ...] = ()
    kubernetes: KubernetesDiscovery | None = None
    alertmanager_address: str | None = "alertmanager:9093"
    paths: PrometheusPaths = field(default_factory=PrometheusPaths)
    scrape_interval: str = "15s"
    evaluation_interval: str = "15s"

    def __post_init__(self) -> None:
        _check_duration(self.scrape_interval, "scrape_interval")
        _check_duration(self.evaluation_interval, "evaluation_interval")
        if not self.static_targets and self.kubernetes is None:
            raise ValueError("Prometheus needs static targets, Kubernetes discovery, or both")


@dataclass(frozen=True)
class PrometheusStorageArgs:
    """TSDB retention: `30d` in prod, something short (e.g. `2d`) in dev; optional size cap like `8GB`."""

    retention_time: str
    retention_size: str | None = None

    def __post_init__(self) -> None:
        _check_duration(self.retention_time, "retention_time")
        if self.retention_size is not None and not _SIZE.match(self.retention_size):
            raise ValueError(f"retention_size must look like 512MB or 8GB, got {self.retention_size!r}")


class PolicyRule(TypedDict):
    apiGroups: list[str]
    resources: list[str]
    verbs: list[str]


def docker_scrape_targets(
    pods: Iterable[BigPod] = BIG_PODS,
    exporters: Iterable[Exporter] = INFRA_EXPORTERS,
    minio: Exporter | None = MINIO_METRICS,
    minio_token_file: str = PrometheusPaths().minio_token_file,
    include_self: bool = True,
) -> tuple[ScrapeTarget, ...]:
    """The dev (Docker) catalogue: `<pod>-pod:<port>` per service, the exporters, MinIO with its token."""
    targets: list[ScrapeTarget] = [
        ScrapeTarget(
            job=f"{pod.name}-pod",
            pod=pod.name,
            service=svc.name,
            address=f"{pod.host}:{svc.port}",
            metrics_path=svc.metrics_path,
        )
        for pod in pods
        for svc in pod.services
    ]
    targets += [
        ScrapeTarget(
            job=e.service,
            pod=e.pod,
            service=e.service,
            address=f"{e.host}:{e.port}",
            metrics_path=e.metrics_path,
        )
        for e in exporters
    ]
    if minio is not None:
        targets.append(
            ScrapeTarget(
                job=minio.service,
                pod=minio.pod,
                service=minio.service,
                address=f"{minio.host}:{minio.port}",
                metrics_path=minio.metrics_path,
                credentials_file=minio_token_file,
            )
        )
    if include_self:
        targets.append(
            ScrapeTarget(job="prometheus", pod="monitoring", service="prometheus", address="localhost:9090")
        )
    return tuple(targets)


def _static_jobs(targets: tuple[ScrapeTarget, ...], environment: str) -> list[dict[str, object]]:
    by_job: dict[str, list[ScrapeTarget]] = {}
    for target in targets:
        by_job.setdefault(target.job, []).append(target)
    jobs: list[dict[str, object]] = []
    for job, members in by_job.items():
        first = members[0]
        shape = (first.metrics_path, first.scheme, first.credentials_file)
        if any((m.metrics_path, m.scheme, m.credentials_file) != shape for m in members):
            raise ValueError(f"targets of job {job!r} disagree on metrics_path, scheme or credentials_file")
        scrape: dict[str, object] = {
            "job_name": job,
            "metrics_path": first.metrics_path,
            "scheme": first.scheme,
        }
        if first.credentials_file is not None:
            scrape["authorization"] = {"type": "Bearer", "credentials_file": first.credentials_file}
        scrape["static_configs"] = [
            {
                "targets": [m.address],
                "labels": {LABEL_POD: m.pod, LABEL_SERVICE: m.service, LABEL_ENVIRONMENT: environment},
            }
            for m in members
        ]
        jobs.append(scrape)
    return jobs


def _meta_pod_label(label: str) -> str:
    """`app.kubernetes.io/name` -> `__meta_kubernetes_pod_label_app_kubernetes_io_name`."""
    return "__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", label)


def _meta_annotation(annotation: str) -> str:
    return "__meta_kubernetes_pod_annotation_" + re.sub(r"[^a-zA-Z0-9_]", "_", annotation)


def _kubernetes_job(discovery: KubernetesDiscovery, environment: str) -> dict[str, object]:
    scrape_ann = _meta_annotation("prometheus.io/scrape")
    port_ann = _meta_annotation("prometheus.io/port")
    path_ann = _meta_annotation("prometheus.io/path")
    name_label = _meta_pod_label(K8S_NAME_LABEL)
    component_label = _meta_pod_label(K8S_COMPONENT_LABEL)
    relabel: list[dict[str, object]] = [
        # Opt-in only.
        {"source_labels": [scrape_ann], "action": "keep", "regex": "true"},
        # Pods that declare no port yield one port-less target; scrape only declared ports.
        {"source_labels": ["__meta_kubernetes_pod_container_port_number"], "action": "keep", "regex": ".+"},
        # Finished or failed pods keep their IP for a while; don't scrape them.
        {"source_labels": ["__meta_kubernetes_pod_phase"], "action": "drop", "regex": "Succeeded|Failed"},
        {
            "source_labels": [path_ann],
            "action": "replace",
            "regex": "(.+)",
            "target_label": "__metrics_path__",
        },
        # prometheus.io/port pins one port: every container port then maps to the same address and
        # Prometheus de-duplicates the identical targets.
        {
            "source_labels": ["__address__", port_ann],
            "action": "replace",
            "regex": r"([^:]+)(?::\d+)?;(\d+)",
            "replacement": "$1:$2",
            "target_label": "__address__",
        },
        {"source_labels": [name_label], "action": "replace", "target_label": LABEL_POD},
        {"source_labels": [name_label], "action": "replace", "target_label": LABEL_SERVICE},
        {
            "source_labels": [component_label],
            "action": "replace",
            "regex": "(.+)",
            "target_label": LABEL_SERVICE,
        },
        # Without a pinned port, each named container port is its own service (auth, user, ...).
        {
            "source_labels": [port_ann, "__meta_kubernetes_pod_container_port_name"],
            "action": "replace",
            "regex": ";(.+)",
            "target_label": LABEL_SERVICE,
        },
        {"action": "replace", "replacement": environment, "target_label": LABEL_ENVIRONMENT},
        {"source_labels": ["__meta_kubernetes_namespace"], "action": "replace", "target_label": "namespace"},
        {
            "source_labels": ["__meta_kubernetes_pod_name"],
            "action": "replace",
            "target_label": "kubernetes_pod",
        },
    ]
    return {
        "job_name": "kubernetes-pods",
        "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [discovery.namespace]}}],
        "relabel_configs": relabel,
    }


def prometheus_config(args: PrometheusConfigArgs) -> dict[str, object]:
    """prometheus.yml as plain data (see `render_prometheus_config`)."""
    document: dict[str, object] = {
        "global": {
            "scrape_interval": args.scrape_interval,
            "evaluation_interval": args.evaluation_interval,
            # Only added when talking to Alertmanager/remote storage; series get `environment` via targets.
            "external_labels": {LABEL_ENVIRONMENT: args.environment},
        },
        "rule_files": [args.paths.rules_file],
    }
    if args.alertmanager_address is not None:
        document["alerting"] = {
            "alertmanagers": [{"static_configs": [{"targets": [args.alertmanager_address]}]}]
        }
    jobs = _static_jobs(args.static_targets, args.environment)
    if args.kubernetes is not None:
        jobs.append(_kubernetes_job(args.kubernetes, args.environment))
    names = [str(job["job_name"]) for job in jobs]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate scrape job names: {sorted(names)}")
    document["scrape_configs"] = jobs
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
