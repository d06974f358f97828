"""`review-<id>` stacks, evaluated under mocks with no stack file: isolated, small, unprotected, annotated."""

from __future__ import annotations

import pytest

from components.config import ConfigError, load
from tests.harness import Evaluation, config_bag, evaluate
from tests.kube import kube_objects, manifest, workloads

REVIEW = {"pr": 42, "commit": "1a2b3c4d", "expiresAt": "2030-01-01T00:00:00Z"}


@pytest.fixture(scope="module")
def review() -> Evaluation:
    return evaluate("review-pr-42", {"review": REVIEW})


CLUSTER_SCOPED = ("Namespace", "ClusterRole", "ClusterRoleBinding")


def _cluster_scoped(evaluation: Evaluation) -> set[tuple[str, str]]:
    """(kind, name) of the review's cluster-scoped objects other than its namespaces."""
    return {(r.inputs["kind"], manifest(r)["metadata"]["name"]) for r in kube_objects(evaluation)
            if r.inputs["kind"] in CLUSTER_SCOPED[1:]}


def test_every_object_lives_in_the_review_namespace(review: Evaluation) -> None:
    namespaces = {manifest(r)["metadata"].get("namespace") for r in kube_objects(review)
                  if r.inputs["kind"] not in CLUSTER_SCOPED}
    # The log shipper needs node paths, so it runs in the review's own `-node-agents` namespace.
    own = {"dreamscape-review-pr-42", "dreamscape-review-pr-42-node-agents"}
    assert namespaces == own, f"isolated namespaces: {namespaces}"
    other = evaluate("review-pr-43")
    theirs = {manifest(r)["metadata"].get("namespace") for r in kube_objects(other)
              if r.inputs["kind"] not in CLUSTER_SCOPED}
    assert theirs == {"dreamscape-review-pr-43", "dreamscape-review-pr-43-node-agents"}, theirs
    assert not own & theirs, "two reviews never share a namespace"
    # Only Prometheus's read of the kubelets is cluster-wide, and each review holds its own, by namespace name.
    assert _cluster_scoped(review) == {("ClusterRole", "dreamscape-review-pr-42-prometheus"),
                                       ("ClusterRoleBinding", "dreamscape-review-pr-42-prometheus")}, (
        _cluster_scoped(review))
    assert not _cluster_scoped(review) & _cluster_scoped(other), "two reviews never share a cluster-scoped object"


def test_one_replica_per_service_and_single_node_redis_and_kafka(review: Evaluation) -> None:
    replicas = {manifest(w)["metadata"]["name"]: manifest(w)["spec"].get("replicas", 1)
                for w in workloads(review) if w.inputs["kind"] in ("Deployment", "StatefulSet")}
    assert set(replicas.values()) == {1}, f"one replica each: {replicas}"
    config = load("review-pr-42", config_bag("review-pr-42"))
    assert config.redis.mode == "standalone" and config.kafka.brokers == 1, "single-node Redis and Kafka"


def test_nothing_is_protected_and_the_provider_deletes_unreachable(review: Evaluation) -> None:
    protected = [r.name for r in review.resources if r.options["protect"]]
    assert not protected, f"review stacks must always destroy: {protected}"
    provider = review.named("pulumi:providers:kubernetes", "k8s-provider")
    assert provider.inputs["deleteUnreachable"] in (True, "true"), "destroy succeeds when the cluster is gone"


def test_review_metadata_is_stamped_on_the_namespace_and_workloads(review: Evaluation) -> None:
    namespace = manifest(review.named("kubernetes:core/v1:Namespace", "k8s-namespace"))
    annotations = namespace["metadata"]["annotations"]
    assert annotations["dreamscape.io/review-pr"] == "42", "PR recorded"
    assert annotations["dreamscape.io/review-commit"] == "1a2b3c4d", "commit recorded"
    assert annotations["dreamscape.io/expires-at"].startswith("2030-01-01T00:00:00"), "expiry recorded"
    for workload in workloads(review):
        assert manifest(workload)["metadata"]["annotations"]["dreamscape.io/review-pr"] == "42", workload.name


def test_review_sizing_fits_the_review_budget() -> None:
    with pytest.raises(ConfigError, match="does not fit its capacity"):
        evaluate("review-pr-42", {"capacity": {"cpu": "100m", "memory": "2Gi"}})


def test_dev_tools_are_refused_on_kubernetes() -> None:
    with pytest.raises(ConfigError, match=r"devTools \(pgadmin\) are for the docker target only"):
        load("prod", config_bag("prod", {"devTools": {"pgadmin": True}}))


def test_each_review_serves_its_own_hostnames_under_the_review_domain() -> None:
    hosts = {}
    for stack in ("review-pr-42", "review-pr-43"):
        evaluation = evaluate(stack)
        hosts[stack] = {rule["host"] for r in evaluation.of_type("kubernetes:networking.k8s.io/v1:Ingress")
                        for rule in r.inputs["spec"]["rules"]}
    assert "app.pr-42.review.dreamscape.example.com" in hosts["review-pr-42"], hosts["review-pr-42"]
    assert not hosts["review-pr-42"] & hosts["review-pr-43"], "two reviews never share a hostname"
    assert evaluate("review-pr-42").outputs["urls"].value["web"] == "https://app.pr-42.review.dreamscape.example.com"
