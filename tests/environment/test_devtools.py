"""Opt-in dev tools (pgAdmin, RedisInsight, kafka-ui): absent by default, Docker only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.budgets import footprints
from components.config import ConfigError
from components.config.loader import load
from tests.harness import Evaluation, config_bag, evaluate

CONTAINER = "docker:index/container:Container"
ALL_ON = {"devTools": {"pgadmin": True, "redisInsight": True, "kafkaUi": True},
          # The three UIs add 1.1 GiB of limits; dev's 6 GiB laptop budget has no room for all of them.
          "laptopBudget": "8Gi"}


@pytest.fixture(scope="module")
def tools() -> Evaluation:
    return evaluate("dev", ALL_ON)


def envs(inputs: dict[str, Any]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in inputs.get("envs", []))


def networks(inputs: dict[str, Any]) -> set[str]:
    return {n["name"] for n in inputs["networksAdvanced"]}


def test_dev_tools_are_absent_by_default(dev: Evaluation) -> None:
    names = {c.name for c in dev.of_type(CONTAINER)}
    assert not names & {"pgadmin", "redis-insight", "kafka-ui"}, names
    assert not dev.of_type("dreamscape:dev:Tools"), "no component when nothing is enabled"


def test_pgadmin_logs_in_with_a_secret_file_and_knows_the_postgres_server(tools: Evaluation) -> None:
    pgadmin = tools.named(CONTAINER, "pgadmin").inputs
    assert any(p["external"] == 5050 and p["ip"] == "127.0.0.1" for p in pgadmin["ports"]), "localhost only"
    env = envs(pgadmin)
    assert env["PGADMIN_DEFAULT_PASSWORD_FILE"] == "/run/secrets/dreamscape/pgadmin-password"
    assert "PGADMIN_DEFAULT_PASSWORD" not in env, "the password is a file, never an env value"
    servers = next(u["content"] for u in pgadmin["uploads"] if u["file"] == env["PGADMIN_SERVER_JSON_FILE"])
    server = json.loads(servers)["Servers"]["1"]
    assert (server["Host"], server["Port"], server["Username"]) == ("postgres", 5432, "dreamscape_app")
    assert networks(pgadmin) == {"dreamscape-dev-monitoring", "dreamscape-dev-database"}, "only postgres"


def test_redis_insight_and_kafka_ui_reach_only_their_zones(tools: Evaluation) -> None:
    insight = tools.named(CONTAINER, "redis-insight").inputs
    assert envs(insight)["RI_REDIS_HOST"] == "redis" and any(p["external"] == 5540 for p in insight["ports"])
    assert networks(insight) == {"dreamscape-dev-monitoring", "dreamscape-dev-cache"}
    kafka_ui = tools.named(CONTAINER, "kafka-ui").inputs
    assert "kafka" in envs(kafka_ui)["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"]
    assert any(p["external"] == 8085 and p["internal"] == 8080 for p in kafka_ui["ports"])
    assert networks(kafka_ui) == {"dreamscape-dev-monitoring", "dreamscape-dev-messaging"}


def test_images_are_the_configured_pinned_ones(tools: Evaluation) -> None:
    images = {r.inputs["name"] for r in tools.of_type("docker:index/remoteImage:RemoteImage")}
    assert {"dpage/pgadmin4:9.8", "redis/redisinsight:2.70.1", "kafbat/kafka-ui:v1.3.0"} <= images


def test_urls_are_exported(tools: Evaluation) -> None:
    urls = tools.outputs["urls"].value
    assert urls["pgadmin"] == "http://localhost:5050" and urls["redisInsight"] == "http://localhost:5540"
    assert urls["kafkaUi"] == "http://localhost:8085"
    assert tools.outputs["pgadminLogin"].secret, "the pgAdmin login is a secret output"


def test_enabled_tools_count_in_the_laptop_budget_and_only_then() -> None:
    base = {f.name for f in footprints(evaluate("dev").services)}
    on = {f.name for f in footprints(evaluate("dev", {"devTools": {"pgadmin": True}, "laptopBudget": "8Gi"}).services)}
    assert on - base == {"pgadmin"}, on - base


def test_dev_tools_are_refused_on_prod() -> None:
    with pytest.raises(ConfigError, match="devTools"):
        load("prod", config_bag("prod", {"devTools": {"kafkaUi": True}}))


def test_all_tools_on_the_default_laptop_budget_are_refused_with_the_breakdown() -> None:
    with pytest.raises(ConfigError, match="laptop budget"):
        evaluate("dev", {k: v for k, v in ALL_ON.items() if k != "laptopBudget"})
