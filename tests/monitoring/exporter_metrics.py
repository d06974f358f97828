# ruff: noqa: E501  (the exposition text reproduces the exporters' long HELP lines and label sets)
"""What each real metrics source serves on /metrics: names, types and label names as the upstream exporters
emit them (postgres_exporter 0.17, redis_exporter 1.67, kafka_exporter 1.9, nginx-prometheus-exporter 1.4,
kube-state-metrics 2.x, MinIO's v2 cluster metrics) and as the reference application's Node services do
(reference-app/, checked against its source by test_rules_fire.py).

The rule unit tests feed these names to promtool, and the system test serves these exact texts from
stand-in endpoints to the real Prometheus server, so a rule or panel on a name no source emits fails.
"""

from __future__ import annotations

import hashlib
import time
import uuid

_AN_HOUR_AGO = f"{time.time() - 3600:.0f}"
_BUCKETS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf")
"""The reference kit's buckets (Prometheus' default ones)."""


def _histogram(name: str, help_: str, series: dict[str, tuple[int, ...]]) -> str:
    """Exposition text of one histogram: `series` maps a label set to its cumulative bucket counts."""
    lines = [f"# HELP {name} {help_}", f"# TYPE {name} histogram"]
    for labels, counts in series.items():
        lines += [f'{name}_bucket{{{labels},le="{le}"}} {count}' for le, count in zip(_BUCKETS, counts, strict=True)]
        lines += [f"{name}_sum{{{labels}}} {counts[-1] * 0.02:g}", f"{name}_count{{{labels}}} {counts[-1]}"]
    return "\n".join(lines) + "\n"


_DURATION = _histogram(
    "http_request_duration_seconds", "HTTP request duration in seconds, by matched route, method and status.", {
        'route="/api/v1/auth",method="POST",status="200"': (10, 40, 80, 95, 98, 100, 100, 100, 100, 100, 100, 100),
        'route="unmatched",method="GET",status="404"': (3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3),
        'route="/api/v1/auth",method="POST",status="500"': (0, 0, 0, 1, 2, 2, 2, 2, 2, 2, 2, 2),
    })
"""A healthy cluster: the backup CronJob was created and last succeeded an hour ago."""

NODE_SERVICE = """\
# HELP dreamscape_dependency_up Whether the last check of a dependency succeeded.
# TYPE dreamscape_dependency_up gauge
dreamscape_dependency_up{dependency="postgres"} 1
dreamscape_dependency_up{dependency="redis"} 1
# HELP dreamscape_service_info The service and its runtime.
# TYPE dreamscape_service_info gauge
dreamscape_service_info{service="auth",node="v22.11.0"} 1
""" + _DURATION + """\
# HELP http_requests_total HTTP requests served.
# TYPE http_requests_total counter
http_requests_total{method="GET",code="200"} 100
http_requests_total{method="POST",code="500"} 2
# HELP nodejs_heap_size_total_bytes Process heap size from Node.js in bytes.
# TYPE nodejs_heap_size_total_bytes gauge
nodejs_heap_size_total_bytes 12582912
# HELP nodejs_heap_size_used_bytes Process heap size used from Node.js in bytes.
# TYPE nodejs_heap_size_used_bytes gauge
nodejs_heap_size_used_bytes 8388608
# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 52428800
# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1764396000
"""
"""What the reference application's `lib/kit.js` serves (names, types and label names)."""

NGINX_EXPORTER = """\
# HELP nginx_up Status of the last metric scrape
# TYPE nginx_up gauge
nginx_up 1
# HELP nginx_connections_active Active client connections
# TYPE nginx_connections_active gauge
nginx_connections_active 3
# HELP nginx_connections_accepted Accepted client connections
# TYPE nginx_connections_accepted counter
nginx_connections_accepted 120
# HELP nginx_http_requests_total Total http requests
# TYPE nginx_http_requests_total counter
nginx_http_requests_total 480
"""

