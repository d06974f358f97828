"""Every image target of docker-bake.json really built, here, with buildah (daemonless; Debian's 1.28),
from the same Dockerfile, stage and named contexts as `docker buildx bake`, on the reference application,
with a local stand-in (tests/images/standin.py) passed as a named context in place of the pinned base.
Each runtime image then runs with a read-only root as UID 1000 and must pass its own HEALTHCHECK, with
NGINX answering /health in the pods that have a gateway.

Marked `images` (excluded from `make test`; .ci/run runs them): the first run builds the stand-in
(mmdebstrap, a few minutes), and the six builds take about a minute each on two cores.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.pods.catalog import CATALOG
from components.pods.render.bake import BAKE_FILE
from tests.harness import ROOT
from tests.images import standin
from tests.tooling import require_tool

pytestmark = [pytest.mark.images, pytest.mark.tools]
RUN_READONLY = Path(__file__).with_name("run-readonly.sh")
SOURCE_ROOT = ROOT / "reference-app"
HEALTHY_WITHIN_SECONDS = 90
RUN_AS = "1000"
POD_PROCESSES = ("supervisord", "nginx", "node")


@dataclass(frozen=True, kw_only=True)
class Build:
    target: str
    image: str
    seconds: float
    size_bytes: int
    log: str
    returncode: int


def bake_targets() -> dict[str, dict[str, Any]]:
    data = json.loads((ROOT / BAKE_FILE).read_text(encoding="utf-8"))
    return {name: target for name, target in data["target"].items() if "dockerfile" in target}


def base_images(dockerfile: Path) -> set[str]:
    """The `FROM` references that are not stages of the same Dockerfile: what the stand-in replaces."""
    text = dockerfile.read_text(encoding="utf-8")
    stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, flags=re.MULTILINE | re.IGNORECASE))
    return {image for image in re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE) if image not in stages}


def build_argv(buildah: str, name: str, target: dict[str, Any], image: str, base: str,
               contexts: dict[str, str] | None = None) -> list[str]:
    """`buildah build` of one bake target: its Dockerfile (`cwd://` is this repository), stage and named
    contexts, plus the stand-in for each base image. `--format docker` keeps HEALTHCHECK, as BuildKit does."""
    dockerfile = ROOT / target["dockerfile"].removeprefix("cwd://")
    named = {**{key: str(ROOT / path) for key, path in target["contexts"].items()},
             **{ref: f"container-image://{base}" for ref in base_images(dockerfile)}}
    if contexts is not None:
        named = contexts
    argv = [buildah, "build", "--isolation", "chroot", "--pull=never", "--format", "docker", "--layers=false",
            "-f", str(dockerfile), "--target", target["target"], "-t", image]
    for key, value in sorted(named.items()):
        argv += ["--build-context", f"{key}={value}"]
    return [*argv, str(SOURCE_ROOT)]


def image_size(buildah: str, image: str) -> int:
    """The image's size as buildah's storage reports it (uncompressed layers, like `docker images`)."""
    listed = subprocess.run([buildah, "images", "--json", image], capture_output=True, text=True, check=True)
    (entry,) = json.loads(listed.stdout)
    number, unit = str(entry["size"]).split()
    return int(float(number) * {"B": 1, "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9}[unit])


@pytest.fixture(scope="session")
def buildah() -> str:
    return require_tool("buildah")


@pytest.fixture(scope="session")
def base(buildah: str) -> str:
    mmdebstrap = require_tool("mmdebstrap")
    return standin.ensure(buildah, mmdebstrap)


class Builds:
    """Each bake target built on first use, once per session, one at a time (the machine is shared)."""

    def __init__(self, buildah: str, base: str) -> None:
        self.buildah, self.base = buildah, base
        self.run = uuid.uuid4().hex[:8]
        self.done: dict[str, Build] = {}

    def __getitem__(self, name: str) -> Build:
        if name not in self.done:
            image = f"localhost/dreamscape-test-{name}:{self.run}"
            started = time.monotonic()
            built = subprocess.run(build_argv(self.buildah, name, bake_targets()[name], image, self.base),
                                   capture_output=True, text=True, check=False)
            seconds = time.monotonic() - started
            size = image_size(self.buildah, image) if built.returncode == 0 else 0
            self.done[name] = Build(target=name, image=image, seconds=seconds, size_bytes=size,
                                    log=(built.stdout + built.stderr)[-3000:], returncode=built.returncode)
        return self.done[name]


@pytest.fixture(scope="session")
def builds(buildah: str, base: str) -> Iterator[Builds]:
    built = Builds(buildah, base)
    try:
        yield built
    finally:
        if built.done:
            report(built.done, image_size(buildah, base))
        for build in built.done.values():
            subprocess.run([buildah, "rmi", "-f", build.image], capture_output=True, check=False)


def report(builds: dict[str, Build], base_bytes: int) -> None:
    """Build times and sizes, for the release notes (pytest -s shows them; CI keeps them in its log)."""
    print(f"\nimage builds on the stand-in base ({base_bytes / 1e6:.0f} MB of Debian packages):")
    for build in builds.values():
        added = build.size_bytes - base_bytes if build.size_bytes else 0
        print(f"  {build.target:<16} {build.seconds:6.1f} s   {build.size_bytes / 1e6:6.0f} MB"
              f"   (+{added / 1e6:.0f} MB over the base)   {'ok' if build.returncode == 0 else 'FAILED'}")


@pytest.mark.parametrize("name", sorted(bake_targets()))
def test_every_bake_target_builds_on_the_stand_in(builds: Builds, name: str) -> None:
    build = builds[name]
    assert build.returncode == 0, f"{name} did not build:\n{build.log}"
    assert build.size_bytes > 0, f"{name} produced an image"


@pytest.mark.parametrize("forgotten", ["infra", "the base image"])
def test_a_build_that_forgets_a_named_context_fails(buildah: str, base: str, forgotten: str) -> None:
    name, target = next((n, t) for n, t in bake_targets().items() if t["target"] == "runtime")
    dockerfile = ROOT / target["dockerfile"].removeprefix("cwd://")
    contexts = {**{key: str(ROOT / path) for key, path in target["contexts"].items()},
                **{ref: f"container-image://{base}" for ref in base_images(dockerfile)}}
    dropped = "infra" if forgotten == "infra" else next(iter(base_images(dockerfile)))
    contexts.pop(dropped)
    image = f"localhost/dreamscape-test-forgotten:{uuid.uuid4().hex[:8]}"
    try:
        done = subprocess.run(build_argv(buildah, name, target, image, base, contexts=contexts),
                              capture_output=True, text=True, check=False)
    finally:
        subprocess.run([buildah, "rmi", "-f", image], capture_output=True, check=False)
    assert done.returncode != 0, f"{name} built without the `{dropped}` context: the builds above prove nothing"


@dataclass(frozen=True)
class RunResult:
    lines: list[str]

    def values(self, kind: str) -> list[str]:
        return [line.split(" ", 2)[2] if line.count(" ") >= 2 else "" for line in self.lines
                if line.startswith(f"result {kind}")]


def run_readonly(buildah: str, image: str, health_url: str) -> RunResult:
    config = json.loads(subprocess.run([buildah, "inspect", "--type", "image", image], capture_output=True,
                                       text=True, check=True).stdout)["Docker"]["config"]
    test = config["Healthcheck"]["Test"]
    assert test[0] == "CMD" and test[1:3] == ["/bin/sh", "-c"], f"a shell HEALTHCHECK: {test}"
    assert config["User"] == f"{RUN_AS}:{RUN_AS}", f"the image runs as UID {RUN_AS}: {config['User']}"
    container = subprocess.run([buildah, "from", "--pull=never", image], capture_output=True, text=True,
                               check=True).stdout.strip()
    try:
        mounted = subprocess.run([buildah, "mount", container], capture_output=True, text=True,
                                 check=True).stdout.strip()
        work = Path(subprocess.run(["mktemp", "-d"], capture_output=True, text=True, check=True).stdout.strip())
        env_file = work / "env"
        env_file.write_text("\n".join(config["Env"]) + "\n")
        done = subprocess.run(
            [require_tool("unshare"), "--mount", "--net", "--pid", "--fork", "--mount-proc", "--kill-child",
             "bash", str(RUN_READONLY), mounted, str(work / "root"), str(env_file), config["WorkingDir"],
             test[3], str(HEALTHY_WITHIN_SECONDS), health_url, "--", *config["Cmd"]],
            capture_output=True, text=True, check=False, timeout=HEALTHY_WITHIN_SECONDS + 60,
        )
        shutil.rmtree(work, ignore_errors=True)
    finally:
        subprocess.run([buildah, "umount", container], capture_output=True, check=False)
        subprocess.run([buildah, "rm", container], capture_output=True, check=False)
    assert done.returncode == 0, f"the run script failed:\n{done.stdout}{done.stderr}"
    return RunResult(done.stdout.splitlines())


@pytest.mark.parametrize("pod", CATALOG, ids=lambda pod: pod.name)
def test_each_runtime_image_runs_read_only_as_uid_1000_and_passes_its_healthcheck(
    buildah: str, builds: Builds, pod: Any
) -> None:
    build = builds[pod.name]
    assert build.returncode == 0, f"{pod.name} did not build:\n{build.log}"
    health_url = f"http://127.0.0.1:{pod.gateway.listen_port}/health" if pod.gateway is not None else ""
    result = run_readonly(buildah, build.image, health_url)
    assert "result healthy" in result.lines, f"{pod.name} never passed its HEALTHCHECK:\n" + "\n".join(result.lines)
    if pod.gateway is not None:
        (body,) = result.values("health-body")
        assert body.strip(), f"{pod.name}: NGINX answers /health on {pod.gateway.listen_port}"
    processes = [value.split() for value in result.values("process")]
    ours = [(name, uid) for name, uid in processes if name in POD_PROCESSES]
    assert {"supervisord", "node"} <= {name for name, _ in ours}, f"{pod.name} runs its processes: {processes}"
    assert all(uid == RUN_AS for _, uid in ours), f"{pod.name}: every pod process runs as UID {RUN_AS}: {ours}"
    assert result.values("root-read-only") and not result.values("root-writable"), (
        f"{pod.name}: the root filesystem is read-only: {result.lines}"
    )
