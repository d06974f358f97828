"""The web client's prod server: the reference client's real `npm run build` output, served by the real
nginx with the rendered config (gzip, cache headers, SPA fallback, the `/ws` proxy)."""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from components.pods.catalog import EXPERIENCE
from components.pods.model import AppService
from components.pods.render.files import REPO_ROOT
from components.pods.render.static_web import ASSETS_CACHE, PAGE_CACHE, StaticSettings, render_static
from tests.tooling import require_tool

WEB = next(service for service in EXPERIENCE.services if service.name == "web")
NOBODY = 65534


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_web_client_is_a_static_site_served_from_its_build_output() -> None:
    assert WEB.static_root is not None and str(WEB.static_root) == "/app/web/dist", "prod serves /app/web/dist"
    text = render_static(WEB)
    assert f"root {WEB.static_root};" in text, "the image's build output is the document root"
    assert "try_files $uri $uri/ /index.html;" in text, "client-side routes fall back to the page"
    assert "gzip on;" in text, "text is compressed"
    committed = (REPO_ROOT / "images" / "experience" / "web.nginx.conf").read_text(encoding="utf-8")
    assert committed == text, "images/experience/web.nginx.conf is current (`make render`)"


def test_a_service_that_is_not_static_cannot_proxy_paths() -> None:
    with pytest.raises(ValueError, match="only a static site"):
        AppService("api", 3100, WEB.source, proxies=(("/ws", 4000),))


@pytest.fixture
def site() -> Iterator[tuple[Path, AppService]]:
    """The reference web client built by its own `npm run build`, plus a hashed asset as Vite writes."""
    node = require_tool("node")
    npm = require_tool("npm")
    workdir = Path(tempfile.mkdtemp(prefix="dreamscape-web-"))
    try:
        app = workdir / "web"
        shutil.copytree(REPO_ROOT / "reference-app" / WEB.source, app)
        built = subprocess.run([npm, "run", "build"], cwd=app, capture_output=True, text=True, timeout=120,
                               check=False, env={**os.environ, "PATH": f"{Path(node).parent}:{os.environ['PATH']}"})
        assert built.returncode == 0, f"the reference client's `npm run build` works: {built.stderr}"
        assert (app / "dist" / "index.html").is_file(), "`build` writes dist/index.html (the contract)"
        (app / "dist" / "assets" / "app-3f9a1c.js").write_text("console.log('dreamscape');\n" * 200)
        for path in [workdir, *workdir.rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o644)  # nginx runs as nobody, like the pod's UID 1000
        yield workdir, replace(WEB, port=free_port(), proxies=(("/ws", free_port()),))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.tools
def test_the_static_server_passes_nginx_t_and_serves_deep_links_assets_and_gzip(
        site: tuple[Path, AppService]) -> None:
    nginx = require_tool("nginx")
    workdir, web = site
    conf = workdir / "web.conf"
    conf.write_text(render_static(web, StaticSettings(root=str(workdir / "web" / "dist"), runtime_dir=str(workdir))))
    conf.chmod(0o644)
    root = os.geteuid() == 0  # drop to nobody, as the pod runs NGINX without privileges
    unprivileged: dict[str, Any] = {"user": NOBODY, "group": NOBODY, "extra_groups": []} if root else {}
    checked = subprocess.run([nginx, "-t", "-q", "-e", "stderr", "-p", f"{workdir}/", "-c", str(conf)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=30, check=False,
                             **unprivileged)
    assert checked.returncode == 0, f"nginx -t accepts the static site config:\n{checked.stderr}"
    process = subprocess.Popen([nginx, "-e", "stderr", "-p", f"{workdir}/", "-c", str(conf)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **unprivileged)
    try:
        base = f"http://127.0.0.1:{web.port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                status, _, _ = fetch(f"{base}/health")
                break
            except (ConnectionError, urllib.error.URLError):
                assert process.poll() is None, f"nginx must start unprivileged: {process.communicate()[1]}"
                assert time.monotonic() < deadline, "nginx did not listen within 10 s"
                time.sleep(0.1)
        assert status == 200, "/health answers"
        page = (workdir / "web" / "dist" / "index.html").read_bytes()
        status, headers, body = fetch(f"{base}/voyages/42/itinerary")
        assert (status, body) == (200, page), f"a deep link gets index.html (SPA fallback), got {status}"
        assert headers["Cache-Control"] == PAGE_CACHE, f"the page is always revalidated: {headers}"
        status, headers, _ = fetch(f"{base}/")
        assert status == 200 and headers["Cache-Control"] == PAGE_CACHE, "the root page is revalidated"
        status, headers, body = fetch(f"{base}/assets/app-3f9a1c.js", {"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Cache-Control"] == ASSETS_CACHE, f"hashed assets are immutable: {headers}"
        assert headers.get("Content-Encoding") == "gzip", f"text assets are gzipped: {headers}"
        assert gzip.decompress(body).startswith(b"console.log"), "the gzip body is the asset"
        assert fetch(f"{base}/assets/missing.js")[0] == 404, "a missing asset is a 404, not the page"
        assert fetch(f"{base}/ws")[0] == 502, "/ws is proxied to the gateway's port (nothing listens here)"
    finally:
        process.terminate()
        process.communicate(timeout=10)
