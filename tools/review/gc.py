"""Pure selection of the review stacks to destroy; `cli.gc` does the destroying.

A review stack is selected when it is stale (its recorded `expiresAt` has passed or, without one, its last
update is older than the TTL) or when a list of open PRs is given and its PR is not in it. Stacks that are
not review stacks (`dev`, `prod`, anything not named `review-<id>`) are never selected, and neither is a
stack with an update in progress: destroying it would fight the running update (the next gc run gets it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from tools.review import naming
from tools.review.errors import ReviewError
from tools.review.model import ReviewInfo, StackSummary
from tools.review.ttl import format_rfc3339, is_stale


@dataclass(frozen=True)
class Selection:
    """One stack to destroy and why (printed by `gc`)."""

    stack: str
    reason: str


def select_stacks_to_destroy(
    stacks: Iterable[StackSummary],
    info: Mapping[str, ReviewInfo],
    *,
    now: datetime,
    ttl: timedelta,
    open_prs: frozenset[int] | None = None,
) -> list[Selection]:
    """Choose the review stacks to destroy, sorted by name. `info` is keyed by stack name."""
    selected: list[Selection] = []
    for summary in stacks:
        if not naming.is_review_stack(summary.name) or summary.update_in_progress:
            continue
        meta = info.get(summary.name, ReviewInfo())
        pr = meta.pr if meta.pr is not None else naming.pr_number_of(summary.name)
        if open_prs is not None and pr is not None and pr not in open_prs:
            selected.append(Selection(summary.name, f"PR #{pr} is not open"))
        elif is_stale(now=now, ttl=ttl, expires=meta.expires_at, last_update=summary.last_update):
            if meta.expires_at is not None:
                reason = f"expired at {format_rfc3339(meta.expires_at)}"
            else:
                assert summary.last_update is not None  # is_stale needs one of the two
                reason = f"last updated {format_rfc3339(summary.last_update)}, older than the TTL"
            selected.append(Selection(summary.name, reason))
    return sorted(selected, key=lambda s: s.stack)


def parse_open_prs(text: str) -> frozenset[int]:
    """Parse open PR numbers: `12,15`, whitespace separated, or the JSON of `gh pr list --json number`."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ReviewError(f"invalid open PR list: not valid JSON ({exc.msg})") from None
        if not isinstance(data, list):
            raise ReviewError("invalid open PR list: expected a JSON list")
        items: list[str | int] = []
        for item in data:
            if isinstance(item, dict) and "number" in item:
                items.append(item["number"])
            elif isinstance(item, int | str) and not isinstance(item, bool):
                items.append(item)
            else:
                raise ReviewError(
                    f"invalid open PR list entry {item!r}: expected a number or {{'number': N}}"
                )
        return frozenset(naming.parse_pr_number(item) for item in items)
    parts = [part for part in re.split(r"[,\s]+", stripped) if part]
    return frozenset(naming.parse_pr_number(part) for part in parts)
