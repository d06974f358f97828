"""`make` with a fake `pulumi` first on PATH: what each command runs, and above all what it refuses."""

from __future__ import annotations

import os
import pty
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.release.sandbox import ROOT, Sandbox
from tools.release.model import TAG_CURRENT

SHARED = {"PULUMI_BACKEND_URL": "s3://dreamscape-pulumi-state", "PULUMI_CONFIG_PASSPHRASE": "team secret",
          "IMAGE_TAG": "0123456789abcdef0123456789abcdef01234567"}
SHA = SHARED["IMAGE_TAG"]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    yield Sandbox(tmp_path)


def test_a_bare_make_prints_the_help_and_never_calls_pulumi(sandbox: Sandbox) -> None:
    run = sandbox.make()
    assert run.returncode == 0, run.output
    assert "make <target>" in run.output and "up " in run.output and "outputs" in run.output, (
        f"a bare make lists the targets:\n{run.output}"
    )
    assert run.calls == [], f"a bare make must not run pulumi at all, ran {run.calls}"


def test_make_help_lists_every_target_with_its_description(sandbox: Sandbox) -> None:
    run = sandbox.make("help")
    targets = [line.split(":", 1)[0] for line in (ROOT / "Makefile").read_text().splitlines()
               if re.match(r"^[a-z-]+:.*## ", line)]
    assert {"help", "up", "outputs", "config", "smoke", "rollback"} <= set(targets), targets
    for target in targets:
        assert f"  {target} " in run.output, f"make help describes `{target}`:\n{run.output}"


def test_make_help_starts_every_description_in_one_column_even_after_the_longest_target(sandbox: Sandbox) -> None:
    run = sandbox.make("help")
    targets = [line.split(":", 1)[0] for line in (ROOT / "Makefile").read_text().splitlines()
               if re.match(r"^[a-z-]+:.*## ", line)]
    rows = {target: line for line in run.output.splitlines() for target in targets
            if line.startswith(f"  {target} ")}
    assert set(rows) == set(targets), f"one row per target:\n{run.output}"
    columns = {target: len(line) - len(line[2 + len(target):].lstrip()) for target, line in rows.items()}
    assert len(set(columns.values())) == 1, f"descriptions start in one column: {columns}\n{run.output}"


@pytest.mark.parametrize("backend", [None, "file:///tmp/state"], ids=["no backend", "file backend"])
def test_prod_up_without_a_shared_backend_stops_clearly_and_never_calls_pulumi_up(
    sandbox: Sandbox, backend: str | None
) -> None:
    sandbox.initialise("prod")
    env = {"STACK": "prod", "PULUMI_CONFIG_PASSPHRASE": "x", "CI": "true"}
    if backend:
        env["PULUMI_BACKEND_URL"] = backend
    run = sandbox.make("up", env=env)
    assert run.returncode != 0, f"prod up on a local backend must fail:\n{run.output}"
    assert "shared state backend" in run.output and "PULUMI_BACKEND_URL" in run.output, (
        f"the message says what is missing and how to fix it:\n{run.output}"
    )
    assert "Nothing was run" in run.output, run.output
    assert not run.called("up"), f"pulumi up must never run, calls: {run.calls}"


def test_the_local_backend_for_prod_needs_an_explicit_opt_in(sandbox: Sandbox) -> None:
    sandbox.initialise("prod")
    run = sandbox.make("preview", env={"STACK": "prod", "ALLOW_LOCAL_BACKEND": "1", "PULUMI_CONFIG_PASSPHRASE": "x",
                                       "IMAGE_TAG": SHA})
    assert run.returncode == 0, run.output
    assert "warning" in run.output and "local file backend" in run.output, f"it says so loudly:\n{run.output}"
    assert all(call.startswith("file://") for call in run.calls), f"the file backend is used: {run.calls}"


@pytest.mark.parametrize("stack", ["prd", "production", "Prod", "review-pr-1", "../dev"])
def test_an_unknown_stack_name_is_refused_before_anything_runs(sandbox: Sandbox, stack: str) -> None:
    run = sandbox.make("up", env={"STACK": stack, **SHARED})
    assert run.returncode != 0, f"{stack!r} is not a stack of this repository:\n{run.output}"
    assert f"unknown stack '{stack}'" in run.output and "dev, prod" in run.output, (
        f"the message names the known stacks:\n{run.output}"
    )
    assert run.calls == [], f"nothing may run for an unknown stack, ran {run.calls}"


def test_prod_without_the_team_passphrase_is_refused_instead_of_inventing_one(sandbox: Sandbox) -> None:
    sandbox.initialise("prod")
    run = sandbox.make("up", env={"STACK": "prod", "PULUMI_BACKEND_URL": "s3://bucket", "CI": "true"})
    assert run.returncode != 0 and "PULUMI_CONFIG_PASSPHRASE" in run.output, run.output
    assert run.calls == [], f"no pulumi call without the passphrase: {run.calls}"
    assert not (sandbox.dir / ".pulumi-state" / "passphrase").exists(), "no passphrase is generated for prod"


