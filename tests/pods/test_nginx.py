"""The core pod's NGINX config: parsed with crossplane, checked and run by the real nginx binary."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import crossplane
import pytest

from components.pods.catalog import CORE
from components.pods.model import PodDefinition
from components.pods.render.files import REPO_ROOT
from components.pods.render.nginx import NginxSettings, render_nginx
from tests.tooling import require_tool

COMMITTED = REPO_ROOT / "images" / "core" / "nginx.conf"
NOBODY = 65534

CLUSTER_DNS = "10.43.0.10"
"""A cluster DNS address, as `kubernetes.clusterDns` sets it (the resolver is a parameter of the render)."""


def parse(path: Path) -> list[dict[str, Any]]:
    result = crossplane.parse(str(path), single=True, check_ctx=True, check_args=True)
    assert result["status"] == "ok", f"crossplane must parse {path} without errors: {result['errors']}"
    parsed: list[dict[str, Any]] = result["config"][0]["parsed"]
    return parsed


def walk(block: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for entry in block:
        yield entry
        yield from walk(entry.get("block", []))


def find(block: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [entry for entry in walk(block) if entry["directive"] == name]


def locations(block: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    return {" ".join(entry["args"]): entry["block"] for entry in find(block, "location")}


def args_of(block: list[dict[str, Any]], name: str) -> list[list[str]]:
    return [entry["args"] for entry in block if entry["directive"] == name]


def render_to(directory: Path, pod: PodDefinition = CORE, settings: NginxSettings | None = None) -> Path:
    path = directory / "nginx.conf"
    path.write_text(render_nginx(pod, settings=settings), encoding="utf-8")
    return path


def nginx_test(nginx: str, conf: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [nginx, "-t", "-q", "-e", "stderr", "-p", f"{prefix}/", "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_rate_limits_are_declared_and_applied_to_auth_and_users() -> None:
    config = parse(COMMITTED)
    zones = [entry["args"] for entry in find(config, "limit_req_zone")]
    assert ["$binary_remote_addr", "zone=auth:10m", "rate=10r/s"] in zones, f"auth zone at 10 r/s: {zones}"
    assert ["$binary_remote_addr", "zone=users:10m", "rate=15r/s"] in zones, f"users zone at 15 r/s: {zones}"
    routes = locations(config)
    assert args_of(routes["/api/v1/auth"], "limit_req") == [["zone=auth", "burst=20", "nodelay"]], (
        "the auth route applies the auth zone with a burst"
    )
    assert args_of(routes["/api/v1/users"], "limit_req") == [["zone=users", "burst=30", "nodelay"]], (
        "the users route applies the users zone with a burst"
    )
    assert find(config, "limit_req_status")[0]["args"] == ["429"], "limited requests get 429"


def test_routes_go_to_localhost_in_the_pod_and_to_other_pods_by_hostname() -> None:
    routes = locations(parse(COMMITTED))
    assert args_of(routes["/api/v1/auth"], "proxy_pass") == [["http://127.0.0.1:3001"]], "auth is local"
    assert args_of(routes["/api/v1/users"], "proxy_pass") == [["http://127.0.0.1:3002"]], "user is local"
    remote = {
        "/api/v1/voyages": "business-pod:3003",
        "/api/v1/ai": "business-pod:3004",
        "/api/v1/payments": "business-pod:3005",
        "/api/v1/panorama": "experience-pod:3006",
    }
    for prefix, address in remote.items():
        (variable, value), *_ = args_of(routes[prefix], "set")
        assert value == address, f"{prefix} is proxied to {address}, got {value}"
        assert args_of(routes[prefix], "proxy_pass") == [[f"http://{variable}"]], (
            f"{prefix} proxies through a variable so the host is resolved at request time"
        )


def test_other_pods_hosts_and_the_resolver_are_parameters(tmp_path: Path) -> None:
    settings = NginxSettings(
        resolvers=(CLUSTER_DNS,),
        pod_hosts={"business": "business-pod.review-42.svc.cluster.local"},
    )
    config = parse(render_to(tmp_path, settings=settings))
    assert find(config, "resolver")[0]["args"][0] == CLUSTER_DNS, "the resolver is a parameter"
    values = [entry["args"][1] for entry in find(config, "set")]
    assert "business-pod.review-42.svc.cluster.local:3003" in values, "pod hosts can be overridden"
    assert "experience-pod:3006" in values, "pods without an override keep their default host"


def test_nginx_answers_health_and_status_itself_and_listens_unprivileged() -> None:
    config = parse(COMMITTED)
    routes = locations(config)
    health = args_of(routes["= /health"], "return")
    assert health == [["200", '{"status":"ok"}']], "/health is served by NGINX itself"
    assert args_of(routes["= /status"], "stub_status") == [[]], "/status is NGINX's stub_status"
    assert args_of(routes["= /status"], "deny") == [["all"]], "/status is private"
    assert [entry["args"] for entry in find(config, "listen")] == [["8080", "default_server"]], (
        "NGINX listens on the unprivileged 8080 (published as 80)"
    )


def test_pid_temp_paths_and_logs_avoid_the_read_only_root_filesystem() -> None:
    config = parse(COMMITTED)
    paths = [entry["args"][0] for entry in walk(config) if entry["directive"].endswith("_temp_path")]
    paths += find(config, "pid")[0]["args"]
    assert len(paths) == 6, f"pid and the five temp paths are set explicitly: {paths}"
    assert all(path.startswith("/tmp/") for path in paths), f"writable paths live under /tmp: {paths}"
    assert find(config, "error_log")[0]["args"][0] == "stderr", "errors go to the container's stderr"
    assert find(config, "access_log")[0]["args"] == ["/dev/stdout"], "access log goes to stdout"
    assert find(config, "daemon")[0]["args"] == ["off"], "NGINX stays in the foreground under supervisord"


@pytest.mark.tools
def test_the_committed_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    nginx = require_tool("nginx")
    result = nginx_test(nginx, COMMITTED, tmp_path)
    assert result.returncode == 0, f"nginx -t must accept images/core/nginx.conf:\n{result.stderr}"


@pytest.mark.tools
def test_a_kubernetes_flavoured_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    nginx = require_tool("nginx")
    settings = NginxSettings(
        resolvers=(CLUSTER_DNS,),
        pod_hosts={
            "business": "business-pod.prod.svc.cluster.local",
            "experience": "experience-pod.prod.svc.cluster.local",
        },
        runtime_dir=str(tmp_path),
    )
    result = nginx_test(nginx, render_to(tmp_path, settings=settings), tmp_path)
    assert result.returncode == 0, f"nginx -t must accept the config with FQDN hosts:\n{result.stderr}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.tools
def test_nginx_runs_unprivileged_serves_health_and_rate_limits_auth() -> None:
    nginx = require_tool("nginx")
    gateway = CORE.gateway
    assert gateway is not None
    # Free ports: nothing listens behind auth/user, so proxied requests fail fast with 502.
    pod = replace(
        CORE,
        services=tuple(replace(service, port=free_port()) for service in CORE.services),
        gateway=replace(gateway, listen_port=free_port()),
    )
    assert pod.gateway is not None
    workdir = Path(tempfile.mkdtemp(prefix="dreamscape-nginx-"))
    try:
        workdir.chmod(0o777)  # the unprivileged nginx writes its pid and temp files here
        conf = render_to(workdir, pod, NginxSettings(resolvers=("127.0.0.1",), runtime_dir=str(workdir)))
        conf.chmod(0o644)
        root = os.geteuid() == 0  # drop to nobody: the pod runs NGINX without privileges
        process = subprocess.Popen(
            [nginx, "-e", "stderr", "-p", f"{workdir}/", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            user=NOBODY if root else None,
            group=NOBODY if root else None,
            extra_groups=[] if root else None,
        )
        try:
            base = f"http://127.0.0.1:{pod.gateway.listen_port}"
            deadline = time.monotonic() + 10
            while True:
                try:
                    status, body = get(f"{base}/health")
                    break
                except (ConnectionError, urllib.error.URLError):
                    assert process.poll() is None, f"nginx must start unprivileged: {process.stderr}"
                    assert time.monotonic() < deadline, "nginx did not listen within 10 s"
                    time.sleep(0.1)
            assert (status, body) == (200, '{"status":"ok"}'), f"/health answers 200 ok, got {status} {body}"
            assert get(f"{base}/status")[0] == 200, "/status is open to the loopback address"
            assert get(f"{base}/nowhere")[0] == 404, "unknown paths get 404"
            statuses = [get(f"{base}/api/v1/auth/login")[0] for _ in range(40)]
            assert statuses[0] != 429, "the first auth request is not limited"
            assert statuses.count(429) >= 10, f"40 quick auth requests exceed 10 r/s + burst 20: {statuses}"
        finally:
            process.terminate()
            process.communicate(timeout=10)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


class _Recorder:
    """A fake upstream on 127.0.0.1: records each request; `verify` answers like the auth service's verify."""

    def __init__(self, verify_token: str | None = None) -> None:
        import http.server
        import threading

        self.requests: list[dict[str, Any]] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                recorder.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if verify_token is not None and self.path.startswith("/api/v1/auth/verify"):
                    original = self.headers.get("X-Original-URI", "")
                    good = (self.headers.get("Authorization") == f"Bearer {verify_token}"
                            or f"access_token={verify_token}" in original)
                    self.send_response(200 if good else 401)
                    if good:
                        self.send_header("X-Auth-User", "john@example.com")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                payload = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer  # noqa: N815 (http.server's method names)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _request(url: str, headers: dict[str, str] | None = None, data: bytes | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_business_and_experience_routes_are_protected_and_core_routes_are_not() -> None:
    config = parse(COMMITTED)
    routes = locations(config)
    for prefix in ("/api/v1/voyages", "/api/v1/ai", "/api/v1/payments", "/api/v1/panorama"):
        assert args_of(routes[prefix], "auth_request") == [["/_dreamscape/verify"]], f"{prefix} asks auth first"
    for prefix in ("/api/v1/auth", "/api/v1/users"):
        assert not args_of(routes[prefix], "auth_request"), f"{prefix} verifies its own tokens (login must pass)"
    verify = routes["= /_dreamscape/verify"]
    assert args_of(verify, "internal") == [[]], "the verify location is internal: clients cannot call it"
    assert args_of(verify, "proxy_pass") == [["http://127.0.0.1:3001/api/v1/auth/verify"]], "asks the auth service"


