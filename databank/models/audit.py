"""Access log entries: one per access decision, stored as the canonical JSON bytes of the body.

The indexed columns are copies of body fields for filtering; the body is what gets hashed (the
Merkle log of the audit issue builds on these rows).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Identity, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from databank.db import Base


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_person_id_at", "person_id", "at"),
        Index("ix_audit_entries_actor_org_id_at", "actor_org_id", "at"),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), Identity(), primary_key=True
    )
    at: Mapped[datetime]
    event: Mapped[str] = mapped_column(String(32))
    actor_user_id: Mapped[uuid.UUID | None]
    actor_org_id: Mapped[uuid.UUID | None]
    owner_org_id: Mapped[uuid.UUID | None]
    person_id: Mapped[uuid.UUID | None]
    purpose: Mapped[str | None] = mapped_column(String(32))
    decision: Mapped[str | None] = mapped_column(String(8))
    body: Mapped[bytes] = mapped_column(LargeBinary())

    def __repr__(self) -> str:
        return f"<AuditEntry {self.seq} {self.event} {self.decision}>"
