"""`python -m tools.release`: the release record of a shared stack, rollback, and canary releases.

    status    --stack S [--json]                         what runs, what last passed its smoke test
    deployed  --stack S --tag T                          record that an update deployed T
    mark-good --stack S [--tag T]                        record that T (default: what runs) passed smoke
    rollback  --stack S [--to T] [--markdown-summary F]  redeploy the last good release (or T)
    canary    --stack S --tag T --pod P [--pod P2] --prometheus URL [--markdown-summary F]
              run T as a canary of the pods P, then promote it or roll back (docs/release.md)

Common options: --cwd DIR (repository root, default .), --backend-url URL (default $PULUMI_BACKEND_URL;
the local file backend needs --allow-local-backend or ALLOW_LOCAL_BACKEND=1). Errors print one line to
stderr and exit 2; a rollback whose deploy fails exits 1 after reporting it. `canary` exits 0 when it
promoted T, 3 when it rolled back, 1 when an update failed (tools/release/canary_release.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from tools.release import canary_release
from tools.release.backend import AutomationBackend, BackendSettings, ReleaseBackend, resolve_backend_url
from tools.release.errors import ReleaseError
from tools.release.model import ReleaseRecord, validate_tag

EXIT_ERROR = 2
EXIT_DEPLOY_FAILED = 1
LOCAL_STACK = "dev"

BackendFactory = Callable[[BackendSettings], ReleaseBackend]


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def _tag(text: str) -> str:
    try:
        return validate_tag(text)
    except ReleaseError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--stack", required=True, help="a shared stack with a Pulumi.<stack>.yaml (prod)")
    common.add_argument("--cwd", type=Path, default=Path("."), help="repository root (holds Pulumi.yaml)")
    common.add_argument("--backend-url", help="Pulumi backend URL (default: $PULUMI_BACKEND_URL)")
    common.add_argument("--allow-local-backend", action="store_true", help="accept a file:// backend")

    parser = _Parser(prog="release", description="Release record and rollback of a shared stack.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    status = sub.add_parser("status", parents=[common], help="show the release record")
    status.add_argument("--json", action="store_true", help="print it as JSON")
    deployed = sub.add_parser("deployed", parents=[common], help="record a deployed release")
    deployed.add_argument("--tag", required=True, type=_tag, help="the image tag that was deployed")
    good = sub.add_parser("mark-good", parents=[common], help="record that a release passed its smoke test")
    good.add_argument("--tag", type=_tag, help="default: the release running now")
    rollback = sub.add_parser("rollback", parents=[common], help="redeploy the last good release")
    rollback.add_argument("--to", type=_tag, help="this tag instead of the last good release")
    rollback.add_argument("--markdown-summary", type=Path, help="also write the report (markdown) here")
    release = sub.add_parser("canary", parents=[common], help="canary a release, then promote or roll back")
    release.add_argument("--tag", required=True, type=_tag, help="the image tag to release")
    release.add_argument("--pod", action="append", default=[], help="a Big Pod to canary (repeatable)")
    release.add_argument("--prometheus", required=True, help="base URL of the stack's Prometheus")
    release.add_argument("--markdown-summary", type=Path, help="also write the report (markdown) here")
    return parser


def check_stack(cwd: Path, stack: str) -> None:
    """Releases are for the shared stacks of this repository; dev builds its images from the checkout."""
    if stack == LOCAL_STACK:
        raise ReleaseError("dev builds its images from your checkout: it has no releases to roll back")
    if not (cwd / f"Pulumi.{stack}.yaml").is_file():
        raise ReleaseError(f"unknown stack {stack!r}: {cwd / f'Pulumi.{stack}.yaml'} does not exist")


def report(stack: str, before: ReleaseRecord, target: str, error: str | None) -> str:
    """The rollback report, in markdown (workflow summary) and readable as plain text."""
    was = before.current or "unknown"
    if error is None:
        return (f"### Rollback of `{stack}`: done\n\n`{stack}` runs release `{target}` again "
                f"(it ran `{was}`).\n")
    return (f"### Rollback of `{stack}`: FAILED\n\nRedeploying release `{target}` (it ran `{was}`) failed: "
            f"{error}\n\nThe stack may be partly updated; run `make preview STACK={stack}` and fix by hand.\n")


def run(argv: Sequence[str], factory: BackendFactory, environ: Mapping[str, str],
        out: Callable[[str], None], wait: canary_release.Wait = canary_release.sleep) -> int:
    args = build_parser().parse_args(argv)
    cwd: Path = args.cwd.resolve()
    check_stack(cwd, args.stack)
    allow_local = args.allow_local_backend or environ.get("ALLOW_LOCAL_BACKEND") == "1"
    url = resolve_backend_url(args.backend_url, environ, allow_local=allow_local)
    backend = factory(BackendSettings(work_dir=cwd, backend_url=url))
    record = ReleaseRecord.from_tags(backend.read_tags(args.stack))

    if args.command == "status":
        if args.json:
            out(json.dumps({"current": record.current, "lastGood": record.last_good,
                            "goodHistory": list(record.good_history)}) + "\n")
        else:
            out(f"stack {args.stack}: running {record.current or 'unknown'}, "
                f"last good {record.last_good or 'none'}, good history: {' '.join(record.good_history) or '-'}\n")
        return 0
    if args.command == "deployed":
        backend.write_tags(args.stack, record.deployed(args.tag).tags())
        out(f"recorded: {args.stack} runs {args.tag}\n")
        return 0
    if args.command == "mark-good":
        tag = args.tag or record.current
        if tag is None:
            raise ReleaseError(f"no deployed release is recorded for {args.stack}; pass --tag")
        backend.write_tags(args.stack, record.good(tag).tags())
        out(f"recorded: {tag} is the last good release of {args.stack}\n")
        return 0

    if args.command == "canary":
        config = canary_release.canary_config(cwd, args.stack)
        plan = canary_release.CanaryRun(stack=args.stack, tag=args.tag, config=config,
                                        pods=canary_release.chosen_pods(args.pod, config))
        code, text = canary_release.run_canary(plan, record, backend, canary_release.prometheus_judge(args.prometheus),
                                               wait, out)
        out(text)
        if args.markdown_summary is not None:
            args.markdown_summary.write_text(text, encoding="utf-8")
        return code

    target = record.rollback_target(args.to)
    out(f"rolling back {args.stack}: {record.current or 'unknown'} -> {target}\n")
    error: str | None = None
    try:
        backend.deploy(args.stack, target, out)
    except ReleaseError as failure:
        error = str(failure)
    else:
        backend.write_tags(args.stack, record.deployed(target).tags())
    text = report(args.stack, record, target, error)
    out(text)
    if args.markdown_summary is not None:
        args.markdown_summary.write_text(text, encoding="utf-8")
    return 0 if error is None else EXIT_DEPLOY_FAILED


def main(argv: Sequence[str] | None = None, factory: BackendFactory | None = None,
         environ: Mapping[str, str] | None = None) -> int:
    def out(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    try:
        return run(sys.argv[1:] if argv is None else argv, factory or AutomationBackend,
                   os.environ if environ is None else environ, out)
    except (ReleaseError, OSError) as error:
        print(f"release: error: {' '.join(str(error).split())}", file=sys.stderr)
        return EXIT_ERROR


