"""A recording fake of `ReviewBackend` for driving the CLI without Pulumi."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.review.backend import BackendSettings, OnOutput
from tools.review.errors import ReviewError
from tools.review.model import ReviewConfig, ReviewInfo, StackSummary


@dataclass
class FakeBackend:
    stacks: list[StackSummary] = field(default_factory=list)
    info: dict[str, ReviewInfo] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    fail_destroy: set[str] = field(default_factory=set)
    calls: list[tuple[str, ...]] = field(default_factory=list)
    configs: dict[str, ReviewConfig] = field(default_factory=dict)
    settings: BackendSettings | None = None

    def factory(self, settings: BackendSettings) -> FakeBackend:
        self.settings = settings
        return self

    def up(self, stack: str, config: ReviewConfig, on_output: OnOutput) -> dict[str, Any]:
        self.calls.append(("up", stack))
        self.configs[stack] = config
        on_output("Updating (fake)\n")
        return self.outputs

    def destroy(self, stack: str, on_output: OnOutput) -> None:
        self.calls.append(("destroy", stack))
        if stack in self.fail_destroy:
            raise ReviewError(f"pulumi destroy of stack {stack} failed: boom")
        on_output("Destroying (fake)\n")

    def remove(self, stack: str) -> None:
        self.calls.append(("remove", stack))

    def list_stacks(self) -> list[StackSummary]:
        self.calls.append(("list_stacks",))
        return list(self.stacks)

    def get_config(self, stack: str) -> ReviewInfo | None:
        return self.info.get(stack)
