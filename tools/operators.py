"""Print the cluster-wide operators as manifests: `python -m tools.operators > operators.yaml`.

A stack with `kubernetes.installOperators` registers these itself (prod). A shared review cluster runs no
such stack, so its owner applies the same objects once, and again after each pinned version changes:

    python -m tools.operators > operators.yaml
    kubectl apply --server-side -f operators.yaml

The output is every vendored CRD, unchanged, then one k3s `HelmChart` per operator, all from
`components/targets/kubernetes/operators.py` (the only list of them), then the Let's Encrypt
ClusterIssuers (`letsencrypt`, and `letsencrypt-staging` that review stacks name) from
`components/targets/kubernetes/issuers.py`, with Pulumi.yaml's `kubernetes.edge` contact and server.

The internal PKI needs nothing more from the owner: each environment creates its own CA in its own
namespace with the cert-manager installed here (docs/pki.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import yaml

from components.config import EdgeConfig
from components.config.loader import project_defaults
from components.targets.kubernetes import issuers, operators


def manifests(entries: tuple[operators.Operator, ...] = operators.OPERATORS) -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = [crd for _, crd in operators.all_crds(entries)]
    documents += [{
        "apiVersion": operators.HELM_CHART_API,
        "kind": "HelmChart",
        "metadata": {"name": op.name, "namespace": operators.HELM_NAMESPACE,
                     "labels": {"app.kubernetes.io/part-of": "dreamscape"}},
        "spec": operators.helm_chart_spec(op),
    } for op in entries]
    edge = EdgeConfig.model_validate(project_defaults()["kubernetes"]["edge"])
    documents += [{
        "apiVersion": issuers.API_VERSION,
        "kind": issuers.KIND,
        "metadata": {"name": issuer.name, "labels": {"app.kubernetes.io/part-of": "dreamscape"}},
        "spec": issuers.cluster_issuer_spec(issuer, edge.acme_email),
    } for issuer in issuers.cluster_issuers(edge.acme_server)]
    return documents


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.operators", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    yaml.safe_dump_all(manifests(), sys.stdout, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
