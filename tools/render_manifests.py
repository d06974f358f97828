"""Write the Kubernetes objects of the prod and a review stack as YAML, for scanners (checkov, kubeconform).

    python -m tools.render_manifests OUT_DIR [--stack prod] [--stack review-42]

The objects come from the mock evaluation of the real program (tests/harness.py, no cluster and no
Pulumi CLI needed). Every Secret's `data`/`stringData` value is replaced by a placeholder, and the run
fails if any generated secret value would still reach a file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from components.config import ConfigError
from components.config.loader import stack_name_problems
from tests.harness import Evaluation, evaluate
from tests.kube import kube_objects, manifest
from tools.stack_guard import StackGuardError, inside

PLACEHOLDER = "REDACTED"
REVIEW_OVERRIDES: dict[str, Any] = {
    "imageTag": "pr-42-abc1234",
    "review": {"pr": 42, "commit": "abc1234", "expiresAt": "2030-01-01T00:00:00Z"},
}
DEFAULT_STACKS = ("prod", "review-42")


def redact(obj: dict[str, Any]) -> dict[str, Any]:
    if obj.get("kind") == "Secret":
        for key in ("data", "stringData"):
            if key in obj:
                obj[key] = {name: PLACEHOLDER for name in obj[key]}
    return obj


def stack_manifests(evaluation: Evaluation) -> list[dict[str, Any]]:
    return [redact(manifest(r)) for r in kube_objects(evaluation)]


def render(stack: str, out: Path) -> list[Path]:
    evaluation = evaluate(stack, REVIEW_OVERRIDES if stack.startswith("review-") else None)
    directory = inside(out, Path(stack))
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for obj in stack_manifests(evaluation):
        text = yaml.safe_dump(obj, sort_keys=False)
        leaked = [s for s in evaluation.generated_secrets if s in text]
        if leaked:
            name = f"{obj['kind']}/{obj['metadata']['name']}"
            raise SystemExit(f"refusing to write {name}: it holds a secret value")
        path = inside(directory, Path(f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"))
        path.write_text(text)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="output directory (one sub-directory per stack)")
    parser.add_argument("--stack", action="append", help="stack to render (default: prod and review-42)")
    args = parser.parse_args(argv)
    for stack in args.stack or DEFAULT_STACKS:
        problems = stack_name_problems(stack)
        if problems:
            print(f"error: stack {stack!r}: {problems[0]}", file=sys.stderr)
            return 2
        try:
            written = render(stack, args.out)
        except (ConfigError, StackGuardError, OSError) as error:
            print(f"error: {stack}: {' '.join(str(error).split())}", file=sys.stderr)
            return 1
        print(f"{stack}: {len(written)} objects in {args.out / stack}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
