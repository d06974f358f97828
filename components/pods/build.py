"""The one build definition of the Big Pod images, derived from the catalog.

Every build of a Big Pod, wherever it runs, is one of these targets: the program's dev builds
(pulumi-docker-build, `components/plan.py`), the image workflow (`docker/bake-action`), the live workflow
(`docker buildx bake`) and the review environments (which deploy what the image workflow pushed). They
are rendered into `docker-bake.json` at the repository root, so `docker buildx bake` reads exactly what
the program builds; `tests/release/test_build_definition.py` fails when a workflow or script builds an
image any other way.

Paths are relative to this repository's root, the directory Bake runs from. Bake resolves a target's
`dockerfile` relative to its `context` unless it carries the `cwd://` prefix (buildx 0.12+), and the
context is the application source root (`SOURCE_ROOT`), so the Dockerfile is written `cwd://`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from components import spec
from components.pods.catalog import CATALOG
from components.pods.model import PodDefinition
from components.pods.render.dockerfile import DEV_TARGET, INFRA_CONTEXT, RUNTIME_TARGET, image_dir

SOURCE_ROOT = "SOURCE_ROOT"
"""Bake variable: the application source root (the workspace root, or `reference-app`)."""
REGISTRY = "REGISTRY"
"""Bake variable: where release images are pushed (default: the stacks' `dreamscape:registry`)."""
TAG = "TAG"
"""Bake variable: the image tag (the commit SHA in CI; never `latest`)."""
DEFAULT_SOURCE_ROOT = "reference-app"
"""A fresh clone builds the reference application, as `make up` does without checkouts."""
DEFAULT_TAG = "local"
RELEASE_GROUP = "release"
"""The runtime images: what the image workflow builds, scans, pushes and signs."""
DEV_GROUP = "dev"
"""The dev images: what the dev stack builds from source."""
DEV_SUFFIX = "-dev"


@dataclass(frozen=True, kw_only=True)
class BuildTarget:
    """One image build: a stage of a pod's Dockerfile with its named contexts."""

    name: str
    """Bake target name: `<pod>` (runtime) or `<pod>-dev`."""
    pod: str
    stage: str
    """The Dockerfile stage (`--target`)."""
    dockerfile: PurePosixPath
    """Relative to this repository's root."""
    contexts: Mapping[str, PurePosixPath]
    """Named contexts (`COPY --from=<name>`), relative to this repository's root."""
    repository: str
    """The image name without registry and tag: `dreamscape-<pod>`."""

    @property
    def dev(self) -> bool:
        return self.stage == DEV_TARGET


def pod_targets(pod: PodDefinition) -> tuple[BuildTarget, BuildTarget]:
    """The runtime image (released) and the dev image (built by the dev stack) of one pod."""
    directory = image_dir(pod)
    runtime = BuildTarget(name=pod.name, pod=pod.name, stage=RUNTIME_TARGET, dockerfile=directory / "Dockerfile",
                          contexts={INFRA_CONTEXT: directory}, repository=f"dreamscape-{pod.name}")
    return runtime, replace(runtime, name=f"{pod.name}{DEV_SUFFIX}", stage=DEV_TARGET)


def build_targets(catalog: Iterable[PodDefinition] = CATALOG) -> tuple[BuildTarget, ...]:
    return tuple(target for pod in catalog for target in pod_targets(pod))


def dev_target(pod: PodDefinition) -> BuildTarget:
    return pod_targets(pod)[1]


def dev_image_name(target: BuildTarget, tag: str) -> str:
    """Local tag of a dev build (never pushed, so no registry): `dreamscape-<pod>:<tag>-dev`."""
    return f"{target.repository}:{tag}{DEV_SUFFIX}"


def image_build(target: BuildTarget, *, repo_root: Path, source_root: Path, tag: str) -> spec.ImageBuild:
    """The target as the program's Docker target builds it (pulumi-docker-build): the same Dockerfile,
    stage and named contexts as `docker buildx bake <target>`, with absolute paths."""
    return spec.ImageBuild(
        name=dev_image_name(target, tag),
        context=str(source_root),
        dockerfile=str(repo_root / target.dockerfile),
        target=target.stage,
        named_contexts={name: str(repo_root / path) for name, path in sorted(target.contexts.items())},
    )
