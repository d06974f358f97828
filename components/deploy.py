"""Registration of blueprints: the only place a component's services and tasks reach the target.

Every component that runs something is a `BlueprintComponent`: its constructor hands its blueprint to the
target, in order (services first, each after the services it names, then tasks), and registers nothing
else of its own. The blueprint itself was built, and checked, before any resource was registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pulumi

from components.spec import Blueprint
from components.targets import Deployed, Target


class Deployments:
    """What has been deployed so far, by service name, so later services and tasks can wait for it."""

    def __init__(self) -> None:
        self._by_name: dict[str, Deployed] = {}

    def add(self, deployed: Deployed) -> None:
        name = deployed.service.name
        if name in self._by_name:
            raise ValueError(f"service {name!r} is deployed twice")
        self._by_name[name] = deployed

    def of(self, names: tuple[str, ...], dependent: str) -> list[Deployed]:
        missing = [name for name in names if name not in self._by_name]
        if missing:
            raise ValueError(f"{dependent} starts after {missing}, which are not deployed before it")
        return [self._by_name[name] for name in names]


@dataclass(frozen=True, kw_only=True)
class BlueprintArgs:
    blueprint: Blueprint
    target: Target
    deployments: Deployments
    outputs: Mapping[str, Any] = field(default_factory=dict)
    """What the component reports (`register_outputs`)."""


class BlueprintComponent(pulumi.ComponentResource):
    """A component that deploys one blueprint. Subclasses only name their type token."""

    TYPE: ClassVar[str]

    def __init__(self, name: str, args: BlueprintArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        target, deployments = args.target, args.deployments
        self.deployed: dict[str, Deployed] = {}
        for service in args.blueprint.services:
            deployed = target.deploy_service(service, self, after=deployments.of(service.after, service.name))
            deployments.add(deployed)
            self.deployed[service.name] = deployed
        self.tasks: dict[str, pulumi.Resource | None] = {
            task.name: target.run_task(task, self, after=deployments.of(task.after, task.name))
            for task in args.blueprint.tasks
        }
        self.register_outputs(dict(args.outputs))
