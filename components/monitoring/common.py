"""Shared bits of the monitoring components: ports, UIDs, the MinIO metrics token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

COMPONENT = "monitoring"
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
GRAFANA_PORT = 3000
LOKI_PORT = 3100

# Service names: the address every peer uses (`<name>` on both targets), written once here.
PROMETHEUS = "prometheus"
ALERTMANAGER = "alertmanager"
GRAFANA = "grafana"
LOKI = "loki"

PROMETHEUS_URL = f"http://{PROMETHEUS}:{PROMETHEUS_PORT}"
"""Where Grafana queries Prometheus."""
LOKI_URL = f"http://{LOKI}:{LOKI_PORT}"
"""Where Grafana queries Loki."""
LOKI_PUSH_URL = f"{LOKI_URL}/loki/api/v1/push"
"""Where Alloy pushes log lines."""
ALERTMANAGER_ADDRESS = f"{ALERTMANAGER}:{ALERTMANAGER_PORT}"
"""Where Prometheus sends alerts."""
NOBODY = 65534

MINIO_TOKEN_EXPIRES_AT = 4102444800
"""2100-01-01T00:00:00Z: fixed, so the token (and the Prometheus pod) changes only when the key does."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def minio_prometheus_token(access_key: str, secret_key: str, expires_at: int = MINIO_TOKEN_EXPIRES_AT) -> str:
    """The bearer token `mc admin prometheus generate` prints: an HS512 JWT signed with the secret key,
    `sub` = access key, `iss` = "prometheus". Pure; call it inside `apply` on the secret output."""
    header = _b64(json.dumps({"alg": "HS512", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"exp": expires_at, "sub": access_key, "iss": "prometheus"}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = _b64(hmac.new(secret_key.encode(), signing_input, hashlib.sha512).digest())
    return f"{header}.{payload}.{signature}"
