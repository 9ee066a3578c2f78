"""Break-glass: a time-boxed emergency read of one person's records, justified and logged.

The grant only opens the window; every read inside it is still a policy decision (role,
purpose `vital_interest`, justification), and an organisation's forbid still wins.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import PersonStatus, Purpose
from databank.domain.errors import Conflict, Erased, NotFound, ValidationFailed
from databank.models import BreakGlassGrant, Person
from databank.services import access, auditlog
from databank.services.actors import Actor
from databank.services.keys.keyring import keyring_of
from databank.services.keys.sealing import seal
from databank.services.records import cases

WINDOW = timedelta(minutes=30)
MIN_JUSTIFICATION = 20


@dataclass(frozen=True)
class GrantView:
    id: uuid.UUID
    person_id: uuid.UUID
    started_at: datetime
    expires_at: datetime


def start_for_case(
    session: Session, actor: Actor, case_id: uuid.UUID, justification: str
) -> GrantView:
    """`start` for the person of a case; the role is decided before the case is even looked up,
    so someone who may not break the glass learns nothing about which cases exist."""
    access.check_break_glass_responder(actor)
    return start(session, actor, cases.person_of_case(session, case_id), justification)


def start(session: Session, actor: Actor, person_id: uuid.UUID, justification: str) -> GrantView:
    """Open a 30-minute window for vital-interest reads of one person. Logged at once."""
    access.check_break_glass_responder(actor)
    text = justification.strip()
    if len(text) < MIN_JUSTIFICATION:
        raise ValidationFailed(
            "a break-glass needs a written justification",
            {
                "justification": [
                    f"write at least {MIN_JUSTIFICATION} characters: why, and what risk"
                ]
            },
        )
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("no such person")
    if person.status is PersonStatus.ERASED:
        raise Erased("this person's data was erased")
    now = datetime.now(UTC)
    grant_id = uuid.uuid4()
    # The justification is free text and may name people: sealed under the responder org's key.
    org_key = keyring_of(session).active_org_key(session, actor.org_id)
    grant = BreakGlassGrant(
        id=grant_id,
        user_id=actor.user_id,
        org_id=actor.org_id,
        person_id=person_id,
        justification_ciphertext=seal(
            org_key,
            "break_glass_grants",
            "justification_ciphertext",
            text,
            actor.org_id,
            grant_id,
            person_id,
        ),
        started_at=now,
        expires_at=now + WINDOW,
        ended_at=None,
    )
    session.add(grant)
    auditlog.append(
        session,
        actor,
        [
            auditlog.EntryIn(
                AuditEvent.BREAK_GLASS_START,
                RecordType.BREAK_GLASS,
                grant_id,
                actor.org_id,
                person_id,
                Purpose.VITAL_INTEREST.value,
                break_glass=True,
                extra={"expires_at": grant.expires_at.isoformat()},
            )
        ],
    )
    return GrantView(grant_id, person_id, now, grant.expires_at)


def end(session: Session, actor: Actor, grant_id: uuid.UUID) -> None:
    grant = session.execute(
        select(BreakGlassGrant).where(
            BreakGlassGrant.id == grant_id, BreakGlassGrant.user_id == actor.user_id
        )
    ).scalar_one_or_none()
    if grant is None:
        raise NotFound("no such break-glass window of yours")
    if grant.ended_at is not None:
        raise Conflict("this break-glass window is already closed")
    grant.ended_at = datetime.now(UTC)
    auditlog.append(
        session,
        actor,
        [
            auditlog.EntryIn(
                AuditEvent.BREAK_GLASS_END,
                RecordType.BREAK_GLASS,
                grant.id,
                actor.org_id,
                grant.person_id,
                Purpose.VITAL_INTEREST.value,
                break_glass=True,
            )
        ],
    )
