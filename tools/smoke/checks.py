"""The smoke checks, built from a stack's outputs, and the loop that runs and reports them."""

from __future__ import annotations

import json
import shlex
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from components.infra import kafka, minio, postgres, redis
from components.monitoring.common import GRAFANA_PORT, PROMETHEUS_PORT
from components.monitoring.grafana.config import LOKI_UID
from components.pods.catalog import CATALOG
from components.pods.model import PodDefinition
from tools.runner import Command, CommandError, Runner
from tools.smoke import probes
from tools.smoke.access import Access, split_address
from tools.smoke.probes import ProbeError

KAFKA_BIN = "/opt/kafka/bin"


@dataclass(frozen=True, kw_only=True)
class Outputs:
    """What the smoke test reads from `pulumi stack output --json --show-secrets`."""

    environment: str
    target: str
    urls: dict[str, str]
    endpoints: dict[str, str]
    postgres_url: str
    redis_url: str
    kafka_bootstrap: str
    kafka_topics: tuple[str, ...]
    minio_buckets: tuple[str, ...]
    minio_user: str
    minio_password: str
    grafana_url: str
    prometheus_url: str
    grafana_password: str

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Outputs:
        try:
            return cls(
                environment=raw["environment"], target=raw["target"], urls=dict(raw["urls"]),
                endpoints=dict(raw["endpoints"]), postgres_url=raw["postgresUrl"], redis_url=raw["redisUrl"],
                kafka_bootstrap=raw["kafkaBootstrapServers"], kafka_topics=tuple(raw["kafkaTopics"]),
                minio_buckets=tuple(raw["minioBuckets"]), minio_user=raw["minioRootUser"],
                minio_password=raw["minioRootPassword"], grafana_url=raw["grafanaUrl"],
                prometheus_url=raw["prometheusUrl"], grafana_password=raw["grafanaAdminPassword"],
            )
        except KeyError as missing:
            raise ValueError(f"the stack outputs have no {missing}: is the stack up (and its secrets shown)?") from None


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[], str]
    """Returns a short detail on success; raises ProbeError (or CommandError) on failure."""


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    detail: str
    seconds: float
    attempts: int


def _local_url(url: str, access: Access, default_port: int) -> str:
    """`http://grafana:3000` as reachable from here (a port-forward on Kubernetes)."""
    parts = urllib.parse.urlsplit(url)
    host, port = access.address(*split_address(parts.netloc, default_port))
    return urllib.parse.urlunsplit((parts.scheme, f"{host}:{port}", parts.path, parts.query, ""))


def _expect_ok(reply: probes.HttpReply, what: str) -> None:
    if reply.status >= 400:
        raise ProbeError(f"{what}: HTTP {reply.status} {reply.body[:200]!r}")


def url_check(name: str, url: str, insecure: bool = False) -> Check:
    def run() -> str:
        reply = probes.http(url, insecure=insecure)
        if reply.status >= 500:
            raise ProbeError(f"{url}: HTTP {reply.status}")
        return f"{url} -> {reply.status}"
    return Check(f"url {name}", run)


def service_check(pod: PodDefinition, service_name: str, access: Access) -> Check:
    service = pod.service(service_name)

    def run() -> str:
        host, port = access.address(pod.hostname, service.port)
        reply = probes.http(f"http://{host}:{port}{service.health_path}")
        if reply.status != 200:
            raise ProbeError(f"{service.health_path} answered HTTP {reply.status}: {reply.body[:300]!r}")
        return f"{pod.name}/{service.name} {service.health_path} 200"
    return Check(f"service {service.name}", run)


def postgres_check(outputs: Outputs, access: Access) -> Check:
    url = urllib.parse.urlsplit(outputs.postgres_url)

    def run() -> str:
        host, port = access.address(*split_address(outputs.endpoints[postgres.NAME], postgres.PORT))
        who = probes.postgres_login(host, port, urllib.parse.unquote(url.username or ""),
                                    urllib.parse.unquote(url.password or ""), url.path.lstrip("/"))
        return f"logged in as {who}"
    return Check("postgres app login", run)


def redis_check(outputs: Outputs, access: Access) -> Check:
    password = urllib.parse.unquote(urllib.parse.urlsplit(outputs.redis_url).password or "")

    def run() -> str:
        host, port = access.address(*split_address(outputs.endpoints[redis.NAME], redis.PORT))
        return probes.redis_auth(host, port, password)
    return Check("redis auth", run)


