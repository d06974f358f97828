"""The reference application's migrations and seed data against a real PostgreSQL server, run the way the
platform's migration task runs them: `npm run migrate` (then `npm run seed`) in the service's directory,
as the app role, with the password from DATABASE_PASSWORD_FILE."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.pods.bigpod import MIGRATE, SEED
from tests.daemons import PostgresApp, postgres_app
from tests.infra.test_postgres_real import as_postgres, postgres_bin
from tests.tooling import require_tool

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("auth", "user", "voyage", "payment")


@pytest.fixture(scope="module")
def app() -> Iterator[Path]:
    npm = require_tool("npm")
    require_tool("node")
    root = Path(tempfile.mkdtemp(prefix="dreamscape-migrations-", dir="/tmp"))
    for service in SERVICES:
        source = REPO_ROOT / "reference-app" / "dreamscape-services" / service
        shutil.copytree(source, root / service, ignore=shutil.ignore_patterns("node_modules"))
        installed = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=root / service,
                                   capture_output=True, text=True, timeout=300, check=False)
        assert installed.returncode == 0, f"npm ci in {service} failed: {installed.stderr}"
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def database() -> Iterator[PostgresApp]:
    if not os.path.exists(postgres_bin("initdb")):
        require_tool("initdb")
    with postgres_app("dreamscape_app", "app-secret-pw", "dreamscape") as running:
        yield running


def _run(app: Path, service: str, command: str, database: PostgresApp) -> subprocess.CompletedProcess[str]:
    password = app / f"{service}-password"
    password.write_text(database.password)
    env = {
        "PATH": os.environ["PATH"], "HOME": str(app), "npm_config_cache": str(app / ".npm"),
        "DATABASE_HOST": "127.0.0.1", "DATABASE_PORT": str(database.port), "DATABASE_NAME": database.database,
        "DATABASE_USER": database.user, "DATABASE_PASSWORD_FILE": str(password),
    }
    return subprocess.run(["/bin/sh", "-c", command], cwd=app / service, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def _sql(database: PostgresApp, query: str) -> str:
    host = "127.0.0.1"
    done = as_postgres([postgres_bin("psql"), "-h", host, "-p", str(database.port), "-U", database.user,
                        "-d", database.database, "-tAc", query], env={**os.environ, "PGPASSWORD": database.password})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.tools
def test_every_service_migrates_as_the_app_role_and_a_second_run_changes_nothing(
    app: Path, database: PostgresApp,
) -> None:
    for attempt in (1, 2):
        for service in SERVICES:
            done = _run(app, service, MIGRATE, database)
            assert done.returncode == 0, f"{service} migrate (run {attempt}): {done.stdout}{done.stderr}"
    versions = _sql(database, "SELECT service || ':' || version FROM schema_migrations ORDER BY 1")
    assert versions.split() == sorted(f"{s}:1" for s in SERVICES), f"each migration applied once: {versions}"
    owner = _sql(database, "SELECT tableowner FROM pg_tables WHERE tablename = 'auth_accounts'")
    assert owner == database.user, "the tables belong to the app role, not the superuser"


@pytest.mark.tools
def test_the_seed_creates_the_test_accounts_of_seed_000_and_can_run_again(app: Path, database: PostgresApp) -> None:
    for _ in range(2):
        done = _run(app, "auth", f"{MIGRATE} && {SEED}", database)
        assert done.returncode == 0, f"migrate and seed: {done.stdout}{done.stderr}"
    accounts = _sql(database, "SELECT email || ':' || role FROM auth_accounts ORDER BY email")
    assert accounts.split() == ["dev@dreamscape.ai:admin", "john@example.com:user"], accounts
    check = ("const kit = require('./lib/kit'); const [hash] = process.argv.slice(1);"
             "process.exit(kit.verifyPassword('password123', hash) ? 0 : 1)")
    stored = _sql(database, "SELECT password_hash FROM auth_accounts WHERE email = 'john@example.com'")
    assert "password123" not in stored, "passwords are stored hashed"
    verified = subprocess.run(["node", "-e", check, stored], cwd=app / "auth", capture_output=True, text=True,
                              timeout=30, check=False)
    assert verified.returncode == 0, f"the seed's password verifies: {verified.stderr}"


@pytest.mark.tools
def test_a_failing_migration_exits_non_zero_and_says_which_service_and_version(
    app: Path, database: PostgresApp,
) -> None:
    broken = app / "broken"
    shutil.copytree(app / "auth", broken, dirs_exist_ok=True, symlinks=True)
    (broken / "migrate.js").write_text(
        "const kit = require('./lib/kit');\n"
        "kit.migrate('broken', [{ version: 1, sql: 'CREATE TABLE t (id int)' },"
        " { version: 2, sql: 'ALTER TABLE missing ADD COLUMN x int' }]);\n"
    )
    done = _run(app, "broken", MIGRATE, database)
    assert done.returncode != 0, f"a failed migration fails the task: {done.stdout}"
    assert "broken: migration failed: version 2" in done.stderr, done.stderr
    assert _sql(database, "SELECT string_agg(version::text, ',') FROM schema_migrations WHERE service = 'broken'") \
        == "1", "the steps before the failure stay applied; the failed one is rolled back"
    assert json.loads((broken / "package.json").read_text())["scripts"]["migrate"] == "node migrate.js", "same script"
