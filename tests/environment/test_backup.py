"""Nightly PostgreSQL backups: a CronJob on Kubernetes (prod), none on review or Docker (dev)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from components.backup import BACKUP_USER, upload_command
from components.budgets import footprints
from components.config import BackupConfig
from tests import kube
from tests.harness import Evaluation, evaluate

CRON = "kubernetes:batch/v1:CronJob"
JOB = "kubernetes:batch/v1:Job"
SECRET = "kubernetes:core/v1:Secret"


def backup_pod(prod: Evaluation) -> dict[str, Any]:
    return kube.pod_spec(prod.named(CRON, "postgres-backup"))


def test_prod_dumps_postgres_every_night_at_two(prod: Evaluation) -> None:
    cron = prod.named(CRON, "postgres-backup")
    kube.validate(cron)
    spec = kube.manifest(cron)["spec"]
    assert spec["schedule"] == "0 2 * * *", "the seed's 2 AM backup"
    assert spec["concurrencyPolicy"] == "Forbid", "never two backups at once"


def test_the_init_step_dumps_the_app_database_in_custom_format(prod: Evaluation) -> None:
    pod = backup_pod(prod)
    (init,) = pod["initContainers"]
    script = init["command"][-1]
    assert init["image"].startswith("postgres:"), "pg_dump comes from the server's own image"
    # From the primary (CloudNativePG's `-rw` Service): a replica could lag behind the last commit.
    assert "pg_dump -h postgres-rw -p 5432 -U dreamscape_app -d dreamscape -Fc" in script, script
    assert '-f "/backup/dreamscape-$stamp.dump"' in script, "a timestamped dump in the shared directory"
    mounts = {m["mountPath"]: m["name"] for m in init["volumeMounts"]}
    main_mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["/backup"] == main_mounts["/backup"] == "shared", "init and upload share /backup"
    shared = next(v for v in pod["volumes"] if v["name"] == "shared")
    assert "emptyDir" in shared, "the dump lives only as long as the pod"


def test_init_and_main_containers_are_hardened_like_every_container(prod: Evaluation) -> None:
    pod = backup_pod(prod)
    for container in [*pod["initContainers"], *pod["containers"]]:
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False and security["runAsNonRoot"] is True
        assert security["capabilities"] == {"drop": ["ALL"]}, f"{container['name']} drops all capabilities"
        assert {"cpu", "memory"} <= container["resources"]["limits"].keys(), f"{container['name']} has limits"
    names = [v["name"] for v in pod["volumes"]]
    assert len(names) == len(set(names)), f"init and main bring their own volumes without a clash: {names}"


def test_the_upload_targets_the_backup_bucket_and_keeps_the_newest_fourteen(prod: Evaluation) -> None:
    (main,) = backup_pod(prod)["containers"]
    script = main["command"][-1]
    assert main["image"].startswith("minio/mc:"), "the MinIO client uploads"
    assert "mc cp /backup/*.dump backup/dreamscape-backups/postgres/" in script, script
    assert "excess=$(( ${#names[@]} - 14 ))" in script, "keeps `backup.keep` dumps"


def test_retention_is_configurable() -> None:
    backup = {"keep": 3, "bucket": "other-backups", "schedule": "30 1 * * *"}
    evaluation = evaluate("prod", {"backup": backup})
    cron = kube.manifest(evaluation.named(CRON, "postgres-backup"))
    assert cron["spec"]["schedule"] == "30 1 * * *"
    script = kube.pod_spec(evaluation.named(CRON, "postgres-backup"))["containers"][0]["command"][-1]
    assert "backup/other-backups/postgres/" in script and "- 3 ))" in script, script


def test_credentials_reach_the_backup_only_as_secrets(prod: Evaluation) -> None:
    pod = backup_pod(prod)
    (main,) = pod["containers"]
    env = {e["name"]: e for e in main["env"]}
    assert not [name for name in env if name.startswith("MC_HOST")], f"mc gets no credentials in env: {env}"
    assert env["MC_CONFIG_DIR"]["value"] == "/tmp/.mc", "mc reads its config from the writable /tmp/.mc"
    assert "cp /run/secrets/dreamscape/mc-config /tmp/.mc/config.json" in main["command"][-1], (
        "the mounted config file is put where mc reads it before any mc command")
    (init,) = pod["initContainers"]
    assert not [e for e in init["env"] if "PASSWORD" in e["name"] and "value" in e], "no password in env"
    assert "$(cat /run/secrets/dreamscape/backup-postgres-password)" in init["command"][-1]
    secret = prod.named(SECRET, "postgres-backup-secrets")
    assert set(secret.inputs["stringData"]) == {"mc-config", "backup-postgres-password"}
    config = json.loads(secret.inputs["stringData"]["mc-config"])
    alias = config["aliases"]["backup"]
    assert (config["version"], alias["url"], alias["accessKey"]) == ("10", "https://minio:9000", BACKUP_USER), (
        f"mc's config names the backup alias (https, prod has transit TLS) with its own MinIO user: {alias['url']}")
    assert "cp /run/tls/ca/ca.crt /tmp/.mc/certs/CAs/" in main["command"][-1], "mc verifies MinIO with the CA"
    assert "--insecure" not in main["command"][-1] and "insecure" not in json.dumps(config)
    assert alias["secretKey"] in prod.generated_secrets, "the secret key is the generated backup secret"


def test_a_setup_job_creates_the_bucket_and_a_user_limited_to_it(prod: Evaluation) -> None:
    job = prod.named(JOB, "backup-setup")
    kube.validate(job)
    script = kube.pod_spec(job)["containers"][0]["command"][-1]
    assert "mc mb --ignore-existing dreamscape/dreamscape-backups" in script
    assert f"mc admin user add dreamscape {BACKUP_USER}" in script
    assert f"mc admin policy attach dreamscape dreamscape-backup-bucket --user {BACKUP_USER}" in script
    config = prod.named("kubernetes:core/v1:ConfigMap", "backup-setup-config")
    policy = json.loads(config.inputs["data"]["etc-dreamscape-minio-policies-dreamscape-backup-bucket.json"])
    resources = {r for statement in policy["Statement"] for r in statement["Resource"]}
    assert resources == {"arn:aws:s3:::dreamscape-backups", "arn:aws:s3:::dreamscape-backups/postgres/*"}, (
        f"the backup user reaches its bucket's dump prefix only: {resources}")


def test_review_stacks_have_no_backup() -> None:
    review = evaluate("review-42")
    assert not review.of_type(CRON), "backup.enabled is false in profiles/review.yaml"
    assert not [r for r in review.resources if r.name == "backup-setup"]


def test_dev_has_no_backup_because_docker_has_no_scheduler(dev: Evaluation) -> None:
    assert not [r for r in dev.resources if "backup" in r.name and not r.type.startswith("random:")], (
        "dev dumps with tools/dev_db.py")
    assert dev.outputs["backup"].value is None


def test_budgets_do_not_count_the_backup(prod: Evaluation) -> None:
    names = {f.name for f in footprints(prod.services)}
    assert not {n for n in names if "backup" in n}, "tasks are transient"


@pytest.mark.parametrize(("existing", "removed"), [
    ([], []),
    (["dreamscape-20250101T020000Z.dump", "dreamscape-20250102T020000Z.dump",
      "dreamscape-20250103T020000Z.dump", "dreamscape-20250104T020000Z.dump"],
     ["dreamscape-20250101T020000Z.dump", "dreamscape-20250102T020000Z.dump"]),
])
def test_the_upload_script_really_prunes_the_oldest_dumps_in_bash(
        tmp_path: Path, existing: list[str], removed: list[str]) -> None:
    # A fake `mc` on PATH: `ls` prints mc's listing format, everything else is recorded.
    log = tmp_path / "calls"
    listing = "".join(f"[2025-01-0{i + 1} 02:00:05 UTC] 1.2MiB STANDARD {n}\n"
                      for i, n in enumerate(existing))
    (tmp_path / "listing").write_text(listing)
    fake = tmp_path / "mc"
    fake.write_text(f'#!/bin/bash\necho "$*" >> {log}\n[ "$1" = ls ] && cat {tmp_path / "listing"}\nexit 0\n')
    fake.chmod(0o755)
    config = BackupConfig(enabled=True, schedule="0 2 * * *", bucket="dreamscape-backups", keep=2, retention="30d")
    result = subprocess.run(["bash", "-c", upload_command(config)], capture_output=True, text=True,
                            check=False, env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"})
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert calls[0] == "cp /backup/*.dump backup/dreamscape-backups/postgres/", calls
    prefix = "rm backup/dreamscape-backups/postgres/"
    assert [c.removeprefix(prefix) for c in calls if c.startswith("rm")] == removed, "the oldest go first"
