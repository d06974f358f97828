"""`python -m tools.review`: create, destroy, list and garbage-collect review environments.

    up      --pr N --image-tag T [--commit SHA] [--ttl 72h] [--markdown-summary FILE]
    destroy --pr N
    list
    gc      --ttl 72h [--open-prs 12,15 | --open-prs-file FILE] [--dry-run]

Common options (after the subcommand): --cwd DIR (repository root, default .), --backend-url URL
(default $PULUMI_BACKEND_URL or file://<cwd>/.pulumi-state), --secrets-provider P (default passphrase).
Errors print one line to stderr and exit 2.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from tools.review import gc, naming
from tools.review.backend import (
    DEFAULT_SECRETS_PROVIDER,
    AutomationBackend,
    BackendSettings,
    ReviewBackend,
    resolve_backend_url,
)
from tools.review.errors import ReviewError
from tools.review.model import ReviewConfig, ReviewInfo, validate_commit, validate_image_tag
from tools.review.ttl import expires_at, format_rfc3339, parse_ttl

EXIT_ERROR = 2
DEFAULT_TTL = "72h"
COMMENT_MARKER = "<!-- dreamscape-review-environment -->"

BackendFactory = Callable[[BackendSettings], ReviewBackend]
Clock = Callable[[], datetime]


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line (`review: error: ...`) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def _type(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    """Wrap a validator so that argparse shows its `ReviewError` message."""

    def parse(text: str) -> Any:
        try:
            return convert(text)
        except ReviewError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--cwd", type=Path, default=Path("."), help="repository root (holds Pulumi.yaml)")
    common.add_argument("--backend-url", help="Pulumi backend URL (default: $PULUMI_BACKEND_URL or local)")
    common.add_argument(
        "--secrets-provider", default=DEFAULT_SECRETS_PROVIDER, help="secrets provider for new stacks"
    )

    parser = _Parser(prog="review", description="Ephemeral review environments, one stack per PR.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    up = sub.add_parser("up", parents=[common], help="create or update the review environment of a PR")
    up.add_argument("--pr", required=True, type=_type(naming.parse_pr_number), help="pull-request number")
    up.add_argument("--image-tag", required=True, type=_type(validate_image_tag), help="image tag to run")
    up.add_argument("--commit", type=_type(validate_commit), help="git sha (default: HEAD of --cwd)")
    up.add_argument("--ttl", default=DEFAULT_TTL, type=_type(parse_ttl), help="lifetime, e.g. 90m, 72h, 3d")
    up.add_argument("--markdown-summary", type=Path, help="also write a PR comment body (markdown) here")

    destroy = sub.add_parser("destroy", parents=[common], help="destroy a PR's review environment")
    destroy.add_argument(
        "--pr", required=True, type=_type(naming.parse_pr_number), help="pull-request number"
    )
    destroy.add_argument("--markdown-summary", type=Path, help="also write a PR comment body (markdown) here")

    sub.add_parser("list", parents=[common], help="list review environments")

    collect = sub.add_parser("gc", parents=[common], help="destroy expired or orphaned review environments")
    collect.add_argument(
        "--ttl", required=True, type=_type(parse_ttl), help="max age without a recorded expiry"
    )
    prs = collect.add_mutually_exclusive_group()
    prs.add_argument("--open-prs", type=_type(gc.parse_open_prs), help="open PR numbers, e.g. 12,15")
    prs.add_argument("--open-prs-file", type=Path, help="file of open PRs (numbers, or gh pr list --json)")
    collect.add_argument("--dry-run", action="store_true", help="only print what would be destroyed")
    return parser


def git_head(cwd: Path) -> str:
    """The commit checked out in `cwd` (default for `up --commit`)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=False
        )
    except OSError:
        done = None
    if done is None or done.returncode != 0:
        raise ReviewError(f"cannot read the git commit of {str(cwd)!r}: pass --commit SHA")
    return validate_commit(done.stdout.strip())


def _print(text: str) -> None:
    print(text, flush=True)


