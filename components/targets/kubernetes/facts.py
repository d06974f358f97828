"""The Kubernetes target's answers (provider-free: importable before the provider is chosen)."""

from __future__ import annotations

from dataclasses import dataclass

from components.images import major_version
from components.spec import Service, Text, peers_name
from components.targets.facts import DatabaseHosts, Discovery, LogSource, Reserved, common_identity
from components.targets.kubernetes import operators, traefik

CLUSTER_DOMAIN = "cluster.local"
"""k3s' default cluster domain."""


@dataclass(frozen=True, kw_only=True)
class KubernetesFacts:
    environment: str
    namespace: str | None
    storage_class: str
    dns_resolver: str
    """The cluster DNS Service address (k3s: 10.43.0.10)."""
    location: str
    discovery: Discovery = Discovery.KUBERNETES_PODS
    log_source: LogSource = LogSource.POD_LOG_FILES
    publishes_host_ports: bool = False
    has_scheduler: bool = True
    builds_from_source: bool = False
    replicates_databases: bool = True
    """CloudNativePG (installed by this stack or by the cluster's owner)."""
    installs_operators: bool = False
    """This stack installs the cluster-wide operators (`kubernetes.installOperators`)."""
    edge_replicas: int = 0
    """Traefik replicas this stack sets in kube-system (`traefik.replicas`: none unless it manages Traefik)."""
    transit_tls: bool = True
    """cert-manager (installed with the operators) runs each environment's CA (kubernetes/pki.py)."""

    @property
    def reserved(self) -> tuple[Reserved, ...]:
        installed = operators.reserved() if self.installs_operators else ()
        edge = (Reserved(name="traefik", resources=traefik.RESOURCES, replicas=self.edge_replicas),) \
            if self.edge_replicas else ()
        return (*(Reserved(name=name, resources=resources) for name, resources in installed), *edge)

    def database_hosts(self, name: str) -> DatabaseHosts:
        """CloudNativePG's Services: `<cluster>-rw` follows the primary, `<cluster>-ro` the replicas."""
        return DatabaseHosts(read_write=f"{name}-rw", read_only=f"{name}-ro")

    def fqdn(self, name: str) -> str:
        return f"{name}.{self.namespace}.svc.{CLUSTER_DOMAIN}"

    def stateful_identity(self, service: Service) -> dict[str, Text]:
        """A StatefulSet's volumeClaimTemplates and serviceName are immutable, and its claims live in one
        namespace on one storage class: any of them changing replaces the set or strands the claims.
        A database service runs as a CloudNativePG Cluster instead (`operator`): its claims are the
        Cluster's, and a StatefulSet's data does not move into them by itself."""
        image = service.container.image
        keys = common_identity(service, major_version(image) if isinstance(image, str) else None)
        if service.database is not None:
            keys[f"{service.name}.operator"] = "cloudnative-pg"
        else:
            keys[f"{service.name}.serviceName"] = peers_name(service.name)
        keys[f"{service.name}.namespace"] = self.namespace or ""
        for volume in service.volumes:
            keys[f"{service.name}.{volume.name}.size"] = volume.size
            keys[f"{service.name}.{volume.name}.storageClass"] = self.storage_class
        return keys
