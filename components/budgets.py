"""Capacity budgets, checked on the blueprints before any resource is registered.

The services counted are exactly the `spec.Service`s the target will receive (the environment builds
every blueprint first), so a new service is budgeted without anyone listing it.

What is measured:
- Docker (dev): the sum of memory LIMITS x replicas must fit `laptopBudget` (a laptop has no scheduler:
  limits are what the containers may really take).
- Kubernetes (prod, review): the sum of REQUESTS x replicas (CPU and memory) must fit `capacity`
  (prod: the cluster's declared allocatable; review: the per-environment budget in profiles/review.yaml),
  and so must the sum with every autoscaler at its maximum: a maximum the nodes cannot place is a
  promise the scheduler breaks exactly when the load arrives.
Run-to-completion tasks (bootstrap Jobs, the nightly backup) are transient and not counted. A per-node
service counts once (one node's worth: the laptop, a single-node review cluster). What the platform
reserves for the stack (the operators a stack installs, the ingress controller replicas it sets:
`PlatformFacts.reserved`) counts like a service.

Going over raises `ConfigError` with a service-by-service table and the excess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from components.config import ConfigError, StackConfig, Target
from components.config.quantities import cpu_millicores, format_bytes, memory_bytes
from components.spec import Resources, Service
from components.targets.facts import Reserved


@dataclass(frozen=True, kw_only=True)
class Footprint:
    """What one service occupies: compute per replica, and replicas."""

    name: str
    resources: Resources
    replicas: int = 1

    max_replicas: int = 1
    """What the autoscaler may scale it to (`replicas` when it does not autoscale)."""

    @classmethod
    def of(cls, service: Service) -> Footprint:
        peak = service.autoscale.max_replicas if service.autoscale is not None else service.replicas
        # A canary runs beside the stable on the same requests and limits: its replicas count too.
        canary = service.canary.replicas if service.canary is not None else 0
        return cls(name=service.name, resources=service.container.resources, replicas=service.replicas + canary,
                   max_replicas=peak + canary)

    def at_maximum(self) -> Footprint:
        return Footprint(name=self.name, resources=self.resources, replicas=self.max_replicas,
                         max_replicas=self.max_replicas)

    @property
    def memory_limit(self) -> int:
        return memory_bytes(self.resources.memory_limit) * self.replicas

    @property
    def memory_request(self) -> int:
        return memory_bytes(self.resources.memory_request) * self.replicas

    @property
    def cpu_request(self) -> int:
        return cpu_millicores(self.resources.cpu_request) * self.replicas


def footprints(services: Iterable[Service], reserved: Iterable[Reserved] = ()) -> list[Footprint]:
    counted = [*(Footprint.of(service) for service in services),
               *(Footprint(name=r.name, resources=r.resources, replicas=r.replicas, max_replicas=r.replicas)
                 for r in reserved)]
    return sorted(counted, key=lambda f: f.name)


def _cpu(millis: int) -> str:
    return f"{millis / 1000:g} CPU"


def _table(rows: list[tuple[str, str]]) -> list[str]:
    width = max(len(name) for name, _ in rows)
    return [f"    {name.ljust(width)}  {value}" for name, value in rows]


def check(stack: str, config: StackConfig, deployed: Iterable[Service], reserved: Iterable[Reserved] = ()) -> None:
    """Raise ConfigError when the stack's services (and what the platform reserves) do not fit its budget."""
    services = footprints(deployed, reserved)
    if config.target is Target.DOCKER:
        budget = memory_bytes(config.laptop_budget)
        used = sum(f.memory_limit for f in services)
        if used <= budget:
            return
        rows = [(f.name, f"{f.replicas} x {f.resources.memory_limit} = {format_bytes(f.memory_limit)}")
                for f in sorted(services, key=lambda f: -f.memory_limit)]
        raise ConfigError("\n".join([
            f"Stack '{stack}' does not fit the laptop budget: memory limits total {format_bytes(used)}, "
            f"budget {format_bytes(budget)} (dreamscape:laptopBudget), "
            f"over by {format_bytes(used - budget)}.",
            "  memory limits, service by service:",
            *_table(rows),
            "Lower a service's memoryLimit or raise dreamscape:laptopBudget. Nothing was changed.",
        ]))
    _check_requests(stack, config, services)
    _check_requests(stack, config, [f.at_maximum() for f in services], at_maximum=True)


def _check_requests(stack: str, config: StackConfig, services: list[Footprint], at_maximum: bool = False) -> None:
    """Requests x replicas against the declared capacity; `at_maximum`: every autoscaler at its maximum,
    which the scheduler must also be able to place."""
    cpu_budget = cpu_millicores(config.capacity.cpu)
    memory_budget = memory_bytes(config.capacity.memory)
    cpu_used = sum(f.cpu_request for f in services)
    memory_used = sum(f.memory_request for f in services)
    over = []
    if cpu_used > cpu_budget:
        over.append(f"CPU requests total {_cpu(cpu_used)}, capacity {_cpu(cpu_budget)}, "
                    f"over by {_cpu(cpu_used - cpu_budget)}")
    if memory_used > memory_budget:
        over.append(f"memory requests total {format_bytes(memory_used)}, "
                    f"capacity {format_bytes(memory_budget)}, "
                    f"over by {format_bytes(memory_used - memory_budget)}")
    if not over:
        return
    rows = [(f.name, f"{f.replicas} x ({f.resources.cpu_request} CPU, {f.resources.memory_request}) = "
                     f"{_cpu(f.cpu_request)}, {format_bytes(f.memory_request)}")
            for f in sorted(services, key=lambda f: (-f.memory_request, f.name))]
    if at_maximum:
        raise ConfigError("\n".join([
            f"Stack '{stack}' cannot scale to its autoscalers' maximums within its capacity "
            "(dreamscape:capacity): " + "; ".join(over) + ".",
            "  requests x replicas at maximum, service by service:",
            *_table(rows),
            "Lower pods.<pod>.maxReplicas or declare the nodes the maximums need. Nothing was changed.",
        ]))
    raise ConfigError("\n".join([
        f"Stack '{stack}' does not fit its capacity (dreamscape:capacity): " + "; ".join(over) + ".",
        "  requests x replicas, service by service:",
        *_table(rows),
        "Lower requests or replicas, or declare the real capacity. Nothing was changed.",
    ]))
