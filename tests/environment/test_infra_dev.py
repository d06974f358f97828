"""Dev (Docker): what the Docker provider would receive for the infra services."""

from __future__ import annotations

from typing import Any

from tests.harness import Evaluation

CONTAINER = "docker:index/container:Container"


def container(dev: Evaluation, name: str) -> dict[str, Any]:
    return dev.named(CONTAINER, name).inputs


def envs(inputs: dict[str, Any]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in inputs.get("envs", []))


def test_seed_ports_are_published_on_localhost_only(dev: Evaluation) -> None:
    published = {}
    for resource in dev.of_type(CONTAINER):
        for port in resource.inputs.get("ports", []):
            assert port["ip"] == "127.0.0.1", f"{resource.name} publishes on localhost only"
            published[port["external"]] = resource.name
    for port in (5432, 6379, 9092, 9000, 9001):
        assert port in published, f"host port {port} is published"


def test_every_image_is_pinned(dev: Evaluation) -> None:
    for image in dev.of_type("docker:index/remoteImage:RemoteImage"):
        name = image.inputs["name"]
        assert ":" in name and not name.endswith(":latest"), f"{name} is pinned to a version"


def test_data_volumes_survive_destroy_and_are_labelled_for_a_full_reset(dev: Evaluation) -> None:
    volumes = dev.of_type("docker:index/volume:Volume")
    assert {v.name for v in volumes} >= {"postgres-0-data", "redis-0-data", "kafka-0-data", "minio-0-data"}
    for volume in volumes:
        assert volume.options["retainOnDelete"], f"{volume.name} outlives pulumi destroy"
        labels = {item["label"]: item["value"] for item in volume.inputs["labels"]}
        assert labels["dreamscape.io/stack"] == "dev", "the nuclear reset finds volumes by this label"


def test_services_wait_for_health_and_restart_on_failure(dev: Evaluation) -> None:
    for name in ("postgres-0", "redis-0", "kafka-0", "minio-0"):
        inputs = container(dev, name)
        assert inputs["healthcheck"]["tests"], f"{name} has a healthcheck"
        assert inputs["wait"] is True, f"{name}: dependents start after it is healthy"
        assert inputs["restart"] == "unless-stopped", f"{name} restarts after a crash"


def test_secrets_are_uploaded_as_files_not_passed_as_environment(dev: Evaluation) -> None:
    postgres = container(dev, "postgres-0")
    assert envs(postgres)["POSTGRES_PASSWORD_FILE"] == "/run/secrets/dreamscape/postgres-password"
    uploads = {u["file"] for u in postgres["uploads"]}
    assert "/run/secrets/dreamscape/postgres-password" in uploads, "the password arrives as a file"


def test_dev_runs_one_of_everything_with_kafka_advertising_localhost(dev: Evaluation) -> None:
    names = {c.name for c in dev.of_type(CONTAINER)}
    assert {"postgres-0", "redis-0", "kafka-0", "minio-0"} <= names and "kafka-1" not in names
    kafka = container(dev, "kafka-0")
    command = kafka["entrypoints"][-1]
    assert "EXTERNAL://127.0.0.1:9092" in command, "host clients reach the broker on localhost:9092"
    assert "redis-cluster-bootstrap" not in names, "standalone Redis in dev needs no cluster bootstrap"


def test_data_zones_are_internal_networks_and_services_join_only_their_zones(dev: Evaluation) -> None:
    networks = {n.inputs["name"]: n.inputs.get("internal", False) for n in dev.of_type("docker:index/network:Network")}
    assert networks["dreamscape-dev-database"] is True and networks["dreamscape-dev-bigpods"] is False
    postgres_networks = {n["name"] for n in container(dev, "postgres-0")["networksAdvanced"]}
    assert "dreamscape-dev-messaging" not in postgres_networks, "postgres does not join the messaging zone"
    assert "dreamscape-dev-postgres-publish" in postgres_networks, "a private bridge lets 5432 be published"
