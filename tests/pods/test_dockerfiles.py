"""The committed Dockerfiles, read with dockerfile-parse and linted with hadolint."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from components.pods.catalog import CATALOG, EXPERIENCE
from components.pods.model import PodDefinition
from components.pods.render.dockerfile import INFRA_CONTEXT
from components.pods.render.files import REPO_ROOT
from tests.tooling import require_tool

PODS = [pytest.param(pod, id=pod.name) for pod in CATALOG]


@dataclass
class Stage:
    image: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def values(self, instruction: str) -> list[str]:
        return [value for kind, value in self.instructions if kind == instruction]


def dockerfile(pod: PodDefinition) -> Path:
    return REPO_ROOT / "images" / pod.name / "Dockerfile"


def stages(pod: PodDefinition) -> list[Stage]:
    parser = DockerfileParser(str(dockerfile(pod)))
    result: list[Stage] = []
    for entry in parser.structure:
        if entry["instruction"] == "FROM":
            image, _, name = entry["value"].partition(" AS ")
            result.append(Stage(image.strip(), name.strip()))
        elif result and entry["instruction"] != "COMMENT":
            result[-1].instructions.append((entry["instruction"], entry["value"]))
    return result


@pytest.mark.parametrize("pod", PODS)
def test_dockerfiles_are_multi_stage_with_deps_build_and_runtime_stages(pod: PodDefinition) -> None:
    parser = DockerfileParser(str(dockerfile(pod)))
    assert parser.is_multistage, f"images/{pod.name}/Dockerfile must be multi-stage"
    names = [stage.name for stage in stages(pod)]
    for service in pod.services:
        # A static site has no pruned stage: prod takes only its built directory.
        kinds = ("deps", "build") if service.static_dir is not None else ("deps", "build", "prod")
        for kind in kinds:
            assert f"{service.name}-{kind}" in names, f"{service.name} has a {kind} stage, stages: {names}"
    assert names[-1] == "runtime", f"the default (last) stage is the runtime image, got {names[-1]}"
    assert "dev" in names, "a dev target exists for the Docker dev stack"


@pytest.mark.parametrize("pod", PODS)
def test_base_images_are_pinned_and_never_latest(pod: PodDefinition) -> None:
    parser = DockerfileParser(str(dockerfile(pod)))
    aliases = {stage.name for stage in stages(pod)}
    for image in parser.parent_images:
        if image in aliases:
            continue
        reference, _, digest = image.partition("@")
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), f"{image} must be pinned by digest"
        repository, _, tag = reference.rpartition(":")
        assert repository and tag, f"{image} must carry an explicit tag"
        assert tag != "latest" and "$" not in image, f"{image} must be pinned, not latest or an ARG"
        assert repository == "node" and "alpine" in tag, f"{image} must be the official node alpine image"


@pytest.mark.parametrize("pod", PODS)
def test_the_final_stages_run_as_uid_1000_with_a_healthcheck(pod: PodDefinition) -> None:
    for stage in stages(pod)[-2:]:
        users = stage.values("USER")
        assert users and users[-1].split(":")[0] == "1000", f"{stage.name} must end as UID 1000, got {users}"
        checks = stage.values("HEALTHCHECK")
        assert len(checks) == 1, f"{stage.name} declares exactly one HEALTHCHECK"
        command = json.loads(checks[0].split(" CMD ", 1)[1])
        assert command == list(pod.health_command), f"{stage.name} checks every process of the pod"
        assert pod.health.url in command[-1], f"{stage.name} probes the pod's health endpoint"
        cmd = json.loads(stage.values("CMD")[-1])
        assert cmd[0] == "supervisord", f"{stage.name} runs supervisord, got {cmd}"


@pytest.mark.parametrize("pod", PODS)
def test_every_service_is_built_from_its_workspace_source(pod: PodDefinition) -> None:
    by_name = {stage.name: stage for stage in stages(pod)}
    runtime = by_name["runtime"].values("COPY")
    for service in pod.services:
        deps = by_name[f"{service.name}-deps"].values("COPY")
        build = by_name[f"{service.name}-build"].values("COPY")
        assert f"{service.source}/package*.json ./" in deps, f"{service.name} installs deps from its manifest"
        assert f"{service.source}/ ./" in build, f"{service.name} builds from {service.source}"
        if service.static_root is not None:
            assert f"--from={service.name}-build {service.static_root} {service.static_root}" in runtime, (
                f"the runtime gets only {service.name}'s built assets"
            )
            assert "npm run build && test -f" in " ".join(by_name[f"{service.name}-build"].values("RUN")), (
                f"{service.name}'s build is required and must produce index.html"
            )
            continue
        assert f"--from={service.name}-prod {service.app_dir} {service.app_dir}" in runtime, (
            f"the runtime gets {service.name}'s pruned build"
        )


@pytest.mark.parametrize("pod", PODS)
def test_config_files_come_from_the_infra_named_context_and_exist(pod: PodDefinition) -> None:
    copies = [value for stage in stages(pod) for value in stage.values("COPY")]
    local = [value.split()[1] for value in copies if value.startswith(f"--from={INFRA_CONTEXT} ")]
    assert local, f"{pod.name} copies its rendered configs from the `{INFRA_CONTEXT}` named context"
    for source in local:
        path = REPO_ROOT / "images" / pod.name / source
        assert path.is_file(), f"{source} must exist in images/{pod.name}/ (the `{INFRA_CONTEXT}` context)"
    assert not any("INFRA_DIR" in value or ".." in value.split()[0] for value in copies), (
        "nothing is copied from a path relative to the workspace: it may live outside this repository"
    )


@pytest.mark.parametrize("pod", PODS)
def test_exposed_ports_match_the_catalog(pod: PodDefinition) -> None:
    by_name = {stage.name: stage for stage in stages(pod)}
    for name, dev in (("runtime", False), ("dev", True)):
        exposed = " ".join(by_name[name].values("EXPOSE")).split()
        expected = [str(port.number) for port in pod.ports(dev=dev)]
        assert exposed == expected, f"{name} exposes the catalog ports {expected}, got {exposed}"


@pytest.mark.tools
@pytest.mark.parametrize("pod", PODS)
def test_hadolint_finds_nothing_to_report(pod: PodDefinition) -> None:
    hadolint = require_tool("hadolint", str(Path(sys.executable).parent / "hadolint"))
    result = subprocess.run(
        [hadolint, "--no-color", str(dockerfile(pod))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"hadolint must accept images/{pod.name}/Dockerfile:\n{result.stdout}"


def test_the_prod_image_serves_the_web_client_statically_with_no_node_server_or_dev_server() -> None:
    web = next(service for service in EXPERIENCE.services if service.name == "web")
    runtime = {stage.name: stage for stage in stages(EXPERIENCE)}["runtime"]
    copies = runtime.values("COPY")
    assert not any(f" {web.app_dir} " in f" {c} " for c in copies), f"no web sources or node_modules: {copies}"
    assert f"--from={INFRA_CONTEXT} web.nginx.conf /etc/nginx/web.conf" in copies, "NGINX gets the site config"
    conf = (REPO_ROOT / "images" / "experience" / "supervisord.conf").read_text(encoding="utf-8")
    program = conf.split("[program:web]", 1)[1].split("[", 1)[0]
    assert "command=nginx -e stderr -c /etc/nginx/web.conf" in program, f"prod serves web with NGINX: {program}"
    assert "npm" not in program and "vite" not in program, f"no dev or preview server in prod: {program}"
