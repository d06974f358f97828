"""Host ports on the developer's machine: declared with each port, overridable by port name.

Every `spec.Port` may carry a default `host_port`. On a target that publishes ports (Docker), the stack's
`docker.hostPorts` overrides a port by its name; on one that does not (Kubernetes), every host port is
dropped, so no target is left to ignore a field. Unknown names and two ports on one host port are config
errors, found before anything is registered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from components.spec import Service


@dataclass(frozen=True, kw_only=True)
class Publishing:
    enabled: bool
    """The target publishes ports on the developer's machine."""
    address: str = "127.0.0.1"
    overrides: Mapping[str, int] = field(default_factory=dict)
    """`docker.hostPorts`: host port by port name."""

    def host_port(self, name: str, default: int | None) -> int | None:
        if not self.enabled:
            return None
        return self.overrides.get(name, default)

    def apply(self, service: Service) -> Service:
        ports = tuple(replace(port, host_port=self.host_port(port.name, port.host_port)) for port in service.ports)
        return replace(service, ports=ports)


def problems(publishing: Publishing, services: Iterable[Service]) -> list[str]:
    """Unknown override names (with the valid ones) and host ports claimed twice, one line each."""
    services = list(services)
    declared = sorted({port.name for service in services for port in service.ports if port.host_port is not None
                       or port.name in publishing.overrides})
    errors = []
    unknown = sorted(set(publishing.overrides) - {port.name for s in services for port in s.ports})
    for name in unknown:
        errors.append(f"dreamscape:docker.hostPorts.{name}: no port is named {name!r}; "
                      f"the published ports are {', '.join(declared)}")
    owners: dict[int, list[str]] = {}
    for service in services:
        for port in service.ports:
            if publishing.enabled and port.host_port is not None:
                owners.setdefault(port.host_port, []).append(f"{service.name}/{port.name}")
    for host_port, claimed in sorted(owners.items()):
        if len(claimed) > 1:
            errors.append(f"dreamscape:docker.hostPorts: host port {host_port} is claimed by "
                          f"{' and '.join(claimed)}; give one of them another port by name")
    return errors