def test_an_uninitialised_shared_stack_points_at_make_init(sandbox: Sandbox) -> None:
    run = sandbox.make("up", env={"STACK": "prod", **SHARED, "CI": "true"})
    assert run.returncode != 0 and "init prod" in run.output, f"the stack file has no salt yet:\n{run.output}"
    assert run.calls == [], run.calls


def test_a_missing_shared_stack_is_never_created_implicitly(sandbox: Sandbox) -> None:
    sandbox.initialise("prod")
    run = sandbox.make("up", env={"STACK": "prod", **SHARED, "CI": "true", "FAKE_STACK_MISSING": "1"})
    assert run.returncode != 0 and "does not exist" in run.output, run.output
    assert not any("--create" in args for args in run.pulumi_args()), f"no --create for prod: {run.calls}"
    assert not run.called("up"), run.calls


def test_prod_up_in_ci_previews_with_the_policy_pack_then_updates_without_a_prompt(sandbox: Sandbox) -> None:
    sandbox.initialise("prod")
    before = (sandbox.dir / "Pulumi.prod.yaml").read_bytes()
    run = sandbox.make("up", env={"STACK": "prod", **SHARED, "CI": "true"})
    assert run.returncode == 0, run.output
    assert run.pulumi_args() == [
        "stack select prod",
        f"config set imageTag {SHA} --stack prod",
        "preview --diff --policy-pack policy --stack prod",
        "up --yes --skip-preview --policy-pack policy --stack prod",
        f"stack tag set dreamscape:release:current {SHA} --stack prod",
    ], "select (never create), pin the release, preview with the policy pack, update, record the release"
    assert all(call.startswith("s3://dreamscape-pulumi-state|env|") for call in run.calls), run.calls
    assert (sandbox.dir / "Pulumi.prod.yaml").read_bytes() == before, "the image tag is set for the run only"


def test_prod_up_without_a_release_to_deploy_refuses(sandbox: Sandbox) -> None:
    sandbox.initialise("prod")
    env = {"STACK": "prod", **SHARED, "CI": "true", "IMAGE_TAG": ""}
    run = sandbox.make("up", env=env)
    assert run.returncode != 0 and "IMAGE_TAG" in run.output, run.output
    assert not run.called("up") and not run.called("preview"), run.calls
    run = sandbox.make("up", env={**env, "IMAGE_TAG": "latest"})
    assert run.returncode != 0 and not run.called("up"), "a mutable tag is no release"


def test_prod_preview_defaults_to_the_release_the_stack_runs_now(sandbox: Sandbox) -> None:
    sandbox.initialise("prod")
    run = sandbox.make("preview", env={"STACK": "prod", **SHARED, "IMAGE_TAG": "", "FAKE_CURRENT_RELEASE": "v1.2.3"})
    assert run.returncode == 0, run.output
    assert "config set imageTag v1.2.3 --stack prod" in run.pulumi_args(), run.calls


def test_prod_up_outside_ci_without_a_terminal_refuses_to_deploy(sandbox: Sandbox) -> None:
    sandbox.initialise("prod")
    run = sandbox.make("up", env={"STACK": "prod", **SHARED})
    assert run.returncode != 0 and "confirmation" in run.output, run.output
    assert not run.called("up"), f"no up without a person confirming: {run.calls}"
    assert not any(args.startswith("config") for args in run.pulumi_args()), (
        f"no config change before the confirmation check: {run.calls}"
    )


def make_on_a_terminal(sandbox: Sandbox, answer: str) -> tuple[int, list[str], str]:
    """Run `STACK=prod make up` with a pseudo-terminal as stdin and type `answer`."""
    leader, follower = pty.openpty()
    os.write(leader, answer.encode() + b"\n")
    try:
        run = sandbox.make("up", env={"STACK": "prod", **SHARED}, stdin=follower)
    finally:
        os.close(follower)
        os.close(leader)
    return run.returncode, run.pulumi_args(), run.output


def test_prod_up_on_a_terminal_shows_the_policy_preview_and_deploys_only_when_confirmed(
    sandbox: Sandbox,
) -> None:
    sandbox.initialise("prod")
    code, args, output = make_on_a_terminal(sandbox, "prod")
    assert code == 0, output
    assert [a.split(" --stack")[0] for a in args[2:4]] == [
        "preview --diff --policy-pack policy", "up --yes --skip-preview --policy-pack policy"
    ], f"preview with the policy pack, then the confirmed update: {args}"


def test_prod_up_on_a_terminal_with_a_wrong_answer_deploys_nothing(sandbox: Sandbox) -> None:
    sandbox.initialise("prod")
    code, args, output = make_on_a_terminal(sandbox, "yes")
    assert code != 0 and "not confirmed" in output, output
    assert any(a.startswith("preview") for a in args), f"the preview was shown: {args}"
    assert not any(a.startswith("up") for a in args), f"nothing deployed: {args}"


