"""The admin kubeconfig a k3s server writes, pointed at the cluster's API endpoint.

k3s writes `server: https://127.0.0.1:6443` into /etc/rancher/k3s/k3s.yaml; clients elsewhere reach the
API through the configured endpoint, which the server certificate covers (`tls-san`).
"""

from __future__ import annotations

from typing import Any

import yaml

from components.cluster.nodes import server_url


def pointed_at(kubeconfig: str, api_endpoint: str) -> str:
    """`kubeconfig` with every cluster's server replaced by `https://<api_endpoint>:6443`."""
    document: dict[str, Any] = yaml.safe_load(kubeconfig) or {}
    clusters = document.get("clusters") or []
    if not clusters:
        raise ValueError("the server's kubeconfig names no cluster")
    for entry in clusters:
        entry["cluster"]["server"] = server_url(api_endpoint)
    return yaml.safe_dump(document, sort_keys=False)
