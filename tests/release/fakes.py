"""A recording fake of `ReleaseBackend` for driving the release CLI without Pulumi."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tools.release.backend import BackendSettings, OnOutput
from tools.release.errors import ReleaseError


@dataclass
class FakeReleaseBackend:
    tags: dict[str, str] = field(default_factory=dict)
    fail_deploy: str | None = None
    calls: list[tuple[str, ...]] = field(default_factory=list)
    settings: BackendSettings | None = None

    def factory(self, settings: BackendSettings) -> FakeReleaseBackend:
        self.settings = settings
        return self

    def read_tags(self, stack: str) -> dict[str, str]:
        self.calls.append(("read_tags", stack))
        return dict(self.tags)

    def write_tags(self, stack: str, tags: Mapping[str, str]) -> None:
        self.calls.append(("write_tags", stack, *sorted(f"{k}={v}" for k, v in tags.items())))
        self.tags.update(tags)

    def deploy(self, stack: str, image_tag: str, on_output: OnOutput) -> None:
        self.calls.append(("deploy", stack, image_tag))
        on_output("Updating (fake)\n")
        if self.fail_deploy:
            raise ReleaseError(f"pulumi up of stack {stack} failed: {self.fail_deploy}")

    def deploy_canary(self, stack: str, stable_tag: str, canaries: Mapping[str, str], on_output: OnOutput) -> None:
        self.calls.append(("deploy_canary", stack, stable_tag, *sorted(f"{k}={v}" for k, v in canaries.items())))
        on_output("Updating (fake canary)\n")
        if self.fail_deploy:
            raise ReleaseError(f"pulumi up of stack {stack} failed: {self.fail_deploy}")
