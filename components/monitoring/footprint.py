"""What the monitoring stack occupies, for the capacity budgets (components/budgets.py)."""

from __future__ import annotations

from collections.abc import Iterable

from components.budgets import Footprint, footprint_source
from components.config import StackConfig
from components.infra.common import resources_of
from components.monitoring.catalog import KAFKA_EXPORTER, POSTGRES_EXPORTER, REDIS_EXPORTER
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
    for exporter in (POSTGRES_EXPORTER, REDIS_EXPORTER, KAFKA_EXPORTER):
        yield Footprint(exporter.host, resources_of(monitoring.exporters.resources))
