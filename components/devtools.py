"""Optional admin UIs for a Docker (dev) stack, opt-in per stack with `devTools` (refused on kubernetes
by config validation): pgAdmin, RedisInsight and kafbat/kafka-ui, each a `spec.Service` published on the
publish address (docker.hostPorts `pgadmin`, `redisInsight`, `kafkaUi`), each reaching only its data zone.

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
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from components import spec
from components.budgets import Footprint, footprint_source
from components.config import DevToolsConfig, StackConfig
from components.targets import Target

PGADMIN_PORT = 5050
PGADMIN_EMAIL = "admin@dreamscape.dev"
PGADMIN_SERVERS = "/etc/dreamscape/pgadmin/servers.json"
REDIS_INSIGHT_PORT = 5540
KAFKA_UI_PORT = 8080
RESOURCES = {
    "pgadmin": spec.Resources("50m", "500m", "192Mi", "384Mi"),
    "redis-insight": spec.Resources("50m", "500m", "128Mi", "256Mi"),
    "kafka-ui": spec.Resources("50m", "500m", "256Mi", "512Mi"),
}
WRITABLE = spec.Security(read_only_root_filesystem=False, fs_group=None)


@dataclass(frozen=True)
class DevToolsArgs:
    config: DevToolsConfig
    target: Target
    host_ports: Mapping[str, int]
    pgadmin_password: pulumi.Output[str]
    postgres_host: str
    postgres_port: int
    postgres_user: str
    postgres_database: str
    redis_host: str
    redis_port: int
    kafka_bootstrap: str


def enabled(config: DevToolsConfig) -> list[str]:
    flags = {"pgadmin": config.pgadmin, "redis-insight": config.redis_insight, "kafka-ui": config.kafka_ui}
    return [name for name, on in flags.items() if on]


@footprint_source("devtools")
def footprint(stack: StackConfig) -> list[Footprint]:
    images = stack.dev_tools.images
    image = {"pgadmin": images["pgadmin"], "redis-insight": images["redisInsight"],
             "kafka-ui": images["kafkaUi"]}
    return [Footprint(name, RESOURCES[name], 1, spec.WorkloadKind.STATELESS, (), image[name])
            for name in enabled(stack.dev_tools)]


def servers_json(host: str, port: int, user: str, database: str) -> str:
    """pgAdmin's server list: the environment's PostgreSQL, ready to connect."""
    return json.dumps({"Servers": {"1": {
        "Name": "dreamscape", "Group": "DreamScape", "Host": host, "Port": port,
        "MaintenanceDB": database, "Username": user, "SSLMode": "prefer",
    }}}, indent=2) + "\n"


class DevTools(pulumi.ComponentResource):
    """The enabled admin UIs; `urls` maps each to its published address."""

    def __init__(self, name: str, args: DevToolsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:dev:Tools", name, None, opts)
        config, ports = args.config, args.host_ports
        services: list[tuple[str, spec.Service]] = []
        if config.pgadmin:
            password = spec.SecretFile("pgadmin-password", args.pgadmin_password)
            services.append(("pgadmin", spec.Service(
                name="pgadmin", component="devtools", zone=spec.Zone.MONITORING,
                reaches=frozenset({spec.Zone.DATABASE}),
                ports=(spec.Port("http", PGADMIN_PORT, host_port=ports.get("pgadmin")),),
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
                        args.postgres_host, args.postgres_port, args.postgres_user,
                        args.postgres_database)),),
                    security=WRITABLE,
                ),
            )))
        if config.redis_insight:
            services.append(("redisInsight", spec.Service(
                name="redis-insight", component="devtools", zone=spec.Zone.MONITORING,
                reaches=frozenset({spec.Zone.CACHE}),
                ports=(spec.Port("http", REDIS_INSIGHT_PORT, host_port=ports.get("redisInsight")),),
                container=spec.Container(
                    image=config.images["redisInsight"], resources=RESOURCES["redis-insight"],
                    env=spec.frozen_map({"RI_REDIS_HOST": args.redis_host,
                                         "RI_REDIS_PORT": str(args.redis_port),
                                         "RI_REDIS_ALIAS": "dreamscape"}),
                    security=WRITABLE,
                ),
            )))
        if config.kafka_ui:
            services.append(("kafkaUi", spec.Service(
                name="kafka-ui", component="devtools", zone=spec.Zone.MONITORING,
                reaches=frozenset({spec.Zone.MESSAGING}),
                ports=(spec.Port("http", KAFKA_UI_PORT, host_port=ports.get("kafkaUi")),),
                container=spec.Container(
                    image=config.images["kafkaUi"], resources=RESOURCES["kafka-ui"],
                    env=spec.frozen_map({"KAFKA_CLUSTERS_0_NAME": "dreamscape",
                                         "KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS": args.kafka_bootstrap}),
                    security=WRITABLE,
                ),
            )))
        self.deployed = [args.target.deploy_service(service, self) for _, service in services]
        self.urls = {key: f"http://localhost:{ports[key]}" for key, _ in services if key in ports}
        self.register_outputs({"urls": self.urls})
