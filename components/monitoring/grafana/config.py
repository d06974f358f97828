"""Grafana provisioning: datasources with fixed uids, the dashboard provider, and the five dashboards
(Services Overview, Database Metrics, API Gateway, Error Tracking, Business Metrics).

Dashboards are built with grafana-foundation-sdk (Grafana's maintained dashboards-as-code library) and
every panel and query points at one of the provisioned datasource uids, so it works without any manual
datasource selection. The admin password reaches Grafana as a file via `GF_SECURITY_ADMIN_PASSWORD__FILE`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import logs, loki, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, GridPos

from components.monitoring import containers, labels
from components.monitoring._yaml import dump_yaml
from components.monitoring.common import LOKI_URL, PROMETHEUS_URL
from components.monitoring.prometheus.rules import HttpMetrics

PROMETHEUS_UID = "dreamscape-prometheus"
LOKI_UID = "dreamscape-loki"
DATASOURCE_UIDS: frozenset[str] = frozenset({PROMETHEUS_UID, LOKI_UID})
DASHBOARD_UID = "dreamscape-bigpods-overview"
DASHBOARD_FILE_NAME = "bigpods-overview.json"

_PROM = DataSourceRef(type_val="prometheus", uid=PROMETHEUS_UID)
_LOKI = DataSourceRef(type_val="loki", uid=LOKI_UID)
_WIDTH = 24


@dataclass(frozen=True)
class GrafanaPaths:
    """Grafana's provisioning tree, the dashboards folder and the admin password file."""

    datasources_file: str = "/etc/grafana/provisioning/datasources/dreamscape.yaml"
    dashboard_providers_file: str = "/etc/grafana/provisioning/dashboards/dreamscape.yaml"
    dashboards_dir: str = "/var/lib/grafana/dashboards"
    admin_password_file: str = "/run/secrets/grafana/admin-password"
    data_dir: str = "/var/lib/grafana"


@dataclass(frozen=True)
class GrafanaDatasourcesArgs:
    prometheus_url: str = PROMETHEUS_URL
    loki_url: str = LOKI_URL
    scrape_interval: str = "15s"


@dataclass(frozen=True)
class DashboardArgs:
    pods: Mapping[str, tuple[str, ...]]
    """`pod` label -> the `service` labels of its processes, from the scrape view
    (components.monitoring.scrape.big_pods), so every selector matches a scraped series."""
    http: HttpMetrics = field(default_factory=HttpMetrics)
    refresh: str = "30s"
    container_metrics: bool = False
    """Container metrics (cAdvisor, components.monitoring.containers) are scraped: CPU panels per pod."""
    standalone: tuple[str, ...] = ()
    """The `service` labels of the scraped services outside the Big Pods (infrastructure and exporters),
    from the same scrape view: one "up" panel each, so a new infra service's metrics port gets one."""


def datasources_config(args: GrafanaDatasourcesArgs) -> dict[str, object]:
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Prometheus",
                "type": "prometheus",
                "uid": PROMETHEUS_UID,
                "access": "proxy",
                "url": args.prometheus_url,
                "isDefault": True,
                "editable": False,
                "jsonData": {"timeInterval": args.scrape_interval, "httpMethod": "POST"},
            },
            {
                "name": "Loki",
                "type": "loki",
                "uid": LOKI_UID,
                "access": "proxy",
                "url": args.loki_url,
                "isDefault": False,
                "editable": False,
                "jsonData": {"maxLines": 1000},
            },
        ],
    }


def render_datasources(args: GrafanaDatasourcesArgs) -> str:
    """For `GrafanaPaths.datasources_file`."""
    return dump_yaml(datasources_config(args))


