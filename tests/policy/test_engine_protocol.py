"""The pack through the analyzer gRPC servicer, as the CLI drives it (no server, no CLI).

`_PolicyAnalyzerServicer` is pulumi_policy's private server class; these tests pin the wire contract
(properties as a protobuf Struct, resource options, per-policy config) that the hand-built
ResourceValidationArgs in the other tests stand in for.
"""

from __future__ import annotations

from typing import Any

import pytest
from dreamscape_policy import PACK_NAME, all_policies
from pulumi.runtime import proto
from pulumi_policy.policy import EnforcementLevel, _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from tests.policy.fakes import DOCKER_CONTAINER, STATEFUL_SET, main_container, workload


def servicer() -> Any:
    return _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", all_policies(), EnforcementLevel.MANDATORY)


def analyze(server: Any, resource_type: str, props: dict[str, Any], *, protect: bool) -> dict[str, str]:
    request = proto.AnalyzeRequest(
        type=resource_type,
        properties=props,  # protobuf converts the dict to a google.protobuf.Struct
        urn=f"urn:pulumi:prod::dreamscape::{resource_type}::postgres",
        name="postgres",
        options=proto.AnalyzerResourceOptions(protect=protect),
    )
    response = server.Analyze(request, None)
    return {diagnostic.policyName: diagnostic.message for diagnostic in response.diagnostics}


def test_the_analyzer_advertises_every_policy_as_mandatory() -> None:
    info = servicer().GetAnalyzerInfo(None, None)
    levels = {policy.name: policy.enforcementLevel for policy in info.policies}
    assert levels, "the analyzer lists the pack's policies"
    assert set(levels.values()) == {proto.MANDATORY}, f"every advertised policy is mandatory: {levels}"


def test_a_compliant_protected_stateful_set_passes_on_the_wire(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_STACK", "prod")
    found = analyze(servicer(), STATEFUL_SET, workload(STATEFUL_SET, name="postgres"), protect=True)
    assert found == {}, f"the restricted StatefulSet passes through the real servicer, got {found}"


def test_wire_level_violations_reach_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_STACK", "prod")
    props = workload(STATEFUL_SET, name="postgres")
    main_container(props)["image"] = "postgres:latest"
    main_container(props)["env"].append({"name": "POSTGRES_PASSWORD", "value": "hunter2"})
    found = analyze(servicer(), STATEFUL_SET, props, protect=False)
    expected = {
        "images-pinned-in-prod-and-review",
        "stateful-resources-protected-in-prod",
        "no-plaintext-secrets",
    }
    assert set(found) == expected, f"each broken rule is reported through the servicer, got {found}"


def test_policy_pack_config_reaches_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_STACK", "prod")
    server = servicer()
    config = proto.PolicyConfig(enforcementLevel=proto.MANDATORY, properties={"prodStacks": ["prod-*"]})
    request = proto.ConfigureAnalyzerRequest(policyConfig={"stateful-resources-protected-in-prod": config})
    server.Configure(request, None)
    found = analyze(server, STATEFUL_SET, workload(STATEFUL_SET, name="postgres"), protect=False)
    assert "stateful-resources-protected-in-prod" not in found, (
        f"prodStacks from --policy-pack-config replaces the default, so plain prod is exempt: {found}"
    )


def test_a_literal_secret_still_unknown_in_preview_is_reported_as_mandatory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PULUMI_STACK", "dev")
    props = workload(STATEFUL_SET, name="postgres")
    # What `value=password.result` looks like in the first preview: the value is not known yet.
    main_container(props)["env"].append({"name": "POSTGRES_PASSWORD", "value": UNKNOWN_STRING_VALUE})
    server = servicer()
    response = server.Analyze(
        proto.AnalyzeRequest(type=STATEFUL_SET, properties=props, urn="urn:x", name="postgres"), None
    )
    found = {d.policyName: d.enforcementLevel for d in response.diagnostics}
    assert found == {"no-plaintext-secrets": proto.MANDATORY}, (
        f"a literal value is a violation whatever it turns out to be, even in preview: {found}"
    )


def test_unknown_docker_env_entries_do_not_hide_known_literal_secrets() -> None:
    props = {"image": "dreamscape/api:dev", "envs": [UNKNOWN_STRING_VALUE, "API_TOKEN=abc"]}
    found = analyze(servicer(), DOCKER_CONTAINER, props, protect=False)
    assert "no-plaintext-secrets" in found, f"the known literal API_TOKEN is still reported: {found}"
    assert "API_TOKEN" in found["no-plaintext-secrets"], "the message names the known variable"
