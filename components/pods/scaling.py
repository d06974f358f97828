"""A Big Pod's scaling rules (catalog data) as the target-neutral autoscaling signals of its service.

The queries read what the pod's processes serve under the monitoring label vocabulary
(components.monitoring.labels, the application contract's metric names), so a query that works on the
dashboards works for the autoscaler; tests/monitoring/test_prometheus_server.py evaluates each one against
the real Prometheus over the reference application's series.
"""

from __future__ import annotations

from components import spec
from components.infra import kafka
from components.monitoring import labels
from components.monitoring.common import PROMETHEUS, PROMETHEUS_PORT
from components.monitoring.prometheus.rules import HttpMetrics
from components.pods.model import (
    PodDefinition,
    ScaleOnCpu,
    ScaleOnQueueLag,
    ScaleOnRequestRate,
    ScaleOnSessions,
    ScalingRule,
)

SESSIONS_GAUGE = "dreamscape_active_sessions"
"""Concurrent sessions a process holds (the application contract; the reference auth service serves it)."""


def sessions_query(pod: str) -> str:
    return f'sum({SESSIONS_GAUGE}{{{labels.POD}="{pod}"}})'


_HTTP = HttpMetrics()


def request_rate_query(pod: str, http: HttpMetrics = _HTTP) -> str:
    """User requests per second over the pod's processes (probes and scrapes left out, as the SLO does)."""
    users = f'{labels.POD}="{pod}", route!~"{http.platform_routes}"'
    return f"sum(rate({http.duration}_count{{{users}}}[2m]))"


def _signal(pod: str, rule: ScalingRule) -> spec.ScaleSignal:
    match rule:
        case ScaleOnCpu(utilization=utilization):
            return spec.CpuSignal(utilization=utilization)
        case ScaleOnSessions(per_replica=per_replica):
            return spec.MetricSignal(server_host=PROMETHEUS, server_port=PROMETHEUS_PORT,
                                     query=sessions_query(pod), per_replica=per_replica)
        case ScaleOnRequestRate(per_replica=per_replica):
            return spec.MetricSignal(server_host=PROMETHEUS, server_port=PROMETHEUS_PORT,
                                     query=request_rate_query(pod), per_replica=per_replica)
        case ScaleOnQueueLag(topic=topic, consumer_group=group, per_replica=per_replica):
            return spec.QueueLagSignal(bootstrap_host=kafka.NAME, bootstrap_port=kafka.PORT, topic=topic,
                                       consumer_group=group, lag_per_replica=per_replica)


def autoscale(pod: PodDefinition, replicas: int, max_replicas: int) -> spec.Autoscale | None:
    """None when the maximum is the minimum: nothing to scale (review stacks, or a pinned pod)."""
    if max_replicas <= replicas:
        return None
    return spec.Autoscale(replicas, max_replicas, tuple(_signal(pod.name, rule) for rule in pod.scaling))
