"""Certificates laid out as cert-manager writes a certificate's Secret, for tests against real daemons.

`issue` makes a CA (or reuses one) and a server certificate for some DNS names, and writes `tls.crt`,
`tls.key` and `ca.crt` into a directory, the way the kubelet mounts the Secret: each file a symlink into a
`..data` directory, which a renewal swaps atomically (`renew`). The openssl CLI does the work (the
`cryptography` package is not a dependency); ECDSA P-256 keys in PKCS#8, as kubernetes/pki.py asks.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from components.spec.tls import SECRET_KEYS
from tests.tooling import require_tool


@dataclass(frozen=True)
class Authority:
    cert: Path
    key: Path


def _openssl(*args: str) -> None:
    done = subprocess.run([require_tool("openssl"), *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"openssl {' '.join(args)}: {done.stderr}"


def _key(path: Path) -> None:
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path))


def authority(directory: Path, name: str = "test CA") -> Authority:
    """A self-signed CA, like the environment's `dreamscape-ca`."""
    directory.mkdir(parents=True, exist_ok=True)
    key, cert = directory / "ca.key", directory / "ca.crt"
    _key(key)
    _openssl("req", "-x509", "-new", "-key", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return Authority(cert=cert, key=key)


def issue(ca: Authority, directory: Path, dns_names: tuple[str, ...], serial: int = 1) -> Path:
    """A server certificate from `ca` for `dns_names`, written as a Secret volume at `directory`."""
    work = directory.parent / f".{directory.name}-{serial}"
    work.mkdir(parents=True)
    key, csr, cert = work / "tls.key", work / "server.csr", work / "tls.crt"
    _key(key)
    _openssl("req", "-new", "-key", str(key), "-out", str(csr), "-subj", f"/CN={dns_names[0]}")
    extensions = work / "ext.cnf"
    extensions.write_text("subjectAltName=" + ",".join(f"DNS:{name}" for name in dns_names) + "\n"
                          "keyUsage=critical,digitalSignature,keyEncipherment\n"
                          "extendedKeyUsage=serverAuth,clientAuth\n")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key), "-out", str(cert),
             "-days", "1", "-set_serial", str(serial), "-extfile", str(extensions))
    (work / "ca.crt").write_bytes(ca.cert.read_bytes())
    for name in ("server.csr", "ext.cnf"):
        (work / name).unlink()
    _swap(directory, work)
    return directory


def renew(ca: Authority, directory: Path, dns_names: tuple[str, ...], serial: int) -> Path:
    """A new key and certificate swapped in at once, as the kubelet updates a Secret volume."""
    return issue(ca, directory, dns_names, serial)


def _swap(directory: Path, data: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    link = directory / "..data"
    staging = directory / "..data_tmp"
    staging.unlink(missing_ok=True)
    staging.symlink_to(data)
    os.replace(staging, link)
    for key in SECRET_KEYS:
        target = directory / key
        if not target.is_symlink():
            target.symlink_to(Path("..data") / key)
    for path in (*data.iterdir(), data):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    os.chmod(data / "tls.key", 0o600)


def serial_of(certificate: Path) -> str:
    done = subprocess.run([require_tool("openssl"), "x509", "-noout", "-serial", "-in", str(certificate)],
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip().split("=", 1)[1]
