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
from components.pods.render.nginx import K3S_CLUSTER_DNS, NginxSettings, render_nginx
from tests.tooling import require_tool

COMMITTED = REPO_ROOT / "images" / "core" / "nginx.conf"
NOBODY = 65534


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
        resolvers=(K3S_CLUSTER_DNS,),
        pod_hosts={"business": "business-pod.review-42.svc.cluster.local"},
    )
    config = parse(render_to(tmp_path, settings=settings))
    assert find(config, "resolver")[0]["args"][0] == K3S_CLUSTER_DNS, "the resolver is a parameter"
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
        resolvers=(K3S_CLUSTER_DNS,),
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