def kafka_check(outputs: Outputs, access: Access, runner: Runner, topic: str | None = None) -> Check:
    chosen = topic or outputs.kafka_topics[0]

    def run() -> str:
        marker = f"smoke-{uuid.uuid4().hex}"
        with tempfile.TemporaryDirectory() as directory:
            message = Path(directory) / "message"
            message.write_text(marker + "\n")
            produce = access.exec(kafka.NAME, (f"{KAFKA_BIN}/kafka-console-producer.sh", "--bootstrap-server",
                                            outputs.kafka_bootstrap, "--topic", chosen))
            runner.run(Command(produce.argv, stdin=message))
        consumer = (f"{KAFKA_BIN}/kafka-console-consumer.sh", "--bootstrap-server", outputs.kafka_bootstrap,
                    "--topic", chosen, "--from-beginning", "--timeout-ms", "15000", "--group", marker)
        # The console consumer ends on its idle timeout, with a non-zero status in some Kafka versions:
        # what it printed is the verdict.
        consume = access.exec(kafka.NAME, ("sh", "-c", f"{shlex.join(consumer)} || true"))
        seen = runner.run(consume)
        if marker not in seen:
            raise ProbeError(f"produced {marker} to {chosen} but did not consume it back")
        return f"produced and consumed {marker} on {chosen}"
    return Check("kafka round trip", run)


def minio_check(outputs: Outputs, access: Access) -> Check:
    def run() -> str:
        endpoint = _local_url(outputs.endpoints[minio.NAME], access, minio.API_PORT)
        key = f"smoke/{outputs.environment}-{uuid.uuid4().hex[:8]}.txt"
        return probes.s3_put_get(endpoint, outputs.minio_user, outputs.minio_password, outputs.minio_buckets[0], key)
    return Check("minio put/get", run)


def reachable_check(name: str, address: str, access: Access) -> Check:
    """An infra endpoint with no protocol check of its own (a console, a service added later): it answers."""
    def run() -> str:
        host, port = split_address(address, 0)
        return probes.tcp(*access.address(host, port))
    return Check(f"endpoint {name}", run)


def infra_checks(outputs: Outputs, access: Access, runner: Runner, kafka_topic: str | None = None) -> list[Check]:
    """One check per entry of the `endpoints` output (derived from the infra registry): the protocol check
    where this tool speaks the protocol, else that the endpoint accepts connections. So a new infra service
    is smoke-tested as soon as the stack exports it."""
    protocol: dict[str, Callable[[], Check]] = {
        postgres.NAME: lambda: postgres_check(outputs, access),
        redis.NAME: lambda: redis_check(outputs, access),
        kafka.NAME: lambda: kafka_check(outputs, access, runner, kafka_topic),
        minio.NAME: lambda: minio_check(outputs, access),
    }
    return [protocol[name]() if name in protocol else reachable_check(name, address, access)
            for name, address in outputs.endpoints.items()]


def websocket_check(outputs: Outputs, insecure: bool = False) -> Check:
    web = urllib.parse.urlsplit(outputs.urls["web"])
    url = urllib.parse.urlunsplit(("wss" if web.scheme == "https" else "ws", web.netloc, "/ws", "", ""))
    return _upgrade_check("websocket through the edge", url, insecure)


def _upgrade_check(name: str, url: str, insecure: bool) -> Check:
    def run() -> str:
        message = probes.websocket(url, send=json.dumps({"kind": "smoke"}), insecure=insecure)
        return f"{url} upgraded, first message {message[:80]}"
    return Check(name, run)


def is_websocket(url: str) -> bool:
    """A long-lived route's URL (`wss://ws.<domain>`, dev `ws://localhost:4000`)."""
    return urllib.parse.urlsplit(url).scheme in ("ws", "wss")


def realtime_checks(outputs: Outputs, insecure: bool = False) -> list[Check]:
    """The WebSocket upgrade on every long-lived route, at the URL the stack publishes."""
    return [_upgrade_check(f"websocket {name}", url, insecure)
            for name, url in sorted(outputs.urls.items()) if is_websocket(url)]


def prometheus_check(outputs: Outputs, access: Access) -> Check:
    def run() -> str:
        base = _local_url(outputs.prometheus_url, access, PROMETHEUS_PORT)
        reply = probes.http(f"{base}/api/v1/targets?state=active")
        _expect_ok(reply, "prometheus targets")
        targets = reply.json()["data"]["activeTargets"]
        if not targets:
            raise ProbeError("Prometheus has no active target")
        down = [f"{t['labels'].get('job')}/{t['labels'].get('instance')}: {t.get('lastError') or t['health']}"
                for t in targets if t["health"] != "up"]
        if down:
            raise ProbeError(f"{len(down)} of {len(targets)} targets are not up: " + "; ".join(down[:6]))
        return f"{len(targets)} targets up"
    return Check("prometheus targets up", run)


