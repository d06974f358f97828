"""What a service needs, said once, independent of where it runs.

Components build these frozen dataclasses; a target (Docker or Kubernetes) turns them into resources.
Nothing here imports a provider package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

import pulumi

from components.config.quantities import cpu_millicores, memory_bytes
from components.spec.canary import Canary
from components.spec.database import Database
from components.spec.tls import ServerCertificate
from components.spec.zones import Zone

SECRETS_DIR = "/run/secrets/dreamscape"
"""Where secret files are mounted in every container (`<SECRETS_DIR>/<key>`)."""

Text = str | pulumi.Output[str]


def frozen_map(values: Mapping[str, Text] | None = None) -> Mapping[str, Text]:
    """A read-only mapping, so a frozen dataclass stays frozen all the way down."""
    return MappingProxyType(dict(values or {}))


class WorkloadKind(StrEnum):
    """Stateless replicas are interchangeable; stateful members keep identity and storage."""

    STATELESS = "stateless"
    STATEFUL = "stateful"
    PER_NODE = "per-node"
    """One instance on every node (log shippers). A DaemonSet on Kubernetes, one container on Docker."""


@dataclass(frozen=True, kw_only=True)
class Exposure:
    """A port the outside world reaches through the edge, at `<subdomain>.<environment domain>`."""

    route: str
    """The route's name (its key in the `urls` stack output)."""
    subdomain: str | None = None
    """`app` -> `app.<domain>`; the route's name when unset."""
    auth: bool = False
    """The edge asks for basic auth before it forwards (operator UIs such as Grafana)."""
    sticky: bool = False
    """Pin a client to one replica with a cookie at the edge (the target decides how)."""
    long_lived: bool = False
    """Connections stay open (WebSocket): the edge must not cut them at its usual timeouts."""


class PortAudience(StrEnum):
    """Who may open a connection to a port, beyond the members of the service's own zone (who reach
    every port of their zone: replication, cluster gossip, the exporter beside its data service)."""

    CLIENTS = "clients"
    """Every workload that declares it reaches the zone: a service's client port."""
    PEERS = "peers"
    """Only the zone's own members: a cluster bus or a controller quorum port, never a client."""
    SCRAPER = "scraper"
    """Only the metrics scraper: a port that serves metrics and nothing else (an exporter's)."""
    OPERATORS = "operators"
    """No workload: people, through a published dev port or a port-forward (an admin console)."""


@dataclass(frozen=True)
class Port:
    """A port the service listens on, and everything said about it in one place.

    `host_port` is where a target that publishes ports on the developer's machine (Docker) publishes it
    by default; `docker.hostPorts.<name>` overrides it, and targets that do not publish drop it.
    `metrics_path` makes it a Prometheus scrape target; nothing else is ever scraped.
    """

    name: str
    number: int
    host_port: int | None = None
    protocol: str = "TCP"
    metrics_path: str | None = None
    exposure: Exposure | None = None
    dev_only: bool = False
    """Only in development mode (debuggers, hot-module reload)."""
    audience: PortAudience = PortAudience.CLIENTS
    """Who may connect from outside the zone; targets that can filter by port (Kubernetes) enforce it."""

    def __post_init__(self) -> None:
        if self.audience is PortAudience.SCRAPER and self.metrics_path is None:
            raise ValueError(f"port {self.name}: a port for the scraper only needs a metrics path")
        if not 1 <= self.number <= 65535:
            raise ValueError(f"port {self.name}: {self.number} is outside 1..65535")
        if self.host_port is not None and not 1 <= self.host_port <= 65535:
            raise ValueError(f"port {self.name}: host port {self.host_port} is outside 1..65535")
        if self.metrics_path is not None and not self.metrics_path.startswith("/"):
            raise ValueError(f"port {self.name}: metrics path {self.metrics_path!r} must start with '/'")


@dataclass(frozen=True, kw_only=True)
class Resources:
    """Kubernetes-style quantities: CPU in cores or millicores, memory in Mi/Gi.

    Keyword-only: four strings in a row are too easy to swap."""

    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str

    def __post_init__(self) -> None:
        if cpu_millicores(self.cpu_request) > cpu_millicores(self.cpu_limit):
            raise ValueError(f"cpu request {self.cpu_request} exceeds limit {self.cpu_limit}")
        if memory_bytes(self.memory_request) > memory_bytes(self.memory_limit):
            raise ValueError(f"memory request {self.memory_request} exceeds limit {self.memory_limit}")


