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
from typing import NamedTuple

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from databank.domain.enums import SubjectStatus
from databank.linkage import LinkageEncoder
from databank.models import Subject
from databank.models.linkage import LinkageRecord
from databank.services.context import carried
from databank.services.inputs import IdentityIn

# The zone's table, for callers that insert a batch's rows in foreign-key order.
LINKAGE_TABLE: Table = LinkageRecord.__table__  # type: ignore[assignment]


class Holding(NamedTuple):
    """A subject that carries a token: its pooled person, org, id and binding."""

    person_id: uuid.UUID
    org_id: uuid.UUID
    subject_id: uuid.UUID
    binding: uuid.UUID


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
        subject_id: uuid.UUID,
        org_id: uuid.UUID,
        at: datetime,
    ) -> dict[str, object]:
        """The zone's row for a new subject (a batch inserts it with the subject's rows)."""
        return {
            "id": uuid.uuid4(),
            "subject_id": subject_id,
            "org_id": org_id,
            "exact_token": token,
            "created_at": at,
        }

    def forget(self, session: Session, subject_ids: Sequence[uuid.UUID]) -> None:
        """Erasure: the subjects' encodings leave the zone."""
        ids = list(subject_ids)
        for start in range(0, len(ids), 500):
            session.execute(
                delete(LinkageRecord).where(LinkageRecord.subject_id.in_(ids[start : start + 500]))
            )

    def known(self, session: Session, tokens: Sequence[bytes]) -> dict[bytes, list[Holding]]:
        """For each token already seen, the active subjects that carry it, oldest first."""
        found: dict[bytes, list[Holding]] = defaultdict(list)
        unique = list(set(tokens))
        for start in range(0, len(unique), 500):
            rows = session.execute(
                select(
                    LinkageRecord.exact_token,
                    Subject.person_id,
                    Subject.org_id,
                    Subject.id,
                    Subject.binding,
                )
                .join(Subject, Subject.id == LinkageRecord.subject_id)
                .where(
                    LinkageRecord.exact_token.in_(unique[start : start + 500]),
                    Subject.status == SubjectStatus.ACTIVE,
                    Subject.person_id.is_not(None),
                )
                .order_by(LinkageRecord.created_at)
            )
            for token, person_id, org_id, subject_id, binding in rows:
                found[token].append(Holding(person_id, org_id, subject_id, binding))
        return found


def linkage_of(session: Session) -> LinkageZone:
    """The process's linkage zone, carried by the session."""
    return carried(session, "linkage", LinkageZone)