def render_dashboard_provider(paths: GrafanaPaths | None = None, folder: str = "DreamScape") -> str:
    """For `GrafanaPaths.dashboard_providers_file`: load JSON dashboards from `dashboards_dir`, read-only."""
    p = paths or GrafanaPaths()
    return dump_yaml(
        {
            "apiVersion": 1,
            "providers": [
                {
                    "name": "dreamscape",
                    "orgId": 1,
                    "folder": folder,
                    "type": "file",
                    "disableDeletion": True,
                    "allowUiUpdates": False,
                    "updateIntervalSeconds": 60,
                    "options": {"path": p.dashboards_dir, "foldersFromFilesStructure": False},
                }
            ],
        }
    )


def grafana_env(paths: GrafanaPaths | None = None, admin_user: str = "admin") -> dict[str, str]:
    """Container env: no secret values, only the `__FILE` pointer for the admin password."""
    p = paths or GrafanaPaths()
    return {
        "GF_SECURITY_ADMIN_USER": admin_user,
        "GF_SECURITY_ADMIN_PASSWORD__FILE": p.admin_password_file,
        "GF_USERS_ALLOW_SIGN_UP": "false",
        "GF_AUTH_ANONYMOUS_ENABLED": "false",
        "GF_ANALYTICS_REPORTING_ENABLED": "false",
        "GF_PATHS_DATA": p.data_dir,
    }


@dataclass(frozen=True)
class _Query:
    expr: str
    legend: str


class _Layout:
    """Places panels left to right on a 24-column grid and numbers them."""

    def __init__(self) -> None:
        self.x = 0
        self.y = 0
        self.row_height = 0
        self.next_id = 1

    def row(self) -> tuple[int, GridPos]:
        self._newline()
        pos = GridPos(h=1, w=_WIDTH, x=0, y=self.y)
        self.y += 1
        return self._id(), pos

    def panel(self, w: int, h: int = 8) -> tuple[int, GridPos]:
        if self.x + w > _WIDTH:
            self._newline()
        pos = GridPos(h=h, w=w, x=self.x, y=self.y)
        self.x += w
        self.row_height = max(self.row_height, h)
        return self._id(), pos

    def _newline(self) -> None:
        self.y += self.row_height
        self.x = 0
        self.row_height = 0

    def _id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value


@dataclass(frozen=True)
class _Panel:
    kind: str  # "timeseries" | "stat"
    title: str
    unit: str
    queries: tuple[_Query, ...]
    width: int = 8


def _ts(title: str, unit: str, *queries: _Query, width: int = 8) -> _Panel:
    return _Panel("timeseries", title, unit, queries, width)


def _st(title: str, unit: str, query: _Query, width: int = 6) -> _Panel:
    return _Panel("stat", title, unit, (query,), width)


def _build_panel(spec: _Panel, layout: _Layout) -> timeseries.Panel | stat.Panel:
    panel_id, pos = layout.panel(spec.width)
    panel: timeseries.Panel | stat.Panel = timeseries.Panel() if spec.kind == "timeseries" else stat.Panel()
    panel = panel.id(panel_id).title(spec.title).datasource(_PROM).unit(spec.unit).grid_pos(pos)
    for i, q in enumerate(spec.queries):
        target = prometheus.Dataquery().expr(q.expr).legend_format(q.legend).ref_id(chr(ord("A") + i))
        panel = panel.with_target(target.datasource(_PROM))
    return panel


