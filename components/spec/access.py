"""Who may reach an environment besides its own services: target-neutral intents, no providers.

- `ReadOnlyIdentity`: an identity that can read what a `pulumi preview` of the stack reads, and write
  nothing, so CI can preview a pull request without holding write credentials.
- `RegistryCredentials`: how the runtime authenticates to the private image registry.

A target realises them in its own terms (a ServiceAccount with view-only RBAC and an imagePullSecret on
Kubernetes; registry auth on the Docker provider) through `Target.grant_access`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True, kw_only=True)
class ReadOnlyIdentity:
    """Reads every object the stack manages (Secrets excepted: a preview does not read them), writes nothing."""

    name: str = "preview"
    cluster_grants: tuple[str, ...] = ()
    """Services whose cluster-scoped API rules the target grants outside every namespace: the identity
    reads those grants back by name, and nothing else there."""


@dataclass(frozen=True, kw_only=True)
class RegistryCredentials:
    """Pull credentials for one registry host."""

    server: str
    """The registry host, e.g. `ghcr.io` (credentials are per host, not per repository path)."""
    username: str
    password: pulumi.Output[str]
    """Always a secret Output (a token with read access to packages only)."""


@dataclass(frozen=True, kw_only=True)
class Access:
    """Everything `Target.grant_access` sets up; None means "not wanted here"."""

    read_only: ReadOnlyIdentity | None = None
    registry: RegistryCredentials | None = None
