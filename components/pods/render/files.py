"""Every file rendered from the catalog, keyed by its path relative to the repository root."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from components.pods.catalog import CATALOG
from components.pods.model import PodDefinition
from components.pods.render.bake import BAKE_FILE, render_bake
from components.pods.render.dockerfile import config_file_names, image_dir, render_dockerfile, render_dockerignore
from components.pods.render.nginx import render_nginx
from components.pods.render.static_web import file_name, render_static, static_services
from components.pods.render.supervisord import render_supervisord

REPO_ROOT = Path(__file__).resolve().parents[3]
REFERENCE_APP = PurePosixPath("reference-app")
"""The reference application: the workspace layout the Big Pods build from, one directory per service."""
REFERENCE_KIT = REFERENCE_APP / "common" / "kit.js"
KIT_HEADER = "// Copied from reference-app/common/kit.js by `python -m components.pods.render`. Do not edit.\n"


def reference_files(catalog: Iterable[PodDefinition] = CATALOG, root: Path = REPO_ROOT) -> dict[PurePosixPath, str]:
    """reference-app/<source>/lib/kit.js: each service directory is its own build context and npm
    package, so the shared kit is copied into it rather than imported across directories."""
    kit = KIT_HEADER + (root / REFERENCE_KIT).read_text(encoding="utf-8")
    return {
        REFERENCE_APP / service.source / "lib" / "kit.js": kit
        for pod in catalog
        for service in pod.services
    }


def pod_files(pod: PodDefinition, catalog: Iterable[PodDefinition] = CATALOG) -> dict[PurePosixPath, str]:
    """images/<pod>/...: Dockerfile, its dockerignore, supervisord configs and (gateway pods) nginx.conf."""
    directory = image_dir(pod)
    files = {
        directory / "Dockerfile": render_dockerfile(pod),
        directory / "Dockerfile.dockerignore": render_dockerignore(pod),
    }
    for mode, name in config_file_names(pod).items():
        files[directory / name] = render_supervisord(pod, mode)
    if pod.gateway is not None:
        files[directory / "nginx.conf"] = render_nginx(pod, catalog)
    for service in static_services(pod):
        files[directory / file_name(service)] = render_static(service)
    return files


def rendered_files(catalog: Iterable[PodDefinition] = CATALOG) -> dict[PurePosixPath, str]:
    catalog = tuple(catalog)
    files: dict[PurePosixPath, str] = {}
    for pod in catalog:
        files.update(pod_files(pod, catalog))
    files.update(reference_files(catalog))
    files[PurePosixPath(BAKE_FILE)] = render_bake(catalog)
    return files


def stale_files(root: Path = REPO_ROOT, catalog: Iterable[PodDefinition] = CATALOG) -> list[PurePosixPath]:
    """Rendered files whose committed copy under `root` is missing or differs."""
    stale = []
    for path, text in rendered_files(catalog).items():
        target = root / path
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            stale.append(path)
    return stale


def write_files(root: Path = REPO_ROOT, catalog: Iterable[PodDefinition] = CATALOG) -> list[PurePosixPath]:
    """Write every rendered file under `root`; return the paths that changed."""
    changed = stale_files(root, catalog)
    files = rendered_files(catalog)
    for path in changed:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(files[path], encoding="utf-8")
    return changed
