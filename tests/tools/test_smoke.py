"""tools.smoke against real local daemons (PostgreSQL with SCRAM, Redis with a password) and fakes of
the HTTP services (Big Pod health, Prometheus, Grafana with its Loki proxy, MinIO, the WebSocket edge)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from components.pods.catalog import CATALOG
from tests.daemons import postgres_app, redis_server
from tests.s3fake import S3Fake, s3_fake
from tests.tools.fakes import FakeRunner
from tools.runner import Command
from tools.smoke import probes
from tools.smoke.access import Access, DockerAccess, KubernetesAccess
from tools.smoke.checks import Check, Clock, Outputs, build_checks, infra_checks, report, run_checks
from tools.smoke.cli import main

APP_USER, APP_PASSWORD, DATABASE = "dreamscape_app", "app-pass-!@#", "dreamscape"
REDIS_PASSWORD = "redis-pass"
GRAFANA_PASSWORD = "grafana-pass"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class FakeState:
    targets: list[dict[str, Any]] = field(default_factory=lambda: [
        {"labels": {"job": "bigpods", "instance": "core-pod:3001"}, "health": "up", "lastError": ""}])
    unhealthy: set[str] = field(default_factory=set)
    log_pods: set[str] = field(default_factory=lambda: {pod.name for pod in CATALOG})


def _handler(state: FakeState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return None

        def _send(self, status: int, body: object) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _grafana_auth(self) -> bool:
            expected = base64.b64encode(f"admin:{GRAFANA_PASSWORD}".encode()).decode()
            return self.headers.get("Authorization") == f"Basic {expected}"

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            # The web client's `/ws`, and the gateway's own route (it upgrades on any path).
            if self.headers.get("Upgrade", "").lower() == "websocket" and url.path in ("/ws", "/"):
                key = self.headers["Sec-WebSocket-Key"]
                accept = base64.b64encode(hashlib.sha1((key + probes.WS_GUID).encode()).digest()).decode()
                self.wfile.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                  f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())
                message = b'{"kind":"welcome"}'
                self.wfile.write(bytes([0x81, len(message)]) + message)
                self.close_connection = True
                return
            if url.path == "/health":
                service = self.headers.get("X-Service", "")
                self._send(503 if service in state.unhealthy else 200, {"status": "ok"})
            elif url.path == "/api/v1/targets":
                self._send(200, {"status": "success", "data": {"activeTargets": state.targets}})
            elif url.path.startswith("/api/") and not self._grafana_auth():
                self._send(401, {"message": "Unauthorized"})
            elif url.path == "/api/datasources":
                self._send(200, [{"uid": "dreamscape-prometheus", "name": "Prometheus"},
                                 {"uid": "dreamscape-loki", "name": "Loki"}])
            elif url.path.startswith("/api/datasources/uid/") and url.path.endswith("/health"):
                self._send(200, {"status": "OK", "message": "Data source is working"})
            elif url.path.endswith("/loki/api/v1/query_range"):
                query = urllib.parse.parse_qs(url.query)["query"][0]
                pod = query.split('"')[1]
                result = [{"stream": {"pod": pod}, "values": [["1", "line"]]}] if pod in state.log_pods else []
                self._send(200, {"status": "success", "data": {"resultType": "streams", "result": result}})
            else:
                self._send(200 if url.path == "/" else 404, b"page")

    return Handler


@pytest.fixture
def minio() -> Iterator[S3Fake]:
    with s3_fake({"dreamscape-admin": "minio-pass"}) as fake_s3:
        yield fake_s3


@pytest.fixture
def fake() -> Iterator[tuple[FakeState, int]]:
    state = FakeState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def postgres() -> Iterator[int]:
    with postgres_app(APP_USER, APP_PASSWORD, DATABASE) as server:
        yield server.port


@pytest.fixture(scope="module")
def redis() -> Iterator[int]:
    with redis_server(REDIS_PASSWORD) as port:
        yield port


@dataclass
class KafkaFake:
    """Stands in for `docker exec kafka-0 kafka-console-*`: a consumer sees what the producer sent."""

    log: list[str] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    lose_messages: bool = False

    def run(self, command: Command) -> str:
        self.commands.append(command)
        if any(arg.endswith("kafka-console-producer.sh") for arg in command.argv) and command.stdin is not None:
            if not self.lose_messages:
                self.log.append(command.stdin.read_text())
            return ""
        return "".join(self.log)

    def start(self, command: Command) -> Callable[[], None]:
        raise AssertionError(f"nothing is started in the background on docker: {command}")


def outputs(http_port: int, postgres: int, redis: int, minio: int) -> dict[str, Any]:
    local = f"127.0.0.1:{http_port}"
    return {
        "environment": "dev", "target": "docker",
        "urls": {"web": f"http://{local}", "api": f"http://{local}", "grafana": f"http://{local}",
                 "realtime": f"ws://{local}"},
        "endpoints": {"postgres": f"127.0.0.1:{postgres}", "redis": f"127.0.0.1:{redis}", "kafka": "127.0.0.1:9092",
                      "minio": f"http://127.0.0.1:{minio}", "minioConsole": f"http://{local}"},
        "postgresUrl": f"postgresql://{APP_USER}:{urllib.parse.quote(APP_PASSWORD)}@postgres:5432/{DATABASE}",
        "redisUrl": f"redis://:{REDIS_PASSWORD}@redis:6379",
        "kafkaBootstrapServers": "kafka:9092", "kafkaTopics": ["user.created"],
        "minioBuckets": ["dreamscape-vr-assets"], "minioRootUser": "dreamscape-admin",
        "minioRootPassword": "minio-pass", "grafanaUrl": f"http://{local}", "prometheusUrl": f"http://{local}",
        "grafanaAdminPassword": GRAFANA_PASSWORD,
    }


def _run(raw: dict[str, Any], access: Access, kafka: KafkaFake) -> tuple[int, str, int]:
    out = io.StringIO()
    checks = build_checks(Outputs.parse(raw), access, kafka)
    results = run_checks(checks, out)
    status = report(results, out, "dev")
    return status, out.getvalue(), len(checks)


@pytest.mark.tools
def test_a_healthy_environment_passes_every_check_with_one_progress_line_each(
    fake: tuple[FakeState, int], postgres: int, redis: int, minio: S3Fake,
) -> None:
    _, port = fake
    kafka = KafkaFake()
    status, text, count = _run(outputs(port, postgres, redis, minio.port),
                               _Combined(port, postgres, redis, minio.port), kafka)
    assert status == 0, f"every check passes against a healthy environment:\n{text}"
    progress = [line for line in text.splitlines() if line.startswith("[")]
    assert len(progress) == count, f"one progress line per check ({count}):\n{text}"
    assert f"logged in as {APP_USER}" in text, "Postgres accepted the app user's password (SCRAM)"
    assert "AUTH ok, PONG" in text, "Redis authenticated with the generated password"
    assert any(path.startswith("/dreamscape-vr-assets/smoke/") for path in minio.objects), "MinIO got the object"
    assert not minio.refused, f"every MinIO request carried a valid V4 signature: {minio.refused}"
    assert f"ws://127.0.0.1:{port}/ws upgraded" in text, "the WebSocket upgrade through the web route went through"
    assert f"ws://127.0.0.1:{port} upgraded" in text, "the upgrade on the realtime route went through"
    assert "url realtime" not in text, "a WebSocket URL is not fetched as a page"
    assert sum("kafka-console-producer.sh" in " ".join(c.argv) for c in kafka.commands) == 1, "one message produced"
    for pod in CATALOG:
        assert f"recent logs from {pod.name}" in text, f"Loki was asked for {pod.name}'s logs"
        for service in pod.services:
            assert f"service {service.name}" in text, f"{service.name}'s health endpoint was checked"


@dataclass
class _Combined:
    """The data stores on the real daemons (their published ports, as the endpoints output names them),
    every Big Pod service and HTTP endpoint on the fake server."""

    http_port: int
    postgres: int
    redis: int

    minio: int

    def address(self, host: str, port: int) -> tuple[str, int]:
        return ("127.0.0.1", port if port in (self.postgres, self.redis, self.minio) else self.http_port)

    def exec(self, workload: str, argv: tuple[str, ...]) -> Command:
        return DockerAccess("dev").exec(workload, argv)

    def close(self) -> None:
        return None


@pytest.mark.tools
def test_failures_are_reported_by_name_and_the_exit_status_is_non_zero(
    fake: tuple[FakeState, int], postgres: int, redis: int, minio: S3Fake,
) -> None:
    state, port = fake
    state.targets.append({"labels": {"job": "kafka", "instance": "kafka-exporter:9308"}, "health": "down",
                          "lastError": "connection refused"})
    state.log_pods.discard("business")
    raw = outputs(port, postgres, redis, minio.port)
    raw["minioRootPassword"] = "not-the-secret"
    raw["urls"]["realtime"] = f"ws://127.0.0.1:{port}/nowhere"
    raw["redisUrl"] = "redis://:wrong-password@redis:6379"
    raw["postgresUrl"] = f"postgresql://{APP_USER}:wrong@postgres:5432/{DATABASE}"
    status, text, _ = _run(raw, _Combined(port, postgres, redis, minio.port), KafkaFake(lose_messages=True))
    assert status == 1, f"a failing check makes the exit status non-zero:\n{text}"
    report_part = text.split("checks FAILED:")[1]
    for name, why in (("prometheus targets up", "kafka/kafka-exporter:9308: connection refused"),
                      ("loki logs business", 'no log line with pod="business"'),
                      ("redis auth", "AUTH was refused"),
                      ("postgres app login", "password authentication failed"),
                      ("kafka round trip", "did not consume it back"),
                      ("minio put/get", "HTTP 403"),
                      ("websocket realtime", "upgrade refused")):
        assert f"- {name}: " in report_part and why in report_part, f"the report names {name} ({why}):\n{text}"
    assert "- loki logs core" not in report_part, "pods with logs are not reported"


def test_an_endpoint_without_a_protocol_check_is_checked_for_a_listening_port() -> None:
    raw = outputs(_free_port(), _free_port(), _free_port(), _free_port())
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        open_port = listening.getsockname()[1]
        closed_port = _free_port()
        raw["endpoints"] = {**raw["endpoints"], "rabbitmq": f"127.0.0.1:{open_port}",
                            "rabbitmqConsole": f"http://127.0.0.1:{closed_port}"}
        checks = infra_checks(Outputs.parse(raw), DockerAccess("dev"), FakeRunner())
        names = [check.name for check in checks]
        assert names[:4] == ["postgres app login", "redis auth", "kafka round trip", "minio put/get"], (
            f"the endpoints this tool speaks the protocol of keep their protocol checks: {names}")
        derived = {check.name: check for check in checks[4:]}
        assert set(derived) == {"endpoint minioConsole", "endpoint rabbitmq", "endpoint rabbitmqConsole"}, (
            f"every other exported endpoint gets a check with no edit to the tool: {names}")
        assert "accepts connections" in derived["endpoint rabbitmq"].run(), "a listening port passes"
        with pytest.raises(probes.ProbeError, match=str(closed_port)):
            derived["endpoint rabbitmqConsole"].run()


def test_a_failing_check_is_retried_until_the_wait_is_over() -> None:
    calls: list[int] = []
    now = [0.0]

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise probes.ProbeError("not yet")
        return "fine"

    clock = Clock(monotonic=lambda: now[0], sleep=lambda seconds: now.__setitem__(0, now[0] + seconds))
    out = io.StringIO()
    (result,) = run_checks([build_check("flaky", flaky)], out, wait=60, interval=5, clock=clock)
    assert result.ok and result.attempts == 3, f"the check passes on its third attempt: {result}"
    (gave_up,) = run_checks([build_check("never", _never)], io.StringIO(), wait=10, interval=5, clock=clock)
    assert not gave_up.ok and gave_up.attempts == 3, f"retries stop when the wait is over: {gave_up}"


def build_check(name: str, run: Callable[[], str]) -> Check:
    return Check(name, run)


def _never() -> str:
    raise probes.ProbeError("still down")


def test_kubernetes_access_port_forwards_each_service_once_and_stops_them() -> None:
    runner = FakeRunner()
    ports = iter([41001, 41002])
    access = KubernetesAccess("dreamscape-review-pr-7", runner, wait=lambda *_: True,
                              port_picker=lambda: next(ports))
    assert access.address("postgres", 5432) == ("127.0.0.1", 41001), "a local port forwards to postgres"
    assert access.address("postgres", 5432) == ("127.0.0.1", 41001), "the same forward is reused"
    assert access.address("core-pod.dreamscape-review-pr-7.svc.cluster.local", 3001) == ("127.0.0.1", 41002)
    forwarded = [c.argv for c in runner.started]
    assert forwarded == [
        ("kubectl", "-n", "dreamscape-review-pr-7", "port-forward", "svc/postgres", "41001:5432"),
        ("kubectl", "-n", "dreamscape-review-pr-7", "port-forward", "svc/core-pod", "41002:3001"),
    ], f"one port-forward per service and port: {forwarded}"
    assert access.exec("kafka", ("ls",)).argv[:6] == ("kubectl", "-n", "dreamscape-review-pr-7", "exec", "-i",
                                                     "kafka-0"), "commands run in the first broker"
    access.close()
    assert runner.stopped == 2, "every port-forward is stopped at the end"


def test_the_cli_reads_the_stack_outputs_with_secrets_and_says_when_it_cannot() -> None:
    runner = FakeRunner(fail={("pulumi",)})
    out = io.StringIO()
    assert main(["--stack", "dev"], runner=runner, out=out) == 2, "no outputs: exit 2"
    assert runner.argvs() == [("pulumi", "stack", "output", "--json", "--show-secrets", "--stack", "dev")]
    assert "cannot read the stack outputs" in out.getvalue(), out.getvalue()
