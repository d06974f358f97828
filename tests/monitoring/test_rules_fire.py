"""Every alert rule fires in a promtool rule unit test fed with the metric names its real source emits.

Each case feeds series named and labelled as the real exporter emits them (tests/monitoring/exporter_metrics)
and carrying the target labels the scrape config gives them (job, pod, service, environment, and on
Kubernetes kubernetes_pod and node), then expects the alert with exactly the labels Alertmanager routes
and inhibits on. A rule without a case fails the coverage test: a rule nobody proved able to fire is
deleted, not kept.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.monitoring.prometheus.rules import BackupJob, PodLimits, RestoreCheck, RulesArgs, render_alert_rules
from tests.monitoring.exporter_metrics import NODE_SERVICE, all_metric_names
from tests.tooling import require_tool

ROOT = Path(__file__).resolve().parents[2]

RULES = RulesArgs(
    pod_limits=(PodLimits(pod="core", processes=("auth", "user"), memory_bytes=4 * 2**30),),
    expected_kafka_brokers=3,
    backups=(BackupJob(cronjob="postgres-backup"),),
    restore_checks=(RestoreCheck(cronjob="postgres-restore-verify", max_age_hours=192),),
)
NODE = {"environment": "prod", "node": "k3s-1"}


def target(job: str, service: str | None = None, port: int = 9000, replica: str = "abc", node: str = "k3s-1",
           pod: str | None = None) -> dict[str, str]:
    """The labels the Kubernetes scrape job puts on one target's series."""
    return {"job": job, "pod": pod or job, "service": service or job, "environment": "prod",
            "instance": f"10.42.0.5:{port}", "kubernetes_pod": f"{job}-{replica}", "node": node}


AUTH = target("core", "auth", 3001, pod="core")
USER = target("core", "user", 3002, pod="core")
NGINX = target("core", "nginx", 9113, replica="nginx-exporter-1", pod="core")
PG = {**target("postgres", port=9187, replica="1"), "role": "primary"}
"""A CloudNativePG member on prod, its `cnpg_*` names already renamed by the scrape job (tests of the
renaming against the real server: test_prometheus_server.py)."""
REDIS = target("redis-exporter", port=9121)
KAFKA = target("kafka-exporter", port=9308)
MINIO = target("minio", port=9000)
KSM = target("kube-state-metrics", port=8080)
DOCKER_CORE = {"job": "alloy", "pod": "core", "service": "core-pod", "environment": "dev",
               "instance": "alloy:12345", "name": "dreamscape-core-pod",
               "id": "/system.slice/docker-4f2c.scope", "image": "dreamscape/core:dev"}
"""A Docker container's cAdvisor series as the dev scrape job labels them (components.monitoring.containers)."""


def series(metric: str, labels: dict[str, str], **extra: str) -> str:
    return metric + "{" + ", ".join(f'{k}="{v}"' for k, v in {**labels, **extra}.items()) + "}"


@dataclass(frozen=True)
class Case:
    alert: str
    inputs: tuple[tuple[str, str], ...]
    """(series, values in promtool's expanding notation)."""
    eval_time: str
    labels: tuple[dict[str, str], ...]
    """The expected alerts' labels, without alertname and severity."""
    severity: str


