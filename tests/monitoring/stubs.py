"""Stand-in metrics endpoints on 127.0.0.1: each serves one real source's exposition text on one path.

A stand-in answers its metrics path with the text (optionally only with the right bearer token), anything
else with 404, and an HTML page when it poses as a web server, exactly what a scraper of the wrong port
would meet.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Endpoint:
    path: str | None
    """The metrics path; None for a port that serves no metrics (NGINX, Vite)."""
    body: str
    token: str | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    endpoint: Endpoint
    hits: int = 0


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        endpoint = self.server.endpoint
        self.server.hits += 1
        if endpoint.path is None:
            self._send(200, "<!doctype html><html><body>not metrics</body></html>", "text/html")
        elif self.path.split("?")[0] != endpoint.path:
            self._send(404, "404 page not found\n", "text/plain")
        elif endpoint.token is not None and self.headers.get("Authorization") != f"Bearer {endpoint.token}":
            self._send(403, "Access Denied\n", "text/plain")
        else:
            self._send(200, endpoint.body, "text/plain; version=0.0.4")

    def _send(self, status: int, body: str, content_type: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def serving(endpoints: list[Endpoint]) -> Iterator[list[int]]:
    """Start one server per endpoint; yield their ports; stop them all."""
    servers: list[_Server] = []
    try:
        for endpoint in endpoints:
            server = _Server(("127.0.0.1", 0), _Handler)
            server.endpoint = endpoint
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
        yield [s.server_address[1] for s in servers]
    finally:
        # shutdown() waits for the serve loop's next poll: stop them all at once, not one poll each.
        stoppers = [threading.Thread(target=server.shutdown) for server in servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in servers:
            server.server_close()
