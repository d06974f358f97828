"""Docker image references, parsed with the grammar Docker itself uses.

The grammar is the one of github.com/distribution/reference (`reference.go`, `regexp.go`), which the
Docker daemon, containerd and the kubelet's image pulls all apply:

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [domain "/"] remote-name
    domain           := host [":" port-number]
    host             := domain-name | IPv4address | "[" IPv6address "]"
    domain-name      := domain-component ["." domain-component]*
    domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
    port-number      := /[0-9]+/
    remote-name      := path-component ["/" path-component]*
    path-component   := alpha-numeric [separator alpha-numeric]*
    alpha-numeric    := /[a-z0-9]+/
    separator        := /[_.]|__|[-]+/
    tag              := /[\\w][\\w.-]{0,127}/
    digest           := algorithm ":" hex   (sha256: 64 lowercase hex, sha512: 128; github.com/opencontainers/go-digest)

The whole name is at most 255 characters (`NameTotalLengthMax`). As in Docker's `splitDockerDomain`, the
first path component is a registry only when it contains "." or ":" or is "localhost"; otherwise the
reference is a Docker Hub repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME_TOTAL_LENGTH_MAX = 255
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})"
_DOMAIN = re.compile(rf"{_HOST}(?::[0-9]+)?")
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[_.]|__|[-]+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
# Registered algorithms fix the encoded length and alphabet (go-digest `algorithm.go`).
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}


class ImageReferenceError(ValueError):
    """The text is not an image reference Docker would pull."""


@dataclass(frozen=True, kw_only=True)
class ImageReference:
    """A parsed reference: `registry` is None for Docker Hub; `tag` and `digest` are each optional."""

    registry: str | None
    name: str
    """The repository path without the registry (`library/postgres` is written `postgres`)."""
    tag: str | None
    digest: str | None

    @property
    def pinned(self) -> bool:
        """True when the reference names a fixed build: a digest, or a tag other than `latest`."""
        return self.digest is not None or (self.tag is not None and self.tag != "latest")

    def __str__(self) -> str:
        text = f"{self.registry}/{self.name}" if self.registry else self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text


def parse_image_reference(text: str) -> ImageReference:
    """Parse `text` or raise ImageReferenceError saying which part breaks Docker's grammar."""
    if not isinstance(text, str) or not text:
        raise ImageReferenceError("an image reference cannot be empty")
    if text != text.strip() or any(c.isspace() for c in text):
        raise ImageReferenceError(f"image reference {text!r} contains whitespace")
    remainder, at, digest = text.partition("@")
    if at:
        _check_digest(text, digest)
    # A tag is what follows the last ':' unless that ':' belongs to a registry port (a '/' follows it).
    name, tag = remainder, None
    colon = remainder.rfind(":")
    if colon > remainder.rfind("/"):
        name, tag = remainder[:colon], remainder[colon + 1:]
        if not _TAG.fullmatch(tag):
            raise ImageReferenceError(
                f"image reference {text!r} has an invalid tag {tag!r}: a tag is 1-128 characters of "
                "[A-Za-z0-9_.-] and does not start with '.' or '-'"
            )
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise ImageReferenceError(f"image name in {text!r} is longer than {NAME_TOTAL_LENGTH_MAX} characters")
    registry, path = _split_registry(name)
    if registry is not None and not _DOMAIN.fullmatch(registry):
        raise ImageReferenceError(f"image reference {text!r} has an invalid registry {registry!r}")
    components = path.split("/")
    bad = [c for c in components if not _PATH_COMPONENT.fullmatch(c)]
    if bad:
        raise ImageReferenceError(
            f"image reference {text!r} has an invalid repository component {bad[0]!r}: lowercase letters "
            "and digits, separated by '.', '_', '__' or dashes"
        )
    return ImageReference(registry=registry, name=path, tag=tag, digest=digest if at else None)


def _split_registry(name: str) -> tuple[str | None, str]:
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return None, name


def _check_digest(text: str, digest: str) -> None:
    if not _DIGEST.fullmatch(digest):
        raise ImageReferenceError(f"image reference {text!r} has an invalid digest {digest!r}: expected algorithm:hex")
    algorithm, _, encoded = digest.partition(":")
    length = _DIGEST_HEX_LENGTH.get(algorithm)
    if length is not None and not re.fullmatch(rf"[a-f0-9]{{{length}}}", encoded):
        raise ImageReferenceError(
            f"image reference {text!r} has an invalid {algorithm} digest: expected {length} lowercase hex characters"
        )


def is_registry_host(text: str) -> bool:
    """A registry as the grammar's `domain` (host and optional port), e.g. `ghcr.io` or `registry:5000`."""
    return _DOMAIN.fullmatch(text) is not None


def version_of(reference: ImageReference) -> tuple[int, ...] | None:
    """The leading dotted numbers of the tag (`4.1.1-rc` -> (4, 1, 1), `v3.5.0` -> (3, 5, 0)); None when
    the tag does not start with a version (or there is no tag), so a digest is never read as one."""
    match = re.match(r"v?([0-9]+(?:\.[0-9]+)*)", reference.tag or "")
    return tuple(int(part) for part in match[1].split(".")) if match else None
