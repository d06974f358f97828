"""What NGINX ``auth_request`` costs per protected request: the real NGINX with the rendered core-gateway
config, the real reference auth service answering the verify subrequest, and the real reference service
behind the route. A benchmark, not a test: it measures this machine.

    venv/bin/python scripts/auth_bench.py [--requests 400] [--warmup 50] [--json]

Two gateways are rendered by ``render_nginx`` from the catalog, identical but for one thing: in the
second, the measured route (the first protected route without a rate limit, ``/api/v1/voyages``) has
``protected=False``, so no ``auth_request``. Both proxy to the same upstream process. Requests alternate
between them on one keep-alive connection each, with a valid HS256 access token, so load on the shared
machine hits both modes alike. What differs from a pod: ports are free ones the OS hands out (the catalog
is rebuilt with them and rendered again), the other pods' hosts are ``127.0.0.1``, the services run as
``node server.js`` (what ``npm start`` runs) from the repository.

Which hops carry TLS, as on prod and review (docs/security.md, "Ports still plaintext"):
- client -> NGINX: plain here and on prod. TLS ends at the edge (Traefik), before the Big Pod's ``http``
  port; the edge's handshake is paid once per client connection, not per protected request, and is the
  same with or without ``auth_request``.
- NGINX -> auth verify: plain. Auth runs in the core pod beside NGINX, over ``127.0.0.1``.
- auth's token check -> data services: none. The verify endpoint checks the HMAC signature and expiry
  with the JWT key from its secret file; it reads neither Redis nor Postgres (whose TLS connections,
  ``rediss://`` and ``verify-full``, are paid by login and sessions, not by verify). The benchmark proves
  it: auth runs with no ``DATABASE_HOST`` or ``REDIS_HOST`` at all, and a valid token still passes.
- NGINX -> the routed service (another Big Pod): plain HTTP on the pod network, the same in both modes.
So no TLS hop lies on the path ``auth_request`` adds, and the figure needs no TLS daemon.

It refuses to report a figure unless ``auth_request`` is demonstrably on: without a token, and with a
token signed by another key, the protected gateway must answer 401 and the unprotected one 200; every
measured request must answer 200.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import hmac
import http.client
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.pods.catalog import CATALOG
from components.pods.model import GatewayRoute, PodDefinition, pod_of
from components.pods.render.files import REPO_ROOT
from components.pods.render.nginx import NginxSettings, render_nginx

JWT_KEY = "jwt-access-key-for-the-benchmark"
STARTUP_SECONDS = 30.0


class BenchError(RuntimeError):
    """The benchmark could not measure what it claims to (auth_request off, a daemon down)."""


@dataclass(frozen=True, kw_only=True)
class Timings:
    """Per-request latencies of one mode, in milliseconds."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.samples, n=20, method="inclusive")[18]


