"""Erasure by crypto-shredding: a person's keys, blind indexes and linkage values are destroyed.

Threat 6: after erasure the person's data is unreadable everywhere, including in backups once the
backup's key epoch has passed, and the tombstone makes every restore erase them again.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Action, PersonStatus, Purpose
from databank.domain.errors import Conflict, NotFound, ValidationFailed
from databank.models import ErasureTombstone, Identity, Person, SubjectKey
from databank.services import access, auditlog
from databank.services.actors import Actor
from databank.services.keys.keyring import keyring_of
from databank.services.linkage.zone import linkage_of

ERASURE_REASONS = ("subject_request", "retention_expired", "duplicate_record", "court_order")


def _shred(session: Session, person_id: uuid.UUID) -> int:
    """Delete every key and search value of the person. Returns how many keys were destroyed."""
    wrapped = (
        session.execute(select(SubjectKey.wrapped_key).where(SubjectKey.person_id == person_id))
        .scalars()
        .all()
    )
    session.execute(delete(SubjectKey).where(SubjectKey.person_id == person_id))
    linkage_of(session).forget(session, person_id)
    session.execute(
        update(Identity).where(Identity.person_id == person_id).values(name_dob_bidx=None)
    )
    keyring_of(session).forget_subject_keys(wrapped)
    return len(wrapped)


def erase_person(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    person_id: uuid.UUID,
    reason: str = "subject_request",
) -> int:
    """Erase a person the actor's org knows, in every org. Returns the number of keys destroyed."""
    if reason not in ERASURE_REASONS:
        raise ValidationFailed(
            "unknown erasure reason", {"reason": [f"must be one of: {', '.join(ERASURE_REASONS)}"]}
        )
    person = session.get(Person, person_id, with_for_update=True)
    known_here = session.execute(
        select(Identity.id).where(Identity.person_id == person_id, Identity.org_id == actor.org_id)
    ).scalar_one_or_none()
    if known_here is None:  # another org's person: not found, and the attempt logged
        access.refuse_unheld_person(
            session, actor, Action.ERASE, purpose, person_id, RecordType.PERSON
        )
    if person is None:
        raise NotFound(access.NO_SUCH_PERSON)
    access.authorize(
        session,
        actor,
        Action.ERASE,
        purpose,
        access.Resource(RecordType.PERSON, person_id, actor.org_id, person_id),
    )
    if person.status is PersonStatus.ERASED:
        raise Conflict("this person was already erased")
    destroyed = _shred(session, person_id)
    now = datetime.now(UTC)
    person.status = PersonStatus.ERASED
    person.erased_at = now
    session.add(
        ErasureTombstone(
            person_id=person_id,
            requested_by_org_id=actor.org_id,
            requested_by_id=actor.user_id,
            reason=reason,
            erased_at=now,
        )
    )
    auditlog.append(
        session,
        actor,
        [
            auditlog.EntryIn(
                AuditEvent.ERASURE,
                RecordType.PERSON,
                person_id,
                actor.org_id,
                person_id,
                purpose.value,
                result_count=destroyed,
                extra={"reason": reason},
            )
        ],
    )
    return destroyed


def replay_erasures(session: Session) -> int:
    """Re-apply every tombstone (after restoring a backup). Returns how many were re-shredded."""
    replayed = 0
    for tombstone in session.execute(select(ErasureTombstone)).scalars():
        still_has_keys = session.execute(
            select(SubjectKey.id).where(SubjectKey.person_id == tombstone.person_id).limit(1)
        ).first()
        person = session.get(Person, tombstone.person_id)
        if still_has_keys is None and (person is None or person.status is PersonStatus.ERASED):
            continue
        _shred(session, tombstone.person_id)
        if person is not None:
            person.status = PersonStatus.ERASED
            person.erased_at = person.erased_at or tombstone.erased_at
        replayed += 1
    if replayed:
        auditlog.append(
            session, None, [auditlog.EntryIn(AuditEvent.ERASURE_REPLAY, result_count=replayed)]
        )
    return replayed
