"""The rendered remote scripts, run over a real sshd (in a network namespace) against a stand-in k3s node.

Proves what pulumi-command would do on a real node: the quoting (k3s' paths sit under a directory whose
name holds a space and a quote), idempotency (a second run changes and restarts nothing), the checksum
(a tampered binary never runs) and the flags that reach the k3s server.
"""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from components.cluster import scripts
from components.cluster.k3s_config import JoinSecrets, node_config, render_config
from components.cluster.kubeconfig import pointed_at
from components.cluster.nodes import Node, rollout
from components.cluster.paths import NodePaths
from components.config import StackConfig, load
from tests.cluster import sample
from tests.cluster.sshd import SshNode, ssh_node
from tests.harness import K3S_KUBECONFIG, config_bag

pytestmark = pytest.mark.tools

SECRETS = JoinSecrets(token="K10tokenFromPulumiRandom", s3_access_key=sample.S3_ACCESS_KEY,
                      s3_secret_key=sample.S3_SECRET_KEY)


@pytest.fixture(scope="module")
def config() -> StackConfig:
    return load(sample.STACK, config_bag(sample.STACK, sample.overrides()), secret_keys=sample.SECRET_KEYS)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshNode]:
    with ssh_node(tmp_path_factory.mktemp("k3s-node")) as running:
        yield running


@pytest.fixture(scope="module")
def first(config: StackConfig) -> Node:
    assert config.cluster is not None
    return rollout(config.cluster)[0]


@pytest.fixture(scope="module")
def paths(node: SshNode) -> NodePaths:
    return NodePaths().under(str(node.root))


def release(version: str, content: bytes) -> scripts.Release:
    return scripts.Release(version=version, sha256=hashlib.sha256(content).hexdigest())


def rendered_config(config: StackConfig, first: Node, paths: NodePaths) -> str:
    assert config.cluster is not None and config.backup.offsite is not None
    return render_config(node_config(first, config.cluster, config.backup.offsite, SECRETS, paths))




@pytest.fixture(scope="module")
def installed(node: SshNode, config: StackConfig, first: Node, paths: NodePaths) -> scripts.Release:
    """The first run: the binary uploaded as CopyToRemote would, then the install script."""
    pinned = release("v1.33.7+k3s1", node.k3s)
    node.upload(node.k3s, paths.staged_binary(pinned.version))
    done = node.run(scripts.remote_command(scripts.install(first, pinned, paths), "root"),
                    rendered_config(config, first, paths).encode())
    assert done.returncode == 0, f"the first install succeeds:\n{done.stdout}{done.stderr}"
    assert "restarted k3s" in done.stdout, done.stdout
    return pinned


def test_the_first_run_places_the_verified_binary_and_starts_the_server_with_its_flags(
        node: SshNode, installed: scripts.Release, paths: NodePaths, config: StackConfig, first: Node) -> None:
    assert Path(paths.binary).read_bytes() == node.k3s, "the verified upload is the installed binary"
    assert stat.S_IMODE(Path(paths.config).stat().st_mode) == 0o600, "the config (it holds the token) is 0600"
    starts = node.records("k3s")
    assert len(starts) == 1, f"k3s started once: {starts}"
    assert starts[0]["args"] == ["server", "--config", paths.config], (
        f"the unit starts a server on the quoted config path: {starts[0]['args']}")
    flags = yaml.safe_load(starts[0]["files"][paths.config])
    assert flags == yaml.safe_load(rendered_config(config, first, paths)), "the server reads the rendered config"
    assert flags["secrets-encryption"] is True and flags["cluster-init"] is True, flags
    assert flags["token"] == SECRETS.token and flags["etcd-s3-secret-key"] == sample.S3_SECRET_KEY, (
        "the secrets arrive through stdin into the config file")
    assert f"audit-policy-file={paths.audit_policy}" in flags["kube-apiserver-arg"], flags["kube-apiserver-arg"]
    assert yaml.safe_load(Path(paths.audit_policy).read_text())["kind"] == "Policy", "the audit policy is in place"
    assert stat.S_IMODE(Path(paths.audit_log_dir).stat().st_mode) == 0o700, "only root reads the audit log"
    assert [r["args"] for r in node.records("sysctl")] == [["-p", paths.sysctl]], "kernel defaults applied once"
    calls = [r["args"] for r in node.records("systemctl")]
    assert calls == [["daemon-reload"], ["enable", "k3s"], ["restart", "k3s"]], calls


