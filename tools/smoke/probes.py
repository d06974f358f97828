"""Protocol-level probes, standard library only: each touches one thing for real and returns a short
detail, or raises ProbeError saying what went wrong. No client library is needed on the machine that
runs the smoke test (a runner, a laptop) beyond Python."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os
import socket
import ssl
import struct
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

TIMEOUT = 10.0


class ProbeError(RuntimeError):
    """A probe failed; the message is what the report shows."""


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode())


def tls_context(insecure: bool) -> ssl.SSLContext:
    """Verified TLS, or (a throwaway cluster whose edge has no real certificate yet) unverified."""
    context = ssl.create_default_context()
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def http(url: str, *, method: str = "GET", auth: tuple[str, str] | None = None, body: bytes | None = None,
         headers: dict[str, str] | None = None, timeout: float = TIMEOUT, insecure: bool = False) -> HttpReply:
    """One HTTP request; any status is returned (the caller judges it), connection problems raise."""
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        context = tls_context(insecure) if url.startswith("https:") else None
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return HttpReply(response.status, response.read())
    except urllib.error.HTTPError as error:
        return HttpReply(error.code, error.read())
    except (urllib.error.URLError, OSError) as error:
        raise ProbeError(f"{method} {url}: {getattr(error, 'reason', error)}") from None


# --- PostgreSQL: startup, password / MD5 / SCRAM-SHA-256 authentication, one query ---------------------

def tcp(host: str, port: int, timeout: float = TIMEOUT) -> str:
    """The port accepts a connection: all a smoke test can say of a service it has no protocol probe for."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return f"{host}:{port} accepts connections"
    except OSError as error:
        raise ProbeError(f"{host}:{port}: {error.strerror or error}") from None


