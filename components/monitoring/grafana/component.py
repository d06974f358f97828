"""Grafana: datasources and the five dashboards provisioned as files, admin password from a file.

Stateless on purpose: everything it shows is provisioned, so its SQLite database lives in scratch space
and the admin password (`GF_SECURITY_ADMIN_PASSWORD__FILE`, generated secret `grafanaAdmin`) is applied
on every start, which also makes rotation work. In prod it is reachable only through the cluster Service
`grafana:3000` (the TLS + auth Ingress is another component); in dev it is published on localhost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from components import spec
from components.config import ImageConfig
from components.deploy import BlueprintComponent
from components.infra.common import resources_of
from components.monitoring.common import COMPONENT, GRAFANA, GRAFANA_PORT, LOKI_URL, PROMETHEUS_URL
from components.monitoring.grafana.config import (
    DashboardArgs,
    GrafanaDatasourcesArgs,
    GrafanaPaths,
    grafana_env,
    render_dashboard_provider,
    render_dashboards,
    render_datasources,
)
from components.targets.labels import EGRESS_LABEL

UID = 472
SERVICE_NAME = GRAFANA
PASSWORD_KEY = "grafana-admin-password"


@dataclass(frozen=True, kw_only=True)
class GrafanaArgs:
    config: ImageConfig
    admin_password: pulumi.Output[str]
    pods: Mapping[str, tuple[str, ...]]
    """`pod` label -> its processes' `service` labels (components.monitoring.scrape.big_pods)."""
    standalone: tuple[str, ...] = ()
    """The scraped services outside the Big Pods (components.monitoring.scrape.standalone)."""
    scrape_interval: str = "15s"
    container_metrics: bool = False
    """Container metrics are scraped (components.monitoring.containers.collected)."""


def blueprint(args: GrafanaArgs) -> spec.Blueprint:
    """Dashboards over Prometheus and Loki."""
    password = spec.SecretFile(PASSWORD_KEY, args.admin_password)
    # Dashboards outside the data dir: the data dir is scratch space mounted over the image.
    paths = GrafanaPaths(admin_password_file=password.path, dashboards_dir="/etc/grafana/dashboards")
    datasources = GrafanaDatasourcesArgs(
        prometheus_url=PROMETHEUS_URL,
        loki_url=LOKI_URL,
        scrape_interval=args.scrape_interval,
    )
    files = (
        spec.ConfigFile(paths.datasources_file, render_datasources(datasources)),
        spec.ConfigFile(paths.dashboard_providers_file, render_dashboard_provider(paths)),
        *(spec.ConfigFile(f"{paths.dashboards_dir}/{name}", text)
          for name, text in render_dashboards(
              DashboardArgs(pods=args.pods, container_metrics=args.container_metrics,
                            standalone=args.standalone)).items()),
    )
    health = spec.Probe(http_path="/api/health", port=GRAFANA_PORT)
    service = spec.Service(
        name=SERVICE_NAME,
        component=COMPONENT,
        zone=spec.Zone.MONITORING,
        # Operators reach it through the edge, behind basic auth; dev publishes it on 3030.
        ports=(spec.Port("grafana", GRAFANA_PORT, host_port=3030, metrics_path="/metrics",
                         exposure=spec.Exposure(route="grafana", auth=True)),),
        # It faces the internet (behind the edge's auth): it may open Prometheus and Loki, nothing else.
        labels={EGRESS_LABEL: "datasources"},
        probes=spec.Probes(readiness=health, liveness=spec.Probe(http_path="/api/health", port=GRAFANA_PORT,
                                                                  period_seconds=20, failure_threshold=6)),
        container=spec.Container(
            image=args.config.image,
            resources=resources_of(args.config.resources),
            env=spec.frozen_map({**grafana_env(paths), "GF_LOG_MODE": "console",
                                 "GF_PATHS_LOGS": "/var/log/grafana"}),
            config_files=files,
            secret_files=(password,),
            security=spec.Security(run_as_user=UID, run_as_group=UID, fs_group=UID,
                                   scratch_paths=(paths.data_dir, "/var/log/grafana", "/tmp")),
        ),
    )
    return spec.Blueprint(services=(service,))


class Grafana(BlueprintComponent):
    """Dashboards over Prometheus and Loki."""

    TYPE = "dreamscape:monitoring:Grafana"
