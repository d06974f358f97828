"""The restore job's script and check query, proved against a real PostgreSQL restore.

A primary archives its WAL into a directory (`archive_command`), a base backup is taken without WAL
(`pg_basebackup -X none`: only the archive can make it consistent), and the application's table is created
after the backup, so it exists in the restore only if the archived WAL was replayed. The job's own script
(restore_verify.sh) then runs with a stand-in `kubectl` (tests/infra/cnpg_kubectl_stub.py) whose "cluster"
is that backup restored into a new data directory and started in archive recovery.

The job's exit status is what the last-verified-restore metric is made of (the CronJob's last success), so
"the metric is not updated" is "the script exits non-zero": with the checked table missing or empty, or with
an archive that cannot make the backup consistent. Every run deletes its throwaway server.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.restore_check import check_sql
from components.targets.kubernetes.restore_verify import SCRIPT
from tests.daemons import free_port
from tests.infra.test_postgres_real import as_postgres, postgres_bin
from tests.tooling import require_tool

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "dreamscape"

pytestmark = pytest.mark.tools


@dataclass(frozen=True)
class Backup:
    base: Path
    """Owned by `postgres` (the server must read and write it): the backup, the archive, the stub's state."""
    backup: Path
    archive: Path


def _psql(base: Path, port: int, database: str, sql: str) -> None:
    done = subprocess.run([postgres_bin("psql"), "-X", "-v", "ON_ERROR_STOP=1", "-h", str(base), "-p", str(port),
                           "-U", "postgres", "-d", database, "-c", sql], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def backup() -> Iterator[Backup]:
    """A base backup and the WAL archived after it; the table `public.voyages` (3 rows) and the empty
    `public.drafts` exist only in the archived WAL."""
    require_tool("pg_basebackup", postgres_bin("pg_basebackup"))
    base = Path(tempfile.mkdtemp(prefix="dreamscape-restore-", dir="/tmp"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
    archive, data = base / "archive", base / "primary"
    for made in (as_postgres(["mkdir", str(archive)]),
                 as_postgres([postgres_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"])):
        assert made.returncode == 0, made.stderr
    port = free_port()
    started = as_postgres([postgres_bin("pg_ctl"), "-D", str(data), "-l", str(base / "primary.log"), "-w", "-o",
                           f"-p {port} -k {base} -c listen_addresses='' -c wal_level=replica -c archive_mode=on "
                           f"-c archive_command='cp %p {archive}/%f'", "start"])
    assert started.returncode == 0, started.stderr
    try:
        _psql(base, port, "postgres", f"CREATE DATABASE {DATABASE}")
        taken = as_postgres([postgres_bin("pg_basebackup"), "-h", str(base), "-p", str(port), "-U", "postgres",
                             "-D", str(base / "backup"), "-X", "none", "--checkpoint=fast"])
        assert taken.returncode == 0, taken.stderr
        _psql(base, port, DATABASE, "CREATE TABLE public.voyages (id int); INSERT INTO public.voyages "
                                    "VALUES (1), (2), (3); CREATE TABLE public.drafts (id int)")
        _psql(base, port, "postgres", "SELECT pg_switch_wal()")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(archive.glob("*.backup")):
            time.sleep(0.2)
        time.sleep(1)  # the switched segment follows the backup history file into the archive
    finally:
        as_postgres([postgres_bin("pg_ctl"), "-D", str(data), "-m", "fast", "stop"])
    try:
        yield Backup(base=base, backup=base / "backup", archive=archive)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class Run:
    status: int
    output: str
    calls: list[str]
    left_running: bool


def run_job(backup: Backup, table: str | None, archive: Path | None = None, timeout: int = 40,
            leftover: bool = False) -> Run:
    """restore_verify.sh, as the CronJob runs it, with the stub kubectl first on PATH. `leftover`: the stub
    starts with a throwaway cluster already present (an earlier run that could not delete it)."""
    state = Path(tempfile.mkdtemp(prefix="state-", dir=backup.base))
    if os.geteuid() == 0:
        shutil.chown(state, "postgres", "postgres")
    stub_dir = state / "bin"
    stub_dir.mkdir()
    stub = stub_dir / "kubectl"
    stub.write_text(f'#!/bin/sh\nexec {sys.executable} -m tests.infra.cnpg_kubectl_stub "$@"\n')
    stub.chmod(0o755)
    (state / "check.sql").write_text(check_sql(table) + "\n")
    (state / "cluster.yaml").write_text("{}\n")
    if leftover:
        (state / "created").touch()
    env = {"PATH": f"{stub_dir}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT), "HOME": str(state),
           "CLUSTER": "postgres-restore-check", "MANIFEST": str(state / "cluster.yaml"),
           "CHECK_SQL": str(state / "check.sql"), "DATABASE": DATABASE, "TIMEOUT_SECONDS": str(timeout),
           "POLL_SECONDS": "0.5", "STUB_STATE": str(state), "STUB_BACKUP": str(backup.backup),
           "STUB_ARCHIVE": str(archive or backup.archive), "STUB_PORT": str(free_port())}
    done = subprocess.run(["/bin/sh", str(SCRIPT)], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=timeout + 60, check=False)
    calls = (state / "calls.log").read_text().splitlines()
    return Run(done.returncode, done.stdout + done.stderr, calls, (state / "restored").exists())


def deleted_after_create(run: Run) -> bool:
    verbs = [call.split()[0] for call in run.calls]
    created = len(verbs) - 1 - verbs[::-1].index("create")
    return "delete" in verbs[created:] and not run.left_running


def test_a_restore_whose_archive_replays_passes_and_reports_the_restored_database(backup: Backup) -> None:
    run = run_job(backup, "public.voyages")
    assert run.status == 0, f"a good backup verifies:\n{run.output}"
    assert f"verified: database, tables, last replayed commit: {DATABASE} 2 " in run.output, (
        f"it says what was restored (the two tables exist only in the archived WAL):\n{run.output}")
    assert deleted_after_create(run), f"the throwaway is deleted afterwards: {run.calls}"


def test_the_default_check_passes_when_the_database_holds_any_table(backup: Backup) -> None:
    run = run_job(backup, None)
    assert run.status == 0, run.output


@pytest.mark.parametrize(("table", "reason"), [
    ("public.missing", "table public.missing is missing from the restored database"),
    ("public.drafts", "table public.drafts is empty in the restored database"),
])
def test_a_restore_without_the_checked_data_fails_and_is_still_deleted(backup: Backup, table: str,
                                                                        reason: str) -> None:
    run = run_job(backup, table)
    assert run.status != 0, f"{table}: the run must fail, so no verified restore is recorded:\n{run.output}"
    assert reason in run.output and "FAILED: the check query failed" in run.output, run.output
    assert deleted_after_create(run), f"deleted on failure too: {run.calls}"


def test_an_archive_that_cannot_make_the_backup_consistent_fails_the_run(backup: Backup) -> None:
    empty = Path(tempfile.mkdtemp(prefix="empty-archive-", dir=backup.base))
    if os.geteuid() == 0:
        shutil.chown(empty, "postgres", "postgres")
    run = run_job(backup, None, archive=empty, timeout=15)
    assert run.status != 0, f"a backup without its WAL never becomes ready:\n{run.output}"
    assert "not ready after 15s" in run.output, run.output
    assert not any(call.startswith("exec") for call in run.calls), "no check runs on a cluster that is not ready"
    assert deleted_after_create(run), f"deleted: {run.calls}"


def test_a_cluster_left_by_an_earlier_run_is_deleted_before_the_restore(backup: Backup) -> None:
    run = run_job(backup, None, leftover=True)
    assert run.status == 0, run.output
    assert run.calls[1].startswith("delete") and run.calls[3].startswith("create"), f"deleted first: {run.calls}"
    assert "left by an earlier run" in run.output


def test_the_script_is_strict_posix_sh_and_shellcheck_clean() -> None:
    shellcheck = require_tool("shellcheck")
    text = SCRIPT.read_text()
    assert text.startswith("#!/bin/sh\n") and "\nset -eu\n" in text, "POSIX sh that stops on any failure"
    done = subprocess.run([shellcheck, "--shell=sh", "--severity=style", str(SCRIPT)], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 0, f"shellcheck findings:\n{done.stdout}"
