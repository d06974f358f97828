"""prometheus.yml, the scrape view, retention flags and RBAC rules, checked by structure and by promtool."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import spec
from components.monitoring.common import ALERTMANAGER, ALERTMANAGER_PORT
from components.monitoring.prometheus.config import (
    KubernetesDiscovery,
    PrometheusConfigArgs,
    PrometheusPaths,
    PrometheusStorageArgs,
    StaticDiscovery,
    prometheus_cli_flags,
    prometheus_rbac_rules,
    render_prometheus_config,
)
from components.monitoring.prometheus.rules import PodLimits, RulesArgs, render_alert_rules
from components.monitoring.scrape import ScrapeTarget, big_pods, scrape_targets
from tests.monitoring import sample
from tests.tooling import require_tool

RULES = RulesArgs(pod_limits=(PodLimits(pod="core", processes=("auth", "user"), memory_bytes=4 * 2**30),),
                  expected_kafka_brokers=3)
TOKEN = PrometheusPaths().minio_token_file
TARGETS = scrape_targets(sample.SERVICES, {"minio": TOKEN})


def _args(discovery: StaticDiscovery | KubernetesDiscovery, paths: PrometheusPaths | None = None,
          environment: str = "dev") -> PrometheusConfigArgs:
    return PrometheusConfigArgs(environment=environment, targets=TARGETS, discovery=discovery,
                                paths=paths or PrometheusPaths())


def _load(text: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def test_only_ports_that_declare_a_metrics_path_are_scrape_targets() -> None:
    addresses = {t.address for t in TARGETS}
    assert addresses == {"core-pod:3001", "core-pod:3002", "experience-pod:3006", "core-pod-nginx-exporter:9113",
                         "postgres-exporter:9187", "minio:9000"}, (
        f"NGINX (8080), Vite (3000) and the MinIO console serve no metrics and must not be scraped: {addresses}"
    )


def test_big_pod_processes_are_labelled_by_pod_and_port_name_and_others_by_service_name() -> None:
    labels = {(t.address, t.pod, t.service) for t in TARGETS}
    assert ("core-pod:3001", "core", "auth") in labels, "a Big Pod process: pod=<big pod>, service=<process>"
    assert ("core-pod-nginx-exporter:9113", "core", "nginx") in labels, (
        "the NGINX exporter reports for its Big Pod: pod=core, service=nginx"
    )
    assert ("postgres-exporter:9187", "postgres-exporter", "postgres-exporter") in labels, "others: their name"
    assert big_pods(TARGETS) == {"core": ("auth", "user", "nginx"), "experience": ("panorama",)}, (
        "dashboards get every Big Pod's processes from the scrape view"
    )


def test_two_ports_with_the_same_labels_are_refused() -> None:
    twin = sample.service("core-pod-2", spec.Port("auth", 1, metrics_path="/metrics"), pod="core")
    with pytest.raises(ValueError, match="pod='core' service='auth'"):
        scrape_targets((sample.CORE, twin))


def test_a_token_for_a_service_that_is_not_deployed_is_refused() -> None:
    with pytest.raises(ValueError, match="not deployed"):
        scrape_targets((sample.CORE,), {"minio": TOKEN})


def test_static_discovery_scrapes_host_port_with_pod_service_environment_labels() -> None:
    config = _load(render_prometheus_config(_args(StaticDiscovery())))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"core", "experience", "postgres-exporter", "minio"}, "one job per pod label"
    core = {s["targets"][0]: s["labels"] for s in jobs["core"]["static_configs"]}
    assert core["core-pod:3001"] == {"pod": "core", "service": "auth", "environment": "dev"}, "labels per target"
    assert core["core-pod-nginx-exporter:9113"]["service"] == "nginx", "the exporter scrapes as core's nginx"


def test_minio_is_scraped_with_a_bearer_token_file_and_never_an_inline_token() -> None:
    text = render_prometheus_config(_args(StaticDiscovery()))
    minio = next(j for j in _load(text)["scrape_configs"] if j["job_name"] == "minio")
    assert minio["metrics_path"] == "/minio/v2/metrics/cluster", "MinIO serves cluster metrics on its v2 path"
    assert minio["authorization"] == {"type": "Bearer", "credentials_file": TOKEN}, "token from a mounted file"
    assert "bearer_token:" not in text and "credentials:" not in text, "no inline credentials in the config"


def test_kubernetes_discovery_keeps_exactly_the_declared_metrics_ports_in_one_namespace() -> None:
    config = _load(render_prometheus_config(_args(KubernetesDiscovery("dreamscape"), environment="prod")))
    core = next(j for j in config["scrape_configs"] if j["job_name"] == "core")
    assert core["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["dreamscape"]}}], (
        "discovery must be limited to role pod in one namespace"
    )
    keep = core["relabel_configs"][0]
    assert keep["action"] == "keep" and keep["source_labels"] == [
        "__meta_kubernetes_pod_label_app_kubernetes_io_name", "__meta_kubernetes_pod_container_port_name"], (
        "the first rule keeps only (service, port name) pairs"
    )
    pattern = re.compile(f"^(?:{keep['regex']})$")
    assert pattern.match("core-pod;auth") and pattern.match("core-pod-nginx-exporter;nginx"), "metrics ports kept"
    assert not pattern.match("core-pod;http") and not pattern.match("experience-pod;web"), (
        "the NGINX and Vite ports are dropped, so they can never page as down"
    )
    targets = {rule.get("target_label") for rule in core["relabel_configs"]}
    assert {"pod", "service", "environment", "kubernetes_pod", "node"} <= targets, "same labels as static + replica"


def test_alertmanager_and_rule_files_are_wired_from_typed_input() -> None:
    config = _load(render_prometheus_config(_args(StaticDiscovery())))
    assert config["rule_files"] == [PrometheusPaths().rules_file], "rules come from the mounted rules file"
    am = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert am == [f"{ALERTMANAGER}:{ALERTMANAGER_PORT}"], "alerts go to the Alertmanager service's own port"


def test_targets_of_one_job_must_agree_on_how_they_are_scraped() -> None:
    clash = (ScrapeTarget(host="a", port_name="a", port=1, path="/metrics", pod="p", service="a"),
             ScrapeTarget(host="b", port_name="b", port=1, path="/other", pod="p", service="b"))
    with pytest.raises(ValueError, match="disagree"):
        render_prometheus_config(PrometheusConfigArgs(environment="dev", targets=clash, discovery=StaticDiscovery()))


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


def test_alerts_whose_metric_nothing_emits_are_gone() -> None:
    text = render_alert_rules(RULES)
    for metric in ("pg_replication_lag_seconds", "dreamscape_postgres_backup", "container_memory_working_set_bytes",
                   "kubelet_volume_stats", "node_filesystem"):
        assert metric not in text, f"no deployed exporter emits {metric}: a rule on it could never fire"


@pytest.mark.tools
@pytest.mark.parametrize("mode", ["dev", "prod"])
def test_promtool_accepts_the_rendered_config_and_its_rule_file(tmp_path: Path, mode: str) -> None:
    promtool = require_tool("promtool")
    paths = PrometheusPaths(config_file=str(tmp_path / "prometheus.yml"), rules_dir=str(tmp_path / "rules"),
                            rules_file=str(tmp_path / "rules" / "dreamscape.rules.yml"),
                            minio_token_file=str(tmp_path / "minio-token"), data_dir=str(tmp_path / "data"))
    (tmp_path / "rules").mkdir()
    Path(paths.rules_file).write_text(render_alert_rules(RULES))
    Path(paths.minio_token_file).write_text("placeholder-token-for-tests\n")
    targets = scrape_targets(sample.SERVICES, {"minio": paths.minio_token_file})
    discovery = StaticDiscovery() if mode == "dev" else KubernetesDiscovery("dreamscape")
    document = _load(render_prometheus_config(PrometheusConfigArgs(
        environment=mode, targets=targets, discovery=discovery, paths=paths)))
    if mode == "prod":
        # Debian's promtool (2.42) is built without Kubernetes service discovery and rejects the key; the
        # relabelling itself runs inside the real server in tests/monitoring/test_prometheus_server.py.
        for job in document["scrape_configs"]:
            assert job.pop("kubernetes_sd_configs") is not None, "prod discovers through the Kubernetes API"
            job["file_sd_configs"] = [{"files": [str(tmp_path / "targets.json")]}]
        # The kubelets' job reads the ServiceAccount token and cluster CA that Kubernetes mounts in the pod.
        (kubelets,) = [job for job in document["scrape_configs"] if "tls_config" in job]
        for section, key in (("authorization", "credentials_file"), ("tls_config", "ca_file")):
            stand_in = tmp_path / Path(kubelets[section][key]).name
            stand_in.write_text("stand-in\n")
            kubelets[section][key] = str(stand_in)
    config = Path(paths.config_file)
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    result = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"promtool check config ({mode}) failed:\n{result.stdout}{result.stderr}"


def test_the_postgres_job_finds_the_members_by_the_label_their_network_policies_select() -> None:
    from components.monitoring import database_metrics
    from components.targets.kubernetes import cnpg

    assert database_metrics.CLUSTER_POD_LABEL == cnpg.CLUSTER_LABEL, (
        "discovery and the metrics-postgres policy must select the same CloudNativePG members")
