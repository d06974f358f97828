"""The seam between the release command and Pulumi.

`ReleaseBackend` is what the CLI needs; `AutomationBackend` implements it on the Pulumi Automation API
(`pulumi.automation`, which drives the Pulumi CLI). This is the only module of tools/release that imports
`pulumi.automation`; tests drive the CLI with a fake backend and check this one against recording fakes of
the Automation API entry points.

A deploy sets `dreamscape:imageTag` and runs `up` with the policy pack inside `StackFileGuard`, so the
tracked `Pulumi.<stack>.yaml` (and its committed encryption salt) is left byte for byte as it was: which
release runs is recorded in the stack's tags (tools/release/model.py), not in the checkout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pulumi import automation as auto

from tools.release.errors import ReleaseError
from tools.review.backend import StackFileGuard, summarize_command_error

OnOutput = Callable[[str], None]
IMAGE_TAG_KEY = "dreamscape:imageTag"
CANARY_IMAGES_KEY = "dreamscape:canary.images"
"""Big Pod -> canary tag (components/config/model.py `CanaryConfig.images`), set with `--path`."""
POLICY_PACK = "policy"


class ReleaseBackend(Protocol):
    """What the release command needs from Pulumi."""

    def read_tags(self, stack: str) -> dict[str, str]:
        """The stack's tags (a missing stack is an error: releases never create stacks)."""
        ...

    def write_tags(self, stack: str, tags: Mapping[str, str]) -> None:
        """Set these tags on the stack, leaving the others alone."""
        ...

    def deploy(self, stack: str, image_tag: str, on_output: OnOutput) -> None:
        """Update `stack` to run `image_tag`, with the policy pack; raise ReleaseError when it fails."""
        ...

    def deploy_canary(self, stack: str, stable_tag: str, canaries: Mapping[str, str], on_output: OnOutput) -> None:
        """Update `stack` to run `stable_tag` with a canary of each pod in `canaries` (pod -> tag), with the
        policy pack; raise ReleaseError when it fails. The next `deploy` runs without canaries."""
        ...


@dataclass(frozen=True, kw_only=True)
class BackendSettings:
    """Where the program and the shared state are."""

    work_dir: Path
    backend_url: str


def resolve_backend_url(cli_value: str | None, environ: Mapping[str, str], *, allow_local: bool) -> str:
    """`--backend-url`, else `PULUMI_BACKEND_URL`. Releases are for shared stacks, so the local file
    backend (a laptop's private copy of the state) is refused unless explicitly allowed."""
    url = next((c.strip() for c in (cli_value, environ.get("PULUMI_BACKEND_URL")) if c and c.strip()), "")
    if not url:
        raise ReleaseError("no state backend: set PULUMI_BACKEND_URL to the shared backend (docs/state.md)")
    if url.startswith("file://") and not allow_local:
        raise ReleaseError(f"{url} is a local file backend; releases act on the shared state "
                           "(pass --allow-local-backend to use it on purpose)")
    return url


def summarize(error: BaseException) -> str:
    """The last `error:` line of a CLI failure, also when it is the first line of stderr (which the
    Automation API prints as `stderr: error: ...`)."""
    lines = [line.strip().removeprefix("stderr:").strip() for line in str(error).splitlines()]
    return summarize_command_error(Exception("\n".join(lines)))


@contextmanager
def pulumi_errors(operation: str, stack: str) -> Iterator[None]:
    """Turn Automation API failures into one-line `ReleaseError`s."""
    what = f"pulumi {operation} of stack {stack}"
    try:
        yield
    except auto.StackNotFoundError:
        raise ReleaseError(f"{what} failed: the stack does not exist in this backend") from None
    except auto.ConcurrentUpdateError:
        raise ReleaseError(f"{what} failed: another update of this stack is in progress") from None
    except auto.CommandError as error:
        raise ReleaseError(f"{what} failed: {summarize(error)}") from None
    except FileNotFoundError as error:
        if error.filename and Path(str(error.filename)).name == "pulumi":
            raise ReleaseError(f"{what} failed: the Pulumi CLI ('pulumi') is not on PATH") from None
        raise


class AutomationBackend:
    """`ReleaseBackend` on `pulumi.automation` with a `LocalWorkspace` rooted at the repository."""

    def __init__(self, settings: BackendSettings) -> None:
        self.settings = settings

    def workspace_options(self) -> auto.LocalWorkspaceOptions:
        # The process environment (passphrase or KMS credentials) is inherited by the CLI.
        env = {"PULUMI_BACKEND_URL": self.settings.backend_url, "PULUMI_SKIP_UPDATE_CHECK": "true"}
        return auto.LocalWorkspaceOptions(work_dir=str(self.settings.work_dir), env_vars=env)

    def _select(self, stack: str) -> auto.Stack:
        return auto.select_stack(stack, work_dir=str(self.settings.work_dir), opts=self.workspace_options())

    def read_tags(self, stack: str) -> dict[str, str]:
        with pulumi_errors("stack tag ls", stack):
            workspace = auto.LocalWorkspace(**vars(self.workspace_options()))
            return dict(workspace.list_tags(stack))

    def write_tags(self, stack: str, tags: Mapping[str, str]) -> None:
        with StackFileGuard(self.settings.work_dir, stack), pulumi_errors("stack tag set", stack):
            handle = self._select(stack)
            for key, value in tags.items():
                handle.set_tag(key, value)

    def deploy(self, stack: str, image_tag: str, on_output: OnOutput) -> None:
        policy = self.settings.work_dir / POLICY_PACK
        with StackFileGuard(self.settings.work_dir, stack), pulumi_errors("up", stack):
            handle = self._select(stack)
            handle.set_config(IMAGE_TAG_KEY, auto.ConfigValue(value=image_tag))
            handle.up(on_output=on_output, policy_packs=[str(policy)], message=f"release {image_tag}")

    def deploy_canary(self, stack: str, stable_tag: str, canaries: Mapping[str, str], on_output: OnOutput) -> None:
        policy = self.settings.work_dir / POLICY_PACK
        described = ", ".join(f"{pod} {tag}" for pod, tag in sorted(canaries.items()))
        # The guard restores the stack file, so the canary keys live for this update only: the next
        # `deploy` (promotion or rollback) runs without a canary.
        with StackFileGuard(self.settings.work_dir, stack), pulumi_errors("up", stack):
            handle = self._select(stack)
            handle.set_config(IMAGE_TAG_KEY, auto.ConfigValue(value=stable_tag))
            for pod, tag in sorted(canaries.items()):
                handle.set_config(f"{CANARY_IMAGES_KEY}.{pod}", auto.ConfigValue(value=tag), path=True)
            handle.up(on_output=on_output, policy_packs=[str(policy)],
                      message=f"release {stable_tag} with canary {described}")


