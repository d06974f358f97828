"""A minimal S3 (MinIO) stand-in for tests: PUT and GET of objects, every request's Signature V4
checked against tools.smoke.probes' signer, so two independent clients (the smoke test's Python and the
reference application's JavaScript) must agree with it."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tools.smoke.probes import s3_authorization

_CREDENTIAL = re.compile(r"Credential=([^/]+)/")


def signature_ok(method: str, path: str, headers: Mapping[str, str], keys: Mapping[str, str]) -> bool:
    """Whether `authorization` is the V4 signature of this request by one of `keys` (access -> secret);
    `headers` are keyed in lower case."""
    authorization = headers.get("authorization", "")
    match = _CREDENTIAL.search(authorization)
    if not match or match.group(1) not in keys:
        return False
    expected = s3_authorization(method=method, host=headers.get("host", ""), path=path,
                                payload_hash=headers.get("x-amz-content-sha256", ""),
                                stamp=headers.get("x-amz-date", ""), access_key=match.group(1),
                                secret_key=keys[match.group(1)])
    return authorization == expected


@dataclass
class S3Fake:
    keys: dict[str, str]
    objects: dict[str, bytes] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    port: int = 0


@contextmanager
def s3_fake(keys: dict[str, str]) -> Iterator[S3Fake]:
    state = S3Fake(keys)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return None

        def _reply(self, status: int, body: bytes = b"") -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _signed(self) -> bool:
            headers = {key.lower(): value for key, value in self.headers.items()}
            if signature_ok(self.command, self.path, headers, state.keys):
                return True
            state.refused.append(f"{self.command} {self.path}")
            self._reply(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
            return False

        def do_PUT(self) -> None:
            if self._signed():
                state.objects[self.path] = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self._reply(200)

        def do_GET(self) -> None:
            if self._signed():
                found = state.objects.get(self.path)
                self._reply(200, found) if found is not None else self._reply(404, b"NoSuchKey")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
