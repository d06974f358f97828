"""The monitoring stack of one environment: one parent component and one child per tool.

`blueprints` builds every tool's blueprint before anything is registered. Prometheus scrapes the metrics
ports declared by every other service of the environment and by the monitoring tools themselves, and the
dashboards are generated from the same scrape view, so a new service with a metrics port is scraped and
charted without a list to update. How targets are discovered and where logs come from are the platform's
answers; no component here asks which target it runs on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi

from components import spec
from components.config import MonitoringConfig
from components.deploy import BlueprintArgs, Deployments
from components.monitoring import containers
from components.monitoring.alertmanager import component as alertmanager
from components.monitoring.alertmanager.component import Alertmanager, AlertmanagerComponentArgs, AlertReceivers
from components.monitoring.alloy.component import Alloy, AlloyArgs, alloy_blueprint
from components.monitoring.exporters import component as exporters
from components.monitoring.exporters.component import ClusterState, Exporters, ExportersArgs, NginxStatus
from components.monitoring.grafana import component as grafana
from components.monitoring.grafana.component import Grafana, GrafanaArgs
from components.monitoring.loki.component import Loki, LokiArgs, loki_blueprint
from components.monitoring.prometheus import component as prometheus
from components.monitoring.prometheus.component import Prometheus, PrometheusArgs
from components.monitoring.prometheus.rules import BackupJob, RestoreCheck, Slo
from components.monitoring.scrape import big_pods, scrape_targets, standalone
from components.targets import PlatformFacts, Target


@dataclass(frozen=True, kw_only=True)
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
class MonitoringInputs:
    config: MonitoringConfig
    platform: PlatformFacts
    data: Scraped
    services: tuple[spec.Service, ...]
    """Every other service of the environment (Prometheus scrapes their declared metrics ports)."""
    grafana_admin_password: pulumi.Output[str]
    receivers: AlertReceivers
    gateways: tuple[NginxStatus, ...] = ()
    """The Big Pods' NGINX status pages (one nginx-prometheus-exporter each)."""
    backups: tuple[BackupJob, ...] = ()
    """Scheduled backups whose last success is alerted on."""
    restore_checks: tuple[RestoreCheck, ...] = ()
    """Scheduled restores of the off-site archive whose last success is recorded and alerted on."""


@dataclass(frozen=True, kw_only=True)
class MonitoringBlueprints:
    exporters: spec.Blueprint
    alertmanager: spec.Blueprint
    prometheus: spec.Blueprint
    loki: spec.Blueprint
    alloy: spec.Blueprint
    grafana: spec.Blueprint

    def all(self) -> tuple[spec.Blueprint, ...]:
        return (self.exporters, self.alertmanager, self.prometheus, self.loki, self.alloy, self.grafana)

    def map_services(self, change: Callable[[spec.Service], spec.Service]) -> MonitoringBlueprints:
        return MonitoringBlueprints(
            exporters=self.exporters.map_services(change), alertmanager=self.alertmanager.map_services(change),
            prometheus=self.prometheus.map_services(change), loki=self.loki.map_services(change),
            alloy=self.alloy.map_services(change), grafana=self.grafana.map_services(change))


def cluster_state(platform: PlatformFacts) -> ClusterState | None:
    """kube-state-metrics where the platform has a cluster API with namespaces; nothing elsewhere."""
    return ClusterState(namespace=platform.namespace) if platform.namespace is not None else None


def serves_own_metrics(services: tuple[spec.Service, ...]) -> bool:
    """A database service declares its own metrics port (its operator's members serve it), so no exporter
    needs to read it."""
    return any(s.database is not None and s.metrics_ports for s in services)


def blueprints(inputs: MonitoringInputs) -> MonitoringBlueprints:
    config, data = inputs.config, inputs.data
    exporter_services = exporters.blueprint(ExportersArgs(
        config=config.exporters,
        postgres_host=data.postgres_host, postgres_port=data.postgres_port, postgres_user=data.postgres_user,
        postgres_password=data.postgres_password, redis_addresses=data.redis_addresses,
        redis_password=data.redis_password, redis_cluster=data.redis_cluster,
        kafka_bootstrap=data.kafka_bootstrap, gateways=inputs.gateways, cluster_state=cluster_state(inputs.platform),
        postgres_exporter=not serves_own_metrics(inputs.services),
        transit_tls=inputs.platform.transit_tls,
    ))
    alerting = alertmanager.blueprint(AlertmanagerComponentArgs(config=config.alertmanager,
                                                                receivers=inputs.receivers))
    loki = loki_blueprint(LokiArgs(config=config.loki))
    alloy = alloy_blueprint(AlloyArgs(config=config.alloy, platform=inputs.platform))
    # The dashboards' pods and processes: the same scrape view Prometheus renders its config from.
    scraped = scrape_targets((*inputs.services, *exporter_services.services))
    pods = big_pods(scraped)
    container_metrics = containers.collected(scrape_targets(alloy.services),
                                             kubelets=prometheus.scrapes_kubelets(inputs.platform))
    dashboards = grafana.blueprint(GrafanaArgs(config=config.grafana, admin_password=inputs.grafana_admin_password,
                                               pods=pods, standalone=standalone(scraped),
                                               scrape_interval=config.prometheus.scrape_interval,
                                               container_metrics=container_metrics))
    own = spec.all_services([exporter_services, alerting, loki, alloy, dashboards])
    metrics = prometheus.blueprint(PrometheusArgs(
        config=config.prometheus, platform=inputs.platform, services=(*inputs.services, *own),
        minio_access_key=data.minio_access_key, minio_secret_key=data.minio_secret_key,
        kafka_brokers=data.kafka_brokers, backups=inputs.backups, restore_checks=inputs.restore_checks,
        slo=Slo(availability=config.slo.availability, latency_seconds=config.slo.latency_seconds),
    ))
    return MonitoringBlueprints(exporters=exporter_services, alertmanager=alerting, prometheus=metrics,
                                loki=loki, alloy=alloy, grafana=dashboards)


@dataclass(frozen=True, kw_only=True)
class MonitoringStackArgs:
    blueprints: MonitoringBlueprints
    target: Target
    deployments: Deployments


class MonitoringStack(pulumi.ComponentResource):
    """Prometheus, exporters, Alertmanager, Grafana, Loki and Alloy."""

    def __init__(self, name: str, args: MonitoringStackArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:monitoring:Stack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        plans = args.blueprints

        def deploy(blueprint: spec.Blueprint) -> BlueprintArgs:
            return BlueprintArgs(blueprint=blueprint, target=args.target, deployments=args.deployments)

        self.exporters = Exporters(f"{name}-exporters", deploy(plans.exporters), child)
        self.alertmanager = Alertmanager(f"{name}-alertmanager", deploy(plans.alertmanager), child)
        self.prometheus = Prometheus(f"{name}-prometheus", deploy(plans.prometheus), child)
        self.loki = Loki(f"{name}-loki", deploy(plans.loki), child)
        self.alloy = Alloy(f"{name}-alloy", deploy(plans.alloy), child)
        self.grafana = Grafana(f"{name}-grafana", deploy(plans.grafana), child)
        self.register_outputs({"services": sorted(s.name for s in spec.all_services(plans.all()))})
