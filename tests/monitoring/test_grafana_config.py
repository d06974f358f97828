"""Grafana provisioning and the five dashboards (Services Overview first)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from components.infra.registry import REGISTRY
from components.monitoring.grafana.config import (
    DASHBOARD_FILE_NAME,
    DASHBOARD_UID,
    DATASOURCE_UIDS,
    LOKI_UID,
    PROMETHEUS_UID,
    DashboardArgs,
    GrafanaDatasourcesArgs,
    GrafanaPaths,
    grafana_env,
    render_bigpods_dashboard,
    render_dashboard_provider,
    render_dashboards,
    render_datasources,
)
from components.monitoring.scrape import scrape_targets
from tests.harness import Evaluation
from tests.monitoring.test_components import docker_container, uploaded

PODS = {"core": ("auth", "user", "nginx"), "business": ("voyage", "ai", "payment")}


def _dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render_bigpods_dashboard(DashboardArgs(pods=PODS)))
    return data


def _panels() -> list[dict[str, Any]]:
    return [p for p in _dashboard()["panels"] if p["type"] != "row"]


def _all_dashboards() -> list[dict[str, Any]]:
    return [json.loads(text) for text in render_dashboards(DashboardArgs(pods=PODS)).values()]


def _all_panels() -> list[dict[str, Any]]:
    return [p for d in _all_dashboards() for p in d["panels"] if p["type"] != "row"]


def test_the_five_dashboards_have_distinct_stable_uids_and_the_overview_is_one_of_them() -> None:
    dashboards = _all_dashboards()
    assert len(dashboards) == 5, "Services Overview, Database Metrics, API Gateway, Error Tracking, Business Metrics"
    uids = [d["uid"] for d in dashboards]
    assert len(set(uids)) == 5 and DASHBOARD_UID in uids, f"one stable uid each: {uids}"


def test_datasources_are_provisioned_with_fixed_uids() -> None:
    config = yaml.safe_load(render_datasources(GrafanaDatasourcesArgs()))
    uids = {(d["type"], d["uid"]) for d in config["datasources"]}
    assert uids == {("prometheus", PROMETHEUS_UID), ("loki", LOKI_UID)}, "dashboards rely on these fixed uids"


def test_the_dashboard_provider_loads_the_dashboards_folder_read_only() -> None:
    config = yaml.safe_load(render_dashboard_provider())
    (provider,) = config["providers"]
    assert provider["options"]["path"] == GrafanaPaths().dashboards_dir, "provider reads the mounted folder"
    assert provider["allowUiUpdates"] is False, "dashboards are code; UI edits must not drift"


def test_the_dashboard_is_json_with_a_stable_uid() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] == DASHBOARD_UID, "a stable uid keeps links working across redeploys"
    assert dashboard["title"] == "Services Overview", "title"


def test_every_panel_and_query_uses_a_provisioned_datasource_uid() -> None:
    for panel in _all_panels():
        assert panel["datasource"]["uid"] in DATASOURCE_UIDS, f"panel {panel['title']!r} datasource"
        assert panel["targets"], f"panel {panel['title']!r} must query something"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == panel["datasource"]["uid"], (
                f"query of {panel['title']!r} must use the panel's provisioned datasource"
            )


def test_each_big_pod_charts_what_its_processes_serve() -> None:
    titles = {p["title"] for p in _panels()}
    for pod in PODS:
        for metric in (
            "memory (RSS)",
            "dependencies up",
            "request rate",
            "5xx error rate",
            "processes up",
        ):
            assert f"{pod}: {metric}" in titles, f"{pod} pod needs a {metric} panel"
    assert "core: NGINX connections" in titles, "a pod whose gateway is scraped charts NGINX"
    assert "business: NGINX connections" not in titles, "a pod without NGINX gets no empty NGINX panel"


def test_per_pod_panels_select_the_pod_label_values_of_the_scrape_view() -> None:
    exprs = [t["expr"] for p in _panels() for t in p["targets"] if p["title"].startswith("core:")]
    assert exprs and all('pod="core"' in e for e in exprs), f"core panels select pod=core: {exprs}"
    logs = next(p for p in _panels() if p["type"] == "logs")
    assert logs["targets"][0]["expr"] == '{pod=~"core|business"}', "the logs panel selects the same pod values"


def test_infrastructure_panels_cover_postgres_redis_kafka_minio_and_logs() -> None:
    exprs = " ".join(t["expr"] for p in _all_panels() for t in p["targets"])
    for metric in (
        "pg_stat_activity_count",
        "pg_stat_database_xact_commit",
        "pg_stat_database_blks_hit",
        "redis_keyspace_hits_total",
        "redis_evicted_keys_total",
        "minio_s3_requests_ttfb_seconds_distribution",
        "kube_pod_container_status_restarts_total",
        "redis_memory_used_bytes",
        "kafka_consumergroup_lag",
        "minio_cluster_capacity_usable_free_bytes",
        "kube_cronjob_status_last_successful_time",
        "kube_deployment_status_replicas_available",
    ):
        assert metric in exprs, f"dashboard must chart {metric}"
    assert any(p["type"] == "logs" and p["datasource"]["uid"] == LOKI_UID for p in _panels()), (
        "a Loki logs panel"
    )


def test_every_scraped_service_outside_the_big_pods_gets_an_up_panel() -> None:
    overview = json.loads(render_bigpods_dashboard(DashboardArgs(pods=PODS, standalone=("minio", "rabbitmq"))))
    exprs = {t["expr"] for p in overview["panels"] if p["type"] != "row" for t in p["targets"]}
    for service in ("minio", "rabbitmq"):
        assert f'sum(up{{service="{service}"}})' in exprs, f"{service}'s metrics port gets an up panel"
    assert not any(p["title"] == "Infrastructure targets up" for p in _dashboard()["panels"]), (
        "no empty row when nothing outside the Big Pods is scraped")


def test_the_environment_dashboards_every_scraped_infra_service(dev: Evaluation) -> None:
    overview = json.loads(uploaded(docker_container(dev, "grafana"), f"/etc/grafana/dashboards/{DASHBOARD_FILE_NAME}"))
    titles = {p["title"] for p in overview["panels"]}
    infra = {entry.name for entry in REGISTRY}
    scraped = {t.service for t in scrape_targets(s for s in dev.services if s.name in infra)}
    missing = sorted(s for s in scraped if f"{s} up" not in titles)
    assert scraped and not missing, f"every scraped infra service has an up panel; missing {missing}"


def test_panels_have_unique_ids_and_fit_the_grid() -> None:
    for dashboard in _all_dashboards():
        panels = dashboard["panels"]
        ids = [p["id"] for p in panels]
        assert len(ids) == len(set(ids)), f"{dashboard['title']}: panel ids must be unique"
        assert all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in panels), (
            f"{dashboard['title']}: panels must fit 24 columns")


def test_the_error_tracking_logs_panel_reads_the_big_pods_error_lines() -> None:
    (errors,) = [d for d in _all_dashboards() if d["title"] == "Error Tracking"]
    (logs,) = [p for p in errors["panels"] if p["type"] == "logs"]
    assert logs["targets"][0]["expr"] == '{pod=~"core|business", level="error"}', "error lines of the Big Pods"


def test_grafana_reads_the_admin_password_from_a_file() -> None:
    env = grafana_env()
    assert env["GF_SECURITY_ADMIN_PASSWORD__FILE"] == GrafanaPaths().admin_password_file, (
        "password via __FILE"
    )
    assert "GF_SECURITY_ADMIN_PASSWORD" not in env, "never the password itself"
