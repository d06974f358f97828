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

Container metrics (cAdvisor) on Kubernetes: the kubelet's embedded cAdvisor
-------------------------------------------------------------------------
Every kubelet serves its node's containers at `https://<node address>:10250/metrics/cadvisor`. Prometheus
finds the nodes with `kubernetes_sd_configs` role `node` (the node's InternalIP and kubelet port) and
scrapes them directly, with its ServiceAccount token:
- the kubelet authorises the token with a SubjectAccessReview for `nodes/metrics` (`get`): every path
  under `/metrics` maps to that subresource; node discovery needs `nodes` `list`/`watch`. Both are
  cluster-scoped, so a ClusterRole holds exactly these (`KUBELET_RULES`), nothing else;
- TLS is verified, never skipped: k3s signs each kubelet's serving certificate with its server CA (the
  supervisor's `serving-kubelet.crt` handler) for the node name, 127.0.0.1 and the node IPs, and hands
  the same server CA to pods as the ServiceAccount `ca.crt` (kube-controller-manager `--root-ca-file`);
- the API server proxy (`/api/v1/nodes/<node>/proxy/metrics/cadvisor`) is not used: it needs
  `nodes/proxy`, which lets its holder call every kubelet endpoint (exec and logs of any pod included),
  and puts every scrape through the API server. Direct scraping needs one more egress port (10250 on the
  nodes), declared as `spec.Service.node_ports`.
A kubelet reports every container of its node, whatever its namespace: the metric relabelling keeps the
environment's own namespace only (two review stacks on one cluster never see each other's containers),
and only containers that are ours (a service's container is named after the service; pod-level cgroups
and sandboxes have an empty `container`). Then it gives each series the same `pod` / `service` labels as
on Docker: service = the container (the service name), pod = its Big Pod where the service reports under
one (`labels.pod_of`, read from the scrape targets), else the service name. cAdvisor's own `pod` (the
Kubernetes pod name) becomes `kubernetes_pod`, as on every other Kubernetes series, and the `namespace`
and `container` labels are dropped. cAdvisor's per-container `id`, `image` and `name` stay, as on Docker,
so a restarted container's series never collide with the old ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from components import spec
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


KUBELET_JOB = "kubelet"
"""The job (and the target's `pod` / `service` labels) of the kubelets' scrapes: what `up` says about them."""
KUBELET_PATH = "/metrics/cadvisor"
KUBELET_PORT = 10250
"""The kubelet's authenticated HTTPS port (Kubernetes' default, k3s keeps it)."""
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
"""Where Kubernetes mounts a pod's ServiceAccount token and the cluster CA."""
KUBELET_RULES = (
    spec.ApiRule(("",), ("nodes",), ("list", "watch"), spec.ApiScope.CLUSTER),
    spec.ApiRule(("",), ("nodes/metrics",), ("get",), spec.ApiScope.CLUSTER),
)
"""Node discovery, and the kubelet's authorisation of `/metrics/cadvisor`; nothing else cluster-wide."""
CONTAINER_META = ("namespace", "container")
"""The kubelet's per-container labels that only locate a container, dropped once mapped to ours."""


def collected(targets: Iterable[ScrapeTarget], *, kubelets: bool = False) -> bool:
    """Container metrics reach Prometheus (some scrape target serves Alloy's cAdvisor, or the nodes'
    kubelets are scraped): dashboards show per-container panels only then."""
    return kubelets or any(target.path == METRICS_PATH for target in targets)


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


def _pods_of_containers(targets: Iterable[ScrapeTarget]) -> dict[str, str]:
    """Container (service) name -> `pod` label, for the services that report under another pod's name."""
    return {target.host: target.pod for target in targets if target.host != target.pod}


def _replace(source: str, regex: str, target: str, replacement: str) -> dict[str, object]:
    return {"source_labels": [source], "regex": regex, "target_label": target, "replacement": replacement,
            "action": "replace"}


def kubelet_metric_relabel_configs(namespace: str, targets: Iterable[ScrapeTarget]) -> list[dict[str, object]]:
    """Prometheus `metric_relabel_configs` for the kubelets' cAdvisor: the environment's containers only,
    labelled like their own metrics (`pod`, `service`, `kubernetes_pod`), without the kubelet's own labels."""
    by_pod: dict[str, list[str]] = {}
    for container, pod in sorted(_pods_of_containers(targets).items()):
        by_pod.setdefault(pod, []).append(re.escape(container))
    return [
        {"source_labels": ["namespace"], "regex": re.escape(namespace), "action": "keep"},
        # Pod-level cgroups and sandboxes have no container name.
        {"source_labels": ["container"], "regex": ".+", "action": "keep"},
        {"source_labels": ["container"], "regex": "POD", "action": "drop"},
        # The target's `pod` label (the job's) renamed the series' own on ingestion: that is the replica.
        {"source_labels": [f"exported_{labels.POD}"], "target_label": labels.KUBERNETES_POD, "action": "replace"},
        {"source_labels": ["container"], "target_label": labels.POD, "action": "replace"},
        *(_replace("container", "|".join(names), labels.POD, pod) for pod, names in by_pod.items()),
        {"source_labels": ["container"], "target_label": labels.SERVICE, "action": "replace"},
        {"regex": "|".join((*CONTAINER_META, f"exported_{labels.POD}")), "action": "labeldrop"},
    ]


def kubelet_job(namespace: str, environment: str, targets: Iterable[ScrapeTarget]) -> dict[str, object]:
    """The scrape job of every node's kubelet (`/metrics/cadvisor`), authenticated and verified with the
    pod's ServiceAccount token and cluster CA."""
    return {
        "job_name": KUBELET_JOB,
        "metrics_path": KUBELET_PATH,
        "scheme": "https",
        "authorization": {"type": "Bearer", "credentials_file": f"{SERVICE_ACCOUNT_DIR}/token"},
        "tls_config": {"ca_file": f"{SERVICE_ACCOUNT_DIR}/ca.crt"},
        "kubernetes_sd_configs": [{"role": "node"}],
        "relabel_configs": [
            {"action": "replace", "replacement": KUBELET_JOB, "target_label": labels.POD},
            {"action": "replace", "replacement": KUBELET_JOB, "target_label": labels.SERVICE},
            {"action": "replace", "replacement": environment, "target_label": labels.ENVIRONMENT},
            {"source_labels": ["__meta_kubernetes_node_name"], "action": "replace", "target_label": labels.NODE},
        ],
        "metric_relabel_configs": kubelet_metric_relabel_configs(namespace, targets),
    }
