"""Run the restore drill now: `python -m tools.restore_drill [--stack prod] [--namespace NS] [--timeout MIN]`.

Starts the scheduled restore-and-verify job of a Kubernetes stack by hand (`kubectl create job
--from=cronjob/postgres-restore-verify`), waits for it, and prints its log and the result. The job restores
the latest off-site backup into a throwaway CloudNativePG cluster, runs the check query, and deletes the
cluster; it never touches the running database or its archive (docs/operations.md, "Restores are proven").

A drill that passes counts as a verified restore: the CronJob controller records the completion of every
Job it owns, so the RestoreVerificationTooOld alert clears. Exit status: 0 verified, 1 the restore or the
check failed (or the wait timed out), 2 a usage or configuration problem. Errors are one line.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

from pydantic import ValidationError

from components.config import KubernetesConfig, RestoreVerifyConfig
from components.config.loader import file_values
from components.infra.postgres import RESTORE_VERIFY_JOB
from tools.runner import Command, CommandError, Runner, SubprocessRunner
from tools.stack_guard import StackGuardError, require_target

MARGIN_MINUTES = 15
"""Beyond the job's own restore timeout: pulling the image, the check, and deleting the throwaway cluster."""


class DrillError(Exception):
    """A problem the user can fix (stack, configuration); reported on one line with exit code 2."""


@dataclass(frozen=True, kw_only=True)
class DrillTarget:
    namespace: str
    timeout_minutes: int


def target_of(stack: str) -> DrillTarget:
    """The stack's namespace and the restore's timeout, from its configuration files (no Pulumi engine)."""
    try:
        require_target(stack, "kubernetes", "the restore drill runs a Kubernetes stack's restore job; dev keeps "
                                            "no off-site archive")
    except StackGuardError as error:
        raise DrillError(str(error)) from None
    values = file_values(stack)
    try:
        kubernetes = KubernetesConfig.model_validate(values["kubernetes"])
        verify = values.get("backup", {}).get("restoreVerify")
        config = RestoreVerifyConfig.model_validate(verify) if verify is not None else None
    except (KeyError, ValidationError) as error:
        first = error.errors(include_url=False)[0] if isinstance(error, ValidationError) else None
        where = ".".join(str(part) for part in first["loc"]) if first else str(error)
        raise DrillError(f"the configuration of stack {stack!r} is invalid at {where}; run `make preview`") from None
    if config is None or not config.enabled:
        raise DrillError(f"stack {stack!r} has backup.restoreVerify off: there is no restore job to run")
    return DrillTarget(namespace=kubernetes.namespace_for(stack), timeout_minutes=config.timeout_minutes)


def drill_job_name(now: datetime) -> str:
    """`postgres-restore-verify-drill-<UTC stamp>`: a new Job each time, apart from the scheduled ones."""
    return f"{RESTORE_VERIFY_JOB}-drill-{now.strftime('%Y%m%d%H%M%S')}"


def kubectl(namespace: str, *args: str) -> Command:
    return Command(("kubectl", "--namespace", namespace, *args))


@dataclass(frozen=True)
class Outcome:
    job: str
    verified: bool
    log: str


def drill(runner: Runner, namespace: str, job: str, timeout_seconds: float, poll_seconds: float,
          sleep: Callable[[float], None] = time.sleep,
          clock: Callable[[], float] = time.monotonic) -> Outcome:
    """Start the job from the CronJob, wait until it succeeded or failed, and fetch its log."""
    runner.run(kubectl(namespace, "create", "job", job, f"--from=cronjob/{RESTORE_VERIFY_JOB}"))
    deadline = clock() + timeout_seconds
    while True:
        status = runner.run(kubectl(namespace, "get", "job", job, "--output",
                                    "jsonpath={.status.succeeded}/{.status.failed}")).strip()
        succeeded, _, failed = status.partition("/")
        if succeeded not in ("", "0") or failed not in ("", "0"):
            break
        if clock() >= deadline:
            raise CommandError(f"job {job} did not finish within {timeout_seconds / 60:g} minutes; it keeps "
                               f"running: kubectl --namespace {namespace} logs -f job/{job}")
        sleep(poll_seconds)
    log = runner.run(kubectl(namespace, "logs", f"job/{job}"))
    return Outcome(job=job, verified=succeeded not in ("", "0"), log=log)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line (exit code 2), like every other failure."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: Sequence[str] | None = None, runner: Runner | None = None,
         sleep: Callable[[float], None] = time.sleep, now: Callable[[], datetime] = lambda: datetime.now(UTC),
         clock: Callable[[], float] = time.monotonic) -> int:
    parser = _Parser(prog="python -m tools.restore_drill", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="prod", help="the Kubernetes stack to drill (default prod)")
    parser.add_argument("--namespace", help="override the stack's namespace")
    parser.add_argument("--timeout", type=float, metavar="MINUTES",
                        help=f"how long to wait (default: backup.restoreVerify.timeoutMinutes + {MARGIN_MINUTES})")
    parser.add_argument("--poll", type=float, default=10.0, metavar="SECONDS", help="how often to look (default 10)")
    args = parser.parse_args(argv)
    try:
        target = target_of(args.stack)
        if args.timeout is not None and args.timeout <= 0:
            raise DrillError(f"--timeout {args.timeout:g}: give a number of minutes greater than zero")
        minutes = args.timeout if args.timeout is not None else target.timeout_minutes + MARGIN_MINUTES
        namespace = args.namespace or target.namespace
        outcome = drill(runner or SubprocessRunner(), namespace, drill_job_name(now()), minutes * 60, args.poll,
                        sleep=sleep, clock=clock)
    except DrillError as error:
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the drill job keeps running and deletes its throwaway cluster itself", file=sys.stderr)
        return 130
    print(outcome.log.rstrip())
    if outcome.verified:
        print(f"restore verified (job {outcome.job} in {namespace})")
        return 0
    last = next((line for line in reversed(outcome.log.splitlines()) if line.strip()), "no log")
    print(f"error: restore drill failed (job {outcome.job} in {namespace}): {_one_line(ValueError(last))}",
          file=sys.stderr)
    return 1


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
