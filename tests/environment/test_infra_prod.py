"""Prod (k3s): what the Kubernetes provider would receive for the infra services."""

from __future__ import annotations

from typing import Any

from tests.harness import Evaluation
from tests.kube import manifest, pod_spec

STS = "kubernetes:apps/v1:StatefulSet"
SVC = "kubernetes:core/v1:Service"


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def statefulset(prod: Evaluation, name: str) -> dict[str, Any]:
    return manifest(prod.named(STS, name))


def test_stateful_infra_runs_with_the_seed_replica_counts(prod: Evaluation) -> None:
    replicas = {r.name: manifest(r)["spec"]["replicas"] for r in prod.of_type(STS)}
    infra = {name: replicas.get(name) for name in ("postgres", "redis", "kafka", "minio")}
    # PostgreSQL is a CloudNativePG Cluster, not a StatefulSet (tests/environment/test_postgres_cluster.py).
    assert infra == {"postgres": None, "redis": 3, "kafka": 3, "minio": 1}, replicas
    cluster = manifest(next(r for r in prod.resources if r.inputs.get("kind") == "Cluster"))
    assert cluster["spec"]["instances"] == 3, "the seed's replicated PostgreSQL: a primary and two standbys"


def test_selectors_match_pod_labels_and_services_select_the_right_pods(prod: Evaluation) -> None:
    for resource in prod.of_type(STS):
        spec = manifest(resource)["spec"]
        selector = spec["selector"]["matchLabels"]
        labels = spec["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), f"{resource.name}: selector must match its pod labels"
        services = [manifest(s) for s in prod.of_type(SVC) if manifest(s)["spec"]["selector"] == selector]
        names = {s["metadata"]["name"] for s in services}
        assert names == {resource.name, f"{resource.name}-peers"}, f"{resource.name}: service + headless peers"
        headless = next(s for s in services if s["metadata"]["name"].endswith("-peers"))
        assert headless["spec"]["clusterIP"] == "None", "peer discovery uses a headless service"
        assert spec["serviceName"] == f"{resource.name}-peers", "pods get stable DNS names through it"


def test_stateful_sets_keep_their_data_and_are_protected(prod: Evaluation) -> None:
    for resource in prod.of_type(STS):
        spec = manifest(resource)["spec"]
        claims = spec["volumeClaimTemplates"]
        assert claims and claims[0]["spec"]["storageClassName"] == "local-path", "k3s local-path storage"
        assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
        assert resource.options["protect"], f"{resource.name} is protected against deletion and replacement"


def test_postgres_gets_the_seed_tuning_and_its_password_from_a_secret(prod: Evaluation) -> None:
    cluster = manifest(next(r for r in prod.resources if r.inputs.get("kind") == "Cluster"))
    parameters = cluster["spec"]["postgresql"]["parameters"]
    for key, value in (("max_connections", "500"), ("shared_buffers", "2GB"), ("effective_cache_size", "6GB"),
                       ("work_mem", "10MB")):
        assert parameters[key] == value, f"postgres runs with {key}={value}"
    initdb = cluster["spec"]["bootstrap"]["initdb"]
    secret = manifest(next(r for r in prod.of_type("kubernetes:core/v1:Secret")
                           if r.inputs["metadata"]["name"] == initdb["secret"]["name"]))
    assert secret["type"] == "kubernetes.io/basic-auth", "CloudNativePG reads the owner's password from basic-auth"
    assert secret["stringData"]["username"] == initdb["owner"] == "dreamscape_app"


def test_redis_is_a_password_protected_three_master_cluster(prod: Evaluation) -> None:
    config = next(r for r in prod.of_type("kubernetes:core/v1:ConfigMap") if r.name == "redis-config")
    conf = next(iter(config.inputs["data"].values()))
    for line in ("cluster-enabled yes", "maxmemory 2gb", "maxmemory-policy allkeys-lru",
                 "include /run/secrets/dreamscape/redis-auth.conf"):
        assert line in conf.splitlines(), f"redis.conf has {line!r}"
    assert "requirepass" not in conf, "the password lives in the secret include, not the ConfigMap"
    job = manifest(prod.named("kubernetes:batch/v1:Job", "redis-cluster-bootstrap"))
    script = job["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    assert "--cluster create" in script and "--cluster-replicas 0" in script, "the bootstrap forms the cluster"
    for i in range(3):
        assert f"redis-{i}.redis-peers:6379" in script, f"member {i} joins by its stable name"


def test_kafka_runs_kraft_with_three_voters_and_the_seed_topic_settings(prod: Evaluation) -> None:
    container = statefulset(prod, "kafka")["spec"]["template"]["spec"]["containers"][0]
    env = env_of(container)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller", "KRaft, no ZooKeeper"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3, "three controller voters"
    assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3" and env["KAFKA_NUM_PARTITIONS"] == "6"
    assert env["KAFKA_LOG_RETENTION_HOURS"] == "168", "seven days of retention"
    assert "ZOOKEEPER" not in " ".join(env), "no ZooKeeper settings at all"
    topics = manifest(prod.named("kubernetes:batch/v1:Job", "kafka-topics"))
    script = topics["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    for topic in ("user.created", "payment.processed"):
        assert f"--topic {topic}" in script, f"topic {topic} is provisioned"


def test_minio_serves_api_and_console_and_provisions_the_asset_bucket(prod: Evaluation) -> None:
    ports = {p["name"]: p["port"] for p in manifest(prod.named(SVC, "minio-service"))["spec"]["ports"]}
    assert ports == {"minio-api": 9000, "minio-console": 9001}, ports
    job = manifest(prod.named("kubernetes:batch/v1:Job", "minio-buckets"))
    container = job["spec"]["template"]["spec"]["containers"][0]
    script = container["command"][-1]
    assert "mc mb --ignore-existing dreamscape/dreamscape-vr-assets" in script, f"the asset bucket is made: {script}"
    assert script.startswith("mkdir -p /tmp/.mc && cp /run/secrets/dreamscape/mc-config /tmp/.mc/config.json"), (
        f"mc reads its credentials from its config file: {script}")
    assert not [e for e in container.get("env", []) if e["name"].startswith("MC_HOST")], "no credentials in env"


def test_every_pod_is_hardened_for_the_restricted_profile(prod: Evaluation) -> None:
    for resource in prod.resources:
        if resource.type not in (STS, "kubernetes:batch/v1:Job"):
            continue
        pod = pod_spec(resource)
        assert pod["securityContext"]["runAsNonRoot"] is True, f"{resource.name} runs as non-root"
        needs_api = "serviceAccountName" in pod
        assert pod["automountServiceAccountToken"] is needs_api, (
            f"{resource.name} gets an API token only with its own RBAC-bound service account"
        )
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, f"{resource.name}: no privilege escalation"
            assert security["capabilities"] == {"drop": ["ALL"]}, f"{resource.name}: drops all capabilities"
            resources = container["resources"]
            assert {"cpu", "memory"} <= resources["requests"].keys() and {"cpu", "memory"} <= resources["limits"].keys()


def test_pod_disruption_budgets_cover_the_clustered_services(prod: Evaluation) -> None:
    budgets = {manifest(r)["metadata"]["name"]: manifest(r)["spec"] for r in
               prod.of_type("kubernetes:policy/v1:PodDisruptionBudget")}
    assert {"redis", "kafka"} <= budgets.keys(), budgets.keys()
    assert all(b["maxUnavailable"] == 1 for b in budgets.values()), "one member down at a time"
