"""The documented pack config matches the policies' schemas and their built-in defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dreamscape_policy import stacks

from tests.policy.fakes import policy_named

EXAMPLE = Path(__file__).resolve().parents[2] / "policy" / "config.example.json"


def example_config() -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = json.loads(EXAMPLE.read_text())
    return loaded


@pytest.mark.parametrize("policy_name", sorted(example_config()))
def test_every_example_key_is_declared_with_the_same_default(policy_name: str) -> None:
    schema = policy_named(policy_name).config_schema
    assert schema is not None, f"{policy_name} declares a config schema for its keys"
    for key, value in example_config()[policy_name].items():
        assert key in schema.properties, f"{policy_name} declares config key {key}"
        assert schema.properties[key].get("default") == value, (
            f"config.example.json shows the real default of {policy_name}.{key}"
        )


def test_stack_defaults_keep_review_stacks_pinned_but_unprotected() -> None:
    assert not stacks.stack_matches("review-42", stacks.DEFAULT_PROD_STACKS), "review stacks are not prod"
    assert stacks.stack_matches("review-42", stacks.DEFAULT_PINNED_IMAGE_STACKS), "review stacks pin images"
    assert not stacks.stack_matches("dev", stacks.DEFAULT_PINNED_IMAGE_STACKS), "dev may use moving tags"
    assert not stacks.stack_matches("production", stacks.DEFAULT_PROD_STACKS), "prod is matched exactly"


def test_a_malformed_stack_list_falls_back_to_the_default() -> None:
    patterns = stacks.stack_patterns({"prodStacks": "prod"}, "prodStacks", ("prod",))
    assert patterns == ("prod",), "a bare string is not a list of globs; the default applies"
