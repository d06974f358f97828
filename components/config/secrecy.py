"""Keep the engine's secret flag on every config value, wherever the program sends it.

The Pulumi CLI flags keys set with `--secret` (`pulumi.runtime.is_config_secret`), but the config bag the
loader reads carries plain text, and a pydantic model cannot carry the flag to each consumer. So the
loader remembers the plain text of every value under a secret key (`StackConfig.secret_values`), and this
stack transformation marks as secret every resource input that carries one: a kubeconfig given to the
Kubernetes provider, an API key rendered into a file, a secret-flagged key nobody expected to be secret.
Consumers still wrap what they know is sensitive (`Output.secret`); this is the guarantee behind them.

Matching is by value: an input equal to a secret value, or containing one of at least `MIN_CONTAINED`
characters (shorter values such as `true` or `3` would mark unrelated inputs). Values inside outputs are
checked when they resolve.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

MIN_CONTAINED = 8


def carries(text: str, values: tuple[str, ...]) -> bool:
    """Does `text` carry one of the secret `values`?"""
    return any(text == value or (len(value) >= MIN_CONTAINED and value in text) for value in values)


def _carries_deep(value: Any, values: tuple[str, ...]) -> bool:
    if isinstance(value, str):
        return carries(value, values)
    if isinstance(value, dict):
        return any(_carries_deep(child, values) for child in value.values())
    if isinstance(value, (list, tuple)):
        return any(_carries_deep(child, values) for child in value)
    return False


def mark(value: Any, values: tuple[str, ...]) -> Any:
    """`value` with every part that carries a secret value wrapped in `Output.secret`."""
    if isinstance(value, str):
        return pulumi.Output.secret(value) if carries(value, values) else value
    if isinstance(value, dict):
        return {key: mark(child, values) for key, child in value.items()}
    if isinstance(value, list):
        return [mark(child, values) for child in value]
    if isinstance(value, pulumi.Output):
        return value.apply(lambda resolved: pulumi.Output.secret(resolved)
                           if _carries_deep(resolved, values) else resolved)
    return value


def guard(values: tuple[str, ...]) -> Callable[[pulumi.ResourceTransformationArgs],
                                                pulumi.ResourceTransformationResult | None]:
    """The stack transformation for `values` (register it before any resource)."""

    def transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if not values or not args.props:
            return None
        return pulumi.ResourceTransformationResult(mark(dict(args.props), values), args.opts)

    return transformation


def install(values: tuple[str, ...]) -> None:
    """Register the guard for the whole stack (no-op when no config key is secret)."""
    if values:
        pulumi.runtime.register_stack_transformation(guard(values))
