"""Cluster-wide operators: their CRDs are program data, every custom resource is known before it."""

from __future__ import annotations

import copy
from collections.abc import Iterable

import jsonschema
import pytest
import yaml

from components.targets.kubernetes import operators
from tests.harness import Evaluation, Registered
from tests.kube import custom_objects, k3s_kinds, known_crds, manifest, validate_custom

CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


def kind_of(resource: Registered) -> tuple[str, str]:
    return str(resource.inputs["apiVersion"]).split("/")[0], str(resource.inputs["kind"])


def depends_on(resource: Registered, other: Registered) -> bool:
    """The SDK's mock URNs qualify a type by its parent's type only; type and name identify the resource."""
    return any(urn.endswith(f"{other.type}::{other.name}") for urn in resource.options["dependencies"])


def unknown_before_use(resources: Iterable[Registered]) -> list[str]:
    """Custom resources whose kind neither k3s brings nor a CRD registered earlier that they depend on.

    pulumi-kubernetes knows a kind at preview only if the cluster has it already (k3s' own) or the
    program creates its CRD; the custom resource must also wait for that CRD on `up`."""
    seen: dict[tuple[str, str], Registered] = {}
    missing = []
    for resource in resources:
        if resource.type == CRD_TYPE:
            spec = resource.inputs["spec"]
            seen[(spec["group"], spec["names"]["kind"])] = resource
            continue
        if not resource.type.startswith("kubernetes:") or "apiVersion" not in resource.inputs:
            continue
        kind = kind_of(resource)
        if kind[0].endswith(".k8s.io") or "." not in kind[0] or kind in k3s_kinds():
            continue  # built in to Kubernetes, or brought by k3s
        crd = seen.get(kind)
        if crd is None or not depends_on(resource, crd):
            missing.append(f"{resource.inputs['kind']} {resource.name}")
    return missing


def test_every_custom_resource_kind_is_known_before_it_is_used(prod: Evaluation) -> None:
    used = {kind_of(r) for r in custom_objects(prod)} - k3s_kinds()
    assert used, "prod registers custom resources of operator kinds (the check below must have work to do)"
    assert not unknown_before_use(prod.resources), (
        "a custom resource whose CRD the program does not register (and depend on) before it fails "
        "`pulumi preview` on an empty cluster with 'no matches for kind'")


def test_the_check_fails_when_a_crd_is_missing_or_registered_later(prod: Evaluation) -> None:
    # Guards the test above: without this the check could pass by never looking.
    operator_objects = [r for r in prod.resources if r.type != CRD_TYPE and r.type.startswith("kubernetes:")
                        and "apiVersion" in r.inputs and kind_of(r) not in k3s_kinds()
                        and "." in kind_of(r)[0] and not kind_of(r)[0].endswith(".k8s.io")]
    assert operator_objects, "prod registers at least one custom resource of an operator kind"
    victim = operator_objects[0]
    without_crds = [r for r in prod.resources if r.type != CRD_TYPE]
    assert f"{victim.inputs['kind']} {victim.name}" in unknown_before_use(without_crds)
    crds = [r for r in prod.resources if r.type == CRD_TYPE]
    later = [r for r in prod.resources if r.type != CRD_TYPE] + crds
    assert unknown_before_use(later), "a CRD registered after its custom resource is refused too"
    independent = copy.copy(victim)
    independent.options = {**victim.options, "dependencies": []}
    assert unknown_before_use([*crds, independent]), "a custom resource that does not wait for its CRD is refused"


def test_every_custom_resource_validates_against_its_upstream_crd(prod: Evaluation, review: Evaluation) -> None:
    for evaluation in (prod, review):
        objects = custom_objects(evaluation)
        assert objects, f"{evaluation.stack} registers custom resources"
        for resource in objects:
            validate_custom(manifest(resource))


def test_the_custom_resource_validator_rejects_an_unknown_field_and_a_wrong_type(prod: Evaluation) -> None:
    chart = manifest(next(r for r in prod.resources if r.inputs.get("kind") == "HelmChart"))
    with pytest.raises(jsonschema.ValidationError):
        validate_custom({**chart, "spec": {**chart["spec"], "chartt": "typo"}})
    with pytest.raises(jsonschema.ValidationError):
        validate_custom({**chart, "spec": {**chart["spec"], "createNamespace": "yes"}})


