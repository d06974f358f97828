"""Which program a stack runs: the DreamScape environment, or the k3s cluster it runs on (`kind`)."""

from __future__ import annotations

from typing import Any, Protocol

from components.config import StackConfig, StackKind
from components.config.loader import ROOT


class Program(Protocol):
    outputs: dict[str, Any]


class ClusterProgram:
    """A cluster stack: the k3s cluster and the outputs environment stacks read (`kubeconfig`)."""

    def __init__(self, stack: str, config: StackConfig):
        # Imported here: environment stacks never import the SSH provider.
        from components.targets.ssh.cluster import K3sCluster, K3sClusterArgs

        assert config.cluster is not None and config.backup.offsite is not None  # loader.kind_problems
        cluster = K3sCluster(stack, K3sClusterArgs(
            cluster=config.cluster, ssh=config.cluster_ssh, offsite=config.backup.offsite, binary_root=ROOT,
            protect=config.protect_data,
        ))
        self.outputs = {
            "kubeconfig": cluster.kubeconfig,
            "apiEndpoint": config.cluster.api_endpoint,
            "k3sVersion": config.cluster.k3s.version,
            "nodes": [host.name for host in config.cluster.hosts],
        }


def build(stack: str, config: StackConfig) -> Program:
    if config.kind is StackKind.CLUSTER:
        return ClusterProgram(stack, config)
    from components.environment import Environment

    return Environment(stack, config)
