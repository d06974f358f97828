"""CloudNativePG's metrics in the one Postgres vocabulary the rules and dashboards use (postgres_exporter's).

Where the platform runs the database as a CloudNativePG cluster, each member's instance manager serves
metrics on its container port `metrics` (9187) and no postgres-exporter runs. Its names differ: the
built-in collector's `cnpg_collector_up`, and `cnpg_<query>_<column>` for each default monitoring query
(CloudNativePG v1.30.0: `PrometheusNamespace = "cnpg"` in
pkg/management/postgres/webserver/metricserver/pg_collector.go, the queries in
config/manager/default-monitoring.yaml). The scrape job of those members renames them onto the
postgres_exporter names (`metric_relabel_configs`), so every rule and panel is written once, for both
targets. The members are found by `cnpg.io/cluster` (their `app.kubernetes.io/name` is CloudNativePG's
own, `postgresql`), and each series carries the member's role (`cnpg.io/instanceRole`: `primary` or
`replica`) as `role`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

CLUSTER_POD_LABEL = "cnpg.io/cluster"
"""On every member pod, the Cluster's name (pkg/utils/labels_annotations.go `ClusterLabelName`)."""
ROLE_POD_LABEL = "cnpg.io/instanceRole"
"""`primary` or `replica` (`ClusterInstanceRoleLabelName`; the older `role` label is deprecated)."""
ROLE = "role"
"""The series label that names the member's role."""

RENAMES = MappingProxyType({
    "cnpg_collector_up": "pg_up",
    "cnpg_backends_total": "pg_stat_activity_count",
})
"""Whole-name renames: the collector's up gauge and the `backends` query's count (labels datname,
usename, application_name, state, like postgres_exporter's pg_stat_activity_count)."""
SETTINGS = "cnpg_pg_settings_setting"
"""One series per setting, its name in the `name` label: postgres_exporter names it `pg_settings_<name>`."""
QUERY_PREFIX = "cnpg_pg_"
"""The default queries named `pg_*` (`pg_database`, `pg_stat_database`, `pg_replication`, ...) produce
`cnpg_pg_<query>_<column>`: postgres_exporter's `pg_<query>_<column>` with a prefix."""


def metric_relabel_configs() -> list[dict[str, Any]]:
    """Prometheus `metric_relabel_configs` renaming CloudNativePG's series onto postgres_exporter's names."""
    renames: list[dict[str, Any]] = [
        {"source_labels": ["__name__"], "regex": source, "target_label": "__name__", "replacement": target,
         "action": "replace"}
        for source, target in RENAMES.items()
    ]
    return [
        *renames,
        {"source_labels": ["__name__", "name"], "separator": ";", "regex": f"{SETTINGS};(.+)",
         "target_label": "__name__", "replacement": "pg_settings_$1", "action": "replace"},
        # The setting's name is now the metric's: drop the label from those series only.
        {"source_labels": ["__name__"], "regex": "pg_settings_.+", "target_label": "name", "replacement": "",
         "action": "replace"},
        {"source_labels": ["__name__"], "regex": f"{QUERY_PREFIX}(.+)", "target_label": "__name__",
         "replacement": "pg_$1", "action": "replace"},
    ]


@dataclass(frozen=True, kw_only=True, eq=False)
class MemberDiscovery:
    """How a scrape job finds an operator's members and what it copies from them (Kubernetes)."""

    host_label: str = CLUSTER_POD_LABEL
    member_labels: MappingProxyType[str, str] = field(
        default_factory=lambda: MappingProxyType({ROLE_POD_LABEL: ROLE}))
    metric_relabel: tuple[dict[str, Any], ...] = field(default_factory=lambda: tuple(metric_relabel_configs()))


CLOUDNATIVE_PG = MemberDiscovery()