CASES = (
    Case("ServiceDown", ((series("up", AUTH), "0x5"),), "3m", (AUTH,), "critical"),
    Case("NodeDown", (
        (series("up", AUTH), "0x5"), (series("up", USER), "0x5"),
        (series("up", target("core", "auth", 3001, replica="def", node="k3s-2", pod="core")), "1x5"),
    ), "4m", (NODE,), "critical"),
    Case("NginxDown", ((series("nginx_up", NGINX), "0x5"),), "3m", (NGINX,), "critical"),
    Case("HighErrorRate", (
        (series("http_requests_total", AUTH, method="POST", code="500"), "0+60x10"),
        (series("http_requests_total", AUTH, method="GET", code="200"), "0+60x10"),
    ), "10m", ({"environment": "prod", "pod": "core", "service": "auth"},), "critical"),
    Case("HighLatency", (
        # 60 requests a minute, all between 1 s and 2.5 s: p95 is about 2.4 s, far above the 0.5 s SLO.
        *((series("http_request_duration_seconds_bucket", AUTH, route="/api/v1/auth", method="POST", status="200",
                  le=le), "0+60x20" if float(le) >= 2.5 else "0x20")
          for le in ("0.5", "1", "2.5", "+Inf")),
        # The probes' route stays fast and out of the quantile.
        (series("http_request_duration_seconds_bucket", AUTH, route="/health", method="GET", status="200",
                le="0.005"), "0+600x20"),
        (series("http_request_duration_seconds_bucket", AUTH, route="/health", method="GET", status="200",
                le="+Inf"), "0+600x20"),
    ), "16m", ({"environment": "prod", "pod": "core", "service": "auth"},), "warning"),
    Case("ErrorBudgetBurnFast", (
        # 10% of user requests fail: 20x the 0.5% budget, above 14.4x over both 1h and 5m.
        (series("http_request_duration_seconds_count", AUTH, route="/api/v1/auth", method="POST", status="500"),
         "0+6x70"),
        (series("http_request_duration_seconds_count", AUTH, route="/api/v1/auth", method="POST", status="200"),
         "0+54x70"),
    ), "65m", ({"environment": "prod", "pod": "core", "service": "auth"},), "critical"),
    Case("ErrorBudgetBurnSlow", (
        # 4% fail: 8x the budget, above 6x over 6h and 30m, below the fast alert's 14.4x.
        (series("http_request_duration_seconds_count", AUTH, route="/api/v1/auth", method="POST", status="500"),
         "0+4x400"),
        (series("http_request_duration_seconds_count", AUTH, route="/api/v1/auth", method="POST", status="200"),
         "0+96x400"),
    ), "390m", ({"environment": "prod", "pod": "core", "service": "auth"},), "warning"),
    Case("DependencyDown", ((series("dreamscape_dependency_up", AUTH, dependency="postgres"), "0x10"),), "8m",
         ({**AUTH, "dependency": "postgres"},), "warning"),
    Case("PodMemoryNearLimit", (
        (series("process_resident_memory_bytes", AUTH), "2147483648x20"),
        (series("process_resident_memory_bytes", USER), "1932735283x20"),
    ), "15m", ({"environment": "prod", "pod": "core", "kubernetes_pod": "core-abc", "node": "k3s-1"},), "critical"),
    Case("MinioStorageAlmostFull", (
        (series("minio_cluster_capacity_usable_free_bytes", MINIO), "1e9x10"),
        (series("minio_cluster_capacity_usable_total_bytes", MINIO), "1e10x10"),
    ), "8m", (MINIO,), "critical"),
    Case("MinioNodesOffline", ((series("minio_cluster_nodes_offline_total", MINIO), "1x10"),), "8m",
         (MINIO,), "critical"),
    Case("PostgresDown", ((series("pg_up", PG), "0x5"),), "3m", (PG,), "critical"),
    Case("PostgresConnectionsNearMax", (
        (series("pg_stat_activity_count", PG, datname="dreamscape", state="active"), "50x10"),
        (series("pg_stat_activity_count", PG, datname="dreamscape", state="idle"), "40x10"),
        (series("pg_settings_max_connections", PG), "100x10"),
    ), "8m", ({"environment": "prod", "pod": "postgres", "service": "postgres", "kubernetes_pod": "postgres-1"},),
        "warning"),
    Case("PostgresVolumeFilling", (
        (series("pg_database_size_bytes", PG, datname="dreamscape"), "48e9x30"),
        (series("pg_database_size_bytes", PG, datname="postgres"), "7e6x30"),
        (series("kube_persistentvolumeclaim_resource_requests_storage_bytes", KSM, namespace="dreamscape",
                persistentvolumeclaim="data-postgres-0"), "53687091200x30"),
    ), "20m", ({"environment": "prod"},), "critical"),
    Case("DeploymentReplicasUnavailable", (
        (series("kube_deployment_status_replicas_available", KSM, namespace="dreamscape", deployment="core-pod"),
         "1x20"),
        (series("kube_deployment_spec_replicas", KSM, namespace="dreamscape", deployment="core-pod"), "3x20"),
    ), "15m", ({**KSM, "namespace": "dreamscape", "deployment": "core-pod"},), "warning"),
    Case("StatefulSetReplicasNotReady", (
        (series("kube_statefulset_status_replicas_ready", KSM, namespace="dreamscape", statefulset="postgres"),
         "0x20"),
        (series("kube_statefulset_replicas", KSM, namespace="dreamscape", statefulset="postgres"), "1x20"),
    ), "15m", ({**KSM, "namespace": "dreamscape", "statefulset": "postgres"},), "critical"),
    Case("JobFailed", (
        (series("kube_job_status_failed", KSM, namespace="dreamscape", job_name="postgres-backup-29000000",
                reason="BackoffLimitExceeded"), "0 1x5"),
        (series("kube_job_status_start_time", KSM, namespace="dreamscape", job_name="postgres-backup-29000000"),
         "0x5"),
    ), "2m", ({**KSM, "namespace": "dreamscape", "job_name": "postgres-backup-29000000",
               "reason": "BackoffLimitExceeded"},), "warning"),
    Case("PodCrashLooping", (
        # Our target label `pod` wins, so the scraped `pod` arrives as `exported_pod`.
        (series("kube_pod_container_status_waiting_reason", KSM, namespace="dreamscape",
                exported_pod="core-pod-7d9f8-abcde", uid="u1", container="core", reason="CrashLoopBackOff"), "1x20"),
    ), "15m", ({"environment": "prod", "namespace": "dreamscape", "kubernetes_pod": "core-pod-7d9f8-abcde",
               "container": "core"},), "critical"),
    Case("ContainerRestartingOften", (
        (series("kube_pod_container_status_restarts_total", KSM, namespace="dreamscape",
                exported_pod="core-pod-7d9f8-abcde", uid="u1", container="core"), "0 1 2 3 4 5 6"),
    ), "6m", ({"environment": "prod", "namespace": "dreamscape", "kubernetes_pod": "core-pod-7d9f8-abcde",
               "container": "core"},), "warning"),
    Case("DockerContainerRestartingOften", (
        # Docker restarts the same container (same name and id): only its start time changes.
        (series("container_start_time_seconds", DOCKER_CORE), "1000 1060 1120 1180 1240 1300 1360"),
    ), "6m", ({"environment": "dev", "pod": "core", "service": "core-pod", "name": "dreamscape-core-pod"},),
        "warning"),
    Case("BackupTooOld", (
        # promtool starts at the epoch: a success 100000 s before it is older than 26 hours.
        (series("kube_cronjob_status_last_successful_time", KSM, namespace="dreamscape", cronjob="postgres-backup"),
         "-100000x20"),
    ), "15m", ({**KSM, "namespace": "dreamscape", "cronjob": "postgres-backup"},), "critical"),
    Case("BackupNeverSucceeded", (
        (series("kube_cronjob_created", KSM, namespace="dreamscape", cronjob="postgres-backup"), "-100000x20"),
    ), "15m", ({**KSM, "namespace": "dreamscape", "cronjob": "postgres-backup"},), "critical"),
    Case("RestoreVerificationTooOld", (
        # The last verified restore 700000 s (> 192 hours) before promtool's epoch start.
        (series("kube_cronjob_status_last_successful_time", KSM, namespace="dreamscape",
                cronjob="postgres-restore-verify"), "-700000x20"),
    ), "15m", ({**KSM, "namespace": "dreamscape", "cronjob": "postgres-restore-verify"},), "warning"),
    Case("RestoreNeverVerified", (
        (series("kube_cronjob_created", KSM, namespace="dreamscape", cronjob="postgres-restore-verify"),
         "-700000x20"),
    ), "15m", ({**KSM, "namespace": "dreamscape", "cronjob": "postgres-restore-verify"},), "warning"),
    Case("RedisDown", ((series("redis_up", REDIS), "0x5"),), "3m", (REDIS,), "critical"),
    Case("RedisMemoryNearMax", (
        (series("redis_memory_used_bytes", REDIS), "250000000x10"),
        (series("redis_memory_max_bytes", REDIS), "268435456x10"),
    ), "8m", (REDIS,), "warning"),
    Case("RedisClusterStateFail", ((series("redis_cluster_state", REDIS), "0x5"),), "4m", (REDIS,), "critical"),
    Case("RedisRejectedConnections", ((series("redis_rejected_connections_total", REDIS), "0+1x10"),), "6m",
         (REDIS,), "warning"),
    Case("KafkaBrokersMissing", ((series("kafka_brokers", KAFKA), "2x10"),), "8m", (KAFKA,), "critical"),
    Case("KafkaUnderReplicatedPartitions", (
        (series("kafka_topic_partition_under_replicated_partition", KAFKA, partition="0", topic="voyages"), "1x15"),
    ), "12m", ({"environment": "prod", "topic": "voyages"},), "warning"),
    Case("KafkaConsumerLagHigh", (
        (series("kafka_consumergroup_lag", KAFKA, consumergroup="ai", partition="0", topic="voyages"), "5000x20"),
    ), "18m", ({"environment": "prod", "consumergroup": "ai", "topic": "voyages"},), "warning"),
)


