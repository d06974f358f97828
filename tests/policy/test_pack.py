"""The pack as a whole: every policy is mandatory, and restricted workloads pass all of them."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
from dreamscape_policy import PACK_NAME, all_policies
from pulumi_policy import EnforcementLevel

from tests.policy.fakes import WORKLOAD_TYPES, all_violations, make_args, workload

MAIN = Path(__file__).resolve().parents[2] / "policy" / "__main__.py"
EXPECTED_POLICIES = {
    "containers-declare-requests-and-limits",
    "containers-run-as-non-root",
    "containers-disallow-privilege-escalation",
    "images-pinned-in-prod-and-review",
    "stateful-resources-protected-in-prod",
    "no-plaintext-secrets",
    "services-exposed-only-at-edge",
    "no-host-network-or-host-ports",
    "no-host-pid-or-ipc",
    "no-added-capabilities",
    "host-paths-confined",
}


class RecordingPolicyPack:
    """Stands in for `PolicyPack`, which would start a gRPC server and block forever."""

    calls: list[dict[str, Any]] = []

    def __init__(self, **kwargs: Any) -> None:
        RecordingPolicyPack.calls.append(kwargs)


def run_main(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    RecordingPolicyPack.calls = []
    monkeypatch.setattr(pulumi_policy, "PolicyPack", RecordingPolicyPack)
    runpy.run_path(str(MAIN), run_name="__main__")
    assert len(RecordingPolicyPack.calls) == 1, "policy/__main__.py builds exactly one PolicyPack"
    return RecordingPolicyPack.calls[0]


def test_main_builds_the_pack_with_every_policy_mandatory(monkeypatch: pytest.MonkeyPatch) -> None:
    pack = run_main(monkeypatch)
    assert pack["name"] == PACK_NAME, "the pack is published under its documented name"
    assert pack["enforcement_level"] == EnforcementLevel.MANDATORY, "the pack default is mandatory"
    names = [policy.name for policy in pack["policies"]]
    assert set(names) == EXPECTED_POLICIES, f"the pack lists exactly the documented policies, got {names}"
    not_mandatory = [p.name for p in pack["policies"] if p.enforcement_level != EnforcementLevel.MANDATORY]
    assert not_mandatory == [], (
        f"every policy is mandatory on its own, not only by the pack default: {not_mandatory}"
    )


def test_policy_names_are_unique() -> None:
    names = [policy.name for policy in all_policies()]
    assert len(names) == len(set(names)), f"policy names identify policies and must be unique: {names}"


def test_pack_name_is_a_valid_policy_pack_name() -> None:
    assert len(PACK_NAME) <= 100, "policy pack names are at most 100 characters"
    assert all(c.isalnum() or c in "-_." for c in PACK_NAME), "pack names use alphanumerics, -, _ and ."


@pytest.mark.parametrize("resource_type", WORKLOAD_TYPES)
@pytest.mark.parametrize("stack", ["prod", "review-42", "dev"])
def test_a_restricted_workload_passes_every_policy_on_every_stack(
    resource_type: str, stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_STACK", stack)
    args = make_args(resource_type, workload(resource_type), protect=True)
    found = all_violations(args)
    assert found == {}, f"a restricted-PSA {resource_type} on {stack} must be compliant, got {found}"
