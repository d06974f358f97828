"""The stack's access intents (components/spec/access.py) from its config.

Stacks ask for the read-only `preview` identity unless `previewIdentity` is false (a target without
shared identities, Docker, realises it as nothing). The review profile turns it off: a review stack is
deployed by its pull request's own workflow, nothing previews it read-only, and it keeps every object
inside its own namespaces. When `registryAuth` is set, every stack gets registry pull credentials. The engine hands
secret config over in plain text, so the password is wrapped in `Output.secret` here, before it reaches
any resource.
"""

from __future__ import annotations

import pulumi

from components.config import StackConfig
from components.spec.access import Access, ReadOnlyIdentity, RegistryCredentials


def registry_host(registry: str) -> str:
    """`ghcr.io/dreamscape` -> `ghcr.io`: registries authenticate per host."""
    return registry.split("/", 1)[0]


def stack_access(config: StackConfig) -> Access:
    auth = config.registry_auth
    registry = None
    if auth.username is not None and auth.password is not None:
        registry = RegistryCredentials(
            server=auth.server or registry_host(config.registry),
            username=auth.username,
            password=pulumi.Output.secret(auth.password.get_secret_value()),
        )
    read_only = ReadOnlyIdentity() if config.preview_identity else None
    return Access(read_only=read_only, registry=registry)
