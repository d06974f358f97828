"""Dev dump/restore and the prod restore, checked through the runner seam (no docker, no cluster)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.tools.fakes import FakeRunner
from tools import dev_db, restore_postgres
from tools.runner import CommandError, SubprocessRunner

CLUSTER_URL = "http://dreamscape-backup:KEY123@minio:9000"
MC_CONFIG = json.dumps({"version": "10", "aliases": {"backup": {
    "url": "http://minio:9000", "accessKey": "dreamscape-backup", "secretKey": "KEY123", "api": "s3v4",
    "path": "auto"}}})


def test_dev_dump_runs_pg_dump_inside_the_stacks_postgres_container(tmp_path: Path) -> None:
    runner = FakeRunner()
    target = tmp_path / "x.dump"
    assert dev_db.main(["dump", str(target)], runner=runner) == 0
    (command,) = runner.commands
    assert command.argv == ("docker", "exec", "dreamscape-dev-postgres-0", "pg_dump", "-U", "postgres",
                            "-d", "dreamscape", "-Fc"), "a custom-format dump over the local socket"
    assert command.stdout == dev_db.partial_path(target), "pg_dump writes a partial file first"
    assert target.is_file() and not dev_db.partial_path(target).exists(), "which becomes the given file"


def test_dev_dump_defaults_to_a_timestamped_file_per_stack(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = FakeRunner()
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert dev_db.main(["dump", "--stack", "alice"], runner=runner, now=now) == 0
    (command,) = runner.commands
    assert command.argv[2] == "dreamscape-alice-postgres-0"
    assert command.stdout == dev_db.partial_path(Path("backups/alice-dreamscape-20250102T030405Z.dump"))
    assert Path("backups/alice-dreamscape-20250102T030405Z.dump").is_file(), "the dump lands there"


def test_a_failed_dev_dump_leaves_no_file_and_keeps_an_earlier_dump(tmp_path: Path) -> None:
    fresh, earlier = tmp_path / "fresh.dump", tmp_path / "earlier.dump"
    earlier.write_bytes(b"PGDMP earlier")
    for target in (fresh, earlier):
        runner = FakeRunner(fail={("docker", "exec")})
        assert dev_db.main(["dump", str(target)], runner=runner) == 1, "the failure is reported"
    assert not fresh.exists(), "no empty file a restore could mistake for a backup"
    assert earlier.read_bytes() == b"PGDMP earlier", "an earlier dump of the same name is untouched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier.dump"], "no partial file left behind"


def test_a_real_pg_dump_failure_half_way_leaves_no_file(tmp_path: Path) -> None:
    """The real runner, with a `docker` that writes part of a dump and then fails."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text("#!/bin/sh\nprintf PGDMP-half\necho 'connection lost' >&2\nexit 1\n")
    docker.chmod(0o755)
    target = tmp_path / "x.dump"
    runner = SubprocessRunner({"PATH": f"{bin_dir}:/usr/bin:/bin"})
    assert dev_db.main(["dump", str(target)], runner=runner) == 1
    assert list(tmp_path.glob("*.dump")) == [] and list(tmp_path.glob(".*partial")) == [], (
        f"nothing left behind: {sorted(p.name for p in tmp_path.iterdir())}"
    )


def test_dev_restore_feeds_the_file_to_pg_restore(tmp_path: Path) -> None:
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"PGDMP")
    runner = FakeRunner()
    assert dev_db.main(["restore", str(dump)], runner=runner) == 0
    (command,) = runner.commands
    assert command.argv[:4] == ("docker", "exec", "-i", "dreamscape-dev-postgres-0")
    assert "pg_restore" in command.argv and "--clean" in command.argv and command.stdin == dump


def test_dev_restore_refuses_a_missing_file(tmp_path: Path) -> None:
    runner = FakeRunner()
    assert dev_db.main(["restore", str(tmp_path / "nope.dump")], runner=runner) == 2
    assert runner.commands == []


def test_the_cluster_url_is_rewritten_to_the_port_forward() -> None:
    assert restore_postgres.local_mc_host(CLUSTER_URL) == "http://dreamscape-backup:KEY123@127.0.0.1:19000"


def test_the_backup_alias_is_read_from_mcs_config_file_and_a_wrong_file_is_a_clear_error() -> None:
    assert restore_postgres.cluster_url(MC_CONFIG) == CLUSTER_URL, "the alias' URL with its credentials"
    with pytest.raises(CommandError, match="no mc config with the alias 'backup'"):
        restore_postgres.cluster_url('{"version": "10", "aliases": {}}')


def test_prod_restore_downloads_with_the_backup_user_and_pg_restores_via_kubectl() -> None:
    runner = FakeRunner(answers={("kubectl", "--namespace", "dreamscape-prod", "get"):
                                 base64.b64encode(MC_CONFIG.encode()).decode()})
    name = "dreamscape-20250101T020005Z.dump"
    assert restore_postgres.main([name, "--yes"], runner=runner, wait=lambda: None) == 0
    get, download, pg_restore = runner.commands
    assert get.argv[-1] == "jsonpath={.data.mc-config}", "credentials come from mc's config in the CronJob's Secret"
    assert runner.started[0].argv == ("kubectl", "--namespace", "dreamscape-prod", "port-forward",
                                      "service/minio", "19000:9000")
    assert runner.stopped == 1, "the port-forward is stopped after the download"
    assert download.argv[:3] == ("mc", "cp", f"backup/dreamscape-backups/postgres/{name}")
    assert download.env == {"MC_HOST_backup": "http://dreamscape-backup:KEY123@127.0.0.1:19000"}
    assert not any("KEY123" in arg for c in runner.commands for arg in c.argv), "no secret on a command line"
    # CloudNativePG's primary moves between members: the `-rw` Service finds it; its `postgres` container.
    assert pg_restore.argv[:8] == ("kubectl", "--namespace", "dreamscape-prod", "exec", "-i", "service/postgres-rw",
                                   "-c", "postgres")
    assert pg_restore.argv[9:] == ("pg_restore", "-U", "postgres", "-d", "dreamscape", "--clean",
                                   "--if-exists", "--no-owner", "--role=dreamscape_app", "--exit-on-error")
    assert pg_restore.stdin is not None and pg_restore.stdin.name == name, "the downloaded dump is fed in"


def test_prod_restore_asks_before_overwriting() -> None:
    runner = FakeRunner()
    assert restore_postgres.main(["x.dump"], runner=runner, confirm=lambda _q: "no") == 1
    assert runner.commands == [] and runner.started == []


def test_prod_restore_lists_the_dumps() -> None:
    runner = FakeRunner(answers={
        ("kubectl",): base64.b64encode(MC_CONFIG.encode()).decode(),
        ("mc", "ls"): "[2025-01-01 02:00:05 UTC] 1MiB STANDARD a.dump\n"})
    assert restore_postgres.main(["--list"], runner=runner, wait=lambda: None) == 0
    assert runner.argvs()[-1] == ("mc", "ls", "backup/dreamscape-backups/postgres/")
    assert not [c for c in runner.argvs() if "pg_restore" in c], "listing restores nothing"
