"""A throwaway copy of the repository's command layer (Makefile, scripts/, stack files) with a fake
`pulumi` (and `docker`) first on PATH that records every call, so tests can prove what `make` runs."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FAKE_PULUMI = """#!/usr/bin/env bash
# Records: backend | passphrase source | arguments. Mimics `stack select --create` writing the salt.
# `pulumi version` (the preflight's read-only query) answers FAKE_PULUMI_VERSION and is not recorded.
if [ "$1" = version ]; then echo "v${FAKE_PULUMI_VERSION:-3.272.0}"; exit 0; fi
printf '%s|%s|%s\\n' "${PULUMI_BACKEND_URL:-}" \\
  "${PULUMI_CONFIG_PASSPHRASE_FILE:+file}${PULUMI_CONFIG_PASSPHRASE:+env}" "$*" >> "$FAKE_PULUMI_LOG"
if [ "$1 $2" = "stack select" ]; then
  if [ "${3:-}" = "--create" ] && ! grep -q '^encryptionsalt:' "Pulumi.$4.yaml"; then
    printf 'encryptionsalt: v1:ZmFrZQ==:v1:fake:fake\\n' >> "Pulumi.$4.yaml"
  fi
  exit "${FAKE_STACK_MISSING:-0}"
fi
if [ "$1 $2 $3" = "stack tag get" ]; then
  [ -n "${FAKE_CURRENT_RELEASE:-}" ] || exit 1
  echo "$FAKE_CURRENT_RELEASE"
fi
if [ "$1 $2" = "config set" ]; then
  printf '  dreamscape:%s: %s\n' "$3" "$4" >> "Pulumi.$6.yaml"
fi
exit 0
"""

FAKE_DOCKER = """#!/usr/bin/env bash
# A reachable daemon whose versions are FAKE_DOCKER_VERSION and FAKE_BUILDX_VERSION.
if [ "$1" = version ]; then echo "${FAKE_DOCKER_VERSION:-28.2.2}"; fi
if [ "$1 ${2:-}" = "buildx version" ]; then echo "github.com/docker/buildx v${FAKE_BUILDX_VERSION:-0.23.0} 0a1b2c3"; fi
exit 0
"""


@dataclass
class Run:
    returncode: int
    output: str
    calls: list[str]
    """Every fake `pulumi` call as `backend|passphrase source|args`."""

    def pulumi_args(self) -> list[str]:
        return [call.split("|", 2)[2] for call in self.calls]

    def called(self, prefix: str) -> bool:
        return any(args.startswith(prefix) for args in self.pulumi_args())


class Sandbox:
    def __init__(self, base: Path) -> None:
        self.dir = base / "repo"
        self.bin = base / "bin"
        self.log = base / "pulumi.log"
        self.dir.mkdir()
        self.bin.mkdir()
        shutil.copy(ROOT / "Makefile", self.dir)
        shutil.copytree(ROOT / "scripts", self.dir / "scripts")
        for path in ROOT.glob("Pulumi*.yaml"):
            shutil.copy(path, self.dir)
        for lock in ("requirements-dev.lock", "policy/requirements.lock"):
            (self.dir / lock).parent.mkdir(exist_ok=True)
            shutil.copy(ROOT / lock, self.dir / lock)
        # Ready-made virtualenvs (scripts/venv.sh finds them up to date and installs nothing).
        for venv, lock in (("venv", "requirements-dev.lock"), ("policy/venv", "policy/requirements.lock")):
            (self.dir / venv / "bin").mkdir(parents=True)
            (self.dir / venv / "bin" / "python").symlink_to(sys.executable)
            digest = hashlib.sha256((self.dir / lock).read_bytes()).hexdigest()
            (self.dir / venv / ".requirements.sha").write_text(digest + "\n")
        self.write_tool("pulumi", FAKE_PULUMI)
        self.write_tool("docker", FAKE_DOCKER)
        self.kubeconfig = base / "kubeconfig"
        self.kubeconfig.write_text("apiVersion: v1\nkind: Config\n")

    def write_tool(self, name: str, text: str) -> None:
        path = self.bin / name
        path.write_text(text)
        path.chmod(0o755)

    def initialise(self, stack: str) -> None:
        """What `make init` leaves behind and the team commits: the stack file with its salt."""
        path = self.dir / f"Pulumi.{stack}.yaml"
        path.write_text("encryptionsalt: v1:dGVhbQ==:v1:team:team\n" + path.read_text())

    def make(self, *args: str, env: dict[str, str] | None = None, stdin: int | None = subprocess.DEVNULL,
             timeout: float = 60) -> Run:
        self.log.write_text("")
        base_env = {key: value for key, value in os.environ.items() if not key.startswith(("PULUMI_", "CI"))}
        base_env.pop("ALLOW_LOCAL_BACKEND", None)
        base_env.update({"PATH": f"{self.bin}:{os.environ['PATH']}", "FAKE_PULUMI_LOG": str(self.log),
                         "KUBECONFIG": str(self.kubeconfig), "HOME": str(self.dir)})
        base_env.update(env or {})
        done = subprocess.run(["make", "--no-print-directory", *args], cwd=self.dir, env=base_env, stdin=stdin,
                              capture_output=True, text=True, timeout=timeout, check=False)
        calls = [line for line in self.log.read_text().splitlines() if line]
        return Run(done.returncode, done.stdout + done.stderr, calls)
