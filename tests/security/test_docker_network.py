"""Network zones on Docker: reachability read from the recorded containers' networks, both directions.

Two containers can talk iff they share a network. A Docker network is symmetric, so the zone rule is:
a container sits on its own zone's network and on the networks of the zones it reaches, nothing else
(plus, for a published data service, a private publish bridge that no other container joins).
"""

from __future__ import annotations

import itertools

import pytest

from components.spec import DATA_ZONES, Zone
from tests.harness import Evaluation, Registered

CONTAINER = "docker:index/container:Container"
NETWORK = "docker:index/network:Network"
PREFIX = "dreamscape-dev-"


def labels(container: Registered) -> dict[str, str]:
    return {entry["label"]: entry["value"] for entry in container.inputs.get("labels") or []}


def networks(container: Registered) -> set[str]:
    return {n["name"].removeprefix(PREFIX) for n in container.inputs.get("networksAdvanced") or []}


def zone_networks(container: Registered) -> set[str]:
    return networks(container) & {z.value for z in Zone}


def declared(container: Registered) -> set[str]:
    found = labels(container)
    reaches = {z.value for z in Zone if found.get(f"dreamscape.io/reaches-{z.value}") == "true"}
    return {found["dreamscape.io/zone"], *reaches}


@pytest.fixture(scope="module")
def containers(dev: Evaluation) -> dict[str, Registered]:
    return {c.name: c for c in dev.of_type(CONTAINER)}


def test_every_container_and_task_carries_its_zone_labels(containers: dict[str, Registered]) -> None:
    for name, container in containers.items():
        assert "dreamscape.io/zone" in labels(container), f"{name}: zone label drives the network rules"


def test_every_container_joins_exactly_its_zone_and_the_zones_it_reaches(
        containers: dict[str, Registered]) -> None:
    for name, container in containers.items():
        assert zone_networks(container) == declared(container), \
            f"{name}: joins {sorted(zone_networks(container))}, declares {sorted(declared(container))}"


def test_kafka_is_not_on_the_database_network_and_the_bootstrap_only_on_it(
        containers: dict[str, Registered]) -> None:
    assert "database" not in networks(containers["kafka-0"]), "kafka never reaches postgres"
    assert networks(containers["postgres-bootstrap"]) == {"database"}, "the bootstrap task sees only postgres"
    for name in ("redis-0", "kafka-0", "minio-0", "kafka-topics", "minio-buckets"):
        assert "database" not in networks(containers[name]), f"{name} does not reach DATABASE"


def test_two_containers_share_a_network_only_when_one_declares_the_others_zone(
        containers: dict[str, Registered]) -> None:
    for (a_name, a), (b_name, b) in itertools.combinations(containers.items(), 2):
        shared = networks(a) & networks(b)
        if not shared:
            continue
        a_zone, b_zone = labels(a)["dreamscape.io/zone"], labels(b)["dreamscape.io/zone"]
        assert a_zone == b_zone or b_zone in declared(a) or a_zone in declared(b), \
            f"{a_name} and {b_name} share {sorted(shared)} without declaring each other's zone"
        assert shared <= {z.value for z in Zone}, f"{a_name} and {b_name} share a publish bridge"


def test_publish_bridges_are_private_to_one_container(containers: dict[str, Registered]) -> None:
    for name, container in containers.items():
        for network in networks(container) - {z.value for z in Zone}:
            assert network == f"{labels(container)['app.kubernetes.io/name']}-publish", \
                f"{name}: the only extra network is its own publish bridge"
            others = [n for n, c in containers.items() if n != name and network in networks(c)]
            assert not others, f"publish bridge {network} is shared with {others}"


def test_data_zone_networks_are_internal(dev: Evaluation) -> None:
    for network in dev.of_type(NETWORK):
        zone = network.inputs["name"].removeprefix(PREFIX)
        if zone in {z.value for z in DATA_ZONES}:
            assert network.inputs.get("internal") is True, f"{zone}: data zones have no route out"
        elif zone in {Zone.BIGPODS.value, Zone.MONITORING.value}:
            assert not network.inputs.get("internal"), f"{zone}: reaches the outside (providers, scrapes)"
