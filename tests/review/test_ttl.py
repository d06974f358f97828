"""TTLs parse strictly; expiry and staleness are computed in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tools.review.errors import ReviewError
from tools.review.ttl import expires_at, format_rfc3339, is_stale, parse_rfc3339, parse_ttl

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90m", timedelta(minutes=90)), ("72h", timedelta(hours=72)), ("3d", timedelta(days=3))],
)
def test_minutes_hours_and_days_are_understood(text: str, expected: timedelta) -> None:
    assert parse_ttl(text) == expected, f"{text} parses to {expected}"


@pytest.mark.parametrize("bad", ["72", "3x", "h", "-1h", "1.5h", "72 h", "", "3D"])
def test_a_malformed_ttl_is_rejected_with_an_example_of_the_format(bad: str) -> None:
    with pytest.raises(ReviewError) as caught:
        parse_ttl(bad)
    assert f"invalid TTL {bad!r}" in str(caught.value), "the message names the bad input"
    assert "72h" in str(caught.value), "the message shows a valid example"


def test_a_zero_ttl_is_rejected() -> None:
    with pytest.raises(ReviewError, match="longer than zero"):
        parse_ttl("0h")


def test_a_ttl_beyond_ninety_days_is_rejected() -> None:
    with pytest.raises(ReviewError, match="at most 90d"):
        parse_ttl("91d")


def test_expiry_is_now_plus_ttl_in_whole_utc_seconds() -> None:
    local = datetime(2025, 3, 1, 13, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert expires_at(local, timedelta(hours=72)) == datetime(2025, 3, 4, 12, 0, tzinfo=UTC), (
        "expiry is converted to UTC and truncated to seconds"
    )


def test_rfc3339_round_trips_with_a_z_suffix() -> None:
    text = format_rfc3339(NOW)
    assert text == "2025-03-01T12:00:00Z", "UTC timestamps use the Z suffix"
    assert parse_rfc3339(text) == NOW, "parsing gives the same instant back"


def test_a_timestamp_without_a_time_zone_is_rejected() -> None:
    with pytest.raises(ReviewError, match="time zone"):
        parse_rfc3339("2025-03-01T12:00:00")


def test_a_passed_expiry_makes_an_environment_stale_whatever_its_last_update() -> None:
    assert is_stale(now=NOW, ttl=timedelta(days=30), expires=NOW, last_update=NOW), "expiry reached"


def test_a_future_expiry_wins_over_an_old_last_update() -> None:
    old = NOW - timedelta(days=10)
    future = NOW + timedelta(hours=1)
    assert not is_stale(now=NOW, ttl=timedelta(hours=1), expires=future, last_update=old), (
        "an explicit --ttl given at up time is respected by gc"
    )


def test_without_expiry_the_last_update_is_compared_to_the_ttl() -> None:
    ttl = timedelta(hours=72)
    assert is_stale(now=NOW, ttl=ttl, expires=None, last_update=NOW - timedelta(hours=73)), "older: stale"
    assert not is_stale(now=NOW, ttl=ttl, expires=None, last_update=NOW - timedelta(hours=71)), "newer: kept"


def test_naive_last_update_times_are_taken_as_utc() -> None:
    naive = datetime(2025, 2, 20, 12, 0, 0)
    assert is_stale(now=NOW, ttl=timedelta(days=3), expires=None, last_update=naive), "naive means UTC"


def test_with_nothing_to_judge_by_an_environment_is_not_stale() -> None:
    assert not is_stale(now=NOW, ttl=timedelta(minutes=1), expires=None, last_update=None), "unknown age"
