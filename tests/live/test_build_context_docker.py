"""The build-context calculator agrees with a real Docker daemon: each pod's dockerignore rules applied
to the seed's workspace, sent by the Docker CLI, copied into a `FROM scratch` image (no image pull) and
listed back. Needs a reachable Docker daemon; skips without one."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from components.pods.catalog import CATALOG
from components.pods.model import PodDefinition
from components.pods.render.files import REPO_ROOT
from tests.pods.test_build_context import seed_workspace
from tools.build_context import context_files, parse

pytestmark = pytest.mark.live
DOCKERFILE = "FROM scratch\nCOPY . /ctx/\n"


def _docker() -> str:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "info"], capture_output=True, check=False).returncode != 0:
        pytest.skip("no reachable Docker daemon")
    return docker


def _sent_by_docker(docker: str, context: Path, dockerfile: Path) -> set[str]:
    """Files the Docker CLI sent from `context` (legacy builder: the context root's .dockerignore)."""
    tag = f"dreamscape-context-probe:{uuid.uuid4().hex[:12]}"
    built = subprocess.run([docker, "build", "-q", "-f", str(dockerfile), "-t", tag, str(context)],
                           capture_output=True, text=True, check=False, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    assert built.returncode == 0, f"docker build failed: {built.stderr}"
    try:
        container = subprocess.run([docker, "create", tag, "/none"], capture_output=True, text=True,
                                   check=True).stdout.strip()
        try:
            exported = subprocess.run([docker, "export", container], capture_output=True, check=True).stdout
        finally:
            subprocess.run([docker, "rm", container], capture_output=True, check=False)
    finally:
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True, check=False)
    with tarfile.open(fileobj=io.BytesIO(exported)) as archive:
        return {member.name.removeprefix("ctx/") for member in archive.getmembers()
                if member.name.startswith("ctx/") and not member.isdir()}


@pytest.mark.parametrize("pod", [pytest.param(pod, id=pod.name) for pod in CATALOG])
def test_docker_sends_exactly_the_files_the_calculator_computes(tmp_path: Path, pod: PodDefinition) -> None:
    docker = _docker()
    workspace = seed_workspace(tmp_path / "workspace")
    rules = (REPO_ROOT / "images" / pod.name / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    (workspace / ".dockerignore").write_text(rules)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(DOCKERFILE)
    computed = {path for path, _ in context_files(workspace, parse(rules))}
    sent = _sent_by_docker(docker, workspace, dockerfile)
    assert sent == computed, (
        f"{pod.name}: Docker sent {sorted(sent - computed)[:5]} that the calculator leaves out, and left out "
        f"{sorted(computed - sent)[:5]} that it counts"
    )
    assert any(path.endswith("package.json") for path in sent), f"{pod.name}: the sources are sent"
