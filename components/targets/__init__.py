"""Targets turn target-neutral service descriptions into provider resources.

`load_target` imports the chosen target lazily, so a dev stack never imports pulumi_kubernetes and a
prod stack never imports pulumi_docker.
"""

from __future__ import annotations

import importlib

import pulumi

from components.config import StackConfig
from components.config import Target as TargetKind
from components.targets.base import Deployed, Target, TargetSettings

_MODULES = {TargetKind.DOCKER: "components.targets.docker", TargetKind.KUBERNETES: "components.targets.kubernetes"}


def load_target(config: StackConfig, settings: TargetSettings, opts: pulumi.ResourceOptions | None = None) -> Target:
    module = importlib.import_module(_MODULES[config.target])
    target: Target = module.create(config, settings, opts)
    return target


__all__ = ["Deployed", "Target", "TargetSettings", "load_target"]