def _pod_section(pod: str, processes: tuple[str, ...], http: HttpMetrics,
                 container_metrics: bool) -> tuple[str, list[_Panel]]:
    """One row per Big Pod, on what its processes serve (the reference application: requests by `code`,
    the request duration histogram, resident memory, dependency checks) plus NGINX when the pod has a
    gateway. Latency and 4xx/5xx leave out the probes' and the scraper's routes, as the alerts do."""
    sel = f'{labels.POD}="{pod}"'
    users = f'{sel}, route!~"{http.platform_routes}"'
    buckets = f"{http.duration}_bucket{{{users}}}"
    total = f"{http.requests_total}{{{sel}}}"
    errors = f'{http.requests_total}{{{sel}, {http.status_label}=~"5.."}}'
    by_service = f"{{{{{labels.SERVICE}}}}}"
    panels = [
        _st(f"{pod}: processes up", "none", _Query(f"sum by ({labels.SERVICE}) (up{{{sel}}})", by_service), width=4),
        _ts(f"{pod}: memory (RSS)", "bytes",
            _Query(f"sum by ({labels.SERVICE}) ({http.memory}{{{sel}}})", by_service), width=10),
        _ts(f"{pod}: dependencies up", "none",
            _Query(f"min by ({labels.SERVICE}, dependency) ({http.dependency_up}{{{sel}}})",
                   f"{by_service} -> {{{{dependency}}}}"), width=10),
        _ts(f"{pod}: request rate", "reqps", _Query(f"sum by ({labels.SERVICE}) (rate({total}[5m]))", by_service)),
        _ts(f"{pod}: 5xx error rate", "percentunit", _Query(
            f"sum by ({labels.SERVICE}) (rate({errors}[5m])) / sum by ({labels.SERVICE}) (rate({total}[5m]))",
            by_service)),
        _ts(f"{pod}: latency (whole pod)", "s", *(
            _Query(f"histogram_quantile({q}, sum by (le) (rate({buckets}[5m])))", f"p{q * 100:g}")
            for q in LATENCY_QUANTILES)),
        _ts(f"{pod}: latency by service", "s", *(
            _Query(f"histogram_quantile({q}, sum by ({labels.SERVICE}, le) (rate({buckets}[5m])))",
                   f"{by_service} p{q * 100:g}")
            for q in LATENCY_QUANTILES)),
        _ts(f"{pod}: 4xx and 5xx responses/s", "reqps", *(
            _Query(f'sum by ({labels.SERVICE}) (rate({http.duration}_count{{{users}, '
                   f'{http.duration_status_label}=~"{klass[0]}.."}}[5m]))', f"{by_service} {klass}")
            for klass in ("4xx", "5xx"))),
    ]
    if container_metrics:
        panels.append(_ts(f"{pod}: CPU (cores)", "none", _Query(
            f"sum by ({labels.POD}) (rate({containers.CPU_SECONDS}{{{sel}}}[5m]))", f"{{{{{labels.POD}}}}}")))
    if NGINX in processes:
        panels.append(_ts(f"{pod}: NGINX connections", "none",
                          _Query(f'sum by ({labels.SERVICE}) (nginx_connections_active{{{sel}}})', by_service)))
    return f"{pod} pod", panels


LATENCY_QUANTILES = (0.5, 0.95, 0.99)

NGINX = "nginx"
"""The `service` label of a gateway's NGINX (its exporter's metrics port name)."""


def _postgres(name: str) -> str:
    """A Postgres statistic by postgres_exporter's name (`pg_<name>`): on Kubernetes the CloudNativePG
    members' `cnpg_pg_<name>` arrive under that name (components.monitoring.database_metrics)."""
    return f"pg_{name}"


def _rate_sum(selector: str, by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({selector}[5m]))"


def _ratio(hit: str, miss: str, by: str = "") -> str:
    """hits / (hits + misses) over 5 minutes."""
    return f"{_rate_sum(hit, by)} / ({_rate_sum(hit, by)} + {_rate_sum(miss, by)})"