@dataclass(frozen=True)
class Probe:
    """Exactly one of `command`, `http_path` (with `port`) or `tcp_port` is set."""

    command: tuple[str, ...] | None = None
    http_path: str | None = None
    port: int | None = None
    tcp_port: int | None = None
    initial_delay_seconds: int = 0
    period_seconds: int = 10
    timeout_seconds: int = 5
    failure_threshold: int = 3
    https: bool = False
    """The HTTP probe speaks TLS (the server's port serves only TLS). Kubernetes' `scheme: HTTPS` skips
    certificate verification: a probe checks liveness, it sends nothing secret and trusts no answer."""

    def __post_init__(self) -> None:
        if self.https and self.http_path is None:
            raise ValueError("only an HTTP probe can use https")
        kinds = [self.command is not None, self.http_path is not None, self.tcp_port is not None]
        if sum(kinds) != 1:
            raise ValueError("a probe needs exactly one of command, http_path or tcp_port")
        if self.http_path is not None and self.port is None:
            raise ValueError("an HTTP probe needs a port")


@dataclass(frozen=True)
class Probes:
    readiness: Probe | None = None
    liveness: Probe | None = None
    startup: Probe | None = None


@dataclass(frozen=True)
class SecretFile:
    """A secret delivered as a file at `<SECRETS_DIR>/<key>` (for images that read `*_FILE`)."""

    key: str
    value: pulumi.Output[str]

    @property
    def path(self) -> str:
        return f"{SECRETS_DIR}/{self.key}"


@dataclass(frozen=True)
class ConfigFile:
    """A file rendered by the program. `secret=True` keeps it out of ConfigMaps and plain state."""

    path: str
    content: Text
    secret: bool = False


@dataclass(frozen=True)
class DataVolume:
    """Persistent storage. Stateful services get one per member."""

    name: str
    mount_path: str
    size: str


@dataclass(frozen=True)
class HostMount:
    """A directory of the machine running the container.

    `node=False` (default): the developer's source tree (hot reload); only the Docker target supports it.
    `node=True`: a node path such as /var/log/pods or the Docker socket, for per-node agents.
    """

    host_path: str
    mount_path: str
    read_only: bool = False
    node: bool = False


class ApiScope(StrEnum):
    """Where an `ApiRule` applies."""

    NAMESPACE = "namespace"
    """The environment's namespace only (a Role there)."""
    CLUSTER = "cluster"
    """Cluster-scoped resources, such as nodes and their kubelets' metrics (a ClusterRole). Grant it only
    for what no namespace holds: it reaches beyond the environment."""


@dataclass(frozen=True)
class ApiRule:
    """Kubernetes API access a workload needs. Ignored by Docker."""

    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...] = ("get", "list", "watch")
    scope: ApiScope = ApiScope.NAMESPACE


@dataclass(frozen=True, kw_only=True)
class CpuSignal:
    """Scale out while the replicas' CPU use is above `utilization` percent of their requests."""

    utilization: int = 70


@dataclass(frozen=True, kw_only=True)
class QueueLagSignal:
    """Scale on a Kafka consumer group's lag: one replica per `lag_per_replica` messages behind."""

    bootstrap_host: str
    """The brokers' target-neutral address (the target qualifies it for an autoscaler elsewhere)."""
    bootstrap_port: int
    topic: str
    consumer_group: str
    lag_per_replica: int


@dataclass(frozen=True, kw_only=True)
class MetricSignal:
    """Scale on a Prometheus query that gives the workload's total load: one replica per `per_replica`."""

    server_host: str
    """Prometheus' target-neutral address."""
    server_port: int
    query: str
    per_replica: float


ScaleSignal = CpuSignal | QueueLagSignal | MetricSignal


@dataclass(frozen=True)
class Autoscale:
    """Horizontal autoscaling between two replica counts on the signals the workload's load shows in.
    Rendered by targets with a scheduler (Kubernetes: a KEDA ScaledObject); Docker runs `replicas`."""

    min_replicas: int
    max_replicas: int
    signals: tuple[ScaleSignal, ...] = (CpuSignal(),)

    def __post_init__(self) -> None:
        if not 1 <= self.min_replicas < self.max_replicas:
            raise ValueError(f"autoscaling needs 1 <= min ({self.min_replicas}) < max ({self.max_replicas})")
        if not self.signals:
            raise ValueError("autoscaling needs at least one signal")


