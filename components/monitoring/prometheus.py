"""Prometheus: TSDB on a data volume, config and rules as mounted files, two discovery modes.

- Docker (dev): static targets by service name (`postgres-exporter:9187`, `core-pod:3001`, ...). Every
  service is reachable by its name on its zone's network, so Prometheus joins every zone (`reaches`).
- Kubernetes (prod, review): `kubernetes_sd` (role pod) in the environment's namespace, opt-in by the
  `prometheus.io/scrape` annotation, with a namespace Role (`spec.ApiRule`) to list pods/endpoints.
MinIO is a static target in both: its metrics need a bearer token (see `common.minio_prometheus_token`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import spec
from components.config import PrometheusConfig
from components.deploy import BlueprintComponent
from components.infra.common import resources_of
from components.infra.minio import NAME as MINIO_SERVICE
from components.monitoring.common import COMPONENT, NOBODY, PROMETHEUS_PORT, minio_prometheus_token
from components.monitoring.config import (
    KubernetesDiscovery,
    PrometheusConfigArgs,
    PrometheusPaths,
    PrometheusStorageArgs,
    RulesArgs,
    ScrapeTarget,
    prometheus_cli_flags,
    prometheus_rbac_rules,
    render_alert_rules,
    render_prometheus_config,
)
from components.targets import Discovery, PlatformFacts

TOKEN_KEY = "prometheus-minio-token"


@dataclass(frozen=True, kw_only=True)
class PrometheusArgs:
    config: PrometheusConfig
    platform: PlatformFacts
    scraped: tuple[spec.Service, ...]
    """Every service of the environment; the ports that declare a metrics path are the targets."""
    minio_access_key: str
    minio_secret_key: pulumi.Output[str]
    kafka_brokers: int = 1


def scrape_targets(services: tuple[spec.Service, ...], minio_token_file: str) -> tuple[ScrapeTarget, ...]:
    """One static target per declared metrics port: job = service, pod = the Big Pod (or the service),
    service = the port's process. MinIO's endpoint needs its bearer token."""
    return tuple(
        ScrapeTarget(
            job=service.name,
            pod=service.labels.get("dreamscape.io/pod", service.name),
            service=port.name,
            address=f"{service.host}:{port.number}",
            metrics_path=port.metrics_path or "/metrics",
            credentials_file=minio_token_file if service.name == MINIO_SERVICE else None,
        )
        for service in services
        for port in service.metrics_ports
    )


def api_rules() -> tuple[spec.ApiRule, ...]:
    return tuple(
        spec.ApiRule(api_groups=tuple(r["apiGroups"]), resources=tuple(r["resources"]), verbs=tuple(r["verbs"]))
        for r in prometheus_rbac_rules()
    )


def config_args(args: PrometheusArgs, token_file: str) -> PrometheusConfigArgs:
    """Static targets on Docker; kubernetes_sd plus MinIO (token-authenticated) on Kubernetes."""
    platform = args.platform
    itself = ScrapeTarget(job="prometheus", pod="prometheus", service="prometheus",
                          address=f"localhost:{PROMETHEUS_PORT}")
    targets = (*scrape_targets(args.scraped, token_file), itself)
    if platform.discovery is Discovery.KUBERNETES_PODS and platform.namespace is not None:
        return PrometheusConfigArgs(
            environment=platform.environment,
            static_targets=tuple(t for t in targets if t.job == MINIO_SERVICE),
            kubernetes=KubernetesDiscovery(namespace=platform.namespace),
            scrape_interval=args.config.scrape_interval,
        )
    return PrometheusConfigArgs(environment=platform.environment, static_targets=targets,
                                scrape_interval=args.config.scrape_interval)


def blueprint(args: PrometheusArgs) -> spec.Blueprint:
    """Metrics collection, alert rule evaluation, and the TSDB."""
    token = spec.SecretFile(
        TOKEN_KEY,
        pulumi.Output.secret(args.minio_secret_key.apply(
            lambda key: minio_prometheus_token(args.minio_access_key, key))),
    )
    paths = PrometheusPaths(minio_token_file=token.path)
    config_text = render_prometheus_config(config_args(args, token.path))
    rules_text = render_alert_rules(RulesArgs(expected_kafka_brokers=args.kafka_brokers))
    ready = spec.Probe(http_path="/-/ready", port=PROMETHEUS_PORT, period_seconds=10)
    service = spec.Service(
        name="prometheus",
        component=COMPONENT,
        zone=spec.Zone.MONITORING,
        # Static targets live in every zone; on Docker that means joining every zone's network.
        reaches=frozenset(spec.Zone),
        kind=spec.WorkloadKind.STATEFUL,
        ports=(spec.Port("prometheus", PROMETHEUS_PORT, host_port=PROMETHEUS_PORT, metrics_path="/metrics"),),
        volumes=(spec.DataVolume("data", paths.data_dir, args.config.storage),),
        probes=spec.Probes(
            readiness=ready,
            liveness=spec.Probe(http_path="/-/healthy", port=PROMETHEUS_PORT, period_seconds=20),
            # WAL replay after a restart can take minutes on a large TSDB.
            startup=spec.Probe(http_path="/-/ready", port=PROMETHEUS_PORT, period_seconds=10,
                               failure_threshold=60),
        ),
        api_rules=api_rules() if args.platform.discovery is Discovery.KUBERNETES_PODS else (),
        container=spec.Container(
            image=args.config.image,
            resources=resources_of(args.config.resources),
            args=tuple(prometheus_cli_flags(PrometheusStorageArgs(args.config.retention), paths)),
            config_files=(
                spec.ConfigFile(paths.config_file, config_text),
                spec.ConfigFile(paths.rules_file, rules_text),
            ),
            secret_files=(token,),
            security=spec.Security(run_as_user=NOBODY, run_as_group=NOBODY, fs_group=NOBODY),
        ),
    )
    return spec.Blueprint(services=(service,))


class Prometheus(BlueprintComponent):
    """Metrics collection, alert rule evaluation, and the TSDB."""

    TYPE = "dreamscape:monitoring:Prometheus"
