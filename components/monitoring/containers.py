"""Container metrics (cAdvisor) on Docker, in the shared label vocabulary (components.monitoring.labels).

Alloy's built-in `prometheus.exporter.cadvisor` reads the Docker daemon's containers (through the socket
Alloy already mounts for logs, and the cgroup files under `/sys`). Alloy serves every exporter component
on its own HTTP server at `/api/v0/component/<component id>/metrics`, so Prometheus scrapes that path on
Alloy's port like any other static target: no new container and no remote write.

cAdvisor names a container by its Docker labels, turned into Prometheus labels as
`container_label_<label, non-alphanumerics as _>` (cAdvisor's `DefaultContainerLabels` with
`sanitizeLabelName`); only the two workload labels are allowlisted, so no other label of any container
becomes a series label. The metric relabelling then gives each series the `pod` / `service` values the
container's own metrics carry (pod = the Big Pod label, else the service name; service = the service
name), and drops series of containers that are not ours (the root cgroup, the Docker daemon's others).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from components.monitoring import labels
from components.monitoring.scrape import ScrapeTarget

EXPORTER_COMPONENT = "prometheus.exporter.cadvisor"
EXPORTER_LABEL = "containers"
METRICS_PATH = f"/api/v0/component/{EXPORTER_COMPONENT}.{EXPORTER_LABEL}/metrics"
"""Where Alloy serves the exporter's metrics (its HTTP server, the port its probes use)."""
ALLOWLISTED_LABELS = (labels.NAME_LABEL, labels.BIG_POD_LABEL)
"""The Docker labels cAdvisor copies onto each container's series."""


CPU_SECONDS = "container_cpu_usage_seconds_total"
"""cAdvisor's cumulative CPU time of a container (the kubelet's embedded cAdvisor serves the same name)."""


def collected(targets: Iterable[ScrapeTarget]) -> bool:
    """Some scrape target serves container metrics: dashboards show per-container panels only then."""
    return any(target.path == METRICS_PATH for target in targets)


def series_label(docker_label: str) -> str:
    """`app.kubernetes.io/name` -> `container_label_app_kubernetes_io_name`, as cAdvisor names it."""
    return "container_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", docker_label)


def metric_relabel_configs() -> list[dict[str, object]]:
    """Prometheus `metric_relabel_configs` for the cAdvisor job: our containers only, labelled like their
    own metrics, without the copied Docker labels."""
    name, pod = series_label(labels.NAME_LABEL), series_label(labels.BIG_POD_LABEL)
    return [
        {"source_labels": [name], "regex": ".+", "action": "keep"},
        {"source_labels": [name], "regex": "(.+)", "target_label": labels.POD, "action": "replace"},
        {"source_labels": [pod], "regex": "(.+)", "target_label": labels.POD, "action": "replace"},
        {"source_labels": [name], "regex": "(.+)", "target_label": labels.SERVICE, "action": "replace"},
        {"regex": "container_label_.+", "action": "labeldrop"},
    ]