@dataclass(frozen=True, kw_only=True)
class Redundancy:
    """Members that hold copies of each other's data, and how a platform with several machines keeps
    them apart so that losing one machine loses at most one copy. A platform with one machine (Docker)
    has nothing to spread and ignores it.

    Services that name the same `group` count as one set of members: the platform takes at most
    `max_unavailable` of the whole set down on purpose at a time (a node drain), so a quorum or a
    copy of every shard stays up."""

    group: str
    """The set this service's members belong to (the service's own name when it is alone)."""
    members_apart: bool = True
    """The service's own members never share a machine (Kafka brokers, Redis masters)."""
    ordinal_pairs: bool = False
    """Member *i* of this service never shares a machine with member *i* of any other service in the
    group: they form one shard (a Redis master and its replica)."""
    max_unavailable: int = 1
    """Members of the group that may be down on purpose at once."""

    def __post_init__(self) -> None:
        if self.max_unavailable < 1:
            raise ValueError(f"redundancy group {self.group}: max_unavailable must be at least 1")


@dataclass(frozen=True)
class Security:
    """The identity and hardening the workload runs with (enforced on Kubernetes)."""

    run_as_user: int = 1000
    run_as_group: int = 1000
    fs_group: int | None = 1000
    read_only_root_filesystem: bool = True
    scratch_paths: tuple[str, ...] = ("/tmp",)
    """Writable paths on a read-only root filesystem (emptyDir / tmpfs)."""


@dataclass(frozen=True)
class ImageBuild:
    """An image built from local sources (dev). Only the Docker target builds; Kubernetes rejects it,
    because a cluster must pull a pinned image from a registry."""

    name: str
    """Local image name with a tag (never `latest`), e.g. `dreamscape-core:dev`."""
    context: str
    """Absolute path of the build context."""
    dockerfile: str
    """Absolute path of the Dockerfile."""
    target: str | None = None
    args: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    named_contexts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """BuildKit named contexts (`COPY --from=<name>`): name -> absolute directory. Files from outside the
    main context (this repository's rendered configs) come in this way, so the main context stays small."""


@dataclass(frozen=True)
class Container:
    """The process: everything a target needs to start it."""

    image: Text | ImageBuild
    resources: Resources
    command: tuple[Text, ...] | None = None
    args: tuple[Text, ...] | None = None
    env: Mapping[str, Text] = field(default_factory=frozen_map)
    secret_env: Mapping[str, pulumi.Output[str]] = field(default_factory=lambda: MappingProxyType({}))
    """Only for images that cannot read a secret from a file."""
    secret_files: tuple[SecretFile, ...] = ()
    config_files: tuple[ConfigFile, ...] = ()
    host_mounts: tuple[HostMount, ...] = ()
    security: Security = field(default_factory=Security)
    working_dir: str | None = None
    field_env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Env vars from the pod's own fields (`NODE_NAME` -> `spec.nodeName`); Kubernetes only."""
    preserved_paths: tuple[str, ...] = ()
    """Image directories kept visible under a source mount (`node_modules`): an anonymous volume on
    Docker, seeded from the image. Only meaningful with source `host_mounts`."""
    trusts_ca: bool = False
    """It connects to TLS servers of the environment: the platform mounts the environment's CA at
    `spec.CA_FILE` (components/spec/tls.py). Set only where the platform has transit TLS."""


