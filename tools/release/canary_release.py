"""A canary release of a shared stack: run the new tag beside the stable one, judge it, promote or roll back.

`python -m tools.release canary --stack prod --tag T --pod core --prometheus URL`:

1. `pulumi up` with the stable release (the recorded `current` tag) and a canary of each `--pod` on `T`
   (`canary.images.<pod>`, set for this update only). The stack config's `canary.weight` decides the
   canary's share of each pod's public requests, so `pulumi preview` shows it in the TraefikService.
2. Wait `canary.window` (stack config), so the check compares a full window of the canary's traffic.
3. The promotion check of each pod (tools/release/canary.py, against Prometheus, thresholds from the
   stack config), on the series the canary's `track` label tells apart.
4. Every pod passed: promote, `pulumi up` with `imageTag: T` and no canary; `T` is recorded as deployed.
   Otherwise (a failed check, or no answer from Prometheus): roll back, `pulumi up` with the stable
   release and no canary.

Exit codes: 0 promoted; 3 rolled back (the stack runs the stable release again, no canary); 1 an update
failed (the report names which; the stack may be partly updated: `make preview STACK=<stack>`); 2 a usage
or configuration error, before anything was changed.

Aborting by hand: cancel the job, then `make rollback STACK=<stack> TO=<stable tag>` (or any `make up`):
an update without the canary keys removes the canary (docs/release.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.config import CanaryConfig
from components.config.loader import PROJECT, project_defaults
from tools.release import canary
from tools.release.backend import OnOutput, ReleaseBackend
from tools.release.errors import ReleaseError
from tools.release.model import ReleaseRecord

PROMOTED, ROLLED_BACK, UPDATE_FAILED = 0, 3, 1
CANARY_KEY = "canary"

Judge = Callable[[str, canary.CanaryPolicy], canary.Decision]
"""The promotion check of one pod under a policy (raises canary.PrometheusError when there is no answer)."""
Wait = Callable[[float], None]


def canary_config(cwd: Path, stack: str) -> CanaryConfig:
    """`canary` as the stack will read it: Pulumi.yaml's defaults, then Pulumi.<stack>.yaml key by key."""
    merged: dict[str, Any] = dict(project_defaults(cwd / "Pulumi.yaml").get(CANARY_KEY, {}))
    stack_file = cwd / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(stack_file.read_text()) if stack_file.is_file() else None
    overrides = ((document or {}).get("config") or {}).get(f"{PROJECT}:{CANARY_KEY}") or {}
    merged.update(overrides)
    try:
        return CanaryConfig.model_validate(merged)
    except ValueError as error:
        raise ReleaseError(f"{stack_file.name}: {PROJECT}:{CANARY_KEY} is invalid: {error}") from None


def prometheus_judge(url: str) -> Judge:
    query = canary.prometheus_query(url)

    def judge(pod: str, policy: canary.CanaryPolicy) -> canary.Decision:
        stable, candidate = canary.selectors(pod)
        return canary.decide(canary.measure(query, stable, policy.window),
                             canary.measure(query, candidate, policy.window), policy)

    return judge


@dataclass(frozen=True, kw_only=True)
class CanaryRun:
    stack: str
    tag: str
    pods: tuple[str, ...]
    config: CanaryConfig


def run_canary(run: CanaryRun, record: ReleaseRecord, backend: ReleaseBackend, judge: Judge, wait: Wait,
               out: OnOutput) -> tuple[int, str]:
    """The exit code and the markdown report."""
    stable = record.current
    if stable is None:
        raise ReleaseError(f"no release of {run.stack} is recorded as running: a canary needs a stable release "
                           "to compare with (deploy the first one with make up)")
    if stable == run.tag:
        raise ReleaseError(f"{run.stack} already runs {run.tag}: nothing to canary")
    policy = canary.CanaryPolicy.of(run.config)
    pods = ", ".join(run.pods)
    head = f"### Canary of `{run.tag}` on `{run.stack}` ({pods}, {run.config.weight}% of their public requests)\n\n"
    out(f"canary: {run.stack} runs {stable}; {pods} get a canary of {run.tag} ({run.config.weight}%)\n")
    try:
        backend.deploy_canary(run.stack, stable, dict.fromkeys(run.pods, run.tag), out)
    except ReleaseError as failure:
        return _roll_back(run, stable, backend, out, head + f"The canary's update failed: {failure}\n\n")
    out(f"canary: waiting {policy.window} before the promotion check\n")
    wait(policy.window_seconds)
    reasons: list[str] = []
    for pod in run.pods:
        try:
            decision = judge(pod, policy)
        except canary.PrometheusError as error:
            reasons.append(f"{pod}: no verdict, Prometheus did not answer ({error})")
            continue
        out(f"canary {pod}: {decision.verdict.value}\n")
        reasons += [f"{pod}: {reason}" for reason in decision.reasons]
    if reasons:
        found = "".join(f"- {reason}\n" for reason in reasons)
        return _roll_back(run, stable, backend, out, head + f"Not promoted:\n\n{found}\n")
    try:
        backend.deploy(run.stack, run.tag, out)
    except ReleaseError as failure:
        return UPDATE_FAILED, head + (f"The canary passed, but the promotion's update failed: {failure}\n\n"
                                      f"The stack may be partly updated; run `make preview STACK={run.stack}`.\n")
    backend.write_tags(run.stack, record.deployed(run.tag).tags())
    return PROMOTED, head + f"Promoted: `{run.stack}` runs `{run.tag}` (it ran `{stable}`); no canary runs.\n"


def _roll_back(run: CanaryRun, stable: str, backend: ReleaseBackend, out: OnOutput, report: str) -> tuple[int, str]:
    out(f"canary: rolling back {run.stack} to {stable} without a canary\n")
    try:
        backend.deploy(run.stack, stable, out)
    except ReleaseError as failure:
        return UPDATE_FAILED, report + (f"Rolling back to `{stable}` failed too: {failure}\n\nThe stack may be "
                                        f"partly updated; run `make preview STACK={run.stack}`.\n")
    return ROLLED_BACK, report + f"Rolled back: `{run.stack}` runs `{stable}` again; no canary runs.\n"


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def chosen_pods(requested: Sequence[str], config: CanaryConfig) -> tuple[str, ...]:
    """The pods to canary, validated by the stack config's own rule (routed Big Pods only)."""
    if not requested:
        raise ReleaseError("name the pods to canary with --pod (Big Pods with a public route)")
    try:
        CanaryConfig.model_validate({**config.model_dump(by_alias=True), "images": dict.fromkeys(requested, "v")})
    except ValueError as error:
        raise ReleaseError(f"--pod: {' '.join(str(error).split())}") from None
    return tuple(dict.fromkeys(requested))