def _pg_message(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("!I", len(payload) + 4) + payload


def _pg_read(sock: socket.socket) -> tuple[bytes, bytes]:
    header = _recv_exactly(sock, 5)
    length = struct.unpack("!I", header[1:])[0]
    return header[:1], _recv_exactly(sock, length - 4)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ProbeError("the server closed the connection")
        data += chunk
    return data


def _pg_error(payload: bytes) -> str:
    fields = {part[:1]: part[1:].decode(errors="replace") for part in payload.split(b"\0") if part}
    return fields.get(b"M", "unknown error")


def _scram(sock: socket.socket, user: str, password: str) -> None:
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n=,r={nonce}"
    initial = ("n,," + first_bare).encode()
    sock.sendall(_pg_message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!I", len(initial)) + initial))
    kind, payload = _pg_read(sock)
    if kind == b"E":
        raise ProbeError(f"login as {user}: {_pg_error(payload)}")
    server_first = payload[4:].decode()
    attributes = dict(item.split("=", 1) for item in server_first.split(","))
    if not attributes["r"].startswith(nonce):
        raise ProbeError("SCRAM: the server's nonce does not extend ours")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attributes["s"]),
                                 int(attributes["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_bare = f"c=biws,r={attributes['r']}"
    auth_message = f"{first_bare},{server_first},{final_bare}".encode()
    signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    final = f"{final_bare},p={base64.b64encode(proof).decode()}".encode()
    sock.sendall(_pg_message(b"p", final))


def postgres_login(host: str, port: int, user: str, password: str, database: str,
                   timeout: float = TIMEOUT) -> str:
    """Log in as `user` and run `SELECT current_user`; returns who the server says we are."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            params = f"user\0{user}\0database\0{database}\0\0".encode()
            sock.sendall(struct.pack("!II", len(params) + 8, 196608) + params)
            while True:
                kind, payload = _pg_read(sock)
                if kind == b"E":
                    raise ProbeError(f"login as {user}: {_pg_error(payload)}")
                if kind == b"R":
                    code = struct.unpack("!I", payload[:4])[0]
                    if code == 3:
                        sock.sendall(_pg_message(b"p", password.encode() + b"\0"))
                    elif code == 5:
                        inner = hashlib.md5((password + user).encode()).hexdigest()
                        outer = hashlib.md5(inner.encode() + payload[4:8]).hexdigest()
                        sock.sendall(_pg_message(b"p", f"md5{outer}".encode() + b"\0"))
                    elif code == 10:
                        _scram(sock, user, password)
                    elif code not in (0, 11, 12):
                        raise ProbeError(f"unsupported authentication request {code}")
                elif kind == b"Z":
                    break
            sock.sendall(_pg_message(b"Q", b"SELECT current_user\0"))
            who = ""
            while True:
                kind, payload = _pg_read(sock)
                if kind == b"D":
                    size = struct.unpack("!I", payload[2:6])[0]
                    who = payload[6:6 + size].decode()
                elif kind == b"E":
                    raise ProbeError(f"query as {user}: {_pg_error(payload)}")
                elif kind == b"Z":
                    return who
    except OSError as error:
        raise ProbeError(f"postgres {host}:{port}: {error}") from None


# --- Redis: AUTH and PING ------------------------------------------------------------------------------

def _resp(*args: str) -> bytes:
    out = f"*{len(args)}\r\n"
    for arg in args:
        out += f"${len(arg.encode())}\r\n{arg}\r\n"
    return out.encode()


def redis_auth(host: str, port: int, password: str, timeout: float = TIMEOUT) -> str:
    """AUTH with the generated password, then PING."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            handle = sock.makefile("rb")
            sock.sendall(_resp("AUTH", password) + _resp("PING"))
            replies = [handle.readline().decode().strip() for _ in range(2)]
    except OSError as error:
        raise ProbeError(f"redis {host}:{port}: {error}") from None
    if replies[0] != "+OK":
        raise ProbeError(f"AUTH was refused: {replies[0]}")
    if replies[1] != "+PONG":
        raise ProbeError(f"PING after AUTH answered {replies[1]}")
    return "AUTH ok, PONG"


# --- S3 (MinIO): Signature V4 PUT and GET --------------------------------------------------------------

def s3_authorization(*, method: str, host: str, path: str, payload_hash: str, stamp: str, access_key: str,
                     secret_key: str, region: str = "us-east-1") -> str:
    """The AWS Signature V4 `Authorization` header of a request signing host, payload hash and date."""
    headers = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": stamp}
    signed = sorted(headers)
    canonical = "\n".join([method, path, "", *(f"{h}:{headers[h]}" for h in signed), "", ";".join(signed),
                           payload_hash])
    scope = f"{stamp[:8]}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{secret_key}".encode()
    for part in (stamp[:8], region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={';'.join(signed)}, "
            f"Signature={signature}")


def s3_request(endpoint: str, access_key: str, secret_key: str, method: str, path: str, body: bytes = b"",
               region: str = "us-east-1", now: datetime.datetime | None = None) -> HttpReply:
    url = urllib.parse.urlsplit(endpoint)
    stamp = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y%m%dT%H%M%SZ")
    payload_hash = hashlib.sha256(body).hexdigest()
    canonical_path = urllib.parse.quote(path, safe="/-_.~")
    authorization = s3_authorization(method=method, host=url.netloc, path=canonical_path,
                                     payload_hash=payload_hash, stamp=stamp, access_key=access_key,
                                     secret_key=secret_key, region=region)
    headers = {"x-amz-content-sha256": payload_hash, "x-amz-date": stamp, "authorization": authorization}
    return http(f"{endpoint.rstrip('/')}{canonical_path}", method=method, body=body if method == "PUT" else None,
                headers=headers)


def s3_put_get(endpoint: str, access_key: str, secret_key: str, bucket: str, key: str) -> str:
    body = f"smoke {datetime.datetime.now(datetime.UTC).isoformat()}".encode()
    path = f"/{bucket}/{key}"
    put = s3_request(endpoint, access_key, secret_key, "PUT", path, body)
    if put.status != 200:
        raise ProbeError(f"PUT {path}: HTTP {put.status} {put.body[:200]!r}")
    got = s3_request(endpoint, access_key, secret_key, "GET", path)
    if got.status != 200 or got.body != body:
        raise ProbeError(f"GET {path}: HTTP {got.status}, {len(got.body)} bytes (expected what was put)")
    return f"put and got {path}"


# --- WebSocket: the upgrade handshake and one message -------------------------------------------------

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _ws_frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    length = len(payload)
    header = bytes([0x81, 0x80 | length]) if length < 126 else bytes([0x81, 0xFE]) + struct.pack("!H", length)
    return header + mask + masked


def _ws_read_text(sock: socket.socket) -> str:
    first, second = _recv_exactly(sock, 2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", _recv_exactly(sock, 2))[0]
    elif length == 127:
        length = struct.unpack("!Q", _recv_exactly(sock, 8))[0]
    payload = _recv_exactly(sock, length)
    if first & 0x0F == 0x8:
        raise ProbeError("the server closed the WebSocket before sending a message")
    return payload.decode(errors="replace")


def websocket(url: str, send: str | None = None, timeout: float = TIMEOUT, insecure: bool = False) -> str:
    """Upgrade `url` (ws://) to a WebSocket, check the accept key, optionally send `send`, return the
    first text message the server sends."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise ProbeError(f"{url}: expected a ws:// URL")
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    key = base64.b64encode(os.urandom(16)).decode()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")  # a browser's token rides here
    request = (f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
    try:
        with socket.create_connection((parts.hostname or "localhost", port), timeout=timeout) as plain:
            sock = plain
            if parts.scheme == "wss":
                sock = tls_context(insecure).wrap_socket(plain, server_hostname=parts.hostname)
            sock.sendall(request.encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(1)
                if not chunk:
                    raise ProbeError(f"{url}: connection closed during the handshake")
                head += chunk
            status, *lines = head.decode(errors="replace").split("\r\n")
            if " 101 " not in f"{status} ":
                raise ProbeError(f"{url}: upgrade refused: {status}")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
            expected = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
            if headers.get("sec-websocket-accept") != expected:
                raise ProbeError(f"{url}: wrong Sec-WebSocket-Accept")
            if send is not None:
                sock.sendall(_ws_frame(send))
            return _ws_read_text(sock)
    except OSError as error:
        raise ProbeError(f"{url}: {error}") from None
