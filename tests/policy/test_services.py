"""Rule 7: only the edge Service is exposed outside the cluster."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy.fakes import SERVICE, make_args, violations_of

EDGE_ONLY = "services-exposed-only-at-edge"


def service(
    name: str = "api",
    service_type: str | None = "ClusterIP",
    annotations: dict[str, str] | None = None,
    namespace: str = "dreamscape",
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"app.kubernetes.io/name": name},
        "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
    }
    if service_type is not None:
        spec["type"] = service_type
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "annotations": annotations or {}}
    return {"metadata": metadata, "spec": spec}


@pytest.mark.parametrize("service_type", [None, "ClusterIP"])
def test_cluster_internal_services_pass(service_type: str | None) -> None:
    args = make_args(SERVICE, service(service_type=service_type))
    assert violations_of(EDGE_ONLY, args) == [], f"type {service_type} stays inside the cluster"


def test_a_headless_peer_service_passes() -> None:
    props = service("postgres-peers")
    props["spec"]["clusterIP"] = "None"
    assert violations_of(EDGE_ONLY, make_args(SERVICE, props)) == [], "headless Services are internal"


@pytest.mark.parametrize("service_type", ["NodePort", "LoadBalancer"])
def test_an_exposed_non_edge_service_is_rejected(service_type: str) -> None:
    messages = violations_of(EDGE_ONLY, make_args(SERVICE, service(service_type=service_type)))
    assert len(messages) == 1, f"{service_type} on a non-edge Service is reported, got {messages}"
    assert service_type in messages[0], f"the message names the exposure: {messages[0]}"


def test_external_ips_on_a_non_edge_service_are_rejected() -> None:
    props = service()
    props["spec"]["externalIPs"] = ["203.0.113.10"]
    messages = violations_of(EDGE_ONLY, make_args(SERVICE, props))
    assert len(messages) == 1, f"externalIPs expose a ClusterIP Service too, got {messages}"


def test_the_annotated_edge_may_be_a_load_balancer() -> None:
    props = service("edge", "LoadBalancer", annotations={"dreamscape.io/edge": "true"})
    assert violations_of(EDGE_ONLY, make_args(SERVICE, props, name="edge")) == [], (
        'the dreamscape.io/edge: "true" annotation marks the allowed edge'
    )


def test_an_edge_annotation_other_than_true_does_not_count() -> None:
    props = service("api", "NodePort", annotations={"dreamscape.io/edge": "false"})
    assert len(violations_of(EDGE_ONLY, make_args(SERVICE, props))) == 1, "only the value true marks the edge"


def test_the_edge_allow_list_matches_by_name_or_namespace_and_name() -> None:
    props = service("gateway", "NodePort", namespace="ingress")
    by_name = make_args(SERVICE, props, name="gateway", config={"edgeServices": ["gateway"]})
    assert violations_of(EDGE_ONLY, by_name) == [], "a bare name allows the Service in any namespace"
    by_ns = make_args(SERVICE, props, name="gateway", config={"edgeServices": ["ingress/gateway"]})
    assert violations_of(EDGE_ONLY, by_ns) == [], "namespace/name allows exactly that Service"
    wrong_ns = make_args(SERVICE, props, name="gateway", config={"edgeServices": ["dreamscape/gateway"]})
    assert len(violations_of(EDGE_ONLY, wrong_ns)) == 1, "namespace/name does not match other namespaces"


def test_the_allow_list_falls_back_to_the_pulumi_name_when_metadata_name_is_auto() -> None:
    props = service("gateway", "LoadBalancer")
    del props["metadata"]["name"]
    args = make_args(SERVICE, props, name="gateway", config={"edgeServices": ["gateway"]})
    assert violations_of(EDGE_ONLY, args) == [], "auto-named Services are matched by their Pulumi name"