POSTGRES_EXPORTER = """\
# HELP pg_up Whether the last scrape of metrics from PostgreSQL was able to connect to the server (1 for yes, 0 for no).
# TYPE pg_up gauge
pg_up 1
# HELP pg_stat_activity_count number of connections in this state
# TYPE pg_stat_activity_count gauge
pg_stat_activity_count{datname="dreamscape",state="active",usename="dreamscape",application_name="",backend_type="client backend"} 4
pg_stat_activity_count{datname="dreamscape",state="idle",usename="dreamscape",application_name="",backend_type="client backend"} 10
# HELP pg_settings_max_connections Server Parameter: max_connections
# TYPE pg_settings_max_connections gauge
pg_settings_max_connections 100
# HELP pg_database_size_bytes Disk space used by the database
# TYPE pg_database_size_bytes gauge
pg_database_size_bytes{datname="dreamscape"} 52428800
pg_database_size_bytes{datname="postgres"} 7500000
# HELP pg_stat_database_xact_commit Number of transactions in this database that have been committed
# TYPE pg_stat_database_xact_commit counter
pg_stat_database_xact_commit{datid="16384",datname="dreamscape"} 1200
# HELP pg_stat_database_xact_rollback Number of transactions in this database that have been rolled back
# TYPE pg_stat_database_xact_rollback counter
pg_stat_database_xact_rollback{datid="16384",datname="dreamscape"} 3
# HELP pg_stat_database_blks_hit Number of times disk blocks were found already in the buffer cache, so that a read was not necessary (this only includes hits in the PostgreSQL buffer cache, not the operating system's file system cache)
# TYPE pg_stat_database_blks_hit counter
pg_stat_database_blks_hit{datid="16384",datname="dreamscape"} 98000
# HELP pg_stat_database_blks_read Number of disk blocks read in this database
# TYPE pg_stat_database_blks_read counter
pg_stat_database_blks_read{datid="16384",datname="dreamscape"} 2000
"""



def cloudnative_pg_member(*, up: int = 1) -> str:
    """What one CloudNativePG member's instance manager serves on 9187 (v1.30.0): the collector's own gauges
    (pkg/management/postgres/webserver/metricserver/pg_collector.go, namespace `cnpg`, subsystem
    `collector`) and `cnpg_<query>_<column>` of the default queries (config/manager/default-monitoring.yaml:
    `backends`, `pg_settings`, `pg_database`, `pg_stat_database`, `pg_replication`). `up=0`: the server does
    not answer the instance manager, which still serves its own gauges."""
    return f"""\
# HELP cnpg_collector_up 1 if PostgreSQL is up, 0 otherwise.
# TYPE cnpg_collector_up gauge
cnpg_collector_up{{cluster="postgres"}} {up}
# HELP cnpg_collector_last_collection_error 1 if the last collection ended with error, 0 otherwise.
# TYPE cnpg_collector_last_collection_error gauge
cnpg_collector_last_collection_error {1 - up}
""" + ("" if not up else """\
# HELP cnpg_backends_total Number of backends
# TYPE cnpg_backends_total gauge
cnpg_backends_total{datname="dreamscape",usename="dreamscape",application_name="",state="active"} 4
cnpg_backends_total{datname="dreamscape",usename="dreamscape",application_name="",state="idle"} 10
# HELP cnpg_pg_settings_setting Setting value
# TYPE cnpg_pg_settings_setting gauge
cnpg_pg_settings_setting{name="max_connections"} 500
cnpg_pg_settings_setting{name="work_mem"} 10240
# HELP cnpg_pg_database_size_bytes Disk space used by the database
# TYPE cnpg_pg_database_size_bytes gauge
cnpg_pg_database_size_bytes{datname="dreamscape"} 52428800
cnpg_pg_database_size_bytes{datname="postgres"} 7500000
# HELP cnpg_pg_stat_database_xact_commit Number of transactions in this database that have been committed
# TYPE cnpg_pg_stat_database_xact_commit counter
cnpg_pg_stat_database_xact_commit{datname="dreamscape"} 1200
# HELP cnpg_pg_stat_database_xact_rollback Number of transactions in this database that have been rolled back
# TYPE cnpg_pg_stat_database_xact_rollback counter
cnpg_pg_stat_database_xact_rollback{datname="dreamscape"} 3
# HELP cnpg_pg_stat_database_blks_hit Number of times disk blocks were found already in the buffer cache
# TYPE cnpg_pg_stat_database_blks_hit counter
cnpg_pg_stat_database_blks_hit{datname="dreamscape"} 98000
# HELP cnpg_pg_stat_database_blks_read Number of disk blocks read in this database
# TYPE cnpg_pg_stat_database_blks_read counter
cnpg_pg_stat_database_blks_read{datname="dreamscape"} 2000
# HELP cnpg_pg_replication_lag Replication lag behind primary in seconds
# TYPE cnpg_pg_replication_lag gauge
cnpg_pg_replication_lag 0
""")


