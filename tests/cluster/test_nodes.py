"""Pure pieces of the cluster: rollout order, join URLs, the kubeconfig rewrite, unit quoting, host rules."""

from __future__ import annotations

import shlex
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from components.cluster.k3s_config import systemd_quote
from components.cluster.kubeconfig import pointed_at
from components.cluster.nodes import rollout, server_url
from components.config import ClusterConfig
from tests.cluster import sample
from tests.harness import K3S_KUBECONFIG


def cluster(**changes: Any) -> ClusterConfig:
    return ClusterConfig.model_validate({**sample.stack_file()["dreamscape:cluster"], **changes})


def test_servers_roll_out_before_agents_whatever_the_listed_order() -> None:
    hosts = sample.stack_file()["dreamscape:cluster"]["hosts"]
    mixed = cluster(hosts=[hosts[3], hosts[0], hosts[4], hosts[1], hosts[2]])
    order = [node.host.name for node in rollout(mixed)]
    assert order == ["server-1", "server-2", "server-3", "agent-1", "agent-2"], order
    nodes = rollout(mixed)
    assert nodes[0].first and nodes[0].join_url is None, "the first listed server starts etcd"
    assert {node.join_url for node in nodes[1:]} == {"https://10.0.10.11:6443"}, "every other node joins it"


def test_an_ipv6_server_is_joined_in_brackets() -> None:
    assert server_url("fd00::11") == "https://[fd00::11]:6443"


def test_the_kubeconfig_points_at_the_endpoint_and_keeps_the_credentials() -> None:
    rewritten = yaml.safe_load(pointed_at(K3S_KUBECONFIG, "k8s.dreamscape.example.com"))
    original = yaml.safe_load(K3S_KUBECONFIG)
    assert rewritten["clusters"][0]["cluster"]["server"] == "https://k8s.dreamscape.example.com:6443"
    assert rewritten["users"] == original["users"], "the client certificate and key are kept"
    with pytest.raises(ValueError, match="names no cluster"):
        pointed_at("apiVersion: v1\nkind: Config\n", "k8s.dreamscape.example.com")


@pytest.mark.parametrize("path", ["/usr/local/bin/k3s", "/tmp/node root's dir/k3s", '/tmp/a"b\\c/k3s'])
def test_unit_paths_are_one_word_each(path: str) -> None:
    # systemd's quoting for these cases is the POSIX shell's double-quote rule: shlex reads it back.
    assert shlex.split(systemd_quote(path)) == [path], systemd_quote(path)


@pytest.mark.parametrize(("change", "says"), [
    ({"address": "10.0.10.11; rm -rf /"}, "an IP address or a DNS name"),
    ({"sshUser": "Root Admin"}, "POSIX user name"),
    ({"labels": {"dreamscape.io/pool": "has space"}}, "Kubernetes label value"),
    ({"taints": [{"key": "dedicated", "value": "db", "effect": "NoWhere"}]}, "NoSchedule"),
])
def test_host_values_follow_the_rules_of_ssh_and_kubernetes(change: dict[str, Any], says: str) -> None:
    hosts = sample.stack_file()["dreamscape:cluster"]["hosts"]
    with pytest.raises(ValidationError, match=says):
        cluster(hosts=[{**hosts[0], **change}, *hosts[1:]])
