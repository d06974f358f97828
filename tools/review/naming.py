"""Names of review environments, all derived from the pull-request number.

Contract with the Pulumi program: the stack is `review-<id>` with `<id>` = `pr-<number>`; ids are
lowercase `[a-z0-9-]`, start with a letter, and the whole stack name is at most 40 characters so that the
derived Kubernetes namespace `dreamscape-<stack>` stays a valid DNS label (63 characters at most).
"""

from __future__ import annotations

import re

from tools.review.errors import ReviewError

PROJECT = "dreamscape"
STACK_PREFIX = "review-"
MAX_STACK_NAME_LENGTH = 40
MAX_DNS_LABEL_LENGTH = 63

_PR_NUMBER = re.compile(r"^[0-9]+$")
_REVIEW_ID = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def parse_pr_number(text: str | int) -> int:
    """Parse a pull-request number such as `123` or `"123"`; reject anything else with a clear error."""
    raw = str(text).strip()
    if not _PR_NUMBER.fullmatch(raw) or int(raw) <= 0:
        raise ReviewError(f"invalid PR id {str(text)!r}: expected a positive integer")
    return int(raw)


def review_id(pr: int) -> str:
    """The review id of a pull request: `pr-<number>`."""
    return validate_review_id(f"pr-{parse_pr_number(pr)}")


def validate_review_id(value: str) -> str:
    """Check a review id (`pr-123`): lowercase `[a-z0-9-]`, starts with a letter, fits the stack limit."""
    if not _REVIEW_ID.fullmatch(value):
        raise ReviewError(
            f"invalid review id {value!r}: expected lowercase letters, digits and '-', "
            "starting with a letter and not ending with '-'"
        )
    if len(STACK_PREFIX) + len(value) > MAX_STACK_NAME_LENGTH:
        raise ReviewError(
            f"invalid review id {value!r}: the stack name {STACK_PREFIX + value!r} would be longer than "
            f"{MAX_STACK_NAME_LENGTH} characters"
        )
    return value


def stack_name(pr: int) -> str:
    """The stack of a pull request's review environment: `review-pr-<number>`."""
    return STACK_PREFIX + review_id(pr)


def short_stack_name(name: str) -> str:
    """Drop an `org/project/` qualifier that some backends put in front of stack names."""
    return name.rsplit("/", 1)[-1]


def validate_stack_name(name: str) -> str:
    """Check that `name` is a review stack name (`review-<id>`) and return its short form."""
    short = short_stack_name(name)
    if not short.startswith(STACK_PREFIX):
        raise ReviewError(f"invalid review stack name {name!r}: expected '{STACK_PREFIX}<id>'")
    validate_review_id(short.removeprefix(STACK_PREFIX))
    return short


def is_review_stack(name: str) -> bool:
    """True for a valid review stack name; `dev`, `prod` and anything malformed are never review stacks."""
    try:
        validate_stack_name(name)
    except ReviewError:
        return False
    return True


def pr_number_of(name: str) -> int | None:
    """The pull-request number of a `review-pr-<n>` stack, or None for any other stack."""
    if not is_review_stack(name):
        return None
    rid = short_stack_name(name).removeprefix(STACK_PREFIX)
    number = rid.removeprefix("pr-")
    if rid.startswith("pr-") and _PR_NUMBER.fullmatch(number) and int(number) > 0:
        return int(number)
    return None


def namespace(stack: str) -> str:
    """The Kubernetes namespace the program derives for a review stack: `dreamscape-<stack>`."""
    label = f"{PROJECT}-{validate_stack_name(stack)}"
    if len(label) > MAX_DNS_LABEL_LENGTH or not _DNS_LABEL.fullmatch(label):
        raise ReviewError(f"namespace {label!r} is not a valid DNS label")
    return label


def hostname(stack: str, review_domain: str) -> str:
    """The public hostname of a review environment: `<id>.<review domain>` (`pr-123.review.example.com`)."""
    rid = validate_stack_name(stack).removeprefix(STACK_PREFIX)
    domain = review_domain.strip().lower().rstrip(".")
    labels = domain.split(".") if domain else []
    if not labels or not all(_DNS_LABEL.fullmatch(label) for label in labels):
        raise ReviewError(
            f"invalid review domain {review_domain!r}: expected a DNS name like review.example.com"
        )
    return f"{rid}.{domain}"
