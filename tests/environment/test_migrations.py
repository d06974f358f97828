"""Migrations run once per service with a database, before its pod starts or rolls, and gate the rollout;
seed data and test accounts are opt-in for dev and review and refused on prod."""

from __future__ import annotations

from typing import Any

import pytest

from components.targets.docker.platform import gate_verdict
from tests.conftest import REVIEW_OVERRIDES
from tests.harness import Evaluation, Registered, evaluate, refuse

JOB = "kubernetes:batch/v1:Job"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CONTAINER = "docker:index/container:Container"
MIGRATIONS = {"core": ["auth", "user"], "business": ["voyage", "payment"]}
"""The services with a database, by pod (components/pods/catalog.py)."""


def _depends_on(resource: Registered, name: str) -> bool:
    return any(urn.endswith(f"::{name}") for urn in resource.options["dependencies"])


def _command(resource: Registered) -> list[str]:
    if resource.type == JOB:
        return list(resource.inputs["spec"]["template"]["spec"]["containers"][0]["command"])
    return list(resource.inputs["entrypoints"])  # Docker: the command is the entrypoint


def test_kubernetes_runs_a_migration_job_per_service_with_a_database(prod: Evaluation) -> None:
    jobs = {r.name for r in prod.of_type(JOB) if "-migrate-" in r.name}
    expected = {f"{pod}-migrate-{service}" for pod, services in MIGRATIONS.items() for service in services}
    assert jobs == expected, f"one migration Job per service with a database, got {sorted(jobs)}"
    job = prod.named(JOB, "core-migrate-auth")
    container = job.inputs["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["/bin/sh", "-c", "npm run migrate"], "the application contract's command"
    assert container["workingDir"] == "/app/auth", "in the service's own directory"
    assert container["image"] == "ghcr.io/dreamscape/dreamscape-core:0.1.0", "the pod's own image (same release)"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["DATABASE_USER"] == "dreamscape_app" and "DATABASE_PASSWORD_FILE" in env, "the app role's link"
    assert job.inputs["spec"]["backoffLimit"] == 2, "a failing migration fails fast"


def test_the_deployment_update_waits_for_its_migrations_and_they_wait_for_the_database(prod: Evaluation) -> None:
    for pod, services in MIGRATIONS.items():
        deployment = prod.named(DEPLOYMENT, f"{pod}-pod")
        for service in services:
            job = prod.named(JOB, f"{pod}-migrate-{service}")
            assert _depends_on(deployment, job.name), f"{pod}-pod rolls only after {job.name} succeeded"
            assert _depends_on(job, "postgres-bootstrap"), f"{job.name} runs once the role and database exist"
    experience = prod.named(DEPLOYMENT, "experience-pod")
    assert not any("-migrate-" in urn for urn in experience.options["dependencies"]), "no database, no gate"


def test_docker_runs_each_migration_as_a_one_shot_container_before_the_pod(dev: Evaluation) -> None:
    for pod, services in MIGRATIONS.items():
        container = dev.named(CONTAINER, f"{pod}-pod")
        labels = {label["label"]: label["value"] for label in container.inputs["labels"]}
        for service in services:
            task = dev.named(CONTAINER, f"{pod}-migrate-{service}")
            assert task.inputs["attach"] is True and task.inputs["mustRun"] is False, "runs once, to completion"
            assert _depends_on(container, task.name), f"{pod}-pod starts after {task.name}"
            assert labels[f"dreamscape.io/after-{task.name}"] == "passed", "the pod records the passed gate"
            assert f"/app/{service}" in str(task.inputs.get("mounts", task.inputs.get("volumes"))), \
                "dev migrates the working copy (the service's source is mounted)"
    builds = [r.name for r in dev.resources if r.type.startswith("docker-build:") and r.type.endswith(":Image")]
    assert sorted(builds) == ["business-pod-build", "core-pod-build", "experience-pod-build"], \
        f"a migration shares its pod's build, under the pod's name: {builds}"


def test_a_failed_migration_on_docker_stops_the_rollout_with_a_clear_message() -> None:
    with pytest.raises(Exception, match=r"core-migrate-auth failed \(exit code 3\)") as caught:
        evaluate("dev", exit_codes={"core-migrate-auth": 3})
    message = str(caught.value)
    assert "were not started or updated" in message and "docker logs dreamscape-dev-core-migrate-auth" in message, \
        message


def test_the_gate_verdict_passes_only_a_clean_exit() -> None:
    assert gate_verdict("t", "c", 0) == "passed", "exit 0 passes"
    assert gate_verdict("t", "c", None) == "passed", "not run yet (preview): nothing to judge"
    with pytest.raises(Exception, match="t failed"):
        gate_verdict("t", "c", 1)


def test_seed_data_is_off_by_default_and_runs_after_the_migrations_when_enabled(dev: Evaluation) -> None:
    assert _command(dev.named(CONTAINER, "core-migrate-auth"))[-1] == "npm run migrate", "no seed by default"
    seeded = evaluate("dev", {"seedData": True})
    assert _command(seeded.named(CONTAINER, "core-migrate-auth"))[-1] == "npm run migrate && npm run seed", \
        "seeding follows the migrations"


def test_review_stacks_may_seed() -> None:
    review = evaluate("review-42", {**REVIEW_OVERRIDES, "seedData": True})
    assert _command(review.named(JOB, "core-migrate-auth"))[-1].endswith("npm run seed"), "review seeds"


@pytest.mark.parametrize(("stack", "overrides", "why"), [
    ("prod", {"seedData": True}, "is prod"),
    ("dev", {"seedData": True, "protectData": True}, "protects its data"),
])
def test_seed_data_is_refused_on_prod_and_on_protected_stacks(stack: str, overrides: dict[str, Any], why: str) -> None:
    refusal = refuse(stack, overrides)
    assert "dreamscape:seedData" in refusal.message and why in refusal.message, refusal.message
    assert not refusal.registered, "refused before anything is registered"
