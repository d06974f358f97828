"""What a component runs and what it offers its consumers, built before anything is registered.

A component's builder is a pure function from validated config (and generated secret values, which are
Pulumi outputs) to a `Blueprint`. The environment collects every blueprint first, derives its views from
them (capacity budgets, the stateful identity, scrape targets, published host ports, edge routes), checks
them, and only then hands the same blueprints to the target. So a derived view can never miss a service:
there is no second list to forget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from components.spec.service import SecretFile, Service, Task, Text
from components.spec.zones import Zone


@dataclass(frozen=True, kw_only=True)
class Link:
    """How a consumer reaches a service: the env vars and secret files it is given, the zone it must be
    allowed to reach, and the service it starts after."""

    service: str
    zone: Zone
    env: Mapping[str, Text] = field(default_factory=lambda: MappingProxyType({}))
    secret_files: tuple[SecretFile, ...] = ()
    setup: tuple[str, ...] = ()
    """Tasks that must have run before a consumer's own tasks use the link (the app role and database)."""
    trusts_ca: bool = False
    """The service speaks TLS: a consumer needs the environment's CA (`Container.trusts_ca`)."""


@dataclass(frozen=True, kw_only=True)
class Blueprint:
    """Everything one component deploys: long-running services and run-to-completion tasks."""

    services: tuple[Service, ...] = ()
    tasks: tuple[Task, ...] = ()

    def map_services(self, change: Callable[[Service], Service]) -> Blueprint:
        return replace(self, services=tuple(change(service) for service in self.services))


def all_services(blueprints: Iterable[Blueprint]) -> Iterator[Service]:
    for blueprint in blueprints:
        yield from blueprint.services

