"""The review cluster's owner installs the operators from the same table the program uses."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import yaml

from components.config.loader import profile_for
from components.targets.kubernetes import operators
from tests.kube import validate_custom
from tools import operators as tool


def test_the_tool_prints_every_vendored_crd_then_one_valid_helm_chart_per_operator() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert tool.main([]) == 0
    documents = list(yaml.safe_load_all(out.getvalue()))
    crds = [d for d in documents if d["kind"] == "CustomResourceDefinition"]
    charts = [d for d in documents if d["kind"] == "HelmChart"]
    assert [c["spec"] for c in crds] == [crd["spec"] for _, crd in operators.all_crds()], "the CRDs, unchanged"
    assert [c["metadata"]["name"] for c in charts] == [op.name for op in operators.OPERATORS]
    assert documents.index(charts[0]) > documents.index(crds[-1]), "CRDs first: kubectl applies in order"
    for chart in charts:
        validate_custom(chart)


def test_the_tool_prints_the_lets_encrypt_cluster_issuers_review_stacks_name() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert tool.main([]) == 0
    documents = list(yaml.safe_load_all(out.getvalue()))
    found = {d["metadata"]["name"]: d for d in documents if d["kind"] == "ClusterIssuer"}
    review_issuer = profile_for("review-pr-1")["kubernetes"]["edge"]["certResolver"]
    assert set(found) == {"letsencrypt", review_issuer}, "production and the staging issuer review stacks name"
    assert found[review_issuer]["spec"]["acme"]["server"].startswith("https://acme-staging-v02."), "staging"
    for issuer in found.values():
        validate_custom(issuer)
