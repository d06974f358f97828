"""Backups are proven by restoring them: on Kubernetes with an off-site archive, a CronJob restores the latest
backup into a throwaway CloudNativePG cluster, checks it and deletes it, with exactly the rights it needs."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from components.monitoring.prometheus.rules import LAST_VERIFIED_RESTORE
from components.restore_check import check_sql
from components.targets.kubernetes.restore_verify import SCRIPT
from tests.harness import Evaluation, evaluate, refuse
from tests.kube import kube_objects, manifest, pod_spec, validate, validate_custom

JOB = "postgres-restore-verify"
THROWAWAY = "postgres-restore-check"
REVIEW = {"imageTag": "pr-42-abc1234", "review": {"pr": 42, "commit": "abc1234", "expiresAt": "2030-01-01T00:00:00Z"}}
OFFSITE = {"endpoint": "s3.example.net", "bucket": "dreamscape-wal", "region": "eu-central-1",
           "accessKeyId": "AKIDREVIEWEXAMPLE01", "secretAccessKey": "review-offsite-secret-key-0001"}


def named(evaluation: Evaluation, kind: str, name: str) -> list[dict[str, Any]]:
    return [manifest(r) for r in kube_objects(evaluation)
            if r.inputs["kind"] == kind and r.inputs["metadata"]["name"] == name]


def one(evaluation: Evaluation, kind: str, name: str) -> dict[str, Any]:
    found = named(evaluation, kind, name)
    assert len(found) == 1, f"exactly one {kind} {name}, found {len(found)}"
    return found[0]


def files(evaluation: Evaluation) -> dict[str, str]:
    data: dict[str, str] = one(evaluation, "ConfigMap", JOB)["data"]
    return data


def throwaway(evaluation: Evaluation) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(files(evaluation)["etc-restore-verify-cluster.yaml"])
    return document


def rules_of(evaluation: Evaluation) -> list[dict[str, Any]]:
    configs = named(evaluation, "ConfigMap", "prometheus-config")
    text = configs[0]["data"]["etc-prometheus-rules-dreamscape.rules.yml"]
    return [rule for group in yaml.safe_load(text)["groups"] for rule in group["rules"]]


def test_prod_restores_on_the_configured_schedule_once_at_a_time_and_never_retries(prod: Evaluation) -> None:
    cronjob = one(prod, "CronJob", JOB)
    spec = cronjob["spec"]
    assert spec["schedule"] == "0 5 * * 0", "backup.restoreVerify.schedule: Sundays 05:00, after the 02:00 backup"
    assert spec["concurrencyPolicy"] == "Forbid", "two runs would fight over the one throwaway cluster"
    assert spec["jobTemplate"]["metadata"]["labels"]["app.kubernetes.io/name"] == JOB, (
        "runs are found by label, as docs/operations.md does: kubectl get jobs -l app.kubernetes.io/name=...")
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0, "a failed restore is the finding: a retry would hide it"
    assert job["activeDeadlineSeconds"] == 120 * 60 + 600, "killed after the restore's timeout plus a margin"
    pod = pod_spec(next(r for r in prod.of_type("kubernetes:batch/v1:CronJob") if r.inputs["metadata"]["name"] == JOB))
    (container,) = pod["containers"]
    assert container["image"] == "registry.k8s.io/kubectl:v1.33.7", "kubectl of the cluster's minor, pinned"
    assert container["command"] == ["/bin/sh", "/etc/restore-verify/verify.sh"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["CLUSTER"] == THROWAWAY and env["DATABASE"] == "dreamscape"
    validate(next(r for r in prod.of_type("kubernetes:batch/v1:CronJob") if r.inputs["metadata"]["name"] == JOB))


def test_the_job_runs_the_script_and_the_check_query_the_program_ships(prod: Evaluation) -> None:
    data = files(prod)
    assert data["etc-restore-verify-verify.sh"] == SCRIPT.read_text(), "the tested script, byte for byte"
    assert data["etc-restore-verify-check.sql"] == check_sql(None) + "\n", "the tested check (any table) by default"
    table = evaluate("prod", {"backup": {"restoreVerify": {"checkTable": "public.users"}}})
    assert files(table)["etc-restore-verify-check.sql"] == check_sql("public.users") + "\n"


def test_the_throwaway_cluster_replays_the_live_archive_and_archives_nowhere(prod: Evaluation) -> None:
    document = throwaway(prod)
    validate_custom(document)
    assert document["metadata"]["name"] == THROWAWAY, "the fixed name the Role grants"
    spec = document["spec"]
    live = one(prod, "Cluster", "postgres")["spec"]
    assert "plugins" not in spec, "no WAL archiver: it can never write into the live cluster's archive"
    (source,) = spec["externalClusters"]
    assert source["plugin"]["parameters"] == live["plugins"][0]["parameters"], (
        "the same store and the live cluster's serverName: it restores what the live cluster archived")
    recovery = spec["bootstrap"]["recovery"]
    assert recovery["source"] == source["name"] and "recoveryTarget" not in recovery, "the latest backup and WAL"
    assert spec["instances"] == 1, "one member is enough to prove the restore"
    assert spec["postgresql"]["parameters"] == live["postgresql"]["parameters"], (
        "the live settings: recovery refuses lower max_connections and friends than the primary had")
    labels = spec["inheritedMetadata"]["labels"]
    assert "dreamscape.io/zone" not in labels, "no zone: no application reaches the throwaway members"
    assert labels["dreamscape.io/kube-api"] == "true", "its instance manager talks to the API server"
    assert not named(prod, "Cluster", THROWAWAY), "the program never registers it: the job creates and deletes it"


def test_the_role_allows_exactly_what_the_script_does(prod: Evaluation) -> None:
    role = one(prod, "Role", JOB)
    rules = {(tuple(r["apiGroups"]), tuple(r["resources"]), tuple(r.get("resourceNames", ())), tuple(r["verbs"]))
             for r in role["rules"]}
    assert rules == {
        (("postgresql.cnpg.io",), ("clusters",), (), ("create",)),
        (("postgresql.cnpg.io",), ("clusters",), (THROWAWAY,), ("get", "delete")),
        (("",), ("pods",), (f"{THROWAWAY}-1",), ("get",)),
        (("",), ("pods/exec",), (f"{THROWAWAY}-1",), ("get", "create")),
    }, ("create cannot carry a name in RBAC; every other verb names the throwaway cluster or its member (exec is "
        "`get` over WebSockets, `create` over SPDY and from Kubernetes 1.35)")
    binding = one(prod, "RoleBinding", JOB)
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": JOB, "namespace": "dreamscape-prod"}]
    assert one(prod, "ServiceAccount", JOB)["automountServiceAccountToken"] is False, "only the job's pod mounts it"
    pod = pod_spec(next(r for r in prod.of_type("kubernetes:batch/v1:CronJob") if r.inputs["metadata"]["name"] == JOB))
    assert pod["serviceAccountName"] == JOB and pod["automountServiceAccountToken"] is True


def test_the_job_reaches_only_the_api_server_and_the_throwaway_only_the_operator_and_store(prod: Evaluation) -> None:
    template = one(prod, "CronJob", JOB)["spec"]["jobTemplate"]["spec"]["template"]
    labels = template["metadata"]["labels"]
    assert labels["dreamscape.io/egress"] == "declared" and not any(k.startswith("dreamscape.io/reaches-")
                                                                    for k in labels), (
        "the declared egress profile with no zone declared: no peer egress, default-deny admits it to no service")
    assert labels["dreamscape.io/kube-api"] == "true", "the namespace's API egress policy lets it reach the API"
    operator = one(prod, "NetworkPolicy", f"{THROWAWAY}-from-operator")["spec"]
    assert operator["podSelector"] == {"matchLabels": {"cnpg.io/cluster": THROWAWAY}}
    egress = one(prod, "NetworkPolicy", f"{THROWAWAY}-archive-egress")["spec"]
    assert egress["egress"][0]["ports"] == [{"protocol": "TCP", "port": 443}], "only the store's port"


def test_prod_records_the_last_verified_restore_and_alerts_on_its_age(prod: Evaluation) -> None:
    rules = rules_of(prod)
    (record,) = [r for r in rules if r.get("record") == LAST_VERIFIED_RESTORE]
    assert record["expr"] == f'kube_cronjob_status_last_successful_time{{cronjob="{JOB}"}}'
    alerts = {r["alert"]: r for r in rules if "alert" in r}
    assert f"> {192 * 3600}" in alerts["RestoreVerificationTooOld"]["expr"], "backup.restoreVerify.maxAgeHours"
    assert "unless" in alerts["RestoreNeverVerified"]["expr"], "a job that never succeeded is its own alert"


def test_review_verifies_restores_only_when_it_archives(review: Evaluation) -> None:
    assert not named(review, "CronJob", JOB), "no store: nothing to restore"
    assert not [r for r in rules_of(review) if r.get("record") == LAST_VERIFIED_RESTORE], "and nothing to alert on"
    with_store = evaluate("review-42", {**REVIEW, "backup": {"enabled": False, "offsite": OFFSITE}},
                          secret_keys=["backup"])
    assert one(with_store, "CronJob", JOB)["spec"]["schedule"] == "0 5 * * 0"


def test_dev_has_no_restore_job(dev: Evaluation) -> None:
    assert not [r for r in dev.resources if r.type == "dreamscape:kubernetes:RestoreVerify"]


def test_turning_it_off_removes_the_job_and_its_alerts() -> None:
    off = evaluate("prod", {"backup": {"restoreVerify": {"enabled": False}}})
    assert not named(off, "CronJob", JOB) and not named(off, "Role", JOB)
    assert not [r for r in rules_of(off) if r.get("alert", "").startswith("Restore")]


@pytest.mark.parametrize(
    ("overrides", "key", "expected"),
    [
        ({"schedule": "0 5 * * 7"}, "backup.restoreVerify.schedule", "day of week"),
        ({"schedule": "0 0 5 * * 0"}, "backup.restoreVerify.schedule", "5-field"),
        ({"checkTable": "users; drop table users"}, "backup.restoreVerify.checkTable",
         "lowercase PostgreSQL identifier"),
        ({"checkTable": "a.b.c"}, "backup.restoreVerify.checkTable", "schema.table"),
        ({"maxAgeHours": 0}, "backup.restoreVerify.maxAgeHours", "greater than or equal to 1"),
        ({"image": "registry.k8s.io/kubectl:latest"}, "backup.restoreVerify.image", "latest"),
    ],
)
def test_bad_restore_verify_config_is_refused_by_key_before_anything_is_registered(
        overrides: dict[str, Any], key: str, expected: str) -> None:
    refusal = refuse("prod", {"backup": {"restoreVerify": overrides}})
    assert f"dreamscape:{key}" in refusal.message, f"names {key}:\n{refusal.message}"
    assert expected in refusal.message, f"says why ({expected!r}):\n{refusal.message}"
    assert refusal.registered == [], "refused before any resource"
