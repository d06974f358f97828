"""Where k3s and its files live on a node.

The defaults are k3s' own (docs.k3s.io: /usr/local/bin/k3s, /etc/rancher/k3s/config.yaml, the CIS guide's
/var/lib/rancher/k3s/server/audit.yaml and /etc/sysctl.d/90-kubelet.conf). `under(root)` moves every path
below a directory, so the rendered scripts run unchanged against a stand-in node in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import PurePosixPath


@dataclass(frozen=True, kw_only=True)
class NodePaths:
    binary: str = "/usr/local/bin/k3s"
    config: str = "/etc/rancher/k3s/config.yaml"
    kubeconfig: str = "/etc/rancher/k3s/k3s.yaml"
    """Written by k3s servers (`write-kubeconfig-mode: 0600`)."""
    audit_policy: str = "/var/lib/rancher/k3s/server/audit.yaml"
    audit_log_dir: str = "/var/lib/rancher/k3s/server/logs"
    sysctl: str = "/etc/sysctl.d/90-kubelet.conf"
    units: str = "/etc/systemd/system"
    staging: str = "/var/lib/dreamscape/k3s"
    """Where uploaded release binaries wait, one file per version, until their checksum is verified."""

    def staged_binary(self, version: str) -> str:
        return str(PurePosixPath(self.staging) / f"k3s-{version}")

    def unit(self, name: str) -> str:
        return str(PurePosixPath(self.units) / f"{name}.service")

    def under(self, root: str) -> NodePaths:
        """Every path below `root` (a test's stand-in node)."""
        moved = {f.name: root.rstrip("/") + getattr(self, f.name) for f in fields(self)}
        return replace(self, **moved)
