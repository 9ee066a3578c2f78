"""The narrow interface to the linkage zone: encode identifiers, find the same person elsewhere.

The zone holds the only copy of the linkage secret in the process. A registration is pooled at
once by the exact keyed token (the same normalised names and birth date), and its keyed per-field
encodings are stored for probabilistic linkage (services/linkage/runs.py: Splink over the
encodings), which links it against the pool right after and in batch runs. The zone could move to
its own process, as ONS is a trusted third party for H-CLIC: callers see only this interface.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.orm import Session

from databank.domain.enums import SubjectStatus
from databank.linkage import LinkageEncoder
from databank.linkage.encoding import ENCODING_SCHEMA_VERSION, RecordEncoder
from databank.linkage.normalise import normalise
from databank.models import Subject
from databank.models.linkage import LinkageApart, LinkageRecord, LinkageReview
from databank.services.context import carried
from databank.services.inputs import IdentityIn
from databank.services.linkage import store

# session.info key: subjects enrolled in this transaction, to link once it commits.
TO_LINK = "linkage_to_link"
# session.info key: corrected subjects, which leave their cluster before they are linked again.
TO_RELINK = "linkage_to_relink"

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
        self._records = RecordEncoder(secret)
        # The matcher's pool, kept between link jobs by services/linkage/runs.PoolCache.
        self.pool_cache: Any = None

    def __repr__(self) -> str:
        return "LinkageZone(<secret hidden>)"

    def token(self, identity: IdentityIn) -> bytes:
        encoding = self._encoder.encode(
            identity.given_name, identity.family_name, identity.birth_date
        )
        return encoding.exact_token

    def encodings(
        self, identities: Sequence[IdentityIn], areas: Sequence[str | None]
    ) -> list[bytes]:
        """The keyed per-field encodings of each identity (and the district it was met in), as
        stored: what probabilistic linkage compares. The identifiers stop here."""
        normalised = [
            normalise(
                i.given_name,
                i.family_name,
                i.birth_date,
                None if i.sex is None else i.sex.value,
                i.birth_place,
                area,
            )
            for i, area in zip(identities, areas, strict=True)
        ]
        return [store.serialise(row) for row in self._records.encode_rows(normalised)]

    def enrolment(
        self,
        token: bytes,
        subject_id: uuid.UUID,
        org_id: uuid.UUID,
        at: datetime,
        encoding: bytes | None = None,
    ) -> dict[str, object]:
        """The zone's row for a new subject (a batch inserts it with the subject's rows)."""
        return {
            "id": uuid.uuid4(),
            "subject_id": subject_id,
            "org_id": org_id,
            "exact_token": token,
            "encoding": encoding,
            "schema_version": None if encoding is None else ENCODING_SCHEMA_VERSION,
            "linked_at": None,
            "created_at": at,
        }

    def reencode(
        self, session: Session, subject_id: uuid.UUID, identity: IdentityIn, area: str | None
    ) -> None:
        """A corrected identity (names, birth date): the subject's encodings and exact token are
        made again, and it is linked afresh once the correction commits (`runs.relink`)."""
        [encoding] = self.encodings([identity], [area])
        session.execute(
            update(LinkageRecord)
            .where(LinkageRecord.subject_id == subject_id)
            .values(
                exact_token=self.token(identity),
                encoding=encoding,
                schema_version=ENCODING_SCHEMA_VERSION,
                linked_at=None,
            )
        )
        session.info.setdefault(TO_RELINK, []).append(subject_id)
        self.link_after_commit(session, [subject_id])

    def link_after_commit(self, session: Session, subject_ids: Sequence[uuid.UUID]) -> None:
        """Ask for these new subjects to be linked against the pool once the transaction that
        enrols them commits (in the background: the registration does not wait). Whoever runs
        the jobs (databank/jobs.py) takes them from the session when it commits."""
        if subject_ids:
            session.info.setdefault(TO_LINK, []).extend(subject_ids)

    def forget(self, session: Session, subject_ids: Sequence[uuid.UUID]) -> None:
        """Erasure: the subjects' encodings leave the zone, with every review pair and kept-apart
        pair that names them (the decisions stay in the access log, as ids)."""
        ids = list(subject_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            session.execute(delete(LinkageRecord).where(LinkageRecord.subject_id.in_(chunk)))
            for table in (LinkageReview, LinkageApart):
                session.execute(
                    delete(table).where(
                        or_(table.subject_a_id.in_(chunk), table.subject_b_id.in_(chunk))
                    )
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