def _database_sections() -> list[tuple[str, list[_Panel]]]:
    return [
        (
            "PostgreSQL",
            [
                _st("Postgres up", "none", _Query("min(pg_up)", "up"), width=4),
                _ts(
                    "Postgres connections",
                    "none",
                    # Per server: every CloudNativePG member has its own connections and limit.
                    _Query(f"max(sum by ({labels.KUBERNETES_POD}) (pg_stat_activity_count))", "in use"),
                    _Query("max(pg_settings_max_connections)", "max_connections"),
                    width=5,
                ),
                _ts("Postgres database size", "bytes",
                    _Query("max by (datname) (pg_database_size_bytes)", "{{datname}}"), width=5),
                _ts("Postgres transactions/s", "ops",
                    _Query(_rate_sum(_postgres("stat_database_xact_commit"), "datname"), "{{datname}} commits"),
                    _Query(_rate_sum(_postgres("stat_database_xact_rollback"), "datname"), "{{datname}} rollbacks"),
                    width=5),
                _ts("Postgres cache hit ratio", "percentunit",
                    _Query(_ratio(_postgres("stat_database_blks_hit"), _postgres("stat_database_blks_read"),
                                  "datname"), "{{datname}}"), width=5),
            ],
        ),
        (
            "Redis",
            [
                _st("Redis nodes up", "none", _Query("sum(redis_up)", "up"), width=4),
                _ts("Redis memory used", "bytes",
                    _Query("sum by (instance) (redis_memory_used_bytes)", "{{instance}}"), width=4),
                _ts("Redis commands/s", "ops",
                    _Query(_rate_sum("redis_commands_processed_total", "instance"), "{{instance}}"), width=4),
                _ts("Redis clients", "none",
                    _Query("sum by (instance) (redis_connected_clients)", "{{instance}}"), width=4),
                _ts("Redis hit ratio", "percentunit",
                    _Query(_ratio("redis_keyspace_hits_total", "redis_keyspace_misses_total", "instance"),
                           "{{instance}}"), width=4),
                _ts("Redis evictions/s", "ops",
                    _Query(_rate_sum("redis_evicted_keys_total", "instance"), "{{instance}}"), width=4),
            ],
        ),
        (
            "MinIO",
            [
                _st("MinIO nodes offline", "none", _Query("max(minio_cluster_nodes_offline_total)", "offline"),
                    width=4),
                _ts("MinIO usable capacity", "bytes",
                    _Query("max(minio_cluster_capacity_usable_free_bytes)", "free"),
                    _Query("max(minio_cluster_capacity_usable_total_bytes)", "total"), width=6),
                _ts("MinIO S3 requests/s", "reqps",
                    _Query(_rate_sum("minio_s3_requests_total", "api"), "{{api}}"), width=7),
                # MinIO's time-to-first-byte buckets are cumulative (typed gauge, counting up), so they
                # take rate() and histogram_quantile() like any histogram.
                _ts("MinIO request latency (time to first byte, p95)", "s",
                    _Query("histogram_quantile(0.95, sum by (api, le) "
                           "(rate(minio_s3_requests_ttfb_seconds_distribution[5m])))", "{{api}}"), width=7),
            ],
        ),
    ]


def _standalone_section(services: tuple[str, ...]) -> tuple[str, list[_Panel]]:
    return ("Infrastructure targets up", [
        _st(f"{service} up", "none", _Query(f'sum(up{{{labels.SERVICE}="{service}"}})', "up"), width=4)
        for service in services])


def _cluster_section() -> tuple[str, list[_Panel]]:
    return (
        "Cluster state (Kubernetes)",
        [
            _st("Last successful backup age", "s",
                _Query("time() - max by (cronjob) (kube_cronjob_status_last_successful_time)", "{{cronjob}}")),
            _ts("Unavailable replicas", "none",
                _Query("sum by (deployment) (kube_deployment_spec_replicas - "
                       "kube_deployment_status_replicas_available)", "{{deployment}}"),
                width=6),
            _ts("Container restarts (1h)", "none",
                _Query("sum by (exported_pod, container) (increase(kube_pod_container_status_restarts_total[1h]))",
                       "{{exported_pod}} / {{container}}"), width=6),
            _ts("Volume claims", "bytes",
                _Query("sum by (persistentvolumeclaim) "
                       "(kube_persistentvolumeclaim_resource_requests_storage_bytes)", "{{persistentvolumeclaim}}"),
                width=6),
        ],
    )


