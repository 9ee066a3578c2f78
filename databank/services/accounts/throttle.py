"""Failed sign-ins per client address, counted in the database so every process of the app
shares one count (a deployment's gunicorn workers each had their own before).

Failed passwords, second-factor codes and invitation codes all count. Addresses are never
written: a row holds the address's keyed tag (`Keyring.address_tags`) and the time, and rows
older than the window are deleted as new ones come. The per-account lockout (services/orgs.py)
is separate and also in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from databank.models import SignInFailure
from databank.services.keys.keyring import keyring_of


@dataclass(frozen=True)
class SignInThrottle:
    """At most `limit` failures per address within `window`; then the address waits."""

    limit: int = 20
    window: timedelta = timedelta(minutes=15)

    def blocked(self, session: Session, address: str) -> bool:
        tag = keyring_of(session).address_tags.tag(address)
        recent = session.scalar(
            select(func.count())
            .select_from(SignInFailure)
            .where(
                SignInFailure.address_tag == tag,
                SignInFailure.at > datetime.now(UTC) - self.window,
            )
        )
        return (recent or 0) >= self.limit

    def failed(self, session: Session, address: str) -> None:
        """Count one failure, in the caller's transaction (which the caller commits even though
        its answer is an error)."""
        now = datetime.now(UTC)
        tag = keyring_of(session).address_tags.tag(address)
        session.execute(delete(SignInFailure).where(SignInFailure.at <= now - self.window))
        session.execute(insert(SignInFailure).values(address_tag=tag, at=now))
