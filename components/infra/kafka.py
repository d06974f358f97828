"""Kafka in KRaft mode (no ZooKeeper): every broker is also a controller voter.

The apache/kafka image maps `KAFKA_<PROP>` environment variables to server properties. The node id and
advertised listener depend on the member, so they come from the hostname (`kafka-<i>`) at start.
The cluster id is generated once (pulumi-random) and must never change: a new id orphans the logs.
"""

from __future__ import annotations

import shlex

from components import spec
from components.config import KafkaConfig
from components.deploy import BlueprintComponent
from components.infra.common import jvm_heap_mib, resources_of

NAME = "kafka"
PORT = 9092
CONTROLLER_PORT = 9093
EXTERNAL_PORT = 9094
UID = 1000  # appuser in apache/kafka
DATA_DIR = "/var/lib/kafka/data"
BIN = "/opt/kafka/bin"
BOOTSTRAP = f"{NAME}:{PORT}"


def quorum_voters(config: KafkaConfig) -> str:
    return ",".join(f"{i}@{spec.member_host(NAME, i)}:{CONTROLLER_PORT}" for i in range(config.brokers))


def broker_env(config: KafkaConfig, external: bool) -> dict[str, str]:
    heap = jvm_heap_mib(config.resources)
    min_isr = min(2, config.replication_factor)
    listeners = f"PLAINTEXT://:{PORT},CONTROLLER://:{CONTROLLER_PORT}"
    protocols = "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    if external:
        listeners += f",EXTERNAL://:{EXTERNAL_PORT}"
        protocols += ",EXTERNAL:PLAINTEXT"
    return {
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": quorum_voters(config),
        "KAFKA_LISTENERS": listeners,
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": protocols,
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "PLAINTEXT",
        "KAFKA_LOG_DIRS": DATA_DIR,
        "KAFKA_NUM_PARTITIONS": str(config.partitions),
        "KAFKA_DEFAULT_REPLICATION_FACTOR": str(config.replication_factor),
        "KAFKA_MIN_INSYNC_REPLICAS": str(min_isr),
        # Kafka's default, said explicitly: a replica that fell out of sync never becomes leader, so an
        # acknowledged write is never dropped for availability.
        "KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE": "false",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": str(config.replication_factor),
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": str(config.replication_factor),
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": str(min_isr),
        "KAFKA_LOG_RETENTION_HOURS": str(config.retention_hours),
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        "KAFKA_HEAP_OPTS": f"-Xmx{heap}m -Xms{heap}m",
    }


def start_command(external_address: str | None) -> tuple[str, ...]:
    advertised = f"PLAINTEXT://$(hostname).{spec.peers_name(NAME)}:{PORT}"
    if external_address:
        advertised += f",EXTERNAL://{external_address}"
    return (
        "/bin/sh",
        "-c",
        'export KAFKA_NODE_ID="$(hostname | sed \'s/.*-//\')"; '
        f'export KAFKA_ADVERTISED_LISTENERS="{advertised}"; '
        "exec /etc/kafka/docker/run",
    )


def topics_script(config: KafkaConfig, bootstrap: str) -> str:
    """Create every topic that does not exist yet; safe to run again."""
    retention_ms = config.retention_hours * 3600 * 1000
    waits = f"until {BIN}/kafka-topics.sh --bootstrap-server {bootstrap} --list >/dev/null 2>&1; do sleep 3; done"
    creates = [
        " ".join([
            f"{BIN}/kafka-topics.sh", "--bootstrap-server", bootstrap, "--create", "--if-not-exists",
            "--topic", shlex.quote(topic), "--partitions", str(config.partitions),
            "--replication-factor", str(config.replication_factor),
            "--config", f"retention.ms={retention_ms}",
        ])
        for topic in config.topics
    ]
    return " && ".join([waits, *creates])


def volumes(config: KafkaConfig) -> tuple[spec.DataVolume, ...]:
    return (spec.DataVolume("data", DATA_DIR, config.storage),)


def blueprint(config: KafkaConfig, cluster_id: spec.Text, external_address: str | None) -> spec.Blueprint:
    """The brokers and the topics task. `external_address` (`host:port`) adds a listener for clients
    outside the environment, published on that port (the developer's machine)."""
    external = external_address is not None
    ports = [spec.Port("kafka", PORT), spec.Port("controller", CONTROLLER_PORT, audience=spec.PortAudience.PEERS)]
    if external_address is not None:
        published = int(external_address.rsplit(":", 1)[1])
        ports.append(spec.Port("kafka-external", EXTERNAL_PORT, host_port=published))
    env: dict[str, spec.Text] = {**broker_env(config, external), "CLUSTER_ID": cluster_id}
    api_check = (f"{BIN}/kafka-broker-api-versions.sh", "--bootstrap-server", f"127.0.0.1:{PORT}")
    service = spec.Service(
        name=NAME,
        component="messaging",
        zone=spec.Zone.MESSAGING,
        kind=spec.WorkloadKind.STATEFUL,
        replicas=config.brokers,
        ports=tuple(ports),
        volumes=volumes(config),
        probes=spec.Probes(
            readiness=spec.Probe(command=api_check, period_seconds=20, timeout_seconds=15),
            liveness=spec.Probe(tcp_port=PORT, period_seconds=20, failure_threshold=6),
            startup=spec.Probe(tcp_port=PORT, period_seconds=5, failure_threshold=60),
        ),
        # Every log on disk belongs to the cluster id, and the KRaft quorum is its voter set.
        identity={"clusterId": cluster_id, "voters": quorum_voters(config)},
        # Brokers on distinct nodes, one down on purpose at a time: a partition's three replicas then sit
        # on three nodes, and with one broker down two in-sync replicas (min.insync.replicas) and two of
        # three KRaft voters remain, so acks=all writes and the quorum both continue.
        redundancy=spec.Redundancy(group=NAME) if config.brokers > 1 else None,
        container=spec.Container(
            image=config.image,
            resources=resources_of(config.resources),
            command=start_command(external_address),
            env=spec.frozen_map(env),
            # The image's start script renders server.properties into /opt/kafka/config at boot,
            # so its root filesystem cannot be read-only (documented exception).
            security=spec.Security(run_as_user=UID, run_as_group=UID, fs_group=UID,
                                   read_only_root_filesystem=False),
        ),
    )
    topics = spec.Task(
        name=f"{NAME}-topics",
        component="messaging",
        zone=spec.Zone.MESSAGING,
        reaches=frozenset({spec.Zone.MESSAGING}),
        after=(NAME,),
        container=spec.Container(
            image=config.image,
            resources=spec.Resources(cpu_request="100m", cpu_limit="500m", memory_request="256Mi",
                                     memory_limit="384Mi"),
            command=("/bin/sh", "-c", topics_script(config, BOOTSTRAP)),
            env=spec.frozen_map({"KAFKA_HEAP_OPTS": "-Xmx192m"}),
            security=spec.Security(run_as_user=UID, run_as_group=UID, fs_group=None,
                                   read_only_root_filesystem=False),
        ),
    )
    return spec.Blueprint(services=(service,), tasks=(topics,))


def link() -> spec.Link:
    return spec.Link(service=NAME, zone=spec.Zone.MESSAGING, env={"KAFKA_BROKERS": BOOTSTRAP})


class Kafka(BlueprintComponent):
    """The event bus: KRaft brokers plus the provisioned event topics."""

    TYPE = "dreamscape:infra:Kafka"
