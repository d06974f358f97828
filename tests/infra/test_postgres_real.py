"""The app-user bootstrap SQL, run twice by a real PostgreSQL server (idempotent, password re-applied)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from components.config import load
from components.infra.postgres import SUPERUSER_SQL, bootstrap_sql, start_script
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


def initdb_cluster(prefix: str, *auth: str) -> Path:
    """A new temporary directory (owned by `postgres` when we run as root, as initdb insists) holding a
    freshly initialised cluster in `data/`, superuser `postgres`; `auth` are initdb's --auth options."""
    initdb = postgres_bin("initdb")
    if not os.path.exists(initdb):
        require_tool("initdb")
    base = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
    done = as_postgres([initdb, "-D", str(base / "data"), "-U", "postgres", *auth])
    assert done.returncode == 0, done.stderr
    return base


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    with running_server() as running:
        yield running


@contextmanager
def running_server() -> Iterator[tuple[str, int]]:
    """A throwaway PostgreSQL server: (socket directory, port); superuser `postgres`, trust auth."""
    base = initdb_cluster("dreamscape-pg-", "--auth=trust")
    data = base / "data"
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


def psql(server: tuple[str, int], *args: str, user: str = "postgres",
         input: str | None = None) -> subprocess.CompletedProcess[str]:
    host, port = server
    return as_postgres([postgres_bin("psql"), "-h", host, "-p", str(port), "-U", user, "-v", "ON_ERROR_STOP=1", *args],
                       input=input)


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


@pytest.mark.tools
def test_the_servers_start_applies_a_rotated_superuser_password_over_the_local_socket(
        server: tuple[str, int]) -> None:
    verifiers = []
    for password in ("first-superuser-password", "rotated-superuser-password"):
        done = psql(server, "-d", "postgres", "-v", f"superuser_password={password}", input=SUPERUSER_SQL)
        assert done.returncode == 0, f"the start script's statement runs over the socket: {done.stderr}"
        stored = psql(server, "-d", "postgres", "-tAc", "SELECT rolpassword FROM pg_authid WHERE rolname='postgres'")
        verifiers.append(stored.stdout.strip())
    assert all(v.startswith("SCRAM-SHA-256") for v in verifiers), f"stored as SCRAM verifiers: {verifiers}"
    assert verifiers[0] != verifiers[1], "a rotated superuser password replaces the old one on the server"


@pytest.mark.tools
def test_the_start_script_applies_the_superuser_password_and_stops_the_server_cleanly_on_sigterm() -> None:
    """The real start script under sh, with the image's entrypoint replaced by one that starts the Debian
    server binary: the password file's value becomes the superuser's, and SIGTERM shuts down cleanly."""
    bindir = Path(postgres_bin("initdb")).parent
    base = Path(tempfile.mkdtemp(prefix="dreamscape-pgstart-", dir="/tmp"))
    try:
        fake = base / "bin"
        fake.mkdir()
        entrypoint = fake / "docker-entrypoint.sh"
        entrypoint.write_text(f'#!/bin/sh\nprogram="$1"; shift; exec {bindir}/"$program" "$@"\n')
        password = base / "postgres-password"
        password.write_text("rotated-superuser-password")
        for path in (base, fake, entrypoint, password):
            path.chmod(0o755 if path.is_dir() or path == entrypoint else 0o644)
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(base, user.pw_uid, user.pw_gid)
        data = base / "data"
        done = as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"])
        assert done.returncode == 0, done.stderr
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        script = start_script(socket_dir=str(base), password_file=str(password), port=port)
        argv = ["/bin/sh", "-c", script, "postgres", "-D", str(data), "-k", str(base), "-p", str(port),
                "-c", "listen_addresses="]
        # As the `postgres` user directly (no runuser in between): the script gets the signal, as PID 1 would.
        unprivileged: dict[str, Any] = {}
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            unprivileged = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        env = {**os.environ, "PATH": f"{fake}:{bindir}:{os.environ['PATH']}"}
        process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   cwd=base, **unprivileged)
        try:
            query = [str(bindir / "psql"), "-h", str(base), "-p", str(port), "-U", "postgres", "-d", "postgres",
                     "-tAc", "SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname='postgres'"]
            applied = ""
            for _ in range(60):
                applied = as_postgres(query).stdout.strip()
                if applied == "t":
                    break
                time.sleep(0.5)
            assert applied == "t", "the start script set the superuser's password from its file"
            login = as_postgres([str(bindir / "psql"), "-h", str(base), "-p", str(port), "-U", "postgres",
                                 "-d", "postgres", "-tAc", "SELECT 1"])
            assert login.returncode == 0, f"the server keeps answering on its socket: {login.stderr}"
        finally:
            # The script forwards SIGTERM to the server and waits for its shutdown.
            process.send_signal(signal.SIGTERM)
            output = process.communicate(timeout=60)[0]
        assert process.returncode == 0, f"SIGTERM stops the server cleanly (smart shutdown):\n{output}"
        assert "database system is shut down" in output, f"the server shut down, not killed:\n{output}"
    finally:
        shutil.rmtree(base, ignore_errors=True)