@dataclass(frozen=True, kw_only=True)
class Result:
    route: str
    requests: int
    with_auth: Timings
    without_auth: Timings
    load_average: tuple[float, float, float]

    def as_dict(self) -> dict[str, object]:
        return {
            "route": self.route, "requests": self.requests, "load_average": list(self.load_average),
            "with_auth_request": {"median_ms": self.with_auth.median, "p95_ms": self.with_auth.p95},
            "without_auth_request": {"median_ms": self.without_auth.median, "p95_ms": self.without_auth.p95},
            "overhead_median_ms": self.with_auth.median - self.without_auth.median,
            "overhead_p95_ms": self.with_auth.p95 - self.without_auth.p95,
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def access_token(subject: str, key: str) -> str:
    """An HS256 access token as the reference auth service signs it."""
    def encode(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    head = encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = encode(json.dumps({"sub": subject, "iat": now, "exp": now + 3600}).encode())
    signature = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{encode(signature)}"


def measured_route(gateway_pod: PodDefinition) -> GatewayRoute:
    """The first protected route without a rate limit (a limit would answer 429 mid-run)."""
    assert gateway_pod.gateway is not None
    return next(r for r in gateway_pod.gateway.routes if r.protected and r.rate_limit is None)


def _with_ports(pod: PodDefinition, ports: dict[str, int], listen: int | None) -> PodDefinition:
    services = tuple(dataclasses.replace(s, port=ports[s.name]) if s.name in ports else s for s in pod.services)
    gateway = pod.gateway
    if gateway is not None and listen is not None:
        gateway = dataclasses.replace(gateway, listen_port=listen)
    return dataclasses.replace(pod, services=services, gateway=gateway)


def _unprotected(pod: PodDefinition, prefix: str) -> PodDefinition:
    assert pod.gateway is not None
    routes = tuple(dataclasses.replace(r, protected=False) if r.prefix == prefix else r for r in pod.gateway.routes)
    return dataclasses.replace(pod, gateway=dataclasses.replace(pod.gateway, routes=routes))


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{process.args!r} exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"nothing listens on {port} after {STARTUP_SECONDS}s: {log.read_text()[-2000:]}")


@contextmanager
def _process(argv: list[str], env: dict[str, str], log: Path, port: int, cwd: Path | None = None,
             ) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for(port, process, log)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tool(name: str, *candidates: str) -> str:
    for exe in (name, *candidates):
        found = shutil.which(exe)
        if found:
            return found
    raise BenchError(f"{name} is not installed (see .ci/run for the Debian package)")


def _get(connection: http.client.HTTPConnection, path: str, token: str | None) -> int:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    return response.status


def _check_modes(protected_port: int, plain_port: int, path: str, token: str) -> None:
    """Refuse to measure unless auth_request is on for one gateway and off for the other."""
    forged = access_token("bench@example.com", "not-the-platform-key")
    expected = {
        (protected_port, None): 401, (protected_port, forged): 401, (protected_port, token): 200,
        (plain_port, None): 200, (plain_port, token): 200,
    }
    wrong = []
    for (port, sent), status in expected.items():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        got = _get(connection, path, sent)
        connection.close()
        if got != status:
            wrong.append(f"port {port} token={'none' if sent is None else 'forged' if sent == forged else 'valid'}: "
                         f"{got}, expected {status}")
    if wrong:
        raise BenchError("auth_request is not doing its job: " + "; ".join(wrong))


def _measure(protected_port: int, plain_port: int, path: str, token: str, requests: int,
             warmup: int) -> tuple[Timings, Timings]:
    connections = {port: http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                   for port in (protected_port, plain_port)}
    samples: dict[int, list[float]] = {port: [] for port in connections}
    try:
        for index in range(warmup + requests):
            for port, connection in connections.items():
                started = time.perf_counter_ns()
                status = _get(connection, path, token)
                elapsed = (time.perf_counter_ns() - started) / 1e6
                if status != 200:
                    raise BenchError(f"request {index} to port {port} answered {status}")
                if index >= warmup:
                    samples[port].append(elapsed)
    finally:
        for connection in connections.values():
            connection.close()
    return Timings(samples=tuple(samples[protected_port])), Timings(samples=tuple(samples[plain_port]))


def run(requests: int, warmup: int) -> Result:
    if requests < 2:
        raise BenchError("--requests must be at least 2 (a p95 needs samples)")
    nginx, node = _tool("nginx", "/usr/sbin/nginx"), _tool("node")
    core = next(pod for pod in CATALOG if pod.gateway is not None)
    assert core.gateway is not None and core.gateway.verify is not None
    route = measured_route(core)
    verifier, upstream = core.gateway.verify.service, route.service
    ports = {verifier: free_port(), upstream: free_port()}
    protected_listen, plain_listen = free_port(), free_port()
    catalog = tuple(_with_ports(pod, ports, None) for pod in CATALOG)
    sources = {name: REPO_ROOT / "reference-app" / str(pod_of(name, catalog).service(name).source)
               for name in (verifier, upstream)}
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dreamscape-auth-bench-")))
        (root / "jwt-access-secret").write_text(JWT_KEY)
        base_env = {"PATH": f"{Path(node).parent}:/usr/sbin:/usr/bin:/bin", "HOME": str(root),
                    "NODE_ENV": "production", "HOST": "127.0.0.1"}
        # No DATABASE_HOST, REDIS_HOST or KAFKA_BROKERS: the verify path must not need them.
        for name in (verifier, upstream):
            env = {**base_env, "PORT": str(ports[name])}
            if pod_of(name, catalog).signs_tokens:
                env["JWT_ACCESS_SECRET_FILE"] = str(root / "jwt-access-secret")
            stack.enter_context(_process([node, "server.js"], env, root / f"{name}.log", ports[name],
                                         cwd=sources[name]))
        gateway_pod = pod_of(verifier, catalog)
        for label, listen, pod in (("protected", protected_listen, gateway_pod),
                                   ("plain", plain_listen, _unprotected(gateway_pod, route.prefix))):
            runtime = root / label
            runtime.mkdir()
            settings = NginxSettings(pod_hosts={other.name: "127.0.0.1" for other in catalog},
                                     resolvers=("127.0.0.1",), runtime_dir=str(runtime))
            config = runtime / "nginx.conf"
            config.write_text(render_nginx(_with_ports(pod, {}, listen), catalog, settings))
            stack.enter_context(_process([nginx, "-c", str(config)], base_env,
                                         runtime / "nginx.log", listen))
        token = access_token("bench@example.com", JWT_KEY)
        _check_modes(protected_listen, plain_listen, route.prefix, token)
        with_auth, without_auth = _measure(protected_listen, plain_listen, route.prefix, token, requests, warmup)
        # Once more after the run: auth_request did not switch off under load.
        _check_modes(protected_listen, plain_listen, route.prefix, token)
    load = Path("/proc/loadavg").read_text().split()[:3]
    return Result(route=route.prefix, requests=requests, with_auth=with_auth, without_auth=without_auth,
                  load_average=(float(load[0]), float(load[1]), float(load[2])))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=400, help="measured requests per mode (default 400)")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured requests per mode first (default 50)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    try:
        result = run(args.requests, args.warmup)
    except BenchError as error:
        print(f"auth_bench: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    print(f"{result.route}, {result.requests} requests per mode, keep-alive, alternating "
          f"(load average {' '.join(f'{v:.2f}' for v in result.load_average)})")
    print(f"{'mode':<24}{'median ms':>12}{'p95 ms':>12}")
    for label, timings in (("with auth_request", result.with_auth), ("without auth_request", result.without_auth)):
        print(f"{label:<24}{timings.median:>12.3f}{timings.p95:>12.3f}")
    summary = result.as_dict()
    print(f"{'overhead':<24}{summary['overhead_median_ms']:>+12.3f}{summary['overhead_p95_ms']:>+12.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
