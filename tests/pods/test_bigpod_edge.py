"""The prod edge: Traefik Ingresses with TLS and middlewares, redirects, TLS 1.2, Let's Encrypt, and
Grafana never without TLS and auth. Custom resources are checked structurally (not in the schema)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests import kube
from tests.harness import Evaluation, evaluate

NS = "dreamscape-prod"
MIDDLEWARES = "traefik.ingress.kubernetes.io/router.middlewares"


def _objects(prod: Evaluation, kind: str) -> list[dict[str, Any]]:
    return [kube.manifest(r) for r in kube.kube_objects(prod) if r.inputs["kind"] == kind]


def _ingresses(prod: Evaluation) -> dict[str, dict[str, Any]]:
    return {i["metadata"]["name"]: i for i in _objects(prod, "Ingress")}


def _middlewares(ingress: dict[str, Any]) -> list[str]:
    return [ref.removesuffix("@kubernetescrd").removeprefix(f"{NS}-")
            for ref in ingress["metadata"]["annotations"][MIDDLEWARES].split(",")]


def test_every_builtin_kubernetes_object_validates_against_the_official_schema(prod: Evaluation) -> None:
    checked = 0
    for resource in kube.kube_objects(prod):
        if str(resource.inputs["apiVersion"]).startswith(kube.custom_groups()):
            continue  # custom resources: validated against their CRDs (tests/environment/test_operators.py)
        kube.validate(resource)
        checked += 1
    kinds = {r.inputs["kind"] for r in kube.kube_objects(prod)}
    assert {"Ingress", "Deployment", "PodDisruptionBudget"} <= kinds, "edge and pods are checked"
    assert checked > 20, "the whole environment is validated"


def test_the_web_app_api_and_grafana_have_https_ingresses(prod: Evaluation) -> None:
    hosts = {name: i["spec"]["rules"][0]["host"] for name, i in _ingresses(prod).items()}
    assert hosts["web"] == "app.dreamscape.example.com", "web app host"
    assert hosts["api"] == "api.dreamscape.example.com", "API host"
    assert hosts["grafana"] == "grafana.dreamscape.example.com", "Grafana host"
    backends = {name: i["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
                for name, i in _ingresses(prod).items()}
    assert backends["api"] == {"name": "core-pod", "port": {"number": 8080}}, "the API is the core pod NGINX"
    assert backends["web"] == {"name": "experience-pod", "port": {"number": 3000}}, "the web app"
    assert backends["grafana"] == {"name": "grafana", "port": {"number": 3000}}, "Grafana's Service"


def test_every_serving_ingress_host_has_tls_from_cert_manager_and_tls_12(prod: Evaluation) -> None:
    for name, ingress in _ingresses(prod).items():
        annotations = ingress["metadata"]["annotations"]
        hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
        if name.endswith("-redirect"):
            assert _middlewares(ingress) == ["redirect-https"], f"{name} only redirects to HTTPS"
            assert annotations["traefik.ingress.kubernetes.io/router.entrypoints"] == "web", name
            continue
        tls_hosts = {h for entry in ingress["spec"]["tls"] for h in entry["hosts"]}
        assert hosts <= tls_hosts, f"{name}: every host is covered by TLS"
        assert [entry["secretName"] for entry in ingress["spec"]["tls"]] == [f"{name}-tls"], (
            f"{name}: cert-manager keeps the certificate in a Secret Traefik reads")
        router = "traefik.ingress.kubernetes.io/router"
        assert annotations[f"{router}.entrypoints"] == "websecure", f"{name} is HTTPS"
        assert annotations["cert-manager.io/cluster-issuer"] == "letsencrypt", f"{name} gets Let's Encrypt"
        assert f"{router}.tls.certresolver" not in annotations, f"{name}: not from Traefik's ACME resolver"
        assert annotations[f"{router}.tls.options"] == f"{NS}-tls12@kubernetescrd", f"{name} is TLS 1.2+"


def test_every_host_redirects_plain_http_to_https(prod: Evaluation) -> None:
    ingresses = _ingresses(prod)
    for name in ("web", "api", "grafana"):
        redirect = ingresses[f"{name}-redirect"]
        assert redirect["spec"]["rules"][0]["host"] == ingresses[name]["spec"]["rules"][0]["host"], name
        assert "tls" not in redirect["spec"], f"{name}-redirect is the plain-HTTP side"


@pytest.mark.parametrize(("name", "expected"), [
    ("web", ["rate-limit", "security-headers", "compress"]),
    ("api", ["rate-limit", "security-headers", "compress"]),
    ("grafana", ["grafana-auth", "rate-limit", "security-headers", "compress"]),
])
def test_ingresses_carry_the_intended_middlewares(prod: Evaluation, name: str, expected: list[str]) -> None:
    assert _middlewares(_ingresses(prod)[name]) == expected, f"{name} middlewares in order"


def test_grafana_is_never_exposed_without_auth(prod: Evaluation) -> None:
    middlewares = {m["metadata"]["name"]: m["spec"] for m in _objects(prod, "Middleware")}
    auth = middlewares["grafana-auth"]["basicAuth"]
    assert auth["removeHeader"] is True, "Grafana does not see the edge credentials"
    secret = next(s for s in _objects(prod, "Secret") if s["metadata"]["name"] == auth["secret"])
    assert secret["type"] == "kubernetes.io/basic-auth", "Traefik reads a basic-auth Secret"
    wire = prod.named("kubernetes:core/v1:Secret", "edge-grafana-edge-auth").wire
    assert "4dabf18193072939515e22adb298388d" in str(wire["stringData"]), "the password is a Pulumi secret"


def test_traefik_middlewares_and_tls_option_are_well_formed(prod: Evaluation) -> None:
    for crd in _objects(prod, "Middleware") + _objects(prod, "TLSOption"):
        assert crd["apiVersion"] == "traefik.io/v1alpha1", f"{crd['metadata']['name']} uses Traefik v3's API"
        assert crd["metadata"]["namespace"] == NS, f"{crd['metadata']['name']} lives in the stack namespace"
    middlewares = {m["metadata"]["name"]: m["spec"] for m in _objects(prod, "Middleware")}
    assert middlewares["redirect-https"] == {"redirectScheme": {"scheme": "https", "permanent": True}}, "301"
    assert middlewares["security-headers"]["headers"]["stsSeconds"] >= 31536000, "HSTS for a year"
    assert middlewares["rate-limit"]["rateLimit"]["average"] > 0, "rate limited"
    assert "compress" in middlewares["compress"], "compression"
    (option,) = _objects(prod, "TLSOption")
    assert option["spec"]["minVersion"] == "VersionTLS12", "TLS 1.2 minimum"


def test_k3s_traefik_runs_stateless_replicas_spread_across_nodes_with_a_budget(prod: Evaluation) -> None:
    (config,) = _objects(prod, "HelmChartConfig")
    assert config["apiVersion"] == "helm.cattle.io/v1", "k3s helm-controller API"
    assert config["metadata"] == {**config["metadata"], "name": "traefik", "namespace": "kube-system"}, "name"
    values = yaml.safe_load(config["spec"]["valuesContent"])
    assert "certificatesResolvers" not in values, "no ACME resolver: certificates come from cert-manager"
    assert "persistence" not in values, "no ACME volume pinning Traefik to one node"
    assert values["deployment"]["replicas"] >= 2, "one lost node leaves the edge up"
    (term,) = values["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname", "replicas on different nodes"
    assert term["podAffinityTerm"]["labelSelector"] == {"matchLabels": {"app.kubernetes.io/name": "traefik"}}
    assert values["podDisruptionBudget"] == {"enabled": True, "maxUnavailable": 1}, "drains keep one serving"


def test_the_operator_stack_creates_lets_encrypt_cluster_issuers_solving_through_traefik(
        prod: Evaluation) -> None:
    issuers = {issuer["metadata"]["name"]: issuer for issuer in _objects(prod, "ClusterIssuer")}
    assert set(issuers) == {"letsencrypt", "letsencrypt-staging"}, "production and staging issuers"
    servers = {name: issuer["spec"]["acme"]["server"] for name, issuer in issuers.items()}
    assert servers == {"letsencrypt": "https://acme-v02.api.letsencrypt.org/directory",
                       "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory"}
    for issuer in issuers.values():
        assert issuer["spec"]["acme"]["solvers"] == [{"http01": {"ingress": {"ingressClassName": "traefik"}}}]
        assert "namespace" not in issuer["metadata"], "cluster-scoped"
        kube.validate_custom(issuer)  # also in test_operators; here so that dropping issuers cannot hide it


def test_review_stacks_leave_the_shared_traefik_alone() -> None:
    review = evaluate("review-pr-7")
    assert not review.of_type("kubernetes:helm.cattle.io/v1:HelmChartConfig"), "no cluster-wide Traefik edits"
    assert not _objects(review, "ClusterIssuer"), "the cluster owner's issuers"
    issuers = {name: ingress["metadata"]["annotations"].get("cert-manager.io/cluster-issuer")
               for name, ingress in _ingresses(review).items() if not name.endswith("-redirect")}
    assert issuers and set(issuers.values()) == {"letsencrypt-staging"}, f"staging on review: {issuers}"
    assert review.outputs["urls"].value["web"] == "https://app.pr-7.review.dreamscape.example.com", (
        "a review serves its own subdomain of the review domain")


def test_prod_urls_are_https(prod: Evaluation) -> None:
    urls = prod.outputs["urls"].value
    assert set(urls) == {"web", "api", "grafana", "realtime"}, f"every URL a person opens: {urls}"
    assert all(url.startswith(("https://", "wss://")) for url in urls.values()), f"prod is TLS only: {urls}"
    assert urls["realtime"] == "wss://ws.dreamscape.example.com", f"the WebSocket gateway's URL: {urls}"


def test_the_websocket_gateway_is_routed_on_prod_and_review_with_long_timeouts() -> None:
    hosts = {"prod": "ws.dreamscape.example.com", "review-pr-7": "ws.pr-7.review.dreamscape.example.com"}
    for stack, host in hosts.items():
        evaluation = evaluate(stack)
        ingress = _ingresses(evaluation)["realtime"]
        assert ingress["spec"]["rules"][0]["host"] == host, f"{stack}: the gateway has its own host"
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        assert backend == {"name": "experience-pod", "port": {"number": 4000}}, f"{stack}: to the gateway port"
        namespace = ingress["metadata"]["namespace"]
        middlewares = [ref.removesuffix("@kubernetescrd").removeprefix(f"{namespace}-")
                       for ref in ingress["metadata"]["annotations"][MIDDLEWARES].split(",")]
        assert "compress" not in middlewares, f"{stack}: an upgraded stream is not compressed: {middlewares}"
        assert "security-headers" in middlewares, f"{stack}: the upgrade answer still gets the headers"
        assert "realtime-redirect" in _ingresses(evaluation), f"{stack}: plain HTTP is redirected"
    prod = evaluate("prod")
    (config,) = _objects(prod, "HelmChartConfig")
    values = yaml.safe_load(config["spec"]["valuesContent"])
    timeouts = values["ports"]["websecure"]["transport"]["respondingTimeouts"]
    assert timeouts == {"readTimeout": "3600s", "writeTimeout": "3600s", "idleTimeout": "3600s"}, (
        f"Traefik's 60 s default read timeout would cut every WebSocket: {timeouts}")
