"""Plausible dates: what a person can type for each kind of date, checked at every door.

A date far outside these ranges is a typing slip or a probe, and some break arithmetic: a time
of year 1 at +14:00 is before year 1 in UTC, one at 9999-12-31 is after year 9999 in Paris,
and Python raises on both. So inputs are refused outside the ranges (naming the field), and
display paths fall back to UTC rather than fail on a value stored before the check.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

EARLIEST_BIRTH = date(1900, 1, 1)
# Encounters and cases: the databank's records begin this century (imports of older registers
# included).
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)
# A consent lasts at most this long; a person is asked again after it.
LONGEST_CONSENT = timedelta(days=10 * 366)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_day(text: str) -> date | None:
    """A day written YYYY-MM-DD, or None (Python's parser also takes ISO week dates such as
    2026-W49-6 and compact forms, which no form asks for)."""
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def as_utc(moment: datetime) -> datetime | None:
    """An aware moment in UTC, or None if it has no zone or falls outside Python's years."""
    if moment.tzinfo is None:
        return None
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def plausible_event(moment: datetime, now: datetime) -> str | None:
    """Why an encounter's or a case's time is not plausible, or None."""
    utc = as_utc(moment)
    if utc is None:
        return "needs a time zone and a year between 2000 and now"
    if utc < EARLIEST_EVENT:
        return "is before 2000"
    if utc > now:
        return "is in the future"
    return None


def plausible_expiry(moment: datetime, now: datetime) -> str | None:
    """Why a consent's expiry is not plausible, or None."""
    utc = as_utc(moment)
    if utc is None:
        return "needs a time zone and a year within the next ten"
    if utc <= now:
        return "is already past"
    if utc > now + LONGEST_CONSENT:
        return "is more than ten years ahead"
    return None
