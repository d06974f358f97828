"""What the monitoring stack occupies, for the capacity budgets (components/budgets.py)."""

from __future__ import annotations

from collections.abc import Iterable

from components.budgets import Footprint, footprint_source
from components.config import StackConfig
from components.config import Target as TargetKind
from components.infra.common import resources_of
from components.monitoring.exporters.component import KAFKA_EXPORTER, POSTGRES_EXPORTER, REDIS_EXPORTER
from components.pods.catalog import CATALOG
from components.spec import WorkloadKind


@footprint_source("monitoring")
def footprint(config: StackConfig) -> Iterable[Footprint]:
    monitoring = config.monitoring
    stateful = WorkloadKind.STATEFUL
    yield Footprint("prometheus", resources_of(monitoring.prometheus.resources), kind=stateful)
    yield Footprint("alertmanager", resources_of(monitoring.alertmanager.resources), kind=stateful)
    yield Footprint("grafana", resources_of(monitoring.grafana.resources))
    yield Footprint("loki", resources_of(monitoring.loki.resources), kind=stateful)
    # One per node; the budget counts one node's worth (single-node k3s and the laptop).
    yield Footprint("alloy", resources_of(monitoring.alloy.resources), kind=WorkloadKind.PER_NODE)
    exporter = resources_of(monitoring.exporters.resources)
    for name in (POSTGRES_EXPORTER.host, REDIS_EXPORTER.host, KAFKA_EXPORTER.host):
        yield Footprint(name, exporter)
    for pod in CATALOG:
        if pod.gateway is not None:
            yield Footprint(f"{pod.hostname}-nginx-exporter", exporter)
    # Cluster state exists only where there is a cluster API (the environment deploys it there).
    if config.target is TargetKind.KUBERNETES:
        yield Footprint("kube-state-metrics", exporter)
