"""Metrics exporters for PostgreSQL, Redis and Kafka, each living in the zone of the data it watches.

- postgres_exporter reads the password from `DATA_SOURCE_PASS_FILE`. It connects as the superuser for
  now (the statistics views need `pg_monitor`); a dedicated monitoring role belongs to the Postgres
  bootstrap and is a follow-up.
- redis_exporter's `REDIS_PASSWORD_FILE` is a JSON map of Redis URI -> password, so the file lists the
  service address and, in cluster mode, every member.
- kafka-exporter needs no credentials (the PLAINTEXT listener is only reachable inside the zone).
Each exporter's probes only check that its own HTTP listener is up (a TCP check the kubelet runs itself;
redis_exporter's image has no shell), so a slow data service never fails the deployment. Docker gets no
healthcheck for bare TCP probes, and postgres_exporter keeps an HTTP readiness check there.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import spec
from components.config import ExportersConfig
from components.deploy import BlueprintComponent
from components.infra.common import resources_of
from components.monitoring.common import NOBODY
from components.monitoring.config.catalog import KAFKA_EXPORTER, POSTGRES_EXPORTER, REDIS_EXPORTER, Exporter

_SECURITY = spec.Security(run_as_user=NOBODY, run_as_group=NOBODY, fs_group=None)


@dataclass(frozen=True, kw_only=True)
class ExportersArgs:
    config: ExportersConfig
    postgres_host: str
    postgres_port: int
    postgres_user: str
    postgres_password: pulumi.Output[str]
    redis_addresses: tuple[str, ...]
    """`host:port` of the service first, then every cluster member (empty tail for standalone)."""
    redis_password: pulumi.Output[str]
    redis_cluster: bool
    kafka_bootstrap: str


def redis_password_file(addresses: tuple[str, ...], password: pulumi.Output[str]) -> pulumi.Output[str]:
    return pulumi.Output.secret(pulumi.Output.json_dumps({f"redis://{a}": password for a in addresses}))


def _alive(port: int) -> spec.Probe:
    """The exporter's HTTP listener is up (it answers even while its data service is still starting)."""
    return spec.Probe(tcp_port=port, period_seconds=20, failure_threshold=6)


def _exporter(exporter: Exporter, zone: spec.Zone, container: spec.Container,
              readiness: spec.Probe | None = None) -> spec.Service:
    """One exporter: its zone's data service is what it watches; Prometheus scrapes its metrics port."""
    return spec.Service(
        name=exporter.host,
        component=_COMPONENTS[zone],
        zone=zone,
        ports=(spec.Port(exporter.service, exporter.port, metrics_path=exporter.metrics_path),),
        probes=spec.Probes(readiness=readiness or _alive(exporter.port), liveness=_alive(exporter.port)),
        labels={"dreamscape.io/pod": exporter.pod},
        container=container,
    )


_COMPONENTS = {spec.Zone.DATABASE: "database", spec.Zone.CACHE: "cache", spec.Zone.MESSAGING: "messaging"}


def blueprint(args: ExportersArgs) -> spec.Blueprint:
    """postgres-exporter, redis-exporter and kafka-exporter."""
    resources = resources_of(args.config.resources)
    pg_password = spec.SecretFile("postgres-exporter-password", args.postgres_password)
    postgres = _exporter(POSTGRES_EXPORTER, spec.Zone.DATABASE, spec.Container(
        image=args.config.postgres_image,
        resources=resources,
        env=spec.frozen_map({
            "DATA_SOURCE_URI": f"{args.postgres_host}:{args.postgres_port}/postgres?sslmode=disable",
            "DATA_SOURCE_USER": args.postgres_user,
            "DATA_SOURCE_PASS_FILE": pg_password.path,
        }),
        secret_files=(pg_password,),
        security=_SECURITY,
    ), readiness=spec.Probe(http_path="/", port=POSTGRES_EXPORTER.port))
    redis_file = spec.SecretFile("redis-exporter-passwords.json",
                                 redis_password_file(args.redis_addresses, args.redis_password))
    redis_env = {"REDIS_ADDR": f"redis://{args.redis_addresses[0]}", "REDIS_PASSWORD_FILE": redis_file.path}
    if args.redis_cluster:
        redis_env["REDIS_EXPORTER_IS_CLUSTER"] = "true"
    redis = _exporter(REDIS_EXPORTER, spec.Zone.CACHE, spec.Container(
        image=args.config.redis_image,
        resources=resources,
        env=spec.frozen_map(redis_env),
        secret_files=(redis_file,),
        security=_SECURITY,
    ))
    kafka = _exporter(KAFKA_EXPORTER, spec.Zone.MESSAGING, spec.Container(
        image=args.config.kafka_image,
        resources=resources,
        args=(f"--kafka.server={args.kafka_bootstrap}",),
        security=_SECURITY,
    ))
    return spec.Blueprint(services=(postgres, redis, kafka))


class Exporters(BlueprintComponent):
    """postgres-exporter, redis-exporter and kafka-exporter."""

    TYPE = "dreamscape:monitoring:Exporters"
