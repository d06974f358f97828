"""A recording fake of `tools.runner.Runner`: answers by the command's first words, records everything."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tools.runner import Command, CommandError


@dataclass
class FakeRunner:
    answers: dict[tuple[str, ...], str] = field(default_factory=dict)
    """Output by argv prefix; the longest matching prefix wins."""
    fail: set[tuple[str, ...]] = field(default_factory=set)
    commands: list[Command] = field(default_factory=list)
    started: list[Command] = field(default_factory=list)
    stopped: int = 0

    def run(self, command: Command) -> str:
        self.commands.append(command)
        if command.stdout is not None:
            command.stdout.write_bytes(b"")  # the real runner opens (creates) the file before the command runs
        if any(command.argv[: len(p)] == p for p in self.fail):
            raise CommandError(f"`{command}` failed (1): boom")
        matches = [p for p in self.answers if command.argv[: len(p)] == p]
        return self.answers[max(matches, key=len)] if matches else ""

    def start(self, command: Command) -> Callable[[], None]:
        self.started.append(command)

        def stop() -> None:
            self.stopped += 1

        return stop

    def argvs(self) -> list[tuple[str, ...]]:
        return [c.argv for c in self.commands]
