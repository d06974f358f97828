"""The reference application reports unhandled errors to a Sentry-compatible DSN, and only when it has one.

A stand-in receiver on 127.0.0.1 accepts Sentry envelopes (`POST /api/<project>/envelope/`); a service
built from the reference kit (the code every reference service runs) answers a route that throws, and
then dies of an error nothing catches. The DSN reaches a real service as the file named by
`SENTRY_DSN_FILE` (per-service secret config, docs/application-contract.md); here it is `SENTRY_DSN`,
which the kit's `secret()` reads for local runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.monitoring.stubs import free_port
from tests.tooling import require_tool

pytestmark = pytest.mark.tools
ROOT = Path(__file__).resolve().parents[2]
SERVICE_DIR = ROOT / "reference-app" / "dreamscape-services" / "auth"
KEY = "publickey"
PROJECT = "42"
SCRIPT = """
const kit = require('./lib/kit');
const service = kit.createService({ name: 'auth', routes: {
  '/boom': async () => { throw new TypeError('boom from a route'); },
  '/later': async (req, res, { send }) => {
    setTimeout(() => { throw new RangeError('nothing caught this'); }, 50);
    return send(res, 202, { ok: true });
  },
} });
service.start();
"""


@dataclass
class Receiver:
    envelopes: list[tuple[str, dict[str, str], list[dict[str, Any]]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [items[2] for _, _, items in self.envelopes]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        items = [json.loads(line) for line in body.splitlines() if line]
        with self.server.receiver.lock:
            self.server.receiver.envelopes.append((self.path, {k.lower(): v for k, v in self.headers.items()}, items))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, int]]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.receiver = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.receiver, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _service(dsn: str | None) -> tuple[subprocess.Popen[bytes], int]:
    node = require_tool("node", "nodejs")
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(port), "HOST": "127.0.0.1"}
    if dsn is not None:
        env["SENTRY_DSN"] = dsn
    process = subprocess.Popen([node, "-e", SCRIPT], cwd=SERVICE_DIR, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("the reference service did not come up")


def _get(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code


def _wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_an_error_a_route_throws_and_one_nothing_catches_both_reach_the_dsn(
    receiver: tuple[Receiver, int],
) -> None:
    inbox, port = receiver
    process, service_port = _service(f"http://{KEY}@127.0.0.1:{port}/{PROJECT}")
    try:
        assert _get(service_port, "/boom") == 500, "the route's error is answered with a 500"
        _wait_for(lambda: len(inbox.events()) == 1, "the route's error to be reported")
        assert _get(service_port, "/later") == 202, "the request itself succeeds"
        assert process.wait(timeout=10) == 1, "an error nothing catches still ends the process (it restarts)"
    finally:
        if process.poll() is None:
            process.kill()
    path, headers, (envelope, item, event) = inbox.envelopes[0]
    assert path == f"/api/{PROJECT}/envelope/", f"the DSN's project envelope endpoint: {path}"
    assert f"sentry_key={KEY}" in headers["x-sentry-auth"], f"the DSN's public key authenticates: {headers}"
    assert envelope["event_id"] == event["event_id"] and item == {"type": "event"}, "a well-formed envelope"
    exception = event["exception"]["values"][0]
    assert (exception["type"], exception["value"]) == ("TypeError", "boom from a route"), exception
    assert event["tags"] == {"service": "auth"} and event["request"]["url"] == "/boom", event
    crashed = [e["exception"]["values"][0] for e in inbox.events()[1:]]
    assert [(c["type"], c["value"]) for c in crashed] == [("RangeError", "nothing caught this")], (
        f"the uncaught error is reported before the process exits: {crashed}")


def test_without_a_dsn_nothing_is_sent(receiver: tuple[Receiver, int]) -> None:
    inbox, _ = receiver
    process, service_port = _service(None)
    try:
        assert _get(service_port, "/boom") == 500, "the error is still answered"
        time.sleep(0.5)
    finally:
        process.kill()
        process.wait(timeout=10)
    assert inbox.envelopes == [], "error tracking is off until the service has a DSN"
