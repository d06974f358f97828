"""Restore a nightly backup into a Kubernetes stack's PostgreSQL:
`python -m tools.restore_postgres <dump name> [--namespace dreamscape-prod] [--yes]`.

1. reads the backup user's `MC_HOST_backup` URL from the CronJob's Secret (`postgres-backup-secrets`),
2. port-forwards MinIO to 127.0.0.1 and downloads `<bucket>/postgres/<dump name>` with `mc cp`,
3. streams the dump into `pg_restore --clean --if-exists` inside `postgres-0` (`kubectl exec -i`), as the
   superuser over the pod's local socket (no password on any command line).
`python -m tools.restore_postgres --list` shows the available dumps (newest last).
The credentials only ever live in this process's environment, never on a command line.
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tools.runner import Command, CommandError, Runner, SubprocessRunner, lines

SECRET = "postgres-backup-secrets"
SECRET_KEY = "env-MC_HOST_backup"
LOCAL_PORT = 19000
BUCKET = "dreamscape-backups"
DATABASE = "dreamscape"
APP_USER = "dreamscape_app"


def local_mc_host(cluster_url: str, port: int = LOCAL_PORT) -> str:
    """`http://user:key@minio:9000` (in-cluster) -> `http://user:key@127.0.0.1:<port>` (port-forward)."""
    parts = urlsplit(cluster_url)
    credentials = parts.netloc.rpartition("@")[0]
    return urlunsplit((parts.scheme, f"{credentials}@127.0.0.1:{port}", "", "", ""))


def kubectl(namespace: str, *args: str) -> tuple[str, ...]:
    return ("kubectl", "--namespace", namespace, *args)


def secret_command(namespace: str) -> Command:
    jsonpath = f"jsonpath={{.data.{SECRET_KEY}}}"
    return Command(kubectl(namespace, "get", "secret", SECRET, "--output", jsonpath))


def port_forward_command(namespace: str) -> Command:
    return Command(kubectl(namespace, "port-forward", "service/minio", f"{LOCAL_PORT}:9000"))


def download_command(name: str, target: Path, mc_host: str, bucket: str = BUCKET) -> Command:
    return Command(("mc", "cp", f"backup/{bucket}/postgres/{name}", str(target)),
                   env={"MC_HOST_backup": mc_host})


def list_command(mc_host: str, bucket: str = BUCKET) -> Command:
    return Command(("mc", "ls", f"backup/{bucket}/postgres/"), env={"MC_HOST_backup": mc_host})


def restore_command(namespace: str, source: Path, database: str = DATABASE, role: str = APP_USER) -> Command:
    return Command(kubectl(namespace, "exec", "-i", "postgres-0", "--", "pg_restore", "-U", "postgres",
                           "-d", database, "--clean", "--if-exists", "--no-owner", f"--role={role}",
                           "--exit-on-error"), stdin=source)


def restore(runner: Runner, namespace: str, name: str | None, work_dir: Path, *, bucket: str = BUCKET,
            wait: Callable[[], None] = lambda: time.sleep(2)) -> list[str]:
    """Download `name` and restore it (or, with name None, list the dumps). Returns the listing."""
    encoded = runner.run(secret_command(namespace)).strip()
    if not encoded:
        raise CommandError(f"no backup credentials in secret {SECRET} of namespace {namespace}")
    mc_host = local_mc_host(base64.b64decode(encoded).decode())
    stop = runner.start(port_forward_command(namespace))
    try:
        wait()
        if name is None:
            return lines(runner.run(list_command(mc_host, bucket)))
        target = work_dir / name
        runner.run(download_command(name, target, mc_host, bucket))
    finally:
        stop()
    runner.run(restore_command(namespace, target))
    return []


def main(argv: Sequence[str] | None = None, runner: Runner | None = None,
         confirm: Callable[[str], str] = input, wait: Callable[[], None] = lambda: time.sleep(2)) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.restore_postgres", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?", help="dump name, e.g. dreamscape-20250101T020005Z.dump")
    parser.add_argument("--list", action="store_true", help="list the dumps in the bucket")
    parser.add_argument("--namespace", default="dreamscape-prod")
    parser.add_argument("--bucket", default=BUCKET)
    parser.add_argument("--yes", action="store_true", help="do not ask before overwriting the database")
    args = parser.parse_args(argv)
    if not args.list and not args.name:
        parser.error("give a dump name, or --list")
    question = f"Restore {args.name} over the database in {args.namespace}? Type 'restore': "
    if not args.list and not args.yes and confirm(question).strip() != "restore":
        print("not confirmed; nothing was changed", file=sys.stderr)
        return 1
    runner = runner or SubprocessRunner()
    try:
        with tempfile.TemporaryDirectory() as work:
            name = None if args.list else args.name
            listing = restore(runner, args.namespace, name, Path(work), bucket=args.bucket, wait=wait)
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("\n".join(listing) if args.list else f"restored {args.name} into {args.namespace}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
