"""Throwaway local daemons for tests that need the real thing: PostgreSQL with SCRAM passwords and an
app role, and Redis with a password. Each runs on a free port and is removed afterwards."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.infra.test_postgres_real import as_postgres, initdb_cluster, postgres_bin
from tests.tooling import require_tool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class PostgresApp:
    port: int
    user: str
    password: str
    database: str


@contextmanager
def postgres_app(user: str, password: str, database: str) -> Iterator[PostgresApp]:
    """A PostgreSQL server on 127.0.0.1 that authenticates TCP clients with SCRAM-SHA-256, with `user`
    owning `database` (as the platform's bootstrap makes the app role)."""
    base = initdb_cluster("dreamscape-pg-app-", "--auth-local=trust", "--auth-host=scram-sha-256")
    data = base / "data"
    port = free_port()
    started = as_postgres([postgres_bin("pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w", "-o",
                           f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start"])
    assert started.returncode == 0, started.stderr
    try:
        for sql in (f"CREATE ROLE {user} LOGIN PASSWORD '{password}'", f"CREATE DATABASE {database} OWNER {user}"):
            made = as_postgres([postgres_bin("psql"), "-h", str(base), "-p", str(port), "-U", "postgres",
                                "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql])
            assert made.returncode == 0, made.stderr
        yield PostgresApp(port, user, password, database)
    finally:
        as_postgres([postgres_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def redis_server(password: str) -> Iterator[int]:
    """redis-server on 127.0.0.1 with `requirepass`; yields its port."""
    server = require_tool("redis-server")
    port = free_port()
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--requirepass", password,
                                "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
