"""The seam between the command-line helpers and the processes they start (docker, kubectl, mc, pulumi).

Tools build `Command`s and hand them to a `Runner`; tests pass a recording fake, so the logic is checked
without a daemon, a cluster or the Pulumi CLI.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class CommandError(RuntimeError):
    """A command failed; the message names it and carries its stderr."""


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    stdin: Path | None = None
    """Feed this file to the command (e.g. a dump to pg_restore)."""
    stdout: Path | None = None
    """Write the command's output to this file (e.g. pg_dump's dump) instead of returning it."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment variables (never printed)."""

    def __str__(self) -> str:
        text = " ".join(self.argv)
        if self.stdin:
            text += f" < {self.stdin}"
        if self.stdout:
            text += f" > {self.stdout}"
        return text


class Runner(Protocol):
    def run(self, command: Command) -> str:
        """Run to completion; return stdout (empty when redirected); raise CommandError on failure."""
        ...

    def start(self, command: Command) -> Callable[[], None]:
        """Start in the background (a port-forward); return a function that stops it."""
        ...


class SubprocessRunner:
    """The real runner."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = dict(environ if environ is not None else os.environ)

    def run(self, command: Command) -> str:
        stdin = stdout = None
        try:
            stdin = command.stdin.open("rb") if command.stdin else None
            stdout = command.stdout.open("wb") if command.stdout else None
            result = subprocess.run(list(command.argv), stdin=stdin, stdout=stdout or subprocess.PIPE,
                                    stderr=subprocess.PIPE, env={**self._environ, **command.env}, check=False)
        except OSError as error:
            raise _os_error(command, error) from None
        finally:
            for handle in (stdin, stdout):
                if handle:
                    handle.close()
        if result.returncode != 0:
            raise CommandError(f"`{command}` failed ({result.returncode}): "
                               f"{result.stderr.decode(errors='replace').strip()}")
        return "" if stdout else result.stdout.decode()

    def start(self, command: Command) -> Callable[[], None]:
        try:
            process = subprocess.Popen(list(command.argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       env={**self._environ, **command.env})
        except OSError as error:
            raise _os_error(command, error) from None

        def stop() -> None:
            process.terminate()
            process.wait(timeout=10)

        return stop


def _os_error(command: Command, error: OSError) -> CommandError:
    """A missing program or an unusable file, as the one-line error every tool prints (no traceback)."""
    if isinstance(error, FileNotFoundError) and error.filename in (command.argv[0], None):
        return CommandError(f"`{command.argv[0]}` is not installed or not on PATH (needed for `{command}`)")
    return CommandError(f"`{command}` cannot run: {error.strerror or error}"
                        + (f": {error.filename}" if error.filename else ""))


def lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip()]

