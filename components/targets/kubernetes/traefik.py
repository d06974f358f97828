"""Traefik, the ingress controller k3s bundles in kube-system: what a stack that manages it asks of the nodes.

The stack that owns the `traefik` HelmChartConfig (`kubernetes.edge.manageTraefik`, prod) sets its replicas
(`kubernetes.edge.traefikReplicas`) and, from `RESOURCES` here, each replica's requests and limits. The
budget counts the same replicas and requests (`KubernetesFacts.reserved`), so both read one fact.

Provider-free: the facts import it before any provider is chosen.
"""

from __future__ import annotations

from typing import Any

from components.config import EdgeConfig
from components.spec import Resources

RESOURCES = Resources(cpu_request="50m", cpu_limit="1", memory_request="128Mi", memory_limit="512Mi")
"""Per replica. The chart requests nothing by default (`resources: {}` in traefik-helm-chart v34.2.0
`traefik/values.yaml`), which would leave the edge BestEffort: first evicted under node pressure, and
invisible to the budget. The chart derives GOMAXPROCS and GOMEMLIMIT from these limits."""


def replicas(edge: EdgeConfig) -> int:
    """The replicas this stack runs: its configured count when it manages Traefik, else none (the
    cluster's owner runs them)."""
    return edge.traefik_replicas if edge.manage_traefik else 0


def resources_values() -> dict[str, Any]:
    """The chart's `resources` value."""
    return {"requests": {"cpu": RESOURCES.cpu_request, "memory": RESOURCES.memory_request},
            "limits": {"cpu": RESOURCES.cpu_limit, "memory": RESOURCES.memory_limit}}
