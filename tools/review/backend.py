"""The seam between the review command and Pulumi.

`ReviewBackend` is what the CLI needs; `AutomationBackend` implements it on the Pulumi Automation API
(`pulumi.automation`, which drives the Pulumi CLI). This is the only module that imports
`pulumi.automation`; tests drive the CLI with a fake backend and unit-test the pure helpers below.

Stack config without leaving files behind
-----------------------------------------
The program is a local program (`work_dir` = repo root), so Pulumi's `LocalWorkspace` keeps each stack's
config in `Pulumi.<stack>.yaml` next to `Pulumi.yaml`; `pulumi stack init` writes the encryption salt there
too. Review stacks must not leave such files in the checkout, so every operation runs inside
`StackFileGuard`, which snapshots `Pulumi.<stack>.{yaml,yml,json}` before and restores them afterwards:
a file that did not exist is deleted, one that existed gets its exact bytes back. This works for every
config shape, unlike passing config through the environment (the CLI rebuilds the program's config from
the stack file, so `PULUMI_CONFIG` cannot carry it).

Consequences, by design:
- `up` rewrites the whole config every run (`set_all_config_json`); all of it is derived from the
  command's arguments, so nothing is lost. The JSON form keeps `dreamscape:review` a real object (with
  `--path` the CLI would guess types, turning an all-digit commit into a number).
- The passphrase salt is also recorded in the stack's state; the CLI (3.133+) falls back to the state's
  secrets manager when the stack file is missing, so later runs and `destroy` still decrypt.
- Because the config file is gone after the run, `up` also records the review metadata as stack tags
  (`dreamscape:review:*`, DIY backends support tags since CLI 3.211); `get_config`, `list` and `gc` read
  those. Minimum Pulumi CLI: 3.211 (the workflows pin a newer one).

Destroy always succeeds even when the shared cluster is gone: destroy runs with
`PULUMI_K8S_DELETE_UNREACHABLE=true` in the workspace environment, so the Kubernetes provider drops
resources of an unreachable cluster from the state instead of failing.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from pulumi import automation as auto

from tools.review import naming
from tools.review.errors import ReviewError
from tools.review.model import ReviewConfig, ReviewInfo, StackSummary, validate_commit
from tools.review.ttl import format_rfc3339, parse_rfc3339

OnOutput = Callable[[str], None]

DEFAULT_SECRETS_PROVIDER = "passphrase"
DELETE_UNREACHABLE_ENV = "PULUMI_K8S_DELETE_UNREACHABLE"
TAG_PR = "dreamscape:review:pr"
TAG_COMMIT = "dreamscape:review:commit"
TAG_EXPIRES_AT = "dreamscape:review:expiresAt"
STACK_FILE_EXTENSIONS = (".yaml", ".yml", ".json")


class ReviewBackend(Protocol):
    """What the review command needs from Pulumi."""

    def up(self, stack: str, config: ReviewConfig, on_output: OnOutput) -> dict[str, Any]:
        """Create or select `stack`, set exactly `config`, deploy, return the stack outputs."""
        ...

    def destroy(self, stack: str, on_output: OnOutput) -> None:
        """Delete every resource of `stack` (a missing stack is not an error)."""
        ...

    def remove(self, stack: str) -> None:
        """Delete the (empty) stack and its history from the backend (a missing stack is not an error)."""
        ...

    def list_stacks(self) -> list[StackSummary]:
        """Every stack of the project in the backend, with last update times."""
        ...

    def get_config(self, stack: str) -> ReviewInfo | None:
        """The review metadata `up` recorded for `stack`, or None when there is none."""
        ...


@dataclass(frozen=True)
class BackendSettings:
    """Where the state lives and how secrets are encrypted."""

    work_dir: Path
    backend_url: str
    secrets_provider: str = DEFAULT_SECRETS_PROVIDER


def resolve_backend_url(work_dir: Path, cli_value: str | None, environ: Mapping[str, str]) -> str:
    """`--backend-url`, else `PULUMI_BACKEND_URL`, else the local file backend `file://<repo>/.pulumi-state`."""
    for candidate in (cli_value, environ.get("PULUMI_BACKEND_URL")):
        if candidate and candidate.strip():
            return candidate.strip()
    return (work_dir.resolve() / ".pulumi-state").as_uri()


def local_state_dir(backend_url: str) -> Path | None:
    """The directory of a `file://` backend (created before use), or None for any other backend."""
    parsed = urlparse(backend_url)
    if parsed.scheme != "file":
        return None
    raw = unquote(parsed.netloc + parsed.path)
    return Path(os.path.expanduser(raw))


def workspace_env(settings: BackendSettings, *, delete_unreachable: bool) -> dict[str, str]:
    """Environment added to every Pulumi command of one operation (the process environment is inherited,
    so the passphrase variables reach the CLI without being copied here)."""
    env = {"PULUMI_BACKEND_URL": settings.backend_url, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    if delete_unreachable:
        env[DELETE_UNREACHABLE_ENV] = "true"
    return env


def check_secrets_available(secrets_provider: str, environ: Mapping[str, str]) -> None:
    """Fail early with a clear message when the passphrase provider has no passphrase to use."""
    if secrets_provider != DEFAULT_SECRETS_PROVIDER:
        return
    if "PULUMI_CONFIG_PASSPHRASE" in environ or environ.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
        return
    raise ReviewError(
        "the passphrase secrets provider needs PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE "
        "(or pass --secrets-provider)"
    )


def config_json(config: ReviewConfig) -> str:
    """The stack config in the format of `pulumi config --json`, for `set_all_config_json`."""
    review = config.review_object()
    document: dict[str, dict[str, Any]] = {
        f"{naming.PROJECT}:imageTag": {"value": config.image_tag, "secret": False},
        f"{naming.PROJECT}:review": {
            "value": json.dumps(review, separators=(",", ":")),
            "objectValue": review,
            "secret": False,
        },
    }
    return json.dumps(document, sort_keys=True)


def review_tags(config: ReviewConfig) -> dict[str, str]:
    """Stack tags that keep the review metadata readable after the stack file is gone."""
    return {
        TAG_PR: str(config.pr),
        TAG_COMMIT: config.commit,
        TAG_EXPIRES_AT: format_rfc3339(config.expires_at),
    }


def review_info_from_tags(tags: Mapping[str, str]) -> ReviewInfo | None:
    """Read back what `review_tags` wrote; malformed values count as unknown, never as an error."""
    if not any(key in tags for key in (TAG_PR, TAG_COMMIT, TAG_EXPIRES_AT)):
        return None

    def attempt(parse: Callable[[str], Any], key: str) -> Any:
        try:
            return parse(tags[key]) if key in tags else None
        except ReviewError:
            return None

    return ReviewInfo(
        pr=attempt(naming.parse_pr_number, TAG_PR),
        commit=attempt(validate_commit, TAG_COMMIT),
        expires_at=attempt(parse_rfc3339, TAG_EXPIRES_AT),
    )


def plain_outputs(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Automation `OutputValue`s to plain values; secret outputs are masked so they are never printed."""
    plain: dict[str, Any] = {}
    for key, output in outputs.items():
        plain[key] = "[secret]" if getattr(output, "secret", False) else getattr(output, "value", output)
    return plain


