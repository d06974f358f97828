"""Prometheus alerting rules for DreamScape, generated from typed thresholds.

Every alert carries `severity` (`critical` pages via PagerDuty, `warning` goes to email/Slack) and keeps
the `pod`, `service` and `environment` labels of the series it fires on.

Metric sources the rules assume:
- every service: `up`, prom-client process metrics (`process_cpu_seconds_total`,
  `process_resident_memory_bytes`) and an HTTP counter + histogram whose names are in `HttpMetrics`;
- cAdvisor (`container_*`) and kubelet volume stats (`kubelet_volume_stats_*`) for containers and PVCs,
  node_exporter (`node_filesystem_*`) for host filesystems: these alerts stay silent where the metric is
  not scraped (a namespace-scoped Prometheus cannot read kubelet/cAdvisor without cluster RBAC);
- postgres_exporter (`pg_*`), redis_exporter (`redis_*`), danielqsj/kafka-exporter (`kafka_*`), MinIO v2;
- the backup job exposes `backup_timestamp_metric` (unix seconds of the last successful backup).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from components.monitoring._yaml import dump_yaml

Severity = Literal["critical", "warning"]

_BY = "environment, pod, service"


@dataclass(frozen=True)
class HttpMetrics:
    """Names of the HTTP metrics the services export (prom-client / express-prom-bundle defaults)."""

    requests_total: str = "http_requests_total"
    status_label: str = "status_code"
    duration_histogram: str = "http_request_duration_seconds"


@dataclass(frozen=True)
class PodLimits:
    """Resource limits of one Big Pod container, used to turn process usage into a ratio."""

    pod: str
    cpu_cores: float
    memory_bytes: int


@dataclass(frozen=True)
class Thresholds:
    error_ratio: float = 0.05
    latency_p95_seconds: float = 1.0
    cpu_ratio: float = 0.9
    memory_ratio: float = 0.9
    disk_free_ratio: float = 0.10
    postgres_connections_ratio: float = 0.8
    postgres_replication_lag_seconds: float = 30.0
    backup_max_age_hours: float = 26.0
    redis_memory_ratio: float = 0.9
    kafka_consumer_lag: int = 1000


@dataclass(frozen=True)
class RulesArgs:
    pod_limits: tuple[PodLimits, ...] = ()
    expected_kafka_brokers: int = 1
    http: HttpMetrics = field(default_factory=HttpMetrics)
    thresholds: Thresholds = field(default_factory=Thresholds)
    backup_timestamp_metric: str = "dreamscape_postgres_backup_last_success_timestamp_seconds"
    alert_when_backup_metric_absent: bool = False
    down_for: str = "2m"


@dataclass(frozen=True)
class AlertRule:
    alert: str
    expr: str
    for_: str
    severity: Severity
    summary: str
    description: str

    def to_data(self) -> dict[str, object]:
        return {
            "alert": self.alert,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity},
            "annotations": {"summary": self.summary, "description": self.description},
        }


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[AlertRule, ...]
    interval: str | None = None

    def to_data(self) -> dict[str, object]:
        data: dict[str, object] = {"name": self.name}
        if self.interval is not None:
            data["interval"] = self.interval
        data["rules"] = [rule.to_data() for rule in self.rules]
        return data


def _availability(args: RulesArgs) -> RuleGroup:
    return RuleGroup(
        "dreamscape-availability",
        (
            AlertRule(
                "ServiceDown",
                "up == 0",
                args.down_for,
                "critical",
                "{{ $labels.service }} in pod {{ $labels.pod }} is down",
                "Prometheus cannot scrape {{ $labels.instance }} ({{ $labels.environment }}).",
            ),
        ),
    )


def _http(args: RulesArgs) -> RuleGroup:
    h, t = args.http, args.thresholds
    errors = f'sum by ({_BY}) (rate({h.requests_total}{{{h.status_label}=~"5.."}}[5m]))'
    total = f"sum by ({_BY}) (rate({h.requests_total}[5m]))"
    p95 = f"histogram_quantile(0.95, sum by ({_BY}, le) (rate({h.duration_histogram}_bucket[5m])))"
    return RuleGroup(
        "dreamscape-http",
        (
            AlertRule(
                "HighErrorRate",
                f"({errors} / {total}) > {t.error_ratio}",
                "5m",
                "critical",
                "{{ $labels.service }} returns too many 5xx responses",
                f"More than {t.error_ratio:.0%} of requests failed with 5xx for 5 minutes "
                "(now {{ $value | humanizePercentage }}).",
            ),
            AlertRule(
                "HighLatency",
                f"{p95} > {t.latency_p95_seconds}",
                "10m",
                "warning",
                "{{ $labels.service }} p95 latency is high",
                f"p95 latency above {t.latency_p95_seconds}s for 10 minutes (now {{{{ $value }}}}s).",
            ),
        ),
    )


def _resources(args: RulesArgs) -> RuleGroup:
    t = args.thresholds
    rules: list[AlertRule] = []
    for limits in args.pod_limits:
        selector = f'{{pod="{limits.pod}"}}'
        by = "environment, pod, kubernetes_pod"
        rules.append(
            AlertRule(
                "PodCpuNearLimit",
                f"sum by ({by}) (rate(process_cpu_seconds_total{selector}[5m])) / {limits.cpu_cores}"
                f" > {t.cpu_ratio}",
                "15m",
                "warning",
                "Big Pod {{ $labels.pod }} uses most of its CPU limit",
                f"Its processes use more than {t.cpu_ratio:.0%} of {limits.cpu_cores} cores.",
            )
        )
        rules.append(
            AlertRule(
                "PodMemoryNearLimit",
                f"sum by ({by}) (process_resident_memory_bytes{selector}) / {limits.memory_bytes}"
                f" > {t.memory_ratio}",
                "10m",
                "critical",
                "Big Pod {{ $labels.pod }} is close to its memory limit",
                f"Resident memory above {t.memory_ratio:.0%} of {limits.memory_bytes} bytes: OOM kill ahead.",
            )
        )
    rules += [
        AlertRule(
            "ContainerMemoryNearLimit",
            '(container_memory_working_set_bytes{container!=""} '
            '/ (container_spec_memory_limit_bytes{container!=""} > 0))'
            f" > {t.memory_ratio}",
            "10m",
            "critical",
            "Container {{ $labels.container }} is close to its memory limit",
            "cAdvisor working set above the limit ratio (now {{ $value | humanizePercentage }}).",
        ),
        AlertRule(
            "ContainerCpuThrottled",
            "sum by (namespace, pod, container) (rate(container_cpu_cfs_throttled_periods_total[5m]))"
            " / sum by (namespace, pod, container) (rate(container_cpu_cfs_periods_total[5m])) > 0.5",
            "15m",
            "warning",
            "Container {{ $labels.container }} is CPU throttled",
            "More than half of its CFS periods are throttled: raise the CPU limit or scale out.",
        ),
        AlertRule(
            "PersistentVolumeAlmostFull",
            "kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes"
            f" < {t.disk_free_ratio}",
            "5m",
            "critical",
            "PVC {{ $labels.persistentvolumeclaim }} is almost full",
            f"Less than {t.disk_free_ratio:.0%} free (now {{{{ $value | humanizePercentage }}}}).",
        ),
        AlertRule(
            "FilesystemAlmostFull",
            'node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"} '
            f'/ node_filesystem_size_bytes{{fstype!~"tmpfs|overlay"}} < {t.disk_free_ratio}',
            "5m",
            "critical",
            "Filesystem {{ $labels.mountpoint }} is almost full",
            f"Less than {t.disk_free_ratio:.0%} free on {{{{ $labels.instance }}}}.",
        ),
        AlertRule(
            "MinioStorageAlmostFull",
            "minio_cluster_capacity_usable_free_bytes / minio_cluster_capacity_usable_total_bytes"
            f" < {t.disk_free_ratio}",
            "5m",
            "critical",
            "MinIO usable capacity is almost exhausted",
            f"Less than {t.disk_free_ratio:.0%} of usable capacity is free.",
        ),
        AlertRule(
            "MinioNodesOffline",
            "minio_cluster_nodes_offline_total > 0",
            "5m",
            "critical",
            "MinIO has offline nodes",
            "{{ $value }} MinIO node(s) offline.",
        ),
    ]
    return RuleGroup("dreamscape-resources", tuple(rules))


def _database(args: RulesArgs) -> RuleGroup:
    t = args.thresholds
    rules = [
        AlertRule(
            "PostgresDown",
            "pg_up == 0",
            "1m",
            "critical",
            "postgres_exporter cannot reach PostgreSQL",
            "pg_up is 0 on {{ $labels.instance }}.",
        ),
        AlertRule(
            "PostgresConnectionsNearMax",
            "sum by (environment, pod, instance) (pg_stat_activity_count)"
            " / max by (environment, pod, instance) (pg_settings_max_connections)"
            f" > {t.postgres_connections_ratio}",
            "5m",
            "warning",
            "PostgreSQL connections are close to max_connections",
            f"More than {t.postgres_connections_ratio:.0%} of max_connections in use "
            "(now {{ $value | humanizePercentage }}).",
        ),
        AlertRule(
            "PostgresReplicationLag",
            f"pg_replication_lag_seconds > {t.postgres_replication_lag_seconds}",
            "5m",
            "warning",
            "PostgreSQL replica is lagging",
            "Replication lag is {{ $value | humanizeDuration }}.",
        ),
        AlertRule(
            "PostgresBackupTooOld",
            f"time() - {args.backup_timestamp_metric} > {int(t.backup_max_age_hours * 3600)}",
            "10m",
            "critical",
            "The last successful PostgreSQL backup is too old",
            f"No successful backup for more than {t.backup_max_age_hours:g} hours.",
        ),
    ]
    if args.alert_when_backup_metric_absent:
        rules.append(
            AlertRule(
                "PostgresBackupMetricMissing",
                f"absent({args.backup_timestamp_metric})",
                "1h",
                "warning",
                "No backup job has reported a backup timestamp",
                f"{args.backup_timestamp_metric} is absent: "
                "the backup job never succeeded or is not scraped.",
            )
        )
    return RuleGroup("dreamscape-database", tuple(rules))


def _redis_kafka(args: RulesArgs) -> RuleGroup:
    t = args.thresholds
    return RuleGroup(
        "dreamscape-redis-kafka",
        (
            AlertRule(
                "RedisDown",
                "redis_up == 0",
                "1m",
                "critical",
                "Redis is down",
                "redis_exporter cannot reach {{ $labels.instance }}.",
            ),
            AlertRule(
                "RedisMemoryNearMax",
                f"redis_memory_used_bytes / (redis_memory_max_bytes > 0) > {t.redis_memory_ratio}",
                "5m",
                "warning",
                "Redis is close to maxmemory",
                "Evictions follow (now {{ $value | humanizePercentage }}).",
            ),
            AlertRule(
                "RedisClusterStateFail",
                "redis_cluster_state == 0",
                "2m",
                "critical",
                "Redis Cluster state is fail",
                "CLUSTER INFO reports cluster_state:fail.",
            ),
            AlertRule(
                "RedisRejectedConnections",
                "increase(redis_rejected_connections_total[5m]) > 0",
                "0m",
                "warning",
                "Redis rejects connections",
                "maxclients is reached.",
            ),
            AlertRule(
                "KafkaBrokersMissing",
                f"kafka_brokers < {args.expected_kafka_brokers}",
                "5m",
                "critical",
                "Kafka has fewer brokers than expected",
                f"{{{{ $value }}}} brokers, expected {args.expected_kafka_brokers}.",
            ),
            AlertRule(
                "KafkaUnderReplicatedPartitions",
                "sum by (environment, topic) (kafka_topic_partition_under_replicated_partition) > 0",
                "10m",
                "warning",
                "Kafka topic {{ $labels.topic }} has under-replicated partitions",
                "{{ $value }} partition(s) are under-replicated.",
            ),
            AlertRule(
                "KafkaConsumerLagHigh",
                "sum by (environment, consumergroup, topic) (kafka_consumergroup_lag)"
                f" > {t.kafka_consumer_lag}",
                "15m",
                "warning",
                "Consumer group {{ $labels.consumergroup }} lags on {{ $labels.topic }}",
                f"Lag above {t.kafka_consumer_lag} messages (now {{{{ $value }}}}).",
            ),
        ),
    )


def alert_rule_groups(args: RulesArgs) -> list[RuleGroup]:
    return [_availability(args), _http(args), _resources(args), _database(args), _redis_kafka(args)]


def render_alert_rules(args: RulesArgs) -> str:
    """The rules file Prometheus loads from `PrometheusPaths.rules_file`."""
    return dump_yaml({"groups": [group.to_data() for group in alert_rule_groups(args)]})
