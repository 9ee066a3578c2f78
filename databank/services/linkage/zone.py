"""The narrow interface to the linkage zone: encode identifiers, find the same person elsewhere.

The zone holds the only copy of the linkage secret in the process. Today it matches exact keyed
tokens; the linkage issue puts probabilistic matching behind this same interface (and may move the
zone to its own process, as ONS is a trusted third party for H-CLIC).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from databank.linkage import LinkageEncoder
from databank.models.linkage import LinkageRecord
from databank.services.context import carried
from databank.services.inputs import IdentityIn

# The zone's table, for callers that insert a batch's rows in foreign-key order.
LINKAGE_TABLE: Table = LinkageRecord.__table__  # type: ignore[assignment]


class LinkageZone:
    def __init__(self, secret: bytes) -> None:
        self._encoder = LinkageEncoder(secret)

    def __repr__(self) -> str:
        return "LinkageZone(<secret hidden>)"

    def token(self, identity: IdentityIn) -> bytes:
        encoding = self._encoder.encode(
            identity.given_name, identity.family_name, identity.birth_date
        )
        return encoding.exact_token

    def enrolment(
        self,
        token: bytes,
        identity_id: uuid.UUID,
        person_id: uuid.UUID,
        org_id: uuid.UUID,
        at: datetime,
    ) -> dict[str, object]:
        """The zone's row for a new identity (a batch inserts it with the identity's rows)."""
        return {
            "id": uuid.uuid4(),
            "identity_id": identity_id,
            "person_id": person_id,
            "org_id": org_id,
            "exact_token": token,
            "created_at": at,
        }

    def forget(self, session: Session, person_id: uuid.UUID) -> None:
        """Erasure: the person's encodings leave the zone."""
        session.execute(delete(LinkageRecord).where(LinkageRecord.person_id == person_id))

    def known(
        self, session: Session, tokens: Sequence[bytes]
    ) -> dict[bytes, list[tuple[uuid.UUID, uuid.UUID]]]:
        """For each token already seen, the (person, org) pairs that carry it, oldest first."""
        found: dict[bytes, list[tuple[uuid.UUID, uuid.UUID]]] = defaultdict(list)
        unique = list(set(tokens))
        for start in range(0, len(unique), 500):
            rows = session.execute(
                select(LinkageRecord.exact_token, LinkageRecord.person_id, LinkageRecord.org_id)
                .where(LinkageRecord.exact_token.in_(unique[start : start + 500]))
                .order_by(LinkageRecord.created_at)
            )
            for token, person_id, org_id in rows:
                found[token].append((person_id, org_id))
        return found


def linkage_of(session: Session) -> LinkageZone:
    """The process's linkage zone, carried by the session."""
    return carried(session, "linkage", LinkageZone)
