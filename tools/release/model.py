"""What a release record is and how rollback picks its target: pure functions, no Pulumi.

A release is an image tag (the commit SHA the image pipeline built, or a semver tag). The record lives
in the stack's tags, next to its state in the shared backend, so every machine that can read the state
reads the same record, and it survives checkouts:

- `dreamscape:release:current`: the tag the last successful update deployed;
- `dreamscape:release:lastGood`: the newest tag that passed `make smoke` after its deploy;
- `dreamscape:release:goodHistory`: the last few good tags, newest first, space separated (stack tag
  values are capped at 256 characters, so it keeps GOOD_HISTORY of them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tools.release.errors import ReleaseError

TAG_CURRENT = "dreamscape:release:current"
TAG_LAST_GOOD = "dreamscape:release:lastGood"
TAG_HISTORY = "dreamscape:release:goodHistory"
GOOD_HISTORY = 5
IMAGE_TAG = re.compile(r"^(?!latest$)[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
"""The image-tag rule of the program's `imageTag` config key (components/config/model.py)."""


def validate_tag(text: str) -> str:
    """An immutable image tag: what `imageTag` accepts, and never `latest`."""
    tag = text.strip()
    if not IMAGE_TAG.fullmatch(tag):
        raise ReleaseError(f"{text!r} is not a release tag (letters, digits, '_', '.', '-'; never 'latest')")
    return tag


@dataclass(frozen=True, kw_only=True)
class ReleaseRecord:
    """The release record of one stack, as read from its tags."""

    current: str | None = None
    last_good: str | None = None
    good_history: tuple[str, ...] = ()

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> ReleaseRecord:
        """Read what `tags()` wrote; a malformed value counts as unknown, never as an error."""

        def tag(key: str) -> str | None:
            value = tags.get(key, "").strip()
            return value if IMAGE_TAG.fullmatch(value) else None

        history = tuple(t for t in tags.get(TAG_HISTORY, "").split() if IMAGE_TAG.fullmatch(t))
        return cls(current=tag(TAG_CURRENT), last_good=tag(TAG_LAST_GOOD), good_history=history)

    def tags(self) -> dict[str, str]:
        """The stack tags that record this state (unknown values are left out)."""
        tags: dict[str, str] = {}
        if self.current:
            tags[TAG_CURRENT] = self.current
        if self.last_good:
            tags[TAG_LAST_GOOD] = self.last_good
        if self.good_history:
            tags[TAG_HISTORY] = " ".join(self.good_history)
        return tags

    def deployed(self, tag: str) -> ReleaseRecord:
        """After an update deployed `tag` (not yet smoke-tested)."""
        return ReleaseRecord(current=validate_tag(tag), last_good=self.last_good, good_history=self.good_history)

    def good(self, tag: str) -> ReleaseRecord:
        """After `tag` passed its smoke test: it becomes the last good release, first in the history."""
        tag = validate_tag(tag)
        history = (tag, *(t for t in self.good_history if t != tag))[:GOOD_HISTORY]
        return ReleaseRecord(current=self.current, last_good=tag, good_history=history)

    def rollback_target(self, to: str | None = None) -> str:
        """`to` when given; else the newest good release that is not the one running now.

        After a failed deploy the running release is the bad one and the last good one is older, so it is
        the target. When the running release had passed its smoke test and turns out bad later, the last good
        release IS the running one, and rollback goes one further back in the history.
        """
        if to is not None:
            return validate_tag(to)
        for tag in (self.last_good, *self.good_history):
            if tag and tag != self.current:
                return tag
        if self.last_good is None:
            raise ReleaseError("no good release is recorded for this stack yet; pass --to TAG")
        raise ReleaseError(f"the only good release recorded is the one running now ({self.current}); "
                           "pass --to TAG")