def grafana_check(outputs: Outputs, access: Access) -> Check:
    def run() -> str:
        base = _local_url(outputs.grafana_url, access, GRAFANA_PORT)
        auth = ("admin", outputs.grafana_password)
        listed = probes.http(f"{base}/api/datasources", auth=auth)
        _expect_ok(listed, "grafana datasources")
        sources = listed.json()
        if not sources:
            raise ProbeError("Grafana has no datasource")
        bad = []
        for source in sources:
            health = probes.http(f"{base}/api/datasources/uid/{source['uid']}/health", auth=auth)
            status = health.json().get("status") if health.status == 200 else f"HTTP {health.status}"
            if status != "OK":
                bad.append(f"{source['name']}: {status}")
        if bad:
            raise ProbeError("unhealthy datasources: " + "; ".join(bad))
        return f"{len(sources)} datasources healthy"
    return Check("grafana datasources healthy", run)


def loki_check(outputs: Outputs, access: Access, pod: PodDefinition, now: Callable[[], float] = time.time) -> Check:
    def run() -> str:
        base = _local_url(outputs.grafana_url, access, GRAFANA_PORT)
        start = int((now() - 15 * 60) * 1e9)
        query = urllib.parse.urlencode({"query": f'{{pod="{pod.name}"}}', "limit": "1", "start": str(start)})
        reply = probes.http(f"{base}/api/datasources/proxy/uid/{LOKI_UID}/loki/api/v1/query_range?{query}",
                            auth=("admin", outputs.grafana_password))
        _expect_ok(reply, "loki query")
        streams = reply.json()["data"]["result"]
        if not streams:
            raise ProbeError(f'no log line with pod="{pod.name}" in the last 15 minutes')
        return f"recent logs from {pod.name}"
    return Check(f"loki logs {pod.name}", run)


def build_checks(outputs: Outputs, access: Access, runner: Runner,
                 catalog: Sequence[PodDefinition] = CATALOG, kafka_topic: str | None = None,
                 insecure: bool = False) -> list[Check]:
    """Every check, in report order; `insecure` skips TLS verification at the edge (a throwaway cluster)."""
    checks = [url_check(name, url, insecure) for name, url in sorted(outputs.urls.items()) if not is_websocket(url)]
    checks += [service_check(pod, service.name, access) for pod in catalog for service in pod.services]
    checks += infra_checks(outputs, access, runner, kafka_topic)
    checks += [
        websocket_check(outputs, insecure),
        *realtime_checks(outputs, insecure),
        prometheus_check(outputs, access),
        grafana_check(outputs, access),
    ]
    checks += [loki_check(outputs, access, pod) for pod in catalog]
    return checks


@dataclass
class Clock:
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def run_checks(checks: Sequence[Check], out: TextIO, wait: float = 0.0, interval: float = 3.0,
               clock: Clock | None = None) -> list[Result]:
    """Run every check, retrying a failing one for up to `wait` seconds; one progress line per check."""
    clock = clock or Clock()
    results = []
    width = max((len(check.name) for check in checks), default=0)
    for index, check in enumerate(checks, 1):
        started = clock.monotonic()
        attempts = 0
        while True:
            attempts += 1
            try:
                detail, ok = check.run(), True
            except (ProbeError, CommandError, OSError, ValueError, KeyError) as error:
                detail, ok = str(error) or type(error).__name__, False
            if ok or clock.monotonic() - started >= wait:
                break
            clock.sleep(interval)
        seconds = clock.monotonic() - started
        result = Result(check.name, ok, detail, seconds, attempts)
        results.append(result)
        tries = f", {attempts} attempts" if attempts > 1 else ""
        print(f"[{index:>2}/{len(checks)}] {check.name:<{width}}  {'ok  ' if ok else 'FAIL'}  "
              f"{detail} ({seconds:.1f}s{tries})", file=out, flush=True)
    return results


def report(results: Sequence[Result], out: TextIO, environment: str) -> int:
    failed = [result for result in results if not result.ok]
    total = sum(result.seconds for result in results)
    print("", file=out)
    if not failed:
        print(f"smoke {environment}: all {len(results)} checks passed in {total:.1f}s", file=out)
        return 0
    print(f"smoke {environment}: {len(failed)} of {len(results)} checks FAILED:", file=out)
    for result in failed:
        print(f"  - {result.name}: {result.detail}", file=out)
    return 1
