"""Capacity budgets are checked from the config, before any resource exists, with a per-service breakdown."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from components.budgets import footprints
from components.config import ConfigError
from components.config.loader import load
from components.config.quantities import cpu_millicores, memory_bytes
from components.targets import facts_for
from tests.harness import Evaluation, config_bag, evaluate, refuse
from tests.kube import manifest, workloads


def refusal(stack: str, overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        evaluate(stack, overrides)
    return str(caught.value)


@pytest.mark.parametrize("stack", ["dev", "prod", "review-pr-7"])
def test_the_committed_configs_fit_their_budgets(stack: str) -> None:
    evaluation = evaluate(stack)
    assert evaluation.resources, f"{stack} deploys within its budget"


def test_dev_memory_limits_over_the_laptop_budget_stop_the_run_with_a_breakdown() -> None:
    big = {"cpu": "250m", "memory": "1Gi", "cpuLimit": "1", "memoryLimit": "6Gi"}
    message = refusal("dev", {"postgres": {"storage": "2Gi", "resources": big}})
    assert "does not fit the laptop budget" in message, message
    assert "total 11.4 GiB, budget 6.0 GiB (dreamscape:laptopBudget), over by 5.4 GiB" in message, message
    assert re.search(r"postgres +1 x 6Gi = 6.0 GiB", message) and "kafka" in message, f"per service:\n{message}"


def test_the_laptop_budget_is_configurable() -> None:
    message = refusal("dev", {"laptopBudget": "5Gi"})
    assert "budget 5.0 GiB (dreamscape:laptopBudget), over by 960.0 MiB" in message, message
    assert evaluate("dev", {"laptopBudget": "8Gi"}).resources, "a larger budget admits the same stack"


def test_prod_requests_times_replicas_over_capacity_stop_the_run_with_a_breakdown() -> None:
    message = refusal("prod", {"kafka": {"resources": {"memory": "32Gi", "memoryLimit": "32Gi"}}})
    assert "does not fit its capacity (dreamscape:capacity)" in message, message
    assert "memory requests total 161.0 GiB, capacity 120.0 GiB, over by 41.0 GiB" in message, message
    assert re.search(r"kafka +3 x \(500m CPU, 32Gi\) = 1.5 CPU, 96.0 GiB", message), f"per service:\n{message}"
    assert "CPU requests" not in message, "only the exceeded dimension is reported"


def test_prod_refuses_autoscaler_maximums_its_nodes_cannot_place_with_the_numbers() -> None:
    message = refusal("prod", {"pods": {"business": {"maxReplicas": 20}}})
    assert "cannot scale to its autoscalers' maximums within its capacity (dreamscape:capacity)" in message, message
    assert "CPU requests total 58.4 CPU, capacity 40 CPU, over by 18.4 CPU" in message, message
    assert re.search(r"business-pod +20 x \(2 CPU, 4Gi\) = 40 CPU, 80.0 GiB", message), f"per service:\n{message}"


def test_the_committed_prod_maximums_fit_the_declared_nodes(prod: Evaluation) -> None:
    # The operators prod installs and the Traefik replicas it sets count too (PlatformFacts.reserved), as the
    # budget check counts them.
    reserved = facts_for(load("prod", config_bag("prod")), "prod").reserved
    peak = [f.at_maximum() for f in footprints(prod.services, reserved)]
    cpu = sum(f.cpu_request for f in peak) / 1000
    memory = sum(f.memory_request for f in peak) / 2**30
    assert (round(cpu, 1), round(memory, 1)) == (38.4, 99.0), f"prod at maximum: {cpu} CPU, {memory} GiB"
    assert cpu <= 40 and memory <= 120, "every maximum fits the five declared nodes"


def traefik_requests(evaluation: Evaluation) -> tuple[int, int, int]:
    """(replicas, CPU millicores, memory bytes) per replica, as the `traefik` HelmChartConfig sets them."""
    config = next(r for r in evaluation.resources if r.inputs.get("kind") == "HelmChartConfig")
    values = yaml.safe_load(manifest(config)["spec"]["valuesContent"])
    requests = values["resources"]["requests"]
    return values["deployment"]["replicas"], cpu_millicores(requests["cpu"]), memory_bytes(requests["memory"])


@pytest.mark.parametrize("replicas", [2, 3])
def test_the_budget_counts_every_traefik_replica_prod_sets_with_the_requests_it_is_given(replicas: int) -> None:
    evaluation = evaluate("prod", {"kubernetes": {"edge": {"traefikReplicas": replicas}}})
    reserved = facts_for(load("prod", config_bag("prod", {"kubernetes": {"edge": {"traefikReplicas": replicas}}})),
                         "prod").reserved
    counted = [(r.replicas, cpu_millicores(r.resources.cpu_request), memory_bytes(r.resources.memory_request))
               for r in reserved if r.name == "traefik"]
    assert counted == [traefik_requests(evaluation)], \
        "the budget counts exactly the Traefik replicas and per-replica requests the HelmChartConfig sets"
    assert counted[0][0] == replicas, "kubernetes.edge.traefikReplicas is the one source of the replica count"


def test_a_stack_that_leaves_traefik_to_the_cluster_owner_budgets_none_of_it() -> None:
    reserved = facts_for(load("review-pr-7", config_bag("review-pr-7")), "review-pr-7").reserved
    assert not [r for r in reserved if r.name == "traefik"], "review stacks set no Traefik replicas"


def test_a_review_environment_must_fit_its_per_environment_budget() -> None:
    message = refusal("review-pr-7", {"postgres": {"resources": {"cpu": "2", "cpuLimit": "3"}}})
    assert "CPU requests total 2.9 CPU, capacity 2 CPU, over by 0.9 CPU" in message, message
    assert "postgres" in message and "redis" in message, f"per service:\n{message}"


def test_a_budget_refusal_registers_no_resource() -> None:
    assert refuse("dev", {"laptopBudget": "256Mi"}).registered == [], "checked before anything is registered"


def test_footprints_match_every_workload_prod_really_deploys(prod: Evaluation) -> None:
    # Guards the design: a component that deploys a service without a footprint source turns this red.
    declared = {f.name: (f.replicas, cpu_millicores(f.resources.cpu_request),
                         memory_bytes(f.resources.memory_request)) for f in footprints(prod.services)}
    # An autoscaled Deployment states no replicas: its autoscaler holds at least the minimum the budget counts.
    minimum = {manifest(h)["spec"]["scaleTargetRef"]["name"]: manifest(h)["spec"]["minReplicaCount"]
               for h in prod.of_type("kubernetes:keda.sh/v1alpha1:ScaledObject")}
    deployed = {}
    for workload in workloads(prod):
        if workload.inputs["kind"] not in ("Deployment", "StatefulSet", "DaemonSet"):
            continue
        body = manifest(workload)
        requests = body["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
        deployed[body["metadata"]["name"]] = (
            body["spec"].get("replicas", minimum.get(body["metadata"]["name"], 1)), cpu_millicores(requests["cpu"]),
            memory_bytes(requests["memory"]))
    # A database runs as a CloudNativePG Cluster: the operator creates its members from `instances`.
    for cluster in (r for r in prod.resources if r.inputs.get("kind") == "Cluster"):
        body = manifest(cluster)
        requests = body["spec"]["resources"]["requests"]
        deployed[body["metadata"]["name"]] = (body["spec"]["instances"], cpu_millicores(requests["cpu"]),
                                              memory_bytes(requests["memory"]))
    assert deployed == declared, "the budget counts exactly the services, replicas and requests deployed"
