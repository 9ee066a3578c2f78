"""Failed sign-ins per (account, client address), counted in the database so every process of
the app shares one count (a deployment's gunicorn workers each had their own before).

Failed passwords, second-factor codes and invitation codes all count, each against the account
the attempt named (the username as typed, whether or not it exists; invitation codes together
as one account) and the address it came from. Threats and answers:

- Guessing one account's password from one address: after a few free failures, each further
  failure of that (account, address) doubles the wait before the next attempt, up to a ceiling.
  A wait is asked of that pair only: the account's owner elsewhere, and other users behind the
  same address (an office, a proxy), are not held back, so no address can lock anyone out.
- Naming an account that does not exist is counted the same way as one that does, so a wait
  says nothing about which usernames exist.
- Trying many accounts from one address: past `address_limit` failures in `address_window`,
  the address's free failures are gone, so each account's first failure there already waits. A
  correct password of an account that has not failed there is never refused (slow down, never
  shut the door).

Addresses and accounts are never written: a row holds their keyed tags (`Keyring.address_tags`)
and the time, and rows older than the window are deleted as new ones come. The clock is
injectable, so tests see the waits without sleeping.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from databank.models import SignInFailure
from databank.services.keys.keyring import keyring_of

# The account invitation codes are counted against: no username can be typed with a NUL (a
# crafted form could send one; that address would then only share the invitation codes' waits).
INVITATIONS = "\0invitation codes"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SignInThrottle:
    """Growing waits per (account, address) after `free` failures; see the module's text."""

    free: int = 5
    first_wait: timedelta = timedelta(seconds=1)
    longest_wait: timedelta = timedelta(minutes=15)
    # A pair's failures are forgotten after this (or at its next success): longer than the
    # waits add up to, so that a patient guesser keeps the longest wait.
    window: timedelta = timedelta(hours=24)
    address_limit: int = 20
    address_window: timedelta = timedelta(minutes=15)
    clock: Callable[[], datetime] = _utcnow

    def delay(self, failures: int, free: int) -> timedelta:
        """The wait after a pair's `failures`-th failure, `free` of them without a wait."""
        beyond = failures - free
        if beyond <= 0:
            return timedelta(0)
        if beyond > 32:  # far past the ceiling; keeps the power small
            return self.longest_wait
        doubled: timedelta = self.first_wait * 2 ** (beyond - 1)
        return min(doubled, self.longest_wait)

    def wait(self, session: Session, address: str, account: str) -> timedelta:
        """How long this account must still wait before another attempt from this address;
        zero when it may try now."""
        now = self.clock()
        address_tag, account_tag = self._tags(session, address, account)
        failures, last = session.execute(
            select(func.count(), func.max(SignInFailure.at)).where(
                SignInFailure.address_tag == address_tag,
                SignInFailure.account_tag == account_tag,
                SignInFailure.at > now - self.window,
            )
        ).one()
        if not failures or last is None:
            return timedelta(0)
        busy = session.scalar(
            select(func.count()).where(
                SignInFailure.address_tag == address_tag,
                SignInFailure.at > now - self.address_window,
            )
        )
        free = 0 if (busy or 0) >= self.address_limit else self.free
        return max(last + self.delay(failures, free) - now, timedelta(0))

    def failed(self, session: Session, address: str, account: str) -> None:
        """Count one failure, in the caller's transaction (which the caller commits even though
        its answer is an error)."""
        now = self.clock()
        address_tag, account_tag = self._tags(session, address, account)
        session.execute(delete(SignInFailure).where(SignInFailure.at <= now - self.window))
        session.execute(
            insert(SignInFailure).values(address_tag=address_tag, account_tag=account_tag, at=now)
        )

    def succeeded(self, session: Session, address: str, account: str) -> None:
        """A right password (or code) from this address: the pair's failures are forgotten."""
        address_tag, account_tag = self._tags(session, address, account)
        session.execute(
            delete(SignInFailure).where(
                SignInFailure.address_tag == address_tag,
                SignInFailure.account_tag == account_tag,
            )
        )

    @staticmethod
    def _tags(session: Session, address: str, account: str) -> tuple[bytes, bytes]:
        tags = keyring_of(session).address_tags
        return tags.tag(address), tags.account_tag(account)


def whole_seconds(wait: timedelta) -> int:
    """A wait as the whole seconds to tell a client (Retry-After), rounded up."""
    return max(1, math.ceil(wait.total_seconds()))
