"""Rotation, proved by a two-config diff: bumping one secret's generation changes exactly its generator,
the Secrets that hold it, and the pod templates of the services that consume it (which therefore roll)."""

from __future__ import annotations

from typing import Any

import pytest

from components.pods.catalog import CATALOG
from components.pods.model import Infra
from components.rotation import ANNOTATION, generations
from components.secret_catalog import SECRET_KINDS
from tests.harness import Evaluation, evaluate

RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
WORKLOADS = {f"kubernetes:apps/v1:{kind}" for kind in ("Deployment", "StatefulSet", "DaemonSet")}
JOBS = {"kubernetes:batch/v1:Job", "kubernetes:batch/v1:CronJob"}
SECRET = "kubernetes:core/v1:Secret"
NOT_IN_ANY_POD_ON_PROD = {"edgeAuth", "pgadmin"}
"""The edge's basic-auth password lives in an edge middleware Secret; pgAdmin is a dev tool."""


def _by_key(evaluation: Evaluation) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r.type, r.name): r.inputs for r in evaluation.resources}


def _without_template(inputs: dict[str, Any]) -> dict[str, Any]:
    spec = {k: v for k, v in inputs.get("spec", {}).items()
            if k not in ("template", "jobTemplate")}
    return {**inputs, "spec": spec}


def _template_annotations(inputs: dict[str, Any]) -> dict[str, str]:
    spec = inputs["spec"]
    template = spec["jobTemplate"]["spec"]["template"] if "jobTemplate" in spec else spec["template"]
    annotations: dict[str, str] = template.get("metadata", {}).get("annotations", {})
    return annotations


@pytest.fixture(scope="module")
def baseline() -> Evaluation:
    return evaluate("prod")


@pytest.mark.parametrize("kind", [k.name for k in SECRET_KINDS])
def test_rotating_a_secret_changes_exactly_its_generator_secrets_and_consumers(baseline: Evaluation,
                                                                               kind: str) -> None:
    rotated = evaluate("prod", {"secretRotation": {kind: 1}})
    before, after = _by_key(baseline), _by_key(rotated)
    assert before.keys() == after.keys(), f"rotating {kind} adds or removes no resource"
    changed = {key for key in before if before[key] != after[key]}
    new_value = rotated.named(RANDOM_PASSWORD, f"secrets-{kind}").inputs
    assert (RANDOM_PASSWORD, f"secrets-{kind}") in changed, f"{kind}'s generator is replaced"
    assert new_value["keepers"] == {"generation": "1"}, f"{kind}'s generator keeps the new generation"
    rolled = set()
    for type_, name in changed - {(RANDOM_PASSWORD, f"secrets-{kind}")}:
        old, new = before[(type_, name)], after[(type_, name)]
        if type_ == SECRET:
            continue  # the Secret that holds the value: it must change
        assert type_ in WORKLOADS | JOBS, f"rotating {kind} changed {type_} {name}, which holds no secret"
        assert _without_template(old) == _without_template(new), f"{name}: only its pod template changes"
        rolled.add(name)
        if type_ in WORKLOADS:
            annotation = _template_annotations(new).get(ANNOTATION, "")
            assert f"{kind}=1" in annotation.split(","), f"{name} rolls because it consumes {kind}: {annotation}"
    consumers = {r.name for r in rotated.resources if r.type in WORKLOADS
                 and f"{kind}=1" in _template_annotations(r.inputs).get(ANNOTATION, "").split(",")}
    assert consumers <= rolled, f"every consumer of {kind} rolls: {sorted(consumers - rolled)} did not"
    secrets_changed = {name for type_, name in changed if type_ == SECRET}
    if kind not in NOT_IN_ANY_POD_ON_PROD:
        assert rolled, f"{kind} has consumers (services or tasks) that must roll"
        assert secrets_changed, f"the Secret(s) holding {kind} carry its new value"


def test_every_pod_that_reads_a_generated_secret_declares_its_generation(baseline: Evaluation) -> None:
    redis = next(r for r in baseline.resources if r.type == "kubernetes:apps/v1:StatefulSet" and r.name == "redis")
    annotation = _template_annotations(redis.inputs)[ANNOTATION]
    assert annotation == "redis=0", f"the server consumes its password: {annotation}"


def test_postgres_passwords_reach_cloudnative_pg_as_the_secrets_it_watches(baseline: Evaluation) -> None:
    # CloudNativePG's members are the operator's pods: it records each Secret's resourceVersion and applies
    # a changed password itself, so a rotation changes the Secrets, not the Cluster.
    cluster = next(r for r in baseline.resources if r.inputs.get("kind") == "Cluster")
    spec = cluster.inputs["spec"]
    names = {spec["bootstrap"]["initdb"]["secret"]["name"], spec["superuserSecret"]["name"]}
    secrets = [r for r in baseline.of_type(SECRET) if r.inputs["metadata"]["name"] in names]
    assert len(secrets) == 2, f"both Secrets the Cluster names are registered: {names}"
    assert all(r.inputs["stringData"]["password"] in baseline.generated_secrets for r in secrets), (
        "each holds a generated password")


def test_consumption_is_read_from_the_material_not_from_a_list() -> None:
    values = {"redis": "A1b2C3d4", "minioRoot": "Z9y8X7w6", "empty": ""}
    found = generations(values, ["redis://:A1b2C3d4@redis:6379"], {"redis": 3})
    assert found == "redis=3", f"a secret inside a URL is consumed, others and empty values are not: {found}"


def test_on_docker_rotation_replaces_every_consumer_container_through_its_label() -> None:
    container = "docker:index/container:Container"

    def labels(evaluation: Evaluation) -> dict[str, str]:
        return {r.name: next((label["value"] for label in r.inputs.get("labels", []) if label["label"] == ANNOTATION),
                             "") for r in evaluation.of_type(container)}

    before, after = labels(evaluate("dev")), labels(evaluate("dev", {"secretRotation": {"redis": 1}}))
    consumers = {name for name, value in after.items() if "redis=1" in value.split(",")}
    # The Big Pods that need Redis, read from the catalog (voyage's cache made the business pod one).
    clients = {pod.hostname for pod in CATALOG if Infra.REDIS in pod.needs}
    expected = {"redis-0", "redis-exporter", *clients}
    assert clients >= {"core-pod", "experience-pod"}, f"sessions and the WebSocket gateway use Redis: {clients}"
    assert consumers == expected, f"the Redis server, its exporter and its client pods: {sorted(consumers)}"
    changed = {name for name in before if before[name] != after[name]}
    assert changed == consumers, f"exactly the consumers' labels change (a new label replaces a container): {changed}"
