"""Attempts on records the actor's organisation does not hold: answered as not found, and logged.

Threat: an over-curious partner probing ids. A 403 would tell them that another organisation
holds the person or case (design section 5: a person's records are not the partner's to know
of), so the answer is exactly the one a record that does not exist gets; but the attempt is
logged like any refusal, naming the record and its owner, so the owner's auditors see it and the
denial-burst alert counts it. A record that does not exist has no owner to tell: nothing to log.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import Action, Decision, Purpose
from databank.domain.errors import DatabankError, NotFound
from databank.models import Subject
from databank.services import auditlog
from databank.services.access.enforcement import AccessRefused, Resource
from databank.services.actors import Actor

# The refusal's rule in the log (a gate of the access point, not a Cedar rule).
NOT_HELD = "platform.record_not_held"
NO_SUCH_PERSON = "no such person in your organisation's records"
NO_SUCH_CASE = "no such case in your organisation's records"


class RefusedAsNotFound(NotFound, AccessRefused):
    """A refusal answered as "not found" (404, the message a missing record gets); its entries
    are written after the rollback like any refusal's (Runtime.transaction, the web layer)."""

    def __init__(self, message: str, entries: list[auditlog.EntryIn], actor: Actor) -> None:
        DatabankError.__init__(self, message)
        self.entries = entries
        self.actor = actor


def refuse_unheld(
    actor: Actor, action: Action, purpose: Purpose, resources: Sequence[Resource], message: str
) -> NoReturn:
    """Refuse an attempt on records of other organisations as if they did not exist; one entry
    per record, each naming its owner (pseudonymous ids only)."""
    entries = [
        auditlog.EntryIn(
            event=AuditEvent.access(action),
            record_type=r.record_type,
            record_id=r.record_id,
            owner_org_id=r.owner_org_id,
            person_id=r.person_id,
            purpose=purpose.value,
            decision=Decision.DENY,
            rule=NOT_HELD,
        )
        for r in resources
    ]
    raise RefusedAsNotFound(message, entries, actor)


def refuse_unheld_person(
    session: Session,
    actor: Actor,
    action: Action,
    purpose: Purpose,
    person_id: uuid.UUID,
    record_type: RecordType,
) -> NoReturn:
    """A person the actor's organisation has not registered: not found, whether or not another
    organisation holds them; if some do, the attempt is logged once per holding organisation."""
    holders = session.scalars(
        select(Subject.org_id)
        .where(Subject.person_id == person_id, Subject.org_id != actor.org_id)
        .distinct()
        .order_by(Subject.org_id)
    ).all()
    if not holders:
        raise NotFound(NO_SUCH_PERSON)
    resources = [Resource(record_type, None, org, person_id) for org in holders]
    refuse_unheld(actor, action, purpose, resources, NO_SUCH_PERSON)
