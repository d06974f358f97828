"""The environment's internal PKI on cert-manager: pure builders of its Issuers and Certificates.

Per environment, all in its own namespace:
1. `dreamscape-selfsigned`, a self-signed `Issuer`, signs exactly one certificate:
2. `dreamscape-ca`, the environment's root CA (`isCA`), kept in the Secret `dreamscape-ca`; its key is
   never rotated (`rotationPolicy: Never`), so a renewed CA still verifies every certificate it signed;
3. `dreamscape-ca`, a CA `Issuer` over that Secret, signs every server certificate of the environment;
4. one `Certificate` per `spec.ServerCertificate`, Secret `<name>-tls` (type `kubernetes.io/tls`, keys
   `tls.crt`, `tls.key`, `ca.crt`), for the service's names and their namespace-qualified forms.

Why a root per environment rather than one cluster-wide root: nothing here is cluster-scoped, so a review
stack needs nothing from the cluster's owner beyond cert-manager itself (installed with the operators), and a
review's CA cannot mint a certificate that prod, or another review, would trust. A `ClusterIssuer` would
also keep its CA Secret in cert-manager's namespace, which review stacks do not own.

Server keys are ECDSA P-256 in PKCS#8 (Kafka's PEM keystore reads only PKCS#8; Postgres and Redis read
both) and are rotated on every renewal (cert-manager's default since 1.18, said here on purpose).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.spec import ServerCertificate

API_VERSION = "cert-manager.io/v1"
ISSUER = "Issuer"
CERTIFICATE = "Certificate"
SELF_SIGNED = "dreamscape-selfsigned"
CA_NAME = "dreamscape-ca"
"""The CA's Certificate, its Secret and the CA Issuer share this name."""
CLUSTER_DOMAIN = "cluster.local"
SERVER_USAGES = ("digital signature", "key encipherment", "server auth", "client auth")
"""`client auth` too: a Redis replica or cluster node, and a Kafka broker, presents its server certificate
when it connects to a peer (`tls-replication`, `tls-cluster`, inter-broker SSL)."""

JsonDict = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class Validity:
    """Go durations, as validated by the config (`kubernetes.pki`)."""

    duration: str
    renew_before: str


def secret_name(certificate: ServerCertificate) -> str:
    return f"{certificate.name}-tls"


def qualified_names(names: tuple[str, ...], namespace: str) -> list[str]:
    """Each name as clients may write it: plain (the pod's search domain), `<name>.<ns>`, `<name>.<ns>.svc`
    and the fully qualified `<name>.<ns>.svc.cluster.local` (what a resolver outside the search path uses)."""
    return [qualified for name in names for qualified in
            (name, f"{name}.{namespace}", f"{name}.{namespace}.svc", f"{name}.{namespace}.svc.{CLUSTER_DOMAIN}")]


def self_signed_issuer_spec() -> JsonDict:
    return {"selfSigned": {}}


def ca_certificate_spec(environment: str, validity: Validity) -> JsonDict:
    return {
        "isCA": True,
        "commonName": f"dreamscape {environment} CA",
        "secretName": CA_NAME,
        "duration": validity.duration,
        "renewBefore": validity.renew_before,
        "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Never"},
        "usages": ["cert sign", "crl sign", "digital signature"],
        "issuerRef": {"group": "cert-manager.io", "kind": ISSUER, "name": SELF_SIGNED},
    }


def ca_issuer_spec() -> JsonDict:
    return {"ca": {"secretName": CA_NAME}}


def server_certificate_spec(certificate: ServerCertificate, namespace: str, validity: Validity,
                            secret_labels: Mapping[str, str] | None = None) -> JsonDict:
    names = qualified_names(certificate.dns_names, namespace)
    spec: JsonDict = {
        "secretName": secret_name(certificate),
        "commonName": certificate.dns_names[0],
        "dnsNames": names,
        "duration": validity.duration,
        "renewBefore": validity.renew_before,
        "privateKey": {"algorithm": "ECDSA", "size": 256, "encoding": "PKCS8", "rotationPolicy": "Always"},
        "usages": list(SERVER_USAGES),
        "issuerRef": {"group": "cert-manager.io", "kind": ISSUER, "name": CA_NAME},
    }
    if secret_labels:
        spec["secretTemplate"] = {"labels": dict(secret_labels)}
    return spec
