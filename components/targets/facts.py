"""What components ask about where they run, answered by the target from config alone.

These answers are known before anything is registered, so blueprints (and every view derived from them)
can use them. Components ask; they never test which target they are on. Each target package has a
provider-free `facts` module implementing `PlatformFacts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from components.spec import Resources, Service, Text


class Discovery(StrEnum):
    """How Prometheus finds its targets."""

    STATIC = "static"
    """A fixed list of `host:port` (Docker: one container per name)."""
    KUBERNETES_PODS = "kubernetes-pods"
    """kubernetes_sd over the environment's pods, relabelled to the declared metrics ports."""


class LogSource(StrEnum):
    """Where the log shipper reads container output."""

    DOCKER_SOCKET = "docker-socket"
    POD_LOG_FILES = "pod-log-files"
    """/var/log/pods on every node (a per-node agent)."""


@dataclass(frozen=True, kw_only=True)
class Reserved:
    """Compute the platform itself takes for this stack besides its services (cluster-wide operators, the
    ingress controller's replicas the stack sets)."""

    name: str
    resources: Resources
    """Per replica."""
    replicas: int = 1


@dataclass(frozen=True, kw_only=True)
class DatabaseHosts:
    """A replicated database's addresses: writes go to the primary, reads may go to a replica."""

    read_write: str
    read_only: str


class PlatformFacts(Protocol):
    """Read-only answers; each target's `facts` module implements them as a frozen dataclass."""

    @property
    def location(self) -> str:
        """Where the stored data lives (the Docker daemon, the Kubernetes context): another location has
        none of the volumes, so the stateful guard refuses a switch."""
        ...

    @property
    def environment(self) -> str: ...

    @property
    def discovery(self) -> Discovery: ...

    @property
    def log_source(self) -> LogSource: ...

    @property
    def namespace(self) -> str | None:
        """The environment's namespace, where the platform has namespaces."""
        ...

    @property
    def publishes_host_ports(self) -> bool:
        """Ports are published on the developer's machine (`spec.Port.host_port`)."""
        ...

    @property
    def dns_resolver(self) -> str:
        """The DNS server a process that resolves names itself (NGINX) must ask."""
        ...

    @property
    def has_scheduler(self) -> bool:
        """Scheduled tasks (backups) run; without a scheduler they are not planned at all."""
        ...

    @property
    def builds_from_source(self) -> bool:
        """Images are built from the developer's workspace and sources are mounted for hot reload (a
        laptop); otherwise images are pulled from the registry."""
        ...

    @property
    def replicates_databases(self) -> bool:
        """A database operator runs a database service as replicated members (`spec.Database`); without
        one, the platform runs the single server its container describes."""
        ...

    @property
    def transit_tls(self) -> bool:
        """An internal PKI issues and renews server certificates (`spec.ServerCertificate`) and mounts the
        environment's CA in clients (`spec.Container.trusts_ca`): data services speak TLS and clients verify
        them. Without one, traffic between services stays plaintext on the platform's own networks."""
        ...

    @property
    def reserved(self) -> tuple[Reserved, ...]:
        """What the platform runs on this stack's account (operators it installs, ingress controller replicas
        it sets); budgets count it."""
        ...

    def database_hosts(self, name: str) -> DatabaseHosts:
        """Where clients of the database service `name` connect (components/spec/database.py)."""
        ...

    def fqdn(self, name: str) -> str:
        """The fully qualified name of a service, for resolvers that ignore search domains."""
        ...

    def stateful_identity(self, service: Service) -> dict[str, Text]:
        """The properties of a stateful service whose change would replace or orphan its data here."""
        ...


def common_identity(service: Service, image_major: int | None) -> dict[str, Text]:
    """What defines stored data on every platform: members, mount paths, the image's major version and
    the service's own declared facts (cluster ids, voters, cluster mode)."""
    keys: dict[str, Text] = {f"{service.name}.members": str(service.replicas)}
    if image_major is not None:
        keys[f"{service.name}.imageMajor"] = str(image_major)
    for volume in service.volumes:
        keys[f"{service.name}.{volume.name}.mountPath"] = volume.mount_path
    for key, value in service.identity.items():
        keys[f"{service.name}.{key}"] = value
    return keys
