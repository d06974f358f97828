"""Checks every command-line helper makes before it touches a stack: the right kind of stack, and
output files that stay where they belong.

A tool for the dev stack (Docker) must never act on prod, and a tool for Kubernetes stacks must never act
on dev: each asks `require_target` with the target it is written for. The stack name is checked with the
loader's rule (it becomes a container name, a namespace and part of file names), and each output path
must resolve inside its folder (`inside`), so neither a stack name nor a file argument with `..` or an
absolute path writes elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from components.config.loader import file_values, stack_name_problems


class StackGuardError(RuntimeError):
    """The stack or a path is not one this tool may act on; the message is one line."""


def stack_target(stack: str) -> str:
    """The target the stack's files configure (`docker` or `kubernetes`), or a StackGuardError."""
    problems = stack_name_problems(stack)
    if problems:
        raise StackGuardError(f"stack {stack!r}: {problems[0]}")
    try:
        return str(file_values(stack).get("target"))
    except (OSError, ValueError) as error:
        raise StackGuardError(f"cannot read the configuration of stack {stack!r}: {error}") from None


def require_target(stack: str, target: str, purpose: str) -> None:
    """Refuse a stack whose target is not `target`, naming what the tool is for."""
    actual = stack_target(stack)
    if actual != target:
        raise StackGuardError(f"stack {stack!r} targets {actual}; {purpose}")


def inside(folder: Path, path: Path) -> Path:
    """`path` (relative paths are taken under `folder`) if it resolves inside `folder`; else an error."""
    base = folder.resolve()
    resolved = (base / path).resolve()
    if resolved != base and base not in resolved.parents:
        raise StackGuardError(f"{path} is outside {folder}; give a path inside it")
    return resolved
