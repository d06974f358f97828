"""Encryption in transit, proven with real daemons: `postgres` and `redis-server` run the settings the
program renders, on a certificate laid out as cert-manager writes its Secret (`tls.crt`, `tls.key`,
`ca.crt`, kubelet-style `..data` links; tests/certs.py), and clients connect with the rendered client
settings: they succeed with the environment's CA and the name the certificate carries, and fail with
another CA or another host name.

Only the directory differs from a pod: the rendered paths under /run/tls are pointed at the test's
temporary directory (and Redis' port at a free one); every other setting is the program's own. Names such
as `postgres-rw` and `redis` are dialled as such: libpq through `hostaddr`, Node through a lookup that
answers 127.0.0.1 for them (tests/fixtures/loopback-names.js); redis-cli checks the chain only, so the
host-name cases go through the reference application's own Redis client (reference-app/common/kit.js)."""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.config import load
from components.infra import postgres, redis
from components.targets.kubernetes.facts import KubernetesFacts
from tests.certs import Authority, authority, issue, serial_of
from tests.daemons import free_port
from tests.harness import ROOT, config_bag
from tests.infra.test_postgres_real import as_postgres, initdb_cluster, postgres_bin
from tests.tooling import require_tool

pytestmark = pytest.mark.tools

PASSWORD = "test-only-password"
LOOPBACK = ROOT / "tests" / "fixtures" / "loopback-names.js"
KIT = ROOT / "reference-app" / "common" / "kit.js"


def _hosts() -> tuple[str, ...]:
    """The names prod's clients dial, from the platform's own answer (`-rw`, `-ro`)."""
    facts = KubernetesFacts(environment="prod", namespace="dreamscape-prod", storage_class="local-path",
                            dns_resolver="10.43.0.10", location="test")
    return postgres.certificate(facts.database_hosts(postgres.NAME)).dns_names


@pytest.fixture
def pki(tmp_path: Path) -> tuple[Authority, Authority]:
    """The environment's CA, and another one nobody here trusts."""
    return authority(tmp_path / "ca"), authority(tmp_path / "other-ca", "another CA")


# -- Postgres --------------------------------------------------------------------------------------------

