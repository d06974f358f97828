"""The rendered redis.conf and the cluster bootstrap, run by a real redis-server and redis-cli.

The cluster tests start real `redis-server` processes in cluster mode with the program's own rendered
config and run the program's own bootstrap script against them: the masters first (as `redis-<i>`), then
the replicas (as `redis-replica-<i>`)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.config import load
from components.infra.redis import cluster_bootstrap_script, member_hosts, redis_conf, replica_hosts
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
    if cluster:
        # What the server command adds per member (`--cluster-announce-hostname <member>.<peers>`): the
        # rendered config prefers hostnames in redirects, and this member's name is its loopback address.
        conf += "cluster-announce-hostname 127.0.0.1\n"
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


@dataclass(frozen=True)
class ClusterNode:
    """One line of `CLUSTER NODES`, as the cluster itself sees the node."""

    node_id: str
    port: int
    role: str
    master_id: str
    slots: tuple[str, ...]


def cluster_nodes(port: int) -> dict[int, ClusterNode]:
    """The cluster's view from the node on `port`, keyed by each node's port (failed nodes left out)."""
    view = {}
    for line in cli(port, "cluster", "nodes").splitlines():
        fields = line.split()
        if len(fields) < 8:
            continue
        node_port = int(fields[1].split("@")[0].rsplit(":", 1)[1])
        flags = fields[2].split(",")
        if "fail" in flags:
            continue  # a node the cluster has given up on (the killed member's old identity)
        role = "master" if "master" in flags else "replica" if "slave" in flags else ",".join(flags)
        view[node_port] = ClusterNode(fields[0], node_port, role, fields[3], tuple(fields[8:]))
    return view


def start_cluster(tmp: Path, count: int, processes: list[subprocess.Popen[bytes]]) -> list[int]:
    ports = []
    for index in range(count):
        process, port = start_node(tmp, index, cluster=True)
        processes.append(process)
        ports.append(port)
    for port in ports:
        wait_ready(port)
    return ports


def bootstrap(masters: list[int], replicas: list[int]) -> str:
    """Run the program's bootstrap script; its output."""
    script = cluster_bootstrap_script([("127.0.0.1", p) for p in masters], [("127.0.0.1", p) for p in replicas],
                                      auth=f"REDISCLI_AUTH={PASSWORD}")
    done = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"the bootstrap failed: {done.stdout}{done.stderr}"
    return done.stdout


