"""Reset levels of a Docker (dev) stack: `python -m tools.reset soft|hard|nuclear [--stack dev]`.

- soft:    restart every running container of the stack (`docker restart`); all data is kept.
- hard:    `pulumi destroy` of the stack (scripts/pulumi.sh); named volumes are kept (retain_on_delete),
           so the next `make up` finds the data again.
- nuclear: hard, then remove every Docker volume labelled `dreamscape.io/stack=<stack>`: ALL data of
           that stack is gone. Asks you to type the stack name, or takes `--yes-destroy-all-data` (CI).

Only the stack's own containers and volumes are touched: they are found by the label the Docker target
puts on everything it creates, and each volume's label is checked again before it is removed.
Kubernetes stacks are refused: prod data is protected and review stacks have `tools.review destroy`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from tools.runner import Command, CommandError, Runner, SubprocessRunner, lines

STACK_LABEL = "dreamscape.io/stack"
ROOT = Path(__file__).resolve().parents[1]
LEVELS = ("soft", "hard", "nuclear")


class ResetError(RuntimeError):
    pass


def stack_target(stack: str, root: Path = ROOT) -> str:
    """The stack's target from its stack file (Pulumi.yaml's default is kubernetes)."""
    path = root / f"Pulumi.{stack}.yaml"
    config = (yaml.safe_load(path.read_text()) or {}).get("config", {}) if path.exists() else {}
    return str(config.get("dreamscape:target", "kubernetes"))


@dataclass
class Reset:
    runner: Runner
    out: Callable[[str], None] = print

    def soft(self, stack: str) -> list[str]:
        ids = lines(self.runner.run(Command(
            ("docker", "ps", "--quiet", "--filter", f"label={STACK_LABEL}={stack}"))))
        if not ids:
            self.out(f"no running containers of stack {stack!r}; nothing to restart")
            return []
        self.runner.run(Command(("docker", "restart", *ids)))
        self.out(f"restarted {len(ids)} containers of stack {stack!r}; data kept")
        return ids

    def hard(self, stack: str) -> None:
        self.runner.run(Command((str(ROOT / "scripts" / "pulumi.sh"), "destroy", stack)))
        self.out(f"stack {stack!r} destroyed; its volumes are kept (`make up` finds the data again)")

    def stack_volumes(self, stack: str) -> list[str]:
        listing = self.runner.run(Command((
            "docker", "volume", "ls", "--filter", f"label={STACK_LABEL}={stack}",
            "--format", f'{{{{.Name}}}}\t{{{{.Label "{STACK_LABEL}"}}}}')))
        volumes = []
        for line in lines(listing):
            name, _, label = line.partition("\t")
            if label == stack:  # belt and braces: never another stack's volume
                volumes.append(name)
        return volumes

    def nuclear(self, stack: str, confirm: Callable[[str], str] | None, assume_yes: bool) -> list[str]:
        if not assume_yes:
            answer = confirm(f"This deletes ALL data of stack {stack!r} (every volume labelled "
                             f"{STACK_LABEL}={stack}). Type the stack name to confirm: ") if confirm else ""
            if answer.strip() != stack:
                raise ResetError(f"nuclear reset of {stack!r} not confirmed; nothing was changed")
        self.hard(stack)
        volumes = self.stack_volumes(stack)
        if volumes:
            self.runner.run(Command(("docker", "volume", "rm", *volumes)))
        self.out(f"removed {len(volumes)} volumes of stack {stack!r}: {', '.join(volumes) or '-'}")
        return volumes


def main(argv: Sequence[str] | None = None, runner: Runner | None = None,
         confirm: Callable[[str], str] | None = input, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.reset", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("level", choices=LEVELS)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--yes-destroy-all-data", action="store_true",
                        help="skip the typed confirmation of the nuclear reset (CI)")
    args = parser.parse_args(argv)
    reset = Reset(runner or SubprocessRunner())
    try:
        if stack_target(args.stack, root) != "docker":
            raise ResetError(f"stack {args.stack!r} does not target Docker; resets are for dev stacks")
        if args.level == "soft":
            reset.soft(args.stack)
        elif args.level == "hard":
            reset.hard(args.stack)
        else:
            reset.nuclear(args.stack, None if not sys.stdin.isatty() and confirm is input else confirm,
                          args.yes_destroy_all_data)
    except (ResetError, CommandError, OSError, yaml.YAMLError) as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
