"""prometheus.yml, retention flags, RBAC rules and alert rules, checked by structure and by promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.monitoring.catalog import PrometheusPaths
from components.monitoring.prometheus.config import (
    KubernetesDiscovery,
    PrometheusConfigArgs,
    PrometheusStorageArgs,
    ScrapeTarget,
    docker_scrape_targets,
    prometheus_cli_flags,
    prometheus_rbac_rules,
    render_prometheus_config,
)
from components.monitoring.prometheus.rules import PodLimits, RulesArgs, render_alert_rules
from tests.tooling import require_tool

RULES = RulesArgs(pod_limits=(PodLimits("core", 2, 4 * 2**30),), expected_kafka_brokers=3)


def _paths(base: Path) -> PrometheusPaths:
    return PrometheusPaths(
        config_file=str(base / "prometheus.yml"),
        rules_dir=str(base / "rules"),
        rules_file=str(base / "rules" / "dreamscape.rules.yml"),
        minio_token_file=str(base / "secrets" / "minio-token"),
        data_dir=str(base / "data"),
    )


def _write_tree(base: Path, args: PrometheusConfigArgs) -> Path:
    """Write config, rules and a placeholder token where the rendered config expects them."""
    (base / "rules").mkdir(parents=True, exist_ok=True)
    (base / "secrets").mkdir(parents=True, exist_ok=True)
    Path(args.paths.rules_file).write_text(render_alert_rules(RULES))
    Path(args.paths.minio_token_file).write_text("placeholder-token-for-tests\n")
    config = Path(args.paths.config_file)
    config.write_text(render_prometheus_config(args))
    return config


def _dev_args(base: Path) -> PrometheusConfigArgs:
    paths = _paths(base)
    return PrometheusConfigArgs(
        environment="dev",
        static_targets=docker_scrape_targets(minio_token_file=paths.minio_token_file),
        paths=paths,
    )


def _prod_args(base: Path) -> PrometheusConfigArgs:
    paths = _paths(base)
    minio_only = docker_scrape_targets(
        pods=(), exporters=(), minio_token_file=paths.minio_token_file, include_self=False
    )
    return PrometheusConfigArgs(
        environment="prod",
        static_targets=minio_only,
        kubernetes=KubernetesDiscovery("dreamscape"),
        paths=paths,
    )


def _load(text: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def test_dev_config_scrapes_every_big_pod_service_and_exporter_by_hostname() -> None:
    config = _load(render_prometheus_config(PrometheusConfigArgs("dev", docker_scrape_targets())))
    addresses = {
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    expected = {
        "core-pod:80",
        "core-pod:3001",
        "core-pod:3002",
        "business-pod:3003",
        "business-pod:3004",
        "business-pod:3005",
        "experience-pod:3000",
        "experience-pod:3006",
        "experience-pod:4000",
        "postgres-exporter:9187",
        "redis-exporter:9121",
        "kafka-exporter:9308",
        "minio:9000",
    }
    assert expected <= addresses, (
        f"dev must scrape all services and exporters, missing {expected - addresses}"
    )


def test_every_static_target_carries_pod_service_and_environment_labels() -> None:
    config = _load(render_prometheus_config(PrometheusConfigArgs("dev", docker_scrape_targets())))
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            assert set(static["labels"]) == {"pod", "service", "environment"}, (
                f"labels of {static['targets']}"
            )
            assert static["labels"]["environment"] == "dev", "environment label must come from typed input"


def test_minio_is_scraped_with_a_bearer_token_file_and_never_an_inline_token() -> None:
    text = render_prometheus_config(PrometheusConfigArgs("dev", docker_scrape_targets()))
    minio = next(j for j in _load(text)["scrape_configs"] if j["job_name"] == "minio")
    assert minio["metrics_path"] == "/minio/v2/metrics/cluster", "MinIO serves cluster metrics on its v2 path"
    assert minio["authorization"] == {
        "type": "Bearer",
        "credentials_file": PrometheusPaths().minio_token_file,
    }, "the token must be read from a mounted file"
    assert "bearer_token:" not in text and "credentials:" not in text, "no inline credentials in the config"


def test_kubernetes_discovery_is_namespaced_opt_in_and_labels_pod_service_environment() -> None:
    config = _load(render_prometheus_config(_prod_args(Path("/tmp/unused"))))
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "kubernetes-pods")
    assert job["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["dreamscape"]}}], (
        "discovery must be limited to role pod in one namespace"
    )
    rules = job["relabel_configs"]
    assert rules[0] == {
        "source_labels": ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
        "action": "keep",
        "regex": "true",
    }, "scraping must be opt-in through prometheus.io/scrape"
    sources = {s for rule in rules for s in rule.get("source_labels", [])}
    for meta in (
        "__meta_kubernetes_pod_annotation_prometheus_io_port",
        "__meta_kubernetes_pod_annotation_prometheus_io_path",
        "__meta_kubernetes_pod_label_app_kubernetes_io_name",
        "__meta_kubernetes_pod_label_app_kubernetes_io_component",
    ):
        assert meta in sources, f"relabelling must read {meta}"
    targets = {rule.get("target_label") for rule in rules}
    assert {"pod", "service", "environment"} <= targets, "kubernetes targets must get pod/service/environment"


def test_alertmanager_and_rule_files_are_wired_from_typed_input() -> None:
    config = _load(render_prometheus_config(PrometheusConfigArgs("dev", docker_scrape_targets())))
    assert config["rule_files"] == [PrometheusPaths().rules_file], "rules come from the mounted rules file"
    am = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert am == ["alertmanager:9093"], "alerts go to the Alertmanager service"


def test_targets_of_one_job_must_agree_on_how_they_are_scraped() -> None:
    clash = (ScrapeTarget("x", "p", "a", "a:1"), ScrapeTarget("x", "p", "b", "b:1", metrics_path="/other"))
    with pytest.raises(ValueError, match="disagree"):
        render_prometheus_config(PrometheusConfigArgs("dev", clash))


def test_retention_flags_come_from_typed_storage_input() -> None:
    prod = prometheus_cli_flags(PrometheusStorageArgs("30d", "40GB"))
    dev = prometheus_cli_flags(PrometheusStorageArgs("2d"))
    assert "--storage.tsdb.retention.time=30d" in prod, "prod keeps 30 days of metrics"
    assert "--storage.tsdb.retention.size=40GB" in prod, "an optional size cap is passed through"
    assert "--storage.tsdb.retention.time=2d" in dev, "dev keeps metrics briefly"
    assert "--config.file=/etc/prometheus/prometheus.yml" in dev, "the config path matches PrometheusPaths"
    with pytest.raises(ValueError):
        PrometheusStorageArgs("thirty days")


def test_rbac_rules_grant_only_read_access_to_discovery_resources() -> None:
    rules = prometheus_rbac_rules()
    granted = {(group, res) for r in rules for group in r["apiGroups"] for res in r["resources"]}
    assert granted == {
        ("", "pods"),
        ("", "services"),
        ("", "endpoints"),
        ("discovery.k8s.io", "endpointslices"),
    }, "Prometheus needs exactly pods, services, endpoints and endpointslices"
    assert all(r["verbs"] == ["get", "list", "watch"] for r in rules), "read-only verbs only"


def test_alert_rules_cover_every_alert_family_with_a_severity() -> None:
    groups = _load(render_alert_rules(RULES))["groups"]
    alerts = {rule["alert"]: rule for group in groups for rule in group["rules"]}
    for name in (
        "ServiceDown",
        "HighErrorRate",
        "HighLatency",
        "PodCpuNearLimit",
        "PodMemoryNearLimit",
        "ContainerMemoryNearLimit",
        "PersistentVolumeAlmostFull",
        "FilesystemAlmostFull",
        "PostgresConnectionsNearMax",
        "PostgresReplicationLag",
        "PostgresBackupTooOld",
        "RedisDown",
        "KafkaBrokersMissing",
    ):
        assert name in alerts, f"alert {name} must exist"
    assert alerts["ServiceDown"]["expr"] == "up == 0", "service down is up == 0"
    assert "histogram_quantile(0.95" in alerts["HighLatency"]["expr"], "latency uses the p95 of the histogram"
    assert "pg_settings_max_connections" in alerts["PostgresConnectionsNearMax"]["expr"], (
        "uses max_connections"
    )
    assert alerts["KafkaBrokersMissing"]["expr"] == "kafka_brokers < 3", "expected brokers come from input"
    for alert in alerts.values():
        assert alert["labels"]["severity"] in {"critical", "warning"}, f"{alert['alert']} severity"


@pytest.mark.tools
@pytest.mark.parametrize("mode", ["dev", "prod"])
def test_promtool_accepts_the_rendered_config_and_its_rule_file(tmp_path: Path, mode: str) -> None:
    promtool = require_tool("promtool")
    args = _dev_args(tmp_path) if mode == "dev" else _prod_args(tmp_path)
    config = _write_tree(tmp_path, args)
    if mode == "prod":
        # Debian's Prometheus is built without Kubernetes service discovery, so its promtool rejects the
        # `kubernetes_sd_configs` key. Swap only that key for a static target: the relabel rules, the
        # credentials file, the rule file and everything else are still checked by the real tool.
        document = _load(config.read_text())
        for job in document["scrape_configs"]:
            if job.pop("kubernetes_sd_configs", None) is not None:
                job["static_configs"] = [{"targets": ["10.0.0.1:3001"]}]
        config.write_text(yaml.safe_dump(document, sort_keys=False))
    result = subprocess.run(
        [promtool, "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"promtool check config ({mode}) failed:\n{result.stdout}{result.stderr}"


@pytest.mark.tools
def test_promtool_accepts_the_rules_file(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    rules = tmp_path / "rules.yml"
    rules.write_text(render_alert_rules(RulesArgs(alert_when_backup_metric_absent=True)))
    result = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"promtool check rules failed:\n{result.stdout}{result.stderr}"


@pytest.mark.tools
def test_a_scrape_target_down_for_two_minutes_fires_a_critical_service_down_alert(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    (tmp_path / "rules.yml").write_text(render_alert_rules(RULES))
    labels = {
        "job": "core-pod",
        "pod": "core",
        "service": "auth",
        "environment": "dev",
        "instance": "core-pod:3001",
    }
    series = "up{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
    unit = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": series, "values": "1 0 0 0 0 0"}],
                "alert_rule_test": [
                    {"eval_time": "2m", "alertname": "ServiceDown", "exp_alerts": []},
                    {
                        "eval_time": "4m",
                        "alertname": "ServiceDown",
                        "exp_alerts": [
                            {
                                "exp_labels": {**labels, "severity": "critical"},
                                "exp_annotations": {
                                    "summary": "auth in pod core is down",
                                    "description": "Prometheus cannot scrape core-pod:3001 (dev).",
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }
    test_file = tmp_path / "service_down_test.yml"
    test_file.write_text(yaml.safe_dump(unit, sort_keys=False))
    result = subprocess.run(
        [promtool, "test", "rules", test_file.name], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 0, (
        f"ServiceDown must fire after 2m of up == 0:\n{result.stdout}{result.stderr}"
    )
