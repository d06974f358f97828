"""The generated monitoring config, run by the real Prometheus server (Debian's `prometheus`).

- dev: the static targets are pointed at stand-in endpoints on 127.0.0.1 that serve the metric names of
  the real exporters and services (tests/monitoring/exporter_metrics);
- prod: `kubernetes_sd_configs` becomes `file_sd_configs` carrying the `__meta_kubernetes_*` labels the
  API would give every container port of every rendered workload, so the generated relabelling runs
  inside the real binary and decides what is scraped, and with which labels.
The core pod's `auth` process is the real thing: the reference application's auth service (Node.js, no
dependency configured), so its series are exactly what the application serves. Then every dashboard
panel query and every alert expression is evaluated through the HTTP API.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.monitoring.grafana.config import DASHBOARDS
from components.spec import MetricSignal
from tests import kube
from tests.harness import Evaluation
from tests.monitoring.exporter_metrics import cloudnative_pg_member, exposition_for, kubelet_cadvisor
from tests.monitoring.stubs import Endpoint, free_port, serving
from tests.monitoring.test_components import config_map_file, docker_container, prometheus_yml, uploaded
from tests.tooling import require_tool

pytestmark = pytest.mark.tools
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "stand-in-minio-token"
NODE = "k3s-1"
DEADLINE_SECONDS = 40


@dataclass
class Running:
    url: str
    config: dict[str, Any]
    dashboards: list[dict[str, Any]]
    """Every provisioned dashboard (components.monitoring.grafana.config.DASHBOARDS)."""
    rules: dict[str, Any]
    scaling_queries: list[tuple[str, str]]
    """(service, query) of every autoscaling signal read from Prometheus (KEDA's `prometheus` triggers)."""

    def get(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}{path}{query}", timeout=10) as response:
            return json.load(response)

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.get("/api/v1/query", query=expr)
        assert data["status"] == "success", f"{expr!r} failed: {data}"
        result: list[dict[str, Any]] = data["data"]["result"]
        return result


def _files(stack: Evaluation) -> tuple[str, list[str]]:
    """The rules file and every dashboard, as the target received them."""
    names = [d.file_name for d in DASHBOARDS]
    if stack.stack == "dev":
        prometheus = docker_container(stack, "prometheus-0")
        grafana = docker_container(stack, "grafana")
        return (uploaded(prometheus, "/etc/prometheus/rules/dreamscape.rules.yml"),
                [uploaded(grafana, f"/etc/grafana/dashboards/{name}") for name in names])
    return (config_map_file(stack, "prometheus", "etc-prometheus-rules-dreamscape.rules.yml"),
            [config_map_file(stack, "grafana", f"etc-grafana-dashboards-{name}") for name in names])


def _meta(label: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", label)


def _dev_targets(config: dict[str, Any], endpoints: list[Endpoint]) -> list[str]:
    """The dev targets' addresses, in config order, with one stand-in endpoint each."""
    pending = []
    for job in config["scrape_configs"]:
        token = TOKEN if "authorization" in job else None
        for static in job["static_configs"]:
            (address,) = static["targets"]
            body = exposition_for(address.split(":")[0], static["labels"]["service"])
            endpoints.append(Endpoint(job["metrics_path"], body, token))
            pending.append(address)
    return pending


def _prod_groups(stack: Evaluation, endpoints: list[Endpoint]) -> list[dict[str, Any]]:
    """One file_sd group per container port of every rendered workload, labelled as kubernetes_sd would."""
    groups = []
    for workload in kube.workloads(stack):
        metadata = workload.inputs["spec"]["template"]["metadata"] if "template" in workload.inputs["spec"] else {}
        name = workload.inputs["metadata"]["name"]
        labels = {f"__meta_kubernetes_pod_label_{_meta(k)}": v for k, v in metadata.get("labels", {}).items()}
        for container in kube.pod_spec(workload)["containers"]:
            for port in container.get("ports", []):
                # What would answer on that port: the real source's metrics, or HTML/404 for NGINX and Vite.
                serves_metrics = name not in ("core-pod", "business-pod", "experience-pod") or port["name"] not in (
                    "http", "web")
                path = "/minio/v2/metrics/cluster" if name == "minio" else "/metrics"
                endpoints.append(Endpoint(path if serves_metrics else None, exposition_for(name, port["name"]),
                                          TOKEN if name == "minio" else None))
                groups.append({"labels": {
                    **labels,
                    "__meta_kubernetes_namespace": workload.inputs["metadata"]["namespace"],
                    "__meta_kubernetes_pod_name": f"{name}-0",
                    "__meta_kubernetes_pod_node_name": NODE,
                    "__meta_kubernetes_pod_phase": "Running",
                    "__meta_kubernetes_pod_container_name": container["name"],
                    "__meta_kubernetes_pod_container_port_name": port["name"],
                    "__meta_kubernetes_pod_container_port_number": str(port["containerPort"]),
                }})
    for member in database_members(stack):
        for port_name, number in member.ports.items():
            body = exposition_for(member.cluster, port_name)
            endpoints.append(Endpoint("/metrics" if port_name == "metrics" else None, body))
            groups.append({"labels": {
                **{f"__meta_kubernetes_pod_label_{_meta(k)}": v for k, v in member.labels.items()},
                "__meta_kubernetes_namespace": member.namespace,
                "__meta_kubernetes_pod_name": member.name,
                "__meta_kubernetes_pod_node_name": NODE,
                "__meta_kubernetes_pod_phase": "Running",
                "__meta_kubernetes_pod_container_name": "postgres",
                "__meta_kubernetes_pod_container_port_name": port_name,
                "__meta_kubernetes_pod_container_port_number": str(number),
            }})
    return groups


@dataclass(frozen=True)
class Member:
    cluster: str
    name: str
    namespace: str
    labels: dict[str, str]
    ports: dict[str, int]


def database_members(stack: Evaluation) -> list[Member]:
    """Every member of every CloudNativePG Cluster, as the operator (v1.30.0) creates its pods: the inherited
    labels plus its own (`cnpg.io/cluster`, `cnpg.io/instanceRole`, `app.kubernetes.io/name: postgresql`;
    pkg/specs/pods.go), and its container ports `postgresql`, `status` and `metrics`. Member 1 is the
    primary, the others replicas."""
    members = []
    for cluster in (r for r in stack.resources if r.inputs.get("kind") == "Cluster"):
        body = kube.manifest(cluster)
        name = body["metadata"]["name"]
        for ordinal in range(1, body["spec"]["instances"] + 1):
            labels = {**body["spec"]["inheritedMetadata"]["labels"], "cnpg.io/cluster": name,
                      "cnpg.io/instanceName": f"{name}-{ordinal}", "cnpg.io/podRole": "instance",
                      "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": name,
                      "cnpg.io/instanceRole": "primary" if ordinal == 1 else "replica"}
            members.append(Member(cluster=name, name=f"{name}-{ordinal}", namespace=body["metadata"]["namespace"],
                                  labels=labels, ports={"postgresql": 5432, "status": 8000, "metrics": 9187}))
    return members


def _prod_nodes(config: dict[str, Any], groups: list[dict[str, Any]],
                endpoints: list[Endpoint]) -> list[dict[str, Any]]:
    """One file_sd group per node, labelled as kubernetes_sd role `node` would, for the kubelets' job; its
    stand-in serves `/metrics/cadvisor` as a kubelet does, to the bearer token only."""
    jobs = [job for job in config["scrape_configs"] if job["kubernetes_sd_configs"][0]["role"] == "node"]
    if not jobs:
        return []
    (job,) = jobs
    namespace = groups[0]["labels"]["__meta_kubernetes_namespace"]
    endpoints.append(Endpoint(job["metrics_path"], kubelet_cadvisor(namespace), TOKEN))
    return [{"labels": {"__meta_kubernetes_node_name": NODE, "__meta_kubernetes_node_address_InternalIP": "127.0.0.1"}}]


def _wait(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out after {DEADLINE_SECONDS}s waiting for {what}")


@pytest.fixture(scope="module", params=["dev", "prod"])
def running(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    binary = require_tool("prometheus")
    stack: Evaluation = request.getfixturevalue(request.param)
    base = tmp_path_factory.mktemp(f"prometheus-{request.param}")
    config = prometheus_yml(stack)
    rules_text, dashboard_texts = _files(stack)
    (base / "rules.yml").write_text(rules_text)
    (base / "token").write_text(TOKEN)
    endpoints: list[Endpoint] = []
    dev_targets = _dev_targets(config, endpoints) if request.param == "dev" else []
    groups = _prod_groups(stack, endpoints) if request.param == "prod" else []
    nodes = _prod_nodes(config, groups, endpoints) if request.param == "prod" else []
    with serving(endpoints) as stand_ins, reference_auth(base) as auth_port:
        # Whatever answers for core's auth process is the real reference service.
        ports = [auth_port if is_auth else port for port, is_auth in zip(stand_ins, _auth_flags(
            dev_targets, groups, config) + [False] * len(nodes), strict=True)]
        run = yaml.safe_load(yaml.safe_dump(config))
        run["global"].update({"scrape_interval": "1s", "evaluation_interval": "1s"})
        run["rule_files"] = [str(base / "rules.yml")]
        run.pop("alerting", None)
        for job in run["scrape_configs"]:
            job["scrape_interval"] = "1s"
            if "authorization" in job:
                job["authorization"]["credentials_file"] = str(base / "token")
            discovery = job.pop("kubernetes_sd_configs", None)
            if discovery is not None:
                role = "nodes" if discovery[0]["role"] == "node" else "pods"
                job["file_sd_configs"] = [{"files": [str(base / f"{role}.json")], "refresh_interval": "1s"}]
            if job.pop("tls_config", None) is not None:
                # The stand-in kubelet speaks plain HTTP: the CA the pod would verify it with is not here.
                job["scheme"] = "http"
        for static, port in zip(_statics(run), ports[:len(dev_targets)], strict=True):
            static["targets"] = [f"127.0.0.1:{port}"]
        if groups:
            for group, port in zip(groups, ports[:len(groups)], strict=True):
                group["targets"] = [f"127.0.0.1:{port}"]
            (base / "pods.json").write_text(json.dumps(groups))
        if nodes:
            for group, port in zip(nodes, ports[len(groups):], strict=True):
                group["targets"] = [f"127.0.0.1:{port}"]
            (base / "nodes.json").write_text(json.dumps(nodes))
        (base / "prometheus.yml").write_text(yaml.safe_dump(run, sort_keys=False))
        web = free_port()
        process = subprocess.Popen(
            [binary, f"--config.file={base / 'prometheus.yml'}", f"--storage.tsdb.path={base / 'data'}",
             f"--web.listen-address=127.0.0.1:{web}"],
            stdout=subprocess.DEVNULL, stderr=(base / "prometheus.log").open("w"))
        try:
            server = Running(f"http://127.0.0.1:{web}", config, [json.loads(text) for text in dashboard_texts],
                             yaml.safe_load(rules_text), _scaling_queries(stack))
            _wait(lambda: urllib.request.urlopen(f"{server.url}/-/ready", timeout=2).status == 200, "readiness")

            def scraped_twice() -> bool:
                active = server.get("/api/v1/targets")["data"]["activeTargets"]
                samples = server.query("count_over_time(up[1m])")
                return bool(active) and len(samples) == len(active) and all(
                    float(s["value"][1]) >= 3 for s in samples)

            _wait(scraped_twice, "every target to be scraped three times")
            yield server
        finally:
            process.terminate()
            process.wait(timeout=10)


def _scaling_queries(stack: Evaluation) -> list[tuple[str, str]]:
    return [(service.name, signal.query) for service in stack.services if service.autoscale is not None
            for signal in service.autoscale.signals if isinstance(signal, MetricSignal)]


def _auth_flags(dev_targets: list[str], groups: list[dict[str, Any]], config: dict[str, Any]) -> list[bool]:
    """Which stand-in poses as core's auth process (the Big Pod's `auth` port)."""
    if dev_targets:
        return [static["labels"]["service"] == "auth" for job in config["scrape_configs"]
                for static in job["static_configs"]]
    return [g["labels"]["__meta_kubernetes_pod_container_port_name"] == "auth"
            and g["labels"].get("__meta_kubernetes_pod_label_dreamscape_io_pod") == "core" for g in groups]


@contextmanager
def reference_auth(base: Path) -> Iterator[int]:
    """The reference application's auth service on 127.0.0.1, ready once /health answers."""
    node = require_tool("node", "nodejs")
    port = free_port()
    service = ROOT / "reference-app" / "dreamscape-services" / "auth"
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(port), "HOST": "127.0.0.1", "NODE_ENV": "production"}
    process = subprocess.Popen([node, "server.js"], cwd=service, env=env, stdout=(base / "auth.log").open("w"),
                               stderr=subprocess.STDOUT)
    try:
        _wait(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).status == 200,
              "the reference auth service")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _statics(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [static for job in run["scrape_configs"] for static in job.get("static_configs", [])]


def _targets(server: Running) -> list[dict[str, Any]]:
    active: list[dict[str, Any]] = server.get("/api/v1/targets")["data"]["activeTargets"]
    return active


def test_every_scraped_target_is_up_so_nothing_pages_for_a_port_without_metrics(running: Running) -> None:
    down = [(t["labels"], t["lastError"]) for t in _targets(running) if t["health"] != "up"]
    assert not down, f"targets the real server cannot scrape (a permanent ServiceDown): {down}"
    assert running.query("up == 0") == [], "ServiceDown's expression is empty"


def test_the_relabelling_keeps_no_nginx_or_vite_port_and_labels_like_dev(running: Running) -> None:
    targets = _targets(running)
    pairs = {(t["labels"]["pod"], t["labels"]["service"]) for t in targets}
    expected = {("core", "auth"), ("core", "user"), ("core", "nginx"), ("business", "voyage"), ("business", "ai"),
                ("business", "payment"), ("experience", "panorama"), ("experience", "gateway"),
                ("redis-exporter", "redis-exporter"),
                ("kafka-exporter", "kafka-exporter"), ("minio", "minio"), ("prometheus", "prometheus"),
                ("alertmanager", "alertmanager"), ("grafana", "grafana"), ("loki", "loki")}
    # PostgreSQL's metrics: postgres-exporter on Docker, every CloudNativePG member itself on Kubernetes.
    on_cluster = any("__meta_kubernetes_pod_container_port_name" in t["discoveredLabels"] for t in targets)
    expected.add(("postgres", "postgres") if on_cluster else ("postgres-exporter", "postgres-exporter"))
    assert expected <= pairs, f"missing scrape targets: {sorted(expected - pairs)}"
    assert ("experience", "web") not in pairs, "the Vite web server is not scraped"
    # Targets of one environment only: kube-state-metrics and the kubelets (k3s), Alloy's container metrics (Docker).
    extra = pairs - expected - {("kube-state-metrics", "kube-state-metrics"), ("alloy", "alloy"),
                                ("kubelet", "kubelet")}
    assert not extra, f"scraped without a declared metrics port: {sorted(extra)}"
    for target in targets:
        assert target["labels"]["environment"] in ("dev", "prod"), "every target carries its environment"
        discovered = target["discoveredLabels"]
        if "__meta_kubernetes_pod_container_port_name" in discovered:
            assert target["labels"]["node"] == NODE and target["labels"]["kubernetes_pod"], "replica labels"
        if "__meta_kubernetes_node_name" in discovered:
            assert target["labels"]["node"] == NODE, "a kubelet target names its node (NodeDown inhibition)"


def test_container_series_carry_their_containers_pod_and_service_and_nothing_else(running: Running) -> None:
    """Docker: Alloy's cAdvisor. Kubernetes: the kubelet's, which also reports the pod-level cgroups, another
    review stack's containers and kube-system's on the same node."""
    on_kubernetes = bool(running.config["scrape_configs"][0].get("kubernetes_sd_configs"))
    series = [s["metric"] for s in running.query("container_cpu_usage_seconds_total")]
    assert series, "the cAdvisor job is scraped"
    assert sorted((s.get("pod"), s.get("service")) for s in series) == [
        ("business", "business-pod"), ("core", "core-pod"), ("experience", "experience-pod")], (
        "our containers' series, labelled like their own metrics; the root cgroup's (and on Kubernetes other "
        f"namespaces' and the pods' own cgroups) are dropped: {series}")
    for metric in series:
        assert not [k for k in metric if k.startswith("container_label_")], "the copied Docker labels are dropped"
        assert not {"namespace", "container", "exported_pod"} & set(metric), f"no kubelet locator labels: {metric}"
        assert metric["environment"] == ("prod" if on_kubernetes else "dev"), metric
        if on_kubernetes:
            assert metric["kubernetes_pod"] == f"{metric['service']}-7d9f8-abcde" and metric["node"] == NODE, (
                f"the replica and its node, as on every other Kubernetes series: {metric}")


def _panel_queries(dashboards: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(f'{dashboard["title"]}: {panel["title"]}', target["expr"]) for dashboard in dashboards
            for panel in dashboard["panels"]
            if panel.get("type") not in ("row", "logs") for target in panel.get("targets", [])]


def test_the_five_dashboards_of_the_monitoring_plan_are_provisioned(running: Running) -> None:
    titles = sorted(d["title"] for d in running.dashboards)
    assert titles == ["API Gateway", "Business Metrics", "Database Metrics", "Error Tracking", "Services Overview"], (
        f"the dashboards the product's monitoring plan lists: {titles}")


def test_the_core_auth_process_is_the_real_reference_service(running: Running) -> None:
    (info,) = running.query('dreamscape_service_info{pod="core", service="auth"}')
    assert info["metric"]["exported_service"] == "auth", (
        f"served by the reference auth service, whose own `service` label never overrides ours: {info}")
    assert running.query('process_resident_memory_bytes{pod="core", service="auth"} > 0'), "its real RSS"


def test_every_dashboard_panel_returns_series_with_the_labels_it_groups_by(running: Running) -> None:
    cluster_only = running.config["scrape_configs"] and not any(
        job["job_name"] == "kube-state-metrics" for job in running.config["scrape_configs"])
    empty = []
    for title, expr in _panel_queries(running.dashboards):
        result = running.query(expr)
        if not result and not (cluster_only and "kube_" in expr):
            empty.append((title, expr))
        by = re.search(r"^sum by \(([a-z_, ]+)\)", expr)
        for series in result:
            for label in (by.group(1).replace(" ", "").split(",") if by else []):
                if label != "le":
                    assert series["metric"].get(label), f"{title}: series without {label}: {series['metric']}"
            if 'pod="' in expr and "service" in series["metric"]:
                pod = re.search(r'pod="([a-z-]+)"', expr)
                assert pod, title
                processes = {t["labels"]["service"] for t in _targets(running) if t["labels"]["pod"] == pod.group(1)}
                assert series["metric"]["service"] in processes, f"{title}: {series['metric']} is a scraped process"
    assert not empty, f"panels that show nothing against the real sources: {empty}"


def test_every_alert_expression_evaluates_and_every_rule_is_healthy(running: Running) -> None:
    exprs = [rule["expr"] for group in running.rules["groups"] for rule in group["rules"]]
    assert exprs, "rules are loaded"
    for expr in exprs:
        running.query(expr)
    _wait(lambda: all(rule.get("lastEvaluation", "").startswith("2")
                      for group in running.get("/api/v1/rules")["data"]["groups"] for rule in group["rules"]),
          "every rule to be evaluated")
    unhealthy = [(rule["name"], rule.get("lastError")) for group in running.get("/api/v1/rules")["data"]["groups"]
                 for rule in group["rules"] if rule["health"] != "ok"]
    assert not unhealthy, f"rules the real server cannot evaluate: {unhealthy}"
    alerts = [(a["labels"]["alertname"], a["state"]) for a in running.get("/api/v1/alerts")["data"]["alerts"]]
    assert not alerts, f"healthy stand-ins page nobody, not even pending: {alerts}"



def test_every_autoscaling_query_returns_one_number_over_the_reference_series(running: Running) -> None:
    assert {name for name, _ in running.scaling_queries} == {"core-pod", "experience-pod"}, (
        f"core scales on sessions and experience on requests/s, both from Prometheus: {running.scaling_queries}")
    for name, query in running.scaling_queries:
        result = running.query(query)
        assert len(result) == 1, f"{name}: KEDA reads one value from {query!r}, got {result}"
        assert float(result[0]["value"][1]) >= 0, f"{name}: a load, not NaN: {result}"


def test_every_cloudnative_pg_member_is_scraped_in_the_rules_vocabulary_with_its_role(running: Running) -> None:
    if not running.config["scrape_configs"][0].get("kubernetes_sd_configs"):
        pytest.skip("PostgreSQL runs as a CloudNativePG cluster on Kubernetes only")
    members = running.query('pg_up{pod="postgres", service="postgres"}')
    roles = sorted(s["metric"].get("role", "") for s in members)
    assert roles == ["primary", "replica", "replica"], f"each of the 3 members, its role visible: {members}"
    assert all(s["metric"]["kubernetes_pod"].startswith("postgres-") for s in members), "one series per member"
    assert not running.query('{__name__=~"cnpg_collector_up|cnpg_backends_total|cnpg_pg_.+"}'), (
        "CloudNativePG's names arrive renamed onto postgres_exporter's, the one vocabulary of rules and panels")
    (setting, *_) = running.query("pg_settings_max_connections")
    assert "name" not in setting["metric"], f"the setting's name moved into the metric name: {setting}"
    assert running.query("cnpg_collector_last_collection_error"), "the operator's own gauges are kept as they are"


@contextmanager
def _prometheus(base: Path, config: dict[str, Any], rules_text: str) -> Iterator[Running]:
    """The real server on `config` (scrape and evaluation every second), ready, with `rules_text` loaded."""
    binary = require_tool("prometheus")
    (base / "rules.yml").write_text(rules_text)
    config["rule_files"] = [str(base / "rules.yml")]
    (base / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    web = free_port()
    process = subprocess.Popen(
        [binary, f"--config.file={base / 'prometheus.yml'}", f"--storage.tsdb.path={base / 'data'}",
         f"--web.listen-address=127.0.0.1:{web}"],
        stdout=subprocess.DEVNULL, stderr=(base / "prometheus.log").open("w"))
    try:
        server = Running(f"http://127.0.0.1:{web}", config, [], yaml.safe_load(rules_text), [])
        _wait(lambda: urllib.request.urlopen(f"{server.url}/-/ready", timeout=2).status == 200, "readiness")
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_postgres_down_fires_on_kubernetes_when_a_member_cannot_query_its_server(
        prod: Evaluation, tmp_path: Path) -> None:
    rules_text, _ = _files(prod)
    (job,) = [j for j in prometheus_yml(prod)["scrape_configs"] if j["job_name"] == "postgres"]
    members = [m for m in database_members(prod) if m.cluster == "postgres"]
    groups: list[dict[str, Any]] = [{"labels": {
        **{f"__meta_kubernetes_pod_label_{_meta(k)}": v for k, v in m.labels.items()},
        "__meta_kubernetes_pod_name": m.name, "__meta_kubernetes_pod_node_name": NODE,
        "__meta_kubernetes_pod_phase": "Running", "__meta_kubernetes_pod_container_port_name": "metrics",
    }} for m in members]
    # The primary's server is gone; its instance manager still answers, with cnpg_collector_up 0.
    bodies = [cloudnative_pg_member(up=0 if m.labels["cnpg.io/instanceRole"] == "primary" else 1) for m in members]
    with serving([Endpoint("/metrics", body) for body in bodies]) as ports:
        for group, port in zip(groups, ports, strict=True):
            group["targets"] = [f"127.0.0.1:{port}"]
        (tmp_path / "pods.json").write_text(json.dumps(groups))
        job = {**job, "scrape_interval": "1s"}
        job.pop("kubernetes_sd_configs")
        job["file_sd_configs"] = [{"files": [str(tmp_path / "pods.json")], "refresh_interval": "1s"}]
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"}, "scrape_configs": [job]}
        with _prometheus(tmp_path, config, rules_text) as server:
            def postgres_down() -> list[dict[str, Any]]:
                alerts = server.get("/api/v1/alerts")["data"]["alerts"]
                return [a for a in alerts if a["labels"]["alertname"] == "PostgresDown"]

            _wait(lambda: bool(postgres_down()), "PostgresDown to be pending")
            (alert,) = postgres_down()
            assert alert["labels"]["role"] == "primary" and alert["labels"]["pod"] == "postgres", (
                f"the alert names the member that is down, and its role: {alert['labels']}")
            assert alert["labels"]["severity"] == "critical", "a database that does not answer pages"
