"""Targets turn target-neutral service descriptions into provider resources.

`facts_for` answers what components ask about the platform, from config alone and without importing a
provider SDK. `load_target` imports the chosen target's provider code lazily, so a dev stack never imports
pulumi_kubernetes and a prod stack never imports pulumi_docker.
"""

from __future__ import annotations

import importlib

import pulumi

from components.config import StackConfig
from components.config import Target as TargetKind
from components.targets.base import Deployed, Target, TargetSettings
from components.targets.facts import Discovery, LogSource, PlatformFacts

_PACKAGES = {TargetKind.DOCKER: "components.targets.docker", TargetKind.KUBERNETES: "components.targets.kubernetes"}


def facts_for(config: StackConfig, environment: str) -> PlatformFacts:
    if config.target is TargetKind.DOCKER:
        from components.targets.docker.facts import DockerFacts

        return DockerFacts(environment=environment,
                           location=f"docker host {config.docker.host or '(the local default socket)'}")
    from components.targets.kubernetes import traefik
    from components.targets.kubernetes.facts import KubernetesFacts

    return KubernetesFacts(
        environment=environment,
        namespace=config.kubernetes.namespace_for(environment),
        storage_class=config.kubernetes.storage_class,
        dns_resolver=str(config.kubernetes.cluster_dns),
        installs_operators=config.kubernetes.install_operators,
        edge_replicas=traefik.replicas(config.kubernetes.edge),
        location=f"kubernetes context {config.kubernetes.context or '(the kubeconfig current context)'}",
    )


def load_target(config: StackConfig, settings: TargetSettings, opts: pulumi.ResourceOptions | None = None) -> Target:
    module = importlib.import_module(f"{_PACKAGES[config.target]}.platform")
    target: Target = module.create(config, settings, opts)
    return target


__all__ = ["Deployed", "Discovery", "LogSource", "PlatformFacts", "Target", "TargetSettings", "facts_for",
           "load_target"]
