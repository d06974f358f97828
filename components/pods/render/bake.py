"""`docker-bake.json`: the build definition (components/pods/build.py) in Docker Bake's JSON form.

Bake reads JSON as HCL's JSON syntax, so `${VAR}` in a string is a variable that the environment or
`--set`/`vars` overrides (https://docs.docker.com/build/bake/reference/). Runtime targets inherit the
empty `docker-metadata-action` target: docker/metadata-action's bake file fills it with the release
labels in the image workflow, and it stays empty everywhere else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from components.config.loader import project_defaults
from components.pods.build import (
    DEFAULT_SOURCE_ROOT,
    DEFAULT_TAG,
    DEV_GROUP,
    REGISTRY,
    RELEASE_GROUP,
    SOURCE_ROOT,
    TAG,
    BuildTarget,
    build_targets,
    dev_image_name,
)
from components.pods.catalog import CATALOG
from components.pods.model import PodDefinition

BAKE_FILE = "docker-bake.json"
METADATA_TARGET = "docker-metadata-action"
"""docker/metadata-action's default `bake-target`."""


def _target(target: BuildTarget) -> dict[str, object]:
    tag = (dev_image_name(target, f"${{{TAG}}}") if target.dev
           else f"${{{REGISTRY}}}/{target.repository}:${{{TAG}}}")
    return {
        **({} if target.dev else {"inherits": [METADATA_TARGET]}),
        "context": f"${{{SOURCE_ROOT}}}",
        "dockerfile": f"cwd://{target.dockerfile}",
        "contexts": {name: str(path) for name, path in sorted(target.contexts.items())},
        "target": target.stage,
        "tags": [tag],
    }


def render_bake(catalog: Iterable[PodDefinition] = CATALOG) -> str:
    targets = build_targets(catalog)
    document = {
        "variable": {
            SOURCE_ROOT: {"default": DEFAULT_SOURCE_ROOT},
            REGISTRY: {"default": str(project_defaults()["registry"])},
            TAG: {"default": DEFAULT_TAG},
        },
        "group": {
            "default": {"targets": [RELEASE_GROUP]},
            RELEASE_GROUP: {"targets": [t.name for t in targets if not t.dev]},
            DEV_GROUP: {"targets": [t.name for t in targets if t.dev]},
        },
        "target": {METADATA_TARGET: {}, **{t.name: _target(t) for t in targets}},
    }
    return json.dumps(document, indent=2) + "\n"
