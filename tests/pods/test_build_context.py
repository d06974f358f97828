"""The Big Pod build context is what the Dockerfiles copy, computed the way Docker computes it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from components.pods.catalog import CATALOG
from components.pods.model import PodDefinition
from components.pods.render.files import REPO_ROOT, pod_files
from tools.build_context import context_files, ignored, parse

PODS = [pytest.param(pod, id=pod.name) for pod in CATALOG]
LIMIT = 128 * 1024
"""Bytes per pod's main context with the reference application (about 50 KB today)."""
LOCAL_STATE = ("venv", ".venv-checkov", ".pulumi-state", "backups", ".git")


def _write(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def seed_workspace(root: Path) -> Path:
    """The seed's workspace: this repository (with a venv, state, backups) beside the service checkouts,
    which hold host node_modules and .env files, as a developer's machine does."""
    for group in ("dreamscape-services", "dreamscape-frontend"):
        shutil.copytree(REPO_ROOT / "reference-app" / group, root / group,
                        ignore=shutil.ignore_patterns("node_modules"))
    for pod in CATALOG:
        for service in pod.services:
            _write(root / str(service.source) / "node_modules" / "big" / "index.js", 2_000_000)
            _write(root / str(service.source) / ".env", 100)
            _write(root / str(service.source) / ".git" / "objects" / "pack", 500_000)
    infra = root / "dreamscape-infra"
    _write(infra / "venv" / "lib" / "site-packages" / "pulumi" / "core.so", 3_000_000)
    _write(infra / ".venv-checkov" / "lib" / "checkov.py", 1_000_000)
    _write(infra / ".pulumi-state" / "passphrase", 44)
    _write(infra / ".pulumi-state" / ".pulumi" / "stacks" / "dreamscape" / "dev.json", 200_000)
    _write(infra / "backups" / "dev-dreamscape.dump", 1_000_000)
    shutil.copytree(REPO_ROOT / "images", infra / "images")
    return root


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_workspace(tmp_path_factory.mktemp("workspace"))


def _context(root: Path, ignore_file: Path) -> dict[str, int]:
    return dict(context_files(root, parse(ignore_file.read_text(encoding="utf-8"))))


@pytest.mark.parametrize("pod", PODS)
def test_the_main_context_is_only_the_pods_own_service_sources(workspace: Path, pod: PodDefinition) -> None:
    files = _context(workspace, REPO_ROOT / "images" / pod.name / "Dockerfile.dockerignore")
    sources = tuple(f"{service.source}/" for service in pod.services)
    strays = [path for path in files if not path.startswith(sources)]
    assert not strays, f"{pod.name}: only its service directories are sent, also got {strays[:5]}"
    for service in pod.services:
        assert f"{service.source}/package.json" in files, f"{pod.name}: {service.name}'s manifest is sent"
        assert f"{service.source}/package-lock.json" in files, f"{pod.name}: the lockfile is sent (npm ci)"
    leaked = [path for path in files if any(part in path.split("/") for part in ("node_modules", ".git", ".env"))]
    assert not leaked, f"{pod.name}: host node_modules, VCS data and .env files stay out: {leaked[:5]}"
    total = sum(files.values())
    assert total < LIMIT, f"{pod.name}: the context is {total} bytes, expected under {LIMIT}"


@pytest.mark.parametrize("pod", PODS)
def test_this_repositorys_state_venvs_and_backups_never_reach_the_build(workspace: Path, pod: PodDefinition) -> None:
    files = _context(workspace, REPO_ROOT / "images" / pod.name / "Dockerfile.dockerignore")
    for name in LOCAL_STATE:
        found = [path for path in files if f"/{name}/" in f"/{path}"]
        assert not found, f"{pod.name}: {name} is excluded from the context, found {found[:3]}"
    named = sorted(path.name for path in (REPO_ROOT / "images" / pod.name).iterdir())
    rendered = {path.name for path in pod_files(pod)}
    assert set(named) <= rendered, f"the `infra` named context holds only rendered files: {named}"


@pytest.mark.parametrize("pod", PODS)
def test_the_infra_files_survive_the_main_rules_so_the_providers_context_hash_sees_them(pod: PodDefinition) -> None:
    rules = parse((REPO_ROOT / "images" / pod.name / "Dockerfile.dockerignore").read_text(encoding="utf-8"))
    copied = sorted({line.split()[2] for line in (REPO_ROOT / "images" / pod.name / "Dockerfile").read_text()
                     .splitlines() if line.startswith("COPY --from=infra ")})
    assert copied, f"{pod.name} copies its configs from the infra context"
    hidden = [name for name in copied if ignored(name, rules)]
    assert not hidden, (
        f"{pod.name}: {hidden} would be left out of pulumi-docker-build's hash of the infra context, "
        "so a config change would not rebuild the image"
    )


def test_the_repository_dockerignore_excludes_local_state_when_the_repository_is_the_context(
    workspace: Path,
) -> None:
    infra = workspace / "dreamscape-infra"
    files = _context(infra, REPO_ROOT / ".dockerignore")
    for name in LOCAL_STATE:
        found = [path for path in files if path == name or path.startswith(f"{name}/")]
        assert not found, f".dockerignore keeps {name} out of a context rooted at this repository: {found[:3]}"
    assert "images/core/Dockerfile" in files, "the repository's own files are still sent"


@pytest.mark.parametrize(
    ("rules", "path", "expected"),
    [
        ("**/node_modules", "a/b/node_modules/x/index.js", True),
        ("**/node_modules", "node_modules/x", True),
        ("*", "dreamscape-services/auth/server.js", True),
        ("*\n!dreamscape-services/auth", "dreamscape-services/auth/server.js", False),
        ("*\n!dreamscape-services/auth", "dreamscape-services/user/server.js", True),
        ("*\n!dreamscape-services/auth\n**/.env", "dreamscape-services/auth/.env", True),
        ("*.log", "a/b.log", False),
        ("**/*.log", "a/b.log", True),
        ("**/.env.*", "svc/.env.local", True),
        ("venv/", "venv/lib/x.py", True),
        (".venv*/", ".venv-checkov/bin/pip", True),
        ("docs/?.md", "docs/a.md", True),
        ("docs/?.md", "docs/ab.md", False),
        ("# comment\n\n/backups", "backups/dev.dump", True),
        ("a.b", "axb", False),
    ],
)
def test_dockerignore_rules_match_the_way_docker_matches_them(rules: str, path: str, expected: bool) -> None:
    assert ignored(path, parse(rules)) is expected, f"{rules!r} on {path}: ignored should be {expected}"
