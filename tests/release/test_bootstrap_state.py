"""scripts/bootstrap-state.sh with fake cloud CLIs on PATH: what it creates, and the backend URL it prints."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "bootstrap-state.sh"


def fake_cli(bin_dir: Path, name: str, log: Path, exists: bool) -> None:
    """Records every call; `head-bucket` / `describe` / `show` answer whether the bucket exists."""
    tool = bin_dir / name
    tool.write_text(f"""#!/usr/bin/env bash
echo "{name} $*" >> {log}
case "$*" in *head-bucket*|*"buckets describe"*|*"account show"*) exit {0 if exists else 1} ;; esac
exit 0
""")
    tool.chmod(0o755)


def bootstrap(tmp_path: Path, *args: str, exists: bool = False) -> tuple[int, str, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "calls.log"
    log.write_text("")
    for name in ("aws", "gcloud", "az"):
        fake_cli(bin_dir, name, log, exists)
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    env.pop("AWS_REGION", None)
    done = subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, check=False)
    return done.returncode, done.stdout + done.stderr, log.read_text().splitlines()


def test_a_new_aws_bucket_is_created_versioned_encrypted_private_and_expiring(tmp_path: Path) -> None:
    code, output, calls = bootstrap(tmp_path, "s3", "dreamscape-pulumi-state", "--region", "eu-west-3")
    assert code == 0, output
    verbs = [call.split()[4] for call in calls]
    assert verbs == ["head-bucket", "create-bucket", "put-bucket-versioning", "put-bucket-lifecycle-configuration",
                     "put-bucket-encryption", "put-public-access-block"], f"the lock-down sequence: {calls}"
    assert "LocationConstraint=eu-west-3" in calls[1], "outside us-east-1 the region is a location constraint"
    assert "export PULUMI_BACKEND_URL='s3://dreamscape-pulumi-state?region=eu-west-3'" in output, output


def test_an_existing_bucket_is_not_recreated_but_still_locked_down(tmp_path: Path) -> None:
    code, output, calls = bootstrap(tmp_path, "s3", "dreamscape-pulumi-state", exists=True)
    assert code == 0, output
    assert not any("create-bucket" in call for call in calls), "idempotent: no second create"
    assert any("put-bucket-versioning" in call for call in calls), "versioning is enforced every run"


def test_an_s3_compatible_store_gets_a_path_style_endpoint_url(tmp_path: Path) -> None:
    code, output, calls = bootstrap(tmp_path, "s3", "pulumi-state", "--endpoint", "https://minio.internal:9000")
    assert code == 0, output
    assert all("--endpoint-url https://minio.internal:9000" in call for call in calls), calls
    assert "s3://pulumi-state?endpoint=minio.internal:9000&region=us-east-1&s3ForcePathStyle=true" in output, output
    assert not any("put-public-access-block" in call for call in calls), "AWS-only calls are skipped"


def test_gcs_and_azure_blob_print_their_backend_urls(tmp_path: Path) -> None:
    code, output, calls = bootstrap(tmp_path, "gcs", "dreamscape-pulumi-state")
    assert code == 0 and "PULUMI_BACKEND_URL='gs://dreamscape-pulumi-state'" in output, output
    assert any("--public-access-prevention" in c for c in calls) and any("--versioning" in c for c in calls)
    code, output, calls = bootstrap(tmp_path, "azblob", "dreamscapestate", "pulumi-state", "--resource-group", "ops")
    assert code == 0, output
    assert "PULUMI_BACKEND_URL='azblob://pulumi-state?storage_account=dreamscapestate'" in output, output
    assert any("--allow-blob-public-access false" in c for c in calls), "no public blob access"


@pytest.mark.parametrize("args", [
    ["s3", "Bad_Name"], ["s3"], ["gcs", "a"], ["azblob", "acct", "container"], ["ftp", "bucket"],
    ["s3", "bucket", "--colour", "red"],
])
def test_bad_arguments_are_refused_before_any_cloud_call(tmp_path: Path, args: list[str]) -> None:
    code, output, calls = bootstrap(tmp_path, *args)
    assert code != 0 and "error:" in output, f"{args} is refused: {output}"
    assert calls == [], f"nothing was created: {calls}"


def test_a_missing_cloud_cli_is_named(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": "/nonexistent"}
    done = subprocess.run(["/bin/bash", str(SCRIPT), "s3", "bucket-name"], capture_output=True, text=True, env=env,
                          check=False)
    assert done.returncode != 0 and "the aws CLI is not installed" in done.stderr, done.stderr