def _gateway_sections(pods: Mapping[str, tuple[str, ...]], http: HttpMetrics) -> list[tuple[str, list[_Panel]]]:
    """Traffic and latency at the edge of each Big Pod (NGINX) and per service across pods."""
    users = f'route!~"{http.platform_routes}"'
    nginx = [pod for pod, processes in pods.items() if NGINX in processes]
    sel = f'{labels.SERVICE}="{NGINX}", {labels.POD}=~"{"|".join(nginx)}"'
    by_pod = f"{{{{{labels.POD}}}}}"
    by_service = f"{{{{{labels.SERVICE}}}}}"
    gateway = [
        _ts("NGINX requests/s", "reqps",
            _Query(_rate_sum(f"nginx_http_requests_total{{{sel}}}", labels.POD), by_pod), width=12),
        _ts("NGINX active connections", "none",
            _Query(f"sum by ({labels.POD}) (nginx_connections_active{{{sel}}})", by_pod), width=12),
    ] if nginx else []
    buckets = _rate_sum(f"{http.duration}_bucket{{{users}}}", f"{labels.SERVICE}, le")
    services = [
        _ts("Requests/s by service", "reqps",
            _Query(_rate_sum(f"{http.duration}_count{{{users}}}", labels.SERVICE), by_service), width=8),
        *(_ts(f"Latency p{q * 100:g} by service", "s", _Query(f"histogram_quantile({q}, {buckets})", by_service))
          for q in LATENCY_QUANTILES[1:]),
    ]
    return [("Gateways (NGINX)", gateway), ("Services", services)] if gateway else [("Services", services)]


def _error_sections(http: HttpMetrics) -> list[tuple[str, list[_Panel]]]:
    users = f'route!~"{http.platform_routes}"'
    by_service = f"{{{{{labels.SERVICE}}}}}"
    status = http.duration_status_label
    failed = f'{http.duration}_count{{{users}, {status}=~"5.."}}'
    total = f"{http.duration}_count{{{users}}}"
    return [(
        "Errors",
        [
            _ts("5xx share of user requests", "percentunit",
                _Query(f"{_rate_sum(failed, labels.SERVICE)} / {_rate_sum(total, labels.SERVICE)}", by_service),
                width=8),
            _ts("4xx responses/s by route", "reqps",
                _Query(_rate_sum(f'{http.duration}_count{{{users}, {status}=~"4.."}}', f"{labels.SERVICE}, route"),
                       f"{by_service} {{{{route}}}}"), width=8),
            _ts("Failing dependency checks", "none",
                _Query(f"sum by ({labels.SERVICE}, dependency) (1 - {http.dependency_up})",
                       f"{by_service} -> {{{{dependency}}}}"), width=8),
        ],
    )]


def _business_sections(http: HttpMetrics) -> list[tuple[str, list[_Panel]]]:
    users = f'route!~"{http.platform_routes}"'
    return [(
        "Business",
        [
            _ts("Events published/s by topic (bookings, payments, ...)", "ops",
                _Query(_rate_sum("kafka_topic_partition_current_offset", "topic"), "{{topic}}"), width=8),
            _ts("Consumer group lag (the AI queue)", "none",
                _Query("sum by (consumergroup, topic) (kafka_consumergroup_lag)", "{{consumergroup}} / {{topic}}"),
                width=8),
            _ts("API calls/s by route", "reqps",
                _Query(_rate_sum(f"{http.duration}_count{{{users}}}", f"{labels.SERVICE}, route"),
                       f"{{{{{labels.SERVICE}}}}} {{{{route}}}}"), width=8),
            _st("Kafka brokers", "none", _Query("max(kafka_brokers)", "brokers")),
        ],
    )]