REDIS_EXPORTER = """\
# HELP redis_up Information about the Redis instance
# TYPE redis_up gauge
redis_up 1
# HELP redis_memory_used_bytes memory_used_bytes metric
# TYPE redis_memory_used_bytes gauge
redis_memory_used_bytes 1048576
# HELP redis_memory_max_bytes memory_max_bytes metric
# TYPE redis_memory_max_bytes gauge
redis_memory_max_bytes 268435456
# HELP redis_cluster_state cluster_state metric
# TYPE redis_cluster_state gauge
redis_cluster_state 1
# HELP redis_rejected_connections_total rejected_connections_total metric
# TYPE redis_rejected_connections_total counter
redis_rejected_connections_total 0
# HELP redis_connected_clients connected_clients metric
# TYPE redis_connected_clients gauge
redis_connected_clients 7
# HELP redis_commands_processed_total commands_processed_total metric
# TYPE redis_commands_processed_total counter
redis_commands_processed_total 1234
# HELP redis_keyspace_hits_total keyspace_hits metric
# TYPE redis_keyspace_hits_total counter
redis_keyspace_hits_total 900
# HELP redis_keyspace_misses_total keyspace_misses metric
# TYPE redis_keyspace_misses_total counter
redis_keyspace_misses_total 100
# HELP redis_evicted_keys_total evicted_keys metric
# TYPE redis_evicted_keys_total counter
redis_evicted_keys_total 0
"""

KAFKA_EXPORTER = """\
# HELP kafka_brokers Number of Brokers in the Kafka Cluster.
# TYPE kafka_brokers gauge
kafka_brokers 3
# HELP kafka_topic_partition_under_replicated_partition Under Replicated Partition
# TYPE kafka_topic_partition_under_replicated_partition gauge
kafka_topic_partition_under_replicated_partition{partition="0",topic="voyages"} 0
# HELP kafka_topic_partition_current_offset Current Offset of a Broker at Topic/Partition
# TYPE kafka_topic_partition_current_offset gauge
kafka_topic_partition_current_offset{partition="0",topic="voyages"} 42
# HELP kafka_consumergroup_lag Current Approximate Lag of a ConsumerGroup at Topic/Partition
# TYPE kafka_consumergroup_lag gauge
kafka_consumergroup_lag{consumergroup="ai",partition="0",topic="voyages"} 5
"""

MINIO = """\
# HELP minio_cluster_capacity_usable_free_bytes Total free usable space on the cluster
# TYPE minio_cluster_capacity_usable_free_bytes gauge
minio_cluster_capacity_usable_free_bytes 8.0e+09
# HELP minio_cluster_capacity_usable_total_bytes Total usable capacity online in the cluster
# TYPE minio_cluster_capacity_usable_total_bytes gauge
minio_cluster_capacity_usable_total_bytes 1.0e+10
# HELP minio_cluster_nodes_offline_total Total number of MinIO nodes offline
# TYPE minio_cluster_nodes_offline_total gauge
minio_cluster_nodes_offline_total 0
# HELP minio_s3_requests_total Total number of S3 requests in the current MinIO server instance
# TYPE minio_s3_requests_total counter
minio_s3_requests_total{api="getobject",server="minio:9000"} 10
# HELP minio_s3_requests_ttfb_seconds_distribution Distribution of the time to first byte across API calls
# TYPE minio_s3_requests_ttfb_seconds_distribution gauge
minio_s3_requests_ttfb_seconds_distribution{api="getobject",le="0.05",server="minio:9000"} 8
minio_s3_requests_ttfb_seconds_distribution{api="getobject",le="0.1",server="minio:9000"} 9
minio_s3_requests_ttfb_seconds_distribution{api="getobject",le="+Inf",server="minio:9000"} 10
"""