def _rules() -> dict[str, Any]:
    rules: dict[str, Any] = yaml.safe_load(render_alert_rules(RULES))
    return rules


def _alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for group in _rules()["groups"] for rule in group["rules"] if "alert" in rule}


def test_every_alert_rule_has_a_case_that_makes_it_fire() -> None:
    missing = sorted(set(_alerts()) - {case.alert for case in CASES})
    assert not missing, f"alert rules nobody proved able to fire (write a case or delete the rule): {missing}"


def test_cases_feed_only_metric_names_a_real_source_emits() -> None:
    emitted = all_metric_names() | {"up"}
    for case in CASES:
        for text, _ in case.inputs:
            name = text.split("{")[0]
            assert name in emitted, f"{case.alert}: {name} is not emitted by any deployed exporter"


def test_the_node_service_stand_in_serves_exactly_what_the_reference_application_renders() -> None:
    """The families the reference kit sets, counts or observes (`metrics.inc('…'`, `this.set('…'`,
    `metrics.observe('…'`), read from its source, against the stand-in's `# TYPE` lines."""
    kit = (ROOT / "reference-app" / "dreamscape-services" / "auth" / "lib" / "kit.js").read_text()
    rendered = set(re.findall(r"(?:metrics\.inc|metrics\.set|metrics\.observe|this\.set)\('([a-z_]+)'", kit))
    served = {line.split()[2] for line in NODE_SERVICE.splitlines() if line.startswith("# TYPE ")}
    assert rendered and served == rendered, f"stand-in {sorted(served)} vs reference app {sorted(rendered)}"


