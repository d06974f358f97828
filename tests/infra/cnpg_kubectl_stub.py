"""A `kubectl` stand-in for restore_verify.sh: CloudNativePG's part is played by a real PostgreSQL server.

`create -f` restores the base backup into a new data directory and starts it in archive recovery from the
WAL archive (what `bootstrap.recovery` does in the operator), `get -o jsonpath` answers the `Ready` condition
(the server accepts connections and left recovery), `exec <member> -c postgres -- psql ...` runs the real psql
against it, and `delete` stops it and removes the data. Every call is appended to `calls.log`.

Configured by the environment (each test has its own directories and port):
  STUB_STATE    a directory for the restored data, the log and the call log
  STUB_BACKUP   the base backup (a pg_basebackup directory)
  STUB_ARCHIVE  the WAL archive
  STUB_PORT     the port the restored server listens on
Run as `python -m tests.infra.cnpg_kubectl_stub <kubectl arguments>`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.infra.test_postgres_real import as_postgres, postgres_bin


def _state() -> Path:
    return Path(os.environ["STUB_STATE"])


def _data() -> Path:
    return _state() / "restored"


def _created() -> Path:
    return _state() / "created"


def _socket_env() -> dict[str, str]:
    return {**os.environ, "PGHOST": str(_state()), "PGPORT": os.environ["STUB_PORT"], "PGUSER": "postgres"}


def _create() -> int:
    shutil.copytree(os.environ["STUB_BACKUP"], _data())
    if os.geteuid() == 0:
        shutil.chown(_data(), "postgres", "postgres")
        for path in _data().rglob("*"):
            shutil.chown(path, "postgres", "postgres")
    _data().chmod(0o700)
    (_data() / "recovery.signal").touch()
    with (_data() / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"restore_command = 'cp {os.environ['STUB_ARCHIVE']}/%f %p'\narchive_mode = off\n")
    _created().touch()
    # Not `-w`: the operator does not wait either; readiness is what `get` reports.
    as_postgres([postgres_bin("pg_ctl"), "-D", str(_data()), "-l", str(_state() / "restored.log"), "-o",
                 f"-p {os.environ['STUB_PORT']} -k {_state()} -c listen_addresses=''", "start"])
    return 0


def _ready() -> str:
    done = subprocess.run([postgres_bin("psql"), "-X", "-At", "-d", "postgres", "-c", "SELECT pg_is_in_recovery()"],
                          capture_output=True, text=True, env=_socket_env(), check=False, timeout=30)
    return "True" if done.returncode == 0 and done.stdout.strip() == "f" else "False"


def _delete() -> int:
    if _data().exists():
        as_postgres([postgres_bin("pg_ctl"), "-D", str(_data()), "-m", "immediate", "stop"])
        shutil.rmtree(_data(), ignore_errors=True)
    _created().unlink(missing_ok=True)
    return 0


def main(args: list[str]) -> int:
    with (_state() / "calls.log").open("a") as log:
        log.write(" ".join(args[:3]) + "\n")
    verb = args[0]
    if verb == "create":
        return _create()
    if verb == "delete":
        return _delete()
    if verb == "get" and "--ignore-not-found" in args:
        if _created().exists():
            print(f"cluster.postgresql.cnpg.io/{args[2]}")
        return 0
    if verb == "get":
        print(_ready() if _created().exists() else "", end="")
        return 0 if _created().exists() else 1
    if verb == "exec":
        command = args[args.index("--") + 1:]
        return subprocess.run([postgres_bin(command[0]), *command[1:]], env=_socket_env(), check=False,
                              timeout=60).returncode
    print(f"stub kubectl: unexpected {args}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
