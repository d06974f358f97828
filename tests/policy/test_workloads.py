"""Rules 1-3: requests and limits, non-root, no privilege escalation, on every workload kind."""

from __future__ import annotations

import pytest

from tests.policy.fakes import WORKLOAD_TYPES, main_container, make_args, pod_of, violations_of, workload

RESOURCES = "containers-declare-requests-and-limits"
NON_ROOT = "containers-run-as-non-root"
NO_ESCALATION = "containers-disallow-privilege-escalation"


@pytest.mark.parametrize("resource_type", WORKLOAD_TYPES)
def test_restricted_containers_satisfy_the_pod_spec_rules(resource_type: str) -> None:
    args = make_args(resource_type, workload(resource_type))
    for policy in (RESOURCES, NON_ROOT, NO_ESCALATION):
        assert violations_of(policy, args) == [], f"{policy} accepts the restricted {resource_type}"


@pytest.mark.parametrize("resource_type", WORKLOAD_TYPES)
def test_a_container_without_a_memory_limit_is_rejected(resource_type: str) -> None:
    props = workload(resource_type)
    del main_container(props)["resources"]["limits"]["memory"]
    messages = violations_of(RESOURCES, make_args(resource_type, props))
    assert len(messages) == 1, f"exactly the one incomplete container is reported, got {messages}"
    assert "limits.memory" in messages[0], f"the message names the missing limit: {messages[0]}"


def test_an_init_container_without_resources_is_rejected() -> None:
    props = workload("kubernetes:apps/v1:Deployment")
    del pod_of(props)["initContainers"][0]["resources"]
    messages = violations_of(RESOURCES, make_args("kubernetes:apps/v1:Deployment", props))
    assert len(messages) == 1, f"initContainers are checked too, got {messages}"
    assert 'initContainer "wait-for-postgres"' in messages[0], f"the init container is named: {messages}"
    for field in ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory"):
        assert field in messages[0], f"the message lists {field} as missing: {messages[0]}"


def test_a_container_without_cpu_request_is_rejected() -> None:
    props = workload("kubernetes:batch/v1:CronJob")
    del main_container(props)["resources"]["requests"]["cpu"]
    messages = violations_of(RESOURCES, make_args("kubernetes:batch/v1:CronJob", props))
    assert any("requests.cpu" in m for m in messages), f"CronJob pod templates are checked: {messages}"


def test_resources_rules_ignore_resources_without_pods() -> None:
    args = make_args("kubernetes:core/v1:ConfigMap", {"data": {"LOG_LEVEL": "info"}})
    assert violations_of(RESOURCES, args) == [], "a ConfigMap has no containers to check"


@pytest.mark.parametrize("resource_type", WORKLOAD_TYPES)
def test_a_container_that_may_run_as_root_is_rejected(resource_type: str) -> None:
    props = workload(resource_type)
    del pod_of(props)["securityContext"]["runAsNonRoot"]
    del main_container(props)["securityContext"]["runAsNonRoot"]
    messages = violations_of(NON_ROOT, make_args(resource_type, props))
    assert len(messages) == 1, f"only the container without runAsNonRoot is reported, got {messages}"
    assert "runAsNonRoot" in messages[0], f"the message names the missing field: {messages[0]}"


def test_pod_level_run_as_non_root_covers_containers_that_do_not_set_it() -> None:
    props = workload("kubernetes:apps/v1:Deployment")
    for container in [*pod_of(props)["containers"], *pod_of(props)["initContainers"]]:
        del container["securityContext"]["runAsNonRoot"]
    messages = violations_of(NON_ROOT, make_args("kubernetes:apps/v1:Deployment", props))
    assert messages == [], f"runAsNonRoot is inherited from the pod security context, got {messages}"


def test_a_container_that_overrides_run_as_non_root_to_false_is_rejected() -> None:
    props = workload("kubernetes:apps/v1:Deployment")
    main_container(props)["securityContext"]["runAsNonRoot"] = False
    messages = violations_of(NON_ROOT, make_args("kubernetes:apps/v1:Deployment", props))
    assert len(messages) == 1, f"a container-level false beats the pod-level true, got {messages}"


def test_a_container_running_as_uid_zero_is_rejected() -> None:
    props = workload("kubernetes:apps/v1:StatefulSet")
    main_container(props)["securityContext"]["runAsUser"] = 0
    messages = violations_of(NON_ROOT, make_args("kubernetes:apps/v1:StatefulSet", props))
    assert any("runAsUser 0" in m for m in messages), f"UID 0 is reported even with runAsNonRoot: {messages}"


def test_a_pod_running_as_uid_zero_is_rejected_for_containers_that_inherit_it() -> None:
    props = workload("kubernetes:apps/v1:DaemonSet")
    pod_of(props)["securityContext"]["runAsUser"] = 0
    del main_container(props)["securityContext"]["runAsUser"]
    messages = violations_of(NON_ROOT, make_args("kubernetes:apps/v1:DaemonSet", props))
    assert len(messages) == 1, f"only the container inheriting UID 0 is reported, got {messages}"
    assert 'container "api"' in messages[0], f"the inheriting container is named: {messages[0]}"


@pytest.mark.parametrize("resource_type", WORKLOAD_TYPES)
def test_a_container_that_does_not_forbid_privilege_escalation_is_rejected(resource_type: str) -> None:
    props = workload(resource_type)
    del main_container(props)["securityContext"]["allowPrivilegeEscalation"]
    messages = violations_of(NO_ESCALATION, make_args(resource_type, props))
    assert len(messages) == 1, f"allowPrivilegeEscalation must be explicitly false, got {messages}"
    assert "allowPrivilegeEscalation" in messages[0], f"the message names the field: {messages[0]}"


def test_an_init_container_allowing_privilege_escalation_is_rejected() -> None:
    props = workload("kubernetes:batch/v1:Job")
    pod_of(props)["initContainers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    messages = violations_of(NO_ESCALATION, make_args("kubernetes:batch/v1:Job", props))
    assert len(messages) == 1, f"the escalating init container is reported, got {messages}"
    assert "initContainer" in messages[0], f"the message says it is an init container: {messages[0]}"


def test_a_privileged_container_is_rejected() -> None:
    props = workload("kubernetes:apps/v1:DaemonSet")
    main_container(props)["securityContext"]["privileged"] = True
    messages = violations_of(NO_ESCALATION, make_args("kubernetes:apps/v1:DaemonSet", props))
    assert any("privileged" in m for m in messages), f"privileged: true is reported: {messages}"
