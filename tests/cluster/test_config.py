"""Bad cluster input stops the run with one ConfigError naming each bad key, before anything is registered."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.cluster import sample
from tests.harness import refuse


def hosts(*changes: dict[str, Any]) -> list[dict[str, Any]]:
    listed = copy.deepcopy(sample.stack_file()["dreamscape:cluster"]["hosts"])
    return [{**host, **change} for host, change in zip(listed, [*changes, *([{}] * len(listed))], strict=False)]


@pytest.mark.parametrize(("change", "key", "says"), [
    ({"hosts": hosts({}, {}, {"role": "agent"})}, "dreamscape:cluster.hosts:", "2 servers"),
    ({"hosts": hosts({}, {"address": "10.0.10.11"})}, "dreamscape:cluster.hosts[1].address:", "also hosts[0]"),
    ({"ssh": None}, "dreamscape:clusterSsh.hostPrivateKeys.server-1:", "no SSH key"),
    ({"k3s": {**sample.stack_file()["dreamscape:cluster"]["k3s"], "version": "v1.35.0+k3s1"}},
     "dreamscape:cluster.k3s.version:", "no checksum pinned"),
    ({"hosts": hosts({"role": "etcd"})}, "dreamscape:cluster.hosts.0.role:", "'server' or 'agent'"),
])
def test_bad_cluster_input_is_refused_before_anything_is_registered(change: dict[str, Any], key: str,
                                                                     says: str) -> None:
    overrides = sample.overrides(**{k: v for k, v in change.items() if k != "ssh"})
    if "ssh" in change:
        overrides["clusterSsh"] = None
    refusal = refuse(sample.STACK, overrides, secret_keys=sample.SECRET_KEYS)
    assert key in refusal.message and says in refusal.message, f"the message names {key} ({says}):\n{refusal.message}"
    assert not refusal.registered, "nothing reaches the engine when the cluster config is bad"


def test_every_bad_key_is_named_in_the_one_message() -> None:
    overrides = sample.overrides(hosts=hosts({}, {"address": "10.0.10.11"}, {"role": "agent"}),
                                 k3s={**sample.stack_file()["dreamscape:cluster"]["k3s"], "version": "v1.35.0+k3s1"})
    overrides["clusterSsh"] = {"hostPrivateKeys": {"server-1": sample.SSH_KEY, "db-1": sample.SSH_KEY}}
    message = refuse(sample.STACK, overrides, secret_keys=sample.SECRET_KEYS).message
    for key in ("cluster.hosts:", "cluster.hosts[1].address:", "clusterSsh.hostPrivateKeys.server-2:",
                "clusterSsh.hostPrivateKeys.agent-2:", "clusterSsh.hostPrivateKeys.db-1:", "cluster.k3s.version:"):
        assert key in message, f"{key} is named alongside the other problems:\n{message}"


def test_a_host_key_of_its_own_is_enough() -> None:
    overrides = sample.overrides(k3s={**sample.stack_file()["dreamscape:cluster"]["k3s"], "version": "v1.35.0+k3s1"})
    names = [host["name"] for host in overrides["cluster"]["hosts"]]
    overrides["clusterSsh"] = {"hostPrivateKeys": dict.fromkeys(names, sample.SSH_KEY)}
    message = refuse(sample.STACK, overrides, secret_keys=sample.SECRET_KEYS).message
    assert "clusterSsh" not in message, f"every host has its own key; only the version is wrong:\n{message}"


def test_a_cluster_stack_ships_its_snapshots_off_site() -> None:
    overrides = sample.overrides()
    del overrides["backup"]
    message = refuse(sample.STACK, {**overrides, "backup": None}, secret_keys=("clusterSsh",)).message
    assert "dreamscape:backup.offsite" in message, f"etcd snapshots need the off-site bucket:\n{message}"


def test_an_environment_stack_never_describes_a_cluster() -> None:
    cluster = sample.overrides()
    message = refuse("prod", {"cluster": cluster["cluster"], "clusterSsh": cluster["clusterSsh"]},
                     secret_keys=("clusterSsh",)).message
    for key in ("dreamscape:cluster:", "dreamscape:clusterSsh:"):
        assert f"{key} only cluster stacks" in message, message


def test_a_cluster_stack_needs_its_cluster() -> None:
    message = refuse("prod", {"kind": "cluster"}).message
    assert "needs its hosts" in message, message


def test_the_kubeconfig_comes_from_one_place() -> None:
    message = refuse("prod", {"kubernetes": {"namespace": "dreamscape-prod", "kubeconfig": "/tmp/kubeconfig",
                                             "clusterStack": "prod-cluster"}}).message
    assert "kubeconfig and clusterStack both name the cluster" in message, message
