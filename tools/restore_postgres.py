"""Restore a nightly backup into a Kubernetes stack's PostgreSQL:
`python -m tools.restore_postgres <dump name> [--stack prod] [--namespace NS] [--bucket B] [--yes]`.

The namespace, the backup bucket, the database and the role come from the stack's configuration
(Pulumi.yaml, the review profile and Pulumi.<stack>.yaml); `--namespace` and `--bucket` override them.
A dump name is a plain file name as the backup writes it (`dreamscape-20250101T020005Z.dump`): never a
path, never absolute, never `..`, since it becomes a local file name and part of the object key.

1. reads the backup user's credentials from mc's config file in the CronJob's Secret
   (`postgres-backup-secrets`, key `mc-config`), and hands them to the local `mc` as `MC_HOST_backup`,
2. port-forwards MinIO to 127.0.0.1 and downloads `<bucket>/postgres/<dump name>` with `mc cp`,
3. streams the dump into `pg_restore --clean --if-exists` inside the primary
   (`kubectl exec -i service/postgres-rw`), as the
   superuser over the pod's local socket (no password on any command line).
`python -m tools.restore_postgres --list` shows the available dumps (newest last).
The credentials only ever live in this process's environment, never on a command line.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import ValidationError

from components.config import BackupConfig, KubernetesConfig, PostgresConfig
from components.config.loader import file_values, stack_name_problems
from tools.runner import Command, CommandError, Runner, SubprocessRunner, lines

SECRET = "postgres-backup-secrets"
SECRET_KEY = "mc-config"
ALIAS = "backup"
LOCAL_PORT = 19000
BUCKET = "dreamscape-backups"
DATABASE = "dreamscape"
APP_USER = "dreamscape_app"


_DUMP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


class RestoreError(Exception):
    """A problem the user can fix; reported on one line with exit code 2."""


@dataclass(frozen=True, kw_only=True)
class RestoreTarget:
    """Where a stack's database lives and who owns its objects, as its configuration says."""

    namespace: str
    bucket: str
    database: str
    role: str


def target_of(stack: str) -> RestoreTarget:
    """The configured namespace, bucket, database and app role of `stack` (no Pulumi engine needed)."""
    problems = stack_name_problems(stack)
    if problems:
        raise RestoreError(f"stack {stack!r}: {problems[0]}")
    values = file_values(stack)
    try:
        postgres = PostgresConfig.model_validate(values["postgres"])
        # The off-site store's credentials are secret config (encrypted, or absent from the files): this tool
        # restores the in-cluster dumps and never reads them.
        backup = BackupConfig.model_validate({k: v for k, v in values["backup"].items() if k != "offsite"})
        kubernetes = KubernetesConfig.model_validate(values["kubernetes"])
    except (KeyError, ValidationError) as error:
        first = error.errors(include_url=False)[0] if isinstance(error, ValidationError) else None
        where = ".".join(str(part) for part in first["loc"]) if first else str(error)
        raise RestoreError(f"the configuration of stack {stack!r} is invalid at {where}; run `make preview`") from None
    return RestoreTarget(namespace=kubernetes.namespace_for(stack), bucket=backup.bucket,
                         database=postgres.database, role=postgres.app_user)


def dump_name(text: str) -> str:
    """A dump's file name: letters, digits, '.', '_' and '-', no path, no '..' (it names a local file)."""
    if not _DUMP_NAME.match(text) or ".." in text:
        raise RestoreError(
            f"invalid dump name {text!r}: give the file name as listed by --list "
            "(e.g. dreamscape-20250101T020005Z.dump), without a path or '..'"
        )
    return text


def cluster_url(mc_config: str, alias: str = ALIAS) -> str:
    """mc's `config.json` -> `http://user:key@minio:9000` for `alias` (what `MC_HOST_<alias>` holds)."""
    try:
        entry = json.loads(mc_config)["aliases"][alias]
        parts = urlsplit(entry["url"])
        user, key = quote(entry["accessKey"], safe=""), quote(entry["secretKey"], safe="")
    except (ValueError, KeyError, TypeError):
        raise CommandError(f"secret {SECRET} holds no mc config with the alias {alias!r}") from None
    url: str = urlunsplit((parts.scheme, f"{user}:{key}@{parts.netloc}", "", "", ""))
    return url


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


PRIMARY = "service/postgres-rw"
"""CloudNativePG's read-write Service: it selects the current primary."""


