"""The internal PKI: each Kubernetes environment runs its own CA on cert-manager, nothing cluster-wide,
and certificate lifetimes are refused at config time where cert-manager's webhook would refuse them."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from components.config import ConfigError, load
from components.config.rules import go_duration_seconds
from components.spec import ServerCertificate
from components.targets.kubernetes import pki
from tests.harness import Evaluation, Registered, config_bag
from tests.kube import manifest, validate_custom

VALIDITY = pki.Validity(duration="2160h", renew_before="720h")


def _cert_manager(evaluation: Evaluation, kind: str) -> list[Registered]:
    return [r for r in evaluation.resources
            if r.inputs.get("apiVersion") == pki.API_VERSION and r.inputs.get("kind") == kind]


@pytest.mark.parametrize("stack", ["prod", "review"])
def test_each_environment_runs_its_own_ca_in_its_own_namespace(stack: str, request: pytest.FixtureRequest) -> None:
    evaluation: Evaluation = request.getfixturevalue(stack)
    namespace = evaluation.named("kubernetes:core/v1:Namespace", "k8s-namespace").inputs["metadata"]["name"]
    issuers = {r.inputs["metadata"]["name"]: manifest(r) for r in _cert_manager(evaluation, pki.ISSUER)}
    assert set(issuers) == {pki.SELF_SIGNED, pki.CA_NAME}, "a self-signed Issuer and the CA Issuer, nothing else"
    for issuer in issuers.values():
        assert issuer["metadata"]["namespace"] == namespace, "namespaced: a review needs nothing cluster-wide"
        validate_custom(issuer)
    assert issuers[pki.CA_NAME]["spec"] == {"ca": {"secretName": pki.CA_NAME}}
    ca = next(manifest(r) for r in _cert_manager(evaluation, pki.CERTIFICATE)
              if r.inputs["metadata"]["name"] == pki.CA_NAME)
    validate_custom(ca)
    assert ca["spec"]["isCA"] is True and ca["spec"]["issuerRef"]["name"] == pki.SELF_SIGNED
    assert ca["spec"]["privateKey"]["rotationPolicy"] == "Never", (
        "the CA keeps its key across renewals, so certificates it signed before still verify")


def test_review_stacks_create_no_cluster_scoped_pki(review: Evaluation) -> None:
    kinds = {r.inputs.get("kind") for r in review.resources if r.inputs.get("apiVersion") == pki.API_VERSION}
    assert "ClusterIssuer" not in kinds, "the cluster owner's ClusterIssuers are Let's Encrypt's only"


def test_the_ca_waits_for_cert_manager_where_the_stack_installs_it(prod: Evaluation) -> None:
    self_signed = next(r for r in _cert_manager(prod, pki.ISSUER) if r.inputs["metadata"]["name"] == pki.SELF_SIGNED)
    assert any(urn.endswith("::k8s-operator-cert-manager") for urn in self_signed.options["dependencies"]), (
        "cert-manager's webhook must run before an Issuer is admitted")


def test_a_server_certificate_names_every_form_of_its_hosts_and_fits_the_crd() -> None:
    certificate = ServerCertificate(name="redis", dns_names=("redis", "redis-0.redis-peers"))
    spec = pki.server_certificate_spec(certificate, "dreamscape-prod", VALIDITY, {"cnpg.io/reload": ""})
    validate_custom({"apiVersion": pki.API_VERSION, "kind": pki.CERTIFICATE,
                     "metadata": {"name": "redis-tls"}, "spec": spec})
    assert spec["dnsNames"] == [
        "redis", "redis.dreamscape-prod", "redis.dreamscape-prod.svc", "redis.dreamscape-prod.svc.cluster.local",
        "redis-0.redis-peers", "redis-0.redis-peers.dreamscape-prod", "redis-0.redis-peers.dreamscape-prod.svc",
        "redis-0.redis-peers.dreamscape-prod.svc.cluster.local"], "verify-full matches the name the client dialled"
    assert spec["privateKey"]["encoding"] == "PKCS8", "Kafka's PEM keystore reads PKCS#8 keys only"
    assert spec["issuerRef"] == {"group": "cert-manager.io", "kind": "Issuer", "name": pki.CA_NAME}
    assert spec["secretTemplate"] == {"labels": {"cnpg.io/reload": ""}}


def test_the_crd_check_refuses_a_misspelt_certificate_field() -> None:
    spec = pki.server_certificate_spec(ServerCertificate(name="x", dns_names=("x",)), "ns", VALIDITY)
    with pytest.raises(jsonschema.ValidationError):
        validate_custom({"apiVersion": pki.API_VERSION, "kind": pki.CERTIFICATE, "metadata": {"name": "x"},
                         "spec": {**spec, "dnsName": ["x"]}})


def test_a_server_certificate_needs_a_name_to_verify() -> None:
    with pytest.raises(ValueError, match="at least one DNS name"):
        ServerCertificate(name="redis", dns_names=())


@pytest.mark.parametrize(("value", "seconds"), [("2160h", 2160 * 3600), ("1h30m", 5400), ("90m", 5400),
                                                 ("1.5h", 5400), ("300s", 300)])
def test_go_durations_read_as_cert_manager_reads_them(value: str, seconds: float) -> None:
    assert go_duration_seconds(value) == seconds


@pytest.mark.parametrize("value", ["90d", "1w", "", "h", "1h 30m", "-1h", "2160"])
def test_durations_go_cannot_parse_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="Go duration"):
        go_duration_seconds(value)


def _pki_message(stack: str, **pki_values: str) -> str:
    kubernetes: dict[str, Any] = json.loads(config_bag(stack)["dreamscape:kubernetes"])
    kubernetes["pki"] = {**kubernetes.get("pki", {}), **pki_values}
    with pytest.raises(ConfigError) as caught:
        load(stack, config_bag(stack, {"kubernetes": kubernetes}))
    return str(caught.value)


@pytest.mark.parametrize(("values", "key", "expected"), [
    ({"duration": "720h", "renewBefore": "720h"}, "kubernetes.pki", "renewBefore 720h is not shorter than duration"),
    ({"caDuration": "24h", "caRenewBefore": "48h"}, "kubernetes.pki",
     "caRenewBefore 48h is not shorter than caDuration"),
    ({"duration": "30m"}, "kubernetes.pki.duration", "below 1h"),
    ({"renewBefore": "1m"}, "kubernetes.pki.renewBefore", "below 5m"),
    ({"caDuration": "3650d"}, "kubernetes.pki.caDuration", "no days"),
])
def test_certificate_lifetimes_cert_manager_refuses_stop_the_stack(values: dict[str, str], key: str,
                                                                    expected: str) -> None:
    message = _pki_message("prod", **values)
    line = next((line for line in message.splitlines() if f"dreamscape:{key}:" in line), "")
    assert expected in line, f"one line names {key} and says why: {message}"


def test_both_renewal_windows_wrong_are_reported_together() -> None:
    message = _pki_message("review-42", renewBefore="2160h", caRenewBefore="87600h")
    assert "renewBefore 2160h" in message and "caRenewBefore 87600h" in message, message
