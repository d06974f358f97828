"""The rendered alertmanager.yml, run by the real Alertmanager (Debian's `prometheus-alertmanager`).

Stand-in receivers on 127.0.0.1 pose as Slack's webhook, PagerDuty's Events API and an SMTP relay. Alerts
are posted to Alertmanager's API, and the test checks which receiver each one reached. Only timing
(group_wait) and the PagerDuty URL are changed for the test; routing and inhibition are as rendered.
"""

from __future__ import annotations

import json
import socketserver
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml

from components.monitoring.alertmanager.config import (
    AlertmanagerArgs,
    EmailReceiver,
    PagerDutyReceiver,
    SlackReceiver,
    render_alertmanager_config,
)
from tests.monitoring.stubs import free_port
from tests.tooling import require_tool

pytestmark = pytest.mark.tools
DEADLINE_SECONDS = 30


@dataclass
class Inbox:
    """What the stand-in receivers got: (receiver kind, alert names) per notification."""

    got: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, names: tuple[str, ...]) -> None:
        with self.lock:
            self.got.append((kind, names))

    def names(self, kind: str) -> set[str]:
        with self.lock:
            return {name for k, names in self.got if k == kind for name in names}


class _Webhooks(ThreadingHTTPServer):
    daemon_threads = True
    inbox: Inbox


