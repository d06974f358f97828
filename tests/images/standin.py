"""A local stand-in for the Big Pods' pinned base image, made from Debian packages, for real builds here.

Nothing can be pulled on this machine, and the tests must not weaken the pinned `FROM`. So the stand-in is
passed as a named build context under the pinned reference itself
(`--build-context node:24-alpine3.22@sha256:...=container-image://localhost/dreamscape-standin:<key>`):
buildah (1.28) resolves that `FROM` to the local image and never contacts a registry, and a build that
forgets the context fails (`--pull=never`).

What the stand-in provides is what the Dockerfiles use from node:<major>-alpine: node and npm, a POSIX
shell, `wget` (HEALTHCHECK), the `node` user with UID 1000, and `apk add` for supervisor and NGINX,
which are installed already (so `apk` is a no-op here). The host's CA bundle is trusted too, so `npm ci`
works behind an intercepting proxy. It is built once per package list and kept in buildah's storage.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from pathlib import Path

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("nodejs", "npm", "nginx-light", "supervisor", "wget", "ca-certificates")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
STANDIN_CA = "/etc/ssl/certs/host-ca-certificates.crt"
FAKE_APK = "#!/bin/sh\n# Stand-in for the apk of Alpine: what the Dockerfiles add is installed already.\nexit 0\n"
SETUP = (
    "useradd --uid 1000 --user-group --create-home --shell /bin/sh node"
    f" && printf '%s' '{FAKE_APK}' > /sbin/apk && chmod 755 /sbin/apk"
)


def key() -> str:
    """Changes whenever what goes into the stand-in changes, so a stale one is never reused."""
    text = "\n".join([SUITE, MIRROR, *PACKAGES, SETUP, STANDIN_CA])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def reference() -> str:
    return f"localhost/dreamscape-standin:{key()}"


def exists(buildah: str, image: str) -> bool:
    return subprocess.run([buildah, "inspect", "--type", "image", image], capture_output=True,
                          check=False).returncode == 0


def _run(*argv: str) -> str:
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout.strip()


def ensure(buildah: str, mmdebstrap: str) -> str:
    """The stand-in's image reference, built first when buildah's storage does not hold it yet."""
    image = reference()
    if exists(buildah, image):
        return image
    with tempfile.TemporaryDirectory(prefix="dreamscape-standin-") as work:
        rootfs = Path(work) / "rootfs.tar"
        _run(mmdebstrap, "--variant=apt", f"--include={','.join(PACKAGES)}",
             "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-exclude=/usr/share/man/*",
             "--dpkgopt=path-exclude=/usr/share/locale/*", SUITE, str(rootfs), MIRROR)
        container = _run(buildah, "from", "scratch")
        try:
            _run(buildah, "add", "--quiet", container, str(rootfs), "/")
            _run(buildah, "copy", "--quiet", container, str(HOST_CA_BUNDLE), STANDIN_CA)
            _run(buildah, "run", "--isolation", "chroot", container, "--", "/bin/sh", "-c", SETUP)
            _run(buildah, "config", "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                 "--env", f"NODE_EXTRA_CA_CERTS={STANDIN_CA}", container)
            _run(buildah, "commit", "--quiet", container, image)
        finally:
            subprocess.run([buildah, "rm", container], capture_output=True, check=False)
    return image
