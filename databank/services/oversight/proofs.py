"""Proving an org's entries to an outside auditor: a bundle with inclusion proofs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from databank.audit.bundle import make_bundle
from databank.audit.checkpoint import public_key_line
from databank.audit.merkle import inclusion_proofs, leaf_hash
from databank.domain.audit_vocab import AuditEvent, RecordType
from databank.models import AuditCheckpoint, AuditEntry
from databank.services import auditlog
from databank.services.actors import Actor
from databank.services.auditlog.signer import signer_of


def prove(
    session: Session, actor: Actor | None, org_id: uuid.UUID, since: datetime | None = None
) -> tuple[bytes, int]:
    """A bundle of the org's entries (about its cases or by its users) with inclusion proofs
    against the latest checkpoint, for checking with scripts/verify_audit_bundle.py. Logged."""
    signer = signer_of(session)
    latest = session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.size.desc()).limit(1)
    ).scalar_one_or_none()
    if latest is None or latest.size == 0:
        return make_bundle(
            signer.origin,
            latest.signed_note if latest else "",
            public_key_line(signer.key_name, signer.public_key),
            [],
        ), 0
    leaves = [
        leaf_hash(body)
        for (body,) in session.execute(
            select(AuditEntry.body).where(AuditEntry.seq < latest.size).order_by(AuditEntry.seq)
        )
    ]
    query = select(AuditEntry.seq, AuditEntry.body).where(
        AuditEntry.seq < latest.size,
        or_(AuditEntry.owner_org_id == org_id, AuditEntry.actor_org_id == org_id),
    )
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    chosen = session.execute(query.order_by(AuditEntry.seq)).all()
    proofs = inclusion_proofs(leaves, latest.size, [seq for seq, _ in chosen])
    bundle = make_bundle(
        signer.origin,
        latest.signed_note,
        public_key_line(signer.key_name, signer.public_key),
        [(seq, body, proofs[seq]) for seq, body in chosen],
    )
    # Every export of the log is itself in the log.
    auditlog.append(
        session,
        actor,
        [
            auditlog.EntryIn(
                AuditEvent.AUDIT_PROVE,
                RecordType.ORGANISATION,
                org_id,
                org_id,
                result_count=len(chosen),
                extra={"checkpoint_size": latest.size},
            )
        ],
    )
    return bundle, len(chosen)