LOCK_DIR = ".review-locks"
LOCK_TIMEOUT_SECONDS = 900.0


class StackFileGuard:
    """Restore `Pulumi.<stack>.{yaml,yml,json}` in `work_dir` to what they were on entry.

    The snapshot is only right if nobody else touches those files meanwhile, so the guard holds an
    exclusive lock (`flock`) on `<work_dir>/.review-locks/<stack>.lock` from snapshot to restore. The
    lock is per process, so two review commands on the same stack and checkout (a CI retry next to a
    running job, two terminals) take turns instead of restoring each other's half-written stack file.
    The kernel drops the lock when a process dies; the small lock file itself stays (it is git-ignored).
    """

    def __init__(self, work_dir: Path, stack: str, *, timeout: float = LOCK_TIMEOUT_SECONDS) -> None:
        short = naming.short_stack_name(stack)
        self.paths = [work_dir / f"Pulumi.{short}{ext}" for ext in STACK_FILE_EXTENSIONS]
        self.lock_path = work_dir / LOCK_DIR / f"{short}.lock"
        self.timeout = timeout
        self._saved: dict[Path, bytes | None] = {}
        self._lock_fd: int | None = None

    def __enter__(self) -> StackFileGuard:
        self._lock()
        try:
            self._saved = {path: path.read_bytes() if path.exists() else None for path in self.paths}
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            for path, content in self._saved.items():
                if content is None:
                    path.unlink(missing_ok=True)
                else:
                    path.write_bytes(content)
        finally:
            self._unlock()

    def _lock(self) -> None:
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise ReviewError(f"cannot create the lock file {self.lock_path}: {error.strerror}") from None
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise ReviewError(
                        f"another review command is using {self.paths[0].name} in {self.paths[0].parent} "
                        f"(lock {self.lock_path}); try again when it has finished"
                    ) from None
                time.sleep(0.1)
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None


