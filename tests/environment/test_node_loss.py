"""Prod survives the loss of one node: proven from what the Kubernetes provider would receive.

The scheduler's part is modelled from the rendered StatefulSets: every placement of the Redis and Kafka
pods on three nodes that their *required* anti-affinity admits is enumerated (with `matchLabelKeys`
merged in as the scheduler does), and each node is lost in turn. What must hold comes from the rendered
settings too (min.insync.replicas, replication factor, the KRaft voters), never from the config.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from components import spec
from components.infra import kafka, redis
from components.targets.kubernetes.workloads import POD_INDEX_LABEL, placement_spec
from tests.harness import Evaluation, evaluate, refuse
from tests.kube import manifest

STS = "kubernetes:apps/v1:StatefulSet"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NODES = ("node-a", "node-b", "node-c")
"""Prod's declared capacity: three k3s nodes (Pulumi.prod.yaml)."""


@dataclass(frozen=True, eq=False)
class Pod:
    """One pod, hashed by identity (its labels are a dict)."""

    workload: str
    ordinal: int
    labels: dict[str, str]
    avoids: tuple[tuple[dict[str, str], tuple[str, ...]], ...]
    """Required anti-affinity terms on the hostname: (matchLabels, matchLabelKeys)."""

    def must_avoid(self, other: Pod) -> bool:
        for match_labels, keys in self.avoids:
            wanted = {**match_labels, **{key: self.labels[key] for key in keys}}
            if wanted.items() <= other.labels.items():
                return True
        return False


