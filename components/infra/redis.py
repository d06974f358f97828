"""Redis: one node in dev, a real N-master Redis Cluster in prod.

The password never appears in the config file or the command line: `redis.conf` includes a secret
file holding `requirepass`/`masterauth`. In cluster mode every member announces its stable hostname
(`redis-<i>.redis-peers`), and a bootstrap task forms the cluster once with `redis-cli --cluster create`.
"""

from __future__ import annotations

import shlex

import pulumi

from components import spec
from components.config import RedisConfig
from components.deploy import BlueprintComponent
from components.infra.common import resources_of

NAME = "redis"
PORT = 6379
BUS_PORT = 16379
UID, GID = 999, 1000  # the `redis` user and group of the alpine image
CONFIG_PATH = "/usr/local/etc/redis/redis.conf"
AUTH_FILE = "redis-auth.conf"
PASSWORD_FILE = "redis-password"
_AUTH = f'REDISCLI_AUTH="$(cat {spec.SECRETS_DIR}/{PASSWORD_FILE})"'


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


def blueprint(config: RedisConfig, password: pulumi.Output[str]) -> spec.Blueprint:
    """The server (or cluster members) and, for a cluster, the task that forms it once."""
    secrets = (
        spec.SecretFile(AUTH_FILE, pulumi.Output.format("requirepass {0}\nmasterauth {0}\n", password)),
        spec.SecretFile(PASSWORD_FILE, password),
    )
    ping = spec.Probe(command=("/bin/sh", "-c", f"{_AUTH} redis-cli ping | grep -q PONG"))
    ports = [spec.Port("redis", PORT, host_port=PORT)]
    if config.mode == "cluster":
        ports.append(spec.Port("cluster-bus", BUS_PORT, audience=spec.PortAudience.PEERS))
    security = spec.Security(run_as_user=UID, run_as_group=GID, fs_group=GID)
    service = spec.Service(
        name=NAME,
        component="cache",
        zone=spec.Zone.CACHE,
        kind=spec.WorkloadKind.STATEFUL,
        replicas=config.nodes,
        ports=tuple(ports),
        volumes=volumes(config),
        probes=spec.Probes(readiness=ping, liveness=spec.Probe(tcp_port=PORT, period_seconds=15)),
        # Members hold hash slots: switching modes or re-slicing the masters strands the stored keys.
        identity={"mode": config.mode},
        container=spec.Container(
            image=config.image,
            resources=resources_of(config.resources),
            command=server_command(config),
            secret_files=secrets,
            config_files=(spec.ConfigFile(CONFIG_PATH, redis_conf(config)),),
            security=security,
        ),
    )
    tasks: tuple[spec.Task, ...] = ()
    if config.mode == "cluster":
        tasks = (spec.Task(
            name=f"{NAME}-cluster-bootstrap",
            component="cache",
            zone=spec.Zone.CACHE,
            reaches=frozenset({spec.Zone.CACHE}),
            after=(NAME,),
            container=spec.Container(
                image=config.image,
                resources=spec.Resources(cpu_request="50m", cpu_limit="250m", memory_request="32Mi",
                                         memory_limit="64Mi"),
                command=("/bin/sh", "-c", cluster_bootstrap_script([(h, PORT) for h in member_hosts(config)])),
                secret_files=secrets[1:],
                security=security,
            ),
        ),)
    return spec.Blueprint(services=(service,), tasks=tasks)


def nodes(config: RedisConfig) -> list[str]:
    """The addresses clients seed from: every member of a cluster, else the one server."""
    return member_hosts(config) if config.mode == "cluster" else [NAME]


def link(config: RedisConfig, password: pulumi.Output[str]) -> spec.Link:
    secret = spec.SecretFile(PASSWORD_FILE, password)
    return spec.Link(
        service=NAME, zone=spec.Zone.CACHE,
        env={"REDIS_HOST": NAME, "REDIS_PORT": str(PORT), "REDIS_MODE": config.mode,
             "REDIS_NODES": ",".join(f"{node}:{PORT}" for node in nodes(config)),
             "REDIS_PASSWORD_FILE": secret.path},
        secret_files=(secret,),
    )


def url(password: pulumi.Output[str]) -> pulumi.Output[str]:
    return pulumi.Output.secret(pulumi.Output.format("redis://:{0}@{1}:{2}", password, NAME, PORT))


class Redis(BlueprintComponent):
    """Cache and session store: standalone in dev, Redis Cluster in prod."""

    TYPE = "dreamscape:infra:Redis"
