"""Two-config tests: a change touches only what it names, and stateful data is never replaced by accident."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError
from tests.harness import Evaluation, evaluate, refuse

Key = tuple[str, str]


def by_key(evaluation: Evaluation) -> dict[Key, Any]:
    return {(r.type, r.name): r.inputs for r in evaluation.resources}


def changed(before: Evaluation, after: Evaluation) -> set[Key]:
    old, new = by_key(before), by_key(after)
    assert old.keys() == new.keys(), "the same resources exist before and after"
    return {key for key in old if old[key] != new[key]}


def test_a_postgres_image_patch_changes_only_postgres_resources(prod: Evaluation) -> None:
    after = evaluate("prod", {"postgres": {"image": "postgres:18.5-alpine"}})
    names = {name for _, name in changed(prod, after)}
    # The backup's pg_dump runs the server's image, so a dump always matches the server version; the
    # Cluster's operand image follows the same version (CloudNativePG rolls a minor update member by member),
    # and so does the restore check's throwaway cluster (its manifest, in the restore job's files).
    assert names == {"postgres-cluster", "postgres-bootstrap", "postgres-backup", "postgres-restore-verify-files"}, (
        f"only postgres, its job, the backup's pg_dump and the restore check's manifest change: {names}")


def test_kafka_resources_change_only_the_kafka_statefulset(prod: Evaluation) -> None:
    resources = {"cpu": "1", "memory": "2Gi", "cpuLimit": "2", "memoryLimit": "4Gi"}
    after = evaluate("prod", {"kafka": {"resources": resources}})
    assert changed(prod, after) == {("kubernetes:apps/v1:StatefulSet", "kafka")}, "only kafka changes"


def test_rotating_nothing_changes_no_secret_generator(prod: Evaluation) -> None:
    after = evaluate("prod", {"kafka": {"retentionHours": 24}})
    assert not {k for k in changed(prod, after) if k[0].startswith("random:")}, "secrets are stable"


def identity_of(evaluation: Evaluation) -> dict[str, Any]:
    """The identity's keys (the output also carries its format version)."""
    value: dict[str, Any] = evaluation.outputs["statefulIdentity"].value["keys"]
    return value


def exported(keys: dict[str, Any]) -> dict[str, Any]:
    return {"version": 2, "keys": keys}


def test_the_stateful_identity_is_exported(prod: Evaluation) -> None:
    identity = identity_of(prod)
    assert identity["postgres.data.size"] == "50Gi", "volume size"
    assert identity["postgres.data.mountPath"] == "/var/lib/postgresql", "mount path"
    assert identity["kafka.serviceName"] == "kafka-peers" and identity["postgres.imageMajor"] == "18"
    assert "kafka.clusterId" in identity, "the KRaft cluster id is part of the identity"


def test_an_unchanged_stateful_identity_passes(prod: Evaluation) -> None:
    assert evaluate("prod", previous_outputs={"statefulIdentity": exported(identity_of(prod))}).resources


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"postgres": {"storage": "100Gi"}}, "postgres.data.size"),
        ({"postgres": {"storage": "10Gi"}}, "postgres.data.size"),
        ({"postgres": {"image": "postgres:17.6-alpine"}}, "postgres.data.mountPath"),
        ({"redis": {"storage": "1Gi"}}, "redis.data.size"),
    ],
)
def test_a_change_that_would_replace_stateful_data_is_refused(prod: Evaluation, overrides: dict[str, Any],
                                                              key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        evaluate("prod", overrides, previous_outputs={"statefulIdentity": exported(identity_of(prod))})
    message = str(caught.value)
    assert key in message and "allowStatefulChange" in message, f"names change and override:\n{message}"


def test_a_changed_kafka_cluster_id_is_refused(prod: Evaluation) -> None:
    previous = {**identity_of(prod), "kafka.clusterId": "another-cluster"}
    with pytest.raises(ConfigError, match=r"kafka\.clusterId.*orphans every log"):
        evaluate("prod", previous_outputs={"statefulIdentity": exported(previous)})


def test_the_one_change_override_allows_exactly_that_value(prod: Evaluation) -> None:
    previous = {"statefulIdentity": exported(identity_of(prod))}
    override = {"postgres.data.size": "100Gi"}
    allowed = evaluate("prod", {"postgres": {"storage": "100Gi"}, "allowStatefulChange": override},
                       previous_outputs=previous)
    assert identity_of(allowed)["postgres.data.size"] == "100Gi", "the named change goes through"
    with pytest.raises(ConfigError):
        evaluate("prod", {"postgres": {"storage": "200Gi"}, "allowStatefulChange": override},
                 previous_outputs=previous)


def test_a_refused_change_registers_no_provider_resource(prod: Evaluation) -> None:
    # The provider depends on the guard, so nothing on the cluster is touched (pulumi-random may be).
    refusal = refuse("prod", {"postgres": {"storage": "10Gi"}},
                     previous_outputs={"statefulIdentity": exported(identity_of(prod))})
    kinds = {r.type for r in refusal.registered}
    assert not any(t.startswith("kubernetes:") for t in kinds), f"no Kubernetes resource registered: {kinds}"
