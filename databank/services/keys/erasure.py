"""Erasure by crypto-shredding, per subject: its keys, blind index and linkage values destroyed.

Threat 6: after erasure the data is unreadable everywhere, including in backups once the
backup's key epoch has passed, and the tombstone makes every restore erase it again. A subject
(an organisation's record of someone) is what is erased: it leaves its pooled person's cluster,
and a person left with no record is marked erased. `erase_person` (a person's request through
an org that knows them) erases every org's subjects of that person, as before subjects existed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Action, LinkReason, Purpose, SubjectStatus
from databank.domain.errors import Conflict, NotFound, ValidationFailed
from databank.models import ErasureTombstone, Identity, Subject, SubjectKey
from databank.services import access, auditlog
from databank.services.actors import Actor
from databank.services.keys.keyring import keyring_of
from databank.services.linkage import clusters
from databank.services.linkage.zone import linkage_of

ERASURE_REASONS = ("subject_request", "retention_expired", "duplicate_record", "court_order")


def shred(session: Session, subject_ids: Sequence[uuid.UUID]) -> int:
    """Delete every key, search value and linkage encoding of the subjects. Returns how many
    keys were destroyed."""
    ids = list(subject_ids)
    wrapped = list(
        session.scalars(select(SubjectKey.wrapped_key).where(SubjectKey.subject_id.in_(ids)))
    )
    session.execute(delete(SubjectKey).where(SubjectKey.subject_id.in_(ids)))
    linkage_of(session).forget(session, ids)
    session.execute(update(Identity).where(Identity.subject_id.in_(ids)).values(name_dob_bidx=None))
    keyring_of(session).forget_subject_keys(wrapped)
    return len(wrapped)


def retire_subjects(
    session: Session,
    actor: Actor | None,
    subject_ids: Sequence[uuid.UUID],
    status: SubjectStatus,
    reason: str,
    link_reason: LinkReason,
) -> int:
    """Shred subjects, mark them (erased or merged), take them out of their clusters and write
    one tombstone each. Returns how many keys were destroyed."""
    now = datetime.now(UTC)
    destroyed = shred(session, subject_ids)
    user_id = actor.user_id if actor is not None else None
    for subject_id in subject_ids:
        subject = session.get(Subject, subject_id)
        assert subject is not None  # noqa: S101 - the caller loaded it
        subject.status = status
        subject.erased_at = now
        session.add(
            ErasureTombstone(
                subject_id=subject_id,
                requested_by_org_id=actor.org_id if actor is not None else subject.org_id,
                requested_by_id=user_id,
                reason=reason,
                erased_at=now,
            )
        )
        clusters.leave(session, subject_id, link_reason, user_id)
    return destroyed


def erase_person(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    person_id: uuid.UUID,
    reason: str = "subject_request",
) -> int:
    """Erase a person the actor's org knows: every org's records (subjects) of them. Returns the
    number of keys destroyed."""
    _check_reason(reason)
    person_id = clusters.current_person(session, person_id)
    held = session.scalars(
        select(Subject)
        .where(Subject.person_id == person_id)
        .order_by(Subject.created_at, Subject.id)
        .with_for_update()
    ).all()
    if not any(s.org_id == actor.org_id for s in held):
        # Another org's person (or none): not found, and the attempt logged.
        access.refuse_unheld_person(
            session, actor, Action.ERASE, purpose, person_id, RecordType.PERSON
        )
    access.authorize(
        session,
        actor,
        Action.ERASE,
        purpose,
        access.Resource(RecordType.PERSON, person_id, actor.org_id, person_id),
    )
    live = [s.id for s in held if s.status is SubjectStatus.ACTIVE]
    if not live:
        raise Conflict("this person was already erased")
    destroyed = retire_subjects(
        session, actor, live, SubjectStatus.ERASED, reason, LinkReason.ERASED
    )
    _log(session, actor, purpose, RecordType.PERSON, person_id, person_id, destroyed, reason)
    return destroyed


def erase_subject(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    subject_id: uuid.UUID,
    reason: str = "subject_request",
) -> int:
    """Erase one of the actor's org's own records of someone (the other records of the pooled
    person stay). Returns the number of keys destroyed."""
    _check_reason(reason)
    subject = session.get(Subject, subject_id, with_for_update=True)
    if subject is None or subject.org_id != actor.org_id:
        raise NotFound(access.NO_SUCH_PERSON)
    access.authorize(
        session,
        actor,
        Action.ERASE,
        purpose,
        access.Resource(RecordType.SUBJECT, subject_id, actor.org_id, subject.person_id),
    )
    if subject.status is not SubjectStatus.ACTIVE:
        raise Conflict("this record was already erased")
    destroyed = retire_subjects(
        session, actor, [subject_id], SubjectStatus.ERASED, reason, LinkReason.ERASED
    )
    _log(
        session,
        actor,
        purpose,
        RecordType.SUBJECT,
        subject_id,
        subject.person_id,
        destroyed,
        reason,
    )
    return destroyed


def _check_reason(reason: str) -> None:
    if reason not in ERASURE_REASONS:
        raise ValidationFailed(
            "unknown erasure reason", {"reason": [f"must be one of: {', '.join(ERASURE_REASONS)}"]}
        )


def _log(
    session: Session,
    actor: Actor,
    purpose: Purpose,
    record_type: RecordType,
    record_id: uuid.UUID,
    person_id: uuid.UUID,
    destroyed: int,
    reason: str,
) -> None:
    auditlog.append(
        session,
        actor,
        [
            auditlog.EntryIn(
                AuditEvent.ERASURE,
                record_type,
                record_id,
                actor.org_id,
                person_id,
                purpose.value,
                result_count=destroyed,
                extra={"reason": reason},
            )
        ],
    )


def replay_erasures(session: Session) -> int:
    """Re-apply every tombstone (after restoring a backup). Returns how many were re-shredded."""
    replayed = 0
    for tombstone in session.execute(select(ErasureTombstone)).scalars():
        still_has_keys = session.execute(
            select(SubjectKey.id).where(SubjectKey.subject_id == tombstone.subject_id).limit(1)
        ).first()
        subject = session.get(Subject, tombstone.subject_id)
        if still_has_keys is None and (
            subject is None or subject.status is not SubjectStatus.ACTIVE
        ):
            continue
        shred(session, [tombstone.subject_id])
        if subject is not None and subject.status is SubjectStatus.ACTIVE:
            subject.status = SubjectStatus.ERASED
            subject.erased_at = tombstone.erased_at
            clusters.leave(session, subject.id, LinkReason.ERASED)
        replayed += 1
    if replayed:
        auditlog.append(
            session, None, [auditlog.EntryIn(AuditEvent.ERASURE_REPLAY, result_count=replayed)]
        )
    return replayed
