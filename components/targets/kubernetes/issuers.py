"""cert-manager ClusterIssuers for Let's Encrypt: production, and staging for review stacks.

ClusterIssuers are cluster-wide, like the operators: the stack that installs operators
(`kubernetes.installOperators`, prod) creates both; review stacks only name the staging one
(`kubernetes.edge.certResolver: letsencrypt-staging`, profiles/review.yaml), and
`python -m tools.operators` prints both for a shared cluster's owner.

HTTP-01 through the `traefik` ingress class: cert-manager creates a temporary Ingress of that class for
`/.well-known/acme-challenge/`, which Traefik answers on `web` (port 80) on any of its replicas, and
forwards to a solver pod that cert-manager starts in the Certificate's (the environment's) namespace.
Default-deny covers that pod too, so the edge admits Traefik to it (`SOLVER_LABELS`, `SOLVER_PORT`).

Pure builders: nothing here imports the provider; `platform.py` registers the resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

API_VERSION = "cert-manager.io/v1"
KIND = "ClusterIssuer"
INGRESS_CLASS = "traefik"
SOLVER_LABELS = {"acme.cert-manager.io/http01-solver": "true"}
"""The label every HTTP-01 solver pod carries (cert-manager v1.21.1: `SolverIdentificationLabelKey` in
pkg/apis/acme/v1/types.go, set by `podLabels` in pkg/issuer/acme/http/pod.go)."""
SOLVER_PORT = 8089
"""The solver pod's listen port (cert-manager v1.21.1: `acmeSolverListenPort`, pkg/issuer/acme/http/http.go)."""
STAGING_SERVER = "https://acme-staging-v02.api.letsencrypt.org/directory"
"""Let's Encrypt's staging directory: untrusted certificates, far higher rate limits."""


@dataclass(frozen=True, kw_only=True)
class ClusterIssuer:
    name: str
    server: str

    @property
    def account_secret(self) -> str:
        """The Secret (in cert-manager's namespace) holding this issuer's ACME account key."""
        return f"{self.name}-account-key"


PRODUCTION = "letsencrypt"
STAGING = "letsencrypt-staging"


def cluster_issuers(production_server: str) -> tuple[ClusterIssuer, ...]:
    return (ClusterIssuer(name=PRODUCTION, server=production_server),
            ClusterIssuer(name=STAGING, server=STAGING_SERVER))


def cluster_issuer_spec(issuer: ClusterIssuer, email: str) -> dict[str, Any]:
    return {"acme": {
        "email": email,
        "server": issuer.server,
        "privateKeySecretRef": {"name": issuer.account_secret},
        "solvers": [{"http01": {"ingress": {"ingressClassName": INGRESS_CLASS}}}],
    }}
