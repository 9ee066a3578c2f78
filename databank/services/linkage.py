"""The narrow interface to the linkage zone: encode identifiers, find the same person elsewhere.

The zone holds the only copy of the linkage secret in the process. Today it matches exact keyed
tokens; the linkage issue puts probabilistic matching behind this same interface (and may move the
zone to its own process, as ONS is a trusted third party for H-CLIC).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.linkage import LinkageEncoder
from databank.models import LinkageRecord
from databank.services.inputs import IdentityIn


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