@pytest.fixture
def tls_postgres(tmp_path: Path, pki: tuple[Authority, Authority]) -> Iterator[tuple[int, Path]]:
    """A PostgreSQL server with the rendered TLS settings; (port, CA file)."""
    ca, _ = pki
    base = initdb_cluster("dreamscape-pg-tls-", "--auth=trust")
    server_dir = base / "tls"
    issue(ca, server_dir, _hosts())
    if os.geteuid() == 0:
        # The server refuses a key another user owns (or anyone else may read); the kubelet gives the pod's
        # fsGroup 0440 on CloudNativePG's copy, which the operator owns.
        owner = pwd.getpwnam("postgres")
        for path in [server_dir, *server_dir.iterdir(), *server_dir.resolve().parent.glob(".tls-*/*"),
                     *server_dir.resolve().parent.glob(".tls-*")]:
            os.lchown(path, owner.pw_uid, owner.pw_gid)
    # The rendered rule first, as CloudNativePG puts its user rules ahead of its catch-all password rule.
    hba = base / "data" / "pg_hba.conf"
    hba.write_text(f"{postgres.REJECT_PLAINTEXT}\n{hba.read_text()}")
    port = free_port()
    settings = postgres.server_tls_settings(str(server_dir))
    options = " ".join(f"-c {key}={value}" for key, value in settings.items())
    started = as_postgres([postgres_bin("pg_ctl"), "-D", str(base / "data"), "-l", str(base / "server.log"), "-w",
                           "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 {options}", "start"])
    assert started.returncode == 0, started.stderr + (base / "server.log").read_text()
    try:
        yield port, ca.cert
    finally:
        as_postgres([postgres_bin("pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "stop"])
        subprocess.run(["rm", "-rf", str(base)], check=False)


def _psql(port: int, host: str, ca_file: Path, sql: str) -> subprocess.CompletedProcess[str]:
    """psql with the rendered client environment and the rendered URL's parameters, dialling `host`."""
    query = postgres.url_query(True, str(ca_file))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **postgres.client_env(True, str(ca_file))}
    url = f"postgresql://postgres@{host}:{port}/postgres?{query}&hostaddr=127.0.0.1&connect_timeout=5"
    return subprocess.run([require_tool("psql"), url, "-tAc", sql], capture_output=True, text=True,
                          timeout=60, check=False, env=env)


def test_postgres_clients_verify_the_server_and_its_name(tls_postgres: tuple[int, Path],
                                                         pki: tuple[Authority, Authority]) -> None:
    port, ca_file = tls_postgres
    _, other = pki
    assert postgres.client_env(True)["PGSSLMODE"] == "verify-full", "the rendered mode checks chain and name"
    for host in _hosts():
        done = _psql(port, host, ca_file, "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert done.returncode == 0, f"{host}: the environment's CA verifies the server: {done.stderr}"
        assert done.stdout.strip() == "t|TLSv1.3", f"{host}: encrypted with TLS 1.3 as rendered: {done.stdout}"
    wrong_ca = _psql(port, _hosts()[0], other.cert, "SELECT 1")
    assert wrong_ca.returncode != 0 and "certificate verify failed" in wrong_ca.stderr, (
        f"a server whose certificate another CA signed is refused: {wrong_ca.stderr}")
    wrong_name = _psql(port, "postgres-impostor", ca_file, "SELECT 1")
    assert wrong_name.returncode != 0 and "does not match host name" in wrong_name.stderr, (
        f"this environment's certificate for another host is refused: {wrong_name.stderr}")
    plaintext = subprocess.run([require_tool("psql"), f"postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable",
                                "-tAc", "SELECT 1"], capture_output=True, text=True, timeout=60, check=False,
                               env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    assert plaintext.returncode != 0 and "no encryption" in plaintext.stderr, (
        f"the server refuses a client that skips TLS: {plaintext.stderr}")


@pytest.fixture(scope="module")
def auth_service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference auth service (its rendered lib/kit.js and its locked node-postgres), installed."""
    app = tmp_path_factory.mktemp("auth") / "auth"
    shutil.copytree(ROOT / "reference-app" / "dreamscape-services" / "auth", app,
                    ignore=shutil.ignore_patterns("node_modules"))
    installed = subprocess.run([require_tool("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=app,
                               capture_output=True, text=True, timeout=600, check=False,
                               env={**os.environ, "npm_config_cache": str(app.parent / ".npm"),
                                    "npm_config_update_notifier": "false"})
    assert installed.returncode == 0, f"npm ci: {installed.stderr}"
    return app


def _kit_query(app: Path, port: int, host: str, ca_file: Path) -> subprocess.CompletedProcess[str]:
    """The auth service's own Postgres pool, configured by the rendered link environment, dialling `host`."""
    password = app.parent / "database-password"
    password.write_text("unused-with-trust")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TEST_LOOPBACK_NAMES": host,
           **{key: value for key, value in postgres.client_env(True, str(ca_file)).items()
              if key.startswith("DATABASE_")},
           "DATABASE_HOST": host, "DATABASE_PORT": str(port), "DATABASE_NAME": "postgres",
           "DATABASE_USER": "postgres", "DATABASE_PASSWORD_FILE": str(password)}
    script = ("const db = require('./lib/kit.js').postgresFromEnv(); db.query('SELECT ssl FROM pg_stat_ssl "
              "WHERE pid = pg_backend_pid()').then((r) => { console.log(JSON.stringify(r.rows)); return db.end(); },"
              " (e) => { console.error(e.message); process.exit(1); })")
    return subprocess.run([require_tool("node", "nodejs"), "-r", str(LOOPBACK), "-e", script], cwd=app,
                          capture_output=True, text=True, timeout=60, check=False, env=env)


def test_the_reference_application_verifies_postgres_by_name(tls_postgres: tuple[int, Path], auth_service: Path,
                                                              pki: tuple[Authority, Authority]) -> None:
    port, ca_file = tls_postgres
    _, other = pki
    ok = _kit_query(auth_service, port, _hosts()[0], ca_file)
    assert ok.returncode == 0 and '"ssl":true' in ok.stdout, f"node-postgres verifies and encrypts: {ok.stderr}"
    wrong_name = _kit_query(auth_service, port, "postgres-impostor", ca_file)
    assert wrong_name.returncode != 0 and "altnames" in wrong_name.stderr, wrong_name.stderr
    wrong_ca = _kit_query(auth_service, port, _hosts()[0], other.cert)
    assert wrong_ca.returncode != 0 and "certificate" in wrong_ca.stderr, wrong_ca.stderr


# -- Redis -----------------------------------------------------------------------------------------------

def _redis_conf(tmp_path: Path, server_dir: Path, port: int, stack: str = "dev") -> Path:
    """The stack's rendered redis.conf with TLS (dev: standalone), its paths and port pointed at the test's."""
    config = load(stack, config_bag(stack)).redis
    auth = tmp_path / "auth.conf"
    auth.write_text(f"requirepass {PASSWORD}\nmasterauth {PASSWORD}\n")
    conf = redis.redis_conf(config, transit_tls=True, tls_dir=str(server_dir))
    assert re.search(r"^port 0$", conf, flags=re.M), "no plaintext port at all"
    conf = re.sub(r"^include .*$", f"include {auth}", conf, flags=re.M)
    conf = re.sub(r"^dir .*$", f"dir {tmp_path}", conf, flags=re.M)
    conf = re.sub(r"^tls-port .*$", f"tls-port {port}", conf, flags=re.M)
    conf = re.sub(r"^bind .*$", "bind 127.0.0.1", conf, flags=re.M)
    conf = re.sub(r"^maxmemory .*$", "maxmemory 64mb", conf, flags=re.M)
    path = tmp_path / "redis.conf"
    path.write_text(conf)
    return path


@pytest.fixture
def tls_redis(tmp_path: Path, pki: tuple[Authority, Authority]) -> Iterator[tuple[int, Path]]:
    """A redis-server with the rendered TLS config; (port, server certificate directory)."""
    ca, _ = pki
    server_dir = issue(ca, tmp_path / "server", redis.certificate(load("dev", config_bag("dev")).redis).dns_names)
    port = free_port()
    process = subprocess.Popen([require_tool("redis-server"), str(_redis_conf(tmp_path, server_dir, port))],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if "PONG" in _cli(port, ca.cert, "ping").stdout:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("redis-server never answered over TLS")
        yield port, server_dir
    finally:
        process.terminate()
        process.wait(timeout=10)


def _cli(port: int, ca_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """redis-cli with the rendered TLS flags (as the bootstrap task and the probe run it)."""
    flags = redis.cli_tls_args(True, str(ca_file)).split()
    return subprocess.run([require_tool("redis-cli"), *flags, "-h", "127.0.0.1", "-p", str(port), *args],
                          capture_output=True, text=True, timeout=30, check=False,
                          env={"REDISCLI_AUTH": PASSWORD, "PATH": "/usr/bin:/bin"})


def _kit_ping(port: int, ca_file: Path, host: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The reference application's Redis client, configured by the rendered link environment."""
    password = tmp_path / "redis-password"
    password.write_text(PASSWORD)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TEST_LOOPBACK_NAMES": f"{host}",
           **redis.client_env(True, str(ca_file)),
           "REDIS_HOST": host, "REDIS_PORT": str(port), "REDIS_PASSWORD_FILE": str(password)}
    script = (f"require({json.dumps(str(KIT))}).redisFromEnv().command(['PING'])"
              ".then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e.message); process.exit(1); })")
    return subprocess.run([require_tool("node", "nodejs"), "-r", str(LOOPBACK), "-e", script], capture_output=True,
                          text=True, timeout=60, check=False, env=env)


def test_redis_speaks_only_tls_and_clients_verify_the_chain(tls_redis: tuple[int, Path],
                                                           pki: tuple[Authority, Authority]) -> None:
    port, _ = tls_redis
    ca, other = pki
    assert "PONG" in _cli(port, ca.cert, "ping").stdout, "the rendered client flags verify the server"
    wrong_ca = _cli(port, other.cert, "ping")
    assert "PONG" not in wrong_ca.stdout and "certificate verify failed" in wrong_ca.stderr + wrong_ca.stdout, (
        f"another CA's server is refused: {wrong_ca.stderr}")
    plaintext = subprocess.run([require_tool("redis-cli"), "-h", "127.0.0.1", "-p", str(port), "ping"],
                               capture_output=True, text=True, timeout=30, check=False,
                               env={"REDISCLI_AUTH": PASSWORD, "PATH": "/usr/bin:/bin"})
    assert "PONG" not in plaintext.stdout, "a plaintext client gets nothing from the TLS port"
    protocols = _cli(port, ca.cert, "config", "get", "tls-protocols").stdout
    assert "TLSv1.3" in protocols, f"redis.tlsSettings reach the server: {protocols}"


def test_the_reference_application_verifies_redis_by_name(tls_redis: tuple[int, Path], tmp_path: Path,
                                                          pki: tuple[Authority, Authority]) -> None:
    port, _ = tls_redis
    ca, other = pki
    ok = _kit_ping(port, ca.cert, redis.NAME, tmp_path)
    assert ok.returncode == 0 and "PONG" in ok.stdout, f"kit.js with REDIS_TLS_CA reaches `redis`: {ok.stderr}"
    wrong_name = _kit_ping(port, ca.cert, "redis-impostor", tmp_path)
    assert wrong_name.returncode != 0 and "altnames" in wrong_name.stderr, (
        f"the environment's certificate for another name is refused: {wrong_name.stderr}")
    wrong_ca = _kit_ping(port, other.cert, redis.NAME, tmp_path)
    assert wrong_ca.returncode != 0 and "certificate" in wrong_ca.stderr, (
        f"another CA's server is refused: {wrong_ca.stdout} {wrong_ca.stderr}")


def _served_serial(port: int) -> str:
    done = subprocess.run([require_tool("openssl"), "s_client", "-connect", f"127.0.0.1:{port}"],
                          input="", capture_output=True, text=True, timeout=30, check=False)
    served = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", done.stdout, flags=re.S)
    assert served, f"the server presented a certificate: {done.stderr}"
    parsed = subprocess.run([require_tool("openssl"), "x509", "-noout", "-serial"], input=served.group(0),
                            capture_output=True, text=True, timeout=30, check=True)
    return parsed.stdout.strip().split("=", 1)[1]


def test_a_renewed_certificate_reaches_a_running_redis(tls_redis: tuple[int, Path], tmp_path: Path,
                                                       pki: tuple[Authority, Authority]) -> None:
    port, server_dir = tls_redis
    ca, _ = pki
    names = redis.certificate(load("dev", config_bag("dev")).redis).dns_names
    first = _served_serial(port)
    assert first == serial_of(server_dir / "tls.crt")
    issue(ca, server_dir, names, serial=2)
    time.sleep(1.5)
    assert _served_serial(port) == first, "without the reload loop Redis keeps serving the old certificate"
    password = tmp_path / "redis-password"
    password.write_text(PASSWORD)
    loop = subprocess.Popen(["/bin/sh", "-c", redis.tls_reload_script(port, str(server_dir), 1, str(password))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        issue(ca, server_dir, names, serial=3)
        renewed = serial_of(server_dir / "tls.crt")
        for _ in range(50):
            if _served_serial(port) == renewed:
                break
            time.sleep(0.2)
        assert _served_serial(port) == renewed, "the loop hands the renewed certificate and key to Redis"
        assert "PONG" in _cli(port, ca.cert, "ping").stdout, "clients keep verifying it"
    finally:
        loop.terminate()
        loop.wait(timeout=10)


def test_a_tls_cluster_forms_replicates_and_gossips_over_tls_only(tmp_path: Path,
                                                                  pki: tuple[Authority, Authority]) -> None:
    """Three masters and their replicas on the rendered cluster config (`tls-cluster`, `tls-replication`,
    `port 0`), formed by the program's bootstrap script with the rendered redis-cli TLS flags."""
    from tests.infra.test_redis_real import free_port as free_port_pair

    ca, _ = pki
    config = load("prod", config_bag("prod")).redis
    processes: list[subprocess.Popen[bytes]] = []
    ports: list[int] = []
    try:
        for index in range(6):
            node = tmp_path / f"node{index}"
            node.mkdir()
            name = redis.NAME if index < 3 else redis.REPLICA_NAME
            server_dir = issue(ca, node / "tls", redis.certificate(config, name).dns_names)
            port = free_port_pair()
            conf = _redis_conf(node, server_dir, port, "prod").read_text()
            conf = re.sub(r"^cluster-config-file .*$", f"cluster-config-file {node}/nodes.conf", conf, flags=re.M)
            # What the server command adds per member; this member's name is its loopback address here.
            (node / "redis.conf").write_text(conf + "cluster-announce-hostname 127.0.0.1\n")
            processes.append(subprocess.Popen([require_tool("redis-server"), str(node / "redis.conf")],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            ports.append(port)
        masters, replicas = ports[:3], ports[3:]
        script = redis.cluster_bootstrap_script([("127.0.0.1", p) for p in masters],
                                                [("127.0.0.1", p) for p in replicas],
                                                auth=f"REDISCLI_AUTH={PASSWORD}",
                                                tls_args=redis.cli_tls_args(True, str(ca.cert)))
        done = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=240, check=False)
        assert done.returncode == 0, f"the bootstrap forms the cluster over TLS: {done.stdout}{done.stderr}"
        def joined() -> bool:
            info = _cli(masters[0], ca.cert, "cluster", "info").stdout
            return "cluster_state:ok" in info and "cluster_known_nodes:6" in info and all(
                "connected_slaves:1" in _cli(m, ca.cert, "info", "replication").stdout for m in masters)

        deadline = time.monotonic() + 60
        while not joined() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert joined(), (f"six nodes gossip over the TLS bus and each master has its replica over TLS: "
                          f"{_cli(masters[0], ca.cert, 'cluster', 'nodes').stdout}")
        written = _cli(masters[0], ca.cert, "-c", "set", "greeting", "hello").stdout
        assert "OK" in written, f"a client follows MOVED over TLS: {written}"
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
