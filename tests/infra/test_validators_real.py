"""The config validators and the real daemons agree on the boundary values.

Each test hands the same values to a validator and to the daemon that will consume them (PostgreSQL's GUC
parser, Redis' CONFIG SET, promtool's duration parser) and requires the same verdict, so a validator can
neither refuse what the daemon takes within our grammar nor pass what the daemon would refuse at deploy.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.config.quantities import postgres_guc_base_units, redis_memory_bytes
from components.config.rules import prometheus_duration_ms
from tests.infra.test_postgres_real import as_postgres, initdb_cluster, postgres_bin
from tests.infra.test_redis_real import free_port
from tests.tooling import require_tool

POSTGRES_BOUNDARIES = {
    # 8kB blocks from 16 to INT_MAX/2, rounded half to even: 124kB is 15.5 blocks -> 16.
    "shared_buffers": ["0MB", "120kB", "123kB", "124kB", "127kB", "128kB", "2GB", "8191GB", "8TB"],
    # kB from 64 to INT_MAX.
    "work_mem": ["0MB", "63kB", "64kB", "10MB", "2097151MB", "2097152MB"],
    # 8kB blocks from 1 to INT_MAX: 4kB rounds to 0 blocks.
    "effective_cache_size": ["3kB", "4kB", "8kB", "12kB", "6GB", "16383GB", "16384GB"],
}


def _accepts(check: object, *args: str) -> bool:
    try:
        check(*args)  # type: ignore[operator]
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    base = initdb_cluster("dreamscape-pg-guc-", "--auth=trust")
    yield base / "data"
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.tools
@pytest.mark.parametrize(("guc", "value"), [(g, v) for g, values in POSTGRES_BOUNDARIES.items() for v in values])
def test_postgres_and_the_guc_validator_agree_on_memory_settings(data_dir: Path, guc: str, value: str) -> None:
    # `postgres -C` parses the setting exactly as at start-up, prints it in base units, and exits.
    done = as_postgres([postgres_bin("postgres"), "-D", str(data_dir), "-c", f"{guc}={value}", "-C", guc])
    ours = _accepts(postgres_guc_base_units, guc, value)
    assert ours == (done.returncode == 0), (
        f"{guc}={value}: validator {'accepts' if ours else 'refuses'}, postgres says: {done.stdout}{done.stderr}"
    )
    if ours:
        assert int(done.stdout.strip()) == postgres_guc_base_units(guc, value), f"same base units for {value}"


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [require_tool("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if _redis(port, "ping") == "PONG":
                break
            process.poll()
            subprocess.run(["sleep", "0.1"], check=False)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _redis(port: int, *args: str) -> str:
    done = subprocess.run([require_tool("redis-cli"), "-p", str(port), *args], capture_output=True, text=True,
                          check=False, timeout=30)
    return done.stdout.strip()


@pytest.mark.tools
@pytest.mark.parametrize("value", ["1kb", "64mb", "2gb", "2GB", "2Gb", "1.5gb", "2gib", "-1mb", "2 gb"])
def test_redis_and_the_maxmemory_grammar_agree_on_size_and_validity(redis_port: int, value: str) -> None:
    # Our grammar is the binary-unit subset (kb/mb/gb); Redis' plain bytes and decimal k/m/g are left out
    # on purpose so a size always reads the same in the stack file and in the container limit.
    answer = _redis(redis_port, "config", "set", "maxmemory", value)
    ours = _accepts(redis_memory_bytes, value)
    assert ours == (answer == "OK"), f"maxmemory {value}: validator {ours}, redis answered {answer!r}"
    if ours:
        reported = _redis(redis_port, "config", "get", "maxmemory").splitlines()[-1]
        assert int(reported) == redis_memory_bytes(value), f"{value} is the same number of bytes for both"


@pytest.mark.tools
def test_redis_reads_a_zero_maxmemory_as_no_limit_which_is_why_it_is_refused(redis_port: int) -> None:
    assert _redis(redis_port, "config", "set", "maxmemory", "0mb") == "OK", "Redis takes 0"
    assert _redis(redis_port, "config", "get", "maxmemory").splitlines()[-1] == "0", "0 = unlimited in Redis"
    from components.config.quantities import redis_maxmemory_bytes

    assert not _accepts(redis_maxmemory_bytes, "0mb"), "the validator refuses the unlimited setting"


@pytest.mark.tools
@pytest.mark.parametrize(
    "value", ["0", "1h30m", "30m1h", "1h1h", "1.5h", "90s", "1ms", "01h", "1y2w3d4h5m6s7ms", "1d1w", "", "1x", "5m0s"]
)
def test_promtool_and_the_duration_validator_agree(tmp_path: Path, value: str) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n"
        f"    for: {value!r}\n".replace("'", '"')
    )
    done = subprocess.run([require_tool("promtool"), "check", "rules", str(rules)], capture_output=True, text=True,
                          check=False, timeout=60)
    ours = _accepts(prometheus_duration_ms, value)
    assert ours == (done.returncode == 0), f"duration {value!r}: validator {ours}, promtool: {done.stdout}{done.stderr}"


NAMES = ["dreamscape_app", "postgres", "pg_app", "user", "public", "none", "select", "authorization", "verbose",
         "current_user", "template1", "postgres_app", "pg_data", "_x", "a" * 63]


@pytest.fixture(scope="module")
def pg_server() -> Iterator[tuple[str, int]]:
    from tests.infra.test_postgres_real import running_server

    with running_server() as running:
        yield running


@pytest.mark.tools
@pytest.mark.parametrize("name", NAMES)
def test_postgres_and_the_role_validator_agree_on_application_roles(pg_server: tuple[str, int], name: str) -> None:
    from components.config.rules import postgres_role
    from tests.infra.test_postgres_real import psql

    # The bootstrap writes the role unquoted. Accepted means: CREATE ROLE works AND the role is no superuser.
    created = psql(pg_server, "-d", "postgres", "-c", f"CREATE ROLE {name} LOGIN")
    exists = psql(pg_server, "-d", "postgres", "-tAc", f"SELECT rolsuper FROM pg_roles WHERE rolname = '{name}'")
    usable = exists.stdout.strip() == "f" and (created.returncode == 0)
    ours = _accepts(postgres_role, name)
    assert ours == usable, (f"role {name!r}: validator {'accepts' if ours else 'refuses'}, PostgreSQL: "
                            f"{created.stderr.strip() or 'created'}, superuser={exists.stdout.strip() or '-'}")


@pytest.mark.tools
@pytest.mark.parametrize("name", NAMES)
def test_postgres_and_the_database_validator_agree_on_application_databases(
    pg_server: tuple[str, int], name: str
) -> None:
    from components.config.rules import postgres_database
    from tests.infra.test_postgres_real import psql

    # Accepted means: CREATE DATABASE works, so the application gets a database of its own (the bootstrap
    # skips the CREATE when a database of that name exists, and `postgres`/`template1` always do).
    created = psql(pg_server, "-d", "postgres", "-c", f"CREATE DATABASE {name}")
    ours = _accepts(postgres_database, name)
    assert ours == (created.returncode == 0), (
        f"database {name!r}: validator {'accepts' if ours else 'refuses'}, PostgreSQL: "
        f"{created.stderr.strip() or 'created'}"
    )


@pytest.mark.tools
def test_the_keyword_lists_cover_what_the_real_parser_reserves(pg_server: tuple[str, int]) -> None:
    from components.config.rules import POSTGRES_RESERVED_KEYWORDS, POSTGRES_TYPE_FUNC_NAME_KEYWORDS
    from tests.infra.test_postgres_real import psql

    for code, ours in (("R", POSTGRES_RESERVED_KEYWORDS), ("T", POSTGRES_TYPE_FUNC_NAME_KEYWORDS)):
        query = f"SELECT word FROM pg_get_keywords() WHERE catcode = '{code}'"
        words = psql(pg_server, "-d", "postgres", "-tAc", query)
        missing = set(words.stdout.split()) - ours
        assert words.stdout.split() and not missing, f"category {code} key words missing from the rules: {missing}"
