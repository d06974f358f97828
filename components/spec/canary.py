"""A canary release: a second, small copy of a service on a new image, given a share of its public traffic.

Target-neutral intent; the Kubernetes target realises it (a `<name>-canary` Deployment and Service, and a
Traefik weighted service in front of both: components/targets/kubernetes/canary.py). The Docker target
has none: stack config refuses a canary there.
"""

from __future__ import annotations

from dataclasses import dataclass

CANARY_SUFFIX = "-canary"
CANARY_REPLICAS = 1
"""A canary is a probe of the new image, not capacity: one replica, counted in the capacity budget."""
MAX_WEIGHT = 100
"""Weights are percents of the route's requests: the canary gets `weight`, the stable `100 - weight`."""


def canary_name(service: str) -> str:
    """The canary's Deployment, Service and `app.kubernetes.io/name` of service `service`."""
    return f"{service}{CANARY_SUFFIX}"


@dataclass(frozen=True, kw_only=True)
class Canary:
    image: str
    """A pushed, pinned image reference (the canary's tag or digest of the service's repository)."""
    weight: int
    """Percent of the service's public requests that go to the canary."""
    replicas: int = CANARY_REPLICAS

    def __post_init__(self) -> None:
        if not 0 <= self.weight <= MAX_WEIGHT:
            raise ValueError(f"canary weight {self.weight} is not a percent (0-{MAX_WEIGHT})")

    @property
    def stable_weight(self) -> int:
        return MAX_WEIGHT - self.weight
