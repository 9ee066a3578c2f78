"""An organisation's subjects of a pooled person: the records a person-level request reaches.

The interfaces name a person by the org's handle of the pooled id; an org may hold two subjects
of one person (duplicate registrations pooled by linkage). A request on the person's own-org
records (identity, a new case, a consent) goes to the org's oldest active subject of the person;
the org's cases of all its subjects are listed together. An old pseudonym that linkage merged
into another is followed to the person it became.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import RecordType
from databank.domain.enums import Action, Purpose, SubjectStatus
from databank.domain.errors import Erased
from databank.models import Subject
from databank.services import access
from databank.services.actors import Actor
from databank.services.linkage import clusters


def own_subjects(session: Session, org_id: uuid.UUID, person_id: uuid.UUID) -> list[Subject]:
    """The org's subjects of the person (any status), active first, then oldest first."""
    person_id = clusters.current_person(session, person_id)
    found = session.scalars(
        select(Subject)
        .where(Subject.person_id == person_id, Subject.org_id == org_id)
        .order_by(Subject.created_at, Subject.id)
    ).all()
    return sorted(found, key=lambda s: s.status is not SubjectStatus.ACTIVE)


def own_subject(
    session: Session,
    actor: Actor,
    action: Action,
    purpose: Purpose,
    person_id: uuid.UUID,
    record_type: RecordType,
) -> Subject:
    """The actor's org's main record of the person (its oldest active subject, else its last
    erased one: the caller answers "erased" after deciding). A person the org does not hold is
    not found, and the attempt logged (access.refuse_unheld_person)."""
    found = own_subjects(session, actor.org_id, person_id)
    if not found:
        access.refuse_unheld_person(
            session,
            actor,
            action,
            purpose,
            clusters.current_person(session, person_id),
            record_type,
        )
    return found[0]


def require_active(subject: Subject) -> None:
    if subject.status is not SubjectStatus.ACTIVE:
        raise Erased("this person's data was erased")


def pooled_persons(
    session: Session, subject_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """The pooled person of each active subject given (an erased one has left its cluster).

    Ids only, for measuring the pool against a known truth (the demo's linkage figures); the
    pooled id stays on the server, as everywhere."""
    ids = list(subject_ids)
    found: dict[uuid.UUID, uuid.UUID] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Subject.id, Subject.person_id).where(
                Subject.id.in_(ids[start : start + 500]), Subject.status == SubjectStatus.ACTIVE
            )
        )
        found.update((subject_id, person_id) for subject_id, person_id in rows)
    return found
