"""What each node's k3s reads: its config file, the CIS hardening it needs and its systemd unit.

k3s reads every flag from `/etc/rancher/k3s/config.yaml` (docs.k3s.io "Configuration File": keys are the
flag names without dashes, repeatable flags are lists), so the flags never appear on a command line where
`ps` would show the join token or the S3 secret key. The hardening follows the k3s CIS Hardening Guide
(docs.k3s.io/security/hardening-guide, "v1.29 and Newer"), except two settings that need cluster-wide
files this program does not own yet: `EventRateLimit` (its admission config) and a cluster-default Pod
Security level (each DreamScape namespace labels its own level, components/targets/kubernetes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from components.cluster.nodes import Node
from components.cluster.paths import NodePaths
from components.config.cluster import ClusterConfig
from components.config.offsite import OffsiteConfig

KERNEL_DEFAULTS = {"vm.panic_on_oom": "0", "vm.overcommit_memory": "1", "kernel.panic": "10",
                   "kernel.panic_on_oops": "1"}
"""The kernel parameters `protect-kernel-defaults` requires (CIS guide, "Set kernel parameters")."""
TLS_CIPHER_SUITES = ",".join([
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
])
KUBELET_ARGS = ["streaming-connection-idle-timeout=5m", f"tls-cipher-suites={TLS_CIPHER_SUITES}"]
AUDIT_POLICY: dict[str, Any] = {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [{"level": "Metadata"}]}
"""The CIS guide's starter policy: request metadata of every call, never bodies (which hold Secrets)."""


@dataclass(frozen=True, kw_only=True)
class JoinSecrets:
    """The secret values a node's config carries; the caller keeps them inside secret outputs."""

    token: str
    s3_access_key: str
    s3_secret_key: str


def server_hardening(paths: NodePaths) -> dict[str, Any]:
    return {
        "secrets-encryption": True,
        "kube-apiserver-arg": [
            "enable-admission-plugins=NodeRestriction",
            f"audit-log-path={paths.audit_log_dir}/audit.log",
            f"audit-policy-file={paths.audit_policy}",
            "audit-log-maxage=30",
            "audit-log-maxbackup=10",
            "audit-log-maxsize=100",
            "service-account-extend-token-expiration=false",
        ],
        "kube-controller-manager-arg": ["terminated-pod-gc-threshold=100"],
    }


def etcd_snapshots(cluster: ClusterConfig, offsite: OffsiteConfig, secrets: JoinSecrets) -> dict[str, Any]:
    """Scheduled snapshots kept locally and shipped to the off-site bucket (k3s `--etcd-s3*` flags)."""
    snapshots = cluster.etcd_snapshots
    return {
        "etcd-snapshot-schedule-cron": snapshots.schedule,
        "etcd-snapshot-retention": snapshots.retention,
        "etcd-s3": True,
        "etcd-s3-endpoint": offsite.endpoint,
        "etcd-s3-bucket": offsite.bucket,
        "etcd-s3-region": offsite.region,
        "etcd-s3-folder": snapshots.folder,
        "etcd-s3-access-key": secrets.s3_access_key,
        "etcd-s3-secret-key": secrets.s3_secret_key,
        **({"etcd-s3-insecure": True} if offsite.insecure else {}),
    }


def node_config(node: Node, cluster: ClusterConfig, offsite: OffsiteConfig, secrets: JoinSecrets,
                paths: NodePaths) -> dict[str, Any]:
    """Every setting of one node's k3s, as its config file holds them."""
    host = node.host
    config: dict[str, Any] = {"token": secrets.token, "node-name": host.name}
    if node.join_url is not None:
        config["server"] = node.join_url
    if host.labels:
        config["node-label"] = [f"{key}={value}" for key, value in sorted(host.labels.items())]
    if host.taints:
        config["node-taint"] = [taint.flag() for taint in host.taints]
    config["protect-kernel-defaults"] = True
    config["kubelet-arg"] = list(KUBELET_ARGS)
    if node.is_server:
        if node.first:
            config["cluster-init"] = True
        config["tls-san"] = [cluster.api_endpoint]
        config["write-kubeconfig-mode"] = "0600"
        config |= server_hardening(paths)
        config |= etcd_snapshots(cluster, offsite, secrets)
    return config


def render_config(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def render_audit_policy() -> str:
    return yaml.safe_dump(AUDIT_POLICY, sort_keys=False)


def render_sysctl() -> str:
    return "".join(f"{key}={value}\n" for key, value in KERNEL_DEFAULTS.items())


def render_unit(node: Node, paths: NodePaths) -> str:
    """The systemd unit, as k3s' installer writes it (install.sh `create_systemd_service_file`), minus
    the environment file: every setting is in the config file."""
    role = "server" if node.is_server else "agent"
    return "\n".join([
        "[Unit]",
        "Description=Lightweight Kubernetes",
        "Documentation=https://k3s.io",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
        "[Service]",
        f"Type={'notify' if node.is_server else 'exec'}",
        "KillMode=process",
        "Delegate=yes",
        "LimitNOFILE=1048576",
        "LimitNPROC=infinity",
        "LimitCORE=infinity",
        "TasksMax=infinity",
        "TimeoutStartSec=0",
        "Restart=always",
        "RestartSec=5s",
        "ExecStartPre=-/sbin/modprobe br_netfilter",
        "ExecStartPre=-/sbin/modprobe overlay",
        f"ExecStart={systemd_quote(paths.binary)} {role} --config {systemd_quote(paths.config)}",
        "",
    ])


def systemd_quote(word: str) -> str:
    """One word of a unit's command line (systemd.syntax(7) "Quoting": double quotes, C-style escapes)."""
    if word and all(c.isalnum() or c in "/._-+:=" for c in word):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
