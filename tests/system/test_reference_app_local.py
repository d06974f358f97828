"""The reference application as local processes (Debian's nodejs) under the real supervisord, with the
generated dev configs, behind the real NGINX with the generated gateway config, touching a real
PostgreSQL (app role, SCRAM) and Redis (password), and an S3 stand-in that checks every signature.

What is the same as in a Big Pod: every supervisord program section (command, environment, restart
policy, process groups) and the whole NGINX config come from the renderers. What differs, so that the
test runs beside anything else on a shared machine: ports are the catalog's shifted by one offset (the
catalog is rebuilt with the shifted numbers and rendered again), paths (/app, /tmp) point into a temp
directory, the other pods' hosts are 127.0.0.1, and everything runs as UID 1000 like the pods. The
infrastructure reaches each pod through the variables and secret files the platform gives it
(components/environment.py, InfraLink); Kafka is not run here, so no pod gets KAFKA_BROKERS.
"""

from __future__ import annotations

import base64
import configparser
import dataclasses
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.pods.bigpod import MIGRATE, SEED
from components.pods.catalog import CATALOG
from components.pods.model import AppService, Infra, PodDefinition
from components.pods.render.files import REPO_ROOT
from components.pods.render.nginx import NginxSettings, render_nginx
from components.pods.render.supervisord import Mode, supervisord_sections
from tests.daemons import PostgresApp, postgres_app, redis_server
from tests.s3fake import S3Fake, s3_fake
from tests.tooling import require_tool
from tools.smoke import probes

pytestmark = pytest.mark.tools
UID = 1000
STARTUP_SECONDS = 90
REDIS_PASSWORD = "redis-password"
JWT_ACCESS_KEY = "jwt-access-key-for-the-system-test"
MINIO_ACCESS_KEY, MINIO_SECRET_KEY = "dreamscape-admin", "minio-secret"


def _shift_service(service: AppService, offset: int) -> AppService:
    debug = None if service.debug_port is None else service.debug_port + offset
    return dataclasses.replace(service, port=service.port + offset, debug_port=debug)


def shifted_catalog(offset: int) -> tuple[PodDefinition, ...]:
    pods = []
    for pod in CATALOG:
        gateway = None
        if pod.gateway is not None:
            gateway = dataclasses.replace(pod.gateway, listen_port=pod.gateway.listen_port + offset)
        pods.append(dataclasses.replace(
            pod,
            services=tuple(_shift_service(service, offset) for service in pod.services),
            gateway=gateway,
            extra_ports=tuple(dataclasses.replace(p, number=p.number + offset) for p in pod.extra_ports),
        ))
    return tuple(pods)


def _ports(catalog: tuple[PodDefinition, ...]) -> list[int]:
    ports: list[int] = []
    for pod in catalog:
        ports += [port.number for port in pod.ports(dev=True)]
    return ports


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
        return True


def pick_offset() -> int:
    for offset in range(21000, 40000, 1000):
        if all(_free(port) for port in _ports(shifted_catalog(offset))):
            return offset
    raise RuntimeError("no free port range for the reference application")


