"""The shell scripts the cluster stack runs on its nodes over SSH, as plain strings.

Each is a pure function of typed settings, so tests run the very text pulumi-command would send against
a real sshd and shellcheck it. Every script is POSIX sh under `set -eu`; every value spliced into one is
quoted with `shlex.quote`; none carries a secret (secrets arrive on stdin). Each is idempotent: run twice,
the second run changes nothing and restarts nothing.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from components.cluster.k3s_config import render_audit_policy, render_sysctl, render_unit
from components.cluster.nodes import Node
from components.cluster.paths import NodePaths

Q = shlex.quote

DRAIN_TIMEOUT_SECONDS = 600
READY_ATTEMPTS = 120
"""Checks of the node's Ready condition, 5 s apart, before an upgrade counts as failed (10 minutes)."""


@dataclass(frozen=True, kw_only=True)
class Release:
    version: str
    sha256: str


def remote_command(script: str, user: str) -> str:
    """The command line pulumi-command sends: the script under `sh`, as root (sudo for other users), so
    the remote login shell never interprets it."""
    if user == "root":
        return f"sh -c {Q(script)}"
    return f"sudo -n sh -c {Q(script)}"


def install(node: Node, release: Release, paths: NodePaths) -> str:
    """Verify the uploaded binary, place the binary, config (read from stdin), unit and hardening files
    when they differ, and restart k3s only when one did."""
    staged = paths.staged_binary(release.version)
    unit = node.unit
    lines = [
        "set -eu",
        "umask 077",
        f"staged={Q(staged)}",
        f"expected={Q(release.sha256)}",
        'if [ ! -f "$staged" ]; then',
        '  echo "k3s: $staged was not uploaded" >&2',
        "  exit 1",
        "fi",
        "work=$(mktemp -d)",
        "trap 'rm -rf \"$work\"' EXIT",
        "# The binary runs only if it is the pinned release. Check a private copy (root's, 0700 directory), so",
        "# the upload cannot be swapped between the check and the install.",
        'cp "$staged" "$work/k3s"',
        'actual=$(sha256sum "$work/k3s" | cut -d " " -f 1)',
        'if [ "$actual" != "$expected" ]; then',
        '  echo "k3s: refusing $staged: its SHA-256 is $actual, the pinned release has $expected" >&2',
        "  exit 1",
        "fi",
        "# The config file (it holds the join token) comes on stdin, never on a command line.",
        'cat > "$work/config.yaml"',
        f'printf "%s" {Q(render_unit(node, paths))} > "$work/unit"',
        f'printf "%s" {Q(render_sysctl())} > "$work/sysctl.conf"',
        "changed=''",
        "place() {",
        "  # place SOURCE TARGET MODE: replace TARGET (atomically) only when its content differs.",
        '  if ! cmp -s "$1" "$2"; then',
        '    mkdir -p "$(dirname "$2")"',
        '    cp "$1" "$2.dreamscape-new"',
        '    chmod "$3" "$2.dreamscape-new"',
        '    mv -f "$2.dreamscape-new" "$2"',
        '    changed="$changed $2"',
        "  fi",
        "}",
        f'place "$work/sysctl.conf" {Q(paths.sysctl)} 0644',
        'if [ -n "$changed" ]; then',
        f"  sysctl -p {Q(paths.sysctl)} >/dev/null",
        "fi",
        f'place "$work/k3s" {Q(paths.binary)} 0755',
        f'place "$work/config.yaml" {Q(paths.config)} 0600',
        f'place "$work/unit" {Q(paths.unit(unit))} 0644',
    ]
    if node.is_server:
        lines += [
            f'printf "%s" {Q(render_audit_policy())} > "$work/audit.yaml"',
            f'place "$work/audit.yaml" {Q(paths.audit_policy)} 0600',
            # The audit log holds request metadata: only root reads it (CIS guide, "API Server audit").
            f"mkdir -p {Q(paths.audit_log_dir)}",
            f"chmod 700 {Q(paths.audit_log_dir)}",
        ]
    lines += [
        'if [ -n "$changed" ]; then',
        "  systemctl daemon-reload",
        f"  systemctl enable {Q(unit)}",
        f"  systemctl restart {Q(unit)}",
        f'  echo "k3s: restarted {unit}; changed:$changed"',
        "else",
        f'  echo "k3s: {unit} unchanged"',
        "fi",
    ]
    return "\n".join(lines) + "\n"


def _kubectl(paths: NodePaths) -> str:
    return f"{Q(paths.binary)} kubectl --kubeconfig {Q(paths.kubeconfig)}"


def drain(node_name: str, paths: NodePaths) -> str:
    """Before a node is upgraded: cordon and drain it (from the first server). A node not yet in the
    cluster (the first run) has nothing to drain."""
    kubectl = _kubectl(paths)
    return "\n".join([
        "set -eu",
        f"if [ -x {Q(paths.binary)} ] && {kubectl} get node {Q(node_name)} >/dev/null 2>&1; then",
        f"  {kubectl} drain {Q(node_name)} --ignore-daemonsets --delete-emptydir-data "
        f"--timeout={DRAIN_TIMEOUT_SECONDS}s",
        "fi",
    ]) + "\n"


def uncordon(node_name: str, paths: NodePaths) -> str:
    """After a node is upgraded: wait until it is Ready, then let pods back on it (from the first server).
    The rollout stops here if it never becomes Ready, before the next node is touched."""
    kubectl = _kubectl(paths)
    return "\n".join([
        "set -eu",
        "attempt=0",
        f"until {kubectl} wait --for=condition=Ready node/{Q(node_name)} --timeout=5s >/dev/null 2>&1; do",
        "  attempt=$((attempt + 1))",
        f'  if [ "$attempt" -ge {READY_ATTEMPTS} ]; then',
        f'    echo "k3s: node {node_name} is not Ready; the rollout stops before the next node" >&2',
        "    exit 1",
        "  fi",
        "  sleep 5",
        "done",
        f"{kubectl} uncordon {Q(node_name)}",
    ]) + "\n"


def read_kubeconfig(paths: NodePaths) -> str:
    """Print the admin kubeconfig the first server wrote (the caller keeps it secret)."""
    return "\n".join(["set -eu", f"cat {Q(paths.kubeconfig)}"]) + "\n"