def pods_of(statefulset: dict[str, Any]) -> list[Pod]:
    """The pods a StatefulSet creates, with the ordinal label the controller adds to each."""
    template = statefulset["spec"]["template"]
    terms = template["spec"].get("affinity", {}).get("podAntiAffinity", {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution", [])
    assert all(term["topologyKey"] == "kubernetes.io/hostname" for term in terms), "members are kept off one node"
    avoids = tuple((term["labelSelector"]["matchLabels"], tuple(term.get("matchLabelKeys", []))) for term in terms)
    name = statefulset["metadata"]["name"]
    return [Pod(name, i, {**template["metadata"]["labels"], POD_INDEX_LABEL: str(i)}, avoids)
            for i in range(statefulset["spec"]["replicas"])]


def placements(pods: list[Pod]) -> Iterator[dict[Pod, str]]:
    """Every assignment of pods to nodes that the required anti-affinity admits (both directions, as the
    scheduler honours an existing pod's required anti-affinity against a newcomer)."""
    for nodes in itertools.product(NODES, repeat=len(pods)):
        placement = dict(zip(pods, nodes, strict=True))
        if not any(placement[p] == placement[q] and (p.must_avoid(q) or q.must_avoid(p))
                   for p, q in itertools.combinations(pods, 2)):
            yield placement


def redis_pods(evaluation: Evaluation) -> list[Pod]:
    return [pod for name in (redis.NAME, redis.REPLICA_NAME) for pod in pods_of(manifest(evaluation.named(STS, name)))]


def redis_losses(pods: list[Pod]) -> list[str]:
    """Each placement and lost node after which the cluster would stop taking writes: a shard with no
    member left, or too few masters left to vote a replica into a dead master's place."""
    masters = [pod for pod in pods if pod.workload == redis.NAME]
    problems = []
    for placement in placements(pods):
        for lost in NODES:
            survivors = {pod for pod, node in placement.items() if node != lost}
            empty = [i for i in range(len(masters)) if not any(pod.ordinal == i for pod in survivors)]
            masters_left = sum(pod in survivors for pod in masters)
            if empty or masters_left <= len(masters) // 2:
                problems.append(f"{sorted((p.workload, p.ordinal, n) for p, n in placement.items())} "
                                f"minus {lost}: shards without a member {empty}, masters left {masters_left}")
    return problems


def test_every_admitted_placement_of_redis_keeps_every_shard_and_a_master_majority_through_a_node_loss(
    prod: Evaluation,
) -> None:
    pods = redis_pods(prod)
    assert len(pods) == 6, "three masters and three replicas"
    assert any(True for _ in placements(pods)), "six Redis pods fit on three nodes"
    assert redis_losses(pods) == [], "no node's loss stops Redis writes"


def test_without_the_pairing_term_a_node_can_hold_a_whole_shard(prod: Evaluation) -> None:
    """The check above can fail: the same pods with only 'masters apart' lose a shard with some node."""
    unpaired = [Pod(p.workload, p.ordinal, p.labels, tuple(t for t in p.avoids if not t[1])) for p in redis_pods(prod)]
    assert redis_losses(unpaired), "the pairing term is what keeps a master and its replica apart"


def test_each_replica_always_has_a_node_left_once_the_masters_are_placed(prod: Evaluation) -> None:
    pods = redis_pods(prod)
    masters = [pod for pod in pods if pod.workload == redis.NAME]
    replicas = [pod for pod in pods if pod.workload == redis.REPLICA_NAME]
    for placement in placements(masters):
        for replica in replicas:
            free = [node for node in NODES if not any(
                placement[m] == node and (replica.must_avoid(m) or m.must_avoid(replica)) for m in masters)]
            assert free, f"{replica.workload}-{replica.ordinal} could not be scheduled after {placement}"
    dependencies = prod.named(STS, redis.REPLICA_NAME).options["dependencies"]
    assert any(urn.endswith(f"{STS}::{redis.NAME}") for urn in dependencies), (
        f"the replicas are created once the masters are placed, so the scheduler never dead-ends: {dependencies}")


def test_one_disruption_budget_covers_all_six_redis_pods_and_lets_one_go_at_a_time(prod: Evaluation) -> None:
    budgets = [manifest(r) for r in prod.of_type(PDB)]
    pods = redis_pods(prod)
    covering = [b for b in budgets if any(b["spec"]["selector"]["matchLabels"].items() <= p.labels.items()
                                          for p in pods)]
    assert len(covering) == 1, f"one budget over masters and replicas, not one per set: {covering}"
    selector = covering[0]["spec"]["selector"]["matchLabels"]
    assert all(selector.items() <= p.labels.items() for p in pods), "it selects every Redis pod"
    assert covering[0]["spec"]["maxUnavailable"] == 1, (
        "a second voluntary eviction could take the other half of a shard, or a second master")


def broker_settings(evaluation: Evaluation) -> dict[str, str]:
    container = manifest(evaluation.named(STS, kafka.NAME))["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def test_kafka_keeps_acknowledged_writes_and_takes_writes_with_one_broker_down(prod: Evaluation) -> None:
    env = broker_settings(prod)
    replication = int(env["KAFKA_DEFAULT_REPLICATION_FACTOR"])
    min_isr = int(env["KAFKA_MIN_INSYNC_REPLICAS"])
    assert (replication, min_isr) == (3, 2), "RF 3 and min.insync.replicas=2"
    assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false", "an out-of-sync replica never becomes leader"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3", "consumer offsets are replicated alike"
    assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2", "so is the transaction log"
    script = manifest(prod.named("kubernetes:batch/v1:Job", "kafka-topics"))["spec"]["template"]["spec"][
        "containers"][0]["command"][-1]
    assert script.count("--replication-factor 3") == script.count("--create"), "every topic is created with RF 3"

    brokers = pods_of(manifest(prod.named(STS, kafka.NAME)))
    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@")
    admitted = list(placements(brokers))
    assert admitted and all(len(set(p.values())) == len(brokers) for p in admitted), "brokers on distinct nodes"
    budget = next(manifest(r)["spec"] for r in prod.of_type(PDB)
                  if all(manifest(r)["spec"]["selector"]["matchLabels"].items() <= b.labels.items() for b in brokers))
    tolerated = replication - min_isr
    assert budget["maxUnavailable"] == tolerated == 1, (
        "the budget lets exactly as many brokers go as acks=all writes survive: one")
    assert voters - tolerated > voters // 2, "the KRaft quorum keeps a majority with that broker down"


@pytest.mark.parametrize("brokers", [2, 4])
def test_an_even_number_of_kraft_voters_stops_before_any_resource(brokers: int) -> None:
    refusal = refuse("prod", {"kafka": {"brokers": brokers, "replicationFactor": 1}})
    assert refusal.registered == [], "refused before anything is registered"
    assert "dreamscape:kafka" in refusal.message and "brokers" in refusal.message, refusal.message
    assert "use an odd count" in refusal.message and "1 problem(s)" in refusal.message, refusal.message


def test_replicas_for_a_standalone_redis_stop_before_any_resource() -> None:
    refusal = refuse("prod", {"redis": {"mode": "standalone", "nodes": 1, "replicasPerMaster": 1}})
    assert refusal.registered == [] and "replicasPerMaster needs mode 'cluster'" in refusal.message, refusal.message


def test_review_and_dev_keep_a_single_redis_and_kafka_without_required_placement(review: Evaluation) -> None:
    for stack in (review, evaluate("dev")):
        names = {r.name for r in stack.resources}
        assert redis.REPLICA_NAME not in names, f"{stack.stack}: one Redis node, no replica set"
    for resource in review.of_type(STS):
        assert "affinity" not in manifest(resource)["spec"]["template"]["spec"], (
            f"{resource.name}: a single member has nothing to keep apart on the shared review cluster")


def _service(replicas: int, redundancy: spec.Redundancy | None,
             kind: spec.WorkloadKind = spec.WorkloadKind.STATEFUL) -> spec.Service:
    container = spec.Container(image="example:1", resources=spec.Resources(
        cpu_request="10m", cpu_limit="10m", memory_request="8Mi", memory_limit="8Mi"))
    return spec.Service(name="store", component="test", container=container, zone=spec.Zone.CACHE, kind=kind,
                        replicas=replicas, redundancy=redundancy)


def test_without_a_declared_redundancy_members_only_prefer_distinct_nodes() -> None:
    selector = {"app.kubernetes.io/name": "store"}
    placement = placement_spec(_service(3, None), selector, "prod")
    assert "affinity" not in placement, "nothing required: the scheduler may still co-locate when short of nodes"
    assert placement["topology_spread_constraints"][0]["when_unsatisfiable"] == "ScheduleAnyway", placement
    assert placement_spec(_service(1, None), selector, "prod") == {}, "a single member has nothing to spread"


def test_a_redundancy_makes_spreading_required_and_pairs_by_ordinal_only_when_asked() -> None:
    selector = {"app.kubernetes.io/name": "store"}
    apart = placement_spec(_service(3, spec.Redundancy(group="store")), selector, "prod")
    terms = apart["affinity"]["pod_anti_affinity"]["required_during_scheduling_ignored_during_execution"]
    assert terms == [{"label_selector": {"match_labels": selector}, "topology_key": "kubernetes.io/hostname"}], terms
    assert "topology_spread_constraints" not in apart, "the required rule replaces the preference"
    paired = placement_spec(_service(3, spec.Redundancy(group="store", members_apart=False, ordinal_pairs=True)),
                            selector, "prod")
    (term,) = paired["affinity"]["pod_anti_affinity"]["required_during_scheduling_ignored_during_execution"]
    assert term["matchLabelKeys"] == [POD_INDEX_LABEL], "member i avoids only the other services' member i"
    assert "topology_spread_constraints" in paired, "members that may share a node still prefer not to"


def test_a_redundancy_that_cannot_hold_is_refused_when_the_service_is_described() -> None:
    with pytest.raises(ValueError, match="max_unavailable must be at least 1"):
        spec.Redundancy(group="store", max_unavailable=0)
    with pytest.raises(ValueError, match="paired by ordinal need a stateful workload"):
        _service(2, spec.Redundancy(group="store", ordinal_pairs=True), spec.WorkloadKind.STATELESS)