def test_severities_in_the_cases_match_the_rules() -> None:
    alerts = _alerts()
    for case in CASES:
        assert alerts[case.alert]["labels"]["severity"] == case.severity, f"{case.alert} severity"


@pytest.mark.tools
def test_every_alert_fires_in_promtool_with_the_labels_alertmanager_routes_on(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    rules = _rules()
    for group in rules["groups"]:
        for rule in group["rules"]:
            # Annotations are templates of the value; the firing and the labels are what is tested here.
            rule.pop("annotations", None)  # recording rules carry none
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules, sort_keys=False))
    tests = [
        {
            "name": case.alert,
            "interval": "1m",
            "input_series": [{"series": text, "values": values} for text, values in case.inputs],
            "alert_rule_test": [
                {"eval_time": "0m", "alertname": case.alert, "exp_alerts": []},
                {"eval_time": case.eval_time, "alertname": case.alert, "exp_alerts": [
                    {"exp_labels": {**labels, "severity": case.severity}} for labels in case.labels
                ]},
            ],
        }
        for case in CASES
    ]
    unit = tmp_path / "rules_test.yml"
    unit.write_text(yaml.safe_dump({"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": tests},
                                   sort_keys=False))
    result = subprocess.run([promtool, "test", "rules", unit.name], capture_output=True, text=True, check=False,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, f"an alert did not fire as expected:\n{result.stdout}{result.stderr}"
