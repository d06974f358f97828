"""One build definition: docker-bake.json (rendered from the catalog) describes every Big Pod image, the
program's dev builds are its dev targets, every workflow builds through it, and nothing builds an image
any other way."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.pods.build import RELEASE_GROUP, build_targets
from components.pods.catalog import CATALOG
from components.pods.render.bake import BAKE_FILE
from tests.harness import ROOT, TEST_WORKSPACE, Evaluation

WORKFLOWS = ROOT / ".github" / "workflows"
BAKE_ACTION = "docker/bake-action"
OTHER_BUILDS = {
    "docker build": re.compile(r"\bdocker\s+(?:image\s+)?build\b"),
    "docker buildx build": re.compile(r"\bdocker\s+buildx\s+build\b"),
    "docker/build-push-action": re.compile(r"docker/build-push-action"),
    "buildah build/bud": re.compile(r"\bbuildah\s+(?:build|bud)\b"),
    "podman build": re.compile(r"\bpodman\s+(?:image\s+)?build\b"),
    "kaniko": re.compile(r"\bkaniko\b", re.IGNORECASE),
    "a second pulumi-docker-build Image": re.compile(r"\bdocker_build\.Image\("),
}
"""Ways to build an image that bypass docker-bake.json."""
THE_PROGRAMS_BUILD = ROOT / "components" / "targets" / "docker" / "platform.py"
"""The one pulumi-docker-build Image: it receives the bake file's dev targets (tested below)."""


def bake() -> dict[str, Any]:
    data = json.loads((ROOT / BAKE_FILE).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def build_files() -> list[Path]:
    """Everything that runs in CI or on a developer's machine and could build an image."""
    files = [*WORKFLOWS.glob("*.yml"), *(ROOT / ".github" / "scripts").glob("*"), *(ROOT / "scripts").glob("*"),
             ROOT / "Makefile", ROOT / ".ci" / "run", *(ROOT / "tools").rglob("*.py"),
             *(ROOT / "components").rglob("*.py"), ROOT / "__main__.py"]
    return sorted(path for path in files if path.is_file())


def other_builds(text: str) -> list[str]:
    return [name for name, pattern in OTHER_BUILDS.items() if pattern.search(text)]


@pytest.mark.parametrize("line", [
    "docker build -t x .", "docker buildx build --load -f images/core/Dockerfile reference-app",
    "uses: docker/build-push-action@abc", "buildah bud -f Dockerfile .", "podman build .",
    "image = docker_build.Image(", "docker image build .",
])
def test_the_scan_recognises_each_other_way_to_build(line: str) -> None:
    assert other_builds(line), f"the scan below would miss {line!r}"


def test_the_scan_accepts_bake() -> None:
    assert other_builds("docker buildx bake --load release\nuses: docker/bake-action@abc") == [], "bake is the way"


@pytest.mark.parametrize("path", build_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_workflow_or_script_builds_an_image_except_through_the_bake_file(path: Path) -> None:
    found = other_builds(path.read_text(encoding="utf-8"))
    if path == THE_PROGRAMS_BUILD:
        found.remove("a second pulumi-docker-build Image")
    assert found == [], f"{path.relative_to(ROOT)} builds an image around docker-bake.json: {found}"


def test_the_bake_file_has_a_runtime_and_a_dev_target_per_pod_and_releases_every_pod() -> None:
    data = bake()
    expected = {target.name for target in build_targets()}
    assert expected <= set(data["target"]), f"every pod's targets are in {BAKE_FILE}: {sorted(expected)}"
    assert data["group"][RELEASE_GROUP]["targets"] == [pod.name for pod in CATALOG], "every pod is released"


def _stages(dockerfile: str) -> set[str]:
    return set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", dockerfile, flags=re.MULTILINE | re.IGNORECASE))


def test_every_copy_from_outside_the_dockerfile_is_a_named_context_of_each_target() -> None:
    """A target that forgot a named context fails here, before any builder does."""
    for name, target in bake()["target"].items():
        if "dockerfile" not in target:
            continue
        dockerfile = (ROOT / target["dockerfile"].removeprefix("cwd://")).read_text(encoding="utf-8")
        sources = set(re.findall(r"^COPY\s+--from=(\S+)", dockerfile, flags=re.MULTILINE)) - _stages(dockerfile)
        assert sources and sources <= set(target["contexts"]), (
            f"{name}: `COPY --from` {sorted(sources)} but named contexts {sorted(target['contexts'])}"
        )
        for context in target["contexts"].values():
            assert (ROOT / context).is_dir(), f"{name}: named context {context} is a directory of this repository"


def test_the_programs_dev_builds_are_the_bake_files_dev_targets(dev: Evaluation) -> None:
    targets = bake()["target"]
    for pod in CATALOG:
        build = dev.named("docker-build:index:Image", f"{pod.hostname}-build").inputs
        target = targets[f"{pod.name}-dev"]
        assert target["context"] == "${SOURCE_ROOT}" and build["context"]["location"] == str(TEST_WORKSPACE), (
            f"{pod.name}: both build from the application source root"
        )
        assert build["dockerfile"]["location"] == str(ROOT / target["dockerfile"].removeprefix("cwd://")), pod.name
        assert build["target"] == target["target"], f"{pod.name}: the same stage"
        named = {name: context["location"] for name, context in build["context"]["named"].items()}
        assert named == {name: str(ROOT / path) for name, path in target["contexts"].items()}, (
            f"{pod.name}: the same named contexts"
        )
        assert [tag.replace("${TAG}", "0.1.0") for tag in target["tags"]] == build["tags"], f"{pod.name}: same tag"


def _workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_image_workflow_bakes_each_release_target_from_the_bake_file() -> None:
    job = _workflow("images.yml")["jobs"]["image"]
    assert job["strategy"]["matrix"]["target"] == "${{ fromJSON(needs.targets.outputs.release) }}", (
        "the matrix is the bake file's release group, not a second list"
    )
    listing = "\n".join(str(s.get("run", "")) for s in _workflow("images.yml")["jobs"]["targets"]["steps"])
    assert f"docker buildx bake --print {RELEASE_GROUP}" in listing, "the release group is read from the bake file"
    bakes = [step for step in job["steps"] if str(step.get("uses", "")).startswith(BAKE_ACTION)]
    assert len(bakes) == 2, "the scanned build and the pushed build both bake"
    for step in bakes:
        assert f"./{BAKE_FILE}" in step["with"]["files"], f"{step['name']} reads {BAKE_FILE}"
        assert step["with"]["targets"] == "${{ matrix.target }}", f"{step['name']} builds the matrix target"
        assert step["with"]["source"] == "${{ env.SOURCE }}", "a local bake definition (this checkout)"
        assert step["env"]["SOURCE_ROOT"] == "..", "on the workspace root, beside this checkout"


def test_the_live_workflow_bakes_the_release_group_on_the_reference_application() -> None:
    review = _workflow("live.yml")["jobs"]["review"]
    step = next(s for s in review["steps"] if "docker-bake.json" in str(s.get("name", "")))
    assert f"docker buildx bake --load {RELEASE_GROUP}" in step["run"], "the same targets as the image workflow"
    assert step["env"]["SOURCE_ROOT"] == "reference-app", "on the reference application's sources"


def test_review_environments_deploy_only_after_the_image_workflow_pushed_their_images() -> None:
    jobs = _workflow("review-env.yml")["jobs"]
    assert jobs["images"]["uses"] == "./.github/workflows/images.yml", "built through the bake file"
    assert jobs["deploy"]["needs"] == "images", "no `up` before the PR head's images exist"
