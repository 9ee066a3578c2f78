"""Recording, revoking and reading a person's consent to share with partners."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import RecordType
from databank.domain.enums import Action, Purpose
from databank.domain.errors import Conflict, NotFound
from databank.models import Consent, Subject
from databank.services import access
from databank.services.actors import Actor
from databank.services.inputs import ConsentIn
from databank.services.records import subjects


@dataclass(frozen=True)
class ConsentView:
    id: uuid.UUID
    person_id: uuid.UUID
    org_id: uuid.UUID
    purposes: tuple[Purpose, ...]
    recipient_org_ids: tuple[uuid.UUID, ...]
    recipient_org_kinds: tuple[str, ...]
    given_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def is_active(self, at: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)


def _known_person(
    session: Session, actor: Actor, action: Action, purpose: Purpose, person_id: uuid.UUID
) -> Subject:
    """The org's main record of a person it registered; another org's is not found, the attempt
    logged; an erased one is answered as erased."""
    subject = subjects.own_subject(
        session, actor, action, purpose, person_id, RecordType.CONSENT_LIST
    )
    subjects.require_active(subject)
    return subject


def record_consent(
    session: Session, actor: Actor, purpose: Purpose, person_id: uuid.UUID, consent: ConsentIn
) -> uuid.UUID:
    subject = _known_person(session, actor, Action.CREATE, purpose, person_id)
    consent_id = uuid.uuid4()
    access.authorize(
        session,
        actor,
        Action.CREATE,
        purpose,
        access.Resource(RecordType.CONSENT, consent_id, actor.org_id, subject.person_id),
        fields=("consents",),
    )
    session.add(
        Consent(
            id=consent_id,
            subject_id=subject.id,
            org_id=actor.org_id,
            recorded_by_id=actor.user_id,
            recipient_org_ids=[str(o) for o in consent.recipient_org_ids],
            recipient_org_kinds=list(consent.recipient_org_kinds),
            purposes=[p.value for p in consent.purposes],
            given_at=consent.given_at or datetime.now(UTC),
            expires_at=consent.expires_at,
            revoked_at=None,
        )
    )
    return consent_id


def revoke_consent(session: Session, actor: Actor, purpose: Purpose, consent_id: uuid.UUID) -> None:
    consent = session.get(Consent, consent_id)
    if consent is None:
        raise NotFound("no such consent")
    access.authorize(
        session,
        actor,
        Action.UPDATE,
        purpose,
        access.Resource(RecordType.CONSENT, consent.id, consent.org_id, consent.person_id),
        fields=("consents",),
    )
    if consent.revoked_at is not None:
        raise Conflict("the consent is already revoked")
    consent.revoked_at = datetime.now(UTC)


def consents_for(
    session: Session, actor: Actor, purpose: Purpose, person_id: uuid.UUID
) -> list[ConsentView]:
    subject = _known_person(session, actor, Action.READ, purpose, person_id)
    # Every record the org holds of the person (two subjects pooled by linkage show together).
    held = [s.id for s in subjects.own_subjects(session, actor.org_id, subject.person_id)]
    found = (
        session.execute(
            select(Consent)
            .where(Consent.subject_id.in_(held), Consent.org_id == actor.org_id)
            .order_by(Consent.given_at)
        )
        .scalars()
        .all()
    )
    access.authorize(
        session,
        actor,
        Action.READ,
        purpose,
        access.Resource(RecordType.CONSENT_LIST, None, actor.org_id, subject.person_id),
        fields=("consents",),
        result_count=len(found),
    )
    return [
        ConsentView(
            c.id,
            c.person_id,
            c.org_id,
            tuple(Purpose(p) for p in c.purposes),
            tuple(uuid.UUID(o) for o in c.recipient_org_ids),
            tuple(c.recipient_org_kinds),
            c.given_at,
            c.expires_at,
            c.revoked_at,
        )
        for c in found
    ]
