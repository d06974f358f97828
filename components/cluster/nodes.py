"""The cluster's nodes in rollout order, and what each one joins.

Servers come first and join one at a time: the first starts the embedded etcd (`cluster-init`), each
further server joins it, then the agents. Upgrades follow the same order (k3s' upgrade guide: servers
before agents, one node at a time), so a version change never leaves an agent newer than the control plane.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.config.cluster import ClusterConfig, ClusterHost, HostRole

API_PORT = 6443
"""The Kubernetes API (and k3s supervisor) port on every server."""


@dataclass(frozen=True, kw_only=True)
class Node:
    host: ClusterHost
    first: bool
    """The server that starts the embedded etcd; every other node joins through it."""
    join_url: str | None
    """`https://<first server>:6443` for every node but the first."""

    @property
    def is_server(self) -> bool:
        return self.host.role is HostRole.SERVER

    @property
    def unit(self) -> str:
        """The systemd unit k3s' installer would create for this role."""
        return "k3s" if self.is_server else "k3s-agent"


def server_url(address: str) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"https://{host}:{API_PORT}"


def rollout(cluster: ClusterConfig) -> list[Node]:
    """Every node in the order it is bootstrapped and upgraded: servers first, then agents."""
    first = cluster.servers[0]
    join = server_url(first.address)
    return [Node(host=host, first=host is first, join_url=None if host is first else join)
            for host in [*cluster.servers, *cluster.agents]]
