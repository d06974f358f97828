"""Time-to-live of review environments: parse `90m` / `72h` / `3d`, compute expiry, decide staleness."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tools.review.errors import ReviewError

_TTL = re.compile(r"^([0-9]+)([mhd])$")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
MAX_TTL = timedelta(days=90)


def parse_ttl(text: str) -> timedelta:
    """Parse a TTL such as `90m`, `72h` or `3d` into a positive timedelta of at most 90 days."""
    match = _TTL.fullmatch(text.strip())
    if match is None:
        raise ReviewError(
            f"invalid TTL {text!r}: expected a positive whole number followed by m, h or d "
            "(e.g. 90m, 72h, 3d)"
        )
    count, unit = int(match.group(1)), _UNITS[match.group(2)]
    # Compare before multiplying: a 30-digit count overflows timedelta instead of reaching the check.
    if count > MAX_TTL // unit:
        raise ReviewError(f"invalid TTL {text!r}: must be at most {MAX_TTL.days}d")
    ttl = count * unit
    if ttl <= timedelta(0):
        raise ReviewError(f"invalid TTL {text!r}: must be longer than zero")
    if ttl > MAX_TTL:
        raise ReviewError(f"invalid TTL {text!r}: must be at most {MAX_TTL.days}d")
    return ttl


def utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken to be UTC already (as Pulumi reports it)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def expires_at(now: datetime, ttl: timedelta) -> datetime:
    """The expiry instant of an environment updated at `now`, truncated to whole seconds, in UTC."""
    return utc(now).replace(microsecond=0) + ttl


def format_rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z` suffix: `2025-01-31T12:00:00Z`."""
    return utc(moment).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (with `Z` or an offset) into an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ReviewError(
            f"invalid timestamp {text!r}: expected RFC 3339 like 2025-01-31T12:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise ReviewError(f"invalid timestamp {text!r}: a time zone (Z or +hh:mm) is required")
    try:
        return utc(moment)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is past datetime.max in UTC
        raise ReviewError(f"invalid timestamp {text!r}: out of range") from None


def is_stale(
    *, now: datetime, ttl: timedelta, expires: datetime | None, last_update: datetime | None
) -> bool:
    """Decide whether an environment has outlived its time.

    An explicit expiry (written by `up --ttl`) wins: the environment is stale once it has passed. Without
    one, the environment is stale when its last update is older than `ttl`. With neither there is nothing
    to judge by, so it is not stale (the open-PR rule of `gc` still applies).
    """
    if expires is not None:
        return utc(now) >= utc(expires)
    if last_update is not None:
        return utc(now) - utc(last_update) > ttl
    return False
