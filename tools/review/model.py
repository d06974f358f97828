"""Plain data shared by the CLI, the garbage collector and the backends (no Pulumi imports)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from tools.review import naming
from tools.review.errors import ReviewError
from tools.review.ttl import format_rfc3339

_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")


def validate_image_tag(tag: str) -> str:
    """A Docker image tag that pins a build: valid tag syntax and never `latest`."""
    if not _IMAGE_TAG.fullmatch(tag):
        raise ReviewError(f"invalid image tag {tag!r}: expected [A-Za-z0-9_.-], at most 128 characters")
    if tag.lower() == "latest":
        raise ReviewError(
            "invalid image tag 'latest': review environments deploy a pinned tag (e.g. the commit sha)"
        )
    return tag


def validate_commit(commit: str) -> str:
    """A git commit id: 7 to 64 lowercase hexadecimal characters."""
    value = commit.strip().lower()
    if not _COMMIT.fullmatch(value):
        raise ReviewError(f"invalid commit {commit!r}: expected a git sha (7-64 hexadecimal characters)")
    return value


@dataclass(frozen=True)
class StackSummary:
    """What the backend knows about a stack without reading its config."""

    name: str
    last_update: datetime | None = None
    resource_count: int | None = None
    update_in_progress: bool = False


@dataclass(frozen=True)
class ReviewConfig:
    """The stack config values the command sets (namespace `dreamscape`), and nothing else."""

    image_tag: str
    pr: int
    commit: str
    expires_at: datetime

    def __post_init__(self) -> None:
        validate_image_tag(self.image_tag)
        naming.parse_pr_number(self.pr)
        validate_commit(self.commit)

    def review_object(self) -> dict[str, object]:
        """The `dreamscape:review` object: `{"pr": int, "commit": sha, "expiresAt": RFC 3339 UTC}`."""
        return {"pr": self.pr, "commit": self.commit, "expiresAt": format_rfc3339(self.expires_at)}


@dataclass(frozen=True)
class ReviewInfo:
    """Review metadata read back from a stack (any part may be unknown for old or foreign stacks)."""

    pr: int | None = None
    commit: str | None = None
    expires_at: datetime | None = None
