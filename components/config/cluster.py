"""The k3s cluster of a cluster stack (`kind: cluster`): hosts, the pinned k3s release, etcd snapshots.

Each value is checked by the rule of the system that reads it (cited on each check): k3s' release tags
and its node flags, Kubernetes' label and taint syntax, OpenSSH and POSIX user names. Problems that span
several hosts (an even number of servers, a duplicate address, a host without a key, a version without a
checksum) are listed by `cluster_problems`, one line per bad key, and stop the run with the loader's
single ConfigError before anything is registered.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr

from components.config import rules
from components.config.section import ConfigInt, Section

# k3s release tags: `v<kubernetes version>+k3s<n>` (github.com/k3s-io/k3s/releases; the installer's
# INSTALL_K3S_VERSION takes the same string).
K3S_VERSION = re.compile(r"v[0-9]+\.[0-9]+\.[0-9]+(-rc[0-9]+)?\+k3s[0-9]+")
SHA256 = re.compile(r"[0-9a-f]{64}")
# useradd(8) on Debian: NAME_REGEX `^[a-z][-a-z0-9_]*\$?$`, at most 32 characters.
POSIX_USER = re.compile(r"[a-z_][a-z0-9_-]{0,30}\$?")
# Kubernetes label keys and values (apimachinery validation.IsQualifiedName / IsValidLabelValue); k3s
# passes `--node-label` and `--node-taint` to the kubelet unchanged.
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]")


def k3s_version(value: str) -> str:
    if not K3S_VERSION.fullmatch(value):
        raise ValueError(f"expected a k3s release tag such as 'v1.33.7+k3s1', got {value!r}")
    return value


def sha256_hex(value: str) -> str:
    if not SHA256.fullmatch(value):
        raise ValueError(f"expected a SHA-256 as 64 lowercase hex digits (sha256sum's output), got {value!r}")
    return value


def host_address(value: str) -> str:
    """An IP address or a DNS name (what ssh dials and what k3s' `--node-ip`/`--server` accept)."""
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    try:
        return rules.dns1123_subdomain(value)
    except ValueError:
        raise ValueError(f"expected an IP address or a DNS name, got {value!r}") from None


def posix_user(value: str) -> str:
    if not POSIX_USER.fullmatch(value):
        raise ValueError(f"expected a POSIX user name (useradd: lowercase letters, digits, '_' or '-', at most "
                         f"32 characters), got {value!r}")
    return value


def label_key(value: str) -> str:
    """Kubernetes IsQualifiedName: an optional DNS-subdomain prefix and '/', then a name of at most 63."""
    prefix, _, name = value.rpartition("/")
    if (prefix and not _valid_subdomain(prefix)) or not _LABEL_NAME.fullmatch(name):
        raise ValueError(f"expected a Kubernetes label key such as 'dreamscape.io/pool' ([prefix/]name, the name "
                         f"at most 63 of [A-Za-z0-9-_.] starting and ending alphanumeric), got {value!r}")
    return value


def label_value(value: str) -> str:
    """Kubernetes IsValidLabelValue: empty, or a name of at most 63 characters."""
    if value and not _LABEL_NAME.fullmatch(value):
        raise ValueError(f"expected a Kubernetes label value (at most 63 of [A-Za-z0-9-_.], starting and ending "
                         f"alphanumeric), got {value!r}")
    return value


def _valid_subdomain(value: str) -> bool:
    try:
        rules.dns1123_subdomain(value)
    except ValueError:
        return False
    return True


K3sVersion = Annotated[str, AfterValidator(k3s_version)]
Sha256 = Annotated[str, AfterValidator(sha256_hex)]
HostAddress = Annotated[str, AfterValidator(host_address)]
LabelKey = Annotated[str, AfterValidator(label_key)]
LabelValue = Annotated[str, AfterValidator(label_value)]


class HostRole(StrEnum):
    SERVER = "server"
    """Runs the control plane and an embedded etcd member (k3s server)."""
    AGENT = "agent"
    """Runs workloads only (k3s agent)."""


class Taint(Section):
    """A node taint (`kubectl taint` / k3s `--node-taint key=value:Effect`)."""

    key: LabelKey
    """The taint's key (Kubernetes label key syntax)."""
    value: LabelValue = ""
    """The taint's value; may be empty."""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
    """What the scheduler does with pods that do not tolerate it."""

    def flag(self) -> str:
        return f"{self.key}={self.value}:{self.effect}"


class ClusterHost(Section):
    """One machine of the cluster, reached over SSH."""

    name: Annotated[str, AfterValidator(rules.dns1123_subdomain)]
    """The Kubernetes node name (k3s `--node-name`); an RFC 1123 subdomain."""
    address: HostAddress
    """Where SSH and the other nodes reach it: an IP address or a DNS name."""
    role: HostRole
    """`server` (control plane and etcd) or `agent` (workloads)."""
    ssh_user: Annotated[str, AfterValidator(posix_user)] = "root"
    """The SSH user; root, or a user whose sudo needs no password."""
    ssh_port: ConfigInt = Field(default=22, ge=1, le=65535)
    """The SSH port."""
    host_key: str | None = None
    """The host's public key (`ssh-ed25519 AAAA...`); pins the server's identity when set."""
    labels: dict[LabelKey, LabelValue] = {}
    """Node labels (k3s `--node-label`)."""
    taints: list[Taint] = []
    """Node taints (k3s `--node-taint`)."""


class K3sConfig(Section):
    """The k3s release every node runs, and the checksum each release binary must match."""

    version: K3sVersion
    """The release tag to run (`v1.33.7+k3s1`); changing it upgrades the nodes one at a time."""
    checksums: dict[K3sVersion, Sha256]
    """SHA-256 of the amd64 `k3s` binary per release (the release's sha256sum-amd64.txt)."""
    binary_dir: str
    """Local directory holding `<version>/k3s`, the downloaded release binaries (relative to this
    repository); the program uploads the binary and the node refuses it unless its checksum matches."""


class EtcdSnapshotsConfig(Section):
    """k3s' scheduled etcd snapshots, shipped to the stack's `backup.offsite` bucket (`--etcd-s3`)."""

    schedule: Annotated[str, AfterValidator(rules.cron_schedule)]
    """When k3s takes a snapshot (`--etcd-snapshot-schedule-cron`, standard 5-field cron)."""
    retention: ConfigInt = Field(ge=1, le=1000)
    """How many snapshots k3s keeps, locally and in the bucket (`--etcd-snapshot-retention`)."""
    folder: Annotated[str, AfterValidator(rules.dns1123_label)]
    """The folder in the bucket (`--etcd-s3-folder`), apart from the database dumps."""


class ClusterConfig(Section):
    """The hosts and settings of one k3s cluster (docs/cluster.md)."""

    api_endpoint: HostAddress
    """The Kubernetes API address clients use (a load balancer or DNS name in front of the servers):
    added to the API certificate (`--tls-san`) and written into the exported kubeconfig."""
    k3s: K3sConfig = Field(alias="k3s")  # to_camel would spell the key `k3S`
    """The k3s release every node runs, and the checksums it is verified against."""
    hosts: list[ClusterHost]
    """The machines, each `{name, address, role, sshUser, sshPort, sshPrivateKey, hostKey, labels, taints}`
    (docs/cluster.md); servers join in order, then agents."""
    etcd_snapshots: EtcdSnapshotsConfig
    """Scheduled etcd snapshots, shipped to `backup.offsite`."""
    token_generation: ConfigInt = Field(default=0, ge=0)
    """Bump to rotate the cluster join token (docs/cluster.md, "Rotating the token")."""

    @property
    def servers(self) -> list[ClusterHost]:
        return [host for host in self.hosts if host.role is HostRole.SERVER]

    @property
    def agents(self) -> list[ClusterHost]:
        return [host for host in self.hosts if host.role is HostRole.AGENT]

    def checksum(self) -> str:
        return self.k3s.checksums[self.k3s.version]


class ClusterSshConfig(Section):
    """The SSH private keys of a cluster stack's hosts, apart from `cluster` so that only they are secret
    config: a `--secret` value makes Pulumi flag its whole top-level key, and the program then keeps every
    value under it secret (components/config/secrecy.py), which would hide the hosts and scripts in previews."""

    private_key: SecretStr | None = None
    """The key for every host without its own."""
    host_private_keys: dict[str, SecretStr] = {}
    """Keys of particular hosts, by host name."""

    def key_for(self, host: ClusterHost) -> SecretStr:
        key = self.host_private_keys.get(host.name, self.private_key)
        if key is None:
            raise ValueError(f"host {host.name} has no SSH key; cluster_problems reports this before any run")
        return key


def cluster_problems(cluster: ClusterConfig, ssh: ClusterSshConfig, key: str, ssh_key: str) -> list[str]:
    """What no single field can check: one line per bad key, named under `key` (`dreamscape:cluster`) and
    `ssh_key` (`dreamscape:clusterSsh`)."""
    problems = []
    servers = len(cluster.servers)
    if servers % 2 == 0:
        problems.append(
            f"{key}.hosts: {servers} servers; embedded etcd needs an odd number (1, 3 or 5) to keep a quorum "
            f"of more than half its members (etcd FAQ: n members tolerate (n-1)/2 failures, so an even count adds a "
            f"member without adding fault tolerance)"
        )
    for field, values in (("address", [h.address for h in cluster.hosts]), ("name", [h.name for h in cluster.hosts])):
        for value, count in sorted(Counter(values).items()):
            if count > 1:
                indexes = [i for i, v in enumerate(values) if v == value]
                problems.append(f"{key}.hosts[{indexes[1]}].{field}: {value!r} is also hosts[{indexes[0]}].{field}; "
                                f"each node needs its own")
    for host in cluster.hosts:
        if host.name not in ssh.host_private_keys and ssh.private_key is None:
            problems.append(
                f"{ssh_key}.hostPrivateKeys.{host.name}: host {host.name} has no SSH key; set it, or "
                f"{ssh_key}.privateKey for every host, as secret config (`pulumi config set --secret --path "
                f"clusterSsh.privateKey < key`)"
            )
    for name in sorted(set(ssh.host_private_keys) - {host.name for host in cluster.hosts}):
        problems.append(f"{ssh_key}.hostPrivateKeys.{name}: no host is named {name!r}")
    if cluster.k3s.version not in cluster.k3s.checksums:
        problems.append(
            f"{key}.k3s.version: {cluster.k3s.version} has no checksum pinned in {key}.k3s.checksums; add the "
            f"k3s line of the release's sha256sum-amd64.txt (docs/cluster.md)"
        )
    return problems
