"""The Docker target's answers (provider-free: importable before the provider is chosen)."""

from __future__ import annotations

from dataclasses import dataclass

from components.images import major_version
from components.spec import Service, Text
from components.targets.facts import DatabaseHosts, Discovery, LogSource, Reserved, common_identity

DOCKER_DNS = "127.0.0.11"
"""Docker's embedded DNS server on user-defined networks."""


@dataclass(frozen=True, kw_only=True)
class DockerFacts:
    environment: str
    location: str
    discovery: Discovery = Discovery.STATIC
    log_source: LogSource = LogSource.DOCKER_SOCKET
    namespace: str | None = None
    publishes_host_ports: bool = True
    dns_resolver: str = DOCKER_DNS
    has_scheduler: bool = False
    builds_from_source: bool = True
    reserved: tuple[Reserved, ...] = ()
    replicates_databases: bool = False
    transit_tls: bool = False
    """No PKI on a laptop: services talk plaintext on the environment's internal networks (docs/security.md)."""

    def database_hosts(self, name: str) -> DatabaseHosts:
        """One server (no operator here): reads and writes go to it."""
        return DatabaseHosts(read_write=name, read_only=name)

    def fqdn(self, name: str) -> str:
        """Network aliases are flat names on the environment's networks."""
        return name

    def stateful_identity(self, service: Service) -> dict[str, Text]:
        """Named volumes have no size and no storage class; their names derive from the member and the
        volume, so only member count, mount paths, major version and declared facts matter."""
        image = service.container.image
        return common_identity(service, major_version(image) if isinstance(image, str) else None)
