"""The read-only `preview` identity, evaluated as Kubernetes RBAC would: it can read every object the
program manages (what `pulumi preview --refresh` reads), Secrets excepted, and it can write nothing.
And the registry pull credentials: an imagePullSecret on Kubernetes, registry auth on Docker."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.harness import Evaluation, evaluate, refuse, walk_plain
from tests.kube import kube_objects, manifest, pod_spec, workloads

PROD_NS = "dreamscape-prod"
AGENTS_NS = "dreamscape-prod-node-agents"
READ = ("get", "list", "watch")
WRITE = ("create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate", "approve")
TOKEN = "ghp_PULLTOKEN0123456789abcdef"
REGISTRY_AUTH = {"registryAuth": {"username": "dreamscape-bot", "password": TOKEN}}
REGISTRY_AUTH_IS_SECRET = ("dreamscape:registryAuth",)
"""Registry credentials are accepted only from secret config."""


def plural(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith("s") else "s")


def group_of(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


@dataclass(frozen=True)
class Rule:
    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    resource_names: tuple[str, ...]

    def allows(self, group: str, resource: str, verb: str, name: str | None) -> bool:
        """RBAC's own matching: wildcards, and resourceNames only ever narrow (they cannot match a list)."""
        return ((group in self.api_groups or "*" in self.api_groups)
                and (resource in self.resources or "*" in self.resources)
                and (verb in self.verbs or "*" in self.verbs)
                and (not self.resource_names or (name is not None and name in self.resource_names)))


@dataclass
class Permissions:
    """The effective rules of one ServiceAccount: namespaced Roles by namespace, and cluster-wide rules."""

    namespaced: dict[str, list[Rule]]
    cluster: list[Rule]

    def can(self, verb: str, group: str, resource: str, namespace: str | None, name: str | None = None) -> bool:
        rules = self.cluster + (self.namespaced.get(namespace, []) if namespace else [])
        return any(rule.allows(group, resource, verb, name) for rule in rules)

    def all_rules(self) -> Iterator[Rule]:
        yield from self.cluster
        for rules in self.namespaced.values():
            yield from rules


def rules_of(obj: dict[str, Any]) -> list[Rule]:
    return [Rule(tuple(r.get("apiGroups", [])), tuple(r.get("resources", [])), tuple(r.get("verbs", [])),
                 tuple(r.get("resourceNames", []))) for r in obj.get("rules", [])]


def permissions_of(evaluation: Evaluation, account: str, namespace: str) -> Permissions:
    objects = [manifest(r) for r in kube_objects(evaluation)]
    roles = {(o["metadata"].get("namespace"), o["metadata"]["name"]): o for o in objects
             if o["kind"] in ("Role", "ClusterRole")}
    subject = {"kind": "ServiceAccount", "name": account, "namespace": namespace}
    result = Permissions(namespaced={}, cluster=[])
    for binding in (o for o in objects if o["kind"] in ("RoleBinding", "ClusterRoleBinding")):
        if subject not in binding.get("subjects", []):
            continue
        ref = binding["roleRef"]
        bound_ns = binding["metadata"].get("namespace")
        role = roles[(bound_ns if ref["kind"] == "Role" else None, ref["name"])]
        if binding["kind"] == "ClusterRoleBinding":
            result.cluster += rules_of(role)
        else:
            result.namespaced.setdefault(bound_ns, []).extend(rules_of(role))
    return result


@pytest.fixture(scope="module")
def prod() -> Evaluation:
    return evaluate("prod")


@pytest.fixture(scope="module")
def preview(prod: Evaluation) -> Permissions:
    return permissions_of(prod, "preview", PROD_NS)


def test_the_preview_service_account_exists_without_a_mounted_token(prod: Evaluation) -> None:
    accounts = [manifest(r) for r in kube_objects(prod) if r.inputs["kind"] == "ServiceAccount"
                and r.inputs["metadata"]["name"] == "preview"]
    assert len(accounts) == 1 and accounts[0]["metadata"]["namespace"] == PROD_NS, accounts
    assert accounts[0]["automountServiceAccountToken"] is False, "its token is minted for CI, never mounted"


def test_the_preview_identity_can_read_every_object_the_program_manages_except_secrets(
    prod: Evaluation, preview: Permissions
) -> None:
    unreadable = []
    for obj in map(manifest, kube_objects(prod)):
        if obj["kind"] == "Secret":
            continue
        group, resource = group_of(obj["apiVersion"]), plural(obj["kind"])
        namespace, name = obj["metadata"].get("namespace"), obj["metadata"]["name"]
        if not preview.can("get", group, resource, namespace, name):
            unreadable.append(f"{obj['kind']} {namespace}/{name}")
        if namespace in (PROD_NS, AGENTS_NS) and not all(
            preview.can(verb, group, resource, namespace) for verb in ("list", "watch")
        ):
            unreadable.append(f"list/watch {obj['kind']} in {namespace}")
    assert not unreadable, f"a preview (with --refresh) reads these, the preview identity cannot: {unreadable}"