def test_a_second_run_changes_nothing(node: SshNode, installed: scripts.Release, config: StackConfig,
                                      first: Node, paths: NodePaths) -> None:
    before = {p: Path(p).stat().st_mtime_ns for p in (paths.binary, paths.config, paths.unit("k3s"), paths.sysctl)}
    records = len(node.records())
    done = node.run(scripts.remote_command(scripts.install(first, installed, paths), "root"),
                    rendered_config(config, first, paths).encode())
    assert done.returncode == 0 and "k3s unchanged" in done.stdout, f"{done.stdout}{done.stderr}"
    assert len(node.records()) == records, f"no restart, no sysctl, no k3s start: {node.records()[records:]}"
    after = {p: Path(p).stat().st_mtime_ns for p in before}
    assert after == before, "no file is rewritten"


def test_a_tampered_binary_is_refused_before_it_runs(node: SshNode, installed: scripts.Release,
                                                      config: StackConfig, first: Node, paths: NodePaths) -> None:
    pinned = release("v1.34.3+k3s1", node.k3s + b"# the next release\n")
    node.upload(node.k3s + b"# tampered\n", paths.staged_binary(pinned.version))
    records = len(node.records())
    done = node.run(scripts.remote_command(scripts.install(first, pinned, paths), "root"),
                    rendered_config(config, first, paths).encode())
    assert done.returncode != 0, "the install fails"
    assert f"the pinned release has {pinned.sha256}" in done.stderr, done.stderr
    assert Path(paths.binary).read_bytes() == node.k3s, "the installed binary is untouched"
    assert len(node.records()) == records, "nothing was restarted or started"


def test_drain_and_uncordon_reach_kubectl_with_the_node_name(node: SshNode, installed: scripts.Release,
                                                             paths: NodePaths) -> None:
    records = len(node.records())
    for script in (scripts.drain("agent-1", paths), scripts.uncordon("agent-1", paths)):
        done = node.run(scripts.remote_command(script, "root"))
        assert done.returncode == 0, f"{done.stdout}{done.stderr}"
    kubectl = [r["args"][3:] for r in node.records("k3s")[-4:]]
    assert len(node.records()) == records + 4, node.records()[records:]
    assert all(r["args"][:3] == ["kubectl", "--kubeconfig", paths.kubeconfig] for r in node.records("k3s")[-4:])
    assert kubectl == [
        ["get", "node", "agent-1"],
        ["drain", "agent-1", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=600s"],
        ["wait", "--for=condition=Ready", "node/agent-1", "--timeout=5s"],
        ["uncordon", "agent-1"],
    ], kubectl


def test_the_kubeconfig_is_read_back_and_pointed_at_the_api_endpoint(node: SshNode, installed: scripts.Release,
                                                                     paths: NodePaths) -> None:
    node.upload(K3S_KUBECONFIG.encode(), paths.kubeconfig)  # as the k3s server writes it
    done = node.run(scripts.remote_command(scripts.read_kubeconfig(paths), "root"))
    assert done.returncode == 0 and done.stdout == K3S_KUBECONFIG, done.stderr
    server = yaml.safe_load(pointed_at(done.stdout, "k8s.dreamscape.example.com"))["clusters"][0]["cluster"]["server"]
    assert server == "https://k8s.dreamscape.example.com:6443", server


def test_an_agent_starts_k3s_agent_with_the_agent_flags_only(node: SshNode, config: StackConfig) -> None:
    assert config.cluster is not None and config.backup.offsite is not None
    agent = rollout(config.cluster)[3]
    paths = NodePaths().under(str(node.root / "agent's root"))
    pinned = release("v1.33.7+k3s1", node.k3s)
    node.upload(node.k3s, paths.staged_binary(pinned.version))
    rendered = render_config(node_config(agent, config.cluster, config.backup.offsite, SECRETS, paths))
    done = node.run(scripts.remote_command(scripts.install(agent, pinned, paths), "root"), rendered.encode())
    assert done.returncode == 0 and "restarted k3s-agent" in done.stdout, f"{done.stdout}{done.stderr}"
    start = node.records("k3s")[-1]
    assert start["args"] == ["agent", "--config", paths.config], start["args"]
    flags = yaml.safe_load(start["files"][paths.config])
    assert flags["server"] == "https://10.0.10.11:6443" and flags["token"] == SECRETS.token, "joins server 1"
    assert flags["node-label"] == ["dreamscape.io/pool=workloads"] and flags["protect-kernel-defaults"] is True
    assert not {key for key in flags if key.startswith(("etcd", "kube-apiserver", "secrets", "cluster-init"))}, flags
    assert not Path(paths.audit_policy).exists(), "agents run no API server, so no audit policy"
