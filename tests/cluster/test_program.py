"""The cluster stack under the mock runtime: what pulumi-command receives, in which order, and what stays secret."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
import yaml

from tests.cluster import sample
from tests.harness import ROOT, Evaluation, Registered, evaluate, walk_plain

COMMAND = "command:remote:Command"
COPY = "command:remote:CopyToRemote"
PASSWORD = "random:index/randomPassword:RandomPassword"
HOSTS = ["server-1", "server-2", "server-3", "agent-1", "agent-2"]


@pytest.fixture(scope="module")
def cluster() -> Evaluation:
    return evaluate(sample.STACK, sample.overrides(), secret_keys=sample.SECRET_KEYS)


def _depends(resource: Registered, other: Registered) -> bool:
    return other.urn in resource.options["dependencies"]


def test_each_node_is_drained_uploaded_installed_and_uncordoned_in_order(cluster: Evaluation) -> None:
    steps = ["drain", "binary", "install", "uncordon"]
    chain = [cluster.named(COPY if step == "binary" else COMMAND, f"prod-cluster-{host}-{step}")
             for host in HOSTS for step in steps]
    for before, after in itertools.pairwise(chain):
        assert _depends(after, before), f"{after.name} waits for {before.name}: one node at a time, servers first"


def test_the_binary_uploaded_is_the_pinned_release(cluster: Evaluation) -> None:
    upload = cluster.named(COPY, "prod-cluster-server-1-binary")
    assert upload.inputs["source"]["path"].endswith("k3s-releases/v1.33.7+k3s1/k3s"), upload.inputs["source"]
    assert upload.inputs["remotePath"] == "/var/lib/dreamscape/k3s/k3s-v1.33.7+k3s1", upload.inputs["remotePath"]
    install = cluster.named(COMMAND, "prod-cluster-server-1-install")
    checksum = sample.stack_file()["dreamscape:cluster"]["k3s"]["checksums"]["v1.33.7+k3s1"]
    assert f"expected={checksum}" in install.inputs["create"], "the node checks the pinned SHA-256"


def test_the_join_token_is_generated_and_reaches_every_node_only_as_a_secret(cluster: Evaluation) -> None:
    token = cluster.named(PASSWORD, "prod-cluster-token")
    assert token.options["protect"], "prod-cluster protects the token: a new one locks every node out"
    values = {yaml.safe_load(cluster.named(COMMAND, f"prod-cluster-{host}-install").inputs["stdin"])["token"]
              for host in HOSTS}
    assert len(values) == 1 and values <= cluster.generated_secrets, "every node gets the one generated token"


def test_no_secret_travels_in_plain_text(cluster: Evaluation) -> None:
    secrets = {*cluster.generated_secrets, sample.S3_ACCESS_KEY, sample.S3_SECRET_KEY, "FAKESSHKEYMATERIAL"}
    delivered = {s for s in secrets for r in cluster.resources if s in str(r.inputs)}
    assert delivered == secrets, f"the token, the S3 keys and the SSH key all reach a resource: {delivered}"
    leaks = [(r.name, path) for r in cluster.resources for path, leaf in walk_plain(r.wire)
             if isinstance(leaf, str) and any(s in leaf for s in secrets)]
    assert not leaks, f"secret values outside secret markers: {leaks}"


def test_the_kubeconfig_is_a_secret_output_pointed_at_the_api_endpoint(cluster: Evaluation) -> None:
    export = cluster.outputs["kubeconfig"]
    assert export.secret, "the admin kubeconfig is exported only as a secret"
    servers = [c["cluster"]["server"] for c in yaml.safe_load(export.value)["clusters"]]
    assert servers == ["https://k8s.dreamscape.example.com:6443"], servers
    read = cluster.named(COMMAND, "prod-cluster-kubeconfig")
    assert _depends(read, cluster.named(COMMAND, "prod-cluster-server-1-install")), "read after the first server"


def test_servers_get_the_hardening_and_the_off_site_snapshots_and_agents_do_not(cluster: Evaluation) -> None:
    server = yaml.safe_load(cluster.named(COMMAND, "prod-cluster-server-2-install").inputs["stdin"])
    agent = yaml.safe_load(cluster.named(COMMAND, "prod-cluster-agent-1-install").inputs["stdin"])
    assert server["secrets-encryption"] is True and server["protect-kernel-defaults"] is True, server
    assert server["etcd-s3"] is True and server["etcd-s3-bucket"] == "dreamscape-offsite", server
    assert server["etcd-s3-secret-key"] == sample.S3_SECRET_KEY, "the off-site credentials reach the servers"
    assert server["server"] == "https://10.0.10.11:6443" and "cluster-init" not in server, "server-2 joins server-1"
    assert agent["protect-kernel-defaults"] is True and agent["node-label"] == ["dreamscape.io/pool=workloads"]
    assert not any(key.startswith("etcd") or key == "secrets-encryption" for key in agent), f"agent: {agent}"


def test_prod_reads_its_kubeconfig_from_the_cluster_stack() -> None:
    # The mock answers every StackReference with `previous_outputs`: the value can only come from one.
    prod = evaluate("prod", {"kubernetes": {"namespace": "dreamscape-prod", "clusterStack": "prod-cluster"}},
                    previous_outputs={"kubeconfig": "apiVersion: v1\nkind: Config\n"})
    provider = prod.named("pulumi:providers:kubernetes", "k8s-provider")
    assert provider.inputs["kubeconfig"] == "apiVersion: v1\nkind: Config\n", "the provider uses the reference"
    assert not list(walk_plain(provider.wire["kubeconfig"])), "the kubeconfig reaches the provider as a secret"


def test_prod_without_a_cluster_stack_keeps_the_ambient_kubeconfig(prod: Evaluation) -> None:
    provider = prod.named("pulumi:providers:kubernetes", "k8s-provider")
    assert "kubeconfig" not in provider.inputs, "no kubeconfig input: the provider reads KUBECONFIG, as before"


PROBE = (
    "import sys; sys.path.insert(0, {root!r}); from tests.harness import evaluate; from tests.cluster import sample; "
    "evaluate(sample.STACK, sample.overrides(), secret_keys=sample.SECRET_KEYS); "
    "print(*(name in sys.modules for name in ('pulumi_command', 'pulumi_kubernetes', 'pulumi_docker')))"
)


def test_a_cluster_stack_imports_pulumi_command_and_no_target_provider() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(root=str(ROOT))], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout.strip().splitlines()[-1] == "True False False", done.stdout


def test_previews_show_the_scripts_in_plain_text(cluster: Evaluation) -> None:
    # Reviewers read `pulumi preview`: the scripts and the release stay readable. (The connection carries the
    # private key, so it travels as one secret; the resource names say which host a step runs on.)
    install = cluster.named(COMMAND, "prod-cluster-server-2-install")
    plain = {path for path, _ in walk_plain(install.wire)}
    for field in (".create", ".triggers[0]", ".triggers[1]"):
        assert field in plain, f"{field} of an install step is readable in a preview: {sorted(plain)}"
    for field in (".stdin", ".connection.privateKey"):
        assert field not in plain, f"{field} stays secret"
