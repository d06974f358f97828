"""Names of review environments are derived from the PR number and always valid."""

from __future__ import annotations

import pytest

from tools.review import naming
from tools.review.errors import ReviewError


def test_a_pr_number_becomes_the_review_stack_name() -> None:
    assert naming.stack_name(123) == "review-pr-123", "the stack of PR 123 is review-pr-123"


def test_a_pr_number_given_as_text_is_accepted() -> None:
    assert naming.parse_pr_number(" 42 ") == 42, "surrounding whitespace is tolerated"


@pytest.mark.parametrize("bad", ["PR 12", "0", "-3", "12a", "", "1.5", "#12"])
def test_a_malformed_pr_id_is_rejected_with_a_clear_message(bad: str) -> None:
    with pytest.raises(ReviewError) as caught:
        naming.parse_pr_number(bad)
    assert str(caught.value) == f"invalid PR id {bad!r}: expected a positive integer", (
        "the message names the bad input and what was expected"
    )


def test_the_namespace_is_the_project_prefix_plus_the_stack() -> None:
    assert naming.namespace("review-pr-123") == "dreamscape-review-pr-123", "namespace derives from stack"


def test_the_hostname_is_the_review_id_under_the_review_domain() -> None:
    assert naming.hostname("review-pr-123", "Review.Example.com.") == "pr-123.review.example.com", (
        "hostname is pr-<n>.<domain>, lowercased, without a trailing dot"
    )


def test_a_bad_review_domain_is_rejected() -> None:
    with pytest.raises(ReviewError, match="invalid review domain"):
        naming.hostname("review-pr-1", "not a domain")


def test_the_longest_allowed_stack_name_still_gives_a_valid_namespace() -> None:
    longest = "review-pr-" + "9" * (naming.MAX_STACK_NAME_LENGTH - len("review-pr-"))
    assert len(longest) == naming.MAX_STACK_NAME_LENGTH, "test setup: exactly at the limit"
    assert len(naming.namespace(longest)) <= naming.MAX_DNS_LABEL_LENGTH, "namespace fits a DNS label"


def test_a_pr_number_too_long_for_the_stack_limit_is_rejected() -> None:
    with pytest.raises(ReviewError, match="longer than 40 characters"):
        naming.stack_name(int("9" * 31))


@pytest.mark.parametrize("bad", ["Pr-1", "1pr", "pr_1", "pr-1-", "pr 1", ""])
def test_review_ids_must_be_lowercase_dns_friendly_and_start_with_a_letter(bad: str) -> None:
    with pytest.raises(ReviewError, match="invalid review id"):
        naming.validate_review_id(bad)


@pytest.mark.parametrize("name", ["dev", "prod", "review-", "review-PR-1", "reviewpr-1", "staging-pr-1"])
def test_other_stacks_are_never_review_stacks(name: str) -> None:
    assert not naming.is_review_stack(name), f"{name!r} must not be treated as a review stack"


def test_a_fully_qualified_review_stack_name_is_recognised() -> None:
    assert naming.is_review_stack("organization/dreamscape/review-pr-7"), "org/project/ prefix is ignored"
    assert naming.pr_number_of("organization/dreamscape/review-pr-7") == 7, "the PR number is read back"


def test_a_review_stack_with_a_non_pr_id_has_no_pr_number() -> None:
    assert naming.is_review_stack("review-demo"), "review-<id> with any valid id is a review stack"
    assert naming.pr_number_of("review-demo") is None, "but only pr-<n> ids carry a PR number"
