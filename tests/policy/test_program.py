"""The pack against the real program: every resource of the dev, prod and review stacks passes every policy.

Resources come from the mock evaluation (wire inputs, camelCase, as the engine would hand them to the
analyzer) with their real `protect` option; the stack is set the way the CLI sets it (`PULUMI_STACK`).
"""

from __future__ import annotations

import copy

import pytest

from tests.harness import Evaluation
from tests.policy.fakes import all_violations, make_args


@pytest.fixture(params=["dev", "prod", "review"])
def evaluation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, dev: Evaluation,
               prod: Evaluation, review: Evaluation) -> Evaluation:
    chosen: Evaluation = {"dev": dev, "prod": prod, "review": review}[request.param]
    monkeypatch.setenv("PULUMI_STACK", chosen.stack)
    return chosen


def test_every_recorded_resource_passes_every_policy(evaluation: Evaluation) -> None:
    checked = 0
    failures: dict[str, dict[str, list[str]]] = {}
    for resource in evaluation.resources:
        inputs = {k: v for k, v in resource.inputs.items() if not k.startswith("__")}
        args = make_args(resource.type, inputs, name=resource.name, protect=bool(resource.options["protect"]))
        found = all_violations(args)
        checked += 1
        if found:
            failures[f"{resource.type}::{resource.name}"] = found
    assert checked > 20, f"{evaluation.stack}: the evaluation must record the stack's resources"
    assert failures == {}, f"{evaluation.stack}: policy violations in the real program: {failures}"


def test_the_pack_would_catch_a_real_workload_losing_its_hardening(prod: Evaluation,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The integration is not vacuous: break one recorded StatefulSet and the pack objects."""
    monkeypatch.setenv("PULUMI_STACK", "prod")
    kafka = prod.named("kubernetes:apps/v1:StatefulSet", "kafka")
    broken = {k: v for k, v in kafka.inputs.items() if not k.startswith("__")}
    broken = copy.deepcopy(broken)
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    found = all_violations(make_args(kafka.type, broken, name="kafka", protect=False))
    expected = {"containers-disallow-privilege-escalation", "stateful-resources-protected-in-prod"}
    assert set(found) >= expected, f"the pack must object to the broken StatefulSet, got {found}"