@dataclass(frozen=True)
class Service:
    """A long-running workload reachable at `<name>` (and `<name>-<i>.<name>-peers` per member)."""

    name: str
    component: str
    container: Container
    zone: Zone
    ports: tuple[Port, ...] = ()
    reaches: frozenset[Zone] = frozenset()
    kind: WorkloadKind = WorkloadKind.STATELESS
    replicas: int = 1
    volumes: tuple[DataVolume, ...] = ()
    probes: Probes = field(default_factory=Probes)
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    annotations: Mapping[str, Text] = field(default_factory=lambda: MappingProxyType({}))
    """Pod annotations (an output where it is derived from secrets: components/rotation.py)."""
    api_rules: tuple[ApiRule, ...] = ()
    autoscale: Autoscale | None = None
    after: tuple[str, ...] = ()
    """Services this one starts after, where the target orders starts (Docker); Kubernetes pods retry."""
    identity: Mapping[str, Text] = field(default_factory=lambda: MappingProxyType({}))
    """Facts whose change orphans this service's stored data beyond its volumes (a cluster id, the
    number of voters, a cluster mode). The stateful guard compares them between updates."""
    database: Database | None = None
    """This service is a replicated database: a platform with a database operator realises it from this
    record (components/spec/database.py); others run the container."""
    scrapes: frozenset[Zone] = frozenset()
    """Zones whose metrics ports this service scrapes, and nothing else there (unlike `reaches`, which
    opens a zone's client ports). Docker joins the zones' networks; Kubernetes admits it to metrics ports."""
    internet_ports: tuple[int, ...] = ()
    """TCP ports it opens to public addresses (never a private range), e.g. its notification receivers'."""
    node_ports: tuple[int, ...] = ()
    """TCP ports it opens on the machines the platform runs on (the kubelet's, where a node agent serves
    what only the node knows), and nothing else there. A platform whose services share one host with the
    runtime (Docker) has no such boundary and ignores it."""
    redundancy: Redundancy | None = None
    """How the members survive the loss of one machine; unset: the target only prefers to spread them."""
    certificate: ServerCertificate | None = None
    """It serves TLS: the platform issues, renews and mounts this certificate (components/spec/tls.py)."""
    canary: Canary | None = None
    """A canary release beside this (stateless) service, sharing its public routes by weight."""

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise ValueError(f"{self.name}: replicas must be at least 1")
        if self.volumes and self.kind is not WorkloadKind.STATEFUL:
            raise ValueError(f"{self.name}: data volumes need a stateful workload")
        if self.canary is not None and self.kind is not WorkloadKind.STATELESS:
            raise ValueError(f"{self.name}: a canary runs beside a stateless service only")
        if self.redundancy is not None and self.redundancy.ordinal_pairs and self.kind is not WorkloadKind.STATEFUL:
            raise ValueError(f"{self.name}: members paired by ordinal need a stateful workload")
        names = [port.name for port in self.ports]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: port names repeat: {names}")

    @property
    def host(self) -> str:
        return self.name

    def member_host(self, ordinal: int) -> str:
        return member_host(self.name, ordinal)

    def port(self, name: str) -> Port:
        for port in self.ports:
            if port.name == name:
                return port
        raise KeyError(f"{self.name} has no port named {name!r}")

    @property
    def metrics_ports(self) -> tuple[Port, ...]:
        return tuple(port for port in self.ports if port.metrics_path is not None)

    @property
    def client_ports(self) -> tuple[Port, ...]:
        """The ports workloads outside the zone may open (those that declare they reach it)."""
        return tuple(port for port in self.ports if port.audience is PortAudience.CLIENTS)


@dataclass(frozen=True)
class Task:
    """A run-to-completion step (cluster bootstrap, topic and bucket creation) that runs after `after`."""

    name: str
    component: str
    container: Container
    zone: Zone
    reaches: frozenset[Zone] = frozenset()
    run_id: str = "0"
    """Changing it runs the task again (e.g. after a password rotation)."""
    schedule: str | None = None
    """A cron schedule makes it recurring (a CronJob on Kubernetes). Docker skips scheduled tasks."""
    init: Container | None = None
    """A run-to-completion step before `container`, in the same pod (an initContainer on Kubernetes),
    e.g. the backup's `pg_dump` before the upload. Only scheduled tasks may have one: the Docker target
    runs one-shot tasks as a single container and refuses an init step there."""
    shared_dir: str | None = None
    """A scratch directory both `init` and `container` see (an emptyDir on Kubernetes), for handing a
    file from the init step to the main container."""
    after: tuple[str, ...] = ()
    """Services (or earlier tasks) that must be ready, or done, before the task runs."""
    gates: tuple[str, ...] = ()
    """Services of the same blueprint that start, and roll to a new version, only after this task
    succeeded (a database migration): it runs before them, and a failure stops their rollout."""

    def __post_init__(self) -> None:
        if self.gates and self.schedule is not None:
            raise ValueError(f"{self.name}: a scheduled task cannot gate a rollout")
        if self.shared_dir is not None and self.init is None:
            raise ValueError(f"{self.name}: a shared directory hands files from an init step; there is none")


def member_host(service: str, ordinal: int) -> str:
    """The stable, target-neutral hostname of member `ordinal` of a stateful service."""
    return f"{service}-{ordinal}.{peers_name(service)}"


def peers_name(service: str) -> str:
    """The name of the peer-discovery domain (a headless Service on Kubernetes)."""
    return f"{service}-peers"
