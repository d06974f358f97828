"""Dump and restore the dev stack's PostgreSQL: `python -m tools.dev_db dump|restore [file] [--stack dev]`.

Docker has no scheduler, so dev has no nightly backup; this is its manual equivalent. Both commands run
inside the Postgres container (`docker exec dreamscape-<stack>-postgres-0 ...`), where the superuser may
connect over the local socket without a password, so no secret is needed on the command line.
- dump [file]:    `pg_dump -Fc` of the application database into `file` (default
                  `backups/<stack>-<database>-<UTC timestamp>.dump`).
- restore <file>: `pg_restore --clean --if-exists` of `file` into the application database.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from components.infra.postgres import NAME, SUPERUSER
from tools.runner import Command, CommandError, Runner, SubprocessRunner
from tools.stack_guard import StackGuardError, inside, require_target

DATABASE = "dreamscape"
BACKUPS = Path("backups")
"""Where default dumps go (relative to the working directory); a default path never leaves it."""


def container(stack: str) -> str:
    """The Docker target names members `dreamscape-<stack>-<service>-<i>`."""
    return f"dreamscape-{stack}-{NAME}-0"


def default_dump_path(stack: str, now: datetime) -> Path:
    return BACKUPS / f"{stack}-{DATABASE}-{now.strftime('%Y%m%dT%H%M%SZ')}.dump"


def dump_command(stack: str, target: Path, database: str = DATABASE) -> Command:
    return Command(("docker", "exec", container(stack), "pg_dump", "-U", SUPERUSER, "-d", database, "-Fc"),
                   stdout=target)


def partial_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial")


def dump(runner: Runner, stack: str, target: Path, database: str = DATABASE) -> None:
    """pg_dump writes into a hidden partial file that becomes `target` only when the dump succeeded, so a
    failed dump (container stopped, database missing) leaves no empty or truncated file that a later
    restore would take for a backup, and never overwrites an earlier dump of the same name."""
    partial = partial_path(target)
    try:
        runner.run(dump_command(stack, partial, database))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)


def restore_command(stack: str, source: Path, database: str = DATABASE) -> Command:
    return Command(("docker", "exec", "-i", container(stack), "pg_restore", "-U", SUPERUSER, "-d", database,
                    "--clean", "--if-exists", "--no-owner", "--exit-on-error"), stdin=source)


def main(argv: Sequence[str] | None = None, runner: Runner | None = None,
         now: datetime | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.dev_db", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("dump", "restore"))
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args(argv)
    runner = runner or SubprocessRunner()
    try:
        require_target(args.stack, "docker", "dev_db dumps and restores dev (Docker) stacks only; "
                                             "prod uses its nightly backups (python -m tools.restore_postgres)")
        if args.action == "dump":
            target = args.file
            if target is None:
                target = default_dump_path(args.stack, now or datetime.now(UTC))
                inside(BACKUPS, target.relative_to(BACKUPS))
            target.parent.mkdir(parents=True, exist_ok=True)
            dump(runner, args.stack, target, args.database)
            print(f"dumped {args.database} of stack {args.stack!r} to {target}")
        else:
            if args.file is None or not args.file.is_file():
                print("error: restore needs an existing dump file", file=sys.stderr)
                return 2
            runner.run(restore_command(args.stack, args.file, args.database))
            print(f"restored {args.file} into {args.database} of stack {args.stack!r}")
    except StackGuardError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (CommandError, OSError) as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
