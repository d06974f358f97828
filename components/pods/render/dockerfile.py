"""Dockerfile of a Big Pod, rendered from the catalog (so a new service is a catalog entry only).

Layout of the image build:
- The main build context is the **application source root** (the workspace root with
  ``dreamscape-services/`` and ``dreamscape-frontend/``, or this repository's ``reference-app/``).
  ``Dockerfile.dockerignore`` beside the Dockerfile (BuildKit reads it first) admits only the pod's own
  service directories, minus host ``node_modules``, build output, VCS data and ``.env`` files: the
  context is what the Dockerfile copies, wherever the workspace lives and whatever else it holds.
- The rendered supervisord and NGINX configs come from a BuildKit **named context**, ``infra``
  (``images/<pod>/`` of this repository): ``COPY --from=infra``. The workspace may live anywhere, also
  outside this repository, and this repository (venv, Pulumi state, backups) is never in the context.
- Per service, three stages: ``<svc>-deps`` installs npm dependencies from the manifest only (cached
  until package*.json changes), ``<svc>-build`` adds the sources and runs the ``build`` script if any,
  ``<svc>-prod`` prunes dev dependencies. A static site (the web client) has no ``-prod`` stage: its
  ``build`` is required, and the runtime copies only its output (``dist/``), served by NGINX.
- ``dev`` (``--target dev``) has the full dependencies and the dev supervisord config; ``runtime`` is the
  last, default stage: pruned services and the prod config. Both run as UID 1000 on a pinned
  ``node:<major>-alpine<version>`` base and check every process of the pod in ``HEALTHCHECK``.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from components.pods.model import AppService, PodDefinition
from components.pods.render.static_web import conf_path, file_name, static_services
from components.pods.render.supervisord import NGINX_CONF_PATH, SUPERVISORD_CONF_PATH, Mode

NODE_IMAGE = "node:24-alpine3.22@sha256:191c9f0080fcbbc6547a85dc0ff7988072214a355aabdc1d2ec55a7dae5eea8a"
"""Base image: Node 24 (LTS) on Alpine 3.22, pinned by the digest of its multi-platform index, so a
rebuild gets the same base until the update bot (.github/renovate.json) proposes a new digest in a PR.
The tag stays for the reader and for the bot. Never `latest`."""
RUNTIME_UID = 1000
"""The `node` user of the official image."""
INFRA_CONTEXT = "infra"
"""Name of the BuildKit named context that holds images/<pod>/ (the rendered configs)."""
DEV_TARGET = "dev"
RUNTIME_TARGET = "runtime"

HEADER = "# Rendered from components/pods/catalog.py by `python -m components.pods.render`. Do not edit."

IGNORED_IN_SOURCES = (
    "**/node_modules",
    "**/dist",
    "**/build",
    "**/coverage",
    "**/.git",
    "**/.env",
    "**/.env.*",
    "**/*.log",
)
"""Never part of a service's sources in the image: host installs and build output, VCS data, env files."""


def infra_files(pod: PodDefinition) -> tuple[str, ...]:
    """What the final stages copy from the `infra` named context (images/<pod>/)."""
    names = (*config_file_names(pod).values(), *(("nginx.conf",) if pod.gateway is not None else ()),
             *(file_name(service) for service in static_services(pod)))
    return tuple(sorted(names))


def render_dockerignore(pod: PodDefinition) -> str:
    """`Dockerfile.dockerignore`: everything is excluded, then the pod's service directories are
    admitted again, then what a source tree must never contribute is excluded within them.

    The names of the `infra` files are admitted too. BuildKit applies these rules to the main context
    only, but pulumi-docker-build (0.0.x) also applies them when it hashes the named contexts to decide
    whether to rebuild: without these lines a changed supervisord or NGINX config would not rebuild the
    image. At the root of a workspace they match nothing."""
    return "\n".join([
        "# Rendered by `python -m components.pods.render`. BuildKit reads <Dockerfile>.dockerignore first.",
        "# The context is the application source root: admit only this pod's service directories.",
        "*",
        *(f"!{service.source}" for service in pod.services),
        *IGNORED_IN_SOURCES,
        "# The `infra` named context's files, for pulumi-docker-build's context hash (see dockerfile.py).",
        *(f"!/{name}" for name in infra_files(pod)),
        "",
    ])


@dataclass(frozen=True)
class ImageSettings:
    node_image: str = NODE_IMAGE


def config_file_names(pod: PodDefinition) -> dict[Mode, str]:
    """File name, under images/<pod>/, of the supervisord config for each mode."""
    del pod  # same names for every pod
    return {Mode.PROD: "supervisord.conf", Mode.DEV: "supervisord.dev.conf"}


