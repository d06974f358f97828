"""The plan of one environment: every blueprint, built from config before anything is registered.

This is the single record of what runs. The Environment component checks views derived from it
(host ports, capacity budgets, the stateful identity) and then deploys the same blueprints; Prometheus'
scrape targets, edge routes and URLs are derived from it too. Nothing here registers a resource: secret
values and the Kafka cluster id are outputs bound later.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pulumi
from pydantic import SecretStr

from components import backup, devtools, spec
from components.config import StackConfig
from components.config.loader import ROOT, workspace_path
from components.infra import kafka, minio, postgres, redis
from components.infra.common import resources_of
from components.infra.registry import REGISTRY, InfraInputs, InfraPlan
from components.monitoring.alertmanager.component import AlertReceivers, EmailSettings
from components.monitoring.exporters.component import NginxStatus
from components.monitoring.prometheus.rules import BackupJob, RestoreCheck
from components.monitoring.stack import MonitoringBlueprints, MonitoringInputs, Scraped, blueprints
from components.pods import bigpod
from components.pods.build import dev_target, image_build
from components.pods.catalog import CATALOG
from components.pods.model import Infra, PodDefinition
from components.pods.render.nginx import NginxSettings
from components.publishing import Publishing
from components.rotation import annotate as rotation_annotation
from components.targets import PlatformFacts

EDGE_USER = "ops"
"""The user the edge's basic auth asks for in front of operator UIs (password: the `edgeAuth` secret)."""
REVIEW_PREFIX = "review-"


@dataclass(frozen=True, kw_only=True)
class PlanInputs:
    config: StackConfig
    platform: PlatformFacts
    secrets: Mapping[str, pulumi.Output[str]]
    kafka_cluster_id: pulumi.Output[str]
    source_root: Path | None = None
    """Where the Big Pods are built from on a platform that builds from source (checkouts or the
    reference application; `components.pods.source`)."""


@dataclass(frozen=True, kw_only=True)
class EnvironmentPlan:
    infra: Mapping[Infra, InfraPlan]
    """One plan per registry entry, in start order."""
    backup: spec.Blueprint | None
    pods: Mapping[str, spec.Blueprint]
    devtools: spec.Blueprint | None
    monitoring: MonitoringBlueprints
    publishing: Publishing
    links: Mapping[Infra, spec.Link]

    def blueprints(self) -> Iterator[spec.Blueprint]:
        yield from (planned.blueprint for planned in self.infra.values())
        if self.backup is not None:
            yield self.backup
        yield from self.monitoring.all()
        yield from self.pods.values()
        if self.devtools is not None:
            yield self.devtools

    def services(self) -> Iterator[spec.Service]:
        return spec.all_services(self.blueprints())

    def routes(self, domain: str, edge_password: pulumi.Output[str]) -> list[spec.Route]:
        """Every exposed port becomes a route at `<subdomain>.<domain>`, in the order services run."""
        return [
            spec.Route(
                port.exposure.route, f"{port.exposure.subdomain or port.exposure.route}.{domain}", service.name,
                port.number, host_port=port.host_port,
                auth=spec.BasicAuth(EDGE_USER, edge_password) if port.exposure.auth else None,
                long_lived=port.exposure.long_lived, sticky=port.exposure.sticky, canary=service.canary,
            )
            for service in self.services()
            for port in service.ports
            if port.exposure is not None
        ]


def planned_restore_checks(config: StackConfig, platform: PlatformFacts,
                           infra: Iterable[InfraPlan]) -> tuple[RestoreCheck, ...]:
    """The scheduled restores the platform runs (a database operator realises `spec.Database.verification`),
    each alerted on when its last success is older than `backup.restoreVerify.maxAgeHours`."""
    verify = config.backup.restore_verify
    if verify is None or not platform.replicates_databases:
        return ()
    return tuple(RestoreCheck(cronjob=service.database.verification.job, max_age_hours=verify.max_age_hours)
                 for planned in infra for service in planned.blueprint.services
                 if service.database is not None and service.database.verification is not None)


