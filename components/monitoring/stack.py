"""The monitoring stack of one environment: one parent component and one child per tool.

Prometheus scrapes the declared metrics ports of the services it is handed plus its own stack's
(exporters, Alertmanager, Grafana, Loki); dashboards are generated from the same scrape targets. How
targets are discovered and where logs come from are arguments, so no component here asks which target
it runs on.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import spec
from components.config import MonitoringConfig
from components.monitoring.alertmanager.component import Alertmanager, AlertmanagerComponentArgs, AlertReceivers
from components.monitoring.alloy.component import Alloy, AlloyArgs
from components.monitoring.alloy.config import DockerLogSource, KubernetesLogSource
from components.monitoring.common import GRAFANA_PORT, PROMETHEUS_PORT
from components.monitoring.exporters.component import ClusterState, Exporters, ExportersArgs, NginxStatus
from components.monitoring.grafana.component import Grafana, GrafanaArgs
from components.monitoring.loki.component import Loki, LokiArgs
from components.monitoring.prometheus.component import Prometheus, PrometheusArgs
from components.monitoring.prometheus.config import Discovery
from components.monitoring.prometheus.rules import BackupJob
from components.monitoring.scrape import big_pods, scrape_targets
from components.targets import Target


@dataclass(frozen=True)
class Scraped:
    """What the exporters and Prometheus need to know about the data services."""

    postgres_host: str
    postgres_port: int
    postgres_user: str
    postgres_password: pulumi.Output[str]
    redis_addresses: tuple[str, ...]
    redis_password: pulumi.Output[str]
    redis_cluster: bool
    kafka_bootstrap: str
    kafka_brokers: int
    minio_access_key: str
    minio_secret_key: pulumi.Output[str]


@dataclass(frozen=True, kw_only=True)
class MonitoringStackArgs:
    config: MonitoringConfig
    target: Target
    environment: str
    scraped: Scraped
    services: tuple[spec.Service, ...]
    """The deployed services (infrastructure and Big Pods); their declared metrics ports are scraped."""
    discovery: Discovery
    log_source: DockerLogSource | KubernetesLogSource
    grafana_admin_password: pulumi.Output[str]
    receivers: AlertReceivers
    gateways: tuple[NginxStatus, ...] = ()
    cluster_state: ClusterState | None = None
    backups: tuple[BackupJob, ...] = ()
    grafana_host_port: int | None = None
    prometheus_host_port: int | None = None


class MonitoringStack(pulumi.ComponentResource):
    """Prometheus, exporters, Alertmanager, Grafana, Loki and Alloy."""

    def __init__(self, name: str, args: MonitoringStackArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:monitoring:Stack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        config, target, data = args.config, args.target, args.scraped
        self.exporters = Exporters(f"{name}-exporters", ExportersArgs(
            config=config.exporters, target=target,
            postgres_host=data.postgres_host, postgres_port=data.postgres_port, postgres_user=data.postgres_user,
            postgres_password=data.postgres_password, redis_addresses=data.redis_addresses,
            redis_password=data.redis_password, redis_cluster=data.redis_cluster,
            kafka_bootstrap=data.kafka_bootstrap, gateways=args.gateways, cluster_state=args.cluster_state,
        ), child)
        self.alertmanager = Alertmanager(f"{name}-alertmanager", AlertmanagerComponentArgs(
            config=config.alertmanager, target=target, receivers=args.receivers,
        ), child)
        self.loki = Loki(f"{name}-loki", LokiArgs(config=config.loki, target=target), child)
        self.alloy = Alloy(f"{name}-alloy", AlloyArgs(
            config=config.alloy, target=target, environment=args.environment, source=args.log_source,
            loki_push_url=self.loki.push_url,
        ), child)
        # The dashboards' pods and processes: the same scrape view Prometheus renders its config from.
        exporters = tuple(d.service for d in self.exporters.deployed)
        self.grafana = Grafana(f"{name}-grafana", GrafanaArgs(
            config=config.grafana, target=target, admin_password=args.grafana_admin_password,
            pods=big_pods(scrape_targets((*args.services, *exporters))),
            scrape_interval=config.prometheus.scrape_interval, host_port=args.grafana_host_port,
        ), child)
        own = (*exporters, self.alertmanager.deployed.service,
               self.loki.deployed.service, self.grafana.deployed.service)
        self.prometheus = Prometheus(f"{name}-prometheus", PrometheusArgs(
            config=config.prometheus, environment=args.environment, target=target,
            services=(*args.services, *own), discovery=args.discovery,
            minio_access_key=data.minio_access_key, minio_secret_key=data.minio_secret_key,
            kafka_brokers=data.kafka_brokers, backups=args.backups, host_port=args.prometheus_host_port,
        ), child)
        self.grafana_port = GRAFANA_PORT
        self.prometheus_port = PROMETHEUS_PORT
        self.register_outputs({"prometheus": self.prometheus.url, "grafana": f"http://grafana:{GRAFANA_PORT}"})
