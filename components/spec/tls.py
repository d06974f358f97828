"""Encryption in transit: a server's certificate and a client's trust, said once for every platform.

A service that terminates TLS declares a `ServerCertificate` with the target-neutral names its clients
use; a container that connects to one sets `Container.trusts_ca`. A platform with an internal PKI
(`PlatformFacts.transit_tls`; Kubernetes: cert-manager) issues and renews the certificate from the
environment's CA and mounts it, laid out as cert-manager writes its Secrets (`tls.crt`, `tls.key`,
`ca.crt`), at `TLS_DIR`; and mounts the CA alone at `CA_FILE` in every container that trusts it. A platform
without one (Docker, a laptop) runs plaintext and components plan no TLS settings there.
"""

from __future__ import annotations

from dataclasses import dataclass

TLS_DIR = "/run/tls/server"
"""Where a server finds its certificate, key and CA (the keys of a cert-manager certificate Secret)."""
CERT_FILE = f"{TLS_DIR}/tls.crt"
KEY_FILE = f"{TLS_DIR}/tls.key"
SERVER_CA_FILE = f"{TLS_DIR}/ca.crt"
CA_DIR = "/run/tls/ca"
CA_FILE = f"{CA_DIR}/ca.crt"
"""Where a client finds the environment's CA: the only file a client needs to verify any server here."""
SECRET_KEYS = ("tls.crt", "tls.key", "ca.crt")
"""The keys cert-manager writes into a certificate's Secret, and so the files under `TLS_DIR`."""


@dataclass(frozen=True, kw_only=True)
class ServerCertificate:
    """A server certificate for the names clients connect to; verify-full clients check them."""

    name: str
    """The certificate's name (the platform derives its Secret from it)."""
    dns_names: tuple[str, ...]
    """Target-neutral host names (`redis`, `redis-0.redis-peers`, `postgres-rw`); the platform adds the
    qualified forms its resolver also answers to."""

    def __post_init__(self) -> None:
        if not self.dns_names:
            raise ValueError(f"certificate {self.name}: a server certificate needs at least one DNS name")
        if len(set(self.dns_names)) != len(self.dns_names):
            raise ValueError(f"certificate {self.name}: DNS names repeat: {self.dns_names}")
