"""DreamScape "secure by default" CrossGuard rules.

Importing this package builds nothing: `all_policies()` constructs the policy objects and
`policy/__main__.py` hands them to `PolicyPack` (which starts the analyzer server and never returns).
"""

from __future__ import annotations

from pulumi_policy import Policy

from . import host, images, secrets, services, stateful, workloads

PACK_NAME = "dreamscape-secure-by-default"


def all_policies() -> list[Policy]:
    """Every policy of the pack, in a stable order."""
    return [
        *workloads.policies(),
        *images.policies(),
        *stateful.policies(),
        *secrets.policies(),
        *services.policies(),
        *host.policies(),
    ]


__all__ = ["PACK_NAME", "all_policies"]
