"""Load the stack configuration, or stop the run with one readable message.

Layers, lowest first:
1. project defaults declared in Pulumi.yaml (the single source of defaults);
2. a shared profile for families of stacks without a stack file (`review-*` -> profiles/review.yaml);
3. what the stack sets. A stack value equal to the project default counts as "not set", because the
   Pulumi CLI hands the program project defaults and stack values in one bag.
Object-valued keys are merged key by key, so a stack file holds only what differs.

This is the only module that reads Pulumi configuration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pydantic import ValidationError

from components.config.model import StackConfig, Target

PROJECT = "dreamscape"
ROOT = Path(__file__).resolve().parents[2]
PROFILES = {"review-": ROOT / "profiles" / "review.yaml"}


class ConfigError(pulumi.RunError):
    """Raised before any resource is registered; Pulumi prints the message without a traceback."""


@cache
def project_defaults(project_file: Path = ROOT / "Pulumi.yaml") -> Mapping[str, Any]:
    """The `config:` defaults of Pulumi.yaml, as plain values keyed without the project prefix."""
    declared = yaml.safe_load(project_file.read_text()).get("config", {})
    defaults: dict[str, Any] = {}
    for key, spec in declared.items():
        name = key.removeprefix(f"{PROJECT}:")
        if isinstance(spec, dict) and "value" in spec:
            defaults[name] = spec["value"]
        elif isinstance(spec, dict) and "default" in spec:
            defaults[name] = spec["default"]
        elif not isinstance(spec, dict):
            defaults[name] = spec
    return defaults


def profile_for(stack: str) -> Mapping[str, Any]:
    for prefix, path in PROFILES.items():
        if stack.startswith(prefix):
            loaded = yaml.safe_load(path.read_text()) or {}
            return dict(loaded.get("config", {}))
    return {}


def stack_values(raw: Mapping[str, str]) -> dict[str, Any]:
    """Our namespace's values from the engine's config bag. Objects and arrays arrive as JSON."""
    values: dict[str, Any] = {}
    for key, text in raw.items():
        namespace, _, name = key.partition(":")
        if namespace != PROJECT:
            continue
        values[name] = _decode(text)
    return values


def _decode(text: str) -> Any:
    if isinstance(text, str) and text[:1] in "{[":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def _explicit(value: Any, default: Any) -> Any:
    """The parts of `value` that differ from `default` (None when nothing differs)."""
    if isinstance(value, dict) and isinstance(default, dict):
        diff = {k: d for k, v in value.items() if (d := _explicit(v, default.get(k))) is not None}
        return diff or None
    return None if _same(value, default) else value


def _same(value: Any, default: Any) -> bool:
    if value == default:
        return True
    # The engine passes primitives as strings ("3", "true").
    return isinstance(value, str) and not isinstance(default, (dict, list)) and value == _as_text(default)


def _as_text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge mappings; lists and scalars in `override` replace those in `base`."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = merge(current, value)
        else:
            merged[key] = value
    return merged


def effective_values(stack: str, raw: Mapping[str, str]) -> dict[str, Any]:
    defaults = project_defaults()
    explicit = {
        key: diff
        for key, value in stack_values(raw).items()
        if (diff := _explicit(value, defaults.get(key))) is not None
    }
    return merge(merge(defaults, profile_for(stack)), explicit)


def validate(stack: str, values: Mapping[str, Any]) -> StackConfig:
    try:
        config = StackConfig.model_validate(dict(values))
    except ValidationError as error:
        raise ConfigError(describe(stack, error)) from None
    if config.target is Target.DOCKER:
        check_sources(stack, config)
    return config


def workspace_path(config: StackConfig) -> Path:
    """The workspace root as an absolute path (relative values are relative to this repository)."""
    return (ROOT / Path(config.workspace_root).expanduser()).resolve()


def check_sources(stack: str, config: StackConfig) -> None:
    """Dev builds every Big Pod from source and mounts each service's directory for hot reload: resolve
    the application source (checkouts or the reference application) and check the application contract
    before anything is registered, rather than fail in the middle of a build."""
    from components.pods.source import choose_source  # provider-free; imports this module

    choose_source(stack, config)


def load(stack: str | None = None, raw: Mapping[str, str] | None = None) -> StackConfig:
    """Read, merge and validate the current stack's configuration."""
    stack = stack or pulumi.get_stack()
    if raw is None:
        raw = _engine_config()
    return validate(stack, effective_values(stack, raw))


def _engine_config() -> Mapping[str, str]:
    # The language host hands the whole config bag to `set_all_config`; this is where it lives.
    from pulumi.runtime.config import CONFIG

    return dict(CONFIG.get())


def describe(stack: str, error: ValidationError) -> str:
    """One message naming every bad field, what it expects, and what it got."""
    problems = error.errors(include_url=False)
    lines = [
        f"Invalid configuration for stack '{stack}': {len(problems)} problem(s). Nothing was changed.",
    ]
    for problem in problems:
        location = [str(part) for part in problem["loc"]] or ["(stack)"]
        key = f"{PROJECT}:{location[0]}" + "".join(f".{part}" for part in location[1:])
        if problem["type"] == "extra_forbidden":
            lines.append(f"  - {key}: unknown key; see docs/config.md for the supported keys")
            continue
        message = problem["msg"].removeprefix("Value error, ")
        got = problem.get("input")
        mentions_input = problem["type"] == "value_error" or isinstance(got, (dict, list)) or got is None
        shown = "" if mentions_input else f" (got {got!r})"
        lines.append(f"  - {key}: {message}{shown}")
    lines.append(
        f"Fix them in Pulumi.{stack}.yaml or with `pulumi config set --path <key> <value> --stack {stack}`."
    )
    return "\n".join(lines)
