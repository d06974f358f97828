"""The stateful guard covers every property whose change replaces or orphans stored data, on the target
where it matters, and never stops a run with a traceback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import ConfigError
from tests.harness import Evaluation, evaluate, refuse, stack_file_config


def dev_postgres(**changed: str) -> dict[str, Any]:
    """The dev stack's postgres block with `changed` (an override replaces the whole block)."""
    block: dict[str, Any] = json.loads(stack_file_config("dev")["dreamscape:postgres"])
    return {"postgres": {**block, **changed}}


def keys(evaluation: Evaluation) -> dict[str, Any]:
    value: dict[str, Any] = evaluation.outputs["statefulIdentity"].value["keys"]
    return value


def previous(evaluation: Evaluation, **changed: str) -> dict[str, Any]:
    return {"statefulIdentity": {"version": 2, "keys": {**keys(evaluation), **changed}}}


def refusal(stack: str, overrides: dict[str, Any], before: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        evaluate(stack, overrides, previous_outputs=before)
    return str(caught.value)


def test_sizes_compare_as_numbers(prod: Evaluation) -> None:
    assert evaluate("prod", {"postgres": {"storage": "51200Mi"}}, previous_outputs=previous(prod)).resources, (
        "50Gi and 51200Mi are the same size")


def test_a_shrink_is_refused_and_says_so(prod: Evaluation) -> None:
    message = refusal("prod", {"monitoring": {"prometheus": {"storage": "10Gi"}}}, previous(prod))
    assert "prometheus.data.size" in message and "shrink" in message, message


def test_growth_is_refused_with_the_pvc_expansion_it_needs(prod: Evaluation) -> None:
    message = refusal("prod", {"postgres": {"storage": "100Gi"}}, previous(prod))
    assert "postgres.data.size" in message and "expand the existing PVCs" in message, message


@pytest.mark.parametrize(("overrides", "key"), [
    ({"kafka": {"brokers": 5}}, "kafka.members"),
    ({"kafka": {"brokers": 5}}, "kafka.voters"),
    # Five masters and their replicas need more than the declared capacity (with every autoscaler at its
    # maximum): the budget would refuse first, so the cluster grows by a node here.
    ({"redis": {"nodes": 5}, "capacity": {"cpu": "48", "memory": "144Gi"}}, "redis.members"),
    ({"kubernetes": {"storageClass": "longhorn"}}, "postgres.data.storageClass"),
    ({"kubernetes": {"namespace": "dreamscape-elsewhere"}}, "minio.namespace"),
    ({"monitoring": {"loki": {"storage": "1Gi"}}}, "loki.data.size"),
    ({"monitoring": {"alertmanager": {"storage": "64Mi"}}}, "alertmanager.data.size"),
])
def test_changes_that_orphan_data_on_kubernetes_are_refused(prod: Evaluation, overrides: dict[str, Any],
                                                            key: str) -> None:
    message = refusal("prod", overrides, previous(prod))
    assert key in message and "allowStatefulChange" in message, f"{key} is named:\n{message}"


def test_a_redis_mode_switch_is_refused(prod: Evaluation) -> None:
    message = refusal("prod", {"redis": {"mode": "standalone", "nodes": 1, "replicasPerMaster": 0}}, previous(prod))
    assert "redis.mode" in message and "'cluster' -> 'standalone'" in message, message
    assert "redis-replica.members: '3' -> 'removed'" in message, f"dropping the replicas is named too:\n{message}"


def test_dev_volume_sizes_are_not_guarded_because_docker_volumes_have_none(dev: Evaluation) -> None:
    assert evaluate("dev", dev_postgres(storage="1Gi"), previous_outputs=previous(dev)).resources, (
        "a Docker named volume has no size to shrink")


def test_dev_still_guards_what_matters_on_docker(dev: Evaluation) -> None:
    message = refusal("dev", dev_postgres(image="postgres:17.6-alpine"), previous(dev))
    assert "postgres.data.mountPath" in message and "postgres.imageMajor" in message, message


def test_an_older_flat_identity_is_compared_key_by_key(prod: Evaluation) -> None:
    flat = {k: v for k, v in keys(prod).items() if k.endswith((".size", ".mountPath", ".serviceName"))}
    assert evaluate("prod", previous_outputs={"statefulIdentity": flat}).resources, "an old identity still passes"
    message = refusal("prod", {"postgres": {"storage": "10Gi"}}, {"statefulIdentity": flat})
    assert "postgres.data.size" in message, message


@pytest.mark.parametrize("malformed", ["not a map", {"version": 99, "keys": {}}, {"postgres.data.size": [1]}])
def test_a_malformed_previous_identity_gets_a_message_not_a_traceback(malformed: Any) -> None:
    result = refuse("prod", previous_outputs={"statefulIdentity": malformed})
    assert "cannot be read" in result.message and "allowStatefulChange.statefulIdentity" in result.message, (
        result.message)
    kinds = {r.type for r in result.registered}
    assert not any(t.startswith("kubernetes:") for t in kinds), f"nothing reaches the cluster: {kinds}"
    accepted = evaluate("prod", {"allowStatefulChange": {"statefulIdentity": "reset"}},
                        previous_outputs={"statefulIdentity": malformed})
    assert accepted.resources, "the documented one-time reset accepts the current identity"


def test_the_one_change_override_keeps_working(prod: Evaluation) -> None:
    allowed = evaluate("prod", {"kafka": {"brokers": 5, "replicationFactor": 3},
                                "allowStatefulChange": {"kafka.members": "5", "kafka.voters": keys(
                                    evaluate("prod", {"kafka": {"brokers": 5}}))["kafka.voters"]}},
                       previous_outputs=previous(prod))
    assert keys(allowed)["kafka.members"] == "5", "the named change goes through"
