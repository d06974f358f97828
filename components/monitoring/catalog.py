"""What DreamScape runs and where each monitoring file lives inside its container.

Everything here is plain typed data. The generators in this package take it as arguments, so an
environment (dev on Docker, prod on k3s) changes values, never code paths.
"""

from __future__ import annotations

from dataclasses import dataclass

# The three labels every metric series and every log stream carries.
LABEL_POD = "pod"
LABEL_SERVICE = "service"
LABEL_ENVIRONMENT = "environment"
COMMON_LABELS: tuple[str, str, str] = (LABEL_POD, LABEL_SERVICE, LABEL_ENVIRONMENT)

# Kubernetes pod labels read by service discovery (Prometheus and Alloy alike).
K8S_NAME_LABEL = "app.kubernetes.io/name"
K8S_COMPONENT_LABEL = "app.kubernetes.io/component"


@dataclass(frozen=True)
class PodService:
    """One process inside a Big Pod that serves `/metrics` on its own port."""

    name: str
    port: int
    metrics_path: str = "/metrics"


@dataclass(frozen=True)
class BigPod:
    """A Big Pod: one container (Docker) or one Kubernetes pod running several services."""

    name: str
    host: str
    services: tuple[PodService, ...]


BIG_PODS: tuple[BigPod, ...] = (
    BigPod(
        name="core",
        host="core-pod",
        services=(PodService("nginx", 80), PodService("auth", 3001), PodService("user", 3002)),
    ),
    BigPod(
        name="business",
        host="business-pod",
        services=(PodService("voyage", 3003), PodService("ai", 3004), PodService("payment", 3005)),
    ),
    BigPod(
        name="experience",
        host="experience-pod",
        services=(PodService("web", 3000), PodService("panorama", 3006), PodService("gateway", 4000)),
    ),
)


@dataclass(frozen=True)
class Exporter:
    """A metrics endpoint of an infrastructure service (an exporter or a native endpoint)."""

    pod: str
    service: str
    host: str
    port: int
    metrics_path: str = "/metrics"


POSTGRES_EXPORTER = Exporter(pod="postgres", service="postgres-exporter", host="postgres-exporter", port=9187)
REDIS_EXPORTER = Exporter(pod="redis", service="redis-exporter", host="redis-exporter", port=9121)
KAFKA_EXPORTER = Exporter(pod="kafka", service="kafka-exporter", host="kafka-exporter", port=9308)
MINIO_METRICS = Exporter(
    pod="minio", service="minio", host="minio", port=9000, metrics_path="/minio/v2/metrics/cluster"
)
INFRA_EXPORTERS: tuple[Exporter, ...] = (POSTGRES_EXPORTER, REDIS_EXPORTER, KAFKA_EXPORTER)


@dataclass(frozen=True)
class PrometheusPaths:
    """Where the Prometheus container expects its files (all read-only mounts except `data_dir`)."""

    config_file: str = "/etc/prometheus/prometheus.yml"
    rules_dir: str = "/etc/prometheus/rules"
    rules_file: str = "/etc/prometheus/rules/dreamscape.rules.yml"
    minio_token_file: str = "/run/secrets/prometheus/minio-token"
    data_dir: str = "/prometheus"


@dataclass(frozen=True)
class AlertmanagerPaths:
    """Where the Alertmanager container expects its config, secret files and data."""

    config_file: str = "/etc/alertmanager/alertmanager.yml"
    slack_api_url_file: str = "/run/secrets/alertmanager/slack-api-url"
    pagerduty_routing_key_file: str = "/run/secrets/alertmanager/pagerduty-routing-key"
    smtp_password_file: str = "/run/secrets/alertmanager/smtp-password"
    data_dir: str = "/alertmanager"


@dataclass(frozen=True)
class LokiPaths:
    """Where single-binary Loki expects its config; everything else lives under `data_dir` (a volume)."""

    config_file: str = "/etc/loki/loki.yaml"
    data_dir: str = "/loki"


@dataclass(frozen=True)
class AlloyPaths:
    """Where Alloy expects its config, its WAL/positions storage and the log sources it reads."""

    config_file: str = "/etc/alloy/config.alloy"
    storage_dir: str = "/var/lib/alloy/data"
    docker_socket: str = "/var/run/docker.sock"
    pod_logs_dir: str = "/var/log/pods"


@dataclass(frozen=True)
class GrafanaPaths:
    """Grafana's provisioning tree, the dashboards folder and the admin password file."""

    datasources_file: str = "/etc/grafana/provisioning/datasources/dreamscape.yaml"
    dashboard_providers_file: str = "/etc/grafana/provisioning/dashboards/dreamscape.yaml"
    dashboards_dir: str = "/var/lib/grafana/dashboards"
    admin_password_file: str = "/run/secrets/grafana/admin-password"
    data_dir: str = "/var/lib/grafana"
