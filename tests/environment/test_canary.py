"""Canary releases on Kubernetes, under the mock runtime: what a canary adds, and that without one nothing changes."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, cast

import pytest

from components import spec
from components.budgets import Footprint
from components.monitoring.prometheus.config import KubernetesDiscovery, PrometheusConfigArgs, prometheus_config
from components.monitoring.scrape import ScrapeTarget
from components.spec import canary_name
from components.targets.labels import CANARY_TRACK, TRACK_LABEL
from tests.environment.test_operators import unknown_before_use
from tests.harness import Evaluation, Registered, evaluate, refuse
from tests.kube import CUSTOM_GROUPS, kube_objects, manifest, validate, validate_custom

WEIGHT = 25
CANARY_TAG = "cafe123"
CANARIED_POD = "core"
"""The pod with the sticky `api` route; prod's capacity leaves room for one canary at the autoscalers' maximum."""
ROUTE = "api"
CANARY_KINDS = ("TraefikService", "IngressRoute", "Certificate")


@pytest.fixture(scope="module")
def canary() -> Evaluation:
    return evaluate("prod", {"canary": {"images": {CANARIED_POD: CANARY_TAG}, "weight": WEIGHT}})


def objects(evaluation: Evaluation, kind: str) -> list[Registered]:
    return [r for r in kube_objects(evaluation) if r.inputs.get("kind") == kind]


def named(evaluation: Evaluation, kind: str, name: str) -> dict[str, Any]:
    found = [manifest(r) for r in objects(evaluation, kind) if r.inputs["metadata"]["name"] == name]
    assert len(found) == 1, f"exactly one {kind} {name} (found {len(found)})"
    return found[0]


def stable_name(evaluation: Evaluation) -> str:
    """The Kubernetes name of the canaried pod's stable Deployment (its TLS Ingress' backend)."""
    ingress = named(evaluation, "Ingress", f"{ROUTE}-redirect")
    name: str = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
    return name


def test_without_a_canary_prod_registers_no_canary_object_and_no_track_label(prod: Evaluation) -> None:
    assert not [r.name for r in kube_objects(prod) if r.inputs.get("kind") in CANARY_KINDS], (
        "no weighted service, IngressRoute or explicit Certificate without a canary")
    assert not [r.name for r in prod.resources if "canary" in r.name], "no canary resource without a canary"
    assert not [r.name for r in kube_objects(prod) if TRACK_LABEL in r.inputs["metadata"].get("labels", {})], (
        "stable objects carry no track label (their series are told from a canary's by its absence)")
    configs = [str(r.inputs.get("data")) for r in objects(prod, "ConfigMap")]
    assert any("relabel_configs" in text for text in configs), "prod's Prometheus config is among them"
    assert not [text for text in configs if "pod_label_track" in text], "Prometheus copies no track label"


def test_every_canary_object_validates_against_its_schema(canary: Evaluation) -> None:
    checked = 0
    for resource in kube_objects(canary):
        document = manifest(resource)
        if str(document["apiVersion"]).startswith(CUSTOM_GROUPS):
            if document["kind"] != "CustomResourceDefinition":
                validate_custom(document)
        else:
            validate(resource)
        checked += "canary" in resource.name or document["kind"] in CANARY_KINDS
    assert checked >= 7, f"the canary's Deployment, Service, policies and edge objects were validated ({checked})"


def test_the_weighted_service_splits_the_route_by_the_configured_weights(canary: Evaluation) -> None:
    stable = stable_name(canary)
    weighted = named(canary, "TraefikService", ROUTE)["spec"]["weighted"]
    weights = {arm["name"]: arm["weight"] for arm in weighted["services"]}
    assert weights == {stable: 100 - WEIGHT, canary_name(stable): WEIGHT}, (
        "the stable Service gets 100 - weight, the canary's Service the weight (what the preview shows)")
    services = {r.inputs["metadata"]["name"] for r in objects(canary, "Service")}
    assert set(weights) <= services, "both arms are Services the stack creates"
    assert weighted["sticky"]["cookie"]["name"], "a client stays on one release for its session"


def test_the_canary_deployment_is_the_stable_one_on_the_new_image_with_one_replica(canary: Evaluation) -> None:
    stable_name_ = stable_name(canary)
    stable = named(canary, "Deployment", stable_name_)
    deployment = named(canary, "Deployment", canary_name(stable_name_))
    template, stable_template = deployment["spec"]["template"], stable["spec"]["template"]
    assert deployment["spec"]["replicas"] == 1, "a canary is one replica, whatever the stable's autoscaler does"
    (container,) = template["spec"]["containers"]
    (stable_container,) = stable_template["spec"]["containers"]
    assert container["image"].endswith(f"/dreamscape-{CANARIED_POD}:{CANARY_TAG}"), container["image"]
    assert {**container, "image": stable_container["image"]} == stable_container, (
        "the canary runs the stable's container (env, files, probes, resources) on another image")
    labels = template["metadata"]["labels"]
    assert labels[TRACK_LABEL] == CANARY_TRACK, "canary pods say so, for Prometheus and for people"
    stable_selector = stable["spec"]["selector"]["matchLabels"]
    assert not all(labels.get(k) == v for k, v in stable_selector.items()), (
        "the stable Deployment, Service, budget and autoscaler never select the canary's pods")
    zone_labels = {k: v for k, v in stable_template["metadata"]["labels"].items() if k.startswith("dreamscape.io/")}
    assert zone_labels.items() <= labels.items(), "same zone labels: the zone policies give it the stable's reach"


def test_the_ingress_route_keeps_the_ingress_middlewares_with_a_certificate_of_its_own(
        prod: Evaluation, canary: Evaluation) -> None:
    ingress = named(prod, "Ingress", ROUTE)
    route = named(canary, "IngressRoute", ROUTE)["spec"]
    middlewares = ingress["metadata"]["annotations"]["traefik.ingress.kubernetes.io/router.middlewares"]
    namespace = ingress["metadata"]["namespace"]
    assert [f"{namespace}-{m['name']}@kubernetescrd" for m in route["routes"][0]["middlewares"]] == \
        middlewares.split(","), "the IngressRoute applies the Ingress's middlewares, in order"
    assert route["tls"]["secretName"] != ingress["spec"]["tls"][0]["secretName"], (
        "not the Secret of the ingress-shim's Certificate (a second Certificate on it would re-issue it)")
    certificate_object = named(canary, "Certificate", route["tls"]["secretName"])
    certificate = certificate_object["spec"]
    assert certificate["secretName"] == route["tls"]["secretName"], (
        "the Certificate fills the route's Secret and is named like it (cert-manager's certificate-name check)")
    assert certificate["issuerRef"]["name"] == ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
    assert certificate["dnsNames"] == [ingress["spec"]["rules"][0]["host"]]
    assert route["routes"][0]["services"] == [{"kind": "TraefikService", "name": ROUTE}]
    assert not [r for r in objects(canary, "Ingress") if r.inputs["metadata"]["name"] == ROUTE], (
        "the TLS Ingress gives way to the IngressRoute (two routers on one host would both match)")
    assert named(canary, "Ingress", f"{ROUTE}-redirect"), "the HTTP -> HTTPS redirect stays"


def test_traefik_reaches_the_canary_pods_and_the_canary_keeps_the_stable_policies(canary: Evaluation) -> None:
    stable = stable_name(canary)
    policies = {r.inputs["metadata"]["name"]: manifest(r)["spec"] for r in objects(canary, "NetworkPolicy")}
    edge = policies[f"edge-{canary_name(ROUTE)}"]
    assert edge["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == canary_name(stable)
    assert edge["ingress"] == policies[f"edge-{ROUTE}"]["ingress"], "Traefik is admitted as to the stable"
    mirrored = [name for name in policies if name.endswith(f"-{stable}") and not name.startswith("edge-")]
    assert mirrored, "the stable has its own policies (metrics, clients) to mirror"
    for name in mirrored:
        twin = policies[f"{name}-canary"]
        assert {**twin, "podSelector": policies[name]["podSelector"]} == policies[name], (
            f"{name}: the canary's copy differs only in whom it selects")


def test_prometheus_keeps_the_canary_series_under_the_pod_with_the_track_label() -> None:
    target = ScrapeTarget(host="core-pod", port_name="auth", port=3001, path="/metrics", pod="core",
                          service="auth", canary=True)
    document = prometheus_config(PrometheusConfigArgs(targets=(target,), environment="prod",
                                                      discovery=KubernetesDiscovery(namespace="dreamscape-prod")))
    (job,) = cast(list[dict[str, Any]], document["scrape_configs"])
    keep = job["relabel_configs"][0]["regex"]
    assert re.fullmatch(keep, "core-pod;auth") and re.fullmatch(keep, "core-pod-canary;auth"), keep
    assert not re.fullmatch(keep, "core-pod-canaryx;auth")
    track = [r for r in job["relabel_configs"] if r.get("target_label") == TRACK_LABEL]
    assert track and track[0]["source_labels"] == ["__meta_kubernetes_pod_label_track"]


def test_the_canary_stack_prometheus_copies_the_track_label(canary: Evaluation) -> None:
    configs = [str(r.inputs.get("data")) for r in objects(canary, "ConfigMap")]
    assert [text for text in configs if "pod_label_track" in text], "the scrape config keeps the canary's series"


def test_custom_resources_of_a_canary_are_known_before_use(canary: Evaluation) -> None:
    assert not unknown_before_use(canary.resources), "the Certificate waits for cert-manager's CRD"


def test_the_canary_replica_counts_in_the_capacity_budget() -> None:
    resources = spec.Resources(cpu_request="1", cpu_limit="2", memory_request="1Gi", memory_limit="2Gi")
    service = spec.Service(name="web", component="bigpods", zone=spec.Zone.BIGPODS, replicas=3,
                           container=spec.Container(image="registry.example/web:1", resources=resources))
    with_canary = replace(service, canary=spec.Canary(image="registry.example/web:2", weight=WEIGHT))
    assert Footprint.of(service).replicas == 3
    assert Footprint.of(with_canary).replicas == 4, "the canary's replica is requested like any other"
    assert Footprint.of(with_canary).at_maximum().replicas == 4


def test_big_pod_capacity_refuses_two_canaries_at_the_autoscalers_maximum() -> None:
    refusal = refuse("prod", {"canary": {"images": {"core": CANARY_TAG, "experience": CANARY_TAG}}})
    assert "capacity" in refusal.message and "core-pod" in refusal.message, refusal.message


def test_bad_canary_config_stops_before_anything_is_registered_naming_each_key() -> None:
    refusal = refuse("prod", {"canary": {"images": {"business": "v1", "core": "latest",
                                                    "experience": "sha256:abc"}, "weight": 101}})
    for words in ("canary.images", "business", "latest", "experience", "weight"):
        assert words in refusal.message, f"{words!r} is named: {refusal.message}"
    assert not refusal.registered, "nothing reached the engine"


def test_dev_has_no_canary() -> None:
    refusal = refuse("dev", {"canary": {"images": {"core": "v1"}}})
    assert "kubernetes" in refusal.message and "canary" in refusal.message, refusal.message