class _WebhookHandler(BaseHTTPRequestHandler):
    server: _Webhooks

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/slack":
            # The rendered Slack title names the alert: "[FIRING] <alertname> (<environment>)".
            names = tuple(body["attachments"][0]["title"].split()[1:2])
        else:
            names = (body["payload"]["custom_details"]["firing"].split("alertname = ")[1].split()[0],)
        self.server.inbox.add(self.path.strip("/"), names)
        data = b'{"ok": true, "status": "success"}'
        self.send_response(202 if self.path == "/pagerduty" else 200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return


class _Smtp(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    inbox: Inbox


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for one message: EHLO, MAIL, RCPT, DATA, QUIT."""

    server: _Smtp

    def handle(self) -> None:
        self.wfile.write(b"220 stand-in ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip().upper()
            if verb.startswith(("EHLO", "HELO")):
                self.wfile.write(b"250-stand-in\r\n250 8BITMIME\r\n")
            elif verb.startswith("DATA"):
                self.wfile.write(b"354 go ahead\r\n")
                message = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    message.append(data.decode(errors="replace"))
                subject = next((m for m in message if m.lower().startswith("subject:")), "")
                self.server.inbox.add("email", tuple(w for w in subject.split() if w[:1].isupper())[1:2])
                self.wfile.write(b"250 queued\r\n")
            elif verb.startswith("QUIT"):
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@dataclass
class Running:
    url: str
    inbox: Inbox
    config: dict[str, Any]
    """The rendered alertmanager.yml the server runs."""

    def fire(self, *alerts: dict[str, str]) -> None:
        body = json.dumps([{"labels": labels, "annotations": {"summary": "s", "description": "d"}}
                           for labels in alerts]).encode()
        request = urllib.request.Request(f"{self.url}/api/v2/alerts", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200, "Alertmanager accepts the alerts"


def _wait(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out after {DEADLINE_SECONDS}s waiting for {what}")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    binary = require_tool("prometheus-alertmanager", "alertmanager")
    base = tmp_path_factory.mktemp("alertmanager")
    inbox = Inbox()
    webhooks = _Webhooks(("127.0.0.1", 0), _WebhookHandler)
    webhooks.inbox = inbox
    smtp = _Smtp(("127.0.0.1", 0), _SmtpHandler)
    smtp.inbox = inbox
    for server in (webhooks, smtp):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    hooks = f"http://127.0.0.1:{webhooks.server_address[1]}"
    (base / "slack").write_text(f"{hooks}/slack")
    (base / "pagerduty").write_text("stand-in-routing-key")
    (base / "smtp").write_text("stand-in-password")
    args = AlertmanagerArgs(
        email=EmailReceiver("ops@example.com", "alerts@example.com", f"127.0.0.1:{smtp.server_address[1]}",
                            require_tls=False),
        slack=SlackReceiver(str(base / "slack")),
        pagerduty=PagerDutyReceiver(str(base / "pagerduty")),
    )
    config = yaml.safe_load(render_alertmanager_config(args))
    config["route"].update({"group_wait": "1s", "group_interval": "1s"})
    for receiver in config["receivers"]:
        for pagerduty in receiver.get("pagerduty_configs", []):
            pagerduty["url"] = f"{hooks}/pagerduty"
    (base / "alertmanager.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    web, cluster = free_port(), free_port()
    process = subprocess.Popen(
        [binary, f"--config.file={base / 'alertmanager.yml'}", f"--storage.path={base / 'data'}",
         f"--web.listen-address=127.0.0.1:{web}", f"--cluster.listen-address=127.0.0.1:{cluster}"],
        stdout=subprocess.DEVNULL, stderr=(base / "alertmanager.log").open("w"))
    try:
        url = f"http://127.0.0.1:{web}"
        _wait(lambda: urllib.request.urlopen(f"{url}/-/ready", timeout=2).status == 200, "readiness")
        yield Running(url, inbox, config)
    finally:
        process.terminate()
        process.wait(timeout=10)
        for server in (webhooks, smtp):
            server.shutdown()
            server.server_close()


NODE = {"environment": "prod", "node": "k3s-1"}


def test_a_critical_alert_pages_and_reaches_chat_but_not_email(running: Running) -> None:
    running.fire({"alertname": "PostgresDown", "severity": "critical", "environment": "prod",
                  "pod": "postgres-exporter", "service": "postgres-exporter"})
    _wait(lambda: "PostgresDown" in running.inbox.names("pagerduty") and "PostgresDown" in running.inbox.names(
        "slack"), "PagerDuty and Slack to receive PostgresDown")
    time.sleep(2)
    assert "PostgresDown" not in running.inbox.names("email"), "critical alerts page; they do not go by email"


def test_a_warning_reaches_chat_and_email_but_never_pages(running: Running) -> None:
    running.fire({"alertname": "RedisMemoryNearMax", "severity": "warning", "environment": "prod",
                  "pod": "redis-exporter", "service": "redis-exporter"})
    _wait(lambda: "RedisMemoryNearMax" in running.inbox.names("slack")
          and "RedisMemoryNearMax" in running.inbox.names("email"), "Slack and email to receive the warning")
    time.sleep(2)
    assert "RedisMemoryNearMax" not in running.inbox.names("pagerduty"), "a warning never pages"


def test_a_node_down_pages_once_and_silences_that_nodes_pod_alerts(running: Running) -> None:
    running.fire({"alertname": "NodeDown", "severity": "critical", **NODE},
                 {"alertname": "PodMemoryNearLimit", "severity": "critical", "pod": "core",
                  "kubernetes_pod": "core-pod-abc", **NODE},
                 {"alertname": "ServiceDown", "severity": "critical", "pod": "core", "service": "auth", **NODE})
    _wait(lambda: "NodeDown" in running.inbox.names("pagerduty"), "NodeDown to page")
    time.sleep(3)
    paged = running.inbox.names("pagerduty")
    assert not {"PodMemoryNearLimit", "ServiceDown"} & paged, f"the node's own alerts are inhibited: {paged}"


INTEGRATIONS = {"pagerduty_configs": "pagerduty", "slack_configs": "slack", "email_configs": "email"}
"""Each integration key of alertmanager.yml and the stand-in that receives it."""


def _received(inbox: Inbox, kind: str, alertname: str) -> Callable[[], bool]:
    return lambda: alertname in inbox.names(kind)


def test_every_configured_receiver_gets_a_firing_alert(running: Running) -> None:
    receivers = {r["name"]: sorted(k for k in r if k != "name") for r in running.config["receivers"]}
    routes = {route["receiver"]: route["matchers"] for route in running.config["route"]["routes"]}
    assert receivers and all(receivers.values()), f"every receiver has an integration: {receivers}"
    for receiver, integrations in receivers.items():
        alertname = f"DeliveryCheck{receiver.title()}"
        matched = dict(m.replace('"', "").split("=", 1) for m in routes[receiver])
        # A process of its own, so no alert another test fired (ServiceDown of core/auth) inhibits it.
        running.fire({"alertname": alertname, "environment": "prod", "pod": "delivery-check",
                      "service": "delivery-check", **matched})
        for integration in integrations:
            kind = INTEGRATIONS[integration]
            _wait(_received(running.inbox, kind, alertname), f"{kind} ({receiver}) to receive {alertname}")