@pytest.mark.tools
def test_real_nginx_refuses_a_protected_route_without_a_valid_token_and_forwards_one_with_it() -> None:
    nginx = require_tool("nginx")
    gateway = CORE.gateway
    assert gateway is not None
    auth, upstream = _Recorder(verify_token="good-token"), _Recorder()
    pod = replace(
        CORE,
        services=tuple(replace(s, port=auth.port if s.name == "auth" else free_port()) for s in CORE.services),
        gateway=replace(gateway, listen_port=free_port()),
    )
    from components.pods.catalog import BUSINESS, EXPERIENCE

    business = replace(BUSINESS, services=tuple(
        replace(s, port=upstream.port if s.name == "voyage" else free_port()) for s in BUSINESS.services))
    catalog = (pod, business, EXPERIENCE)
    workdir = Path(tempfile.mkdtemp(prefix="dreamscape-nginx-auth-"))
    try:
        workdir.chmod(0o777)
        settings = NginxSettings(resolvers=("127.0.0.1",), runtime_dir=str(workdir),
                                 pod_hosts={"business": "127.0.0.1", "experience": "127.0.0.1"})
        conf = workdir / "nginx.conf"
        conf.write_text(render_nginx(pod, catalog, settings), encoding="utf-8")
        conf.chmod(0o644)
        root = os.geteuid() == 0
        process = subprocess.Popen(
            [nginx, "-e", "stderr", "-p", f"{workdir}/", "-c", str(conf)], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, user=NOBODY if root else None, group=NOBODY if root else None,
            extra_groups=[] if root else None,
        )
        try:
            assert pod.gateway is not None
            base = f"http://127.0.0.1:{pod.gateway.listen_port}"
            deadline = time.monotonic() + 10
            while True:
                try:
                    get(f"{base}/health")
                    break
                except (ConnectionError, urllib.error.URLError):
                    assert process.poll() is None and time.monotonic() < deadline, f"nginx starts: {process.stderr}"
                    time.sleep(0.1)
            voyages = f"{base}/api/v1/voyages/search?to=mars"
            assert _request(voyages) == 401, "no token: refused"
            assert _request(voyages, {"Authorization": "Bearer forged"}) == 401, "a bad token: refused"
            assert not upstream.requests, "nothing reached the service without a valid token"
            forged = {"Authorization": "Bearer good-token", "X-Auth-User": "admin@evil.example"}
            assert _request(voyages, forged, data=b'{"seats": 2}') == 200, "a valid token: forwarded"
            assert _request(f"{base}/api/v1/voyages/events?access_token=good-token") == 200, \
                "a token in the query (a browser WebSocket's only option) is accepted too"
            forwarded = upstream.requests[0]
            assert forwarded["path"] == "/api/v1/voyages/search?to=mars" and forwarded["body"] == '{"seats": 2}', \
                f"the request reaches the service unchanged: {forwarded}"
            assert forwarded["headers"].get("X-Auth-User") == "john@example.com", \
                f"the service gets the verified subject, not the client's claim: {forwarded['headers']}"
            checks = [r for r in auth.requests if r["path"].startswith("/api/v1/auth/verify")]
            assert checks and all(r["body"] == "" for r in checks), "the verify subrequest carries no body"
            assert checks[0]["headers"].get("X-Original-URI") == "/api/v1/voyages/search?to=mars", \
                "auth sees the original URI"
            assert _request(f"{base}/api/v1/auth/login", {"X-Auth-User": "admin@evil.example"}) == 200, "login open"
            login = next(r for r in auth.requests if r["path"] == "/api/v1/auth/login")
            assert "X-Auth-User" not in login["headers"], "a forged X-Auth-User never passes, on any route"
            assert _request(f"{base}/_dreamscape/verify", {"Authorization": "Bearer good-token"}) == 404, \
                "the verify location is internal"
        finally:
            process.terminate()
            process.communicate(timeout=10)
    finally:
        auth.close()
        upstream.close()
        shutil.rmtree(workdir, ignore_errors=True)
