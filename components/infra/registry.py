"""The infrastructure registry: one entry per infra service, the only list of them.

An entry says which need of the Big Pods it satisfies (`Infra`), which component deploys it, and how to
plan it from the validated config. The environment plans, links and deploys every entry in order, so
adding an infra service (RabbitMQ, say) is its module, its config model, an `Infra` member and one entry
here (docs/architecture.md walks through it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import spec
from components.config import StackConfig
from components.deploy import BlueprintComponent
from components.infra import kafka, minio, postgres, redis
from components.pods.model import Infra
from components.publishing import Publishing
from components.targets.facts import PlatformFacts


@dataclass(frozen=True, kw_only=True)
class InfraInputs:
    """What any infra planner may use: the config, the generated secrets and the publishing rules."""

    config: StackConfig
    secrets: Mapping[str, pulumi.Output[str]]
    publishing: Publishing
    platform: PlatformFacts
    generated: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)
    """Generated identities that are not passwords (`kafkaClusterId`)."""


@dataclass(frozen=True, kw_only=True)
class InfraPlan:
    blueprint: spec.Blueprint
    link: spec.Link
    """What the Big Pods that need it receive."""
    outputs: Mapping[str, Any] = field(default_factory=dict)
    """What the component reports, and the stack exports under the service's name (`url` -> `redisUrl`;
    components/infra/exports.py). `host` is also where clients reach it on a platform that does not
    publish ports (default: the service's name)."""


@dataclass(frozen=True, kw_only=True)
class InfraEntry:
    name: str
    """The component's name (and so its URN): never rename without an alias."""
    need: Infra
    title: str
    """How people and the docs name it (docs tables are generated from it: components/doctables.py)."""
    component: type[BlueprintComponent]
    plan: Callable[[InfraInputs], InfraPlan]
    scheme: str | None = None
    """How clients address it when they use URLs (MinIO's S3 API and console are HTTP); None for a bare
    `host:port` (a database's or a broker's own protocol)."""


def _postgres(inputs: InfraInputs) -> InfraPlan:
    config, secrets = inputs.config, inputs.secrets
    rotation = config.secret_rotation
    hosts = inputs.platform.database_hosts(postgres.NAME)
    tls = inputs.platform.transit_tls
    offsite = config.backup.offsite
    archive = None
    if offsite is not None:
        archive = postgres.object_store(
            config.backup, inputs.platform.environment,
            access_key_id=pulumi.Output.secret(offsite.access_key_id.get_secret_value()),
            secret_access_key=pulumi.Output.secret(offsite.secret_access_key.get_secret_value()))
    return InfraPlan(
        blueprint=postgres.blueprint(postgres.PostgresArgs(
            config=config.postgres, superuser_password=secrets["postgresSuperuser"],
            app_password=secrets["postgresApp"],
            run_id=f"{rotation.get('postgresSuperuser', 0)}-{rotation.get('postgresApp', 0)}",
            hosts=hosts, replicated=inputs.platform.replicates_databases, archive=archive, transit_tls=tls,
            verification=postgres.restore_verification(config.backup.restore_verify, archive))),
        link=postgres.link(config.postgres, secrets["postgresApp"], hosts, tls),
        outputs={"host": hosts.read_write, "readOnlyHost": hosts.read_only,
                 "url": postgres.url(config.postgres, secrets["postgresApp"], hosts.read_write, tls),
                 "readOnlyUrl": postgres.url(config.postgres, secrets["postgresApp"], hosts.read_only, tls)},
    )


def _redis(inputs: InfraInputs) -> InfraPlan:
    config, password, tls = inputs.config.redis, inputs.secrets["redis"], inputs.platform.transit_tls
    return InfraPlan(blueprint=redis.blueprint(config, password, tls), link=redis.link(config, password, tls),
                     outputs={"host": redis.NAME, "url": redis.url(password, tls), "nodes": redis.nodes(config)})


def _kafka(inputs: InfraInputs) -> InfraPlan:
    published = inputs.publishing.host_port("kafka-external", kafka.PORT)
    external = f"{inputs.publishing.address}:{published}" if published else None
    return InfraPlan(blueprint=kafka.blueprint(inputs.config.kafka, inputs.generated["kafkaClusterId"], external),
                     link=kafka.link(),
                     outputs={"bootstrapServers": kafka.BOOTSTRAP, "topics": list(inputs.config.kafka.topics)})


def _minio(inputs: InfraInputs) -> InfraPlan:
    config, secrets = inputs.config.minio, inputs.secrets
    backup = inputs.config.backup
    rotation = inputs.config.secret_rotation
    run_id = f"{rotation.get(minio.ROOT_SECRET, 0)}-{rotation.get(minio.APP_SECRET, 0)}"
    transit_tls = inputs.platform.transit_tls
    return InfraPlan(blueprint=minio.blueprint(config, secrets, backup.bucket if backup.enabled else None,
                                               run_id=run_id, transit_tls=transit_tls),
                     link=minio.link(config, secrets[minio.APP_SECRET], transit_tls),
                     outputs={"endpoint": minio.endpoint(transit_tls), "buckets": list(config.buckets),
                              "rootUser": minio.ROOT_USER, "rootPassword": secrets[minio.ROOT_SECRET]})


REGISTRY: tuple[InfraEntry, ...] = (
    InfraEntry(name=postgres.NAME, need=Infra.POSTGRES, title="PostgreSQL", component=postgres.Postgres,
               plan=_postgres),
    InfraEntry(name=redis.NAME, need=Infra.REDIS, title="Redis", component=redis.Redis, plan=_redis),
    InfraEntry(name=kafka.NAME, need=Infra.KAFKA, title="Kafka", component=kafka.Kafka, plan=_kafka),
    InfraEntry(name=minio.NAME, need=Infra.MINIO, title="MinIO", component=minio.Minio, plan=_minio, scheme="http"),
)
"""In start order. Every `Infra` need of the Big Pods has exactly one entry (a test checks it)."""
