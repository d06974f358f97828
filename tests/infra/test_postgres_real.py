"""The app-user bootstrap SQL, run twice by a real PostgreSQL server (idempotent, password re-applied)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from components.config import load
from components.infra.postgres import bootstrap_sql
from tests.harness import config_bag
from tests.tooling import require_tool


def postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else require_tool(name)


def as_postgres(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """PostgreSQL refuses to run as root; CI runs as root, so drop to the `postgres` user."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    done: subprocess.CompletedProcess[str] = subprocess.run(  # type: ignore[call-overload]
        args, capture_output=True, text=True, timeout=120, check=False, **kwargs
    )
    return done


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    with running_server() as running:
        yield running


@contextmanager
def running_server() -> Iterator[tuple[str, int]]:
    """A throwaway PostgreSQL server: (socket directory, port); superuser `postgres`, trust auth."""
    initdb = postgres_bin("initdb")
    if not os.path.exists(initdb):
        require_tool("initdb")
    base = Path(tempfile.mkdtemp(prefix="dreamscape-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
    data = base / "data"
    done = as_postgres([initdb, "-D", str(data), "-U", "postgres", "--auth=trust"])
    assert done.returncode == 0, done.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    # -l sends the server's output to a file, so it does not hold our pipes open.
    started = as_postgres([postgres_bin("pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w", "-o",
                           f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start"])
    assert started.returncode == 0, started.stderr
    try:
        yield str(base), port
    finally:
        as_postgres([postgres_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(base, ignore_errors=True)


def psql(server: tuple[str, int], *args: str, user: str = "postgres") -> subprocess.CompletedProcess[str]:
    host, port = server
    return as_postgres([postgres_bin("psql"), "-h", host, "-p", str(port), "-U", user, "-v", "ON_ERROR_STOP=1", *args])


@pytest.mark.tools
def test_bootstrap_creates_the_app_role_and_database_and_can_run_again(server: tuple[str, int]) -> None:
    config = load("dev", config_bag("dev")).postgres
    script = Path(server[0]) / "bootstrap.sql"
    script.write_text(bootstrap_sql(config))
    os.chmod(script, 0o644)
    for password in ("first-password", "rotated-password"):
        done = psql(server, "-d", "postgres", "-v", f"app_password={password}", "-f", str(script))
        assert done.returncode == 0, f"bootstrap must succeed on every run: {done.stderr}"
    roles = psql(server, "-d", "postgres", "-tAc",
                 f"SELECT rolcanlogin FROM pg_roles WHERE rolname='{config.app_user}'")
    assert roles.stdout.strip() == "t", "the app role exists and can log in"
    owner = psql(server, "-d", "postgres", "-tAc",
                 f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname='{config.database}'")
    assert owner.stdout.strip() == config.app_user, "the app database belongs to the app role"
    secret = psql(server, "-d", "postgres", "-tAc",
                  f"SELECT rolpassword LIKE 'SCRAM-SHA-256%' FROM pg_authid WHERE rolname='{config.app_user}'")
    assert secret.stdout.strip() == "t", "the (rotated) password is stored as a SCRAM verifier"
