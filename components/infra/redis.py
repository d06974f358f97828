"""Redis: one node in dev, a Redis Cluster of N masters (each with a replica when asked) in prod.

The password never appears in the config file or the command line: `redis.conf` includes a secret
file holding `requirepass`/`masterauth`. In cluster mode every member announces its stable hostname
(`redis-<i>.redis-peers`, `redis-replica-<i>.redis-replica-peers`), and a bootstrap task forms the
cluster once and joins each replica to its master.

Masters and replicas are two stateful services of one redundancy group: member *i* of `redis` and
member *i* of `redis-replica` are one shard, so the platform keeps them on different machines, the
masters on distinct machines, and takes at most one member of the group down on purpose. The bootstrap
pairs them the same way (replica *i* follows master *i*), rather than letting
`redis-cli --cluster create --cluster-replicas 1` choose pairs the scheduler does not know about; and
the same step adds replicas to a cluster that was formed with masters only.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

import pulumi

from components import spec
from components.config import RedisConfig
from components.deploy import BlueprintComponent
from components.infra.common import resources_of
from components.spec import tls

NAME = "redis"
REPLICA_NAME = "redis-replica"
PORT = 6379
BUS_PORT = 16379
UID, GID = 999, 1000  # the `redis` user and group of the alpine image
CONFIG_PATH = "/usr/local/etc/redis/redis.conf"
AUTH_FILE = "redis-auth.conf"
PASSWORD_FILE = "redis-password"
_AUTH = f'REDISCLI_AUTH="$(cat {spec.SECRETS_DIR}/{PASSWORD_FILE})"'
SECURITY = spec.Security(run_as_user=UID, run_as_group=GID, fs_group=GID)


RELOAD_PERIOD_S = 30
"""How often a server looks for a renewed certificate (the kubelet itself takes up to about a minute)."""


def tls_settings(config: RedisConfig, directory: str = tls.TLS_DIR) -> list[tuple[str, str]]:
    """TLS on the client port, for replication and for the cluster bus; no plaintext port at all.

    `tls-auth-clients no`: clients prove who they are with the password (`requirepass`), over a channel
    whose server they verified; a client certificate per workload would add a second credential to
    rotate and no new guarantee. Members still present their certificate to each other (replication,
    the cluster bus), from the same CA. `redis.tlsSettings` adds the tunables (protocols, ciphers)."""
    settings = [
        ("port", "0"),
        ("tls-port", str(PORT)),
        ("tls-cert-file", f"{directory}/tls.crt"),
        ("tls-key-file", f"{directory}/tls.key"),
        ("tls-ca-cert-file", f"{directory}/ca.crt"),
        ("tls-auth-clients", "no"),
        ("tls-replication", "yes"),
    ]
    if config.mode == "cluster":
        settings.append(("tls-cluster", "yes"))
    return settings + sorted(config.tls_settings.items())


def cli_tls_args(transit_tls: bool, ca_file: str = tls.CA_FILE) -> str:
    """redis-cli's flags for a TLS server: it checks the chain against the CA (not the host name)."""
    return f"--tls --cacert {ca_file}" if transit_tls else ""


def tls_reload_script(port: int = PORT, directory: str = tls.TLS_DIR, period_s: int = RELOAD_PERIOD_S,
                      password_file: str = f"{spec.SECRETS_DIR}/{PASSWORD_FILE}") -> str:
    """A loop beside the server that hands it a renewed certificate.

    Redis reads its certificate at start and again only when a `tls-*` file setting is set
    (`CONFIG SET`), and it skips a setting whose value did not change. The kubelet writes each version of
    a Secret into a new directory and swaps the `..data` link to it, so the resolved path of `tls.crt`
    changes exactly when the certificate does: setting the three files to their resolved paths, in one
    `CONFIG SET`, makes Redis load the new key and certificate together; a failure keeps the old ones."""
    cert = f"{directory}/tls.crt"
    return (
        f'last="$(readlink -f {cert})"; while sleep {period_s}; do now="$(readlink -f {cert})"; '
        '[ "$now" = "$last" ] && continue; d="$(dirname "$now")"; '
        f'REDISCLI_AUTH="$(cat {password_file})" redis-cli --tls --cacert "$d/ca.crt" -h 127.0.0.1 -p {port} '
        'config set tls-cert-file "$d/tls.crt" tls-key-file "$d/tls.key" tls-ca-cert-file "$d/ca.crt" '
        '| grep -q OK && last="$now"; done'
    )