def build(inputs: PlanInputs) -> EnvironmentPlan:
    config, secrets, platform = inputs.config, inputs.secrets, inputs.platform
    publishing = Publishing(enabled=platform.publishes_host_ports, address=str(config.docker.publish_address),
                            overrides=dict(config.docker.host_ports))
    rotation = config.secret_rotation
    database_hosts = platform.database_hosts(postgres.NAME)
    infra_inputs = InfraInputs(config=config, secrets=secrets, publishing=publishing, platform=platform,
                               generated={"kafkaClusterId": inputs.kafka_cluster_id})
    infra = {entry.need: entry.plan(infra_inputs) for entry in REGISTRY}
    links = {need: planned.link for need, planned in infra.items()}
    jwt = (spec.SecretFile("jwt-access-secret", secrets["jwtAccess"]),
           spec.SecretFile("jwt-refresh-secret", secrets["jwtRefresh"]))
    nginx = NginxSettings(resolvers=(platform.dns_resolver,),
                          pod_hosts={pod.name: platform.fqdn(pod.hostname) for pod in CATALOG})
    source_root = inputs.source_root or workspace_path(config)
    pods = {
        pod.name: bigpod.blueprint(bigpod.BigPodArgs(
            pod=pod, image=pod_image(config, pod, source_root if platform.builds_from_source else None),
            links=links, jwt_secret_files=jwt,
            replicas=pod_replicas(config, pod), max_replicas=pod_max_replicas(config, pod),
            resources=pod_resources(config, pod),
            workspace=source_root if platform.builds_from_source else None, nginx=nginx, catalog=CATALOG,
            settings=service_settings(config), seed=config.seed_data, canary=pod_canary(config, pod),
        ))
        for pod in CATALOG
    }
    backup_plan = None
    if config.backup.enabled and platform.has_scheduler:
        backup_plan = backup.blueprint(backup.BackupInputs(
            config=config.backup, postgres=config.postgres, minio=config.minio,
            app_password=secrets["postgresApp"], secrets=secrets, postgres_host=database_hosts.read_write,
            run_id=f"{rotation.get(backup.BACKUP_SECRET, 0)}-{rotation.get(minio.ROOT_SECRET, 0)}",
            transit_tls=platform.transit_tls,
        ))
    tools = None
    if devtools.enabled(config.dev_tools):
        tools = devtools.blueprint(devtools.DevToolsInputs(config=config.dev_tools, postgres=config.postgres,
                                                           pgadmin_password=secrets["pgadmin"]))
    others = [*(planned.blueprint for planned in infra.values()), *pods.values(), *([tools] if tools else [])]
    monitoring = blueprints(MonitoringInputs(
        config=config.monitoring, platform=platform,
        data=Scraped(
            postgres_host=database_hosts.read_write, postgres_port=postgres.PORT,
            postgres_user=postgres.SUPERUSER,
            postgres_password=secrets["postgresSuperuser"],
            redis_addresses=tuple(dict.fromkeys(f"{h}:{redis.PORT}" for h in [redis.NAME, *redis.nodes(config.redis)])),
            redis_password=secrets["redis"], redis_cluster=config.redis.mode == "cluster",
            kafka_bootstrap=kafka.BOOTSTRAP, kafka_brokers=config.kafka.brokers,
            minio_access_key=minio.ROOT_USER, minio_secret_key=secrets["minioRoot"],
        ),
        services=tuple(spec.all_services(others)),
        grafana_admin_password=secrets["grafanaAdmin"],
        receivers=alert_receivers(config),
        gateways=tuple(NginxStatus(pod=pod.name, host=pod.hostname, port=pod.gateway.listen_port,
                                   path=pod.gateway.status_path) for pod in CATALOG if pod.gateway is not None),
        backups=tuple(BackupJob(cronjob=task.name) for task in (backup_plan.tasks if backup_plan else ())
                      if task.schedule is not None),
        restore_checks=planned_restore_checks(config, platform, infra.values()),
    ))

    def finish(service: spec.Service) -> spec.Service:
        return rotation_annotation(publishing.apply(service), secrets, rotation)

    return EnvironmentPlan(
        infra={need: replace(planned, blueprint=planned.blueprint.map_services(finish))
               for need, planned in infra.items()},
        backup=backup_plan,
        pods={name: blueprint.map_services(finish) for name, blueprint in pods.items()},
        devtools=tools.map_services(finish) if tools else None,
        monitoring=monitoring.map_services(finish),
        publishing=publishing, links=links,
    )


