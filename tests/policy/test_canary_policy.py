"""The pack against a prod stack running a canary: the canary's own resources pass every policy."""

from __future__ import annotations

import pytest

from tests.environment.test_canary import CANARIED_POD, CANARY_KINDS, CANARY_TAG
from tests.harness import evaluate
from tests.policy.fakes import all_violations, make_args


def test_every_canary_resource_passes_every_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    canary = evaluate("prod", {"canary": {"images": {CANARIED_POD: CANARY_TAG}}})
    monkeypatch.setenv("PULUMI_STACK", canary.stack)
    added = [r for r in canary.resources if "canary" in r.name or r.inputs.get("kind") in CANARY_KINDS]
    assert len(added) >= 7, "the canary's Deployment, Service, policies and edge objects are checked"
    failures = {}
    for resource in added:
        inputs = {k: v for k, v in resource.inputs.items() if not k.startswith("__")}
        found = all_violations(make_args(resource.type, inputs, name=resource.name,
                                         protect=bool(resource.options["protect"])))
        if found:
            failures[resource.name] = found
    assert failures == {}, f"policy violations of the canary's resources: {failures}"
