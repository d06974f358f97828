"""Where the dev stack builds the Big Pods from: the service checkouts or the reference application.

`dreamscape:application` picks the source: `checkouts` (the service repositories under
`dreamscape:workspaceRoot`), `reference` (reference-app/ in this repository, which implements the
application contract for every catalog service) or `auto`: the checkouts when any of them is present,
else the reference application, announced by one notice that says how to switch.

Whatever the choice, every service directory is checked before anything is created: it exists and
holds a package.json whose `scripts.dev` is set (docs/application-contract.md). An empty or half-cloned
checkout stops the run here, not in the middle of an image build.

Provider-free: imported by the config loader (validation) and by the environment (the build root).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from components.config.loader import ROOT, ConfigError, workspace_path
from components.config.model import Application, StackConfig
from components.pods.catalog import CATALOG
from components.pods.model import Infra, PodDefinition, all_services

REFERENCE_ROOT = ROOT / "reference-app"
"""The reference application: the same directory layout as the workspace."""


@dataclass(frozen=True, kw_only=True)
class SourceChoice:
    """The application source root to build and mount from, and what to tell the user about it."""

    root: Path
    application: Application
    """CHECKOUTS or REFERENCE: what `auto` resolved to."""
    notice: str | None = None
    """Printed once by the program (pulumi.log.warn) when the choice was not explicit."""


def contract_problems(root: Path, catalog: Iterable[PodDefinition] = CATALOG) -> list[str]:
    """What the application contract's build-time checks find wrong under `root`, one line per service."""
    problems = []
    for pod, service in all_services(catalog):
        directory = root / str(service.source)
        where = f"{pod.name}/{service.name}: {directory}"
        manifest = directory / "package.json"
        if not directory.is_dir():
            problems.append(f"  - {where} is missing")
        elif not manifest.is_file():
            problems.append(f"  - {where} has no package.json (an empty or incomplete checkout?)")
        else:
            try:
                package = json.loads(manifest.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                problems.append(f"  - {where}/package.json is not valid JSON ({error})")
                continue
            scripts = package.get("scripts") if isinstance(package, dict) else None
            if not isinstance(scripts, dict) or not isinstance(scripts.get("dev"), str) or not scripts["dev"]:
                problems.append(f"  - {where}/package.json has no `dev` script (the pod runs `npm run dev`)")
            elif Infra.POSTGRES in service.needs and not (
                isinstance(scripts.get("migrate"), str) and scripts["migrate"]
            ):
                problems.append(f"  - {where}/package.json has no `migrate` script (the service has a database: "
                                "`npm run migrate` runs before its pod starts or rolls)")
    return problems


def _present(root: Path, catalog: Iterable[PodDefinition]) -> list[Path]:
    sources = (root / str(service.source) for _, service in all_services(catalog))
    return [source for source in sources if source.exists()]


def choose_source(stack: str, config: StackConfig, catalog: Iterable[PodDefinition] | None = None,
                  reference_root: Path = REFERENCE_ROOT) -> SourceChoice:
    """The source root for `stack`, or a ConfigError naming every problem (nothing is created then).
    The catalog is read when called (not bound at import), so the check covers exactly the pods built."""
    catalog = tuple(CATALOG if catalog is None else catalog)
    checkouts = workspace_path(config)
    setting = f"dreamscape:application = {config.application.value!r}"
    if config.application is Application.REFERENCE:
        choice = SourceChoice(root=reference_root, application=Application.REFERENCE)
    elif config.application is Application.AUTO and not _present(checkouts, catalog):
        choice = SourceChoice(root=reference_root, application=Application.REFERENCE, notice=(
            f"No service checkouts under {checkouts} (dreamscape:workspaceRoot = {config.workspace_root!r}): "
            f"building the Big Pods from the reference application in {reference_root} "
            "(see docs/application-contract.md). To use your services, clone dreamscape-services/ and "
            "dreamscape-frontend/ into that directory or point at them with "
            f"`pulumi config set workspaceRoot <dir> --stack {stack}`; to make the choice explicit, "
            f"`pulumi config set application checkouts --stack {stack}` (or `reference`)."
        ))
    else:
        choice = SourceChoice(root=checkouts, application=Application.CHECKOUTS)
    problems = contract_problems(choice.root, catalog)
    if problems:
        if choice.application is Application.REFERENCE:
            hint = ("The reference application is part of this repository: restore it with "
                    "`git checkout -- reference-app`.")
        else:
            hint = (
                "Clone dreamscape-services/ and dreamscape-frontend/ there (each service needs package.json "
                "with a `dev` script, see docs/application-contract.md), point the stack at your checkout with "
                f"`pulumi config set workspaceRoot <dir> --stack {stack}`, or build the reference application "
                f"instead: `pulumi config set application reference --stack {stack}`."
            )
        raise ConfigError("\n".join([
            f"The application sources of stack '{stack}' do not meet the application contract "
            f"({setting}, workspaceRoot {config.workspace_root!r} -> {choice.root}). Nothing was changed.",
            *problems,
            hint,
        ]))
    return choice
