"""Prometheus: TSDB on a data volume, config and rules as mounted files, two discovery modes.

- Docker (dev): static targets by service name (`postgres-exporter:9187`, `core-pod:3001`, ...). Every
  service is reachable by its name on its zone's network, so Prometheus joins every zone (`reaches`).
- Kubernetes (prod, review): `kubernetes_sd` (role pod) in the environment's namespace, opt-in by the
  `prometheus.io/scrape` annotation, with a namespace Role (`spec.ApiRule`) to list pods/endpoints.
MinIO is a static target in both: its metrics need a bearer token (see `common.minio_prometheus_token`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components import spec
from components.config import PrometheusConfig
from components.infra.common import resources_of
from components.monitoring.catalog import BIG_PODS, INFRA_EXPORTERS, MINIO_METRICS, BigPod, PrometheusPaths
from components.monitoring.common import COMPONENT, NOBODY, PROMETHEUS_PORT, minio_prometheus_token, scrape
from components.monitoring.prometheus.config import (
    KubernetesDiscovery,
    PrometheusConfigArgs,
    PrometheusStorageArgs,
    ScrapeTarget,
    docker_scrape_targets,
    prometheus_cli_flags,
    prometheus_rbac_rules,
    render_prometheus_config,
)
from components.monitoring.prometheus.rules import RulesArgs, render_alert_rules
from components.targets import Deployed, Target

TOKEN_KEY = "prometheus-minio-token"


@dataclass(frozen=True)
class PrometheusArgs:
    config: PrometheusConfig
    environment: str
    target: Target
    minio_access_key: str
    minio_secret_key: pulumi.Output[str]
    kubernetes_namespace: str | None = None
    """Set on Kubernetes: discover pods there. None (Docker): static targets by service name."""
    pods: tuple[BigPod, ...] = BIG_PODS
    kafka_brokers: int = 1
    host_port: int | None = None


def api_rules() -> tuple[spec.ApiRule, ...]:
    return tuple(
        spec.ApiRule(api_groups=tuple(r["apiGroups"]), resources=tuple(r["resources"]), verbs=tuple(r["verbs"]))
        for r in prometheus_rbac_rules()
    )


def config_args(args: PrometheusArgs, token_file: str) -> PrometheusConfigArgs:
    """Static targets on Docker; kubernetes_sd plus MinIO (token-authenticated) on Kubernetes."""
    minio_only: Sequence[ScrapeTarget]
    if args.kubernetes_namespace is None:
        return PrometheusConfigArgs(
            environment=args.environment,
            static_targets=docker_scrape_targets(pods=args.pods, exporters=INFRA_EXPORTERS,
                                                 minio=MINIO_METRICS, minio_token_file=token_file),
            scrape_interval=args.config.scrape_interval,
        )
    minio_only = docker_scrape_targets(pods=(), exporters=(), minio=MINIO_METRICS, minio_token_file=token_file,
                                       include_self=False)
    return PrometheusConfigArgs(
        environment=args.environment,
        static_targets=tuple(minio_only),
        kubernetes=KubernetesDiscovery(namespace=args.kubernetes_namespace),
        scrape_interval=args.config.scrape_interval,
    )


class Prometheus(pulumi.ComponentResource):
    """Metrics collection, alert rule evaluation, and the TSDB."""

    def __init__(self, name: str, args: PrometheusArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:monitoring:Prometheus", name, None, opts)
        token = spec.SecretFile(
            TOKEN_KEY,
            pulumi.Output.secret(args.minio_secret_key.apply(
                lambda key: minio_prometheus_token(args.minio_access_key, key))),
        )
        paths = PrometheusPaths(minio_token_file=token.path)
        self.config_text = render_prometheus_config(config_args(args, token.path))
        self.rules_text = render_alert_rules(RulesArgs(expected_kafka_brokers=args.kafka_brokers))
        ready = spec.Probe(http_path="/-/ready", port=PROMETHEUS_PORT, period_seconds=10)
        service = spec.Service(
            name="prometheus",
            component=COMPONENT,
            zone=spec.Zone.MONITORING,
            # Static targets live in every zone; on Docker that means joining every zone's network.
            reaches=frozenset(spec.Zone),
            kind=spec.WorkloadKind.STATEFUL,
            ports=(spec.Port("web", PROMETHEUS_PORT, host_port=args.host_port),),
            volumes=(spec.DataVolume("data", paths.data_dir, args.config.storage),),
            probes=spec.Probes(
                readiness=ready,
                liveness=spec.Probe(http_path="/-/healthy", port=PROMETHEUS_PORT, period_seconds=20),
                # WAL replay after a restart can take minutes on a large TSDB.
                startup=spec.Probe(http_path="/-/ready", port=PROMETHEUS_PORT, period_seconds=10,
                                   failure_threshold=60),
            ),
            annotations=scrape(PROMETHEUS_PORT),
            api_rules=api_rules() if args.kubernetes_namespace is not None else (),
            container=spec.Container(
                image=args.config.image,
                resources=resources_of(args.config.resources),
                args=tuple(prometheus_cli_flags(PrometheusStorageArgs(args.config.retention), paths)),
                config_files=(
                    spec.ConfigFile(paths.config_file, self.config_text),
                    spec.ConfigFile(paths.rules_file, self.rules_text),
                ),
                secret_files=(token,),
                security=spec.Security(run_as_user=NOBODY, run_as_group=NOBODY, fs_group=NOBODY),
            ),
        )
        self.deployed: Deployed = args.target.deploy_service(service, self)
        self.host = service.host
        self.port = PROMETHEUS_PORT
        self.url = f"http://{service.host}:{PROMETHEUS_PORT}"
        self.register_outputs({"url": self.url, "retention": args.config.retention})
