"""Every workload the prod and review stacks run on k3s is hardened; exceptions are in docs/security.md."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.harness import ROOT, Evaluation, Registered
from tests.kube import manifest, pod_spec, workloads

WRITABLE_ROOT_ALLOWED = {
    "kafka": "the apache/kafka start script writes server.properties into /opt/kafka/config",
    "kafka-topics": "kafka-run-class.sh creates its LOG_DIR (/opt/kafka/logs) inside the image; not yet "
                    "verified read-only against the real image",
}
"""Workloads allowed a writable root filesystem, with the reason (docs/security.md repeats it)."""

PINNED = re.compile(r"^[^@\s]+(:(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$")


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


@pytest.fixture(scope="module", params=["prod", "review"])
def kube_workloads(request: pytest.FixtureRequest, prod: Evaluation, review: Evaluation) -> list[Registered]:
    found = workloads(prod if request.param == "prod" else review)
    assert len(found) >= 7, "the evaluation must record the infrastructure workloads"
    return found


def test_every_container_runs_as_a_fixed_non_root_user(kube_workloads: list[Registered]) -> None:
    for workload in kube_workloads:
        pod = pod_spec(workload)
        assert pod["securityContext"]["runAsNonRoot"] is True, f"{workload.name}: pod runAsNonRoot"
        for c in containers(pod):
            context = c["securityContext"]
            user = context.get("runAsUser", pod["securityContext"].get("runAsUser"))
            assert context.get("runAsNonRoot", pod["securityContext"]["runAsNonRoot"]) is True, \
                f"{workload.name}/{c['name']}: runAsNonRoot"
            assert isinstance(user, int) and user != 0, f"{workload.name}/{c['name']}: fixed UID other than 0"


def test_no_container_can_gain_privileges(kube_workloads: list[Registered]) -> None:
    for workload in kube_workloads:
        pod = pod_spec(workload)
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, \
            f"{workload.name}: pod seccomp RuntimeDefault"
        for c in containers(pod):
            context = c["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, f"{workload.name}/{c['name']}: no escalation"
            assert context["capabilities"]["drop"] == ["ALL"], f"{workload.name}/{c['name']}: drop ALL"
            assert not context["capabilities"].get("add"), f"{workload.name}/{c['name']}: adds nothing"
            assert not context.get("privileged"), f"{workload.name}/{c['name']}: never privileged"
            assert context.get("seccompProfile", {"type": "RuntimeDefault"}) == {"type": "RuntimeDefault"}, \
                f"{workload.name}/{c['name']}: seccomp RuntimeDefault"


def test_service_account_tokens_are_mounted_only_for_workloads_with_rbac(
        kube_workloads: list[Registered], prod: Evaluation) -> None:
    bindings = prod.of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
    bound = {manifest(b)["subjects"][0]["name"] for b in bindings}
    for workload in kube_workloads:
        pod = pod_spec(workload)
        account = pod.get("serviceAccountName")
        if account is None:
            assert pod["automountServiceAccountToken"] is False, f"{workload.name}: no token without RBAC"
        else:
            assert account in bound, f"{workload.name}: a service account only with a RoleBinding"


def test_every_container_declares_requests_and_limits(kube_workloads: list[Registered]) -> None:
    for workload in kube_workloads:
        for c in containers(pod_spec(workload)):
            for kind in ("requests", "limits"):
                assert set(c["resources"].get(kind, {})) >= {"cpu", "memory"}, \
                    f"{workload.name}/{c['name']}: {kind} for cpu and memory"


def test_every_image_is_pinned_by_tag_or_digest(kube_workloads: list[Registered]) -> None:
    for workload in kube_workloads:
        for c in containers(pod_spec(workload)):
            assert PINNED.match(c["image"]), f"{workload.name}/{c['name']}: {c['image']!r} is not pinned"


def test_root_filesystems_are_read_only_except_the_documented_allow_list(
        kube_workloads: list[Registered]) -> None:
    writable = set()
    for workload in kube_workloads:
        for c in containers(pod_spec(workload)):
            if c["securityContext"].get("readOnlyRootFilesystem") is not True:
                writable.add(workload.name)
    assert writable <= set(WRITABLE_ROOT_ALLOWED), \
        f"writable root filesystems outside the allow-list: {sorted(writable - set(WRITABLE_ROOT_ALLOWED))}"


def test_the_allow_list_is_documented() -> None:
    text = (ROOT / "docs" / "security.md").read_text()
    for name in WRITABLE_ROOT_ALLOWED:
        assert f"`{name}`" in text, f"docs/security.md must explain why {name} has a writable root filesystem"
