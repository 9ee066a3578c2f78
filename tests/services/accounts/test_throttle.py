"""The sign-in throttle's counts in the database: per address, within the window, pruned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from databank.models import SignInFailure
from databank.services.accounts.throttle import SignInThrottle
from databank.services.keys.keyring import keyring_of


def _rows(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SignInFailure)) or 0


def test_an_address_is_blocked_at_the_limit_and_others_are_not(session: Session) -> None:
    throttle = SignInThrottle(limit=3)
    for _ in range(2):
        throttle.failed(session, "192.0.2.1")
    assert not throttle.blocked(session, "192.0.2.1")  # just under the limit
    throttle.failed(session, "192.0.2.1")
    assert throttle.blocked(session, "192.0.2.1")
    assert not throttle.blocked(session, "192.0.2.2")


def test_failures_older_than_the_window_neither_count_nor_stay(session: Session) -> None:
    throttle = SignInThrottle(limit=2, window=timedelta(minutes=15))
    tag = keyring_of(session).address_tags.tag("192.0.2.9")
    old = datetime.now(UTC) - timedelta(minutes=16)
    session.execute(insert(SignInFailure).values([{"address_tag": tag, "at": old}] * 5))
    assert not throttle.blocked(session, "192.0.2.9")
    throttle.failed(session, "192.0.2.9")
    assert _rows(session) == 1  # the old rows went as the new one came
    assert not throttle.blocked(session, "192.0.2.9")
    throttle.failed(session, "192.0.2.9")
    assert throttle.blocked(session, "192.0.2.9")


def test_tags_are_keyed_stable_and_distinct(session: Session) -> None:
    tags = keyring_of(session).address_tags
    assert tags.tag("192.0.2.1") == tags.tag("192.0.2.1")
    assert tags.tag("192.0.2.1") != tags.tag("192.0.2.2")
    assert len(tags.tag("2001:db8::1")) == 16
    assert "192" not in repr(tags)
