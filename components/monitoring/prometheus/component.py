"""Prometheus: TSDB on a data volume, config and rules as mounted files.

It scrapes exactly the declared metrics ports of the services it is given (components.monitoring.scrape),
itself included; the platform says how their addresses are found (`PlatformFacts.discovery`: static
`host:port` on Docker, kubernetes_sd in the namespace on Kubernetes, with a namespace Role from
`prometheus_rbac_rules`).
MinIO's metrics need a bearer token (see `common.minio_prometheus_token`), given as a secret file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pulumi

from components import spec
from components.config import PrometheusConfig
from components.deploy import BlueprintComponent
from components.infra.common import resources_of
from components.infra.minio import NAME as MINIO_SERVICE
from components.monitoring import containers
from components.monitoring.common import COMPONENT, NOBODY, PROMETHEUS, PROMETHEUS_PORT, minio_prometheus_token
from components.monitoring.prometheus.config import (
    Discovery,
    KubernetesDiscovery,
    PrometheusConfigArgs,
    PrometheusPaths,
    PrometheusStorageArgs,
    StaticDiscovery,
    prometheus_cli_flags,
    prometheus_rbac_rules,
    render_prometheus_config,
)
from components.monitoring.prometheus.rules import (
    BackupJob,
    RestoreCheck,
    RulesArgs,
    Slo,
    pod_limits,
    render_alert_rules,
)
from components.monitoring.scrape import scrape_targets
from components.targets import Discovery as PlatformDiscovery
from components.targets import PlatformFacts
from components.targets.labels import DATASOURCE_LABEL, SCRAPER_LABEL

TOKEN_KEY = "prometheus-minio-token"


@dataclass(frozen=True, kw_only=True)
class PrometheusArgs:
    config: PrometheusConfig
    platform: PlatformFacts
    services: tuple[spec.Service, ...]
    """Everything deployed whose metrics ports are scraped (Prometheus adds itself)."""
    minio_access_key: str
    minio_secret_key: pulumi.Output[str]
    kafka_brokers: int = 1
    backups: tuple[BackupJob, ...] = ()
    restore_checks: tuple[RestoreCheck, ...] = ()
    slo: Slo = dataclasses.field(default_factory=Slo)


def discovery_of(platform: PlatformFacts) -> Discovery:
    """The platform's answer, as the typed discovery the config renderer takes."""
    if platform.discovery is PlatformDiscovery.KUBERNETES_PODS:
        if platform.namespace is None:
            raise ValueError("pod discovery is per namespace, and the platform names none")
        return KubernetesDiscovery(namespace=platform.namespace)
    return StaticDiscovery()


def scrapes_kubelets(platform: PlatformFacts) -> bool:
    """Container metrics come from the nodes' kubelets where discovery runs on the cluster's API."""
    return isinstance(discovery_of(platform), KubernetesDiscovery)


def api_rules(discovery: Discovery) -> tuple[spec.ApiRule, ...]:
    if not isinstance(discovery, KubernetesDiscovery):
        return ()
    return (*(
        spec.ApiRule(api_groups=tuple(r["apiGroups"]), resources=tuple(r["resources"]), verbs=tuple(r["verbs"]))
        for r in prometheus_rbac_rules()
    ), *containers.KUBELET_RULES)


def node_ports(discovery: Discovery) -> tuple[int, ...]:
    """The kubelets' port, where Prometheus scrapes them (components.monitoring.containers)."""
    return (containers.KUBELET_PORT,) if isinstance(discovery, KubernetesDiscovery) else ()


def blueprint(args: PrometheusArgs) -> spec.Blueprint:
    """Metrics collection, alert rule evaluation, and the TSDB."""
    token = spec.SecretFile(
        TOKEN_KEY,
        pulumi.Output.secret(args.minio_secret_key.apply(
            lambda key: minio_prometheus_token(args.minio_access_key, key))),
    )
    paths = PrometheusPaths(minio_token_file=token.path)
    discovery = discovery_of(args.platform)
    ready = spec.Probe(http_path="/-/ready", port=PROMETHEUS_PORT, period_seconds=10)
    service = spec.Service(
        name=PROMETHEUS,
        component=COMPONENT,
        zone=spec.Zone.MONITORING,
        # Scrape targets live in every zone: their metrics ports, never their client ports.
        scrapes=frozenset(spec.Zone),
        # The only pod admitted to metrics ports; dashboards may query it.
        labels={SCRAPER_LABEL: "true", DATASOURCE_LABEL: "true"},
        kind=spec.WorkloadKind.STATEFUL,
        ports=(spec.Port("prometheus", PROMETHEUS_PORT, host_port=PROMETHEUS_PORT, metrics_path="/metrics"),),
        volumes=(spec.DataVolume("data", paths.data_dir, args.config.storage),),
        # The TSDB deletes blocks older than the retention: shortening it is a stateful change.
        identity={"retention": args.config.retention},
        probes=spec.Probes(
            readiness=ready,
            liveness=spec.Probe(http_path="/-/healthy", port=PROMETHEUS_PORT, period_seconds=20),
            # WAL replay after a restart can take minutes on a large TSDB.
            startup=spec.Probe(http_path="/-/ready", port=PROMETHEUS_PORT, period_seconds=10,
                               failure_threshold=60),
        ),
        api_rules=api_rules(discovery),
        node_ports=node_ports(discovery),
        container=spec.Container(
            image=args.config.image,
            resources=resources_of(args.config.resources),
            args=tuple(prometheus_cli_flags(PrometheusStorageArgs(args.config.retention), paths)),
            secret_files=(token,),
            security=spec.Security(run_as_user=NOBODY, run_as_group=NOBODY, fs_group=NOBODY),
        ),
    )
    scraped = (*args.services, service)
    has_minio = any(s.name == MINIO_SERVICE for s in scraped)
    targets = scrape_targets(scraped, {MINIO_SERVICE: token.path} if has_minio else {})
    # It verifies every target that serves TLS against the environment's CA.
    trusts_ca = any(target.server_name is not None for target in targets)
    config_text = render_prometheus_config(PrometheusConfigArgs(
        environment=args.platform.environment, targets=targets, discovery=discovery,
        paths=paths, scrape_interval=args.config.scrape_interval,
    ))
    rules_text = render_alert_rules(RulesArgs(
        pod_limits=pod_limits(args.services), expected_kafka_brokers=args.kafka_brokers, backups=args.backups,
        restore_checks=args.restore_checks, slo=args.slo,
    ))
    service = dataclasses.replace(service, container=dataclasses.replace(
        service.container, trusts_ca=trusts_ca, config_files=(
            spec.ConfigFile(paths.config_file, config_text),
            spec.ConfigFile(paths.rules_file, rules_text),
        )))
    return spec.Blueprint(services=(service,))


class Prometheus(BlueprintComponent):
    """Metrics collection, alert rule evaluation, and the TSDB."""

    TYPE = "dreamscape:monitoring:Prometheus"
