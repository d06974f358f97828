"""Prometheus alerting rules, generated from typed data.

Every rule here fires in a promtool rule unit test fed with the metric names its real source emits
(tests/monitoring/test_rules_fire.py); a rule whose metric nothing emits is not written. Sources:
- `up`, and what the Node services serve on `/metrics` (the reference application, reference-app/):
  `http_requests_total{code}`, the `http_request_duration_seconds{route, method, status}` histogram,
  `process_resident_memory_bytes` and `dreamscape_dependency_up`. They serve no CPU counter, so there is
  no CPU alert here;
- nginx-prometheus-exporter (`nginx_up`) beside each Big Pod gateway;
- postgres_exporter (`pg_*`; on Kubernetes each CloudNativePG member's `cnpg_*`, renamed onto the same
  names by the scrape job: components.monitoring.database_metrics), redis_exporter (`redis_*`),
  danielqsj/kafka_exporter (`kafka_*`),
  MinIO's v2 cluster metrics (`minio_cluster_*`);
- kube-state-metrics (Kubernetes only): Deployments, StatefulSets, Jobs, CronJobs, PVC sizes and the
  containers' restarts and waiting reasons. The
  backup's success is `kube_cronjob_status_last_successful_time` of its CronJob: the CronJob controller
  sets it when a Job it started completes, and a Job completes only when the dump and the upload both
  exited 0. On Docker these series do not exist and the rules stay silent (Docker runs no schedule).
  The same holds for the scheduled restore of the off-site archive: its Job completes only when the
  throwaway cluster restored and the check query passed, so the CronJob's last success is recorded as
  `dreamscape_backup_last_verified_restore_timestamp_seconds`. A drill started by hand
  (`kubectl create job --from=cronjob/...`) counts too: the controller takes the completion time of
  every succeeded Job it controls, listed or not (kubernetes pkg/controller/cronjob, `syncCronJob`).

Every alert carries `severity` (`critical` pages, `warning` goes to chat and email) and keeps the `pod`,
`service` and `environment` labels (components.monitoring.labels) of the series it fires on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from components import spec
from components.config.quantities import memory_bytes
from components.monitoring import labels
from components.monitoring._yaml import dump_yaml

Severity = Literal["critical", "warning"]

_BY = f"{labels.ENVIRONMENT}, {labels.POD}, {labels.SERVICE}"
_REPLICA = f"{labels.ENVIRONMENT}, {labels.POD}, {labels.KUBERNETES_POD}, {labels.NODE}"
"""One Big Pod replica: `kubernetes_pod` and `node` are absent on Docker, where there is one replica."""
_MEMBER = f"{_BY}, {labels.KUBERNETES_POD}"
"""One database server: each CloudNativePG member reports its own connections, settings and copy of the
data (absent on Docker, where the one postgres-exporter reports the one server)."""


@dataclass(frozen=True)
class HttpMetrics:
    """Names of the metrics the Node services export (the reference application's `lib/kit.js`)."""

    requests_total: str = "http_requests_total"
    status_label: str = "code"
    duration: str = "http_request_duration_seconds"
    """A histogram labelled `route`, `method` and `status` (docs/application-contract.md)."""
    duration_status_label: str = "status"
    platform_routes: str = "/health|/metrics"
    """The probes' and the scraper's routes: answered for the platform, not for users, so left out of the
    latency and the error budget."""
    memory: str = "process_resident_memory_bytes"
    dependency_up: str = "dreamscape_dependency_up"
    """1 when the service's last check of one dependency (`dependency` label) succeeded."""


@dataclass(frozen=True, kw_only=True)
class PodLimits:
    """The resource limits of one Big Pod replica, to turn its processes' usage into a ratio."""

    pod: str
    processes: tuple[str, ...]
    """The `service` labels of the processes inside the pod's container (not its exporters, which report
    their own process metrics under the same `pod`)."""
    memory_bytes: int


def pod_limits(services: Iterable[spec.Service]) -> tuple[PodLimits, ...]:
    """The limits of every Big Pod container among `services`, read from what is deployed. Workloads that
    only report for a Big Pod (its NGINX exporter) are not the pod: their memory is not the pod's."""
    return tuple(
        PodLimits(pod=labels.pod_of(s),
                  processes=tuple(labels.process_of(s, p) for p in s.ports if p.metrics_path is not None),
                  memory_bytes=memory_bytes(s.container.resources.memory_limit))
        for s in services if labels.is_big_pod(s)
    )


@dataclass(frozen=True, kw_only=True)
class Slo:
    """The HTTP services' service level objective (`monitoring.slo`)."""

    availability: float = 0.995
    """Fraction of user requests answered without a 5xx."""
    latency_seconds: float = 0.5
    """The p95 request duration each service stays under."""

    @property
    def error_budget(self) -> float:
        return 1 - self.availability


@dataclass(frozen=True, kw_only=True)
class BurnWindow:
    """A multi-window burn-rate alert: the budget burns `factor` times faster than the SLO allows over both
    the long window (it is significant) and the short one (it is still happening)."""

    alert: str
    factor: float
    long: str
    short: str
    severity: Severity


BURN_WINDOWS = (
    BurnWindow(alert="ErrorBudgetBurnFast", factor=14.4, long="1h", short="5m", severity="critical"),
    BurnWindow(alert="ErrorBudgetBurnSlow", factor=6.0, long="6h", short="30m", severity="warning"),
)
"""The Google SRE Workbook's pair for a 30-day SLO ("Alerting on SLOs", multiwindow multi-burn-rate):
2% of the month's budget spent in one hour pages, 5% in six hours opens a ticket."""


@dataclass(frozen=True)
class Thresholds:
    error_ratio: float = 0.05
    memory_ratio: float = 0.9
    disk_used_ratio: float = 0.85
    postgres_connections_ratio: float = 0.8
    backup_max_age_hours: float = 26.0
    redis_memory_ratio: float = 0.9
    kafka_consumer_lag: int = 1000
    restarts_per_hour: int = 3


@dataclass(frozen=True, kw_only=True)
class BackupJob:
    """A scheduled backup: its CronJob name (kube-state-metrics' `cronjob` label)."""

    cronjob: str


@dataclass(frozen=True, kw_only=True)
class RestoreCheck:
    """A scheduled restore-and-verify job: its CronJob name, and how old its last success may get."""

    cronjob: str
    max_age_hours: float


LAST_VERIFIED_RESTORE = "dreamscape_backup_last_verified_restore_timestamp_seconds"
"""When a restore of the off-site archive last passed its check (Unix seconds), one series per job."""


@dataclass(frozen=True, kw_only=True)
class RecordingRule:
    record: str
    expr: str

    def to_data(self) -> dict[str, object]:
        return {"record": self.record, "expr": self.expr}


@dataclass(frozen=True, kw_only=True)
class RulesArgs:
    pod_limits: tuple[PodLimits, ...] = ()
    expected_kafka_brokers: int = 1
    backups: tuple[BackupJob, ...] = ()
    restore_checks: tuple[RestoreCheck, ...] = ()
    postgres_volume_claims: str = "data-postgres-[0-9]+"
    """Regex of the Postgres PVC names (`<volume>-<statefulset>-<ordinal>`)."""
    http: HttpMetrics = field(default_factory=HttpMetrics)
    thresholds: Thresholds = field(default_factory=Thresholds)
    slo: Slo = field(default_factory=Slo)
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
    rules: tuple[AlertRule | RecordingRule, ...]

    def to_data(self) -> dict[str, object]:
        return {"name": self.name, "rules": [rule.to_data() for rule in self.rules]}


def _availability(args: RulesArgs) -> RuleGroup:
    node = f"{labels.ENVIRONMENT}, {labels.NODE}"
    return RuleGroup("dreamscape-availability", (
        AlertRule(
            "ServiceDown", "up == 0", args.down_for, "critical",
            "{{ $labels.service }} in pod {{ $labels.pod }} is down",
            "Prometheus cannot scrape {{ $labels.instance }} ({{ $labels.environment }}).",
        ),
        AlertRule(
            # Every target on one node failing at once is the node, not twenty services: Alertmanager
            # inhibits the per-pod alerts of that node while this one fires.
            "NodeDown",
            f"count by ({node}) (up == 0) == count by ({node}) (up) and count by ({node}) (up) > 1",
            "2m", "critical",
            "Every scrape target on node {{ $labels.node }} is down",
            "{{ $value }} targets on one node stopped answering together ({{ $labels.environment }}).",
        ),
        AlertRule(
            "NginxDown", "nginx_up == 0", args.down_for, "critical",
            "NGINX in pod {{ $labels.pod }} does not answer its status page",
            "nginx-prometheus-exporter cannot read stub_status: the gateway is down or refusing.",
        ),
    ))


def _error_ratio(args: RulesArgs, window: str) -> str:
    h = args.http
    users = f'route!~"{h.platform_routes}"'
    failed = f'sum by ({_BY}) (rate({h.duration}_count{{{users}, {h.duration_status_label}=~"5.."}}[{window}]))'
    return f"({failed} / sum by ({_BY}) (rate({h.duration}_count{{{users}}}[{window}])))"


def _burn(args: RulesArgs, window: BurnWindow) -> AlertRule:
    rate = window.factor * args.slo.error_budget
    return AlertRule(
        window.alert,
        f"{_error_ratio(args, window.long)} > {rate:g} and {_error_ratio(args, window.short)} > {rate:g}",
        "2m" if window.severity == "critical" else "15m", window.severity,
        "{{ $labels.service }} burns its error budget",
        f"5xx above {window.factor:g}x the {args.slo.availability:.2%} SLO's budget over {window.long} and "
        f"{window.short}: at this pace the 30-day budget lasts {30 / window.factor:.1f} days.",
    )


def _http(args: RulesArgs) -> RuleGroup:
    h, t = args.http, args.thresholds
    user_routes = f'route!~"{h.platform_routes}"'
    errors = f'sum by ({_BY}) (rate({h.requests_total}{{{h.status_label}=~"5.."}}[5m]))'
    total = f"sum by ({_BY}) (rate({h.requests_total}[5m]))"
    return RuleGroup("dreamscape-http", (
        AlertRule(
            "HighErrorRate", f"({errors} / {total}) > {t.error_ratio}", "5m", "critical",
            "{{ $labels.service }} returns too many 5xx responses",
            f"More than {t.error_ratio:.0%} of requests failed with 5xx for 5 minutes "
            "(now {{ $value | humanizePercentage }}).",
        ),
        AlertRule(
            # The seed's "High latency": p95 per process above the SLO's latency for 10 minutes. A warning:
            # slow is not down, and the burn-rate alerts page when users really fail.
            "HighLatency",
            f"histogram_quantile(0.95, sum by ({_BY}, le) (rate({h.duration}_bucket{{{user_routes}}}[5m])))"
            f" > {args.slo.latency_seconds:g}",
            "10m", "warning",
            "{{ $labels.service }} answers slowly",
            f"p95 request duration above {args.slo.latency_seconds:g}s for 10 minutes "
            "(now {{ $value | humanizeDuration }}).",
        ),
        *(_burn(args, window) for window in BURN_WINDOWS),
        AlertRule(
            "DependencyDown", f"{h.dependency_up} == 0", "5m", "warning",
            "{{ $labels.service }} cannot reach {{ $labels.dependency }}",
            "The service's own check of {{ $labels.dependency }} has failed for 5 minutes "
            "(its /health answers 503 meanwhile).",
        ),
    ))


def _resources(args: RulesArgs) -> RuleGroup:
    t = args.thresholds
    rules: list[AlertRule] = []
    for limits in args.pod_limits:
        processes = "|".join(limits.processes)
        selector = f'{{{labels.POD}="{limits.pod}", {labels.SERVICE}=~"{processes}"}}'
        rules.append(AlertRule(
            "PodMemoryNearLimit",
            f"sum by ({_REPLICA}) ({args.http.memory}{selector}) / {limits.memory_bytes}"
            f" > {t.memory_ratio}",
            "10m", "critical",
            "Big Pod {{ $labels.pod }} is close to its memory limit",
            f"Resident memory above {t.memory_ratio:.0%} of {limits.memory_bytes} bytes: OOM kill ahead.",
        ))
    rules += [
        AlertRule(
            "MinioStorageAlmostFull",
            "minio_cluster_capacity_usable_free_bytes / minio_cluster_capacity_usable_total_bytes"
            f" < {1 - t.disk_used_ratio:g}",
            "5m", "critical",
            "MinIO usable capacity is almost exhausted",
            f"Less than {1 - t.disk_used_ratio:.0%} of usable capacity is free.",
        ),
        AlertRule(
            "MinioNodesOffline", "minio_cluster_nodes_offline_total > 0", "5m", "critical",
            "MinIO has offline nodes", "{{ $value }} MinIO node(s) offline.",
        ),
    ]
    return RuleGroup("dreamscape-resources", tuple(rules))


def _database(args: RulesArgs) -> RuleGroup:
    t = args.thresholds
    claims = ("kube_persistentvolumeclaim_resource_requests_storage_bytes"
              f'{{persistentvolumeclaim=~"{args.postgres_volume_claims}"}}')
    return RuleGroup("dreamscape-database", (
        AlertRule(
            "PostgresDown", "pg_up == 0", "1m", "critical",
            "PostgreSQL does not answer its metrics collector",
            "pg_up is 0 on {{ $labels.instance }}: postgres_exporter, or the member's instance manager on "
            "Kubernetes, cannot query the server.",
        ),
        AlertRule(
            "PostgresConnectionsNearMax",
            f"sum by ({_MEMBER}) (pg_stat_activity_count)"
            f" / max by ({_MEMBER}) (pg_settings_max_connections)"
            f" > {t.postgres_connections_ratio}",
            "5m", "warning",
            "PostgreSQL connections are close to max_connections",
            f"More than {t.postgres_connections_ratio:.0%} of max_connections in use "
            "(now {{ $value | humanizePercentage }}).",
        ),
        AlertRule(
            # The databases' size against the volume claimed for them (kube-state-metrics): k3s'
            # local-path volumes report no kubelet volume stats, so this is what can see a filling disk.
            "PostgresVolumeFilling",
            f"max by ({labels.ENVIRONMENT}) (sum by ({labels.ENVIRONMENT}, {labels.KUBERNETES_POD})"
            " (pg_database_size_bytes))"
            f" / on ({labels.ENVIRONMENT}) max by ({labels.ENVIRONMENT}) ({claims}) > {t.disk_used_ratio}",
            "15m", "critical",
            "PostgreSQL data fills its volume",
            f"The databases use more than {t.disk_used_ratio:.0%} of the claimed volume "
            "(now {{ $value | humanizePercentage }}).",
        ),
    ))


def _cluster(args: RulesArgs) -> RuleGroup:
    t = args.thresholds
    max_age = int(t.backup_max_age_hours * 3600)
    rules = [
        AlertRule(
            "DeploymentReplicasUnavailable",
            "kube_deployment_status_replicas_available < kube_deployment_spec_replicas",
            "10m", "warning",
            "Deployment {{ $labels.deployment }} runs fewer replicas than it wants",
            "{{ $value }} replicas available.",
        ),
        AlertRule(
            "StatefulSetReplicasNotReady",
            "kube_statefulset_status_replicas_ready < kube_statefulset_replicas",
            "10m", "critical",
            "StatefulSet {{ $labels.statefulset }} has members that are not ready",
            "{{ $value }} members ready: a stateful service is degraded.",
        ),
        AlertRule(
            # A failed Job stays in the CronJob's history: only the last day's failures alert.
            "JobFailed",
            "kube_job_status_failed > 0"
            " and on (namespace, job_name) (time() - kube_job_status_start_time < 86400)",
            "0m", "warning",
            "Job {{ $labels.job_name }} failed",
            "A run-to-completion job (bootstrap, topic creation or backup) has failed pods.",
        ),
    ]
    rules += _containers(args)
    for backup in args.backups:
        selector = f'{{cronjob="{backup.cronjob}"}}'
        rules += [
            AlertRule(
                "BackupTooOld",
                f"time() - kube_cronjob_status_last_successful_time{selector} > {max_age}",
                "10m", "critical",
                "The last successful backup ({{ $labels.cronjob }}) is too old",
                f"No successful run for more than {t.backup_max_age_hours:g} hours.",
            ),
            AlertRule(
                "BackupNeverSucceeded",
                f"(time() - kube_cronjob_created{selector} > {max_age})"
                f" unless on (namespace, cronjob) kube_cronjob_status_last_successful_time{selector}",
                "10m", "critical",
                "Backup {{ $labels.cronjob }} has never succeeded",
                f"The CronJob exists for more than {t.backup_max_age_hours:g} hours without a successful run.",
            ),
        ]
    return RuleGroup("dreamscape-cluster", tuple(rules))


def _restores(args: RulesArgs) -> RuleGroup:
    """The last verified restore as its own series (dashboards read it), and the alerts on its age."""
    rules: list[AlertRule | RecordingRule] = []
    for check in args.restore_checks:
        selector = f'{{cronjob="{check.cronjob}"}}'
        max_age = int(check.max_age_hours * 3600)
        rules += [
            RecordingRule(record=LAST_VERIFIED_RESTORE, expr=f"kube_cronjob_status_last_successful_time{selector}"),
            AlertRule(
                "RestoreVerificationTooOld",
                f"time() - {LAST_VERIFIED_RESTORE}{selector} > {max_age}",
                "10m", "warning",
                "The last verified restore ({{ $labels.cronjob }}) is too old",
                f"No restore of the off-site backups passed its check for more than {check.max_age_hours:g} "
                "hours: the backups may not restore (docs/operations.md, \"Restores are proven\").",
            ),
            AlertRule(
                "RestoreNeverVerified",
                f"(time() - kube_cronjob_created{selector} > {max_age})"
                f" unless on (namespace, cronjob) kube_cronjob_status_last_successful_time{selector}",
                "10m", "warning",
                "No restore of the backups has ever been verified ({{ $labels.cronjob }})",
                f"The restore job exists for more than {check.max_age_hours:g} hours and has never passed "
                "its check (docs/operations.md, \"Restores are proven\").",
            ),
        ]
    return RuleGroup("dreamscape-restores", tuple(rules))


_CONTAINER = f"{labels.ENVIRONMENT}, namespace, {labels.KUBERNETES_POD}, container"
_DOCKER_CONTAINER = f"{labels.ENVIRONMENT}, {labels.POD}, {labels.SERVICE}, name"


def _as_kubernetes_pod(expr: str) -> str:
    """kube-state-metrics' `pod` label arrives as `exported_pod` (our target label `pod` wins); it names a
    replica, which our vocabulary calls `kubernetes_pod`."""
    return f'label_replace({expr}, "{labels.KUBERNETES_POD}", "$1", "exported_pod", "(.+)")'


def _containers(args: RulesArgs) -> list[AlertRule]:
    t = args.thresholds
    waiting = _as_kubernetes_pod('kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}')
    restarts = _as_kubernetes_pod("increase(kube_pod_container_status_restarts_total[1h])")
    return [
        AlertRule(
            "PodCrashLooping", f"max by ({_CONTAINER}) ({waiting}) == 1", "10m", "critical",
            "Container {{ $labels.container }} of {{ $labels.kubernetes_pod }} is crash-looping",
            "The kubelet backs off restarting it (CrashLoopBackOff) for 10 minutes: read its last logs "
            "(`kubectl logs --previous`).",
        ),
        AlertRule(
            "ContainerRestartingOften", f"max by ({_CONTAINER}) ({restarts}) > {t.restarts_per_hour}", "0m",
            "warning",
            "Container {{ $labels.container }} of {{ $labels.kubernetes_pod }} restarts often",
            f"More than {t.restarts_per_hour} restarts in the last hour (now {{{{ $value }}}}).",
        ),
        AlertRule(
            # cAdvisor has no restart counter; each (re)start gives the container a new start time, and
            # the container's series keep their identity across restarts (components.monitoring.containers).
            "DockerContainerRestartingOften",
            f"max by ({_DOCKER_CONTAINER}) (changes(container_start_time_seconds[1h])) > {t.restarts_per_hour}",
            "0m", "warning",
            "Docker container {{ $labels.service }} of pod {{ $labels.pod }} restarts often",
            f"Started more than {t.restarts_per_hour} times in the last hour (now {{{{ $value }}}}): "
            "read its last logs (`docker logs`).",
        ),
    ]


def _redis_kafka(args: RulesArgs) -> RuleGroup:
    t = args.thresholds
    return RuleGroup("dreamscape-redis-kafka", (
        AlertRule("RedisDown", "redis_up == 0", "1m", "critical", "Redis is down",
                  "redis_exporter cannot reach {{ $labels.instance }}."),
        AlertRule(
            "RedisMemoryNearMax", f"redis_memory_used_bytes / (redis_memory_max_bytes > 0) > {t.redis_memory_ratio}",
            "5m", "warning", "Redis is close to maxmemory", "Evictions follow (now {{ $value | humanizePercentage }}).",
        ),
        AlertRule("RedisClusterStateFail", "redis_cluster_state == 0", "2m", "critical",
                  "Redis Cluster state is fail", "CLUSTER INFO reports cluster_state:fail."),
        AlertRule("RedisRejectedConnections", "increase(redis_rejected_connections_total[5m]) > 0", "0m",
                  "warning", "Redis rejects connections", "maxclients is reached."),
        AlertRule(
            "KafkaBrokersMissing", f"kafka_brokers < {args.expected_kafka_brokers}", "5m", "critical",
            "Kafka has fewer brokers than expected",
            f"{{{{ $value }}}} brokers, expected {args.expected_kafka_brokers}.",
        ),
        AlertRule(
            "KafkaUnderReplicatedPartitions",
            f"sum by ({labels.ENVIRONMENT}, topic) (kafka_topic_partition_under_replicated_partition) > 0",
            "10m", "warning",
            "Kafka topic {{ $labels.topic }} has under-replicated partitions",
            "{{ $value }} partition(s) are under-replicated.",
        ),
        AlertRule(
            "KafkaConsumerLagHigh",
            f"sum by ({labels.ENVIRONMENT}, consumergroup, topic) (kafka_consumergroup_lag) > {t.kafka_consumer_lag}",
            "15m", "warning",
            "Consumer group {{ $labels.consumergroup }} lags on {{ $labels.topic }}",
            f"Lag above {t.kafka_consumer_lag} messages (now {{{{ $value }}}}).",
        ),
    ))


def alert_rule_groups(args: RulesArgs) -> list[RuleGroup]:
    groups = [_availability(args), _http(args), _resources(args), _database(args), _cluster(args),
              _redis_kafka(args), _restores(args)]
    return [group for group in groups if group.rules]


def render_alert_rules(args: RulesArgs) -> str:
    """The rules file Prometheus loads from `PrometheusPaths.rules_file`."""
    return dump_yaml({"groups": [group.to_data() for group in alert_rule_groups(args)]})
