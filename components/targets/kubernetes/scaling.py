"""A service's autoscaling as a KEDA ScaledObject (`keda.sh/v1alpha1`), a pure builder.

KEDA creates and owns the HorizontalPodAutoscaler of the Deployment it scales (`keda-hpa-<name>`), so
the target registers no HPA of its own for it: two autoscalers on one Deployment would fight. Its scalers
run in the KEDA operator, outside the environment's namespace, so every address is fully qualified.
Trigger metadata values are strings (the CRD's `triggers[].metadata` is a map of strings). Spec:
https://keda.sh/docs/latest/reference/scaledobject-spec/ and the `cpu`, `kafka` and `prometheus` scalers.
"""

from __future__ import annotations

from collections.abc import Callable

from components.spec import CpuSignal, MetricSignal, QueueLagSignal, ScaleSignal, Service
from components.targets.kubernetes.pod import JsonDict

API_VERSION = "keda.sh/v1alpha1"
KIND = "ScaledObject"


def trigger(signal: ScaleSignal, qualify: Callable[[str], str]) -> JsonDict:
    """One KEDA trigger; `qualify` turns a service name into the address the operator resolves."""
    match signal:
        case CpuSignal(utilization=utilization):
            return {"type": "cpu", "metricType": "Utilization", "metadata": {"value": str(utilization)}}
        case QueueLagSignal():
            return {"type": "kafka", "metadata": {
                "bootstrapServers": f"{qualify(signal.bootstrap_host)}:{signal.bootstrap_port}",
                "consumerGroup": signal.consumer_group,
                "topic": signal.topic,
                "lagThreshold": str(signal.lag_per_replica),
            }}
        case MetricSignal():
            return {"type": "prometheus", "metadata": {
                "serverAddress": f"http://{qualify(signal.server_host)}:{signal.server_port}",
                "query": signal.query,
                "threshold": f"{signal.per_replica:g}",
            }}


def scaler_sources(service: Service) -> tuple[tuple[str, int], ...]:
    """The (service, port) pairs the operator's scalers connect to for `service`'s triggers: each needs an
    ingress rule from KEDA's namespace, or default-deny drops the query and the Deployment never scales."""
    scale = service.autoscale
    if scale is None:
        return ()
    sources: dict[tuple[str, int], None] = {}
    for signal in scale.signals:
        match signal:
            case QueueLagSignal():
                sources[(signal.bootstrap_host, signal.bootstrap_port)] = None
            case MetricSignal():
                sources[(signal.server_host, signal.server_port)] = None
            case CpuSignal():
                pass  # read from metrics-server through the API server: no connection to our pods
    return tuple(sources)


def scaled_object_spec(service: Service, qualify: Callable[[str], str]) -> JsonDict | None:
    """The ScaledObject of an autoscaled Deployment; None when the service does not autoscale."""
    scale = service.autoscale
    if scale is None:
        return None
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service.name},
        "minReplicaCount": scale.min_replicas,
        "maxReplicaCount": scale.max_replicas,
        "triggers": [trigger(signal, qualify) for signal in scale.signals],
    }
