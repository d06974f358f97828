"""The label vocabulary every metric series, alert and log stream carries: said once, used everywhere.

- `pod`: the Big Pod name (`core`, `business`, `experience`), else the service name (`postgres-exporter`,
  `minio`, `prometheus`);
- `service`: the process inside a Big Pod (`auth`, `user`, `nginx`, ...), else the service name again;
- `environment`: the stack (`dev`, `prod`, `review-pr-7`).

Scrape configs, alert rules, dashboards and the log shipper all take these names from here, and the
values from `components.monitoring.scrape` (metrics) or the same pod label (logs), so a selector written
for dev matches prod.
"""

from __future__ import annotations

from components import spec
from components.targets import labels as target_labels

POD = "pod"
SERVICE = "service"
ENVIRONMENT = "environment"
NODE = "node"
"""The Kubernetes node a target runs on (absent on Docker): what `NodeDown` inhibition keys on."""
KUBERNETES_POD = "kubernetes_pod"
"""The replica's own pod name on Kubernetes (absent on Docker): per-replica aggregation."""
LEVEL = "level"
"""Log streams only: the log level parsed from the line."""

NAME_LABEL = target_labels.NAME_LABEL
"""The workload label both targets set to the service name: what discovery keys on."""
BIG_POD_LABEL = "dreamscape.io/pod"
"""The workload label a Big Pod (and anything that reports on its behalf, such as its NGINX exporter)
carries: its value is the `pod` label, and each port name of it is a process (the `service` label)."""
REPORTER_LABEL = "dreamscape.io/reports-for"
"""Set (to the Big Pod name) on a workload that reports on a Big Pod's behalf, such as its NGINX exporter:
its series carry the pod's `pod` label, but its container, and so its limits, are its own."""


def pod_of(service: spec.Service) -> str:
    """The `pod` label value of everything `service` emits."""
    return service.labels.get(BIG_POD_LABEL, service.name)


def is_big_pod(service: spec.Service) -> bool:
    """`service` is a Big Pod itself (its one container runs the pod's processes), not a reporter for one."""
    return BIG_POD_LABEL in service.labels and REPORTER_LABEL not in service.labels


def process_of(service: spec.Service, port: spec.Port) -> str:
    """The `service` label value of what `port` serves: the port name inside a Big Pod (one port per
    process), else the service's own name."""
    return port.name if BIG_POD_LABEL in service.labels else service.name
