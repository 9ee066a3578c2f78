"""Alert review: auditors list the alerts they may see, review them with a sealed note."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from databank.crypto import key_id_of
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.domain.enums import AlertStatus, Decision, Purpose
from databank.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from databank.models import AuditAlert, User
from databank.services import access, auditlog
from databank.services.access import roles
from databank.services.actors import Actor
from databank.services.keys.keyring import keyring_of
from databank.services.keys.sealing import open_sealed, seal

_NOTE = ("audit_alerts", "review_note_ciphertext")


def _scoped(actor: Actor) -> Select[AuditAlert]:
    """Platform auditors see every alert; an org's auditors those about their org."""
    query = select(AuditAlert)
    org = roles.audit_scope(actor)
    if org is None:
        return query
    return query.where(or_(AuditAlert.actor_org_id == org, AuditAlert.owner_org_id == org))


def _visible(session: Session, actor: Actor, alert_id: uuid.UUID) -> AuditAlert:
    alert = session.scalars(_scoped(actor).where(AuditAlert.id == alert_id)).one_or_none()
    if alert is None:
        # Also for another org's alert: its existence is not the auditor's to know.
        raise NotFound("no such alert")
    return alert


def _entry(event: AuditEvent, alert: AuditAlert, **fields: Any) -> auditlog.EntryIn:
    return auditlog.EntryIn(
        event,
        RecordType.ALERT,
        alert.id,
        alert.owner_org_id or alert.actor_org_id,
        purpose=Purpose.AUDIT.value,
        **fields,
    )


def list_alerts(
    session: Session, actor: Actor, status: AlertStatus | None = None, limit: int = 100
) -> list[AuditAlert]:
    """The newest alerts the auditor may see, optionally of one status; the view is logged."""
    access.require_any_role(actor, roles.AUDITORS, AuditEvent.AUDIT_VIEW)
    query = _scoped(actor)
    if status is not None:
        query = query.where(AuditAlert.status == status)
    query = query.order_by(AuditAlert.created_at.desc(), AuditAlert.id)
    found = list(session.scalars(query.limit(max(1, min(limit, 1000)))))
    entry = auditlog.EntryIn(
        AuditEvent.AUDIT_VIEW,
        RecordType.ALERT,
        owner_org_id=roles.audit_scope(actor),
        purpose=Purpose.AUDIT.value,
        decision=Decision.ALLOW,
        result_count=len(found),
        extra={"status": status.value} if status is not None else {},
    )
    auditlog.append(session, actor, [entry])
    return found


def review(
    session: Session, actor: Actor, alert_id: uuid.UUID, status: AlertStatus, note: str
) -> AuditAlert:
    """An auditor marks an alert justified, escalated or closed, with a sealed note."""
    access.require_any_role(actor, roles.AUDITORS, AuditEvent.ALERT_REVIEW)
    alert = _visible(session, actor, alert_id)
    if actor.user_id is None:
        raise PermissionDenied("an alert is reviewed by a named auditor: sign in to review it")
    if alert.status in (AlertStatus.JUSTIFIED, AlertStatus.CLOSED):
        raise Conflict("this alert was already reviewed and closed")
    if status is AlertStatus.OPEN:
        raise ValidationFailed(
            "an alert cannot be reopened by a review",
            {"status": ["must be one of: justified, escalated, closed"]},
        )
    text = note.strip()
    if not text:
        raise ValidationFailed("a review needs a note", {"note": ["say what was checked"]})
    # The note is free text and may name people: sealed under the reviewer org's key, padded so
    # its length does not show (threat 1: a stolen database).
    key = keyring_of(session).active_org_key(session, actor.org_id)
    alert.review_note_ciphertext = seal(key, *_NOTE, text, actor.org_id, alert.id)
    alert.status = status
    alert.reviewer_id = actor.user_id
    alert.reviewed_at = datetime.now(UTC)
    entry = _entry(
        AuditEvent.ALERT_REVIEW, alert, decision=Decision.ALLOW, extra={"status": status.value}
    )
    auditlog.append(session, actor, [entry])
    return alert


def read_review_note(session: Session, actor: Actor, alert_id: uuid.UUID) -> str | None:
    """The review note of an alert, for auditors of the reviewer's org; the read is logged."""
    access.require_any_role(actor, roles.AUDITORS, AuditEvent.ALERT_NOTE_READ)
    alert = _visible(session, actor, alert_id)
    blob, reviewer = alert.review_note_ciphertext, alert.reviewer_id
    org = (
        None if reviewer is None else session.scalar(select(User.org_id).where(User.id == reviewer))
    )
    if blob is not None and org != actor.org_id:
        denied = _entry(
            AuditEvent.ALERT_NOTE_READ, alert, decision=Decision.DENY, rule="platform.reviewer_org"
        )
        raise access.AccessRefused([denied], actor)
    count = 0 if blob is None else 1
    entry = _entry(AuditEvent.ALERT_NOTE_READ, alert, decision=Decision.ALLOW, result_count=count)
    auditlog.append(session, actor, [entry])
    if blob is None or org is None:
        return None
    key = keyring_of(session).org_key(session, org, key_id_of(blob))
    return open_sealed(key, *_NOTE, blob, org, alert.id)