def port_forward_command(namespace: str) -> Command:
    return Command(kubectl(namespace, "port-forward", "service/minio", f"{LOCAL_PORT}:9000"))


def download_command(name: str, target: Path, mc_host: str, bucket: str = BUCKET) -> Command:
    return Command(("mc", "cp", f"backup/{bucket}/postgres/{name}", str(target)),
                   env={"MC_HOST_backup": mc_host})


def list_command(mc_host: str, bucket: str = BUCKET) -> Command:
    return Command(("mc", "ls", f"backup/{bucket}/postgres/"), env={"MC_HOST_backup": mc_host})


def restore_command(namespace: str, source: Path, database: str = DATABASE, role: str = APP_USER) -> Command:
    # The primary, wherever CloudNativePG runs it: kubectl resolves a Service to one of its pods, and `-rw`
    # selects only the primary; `-c postgres` skips the Barman Cloud sidecar.
    return Command(kubectl(namespace, "exec", "-i", PRIMARY, "-c", "postgres", "--", "pg_restore", "-U", "postgres",
                           "-d", database, "--clean", "--if-exists", "--no-owner", f"--role={role}",
                           "--exit-on-error"), stdin=source)


def restore(runner: Runner, namespace: str, name: str | None, work_dir: Path, *, bucket: str = BUCKET,
            database: str = DATABASE, role: str = APP_USER,
            wait: Callable[[], None] = lambda: time.sleep(2)) -> list[str]:
    """Download `name` and restore it (or, with name None, list the dumps). Returns the listing."""
    if name is not None:
        dump_name(name)
    encoded = runner.run(secret_command(namespace)).strip()
    if not encoded:
        raise CommandError(f"no backup credentials in secret {SECRET} of namespace {namespace}")
    mc_host = local_mc_host(cluster_url(base64.b64decode(encoded).decode()))
    stop = runner.start(port_forward_command(namespace))
    try:
        wait()
        if name is None:
            return lines(runner.run(list_command(mc_host, bucket)))
        target = work_dir / name
        runner.run(download_command(name, target, mc_host, bucket))
    finally:
        stop()
    runner.run(restore_command(namespace, target, database, role))
    return []


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line (exit code 2), like every other failure."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: Sequence[str] | None = None, runner: Runner | None = None,
         confirm: Callable[[str], str] = input, wait: Callable[[], None] = lambda: time.sleep(2)) -> int:
    """Run the restore; every failure prints one line to stderr and returns non-zero."""
    parser = _Parser(prog="python -m tools.restore_postgres", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", nargs="?", help="dump name, e.g. dreamscape-20250101T020005Z.dump")
    parser.add_argument("--list", action="store_true", help="list the dumps in the bucket")
    parser.add_argument("--stack", default="prod", help="the stack whose database is restored (default prod)")
    parser.add_argument("--namespace", help="override the stack's namespace")
    parser.add_argument("--bucket", help="override the stack's backup bucket")
    parser.add_argument("--yes", action="store_true", help="do not ask before overwriting the database")
    args = parser.parse_args(argv)
    if not args.list and not args.name:
        parser.error("give a dump name, or --list")
    try:
        name = None if args.list else dump_name(args.name)
        target = target_of(args.stack)
        namespace = args.namespace or target.namespace
        question = (f"Restore {name} over database {target.database} in {namespace}? Type 'restore': ")
        if name is not None and not args.yes and confirm(question).strip() != "restore":
            print("not confirmed; nothing was changed", file=sys.stderr)
            return 1
        runner = runner or SubprocessRunner()
        with tempfile.TemporaryDirectory() as work:
            listing = restore(runner, namespace, name, Path(work), bucket=args.bucket or target.bucket,
                              database=target.database, role=target.role, wait=wait)
    except (RestoreError, CommandError) as error:
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return 2 if isinstance(error, RestoreError) else 1
    except EOFError:
        print("error: no answer to the confirmation (stdin closed); pass --yes to skip it", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the restore may be incomplete", file=sys.stderr)
        return 130
    except Exception as error:  # the last line of defence: one line, never a traceback
        print(f"error: unexpected {type(error).__name__}: {_one_line(error)}", file=sys.stderr)
        return 1
    print("\n".join(listing) if args.list else f"restored {name} into {target.database} in {namespace}")
    return 0


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