def test_dev_up_uses_the_local_backend_and_leaves_the_tracked_stack_file_untouched(sandbox: Sandbox) -> None:
    before = (sandbox.dir / "Pulumi.dev.yaml").read_bytes()
    run = sandbox.make("up")
    assert run.returncode == 0, run.output
    assert run.pulumi_args() == ["stack select --create dev --secrets-provider passphrase", "up --yes --stack dev"]
    assert run.calls[0].startswith(f"file://{sandbox.dir}/.pulumi-state|file|"), run.calls
    assert (sandbox.dir / "Pulumi.dev.yaml").read_bytes() == before, "the salt never lands in the tracked file"


def test_the_dev_stack_file_holds_no_secure_values_since_its_salt_is_not_tracked() -> None:
    text = (ROOT / "Pulumi.dev.yaml").read_text()
    assert "encryptionsalt" not in text and "secure:" not in text, (
        "dev's salt lives in each checkout's local state, so the tracked file cannot hold secure values"
    )


def test_make_outputs_and_config_run_with_the_backend_and_passphrase_set(sandbox: Sandbox) -> None:
    run = sandbox.make("outputs", "ARGS=postgresUrl --show-secrets")
    assert run.returncode == 0, run.output
    expected = "stack output --stack dev postgresUrl --show-secrets"
    assert run.calls[-1] == f"file://{sandbox.dir}/.pulumi-state|file|{expected}", run.calls
    run = sandbox.make("config", "STACK=prod", "ARGS=set imageTag abc123", env=SHARED)
    assert run.returncode != 0, "prod config needs an initialised stack file"
    sandbox.initialise("prod")
    run = sandbox.make("config", "STACK=prod", "ARGS=set imageTag abc123", env=SHARED)
    assert run.returncode == 0, run.output
    assert run.calls[-1] == "s3://dreamscape-pulumi-state|env|config --stack prod set imageTag abc123", run.calls


def fake_python(sandbox: Sandbox) -> Path:
    """Replace the sandbox venv's python with a recorder of its arguments and backend."""
    log = sandbox.dir / "python.log"
    python = sandbox.dir / "venv" / "bin" / "python"
    python.unlink()
    python.write_text(f'#!/usr/bin/env bash\necho "$PULUMI_BACKEND_URL|$*" >> {log}\n')
    python.chmod(0o755)
    return log


@pytest.mark.parametrize(("target", "expected"), [
    (["smoke"], "-m tools.smoke --stack prod"),
    (["rollback"], "-m tools.release rollback --stack prod"),
    (["rollback", "TO=v1.2.3"], "-m tools.release rollback --stack prod --to v1.2.3"),
    (["release", "ARGS=mark-good"], "-m tools.release mark-good --stack prod"),
])
def test_smoke_rollback_and_release_run_the_python_tools_with_the_shared_settings(
    sandbox: Sandbox, target: list[str], expected: str
) -> None:
    sandbox.initialise("prod")
    log = fake_python(sandbox)
    run = sandbox.make(*target, "STACK=prod", env={k: v for k, v in SHARED.items() if k != "IMAGE_TAG"})
    assert run.returncode == 0, run.output
    assert log.read_text().splitlines() == [f"s3://dreamscape-pulumi-state|{expected}"], log.read_text()
    refused = sandbox.make(*target, "STACK=prod")
    assert refused.returncode != 0 and "shared state backend" in refused.output, "same backend rule"


def test_make_init_creates_the_shared_stack_once_with_the_chosen_secrets_provider(sandbox: Sandbox) -> None:
    shared = {k: v for k, v in SHARED.items() if k != "IMAGE_TAG"}
    run = sandbox.make("init", "STACK=prod", env=shared)
    assert run.returncode == 0, run.output
    assert run.pulumi_args() == ["stack init prod --secrets-provider passphrase"], run.calls
    assert "commit Pulumi.prod.yaml" in run.output, "it says the salt is meant to be committed"
    kms = "awskms://alias/dreamscape-pulumi?region=eu-west-3"
    run = sandbox.make("init", "STACK=prod", env={"PULUMI_BACKEND_URL": shared["PULUMI_BACKEND_URL"],
                                                  "SECRETS_PROVIDER": kms})
    assert run.returncode == 0, f"a KMS-backed stack needs no passphrase:\n{run.output}"
    assert run.pulumi_args() == [f"stack init prod --secrets-provider {kms}"], run.calls


def test_the_release_tag_make_up_records_is_the_one_tools_release_reads(sandbox: Sandbox) -> None:
    sandbox.initialise("prod")
    run = sandbox.make("up", env={"STACK": "prod", **SHARED, "CI": "true"})
    assert f"stack tag set {TAG_CURRENT} {SHA} --stack prod" in run.pulumi_args(), run.calls
