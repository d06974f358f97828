"""NGINX configuration of a pod's static site (the web client in prod), built as a crossplane payload.

The web client is browser code. Prod does not run a Node server for it: the image build runs the app's
`npm run build` (docs/application-contract.md), the runtime stage keeps only the built directory, and
this NGINX serves it on the service's own port, as a program of the pod's supervisord.

Choices:
- **Cache headers** (seed 001: "Compression (gzip)", "Cache-Control headers", "CDN-Ready"). Build output
  under ``/assets/`` carries a content hash in its name, so it is cached for a year and marked
  ``immutable``: a CDN or browser never asks again. Everything else, ``index.html`` first, is
  ``no-cache``: always revalidated (ETag), so a new release is seen on the next load.
- **gzip** for text types, with ``Vary: Accept-Encoding`` for caches in between.
- **SPA fallback**: a path that is not a file (``/voyages/42``, a client-side route) gets ``index.html``;
  a missing asset gets 404, not a page.
- **Proxied paths** (``AppService.proxies``): the page talks to the pod's WebSocket gateway through its own
  origin (``/ws``), with the upgrade headers and hour-long timeouts a long-lived connection needs.
- **Unprivileged, read-only root**: the service's own port (3000), pid file and temp paths under ``/tmp``,
  errors to stderr and access log to stdout (supervisord forwards both). ``/health`` is answered here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

import crossplane

from components.pods.model import AppService, PodDefinition
from components.pods.render.nginx import Directive, directive

HEADER = "# Rendered from components/pods/catalog.py by `python -m components.pods.render`. Do not edit.\n"
ASSETS_CACHE = "public, max-age=31536000, immutable"
PAGE_CACHE = "no-cache"
GZIP_TYPES = ("text/css", "application/javascript", "text/javascript", "application/json", "image/svg+xml",
              "text/plain", "text/xml", "application/xml", "application/manifest+json")
LONG_LIVED_TIMEOUT = "3600s"


def conf_path(service: AppService) -> PurePosixPath:
    """Where the image holds the static server's config."""
    return PurePosixPath("/etc/nginx") / f"{service.name}.conf"


def file_name(service: AppService) -> str:
    """Its name under images/<pod>/ (the `infra` build context)."""
    return f"{service.name}.nginx.conf"


def static_services(pod: PodDefinition) -> tuple[AppService, ...]:
    return tuple(service for service in pod.services if service.static_dir is not None)


def server_command(service: AppService) -> tuple[str, ...]:
    """The supervisord program of a static site in prod (`-e stderr`: the compiled-in log is not writable)."""
    return ("nginx", "-e", "stderr", "-c", str(conf_path(service)))


@dataclass(frozen=True)
class StaticSettings:
    """What differs when the config runs outside the image (tests): the root, the runtime dir, mime types."""

    root: str | None = None
    """Defaults to the service's `static_root` in the image."""
    runtime_dir: str = "/tmp"
    mime_types: str = "/etc/nginx/mime.types"


def _temp_paths(runtime: str, name: str) -> list[Directive]:
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    return [directive(f"{kind}_temp_path", f"{runtime}/nginx-{name}-{kind}") for kind in kinds]


def _proxy(path: str, port: int) -> Directive:
    return directive("location", path, block=[
        directive("proxy_pass", f"http://127.0.0.1:{port}"),
        directive("proxy_http_version", "1.1"),
        directive("proxy_set_header", "Upgrade", "$http_upgrade"),
        directive("proxy_set_header", "Connection", "$connection_upgrade"),
        directive("proxy_set_header", "Host", "$host"),
        directive("proxy_set_header", "X-Forwarded-For", "$proxy_add_x_forwarded_for"),
        directive("proxy_read_timeout", LONG_LIVED_TIMEOUT),
        directive("proxy_send_timeout", LONG_LIVED_TIMEOUT),
        directive("proxy_buffering", "off"),
    ])


def static_payload(service: AppService, settings: StaticSettings | None = None) -> list[Directive]:
    settings = settings or StaticSettings()
    if service.static_root is None:
        raise ValueError(f"{service.name} is not a static site")
    root = settings.root or str(service.static_root)
    runtime = settings.runtime_dir
    server: list[Directive] = [
        directive("listen", service.port),
        directive("server_name", "_"),
        directive("root", root),
        directive("location", "=", "/health", block=[
            directive("access_log", "off"),
            directive("default_type", "application/json"),
            directive("return", 200, '{"status":"ok"}'),
        ]),
        directive("location", "/assets/", block=[
            directive("add_header", "Cache-Control", ASSETS_CACHE, "always"),
            directive("try_files", "$uri", "=404"),
        ]),
        *(_proxy(path, port) for path, port in service.proxies),
        directive("location", "/", block=[
            directive("add_header", "Cache-Control", PAGE_CACHE, "always"),
            directive("try_files", "$uri", "$uri/", "/index.html"),
        ]),
    ]
    http: list[Directive] = [
        directive("include", settings.mime_types),
        directive("default_type", "application/octet-stream"),
        directive("access_log", "/dev/stdout"),
        *_temp_paths(runtime, service.name),
        directive("sendfile", "on"),
        directive("server_tokens", "off"),
        directive("etag", "on"),
        directive("gzip", "on"),
        directive("gzip_vary", "on"),
        directive("gzip_proxied", "any"),
        directive("gzip_comp_level", 5),
        directive("gzip_min_length", 256),
        directive("gzip_types", *GZIP_TYPES),
        directive("map", "$http_upgrade", "$connection_upgrade", block=[
            directive("default", "upgrade"),
            directive("", "close"),
        ]),
        directive("server", block=server),
    ]
    return [
        # In the foreground: supervisord runs and watches it.
        directive("daemon", "off"),
        directive("worker_processes", 1),
        directive("pid", f"{runtime}/nginx-{service.name}.pid"),
        directive("error_log", "stderr"),
        directive("events", block=[directive("worker_connections", 1024)]),
        directive("http", block=http),
    ]


def render_static(service: AppService, settings: StaticSettings | None = None) -> str:
    """nginx.conf text serving `service`'s built assets."""
    text: str = crossplane.build(static_payload(service, settings), indent=4, tabs=False, header=False)
    return HEADER + text.rstrip("\n") + "\n"
