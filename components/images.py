"""Reading facts out of image references (`registry/name:tag@sha256:...`)."""

from __future__ import annotations

import re

_MAJOR = re.compile(r"^v?(\d+)")


def tag_of(image: str) -> str | None:
    """The tag of an image reference, or None (digest-only or untagged). A registry port (`host:5000/x`)
    is not a tag: the tag comes after the last `/`."""
    reference = image.split("@", 1)[0]
    last = reference.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def major_version(image: str) -> int | None:
    """The leading number of the tag (`postgres:18.4-alpine@sha256:...` -> 18); None when the reference
    has no versioned tag, so a digest is never read as a version."""
    tag = tag_of(image)
    match = _MAJOR.match(tag) if tag else None
    return int(match[1]) if match else None
