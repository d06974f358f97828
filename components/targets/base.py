"""The contract between components (what) and targets (how)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pulumi

from components.spec import Route, Service, Task
from components.spec.access import Access


@dataclass(frozen=True)
class TargetSettings:
    """What every target needs to know about the environment it builds."""

    environment: str
    """The stack name: `dev`, `prod`, `review-pr-123`."""
    protect: bool
    """Protect stateful resources from deletion and replacement (prod)."""
    annotations: Mapping[str, str] = field(default_factory=dict)
    """Stamped on everything (review PR, commit, expiry): annotations on Kubernetes, labels on Docker."""
    gate: pulumi.Input[pulumi.Resource] | None = None
    """The provider waits for it (stateful guard): if it fails, no provider resource is registered."""

    def provider_opts(self, parent: pulumi.Resource) -> pulumi.ResourceOptions:
        depends_on = [self.gate] if self.gate is not None else None
        return pulumi.ResourceOptions(parent=parent, depends_on=depends_on)


@dataclass(frozen=True)
class Deployed:
    """A deployed service: dependents wait on `ready`."""

    service: Service | Task
    """The service, or the task that dependents wait for (a migration that gates a rollout)."""
    ready: tuple[pulumi.Resource, ...]


class Target(Protocol):
    """Turns service descriptions into provider resources. Implementations own their provider."""

    settings: TargetSettings

    def deploy_service(
        self, service: Service, parent: pulumi.Resource, after: Sequence[Deployed] = ()
    ) -> Deployed:
        """Deploy `service`; where the target can, it starts only after `after` is ready (Docker)."""
        ...

    def run_task(
        self, task: Task, parent: pulumi.Resource, after: Sequence[Deployed]
    ) -> pulumi.Resource | None:
        """Run once after `after` is ready; a scheduled task recurs (None where the target has no scheduler)."""
        ...

    def expose(self, routes: Sequence[Route], parent: pulumi.Resource) -> dict[str, str]:
        """Make `routes` reachable from outside; return the URL a person opens, by route name."""
        ...

    def grant_access(self, access: Access, parent: pulumi.Resource) -> None:
        """Set up `access` (read-only identity, registry credentials); called before any service is
        deployed, so that the first pods already pull with the credentials."""
        ...
