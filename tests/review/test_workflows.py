"""GitHub Actions workflows are schema-valid, least-privilege and pin every action to a commit."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"#\s*v\d+\.\d+\.\d+\b")
ALLOWED_PERMISSIONS = {"contents": {"read"}, "pull-requests": {"read", "write"}}
IMAGE_PUBLISHING = {"packages": {"write"}, "id-token": {"write"}}
"""Pushing images (packages) and signing them keyless with cosign (the OIDC token): only the image jobs."""
EXTRA_PERMISSIONS = {("images.yml", "image"): IMAGE_PUBLISHING, ("deploy-prod.yml", "images"): IMAGE_PUBLISHING,
                     ("review-env.yml", "images"): IMAGE_PUBLISHING}


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name} is a YAML mapping"
    return data


def test_the_three_review_workflows_exist() -> None:
    names = {path.name for path in WORKFLOWS}
    assert {"preview.yml", "review-env.yml", "review-gc.yml"} <= names, f"workflows present: {names}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_workflow_matches_the_github_actions_schema(path: Path) -> None:
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.fail("check-jsonschema is missing: pip install -r requirements-dev.txt")
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{path.name} violates the workflow schema:\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_declares_least_privilege_permissions(path: Path) -> None:
    workflow = load(path)
    assert workflow.get("permissions") == {}, f"{path.name}: the workflow default grants nothing"
    for name, job in workflow["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{path.name}:{name} declares its own permissions"
        assert permissions.get("contents") == "read", f"{path.name}:{name} reads contents only"
        allowed = {**ALLOWED_PERMISSIONS, **EXTRA_PERMISSIONS.get((path.name, name), {})}
        for scope, level in permissions.items():
            assert level in allowed.get(scope, set()), (
                f"{path.name}:{name} grants {scope}: {level}"
            )


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_commit_sha_with_a_version_comment(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    uses = [line for line in lines if re.match(r"^\s*(-\s+)?uses:", line)]
    assert uses, f"{path.name} uses at least one action"
    for line in uses:
        ref = line.split("uses:", 1)[1].split("#", 1)[0].strip()
        if ref.startswith("./.github/workflows/"):
            # A reusable workflow of this repository runs at the caller's own commit.
            assert (ROOT / ref).is_file(), f"{path.name}: {ref} does not exist"
            continue
        assert PINNED.fullmatch(ref), f"{path.name}: {ref!r} is not pinned to a 40-character commit sha"
        assert VERSION_COMMENT.search(line), f"{path.name}: {ref!r} lacks a '# vX.Y.Z' comment"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_secrets_come_only_from_the_secrets_context(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for name in ("PULUMI_CONFIG_PASSPHRASE", "KUBECONFIG_REVIEW", "PULUMI_BACKEND_URL"):
        for match in re.finditer(rf"^\s*{name}:\s*(.+)$", text, flags=re.MULTILINE):
            value = match.group(1).strip()
            assert value == f"${{{{ secrets.{name} }}}}", f"{path.name}: {name} must come from secrets.*"


def test_review_env_has_a_concurrency_group_per_pr_and_both_lifecycles() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "review-env.yml")
    group = workflow["concurrency"]["group"]
    assert "github.event.pull_request.number" in group, "one concurrency group per PR"
    assert workflow["concurrency"]["cancel-in-progress"] is False, "never cancel a running up/destroy"
    steps = {
        name: " ".join(str(s.get("run", "")) for s in job.get("steps", [])) for name, job in workflow["jobs"].items()
    }
    assert "python -m tools.review up" in steps["deploy"], "opened/synchronize/reopened deploy"
    assert "python -m tools.review destroy" in steps["teardown"], "closed destroys"


def test_review_gc_runs_on_a_schedule_and_on_demand_with_the_open_prs() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "review-gc.yml")
    raw: dict[Any, Any] = workflow
    triggers: dict[str, Any] = raw.get("on", raw.get(True)) or {}  # YAML 1.1 reads `on` as True
    assert "schedule" in triggers and "workflow_dispatch" in triggers, "cron and manual triggers"
    runs = " ".join(str(step.get("run", "")) for step in workflow["jobs"]["gc"]["steps"])
    assert "gh pr list" in runs and "--json number" in runs, "open PRs come from gh"
    assert "--open-prs-file" in runs, "and are passed to gc"
