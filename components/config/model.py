"""The stack configuration as one validated pydantic model.

Field names are snake_case in Python and camelCase in stack files (`maxConnections`). Every model
forbids unknown keys, so a typo is an error rather than a silently ignored setting. Defaults live in
Pulumi.yaml (the project file), not here: the loader merges them before validation.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from ipaddress import IPv4Address
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.config import rules
from components.config.cluster import ClusterConfig, ClusterSshConfig
from components.config.images import is_registry_host, parse_image_reference, version_of
from components.config.offsite import OffsiteConfig
from components.config.quantities import (
    CpuQuantity,
    EffectiveCacheSize,
    MemoryQuantity,
    RedisMaxmemory,
    SharedBuffers,
    WorkMem,
    cpu_millicores,
    format_bytes,
    jvm_heap_bytes,
    memory_bytes,
    postgres_memory_bytes,
    redis_memory_bytes,
)
from components.config.section import ConfigBool, ConfigInt, Section
from components.secret_catalog import SECRET_NAMES

MAX_SCRAPE_INTERVAL_MS = 150_000
"""Half the shortest range vector of the alert rules (5m, components/monitoring/prometheus/rules.py)."""


def pinned_image(value: str) -> str:
    """An image reference Docker would pull (distribution/reference grammar, see images.py) that names
    a fixed build: a digest, or a tag other than the floating `latest`."""
    reference = parse_image_reference(value)
    if reference.tag is None and reference.digest is None:
        raise ValueError(f"expected an image pinned to a tag or digest such as 'redis:8.2.3-alpine', got {value!r}")
    if reference.digest is None and reference.tag == "latest":
        raise ValueError(f"image {value!r} uses the floating 'latest' tag; pin a version")
    return value


def _matches(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"expected {what}, got {value!r}")
        return value

    return AfterValidator(check)


Image = Annotated[str, AfterValidator(pinned_image)]
PostgresRole = Annotated[str, AfterValidator(rules.postgres_role)]
PostgresDatabase = Annotated[str, AfterValidator(rules.postgres_database)]
TopicName = Annotated[str, AfterValidator(rules.kafka_topic)]
BucketName = Annotated[str, AfterValidator(rules.s3_bucket)]
DnsLabel = Annotated[str, AfterValidator(rules.dns1123_label)]
DnsSubdomain = Annotated[str, AfterValidator(rules.dns1123_subdomain)]
DomainName = Annotated[str, AfterValidator(rules.domain_name)]

PortNumber = Annotated[ConfigInt, Field(ge=1, le=65535)]
PromDuration = Annotated[str, AfterValidator(rules.positive_prometheus_duration)]
CronSchedule = Annotated[str, AfterValidator(rules.cron_schedule)]
PastRfc3339 = Annotated[str, AfterValidator(rules.rfc3339_in_the_past)]
BarmanRetention = Annotated[str, AfterValidator(rules.barman_retention)]
PostgresTable = Annotated[str, AfterValidator(rules.postgres_table)]
CertificateDuration = Annotated[str, AfterValidator(rules.certificate_duration)]
CertificateRenewBefore = Annotated[str, AfterValidator(rules.certificate_renew_before)]


class Target(StrEnum):
    DOCKER = "docker"
    KUBERNETES = "kubernetes"


class StackKind(StrEnum):
    """Which program a stack runs (__main__.py)."""

    ENVIRONMENT = "environment"
    """DreamScape itself, on the stack's `target`."""
    CLUSTER = "cluster"
    """The k3s cluster an environment stack runs on (components/cluster; docs/cluster.md)."""


class Application(StrEnum):
    """Which sources the dev stack builds the Big Pods from (components/pods/source.py)."""

    CHECKOUTS = "checkouts"
    """The service repositories under `workspaceRoot`."""
    REFERENCE = "reference"
    """The reference application in this repository (reference-app/)."""
    AUTO = "auto"
    """The checkouts when any is present, else the reference application (with a notice)."""


MIN_MEMORY_MIB = 6
"""Docker's smallest memory limit and reservation (moby: "Minimum memory limit allowed is 6MB")."""
MIN_CPU_LIMIT_MILLICORES = 10


class ResourcesConfig(Section):
    """Requests (what the scheduler reserves) and limits (the hard ceiling)."""

    cpu: CpuQuantity
    """CPU request per replica (`500m`, `2`): what the scheduler reserves."""
    memory: MemoryQuantity
    """Memory request per replica (`512Mi`, `4Gi`)."""
    cpu_limit: CpuQuantity
    """CPU ceiling per replica."""
    memory_limit: MemoryQuantity
    """Memory ceiling per replica; the laptop budget sums these in dev."""

    @model_validator(mode="after")
    def _limits_cover_requests(self) -> Self:
        if cpu_millicores(self.cpu_limit) < cpu_millicores(self.cpu):
            raise ValueError(f"cpuLimit {self.cpu_limit!r} is below the cpu request {self.cpu!r}")
        if memory_bytes(self.memory_limit) < memory_bytes(self.memory):
            raise ValueError(f"memoryLimit {self.memory_limit!r} is below the memory request {self.memory!r}")
        # The Docker target passes memory in whole MiB, and Docker refuses anything below 6MB (moby
        # daemon_unix.go `linuxMinMemory`): a smaller value would round down to 0, Docker's "no limit".
        for key, value in (("memory", self.memory), ("memoryLimit", self.memory_limit)):
            if memory_bytes(value) // 2**20 < MIN_MEMORY_MIB:
                raise ValueError(f"{key} {value!r} is below {MIN_MEMORY_MIB}Mi: Docker refuses it (or rounds it "
                                 "down to 0, no limit at all) and no container starts in it")
        # The kernel's CFS quota is at least 1ms of the 100ms period: a smaller CPU ceiling is raised to
        # 10m by the kubelet and refused by runc on Docker.
        if cpu_millicores(self.cpu_limit) < MIN_CPU_LIMIT_MILLICORES:
            raise ValueError(f"cpuLimit {self.cpu_limit!r} is below {MIN_CPU_LIMIT_MILLICORES}m, the smallest CFS "
                             "quota (1ms per 100ms period)")
        return self


class PostgresRecoveryConfig(Section):
    """Point-in-time restore (docs/operations.md): the database is rebuilt from the off-site backups."""

    target_time: PastRfc3339
    """Replay the archived WAL up to this moment (RFC 3339 with a zone, in the past)."""


