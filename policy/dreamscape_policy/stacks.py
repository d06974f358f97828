"""Which stack is being previewed, and whether a stack-dependent rule applies to it.

The stack name comes from, in order:

1. the policy's own config key ``stack`` (``--policy-pack-config``), for CI jobs that want to be explicit;
2. the ``PULUMI_STACK`` environment variable, which the Pulumi CLI sets for policy-pack plugins
   (``pulumi_policy`` reads the same variable to configure ``pulumi.get_stack()`` before each analysis).

When neither is available the stack is *unknown* and stack-dependent rules apply (fail closed):
a policy that silently switches itself off is worse than one that asks to be configured.

Stack patterns are shell-style globs (``fnmatch``): ``prod``, ``review-*``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

STACK_KEY = "stack"
PROD_STACKS_KEY = "prodStacks"
PINNED_IMAGE_STACKS_KEY = "pinnedImageStacks"

# Stacks whose stateful resources must be protected: only the long-lived production stack.
# review-<id> stacks are ephemeral and must stay destroyable, so they are NOT prod.
DEFAULT_PROD_STACKS: tuple[str, ...] = ("prod",)
# Stacks that must run reproducible images: prod, and review stacks (they preview what prod will run).
DEFAULT_PINNED_IMAGE_STACKS: tuple[str, ...] = ("prod", "review-*")


def current_stack(config: Mapping[str, Any]) -> str | None:
    """The stack being previewed, or None when it cannot be determined."""
    override = config.get(STACK_KEY)
    if isinstance(override, str) and override:
        return override
    return os.environ.get("PULUMI_STACK") or None


def stack_patterns(config: Mapping[str, Any], key: str, default: Sequence[str]) -> tuple[str, ...]:
    """The glob list under `key` in the policy config, or `default` when absent or malformed."""
    value = config.get(key)
    if isinstance(value, Sequence) and not isinstance(value, str):
        patterns = tuple(item for item in value if isinstance(item, str) and item)
        return patterns
    return tuple(default)


def stack_matches(stack: str | None, patterns: Sequence[str]) -> bool:
    """True if `stack` matches any pattern; an unknown stack always matches (fail closed)."""
    if stack is None:
        return True
    return any(fnmatchcase(stack, pattern) for pattern in patterns)


def describe(stack: str | None) -> str:
    """Human wording of the stack for violation messages."""
    if stack is None:
        return "an unknown stack (PULUMI_STACK unset and no `stack` in the policy config; treated as prod)"
    return f'stack "{stack}"'


def schema_property(default: Sequence[str], description: str) -> dict[str, Any]:
    """JSON-schema fragment for a list-of-globs config key."""
    return {
        "type": "array",
        "items": {"type": "string"},
        "default": list(default),
        "description": description,
    }


STACK_SCHEMA: dict[str, Any] = {
    "type": "string",
    "description": "Stack name override; defaults to PULUMI_STACK as set by the Pulumi CLI.",
}