def test_the_program_registers_the_vendored_crds_unchanged(prod: Evaluation) -> None:
    # The SDK renames snake_case keys it knows; a CRD schema is data and must reach the cluster verbatim.
    registered = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in prod.of_type(CRD_TYPE)}
    vendored = {crd["metadata"]["name"]: crd["spec"] for _, crd in operators.all_crds()}
    assert set(registered) == set(vendored), "prod registers exactly the vendored CRDs"
    for name, spec in vendored.items():
        assert registered[name] == spec, f"CRD {name} reaches the provider as vendored"


def test_crds_survive_a_destroy_and_are_protected_in_prod(prod: Evaluation) -> None:
    # Deleting a CRD deletes every object of its kind, and a CloudNativePG Cluster owns its volume claims.
    for crd in prod.of_type(CRD_TYPE):
        assert crd.options["retainOnDelete"], f"{crd.name} is retained when removed from the program"
        assert crd.options["protect"], f"{crd.name} is protected on prod"


def test_each_operator_is_one_pinned_helm_chart_with_its_own_crd_install_off(prod: Evaluation) -> None:
    charts = {r.inputs["metadata"]["name"]: r for r in prod.resources if r.inputs.get("kind") == "HelmChart"}
    assert set(charts) == {op.name for op in operators.OPERATORS}, "one HelmChart per operator entry"
    for op in operators.OPERATORS:
        chart = manifest(charts[op.name])
        assert chart["metadata"]["namespace"] == "kube-system", "k3s' helm-controller only watches kube-system"
        assert chart["spec"]["version"] == op.version and chart["spec"]["repo"].startswith("https://")
        values = yaml.safe_load(chart["spec"]["valuesContent"])
        assert False in _crd_switches(values) and True not in _crd_switches(values), (
            f"{op.name}: the chart's own CRD install is off (the program owns the CRDs)")


def _crd_switches(values: dict[str, object]) -> list[object]:
    crds = values.get("crds")
    return list(crds.values()) if isinstance(crds, dict) else []


def test_operators_install_after_the_operators_they_need(prod: Evaluation) -> None:
    names = [op.name for op in operators.OPERATORS]
    charts = {r.inputs["metadata"]["name"]: r for r in prod.resources if r.inputs.get("kind") == "HelmChart"}
    for index, op in enumerate(operators.OPERATORS):
        assert set(op.after) <= set(names[:index]), f"{op.name} is listed after what it needs"
        for before in op.after:
            assert depends_on(charts[op.name], charts[before]), f"{op.name} waits for {before}"


def test_keda_scaled_objects_are_a_known_kind() -> None:
    # Autoscaling renders KEDA ScaledObjects; their CRD must come with the operator entry.
    assert ("keda.sh", "ScaledObject") in operators.KEDA.kinds()
    assert ("keda.sh", "ScaledObject") in known_crds()


def test_review_stacks_install_no_cluster_wide_operator(review: Evaluation) -> None:
    assert not review.of_type(CRD_TYPE), "review stacks share a cluster: its owner installs the CRDs"
    assert not [r for r in review.resources if r.inputs.get("kind") == "HelmChart"], "and the operators"


def test_the_budget_counts_every_operator_pod_prod_installs_with_the_requests_it_is_given(prod: Evaluation) -> None:
    from components.config.quantities import cpu_millicores, memory_bytes
    from components.targets.kubernetes.facts import KubernetesFacts

    facts = KubernetesFacts(environment="prod", namespace="dreamscape-prod", storage_class="local-path",
                            dns_resolver="10.43.0.10", installs_operators=True)
    budgeted = sorted((cpu_millicores(r.resources.cpu_request), memory_bytes(r.resources.memory_request))
                      for r in facts.reserved)
    given = []
    for chart in (r for r in prod.resources if r.inputs.get("kind") == "HelmChart"):
        values = yaml.safe_load(manifest(chart)["spec"]["valuesContent"])
        op = next(o for o in operators.OPERATORS if o.name == chart.inputs["metadata"]["name"])
        for pod in op.pods:
            node = values
            for key in pod.values_path:
                node = node[key]
            given.append((cpu_millicores(node["requests"]["cpu"]), memory_bytes(node["requests"]["memory"])))
    assert budgeted == sorted(given), "the budget counts what each operator pod is told to request, no more, no less"
    assert not KubernetesFacts(environment="review-42", namespace="n", storage_class="local-path",
                               dns_resolver="10.43.0.10").reserved, "a stack that installs none reserves none"
