"""Bad stack config stops the run with one message naming every bad field, before any resource exists."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.config import ConfigError, StackConfig, load
from components.config.loader import effective_values, project_defaults
from tests.harness import OPERATOR_SECRETS, config_bag, refuse


def failing_message(overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        load("dev", config_bag("dev", overrides))
    return str(caught.value)


def test_project_defaults_alone_form_a_valid_production_config() -> None:
    config = StackConfig.model_validate(dict(project_defaults()))
    assert config.kafka.brokers == 3 and config.redis.mode == "cluster", "defaults carry the seed's prod shape"


def test_committed_stack_files_are_valid() -> None:
    for stack in ("dev", "prod"):
        # What the operators set as secret config (the alert receivers) arrives flagged secret.
        load(stack, config_bag(stack), secret_keys=[f"dreamscape:{key}" for key in OPERATOR_SECRETS.get(stack, {})])


def test_a_stack_value_overrides_one_nested_field_and_keeps_the_other_defaults() -> None:
    config = load("dev", config_bag("dev", {"postgres": {"maxConnections": 42}}))
    assert config.postgres.max_connections == 42, "the stack value wins"
    assert config.postgres.database == "dreamscape", "untouched fields keep the project default"


def test_review_stacks_take_the_shared_profile_without_a_stack_file() -> None:
    config = load("review-pr-7", config_bag("review-pr-7"))
    assert config.redis.mode == "standalone" and config.kafka.brokers == 1, "review profile applies"
    assert config.protect_data is False, "review data is never protected"


def test_explicit_review_stack_values_still_beat_the_profile() -> None:
    values = effective_values("review-pr-7", config_bag("review-pr-7", {"kafka": {"retentionHours": 2}}))
    assert values["kafka"]["retentionHours"] == 2, "explicit stack value wins over the profile"
    assert values["kafka"]["brokers"] == 1, "the profile still fills what the stack did not set"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"target": "swarm"}, "dreamscape:target: Input should be 'docker' or 'kubernetes'"),
        ({"protectData": "sometimes"}, "dreamscape:protectData: Input should be a valid boolean"),
        ({"kafka": {"brokers": -1}}, "dreamscape:kafka.brokers: Input should be greater than or equal to 1"),
        ({"kafka": {"brokers": "three"}}, "dreamscape:kafka.brokers: Input should be a valid integer"),
        ({"postgres": {"resources": {"memory": "lots"}}}, "dreamscape:postgres.resources.memory: expected a memory"),
        ({"redis": {"resources": {"cpuLimit": "2 cores"}}}, "dreamscape:redis.resources.cpuLimit: expected a CPU"),
        ({"postgres": {"sharedBuffers": "2Gi"}}, "dreamscape:postgres.sharedBuffers: expected a PostgreSQL memory"),
        ({"colour": "blue"}, "dreamscape:colour: unknown key"),
        ({"postgres": {"maxConnection": 5}}, "dreamscape:postgres.maxConnection: unknown key"),
        ({"postgres": {"image": "postgres:latest"}}, "uses the floating 'latest' tag"),
        ({"imageTag": "latest"}, "dreamscape:imageTag: expected an image tag other than 'latest'"),
        ({"redis": {"mode": "cluster", "nodes": 2}}, "a Redis Cluster needs at least 3 masters"),
        ({"kafka": {"brokers": 1, "replicationFactor": 3}}, "replicationFactor 3 exceeds the 1 broker(s)"),
        ({"secretRotation": {"postgress": 1}}, "secretRotation names unknown secrets ['postgress']"),
    ],
)
def test_each_bad_value_is_named_with_what_was_expected(overrides: dict[str, Any], expected: str) -> None:
    message = failing_message(overrides)
    assert expected in message, f"message should contain {expected!r}:\n{message}"
    assert "Traceback" not in message, "the message is for people, not a stack trace"


def test_several_problems_are_reported_together_in_one_message() -> None:
    message = failing_message({"target": "swarm", "kafka": {"brokers": 0}, "colour": "blue"})
    assert "3 problem(s)" in message, message
    for key in ("dreamscape:target", "dreamscape:kafka.brokers", "dreamscape:colour"):
        assert key in message, f"{key} is named in the one message"


def test_config_errors_are_pulumi_run_errors_so_the_cli_prints_no_traceback() -> None:
    assert issubclass(ConfigError, pulumi.RunError), "RunError is how Pulumi reports without a stack trace"


def test_a_bad_config_registers_no_resource_at_all() -> None:
    refusal = refuse("dev", {"kafka": {"brokers": 0}})
    assert refusal.registered == [], "validation happens before any registration"