def settled(port: int, predicate: Callable[[dict[int, ClusterNode]], bool], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if "cluster_state:ok" in cli(port, "cluster", "info") and predicate(cluster_nodes(port)):
                return
        except KeyError:
            pass  # a node the predicate names is not (or no longer) seen as healthy yet
        time.sleep(0.2)
    raise AssertionError(f"{what} within {seconds}s; the cluster sees:\n{cli(port, 'cluster', 'nodes')}")


def paired(masters: list[int], replicas: list[int]) -> Callable[[dict[int, ClusterNode]], bool]:
    """Replica *i* follows master *i* (one shard, which the platform keeps on two nodes), not another."""
    def check(view: dict[int, ClusterNode]) -> bool:
        return len(view) == len(masters) + len(replicas) and all(
            view[replica].role == "replica" and view[replica].master_id == view[master].node_id
            for master, replica in zip(masters, replicas, strict=True)
        )
    return check


def topology(port: int) -> dict[int, tuple[str, str, str, tuple[str, ...]]]:
    """Everything a bootstrap could change: node ids, roles, who follows whom, and the slots."""
    return {p: (n.node_id, n.role, n.master_id, n.slots) for p, n in cluster_nodes(port).items()}


def write(port: int, key: str, value: str) -> str:
    """SET through a cluster-aware client (`-c` follows MOVED to the key's master)."""
    return cli(port, "-c", "set", key, value).strip()


@pytest.mark.tools
def test_six_nodes_form_three_shards_survive_a_lost_master_and_a_second_run_changes_nothing(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    ports = start_cluster(tmp_path, 6, processes)
    masters, replicas = ports[:3], ports[3:]
    bootstrap(masters, replicas)
    settled(masters[1], paired(masters, replicas), "replica i follows master i")
    info = cli(masters[1], "cluster", "info")
    assert "cluster_size:3" in info and "cluster_known_nodes:6" in info, f"3 masters and 3 replicas: {info}"

    before = topology(masters[1])
    output = bootstrap(masters, replicas)
    assert "cluster already formed" in output and output.count("already joined") == 6, output
    assert topology(masters[1]) == before, "a second run changes no node, role, pairing or slot"

    # A key held by the first shard, replicated before its master dies.
    slot_owner = cluster_nodes(masters[1])[masters[0]].node_id
    key = next(f"key-{i}" for i in range(10_000)
               if cli(masters[1], "cluster", "keyslot", f"key-{i}").strip().isdigit()
               and _owner(masters[1], int(cli(masters[1], "cluster", "keyslot", f"key-{i}"))) == slot_owner)
    assert write(masters[1], key, "before") == "OK", "the shard takes writes while healthy"
    assert cli(masters[0], "wait", "1", "5000").strip() == "1", "the write reached the replica"

    killed = processes[0]
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=10)
    settled(masters[1], lambda view: view[replicas[0]].role == "master", "the replica took over its shard",
            seconds=60)
    assert write(masters[1], key, "after") == "OK", "writes to the lost master's slots continue"
    assert cli(replicas[0], "get", key).strip() == "after", "the promoted replica serves the shard"
    for probe in range(200):
        assert write(masters[1], f"probe-{probe}", "x") == "OK", "every slot range is writable"

    # The lost member comes back from its own data and follows the shard's new master; the bootstrap,
    # run again (as on the next `pulumi up`), leaves that as it is.
    processes[0] = subprocess.Popen([require_tool("redis-server"), str(tmp_path / "node0" / "redis.conf")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(masters[0])
    settled(masters[1], lambda view: view[masters[0]].master_id == view[replicas[0]].node_id,
            "the returning member rejoined as the replica of its shard")
    after_failover = topology(masters[1])
    output = bootstrap(masters, replicas)
    assert "cluster already formed" in output and output.count("already joined") == 6, output
    assert topology(masters[1]) == after_failover, "a run after a failover changes nothing either"

    # The same member loses its disk: it comes back empty, outside the cluster, and the next run makes
    # it a replica of its own shard again.
    processes[0].kill()
    processes[0].wait(timeout=10)
    for entry in (tmp_path / "node0").iterdir():
        if entry.name not in ("redis.conf", "auth.conf"):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    processes[0] = subprocess.Popen([require_tool("redis-server"), str(tmp_path / "node0" / "redis.conf")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(masters[0])
    assert "cluster_known_nodes:1" in cli(masters[0], "cluster", "info"), "an empty disk forgets the cluster"
    output = bootstrap(masters, replicas)
    assert f"127.0.0.1:{masters[0]} already joined" not in output, output
    settled(masters[1], lambda view: view[masters[0]].master_id == view[replicas[0]].node_id,
            "the emptied member rejoined its own shard")


def _owner(port: int, slot: int) -> str:
    for node in cluster_nodes(port).values():
        for part in node.slots:
            low, _, high = part.partition("-")
            if low.isdigit() and int(low) <= slot <= int(high or low):
                return node.node_id
    raise AssertionError(f"no master holds slot {slot}")


@pytest.mark.tools
def test_the_bootstrap_adds_a_replica_to_each_master_of_an_existing_three_master_cluster(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    ports = start_cluster(tmp_path, 6, processes)
    masters, replicas = ports[:3], ports[3:]
    bootstrap(masters, [])
    settled(masters[0], lambda view: len(view) == 3, "a three-master cluster formed")
    assert write(masters[0], "kept", "value") == "OK", "the masters-only cluster holds data"
    slots = {p: n.slots for p, n in cluster_nodes(masters[0]).items()}

    output = bootstrap(masters, replicas)
    assert "cluster already formed" in output, "the formed cluster is not re-created"
    settled(masters[0], paired(masters, replicas), "each replica joined and follows its own master")
    view = cluster_nodes(masters[0])
    assert {p: view[p].slots for p in masters} == slots, "adding replicas moves no slot"
    assert cli(masters[0], "-c", "get", "kept").strip() == "value", "the stored keys survive"


@pytest.mark.tools
def test_the_rendered_bootstrap_script_passes_shellcheck() -> None:
    config = load("prod", config_bag("prod")).redis
    script = cluster_bootstrap_script([(h, 6379) for h in member_hosts(config)],
                                      [(h, 6379) for h in replica_hosts(config)])
    done = subprocess.run([require_tool("shellcheck"), "--shell=sh", "--severity=style", "-"], input=script,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"the bootstrap (run by the image's /bin/sh) has findings:\n{done.stdout}"
