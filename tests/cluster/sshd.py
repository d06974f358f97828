"""A real OpenSSH server in a network namespace made for the test, and a stand-in k3s node behind it.

The namespace has only its own loopback, so nothing outside it is ever contacted. `systemctl` and `sysctl`
stand-ins are found first on the session's PATH (sshd's `SetEnv`); the `k3s` stand-in is the "release
binary" a test uploads. Each appends what it was given (its arguments and, for k3s, the config file it was
pointed at) to a JSON-lines record.
"""

from __future__ import annotations

import getpass
import json
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.tooling import require_tool

PORT = 2222
STAND_IN = '''#!/usr/bin/env python3
import glob, json, shlex, subprocess, sys
RECORD = {record!r}
args = sys.argv[1:]
entry = {{"tool": {tool!r}, "args": args}}
if {tool!r} == "k3s" and "--config" in args:
    path = args[args.index("--config") + 1]
    with open(path) as handle:
        entry["files"] = {{path: handle.read()}}
with open(RECORD, "a") as handle:
    handle.write(json.dumps(entry) + "\\n")
if {tool!r} == "systemctl" and args[:1] == ["restart"]:
    # Start the service the way systemd would: run the unit's ExecStart once. Each stand-in node (a server,
    # an agent) has its own root below the test's directory, and its own unit name.
    [unit] = glob.glob(glob.escape({base!r}) + "/**/etc/systemd/system/" + args[1] + ".service", recursive=True)
    for line in open(unit):
        if line.startswith("ExecStart="):
            sys.exit(subprocess.run(shlex.split(line[len("ExecStart="):])).returncode)
'''


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class SshNode:
    """A node reached over SSH inside its own network namespace."""

    namespace: str
    base: Path
    root: Path
    """The node's filesystem root for k3s' paths (NodePaths.under); it holds a space and a quote."""
    record: Path
    k3s: bytes
    """The stand-in release binary: records its arguments and its config file."""
    user: str
    """The login user: this test's own user, so the files the scripts write stay readable by the test."""
    privileged: list[str]

    def _ssh(self, remote: str) -> list[str]:
        return [*self.privileged, "ip", "netns", "exec", self.namespace, "ssh", "-i", str(self.base / "client_key"),
                "-p", str(PORT), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", f"UserKnownHostsFile={self.base / 'known_hosts'}", f"{self.user}@127.0.0.1", remote]

    def run(self, remote: str, stdin: bytes = b"") -> Run:
        done = subprocess.run(self._ssh(remote), input=stdin, capture_output=True, check=False, timeout=60)
        return Run(done.returncode, done.stdout.decode(), done.stderr.decode())

    def upload(self, content: bytes, remote_path: str) -> None:
        """What CopyToRemote does: put a file at `remote_path`, creating its directory."""
        quoted = shlex.quote(remote_path)
        done = self.run(f"mkdir -p \"$(dirname {quoted})\" && cat > {quoted}", content)
        assert done.returncode == 0, f"upload failed: {done.stderr}"

    def records(self, tool: str | None = None) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        entries = [json.loads(line) for line in self.record.read_text().splitlines()]
        return [e for e in entries if tool is None or e["tool"] == tool]


def _privileged() -> list[str]:
    """How to run the namespace and sshd commands as root: directly when root (CI machines), through
    password-less sudo otherwise (GitHub's runners); skipped locally, and failed in CI, without either."""
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo and subprocess.run([sudo, "-n", "true"], capture_output=True, check=False).returncode == 0:
        return [sudo, "-n"]
    message = "network namespaces and sshd need root or password-less sudo (CI has one of them)"
    if os.environ.get("DREAMSCAPE_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _requirements() -> tuple[str, str, str]:
    ip = require_tool("ip")
    sshd = require_tool("sshd", "/usr/sbin/sshd")
    require_tool("ssh")
    keygen = require_tool("ssh-keygen")
    return ip, sshd, keygen


@contextmanager
def ssh_node(base: Path) -> Iterator[SshNode]:
    ip, sshd, keygen = _requirements()
    privileged = _privileged()
    user = getpass.getuser()
    namespace = f"dreamscape-k3s-{os.getpid()}"
    root = base / "node root's dir"
    standins = base / "stand-ins"
    for directory in (root, standins):
        directory.mkdir(parents=True)
    record = base / "record.jsonl"
    for tool in ("systemctl", "sysctl"):
        path = standins / tool
        path.write_text(STAND_IN.format(record=str(record), tool=tool, base=str(base)))
        path.chmod(0o755)
    k3s = STAND_IN.format(record=str(record), tool="k3s", base=str(base)).encode()
    for key in ("host_key", "client_key"):
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(base / key)], check=True)
    shutil.copy(base / "client_key.pub", base / "authorized_keys")
    host_public = (base / "host_key.pub").read_text().split()[:2]
    (base / "known_hosts").write_text(f"[127.0.0.1]:{PORT} {' '.join(host_public)}\n")
    session_path = f"{standins}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    (base / "sshd_config").write_text("\n".join([
        f"Port {PORT}", "ListenAddress 127.0.0.1", f"HostKey {base / 'host_key'}", f"PidFile {base / 'sshd.pid'}",
        f"AuthorizedKeysFile {base / 'authorized_keys'}", "StrictModes no", "PermitRootLogin prohibit-password",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", f"SetEnv PATH={session_path}",
        "",
    ]))
    # sshd's privilege separation directory
    subprocess.run([*privileged, "mkdir", "-p", "/run/sshd"], check=True)
    subprocess.run([*privileged, ip, "netns", "add", namespace], check=True)
    server: subprocess.Popen[bytes] | None = None
    try:
        subprocess.run([*privileged, ip, "-n", namespace, "link", "set", "lo", "up"], check=True)
        server = subprocess.Popen([*privileged, ip, "netns", "exec", namespace, sshd, "-D", "-e", "-f",
                                   str(base / "sshd_config")],
                                  stderr=open(base / "sshd.log", "wb"))  # noqa: SIM115 (closed with the process)
        node = SshNode(namespace=namespace, base=base, root=root, record=record, k3s=k3s, user=user,
                       privileged=privileged)
        deadline = time.monotonic() + 15
        while node.run("true").returncode != 0:
            assert server.poll() is None, f"sshd exited: {(base / 'sshd.log').read_text()}"
            assert time.monotonic() < deadline, f"sshd did not answer: {(base / 'sshd.log').read_text()}"
            time.sleep(0.2)
        yield node
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        subprocess.run([*privileged, ip, "netns", "delete", namespace], check=False)
