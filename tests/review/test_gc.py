"""gc selects only review stacks that expired or whose PR is closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tools.review.errors import ReviewError
from tools.review.gc import Selection, parse_open_prs, select_stacks_to_destroy
from tools.review.model import ReviewInfo, StackSummary

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
TTL = timedelta(hours=72)
FRESH = NOW - timedelta(hours=1)
OLD = NOW - timedelta(days=5)


def names(selection: list[Selection]) -> list[str]:
    return [item.stack for item in selection]


def test_stacks_older_than_the_ttl_are_selected_and_fresh_ones_kept() -> None:
    stacks = [StackSummary("review-pr-1", last_update=OLD), StackSummary("review-pr-2", last_update=FRESH)]
    chosen = select_stacks_to_destroy(stacks, {}, now=NOW, ttl=TTL)
    assert names(chosen) == ["review-pr-1"], "only the stack updated 5 days ago is past a 72h TTL"
    assert "older than the TTL" in chosen[0].reason, "the reason explains the choice"


def test_a_recorded_expiry_decides_before_the_last_update_time() -> None:
    stacks = [StackSummary("review-pr-1", last_update=FRESH), StackSummary("review-pr-2", last_update=OLD)]
    info = {
        "review-pr-1": ReviewInfo(pr=1, expires_at=NOW - timedelta(minutes=1)),
        "review-pr-2": ReviewInfo(pr=2, expires_at=NOW + timedelta(days=7)),
    }
    chosen = select_stacks_to_destroy(stacks, info, now=NOW, ttl=TTL)
    assert names(chosen) == ["review-pr-1"], "expired stack goes, long-lived one stays despite its age"
    assert chosen[0].reason == "expired at 2025-03-01T11:59:00Z", "the reason names the expiry"


def test_stacks_of_pull_requests_that_are_no_longer_open_are_selected() -> None:
    stacks = [StackSummary(f"review-pr-{n}", last_update=FRESH) for n in (12, 13, 15)]
    chosen = select_stacks_to_destroy(stacks, {}, now=NOW, ttl=TTL, open_prs=frozenset({12, 15}))
    assert names(chosen) == ["review-pr-13"], "PR 13 is closed, so its fresh stack is still collected"
    assert chosen[0].reason == "PR #13 is not open", "the reason names the PR"


def test_an_empty_open_pr_list_selects_every_review_stack() -> None:
    stacks = [StackSummary("review-pr-1", last_update=FRESH), StackSummary("review-pr-2")]
    chosen = select_stacks_to_destroy(stacks, {}, now=NOW, ttl=TTL, open_prs=frozenset())
    assert names(chosen) == ["review-pr-1", "review-pr-2"], "no PR is open, so no review stack is needed"


def test_non_review_stacks_are_never_selected_however_old() -> None:
    stacks = [
        StackSummary(name, last_update=OLD) for name in ("dev", "prod", "staging", "review-", "Review-pr-1")
    ]
    chosen = select_stacks_to_destroy(stacks, {}, now=NOW, ttl=TTL, open_prs=frozenset())
    assert chosen == [], "dev, prod and malformed names are out of gc's reach"


def test_a_review_stack_without_a_pr_number_is_judged_by_age_only() -> None:
    stacks = [StackSummary("review-demo", last_update=FRESH)]
    chosen = select_stacks_to_destroy(stacks, {}, now=NOW, ttl=TTL, open_prs=frozenset())
    assert chosen == [], "a non-PR review stack is not an orphan just because no PR matches it"


def test_a_stack_that_never_updated_is_kept_unless_its_pr_is_closed() -> None:
    stacks = [StackSummary("review-pr-4")]
    assert select_stacks_to_destroy(stacks, {}, now=NOW, ttl=TTL) == [], "unknown age is not stale"


def test_the_selection_is_sorted_by_stack_name() -> None:
    stacks = [StackSummary(f"review-pr-{n}", last_update=OLD) for n in (9, 10, 1)]
    chosen = select_stacks_to_destroy(stacks, {}, now=NOW, ttl=TTL)
    assert names(chosen) == ["review-pr-1", "review-pr-10", "review-pr-9"], "stable, sorted output"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,15", {12, 15}),
        (" 12, 15 \n 20 ", {12, 15, 20}),
        ("", set()),
        ('[{"number": 12}, {"number": 15}]', {12, 15}),
        ("[]", set()),
        ("[3, 4]", {3, 4}),
    ],
)
def test_open_prs_are_read_from_lists_and_gh_json(text: str, expected: set[int]) -> None:
    assert parse_open_prs(text) == frozenset(expected), f"{text!r} gives {expected}"


@pytest.mark.parametrize("bad", ["12,abc", "[{", '{"number": 1}', '[{"id": 1}]', "[true]"])
def test_a_malformed_open_pr_list_is_rejected(bad: str) -> None:
    with pytest.raises(ReviewError, match="invalid"):
        parse_open_prs(bad)