def service_settings(config: StackConfig) -> dict[str, bigpod.ServiceSettings]:
    """Each service's own env and secrets (`services.<service>`), every secret wrapped in `Output.secret`."""
    return {
        name: bigpod.ServiceSettings(
            env=dict(service.env),
            secrets={key: pulumi.Output.secret(value.get_secret_value()) for key, value in service.secrets.items()},
        )
        for name, service in config.services.items()
    }


def alert_receivers(config: StackConfig) -> AlertReceivers:
    """Receivers from the optional `alerting` config, every secret value wrapped in `Output.secret`."""
    alerting = config.alerting

    def secret(value: SecretStr | None) -> pulumi.Output[str] | None:
        return None if value is None else pulumi.Output.secret(value.get_secret_value())

    email = None
    if alerting.email is not None:
        email = EmailSettings(to=alerting.email.to, sender=alerting.email.from_, smarthost=alerting.email.smarthost,
                              username=alerting.email.username, password=secret(alerting.email.password))
    return AlertReceivers(email=email, slack_webhook=secret(alerting.slack_webhook),
                          slack_channel=alerting.slack_channel,
                          pagerduty_routing_key=secret(alerting.pagerduty_routing_key),
                          ports=alerting.receiver_ports())


def pod_replicas(config: StackConfig, pod: PodDefinition) -> int:
    override = config.pods.get(pod.name)
    return override.replicas if override and override.replicas else pod.replicas


def pod_max_replicas(config: StackConfig, pod: PodDefinition) -> int:
    override = config.pods.get(pod.name)
    return override.max_replicas if override else pod_replicas(config, pod)


def pod_resources(config: StackConfig, pod: PodDefinition) -> spec.Resources:
    override = config.pods.get(pod.name)
    return resources_of(override.resources) if override and override.resources else pod.resources


def pod_image(config: StackConfig, pod: PodDefinition, source_root: Path | None) -> str | spec.ImageBuild:
    """Built from source: the `dev` stage from the application source root; otherwise pulled as
    `<registry>/dreamscape-<pod>:<tag>`."""
    if source_root is None:
        return f"{config.registry}/dreamscape-{pod.name}:{config.image_tag}"
    # The same Dockerfile, stage and named contexts as `docker buildx bake <pod>-dev` (docker-bake.json).
    return image_build(dev_target(pod), repo_root=ROOT, source_root=source_root, tag=config.image_tag)


def pod_canary(config: StackConfig, pod: PodDefinition) -> spec.Canary | None:
    """The pod's canary release when `canary.images` names it (Kubernetes only: the config says so)."""
    image = config.canary.image_of(config.registry, pod.name)
    return None if image is None else spec.Canary(image=image, weight=config.canary.weight)


def site_domain(environment: str, domain: str) -> str:
    """Review stacks get their own subdomain of the review domain (`review-pr-123` -> `pr-123.<domain>`),
    so two reviews never share a hostname; every other stack serves the configured domain itself."""
    if environment.startswith(REVIEW_PREFIX):
        return f"{environment.removeprefix(REVIEW_PREFIX)}.{domain}"
    return domain
