"""The stack's access intents (components/spec/access.py) from its config.

Stacks ask for the read-only `preview` identity unless `previewIdentity` is false (a target without
shared identities, Docker, realises it as nothing). The review profile turns it off: a review stack is
deployed by its pull request's own workflow, and nothing previews it read-only. The identity reads back,
by name, the cluster-wide grants of the services that declare cluster-scoped API rules
(`spec.ApiScope.CLUSTER`: Prometheus reading the kubelets). When `registryAuth` is set, every stack gets
registry pull credentials. The engine hands secret config over in plain text, so the password is wrapped
in `Output.secret` here, before it reaches any resource.
"""

from __future__ import annotations

from collections.abc import Iterable

import pulumi

from components import spec
from components.config import StackConfig
from components.spec.access import Access, ReadOnlyIdentity, RegistryCredentials


def registry_host(registry: str) -> str:
    """`ghcr.io/dreamscape` -> `ghcr.io`: registries authenticate per host."""
    return registry.split("/", 1)[0]


def stack_access(config: StackConfig, services: Iterable[spec.Service]) -> Access:
    """`services`: everything the stack deploys (the read-only identity reads their cluster-wide grants)."""
    auth = config.registry_auth
    registry = None
    if auth.username is not None and auth.password is not None:
        registry = RegistryCredentials(
            server=auth.server or registry_host(config.registry),
            username=auth.username,
            password=pulumi.Output.secret(auth.password.get_secret_value()),
        )
    cluster_grants = tuple(service.name for service in services
                           if any(rule.scope is spec.ApiScope.CLUSTER for rule in service.api_rules))
    read_only = ReadOnlyIdentity(cluster_grants=cluster_grants) if config.preview_identity else None
    return Access(read_only=read_only, registry=registry)
