"""Redis: one node in dev, a real N-master Redis Cluster in prod.

The password never appears in the config file or the command line: `redis.conf` includes a secret
file holding `requirepass`/`masterauth`. In cluster mode every member announces its stable hostname
(`redis-<i>.redis-peers`), and a bootstrap task forms the cluster once with `redis-cli --cluster create`.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components import spec
from components.budgets import Footprint, footprint_source
from components.config import RedisConfig, StackConfig
from components.infra.common import resources_of
from components.targets import Target

PORT = 6379
BUS_PORT = 16379
UID, GID = 999, 1000  # the `redis` user and group of the alpine image
CONFIG_PATH = "/usr/local/etc/redis/redis.conf"
AUTH_FILE = "redis-auth.conf"
PASSWORD_FILE = "redis-password"
_AUTH = f'REDISCLI_AUTH="$(cat {spec.SECRETS_DIR}/{PASSWORD_FILE})"'


@dataclass(frozen=True)
class RedisArgs:
    config: RedisConfig
    password: pulumi.Output[str]
    target: Target
    host_port: int | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


def redis_conf(config: RedisConfig) -> str:
    """Render redis.conf from typed settings (one directive per line, no secrets)."""
    settings: list[tuple[str, str]] = [
        ("port", str(PORT)),
        ("bind", "0.0.0.0"),
        ("protected-mode", "no"),  # a password is always required instead
        ("dir", "/data"),
        ("appendonly", "yes"),
        ("maxmemory", config.maxmemory),
        ("maxmemory-policy", config.maxmemory_policy),
        ("include", f"{spec.SECRETS_DIR}/{AUTH_FILE}"),
    ]
    if config.mode == "cluster":
        settings += [
            ("cluster-enabled", "yes"),
            ("cluster-config-file", "/data/nodes.conf"),
            ("cluster-node-timeout", "5000"),
            ("cluster-preferred-endpoint-type", "hostname"),
        ]
    return "".join(f"{key} {value}\n" for key, value in settings)


def member_hosts(config: RedisConfig, name: str = "redis") -> list[str]:
    return [spec.member_host(name, i) for i in range(config.nodes)]


def server_command(config: RedisConfig) -> tuple[str, ...]:
    if config.mode != "cluster":
        return ("redis-server", CONFIG_PATH)
    # The announced hostname is per member, so it is derived from the pod/container hostname.
    return ("/bin/sh", "-c",
            f'exec redis-server {CONFIG_PATH} --cluster-announce-hostname "$(hostname).{spec.peers_name("redis")}"')


def cluster_bootstrap_script(members: list[tuple[str, int]], auth: str = _AUTH) -> str:
    """Idempotent: wait for every member, then form the cluster unless it already exists."""
    seeds = " ".join(f"{host}:{port}" for host, port in members)
    waits = "; ".join(
        f"until redis-cli -h {shlex.quote(host)} -p {port} ping | grep -q PONG; do sleep 2; done"
        for host, port in members
    )
    first_host, first_port = members[0]
    info = f"redis-cli -h {first_host} -p {first_port} cluster info | tr -d '\\r'"
    return (
        f"export {auth}; {waits}; "
        # A node that already knows its peers belongs to a formed (or forming) cluster: never re-create.
        f'known="$({info} | sed -n \'s/^cluster_known_nodes://p\')"; '
        f'if [ "${{known:-1}}" -gt 1 ]; then echo \'cluster already formed\'; '
        f"else redis-cli --cluster create {seeds} --cluster-replicas 0 --cluster-yes; fi; "
        f"for i in $(seq 1 60); do {info} | grep -q '^cluster_state:ok$' && exit 0; sleep 2; done; "
        "echo 'cluster did not reach cluster_state:ok' >&2; exit 1"
    )


def volumes(config: RedisConfig) -> tuple[spec.DataVolume, ...]:
    return (spec.DataVolume("data", "/data", config.storage),)


@footprint_source("redis")
def footprint(stack: StackConfig) -> list[Footprint]:
    config = stack.redis
    return [Footprint("redis", resources_of(config.resources), config.nodes, spec.WorkloadKind.STATEFUL,
                      volumes(config), config.image)]


class Redis(pulumi.ComponentResource):
    """Cache and session store: standalone in dev, Redis Cluster in prod."""

    def __init__(self, name: str, args: RedisArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:infra:Redis", name, None, opts)
        config = args.config
        secrets = (
            spec.SecretFile(AUTH_FILE, pulumi.Output.format("requirepass {0}\nmasterauth {0}\n", args.password)),
            spec.SecretFile(PASSWORD_FILE, args.password),
        )
        ping = spec.Probe(command=("/bin/sh", "-c", f"{_AUTH} redis-cli ping | grep -q PONG"))
        ports = [spec.Port("redis", PORT, host_port=args.host_port)]
        if config.mode == "cluster":
            ports.append(spec.Port("cluster-bus", BUS_PORT))
        security = spec.Security(run_as_user=UID, run_as_group=GID, fs_group=GID)
        service = spec.Service(
            name="redis",
            component="cache",
            zone=spec.Zone.CACHE,
            kind=spec.WorkloadKind.STATEFUL,
            replicas=config.nodes,
            ports=tuple(ports),
            volumes=volumes(config),
            probes=spec.Probes(readiness=ping, liveness=spec.Probe(tcp_port=PORT, period_seconds=15)),
            labels=dict(args.labels),
            container=spec.Container(
                image=config.image,
                resources=resources_of(config.resources),
                command=server_command(config),
                secret_files=secrets,
                config_files=(spec.ConfigFile(CONFIG_PATH, redis_conf(config)),),
                security=security,
            ),
        )
        self.deployed = args.target.deploy_service(service, self)
        if config.mode == "cluster":
            args.target.run_task(
                spec.Task(
                    name="redis-cluster-bootstrap",
                    component="cache",
                    zone=spec.Zone.CACHE,
                    reaches=frozenset({spec.Zone.CACHE}),
                    container=spec.Container(
                        image=config.image,
                        resources=spec.Resources("50m", "250m", "32Mi", "64Mi"),
                        command=("/bin/sh", "-c",
                                 cluster_bootstrap_script([(h, PORT) for h in member_hosts(config)])),
                        secret_files=secrets[1:],
                        security=security,
                    ),
                ),
                self,
                after=[self.deployed],
            )
        self.host = service.host
        self.port = PORT
        self.mode = config.mode
        self.nodes = member_hosts(config) if config.mode == "cluster" else [service.host]
        self.url: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.format("redis://:{0}@{1}:{2}", args.password, service.host, PORT)
        )
        self.register_outputs({"host": self.host, "port": self.port, "mode": self.mode, "nodes": self.nodes,
                               "url": self.url})
