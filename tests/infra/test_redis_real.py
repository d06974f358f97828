"""The rendered redis.conf and the cluster bootstrap, run by a real redis-server and redis-cli."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.config import load
from components.infra.redis import cluster_bootstrap_script, redis_conf
from tests.harness import config_bag
from tests.tooling import require_tool

PASSWORD = "test-only-password"


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A free port whose cluster-bus port (port + 10000) is free and valid too."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + 10000 <= 65535 and _free(port + 10000):
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


def start_node(tmp: Path, index: int, cluster: bool) -> tuple[subprocess.Popen[bytes], int]:
    server = require_tool("redis-server")
    config = load("prod" if cluster else "dev", config_bag("prod" if cluster else "dev")).redis
    port = free_port()
    node_dir = tmp / f"node{index}"
    node_dir.mkdir()
    auth = node_dir / "auth.conf"
    auth.write_text(f"requirepass {PASSWORD}\nmasterauth {PASSWORD}\n")
    conf = redis_conf(config)
    # Point the container paths at the test's directory; everything else is the real rendered file.
    conf = re.sub(r"^include .*$", f"include {auth}", conf, flags=re.M)
    conf = re.sub(r"^dir .*$", f"dir {node_dir}", conf, flags=re.M)
    conf = re.sub(r"^cluster-config-file .*$", f"cluster-config-file {node_dir}/nodes.conf", conf, flags=re.M)
    conf = re.sub(r"^port .*$", f"port {port}", conf, flags=re.M)
    conf = re.sub(r"^bind .*$", "bind 127.0.0.1", conf, flags=re.M)
    conf = re.sub(r"^maxmemory .*$", "maxmemory 64mb", conf, flags=re.M)
    (node_dir / "redis.conf").write_text(conf)
    process = subprocess.Popen([server, str(node_dir / "redis.conf")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    return process, port


def cli(port: int, *args: str) -> str:
    done = subprocess.run([require_tool("redis-cli"), "-p", str(port), *args], capture_output=True, text=True,
                          check=False, env={"REDISCLI_AUTH": PASSWORD, "PATH": "/usr/bin:/bin"}, timeout=30)
    return done.stdout


def wait_ready(port: int) -> None:
    for _ in range(100):
        if "PONG" in cli(port, "ping"):
            return
        time.sleep(0.1)
    raise AssertionError(f"redis on {port} never answered PING")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.tools
def test_the_rendered_config_enforces_the_password_and_the_eviction_policy(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    process, port = start_node(tmp_path, 0, cluster=False)
    processes.append(process)
    wait_ready(port)
    anonymous = subprocess.run([require_tool("redis-cli"), "-p", str(port), "ping"], capture_output=True, text=True,
                               check=False)
    assert "NOAUTH" in anonymous.stdout + anonymous.stderr, "a client without the password is refused"
    assert "allkeys-lru" in cli(port, "config", "get", "maxmemory-policy"), "eviction policy from the config"
    assert "yes" in cli(port, "config", "get", "appendonly"), "data is persisted"


@pytest.mark.tools
def test_the_bootstrap_forms_a_three_master_cluster_and_is_idempotent(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    ports = []
    for index in range(3):
        process, port = start_node(tmp_path, index, cluster=True)
        processes.append(process)
        ports.append(port)
    for port in ports:
        wait_ready(port)
    script = cluster_bootstrap_script([("127.0.0.1", p) for p in ports], auth=f"REDISCLI_AUTH={PASSWORD}")
    for attempt in range(2):
        done = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"bootstrap run {attempt + 1} failed: {done.stdout}{done.stderr}"
    assert "cluster already formed" in done.stdout, "a second run leaves the formed cluster alone"
    for _ in range(50):
        info = cli(ports[0], "cluster", "info")
        if "cluster_state:ok" in info:
            break
        time.sleep(0.2)
    assert "cluster_state:ok" in info and "cluster_known_nodes:3" in info, info
    assert "cluster_size:3" in info, "three masters share the slots"