def redis_conf(config: RedisConfig, transit_tls: bool = False, tls_dir: str = tls.TLS_DIR) -> str:
    """Render redis.conf from typed settings (one directive per line, no secrets)."""
    settings: list[tuple[str, str]] = [
        *(tls_settings(config, tls_dir) if transit_tls else [("port", str(PORT))]),
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


def member_hosts(config: RedisConfig, name: str = NAME) -> list[str]:
    return [spec.member_host(name, i) for i in range(config.nodes)]


def replica_hosts(config: RedisConfig) -> list[str]:
    """Replica *i* follows master *i*; none unless `replicasPerMaster` is 1."""
    return member_hosts(config, REPLICA_NAME) if config.replicas_per_master else []


def server_command(config: RedisConfig, name: str = NAME, transit_tls: bool = False) -> tuple[str, ...]:
    reload = f"({tls_reload_script()}) & " if transit_tls else ""
    if config.mode != "cluster":
        return ("/bin/sh", "-c", f"{reload}exec redis-server {CONFIG_PATH}") if reload else \
            ("redis-server", CONFIG_PATH)
    # The announced hostname is per member, so it is derived from the pod/container hostname.
    return ("/bin/sh", "-c", f'{reload}exec redis-server {CONFIG_PATH} '
            f'--cluster-announce-hostname "$(hostname).{spec.peers_name(name)}"')


_KNOWN = "cluster info | tr -d '\\r' | sed -n 's/^cluster_known_nodes://p'"

_SHARD_MASTER = (
    # `cluster nodes`, line `myself`: <id> <addr> <flags> <master id|-> ...; a master's shard master is
    # itself, a replica's is the node it follows.
    "cluster nodes | tr -d '\\r' | awk '$3 ~ /myself/ { if ($3 ~ /master/) print $1; else print $4 }'"
)
_JOIN = (
    # join HOST PORT PEER PEER_PORT: make HOST a replica of the shard PEER belongs to, unless HOST is in
    # the cluster already (it knows other nodes). A shard with no member left in the cluster has lost its
    # slots: that needs an operator (docs/operations.md), never a guess.
    'join() { n="$(rcli -h "$1" -p "$2" ' + _KNOWN + ')"; '
    'if [ "${n:-1}" -gt 1 ]; then echo "$1:$2 already joined"; return 0; fi; '
    'p="$(rcli -h "$3" -p "$4" ' + _KNOWN + ')"; '
    'if [ "${p:-1}" -le 1 ]; then echo "neither $1:$2 nor $3:$4 is in the cluster: their shard is lost" >&2; '
    "return 1; fi; "
    'id="$(rcli -h "$3" -p "$4" ' + _SHARD_MASTER + ')"; '
    'rcli --cluster add-node "$1:$2" "$3:$4" --cluster-slave --cluster-master-id "$id"; }'
)


def cluster_bootstrap_script(masters: Sequence[tuple[str, int]], replicas: Sequence[tuple[str, int]] = (),
                             auth: str = _AUTH, tls_args: str = "") -> str:
    """Idempotent: wait for every member, form the cluster from the masters unless it exists, then make
    every member of a shard that is not in the cluster a replica of its shard (replica *i* follows
    master *i*; a master that came back with an empty disk follows its former replica).

    A member that already knows its peers belongs to a formed (or forming) cluster and is never touched
    again, so a second run changes nothing. Every call goes through `rcli`: redis-cli with `tls_args`
    (`cli_tls_args`), so `--cluster create` and `add-node` speak TLS to the members too."""
    if replicas and len(replicas) != len(masters):
        raise ValueError(f"{len(replicas)} replicas for {len(masters)} masters: each master gets exactly one")
    members = [*masters, *replicas]
    seeds = " ".join(f"{host}:{port}" for host, port in masters)
    waits = "; ".join(
        f"until rcli -h {shlex.quote(host)} -p {port} ping | grep -q PONG; do sleep 2; done"
        for host, port in members
    )
    first_host, first_port = masters[0]
    info = f"rcli -h {first_host} -p {first_port} cluster info | tr -d '\\r'"
    steps = [
        f"{auth}; export REDISCLI_AUTH",
        f'rcli() {{ redis-cli {tls_args} "$@"; }}' if tls_args else 'rcli() { redis-cli "$@"; }',
        _JOIN,
        waits,
        # Formed when any member knows another: a member back with an empty disk must not re-create it.
        "formed=no; " + "; ".join(
            f'n="$(rcli -h {host} -p {port} {_KNOWN})"; [ "${{n:-1}}" -gt 1 ] && formed=yes'
            for host, port in members
        ),
        'if [ "$formed" = yes ]; then echo \'cluster already formed\'; '
        f"else rcli --cluster create {seeds} --cluster-replicas 0 --cluster-yes || exit 1; "
        f"for _ in $(seq 1 60); do {info} | grep -q '^cluster_state:ok$' && break; sleep 2; done; fi",
    ]
    for (master, master_port), (replica, replica_port) in zip(masters, replicas, strict=False):
        steps.append(f"join {replica} {replica_port} {master} {master_port} || exit 1")
        steps.append(f"join {master} {master_port} {replica} {replica_port} || exit 1")
    steps.append(
        f"for _ in $(seq 1 60); do {info} | grep -q '^cluster_state:ok$' && exit 0; sleep 2; done; "
        "echo 'cluster did not reach cluster_state:ok' >&2; exit 1"
    )
    return "; ".join(steps)


def volumes(config: RedisConfig) -> tuple[spec.DataVolume, ...]:
    return (spec.DataVolume("data", "/data", config.storage),)


def certificate(config: RedisConfig, name: str = NAME) -> spec.ServerCertificate:
    """What clients dial: the service's name and, in a cluster, each member's announced hostname (a client
    follows MOVED to `redis-<i>.redis-peers`)."""
    members = member_hosts(config, name) if config.mode == "cluster" else []
    return spec.ServerCertificate(name=name, dns_names=(name, *members))


def _members(config: RedisConfig, name: str, secrets: tuple[spec.SecretFile, ...],
             redundancy: spec.Redundancy | None, after: tuple[str, ...] = (), transit_tls: bool = False,
             ) -> spec.Service:
    """One set of members (the masters, or their replicas) running the same rendered config."""
    # The probe runs beside the server and checks the chain with the server's own CA file.
    tls_args = cli_tls_args(transit_tls, tls.SERVER_CA_FILE)
    ping = spec.Probe(command=("/bin/sh", "-c", f"{_AUTH} redis-cli {tls_args} ping | grep -q PONG"
                               if transit_tls else f"{_AUTH} redis-cli ping | grep -q PONG"))
    ports = [spec.Port("redis", PORT, host_port=PORT if name == NAME else None)]
    if config.mode == "cluster":
        ports.append(spec.Port("cluster-bus", BUS_PORT, audience=spec.PortAudience.PEERS))
    return spec.Service(
        name=name,
        component="cache",
        zone=spec.Zone.CACHE,
        kind=spec.WorkloadKind.STATEFUL,
        replicas=config.nodes,
        ports=tuple(ports),
        volumes=volumes(config),
        probes=spec.Probes(readiness=ping, liveness=spec.Probe(tcp_port=PORT, period_seconds=15)),
        # Members hold hash slots: switching modes or re-slicing the masters strands the stored keys.
        identity={"mode": config.mode},
        redundancy=redundancy,
        after=after,
        certificate=certificate(config, name) if transit_tls else None,
        container=spec.Container(
            image=config.image,
            resources=resources_of(config.resources),
            command=server_command(config, name, transit_tls),
            secret_files=secrets,
            config_files=(spec.ConfigFile(CONFIG_PATH, redis_conf(config, transit_tls)),),
            security=SECURITY,
        ),
    )


def blueprint(config: RedisConfig, password: pulumi.Output[str], transit_tls: bool = False) -> spec.Blueprint:
    """The server (or the cluster's masters and replicas) and, for a cluster, the task that forms it.
    With `transit_tls` (`PlatformFacts.transit_tls`) every member speaks TLS only, and so does the task."""
    secrets = (
        spec.SecretFile(AUTH_FILE, pulumi.Output.format("requirepass {0}\nmasterauth {0}\n", password)),
        spec.SecretFile(PASSWORD_FILE, password),
    )
    if config.mode != "cluster":
        return spec.Blueprint(services=(_members(config, NAME, secrets, None, transit_tls=transit_tls),))
    paired = bool(config.replicas_per_master)
    # Masters never share a node: a failover needs the votes of a majority of masters.
    masters = _members(config, NAME, secrets, spec.Redundancy(group=NAME, ordinal_pairs=paired),
                       transit_tls=transit_tls)
    services = [masters]
    if paired:
        # Replicas may share a node with each other, never with their own master; the masters are placed
        # first, so each replica always has a node left to go to.
        services.append(_members(config, REPLICA_NAME, secrets,
                                 spec.Redundancy(group=NAME, members_apart=False, ordinal_pairs=True),
                                 after=(NAME,), transit_tls=transit_tls))
    script = cluster_bootstrap_script([(h, PORT) for h in member_hosts(config)],
                                      [(h, PORT) for h in replica_hosts(config)],
                                      tls_args=cli_tls_args(transit_tls))
    bootstrap = spec.Task(
        name=f"{NAME}-cluster-bootstrap",
        component="cache",
        zone=spec.Zone.CACHE,
        reaches=frozenset({spec.Zone.CACHE}),
        after=tuple(service.name for service in services),
        container=spec.Container(
            image=config.image,
            resources=spec.Resources(cpu_request="50m", cpu_limit="250m", memory_request="32Mi",
                                     memory_limit="64Mi"),
            command=("/bin/sh", "-c", script),
            trusts_ca=transit_tls,
            secret_files=secrets[1:],
            security=SECURITY,
        ),
    )
    return spec.Blueprint(services=tuple(services), tasks=(bootstrap,))


def nodes(config: RedisConfig) -> list[str]:
    """The addresses clients seed from: every member of a cluster, else the one server."""
    return member_hosts(config) if config.mode == "cluster" else [NAME]


def client_env(transit_tls: bool, ca_file: str = tls.CA_FILE) -> dict[str, str]:
    """The application contract's TLS variables (docs/application-contract.md)."""
    return {"REDIS_TLS": "true", "REDIS_TLS_CA": ca_file} if transit_tls else {"REDIS_TLS": "false"}


def scheme(transit_tls: bool) -> str:
    return "rediss" if transit_tls else "redis"


def link(config: RedisConfig, password: pulumi.Output[str], transit_tls: bool = False) -> spec.Link:
    secret = spec.SecretFile(PASSWORD_FILE, password)
    return spec.Link(
        service=NAME, zone=spec.Zone.CACHE,
        env={"REDIS_HOST": NAME, "REDIS_PORT": str(PORT), "REDIS_MODE": config.mode,
             "REDIS_NODES": ",".join(f"{node}:{PORT}" for node in nodes(config)),
             "REDIS_PASSWORD_FILE": secret.path, **client_env(transit_tls)},
        secret_files=(secret,),
        trusts_ca=transit_tls,
    )


def url(password: pulumi.Output[str], transit_tls: bool = False) -> pulumi.Output[str]:
    return pulumi.Output.secret(pulumi.Output.format("{0}://:{1}@{2}:{3}", scheme(transit_tls), password, NAME, PORT))


class Redis(BlueprintComponent):
    """Cache and session store: standalone in dev, Redis Cluster in prod."""

    TYPE = "dreamscape:infra:Redis"
