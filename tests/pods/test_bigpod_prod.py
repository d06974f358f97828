"""The Big Pods on the prod stack (k3s): replicas, resources, autoscaling, disruption budgets, probes,
hardening, registry images, the cluster NGINX config and sticky sessions."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, load
from components.monitoring.common import PROMETHEUS, PROMETHEUS_PORT
from components.pods.catalog import CATALOG
from components.targets.kubernetes.pki import CA_NAME as CA_SECRET
from tests import kube
from tests.harness import Evaluation, config_bag, evaluate
from tests.monitoring.test_components import pod_jobs

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
PODS = {pod.hostname: pod for pod in CATALOG}
SEED = {"core-pod": 3, "business-pod": 5, "experience-pod": 4}


def _deployment(prod: Evaluation, name: str) -> dict[str, Any]:
    return kube.manifest(prod.named(DEPLOYMENT, name))


def _container(prod: Evaluation, name: str) -> dict[str, Any]:
    containers: list[dict[str, Any]] = _deployment(prod, name)["spec"]["template"]["spec"]["containers"]
    return containers[0]


def _named(prod: Evaluation, kind: str, name: str) -> dict[str, Any]:
    matches = [kube.manifest(r) for r in kube.kube_objects(prod)
               if r.inputs["kind"] == kind and r.inputs["metadata"]["name"] == name]
    assert len(matches) == 1, f"exactly one {kind} {name}"
    return matches[0]


SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"


def test_deployments_run_at_least_the_seeds_replicas_through_their_autoscaler(prod: Evaluation) -> None:
    for name, replicas in SEED.items():
        scaler = _named(prod, "ScaledObject", name)["spec"]
        assert scaler["minReplicaCount"] == replicas, f"{name} never runs fewer than the seed's {replicas} replicas"
        assert "replicas" not in _deployment(prod, name)["spec"], f"{name}'s count is its autoscaler's alone"


def test_requests_and_limits_come_from_the_catalog(prod: Evaluation) -> None:
    for name, pod in PODS.items():
        resources = _container(prod, name)["resources"]
        expected = {"requests": {"cpu": pod.resources.cpu_request, "memory": pod.resources.memory_request},
                    "limits": {"cpu": pod.resources.cpu_limit, "memory": pod.resources.memory_limit}}
        assert resources == expected, f"{name} has the seed's requests and limits"


def test_a_pods_config_section_overrides_replicas_resources_and_the_autoscaler_maximum() -> None:
    resources = {"cpu": "1", "memory": "1Gi", "cpuLimit": "2", "memoryLimit": "2Gi"}
    overrides = {"pods": {"business": {"replicas": 6, "maxReplicas": 9, "resources": resources}}}
    evaluation = evaluate("prod", overrides)
    deployment = kube.manifest(evaluation.named(DEPLOYMENT, "business-pod"))
    assert "replicas" not in deployment["spec"], "the autoscaler, not the Deployment, owns the replica count"
    limits = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits == {"cpu": "2", "memory": "2Gi"}, "resources are overridable"
    scaler = kube.manifest(evaluation.named(SCALED_OBJECT, "business-pod-scaler"))["spec"]
    assert (scaler["minReplicaCount"], scaler["maxReplicaCount"]) == (6, 9), "the autoscaler follows the override"


@pytest.mark.parametrize("pods", [{"nope": {"maxReplicas": 2}}, {"core": {"replicas": 4, "maxReplicas": 3}}])
def test_unknown_pods_and_a_maximum_below_the_replicas_are_config_errors(pods: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="dreamscape:pods"):
        load("prod", config_bag("prod", {"pods": pods}))


def test_each_pod_scales_on_the_signal_the_seed_names_and_keda_owns_the_hpa(prod: Evaluation) -> None:
    ns = "dreamscape-prod.svc.cluster.local"
    prometheus = f"http://{PROMETHEUS}.{ns}:{PROMETHEUS_PORT}"
    expected = {
        "core-pod": [{"type": "prometheus", "metadata": {
            "serverAddress": prometheus, "query": 'sum(dreamscape_active_sessions{pod="core"})', "threshold": "1000"}}],
        "business-pod": [
            {"type": "kafka", "metadata": {"bootstrapServers": f"kafka.{ns}:9092", "consumerGroup": "reference-ai",
                                           "topic": "voyage.booked", "lagThreshold": "100"}},
            {"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}},
        ],
        "experience-pod": [{"type": "prometheus", "metadata": {
            "serverAddress": prometheus, "threshold": "1000",
            "query": 'sum(rate(http_request_duration_seconds_count{pod="experience", '
                     'route!~"/health|/metrics"}[2m]))'}}],
    }
    for name, triggers in expected.items():
        spec = _named(prod, "ScaledObject", name)["spec"]
        assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}, name
        assert spec["maxReplicaCount"] > spec["minReplicaCount"] == SEED[name], f"{name} scales out from the seed's"
        assert spec["triggers"] == triggers, f"{name} scales on what seed 001 names"
    assert not prod.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler"), (
        "KEDA creates and owns each HPA: none of ours fights it")


def test_dev_and_review_do_not_autoscale(dev: Evaluation, review: Evaluation) -> None:
    assert not review.of_type(SCALED_OBJECT), "a review environment runs its one replica per pod, unscaled"
    assert not any(r.type.startswith("kubernetes:") for r in dev.resources), "dev has no scheduler to scale"
    assert all(s.replicas == 1 for s in dev.services if s.name in SEED), "dev runs one replica per pod"


def test_autoscaled_deployments_leave_the_replica_count_to_their_autoscaler(prod: Evaluation) -> None:
    for name in SEED:
        spec = _deployment(prod, name)["spec"]
        assert "replicas" not in spec, f"{name}: `pulumi up` must not reset what its autoscaler scaled out"
    scaled = {kube.manifest(r)["spec"]["scaleTargetRef"]["name"] for r in prod.of_type(SCALED_OBJECT)}
    for resource in prod.of_type(DEPLOYMENT):
        manifest = kube.manifest(resource)
        name = manifest["metadata"]["name"]
        if name not in scaled:
            assert "replicas" in manifest["spec"], f"{name} has no autoscaler, so it states its replicas"


def test_every_pod_has_a_disruption_budget_and_never_rolls_below_capacity(prod: Evaluation) -> None:
    for name in SEED:
        pdb = _named(prod, "PodDisruptionBudget", name)["spec"]
        assert pdb["maxUnavailable"] == 1, f"{name} loses at most one replica to a drain"
        strategy = _deployment(prod, name)["spec"]["strategy"]["rollingUpdate"]
        assert strategy["maxUnavailable"] == 0, f"{name} keeps full capacity during a rollout"
        spread = _deployment(prod, name)["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert spread[0]["topologyKey"] == "kubernetes.io/hostname", f"{name} spreads across nodes"


def test_probes_hit_the_real_health_endpoints(prod: Evaluation) -> None:
    for name, pod in PODS.items():
        container = _container(prod, name)
        main = pod.health
        http = container["startupProbe"]["httpGet"]
        assert (http["path"], http["port"]) == (main.path, main.port), f"{name} has started once {main.url} answers"
        for kind in ("readinessProbe", "livenessProbe"):
            checked = " ".join(container[kind]["exec"]["command"])
            for check in pod.health_checks:
                assert check.url in checked, f"{name} {kind} fails when {check.url} (one of its processes) fails"
    core = " ".join(_container(prod, "core-pod")["livenessProbe"]["exec"]["command"])
    assert "http://127.0.0.1:8080/health" in core, f"core lives with NGINX and every service: {core}"


def test_pods_run_as_uid_1000_on_a_read_only_root_with_only_tmp_writable(prod: Evaluation) -> None:
    for name in PODS:
        container = _container(prod, name)
        security = container["securityContext"]
        assert security["runAsUser"] == 1000 and security["runAsNonRoot"], f"{name} runs as UID 1000"
        assert security["readOnlyRootFilesystem"] is True, f"{name} has a read-only root filesystem"
        assert security["allowPrivilegeEscalation"] is False, f"{name} cannot escalate"
        volumes = {v["name"]: v for v in _deployment(prod, name)["spec"]["template"]["spec"]["volumes"]}
        writable = [m["mountPath"] for m in container["volumeMounts"] if "emptyDir" in volumes[m["name"]]]
        assert writable == ["/tmp"], f"{name} writes only to /tmp, got {writable}"


def test_prod_pulls_pinned_registry_images(prod: Evaluation) -> None:
    for name, pod in PODS.items():
        image = _container(prod, name)["image"]
        assert image == f"ghcr.io/dreamscape/dreamscape-{pod.name}:0.1.0", f"{name} pulls from the registry"
    assert not prod.of_type("docker:index/image:Image"), "nothing is built on a cluster stack"


def test_pods_get_only_the_secrets_their_services_need(prod: Evaluation) -> None:
    expected = {
        "core-pod": {"database-password", "redis-password", "jwt-access-secret", "jwt-refresh-secret"},
        "business-pod": {"database-password", "redis-password"},  # voyage caches in Redis
        "experience-pod": {"redis-password", "minio-access-key", "minio-secret-key"},
    }
    for name, keys in expected.items():
        volumes = _deployment(prod, name)["spec"]["template"]["spec"]["volumes"]
        items = {i["key"] for v in volumes if "secret" in v and v["secret"]["secretName"] != CA_SECRET
                 for i in v["secret"]["items"]}
        assert items == keys, f"{name} receives exactly {sorted(keys)}, got {sorted(items)}"
        # The environment's CA arrives from its own Secret: the public certificate only, never its key.
        trust = [i["key"] for v in volumes if v.get("secret", {}).get("secretName") == CA_SECRET
                 for i in v["secret"]["items"]]
        assert trust == ["ca.crt"], f"{name} gets the CA certificate alone, got {trust}"


def test_infra_endpoints_reach_the_pods_as_env_vars(prod: Evaluation) -> None:
    env = {e["name"]: e.get("value") for e in _container(prod, "business-pod")["env"]}
    # CloudNativePG's read-write Service follows the primary; reads that may lag go to the replicas.
    assert env["DATABASE_HOST"] == "postgres-rw" and env["DATABASE_PORT"] == "5432", "postgres-rw:5432"
    assert env["DATABASE_READ_HOST"] == "postgres-ro", "postgres-ro for reads"
    assert env["KAFKA_BROKERS"] == "kafka:9092", "kafka:9092"
    assert env["DATABASE_PASSWORD_FILE"] == "/run/secrets/dreamscape/database-password", "password as a file"
    experience = {e["name"]: e.get("value") for e in _container(prod, "experience-pod")["env"]}
    assert experience["MINIO_ENDPOINT"] == "https://minio:9000", "MinIO endpoint (https: prod has transit TLS)"
    assert experience["MINIO_CA_FILE"] == "/run/tls/ca/ca.crt", "with the CA that verifies it"
    assert experience["REDIS_HOST"] == "redis", "Redis host"
    labels = _deployment(prod, "experience-pod")["spec"]["template"]["metadata"]["labels"]
    reaches = {k for k in labels if k.startswith("dreamscape.io/reach")}
    assert reaches, f"the experience pod declares the zones it reaches: {labels}"


def test_the_core_pod_mounts_an_nginx_config_with_cluster_hostnames_and_k3s_dns(prod: Evaluation) -> None:
    config = _named(prod, "ConfigMap", "core-pod-config")["data"]["etc-nginx-nginx.conf"]
    assert "resolver 10.43.0.10" in config, "NGINX resolves through the k3s cluster DNS"
    assert "business-pod.dreamscape-prod.svc.cluster.local:3003" in config, "other pods by full hostname"
    mounts = {m["mountPath"] for m in _container(prod, "core-pod")["volumeMounts"]}
    assert "/etc/nginx" in mounts, "the rendered config replaces the baked one"


def test_the_core_pod_service_has_sticky_sessions_and_the_others_do_not(prod: Evaluation) -> None:
    sticky = "traefik.ingress.kubernetes.io/service.sticky.cookie"
    core = _named(prod, "Service", "core-pod")["metadata"]["annotations"]
    assert core[sticky] == "true" and core[f"{sticky}.secure"] == "true", "core sessions stick, secure cookie"
    for name in ("business-pod", "experience-pod"):
        annotations = _named(prod, "Service", name)["metadata"].get("annotations", {})
        assert sticky not in annotations, f"{name} balances freely"



def test_big_pods_are_kept_by_prometheus_pod_discovery_on_their_service_ports(prod: Evaluation) -> None:
    kept = {pair for job in pod_jobs(prod) for pair in job["relabel_configs"][0]["regex"].split("|")}
    for pod in CATALOG:
        for service in pod.services:
            pair = f"{pod.hostname};{service.name}".replace("-", "\\-")
            assert (pair in kept) == (service.metrics_path is not None), f"{pod.name}/{service.name}: {sorted(kept)}"
    assert "core\\-pod;nginx" not in kept, "NGINX itself is never a target (its exporter is)"