KUBE_STATE_METRICS = f"""\
# HELP kube_deployment_spec_replicas Number of desired pods for a deployment.
# TYPE kube_deployment_spec_replicas gauge
kube_deployment_spec_replicas{{namespace="dreamscape",deployment="core-pod"}} 3
# HELP kube_deployment_status_replicas_available The number of available replicas per deployment.
# TYPE kube_deployment_status_replicas_available gauge
kube_deployment_status_replicas_available{{namespace="dreamscape",deployment="core-pod"}} 3
# HELP kube_statefulset_replicas Number of desired pods for a StatefulSet.
# TYPE kube_statefulset_replicas gauge
kube_statefulset_replicas{{namespace="dreamscape",statefulset="postgres"}} 1
# HELP kube_statefulset_status_replicas_ready The number of ready replicas per StatefulSet.
# TYPE kube_statefulset_status_replicas_ready gauge
kube_statefulset_status_replicas_ready{{namespace="dreamscape",statefulset="postgres"}} 1
# HELP kube_job_status_failed The number of pods which reached Phase Failed and the reason for failure.
# TYPE kube_job_status_failed gauge
kube_job_status_failed{{namespace="dreamscape",job_name="postgres-backup-29000000",reason=""}} 0
# HELP kube_job_status_start_time StartTime represents time when the job was acknowledged by the Job Manager.
# TYPE kube_job_status_start_time gauge
kube_job_status_start_time{{namespace="dreamscape",job_name="postgres-backup-29000000"}} {_AN_HOUR_AGO}
# HELP kube_cronjob_created Unix creation timestamp
# TYPE kube_cronjob_created gauge
kube_cronjob_created{{namespace="dreamscape",cronjob="postgres-backup"}} {_AN_HOUR_AGO}
# HELP kube_cronjob_status_last_successful_time LastSuccessfulTime keeps information of when was the last time the job was completed successfully.
# TYPE kube_cronjob_status_last_successful_time gauge
kube_cronjob_status_last_successful_time{{namespace="dreamscape",cronjob="postgres-backup"}} {_AN_HOUR_AGO}
# HELP kube_persistentvolumeclaim_resource_requests_storage_bytes The capacity of storage requested by the persistent volume claim.
# TYPE kube_persistentvolumeclaim_resource_requests_storage_bytes gauge
kube_persistentvolumeclaim_resource_requests_storage_bytes{{namespace="dreamscape",persistentvolumeclaim="data-postgres-0"}} 5.36870912e+10
# HELP kube_pod_container_status_restarts_total The number of container restarts per container.
# TYPE kube_pod_container_status_restarts_total counter
kube_pod_container_status_restarts_total{{namespace="dreamscape",pod="core-pod-7d9f8-abcde",uid="0f0e0d0c-0b0a-0908-0706-050403020100",container="core"}} 0
# HELP kube_pod_container_status_waiting_reason Describes the reason the container is currently in waiting state.
# TYPE kube_pod_container_status_waiting_reason gauge
kube_pod_container_status_waiting_reason{{namespace="dreamscape",pod="core-pod-7d9f8-abcde",uid="0f0e0d0c-0b0a-0908-0706-050403020100",container="core",reason="ContainerCreating"}} 0
"""

def _cadvisor_container(pod: str) -> str:
    return (f'container_label_app_kubernetes_io_name="{pod}-pod",container_label_dreamscape_io_pod="{pod}",'
            f'id="/system.slice/docker-{pod}.scope",image="dreamscape/{pod}:dev",name="dreamscape-{pod}-pod"')


_BIG_PODS = ("core", "business", "experience")
CADVISOR = f"""\
# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.
# TYPE container_cpu_usage_seconds_total counter
{"".join(f'container_cpu_usage_seconds_total{{{_cadvisor_container(p)},cpu="total"}} 12.5{chr(10)}' for p in _BIG_PODS)}\
container_cpu_usage_seconds_total{{id="/",cpu="total"}} 4000.25
# HELP container_start_time_seconds Start time of the container since unix epoch in seconds.
# TYPE container_start_time_seconds gauge
{"".join(f'container_start_time_seconds{{{_cadvisor_container(p)}}} {_AN_HOUR_AGO}{chr(10)}' for p in _BIG_PODS)}\
container_start_time_seconds{{id="/"}} {_AN_HOUR_AGO}
"""
"""Alloy's `prometheus.exporter.cadvisor` (cAdvisor's names and base labels, the allowlisted container labels
as `container_label_*`): one of our containers and the root cgroup, which the scrape job drops."""

