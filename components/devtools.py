"""Optional admin UIs for a Docker (dev) stack, opt-in per stack with `devTools` (refused on kubernetes
by config validation): pgAdmin, RedisInsight and kafbat/kafka-ui, each a `spec.Service` published on the
publish address (ports `pgadmin`, `redis-insight`, `kafka-ui`; override them in docker.hostPorts), each
reaching only its data zone.

- pgAdmin: login `admin@dreamscape.dev`, password from the generated secret `pgadmin` as a file
  (`PGADMIN_DEFAULT_PASSWORD_FILE`); the server `postgres` is preconfigured from a rendered servers.json.
- RedisInsight: the connection (host, port, alias) is preset through its `RI_REDIS_*` variables; the Redis
  password is typed on first connect (`pulumi stack output redisUrl --show-secrets`): the image reads no
  secret files, and a dev UI does not justify a secret environment variable.
- kafka-ui: one cluster `dreamscape` at the brokers' bootstrap address.
The images keep their own users and writable root filesystems (they write state into the image's
directories); these are laptop-only tools.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi

from components import spec
from components.config import DevToolsConfig, PostgresConfig
from components.deploy import BlueprintComponent
from components.infra import kafka, postgres, redis

PGADMIN_PORT = 5050
PGADMIN_EMAIL = "admin@dreamscape.dev"
PGADMIN_SERVERS = "/etc/dreamscape/pgadmin/servers.json"
REDIS_INSIGHT_PORT = 5540
KAFKA_UI_PORT = 8080
RESOURCES = {
    "pgadmin": spec.Resources(cpu_request="50m", cpu_limit="500m", memory_request="192Mi", memory_limit="384Mi"),
    "redis-insight": spec.Resources(cpu_request="50m", cpu_limit="500m", memory_request="128Mi",
                                    memory_limit="256Mi"),
    "kafka-ui": spec.Resources(cpu_request="50m", cpu_limit="500m", memory_request="256Mi", memory_limit="512Mi"),
}
WRITABLE = spec.Security(read_only_root_filesystem=False, fs_group=None)


@dataclass(frozen=True, kw_only=True)
class DevToolsInputs:
    config: DevToolsConfig
    pgadmin_password: pulumi.Output[str]
    postgres: PostgresConfig


def enabled(config: DevToolsConfig) -> list[str]:
    flags = {"pgadmin": config.pgadmin, "redis-insight": config.redis_insight, "kafka-ui": config.kafka_ui}
    return [name for name, on in flags.items() if on]


def servers_json(host: str, port: int, user: str, database: str) -> str:
    """pgAdmin's server list: the environment's PostgreSQL, ready to connect."""
    return json.dumps({"Servers": {"1": {
        "Name": "dreamscape", "Group": "DreamScape", "Host": host, "Port": port,
        "MaintenanceDB": database, "Username": user, "SSLMode": "prefer",
    }}}, indent=2) + "\n"


def blueprint(args: DevToolsInputs) -> spec.Blueprint:
    """The enabled admin UIs, each published on the developer's machine under its own name."""
    config = args.config
    services: list[spec.Service] = []
    if config.pgadmin:
        password = spec.SecretFile("pgadmin-password", args.pgadmin_password)
        services.append(spec.Service(
            name="pgadmin", component="devtools", zone=spec.Zone.MONITORING,
            reaches=frozenset({spec.Zone.DATABASE}),
            ports=(spec.Port("pgadmin", PGADMIN_PORT, host_port=5050, exposure=spec.Exposure(route="pgadmin")),),
            probes=spec.Probes(readiness=spec.Probe(http_path="/misc/ping", port=PGADMIN_PORT)),
            container=spec.Container(
                image=config.images["pgadmin"], resources=RESOURCES["pgadmin"],
                env=spec.frozen_map({
                    "PGADMIN_DEFAULT_EMAIL": PGADMIN_EMAIL,
                    "PGADMIN_DEFAULT_PASSWORD_FILE": password.path,
                    "PGADMIN_LISTEN_PORT": str(PGADMIN_PORT),
                    "PGADMIN_SERVER_JSON_FILE": PGADMIN_SERVERS,
                }),
                secret_files=(password,),
                config_files=(spec.ConfigFile(PGADMIN_SERVERS, servers_json(
                    postgres.NAME, postgres.PORT, args.postgres.app_user, args.postgres.database)),),
                security=WRITABLE,
            ),
        ))
    if config.redis_insight:
        services.append(spec.Service(
            name="redis-insight", component="devtools", zone=spec.Zone.MONITORING,
            reaches=frozenset({spec.Zone.CACHE}),
            ports=(spec.Port("redis-insight", REDIS_INSIGHT_PORT, host_port=5540,
                             exposure=spec.Exposure(route="redisInsight")),),
            container=spec.Container(
                image=config.images["redisInsight"], resources=RESOURCES["redis-insight"],
                env=spec.frozen_map({"RI_REDIS_HOST": redis.NAME, "RI_REDIS_PORT": str(redis.PORT),
                                     "RI_REDIS_ALIAS": "dreamscape"}),
                security=WRITABLE,
            ),
        ))
    if config.kafka_ui:
        services.append(spec.Service(
            name="kafka-ui", component="devtools", zone=spec.Zone.MONITORING,
            reaches=frozenset({spec.Zone.MESSAGING}),
            ports=(spec.Port("kafka-ui", KAFKA_UI_PORT, host_port=8085, exposure=spec.Exposure(route="kafkaUi")),),
            container=spec.Container(
                image=config.images["kafkaUi"], resources=RESOURCES["kafka-ui"],
                env=spec.frozen_map({"KAFKA_CLUSTERS_0_NAME": "dreamscape",
                                     "KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS": kafka.BOOTSTRAP}),
                security=WRITABLE,
            ),
        ))
    return spec.Blueprint(services=tuple(services))


class DevTools(BlueprintComponent):
    """The enabled admin UIs."""

    TYPE = "dreamscape:dev:Tools"
