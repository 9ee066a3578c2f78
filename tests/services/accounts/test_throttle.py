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


def test_a_pair_waits_after_its_free_failures_and_others_do_not(session: Session) -> None:
    throttle = SignInThrottle(free=2)
    for _ in range(3):
        assert throttle.wait(session, "192.0.2.1", "ana") == timedelta(0)
        throttle.failed(session, "192.0.2.1", "ana")
    assert timedelta(0) < throttle.wait(session, "192.0.2.1", "ana") <= throttle.first_wait
    assert throttle.wait(session, "192.0.2.2", "ana") == timedelta(0)
    assert throttle.wait(session, "192.0.2.1", "bob") == timedelta(0)
    throttle.succeeded(session, "192.0.2.1", "ana")  # a right password forgets the failures
    assert throttle.wait(session, "192.0.2.1", "ana") == timedelta(0)


def test_failures_older_than_the_window_neither_count_nor_stay(session: Session) -> None:
    throttle = SignInThrottle(free=1, window=timedelta(hours=24))
    tags = keyring_of(session).address_tags
    address, account = tags.tag("192.0.2.9"), tags.account_tag("ana")
    old = datetime.now(UTC) - timedelta(hours=25)
    row = {"address_tag": address, "account_tag": account, "at": old}
    session.execute(insert(SignInFailure).values([row] * 5))
    assert throttle.wait(session, "192.0.2.9", "ana") == timedelta(0)
    throttle.failed(session, "192.0.2.9", "ana")
    assert _rows(session) == 1  # the old rows went as the new one came
    assert throttle.wait(session, "192.0.2.9", "ana") == timedelta(0)
    throttle.failed(session, "192.0.2.9", "ana")
    assert throttle.wait(session, "192.0.2.9", "ana") > timedelta(0)


def test_tags_are_keyed_stable_and_distinct(session: Session) -> None:
    tags = keyring_of(session).address_tags
    assert tags.tag("192.0.2.1") == tags.tag("192.0.2.1")
    assert tags.tag("192.0.2.1") != tags.tag("192.0.2.2")
    assert len(tags.tag("2001:db8::1")) == 16
    assert "192" not in repr(tags)
    # An account's tag ignores case, and is never an address's.
    assert tags.account_tag("Ana") == tags.account_tag("ana") != tags.tag("ana")
    assert len(tags.account_tag("ana")) == 16


class Clock:
    """A clock the test moves by hand (the throttle reads the time from it)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


def test_finding6_failures_of_one_account_from_one_address_get_growing_delays(
    session: Session,
) -> None:
    """After a few free failures, each further failure of one (account, address) doubles the
    wait before that pair may try again, up to a ceiling; the same account from another address,
    and another account from the same address, do not wait (finding 6)."""
    clock = Clock()
    throttle = SignInThrottle(clock=clock)
    attacker, owner = "198.51.100.99", "192.0.2.44"
    for _ in range(throttle.free):
        assert throttle.wait(session, attacker, "victim") == timedelta(0)
        throttle.failed(session, attacker, "victim")
    assert throttle.wait(session, attacker, "victim") == timedelta(0)
    waits = []
    for _ in range(14):
        throttle.failed(session, attacker, "victim")
        waits.append(throttle.wait(session, attacker, "victim"))
        clock.advance(waits[-1])
        assert throttle.wait(session, attacker, "victim") == timedelta(0)
    seconds = [int(w.total_seconds()) for w in waits]
    assert seconds == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900, 900]
    throttle.failed(session, attacker, "victim")
    clock.advance(timedelta(seconds=899))
    assert throttle.wait(session, attacker, "victim") == timedelta(seconds=1)
    assert throttle.wait(session, attacker, "VICTIM") == timedelta(seconds=1)  # one account
    assert throttle.wait(session, owner, "victim") == timedelta(0)
    assert throttle.wait(session, attacker, "someone-else") == timedelta(0)


def test_finding5_a_busy_address_slows_each_account_without_shutting_any_out(
    session: Session,
) -> None:
    """Past its limit of failures (every account together), an address gives no free failures:
    a username's first failure there already waits; a username that has not failed there never
    waits, however busy the address (finding 5)."""
    clock = Clock()
    throttle = SignInThrottle(clock=clock)
    for n in range(throttle.address_limit):
        throttle.failed(session, "192.0.2.1", f"nobody-{n}")
    assert throttle.wait(session, "192.0.2.1", "worker") == timedelta(0)
    throttle.failed(session, "192.0.2.1", "worker")
    assert throttle.wait(session, "192.0.2.1", "worker") == timedelta(seconds=1)
    assert throttle.wait(session, "192.0.2.2", "worker") == timedelta(0)
    assert throttle.wait(session, "192.0.2.1", "officer") == timedelta(0)