def _dashboard(uid: str, title: str, tags: list[str], sections: list[tuple[str, list[_Panel]]],
               refresh: str, logs_expr: str | None = None, logs_title: str = "Logs") -> dict[str, object]:
    layout = _Layout()
    builder = (
        dash.Dashboard(title)
        .uid(uid)
        .tags(["dreamscape", *tags])
        .refresh(refresh)
        .time("now-6h", "now")
        .timezone("browser")
    )
    for section, panels in sections:
        row_id, row_pos = layout.row()
        builder = builder.with_row(dash.Row(section).id(row_id).grid_pos(row_pos))
        for spec in panels:
            builder = builder.with_panel(_build_panel(spec, layout))
    if logs_expr is not None:
        row_id, row_pos = layout.row()
        builder = builder.with_row(dash.Row("Logs").id(row_id).grid_pos(row_pos))
        log_id, log_pos = layout.panel(_WIDTH, 10)
        builder = builder.with_panel(
            logs.Panel()
            .id(log_id)
            .title(logs_title)
            .datasource(_LOKI)
            .grid_pos(log_pos)
            .with_target(loki.Dataquery().expr(logs_expr).ref_id("A").datasource(_LOKI))
        )
    data: dict[str, object] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    return data


def bigpods_dashboard(args: DashboardArgs) -> dict[str, object]:
    """Services Overview: a row per Big Pod (what its processes serve), the cluster state, the logs."""
    sections = [_pod_section(pod, processes, args.http, args.container_metrics) for pod, processes in args.pods.items()]
    if args.standalone:
        sections.append(_standalone_section(args.standalone))
    sections.append(_cluster_section())
    return _dashboard(DASHBOARD_UID, "Services Overview", ["big-pods"], sections, args.refresh,
                      logs_selector(args.pods), "Big Pods logs")


@dataclass(frozen=True, kw_only=True)
class Dashboard:
    """One provisioned dashboard: its file under the dashboards folder and its builder."""

    file_name: str
    uid: str
    build: Callable[[DashboardArgs], dict[str, object]]


DASHBOARDS = (
    Dashboard(file_name=DASHBOARD_FILE_NAME, uid=DASHBOARD_UID, build=bigpods_dashboard),
    Dashboard(file_name="database-metrics.json", uid="dreamscape-database-metrics",
              build=lambda a: _dashboard("dreamscape-database-metrics", "Database Metrics", ["data"],
                                         _database_sections(), a.refresh)),
    Dashboard(file_name="api-gateway.json", uid="dreamscape-api-gateway",
              build=lambda a: _dashboard("dreamscape-api-gateway", "API Gateway", ["traffic", "latency"],
                                         _gateway_sections(a.pods, a.http), a.refresh)),
    Dashboard(file_name="error-tracking.json", uid="dreamscape-error-tracking",
              build=lambda a: _dashboard("dreamscape-error-tracking", "Error Tracking", ["errors"],
                                         _error_sections(a.http), a.refresh,
                                         logs_selector(a.pods, level="error"), "Error logs")),
    Dashboard(file_name="business-metrics.json", uid="dreamscape-business-metrics",
              build=lambda a: _dashboard("dreamscape-business-metrics", "Business Metrics", ["business"],
                                         _business_sections(a.http), a.refresh)),
)
"""The five dashboards of the product's monitoring plan: Services Overview, Database Metrics, API Gateway,
Error Tracking and Business Metrics."""


def render_dashboards(args: DashboardArgs) -> dict[str, str]:
    """File name -> JSON, for `<GrafanaPaths.dashboards_dir>/`."""
    return {d.file_name: json.dumps(d.build(args), indent=2, sort_keys=False) + "\n" for d in DASHBOARDS}


def logs_selector(pods: Mapping[str, tuple[str, ...]], level: str | None = None) -> str:
    """The Big Pods' log streams: the same `pod` values the metrics carry (Alloy sets them from the same
    Big Pod label), of one `level` when given."""
    matchers = [f'{labels.POD}=~"{"|".join(pods)}"', *([f'{labels.LEVEL}="{level}"'] if level else [])]
    return "{" + ", ".join(matchers) + "}"


def render_bigpods_dashboard(args: DashboardArgs) -> str:
    """JSON for `<GrafanaPaths.dashboards_dir>/bigpods-overview.json`."""
    return json.dumps(bigpods_dashboard(args), indent=2, sort_keys=False) + "\n"
