"""Build-context bytes per Big Pod: before (the whole workspace, the old dockerignore) and after (the
pod's own service sources plus the `infra` named context). A benchmark, not a test: it measures this
machine's files.

    venv/bin/python scripts/context_bench.py [--workspace DIR]

Without --workspace it measures the seed's layout as a developer has it: this repository (with its
venv, .venv-checkov, .pulumi-state and backups, whatever exists here) beside the service sources, here
the reference application (with node_modules if `npm ci` ran in it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.pods.catalog import CATALOG
from components.pods.render.files import REPO_ROOT
from tools.build_context import context_files, parse

OLD_DOCKERIGNORE = """\
**/node_modules
**/dist
**/build
**/coverage
**/.git
**/.env
**/.env.*
**/*.log
"""
"""The rules before: the context was the whole workspace root, this repository included."""
GROUPS = ("dreamscape-services", "dreamscape-frontend")


def _bytes(root: Path, rules: str, prefix: str = "") -> tuple[int, int]:
    sizes = [size for _, size in context_files(root, parse(rules), prefix)]
    return len(sizes), sum(sizes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", type=Path, help="a real workspace root (default: repository + reference-app)")
    args = parser.parse_args(argv)
    sources = args.workspace or REPO_ROOT / "reference-app"
    if args.workspace:
        before_files, before = _bytes(args.workspace, OLD_DOCKERIGNORE)
    else:
        repo_files, repo = _bytes(REPO_ROOT, OLD_DOCKERIGNORE, "dreamscape-infra")
        app = [_bytes(sources / group, OLD_DOCKERIGNORE, group) for group in GROUPS if (sources / group).is_dir()]
        before_files, before = repo_files + sum(f for f, _ in app), repo + sum(b for _, b in app)
    print(f"{'pod':<12}{'before (bytes)':>16}{'files':>9}{'after (bytes)':>16}{'files':>9}{'ratio':>10}")
    for pod in CATALOG:
        ignore = (REPO_ROOT / "images" / pod.name / "Dockerfile.dockerignore").read_text(encoding="utf-8")
        main_files, main_bytes = _bytes(sources, ignore)
        named_files, named_bytes = _bytes(REPO_ROOT / "images" / pod.name, "")
        after, files = main_bytes + named_bytes, main_files + named_files
        print(f"{pod.name:<12}{before:>16,}{before_files:>9,}{after:>16,}{files:>9,}{before / max(after, 1):>9,.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
