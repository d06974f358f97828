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

from components.spec import Blueprint, Task
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

    def add_task(self, task: Task, resource: pulumi.Resource | None) -> None:
        """A task later services and tasks may wait for (nothing to wait for where the target skipped it)."""
        self.add(Deployed(service=task, ready=() if resource is None else (resource,)))

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
        self.tasks: dict[str, pulumi.Resource | None] = {}
        # Gates (migrations) first: the services they gate depend on them, so a failure stops the rollout.
        gates = [task for task in args.blueprint.tasks if task.gates]
        for task in gates:
            self._run(task, target, deployments)
        for service in args.blueprint.services:
            gated = [deployments.of((task.name,), service.name)[0] for task in gates if service.name in task.gates]
            after = [*deployments.of(service.after, service.name), *gated]
            deployed = target.deploy_service(service, self, after=after)
            deployments.add(deployed)
            self.deployed[service.name] = deployed
        for task in args.blueprint.tasks:
            if not task.gates:
                self._run(task, target, deployments)
        self.register_outputs(dict(args.outputs))

    def _run(self, task: Task, target: Target, deployments: Deployments) -> None:
        resource = target.run_task(task, self, after=deployments.of(task.after, task.name))
        deployments.add_task(task, resource)
        self.tasks[task.name] = resource