def test_the_preview_identity_can_write_nothing_anywhere(prod: Evaluation, preview: Permissions) -> None:
    kinds = {(group_of(o["apiVersion"]), plural(o["kind"])) for o in map(manifest, kube_objects(prod))}
    kinds |= {("", "pods"), ("", "pods/exec"), ("", "secrets"), ("*", "*")}
    for rule in preview.all_rules():
        assert set(rule.verbs) <= set(READ), f"only read verbs: {rule}"
        assert "*" not in rule.api_groups + rule.resources + rule.verbs, f"no wildcards: {rule}"
    for group, resource in sorted(kinds):
        for namespace in (PROD_NS, AGENTS_NS, "kube-system", "default", None):
            for verb in WRITE:
                assert not preview.can(verb, group, resource, namespace, "anything"), (
                    f"the preview identity must not {verb} {group}/{resource} in {namespace}"
                )


def test_the_preview_identity_cannot_read_secrets_or_other_namespaces(preview: Permissions) -> None:
    for namespace in (PROD_NS, AGENTS_NS, "kube-system"):
        for verb in READ:
            assert not preview.can(verb, "", "secrets", namespace, "postgres"), f"no {verb} on secrets in {namespace}"
    assert not preview.can("list", "apps", "deployments", "default"), "nothing outside the stack's namespaces"
    assert not preview.can("get", "", "namespaces", None, "kube-system"), "only its own namespaces, by name"
    assert not preview.can("list", "", "namespaces", None), "no cluster-wide listing"
    assert not preview.can("get", "helm.cattle.io", "helmchartconfigs", "kube-system", "other-chart"), (
        "in kube-system only the traefik HelmChartConfig the edge manages"
    )


def test_review_stacks_get_no_preview_identity_and_stay_inside_their_namespaces() -> None:
    review = evaluate("review-pr-7", {"review": {"pr": 7, "commit": "1a2b3c4d", "expiresAt": "2030-01-01T00:00:00Z"}})
    names = {r.inputs["metadata"]["name"] for r in kube_objects(review) if r.inputs["kind"] == "ServiceAccount"}
    assert "preview" not in names, "the review profile sets previewIdentity: false"


def test_without_registry_credentials_no_pod_references_a_pull_secret(prod: Evaluation) -> None:
    assert not [r for r in kube_objects(prod) if r.inputs.get("type") == "kubernetes.io/dockerconfigjson"]
    assert all("imagePullSecrets" not in pod_spec(w) for w in workloads(prod)), "public images need none"


@pytest.fixture(scope="module")
def prod_with_registry() -> Evaluation:
    return evaluate("prod", REGISTRY_AUTH, secret_keys=REGISTRY_AUTH_IS_SECRET)


def test_registry_credentials_become_a_secret_pull_secret_used_by_every_pod_of_the_environment(
    prod_with_registry: Evaluation,
) -> None:
    secrets = [r for r in kube_objects(prod_with_registry) if r.inputs.get("type") == "kubernetes.io/dockerconfigjson"]
    assert len(secrets) == 1, "one pull secret"
    secret = manifest(secrets[0])
    assert secret["metadata"] == {**secret["metadata"], "name": "registry-pull", "namespace": PROD_NS}
    config = json.loads(secret["stringData"][".dockerconfigjson"])
    entry = config["auths"]["ghcr.io"]
    assert entry["username"] == "dreamscape-bot" and entry["password"] == TOKEN, "credentials for the registry host"
    assert base64.b64decode(entry["auth"]).decode() == f"dreamscape-bot:{TOKEN}", "the docker `auth` field"
    for workload in workloads(prod_with_registry):
        namespace = workload.inputs["metadata"]["namespace"]
        expected = [{"name": "registry-pull"}] if namespace == PROD_NS else None
        assert pod_spec(workload).get("imagePullSecrets") == expected, (
            f"{workload.name} in {namespace}: pods of the environment pull with the secret, node agents do not"
        )


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_the_registry_token_never_travels_in_plain_text(stack: str) -> None:
    evaluation = evaluate(stack, REGISTRY_AUTH, secret_keys=REGISTRY_AUTH_IS_SECRET)
    leaks = [f"{r.type} {r.name}{path}" for r in evaluation.resources for path, value in walk_plain(r.wire)
             if isinstance(value, str) and TOKEN in value]
    assert not leaks, f"the registry token appears outside secret markers: {leaks}"


def test_on_docker_the_remote_images_pull_through_a_provider_with_registry_auth() -> None:
    dev = evaluate("dev", REGISTRY_AUTH, secret_keys=REGISTRY_AUTH_IS_SECRET)
    providers = [r for r in dev.resources if r.type == "pulumi:providers:docker" and "registryAuth" in r.inputs]
    assert len(providers) == 1, "one pull provider with the credentials"
    auth = providers[0].inputs["registryAuth"]
    auth = json.loads(auth) if isinstance(auth, str) else auth
    assert auth[0]["address"] == "ghcr.io" and auth[0]["username"] == "dreamscape-bot", auth
    images = dev.of_type("docker:index/remoteImage:RemoteImage")
    assert images and all("registry-provider" in str(r.options["provider"]) for r in images), (
        "every remote image pulls through it"
    )
    plain = evaluate("dev")
    assert not [r for r in plain.resources if r.type == "pulumi:providers:docker" and "registryAuth" in r.inputs], (
        "without credentials nothing changes"
    )


def test_registry_credentials_need_both_username_and_password() -> None:
    refusal = refuse("prod", {"registryAuth": {"username": "bot"}})
    assert "registryAuth username and password go together" in refusal.message, refusal.message
    assert refusal.registered == [], "nothing is registered"
