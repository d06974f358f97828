"""`Target.grant_access` on Docker: registry credentials for pulls; no read-only identity.

A Docker stack runs on the developer's own daemon with local state, so there is no shared identity to
restrict: the read-only intent needs nothing here. Registry credentials become the `registry_auth` of a
second Docker provider on the same daemon, which pulls the remote images; the first provider, with
everything else attached, is untouched, so adding credentials to an existing stack replaces nothing but
the image pulls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_docker as docker

from components.spec.access import Access

if TYPE_CHECKING:
    from components.targets.docker.platform import DockerPlatform


def grant(platform: DockerPlatform, access: Access, parent: pulumi.Resource) -> None:
    del parent  # the pull provider belongs to the platform, like the main provider
    registry = access.registry
    if registry is None:
        return
    platform.pull_provider = docker.Provider(
        f"{platform._name}-registry-provider",
        host=platform._config.host,
        registry_auth=[docker.ProviderRegistryAuthArgs(
            address=registry.server, username=registry.username, password=registry.password,
        )],
        opts=platform.settings.provider_opts(platform),
    )