def summarize_command_error(error: BaseException) -> str:
    """The most useful single line of a Pulumi CLI failure (its last `error:` line)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    if errors:
        return errors[-1].removeprefix("error:").strip()
    codes = [line for line in lines if line.startswith("code:")]
    return f"the Pulumi CLI exited with {codes[0]}" if codes else "the Pulumi CLI failed"


@contextmanager
def pulumi_errors(operation: str, stack: str | None = None) -> Iterator[None]:
    """Turn Automation API failures into one-line `ReviewError`s."""
    what = f"pulumi {operation}" + (f" of stack {stack}" if stack else "")
    try:
        yield
    except auto.ConcurrentUpdateError:
        raise ReviewError(f"{what} failed: another update of this stack is in progress") from None
    except auto.CommandError as error:
        raise ReviewError(f"{what} failed: {summarize_command_error(error)}") from None
    except FileNotFoundError as error:
        if error.filename and Path(str(error.filename)).name == "pulumi":
            raise ReviewError(f"{what} failed: the Pulumi CLI ('pulumi') is not on PATH") from None
        raise


class AutomationBackend:
    """`ReviewBackend` on `pulumi.automation` with a `LocalWorkspace` rooted at the repository."""

    def __init__(self, settings: BackendSettings, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.environ = os.environ if environ is None else environ

    # -- construction, unit-tested without the CLI -------------------------------------------------
    def workspace_options(self, *, delete_unreachable: bool = False) -> auto.LocalWorkspaceOptions:
        return auto.LocalWorkspaceOptions(
            work_dir=str(self.settings.work_dir),
            env_vars=workspace_env(self.settings, delete_unreachable=delete_unreachable),
            secrets_provider=self.settings.secrets_provider,
        )

    def _prepare(self) -> None:
        check_secrets_available(self.settings.secrets_provider, self.environ)
        state_dir = local_state_dir(self.settings.backend_url)
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)

    def _workspace(self, *, delete_unreachable: bool = False) -> auto.LocalWorkspace:
        return auto.LocalWorkspace(**vars(self.workspace_options(delete_unreachable=delete_unreachable)))

    # -- ReviewBackend ------------------------------------------------------------------------------
    def up(self, stack: str, config: ReviewConfig, on_output: OnOutput) -> dict[str, Any]:
        naming.validate_stack_name(stack)
        self._prepare()
        with StackFileGuard(self.settings.work_dir, stack), pulumi_errors("up", stack):
            handle = auto.create_or_select_stack(
                stack, work_dir=str(self.settings.work_dir), opts=self.workspace_options()
            )
            handle.set_all_config_json(config_json(config))
            # Tags first, so that even a failed first update leaves an expiry for `gc` to act on.
            for key, value in review_tags(config).items():
                handle.set_tag(key, value)
            result = handle.up(on_output=on_output, message=f"review environment for PR #{config.pr}")
        return plain_outputs(result.outputs)

    def destroy(self, stack: str, on_output: OnOutput) -> None:
        naming.validate_stack_name(stack)
        self._prepare()
        with StackFileGuard(self.settings.work_dir, stack), pulumi_errors("destroy", stack):
            try:
                handle = auto.select_stack(
                    stack,
                    work_dir=str(self.settings.work_dir),
                    opts=self.workspace_options(delete_unreachable=True),
                )
            except auto.StackNotFoundError:
                on_output(f"stack {stack} does not exist; nothing to destroy\n")
                return
            handle.destroy(on_output=on_output, message="review environment teardown")

    def remove(self, stack: str) -> None:
        naming.validate_stack_name(stack)
        self._prepare()
        with StackFileGuard(self.settings.work_dir, stack), pulumi_errors("stack rm", stack):
            try:
                self._workspace(delete_unreachable=True).remove_stack(stack)
            except auto.StackNotFoundError:
                return

    def list_stacks(self) -> list[StackSummary]:
        with pulumi_errors("stack ls"):
            summaries = self._workspace().list_stacks()
        return [
            StackSummary(
                name=naming.short_stack_name(summary.name),
                last_update=summary.last_update,
                resource_count=summary.resource_count,
                update_in_progress=bool(summary.update_in_progress),
            )
            for summary in summaries
        ]

    def get_config(self, stack: str) -> ReviewInfo | None:
        with pulumi_errors("stack tag ls", stack):
            try:
                tags = self._workspace().list_tags(stack)
            except auto.StackNotFoundError:
                return None
        return review_info_from_tags(tags)