def listener_pid(port: int) -> int | None:
    """The pid of the process listening on TCP `port` (from /proc, as `ss -ltnp` finds it)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(entry.name)
        except OSError:
            continue
    return None


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()


@dataclass
class Running:
    catalog: tuple[PodDefinition, ...]
    root: Path
    processes: dict[str, subprocess.Popen[bytes]]

    def pod(self, name: str) -> PodDefinition:
        return next(pod for pod in self.catalog if pod.name == name)

    @property
    def nginx_port(self) -> int:
        gateway = self.pod("core").gateway
        assert gateway is not None
        return gateway.listen_port

    def service(self, name: str) -> AppService:
        return next(s for pod in self.catalog for s in pod.services if s.name == name)


def _demote() -> list[str]:
    """Run as UID 1000 (as the pods do) when the test runs as root."""
    if os.geteuid() != 0:
        return []
    return [require_tool("setpriv"), f"--reuid={UID}", f"--regid={UID}", "--clear-groups", "--"]


def _config(pod: PodDefinition, catalog: tuple[PodDefinition, ...], root: Path) -> Path:
    """The rendered dev supervisord config of `pod`, with /app and /tmp relocated into `root`."""
    runtime = root / "run" / pod.name
    runtime.mkdir(parents=True)
    sections = supervisord_sections(pod, Mode.DEV)
    sections["supervisord"].update(pidfile=str(runtime / "supervisord.pid"), childlogdir=str(runtime))
    sections["unix_http_server"]["file"] = str(runtime / "supervisor.sock")
    sections["supervisorctl"]["serverurl"] = f"unix://{runtime / 'supervisor.sock'}"
    for service in pod.services:
        sections[f"program:{service.name}"]["directory"] = str(root / "app" / str(service.source))
    if pod.gateway is not None:
        settings = NginxSettings(pod_hosts={other.name: "127.0.0.1" for other in catalog},
                                 resolvers=("127.0.0.1",), runtime_dir=str(runtime))
        nginx_conf = runtime / "nginx.conf"
        nginx_conf.write_text(render_nginx(pod, catalog, settings))
        program = sections["program:nginx"]
        program["command"] = program["command"].replace("/etc/nginx/nginx.conf", str(nginx_conf))
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_dict(sections)
    path = runtime / "supervisord.conf"
    with path.open("w") as handle:
        parser.write(handle)
    return path


def _wait_healthy(running: Running, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = [check.url for pod in running.catalog for check in pod.health_checks]
    while pending and time.monotonic() < deadline:
        logs = [(running.root / "run" / f"{name}.log").read_text() for name in running.processes]
        if any(process.poll() is not None for process in running.processes.values()) or any(
                "entered FATAL state" in log for log in logs):
            break
        still = []
        for url in pending:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status != 200:
                        still.append(url)
            except OSError:
                still.append(url)
        pending = still
        if pending:
            time.sleep(0.5)
    if pending:
        tails = "\n".join((running.root / "run" / f"{name}.log").read_text()[-3000:] for name in running.processes)
        raise AssertionError(f"not healthy (waited up to {timeout}s): {pending}\n{tails}")


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresApp]:
    with postgres_app("dreamscape_app", "app-password", "dreamscape") as server:
        yield server


@pytest.fixture(scope="module")
def redis() -> Iterator[int]:
    with redis_server(REDIS_PASSWORD) as port:
        yield port


@pytest.fixture(scope="module")
def minio() -> Iterator[S3Fake]:
    with s3_fake({MINIO_ACCESS_KEY: MINIO_SECRET_KEY}) as fake:
        yield fake


def infra_env(pod: PodDefinition, root: Path, postgres: PostgresApp, redis: int, minio: S3Fake) -> dict[str, str]:
    """What the platform gives a pod for the infrastructure it needs: hosts in variables, secrets in files."""
    secrets = root / "secrets"
    secrets.mkdir(exist_ok=True)
    files = {"database-password": postgres.password, "redis-password": REDIS_PASSWORD,
             "minio-access-key": MINIO_ACCESS_KEY, "minio-secret-key": MINIO_SECRET_KEY,
             "jwt-access-secret": JWT_ACCESS_KEY}
    for name, value in files.items():
        (secrets / name).write_text(value)
    by_need = {
        Infra.POSTGRES: {"DATABASE_HOST": "127.0.0.1", "DATABASE_PORT": str(postgres.port),
                         "DATABASE_NAME": postgres.database, "DATABASE_USER": postgres.user,
                         "DATABASE_PASSWORD_FILE": str(secrets / "database-password")},
        Infra.REDIS: {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis), "REDIS_MODE": "standalone",
                      "REDIS_NODES": f"127.0.0.1:{redis}", "REDIS_PASSWORD_FILE": str(secrets / "redis-password")},
        Infra.MINIO: {"MINIO_ENDPOINT": f"http://127.0.0.1:{minio.port}", "MINIO_BUCKET": "dreamscape-vr-assets",
                      "MINIO_ACCESS_KEY_FILE": str(secrets / "minio-access-key"),
                      "MINIO_SECRET_KEY_FILE": str(secrets / "minio-secret-key")},
    }
    env: dict[str, str] = {}
    for need in pod.needs:
        env.update(by_need.get(need, {}))
    if pod.signs_tokens:
        env["JWT_ACCESS_SECRET_FILE"] = str(secrets / "jwt-access-secret")
    return env


def access_token(subject: str, key: str = "", ttl: int = 600) -> str:
    """An HS256 access token as the auth service signs it (the platform's JWT access key)."""
    def encode(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    head = encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = encode(json.dumps({"sub": subject, "iat": now, "exp": now + ttl}).encode())
    signature = hmac.new((key or JWT_ACCESS_KEY).encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{encode(signature)}"


@pytest.fixture(scope="module")
def running(postgres: PostgresApp, redis: int, minio: S3Fake) -> Iterator[Running]:
    node = require_tool("node")
    npm = require_tool("npm")
    require_tool("nginx", "/usr/sbin/nginx")
    supervisord = require_tool("supervisord")
    # Not under pytest's own temp root, which UID 1000 cannot traverse.
    root = Path(tempfile.mkdtemp(prefix="dreamscape-reference-", dir="/tmp"))
    app = root / "app"
    shutil.copytree(REPO_ROOT / "reference-app", app, ignore=shutil.ignore_patterns("node_modules"))
    for manifest in sorted(app.glob("*/*/package.json")):
        if json.loads(manifest.read_text()).get("dependencies"):
            installed = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                                       cwd=manifest.parent, capture_output=True, text=True, timeout=300, check=False)
            assert installed.returncode == 0, f"npm ci in {manifest.parent.name} failed: {installed.stderr}"
    offset = pick_offset()
    catalog = shifted_catalog(offset)
    env = {
        "PATH": f"{Path(node).parent}:/usr/sbin:/usr/bin:/bin",
        "HOME": str(root), "npm_config_cache": str(root / ".npm"), "npm_config_update_notifier": "false",
        # The web client proxies /ws to the gateway of its pod, on the shifted port.
        "GATEWAY_URL": f"http://127.0.0.1:{next(s for p in catalog for s in p.services if s.name == 'gateway').port}",
    }
    configs = {pod.name: _config(pod, catalog, root) for pod in catalog}
    pod_envs = {pod.name: infra_env(pod, root, postgres, redis, minio) for pod in catalog}
    # What the platform's migration tasks do before the pods start (seeded, as on dev with seedData).
    for pod in catalog:
        for service in pod.services:
            if Infra.POSTGRES in service.needs:
                done = subprocess.run(["/bin/sh", "-c", f"{MIGRATE} && {SEED}"], cwd=app / str(service.source),
                                      env={**env, **pod_envs[pod.name]}, capture_output=True, text=True,
                                      timeout=120, check=False)
                assert done.returncode == 0, f"{service.name} migrate and seed: {done.stdout}{done.stderr}"
    for name in configs:  # the programs reopen /dev/stdout, i.e. this file, as UID 1000
        (root / "run" / f"{name}.log").touch()
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", f"{UID}:{UID}", str(root)], check=True)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, config in configs.items():
            log = (root / "run" / f"{name}.log").open("ab")
            pod_env = {**env, **pod_envs[name]}
            processes[name] = subprocess.Popen([*_demote(), supervisord, "-c", str(config)], stdout=log,
                                               stderr=subprocess.STDOUT, env=pod_env, start_new_session=True)
        running = Running(catalog, root, processes)
        _wait_healthy(running, STARTUP_SECONDS)
        yield running
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


def _get(url: str) -> tuple[int, bytes]:
    reply = probes.http(url, timeout=5)
    return reply.status, reply.body


def test_every_gateway_route_reaches_its_service_through_nginx(running: Running) -> None:
    gateway = running.pod("core").gateway
    assert gateway is not None
    status, _ = _get(f"http://127.0.0.1:{running.nginx_port}/health")
    assert status == 200, "NGINX answers its own /health"
    token = {"Authorization": f"Bearer {access_token('john@example.com')}"}
    for route in gateway.routes:
        reply = probes.http(f"http://127.0.0.1:{running.nginx_port}{route.prefix}", headers=token, timeout=5)
        status, body = reply.status, reply.body
        assert status == 200, f"{route.prefix} answers through NGINX, got {status} {body[:200]!r}"
        assert json.loads(body)["service"] == route.service, f"{route.prefix} reaches {route.service}"


def test_protected_routes_need_a_token_the_reference_auth_service_verifies(running: Running) -> None:
    base = f"http://127.0.0.1:{running.nginx_port}"
    protected = [r.prefix for r in running.pod("core").gateway.routes if r.protected]  # type: ignore[union-attr]
    assert protected, "business and experience routes are protected"
    for prefix in protected:
        assert _get(f"{base}{prefix}")[0] == 401, f"{prefix} without a token is refused"
        forged = access_token("john@example.com", key="not-the-platform-key")
        refused = probes.http(f"{base}{prefix}", headers={"Authorization": f"Bearer {forged}"}, timeout=5)
        assert refused.status == 401, f"{prefix} with a token signed by another key is refused"
    expired = probes.http(f"{base}{protected[0]}", timeout=5,
                          headers={"Authorization": f"Bearer {access_token('john@example.com', ttl=-60)}"})
    assert expired.status == 401, "an expired token is refused"
    login = probes.http(f"{base}/api/v1/auth/login", method="POST", timeout=5,
                        headers={"Content-Type": "application/json"},
                        body=json.dumps({"email": "john@example.com", "password": "password123"}).encode())
    assert login.status == 200, f"the seeded test account logs in: {login.status} {login.body[:200]!r}"
    token = json.loads(login.body)["token"]
    reply = probes.http(f"{base}{protected[0]}", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert reply.status == 200, f"a token from the auth service opens {protected[0]}"
    wrong = probes.http(f"{base}/api/v1/auth/login", method="POST", timeout=5,
                        body=json.dumps({"email": "john@example.com", "password": "nope"}).encode())
    assert wrong.status == 401, "a wrong password gets no token"


def test_malformed_json_is_a_400_and_an_unknown_path_a_404_never_a_200(running: Running) -> None:
    """So the smoke test and the edge see a dead route or a bad request for what it is."""
    base = f"http://127.0.0.1:{running.nginx_port}"
    bad = probes.http(f"{base}/api/v1/auth/login", method="POST", timeout=5,
                      headers={"Content-Type": "application/json"}, body=b'{"email": "john@example.com",')
    assert bad.status == 400, f"malformed JSON is the client's mistake: {bad.status} {bad.body[:200]!r}"
    token = {"Authorization": f"Bearer {access_token('john@example.com')}"}
    for route in running.pod("core").gateway.routes:  # type: ignore[union-attr]
        dead = probes.http(f"{base}{route.prefix}/no-such-route", headers=token, timeout=5)
        assert dead.status == 404, f"{route.prefix}/no-such-route is no route: {dead.status} {dead.body[:200]!r}"
        alive = probes.http(f"{base}{route.prefix}", headers=token, timeout=5)
        assert alive.status == 200, f"{route.prefix} itself still answers"


def test_every_service_serves_health_and_prometheus_metrics_on_its_port(running: Running) -> None:
    for pod in running.catalog:
        for service in pod.services:
            base = f"http://127.0.0.1:{service.port}"
            status, _ = _get(base + service.health_path)
            assert status == 200, f"{service.name} answers {service.health_path}"
            status, metrics = _get(base + "/metrics")
            text = metrics.decode()
            assert status == 200 and "# TYPE http_requests_total counter" in text, f"{service.name} /metrics"
            assert "# TYPE http_request_duration_seconds histogram" in text, f"{service.name} serves its latency"
            assert "process_start_time_seconds " in text, f"{service.name} exports its start time"


def test_the_auth_rate_limit_answers_429_beyond_its_burst(running: Running) -> None:
    limit = next(r.rate_limit for r in running.pod("core").gateway.routes  # type: ignore[union-attr]
                 if r.prefix == "/api/v1/auth")
    assert limit is not None
    time.sleep(3)  # let the earlier requests of this module drain out of the bucket
    codes = [_get(f"http://127.0.0.1:{running.nginx_port}/api/v1/auth")[0] for _ in range(limit.burst + 20)]
    assert codes.count(429) >= 10, f"requests beyond the burst are refused with 429: {codes}"
    assert codes.count(200) >= limit.burst, f"the burst ({limit.burst}) is served: {codes}"
    assert codes.count(200) <= limit.burst + 1 + 3, f"no more than the burst (+ refills) is served: {codes}"


def test_a_websocket_upgrade_passes_nginx_and_the_web_clients_gateway_proxy(running: Running) -> None:
    # A route without a rate limit: the previous test emptied the auth bucket.
    token = access_token("john@example.com")
    through_nginx = probes.websocket(f"ws://127.0.0.1:{running.nginx_port}/api/v1/voyages/events?access_token={token}")
    assert json.loads(through_nginx)["service"] == "voyage", "NGINX forwards the upgrade to another pod"
    web = running.service("web")
    first = probes.websocket(f"ws://127.0.0.1:{web.port}/ws", send="hello")
    assert json.loads(first)["kind"] == "welcome", "the web client's /ws reaches the gateway's broadcast"


def test_the_debugger_attaches_to_the_service_process_not_npm_or_the_watcher(running: Running) -> None:
    for name in ("auth", "voyage", "gateway"):
        service = running.service(name)
        assert service.debug_port is not None
        serving, debugging = listener_pid(service.port), listener_pid(service.debug_port)
        assert serving is not None and debugging == serving, (
            f"{name}: the inspector port is held by the process that serves the port ({debugging} vs {serving})"
        )
        assert "npm" not in cmdline(serving) and "--watch" not in cmdline(serving), (
            f"{name}: the debug target is the service itself, not `{cmdline(serving)}`"
        )
        status, body = _get(f"http://127.0.0.1:{service.debug_port}/json/list")
        assert status == 200, f"{name}: the inspector lists its targets"
        target = json.loads(body)[0]["webSocketDebuggerUrl"]
        request = json.dumps({"id": 1, "method": "Runtime.evaluate", "params": {"expression": "process.pid"}})
        answer = json.loads(probes.websocket(target, send=request))
        assert answer["result"]["result"]["value"] == serving, f"{name}: the attached debugger runs in the service"


def test_supervisord_restarts_a_crashed_service(running: Running) -> None:
    service = running.service("payment")
    before = listener_pid(service.port)
    assert before is not None, "payment is running"
    group = os.getpgid(before)
    os.killpg(group, signal.SIGKILL)  # the program supervisord started, with its whole process tree
    deadline = time.monotonic() + 60
    after = None
    while time.monotonic() < deadline:
        after = listener_pid(service.port)
        if after is not None and after != before:
            try:
                if _get(f"http://127.0.0.1:{service.port}/health")[0] == 200:
                    break
            except probes.ProbeError:
                pass
        time.sleep(0.5)
    assert after is not None and after != before, f"supervisord started payment again (pid {before} -> {after})"
    log = (running.root / "run" / "business.log").read_text()
    assert "exited: payment (terminated by SIGKILL" in log, f"supervisord saw the crash:\n{log[-2000:]}"


def test_each_service_touches_its_infrastructure_through_the_platforms_variables_and_secret_files(
    running: Running, minio: S3Fake,
) -> None:
    expected = {"auth": {"postgres", "redis"}, "user": {"postgres", "redis"}, "voyage": {"postgres", "redis"},
                "payment": {"postgres"}, "panorama": {"minio"}, "gateway": {"redis"}}
    for name, dependencies in expected.items():
        service = running.service(name)
        status, body = _get(f"http://127.0.0.1:{service.port}/health")
        report = json.loads(body)
        assert status == 200 and report["status"] == "ok", f"{name} is healthy with its dependencies: {report}"
        assert set(report["dependencies"]) == dependencies, f"{name} checks exactly {dependencies}: {report}"
        assert all(check["ok"] for check in report["dependencies"].values()), f"{name}: every check passes"
    auth = json.loads(_get(f"http://127.0.0.1:{running.service('auth').port}/health")[1])
    assert auth["dependencies"]["postgres"]["detail"] == "dreamscape_app@dreamscape", "logged in as the app role"
    assert "/dreamscape-vr-assets/reference/panorama-check.txt" in minio.objects, "panorama put its object"
    assert not minio.refused, f"every S3 request of the reference kit is correctly signed: {minio.refused}"
    token = json.loads(probes.http(f"http://127.0.0.1:{running.nginx_port}/api/v1/users/session",
                                   method="POST").body)["token"]
    assert len(token) == 32, "a session is created in Redis through the edge"