MIN_POSTGRES_MAJOR = 10
"""scram-sha-256 (password_encryption and pg_hba) arrived in PostgreSQL 10."""
MIN_REDIS_CLUSTER_MAJOR = 7
"""`cluster-preferred-endpoint-type` and `cluster-announce-hostname` arrived in Redis 7.0."""
KAFKA_REPOSITORIES = ("apache/kafka", "apache/kafka-native")
MIN_KAFKA_VERSION = (3, 7)
"""The apache/kafka images carry the `/etc/kafka/docker/run` launcher the start command runs from 3.7.0."""


class PostgresConfig(Section):
    image: Image
    """Pinned image; the data mount follows the major version (18+: /var/lib/postgresql)."""
    cluster_image_repository: Annotated[str, _matches(re.compile(r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$"),
                                                      "an image repository without a tag")]
    """Kubernetes: CloudNativePG's operand images; the tag is `image`'s version plus `clusterImageVariant`
    (`postgres:18.4-alpine` -> `<repository>:18.4-standard-trixie`), so both platforms run one version."""
    cluster_image_variant: Annotated[str, _matches(re.compile(r"^[a-z0-9][a-z0-9.-]*$"), "an image tag suffix")]
    """`standard-trixie` (locales and extensions; the Barman Cloud plugin brings its own tools) or `minimal-trixie`."""
    instances: Annotated[ConfigInt, Field(ge=1, le=9), AfterValidator(rules.odd_members)]
    """Members of the CloudNativePG cluster (a primary and streaming replicas), odd. Docker runs one server."""
    synchronous: ConfigBool
    """Kubernetes: a commit waits for one standby (no committed transaction lost with the primary); needs 3+ members."""
    recovery: PostgresRecoveryConfig | None = None
    """Kubernetes: bootstrap from the off-site backups up to `targetTime` instead of an empty database."""
    storage: MemoryQuantity
    """Size of the data volume (PVC on k3s)."""
    database: PostgresDatabase
    """Database the services use: not `postgres` nor a template, nor a reserved key word."""
    app_user: PostgresRole
    """Login role the services use (its password is generated): never the superuser `postgres`, nor `pg_*`."""
    max_connections: ConfigInt = Field(ge=10, le=10000)
    """`max_connections` (seed: 500)."""
    shared_buffers: SharedBuffers
    """`shared_buffers` (seed: 2GB): 128kB to 8TB, and with `workMem` below the memory limit."""
    effective_cache_size: EffectiveCacheSize
    """`effective_cache_size` (seed: 6GB)."""
    work_mem: WorkMem
    """`work_mem` (seed: 10MB): at least 64kB."""
    resources: ResourcesConfig
    """Requests and limits of the server."""

    @field_validator("image")
    @classmethod
    def _tag_names_the_major_version(cls, image: str) -> str:
        tag = parse_image_reference(image).tag or ""
        if not re.match(r"[0-9]+", tag):
            raise ValueError(
                f"image {image!r} needs a tag starting with the PostgreSQL major version (such as "
                "'18.4-alpine', a digest may follow): the data mount depends on it"
            )
        major = (version_of(parse_image_reference(image)) or (0,))[0]
        if major < MIN_POSTGRES_MAJOR:
            raise ValueError(
                f"image {image!r} is PostgreSQL {major}: the server is configured with scram-sha-256 "
                f"(password_encryption, initdb --auth-host), which PostgreSQL has from {MIN_POSTGRES_MAJOR}"
            )
        return image

    @property
    def cluster_image(self) -> str:
        tag = parse_image_reference(self.image).tag or ""
        version = re.match(r"\d+(\.\d+)?", tag)
        return f"{self.cluster_image_repository}:{version.group() if version else tag}-{self.cluster_image_variant}"

    @model_validator(mode="after")
    def _synchronous_needs_standbys(self) -> Self:
        # CloudNativePG's `synchronous.number` must be below the members: with fewer than three members a
        # synchronous commit stops every write as soon as the one standby is lost.
        if self.synchronous and self.instances < 3:
            raise ValueError(f"synchronous replication needs at least 3 instances, got {self.instances}")
        return self

    @model_validator(mode="after")
    def _memory_fits_the_container(self) -> Self:
        # shared_buffers is allocated at start-up and work_mem at least once per query: both must fit the
        # container's memory limit, or the kernel OOM-kills the server instead of Postgres refusing work.
        used = postgres_memory_bytes(self.shared_buffers) + postgres_memory_bytes(self.work_mem)
        limit = memory_bytes(self.resources.memory_limit)
        if used >= limit:
            raise ValueError(
                f"sharedBuffers {self.shared_buffers} plus workMem {self.work_mem} must stay below "
                f"resources.memoryLimit {self.resources.memory_limit}"
            )
        return self


class RedisConfig(Section):
    image: Image
    """Pinned image."""
    mode: Literal["standalone", "cluster"]
    """`standalone` (one node) or `cluster` (Redis Cluster of `nodes` masters)."""
    nodes: ConfigInt = Field(ge=1, le=9)
    """Masters in cluster mode (at least 3); 1 when standalone."""
    replicas_per_master: ConfigInt = Field(ge=0, le=1)
    """Cluster mode: 1 gives every master a replica on another node (`redis-replica-<i>` follows
    `redis-<i>`), so losing a node or a master keeps every hash slot writable; 0 when standalone."""
    maxmemory: RedisMaxmemory
    """`maxmemory` per node (seed: 2gb): positive and below the memory limit."""
    maxmemory_policy: Literal[
        "noeviction", "allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu", "allkeys-random"
    ]
    """`maxmemory-policy` (seed: allkeys-lru)."""
    storage: MemoryQuantity
    """Data volume per node (append-only file)."""
    resources: ResourcesConfig
    """Requests and limits per node."""
    tls_settings: dict[Annotated[str, AfterValidator(rules.redis_tls_setting)], str]
    """Extra redis.conf TLS tunables where the platform has transit TLS (`tls-protocols`, `tls-ciphersuites`,
    `tls-session-cache-timeout`, ...); the certificate files, ports and client-auth settings are the
    program's (docs/pki.md). Ignored where traffic stays plaintext (dev)."""

    @field_validator("tls_settings")
    @classmethod
    def _one_line_values(cls, settings: dict[str, str]) -> dict[str, str]:
        # Each becomes one redis.conf line: a newline would start a directive of its own.
        bad = sorted(name for name, value in settings.items() if not value.strip() or "\n" in value)
        if bad:
            raise ValueError(f"values of {', '.join(bad)} must be one non-empty line")
        return settings

    @model_validator(mode="after")
    def _maxmemory_fits_the_container(self) -> Self:
        # Redis evicts at maxmemory; above the container limit the kernel kills it first (and a fork for
        # AOF rewrite needs headroom), so maxmemory must be below the limit.
        if redis_memory_bytes(self.maxmemory) >= memory_bytes(self.resources.memory_limit):
            raise ValueError(
                f"maxmemory {self.maxmemory} must stay below resources.memoryLimit {self.resources.memory_limit}"
            )
        return self

    @model_validator(mode="after")
    def _image_knows_cluster_hostnames(self) -> Self:
        version = version_of(parse_image_reference(self.image))
        if self.mode == "cluster" and version is not None and version[0] < MIN_REDIS_CLUSTER_MAJOR:
            raise ValueError(
                f"image {self.image!r} is Redis {version[0]}: cluster mode uses cluster-preferred-endpoint-type "
                f"and cluster-announce-hostname, which Redis has from {MIN_REDIS_CLUSTER_MAJOR}.0 (the server "
                "would refuse its config and crash-loop)"
            )
        return self

    @model_validator(mode="after")
    def _cluster_shape(self) -> Self:
        if self.mode == "cluster" and self.nodes < 3:
            raise ValueError(f"a Redis Cluster needs at least 3 masters, got nodes={self.nodes}")
        if self.mode == "standalone" and self.nodes != 1:
            raise ValueError(f"standalone Redis runs exactly 1 node, got nodes={self.nodes}")
        if self.mode == "standalone" and self.replicas_per_master:
            raise ValueError("replicasPerMaster needs mode 'cluster': a standalone node has no cluster to join")
        return self


class KafkaConfig(Section):
    image: Image
    """Pinned apache/kafka image (4.x is KRaft-only)."""
    brokers: ConfigInt = Field(ge=1, le=9)
    """Brokers, each also a KRaft controller voter: an odd count (a majority quorum), on distinct nodes."""
    partitions: ConfigInt = Field(ge=1, le=1000)
    """`num.partitions` and the partitions of provisioned topics (seed: 6)."""
    replication_factor: ConfigInt = Field(ge=1)
    """Replication of topics and internal topics (seed: 3); at most `brokers`."""
    retention_hours: ConfigInt = Field(ge=1, le=rules.INT32_MAX)
    """`log.retention.hours` (seed: 168); Kafka declares it an INT."""
    topics: list[TopicName]
    """Event topics created (if missing) on every `up`."""
    storage: MemoryQuantity
    """Log volume per broker."""
    resources: ResourcesConfig
    """Requests and limits per broker; the JVM heap is half the memory limit."""

    @field_validator("brokers")
    @classmethod
    def _voters_form_a_majority_quorum(cls, brokers: int) -> int:
        return rules.majority_quorum(brokers, "brokers (every broker is a KRaft controller voter)")

    @field_validator("image")
    @classmethod
    def _image_has_the_launcher(cls, image: str) -> str:
        reference = parse_image_reference(image)
        version = version_of(reference)
        if not reference.name.endswith(KAFKA_REPOSITORIES) or (version is not None and version < MIN_KAFKA_VERSION):
            raise ValueError(
                f"image {image!r} cannot run the broker's start command, which execs the apache/kafka image's "
                f"launcher /etc/kafka/docker/run (apache/kafka or apache/kafka-native, "
                f"{'.'.join(map(str, MIN_KAFKA_VERSION))} or newer)"
            )
        return image

    @model_validator(mode="after")
    def _heap_fits_the_container(self) -> Self:
        # The broker's heap (-Xmx/-Xms) is half the limit but at least 128MiB; with metaspace, threads and
        # direct buffers on top, a heap of half the limit or more gets the JVM OOM-killed at start.
        heap, limit = jvm_heap_bytes(self.resources.memory_limit), memory_bytes(self.resources.memory_limit)
        if heap * 2 > limit:
            raise ValueError(
                f"the JVM heap ({format_bytes(heap)}) would take more than half of resources.memoryLimit "
                f"{self.resources.memory_limit}: the broker needs at least {format_bytes(2 * heap)}"
            )
        return self

    @model_validator(mode="after")
    def _replication_fits(self) -> Self:
        if self.replication_factor > self.brokers:
            raise ValueError(
                f"replicationFactor {self.replication_factor} exceeds the {self.brokers} broker(s)"
            )
        collisions = rules.kafka_topic_collisions(self.topics)
        if collisions:
            raise ValueError("topics: " + "; ".join(collisions))
        return self


class MinioConfig(Section):
    image: Image
    """Pinned server image (the community edition's last release is the default)."""
    client_image: Image
    """Pinned `mc` image for bucket provisioning."""
    buckets: Annotated[list[BucketName], Field(min_length=1)]
    """Buckets created on every `up` (`mb --ignore-existing`); the first is the one services get
    (`MINIO_BUCKET`), so there is at least one, and none twice."""

    @field_validator("buckets")
    @classmethod
    def _buckets_distinct(cls, buckets: list[str]) -> list[str]:
        twice = sorted({bucket for bucket in buckets if buckets.count(bucket) > 1})
        if twice:
            raise ValueError(f"buckets {twice} are listed twice")
        return buckets
    public_buckets: list[BucketName] = []
    """Buckets anyone may download objects from by key, without credentials (`s3:GetObject` only, no
    listing): the VR assets the browser loads (seed 000 reads them at `http://<minio>/<bucket>/<key>`).
    Created like `buckets` when not listed there (so the policy never names a missing bucket)."""
    storage: MemoryQuantity
    """Data volume size."""
    resources: ResourcesConfig
    """Requests and limits."""


class PrometheusConfig(Section):
    image: Image
    retention: PromDuration
    """TSDB retention (`--storage.tsdb.retention.time`): 30d in prod, short in dev."""
    scrape_interval: PromDuration
    """How often every target is scraped; at most 2m30s (the alert rules' 5m rate windows need two samples)."""
    storage: MemoryQuantity
    resources: ResourcesConfig

    @model_validator(mode="after")
    def _scrapes_fit_the_rate_windows(self) -> Self:
        # PromQL rate()/increase() return nothing with fewer than two samples in the range; the alert
        # rules use 5m ranges, so a slower scrape would silently switch the alerts off.
        if rules.prometheus_duration_ms(self.scrape_interval) > MAX_SCRAPE_INTERVAL_MS:
            raise ValueError(
                f"scrapeInterval {self.scrape_interval} leaves fewer than two samples in the alert rules' "
                "5m rate windows; use at most 2m30s"
            )
        return self


class MonitoredServiceConfig(Section):
    """A monitoring service with a data volume (Alertmanager)."""

    image: Image
    storage: MemoryQuantity
    resources: ResourcesConfig


class LokiConfig(Section):
    image: Image
    retention_hours: ConfigInt = Field(ge=24, le=2562047, multiple_of=24)
    """720 (30 days) in prod; a multiple of Loki's 24h index period."""
    storage: MemoryQuantity
    resources: ResourcesConfig


class ImageConfig(Section):
    """A stateless monitoring service: image and resources."""

    image: Image
    resources: ResourcesConfig


class ExportersConfig(Section):
    postgres_image: Image
    redis_image: Image
    kafka_image: Image
    nginx_image: Image
    """nginx-prometheus-exporter, one beside each Big Pod gateway (reads its stub_status)."""
    kube_state_metrics_image: Image
    """kube-state-metrics (Kubernetes only): Deployments, StatefulSets, Jobs, CronJobs, PVCs."""
    resources: ResourcesConfig
    """Per exporter container."""


class SloConfig(Section):
    """The service level objective the HTTP services are held to (HighLatency and the burn-rate alerts)."""

    availability: float
    """Fraction of user requests (probes and scrapes excluded) answered without a 5xx over 30 days."""
    latency_seconds: float = Field(gt=0)
    """The p95 request duration each service stays under (HighLatency)."""

    @field_validator("availability")
    @classmethod
    def _budget_can_burn_fast(cls, value: float) -> float:
        from components.monitoring.prometheus.rules import BURN_WINDOWS  # provider-free; kept out of import time

        # A burn-rate alert fires when the 5xx ratio exceeds factor x (1 - availability); a ratio never
        # exceeds 1, so a budget that large makes the fastest burn alert impossible (SRE Workbook ch. 5).
        fastest = max(window.factor for window in BURN_WINDOWS)
        if not 0 < value < 1 or fastest * (1 - value) >= 1:
            raise ValueError(f"availability must be below 1 and above {1 - 1 / fastest:.4f}: the fastest burn-rate "
                             f"alert fires at {fastest:g}x the error budget, which must stay a ratio below 1")
        return value


class MonitoringConfig(Section):
    """Prometheus, Alertmanager, Grafana, Loki, Alloy and the infrastructure exporters."""

    slo: SloConfig
    """The HTTP services' objective: availability (5xx) and p95 latency."""
    prometheus: PrometheusConfig
    alertmanager: MonitoredServiceConfig
    grafana: ImageConfig
    loki: LokiConfig
    alloy: ImageConfig
    exporters: ExportersConfig


HTTPS_PORT = 443
_SMARTHOST = re.compile(r"(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+", re.ASCII)


class EmailAlertingConfig(Section):
    to: str
    from_: str = Field(alias="from")
    smarthost: str
    """host:port of the SMTP relay (Alertmanager crash-loops on a smarthost without a port)."""
    username: str | None = None
    password: SecretStr | None = None

    @field_validator("to", "from_")
    @classmethod
    def _address(cls, value: str) -> str:
        if not value.isascii() or not _EMAIL.fullmatch(value):
            raise ValueError(f"{value!r} is not an email address")
        return value

    @field_validator("smarthost")
    @classmethod
    def _host_port(cls, value: str) -> str:
        match = _SMARTHOST.fullmatch(value)
        if not match or not 1 <= int(match.group("port")) <= 65535:
            raise ValueError(f"smarthost {value!r} must be host:port, e.g. smtp.example.com:587")
        return value

    @model_validator(mode="after")
    def _credentials_pair(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("email username and password go together")
        if self.username is not None and not self.username.strip():
            raise ValueError("email username must not be empty")
        if self.password is not None and not self.password.get_secret_value().strip():
            raise ValueError("email password must not be empty")
        return self


class AlertingConfig(Section):
    """Alert receivers. Set as SECRET config (`pulumi config set --secret --path alerting.slackWebhook ...`).
    Alertmanager accepts a receiver without integrations and drops what it gets, so a stack without
    receivers alerts nobody: prod (and any stack that protects its data) must name one, or say why not in
    `withoutReceivers`."""

    email: EmailAlertingConfig | None = None
    slack_webhook: SecretStr | None = None
    """An https:// incoming-webhook URL (amtool accepts any string; a real Alertmanager then drops alerts)."""
    slack_channel: str | None = None
    pagerduty_routing_key: SecretStr | None = None
    without_receivers: str | None = None
    """The reason this stack deliberately sends its alerts nowhere (they stay visible in Alertmanager's UI).
    Required on prod and on stacks with protectData when no receiver is set; refused next to a receiver."""

    @property
    def receivers(self) -> tuple[str, ...]:
        """The configured receivers, by config key."""
        set_ = {"email": self.email, "slackWebhook": self.slack_webhook,
                "pagerdutyRoutingKey": self.pagerduty_routing_key}
        return tuple(key for key, value in set_.items() if value is not None)

    @field_validator("without_receivers")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("withoutReceivers must give the reason alerts go nowhere (it must not be empty)")
        return value

    @model_validator(mode="after")
    def _receivers_or_reason(self) -> Self:
        if self.without_receivers is not None and self.receivers:
            raise ValueError(f"withoutReceivers opts out of alert delivery, but {', '.join(self.receivers)} "
                             "is set: remove one or the other")
        return self

    @field_validator("slack_webhook")
    @classmethod
    def _https_webhook(cls, value: SecretStr | None) -> SecretStr | None:
        # The message never repeats the value: it is a secret.
        if value is not None:
            try:
                rules.https_url(value.get_secret_value(), "slackWebhook")
            except ValueError:
                raise ValueError("slackWebhook must be an https:// URL with a host (the value is not shown: "
                                 "secret)") from None
        return value

    @field_validator("pagerduty_routing_key")
    @classmethod
    def _routing_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("pagerdutyRoutingKey must not be empty")
        return value

    @field_validator("slack_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("slackChannel must not be empty (leave it unset for the webhook's default)")
        return value

    def receiver_ports(self) -> tuple[int, ...]:
        """The TCP ports Alertmanager opens to reach the configured receivers: the webhook URL's port
        (443 unless it names one), PagerDuty's events API (Alertmanager's default https URL) and the
        SMTP relay's port. Nothing when no receiver is set."""
        ports = set()
        if self.slack_webhook is not None:
            ports.add(urlsplit(self.slack_webhook.get_secret_value()).port or HTTPS_PORT)
        if self.pagerduty_routing_key is not None:
            ports.add(HTTPS_PORT)
        if self.email is not None:
            ports.add(int(self.email.smarthost.rpartition(":")[2]))
        return tuple(sorted(ports))

    @model_validator(mode="after")
    def _channel_needs_webhook(self) -> Self:
        # The Slack receiver exists only with a webhook; a channel alone would be silently ignored.
        if self.slack_channel is not None and self.slack_webhook is None:
            raise ValueError("slackChannel is set without slackWebhook: no Slack receiver is configured, so the "
                             "channel would be ignored; set alerting.slackWebhook (secret) too, or remove it")
        return self


class RegistryAuthConfig(Section):
    """Pull credentials for the private image registry (`registry`). Set as SECRET config:
    `make config STACK=prod ARGS="set --path registryAuth.username <user>"` and
    `make config STACK=prod ARGS="set --secret --path registryAuth.password <read-only token>"`."""

    username: str | None = None
    password: SecretStr | None = None
    server: str | None = None
    """The registry host; default: the host part of `registry` (e.g. `ghcr.io`)."""

    @model_validator(mode="after")
    def _credentials_pair(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("registryAuth username and password go together")
        # An empty user or password makes the registry answer 401 on every pull (the kubelet then backs
        # off; Docker reports "unauthorized"), never a config-time error.
        if self.username is not None and not self.username.strip():
            raise ValueError("registryAuth username must not be empty")
        if self.password is not None and not self.password.get_secret_value().strip():
            raise ValueError("registryAuth password must not be empty")
        if self.server is not None and self.username is None:
            raise ValueError("registryAuth server is set without username and password: it would be ignored")
        if self.server is not None and not is_registry_host(self.server):
            raise ValueError(f"registryAuth server {self.server!r} is not a registry host such as 'ghcr.io'")
        return self


class DockerConfig(Section):
    """Local Docker daemon settings (dev)."""

    host: Annotated[str, AfterValidator(rules.docker_host)] | None = None
    """Docker daemon address (`unix:///var/run/docker.sock`, `tcp://host:2376`, `ssh://user@host`); the
    local default socket when unset."""
    publish_address: IPv4Address
    """Address host ports are published on (keep 127.0.0.1: only this machine)."""
    host_ports: dict[str, PortNumber]
    """Overrides of the published host ports, by port name (`postgres`, `web`, `auth-debug`, ...). Each
    port declares its own default; an unknown name, or two ports on one host port, is an error."""


class EdgeConfig(Section):
    """The public edge on k3s: Traefik, Let's Encrypt through cert-manager (docs/edge.md)."""

    manage_traefik: ConfigBool
    """Own the cluster-wide `traefik` HelmChartConfig (replicas, disruption budget). Shared review clusters
    leave it to the cluster's owner (prod)."""
    traefik_replicas: ConfigInt = Field(ge=2)
    """Traefik replicas when this stack manages Traefik; at least 2 so that one node lost or drained
    leaves the edge up (certificates are in Secrets, so replicas share no state)."""
    acme_email: Annotated[str, AfterValidator(rules.acme_email)]
    """The ACME account contact: a real address (Let's Encrypt refuses reserved domains such as example.com)."""
    acme_server: Annotated[str, AfterValidator(lambda url: rules.https_url(url, "acmeServer"))]
    """The ACME directory URL of the production ClusterIssuer (`spec.acme.server`), created by the stack that
    installs operators."""
    cert_resolver: DnsLabel
    """The cert-manager ClusterIssuer this stack's Ingresses name (`letsencrypt`, or `letsencrypt-staging` on
    review stacks)."""
    rate_limit_average: ConfigInt = Field(ge=1)
    """Requests per second per client, on average."""
    rate_limit_burst: ConfigInt = Field(ge=1)
    """Requests a client may send at once above the average; at least the average."""
    hsts_seconds: ConfigInt = Field(ge=0, le=rules.INT64_MAX)

    @model_validator(mode="after")
    def _burst_covers_average(self) -> Self:
        # Traefik's rateLimit middleware fills a token bucket at `average` per second holding `burst`
        # tokens: a burst below the average caps the rate at the burst, not the average.
        if self.rate_limit_burst < self.rate_limit_average:
            raise ValueError(
                f"rateLimitBurst {self.rate_limit_burst} is below rateLimitAverage {self.rate_limit_average}"
            )
        return self


class PkiConfig(Section):
    """The environment's internal CA and the server certificates it issues (cert-manager, docs/security.md).

    Go durations (`2160h`), as cert-manager's `duration` and `renewBefore` take them; its webhook refuses a
    duration below 1h, a renewBefore below 5m, and a renewBefore that is not below its duration."""

    duration: CertificateDuration
    """How long a server certificate is valid."""
    renew_before: CertificateRenewBefore
    """How long before a server certificate expires cert-manager renews it."""
    ca_duration: CertificateDuration
    """How long the environment's CA certificate is valid (its key is kept across renewals)."""
    ca_renew_before: CertificateRenewBefore
    """How long before the CA certificate expires cert-manager renews it."""

    @model_validator(mode="after")
    def _renewal_inside_validity(self) -> Self:
        # cert-manager's ValidateDuration: `duration <= renewBefore` is refused ("certificate duration %s
        # must be greater than renewBefore %s"); the certificate would be renewed from the moment it exists.
        problems = [
            f"{renew_key} {renew} is not shorter than {duration_key} {duration}"
            for duration_key, duration, renew_key, renew in (
                ("duration", self.duration, "renewBefore", self.renew_before),
                ("caDuration", self.ca_duration, "caRenewBefore", self.ca_renew_before))
            if rules.go_duration_seconds(duration) <= rules.go_duration_seconds(renew)
        ]
        if problems:
            raise ValueError("; ".join(problems) + " (cert-manager renews a certificate renewBefore ahead of expiry)")
        return self


class KubernetesConfig(Section):
    """k3s cluster settings (prod and review)."""

    kubeconfig: str | None = None
    """Kubeconfig contents or path; the ambient KUBECONFIG when unset."""
    context: str | None = None
    """Kubeconfig context; the current one when unset."""
    cluster_stack: str | None = None
    """The cluster stack (`prod-cluster`, or `<org>/dreamscape/prod-cluster`) whose `kubeconfig` output
    this stack uses (a StackReference); `kubeconfig` and the ambient KUBECONFIG when unset."""
    namespace: DnsLabel | None = None
    """Namespace of the environment; `dreamscape-<stack>` when unset."""
    storage_class: DnsSubdomain
    """StorageClass of every volume claim (k3s: local-path); a Kubernetes object name (DNS subdomain)."""
    cluster_dns: IPv4Address
    """The cluster DNS Service address (k3s default 10.43.0.10); NGINX resolves other pods through it."""

    @field_validator("kubeconfig")
    @classmethod
    def _kubeconfig_not_empty(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("kubeconfig must not be empty (leave it unset for the ambient KUBECONFIG)")
        return value

    @property
    def kubeconfig_path(self) -> Path | None:
        """The file `kubeconfig` names, when it is a path rather than contents: pulumi-kubernetes reads a
        one-line value that is not JSON or YAML as a path."""
        value = self.kubeconfig
        if value is None or "\n" in value.strip() or value.lstrip().startswith("{"):
            return None
        return Path(value).expanduser()

    @field_validator("context")
    @classmethod
    def _context_named(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("context must not be empty (leave it unset for the kubeconfig's current context)")
        return value

    @field_validator("cluster_dns")
    @classmethod
    def _cluster_dns_inside(cls, value: IPv4Address) -> IPv4Address:
        # The cluster DNS is a ClusterIP from the service CIDR (k3s: 10.43.0.0/16), always a private
        # range: a public resolver cannot answer `<service>.<namespace>.svc.cluster.local`, and NGINX would
        # send every internal name to the internet.
        if not value.is_private or value.is_loopback or value.is_unspecified:
            raise ValueError(f"clusterDns {value} is not a cluster address: it must be the kube-dns Service's "
                             "ClusterIP, in a private range (k3s: 10.43.0.10)")
        return value
    edge: EdgeConfig
    pki: PkiConfig
    install_operators: ConfigBool
    """Install the cluster-wide operators (cert-manager, CloudNativePG and its Barman Cloud plugin, KEDA)
    and their CRDs. One stack per cluster does (prod); shared review clusters rely on the cluster owner's
    installation (docs/review-environments.md)."""

    def namespace_for(self, environment: str) -> str:
        """The namespace of an environment: the configured one, else `dreamscape-<stack>`."""
        return self.namespace or f"dreamscape-{environment}"

    @model_validator(mode="after")
    def _one_kubeconfig_source(self) -> Self:
        if self.cluster_stack is not None and self.kubeconfig is not None:
            raise ValueError("kubeconfig and clusterStack both name the cluster; set one")
        return self


class PodConfig(Section):
    """Per Big Pod overrides of the catalog (components/pods/catalog.py)."""

    replicas: ConfigInt | None = Field(default=None, ge=1, le=rules.INT32_MAX)
    """Replicas (and the autoscaler's minimum); the catalog's production count when unset."""
    max_replicas: ConfigInt = Field(ge=1, le=rules.INT32_MAX)
    """The autoscaler's maximum."""
    resources: ResourcesConfig | None = None
    """Requests and limits per replica; the catalog's when unset."""


class CanaryConfig(Section):
    """Canary releases of Big Pods on Kubernetes (docs/release.md): the canary images, their share of the
    public traffic, and the promotion check's window and thresholds (tools/release/canary.py)."""

    images: dict[str, str]
    """Big Pod -> the canary's image, a tag (`3f2c1a9`) or a digest (`sha256:...`) of
    `<registry>/dreamscape-<pod>`; a pod that is absent runs no canary. Only pods with a public route (the
    canary's traffic arrives through Traefik), only on the kubernetes target."""
    weight: ConfigInt = Field(ge=0, le=100)
    """Percent of each canaried pod's public requests that go to its canary (an integer: Traefik's
    weighted service takes integer weights; the stable gets 100 - weight)."""
    window: PromDuration
    """How long the canary runs before the promotion check, and how far back the check compares the two
    releases (a PromQL range)."""
    max_error_rate_increase: float = Field(ge=0, le=1)
    """The canary's 5xx share may exceed the stable's by at most this much (0.01 = one point)."""
    max_latency_ratio: float = Field(ge=1)
    """The canary's p95 latency may be at most this multiple of the stable's."""
    min_requests: ConfigInt = Field(ge=1)
    """Fewer canary requests in the window prove nothing: the release is rolled back, never promoted."""

    @field_validator("images")
    @classmethod
    def _images_of_routed_pods(cls, images: dict[str, str]) -> dict[str, str]:
        from components.pods.catalog import CATALOG  # provider-free; imported here to keep config light

        routed = sorted(pod.name for pod in CATALOG if any(p.exposure for p in pod.ports(dev=False)))
        errors = [f"{name}: no Big Pod with a public route is named so (canaries get their traffic "
                  f"through Traefik); expected some of {routed}" for name in sorted(set(images) - set(routed))]
        for name, image in sorted(images.items()):
            # The canary pulls `<registry>/dreamscape-<pod>:<tag>` or `...@<digest>`: Docker's grammar
            # (components/config/images.py) decides; the registry is checked with the stable's reference.
            separator = "@" if ":" in image else ":"
            try:
                reference = parse_image_reference(f"dreamscape-{name}{separator}{image}")
            except ValueError as error:
                errors.append(f"{name}: {error}")
                continue
            if reference.tag == "latest":
                errors.append(f"{name}: the floating 'latest' tag names no fixed build; use the release's tag")
        if errors:
            raise ValueError("; ".join(errors))
        return images

    def image_of(self, registry: str, pod: str) -> str | None:
        """The canary's full image reference, or None when `pod` runs no canary."""
        image = self.images.get(pod)
        if image is None:
            return None
        return f"{registry}/dreamscape-{pod}{'@' if ':' in image else ':'}{image}"


class ReviewConfig(Section):
    """Set by the review-environment command; present only on `review-*` stacks."""

    pr: ConfigInt = Field(ge=1)
    """Pull request number."""
    commit: Annotated[str, _matches(re.compile(r"[0-9a-f]{7,40}"), "a git commit sha")]
    expires_at: datetime
    """When `gc` may destroy the environment."""


class CapacityConfig(Section):
    """What a Kubernetes stack may reserve: the sum of requests x replicas must fit (docs/budgets.md)."""

    cpu: CpuQuantity
    memory: MemoryQuantity


class RestoreVerifyConfig(Section):
    """Backups proven by restoring them (Kubernetes, with `offsite`): on `schedule` a job restores the latest
    base backup and WAL from the off-site store into a throwaway CloudNativePG cluster, runs the check
    query, and deletes the cluster. Its last success is the time of the last verified restore."""

    enabled: ConfigBool
    """Run the scheduled restore (off: no job, no alert; nothing proves the backups restore)."""
    schedule: CronSchedule
    """When the restore runs, in the controller's time zone (5 fields or @weekly-style)."""
    max_age_hours: ConfigInt = Field(ge=1, le=8784)
    """The alert fires when the last verified restore is older than this (a missed run plus a margin)."""
    check_table: PostgresTable | None = None
    """A table that must exist and hold rows in the restored database (`schema.table`); unset: any table."""
    timeout_minutes: ConfigInt = Field(ge=5, le=1440)
    """How long the restore may take to become ready before the run fails (recovery replays all WAL)."""
    image: Image
    """The image the job runs in: kubectl with a POSIX shell (registry.k8s.io/kubectl, the cluster's minor)."""


class BackupConfig(Section):
    """Backups: the logical dump to MinIO (Kubernetes; dev uses tools/dev_db.py) and, with `offsite`,
    CloudNativePG's continuous WAL archive and base backups to an object store outside the cluster."""

    enabled: ConfigBool
    schedule: CronSchedule
    """When the CronJob and the base backup run, in the controller's time zone (5 fields or @daily-style)."""
    bucket: BucketName
    keep: ConfigInt = Field(ge=1, le=365)
    """How many of the newest dumps to keep; older ones are deleted after each upload."""
    retention: BarmanRetention
    """How long base backups and WAL stay in the off-site store (Barman Cloud: `30d`, `4w`, `3m`)."""
    offsite: OffsiteConfig | None = None
    """The S3 bucket outside the cluster that backups are shipped to: CloudNativePG's WAL archive and base
    backups (required on prod), a cluster stack's etcd snapshots (credentials as secret config)."""
    restore_verify: RestoreVerifyConfig | None = None
    """The scheduled restore-and-verify job (Kubernetes with `offsite`; docs/operations.md)."""


class DevToolsConfig(Section):
    """Optional admin UIs, opt-in per stack, Docker (dev) only, published on the publish address."""

    pgadmin: ConfigBool
    redis_insight: ConfigBool
    kafka_ui: ConfigBool
    images: dict[Literal["pgadmin", "redisInsight", "kafkaUi"], Image]


# POSIX environment variable names (IEEE Std 1003.1, 8.1: "uppercase letters, digits, and the
# <underscore> from the portable character set ... and do not begin with a digit").
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
RESERVED_ENV_PREFIXES = ("DATABASE_", "POSTGRES_", "PG", "REDIS_", "KAFKA_", "MINIO_", "JWT_", "DREAMSCAPE_",
                         "SUPERVISOR_", "NGINX_", "NPM_")
"""Prefixes the program's links and the pod runtime own (infra links, token keys, supervisord, npm, libpq)."""
RESERVED_ENV_NAMES = frozenset({"NODE_ENV", "NODE_OPTIONS", "PORT", "HOST", "INSPECT_ADDRESS", "PATH", "HOME",
                                "USER", "HOSTNAME", "TZ", "LANG"})
"""Names the pod runtime sets per process or that change how every process starts."""
FILE_SUFFIX = "_FILE"
"""A secret named `X` reaches its service as the file named by `X_FILE` (docs/application-contract.md)."""


def env_name(value: str) -> str:
    """A POSIX environment variable name that no link or the pod runtime sets."""
    if not _ENV_NAME.fullmatch(value):
        raise ValueError(f"expected a POSIX environment variable name (A-Z, 0-9, '_', not starting with a "
                         f"digit), got {value!r}")
    if value in RESERVED_ENV_NAMES or value.startswith(RESERVED_ENV_PREFIXES):
        raise ValueError(f"{value!r} is reserved: the program sets it (infrastructure links, token keys, the "
                         f"pod runtime); reserved names: {sorted(RESERVED_ENV_NAMES)} and the prefixes "
                         f"{list(RESERVED_ENV_PREFIXES)}")
    return value


EnvName = Annotated[str, AfterValidator(env_name)]


class ServiceConfig(Section):
    """What one application service is given on top of its links: its own settings and third-party keys."""

    env: dict[EnvName, str] = {}
    """Plain environment variables (`LOG_LEVEL: debug`)."""
    secrets: dict[EnvName, SecretStr] = {}
    """Secrets, set with `pulumi config set --secret --path services.<service>.secrets.<NAME> ...`; each
    reaches the service as a file named by `<NAME>_FILE` under /run/secrets/dreamscape."""

    @model_validator(mode="after")
    def _names_unique(self) -> Self:
        clashes = sorted(set(self.env) & ({*self.secrets, *(f"{name}{FILE_SUFFIX}" for name in self.secrets)}))
        if clashes:
            raise ValueError(f"{clashes} are both plain env and secrets (a secret X sets X_FILE)")
        return self

    def variables(self) -> set[str]:
        """Every variable the service's process sees from this config."""
        return {*self.env, *(f"{name}{FILE_SUFFIX}" for name in self.secrets)}


class StackConfig(Section):
    """Everything one stack needs. See docs/config.md for each key."""

    kind: StackKind = StackKind.ENVIRONMENT
    """`environment` (DreamScape on the `target`) or `cluster` (the k3s cluster itself, docs/cluster.md)."""
    cluster: ClusterConfig | None = None
    """Cluster stacks only: the hosts, the k3s release and its etcd snapshots (docs/cluster.md)."""
    cluster_ssh: ClusterSshConfig = ClusterSshConfig()
    """Cluster stacks only: the hosts' SSH private keys, as secret config (docs/cluster.md)."""
    target: Target
    """`docker` (the local daemon) or `kubernetes` (k3s)."""
    protect_data: ConfigBool
    """Protect stateful resources and secret generators against deletion and replacement."""
    preview_identity: ConfigBool = True
    """Kubernetes: the read-only `preview` ServiceAccount that CI previews pull requests with."""
    domain: DomainName
    """Public domain; app., api. and grafana. hosts derive from it."""
    image_tag: Annotated[str, _matches(re.compile(r"(?!latest\Z)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"),
                                      "an image tag other than 'latest'")]
    """Tag of the Big Pod images (`<registry>/dreamscape-<pod>:<imageTag>`); never `latest`."""
    secret_rotation: dict[str, Annotated[ConfigInt, Field(ge=0)]]
    """Generation per secret; bumping one rotates that secret on the next `pulumi up`."""
    postgres: PostgresConfig
    """PostgreSQL server."""
    redis: RedisConfig
    """Redis (standalone or cluster)."""
    kafka: KafkaConfig
    """Kafka (KRaft)."""
    minio: MinioConfig
    """MinIO object storage."""
    docker: DockerConfig
    """Docker target settings (dev)."""
    kubernetes: KubernetesConfig
    """Kubernetes target settings (prod, review)."""
    monitoring: MonitoringConfig
    """Prometheus, Alertmanager, Grafana, Loki, Alloy and the exporters."""
    alerting: AlertingConfig
    """Alert receivers (email, Slack, PagerDuty for critical alerts), set as secret config. Prod and stacks with
    protectData need one, or `withoutReceivers` with the reason."""
    registry: Annotated[str, _matches(re.compile(r"[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*"),
                                      "an image registry such as 'ghcr.io/dreamscape'")]
    """Where prod and review stacks pull the Big Pod images from: `<registry>/dreamscape-<pod>:<imageTag>`."""
    registry_auth: RegistryAuthConfig = RegistryAuthConfig()
    """Optional pull credentials for `registry` (imagePullSecret on Kubernetes, registry auth on Docker).
    Secret config."""
    workspace_root: str
    """The directory holding dreamscape-services/ and dreamscape-frontend/ (dev builds and hot reload).
    Relative paths are relative to this repository's root."""
    application: Application
    """Dev only: build the Big Pods from the service `checkouts`, the `reference` application in this
    repository, or `auto` (checkouts when any is present, else the reference application)."""
    pods: dict[str, PodConfig]
    """Per Big Pod overrides (`core`, `business`, `experience`): replicas, maxReplicas, resources."""
    canary: CanaryConfig
    """Canary releases of the Big Pods (Kubernetes): images, traffic weight, promotion check."""
    review: ReviewConfig | None = None
    """Set by `python -m tools.review up` on review stacks only."""
    laptop_budget: MemoryQuantity
    """Docker: the sum of memory limits must fit (docs/budgets.md)."""
    capacity: CapacityConfig
    """Kubernetes: the sum of requests x replicas must fit (docs/budgets.md)."""
    allow_stateful_change: dict[str, str]
    """One-change overrides of the stateful guard: `{"postgres.data.size": "100Gi"}` (docs/operations.md)."""
    backup: BackupConfig
    """Nightly PostgreSQL backup to MinIO (Kubernetes targets)."""
    dev_tools: DevToolsConfig
    """Opt-in pgAdmin, RedisInsight and Kafka UI (Docker only; refused on Kubernetes)."""
    seed_data: ConfigBool = False
    """Dev and review: after the migrations, load the seed data and the test accounts (`npm run seed`:
    dev@dreamscape.ai, john@example.com). Refused on prod and on any stack that protects its data."""
    services: dict[str, ServiceConfig] = {}
    """Per application service (`payment`, `voyage`, ...): `env` (plain) and `secrets` (secret config, as
    files); each goes to the Big Pod that runs that service, and no other."""
    _secret_keys: frozenset[str] = PrivateAttr(default=frozenset())
    _secret_values: tuple[str, ...] = PrivateAttr(default=())

    def with_secrets(self, keys: frozenset[str], values: tuple[str, ...]) -> StackConfig:
        """This config, knowing which top-level keys the engine flags secret and their plain values."""
        copy = self.model_copy()
        copy._secret_keys = keys
        copy._secret_values = values
        return copy

    @property
    def secret_keys(self) -> frozenset[str]:
        """Top-level keys (`kubernetes`, `services`) set with `--secret` (`pulumi.runtime.is_config_secret`)."""
        return self._secret_keys

    @property
    def secret_values(self) -> tuple[str, ...]:
        """Every text value under a secret key: no resource input may carry one in plain text."""
        return self._secret_values

    @field_validator("cluster", mode="before")
    @classmethod
    def _empty_cluster_is_none(cls, value: object) -> object:
        # Pulumi.yaml declares `cluster` as an empty object (Pulumi cannot type objects); empty means unset.
        return None if value == {} else value

    @model_validator(mode="after")
    def _dev_tools_only_on_docker(self) -> Self:
        enabled = [k for k in ("pgadmin", "redis_insight", "kafka_ui") if getattr(self.dev_tools, k)]
        if enabled and self.target is not Target.DOCKER:
            names = ", ".join(to_camel(k) for k in enabled)
            raise ValueError(f"devTools ({names}) are for the docker target only; never on kubernetes")
        return self

    @model_validator(mode="after")
    def _point_in_time_recovery_needs_kubernetes(self) -> Self:
        # Point-in-time restore replays CloudNativePG's WAL archive; the Docker target has none.
        if self.target is Target.DOCKER and self.postgres.recovery is not None:
            raise ValueError("postgres.recovery needs the kubernetes target (CloudNativePG's WAL archive); "
                             "restore dev with tools/dev_db.py")
        return self

    @model_validator(mode="after")
    def _recovery_reads_the_off_site_store(self) -> Self:
        if self.postgres.recovery is not None and self.backup.offsite is None:
            raise ValueError("postgres.recovery restores from backup.offsite: set it (the store the backups are in)")
        return self

    @model_validator(mode="after")
    def _big_pod_images_parse(self) -> Self:
        # Prod and review pull `<registry>/dreamscape-<pod>:<imageTag>`: the whole reference must obey
        # Docker's grammar (a registry component with uppercase letters, `__x` or a 256-character name
        # would pass the two fields' own checks and still fail every pull).
        parse_image_reference(f"{self.registry}/dreamscape-experience:{self.image_tag}")
        return self

    @model_validator(mode="after")
    def _canaries_only_on_kubernetes(self) -> Self:
        # The Docker target runs one container per pod and has no weighted router in front of it.
        if self.canary.images and self.target is not Target.KUBERNETES:
            raise ValueError(f"canary.images ({', '.join(sorted(self.canary.images))}) needs the kubernetes "
                             "target: dev has no canary releases (docs/release.md)")
        return self

    @field_validator("pods")
    @classmethod
    def _pods_known(cls, pods: dict[str, PodConfig]) -> dict[str, PodConfig]:
        from components.pods.catalog import CATALOG  # provider-free; imported here to keep config light

        known = {pod.name for pod in CATALOG}
        unknown = sorted(set(pods) - known)
        if unknown:
            raise ValueError(f"pods names unknown pods {unknown}; expected some of {sorted(known)}")
        for name, pod in pods.items():
            replicas = pod.replicas or next(p.replicas for p in CATALOG if p.name == name)
            if pod.max_replicas < replicas:
                raise ValueError(f"pods.{name}: maxReplicas {pod.max_replicas} is below replicas {replicas}")
        return pods

    @field_validator("services")
    @classmethod
    def _services_known(cls, services: dict[str, ServiceConfig]) -> dict[str, ServiceConfig]:
        from components.pods.catalog import CATALOG
        from components.pods.model import all_services

        pods = {service.name: pod.name for pod, service in all_services(CATALOG)}
        unknown = sorted(set(services) - set(pods))
        if unknown:
            raise ValueError(f"services names unknown services {unknown}; expected some of {sorted(pods)}")
        # The services of one Big Pod share its container: one name may not mean two things in it.
        seen: dict[tuple[str, str], str] = {}
        for name, service in sorted(services.items()):
            for variable in sorted(service.variables()):
                other = seen.setdefault((pods[name], variable), name)
                if other != name:
                    raise ValueError(f"services {other} and {name} both set {variable}, and both run in the "
                                     f"{pods[name]} pod's container; use distinct names")
        return services

    @field_validator("secret_rotation")
    @classmethod
    def _rotation_names_known(cls, rotation: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(rotation) - SECRET_NAMES)
        if unknown:
            raise ValueError(f"secretRotation names unknown secrets {unknown}; expected some of {sorted(SECRET_NAMES)}")
        return rotation