def _kubelet_container(namespace: str, pod: str, container: str, image: str) -> str:
    """The labels the kubelet's cAdvisor gives a container's series: its cgroup (the pod's uid, the
    containerd container id), image, runtime name and the Kubernetes namespace, pod and container names
    (empty `container`, `image` and `name` for the pod's own cgroup)."""
    uid = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{namespace}/{pod}"))
    runtime_id = hashlib.sha256(f"{uid}/{container}".encode()).hexdigest()
    cgroup = f"/kubepods/burstable/pod{uid}" + (f"/{runtime_id}" if container else "")
    return (f'container="{container}",id="{cgroup}",image="{image}",name="{runtime_id if container else ""}",'
            f'namespace="{namespace}",pod="{pod}"')


def kubelet_cadvisor(namespace: str) -> str:
    """`/metrics/cadvisor` of one kubelet: the Big Pods of `namespace`, a Big Pod's pod-level cgroup, another
    review stack's core pod and a kube-system container on the same node, and the node's root cgroup. Only
    the first ones are the environment's containers."""
    ours = [_kubelet_container(namespace, f"{p}-pod-7d9f8-abcde", f"{p}-pod", f"ghcr.io/dreamscape/{p}:1.0.0")
            for p in _BIG_PODS]
    theirs = [
        _kubelet_container(namespace, "core-pod-7d9f8-abcde", "", ""),
        _kubelet_container("dreamscape-review-43", "core-pod-5c6d7-fghij", "core-pod", "ghcr.io/dreamscape/core:pr-43"),
        _kubelet_container("kube-system", "traefik-6b9c8-klmno", "traefik", "rancher/mirrored-library-traefik:3.3.6"),
    ]
    cpu = "".join(f'container_cpu_usage_seconds_total{{{labels},cpu="total"}} 12.5\n' for labels in ours + theirs)
    started = "".join(f"container_start_time_seconds{{{labels}}} {_AN_HOUR_AGO}\n" for labels in ours + theirs)
    return (
        "# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.\n"
        "# TYPE container_cpu_usage_seconds_total counter\n"
        f'{cpu}container_cpu_usage_seconds_total{{cpu="total",id="/"}} 4000.25\n'
        "# HELP container_start_time_seconds Start time of the container since unix epoch in seconds.\n"
        "# TYPE container_start_time_seconds gauge\n"
        f'{started}container_start_time_seconds{{id="/"}} {_AN_HOUR_AGO}\n'
    )


PROMETHEUS_SELF = """\
# HELP prometheus_build_info A metric with a constant '1' value.
# TYPE prometheus_build_info gauge
prometheus_build_info{version="3.5.0"} 1
"""

BY_SERVICE_NAME: dict[str, str] = {
    "postgres-exporter": POSTGRES_EXPORTER,
    "redis-exporter": REDIS_EXPORTER,
    "kafka-exporter": KAFKA_EXPORTER,
    "minio": MINIO,
    "kube-state-metrics": KUBE_STATE_METRICS,
    "alloy": CADVISOR,
}
"""Sources by deployed service name; Big Pod processes serve NODE_SERVICE, NGINX exporters NGINX_EXPORTER,
the monitoring tools their own metrics (PROMETHEUS_SELF stands in)."""


def exposition_for(service_name: str, service_label: str) -> str:
    """The text the real source behind one scrape target serves."""
    if service_name in BY_SERVICE_NAME:
        return BY_SERVICE_NAME[service_name]
    if service_name == "postgres" and service_label == "metrics":
        return cloudnative_pg_member()
    if service_name.endswith("-nginx-exporter"):
        return NGINX_EXPORTER
    if service_name.endswith("-pod"):
        return NODE_SERVICE
    return PROMETHEUS_SELF


def all_metric_names() -> set[str]:
    texts = (NODE_SERVICE, NGINX_EXPORTER, POSTGRES_EXPORTER, REDIS_EXPORTER, KAFKA_EXPORTER, MINIO,
             KUBE_STATE_METRICS, CADVISOR, PROMETHEUS_SELF, cloudnative_pg_member())
    return {line.split("{")[0].split(" ")[0] for text in texts for line in text.splitlines()
            if line and not line.startswith("#")}
