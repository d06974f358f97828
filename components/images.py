"""Reading facts out of image references (`registry/name:tag@sha256:...`)."""

from __future__ import annotations

import re

from components.config.images import ImageReferenceError, parse_image_reference

_MAJOR = re.compile(r"v?([0-9]+)")


def tag_of(image: str) -> str | None:
    """The tag of an image reference (Docker's grammar: a registry port is not a tag), or None when it
    has none or is not a valid reference."""
    try:
        return parse_image_reference(image).tag
    except ImageReferenceError:
        return None


def major_version(image: str) -> int | None:
    """The leading number of the tag (`postgres:18.4-alpine@sha256:...` -> 18); None when the reference
    has no versioned tag, so a digest is never read as a version."""
    tag = tag_of(image)
    match = _MAJOR.match(tag) if tag else None
    return int(match[1]) if match else None
