"""PostgreSQL on Kubernetes is a CloudNativePG Cluster with continuous off-site archiving; dev keeps one server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Evaluation, evaluate, refuse, walk_plain
from tests.kube import manifest, validate_custom

SECRET = "kubernetes:core/v1:Secret"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
REVIEW = {"imageTag": "pr-42-abc1234", "review": {"pr": 42, "commit": "abc1234", "expiresAt": "2030-01-01T00:00:00Z"}}
OFFSITE = {"endpoint": "s3.example.net", "bucket": "dreamscape-wal", "region": "eu-central-1",
           "accessKeyId": "AKIDREVIEWEXAMPLE01", "secretAccessKey": "review-offsite-secret-key-0001"}


def of_kind(evaluation: Evaluation, kind: str) -> list[dict[str, Any]]:
    return [manifest(r) for r in evaluation.resources if r.inputs.get("kind") == kind]


def one(evaluation: Evaluation, kind: str, name: str | None = None) -> dict[str, Any]:
    found = [m for m in of_kind(evaluation, kind) if name is None or m["metadata"]["name"] == name]
    assert len(found) == 1, f"exactly one {kind} {name or ''}: {[m['metadata']['name'] for m in found]}"
    return found[0]


def test_prod_runs_three_members_on_three_nodes_with_synchronous_commits(prod: Evaluation) -> None:
    spec = one(prod, "Cluster")["spec"]
    assert spec["instances"] == 3, "a primary and two standbys"
    assert spec["affinity"] == {"enablePodAntiAffinity": True, "podAntiAffinityType": "required",
                                "topologyKey": "kubernetes.io/hostname"}, "never two members on one node"
    assert spec["postgresql"]["synchronous"] == {"method": "any", "number": 1, "dataDurability": "required"}, (
        "a commit waits for one standby: losing the primary loses no committed transaction")
    assert spec["imageName"] == "ghcr.io/cloudnative-pg/postgresql:18.4-standard-trixie", (
        "CloudNativePG's operand image runs the version of postgres.image")
    assert spec["storage"] == {"size": "50Gi", "storageClass": "local-path"}


def test_prod_archives_wal_and_takes_base_backups_off_site_through_the_barman_cloud_plugin(prod: Evaluation) -> None:
    cluster = one(prod, "Cluster")["spec"]
    assert "backup" not in cluster, "never the deprecated in-tree barmanObjectStore (removed in 1.32)"
    (plugin,) = cluster["plugins"]
    assert plugin["name"] == "barman-cloud.cloudnative-pg.io" and plugin["isWALArchiver"] is True
    store = one(prod, "ObjectStore", plugin["parameters"]["barmanObjectName"])["spec"]
    assert store["configuration"]["destinationPath"] == "s3://dreamscape-prod-wal/prod/", "one prefix per stack"
    assert store["configuration"]["endpointURL"] == "https://s3.eu-central-1.amazonaws.com"
    assert store["retentionPolicy"] == "30d"
    scheduled = one(prod, "ScheduledBackup")["spec"]
    assert scheduled["schedule"] == "0 0 2 * * *", "02:00 as the seed asks, in CloudNativePG's six fields"
    assert scheduled["method"] == "plugin" and scheduled["pluginConfiguration"]["name"] == plugin["name"]


def test_off_site_credentials_stay_secret_end_to_end(prod: Evaluation) -> None:
    credentials = next(r for r in prod.of_type(SECRET)
                       if r.inputs["metadata"]["name"] == "postgres-archive-credentials")
    plain = {path for path, value in walk_plain(credentials.wire) if isinstance(value, str)
             and value in ("OFFSITEKEYIDPROD0001", "offsite-secret-access-key-of-prod-0001")}
    assert not plain, f"the access key reaches the provider only as a secret: {plain}"
    for resource in prod.resources:
        for path, value in walk_plain(resource.wire):
            assert value != "offsite-secret-access-key-of-prod-0001", f"{resource.name}.{path} carries the key"


def test_apps_get_a_read_write_and_a_read_only_host(prod: Evaluation, dev: Evaluation) -> None:
    assert prod.outputs["endpoints"].value["postgres"] == "postgres-rw:5432", "the primary, wherever it moves"
    assert prod.outputs["postgresReadOnlyUrl"].secret, "the read-only URL carries the password: secret"
    hosts = {s.name: s.container.env for s in prod.services if "DATABASE_HOST" in s.container.env}
    assert hosts, "the Big Pods that need PostgreSQL get its hosts"
    for env in hosts.values():
        assert (env["DATABASE_HOST"], env["DATABASE_READ_HOST"]) == ("postgres-rw", "postgres-ro")
    for service in dev.services:
        if "DATABASE_HOST" in service.container.env:
            assert service.container.env["DATABASE_READ_HOST"] == "postgres", "dev: one server answers both"


def test_the_members_talk_to_the_operator_the_api_server_and_the_store_through_default_deny(prod: Evaluation) -> None:
    policies = {manifest(r)["metadata"]["name"]: manifest(r)["spec"] for r in prod.of_type(POLICY)}
    operator = policies["postgres-from-operator"]
    assert operator["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "postgres"}}
    assert {p["port"] for p in operator["ingress"][0]["ports"]} == {8000, 5432}, "status and Postgres ports"
    egress = policies["postgres-archive-egress"]["egress"][0]
    assert egress["ports"] == [{"protocol": "TCP", "port": 443}], "only the store's port"
    assert "10.0.0.0/8" in egress["to"][0]["ipBlock"]["except"], "off the cluster: never a private range"
    labels = one(prod, "Cluster")["spec"]["inheritedMetadata"]["labels"]
    assert labels["dreamscape.io/zone"] == "database", "members are in the database zone (replication, apps)"
    assert labels["dreamscape.io/kube-api"] == "true", "the instance manager talks to the API server"
    clients = policies["clients-postgres"]
    assert clients["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "postgres"}}, "the members, not a Deployment"
    assert clients["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 5432}], "apps reach the client port only"
    metrics = policies["metrics-postgres"]
    assert metrics["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "postgres"}}, "every member's metrics"
    assert metrics["ingress"] == [{"from": [{"podSelector": {"matchLabels": {"dreamscape.io/scraper": "true"}}}],
                                   "ports": [{"protocol": "TCP", "port": 9187}]}], (
        "the scraper, and only it, reaches 9187, the port Prometheus scrapes on each member")


def test_dev_keeps_one_postgres_container_and_no_operator(dev: Evaluation) -> None:
    assert not of_kind(dev, "Cluster"), "dev has no Kubernetes"
    (postgres,) = [s for s in dev.services if s.name == "postgres"]
    assert postgres.replicas == 1, "Docker runs the one server the container describes"


def test_review_runs_one_member_and_archives_only_when_given_a_store(review: Evaluation) -> None:
    assert one(review, "Cluster")["spec"]["instances"] == 1, "a review needs no failover"
    assert not of_kind(review, "ObjectStore"), "no store configured: no archive"
    with_store = evaluate("review-42", {**REVIEW, "backup": {"enabled": False, "offsite": OFFSITE}},
                          secret_keys=["backup"])
    assert one(with_store, "ObjectStore")["spec"]["configuration"]["destinationPath"] == "s3://dreamscape-wal/review-42/"


def test_a_recovery_target_renders_a_restored_cluster_beside_the_running_one() -> None:
    target = "2026-01-15T10:30:00Z"
    restored = evaluate("prod", {"postgres": {"recovery": {"targetTime": target}}})
    running = one(restored, "Cluster", "postgres")
    pitr = one(restored, "Cluster", "postgres-pitr")
    recovery = pitr["spec"]["bootstrap"]["recovery"]
    assert recovery["recoveryTarget"] == {"targetTime": target}
    (source,) = pitr["spec"]["externalClusters"]
    assert source["name"] == recovery["source"]
    assert source["plugin"]["parameters"] == {"barmanObjectName": "postgres-archive", "serverName": "postgres"}
    assert "plugins" not in pitr["spec"], "the restored cluster never writes into the running cluster's archive"
    assert "initdb" in running["spec"]["bootstrap"], "the running cluster is untouched"
    validate_custom(pitr)


@pytest.mark.parametrize(
    ("overrides", "key", "expected"),
    [
        ({"postgres": {"instances": 2}}, "postgres.instances", "use an odd count"),
        ({"postgres": {"instances": 1, "synchronous": True}}, "postgres", "at least 3 instances"),
        ({"backup": {"offsite": {**OFFSITE, "endpoint": "http://s3.example.net"}}}, "backup.offsite.endpoint",
         "no scheme"),
        ({"postgres": {"recovery": {"targetTime": "2026-01-15 10:30"}}}, "postgres.recovery.targetTime",
         "RFC 3339"),
        ({"postgres": {"recovery": {"targetTime": "2026-01-15T10:30:00"}}}, "postgres.recovery.targetTime",
         "with a zone"),
        ({"postgres": {"recovery": {"targetTime": "2999-01-01T00:00:00Z"}}}, "postgres.recovery.targetTime",
         "in the future"),
        ({"backup": {"retention": "30x"}}, "backup.retention", "days, weeks, months"),
        ({"backup": {"retention": "0d"}}, "backup.retention", "days, weeks, months"),
    ],
)
def test_bad_database_config_is_refused_by_key_before_anything_is_registered(
        overrides: dict[str, Any], key: str, expected: str) -> None:
    refusal = refuse("prod", overrides)
    assert f"dreamscape:{key}" in refusal.message, f"names {key}:\n{refusal.message}"
    assert expected in refusal.message, f"says why ({expected!r}):\n{refusal.message}"
    assert refusal.registered == [], "refused before any resource"


def test_an_http_store_is_accepted_only_when_explicitly_allowed() -> None:
    # The endpoint is a host: every consumer speaks https to it unless `insecure` says otherwise.
    lab = {**OFFSITE, "endpoint": "minio.lab:9000", "insecure": True}
    evaluation = evaluate("review-42", {**REVIEW, "backup": {"enabled": False, "offsite": lab}}, secret_keys=["backup"])
    store = one(evaluation, "ObjectStore")["spec"]["configuration"]
    assert store["endpointURL"] == "http://minio.lab:9000", "plain http only when asked for"
    policy = next(manifest(r) for r in evaluation.of_type(POLICY)
                  if manifest(r)["metadata"]["name"] == "postgres-archive-egress")
    assert policy["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 9000}], "the store's own port"
    secure = evaluate("review-42", {**REVIEW, "backup": {"enabled": False, "offsite": OFFSITE}}, secret_keys=["backup"])
    assert one(secure, "ObjectStore")["spec"]["configuration"]["endpointURL"] == "https://s3.example.net"


def test_prod_without_an_off_site_store_is_refused_with_the_reason() -> None:
    refusal = refuse("prod", {"backup": {"enabled": True}}, stack_secrets=False)
    assert "dreamscape:backup.offsite" in refusal.message, refusal.message
    assert "one lost disk would take the database and its backups together" in refusal.message, refusal.message
    assert refusal.registered == []


def test_switching_a_stack_from_the_postgres_statefulset_names_the_import_path(prod: Evaluation) -> None:
    previous = dict(prod.outputs["statefulIdentity"].value)
    keys = {k: v for k, v in previous["keys"].items() if k != "postgres.operator"}
    keys["postgres.serviceName"] = "postgres-peers"  # what the StatefulSet's identity recorded
    refusal = refuse("prod", previous_outputs={"statefulIdentity": {**previous, "keys": keys}})
    assert "postgres.serviceName" in refusal.message and "bootstrap.initdb.import" in refusal.message, refusal.message
    assert "From the StatefulSet to CloudNativePG" in refusal.message, "it names the runbook section"