def image_dir(pod: PodDefinition) -> PurePosixPath:
    """images/<pod>, relative to this repository's root."""
    return PurePosixPath("images") / pod.name


def _exec(args: Iterable[str]) -> str:
    return json.dumps(list(args))


def _service_stages(service: AppService, node_image: str) -> list[str]:
    app, source = str(service.app_dir), service.source
    if service.static_dir is not None:
        # Browser code: `build` is required, and prod takes only its output (no prune, no node_modules).
        return [
            f"FROM {node_image} AS {service.name}-deps",
            f"WORKDIR {app}",
            f"COPY {source}/package*.json ./",
            "RUN if [ -f package-lock.json ]; then npm ci; else npm install; fi",
            "",
            f"FROM {service.name}-deps AS {service.name}-build",
            f"COPY {source}/ ./",
            f"RUN npm run build && test -f {service.static_dir}/index.html",
            "",
        ]
    return [
        f"FROM {node_image} AS {service.name}-deps",
        f"WORKDIR {app}",
        f"COPY {source}/package*.json ./",
        "RUN if [ -f package-lock.json ]; then npm ci; else npm install; fi",
        "",
        f"FROM {service.name}-deps AS {service.name}-build",
        f"COPY {source}/ ./",
        "RUN npm run build --if-present",
        "",
        f"FROM {service.name}-build AS {service.name}-prod",
        "RUN npm prune --omit=dev",
        "",
    ]


def _copy_service(service: AppService, dev: bool) -> str:
    """Dev takes the built service with every dependency; prod the pruned one, or a static site's output."""
    if dev:
        return f"COPY --from={service.name}-build {service.app_dir} {service.app_dir}"
    if service.static_root is not None:
        return f"COPY --from={service.name}-build {service.static_root} {service.static_root}"
    return f"COPY --from={service.name}-prod {service.app_dir} {service.app_dir}"


def _final_stage(pod: PodDefinition, mode: Mode) -> list[str]:
    dev = mode is Mode.DEV
    lines = [
        f"FROM base AS {DEV_TARGET if dev else RUNTIME_TARGET}",
        *(_copy_service(service, dev) for service in pod.services),
        # `infra` is a named build context, not a stage: hadolint cannot know it.
        "# hadolint ignore=DL3022",
        f"COPY --from={INFRA_CONTEXT} {config_file_names(pod)[mode]} {SUPERVISORD_CONF_PATH}",
    ]
    if pod.gateway is not None:
        lines += ["# hadolint ignore=DL3022", f"COPY --from={INFRA_CONTEXT} nginx.conf {NGINX_CONF_PATH}"]
    if not dev:
        for service in static_services(pod):
            lines += ["# hadolint ignore=DL3022",
                      f"COPY --from={INFRA_CONTEXT} {file_name(service)} {conf_path(service)}"]
    ports = " ".join(str(port.number) for port in pod.ports(dev=dev))
    lines += [
        f"ENV NODE_ENV={'development' if dev else 'production'}",
        f"EXPOSE {ports}",
        f"USER {RUNTIME_UID}:{RUNTIME_UID}",
        "HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \\",
        f"    CMD {_exec(pod.health_command)}",
        f"CMD {_exec(['supervisord', '-c', str(SUPERVISORD_CONF_PATH)])}",
        "",
    ]
    return lines


def render_dockerfile(pod: PodDefinition, settings: ImageSettings | None = None) -> str:
    """Dockerfile text for `pod`: targets `dev` and `runtime` (the default, last stage)."""
    settings = settings or ImageSettings()
    packages = ["supervisor", *(["nginx"] if pod.gateway is not None or static_services(pod) else [])]
    lines = [
        HEADER,
        f"# Pod {pod.name}: {pod.description}.",
        "# Built through docker-bake.json (targets by pod name, `-dev` for the dev stage), from this",
        "# repository's root, on the workspace or (the default) reference-app/:",
        f"#   SOURCE_ROOT=<workspace root> docker buildx bake {pod.name}-{DEV_TARGET}",
        "",
        f"FROM {settings.node_image} AS base",
        "# Alpine's repositories keep only the current package versions, so these are pinned by the",
        "# base image's Alpine release rather than by version.",
        "# hadolint ignore=DL3018",
        f"RUN apk add --no-cache {shlex.join(packages)}",
        "# npm writes its cache and logs under $HOME: keep them off the read-only root filesystem.",
        "ENV npm_config_cache=/tmp/.npm npm_config_update_notifier=false npm_config_fund=false",
        "WORKDIR /app",
        "",
    ]
    for service in pod.services:
        lines += _service_stages(service, settings.node_image)
    lines += _final_stage(pod, Mode.DEV)
    lines += _final_stage(pod, Mode.PROD)
    return "\n".join(lines).rstrip("\n") + "\n"
