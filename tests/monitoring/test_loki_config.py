"""loki.yaml: single binary, filesystem, tsdb v13, retention that actually deletes."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from components.monitoring.loki.config import LokiConfigArgs, render_loki_config


def _load(args: LokiConfigArgs) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(render_loki_config(args))
    return data


def test_retention_is_enabled_with_a_delete_request_store_and_a_period_from_input() -> None:
    config = _load(LokiConfigArgs(retention_hours=720))
    assert config["compactor"]["retention_enabled"] is True, "the compactor must apply retention"
    assert config["compactor"]["delete_request_store"] == "filesystem", (
        "retention needs a delete_request_store"
    )
    assert config["limits_config"]["retention_period"] == "720h", "30 days in prod is 720h"


def test_storage_is_filesystem_with_the_tsdb_v13_schema() -> None:
    config = _load(LokiConfigArgs(retention_hours=168))
    (schema,) = config["schema_config"]["configs"]
    assert (schema["store"], schema["schema"], schema["object_store"]) == ("tsdb", "v13", "filesystem"), (
        "single-binary Loki uses tsdb v13 on the filesystem"
    )
    assert schema["from"] == "2024-04-01", "the schema date stays a string, not a YAML date"
    assert config["auth_enabled"] is False, "single tenant"
    assert config["common"]["path_prefix"] == "/loki", "all data lives under the data volume"


@pytest.mark.parametrize("hours", [0, 30, 100])
def test_retention_that_is_not_a_whole_number_of_days_is_rejected(hours: int) -> None:
    with pytest.raises(ValueError, match="multiple of 24"):
        LokiConfigArgs(retention_hours=hours)