def _stream(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def _urls(outputs: Mapping[str, Any]) -> dict[str, str]:
    urls = outputs.get("urls")
    if not isinstance(urls, Mapping):
        return {}
    return {str(name): str(url) for name, url in sorted(urls.items())}


def _up(args: argparse.Namespace, backend: ReviewBackend, now: datetime) -> int:
    stack = naming.stack_name(args.pr)
    commit = args.commit or git_head(args.cwd)
    config = ReviewConfig(
        image_tag=args.image_tag, pr=args.pr, commit=commit, expires_at=expires_at(now, args.ttl)
    )
    _print(f"review: deploying {stack} (image {config.image_tag}, commit {commit[:12]})")
    outputs = backend.up(stack, config, _stream)
    urls = _urls(outputs)
    expiry = format_rfc3339(config.expires_at)
    _print(f"review: {stack} is up until {expiry}")
    if urls:
        for name, url in urls.items():
            _print(f"  {name}: {url}")
    else:
        _print("  (the stack exported no urls)")
    if args.markdown_summary is not None:
        lines = [
            COMMENT_MARKER,
            f"### Review environment `{stack}`",
            "",
            f"Deployed image `{config.image_tag}` from commit `{commit}`; expires {expiry}.",
            "",
            *([f"- **{name}**: {url}" for name, url in urls.items()] or ["_No URLs were exported._"]),
        ]
        args.markdown_summary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


def _destroy_one(backend: ReviewBackend, stack: str) -> None:
    backend.destroy(stack, _stream)
    backend.remove(stack)


def _destroy(args: argparse.Namespace, backend: ReviewBackend) -> int:
    stack = naming.stack_name(args.pr)
    _print(f"review: destroying {stack}")
    _destroy_one(backend, stack)
    _print(f"review: {stack} destroyed and removed")
    if args.markdown_summary is not None:
        body = f"{COMMENT_MARKER}\n### Review environment `{stack}`\n\nDestroyed after the PR was closed.\n"
        args.markdown_summary.write_text(body, encoding="utf-8")
    return 0


def _info(backend: ReviewBackend, stack: str) -> ReviewInfo:
    return backend.get_config(stack) or ReviewInfo()


def _list(backend: ReviewBackend) -> int:
    stacks = [s for s in backend.list_stacks() if naming.is_review_stack(s.name)]
    if not stacks:
        _print("no review environments")
        return 0
    rows = [("STACK", "PR", "LAST UPDATE", "EXPIRES", "RESOURCES")]
    for summary in sorted(stacks, key=lambda s: s.name):
        info = _info(backend, summary.name)
        pr = info.pr if info.pr is not None else naming.pr_number_of(summary.name)
        rows.append(
            (
                summary.name,
                f"#{pr}" if pr is not None else "-",
                format_rfc3339(summary.last_update) if summary.last_update else "never",
                format_rfc3339(info.expires_at) if info.expires_at else "-",
                str(summary.resource_count) if summary.resource_count is not None else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        _print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def _gc(args: argparse.Namespace, backend: ReviewBackend, now: datetime) -> int:
    open_prs: frozenset[int] | None = args.open_prs
    if args.open_prs_file is not None:
        try:
            text = args.open_prs_file.read_text(encoding="utf-8")
        except OSError as error:
            raise ReviewError(
                f"cannot read open PR file {str(args.open_prs_file)!r}: {error.strerror}"
            ) from None
        open_prs = gc.parse_open_prs(text)
    stacks = [s for s in backend.list_stacks() if naming.is_review_stack(s.name)]
    failures: list[str] = []
    for busy in (s for s in stacks if s.update_in_progress):
        _print(f"review gc: skipping {busy.name} (an update is in progress)")
    # One stack's unreadable metadata or failed destroy must not stop gc for the others.
    info: dict[str, ReviewInfo] = {}
    readable = []
    for summary in stacks:
        try:
            info[summary.name] = _info(backend, summary.name)
            readable.append(summary)
        except Exception as error:  # isolated per stack, reported on one line
            print(f"review gc: cannot read {summary.name}: {_one_line(error)}", file=sys.stderr, flush=True)
            failures.append(summary.name)
    selected = gc.select_stacks_to_destroy(readable, info, now=now, ttl=args.ttl, open_prs=open_prs)
    if not selected and not failures:
        _print(f"review gc: nothing to destroy ({len(stacks)} review stacks checked)")
        return 0
    for choice in selected:
        if args.dry_run:
            _print(f"review gc: would destroy {choice.stack} ({choice.reason})")
            continue
        _print(f"review gc: destroying {choice.stack} ({choice.reason})")
        try:
            _destroy_one(backend, choice.stack)
        except Exception as error:  # isolated per stack, reported on one line
            print(f"review gc: {_one_line(error)}", file=sys.stderr, flush=True)
            failures.append(choice.stack)
    if failures:
        raise ReviewError(f"gc could not destroy {len(failures)} stack(s): {', '.join(failures)}")
    verb = "would destroy" if args.dry_run else "destroyed"
    _print(f"review gc: {verb} {len(selected)} of {len(stacks)} review stacks")
    return 0


def main(
    argv: Sequence[str] | None = None,
    *,
    backend_factory: BackendFactory | None = None,
    clock: Clock | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run the command; returns the exit code (0, or 2 after printing one error line to stderr)."""
    env = os.environ if environ is None else environ
    args = build_parser().parse_args(argv)
    now = (clock or (lambda: datetime.now(UTC)))()
    try:
        work_dir: Path = args.cwd.resolve()
        if not work_dir.is_dir():
            raise ReviewError(f"--cwd {str(args.cwd)!r} is not a directory")
        settings = BackendSettings(
            work_dir=work_dir,
            backend_url=resolve_backend_url(work_dir, args.backend_url, env),
            secrets_provider=args.secrets_provider,
        )
        backend = (backend_factory or AutomationBackend)(settings)
        if args.command == "up":
            return _up(args, backend, now)
        if args.command == "destroy":
            return _destroy(args, backend)
        if args.command == "list":
            return _list(backend)
        return _gc(args, backend, now)
    except ReviewError as error:
        print(f"review: error: {_one_line(error)}", file=sys.stderr, flush=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("review: interrupted", file=sys.stderr, flush=True)
        return 130
    except Exception as error:  # the last line of defence: one line, never a traceback
        print(f"review: error: unexpected {type(error).__name__}: {_one_line(error)}", file=sys.stderr, flush=True)
        return EXIT_ERROR


def _one_line(error: BaseException) -> str:
    """The error's message on one line (tool output is read in CI logs and PR comments)."""
    return " ".join(str(error).split()) or type(error).__name__
