"""What the stack exports for its infrastructure services, derived from the registry and the plan.

Nothing here names an infra service: a new registry entry gets its endpoint, its operator URLs and its
stack outputs from its own service's ports and its plan's outputs, so no hand list follows it.
- **endpoint**: where clients reach the service from where the stack's user stands: its published client
  port on a platform that publishes ports (the developer's machine), else its first client port at the
  address its plan reports (`host`, default the service name).
- **operator ports** (a console): one more endpoint each, keyed by the port's name, and a URL on localhost
  where the platform publishes it.
- **outputs**: every key of the plan's outputs, prefixed with the service name (`url` of `redis` ->
  `redisUrl`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from components import spec
from components.infra.registry import InfraEntry, InfraPlan
from components.publishing import Publishing


def output_key(*words: str) -> str:
    """`("minio", "console")` or `("minio-console",)` -> `minioConsole`: the stack outputs' camelCase."""
    parts = [part for word in words for part in word.replace("_", "-").split("-") if part]
    return parts[0] + "".join(part[:1].upper() + part[1:] for part in parts[1:])


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    key: str
    """Its key in the `endpoints` output."""
    address: str
    """`host:port`, or a URL where the entry has a scheme."""
    published: int | None
    """The host port on the developer's machine, where the platform publishes it."""
    scheme: str | None
    operator: bool
    """An operators' port (a console) rather than the clients' one."""


def client_port(service: spec.Service) -> spec.Port:
    """The port clients use: the published one where there is one (Kafka's external listener in dev)."""
    clients = [port for port in service.ports if port.audience is spec.PortAudience.CLIENTS]
    if not clients:
        raise ValueError(f"{service.name}: an infra service needs a port for its clients")
    return next((port for port in clients if port.host_port is not None), clients[0])


def service_endpoints(entry: InfraEntry, service: spec.Service, planned: InfraPlan,
                      publishing: Publishing) -> list[Endpoint]:
    host = str(planned.outputs.get("host", service.name))

    def endpoint(key: str, port: spec.Port, at: str) -> Endpoint:
        address = f"{publishing.address}:{port.host_port}" if port.host_port is not None else f"{at}:{port.number}"
        if entry.scheme is not None:
            address = f"{entry.scheme}://{address}"
        return Endpoint(key=key, address=address, published=port.host_port, scheme=entry.scheme,
                        operator=port.audience is spec.PortAudience.OPERATORS)

    found = [endpoint(entry.name, client_port(service), host)]
    found += [endpoint(output_key(port.name), port, service.name) for port in service.ports
              if port.audience is spec.PortAudience.OPERATORS]
    return found


def endpoints(registry: Iterable[InfraEntry], services: Mapping[str, spec.Service],
              plans: Mapping[Any, InfraPlan], publishing: Publishing) -> list[Endpoint]:
    """Every infra service's endpoints, in registry order."""
    return [found for entry in registry
            for found in service_endpoints(entry, services[entry.name], plans[entry.need], publishing)]


def operator_urls(found: Iterable[Endpoint]) -> dict[str, str]:
    """The published operator consoles, as the developer opens them (`minioConsole`)."""
    return {e.key: f"{e.scheme}://localhost:{e.published}" for e in found
            if e.operator and e.published is not None and e.scheme is not None}


def outputs(registry: Iterable[InfraEntry], plans: Mapping[Any, InfraPlan]) -> dict[str, Any]:
    """Each plan's outputs as stack outputs, prefixed with its service name."""
    return {output_key(entry.name, key): value for entry in registry
            for key, value in plans[entry.need].outputs.items()}
